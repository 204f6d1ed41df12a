"""The test double's version, hardware and platform compatibility (chapter 2) and its enum values, checked
against the real bindings. Test infrastructure only: nothing here is evidence of what TensorRT does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import trt_double
from trt_double import enums

HERE = Path(__file__).resolve().parent
SHIM_BIN = HERE / "trt_double" / "shim" / "bin"
FLAVOURS = ["10.16", "11.4"]
H100 = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "memory_mib": 81559,
        "pci_bus_id": "00000000:01:00.0"}
A100 = {"name": "NVIDIA A100-SXM4-80GB", "compute_capability": "8.0", "memory_mib": 81920,
        "pci_bus_id": "00000000:41:00.0"}
T4 = {"name": "Tesla T4", "compute_capability": "7.5", "memory_mib": 15360, "pci_bus_id": "00000000:81:00.0"}
V100 = {"name": "Tesla V100-SXM2-16GB", "compute_capability": "7.0", "memory_mib": 16384,
        "pci_bus_id": "00000000:82:00.0"}


@pytest.fixture
def install():
    yield trt_double.install
    trt_double.uninstall()


def collecting_logger(trt):
    class Collect(trt.ILogger):
        def __init__(self):
            trt.ILogger.__init__(self)
            self.messages = []

        def log(self, severity, msg):
            self.messages.append((severity.name, msg))

        def errors(self):
            return [m for s, m in self.messages if s == "ERROR"]

    return Collect()


def model():
    from onnx import TensorProto, helper, numpy_helper

    w = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "mm",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 4])],
                              [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def build(trt, logger, *flags, hw=None, platform=None):
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(model().SerializeToString())
    config = builder.create_builder_config()
    for flag in flags:
        config.set_flag(getattr(trt.BuilderFlag, flag))
    if hw is not None:
        config.hardware_compatibility_level = getattr(trt.HardwareCompatibilityLevel, hw)
    if platform is not None:
        config.runtime_platform = getattr(trt.RuntimePlatform, platform)
    plan = builder.build_serialized_network(network, config)
    return None if plan is None else bytes(plan)


# ----- enum values are the real ones -------------------------------------------------------------------
_PRINT_ENUMS = """
import json, sys
import tensorrt_bindings as trt
names = json.loads(sys.argv[1])
out = {}
for name in names:
    obj = trt
    for part in name.split("."):
        obj = getattr(obj, part)
    out[name] = {k: int(v) for k, v in obj.__members__.items()}
