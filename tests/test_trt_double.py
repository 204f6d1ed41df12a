"""The TensorRT / CUDA test double (tests/trt_double): its surface is the real one, it executes, and it
enforces TensorRT's documented contract. Test infrastructure only: nothing here is evidence of what
TensorRT computes or how fast.
"""
from __future__ import annotations

import ast
import inspect
import json
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

import trt_double
from trt_double import core, enums, surface
from trt_double.surface import Base, Only, Prop

HERE = Path(__file__).resolve().parent
SHIM = HERE / "trt_double" / "shim"
FLAVOURS = ["10.16", "11.4"]
H100 = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "memory_mib": 81559,
        "pci_bus_id": "00000000:01:00.0"}
A100 = {"name": "NVIDIA A100-SXM4-80GB", "compute_capability": "8.0", "memory_mib": 81920,
        "pci_bus_id": "00000000:41:00.0"}


@pytest.fixture
def install():
    """install(flavour, devices=None) -> the double's tensorrt module; uninstalled afterwards."""
    yield trt_double.install
    trt_double.uninstall()


@pytest.fixture(params=FLAVOURS)
def trt(request, install):
    return install(request.param)


@pytest.fixture
def rt(trt):
    from cuda.bindings import runtime

    return runtime


def collecting_logger(trt):
    """A trt.ILogger subclass instance keeping (severity name, message) pairs."""

    class Collect(trt.ILogger):
        def __init__(self):
            trt.ILogger.__init__(self)
            self.messages = []

        def log(self, severity, msg):
            self.messages.append((severity.name, msg))

        def errors(self):
            return [m for s, m in self.messages if s == "ERROR"]

    return Collect()


def ok(result):
    """Unpack a cuda-python (err, *values) tuple, asserting success."""
    assert int(result[0]) == 0, result[0]
    return result[1] if len(result) == 2 else result[1:] or None


# ----- models --------------------------------------------------------------------------------------
def mlp_model(dtype=np.float32, k=8, n=4, seed=0):
    """x[N, k] -> MatMul -> "mm" -> Relu -> y[N, n], dynamic batch."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((k, n)).astype(dtype)
    elem = TensorProto.FLOAT if dtype == np.float32 else TensorProto.FLOAT16
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["mm"]), helper.make_node("Relu", ["mm"], ["y"])], "mlp",
        [helper.make_tensor_value_info("x", elem, ["N", k])], [helper.make_tensor_value_info("y", elem, ["N", n])],
        [numpy_helper.from_array(w, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def ort_run(model, feeds, outputs=None):
    """ONNX Runtime's outputs, intermediate tensors included when named."""
    import onnx
    import onnxruntime as ort

    model = onnx.ModelProto.FromString(model.SerializeToString())
    for name in set(outputs or []) - {o.name for o in model.graph.output}:
        model.graph.output.add().name = name
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip(outputs or [o.name for o in session.get_outputs()], session.run(outputs, feeds)))


PROFILES = [((1, 8), (4, 8), (16, 8)), ((17, 8), (64, 8), (128, 8))]


def build(trt, logger, model=None, profiles=PROFILES, fp16=False, mark=(), debug=()):
    model = model or mlp_model()
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    assert parser.parse(model.SerializeToString()), parser.get_error(0)
    tensors = {}
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        for j in range(layer.num_outputs):
            tensors[layer.get_output(j).name] = layer.get_output(j)
    for name in mark:
        network.mark_output(tensors[name])
    for name in debug:
        assert network.mark_debug(tensors[name])
    config = builder.create_builder_config()
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    for lo, opt, hi in profiles:
        profile = builder.create_optimization_profile()
        profile.set_shape("x", lo, opt, hi)
        config.add_optimization_profile(profile)
    return builder.build_serialized_network(network, config)


class Bound:
    """An engine with a context, a stream and device buffers (raw cuda-python calls, as the book does)."""

    def __init__(self, trt, rt, plan, logger):
        self.trt, self.rt = trt, rt
        self.engine = trt.Runtime(logger).deserialize_cuda_engine(plan)
        assert self.engine is not None
        self.ctx = self.engine.create_execution_context()
        self.stream = ok(rt.cudaStreamCreate())

    def malloc(self, nbytes):
        return ok(self.rt.cudaMalloc(nbytes))

    def h2d(self, ptr, arr):
        ok(self.rt.cudaMemcpyAsync(ptr, arr.ctypes.data, arr.nbytes,
                                   self.rt.cudaMemcpyKind.cudaMemcpyHostToDevice, self.stream))

    def d2h(self, arr, ptr):
        ok(self.rt.cudaMemcpyAsync(arr.ctypes.data, ptr, arr.nbytes,
                                   self.rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, self.stream))

    def sync(self):
        return self.rt.cudaStreamSynchronize(self.stream)[0]

    def run(self, x, profile, outputs=("y",)):
        """Profile first, then shapes, then addresses, then enqueue; outputs copied back after sync."""
        ctx = self.ctx
        assert ctx.set_optimization_profile_async(profile, int(self.stream))
        ok(self.rt.cudaStreamSynchronize(self.stream))
        assert ctx.set_input_shape("x", x.shape)
        dx = self.malloc(x.nbytes)
        self.h2d(dx, x)
        assert ctx.set_tensor_address("x", dx)
        hosts = {}
        for name in outputs:
            dtype = self.trt.nptype(self.engine.get_tensor_dtype(name))
            hosts[name] = np.empty(tuple(ctx.get_tensor_shape(name)), dtype)
            ptr = self.malloc(hosts[name].nbytes)
            assert ctx.set_tensor_address(name, ptr)
        assert ctx.execute_async_v3(int(self.stream))
        for name, host in hosts.items():
            self.d2h(host, ctx.get_tensor_address(name))
        assert int(self.sync()) == 0
        return hosts


