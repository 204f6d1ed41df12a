"""Fixed-width text tables for notebook output (every chapter).

One helper instead of hand-tuned f-string widths: columns are as wide as their longest cell, numbers
are right-aligned and text left-aligned, so the table stays aligned whatever the names.
"""
from __future__ import annotations

import re

from .errors import InputError

_NUMBER = re.compile(r"^[-+]?(?:\d[\d,]*\.?\d*|\.\d+)(?:e[-+]?\d+)?\s*(?:%|x|us|ms|s|µs|TB/s|TFLOP/s)?$", re.I)


def _is_number(text: str) -> bool:
    return bool(_NUMBER.match(text.strip())) or text.strip().lower() in ("-", "nan", "inf", "-inf", "nan/inf")


def table(header: list[str], rows: list[list], align: str | None = None) -> str:
    """``header`` and ``rows`` (cells formatted by the caller, or any value, shown with ``str``) as a
    text table with a rule under the header. ``align``: one ``<`` or ``>`` per column; by default
    columns whose cells are all numbers (with an optional unit or %) are right-aligned."""
    cells = [[str(c) for c in row] for row in rows]
    n = len(header)
    bad = next((i for i, row in enumerate(cells) if len(row) != n), None)
    if bad is not None:
        raise InputError(f"table row {bad} has {len(cells[bad])} cells, the header has {n}")
    if align is None:
        align = "".join(">" if cells and all(_is_number(r[j]) for r in cells) else "<" for j in range(n))
    if len(align) != n or set(align) - {"<", ">"}:
        raise InputError(f"align needs one '<' or '>' per column ({n}), got {align!r}")
    widths = [max(len(str(header[j])), *(len(r[j]) for r in cells)) for j in range(n)]

    def line(row):
        return "  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths)).rstrip()

    return "\n".join([line([str(h) for h in header]), "  ".join("-" * w for w in widths)] + [line(r) for r in cells])
