"""Builder, builder config, optimization profiles and timing caches of the double.

A "build" validates the network and the profiles against TensorRT's documented rules and writes the
double's plan (see plan.py). Nothing is optimized; precision flags are recorded, not applied.
"""
from __future__ import annotations

import hashlib
import io

import numpy as np

from . import contract, cudart
from .core import Dims, IHostMemory, ILogger, error, info, warning
from .enums import BuilderFlag, MemoryPoolType, ProfilingVerbosity
from .network import INetworkDefinition, ITensor
from .plan import PlanError, read_cache, write_cache, write_plan
from .surface import Base, active_major, active_version, not_implemented, only, prop


def _device():
    st = cudart._state()
    device = cudart._current(st)
    return st, device, st.devices[device].spec


class IOptimizationProfile(Base):
    _real = "IOptimizationProfile"

    @classmethod
    def _make(cls):
        return cls._new(_shapes={})

    def set_shape(self, input, min, opt, max):
        """Docstring: "(1) len(min) == len(opt) == len(max) [...] (2) 0 <= min[i] <= opt[i] <= max[i] for all
        i" and ":raises: ValueError if an inconsistency was detected. Note that inputs can be validated only
        partially; a full validation is performed at engine build time.\""""
        from .core import shape_tuple

        lo, mid, hi = (shape_tuple(s) for s in (min, opt, max))
        if not len(lo) == len(mid) == len(hi):
            raise ValueError(f"min, opt and max of '{input}' must have one rank, got {lo}, {mid}, {hi}")
        if not all(0 <= a <= b <= c for a, b, c in zip(lo, mid, hi)):
            raise ValueError(f"'{input}' needs 0 <= min <= opt <= max, got {lo}, {mid}, {hi}")
        self._shapes[str(input)] = (lo, mid, hi)

    def get_shape(self, input):
        """Docstring: "If the shapes have not been set yet, an empty list is returned.\""""
        found = self._shapes.get(input)
        return [] if found is None else [Dims(s) for s in found]

    def __bool__(self):
        # "evaluating a profile as a bool [...] will check whether the optimization profile can be passed to
        # an IBuilderConfig object" (partial validation; the double also refuses an empty profile)
        return bool(self._shapes)

    def __nonzero__(self):
        return self.__bool__()


class ITimingCache(Base):
    """The double's timing cache: a header naming TensorRT version and device, and one entry per build."""

    _real = "ITimingCache"

    @classmethod
    def _make(cls, version, spec, entries=None):
        return cls._new(_version=version, _device_name=spec.name, _cc=spec.compute_capability,
                        _entries=dict(entries or {}))

    def serialize(self):
        return IHostMemory._of(write_cache({"tensorrt_version": self._version, "device_name": self._device_name,
                                            "compute_capability": self._cc}, self._entries))

    def reset(self):
        self._entries = {}
        return True


