import os
import subprocess
import sys

import pytest

from trtfaq import requires
from trtfaq.errors import BookError, GPUUnavailable, TensorRTUnavailable

from bookfiles import ROOT
from helpers import one_line


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


# --- an error inside a guarded cell whose requirements are met ends the cell as an error ----------
# The requirement is met by a stand-in ``tensorrt`` package on PYTHONPATH (a module with ``Builder``
# and ``__version__``): no TensorRT is needed to show that the error is not swallowed.

FAILING = "%%requires tensorrt\nprint('body ran')\nundefined_name_in_a_tensorrt_cell\n"


@pytest.fixture
def trt_met(tmp_path, monkeypatch):
    pkg = tmp_path / "standin" / "tensorrt"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("__version__ = '0.0.0'\nclass Builder: pass\n")
    path = os.pathsep.join([str(tmp_path / "standin"), str(ROOT)])
    monkeypatch.setenv("PYTHONPATH", path)  # kernels and subprocesses started below inherit it
    return tmp_path


def failing_notebook(folder, stored_skip_line=True):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    guarded = new_code_cell(FAILING, metadata={"tags": ["nbval-ignore-output"]})
    if stored_skip_line:
        guarded.outputs = [nbformat.v4.new_output("stream", name="stdout",
                                                  text="TensorRT not installed: skipped (see Setup)\n")]
    nb = new_notebook(cells=[new_code_cell("%load_ext trtfaq"), guarded, new_code_cell("print('after')")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "broken.ipynb"
    nbformat.write(nb, path)
    return path


def test_guarded_error_stops_run_all_in_nbclient(trt_met):
    import nbclient
    import nbformat

    nb = nbformat.read(failing_notebook(trt_met), as_version=4)
    with pytest.raises(nbclient.exceptions.CellExecutionError) as e:
        nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert (e.value.ename, e.value.evalue) == ("NameError", "name 'undefined_name_in_a_tensorrt_cell' is not defined")
    assert nb.cells[1].outputs[0]["text"] == "body ran\n"
    assert nb.cells[1].outputs[-1]["output_type"] == "error"
    assert not nb.cells[2].get("outputs"), "the cell after the failing one must not run"


def test_guarded_error_fails_run_all_with_its_first_line(trt_met):
    (trt_met / "notebooks").mkdir()
    failing_notebook(trt_met / "notebooks")
    (trt_met / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n- file: notebooks/broken\n")
    res = subprocess.run([sys.executable, "-m", "trtfaq", "run-all", "--root", str(trt_met),
                          "--report", str(trt_met / "report.md")], capture_output=True, text=True, cwd=trt_met)
    assert res.returncode == 1, res.stdout + res.stderr
    assert "notebooks/broken ... FAILED" in res.stdout
    assert "NameError: name 'undefined_name_in_a_tensorrt_cell' is not defined" in res.stdout
    assert "0 of 1 chapters ran; 1 failed." in (trt_met / "report.md").read_text()


def test_guarded_error_fails_make_notebooks(trt_met):
    failing_notebook(trt_met)
    res = subprocess.run(["make", "-s", "-C", str(ROOT), "notebooks", f"NBDIR={trt_met}"],
                         capture_output=True, text=True)
    assert res.returncode != 0, res.stdout + res.stderr
    assert "undefined_name_in_a_tensorrt_cell" in res.stdout + res.stderr


def test_guarded_error_fails_nbval(trt_met):
    path = failing_notebook(trt_met)
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                          "--nbval", "--nbval-current-env", str(path)], capture_output=True, text=True, cwd=trt_met)
    assert res.returncode == 1, res.stdout[-2000:]
    assert "undefined_name_in_a_tensorrt_cell" in res.stdout
