import pathlib

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


def one_line(exc_info) -> str:
    """The message of a raised book error, asserting it is one line."""
    msg = str(exc_info.value)
    assert msg and "\n" not in msg, f"not a one-line error: {msg!r}"
    return msg


def pytest_terminal_summary(terminalreporter):
    """Print the TensorRT API checker's report (versions, names checked, problems) at the end."""
    try:
        from trt_api import REPORTS
    except ImportError:
        return
    for text in REPORTS:
        terminalreporter.write_sep("-", "TensorRT API check")
        terminalreporter.write_line(text)
