"""TensorRT's documented contract as the double enforces it: the rules, their sources, the messages.

Every message the double logs either quotes TensorRT's wording (the source is named beside it, with
"not confirmed" where the wording could not be confirmed) or starts with ``TensorRT test double:``.
Messages go through the user's logger at ERROR severity, as TensorRT's do; the calls return False or
None rather than raising, as TensorRT's do. Real messages often carry a ``[file.cpp::func::line]``
location; the double leaves it out. Sources are GitHub threads quoting TensorRT's output, the
docstrings of the real bindings (the stubs under ``$TRTFAQ_CACHE/trt-api``), and NVIDIA's docs:
https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/work-dynamic-shapes.html
(optimization profiles) and the Python API reference, e.g.
https://docs.nvidia.com/deeplearning/tensorrt/latest/_static/python-api/infer/Core/OptimizationProfile.html .
"""
from __future__ import annotations

DOUBLE = "TensorRT test double: "


# ----- build ---------------------------------------------------------------------------------------
def no_profile() -> str:
    """IBuilderConfig.add_optimization_profile: "This function must be called at least once if the
    network has dynamic or shape input tensors." Wording: NVIDIA/TensorRT#768, #1167 ("Network has
    dynamic or shape inputs, but no optimization profile has been defined."), in TensorRT 8+'s
    "Error Code 4: Internal Error (...)" envelope."""
    return "Error Code 4: Internal Error (Network has dynamic or shape inputs, but no optimization profile " \
           "has been defined.)"


def profile_missing_input(name: str, index: int) -> str:
    """IOptimizationProfile.set_shape: "This function must be called for any network input tensor that
    has dynamic dimensions." Wording not confirmed."""
    return f"Error Code 4: Internal Error ({name}: dynamic input is missing dimensions in profile {index}.)"


def profile_fixed_dim(name: str, index: int, dim: int, lo, opt, hi, fixed: int) -> str:
    """IOptimizationProfile.set_shape: "(3) if real_shape[i] != -1, then min[i] == opt[i] == max[i] ==
    real_shape[i]" and "(1) len(min) == len(opt) == len(max) == len(real_shape)". Wording not confirmed."""
    return (f"Error Code 4: Internal Error ({name}: for dimension number {dim} in profile {index} does not match "
            f"network definition (got min={lo}, opt={opt}, max={hi}), expected min=opt=max={fixed}).)")


def profile_rank(name: str, index: int, rank: int, expected: int) -> str:
    """Condition (1) of IOptimizationProfile.set_shape, see above. Wording not confirmed."""
    return (f"Error Code 4: Internal Error ({name}: number of dimensions is {rank} in profile {index} but "
            f"{expected} in the network definition.)")


def profile_unknown_input(name: str, index: int) -> str:
    return f"{DOUBLE}profile {index} sets shapes for '{name}', which is not an input of the network"


def no_output() -> str:
    """A network needs outputs to build. Wording not confirmed."""
    return "Error Code 4: Internal Error (Network must have at least one output)"


def duplicate_io_name(name: str) -> str:
    """INetworkDefinition.add_input: "Each input and output tensor must have a unique name.\""""
    return f"{DOUBLE}two network inputs/outputs are named '{name}' (add_input: \"Each input and output tensor " \
           f"must have a unique name.\")"


# ----- deserialization -----------------------------------------------------------------------------
def plan_magic() -> list[str]:
    """Bytes that are not a plan. Wording: lix19937/tensorrt-insight#65, laugh12321/TensorRT-YOLO#2
    (TensorRT 8.6-10), with 10.x's "IRuntime::deserializeCudaEngine:" prefix (FunGen-AI#36, 10.11)."""
    return [("IRuntime::deserializeCudaEngine: Error Code 1: Serialization (Serialization assertion magicTagRead "
             "== kMAGIC_TAG failed.Magic tag does not match)")]


