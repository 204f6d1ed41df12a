"""The book's API checker (``python -m trtfaq check-api``) run on a snippet of code, its findings as tables
(chapter 2 onwards).

The checker compares every use of the ``tensorrt`` module with the real Python API of each target release
(shipped with the package as data) and reports, per release, what is missing or deprecated, since when, and
what to use instead. These helpers write the snippet to a temporary file, run the command with ``--json``
and turn its report into text tables.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from .errors import BookError
from .tables import table

#: the first line of every checked file: the snippets use the module as ``trt``
IMPORT = "import tensorrt as trt\n"


def check_code(code: str, targets=("10.16", "11.4"), filename: str = "trt8_code.py", preamble: str = "") -> list[dict]:
    """Findings of ``python -m trtfaq check-api --json`` (the book's checker against the real API of each target
    release) on ``code`` (chapter 2). The file checked, named ``filename`` in a temporary folder, is
    ``import tensorrt as trt``, then ``preamble`` (lines that give variables their TensorRT types), then
    ``code``; line numbers in the findings are ``code``'s, and findings about the preamble are left out."""
    before = (IMPORT + preamble).count("\n") if not preamble or preamble.endswith("\n") else None
    if before is None:
        raise BookError("the preamble must end with a newline")
    with tempfile.TemporaryDirectory(prefix="trtfaq-check-") as tmp:
        (Path(tmp) / filename).write_text(IMPORT + preamble + code)
        cmd = [sys.executable, "-m", "trtfaq", "check-api", "--json"]
        for t in targets:
            cmd += ["--target", t]
        res = subprocess.run(cmd + [filename], capture_output=True, text=True, cwd=tmp, timeout=300)
    if res.returncode not in (0, 1):
        last = (res.stderr.strip().splitlines() or [f"exit status {res.returncode}"])[-1]
        raise BookError(f"python -m trtfaq check-api failed: {last}")
    try:
        findings = list(json.loads(res.stdout)["findings"])
    except (ValueError, KeyError, TypeError):
        raise BookError("python -m trtfaq check-api --json printed something that is not its JSON report") from None
    return [{**f, "line": f["line"] - before} for f in findings if f["line"] > before]


def _short(release: str) -> str:
    return ".".join(release.split(".")[:2])


def findings_table(code: str, findings: list[dict], targets=("10.16", "11.4"), hints: bool = True) -> str:
    """One row per line and TensorRT name the checker reported: the line's code, what each target says
    ("removed", "deprecated" or "ok") and what to use instead (chapter 2)."""
    lines = code.splitlines()
    merged: dict[tuple, dict] = {}
    for f in findings:
        row = merged.setdefault((f["line"], f.get("owner"), f.get("name")), {"verdict": {}, "hint": ""})
        for release in f.get("releases", []):
            row["verdict"][_short(release)] = "removed" if f["severity"] in ("error", "maybe") else "deprecated"
        row["hint"] = row["hint"] or f.get("hint") or f.get("history") or ""
    rows = []
    for (line, _, _), row in sorted(merged.items(), key=lambda kv: kv[0][0]):
        src = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        cells = [line, src[:56] + ("..." if len(src) > 56 else "")] + [row["verdict"].get(t, "ok") for t in targets]
        if hints:
            cells.append(textwrap.shorten(row["hint"].replace("`", ""), 72, placeholder=" ..."))
        rows.append(cells)
    header = ["line", "code"] + [f"TensorRT {t}" for t in targets] + (["use instead"] if hints else [])
    return table(header, rows, align="><" + "<" * len(targets) + ("<" if hints else ""))


def availability_table(code: str, findings: list[dict], targets) -> str:
    """One row per line of ``code`` that names a TensorRT attribute: 'yes' where no target reported it,
    otherwise what the checker said (the name's history across releases) (chapter 2)."""
    by_line: dict[int, list[dict]] = {}
    for f in findings:
        by_line.setdefault(f["line"], []).append(f)
    rows = []
    for number, src in enumerate(code.splitlines(), start=1):
        names = re.findall(r"trt\.([A-Za-z_][\w.]*)|\.(\w+)\s*=|\.(\w+)\(", src)
        if not src.strip() or src.lstrip().startswith("#") or not names:
            continue
        found = by_line.get(number, [])
        cells = []
        for t in targets:
            hit = [f for f in found if any(_short(r) == t for r in f.get("releases", []))]
            cells.append("no" if any(f["severity"] in ("error", "maybe") for f in hit)
                         else "deprecated" if hit else "yes")
        histories = [f["history"].split(" (")[0] for f in found if f.get("history")]
        rows.append([src.strip()[:100]] + cells + [max(histories, key=len) if histories else ""])
    return table(["code"] + [f"TensorRT {t}" for t in targets] + ["history"], rows)
