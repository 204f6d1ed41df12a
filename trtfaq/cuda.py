"""Checked CUDA runtime calls and explicit device buffers through cuda-python (chapter 1 onwards).

The book uses cuda-python, like TensorRT's own Python samples (``samples/python/common_runtime.py``),
so that the TensorRT code needs no deep-learning framework. Every call's error code is checked.
"""
from __future__ import annotations

import numpy as np

from .errors import CudaError
from .requires import require_gpu


def check(result):
    """Unpack a cuda-python ``(err, *values)`` tuple, raising :class:`CudaError` on a non-zero code."""
    if not isinstance(result, tuple):
        result = (result,)
    err, values = result[0], result[1:]
    if int(err) != 0:
        name = getattr(err, "name", str(err))
        raise CudaError(f"CUDA call failed with {name} ({int(err)})")
    if not values:
        return None
    return values[0] if len(values) == 1 else values


class Stream:
    """A CUDA stream; ``handle`` is the integer TensorRT's ``execute_async_v3`` takes."""

    def __init__(self):
        self._rt = require_gpu()
        self._stream = check(self._rt.cudaStreamCreate())

    @property
    def handle(self) -> int:
        return int(self._stream)

    def synchronize(self) -> None:
        check(self._rt.cudaStreamSynchronize(self._stream))

    def __del__(self):
        try:
            self._rt.cudaStreamDestroy(self._stream)
        except Exception:
            pass


class DeviceBuffer:
    """``nbytes`` of device memory from ``cudaMalloc``; ``ptr`` is what ``set_tensor_address`` takes."""

    def __init__(self, nbytes: int):
        self._rt = require_gpu()
        self.nbytes = int(nbytes)
        self.ptr = int(check(self._rt.cudaMalloc(max(self.nbytes, 1))))

    def upload(self, array: np.ndarray, stream: Stream) -> None:
        array = np.ascontiguousarray(array)
        if array.nbytes > self.nbytes:
            raise CudaError(f"{array.nbytes} bytes do not fit a buffer of {self.nbytes}")
        check(self._rt.cudaMemcpyAsync(self.ptr, array.ctypes.data, array.nbytes,
                                       self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice, stream._stream))

    def download(self, array: np.ndarray, stream: Stream) -> np.ndarray:
        if not array.flags["C_CONTIGUOUS"] or array.nbytes > self.nbytes:
            raise CudaError("download needs a C-contiguous host array no larger than the buffer")
        check(self._rt.cudaMemcpyAsync(array.ctypes.data, self.ptr, array.nbytes,
                                       self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, stream._stream))
        return array

    def free(self) -> None:
        if self.ptr:
            check(self._rt.cudaFree(self.ptr))
            self.ptr = 0

    def __del__(self):
        try:
            self.free()
        except Exception:
            pass
