"""Runtime, engines, execution contexts and debug listeners of the double.

An engine belongs to the device current when it was deserialized. A context keeps the active profile,
input shapes, tensor addresses and debug states; ``execute_async_v3`` checks TensorRT's contract
(contract.py), snapshots shapes and addresses, and enqueues the computation on the CUDA stream of the
double (cudart.py): it runs when the host synchronizes, reading inputs from and writing outputs to the
modelled device memory.
"""
from __future__ import annotations

import ctypes
import sys
import weakref

import numpy as np

from . import contract, cudart
from .core import Dims, IHostMemory, ILogger, error, itemsize, to_numpy, warning
from .enums import (
    DataType,
    ExecutionContextAllocationStrategy,
    HardwareCompatibilityLevel,
    TensorIOMode,
    TensorLocation,
)
from .plan import PlanError, read_plan
from .programs import program_for
from .surface import Base, active_major, active_version, prop

_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


def _capsule(address: int):
    """A PyCapsule holding ``address``: how pybind11 hands a ``void*`` to Python (the stub's CapsuleType)."""
    return _capsule_new(address, None, None)


def _volume(shape) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


#: the only pairs of majors a version-compatible plan may cross (Support Matrix 11.4.0, "Engine Portability":
#: "TensorRT 10 version-compatible engines can run with a TensorRT 11 runtime, and TensorRT 8
#: version-compatible engines can run with a TensorRT 10 runtime. No other combination across major versions
#: is supported.")
FORWARD_MAJORS = {(8, 10), (10, 11)}


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in str(version).split("."))


def _lean_library_version(path: str):
    """(version, None) of a lean runtime library file, read with ctypes from the library itself (its
    getInferLib*Version functions), or (None, why)."""
    import os

    if not os.path.isfile(path):
        return None, "no such file"
    if "nvinfer_lean" not in os.path.basename(path):
        return None, "not a libnvinfer_lean library"
    try:
        lib = ctypes.CDLL(path)
        parts = []
        for part in ("Major", "Minor", "Patch", "Build"):
            fn = getattr(lib, f"getInferLib{part}Version")
            fn.restype = ctypes.c_int32
            parts.append(str(fn()))
    except (OSError, AttributeError) as exc:
        return None, f"cannot load it ({type(exc).__name__})"
    return ".".join(parts), None