def plan_version(library: str, plan: str) -> list[str]:
    """A plan from another TensorRT version. Runtime.deserialize_cuda_engine: "returns: The ICudaEngine, or
    None if it could not be deserialized." Wording of 10.12-10.14 as quoted in DeepStream and Isaac ROS
    troubleshooting pages ("IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan
    file is not compatible with this version of TensorRT, expecting library version 10.12.0.36 got
    10.13.3.9, please rebuild.)"). "expecting" is the running library, "got" the plan's
    (NVIDIA/TensorRT#574: "expecting library version 5.1.5 got 0.0.0" with 5.1.5 installed)."""
    return [(f"IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan file is not "
             f"compatible with this version of TensorRT, expecting library version {library} got {plan}, "
             f"please rebuild.)")]


def plan_device(device_cc: str, plan_cc: str) -> list[str]:
    """A plan built for another compute capability. Wording: QwenAudio/CosyVoice#1600 (TensorRT 10, 2025);
    "expecting" is this device (NVIDIA/TensorRT#564 and #2177: a 6.1 GPU reports "expecting compute 6.1")."""
    return [(f"6: The engine plan file is generated on an incompatible device, expecting compute {device_cc} got "
             f"compute {plan_cc}, please rebuild."),
            ("2: [engine.cpp::deserializeEngine::1312] Error Code 2: Internal Error (Assertion "
             "engine->deserialize(start, size, allocator, runtime) failed. )")]


# ----- execution context ---------------------------------------------------------------------------
def shape_outside_profile(name: str, shape, profile: int, lo, hi) -> str:
    """IOptimizationProfile: "A runtime error will be raised if the input tensor dimensions fall outside
    the valid range for this profile." The range is the *active* profile's (IExecutionContext
    active_optimization_profile: "Profile 0 is selected by default"). Wording: NVIDIA/TensorRT-LLM#818,
    #1635, NVIDIA/ChatRTX#38 (location dropped; the double appends what it checked)."""
    return ("IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed, condition: "
            "satisfyProfile Runtime dimension does not satisfy any optimization profile.)"
            f" [{DOUBLE.strip()} {name} {tuple(shape)} vs profile {profile} min {tuple(lo)} max {tuple(hi)}]")


def static_dim_mismatch() -> str:
    """Wording: abdur75648/AI-Camera#1 ("condition: engineDims.d[i] == dims.d[i]. Static dimension mismatch
    while setting input shape.")."""
    return ("IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed, condition: "
            "engineDims.d[i] == dims.d[i]. Static dimension mismatch while setting input shape.)")


def rank_mismatch(name: str, shape, expected: int) -> str:
    """Wording not confirmed."""
    return ("IExecutionContext::setInputShape: Error Code 3: API Usage Error (Parameter check failed, condition: "
            f"engineDims.nbDims == dims.nbDims. {name}: {len(shape)} dimensions given, {expected} expected.)")


def not_an_input(call: str, name: str) -> str:
    return f"{DOUBLE}IExecutionContext.{call}: '{name}' is not an input tensor of this engine"


def not_an_io_tensor(call: str, name: str) -> str:
    return f"{DOUBLE}{call}: '{name}' is not an input or output tensor of this engine"


def bad_profile_index(index: int, count: int) -> str:
    """set_optimization_profile_async: "returns: True if the optimization profile was set successfully".
    Wording not confirmed (modelled on mmdeploy#317's "condition: mOptimizationProfile >= 0 &&
    mOptimizationProfile < mEngine.getNbOptimizationProfiles()")."""
    return ("IExecutionContext::setOptimizationProfileAsync: Error Code 3: API Usage Error (Parameter check "
            f"failed, condition: profileIndex >= 0 && profileIndex < mEngine.getNbOptimizationProfiles(). "
            f"[{DOUBLE.strip()} index {index}, {count} profiles])")


def shapes_unspecified(names) -> str:
    """IExecutionContext.active_optimization_profile: "Changing this value will invalidate all dynamic
    bindings for the current execution context, so that they have to be set again using set_input_shape";
    an input without a shape cannot run. Condition from comfyanonymous/ComfyUI_TensorRT#31
    ("condition: allInputDimensionsSpecified(routine)"); the enqueueV3 envelope is not confirmed."""
    return ("IExecutionContext::enqueueV3: Error Code 3: API Usage Error (Parameter check failed, condition: "
            f"allInputDimensionsSpecified(routine). ) [{DOUBLE.strip()} no shape for {', '.join(names)}]")


