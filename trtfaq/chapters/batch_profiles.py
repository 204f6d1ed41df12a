"""Chapter 1: optimization profiles. The recorded GPU runs read back (the tactic analog and the
batch curve) and the tables and figures of the live TensorRT timing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import plots, timing
from ..tables import table

#: the bucket strategy of the chapter: batch range -> the size its profile is tuned at (opt)
BUCKETS = (((1, 16), 8), ((17, 128), 64), ((129, 512), 512))


@dataclass(frozen=True)
class Tactics:
    """The ``ch01-tactics`` run reshaped: median GEMM time (ms) per (size, config), the best config
    per size, and the time of each profile strategy at every size."""

    sizes: list[int]
    best: dict[int, tuple]
    strategies: dict[str, list[float]]
    oracle: list[float]


def tactics(result) -> Tactics:
    """Which configuration a build tuned at each ``opt`` would keep, and what it costs elsewhere."""
    sizes = result.data["sizes"]
    configs = [tuple(c) for c in result.data["configs"]]
    median = {(r["size"], tuple(r["config"])): timing.summarize(r["samples_ms"]).median for r in result.data["runs"]}
    best = {m: min(configs, key=lambda c: median[(m, c)]) for m in sizes}

    def tuned_at(opt):  # the configuration a build at `opt` keeps, used for every size
        return [median[(m, best[opt])] for m in sizes]

    def bucketed(buckets):  # one profile per bucket, each tuned at its own opt
        return [median[(m, best[next(o for (lo, hi), o in buckets if lo <= m <= hi)])] for m in sizes]

    strategies = {"one profile, opt 512": tuned_at(512), "one profile, opt 8": tuned_at(8),
                  "buckets, opt 8 / 64 / 512": bucketed(BUCKETS)}
    return Tactics(sizes, best, strategies, [median[(m, best[m])] for m in sizes])


def tactics_table(t: Tactics) -> str:
    """Per batch size: the best configuration and each strategy's slowdown against it."""
    rows = [[m, str(t.best[m])] + [f"{v[i] / t.oracle[i]:.2f}x" for v in t.strategies.values()]
            for i, m in enumerate(t.sizes)]
    return table(["batch", "best config (BM, BN, BK, warps, stages)"] + list(t.strategies), rows)


def show_tactics(t: Tactics, result) -> None:
    """Latency and slowdown of each strategy against batch size."""
    import matplotlib.pyplot as plt

    with plots.style():
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6))
        for (name, lat), style in zip(t.strategies.items(), ("o-", "s-", "^-")):
            ax1.plot(t.sizes, np.array(lat) * 1000, style, ms=3, label=name)
            ax2.plot(t.sizes, np.array(lat) / np.array(t.oracle), style, ms=3, label=name)
        ax1.plot(t.sizes, np.array(t.oracle) * 1000, "k--", lw=1, label="best configuration per size")
        for ax in (ax1, ax2):
            ax.set_xscale("log", base=2)
            ax.set_xlabel("batch size")
        ax1.set_ylabel("GEMM latency (us)")
        ax2.set_ylabel("slowdown vs best per size")
        ax1.legend(fontsize=7)
        plots.source_note(ax1, f"Triton on {result.provenance['gpu']}, not TensorRT (recorded run)")
        fig.tight_layout()
        plt.show()


def ceilings(result) -> tuple[float, float]:
    """The measured copy bandwidth (bytes/s) and FP16 matrix rate (FLOP/s) of a batch-curve run."""
    c = result.data["ceilings"]
    bandwidth = c["copy"]["bytes_moved"] / (timing.summarize(c["copy"]["samples_ms"]).median / 1000)
    flops = c["gemm_fp16"]["flops"] / (timing.summarize(c["gemm_fp16"]["samples_ms"]).median / 1000)
    return bandwidth, flops


def batch_curve_table(result) -> str:
    """The MLP's latency per batch size, per sample, and as a percent of the measured ceilings."""
    c = result.data
    bandwidth, peak = ceilings(result)
    layers = c["model"]["layers"]
    rows = []
    for p in c["curve"]:
        m, t = p["size"], timing.summarize(p["samples_ms"]).median / 1000.0  # seconds
        moved = c["model"]["weights_bytes"] + 2 * m * sum(layers) * 2  # weights + activations, FP16
        rows.append([m, f"{t * 1e6:.1f} us", f"{t * 1e6 / m:.2f} us", f"{100 * moved / t / bandwidth:.0f}%",
                     f"{100 * m * c['model']['flops_per_sample'] / t / peak:.1f}%"])
    head = f"measured ceilings: copy {bandwidth / 1e12:.2f} TB/s, FP16 matrix product {peak / 1e12:.0f} TFLOP/s\n"
    return head + table(["batch", "latency", "per sample", "% of bandwidth", "% of FP16 peak"], rows)


def show_batch_curve(result) -> None:
    import matplotlib.pyplot as plt

    curve = result.data["curve"]
    with plots.style():
        fig, ax = plt.subplots()
        plots.latency_curve(ax, [p["size"] for p in curve], [p["samples_ms"] for p in curve], "MLP, FP16, CUDA graphs")
        ax.legend()
        plots.source_note(ax, f"PyTorch on {result.provenance['gpu']}, not TensorRT (recorded run)")
        fig.tight_layout()
        plt.show()


def live_table(sizes, samples) -> str:
    """Live TensorRT timings of one engine: median, p10-p90 and throughput per batch size."""
    rows = []
    for n, s in zip(sizes, samples):
        t = timing.summarize(s)
        rows.append([n, f"{t.median * 1000:.1f} us", f"{t.p10 * 1000:.1f}-{t.p90 * 1000:.1f} us",
                     f"{n / (t.median / 1000):,.0f}"])
    return table(["batch", "median", "p10-p90", "samples/s"], rows, align=">>>>")


def show_live(live: dict, sizes, note: str) -> None:
    """Latency per sample of each engine (``live``: name -> (BuildConfig, samples)), each profile's
    ``opt`` as a dotted line."""
    import matplotlib.pyplot as plt

    with plots.style():
        fig, ax = plt.subplots()
        for name, (cfg, samples) in live.items():
            line = plots.latency_curve(ax, sizes, samples, name)
            for p in cfg.profiles:
                ax.axvline(next(iter(p.values()))[1][0], color=line.get_color(), ls=":", lw=1)
        ax.legend()
        plots.source_note(ax, note)
        fig.tight_layout()
        plt.show()
