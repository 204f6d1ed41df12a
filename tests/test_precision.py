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
    (lambda m: precision.to_fp16(precision.to_fp16(m)), "already holds float16 inputs or weights"),
    (lambda m: precision.to_fp16(m, keep_fp32=("sqaure",)), "no node or tensor named 'sqaure' in the model (close: 'square'"),
    (lambda m: precision.to_fp16(m, keep_fp32="fc9"), "no node or tensor named 'fc9'"),
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
    assert "<- first divergence" in text and text.count("\n") == 3


def test_comparing_unrelated_runs_is_a_one_line_error():
    with pytest.raises(InputError) as e:
        precision.compare_tensors({"a": np.zeros(2)}, {"b": np.zeros(2)}, [("a", "Relu", "r")])
    assert "share no tensor names" in one_line(e)
    # tensors of different shapes fail, as in `polygraphy run` (its default shape check)
    (row,) = precision.compare_tensors({"a": np.zeros(2)}, {"a": np.zeros(3)}, [("a", "Relu", "r")])
    assert not row.passed and row.note == "shape (3,) vs reference (2,)"


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


# ----- Polygraphy's rule, checked against Polygraphy's own comparator in-process ---------------

def polygraphy_verdicts(test: dict, ref: dict, atol: float, rtol: float) -> dict:
    """Per-output verdicts of Polygraphy's SimpleCompareFunc (what `polygraphy run` uses), test first."""
    from polygraphy.comparator import CompareFunc, IterationResult
    from polygraphy.logger import G_LOGGER

    with G_LOGGER.verbosity(G_LOGGER.CRITICAL):
        out = CompareFunc.simple(atol=atol, rtol=rtol)(IterationResult(test, runner_name="test"),
                                                        IterationResult(ref, runner_name="ref"))
    return {name: bool(res) for name, res in out.items()}


def test_compare_tensors_gives_polygraphys_own_verdict_on_borderline_tensors():
    rng = np.random.default_rng(7)
    ref, test = {}, {}
    for i in range(200):
        r = (rng.normal(size=(16,)) * 10.0 ** rng.integers(-3, 4)).astype(np.float32)
        r[rng.integers(0, 16, 2)] = 0.0                          # zeros: Polygraphy adds 2.2e-16 first
        d = r * rng.choice([1e-4, 9e-3, 1e-2, 1.1e-2, 3e-2]) + rng.choice([0.0, 9e-3, 1.1e-2], size=16)
        t = (r + d).astype(np.float16 if i % 2 else np.float32)  # FP16 runs are cast up to float32 first
        if i % 17 == 0:
            t = t.astype(np.float32)
            t[3] = np.nan
        if i % 19 == 0:
            t = t.astype(np.float32)
            t[5] = np.inf
        ref[f"t{i}"], test[f"t{i}"] = r, t
    order = [(name, "Op", "n") for name in ref]
    for atol, rtol in ((1e-2, 1e-2), (1e-3, 0.0), (0.0, 1e-2), (1e-5, 1e-5)):
        ours = {r.tensor: r.passed for r in precision.compare_tensors(ref, test, order, atol=atol, rtol=rtol)}
        assert ours == polygraphy_verdicts(test, ref, atol, rtol), (atol, rtol)
    # both tolerances must be exceeded: the old rule |d| <= atol + rtol*|ref| disagrees on some tensors
    old = {n: bool(np.all(np.abs(test[n].astype(np.float64) - ref[n]) <= 1e-2 + 1e-2 * np.abs(ref[n]))) for n in ref}
    ours = {r.tensor: r.passed for r in precision.compare_tensors(ref, test, order)}
    assert sum(old[n] != ours[n] for n in ref) >= 1


# ----- the strict evaluator's corrections ---------------------------------------------------------

def single_op(op, opset, inputs, outputs, inits=(), ir=7, **attrs):
    from onnx import helper

    node = helper.make_node(op, [i[0] for i in inputs], [o[0] for o in outputs], name="op", **attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info(n, 1, s) for n, s in inputs
                                            if n not in {t.name for t in inits}],
                              [helper.make_tensor_value_info(n, t, None) for n, t in outputs], list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir
    return m


