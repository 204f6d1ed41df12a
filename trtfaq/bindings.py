"""The real TensorRT Python bindings, read as a file without importing them (chapter 3 onwards).

NVIDIA publishes the bindings alone as small wheels on PyPI (``tensorrt-bindings`` for 8.6,
``tensorrt-cu12-bindings`` for 10.x, ``tensorrt-cu13-bindings`` for 11.x; about 1 MB each). Their
``tensorrt.so`` cannot be imported without TensorRT's libraries and a GPU driver, but it can be read:
pybind11 registers every class, method, property and enum member under a C string literal, and every
docstring is one too, so the null-terminated strings of the file hold the API's names and its
documentation. :class:`Binary` answers two questions from them:

- :meth:`Binary.registers`: is ``name`` one of the file's strings (a registered name)? A test
  (``tests/test_bindings.py``) checks the answers against stubs generated from the same wheels by
  importing them (``tests/trt_api``), for the names the book asks about.
- :meth:`Binary.docstring`: the docstring that starts with a given text, e.g. the ``MemoryPoolType``
  member documentation ``"WORKSPACE is used by TensorRT ..."``.
"""
from __future__ import annotations

import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .cache import folder, write_atomic
from .errors import BookError, InputError
from .tables import table

#: the releases the book compares, and the PyPI requirement of each one's bindings wheel
RELEASES = {
    "8.6": "tensorrt-bindings==8.6.1",
    "10.16": "tensorrt-cu12-bindings==10.16.1.11",
    "11.4": "tensorrt-cu13-bindings==11.4.0.106",
}


def cache_dir() -> Path:
    """Where the wheels and their ``tensorrt.so`` are kept (``bindings/`` in the book's cache)."""
    return folder("bindings")


def fetch(requirement: str, folder: Path | None = None) -> Path:
    """Download a bindings wheel from PyPI once (e.g. ``"tensorrt-cu13-bindings==11.4.0.106"``) and
    return its ``tensorrt.so``. Wheels for CPython 3.11 on Linux x86-64 are fetched whatever this
    machine is: the file is only read, never loaded."""
    name, _, version = requirement.partition("==")
    if not version or not name.startswith("tensorrt") or not name.endswith("bindings"):
        raise InputError(f"need a pinned TensorRT bindings wheel such as tensorrt-cu13-bindings==11.4.0.106, "
                         f"got {requirement!r}")
    folder = Path(folder) if folder is not None else cache_dir()
    target = folder / f"{name}-{version}" / "tensorrt.so"
    if target.is_file():
        return target
    wheels = folder / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    pattern = f"{name.replace('-', '_')}-{version}*-cp311-*.whl"
    found = sorted(wheels.glob(pattern))
    if not found:
        # older releases (8.6 to 10.7) are tagged manylinux_2_17, newer ones manylinux_2_28
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.11", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
               "--platform", "manylinux_2_17_x86_64", "--dest", str(wheels), requirement]
        res = subprocess.run(cmd, capture_output=True, text=True)
        found = sorted(wheels.glob(pattern))
        if res.returncode != 0 or not found:
            last = (res.stderr.strip().splitlines() or ["no wheel found"])[-1]
            raise BookError(f"could not download {requirement} from PyPI: {last}")
    with zipfile.ZipFile(found[0]) as zf:
        member = next((m for m in zf.namelist() if Path(m).name.startswith("tensorrt") and ".so" in Path(m).name),
                      None)
        if member is None:
            raise BookError(f"{found[0].name} holds no tensorrt*.so")
        write_atomic(target, zf.read(member))
    return target


@dataclass(frozen=True)
class Binary:
    """The null-terminated strings of one bindings file."""

    release: str
    strings: tuple[str, ...]

    @classmethod
    def read(cls, path: Path, release: str = "") -> Binary:
        path = Path(path)
        if not path.is_file():
            raise InputError(f"bindings file {path.name} does not exist")
        data = path.read_bytes()
        if data[:4] != b"\x7fELF":
            raise InputError(f"{path.name} is not a shared library (no ELF header)")
        found = tuple(s.decode("utf-8", errors="replace") for s in data.split(b"\0") if len(s) > 1)
        return cls(release or path.parent.name, found)

    def registers(self, name: str) -> bool:
        """Is ``name`` (an identifier such as ``max_workspace_size``) one of the file's strings?"""
        if not name.isidentifier():
            raise InputError(f"{name!r} is not a Python identifier")
        return name in set(self.strings)

    def mentions(self, text: str) -> bool:
        """Does any string of the file (a docstring, say) contain ``text``?"""
        return any(text in s for s in self.strings)

    def docstring(self, start: str) -> str | None:
        """The docstring whose text begins with ``start`` (leading blanks ignored), or None."""
        for s in self.strings:
            if s.lstrip().startswith(start):
                return s.strip()
        return None


def load(release: str) -> Binary:
    """The bindings of one of :data:`RELEASES` ("8.6", "10.16", "11.4"), downloaded once."""
    if release not in RELEASES:
        raise InputError(f"unknown release {release!r}: choose from {', '.join(RELEASES)}")
    return Binary.read(fetch(RELEASES[release]), release)


def presence_table(binaries: dict[str, Binary], names) -> str:
    """Which of ``names`` each release registers ("yes" or "-"), one row per name (chapter 3 onwards)."""
    rows = [[name] + ["yes" if b.registers(name) else "-" for b in binaries.values()] for name in names]
    return table(["name"] + list(binaries), rows, align="<" + ">" * len(binaries))