# ----- the surface is the real one ------------------------------------------------------------------
PROTOCOL_DUNDERS = {"__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__init_subclass__",
                    "__getattr__", "__setattr__", "__getattribute__", "__hash__", "__repr__", "__str__", "__eq__",
                    "__ne__", "__new__", "__reduce__", "__getstate__", "__lt__", "__le__", "__gt__", "__ge__",
                    "__int__", "__index__", "__slots__", "__abstractmethods__", "_abc_impl", "__annotations__"}


def _params(fn):
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    varargs = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params)
    named = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return [(p.name, p.default is not p.empty) for p in named], varargs


def _signature_problems(where, fn, overloads, is_method=True):
    params, varargs = _params(fn)
    if is_method:
        params = params[1:]
    if varargs:
        return [f"{where}: the double takes *args/**kwargs; declare the real parameters"]
    n_req = sum(1 for _, d in params if not d)
    calls = [(k, []) for k in range(n_req, len(params) + 1)]
    calls += [(i, [n for n, d in params[i:] if not d]) for i in range(n_req)]
    calls += [(n_req, [n]) for n, d in params if d]
    problems = []
    for k, kws in calls:
        if not any(sig.accepts(k, kws) for sig in overloads):
            problems.append(f"{where}{tuple(n for n, _ in params)}: a call with {k} positional and keywords {kws} "
                            f"fits no real overload {[str(s) for s in overloads]}")
    named = [sig for sig in overloads if not sig.varargs]
    for i, (name, _) in enumerate(params):
        if named and not any(i < len(sig.params) and sig.params[i].name == name for sig in named):
            problems.append(f"{where}: parameter {i} is named {name!r}, not as in {[str(s) for s in overloads]}")
    return problems


def _members(cls):
    """Every name a double class defines (through its double bases), with the defining object."""
    found = {}
    for klass in reversed(cls.__mro__):
        if isinstance(klass, type) and issubclass(klass, Base):
            found.update(klass.__dict__)
    return found


def _class_problems(api, major, cls, real):
    problems = []
    if real not in api.classes:
        return [f"{real}: no such class in TensorRT {api.version}"]
    if cls.__name__ != real.split(".")[-1]:
        problems.append(f"{real}: the double's class is named {cls.__name__}")
    real_mro = [c.name for c in api.mro(real)]
    for base in cls.__mro__[1:]:
        if base.__dict__.get("_real") and base._real not in real_mro:
            problems.append(f"{real}: derives from {base._real}, the real class does not")
    for name, value in _members(cls).items():
        where = f"{real}.{name}"
        dunder = name.startswith("__") and name.endswith("__")
        if name.startswith("_") and not dunder:
            continue
        found = api.lookup(real, name)
        if dunder and found is None:
            if name not in PROTOCOL_DUNDERS and not (name == "__init__" and "__init__" not in cls.__dict__):
                problems.append(f"{where}: a dunder the real class does not define")
            continue
        if isinstance(value, Only):
            if major not in value.majors:
                continue
            value = value.inner
        if found is None:
            problems.append(f"{where}: not in the real API")
            continue
        kind, info = found
        if isinstance(value, (Prop, property)):
            settable_real = kind == "attribute" or (kind == "property" and info[1])
            settable_double = major in value.settable_in if isinstance(value, Prop) else value.fset is not None
            if kind not in ("property", "attribute"):
                problems.append(f"{where}: a property in the double, a {kind} in TensorRT")
            elif settable_real != settable_double:
                problems.append(f"{where}: settable {settable_double} in the double, {settable_real} in TensorRT")
        elif inspect.isfunction(value):
            if kind != "method":
                problems.append(f"{where}: a method in the double, a {kind} in TensorRT")
            elif name != "__init__" or "__init__" in cls.__dict__:
                problems += _signature_problems(where, value, info)
        elif isinstance(value, type):
            if kind != "class":
                problems.append(f"{where}: a nested class in the double, a {kind} in TensorRT")
        elif isinstance(value, (classmethod, staticmethod)):
            problems.append(f"{where}: public class/static methods are not part of the real API")
        elif kind not in ("attribute", "property"):
            problems.append(f"{where}: a value in the double, a {kind} in TensorRT")
    if issubclass(cls, enums.Enum):
        for member in cls._available_names():
            if api.lookup(real, member) is None:
                problems.append(f"{real}.{member}: enum member not in TensorRT {api.version}")
    return problems


