"""ONNX Runtime as the reference, and error metrics against a float64 truth (chapter 1 onwards)."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from .errors import InputError


def session(model):
    """An ONNX Runtime CPU session for a ``ModelProto``, serialized bytes or a path."""
    import onnxruntime as ort

    if hasattr(model, "SerializeToString"):
        model = model.SerializeToString()
    what = "the model bytes"
    if isinstance(model, (str, os.PathLike)):
        what = str(model)
        if not os.path.isfile(model):
            raise InputError(f"ONNX model file {what} does not exist")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # deterministic reductions, and polite on 2-core CI machines
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(model, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own exception types with long texts
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"ONNX Runtime cannot load {what}: {first}") from None


def run_onnxruntime(model, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``model`` on ``feeds``; returns ``{output name: array}``. Checks names, dtypes, ranks first."""
    sess = session(model)
    wanted = {i.name: i for i in sess.get_inputs()}
    if set(feeds) != set(wanted):
        raise InputError(f"model inputs are {sorted(wanted)}, got {sorted(feeds)}")
    types = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64,
             "tensor(int32)": np.int32}
    for name, arr in feeds.items():
        spec = wanted[name]
        want = types.get(spec.type)
        if want is not None and np.asarray(arr).dtype != want:
            raise InputError(f"input {name!r} must be {np.dtype(want).name}, got {np.asarray(arr).dtype.name}")
        if np.ndim(arr) != len(spec.shape):
            raise InputError(f"input {name!r} must have rank {len(spec.shape)} {spec.shape}, got shape {np.shape(arr)}")
        for dim, got in zip(spec.shape, np.shape(arr)):
            if isinstance(dim, int) and dim != got:
                raise InputError(f"input {name!r} must have shape {spec.shape}, got {np.shape(arr)}")
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, feeds)))


@dataclass(frozen=True)
class ErrorStats:
    """How far ``actual`` is from a reference: worst absolute and relative error, non-finite count."""

    max_abs: float
    max_rel: float
    nonfinite: int
    size: int

    def __str__(self) -> str:
        nf = f", {self.nonfinite} of {self.size} not finite" if self.nonfinite else ""
        return f"max abs {self.max_abs:.3g}, max rel {self.max_rel:.3g}{nf}"


def error_stats(actual, reference, floor: float = 1e-6) -> ErrorStats:
    """Errors of ``actual`` against ``reference`` (computed in float64).

    Relative error divides by ``max(|reference|, floor)`` so that zeros in the reference do not
    blow it up. Non-finite values in ``actual`` are counted and left out of the maxima.
    """
    a = np.asarray(actual, np.float64)
    r = np.asarray(reference, np.float64)
    if a.shape != r.shape:
        raise InputError(f"cannot compare shapes {a.shape} and {r.shape}")
    finite = np.isfinite(a)
    diff = np.abs(a - r)[finite]
    rel = diff / np.maximum(np.abs(r[finite]), floor)
    return ErrorStats(max_abs=float(diff.max(initial=0.0)), max_rel=float(rel.max(initial=0.0)),
                  nonfinite=int(a.size - finite.sum()), size=int(a.size))
