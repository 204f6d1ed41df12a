"""Chapter 2: are engines and calibration tables portable across TensorRT versions? A plan-header reader,
the lean and dispatch runtimes' own messages, an 8.x calibration-cache decoder with its Q/DQ replacement,
and the book's API checker run on 8.x code.

- **Plan header.** :func:`read_plan_header` reads the first 28 bytes of a plan as the published trtexec
  source does (NVIDIA/TensorRT ``samples/common/sampleEngines.cpp``, ``printPlanVersion``, identical at tags
  v10.16 and v11.1, commit 82d1dca801c8318a5605399d5240780d0679e4e1): a little-endian uint32 tag
  ``0x74727466`` (the bytes ``ftrt``), a uint32 serialization version that must be 0, and the TensorRT major,
  minor, patch and build as one byte each at offsets 24, 25, 26 and 27.
- **Runtime libraries.** :func:`runtime_messages` lists what the lean and dispatch runtimes say about
  portability, read from the libraries' read-only data (what ``strings`` prints).
- **Calibration caches.** :func:`parse_calibration_cache` reads the text caches of TensorRT's implicit INT8
  calibrators (8.x-10.x; gone in 11.0): a header line ``TRT-<getInferLibVersion()>-<algorithm>``, then one
  ``tensor name: <float32 bits in hex>`` line per tensor. The last colon separates name and value and the hex
  digits are the float's bits, as trtexec's own reader (``readScalesFromCalibrationCache``, same file) and
  NVIDIA ModelOpt's importer (``modelopt/onnx/quantization/calib_utils.py``) read them. :func:`add_qdq` turns
  the scales into ONNX QuantizeLinear/DequantizeLinear pairs: the form TensorRT 11 takes INT8 in.
"""
from __future__ import annotations

import math
import re
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import BookError, InputError
from ..tables import table

# ----- the plan header ----------------------------------------------------------------------------
PLAN_TAG = 0x74727466        # sampleEngines.cpp: "Correct TensorRT plan file starts with this tag"
HEADER_BYTES = 28            # sampleEngines.cpp: kPLAN_SIZE{28}
TRTEXEC_SOURCE = ("NVIDIA/TensorRT samples/common/sampleEngines.cpp, printPlanVersion "
                  "(v10.16 and v11.1, commit 82d1dca801)")


@dataclass(frozen=True)
class PlanHeader:
    """What ``trtexec --getPlanVersionOnly`` reads from a plan: tag, serialization version, and the
    TensorRT release that built it."""

    tag: int
    serialization: int
    major: int
    minor: int
    patch: int
    build: int

    @property
    def tensorrt_version(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}.{self.build}"

    def __str__(self) -> str:
        return f"plan built by TensorRT {self.tensorrt_version} (serialization version {self.serialization})"


def _looks_like(head: bytes) -> str:
    """A guess at what a file that is not a plan is, from its first bytes (for the error message)."""
    if head.startswith(b"\x7fELF"):
        return "which looks like an ELF binary (a shared library?)"
    if head.startswith(b"TRT-"):
        return "which looks like a TensorRT calibration cache (text)"
    if head.startswith(b"PK\x03\x04"):
        return "which looks like a zip archive (a PyTorch checkpoint?)"
    if head[:1] == b"\x08":
        return "which looks like a protobuf message (an ONNX model?)"
    if head.lstrip()[:1] in (b"{", b"["):
        return "which looks like JSON text"
    return "which is not a format this reader knows"


