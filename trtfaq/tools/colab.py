"""The Colab install cell at the top of every chapter, generated from ``_config.yml`` (setup page).

The cell installs the book's package from the repository the site is published from, plus TensorRT
and cuda-python, only when it runs in Colab, and says how to switch on a GPU runtime. It is tagged so
that nbval and Jupyter Book skip it. ``tests/test_book.py`` checks every chapter carries exactly this
cell, so changing the repository setting and running ``python -m trtfaq colab-cells`` updates all.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

TAGS = ["nbval-skip", "skip-execution", "hide-cell"]
#: Colab's runtimes ship CUDA 12 drivers; TensorRT 10.x and 11.x both have cu12 wheels. The pins of
#: TensorRT and cuda-python are the package's ``gpu-cu12`` extra (pyproject.toml).
EXTRA = "gpu-cu12"


def repository_url(config: Path) -> str:
    """``repository.url`` from the book's ``_config.yml`` (read without a YAML dependency)."""
    text = Path(config).read_text(encoding="utf-8")
    m = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", text, re.MULTILINE)
    if not m:
        raise ValueError(f"{config} has no repository.url")
    return m.group(1).strip("'\"").rstrip("/")


def install_cell_source(repo_url: str) -> str:
    return "\n".join([
        "# Colab only: install the book's helpers and TensorRT, and check for a GPU runtime.",
        "import subprocess",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",',
        f'                    "trtfaq[{EXTRA}] @ git+{repo_url}"], check=True)',
        '    if subprocess.run(["nvidia-smi"], capture_output=True).returncode != 0:',
        '        print("No GPU runtime: choose Runtime > Change runtime type > GPU, then run all cells again.")',
    ])


def is_install_cell(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "Colab only:" in "".join(cell.get("source", ""))


def update_notebook(path: Path, repo_url: str) -> bool:
    """Put the install cell first in ``path`` (replacing an old one); True if the file changed."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cell: dict = {"cell_type": "code", "execution_count": None, "metadata": {"tags": TAGS}, "outputs": [],
            "source": install_cell_source(repo_url)}
    cells = nb["cells"]
    code_index = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
    if code_index < len(cells) and is_install_cell(cells[code_index]) \
            and "".join(cells[code_index]["source"]) == cell["source"] \
            and cells[code_index].get("metadata", {}).get("tags") == TAGS:
        return False  # up to date: keep its stored execution state (it runs and does nothing outside Colab)
    before = json.dumps(nb, sort_keys=True)
    if code_index < len(cells) and is_install_cell(cells[code_index]):
        cell["id"] = cells[code_index].get("id", "colab-install")
        cells[code_index] = cell
    else:
        cell["id"] = "colab-install"
        cells.insert(code_index, cell)
    if json.dumps(nb, sort_keys=True) == before:
        return False
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return True
