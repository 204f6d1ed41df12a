"""TensorRT enums as the double plays them: pybind11-like members, available per TensorRT major.

Members are looked up through the metaclass, so a member of the other major is absent exactly as in
the real bindings (``BuilderFlag.FP16`` under 11.x raises ``type object
'tensorrt_bindings.tensorrt.BuilderFlag' has no attribute 'FP16'``), and a real member the double does
not define raises NotImplementedError. Every member's value is the one ``int(member)`` gives in the real
10.16.1.11 / 11.4.0.106 bindings (tests/test_trt_double_compat.py reads them from the wheels); where 11.0
renumbered a member, its spec is ``{major: value}``.
"""
from __future__ import annotations

from typing import ClassVar

from .surface import Base, Meta, active_major, missing_class_attr, missing_instance_attr

TEN, ELEVEN = frozenset({10}), frozenset({11})


class EnumMeta(Meta):
    def __getattr__(cls, name):
        member = cls._member(name)
        if member is not None:
            return member
        if name == "__members__":
            return {n: cls._member(n) for n in cls._available_names()}
        missing_class_attr(cls, name)

    def __dir__(cls):
        return sorted(set(super().__dir__()) | set(cls._available_names()))


class Enum(Base, metaclass=EnumMeta):
    """Base of the double's enums. ``_spec``: member name -> value, or (value, majors it exists in), or
    {major: value} where the value differs per major."""

    _spec: ClassVar[dict] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._objects = {}

    @classmethod
    def _entry(cls, name):
        entry = cls._spec.get(name)
        if entry is None:
            return None
        if isinstance(entry, dict):  # the value differs per major (11.0 renumbered some enums)
            return entry.get(active_major())
        value, majors = entry if isinstance(entry, tuple) else (entry, None)
        if majors is not None and active_major() not in majors:
            return None
        return value

    @classmethod
    def _available_names(cls):
        return [n for n in cls._spec if cls._entry(n) is not None]

    @classmethod
    def _member(cls, name):
        value = cls._entry(name)
        if value is None:
            return None
        obj = cls._objects.get((name, value))  # keyed by value too: a member may differ per major
        if obj is None:
            obj = cls._objects[(name, value)] = cls._new(_name=name, _value=value)
        return obj

    def __new__(cls, value):
        for name in cls._available_names():
            if cls._entry(name) == int(value):
                return cls._member(name)
        raise ValueError(f"{int(value)} is not a valid {cls.__name__} in the TensorRT test double")

    def __init__(self, value):
        pass

    def __getattr__(self, name):  # members are reachable from members, as class attributes are
        member = type(self)._member(name)
        if member is not None:
            return member
        missing_instance_attr(self, name)

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> int:
        return self._value

    def __int__(self):
        return self._value

    def __index__(self):
        return self._value

    def __eq__(self, other):
        return type(other) is type(self) and other._value == self._value

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._value)

    def __repr__(self):
        return f"<{type(self).__name__}.{self._name}: {self._value}>"

    def __str__(self):
        return f"{type(self).__name__}.{self._name}"

    def __getstate__(self):
        return self._value

    def __reduce__(self):
        return type(self), (self._value,)


class DataType(Enum):
    _real = "DataType"
    _spec: ClassVar[dict] = {"FLOAT": 0, "HALF": 1, "INT8": 2, "INT32": 3, "BOOL": 4, "UINT8": 5, "FP8": 6, "BF16": 7,
             "INT64": 8, "INT4": 9, "FP4": 10, "E8M0": 11}

    @property
    def itemsize(self):
        """Defined in the wheel's pure-Python ``__init__.py`` (``_itemsize``): sizes in bytes."""
        return {"FLOAT": 4, "HALF": 2, "BF16": 2, "INT8": 1, "INT32": 4, "INT64": 8, "BOOL": 1, "UINT8": 1,
                "FP8": 1, "INT4": 0.5, "FP4": 0.5}.get(self._name)


class Severity(Enum):
    _real = "ILogger.Severity"
    _spec: ClassVar[dict] = {"INTERNAL_ERROR": 0, "ERROR": 1, "WARNING": 2, "INFO": 3, "VERBOSE": 4}

    def __lt__(self, other):
        return self._value < int(other)

    def __le__(self, other):
        return self._value <= int(other)

    def __gt__(self, other):
        return self._value > int(other)

    def __ge__(self, other):
        return self._value >= int(other)

    __hash__ = Enum.__hash__


Severity.__qualname__ = "ILogger.Severity"


class TensorIOMode(Enum):
    _real = "TensorIOMode"
    _spec: ClassVar[dict] = {"NONE": 0, "INPUT": 1, "OUTPUT": 2}


