"""FP16 versions of ONNX models, strict FP16 execution, and tensor-by-tensor comparison (chapter 6).

- :func:`to_fp16` converts an FP32 ONNX model with onnxconverter-common's ``float16`` converter
  (Microsoft's maintained one; ModelOpt AutoCast, the tool NVIDIA names for TensorRT 11, needs
  PyTorch and is shown in the chapter for GPU machines), then repairs what that converter is known
  to get wrong (``Cast`` nodes whose outputs it retypes, unnamed nodes, ``Constant`` floats) and
  validates the result: onnx's full check, an ONNX Runtime load and one run. Weights float16 cannot
  hold are refused (or clamped on request), and every clamp is reported (:func:`fp16_clamps`).
- :func:`run_tensors` runs a model with **every** tensor marked as an output, the FAQ's way of
  looking inside a network: on ONNX Runtime's CPU provider through Polygraphy, or on ONNX's
  reference evaluator (``onnx.reference``), which stores every tensor in the model's own type
  (``"strict"``: what an FP16 engine's tensors hold; ONNX Runtime's CPU provider computes many
  float16 operators in float32 and keeps intermediate results in float32). The reference evaluator
  is corrected for old-opset operators it implements wrongly (BatchNormalization 6-13 read as
  training mode, Softmax/LogSoftmax/Hardmax before opset 13, the Dropout mask before opset 10);
  :func:`check_strict` proves, per model, that strict FP32 agrees with ONNX Runtime FP32.
- :func:`compare_tensors` lines the tensors of two runs up in graph order with Polygraphy's own
  per-tensor verdict and an error measured in float16 spacings (ulps) at the tensor's magnitude;
  :func:`first_divergence` and :func:`rank_divergence` find where that error jumps.
"""
from __future__ import annotations

import copy
import difflib
import math
import numbers
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BookError, InputError

BACKENDS = ("onnxruntime", "strict")
FP16_MAX = 65504.0            # float16's largest finite value
FP16_TINY = 2.0 ** -24        # float16's smallest positive (subnormal) value
FP16_NORMAL = 2.0 ** -14      # float16's smallest normal value
#: default for :func:`first_divergence`: an error this many times its inputs' error is a divergence
JUMP = 32.0
_FLOAT16, _FLOAT, _DOUBLE = 10, 1, 11  # onnx.TensorProto.FLOAT16 / FLOAT / DOUBLE
#: onnx element type -> numpy dtype, for the inputs a caller can feed
_NUMPY = {1: np.float32, 10: np.float16, 11: np.float64, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16,
          6: np.int32, 7: np.int64, 9: np.bool_, 12: np.uint32, 13: np.uint64}


class ClampWarning(UserWarning):
    """:func:`to_fp16` changed weights that float16 cannot hold (see :func:`fp16_clamps`)."""


# ----- models and their inputs -------------------------------------------------------------------

def _short(names: Iterable[str], limit: int = 5) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def load_model(model, what: str = "model"):
    """``model`` as an ``onnx.ModelProto``: a ModelProto, serialized bytes, or a path to an ``.onnx``
    file; anything else is a one-line :class:`InputError`. A ModelProto is returned as it is."""
    import onnx

    if isinstance(model, onnx.ModelProto):
        m = model
    elif isinstance(model, (bytes, bytearray)):
        try:
            m = onnx.load_from_string(bytes(model))
        except Exception:  # protobuf's DecodeError
            raise InputError(f"the {what} bytes are not an ONNX model") from None
    elif isinstance(model, (str, os.PathLike)):
        path = Path(model)
        if not str(model).strip():
            raise InputError(f"the {what} path is empty: pass an onnx.ModelProto or an .onnx file")
        if not path.exists():
            raise InputError(f"ONNX model file {path.name!r} does not exist")
        if path.is_dir():
            raise InputError(f"{path.name!r} is a folder, not an ONNX model file")
        try:
            m = onnx.load(str(path))
        except Exception:  # protobuf's DecodeError, onnx's own errors, OSError
            raise InputError(f"{path.name!r} is not an ONNX model (it does not parse)") from None
    elif isinstance(model, onnx.GraphProto):
        raise InputError(f"the {what} is an onnx.GraphProto: wrap it with onnx.helper.make_model(graph)")
    else:
        raise InputError(f"the {what} must be an onnx.ModelProto or a path to an .onnx file, "
                         f"got {type(model).__name__}")
    if not m.HasField("graph") or not m.graph.node:
        raise InputError(f"the {what} has no graph nodes: is it an ONNX model?")
    return m


def _initializer_names(model) -> set[str]:
    return {i.name for i in model.graph.initializer}


def _input_types(model) -> dict[str, int]:
    """Element types of the inputs a caller must feed (graph inputs that are not initializers)."""
    inits = _initializer_names(model)
    return {i.name: i.type.tensor_type.elem_type for i in model.graph.input if i.name not in inits}


class GraphTensor(tuple):
    """``(tensor, op type, node name)``; ``.inputs`` names the producing node's inputs (``None`` when
    the entry came from a plain tuple and they are unknown)."""

    inputs: tuple[str, ...] | None

    def __new__(cls, tensor: str, op: str, node: str, inputs: Iterable[str] | None = None):
        self = super().__new__(cls, (tensor, op, node))
        self.inputs = None if inputs is None else tuple(i for i in inputs if i)
        return self


def graph_order(model) -> list[GraphTensor]:
    """``(tensor, op type, node name)`` for every node output, in the graph's (topological) order.
    Each entry unpacks as a 3-tuple and also carries ``.inputs``, the producing node's inputs."""
    m = load_model(model)
    return [GraphTensor(out, node.op_type, node.name, node.input)
            for node in m.graph.node for out in node.output if out]


