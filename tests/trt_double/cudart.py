"""Test double of the CUDA runtime calls the book makes through cuda-python (``cuda.bindings.runtime``).

Calling convention as in cuda-python: every call returns a tuple ``(err, *values)`` whose first item is
a :class:`cudaError_t` member (``cudaSuccess`` = 0); on error the values are ``None``.

Modelled, not emulated:

- **Device memory** is host memory (numpy, zero-filled lazily) behind integer addresses from a
  synthetic range (``BASE_ADDRESS``..) that is not process memory; each allocation is 256-byte aligned,
  has a known size and is followed by a 1 MiB guard gap, so any address resolves to (allocation,
  offset) or to nothing. Host pointers (``ndarray.ctypes.data``) are real and copied with
  ``ctypes.memmove``; they cannot be validated beyond "not null", as on a GPU.
- **Streams are asynchronous.** Enqueued work (copies, engine runs, event records) runs only when the
  host waits for it: ``cudaStreamSynchronize``, ``cudaEventSynchronize``, ``cudaDeviceSynchronize``, a
  blocking ``cudaMemcpy``, ``cudaFree`` (which synchronizes the device), stream destruction, or a
  query (``cudaStreamQuery``/``cudaEventQuery`` answer ``cudaErrorNotReady`` while work is pending and
  let it complete, as a GPU makes progress while the host polls). A host array read after an async
  device-to-host copy but before a synchronize therefore holds stale data. CUDA allows both readings
  for pageable memory ("For transfers between device memory and pageable host memory, the function
  might be synchronous with respect to host."); the double takes the asynchronous one, so code that
  forgets to synchronize fails here. H2D copies from host memory are staged at the call ("If pageable
  memory must first be staged to pinned memory, the driver may synchronize with the stream and stage
  the copy into pinned memory."), both from https://docs.nvidia.com/cuda/cuda-runtime-api/api-sync-behavior.html.
  The legacy default stream (handle 0) orders itself against the other blocking streams of its device
  (https://docs.nvidia.com/cuda/cuda-runtime-api/stream-sync-behavior.html).
- **Time** is a modelled device clock advanced by each operation's modelled duration; events read it.
  It is not a measurement of anything.
- **Devices**: the current device is per host thread (new threads start on device 0); streams,
  events and allocations belong to the device current when they were created. Rules from the CUDA C++
  Programming Guide, "Stream and Event Behavior" (https://docs.nvidia.com/cuda/cuda-c-programming-guide/
  index.html#stream-and-event-behavior; quoted from memory of that section): "A kernel launch will fail if it is issued to a stream
  that is not associated to the current device"; "A memory copy will succeed even if it is issued to a
  stream that is not associated to the current device"; "cudaEventRecord() will fail if the input event
  and input stream are associated to different devices"; "cudaEventElapsedTime() will fail if the two
  input events are associated to different devices".
- **Errors** ``cudaErrorIllegalAddress`` (an engine reading or writing outside an allocation) is sticky
  for its device, as a corrupted CUDA context is: every later call there returns it until ``reset()``.
"""
from __future__ import annotations

import bisect
import ctypes
import itertools
import sys
import threading
import types
from collections import deque
from enum import IntEnum

import numpy as np

BASE_ADDRESS = 0x7E00_0000_0000
SPAN = 0x0100_0000_0000
ALIGN = 256
GUARD = 1 << 20
STREAM_HANDLES = 0x5500_0000_1000
EVENT_HANDLES = 0x5600_0000_1000
GRAPH_HANDLES = 0x5700_0000_1000


class cudaError_t(IntEnum):
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorMemoryAllocation = 2
    cudaErrorInitializationError = 3
    cudaErrorInvalidDevicePointer = 17
    cudaErrorInvalidMemcpyDirection = 21
    cudaErrorNoDevice = 100
    cudaErrorInvalidDevice = 101
    cudaErrorInvalidResourceHandle = 400
    cudaErrorNotReady = 600
    cudaErrorIllegalAddress = 700
    cudaErrorLaunchFailure = 719
    cudaErrorNotSupported = 801
    cudaErrorStreamCaptureUnsupported = 900
    cudaErrorStreamCaptureInvalidated = 901
    cudaErrorStreamCaptureUnmatched = 903
    cudaErrorUnknown = 999