class TensorLocation(Enum):
    _real = "TensorLocation"
    _spec: ClassVar[dict] = {"DEVICE": 0, "HOST": 1}


class ElementWiseOperation(Enum):
    _real = "ElementWiseOperation"
    _spec: ClassVar[dict] = {"SUM": 0, "PROD": 1, "MAX": 2, "MIN": 3, "SUB": 4, "DIV": 5, "POW": 6, "FLOOR_DIV": 7, "AND": 8,
             "OR": 9, "XOR": 10, "EQUAL": 11, "GREATER": 12, "LESS": 13}


class ScaleMode(Enum):
    _real = "ScaleMode"
    _spec: ClassVar[dict] = {"UNIFORM": 0, "CHANNEL": 1, "ELEMENTWISE": 2}


class BuilderFlag(Enum):
    # the weak-typing precision flags were removed in 11.0 (11.4 stubs: no FP16, BF16, INT8, ...)
    _real = "BuilderFlag"
    _spec: ClassVar[dict] = {"FP16": (0, TEN), "INT8": (1, TEN), "DEBUG": 2, "GPU_FALLBACK": 3, "REFIT": 4,
             "DISABLE_TIMING_CACHE": 5, "TF32": 6, "SPARSE_WEIGHTS": 7, "OBEY_PRECISION_CONSTRAINTS": (9, TEN),
             "PREFER_PRECISION_CONSTRAINTS": (10, TEN), "BF16": (17, TEN),
             # values read from the real 10.16.1.11 / 11.4.0.106 bindings (int(member)); 11.0 renumbered them
             "VERSION_COMPATIBLE": {10: 13, 11: 12}, "EXCLUDE_LEAN_RUNTIME": {10: 14, 11: 13},
             # chapter 9: the 10.x weak quantized-type flags (10.16 docstrings: "[DEPRECATED] Deprecated in
             # TensorRT 10.12. Superseded by strong typing"; absent from 11.4); values of NvInfer.h v10.16
             # (kFP8 = 15, kINT4 = 22, kFP4 = 26)
             "FP8": (15, TEN), "INT4": (22, TEN), "FP4": (26, TEN)}


class MemoryPoolType(Enum):
    _real = "MemoryPoolType"
    _spec: ClassVar[dict] = {"WORKSPACE": 0, "DLA_MANAGED_SRAM": 1, "DLA_LOCAL_DRAM": 2, "DLA_GLOBAL_DRAM": 3, "TACTIC_DRAM": 4,
             "TACTIC_SHARED_MEMORY": 5}


class NetworkDefinitionCreationFlag(Enum):
    # 10.16 docstring: "EXPLICIT_BATCH : [DEPRECATED] Ignored because networks are always "explicit batch"
    # in TensorRT 10.0."; 11.4 has no EXPLICIT_BATCH and says of STRONGLY_TYPED: "Strongly typed mode is
    # always enabled. This flag is retained for API compatibility but is ignored."
    _real = "NetworkDefinitionCreationFlag"
    # values as the real bindings report them: 11.4 renumbered the members it kept (STRONGLY_TYPED is 0 there)
    _spec: ClassVar[dict] = {"EXPLICIT_BATCH": (0, TEN), "STRONGLY_TYPED": {10: 1, 11: 0},
             "PREFER_JIT_PYTHON_PLUGINS": {10: 2, 11: 1}, "PREFER_AOT_PYTHON_PLUGINS": {10: 3, 11: 2}}


class ExecutionContextAllocationStrategy(Enum):
    _real = "ExecutionContextAllocationStrategy"
    _spec: ClassVar[dict] = {"STATIC": 0, "ON_PROFILE_CHANGE": 1, "USER_MANAGED": 2}


class ProfilingVerbosity(Enum):
    _real = "ProfilingVerbosity"
    _spec: ClassVar[dict] = {"LAYER_NAMES_ONLY": 0, "NONE": 1, "DETAILED": 2}


class ErrorCode(Enum):
    _real = "ErrorCode"
    _spec: ClassVar[dict] = {n: i for i, n in enumerate(
        ["SUCCESS", "INTERNAL_ERROR", "MEM_ALLOC_FAILED", "MODEL_DESERIALIZE_FAILED", "INVALID_VALUE",
         "INVALID_GRAPH", "INVALID_NODE", "UNSUPPORTED_GRAPH", "UNSUPPORTED_NODE", "UNSUPPORTED_NODE_ATTR",
         "UNSUPPORTED_NODE_INPUT", "UNSUPPORTED_NODE_DATATYPE", "UNSUPPORTED_NODE_DYNAMIC",
         "UNSUPPORTED_NODE_SHAPE", "REFIT_FAILED"])}