def read_plan_header(plan) -> PlanHeader:
    """The header of a plan given as bytes (``IHostMemory``, ``bytes``) or as a file path.

    Reads only the first 28 bytes, so it works without TensorRT, without a GPU and on plans of any
    version; it does not prove the rest of the file is a valid plan. One-line errors for a file that is not
    a plan (TensorRT itself reports "Magic tag does not match"), for a truncated file and for a
    serialization version trtexec does not read.
    """
    if isinstance(plan, (str, Path)):
        path = Path(plan)
        if not path.is_file():
            raise InputError(f"plan file {path.name} does not exist")
        with open(path, "rb") as fh:
            head = fh.read(HEADER_BYTES)
        subject = f"{path.name} is"
    else:
        try:
            head = bytes(memoryview(plan)[:HEADER_BYTES])
        except TypeError:
            raise InputError(f"a plan is bytes or a file path, got {type(plan).__name__}") from None
        subject = f"{'this' if len(head) == 1 else 'these'} {len(head)} byte{'' if len(head) == 1 else 's'} " \
                  f"{'is' if len(head) == 1 else 'are'}"
    if not head:
        raise InputError(f"{subject.split(' is')[0] if subject.endswith(' is') else 'the plan'} is empty (0 bytes): "
                         "not a TensorRT plan (trtexec: 'Plan file is empty')")
    if head[:4] != b"ftrt"[:len(head[:4])]:
        raise InputError(f"{subject} not a TensorRT plan: a plan starts with b'ftrt' (tag 0x74727466), this with "
                         f"{head[:4]!r}, {_looks_like(head)}; TensorRT's message: 'Magic tag does not match'")
    if len(head) < HEADER_BYTES:
        raise InputError(f"{subject} truncated: a TensorRT plan header has {HEADER_BYTES} bytes, got {len(head)} "
                         "(trtexec: 'Plan file is incorrect')")
    tag, serialization = struct.unpack_from("<II", head)
    if serialization != 0:
        raise InputError(f"{subject} a plan of serialization version {serialization}, which trtexec does not "
                         "read (only 0; trtexec: 'Serialization version is not supported.')")
    major, minor, patch, build = head[24:28]
    return PlanHeader(tag, serialization, major, minor, patch, build)


def synthetic_plan_header(version: str) -> bytes:
    """SYNTHETIC: the 28 bytes :func:`read_plan_header` reads, for a release such as ``"10.16.1.11"``, with
    zeros where a real plan has fields the trtexec source does not read. Not a plan: no engine follows."""
    try:
        parts = [int(x) for x in version.split(".")]
    except ValueError:
        raise InputError(f"a release looks like 10.16.1.11, got {version!r}") from None
    if len(parts) != 4 or not all(0 <= p < 256 for p in parts):
        raise InputError(f"a release is four numbers 0-255 (one byte each in the header), got {version!r}")
    return struct.pack("<II16x4B", PLAN_TAG, 0, *parts)


def header_table(items: dict[str, bytes]) -> str:
    """One row per labelled byte string: its first 28 bytes in hex, and what :func:`read_plan_header` makes of
    them (or its one-line error)."""
    rows = []
    for label, data in items.items():
        try:
            found = f"TensorRT {read_plan_header(data).tensorrt_version}"
        except InputError as exc:
            found = "error: " + str(exc).split(":")[0].split(" (")[0]
        rows.append([label, bytes(data[:HEADER_BYTES]).hex(" ", 4) or "(empty)", found])
    return table(["input", "first 28 bytes (hex)", "read_plan_header"], rows)


def trtexec_plan_version(path) -> str | None:
    """What ``trtexec --getPlanVersionOnly --loadEngine=PATH`` reports ("10.16.1.11"), or None when trtexec
    is not on the PATH (pip wheels do not ship it). A BookError with trtexec's own error lines otherwise."""
    import shutil

    exe = shutil.which("trtexec")
    if exe is None:
        return None
    res = subprocess.run([exe, "--getPlanVersionOnly", f"--loadEngine={path}"], capture_output=True, text=True,
                         timeout=120)
    found = re.search(r"Plan was created with TensorRT version (\S+)", res.stdout + res.stderr)
    if res.returncode == 0 and found:
        return found.group(1)
    errors = [ln.strip() for ln in (res.stdout + res.stderr).splitlines() if "[E]" in ln]
    raise BookError(f"trtexec could not read the plan version: {' '.join(errors[:2]) or f'exit {res.returncode}'}")


# ----- what the runtime libraries say -------------------------------------------------------------
#: the runtime libraries this chapter reads (label -> exact PyPI pin), the lean and dispatch runtimes of the
#: two releases the book is checked against
RUNTIMES = {
    "10.16 dispatch": "tensorrt-dispatch-cu12-libs==10.16.1.11",
    "10.16 lean": "tensorrt-lean-cu12-libs==10.16.1.11",
    "11.4 dispatch": "tensorrt-dispatch-cu13-libs==11.4.0.106",
    "11.4 lean": "tensorrt-lean-cu13-libs==11.4.0.106",
}