def _pure_python_defs(version):
    """Top-level functions of the wheel's pure-Python tensorrt_bindings/__init__.py: name -> parameter names."""
    from trt_api import bindings

    with zipfile.ZipFile(bindings.fetch_wheel(version)) as zf:
        tree = ast.parse(zf.read("tensorrt_bindings/__init__.py"))
    return {n.name: [a.arg for a in n.args.args] for n in tree.body if isinstance(n, ast.FunctionDef)}


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_surface_matches_real_bindings(install, flavour):
    trt = install(flavour)
    version = trt_double.FLAVOURS[flavour]
    api = surface.real_api(version)
    major = api.major
    problems, checked = [], 0
    pure = _pure_python_defs(version)
    for name, value in vars(trt).items():
        if name.startswith("_"):
            continue
        checked += 1
        if name in surface.PURE_PYTHON_FUNCTIONS:
            if name not in pure:
                problems.append(f"tensorrt.{name}: not defined by the wheel's __init__.py")
            elif [p for p, _ in _params(value)[0]] != pure[name]:
                problems.append(f"tensorrt.{name}: parameters differ from the wheel's {pure[name]}")
            continue
        found = api.module_lookup(name)
        if found is None:
            problems.append(f"tensorrt.{name}: not in TensorRT {version}")
        elif isinstance(value, type):
            problems += _class_problems(api, major, value, value._real)
            checked += len(_members(value))
        elif callable(value):
            problems += _signature_problems(f"tensorrt.{name}", value, found[1], is_method=False)
        elif found[1] and type(value).__name__ != found[1].split(".")[-1]:
            problems.append(f"tensorrt.{name}: a {type(value).__name__}, TensorRT's is a {found[1]}")
    nested = [(c, c.Severity) for c in (core.ILogger, core.Logger)]
    for owner, cls in nested:
        problems += _class_problems(api, major, cls, f"{owner._real}.Severity")
    assert not problems, "\n".join(problems)
    assert checked > 150, f"only {checked} names walked"
    assert trt.__version__ == version


def test_surface_walk_catches_planted_differences(install):
    from trt_double import builder

    install("11.4")
    api = surface.real_api(trt_double.FLAVOURS["11.4"])

    class IBuilderConfig(builder.IBuilderConfig):
        _real = "IBuilderConfig"

        def set_flag(self, flag, extra):  # a parameter the real method does not have
            pass

        def max_workspace_size(self):  # removed in TensorRT 10
            pass

        num_optimization_profiles = Prop(lambda self: 0, settable_in=(11,))  # read-only in TensorRT

    problems = "\n".join(_class_problems(api, 11, IBuilderConfig, "IBuilderConfig"))
    assert "IBuilderConfig.set_flag('flag', 'extra')" in problems
    assert "IBuilderConfig.max_workspace_size: not in the real API" in problems
    assert "IBuilderConfig.num_optimization_profiles: settable True in the double, False in TensorRT" in problems


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_unimplemented_real_names_raise_not_implemented(install, flavour):
    trt = install(flavour)
    config = trt.Builder(trt.Logger()).create_builder_config()
    with pytest.raises(NotImplementedError, match=r"^not implemented by the TensorRT test double: "
                                                  r"IBuilderConfig\.set_tactic_sources$"):
        config.set_tactic_sources(0)
    with pytest.raises(NotImplementedError, match="tensorrt.get_plugin_registry"):
        trt.get_plugin_registry()
    with pytest.raises(NotImplementedError, match="BuilderFlag.DISABLE_COMPILATION_CACHE"):
        _ = trt.BuilderFlag.DISABLE_COMPILATION_CACHE
    tensor = trt.Builder(trt.Logger()).create_network().add_input("x", trt.float32, (1,))
    if flavour == "10.16":  # settable in 10.16, not implemented by the double
        with pytest.raises(NotImplementedError, match=r"ITensor.dtype \(setting it\)"):
            tensor.dtype = trt.float16
    else:  # read-only in 11.4
        with pytest.raises(AttributeError, match="has no setter"):
            tensor.dtype = trt.float16


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_fake_names_raise_attribute_error_like_pybind11(install, flavour):
    trt = install(flavour)
    config = trt.Builder(trt.Logger()).create_builder_config()
    with pytest.raises(AttributeError) as exc:
        config.max_workspace_size = 1 << 30
    assert str(exc.value) == "'tensorrt_bindings.tensorrt.IBuilderConfig' object has no attribute 'max_workspace_size'"
    with pytest.raises(AttributeError, match="^module 'tensorrt' has no attribute 'OptProfileSelector'$"):
        _ = trt.OptProfileSelector
    with pytest.raises(AttributeError, match="object has no attribute 'decode'"):
        trt.Builder(trt.Logger()).create_builder_config().create_timing_cache(b"").serialize().decode()
    if flavour == "11.4":
        with pytest.raises(AttributeError) as exc:
            _ = trt.BuilderFlag.FP16
        assert str(exc.value) == "type object 'tensorrt_bindings.tensorrt.BuilderFlag' has no attribute 'FP16'"
        assert not hasattr(trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH")
        assert not hasattr(trt.Builder(trt.Logger()), "platform_has_fast_fp16")
    else:
        assert trt.BuilderFlag.FP16.name == "FP16"
        assert trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH.name == "EXPLICIT_BATCH"
    with pytest.raises(TypeError, match="No constructor defined"):
        trt.ICudaEngine()


# ----- it executes ---------------------------------------------------------------------------------
def test_round_trip_matches_onnx_runtime(trt, rt):
    logger = collecting_logger(trt)
    plan = build(trt, logger)
    assert isinstance(bytes(plan), bytes) and plan.nbytes == len(memoryview(plan))
    bound = Bound(trt, rt, plan, logger)
    engine = bound.engine
    assert [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)] == ["x", "y"]
    assert engine.get_tensor_mode("x") == trt.TensorIOMode.INPUT and engine.get_tensor_mode("y") == trt.TensorIOMode.OUTPUT
    assert tuple(engine.get_tensor_shape("x")) == (-1, 8)
    assert engine.num_optimization_profiles == 2
    assert [tuple(d) for d in engine.get_tensor_profile_shape("x", 1)] == [(17, 8), (64, 8), (128, 8)]
    assert engine.get_device_memory_size_for_profile_v2(1) <= engine.device_memory_size_v2
    model = mlp_model()
    for n, profile in ((3, 0), (100, 1)):
        x = np.random.default_rng(n).standard_normal((n, 8)).astype(np.float32)
        y = bound.run(x, profile)["y"]
        np.testing.assert_allclose(y, ort_run(model, {"x": x})["y"], rtol=1e-6, atol=1e-6)
        assert bound.ctx.active_optimization_profile == profile
    again = trt.Runtime(logger).deserialize_cuda_engine(engine.serialize())
    assert again is not None and again.num_layers == engine.num_layers == 2
    assert not logger.errors()


