"""``trtfaq check-api``: will my TensorRT Python code run on TensorRT 10.x / 11.x?

Reads Python files, notebooks or folders (``-`` for standard input) and checks every use of the
``tensorrt`` module against the real Python API of the target releases, which ships with this package
(``trtfaq/data/trt_api.json.gz``: every 10.x and 11.x minor release on PyPI, and 8.6). Nothing is
imported or run, and TensorRT need not be installed. For each name a target lacks it says when the name
went away, the deprecation note TensorRT's own docstring gave, and what to use instead.

- ``error``: the use fails on that release (the object's type is known: ``builder = trt.Builder(...)``).
- ``maybe``: a removed TensorRT name used on an object whose type the checker cannot see (a function
  parameter, say); it fails if the object is the TensorRT class named. ``--exact`` leaves these out.
- ``warning``: the release still has the name but deprecates it (``--no-deprecated`` leaves these out).
- ``unchecked`` (counted in the summary, listed with ``--show-unchecked`` and in ``--json``): a TensorRT
  member name the target has, used on an object whose type the checker cannot follow; if the object is
  not what the code expects, the checker cannot tell.

Exit status: 0 clean (warnings allowed), 1 errors or maybes, 2 bad arguments.
"""
from __future__ import annotations

import argparse
import ast
import difflib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from . import apisurface
from .api_checker import Problem, Source, _Analyzer, notebook_source_from

