"""GPU recorders of chapter 11 (not TensorRT): equivalent GEMM candidates timed as an autotuner times
tactics, alone, beside busy streams of the same process, and beside a busy second process."""
from __future__ import annotations

import subprocess
import sys
import time

from .common import log

CHAPTER = "notebooks/11-builders"
SIZES = (4096, 4096, 4096)
LAYOUTS = ("nn", "nt", "tn", "tt")        # four equivalent FP16 GEMMs: C = A @ B with A, B stored (un)transposed
REPEATS = 30                              # event pairs per candidate and condition
PER_EVENT = 5                             # launches amortized in each event pair
CEILING_SIZE, CEILING_LAUNCHES = 8192, 3   # the measured ceiling (see _ceiling)

BUSY_SCRIPT = ("import torch,time,sys\n"
               "a=torch.randn(8192,8192,device='cuda',dtype=torch.float16)\n"
               "t=time.time()\n"
               "while time.time()-t<float(sys.argv[1]):\n"
               "    for _ in range(20): a@a\n"
               "    torch.cuda.synchronize()\n")


def _candidates(torch):
    m, n, k = SIZES
    a = torch.randn(m, k, device="cuda", dtype=torch.float16)
    b = torch.randn(k, n, device="cuda", dtype=torch.float16)
    at, bt = a.t().contiguous(), b.t().contiguous()
    ops = {"nn": lambda: a @ b, "nt": lambda: a @ bt.t(), "tn": lambda: at.t() @ b, "tt": lambda: at.t() @ bt.t()}
    ref = ops["nn"]()
    for name, fn in ops.items():   # equivalent: same result within FP16 accumulation differences
        assert torch.allclose(fn(), ref, rtol=1e-2, atol=1e-1), name
    return ops


def _time_all(torch, ops, rounds=3):
    """ms per GEMM per candidate: CUDA events on the default stream (trtfaq.timing.time_cuda), PER_EVENT
    launches per event pair, candidates interleaved over ``rounds`` so drift hits all of them."""
    import numpy as np

    from ..timing import time_cuda

    samples = {name: [] for name in ops}
    for _ in range(rounds):
        for name, fn in ops.items():
            got = time_cuda(fn, 0, warmup=2, repeats=REPEATS // rounds, launches=PER_EVENT)
            samples[name] += [float(v) for v in np.asarray(got)]
    return samples


def _ceiling(torch):
    """The measured ceiling: an 8192^3 FP16 GEMM alone (the largest, most efficient shape cuBLAS gets here),
    CEILING_LAUNCHES launches per event pair; the chapter shows each candidate's throughput as a percentage."""
    from ..timing import time_cuda

    size = CEILING_SIZE
    a = torch.randn(size, size, device="cuda", dtype=torch.float16)
    b = torch.randn(size, size, device="cuda", dtype=torch.float16)
    samples = time_cuda(lambda: a @ b, 0, warmup=3, repeats=REPEATS, launches=CEILING_LAUNCHES)
    return {"sizes": [size] * 3, "dtype": "float16", "flops_per_gemm": 2 * size ** 3,
            "launches_per_sample": CEILING_LAUNCHES, "timings_ms": [float(v) for v in samples]}


def tactic_timing(out):
    """ch11-tactic-timing: four equivalent GEMMs timed alone, beside 1 and 3 busy streams, beside a busy process."""
    import torch

    from .. import results
    from .common import libraries

    torch.manual_seed(0)
    ops = _candidates(torch)
    for fn in ops.values():
        fn()
    torch.cuda.synchronize()
    m, n, k = SIZES
    flops = 2 * m * n * k
    log("ch11: ceiling (a large FP16 GEMM alone)")
    ceiling = _ceiling(torch)
    conditions = {}
    log("ch11: alone")
    conditions["alone"] = _time_all(torch, ops)
    conditions["alone (repeat)"] = _time_all(torch, ops)
    big = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
    still_busy = {}                               # were the busy streams still busy when timing ended?
    for nbusy in (1, 3):
        log(f"ch11: beside {nbusy} busy stream(s)")
        streams = [torch.cuda.Stream() for _ in range(nbusy)]
        for st in streams:                        # enough queued work to outlast the timing
            with torch.cuda.stream(st):
                for _ in range(1500):        # about 1.6 ms each on an H100: seconds of queued work
                    big @ big
        conditions[f"{nbusy} busy stream(s)"] = _time_all(torch, ops)
        still_busy[f"{nbusy} busy stream(s)"] = all(not st.query() for st in streams)
        for st in streams:
            st.synchronize()
    log("ch11: beside a busy second process")
    proc = subprocess.Popen([sys.executable, "-c", BUSY_SCRIPT, "40"])
    time.sleep(8)                                 # let it start and occupy the GPU
    wall = time.perf_counter()
    conditions["busy process"] = _time_all(torch, ops)
    wall = time.perf_counter() - wall
    busy_alive = proc.poll() is None
    proc.terminate()
    proc.wait(timeout=30)
    data = {"sizes": list(SIZES), "dtype": "float16", "flops_per_gemm": flops, "launches_per_sample": PER_EVENT,
            "candidates": list(LAYOUTS), "timings_ms": conditions, "busy_process_alive_during_timing": busy_alive,
            "busy_streams_still_busy_after_timing": still_busy,
            "busy_process_timing_wall_s": wall, "ceiling": ceiling}
    prov = results.provenance("python -m trtfaq record ch11-tactic-timing", libraries())
    return results.save(out, "ch11-tactic-timing", CHAPTER,
                        "Equivalent GEMM candidates timed as an autotuner times tactics: alone and on a busy GPU",
                        "measured with PyTorch/cuBLAS on the GPU, not TensorRT", prov, data)