def test_host_read_before_synchronize_sees_stale_data(trt, rt):
    logger = collecting_logger(trt)
    bound = Bound(trt, rt, build(trt, logger), logger)
    x = np.ones((2, 8), np.float32)
    y = np.full((2, 4), -7.0, np.float32)
    ctx = bound.ctx
    assert ctx.set_input_shape("x", x.shape)
    dx, dy = bound.malloc(x.nbytes), bound.malloc(y.nbytes)
    bound.h2d(dx, x)
    ctx.set_tensor_address("x", dx)
    ctx.set_tensor_address("y", dy)
    assert ctx.execute_async_v3(int(bound.stream))
    bound.d2h(y, dy)
    assert np.all(y == -7.0), "the copy ran before the host waited for the stream"
    assert int(bound.sync()) == 0
    assert np.all(y >= 0) and not np.all(y == -7.0)


def test_marked_and_debug_tensors(trt, rt):
    from trtfaq import cuda as book_cuda

    logger = collecting_logger(trt)
    plan = build(trt, logger, mark=["mm"], debug=["mm"])
    bound = Bound(trt, rt, plan, logger)
    engine = bound.engine
    assert [engine.get_tensor_name(i) for i in range(engine.num_io_tensors)] == ["x", "y", "mm"]
    assert engine.is_debug_tensor("mm")

    class Keep(trt.IDebugListener):
        def __init__(self):
            trt.IDebugListener.__init__(self)
            self.seen = {}

        def process_debug_tensor(self, addr, location, type, shape, name, stream):
            host = np.empty(tuple(shape), trt.nptype(type))
            ok(rt.cudaMemcpyAsync(host.ctypes.data, book_cuda.address(addr), host.nbytes,
                                  rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, stream))
            ok(rt.cudaStreamSynchronize(stream))  # stream order: the engine ran first
            self.seen[name] = (host, location)

    listener = Keep()
    assert bound.ctx.set_debug_listener(listener)
    assert bound.ctx.set_tensor_debug_state("mm", True)
    assert not bound.ctx.set_tensor_debug_state("y", True)
    assert "was not marked as a debug tensor" in logger.errors()[-1]
    x = np.random.default_rng(1).standard_normal((5, 8)).astype(np.float32)
    out = bound.run(x, 0, outputs=("y", "mm"))
    ref = ort_run(mlp_model(), {"x": x}, ["y", "mm"])
    np.testing.assert_allclose(out["mm"], ref["mm"], rtol=1e-6, atol=1e-6)
    host, location = listener.seen["mm"]
    np.testing.assert_allclose(host, ref["mm"], rtol=1e-6, atol=1e-6)
    assert location == trt.TensorLocation.DEVICE