@pytest.mark.parametrize("opset", [9, 13, 15])
def test_strict_batchnorm_is_inference_in_every_opset(opset):
    from onnx import numpy_helper
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(0)
    stats = [numpy_helper.from_array(a.astype(np.float32), n) for n, a in
             (("s", rng.uniform(0.5, 2, 4)), ("b", rng.normal(size=4)), ("mu", rng.normal(size=4)),
              ("var", rng.uniform(0.5, 2, 4)))]
    m = single_op("BatchNormalization", opset, [("x", [2, 4, 3, 3]), ("s", [4]), ("b", [4]), ("mu", [4]), ("var", [4])],
                  [("y", 1)], stats)
    x = {"x": rng.normal(size=(2, 4, 3, 3)).astype(np.float32)}
    assert precision.check_strict(m, x) == 1
    raw = ReferenceEvaluator(m).run(None, x)[0]            # onnx.reference alone
    ort = reference.run_onnxruntime(m, x)["y"]
    assert np.allclose(precision.run_tensors(m, x, "strict")["y"], ort, atol=1e-6)
    assert np.allclose(raw, ort, atol=1e-6) == (opset >= 14)  # its opset 9-13 BN blends in batch statistics


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax", "Hardmax"])
def test_strict_softmax_family_flattens_before_opset_13(op):
    x = {"x": np.random.default_rng(1).normal(size=(2, 5, 1, 1)).astype(np.float32)}
    for opset in (11, 13):
        m = single_op(op, opset, [("x", [2, 5, 1, 1])], [("y", 1)])
        assert precision.check_strict(m, x) == 1, opset
    from onnx.reference import ReferenceEvaluator
    old = single_op(op, 11, [("x", [2, 5, 1, 1])], [("y", 1)])
    assert not np.allclose(ReferenceEvaluator(old).run(None, x)[0], reference.run_onnxruntime(old, x)["y"])


def test_strict_dropout_mask_matches_onnxruntime():
    x = {"x": np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)}
    assert precision.check_strict(single_op("Dropout", 9, [("x", [3, 4])], [("y", 1), ("mask", 1)]), x) == 2
    assert precision.check_strict(single_op("Dropout", 13, [("x", [3, 4])], [("y", 1), ("mask", 9)]), x) == 2


def test_check_strict_names_the_tensor_where_the_evaluators_disagree(monkeypatch):
    m = single_op("Softmax", 11, [("x", [2, 5, 1, 1])], [("y", 1)])
    monkeypatch.setattr(precision, "_strict_ops", lambda: [])  # without the book's corrections
    with pytest.raises(precision.BookError) as e:
        precision.check_strict(m, {"x": np.ones((2, 5, 1, 1), np.float32) * np.arange(5)[None, :, None, None]})
    assert "disagree on tensor 'y' (Softmax)" in one_line(e)


# ----- conversion: repairs, clamps, validation ---------------------------------------------------