def no_input_address(name: str) -> str:
    """Every input needs an address before enqueue. Wording: hamdiboukamcha/Yolo-V11-cpp-TensorRT#6 (TensorRT
    10), whose quote is cut after "setTensorAd"; the end is completed like the output message below."""
    return ("IExecutionContext::enqueueV3: Error Code 3: API Usage Error (Parameter check failed, condition: "
            "mContext.profileObliviousBindings.at(profileObliviousIndex) != nullptr. Address is not set for input "
            f"tensor {name}. Call setInputTensorAddress or setTensorAddress before enqueue/execute.)")


def no_output_address(name: str) -> str:
    """Every output needs an address (or an output allocator). Wording: microsoft/onnxruntime#26170."""
    return ("IExecutionContext::enqueueV3: Error Code 3: API Usage Error (Parameter check failed, condition: "
            "mContext.profileObliviousBindings.at(profileObliviousIndex) || getPtrOrNull(mOutputAllocators, "
            f"profileObliviousIndex). Neither address or allocator is set for output tensor {name}. Call "
            "setOutputTensorAddress, setTensorAddress or setOutputAllocator before enqueue/execute.)")


def cuda_failure(error_string: str) -> str:
    """A CUDA error at enqueue, e.g. a stream of another device: "A kernel launch will fail if it is issued
    to a stream that is not associated to the current device" (CUDA C++ Programming Guide, Stream and
    Event Behavior). Wording: NVIDIA/TensorRT#4191 ("IExecutionContext::enqueueV3: Error Code 1: Cuda
    Runtime (invalid resource handle)")."""
    return f"IExecutionContext::enqueueV3: Error Code 1: Cuda Runtime ({error_string})"


def wrong_device(engine_device: int, current: int) -> str:
    """An engine's memory and kernels live on the device current when it was deserialized; running it
    with another device current is modelled as CUDA's invalid-handle failure. Not a quoted TensorRT rule."""
    return cuda_failure("invalid resource handle") + \
        f" [{DOUBLE.strip()} engine deserialized on device {engine_device}, device {current} is current]"


def not_a_debug_tensor(name: str) -> str:
    """IExecutionContext.set_tensor_debug_state: "The Tensor must have been marked as a debug tensor during
    build time." Wording is the double's."""
    return f"{DOUBLE}set_tensor_debug_state: '{name}' was not marked as a debug tensor (mark_debug) at build time"


def buffer_too_small(name: str, address: int, need: int, have: int) -> str:
    """Each I/O tensor's buffer must hold its current shape x itemsize, on the engine's device. TensorRT
    itself cannot check this (it never sees allocation sizes): on a GPU an undersized buffer is an
    out-of-bounds access, silent corruption or cudaErrorIllegalAddress. The double knows every allocation,
    so execute_async_v3 returns False with this message of its own (counted from the address to the end
    of the allocation it lies in)."""
    where = f"{have} bytes remain in that device allocation" if have else "it is not in a device allocation " \
        "of the engine's device"
    return (f"{DOUBLE}tensor '{name}' needs {need} bytes at 0x{address:x}, but {where} (TensorRT does not "
            f"check this: on a GPU it is an out-of-bounds access)")


def buffer_on_other_device(name: str, address: int, device: int, engine_device: int) -> str:
    """A tensor address in an allocation of another device than the engine's (e.g. allocated by a thread that
    had not selected the engine's device: cudaSetDevice, "Any device memory subsequently allocated from this
    host thread using cudaMalloc() [...] will be physically resident on device"). On a GPU the kernels would
    read another GPU's memory (through peer access, or an illegal address). Wording is the double's."""
    return (f"{DOUBLE}tensor '{name}' at 0x{address:x} lies on device {device}, the engine's device is "
            f"{engine_device} (TensorRT does not check this)")


