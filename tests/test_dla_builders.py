"""Chapters 8 and 11: the DLA partitioner, the serial build queue (two real processes), the chapter 11
result reader (synthetic document built here), and the double's DLA / timing-cache / progress-monitor
contract. The double is test infrastructure, never evidence."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from trtfaq.build_queue import Target, build_lock, build_serially
from trtfaq.chapters import builders, dla
from trtfaq.errors import BookError, InputError

import trt_double
from helpers import one_line

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FLAVOURS = ["10.16", "11.4"]


# ----- the partitioner ------------------------------------------------------------------------------
def test_all_supported_body_is_one_dla_subgraph():
    r = dla.partition(dla.cnn(blocks=3))
    assert r.dla_subgraphs == 1
    assert [p.device for p in r.placements if p.op in ("Conv", "BatchNormalization", "Relu")] == ["DLA"] * 9
    assert {p.node for p in r.placements if p.device == "GPU"} == {"gap", "flatten", "fc"}
    assert r.boundaries == [("r2", "DLA", "GPU")]
    assert r.io_on_dla == ["x"]


@pytest.mark.parametrize("where", [(0,), (1,), (2,), (0, 2)])
def test_fallbacks_split_where_planted(where):
    r = dla.partition(dla.cnn(blocks=4, fallback_after=where))
    erf = [p for p in r.placements if p.op == "Erf"]
    assert [p.node for p in erf] == [f"erf{i}" for i in where] and all(p.reason == "layer" for p in erf)
    assert r.dla_subgraphs == 1 + len(where)
    # each fallback adds one tensor into and one out of the GPU
    assert len(r.boundaries) == 1 + 2 * len(where)


def test_limit_counts_dla_subgraphs():
    r = dla.partition(dla.cnn(blocks=20, fallback_after=tuple(range(19))))
    assert r.dla_subgraphs == 20 and r.over_limit
    assert not dla.partition(dla.cnn(blocks=20, fallback_after=tuple(range(19))), limit=20).over_limit


def test_dynamic_and_precision_rules():
    assert dla.partition(dla.cnn(batch="N")).dla_subgraphs == 0
    r = dla.partition(dla.cnn(), precision_from_model=True)
    assert r.dla_subgraphs == 0 and {p.reason for p in r.placements if p.op == "Conv"} == {"precision"}


def _model(nodes, inits, x_shape, y, y_shape):
    g = helper.make_graph(nodes, "m", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
                          [helper.make_tensor_value_info(y, TensorProto.FLOAT, y_shape)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def test_held_out_conv3d_and_oversized_dims():
    w = numpy_helper.from_array(np.zeros((2, 1, 1, 1, 1), np.float32), "w")
    m = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="c3d")], [w], [1, 1, 4, 4, 4], "y", [1, 2, 4, 4, 4])
    assert dla.partition(m).placements[0].reason == "2d"
    big = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [], [1, 1, 1, 9000], "y", [1, 1, 1, 9000])
    assert dla.partition(big).placements[0].reason == "dims"


def test_branch_that_returns_from_gpu_is_not_merged():
    # conv0 -> relu_a (DLA) and conv0 -> erf (GPU) -> relu_b (DLA); relu_a + relu_b -> add (GPU).
    # relu_b must not join conv0's partition: that partition would feed erf and wait for it.
    w = numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv0"),
             helper.make_node("Relu", ["c"], ["a"], name="relu_a"),
             helper.make_node("Erf", ["c"], ["e"], name="erf"),
             helper.make_node("Relu", ["e"], ["b"], name="relu_b"),
             helper.make_node("Add", ["a", "b"], ["y"], name="add")]
    r = dla.partition(_model(nodes, [w], [1, 2, 4, 4], "y", [1, 2, 4, 4]))
    parts = {tuple(ms): d for d, ms in r.partitions}
    assert parts[("conv0", "relu_a")] == "DLA" and parts[("relu_b",)] == "DLA"
    assert r.dla_subgraphs == 2


def test_partitioner_refuses_bad_inputs():
    with pytest.raises(InputError) as e:
        dla.partition(b"not a model")
    assert "ModelProto" in one_line(e)
    for bad in (0, True, 2.5):
        with pytest.raises(InputError) as e:
            dla.partition(dla.cnn(), limit=bad)
        assert "limit" in one_line(e)
    with pytest.raises(InputError) as e:
        dla.cnn(blocks=2, fallback_after=(5,))
    assert "fallback_after" in one_line(e)
    with pytest.raises(InputError) as e:
        dla.cnn(blocks=0)
    assert "blocks" in one_line(e)


# ----- the build queue --------------------------------------------------------------------------------
_HOLDER = textwrap.dedent("""
    import json, sys, time
    from trtfaq.build_queue import build_lock
    spans = []
    for _ in range(4):
        if sys.argv[2] == "lock":
            with build_lock(sys.argv[1]):
                a = time.time(); time.sleep(0.1); spans.append((a, time.time()))
        else:
            a = time.time(); time.sleep(0.1); spans.append((a, time.time()))
    print(json.dumps(spans))
