"""``python -m trtfaq run-all``: execute every chapter of the book and write a report (instructor page).

Runs each notebook listed in ``_toc.yml`` top to bottom in a fresh kernel (nbclient), on copies, so
the committed notebooks are not touched. Prints one progress line per chapter and writes a Markdown
report: status, time, TensorRT cells skipped on this machine, and the first error (the failing
cell's number and its exception, or the time limit it ran past). Bad arguments (no book, no
chapters, a report path that cannot be written) are refused before any chapter runs. Ctrl-C stops
the run: the chapters done so far are reported, marked interrupted, and the exit code is 130.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import BookError

SKIP_MARK = "skipped (see Setup)"
INTERRUPTED = 130  # the shell's exit code for Ctrl-C


def toc_notebooks(root: Path) -> list[str]:
    """The ``notebooks/...`` entries of ``_toc.yml``, in reading order (quoted or not)."""
    if not isinstance(root, (str, Path)):
        raise BookError(f"root must be the book's folder, got {root!r}")
    toc = Path(root) / "_toc.yml"
    try:
        text = toc.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BookError(f"{toc} does not exist: pass --root, the book's folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BookError(f"cannot read {toc}: {exc}") from None
    entries = re.findall(r"""^\s*-?\s*file:\s*["']?(notebooks/[^"'\s#]+?)["']?\s*(?:#.*)?$""", text, re.MULTILINE)
    return [e[: -len(".ipynb")] if e.endswith(".ipynb") else e for e in entries]


@dataclass
class ChapterRun:
    chapter: str
    status: str       # "ok", "FAILED" or "INTERRUPTED"
    seconds: float
    cells: int
    skipped: int      # cells that printed a "skipped (see Setup)" line
    error: str = ""


def _one_line(text: object, limit: int = 300) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))  # no terminal colours
    return " ".join(text.split())[:limit]


