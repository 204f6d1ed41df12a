"""How well ``trtfaq check-api`` does on NVIDIA's own code (``tests/trt_api/corpus``, Polygraphy).

Recall, on code written for TensorRT 8.6 (``corpus/v86``): the *candidates* are found mechanically,
without the checker: every attribute access ``x.NAME`` where NAME is a member that a class had in 8.6
and the target release removed from that class (the class itself still exists), and every ``trt.NAME``
/ ``from tensorrt import NAME`` of a module name the target lacks. Each candidate was then labelled by
hand (``corpus/labels.json``): a *use* when ``x`` is a TensorRT object of such a class on a path that
runs on the target; not a use otherwise (``args.precision``, a user's ``mem.free()``, ``Logger.VERBOSE``,
``common.EXPLICIT_BATCH``, a fallback that runs only on old releases). Recall = uses the checker reports
(as ``error`` or ``maybe``, same file, line and name) / uses.

Precision, on current code (``corpus/current``: TensorRT's ``main`` at the 11.1 release; Polygraphy
from PyPI): every ``error`` and ``maybe`` the checker reports was labelled by hand: right (the line fails
on that release when it runs) or wrong. Precision = right / reported.
"""
from __future__ import annotations

import ast
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from trtfaq.tools import apisurface, check_api
from trtfaq.tools.api_checker import Source, notebook_source_from

CORPUS = Path(__file__).resolve().parent / "corpus"
LABELS = CORPUS / "labels.json"
#: current Polygraphy (NVIDIA's TensorRT tool, Apache-2.0), read from its wheel on PyPI
POLYGRAPHY = ("polygraphy==0.53.6", "polygraphy-0.53.6-py3-none-any.whl",
              "539095f64054823aabac5d4c8d64875b5a1542b71ca76443e218a01fdc1a4e03")


def thirdparty_sources() -> list[Source]:
    """The files of ``corpus/thirdparty``, named ``owner+name/path`` (see its README)."""
    root = CORPUS / "thirdparty"
    return [Source(str(f.relative_to(root))[: -len(".txt")], f.read_text()) for f in sorted(root.rglob("*.py.txt"))]


def load_thirdparty_labels() -> dict:
    return json.loads((CORPUS / "thirdparty_labels.json").read_text())


def corpus_sources(folder: str) -> list[Source]:
    """The files of ``corpus/<folder>``, named by their path in NVIDIA's repository."""
    out = []
    root = CORPUS / folder
    for f in sorted(root.rglob("*.txt")):
        name = str(f.relative_to(root))[: -len(".txt")]
        text = f.read_text()
        out.append(notebook_source_from(json.loads(text), name) if name.endswith(".ipynb") else Source(name, text))
    return out


def polygraphy_wheel() -> Path:
    """The pinned Polygraphy wheel (downloaded once into the API cache, checked by its SHA-256)."""
    from trt_api import bindings

    dest = bindings.cache_root() / "wheels"
    wheel = dest / POLYGRAPHY[1]
    if not wheel.exists():
        dest.mkdir(parents=True, exist_ok=True)
        req = dest / "polygraphy-requirement.txt"
        req.write_text(f"{POLYGRAPHY[0]} --hash=sha256:{POLYGRAPHY[2]}\n")
        res = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                              "--only-binary=:all:", "--dest", str(dest), "-r", str(req)],
                             capture_output=True, text=True, env={**os.environ, "PIP_CONSTRAINT": ""})
        if res.returncode != 0 or not wheel.exists():
            raise RuntimeError(f"could not download {POLYGRAPHY[0]}: {res.stderr.strip()[-300:]}")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != POLYGRAPHY[2]:
        raise RuntimeError(f"{wheel} has SHA-256 {digest}, expected {POLYGRAPHY[2]}")
    return wheel


def polygraphy_sources() -> list[Source]:
    """Every module of the Polygraphy package (its TensorRT backend, tools and helpers)."""
    out = []
    with zipfile.ZipFile(polygraphy_wheel()) as zf:
        for name in sorted(zf.namelist()):
            if name.startswith("polygraphy/") and name.endswith(".py"):
                out.append(Source(f"polygraphy-0.53.6/{name}", zf.read(name).decode()))
    return out


@dataclass(frozen=True)
class Candidate:
    file: str
    line: int
    name: str
    receiver: str
    text: str


def candidates(surface: apisurface.Surface, target: str, sources: list[Source], baseline: str = "8.6.1"):
    """Accesses of names that ``baseline`` had and ``target`` lacks (see the module docstring)."""
    old, new = surface.api(baseline), surface.api(target)
    members = set()
    for qual, info in old.classes.items():
        if qual not in new.classes:
            continue
        for name in (*info.methods, *info.properties, *info.attributes, *info.nested):
            if not name.startswith("_") and new.lookup(qual, name) is None:
                members.add(name)
    module = {n for n in (*old.classes, *old.functions, *old.attributes)
              if not n.startswith("_") and new.module_lookup(n) is None}
    out = set()
    for src in sources:
        try:
            tree = ast.parse(src.code)
        except SyntaxError:
            continue
        lines = src.code.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and (node.attr in members or node.attr in module):
                out.add(Candidate(src.name, node.lineno, node.attr, ast.unparse(node.value)[:60],
                                  lines[node.lineno - 1].strip()[:120]))
            elif isinstance(node, ast.ImportFrom) and node.module == "tensorrt":
                for alias in node.names:
                    if alias.name in module:
                        out.add(Candidate(src.name, node.lineno, alias.name, "tensorrt",
                                          lines[node.lineno - 1].strip()[:120]))
    return out


def reported(sources: list[Source], target: str, surface: apisurface.Surface | None = None):
    """(file, line, name) of every error and maybe, and the full result."""
    result = check_api.check_sources(sources, [target], surface, deprecated=False)
    found = {(f.source, f.line, f.name) for f in result.findings if f.severity in ("error", "maybe")}
    return found, result


def load_labels() -> dict:
    return json.loads(LABELS.read_text())