def timing_cache_device(cache_device: str, device: str) -> str:
    """IBuilderConfig.set_timing_cache: "A failure will be reported if the CUDA device property in the
    provided cache is different from current environment. bool(ignore_mismatch) == True skips strict
    verification and allows loading cache created from a different device." Wording is the double's."""
    return f"{DOUBLE}the timing cache was created on '{cache_device}', this is '{device}' (pass ignore_mismatch=True)"


def timing_cache_version(cache_version: str, version: str) -> str:
    """ITimingCache.combine: "The input cache must be generated by a TensorRT build of exact same version".
    The double discards such a cache and starts an empty one; wording is the double's."""
    return f"{DOUBLE}ignoring a timing cache from TensorRT {cache_version} (this is {version}); starting an empty one"


# ----- version, hardware and platform compatibility (chapter 2) ------------------------------------
# Wording marked "library string" is a string found in the real libnvinfer_dispatch.so.10/.11 and
# libnvinfer_lean.so.10/.11 of 10.16.1.11 and 11.4.0.106 (the PyPI tensorrt-{dispatch,lean}-cu12/13-libs wheels:
# chapter 2 lists them); that the full libnvinfer logs the same text in the same situation is not confirmed.
def host_code_not_allowed() -> str:
    """Library string. Runtime.engine_host_code_allowed: "Whether this runtime is allowed to deserialize engines
    that contain host executable code (Default: False)"; the Version Compatibility guide: "you should only
    deserialize trusted plans this way. To indicate to TensorRT that you trust the plan, call
    runtime->setEngineHostCodeAllowed(true)"."""
    return "Cannot deserialize engine with lean runtime since IRuntime::getEngineHostCodeAllowed() is false."


def platform_mismatch() -> str:
    """Library string. RuntimePlatform: "The cross-platform engine will not be able to run on the host platform it
    was built on.\""""
    return ("Platform specific tag mismatch detected. TensorRT plan files are only supported on the target runtime "
            "platform they were created on.")


def lean_runtime_missing(plan: str, runtime: str) -> str:
    """A version-compatible plan built with EXCLUDE_LEAN_RUNTIME carries no runtime to run on a newer TensorRT;
    Runtime.load_runtime: "execute a plan file built with BuilderFlag.VERSION_COMPATIBLE and
    BuilderFlag.EXCLUDE_LEAN_RUNTIME both set and built with the same version of TensorRT as the loaded runtime
    library". Wording is the double's."""
    return (f"{DOUBLE}this version-compatible plan from TensorRT {plan} excludes its lean runtime "
            f"(EXCLUDE_LEAN_RUNTIME) and this is TensorRT {runtime}: load the {plan} lean runtime with "
            f"Runtime.load_runtime(path) and deserialize with the runtime it returns")


def lean_runtime_not_vc() -> str:
    """A plan built without VERSION_COMPATIBLE in a lean runtime. Wording: NVIDIA/TensorRT#4790 (10.16.1.11
    tensorrt_lean: "IRuntime::deserializeCudaEngine: Error Code 1: Internal Error Unexpected call to stub
    loadRunner for ReformatRunner"; the runner named depends on the plan) and #3307, where a maintainer answers
    "To run with lean runtime, you need to create you engine with version compatibility flag"."""
    return ("IRuntime::deserializeCudaEngine: Error Code 1: Internal Error (Unexpected call to stub loadRunner) "
            f"[{DOUBLE.strip()} the plan was not built with VERSION_COMPATIBLE]")


def lean_runtime_refuses(lean: str, why: str) -> str:
    """What a runtime from Runtime.load_runtime accepts (docstring above). Wording is the double's."""
    return f"{DOUBLE}the lean runtime {lean} loaded with load_runtime runs only plans {why}"


def lean_load_failed(path: str, why: str) -> str:
    """Runtime.load_runtime: "returns: The IRuntime, or None if it could not be loaded." The first part is a library
    string; what TensorRT appends to it is not confirmed."""
    return f"Runtime load failed: could not create lean runtime {path} [{DOUBLE.strip()} {why}]"


def build_refused(why: str) -> str:
    """A build the builder config's documented restrictions rule out (the docstrings are quoted where the double
    checks them, builder.py). Wording is the double's."""
    return f"{DOUBLE}build refused: {why}"


