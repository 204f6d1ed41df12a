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


#: timing methods of ``timer_small``, in the order they are recorded
SMALL_METHODS = {
    "per_call": "one event pair per eager call (the book's timer before this check)",
    "eager_x20": "20 eager calls per event pair",
    "book_graph_x20": "the book's time_graph: 20 calls captured in one CUDA graph, one launch per event pair",
    "torch_graph_x20": "torch.cuda.CUDAGraph of one call, 20 replays per event pair",
    "reference": "reference: one CUDA graph holding 100 calls, one replay per event pair, / 100",
}


def timer_small(out):
    """A known 10-20 us of GPU work (the chapter 1 MLP in FP16, three kernels) timed five ways: is the
    host's enqueue time inside the measurement? The reference amortizes everything over a graph of
    100 calls."""
    import torch

    gen = torch.Generator(device="cuda").manual_seed(3)
    k, hidden = 1024, 4096
    w1t = torch.randn(k, hidden, device="cuda", dtype=torch.float16, generator=gen) / k ** 0.5
    w2t = torch.randn(hidden, k, device="cuda", dtype=torch.float16, generator=gen) / hidden ** 0.5
    rows = []
    for batch in (1, 256):
        x = torch.randn(batch, k, device="cuda", dtype=torch.float16, generator=gen)
        h = torch.empty(batch, hidden, device="cuda", dtype=torch.float16)
        y = torch.empty(batch, k, device="cuda", dtype=torch.float16)

        def work(x=x, h=h, y=y):  # preallocated outputs: nothing is allocated while a graph is captured
            torch.matmul(x, w1t, out=h)
            torch.relu_(h)
            torch.matmul(h, w2t, out=y)

        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(5):
                work()
            torch.cuda.synchronize()
            handle = side.cuda_stream
            samples = {"per_call": timing.time_cuda(work, handle, warmup=20, repeats=200),
                       "eager_x20": timing.time_cuda(work, handle, warmup=20, repeats=200, launches=20)}
            try:
                samples["book_graph_x20"] = timing.time_graph(work, handle, warmup=20, repeats=200, launches=20)
            except Exception as exc:  # recorded, not hidden: the chapter says if the book's capture failed
                log(f"timer small: book graph failed: {exc}")
                samples["book_graph_x20"] = None
            one, many = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
            with torch.cuda.graph(one, stream=side):
                work()
            with torch.cuda.graph(many, stream=side):
                for _ in range(100):
                    work()
            samples["torch_graph_x20"] = timing.time_cuda(one.replay, handle, warmup=20, repeats=200, launches=20)
            samples["reference"] = timing.time_cuda(many.replay, handle, warmup=5, repeats=100) / 100
        torch.cuda.synchronize()
        ref = torch.relu(x.double() @ w1t.double()) @ w2t.double()
        rel = float((y.double() - ref).norm() / ref.norm())
        rows.append({"batch": batch, "relative_error_vs_float64": rel,
                     "methods": {m: (None if s is None else {"samples_ms": s.tolist()}) for m, s in samples.items()}})
        medians = {m: timing.summarize(s).median * 1000 for m, s in samples.items() if s is not None}
        log(f"timer small: batch {batch}: " + ", ".join(f"{m} {v:.2f} us" for m, v in medians.items()))
    data = {"workload": "MLP 1024-4096-1024 FP16: matmul, relu_, matmul (cuBLAS through PyTorch)",
            "methods": SMALL_METHODS, "runs": rows}
    return results.save(out, "timer-small", CHAPTER,
                        "The book's timer at 10-20 us: host enqueue time in or out of the measurement",
                        "Measured with PyTorch (cuBLAS) on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record timer-small", libraries()), data)
