"""A small CNN built in code, the target model of chapters 8 and 11 (chapter 8).

Static shapes by default (DLA needs them), so unlike :mod:`trtfaq.models` the batch is fixed unless a
name is given for it. Fallback layers can be planted where a test or a chapter wants them.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .errors import InputError


def _conv(name, x, y, cin, cout, rng, k=3):
    w = numpy_helper.from_array((rng.standard_normal((cout, cin, k, k)) * 0.1).astype(np.float32), f"{name}.w")
    return helper.make_node("Conv", [x, w.name], [y], name=name, pads=[k // 2] * 4), w


def cnn(blocks: int = 4, fallback_after: tuple[int, ...] = (), channels: int = 8, size: int = 32,
        batch: int | str = 1, seed: int = 0) -> onnx.ModelProto:
    """(chapter 8) A small CNN: ``blocks`` of Conv+BatchNorm+Relu, then a global average pool and a Gemm head.
    After each block index in ``fallback_after`` an ``Erf`` (the core of exact GELU; the ONNX parser makes a Unary
    ERF layer of it, and DLA's Unary layer runs ABS only) is inserted: a layer that must fall back to the GPU.
    ``batch`` as a string makes the batch dimension dynamic."""
    if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
        raise InputError(f"blocks must be a whole number >= 1, got {blocks!r}")
    bad = [i for i in fallback_after if not (isinstance(i, int) and 0 <= i < blocks)]
    if bad:
        raise InputError(f"fallback_after must name blocks 0..{blocks - 1}, got {bad}")
    rng = np.random.default_rng(seed)
    nodes, inits = [], []
    x = "x"
    cin = 3
    for i in range(blocks):
        conv, w = _conv(f"conv{i}", x, f"c{i}", cin, channels, rng)
        bn_params = [numpy_helper.from_array(v.astype(np.float32), f"bn{i}.{n}") for n, v in
                     (("scale", 1 + 0.1 * rng.standard_normal(channels)), ("bias", 0.1 * rng.standard_normal(channels)),
                      ("mean", 0.1 * rng.standard_normal(channels)), ("var", 1 + rng.random(channels)))]
        nodes += [conv, helper.make_node("BatchNormalization", [f"c{i}"] + [p.name for p in bn_params], [f"b{i}"],
                                         name=f"bn{i}"),
                  helper.make_node("Relu", [f"b{i}"], [f"r{i}"], name=f"relu{i}")]
        inits += [w, *bn_params]
        x, cin = f"r{i}", channels
        if i in fallback_after:
            nodes.append(helper.make_node("Erf", [x], [f"e{i}"], name=f"erf{i}"))
            x = f"e{i}"
    fc_w = numpy_helper.from_array((rng.standard_normal((channels, 10)) * 0.1).astype(np.float32), "fc.w")
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
              helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
              helper.make_node("Gemm", ["flat", "fc.w"], ["y"], name="fc")]
    inits.append(fc_w)
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, size, size])
    graph = helper.make_graph(nodes, "dla_cnn", [x_info],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
