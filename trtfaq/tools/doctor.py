"""``python -m trtfaq doctor``: is this machine ready for the book? (setup and instructor pages)

Each check prints one line, ``OK``, ``WARN`` or ``FAIL``, with a fix where there is one. The exit
code is 1 when any check fails. Without ``--require-gpu`` a machine with no GPU is a valid CPU
environment (warnings only); with it, as in ``make gpu-check``, it fails.
"""
from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass

from .. import env

MIN_CACHE_DISK_GIB = 1.0
MIN_FREE_GPU_MIB = 2048


@dataclass(frozen=True)
class Check:
    status: str   # "OK", "WARN" or "FAIL"
    item: str
    detail: str
    fix: str = ""

    def __str__(self) -> str:
        fix = f"  -> {self.fix}" if self.fix and self.status != "OK" else ""
        return f"{self.status:<4}  {self.item:<14} {self.detail}{fix}"


def checks(require_gpu: bool = False, disk_free_bytes: int | None = None) -> list[Check]:
    if not isinstance(require_gpu, bool):
        from ..errors import BookError

        raise BookError(f"require_gpu must be True or False, got {require_gpu!r}")
    e = env.detect()
    miss = "FAIL" if require_gpu else "WARN"
    out = []
    ok_py = sys.version_info >= (3, 10)
    out.append(Check("OK" if ok_py else "FAIL", "Python", sys.version.split()[0],
                     "install Python 3.10 or newer"))
    for pkg, why in (("numpy", "every chapter"), ("onnx", "the ONNX models"), ("matplotlib", "the figures"),
                     ("polygraphy", "comparisons")):
        found = importlib.util.find_spec(pkg) is not None
        out.append(Check("OK" if found else "FAIL", pkg, "installed" if found else f"missing ({why})",
                         "pip install -r requirements.txt"))
    if e.onnxruntime:
        out.append(Check("OK", "ONNX Runtime", f"{e.onnxruntime}, providers {', '.join(e.onnxruntime_providers)}"))
    else:
        out.append(Check("FAIL", "ONNX Runtime", "missing (the reference for every chapter)",
                         "pip install -r requirements.txt"))
    if e.gpus:
        for g in e.gpus:
            low = g.memory_free_mib < MIN_FREE_GPU_MIB
            out.append(Check("WARN" if low else "OK", f"GPU {g.index}",
                             f"{g.name}, compute capability {g.compute_capability}, "
                             f"{g.memory_free_mib} of {g.memory_total_mib} MiB free",
                             "close other GPU programs (nvidia-smi lists them)"))
        out.append(Check("OK", "driver", e.driver or "unknown"))
    else:
        out.append(Check(miss, "GPU", "none found: the chapters run their CPU parts and skip TensorRT cells",
                         "use a machine or Colab runtime with an NVIDIA GPU"))
    if e.cuda_runtime:
        out.append(Check("OK", "cuda-python", f"CUDA runtime {e.cuda_runtime}"))
    else:
        out.append(Check("FAIL" if (require_gpu or e.gpus) else "WARN", "cuda-python",
                         "missing: device buffers and CUDA-event timing need it",
                         "pip install -r requirements-gpu-cu12.txt (or -cu13)"))
    if e.tensorrt:
        major = int(e.tensorrt.version.split(".")[0])
        supported = major in (10, 11)
        out.append(Check("OK" if supported else "FAIL", "TensorRT",
                         f"{e.tensorrt.version}, library {e.tensorrt.library or 'not yet loaded'}",
                         "the book supports TensorRT 10.x and 11.x"))
    elif e.tensorrt_problem and e.tensorrt_problem != "not installed":
        out.append(Check("FAIL", "TensorRT", e.tensorrt_problem,
                         "reinstall: pip install --force-reinstall tensorrt-cu12 (or -cu13), "
                         "and check LD_LIBRARY_PATH"))
    else:
        out.append(Check(miss, "TensorRT", "not installed: TensorRT cells print one line and are skipped",
                         "pip install -r requirements-gpu-cu12.txt (or -cu13)"))
    out.extend(cache_checks(disk_free_bytes))
    return out


def cache_checks(disk_free_bytes: int | None = None) -> list[Check]:
    """The book's cache (``TRTFAQ_CACHE`` or ``~/.cache/trtfaq``): a usable absolute folder outside
    the book, writable, with disk space."""
    import os
    from pathlib import Path

    from ..cache import root
    from ..errors import CacheError

    if disk_free_bytes is not None and (isinstance(disk_free_bytes, bool) or not isinstance(disk_free_bytes, int)
                                        or disk_free_bytes < 0):
        from ..errors import BookError

        raise BookError(f"disk_free_bytes must be a whole number >= 0 or None, got {disk_free_bytes!r}")
    fix = "set TRTFAQ_CACHE to an absolute folder outside the book, e.g. $HOME/.cache/trtfaq, or unset it"
    out = []
    raw = os.environ.get("TRTFAQ_CACHE")
    if raw is not None and not raw.strip():
        out.append(Check("WARN", "TRTFAQ_CACHE", "set but empty: the default ~/.cache/trtfaq is used", fix))
    try:
        cache = root()
    except CacheError as exc:
        return out + [Check("FAIL", "engine cache", str(exc), fix)]
    book = Path(__file__).resolve().parents[2]
    for folder in {book, Path.cwd().resolve()}:
        if (folder / "_toc.yml").exists() and cache.resolve().is_relative_to(folder):
            return out + [Check("FAIL", "engine cache", f"{cache} is inside the book's folder: engines and libraries "
                                "would land among its files", fix)]
    if cache.exists() and not cache.is_dir():
        return out + [Check("FAIL", "engine cache", f"{cache} exists but is not a folder", fix)]
    probe = cache if cache.exists() else next((p for p in cache.parents if p.exists()), Path(cache.anchor))
    if not os.access(probe, os.W_OK | os.X_OK):
        return out + [Check("FAIL", "engine cache", f"{cache} is not writable (checked {probe})", fix)]
    free = disk_free_bytes if disk_free_bytes is not None else shutil.disk_usage(probe).free
    gib = free / 2**30
    out.append(Check("OK" if gib >= MIN_CACHE_DISK_GIB else ("WARN" if gib >= 0.2 else "FAIL"), "engine cache",
                     f"{cache} ({gib:.1f} GiB free)", "free disk space or set TRTFAQ_CACHE to a larger disk"))
    return out


def main(require_gpu: bool = False, prefetch: bool = False) -> int:
    if prefetch:  # workshops: fill the cache while there is network (chapter 5's runtime libraries)
        from ..chapters.versions import prefetch as fetch_libraries
        from ..errors import BookError

        try:
            for path in fetch_libraries():
                print(f"OK    prefetched: {path.name} ({path.parent.parent.name})")
        except BookError as exc:
            print(f"FAIL  prefetch: {exc}")
            return 1
    results = checks(require_gpu)
    for c in results:
        print(c)
    failed = [c for c in results if c.status == "FAIL"]
    warned = [c for c in results if c.status == "WARN"]
    if failed:
        print(f"{len(failed)} check(s) failed: fix them before running the chapters.")
        return 1
    print("Ready" + (f", with {len(warned)} warning(s): see above." if warned else "."))
    return 0
