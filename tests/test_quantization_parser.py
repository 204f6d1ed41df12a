"""Chapters 9 and 10: the operator-matrix helper on held-out models, the quantization helpers, the reading of
a recorded ch09-formats run (a SYNTHETIC document built here, never stored), and the double's parser
contract (supports_model_v2 subgraphs, ParserError node and operator). Planted mistakes prove the checks bite."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtfaq.chapters import onnx_parser as ch10
from trtfaq.chapters import quantization as ch9
from trtfaq.errors import InputError

import trt_double
from helpers import one_line

M16 = ch10.load_matrix("10.16")


def _model(nodes, inputs, outputs, inits=(), opset=18, functions=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid("local", 1)],
                          functions=list(functions))
    m.ir_version = 10
    return m


def _vi(name, shape=(2, 4)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


# ----- chapter 10: the matrix helper -----------------------------------------------------------------
def test_vendored_matrices_parse_with_their_provenance():
    for release, count in (("10.16", 200), ("11.1", 201)):
        m = ch10.load_matrix(release)
        assert (m.opset_min, m.opset_max, len(m.operators)) == (9, 24, count)
        assert len(m.source["commit"]) == 40 and m.source["url"].endswith("docs/operators.md")
    assert ch10.load_matrix("11.4.0.106").tensorrt == "11.1" and ch10.load_matrix("10.16.1.11").tensorrt == "10.16"
    assert M16.status("Col2Im").supported is False and M16.status("DequantizeLinear").types == ("INT8", "FP8", "FP4", "INT4")
    assert "Swish" in ch10.load_matrix("11.1").operators and "Swish" not in M16.operators


def test_parser_reads_upstream_padding_and_y_experimental():
    text = ("TensorRT 8.4 supports operators in the inclusive range of opset 9 to opset 13.\n"
            "| Operator                  | Supported  | Supported Types | Restrictions |\n"
            "|---------------------------|------------|-----------------|--------------|\n"
            "| NonMaxSuppression         | Y [EXPERIMENTAL] | FP32, FP16 | `K` must be an initializer\n"
            "| BitShift                  | N          |\n")
    m = ch10.parse_operators_md(text)
    assert m.status("NonMaxSuppression").supported and m.status("NonMaxSuppression").restrictions
    assert not m.status("BitShift").supported and m.opset_max == 13


def test_held_out_ort_dynamic_quantization_is_refused():
    import tempfile
    from pathlib import Path

    from onnxruntime.quantization import quantize_dynamic

    w = numpy_helper.from_array(np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32), "w")
    m = _model([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], [_vi("x")], [_vi("y")], [w], opset=17)
    with tempfile.TemporaryDirectory() as tmp:
        onnx.save(m, Path(tmp) / "m.onnx")
        quantize_dynamic(str(Path(tmp) / "m.onnx"), str(Path(tmp) / "q.onnx"))
        q = onnx.load(Path(tmp) / "q.onnx")
    refused = {f.op_type for f in ch10.check_model(q, M16).blocking}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= refused


def test_held_out_nested_function_domain_and_restrictions():
    body = helper.make_graph([helper.make_node("Det", ["a"], ["b"], name="inner_det")], "body",
                             [_vi("a", (2, 2))], [_vi("b", ())])
    loop_like = helper.make_node("If", ["c"], ["z"], name="branch", then_branch=body, else_branch=body)
    fn = helper.make_function("local", "MyOp", ["p"], ["q"], [helper.make_node("Unique", ["p"], ["q"])],
                              [helper.make_opsetid("", 18)])
    nodes = [loop_like, helper.make_node("MyOp", ["x"], ["u"], domain="local", name="call"),
             helper.make_node("FancyActivation", ["x"], ["v"], domain="com.example", name="custom"),
             helper.make_node("TopK", ["x", "k"], ["t", "ti"], name="topk")]
    m = _model(nodes, [_vi("x"), helper.make_tensor_value_info("c", TensorProto.BOOL, [])],
               [_vi("z", ()), _vi("u"), _vi("v"), _vi("t")], [numpy_helper.from_array(np.array([2], np.int64), "k")],
               functions=[fn])
    r = ch10.check_model(m, M16)
    blocking = {(f.op_type, f.where.split(" > ")[-1].split(".")[0]) for f in r.blocking}
    assert ("Det", "If 'branch'") in blocking and ("Unique", "function MyOp") in blocking
    assert any(f.op_type == "FancyActivation" and "domain" in f.reason for f in r.blocking)
    assert any(f.op_type == "TopK" and not f.blocking for f in r.findings)       # a restriction to check
    assert ch10.subgraphs(m, r) == [[3]]                                            # nodes 0, 1, 2 refused


def test_opset_range_and_fully_supported_model():
    m = ch10.patch_model(opset=25, fold="reshape")
    assert not ch10.check_model(m, M16).opset_ok
    r = ch10.check_model(ch10.convert_opset(m, 18), M16)
    assert r.supported and ch10.subgraphs(m, r) == [list(range(len(m.graph.node)))]


@pytest.mark.parametrize("call, message", [
    (lambda: ch10.load_matrix("8.6"), "no vendored operator matrix for TensorRT '8.6'"),
    (lambda: ch10.parse_operators_md("# nothing"), "not an onnx-tensorrt operators.md"),
    (lambda: ch10.check_model(b"bytes", M16), "expected an onnx.ModelProto"),
    (lambda: ch10.check_model(ch10.patch_model(), "10.16"), "expected a Matrix"),
    (lambda: ch10.patch_model(opset=17), "Col2Im exists from opset 18"),
    (lambda: ch10.convert_opset(ch10.patch_model(), 17), "No Previous Version of Col2Im exists"),
])
def test_bad_inputs_are_one_line_errors(call, message):
    with pytest.raises(InputError) as e:
        call()
    assert message in one_line(e)


# ----- chapter 9 -----------------------------------------------------------------------------------
def test_grids_and_symmetric_quantizers():
    assert ch9.grid("FP4 E2M1").tolist() == [-6, -4, -3, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 4, 6]
    assert ch9.grid("FP8 E4M3").max() == 448 and len(ch9.grid("FP8 E4M3")) == 253
    w = ch9.weight_matrix(256, 64)
    errs = {r[0]: float(r[2]) for r in ch9.format_errors(w)}
    assert errs["INT8, one scale per column"] < errs["FP8 E4M3, one scale per column"] < errs["INT4, blocks of 32"]
    layer = ch9.Int4Layer.from_weight(w, 32)
    assert layer.codes.min() >= -8 and layer.codes.max() <= 7 and layer.nbytes == 256 * 64 // 2 + 8 * 64 * 2
    with pytest.raises(InputError):
        ch9.Int4Layer.from_weight(w, 48)


def test_int4_model_is_exact_with_optimizations_off():
    from onnx.reference import ReferenceEvaluator

    layer = ch9.Int4Layer.from_weight(ch9.weight_matrix(256, 64), 32)
    model = ch9.int4_model(layer)
    x = np.random.default_rng(2).standard_normal((3, 256)).astype(np.float16)
    exact = x.astype(np.float64) @ layer.dequantized()
    y, ops = ch9.onnxruntime_run(model, {"x": x}, "off")
    assert "DequantizeLinear" in ops and np.abs(y["y"] - exact).max() / np.abs(exact).max() <= 2.0 ** -11
    ref = ReferenceEvaluator(model).run(None, {"x": x})[0]
    assert np.abs(ref - exact).max() / np.abs(exact).max() <= 2.0 ** -10


def _synthetic_run(tmp_path):
    """A SYNTHETIC ch09-formats document (numbers made up for the test), never written to the results."""
    from trtfaq import results

    ms = lambda v: {"samples_ms": [v, v * 1.01, v * 0.99]}  # noqa: E731
    data = {"ceilings": {"copy": {"bytes_moved": 2 * 2 ** 30, **ms(1.0)}, "gemm_fp16": {"flops": 2 * 8192 ** 3, **ms(1.4)}},
            "fp8": {"runs": [{"m": 4096, "n": 4096, "k": 4096,
                              "bf16": {"kernel": "bf16 k", "rel_error": 2e-3, **ms(0.25)},
                              "fp8_tensorwise": {"kernel": "fp8 k", "rel_error": 3e-2, **ms(0.14)},
                              "fp8_rowwise": {"kernel": "fp8 rows", "error": "RuntimeError: no"}}]},
            "fp4": {"attempts": [{"what": "NVFP4", "ok": False, "message": "RuntimeError: needs sm100"}]},
            "int4": {"n": 8192, "k": 8192, "group_size": 128, "bf16_kernel": "bf16", "int4_kernel": "tinygemm",
                     "bf16_weight_bytes": 2 * 8192 ** 2, "int4_weight_bytes": 8192 ** 2 // 2,
                     "int4_vs_dequantized_rel_error": 1e-3,
                     "runs": [{"m": 1, "bf16": ms(0.06), "int4": ms(0.02)}, {"m": 4096, "bf16": ms(0.8), "int4": ms(4.0)}]}}
    prov = {"gpu": "SYNTHETIC GPU", "compute_capability": "9.0", "driver": "0", "cuda_runtime": "0", "libraries": {},
            "created": "2026-01-01T00:00:00+00:00", "git_commit": "0" * 10, "command": "test", "python": "3"}
    return results.load(results.save(tmp_path, ch9.EXPERIMENT, "notebooks/09-quantization", "t", "synthetic", prov, data))


def test_recorded_run_tables_from_a_synthetic_document(tmp_path):
    run = _synthetic_run(tmp_path)
    rows = ch9.fp8_rows(run)
    assert [r[1] for r in rows] == ["bf16 k", "fp8 k"]                 # the failed rowwise entry is left out
    assert rows[1][2] == f"{2 * 4096 ** 3 / 0.14 / 1e9:.0f}"
    assert ch9.fp4_attempts(run) == [["NVFP4", "refused: RuntimeError: needs sm100"]]
    r1, r4096 = ch9.int4_rows(run)
    assert r1[3] == "3.00x" and r4096[3] == "0.20x"
    assert r1[4] == f"{(2 * 8192 ** 2 / 0.06 / 1e9) / (2 * 2 ** 30 / 1.0 / 1e9):.0%}" == "104%"
    ch9.show_int4_sweep(run)


# ----- the double's parser contract (chapter 10) ----------------------------------------------------
@pytest.mark.parametrize("flavour", ["10.16", "11.4"])
def test_double_supports_model_v2_reports_subgraphs_and_the_failing_node(flavour):
    trt = trt_double.install(flavour)
    try:
        logger = trt.Logger(trt.Logger.ERROR)
        parser = trt.OnnxParser(trt.Builder(logger).create_network(), logger)
        assert not parser.supports_model_v2(ch10.patch_model(opset=18).SerializeToString())
        assert [parser.get_subgraph_nodes(i) for i in range(parser.num_subgraphs)] == [[0, 1, 2, 3], [5]]
        assert not any(parser.is_subgraph_supported(i) for i in range(parser.num_subgraphs))
        err = parser.get_error(0)
        assert (err.node(), err.node_name(), err.node_operator(), err.code()) == (4, "fold", "Col2Im",
                                                                                 trt.ErrorCode.INVALID_NODE)
        assert not parser.is_subgraph_supported(7) and "exceeds subgraph support vector" in str(parser.get_error(1))
        ok_parser = trt.OnnxParser(trt.Builder(logger).create_network(), logger)
        assert ok_parser.supports_model_v2(ch10.patch_model(opset=18, fold="reshape").SerializeToString())
        assert ok_parser.num_subgraphs == 1 and ok_parser.is_subgraph_supported(0)
        assert hasattr(ok_parser, "supports_model") == (flavour == "10.16")
        assert hasattr(trt.BuilderFlag, "INT4") == (flavour == "10.16")
    finally:
        trt_double.uninstall()


def test_double_refuses_a_nonzero_zero_point():
    trt = trt_double.install("11.4")
    try:
        layer = ch9.Int4Layer.from_weight(ch9.weight_matrix(64, 16), 32)
        model = ch9.int4_model(layer)
        model.graph.initializer.append(helper.make_tensor("zp", TensorProto.INT4, [2, 16], [1] * 32))
        model.graph.node[0].input.append("zp")
        logger = trt.Logger(trt.Logger.INTERNAL_ERROR)
        parser = trt.OnnxParser(trt.Builder(logger).create_network(), logger)
        assert not parser.parse(model.SerializeToString())
        assert parser.get_error(0).node_operator() == "DequantizeLinear"
    finally:
        trt_double.uninstall()
