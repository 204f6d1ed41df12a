import pytest
from conftest import one_line

from trtfaq import requires
from trtfaq.errors import BookError, GPUUnavailable, TensorRTUnavailable


@pytest.fixture
def no_trt_no_gpu(fresh_env, monkeypatch):
    monkeypatch.setattr(fresh_env.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(fresh_env, "_run", lambda cmd, timeout=10.0: None)
    return fresh_env


def test_missing_lists_skip_lines_in_order(no_trt_no_gpu):
    assert requires.missing(["tensorrt", "gpu"]) == ["TensorRT not installed: skipped (see Setup)",
                                                      "No CUDA GPU: skipped (see Setup)"]


def test_unknown_requirement_is_a_one_line_error():
    with pytest.raises(BookError) as e:
        requires.missing(["tensorrrt"])
    assert "unknown requirement 'tensorrrt'" in one_line(e)


def test_require_tensorrt_without_tensorrt(no_trt_no_gpu):
    with pytest.raises(TensorRTUnavailable) as e:
        requires.require_tensorrt()
    assert one_line(e) == "TensorRT is not available (not installed): install it as the Setup page says"


def test_require_gpu_without_gpu(no_trt_no_gpu):
    with pytest.raises(GPUUnavailable) as e:
        requires.require_gpu()
    assert "no CUDA GPU found" in one_line(e)


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "trtfaq")
    yield ip
    InteractiveShell.clear_instance()


def test_requires_magic_skips_the_body_in_one_line(shell, no_trt_no_gpu, capsys):
    shell.run_cell("%%requires tensorrt gpu\nran = True\nraise SystemExit('must not run')")
    assert capsys.readouterr().out == "TensorRT not installed: skipped (see Setup)\n"
    assert "ran" not in shell.user_ns


def test_requires_magic_runs_the_body_when_met(shell, monkeypatch, capsys):
    monkeypatch.setitem(requires.CHECKS, "tensorrt", (lambda: True, "never shown"))
    shell.run_cell("%%requires tensorrt\nran = 41 + 1\nprint('body ran')")
    assert shell.user_ns["ran"] == 42
    assert capsys.readouterr().out == "body ran\n"


def test_book_errors_show_as_one_line_in_a_kernel():
    import nbclient
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook(cells=[new_code_cell("%load_ext trtfaq"),
                             new_code_cell("from trtfaq.errors import InputError\nraise InputError('bad shape\\n(2, 3)')"),
                             new_code_cell("raise ValueError('ordinary errors keep their traceback')")])
    nbclient.NotebookClient(nb, timeout=60, allow_errors=True, kernel_name="python3").execute()
    book_error = nb.cells[1].outputs[0]
    assert book_error.output_type == "error" and book_error.traceback == ["InputError: bad shape (2, 3)"]
    assert len(nb.cells[2].outputs[0].traceback) > 1


def test_modelopt_requirement_is_looked_up_without_importing_it(monkeypatch, shell, capsys):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "modelopt" else object())
    assert requires.missing(["modelopt"]) == ["NVIDIA ModelOpt not installed: skipped (pip install nvidia-modelopt[onnx])"]
    shell.run_cell("%%requires modelopt\nraise SystemExit('must not run')")
    assert capsys.readouterr().out.startswith("NVIDIA ModelOpt not installed: skipped")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    assert requires.missing(["modelopt"]) == []