class Runtime(Base):
    _real = "Runtime"

    def __init__(self, logger):
        if not isinstance(logger, ILogger):
            raise TypeError("__init__(): incompatible constructor arguments: Runtime(logger: ILogger)")
        self._logger = logger
        self._host_code = False  # docstring: engine_host_code_allowed "(Default: False)"
        self._lean = None        # the version of a lean runtime returned by load_runtime

    @prop()
    def logger(self):
        return self._logger

    @prop()
    def num_DLA_cores(self):  # noqa: N802
        """Chapter 8. 11.4 docstring: "The number of DLA hardware cores accessible, or 0 if DLA is unavailable."
        The double plays a GPU without DLA: 0."""
        return 0

    @prop(10, 11)
    def engine_host_code_allowed(self):
        """Docstring: "Whether this runtime is allowed to deserialize engines that contain host executable code
        (Default: False)."
        """
        return self._host_code

    @engine_host_code_allowed.setter
    def engine_host_code_allowed(self, value):
        self._host_code = bool(value)

    def load_runtime(self, path):
        """Docstring: "Load IRuntime from the file. This method loads a runtime library from a shared library file.
        The runtime can then be used to execute a plan file built with BuilderFlag.VERSION_COMPATIBLE and
        BuilderFlag.EXCLUDE_LEAN_RUNTIME both set and built with the same version of TensorRT as the loaded runtime
        library." "returns: The IRuntime, or None if it could not be loaded." The double reads the library's
        version with ctypes and returns a runtime that plays it."""
        if not isinstance(path, str):
            raise TypeError("load_runtime(): incompatible function arguments: (self: Runtime, path: str)")
        version, why = _lean_library_version(path)
        if version is None:
            error(self._logger, contract.lean_load_failed(path, why))
            return None
        return Runtime._new(_logger=self._logger, _host_code=False, _lean=version)

    def _compatible(self, header) -> list[str]:
        """The error lines that refuse ``header``'s plan here (version, lean runtime, host code), or []."""
        plan, here = header.get("tensorrt_version"), active_version()
        if header.get("runtime_platform", "SAME_AS_BUILD") != "SAME_AS_BUILD":
            return [contract.platform_mismatch()]
        vc, embedded = header.get("version_compatible", False), header.get("lean_runtime_embedded", False)
        if self._lean is not None:
            if not vc:
                return [contract.lean_runtime_not_vc()]
            if embedded:
                return [contract.lean_runtime_refuses(self._lean, "built with VERSION_COMPATIBLE and "
                                                                  "EXCLUDE_LEAN_RUNTIME (load_runtime docstring)")]
            return [] if plan == self._lean else contract.plan_version(self._lean, plan)
        if not vc:
            return [] if plan == here else contract.plan_version(here, plan)
        p, r = _numbers(plan)[0], _numbers(here)[0]
        if _numbers(plan) > _numbers(here) or (p != r and (p, r) not in FORWARD_MAJORS):
            return contract.plan_version(here, plan)
        if not embedded and plan != here:
            return [contract.lean_runtime_missing(plan, here)]
        if embedded and not self._host_code:
            return [contract.host_code_not_allowed()]
        return []

    def deserialize_cuda_engine(self, serialized_engine):
        """Docstring: "returns: The ICudaEngine, or None if it could not be deserialized." A plan loads
        only under the TensorRT version and on the compute capability it was built for (contract.py), unless
        it was built version compatible (then also on later versions within FORWARD_MAJORS, with host code
        allowed when it embeds its lean runtime) or with a hardware compatibility level (AMPERE_PLUS: any
        compute capability 8.0 or later)."""
        try:
            data = bytes(memoryview(serialized_engine))
        except TypeError:
            raise TypeError("deserialize_cuda_engine(): incompatible function arguments: expected a buffer") \
                from None
        log = self._logger
        try:
            header, payload = read_plan(data)
        except PlanError:
            for line in contract.plan_magic():
                error(log, line)
            return None
        refused = self._compatible(header)
        if refused:
            for line in refused:
                error(log, line)
            return None
        st = cudart._state()
        device = cudart._current(st)
        spec = st.devices[device].spec
        if header.get("hardware_compatibility_level") == "AMPERE_PLUS":
            fits = spec.major >= 8  # "compatible with Ampere and newer GPUs"
        else:  # NONE and SAME_COMPUTE_CAPABILITY: the compute capability it was built for
            fits = header["compute_capability"] == spec.compute_capability
        if not fits:
            for line in contract.plan_device(spec.compute_capability, header["compute_capability"]):
                error(log, line)
            return None
        with st.lock:
            weights = cudart._allocate(st, device, int(header["weights_bytes"]), reserved=True)
        if weights is None:
            error(log, f"{contract.DOUBLE}not enough device memory on device {device} for the engine's weights")
            return None
        return ICudaEngine._make(self, header, payload, data, st, device, weights)


