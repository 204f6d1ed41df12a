"""Guards for code that needs TensorRT or a GPU (every chapter).

In a notebook, ``%%requires tensorrt`` (first line of a cell) runs the cell's body only when
TensorRT is importable, and otherwise prints one line and lets the notebook go on. The body stays
plain TensorRT code a reader can copy. In library code, :func:`require_tensorrt` and
:func:`require_gpu` return what the caller needs or raise a one-line :class:`~trtfaq.errors.BookError`.
"""
from __future__ import annotations

import importlib

from . import env
from .errors import BookError, GPUUnavailable, TensorRTUnavailable

#: what each requirement checks, and the line printed when it is not met
CHECKS = {
    "tensorrt": (env.has_tensorrt, "TensorRT not installed: skipped (see Setup)"),
    "gpu": (env.has_gpu, "No CUDA GPU: skipped (see Setup)"),
    "modelopt": (env.has_modelopt, "NVIDIA ModelOpt not installed: skipped (pip install nvidia-modelopt[onnx])"),
}


def missing(requirements: list[str]) -> list[str]:
    """The skip lines of the requirements that are not met, in order. Unknown names raise."""
    unknown = [r for r in requirements if r not in CHECKS]
    if unknown:
        raise BookError(f"unknown requirement {unknown[0]!r}: use one of {', '.join(CHECKS)}")
    return [CHECKS[r][1] for r in requirements if not CHECKS[r][0]()]


def require_tensorrt():
    """The ``tensorrt`` module, or :class:`TensorRTUnavailable` with the reason in one line."""
    info, why = env.tensorrt()
    if info is None:
        raise TensorRTUnavailable(f"TensorRT is not available ({why}): install it as the Setup page says")
    return importlib.import_module("tensorrt")


def require_gpu():
    """cuda-python's runtime module when a CUDA GPU is usable, else :class:`GPUUnavailable`."""
    if not env.gpus()[0]:
        raise GPUUnavailable("no CUDA GPU found (nvidia-smi sees none): this step needs a GPU machine")
    rt = env._cudart()
    if rt is None or env.cuda_runtime() is None:
        raise GPUUnavailable("cuda-python is not installed or cannot reach the GPU: pip install cuda-python")
    return rt
