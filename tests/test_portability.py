"""Chapter 2's helpers: the plan-header reader (on SYNTHETIC headers: 28 bytes in the layout trtexec reads, no
engine behind them), the calibration-cache decoder (on lines quoted from public issues), the Q/DQ conversion
run on ONNX Runtime, the runtime libraries' messages, and the API-checker tables."""
from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtfaq import checks, models, reference
from trtfaq.chapters import portability
from trtfaq.errors import BookError, InputError

from helpers import one_line

SHIM_BIN = Path(__file__).resolve().parent / "trt_double" / "shim" / "bin"

#: first lines of calibration caches posted in public issues, quoted as posted
ULTRALYTICS_14121 = "TRT-8601-EntropyCalibration2\nimages: 3b66eddc\n168: 3dc6cf6e\n169: 3c010a14\n170: 3dbcb6fb\n"
TENSORRT_2036 = "TRT-8203-EntropyCalibration2\n167: 3c009976\n168: 3e5d05cc\n169: 3c00f9f4\n170: 3d925bb9\n"
TENSORRT_2958 = ("TRT-8205-EntropyCalibration2\ninput: 3b810a13\ninput.1: 3c96d93c\nonnx::Conv_329: 3c96d93c\n"
                 "(Unnamed Layer* 22) [Constant]_output: 3a4b050c\n")
PUBLIC = [ULTRALYTICS_14121, TENSORRT_2036, TENSORRT_2958]


# ----- plan header ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["10.16.1.11", "11.4.0.106", "10.0.1.6", "11.0.0.114", "255.255.255.255"])
def test_a_synthetic_header_reads_back(version):
    head = portability.synthetic_plan_header(version)  # SYNTHETIC: the 28 bytes only
    assert len(head) == 28 and head[:4] == b"ftrt" and head[4:8] == bytes(4)
    found = portability.read_plan_header(head + os.urandom(100))  # only the first 28 bytes count
    assert found.tensorrt_version == version and found.tag == 0x74727466 and found.serialization == 0


def test_the_layout_is_the_one_trtexec_reads():
    """printPlanVersion: blob32[0] == 0x74727466, switch (blob32[1]) case 0, then blob[24..27]."""
    blob = bytearray(28)
    struct.pack_into("<II", blob, 0, 0x74727466, 0)
    blob[24:28] = bytes([10, 16, 1, 11])
    assert portability.read_plan_header(bytes(blob)).tensorrt_version == "10.16.1.11"
    blob[8:24] = os.urandom(16)  # bytes trtexec does not read change nothing
    assert portability.read_plan_header(bytes(blob)).tensorrt_version == "10.16.1.11"


def test_a_plan_file_by_path(tmp_path):
    path = tmp_path / "model.plan"
    path.write_bytes(portability.synthetic_plan_header("11.4.0.106"))
    assert portability.read_plan_header(path).tensorrt_version == "11.4.0.106"
    assert portability.read_plan_header(str(path)).major == 11


@pytest.mark.parametrize("data, words", [
    (b"", "is empty (0 bytes)"),
    (b"ftrt", "truncated"),
    (portability.synthetic_plan_header("10.16.1.11")[:27], "truncated: a TensorRT plan header has 28 bytes, got 27"),
    (models.MLP.random(sizes=(4, 8, 2)).onnx().SerializeToString(), "not a TensorRT plan"),
    (b"\x7fELF" + bytes(40), "ELF binary"),
    (ULTRALYTICS_14121.encode(), "calibration cache"),
    (b"TRTDOUBLE\x00PLAN" + bytes(30), "not a TensorRT plan"),
    (b"ft", "truncated"),
    (b"xy", "not a TensorRT plan"),
])
def test_bad_plans_are_one_line_errors(data, words):
    with pytest.raises(InputError) as e:
        portability.read_plan_header(data)
    assert words in one_line(e)


def test_a_serialization_version_trtexec_does_not_read():
    head = bytearray(portability.synthetic_plan_header("11.4.0.106"))
    head[4] = 1
    with pytest.raises(InputError) as e:
        portability.read_plan_header(bytes(head))
    assert "serialization version 1" in one_line(e)


