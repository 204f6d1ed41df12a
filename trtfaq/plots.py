"""The book's figure style, and the caption line every figure carries (chapter 1 onwards)."""
from __future__ import annotations

import contextlib
import math

from .errors import InputError

STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 110,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "legend.frameon": False,
    "svg.hashsalt": "trtfaq",  # stable SVG ids
}


@contextlib.contextmanager
def style():
    """``with plots.style(): ...`` draws in the book's style without changing global settings."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        yield


def source_note(ax, text: str) -> None:
    """Write where a figure's numbers come from under its axes (e.g. "numpy float16 on CPU")."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    _axes(ax)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"the source note must be a non-empty string, got {text!r}")
    fig = ax.figure
    if isinstance(fig.get_layout_engine(), ConstrainedLayoutEngine):
        # a figure-wide footer the constrained layout makes room for below every axes
        fig.supxlabel(f"Source: {text}", x=0.005, ha="left", fontsize=7, color="0.35")
        return
    ax.annotate(f"Source: {text}", xy=(0, 0), xycoords="figure fraction", xytext=(6, 4),
                textcoords="offset points", fontsize=7, color="0.35", ha="left", va="bottom")


def _axes(ax) -> None:
    from matplotlib.axes import Axes

    if not isinstance(ax, Axes):
        raise InputError(f"expected matplotlib axes (fig, ax = plt.subplots()), got {type(ax).__name__}")


def _timings(samples, what: str):
    import numpy as np

    try:
        a = np.asarray(samples, float)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers (milliseconds)") from None
    if a.ndim != 1 or a.size == 0:
        raise InputError(f"{what} must be a non-empty list of timings, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise InputError(f"{what} must be finite timings > 0 ms (log axes)")
    return a


def latency_curve(ax, sizes, samples, label: str, per_sample: bool = True, **kwargs):
    """Median latency (per sample, by default) against batch size, with a p10-p90 band (chapter 1).

    ``samples`` holds one array of raw timings in milliseconds per size.
    """
    import numpy as np

    _axes(ax)
    sizes = _timings(sizes, "sizes")
    if isinstance(samples, (str, bytes)) or not hasattr(samples, "__len__") or len(samples) != len(sizes):
        raise InputError(f"need one list of timings per size: {len(sizes)} sizes, "
                         f"{len(samples) if hasattr(samples, '__len__') else type(samples).__name__} lists")
    if not isinstance(label, str):
        raise InputError(f"label must be a string, got {type(label).__name__}")
    per_size = [_timings(s, f"samples for size {n:g}") for n, s in zip(sizes, samples)]
    q = np.array([np.percentile(s, [10, 50, 90]) for s in per_size]) * 1000.0  # us
    if per_sample:
        q = q / sizes[:, None]
    line, = ax.plot(sizes, q[:, 1], marker="o", ms=3, label=label, **kwargs)
    ax.fill_between(sizes, q[:, 0], q[:, 2], color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("latency per sample (us)" if per_sample else "latency (us)")
    return line


def tensor_errors(ax, rows, title: str, floor: float = 1e-6, threshold: float = 32.0):
    """One bar per tensor, in graph order: error relative to the tensor's largest reference value
    (chapter 6; ``rows`` from :func:`trtfaq.precision.compare_tensors`). Tensors holding inf or NaN
    get a red bar to the top, labelled "inf"; tensors whose error jumps past their inputs' by
    ``threshold`` or more (a divergence; 32 is :data:`trtfaq.precision.JUMP`) are orange."""
    import numpy as np

    _axes(ax)
    if isinstance(rows, (str, bytes, dict)) or not hasattr(rows, "__iter__"):
        raise InputError(f"rows must be the list compare_tensors returns, got {type(rows).__name__}")
    rows = list(rows)
    if not rows or not all(all(hasattr(r, a) for a in ("tensor", "scaled", "nonfinite", "jump")) for r in rows):
        raise InputError("rows must be a non-empty list from precision.compare_tensors")
    if isinstance(floor, bool) or not isinstance(floor, (int, float)) or not math.isfinite(floor) or not 0 < floor < 1:
        raise InputError(f"floor must be a number in (0, 1), got {floor!r}")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not threshold >= 1:
        raise InputError(f"threshold must be a number >= 1, got {threshold!r}")
    if not isinstance(title, str):
        raise InputError(f"title must be a string, got {type(title).__name__}")
    names = [r.tensor for r in rows]
    values = [max(r.scaled, floor) if math.isfinite(r.scaled) else floor for r in rows]
    top = 10.0
    colors = ["C3" if r.nonfinite else ("C1" if r.jump >= threshold else "C0") for r in rows]
    heights = [top if r.nonfinite else v for r, v in zip(rows, values)]
    ax.bar(np.arange(len(rows)), heights, color=colors)
    for i, r in enumerate(rows):
        if r.nonfinite:
            ax.annotate("inf", (i, top), ha="center", va="bottom", fontsize=7, color="C3")
    ax.set_yscale("log")
    ax.set_ylim(floor, top * 8)
    ax.axhline(2.0 ** -11, color="0.4", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(rows)), names, rotation=45, ha="right", fontsize=8)
    ax.set_title(title, fontsize=9)