#: messages about portability, by what they are about: a distinctive part of each, as found in the libraries
MESSAGES = {
    "host code not allowed": "getEngineHostCodeAllowed() is false",
    "major version": "plan major version does not match runtime major version",
    "forward compatibility": "Engine Version Forward Compatibility supported starting TensorRT",
    "platform": "Platform specific tag mismatch detected",
    "wrong version": "not compatible with this version of TensorRT, expecting library version",
    "wrong GPU": "generated on an incompatible device, expecting compute",
    "getPlanVersionOnly hint": "trtexec --getPlanVersionOnly",
}


def runtime_libraries() -> dict[str, Path]:
    """The library file of every wheel in :data:`RUNTIMES`, downloaded from PyPI once (about 92 MB in all) into
    the book's cache."""
    from .versions import fetch_runtime_library

    return {label: fetch_runtime_library(requirement) for label, requirement in RUNTIMES.items()}


def lean_runtime_for(version: str) -> Path:
    """``libnvinfer_lean`` of exactly TensorRT ``version`` (what ``Runtime.load_runtime`` needs): from the
    ``tensorrt-lean-cuXX-libs`` wheel of that version, for the CUDA major of the installed TensorRT wheel (or,
    failing that, of the CUDA runtime cuda-python reports). Fetched once from PyPI; a one-line error if PyPI has
    no binary wheel of that version."""
    from importlib import metadata

    from .. import env
    from .versions import fetch_runtime_library

    cuda = None
    for major in ("13", "12"):
        try:
            if metadata.version(f"tensorrt-cu{major}-libs") == version:
                cuda = major
                break
        except metadata.PackageNotFoundError:
            continue
    if cuda is None:
        runtime = env.cuda_runtime()
        if runtime is None:
            raise BookError("cannot tell which CUDA major this TensorRT is built for (no tensorrt-cuXX-libs wheel, no "
                            "CUDA runtime): install tensorrt-cu12 or tensorrt-cu13")
        cuda = runtime.split(".")[0]
    return fetch_runtime_library(f"tensorrt-lean-cu{cuda}-libs=={version}")


def library_strings(path, min_length: int = 16) -> list[str]:
    """The printable ASCII runs of at least ``min_length`` characters in a shared library's read-only data
    (``.rodata``), in order: the library's own message texts, among much else."""
    from .versions import _elf

    elf = _elf(Path(path))
    try:
        section = elf.get_section_by_name(".rodata")
        data = section.data() if section is not None else b""
    finally:
        elf.stream.close()
    return [m.decode("ascii") for m in re.findall(rb"[\x20-\x7e]{%d,}" % min_length, data)]


def runtime_messages(path) -> dict[str, str | None]:
    """For each entry of :data:`MESSAGES`, the full message found in the library, or None."""
    found: dict[str, str | None] = dict.fromkeys(MESSAGES)
    for text in library_strings(path):
        for label, part in MESSAGES.items():
            if found[label] is None and part in text:
                found[label] = text.strip()
    return found


def runtimes_table(paths: dict[str, Path]) -> str:
    """Libraries as columns; rows: size, whether it exports the builder and runtime factories
    (``createInferBuilder_INTERNAL``, ``createInferRuntime_INTERNAL``), then one row per portability message
    of :data:`MESSAGES` ("yes" where the library carries it)."""
    from .versions import dynamic_symbols

    labels = list(paths)
    symbols = {k: dynamic_symbols(p) for k, p in paths.items()}
    found = {k: runtime_messages(p) for k, p in paths.items()}
    rows = [["size"] + [f"{Path(paths[k]).stat().st_size / 1e6:.0f} MB" for k in labels],
            ["exports a builder"] + ["yes" if "createInferBuilder_INTERNAL" in symbols[k] else "no" for k in labels],
            ["exports a runtime"] + ["yes" if "createInferRuntime_INTERNAL" in symbols[k] else "no" for k in labels]]
    rows += [[f"message: {m}"] + ["yes" if found[k][m] else "-" for k in labels] for m in MESSAGES]
    return table([""] + labels, rows, align="<" + ">" * len(labels))


