"""Each helper says which chapter introduces it, and a test keeps that true (d2l's "Defined in").

- A chapter module (``trtfaq/chapters/<topic>.py``) starts its docstring with "Chapter N:" and is used
  by chapter N's notebook alone (the results gallery's module by the gallery).
- A general module's docstring tag "(chapter N onwards)" / "(chapter N)" names the first chapter that
  uses the module, and a public helper's tag "(chapter N)" / "(chapter N onwards)" names the first
  chapter that uses that helper. "Uses" means the notebook's code, or the chapter module it imports.
"""
import ast
import json
import re
from pathlib import Path

import pytest

from bookfiles import ROOT

PKG = ROOT / "trtfaq"
TAG = re.compile(r"\(chapter (\d+)(?: onwards)?\)")
GENERAL = sorted(p for p in PKG.glob("*.py") if p.stem not in ("__init__", "__main__"))
CHAPTER_MODULES = sorted(p for p in (PKG / "chapters").glob("*.py") if p.stem != "__init__")


def chapter_of(notebook: Path) -> int | None:
    m = re.match(r"(\d+)-", notebook.name)
    return int(m.group(1)) if m else None


def notebook_code(path: Path) -> str:
    nb = json.loads(path.read_text())
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def uses(code: str, module: str, name: str | None = None) -> bool:
    """Does ``code`` use ``trtfaq.<module>`` (or one of its names)? Follows ``import ... as`` aliases."""
    dotted = module.replace("/", ".")
    short = dotted.split(".")[-1]
    aliases = {short}
    for m in re.finditer(r"from trtfaq(?:\.(\w+))? import ([^\n]+)", code):
        parent, names = m.group(1), m.group(2)
        for item in names.split(","):
            parts = item.split(" as ")
            full = f"{parent}.{parts[0].strip()}" if parent else parts[0].strip()
            if full == dotted and len(parts) == 2:
                aliases.add(parts[1].strip())
            if name and parent and f"{parent}.{parts[0].strip()}" == f"{dotted}.{name}":
                return True
            if name and parent == dotted and parts[0].strip() == name:
                return True
    for m in re.finditer(r"from \.\.?(\w*) import ([^\n]+)", code):  # a chapter module's own imports
        if m.group(1) == short and (name is None or re.search(rf"\b{name}\b", m.group(2))):
            return True
        if m.group(1) == "" and re.search(rf"\b{short}\b", m.group(2)) and name is None:
            return True
    if name is None:
        parent, _, leaf = dotted.rpartition(".")
        imported = re.search(rf"from trtfaq\.{re.escape(dotted)} import|import trtfaq\.{re.escape(dotted)}\b", code)
        listed = re.search(rf"from trtfaq{re.escape('.' + parent) if parent else ''} import [^\n]*\b{leaf}\b", code)
        relative = re.search(rf"from \.\.?{leaf} import|from \.\.? import [^\n]*\b{leaf}\b", code)
        return bool(imported or listed or relative)
    return any(re.search(rf"\b{a}\.{name}\b", code) for a in aliases)


def readers() -> list[tuple[int | None, str]]:
    """(chapter, code) for every notebook, and for every chapter module as part of its chapter."""
    out = [(chapter_of(p), notebook_code(p)) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    for p in CHAPTER_MODULES:
        m = re.match(r'"""Chapter (\d+):', p.read_text())
        if m:
            out.append((int(m.group(1)), p.read_text()))
    return out


def first_chapter(module: str, name: str | None = None, seen: frozenset = frozenset()) -> int | None:
    """The first chapter using ``module`` (or its ``name``); a module is also used wherever a general
    module that imports it is used (the engine cache arrives with the engine)."""
    found = [ch for ch, code in readers() if ch is not None and uses(code, module, name)]
    if name is None:
        for other in GENERAL:
            if other.stem not in seen | {module} and uses(other.read_text(), module):
                ch = first_chapter(other.stem, None, seen | {module})
                found += [ch] if ch is not None else []
    return min(found) if found else None


@pytest.mark.parametrize("path", CHAPTER_MODULES, ids=lambda p: p.stem)
def test_a_chapter_module_names_its_chapter_and_serves_only_it(path):
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    m = re.match(r"Chapter (\d+):", doc)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    users = {p.name for p in notebooks if uses(notebook_code(p), f"chapters/{path.stem}")}
    if path.stem == "gallery":
        assert users == {"results-gallery.ipynb"}
        return
    assert m, f"{path.name}: the docstring must start with 'Chapter N:'"
    assert users and all(chapter_of(ROOT / "notebooks" / u) == int(m.group(1)) for u in users), (path.name, users)


def wrong_tags(text: str, stem: str) -> list[str]:
    """The tags of a general module's source ``text`` that do not name the first chapter using them."""
    tree = ast.parse(text)
    wrong = []
    m = TAG.search((ast.get_docstring(tree) or "").split("\n\n")[0])
    first = first_chapter(stem)
    if m and first is not None and int(m.group(1)) != first:
        wrong.append(f"module tag says chapter {m.group(1)}, first used in chapter {first}")
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            tag = TAG.search(ast.get_docstring(node) or "")
            used = first_chapter(stem, node.name)
            if tag and used is not None and int(tag.group(1)) != used:
                wrong.append(f"{node.name}: tag says chapter {tag.group(1)}, first used in chapter {used}")
    return wrong


@pytest.mark.parametrize("path", GENERAL, ids=lambda p: p.stem)
def test_general_module_and_helper_tags_name_the_first_chapter_using_them(path):
    wrong = wrong_tags(path.read_text(), path.stem)
    assert not wrong, f"{path.name}: " + "; ".join(wrong)


def test_a_wrong_tag_is_caught():
    text = (PKG / "timing.py").read_text().replace("(chapter 1 onwards)", "(chapter 7 onwards)", 1)
    assert wrong_tags(text, "timing") == ["module tag says chapter 7, first used in chapter 1"]
    text = (PKG / "engine.py").read_text().replace("every input shape (chapter 1).", "every input shape (chapter 6).")
    assert wrong_tags(text, "engine") == ["profile_for: tag says chapter 6, first used in chapter 1"]
    assert first_chapter("precision", "to_fp16") == 6