#: what to use instead of a removed name, by ``Class.name`` (or ``tensorrt.Name`` for the module);
#: every name in backquotes is checked against the data (tests/test_check_api.py)
HINTS = {
    "IBuilderConfig.max_workspace_size": "`IBuilderConfig.set_memory_pool_limit(MemoryPoolType.WORKSPACE, size)`; read "
                                         "it with `IBuilderConfig.get_memory_pool_limit(MemoryPoolType.WORKSPACE)`",
    "IBuilderConfig.min_timing_iterations": "`IBuilderConfig.avg_timing_iterations`",
    "Builder.build_engine": "`Builder.build_serialized_network(network, config)`, then "
                            "`Runtime.deserialize_cuda_engine(plan)`",
    "Builder.max_batch_size": "explicit batch: the batch is a dimension of each input; give its range with "
                              "`IOptimizationProfile.set_shape(name, min, opt, max)`",
    "ICudaEngine.max_batch_size": "explicit batch: read the batch from `ICudaEngine.get_tensor_shape(name)` or "
                                  "`ICudaEngine.get_tensor_profile_shape(name, profile)`",
    "ICudaEngine.num_bindings": "`ICudaEngine.num_io_tensors`; I/O tensors are addressed by name",
    "ICudaEngine.get_binding_name": "`ICudaEngine.get_tensor_name(index)`",
    "ICudaEngine.get_binding_index": "tensor names: `ICudaEngine.get_tensor_name(i)` for i in "
                                     "range(`ICudaEngine.num_io_tensors`)",
    "ICudaEngine.get_binding_shape": "`ICudaEngine.get_tensor_shape(name)`",
    "ICudaEngine.get_binding_dtype": "`ICudaEngine.get_tensor_dtype(name)`",
    "ICudaEngine.binding_is_input": "`ICudaEngine.get_tensor_mode(name)` == `TensorIOMode.INPUT`",
    "ICudaEngine.get_profile_shape": "`ICudaEngine.get_tensor_profile_shape(name, profile)`",
    "ICudaEngine.get_profile_shape_input": "`ICudaEngine.get_tensor_profile_values(profile, name)` (10.x; NVIDIA's "
                                           "8.x notes point to `IOptimizationProfile.get_shape_input` and "
                                           "`ICudaEngine.get_tensor_profile_shape`)",
    "ICudaEngine.get_binding_format": "`ICudaEngine.get_tensor_format(name)`",
    "ICudaEngine.get_binding_format_desc": "`ICudaEngine.get_tensor_format_desc(name)`",
    "ICudaEngine.get_binding_vectorized_dim": "`ICudaEngine.get_tensor_vectorized_dim(name)`",
    "ICudaEngine.get_binding_components_per_element": "`ICudaEngine.get_tensor_components_per_element(name)`",
    "ICudaEngine.get_binding_bytes_per_component": "`ICudaEngine.get_tensor_bytes_per_component(name)`",
    "ICudaEngine.is_shape_binding": "`ICudaEngine.is_shape_inference_io(name)`; where the tensor lives: "
                                    "`ICudaEngine.get_tensor_location(name)`",
    "ICudaEngine.is_execution_binding": "`ICudaEngine.get_tensor_location(name)`",
    "ICudaEngine.get_location": "`ICudaEngine.get_tensor_location(name)`",
    "IExecutionContext.execute_async_v2": "`IExecutionContext.set_tensor_address(name, ptr)` for every I/O tensor, "
                                          "then `IExecutionContext.execute_async_v3(stream)`",
    "IExecutionContext.execute_async": "`IExecutionContext.set_tensor_address(name, ptr)` for every I/O tensor, "
                                       "then `IExecutionContext.execute_async_v3(stream)`",
    "IExecutionContext.execute": "`IExecutionContext.execute_v2(bindings)`, or `IExecutionContext.set_tensor_address` "
                                 "and `IExecutionContext.execute_async_v3(stream)`",
    "IExecutionContext.set_binding_shape": "`IExecutionContext.set_input_shape(name, shape)`",
    "IExecutionContext.get_binding_shape": "`IExecutionContext.get_tensor_shape(name)`",
    "IExecutionContext.get_shape": "`IExecutionContext.get_tensor_address(name)` (shape tensors live in host memory)",
    "IExecutionContext.set_shape_input": "`IExecutionContext.set_tensor_address(name, host_ptr)` "
                                         "(shape tensors live in host memory)",
    "IExecutionContext.get_strides": "`IExecutionContext.get_tensor_strides(name)`",
    "IExecutionContext.active_optimization_profile":
        "`IExecutionContext.set_optimization_profile_async(index, stream)`",
    "IExecutionContext.all_shape_inputs_specified": "`IExecutionContext.infer_shapes()` (returns the names of "
                                                    "tensors still missing a shape)",
    "INetworkDefinition.add_fully_connected": "`INetworkDefinition.add_matrix_multiply` with a constant weight "
                                              "tensor (`INetworkDefinition.add_constant`), then "
                                              "`INetworkDefinition.add_elementwise` for the bias",
    "INetworkDefinition.add_convolution": "`INetworkDefinition.add_convolution_nd(input, num_output_maps, "
                                          "kernel_shape, kernel, bias)`",
    "INetworkDefinition.add_deconvolution": "`INetworkDefinition.add_deconvolution_nd`",
    "INetworkDefinition.add_pooling": "`INetworkDefinition.add_pooling_nd(input, type, window_size)`",
    "INetworkDefinition.add_padding": "`INetworkDefinition.add_padding_nd(input, pre_padding, post_padding)`",
    "INetworkDefinition.add_rnn_v2": "build the recurrence with `INetworkDefinition.add_loop()`",
    "INetworkDefinition.has_explicit_precision": "nothing: precision is explicit from Q/DQ layers",
    "IConvolutionLayer.kernel_size": "`IConvolutionLayer.kernel_size_nd`",
    "IConvolutionLayer.padding": "`IConvolutionLayer.padding_nd`",
    "IConvolutionLayer.stride": "`IConvolutionLayer.stride_nd`",
    "IConvolutionLayer.dilation": "`IConvolutionLayer.dilation_nd`",
    "IDeconvolutionLayer.kernel_size": "`IDeconvolutionLayer.kernel_size_nd`",
    "IDeconvolutionLayer.padding": "`IDeconvolutionLayer.padding_nd`",
    "IDeconvolutionLayer.stride": "`IDeconvolutionLayer.stride_nd`",
    "IPoolingLayer.window_size": "`IPoolingLayer.window_size_nd`",
    "IPoolingLayer.padding": "`IPoolingLayer.padding_nd`",
    "IPoolingLayer.stride": "`IPoolingLayer.stride_nd`",
    "IPaddingLayer.pre_padding": "`IPaddingLayer.pre_padding_nd`",
    "IPaddingLayer.post_padding": "`IPaddingLayer.post_padding_nd`",
    "tensorrt.UffParser": "export the model to ONNX and use `tensorrt.OnnxParser`",
    "tensorrt.CaffeParser": "export the model to ONNX and use `tensorrt.OnnxParser`",
    "tensorrt.UffInputOrder": "export the model to ONNX and use `tensorrt.OnnxParser`",
    "tensorrt.IFullyConnectedLayer": "`tensorrt.IMatrixMultiplyLayer` (`INetworkDefinition.add_matrix_multiply`)",
    "tensorrt.IRNNv2Layer": "`tensorrt.ILoop` (`INetworkDefinition.add_loop`)",
    "tensorrt.ResizeMode": "`tensorrt.InterpolationMode`",
    "tensorrt.SliceMode": "`tensorrt.SampleMode`",
    "BuilderFlag.STRICT_TYPES": "its equivalent, `BuilderFlag.PREFER_PRECISION_CONSTRAINTS` with "
                                "`BuilderFlag.DIRECT_IO` and `BuilderFlag.REJECT_EMPTY_ALGORITHMS`, or "
                                "`BuilderFlag.OBEY_PRECISION_CONSTRAINTS` for strict constraints (10.x only; 11.x is "
                                "strongly typed)",
    "BuilderFlag.ENABLE_TACTIC_HEURISTIC": "`IBuilderConfig.builder_optimization_level` = 2",
    "EngineCapability.DEFAULT": "`EngineCapability.STANDARD`",
    "EngineCapability.SAFE_GPU": "`EngineCapability.SAFETY`",
    "EngineCapability.SAFE_DLA": "`EngineCapability.DLA_STANDALONE`",
    "ProfilingVerbosity.DEFAULT": "`ProfilingVerbosity.LAYER_NAMES_ONLY`",
    "ProfilingVerbosity.VERBOSE": "`ProfilingVerbosity.DETAILED`",
    "SampleMode.DEFAULT": "`SampleMode.STRICT_BOUNDS`",
    "NetworkDefinitionCreationFlag.EXPLICIT_PRECISION": "nothing: remove the flag",
    "NetworkDefinitionCreationFlag.EXPLICIT_BATCH": "`Builder.create_network()` with no flag (10.x ignores it; "
                                                    "explicit batch is the only mode)",
    "BuilderFlag.FP16": "strong typing: give the model FP16 tensors (NVIDIA ModelOpt AutoCast converts an ONNX "
                        "model)",
    "BuilderFlag.BF16": "strong typing: give the model BF16 tensors (NVIDIA ModelOpt AutoCast)",
    "BuilderFlag.INT8": "strong typing: INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "BuilderFlag.FP8": "strong typing: FP8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "BuilderFlag.INT4": "strong typing: INT4 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "BuilderFlag.FP4": "strong typing: FP4 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "BuilderFlag.OBEY_PRECISION_CONSTRAINTS": "strong typing: the model's types are obeyed",
    "BuilderFlag.PREFER_PRECISION_CONSTRAINTS": "strong typing: the model's types are obeyed",
    "IBuilderConfig.int8_calibrator": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "IBuilderConfig.set_calibration_profile": "INT8 from Q/DQ nodes in the model (no calibration in TensorRT)",
    "IBuilderConfig.algorithm_selector": "an editable timing cache (`ITimingCache`)",
    "tensorrt.IInt8EntropyCalibrator2": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "tensorrt.IInt8EntropyCalibrator": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "tensorrt.IInt8MinMaxCalibrator": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "tensorrt.IInt8LegacyCalibrator": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "tensorrt.IInt8Calibrator": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "tensorrt.CalibrationAlgoType": "INT8 from Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "tensorrt.IAlgorithmSelector": "an editable timing cache (`ITimingCache`)",
    "ITensor.set_dynamic_range": "Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "ITensor.dynamic_range": "Q/DQ nodes in the model (quantize it with NVIDIA ModelOpt)",
    "ILayer.precision": "strong typing: types come from the model (cast in the model)",
    "ILayer.set_output_type": "strong typing: types come from the model (cast in the model)",
    "Builder.platform_has_fast_fp16": "query the GPU's data-type support from CUDA (its compute capability); strong "
                                      "typing takes precision from the model",
    "Builder.platform_has_fast_int8": "query the GPU's data-type support from CUDA (its compute capability); INT8 "
                                      "from Q/DQ nodes in the model (strong typing)",
    "Builder.platform_has_tf32": "query the GPU's data-type support from CUDA (its compute capability); "
                                 "`BuilderFlag.TF32` still turns TF32 on or off",
    "ICudaEngine.device_memory_size": "`ICudaEngine.device_memory_size_v2`",
    "ICudaEngine.get_device_memory_size_for_profile": "`ICudaEngine.get_device_memory_size_for_profile_v2(profile)`",
    "ICudaEngine.create_execution_context_without_device_memory":
        "`ICudaEngine.create_execution_context(ExecutionContextAllocationStrategy.USER_MANAGED)`",
    "ICudaEngine.weight_streaming_budget": "`ICudaEngine.weight_streaming_budget_v2`",
    "ICudaEngine.has_implicit_batch_dimension": "nothing: every engine has explicit batch",
    "IPluginRegistry.get_plugin_creator": "`IPluginRegistry.get_creator(name, version, namespace)`",
    "IPluginRegistry.plugin_creator_list": "`IPluginRegistry.all_creators`",
    "OnnxParser.supports_model": "`OnnxParser.supports_model_v2(model)`",
}

