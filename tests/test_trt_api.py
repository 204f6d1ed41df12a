"""The book's TensorRT code, checked against the real TensorRT 10.x and 11.x Python APIs.

The bindings wheels are imported for introspection only (see tests/trt_api/standins.c); the checks
read stubs generated from them. The planted misuses prove each check can fail.
"""
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from bookfiles import ROOT
from trt_api import REPORTS, api, bindings, checker

pytestmark = pytest.mark.network  # fetches the official wheels from PyPI once, then reads the cache


@pytest.fixture(scope="session")
def apis():
    return [api.load(bindings.stubs(v), v) for v in bindings.VERSIONS]


def check_snippet(apis, code):
    src = checker.Source("snippet.py", textwrap.dedent(code))
    return checker.check([src], apis).problems


def test_book_uses_only_names_every_supported_version_has(apis):
    report = checker.check(checker.book_sources(ROOT), apis)
    REPORTS.append(report.text())
    assert report.checked["11.4.0.106"] > 50, "the checker found too few TensorRT uses to be trusted"
    assert not report.problems, report.text()


PREAMBLE = """
import tensorrt as trt
logger = trt.Logger(trt.Logger.WARNING)
builder = trt.Builder(logger)
config = builder.create_builder_config()
network = builder.create_network()
engine = trt.Runtime(logger).deserialize_cuda_engine(b"")
ctx = engine.create_execution_context()
"""

MISUSES = [
    ("config.max_workspace_size = 1 << 30", {"10", "11"}, "IBuilderConfig has no attribute 'max_workspace_size'"),
    ("config.set_flag(trt.BuilderFlag.FP16)", {"11"}, "BuilderFlag has no attribute 'FP16'"),
    ("config.set_memory_pool_limt(trt.MemoryPoolType.WORKSPACE, 1 << 30)", {"10", "11"},
     "IBuilderConfig has no attribute 'set_memory_pool_limt'"),
    ("ctx.execute_async_v2([0, 0], 0)", {"10", "11"}, "IExecutionContext has no attribute 'execute_async_v2'"),
    ("print(trt.OptProfileSelector.kOPT)", {"10", "11"}, "tensorrt has no attribute 'OptProfileSelector'"),
    ("builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))", {"11"},
     "NetworkDefinitionCreationFlag has no attribute 'EXPLICIT_BATCH'"),
    ("config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE)", {"10", "11"},
     "IBuilderConfig.set_memory_pool_limit() takes (pool, pool_size)"),
    ("config.set_timing_cache(config.create_timing_cache(b''), ignore=True)", {"10", "11"},
     "keywords ['ignore']"),
    ("ctx.active_optimization_profile = 1", {"10", "11"}, "IExecutionContext.active_optimization_profile is read-only"),
    ("engine.num_bindings", {"10", "11"}, "ICudaEngine has no attribute 'num_bindings'"),
    ("network.add_input('x', trt.float32, (1, 3), 'extra')", {"10", "11"}, "INetworkDefinition.add_input() takes"),
    ("trt.Builder(logger).build_engine(network, config)", {"10", "11"}, "Builder has no attribute 'build_engine'"),
]


@pytest.mark.parametrize("line, majors, message", MISUSES, ids=[m[0][:40] for m in MISUSES])
def test_planted_misuse_is_reported(apis, line, majors, message):
    problems = check_snippet(apis, PREAMBLE + line)
    assert {p.version.split(".")[0] for p in problems} == majors, [str(p) for p in problems]
    assert all(message in p.message for p in problems), [str(p) for p in problems]
    assert all(p.where == f"snippet.py:{PREAMBLE.count(chr(10)) + 1}" for p in problems)


def test_the_preamble_itself_is_clean(apis):
    assert check_snippet(apis, PREAMBLE) == []


@pytest.mark.parametrize("gate", [
    "if trt_major(trt) < 11:\n    config.set_flag(trt.BuilderFlag.FP16)",
    "if trt_major(trt) >= 11:\n    raise RuntimeError('convert the model')\nconfig.set_flag(trt.BuilderFlag.FP16)",
    "if trt_major(trt) >= 11:\n    pass\nelse:\n    config.set_flag(trt.BuilderFlag.FP16)",
    "if hasattr(trt.BuilderFlag, 'FP16'):\n    config.set_flag(trt.BuilderFlag.FP16)",
    "if not hasattr(trt.NetworkDefinitionCreationFlag, 'EXPLICIT_BATCH'):\n    network = builder.create_network()\n"
    "else:\n    network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))",
])
def test_version_gated_uses_are_accepted(apis, gate):
    assert check_snippet(apis, PREAMBLE + gate) == []


def test_a_gate_on_the_wrong_side_is_still_reported(apis):
    problems = check_snippet(apis, PREAMBLE + "if trt_major(trt) >= 11:\n    config.set_flag(trt.BuilderFlag.FP16)")
    assert [p.version.split(".")[0] for p in problems] == ["11"]


def test_rebinding_a_name_forgets_its_tensorrt_type(apis):
    code = PREAMBLE + "t = network.add_input('x', trt.float32, (1,))\nfor t in [1, 2]:\n    t.bit_length()\n"
    assert check_snippet(apis, code) == []


