"""Every on-disk cache of the book in one place (chapter 1 onwards).

The root is ``$TRTFAQ_CACHE`` or ``~/.cache/trtfaq``, never inside the repository. Under it:
``engines/`` (plans keyed by model, TensorRT version, device and build config: a different key
rebuilds, never loads), ``timing/`` (one timing cache per TensorRT version and device) and ``libs/``
(downloaded runtime libraries, chapter 5). Files are written to a temporary name and renamed, so a
run killed half-way never leaves a truncated entry.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from .errors import CacheError


def root() -> Path:
    """The cache root: ``$TRTFAQ_CACHE`` (an absolute path) or ``~/.cache/trtfaq``."""
    value = os.environ.get("TRTFAQ_CACHE", "").strip()
    if not value:
        return Path.home() / ".cache" / "trtfaq"
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise CacheError(f"TRTFAQ_CACHE must be an absolute path, got {value!r}: set it to a folder "
                         "outside the book, e.g. $HOME/.cache/trtfaq")
    return path


def folder(name: str) -> Path:
    """A named folder under the cache root (``engines``, ``timing``, ``libs``, ...), not created."""
    return root() / name


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def slug(text: str) -> str:
    """``text`` with every character other than letters and digits replaced by ``-``."""
    return "".join(ch if ch.isalnum() else "-" for ch in text)


def engine_key(onnx_bytes: bytes, config: dict, trt_version: str, device: str) -> str:
    """sha256 over the model, the TensorRT version, the device (see :func:`trtfaq.cuda.device_key`)
    and the build config."""
    material = json.dumps({"model": hashlib.sha256(onnx_bytes).hexdigest(), "tensorrt": trt_version,
                           "device": device, "config": config}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def timing_cache_path(trt_version: str, device: str) -> Path:
    """The timing cache of one TensorRT version on one device."""
    return folder("timing") / f"{slug(f'{trt_version}-{device}')}.cache"


class EngineCache:
    """Plans on disk: ``<key>.plan`` beside ``<key>.json`` (what was built, and the plan's sha256)."""

    def __init__(self, where: Path | None = None):
        self.root = Path(where) if where is not None else folder("engines")

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.plan", self.root / f"{key}.json"

    def load(self, key: str) -> bytes | None:
        """The cached plan, ``None`` if there is none; :class:`CacheError` if it is corrupt."""
        plan_path, meta_path = self.paths(key)
        if not plan_path.exists() and not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text())
            plan = plan_path.read_bytes()
        except (OSError, ValueError) as exc:
            raise CacheError(f"engine cache entry {key} is unreadable ({type(exc).__name__}): delete "
                             f"{plan_path.name} and {meta_path.name}") from None
        if not isinstance(meta, dict) or meta.get("key") != key:
            raise CacheError(f"engine cache entry {key} belongs to another key: delete it")
        if hashlib.sha256(plan).hexdigest() != meta.get("plan_sha256"):
            raise CacheError(f"engine cache entry {key} is corrupt (sha256 mismatch): delete {plan_path.name}")
        return plan

    def store(self, key: str, plan: bytes, meta: dict) -> None:
        """Store a plan and its description; the plan is written first, so a half-written entry has
        no description and is rebuilt."""
        plan_path, meta_path = self.paths(key)
        write_atomic(plan_path, plan)
        write_atomic(meta_path, json.dumps({**meta, "key": key, "plan_sha256": hashlib.sha256(plan).hexdigest()},
                                           indent=1, sort_keys=True).encode())
