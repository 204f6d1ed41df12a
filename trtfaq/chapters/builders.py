"""Chapter 11: reading the recorded tactic-timing run (GPU, not TensorRT) and the build-time table."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def rankings(data: dict) -> list[list]:
    """Rows (condition, candidate order fastest first, median ms of each, spread max/min of medians) from the
    ``data`` of a ch11-tactic-timing run."""
    conds = data.get("timings_ms") if isinstance(data, dict) else None
    if not isinstance(conds, dict) or not conds:
        raise InputError("this result has no data.timings_ms: is it a ch11-tactic-timing run?")
    rows = []
    for cond, per in conds.items():
        if not per or any(not v for v in per.values()):
            raise InputError(f"condition {cond!r} has a candidate without samples")
        if not all(np.all(np.isfinite(v)) and min(v) > 0 for v in per.values()):
            raise InputError(f"condition {cond!r} has non-finite or non-positive timings")
        med = {name: float(np.median(v)) for name, v in per.items()}
        order = sorted(med, key=med.get)
        rows.append([cond, " < ".join(order), ", ".join(f"{med[n]:.3f}" for n in order),
                     f"{max(med.values()) / min(med.values()):.2f}x"])
    return rows


def show(data: dict, caption: str):
    """Box plot of each candidate's samples per condition; ``caption`` names the recorded run."""
    import matplotlib.pyplot as plt

    rankings(data)                                 # the same checks, one-line errors
    conds = data["timings_ms"]
    fig, axes = plt.subplots(1, len(conds), figsize=(3 * len(conds), 3), sharey=False)
    for ax, (cond, per) in zip(np.atleast_1d(axes), conds.items()):
        ax.boxplot(list(per.values()))
        ax.set_xticks(range(1, len(per) + 1), list(per))
        ax.set_title(cond, fontsize=9)
        ax.set_ylabel("ms per GEMM")
    fig.suptitle(caption, fontsize=7, wrap=True)
    fig.tight_layout()
    return fig
