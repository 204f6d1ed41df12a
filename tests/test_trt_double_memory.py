"""The double's memory pools, context memory strategies and engine inspector (chapters 3 and 12), in both
flavours. Test infrastructure only: nothing here is TensorRT's behaviour; each rule tested is the
documented contract the double cites (docstrings of the 10.16 and 11.4 bindings, NVIDIA's 10.x -> 11.x
IEngineInspector migration guide)."""
from __future__ import annotations

import numpy as np
import pytest

from trtfaq import inspector
from trtfaq.chapters import workspace as ws

import trt_double


@pytest.fixture(params=["10.16", "11.4"])
def trt(request):
    yield trt_double.install(request.param)
    trt_double.uninstall()


def ok(result):
    assert int(result[0]) == 0, result[0]
    return result[1] if len(result) == 2 else None


def _build(trt, model, logger, workspace=None, verbosity=None, profiles=(((1, 256), (8, 256), (64, 256)),)):
    builder = trt.Builder(logger)
    network = builder.create_network()
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(model.SerializeToString())
    config = builder.create_builder_config()
    if workspace is not None:
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    if verbosity is not None:
        config.profiling_verbosity = verbosity
    for lo, opt, hi in profiles:
        p = builder.create_optimization_profile()
        p.set_shape("x", lo, opt, hi)
        config.add_optimization_profile(p)
    plan = builder.build_serialized_network(network, config)
    assert plan is not None
    return trt.Runtime(logger).deserialize_cuda_engine(plan)


MODEL = ws.LongK.random(k=256, hidden=8, out=4)


def test_pool_defaults_follow_the_docstrings(trt):
    config = trt.Builder(trt.Logger()).create_builder_config()
    get = config.get_memory_pool_limit
    total = 81559 << 20   # the double's default device: its configuration, not a GPU's
    assert get(trt.MemoryPoolType.WORKSPACE) == total and get(trt.MemoryPoolType.TACTIC_DRAM) == total
    assert (get(trt.MemoryPoolType.DLA_MANAGED_SRAM), get(trt.MemoryPoolType.DLA_LOCAL_DRAM),
            get(trt.MemoryPoolType.DLA_GLOBAL_DRAM)) == (1 << 20, 1 << 30, 512 << 20)
    assert get(trt.MemoryPoolType.TACTIC_SHARED_MEMORY) == 227 * 1024
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1 << 20)
    assert get(trt.MemoryPoolType.WORKSPACE) == 1 << 20


def test_invalid_pool_sizes_do_nothing(trt):
    logger = ws.collecting_logger(trt)
    config = trt.Builder(logger).create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.DLA_MANAGED_SRAM, 3000)         # not a power of 2
    config.set_memory_pool_limit(trt.MemoryPoolType.TACTIC_SHARED_MEMORY, 1 << 30)  # must be below 1 GiB
    assert config.get_memory_pool_limit(trt.MemoryPoolType.DLA_MANAGED_SRAM) == 1 << 20
    assert config.get_memory_pool_limit(trt.MemoryPoolType.TACTIC_SHARED_MEMORY) == 227 * 1024
    assert sum("does nothing" in line for line in logger.lines) == 2


def test_a_tight_workspace_logs_skips_the_chapter_can_read(trt):
    tight, roomy = ws.collecting_logger(trt), ws.collecting_logger(trt)
    small = _build(trt, MODEL.onnx(), tight, workspace=512)
    large = _build(trt, MODEL.onnx(), roomy)
    log = ws.read_build_log(tight.lines, major=int(trt.__version__.split(".")[0]))
    assert len(log.over(512)) == 1 and log.warned_insufficient_workspace
    assert all("TensorRT test double" in line for line in tight.lines if "Skipping" in line)   # labelled
    assert ws.read_build_log(roomy.lines).skipped == []
    assert large.device_memory_size_v2 > small.device_memory_size_v2                      # the kept scratch
    assert large.get_device_memory_size_for_profile_v2(0) == large.device_memory_size_v2


def _run(trt, context, x, out_shape):
    from cuda.bindings import runtime as rt

    y = np.full(out_shape, np.nan, np.float32)
    stream = ok(rt.cudaStreamCreate())
    d_x, d_y = ok(rt.cudaMalloc(x.nbytes)), ok(rt.cudaMalloc(y.nbytes))
    ok(rt.cudaMemcpy(d_x, x.ctypes.data, x.nbytes, rt.cudaMemcpyKind.cudaMemcpyHostToDevice))
    assert context.set_input_shape("x", x.shape)
    context.set_tensor_address("x", d_x)
    context.set_tensor_address("y", d_y)
    return stream, d_y, y, context.execute_async_v3(stream)


