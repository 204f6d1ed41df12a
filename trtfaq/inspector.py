"""The TensorRT engine inspector's JSON read back, for 10.x and 11.x, and a heuristic reading of
tactic (kernel) names (chapter 12).

How to get the JSON: build with ``config.profiling_verbosity = trt.ProfilingVerbosity.DETAILED``, then
``engine.create_engine_inspector().get_engine_information(trt.LayerInformationFormat.JSON)`` (one
layer: ``get_layer_information(i, ...)``), or ``trtexec --profilingVerbosity=detailed
--exportLayerInfo=layers.json``.

What each schema looks like, and how sure the book is of it:

- **Documented** (NVIDIA, "Migrating IEngineInspector Usage from TensorRT 10.x to 11.x", TensorRT 11.0.0
  and 11.3.0 docs): 10.x has a top-level ``"Bindings"``, a list of I/O tensor names; 11.x removes it for
  ``"I/O Tensors"``, a list of objects with ``Name``, ``IOMode`` (``"Input"``/``"Output"``),
  ``DataType``, ``Dimensions``, ``Location``, ``IsShapeInferenceIO`` and ``ProfileInfo`` (per profile
  ``MinShape``, ``OptShape``, ``MaxShape``, ``Format``).
- **Seen in real output** of 8.x-10.x engines (NVIDIA/TensorRT at v10.16,
  ``tools/experimental/trt-engine-explorer/examples/**/*.graph.json``; NVIDIA/TensorRT#3876 and #3583):
  a top-level ``"Layers"`` list. With ``DETAILED`` verbosity each layer is an object with ``Name``,
  ``LayerType``, ``Inputs``/``Outputs`` (each ``Name``, ``Location``, ``Dimensions`` and one
  ``"Format/Datatype"`` text such as ``"Channel major FP16 format where channel % 8 == 0"``),
  ``TacticName`` (kernels only), ``TacticValue``, often ``Metadata``, ``StreamId`` and the layer's
  parameters. With the default ``LAYER_NAMES_ONLY`` the list holds only names
  (NVIDIA/TensorRT#4020).
- **Inferred, not documented**: how 11.x spells a layer's tensor format. The migration guide shows
  ``DataType`` and ``Format`` as separate keys for I/O tensors; NVIDIA's own analysis tooling in the
  11.1 open-source release (``.agents/skills/trt-perf-analysis``, its JSON schema) accepts
  ``"Format/Datatype"`` or separate ``"Format"`` and ``"Datatype"`` keys for layer tensors. This
  reader accepts every one of these spellings, so it reads either version's output.

Tactic names are **not an API**: they are kernel names, undocumented, and they change between
releases. :func:`classify` reads the tokens that conventionally mark a tensor-core kernel (an MMA
shape such as ``tensor16x8x16``, ``h16816``, ``hmma``, ``tensorop``, ``warpgroup``) or a CUDA-core one
(``ffma``, ``scudnn``, ``sgemm``, ``int8x4``), says which token decided, and answers "unknown" when no
token is there (Myelin's ``__myl_*`` and cuBLAS's ``nvjet_*`` names, for example). It is a heuristic;
the hardware truth is a profiler's tensor-pipe counter (Nsight Compute).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .errors import InputError

#: "Two wide channel vectorized ..." and friends in TensorRT's format descriptions -> channel multiple
_VECTOR_WORDS = {"two": 2, "four": 4, "eight": 8, "sixteen": 16, "thirty-two": 32}
_DTYPE = re.compile(r"\b(FP32|FP16|BF16|FP8|FP4|INT8|INT4|INT32|INT64|UINT8|BOOL|FLOAT|HALF)\b", re.I)


@dataclass(frozen=True)
class Tensor:
    """One input or output of a layer, as the inspector describes it."""

    name: str
    dimensions: tuple[int, ...] | None
    format: str | None      # e.g. "Channel major FP16 format where channel % 8 == 0"
    datatype: str | None    # upper case: "FP16", "FP32", "INT8", ... (from the format text in 10.x)
    location: str | None

    @property
    def channel_multiple(self) -> int | None:
        """The channel multiple the format pads to (8 for ``channel % 8 == 0``, 32 for "Thirty-two wide
        channel vectorized"), or None for a format without channel padding."""
        return channel_multiple(self.format)


@dataclass(frozen=True)
class IOTensor:
    """An engine input or output. 10.x lists only names; 11.x adds mode, type, shape and profiles."""

    name: str
    mode: str | None = None          # "Input" / "Output" (11.x)
    datatype: str | None = None
    dimensions: tuple[int, ...] | None = None
    location: str | None = None
    profiles: tuple[dict, ...] = ()  # 11.x ProfileInfo entries, as printed


@dataclass(frozen=True)
class Layer:
    """One engine layer (often several network layers fused)."""

    name: str
    layer_type: str | None = None
    tactic: str | None = None        # TacticName: the kernel, when the layer runs one
    tactic_value: str | None = None
    inputs: tuple[Tensor, ...] = ()
    outputs: tuple[Tensor, ...] = ()
    metadata: str | None = None      # e.g. "[ONNX Layer: /conv1/Conv]"
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class EngineInfo:
    """What ``get_engine_information(LayerInformationFormat.JSON)`` says about an engine."""

    schema: str      # "10.x" (Bindings), "11.x" (I/O Tensors), or "layers only" (neither key)
    detailed: bool   # False when the engine was built with LAYER_NAMES_ONLY: names, nothing else
    layers: tuple[Layer, ...]
    io: tuple[IOTensor, ...]


def channel_multiple(fmt: str | None) -> int | None:
    """Channel multiple named by a TensorRT format description, or None."""
    if not fmt:
        return None
    m = re.search(r"channel\s*%\s*(\d+)\s*==\s*0", fmt)
    if m:
        return int(m.group(1))
    m = re.search(r"\b(two|four|eight|sixteen|thirty-two) wide channel vectorized", fmt, re.I)
    return _VECTOR_WORDS[m.group(1).lower()] if m else None


def _datatype(text: str | None) -> str | None:
    if not text:
        return None
    m = _DTYPE.search(text)
    if not m:
        return None
    word = m.group(1).upper()
    return {"FLOAT": "FP32", "HALF": "FP16"}.get(word, word)


def _dims(value, where: str) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in value):
        raise InputError(f"{where}: Dimensions must be a list of integers, got {value!r}")
    return tuple(value)


