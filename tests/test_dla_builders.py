"""Chapters 8 and 11: the DLA partitioner, the serial build queue (two real processes), the chapter 11
result reader (synthetic document built here), and the double's DLA / timing-cache / progress-monitor
contract. The double is test infrastructure, never evidence."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtfaq.build_queue import Target, build_lock, build_serially
from trtfaq.chapters import builders, dla
from trtfaq.errors import BookError, InputError

import trt_double
from helpers import one_line

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FLAVOURS = ["10.16", "11.4"]


# ----- the partitioner ------------------------------------------------------------------------------
def test_all_supported_body_is_one_dla_subgraph():
    r = dla.partition(dla.cnn(blocks=3))
    assert r.dla_subgraphs == 1
    assert [p.device for p in r.placements if p.op in ("Conv", "BatchNormalization", "Relu")] == ["DLA"] * 9
    # the head: GlobalAveragePool is a Reduce AVG, Flatten a rank-2 Shuffle, Gemm a matrix multiply
    assert {(p.node, p.layer, p.reason) for p in r.placements if p.device == "GPU"} == {
        ("gap", "Reduce", "reduce-op"), ("flatten", "Shuffle", "shuffle-rank"), ("fc", "MatrixMultiply", "matmul")}
    assert r.boundaries == [("r2", "DLA", "GPU")]
    assert r.io_on_dla == ["x"]


@pytest.mark.parametrize("where", [(0,), (1,), (2,), (0, 2)])
def test_fallbacks_split_where_planted(where):
    r = dla.partition(dla.cnn(blocks=4, fallback_after=where))
    erf = [p for p in r.placements if p.op == "Erf"]
    assert [p.node for p in erf] == [f"erf{i}" for i in where] and all(p.reason == "unary-op" for p in erf)
    assert r.dla_subgraphs == 1 + len(where)
    # each fallback adds one tensor into and one out of the GPU
    assert len(r.boundaries) == 1 + 2 * len(where)


def test_limit_counts_dla_subgraphs():
    r = dla.partition(dla.cnn(blocks=20, fallback_after=tuple(range(19))))
    assert r.dla_subgraphs == 20 and r.over_limit
    assert not dla.partition(dla.cnn(blocks=20, fallback_after=tuple(range(19))), limit=20).over_limit


def test_dynamic_and_precision_rules():
    assert dla.partition(dla.cnn(batch="N")).dla_subgraphs == 0
    r = dla.partition(dla.cnn(), precision_from_model=True)
    assert r.dla_subgraphs == 0 and {p.reason for p in r.placements if p.op == "Conv"} == {"precision"}


def _model(nodes, inits, x_shape, y, y_shape):
    g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info(y, TensorProto.FLOAT, y_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_held_out_conv3d_and_oversized_dims():
    w = numpy_helper.from_array(np.zeros((2, 1, 1, 1, 1), np.float32), "w")
    m = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="c3d")], [w], [1, 1, 4, 4, 4], "y", [1, 2, 4, 4, 4])
    assert dla.partition(m).placements[0].reason == "2d"
    big = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [], [1, 1, 1, 9000], "y", [1, 1, 1, 9000])
    assert dla.partition(big).placements[0].reason == "dims"
    # the DLA batch is the product of all but the last three dimensions: 2 x 2500 > 4096
    five = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [], [2, 2500, 1, 1, 1], "y", [2, 2500, 1, 1, 1])
    assert dla.partition(five).placements[0].reason == "2d"        # Activation is 2D only, checked first
    sm = _model([helper.make_node("Softmax", ["x"], ["y"], name="s", axis=-1)], [], [2, 2500, 1, 1, 4], "y", None)
    assert dla.partition(sm).placements[0].reason == "dims"
    sm_ok = _model([helper.make_node("Softmax", ["x"], ["y"], name="s", axis=-1)], [], [2, 2000, 1, 1, 4], "y", None)
    assert dla.partition(sm_ok).placements[0].device == "DLA"


def test_branch_that_returns_from_gpu_is_not_merged():
    # conv0 -> relu_a (DLA) and conv0 -> erf (GPU) -> relu_b (DLA); relu_a + relu_b -> add (DLA, its own partition).
    # relu_b must not join conv0's partition: that partition would feed erf and wait for it.
    w = numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv0"),
             helper.make_node("Relu", ["c"], ["a"], name="relu_a"),
             helper.make_node("Erf", ["c"], ["e"], name="erf"),
             helper.make_node("Relu", ["e"], ["b"], name="relu_b"),
             helper.make_node("Add", ["a", "b"], ["y"], name="add")]
    r = dla.partition(_model(nodes, [w], [1, 2, 4, 4], "y", [1, 2, 4, 4]))
    parts = {tuple(ms): d for d, ms in r.partitions}
    assert parts[("conv0", "relu_a")] == "DLA" and parts[("relu_b", "add")] == "DLA"
    assert r.dla_subgraphs == 2


# ----- one rule at a time: a model that falls back because of exactly that rule, and a variant that stays ----
def _f(name, values, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def _one(node, x_shape, inits=(), opset=17, extra=(), x_type=TensorProto.FLOAT, y_shape=None):
    """A graph around ``node``: input x of ``x_shape`` (plus ``extra`` value infos), output = node's first output,
    its type and shape left to ONNX shape inference unless ``y_shape`` is given."""
    y = (onnx.ValueInfoProto(name=node.output[0]) if y_shape is None
         else helper.make_tensor_value_info(node.output[0], x_type, y_shape))
    g = helper.make_graph([node], "m", [helper.make_tensor_value_info("x", x_type, x_shape), *extra], [y],
                          list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def _rule(model, **kw):
    (p,) = dla.partition(model, **kw).placements
    return p.reason or "DLA"


def N(op, inputs, **attrs):                                        # noqa: N802  (reads like a constructor)
    return helper.make_node(op, inputs, ["y"], name="n", **attrs)


X4 = [1, 2, 8, 8]
W3 = _f("w", np.ones((2, 2, 3, 3)))
CASES = {
    # rule: (model that must fall back because of it, a variant that must stay on DLA)
    "layer": (_one(N("Pad", ["x", "p"]), X4, [_f("p", [0] * 8, np.int64)]), _one(N("Relu", ["x"]), X4)),
    "2d": (_one(N("Conv", ["x", "w"]), [1, 2, 8], [_f("w", np.ones((2, 2, 3)))]), _one(N("Conv", ["x", "w"]), X4, [W3])),
    "conv-kernel": (_one(N("Conv", ["x", "w"]), [1, 1, 40, 8], [_f("w", np.ones((1, 1, 33, 3)))]),
                    _one(N("Conv", ["x", "w"]), [1, 1, 40, 8], [_f("w", np.ones((1, 1, 32, 3)))])),
    "conv-stride": (_one(N("Conv", ["x", "w"], strides=[9, 1]), X4, [W3]),
                    _one(N("Conv", ["x", "w"], strides=[8, 1]), X4, [W3])),
    "conv-dilation": (_one(N("Conv", ["x", "w"], dilations=[33, 1]), [1, 1, 40, 8], [_f("w", np.ones((1, 1, 2, 1)))]),
                      _one(N("Conv", ["x", "w"], dilations=[32, 1]), [1, 1, 40, 8], [_f("w", np.ones((1, 1, 2, 1)))])),
    "conv-padding": (_one(N("Conv", ["x", "w"], pads=[3, 0, 3, 0]), X4, [W3]),          # not smaller than the kernel
                     _one(N("Conv", ["x", "w"], auto_pad="SAME_UPPER"), X4, [W3])),
    "deconv-kernel": (_one(N("ConvTranspose", ["x", "w"]), [1, 1, 4, 4], [_f("w", np.ones((1, 1, 64, 64)))]),
                      _one(N("ConvTranspose", ["x", "w"]), [1, 1, 4, 4], [_f("w", np.ones((1, 1, 1, 64)))])),
    "deconv-stride": (_one(N("ConvTranspose", ["x", "w"], strides=[33, 1]), X4, [W3]),
                      _one(N("ConvTranspose", ["x", "w"], strides=[2, 2]), X4, [W3])),
    "deconv-padding": (_one(N("ConvTranspose", ["x", "w"], pads=[1, 1, 1, 1]), X4, [W3]),
                       _one(N("ConvTranspose", ["x", "w"]), X4, [W3])),
    "deconv-groups": (_one(N("ConvTranspose", ["x", "w"], group=2), X4, [_f("w", np.ones((2, 1, 3, 3)))]),
                      _one(N("ConvTranspose", ["x", "w"], group=1), X4, [_f("w", np.ones((2, 1, 3, 3)))])),
    "deconv-dilation": (_one(N("ConvTranspose", ["x", "w"], dilations=[2, 2]), X4, [W3]),
                        _one(N("ConvTranspose", ["x", "w"], dilations=[1, 1]), X4, [W3])),
    "pool-type": (_one(N("LpPool", ["x"], kernel_shape=[2, 2]), X4), _one(N("AveragePool", ["x"], kernel_shape=[2, 2]), X4)),
    "pool-window": (_one(N("MaxPool", ["x"], kernel_shape=[9, 9]), [1, 2, 16, 16]),
                    _one(N("MaxPool", ["x"], kernel_shape=[8, 8]), [1, 2, 16, 16])),
    "pool-stride": (_one(N("AveragePool", ["x"], kernel_shape=[2, 2], strides=[17, 1]), [1, 2, 40, 4]),
                    _one(N("AveragePool", ["x"], kernel_shape=[2, 2], strides=[16, 1]), [1, 2, 40, 4])),
    "pool-padding": (_one(N("MaxPool", ["x"], kernel_shape=[8, 8], pads=[8, 0, 0, 0]), [1, 2, 16, 16]),
                     _one(N("MaxPool", ["x"], kernel_shape=[8, 8], pads=[7, 0, 0, 0]), [1, 2, 16, 16])),
    "activation": (_one(N("Elu", ["x"]), X4), _one(N("LeakyRelu", ["x"], alpha=0.1), X4)),
    "activation-clip": (_one(N("Clip", ["x", "lo", "hi"]), X4, [_f("lo", -1.0), _f("hi", 1.0)]),
                        _one(N("Clip", ["x", "lo", "hi"]), X4, [_f("lo", 0.0), _f("hi", 6.0)])),
    "prelu-slope": (_one(N("PRelu", ["x", "s"]), X4, extra=[helper.make_tensor_value_info("s", TensorProto.FLOAT, [2, 1, 1])]),
                    _one(N("PRelu", ["x", "s"]), X4, [_f("s", np.full((2, 1, 1), 0.1))])),
    "elementwise-op": (_one(N("And", ["x", "x"]), X4, x_type=TensorProto.BOOL), _one(N("Sub", ["x", "x"]), X4)),
    "elementwise-div": (_one(N("Div", ["x", "d"]), X4, [_f("d", [[[[1.0]], [[2.0]]]])]),
                        _one(N("Div", ["x", "d"]), X4, [_f("d", 255.0)])),
    "elementwise-pow": (_one(N("Pow", ["x", "e"]), X4, [_f("e", 2.0)]), _one(N("Mul", ["x", "x"]), X4)),
    "elementwise-broadcast": (_one(N("Add", ["x", "b"]), X4, [_f("b", np.ones((1, 1, 8, 8)))]),
                              _one(N("Add", ["x", "b"]), X4, [_f("b", np.ones((1, 2, 1, 1)))])),
    "comparison": (_one(N("Greater", ["x", "c"]), X4, [_f("c", 0.0)]), _one(N("Max", ["x", "c"]), X4, [_f("c", 0.0)])),
    "scale-params": (_one(N("BatchNormalization", ["x", "g", "b", "m", "v"]), X4,
                          [_f("g", [1, 1]), _f("b", [0, 0]), _f("v", [1, 1])],
                          extra=[helper.make_tensor_value_info("m", TensorProto.FLOAT, [2])]),
                     _one(N("BatchNormalization", ["x", "g", "b", "m", "v"]), X4,
                          [_f("g", [1, 1]), _f("b", [0, 0]), _f("m", [0, 0]), _f("v", [1, 1])])),
    "lrn-window": (_one(N("LRN", ["x"], size=11), X4), _one(N("LRN", ["x"], size=5), X4)),
    "concat-axis": (_one(N("Concat", ["x", "x"], axis=2), X4), _one(N("Concat", ["x", "x"], axis=-3), X4)),
    "concat-inputs": (_one(N("Concat", ["x"], axis=1), X4), _one(N("Concat", ["x", "x"], axis=1), X4)),
    "resize-mode": (_one(N("Resize", ["x", "", "s"], mode="linear", coordinate_transformation_mode="align_corners"),
                         X4, [_f("s", [1, 1, 2, 2])]),
                    _one(N("Resize", ["x", "", "s"], mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
                         X4, [_f("s", [1, 1, 2, 2])])),
    "resize-sizes": (_one(N("Resize", ["x", "", "", "z"]), X4, [_f("z", [1, 2, 16, 16], np.int64)]),
                     _one(N("Resize", ["x", "", "s"]), X4, [_f("s", [1, 1, 2, 2])])),
    "resize-scales": (_one(N("Resize", ["x", "", "s"], mode="linear"), X4, [_f("s", [1, 1, 8, 8])]),     # > 4, linear
                      _one(N("Resize", ["x", "", "s"], mode="nearest"), X4, [_f("s", [1, 1, 8, 8])])),
    "unary-op": (_one(N("Exp", ["x"]), X4), _one(N("Abs", ["x"]), X4)),
    "softmax-axis": (_one(N("Softmax", ["x"], axis=0), X4), _one(N("Softmax", ["x"], axis=1), X4)),
    "softmax-size": (_one(N("Softmax", ["x"], axis=1), [1, 2000, 2, 2]), _one(N("Softmax", ["x"], axis=1), [1, 2000, 1, 1])),
    "shuffle-rank": (_one(N("Flatten", ["x"]), X4), _one(N("Reshape", ["x", "s"]), X4, [_f("s", [1, 2, 64, 1], np.int64)])),
    "shuffle-batch": (_one(N("Transpose", ["x"], perm=[1, 0, 2, 3]), X4), _one(N("Transpose", ["x"], perm=[0, 2, 3, 1]), X4)),
    "slice-rank": (_one(N("Slice", ["x", "a", "b", "ax"]), [2, 8, 8], [_f("a", [1], np.int64), _f("b", [4], np.int64),
                                                                    _f("ax", [1], np.int64)]),
                   _one(N("Slice", ["x", "a", "b", "ax"]), X4, [_f("a", [1], np.int64), _f("b", [4], np.int64),
                                                                _f("ax", [2], np.int64)])),
    "slice-static": (_one(N("Slice", ["x", "a", "b"]), X4, [_f("b", [1, 2, 4, 4], np.int64)], y_shape=[1, 2, 4, 4],
                          extra=[helper.make_tensor_value_info("a", TensorProto.INT64, [4])]),
                     _one(N("Slice", ["x", "a", "b"]), X4, [_f("a", [0, 0, 0, 0], np.int64), _f("b", [1, 2, 4, 4], np.int64)])),
    "slice-stride": (_one(N("Slice", ["x", "a", "b", "ax", "st"]), X4, [_f("a", [0], np.int64), _f("b", [8], np.int64),
                                                                      _f("ax", [3], np.int64), _f("st", [2], np.int64)]),
                     _one(N("Slice", ["x", "a", "b", "ax", "st"]), X4, [_f("a", [0], np.int64), _f("b", [4], np.int64),
                                                                      _f("ax", [3], np.int64), _f("st", [1], np.int64)])),
    "slice-batch": (_one(N("Split", ["x"], axis=0, num_outputs=2), [2, 2, 8, 8], opset=18),
                    _one(N("Split", ["x"], axis=1, num_outputs=2), [2, 2, 8, 8], opset=18)),
    "reduce-op": (_one(N("GlobalAveragePool", ["x"]), X4), _one(N("GlobalMaxPool", ["x"]), X4)),
    "reduce-axes": (_one(N("ReduceMax", ["x"], axes=[0]), X4), _one(N("ReduceMax", ["x"], axes=[1, 2, 3]), X4)),
    "matmul": (_one(N("MatMul", ["x", "w"]), [1, 8], [_f("w", np.ones((8, 4)))]),
               _one(N("Conv", ["x", "w"]), [1, 8, 1, 1], [_f("w", np.ones((4, 8, 1, 1)))])),     # the same FC as a 1x1 Conv
}


def test_every_rule_has_a_planted_case():
    assert set(CASES) == set(dla.RULES) - {"static", "dims", "precision", "loadables"}     # those four: tests above


@pytest.mark.parametrize("rule", sorted(CASES))
def test_rule_bites_and_its_variant_stays_on_dla(rule):
    bad, good = CASES[rule]
    assert _rule(bad) == rule
    assert _rule(good) == "DLA"


@pytest.mark.parametrize(("node", "extra", "want"), [  # on X4 = [1, 2, 8, 8]
    # more ways into the same rules
    (N("Conv", ["x", "w"], pads=[32, 0, 0, 0]), [_f("w", np.ones((2, 2, 33, 3)))], "conv-kernel"),
    (N("Conv", ["x", "w"], pads=[0, 0, 0, 32]), [_f("w", np.ones((2, 2, 32, 33)))], "conv-kernel"),
    (N("Conv", ["x", "w"], pads=[0, 32, 0, 0]), [_f("w", np.ones((2, 2, 32, 32)))], "conv-padding"),      # > 31
    (N("ConvTranspose", ["x", "w"], strides=[1, 64]), [_f("w", np.ones((2, 2, 1, 64)))], "DLA"),          # 1 x 64
    (N("ConvTranspose", ["x", "w"], auto_pad="SAME_UPPER", strides=[1, 1]), [W3], "deconv-padding"),
    (N("MaxPool", ["x"], kernel_shape=[3, 3], auto_pad="SAME_LOWER"), [], "DLA"),
    (N("Clip", ["x", "lo", "hi"]), [_f("lo", 0.0), _f("hi", 200.0)], "activation-clip"),
    (N("Clip", ["x", "lo"]), [_f("lo", 0.0)], "activation-clip"),                                       # no max
    (N("Resize", ["x", "", "s"], mode="cubic"), [_f("s", [1, 1, 2, 2])], "resize-mode"),
    (N("Resize", ["x", "", "s"], coordinate_transformation_mode="align_corners"), [_f("s", [1, 1, 2, 2])],
     "resize-mode"),
    (N("Resize", ["x", "", "s"], coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
     [_f("s", [1, 1, 2, 2])], "DLA"),
    (N("Resize", ["x", "", "s"], nearest_mode="round_prefer_ceil"), [_f("s", [1, 1, 2, 2])], "DLA"),
    (N("Resize", ["x", "", "s"], nearest_mode="floor"), [_f("s", [1, 1, 2, 2])], "resize-mode"),   # half_pixel + floor
    (N("Resize", ["x", "", "s"]), [_f("s", [1, 1, 1.5, 1.5])], "resize-scales"),
    (N("Resize", ["x", "", "s"]), [_f("s", [1, 2, 2, 2])], "resize-scales"),
    (N("Resize", ["x", "", "s"]), [_f("s", [1, 1, 33, 1])], "resize-scales"),
    (N("Reshape", ["x", "s"]), [_f("s", [2, 1, 8, 8], np.int64)], "shuffle-batch"),
    (N("Slice", ["x", "a", "b", "ax"]), [_f("a", [0], np.int64), _f("b", [9], np.int64), _f("ax", [0], np.int64)], "DLA"),
    (N("ReduceMean", ["x"], axes=[2, 3]), [], "reduce-op"),
])
def test_more_cases(node, extra, want):
    assert _rule(_one(node, X4, extra)) == want


def test_older_opsets_and_constant_nodes():
    # Upsample (opset 9) is asymmetric / floor: nearest passes, linear does not; Resize opset 10 the same
    s = _f("s", [1, 1, 2, 2])
    assert _rule(_one(N("Upsample", ["x", "s"]), X4, [s], opset=9)) == "DLA"
    assert _rule(_one(N("Upsample", ["x", "s"], mode="linear"), X4, [s], opset=9)) == "resize-mode"
    assert _rule(_one(N("Resize", ["x", "s"], mode="nearest"), X4, [s], opset=10)) == "DLA"
    # Softmax before opset 13 runs on the parser's 2D flatten around the axis: [1, 160*8*8] has an axis of 10240
    assert _rule(_one(N("Softmax", ["x"], axis=1), [1, 160, 8, 8], opset=11)) == "softmax-size"
    assert _rule(_one(N("Softmax", ["x"], axis=1), [1, 160, 8, 8], opset=13)) == "DLA"          # C = 160 <= 1024
    # ReduceMax with axes as an input (opset 18), and Split sizes that are not constants
    assert _rule(_one(N("ReduceMax", ["x", "ax"]), X4, [_f("ax", [0], np.int64)], opset=18)) == "reduce-axes"
    assert _rule(_one(N("ReduceMax", ["x", "ax"]), X4, [_f("ax", [2, 3], np.int64)], opset=18)) == "DLA"
    split = helper.make_node("Split", ["x", "sp"], ["y", "z"], name="n", axis=1)
    g = helper.make_graph([split], "m", [helper.make_tensor_value_info(n, t, d) for n, t, d in
                                         (("x", TensorProto.FLOAT, X4), ("sp", TensorProto.INT64, [2]))],
                          [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 1, 8, 8]) for n in "yz"])
    assert _rule(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])) == "slice-static"
    # a Constant node is a weight: not placed, no boundary
    nodes = [helper.make_node("Constant", [], ["c"], name="k", value=_f("v", 255.0)),
             helper.make_node("Div", ["x", "c"], ["y"], name="div")]
    r = dla.partition(_model(nodes, [], X4, "y", X4))
    assert [(p.node, p.device) for p in r.placements] == [("div", "DLA")] and r.boundaries == []


def test_precision_from_model_per_layer():
    relu8 = _one(N("Relu", ["x"]), X4, x_type=TensorProto.INT8)
    assert _rule(relu8, precision_from_model=True) == "DLA"
    sl = [_f("a", [0], np.int64), _f("b", [4], np.int64), _f("ax", [3], np.int64)]
    assert _rule(_one(N("Slice", ["x", "a", "b", "ax"]), X4, sl, x_type=TensorProto.INT8),
                 precision_from_model=True) == "precision"                      # Slice: FP16 only
    assert _rule(_one(N("Slice", ["x", "a", "b", "ax"]), X4, sl, x_type=TensorProto.FLOAT16),
                 precision_from_model=True) == "DLA"


def test_neck_as_built_and_fixed():
    r = dla.partition(dla.neck())
    gpu = {p.node: p.reason for p in r.placements if p.device == "GPU"}
    assert gpu == {"up2": "resize-sizes", "cat2": "concat-axis", "head_reshape": "shuffle-rank"}
    assert r.dla_subgraphs == 2 and len(r.boundaries) == 3
    fixed = dla.partition(dla.neck(fixed=True))
    assert fixed.dla_subgraphs == 1 and fixed.boundaries == [] and fixed.io_on_dla == ["x", "y"]
    assert [row[:2] for row in dla.rule_rows()][:2] == [["layer", dla.RULES["layer"][0]], ["static", dla.RULES["static"][0]]]


def test_partitioner_refuses_bad_inputs():
    with pytest.raises(InputError) as e:
        dla.partition(b"not a model")
    assert "ModelProto" in one_line(e)
    for bad in (0, True, 2.5):
        with pytest.raises(InputError) as e:
            dla.partition(dla.cnn(), limit=bad)
        assert "limit" in one_line(e)
    with pytest.raises(InputError) as e:
        dla.cnn(blocks=2, fallback_after=(5,))
    assert "fallback_after" in one_line(e)
    with pytest.raises(InputError) as e:
        dla.cnn(blocks=0)
    assert "blocks" in one_line(e)
    only_const = _model([helper.make_node("Constant", [], ["y"], name="k", value=_f("v", 1.0))], [], X4, "y", [])
    with pytest.raises(InputError) as e:
        dla.partition(only_const)
    assert "Constant" in one_line(e)
    for kw, word in (({"fixed": 1}, "fixed"), ({"channels": 3}, "channels"), ({"size": True}, "size")):
        with pytest.raises(InputError) as e:
            dla.neck(**kw)
        assert word in one_line(e)


# ----- the build queue --------------------------------------------------------------------------------
_HOLDER = textwrap.dedent("""
    import json, sys, time
    from trtfaq.build_queue import build_lock
    spans = []
    for _ in range(4):
        if sys.argv[2] == "lock":
            with build_lock(sys.argv[1]):
                a = time.time(); time.sleep(0.1); spans.append((a, time.time()))
        else:
            a = time.time(); time.sleep(0.1); spans.append((a, time.time()))
    print(json.dumps(spans))
