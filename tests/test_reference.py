import numpy as np
import pytest

from trtfaq import reference
from trtfaq.chapters.batch_norm import BatchNormParams, batchnorm_model
from trtfaq.errors import InputError

from helpers import one_line

MODEL = batchnorm_model(BatchNormParams.random(3), spatial=(4, 4))
GOOD = np.zeros((2, 3, 4, 4), np.float32)


@pytest.mark.parametrize("feeds, message", [
    ({"input": GOOD}, "model inputs are ['x'], got ['input']"),
    ({"x": GOOD.astype(np.float64)}, "input 'x' must be float32, got float64"),
    ({"x": GOOD[0]}, "input 'x' must have rank 4"),
    ({"x": np.zeros((2, 3, 5, 4), np.float32)}, "input 'x' must have shape ['N', 3, 4, 4], got (2, 3, 5, 4)"),
])
def test_bad_feeds_are_one_line_errors(feeds, message):
    with pytest.raises(InputError) as e:
        reference.run_onnxruntime(MODEL, feeds)
    assert message in one_line(e)


def test_model_can_be_bytes_or_a_path(tmp_path):
    path = tmp_path / "bn.onnx"
    path.write_bytes(MODEL.SerializeToString())
    a = reference.run_onnxruntime(str(path), {"x": GOOD})["y"]
    b = reference.run_onnxruntime(MODEL.SerializeToString(), {"x": GOOD})["y"]
    np.testing.assert_array_equal(a, b)


def test_missing_and_corrupt_model_files_fail_clearly(tmp_path):
    with pytest.raises(InputError) as e:
        reference.run_onnxruntime(str(tmp_path / "absent.onnx"), {"x": GOOD})
    assert one_line(e).endswith("absent.onnx does not exist")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(InputError) as e:
        reference.run_onnxruntime(str(bad), {"x": GOOD})
    assert one_line(e).startswith(f"ONNX Runtime cannot load {bad}:")


def test_errors_metrics():
    e = reference.error_stats([1.0, 2.5, np.nan, np.inf], [1.0, 2.0, 3.0, 4.0])
    assert e.max_abs == 0.5 and e.max_rel == 0.25 and e.nonfinite == 2 and e.size == 4
    assert str(e) == "max abs 0.5, max rel 0.25, 2 of 4 not finite"
    assert reference.error_stats([0.0], [0.0]).max_rel == 0.0


def test_errors_refuses_shape_mismatch():
    with pytest.raises(InputError) as e:
        reference.error_stats(np.zeros(3), np.zeros(4))
    assert one_line(e) == "cannot compare shapes (3,) and (4,)"
