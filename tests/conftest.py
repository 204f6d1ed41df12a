import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_env(monkeypatch):
    """Clear the environment probes' per-process caches before and after a test."""
    from trtfaq import env

    probes = (env.gpus, env.cuda_runtime, env.tensorrt, env.onnxruntime)
    for p in probes:
        p.cache_clear()
    yield env
    for p in probes:
        p.cache_clear()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory):
    """The site, built once per session with warnings as errors; the path of its HTML folder."""
    out = tmp_path_factory.mktemp("site")
    jb = pathlib.Path(sys.executable).parent / "jupyter-book"  # the one installed beside this Python
    res = subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(out), "--warningiserror", "--keep-going"],
                         capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, f"site build failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    return out / "_build" / "html"


def pytest_terminal_summary(terminalreporter):
    """Print the reports of the TensorRT API check and of the double pass at the end of the run."""
    import importlib

    for module, name, title in (("trt_api", "REPORTS", "TensorRT API check"),
                                ("test_double_pass", "REPORT", "Chapters under the TensorRT test double")):
        try:
            texts = getattr(importlib.import_module(module), name)
        except ImportError:
            continue
        for text in texts:
            terminalreporter.write_sep("-", title)
            terminalreporter.write_line(text)
