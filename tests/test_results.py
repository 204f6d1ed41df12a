import json

import pytest

from trtfaq import results
from trtfaq.errors import ResultError
from trtfaq.tools.cli import main

from helpers import one_line

PROV = {"gpu": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "driver": "580.159.04",
        "cuda_runtime": "13.0", "libraries": {"torch": "2.11.0"}, "created": "2026-11-24T14:15:29+00:00",
        "git_commit": "0123456789abcdef", "command": "python -m trtfaq record x", "python": "3.12.3"}


def save(tmp_path, data=None, **over):
    args = dict(experiment="x", chapter="notebooks/01-batch-profiles", title="t", label="Measured with PyTorch, not TensorRT",
                prov=PROV, data=data if data is not None else {"runs": [{"size": 1, "samples_ms": [0.5, 0.6]}]})
    args.update(over)
    return results.save(tmp_path, **args)


def test_round_trip_keeps_samples_and_provenance(tmp_path):
    path = save(tmp_path)
    assert path.name == "x-nvidia-h100-80gb-hbm3-20261124T141529.json"
    r = results.load(path)
    assert r.data["runs"][0]["samples_ms"] == [0.5, 0.6] and r.provenance == PROV
    assert r.caption() == ("Measured with PyTorch, not TensorRT. NVIDIA H100 80GB HBM3 (sm 9.0), driver 580.159.04, "
                           "CUDA 13.0, torch 2.11.0; 2026-11-24, commit 0123456789.")
    assert results.latest("x", tmp_path).path == path


def write(tmp_path, doc):
    p = tmp_path / "r.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def valid_doc(tmp_path):
    return json.loads(save(tmp_path).read_text())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: "{\"schema\": ", "r.json is not valid JSON (line 1"),
    (lambda d: [1, 2], "r.json is not a recorded result of this book (no 'schema' key)"),
    (lambda d: {**d, "schema": "trtfaq-result/2"}, "uses schema 'trtfaq-result/2'; this book reads 'trtfaq-result/1'"),
    (lambda d: {k: v for k, v in d.items() if k != "label"}, "r.json lacks label"),
    (lambda d: {**d, "provenance": {k: v for k, v in PROV.items() if k != "git_commit"}}, "incomplete provenance: no git_commit"),
    (lambda d: {**d, "data": {"runs": [{"samples_ms": [1.0, -1.0]}]}}, "samples_ms must be a non-empty list of finite numbers >= 0"),
    (lambda d: {**d, "data": {"runs": [{"samples_ms": []}]}}, "samples_ms must be a non-empty list"),
    (lambda d: {**d, "data": {"samples_ms": ["1"]}}, "samples_ms must be"),
])
def test_corrupt_or_foreign_files_are_one_line_errors(tmp_path, mutate, message):
    path = write(tmp_path, mutate(valid_doc(tmp_path / "valid")))
    with pytest.raises(ResultError) as e:
        results.load(path)
    assert message in one_line(e)


def test_nan_samples_are_refused_when_saving(tmp_path):
    with pytest.raises(ResultError):
        save(tmp_path, data={"samples_ms": [float("nan")]})
    assert not list(tmp_path.glob("*.json"))


def test_missing_file_and_missing_experiment(tmp_path):
    with pytest.raises(ResultError) as e:
        results.load(tmp_path / "nope.json")
    assert one_line(e) == "result file nope.json does not exist"
    with pytest.raises(ResultError) as e:
        results.latest("ch99", tmp_path)
    assert "no recorded run of ch99" in one_line(e) and "python -m trtfaq record ch99" in one_line(e)


def test_every_committed_result_is_valid_and_names_its_source():
    runs = results.list_results()
    assert {r.experiment for r in runs} >= {"ch01-tactics", "ch01-batch-curve", "timer-check", "ch06-precision"}
    for r in runs:
        assert "not TensorRT" in r.label and len(r.provenance["git_commit"]) == 40


def test_timer_agrees_with_do_bench_within_3_percent():
    from trtfaq.timing import summarize

    for w in results.latest("timer-check").data["workloads"]:
        a, b = summarize(w["book_timer"]["samples_ms"]).median, summarize(w["do_bench"]["samples_ms"]).median
        assert abs(a - b) / b < 0.03, w["workload"]


def test_record_without_a_gpu_is_one_line(fresh_env, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: None)
    assert main(["record", "ch01-tactics", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trtfaq: no CUDA GPU found") and err.count("\n") == 1
    assert main(["record", "ch99"]) == 2
    assert "unknown experiment 'ch99'" in capsys.readouterr().err


def test_gallery_table_lists_every_run_with_its_provenance(tmp_path):
    save(tmp_path)
    table = results.gallery_table(results.list_results(tmp_path)).splitlines()
    assert len(table) == 3 and table[0] == "| Run | Hardware | Software | Provenance |"
    assert "`trtfaq/recorded/x-nvidia-h100-80gb-hbm3-20261124T141529.json`" in table[2]
    assert "driver 580.159.04, CUDA 13.0" in table[2] and "`0123456789`" in table[2] and "torch 2.11.0" in table[2]


def test_chapter6_run_reads_back_and_its_table_is_recomputed_from_raw_predictions(tmp_path):
    import json

    import numpy as np

    from trtfaq.chapters import wrong_answers as ch6

    run = results.latest("ch06-precision")
    assert run.provenance["gpu"].startswith("NVIDIA") and run.chapter == "notebooks/06-wrong-answers"
    rows = {(r["network"], r["precision"]): r for r in ch6.recorded_rows(run)}
    assert len(rows) == 16
    net = run.data["networks"]["l2"]
    pred, ref = np.array(net["precisions"]["fp16"]["pred"]), np.array(net["reference_pred"])
    assert rows[("l2", "fp16")]["agreement"] == np.mean(pred == ref) < 0.2  # the overflow, on the GPU
    assert rows[("l2", "fp16")]["first_nonfinite"] == "sumsq"
    assert rows[("l2", "bf16")]["agreement"] > 0.99 and rows[("mlp", "fp32")]["agreement"] == 1.0
    assert rows[("centroid (expanded)", "bf16")]["agreement"] < rows[("centroid (direct)", "bf16")]["agreement"]
    # a tampered file fails the recomputation in one line
    doc = json.loads(run.path.read_text())
    doc["data"]["networks"]["mlp"]["precisions"]["fp16"]["pred"] = [0, 1]
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ResultError) as e:
        ch6.recorded_rows(results.load(bad))
    assert "has 2 predictions, expected 360" in one_line(e)