class IBuilderConfig(Base):
    _real = "IBuilderConfig"

    @classmethod
    def _make(cls, builder):
        # BuilderFlag.TF32: "Enabled by default."
        return cls._new(_builder=builder, _flags={BuilderFlag.TF32}, _pools={}, _profiles=[], _cache=None,
                        _verbosity=ProfilingVerbosity.LAYER_NAMES_ONLY, _opt_level=3)

    @property
    def _logger(self):
        return self._builder._logger

    # ----- flags -------------------------------------------------------------------------------
    @staticmethod
    def _check_flag(flag):
        if not isinstance(flag, BuilderFlag):
            raise TypeError(f"incompatible function arguments: flag must be a BuilderFlag, got {flag!r}")

    def set_flag(self, flag):
        self._check_flag(flag)
        self._flags.add(flag)

    def clear_flag(self, flag):
        self._check_flag(flag)
        self._flags.discard(flag)

    def get_flag(self, flag):
        self._check_flag(flag)
        return flag in self._flags

    @prop(10, 11)
    def flags(self):
        return sum(1 << int(f) for f in self._flags)

    @flags.setter
    def flags(self, value):
        chosen = set()
        for name in BuilderFlag.__members__:
            member = getattr(BuilderFlag, name)
            if int(value) & (1 << int(member)):
                chosen.add(member)
        if sum(1 << int(f) for f in chosen) != int(value):
            raise not_implemented(f"IBuilderConfig.flags (bits {int(value):#x} include flags the double lacks)")
        self._flags = chosen

    # ----- memory pools ------------------------------------------------------------------------
    def set_memory_pool_limit(self, pool, pool_size):
        if not isinstance(pool, MemoryPoolType):
            raise TypeError(f"incompatible function arguments: pool must be a MemoryPoolType, got {pool!r}")
        if int(pool_size) < 0:
            raise ValueError("pool_size must be >= 0")
        self._pools[pool] = int(pool_size)

    def get_memory_pool_limit(self, pool):
        """Docstring: "If set_memory_pool_limit for the pool has not been called, this returns the default
        value used by TensorRT." WORKSPACE: "This defaults to max device memory.\""""
        if pool in self._pools:
            return self._pools[pool]
        if pool == MemoryPoolType.WORKSPACE:
            return _device()[2].total_bytes
        raise not_implemented(f"IBuilderConfig.get_memory_pool_limit (default of {pool})")

    # ----- profiles ----------------------------------------------------------------------------
    def add_optimization_profile(self, profile):
        """Docstring: "returns: The index of the optimization profile (starting from 0) if the input is
        valid, or -1 if the input is not valid." The profile is copied: later set_shape calls do not
        change what was added."""
        if not isinstance(profile, IOptimizationProfile):
            raise TypeError("incompatible function arguments: expected IOptimizationProfile")
        if not profile:
            error(self._logger, f"{contract.DOUBLE}add_optimization_profile: the profile sets no shapes")
            return -1
        self._profiles.append(dict(profile._shapes))
        return len(self._profiles) - 1

    @prop()
    def num_optimization_profiles(self):
        return len(self._profiles)

    # ----- timing cache ------------------------------------------------------------------------
    def create_timing_cache(self, serialized_timing_cache):
        """Docstring: "If an empty cache is provided (i.e. b""), a new cache will be created.\""""
        _, _, spec = _device()
        data = bytes(memoryview(serialized_timing_cache))
        if not data:
            return ITimingCache._make(active_version(), spec)
        try:
            header = read_cache(data)
        except PlanError:
            error(self._logger, f"{contract.DOUBLE}create_timing_cache: these bytes are not a timing cache of the "
                                f"double")
            return None
        if header["tensorrt_version"] != active_version():
            warning(self._logger, contract.timing_cache_version(header["tensorrt_version"], active_version()))
            return ITimingCache._make(active_version(), spec)
        cache = ITimingCache._make(header["tensorrt_version"], spec, header.get("entries"))
        cache._device_name, cache._cc = header["device_name"], header["compute_capability"]
        return cache

    def set_timing_cache(self, cache, ignore_mismatch):
        if not isinstance(cache, ITimingCache):
            raise TypeError("incompatible function arguments: expected ITimingCache")
        _, _, spec = _device()
        if (cache._device_name, cache._cc) != (spec.name, spec.compute_capability) and not ignore_mismatch:
            error(self._logger, contract.timing_cache_device(f"{cache._device_name} sm{cache._cc}",
                                                             f"{spec.name} sm{spec.compute_capability}"))
            return False
        self._cache = cache
        return True

    def get_timing_cache(self):
        return self._cache

    # ----- misc --------------------------------------------------------------------------------
    @prop(10, 11)
    def profiling_verbosity(self):
        return self._verbosity

    @profiling_verbosity.setter
    def profiling_verbosity(self, value):
        if not isinstance(value, ProfilingVerbosity):
            raise TypeError(f"profiling_verbosity must be a ProfilingVerbosity, got {value!r}")
        self._verbosity = value

    @prop(10, 11)
    def builder_optimization_level(self):
        return self._opt_level

    @builder_optimization_level.setter
    def builder_optimization_level(self, value):
        self._opt_level = int(value)


class Builder(Base):
    _real = "Builder"

    def __init__(self, logger):
        if not isinstance(logger, ILogger):
            raise TypeError("__init__(): incompatible constructor arguments: Builder(logger: ILogger)")
        self._logger = logger

    @prop()
    def logger(self):
        return self._logger

    @only(10)
    @prop()
    def platform_has_tf32(self):
        return _device()[2].major >= 8

    @only(10)
    @prop()
    def platform_has_fast_fp16(self):
        return _device()[2].major >= 6

    def create_network(self, flags=0):
        """Docstring: "flags: NetworkDefinitionCreationFlag s combined using bitwise OR." 10.x: 0 is an
        explicit-batch network (EXPLICIT_BATCH is "Ignored because networks are always explicit batch in
        TensorRT 10.0"); 11.x: every network is strongly typed."""
        return INetworkDefinition._make(self, int(flags))

    def create_builder_config(self):
        return IBuilderConfig._make(self)

    def create_optimization_profile(self):
        return IOptimizationProfile._make()

    def build_serialized_network(self, network, config):
        """Docstring: "returns: A pointer to a IHostMemory object that contains a serialized network." None
        (with the reason logged) when the network or the profiles break the rules in contract.py."""
        if not isinstance(network, INetworkDefinition) or not isinstance(config, IBuilderConfig):
            raise TypeError("build_serialized_network(): incompatible function arguments: (network: "
                            "INetworkDefinition, config: IBuilderConfig)")
        st, device, spec = _device()
        log = self._logger
        if st.devices[device].sticky:
            error(log, contract.cuda_failure(cudart._ERROR_STRINGS[st.devices[device].sticky]))
            return None
        if not network._outputs:
            error(log, contract.no_output())
            return None
        names = [t._name for t in network._inputs + network._outputs]
        for name in names:
            if names.count(name) > 1:
                error(log, contract.duplicate_io_name(name))
                return None
        profiles = _validate_profiles(network, config._profiles, log)
        if profiles is None:
            return None
        header, payload = _describe(network)
        header.update({
            "tensorrt_version": active_version(), "compute_capability": spec.compute_capability,
            "device_name": spec.name, "profiles": [{n: [list(s) for s in v] for n, v in p.items()} for p in profiles],
            "flags": sorted(f.name for f in config._flags), "num_layers": len(network._layers),
            "strongly_typed": network._strongly_typed, "network_name": network._name,
        })
        if config._cache is not None and BuilderFlag.DISABLE_TIMING_CACHE not in config._flags:
            config._cache._entries[hashlib.sha256(payload).hexdigest()[:16]] = {"layers": len(network._layers)}
        if active_major() < 11 and BuilderFlag.FP16 in config._flags:
            info(log, f"{contract.DOUBLE}FP16 flag recorded; the double computes in the network's own types")
        info(log, f"{contract.DOUBLE}wrote a plan for {spec.name} (sm {spec.compute_capability}); nothing was "
                  f"optimized or timed")
        return IHostMemory._of(write_plan(header, payload))


