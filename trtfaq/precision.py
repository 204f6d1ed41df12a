"""FP16 versions of ONNX models, strict FP16 execution, and tensor-by-tensor comparison (chapter 6).

- :func:`to_fp16` converts an FP32 ONNX model with onnxconverter-common's ``float16`` converter
  (Microsoft's maintained one; ModelOpt AutoCast, the tool NVIDIA names for TensorRT 11, needs
  PyTorch and is shown in the chapter for GPU machines); nodes can be kept in FP32 by name.
- :func:`run_tensors` runs a model with **every** tensor marked as an output, the FAQ's way of
  looking inside a network: on ONNX Runtime's CPU provider through Polygraphy, or on ONNX's
  reference evaluator (``onnx.reference``), which stores every tensor in the model's own type
  (``"strict"``: what an FP16 engine's tensors hold; ONNX Runtime's CPU provider computes many
  float16 operators in float32 and keeps intermediate results in float32).
- :func:`compare_tensors` lines the tensors of two runs up in graph order with their errors, and
  :func:`first_divergence` names the first one out of tolerance.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from .errors import InputError

BACKENDS = ("onnxruntime", "strict")
_FLOAT16, _FLOAT = 10, 1  # onnx.TensorProto.FLOAT16 / FLOAT


def _input_types(model) -> dict[str, int]:
    return {i.name: i.type.tensor_type.elem_type for i in model.graph.input}


def to_fp16(model, *, keep_io_types: bool = False, keep_fp32: tuple[str, ...] = ()):
    """A float16 copy of FP32 ``model``: weights and activations in float16.

    ``keep_io_types=False`` (the default here, as in AutoCast) makes the model's inputs and outputs
    float16 too; ``True`` keeps them float32 behind Cast nodes. ``keep_fp32`` names nodes that stay in
    FP32 (with Casts around them).
    """
    try:
        from onnxconverter_common import float16
    except ImportError:
        raise InputError("FP16 conversion needs onnxconverter-common: pip install onnxconverter-common") from None
    if any(t == _FLOAT16 for t in _input_types(model).values()):
        raise InputError("the model already takes float16 inputs: convert the FP32 original")
    names = {n.name for n in model.graph.node}
    unknown = sorted(set(keep_fp32) - names)
    if unknown:
        raise InputError(f"no node named {unknown[0]!r} in the model (nodes: {', '.join(sorted(names))})")
    return float16.convert_float_to_float16(copy.deepcopy(model), keep_io_types=keep_io_types,
                                            node_block_list=list(keep_fp32))


def cast_feeds(model, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``feeds`` converted to the model's input types (float32 <-> float16), as a caller of an FP16
    model must do; names are checked."""
    types = _input_types(model)
    if set(feeds) != set(types):
        raise InputError(f"model inputs are {sorted(types)}, got {sorted(feeds)}")
    want = {_FLOAT16: np.float16, _FLOAT: np.float32}
    return {k: np.asarray(v).astype(want.get(types[k], np.asarray(v).dtype)) for k, v in feeds.items()}


def graph_order(model) -> list[tuple[str, str, str]]:
    """``(tensor, op type, node name)`` for every node output, in the graph's (topological) order."""
    return [(out, node.op_type, node.name) for node in model.graph.node for out in node.output if out]


def run_tensors(model, feeds: dict[str, np.ndarray], backend: str = "onnxruntime") -> dict[str, np.ndarray]:
    """Every tensor of ``model`` on ``feeds`` (cast to the model's input types), by name.

    ``"onnxruntime"``: Polygraphy's ONNX Runtime runner on the model with all tensors marked as
    outputs (``polygraphy run --onnxrt --onnx-outputs mark all``). ``"strict"``: ONNX's reference
    evaluator, every tensor stored in its declared type.
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    feeds = cast_feeds(model, feeds)
    if backend == "strict":
        from onnx.reference import ReferenceEvaluator

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            got: dict = ReferenceEvaluator(model).run(None, feeds, intermediate=True)  # type: ignore[assignment]
        return {k: np.asarray(v) for k, v in got.items() if k not in feeds}
    from polygraphy import constants
    from polygraphy.backend.onnx import modify_outputs
    from polygraphy.backend.onnxrt import OnnxrtRunner
    from polygraphy.logger import G_LOGGER

    from .reference import session

    marked = modify_outputs(copy.deepcopy(model), outputs=constants.MARK_ALL)
    # the book's one-thread CPU session (deterministic); Polygraphy's SessionFromOnnx also works
    with G_LOGGER.verbosity(G_LOGGER.ERROR), OnnxrtRunner(session(marked)) as runner:
        got = runner.infer(feeds)
    return {k: np.asarray(v) for k, v in got.items()}


@dataclass(frozen=True)
class TensorDiff:
    """One tensor of a test run against the same tensor of a reference run."""

    tensor: str
    op: str
    max_abs: float        # largest |test - ref| over finite test values
    scale: float          # largest |ref|
    nonfinite: int        # inf or NaN in the test tensor (where the reference is finite)
    passed: bool          # |test - ref| <= atol + rtol*|ref| everywhere, and all finite

    @property
    def scaled(self) -> float:
        """``max_abs / scale``: the error relative to the tensor's magnitude."""
        return self.max_abs / self.scale if self.scale > 0 else self.max_abs


def compare_tensors(reference: dict, test: dict, order: list[tuple[str, str, str]], atol: float = 1e-2,
                    rtol: float = 1e-2) -> list[TensorDiff]:
    """The tensors present in both runs, in ``order`` (from :func:`graph_order`), with their errors.

    The pass rule is Polygraphy's element-wise one, ``|test - ref| <= atol + rtol * |ref|``; the
    default tolerances suit FP16 against FP32 (FP16 keeps about three decimal digits).
    """
    rows = []
    for name, op, _ in order:
        if name not in reference or name not in test:
            continue
        r = np.asarray(reference[name], np.float64)
        t = np.asarray(test[name], np.float64)
        if r.shape != t.shape:
            raise InputError(f"tensor {name!r} has shape {r.shape} in the reference and {t.shape} in the test run")
        bad = ~np.isfinite(t) & np.isfinite(r)
        ok = np.isfinite(t)
        diff = np.abs(t - r)[ok]
        within = np.all(diff <= atol + rtol * np.abs(r[ok])) and not bad.any()
        rows.append(TensorDiff(name, op, float(diff.max(initial=0.0)), float(np.abs(r).max(initial=0.0)),
                               int(bad.sum()), bool(within)))
    if not rows:
        raise InputError("the two runs share no tensor names: were they made from the same model?")
    return rows


def first_divergence(rows: list[TensorDiff]) -> TensorDiff | None:
    """The first tensor, in graph order, that fails the comparison; ``None`` if all pass."""
    return next((r for r in rows if not r.passed), None)


def format_table(rows: list[TensorDiff]) -> str:
    """A fixed-width table: tensor, op, max |error|, max |ref|, error / max |ref|, non-finite, verdict."""
    lines = [f"{'tensor':<10} {'op':<10} {'max abs err':>11} {'max |ref|':>10} {'scaled':>9} {'inf/nan':>7}  verdict",
             "-" * 70]
    first = first_divergence(rows)
    for r in rows:
        verdict = "ok" if r.passed else ("FIRST FAIL" if r is first else "fail")
        lines.append(f"{r.tensor:<10} {r.op:<10} {r.max_abs:>11.3g} {r.scale:>10.4g} {r.scaled:>9.2e} "
                     f"{r.nonfinite:>7}  {verdict}")
    return "\n".join(lines)
