"""ONNX models built in code from numpy weights with a fixed seed (chapter 7 onwards).

Every builder returns an ``onnx.ModelProto`` that passes ``onnx.checker`` and has a dynamic batch
dimension named ``"N"``, so that ONNX Runtime, Polygraphy and TensorRT's ONNX parser all read it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError

OPSET = 17
IR_VERSION = 8  # readable by ONNX Runtime >= 1.14 and TensorRT 10.x / 11.x parsers

_ONNX_TYPES = {np.dtype(np.float32): 1, np.dtype(np.float16): 10}  # onnx.TensorProto.FLOAT / FLOAT16


@dataclass(frozen=True)
class BatchNormParams:
    """Per-channel inference-time batch-norm parameters (chapter 7).

    ``scale`` is gamma, ``bias`` is beta, ``mean`` and ``var`` the running statistics.
    """

    scale: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float = 1e-5

    def __post_init__(self):
        shapes = {n: np.shape(getattr(self, n)) for n in ("scale", "bias", "mean", "var")}
        if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 1:
            raise InputError(f"batch-norm parameters must be 1-D and of one length, got shapes {shapes}")
        if np.any(np.asarray(self.var) < 0):
            raise InputError("batch-norm variance must be >= 0")
        if self.eps < 0:
            raise InputError(f"batch-norm epsilon must be >= 0, got {self.eps}")

    @property
    def channels(self) -> int:
        return int(np.shape(self.scale)[0])

    @classmethod
    def random(cls, channels: int, seed: int = 0, eps: float = 1e-5) -> "BatchNormParams":
        """Plausible trained statistics: gamma ~ 1, beta ~ 0, means and variances of activations."""
        rng = np.random.default_rng(seed)
        return cls(scale=rng.uniform(0.5, 2.0, channels), bias=rng.normal(0.0, 0.5, channels),
                   mean=rng.normal(0.0, 2.0, channels), var=rng.uniform(0.05, 3.0, channels), eps=eps)

    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(a, b)`` with ``a = scale / sqrt(var + eps)`` and ``b = bias - a * mean``, in float64,
        so that batch norm is ``y = a * x + b`` per channel."""
        a = np.asarray(self.scale, np.float64) / np.sqrt(np.asarray(self.var, np.float64) + self.eps)
        return a, np.asarray(self.bias, np.float64) - a * np.asarray(self.mean, np.float64)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """Batch norm of an NCHW (or N, C, ...) array, in float64, straight from the definition."""
        x = np.asarray(x, np.float64)
        if x.ndim < 2 or x.shape[1] != self.channels:
            raise InputError(f"expected input of shape (N, {self.channels}, ...), got {x.shape}")
        shape = (1, self.channels) + (1,) * (x.ndim - 2)
        p = {n: np.asarray(getattr(self, n), np.float64).reshape(shape) for n in ("scale", "bias", "mean", "var")}
        return p["scale"] * (x - p["mean"]) / np.sqrt(p["var"] + self.eps) + p["bias"]


def _onnx_type(dtype) -> int:
    try:
        return _ONNX_TYPES[np.dtype(dtype)]
    except KeyError:
        raise InputError(f"unsupported dtype {np.dtype(dtype)}: use float32 or float16") from None