# ----- calibration caches ------------------------------------------------------------------------
_HEADER = re.compile(r"^TRT-(\d+)-(\w+)$")
_HEX = re.compile(r"^[0-9a-fA-F]{1,8}$")


def scale_from_hex(text: str) -> float:
    """The float32 whose bits are the hexadecimal ``text`` ("3c010a14" -> 0.0078759...), as trtexec reads a
    cache line (``std::stoi(..., 16)`` reinterpreted as a float) and ModelOpt does
    (``struct.unpack("!f", bytes.fromhex(...))``)."""
    if not _HEX.match(text):
        raise InputError(f"{text!r} is not a float32 in hexadecimal (at most 8 hex digits)")
    return struct.unpack(">f", bytes.fromhex(text.rjust(8, "0")))[0]


def hex_from_scale(scale: float) -> str:
    """The inverse of :func:`scale_from_hex`: the float32 bits of ``scale`` as 8 lower-case hex digits."""
    return struct.pack(">f", float(scale)).hex()


@dataclass(frozen=True)
class CalibrationCache:
    """A parsed calibration cache: the header's library version and algorithm, and one scale per tensor name.

    A tensor's INT8 range is ``[-127 * scale, 127 * scale]`` (trtexec sets exactly that dynamic range from
    a cache: ``setDynamicRange(-127 * calibScale, 127 * calibScale)``, sampleEngines.cpp).
    """

    header: str
    version: int
    algorithm: str
    scales: dict[str, float]
    hex: dict[str, str] = field(repr=False)

    @property
    def release(self) -> str:
        """The TensorRT release the header names (8601 -> "8.6.1"; decoded by chapter 5's rules)."""
        from .versions import decode

        try:
            return str(decode(self.version))
        except InputError:
            return f"unknown ({self.version})"

    def amax(self, name: str) -> float:
        """The largest magnitude INT8 represents for tensor ``name``: 127 x its scale."""
        if name not in self.scales:
            raise InputError(f"the cache has no scale for {name!r}: it has {len(self.scales)} tensors")
        return 127.0 * self.scales[name]


def parse_calibration_cache(source) -> CalibrationCache:
    """Parse a TensorRT calibration cache given as text, bytes or a file path. One-line errors name the line
    that is wrong: a first line that is not ``TRT-<version>-<algorithm>``, a line without a colon, a value that
    is not a hexadecimal float32, a scale that is not positive and finite, a tensor listed twice."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith(
            (".cache", ".calib", ".table", ".txt")) and not source.startswith("TRT-")):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"calibration cache file {path.name} does not exist")
        source = path.read_bytes()
    if isinstance(source, (bytes, bytearray, memoryview)):
        try:
            source = bytes(source).decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("not a text calibration cache: the bytes are not UTF-8 text (a plan or an "
                             "engine file?)") from None
    if not isinstance(source, str):
        raise InputError(f"a calibration cache is text, bytes or a path, got {type(source).__name__}")
    lines = [(i + 1, ln.strip()) for i, ln in enumerate(source.splitlines()) if ln.strip()]
    if not lines:
        raise InputError("the calibration cache is empty")
    number, first = lines[0]
    head = _HEADER.match(first)
    if head is None:
        raise InputError(f"not a TensorRT calibration cache: line {number} should look like "
                         f"TRT-8601-EntropyCalibration2, got {first[:60]!r}")
    scales: dict[str, float] = {}
    hexes: dict[str, str] = {}
    for number, line in lines[1:]:
        colon = line.rfind(":")  # trtexec: line.find_last_of(':')
        if colon <= 0:
            raise InputError(f"calibration cache line {number} has no 'name: value': {line[:60]!r}")
        name, value = line[:colon].strip(), line[colon + 1:].strip()
        try:
            scale = scale_from_hex(value)
        except InputError as exc:
            raise InputError(f"calibration cache line {number} ({name}): {exc}") from None
        if not (math.isfinite(scale) and scale > 0):
            raise InputError(f"calibration cache line {number}: the scale of {name!r} is {scale}, not a positive "
                             f"finite number")
        if name in scales:
            raise InputError(f"calibration cache line {number}: tensor {name!r} is listed twice")
        scales[name], hexes[name] = scale, value.lower()
    return CalibrationCache(first, int(head.group(1)), head.group(2), scales, hexes)


def format_calibration_cache(scales: dict[str, float], version: int, algorithm: str) -> str:
    """Scales written in the cache format (a header line, then ``name: hex`` per tensor), as text. The book
    uses it to write its own calibration in the old format; a cache written this way is the book's, not
    TensorRT's."""
    if not re.fullmatch(r"\w+", algorithm):
        raise InputError(f"an algorithm name is one word, e.g. EntropyCalibration2, got {algorithm!r}")
    for name, scale in scales.items():
        if not (math.isfinite(scale) and scale > 0):
            raise InputError(f"the scale of {name!r} is {scale}: scales are positive and finite")
    return "\n".join([f"TRT-{int(version)}-{algorithm}"] + [f"{n}: {hex_from_scale(s)}" for n, s in scales.items()]) \
        + "\n"


