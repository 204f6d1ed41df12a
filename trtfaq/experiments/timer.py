"""The book's CUDA-event timer checked against ``triton.testing.do_bench`` on the same workloads
(PyTorch on a CUDA GPU; not TensorRT). Shown in the results gallery."""
from __future__ import annotations

from .. import results, timing
from .common import libraries, log, stream

CHAPTER = "notebooks/01-batch-profiles"  # the timer is introduced there; the gallery shows the check


def timer_check(out):
    import torch
    from triton.testing import do_bench

    gen = torch.Generator(device="cuda").manual_seed(2)
    work = {}
    for n in (4096, 8192):
        x = torch.randn(n, n, device="cuda", dtype=torch.float16, generator=gen)
        y = torch.randn(n, n, device="cuda", dtype=torch.float16, generator=gen)
        work[f"fp16 GEMM {n}x{n}x{n}"] = (lambda x=x, y=y: torch.matmul(x, y))
    src = torch.randn(128 * 2**20, device="cuda", generator=gen)  # 512 MiB, far beyond L2
    dst = torch.empty_like(src)
    work["copy 512 MiB"] = lambda: dst.copy_(src)
    rows = []
    for name, fn in work.items():
        ours = timing.time_cuda(fn, stream(), warmup=10, repeats=100)
        theirs = do_bench(fn, warmup=25, rep=200, return_mode="all")
        a, b = timing.summarize(ours).median, timing.summarize(theirs).median
        rows.append({"workload": name, "book_timer": {"samples_ms": ours.tolist()},
                     "do_bench": {"samples_ms": [float(t) for t in theirs]},
                     "median_difference_percent": 100 * (a - b) / b})
        log(f"timer check: {name}: book {a:.4f} ms, do_bench {b:.4f} ms, {100 * (a - b) / b:+.2f} %")
    data = {"workloads": rows, "book_timer": {"warmup": 10, "repeats": 100},
            "do_bench": {"warmup_ms": 25, "rep_ms": 200, "return_mode": "all"}}
    return results.save(out, "timer-check", CHAPTER,
                        "The book's CUDA-event timer against triton.testing.do_bench",
                        "Measured with PyTorch on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record timer-check", libraries()), data)