#: names too common to report on an object of unknown type unless the variable's name says TensorRT
GENERIC = {
    "max_batch_size", "build_engine", "kernel_size", "hidden_size", "cell_state", "hidden_state", "data_length",
    "input_mode", "seq_lengths", "max_seq_length", "num_output_channels", "get_location", "get_strides",
    "register_input", "register_output", "dynamic_range", "device_memory_size", "workspace_size", "timing_msec",
    "compute_precision", "tensor_format", "vectorized_dim", "components_per_element", "get_batch",
    "get_batch_size", "num_fields", "parse_buffer", "supports_model", "get_shape", "execute_async",
    "write_calibration_cache", "read_calibration_cache",
    "window_size", "pre_padding", "post_padding", "set_output_type", "get_output_datatypes", "metadata_string",
    "num_outputs", "weight_streaming_budget", "plugin_creator_list", "output_type_is_set", "reset_precision",
    "precision_is_set", "reset_output_type", "tensorrt_version", "notify_shape", "timing_cache_id",
}
#: words in a variable's name that say which TensorRT class it holds (``trt_engine``, ``exec_ctx``)
RECEIVER_WORDS = {
    "engine": "engine", "context": "context", "ctx": "context", "config": "config", "cfg": "config",
    "builder": "builder", "network": "network", "net": "network", "parser": "parser", "profile": "profile",
    "runtime": "runtime", "refitter": "refitter", "layer": "layer", "tensor": "tensor", "calibrator": "calibrator",
    "registry": "registry", "allocator": "allocator", "inspector": "inspector", "creator": "creator",
}
#: a deprecation note worth repeating says when, why or what instead
INFORMATIVE = re.compile(r"(?i)deprecated in|superseded|instead|please use|ignored|removed|replaced|no effect")
#: variable names that hold command-line options or settings, not TensorRT objects (args.max_batch_size)
NOT_TENSORRT = {"args", "arguments", "opt", "opts", "options", "flags", "params", "hparams", "kwargs", "settings"}
SKIP_DIRS = {".git", ".hg", ".svn", ".venv", "venv", "site-packages", "__pycache__", ".ipynb_checkpoints",
             "node_modules", ".tox", ".mypy_cache", ".pytest_cache", "build", "dist", "_build"}


