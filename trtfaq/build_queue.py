"""Build TensorRT engines one at a time, for any chapter that builds several (chapter 4 onwards).

Chapter 4's engine pool takes the build lock; chapter 11 explains why and adds the serial queue.

A builder times candidate kernels ("tactics") on the GPU; two builders at once time each other's kernels
and the GPU, so the queue lets one build run at a time: a lock per process (threads) and an exclusive
``fcntl.flock`` on a lock file (processes on one machine; POSIX only, as the book's TensorRT targets
are Linux). Builds share one timing cache per (TensorRT version, device), read before and written after
each build while the lock is held, through a temporary file and a rename (:func:`trtfaq.cache.write_atomic`),
so two processes never lose each other's entries and a killed build never leaves half a file.
"""
from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .cache import folder, timing_cache_path
from .engine import BuildConfig, build_serialized
from .errors import InputError

#: one builder at a time in this process
_THREAD_LOCK = threading.Lock()


def lock_path() -> Path:
    """The machine-wide build lock file, under the book's cache root."""
    return folder("locks") / "tensorrt-build.lock"


@contextlib.contextmanager
def build_lock(path: Path | None = None):
    """Hold the build lock: this process's lock, then an exclusive ``flock`` on ``path``. Yields the seconds
    spent waiting."""
    import fcntl

    path = Path(path) if path is not None else lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with _THREAD_LOCK, open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield time.perf_counter() - start
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@dataclass(frozen=True)
class Target:
    """One build: a name, ONNX bytes, a :class:`BuildConfig`, and optionally a ``config_hook(cfg)``."""

    name: str
    onnx_bytes: bytes
    config: BuildConfig = BuildConfig()
    config_hook: object = None

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise InputError(f"a build target needs a non-empty name, got {self.name!r}")
        if not isinstance(self.onnx_bytes, (bytes, bytearray)) or not self.onnx_bytes:
            raise InputError(f"target {self.name!r}: onnx_bytes must be the serialized ONNX model (bytes)")
        if not isinstance(self.config, BuildConfig):
            raise InputError(f"target {self.name!r}: config must be a BuildConfig, got {type(self.config).__name__}")
        if self.config_hook is not None and not callable(self.config_hook):
            raise InputError(f"target {self.name!r}: config_hook must be callable or None")


@dataclass(frozen=True)
class Built:
    name: str
    plan: bytes
    waited_s: float
    build_s: float


def build_serially(targets, *, timing_cache: bool | Path = True, lock: Path | None = None, logger=None) -> list[Built]:
    """Build ``targets`` (a list of :class:`Target`) one after another under the build lock.

    ``timing_cache``: True for the shared cache of this TensorRT version and device, a path for another
    file, False for none.
    """
    targets = list(targets)
    if not targets or not all(isinstance(t, Target) for t in targets):
        raise InputError("build_serially needs a non-empty list of Target(name, onnx_bytes, ...)")
    names = [t.name for t in targets]
    if len(set(names)) != len(names):
        raise InputError(f"target names must be unique, got {names}")
    if timing_cache is True:
        import tensorrt as trt

        from .cuda import device_key

        cache_file: Path | None = timing_cache_path(str(trt.__version__), device_key())
    elif timing_cache is False or timing_cache is None:
        cache_file = None
    else:
        cache_file = Path(timing_cache)
    done = []
    for t in targets:
        with build_lock(lock) as waited:
            start = time.perf_counter()
            plan = build_serialized(t.onnx_bytes, t.config, timing_cache=cache_file, logger=logger,
                                    config_hook=t.config_hook)
            done.append(Built(t.name, plan, waited, time.perf_counter() - start))
    return done