def _tensor(entry, where: str) -> Tensor:
    if isinstance(entry, str):  # a bare name (not seen in real output, accepted)
        return Tensor(entry, None, None, None, None)
    if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str):
        raise InputError(f"{where} is not a tensor object with a Name")
    combined = entry.get("Format/Datatype")
    fmt = entry.get("Format", combined)
    dtype_text = entry.get("Datatype", entry.get("DataType", combined))
    return Tensor(entry["Name"], _dims(entry.get("Dimensions"), f"{where} {entry['Name']!r}"),
                  fmt if isinstance(fmt, str) else None, _datatype(dtype_text if isinstance(dtype_text, str) else None),
                  entry.get("Location") if isinstance(entry.get("Location"), str) else None)


def _layer(entry, index: int) -> Layer:
    if isinstance(entry, str):
        return Layer(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str):
        raise InputError(f"layer {index} is neither a name nor an object with a Name")
    name = entry["Name"]
    tensors = {}
    for key in ("Inputs", "Outputs"):
        items = entry.get(key, [])
        if not isinstance(items, list):
            raise InputError(f"layer {name!r}: {key} must be a list")
        tensors[key] = tuple(_tensor(t, f"layer {name!r} {key[:-1].lower()} {i}") for i, t in enumerate(items))
    tactic = entry.get("TacticName")
    value = entry.get("TacticValue")
    meta = entry.get("Metadata")
    return Layer(name, entry.get("LayerType") if isinstance(entry.get("LayerType"), str) else None,
                 tactic if isinstance(tactic, str) and tactic else None,
                 value if isinstance(value, str) else None, tensors["Inputs"], tensors["Outputs"],
                 meta if isinstance(meta, str) else None, dict(entry))


def _io(entry, index: int) -> IOTensor:
    if isinstance(entry, str):  # 10.x Bindings
        return IOTensor(entry)
    if not isinstance(entry, dict) or not isinstance(entry.get("Name"), str):
        raise InputError(f"I/O tensor {index} is neither a name nor an object with a Name")
    profiles = entry.get("ProfileInfo", [])
    if not isinstance(profiles, list) or not all(isinstance(p, dict) for p in profiles):
        raise InputError(f"I/O tensor {entry['Name']!r}: ProfileInfo must be a list of objects")
    return IOTensor(entry["Name"], entry.get("IOMode"), _datatype(entry.get("DataType", entry.get("Datatype"))),
                    _dims(entry.get("Dimensions"), f"I/O tensor {entry['Name']!r}"), entry.get("Location"),
                    tuple(profiles))


def _load(text, what: str):
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not JSON (line {exc.lineno}: {exc.msg}); ask for "
                         f"LayerInformationFormat.JSON, not ONELINE") from None


def read(text) -> EngineInfo:
    """Read ``get_engine_information(LayerInformationFormat.JSON)`` (a string, bytes or the parsed
    object) of TensorRT 10.x or 11.x; a one-line :class:`~trtfaq.errors.InputError` otherwise."""
    doc = _load(text, "the engine information")
    if not isinstance(doc, dict) or not isinstance(doc.get("Layers"), list):
        raise InputError("no 'Layers' list: is this the inspector's engine information (get_engine_information)?")
    if "I/O Tensors" in doc and "Bindings" in doc:
        raise InputError("both 'Bindings' (10.x) and 'I/O Tensors' (11.x): not one TensorRT's output")
    if "I/O Tensors" in doc:
        schema, io_entries = "11.x", doc["I/O Tensors"]
    elif "Bindings" in doc:
        schema, io_entries = "10.x", doc["Bindings"]
    else:
        schema, io_entries = "layers only", []
    if not isinstance(io_entries, list):
        raise InputError(f"the {'I/O Tensors' if schema == '11.x' else 'Bindings'} entry must be a list")
    layers = tuple(_layer(e, i) for i, e in enumerate(doc["Layers"]))
    detailed = any(layer.raw for layer in layers)
    return EngineInfo(schema, detailed, layers, tuple(_io(e, i) for i, e in enumerate(io_entries)))


