"""TensorRT engines for 10.x and 11.x: build from ONNX bytes, cache, run by tensor name (chapter 1
onwards; chapter 7 builds its networks by hand and uses only :class:`Engine`).

Only calls present in both TensorRT 10.x and 11.x are used, except the weak ``FP16`` builder flag,
which is gated on the major version (removed in 11.0, where precision comes from the model).
Plans are cached (:mod:`trtfaq.cache`) under a key of (model hash, TensorRT version, device, build
config): a different key rebuilds, never loads. The book only loads plans it built itself.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .cache import EngineCache, engine_key, timing_cache_path, write_atomic
from .errors import BookError, CacheError, InputError
from .requires import require_tensorrt

if TYPE_CHECKING:
    import tensorrt as trt

    from .cuda import DeviceBuffer

Shape = tuple[int, ...]

#: TensorRT ``DataType`` member name -> numpy dtype (bf16, fp8, int4, fp4 have no numpy type)
NUMPY_DTYPES = {"FLOAT": np.float32, "HALF": np.float16, "INT8": np.int8, "INT32": np.int32,
                "INT64": np.int64, "BOOL": np.bool_, "UINT8": np.uint8}


def numpy_dtype(trt_dtype) -> np.dtype:
    """numpy dtype of a TensorRT ``DataType`` (or its member name); one-line error if it has none."""
    name = getattr(trt_dtype, "name", str(trt_dtype)).split(".")[-1]
    if name not in NUMPY_DTYPES:
        raise InputError(f"TensorRT type {name} has no numpy equivalent: use torch or ml_dtypes buffers")
    return np.dtype(NUMPY_DTYPES[name])


@dataclass(frozen=True)
class BuildConfig:
    """What the builder is told. Part of the engine-cache key."""

    workspace_bytes: int | None = None   # None: TensorRT's default (the device's memory)
    tf32: bool = True                     # TensorRT's default; False for a strict FP32 reference
    fp16: bool = False                    # 10.x weak typing only; on 11.x convert the model instead
    obey_precision: bool = False          # 10.x: OBEY_PRECISION_CONSTRAINTS (layer precisions you pinned)
    #: one dict per optimization profile: input name -> (min, opt, max) shapes
    profiles: tuple[dict[str, tuple[Shape, Shape, Shape]], ...] = field(default_factory=tuple)

    def __post_init__(self):
        ws = self.workspace_bytes
        if ws is not None and (isinstance(ws, bool) or not isinstance(ws, (int, np.integer)) or ws < 0):
            raise InputError(f"workspace_bytes must be a whole number of bytes >= 0 or None, got {ws!r}")
        for flag in ("tf32", "fp16", "obey_precision"):
            if not isinstance(getattr(self, flag), bool):
                raise InputError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        if not isinstance(self.profiles, (tuple, list)):
            raise InputError(f"profiles must be a tuple of {{input: (min, opt, max)}} dicts, got "
                             f"{type(self.profiles).__name__}")
        check_profile_shapes(self.profiles)
        # plain Python ints throughout: the config is part of the JSON engine-cache key
        object.__setattr__(self, "profiles", tuple({name: tuple(tuple(int(d) for d in s) for s in shapes)
                                                    for name, shapes in p.items()} for p in self.profiles))
        if ws is not None:
            object.__setattr__(self, "workspace_bytes", int(ws))

    def as_key(self) -> dict:
        d = asdict(self)
        d["profiles"] = [{k: [list(s) for s in v] for k, v in sorted(p.items())} for p in self.profiles]
        return d


@dataclass(frozen=True)
class TensorSpec:
    """One I/O tensor of an engine, as plain Python (so it can be checked without TensorRT)."""

    name: str
    is_input: bool
    dtype: np.dtype
    shape: Shape                                   # -1 for dynamic dimensions
    profiles: tuple[tuple[Shape, Shape, Shape], ...] = ()  # inputs: (min, opt, max) per profile


def _whole(d) -> bool:
    return isinstance(d, (int, np.integer)) and not isinstance(d, bool)


def check_profile_shapes(profiles) -> None:
    """Each profile's shapes must be of one rank with min <= opt <= max, whole numbers >= 0; one-line
    error otherwise."""
    if not isinstance(profiles, (tuple, list)):
        raise InputError(f"profiles must be a tuple of {{input: (min, opt, max)}} dicts, got {type(profiles).__name__}")
    for i, profile in enumerate(profiles):
        if not isinstance(profile, dict) or not profile:
            raise InputError(f"profile {i} must be a non-empty dict {{input name: (min, opt, max)}}, got {profile!r}")
        for name, shapes in profile.items():
            if not isinstance(name, str) or not isinstance(shapes, (tuple, list)) or len(shapes) != 3:
                raise InputError(f"profile {i}: each entry must be 'input name': (min, opt, max), got {name!r}")
            if not all(isinstance(s, (tuple, list)) and all(_whole(d) and d >= 0 for d in s) for s in shapes):
                raise InputError(f"profile {i}, input {name!r}: shapes must be tuples of whole numbers >= 0, "
                                 f"got {shapes!r}")
            lo, opt, hi = shapes
            if not (len(lo) == len(opt) == len(hi)):
                raise InputError(f"profile {i}, input {name!r}: min, opt, max must have one rank")
            if not all(a <= b <= c for a, b, c in zip(lo, opt, hi)):
                raise InputError(f"profile {i}, input {name!r}: need min <= opt <= max, got {lo}, {opt}, {hi}")


def check_feeds(specs: list[TensorSpec], feeds: dict[str, np.ndarray], profile: int = 0) -> None:
    """Refuse, in one line and before TensorRT is called, feeds that the engine cannot take."""
    if not isinstance(feeds, dict):
        raise InputError(f"feeds must be a dict {{input name: array}}, got {type(feeds).__name__}")
    inputs = {s.name: s for s in specs if s.is_input}
    if set(feeds) != set(inputs):
        raise InputError(f"engine inputs are {sorted(inputs)}, got {sorted(feeds)}")
    for name, arr in feeds.items():
        spec, arr = inputs[name], np.asarray(feeds[name])
        if arr.dtype != spec.dtype:
            raise InputError(f"input {name!r} must be {spec.dtype.name}, got {arr.dtype.name}")
        if arr.ndim != len(spec.shape) or any(d not in (-1, g) for d, g in zip(spec.shape, arr.shape)):
            raise InputError(f"input {name!r} must have shape {spec.shape} (-1 = any), got {arr.shape}")
        if spec.profiles:
            if not 0 <= profile < len(spec.profiles):
                raise InputError(f"profile {profile} does not exist: the engine has {len(spec.profiles)}")
            lo, _, hi = spec.profiles[profile]
            if not all(a <= g <= b for a, g, b in zip(lo, arr.shape, hi)):
                raise InputError(f"input {name!r} shape {arr.shape} is outside profile {profile} "
                                 f"[min {tuple(lo)}, max {tuple(hi)}]")


def profile_for(profiles, shapes: dict[str, Shape]) -> int:
    """Index of the first profile whose [min, max] holds every input shape (chapter 1).

    ``profiles`` is ``BuildConfig.profiles`` (or an engine's, as read back by :class:`Engine`). A
    shape outside every profile is a one-line error before TensorRT is called.
    """
    if not isinstance(profiles, (tuple, list)) or not all(isinstance(p, dict) for p in profiles):
        raise InputError(f"profiles must be a list of {{input: (min, opt, max)}} dicts, got {profiles!r}")
    profiles = list(profiles)
    if not profiles:
        raise InputError("there are no optimization profiles to choose from")
    if not isinstance(shapes, dict) or not shapes or not all(
            isinstance(s, (tuple, list)) and all(_whole(d) for d in s) for s in shapes.values()):
        raise InputError(f"shapes must be a dict {{input name: shape tuple of whole numbers}}, got {shapes!r}")
    known = {n for p in profiles for n in p}
    unknown = sorted(set(shapes) - known)
    if unknown:
        raise InputError(f"no input named {unknown[0]!r} in the optimization profiles "
                         f"(inputs: {', '.join(sorted(known))})")
    for i, profile in enumerate(profiles):
        if all(name in profile and len(shape) == len(profile[name][0]) and
               all(lo <= d <= hi for lo, d, hi in zip(profile[name][0], shape, profile[name][2]))
               for name, shape in shapes.items()):
            return i
    ranges = "; ".join(", ".join(f"{n} {tuple(p[n][0])}..{tuple(p[n][2])}" for n in p) for p in profiles)
    got = ", ".join(f"{n} {tuple(s)}" for n, s in shapes.items())
    raise InputError(f"{got} is outside every optimization profile ({ranges})")


def trt_major(trt) -> int:
    """Major version of a ``tensorrt`` module. Gate version-specific calls on it
    (``if trt_major(trt) >= 11: ...``): the book's API checker understands this form."""
    version = str(getattr(trt, "__version__", ""))
    if not version.split(".")[0].isdigit():
        raise InputError(f"trt_major takes the tensorrt module, got {type(trt).__name__}")
    return int(version.split(".")[0])


def tensors_by_name(network: trt.INetworkDefinition) -> dict:
    """Every layer output of a TensorRT network by name, e.g. to mark one as an output or a debug
    tensor (chapter 6)."""
    if not hasattr(network, "num_layers") or not hasattr(network, "get_layer"):
        raise InputError(f"tensors_by_name takes a TensorRT INetworkDefinition, got {type(network).__name__}")
    tensors = {}
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        for j in range(layer.num_outputs):
            tensors[layer.get_output(j).name] = layer.get_output(j)
    return tensors


def build_serialized(onnx_bytes: bytes, config: BuildConfig = BuildConfig(), *, timing_cache: Path | None = None,
                     verbose: bool = False, logger=None, network_hook=None, config_hook=None) -> bytes:
    """Parse ONNX bytes and build a serialized plan (TensorRT 10.x and 11.x).

    ``logger``: a ``trt.Logger`` to use (default: a new one, VERBOSE if ``verbose``).
    ``network_hook(network)``: called after parsing and before the build, e.g. to mark extra outputs.
    ``config_hook(config)``: called with the ``IBuilderConfig`` just before the build, e.g. to set
    ``builder_optimization_level`` or a progress monitor, as the serial build queue of chapter 11 does.
    """
    check_profile_shapes(config.profiles)
    require_tensorrt()
    import tensorrt as trt

    if logger is None:
        logger = trt.Logger(trt.Logger.VERBOSE if verbose else trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch in 10.x; 11.x is always strongly typed
    parser = trt.OnnxParser(network, logger)  # keep it alive until the build: it owns the weights
    if not parser.parse(onnx_bytes):
        problems = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise BookError(f"the ONNX parser rejected the model: {problems}")
    if network_hook is not None:
        network_hook(network)
    cfg = builder.create_builder_config()
    if config.workspace_bytes is not None:
        cfg.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(config.workspace_bytes))
    if not config.tf32:
        cfg.clear_flag(trt.BuilderFlag.TF32)
    if config.fp16:
        if trt_major(trt) >= 11:
            raise BookError("TensorRT 11 has no FP16 builder flag: convert the ONNX model to FP16 "
                            "(ModelOpt AutoCast) and build it as it is")
        cfg.set_flag(trt.BuilderFlag.FP16)  # type: ignore[attr-defined,unused-ignore]  # 10.x only, gated above
    if config.obey_precision:
        if trt_major(trt) >= 11:
            raise BookError("TensorRT 11 has no precision constraints: types come from the model (strong typing)")
        cfg.set_flag(trt.BuilderFlag.OBEY_PRECISION_CONSTRAINTS)  # type: ignore[attr-defined,unused-ignore]
    for shapes in config.profiles:
        profile = builder.create_optimization_profile()
        for name, (lo, opt, hi) in shapes.items():
            profile.set_shape(name, lo, opt, hi)
        if cfg.add_optimization_profile(profile) < 0:
            raise BookError(f"TensorRT refused the optimization profile {shapes}")
    cache = None
    if timing_cache is not None:
        blob = timing_cache.read_bytes() if timing_cache.exists() else b""
        cache = cfg.create_timing_cache(blob)
        cfg.set_timing_cache(cache, False)
    if config_hook is not None:
        config_hook(cfg)
    plan = builder.build_serialized_network(network, cfg)
    if plan is None:
        raise BookError("TensorRT could not build the engine: rerun with verbose=True to see why")
    if cache is not None and timing_cache is not None:
        write_atomic(timing_cache, bytes(cache.serialize()))
    return bytes(plan)


def cached_plan(onnx_bytes: bytes, config: BuildConfig = BuildConfig(), cache: EngineCache | None = None,
                verbose: bool = False) -> bytes:
    """The plan for ``onnx_bytes`` and ``config`` on the current GPU and this TensorRT: from the
    cache, or built (with a timing cache per TensorRT version and device) and stored."""
    from .cuda import device_key

    require_tensorrt()
    import tensorrt as trt

    device = device_key()
    cache = cache or EngineCache()
    key = engine_key(onnx_bytes, config.as_key(), str(trt.__version__), device)
    try:
        plan = cache.load(key)
    except CacheError as exc:
        print(f"{exc}; rebuilding")
        plan = None
    if plan is None:
        plan = build_serialized(onnx_bytes, config, verbose=verbose,
                                timing_cache=timing_cache_path(str(trt.__version__), device))
        cache.store(key, plan, {"tensorrt": str(trt.__version__), "device": device, "config": config.as_key()})
    return plan


def _three_shapes(dims) -> tuple[Shape, Shape, Shape]:
    lo, opt, hi = (tuple(int(d) for d in shape) for shape in dims)
    return lo, opt, hi


class Engine:
    """A deserialized engine with one execution context, run by tensor name with ``execute_async_v3``.

    Device buffers are allocated once per tensor and reused while they are large enough. Free
    everything deterministically with :meth:`close` or a ``with`` block.
    """

    def __init__(self, plan: bytes, runtime: trt.Runtime | None = None):
        """``runtime``: the ``trt.Runtime`` to deserialize with, e.g. one allowed to load a version-compatible
        plan's host code, or one from ``Runtime.load_runtime`` (chapter 2); default: a new one."""
        from .cuda import Stream

        if plan is None:
            raise BookError("there is no plan to run: the build failed (see the TensorRT log above)")
        require_tensorrt()
        import tensorrt as trt

        if runtime is None:
            runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self._runtime = runtime
        self.engine = self._runtime.deserialize_cuda_engine(plan)
        if self.engine is None:
            raise BookError("TensorRT could not deserialize the plan (built by another TensorRT "
                            "version or for another GPU?): rebuild it")
        self.context = self.engine.create_execution_context()
        if self.context is None:
            raise BookError("TensorRT could not create an execution context (out of device memory?)")
        self.stream = Stream()
        self.specs = self._read_specs()
        self._profile: int | None = None
        self._buffers: dict[str, DeviceBuffer] = {}
        self._outputs: dict[str, np.ndarray] = {}

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Wait for the stream, free every device buffer, destroy the stream and release the context
        and engine (idempotent)."""
        if getattr(self, "stream", None) is not None:
            self.stream.close()
        for buf in getattr(self, "_buffers", {}).values():
            buf.free()
        self._buffers, self._outputs = {}, {}
        if hasattr(self, "context"):  # TensorRT frees a context and an engine with their last reference
            del self.context, self.engine

    def _read_specs(self) -> list[TensorSpec]:
        import tensorrt as trt

        eng = self.engine
        specs = []
        for i in range(eng.num_io_tensors):
            name = eng.get_tensor_name(i)
            is_input = eng.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            profiles: tuple[tuple[Shape, Shape, Shape], ...] = ()
            if is_input:
                profiles = tuple(_three_shapes(eng.get_tensor_profile_shape(name, p))
                                 for p in range(eng.num_optimization_profiles))
            specs.append(TensorSpec(name, is_input, numpy_dtype(eng.get_tensor_dtype(name)),
                                    tuple(eng.get_tensor_shape(name)), profiles))
        return specs

    @property
    def profiles(self) -> list[dict[str, tuple[Shape, Shape, Shape]]]:
        """The engine's optimization profiles, as ``{input name: (min, opt, max)}`` per profile."""
        inputs = [s for s in self.specs if s.is_input]
        return [{s.name: s.profiles[i] for s in inputs} for i in range(self.engine.num_optimization_profiles)]

    def _buffer(self, name: str, nbytes: int) -> DeviceBuffer:
        """The device buffer of tensor ``name``, reallocated only when ``nbytes`` no longer fits."""
        from .cuda import DeviceBuffer

        buf = self._buffers.get(name)
        if buf is None or buf.nbytes < nbytes:
            if buf is not None:
                self.stream.synchronize()  # work in flight may still use the old buffer
                buf.free()
            buf = self._buffers[name] = DeviceBuffer(nbytes)
        return buf

    def bind(self, feeds: dict[str, np.ndarray], profile: int | None = None) -> int:
        """Prepare a run: pick (or check) the profile, select it FIRST, then set input shapes, upload
        inputs and set every tensor address. Returns the profile index used."""
        if not hasattr(self, "context"):
            raise BookError("this engine was closed")
        if profile is None:
            profile = profile_for(self.profiles, {n: np.shape(a) for n, a in feeds.items()})
        check_feeds(self.specs, feeds, profile)
        ctx = self.context
        if self._profile != profile:
            if not ctx.set_optimization_profile_async(profile, self.stream.handle):
                raise BookError(f"TensorRT refused optimization profile {profile}")
            self.stream.synchronize()  # the switch may enqueue copies on this stream
            self._profile = profile
        self._outputs = {}
        for spec in self.specs:
            if spec.is_input:
                arr = np.ascontiguousarray(feeds[spec.name])
                if not ctx.set_input_shape(spec.name, arr.shape):
                    raise BookError(f"TensorRT refused shape {arr.shape} for input {spec.name!r}: see its log")
                buf = self._buffer(spec.name, arr.nbytes)
                buf.upload(arr, self.stream)
                ctx.set_tensor_address(spec.name, buf.ptr)
        for spec in self.specs:
            if not spec.is_input:
                host = np.empty(tuple(ctx.get_tensor_shape(spec.name)), spec.dtype)
                ctx.set_tensor_address(spec.name, self._buffer(spec.name, host.nbytes).ptr)
                self._outputs[spec.name] = host
        return profile

    def typed(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """``feeds`` converted to the engine's own input types (an FP16 engine takes float16)."""
        types = {s.name: s.dtype for s in self.specs if s.is_input}
        unknown = sorted(set(feeds) - set(types))
        if unknown:
            raise InputError(f"the engine has no input {unknown[0]!r}: its inputs are {sorted(types)}")
        return {name: np.asarray(arr).astype(types[name]) for name, arr in feeds.items()}

    def enqueue(self) -> None:
        """``execute_async_v3`` on the engine's stream, nothing else (what :meth:`time` measures)."""
        if not self.context.execute_async_v3(self.stream.handle):
            raise BookError("execute_async_v3 failed: see the TensorRT log above")

    def outputs(self) -> dict[str, np.ndarray]:
        """Copy every output to the host and wait for the stream; fresh arrays on every call."""
        out = {name: np.empty_like(host) for name, host in self._outputs.items()}
        for name, host in out.items():
            self._buffers[name].download(host, self.stream)
        self.stream.synchronize()
        return out

    def infer(self, feeds: dict[str, np.ndarray], profile: int | None = None) -> dict[str, np.ndarray]:
        """Run once and return the outputs; ``profile=None`` picks the first profile that fits."""
        self.bind(feeds, profile)
        self.enqueue()
        return self.outputs()

    def time(self, feeds: dict[str, np.ndarray], profile: int | None = None, warmup: int = 10,
             repeats: int = 100, launches: int = 20, graph: bool = True) -> np.ndarray:
        """Raw CUDA-event timings (ms per inference) of ``execute_async_v3`` for these inputs (chapter 1).

        By default ``launches`` enqueues are captured into one CUDA graph and each sample times one
        launch of it, divided by ``launches``: the host's enqueue time stays out of the GPU latency
        (:func:`trtfaq.timing.time_graph`). ``graph=False``, or an engine whose enqueue cannot be
        captured, times ``launches`` back-to-back ``execute_async_v3`` calls per event pair instead.
        """
        from .errors import CudaError
        from .timing import time_cuda, time_graph

        self.bind(feeds, profile)
        self.enqueue()  # one ordinary enqueue before any capture (TensorRT's lazy set-up)
        self.stream.synchronize()
        if graph:
            try:
                return time_graph(self.enqueue, self.stream.handle, warmup=warmup, repeats=repeats, launches=launches)
            except CudaError as exc:
                print(f"this engine's enqueue cannot be captured in a CUDA graph ({exc}): timing "
                      f"{launches} enqueues per sample instead")
        return time_cuda(self.enqueue, self.stream.handle, warmup=warmup, repeats=repeats, launches=launches)