def tokens(identifier: str) -> list[str]:
    """``trtEngine2`` -> ``["trt", "engine"]``; ``exec_ctx`` -> ``["exec", "ctx"]``."""
    words = re.sub(r"([a-z])([A-Z])", r"\1_\2", identifier)
    return [w for w in re.split(r"[_\d]+", words.lower()) if w]


class Guesser:
    """Names some older release has on a class and ``target`` lacks there (``name -> owners``), and
    which of them to report on an object of unknown type."""

    def __init__(self, surface: apisurface.Surface, target: str):
        api = surface.api(target)
        self.owners: dict[str, list[str]] = {}
        for release in surface.releases[:surface.index(target)]:
            old = surface.api(release)
            for qual, info in old.classes.items():
                if qual not in api.classes:
                    continue  # no object of a class the target lacks can reach the code
                for name in [*info.methods, *info.properties, *info.attributes, *info.nested]:
                    if name.startswith("_") or api.lookup(qual, name) is not None:
                        continue
                    owners = self.owners.setdefault(name, [])
                    if qual not in owners:
                        owners.append(qual)
        self.target_has: set[str] = set()
        for info in api.classes.values():
            self.target_has.update(info.methods, info.properties, info.attributes, info.nested)
        # methods that one class alone has, in the target and every older release: what they return
        defined_by: dict[str, set[str]] = {}
        results: dict[str, set[str | None]] = {}
        for release in surface.releases[:surface.index(target) + 1]:
            for qual, info in surface.api(release).classes.items():
                for name, sigs in info.methods.items():
                    defined_by.setdefault(name, set()).add(qual)
                    results.setdefault(name, set()).update(s.returns for s in sigs)
        self.unique_returns: dict[str, str] = {
            name: str(next(iter(results[name]))) for name, quals in defined_by.items()
            if len(quals) == 1 and len(results[name]) == 1 and None not in results[name]
            and "_" in name.strip("_") and name not in GENERIC}

    def returns(self, method: str) -> str | None:
        return self.unique_returns.get(method)

    def __call__(self, name: str, receiver: str) -> list[str]:
        owners = self.owners.get(name)
        if not owners or receiver.lower() in NOT_TENSORRT:
            return []
        words = {RECEIVER_WORDS[t] for t in tokens(receiver) if t in RECEIVER_WORDS}
        named = [o for o in owners if any(w in o.lower() for w in words)]
        if named:
            return named
        if words or name in self.target_has or name in GENERIC or name.isupper() or "_" not in name.strip("_"):
            return []
        return owners


