"""Chapter 3 (trtfaq.chapters.workspace): pool docstrings, the long-K model, the build-log reader on real
TensorRT wording, and the recorded cuBLAS run read back from a SYNTHETIC result document built here."""
import json

import numpy as np
import pytest

from trtfaq import bindings, reference, results
from trtfaq.chapters import workspace as ws
from trtfaq.errors import InputError, ResultError

from helpers import one_line


def binary(*strings):
    return bindings.Binary("test", tuple(strings))


def test_pool_defaults_are_read_from_docstrings():
    b = binary("WORKSPACE", "TACTIC_DRAM", "WORKSPACE is used by TensorRT. This defaults to max device memory. Set less.",
               "kTACTIC_DRAM is the host DRAM. This defaults to 75% of totalGlobalMem as reported by "
               "cudaGetDeviceProperties when cudaGetDeviceProperties.embedded is true, and 100% otherwise.")
    assert ws.pool_default(ws.pool_doc(b, "WORKSPACE")) == "max device memory"
    assert ws.pool_default(ws.pool_doc(b, "TACTIC_DRAM")).endswith("and 100% otherwise")   # the 8.6 "k" spelling
    assert ws.pool_doc(b, "TACTIC_SHARED_MEMORY") is None and ws.pool_default(None) == "(no such pool)"
    newer = binary("WORKSPACE", "WORKSPACE is used. This defaults to 1 GiB. Set less.")
    text = ws.pool_table({"old": b, "new": newer})
    assert "1 GiB" in text and "max device memory" in text and "no such pool" in text
    with pytest.raises(InputError) as e:
        ws.pool_doc(b, "SCRATCH")
    assert "unknown memory pool 'SCRATCH'" in one_line(e)


def test_long_k_model_matches_float64_and_refuses_bad_input():
    m = ws.LongK.random(k=1024, hidden=16, out=4)
    x = np.random.default_rng(0).standard_normal((3, 1024)).astype(np.float32)
    np.testing.assert_allclose(reference.run_onnxruntime(m.onnx(), {"x": x})["y"], m.reference(x), rtol=1e-4,
                               atol=1e-5)
    with pytest.raises(InputError) as e:
        m.reference(x[:, :10])
    assert "expected input of shape (N, 1024)" in one_line(e)
    with pytest.raises(InputError):
        ws.LongK.random(k=0)


# ----- the build log, on real TensorRT wording -------------------------------------------------------

REAL_LOGS = {
    # zz990099/foundationpose_cpp#22 (TensorRT 10.x): bytes, with the builder's memory summary
    "10.x": ["[04/10/2025-11:36:42] [W] [TRT] UNSUPPORTED_STATE: Skipping tactic 0 due to insufficient memory on "
             "requested size of 7742685184 detected for tactic 0x0000000000000000.",
             "[04/10/2025-11:37:24] [I] [TRT] Max Scratch Memory: 2065996800 bytes",
             "[04/10/2025-11:37:24] [I] [TRT] Total Activation Memory: 2478873600 bytes",
             "[04/10/2025-11:37:24] [I] [TRT] Total Weights Memory: 34082304 bytes"],
    # ultralytics/ultralytics#22271 (TensorRT 10.x on Orin): bytes beside the MB device request
    "10.x orin": ["[10/01/2025-08:26:34] [TRT] [W] UNSUPPORTED_STATE: Skipping tactic 9 due to insufficient memory "
                  "on requested size of 1048576000 detected for tactic 0x8a196054417f1c8a.",
                  "[10/01/2025-08:26:34] [TRT] [W] Tactic Device request: 1000MB Available: 302MB. Device memory is "
                  "insufficient to use tactic."],
    # hmorimitsu/ptlflow#65: MiB beside the MB device request
    "MiB": ["[05/27/2024-16:38:33] [W] [TRT] Skipping tactic 3 due to insufficient memory on requested size of 9385 "
            "detected for tactic 0x0000000000000004.",
            "Try decreasing the workspace size with IBuilderConfig::setMemoryPoolLimit().",
            "[05/27/2024-16:38:33] [W] [TRT] Tactic Device request: 9385MB Available: 7649MB. Device memory is "
            "insufficient to use tactic."],
    # triple-mu/YOLOv8-TensorRT#137: one skip after another, each with its own device line
    "sequence": ["[W] [TRT] Skipping tactic 13 due to insufficient memory on requested size of 3273 detected for "
                 "tactic 0x0000000000000074.", "Try decreasing the workspace size with IBuilderConfig::setMemoryPoolLimit().",
                 "[W] [TRT] Tactic Device request: 3273MB Available: 190MB. Device memory is insufficient to use tactic.",
                 "[W] [TRT] Skipping tactic 3 due to insufficient memory on requested size of 1093 detected for tactic "
                 "0x0000000000000004.", "Try decreasing the workspace size with IBuilderConfig::setMemoryPoolLimit().",
                 "[W] [TRT] Tactic Device request: 1093MB Available: 186MB. Device memory is insufficient to use tactic."],
    # ultralytics/yolov5#12248 (8.x): the misspelling, MiB
    "insuficient": ["[10/18/2023-20:27:01] [TRT] [W] Tactic Device request: 448MB Available: 425MB. Device memory "
                    "is insufficient to use tactic.",
                    "[10/18/2023-20:27:01] [TRT] [W] Skipping tactic 3 due to insuficient memory on requested size of "
                    "448 detected for tactic 4."],
    # Hale423/CenterPoint#10 (8.x): "oom error", bytes, and the 8.x summary spelling
    "oom": ["[W] [TRT] Skipping tactic 2 due to oom error on requested size of 4294967296 detected for tactic 2.",
            "[I] [TRT] Total Scratch Memory: 140175360"],
    # NVIDIA/TensorRT#4136 and lightvector/KataGo#1228 (10.16)
    "summary": ["[W] [TRT] Some tactics do not have sufficient workspace memory to run. Increasing workspace size "
                "may increase performance, please check verbose output.",
                "IBuilder::buildSerializedNetwork: Error Code 10: Internal Error (Could not find any implementation "
                "for node {ForeignNode[model.blocks.0.normactconvp.conv.Wnhwc + ONNXTRT_Broadcast...model.act_"
                "trunkfinal]}. In computeCosts at /_src/optimizer/common/tactic/optimizer.cpp:4265)"],
}


