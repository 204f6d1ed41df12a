"""Chapter 12's GPU evidence: which kernels cuBLAS and cuDNN pick, and whether they use the tensor
pipe (PyTorch on a CUDA GPU, Nsight Compute where it runs; not TensorRT).

- ``tensor_cores`` (``python -m trtfaq record ch12-tensor-cores``, about a minute on an H100):
  FP16 GEMM 8192 x 8192 x K for K = 4096, 4088, 4104 (multiples of 8) and 4095, 4097 (not); FP32 GEMM
  with TF32 off and on, each with its error against float64; an FP16 3x3 convolution (NHWC, cuDNN
  autotuned) with 3, 4, 8, 16, 32 and 64 input channels. Every case: the kernels (torch.profiler, the
  longest first), the time (CUDA graph of several launches per sample), FLOPs and bytes for the
  percent-of-ceiling columns; the run also measures the ceilings.
- ``tensor_pipe`` (``python -m trtfaq record ch12-tensor-pipe``, needs ``ncu`` on PATH): the same
  cases launched once each under Nsight Compute (``--clock-control none``), reading the tensor-pipe
  and FMA-pipe counters the installed ncu offers for this GPU. A marker kernel launched before each
  case tells the cases apart in ncu's output.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import results
from ..errors import BookError
from .common import ceilings, kernel_names, libraries, log, time_amortized

CHAPTER = "notebooks/12-tensor-cores"
GEMM_MN = 8192
GEMM_K = (4096, 4088, 4104, 4095, 4097)
TF32_MNK = (8192, 8192, 4096)
CONV = {"n": 32, "hw": 112, "c_out": 64, "c_in": (3, 4, 8, 16, 32, 64)}


def _cases(torch):
    """Every case as (part, label, fn, flops, bytes, reference or None); tensors made once."""
    gen = torch.Generator(device="cuda").manual_seed(0)
    out = []
    for k in GEMM_K:
        a = torch.randn(GEMM_MN, k, device="cuda", dtype=torch.float16, generator=gen)
        b = torch.randn(k, GEMM_MN, device="cuda", dtype=torch.float16, generator=gen) / k ** 0.5
        out.append(("gemm_alignment", f"K={k}" + ("" if k % 8 == 0 else " (odd)"), (lambda a=a, b=b: a @ b),
                    2 * GEMM_MN * GEMM_MN * k, 2 * (2 * GEMM_MN * k + GEMM_MN * GEMM_MN), (a, b)))
    m, n, k = TF32_MNK
    a = torch.randn(m, k, device="cuda", dtype=torch.float32, generator=gen)
    b = torch.randn(k, n, device="cuda", dtype=torch.float32, generator=gen) / k ** 0.5
    for label, allow in (("FP32, TF32 off", False), ("FP32, TF32 on", True)):
        def fn(a=a, b=b, allow=allow):
            torch.backends.cuda.matmul.allow_tf32 = allow
            return a @ b
        out.append(("tf32", label, fn, 2 * m * n * k, 4 * (m * k + k * n + m * n), (a, b)))
    for c_in in CONV["c_in"]:
        x = torch.randn(CONV["n"], c_in, CONV["hw"], CONV["hw"], device="cuda", dtype=torch.float16,
                        generator=gen).to(memory_format=torch.channels_last)
        w = (torch.randn(CONV["c_out"], c_in, 3, 3, device="cuda", dtype=torch.float16, generator=gen) /
             (9 * c_in) ** 0.5).to(memory_format=torch.channels_last)
        hw = CONV["hw"]
        flops = 2 * CONV["n"] * hw * hw * CONV["c_out"] * c_in * 9
        moved = 2 * (x.numel() + w.numel() + CONV["n"] * CONV["c_out"] * hw * hw)
        out.append(("conv", f"C_in={c_in}", (lambda x=x, w=w: torch.nn.functional.conv2d(x, w, padding=1)),
                    flops, moved, (x, w)))
    return out


def _error(torch, part, fn, operands) -> float:
    """Relative error (Frobenius) of the case's result against float64."""
    got = fn().double()
    if part == "conv":
        x, w = operands
        ref = torch.nn.functional.conv2d(x.double(), w.double(), padding=1)
    else:
        a, b = operands
        ref = a.double() @ b.double()
    return float((got - ref).norm() / ref.norm())


