"""Chapter 6's data, preprocessing contract, classifier and input check."""
import numpy as np
import pytest

from trtfaq import reference
from trtfaq.chapters import wrong_answers as digits
from trtfaq.errors import InputError

from helpers import one_line


@pytest.fixture(scope="module")
def data():
    return digits.load()


def test_split_is_fixed_and_disjoint(data):
    assert data.train_images.shape == (1437, 8, 8) and data.test_images.shape == (360, 8, 8)
    again = digits.load()
    np.testing.assert_array_equal(again.test_labels, data.test_labels)
    assert data.train_images.max() == 16 and data.train_images.min() == 0
    assert sorted(set(data.test_labels.tolist())) == list(range(10))


def test_preprocessing_forms(data):
    x = digits.preprocess(data.test_images)
    assert x.dtype == np.float32 and x.shape == (360, 64) and x.max() == 1.0
    np.testing.assert_array_equal(x[0], data.test_images[0].ravel() / 16)  # row-major
    raw = digits.to_bytes(data.test_images)
    assert raw.max() == 255 and np.all(raw == np.round(raw))
    np.testing.assert_allclose(digits.on_paper(data.test_images), 1 - x)


def test_bad_images_are_one_line_errors():
    with pytest.raises(InputError) as e:
        digits.preprocess(np.zeros((2, 64)))
    assert "shape (N, 8, 8)" in one_line(e)


def test_classifier_learns_and_onnx_matches_numpy(data):
    x = digits.preprocess(data.train_images)
    mlp = digits.train_mlp(x, data.train_labels, steps=150)
    xt = digits.preprocess(data.test_images)
    y = reference.run_onnxruntime(mlp.onnx(), {"x": xt})["y"]
    assert np.mean(digits.top1(y) == data.test_labels) > 0.9
    np.testing.assert_allclose(y, mlp.reference(xt), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("features, labels, message", [
    (np.zeros((3, 4)), np.zeros(2, int), "need features (N, D) and N labels"),
    (np.zeros((2, 4)), np.array([0, 10]), "labels must be digits 0..9"),
])
def test_training_refuses_bad_inputs(features, labels, message):
    with pytest.raises(InputError) as e:
        digits.train_mlp(features, labels, steps=1)
    assert message in one_line(e)


def test_centroids_need_every_class():
    with pytest.raises(InputError) as e:
        digits.centroids(np.zeros((3, 2)), np.array([0, 1, 1]))
    assert "no training sample of digit(s) [2, 3" in one_line(e)


def test_input_check_passes_the_contract_and_refuses_each_mistake(data):
    check = digits.InputCheck.fit(digits.preprocess(data.train_images))
    assert check.check(digits.preprocess(data.test_images)) < 2
    assert check.check(digits.preprocess(data.test_images[:16])) < check.limit  # small batches pass too
    mistakes = {
        "check the scaling": data.test_images.reshape(-1, 64).astype(np.float32),
        "standard errors from the training data": digits.preprocess(data.test_images.transpose(0, 2, 1)),
    }
    for message, batch in mistakes.items():
        with pytest.raises(InputError) as e:
            check.check(batch)
        assert message in one_line(e)
    with pytest.raises(InputError) as e:
        check.check(digits.on_paper(data.test_images))
    assert "check layout" in one_line(e)
    with pytest.raises(InputError) as e:
        check.check(digits.preprocess(data.test_images).astype(np.float64))
    assert "must be float32" in one_line(e)
    with pytest.raises(InputError) as e:
        check.check(np.zeros((4, 63), np.float32))
    assert "shape (N, 64)" in one_line(e)