print(json.dumps(out))
"""


@pytest.mark.network
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_every_enum_value_is_the_real_bindings_value(install, flavour):
    """int(member) in the double equals int(member) in the real bindings (imported for introspection)."""
    from trt_api import bindings

    install(flavour)
    version = trt_double.FLAVOURS[flavour]
    real_names = {cls: cls._real for cls in enums.ALL + [enums.Severity]}
    with bindings.introspection_env(version) as env:
        res = subprocess.run([sys.executable, "-c", _PRINT_ENUMS, json.dumps(sorted(real_names.values()))],
                             env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    real = json.loads(res.stdout)
    wrong = []
    for cls, name in real_names.items():
        for member in cls._available_names():
            value = int(getattr(cls, member))
            if real[name].get(member) != value:
                wrong.append(f"{name}.{member}: double {value}, real {real[name].get(member)}")
    assert not wrong, wrong


def test_a_wrong_enum_value_would_be_seen(install):
    install("11.4")
    assert int(enums.BuilderFlag.VERSION_COMPATIBLE) == 12 and int(enums.NetworkDefinitionCreationFlag.STRONGLY_TYPED) == 0
    install("10.16")
    assert int(enums.BuilderFlag.VERSION_COMPATIBLE) == 13 and int(enums.NetworkDefinitionCreationFlag.STRONGLY_TYPED) == 1


# ----- the plan header and the trtexec stand-in ----------------------------------------------------------
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_plans_start_with_the_header_trtexec_reads(install, flavour, tmp_path):
    from trtfaq.chapters import portability

    trt = install(flavour)
    plan = build(trt, trt.Logger())
    assert plan[:4] == b"ftrt" and portability.read_plan_header(plan).tensorrt_version == trt.__version__
    path = tmp_path / "m.plan"
    path.write_bytes(plan)
    res = subprocess.run([str(SHIM_BIN / "trtexec"), "--getPlanVersionOnly", f"--loadEngine={path}"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and res.stdout.strip() == f"[I] Plan was created with TensorRT version {trt.__version__}"
    path.write_bytes(model().SerializeToString())
    res = subprocess.run([str(SHIM_BIN / "trtexec"), "--getPlanVersionOnly", f"--loadEngine={path}"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "Failed to verify a plan tag." in res.stdout
    res = subprocess.run([str(SHIM_BIN / "trtexec"), "--onnx=m.onnx"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "only --getPlanVersionOnly" in res.stderr


# ----- version compatibility --------------------------------------------------------------------------
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_version_compatible_plans_need_host_code_allowed(install, flavour):
    trt = install(flavour)
    log = collecting_logger(trt)
    plain, vc = build(trt, log), build(trt, log, "VERSION_COMPATIBLE")
    excluded = build(trt, log, "VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME")
    assert len(vc) > len(plain) and len(excluded) < len(vc)
    runtime = trt.Runtime(log)
    assert runtime.engine_host_code_allowed is False
    assert runtime.deserialize_cuda_engine(vc) is None
    assert log.errors()[-1] == ("Cannot deserialize engine with lean runtime since "
                                "IRuntime::getEngineHostCodeAllowed() is false.")
    runtime.engine_host_code_allowed = True
    engine = runtime.deserialize_cuda_engine(vc)
    assert engine is not None and engine.num_io_tensors == 2
    assert trt.Runtime(log).deserialize_cuda_engine(excluded) is not None  # same version, no host code in it
    assert trt.Runtime(log).deserialize_cuda_engine(plain) is not None


def test_forward_only_and_only_across_the_documented_majors(install):
    trt = install("10.16")
    log = collecting_logger(trt)
    plans = {n: build(trt, log, *f) for n, f in
             {"plain": (), "vc": ("VERSION_COMPATIBLE",), "excluded": ("VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME")}
             .items()}
    trt = install("11.4")
    log = collecting_logger(trt)
    runtime = trt.Runtime(log)
    runtime.engine_host_code_allowed = True
    assert runtime.deserialize_cuda_engine(plans["plain"]) is None
    assert "expecting library version 11.4.0.106 got 10.16.1.11" in log.errors()[-1]
    assert runtime.deserialize_cuda_engine(plans["vc"]) is not None  # 10 -> 11: documented
    assert runtime.deserialize_cuda_engine(plans["excluded"]) is None
    assert "Runtime.load_runtime" in log.errors()[-1]
    newer = build(trt, log, "VERSION_COMPATIBLE")
    trt = install("10.16")
    log = collecting_logger(trt)
    runtime = trt.Runtime(log)
    runtime.engine_host_code_allowed = True
    assert runtime.deserialize_cuda_engine(newer) is None  # never newer -> older
    assert "expecting library version 10.16.1.11 got 11.4.0.106" in log.errors()[-1]


@pytest.mark.network
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_load_runtime_runs_excluded_plans_of_its_own_version(install, flavour):
    from trtfaq.chapters import portability, versions

    lean = versions.fetch_runtime_library(portability.RUNTIMES[f"{flavour} lean"])
    trt = install(flavour)
    log = collecting_logger(trt)
    excluded = build(trt, log, "VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME")
    lean_runtime = trt.Runtime(log).load_runtime(str(lean))
    assert isinstance(lean_runtime, trt.Runtime)
    assert lean_runtime.deserialize_cuda_engine(excluded) is not None
    assert lean_runtime.deserialize_cuda_engine(build(trt, log)) is None
    assert "Unexpected call to stub loadRunner" in log.errors()[-1]
    assert lean_runtime.deserialize_cuda_engine(build(trt, log, "VERSION_COMPATIBLE")) is None
    assert "EXCLUDE_LEAN_RUNTIME" in log.errors()[-1]
    assert trt.Runtime(log).load_runtime("/nonexistent/libnvinfer_lean.so.11") is None
    assert log.errors()[-1].startswith("Runtime load failed: could not create lean runtime")
    other = "11.4" if flavour == "10.16" else "10.16"
    other_lean = trt.Runtime(log).load_runtime(str(versions.fetch_runtime_library(portability.RUNTIMES[f"{other} lean"])))
    assert other_lean.deserialize_cuda_engine(excluded) is None  # "built with the same version" only
    assert "not compatible with this version of TensorRT" in log.errors()[-1]


# ----- hardware and platform compatibility ---------------------------------------------------------------
def test_hardware_compatibility_levels(install):
    trt = install("11.4", devices=[H100, A100, T4, V100])
    from cuda.bindings import runtime as rt

    log = collecting_logger(trt)
    plans = {hw: build(trt, log, hw=hw) for hw in ("NONE", "AMPERE_PLUS", "SAME_COMPUTE_CAPABILITY")}
    rt.cudaSetDevice(1)  # A100, compute capability 8.0
    engine = trt.Runtime(log).deserialize_cuda_engine(plans["AMPERE_PLUS"])
    assert engine is not None and engine.hardware_compatibility_level == trt.HardwareCompatibilityLevel.AMPERE_PLUS
    for hw in ("NONE", "SAME_COMPUTE_CAPABILITY"):
        assert trt.Runtime(log).deserialize_cuda_engine(plans[hw]) is None
        assert "expecting compute 8.0 got compute 9.0" in log.errors()[-2]
    rt.cudaSetDevice(2)  # T4, 7.5: not Ampere
    assert trt.Runtime(log).deserialize_cuda_engine(plans["AMPERE_PLUS"]) is None
    assert build(trt, log, hw="AMPERE_PLUS") is None and "Ampere and later" in log.errors()[-1]
    assert build(trt, log, hw="SAME_COMPUTE_CAPABILITY") is not None
    rt.cudaSetDevice(3)  # V100, 7.0
    assert build(trt, log, hw="SAME_COMPUTE_CAPABILITY") is None and "Turing and later" in log.errors()[-1]
    assert build(trt, log, "VERSION_COMPATIBLE") is not None
    rt.cudaSetDevice(0)
    assert trt.Runtime(log).deserialize_cuda_engine(plans["NONE"]).hardware_compatibility_level == \
        trt.HardwareCompatibilityLevel.NONE
    with pytest.raises(TypeError):
        trt.Builder(log).create_builder_config().hardware_compatibility_level = 1


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_windows_plan_does_not_load_here(install, flavour):
    trt = install(flavour)
    log = collecting_logger(trt)
    config = trt.Builder(log).create_builder_config()
    assert config.runtime_platform == trt.RuntimePlatform.SAME_AS_BUILD
    plan = build(trt, log, platform="WINDOWS_AMD64")
    runtime = trt.Runtime(log)
    assert runtime.deserialize_cuda_engine(plan) is None
    assert log.errors()[-1].startswith("Platform specific tag mismatch detected.")
    assert build(trt, log, "VERSION_COMPATIBLE", platform="WINDOWS_AMD64") is None
    assert "EXCLUDE_LEAN_RUNTIME must be set" in log.errors()[-1]
    assert build(trt, log, "VERSION_COMPATIBLE", "EXCLUDE_LEAN_RUNTIME", platform="WINDOWS_AMD64") is not None


# ----- the package's Engine with a runtime of the caller's ------------------------------------------------
@pytest.mark.parametrize("flavour", FLAVOURS)
def test_engine_takes_a_runtime_that_may_run_host_code(install, flavour, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", f"{SHIM_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("TRTFAQ_TRT_DOUBLE", flavour)
    from trtfaq import env
    from trtfaq.engine import Engine

    for probe in (env.gpus, env.cuda_runtime, env.tensorrt):
        probe.cache_clear()
    trt = install(flavour)
    log = collecting_logger(trt)
    vc = build(trt, log, "VERSION_COMPATIBLE")
    with pytest.raises(Exception, match="could not deserialize"):
        Engine(vc)
    runtime = trt.Runtime(log)
    runtime.engine_host_code_allowed = True
    x = np.ones((2, 8), np.float32)
    with Engine(vc, runtime=runtime) as eng:
        y = eng.infer({"x": x})["y"]
    w = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    np.testing.assert_allclose(y, x @ w, rtol=1e-5)
    for probe in (env.gpus, env.cuda_runtime, env.tensorrt):
        probe.cache_clear()