def test_layer_api_network(trt, rt):
    logger = collecting_logger(trt)
    rng = np.random.default_rng(0)
    C, H, W = 3, 4, 5
    a = rng.standard_normal(C).astype(np.float32)
    b = rng.standard_normal(C).astype(np.float32)
    a4, b4 = a.reshape(1, C, 1, 1), b.reshape(1, C, 1, 1)
    x = rng.standard_normal((2, C, H, W)).astype(np.float32)
    builder = trt.Builder(logger)
    config = builder.create_builder_config()
    config.clear_flag(trt.BuilderFlag.TF32)

    def run(plan):
        bound = Bound(trt, rt, plan, logger)
        dx, dy = bound.malloc(x.nbytes), bound.malloc(x.nbytes)
        bound.h2d(dx, x)
        bound.ctx.set_tensor_address("x", dx)
        bound.ctx.set_tensor_address("y", dy)
        assert bound.ctx.execute_async_v3(int(bound.stream))
        y = np.empty_like(x)
        bound.d2h(y, dy)
        assert int(bound.sync()) == 0
        return y

    network = builder.create_network()
    x_in = network.add_input("x", trt.float32, (2, C, H, W))
    a_c = network.add_constant((1, C, 1, 1), trt.Weights(a4)).get_output(0)
    b_c = network.add_constant((1, C, 1, 1), trt.Weights(b4)).get_output(0)
    ax = network.add_elementwise(x_in, a_c, trt.ElementWiseOperation.PROD).get_output(0)
    y = network.add_elementwise(ax, b_c, trt.ElementWiseOperation.SUM).get_output(0)
    assert y.name.startswith("(Unnamed Layer* 3) [ElementWise]")
    y.name = "y"
    network.mark_output(y)
    np.testing.assert_allclose(run(builder.build_serialized_network(network, config)), x * a4 + b4, rtol=1e-6)

    network = builder.create_network()
    x_in = network.add_input("x", trt.float32, (2, C, H, W))
    layer = network.add_scale(x_in, trt.ScaleMode.CHANNEL, shift=trt.Weights(b), scale=trt.Weights(a),
                              power=trt.Weights(np.full(C, 2.0, np.float32)))
    assert layer.type == trt.LayerType.SCALE and layer.channel_axis == 1
    layer.get_output(0).name = "y"
    network.mark_output(layer.get_output(0))
    np.testing.assert_allclose(run(builder.build_serialized_network(network, config)), (x * a4 + b4) ** 2, rtol=1e-5)

    network = builder.create_network()
    x_in = network.add_input("x", trt.float32, (2, C, H, W))
    other = network.add_constant((C, 1, 1), trt.Weights(a.reshape(C, 1, 1))).get_output(0)
    assert network.add_elementwise(x_in, other, trt.ElementWiseOperation.SUM) is None  # ranks differ
    assert "do not broadcast" in logger.errors()[-1]


@pytest.mark.parametrize("op, fn", [("SUB", np.subtract), ("DIV", np.divide), ("MAX", np.maximum),
                                    ("MIN", np.minimum), ("POW", np.power)])
def test_elementwise_operations_broadcast(op, fn):
    from trt_double import programs

    a = np.array([[1.0, 2.0, 3.0]], np.float32)
    b = np.array([[2.0], [0.5]], np.float32)
    np.testing.assert_allclose(programs._elementwise(op, a, b), fn(a, b))


def test_parser_errors_and_files(trt, tmp_path):
    logger = collecting_logger(trt)
    network = trt.Builder(logger).create_network()
    parser = trt.OnnxParser(network, logger)
    assert not parser.parse(b"not an onnx model")
    assert parser.num_errors == 1
    assert parser.get_error(0).code() == trt.ErrorCode.MODEL_DESERIALIZE_FAILED
    assert "MODEL_DESERIALIZE_FAILED: Failed to parse the ONNX model." in str(parser.get_error(0))
    assert logger.errors() == [str(parser.get_error(0))]
    path = tmp_path / "mlp.onnx"
    path.write_bytes(mlp_model().SerializeToString())
    network = trt.Builder(logger).create_network()
    assert trt.OnnxParser(network, logger).parse_from_file(str(path))
    assert (network.num_inputs, network.num_outputs, network.num_layers) == (1, 1, 2)
    assert network.get_layer(0).name == "node_of_mm" and network.get_layer(0).type == trt.LayerType.MATRIX_MULTIPLY


def test_reference_evaluator_when_onnx_runtime_cannot_run(install, monkeypatch):
    from trt_double import programs

    install("11.4")
    program = programs.OnnxProgram(mlp_model().SerializeToString(), {"x": "x"}, {"y": "y"})
    monkeypatch.setattr(program, "_ort", lambda: None)
    x = np.random.default_rng(3).standard_normal((2, 8)).astype(np.float32)
    np.testing.assert_allclose(program.run({"x": x})["y"], ort_run(mlp_model(), {"x": x})["y"], rtol=1e-6)


# ----- TensorRT's contract, enforced ----------------------------------------------------------------
def test_shapes_must_lie_in_the_active_profile(trt, rt):
    logger = collecting_logger(trt)
    bound = Bound(trt, rt, build(trt, logger), logger)
    ctx = bound.ctx
    assert ctx.active_optimization_profile == 0
    assert not ctx.set_input_shape("x", (100, 8))  # forgot to select profile 1: outside profile 0
    assert "satisfyProfile Runtime dimension does not satisfy any optimization profile" in logger.errors()[-1]
    assert not ctx.set_input_shape("x", (3, 9))
    assert "Static dimension mismatch" in logger.errors()[-1]
    assert ctx.set_optimization_profile_async(1, int(bound.stream))
    assert ctx.set_input_shape("x", (100, 8))
    assert not ctx.set_optimization_profile_async(2, int(bound.stream))
    with pytest.raises(AttributeError):
        ctx.active_optimization_profile = 0


