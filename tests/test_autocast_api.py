"""Chapter 6's claims about ModelOpt AutoCast, checked against the real package source.

``nvidia-modelopt[onnx]`` needs PyTorch and onnxruntime-gpu, so it is not installed here; its wheel
(pure Python, about 2 MB) is downloaded once and read with ``ast``: the function and keywords the
chapter calls exist, and the defaults the chapter states are the package's.
"""
import ast
import json
import subprocess
import sys
import zipfile

import pytest

from bookfiles import ROOT
from trt_api.bindings import cache_root

pytestmark = pytest.mark.network  # fetches the official wheels from PyPI once, then reads the cache

MODELOPT = "nvidia-modelopt==0.47.0"


@pytest.fixture(scope="module")
def convert_py() -> ast.Module:
    dest = cache_root() / "wheels"
    found = sorted(dest.glob("nvidia_modelopt-0.47.0-*.whl"))
    if not found:
        dest.mkdir(parents=True, exist_ok=True)
        res = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                              "--dest", str(dest), MODELOPT], capture_output=True, text=True)
        found = sorted(dest.glob("nvidia_modelopt-0.47.0-*.whl"))
        assert res.returncode == 0 and found, res.stderr[-300:]
    with zipfile.ZipFile(found[0]) as whl:
        return ast.parse(whl.read("modelopt/onnx/autocast/convert.py"))


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def _defaults(fn: ast.FunctionDef) -> dict:
    args = fn.args.args
    return {a.arg: d for a, d in zip(args[len(args) - len(fn.args.defaults):], fn.args.defaults)}


def test_chapter_claims_match_autocast_defaults(convert_py):
    fn = _function(convert_py, "convert_to_mixed_precision")
    defaults = _defaults(fn)
    assert isinstance(defaults["keep_io_types"], ast.Constant) and defaults["keep_io_types"].value is False
    assert ast.unparse(defaults["data_max"]) == "DEFAULT_DATA_MAX"
    consts = {t.id: ast.unparse(n.value) for n in convert_py.body if isinstance(n, ast.Assign)
              for t in n.targets if isinstance(t, ast.Name)}
    assert consts["DEFAULT_DATA_MAX"] == "512"
    assert defaults["calibration_data"].value is None  # random inputs unless given


def test_the_chapter_calls_autocast_with_existing_keywords(convert_py):
    params = {a.arg for a in _function(convert_py, "convert_to_mixed_precision").args.args}
    nb = json.loads((ROOT / "notebooks" / "06-wrong-answers.ipynb").read_text())
    calls = []
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and "convert_to_mixed_precision(" in src:
            body = "\n".join(line for line in src.splitlines() if not line.startswith("%%"))
            calls += [n for n in ast.walk(ast.parse(body)) if isinstance(n, ast.Call)
                      and getattr(n.func, "id", None) == "convert_to_mixed_precision"]
    assert calls, "chapter 6 no longer calls AutoCast: update this test"
    for call in calls:
        assert not call.args and {k.arg for k in call.keywords} <= params