class ICudaEngine(Base):
    _real = "ICudaEngine"

    @classmethod
    def _make(cls, runtime, header, payload, plan, st, device, weights):
        engine = cls._new(_logger=runtime._logger, _header=header, _plan=plan, _st=st, _device=device,
                          _program=program_for(header, payload),
                          _io={t["name"]: t for t in header["io"]},
                          _order=[t["name"] for t in header["io"]],
                          _debug={d["name"]: d for d in header["debug"]},
                          _profiles=[{n: tuple(tuple(s) for s in v) for n, v in p.items()} for p in header["profiles"]])
        weakref.finalize(engine, _release, st, weights)
        return engine

    def _tensor(self, name, call):
        found = self._io.get(name)
        if found is None:
            error(self._logger, contract.not_an_io_tensor(f"ICudaEngine.{call}", name))
        return found

    @prop()
    def num_io_tensors(self):
        return len(self._order)

    @prop()
    def num_layers(self):
        return int(self._header["num_layers"])

    @prop()
    def num_optimization_profiles(self):
        return len(self._profiles)

    @prop()
    def name(self):
        return self._header["network_name"]

    @prop()
    def hardware_compatibility_level(self):
        """ICudaEngine docstring: ":ivar hardware_compatibility_level: The hardware compatibility level of the
        engine."
        """
        return getattr(HardwareCompatibilityLevel, self._header.get("hardware_compatibility_level", "NONE"))

    def get_tensor_name(self, index):
        return self._order[index] if 0 <= index < len(self._order) else None

    def get_tensor_mode(self, name):
        t = self._io.get(name)
        return TensorIOMode.NONE if t is None else getattr(TensorIOMode, t["mode"])

    def get_tensor_shape(self, name):
        t = self._tensor(name, "get_tensor_shape")
        return Dims(() if t is None else t["shape"])

    def get_tensor_dtype(self, name):
        t = self._tensor(name, "get_tensor_dtype")
        return DataType.FLOAT if t is None else getattr(DataType, t["dtype"])

    def get_tensor_location(self, name):
        self._tensor(name, "get_tensor_location")
        return TensorLocation.DEVICE

    def get_tensor_profile_shape(self, name, profile_index):
        """Docstring: "Get the minimum/optimum/maximum dimensions for a particular tensor under an
        optimization profile." For an output, or a profile that does not exist, the double logs an error
        and returns an empty list."""
        t = self._tensor(name, "get_tensor_profile_shape")
        if t is None or t["mode"] != "INPUT" or not 0 <= profile_index < len(self._profiles):
            if t is not None:
                error(self._logger, f"{contract.DOUBLE}get_tensor_profile_shape('{name}', {profile_index}): not an "
                                    f"input, or no such profile")
            return []
        return [Dims(s) for s in self._profiles[profile_index][name]]

    def is_debug_tensor(self, name):
        return name in self._debug

    def _memory_for_profile(self, index) -> int:
        """Modelled activation memory: twice the inputs at the profile's max shapes, plus 1 MiB, plus the
        scratch of the modelled tactics the build kept under its WORKSPACE limit (builder._workspace_model)."""
        total = sum(itemsize(getattr(DataType, self._io[n]["dtype"])) * _volume(s[2])
                    for n, s in self._profiles[index].items())
        return -(-(2 * total + (1 << 20) + int(self._header.get("scratch_bytes", 0))) // 256) * 256

    @prop()
    def device_memory_size_v2(self):
        return max(self._memory_for_profile(i) for i in range(len(self._profiles)))

    @prop()
    def profiling_verbosity(self):
        """Docstring: "The profiling verbosity the builder config was set to when the engine was built."
        (chapter 12)"""
        from .enums import ProfilingVerbosity

        return getattr(ProfilingVerbosity, self._header.get("profiling_verbosity", "LAYER_NAMES_ONLY"))

    def get_device_memory_size_for_profile_v2(self, profile_index):
        if not 0 <= profile_index < len(self._profiles):
            error(self._logger, f"{contract.DOUBLE}no optimization profile {profile_index}")
            return 0
        return self._memory_for_profile(profile_index)

    def create_execution_context(self, strategy=ExecutionContextAllocationStrategy.STATIC):
        if not isinstance(strategy, ExecutionContextAllocationStrategy):
            raise TypeError("create_execution_context(): incompatible function arguments")
        reservation = None
        if strategy == ExecutionContextAllocationStrategy.STATIC:
            with self._st.lock:
                reservation = cudart._allocate(self._st, self._device, self.device_memory_size_v2, reserved=True)
            if reservation is None:
                error(self._logger, f"{contract.DOUBLE}out of device memory for an execution context "
                                    f"({self.device_memory_size_v2} bytes) on device {self._device}")
                return None
        elif strategy == ExecutionContextAllocationStrategy.ON_PROFILE_CHANGE:
            # "Reallocate for a profile when it's selected." (docstring): profile 0 is selected at creation
            with self._st.lock:
                reservation = cudart._allocate(self._st, self._device, self._memory_for_profile(0), reserved=True)
            if reservation is None:
                error(self._logger, f"{contract.DOUBLE}out of device memory for an execution context on device "
                                    f"{self._device}")
                return None
        # USER_MANAGED: "The user supplies custom allocation to the execution context." Nothing is reserved;
        # IExecutionContext.set_device_memory must come before execute_async_v3 (chapter 3).
        return IExecutionContext._make(self, reservation, strategy)

    def serialize(self):
        return IHostMemory._of(self._plan)

    def create_engine_inspector(self):
        """Docstring: "Create an IEngineInspector which prints out the layer information of an engine or an
        execution context." (chapter 9)"""
        return EngineInspector._new(_engine=self, _context=None)


class EngineInspector(Base):
    """The engine inspector. Real layer information (fusions, formats, tactics) exists only in TensorRT;
    the double reports the layers of the network it recorded at build time, in a JSON of its own that says
    so. The output form follows ProfilingVerbosity's docstrings: LAYER_NAMES_ONLY "Print only the layer names.
    This is the default setting.", DETAILED "Print detailed layer information including layer names and layer
    parameters.", NONE "Do not print any layer information." The top-level keys follow the 10.x and 11.x
    formats as NVIDIA's 10.x-to-11.x IEngineInspector migration page describes them ("Layers" in both;
    "Bindings" in 10.x, "I/O Tensors" in 11.x); everything inside a layer is the double's."""

    _real = "EngineInspector"

    @prop(10, 11)
    def execution_context(self):
        return self._context

    @execution_context.setter
    def execution_context(self, value):
        if value is not None and not isinstance(value, IExecutionContext):
            raise TypeError("execution_context must be an IExecutionContext")
        self._context = value

    def _layers(self):
        header = self._engine._header
        verbosity = header.get("profiling_verbosity", "LAYER_NAMES_ONLY")
        layers = header.get("layer_info", [])
        if verbosity == "NONE":
            return []
        if verbosity == "LAYER_NAMES_ONLY":
            return [layer["Name"] for layer in layers]
        return [{**layer, "TensorRT test double": "the network's layers as built, not TensorRT's engine layers"}
                for layer in layers]

    def _format(self, value, format):
        import json

        from .enums import LayerInformationFormat

        if not isinstance(format, LayerInformationFormat):
            raise TypeError(f"incompatible function arguments: format must be a LayerInformationFormat, got {format!r}")
        if format == LayerInformationFormat.JSON:
            return json.dumps(value)
        return "\n".join(v if isinstance(v, str) else v["Name"] for v in (value if isinstance(value, list) else [value]))

    def get_engine_information(self, format):
        io_key = "I/O Tensors" if active_major() >= 11 else "Bindings"
        io = self._io_tensors() if active_major() >= 11 else list(self._engine._order)
        return self._format({"Layers": self._layers(), io_key: io}, format) \
            if format.name == "JSON" else self._format(self._layers(), format)

    #: DataType -> the spelling of the 11.x "I/O Tensors" entries. Only "Float" is documented (the migration
    #: guide's example); the others are inferred in the same style (chapter 12).
    _TYPE_NAMES = {"FLOAT": "Float", "HALF": "Half", "BF16": "BFloat16", "INT8": "Int8", "INT32": "Int32",
                   "INT64": "Int64", "BOOL": "Bool", "UINT8": "UInt8", "FP8": "FP8"}

    def _io_tensors(self):
        """11.x: "a list of JSON objects [...] name, I/O mode, data type, dimensions, memory location, and
        whether it is a shape inference I/O" with per-profile shapes and format, keyed as in the migration
        guide's example (docs 11.0.0, tensorrt-10x-to-11x-IEngineInspector). The "Format" text is the guide's
        "Row major linear FP32 format (kLINEAR)" with the tensor's type; the double has no other formats."""
        engine, out = self._engine, []
        for name in engine._order:
            t = engine._io[name]
            kind = {"FLOAT": "FP32", "HALF": "FP16"}.get(t["dtype"], t["dtype"])
            fmt = f"Row major linear {kind} format (kLINEAR)"
            profiles = [{"MinShape": list(p[name][0]), "OptShape": list(p[name][1]), "MaxShape": list(p[name][2]),
                         "Format": fmt} if name in p else {"Format": fmt} for p in engine._profiles]
            out.append({"Name": name, "IOMode": "Input" if t["mode"] == "INPUT" else "Output",
                        "DataType": self._TYPE_NAMES.get(t["dtype"], t["dtype"]), "Dimensions": list(t["shape"]),
                        "Location": "Device", "IsShapeInferenceIO": False, "ProfileInfo": profiles})
        return out

    def get_layer_information(self, layer_index, format):
        layers = self._layers()
        if not 0 <= int(layer_index) < len(layers):
            error(self._engine._logger, f"{contract.DOUBLE}get_layer_information: no layer {layer_index}")
            return ""
        return self._format(layers[int(layer_index)], format)


def _release(st, alloc):
    if alloc is not None and cudart._STATE is st:
        with st.lock:
            cudart._release(st, alloc)


def _release_all(st, allocs):
    """Release a context's reservations (ON_PROFILE_CHANGE swaps them; the list holds the current one)."""
    for alloc in list(allocs):
        _release(st, alloc)


class IDebugListener(Base):
    """Users subclass it and implement ``process_debug_tensor`` (docstring: "User implemented callback
    function that is called when value of a debug tensor is updated and the debug state of the tensor is
    set to true. Content in the given address is only guaranteed to be valid for the duration of the
    callback.")."""

    _real = "IDebugListener"

    def __init__(self):
        pass

    def process_debug_tensor(self, addr, location, type, shape, name, stream):
        raise RuntimeError('Tried to call pure virtual function "IDebugListener::process_debug_tensor"')


class IExecutionContext(Base):
    _real = "IExecutionContext"

    @classmethod
    def _make(cls, engine, reservation, strategy=ExecutionContextAllocationStrategy.STATIC):
        ctx = cls._new(_engine=engine, _logger=engine._logger, _profile=0, _shapes={}, _addresses={},
                       _listener=None, _debug_on=set(), _name="", _memo=None, _warned_default_stream=False)
        ctx._reset_shapes()
        ctx._strategy, ctx._user_memory, ctx._reservations = strategy, None, [reservation]
        weakref.finalize(ctx, _release_all, engine._st, ctx._reservations)
        return ctx

    def _inputs(self):
        return [n for n in self._engine._order if self._engine._io[n]["mode"] == "INPUT"]

    def _reset_shapes(self):
        # static inputs are fully specified; dynamic ones wait for set_input_shape
        self._shapes = {n: tuple(self._engine._io[n]["shape"]) for n in self._inputs()
                        if all(d >= 0 for d in self._engine._io[n]["shape"])}

    @prop()
    def engine(self):
        return self._engine

    @prop(10, 11)
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = str(value)

    # ----- profiles and shapes -----------------------------------------------------------------
    @prop()
    def active_optimization_profile(self):
        return self._profile

    def set_optimization_profile_async(self, profile_index, stream_handle):
        """Docstring: "When an optimization profile is switched via this API, TensorRT may require that data
        is copied via cudaMemcpyAsync." The double enqueues a small copy on the stream. Switching profile
        invalidates the input shapes (active_optimization_profile: "Changing this value will invalidate all
        dynamic bindings for the current execution context, so that they have to be set again using
        set_input_shape")."""
        engine, st = self._engine, self._engine._st
        count = len(engine._profiles)
        if not isinstance(profile_index, int) or not 0 <= profile_index < count:
            error(self._logger, contract.bad_profile_index(profile_index, count))
            return False
        with st.lock:
            err, stream = cudart._stream(st, stream_handle)
            if err != cudart._OK:
                error(self._logger, contract.cuda_failure(cudart._ERROR_STRINGS[err]))
                return False
            cudart._enqueue(st, stream, lambda: None, 0.001, "profile switch")
        if profile_index != self._profile:
            if self._strategy == ExecutionContextAllocationStrategy.ON_PROFILE_CHANGE:
                with st.lock:
                    new = cudart._allocate(st, engine._device, engine._memory_for_profile(profile_index), reserved=True)
                    if new is None:
                        error(self._logger, f"{contract.DOUBLE}out of device memory for profile {profile_index}")
                        return False
                    for old in self._reservations:
                        if old is not None:
                            cudart._release(st, old)
                    self._reservations[:] = [new]
            self._profile = profile_index
            self._reset_shapes()
        return True

    def set_device_memory(self, memory, size):
        """Docstring: ":arg memory: 256-byte aligned device memory. :arg size: Size of the provided memory.
        This must be at least as large as CudaEngine.get_device_memory_size_v2" (chapter 3). The double also
        requires the range to lie in one live allocation of the engine's device; a call that breaks a rule
        logs why and sets nothing (TensorRT's own handling of these cases is not confirmed)."""
        engine, st = self._engine, self._engine._st
        address, size = int(memory), int(size)
        need = engine.device_memory_size_v2
        if address % 256:
            error(self._logger, contract.device_memory_misaligned(address))
        elif size < need:
            error(self._logger, contract.device_memory_too_small(size, need))
        elif address == 0 and need == 0:
            self._user_memory = (0, 0)
        elif cudart._device_range(st, address, size, engine._device) is None:
            error(self._logger, contract.device_memory_not_allocated(address, size))
        else:
            self._user_memory = (address, size)

    def set_input_shape(self, name, shape):
        """Returns False and logs TensorRT's error when ``shape`` is outside the *active* profile's
        [min, max] (contract.shape_outside_profile), has the wrong rank, or changes a static dimension."""
        from .core import shape_tuple

        shape = shape_tuple(shape)
        t = self._engine._io.get(name)
        if t is None or t["mode"] != "INPUT":
            error(self._logger, contract.not_an_input("set_input_shape", name))
            return False
        static = t["shape"]
        if len(shape) != len(static):
            error(self._logger, contract.rank_mismatch(name, shape, len(static)))
            return False
        if any(s >= 0 and s != d for s, d in zip(static, shape)):
            error(self._logger, contract.static_dim_mismatch())
            return False
        lo, _, hi = self._engine._profiles[self._profile][name]
        if not all(a <= d <= b for a, d, b in zip(lo, shape, hi)):
            error(self._logger, contract.shape_outside_profile(name, shape, self._profile, lo, hi))
            return False
        self._shapes[name] = shape
        return True

    def _unspecified(self):
        return [n for n in self._inputs() if n not in self._shapes]

    def infer_shapes(self):
        """Docstring: "returns: A List[str] indicating the names of any tensors which have not been
        sufficiently specified, or an empty list on success.\""""
        return self._unspecified()

    def _output_shapes(self):
        return self._engine._program.output_shapes(dict(self._shapes))

    def get_tensor_shape(self, name):
        t = self._engine._io.get(name)
        if t is None:
            error(self._logger, contract.not_an_io_tensor("IExecutionContext.get_tensor_shape", name))
            return Dims(())
        if t["mode"] == "INPUT":
            return Dims(self._shapes.get(name, t["shape"]))
        if self._unspecified():
            return Dims(t["shape"])  # dims depending on unset inputs stay -1
        return Dims(self._output_shapes()[name])

    # ----- addresses ---------------------------------------------------------------------------
    def set_tensor_address(self, name, memory):
        if name not in self._engine._io:
            error(self._logger, contract.not_an_io_tensor("IExecutionContext.set_tensor_address", name))
            return False
        self._addresses[name] = int(memory)
        return True

    def get_tensor_address(self, name):
        return self._addresses.get(name, 0)

    # ----- debug tensors -----------------------------------------------------------------------
    def set_debug_listener(self, listener):
        if listener is not None and not isinstance(listener, IDebugListener):
            raise TypeError("set_debug_listener(): incompatible function arguments: expected IDebugListener")
        self._listener = listener
        return True

    def get_debug_listener(self):
        return self._listener

    def set_tensor_debug_state(self, name, flag):
        if name not in self._engine._debug:
            error(self._logger, contract.not_a_debug_tensor(name))
            return False
        (self._debug_on.add if flag else self._debug_on.discard)(name)
        return True

    def get_debug_state(self, name):
        return name in self._debug_on

    def set_all_tensors_debug_state(self, flag):
        self._debug_on = set(self._engine._debug) if flag else set()
        return True

    # ----- execution ---------------------------------------------------------------------------
    def execute_async_v3(self, stream_handle):
        """Enqueue the engine on ``stream_handle``; False with TensorRT's error logged when the contract is
        broken (contract.py). Docstring: "Modifying or releasing memory that has been registered for the
        tensors before stream synchronization [...] results in undefined behavior.\""""
        engine, st, log = self._engine, self._engine._st, self._logger
        if cudart._STATE is not st:
            error(log, f"{contract.DOUBLE}this engine belongs to a CUDA state discarded by trt_double.reset()")
            return False
        with st.lock:
            current = cudart._current(st)
            sticky = st.devices[current].sticky
            if sticky:
                error(log, contract.cuda_failure(cudart._ERROR_STRINGS[sticky]))
                return False
            err, stream = cudart._stream(st, stream_handle)
            if err != cudart._OK or stream.device != current:
                error(log, contract.cuda_failure(cudart._ERROR_STRINGS[cudart._BAD_HANDLE]))
                return False
            if current != engine._device:
                error(log, contract.wrong_device(engine._device, current))
                return False
            if self._strategy == ExecutionContextAllocationStrategy.USER_MANAGED and (
                    self._user_memory is None or (self._user_memory[1] and cudart._device_range(
                        st, *self._user_memory, engine._device) is None)):
                error(log, contract.device_memory_unset() if self._user_memory is None else
                      contract.device_memory_not_allocated(*self._user_memory))
                return False
            missing = self._unspecified()
            if missing:
                error(log, contract.shapes_unspecified(missing))
                return False
            for name in engine._order:
                if not self._addresses.get(name):
                    mode = engine._io[name]["mode"]
                    error(log, contract.no_input_address(name) if mode == "INPUT" else contract.no_output_address(name))
                    return False
            if stream.legacy and not self._warned_default_stream:
                # wording: pytorch/TensorRT#3190; docstring of execute_async_v3: "Using default stream may
                # lead to performance issues [...] Please use non-default stream instead."
                self._warned_default_stream = True
                warning(log, "Using default stream in enqueueV3() may lead to performance issues due to additional "
                             "calls to cudaStreamSynchronize() by TensorRT to ensure correct synchronization. "
                             "Please use non-default stream instead.")
            shapes = dict(self._shapes)
            out_shapes = self._output_shapes()
            tensors = {}
            for name in engine._order:
                t = engine._io[name]
                shape = shapes[name] if t["mode"] == "INPUT" else out_shapes[name]
                dtype, address = getattr(DataType, t["dtype"]), self._addresses[name]
                need = _volume(shape) * itemsize(dtype)
                if cudart._device_range(st, address, need, engine._device) is None:
                    alloc, _ = cudart._find(st, address)
                    if alloc is not None and alloc.device != engine._device:
                        error(log, contract.buffer_on_other_device(name, address, alloc.device, engine._device))
                    else:
                        error(log, contract.buffer_too_small(name, address, need, cudart._bytes_to_end(st, address)))
                    return False
                tensors[name] = (t["mode"], address, shape, dtype)
            debug = {}
            for name in sorted(self._debug_on) if self._listener is not None else []:
                dtype = getattr(DataType, engine._debug[name]["dtype"])
                shape = out_shapes[name]
                alloc = cudart._allocate(st, engine._device, max(1, _volume(shape) * itemsize(dtype)))
                if alloc is None:
                    error(log, contract.cuda_failure(cudart._ERROR_STRINGS[cudart.cudaError_t.cudaErrorMemoryAllocation]))
                    return False
                debug[name] = (alloc, shape, dtype)
            io_bytes = sum(_volume(s) * itemsize(d) for _, _, s, d in tensors.values())
            cost = engine._program.cost_ms(shapes, io_bytes)
            cudart._enqueue(st, stream, lambda: self._run(st, tensors, debug), cost, "execute_async_v3")
        for name, (alloc, shape, dtype) in debug.items():
            # at enqueue, on the host: the listener's copy on this stream runs after the engine (stream order)
            self._listener.process_debug_tensor(_capsule(alloc.base), TensorLocation.DEVICE, dtype, Dims(shape),
                                                name, int(stream_handle))
        if debug:
            allocs = [a for a, _, _ in debug.values()]

            def release():
                for alloc in allocs:
                    cudart._release(st, alloc)
            with st.lock:
                cudart._enqueue(st, stream, release, 0.0, "release debug buffers")
        return True

    def _run(self, st, tensors, debug):
        """The enqueued work: runs when the stream is synchronized. Returns a CUDA error or None."""
        engine = self._engine
        if self._strategy == ExecutionContextAllocationStrategy.USER_MANAGED and self._user_memory[1] and \
                cudart._device_range(st, *self._user_memory, engine._device) is None:
            print(contract.device_memory_not_allocated(*self._user_memory), file=sys.stderr, flush=True)
            return cudart.cudaError_t.cudaErrorIllegalAddress  # the context's memory was freed before it ran
        feeds, outputs = {}, {}
        for name, (mode, address, shape, dtype) in tensors.items():
            nbytes = _volume(shape) * itemsize(dtype)
            view = cudart._device_range(st, address, nbytes, engine._device)
            if view is None:  # checked at enqueue; only memory released since could get here
                print(contract.buffer_too_small(name, address, nbytes, cudart._bytes_to_end(st, address)),
                      file=sys.stderr, flush=True)
                return cudart.cudaError_t.cudaErrorIllegalAddress
            if mode == "INPUT":
                feeds[name] = view.view(to_numpy(dtype)).reshape(shape).copy()
            else:
                outputs[name] = (view, shape, dtype)
        key = tuple((n, a.shape, a.tobytes()) for n, a in sorted(feeds.items()))
        if self._memo is not None and self._memo[0] == key:
            results = self._memo[1]  # same inputs as the last run: same outputs, without recomputing
        else:
            results = engine._program.run(feeds)
            self._memo = (key, results)
        targets = list(outputs.items()) + [(n, (a.buffer(), s, d)) for n, (a, s, d) in debug.items()]
        for name, (view, shape, dtype) in targets:
            arr = np.ascontiguousarray(np.asarray(results[name]).astype(to_numpy(dtype), copy=False))
            if arr.shape != tuple(shape):
                print(f"{contract.DOUBLE}'{name}' computed with shape {arr.shape}, expected {tuple(shape)}",
                      file=sys.stderr, flush=True)
                return cudart.cudaError_t.cudaErrorLaunchFailure
            raw = arr.reshape(-1).view(np.uint8)
            view[:raw.size] = raw
        return None