def read_layer(text) -> Layer:
    """Read one ``get_layer_information(i, LayerInformationFormat.JSON)``: an object with DETAILED
    verbosity, a JSON string (the layer's name) with LAYER_NAMES_ONLY."""
    return _layer(_load(text, "the layer information"), 0)


# ----- tactic names ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kernel:
    """What a tactic name suggests. ``unit`` is "tensor cores", "CUDA cores" or "unknown"; ``evidence``
    says which part of the name decided (a heuristic: kernel names are not an API)."""

    name: str
    unit: str
    evidence: str
    precision: str | None = None
    arch: str | None = None
    alignment: tuple[int, ...] = ()  # element alignments the name states (align8, aligna4_alignc4, ...)


TENSOR_CORES, CUDA_CORES, UNKNOWN = "tensor cores", "CUDA cores", "unknown"

#: (pattern, evidence) read in order; the first match decides. Sources of each convention are in the
#: tests (tests/test_inspector.py), which classify names quoted in real TensorRT output.
_OPAQUE = [
    (r"(^|_)_*myl|myelin", "a Myelin-generated kernel: its name does not say which unit it uses"),
    (r"nvjet", "a cuBLAS nvjet kernel: its name does not say which unit it uses"),
]
_TENSOR = [
    (r"tensor\d+x\d+x\d+", "MMA instruction shape {0}"),
    (r"(?<![\dx])(?:8x8x4|16x8x8|16x8x16|16x8x32|16x8x64)(?![\dx])", "MMA instruction shape {0}"),
    (r"(?<![a-z])[hsib]\d{3,5}(?:cudnn|gemm)", "MMA shape in the cuDNN/cuBLAS name {0}"),
    (r"wgmma|warpgroup|gmma", "Hopper warpgroup MMA ({0})"),
    (r"hmma|imma|qmma|wmma|tensorop", "tensor-core instruction family {0}"),
]
_SIMT = [
    (r"ffma", "fused multiply-add on CUDA cores ({0})"),
    (r"int8x4|dp4a", "4-way int8 dot product on CUDA cores ({0})"),
    (r"(?<![a-z])[sd]cudnn|sgemm|dgemm|hcudnn(?!\d)", "SIMT cuDNN/cuBLAS kernel ({0})"),
    (r"gemv", "matrix-vector kernel ({0})"),
    (r"pooling|elementwise|reduce|softmax|normalization|reformat|copy|splitkreduce",
     "not a matrix-multiply kernel ({0})"),
]
_PRECISION = [
    ("TF32", r"tf32"), ("BF16", r"bf16"), ("FP8", r"e4m3|e5m2|fp8"),
    ("INT8", r"i8i8|i8f16|i8f32|int8|imma|i\d{4,5}(?:cudnn|gemm)"),
    ("FP16", r"f16f16|fp16|hmma|(?<![a-z])h\d{3,5}(?:cudnn|gemm)|hcudnn|f16"),
    ("FP32", r"f32f32|ffma|sgemm|scudnn|fp32"),
]


def classify(name: str | None) -> Kernel:
    """Classify one tactic (kernel) name; ``None`` or ``""`` is "unknown". See :class:`Kernel`."""
    if name is not None and not isinstance(name, str):
        raise InputError(f"a tactic name is a string, got {type(name).__name__}")
    if not name:
        return Kernel("", UNKNOWN, "no tactic name (built without DETAILED verbosity, or no kernel)")
    low = name.lower()
    precision = next((p for p, pattern in _PRECISION if re.search(pattern, low)), None)
    arch_m = re.search(r"(sm\d{2,3}|cutlass_\d{2,3}|maxwell|pascal|volta|turing|ampere|hopper|blackwell)", low)
    arch = arch_m.group(1).replace("cutlass_", "sm") if arch_m else None
    alignment = tuple(int(a) for a in re.findall(r"align[abcd]?(\d+)", low))
    for group, unit in ((_OPAQUE, UNKNOWN), (_TENSOR, TENSOR_CORES), (_SIMT, CUDA_CORES)):
        for pattern, evidence in group:
            m = re.search(pattern, low)
            if m:
                return Kernel(name, unit, evidence.format(m.group(0)), precision, arch, alignment)
    return Kernel(name, UNKNOWN, "no token the book recognises", precision, arch, alignment)


def classify_layers(info: EngineInfo) -> list[tuple[Layer, Kernel]]:
    """Every layer of an engine with the classification of its tactic name."""
    return [(layer, classify(layer.tactic)) for layer in info.layers]
