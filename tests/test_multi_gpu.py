"""Chapter 4: the per-device engine pool (trtfaq.pool) executed in-process under the TensorRT test double with two
simulated GPUs, planted mistakes included; the chapter's notebook under the double with two GPUs; the recorder's
probes under the double; and the chapter's readers of recorded runs on SYNTHETIC result documents built here.
Test infrastructure only: nothing here is TensorRT's or a GPU's behaviour or speed."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from trtfaq import env, models, pool, reference
from trtfaq.engine import BuildConfig
from trtfaq.errors import BookError, InputError

import trt_double
from bookfiles import ROOT
from double_pass import PassFailure, run_notebook
from helpers import one_line

SHIM = os.path.join(os.path.dirname(trt_double.__file__), "shim")
H100_A = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "memory_mib": 81559,
          "pci_bus_id": "00000000:1B:00.0"}
H100_B = dict(H100_A, pci_bus_id="00000000:41:00.0")
A100 = {"name": "NVIDIA A100-SXM4-80GB", "compute_capability": "8.0", "memory_mib": 81920,
        "pci_bus_id": "00000000:81:00.0"}
MODEL = models.MLP.random(sizes=(16, 32, 8), seed=5).onnx()
CONFIG = BuildConfig(profiles=({"x": ((1, 16), (8, 16), (32, 16))},))
BATCHES = [{"x": np.random.default_rng(k).standard_normal((8, 16)).astype(np.float32)} for k in range(5)]
EXPECTED = [reference.run_onnxruntime(MODEL, b)["y"] for b in BATCHES]
PROBES = (env.gpus, env.cuda_runtime, env.tensorrt, env.onnxruntime)


def _install(monkeypatch, tmp_path, flavour, devices):
    trt = trt_double.install(flavour, devices=list(devices))
    monkeypatch.setenv("PATH", os.path.join(SHIM, "bin") + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("TRTFAQ_DOUBLE_DEVICES", json.dumps(list(devices)))
    monkeypatch.setenv("TRTFAQ_TRT_DOUBLE", flavour)
    monkeypatch.setenv("TRTFAQ_CACHE", str(tmp_path / "cache"))
    for probe in PROBES:
        probe.cache_clear()
    return trt


@pytest.fixture
def double(monkeypatch, tmp_path):
    """install(flavour, devices) -> the double's tensorrt module, with nvidia-smi and the cache set up."""
    yield lambda flavour="11.4", devices=(H100_A, H100_B): _install(monkeypatch, tmp_path, flavour, devices)
    trt_double.uninstall()
    for probe in PROBES:
        probe.cache_clear()


def _check(outputs):
    assert len(outputs) == len(BATCHES)
    for out, want in zip(outputs, EXPECTED):
        np.testing.assert_allclose(out["y"], want, rtol=1e-5, atol=1e-5)


# ----- the pool ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("flavour", ["10.16", "11.4"])
def test_one_engine_per_device_and_threads_feeding_both(double, flavour):
    from trt_double import cudart

    double(flavour)
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG) as p:
        assert [d.index for d in p.devices] == [0, 1]
        assert [d.pci_bus_id for d in p.devices] == ["0000:1b:00.0", "0000:41:00.0"]
        assert p.devices[0].key != p.devices[1].key and all("pci" in d.key for d in p.devices)
        assert [m.engine.engine._device for m in p.members] == [0, 1]        # deserialized on its own device
        assert [cudart._state().streams[m.engine.stream.handle].device for m in p.members] == [0, 1]
        _check(p.run(BATCHES))
        assert "0000:41:00.0" in p.table()
    from trtfaq.cache import root

    assert len(list((root() / "engines").glob("*.plan"))) == 2             # one plan per device
    assert len(list((root() / "timing").glob("*.cache"))) == 2             # one timing cache per device