# ----- reading the reader's files --------------------------------------------------------------------
def collect(paths: Iterable[str]) -> tuple[list[Source], list[str]]:
    """Sources to check, and notes on what could not be read."""
    sources, notes = [], []
    for given in paths:
        if given == "-":
            sources.append(Source("<stdin>", sys.stdin.read()))
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file()
                           and not any(part in SKIP_DIRS for part in p.relative_to(path).parts[:-1]))
        elif path.exists():
            files = [path]
        else:
            notes.append(f"{given}: no such file or folder")
            continue
        for f in files:
            try:
                text = f.read_text(encoding="utf-8", errors="replace")
                if f.suffix == ".ipynb":
                    sources.append(notebook_source_from(json.loads(text), str(f)))
                else:
                    sources.append(Source(str(f), text))
            except (OSError, ValueError, TypeError, AttributeError) as exc:
                notes.append(f"{f}: could not read it ({type(exc).__name__}: {exc})")
    return sources, notes


# ----- checking ----------------------------------------------------------------------------------
@dataclass
class Finding:
    """One use that fails (or is deprecated) on one or more target releases."""
    source: str
    where: str
    line: int
    severity: str           # error, maybe, warning
    message: str
    owner: str
    name: str
    kind: str = ""          # the checker's kind of problem (missing, store, readonly, call, ...) or deprecated
    releases: list[str] = field(default_factory=list)
    history: str = ""
    hint: str = ""
    nvidia: str = ""        # NVIDIA's own note behind the hint, and where it is (see ``cite``)
    nvidia_url: str = ""

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("where", "line", "severity", "message", "releases", "owner", "name",
                                              "history", "hint", "nvidia", "nvidia_url")} | {"file": self.source}


@dataclass(frozen=True)
class Unchecked:
    """A TensorRT member name used on an object whose type the checker could not follow."""
    source: str
    where: str
    line: int
    name: str

    def as_dict(self) -> dict:
        return {"file": self.source, "where": self.where, "line": self.line, "name": self.name}


@dataclass
class Result:
    targets: list[str]
    files: int = 0
    uses: int = 0
    findings: list[Finding] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)

    def count(self, severity: str) -> int:
        return sum(f.severity == severity for f in self.findings)


def _parse(src: Source):
    try:
        return ast.parse(src.code, filename=src.name), None
    except SyntaxError as exc:
        return None, f"{src.name}: skipped, not valid Python 3 (line {exc.lineno}: {exc.msg})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return None, f"{src.name}: skipped, could not parse it ({type(exc).__name__})"


