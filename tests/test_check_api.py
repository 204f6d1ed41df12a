"""``trtfaq check-api``: readers' TensorRT code checked against the API data the package ships.

The data (``trtfaq/data/trt_api.json.gz``) is made from the real bindings wheels by
``tests/trt_api/make_surface.py``; the network-marked tests rebuild it and compare. Everything else
reads the shipped file only, as a reader's machine does.
"""
import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trtfaq.tools import apisurface, check_api

from bookfiles import ROOT
from trt_api import bindings, changes_page, checker

SURFACE = apisurface.load()
NEWEST_10, NEWEST_11 = check_api.default_targets(SURFACE)


def run_cli(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "trtfaq", "check-api", *args], capture_output=True, text=True,
                          input=stdin, cwd=cwd or ROOT)


def findings(code, targets=None, **kw):
    src = checker.Source("snippet.py", textwrap.dedent(code))
    return check_api.check_sources([src], targets or [NEWEST_10, NEWEST_11], SURFACE, **kw).findings


def lines(found, severity=None):
    return sorted((f.line, f.severity, f.name, tuple(f.releases)) for f in found
                  if severity is None or f.severity == severity)


# ----- the data ----------------------------------------------------------------------------------
def test_data_covers_8_6_and_every_10_and_11_minor_release():
    assert SURFACE.releases == list(bindings.RELEASES)
    assert SURFACE.releases[0] == "8.6.1"
    minors = {".".join(r.split(".")[:2]) for r in SURFACE.releases}
    assert {f"10.{m}" for m in range(17)} <= minors and {f"11.{m}" for m in range(5)} <= minors
    assert set(bindings.VERSIONS) <= set(SURFACE.releases)
    assert apisurface.DATA.stat().st_size < 200_000, "keep the shipped data small"


def test_data_answers_what_the_book_says():
    has = {r: SURFACE.api(r) for r in SURFACE.releases}
    assert has["8.6.1"].has("IBuilderConfig", "max_workspace_size")
    assert not has["10.0.1"].has("IBuilderConfig", "max_workspace_size")
    assert SURFACE.present("BuilderFlag", "FP16")[-1] == "10.16.1.11"
    assert SURFACE.present("", "UffParser") == ["8.6.1"]
    assert "Deprecated in TensorRT 10.12" in SURFACE.deprecation("10.16.1.11", "BuilderFlag", "FP16")
    # a setter-only property, which stub generators leave out, read from the real module
    assert has["10.16.1.11"].lookup("Runtime", "gpu_allocator") == ("property", (None, True))
    # pure-Python names of the wheel's __init__.py
    assert has["11.4.0.106"].module_lookup("volume") is not None
    assert SURFACE.resolve("10.8") == "10.8.0.43" and SURFACE.resolve("11") == NEWEST_11
    assert SURFACE.resolve("latest") == SURFACE.releases[-1]
    with pytest.raises(LookupError):
        SURFACE.resolve("9.2")


