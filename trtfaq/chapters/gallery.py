"""The results gallery: the timer check read back (the book's CUDA-event timer against
``triton.testing.do_bench`` on the same workloads)."""
from __future__ import annotations

from .. import timing
from ..errors import ResultError
from ..tables import table

#: the largest difference of medians, in percent, at which the book's timer counts as right
AGREEMENT_PERCENT = 3.0


def timer_check_table(result) -> str:
    """Both timers' medians per workload; :class:`ResultError` if any pair differs by 3 % or more."""
    rows = []
    for w in result.data["workloads"]:
        a = timing.summarize(w["book_timer"]["samples_ms"]).median
        b = timing.summarize(w["do_bench"]["samples_ms"]).median
        diff = 100 * (a - b) / b
        if abs(diff) >= AGREEMENT_PERCENT:
            raise ResultError(f"{result.path.name}: {w['workload']}: the timers disagree by {diff:+.1f} %")
        rows.append([w["workload"], f"{a:.4f} ms", f"{b:.4f} ms", f"{diff:+.2f}%"])
    return table(["workload", "book timer", "do_bench", "difference"], rows)