class LayerType(Enum):
    _real = "LayerType"
    _spec: ClassVar[dict] = {"CONVOLUTION": 0, "CAST": 1, "ACTIVATION": 2, "POOLING": 3, "SCALE": 5, "SOFTMAX": 6,
             "DECONVOLUTION": 7, "CONCATENATION": 8, "ELEMENTWISE": 9, "UNARY": 11, "PADDING": 12, "SHUFFLE": 13,
             "REDUCE": 14, "TOPK": 15, "GATHER": 16, "MATRIX_MULTIPLY": 17, "CONSTANT": 19, "IDENTITY": 20,
             "SLICE": 22, "SHAPE": 23, "RESIZE": 25, "SELECT": 30, "QUANTIZE": 32, "DEQUANTIZE": 33, "EINSUM": 38,
             "NORMALIZATION": 45}


#: ONNX operator -> the LayerType the double reports for the one layer it makes per node
ONNX_LAYER_TYPES = {
    **dict.fromkeys(["MatMul", "Gemm"], "MATRIX_MULTIPLY"),
    **dict.fromkeys(["Relu", "Sigmoid", "Tanh", "LeakyRelu", "Elu", "Selu", "Softplus", "HardSigmoid", "Clip",
                     "ThresholdedRelu", "Softsign"], "ACTIVATION"),
    **dict.fromkeys(["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Equal", "Greater", "Less", "And", "Or",
                     "Xor", "Sum", "Mean"], "ELEMENTWISE"),
    **dict.fromkeys(["Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Sin", "Cos", "Floor", "Ceil", "Erf", "Not",
                     "Sign", "Round"], "UNARY"),
    **dict.fromkeys(["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
                     "ReduceSumSquare", "ReduceLogSumExp"], "REDUCE"),
    **dict.fromkeys(["Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze"], "SHUFFLE"),
    **dict.fromkeys(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"], "POOLING"),
    **dict.fromkeys(["Softmax", "LogSoftmax"], "SOFTMAX"),
    **dict.fromkeys(["LayerNormalization", "InstanceNormalization", "GroupNormalization"], "NORMALIZATION"),
    "Conv": "CONVOLUTION", "ConvTranspose": "DECONVOLUTION", "Concat": "CONCATENATION", "Gather": "GATHER",
    "Slice": "SLICE", "Shape": "SHAPE", "Constant": "CONSTANT", "Identity": "IDENTITY", "Cast": "CAST",
    "Where": "SELECT", "Pad": "PADDING", "Resize": "RESIZE", "TopK": "TOPK", "BatchNormalization": "SCALE",
    "Einsum": "EINSUM", "QuantizeLinear": "QUANTIZE", "DequantizeLinear": "DEQUANTIZE",
}

class HardwareCompatibilityLevel(Enum):
    # docstring (10.16 and 11.4): NONE "Do not require hardware compatibility with GPU architectures other than
    # that of the GPU on which the engine was built"; AMPERE_PLUS "Require that the engine is compatible with
    # Ampere and newer GPUs [...] only supported for engines built on NVIDIA Ampere and later GPUs";
    # SAME_COMPUTE_CAPABILITY "compatible with GPUs that have the same Compute Capability version as the one it was
    # built on [...] only supported for engines built on NVIDIA Turing and later GPUs"
    _real = "HardwareCompatibilityLevel"
    _spec: ClassVar[dict] = {"NONE": 0, "AMPERE_PLUS": 1, "SAME_COMPUTE_CAPABILITY": 2}


class RuntimePlatform(Enum):
    # docstring: SAME_AS_BUILD "The engine constructed by TensorRT can only run on the identical platform it was
    # built on"; WINDOWS_AMD64 "can only be enabled when building engines on Linux AMD64 platforms"
    _real = "RuntimePlatform"
    _spec: ClassVar[dict] = {"SAME_AS_BUILD": 0, "WINDOWS_AMD64": 1}


class LayerInformationFormat(Enum):
    # chapter 9: EngineInspector output formats (NvInferRuntime.h v10.16 and v11.1: kONELINE = 0, kJSON = 1)
    _real = "LayerInformationFormat"
    _spec: ClassVar[dict] = {"ONELINE": 0, "JSON": 1}


class DeviceType(Enum):
    # chapter 8: 10.16 / 11.4 stubs: "GPU : GPU device", "DLA : DLA core"
    _real = "DeviceType"
    _spec: ClassVar[dict] = {"GPU": 0, "DLA": 1}


ALL = [DataType, TensorIOMode, TensorLocation, ElementWiseOperation, ScaleMode, BuilderFlag, MemoryPoolType,
       NetworkDefinitionCreationFlag, ExecutionContextAllocationStrategy, ProfilingVerbosity, ErrorCode, LayerType,
       HardwareCompatibilityLevel, RuntimePlatform, LayerInformationFormat, DeviceType]
