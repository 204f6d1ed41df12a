"""Chapter 11: reading the recorded tactic-timing run (GPU, not TensorRT) and the build-time table."""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def ceiling_tflops(data: dict) -> float | None:
    """Median TFLOP/s of the run's measured ceiling (an 8192^3 FP16 GEMM alone), None in runs without one."""
    ceiling = data.get("ceiling") if isinstance(data, dict) else None
    if ceiling is None:
        return None
    ms = ceiling.get("timings_ms") if isinstance(ceiling, dict) else None
    flops = ceiling.get("flops_per_gemm") if isinstance(ceiling, dict) else None
    if not ms or not isinstance(flops, (int, float)) or flops <= 0 or not np.all(np.isfinite(ms)) or min(ms) <= 0:
        raise InputError("data.ceiling needs positive finite timings_ms and flops_per_gemm")
    return flops / (float(np.median(ms)) * 1e-3) / 1e12


def percent_of_ceiling(data: dict, ms) -> np.ndarray:
    """Each time in ``ms`` (one candidate GEMM) as a percentage of the run's measured ceiling."""
    top = ceiling_tflops(data)
    flops = data.get("flops_per_gemm")
    if top is None or not isinstance(flops, (int, float)) or flops <= 0:
        raise InputError("this run has no measured ceiling (data.ceiling) or no flops_per_gemm")
    return 100 * flops / (np.asarray(ms, dtype=float) * 1e-3) / 1e12 / top


def rankings(data: dict) -> list[list]:
    """Rows (condition, candidate order fastest first, median ms of each, median % of the measured ceiling of
    each ("-" in runs without one), spread max/min of medians) from the ``data`` of a ch11-tactic-timing run."""
    conds = data.get("timings_ms") if isinstance(data, dict) else None
    if not isinstance(conds, dict) or not conds:
        raise InputError("this result has no data.timings_ms: is it a ch11-tactic-timing run?")
    rows = []
    for cond in _order(conds):
        per = conds[cond]
        if not per or any(not v for v in per.values()):
            raise InputError(f"condition {cond!r} has a candidate without samples")
        if not all(np.all(np.isfinite(v)) and min(v) > 0 for v in per.values()):
            raise InputError(f"condition {cond!r} has non-finite or non-positive timings")
        med = {name: float(np.median(v)) for name, v in per.items()}
        order = sorted(med, key=lambda name: med[name])
        pct = ", ".join(f"{percent_of_ceiling(data, med[n]):.0f}" for n in order) \
            if ceiling_tflops(data) is not None else "-"
        rows.append([cond, " < ".join(order), ", ".join(f"{med[n]:.3f}" for n in order), pct,
                     f"{max(med.values()) / min(med.values()):.2f}x"])
    return rows


def _order(conds: dict) -> list[str]:
    """Conditions with the runs alone first (a stored document's keys come back sorted alphabetically)."""
    return sorted(conds, key=lambda c: (not c.startswith("alone"), c))


def load_notes(data: dict) -> str:
    """Whether the background load lasted through the timing, and per busy condition how many of each candidate's
    samples stayed within 1.5x of its median alone (samples the load did not reach)."""
    rankings(data)                                 # the same checks, one-line errors
    conds = data["timings_ms"]
    alone = [c for c in conds if c.startswith("alone")]
    if not alone:
        raise InputError("this result has no condition timed alone: nothing to compare the busy ones with")
    base = {n: float(np.median(conds[alone[0]][n])) for n in conds[alone[0]]}
    lines = []
    still = data.get("busy_streams_still_busy_after_timing", {})
    for cond in _order(conds):
        if cond in alone:
            continue
        state = ("" if cond not in still else
                 f"; its streams still busy when the timing ended: {'yes' if still[cond] else 'no'}")
        if cond == "busy process" and "busy_process_alive_during_timing" in data:
            alive = data["busy_process_alive_during_timing"]
            state = f"; the busy process alive throughout: {'yes' if alive else 'no'}"
        near = ", ".join(f"{n} {sum(v <= 1.5 * base[n] for v in s)}/{len(s)}"
                         for n, s in conds[cond].items() if n in base)
        lines.append(f"{cond}: samples within 1.5x of the median alone: {near}{state}")
    return "\n".join(lines)


def show(data: dict, caption: str):
    """Box plot of each candidate's samples per condition; ``caption`` names the recorded run."""
    import matplotlib.pyplot as plt

    rankings(data)                                 # the same checks, one-line errors
    conds = data["timings_ms"]
    pct = ceiling_tflops(data) is not None
    fig, axes = plt.subplots(1, len(conds), figsize=(3 * len(conds), 3), sharey=False)
    for ax, cond in zip(np.atleast_1d(axes), _order(conds)):
        per = conds[cond]
        ax.boxplot([percent_of_ceiling(data, v) if pct else v for v in per.values()])
        ax.set_xticks(range(1, len(per) + 1), list(per))
        ax.set_title(cond, fontsize=9)
        ax.set_ylabel("% of measured ceiling" if pct else "ms per GEMM")
    fig.suptitle(caption, fontsize=7, wrap=True)
    fig.tight_layout()
    return fig
