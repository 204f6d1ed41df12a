"""Chapter 4: TensorRT on several GPUs. The engine cache's per-device plan keys, and the recorded GPU runs
(``ch04-devices``, ``ch04-throughput``: CUDA through cuda-python, CuPy and PyTorch, not TensorRT) read back
as tables and a figure.
"""
from __future__ import annotations

import numpy as np

from ..errors import ResultError
from ..tables import table


def plan_keys(onnx_bytes: bytes, config, version: str, devices: dict[str, str]) -> str:
    """The engine-cache key (:func:`trtfaq.cache.engine_key`) of one model and build config on each device,
    given as ``{label: device key}`` in the form :func:`trtfaq.cuda.device_key` writes them."""
    from ..cache import engine_key

    rows = [[label, key, engine_key(onnx_bytes, config.as_key(), version, key)[:16]] for label, key in devices.items()]
    return table(["GPU", "device key", "plan cache key"], rows)


# ----- ch04-devices ---------------------------------------------------------------------------------
def _data(result, experiment: str) -> dict:
    if result.experiment != experiment:
        raise ResultError(f"expected a {experiment} run, got {result.experiment}")
    return result.data


def _bus(text: str) -> tuple[int, int, int]:
    """(domain, bus, device) of a PCI bus id written as CUDA ("0000:41:00") or nvidia-smi ("00000000:41:00.0")
    writes it."""
    domain, bus, device = text.split(".")[0].split(":")
    return int(domain, 16), int(bus, 16), int(device, 16)


def _value(v) -> str:
    return "(as the recorder's environment)" if v is None else repr(v)


def visible_table(result) -> str:
    """One row per ``CUDA_VISIBLE_DEVICES`` value the recorder tried: the devices the process saw, in CUDA's
    order, by PCI bus id (the number a process uses is its row position)."""
    data = _data(result, "ch04-devices")
    smi = {_bus(d["pci_bus_id"]): d["index"] for d in data["nvidia_smi"]}
    rows = []
    for run in data["visible_devices"]:
        value = run["CUDA_VISIBLE_DEVICES"]
        label = f"{value[:12]}... (a UUID)" if isinstance(value, str) and value.startswith("GPU-") else _value(value)
        seen = [f"{d['index']} = {d['pci_bus_id']} (nvidia-smi {smi.get(_bus(d['pci_bus_id']), '?')})"
                for d in run["devices"]]
        rows.append([label, run["count"], "; ".join(seen) or "-", run["error"] or ""])
    return table(["CUDA_VISIBLE_DEVICES", "devices", "CUDA device = PCI bus id", "error"], rows, align="<><<")


def numbering_lines(result) -> str:
    """nvidia-smi's list with ``CUDA_VISIBLE_DEVICES`` set (does nvidia-smi apply it? the run shows), and CUDA's
    order under ``CUDA_DEVICE_ORDER=FASTEST_FIRST`` (CUDA's default) and ``PCI_BUS_ID``."""
    data = _data(result, "ch04-devices")
    smi = data["nvidia_smi_with_CUDA_VISIBLE_DEVICES"]
    listed = ", ".join(f"{d['index']} = {d['pci_bus_id']}" for d in smi["listed"])
    lines = [f"nvidia-smi with CUDA_VISIBLE_DEVICES={smi['value']!r}: lists {len(smi['listed'])} GPU(s): {listed}"]
    parent = {k: v for k, v in data.get("recorder_environment", {}).items() if v is not None}
    if parent:
        lines.append("the recorder ran with " + ", ".join(f"{k}={v!r}" for k, v in parent.items()))
    for run in data["device_order"]:
        lines.append(f"CUDA_DEVICE_ORDER={run['CUDA_DEVICE_ORDER']}: "
                     + ", ".join(f"{d['index']} = {d['pci_bus_id']}" for d in run["devices"]))
    return "\n".join(lines)


def thread_line(result) -> str:
    """What a new thread's current device was after the main thread selected another one."""
    t = _data(result, "ch04-devices")["thread_start"]
    return (f"main thread: cudaSetDevice({t['main_thread_set']}), still device {t['main_thread_after']} after the "
            f"new thread ran; new thread: cudaGetDevice() = {t['new_thread_device']}")


