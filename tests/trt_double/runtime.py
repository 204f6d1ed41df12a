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
from .enums import DataType, ExecutionContextAllocationStrategy, TensorIOMode, TensorLocation
from .plan import PlanError, read_plan
from .programs import program_for
from .surface import Base, active_version, prop

_capsule_new = ctypes.pythonapi.PyCapsule_New
_capsule_new.restype = ctypes.py_object
_capsule_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]


def _capsule(address: int):
    """A PyCapsule holding ``address``: how pybind11 hands a ``void*`` to Python (the stub's CapsuleType)."""
    return _capsule_new(address, None, None)


def _volume(shape) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


class Runtime(Base):
    _real = "Runtime"

    def __init__(self, logger):
        if not isinstance(logger, ILogger):
            raise TypeError("__init__(): incompatible constructor arguments: Runtime(logger: ILogger)")
        self._logger = logger

    @prop()
    def logger(self):
        return self._logger

    def deserialize_cuda_engine(self, serialized_engine):
        """Docstring: "returns: The ICudaEngine, or None if it could not be deserialized." A plan loads
        only under the TensorRT version and on the compute capability it was built for (contract.py)."""
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
        if header.get("tensorrt_version") != active_version():
            for line in contract.plan_version(active_version(), header.get("tensorrt_version")):
                error(log, line)
            return None
        st = cudart._state()
        device = cudart._current(st)
        spec = st.devices[device].spec
        if header["compute_capability"] != spec.compute_capability:
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
        """Modelled activation memory: twice the inputs at the profile's max shapes, plus 1 MiB."""
        total = sum(itemsize(getattr(DataType, self._io[n]["dtype"])) * _volume(s[2])
                    for n, s in self._profiles[index].items())
        return -(-(2 * total + (1 << 20)) // 256) * 256

    @prop()
    def device_memory_size_v2(self):
        return max(self._memory_for_profile(i) for i in range(len(self._profiles)))

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
        elif strategy == ExecutionContextAllocationStrategy.USER_MANAGED:
            from .surface import not_implemented

            raise not_implemented("ICudaEngine.create_execution_context(USER_MANAGED)")
        return IExecutionContext._make(self, reservation)

    def serialize(self):
        return IHostMemory._of(self._plan)


def _release(st, alloc):
    if alloc is not None and cudart._STATE is st:
        with st.lock:
            cudart._release(st, alloc)


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
    def _make(cls, engine, reservation):
        ctx = cls._new(_engine=engine, _logger=engine._logger, _profile=0, _shapes={}, _addresses={},
                       _listener=None, _debug_on=set(), _name="", _memo=None, _warned_default_stream=False)
        ctx._reset_shapes()
        weakref.finalize(ctx, _release, engine._st, reservation)
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
            self._profile = profile_index
            self._reset_shapes()
        return True

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