def check_sources(sources: list[Source], targets: list[str], surface: apisurface.Surface | None = None,
                  exact: bool = False, deprecated: bool = True) -> Result:
    surface = surface or apisurface.load()
    result = Result(targets)
    merged: dict[tuple, Finding] = {}
    unchecked: dict[tuple[str, int, str], str] = {}
    guessers = {} if exact else {t: Guesser(surface, t) for t in targets}
    module_names = {n for r in surface.releases for api in [surface.api(r)]
                    for n in (*api.classes, *api.functions, *api.attributes) if "." not in n}
    member_names = unchecked_names(surface)
    for src in sources:
        tree, note = _parse(src)
        if tree is None:
            result.notes.append(note or src.name)
            continue
        result.files += 1
        for target in targets:
            api = surface.api(target)
            older = [surface.api(r) for r in reversed(surface.releases[:surface.index(target)])]
            problems: list[Problem] = []
            analyzer = _Analyzer(api, src, problems.append, older, guessers.get(target))
            analyzer.module_names, analyzer.member_names = module_names, member_names
            try:
                analyzer.visit(tree)
            except RecursionError:
                result.notes.append(f"{src.name}: skipped, nested too deeply to analyse")
                break
            except Exception as exc:  # never let one odd file stop the others
                result.crashed.append(f"{src.name}: {type(exc).__name__}: {exc}")
                result.notes.append(f"{src.name}: skipped after an internal error of the checker "
                                    f"({type(exc).__name__}: {exc}); please report it")
                break
            result.uses += analyzer.checked
            for use in analyzer.unchecked:
                unchecked.setdefault((src.name, use.line, use.name), src.where(use.line))
            for p in problems:
                severity = "maybe" if p.guess else "error"
                key = (src.name, p.line, p.owner, p.name, p.kind, severity)
                found = merged.get(key)
                if found is None:
                    found = merged[key] = Finding(src.name, p.where, p.line, severity, p.message, p.owner, p.name,
                                                  p.kind)
                if target not in found.releases:
                    found.releases.append(target)
            if deprecated:
                for use in analyzer.uses:
                    note = deprecation(surface, target, use.owner, use.name)
                    if note is None:
                        continue
                    owner = use.owner
                    key = (src.name, use.line, owner, use.name, "deprecated", "warning")
                    found = merged.get(key)
                    if found is None:
                        label = use.name if owner == "tensorrt" else f"{owner}.{use.name}"
                        found = merged[key] = Finding(src.name, src.where(use.line), use.line, "warning",
                                                      f"{label} is deprecated: {note}", owner, use.name,
                                                      "deprecated")
                    if target not in found.releases:
                        found.releases.append(target)
    for f in merged.values():
        f.history, f.hint = explain(surface, f)
        if f.hint and f"{f.owner}.{f.name}" in HINTS:
            f.nvidia, f.nvidia_url = cite(f"{f.owner}.{f.name}")
    result.findings = sorted(merged.values(), key=lambda f: (f.source, f.line, f.severity, f.message))
    result.unchecked = [Unchecked(src, where, line, name) for (src, line, name), where in sorted(unchecked.items())]
    return result


def unchecked_names(surface: apisurface.Surface) -> set[str]:
    """Member names of TensorRT classes distinctive enough to count as a TensorRT use on an object of
    unknown type (``engine.get_tensor_name``, not ``x.shape`` or ``x.name``)."""
    names: set[str] = set()
    for release in surface.releases:
        for info in surface.api(release).classes.values():
            names.update(n for n in (*info.methods, *info.properties, *info.attributes)
                         if not n.startswith("_") and "_" in n and not n.isupper() and n not in GENERIC)
    return names


#: NVIDIA's own notes on each name of ``HINTS`` (``trtfaq/data/hint_sources.json``, made by
#: tests/trt_api/make_hint_sources.py from NVIDIA/TensorRT's headers, docstrings and Python bindings at the last
#: tag that had the name, and NVIDIA's migration tables; tests/test_hint_sources.py checks that every hint
#: agrees with them)
SOURCE_KINDS = ("page", "header", "docstring", "binding")   # preferred first: a sentence over a bare name
_SOURCES: dict | None = None


def hint_sources() -> dict:
    global _SOURCES
    if _SOURCES is None:
        from importlib.resources import files

        _SOURCES = json.loads(files("trtfaq").joinpath("data/hint_sources.json").read_text())["entries"]
    return _SOURCES


def cite(key: str) -> tuple[str, str]:
    """NVIDIA's note that names the replacement of ``key`` (``"Class.member"``), as one line, and its address;
    ("", "") where NVIDIA names none."""
    entries = [e for e in hint_sources().get(key, []) if e.get("names_replacement")]
    if not entries:
        return "", ""
    best = min(entries, key=lambda e: SOURCE_KINDS.index(e["kind"]))
    url = best["url"]
    found = re.match(r"https://github\.com/NVIDIA/TensorRT/blob/([^/]+)/(.+)#L(\d+)$", url)
    guide = "NVIDIA's 10.x-to-11.x migration guide" if "10x-to-11x" in url else "NVIDIA's migration guide"
    where = f"NVIDIA/TensorRT {found[1]} {found[2]}:{found[3]}" if found else guide
    text = best["text"] if best["kind"] != "binding" else f"use {best['text']} instead (the Python binding's warning)"
    return f"{where}: \"{text}\"", url