def test_switching_profile_invalidates_shapes(trt, rt):
    logger = collecting_logger(trt)
    bound = Bound(trt, rt, build(trt, logger), logger)
    ctx = bound.ctx
    x = np.ones((3, 8), np.float32)
    assert ctx.set_input_shape("x", x.shape)           # shapes first (wrong order) ...
    assert ctx.set_optimization_profile_async(1, int(bound.stream))  # ... then the profile: shapes are gone
    ctx.set_tensor_address("x", bound.malloc(64 * 8 * 4))
    ctx.set_tensor_address("y", bound.malloc(64 * 4 * 4))
    assert ctx.infer_shapes() == ["x"]
    assert tuple(ctx.get_tensor_shape("y")) == (-1, 4)
    assert not ctx.execute_async_v3(int(bound.stream))
    assert "allInputDimensionsSpecified" in logger.errors()[-1]


def test_every_tensor_needs_an_address_and_a_big_enough_buffer(trt, rt):
    logger = collecting_logger(trt)
    bound = Bound(trt, rt, build(trt, logger), logger)
    ctx = bound.ctx
    assert ctx.set_input_shape("x", (4, 8))
    assert not ctx.execute_async_v3(int(bound.stream))
    assert "Address is not set for input tensor x" in logger.errors()[-1]
    ctx.set_tensor_address("x", bound.malloc(4 * 8 * 4))
    assert not ctx.execute_async_v3(int(bound.stream))
    assert "Neither address or allocator is set for output tensor y" in logger.errors()[-1]
    small = bound.malloc(4 * 4 * 4 - 4)  # one float short
    ctx.set_tensor_address("y", small)
    assert not ctx.execute_async_v3(int(bound.stream))
    assert "tensor 'y' needs 64 bytes" in logger.errors()[-1] and "60 bytes remain" in logger.errors()[-1]
    ctx.set_tensor_address("y", small + 64)  # past the end: in the guard gap between allocations
    assert not ctx.execute_async_v3(int(bound.stream))
    assert "it is not in a device allocation" in logger.errors()[-1]
    ctx.set_tensor_address("y", bound.malloc(64))
    assert ctx.execute_async_v3(int(bound.stream))
    assert int(bound.sync()) == 0


def test_illegal_address_is_sticky_until_reset(trt, rt):
    from trt_double import cudart

    st = cudart._state()
    stream = ok(rt.cudaStreamCreate())
    cudart._enqueue(st, st.streams[int(stream)], lambda: rt.cudaError_t.cudaErrorIllegalAddress, 0.0, "bad kernel")
    assert rt.cudaStreamSynchronize(stream)[0] == rt.cudaError_t.cudaErrorIllegalAddress
    assert rt.cudaMalloc(16)[0] == rt.cudaError_t.cudaErrorIllegalAddress  # a broken CUDA context stays broken
    logger = collecting_logger(trt)
    assert build(trt, logger) is None and "an illegal memory access was encountered" in logger.errors()[-1]
    trt_double.reset()
    assert int(rt.cudaMalloc(16)[0]) == 0


def test_plans_load_only_on_their_version_and_device(install):
    trt = install("10.16")
    plan = bytes(build(trt, trt.Logger()))
    trt = install("11.4")
    logger = collecting_logger(trt)
    assert trt.Runtime(logger).deserialize_cuda_engine(plan) is None
    assert ("The engine plan file is not compatible with this version of TensorRT, expecting library version "
            "11.4.0.106 got 10.16.1.11, please rebuild.") in logger.errors()[-1]
    assert trt.Runtime(logger).deserialize_cuda_engine(b"\x08\x01garbage") is None
    assert "Magic tag does not match" in logger.errors()[-1]
    plan = bytes(build(trt, logger))
    trt = install("11.4", devices=[A100])
    logger = collecting_logger(trt)
    assert trt.Runtime(logger).deserialize_cuda_engine(plan) is None
    assert "generated on an incompatible device, expecting compute 8.0 got compute 9.0" in logger.errors()[0]
    with pytest.raises(TypeError):
        trt.Runtime(logger).deserialize_cuda_engine("not bytes")


def test_dynamic_inputs_need_valid_profiles(trt):
    logger = collecting_logger(trt)
    assert build(trt, logger, profiles=[]) is None
    assert "Network has dynamic or shape inputs, but no optimization profile has been defined." in logger.errors()[-1]
    assert build(trt, logger, profiles=[((1, 4), (2, 4), (4, 4))]) is None  # dim 1 is fixed at 8
    assert "does not match network definition" in logger.errors()[-1]
    profile = trt.Builder(logger).create_optimization_profile()
    with pytest.raises(ValueError):
        profile.set_shape("x", (4, 8), (2, 8), (8, 8))
    assert trt.Builder(logger).create_builder_config().add_optimization_profile(profile) == -1


