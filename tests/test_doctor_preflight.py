import json
import shutil

import pytest

from trtfaq.tools import doctor, preflight

from bookfiles import ROOT, toc_notebooks


@pytest.fixture
def cpu_machine(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: None)  # no nvidia-smi
    monkeypatch.setattr(fresh_env.importlib.util, "find_spec",
                        lambda name, _orig=fresh_env.importlib.util.find_spec: None if name == "tensorrt" else _orig(name))
    monkeypatch.setattr(fresh_env, "cuda_runtime", lambda: None)
    return fresh_env


def by_item(results):
    return {c.item: c for c in results}


def test_cpu_machine_is_ready_with_warnings(cpu_machine, capsys):
    results = by_item(doctor.checks())
    assert results["GPU"].status == "WARN" and results["TensorRT"].status == "WARN"
    assert results["ONNX Runtime"].status == "OK" and results["numpy"].status == "OK"
    assert doctor.main() == 0
    out = capsys.readouterr().out
    assert "WARN  GPU            none found" in out and out.rstrip().endswith("Ready, with 3 warning(s): see above.")
    assert "Traceback" not in out


def test_require_gpu_turns_missing_gpu_into_failure(cpu_machine, capsys):
    assert doctor.main(require_gpu=True) == 1
    out = capsys.readouterr().out
    assert "FAIL  GPU" in out and "FAIL  TensorRT" in out and "3 check(s) failed" in out


def test_broken_tensorrt_install_fails_with_a_fix(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "tensorrt", lambda: (None, "import failed: libnvinfer.so.10: cannot open"))
    check = by_item(doctor.checks())["TensorRT"]
    assert check.status == "FAIL" and "cannot open" in check.detail and "LD_LIBRARY_PATH" in check.fix


def test_unsupported_tensorrt_major_fails(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "tensorrt", lambda: (fresh_env.TensorRTInfo("8.6.1", None), None))
    assert by_item(doctor.checks())["TensorRT"].status == "FAIL"


def test_gpu_without_cuda_python_fails_and_low_disk_warns(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: "0, NVIDIA L4, 8.9, 23034, 100, 570.1\n")
    monkeypatch.setattr(fresh_env, "cuda_runtime", lambda: None)
    results = by_item(doctor.checks(disk_free_bytes=500 * 2**20))
    assert results["cuda-python"].status == "FAIL"
    assert results["GPU 0"].status == "WARN"          # 100 MiB free on the GPU
    assert results["engine cache"].status == "WARN"
    assert by_item(doctor.checks(disk_free_bytes=10 * 2**20))["engine cache"].status == "FAIL"


def test_preflight_reads_the_same_chapters_as_the_toc():
    assert preflight.toc_notebooks(ROOT) == toc_notebooks()


def test_run_all_reports_every_chapter_and_fails_on_a_broken_one(tmp_path, capsys):
    (tmp_path / "notebooks").mkdir()
    good = ROOT / "notebooks" / "07-batch-norm.ipynb"
    shutil.copy(good, tmp_path / "notebooks" / "07-batch-norm.ipynb")
    nb = json.loads(good.read_text())
    nb["cells"].append({"id": "planted", "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": "raise ValueError('planted failure')"})
    (tmp_path / "notebooks" / "99-broken.ipynb").write_text(json.dumps(nb))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n"
                                       "  - file: notebooks/07-batch-norm\n  - file: notebooks/99-broken\n")
    out = tmp_path / "report.md"
    assert preflight.main(tmp_path, out, timeout=120) == 1
    progress = capsys.readouterr().out
    assert "[1/2] notebooks/07-batch-norm ... ok" in progress and "[2/2] notebooks/99-broken ... FAILED" in progress
    text = out.read_text()
    assert "| 07-batch-norm | ok |" in text and "| 99-broken | FAILED |" in text
    assert "ValueError: planted failure" in text and "1 of 2 chapters ran; 1 failed." in text
    code = [c for c in nb["cells"][:-1] if c["cell_type"] == "code"]
    guarded = sum("".join(c["source"]).startswith("%%requires") for c in code)
    assert "| 07-batch-norm | ok | " in text and f" | {len(code)} | {guarded} |" in text  # cells run, TensorRT cells skipped
