"""One engine per GPU: a per-device engine pool fed by worker threads (chapter 4 onwards).

The rules it follows are CUDA's and TensorRT's, not the pool's:

- An engine, and every execution context made from it, belongs to the device that was current when it was
  built or deserialized (the TensorRT FAQ: "Each ICudaEngine object is bound to a specific GPU when it is
  instantiated"); streams and device buffers belong to the device current when they were created.
- The current device is a property of the host thread, and a new thread starts on device 0 (CUDA Runtime
  API, ``cudaSetDevice``; "A kernel launch will fail if it is issued to a stream that is not associated to the
  current device", CUDA C++ Programming Guide, Stream and Event Behavior). So every call made for a device
  first makes that device current in the calling thread: :func:`use_device` around each one.
- A plan is built for one GPU. Each device gets the plan cached under its own key
  (:func:`trtfaq.cuda.device_key` names the GPU model and, when several GPUs are visible, its PCI bus id), so
  two GPUs of different models never share a plan, and a mixed machine builds one plan per model.
- Builds run one at a time, even on different GPUs: concurrent builds on several GPUs crashed or hung in
  TensorRT 10.16.1 until they were serialized (lightvector/KataGo#1225, #1230).
"""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import BookError, InputError

if TYPE_CHECKING:
    import numpy as np

    from .cache import EngineCache
    from .engine import BuildConfig, Engine



@contextlib.contextmanager
def use_device(index: int):
    """Make CUDA device ``index`` current in this thread for the ``with`` block, then restore the device that
    was current before (``cudaSetDevice``, checked)."""
    from .cuda import check
    from .requires import require_gpu

    rt = require_gpu()
    previous = check(rt.cudaGetDevice())
    check(rt.cudaSetDevice(int(index)))
    try:
        yield index
    finally:
        check(rt.cudaSetDevice(previous))


def device_count() -> int:
    """How many CUDA devices this process sees (after ``CUDA_VISIBLE_DEVICES``)."""
    from .cuda import check
    from .requires import require_gpu

    return int(check(require_gpu().cudaGetDeviceCount()))


@dataclass(frozen=True)
class DeviceInfo:
    """A CUDA device as this process numbers it, and what identifies it across processes."""

    index: int                # this process's number (CUDA_VISIBLE_DEVICES renumbers from 0)
    name: str
    compute_capability: str
    pci_bus_id: str           # domain:bus:device, the same in every process and in nvidia-smi
    key: str                  # the engine cache's device key (trtfaq.cuda.device_key)


def device_info(index: int) -> DeviceInfo:
    """Name, compute capability, PCI bus id and cache key of device ``index``."""
    from .cuda import check, device_key
    from .requires import require_gpu

    rt = require_gpu()
    with use_device(index):
        prop = check(rt.cudaGetDeviceProperties(index))
        name = prop.name.decode() if isinstance(prop.name, bytes) else str(prop.name)
        return DeviceInfo(index, name.rstrip("\x00"), f"{prop.major}.{prop.minor}",
                          f"{prop.pciDomainID:04x}:{prop.pciBusID:02x}:{prop.pciDeviceID:02x}.0", device_key())


class DeviceEngine:
    """One device's engine, execution context, stream and buffers (a :class:`trtfaq.engine.Engine`), made with
    that device current; every call on it makes the device current first."""

    def __init__(self, info: DeviceInfo, plan: bytes):
        from .engine import Engine

        self.info = info
        with self.current():
            self.engine: Engine | None = Engine(plan)

    @property
    def index(self) -> int:
        return self.info.index

    def current(self):
        """The ``with`` block that makes this engine's device current in the calling thread."""
        return use_device(self.info.index)

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if self.engine is None:
            raise BookError(f"the engine of device {self.index} was closed")
        with self.current():
            return self.engine.infer(feeds)

    def close(self) -> None:
        if self.engine is not None:
            with self.current():
                self.engine.close()
            self.engine = None


class EnginePool:
    """One engine per GPU for one ONNX model, and worker threads that feed them.

    ``devices``: the device indices to use (default: every device this process sees). Plans come from
    :func:`trtfaq.engine.cached_plan`, built one at a time under :func:`trtfaq.build_queue.build_lock` (the
    book's one build lock, for threads and processes) with each device current, so
    each is keyed by its own device. Free everything with :meth:`close` or a ``with`` block.
    """

    def __init__(self, onnx_bytes: bytes, config: BuildConfig | None = None, devices=None,
                 cache: EngineCache | None = None):
        from .build_queue import build_lock
        from .engine import BuildConfig, cached_plan

        config = config or BuildConfig()
        count = device_count()
        wanted = list(range(count)) if devices is None else [int(d) for d in devices]
        bad = [d for d in wanted if not 0 <= d < count]
        if not wanted or bad or len(set(wanted)) != len(wanted):
            raise InputError(f"devices must be distinct indices below {count} (this process sees {count} GPU"
                             f"{'s' if count != 1 else ''}), got {wanted}")
        self.members: list[DeviceEngine] = []
        try:
            for index in wanted:
                with build_lock(), use_device(index):
                    info = device_info(index)
                    plan = cached_plan(onnx_bytes, config, cache)
                self.members.append(DeviceEngine(info, plan))
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> EnginePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close every device's engine, each with its device current (idempotent)."""
        for member in getattr(self, "members", []):
            member.close()

    @property
    def devices(self) -> list[DeviceInfo]:
        return [m.info for m in self.members]

    def table(self) -> str:
        """One row per device: index, name, compute capability, PCI bus id, and its plan's cache key."""
        from .tables import table

        return table(["device", "name", "compute capability", "PCI bus id", "plan cached under device key"],
                     [[d.index, d.name, d.compute_capability, d.pci_bus_id, d.key] for d in self.devices])

    def run(self, batches: list[dict[str, np.ndarray]]) -> list[dict[str, np.ndarray]]:
        """Infer every batch, batch ``k`` on device ``k mod N`` (N devices), with one worker thread per device;
        the outputs come back in the order of ``batches``. An error in a worker is re-raised in one line naming
        the device."""
        if not self.members:
            raise BookError("this pool is closed")
        results: list[dict[str, np.ndarray] | None] = [None] * len(batches)
        failures: list[tuple[int, BaseException]] = []
        work: dict[int, list[int]] = {m.index: [] for m in self.members}
        for k in range(len(batches)):
            work[self.members[k % len(self.members)].index].append(k)

        def worker(member: DeviceEngine, ks: list[int]) -> None:
            try:
                for k in ks:
                    results[k] = member.infer(batches[k])  # infer makes the member's device current first
            except BaseException as exc:  # reported by the caller's thread, with the device
                failures.append((member.index, exc))

        threads = [threading.Thread(target=worker, args=(m, work[m.index]), name=f"trtfaq-device-{m.index}")
                   for m in self.members]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if failures:
            index, exc = sorted(failures, key=lambda f: f[0])[0]
            raise BookError(f"device {index}: {type(exc).__name__}: {exc}") from exc
        return [r for r in results if r is not None]
