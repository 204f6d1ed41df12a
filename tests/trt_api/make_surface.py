"""Regenerate ``trtfaq/data/trt_api.json.gz``, the TensorRT API data that ``trtfaq check-api`` reads.

    .venv/bin/python tests/trt_api/make_surface.py            # write the file, update book/changes.md
    .venv/bin/python tests/trt_api/make_surface.py --check    # exit 1 if either is stale

For every release in ``bindings.RELEASES`` (the official bindings wheels from PyPI, downloaded once into
``$TRTFAQ_CACHE/trt-api``): the stubs generated from the real module (``bindings.stubs``), the names the
wheel's pure-Python ``__init__.py`` adds (``trt.volume``, ``trt.nptype``, ``DataType.itemsize``), and
the deprecation notes of the docstrings. Needs the network once, then the cache, and a C compiler.
"""
from __future__ import annotations

import argparse
import ast
import gzip
import itertools
import json
import re
import sys
import zipfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make ``trt_api`` and ``trtfaq`` importable
    sys.path[:0] = [str(Path(__file__).resolve().parents[1]), str(Path(__file__).resolve().parents[2])]

from trtfaq.tools import apisurface  # noqa: E402

from trt_api import api as api_mod  # noqa: E402
from trt_api import bindings, changes_page  # noqa: E402

#: "[DEPRECATED] ..." at the start of a line (or of a member's text): about the thing documented, not a
#: remark in passing such as WORKSPACE's "(use the IAlgorithmSelector interface ([DEPRECATED] ...))"
MARK = re.compile(r"(?:^|\n)\s*(?::class:`[^`]*`\s*)?\[DEPRECATED[^\]]*\]\s*([^\n]*)")


def _note(text: str) -> str | None:
    """The deprecation note in a docstring line, e.g. "Deprecated in TensorRT 10.12. Superseded by ..."."""
    m = MARK.search(text.lstrip(" "))
    if not m:
        return None
    sentences = re.split(r"(?<=\.)\s+", " ".join(m.group(1).split()))
    # the first sentence, and the next ones while they still say why or what instead
    kept = sentences[:1] + [x for x in itertools.takewhile(
        lambda x: re.search(r"(?i)supersed|instead|\buse\b|ignored|removed|replaced|deprecated", x), sentences[1:])]
    note = " ".join(kept)
    return (note[:240] + "…") if len(note) > 240 else (note or "deprecated")


def deprecations(stub: str) -> dict[str, str]:
    """``{"Class": note, "Class.member": note, "function": note}`` from the stub's docstrings."""
    out: dict[str, str] = {}

    def docstring_notes(qual: str, doc: str):
        head = re.split(r"\n\s*(?::ivar|Members:)", doc, maxsplit=1)[0]
        note = _note(head)
        if note:
            out[qual] = note
        for m in re.finditer(r":ivar (\w+):([^\n]*)", doc):
            note = _note(m.group(2))
            if note:
                out[f"{qual}.{m.group(1)}"] = note
        if "Members:" in doc:  # pybind11 enums: "  NAME : text" then continuation lines
            members = doc.split("Members:", 1)[1]
            for m in re.finditer(r"^\s{2}(\w+) :(.*?)(?=^\s{2}\w+ :|\Z)", members, re.M | re.S):
                note = _note(m.group(2))
                if note:
                    out[f"{qual}.{m.group(1)}"] = note

    def walk(body, prefix: str):
        for node in body:
            if isinstance(node, ast.ClassDef):
                qual = prefix + node.name
                doc = ast.get_docstring(node) or ""
                docstring_notes(qual, doc)
                walk(node.body, qual + ".")
            elif isinstance(node, ast.FunctionDef):
                note = _note((ast.get_docstring(node) or "").strip().split("\n\n")[0])
                if note and not node.name.startswith("__"):
                    out[prefix + node.name] = note

    walk(ast.parse(stub).body, "")
    return out


