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


#: short labels of the ``timer-small`` methods, in the order the table shows them
SMALL_LABELS = {
    "per_call": "1 eager call per event pair (the old timer)",
    "eager_x20": "20 eager calls per event pair",
    "torch_graph_x20": "graph of 1 call, 20 launches per pair",
    "book_graph_x20": "time_graph: 20 calls in 1 graph (the book)",
    "reference": "reference: 100 calls in 1 graph",
}


def timer_small_rows(result) -> list[dict]:
    """Per batch and method of a ``timer-small`` run: median, p10-p90 and difference from the reference."""
    rows = []
    for run in result.data["runs"]:
        ref = timing.summarize(run["methods"]["reference"]["samples_ms"]).median
        order = [m for m in SMALL_LABELS if m in run["methods"]] + [m for m in run["methods"] if m not in SMALL_LABELS]
        for method in order:
            entry = run["methods"][method]
            if entry is None:
                rows.append({"batch": run["batch"], "method": method, "median_us": None, "diff_percent": None})
                continue
            t = timing.summarize(entry["samples_ms"])
            rows.append({"batch": run["batch"], "method": method, "median_us": t.median * 1000,
                         "p10_us": t.p10 * 1000, "p90_us": t.p90 * 1000,
                         "diff_percent": 100 * (t.median - ref) / ref})
    return rows


def timer_small_table(result) -> str:
    """:func:`timer_small_rows` as a table; :class:`ResultError` if the book's graph timing is missing or
    3 % or more off the reference."""
    rows = timer_small_rows(result)
    for r in rows:
        off = r["diff_percent"]
        if r["method"] == "book_graph_x20" and (off is None or abs(off) >= AGREEMENT_PERCENT):
            got = "missing" if off is None else f"{off:+.1f} %"
            raise ResultError(f"{result.path.name}: batch {r['batch']}: the book's graph timing is {got} "
                              "off the reference")
    return table(["batch", "method", "median", "p10-p90", "vs reference"],
                 [[r["batch"], SMALL_LABELS.get(r["method"], r["method"]),
                   "-" if r["median_us"] is None else f"{r['median_us']:.2f} us",
                   "-" if r["median_us"] is None else f"{r['p10_us']:.2f}-{r['p90_us']:.2f} us",
                   "-" if r["diff_percent"] is None else f"{r['diff_percent']:+.1f}%"] for r in rows],
                 align="><>>>")