""")


def _overlaps(lock_file, mode):
    procs = [subprocess.Popen([sys.executable, "-c", _HOLDER, str(lock_file), mode], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT) for _ in range(2)]
    spans = sorted(s for p in procs for s in json.loads(p.communicate(timeout=60)[0]))
    return sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])


def test_lock_serializes_two_processes_and_the_test_bites(tmp_path):
    assert _overlaps(tmp_path / "b.lock", "lock") == 0
    assert _overlaps(tmp_path / "b.lock", "nolock") > 0     # planted: without the lock the holds overlap


_BUILDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import tensorrt as trt
    from trtfaq.build_queue import Target, build_serially
    from trtfaq.chapters import dla
    blocks = [int(b) for b in sys.argv[3].split(",")]
    targets = [Target(f"cnn{b}", dla.cnn(blocks=b).SerializeToString()) for b in blocks]
    done = build_serially(targets, timing_cache=Path(sys.argv[1]), lock=Path(sys.argv[2]))
    print(len(done), trt.__version__)
""")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_two_processes_share_one_timing_cache_under_the_double(tmp_path, flavour):
    from double_pass import double_environment

    cache, lock = tmp_path / "shared.cache", tmp_path / "b.lock"
    with double_environment(flavour, tmp_path / "trtfaq-cache"):
        procs = [subprocess.Popen([sys.executable, "-c", _BUILDER, str(cache), str(lock), blocks], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
                 for blocks in ("1,2,3", "4,5,6")]
        outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert not list(tmp_path.glob(".shared.cache.*"))          # no temporary file left behind
    trt = trt_double.install(flavour)
    try:
        cfg = trt.Builder(trt.Logger()).create_builder_config()
        merged = cfg.create_timing_cache(cache.read_bytes())
        assert len(merged._entries) == 6                       # no build lost the other process's entries
    finally:
        trt_double.uninstall()


def test_targets_refuse_bad_inputs():
    with pytest.raises(InputError) as e:
        Target("", b"x")
    assert "name" in one_line(e)
    with pytest.raises(InputError) as e:
        Target("a", "not bytes")
    assert "onnx_bytes" in one_line(e)
    with pytest.raises(InputError) as e:
        build_serially([])
    assert "Target" in one_line(e)
    with pytest.raises(InputError) as e:
        build_serially([Target("a", b"x"), Target("a", b"y")], timing_cache=False)
    assert "unique" in one_line(e)


def test_lock_is_reentrant_only_across_calls(tmp_path):
    with build_lock(tmp_path / "l") as waited:
        assert waited >= 0
    with build_lock(tmp_path / "l"):
        pass


# ----- the chapter 11 reader (synthetic document, never stored) ------------------------------------------
def _doc(samples):
    return {"timings_ms": samples}


def test_rankings_order_and_spread():
    rows = builders.rankings(_doc({"alone": {"nn": [1.0, 1.2, 1.1], "tt": [2.0, 2.0]},
                                   "busy": {"nn": [4.0], "tt": [3.0]}}))
    assert rows[0][1] == "nn < tt" and rows[0][4] == "1.82x"
    assert rows[1][1] == "tt < nn"


def test_rankings_put_the_runs_alone_first():
    rows = builders.rankings(_doc({"busy process": {"nn": [2.0]}, "alone (repeat)": {"nn": [1.0]},
                                   "1 busy stream(s)": {"nn": [3.0]}, "alone": {"nn": [1.0]}}))
    assert [r[0] for r in rows] == ["alone", "alone (repeat)", "1 busy stream(s)", "busy process"]


def test_load_notes_count_the_samples_the_load_missed():
    doc = _doc({"alone": {"nn": [1.0, 1.0], "tt": [2.0, 2.0]}, "1 busy stream(s)": {"nn": [9.0, 1.2], "tt": [9.0, 9.0]},
                "busy process": {"nn": [1.0, 5.0], "tt": [2.0, 8.0]}})
    doc.update(busy_streams_still_busy_after_timing={"1 busy stream(s)": False}, busy_process_alive_during_timing=True)
    text = builders.load_notes(doc).splitlines()
    assert text[0] == ("1 busy stream(s): samples within 1.5x of the median alone: nn 1/2, tt 0/2; "
                       "its streams still busy when the timing ended: no")
    assert text[1].endswith("nn 1/2, tt 1/2; the busy process alive throughout: yes")
    with pytest.raises(BookError) as e:                  # planted: nothing timed alone
        builders.load_notes(_doc({"busy": {"nn": [1.0]}}))
    assert "no condition timed alone" in one_line(e)


def test_percent_of_the_measured_ceiling():
    doc = _doc({"alone": {"nn": [2.0, 2.0], "tt": [4.0]}})
    doc.update(flops_per_gemm=2e12, ceiling={"flops_per_gemm": 4e12, "timings_ms": [2.0, 2.0, 2.0]})
    assert builders.ceiling_tflops(doc) == pytest.approx(2000.0)          # 4e12 flop in 2 ms
    assert builders.percent_of_ceiling(doc, [2.0, 4.0]) == pytest.approx([50.0, 25.0])
    assert builders.rankings(doc)[0][3] == "50, 25"
    assert builders.rankings(_doc({"alone": {"nn": [1.0]}}))[0][3] == "-"    # a run recorded without a ceiling
    with pytest.raises(BookError) as e:                                   # planted: a zero time in the ceiling
        builders.ceiling_tflops({"ceiling": {"flops_per_gemm": 1.0, "timings_ms": [0.0]}})
    assert "data.ceiling" in one_line(e)
    with pytest.raises(BookError) as e:
        builders.percent_of_ceiling(_doc({"alone": {"nn": [1.0]}}), [1.0])
    assert "no measured ceiling" in one_line(e)


def test_rankings_refuse_bad_documents():
    with pytest.raises(BookError) as e:
        builders.rankings({})
    assert "timings_ms" in one_line(e)
    with pytest.raises(BookError) as e:
        builders.rankings(_doc({"alone": {"nn": []}}))
    assert "without samples" in one_line(e)


def test_show_draws_one_panel_per_condition():
    import matplotlib

    matplotlib.use("Agg")
    fig = builders.show(_doc({"alone": {"nn": [1.0], "tt": [2.0]}, "busy": {"nn": [3.0], "tt": [2.5]}}), "synthetic")
    assert len(fig.axes) == 2


# ----- the double: DLA, timing-cache combine, progress monitors, build knobs -----------------------------
@pytest.fixture(params=FLAVOURS)
def trt(request):
    yield trt_double.install(request.param)
    trt_double.uninstall()


def _network(trt, builder):
    net = builder.create_network()
    x = net.add_input("x", trt.float32, (1, 2))
    y = net.add_elementwise(x, x, trt.ElementWiseOperation.SUM).get_output(0)
    y.name = "y"
    net.mark_output(y)
    return net


def test_double_has_no_dla_and_refuses_a_dla_build(trt):
    builder = trt.Builder(trt.Logger())
    assert builder.num_DLA_cores == 0 and trt.Runtime(trt.Logger()).num_DLA_cores == 0
    cfg = builder.create_builder_config()
    assert cfg.default_device_type == trt.DeviceType.GPU
    net = _network(trt, builder)
    assert cfg.can_run_on_DLA(net.get_layer(0)) is False
    assert builder.build_serialized_network(net, cfg) is not None
    cfg.default_device_type = trt.DeviceType.DLA
    cfg.DLA_core = 0
    cfg.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    assert builder.build_serialized_network(net, cfg) is None


def test_double_progress_monitor_phases_and_cancel(trt):
    calls = []

    class Monitor(trt.IProgressMonitor):
        def __init__(self, stop=False):
            trt.IProgressMonitor.__init__(self)
            self.stop = stop

        def phase_start(self, phase_name, parent_phase, num_steps):
            calls.append(("start", phase_name, parent_phase, num_steps))

        def step_complete(self, phase_name, step):
            calls.append(("step", phase_name, step))
            return not self.stop

        def phase_finish(self, phase_name):
            calls.append(("finish", phase_name))

    builder = trt.Builder(trt.Logger())
    cfg = builder.create_builder_config()
    cfg.progress_monitor = Monitor()
    assert builder.build_serialized_network(_network(trt, builder), cfg) is not None
    starts = [c[1] for c in calls if c[0] == "start"]
    assert starts and sorted(starts) == sorted(c[1] for c in calls if c[0] == "finish")
    assert all(c[3] > 0 for c in calls if c[0] == "start")
    calls.clear()
    cfg.progress_monitor = Monitor(stop=True)
    assert builder.build_serialized_network(_network(trt, builder), cfg) is None
    assert calls[-1][0] == "finish"


def test_double_build_knobs(trt):
    builder = trt.Builder(trt.Logger())
    cfg = builder.create_builder_config()
    assert cfg.builder_optimization_level == 3 and cfg.max_num_tactics == -1
    cfg.builder_optimization_level = 0
    cfg.max_num_tactics = 4
    builder.max_threads = 2
    assert (cfg.builder_optimization_level, cfg.max_num_tactics, builder.max_threads) == (0, 4, 2)
    with pytest.raises(ValueError):
        cfg.builder_optimization_level = -1


def test_double_timing_cache_combine():
    trt = trt_double.install("11.4", devices=[{"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0",
                                               "memory_mib": 81559, "pci_bus_id": "00000000:01:00.0"}])
    try:
        builder = trt.Builder(trt.Logger())
        cfg = builder.create_builder_config()
        a, b = cfg.create_timing_cache(b""), cfg.create_timing_cache(b"")
        b._entries["k"] = {"layers": 1}
        assert a.combine(b, False) and "k" in a._entries
        b._device_name = "another GPU"
        assert not a.combine(b, False) and a.combine(b, True)
        b._version = "11.3.0"
        assert not a.combine(b, True)                       # "exact same version" only
    finally:
        trt_double.uninstall()