def test_missing_files_and_wrong_types(tmp_path):
    with pytest.raises(InputError) as e:
        portability.read_plan_header(tmp_path / "nothing.plan")
    assert "does not exist" in one_line(e)
    with pytest.raises(InputError):
        portability.read_plan_header(12345)
    for bad in ("10.16.1", "10.16.1.x", "10.16.1.300"):
        with pytest.raises(InputError):
            portability.synthetic_plan_header(bad)


def test_header_table_shows_errors_briefly():
    text = portability.header_table({"synthetic": portability.synthetic_plan_header("10.16.1.11"), "empty": b""})
    assert "TensorRT 10.16.1.11" in text and "error: the plan is empty" in text and "\n" in text


def test_trtexec_is_asked_when_it_is_on_the_path(tmp_path, monkeypatch):
    path = tmp_path / "m.plan"
    path.write_bytes(portability.synthetic_plan_header("11.4.0.106"))
    monkeypatch.setenv("PATH", str(tmp_path))  # no trtexec here
    assert portability.trtexec_plan_version(path) is None
    monkeypatch.setenv("PATH", f"{SHIM_BIN}{os.pathsep}/usr/bin{os.pathsep}/bin")  # the test double's stand-in
    assert portability.trtexec_plan_version(path) == "11.4.0.106"
    path.write_bytes(b"not a plan at all, but long enough")
    with pytest.raises(BookError) as e:
        portability.trtexec_plan_version(path)
    assert "Failed to verify a plan tag." in one_line(e)


# ----- calibration caches ---------------------------------------------------------------------------------
def _trtexec_scale(text):
    """trtexec's readScalesFromCalibrationCache: std::stoi(value.substr(0, 8), nullptr, 16), bits as a float."""
    return struct.unpack("<f", struct.pack("<i", int(text[:8], 16)))[0]


def _modelopt_scale(text):
    """ModelOpt's import_scales_from_calib_cache: struct.unpack("!f", bytes.fromhex(hex_value))."""
    return struct.unpack("!f", bytes.fromhex(text))[0]


@pytest.mark.parametrize("text", PUBLIC)
def test_public_caches_decode_as_trtexec_and_modelopt_read_them(text):
    cache = portability.parse_calibration_cache(text)
    lines = text.strip().splitlines()[1:]
    assert list(cache.scales) == [ln.rsplit(":", 1)[0] for ln in lines]
    for ln in lines:
        name, value = ln.rsplit(": ", 1)
        assert cache.scales[name] == _trtexec_scale(value) == _modelopt_scale(value)
        assert cache.amax(name) == pytest.approx(127 * cache.scales[name])


def test_known_values_and_headers():
    cache = portability.parse_calibration_cache(ULTRALYTICS_14121)
    assert (cache.version, cache.algorithm, cache.release) == (8601, "EntropyCalibration2", "8.6.1")
    assert cache.scales["169"] == pytest.approx(0.0078759, rel=1e-4) and cache.amax("169") == pytest.approx(1.0002, abs=1e-4)
    assert cache.amax("images") == pytest.approx(0.4475, abs=1e-4)
    assert portability.parse_calibration_cache(TENSORRT_2036).release == "8.2.3"
    assert portability.parse_calibration_cache("TRT-100300-EntropyCalibration2\nx: 3c010a14\n").release == "10.3.0"
    assert portability.parse_calibration_cache("TRT-7000-EntropyCalibration\nx: 3c010a14\n").release == "7.0.0"
    names = portability.parse_calibration_cache(TENSORRT_2958).scales
    assert "onnx::Conv_329" in names and "(Unnamed Layer* 22) [Constant]_output" in names


def test_the_byte_order_matters():
    """A planted mistake: reading the hex digits little-endian gives a different, wrong number."""
    right = portability.scale_from_hex("3c010a14")
    wrong = struct.unpack("<f", bytes.fromhex("3c010a14"))[0]
    assert right == pytest.approx(0.0078759, rel=1e-4) and wrong < 1e-20


def test_tolerant_of_what_files_carry(tmp_path):
    crlf = ULTRALYTICS_14121.replace("\n", "\r\n") + "\r\n\r\n"
    assert portability.parse_calibration_cache(crlf).scales == portability.parse_calibration_cache(ULTRALYTICS_14121).scales
    assert portability.parse_calibration_cache("TRT-8601-EntropyCalibration2\n").scales == {}
    assert portability.parse_calibration_cache("TRT-8601-EntropyCalibration2\nx: 3C010A14\n").scales["x"] == \
        pytest.approx(0.0078759, rel=1e-4)
    path = tmp_path / "calib.cache"
    path.write_text(TENSORRT_2036)
    assert portability.parse_calibration_cache(path).version == 8203
    assert portability.parse_calibration_cache(str(path)).version == 8203
    assert portability.parse_calibration_cache(TENSORRT_2036.encode()).version == 8203


