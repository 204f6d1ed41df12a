"""The Colab install cell at the top of every chapter, generated from ``_config.yml`` (setup page).

The cell installs the book's package from the repository the site is published from, plus TensorRT
and cuda-python, only when it runs in Colab, and says how to switch on a GPU runtime. It is tagged so
that nbval and Jupyter Book skip it. ``tests/test_book.py`` checks every chapter carries exactly this
cell, so changing the repository setting and running ``python -m trtfaq colab-cells`` updates all.
Every notebook is read and checked before any is written, and each is written atomically.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from ..errors import BookError

TAGS = ["nbval-skip", "skip-execution", "hide-cell"]
#: Colab's runtimes ship CUDA 12 drivers; TensorRT 10.x and 11.x both have cu12 wheels. The pins of
#: TensorRT and cuda-python are the package's ``gpu-cu12`` extra (pyproject.toml).
EXTRA = "gpu-cu12"


def repository_url(config: Path) -> str:
    """``repository.url`` from the book's ``_config.yml`` (read without a YAML dependency)."""
    if not isinstance(config, (str, Path)) or not str(config).strip():
        raise BookError(f"expected the path of _config.yml, got {config!r}")
    config = Path(config)
    try:
        text = config.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BookError(f"{config} does not exist: pass --root, the book's folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BookError(f"cannot read {config}: {exc}") from None
    m = re.search(r"^repository:\s*\n(?:[ \t]+.*\n)*?[ \t]+url:\s*(\S+)", text, re.MULTILINE)
    if not m:
        raise BookError(f"{config.name} has no repository.url: set it to the GitHub repository of the site")
    url = m.group(1).strip("'\"").rstrip("/")
    if not re.fullmatch(r"https://[A-Za-z0-9.-]+/[A-Za-z0-9._~/-]+", url):
        raise BookError(f"repository.url {url!r} in {config.name} is not an https URL of a repository")
    return url


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


FIRST_LINE = "# Colab only: install the book's helpers and TensorRT, and check for a GPU runtime."


def is_install_cell(cell: dict) -> bool:
    """The book's own install cell: a code cell whose first line is the install cell's (a reader's
    cell that merely mentions Colab is never taken for it)."""
    if not isinstance(cell, dict):
        return False
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    return cell.get("cell_type") == "code" and source.startswith(FIRST_LINE)


def _read(path: Path) -> dict:
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BookError(f"cannot read {Path(path).name}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BookError(f"{Path(path).name} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list) or \
            not all(isinstance(c, dict) and "cell_type" in c for c in nb["cells"]):
        raise BookError(f"{Path(path).name} is not a Jupyter notebook (no list of cells)")
    return nb


def updated(nb: dict, repo_url: str) -> dict | None:
    """``nb`` with the install cell first among its code cells (replacing the book's old one, never a
    reader's cell); ``None`` if it is already up to date."""
    if not isinstance(repo_url, str) or not repo_url.startswith("https://"):
        raise BookError(f"the repository URL must be an https URL, got {repo_url!r}")
    cell: dict = {"cell_type": "code", "execution_count": None, "metadata": {"tags": TAGS}, "outputs": [],
                  "source": install_cell_source(repo_url)}
    nb = json.loads(json.dumps(nb))
    cells = nb["cells"]
    code_index = next((i for i, c in enumerate(cells) if c.get("cell_type") == "code"), len(cells))
    if code_index < len(cells) and is_install_cell(cells[code_index]) \
            and "".join(cells[code_index]["source"]) == cell["source"] \
            and cells[code_index].get("metadata", {}).get("tags") == TAGS:
        return None  # up to date: keep its stored execution state (it runs and does nothing outside Colab)
    if code_index < len(cells) and is_install_cell(cells[code_index]):
        cell["id"] = cells[code_index].get("id", "colab-install")
        cells[code_index] = cell
    else:
        ids = {c.get("id") for c in cells}
        cell["id"] = "colab-install" if "colab-install" not in ids else "colab-install-cell"
        cells.insert(code_index, cell)
    return nb


def update_notebook(path: Path, repo_url: str) -> bool:
    """Put the install cell first in ``path`` (replacing an old one); True if the file changed. The file
    is written to a temporary name and renamed."""
    from ..cache import write_atomic

    if not isinstance(path, (str, Path)):
        raise BookError(f"expected the path of a notebook, got {path!r}")
    nb = updated(_read(path), repo_url)
    if nb is None:
        return False
    write_atomic(Path(path), (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return True


def main(root: Path) -> int:
    """``python -m trtfaq colab-cells``: check every chapter first, then rewrite those that need it, each
    atomically; an invalid notebook stops the command before any file changes."""
    from ..cache import write_atomic

    if not isinstance(root, (str, Path)):
        raise BookError(f"--root must be a folder, got {root!r}")
    root = Path(root)
    url = repository_url(root / "_config.yml")
    notebooks = sorted((root / "notebooks").glob("*.ipynb"))
    if not notebooks:
        raise BookError(f"no notebooks in {root / 'notebooks'}: pass --root, the book's folder")
    changes = []
    for nb_path in notebooks:  # read and check all before writing any
        nb = updated(_read(nb_path), url)
        if nb is not None:
            changes.append((nb_path, nb))
    for nb_path, nb in changes:
        try:
            write_atomic(nb_path, (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
        except OSError as exc:
            raise BookError(f"cannot write {nb_path.name}: {exc.strerror or exc}") from None
        print(f"updated {nb_path}")
    return 0