@pytest.mark.network
def test_shipped_data_is_made_from_the_real_bindings():
    """Rebuild the data from the wheels (cached after the first run) and compare, and check that the
    book's own check (stubs) and the data agree on the two versions the book supports."""
    res = subprocess.run([sys.executable, str(ROOT / "tests" / "trt_api" / "make_surface.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
    from trt_api import api

    for version in bindings.VERSIONS:
        stub = api.load(bindings.stubs(version), version)
        data = SURFACE.api(version)
        for qual, info in stub.classes.items():
            assert data.classes[qual].methods == info.methods, qual
            assert set(info.properties) <= set(data.classes[qual].properties), qual


def test_reading_the_data_needs_no_download_no_compiler_and_no_tensorrt(tmp_path):
    (tmp_path / "x.py").write_text("import tensorrt as trt\ntrt.Builder(trt.Logger()).build_engine(None, None)\n")
    code = ("import sys; from trtfaq.tools import cli; rc = cli.main(['check-api', 'x.py']); "
            "bad = [m for m in ('socket', 'subprocess', 'urllib.request', 'tensorrt', 'ctypes') if m in sys.modules]; "
            "print('loaded', bad); sys.exit(rc)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                         env={"PATH": "", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "PIP_NO_INDEX": "1"})
    assert res.returncode == 1, res.stderr
    assert "Builder has no attribute 'build_engine'" in res.stdout and "loaded []" in res.stdout, res.stdout


def test_the_data_is_package_data():
    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.setuptools.package-data]", 1)[1].split("\n[", 1)[0]
    assert "data/*.json.gz" in section


# ----- the command -------------------------------------------------------------------------------
OLD = """\
import tensorrt as trt

logger = trt.Logger(trt.Logger.WARNING)
builder = trt.Builder(logger)
network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
config = builder.create_builder_config()
config.max_workspace_size = 1 << 30
config.set_flag(trt.BuilderFlag.FP16)
engine = builder.build_engine(network, config)


def infer(context, bindings, stream):
    context.execute_async_v2(bindings=bindings, stream_handle=stream.handle)
"""

EXPECTED = """\
old.py:5: error: NetworkDefinitionCreationFlag has no attribute 'EXPLICIT_BATCH'  [11.4.0.106]
    history: last in 10.16.1.11, gone from 11.0.0.114 on (deprecated: Ignored because networks are always "explicit batch" in TensorRT 10.0.)
    instead: Builder.create_network() with no flag (10.x ignores it; explicit batch is the only mode)
old.py:5: warning: NetworkDefinitionCreationFlag.EXPLICIT_BATCH is deprecated: Ignored because networks are always "explicit batch" in TensorRT 10.0.  [10.16.1.11]
    history: gone from 11.0.0.114 on
    instead: Builder.create_network() with no flag (10.x ignores it; explicit batch is the only mode)
old.py:7: error: IBuilderConfig has no attribute 'max_workspace_size' to set  [10.16.1.11, 11.4.0.106]
    history: last in 8.6.1, gone from 10.0.1 on
    instead: IBuilderConfig.set_memory_pool_limit(MemoryPoolType.WORKSPACE, size); read it with IBuilderConfig.get_memory_pool_limit(MemoryPoolType.WORKSPACE)
    NVIDIA: NVIDIA/TensorRT v8.6.1 include/NvInfer.h:9201: "Deprecated in TensorRT 8.3. Superseded by IBuilderConfig::setMemoryPoolLimit() with MemoryPoolType::kWORKSPACE."
old.py:8: error: BuilderFlag has no attribute 'FP16'  [11.4.0.106]
    history: last in 10.16.1.11, gone from 11.0.0.114 on (deprecated: Deprecated in TensorRT 10.12. Superseded by strong typing.)
    instead: strong typing: give the model FP16 tensors (NVIDIA ModelOpt AutoCast converts an ONNX model)
    NVIDIA: NVIDIA's 10.x-to-11.x migration guide: "Strong typing with ModelOpt AutoCast"
old.py:8: warning: BuilderFlag.FP16 is deprecated: Deprecated in TensorRT 10.12. Superseded by strong typing.  [10.16.1.11]
    history: gone from 11.0.0.114 on
    instead: strong typing: give the model FP16 tensors (NVIDIA ModelOpt AutoCast converts an ONNX model)
    NVIDIA: NVIDIA's 10.x-to-11.x migration guide: "Strong typing with ModelOpt AutoCast"
old.py:9: error: Builder has no attribute 'build_engine'  [10.16.1.11, 11.4.0.106]
    history: last in 8.6.1, gone from 10.0.1 on
    instead: Builder.build_serialized_network(network, config), then Runtime.deserialize_cuda_engine(plan)
    NVIDIA: NVIDIA/TensorRT v8.6.1 include/NvInfer.h:10075: "Deprecated in TensorRT 8.0. Superseded by IBuilder::buildSerializedNetwork()."
old.py:13: maybe: IExecutionContext has no attribute 'execute_async_v2' (if context is an IExecutionContext)  [10.16.1.11, 11.4.0.106]
    history: last in 8.6.1, gone from 10.0.1 on
    instead: IExecutionContext.set_tensor_address(name, ptr) for every I/O tensor, then IExecutionContext.execute_async_v3(stream)
    NVIDIA: NVIDIA/TensorRT v8.6.1 include/NvInferRuntime.h:3089: "Superseded by enqueueV3(). Deprecated in TensorRT 8.5"
Checked 1 file(s), 38 TensorRT use(s), against TensorRT 10.16.1.11, 11.4.0.106: 4 error(s), 1 maybe, 2 warning(s).
"""


def test_an_8_6_snippet_gets_what_failed_when_and_what_instead(tmp_path):
    (tmp_path / "old.py").write_text(OLD)
    res = run_cli("old.py", cwd=tmp_path)
    assert (res.returncode, res.stdout, res.stderr) == (1, EXPECTED, "")


def test_exact_and_quiet_options_and_json(tmp_path):
    (tmp_path / "old.py").write_text(OLD)
    res = run_cli("old.py", "--exact", "--no-deprecated", "--json", cwd=tmp_path)
    out = json.loads(res.stdout)
    assert res.returncode == 1
    assert [(f["line"], f["severity"], f["name"]) for f in out["findings"]] == [
        (5, "error", "EXPLICIT_BATCH"), (7, "error", "max_workspace_size"), (8, "error", "FP16"),
        (9, "error", "build_engine")]
    assert out["findings"][1]["releases"] == [NEWEST_10, NEWEST_11] and out["targets"] == [NEWEST_10, NEWEST_11]
    assert out["findings"][1]["hint"].startswith("`IBuilderConfig.set_memory_pool_limit")


def test_targets_by_prefix_all_releases_and_bad_ones(tmp_path):
    (tmp_path / "old.py").write_text(OLD)
    res = run_cli("old.py", "-t", "10.8", "--json", cwd=tmp_path)
    assert json.loads(res.stdout)["targets"] == ["10.8.0.43"]
    res = run_cli("old.py", "-t", "all", "--json", cwd=tmp_path)
    assert json.loads(res.stdout)["targets"] == SURFACE.releases[1:]
    res = run_cli("old.py", "-t", "9", cwd=tmp_path)
    assert res.returncode == 2 and "no TensorRT release '9'" in res.stderr
    assert run_cli(cwd=tmp_path).returncode == 2
    assert run_cli("--releases").stdout.split() == SURFACE.releases


def test_clean_code_exits_0_and_stdin_works():
    code = ("import tensorrt as trt\nb = trt.Builder(trt.Logger())\nc = b.create_builder_config()\n"
            "c.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1 << 30)\n")
    res = run_cli("-", stdin=code)
    assert res.returncode == 0 and res.stdout.endswith("0 error(s), 0 maybe, 0 warning(s).\n"), res.stdout


def test_folders_notebooks_and_files_that_are_not_python_3(tmp_path):
    (tmp_path / "pkg" / ".venv" / "lib").mkdir(parents=True)
    (tmp_path / "pkg" / ".venv" / "lib" / "skipped.py").write_text("import tensorrt as trt\ntrt.UffParser()\n")
    (tmp_path / "pkg" / "py2.py").write_text("import tensorrt as trt\nprint 'hello'\n")
    (tmp_path / "pkg" / "latin1.py").write_bytes(b"# caf\xe9\nimport tensorrt as trt\ntrt.CaffeParser()\n")
    (tmp_path / "pkg" / "broken.ipynb").write_text("{not json")
    nb = {"cells": [{"cell_type": "markdown", "source": "x"},
                    {"cell_type": "code", "source": ["%matplotlib inline\n", "import tensorrt as trt\n"]},
                    {"cell_type": "code", "source": "e = trt.Runtime(trt.Logger()).deserialize_cuda_engine(b'')\n"
                                                    "n = e.num_bindings\n"}]}
    (tmp_path / "pkg" / "nb.ipynb").write_text(json.dumps(nb))
    res = run_cli("pkg", "--json", cwd=tmp_path)
    out = json.loads(res.stdout)
    assert sorted((f["where"], f["name"]) for f in out["findings"]) == [
        ("pkg/latin1.py:3", "CaffeParser"), ("pkg/nb.ipynb:code cell 2, line 2", "num_bindings")]
    assert any(n.startswith("pkg/py2.py: skipped, not valid Python 3") for n in out["notes"]), out["notes"]
    assert any(n.startswith("pkg/broken.ipynb: could not read it") for n in out["notes"]), out["notes"]
    assert out["files"] == 2


def test_changes_table_option_prints_the_generated_table():
    res = run_cli("--changes-table")
    assert res.returncode == 0 and res.stdout == check_api.changes_table()


# ----- what is found, and what is left alone ------------------------------------------------------------
@pytest.mark.parametrize("gate", [
    "if int(trt.__version__.split('.')[0]) < 10:\n    config.max_workspace_size = 1",
    "from packaging import version\nif version.parse(trt.__version__) < version.parse('10.0'):\n"
    "    config.max_workspace_size = 1",
    "V = tuple(map(int, trt.__version__.split('.')[:2]))\nif V >= (10, 0):\n    pass\nelse:\n"
    "    config.max_workspace_size = 1",
    "TRT8 = trt.__version__.startswith('8.')\nif TRT8:\n    config.max_workspace_size = 1",
    "if mod.version(trt.__version__) < mod.version('8.6'):\n    config.max_workspace_size = 1",
    "if hasattr(config, 'max_workspace_size'):\n    config.max_workspace_size = 1",
    "if 'EXPLICIT_BATCH' in trt.NetworkDefinitionCreationFlag.__members__:\n"
    "    f = trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH",
    "try:\n    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1)\nexcept AttributeError:\n"
    "    config.max_workspace_size = 1",
    "try:\n    config.max_workspace_size = 1\nexcept (TypeError, AttributeError):\n    pass",
    "import contextlib\nwith contextlib.suppress(AttributeError):\n    config.max_workspace_size = 1",
    "x = hasattr(config, 'max_workspace_size') and config.max_workspace_size",
    "def f(engine):\n    return engine.device_memory_size_v2 if hasattr(engine, 'device_memory_size_v2') "
    "else engine.device_memory_size",
    "if int(trt.__version__[0]) == 8:\n    import sys\n    sys.exit('needs 10')\nconfig.set_flag(trt.BuilderFlag.FP16)",
    "import pytest\n@pytest.mark.skipif(int(trt.__version__.split('.')[0]) >= 10, reason='8.x only')\n"
    "def test_old():\n    config.max_workspace_size = 1",
    "def _legacy(c):\n    c.max_workspace_size = 1\nif trt.__version__ < '10':\n    _legacy(config)",
])
def test_version_gated_code_is_left_alone(gate):
    prelude = "import tensorrt as trt\nconfig = trt.Builder(trt.Logger()).create_builder_config()\n"
    found = findings(prelude + gate, targets=[NEWEST_10], deprecated=False)
    assert found == [], [f.message for f in found]


GUARD_WRAPPER = """
    import tensorrt as trt
    config = trt.Builder(trt.Logger()).create_builder_config()

    def try_run(func, name):                       # Polygraphy's helper (backend/trt/config.py)
        try:
            return func()
        except {caught}:
            raise RuntimeError(name + " is not available in this TensorRT")

    def set_selector():
        config.algorithm_selector = None           # removed in 11.0
    try_run(set_selector, "algorithm_selector")
    try_run(lambda: config.set_quantization_flag(None), "quantization_flag")   # removed in 11.0
    """


def test_a_lambda_or_function_run_by_a_helper_inside_try_except_attribute_error_is_gated():
    assert findings(GUARD_WRAPPER.format(caught="AttributeError"), targets=[NEWEST_11], deprecated=False) == []
    # planted: a helper that catches something else does not gate what it runs
    found = findings(GUARD_WRAPPER.format(caught="ValueError"), targets=[NEWEST_11], deprecated=False)
    assert [(f.line, f.name) for f in found] == [(12, "algorithm_selector"), (14, "set_quantization_flag")]


def test_submodules_private_names_and_self_annotations_are_not_reported():
    code = """
        import tensorrt as trt
        ok = isinstance(None, trt.tensorrt.ITensor)        # the compiled module the package re-exports
        pkg = trt._package_name == "tensorrt"              # a name a wrapper set on the module
        wrong = trt.tensorrt.NoSuchLayer                   # still checked through the submodule

        class Allocator(trt.IGpuAllocator):
            def __init__(self):
                super().__init__()
                self.mems = set()
            def deallocate(self: trt.IGpuAllocator, memory):   # mmdeploy annotates self with the base class
                self.mems.discard(memory)                  # the subclass's own attribute
                return True
        """
    assert [(f.line, f.name) for f in findings(code, targets=[NEWEST_10], deprecated=False)] == [(5, "NoSuchLayer")]


def test_names_of_tensorrt_rtx_are_left_alone_only_where_the_file_names_it():
    rtx = "import tensorrt as trt\nIS_RTX = trt.__name__ == 'tensorrt_rtx'\ns = trt.CudaGraphStrategy.DISABLED\n"
    assert findings(rtx, targets=[NEWEST_11], deprecated=False) == []
    plain = rtx.replace("'tensorrt_rtx'", "'other'")
    assert [(f.line, f.name) for f in findings(plain, targets=[NEWEST_11])] == [(3, "CudaGraphStrategy")]
    # a name some TensorRT release has is still checked in such a file (11.x's CausalMaskKind on 10.16)
    late = "import tensorrt as trt\n# runs on tensorrt_rtx too\nk = trt.CausalMaskKind.NONE\n"
    assert [(f.line, f.name) for f in findings(late, targets=[NEWEST_10])] == [(3, "CausalMaskKind")]


def test_uses_on_objects_of_unknown_type_are_counted_as_unchecked(tmp_path):
    code = textwrap.dedent("""
        import tensorrt as trt

        def infer(engine, arr):
            name = engine.get_tensor_name(0)          # unchecked: a TensorRT name, engine's type unknown
            s = arr.shape                              # not counted: not a distinctive TensorRT name
            if hasattr(engine, "num_io_tensors"):
                n = engine.num_io_tensors              # not counted: the code probes engine itself
            return engine.get_binding_shape(0)        # maybe (a removed name), not unchecked

        def _legacy(engine):
            return engine.get_tensor_name(1)          # not counted: only code for old releases calls it

        if int(trt.__version__.split(".")[0]) < 10:
            _legacy(None)
        """)
    src = checker.Source("snippet.py", code)
    result = check_api.check_sources([src], [NEWEST_10], SURFACE)
    assert [(u.line, u.name) for u in result.unchecked] == [(5, "get_tensor_name")]
    assert [(f.line, f.severity) for f in result.findings] == [(9, "maybe")]
    path = tmp_path / "infer.py"
    path.write_text(code)
    out = run_cli(str(path), "--target", "10").stdout
    assert "Not checked: 1 use(s) of TensorRT names on objects whose type could not be followed" in out
    assert "unchecked: .get_tensor_name" in run_cli(str(path), "--target", "10", "--show-unchecked").stdout
    data = json.loads(run_cli(str(path), "--target", "10", "--json").stdout)
    assert [(u["line"], u["name"]) for u in data["unchecked"]] == [(5, "get_tensor_name")]


def test_a_gate_that_is_wrong_on_the_target_does_not_hide_the_use():
    """DeBERTa's 8.6 demo: int('10.'.replace('.', '')) >= 84 is False, so 10.x takes the 8.x path."""
    code = ("import tensorrt as trt\nTRT_VERSION = int(trt.__version__[:3].replace('.', ''))\n"
            "config = trt.Builder(trt.Logger()).create_builder_config()\nif TRT_VERSION >= 84:\n"
            "    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, 1)\nelse:\n"
            "    config.max_workspace_size = 1\n")
    assert lines(findings(code, deprecated=False)) == [(7, "error", "max_workspace_size", (NEWEST_10, NEWEST_11))]


def test_guesses_on_objects_of_unknown_type():
    code = """
        import argparse
        import tensorrt as trt

        def allocate(engine, args, mem, network):
            shape = engine.get_binding_shape(0)           # maybe: a TensorRT-only name
            n = engine.max_batch_size                     # maybe: generic name, but the variable says engine
            m = args.max_batch_size                       # not TensorRT
            mem.free()                                    # not TensorRT
            conv = network.add_convolution(None, 1, (3, 3), None)   # maybe
            conv.stride = (1, 1)                          # maybe: add_convolution returns IConvolutionLayer
            return shape, n, m
        """
    assert lines(findings(code, targets=[NEWEST_10])) == [
        (6, "maybe", "get_binding_shape", (NEWEST_10,)), (7, "maybe", "max_batch_size", (NEWEST_10,)),
        (10, "maybe", "add_convolution", (NEWEST_10,)), (11, "maybe", "stride", (NEWEST_10,))]
    assert findings(code, targets=[NEWEST_10], exact=True) == []


def test_types_flow_through_with_functions_and_older_releases():
    code = """
        import tensorrt as trt

        def build(path):
            with trt.Builder(trt.Logger()) as builder, builder.create_network(0) as network:
                config = builder.create_builder_config()
                return builder.build_engine(network, config)   # error: gone in 10.0

        engine = build("m.onnx")                              # still an ICudaEngine (8.6's return type)
        for i in range(engine.num_bindings):                  # error, not maybe
            print(engine.get_binding_name(i))                 # error
        n = len(engine)                                       # error: no __len__ since 10.0
        """
    assert lines(findings(code, targets=[NEWEST_10])) == [
        (7, "error", "build_engine", (NEWEST_10,)), (10, "error", "num_bindings", (NEWEST_10,)),
        (11, "error", "get_binding_name", (NEWEST_10,)), (12, "error", "__len__", (NEWEST_10,))]


def test_subclasses_of_interfaces_and_their_removal():
    code = """
        import tensorrt as trt

        class Calib(trt.IInt8EntropyCalibrator2):             # error on 11.x only
            def get_batch(self, names):
                return None
            def set_image_batcher(self, batcher):             # the subclass's own method: fine
                self.b = batcher

        config = trt.Builder(trt.Logger()).create_builder_config()
        config.int8_calibrator = Calib()                      # error on 11.x only
        config.int8_calibrator.set_image_batcher(None)        # error on 11.x (int8_calibrator), not set_image_batcher
        """
    assert lines(findings(code, deprecated=False)) == [
        (4, "error", "IInt8EntropyCalibrator2", (NEWEST_11,)), (11, "error", "int8_calibrator", (NEWEST_11,)),
        (12, "error", "int8_calibrator", (NEWEST_11,))]
    warned = {(f.line, f.name) for f in findings(code) if f.severity == "warning"}
    assert (4, "IInt8EntropyCalibrator2") in warned  # deprecated in 10.1


def test_typos_get_a_suggestion():
    (f,) = findings("import tensorrt as trt\nc = trt.Builder(trt.Logger()).create_builder_config()\n"
                    "c.set_memory_pool_limt(trt.MemoryPoolType.WORKSPACE, 1)\n", targets=[NEWEST_11])
    assert f.history.startswith("in no TensorRT release") and "set_memory_pool_limit" in f.hint


def test_the_book_itself_is_clean_for_readers_too():
    """The reader-facing mode (guesses on) reports nothing on the book's own code."""
    result = check_api.check_sources(checker.book_sources(ROOT), [NEWEST_10, NEWEST_11], SURFACE, deprecated=False)
    assert result.crashed == [] and result.notes == []
    assert [(f.where, f.message) for f in result.findings] == []
    assert result.uses > 100


# ----- hints and the "What changed" page -------------------------------------------------------------
def test_every_hint_names_a_removed_name_and_real_replacements():
    for key, hint in check_api.HINTS.items():
        owner, _, name = key.partition(".")
        owner = "" if owner == "tensorrt" else owner
        present = SURFACE.present(owner, name)
        assert present, f"{key}: in no release"
        gone = [r for r in SURFACE.releases if SURFACE.index(r) > SURFACE.index(present[0])
                and (r not in present or _read_only(r, owner, name) and not _read_only(present[0], owner, name))]
        assert gone, f"{key}: never removed (nor made read-only)"
        api = SURFACE.api(gone[0])
        for span in re.findall(r"`([^`]+)`", hint):
            for cls, member in re.findall(r"\b([A-Z]\w+)\.(\w+)", span):
                if cls == "tensorrt":
                    assert api.module_lookup(member), f"{key}: {span} not in {gone[0]}"
                else:
                    assert api.has(cls, member), f"{key}: {cls}.{member} not in {gone[0]}"
            for module_name in re.findall(r"\btensorrt\.(\w+)", span):
                assert api.module_lookup(module_name), f"{key}: {span} not in {gone[0]}"


def _read_only(release, owner, name):
    found = SURFACE.api(release).lookup(owner, name) if owner else None
    return found is not None and found[0] == "property" and not found[1][1]


def test_changes_page_generated_table_matches_the_data():
    assert changes_page.generated_part(changes_page.PAGE.read_text()) == check_api.changes_table(), \
        "run tests/trt_api/make_surface.py (or tests/trt_api/changes_page.py) to regenerate book/changes.md"


#: what the hand-written rows of book/changes.md say about the Python API, per release family:
#: True (every release has it), False (none has it), or "from X" (the first release that has it); and
#: "deprecated": the release whose docstrings start marking it deprecated. A row naming a Python API name
#: that is not here fails test_every_api_name_of_the_hand_written_rows_is_claimed.
CLAIMS = {
    "Builder.max_batch_size": {"8.6": True, "10": False, "11": False},
    "IOptimizationProfile.set_shape": {"8.6": True, "10": True, "11": True},
    "Builder.create_network": {"8.6": True, "10": True, "11": True},
    "NetworkDefinitionCreationFlag.EXPLICIT_BATCH": {"8.6": True, "10": True, "11": False},
    "BuilderFlag.FP16": {"8.6": True, "10": True, "11": False, "deprecated": "10.12"},
    "BuilderFlag.INT8": {"8.6": True, "10": True, "11": False, "deprecated": "10.12"},
    "tensorrt.INormalizationLayer": {"8.6": True, "10": True, "11": True},
    "INetworkDefinition.add_normalization": {"8.6": True, "10": True, "11": True, "deprecated": "10.15"},
    "INetworkDefinition.add_normalization_v2": {"8.6": False, "10": "from 10.15", "11": True},
    "BuilderFlag.TF32": {"8.6": True, "10": True, "11": True},
    "INetworkDefinition.mark_output": {"8.6": True, "10": True, "11": True},
    "INetworkDefinition.mark_debug": {"8.6": False, "10": True, "11": True},
    "tensorrt.IDebugListener": {"8.6": False, "10": True, "11": True},
    "INetworkDefinition.mark_unfused_tensors_as_debug_tensors": {"8.6": False, "10": "from 10.12", "11": True},
    "IBuilderConfig.max_workspace_size": {"8.6": True, "10": False, "11": False},
    "IBuilderConfig.set_memory_pool_limit": {"8.6": True, "10": True, "11": True},
    "MemoryPoolType.WORKSPACE": {"8.6": True, "10": True, "11": True},
    "IExecutionContext.execute_async_v2": {"8.6": True, "10": False, "11": False},
    "IExecutionContext.execute_async_v3": {"8.6": True, "10": True, "11": True},
    "tensorrt.IInt8EntropyCalibrator2": {"8.6": True, "10": True, "11": False, "deprecated": "10.1"},
    "tensorrt.UffParser": {"8.6": True, "10": False, "11": False},
    "tensorrt.CaffeParser": {"8.6": True, "10": False, "11": False},
    "OnnxParser.supports_model": {"8.6": True, "10": True, "11": False, "deprecated": "10.1"},
    "OnnxParser.supports_model_v2": {"8.6": False, "10": "from 10.1", "11": True},
    "OnnxParser.num_subgraphs": {"8.6": False, "10": "from 10.1", "11": True},
    "OnnxParser.is_subgraph_supported": {"8.6": False, "10": "from 10.1", "11": True},
    "OnnxParser.get_subgraph_nodes": {"8.6": False, "10": "from 10.1", "11": True},
    "DataType.INT4": {"8.6": False, "10": True, "11": True},
    "DataType.INT16": {"8.6": False, "10": False, "11": False},
    "BuilderFlag.FP8": {"8.6": True, "10": True, "11": False, "deprecated": "10.12"},
    "BuilderFlag.INT4": {"8.6": False, "10": "from 10.1", "11": False},
    "BuilderFlag.FP4": {"8.6": False, "10": "from 10.8", "11": False},
}


def _present(qualified: str) -> list[str]:
    owner, _, name = qualified.rpartition(".")
    return SURFACE.present("" if owner == "tensorrt" else owner, name)


@pytest.mark.parametrize("qualified", list(CLAIMS))
def test_changes_page_claims_hold_in_the_data(qualified):
    present = _present(qualified)
    for family, claim in CLAIMS[qualified].items():
        if family == "deprecated":
            first = SURFACE.resolve(claim)
            note_at = [r for r in present if SURFACE.index(r) >= SURFACE.index(first) and r.startswith(claim.split(".")[0])]
            owner, _, name = qualified.rpartition(".")
            owner = "" if owner == "tensorrt" else owner
            assert note_at and all(SURFACE.deprecation(r, owner, name) if owner else SURFACE.deprecation(r, name)
                                   for r in note_at), f"{qualified} is not marked deprecated from {claim}"
            assert f"Deprecated in TensorRT {claim}" in (SURFACE.deprecation(note_at[0], owner, name) if owner
                                                          else SURFACE.deprecation(note_at[0], name))
            continue
        releases = [r for r in SURFACE.releases if r == family or r.startswith(family + ".")]
        has = [r in present for r in releases]
        if claim is True or claim is False:
            assert all(h == claim for h in has), f"{qualified} in {family}: {dict(zip(releases, has))}"
        else:
            start = SURFACE.resolve(claim.split()[1])
            assert has == [SURFACE.index(r) >= SURFACE.index(start) for r in releases], f"{qualified}: {claim}"


NEGATION = re.compile(r"(?i)\b(removed|gone|no|not|none)\b")


def _table_rows(text):
    text = text.split("## Every Python API name removed since 8.6")[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]
    header, body = rows[0], rows[1:]
    assert header[1:4] == ["8.6", "10.x", "11.x"], header
    return body


def _row_problems(text):
    """Every Python API name in the 8.6 / 10.x / 11.x cells, read mechanically: a name in a clause that
    says "removed", "gone", "no" or "not" must be absent from the family's newest release; any other
    must exist in one of its releases (8.6: in 8.6.1). ``Class.member`` is looked up on the class; a
    bare name anywhere in the API. Names that are not the API's (C++, trtexec, JSON keys) are skipped."""
    known = {n for r in SURFACE.releases for n in _all_names(SURFACE.api(r))}
    families = {1: ["8.6.1"], 2: [r for r in SURFACE.releases if r.startswith("10.")],
                3: [r for r in SURFACE.releases if r.startswith("11.")]}
    checked, wrong = 0, []
    for row in _table_rows(text):
        for col, releases in families.items():
            for clause in re.split(r";|\(|\)", row[col]):
                negated = bool(NEGATION.search(re.sub(r"`[^`]*`", "", clause)))
                for span in re.findall(r"`([^`]+)`", clause):
                    for owner, member, bare in re.findall(r"\b(?:([A-Z]\w+)\.(\w+)|(\w+))\b", span):
                        name = member or bare
                        specific = "_" in name.strip("_") or sum(c.isupper() for c in name) >= 2
                        if not specific or name not in known or owner and owner not in known:
                            continue
                        has = [_has(r, owner, name) for r in releases]
                        ok = not has[-1] if negated else any(has)
                        checked += 1
                        if not ok:
                            wrong.append(f"{row[0]!r}, column {col}: `{span}` {'still there' if negated else 'absent'}"
                                         f" in {releases[-1] if negated else releases[0] + '..' + releases[-1]}")
    return checked, wrong


def test_hand_written_rows_name_the_api_as_it_is():
    checked, wrong = _row_problems(changes_page.PAGE.read_text())
    assert checked > 30 and not wrong, wrong


def test_a_wrong_row_is_caught():
    page = ("| Topic | 8.6 | 10.x | 11.x | Chapter |\n|---|---|---|---|---|\n"
            "| Workspace | `set_memory_pool_limit` removed | `max_workspace_size` | `BuilderFlag.FP16` | x |\n")
    checked, wrong = _row_problems(page)
    assert checked == 3 and len(wrong) == 3, wrong


def _has(release, owner, name):
    api = SURFACE.api(release)
    if owner:
        return owner in api.classes and api.lookup(owner, name) is not None
    return name in _all_names(api)


def _all_names(api):
    out = set(api.classes) | set(api.functions) | set(api.attributes)
    for info in api.classes.values():
        out |= set(info.methods) | set(info.properties) | set(info.attributes)
    return out


# ----- robustness --------------------------------------------------------------------------------------
CORPUS = ROOT / "tests" / "trt_api" / "corpus"


def test_no_crash_on_odd_python():
    odd = [
        "import tensorrt as trt\n" + "x = " + "(" * 300 + "1" + ")" * 300 + "\n",
        "import tensorrt as trt\n" + "y = trt" + ".Builder" * 2000 + "\n",
        "import tensorrt as trt\nmatch trt.__version__:\n    case '10':\n        trt.UffParser\n    case _:\n        pass\n",
        "import tensorrt as trt\nasync def f():\n    async with trt.Builder(x) as b:\n        async for i in b:\n"
        "            await b.build_engine(i)\n",
        "import tensorrt as trt\nif (v := trt.__version__) < '9':\n    trt.UffParser()\n",
        "import tensorrt as trt\nclass A(trt.ILogger, metaclass=type):\n    x: trt.Nope = 1\n    def log(self, *a): ...\n",
        "import tensorrt as trt\ndef f(*, a=trt.Foo, **k) -> 'trt.Bar':\n    global g\n    del g.x\n    lambda: trt.Baz\n",
        "import tensorrt as trt\nV = trt.__version__[1/0 if False else 0]\nif V[:-999] > (1,):\n    pass\n",
        "import tensorrt as trt\nif trt.__version__.split()[99]:\n    pass\nif int('x' + trt.__version__):\n    pass\n",
        "import tensorrt as trt\n[trt.X for trt in range(3)]\n{k: trt.Y for k in ()}\n",
        "import tensorrt as trt\ntry:\n    pass\nexcept* AttributeError:\n    trt.UffParser\n",
        "from tensorrt import *\nfrom tensorrt import UffParser as U, Builder\nU(); Builder.nope\n",
        "\x00\x01garbage", "", "\n\n\n", "import tensorrt as trt\nprint(f'{trt.Builder!r:>{10}}')\n",
    ]
    sources = [checker.Source(f"odd{i}.py", code) for i, code in enumerate(odd)]
    result = check_api.check_sources(sources, SURFACE.releases, SURFACE)
    assert result.crashed == []


def test_no_crash_on_mutated_corpus_files():
    """Every third corpus file, mutated three ways (seeded): statements dropped, attribute names swapped,
    if-tests replaced by version tests; checked against every release."""
    import random

    rng = random.Random(20260707)
    names = ["get_binding_shape", "max_workspace_size", "FP16", "__class__", "num_io_tensors", "x", "__version__"]
    tests = ["trt.__version__ < '10'", "hasattr(trt, 'UffParser')", "int(trt.__version__[:2]) >= 11", "x.y"]

    class Mutate(ast.NodeTransformer):
        def visit_Attribute(self, node):
            self.generic_visit(node)
            if rng.random() < 0.1:
                node.attr = rng.choice(names)
            return node

        def visit_If(self, node):
            self.generic_visit(node)
            if rng.random() < 0.3:
                node.test = ast.parse(rng.choice(tests), mode="eval").body
            return node

        def generic_visit(self, node):
            super().generic_visit(node)
            for fieldname in ("body", "orelse", "finalbody"):
                body = getattr(node, fieldname, None)
                if isinstance(body, list) and len(body) > 1 and rng.random() < 0.2:
                    body.pop(rng.randrange(len(body)))
            return node

    sources = []
    for f in sorted(CORPUS.rglob("*.py.txt"))[::3]:
        for k in range(3):
            tree = Mutate().visit(ast.parse(f.read_text()))
            sources.append(checker.Source(f"{f.name}#{k}", ast.unparse(ast.fix_missing_locations(tree))))
    result = check_api.check_sources(sources, SURFACE.releases, SURFACE)
    assert result.crashed == [] and result.files == len(sources), result.notes


def test_the_checker_engine_never_imports_tensorrt_or_parses_outside_ast():
    tree = ast.parse(Path(check_api.__file__).read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "tensorrt" not in imported


def test_the_setup_page_shows_real_output(tmp_path):
    """book/setup.md's example: its snippet, and output lines that the command really prints for it."""
    text = (ROOT / "book" / "setup.md").read_text().split("## Check your own TensorRT code")[1]
    snippet = text.split("```python\n")[1].split("```")[0]
    shown = text.split("```text\n")[1].split("```")[0].splitlines()
    assert snippet == OLD
    (tmp_path / "old.py").write_text(snippet)
    real = run_cli("old.py", cwd=tmp_path).stdout.splitlines()
    assert shown and all(line in real for line in shown), [line for line in shown if line not in real]