def test_read_build_log_on_real_lines():
    log = ws.read_build_log(REAL_LOGS["10.x"], major=10)
    assert [(s.tactic, s.requested_bytes) for s in log.skipped] == [("0x0000000000000000", 7742685184)]
    assert log.memory == {"Max Scratch Memory": 2065996800, "Total Activation Memory": 2478873600,
                          "Total Weights Memory": 34082304}
    assert len(log.over(4 << 30)) == 1 and log.over(8 << 30) == [] and log.over(None) == []
    orin = ws.read_build_log(REAL_LOGS["10.x orin"]).skipped[0]
    assert (orin.unit, orin.device_request_mib) == ("bytes", 1000)            # the unit from the device line
    mib = ws.read_build_log(REAL_LOGS["MiB"]).skipped[0]
    assert (mib.unit, mib.requested_bytes) == ("MiB", 9385 << 20)
    assert ws.read_build_log(REAL_LOGS["insuficient"]).skipped[0].unit == "MiB"  # device line before the skip
    assert [(s.requested_bytes >> 20, s.device_request_mib) for s in ws.read_build_log(REAL_LOGS["sequence"]).skipped] \
        == [(3273, 3273), (1093, 1093)]                                        # each skip with its own device line
    oom = ws.read_build_log(REAL_LOGS["oom"])
    assert oom.skipped[0].requested_bytes == 4294967296 and oom.memory == {"Total Scratch Memory": 140175360}
    summary = ws.read_build_log(REAL_LOGS["summary"])
    assert summary.warned_insufficient_workspace
    assert summary.no_implementation == ["{ForeignNode[model.blocks.0.normactconvp.conv.Wnhwc + ONNXTRT_Broadcast..."
                                         "model.act_trunkfinal]}"]
    table = ws.build_log_table({"10.x": (log, 4 << 30), "summary": (summary, None)})
    assert "10.x" in table and "default" in table


def test_a_small_unlabelled_request_has_no_unit_unless_the_version_says_so():
    line = ["Skipping tactic 1 due to insufficient memory on requested size of 66048 detected for tactic 0x1f."]
    assert ws.read_build_log(line).skipped[0].requested_bytes is None          # TensorRT-LLM#493: unit unknown
    assert ws.read_build_log(line, major=10).skipped[0].requested_bytes == 66048


def test_read_build_log_refuses_a_single_string():
    with pytest.raises(InputError) as e:
        ws.read_build_log("one\ntwo")
    assert "list of lines" in one_line(e)


def test_planted_unit_mistake_is_caught(monkeypatch):
    """Reading MiB as bytes would make a 9 GB request look like 9 KB: the real ptlflow line catches it."""
    monkeypatch.setattr(ws, "_DEVICE", ws.re.compile(r"(?!x)x"))  # the device line no longer recognised
    assert ws.read_build_log(REAL_LOGS["MiB"]).skipped[0].requested_bytes != 9385 << 20


# ----- the recorded cuBLAS run, from a synthetic document ----------------------------------------

SHAPES = [{"name": "tiny MN", "m": 64, "n": 64, "k": 262144}, {"name": "square", "m": 4096, "n": 4096, "k": 4096}]