def _asarray(value, what: str) -> np.ndarray:
    try:
        return np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists
        raise InputError(f"{what} is not a rectangular array") from None


def _check_feed(name: str, arr, elem_type: int, dims) -> np.ndarray:
    a = _asarray(arr, f"input {name!r}")
    if a.dtype == object or a.dtype.kind in "USV":
        raise InputError(f"input {name!r} must be a numeric array, got dtype {a.dtype}")
    if a.size == 0:
        raise InputError(f"input {name!r} is empty (shape {a.shape})")
    numpy_type = _NUMPY.get(elem_type)
    if numpy_type is None:
        raise InputError(f"input {name!r} has ONNX element type {elem_type}, which numpy cannot feed")
    want = np.dtype(numpy_type)
    if want.kind == "f":
        if a.dtype.kind not in "fiub":
            raise InputError(f"input {name!r} takes {want.name}, got {a.dtype}")
        bad = int(np.count_nonzero(~np.isfinite(a))) if a.dtype.kind == "f" else 0
        if bad:
            raise InputError(f"input {name!r} holds {bad} NaN or inf value(s): feed finite data")
    elif want.kind in "iu":
        if a.dtype.kind not in "iub":
            raise InputError(f"input {name!r} takes {want.name} (integers), got {a.dtype}")
        info = np.iinfo(want)  # type: ignore[type-var]  # an integer dtype here (kind "iu")
        if a.dtype.kind != "b" and (a.min() < info.min or a.max() > info.max):
            raise InputError(f"input {name!r} has values outside {want.name}'s range")
    elif a.dtype != want:
        raise InputError(f"input {name!r} takes {want.name}, got {a.dtype}")
    if dims is not None:
        if a.ndim != len(dims):
            raise InputError(f"input {name!r} must have rank {len(dims)} {_dims_text(dims)}, got shape {a.shape}")
        for d, g in zip(dims, a.shape):
            if isinstance(d, int) and d > 0 and d != g:
                raise InputError(f"input {name!r} must have shape {_dims_text(dims)}, got {a.shape}")
    return a.astype(want, copy=False)


def _dims_text(dims) -> str:
    return "(" + ", ".join(str(d) if isinstance(d, int) and d > 0 else (d if isinstance(d, str) and d else "?")
                           for d in dims) + ")"


def _declared_dims(value_info):
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return None
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in t.shape.dim]


def cast_feeds(model, feeds) -> dict[str, np.ndarray]:
    """``feeds`` checked against the model's inputs (names, rank, fixed dimensions, finite values) and
    converted to their types (float32 <-> float16), as a caller of an FP16 model must do. Inputs that
    are initializers (older models list every weight as an input) may be left out."""
    m = load_model(model)
    if not isinstance(feeds, Mapping):
        raise InputError(f"feeds must be a dict {{input name: array}}, got {type(feeds).__name__}")
    inits = _initializer_names(m)
    declared = {i.name: i for i in m.graph.input}
    required = [n for n in declared if n not in inits]
    unknown = [k for k in feeds if k not in declared]
    missing = [k for k in required if k not in feeds]
    if unknown or missing:
        raise InputError(f"model inputs are [{_short(required)}], got [{_short(map(str, feeds))}]")
    return {k: _check_feed(k, v, declared[k].type.tensor_type.elem_type, _declared_dims(declared[k]))
            for k, v in feeds.items()}


# ----- FP16 conversion ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Clamp:
    """Weights of one initializer (or constant) that the FP16 conversion changes."""

    tensor: str                 # initializer name, or "node/attribute" for a constant inside a node
    nodes: tuple[str, ...]      # the nodes that read it
    kind: str                   # "overflow" (|v| > max_finite) or "underflow" (0 < |v| < min_positive)
    count: int                  # how many values change
    worst: float                # largest |v| (overflow) or smallest nonzero |v| (underflow)
    to: float                   # what they become: max_finite or min_positive (sign kept)

    def __str__(self) -> str:
        how = f"up to {self.worst:.3g}" if self.kind == "overflow" else f"down to {self.worst:.3g}"
        return f"{self.tensor!r} ({self.count} value(s) {how} -> {self.to:.3g}, read by {_short(self.nodes, 2)})"