# ----- ONNX parser (chapter 10) --------------------------------------------------------------------
def plugin_not_found(op_type: str) -> str:
    """What the plugin registry logs when the parser falls back to a plugin for an operator it has no importer
    for. Wording: NVIDIA/Model-Optimizer#2016 (TensorRT 10.x, July 2026): "IPluginRegistry::getCreator: Error
    Code 4: API Usage Error (Cannot find plugin: DummyOp, version: 1, namespace:.)"."""
    return f"IPluginRegistry::getCreator: Error Code 4: API Usage Error (Cannot find plugin: {op_type}, version: 1, " \
           f"namespace:.)"


# ----- memory pools and device memory (chapter 3) ---------------------------------------------------
def skip_over_workspace(index: int, need: int, tactic: int) -> str:
    """A modelled tactic whose scratch exceeds the WORKSPACE limit. The words after the label are
    TensorRT 10.x's skip message as quoted in zz990099/foundationpose_cpp#22 and
    ultralytics/ultralytics#22271 ("UNSUPPORTED_STATE: Skipping tactic 0 due to insufficient memory on
    requested size of 7742685184 detected for tactic 0x0000000000000000."); that TensorRT prints it for
    a tactic over the pool limit (and not only when device memory is short) is NOT confirmed."""
    return (f"{DOUBLE}[modelled tactic over the WORKSPACE limit] UNSUPPORTED_STATE: Skipping tactic {index} due to "
            f"insufficient memory on requested size of {need} detected for tactic 0x{tactic:016x}.")


def insufficient_workspace_summary() -> str:
    """After skips, TensorRT 7-10 printed this (wang-xinyu/tensorrtx#855 at INFO, NVIDIA/TensorRT#4136);
    the label marks the line as the double's."""
    return (f"{DOUBLE}Some tactics do not have sufficient workspace memory to run. Increasing workspace size may "
            f"increase performance, please check verbose output.")


def memory_summary(what: str, nbytes: int) -> str:
    """The builder's INFO summary, worded as TensorRT 10.x prints it (zz990099/foundationpose_cpp#22:
    "Total Activation Memory: 2478873600 bytes"); the numbers are the double's model."""
    return f"{DOUBLE}{what}: {nbytes} bytes"


def pool_size_rejected(pool: str, size: int, rule: str) -> str:
    """IBuilderConfig.set_memory_pool_limit: "If the size of the pool, specified by pool_size, fails to meet
    the size requirements for the pool, this function does nothing and emits the recoverable error,
    ErrorCode.INVALID_ARGUMENT, to the registered IErrorRecorder." The double has no error recorder and
    logs its own words."""
    return f"{DOUBLE}set_memory_pool_limit({pool}, {size}) does nothing: {rule} (INVALID_ARGUMENT)"


def device_memory_misaligned(address: int) -> str:
    """IExecutionContext.set_device_memory: ":arg memory: 256-byte aligned device memory." Wording is the
    double's (TensorRT's own message is not confirmed)."""
    return f"{DOUBLE}set_device_memory: 0x{address:x} is not 256-byte aligned; the memory was not set"


def device_memory_too_small(size: int, need: int) -> str:
    """set_device_memory: ":arg size: ... This must be at least as large as
    CudaEngine.get_device_memory_size_v2". Wording is the double's."""
    return f"{DOUBLE}set_device_memory: {size} bytes given, the engine needs {need}; the memory was not set"


def device_memory_not_allocated(address: int, size: int) -> str:
    """The range must be live device memory of the engine's device. Wording is the double's."""
    return (f"{DOUBLE}set_device_memory: [0x{address:x}, +{size}) is not inside one live device allocation of the "
            f"engine's device")


def device_memory_unset() -> str:
    """ExecutionContextAllocationStrategy.USER_MANAGED: "The user supplies custom allocation to the
    execution context." Enqueueing without it cannot work; wording is the double's."""
    return (f"{DOUBLE}enqueueV3 on a USER_MANAGED context without device memory: call "
            f"set_device_memory(ptr, engine.device_memory_size_v2) first")
