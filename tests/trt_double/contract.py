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


def timing_cache_device(cache_device: str, device: str) -> str:
    """IBuilderConfig.set_timing_cache: "A failure will be reported if the CUDA device property in the
    provided cache is different from current environment. bool(ignore_mismatch) == True skips strict
    verification and allows loading cache created from a different device." Wording is the double's."""
    return f"{DOUBLE}the timing cache was created on '{cache_device}', this is '{device}' (pass ignore_mismatch=True)"


def timing_cache_version(cache_version: str, version: str) -> str:
    """ITimingCache.combine: "The input cache must be generated by a TensorRT build of exact same version".
    The double discards such a cache and starts an empty one; wording is the double's."""
    return f"{DOUBLE}ignoring a timing cache from TensorRT {cache_version} (this is {version}); starting an empty one"
