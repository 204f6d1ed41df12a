"""Chapter 5: TensorRT version numbers. The integer encodings, and reading them from library files.

``getInferLibVersion()`` returns one integer. TensorRT 8.x and 9.x encode it as
``MAJOR*1000 + MINOR*100 + PATCH`` (8.6.1 -> 8601); 10.x and later as
``MAJOR*10000 + MINOR*100 + PATCH`` (11.4.0 -> 110400). The two ranges do not overlap (the old one
ends below 10000, the new one starts at 100000), so :func:`decode` tells them apart by size.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import BookError, InputError


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    scheme: str  # "MAJOR*1000+MINOR*100+PATCH" (8.x, 9.x) or "MAJOR*10000+MINOR*100+PATCH" (10.x+)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


OLD, NEW = "MAJOR*1000+MINOR*100+PATCH", "MAJOR*10000+MINOR*100+PATCH"


def _whole(value, name: str) -> int:
    import numbers

    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def encode(major: int, minor: int, patch: int) -> int:
    """The integer ``getInferLibVersion()`` returns for a release."""
    major, minor, patch = _whole(major, "major"), _whole(minor, "minor"), _whole(patch, "patch")
    if not (0 <= minor < 100 and 0 <= patch < 100) or not 1 <= major < 100:
        raise InputError(f"not a TensorRT release: {major}.{minor}.{patch}")
    if major >= 10:
        return major * 10000 + minor * 100 + patch
    if minor >= 10:
        raise InputError(f"TensorRT {major}.x encodes the minor version in one digit, got {minor}")
    return major * 1000 + minor * 100 + patch


def decode(value: int) -> Version:
    """Decode ``getInferLibVersion()`` (or ``NV_TENSORRT_VERSION``) of any TensorRT since 5.x: the
    integer, or its digits as a string ("101601")."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    elif isinstance(value, str):
        raise InputError(f"decode takes the integer getInferLibVersion() returns (e.g. 101601), got the string "
                         f"{value!r}: a dotted version needs no decoding")
    value = _whole(value, "the version number")
    if 1000 <= value < 10000:
        return Version(value // 1000, value // 100 % 10, value % 100, OLD)
    if 100000 <= value < 1000000:
        return Version(value // 10000, value // 100 % 100, value % 100, NEW)
    raise InputError(f"{value} is not a TensorRT version number (8.x: 4 digits, 10.x and later: 6 digits)")


# ----- library files ---------------------------------------------------------------------------

def cache_dir() -> Path:
    """Where downloaded runtime libraries are kept (``libs/`` in the book's cache)."""
    from ..cache import folder

    return folder("libs").resolve()  # /proc/self/maps shows resolved paths


#: the runtime libraries chapter 5 reads (label -> exact PyPI pin); ``doctor --prefetch`` fetches them
BOOK_RUNTIMES = {
    "10.16 dispatch": "tensorrt-dispatch-cu12-libs==10.16.1.11",
    "11.4 dispatch": "tensorrt-dispatch-cu13-libs==11.4.0.106",
    "11.4 lean": "tensorrt-lean-cu13-libs==11.4.0.106",
}
_OFFLINE = ("Failed to establish a new connection", "Temporary failure in name resolution", "Network is unreachable",
            "Max retries exceeded", "ProxyError", "No route to host", "Connection refused", "timed out")


def fetch_runtime_library(requirement: str) -> Path:
    """Download a TensorRT runtime-library wheel from PyPI (e.g.
    ``"tensorrt-dispatch-cu13-libs==11.4.0.106"``) once, and return its ``libnvinfer_*.so.*`` file.

    Only the small lean and dispatch runtimes are fetched this way: they load on any Linux x86-64
    machine, GPU or not, which is enough to read their version. They cannot build engines. The wheel is
    unpacked into a temporary folder and renamed into place, so an interrupted run leaves no
    truncated library behind; without network the error says so in one line.
    """
    import re

    if not isinstance(requirement, str):
        raise InputError(f"requirement must be a string such as 'tensorrt-lean-cu13-libs==11.4.0.106', "
                         f"got {type(requirement).__name__}")
    name, _, version = requirement.strip().partition("==")
    name, version = name.strip(), version.strip()
    if not version:
        raise InputError(f"pin an exact version, e.g. {name or 'tensorrt-lean-cu13-libs'}==11.4.0.106")
    if not re.fullmatch(r"tensorrt-(lean|dispatch)(-cu\d+)?(-libs)?", name):
        raise InputError(f"{name!r} is not a TensorRT lean or dispatch runtime package "
                         "(e.g. tensorrt-lean-cu13-libs, tensorrt-dispatch-cu12-libs)")
    if not re.fullmatch(r"\d+(\.\d+){1,3}", version):
        raise InputError(f"{version!r} is not an exact release number such as 11.4.0.106")
    folder = cache_dir() / f"{name}-{version}"
    found = sorted(folder.glob("*/libnvinfer_*.so.*"))
    if found:
        return found[0]
    wheels = cache_dir() / "wheels"
    try:
        wheels.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BookError(f"cannot write the book's cache ({exc.strerror or exc}): set TRTFAQ_CACHE to a "
                        "writable absolute folder") from None
    wheel = sorted(wheels.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
    if not wheel:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
               "--platform", "manylinux_2_28_x86_64", "--python-version", "3.11", "--dest", str(wheels),
               requirement]
        res = subprocess.run(cmd, capture_output=True, text=True)
        wheel = sorted(wheels.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        if res.returncode != 0 or not wheel:
            if any(sign in res.stderr for sign in _OFFLINE):
                raise BookError(f"cannot reach PyPI to download {requirement}: this chapter needs the network "
                                "once (about 45 MB in all), or run `python -m trtfaq doctor --prefetch` beforehand "
                                "on a machine with network and the same TRTFAQ_CACHE")
            last = (res.stderr.strip().splitlines() or ["no wheel found"])[-1]
            raise BookError(f"could not download {requirement} from PyPI: {last}")
    import shutil
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=cache_dir()))
    try:
        with zipfile.ZipFile(wheel[0]) as zf:
            members = [m for m in zf.namelist() if Path(m).name.startswith("libnvinfer_") and ".so." in m]
            if not members:
                raise BookError(f"{wheel[0].name} holds no libnvinfer_*.so.* library")
            zf.extractall(tmp, members)
        try:
            os.replace(tmp, folder)  # atomic: the folder appears complete or not at all
        except OSError:
            if not sorted(folder.glob("*/libnvinfer_*.so.*")):  # not another process finishing first
                raise
    except zipfile.BadZipFile:
        wheel[0].unlink(missing_ok=True)
        raise BookError(f"{wheel[0].name} in the book's cache is not a valid wheel: deleted, run again") from None
    except OSError as exc:
        raise BookError(f"cannot unpack {wheel[0].name} into the book's cache: {exc.strerror or exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(folder.glob("*/libnvinfer_*.so.*"))[0]


def prefetch() -> list[Path]:
    """Fetch every runtime library of :data:`BOOK_RUNTIMES` into the cache (workshop preparation)."""
    return [fetch_runtime_library(req) for req in BOOK_RUNTIMES.values()]


def _elf(path: Path):
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    if path is None or not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise InputError(f"expected the path of a library file, got {path!r}")
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path.name} is a folder, not a library file")
    if not path.is_file():
        raise InputError(f"library file {path.name} does not exist")
    fh = open(path, "rb")  # noqa: SIM115 - ELFFile reads it lazily, so it stays open with the object
    try:
        return ELFFile(fh)
    except ELFError:
        fh.close()
        raise InputError(f"{path.name} is not an ELF shared library") from None


def dynamic_symbols(path: Path) -> list[str]:
    """Names a shared library exports (what ``nm -D --defined-only`` lists), sorted."""
    elf = _elf(path)
    try:
        table = elf.get_section_by_name(".dynsym")
        if table is None:
            return []
        return sorted({s.name for s in table.iter_symbols() if s.name and s["st_shndx"] != "SHN_UNDEF"})
    finally:
        elf.stream.close()


def needed_libraries(path: Path) -> list[str]:
    """The ``DT_NEEDED`` entries of a shared library (what ``readelf -d`` shows as NEEDED)."""
    elf = _elf(path)
    try:
        dynamic = elf.get_section_by_name(".dynamic")
        return [t.needed for t in dynamic.iter_tags() if t.entry.d_tag == "DT_NEEDED"] if dynamic else []
    finally:
        elf.stream.close()


@dataclass(frozen=True)
class LibraryVersion:
    value: int   # getInferLibVersion()
    major: int   # getInferLibMajorVersion() ... (TensorRT 10.0 and later)
    minor: int
    patch: int
    build: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}.{self.build}"


def library_version(path: Path) -> LibraryVersion:
    """Load a TensorRT library with ctypes and ask it its version (no GPU needed)."""
    dynamic_symbols(path)  # one-line errors for bad paths, missing or non-ELF files before dlopen
    path = Path(path)  # one-line errors for missing or non-ELF files before dlopen
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise InputError(f"cannot load {path.name}: {str(exc).splitlines()[0]}") from None
    calls = ["getInferLibVersion", "getInferLibMajorVersion", "getInferLibMinorVersion",
             "getInferLibPatchVersion", "getInferLibBuildVersion"]
    missing = [c for c in calls if not hasattr(lib, c)]
    if missing:
        raise InputError(f"{path.name} does not export {missing[0]}(): not a TensorRT 10.x or later library")
    for c in calls:
        getattr(lib, c).restype = ctypes.c_int32
    return LibraryVersion(*(int(getattr(lib, c)()) for c in calls))
