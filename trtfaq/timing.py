"""GPU timing with CUDA events: warm-up, many repeats, median and spread (chapter 1 onwards).

Times what a callable enqueues on a stream, between two events recorded on that stream. One event
pair around a single call of a few microseconds also times the host: if enqueueing takes longer than
the GPU work (TensorRT's ``execute_async_v3`` or a PyTorch call costs the host about as much as a small
network costs the GPU), the GPU waits for the host inside the measured interval and small-batch
latencies come out too high and too flat. So each sample can time ``launches`` back-to-back calls and
divide (:func:`time_cuda`), which amortizes the events but not the host; :func:`time_graph` captures
``launches`` calls into one CUDA graph and times its launches, so the host enqueues one graph instead of
every kernel (trtexec too runs through CUDA graphs: ``--useCudaGraph``, the default from 11.0 on).
Samples are kept raw so that recorded runs can store them; the results gallery checks the methods
against a reference on a GPU.
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


def _check_counts(warmup: int, repeats: int, launches: int) -> None:
    if warmup < 0 or repeats < 1 or launches < 1:
        raise InputError(f"need warmup >= 0, repeats >= 1 and launches >= 1, got {warmup}, {repeats}, {launches}")


def _event_samples(rt, launch, stream_handle: int, repeats: int, launches: int) -> np.ndarray:
    """``repeats`` samples: ``launches`` calls of ``launch()`` between one event pair, in ms per call."""
    from .cuda import check

    start = [check(rt.cudaEventCreate()) for _ in range(repeats)]
    stop = [check(rt.cudaEventCreate()) for _ in range(repeats)]
    try:
        for a, b in zip(start, stop):
            check(rt.cudaEventRecord(a, stream_handle))
            for _ in range(launches):
                launch()
            check(rt.cudaEventRecord(b, stream_handle))
        check(rt.cudaStreamSynchronize(stream_handle))
        return np.array([check(rt.cudaEventElapsedTime(a, b)) / launches for a, b in zip(start, stop)], np.float64)
    finally:
        for ev in start + stop:
            rt.cudaEventDestroy(ev)


def time_cuda(enqueue, stream_handle: int = 0, warmup: int = 10, repeats: int = 100, launches: int = 1) -> np.ndarray:
    """Milliseconds per call of ``enqueue()`` measured with CUDA events on ``stream_handle``.

    ``enqueue`` must put its work on that stream (for TensorRT: ``ctx.execute_async_v3(handle)``;
    for PyTorch: the current stream's ``cuda_stream``). Each of the ``repeats`` samples times
    ``launches`` back-to-back calls and divides: this amortizes the events, but not the host's cost of
    enqueueing, which :func:`time_graph` removes.
    """
    from .cuda import check
    from .requires import require_gpu

    _check_counts(warmup, repeats, launches)
    rt = require_gpu()
    for _ in range(warmup):
        enqueue()
    check(rt.cudaStreamSynchronize(stream_handle))
    return _event_samples(rt, enqueue, stream_handle, repeats, launches)


def time_graph(enqueue, stream_handle: int, warmup: int = 10, repeats: int = 100, launches: int = 20) -> np.ndarray:
    """Milliseconds per call of ``enqueue()``: ``launches`` calls captured back to back into one CUDA
    graph, each sample one launch of that graph divided by ``launches`` (chapter 1).

    The host enqueues one graph per sample instead of every kernel, and the gap between two graph
    launches (about a microsecond) is shared by all the calls of one graph. Call ``enqueue()`` once
    before (TensorRT needs one ordinary enqueue before a capture, to finish its lazy set-up).
    ``stream_handle`` must not be the legacy default stream (0), which cannot be captured. Raises
    :class:`~trtfaq.errors.CudaError` if the work cannot be captured.
    """
    from .cuda import check
    from .requires import require_gpu

    _check_counts(warmup, repeats, launches)
    if not stream_handle:
        raise InputError("a CUDA graph cannot be captured on the default stream: use a stream of your own")
    rt = require_gpu()
    check(rt.cudaStreamBeginCapture(stream_handle, rt.cudaStreamCaptureMode.cudaStreamCaptureModeThreadLocal))
    try:
        for _ in range(launches):
            enqueue()
    except BaseException:  # end the capture, destroy what a failed enqueue left captured, re-raise
        _, partial = rt.cudaStreamEndCapture(stream_handle)
        if partial is not None:
            rt.cudaGraphDestroy(partial)
        raise
    graph = check(rt.cudaStreamEndCapture(stream_handle))
    try:
        exe = check(rt.cudaGraphInstantiate(graph, 0))
    except BaseException:
        rt.cudaGraphDestroy(graph)
        raise
    try:
        for _ in range(max(1, warmup // launches)):
            check(rt.cudaGraphLaunch(exe, stream_handle))
        check(rt.cudaStreamSynchronize(stream_handle))
        return _event_samples(rt, lambda: check(rt.cudaGraphLaunch(exe, stream_handle)), stream_handle, repeats,
                              1) / launches
    finally:
        rt.cudaGraphExecDestroy(exe)
        rt.cudaGraphDestroy(graph)
