"""Environment detection: GPU, driver, CUDA, TensorRT, ONNX Runtime (introduced in every chapter's
environment cell).

Nothing here runs at import time, nothing raises, and nothing prints a traceback: each probe returns
``None`` (or an empty list) when the thing it looks for is missing. Results are cached per process.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import shutil
import subprocess
from dataclasses import dataclass, field


@dataclass(frozen=True)
class GPU:
    index: int
    name: str
    compute_capability: str
    memory_total_mib: int
    memory_free_mib: int


@dataclass(frozen=True)
class TensorRTInfo:
    version: str
    library: str | None  # the libnvinfer file this process really loaded


@dataclass(frozen=True)
class Environment:
    gpus: list[GPU] = field(default_factory=list)
    driver: str | None = None
    cuda_runtime: str | None = None
    tensorrt: TensorRTInfo | None = None
    tensorrt_problem: str | None = None
    onnxruntime: str | None = None
    onnxruntime_providers: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        out = []
        if self.gpus:
            for g in self.gpus:
                out.append(f"GPU {g.index}: {g.name} (compute capability {g.compute_capability}, "
                           f"{g.memory_total_mib} MiB)")
        else:
            out.append("GPU: none found")
        out.append(f"NVIDIA driver: {self.driver or 'not found'}")
        out.append(f"CUDA runtime (cuda-python): {self.cuda_runtime or 'not found'}")
        if self.tensorrt:
            out.append(f"TensorRT: {self.tensorrt.version} ({self.tensorrt.library or 'library file unknown'})")
        else:
            out.append(f"TensorRT: not available ({self.tensorrt_problem or 'not installed'})")
        if self.onnxruntime:
            out.append(f"ONNX Runtime: {self.onnxruntime} ({', '.join(self.onnxruntime_providers)})")
        else:
            out.append("ONNX Runtime: not installed")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _run(cmd: list[str], timeout: float = 10.0) -> str | None:
    if shutil.which(cmd[0]) is None:
        return None
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout if res.returncode == 0 else None


def _int(text: str) -> int:
    try:
        return int(float(text))
    except ValueError:
        return 0


@functools.lru_cache(maxsize=1)
def gpus() -> tuple[list[GPU], str | None]:
    """The GPUs ``nvidia-smi`` sees and the driver version, or ``([], None)``."""
    out = _run(["nvidia-smi", "--query-gpu=index,name,compute_cap,memory.total,memory.free,driver_version",
                "--format=csv,noheader,nounits"])
    if not out:
        return [], None
    found, driver = [], None
    for line in out.strip().splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 6:
            continue
        found.append(GPU(_int(parts[0]), parts[1], parts[2], _int(parts[3]), _int(parts[4])))
        driver = parts[5]
    return found, driver


def _cudart():
    """cuda-python's runtime module, new layout first (cuda-python >= 12.6), or ``None``."""
    for name in ("cuda.bindings.runtime", "cuda.cudart"):
        try:
            return importlib.import_module(name)
        except Exception:  # ImportError, or a broken install raising anything else
            continue
    return None


@functools.lru_cache(maxsize=1)
def cuda_runtime() -> str | None:
    """CUDA runtime version as ``"12.8"`` through cuda-python, or ``None``."""
    rt = _cudart()
    if rt is None:
        return None
    try:
        err, v = rt.cudaRuntimeGetVersion()
    except Exception:
        return None
    if int(err) != 0:
        return None
    return f"{v // 1000}.{v % 1000 // 10}"


def loaded_libraries(fragment: str, maps_path: str = "/proc/self/maps") -> list[str]:
    """Files mapped into this process whose path contains ``fragment`` (Linux; chapter 5)."""
    try:
        with open(maps_path, encoding="utf-8", errors="replace") as fh:
            paths = {line.split()[-1] for line in fh if fragment in line and "/" in line}
    except OSError:
        return []
    return sorted(paths)


@functools.lru_cache(maxsize=1)
def tensorrt() -> tuple[TensorRTInfo | None, str | None]:
    """``(info, None)`` when ``import tensorrt`` gives a usable module, else ``(None, why)``.

    Guards against two look-alikes: PyPI's ``tensorrt-stubs`` (an empty ``tensorrt`` package, no
    ``Builder``) and a bindings wheel whose native libraries are missing (import raises).
    """
    if importlib.util.find_spec("tensorrt") is None:
        return None, "not installed"
    try:
        trt = importlib.import_module("tensorrt")
    except Exception as exc:  # OSError for missing libnvinfer, ImportError, ...
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None, f"import failed: {first}"
    if not hasattr(trt, "Builder") or not hasattr(trt, "__version__"):
        return None, "a 'tensorrt' package without the TensorRT API (type stubs?)"
    libs = loaded_libraries("libnvinfer.so")
    return TensorRTInfo(str(trt.__version__), libs[0] if libs else None), None


@functools.lru_cache(maxsize=1)
def onnxruntime() -> tuple[str | None, list[str]]:
    try:
        ort = importlib.import_module("onnxruntime")
        return str(ort.__version__), list(ort.get_available_providers())
    except Exception:
        return None, []


def detect() -> Environment:
    """Probe everything; never raises."""
    found, driver = gpus()
    trt_info, trt_problem = tensorrt()
    ort_version, providers = onnxruntime()
    return Environment(gpus=found, driver=driver, cuda_runtime=cuda_runtime(), tensorrt=trt_info,
                       tensorrt_problem=trt_problem, onnxruntime=ort_version,
                       onnxruntime_providers=providers)


def has_tensorrt() -> bool:
    return tensorrt()[0] is not None


def has_gpu() -> bool:
    """A CUDA GPU this process can use: nvidia-smi sees one and cuda-python can reach it."""
    return bool(gpus()[0]) and cuda_runtime() is not None


def has_modelopt() -> bool:
    """NVIDIA ModelOpt is installed (chapter 6: AutoCast). Only looked up, not imported: importing
    ``modelopt.onnx`` pulls in PyTorch."""
    import importlib.util

    return importlib.util.find_spec("modelopt") is not None
