"""Helpers for the book *TensorRT FAQ, hands-on*.

General modules, one job each (their docstrings name the chapter that introduces them):
``errors`` (one-line errors), ``env`` (environment detection), ``requires`` and ``magics`` (running
TensorRT cells only where TensorRT exists), ``cuda`` (checked CUDA calls, streams and device
buffers), ``timing`` (CUDA-event timing), ``engine`` (TensorRT engines for 10.x and 11.x),
``cache`` (every on-disk cache), ``models`` (ONNX building blocks shared by chapters), ``reference``
(ONNX Runtime runs and error statistics), ``precision`` (FP16 conversion and tensor-by-tensor
comparison), ``results`` (recorded GPU runs with provenance), ``plots`` (figure style), ``tables``
(text tables), ``pool`` (one engine per GPU), ``checks`` (the API checker on a snippet).

Subpackages: ``chapters`` (code used by one chapter, a module per chapter topic), ``experiments``
(the GPU recorders behind ``python -m trtfaq record``, a module per chapter topic) and ``tools``
(the command line: ``cli``, ``doctor``, ``preflight`` for ``run-all``, ``colab``).
"""
from .errors import BookError

__version__ = "0.1.0"
__all__ = ["BookError", "__version__"]


def load_ipython_extension(ipython):  # pragma: no cover - exercised through the notebooks
    """``%load_ext trtfaq``: registers ``%%requires`` and the one-line error display."""
    from .magics import load

    load(ipython)