def cache_table(cache: CalibrationCache, names=None) -> str:
    """Tensor, hex value, scale and amax (127 x scale) for ``names`` (default: every tensor)."""
    names = list(cache.scales) if names is None else list(names)
    rows = [[n, cache.hex[n], f"{cache.scales[n]:.7g}", f"{cache.amax(n):.4f}"] for n in names]
    return table(["tensor", "hex", "scale", "amax = 127 x scale"], rows)


# ----- models ------------------------------------------------------------------------------------------
def fixed_batch(model, batch: int):
    """A copy of ``model`` whose graph inputs and outputs have batch size ``batch`` instead of a symbolic one
    (so TensorRT needs no optimization profile for it)."""
    import onnx

    if batch < 1:
        raise InputError(f"a batch size is at least 1, got {batch}")
    out = onnx.ModelProto.FromString(model.SerializeToString())
    for value in list(out.graph.input) + list(out.graph.output):
        dims = value.type.tensor_type.shape.dim
        if dims:
            dims[0].Clear()
            dims[0].dim_value = batch
    onnx.checker.check_model(out)
    return out


def rename_tensors(model, names: dict[str, str]):
    """A copy of ``model`` with tensors renamed (``{old: new}``), as a new export of the same network may name
    them: the computation is unchanged, the names a calibration cache is keyed by are not."""
    import onnx

    out = onnx.ModelProto.FromString(model.SerializeToString())
    unknown = sorted(set(names) - {o for n in out.graph.node for o in n.output})
    if unknown:
        raise InputError(f"no node of the model outputs {unknown[0]!r}")
    for node in out.graph.node:
        node.input[:] = [names.get(n, n) for n in node.input]
        node.output[:] = [names.get(n, n) for n in node.output]
    for value in list(out.graph.output) + list(out.graph.value_info):
        value.name = names.get(value.name, value.name)
    onnx.checker.check_model(out)
    return out


# ----- scales as ONNX Q/DQ ------------------------------------------------------------------------
#: ONNX operators whose inputs are quantized (their weight input, and the axis of its output channels)
QUANTIZABLE = {"Gemm": 1, "MatMul": 1, "Conv": 1}


@dataclass
class QDQResult:
    """The model with Q/DQ pairs, and what happened to each scale (names, since scales are keyed by names)."""

    model: object
    quantized: list[str]     # activations that got a Q/DQ pair from the cache
    missing: list[str]       # activations a quantizable layer reads that the cache has no scale for: left float
    weights: list[str]       # weights given a per-channel Q/DQ pair
    not_in_model: list[str]  # cache names that name no tensor of this model
    unused: list[str]        # cache names of tensors that are no input of a quantizable layer (outputs, ...)

    def __str__(self) -> str:
        return (f"Q/DQ on activations {self.quantized or 'none'} and weights {self.weights or 'none'}; "
                f"no scale for {self.missing or 'none'}; cache names not in the model: {self.not_in_model or 'none'}")