def test_typing_10_weak_11_strong(trt, rt):
    from onnxconverter_common import float16

    logger = collecting_logger(trt)
    if trt_double.installed() == "10.16":
        engine = trt.Runtime(logger).deserialize_cuda_engine(build(trt, logger, fp16=True))
        assert engine.get_tensor_dtype("x") == trt.DataType.FLOAT  # weak typing keeps FP32 I/O
        assert trt.Builder(logger).create_network().flags == 0  # flags 0: explicit batch, weakly typed
    else:
        assert not hasattr(trt.BuilderFlag, "FP16")
    model16 = float16.convert_float_to_float16(mlp_model())
    bound = Bound(trt, rt, build(trt, logger, model=model16), logger)
    assert bound.engine.get_tensor_dtype("x") == trt.DataType.HALF  # types come from the model
    x = np.random.default_rng(2).standard_normal((4, 8)).astype(np.float16)
    y = bound.run(x, 0)["y"]
    assert y.dtype == np.float16
    np.testing.assert_allclose(y, ort_run(model16, {"x": x})["y"], rtol=1e-3, atol=1e-3)


def test_timing_cache_names_version_and_device(install):
    trt = install("11.4")
    logger = collecting_logger(trt)
    config = trt.Builder(logger).create_builder_config()
    cache = config.create_timing_cache(b"")
    assert config.set_timing_cache(cache, False)
    assert build(trt, logger) is not None
    blob = bytes(cache.serialize())
    trt = install("11.4", devices=[A100])
    logger = collecting_logger(trt)
    config = trt.Builder(logger).create_builder_config()
    other = config.create_timing_cache(blob)
    assert not config.set_timing_cache(other, False)
    assert "timing cache was created on 'NVIDIA H100 80GB HBM3 sm9.0'" in logger.errors()[-1]
    assert config.set_timing_cache(other, True)
    trt = install("10.16")
    logger = collecting_logger(trt)
    assert trt.Builder(logger).create_builder_config().create_timing_cache(blob) is not None
    assert "ignoring a timing cache from TensorRT 11.4.0.106" in logger.messages[-1][1]


# ----- CUDA --------------------------------------------------------------------------------------------
def test_cuda_memory_streams_and_events(trt, rt):
    E = rt.cudaError_t
    assert rt.cudaRuntimeGetVersion()[1] == (12080 if trt_double.installed() == "10.16" else 13000)
    ptr = ok(rt.cudaMalloc(1000))
    assert ptr % 256 == 0 and ptr >= 0x7E00_0000_0000
    host = np.arange(250, dtype=np.float32)
    assert rt.cudaMemcpy(ptr + 4, host.ctypes.data, host.nbytes, rt.cudaMemcpyKind.cudaMemcpyHostToDevice)[0] == \
        E.cudaErrorInvalidValue  # 4 bytes past the end
    assert rt.cudaMemcpy(host.ctypes.data, ptr, 8, rt.cudaMemcpyKind.cudaMemcpyHostToDevice)[0] == \
        E.cudaErrorInvalidValue  # wrong direction
    ok(rt.cudaMemcpy(ptr, host.ctypes.data, host.nbytes, rt.cudaMemcpyKind.cudaMemcpyHostToDevice))
    back = np.zeros_like(host)
    ok(rt.cudaMemcpy(back.ctypes.data, ptr, back.nbytes, rt.cudaMemcpyKind.cudaMemcpyDeviceToHost))
    assert np.array_equal(back, host)
    ok(rt.cudaFree(ptr))
    assert rt.cudaFree(ptr)[0] == E.cudaErrorInvalidValue  # double free
    assert rt.cudaMalloc(10 ** 14)[0] == E.cudaErrorMemoryAllocation
    assert rt.cudaSetDevice(3)[0] == E.cudaErrorInvalidDevice
    assert rt.cudaStreamSynchronize(12345)[0] == E.cudaErrorInvalidResourceHandle
    stream = ok(rt.cudaStreamCreate())
    start, stop = ok(rt.cudaEventCreate()), ok(rt.cudaEventCreate())
    assert rt.cudaEventElapsedTime(start, stop)[0] == E.cudaErrorInvalidResourceHandle  # never recorded
    ok(rt.cudaEventRecord(start, int(stream)))
    ptr = ok(rt.cudaMalloc(host.nbytes))
    ok(rt.cudaMemcpyAsync(ptr, host.ctypes.data, host.nbytes, rt.cudaMemcpyKind.cudaMemcpyHostToDevice, stream))
    ok(rt.cudaEventRecord(stop, stream))
    assert rt.cudaEventElapsedTime(start, stop)[0] == E.cudaErrorNotReady
    ok(rt.cudaStreamSynchronize(stream))
    assert ok(rt.cudaEventElapsedTime(start, stop)) > 0
    ok(rt.cudaMemcpyAsync(back.ctypes.data, ptr, 8, rt.cudaMemcpyKind.cudaMemcpyDeviceToHost, 0))  # legacy stream
    assert rt.cudaStreamQuery(0)[0] == E.cudaErrorNotReady  # work pending; the poll lets it finish
    ok(rt.cudaStreamQuery(0))
    ok(rt.cudaStreamDestroy(stream))
    for ev in (start, stop):
        ok(rt.cudaEventDestroy(ev))
    assert rt.cudaGetErrorString(E.cudaErrorIllegalAddress)[1] == b"an illegal memory access was encountered"


