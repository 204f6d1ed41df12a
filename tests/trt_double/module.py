"""Assembles the ``tensorrt`` module object of the double for one TensorRT version."""
from __future__ import annotations

import importlib.machinery
import types

from . import builder, core, enums, network, runtime
from .surface import missing_module_attr

CLASSES = [
    core.ILogger, core.Logger, core.Dims, core.Weights, core.IHostMemory,
    builder.Builder, builder.IBuilderConfig, builder.IOptimizationProfile, builder.ITimingCache,
    builder.IProgressMonitor,
    network.INetworkDefinition, network.ITensor, network.ILayer, network.IConstantLayer, network.IElementWiseLayer,
    network.IScaleLayer, network.OnnxParser, network.ParserError,
    runtime.Runtime, runtime.ICudaEngine, runtime.IExecutionContext, runtime.IDebugListener, runtime.EngineInspector,
    *enums.ALL,
]

#: module-level DataType aliases of the real bindings (``trt.float32`` is ``DataType.FLOAT``)
DTYPE_ALIASES = {"float32": "FLOAT", "float16": "HALF", "bfloat16": "BF16", "int8": "INT8", "int32": "INT32",
                 "int64": "INT64", "bool": "BOOL", "uint8": "UINT8", "fp8": "FP8", "int4": "INT4", "fp4": "FP4",
                 "e8m0": "E8M0"}


def volume(iterable):
    """As the wheel's ``tensorrt_bindings/__init__.py``: "This will return 1 for empty iterables\""""
    vol = 1
    for elem in iterable:
        vol *= elem
    return vol


def nptype(trt_type):
    """As the wheel's ``tensorrt_bindings/__init__.py``: the numpy type of a DataType, TypeError if none."""
    import numpy as np

    if isinstance(trt_type, enums.DataType) and trt_type.name in core.NUMPY:
        return core.NUMPY[trt_type.name] if trt_type.name != "BOOL" else np.bool_
    raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")


def _parser_version(version: str) -> int:
    """NV_ONNX_PARSER_VERSION = major * 10000 + minor * 100 + patch (NvOnnxParser.h; value computed here)."""
    major, minor, patch = (int(x) for x in version.split(".")[:3])
    return major * 10000 + minor * 100 + patch


def build(version: str) -> types.ModuleType:
    module = types.ModuleType("tensorrt", "TensorRT test double (tests/trt_double): not TensorRT. See its "
                                          "package docstring.")
    module.__spec__ = importlib.machinery.ModuleSpec("tensorrt", None, origin=__file__)
    module.__file__ = __file__
    module.__version__ = version
    for cls in CLASSES:
        setattr(module, cls.__name__, cls)
    for alias, member in DTYPE_ALIASES.items():
        setattr(module, alias, getattr(enums.DataType, member))
    module.volume = volume
    module.nptype = nptype
    parser_version = _parser_version(version)

    def get_nv_onnx_parser_version():
        return parser_version

    module.get_nv_onnx_parser_version = get_nv_onnx_parser_version

    def __getattr__(name):
        missing_module_attr("tensorrt", name)

    module.__getattr__ = __getattr__
    return module
