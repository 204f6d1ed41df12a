"""The book's figure style, and the caption line every figure carries (chapter 7 onwards)."""
from __future__ import annotations

import contextlib

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
    ax.annotate(f"Source: {text}", xy=(0, 0), xycoords="figure fraction", xytext=(6, 4),
                textcoords="offset points", fontsize=7, color="0.35", ha="left", va="bottom")


def latency_curve(ax, sizes, samples, label: str, per_sample: bool = True, **kwargs):
    """Median latency (per sample, by default) against batch size, with a p10-p90 band (chapter 1).

    ``samples`` holds one array of raw timings in milliseconds per size.
    """
    import numpy as np

    sizes = np.asarray(sizes, float)
    q = np.array([np.percentile(np.asarray(s, float), [10, 50, 90]) for s in samples]) * 1000.0  # us
    if per_sample:
        q = q / sizes[:, None]
    line, = ax.plot(sizes, q[:, 1], marker="o", ms=3, label=label, **kwargs)
    ax.fill_between(sizes, q[:, 0], q[:, 2], color=line.get_color(), alpha=0.2, lw=0)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size")
    ax.set_ylabel("latency per sample (us)" if per_sample else "latency (us)")
    return line
