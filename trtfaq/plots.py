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