def synthetic(tmp_path, zero_kernel="k_nosplit", lt_error=None):
    """A SYNTHETIC ch03-cublas-workspace document (made-up numbers, for the readers only)."""
    def case(shape, ms, kernel):
        return {"shape": shape, "kernels": [kernel], "samples_ms": [ms, ms * 1.01, ms * 0.99], "launches": 4,
                "method": "cuda graph", "rel_error": 1e-3}

    lt = {"error": lt_error} if lt_error else {"cases": [
        {"shape": "tiny MN", "heuristic": {"0": [1]}, "algos": [
            {"index": 0, "workspace_bytes": 4 << 20, "samples_ms": [0.02] * 3, "kernels": ["splitk"]},
            {"index": 1, "workspace_bytes": 0, "samples_ms": [0.5] * 3, "kernels": ["nosplit"]}]},
        {"shape": "square", "heuristic": {"0": [0]}, "algos": [
            {"index": 0, "workspace_bytes": 0, "samples_ms": [0.2] * 3, "kernels": ["sq"]}]}]}
    data = {"shapes": SHAPES,
            "torch": {"default": {"cases": [case("tiny MN", 0.02, "k_split"), case("square", 0.2, "k_sq")],
                                  "first_call_extra_bytes": 32 << 20},
                      "zero": {"cases": [case("tiny MN", 0.5, zero_kernel), case("square", 0.2, "k_sq")],
                               "first_call_extra_bytes": 0}},
            "cublaslt": lt,
            "ceilings": {"copy": {"bytes_moved": 2 << 30, "samples_ms": [1.0, 1.0]},
                         "gemm_fp16": {"flops": 2 * 8192 ** 3, "samples_ms": [1.5, 1.5]}}}
    prov = {"gpu": "SYNTHETIC", "compute_capability": "9.0", "driver": "0", "cuda_runtime": "0", "libraries": {},
            "created": "2026-01-01T00:00:00+00:00", "git_commit": "0" * 40, "command": "test", "python": "3"}
    return results.load(results.save(tmp_path, "ch03-cublas-workspace", "notebooks/03-workspace", "t",
                                     "synthetic, not a measurement", prov, data))


def test_knob_rows_and_tables(tmp_path):
    run = synthetic(tmp_path)
    rows = ws.knob_rows(run)
    assert [r.kernels_changed for r in rows] == [True, False]
    assert rows[0].slowdown == pytest.approx(25.0)
    text = ws.knob_table(run)
    assert "25.00x" in text and "yes" in text and "no" in text
    assert "default run 32.0 MiB, zero-workspace run 0 KiB" in text
    assert "k_split" in ws.kernel_table(run)
    # a run whose default workspace reads 0 (allocated before the measured call) is not reported as "0 KiB"
    doc = json.loads(run.path.read_text())
    doc["data"]["torch"]["default"]["first_call_extra_bytes"] = 0
    run.path.write_text(json.dumps(doc))
    unmeasured = ws.knob_table(results.load(run.path))
    assert "not measured by this run" in unmeasured and "default run 0 KiB" not in unmeasured
    # FP16 peak: 2*8192^3 FLOP in 1.5 ms = 733 TFLOP/s; the square GEMM: 2*4096^3 FLOP in 0.2 ms = 94 % of it
    assert "94%" in text


def test_tactic_filter_keeps_the_fastest_that_fits(tmp_path):
    run = synthetic(tmp_path)
    cands = ws.candidates(run, "tiny MN")
    assert ws.best_under(cands, 0).index == 1 and ws.best_under(cands, 4 << 20).index == 0
    assert ws.best_under([c for c in cands if c.workspace_bytes], 0) is None
    text = ws.filter_table(run)
    assert "25.00x" in text and "1.00x" in text


def test_tactic_filter_figure_draws(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    ws.show_tactic_filter(synthetic(tmp_path))
    fig = plt.gcf()
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    plt.close("all")


def test_result_problems_are_one_line_errors(tmp_path):
    run = synthetic(tmp_path, lt_error="child 'cublaslt' exited with -11")
    with pytest.raises(ResultError) as e:
        ws.candidates(run, "tiny MN")
    assert "did not run: child 'cublaslt' exited with -11" in one_line(e)
    run = synthetic(tmp_path / "b")
    with pytest.raises(ResultError) as e:
        ws.candidates(run, "huge")
    assert "no cuBLASLt candidates for shape 'huge'" in one_line(e)
    doc = json.loads(run.path.read_text())
    del doc["data"]["torch"]["zero"]
    run.path.write_text(json.dumps(doc))
    with pytest.raises(ResultError) as e:
        ws.knob_rows(results.load(run.path))
    assert "expected torch runs 'default' and 'zero'" in one_line(e)


def test_the_recorder_is_registered_and_a_failing_child_is_reported():
    from trtfaq import experiments
    from trtfaq.experiments import workspace as rec

    assert "ch03-cublas-workspace" in experiments.EXPERIMENTS
    assert experiments._registry()["ch03-cublas-workspace"] is rec.cublas_workspace
    assert rec.ZERO == {"CUBLAS_WORKSPACE_CONFIG": ":0:0", "CUBLASLT_WORKSPACE_SIZE": "0"}
    # here the child cannot even import PyTorch (or finds no GPU): the parent gets an error entry, no exception
    pytest.importorskip("numpy")
    result = rec._child("no-such-mode", {})
    assert "error" in result and "exited with" in result["error"]
