"""Helpers for the book *TensorRT FAQ, hands-on*.

Each module does one job and names, in its docstring, the chapter that introduces it:
``env`` (environment detection), ``requires`` and ``magics`` (running TensorRT cells only where
TensorRT exists), ``models`` (ONNX models built in code), ``digits`` (chapter 6's data set, preprocessing contract and input check), ``precision`` (FP16 conversion and tensor-by-tensor comparison), ``reference`` (ONNX Runtime runs and
comparisons), ``engine`` (TensorRT engines for 10.x and 11.x), ``cuda`` (checked CUDA calls and
device buffers), ``timing`` (CUDA-event timing), ``plots`` (figure style), ``versions`` (TensorRT
version numbers and library files), ``results`` (recorded GPU runs with provenance), ``experiments``
(the GPU runs behind ``record``), ``doctor`` and ``preflight`` (workshop checks), ``colab`` (the Colab
install cell), ``cli`` (``python -m trtfaq``).
"""
from .errors import BookError

__version__ = "0.1.0"
__all__ = ["BookError", "__version__"]


def load_ipython_extension(ipython):  # pragma: no cover - exercised through the notebooks
    """``%load_ext trtfaq``: registers ``%%requires`` and the one-line error display."""
    from .magics import load

    load(ipython)
