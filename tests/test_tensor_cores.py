"""Chapter 12 (trtfaq.chapters.tensor_cores and the recorder's ncu parsing): the model and its alignment
table, the inspector table, and the recorded runs read back from SYNTHETIC documents built here. When a
real ch12-tensor-cores run is in results/, the classifier is also checked on the kernels it recorded."""
import json

import numpy as np
import pytest

from trtfaq import inspector, reference, results
from trtfaq.chapters import tensor_cores as tc
from trtfaq.errors import BookError, InputError, ResultError
from trtfaq.experiments import tensor_cores as rec

from helpers import one_line


def test_channel_net_matches_float64():
    net = tc.ChannelNet.random(seed=3)
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    y = reference.run_onnxruntime(net.onnx(), {"x": x})["y"]
    np.testing.assert_allclose(y, net.reference(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(InputError) as e:
        net.reference(x[:, :2])
    assert "expected input of shape (N, 3, 32, 32)" in one_line(e)
    with pytest.raises(InputError):
        tc.ChannelNet.random(channels=(3,))
    wide = tc.ChannelNet.random(channels=(4, 8))
    assert tc.math_layers(wide.onnx()) == [("conv1", "Conv", 4, 8), ("fc", "MatMul", 8, 100)]


def test_alignment_table_is_computed_from_the_weights():
    model = tc.ChannelNet.random().onnx()
    assert tc.math_layers(model) == [("conv1", "Conv", 3, 24), ("conv2", "Conv", 24, 50), ("conv3", "Conv", 50, 64),
                                     ("fc", "MatMul", 64, 100)]
    text = tc.alignment_table(model)
    assert "8x24 (+167%)" in text          # 3 channels padded to 8 in FP16: (8*24)/(3*24) - 1
    assert "32x32 (+1322%)" in text        # and to 32 in INT8: 1024/72 - 1
    assert "aligned" in text               # 64 -> 100 is a multiple of 4 both ways
    assert tc.padded(50, 8) == 56 and tc.padded(64, 32) == 64
    with pytest.raises(InputError):
        tc.padded(0, 8)
    with pytest.raises(InputError) as e:
        tc.alignment_table("model.onnx")
    assert "expected an onnx.ModelProto, got str" in one_line(e)


def test_layers_table_reads_both_schemas():
    from test_inspector import NAMES_ONLY, V10, V11

    text = tc.layers_table(inspector.read(V10))
    assert "tensor cores" in text and "CUDA cores" in text and "channel % 4 == 0" in text
    assert "Reformat" not in text                                   # layers without a kernel name are left out
    assert "TF32" in tc.layers_table(inspector.read(V11))
    assert tc.layers_table(inspector.read(NAMES_ONLY)).startswith("layer names only")
    assert tc.layers_table(inspector.read({"Layers": [{"Name": "a", "LayerType": "NoOp"}]})).startswith("no layer")


def test_names_table_says_why():
    text = tc.names_table([("maxwell_scudnn_128x32_relu_medium_nn_v0", "TensorRT#875")])
    assert "CUDA cores" in text and "scudnn" in text and "TensorRT#875" in text


# ----- recorded runs, from synthetic documents ---------------------------------------------------

PROV = {"gpu": "SYNTHETIC", "compute_capability": "9.0", "driver": "0", "cuda_runtime": "0", "libraries": {},
        "created": "2026-01-01T00:00:00+00:00", "git_commit": "0" * 40, "command": "test", "python": "3"}


def _case(label, kernel, ms, flops, moved, err=1e-3):
    return {"label": label, "kernels": [kernel, "other"], "samples_ms": [ms, ms, ms * 1.1], "launches": 2,
            "method": "cuda graph", "flops": flops, "bytes": moved, "rel_error": err}


def synthetic_cases(tmp_path):
    """A SYNTHETIC ch12-tensor-cores document (made-up numbers, for the readers only)."""
    g = 2 * 8192 * 8192 * 4096
    data = {"gemm_alignment": {"cases": [_case("K=4096", "sm90_xmma_gemm_f16f16_f32_tensor16x8x16", 1.0, g, 1e8),
                                         _case("K=4095 (odd)", "cutlass_80_wmma_tensorop_f16_s161616gemm_align1",
                                               4.0, g, 1e8)]},
            "tf32": {"cases": [_case("FP32, TF32 off", "sm80_xmma_gemm_f32f32_f32f32_f32_ffma", 10.0, g, 1e8, 1e-6),
                               _case("FP32, TF32 on", "nvjet_tst_128x256", 2.0, g, 1e8, 1e-3)]},
            "conv": {"cases": [_case("C_in=3", "sm80_xmma_fprop_implicit_gemm_f16f16_tensor16x8x16", 0.01, 1e9, 5e7)]},
            "ceilings": {"copy": {"bytes_moved": 3e9, "samples_ms": [1.0]},
                         "gemm_fp16": {"flops": 7e11, "samples_ms": [1.0]}}}
    return results.load(results.save(tmp_path, "ch12-tensor-cores", "notebooks/12-tensor-cores", "t",
                                     "synthetic, not a measurement", PROV, data))


def test_rows_and_tables(tmp_path):
    run = synthetic_cases(tmp_path)
    aligned, odd = tc.rows(run, "gemm_alignment")
    assert aligned.tflops == pytest.approx(2 * 8192 * 8192 * 4096 / 1e-3 / 1e12)
    assert aligned.pct_peak == pytest.approx(100 * aligned.tflops * 1e12 / 7e14)
    assert (aligned.kind.unit, odd.kind.unit, odd.kind.alignment) == ("tensor cores", "tensor cores", (1,))
    off, on = tc.rows(run, "tf32")
    assert (off.kind.unit, on.kind.unit) == ("CUDA cores", "unknown")
    text = tc.cases_table(run, "gemm_alignment")
    assert "tensor cores align1" in text and "K=4095 (odd)" in text
    with pytest.raises(InputError):
        tc.rows(run, "attention")


def test_runs_figure_draws(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setattr(plt, "show", lambda: None)
    tc.show_runs(synthetic_cases(tmp_path))
    assert len(plt.gcf().axes) == 3
    legend = plt.gcf().axes[0].get_legend()            # one colour per verdict, as the bars are drawn
    colours = {t.get_text(): matplotlib.colors.to_hex(h.get_facecolor()) for t, h in
               zip(legend.get_texts(), legend.legend_handles)}
    assert len(set(colours.values())) == 3
    assert colours["name says CUDA cores"] == matplotlib.colors.to_hex("C3")
    plt.close("all")


def test_missing_parts_and_kernels_are_one_line_errors(tmp_path):
    run = synthetic_cases(tmp_path)
    doc = json.loads(run.path.read_text())
    del doc["data"]["conv"]
    doc["data"]["tf32"]["cases"][0]["kernels"] = []
    run.path.write_text(json.dumps(doc))
    run = results.load(run.path)
    with pytest.raises(ResultError) as e:
        tc.rows(run, "conv")
    assert "has no 'conv' part" in one_line(e)
    with pytest.raises(ResultError) as e:
        tc.rows(run, "tf32")
    assert "recorded no kernel name" in one_line(e)


# ----- Nsight Compute output -----------------------------------------------------------------------

NCU_CSV = """==PROF== Connected to process 1234
"ID","Process ID","Process Name","Host Name","Kernel Name","Context","Stream","Section Name","Metric Name","Metric Unit","Metric Value"
"0","1","python3","h","trtfaq_case_marker","1","7","Command line profiler metrics","gpu__time_duration.sum","nsecond","1,024"
"1","1","python3","h","nvjet_hsh_256x128","1","7","Command line profiler metrics","gpu__time_duration.sum","nsecond","812,000"
"1","1","python3","h","nvjet_hsh_256x128","1","7","Command line profiler metrics","sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active","%","87.5"
"2","1","python3","h","trtfaq_case_marker","1","7","Command line profiler metrics","gpu__time_duration.sum","nsecond","1,000"
"3","1","python3","h","sm80_xmma_gemm_f32f32_ffma","1","7","Command line profiler metrics","gpu__time_duration.sum","nsecond","9,000,000"
"3","1","python3","h","sm80_xmma_gemm_f32f32_ffma","1","7","Command line profiler metrics","sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active","%","n/a"
==PROF== Disconnected from process 1234
"""


def test_ncu_csv_is_split_by_case_markers():
    kernels = rec.parse_ncu_csv(NCU_CSV)
    assert [k["id"] for k in kernels] == [0, 1, 2, 3]
    assert kernels[1]["metrics"]["gpu__time_duration.sum"] == 812000.0
    cases = rec.split_cases(kernels, ["gemm", "tf32 off"])
    assert [c["case"] for c in cases] == ["gemm", "tf32 off"]
    assert cases[1]["kernels"][0]["metrics"]["sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active"] \
        is None
    assert rec.parse_ncu_csv("==PROF== nothing profiled\n") == []
    with pytest.raises(BookError) as e:
        rec.split_cases(kernels, ["only one"])
    assert "more markers than the 1 cases" in one_line(e)
    with pytest.raises(BookError) as e:
        rec.split_cases(kernels, ["a", "b", "c"])
    assert "found 2 case markers" in one_line(e)
    with pytest.raises(BookError) as e:
        rec.parse_ncu_csv('"ID","Name"\n"0","x"\n')
    assert "no 'Kernel Name'" in one_line(e)


def test_pipe_table_from_a_synthetic_run(tmp_path):
    metrics = ["sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active", "gpu__time_duration.sum"]
    data = {"metrics": metrics, "cases": rec.split_cases(rec.parse_ncu_csv(NCU_CSV), ["gemm", "tf32 off"]),
            "ncu": "synthetic", "ncu_options": []}
    run = results.load(results.save(tmp_path, "ch12-tensor-pipe", "notebooks/12-tensor-cores", "t",
                                    "synthetic, not a measurement", PROV, data))
    text = tc.pipe_table(run)
    assert "87.5" in text and "n/a" in text and "pipe_tensor_op_gmma_cycles_active %" in text


# ----- the classifier on kernels a real GPU run recorded -----------------------------------------

def _recorded():
    try:
        return results.latest("ch12-tensor-cores")
    except ResultError:
        return None


@pytest.mark.skipif(_recorded() is None, reason="no ch12-tensor-cores run recorded yet")
def test_classifier_on_recorded_kernels():
    """Kernel names cuBLAS chose on the recording GPU. Where the configuration fixes the unit, the
    classifier may say "unknown" (opaque names) but never the opposite one: aligned FP16 GEMMs and TF32
    GEMMs run on tensor cores, FP32 with TF32 off on CUDA cores. (Odd K fixes nothing: the ncu run
    says which unit its kernel used.)"""
    run = _recorded()
    wrong = []
    for r in tc.rows(run, "gemm_alignment") + tc.rows(run, "tf32"):
        want = {"FP32, TF32 off": "CUDA cores"}.get(r.label, None if "odd" in r.label else "tensor cores")
        if want is not None and r.kind.unit not in (want, "unknown"):
            wrong.append(f"{r.label}: {r.kernel} -> {r.kind.unit}")
    assert not wrong, wrong


def _recorded_pipe():
    try:
        return results.latest("ch12-tensor-pipe")
    except ResultError:
        return None


@pytest.mark.skipif(_recorded_pipe() is None, reason="no ch12-tensor-pipe run recorded yet")
def test_classifier_against_recorded_tensor_pipe_counters():
    """Every kernel Nsight Compute profiled: where the name says "tensor cores" the tensor pipe was
    active, where it says "CUDA cores" it was idle ("unknown" names, cuBLAS's nvjet_*, decide nothing)."""
    metric = "sm__pipe_tensor_cycles_active.avg.pct_of_peak_sustained_active"
    wrong, decided = [], 0
    for case in _recorded_pipe().data["cases"]:
        for k in case["kernels"]:
            unit, active = inspector.classify(k["name"]).unit, k["metrics"].get(metric)
            if active is None or unit == "unknown":
                continue
            decided += 1
            if (unit == "tensor cores") != (active > 1.0):
                wrong.append(f"{case['case']}: {k['name'][:60]} -> {unit}, tensor pipe {active} %")
    assert decided and not wrong, wrong


def test_the_recorders_are_registered():
    from trtfaq import experiments

    assert {"ch12-tensor-cores", "ch12-tensor-pipe"} <= set(experiments.EXPERIMENTS)
    assert experiments._registry()["ch12-tensor-pipe"] is rec.tensor_pipe
