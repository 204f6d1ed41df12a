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