_ERROR_STRINGS = {
    cudaError_t.cudaSuccess: "no error",
    cudaError_t.cudaErrorInvalidValue: "invalid argument",
    cudaError_t.cudaErrorMemoryAllocation: "out of memory",
    cudaError_t.cudaErrorInitializationError: "initialization error",
    cudaError_t.cudaErrorInvalidDevicePointer: "invalid device pointer",
    cudaError_t.cudaErrorInvalidMemcpyDirection: "invalid copy direction for memcpy",
    cudaError_t.cudaErrorNoDevice: "no CUDA-capable device is detected",
    cudaError_t.cudaErrorInvalidDevice: "invalid device ordinal",
    cudaError_t.cudaErrorInvalidResourceHandle: "invalid resource handle",
    cudaError_t.cudaErrorNotReady: "device not ready",
    cudaError_t.cudaErrorIllegalAddress: "an illegal memory access was encountered",
    cudaError_t.cudaErrorLaunchFailure: "unspecified launch failure",
    cudaError_t.cudaErrorNotSupported: "operation not supported",
    cudaError_t.cudaErrorStreamCaptureUnsupported: "operation not permitted when stream is capturing",
    cudaError_t.cudaErrorStreamCaptureInvalidated: "operation failed due to a previous error during capture",
    cudaError_t.cudaErrorStreamCaptureUnmatched: "capture was not initiated in this stream",
    cudaError_t.cudaErrorUnknown: "unknown error",
}


class cudaMemcpyKind(IntEnum):
    cudaMemcpyHostToHost = 0
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2
    cudaMemcpyDeviceToDevice = 3
    cudaMemcpyDefault = 4


cudaStreamDefault = 0
cudaStreamNonBlocking = 1
cudaEventDefault = 0
cudaEventDisableTiming = 2

_OK = cudaError_t.cudaSuccess
_INVALID_VALUE = cudaError_t.cudaErrorInvalidValue
_BAD_HANDLE = cudaError_t.cudaErrorInvalidResourceHandle
_NOT_READY = cudaError_t.cudaErrorNotReady


class cudaStreamCaptureMode(IntEnum):
    cudaStreamCaptureModeGlobal = 0
    cudaStreamCaptureModeThreadLocal = 1
    cudaStreamCaptureModeRelaxed = 2


class _Handle:
    """cuda-python's opaque handle types: ``int(handle)`` is the value the C API sees."""

    def __init__(self, init_value=0):
        self._value = int(init_value)

    def __int__(self):
        return self._value

    def getPtr(self):
        return self._value

    def __repr__(self):
        return f"<{type(self).__name__} 0x{self._value:x}>"

    def __eq__(self, other):
        return type(other) is type(self) and other._value == self._value

    def __hash__(self):
        return hash((type(self).__name__, self._value))


class cudaStream_t(_Handle):
    pass


class cudaGraph_t(_Handle):
    pass


class cudaGraphExec_t(_Handle):
    pass


class cudaEvent_t(_Handle):
    pass


class cudaDeviceProp:
    """The fields of ``cudaDeviceProp`` the double fills; others raise AttributeError."""

    def __init__(self, spec=None, index=0):
        if spec is not None:
            self.name = spec.name.encode()
            self.major, self.minor = spec.major, spec.minor
            self.totalGlobalMem = spec.total_bytes
            domain, bus, device = spec.pci_bus_id.split(":")
            self.pciDomainID = int(domain, 16)
            self.pciBusID = int(bus, 16)
            self.pciDeviceID = int(device.split(".")[0], 16)
            self.textureAlignment = 512

    def __getattr__(self, name):
        raise AttributeError(f"'cudaDeviceProp' object has no attribute '{name}' "
                             f"(the CUDA runtime test double fills only name, major, minor, totalGlobalMem, "
                             f"pciDomainID, pciBusID, pciDeviceID, textureAlignment)")