def pure_python_additions(api: apisurface.API, version: str) -> None:
    """Add what the wheel's ``tensorrt_bindings/__init__.py`` defines in Python: public functions
    (``volume``, ``nptype``) and class attributes it assigns (``DataType.itemsize = property(...)``)."""
    with zipfile.ZipFile(bindings.fetch_wheel(version)) as zf:
        tree = ast.parse(zf.read("tensorrt_bindings/__init__.py"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node in tree.body and not node.name.startswith("_"):
            params = [apisurface.Param(a.arg, False) for a in node.args.args]
            for p, _ in zip(reversed(params), node.args.defaults):
                p.has_default = True
            api.functions.setdefault(node.name, [apisurface.Signature(params)])
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Attribute):
            target = node.targets[0]
            if not isinstance(target.value, ast.Name) or target.attr.startswith("__"):
                continue
            info = api.classes.get(target.value.id)
            if info is None or api.lookup(info.name, target.attr) is not None:
                continue
            value = node.value
            if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "property":
                info.properties[target.attr] = (None, False)
            elif isinstance(value, ast.Attribute) and value.attr in api.classes.get(
                    getattr(value.value, "id", ""), apisurface.ClassInfo("")).nested:
                info.nested[target.attr] = f"{value.value.id}.{value.attr}"
            else:
                info.attributes[target.attr] = None


#: run inside the introspection environment: every class's public members as the real module has them
_INTROSPECT = r"""
import json, tensorrt_bindings as trt
out = {}
def walk(cls, qual):
    members = {}
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            members[name] = "setonly" if value.fget is None else "property"
        elif isinstance(value, type) and value.__module__.startswith("tensorrt"):
            walk(value, qual + "." + name)
    out[qual] = members
for name, value in vars(trt.tensorrt).items():
    if isinstance(value, type) and not name.startswith("_"):
        walk(value, name)
print(json.dumps(out))
"""


def setter_only_properties(api: apisurface.API, version: str) -> list[str]:
    """Add the properties that have a setter and no getter (``Runtime.gpu_allocator``,
    ``IExecutionContext.device_memory``): stubgen leaves them out, so they are read from the real
    module itself. Returns the ``Class.name`` added."""
    import subprocess

    with bindings.introspection_env(version) as env:
        res = subprocess.run([sys.executable, "-c", _INTROSPECT], env=env, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"introspection of TensorRT {version} failed: {res.stderr[-500:]}")
    added = []
    for qual, members in json.loads(res.stdout).items():
        info = api.classes.get(qual)
        for name, kind in members.items():
            if info is not None and kind == "setonly" and api.lookup(qual, name) is None:
                info.properties[name] = (None, True)
                added.append(f"{qual}.{name}")
    return added


def build() -> dict:
    apis, notes = [], {}
    for version in bindings.RELEASES:
        stub_dir = bindings.stubs(version)
        api = api_mod.load(stub_dir, version)
        pure_python_additions(api, version)
        stub = (stub_dir / "tensorrt" / "__init__.pyi").read_text()
        setter_only_properties(api, version)
        apis.append(api)
        notes[version] = deprecations(stub)
    source = ("stubs of the official TensorRT Python bindings wheels on PyPI: "
              + ", ".join(bindings.RELEASES[v] for v in bindings.RELEASES))
    return apisurface.encode(apis, notes, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing it")
    parser.add_argument("--out", type=Path, default=apisurface.DATA)
    args = parser.parse_args(argv)
    data = build()
    if args.check:
        shipped = json.loads(gzip.decompress(args.out.read_bytes()))
        if shipped != data:
            print(f"{args.out} is stale: run tests/trt_api/make_surface.py", file=sys.stderr)
            return 1
        from trtfaq.tools.check_api import changes_table

        if changes_page.generated_part(changes_page.PAGE.read_text()) != changes_table():
            print(f"{changes_page.PAGE} is stale: run tests/trt_api/make_surface.py", file=sys.stderr)
            return 1
        print(f"{args.out} and {changes_page.PAGE.name} are up to date ({len(data['releases'])} releases)")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    apisurface.write(data, args.out)
    apisurface.load.cache_clear()
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, releases {', '.join(data['releases'])})")
    if args.out == apisurface.DATA:
        print(("updated " if changes_page.update() else "up to date: ") + str(changes_page.PAGE))
    return 0


if __name__ == "__main__":
    sys.exit(main())