@pytest.mark.parametrize("text, words", [
    ("", "is empty"),
    ("images: 3b66eddc\n", "line 1 should look like TRT-8601-EntropyCalibration2"),
    ("TRT-8XXX-EntropyCalibration2\nx.quantized.dequantized: 40008102\n", "line 1 should look like"),
    ("TRT-8601-EntropyCalibration2\nimages 3b66eddc\n", "line 2 has no 'name: value'"),
    ("TRT-8601-EntropyCalibration2\nimages: 3b66zzdc\n", "line 2 (images)"),
    ("TRT-8601-EntropyCalibration2\nimages: 3b66eddc00\n", "at most 8 hex digits"),
    ("TRT-8601-EntropyCalibration2\nimages: bf800000\n", "not a positive finite number"),
    ("TRT-8601-EntropyCalibration2\nimages: 7fc00000\n", "not a positive finite number"),
    ("TRT-8601-EntropyCalibration2\nimages: 7f800000\n", "not a positive finite number"),
    ("TRT-8601-EntropyCalibration2\nimages: 00000000\n", "not a positive finite number"),
    ("TRT-8601-EntropyCalibration2\na: 3b66eddc\n\na: 3c010a14\n", "line 4: tensor 'a' is listed twice"),
])
def test_bad_caches_are_one_line_errors_naming_the_line(text, words):
    with pytest.raises(InputError) as e:
        portability.parse_calibration_cache(text)
    assert words in one_line(e)


def test_binary_and_missing_inputs(tmp_path):
    with pytest.raises(InputError) as e:
        portability.parse_calibration_cache(b"ftrt\xff\xfe\x00\x80" + bytes(30))
    assert "not UTF-8 text" in one_line(e)
    with pytest.raises(InputError) as e:
        portability.parse_calibration_cache(tmp_path / "none.cache")
    assert "does not exist" in one_line(e)
    with pytest.raises(InputError):
        portability.parse_calibration_cache(3.14)


def test_writing_round_trips():
    scales = {"x": 0.0123, "onnx::Conv_7": 1.5e-3, "(Unnamed Layer* 3) [Shuffle]_output": 2.0}
    text = portability.format_calibration_cache(scales, 8601, "MinMaxCalibration")
    cache = portability.parse_calibration_cache(text)
    assert cache.header == "TRT-8601-MinMaxCalibration"
    assert cache.scales == {k: pytest.approx(v, rel=1e-7) for k, v in scales.items()}
    assert portability.hex_from_scale(portability.scale_from_hex("3c010a14")) == "3c010a14"
    for bad in ({"x": 0.0}, {"x": float("nan")}, {"x": -1.0}):
        with pytest.raises(InputError):
            portability.format_calibration_cache(bad, 8601, "MinMaxCalibration")
    with pytest.raises(InputError):
        portability.format_calibration_cache(scales, 8601, "Entropy Calibration")


# ----- Q/DQ -----------------------------------------------------------------------------------------------
def _mlp():
    return models.MLP.random(sizes=(16, 32, 4), seed=3).onnx()


def test_max_calibration_is_amax_over_127():
    model = _mlp()
    x = np.random.default_rng(0).standard_normal((64, 16)).astype(np.float32)
    scales = portability.max_calibration(model, {"x": x})
    assert list(scales) == ["x", "h", "hr", "y"]  # graph order
    values = portability.activations(model, {"x": x})
    for name, scale in scales.items():
        assert scale == pytest.approx(np.abs(values[name]).max() / 127)