# ----- state ---------------------------------------------------------------------------------------
class _Allocation:
    def __init__(self, base, size, device, reserved=False):
        self.base, self.size, self.device, self.reserved = base, size, device, reserved
        self._data = None

    def buffer(self) -> np.ndarray:
        if self._data is None:
            self._data = np.zeros(self.size, np.uint8)  # calloc: pages committed on first touch
        return self._data


class _Op:
    def __init__(self, seq, run, duration_ms, label):
        self.seq, self.run, self.duration_ms, self.label = seq, run, duration_ms, label
        self.done = False


class _Stream:
    def __init__(self, handle, device, legacy=False, blocking=True):
        self.handle, self.device, self.legacy, self.blocking = handle, device, legacy, blocking
        self.ops: deque[_Op] = deque()
        self.capture: list | None = None  # (run, duration_ms, label) recorded while capturing


class _Event:
    def __init__(self, handle, device, timing=True):
        self.handle, self.device, self.timing = handle, device, timing
        self.op: _Op | None = None
        self.stream: _Stream | None = None
        self.timestamp: float | None = None


class _Device:
    def __init__(self, index, spec):
        self.index, self.spec = index, spec
        self.used = 0
        self.clock_ms = 0.0
        self.sticky: cudaError_t | None = None
        self.legacy = _Stream(0, index, legacy=True)


class _State:
    def __init__(self, specs, flavour):
        self.flavour = flavour
        self.devices = [_Device(i, s) for i, s in enumerate(specs)]
        self.allocs: dict[int, _Allocation] = {}
        self.bases: list[int] = []
        self.next_base = BASE_ADDRESS
        self.streams: dict[int, _Stream] = {}
        self.events: dict[int, _Event] = {}
        self.graphs: dict[int, list] = {}
        self.graph_execs: dict[int, list] = {}
        self.seq = itertools.count(1)
        self.handles = itertools.count()
        self.lock = threading.RLock()
        self.local = threading.local()


_STATE: _State | None = None


def _new_state(specs, flavour) -> _State:
    global _STATE
    _STATE = _State(specs, flavour)
    return _STATE


def _drop_state() -> None:
    global _STATE
    _STATE = None


def _state() -> _State:
    if _STATE is None:
        raise RuntimeError("the CUDA runtime test double is not installed (trt_double.install)")
    return _STATE


def _current(st: _State | None = None) -> int:
    st = st or _state()
    return getattr(st.local, "device", 0)


def _sticky(st, device: int):
    return st.devices[device].sticky


def _fail(err, n_values):
    return (err,) + (None,) * n_values


# ----- memory --------------------------------------------------------------------------------------
def _is_device_address(addr: int) -> bool:
    return BASE_ADDRESS <= addr < BASE_ADDRESS + SPAN


def _find(st, addr: int):
    """(allocation, offset) of a device address, or (None, 0)."""
    i = bisect.bisect_right(st.bases, addr) - 1
    if i >= 0:
        alloc = st.allocs[st.bases[i]]
        if addr < alloc.base + alloc.size:
            return alloc, addr - alloc.base
    return None, 0