def wrong_stream_lines(result) -> str:
    """What happened to work put on a stream of device 1 while device 0 was current (two GPUs only)."""
    w = _data(result, "ch04-devices")["wrong_stream"]
    if "skipped" in w:
        return f"stream of device 1 with device 0 current: not recorded ({w['skipped']})"
    lines = []
    cupy = w.get("cupy", {})
    if "skipped" in cupy:
        lines.append(f"CuPy: {cupy['skipped']}")
    elif cupy.get("error"):
        lines.append(f"CuPy, kernel on device 1's stream, device 0 current: {cupy['error']}")
    else:
        lines.append(f"CuPy, kernel on device 1's stream, device 0 current: no error (result on device "
                     f"{cupy.get('result_device')})")
    t = w.get("torch", {})
    if t.get("error"):
        lines.append(f"PyTorch: {t['error']}")
    elif t:
        lines.append(f"PyTorch, inside torch.cuda.stream(stream of device 1) with device 0 selected: current device "
                     f"{t['current_device_inside_stream_context']} (after the block: {t['current_device_after']})")
    return "\n".join(lines)


# ----- ch04-throughput ------------------------------------------------------------------------------
def _tflops(flops: float, ms) -> np.ndarray:
    return flops / (np.asarray(ms, np.float64) * 1e-3) / 1e12


def throughput_rows(result) -> list[dict]:
    """Per configuration: the devices the workers used, aggregate TFLOP/s (median, p10, p90 over samples) and
    that median as a share of one GPU's measured ceiling and of the ceiling of every GPU in the run."""
    data = _data(result, "ch04-throughput")
    flops = float(data["gemm"]["flops"])
    per_sample = flops * data["gemm"]["per_worker_per_sample"] * data["workers"]
    ceilings = {c["device"]: float(np.median(_tflops(flops, c["samples_ms"]))) for c in data["ceiling"]}
    if not ceilings:
        raise ResultError("the ch04-throughput run has no ceiling measurement")
    rows = []
    for cfg in data["configs"]:
        rate = _tflops(per_sample, cfg["samples_ms"])
        used = [w["device"] for w in cfg["workers"]]
        p10, med, p90 = np.percentile(rate, [10, 50, 90])
        rows.append({"label": "set_device per worker" if cfg["set_device"] else "no set_device",
                     "devices": used, "start_devices": [w["start_device"] for w in cfg["workers"]],
                     "per_device": _per_device(flops * data["gemm"]["per_worker_per_sample"], cfg["workers"]),
                     "median": float(med), "p10": float(p10), "p90": float(p90),
                     "of_one_gpu": float(med / ceilings[min(ceilings)]),
                     "of_all_gpus": float(med / sum(ceilings.values()))})
    return rows


def _per_device(per_worker_flops: float, workers: list[dict]) -> dict[int, float]:
    """TFLOP/s each device delivered: the sum over its workers of their median rate (per-worker CUDA events)."""
    out: dict[int, float] = {}
    for w in workers:
        if not w.get("samples_ms"):
            raise ResultError(f"a worker on device {w.get('device')} has no samples")
        out[w["device"]] = out.get(w["device"], 0.0) + float(np.median(_tflops(per_worker_flops, w["samples_ms"])))
    return out


def ceiling_tflops(result) -> dict[int, float]:
    """Median TFLOP/s of one FP16 product on each device (the measured ceiling)."""
    data = _data(result, "ch04-throughput")
    return {c["device"]: float(np.median(_tflops(float(data["gemm"]["flops"]), c["samples_ms"])))
            for c in data["ceiling"]}


