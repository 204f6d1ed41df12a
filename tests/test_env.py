import subprocess
import sys


def test_detect_never_raises_and_reports_every_item(fresh_env, monkeypatch):
    def broken(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: "garbage, not csv\n")
    monkeypatch.setattr(fresh_env.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(fresh_env.importlib, "import_module", broken)
    e = fresh_env.detect()
    assert e.gpus == [] and e.cuda_runtime is None and e.onnxruntime is None
    assert e.tensorrt is None and e.tensorrt_problem == "import failed: tensorrt: cannot open shared object file"
    assert e.lines() == ["GPU: none found", "NVIDIA driver: not found", "CUDA runtime (cuda-python): not found",
                         "TensorRT: not available (import failed: tensorrt: cannot open shared object file)",
                         "ONNX Runtime: not installed"]


def test_import_has_no_side_effects():
    code = ("import subprocess, trtfaq, trtfaq.env, trtfaq.engine, trtfaq.timing;"
            "import sys; assert 'tensorrt' not in sys.modules and 'onnxruntime' not in sys.modules")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == ""


def test_nvidia_smi_output_is_parsed(fresh_env, monkeypatch):
    out = "0, NVIDIA H100 80GB HBM3, 9.0, 81559, 80000, 580.159.04\n1, NVIDIA H100 80GB HBM3, 9.0, 81559, 1000, 580.159.04\n"
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: out)
    gpus, driver = fresh_env.gpus()
    assert [g.index for g in gpus] == [0, 1]
    assert gpus[0].name == "NVIDIA H100 80GB HBM3" and gpus[0].compute_capability == "9.0"
    assert gpus[1].memory_free_mib == 1000 and driver == "580.159.04"


def test_missing_nvidia_smi_means_no_gpu(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: None)
    assert fresh_env.gpus() == ([], None)
    assert not fresh_env.has_gpu()
    assert "GPU: none found" in str(fresh_env.detect())


def test_tensorrt_absent_is_reported_not_raised(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env.importlib.util, "find_spec", lambda name: None)
    assert fresh_env.tensorrt() == (None, "not installed")
    assert "TensorRT: not available (not installed)" in str(fresh_env.detect())


def _fake_package(tmp_path, body):
    pkg = tmp_path / "tensorrt"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(body)
    return tmp_path


def test_tensorrt_stubs_package_is_not_mistaken_for_tensorrt(fresh_env, tmp_path, monkeypatch):
    # PyPI's tensorrt-stubs installs an empty 'tensorrt' package with no API.
    monkeypatch.syspath_prepend(str(_fake_package(tmp_path, "")))
    monkeypatch.delitem(sys.modules, "tensorrt", raising=False)
    info, why = fresh_env.tensorrt()
    assert info is None and "without the TensorRT API" in why


def test_tensorrt_whose_libraries_are_missing_is_reported(fresh_env, tmp_path, monkeypatch):
    body = "raise OSError('libnvinfer.so.11: cannot open shared object file')\n"
    monkeypatch.syspath_prepend(str(_fake_package(tmp_path, body)))
    monkeypatch.delitem(sys.modules, "tensorrt", raising=False)
    info, why = fresh_env.tensorrt()
    assert info is None and why == "import failed: libnvinfer.so.11: cannot open shared object file"


def test_loaded_libraries_reads_proc_maps(tmp_path):
    from trtfaq.env import loaded_libraries

    maps = tmp_path / "maps"
    maps.write_text("7f00-7f01 r-xp 0 00:00 1 /opt/trt/lib/libnvinfer.so.10.16.1\n"
                    "7f02-7f03 r-xp 0 00:00 2 /usr/lib/libc.so.6\n"
                    "7f04-7f05 r--p 0 00:00 1 /opt/trt/lib/libnvinfer.so.10.16.1\n")
    assert loaded_libraries("libnvinfer.so", str(maps)) == ["/opt/trt/lib/libnvinfer.so.10.16.1"]
    assert loaded_libraries("libnvinfer.so", str(tmp_path / "missing")) == []


def test_cli_env_runs(capsys):
    import onnxruntime

    from trtfaq.env import detect
    from trtfaq.tools.cli import main

    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert out == str(detect()) + "\n"
    assert f"ONNX Runtime: {onnxruntime.__version__} (" in out
