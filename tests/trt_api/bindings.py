"""Real TensorRT Python bindings, for introspection: fetched, made importable, turned into stubs.

For each supported version (``VERSIONS``, and every release of the shipped API data, ``RELEASES``),
``pip download`` fetches the official ``tensorrt-bindings`` / ``tensorrt-cuXX-bindings`` wheel (cp311, the
real ``tensorrt_bindings`` module), the stand-in libraries of ``standins.c`` (and, for 8.x, of
``standins_parsers.c``) are compiled into a temporary folder, and ``pybind11-stubgen`` imports the module in its own subprocess (with
``LD_LIBRARY_PATH`` pointing at that folder only) and writes ``.pyi`` stubs. The stubs, renamed to the
package name readers import (``tensorrt``), are all that leaves the subprocess. Wheels and stubs are
cached under ``$TRTFAQ_CACHE/trt-api`` (default ``~/.cache/trtfaq/trt-api``).
"""
from __future__ import annotations

import contextlib
import keyword
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: pip requirement of every TensorRT version the book supports (its code is checked against these)
VERSIONS = {
    "10.16.1.11": "tensorrt-cu12-bindings==10.16.1.11",
    "11.4.0.106": "tensorrt-cu13-bindings==11.4.0.106",
}
#: pip requirement of every release in the API surface data shipped with the package
#: (``trtfaq/data/trt_api.json.gz``, made by ``tests/trt_api/make_surface.py``): the FAQ's 8.6 and the
#: newest patch of every 10.x and 11.x minor release on PyPI with a cp311 Linux wheel. TensorRT 9.x was
#: never published on PyPI, and releases before 8.6 have no bindings-only wheel there.
RELEASES = {
    "8.6.1": "tensorrt-bindings==8.6.1",
    "10.0.1": "tensorrt-cu12-bindings==10.0.1",
    "10.1.0": "tensorrt-cu12-bindings==10.1.0",
    "10.2.0": "tensorrt-cu12-bindings==10.2.0.post1",
    "10.3.0": "tensorrt-cu12-bindings==10.3.0",
    "10.4.0": "tensorrt-cu12-bindings==10.4.0",
    "10.5.0": "tensorrt-cu12-bindings==10.5.0",
    "10.6.0": "tensorrt-cu12-bindings==10.6.0.post2",
    "10.7.0": "tensorrt-cu12-bindings==10.7.0.post1",
    "10.8.0.43": "tensorrt-cu12-bindings==10.8.0.43",
    "10.9.0.34": "tensorrt-cu12-bindings==10.9.0.34",
    "10.10.0.31": "tensorrt-cu12-bindings==10.10.0.31",
    "10.11.0.33": "tensorrt-cu12-bindings==10.11.0.33",
    "10.12.0.36": "tensorrt-cu12-bindings==10.12.0.36",
    "10.13.3.9": "tensorrt-cu12-bindings==10.13.3.9.post1",
    "10.14.1.48": "tensorrt-cu12-bindings==10.14.1.48.post1",
    "10.15.1.29": "tensorrt-cu12-bindings==10.15.1.29",
    **{v: r for v, r in VERSIONS.items() if v.startswith("10.")},
    "11.0.0.114": "tensorrt-cu13-bindings==11.0.0.114",
    "11.1.0.106": "tensorrt-cu13-bindings==11.1.0.106",
    "11.2.1.2": "tensorrt-cu13-bindings==11.2.1.2",
    "11.3.0.99": "tensorrt-cu13-bindings==11.3.0.99",
    **{v: r for v, r in VERSIONS.items() if v.startswith("11.")},
}
#: the C entry points the bindings link against, by library
LIBRARIES = ("libnvinfer", "libnvonnxparser", "libnvinfer_plugin")
#: TensorRT 8.x bindings also link the UFF and Caffe parsers (standins_parsers.c)
LIBRARIES_8 = ("libnvparsers",)


def requirement(version: str) -> str:
    return RELEASES.get(version) or VERSIONS[version]


def cache_root() -> Path:
    base = Path(os.environ.get("TRTFAQ_CACHE", Path.home() / ".cache" / "trtfaq"))
    return base / "trt-api"


def fetch_wheel(version: str) -> Path:
    """The bindings wheel for ``version`` (downloaded once, then reused)."""
    dest = cache_root() / "wheels"
    req = requirement(version)
    pattern = f"tensorrt*_bindings-{req.split('==')[1]}-cp311-*.whl"
    found = sorted(dest.glob(pattern))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    # older releases (8.6 to 10.7) are tagged manylinux_2_17, newer ones manylinux_2_28
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.11", "--implementation", "cp", "--platform", "manylinux_2_28_x86_64",
           "--platform", "manylinux_2_17_x86_64", "--dest", str(dest), req]
    res = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(dest.glob(pattern))
    if res.returncode != 0 or not found:
        raise RuntimeError(f"could not download {req}: {res.stderr.strip()[-300:]}")
    return found[0]