def test_the_planted_mistake_a_worker_that_forgets_its_device_fails(double, monkeypatch, capfd):
    """The mistake users report: the worker for device 1 never makes device 1 current. CUDA then launches on
    device 1's stream with device 0 current, which fails: 'invalid resource handle'."""
    double()
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG) as p:
        monkeypatch.setattr(pool.DeviceEngine, "current", lambda self: contextlib.nullcontext())
        with pytest.raises(BookError) as e:
            p.run(BATCHES)
        assert one_line(e).startswith("device 1: BookError: execute_async_v3 failed")
        assert "Cuda Runtime (invalid resource handle)" in capfd.readouterr().err
        monkeypatch.undo()
        with pytest.raises(BookError):          # its buffers were allocated on device 0: the pool stays broken
            p.run(BATCHES)
        assert "lies on device 0, the engine's device is 1" in capfd.readouterr().err
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG) as p:
        _check(p.run(BATCHES))


def test_without_use_device_everything_silently_lands_on_device_0(double, monkeypatch):
    """A pool that never selects devices 'works', with every engine on device 0: the other mistake (work on the
    wrong device), which only a check of where things live catches."""
    double()
    monkeypatch.setattr(pool, "use_device", lambda index: contextlib.nullcontext(index))
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG) as p:
        _check(p.run(BATCHES))
        assert [m.engine.engine._device for m in p.members] == [0, 0]


def test_gpus_of_two_models_get_plans_for_their_own_compute_capability(double):
    double("10.16", devices=(H100_A, A100))
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG) as p:
        assert [d.compute_capability for d in p.devices] == ["9.0", "8.0"]
        assert "sm90" in p.devices[0].key and "sm80" in p.devices[1].key
        _check(p.run(BATCHES))


def test_one_device_and_a_device_subset(double):
    double(devices=(H100_A,))
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG) as p:
        assert "pci" not in p.devices[0].key                                   # one GPU: no bus id in the key
        _check(p.run(BATCHES))
    double()
    with pool.EnginePool(MODEL.SerializeToString(), CONFIG, devices=[1]) as p:
        assert [d.index for d in p.devices] == [1]
        _check(p.run(BATCHES))
    for bad in ([2], [0, 0], []):
        with pytest.raises(InputError) as e:
            pool.EnginePool(MODEL.SerializeToString(), CONFIG, devices=bad)
        assert "this process sees 2 GPUs" in one_line(e)
    p.close()
    with pytest.raises(BookError):
        p.members[0].infer(BATCHES[0])


def test_builds_never_overlap(double, monkeypatch):
    """Two pools built from two threads: the build lock lets one build run at a time (KataGo#1225)."""
    from trtfaq import engine

    double()
    running, most = [0], [0]
    real = engine.build_serialized

    def slow_build(*args, **kwargs):
        running[0] += 1
        most[0] = max(most[0], running[0])
        time.sleep(0.05)
        try:
            return real(*args, **kwargs)
        finally:
            running[0] -= 1

    monkeypatch.setattr(engine, "build_serialized", slow_build)
    models_ = [models.MLP.random(sizes=(16, 32, 8), seed=s).onnx().SerializeToString() for s in (7, 8)]
    pools, errors = [], []

    def make(m):
        try:
            pools.append(pool.EnginePool(m, CONFIG))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(m,)) for m in models_]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(pools) == 2 and most[0] == 1
    for p in pools:
        p.close()


def test_use_device_restores_the_previous_device(double):
    double()
    from cuda.bindings import runtime as rt

    rt.cudaSetDevice(1)
    with pool.use_device(0):
        assert rt.cudaGetDevice()[1] == 0
    assert rt.cudaGetDevice()[1] == 1
    with pytest.raises(BookError), pool.use_device(5):
        pass


# ----- the chapter under the double with two GPUs -----------------------------------------------------------
NOTEBOOK = ROOT / "notebooks" / "04-multi-gpu.ipynb"