def _failed_cell(nb) -> int | None:
    """1-based number (among code cells) of the cell holding an error output, if any."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return next((i for i, c in enumerate(code, start=1)
                 if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)


def run_notebook(path: Path, timeout: int = 600) -> ChapterRun:
    """Execute one notebook (a copy in memory); KeyboardInterrupt propagates, any failure is recorded."""
    import nbclient
    import nbformat
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if not isinstance(path, (str, Path)) or not Path(path).is_file():
        raise BookError(f"no notebook at {path!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise BookError(f"timeout must be a whole number of seconds > 0, got {timeout!r}")
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and OS errors
        return ChapterRun(path.stem, "FAILED", 0.0, 0, 0, f"cannot read the notebook: {_one_line(exc, 200)}")
    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    started: list[int] = []  # index (among all cells) of each cell as it starts
    client.on_cell_start = lambda cell, cell_index: started.append(cell_index)
    status, error = "ok", ""
    try:
        client.execute()
    except KeyboardInterrupt:
        raise
    except CellTimeoutError:
        status, error = "FAILED", f"cell {_code_number(nb, started)} ran past the {timeout} s limit per cell"
    except CellExecutionError as exc:
        if exc.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel too: the user stopped the run
            raise KeyboardInterrupt from None
        status = "FAILED"
        cell = _failed_cell(nb)
        error = f"cell {cell}: " if cell else ""
        error += _one_line(f"{exc.ename}: {exc.evalue}" if exc.ename else exc)
    except DeadKernelError as exc:
        status, error = "FAILED", f"the kernel died: {_one_line(exc, 200)}"
    except Exception as exc:  # kernel start-up failures and nbclient's own errors
        status, error = "FAILED", f"{type(exc).__name__}: {_one_line(exc, 250)}"
    code = [c for c in nb.cells if c.cell_type == "code"]
    skipped = sum(any(SKIP_MARK in o.get("text", "") for o in c.get("outputs", [])) for c in code)
    return ChapterRun(path.stem, status, time.perf_counter() - start, len(code), skipped, error)


def _code_number(nb, started: list[int]) -> int | str:
    """1-based number, among code cells, of the last cell that started."""
    if not started:
        return "?"
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return code.index(started[-1]) + 1 if started[-1] in code else "?"


def _cell_text(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def report(results: list[ChapterRun], environment: str, interrupted: bool = False) -> str:
    """The Markdown report of a run."""
    if not isinstance(results, list) or not all(isinstance(r, ChapterRun) for r in results):
        raise BookError("report takes the list of ChapterRun that run_notebook returns")
    if not isinstance(environment, str):
        raise BookError(f"environment must be text (str(env.detect())), got {type(environment).__name__}")
    lines = ["# Preflight report", "", "Environment:", "", "```", environment, "```", "",
             "| Chapter | Status | Time (s) | Code cells | TensorRT/GPU cells skipped | First error |",
             "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {_cell_text(r.chapter)} | {r.status} | {r.seconds:.1f} | {r.cells} | {r.skipped} "
                     f"| {_cell_text(r.error)} |")
    failed = sum(r.status != "ok" for r in results)
    lines += ["", f"{len(results) - failed} of {len(results)} chapters ran; {failed} failed."]
    if interrupted:
        lines.append("The run was interrupted (Ctrl-C): chapters after the last one listed did not run.")
    return "\n".join(lines + [""])


def _check_report_path(out: Path) -> None:
    """Refuse, before any chapter runs, a report path that cannot be written."""
    import os

    out = Path(out)
    if out.is_dir():
        raise BookError(f"--report {out} is a folder: give a file name, e.g. {out / 'preflight.md'}")
    parent = out.parent
    blocking = next((p for p in [parent, *parent.parents] if p.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise BookError(f"cannot write the report {out}: {blocking} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BookError(f"cannot create the report's folder {parent}: {exc.strerror or exc}") from None
    if not os.access(parent, os.W_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise BookError(f"cannot write the report {out}: permission denied")


def main(root: Path, out: Path, timeout: int = 600) -> int:
    """Run every chapter; 0 if all ran, 1 if any failed, 130 if interrupted."""
    from ..cache import write_atomic
    from ..env import detect

    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
        raise BookError(f"--timeout must be a whole number of seconds > 0, got {timeout!r}")
    root = Path(root)
    if not root.is_dir():
        raise BookError(f"--root {root} is not a folder")
    chapters = toc_notebooks(root)
    if not chapters:
        raise BookError(f"{root / '_toc.yml'} lists no notebooks/... chapters: nothing to run")
    missing = [c for c in chapters if not (root / f"{c}.ipynb").is_file()]
    if missing:
        raise BookError(f"_toc.yml lists {len(missing)} chapter(s) with no notebook: {', '.join(missing[:3])}")
    _check_report_path(out)
    results: list[ChapterRun] = []
    interrupted = False
    try:
        for i, chapter in enumerate(chapters, start=1):
            print(f"[{i}/{len(chapters)}] {chapter} ...", end=" ", flush=True)
            started = time.perf_counter()
            try:
                r = run_notebook(root / f"{chapter}.ipynb", timeout)
            except KeyboardInterrupt:
                results.append(ChapterRun(Path(chapter).name, "INTERRUPTED", time.perf_counter() - started, 0, 0,
                                          "stopped by Ctrl-C"))
                raise
            print(f"{r.status} ({r.seconds:.1f} s, {r.skipped} cells skipped)" + (f": {r.error}" if r.error else ""),
                  flush=True)
            results.append(r)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted (Ctrl-C)", flush=True)
    try:
        write_atomic(Path(out), report(results, str(detect()), interrupted).encode("utf-8"))
    except OSError as exc:
        raise BookError(f"cannot write the report {out}: {exc.strerror or exc}") from None
    print(f"Report: {out}")
    if interrupted:
        return INTERRUPTED
    return 1 if any(r.status != "ok" for r in results) else 0