def _validate_profiles(network, profiles, log):
    """Each profile, completed with the static inputs, or None after logging why it cannot build."""
    inputs = network._inputs
    dynamic = [t for t in inputs if any(d < 0 for d in t._shape)]
    if dynamic and not profiles:
        error(log, contract.no_profile())
        return None
    # IOptimizationProfile: "If none of the inputs are dynamic, the default optimization profile will be
    # generated automatically"; ICudaEngine.num_optimization_profiles: "This is always at least 1."
    out = []
    for index, profile in enumerate(profiles or [{}]):
        known = {t._name for t in inputs}
        for name in profile:
            if name not in known:
                error(log, contract.profile_unknown_input(name, index))
                return None
        full = {}
        for t in inputs:
            if t._name not in profile:
                if t in dynamic:
                    error(log, contract.profile_missing_input(t._name, index))
                    return None
                full[t._name] = (t._shape,) * 3
                continue
            lo, opt, hi = profile[t._name]
            if len(lo) != len(t._shape):
                error(log, contract.profile_rank(t._name, index, len(lo), len(t._shape)))
                return None
            for d, fixed in enumerate(t._shape):
                if fixed >= 0 and not lo[d] == opt[d] == hi[d] == fixed:
                    error(log, contract.profile_fixed_dim(t._name, index, d, lo[d], opt[d], hi[d], fixed))
                    return None
            full[t._name] = (lo, opt, hi)
        out.append(full)
    return out


def _io_entry(tensor: ITensor, mode: str) -> dict:
    return {"name": tensor._name, "mode": mode, "dtype": tensor._dtype.name, "shape": list(tensor._shape),
            "onnx_name": tensor._onnx_name, "id": tensor._id}


def _describe(network):
    """(header part, payload) describing what the engine computes."""
    io_entries = [_io_entry(t, "INPUT") for t in network._inputs] + [_io_entry(t, "OUTPUT") for t in network._outputs]
    debug = [{"name": t._name, "dtype": t._dtype.name, "onnx_name": t._onnx_name, "id": t._id}
             for t in network._debug]
    if network._onnx is not None:
        data = network._onnx["bytes"]
        return {"kind": "onnx", "io": io_entries, "debug": debug, "weights_bytes": len(data)}, data
    weights: dict[str, np.ndarray] = {}
    layers = []
    for layer in network._layers:
        entry = {"kind": layer._kind, "in": [t._id for t in layer._inputs], "out": layer._outputs[0]._id}
        if layer._kind == "constant":
            key = f"w{len(weights)}"
            weights[key] = np.array(layer._weights.numpy(), copy=True)  # the build copies the weights
            entry.update(weights=key, shape=list(layer._shape))
        elif layer._kind == "elementwise":
            entry.update(op=layer._op.name)
        elif layer._kind == "scale":
            entry.update(mode=layer._mode.name, channel_axis=layer._channel_axis)
            for label in ("shift", "scale", "power"):
                w = getattr(layer, "_" + label)
                if w.size:
                    key = f"w{len(weights)}"
                    weights[key] = np.array(w.numpy(), copy=True)
                    entry[label] = key
        layers.append(entry)
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    graph = {"layers": layers, "inputs": {t._name: t._id for t in network._inputs},
             "outputs": {t._name: t._id for t in network._outputs}, "debug": {t._name: t._id for t in network._debug}}
    return {"kind": "layers", "io": io_entries, "debug": debug, "graph": graph,
            "weights_bytes": int(sum(w.nbytes for w in weights.values()))}, buffer.getvalue()