def _weight_axis(node, weight) -> int:
    """The output-channel axis of a quantizable node's weight (per-channel scales go along it)."""
    if node.op_type == "Gemm":
        trans_b = next((a.i for a in node.attribute if a.name == "transB"), 0)
        return 0 if trans_b else 1
    if node.op_type == "MatMul":
        return weight.ndim - 1
    return 0  # Conv: (M, C/group, kH, kW)


def add_qdq(model, scales: dict[str, float], weights: bool = True) -> QDQResult:
    """A copy of ``model`` with a QuantizeLinear/DequantizeLinear pair (INT8, zero point 0, the given scale)
    in front of every activation input of a Gemm, MatMul or Conv that has a scale in ``scales``, and, with
    ``weights``, a per-output-channel pair on their constant weights (scale = max |w| / 127 per channel).

    This is explicit quantization, the only INT8 TensorRT 11 builds: the scales travel inside the model.
    Scales are matched by tensor name, as TensorRT matched a calibration cache: an activation without a
    scale is left in float (TensorRT 8.x-10.x warned "Missing scale and zero-point for tensor ...").
    """
    import onnx
    from onnx import helper, numpy_helper

    bad = {n: s for n, s in scales.items() if not (math.isfinite(s) and s > 0)}
    if bad:
        name = next(iter(bad))
        raise InputError(f"the scale of {name!r} is {bad[name]}: Q/DQ scales are positive and finite")
    out = onnx.ModelProto.FromString(model.SerializeToString())
    graph = out.graph
    inits = {i.name: i for i in graph.initializer}
    consumers: dict[str, list] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            consumers.setdefault(name, []).append((node, i))
    produced = {o for n in graph.node for o in n.output} | {i.name for i in graph.input}
    quantized, missing, wq = [], [], []
    new_inits, new_nodes = [], []

    def pair(tensor, scale, zero, axis=None):
        kw = {} if axis is None else {"axis": axis}
        q, dq = f"{tensor}_quantized", f"{tensor}_dequantized"
        new_nodes.append(helper.make_node("QuantizeLinear", [tensor, scale, zero], [q],
                                          name=f"{tensor}_QuantizeLinear", **kw))
        new_nodes.append(helper.make_node("DequantizeLinear", [q, scale, zero], [dq],
                                          name=f"{tensor}_DequantizeLinear", **kw))
        return dq

    for name in [n for n in consumers if n in produced and n not in inits]:
        targets = [(node, i) for node, i in consumers[name] if node.op_type in QUANTIZABLE and i == 0]
        if not targets:
            continue
        if name not in scales:
            missing.append(name)
            continue
        new_inits += [numpy_helper.from_array(np.array(scales[name], np.float32), f"{name}_scale"),
                      numpy_helper.from_array(np.array(0, np.int8), f"{name}_zero_point")]
        dq = pair(name, f"{name}_scale", f"{name}_zero_point")
        for node, i in targets:
            node.input[i] = dq
        quantized.append(name)
    if weights:
        for node in graph.node:
            if node.op_type not in QUANTIZABLE or len(node.input) < 2 or node.input[1] not in inits:
                continue
            wname = node.input[1]
            w = numpy_helper.to_array(inits[wname]).astype(np.float32)
            axis = _weight_axis(node, w)
            reduce = tuple(a for a in range(w.ndim) if a != axis)
            amax = np.max(np.abs(w), axis=reduce) if reduce else np.abs(w)
            scale = np.maximum(amax, np.float32(1e-12)).astype(np.float32) / np.float32(127.0)
            new_inits += [numpy_helper.from_array(scale, f"{wname}_scale"),
                          numpy_helper.from_array(np.zeros(scale.shape, np.int8), f"{wname}_zero_point")]
            node.input[1] = pair(wname, f"{wname}_scale", f"{wname}_zero_point", axis=axis)
            wq.append(wname)
    graph.initializer.extend(new_inits)
    order = list(graph.node)
    del graph.node[:]
    graph.node.extend(new_nodes + order)  # Q/DQ first: they read graph inputs, initializers or earlier outputs
    _toposort(graph)
    onnx.checker.check_model(out)
    tensors = produced | set(inits)
    return QDQResult(out, quantized, missing, wq, [n for n in scales if n not in tensors],
                     [n for n in scales if n in tensors and n not in quantized])


