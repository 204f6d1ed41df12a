"""The double's own plan and timing-cache formats (never TensorRT's).

A plan is ``MAGIC + u32 header length + JSON header + payload``. The header names the TensorRT version
and the device (compute capability, name) it was built for, the I/O tensors, profiles, debug tensors
and flags; the payload is the ONNX model or, for layer-API networks, an ``.npz`` of the weights (the
layer graph is in the header).
"""
from __future__ import annotations

import json
import struct

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


def write_plan(header: dict, payload: bytes) -> bytes:
    return _pack(MAGIC, {**header, "format": FORMAT}, payload)


def read_plan(data: bytes):
    return _unpack(MAGIC, data)


def write_cache(header: dict, entries: dict) -> bytes:
    return _pack(CACHE_MAGIC, {**header, "format": FORMAT, "entries": entries}, b"")


def read_cache(data: bytes) -> dict:
    return _unpack(CACHE_MAGIC, data)[0]
