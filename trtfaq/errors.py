"""The book's one-line errors.

Every helper that rejects an input raises a subclass of :class:`BookError` whose message is one
line saying what was wrong and what to do. With ``%load_ext trtfaq`` loaded, a notebook shows just
that line instead of a traceback (see :mod:`trtfaq.magics`).
"""
from __future__ import annotations


class BookError(RuntimeError):
    """Base class: a clear, one-line reason that a helper refused to go on."""

    def __init__(self, message: str):
        # Keep the message on one line whatever the caller passed in.
        super().__init__(" ".join(str(message).split()))


class TensorRTUnavailable(BookError):
    """TensorRT is not importable here (not installed, or its libraries are missing)."""


class GPUUnavailable(BookError):
    """No usable CUDA GPU (or no CUDA Python bindings to reach one)."""


class InputError(BookError):
    """A tensor handed to a helper has the wrong name, shape or dtype."""


class CacheError(BookError):
    """A cached engine or result file is missing, corrupt or belongs to something else."""


class CudaError(BookError):
    """A CUDA runtime call returned an error code."""


class ResultError(BookError):
    """A recorded-result file is missing, corrupt, or not one of the book's results."""