def small_net(var_scale: float = 1.0, ir: int = 8, names: bool = True):
    """x -> Conv -> BatchNormalization (opset 13) -> Relu -> Cast(to=FLOAT) -> Mul(Constant 0.5) -> y."""
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(3)
    w = numpy_helper.from_array(rng.normal(size=(4, 2, 3, 3)).astype(np.float32) * 0.3, "w")
    var = rng.uniform(0.5, 2, 4)
    inits = [w] + [numpy_helper.from_array(a.astype(np.float32), n) for n, a in
                   (("s", rng.uniform(0.5, 2, 4) * np.sqrt(var_scale)), ("b", rng.normal(size=4)),
                    ("mu", rng.normal(size=4)), ("var", var * var_scale))]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "s", "b", "mu", "var"], ["bn"], epsilon=1e-5 * var_scale),
             helper.make_node("Relu", ["bn"], ["r"]),
             helper.make_node("Cast", ["r"], ["rc"], to=1),
             helper.make_node("Constant", [], ["half"], value_float=0.5),
             helper.make_node("Mul", ["rc", "half"], ["y"])]
    for i, n in enumerate(nodes):
        n.name = f"n{i}" if names else ""
    graph_inputs = [helper.make_tensor_value_info("x", 1, ["N", 2, 6, 6])]
    if ir < 4:
        graph_inputs += [helper.make_tensor_value_info(t.name, 1, list(t.dims)) for t in inits]
    graph = helper.make_graph(nodes, "small", graph_inputs, [helper.make_tensor_value_info("y", 1, None)], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = ir
    return m


X = {"x": np.random.default_rng(4).uniform(-1, 1, (2, 2, 6, 6)).astype(np.float32)}


def test_conversion_repairs_the_converters_retyped_casts_and_validates():
    import onnxruntime as ort
    from onnxconverter_common import float16

    m = small_net()
    raw = float16.convert_float_to_float16(m)
    with pytest.raises(Exception, match="Type"):  # the converter's own output does not load
        ort.InferenceSession(raw.SerializeToString(), providers=["CPUExecutionProvider"])
    m16 = precision.to_fp16(m, sample=X)
    onnx.checker.check_model(m16, full_check=True)
    cast = next(n for n in m16.graph.node if n.name == "n3")
    assert cast.attribute[0].i == onnx.TensorProto.FLOAT16
    rows = precision.compare_tensors(precision.run_tensors(m, X), precision.run_tensors(m16, X, "strict"), m16)
    assert precision.first_divergence(rows) is None


def test_weights_beyond_float16_are_refused_named_clamped_on_request_and_found():
    m = small_net(var_scale=1e7)                      # same function in FP32; variances ~1e7
    assert precision.check_strict(m, X) == 5  # every tensor but the Constant (Polygraphy marks no constants)
    (clamp,) = [c for c in precision.fp16_clamps(m) if c.kind == "overflow"]
    assert (clamp.tensor, clamp.nodes, clamp.to) == ("var", ("n1",), 65504.0) and clamp.worst > 1e6
    with pytest.raises(InputError) as e:
        precision.to_fp16(m)
    assert "'var' (4 value(s) up to" in one_line(e) and "keep_fp32=('n1',)" in one_line(e)
    with pytest.warns(precision.ClampWarning, match="clamped 4 value"):
        clamped = precision.to_fp16(m, on_overflow="clamp")
    rows = precision.compare_tensors(precision.run_tensors(m, X), precision.run_tensors(clamped, X, "strict"), clamped)
    assert precision.first_divergence(rows).tensor == "bn" == precision.rank_divergence(rows)[0].tensor
    kept = precision.to_fp16(m, keep_fp32=("bn",), sample=X)  # by the tensor it makes
    rows = precision.compare_tensors(precision.run_tensors(m, X), precision.run_tensors(kept, X, "strict"), kept)
    assert precision.first_divergence(rows) is None


def test_unnamed_nodes_and_old_ir_models_convert_and_run():
    m = small_net(ir=3, names=False)
    assert len(m.graph.input) == 6                    # x and every initializer
    assert set(precision.cast_feeds(m, X)) == {"x"}
    with pytest.raises(InputError) as e:
        precision.cast_feeds(m, {"y": X["x"]})
    assert one_line(e) == "model inputs are ['x'], got ['y']"
    m16 = precision.to_fp16(m, keep_fp32=("bn",), sample=X)
    onnx.checker.check_model(m16, full_check=True)
    assert precision.check_strict(m, X) == 5  # every tensor but the Constant (Polygraphy marks no constants)
    rows = precision.compare_tensors(precision.run_tensors(m, X), precision.run_tensors(m16, X, "strict"), m16)
    assert precision.first_divergence(rows) is None


def test_tables_stay_aligned_whatever_the_names():
    names = ["a", "x" * 70, "名前/テンソル", "line\nbreak\ttab", "123", ""]
    ref = {n: np.ones(3, np.float32) for n in names}
    rows = precision.compare_tensors(ref, {n: v * 1.001 for n, v in ref.items()}, [(n, "Op", "") for n in names])
    lines = precision.format_table(rows).splitlines()
    assert len(lines) == len(names) + 2 and all("\n" not in ln for ln in lines)
    starts = {ln.index("Op") for ln in lines[2:]}
    assert starts == {lines[0].index("op")}            # the op column starts at one position in every row
    assert "line\\nbreak\\ttab" in lines[5]