def _owner(owner: str) -> str:
    return "" if owner == "tensorrt" else owner


def deprecation(surface: apisurface.Surface, release: str, owner: str, name: str) -> str | None:
    api = surface.api(release)
    if owner == "tensorrt":
        return surface.deprecation(release, name)
    for info in api.mro(owner):
        if name in info.methods or name in info.properties or name in info.attributes or name in info.nested:
            return surface.deprecation(release, info.name, name)
    return None


def explain(surface: apisurface.Surface, f: Finding) -> tuple[str, str]:
    """When ``owner.name`` existed (history) and what to use instead (hint)."""
    owner = _owner(f.owner)
    key = f"{f.owner}.{f.name}"
    hint = HINTS.get(key, "")
    if f.severity == "warning":
        later = [r for r in surface.releases[surface.index(f.releases[-1]) + 1:]
                 if not surface.api(r).has(owner, f.name)]
        return (f"gone from {later[0]} on" if later else ""), hint
    if f.kind not in ("missing", "store") or not f.name or f.name.startswith("__"):
        return "", hint
    present = surface.present(owner, f.name)
    first_target = f.releases[0]
    if not present:
        api = surface.api(first_target)
        if owner:
            pool = {n for info in api.mro(owner) for n in (*info.methods, *info.properties, *info.attributes)}
        else:
            pool = set(api.classes) | set(api.functions) | set(api.attributes)
        close = difflib.get_close_matches(f.name, sorted(pool), n=2, cutoff=0.75)
        where = f"{surface.releases[0]} to {surface.releases[-1]}"
        history = f"in no TensorRT release from {where}"
        if close and not hint:
            hint = "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
        return history, hint
    idx = surface.index(first_target)
    before = [r for r in present if surface.index(r) < idx]
    after = [r for r in present if surface.index(r) > idx]
    parts = []
    if before:
        last = before[-1]
        gone = surface.releases[surface.index(last) + 1]
        note = deprecation(surface, last, f.owner, f.name)
        if note and not INFORMATIVE.search(note):
            note = None  # 8.6 often says only "[DEPRECATED] <what it did>"
        parts.append(f"last in {last}, gone from {gone} on" + (f" (deprecated: {note})" if note else ""))
    if after:
        parts.append(f"added in {after[0]}")
    if f.severity != "maybe" and f.owner and owner and owner not in surface.api(first_target).classes:
        parts.append(f"{owner} itself is gone")
    return "; ".join(parts), hint


# ----- output ------------------------------------------------------------------------------------
def _short(releases: list[str]) -> str:
    return ", ".join(releases)


def format_text(result: Result, show_unchecked: bool = False) -> str:
    lines = []
    for f in result.findings:
        lines.append(f"{f.where}: {f.severity}: {f.message}  [{_short(f.releases)}]")
        if f.history:
            lines.append(f"    history: {f.history}")
        if f.hint:
            lines.append(f"    instead: {f.hint.replace('`', '')}")
        if f.nvidia:
            lines.append(f"    NVIDIA: {f.nvidia}")
    if show_unchecked:
        lines += [f"{u.where}: unchecked: .{u.name} on an object whose type the checker could not follow"
                  for u in result.unchecked]
    lines += [f"note: {n}" for n in result.notes]
    errors, maybes, warnings = result.count("error"), result.count("maybe"), result.count("warning")
    lines.append(f"Checked {result.files} file(s), {result.uses} TensorRT use(s), against TensorRT "
                 f"{', '.join(result.targets)}: {errors} error(s), {maybes} maybe, {warnings} warning(s).")
    if result.unchecked:
        lines.append(f"Not checked: {len(result.unchecked)} use(s) of TensorRT names on objects whose type could not "
                     "be followed" + ("." if show_unchecked else " (--show-unchecked lists them)."))
    return "\n".join(lines)


