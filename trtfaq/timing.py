"""GPU timing with CUDA events: warm-up, many repeats, median and spread (chapter 1 onwards).

Times what a callable enqueues on a stream, between two events recorded on that stream, so host
overhead between launches is excluded only when the callable is asynchronous. Samples are kept raw
so that recorded runs can store them.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class Summary:
    """Median and spread of timing samples, in milliseconds."""

    n: int
    median: float
    p10: float
    p90: float
    minimum: float
    maximum: float

    def __str__(self) -> str:
        return f"median {self.median:.4g} ms (p10 {self.p10:.4g}, p90 {self.p90:.4g}, n={self.n})"


def summarize(samples_ms) -> Summary:
    """Summary of raw samples; refuses empty, non-finite or negative samples in one line."""
    s = np.asarray(samples_ms, np.float64).ravel()
    if s.size == 0:
        raise InputError("no timing samples to summarize")
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise InputError("timing samples must be finite and >= 0")
    p10, med, p90 = np.percentile(s, [10, 50, 90])
    return Summary(int(s.size), float(med), float(p10), float(p90), float(s.min()), float(s.max()))


def time_cuda(enqueue, stream_handle: int = 0, warmup: int = 10, repeats: int = 100) -> np.ndarray:
    """Milliseconds per call of ``enqueue()`` measured with CUDA events on ``stream_handle``.

    ``enqueue`` must put its work on that stream (for TensorRT: ``ctx.execute_async_v3(handle)``;
    for PyTorch: the current stream's ``cuda_stream``). Returns ``repeats`` raw samples.
    """
    from .cuda import check
    from .requires import require_gpu

    if warmup < 0 or repeats < 1:
        raise InputError(f"need warmup >= 0 and repeats >= 1, got {warmup}, {repeats}")
    rt = require_gpu()
    for _ in range(warmup):
        enqueue()
    check(rt.cudaStreamSynchronize(stream_handle))
    start = [check(rt.cudaEventCreate()) for _ in range(repeats)]
    stop = [check(rt.cudaEventCreate()) for _ in range(repeats)]
    for a, b in zip(start, stop):
        check(rt.cudaEventRecord(a, stream_handle))
        enqueue()
        check(rt.cudaEventRecord(b, stream_handle))
    check(rt.cudaStreamSynchronize(stream_handle))
    samples = np.array([check(rt.cudaEventElapsedTime(a, b)) for a, b in zip(start, stop)], np.float64)
    for ev in start + stop:
        check(rt.cudaEventDestroy(ev))
    return samples
