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
    """A CUDA stream; ``handle`` is the integer TensorRT's ``execute_async_v3`` takes.

    Destroyed by :meth:`close` or at the end of a ``with`` block (like ``CudaStreamContext`` in
    TensorRT's ``samples/python/common_runtime.py``), not whenever garbage is collected.
    """

    def __init__(self):
        self._rt = require_gpu()
        self._stream = check(self._rt.cudaStreamCreate())

    @property
    def handle(self) -> int:
        if self._stream is None:
            raise CudaError("this stream was closed")
        return int(self._stream)

    def synchronize(self) -> None:
        check(self._rt.cudaStreamSynchronize(self._stream))

    def close(self) -> None:
        """Wait for the stream's work, then destroy it (idempotent)."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            check(self._rt.cudaStreamSynchronize(stream))
            check(self._rt.cudaStreamDestroy(stream))

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # a safety net only: close() or ``with`` free it deterministically
        try:
            self.close()
        except Exception:
            pass


class DeviceBuffer:
    """``nbytes`` of device memory from ``cudaMalloc``; ``ptr`` is what ``set_tensor_address`` takes.

    Freed by :meth:`free` or at the end of a ``with`` block.
    """

    def __init__(self, nbytes: int):
        self._rt = require_gpu()
        self.nbytes = int(nbytes)
        if self.nbytes < 0:
            raise CudaError(f"a buffer cannot have {self.nbytes} bytes")
        self.ptr = int(check(self._rt.cudaMalloc(max(self.nbytes, 1))))

    def upload(self, array: np.ndarray, stream: Stream) -> None:
        array = np.ascontiguousarray(array)
        if array.nbytes > self.nbytes:
            raise CudaError(f"{array.nbytes} bytes do not fit a buffer of {self.nbytes}")
        check(self._rt.cudaMemcpyAsync(self.ptr, array.ctypes.data, array.nbytes,
                                       self._rt.cudaMemcpyKind.cudaMemcpyHostToDevice, stream._stream))

    def download(self, array: np.ndarray, stream: Stream) -> np.ndarray:
        """Enqueue a copy into ``array``; it holds the data only after ``stream.synchronize()``."""
        if not array.flags["C_CONTIGUOUS"] or array.nbytes > self.nbytes:
            raise CudaError("download needs a C-contiguous host array no larger than the buffer")
        check(self._rt.cudaMemcpyAsync(array.ctypes.data, self.ptr, array.nbytes,
                                       self._rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, stream._stream))
        return array

    def free(self) -> None:
        if self.ptr:
            ptr, self.ptr = self.ptr, 0
            check(self._rt.cudaFree(ptr))

    def __enter__(self) -> DeviceBuffer:
        return self

    def __exit__(self, *exc) -> None:
        self.free()

    def __del__(self):  # a safety net only
        try:
            self.free()
        except Exception:
            pass


def device_key() -> str:
    """The current CUDA device as the engine cache names it: name and compute capability, plus the
    PCI bus id when the process sees several GPUs (chapter 4: one plan per device). A plan built on
    one GPU is never served to a GPU of another kind."""
    rt = require_gpu()
    dev = check(rt.cudaGetDevice())
    prop = check(rt.cudaGetDeviceProperties(dev))
    name = prop.name.decode() if isinstance(prop.name, bytes) else str(prop.name)
    key = f"{name.rstrip(chr(0))} sm{prop.major}{prop.minor}"
    if check(rt.cudaGetDeviceCount()) > 1:
        key += f" pci {prop.pciDomainID:04x}:{prop.pciBusID:02x}:{prop.pciDeviceID:02x}"
    return key


def address(addr) -> int:
    """A device address as an int. TensorRT's Python callbacks pass ints; a ``PyCapsule`` (how
    pybind11 hands over a ``void*``, and what the API reference shows) is unwrapped."""
    if isinstance(addr, int):
        return addr
    if type(addr).__name__ == "PyCapsule":
        import ctypes

        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        return int(get(addr, None) or 0)
    raise CudaError(f"expected a device address (int or PyCapsule), got {type(addr).__name__}")


def copy_to_host(addr, shape, dtype, stream: int, on_host: bool = False) -> np.ndarray:
    """A numpy copy of the tensor at ``addr`` (chapter 6: TensorRT's debug-tensor callback).

    ``stream`` is the integer stream handle TensorRT passes; the copy is made on it and waited for,
    since the memory is valid only during the callback. ``on_host=True`` for ``TensorLocation.HOST``: the
    stream is synchronized first, then the host memory read.
    """
    host = np.empty(tuple(int(d) for d in shape), np.dtype(dtype))
    ptr = address(addr)
    if not ptr and host.size:
        raise CudaError("debug tensor address is null")
    rt = require_gpu()
    if on_host:
        import ctypes

        # the tensor is written by work on ``stream``: wait for it before reading (NVIDIA's own debug
        # listeners synchronize first: DebugTensorWriter::processDebugTensor in TensorRT's samples/common)
        check(rt.cudaStreamSynchronize(stream))
        ctypes.memmove(host.ctypes.data, ptr, host.nbytes)
        return host
    check(rt.cudaMemcpyAsync(host.ctypes.data, ptr, host.nbytes, rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, stream))
    check(rt.cudaStreamSynchronize(stream))
    return host