def test_two_devices_and_per_thread_current_device(install):
    trt = install("11.4", devices=[H100, A100])
    from cuda.bindings import runtime as rt

    logger = collecting_logger(trt)
    assert ok(rt.cudaGetDeviceCount()) == 2
    prop = ok(rt.cudaGetDeviceProperties(1))
    assert (prop.name, prop.major, prop.minor, prop.pciBusID) == (A100["name"].encode(), 8, 0, 0x41)
    bound = Bound(trt, rt, build(trt, logger), logger)  # deserialized on device 0
    ctx = bound.ctx
    assert ctx.set_input_shape("x", (2, 8))
    ctx.set_tensor_address("x", bound.malloc(64))
    ctx.set_tensor_address("y", bound.malloc(32))
    ok(rt.cudaSetDevice(1))
    seen = []
    thread = threading.Thread(target=lambda: seen.append(ok(rt.cudaGetDevice())))
    thread.start()
    thread.join()
    assert seen == [0] and ok(rt.cudaGetDevice()) == 1
    stream1 = ok(rt.cudaStreamCreate())
    assert not ctx.execute_async_v3(int(stream1))  # device 1 current: the engine lives on device 0
    assert "engine deserialized on device 0, device 1 is current" in logger.errors()[-1]
    ok(rt.cudaSetDevice(0))
    assert not ctx.execute_async_v3(int(stream1))  # a stream of device 1 with device 0 current
    assert logger.errors()[-1] == "IExecutionContext::enqueueV3: Error Code 1: Cuda Runtime (invalid resource handle)"
    assert ctx.execute_async_v3(int(bound.stream))
    assert int(bound.sync()) == 0
    assert trt.Runtime(logger).deserialize_cuda_engine(build(trt, logger)) is not None
    ok(rt.cudaSetDevice(1))
    plan = bytes(build(trt, logger))  # built for sm 8.0 on device 1
    ok(rt.cudaSetDevice(0))
    assert trt.Runtime(logger).deserialize_cuda_engine(plan) is None


def test_deserialize_across_runtimes_and_threads(trt):
    plan = bytes(build(trt, trt.Logger()))
    results = []

    def load():
        results.append(trt.Runtime(trt.Logger()).deserialize_cuda_engine(plan) is not None)

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 4


def test_logger_prints_to_stderr_by_severity(trt, capsys):
    logger = trt.Logger(trt.Logger.ERROR)
    trt.Runtime(logger).deserialize_cuda_engine(b"nonsense")
    logger.log(trt.Logger.WARNING, "filtered out")
    logger.min_severity = trt.Logger.VERBOSE
    logger.log(trt.Logger.INFO, "shown")
    err = capsys.readouterr().err
    assert err.startswith("[TRT] [E] IRuntime::deserializeCudaEngine: Error Code 1: Serialization")
    assert "filtered out" not in err and "[TRT] [I] shown" in err


# ----- the shim ------------------------------------------------------------------------------------
def _shim_env(**extra):
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env.update(PYTHONPATH=str(SHIM), PATH=f"{SHIM / 'bin'}{os.pathsep}{env.get('PATH', '')}", **extra)
    return env


def test_shim_makes_tensorrt_and_cuda_the_double_in_another_process():
    code = ("import importlib.util, sys\n"
            "assert importlib.util.find_spec('tensorrt') is not None\n"
            "import tensorrt\n"
            "assert sys.modules['tensorrt'] is tensorrt and importlib.util.find_spec('tensorrt') is not None\n"
            "from cuda.bindings import runtime\n"
            "import cuda.cudart\n"
            "print(tensorrt.__version__, runtime.cudaRuntimeGetVersion()[1], runtime.cudaGetDeviceCount()[1],\n"
            "      cuda.cudart is runtime)\n")
    devices = json.dumps([H100, A100])
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False,
                         env=_shim_env(TRTFAQ_TRT_DOUBLE="10.16", TRTFAQ_DOUBLE_DEVICES=devices))
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["10.16.1.11", "12080", "2", "True"]
    res = subprocess.run([sys.executable, "-c", "import tensorrt"], capture_output=True, text=True, timeout=60, check=False,
                         env=_shim_env())
    assert res.returncode != 0 and "TRTFAQ_TRT_DOUBLE" in res.stderr


def test_shim_nvidia_smi_reports_the_configured_devices():
    query = ["nvidia-smi", "--query-gpu=index,name,compute_cap,memory.total,memory.free,driver_version",
             "--format=csv,noheader,nounits"]
    res = subprocess.run(query, capture_output=True, text=True, timeout=60, check=False,
                         env=_shim_env(TRTFAQ_TRT_DOUBLE="11.4", TRTFAQ_DOUBLE_DEVICES=json.dumps([H100, A100])))
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["0, NVIDIA H100 80GB HBM3, 9.0, 81559, 81559, 580.95.05",
                                       "1, NVIDIA A100-SXM4-80GB, 8.0, 81920, 81920, 580.95.05"]
    res = subprocess.run(["nvidia-smi", "--query-gpu=pci.bus_id", "--format=csv,noheader"], capture_output=True,
                         text=True, timeout=60, check=False, env=_shim_env(TRTFAQ_TRT_DOUBLE="10.16"))
    assert res.stdout.strip() == "00000000:01:00.0"
