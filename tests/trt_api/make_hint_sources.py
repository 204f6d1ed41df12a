"""Write ``trtfaq/data/hint_sources.json``: NVIDIA's own word on what replaces each removed TensorRT name.

``trtfaq check-api`` tells the reader what to use instead of a removed Python name from the hand-written
table ``HINTS`` (trtfaq/tools/check_api.py). This script collects, for every key of that table, the
per-entry statements NVIDIA itself made about the name, so that tests/test_hint_sources.py can check
that each hint agrees with NVIDIA:

- ``header``: the ``\\deprecated`` note of the C++ method, enum value, class or alias the Python name wraps,
  in ``include/*.h`` of NVIDIA/TensorRT at the last tag where the Python name still existed;
- ``docstring``: the ``[DEPRECATED]`` note of the Python docstring (``python/docstrings/**/*.h``), same tag;
- ``binding``: the text the Python binding passes to ``utils::deprecate``/``utils::deprecateMember``
  (``python/src``), which the binding prints at run time as ``Use <text> instead.``;
- ``page``: the entry of NVIDIA's 10.x -> 11.x migration table (``PAGE_ENTRIES`` below, copied verbatim
  from the pages; only the start of the Python table could be read, see ``PAGE_NOTE``).

How a Python name maps to C++ is written out in ``CPP`` (with the pybind11 line it comes from); the
script checks every C++ name there against the binding statement it finds in ``python/src`` at the tag,
and stores that statement in the output, so a wrong mapping fails loudly.

Usage (needs a clone of https://github.com/NVIDIA/TensorRT with its tags; a bare clone is fine)::

    git clone https://github.com/NVIDIA/TensorRT /path/to/TensorRT
    .venv/bin/python tests/trt_api/make_hint_sources.py /path/to/TensorRT

It reads the clone with ``git show <tag>:<path>`` only (nothing is checked out) and writes
``trtfaq/data/hint_sources.json`` (``--out`` to write elsewhere).
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):  # run as a script: make ``trtfaq`` importable
    sys.path.insert(0, str(ROOT))

from trtfaq.tools import apisurface  # noqa: E402
from trtfaq.tools.check_api import HINTS  # noqa: E402

OUT = ROOT / "trtfaq" / "data" / "hint_sources.json"
REPO_URL = "https://github.com/NVIDIA/TensorRT"

#: Python name -> the C++ names it wraps, from the pybind11 statement named in the comment (file:line at
#: the tag used for the name). For a lambda the C++ call inside the lambda is named. Every entry is checked
#: against python/src at the tag (``check_mapping``).
CPP = {
    # pyCore.cpp:1174 .def_property("max_workspace_size", deprecateMember(&IBuilderConfig::getMaxWorkspaceSize, ...),
    #                  deprecateMember(&IBuilderConfig::setMaxWorkspaceSize, ...))
    "IBuilderConfig.max_workspace_size": ["nvinfer1::IBuilderConfig::setMaxWorkspaceSize",
                                          "nvinfer1::IBuilderConfig::getMaxWorkspaceSize"],
    # pyCore.cpp:1166 .def_property("min_timing_iterations", ...getMinTimingIterations, ...setMinTimingIterations)
    "IBuilderConfig.min_timing_iterations": ["nvinfer1::IBuilderConfig::setMinTimingIterations",
                                             "nvinfer1::IBuilderConfig::getMinTimingIterations"],
    # pyCore.cpp:1264 .def("build_engine", deprecateMember(&IBuilder::buildEngineWithConfig, ...))
    "Builder.build_engine": ["nvinfer1::IBuilder::buildEngineWithConfig"],
    # pyCore.cpp:1247 .def_property("max_batch_size", ...&IBuilder::getMaxBatchSize, ...&IBuilder::setMaxBatchSize)
    "Builder.max_batch_size": ["nvinfer1::IBuilder::setMaxBatchSize", "nvinfer1::IBuilder::getMaxBatchSize"],
    # pyCore.cpp:915 .def_property_readonly("max_batch_size", deprecateMember(&ICudaEngine::getMaxBatchSize, ...))
    "ICudaEngine.max_batch_size": ["nvinfer1::ICudaEngine::getMaxBatchSize"],
    # pyCore.cpp:891 .def_property_readonly("num_bindings", &ICudaEngine::getNbBindings)
    "ICudaEngine.num_bindings": ["nvinfer1::ICudaEngine::getNbBindings"],
    # pyCore.cpp:896 .def("get_binding_name", deprecateMember(&ICudaEngine::getBindingName, "get_tensor_name"))
    "ICudaEngine.get_binding_name": ["nvinfer1::ICudaEngine::getBindingName"],
    # pyCore.cpp:898 .def("get_binding_index", deprecateMember(&ICudaEngine::getBindingIndex, "get_tensor_name"))
    "ICudaEngine.get_binding_index": ["nvinfer1::ICudaEngine::getBindingIndex"],
    # pyCore.cpp:904 .def("get_binding_shape", deprecateMember(&ICudaEngine::getBindingDimensions, ...))
    "ICudaEngine.get_binding_shape": ["nvinfer1::ICudaEngine::getBindingDimensions"],
    # pyCore.cpp:909 .def("get_binding_dtype", deprecateMember(&ICudaEngine::getBindingDataType, ...))
    "ICudaEngine.get_binding_dtype": ["nvinfer1::ICudaEngine::getBindingDataType"],
    # pyCore.cpp:900 .def("binding_is_input", deprecateMember(&ICudaEngine::bindingIsInput, "get_tensor_mode"))
    "ICudaEngine.binding_is_input": ["nvinfer1::ICudaEngine::bindingIsInput"],
    # pyCore.cpp:933 .def("get_profile_shape", deprecate(lambdas::engine_get_profile_shape, ...));
    #   the lambda calls self.getProfileDimensions(bindingIndex, profileIndex, OptProfileSelector::kMIN)
    "ICudaEngine.get_profile_shape": ["nvinfer1::ICudaEngine::getProfileDimensions"],
    # pyCore.cpp:937 .def("get_profile_shape_input", deprecate(lambdas::engine_get_profile_shape_input, ...));
    #   the lambda calls self.getProfileShapeValues(bindingIndex, profileIndex, OptProfileSelector::kMIN)
    "ICudaEngine.get_profile_shape_input": ["nvinfer1::ICudaEngine::getProfileShapeValues"],
    # pyCore.cpp:953 .def("get_binding_format", deprecateMember(&ICudaEngine::getBindingFormat, ...))
    "ICudaEngine.get_binding_format": ["nvinfer1::ICudaEngine::getBindingFormat"],
    # pyCore.cpp:955 .def("get_binding_format_desc", deprecateMember(&ICudaEngine::getBindingFormatDesc, ...))
    "ICudaEngine.get_binding_format_desc": ["nvinfer1::ICudaEngine::getBindingFormatDesc"],
    # pyCore.cpp:958 .def("get_binding_vectorized_dim", deprecateMember(&ICudaEngine::getBindingVectorizedDim, ...))
    "ICudaEngine.get_binding_vectorized_dim": ["nvinfer1::ICudaEngine::getBindingVectorizedDim"],
    # pyCore.cpp:950 .def("get_binding_components_per_element",
    #                     deprecateMember(&ICudaEngine::getBindingComponentsPerElement, ...))
    "ICudaEngine.get_binding_components_per_element": ["nvinfer1::ICudaEngine::getBindingComponentsPerElement"],
    # pyCore.cpp:947 .def("get_binding_bytes_per_component",
    #                     deprecateMember(&ICudaEngine::getBindingBytesPerComponent, ...))
    "ICudaEngine.get_binding_bytes_per_component": ["nvinfer1::ICudaEngine::getBindingBytesPerComponent"],
    # pyCore.cpp:943 .def("is_shape_binding", deprecateMember(&ICudaEngine::isShapeBinding, "get_tensor_location"))
    "ICudaEngine.is_shape_binding": ["nvinfer1::ICudaEngine::isShapeBinding"],
    # pyCore.cpp:945 .def("is_execution_binding", deprecateMember(&ICudaEngine::isExecutionBinding, ...))
    "ICudaEngine.is_execution_binding": ["nvinfer1::ICudaEngine::isExecutionBinding"],
    # pyCore.cpp:922 .def("get_location", deprecateMember(&ICudaEngine::getLocation, "get_tensor_location"))
    "ICudaEngine.get_location": ["nvinfer1::ICudaEngine::getLocation"],
    # pyCore.cpp:825 .def("execute_async_v2", lambdas::execute_async_v2, ...); the lambda calls self.enqueueV2(...)
    "IExecutionContext.execute_async_v2": ["nvinfer1::IExecutionContext::enqueueV2"],
    # pyCore.cpp:820 .def("execute_async", deprecate(lambdas::execute_async, "execute_async_v2"), ...);
    #   the function calls self.enqueue(batchSize, ...)
    "IExecutionContext.execute_async": ["nvinfer1::IExecutionContext::enqueue"],
    # pyCore.cpp:818 .def("execute", deprecate(lambdas::execute, "execute_v2"), ...); it calls self.execute(...)
    "IExecutionContext.execute": ["nvinfer1::IExecutionContext::execute"],
    # pyCore.cpp:840 .def("set_binding_shape", deprecateMember(&IExecutionContext::setBindingDimensions, ...))
    "IExecutionContext.set_binding_shape": ["nvinfer1::IExecutionContext::setBindingDimensions"],
    # pyCore.cpp:842 .def("get_binding_shape", deprecateMember(&IExecutionContext::getBindingDimensions, ...))
    "IExecutionContext.get_binding_shape": ["nvinfer1::IExecutionContext::getBindingDimensions"],
    # pyCore.cpp:846 .def("get_shape", deprecate(lambdas::context_get_shape, "get_tensor_address"));
    #   the function calls self.getShapeBinding(binding, shape.data())
    "IExecutionContext.get_shape": ["nvinfer1::IExecutionContext::getShapeBinding"],
    # pyCore.cpp:844 .def("set_shape_input", deprecate(lambdas::context_set_shape_input, "set_tensor_address"));
    #   the function calls self.setInputShapeBinding(binding, shape.data())
    "IExecutionContext.set_shape_input": ["nvinfer1::IExecutionContext::setInputShapeBinding"],
    # pyCore.cpp:838 .def("get_strides", deprecateMember(&IExecutionContext::getStrides, "get_tensor_strides"))
    "IExecutionContext.get_strides": ["nvinfer1::IExecutionContext::getStrides"],
    # v8.6.1 pyCore.cpp:836 .def_property("active_optimization_profile", &IExecutionContext::getOptimizationProfile,
    #   deprecate(lambdas::context_set_optimization_profile, "set_optimization_profile_async")); the setter calls
    #   self.setOptimizationProfile(profileIndex). 10.0 on keep only the getter, so the removed use is the store.
    "IExecutionContext.active_optimization_profile": ["nvinfer1::IExecutionContext::setOptimizationProfile"],
    # v10.16 pyCore.cpp:1381 .def_property_readonly("all_shape_inputs_specified",
    #                                               &IExecutionContext::allInputShapesSpecified)
    "IExecutionContext.all_shape_inputs_specified": ["nvinfer1::IExecutionContext::allInputShapesSpecified"],
    # pyGraph.cpp:877 .def("add_fully_connected", deprecate(lambdas::add_fully_connected, "add_matrix_multiply"));
    #   the function calls self.addFullyConnected(...)
    "INetworkDefinition.add_fully_connected": ["nvinfer1::INetworkDefinition::addFullyConnected"],
    # pyGraph.cpp:871 .def("add_convolution", deprecate(lambdas::add_convolution, "add_convolution_nd"));
    #   the function calls self.addConvolution(...)
    "INetworkDefinition.add_convolution": ["nvinfer1::INetworkDefinition::addConvolution"],
    # pyGraph.cpp:898 .def("add_deconvolution", deprecate(lambdas::add_deconvolution, "add_deconvolution_nd"));
    #   the function calls self.addDeconvolution(...)
    "INetworkDefinition.add_deconvolution": ["nvinfer1::INetworkDefinition::addDeconvolution"],
    # pyGraph.cpp:882 .def("add_pooling", deprecateMember(&INetworkDefinition::addPooling, "add_pooling_nd"))
    "INetworkDefinition.add_pooling": ["nvinfer1::INetworkDefinition::addPooling"],
    # pyGraph.cpp:908 .def("add_padding", deprecateMember(&INetworkDefinition::addPadding, "add_padding_nd"))
    "INetworkDefinition.add_padding": ["nvinfer1::INetworkDefinition::addPadding"],
    # pyGraph.cpp:935 .def("add_rnn_v2", deprecateMember(&INetworkDefinition::addRNNv2, "addLoop"))
    "INetworkDefinition.add_rnn_v2": ["nvinfer1::INetworkDefinition::addRNNv2"],
    # pyGraph.cpp:864 .def_property_readonly("has_explicit_precision", &INetworkDefinition::hasExplicitPrecision)
    "INetworkDefinition.has_explicit_precision": ["nvinfer1::INetworkDefinition::hasExplicitPrecision"],
    # pyGraph.cpp:349 .def_property("kernel_size", ...&IConvolutionLayer::getKernelSize, ...setKernelSize)
    "IConvolutionLayer.kernel_size": ["nvinfer1::IConvolutionLayer::setKernelSize",
                                      "nvinfer1::IConvolutionLayer::getKernelSize"],
    # pyGraph.cpp:352 .def_property("padding", ...&IConvolutionLayer::getPadding, ...setPadding)
    "IConvolutionLayer.padding": ["nvinfer1::IConvolutionLayer::setPadding", "nvinfer1::IConvolutionLayer::getPadding"],
    # pyGraph.cpp:351 .def_property("stride", ...&IConvolutionLayer::getStride, ...setStride)
    "IConvolutionLayer.stride": ["nvinfer1::IConvolutionLayer::setStride", "nvinfer1::IConvolutionLayer::getStride"],
    # pyGraph.cpp:360 .def_property("dilation", ...&IConvolutionLayer::getDilation, ...setDilation)
    "IConvolutionLayer.dilation": ["nvinfer1::IConvolutionLayer::setDilation",
                                   "nvinfer1::IConvolutionLayer::getDilation"],
    # pyGraph.cpp:456 .def_property("kernel_size", ...&IDeconvolutionLayer::getKernelSize, ...setKernelSize)
    "IDeconvolutionLayer.kernel_size": ["nvinfer1::IDeconvolutionLayer::setKernelSize",
                                        "nvinfer1::IDeconvolutionLayer::getKernelSize"],
    # pyGraph.cpp:458 .def_property("padding", ...&IDeconvolutionLayer::getPadding, ...setPadding)
    "IDeconvolutionLayer.padding": ["nvinfer1::IDeconvolutionLayer::setPadding",
                                    "nvinfer1::IDeconvolutionLayer::getPadding"],
    # pyGraph.cpp:457 .def_property("stride", ...&IDeconvolutionLayer::getStride, ...setStride)
    "IDeconvolutionLayer.stride": ["nvinfer1::IDeconvolutionLayer::setStride",
                                   "nvinfer1::IDeconvolutionLayer::getStride"],
    # pyGraph.cpp:404 .def_property("window_size", ...&IPoolingLayer::getWindowSize, ...setWindowSize)
    "IPoolingLayer.window_size": ["nvinfer1::IPoolingLayer::setWindowSize", "nvinfer1::IPoolingLayer::getWindowSize"],
    # pyGraph.cpp:406 .def_property("padding", ...&IPoolingLayer::getPadding, ...setPadding)
    "IPoolingLayer.padding": ["nvinfer1::IPoolingLayer::setPadding", "nvinfer1::IPoolingLayer::getPadding"],
    # pyGraph.cpp:405 .def_property("stride", ...&IPoolingLayer::getStride, ...setStride)
    "IPoolingLayer.stride": ["nvinfer1::IPoolingLayer::setStride", "nvinfer1::IPoolingLayer::getStride"],
    # pyGraph.cpp:610 .def_property("pre_padding", ...&IPaddingLayer::getPrePadding, ...setPrePadding)
    "IPaddingLayer.pre_padding": ["nvinfer1::IPaddingLayer::setPrePadding", "nvinfer1::IPaddingLayer::getPrePadding"],
    # pyGraph.cpp:611 .def_property("post_padding", ...&IPaddingLayer::getPostPadding, ...setPostPadding)
    "IPaddingLayer.post_padding": ["nvinfer1::IPaddingLayer::setPostPadding",
                                   "nvinfer1::IPaddingLayer::getPostPadding"],
    # pyUff.cpp:63 py::class_<IUffParser, ...>(m, "UffParser", ...), constructed by
    #   pyUff.cpp:65 .def(py::init(&createUffParser))
    "tensorrt.UffParser": ["nvuffparser::IUffParser", "nvuffparser::createUffParser"],
    # pyCaffe.cpp:75 py::class_<ICaffeParser, ...>(m, "CaffeParser", ...), constructed by
    #   pyCaffe.cpp:77 .def(py::init(&nvcaffeparser1::createCaffeParser))
    "tensorrt.CaffeParser": ["nvcaffeparser1::ICaffeParser", "nvcaffeparser1::createCaffeParser"],
    # pyUff.cpp:39 py::enum_<UffInputOrder>(m, "UffInputOrder", ...)
    "tensorrt.UffInputOrder": ["nvuffparser::UffInputOrder"],
    # pyGraph.cpp:367 py::class_<IFullyConnectedLayer, ILayer, ...>(m, "IFullyConnectedLayer", ...)
    "tensorrt.IFullyConnectedLayer": ["nvinfer1::IFullyConnectedLayer"],
    # pyGraph.cpp:543 py::class_<IRNNv2Layer, ILayer, ...>(m, "IRNNv2Layer", ...)
    "tensorrt.IRNNv2Layer": ["nvinfer1::IRNNv2Layer"],
    # pyGraph.cpp:1006 m.attr("ResizeMode") = m.attr("InterpolationMode"); the Python alias mirrors the C++
    #   alias `using ResizeMode = InterpolationMode;` (NvInfer.h)
    "tensorrt.ResizeMode": ["nvinfer1::ResizeMode"],
    # pyGraph.cpp:1007 m.attr("SliceMode") = m.attr("SampleMode"); C++ `using SliceMode = SampleMode;`
    "tensorrt.SliceMode": ["nvinfer1::SliceMode"],
    # pyCore.cpp:1074 .value("STRICT_TYPES", BuilderFlag::kSTRICT_TYPES, ...)
    "BuilderFlag.STRICT_TYPES": ["nvinfer1::BuilderFlag::kSTRICT_TYPES"],
    # pyCore.cpp:1087 .value("ENABLE_TACTIC_HEURISTIC", BuilderFlag::kENABLE_TACTIC_HEURISTIC, ...)
    "BuilderFlag.ENABLE_TACTIC_HEURISTIC": ["nvinfer1::BuilderFlag::kENABLE_TACTIC_HEURISTIC"],
    # pyCore.cpp:1148 .value("DEFAULT", EngineCapability::kDEFAULT, ...)
    "EngineCapability.DEFAULT": ["nvinfer1::EngineCapability::kDEFAULT"],
    # pyCore.cpp:1149 .value("SAFE_GPU", EngineCapability::kSAFE_GPU, ...)
    "EngineCapability.SAFE_GPU": ["nvinfer1::EngineCapability::kSAFE_GPU"],
    # pyCore.cpp:1150 .value("SAFE_DLA", EngineCapability::kSAFE_DLA, ...)
    "EngineCapability.SAFE_DLA": ["nvinfer1::EngineCapability::kSAFE_DLA"],
    # pyCore.cpp:1132 .value("DEFAULT", ProfilingVerbosity::kDEFAULT, ...)
    "ProfilingVerbosity.DEFAULT": ["nvinfer1::ProfilingVerbosity::kDEFAULT"],
    # pyCore.cpp:1133 .value("VERBOSE", ProfilingVerbosity::kVERBOSE, ...)
    "ProfilingVerbosity.VERBOSE": ["nvinfer1::ProfilingVerbosity::kVERBOSE"],
    # pyGraph.cpp:655 .value("DEFAULT", SampleMode::kDEFAULT, ...)
    "SampleMode.DEFAULT": ["nvinfer1::SampleMode::kDEFAULT"],
    # pyCore.cpp:1239 .value("EXPLICIT_PRECISION", NetworkDefinitionCreationFlag::kEXPLICIT_PRECISION, ...)
    "NetworkDefinitionCreationFlag.EXPLICIT_PRECISION": ["nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_PRECISION"],
    # v10.16 pyCore.cpp:1893 .value("EXPLICIT_BATCH", NetworkDefinitionCreationFlag::kEXPLICIT_BATCH, ...)
    "NetworkDefinitionCreationFlag.EXPLICIT_BATCH": ["nvinfer1::NetworkDefinitionCreationFlag::kEXPLICIT_BATCH"],
    # v10.16 pyCore.cpp:1671-1704 .value("FP16", BuilderFlag::kFP16, ...) and the other precision flags
    "BuilderFlag.FP16": ["nvinfer1::BuilderFlag::kFP16"],
    "BuilderFlag.BF16": ["nvinfer1::BuilderFlag::kBF16"],
    "BuilderFlag.INT8": ["nvinfer1::BuilderFlag::kINT8"],
    "BuilderFlag.FP8": ["nvinfer1::BuilderFlag::kFP8"],
    "BuilderFlag.INT4": ["nvinfer1::BuilderFlag::kINT4"],
    "BuilderFlag.FP4": ["nvinfer1::BuilderFlag::kFP4"],
    # v10.16 pyCore.cpp:1682 .value("OBEY_PRECISION_CONSTRAINTS", BuilderFlag::kOBEY_PRECISION_CONSTRAINTS, ...)
    "BuilderFlag.OBEY_PRECISION_CONSTRAINTS": ["nvinfer1::BuilderFlag::kOBEY_PRECISION_CONSTRAINTS"],
    # v10.16 pyCore.cpp:1684 .value("PREFER_PRECISION_CONSTRAINTS", BuilderFlag::kPREFER_PRECISION_CONSTRAINTS, ...)
    "BuilderFlag.PREFER_PRECISION_CONSTRAINTS": ["nvinfer1::BuilderFlag::kPREFER_PRECISION_CONSTRAINTS"],
    # v10.16 pyCore.cpp:1820 .def_property("int8_calibrator", ...&IBuilderConfig::getInt8Calibrator,
    #                                      ...&IBuilderConfig::setInt8Calibrator)
    "IBuilderConfig.int8_calibrator": ["nvinfer1::IBuilderConfig::setInt8Calibrator",
                                       "nvinfer1::IBuilderConfig::getInt8Calibrator"],
    # v10.16 pyCore.cpp:1834 .def("set_calibration_profile", deprecateMember(&IBuilderConfig::setCalibrationProfile, ..))
    "IBuilderConfig.set_calibration_profile": ["nvinfer1::IBuilderConfig::setCalibrationProfile"],
    # v10.16 pyCore.cpp:1842 .def_property("algorithm_selector", ...&IBuilderConfig::getAlgorithmSelector,
    #                                      ...&IBuilderConfig::setAlgorithmSelector)
    "IBuilderConfig.algorithm_selector": ["nvinfer1::IBuilderConfig::setAlgorithmSelector",
                                          "nvinfer1::IBuilderConfig::getAlgorithmSelector"],
    # v10.16 pyInt8.cpp:280-345 py::class_<IInt8...>(m, "IInt8...", ...), py::enum_<CalibrationAlgoType>(...)
    "tensorrt.IInt8EntropyCalibrator2": ["nvinfer1::IInt8EntropyCalibrator2"],
    "tensorrt.IInt8EntropyCalibrator": ["nvinfer1::IInt8EntropyCalibrator"],
    "tensorrt.IInt8MinMaxCalibrator": ["nvinfer1::IInt8MinMaxCalibrator"],
    "tensorrt.IInt8LegacyCalibrator": ["nvinfer1::IInt8LegacyCalibrator"],
    "tensorrt.IInt8Calibrator": ["nvinfer1::IInt8Calibrator"],
    "tensorrt.CalibrationAlgoType": ["nvinfer1::CalibrationAlgoType"],
    # v10.16 pyAlgorithmSelector.cpp:177 py::class_<IAlgorithmSelector, ...>(m, "IAlgorithmSelector", ...)
    "tensorrt.IAlgorithmSelector": ["nvinfer1::IAlgorithmSelector"],
    # v10.16 pyGraph.cpp:393 .def("set_dynamic_range", deprecateMember(&ITensor::setDynamicRange, ...))
    "ITensor.set_dynamic_range": ["nvinfer1::ITensor::setDynamicRange"],
    # v10.16 pyGraph.cpp:392 .def_property("dynamic_range", deprecate(+lambdas::get_dynamic_range, ...),
    #   deprecate(+lambdas::set_dynamic_range, ...)); the setter calls self.setDynamicRange(range[0], range[1])
    "ITensor.dynamic_range": ["nvinfer1::ITensor::setDynamicRange"],
    # v10.16 pyGraph.cpp:409 .def_property("precision", &ILayer::getPrecision, deprecateMember(&ILayer::setPrecision..))
    "ILayer.precision": ["nvinfer1::ILayer::setPrecision"],
    # v10.16 pyGraph.cpp:415 .def("set_output_type", deprecateMember(&ILayer::setOutputType, ...))
    "ILayer.set_output_type": ["nvinfer1::ILayer::setOutputType"],
    # v10.16 pyCore.cpp:1911-1913 .def_property_readonly("platform_has_...", &IBuilder::platformHas...)
    "Builder.platform_has_fast_fp16": ["nvinfer1::IBuilder::platformHasFastFp16"],
    "Builder.platform_has_fast_int8": ["nvinfer1::IBuilder::platformHasFastInt8"],
    "Builder.platform_has_tf32": ["nvinfer1::IBuilder::platformHasTf32"],
    # v10.16 pyCore.cpp:1482 .def_property_readonly("device_memory_size",
    #                                               deprecateMember(&ICudaEngine::getDeviceMemorySize, ...))
    "ICudaEngine.device_memory_size": ["nvinfer1::ICudaEngine::getDeviceMemorySize"],
    # v10.16 pyCore.cpp:1478 .def("get_device_memory_size_for_profile",
    #                            deprecateMember(&ICudaEngine::getDeviceMemorySizeForProfile, ...))
    "ICudaEngine.get_device_memory_size_for_profile": ["nvinfer1::ICudaEngine::getDeviceMemorySizeForProfile"],
    # v10.16 pyCore.cpp:1474 .def("create_execution_context_without_device_memory",
    #                            deprecateMember(&ICudaEngine::createExecutionContextWithoutDeviceMemory, ...))
    "ICudaEngine.create_execution_context_without_device_memory":
        ["nvinfer1::ICudaEngine::createExecutionContextWithoutDeviceMemory"],
    # v10.16 pyCore.cpp:1587 .def_property("weight_streaming_budget", ...&ICudaEngine::getWeightStreamingBudget,
    #                                      ...&ICudaEngine::setWeightStreamingBudget)
    "ICudaEngine.weight_streaming_budget": ["nvinfer1::ICudaEngine::setWeightStreamingBudget",
                                            "nvinfer1::ICudaEngine::getWeightStreamingBudget"],
    # v10.16 pyCore.cpp:1461 .def_property_readonly("has_implicit_batch_dimension",
    #                                               deprecateMember(&ICudaEngine::hasImplicitBatchDimension, ...))
    "ICudaEngine.has_implicit_batch_dimension": ["nvinfer1::ICudaEngine::hasImplicitBatchDimension"],
    # v10.16 pyPlugin.cpp:3845 .def("get_plugin_creator", &IPluginRegistry::getPluginCreator, ...)
    "IPluginRegistry.get_plugin_creator": ["nvinfer1::IPluginRegistry::getPluginCreator"],
    # v10.16 pyPlugin.cpp:3837 .def_property_readonly("plugin_creator_list", lambdas::get_plugin_creator_list);
    #   the lambda calls self.getPluginCreatorList(&numCreators)
    "IPluginRegistry.plugin_creator_list": ["nvinfer1::IPluginRegistry::getPluginCreatorList"],
    # v10.16 pyOnnx.cpp:202 .def("supports_model", lambdas::supportsModel, ...); the lambda calls
    #   self.supportsModel(info.ptr, info.size * info.itemsize, subgraphs, path)
    "OnnxParser.supports_model": ["nvonnxparser::IParser::supportsModel"],
}

#: (tag, release) to read a name at when the last release holding the Python name is not the one that matters:
#: 10.0 removed the setter of active_optimization_profile (the removed use is a store), and kept the getter
TAG_OVERRIDE = {"IExecutionContext.active_optimization_profile": ("v8.6.1", "8.6.1")}
#: what the search for an unsourced name found around it
UNSOURCED_NOTES = {
    "tensorrt.UffInputOrder": "NvUffParser.h at v8.6.1 has no note on UffInputOrder; its replacement note is on "
                              "createUffParser (IUffParser -> nvonnxparser::IParser), cited for tensorrt.UffParser",
}

#: NVIDIA's 10.x -> 11.x migration table for Python ("Removed Python APIs and Replacements"), entries copied
#: verbatim. Only the first 17 entries could be read (the pages were read from a search index that keeps
#: about the first 2,000 characters of each page); nothing of the 8.x -> 10.x table could be read.
PAGE_PYTHON = ["https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/"
               "tensorrt-10x-to-11x-python-api-reference.html",
               "https://docs.nvidia.com/deeplearning/tensorrt/11.4.0/api/migration/"
               "tensorrt-10x-to-11x-python-api-reference.html"]
PAGE_CPP = ("https://docs.nvidia.com/deeplearning/tensorrt/latest/api/migration/"
            "tensorrt-10x-to-11x-c-api-reference.html")
PAGE_NOTE = ("Python 10.x -> 11.x table: the first 17 entries of " + PAGE_PYTHON[0] + " (entries 1-10 also on "
             + PAGE_PYTHON[1] + "); the rest of the table and the whole 8.x -> 10.x table could not be read. "
             "C++ 10.x -> 11.x table (" + PAGE_CPP + "): 5 entries, two of them cut off where the excerpt ended.")
#: (removed, replacement, pages it was read on; 1 = both Python pages, 0 = the latest only)
PAGE_ENTRIES = [
    ("BuilderFlag.FP16", "Strong typing with ModelOpt AutoCast", 1),
    ("BuilderFlag.INT8", "Explicit quantization with Q/DQ nodes", 1),
    ("BuilderFlag.FP8", "Explicit quantization with Q/DQ nodes", 1),
    ("BuilderFlag.BF16", "Strong typing with ModelOpt AutoCast", 1),
    ("BuilderFlag.INT4", "Explicit quantization with Q/DQ nodes", 1),
    ("BuilderFlag.FP4", "Explicit quantization with Q/DQ nodes", 1),
    ("BuilderFlag.OBEY_PRECISION_CONSTRAINTS", "Strong typing (always enforced)", 1),
    ("BuilderFlag.PREFER_PRECISION_CONSTRAINTS", "Strong typing (always enforced)", 1),
    ("BuilderFlag.DIRECT_IO", "Removed (unneeded)", 1),
    ("IBuilderConfig.int8_calibrator", "Explicit quantization with Q/DQ nodes", 1),
    ("IBuilderConfig.set_calibration_profile()", "Explicit quantization with Q/DQ nodes", 0),
    ("IBuilderConfig.get_calibration_profile()", "Explicit quantization with Q/DQ nodes", 0),
    ("IBuilderConfig.set_quantization_flag()", "Explicit quantization with Q/DQ nodes", 0),
    ("IBuilderConfig.get_quantization_flag()", "Explicit quantization with Q/DQ nodes", 0),
    ("IBuilderConfig.quantization_flags", "Explicit quantization with Q/DQ nodes", 0),
    ("IBuilderConfig.clear_quantization_flag()", "Explicit quantization with Q/DQ nodes", 0),
    ("ICudaEngine.device_memory_size", "ICudaEngine.device_memory_size_v2", 0),
]
#: C++ table entries (removed C++ name, replacement, whether the excerpt cut the replacement off), for the C++
#: names in CPP
PAGE_CPP_ENTRIES = [
    ("IAlgorithm, IAlgorithmContext, IAlgorithmIOInfo, IAlgorithmSelector, IAlgorithmVariant",
     "Use editable mode in ITimingCache instead.", False),
    ("IBuilderConfig::setInt8Calibrator(IInt8Calibrator*)", "Explicit quantization with Q/DQ nodes", False),
    ("IBuilder::platformHasFastFp16()",
     "Removed; use strongly typed networks instead of querying platform FP16 support.", True),
    ("IBuilder::platformHasFastInt8()",
     "Removed; use explicit quantization with Q/DQ nodes instead of querying platf", True),
]


# ----- reading the clone ---------------------------------------------------------------------------
class Clone:
    def __init__(self, path: Path):
        self.path = path
        self._cache: dict[tuple, str] = {}
        self.tags = set(self._git("tag").split())

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True, capture_output=True,
                              text=True).stdout

    def files(self, tag: str, folder: str, suffix: str) -> list[str]:
        names = self._git("ls-tree", "-r", "--name-only", tag, "--", folder).split("\n")
        return sorted(n for n in names if n.endswith(suffix))

    def read(self, tag: str, path: str) -> str:
        if (tag, path) not in self._cache:
            self._cache[tag, path] = self._git("show", f"{tag}:{path}")
        return self._cache[tag, path]

    def masked(self, tag: str, path: str) -> str:
        if (tag, path, "masked") not in self._cache:
            self._cache[tag, path, "masked"] = mask(self.read(tag, path))
        return self._cache[tag, path, "masked"]


def tag_for(release: str, tags: set[str]) -> str:
    """The git tag of a PyPI release: 8.6.1 -> v8.6.1, 10.16.1.11 -> v10.16 (the repository tags minors)."""
    parts = release.split(".")
    for cand in (f"v{'.'.join(parts[:3])}", f"v{'.'.join(parts[:2])}", f"v{'.'.join(parts[:2])}.0"):
        if cand in tags:
            return cand
    raise LookupError(f"no tag of NVIDIA/TensorRT for release {release}")


def blob_url(tag: str, path: str, line: int) -> str:
    return f"{REPO_URL}/blob/{tag}/{path}#L{line}"


# ----- C++ source scanning -------------------------------------------------------------------------
def mask(text: str) -> str:
    """``text`` with comments and the insides of string and char literals blanked (same length, newlines
    kept), so that braces and parentheses can be counted."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        if text.startswith('R"trtdoc(', i):
            j = text.index(')trtdoc"', i) + 8
            a, b = i + 2, j - 2
        elif text[i] in "\"'":
            j = i + 1
            while text[j] != text[i]:
                j += 2 if text[j] == "\\" else 1
            j += 1
            a, b = i + 1, j - 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            a, b = i, j
        elif text.startswith("/*", i):
            j = text.index("*/", i) + 2
            a, b = i, j
        else:
            i += 1
            continue
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "
        i = j
    return "".join(out)


def matching(masked: str, i: int, open_: str = "(", close: str = ")") -> int:
    depth = 0
    for j in range(i, len(masked)):
        if masked[j] == open_:
            depth += 1
        elif masked[j] == close:
            depth -= 1
            if depth == 0:
                return j
    raise ValueError("unbalanced")


def line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# ----- pybind11 statements -------------------------------------------------------------------------
def pybind_statements(clone: Clone, tag: str, owner: str, name: str) -> list[dict]:
    """The pybind11 statements binding ``owner.name`` (``tensorrt.Name``: a class, enum or alias)."""
    found = []
    for path in clone.files(tag, "python/src", ".cpp"):
        text = clone.read(tag, path)
        masked = clone.masked(tag, path)
        for m in re.finditer(r'\(\s*m\s*,\s*"(\w+)"', text):
            head = masked[max(0, m.start() - 300):m.start()].split(";")[-1]
            if "class_<" not in head and "enum_<" not in head:
                continue
            ctor_end = matching(masked, m.start())
            if m.group(1) != (name if owner == "tensorrt" else owner):
                continue
            end = ctor_end + 1
            depth = 0
            while masked[end] != ";" or depth:
                depth += masked[end] in "({"
                depth -= masked[end] in ")}"
                end += 1
            if owner == "tensorrt":  # the class itself, and the constructors Python calls
                start = max(masked.rfind("py::class_<", 0, m.start()), masked.rfind("py::enum_<", 0, m.start()))
                found.append((path, text, start, ctor_end + 1))
                member = r"def\(\s*py::init"
            else:
                member = r'(?:def\w*|value)\(\s*"' + re.escape(name) + '"'
            for d in re.finditer(r"\." + member, text[ctor_end:end]):
                a = ctor_end + d.start()
                found.append((path, text, a, matching(masked, masked.index("(", a)) + 1))
        if owner == "tensorrt":
            for a in re.finditer(r'm\.attr\("' + re.escape(name) + r'"\)\s*=[^;]*;', text):
                found.append((path, text, a.start(), a.end()))
    return [{"path": path, "line": line_of(text, a), "text": one_line(text[a:b]), "source": text}
            for path, text, a, b in found]


def lambda_bodies(source: str, statement: str) -> str:
    """The bodies of the ``lambdas::name`` helpers a statement uses (same file)."""
    bodies = []
    masked = mask(source)
    for name in re.findall(r"lambdas::(\w+)", statement):
        m = re.search(rf"(?:\bauto(?:\s+const)?\s+{name}\s*=|[\w:<>*&]\s+{name}\s*\()", masked)
        if m:
            brace = masked.index("{", m.end())
            bodies.append(source[m.start():matching(masked, brace, "{", "}") + 1])
    return "\n".join(bodies)


def binding_notes(statement: str) -> list[str]:
    """The texts passed to ``utils::deprecate(func, "text")`` / ``deprecateMember(&C::f, "text")``."""
    notes = []
    for m in re.finditer(r'deprecate(?:Member)?\(\s*[+&]?[\w:]+\s*,\s*((?:"[^"]*"\s*)+)\)', statement):
        text = "".join(re.findall(r'"([^"]*)"', m.group(1)))
        if text not in notes:
            notes.append(text)
    return notes


def check_mapping(key: str, cpp: list[str], statements: list[dict]) -> None:
    for qual in cpp:
        parts = qual.split("::")
        wanted = parts[-1]
        ok = False
        for st in statements:
            text = st["text"] + "\n" + lambda_bodies(st["source"], st["text"])
            if key.startswith("tensorrt.") and "m.attr(" in st["text"]:
                ok = True  # an alias: nothing in python/src names the C++ alias; the header check finds it
            elif re.search(rf"(?:&|\.|->|\b{parts[-2]}::|<)\s*{re.escape(wanted)}\b", text):
                ok = True
        if not ok:
            raise SystemExit(f"{key}: {qual} is not in its binding statement(s): "
                             + " | ".join(st["text"][:200] for st in statements))


# ----- header notes --------------------------------------------------------------------------------
NOTE_START = re.compile(r"\\deprecated\b|^Deprecated\b|\[DEPRECATED")
NOTE_STOP = re.compile(r"^$|^\\(?!deprecated)\w+")


def comment_text(line: str) -> str | None:
    m = re.match(r"\s*//!?<?\s?(.*)$", line)
    return m.group(1).rstrip() if m else None


def block_above(lines: list[str], index: int) -> list[tuple[int, str]]:
    """The ``//`` comment lines right above line ``index`` (0-based), skipping up to 3 lines of the
    declaration itself (a return type or macro on its own line)."""
    i = index - 1
    skipped = 0
    while i >= 0 and comment_text(lines[i]) is None and lines[i].strip() and skipped < 3 \
            and not lines[i].rstrip().endswith((";", "{", "}")):
        i -= 1
        skipped += 1
    block = []
    while i >= 0 and comment_text(lines[i]) is not None:
        block.append((i + 1, comment_text(lines[i])))
        i -= 1
    return block[::-1]


def trailing(lines: list[str], index: int) -> list[tuple[int, str]]:
    """``//!<`` (or ``//!``) comments on the declaration's line and the ``//!<`` lines that continue them."""
    out = []
    m = re.search(r"//!<?\s?(.*)$", lines[index])
    if m:
        out.append((index + 1, m.group(1).rstrip()))
        j = index + 1
        while j < len(lines) and re.match(r"\s*//!<", lines[j]):
            out.append((j + 1, comment_text(lines[j])))
            j += 1
    return out


def notes_in(block: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The deprecation notes of a comment block, each joined into one line: ``(line, text)``."""
    notes = []
    i = 0
    while i < len(block):
        line, text = block[i]
        if NOTE_START.search(text.strip()):
            parts = [re.sub(r"^\\deprecated\s*", "", text.strip())]
            i += 1
            while i < len(block) and not NOTE_STOP.match(block[i][1].strip()) \
                    and not NOTE_START.search(block[i][1].strip()):
                parts.append(block[i][1].strip())
                i += 1
            notes.append((line, " ".join(p for p in parts if p)))
        else:
            i += 1
    return notes


#: namespaces that do not change the public name: versioned interfaces (nvinfer1::v_1_0::IAlgorithmSelector
#: is nvinfer1::IAlgorithmSelector through a ``using``) and enum helpers
TRANSPARENT_NAMESPACES = {"v_1_0", "impl"}


def namespaces_at(masked: str, pos: int) -> list[str]:
    """The named namespaces enclosing ``pos``, outermost first (``nvinfer1::safe`` -> ["nvinfer1", "safe"])."""
    chain = []
    for m in re.finditer(r"\bnamespace\s+(\w+)\s*\{", masked[:pos]):
        if matching(masked, m.end() - 1, "{", "}") > pos:
            chain.append(m.group(1))
    return [n for n in chain if n not in TRANSPARENT_NAMESPACES]


def header_declarations(clone: Clone, tag: str, qual: str) -> list[tuple[str, int, list[tuple[int, str]]]]:
    """Where ``qual`` (``ns::Class::member``, ``ns::Enum::kValue``, ``ns::Class`` or ``ns::Alias``) is
    declared in the public headers: ``(path, line, comment lines)``. Only declarations in namespace ``ns``
    count (not nvinfer1::safe::ICudaEngine for nvinfer1::ICudaEngine)."""
    namespace, *parts = qual.split("::")
    paths = clone.files(tag, "include", ".h")
    paths = [p for p in paths if not p.endswith("Impl.h")]  # apiv:: implementation interfaces
    scope_re = r"^[ \t]*(?:class|struct|enum class|enum)\s+(?:[A-Z_]+\s+)*%s\b[^;{]*\{"
    out = []
    for path in paths:
        text = clone.read(tag, path)
        masked = clone.masked(tag, path)
        lines = text.split("\n")
        if len(parts) == 1:
            name = parts[0]
            for m in [*re.finditer(scope_re % name, masked, re.M),
                      *re.finditer(rf"^[ \t]*using\s+{name}\s*=", masked, re.M),
                      *re.finditer(rf"^(?:TENSORRTAPI\s+)?[\w:<>]+\s*\*?\s*{name}\s*\(", masked, re.M)]:
                if namespaces_at(masked, m.start()) == [namespace]:
                    idx = line_of(text, m.start()) - 1
                    out.append((path, idx + 1, block_above(lines, idx)))
            continue
        scope, member = parts
        for m in re.finditer(scope_re % scope, masked, re.M):
            if namespaces_at(masked, m.start()) != [namespace]:
                continue
            body_start = masked.index("{", m.start())
            body_end = matching(masked, body_start, "{", "}")
            depth = 0
            if re.fullmatch(r"k[A-Z0-9_]+", member):  # an enumerator starts its line
                pattern = re.compile(rf"^[ \t]*{member}\b", re.M)
            else:  # a method: its name, then its parameters
                pattern = re.compile(rf"\b{re.escape(member)}\s*\(")
            pos = body_start + 1
            for d in pattern.finditer(masked, body_start + 1, body_end):
                depth += masked.count("{", pos, d.start()) - masked.count("}", pos, d.start())
                pos = d.start()
                if depth != 0:
                    continue
                idx = line_of(text, d.start()) - 1
                out.append((path, idx + 1, block_above(lines, idx) + trailing(lines, idx)))
    return out


def header_entries(clone: Clone, tag: str, key: str, cpp: list[str]) -> tuple[list[dict], list[str]]:
    entries, searched = [], []
    for qual in cpp:
        decls = header_declarations(clone, tag, qual)
        searched.append(f"{qual} in include/*.h at {tag}: "
                        + (", ".join(f"{p}:{n}" for p, n, _ in decls) or "not declared"))
        for path, _, block in decls:
            for line, text in notes_in(block):
                if not any(e["text"] == text for e in entries):
                    entries.append({"kind": "header", "url": blob_url(tag, path, line), "text": text, "cpp": qual})
    return entries, searched


# ----- docstrings ----------------------------------------------------------------------------------
def docstring_refs(key: str, statements: list[dict]) -> list[tuple[str, str, str | None]]:
    """``(namespace, constant, ivar)``: the docstrings the statements use; a property's note is the
    ``:ivar name:`` line of its class's ``descr``."""
    owner, name = key.split(".", 1)
    refs = []
    for st in statements:
        for ns, const in re.findall(r"\b(\w+(?:Doc|DOC))::(\w+)", st["text"]):
            if (ns, const, None) not in refs:
                refs.append((ns, const, None))
        if st["text"].startswith(".def_property"):
            owner_ns = re.search(r'\(\s*m\s*,\s*"' + owner + r'"\s*,\s*(\w+)::descr', st["source"])
            if owner_ns:
                refs.append((owner_ns.group(1), "descr", name))
    return refs


def docstring_entries(clone: Clone, tag: str, refs) -> tuple[list[dict], list[str]]:
    entries, searched = [], []
    paths = clone.files(tag, "python/docstrings", ".h")
    for ns, const, ivar in refs:
        where = f"{ns}::{const}" + (f" :ivar {ivar}:" if ivar else "")
        hit = None
        for path in paths:
            text = clone.read(tag, path)
            for m in re.finditer(r"namespace\s+" + ns + r"\s*\{", text):
                end = matching(clone.masked(tag, path), m.end() - 1, "{", "}")
                d = re.search(r"\b" + const + r"\s*=\s*R\"trtdoc\((.*?)\)trtdoc\"", text[m.end():end], re.S)
                if d:
                    hit = (path, text, m.end() + d.start(1), d.group(1))
                    break
            if hit:
                break
        if not hit:
            searched.append(f"{where} in python/docstrings at {tag}: not found")
            continue
        path, text, start, doc = hit
        searched.append(f"{where} in {path} at {tag}")
        if ivar:
            m = re.search(r"^[ \t]*:ivar " + re.escape(ivar) + r":.*$", doc, re.M)
            if not m:
                continue
            para_start, para = m.start(), m.group(0)
        else:
            para_start, para = 0, doc
        for n in re.finditer(r"\[DEPRECATED[^\]]*\]", para):
            rest = para[n.start():]
            rest = re.split(r"\n\s*\n|\n\s*:\w+", rest)[0] if not ivar else rest
            line = line_of(text, start + para_start + n.start())
            note = one_line(rest)
            if not any(e["text"] == note for e in entries):
                entries.append({"kind": "docstring", "url": blob_url(tag, path, line), "text": note,
                                "where": where})
    return entries, searched


# ----- replacements named in a note ----------------------------------------------------------------
#: how NVIDIA names a replacement in a note: "Superseded by X", "Please use X instead", "Use X", "Same as X",
#: "See X", "migrate your workflow to use X", "Equivalent to setting X", "Please query X" (X: an API name or a
#: phrase, up to the end of its clause)
PATTERNS = [
    r"(?i:super[sc]eded) by (?P<x>.+?)(?:\.(?:\s|$)|,|;| if | and will|$)",
    r"(?:[Pp]lease use|^Use|[.;] [Uu]se|; use|\] Use) (?P<x>.+?)(?: instead\b|\.(?:\s|$)|;|,|$)",
    r"^\[DEPRECATED\] Same as (?P<x>.+?)(?:\.(?:\s|$)|$)",
    r"^(?:\[DEPRECATED\] )?Deprecated in TensorRT [\d.]+\. See (?P<x>.+?)(?:\.(?:\s|$)|$)",
    r"migrate your workflow to use (?P<x>[\w:]+)",
    r"Equivalent to setting (?P<x>.+?)(?:\.(?:\s|$)|$)",
    r"Please (?P<x>query .+?)(?:\.(?:\s|$)|$)",
]
#: words a pattern can catch that name nothing ("Use them instead of binding-index based methods")
NOT_A_REPLACEMENT = {"them", "it", "this", "these"}


def named_replacements(text: str, kind: str = "") -> list[str]:
    """What NVIDIA names as the replacement in a note: API names or phrases, [] if it names none.

    ``kind`` is the source's kind. A binding's text is what NVIDIA's binding prints as "Use <text> instead.":
    a bare name or a phrase is the replacement itself ("get_tensor_strides", "network created with
    NetworkDefinitionCreationFlag::EXPLICIT_BATCH flag"); a sentence is read like a note. A migration-table
    entry is the replacement itself unless it only says "Removed"."""
    if kind == "binding" and not re.search(r"(?i)deprecated|super[sc]eded|removed|no longer", text):
        return [text]
    if kind == "page":
        if re.match(r"(?i)removed\b", text) and not re.search(r"(?i)\buse\b", text):
            return []
        if not re.search(r"(?i)\buse\b", text):
            return [text]
    text = re.sub(r"(\w)\([^()]*\)", r"\1()", text)  # getCreator(AsciiChar const* const, ...) -> getCreator()
    found = []
    for pattern in PATTERNS:
        for m in re.finditer(pattern, text):
            x = m.group("x").strip().rstrip(".")
            if x and x.lower() not in NOT_A_REPLACEMENT and x not in found:
                found.append(x)
    return found


# ----- the migration page --------------------------------------------------------------------------
def page_entries(key: str, cpp: list[str]) -> list[dict]:
    out = []
    for removed, replacement, both in PAGE_ENTRIES:
        if removed.removesuffix("()") == key:
            out.append({"kind": "page", "url": PAGE_PYTHON[0], "seen_on": PAGE_PYTHON[:1 + both],
                        "removed": removed, "text": replacement})
    for removed, replacement, cut in PAGE_CPP_ENTRIES:
        names = [n.strip().split("(")[0] for n in removed.split(",")]
        for qual in cpp:
            short = "::".join(qual.split("::")[1:])
            if short in names:
                entry = {"kind": "page", "url": PAGE_CPP, "removed": removed, "text": replacement, "cpp": qual}
                if cut:
                    entry["truncated"] = True
                out.append(entry)
    return out


# ----- putting it together -------------------------------------------------------------------------
def last_tag(surface: apisurface.Surface, clone: Clone, key: str) -> tuple[str, str]:
    if key in TAG_OVERRIDE:
        return TAG_OVERRIDE[key]
    owner, name = key.split(".", 1)
    present = surface.present("" if owner == "tensorrt" else owner, name)
    if not present:
        raise SystemExit(f"{key}: in no release of the API data")
    return tag_for(present[-1], clone.tags), present[-1]


def build(clone: Clone) -> dict:
    surface = apisurface.load()
    missing = sorted(set(HINTS) - set(CPP))
    if missing:
        raise SystemExit("keys of HINTS without a C++ mapping in CPP: " + ", ".join(missing))
    entries, names, unsourced = {}, {}, {}
    for key in HINTS:
        owner, name = key.split(".", 1)
        tag, release = last_tag(surface, clone, key)
        statements = pybind_statements(clone, tag, owner, name)
        if not statements:
            raise SystemExit(f"{key}: no pybind11 statement in python/src at {tag}")
        check_mapping(key, CPP[key], statements)
        bindings = []
        for st in statements:
            for note in binding_notes(st["text"]):
                if not any(e["text"] == note for e in bindings):
                    bindings.append({"kind": "binding", "url": blob_url(tag, st["path"], st["line"]), "text": note})
        headers, searched_h = header_entries(clone, tag, key, CPP[key])
        docs, searched_d = docstring_entries(clone, tag, docstring_refs(key, statements))
        found = headers + docs + bindings + page_entries(key, CPP[key])
        for e in found:
            e["names_replacement"] = bool(named_replacements(e["text"], e["kind"]))
        names[key] = {"tag": tag, "last_release": release, "cpp": CPP[key],
                      "pybind": [f"{blob_url(tag, st['path'], st['line'])} {st['text']}" for st in statements]}
        if found:
            entries[key] = found
        else:
            unsourced[key] = {"searched": searched_h + searched_d
                              + [f"pybind11 statements at {tag}: no deprecate() text",
                                 "migration page entries read: none for this name"]}
            if key in UNSOURCED_NOTES:
                unsourced[key]["note"] = UNSOURCED_NOTES[key]
    return {
        "about": ("NVIDIA's own statements of what replaces each removed TensorRT Python name in "
                  "trtfaq.tools.check_api.HINTS, collected from NVIDIA/TensorRT (" + REPO_URL + ") at the last "
                  "tag where the name existed, and from NVIDIA's migration pages. kind: header = the \\deprecated "
                  "note of the wrapped C++ declaration (include/*.h); docstring = the [DEPRECATED] note of the "
                  "Python docstring (python/docstrings); binding = the text the Python binding passes to "
                  "utils::deprecate/deprecateMember (python/src; printed at run time as 'Use <text> instead.'); "
                  "page = an entry of a migration table. names_replacement: whether the text names a "
                  "replacement. names: per name, the tag read, the last release holding the name, the C++ "
                  "names it wraps and the pybind11 statements binding it. " + PAGE_NOTE + " Written by tests/trt_api/make_hint_sources.py; checked by "
                  "tests/test_hint_sources.py."),
        "entries": entries,
        "unsourced": unsourced,
        "names": names,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clone", type=Path, help="a clone of https://github.com/NVIDIA/TensorRT (with tags)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = build(Clone(args.clone))
    args.out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    n = len(data["entries"])
    print(f"wrote {args.out}: {n} names sourced, {len(data['unsourced'])} unsourced", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
