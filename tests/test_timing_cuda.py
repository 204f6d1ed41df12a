import numpy as np
import pytest

from trtfaq import cuda, timing
from trtfaq.errors import CudaError, GPUUnavailable, InputError

from helpers import one_line


def test_summary_statistics():
    s = timing.summarize(np.arange(1, 101, dtype=float))
    assert s.n == 100 and s.median == 50.5 and s.minimum == 1 and s.maximum == 100
    assert s.p10 == pytest.approx(10.9) and s.p90 == pytest.approx(90.1)
    assert str(s) == "median 50.5 ms (p10 10.9, p90 90.1, n=100)"


@pytest.mark.parametrize("samples, message", [
    ([], "no timing samples"),
    ([1.0, float("nan")], "finite and >= 0"),
    ([1.0, -0.1], "finite and >= 0"),
])
def test_bad_samples_are_one_line_errors(samples, message):
    with pytest.raises(InputError) as e:
        timing.summarize(samples)
    assert message in one_line(e)


def test_timing_without_a_gpu_is_a_one_line_error(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: None)
    with pytest.raises(GPUUnavailable) as e:
        timing.time_cuda(lambda: None)
    one_line(e)
    with pytest.raises(GPUUnavailable):
        cuda.DeviceBuffer(16)


def test_bad_repeat_counts_are_refused_first():
    with pytest.raises(InputError):
        timing.time_cuda(lambda: None, repeats=0)


def test_check_unwraps_cuda_python_results():
    class Err(int):
        name = "cudaErrorMemoryAllocation"

    assert cuda.check((0,)) is None
    assert cuda.check((0, 1234)) == 1234
    assert cuda.check((0, 1, 2)) == (1, 2)
    with pytest.raises(CudaError) as e:
        cuda.check((Err(2), None))
    assert one_line(e) == "CUDA call failed with cudaErrorMemoryAllocation (2)"


def test_debug_tensor_addresses_are_read_from_ints_and_capsules():
    import ctypes

    assert cuda.address(1234) == 1234
    new = ctypes.pythonapi.PyCapsule_New
    new.restype, new.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    assert cuda.address(new(4096, None, None)) == 4096  # what pybind11 makes of a void*
    with pytest.raises(CudaError) as e:
        cuda.address("0x1000")
    assert "int or PyCapsule" in one_line(e)


def test_copy_to_host_reads_host_memory_and_refuses_null(monkeypatch):
    synced = []

    class FakeRuntime:  # records the synchronization that must come before a host read
        def cudaStreamSynchronize(self, stream):
            synced.append(stream)
            return (0,)

    monkeypatch.setattr(cuda, "require_gpu", FakeRuntime)
    src = np.arange(6, dtype=np.float16).reshape(2, 3)
    got = cuda.copy_to_host(src.ctypes.data, (2, 3), np.float16, stream=7, on_host=True)
    np.testing.assert_array_equal(got, src)
    assert synced == [7]
    with pytest.raises(CudaError) as e:
        cuda.copy_to_host(0, (2, 3), np.float16, stream=0, on_host=True)
    assert "null" in one_line(e)


def test_copy_from_device_without_a_gpu_is_a_one_line_error(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: None)
    with pytest.raises(GPUUnavailable) as e:
        cuda.copy_to_host(4096, (2,), np.float32, stream=0)
    assert "no CUDA GPU" in one_line(e)