def throughput_table(result) -> str:
    rows = throughput_rows(result)
    ceil = ceiling_tflops(result)
    def per_gpu(r):
        return ", ".join(f"{d}: {r['per_device'][d]:.0f} ({100 * r['per_device'][d] / ceil[d]:.0f}%)"
                         if d in r["per_device"] else f"{d}: none" for d in sorted(ceil))

    lines = table(["workers", "devices used", "start devices", "total TFLOP/s (median)", "p10-p90", "% of one GPU",
                   "% of all GPUs", "per GPU: TFLOP/s (% of its ceiling)"],
                  [[r["label"], ", ".join(map(str, r["devices"])), ", ".join(map(str, r["start_devices"])),
                    f"{r['median']:.0f}", f"{r['p10']:.0f}-{r['p90']:.0f}", f"{100 * r['of_one_gpu']:.0f}%",
                    f"{100 * r['of_all_gpus']:.0f}%", per_gpu(r)] for r in rows])
    ceilings = ", ".join(f"device {d}: {v:.0f} TFLOP/s" for d, v in sorted(ceil.items()))
    return (f"measured ceiling, one FP16 product at a time: {ceilings}\n{lines}\n"
            "total: wall clock over both workers; per GPU: sum of its workers' medians (their CUDA events)")


def show_throughput(result) -> None:
    """Aggregate throughput of the two worker configurations against one GPU's and all GPUs' ceilings."""
    import matplotlib.pyplot as plt

    from .. import plots

    rows = throughput_rows(result)
    ceil = ceiling_tflops(result)
    with plots.style():
        fig, ax = plt.subplots(figsize=(6.4, 3.4), layout="constrained")
        x = np.arange(len(rows))
        med = [r["median"] for r in rows]
        err = [[r["median"] - r["p10"] for r in rows], [r["p90"] - r["median"] for r in rows]]
        ax.bar(x, med, yerr=err, color=["C0", "C1"][:len(rows)], capsize=4)
        ax.set_xticks(x, [f"{r['label']}\n(devices {', '.join(map(str, r['devices']))})" for r in rows], fontsize=8)
        one = ceil[min(ceil)]
        ax.axhline(one, color="0.3", ls="--", lw=0.8)
        ax.annotate("one GPU's ceiling", (x[-1] + 0.4, one), fontsize=7, va="bottom", ha="right")
        if len(ceil) > 1:
            total = sum(ceil.values())
            ax.axhline(total, color="C2", ls="--", lw=0.8)
            ax.annotate(f"{len(ceil)} GPUs' ceiling", (x[-1] + 0.4, total), fontsize=7, va="bottom", ha="right",
                        color="C2")
        ax.set_ylabel("aggregate FP16 TFLOP/s")
        ax.set_title(f"{result.data['workers']} worker threads on {len(ceil)} GPU{'s' if len(ceil) > 1 else ''}",
                     fontsize=9)
        plots.source_note(ax, f"{result.label} ({len(ceil)} x {result.provenance['gpu']}, "
                              f"{result.provenance['created'][:10]})")
        plt.show()


# ----- ch04-pool --------------------------------------------------------------------------------------
def pool_table(result) -> str:
    """Per device of a ``ch04-pool`` run: where the pool's worker made work land, and the plan-cache key;
    :class:`ResultError` if a worker failed, work landed on another GPU, or two devices share a key."""
    data = _data(result, "ch04-pool")
    if data.get("errors"):
        raise ResultError(f"{result.path.name}: {data['errors'][0]}")
    rows = [w for w in data.get("workers", []) if w is not None]
    if not rows:
        raise ResultError(f"{result.path.name}: no worker recorded anything")
    for w in rows:
        if not w["pool_device"] == w["torch_current_device"] == w["work_landed_on"]:
            raise ResultError(f"{result.path.name}: work for device {w['pool_device']} landed on "
                              f"device {w['work_landed_on']}")
    if len({w["plan_cache_key"] for w in rows}) != len(rows):
        raise ResultError(f"{result.path.name}: two devices share one plan-cache key")
    return table(["pool device", "PyTorch's current device", "work landed on", "PCI bus id", "plan-cache key"],
                 [[w["pool_device"], w["torch_current_device"], w["work_landed_on"], w["pci_bus_id"],
                   w["plan_cache_key"]] for w in rows], align=">>><<")