def _real(value, name: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {type(value).__name__}")
    v = float(value)
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {v}")
    if low is not None and v < low:
        raise InputError(f"{name} must be at least {low:g}, got {v:g}")
    if high is not None and v > high:
        raise InputError(f"{name} must be at most {high:g}, got {v:g}")
    return v


def _clamp_limits(max_finite, min_positive) -> tuple[float, float]:
    hi = _real(max_finite, "max_finite", 1.0, FP16_MAX)
    lo = _real(min_positive, "min_positive", 0.0, FP16_NORMAL)
    return hi, lo


def _converted_tensors(m, blocked: set[str]):
    """(label, array, readers) for every float32 tensor the converter turns into float16: initializers
    and tensors held in node attributes (a Constant's is labelled by its output, read by its consumers)."""
    from onnx import numpy_helper

    readers: dict[str, list[str]] = {}
    for node in m.graph.node:
        for i in node.input:
            readers.setdefault(i, []).append(node.name)
    kept = {i for node in m.graph.node if node.name in blocked for i in node.input}
    for init in m.graph.initializer:
        if init.data_type == _FLOAT and init.name not in kept:
            yield init.name, numpy_helper.to_array(init), tuple(readers.get(init.name, ()))
    for node in m.graph.node:
        if node.name in blocked:
            continue
        for attr in node.attribute:
            tensors = ([attr.t] if attr.HasField("t") else []) + list(attr.tensors)
            for t in tensors:
                if t.data_type != _FLOAT:
                    continue
                if node.op_type == "Constant" and node.output:
                    yield node.output[0], numpy_helper.to_array(t), tuple(readers.get(node.output[0], ()))
                else:
                    yield f"{node.name}/{attr.name}", numpy_helper.to_array(t), (node.name,)


def _blocked(m, keep_fp32) -> set[str]:
    """Nodes the conversion keeps in FP32: ``keep_fp32`` and onnxconverter-common's own op block list."""
    from onnxconverter_common import float16

    default = set(float16.DEFAULT_OP_BLOCK_LIST)
    return set(_resolve_keep(m, keep_fp32)) | {n.name for n in m.graph.node if n.op_type in default}


def fp16_clamps(model, max_finite: float = FP16_MAX, min_positive: float = FP16_TINY,
                keep_fp32=()) -> list[Clamp]:
    """Every weight the FP16 conversion of ``model`` changes: values beyond ``max_finite`` (they
    become ``max_finite``; float16 holds at most 65504) and nonzero values below ``min_positive``
    (they become ``min_positive``; float16 flushes values below 2**-25 to zero). Nodes in
    ``keep_fp32`` keep their weights in float32."""
    m = _named(load_model(model))
    hi, lo = _clamp_limits(max_finite, min_positive)
    blocked = _blocked(m, keep_fp32)
    out = []
    for label, arr, nodes in _converted_tensors(m, blocked):
        a = np.abs(np.asarray(arr, np.float64))
        over = a > hi
        if over.any():
            out.append(Clamp(label, nodes, "overflow", int(over.sum()), float(a[over].max()), hi))
        under = (a > 0) & (a < lo)
        if under.any():
            out.append(Clamp(label, nodes, "underflow", int(under.sum()), float(a[under].min()), lo))
    return out


def _named(m):
    """A copy of ``m`` in which every node has a unique name (the converter keys its work on names)."""
    m = copy.deepcopy(m)
    seen: set[str] = set()
    taken = {n.name for n in m.graph.node}
    for i, node in enumerate(m.graph.node):
        if not node.name or node.name in seen:
            base = f"{node.op_type}_{i}"
            name, k = base, 1
            while name in taken or name in seen:
                name, k = f"{base}_{k}", k + 1
            node.name = name
        seen.add(node.name)
    return m


def _resolve_keep(m, keep_fp32) -> list[str]:
    """Node names for ``keep_fp32`` entries, each a node name or the name of a tensor a node makes."""
    if isinstance(keep_fp32, str):
        keep_fp32 = (keep_fp32,)
    if not isinstance(keep_fp32, Iterable) or isinstance(keep_fp32, (bytes, Mapping)):
        raise InputError(f"keep_fp32 must be a list of node names, got {type(keep_fp32).__name__}")
    keep = list(keep_fp32)
    if not all(isinstance(k, str) for k in keep):
        raise InputError("keep_fp32 must hold node names (strings)")
    by_node = {n.name: n.name for n in m.graph.node}
    by_tensor = {o: n.name for n in m.graph.node for o in n.output if o}
    names = []
    for k in keep:
        if k in by_node:
            names.append(by_node[k])
        elif k in by_tensor:
            names.append(by_tensor[k])
        else:
            close = difflib.get_close_matches(k, list(by_node) + list(by_tensor), n=3)
            hint = f" (close: {_short(close)})" if close else " (precision.graph_order(model) lists them)"
            raise InputError(f"no node or tensor named {k!r} in the model{hint}")
    return names


def _prepare(m, blocked: set[str]) -> set[str]:
    """Fix the FP32 copy before conversion, so that kept nodes really read float32 weights. Returns
    the names of the model's own Cast nodes."""
    from onnx import helper, numpy_helper

    # Constant nodes holding value_float(s): give them a tensor, which the converter converts
    for node in m.graph.node:
        if node.op_type == "Constant":
            for attr in list(node.attribute):
                if attr.name in ("value_float", "value_floats"):
                    arr = np.array(attr.f if attr.name == "value_float" else list(attr.floats), np.float32)
                    node.attribute.remove(attr)
                    node.attribute.append(helper.make_attribute("value", numpy_helper.from_array(arr)))
    consumers: dict[str, list] = {}
    for node in m.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node)
    # Weights read by kept nodes must stay float32. The converter leaves an initializer alone when a
    # kept node reads it (then a converted reader would get the wrong type) and converts Constant
    # nodes regardless: kept nodes get their own float32 initializer copy of either.
    inits = {i.name: i for i in m.graph.initializer}
    as_input = {i.name: i for i in m.graph.input}
    constants = {n.output[0]: n for n in m.graph.node
                 if n.op_type == "Constant" and n.output and n.attribute and n.attribute[0].name == "value"}
    ir3 = bool(as_input.keys() & inits.keys())
    for node in list(m.graph.node):
        if node.name not in blocked:
            continue
        for j, name in enumerate(node.input):
            shared = any(c.name not in blocked for c in consumers.get(name, ()))
            if name in inits and inits[name].data_type == _FLOAT and shared:
                source = inits[name]
            elif name in constants and constants[name].attribute[0].t.data_type == _FLOAT:
                source = constants[name].attribute[0].t
            else:
                continue
            t = m.graph.initializer.add()
            t.CopyFrom(source)
            t.name = f"{name}__fp32_{node.name}"
            if ir3:  # IR < 4: every initializer is also listed as a graph input
                dims = list(numpy_helper.to_array(source).shape)
                m.graph.input.append(helper.make_tensor_value_info(t.name, _FLOAT, dims))
            node.input[j] = t.name
    used = {i for n in m.graph.node for i in n.input} | {o.name for o in m.graph.output}
    for out, const in constants.items():
        if out not in used:  # a Constant only kept nodes read: now unused
            m.graph.node.remove(const)
    return {n.name for n in m.graph.node if n.op_type == "Cast"}