CHAPTER6_FORMS = [  # checks added for chapter 6's debug-tensor code
    ("def f(net: trt.INetworkDefinition):\n    net.mark_debugg(None)", "INetworkDefinition has no attribute 'mark_debugg'"),
    ("c: trt.IExecutionContext = open_context()\nc.set_debug_listenr(None)",
     "IExecutionContext has no attribute 'set_debug_listenr'"),
    ("class L(trt.IDebugListener):\n    def process_debug_tensors(self, a, l, t, s, n, st):\n        pass",
     "IDebugListener has no method 'process_debug_tensors' to override"),
    ("class L(trt.IDebugListener):\n    def process_debug_tensor(self, addr, shape, name):\n        pass",
     "the override takes 3 argument(s)"),
]


@pytest.mark.parametrize("code, message", CHAPTER6_FORMS, ids=["param-annotation", "annotated-assignment",
                                                               "override-name", "override-arity"])
def test_annotations_and_interface_overrides_are_checked(apis, code, message):
    problems = check_snippet(apis, PREAMBLE + code)
    assert {p.version.split(".")[0] for p in problems} == {"10", "11"}, [str(p) for p in problems]
    assert all(message in p.message for p in problems), [str(p) for p in problems]


def test_a_correct_debug_listener_is_clean(apis):
    code = PREAMBLE + textwrap.dedent("""
        class L(trt.IDebugListener):
            def __init__(self):
                trt.IDebugListener.__init__(self)

            def process_debug_tensor(self, addr, location, type, shape, name, stream):
                return location == trt.TensorLocation.HOST

        c: trt.IExecutionContext = ctx
        c.set_debug_listener(L())
        c.set_tensor_debug_state("t", True)
        """)
    assert check_snippet(apis, code) == []


def test_misuse_planted_in_a_notebook_cell_is_reported_with_its_cell(apis, tmp_path):
    (tmp_path / "notebooks").mkdir()
    nb_path = tmp_path / "notebooks" / "07-batch-norm.ipynb"
    nb = json.loads((ROOT / "notebooks" / "07-batch-norm.ipynb").read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                        "source": "%%requires tensorrt gpu\nconfig.max_workspace_size = 1 << 30\n"})
    nb_path.write_text(json.dumps(nb))
    n_code = sum(c["cell_type"] == "code" for c in nb["cells"])
    problems = checker.check([checker.notebook_source(nb_path, tmp_path)], apis).problems
    assert [str(p) for p in problems] == [
        f"notebooks/07-batch-norm.ipynb:code cell {n_code}, line 2: [TensorRT {v}] IBuilderConfig has no "
        f"attribute 'max_workspace_size' to set" for v in bindings.VERSIONS]


@pytest.mark.parametrize("version", list(bindings.VERSIONS))
def test_helper_package_type_checks_against_the_real_stubs(version, tmp_path):
    stub_dir = bindings.stubs(version)
    cfg = ROOT / "tests" / "trt_api" / "mypy.ini"

    def mypy(root):
        env = {"MYPYPATH": str(stub_dir), "PATH": "/usr/bin:/bin"}
        return subprocess.run([sys.executable, "-m", "mypy", "--config-file", str(cfg), "--no-incremental",
                               "--cache-dir", str(tmp_path / "cache"), "trtfaq"],
                              capture_output=True, text=True, env=env, cwd=root)

    res = mypy(ROOT)
    assert res.returncode == 0, res.stdout + res.stderr
    shutil.copytree(ROOT / "trtfaq", tmp_path / "copy" / "trtfaq")
    planted = tmp_path / "copy" / "trtfaq" / "engine.py"
    text = planted.read_text()
    assert "    cfg = builder.create_builder_config()\n" in text
    planted.write_text(text.replace("    cfg = builder.create_builder_config()\n",
                                    "    cfg = builder.create_builder_config()\n    cfg.max_workspace_size = 1 << 30\n"))
    res = mypy(tmp_path / "copy")
    assert res.returncode == 1 and '"IBuilderConfig" has no attribute "max_workspace_size"' in res.stdout, res.stdout


def test_stand_ins_cannot_build_anything_and_stay_in_their_folder(tmp_path):
    version = "11.4.0.106"
    with bindings.introspection_env(version) as env:
        libs = env["LD_LIBRARY_PATH"]
        code = ("import tensorrt_bindings as trt\n"
                "print(trt.__version__)\n"
                "try:\n    trt.Builder(trt.Logger())\nexcept TypeError as e:\n    print(e)\n")
        res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.stdout.splitlines() == [version, "pybind11::init(): factory function returned nullptr"], res.stderr
    assert not shutil.os.path.exists(libs)
    for folder in (ROOT / "trtfaq", ROOT / "notebooks", ROOT / "tests", bindings.cache_root()):
        assert not list(folder.rglob("*.so*")), f"a stand-in library escaped into {folder}"


def test_a_subpackage_misuse_fails_the_check(apis, tmp_path):
    """The checker reads every module of the package, subfolders included."""
    shutil.copytree(ROOT / "trtfaq", tmp_path / "trtfaq")
    (tmp_path / "notebooks").mkdir()
    planted = tmp_path / "trtfaq" / "chapters" / "planted.py"
    planted.write_text("import tensorrt as trt\n\n\ndef fp16(config: trt.IBuilderConfig):\n"
                       "    config.set_flag(trt.BuilderFlag.FP16)\n")
    problems = [str(p) for p in checker.check(checker.book_sources(tmp_path), apis).problems]
    assert problems == ["trtfaq/chapters/planted.py:5: [TensorRT 11.4.0.106] BuilderFlag has no attribute 'FP16'"]