def _finish(graph, name: str):
    import onnx
    from onnx import helper

    model = helper.make_model(graph, producer_name="trtfaq", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.graph.name = name
    onnx.checker.check_model(model)
    return model


BN_FORMS = ("node", "folded", "centered")


def batchnorm_model(params: BatchNormParams, *, form: str = "node", spatial: tuple[int, int] = (8, 8),
                    dtype=np.float32):
    """A one-layer model ``x -> BN(x)``, input ``x`` of shape ``(N, C, H, W)`` with ``N`` dynamic.

    ``form`` says how BN is written:

    - ``"node"``: one ONNX ``BatchNormalization`` node with the four parameter vectors;
    - ``"folded"``: ``Mul(x, a)`` then ``Add(., b)`` with ``a = scale/sqrt(var+eps)``,
      ``b = bias - a*mean`` computed in float64 and stored in ``dtype`` (what TensorRT's parser
      and fusions do);
    - ``"centered"``: ``Sub(x, mean)``, ``Mul(., a)``, ``Add(., bias)``, the same map without the
      large folded bias.
    """
    from onnx import helper, numpy_helper

    if form not in BN_FORMS:
        raise InputError(f"unknown batch-norm form {form!r}: use one of {', '.join(BN_FORMS)}")
    elem = _onnx_type(dtype)
    c, (h, w) = params.channels, spatial
    x = helper.make_tensor_value_info("x", elem, ["N", c, h, w])
    y = helper.make_tensor_value_info("y", elem, ["N", c, h, w])
    a, b = params.folded()

    def const(name, values):
        # Values beyond float16's range become +-inf, as any float16 cast does: chapter 7 shows it.
        with np.errstate(over="ignore"):
            return numpy_helper.from_array(np.asarray(values, np.float64).reshape(1, c, 1, 1).astype(dtype), name)

    if form == "node":
        inits = [numpy_helper.from_array(np.asarray(getattr(params, n)).astype(dtype), n)
                 for n in ("scale", "bias", "mean", "var")]
        nodes = [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                                  name="bn", epsilon=float(params.eps))]
    elif form == "folded":
        inits = [const("a", a), const("b", b)]
        nodes = [helper.make_node("Mul", ["x", "a"], ["ax"], name="mul_a"),
                 helper.make_node("Add", ["ax", "b"], ["y"], name="add_b")]
    else:
        inits = [const("mean", params.mean), const("a", a), const("bias", params.bias)]
        nodes = [helper.make_node("Sub", ["x", "mean"], ["xc"], name="sub_mean"),
                 helper.make_node("Mul", ["xc", "a"], ["axc"], name="mul_a"),
                 helper.make_node("Add", ["axc", "bias"], ["y"], name="add_bias")]
    return _finish(helper.make_graph(nodes, f"batchnorm_{form}", [x], [y], inits), f"batchnorm_{form}")