_TYPED_OUTPUT_OPS = ("RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "EyeLike", "Bernoulli")


def _repair(m16, own_casts: set[str], blocked: set[str]) -> list[str]:
    """Undo what onnxconverter-common gets wrong; returns what was changed, for the record."""
    fixes = []
    types = {v.name: v.type.tensor_type.elem_type for v in list(m16.graph.value_info) + list(m16.graph.output)}
    for node in m16.graph.node:
        if node.name in blocked:
            continue
        for attr in node.attribute:
            # the converter retypes every float32 value_info to float16, including the outputs of the
            # model's own Cast(to=FLOAT) nodes, which then contradict their 'to' attribute
            own_cast = node.op_type == "Cast" and node.name in own_casts and attr.name == "to" \
                and types.get(node.output[0], _FLOAT16) == _FLOAT16
            typed = node.op_type in _TYPED_OUTPUT_OPS and attr.name == "dtype"
            if (own_cast or typed) and attr.i == _FLOAT:
                attr.i = _FLOAT16
                fixes.append(node.name)
    # IR < 4: an initializer's graph-input entry must keep the initializer's own type
    inits = {i.name: i.data_type for i in m16.graph.initializer}
    for vi in m16.graph.input:
        if vi.name in inits and vi.type.tensor_type.elem_type != inits[vi.name]:
            vi.type.tensor_type.elem_type = inits[vi.name]
    return fixes


def _first_line(exc: BaseException, limit: int = 240) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = re.sub(r"^\[ONNXRuntimeError\] : \d+ : \w+ : ", "", text)
    return text[:limit] + ("..." if len(text) > limit else "")


def _smoke_feeds(m, sample) -> dict | None:
    """``sample`` if given; otherwise one small input per model input (dynamic dimensions 1 for the
    first axis, 32 for the others), or None where an input cannot be made up."""
    if sample is not None:
        return sample
    rng = np.random.default_rng(0)
    feeds = {}
    for vi in m.graph.input:
        if vi.name in _initializer_names(m):
            continue
        dims = _declared_dims(vi)
        dtype = _NUMPY.get(vi.type.tensor_type.elem_type)
        if dims is None or dtype is None:
            return None
        shape = tuple(d if isinstance(d, int) and d > 0 else (1 if j == 0 else 32) for j, d in enumerate(dims))
        dt = np.dtype(dtype)
        feeds[vi.name] = (rng.uniform(-1, 1, shape) if dt.kind == "f" else np.zeros(shape)).astype(dt)
    return feeds


def check_fp16(model16, original=None, sample=None) -> None:
    """Validate a converted model: onnx's full check (strict shape and type inference), an ONNX
    Runtime load and one run (on ``sample`` feeds, or small made-up ones when ``original`` runs on
    them too). One-line :class:`BookError` naming the first problem."""
    import onnx

    m16 = load_model(model16, "FP16 model")
    try:
        onnx.checker.check_model(m16, full_check=True)
    except Exception as exc:  # onnx raises ValidationError, InferenceError and others
        raise BookError(f"the FP16 model fails onnx's full check: {_first_line(exc)}") from None
    from .reference import session

    try:
        sess = session(m16)
    except InputError as exc:
        raise BookError(f"the FP16 model does not load: {exc}") from None
    feeds = _smoke_feeds(m16, sample)
    if feeds is None:
        return
    if sample is None and original is not None:
        try:  # made-up inputs are only a test if the FP32 model accepts them
            session(original).run(None, cast_feeds(original, feeds))
        except Exception:
            return
    try:
        names = [o.name for o in sess.get_outputs()]
        sess.run(names, cast_feeds(m16, feeds))
    except InputError:
        raise
    except Exception as exc:  # ONNX Runtime's own exception types
        raise BookError(f"the FP16 model loads but does not run: {_first_line(exc)}") from None


def to_fp16(model, *, keep_io_types: bool = False, keep_fp32=(), max_finite: float = FP16_MAX,
            min_positive: float = FP16_TINY, on_overflow: str = "error", validate: bool = True, sample=None):
    """A float16 copy of FP32 ``model`` (a ModelProto or an .onnx path): weights and activations in
    float16, validated.

    ``keep_io_types=False`` (the default here, as in AutoCast) makes the model's inputs and outputs
    float16 too; ``True`` keeps them float32 behind Cast nodes. ``keep_fp32`` names nodes (or the
    tensors they make) that stay in FP32, with Casts around them; onnxconverter-common also keeps its
    own block list in FP32 (Resize, Range, TopK, Min, Max, ...).

    Weights beyond ``max_finite`` (default 65504, float16's largest value) cannot be held:
    ``on_overflow="error"`` refuses the model naming them and their nodes (keep those nodes in FP32),
    ``"clamp"`` clamps them to ``max_finite`` with a :class:`ClampWarning`. Nonzero weights below
    ``min_positive`` become ``min_positive`` (a :class:`ClampWarning` reports them).
    :func:`fp16_clamps` lists every clamp. ``validate`` runs :func:`check_fp16` (on ``sample``
    feeds when given).
    """
    try:
        from onnxconverter_common import float16
    except ImportError:
        raise InputError("FP16 conversion needs onnxconverter-common: pip install onnxconverter-common") from None
    m = _named(load_model(model))
    if not isinstance(keep_io_types, bool):
        raise InputError(f"keep_io_types must be True or False, got {keep_io_types!r}")
    if on_overflow not in ("error", "clamp"):
        raise InputError(f"on_overflow must be 'error' or 'clamp', got {on_overflow!r}")
    hi, lo = _clamp_limits(max_finite, min_positive)
    if any(t == _FLOAT16 for t in _input_types(m).values()) or \
            any(i.data_type == _FLOAT16 for i in m.graph.initializer):
        raise InputError("the model already holds float16 inputs or weights: convert the FP32 original")
    if not any(i.data_type == _FLOAT for i in m.graph.initializer) and _FLOAT not in _input_types(m).values():
        raise InputError("the model has no float32 inputs or weights: there is nothing to convert")
    keep = _resolve_keep(m, keep_fp32)
    blocked = _blocked(m, keep)
    own_casts = _prepare(m, blocked)
    clamps = fp16_clamps(m, hi, lo, sorted(blocked))
    over = [c for c in clamps if c.kind == "overflow"]
    if over and on_overflow == "error":
        nodes = sorted({n for c in over for n in c.nodes})
        raise InputError(f"{len(over)} weight tensor(s) hold values beyond max_finite={hi:g} that float16 "
                         f"cannot hold: {'; '.join(map(str, over[:3]))}{' ...' if len(over) > 3 else ''}; keep "
                         f"their nodes in FP32 (keep_fp32={tuple(nodes[:4])!r}) or pass on_overflow='clamp'")
    for kind, group in (("clamped", over), ("raised tiny", [c for c in clamps if c.kind == "underflow"])):
        if group:
            total = sum(c.count for c in group)
            warnings.warn(f"to_fp16 {kind} {total} value(s) in {len(group)} tensor(s): "
                          f"{'; '.join(map(str, group[:4]))}{' ...' if len(group) > 4 else ''} "
                          "(precision.fp16_clamps lists them all)", ClampWarning, stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the converter's own unnamed "will be truncated" warnings
        try:
            m16 = float16.convert_float_to_float16(m, min_positive_val=lo, max_finite_val=hi,
                                                   keep_io_types=keep_io_types, node_block_list=sorted(keep))
        except Exception as exc:  # the converter raises ValueError, AssertionError, KeyError, ...
            raise BookError(f"onnxconverter-common could not convert the model: {_first_line(exc)}") from None
    _repair(m16, own_casts, blocked)
    if validate:
        check_fp16(m16, original=m, sample=sample)
    return m16


# ----- running every tensor ----------------------------------------------------------------------

def _strict_ops() -> list:
    """Corrections to ``onnx.reference`` for operators it evaluates wrongly in old opsets."""
    from onnx.reference.op_run import OpRun
    from onnx.reference.ops.op_batch_normalization import _batchnorm_test_mode

    def opset(op) -> int:
        return int(op.run_params["opsets"].get("", 1))

    def n_outputs(op) -> int:
        return sum(1 for o in op.onnx_node.output if o)

    class BatchNormalization(OpRun):
        # onnx.reference reads the 'momentum' attribute (always filled in from the schema default)
        # as training mode for opsets 9-13, and missing 'is_test' as training for 6-8. ONNX's spec
        # for opsets 7-13: one output is inference ("test mode"), five outputs are training.
        op_domain = ""

        def _run(self, x, scale, bias, mean, var, **attrs):
            training = attrs.get("training_mode") if opset(self) >= 14 else n_outputs(self) > 1
            if training:
                raise BookError(f"node {self.onnx_node.name!r}: BatchNormalization in training mode is not "
                                "an inference graph (export the model in eval mode)")
            eps = attrs.get("epsilon")
            return (_batchnorm_test_mode(x, scale, bias, mean, var, epsilon=1e-5 if eps is None else eps),)

    class Dropout(OpRun):
        # inference: the output is the input; before opset 10 the mask has the input's type and is
        # "not filled" in test mode (ONNX Runtime writes zeros), from opset 10 it is a bool of ones
        op_domain = ""

        def _run(self, x, *rest, **attrs):
            if opset(self) >= 12 and len(rest) >= 2 and rest[1] is not None and bool(np.asarray(rest[1])):
                raise BookError(f"node {self.onnx_node.name!r}: Dropout in training mode is not an inference graph")
            if n_outputs(self) < 2:
                return (x,)
            mask = np.ones(x.shape, np.bool_) if opset(self) >= 10 else np.zeros(x.shape, x.dtype)
            return (x, mask)

    def coerced(kind):
        class Op(OpRun):
            # before opset 13 these operators flatten the input to 2-D at 'axis' (default 1) and work
            # on the second dimension; onnx.reference applies opset 13's per-axis meaning to every opset
            op_domain = ""

            def _run(self, x, **attrs):
                given = any(a.name == "axis" for a in self.onnx_node.attribute)
                axis = attrs.get("axis") if given else (1 if opset(self) < 13 else -1)
                axis = int(axis) % max(x.ndim, 1)
                if opset(self) < 13:
                    flat = x.reshape(int(np.prod(x.shape[:axis], dtype=np.int64)), -1)
                    return (_normalize(kind, flat, 1).reshape(x.shape),)
                return (_normalize(kind, x, axis),)

        Op.__name__ = Op.__qualname__ = kind
        return Op

    return [BatchNormalization, Dropout, coerced("Softmax"), coerced("LogSoftmax"), coerced("Hardmax")]


def _normalize(kind: str, x: np.ndarray, axis: int) -> np.ndarray:
    if x.size == 0:
        return x
    if kind == "Hardmax":
        out = np.zeros_like(x)
        np.put_along_axis(out, np.expand_dims(np.argmax(x, axis=axis), axis), 1, axis=axis)
        return out
    tmp = x - x.max(axis=axis, keepdims=True)
    if kind == "LogSoftmax":
        return (tmp - np.log(np.exp(tmp).sum(axis=axis, keepdims=True))).astype(x.dtype)
    y = np.exp(tmp)
    return (y / y.sum(axis=axis, keepdims=True)).astype(x.dtype)


class _NodeFailed(Exception):
    def __init__(self, node, exc):
        super().__init__(node.name)
        self.node, self.exc = node, exc


def _run_strict(m, feeds) -> dict:
    from onnx.reference import ReferenceEvaluator

    try:
        evaluator = ReferenceEvaluator(m, new_ops=_strict_ops())
    except Exception as exc:  # onnx.reference raises NotImplementedError, AttributeError, RuntimeError, ...
        raise BookError(f"the strict evaluator (onnx.reference) cannot load the model: {_first_line(exc)}") from None
    for rt in evaluator.rt_nodes_:
        def wrapped(*args, _run=rt.run, _node=rt.onnx_node, **kwargs):
            try:
                return _run(*args, **kwargs)
            except (_NodeFailed, BookError):
                raise
            except Exception as exc:  # numpy and onnx.reference raise anything
                raise _NodeFailed(_node, exc) from None
        rt.run = wrapped
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return evaluator.run(None, feeds, intermediate=True)  # type: ignore[return-value]
    except _NodeFailed as exc:
        raise BookError(f"the strict evaluator failed at node {exc.node.name!r} ({exc.node.op_type}): "
                        f"{_first_line(exc.exc)}") from None
    except (RuntimeError, ValueError, TypeError) as exc:
        raise BookError(f"the strict evaluator failed: {_first_line(exc)}") from None


def _run_onnxruntime(m, feeds) -> dict:
    from polygraphy import constants
    from polygraphy.backend.onnx import modify_outputs
    from polygraphy.backend.onnxrt import OnnxrtRunner
    from polygraphy.exception import PolygraphyException
    from polygraphy.logger import G_LOGGER

    from .reference import session

    with G_LOGGER.verbosity(G_LOGGER.CRITICAL):
        try:
            marked = modify_outputs(copy.deepcopy(m), outputs=constants.MARK_ALL)
        except PolygraphyException as exc:
            raise BookError(f"Polygraphy could not mark every tensor as an output: {_first_line(exc)}") from None
        sess = session(marked)  # the book's one-thread CPU session; Polygraphy's SessionFromOnnx also works
        try:
            with OnnxrtRunner(sess) as runner:
                return dict(runner.infer(feeds))
        except PolygraphyException as exc:
            raise BookError(f"Polygraphy refused the inputs: {_first_line(exc)}") from None
        except Exception as exc:  # ONNX Runtime's own exception types
            raise BookError(f"ONNX Runtime failed to run the model: {_first_line(exc)}") from None


def run_tensors(model, feeds, backend: str = "onnxruntime") -> dict[str, np.ndarray]:
    """Every tensor of ``model`` on ``feeds`` (checked, and cast to the model's input types), by name.

    ``"onnxruntime"``: Polygraphy's ONNX Runtime runner on the model with all tensors marked as
    outputs (``polygraphy run --onnxrt --onnx-outputs mark all``). ``"strict"``: ONNX's reference
    evaluator, every tensor stored in its declared type, corrected for the old-opset operators it
    gets wrong (see the module docstring; :func:`check_strict` checks a model).
    """
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
    m = load_model(model)
    typed = cast_feeds(m, feeds)
    got = _run_strict(m, typed) if backend == "strict" else _run_onnxruntime(m, typed)
    made = {t for t, _, _ in graph_order(m)}
    return {k: np.asarray(v) for k, v in got.items() if k in made}


def check_strict(model, feeds, rtol: float = 1e-4, atol: float = 1e-6) -> int:
    """Prove that the strict evaluator computes ``model`` (an FP32 model) as ONNX Runtime does:
    every tensor within ``atol + rtol * max|reference|`` (``atol`` allows for ONNX Runtime's
    approximate Sigmoid and Tanh kernels). Returns the number of tensors compared; one-line
    :class:`BookError` naming the first tensor that disagrees. Run it before trusting strict FP16."""
    rtol = _real(rtol, "rtol", 0.0, 1.0)
    atol = _real(atol, "atol", 0.0, 1e30)
    m = load_model(model)
    ort = run_tensors(m, feeds, "onnxruntime")
    strict = run_tensors(m, feeds, "strict")
    compared = 0
    for name, op, _ in graph_order(m):
        if name not in ort or name not in strict:
            continue
        r, s = np.asarray(ort[name]), np.asarray(strict[name])
        compared += 1
        if r.shape != s.shape or r.dtype != s.dtype:
            raise BookError(f"strict and ONNX Runtime disagree on tensor {name!r} ({op}): shape/type "
                            f"{s.shape} {s.dtype} vs {r.shape} {r.dtype}")
        if r.dtype.kind not in "fc":
            if not np.array_equal(r, s):
                raise BookError(f"strict and ONNX Runtime disagree on tensor {name!r} ({op})")
            continue
        r64, s64 = r.astype(np.float64), s.astype(np.float64)
        same_nonfinite = np.array_equal(~np.isfinite(r64), ~np.isfinite(s64))
        both = np.isfinite(r64) & np.isfinite(s64)
        scale = float(np.abs(r64[both]).max(initial=0.0))
        err = float(np.abs(r64 - s64)[both].max(initial=0.0))
        if not same_nonfinite or err > atol + rtol * scale:
            raise BookError(f"strict and ONNX Runtime disagree on tensor {name!r} ({op}): max error {err:.3g} "
                            f"at scale {scale:.3g}; do not trust strict results for this model")
    if not compared:
        raise BookError("the two backends share no tensors: nothing to check")
    return compared


# ----- comparing ---------------------------------------------------------------------------------

def ulp16(value: float) -> float:
    """The spacing of float16 numbers at ``|value|`` (2**-24 below float16's normal range; values past
    65504 get the spacing float16 would have there, had it the exponent)."""
    if isinstance(value, float) and math.isinf(value):
        return math.inf
    v = abs(_real(value, "value"))
    if not math.isfinite(v):
        return math.inf
    if v < FP16_NORMAL:
        return FP16_TINY
    return 2.0 ** (math.frexp(v)[1] - 1 - 10)


@dataclass(frozen=True)
class TensorDiff:
    """One tensor of a test run against the same tensor of a reference run."""

    tensor: str
    op: str
    max_abs: float        # largest |test - ref| where both are finite
    scale: float          # largest finite |ref|
    nonfinite: int        # inf or NaN in the test tensor where the reference is finite
    passed: bool          # Polygraphy's verdict: no element with |d| > atol AND |d|/|ref| > rtol
    node: str = ""
    mismatches: int = 0   # elements failing Polygraphy's rule
    size: int = 0
    ulps: float = 0.0     # max_abs in float16 spacings at the tensor's magnitude; inf if inf/NaN appear
    jump: float = math.nan  # ulps over the largest ulps of the producing node's inputs (at least 1)
    note: str = ""        # why a tensor could not be compared value by value

    @property
    def scaled(self) -> float:
        """``max_abs / scale``: the error relative to the tensor's magnitude."""
        return self.max_abs / self.scale if self.scale > 0 else self.max_abs


_EPS = 2.220446049250313e-16  # Polygraphy adds this to zeros of the reference before dividing


def _cast_up(a: np.ndarray) -> np.ndarray:
    """Polygraphy's ``comparator.util.cast_up``: float16 to float32, small integers to int32/int64."""
    if a.dtype == np.float16:
        return a.astype(np.float32)
    if a.dtype in (np.int8, np.uint8, np.int16, np.uint16):
        return a.astype(np.int32)
    if a.dtype == np.uint32:
        return a.astype(np.int64)
    return a


def polygraphy_mismatches(test, reference, atol: float, rtol: float) -> np.ndarray:
    """Polygraphy's element-wise check (``SimpleCompareFunc``, ``check_error_stat="elemwise"``,
    Polygraphy 0.53): an element fails when ``|t - r| > atol`` (or is NaN) **and**
    ``|t - r| / |r| > rtol`` (or is NaN), zeros of ``r`` raised by 2.2e-16 first, in the dtypes
    Polygraphy uses (float16 cast up to float32). Returns the boolean mask of failing elements."""
    t, r = _asarray(test, "the test tensor"), _asarray(reference, "the reference tensor")
    for a, which in ((t, "test"), (r, "reference")):
        if a.dtype == object or a.dtype.kind not in "biuf":
            raise InputError(f"the {which} tensor must be numeric, got dtype {a.dtype}")
    if t.shape != r.shape:
        raise InputError(f"cannot compare shapes {t.shape} and {r.shape} element by element")
    atol, rtol = _real(atol, "atol", 0.0, 1e300), _real(rtol, "rtol", 0.0, 1e300)
    if t.dtype == np.bool_ and r.dtype == np.bool_:
        absdiff = np.logical_xor(t, r)
    else:
        with np.errstate(all="ignore"):
            absdiff = np.abs(np.subtract(_cast_up(t), _cast_up(r)))
    ref_eps = copy.copy(_cast_up(r))
    if ref_eps.dtype.kind == "f":
        ref_eps = np.array(ref_eps, copy=True)
        ref_eps[ref_eps == 0] += _EPS
    with np.errstate(all="ignore"):
        reldiff = np.divide(absdiff, np.abs(ref_eps))
        return (np.greater(absdiff, atol) | np.isnan(absdiff)) & (np.greater(reldiff, rtol) | np.isnan(reldiff))


def _array(runs, name: str, which: str) -> np.ndarray:
    a = _asarray(runs[name], f"tensor {name!r} of the {which} run")
    if a.dtype == object or a.dtype.kind in "USV":
        raise InputError(f"tensor {name!r} of the {which} run is not numeric (dtype {a.dtype})")
    return a


def _order(order) -> list[GraphTensor]:
    import onnx

    if isinstance(order, (onnx.ModelProto, str, os.PathLike, bytes)):
        return graph_order(order)
    if not isinstance(order, Iterable) or isinstance(order, Mapping):
        raise InputError(f"order must come from precision.graph_order(model), got {type(order).__name__}")
    out = []
    for entry in order:
        if isinstance(entry, GraphTensor):
            out.append(entry)
        elif isinstance(entry, (tuple, list)) and len(entry) == 3 and all(isinstance(e, str) for e in entry):
            out.append(GraphTensor(*entry))
        else:
            raise InputError(f"order entries must be (tensor, op, node) strings as graph_order gives, got {entry!r}")
    return out


def compare_tensors(reference, test, order, atol: float = 1e-2, rtol: float = 1e-2) -> list[TensorDiff]:
    """The tensors present in both runs, in ``order`` (:func:`graph_order`, or the model itself).

    ``passed`` is exactly Polygraphy's per-tensor verdict at the same tolerances
    (:func:`polygraphy_mismatches`; tensors of different shapes fail, as in ``polygraphy run``).
    ``ulps`` measures the error in float16 spacings at the tensor's largest reference value, and
    ``jump`` compares it with the error of the producing node's inputs: where the error jumps is
    where precision was lost (:func:`first_divergence`). The default tolerances suit FP16 against
    FP32 (FP16 keeps about three decimal digits).
    """
    if not isinstance(reference, Mapping) or not isinstance(test, Mapping):
        raise InputError("reference and test must be dicts of tensors {name: array}, as run_tensors returns")
    atol = _real(atol, "atol", 0.0, 1e300)
    rtol = _real(rtol, "rtol", 0.0, 1e300)
    entries = _order(order)
    rows: list[TensorDiff] = []
    level: dict[str, float] = {}   # ulps of each compared float tensor
    envelope = 0.0                 # largest ulps so far, when inputs are unknown
    for entry in entries:
        name, op, node = entry
        if name not in reference or name not in test:
            continue
        r, t = _array(reference, name, "reference"), _array(test, name, "test")
        if r.shape != t.shape:
            rows.append(TensorDiff(name, op, math.nan, math.nan, 0, False, node, t.size, t.size, math.inf, math.nan,
                                   f"shape {t.shape} vs reference {r.shape}"))
            continue
        bad = polygraphy_mismatches(t, r, atol, rtol)
        r64, t64 = r.astype(np.float64), t.astype(np.float64)
        ref_ok = np.isfinite(r64)
        both = ref_ok & np.isfinite(t64)
        nonfinite = int(np.count_nonzero(ref_ok & ~np.isfinite(t64)))
        max_abs = float(np.abs(t64 - r64)[both].max(initial=0.0))
        scale = float(np.abs(r64[ref_ok]).max(initial=0.0))
        floating = r.dtype.kind == "f" and t.dtype.kind == "f"
        ulps, jump, note = math.nan, math.nan, ""
        if floating:
            ulps = math.inf if nonfinite else max_abs / ulp16(scale)
            if entry.inputs is None:
                before = envelope
            else:
                before = max((level[i] for i in entry.inputs if i in level), default=0.0)
            if math.isinf(ulps):
                jump = math.inf if math.isfinite(before) else 1.0
            else:
                jump = 0.0 if math.isinf(before) else ulps / max(before, 1.0)
            level[name] = ulps
            envelope = max(envelope, ulps)
        else:
            note = "not floating point: verdict only"
        rows.append(TensorDiff(name, op, max_abs, scale, nonfinite, not bool(bad.any()), node, int(bad.sum()),
                               int(t.size), ulps, jump, note))
    if not rows:
        raise InputError("the two runs share no tensor names: were they made from the same model?")
    return rows


def _rows(rows) -> list[TensorDiff]:
    if isinstance(rows, TensorDiff):
        rows = [rows]
    if not isinstance(rows, Iterable) or isinstance(rows, (str, Mapping)):
        raise InputError(f"expected the rows compare_tensors returns, got {type(rows).__name__}")
    rows = list(rows)
    if not all(isinstance(r, TensorDiff) for r in rows):
        raise InputError("expected the rows compare_tensors returns (TensorDiff objects)")
    if not rows:
        raise InputError("no rows to look at: compare_tensors returns at least one")
    return rows


def rank_divergence(rows, top: int | None = None) -> list[TensorDiff]:
    """Floating-point tensors ordered by how far their error jumps past their inputs' (largest
    ``jump`` first; ties in graph order): the top entry is where precision was lost."""
    rows = _rows(rows)
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InputError(f"top must be a positive whole number, got {top!r}")
    ranked = sorted((r for r in rows if not math.isnan(r.jump)), key=lambda r: -r.jump)
    return ranked[:top] if top is not None else ranked


def first_divergence(rows, threshold: float = JUMP) -> TensorDiff | None:
    """Where precision was lost: among tensors whose error is at least ``threshold`` times (default 32)
    their inputs' error in float16 spacings, or that turn inf/NaN, the one with the largest jump (the
    earliest in graph order on ties, e.g. several overflows); ``None`` if no tensor jumps that far.

    Rounding noise of FP16 stays within a few ulps per node however large a tensor's values are;
    an overflow, a clamped weight or a lost term shows as a jump, and the tensors after it only
    carry the error (jump about 1). Polygraphy's verdict (``passed``) is kept for reference but not
    used: with one atol/rtol it fails tensors on rounding alone wherever small values sit beside
    large ones, and it fails every tensor after a fault as well.
    """
    threshold = _real(threshold, "threshold", 1.0, 1e300)
    over = [r for r in _rows(rows) if not math.isnan(r.jump) and r.jump >= threshold]
    return max(over, key=lambda r: r.jump) if over else None  # max keeps the first of equal jumps


def _printable(name: str) -> str:
    """A tensor name with control characters escaped, so it cannot break a table row."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: repr(m.group())[1:-1], str(name))


def format_table(rows, threshold: float = JUMP) -> str:
    """The rows as a text table (:func:`trtfaq.tables.table`, aligned whatever the names): tensor,
    op, max |error|, max |ref|, error in FP16 ulps, jump over its inputs, inf/NaN, Polygraphy's
    verdict, and the first divergence marked."""
    from .tables import table

    rows = _rows(rows)
    first = first_divergence(rows, threshold)

    def num(v: float, fmt: str) -> str:
        return "-" if math.isnan(v) else ("inf" if math.isinf(v) else format(v, fmt))

    body = [[_printable(r.tensor), _printable(r.op), num(r.max_abs, ".3g"), num(r.scale, ".4g"), num(r.ulps, ".3g"),
             num(r.jump, ".3g"), r.nonfinite, "PASSED" if r.passed else "FAILED",
             "<- first divergence" if r is first else r.note] for r in rows]
    header = ["tensor", "op", "max |err|", "max |ref|", "ulps", "jump", "inf/NaN", "Polygraphy", ""]
    if not any(row[-1] for row in body):  # no mark and no note: no empty last column
        return table(header[:-1], [row[:-1] for row in body], align="<<>>>>><")
    return table(header, body, align="<<>>>>><<")