def _without_recorded_runs(extra=None):
    """Leave out the cells that read recorded GPU runs (nbval checks those); apply ``extra`` to one cell."""
    def mutate(nb):
        nb.cells = [c for c in nb.cells if "results.latest(" not in "".join(c.source)]
        if extra is not None:
            old, new = extra
            hits = [c for c in nb.cells if c.cell_type == "code" and old in "".join(c.source)]
            assert len(hits) == 1, f"{len(hits)} cells hold {old!r}"
            hits[0].source = "".join(hits[0].source).replace(old, new)
    return mutate


@pytest.mark.parametrize("flavour", ["10.16", "11.4"])
def test_the_chapter_runs_on_two_simulated_gpus(flavour, tmp_path, monkeypatch):
    monkeypatch.setenv("TRTFAQ_DOUBLE_DEVICES", json.dumps([H100_A, H100_B]))
    run = run_notebook(NOTEBOOK, flavour, tmp_path, mutate=_without_recorded_runs())
    assert run.guarded == run.ran == 5


def test_the_chapter_fails_when_a_worker_forgets_its_device(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTFAQ_DOUBLE_DEVICES", json.dumps([H100_A, H100_B]))
    planted = ("        check(cudart.cudaSetDevice(device))       # 3.", "        pass  # 3.")
    with pytest.raises(PassFailure) as e:
        run_notebook(NOTEBOOK, "11.4", tmp_path, mutate=_without_recorded_runs(planted))
    assert "AssertionError: execute_async_v3 failed on GPU 1" in str(e.value)


def test_the_chapter_fails_when_engines_are_deserialized_without_selecting_the_gpu(tmp_path, monkeypatch):
    monkeypatch.setenv("TRTFAQ_DOUBLE_DEVICES", json.dumps([H100_A, H100_B]))
    planted = ("    check(cudart.cudaSetDevice(device))                          # 1.", "    pass  # 1.")
    with pytest.raises(PassFailure) as e:
        run_notebook(NOTEBOOK, "10.16", tmp_path, mutate=_without_recorded_runs(planted))
    assert "execute_async_v3 failed on GPU" in str(e.value)


# ----- the recorder's probes, under the double -------------------------------------------------------------
def test_a_new_thread_starts_on_device_0(double):
    from trtfaq.experiments import multi_gpu as recorder

    double()
    t = recorder._thread_start()
    assert t == {"main_thread_set": 1, "main_thread_after": 1, "new_thread_device": 0}


def test_the_visible_devices_probe_in_a_subprocess():
    env_ = dict(os.environ, PYTHONPATH=os.pathsep.join([SHIM, str(ROOT)]), TRTFAQ_TRT_DOUBLE="11.4",
                TRTFAQ_DOUBLE_DEVICES=json.dumps([H100_A, H100_B]))
    from trtfaq.experiments.multi_gpu import _PROBE

    res = subprocess.run([sys.executable, "-c", _PROBE], env=env_, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    found = json.loads(res.stdout.strip().splitlines()[-1])
    assert found["count"] == 2 and [d["pci_bus_id"] for d in found["devices"]] == ["0000:1b:00", "0000:41:00"]


# ----- reading recorded runs (SYNTHETIC documents, built here, never stored) ---------------------------------
def _result(experiment, data):
    from trtfaq.results import Result

    prov = {"gpu": "SYNTHETIC GPU", "compute_capability": "9.0", "driver": "0", "cuda_runtime": "13.0",
            "libraries": {"torch": "0"}, "created": "2026-01-01T00:00:00+00:00", "git_commit": "0" * 40,
            "command": "synthetic", "python": "3.11"}
    return Result(ROOT / "none.json", experiment, "notebooks/04-multi-gpu", "synthetic", "SYNTHETIC, not measured",
                  prov, data)


def _devices_doc(two=True):
    devs = [{"index": 0, "name": "G", "pci_bus_id": "0000:1b:00"}, {"index": 1, "name": "G", "pci_bus_id": "0000:41:00"}]
    smi = [{"index": 0, "name": "G", "pci_bus_id": "00000000:1B:00.0", "uuid": "GPU-a"},
           {"index": 1, "name": "G", "pci_bus_id": "00000000:41:00.0", "uuid": "GPU-b"}]
    return {"cuda_device_count": 2, "nvidia_smi": smi,
            "nvidia_smi_with_CUDA_VISIBLE_DEVICES": {"value": "1", "listed": smi},
            "thread_start": {"main_thread_set": 1, "main_thread_after": 1, "new_thread_device": 0},
            "visible_devices": [
                {"CUDA_VISIBLE_DEVICES": None, "error": None, "count": 2, "devices": devs},
                {"CUDA_VISIBLE_DEVICES": "", "error": "cudaErrorNoDevice", "count": 0, "devices": []},
                {"CUDA_VISIBLE_DEVICES": "1", "error": None, "count": 1, "devices": [dict(devs[1], index=0)]},
                {"CUDA_VISIBLE_DEVICES": "GPU-b-0000-1111", "error": None, "count": 1, "devices": [dict(devs[1], index=0)]}],
            "device_order": [{"CUDA_DEVICE_ORDER": "PCI_BUS_ID", "error": None, "count": 2, "devices": devs}],
            "wrong_stream": ({"cupy": {"error": "CUDADriverError: CUDA_ERROR_INVALID_HANDLE: invalid resource handle"},
                              "torch": {"current_device_inside_stream_context": 1, "current_device_after": 0}}
                             if two else {"skipped": "needs two GPUs"})}


def test_the_devices_tables_from_a_synthetic_run():
    from trtfaq.chapters import multi_gpu

    run = _result("ch04-devices", _devices_doc())
    table = multi_gpu.visible_table(run)
    row = next(ln for ln in table.splitlines() if ln.startswith("'1'"))
    assert "0 = 0000:41:00 (nvidia-smi 1)" in row
    assert "GPU-b-0000-1... (a UUID)" in table and "cudaErrorNoDevice" in table and "(as the recorder's environment)" in table
    assert multi_gpu.thread_line(run).endswith("new thread: cudaGetDevice() = 0")
    assert "invalid resource handle" in multi_gpu.wrong_stream_lines(run)
    assert "lists 2 GPU(s)" in multi_gpu.numbering_lines(run) and "recorder ran with" not in multi_gpu.numbering_lines(run)
    doc = _devices_doc()
    doc["recorder_environment"] = {"CUDA_VISIBLE_DEVICES": "0,1", "CUDA_DEVICE_ORDER": None}
    assert "the recorder ran with CUDA_VISIBLE_DEVICES='0,1'" in multi_gpu.numbering_lines(_result("ch04-devices", doc))
    assert "needs two GPUs" in multi_gpu.wrong_stream_lines(_result("ch04-devices", _devices_doc(two=False)))
    with pytest.raises(Exception, match="expected a ch04-devices run"):
        multi_gpu.visible_table(_result("ch04-throughput", {}))


def _throughput_doc(per_gemm_ms=1.5, wall_with=45.0, wall_without=90.0):
    n = 8192
    return {"gemm": {"n": n, "dtype": "float16", "flops": 2 * n ** 3, "per_worker_per_sample": 30}, "workers": 2,
            "gpus": [{"index": 0, "name": "G"}, {"index": 1, "name": "G"}],
            "ceiling": [{"device": 0, "samples_ms": [per_gemm_ms] * 5}, {"device": 1, "samples_ms": [per_gemm_ms] * 5}],
            "configs": [
                {"set_device": True, "samples_ms": [wall_with] * 6,
                 "workers": [{"start_device": 0, "device": 0, "samples_ms": [wall_with] * 6},
                             {"start_device": 0, "device": 1, "samples_ms": [wall_with] * 6}]},
                {"set_device": False, "samples_ms": [wall_without] * 6,
                 "workers": [{"start_device": 0, "device": 0, "samples_ms": [wall_without] * 6},
                             {"start_device": 0, "device": 0, "samples_ms": [wall_without] * 6}]}]}


def test_throughput_arithmetic_on_a_synthetic_run():
    from trtfaq.chapters import multi_gpu

    run = _result("ch04-throughput", _throughput_doc())
    one_gpu = 2 * 8192 ** 3 / 1.5e-3 / 1e12                       # TFLOP/s of one product in 1.5 ms
    rows = multi_gpu.throughput_rows(run)
    assert rows[0]["devices"] == [0, 1] and rows[1]["devices"] == [0, 0]
    assert rows[0]["median"] == pytest.approx(2 * 30 * 2 * 8192 ** 3 / 45e-3 / 1e12)
    assert rows[0]["of_one_gpu"] == pytest.approx(2.0) and rows[0]["of_all_gpus"] == pytest.approx(1.0)
    assert rows[1]["of_one_gpu"] == pytest.approx(1.0) and rows[1]["median"] == pytest.approx(one_gpu)
    assert rows[0]["per_device"] == {0: pytest.approx(one_gpu), 1: pytest.approx(one_gpu)}
    assert rows[1]["per_device"] == {0: pytest.approx(one_gpu)}          # two workers at half rate, one GPU
    text = multi_gpu.throughput_table(run)
    assert "200%" in text and "100%" in text and "50%" in text
    assert "0: 733 (100%), 1: 733 (100%)" in text and "0: 733 (100%), 1: none" in text
    doc = _throughput_doc()
    doc["configs"][1]["workers"][1]["samples_ms"] = []                    # planted: a worker without samples
    with pytest.raises(Exception, match="a worker on device 0 has no samples") as e:
        multi_gpu.throughput_rows(_result("ch04-throughput", doc))
    assert one_line(e)


def test_the_throughput_figure_draws(monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from trtfaq.chapters import multi_gpu

    monkeypatch.setattr(plt, "show", lambda: None)
    multi_gpu.show_throughput(_result("ch04-throughput", _throughput_doc()))
    one = _throughput_doc()
    one["ceiling"] = one["ceiling"][:1]
    multi_gpu.show_throughput(_result("ch04-throughput", one))
    plt.close("all")


def test_the_recorders_are_registered():
    from trtfaq import experiments

    assert {"ch04-devices", "ch04-throughput"} <= set(experiments.EXPERIMENTS)
    assert all(name in experiments._registry() for name in ("ch04-devices", "ch04-throughput"))


def _pool_run(tmp_path, workers, errors=()):
    """A SYNTHETIC ch04-pool document (labelled so), saved and loaded like a recorded one."""
    from trtfaq import results

    prov = {"gpu": "synthetic", "compute_capability": "9.0", "driver": "x", "cuda_runtime": "13.0", "libraries": {},
            "created": "2026-11-25T00:00:00Z", "git_commit": "0" * 40, "command": "synthetic", "python": "3.11"}
    data = {"devices": len(workers), "workers": workers, "errors": list(errors), "cache_entries": []}
    return results.load(results.save(tmp_path, "ch04-pool", "notebooks/04-multi-gpu", "t", "synthetic", prov, data))


def _worker(i, landed=None, key=None):
    return {"pool_device": i, "torch_current_device": i, "work_landed_on": i if landed is None else landed,
            "name": "GPU", "pci_bus_id": f"0000:00:0{6 + i}.0", "cache_key_device": f"GPU pci {i}",
            "plan_cache_key": key or f"key{i}"}


def test_pool_table_lists_each_device_and_refuses_wrong_landings(tmp_path):
    from trtfaq.chapters.multi_gpu import pool_table
    from trtfaq.errors import ResultError

    text = pool_table(_pool_run(tmp_path, [_worker(0), _worker(1)]))
    assert "0000:00:07.0" in text and "key1" in text
    for workers, message in (([_worker(0), _worker(1, landed=0)], "landed on device 0"),
                             ([_worker(0, key="k"), _worker(1, key="k")], "share one plan-cache key"),
                             ([], "no worker recorded")):
        with pytest.raises(ResultError) as e:
            pool_table(_pool_run(tmp_path, workers))
        assert message in one_line(e)
