"""Chapter 6's FP16 conversion, strict FP16 execution and tensor-by-tensor comparison.

The first divergence is checked against a hand computation in numpy float16, and the error tables
against a recomputation from the raw outputs.
"""
import numpy as np
import onnx
import pytest

from trtfaq import models, precision, reference
from trtfaq.chapters import wrong_answers as ch6
from trtfaq.errors import InputError

from helpers import one_line


@pytest.fixture(scope="module")
def l2():
    rng = np.random.default_rng(0)
    mlp = models.MLP.random((8, 6, 3), seed=1)
    x = rng.integers(0, 256, size=(20, 8)).astype(np.float32)  # raw bytes: sums of squares ~ 1e5
    return ch6.l2_normalized_classifier(mlp), mlp, x


def test_conversion_makes_float16_io_unless_asked(l2):
    model, _, _ = l2
    io = lambda m: [v.type.tensor_type.elem_type for v in list(m.graph.input) + list(m.graph.output)]  # noqa: E731
    assert io(precision.to_fp16(model)) == [onnx.TensorProto.FLOAT16] * 2
    assert io(precision.to_fp16(model, keep_io_types=True)) == [onnx.TensorProto.FLOAT] * 2
    assert io(model) == [onnx.TensorProto.FLOAT] * 2  # the original is left alone


@pytest.mark.parametrize("call, message", [
    (lambda m: precision.to_fp16(precision.to_fp16(m)), "already takes float16 inputs"),
    (lambda m: precision.to_fp16(m, keep_fp32=("sqaure",)), "no node named 'sqaure'"),
    (lambda m: precision.run_tensors(m, {"x": np.zeros((1, 8), np.float32)}, backend="gpu"), "unknown backend"),
    (lambda m: precision.run_tensors(m, {"image": np.zeros((1, 8), np.float32)}), "model inputs are ['x']"),
])
def test_bad_requests_are_one_line_errors(l2, call, message):
    with pytest.raises(InputError) as e:
        call(l2[0])
    assert message in one_line(e)


def test_first_divergence_is_the_overflowing_sum_as_computed_by_hand(l2):
    model, _, x = l2
    # by hand, in numpy float16: the squares fit, their sum does not
    sq = x.astype(np.float16) * x.astype(np.float16)
    assert np.all(np.isfinite(sq))
    with np.errstate(over="ignore"):
        assert np.all(np.isinf(sq.astype(np.float32).sum(axis=1).astype(np.float16)))
    fp16 = precision.to_fp16(model)
    ref = precision.run_tensors(model, {"x": x})
    for backend in precision.BACKENDS:
        rows = precision.compare_tensors(ref, precision.run_tensors(fp16, {"x": x}, backend),
                                         precision.graph_order(fp16))
        first = precision.first_divergence(rows)
        assert (first.tensor, first.op, first.nonfinite) == ("sumsq", "ReduceSum", len(x)), backend
        assert rows[0].tensor == "sq" and rows[0].passed
    # only the strict run carries the overflow on: ONNX Runtime's CPU provider keeps float32 inside
    strict = precision.run_tensors(fp16, {"x": x}, "strict")
    ort = precision.run_tensors(fp16, {"x": x}, "onnxruntime")
    assert np.all(np.isinf(strict["norm"])) and np.all(np.isfinite(ort["norm"]))


def test_keeping_the_normalization_in_fp32_removes_the_divergence(l2):
    model, _, x = l2
    mixed = precision.to_fp16(model, keep_fp32=("square", "sum_squares", "sqrt", "normalize"))
    rows = precision.compare_tensors(precision.run_tensors(model, {"x": x}),
                                     precision.run_tensors(mixed, {"x": x}, "strict"), precision.graph_order(mixed))
    assert precision.first_divergence(rows) is None


