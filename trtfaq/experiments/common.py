"""What every GPU recorder shares: library versions for provenance, progress lines, the current
PyTorch stream, and the measured hardware ceilings."""
from __future__ import annotations

import sys


def libraries() -> dict[str, str]:
    """Versions of the libraries a recorder uses (PyTorch, numpy; Triton and cuda-bindings if present)."""
    import numpy
    import torch

    libs = {"torch": torch.__version__, "numpy": numpy.__version__}
    try:
        import triton

        libs["triton"] = triton.__version__
    except ImportError:
        pass
    try:
        from importlib.metadata import version

        libs["cuda-bindings"] = version("cuda-bindings")
    except Exception:
        pass
    return libs


def stream() -> int:
    """The integer handle of PyTorch's current CUDA stream (what the book's timer takes)."""
    import torch

    return torch.cuda.current_stream().cuda_stream


def log(msg: str) -> None:
    """A progress line on stderr, flushed at once (long runs show progress)."""
    print(msg, flush=True, file=sys.stderr)


def ceilings() -> dict:
    """The measured copy bandwidth (1 GiB device-to-device) and FP16 matrix-product rate (8192^3)."""
    import torch

    from .. import timing

    gen = torch.Generator(device="cuda").manual_seed(1)
    src = torch.randn(256 * 2**20, device="cuda", generator=gen)        # 1 GiB of float32
    dst = torch.empty_like(src)
    copy = timing.time_cuda(lambda: dst.copy_(src), stream(), warmup=5, repeats=30)
    n = 8192
    x = torch.randn(n, n, device="cuda", dtype=torch.float16, generator=gen)
    y = torch.randn(n, n, device="cuda", dtype=torch.float16, generator=gen)
    gemm = timing.time_cuda(lambda: torch.matmul(x, y), stream(), warmup=5, repeats=30)
    return {"copy": {"bytes_moved": 2 * src.numel() * 4, "samples_ms": copy.tolist()},
            "gemm_fp16": {"flops": 2 * n ** 3, "n": n, "samples_ms": gemm.tolist()}}


def kernel_names(fn) -> list[str]:
    """The CUDA kernels ``fn()`` launches, as torch.profiler (CUPTI) names them, longest first
    (chapters 3 and 12). Copies and memsets are left out."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    found: dict[str, float] = {}
    for e in prof.events():
        if not str(getattr(e, "device_type", "")).endswith("CUDA") or e.name.startswith(("Memcpy", "Memset")):
            continue
        span = getattr(e, "time_range", None)
        found[e.name] = found.get(e.name, 0.0) + (float(span.elapsed_us()) if span is not None else 0.0)
    return sorted(found, key=lambda name: -found[name])


def time_amortized(fn, target_ms: float = 0.5, max_launches: int = 20, warmup: int = 5,
                   repeats: int = 30) -> tuple[list[float], int, str]:
    """Milliseconds per call of a PyTorch ``fn`` (chapters 3 and 12): enough calls per timed sample to
    reach about ``target_ms`` (at most ``max_launches``), captured with ``torch.cuda.graph`` (PyTorch's
    allocator must see the capture, so not :func:`trtfaq.timing.time_graph`) and each replay timed with
    the book's CUDA-event timer; ``timing.time_cuda(..., launches=n)`` if ``fn`` cannot be captured.
    Returns (samples per call, calls per sample, "cuda graph" or "eager")."""
    import torch

    from .. import timing

    fn()
    torch.cuda.synchronize()
    once = timing.time_cuda(fn, stream(), warmup=1, repeats=3)
    launches = int(min(max_launches, max(1, round(target_ms / max(float(once.min()), 1e-4)))))
    try:
        graph = torch.cuda.CUDAGraph()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            fn()
        torch.cuda.current_stream().wait_stream(side)
        with torch.cuda.graph(graph):
            for _ in range(launches):
                fn()
        samples = timing.time_cuda(graph.replay, stream(), warmup=warmup, repeats=repeats) / launches
        return samples.tolist(), launches, "cuda graph"
    except Exception as exc:  # noqa: BLE001 - any capture failure: fall back to eager launches
        log(f"  (CUDA graph capture failed: {type(exc).__name__}; timing eager launches)")
        torch.cuda.synchronize()
        samples = timing.time_cuda(fn, stream(), warmup=warmup, repeats=repeats, launches=launches)
        return samples.tolist(), launches, "eager"