def _toposort(graph) -> None:
    """Put ``graph``'s nodes in an order where each node comes after the producers of its inputs."""
    available = {i.name for i in graph.input} | {i.name for i in graph.initializer} | {""}
    pending, ordered = list(graph.node), []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise InputError("the model has a cycle or an input nothing produces")
        for n in ready:
            ordered.append(n)
            available.update(n.output)
        pending = [n for n in pending if all(n is not r for r in ready)]
    del graph.node[:]
    graph.node.extend(ordered)


def activations(model, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every graph input and node output of ``model`` on ``feeds``, computed by ONNX Runtime."""
    import onnx

    from ..reference import session

    probe = onnx.ModelProto.FromString(model.SerializeToString())
    inputs = {i.name for i in probe.graph.input} - {i.name for i in probe.graph.initializer}
    if set(feeds) != inputs:
        raise InputError(f"the model's inputs are {sorted(inputs)}, got {sorted(feeds)}")
    have = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        for name in node.output:
            if name and name not in have:
                probe.graph.output.add().name = name
                have.add(name)
    sess = session(probe)
    names = [o.name for o in sess.get_outputs()]
    values = dict(zip(names, sess.run(names, feeds)))
    order = [i.name for i in probe.graph.input] + [o for n in probe.graph.node for o in n.output if o]
    merged = {**{k: np.asarray(v) for k, v in feeds.items()}, **values}
    return {name: merged[name] for name in order if name in merged}


def max_calibration(model, feeds: dict[str, np.ndarray]) -> dict[str, float]:
    """Scales from the largest magnitude each activation reaches on ``feeds`` (max calibration: scale =
    amax / 127), in graph order. TensorRT's EntropyCalibration2 chooses smaller ranges (it clips outliers);
    this is the simplest calibrator, enough to show the format and the conversion."""
    values = activations(model, feeds)
    return {name: float(max(np.max(np.abs(v)), 1e-12)) / 127.0 for name, v in values.items()
            if np.issubdtype(np.asarray(v).dtype, np.floating)}


def qdq_roundtrip(values: np.ndarray, scale: float) -> np.ndarray:
    """``values`` through one INT8 QuantizeLinear/DequantizeLinear pair with ``scale``, on ONNX Runtime:
    what a tensor with this scale can still represent."""
    from onnx import TensorProto, helper, numpy_helper

    from ..models import finish
    from ..reference import run_onnxruntime

    if not (math.isfinite(scale) and scale > 0):
        raise InputError(f"a Q/DQ scale is positive and finite, got {scale}")
    x = np.ascontiguousarray(values, np.float32).reshape(1, -1)
    graph = helper.make_graph(
        [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
         helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])], "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", x.shape[1]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", x.shape[1]])],
        [numpy_helper.from_array(np.array(scale, np.float32), "s"), numpy_helper.from_array(np.array(0, np.int8), "z")])
    return run_onnxruntime(finish(graph, "qdq"), {"x": x})["y"].reshape(np.shape(values))


def show_saturation(values: np.ndarray, roundtrip: np.ndarray, scale: float, title: str, source: str):
    """Input against its INT8 round trip, with the clipping level 127 x scale marked."""
    import matplotlib.pyplot as plt

    from .. import plots

    with plots.style():
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        ax.plot(values, values, color="0.6", lw=1, ls="--", label="no quantization")
        ax.plot(values, roundtrip, color="C0", lw=1.5, label="INT8 Q/DQ with the cache's scale")
        ax.axhline(127 * scale, color="C3", lw=0.8)
        ax.annotate(f"127 x scale = {127 * scale:.3f}", (values[0], 127 * scale), xytext=(4, 4),
                    textcoords="offset points", color="C3", fontsize=8)
        ax.set_xlabel("input value")
        ax.set_ylabel("value after Q/DQ")
        ax.set_title(title, fontsize=9)
        ax.legend(loc="lower right", fontsize=8)
        plots.source_note(ax, source)
        fig.tight_layout()
        plt.show()
