"""The book's structure: toc and notebooks agree, notebooks carry outputs and the chapter pattern."""
import json
import re

import pytest

from trtfaq.tools.colab import TAGS, install_cell_source, is_install_cell, repository_url

from bookfiles import ROOT, source_of, toc_files, toc_notebooks

NOTEBOOKS = sorted(p.relative_to(ROOT).with_suffix("").as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
#: chapters answer one FAQ question each and are named NN-topic; other notebooks (the results gallery) are pages
CHAPTERS = [nb for nb in NOTEBOOKS if re.match(r"notebooks/\d\d-", nb)]


def test_every_notebook_is_in_the_toc():
    missing = sorted(set(NOTEBOOKS) - set(toc_notebooks()))
    assert not missing, f"notebooks not listed in _toc.yml: {missing}"


def test_every_toc_entry_has_a_source():
    absent = [f for f in toc_files() if source_of(f) is None]
    assert not absent, f"_toc.yml entries without a .ipynb or .md file: {absent}"


def load(nb):
    return json.loads((ROOT / f"{nb}.ipynb").read_text())


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_notebook_is_committed_with_outputs(nb):
    code = [c for c in load(nb)["cells"] if c["cell_type"] == "code" and not is_install_cell(c)]
    assert code and all(c.get("execution_count") is not None for c in code), \
        f"{nb}: run it (make notebooks) before committing"


@pytest.mark.parametrize("nb", CHAPTERS)
def test_notebook_follows_the_chapter_pattern(nb):
    cells = load(nb)["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).startswith("# ")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in "".join(cells[0]["source"])), "question in Chinese"
    for heading in ("Short answer", "## Pitfalls", "## Try it", "## References"):
        assert heading in text, f"{nb}: missing {heading!r}"
    assert "%load_ext trtfaq" in "".join(next(c for c in cells if c["cell_type"] == "code"
                                               and not is_install_cell(c))["source"])


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_notebook_starts_with_the_colab_install_cell(nb):
    first_code = next(c for c in load(nb)["cells"] if c["cell_type"] == "code")
    assert "".join(first_code["source"]) == install_cell_source(repository_url(ROOT / "_config.yml")), \
        f"{nb}: run `python -m trtfaq colab-cells`"
    assert first_code["metadata"].get("tags") == TAGS


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_tensorrt_cells_are_guarded_and_ignore_output(nb):
    for c in load(nb)["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] == "code" and "import tensorrt" in src:
            assert src.startswith("%%requires tensorrt"), f"{nb}: unguarded TensorRT cell:\n{src[:200]}"
        if c["cell_type"] == "code" and src.startswith("%%requires"):
            assert "nbval-ignore-output" in c["metadata"].get("tags", []), \
                f"{nb}: a %%requires cell's output differs by machine; tag it nbval-ignore-output"


def test_roadmap_lists_twelve_questions_and_links_every_chapter():
    text = (ROOT / "book" / "roadmap.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert [int(r.split("|")[1]) for r in rows] == list(range(1, 13))
    for nb in CHAPTERS:
        assert f"../{nb}" in text, f"roadmap does not link {nb}"


def try_it_items(nb):
    text = "\n".join("".join(c["source"]) for c in load(nb)["cells"] if c["cell_type"] == "markdown")
    section = text.split("## Try it", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if re.match(r"^\d+\. ", line)]


@pytest.mark.parametrize("nb", CHAPTERS)
def test_instructor_page_covers_every_chapter_and_its_exercises(nb):
    text = (ROOT / "book" / "instructor.md").read_text()
    assert text.count(f"{{doc}}`../{nb}`") >= 2, f"instructor page: {nb} missing from the table or the exercises"
    block = text.split(f"({{doc}}`../{nb}`)", 1)[1].split("\n**", 1)[0]
    listed = [line for line in block.splitlines() if re.match(r"^\d+\. ", line)]
    assert len(listed) == len(try_it_items(nb)) >= 2, f"{nb}: exercise count differs from its Try it section"