@dataclass(frozen=True)
class MLP:
    """A two-layer perceptron ``y = relu(x W1^T + b1) W2^T + b2`` with fixed-seed weights (chapter 1)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    @classmethod
    def random(cls, sizes: tuple[int, int, int] = (1024, 4096, 1024), seed: int = 0) -> "MLP":
        d_in, hidden, d_out = sizes
        rng = np.random.default_rng(seed)
        return cls(w1=(rng.standard_normal((hidden, d_in)) / np.sqrt(d_in)).astype(np.float32),
                   b1=(0.1 * rng.standard_normal(hidden)).astype(np.float32),
                   w2=(rng.standard_normal((d_out, hidden)) / np.sqrt(hidden)).astype(np.float32),
                   b2=(0.1 * rng.standard_normal(d_out)).astype(np.float32))

    def reference(self, x: np.ndarray) -> np.ndarray:
        """The model in float64 numpy."""
        x = np.asarray(x, np.float64)
        if x.ndim != 2 or x.shape[1] != self.w1.shape[1]:
            raise InputError(f"expected input of shape (N, {self.w1.shape[1]}), got {x.shape}")
        h = np.maximum(x @ self.w1.T.astype(np.float64) + self.b1, 0.0)
        return h @ self.w2.T.astype(np.float64) + self.b2

    def onnx(self):
        """ONNX model with input ``x`` of shape ``(N, d_in)``, ``N`` dynamic, output ``y``."""
        from onnx import helper

        d_in, d_out = self.w1.shape[1], self.w2.shape[0]
        inits, nodes = self.onnx_nodes("x")
        graph = helper.make_graph(nodes, "mlp", [_io("x", ["N", d_in])], [_io("y", ["N", d_out])], inits)
        return _finish(graph, "mlp")

    def onnx_nodes(self, x: str) -> tuple[list, list]:
        """Initializers and nodes ``fc1 -> relu -> fc2`` from tensor ``x`` to ``y`` (tensors ``h``,
        ``hr``), to put the perceptron behind another front end."""
        from onnx import helper, numpy_helper

        inits = [numpy_helper.from_array(self.w1, "w1"), numpy_helper.from_array(self.b1, "b1"),
                 numpy_helper.from_array(self.w2, "w2"), numpy_helper.from_array(self.b2, "b2")]
        nodes = [helper.make_node("Gemm", [x, "w1", "b1"], ["h"], name="fc1", transB=1),
                 helper.make_node("Relu", ["h"], ["hr"], name="relu"),
                 helper.make_node("Gemm", ["hr", "w2", "b2"], ["y"], name="fc2", transB=1)]
        return inits, nodes


def _io(name: str, dims) -> object:
    """A float32 graph input or output."""
    from onnx import helper

    return helper.make_tensor_value_info(name, 1, dims)


def _axes(name: str, axes) -> object:
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(axes, np.int64), name)


def l2_normalized_classifier(mlp: MLP):
    """Chapter 6's overflow model: ``x / sqrt(sum(x*x))`` over the features, then ``mlp``.

    Input ``x`` is (N, 64) raw 8-bit intensities 0..255. The sum of squares reaches about 10^6,
    far beyond float16's largest value 65504. Tensors: ``sq``, ``sumsq``, ``norm``, ``unit``, then
    the perceptron's ``h``, ``hr``, ``y``.
    """
    from onnx import helper

    d_in, d_out = mlp.w1.shape[1], mlp.w2.shape[0]
    inits, head = mlp.onnx_nodes("unit")
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
             helper.make_node("ReduceSum", ["sq", "axes1"], ["sumsq"], name="sum_squares", keepdims=1),
             helper.make_node("Sqrt", ["sumsq"], ["norm"], name="sqrt"),
             helper.make_node("Div", ["x", "norm"], ["unit"], name="normalize")] + head
    graph = helper.make_graph(nodes, "l2_classifier", [_io("x", ["N", d_in])], [_io("y", ["N", d_out])],
                              [_axes("axes1", [1])] + inits)
    return _finish(graph, "l2_classifier")


CENTROID_FORMS = ("expanded", "direct")


def centroid_classifier(centers, form: str = "expanded"):
    """Chapter 6's rounding model: scores ``y = -|x - c_k|^2`` for each class centre ``c_k``.

    ``form="expanded"`` computes ``|x|^2 - 2 x.c + |c|^2`` (one matrix product, as GEMM-based
    nearest-neighbour search does): tensors ``sq``, ``x2``, ``xc``, ``two_xc``, ``x2_minus``,
    ``dist``, ``y``. ``form="direct"`` subtracts first: ``x3``, ``diff``, ``sq``, ``dist``, ``y``.
    """
    from onnx import helper, numpy_helper

    if form not in CENTROID_FORMS:
        raise InputError(f"unknown centroid form {form!r}: use one of {', '.join(CENTROID_FORMS)}")
    c = np.asarray(centers, np.float32)
    if c.ndim != 2:
        raise InputError(f"class centres must have shape (K, D), got {c.shape}")
    k, d = c.shape
    if form == "expanded":
        inits = [numpy_helper.from_array(np.ascontiguousarray(c.T), "centers_t"),
                 numpy_helper.from_array((c.astype(np.float64) ** 2).sum(1).astype(np.float32), "c2"),
                 numpy_helper.from_array(np.array(2.0, np.float32), "two"), _axes("axes1", [1])]
        nodes = [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
                 helper.make_node("ReduceSum", ["sq", "axes1"], ["x2"], name="sum_squares", keepdims=1),
                 helper.make_node("MatMul", ["x", "centers_t"], ["xc"], name="dot_centers"),
                 helper.make_node("Mul", ["xc", "two"], ["two_xc"], name="times_two"),
                 helper.make_node("Sub", ["x2", "two_xc"], ["x2_minus"], name="subtract"),
                 helper.make_node("Add", ["x2_minus", "c2"], ["dist"], name="add_c2")]
    else:
        inits = [numpy_helper.from_array(c, "centers"), _axes("axes1", [1]), _axes("axes2", [2])]
        nodes = [helper.make_node("Unsqueeze", ["x", "axes1"], ["x3"], name="unsqueeze"),
                 helper.make_node("Sub", ["x3", "centers"], ["diff"], name="subtract"),
                 helper.make_node("Mul", ["diff", "diff"], ["sq"], name="square"),
                 helper.make_node("ReduceSum", ["sq", "axes2"], ["dist"], name="sum_squares", keepdims=0)]
    nodes.append(helper.make_node("Neg", ["dist"], ["y"], name="negate"))
    graph = helper.make_graph(nodes, f"centroid_{form}", [_io("x", ["N", d])], [_io("y", ["N", k])], inits)
    return _finish(graph, f"centroid_{form}")
