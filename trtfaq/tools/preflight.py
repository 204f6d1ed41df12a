"""``python -m trtfaq run-all``: execute every chapter of the book and write a report (instructor page).

Runs each notebook listed in ``_toc.yml`` top to bottom in a fresh kernel (nbclient), on copies, so
the committed notebooks are not touched. Prints one progress line per chapter and writes a Markdown
report: status, time, TensorRT cells skipped on this machine, and the first error.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

SKIP_MARK = "skipped (see Setup)"


def toc_notebooks(root: Path) -> list[str]:
    """The ``notebooks/...`` entries of ``_toc.yml``, in reading order."""
    text = (Path(root) / "_toc.yml").read_text(encoding="utf-8")
    return re.findall(r"file:\s*(notebooks/\S+)", text)


@dataclass
class ChapterRun:
    chapter: str
    status: str       # "ok" or "FAILED"
    seconds: float
    cells: int
    skipped: int      # cells that printed a "skipped (see Setup)" line
    error: str = ""


def run_notebook(path: Path, timeout: int = 600) -> ChapterRun:
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(path.parent)}})
    status, error = "ok", ""
    try:
        client.execute()
    except Exception as exc:  # CellExecutionError and kernel failures
        status = "FAILED"
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()  # no terminal colours
        error = next((line for line in reversed(text) if line.strip()), type(exc).__name__)[:300]
        error = error.replace("|", "\\|")  # keep the Markdown table intact
    code = [c for c in nb.cells if c.cell_type == "code"]
    skipped = sum(any(SKIP_MARK in o.get("text", "") for o in c.get("outputs", [])) for c in code)
    return ChapterRun(path.stem, status, time.perf_counter() - start, len(code), skipped, error)


def report(results: list[ChapterRun], environment: str) -> str:
    lines = ["# Preflight report", "", "Environment:", "", "```", environment, "```", "",
             "| Chapter | Status | Time (s) | Code cells | TensorRT/GPU cells skipped | First error |",
             "|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r.chapter} | {r.status} | {r.seconds:.1f} | {r.cells} | {r.skipped} | {r.error} |")
    failed = sum(r.status != "ok" for r in results)
    lines += ["", f"{len(results) - failed} of {len(results)} chapters ran; {failed} failed.", ""]
    return "\n".join(lines)


def main(root: Path, out: Path, timeout: int = 600) -> int:
    from ..env import detect

    chapters = toc_notebooks(root)
    results = []
    for i, chapter in enumerate(chapters, start=1):
        print(f"[{i}/{len(chapters)}] {chapter} ...", end=" ", flush=True)
        r = run_notebook(Path(root) / f"{chapter}.ipynb", timeout)
        print(f"{r.status} ({r.seconds:.1f} s, {r.skipped} cells skipped)" + (f": {r.error}" if r.error else ""),
              flush=True)
        results.append(r)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(results, str(detect())), encoding="utf-8")
    print(f"Report: {out}")
    return 1 if any(r.status != "ok" for r in results) else 0

