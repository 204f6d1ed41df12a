"""GPU experiments that record evidence without TensorRT (``python -m trtfaq record NAME``).

Each experiment runs on a CUDA GPU with PyTorch (and Triton where named), times with the book's
CUDA-event timer (:mod:`trtfaq.timing`), and saves one :mod:`trtfaq.results` file of raw samples
and provenance. They are labelled "not TensorRT": they show the mechanism a chapter explains on
real hardware, not TensorRT's own numbers.
"""
from __future__ import annotations

EXPERIMENTS = {
    "ch01-tactics": ("trtfaq.experiments.ch01", "tactics"),
    "ch01-batch-curve": ("trtfaq.experiments.ch01", "batch_curve"),
    "timer-check": ("trtfaq.experiments.ch01", "timer_check"),
    "ch06-precision": ("trtfaq.experiments.ch06", "precision"),
}


def run(name: str, out) -> "object":
    import importlib

    from ..errors import BookError

    if name not in EXPERIMENTS:
        raise BookError(f"unknown experiment {name!r}: choose from {', '.join(EXPERIMENTS)}")
    from ..requires import require_gpu

    require_gpu()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise BookError(f"{name} needs PyTorch with CUDA: pip install torch") from None
    module, func = EXPERIMENTS[name]
    return getattr(importlib.import_module(module), func)(out)
