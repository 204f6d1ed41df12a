"""GPU experiments that record evidence without TensorRT (``python -m trtfaq record NAME``).

One module per chapter topic; each experiment is a plain function ``f(out_folder) -> path`` that runs
on a CUDA GPU with PyTorch (and Triton where named), times with the book's CUDA-event timer
(:mod:`trtfaq.timing`), and saves one :mod:`trtfaq.results` file of raw samples and provenance.
They are labelled "not TensorRT": they show the mechanism a chapter explains on real hardware, not
TensorRT's own numbers. Reading a recorded run back is the chapter's code (:mod:`trtfaq.chapters`).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def _registry() -> dict[str, Callable[[Path], Path]]:
    from . import batch_profiles, builders, multi_gpu, quantization, tensor_cores, timer, workspace, wrong_answers

    return {
        "ch01-tactics": batch_profiles.tactics,
        "ch01-batch-curve": batch_profiles.batch_curve,
        "timer-check": timer.timer_check,
        "timer-small": timer.timer_small,
        "ch04-devices": multi_gpu.devices,
        "ch04-throughput": multi_gpu.throughput,
        "ch04-pool": multi_gpu.pool,
        "ch03-cublas-workspace": workspace.cublas_workspace,
        "ch06-precision": wrong_answers.precision,
        "ch12-tensor-cores": tensor_cores.tensor_cores,
        "ch12-tensor-pipe": tensor_cores.tensor_pipe,
        "ch09-formats": quantization.formats,
        "ch11-tactic-timing": builders.tactic_timing,
    }


#: experiment names, in the order ``record all`` runs them
EXPERIMENTS = ("ch01-tactics", "ch01-batch-curve", "timer-check", "timer-small", "ch04-devices", "ch04-throughput",
               "ch04-pool", "ch03-cublas-workspace", "ch06-precision", "ch09-formats", "ch12-tensor-cores",
               "ch12-tensor-pipe", "ch11-tactic-timing")


def run(name: str, out: Path) -> Path:
    """Run experiment ``name`` and return the result file it saved in ``out``."""
    from ..errors import BookError
    from ..requires import require_gpu

    if name not in EXPERIMENTS:
        raise BookError(f"unknown experiment {name!r}: choose from {', '.join(EXPERIMENTS)}")
    require_gpu()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise BookError(f"{name} needs PyTorch with CUDA: pip install torch") from None
    return _registry()[name](out)