def _allocate(st, device: int, size: int, reserved=False) -> _Allocation | None:
    dev = st.devices[device]
    rounded = -(-max(size, 1) // ALIGN) * ALIGN
    if dev.used + rounded > dev.spec.total_bytes:
        return None
    base = st.next_base
    st.next_base = -(-(base + rounded + GUARD) // GUARD) * GUARD
    alloc = _Allocation(base, size, device, reserved)
    st.allocs[base] = alloc
    bisect.insort(st.bases, base)
    dev.used += rounded
    return alloc


def _release(st, alloc: _Allocation) -> None:
    if st.allocs.get(alloc.base) is alloc:
        del st.allocs[alloc.base]
        st.bases.remove(alloc.base)
        st.devices[alloc.device].used -= -(-max(alloc.size, 1) // ALIGN) * ALIGN


def _device_range(st, addr: int, nbytes: int, device: int | None = None):
    """The numpy view of ``nbytes`` at a device address, or None when the range leaves its allocation
    (or lies on another device than ``device``)."""
    alloc, offset = _find(st, addr)
    if alloc is None or alloc.reserved or offset + nbytes > alloc.size:
        return None
    if device is not None and alloc.device != device:
        return None
    return alloc.buffer()[offset:offset + nbytes]


def _bytes_to_end(st, addr: int) -> int:
    alloc, offset = _find(st, addr)
    return 0 if alloc is None else alloc.size - offset


# ----- streams and ordering ------------------------------------------------------------------------
def _handle_value(obj, kind) -> int:
    if obj is None:
        return 0
    if isinstance(obj, kind):
        return int(obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj
    raise TypeError(f"Argument must be of type {kind.__name__} or int, got {type(obj).__name__}")


def _stream(st, obj):
    """(err, _Stream) for a stream argument; 0 (and 1, cudaStreamLegacy; 2, cudaStreamPerThread, which
    the double treats alike) is the legacy default stream of the current device."""
    value = _handle_value(obj, cudaStream_t)
    if value in (0, 1, 2):
        return _OK, st.devices[_current(st)].legacy
    stream = st.streams.get(value)
    return (_OK, stream) if stream is not None else (_BAD_HANDLE, None)


def _enqueue(st, stream: _Stream, run, duration_ms: float, label: str) -> _Op:
    op = _Op(next(st.seq), run, duration_ms, label)
    if stream.capture is not None:
        # Stream capture: "work is not enqueued for execution but rather captured into a graph"
        # (CUDA Programming Guide, "Creating a Graph Using Stream Capture"); it runs at cudaGraphLaunch.
        stream.capture.append((run, duration_ms, label))
        op.done = True
        return op
    stream.ops.append(op)
    return op


def _streams_of(st, device: int):
    yield st.devices[device].legacy
    yield from (s for s in st.streams.values() if s.device == device)


def _drain(st, stream: _Stream, upto: int | None = None) -> None:
    """Run ``stream``'s pending work (up to sequence number ``upto``), honouring the legacy default
    stream's implicit synchronization with the blocking streams of its device."""
    while stream.ops and (upto is None or stream.ops[0].seq <= upto):
        op = stream.ops[0]
        if stream.legacy:
            for other in list(_streams_of(st, stream.device)):
                if other is not stream and other.blocking:
                    _drain(st, other, op.seq - 1)
        elif stream.blocking:
            _drain(st, st.devices[stream.device].legacy, op.seq - 1)
        if stream.ops and stream.ops[0] is op:
            stream.ops.popleft()
            _execute(st, stream, op)


def _execute(st, stream: _Stream, op: _Op) -> None:
    dev = st.devices[stream.device]
    if dev.sticky is None:
        err = op.run()
        dev.clock_ms += op.duration_ms
        if err is not None and err != _OK:
            dev.sticky = err
    op.done = True


def _drain_device(st, device: int) -> None:
    while True:
        pending = [s for s in _streams_of(st, device) if s.ops]
        if not pending:
            return
        _drain(st, min(pending, key=lambda s: s.ops[0].seq), None)


def _copy_ms(nbytes: int, device_to_device=False) -> float:
    """Modelled duration of a copy: a fixed latency plus bytes over a nominal bandwidth."""
    return 0.002 + nbytes / (1.5e9 if device_to_device else 2.5e7)


# ----- public API: devices -------------------------------------------------------------------------
def cudaRuntimeGetVersion():
    from .devices import FLAVOURS

    return _OK, FLAVOURS[_state().flavour][1]


def cudaDriverGetVersion():
    from .devices import FLAVOURS

    return _OK, FLAVOURS[_state().flavour][1]


def cudaGetDeviceCount():
    return _OK, len(_state().devices)


def cudaGetDevice():
    return _OK, _current()


def cudaSetDevice(device):
    st = _state()
    if not isinstance(device, int) or not 0 <= device < len(st.devices):
        return (cudaError_t.cudaErrorInvalidDevice,)
    st.local.device = device
    return (_OK,)


def cudaGetDeviceProperties(device):
    st = _state()
    if not isinstance(device, int) or not 0 <= device < len(st.devices):
        return _fail(cudaError_t.cudaErrorInvalidDevice, 1)
    return _OK, cudaDeviceProp(st.devices[device].spec, device)


def cudaDeviceSynchronize():
    st = _state()
    with st.lock:
        device = _current(st)
        _drain_device(st, device)
        return (_sticky(st, device) or _OK,)


def cudaMemGetInfo():
    st = _state()
    dev = st.devices[_current(st)]
    if dev.sticky:
        return _fail(dev.sticky, 2)
    return _OK, dev.spec.total_bytes - dev.used, dev.spec.total_bytes


def cudaGetErrorString(error):
    return _OK, _ERROR_STRINGS.get(cudaError_t(int(error)), "unknown error").encode()


def cudaGetErrorName(error):
    return _OK, cudaError_t(int(error)).name.encode()


def cudaGetLastError():
    st = _state()
    return (_sticky(st, _current(st)) or _OK,)


# ----- public API: memory --------------------------------------------------------------------------
def cudaMalloc(size):
    st = _state()
    with st.lock:
        device = _current(st)
        if _sticky(st, device):
            return _fail(_sticky(st, device), 1)
        if not isinstance(size, int) or size < 0:
            return _fail(_INVALID_VALUE, 1)
        if size == 0:
            return _OK, 0
        alloc = _allocate(st, device, size)
        if alloc is None:
            return _fail(cudaError_t.cudaErrorMemoryAllocation, 1)
        return _OK, alloc.base


def cudaFree(devPtr):
    st = _state()
    with st.lock:
        ptr = int(devPtr)
        if ptr == 0:
            return (_OK,)
        alloc = st.allocs.get(ptr)
        if alloc is None or alloc.reserved:
            return (_INVALID_VALUE,)  # unknown pointer, interior pointer or double free
        _drain_device(st, alloc.device)  # cudaFree synchronizes the device
        if _sticky(st, alloc.device):
            return (_sticky(st, alloc.device),)
        _release(st, alloc)
        return (_OK,)


def _classify(st, addr: int, nbytes: int):
    """('host', None) | ('device', view) | ('invalid', None) for one side of a copy."""
    if not _is_device_address(addr):
        return ("invalid", None) if addr == 0 else ("host", None)
    view = _device_range(st, addr, nbytes)
    return ("device", view) if view is not None else ("invalid", None)


def _copy_op(st, dst: int, src: int, count: int, kind):
    """Validate a copy now (errors are returned at the call, as CUDA does) and return the work to run
    later, or an error."""
    if not isinstance(count, int) or count < 0:
        return _INVALID_VALUE, None, False
    if count == 0:
        return _OK, None, False
    try:
        kind = cudaMemcpyKind(int(kind))
    except ValueError:
        return cudaError_t.cudaErrorInvalidMemcpyDirection, None, False
    dst_kind, dst_view = _classify(st, int(dst), count)
    src_kind, src_view = _classify(st, int(src), count)
    if "invalid" in (dst_kind, src_kind):
        return _INVALID_VALUE, None, False
    expected = {cudaMemcpyKind.cudaMemcpyHostToHost: ("host", "host"),
                cudaMemcpyKind.cudaMemcpyHostToDevice: ("device", "host"),
                cudaMemcpyKind.cudaMemcpyDeviceToHost: ("host", "device"),
                cudaMemcpyKind.cudaMemcpyDeviceToDevice: ("device", "device")}.get(kind)
    if expected is not None and expected != (dst_kind, src_kind):
        return _INVALID_VALUE, None, False
    dst_addr, src_addr = int(dst), int(src)
    if (dst_kind, src_kind) == ("host", "host"):
        ctypes.memmove(dst_addr, src_addr, count)  # "fully synchronous with respect to the host"
        return _OK, None, False
    if src_kind == "host":
        staged = ctypes.string_at(src_addr, count)  # pageable memory is staged at the call

        def run():
            dst_view[:] = np.frombuffer(staged, np.uint8)
    elif dst_kind == "host":
        def run():
            ctypes.memmove(dst_addr, src_view.ctypes.data, count)
    else:
        def run():
            dst_view[:] = src_view
    return _OK, run, dst_kind == src_kind == "device"


def cudaMemcpyAsync(dst, src, count, kind, stream):
    st = _state()
    with st.lock:
        device = _current(st)
        if _sticky(st, device):
            return (_sticky(st, device),)
        err, target = _stream(st, stream)
        if err != _OK:
            return (err,)
        err, run, d2d = _copy_op(st, dst, src, count, kind)
        if err == _OK and run is not None:
            _enqueue(st, target, run, _copy_ms(count, d2d), "memcpy")
        return (err,)


def cudaMemcpy(dst, src, count, kind):
    st = _state()
    with st.lock:
        device = _current(st)
        if _sticky(st, device):
            return (_sticky(st, device),)
        err, run, d2d = _copy_op(st, dst, src, count, kind)
        if err == _OK and run is not None:
            legacy = st.devices[device].legacy
            _enqueue(st, legacy, run, _copy_ms(count, d2d), "memcpy")
            _drain(st, legacy)
            err = _sticky(st, device) or _OK
        return (err,)


def cudaMemsetAsync(devPtr, value, count, stream):
    st = _state()
    with st.lock:
        device = _current(st)
        if _sticky(st, device):
            return (_sticky(st, device),)
        err, target = _stream(st, stream)
        if err != _OK:
            return (err,)
        view = _device_range(st, int(devPtr), int(count))
        if view is None:
            return (_INVALID_VALUE,)

        def run():
            view[:] = int(value) & 0xFF
        _enqueue(st, target, run, _copy_ms(int(count), True), "memset")
        return (_OK,)


def cudaMemset(devPtr, value, count):
    err = cudaMemsetAsync(devPtr, value, count, 0)
    if err[0] != _OK:
        return err
    return cudaStreamSynchronize(0)


# ----- public API: streams and events --------------------------------------------------------------
def cudaStreamCreateWithFlags(flags):
    st = _state()
    with st.lock:
        device = _current(st)
        if _sticky(st, device):
            return _fail(_sticky(st, device), 1)
        handle = STREAM_HANDLES + 0x100 * next(st.handles)
        st.streams[handle] = _Stream(handle, device, blocking=not (int(flags) & cudaStreamNonBlocking))
        return _OK, cudaStream_t(handle)


def cudaStreamCreate():
    return cudaStreamCreateWithFlags(cudaStreamDefault)


def cudaStreamDestroy(stream):
    st = _state()
    with st.lock:
        value = _handle_value(stream, cudaStream_t)
        target = st.streams.get(value)
        if target is None:
            return (_BAD_HANDLE,)
        _drain(st, target)  # pending work still completes
        del st.streams[value]
        return (_OK,)


def cudaStreamSynchronize(stream):
    st = _state()
    with st.lock:
        err, target = _stream(st, stream)
        if err != _OK:
            return (err,)
        if target.capture is not None:
            # "synchronous APIs ... are illegal during stream capture" (CUDA Programming Guide, Prohibited
            # and Unhandled Operations): the capture is invalidated.
            target.capture = None
            return (cudaError_t.cudaErrorStreamCaptureUnsupported,)
        _drain(st, target)
        return (_sticky(st, target.device) or _OK,)


def cudaStreamQuery(stream):
    st = _state()
    with st.lock:
        err, target = _stream(st, stream)
        if err != _OK:
            return (err,)
        if target.ops:
            _drain(st, target)  # the device makes progress while the host polls
            return (_NOT_READY,)
        return (_sticky(st, target.device) or _OK,)


def cudaStreamBeginCapture(stream, mode):
    """Begin capturing ``stream``'s work into a graph. The legacy default stream cannot be captured
    (CUDA Programming Guide: "Stream capture may not be initiated if the stream is cudaStreamLegacy")."""
    st = _state()
    with st.lock:
        err, target = _stream(st, stream)
        if err != _OK:
            return (err,)
        if target.legacy:
            return (cudaError_t.cudaErrorStreamCaptureUnsupported,)
        if target.capture is not None or int(mode) not in tuple(cudaStreamCaptureMode):
            return (_INVALID_VALUE,)
        target.capture = []
        return (_OK,)


def cudaStreamEndCapture(stream):
    st = _state()
    with st.lock:
        err, target = _stream(st, stream)
        if err != _OK:
            return err, None
        if target.capture is None:
            return cudaError_t.cudaErrorStreamCaptureUnmatched, None
        handle = GRAPH_HANDLES + 0x100 * next(st.handles)
        st.graphs[handle] = list(target.capture)
        target.capture = None
        return _OK, cudaGraph_t(handle)


def cudaGraphInstantiate(graph, flags):
    st = _state()
    with st.lock:
        ops = st.graphs.get(_handle_value(graph, cudaGraph_t))
        if ops is None:
            return _BAD_HANDLE, None
        handle = GRAPH_HANDLES + 0x100 * next(st.handles)
        st.graph_execs[handle] = list(ops)
        return _OK, cudaGraphExec_t(handle)


def cudaGraphLaunch(graphExec, stream):
    """Enqueue the captured work, in capture order, on ``stream`` (it runs when the stream is drained)."""
    st = _state()
    with st.lock:
        ops = st.graph_execs.get(_handle_value(graphExec, cudaGraphExec_t))
        err, target = _stream(st, stream)
        if ops is None or err != _OK:
            return (_BAD_HANDLE if ops is None else err,)
        for run, duration_ms, label in ops:
            _enqueue(st, target, run, duration_ms, f"graph: {label}")
        return (_OK,)


def cudaGraphExecDestroy(graphExec):
    st = _state()
    with st.lock:
        return (_OK,) if st.graph_execs.pop(_handle_value(graphExec, cudaGraphExec_t), None) is not None \
            else (_BAD_HANDLE,)


def cudaGraphDestroy(graph):
    st = _state()
    with st.lock:
        return (_OK,) if st.graphs.pop(_handle_value(graph, cudaGraph_t), None) is not None else (_BAD_HANDLE,)


def cudaEventCreateWithFlags(flags):
    st = _state()
    with st.lock:
        device = _current(st)
        handle = EVENT_HANDLES + 0x100 * next(st.handles)
        st.events[handle] = _Event(handle, device, timing=not (int(flags) & cudaEventDisableTiming))
        return _OK, cudaEvent_t(handle)


def cudaEventCreate():
    return cudaEventCreateWithFlags(cudaEventDefault)


def _event(st, obj):
    return st.events.get(_handle_value(obj, cudaEvent_t))


def cudaEventRecord(event, stream=0):
    st = _state()
    with st.lock:
        ev = _event(st, event)
        err, target = _stream(st, stream)
        if ev is None or err != _OK or ev.device != target.device:
            return (_BAD_HANDLE,)
        if _sticky(st, target.device):
            return (_sticky(st, target.device),)

        def run():
            ev.timestamp = st.devices[target.device].clock_ms
        ev.timestamp = None
        ev.op = _enqueue(st, target, run, 0.0, "event record")
        ev.stream = target
        return (_OK,)


def _event_pending(ev) -> bool:
    return ev.op is not None and not ev.op.done


def cudaEventSynchronize(event):
    st = _state()
    with st.lock:
        ev = _event(st, event)
        if ev is None:
            return (_BAD_HANDLE,)
        if _event_pending(ev):
            _drain(st, ev.stream, ev.op.seq)
        return (_sticky(st, ev.device) or _OK,)


def cudaEventQuery(event):
    st = _state()
    with st.lock:
        ev = _event(st, event)
        if ev is None:
            return (_BAD_HANDLE,)
        if _event_pending(ev):
            _drain(st, ev.stream, ev.op.seq)  # progress while the host polls
            return (_NOT_READY,)
        return (_OK,)


def cudaEventElapsedTime(start, end):
    st = _state()
    with st.lock:
        a, b = _event(st, start), _event(st, end)
        # cudaEventElapsedTime (CUDA Runtime API; cuEventElapsedTime says the same with driver names): "If
        # cudaEventRecord() has not been called on either event then cudaErrorInvalidResourceHandle is
        # returned. If cudaEventRecord() has been called on both events but one or both of them has not yet
        # been completed [...] cudaErrorNotReady is returned. If either event was created with the
        # cudaEventDisableTiming flag, then this function will return cudaErrorInvalidResourceHandle."
        if a is None or b is None or a.device != b.device or a.op is None or b.op is None \
                or not (a.timing and b.timing):
            return _fail(_BAD_HANDLE, 1)
        if _event_pending(a) or _event_pending(b):
            return _fail(_NOT_READY, 1)
        return _OK, float(b.timestamp - a.timestamp)


def cudaEventDestroy(event):
    st = _state()
    with st.lock:
        value = _handle_value(event, cudaEvent_t)
        if st.events.pop(value, None) is None:
            return (_BAD_HANDLE,)
        return (_OK,)


__all__ = [
    "cudaGraphDestroy",
    "cudaGraphExecDestroy",
    "cudaGraphExec_t",
    "cudaGraphInstantiate",
    "cudaGraphLaunch",
    "cudaGraph_t",
    "cudaStreamBeginCapture",
    "cudaStreamCaptureMode",
    "cudaStreamEndCapture",
    "cudaDeviceProp",
    "cudaDeviceSynchronize",
    "cudaDriverGetVersion",
    "cudaError_t",
    "cudaEventCreate",
    "cudaEventCreateWithFlags",
    "cudaEventDefault",
    "cudaEventDestroy",
    "cudaEventDisableTiming",
    "cudaEventElapsedTime",
    "cudaEventQuery",
    "cudaEventRecord",
    "cudaEventSynchronize",
    "cudaEvent_t",
    "cudaFree",
    "cudaGetDevice",
    "cudaGetDeviceCount",
    "cudaGetDeviceProperties",
    "cudaGetErrorName",
    "cudaGetErrorString",
    "cudaGetLastError",
    "cudaMalloc",
    "cudaMemGetInfo",
    "cudaMemcpy",
    "cudaMemcpyAsync",
    "cudaMemcpyKind",
    "cudaMemset",
    "cudaMemsetAsync",
    "cudaRuntimeGetVersion",
    "cudaSetDevice",
    "cudaStreamCreate",
    "cudaStreamCreateWithFlags",
    "cudaStreamDefault",
    "cudaStreamDestroy",
    "cudaStreamNonBlocking",
    "cudaStreamQuery",
    "cudaStreamSynchronize",
    "cudaStream_t",
]


def make_module(name: str) -> types.ModuleType:
    """A fresh module object named ``name`` exposing the public API; other names raise AttributeError
    (the double cannot tell real cuda-python names from made-up ones: it has no stubs for them)."""
    module = types.ModuleType(name, "Test double of cuda-python's CUDA runtime bindings (tests/trt_double).")
    this = sys.modules[__name__]
    for key in __all__:
        setattr(module, key, getattr(this, key))

    def __getattr__(attr):
        raise AttributeError(f"module '{name}' has no attribute '{attr}' (not implemented by the CUDA runtime "
                             f"test double, or not a cuda-python name)")

    module.__getattr__ = __getattr__
    module.__all__ = list(__all__)
    return module