def test_error_table_matches_a_recomputation():
    rng = np.random.default_rng(2)
    ref = {"a": rng.normal(size=(5, 4)), "b": rng.normal(size=(5, 4))}
    test = {"a": ref["a"] + 1e-3, "b": ref["b"].copy()}
    test["b"][1, 2] = np.inf
    rows = precision.compare_tensors(ref, test, [("a", "Mul", "n1"), ("b", "Add", "n2"), ("c", "Neg", "n3")],
                                     atol=1e-2, rtol=0)
    assert [r.tensor for r in rows] == ["a", "b"]  # tensors missing from a run are left out
    assert rows[0].max_abs == pytest.approx(1e-3) and rows[0].scale == pytest.approx(np.abs(ref["a"]).max())
    assert rows[0].passed and not rows[1].passed and rows[1].nonfinite == 1
    assert precision.first_divergence(rows).tensor == "b"
    tight = precision.compare_tensors(ref, test, [("a", "Mul", "n1")], atol=1e-4, rtol=0)
    assert not tight[0].passed
    text = precision.format_table(rows)
    assert "FIRST FAIL" in text and text.count("\n") == 3


def test_comparing_unrelated_runs_is_a_one_line_error():
    with pytest.raises(InputError) as e:
        precision.compare_tensors({"a": np.zeros(2)}, {"b": np.zeros(2)}, [("a", "Relu", "r")])
    assert "share no tensor names" in one_line(e)
    with pytest.raises(InputError) as e:
        precision.compare_tensors({"a": np.zeros(2)}, {"a": np.zeros(3)}, [("a", "Relu", "r")])
    assert "has shape (2,)" in one_line(e)


def test_summary_and_agreement():
    ref = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 0.0], [0.0, 0.0, 4.0]])
    got = np.array([[1.0, 2.5, 0.0], [1.0, 3.0, 0.0], [np.nan, 0.0, 4.0]])
    s = ch6.compare_scores(got, ref, labels=[1, 0, 2])
    assert ch6.top1(got).tolist() == [1, 1, -1]  # a row with NaN predicts nothing
    assert s["agreement"] == pytest.approx(1 / 3) and s["accuracy"] == pytest.approx(1 / 3)
    assert s["nonfinite"] == 1 and s["max_abs"] == 2.0 and s["rel"] == pytest.approx(0.5)
    with pytest.raises(InputError):
        ch6.agreement(got[:2], ref)


def test_centroid_forms_agree_in_fp32_and_differ_in_fp16():
    rng = np.random.default_rng(3)
    centers = (1 - rng.uniform(0, 0.3, size=(4, 64))).astype(np.float32)  # long vectors, as on paper
    x = (centers[rng.integers(0, 4, 50)] + rng.normal(0, 0.05, (50, 64))).astype(np.float32)
    truth = -((x[:, None, :].astype(np.float64) - centers[None]) ** 2).sum(-1)
    errs = {}
    for form in ch6.CENTROID_FORMS:
        m = ch6.centroid_classifier(centers, form)
        np.testing.assert_allclose(reference.run_onnxruntime(m, {"x": x})["y"], truth, rtol=1e-4, atol=1e-3)
        errs[form] = np.abs(precision.run_tensors(precision.to_fp16(m), {"x": x}, "strict")["y"] - truth).max()
    assert errs["expanded"] > 3 * errs["direct"]
    with pytest.raises(InputError):
        ch6.centroid_classifier(centers, "fast")


def test_polygraphy_cli_reports_per_tensor_verdicts(l2, tmp_path):
    from polygraphy.json import save_json

    model, _, x = l2
    onnx.save(model, tmp_path / "m.onnx")
    onnx.save(precision.to_fp16(model), tmp_path / "m16.onnx")
    save_json([{"x": x}], tmp_path / "in.json")
    rc, _ = ch6.polygraphy_cli(["run", "m.onnx", "--onnxrt", "--onnx-outputs", "mark", "all",
                                      "--load-inputs", "in.json", "--save-outputs", "ref.json"], tmp_path)
    assert rc == 0
    rc, lines = ch6.polygraphy_cli(["run", "m16.onnx", "--onnxrt", "--onnx-outputs", "mark", "all",
                                          "--load-inputs", "in.json", "--load-outputs", "ref.json",
                                          "--atol", "1e-2", "--rtol", "1e-2"], tmp_path)
    assert rc == 1 and "FAILED | Output: 'sumsq'" in "\n".join(lines)
    assert all(line.startswith(("PASSED", "FAILED")) for line in lines) and len(lines) == 7