def format_json(result: Result) -> str:
    return json.dumps({"targets": result.targets, "files": result.files, "uses": result.uses,
                       "findings": [f.as_dict() for f in result.findings],
                       "unchecked": [u.as_dict() for u in result.unchecked], "notes": result.notes}, indent=1)


# ----- the "what changed" table of the book (book/changes.md) ---------------------------------------
def removals(surface: apisurface.Surface) -> list[tuple[str, str, list[str]]]:
    """``(release, owner, names)``: what each release removed from its predecessor; owner "tensorrt" with
    the names of removed classes and module values."""
    out = []
    for prev, cur in zip(surface.releases, surface.releases[1:]):
        a, b = surface.api(prev), surface.api(cur)
        gone_classes = [q for q in a.classes if q not in b.classes]
        top = [q for q in gone_classes if "." not in q]
        module = top + [n for n in (*a.functions, *a.attributes) if b.module_lookup(n) is None
                        and not n.startswith("_")]
        if module:
            out.append((cur, "tensorrt", sorted(module)))
        for qual, info in sorted(a.classes.items()):
            if qual in gone_classes:
                continue
            names = [n for n in (*info.methods, *info.properties, *info.attributes, *info.nested)
                     if not n.startswith("_") and b.lookup(qual, n) is None]
            if names:
                out.append((cur, qual, sorted(names)))
    return out


def _major_minor(release: str) -> str:
    return ".".join(release.split(".")[:2])


def changes_table(surface: apisurface.Surface | None = None) -> str:
    """The generated part of book/changes.md: every Python API name each release removed."""
    surface = surface or apisurface.load()
    lines = ["| Removed in | From | Names | Use instead |", "|---|---|---|---|"]
    for release, owner, names in removals(surface):
        hints = []
        for n in names:
            hint = HINTS.get(f"{owner}.{n}")
            if hint and hint not in hints:
                hints.append(hint)
        label = "module `tensorrt`" if owner == "tensorrt" else f"`{owner}`"
        lines.append(f"| {_major_minor(release)} | {label} | {', '.join(f'`{n}`' for n in names)} | "
                     f"{'; '.join(hints).replace('|', '/')} |")
    return "\n".join(lines) + "\n"


# ----- command line ------------------------------------------------------------------------------
def default_targets(surface: apisurface.Surface) -> list[str]:
    """The newest release of every major after 8 (the book's 10.x and 11.x)."""
    return [r for r in surface.newest_of_each_major() if int(r.split(".")[0]) >= 10]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", help="Python files, notebooks or folders; - reads standard input")
    parser.add_argument("--target", "-t", action="append", default=None, metavar="RELEASE",
                        help="release to check against, e.g. 10.8, 11 or 10.16.1.11; repeat for several "
                             "(default: the newest 10.x and 11.x); 'all' for every release in the data")
    parser.add_argument("--exact", action="store_true",
                        help="only uses whose TensorRT type is known (no 'maybe' findings)")
    parser.add_argument("--no-deprecated", action="store_true", help="leave out deprecation warnings")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--show-unchecked", action="store_true",
                        help="list the uses of TensorRT names on objects whose type could not be followed")
    parser.add_argument("--releases", action="store_true", help="list the releases in the API data and exit")
    parser.add_argument("--changes-table", action="store_true",
                        help="print the table of removed names (the book's 'What changed' page) and exit")


def run(args: argparse.Namespace, out=None) -> int:
    out = out or sys.stdout
    surface = apisurface.load()
    if args.releases:
        print("\n".join(surface.releases), file=out)
        return 0
    if args.changes_table:
        print(changes_table(surface), end="", file=out)
        return 0
    if not args.paths:
        print("trtfaq check-api: give files, folders or - (standard input)", file=sys.stderr)
        return 2
    try:
        if args.target and "all" in args.target:
            targets = surface.releases[1:]
        elif args.target:
            targets = sorted({surface.resolve(t) for t in args.target}, key=surface.index)
        else:
            targets = default_targets(surface)
    except LookupError as exc:
        print(f"trtfaq check-api: {exc.args[0]}", file=sys.stderr)
        return 2
    sources, notes = collect(args.paths)
    result = check_sources(sources, targets, surface, exact=args.exact, deprecated=not args.no_deprecated)
    result.notes[:0] = notes
    print(format_json(result) if args.json else format_text(result, args.show_unchecked), file=out)
    return 1 if result.count("error") or result.count("maybe") else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trtfaq check-api", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
