"""The double's own plan and timing-cache formats (never TensorRT's).

A plan is ``PREFIX + MAGIC + u32 header length + JSON header + payload [+ lean runtime stand-in]``.

``PREFIX`` is the 28 bytes TensorRT's own plans start with, as far as the published trtexec source reads
them (``samples/common/sampleEngines.cpp``, ``printPlanVersion``, NVIDIA/TensorRT v10.16 and 11.1): a
little-endian uint32 tag ``0x74727466`` (the bytes ``ftrt``), a uint32 serialization version 0, and the
TensorRT major, minor, patch and build as one byte each at offsets 24-27. Bytes 8-23 are zeros here (their
meaning in a real plan is not published). Everything after the prefix is the double's own format: the
header names the TensorRT version and the device (compute capability, name) it was built for, the I/O
tensors, profiles, debug tensors, flags and compatibility settings; the payload is the ONNX model or, for
layer-API networks, an ``.npz`` of the weights (the layer graph is in the header). A version-compatible
plan ends with ``lean_runtime_bytes`` zero bytes standing in for the embedded lean runtime.
"""
from __future__ import annotations

import json
import struct

PLAN_TAG = 0x74727466  # sampleEngines.cpp: "Correct TensorRT plan file starts with this tag" (kPLAN_FILE_TAG)
PREFIX_BYTES = 28       # sampleEngines.cpp: kPLAN_SIZE{28}
MAGIC = b"TRTDOUBLE\x00PLAN"
CACHE_MAGIC = b"TRTDOUBLE\x00TCACHE"
FORMAT = 1


class PlanError(ValueError):
    pass


def _pack(magic: bytes, header: dict, payload: bytes) -> bytes:
    text = json.dumps(header, sort_keys=True).encode()
    return magic + struct.pack("<I", len(text)) + text + payload


def _unpack(magic: bytes, data: bytes):
    if len(data) < len(magic) + 4 or data[:len(magic)] != magic:
        raise PlanError("magic")
    (n,) = struct.unpack_from("<I", data, len(magic))
    start = len(magic) + 4
    try:
        header = json.loads(data[start:start + n])
    except ValueError:
        raise PlanError("header") from None
    return header, data[start + n:]


def plan_prefix(version: str) -> bytes:
    """The 28 bytes trtexec --getPlanVersionOnly reads, for TensorRT ``version`` ("10.16.1.11")."""
    major, minor, patch, build = (int(x) for x in version.split("."))
    return struct.pack("<II16x4B", PLAN_TAG, 0, major, minor, patch, build)


def write_plan(header: dict, payload: bytes) -> bytes:
    lean = int(header.get("lean_runtime_bytes", 0))
    return plan_prefix(header["tensorrt_version"]) + _pack(MAGIC, {**header, "format": FORMAT}, payload) \
        + bytes(lean)


def read_plan(data: bytes):
    if len(data) < PREFIX_BYTES or struct.unpack_from("<I", data)[0] != PLAN_TAG:
        raise PlanError("magic")
    header, payload = _unpack(MAGIC, data[PREFIX_BYTES:])
    lean = int(header.get("lean_runtime_bytes", 0))
    return header, (payload[:len(payload) - lean] if lean else payload)


def write_cache(header: dict, entries: dict) -> bytes:
    return _pack(CACHE_MAGIC, {**header, "format": FORMAT, "entries": entries}, b"")


def read_cache(data: bytes) -> dict:
    return _unpack(CACHE_MAGIC, data)[0]