""")


def _overlaps(lock_file, mode):
    procs = [subprocess.Popen([sys.executable, "-c", _HOLDER, str(lock_file), mode], stdout=subprocess.PIPE,
                              text=True, cwd=ROOT) for _ in range(2)]
    spans = sorted(s for p in procs for s in json.loads(p.communicate(timeout=60)[0]))
    return sum(1 for a, b in zip(spans, spans[1:]) if b[0] < a[1])


def test_lock_serializes_two_processes_and_the_test_bites(tmp_path):
    assert _overlaps(tmp_path / "b.lock", "lock") == 0
    assert _overlaps(tmp_path / "b.lock", "nolock") > 0     # planted: without the lock the holds overlap


_BUILDER = textwrap.dedent("""
    import sys
    from pathlib import Path
    import tensorrt as trt
    from trtfaq.build_queue import Target, build_serially
    from trtfaq.chapters import dla
    blocks = [int(b) for b in sys.argv[3].split(",")]
    targets = [Target(f"cnn{b}", dla.cnn(blocks=b).SerializeToString()) for b in blocks]
    done = build_serially(targets, timing_cache=Path(sys.argv[1]), lock=Path(sys.argv[2]))
    print(len(done), trt.__version__)
""")


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_two_processes_share_one_timing_cache_under_the_double(tmp_path, flavour):
    from double_pass import double_environment

    cache, lock = tmp_path / "shared.cache", tmp_path / "b.lock"
    with double_environment(flavour, tmp_path / "trtfaq-cache"):
        procs = [subprocess.Popen([sys.executable, "-c", _BUILDER, str(cache), str(lock), blocks], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
                 for blocks in ("1,2,3", "4,5,6")]
        outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert not list(tmp_path.glob(".shared.cache.*"))          # no temporary file left behind
    trt = trt_double.install(flavour)
    try:
        cfg = trt.Builder(trt.Logger()).create_builder_config()
        merged = cfg.create_timing_cache(cache.read_bytes())
        assert len(merged._entries) == 6                       # no build lost the other process's entries
    finally:
        trt_double.uninstall()


def test_targets_refuse_bad_inputs():
    with pytest.raises(InputError) as e:
        Target("", b"x")
    assert "name" in one_line(e)
    with pytest.raises(InputError) as e:
        Target("a", "not bytes")
    assert "onnx_bytes" in one_line(e)
    with pytest.raises(InputError) as e:
        build_serially([])
    assert "Target" in one_line(e)
    with pytest.raises(InputError) as e:
        build_serially([Target("a", b"x"), Target("a", b"y")], timing_cache=False)
    assert "unique" in one_line(e)


def test_lock_is_reentrant_only_across_calls(tmp_path):
    with build_lock(tmp_path / "l") as waited:
        assert waited >= 0
    with build_lock(tmp_path / "l"):
        pass


# ----- the chapter 11 reader (synthetic document, never stored) ------------------------------------------
def _doc(samples):
    return {"timings_ms": samples}


def test_rankings_order_and_spread():
    rows = builders.rankings(_doc({"alone": {"nn": [1.0, 1.2, 1.1], "tt": [2.0, 2.0]},
                                   "busy": {"nn": [4.0], "tt": [3.0]}}))
    assert rows[0][1] == "nn < tt" and rows[0][3] == "1.82x"
    assert rows[1][1] == "tt < nn"


def test_rankings_put_the_runs_alone_first():
    rows = builders.rankings(_doc({"busy process": {"nn": [2.0]}, "alone (repeat)": {"nn": [1.0]},
                                   "1 busy stream(s)": {"nn": [3.0]}, "alone": {"nn": [1.0]}}))
    assert [r[0] for r in rows] == ["alone", "alone (repeat)", "1 busy stream(s)", "busy process"]


def test_load_notes_count_the_samples_the_load_missed():
    doc = _doc({"alone": {"nn": [1.0, 1.0], "tt": [2.0, 2.0]}, "1 busy stream(s)": {"nn": [9.0, 1.2], "tt": [9.0, 9.0]},
                "busy process": {"nn": [1.0, 5.0], "tt": [2.0, 8.0]}})
    doc.update(busy_streams_still_busy_after_timing={"1 busy stream(s)": False}, busy_process_alive_during_timing=True)
    text = builders.load_notes(doc).splitlines()
    assert text[0] == ("1 busy stream(s): samples within 1.5x of the median alone: nn 1/2, tt 0/2; "
                       "its streams still busy when the timing ended: no")
    assert text[1].endswith("nn 1/2, tt 1/2; the busy process alive throughout: yes")
    with pytest.raises(BookError) as e:                  # planted: nothing timed alone
        builders.load_notes(_doc({"busy": {"nn": [1.0]}}))
    assert "no condition timed alone" in one_line(e)


def test_rankings_refuse_bad_documents():
    with pytest.raises(BookError) as e:
        builders.rankings({})
    assert "timings_ms" in one_line(e)
    with pytest.raises(BookError) as e:
        builders.rankings(_doc({"alone": {"nn": []}}))
    assert "without samples" in one_line(e)


def test_show_draws_one_panel_per_condition():
    import matplotlib

    matplotlib.use("Agg")
    fig = builders.show(_doc({"alone": {"nn": [1.0], "tt": [2.0]}, "busy": {"nn": [3.0], "tt": [2.5]}}), "synthetic")
    assert len(fig.axes) == 2


# ----- the double: DLA, timing-cache combine, progress monitors, build knobs -----------------------------
@pytest.fixture(params=FLAVOURS)
def trt(request):
    yield trt_double.install(request.param)
    trt_double.uninstall()


def _network(trt, builder):
    net = builder.create_network()
    x = net.add_input("x", trt.float32, (1, 2))
    y = net.add_elementwise(x, x, trt.ElementWiseOperation.SUM).get_output(0)
    y.name = "y"
    net.mark_output(y)
    return net


def test_double_has_no_dla_and_refuses_a_dla_build(trt):
    builder = trt.Builder(trt.Logger())
    assert builder.num_DLA_cores == 0 and trt.Runtime(trt.Logger()).num_DLA_cores == 0
    cfg = builder.create_builder_config()
    assert cfg.default_device_type == trt.DeviceType.GPU
    net = _network(trt, builder)
    assert cfg.can_run_on_DLA(net.get_layer(0)) is False
    assert builder.build_serialized_network(net, cfg) is not None
    cfg.default_device_type = trt.DeviceType.DLA
    cfg.DLA_core = 0
    cfg.set_flag(trt.BuilderFlag.GPU_FALLBACK)
    assert builder.build_serialized_network(net, cfg) is None


def test_double_progress_monitor_phases_and_cancel(trt):
    calls = []

    class Monitor(trt.IProgressMonitor):
        def __init__(self, stop=False):
            trt.IProgressMonitor.__init__(self)
            self.stop = stop

        def phase_start(self, phase_name, parent_phase, num_steps):
            calls.append(("start", phase_name, parent_phase, num_steps))

        def step_complete(self, phase_name, step):
            calls.append(("step", phase_name, step))
            return not self.stop

        def phase_finish(self, phase_name):
            calls.append(("finish", phase_name))

    builder = trt.Builder(trt.Logger())
    cfg = builder.create_builder_config()
    cfg.progress_monitor = Monitor()
    assert builder.build_serialized_network(_network(trt, builder), cfg) is not None
    starts = [c[1] for c in calls if c[0] == "start"]
    assert starts and sorted(starts) == sorted(c[1] for c in calls if c[0] == "finish")
    assert all(c[3] > 0 for c in calls if c[0] == "start")
    calls.clear()
    cfg.progress_monitor = Monitor(stop=True)
    assert builder.build_serialized_network(_network(trt, builder), cfg) is None
    assert calls[-1][0] == "finish"


def test_double_build_knobs(trt):
    builder = trt.Builder(trt.Logger())
    cfg = builder.create_builder_config()
    assert cfg.builder_optimization_level == 3 and cfg.max_num_tactics == -1
    cfg.builder_optimization_level = 0
    cfg.max_num_tactics = 4
    builder.max_threads = 2
    assert (cfg.builder_optimization_level, cfg.max_num_tactics, builder.max_threads) == (0, 4, 2)
    with pytest.raises(ValueError):
        cfg.builder_optimization_level = -1


def test_double_timing_cache_combine():
    trt = trt_double.install("11.4", devices=[{"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0",
                                               "memory_mib": 81559, "pci_bus_id": "00000000:01:00.0"}])
    try:
        builder = trt.Builder(trt.Logger())
        cfg = builder.create_builder_config()
        a, b = cfg.create_timing_cache(b""), cfg.create_timing_cache(b"")
        b._entries["k"] = {"layers": 1}
        assert a.combine(b, False) and "k" in a._entries
        b._device_name = "another GPU"
        assert not a.combine(b, False) and a.combine(b, True)
        b._version = "11.3.0"
        assert not a.combine(b, True)                       # "exact same version" only
    finally:
        trt_double.uninstall()