def test_qdq_model_runs_and_stays_close():
    model = _mlp()
    rng = np.random.default_rng(1)
    calib, test = rng.standard_normal((256, 16)).astype(np.float32), rng.standard_normal((64, 16)).astype(np.float32)
    result = portability.add_qdq(model, portability.max_calibration(model, {"x": calib}))
    assert result.quantized == ["x", "hr"] and result.weights == ["w1", "w2"] and result.missing == []
    assert result.not_in_model == [] and result.unused == ["h", "y"]
    ops = [n.op_type for n in result.model.graph.node]
    assert ops.count("QuantizeLinear") == ops.count("DequantizeLinear") == 4
    inits = {i.name: numpy_helper.to_array(i) for i in result.model.graph.initializer}
    assert inits["w1_scale"].shape == (32,) and inits["x_zero_point"].dtype == np.int8 and inits["x_zero_point"] == 0
    np.testing.assert_allclose(inits["w1_scale"], np.abs(inits["w1"]).max(axis=1) / 127, rtol=1e-6)
    y = reference.run_onnxruntime(model, {"x": test})["y"]
    y8 = reference.run_onnxruntime(result.model, {"x": test})["y"]
    assert 0 < np.abs(y8 - y).max() < 0.05 * np.abs(y).max()
    assert "QuantizeLinear" not in [n.op_type for n in model.graph.node]  # the input model is untouched


def test_scales_are_keyed_by_names():
    model = _mlp()
    scales = {"x": 0.02, "h": 0.03, "hr": 0.03, "y": 0.01}
    renamed = portability.rename_tensors(model, {"h": "/fc1/Gemm_output_0", "hr": "/relu/Relu_output_0"})
    result = portability.add_qdq(renamed, scales)
    assert result.quantized == ["x"] and result.missing == ["/relu/Relu_output_0"]
    assert result.not_in_model == ["h", "hr"]
    assert "no scale for ['/relu/Relu_output_0']" in str(result)
    np.testing.assert_allclose(reference.run_onnxruntime(renamed, {"x": np.ones((2, 16), np.float32)})["y"],
                               reference.run_onnxruntime(model, {"x": np.ones((2, 16), np.float32)})["y"])
    with pytest.raises(InputError):
        portability.rename_tensors(model, {"nothing": "x2"})


def test_matmul_and_conv_weights_are_per_output_channel():
    w = np.random.default_rng(2).standard_normal((8, 5)).astype(np.float32)
    k = np.random.default_rng(3).standard_normal((6, 3, 3, 3)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["img", "k"], ["c"], pads=[1, 1, 1, 1]),
         helper.make_node("Flatten", ["c"], ["f"]), helper.make_node("MatMul", ["f", "w"], ["out"])], "g",
        [helper.make_tensor_value_info("img", TensorProto.FLOAT, [1, 3, 2, 2])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 5])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(k, "k")])
    w = np.random.default_rng(2).standard_normal((24, 5)).astype(np.float32)
    graph.initializer[0].CopyFrom(numpy_helper.from_array(w, "w"))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    result = portability.add_qdq(model, {"img": 0.01, "f": 0.05})
    inits = {i.name: numpy_helper.to_array(i) for i in result.model.graph.initializer}
    assert inits["w_scale"].shape == (5,) and inits["k_scale"].shape == (6,)
    np.testing.assert_allclose(inits["k_scale"], np.abs(k).reshape(6, -1).max(axis=1) / 127, rtol=1e-6)
    feeds = {"img": np.random.default_rng(4).uniform(0, 1, (1, 3, 2, 2)).astype(np.float32)}
    assert reference.run_onnxruntime(result.model, feeds)["out"].shape == (1, 5)


def test_qdq_roundtrip_saturates_at_127_scales():
    scale = portability.scale_from_hex("3b66eddc")
    x = np.linspace(0, 1, 101, dtype=np.float32)
    y = portability.qdq_roundtrip(x, scale)
    assert y.max() == pytest.approx(127 * scale, rel=1e-6)
    below = x < 127 * scale
    np.testing.assert_allclose(y[below], np.round(x[below] / scale) * scale, rtol=1e-5, atol=1e-7)


def test_bad_inputs_to_the_qdq_helpers():
    with pytest.raises(InputError) as e:
        portability.max_calibration(_mlp(), {"images": np.ones((2, 16), np.float32)})
    assert "the model's inputs are ['x']" in one_line(e)
    for bad in (0.0, -0.1, float("nan")):
        with pytest.raises(InputError):
            portability.qdq_roundtrip(np.ones(3, np.float32), bad)
        with pytest.raises(InputError):
            portability.add_qdq(_mlp(), {"x": bad})


def test_fixed_batch():
    model = portability.fixed_batch(_mlp(), 16)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 16
    with pytest.raises(InputError):
        portability.fixed_batch(_mlp(), 0)


