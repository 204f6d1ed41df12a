import numpy as np
import onnx
import pytest

from trtfaq import models, reference
from trtfaq.chapters import batch_norm
from trtfaq.errors import InputError

from helpers import one_line


def test_fold_is_batch_norm():
    p = batch_norm.BatchNormParams.random(5, seed=3)
    a, b = p.folded()
    x = np.random.default_rng(0).normal(size=(2, 5, 3, 3))
    np.testing.assert_allclose(a.reshape(1, 5, 1, 1) * x + b.reshape(1, 5, 1, 1), p.reference(x), atol=1e-12)


def test_faq_formula_gap_is_exactly_predicted():
    # The chapter's central claim, as a unit test: FAQ - true == (a-1)(bias - a*mean).
    p = batch_norm.BatchNormParams.random(6, seed=11)
    a, b = p.folded()
    x = np.random.default_rng(1).normal(size=(1, 6, 2, 2))
    faq = (x + (p.bias - a * p.mean).reshape(1, 6, 1, 1)) * a.reshape(1, 6, 1, 1)
    gap = ((a - 1) * (p.bias - a * p.mean)).reshape(1, 6, 1, 1)
    np.testing.assert_allclose(faq - p.reference(x), np.broadcast_to(gap, x.shape), atol=1e-12)
    assert np.abs(gap).max() > 0.1  # and it is not negligible


@pytest.mark.parametrize("form", batch_norm.BN_FORMS)
@pytest.mark.parametrize("batch", [1, 3])
def test_every_form_matches_the_definition_at_any_batch(form, batch):
    p = batch_norm.BatchNormParams.random(4, seed=0)
    model = batch_norm.batchnorm_model(p, form=form)
    onnx.checker.check_model(model)
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    x = np.random.default_rng(batch).normal(size=(batch, 4, 8, 8)).astype(np.float32)
    y = reference.run_onnxruntime(model, {"x": x})["y"]
    np.testing.assert_allclose(y, p.reference(x), rtol=1e-5, atol=1e-5)


def test_float16_fold_overflows_where_the_centered_form_does_not():
    p = batch_norm.BatchNormParams(scale=np.ones(2), bias=np.full(2, 0.1), mean=np.full(2, 250.0),
                               var=np.array([1.0, 1e-8]))
    x = np.full((1, 2, 8, 8), 250.0, np.float16)
    folded = reference.run_onnxruntime(batch_norm.batchnorm_model(p, form="folded", dtype=np.float16), {"x": x})["y"]
    centered = reference.run_onnxruntime(batch_norm.batchnorm_model(p, form="centered", dtype=np.float16), {"x": x})["y"]
    assert np.isfinite(folded[:, 0]).all() and not np.isfinite(folded[:, 1]).any()
    np.testing.assert_allclose(centered.astype(np.float64), p.reference(x), atol=2e-3)


@pytest.mark.parametrize("kwargs, message", [
    (dict(scale=np.ones(3), bias=np.ones(2), mean=np.ones(3), var=np.ones(3)), "must be 1-D and of one length"),
    (dict(scale=np.ones((3, 1)), bias=np.ones((3, 1)), mean=np.ones((3, 1)), var=np.ones((3, 1))), "1-D"),
    (dict(scale=np.ones(3), bias=np.ones(3), mean=np.ones(3), var=-np.ones(3)), "variance must be >= 0"),
    (dict(scale=np.ones(3), bias=np.ones(3), mean=np.ones(3), var=np.ones(3), eps=-1.0), "epsilon must be >= 0"),
])
def test_bad_parameters_are_one_line_errors(kwargs, message):
    with pytest.raises(InputError) as e:
        batch_norm.BatchNormParams(**kwargs)
    assert message in one_line(e)


def test_reference_rejects_wrong_channel_count():
    with pytest.raises(InputError) as e:
        batch_norm.BatchNormParams.random(4).reference(np.zeros((1, 3, 2, 2)))
    assert one_line(e) == "expected input of shape (N, 4, ...), got (1, 3, 2, 2)"


def test_unknown_form_and_dtype_are_one_line_errors():
    p = batch_norm.BatchNormParams.random(2)
    with pytest.raises(InputError) as e:
        batch_norm.batchnorm_model(p, form="fused")
    assert "unknown batch-norm form 'fused'" in one_line(e)
    with pytest.raises(InputError) as e:
        batch_norm.batchnorm_model(p, dtype=np.float64)
    assert "unsupported dtype float64" in one_line(e)


def test_mlp_runs_at_any_batch_and_refuses_wrong_width():
    m = models.MLP.random(sizes=(16, 32, 8), seed=3)
    model = m.onnx()
    assert [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim] == ["N", 16]
    for n in (1, 5):
        x = np.random.default_rng(n).standard_normal((n, 16)).astype(np.float32)
        np.testing.assert_allclose(reference.run_onnxruntime(model, {"x": x})["y"], m.reference(x), rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError) as e:
        m.reference(np.zeros((2, 15)))
    assert one_line(e) == "expected input of shape (N, 16), got (2, 15)"