def build_standins(folder: Path, major: int) -> None:
    """Compile ``standins.c`` into the three sonames the bindings of ``major`` ask for."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise RuntimeError("a C compiler (cc or gcc) is needed to build the stand-in libraries")
    for lib in LIBRARIES + (LIBRARIES_8 if major < 10 else ()):
        soname = f"{lib}.so.{major}"
        source = HERE / ("standins_parsers.c" if lib in LIBRARIES_8 else "standins.c")
        subprocess.run([cc, "-shared", "-fPIC", "-O0", f"-Wl,-soname,{soname}", "-o", str(folder / soname),
                        str(source)], check=True, capture_output=True)


@contextlib.contextmanager
def introspection_env(version: str):
    """Environment variables under which ``import tensorrt_bindings`` gives the real ``version``
    module backed by the stand-ins; everything lives in a temporary folder removed on exit."""
    wheel = fetch_wheel(version)
    with tempfile.TemporaryDirectory(prefix="trt-introspect-") as tmp:
        tmp = Path(tmp)
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(tmp / "site")
        (tmp / "libs").mkdir()
        build_standins(tmp / "libs", int(version.split(".")[0]))
        yield {**os.environ, "LD_LIBRARY_PATH": str(tmp / "libs"), "PYTHONPATH": str(tmp / "site")}


def stubs(version: str) -> Path:
    """A folder holding a ``tensorrt`` stub package generated from the real ``version`` bindings."""
    out = cache_root() / "stubs" / f"{version}-v4"  # bump when the stub post-processing changes
    if (out / "tensorrt" / "__init__.pyi").exists():
        return out
    with introspection_env(version) as env, tempfile.TemporaryDirectory(prefix="trt-stubs-") as tmp:
        stubgen = Path(sys.executable).parent / "pybind11-stubgen"
        res = subprocess.run([str(stubgen), "tensorrt_bindings", "-o", tmp, "--ignore-all-errors"],
                             env=env, capture_output=True, text=True)
        generated = Path(tmp) / "tensorrt_bindings" / "tensorrt.pyi"
        if res.returncode != 0 or not generated.exists():
            raise RuntimeError(f"pybind11-stubgen failed for TensorRT {version}: {res.stderr.strip()[-500:]}")
        text = _postprocess(generated.read_text(), version)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "tensorrt").mkdir(parents=True)
    (partial / "tensorrt" / "__init__.pyi").write_text(text)
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return out


def _postprocess(text: str, version: str) -> str:
    """Make stubgen's output a parseable, mypy-usable stub of the package readers import."""
    text = text.replace("tensorrt_bindings.tensorrt.", "").replace("tensorrt_bindings.", "")
    # A few C++ parameter names are Python keywords (``in``): Python cannot pass those by
    # keyword anyway, so rename them to keep the stubs parseable.
    text = re.sub(r"([(,] ?)(" + "|".join(keyword.kwlist) + r")(: )", r"\1\2_\3", text)
    # The module exports ``bool`` (a DataType), which would shadow the builtin in annotations.
    text = re.sub(r"(->|:) bool\b(?!:)", r"\1 builtins.bool", text)
    text = re.sub(r"\[bool\]", "[builtins.bool]", text)
    # What pybind11 provides at run time but stubgen cannot see (each used by TensorRT's own
    # samples): tuples and lists convert implicitly to Dims; Dims iterates through
    # __getitem__/__len__; IHostMemory exposes the buffer protocol (bytes(plan)).
    text = re.sub(r"(\w+): Dims\b(?![\w.])", r"\1: Dims | typing.Sequence[typing.SupportsInt]", text)
    text = text.replace("class Dims:\n", "class Dims:\n    def __iter__(self) -> typing.Iterator[int]: ...\n", 1)
    text = text.replace("class IHostMemory:\n",
                        "class IHostMemory:\n    def __buffer__(self, flags: int, /) -> memoryview: ...\n", 1)
    text = "import builtins\nimport typing\nREQUIRED: typing.Any  # marks a required parameter after defaulted ones\n" + text
    text = _fix_required_after_default(text)
    # __version__ is set in the package's pure-Python __init__, which stubgen does not copy.
    return text + f"\n__version__: str  # '{version}'\n"


def _split_params(inner: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return parts + [cur] if cur.strip() else parts


def _fix_required_after_default(text: str) -> str:
    """pybind11 allows ``f(a, b=None, c)``; Python syntax does not. Give such ``c`` the default
    ``REQUIRED``, which the API loader reads back as "required"."""
    import ast

    lines = text.splitlines()
    for _ in range(1000):
        try:
            ast.parse("\n".join(lines))
            return "\n".join(lines) + "\n"
        except SyntaxError as exc:
            if "non-default argument follows default argument" not in str(exc.msg) and \
                    "parameter without a default follows parameter with a default" not in str(exc.msg):
                raise
            i = exc.lineno - 1
            line = lines[i]
            head, rest = line.split("(", 1)
            depth, end = 1, 0
            for end, ch in enumerate(rest):  # noqa: B007 - `end` is read after the loop
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    break
            params, seen_default = [], False
            for p in _split_params(rest[:end]):
                if "=" in p:
                    seen_default = True
                elif seen_default and ":" in p:
                    p = p + " = REQUIRED"
                params.append(p)
            lines[i] = head + "(" + ",".join(params) + rest[end:]
    raise RuntimeError("could not repair the generated stubs")
