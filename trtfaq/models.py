"""ONNX building blocks and the perceptron shared by several chapters (chapters 1 and 6).

Chapter-specific models live in :mod:`trtfaq.chapters`.

Every builder returns an ``onnx.ModelProto`` that passes ``onnx.checker`` and has a dynamic batch
dimension named ``"N"``, so that ONNX Runtime, Polygraphy and TensorRT's ONNX parser all read it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError

if TYPE_CHECKING:
    import onnx

OPSET = 17
IR_VERSION = 8  # readable by ONNX Runtime >= 1.14 and TensorRT 10.x / 11.x parsers

_ONNX_TYPES = {np.dtype(np.float32): 1, np.dtype(np.float16): 10}  # onnx.TensorProto.FLOAT / FLOAT16


def onnx_type(dtype) -> int:
    try:
        return _ONNX_TYPES[np.dtype(dtype)]
    except KeyError:
        raise InputError(f"unsupported dtype {np.dtype(dtype)}: use float32 or float16") from None


def finish(graph, name: str):
    import onnx
    from onnx import helper

    model = helper.make_model(graph, producer_name="trtfaq", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.graph.name = name
    onnx.checker.check_model(model)
    return model


@dataclass(frozen=True)
class MLP:
    """A two-layer perceptron ``y = relu(x W1^T + b1) W2^T + b2`` with fixed-seed weights (chapter 1)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    @classmethod
    def random(cls, sizes: tuple[int, int, int] = (1024, 4096, 1024), seed: int = 0) -> MLP:
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
        graph = helper.make_graph(nodes, "mlp", [io("x", ["N", d_in])], [io("y", ["N", d_out])], inits)
        return finish(graph, "mlp")

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


def io(name: str, dims) -> onnx.ValueInfoProto:
    """A float32 graph input or output."""
    from onnx import helper

    return helper.make_tensor_value_info(name, 1, dims)


def axes(name: str, values) -> onnx.TensorProto:
    """An int64 initializer of reduction or unsqueeze axes."""
    from onnx import numpy_helper

    return numpy_helper.from_array(np.asarray(values, np.int64), name)
