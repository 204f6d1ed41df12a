"""The package's TensorRT paths (engine cache, timing cache, Engine.bind/infer/time, profiles, buffer
lifetimes, device keys) executed in-process under the TensorRT test double. Test infrastructure only:
nothing here is TensorRT's behaviour or timing."""
import json
import os

import numpy as np
import pytest

from trtfaq import cache, engine, env, models, reference
from trtfaq.errors import BookError

import trt_double
from helpers import one_line

SHIM_BIN = os.path.join(os.path.dirname(trt_double.__file__), "shim", "bin")
H100 = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "memory_mib": 81559,
        "pci_bus_id": "00000000:1B:00.0"}
L4 = {"name": "NVIDIA L4", "compute_capability": "8.9", "memory_mib": 23034, "pci_bus_id": "00000000:41:00.0"}
MLP = models.MLP.random(sizes=(16, 32, 8), seed=2)
BUCKETS = engine.BuildConfig(profiles=({"x": ((1, 16), (4, 16), (8, 16))}, {"x": ((9, 16), (32, 16), (64, 16))}))


def _install(monkeypatch, tmp_path, flavour="11.4", devices=(H100,)):
    """The double in this process, nvidia-smi answering for the same devices, an empty book cache."""
    trt = trt_double.install(flavour, devices=list(devices))
    monkeypatch.setenv("PATH", SHIM_BIN + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("TRTFAQ_DOUBLE_DEVICES", json.dumps(list(devices)))
    monkeypatch.setenv("TRTFAQ_TRT_DOUBLE", flavour)
    monkeypatch.setenv("TRTFAQ_CACHE", str(tmp_path / "cache"))
    for probe in (env.gpus, env.cuda_runtime, env.tensorrt, env.onnxruntime):
        probe.cache_clear()
    return trt


@pytest.fixture(params=["10.16", "11.4"])
def trt(request, monkeypatch, tmp_path):
    yield _install(monkeypatch, tmp_path, request.param)
    trt_double.uninstall()
    for probe in (env.gpus, env.cuda_runtime, env.tensorrt, env.onnxruntime):
        probe.cache_clear()


def live_allocations() -> int:
    from trt_double import cudart

    return sum(not a.reserved for a in cudart._state().allocs.values())  # cudaMalloc'd, not the double's own


def test_engine_cache_miss_hit_and_corrupt_entry(trt, monkeypatch, capsys):
    builds = []
    real_build = engine.build_serialized
    monkeypatch.setattr(engine, "build_serialized", lambda *a, **k: builds.append(1) or real_build(*a, **k))
    onnx_bytes = MLP.onnx().SerializeToString()
    plan = engine.cached_plan(onnx_bytes, BUCKETS)                         # miss: built and stored
    assert engine.cached_plan(onnx_bytes, BUCKETS) == plan and len(builds) == 1   # hit
    timing = list((cache.root() / "timing").glob("*.cache"))
    assert len(timing) == 1 and trt.__version__.replace(".", "-") in timing[0].name
    (entry,) = (cache.root() / "engines").glob("*.plan")
    entry.write_bytes(entry.read_bytes()[:-7])                             # corrupt the cached plan
    assert engine.cached_plan(onnx_bytes, BUCKETS) == plan and len(builds) == 2
    out = capsys.readouterr().out
    assert "is corrupt (sha256 mismatch)" in out and out.rstrip().endswith("; rebuilding")


def test_infer_picks_the_profile_and_reuses_buffers(trt):
    with engine.Engine(engine.cached_plan(MLP.onnx().SerializeToString(), BUCKETS)) as eng:
        assert eng.profiles == list(BUCKETS.profiles)
        rng = np.random.default_rng(0)
        x = rng.standard_normal((5, 16)).astype(np.float32)
        y = eng.infer({"x": x})["y"]
        np.testing.assert_allclose(y, reference.run_onnxruntime(MLP.onnx(), {"x": x})["y"], rtol=1e-5, atol=1e-5)
        pointers = {n: b.ptr for n, b in eng._buffers.items()}
        assert eng._profile == 0 and live_allocations() == 2
        eng.infer({"x": x[:3]})                                            # smaller: same buffers
        assert {n: b.ptr for n, b in eng._buffers.items()} == pointers and live_allocations() == 2
        big = rng.standard_normal((40, 16)).astype(np.float32)
        y = eng.infer({"x": big})["y"]                                     # profile 1, larger buffers
        np.testing.assert_allclose(y, MLP.reference(big), rtol=1e-4, atol=1e-4)
        assert eng._profile == 1 and live_allocations() == 2
        assert eng.time({"x": big}, warmup=2, repeats=5).shape == (5,)
        with pytest.raises(BookError) as e:
            eng.infer({"x": np.zeros((80, 16), np.float32)})
        assert "outside every optimization profile" in one_line(e)
    assert live_allocations() == 0                                         # freed at the end of `with`
    with pytest.raises(BookError) as e:
        eng.infer({"x": x})
    assert one_line(e) == "this engine was closed"


def test_a_plan_from_another_tensorrt_is_refused_in_one_line(trt, monkeypatch, tmp_path):
    plan = engine.cached_plan(MLP.onnx().SerializeToString(), BUCKETS)
    other = "11.4" if trt.__version__.startswith("10.") else "10.16"
    _install(monkeypatch, tmp_path, other)
    with pytest.raises(BookError) as e:
        engine.Engine(plan)
    assert "could not deserialize the plan" in one_line(e)
    with pytest.raises(BookError) as e:
        engine.Engine(None)
    assert "the build failed" in one_line(e)


def test_the_cache_key_names_the_device_and_keeps_one_entry_per_gpu(monkeypatch, tmp_path):
    _install(monkeypatch, tmp_path, "11.4", devices=(H100, L4))
    from cuda.bindings import runtime as rt

    from trtfaq import cuda

    keys = []
    for device in (0, 1):
        cuda.check(rt.cudaSetDevice(device))
        keys.append(cuda.device_key())
        engine.cached_plan(MLP.onnx().SerializeToString(), BUCKETS)
    cuda.check(rt.cudaSetDevice(0))
    assert keys == ["NVIDIA H100 80GB HBM3 sm90 pci 0000:1b:00", "NVIDIA L4 sm89 pci 0000:41:00"]
    assert len(list((cache.root() / "engines").glob("*.plan"))) == 2
    trt_double.uninstall()


def test_stream_and_buffers_free_deterministically(trt):
    from trtfaq.cuda import DeviceBuffer, Stream

    with Stream() as stream, DeviceBuffer(1024) as buf:
        buf.upload(np.arange(256, dtype=np.float32), stream)
        assert live_allocations() == 1
    assert live_allocations() == 0 and buf.ptr == 0
    with pytest.raises(BookError):
        _ = stream.handle


def test_timing_captures_a_cuda_graph_and_falls_back_when_capture_fails(trt, capsys):
    from cuda.bindings import runtime as rt

    from trtfaq import timing
    from trtfaq.cuda import DeviceBuffer, Stream, check
    from trtfaq.errors import CudaError, InputError

    with Stream() as stream, DeviceBuffer(4096) as buf:
        host = np.ones(1024, np.float32)
        samples = timing.time_graph(lambda: buf.upload(host, stream), stream.handle, warmup=1, repeats=3, launches=4)
        assert samples.shape == (3,) and np.all(samples > 0)
        with pytest.raises(InputError) as e:
            timing.time_graph(lambda: None, 0)
        assert "default stream" in one_line(e)
        with pytest.raises(CudaError) as e:   # a synchronous call inside the capture invalidates it
            timing.time_graph(lambda: check(rt.cudaStreamSynchronize(stream.handle)), stream.handle)
        assert "cudaErrorStreamCapture" in one_line(e)
    with engine.Engine(engine.cached_plan(MLP.onnx().SerializeToString(), BUCKETS)) as eng:
        x = np.ones((4, 16), np.float32)
        assert eng.time({"x": x}, warmup=1, repeats=3).shape == (3,)
        assert capsys.readouterr().out == ""
        eng.enqueue = lambda: check(rt.cudaStreamSynchronize(eng.stream.handle))  # not capturable
        assert eng.time({"x": x}, warmup=1, repeats=3, launches=2).shape == (3,)
        assert "cannot be captured in a CUDA graph" in capsys.readouterr().out