def test_user_managed_memory_must_be_set_aligned_large_and_alive(trt):
    from cuda.bindings import runtime as rt

    logger = ws.collecting_logger(trt)
    engine = _build(trt, MODEL.onnx(), logger)
    context = engine.create_execution_context(trt.ExecutionContextAllocationStrategy.USER_MANAGED)
    x = np.random.default_rng(0).standard_normal((8, 256)).astype(np.float32)
    assert _run(trt, context, x, (8, 4))[3] is False                     # no memory yet
    assert any("USER_MANAGED context without device memory" in line for line in logger.lines)
    size = engine.device_memory_size_v2
    scratch = ok(rt.cudaMalloc(size + 256))
    context.set_device_memory(scratch + 8, size)                         # "256-byte aligned device memory"
    context.set_device_memory(scratch, size - 1)                         # "at least as large as" the engine's size
    assert _run(trt, context, x, (8, 4))[3] is False
    context.set_device_memory(scratch, size)
    stream, d_y, y, queued = _run(trt, context, x, (8, 4))
    assert queued
    ok(rt.cudaStreamSynchronize(stream))
    ok(rt.cudaMemcpy(y.ctypes.data, d_y, y.nbytes, rt.cudaMemcpyKind.cudaMemcpyDeviceToHost))
    np.testing.assert_allclose(y, MODEL.reference(x), rtol=1e-4, atol=1e-5)
    ok(rt.cudaFree(scratch))              # cudaFree waits for the device first, so the run above was safe
    assert _run(trt, context, x, (8, 4))[3] is False                      # but the context's memory is gone now
    assert any("not inside one live device allocation" in line for line in logger.lines)


def test_on_profile_change_reallocates_for_the_selected_profile(trt):
    from trt_double import cudart

    engine = _build(trt, MODEL.onnx(), trt.Logger(), profiles=(((1, 256), (8, 256), (8, 256)),
                                                               ((9, 256), (4096, 256), (4096, 256))))
    small, large = engine.get_device_memory_size_for_profile_v2(0), engine.get_device_memory_size_for_profile_v2(1)
    assert large > small and engine.device_memory_size_v2 == large
    used = lambda: cudart._state().devices[0].used  # noqa: E731
    before = used()
    context = engine.create_execution_context(trt.ExecutionContextAllocationStrategy.ON_PROFILE_CHANGE)
    from cuda.bindings import runtime as rt

    assert used() - before == small                      # "Reallocate for a profile when it's selected": profile 0
    assert context.set_optimization_profile_async(1, ok(rt.cudaStreamCreate()))
    assert used() - before == large                      # released profile 0's, holds profile 1's
    static = engine.create_execution_context()
    assert used() - before == 2 * large                  # STATIC: "the maximum size across all profiles"
    del static


def test_inspector_json_follows_each_versions_top_level_schema(trt):
    engine = _build(trt, MODEL.onnx(), trt.Logger(), verbosity=trt.ProfilingVerbosity.DETAILED)
    assert engine.profiling_verbosity == trt.ProfilingVerbosity.DETAILED
    view = engine.create_engine_inspector()
    info = inspector.read(view.get_engine_information(trt.LayerInformationFormat.JSON))
    assert [layer.name for layer in info.layers] == ["project", "relu", "classify"] and info.detailed
    if trt.__version__.startswith("11."):
        assert info.schema == "11.x" and [(t.name, t.mode, t.datatype) for t in info.io] == \
            [("x", "Input", "FP32"), ("y", "Output", "FP32")]
        assert info.io[0].profiles[0]["OptShape"] == [8, 256]
    else:
        assert info.schema == "10.x" and [t.name for t in info.io] == ["x", "y"]
    default = _build(trt, MODEL.onnx(), trt.Logger())
    assert default.profiling_verbosity == trt.ProfilingVerbosity.LAYER_NAMES_ONLY
    names = inspector.read(default.create_engine_inspector().get_engine_information(trt.LayerInformationFormat.JSON))
    assert not names.detailed