# ----- the runtime libraries ------------------------------------------------------------------------------
@pytest.mark.network
def test_the_real_runtimes_export_no_builder_and_carry_their_messages():
    paths = portability.runtime_libraries()
    text = portability.runtimes_table(paths)
    assert text.splitlines()[3].split()[-4:] == ["no", "no", "no", "no"]  # exports a builder
    for label, path in paths.items():
        found = portability.runtime_messages(path)
        for key in ("host code not allowed", "major version", "forward compatibility", "platform"):
            assert found[key], (label, key)
        if "lean" in label:
            assert "trtexec --getPlanVersionOnly" in found["getPlanVersionOnly hint"]
            assert found["wrong version"].startswith("The engine plan file is not compatible with this version")
    assert portability.runtime_messages(paths["11.4 lean"])["host code not allowed"] == (
        "Cannot deserialize engine with lean runtime since IRuntime::getEngineHostCodeAllowed() is false.")


# ----- the API checker tables -----------------------------------------------------------------------------
PREAMBLE = """logger = trt.Logger(trt.Logger.WARNING)
config = trt.Builder(logger).create_builder_config()
"""
CODE = """config.max_workspace_size = 1 << 30
config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)
config.runtime_platform = trt.RuntimePlatform.WINDOWS_AMD64
"""


def test_check_code_and_its_tables():
    found = checks.check_code(CODE, targets=("8.6", "10.16", "11.4"), preamble=PREAMBLE)
    assert {(f["line"], f["name"]) for f in found if f["severity"] == "error"} >= {
        (1, "max_workspace_size"), (3, "runtime_platform")}
    table = checks.findings_table(CODE, found, targets=("8.6", "10.16", "11.4"))
    row = next(ln for ln in table.splitlines() if "max_workspace_size" in ln)
    assert row.startswith("   1") and "removed" in row and "set_memory_pool_limit" in row
    avail = checks.availability_table(CODE, found, ("8.6", "10.16", "11.4"))
    lines = {ln.split()[0]: ln for ln in avail.splitlines()[2:]}
    assert "yes           yes             yes" in lines["config.set_flag(trt.BuilderFlag.VERSION_COMPATIBLE)"]
    assert "added in 10.2.0" in lines["config.runtime_platform"]
    assert checks.check_code("x = 1\n") == []
    with pytest.raises(BookError):
        checks.check_code(CODE, preamble="config = None")  # no final newline


def test_a_failing_checker_is_a_one_line_error(monkeypatch):
    import subprocess

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 2, "", "bad\nargs: no\n"))
    with pytest.raises(BookError) as e:
        checks.check_code(CODE)
    assert one_line(e) == "python -m trtfaq check-api failed: args: no"
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(a, 0, "not json", ""))
    with pytest.raises(BookError):
        checks.check_code(CODE)


# ----- the chapter under the double: planted mistakes fail ----------------------------------------------------
def _plant(old, new):
    def mutate(nb):
        hits = [c for c in nb.cells if c.cell_type == "code" and old in "".join(c.source)]
        assert len(hits) == 1, f"{len(hits)} cells hold {old!r}"
        hits[0].source = "".join(hits[0].source).replace(old, new)
    return mutate


CHAPTER2 = Path(__file__).resolve().parents[1] / "notebooks" / "02-portability.ipynb"


@pytest.mark.network
@pytest.mark.parametrize("flavour, old, new, expected", [
    ("11.4", "runtime.engine_host_code_allowed = True         # consent", "pass  # consent",
     "TensorRT could not deserialize the plan"),
    ("10.16", 'portability.lean_runtime_for(trt.__version__)', 'portability.lean_runtime_for("11.4.0.106")',
     "TensorRT could not deserialize the plan"),
    ("11.4", "plans[\"version compatible, no lean runtime\"], runtime=lean", "plans[\"plain\"], runtime=lean",
     "TensorRT could not deserialize the plan"),
])
def test_the_chapter_fails_on_planted_mistakes(flavour, old, new, expected, tmp_path):
    from double_pass import PassFailure, run_notebook

    with pytest.raises(PassFailure) as e:
        run_notebook(CHAPTER2, flavour, tmp_path, mutate=_plant(old, new))
    assert expected in str(e.value) and "notebooks/02-portability.ipynb, code cell" in str(e.value)