def tensor_cores(out):
    import torch

    torch.backends.cudnn.benchmark = True   # cuDNN times its algorithms and keeps the fastest, as TensorRT does
    parts: dict[str, dict] = {
        "gemm_alignment": {"m": GEMM_MN, "n": GEMM_MN, "dtype": "float16", "cases": []},
        "tf32": {"mnk": list(TF32_MNK), "dtype": "float32",
                 "settings": {"off": "torch.backends.cuda.matmul.allow_tf32 = False",
                              "on": "torch.backends.cuda.matmul.allow_tf32 = True"}, "cases": []},
        "conv": {**{k: v for k, v in CONV.items() if k != "c_in"}, "kernel": [3, 3], "padding": 1,
                 "dtype": "float16", "layout": "channels_last (NHWC)", "cudnn_benchmark": True, "cases": []},
    }
    for part, label, fn, flops, moved, operands in _cases(torch):
        rel = _error(torch, part, fn, operands)
        kernels = kernel_names(fn)
        samples, launches, method = time_amortized(fn)
        parts[part]["cases"].append({"label": label, "kernels": kernels, "samples_ms": samples, "launches": launches,
                                     "method": method, "flops": flops, "bytes": moved, "rel_error": rel})
        med = sorted(samples)[len(samples) // 2]
        log(f"ch12 {part} {label}: {med * 1000:.1f} us, {flops / med / 1e9:.0f} TFLOP/s, "
            f"rel err {rel:.1e}, {kernels[:1]}")
    torch.backends.cuda.matmul.allow_tf32 = False
    log("ch12: measured ceilings")
    data = {**parts, "ceilings": ceilings(),
            "timer": "CUDA graph of several launches per sample (common.time_amortized)"}
    prov = results.provenance("python -m trtfaq record ch12-tensor-cores", libraries())
    return results.save(out, "ch12-tensor-cores", CHAPTER,
                        "GEMM alignment, TF32 off and on, 3x3 convolutions by input channels: kernels and speed",
                        "measured with PyTorch (cuBLAS, cuDNN) on the GPU, not TensorRT", prov, data)


# ----- Nsight Compute -------------------------------------------------------------------------------

#: counters asked for when the installed ncu offers them (base name -> the rollup read)
PIPE_METRICS = {
    "sm__pipe_tensor_op_hmma_cycles_active": ".avg.pct_of_peak_sustained_active",
    "sm__pipe_tensor_op_gmma_cycles_active": ".avg.pct_of_peak_sustained_active",
    "sm__pipe_tensor_cycles_active": ".avg.pct_of_peak_sustained_active",
    "sm__pipe_fma_cycles_active": ".avg.pct_of_peak_sustained_active",
    "sm__inst_executed_pipe_tensor_op_hmma": ".sum",
    "sm__inst_executed_pipe_tensor_op_gmma": ".sum",
    "gpu__time_duration": ".sum",
}
MARKER = "trtfaq_case_marker"


def _ncu() -> str:
    found = shutil.which("ncu") or next((str(p) for p in sorted(Path("/opt/nvidia").glob("nsight-compute/*/ncu"))),
                                        None) or (shutil.which("ncu", path="/usr/local/cuda/bin"))
    if not found:
        raise BookError("Nsight Compute (ncu) is not on PATH: install it or run on a machine that has it")
    return found


def _available(ncu: str) -> list[str]:
    """The metrics of :data:`PIPE_METRICS` this ncu offers for the current GPU (three common ones when the
    query cannot be read: unknown ones are then dropped one by one, see :func:`_profile`)."""
    res = subprocess.run([ncu, "--query-metrics"], capture_output=True, text=True, timeout=120)
    names = set(re.findall(r"^\s*([a-z0-9_]+__[a-z0-9_]+)", res.stdout, re.M))
    fallback = ["sm__pipe_tensor_op_hmma_cycles_active", "sm__pipe_fma_cycles_active", "gpu__time_duration"]
    wanted = [base for base in PIPE_METRICS if base in names] if names else fallback
    return [base + PIPE_METRICS[base] for base in wanted] or ["gpu__time_duration.sum"]


def _profile(ncu: str, metrics: list[str], case_file: Path) -> tuple[list[str], str]:
    """Run the workload under ncu; returns the metrics that worked and ncu's CSV text."""
    for _ in range(len(metrics)):
        cmd = [ncu, "--clock-control", "none", "--profile-from-start", "off", "--csv", "--metrics",
               ",".join(metrics), sys.executable, "-m", "trtfaq.experiments.tensor_cores", "--workload", str(case_file)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        bad = [m for m in metrics if m.split(".")[0] in res.stderr + res.stdout and "ailed to find metric" in
               res.stderr + res.stdout]
        if res.returncode == 0:
            return metrics, res.stdout
        if not bad:
            tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
            raise BookError(f"ncu failed (exit {res.returncode}): {' | '.join(tail)}")
        log(f"ncu does not know {bad[0]}; retrying without it")
        metrics = [m for m in metrics if m != bad[0]]
    raise BookError("ncu accepted none of the metrics")


def parse_ncu_csv(text: str) -> list[dict]:
    """ncu's ``--csv`` output (one row per kernel and metric) as ``[{"id", "name", "metrics"}]`` in
    launch order; lines that are not CSV rows (``==PROF==`` messages, the program's output) are skipped."""
    rows = [line for line in text.splitlines() if line.startswith('"')]
    if not rows:
        return []
    kernels: dict[str, dict] = {}
    for row in csv.DictReader(io.StringIO("\n".join(rows))):
        if "Kernel Name" not in row or "Metric Name" not in row:
            raise BookError("ncu's CSV has no 'Kernel Name' / 'Metric Name' columns: an unexpected --page layout")
        k = kernels.setdefault(row["ID"], {"id": int(row["ID"]), "name": row["Kernel Name"], "metrics": {}})
        value = (row.get("Metric Value") or "").replace(",", "")
        try:
            k["metrics"][row["Metric Name"]] = float(value)
        except ValueError:
            k["metrics"][row["Metric Name"]] = None
    return sorted(kernels.values(), key=lambda k: k["id"])


def split_cases(kernels: list[dict], labels: list[str]) -> list[dict]:
    """Group kernels by the marker launched before each case (the marker itself is dropped)."""
    cases: list[dict] = []
    current: dict | None = None
    for k in kernels:
        if MARKER in k["name"]:
            if len(cases) == len(labels):
                raise BookError(f"more markers than the {len(labels)} cases")
            current = {"case": labels[len(cases)], "kernels": []}
            cases.append(current)
        elif current is not None:
            current["kernels"].append(k)
    if len(cases) != len(labels):
        raise BookError(f"found {len(cases)} case markers in ncu's output, expected {len(labels)}")
    return cases


def tensor_pipe(out):
    ncu = _ncu()
    version = subprocess.run([ncu, "--version"], capture_output=True, text=True).stdout.strip().splitlines()[-1:]
    metrics = _available(ncu)
    log(f"ch12 ncu: {ncu}, metrics {metrics}")
    with tempfile.TemporaryDirectory(prefix="trtfaq-ncu-") as tmp:
        case_file = Path(tmp) / "cases.json"
        metrics, text = _profile(ncu, metrics, case_file)
        labels = json.loads(case_file.read_text())
    cases = split_cases(parse_ncu_csv(text), labels)
    data = {"metrics": metrics, "cases": cases, "ncu": version[0] if version else "unknown",
            "ncu_options": ["--clock-control", "none", "--profile-from-start", "off"]}
    prov = results.provenance("python -m trtfaq record ch12-tensor-pipe", {**libraries(), "ncu": data["ncu"]})
    return results.save(out, "ch12-tensor-pipe", CHAPTER,
                        "Nsight Compute's tensor-pipe and FMA-pipe counters for chapter 12's cases",
                        "measured with Nsight Compute on PyTorch (cuBLAS, cuDNN) kernels, not TensorRT", prov, data)


def _workload(case_file: str) -> int:
    """Under ncu: warm every case up, then inside cudaProfilerStart/Stop launch marker + case once each."""
    import torch
    import triton
    import triton.language as tl

    @triton.jit
    def trtfaq_case_marker(ptr, value):
        tl.store(ptr, value)

    torch.backends.cudnn.benchmark = True
    flag = torch.zeros(1, device="cuda", dtype=torch.int32)
    cases = _cases(torch)
    for _, _, fn, *_ in cases:
        fn()
    trtfaq_case_marker[(1,)](flag, 0)
    torch.cuda.synchronize()
    torch.cuda.profiler.start()
    for i, (_, _, fn, *_) in enumerate(cases):
        trtfaq_case_marker[(1,)](flag, i)
        fn()
    torch.cuda.synchronize()
    torch.cuda.profiler.stop()
    Path(case_file).write_text(json.dumps([f"{part}: {label}" for part, label, *_ in cases]))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--workload":
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        sys.exit(_workload(sys.argv[2]))
    sys.exit("usage: python -m trtfaq.experiments.tensor_cores --workload CASES.json (run by tensor_pipe under ncu)")
