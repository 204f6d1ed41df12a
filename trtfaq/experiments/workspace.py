"""Chapter 3's GPU evidence: cuBLAS with and without scratch memory (cuBLAS through PyTorch and
cuBLASLt through ctypes on a CUDA GPU; not TensorRT).

``cublas_workspace`` (``python -m trtfaq record ch03-cublas-workspace``) runs three child processes,
because PyTorch reads its cuBLAS workspace size from the environment and must see it before it
creates its first cuBLAS handle:

- ``torch`` twice: FP16 ``torch.mm`` on split-K-prone shapes (few outputs, long K) and a square
  control, once with PyTorch's default cuBLAS workspace and once with ``CUBLAS_WORKSPACE_CONFIG=:0:0``
  and ``CUBLASLT_WORKSPACE_SIZE=0`` (PyTorch's ``CublasHandlePool.cpp`` reads both). Per shape: the
  kernels (torch.profiler), the time (CUDA graph of several launches per sample) and the error against
  float64. Also the bytes the first matmul allocated beyond its output: PyTorch's workspace, so the run
  shows whether the setting reached PyTorch. Whether cuBLAS then chose other kernels is what the
  recorded kernel names show: the chapter presents the knob as an analog only where they changed.
- ``cublaslt`` once: the same shapes through cuBLASLt directly. Its heuristic
  (``cublasLtMatmulAlgoGetHeuristic``) is asked for candidates at several workspace limits, and every
  candidate is run, checked and timed with exactly the workspace it declares it needs: each kernel's
  time against its workspace, the tactic filter TensorRT's builder applies with its WORKSPACE pool.

A child that fails records its error; the others still save. Runs in well under two minutes on an H100.
"""
from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import results
from .common import ceilings, kernel_names, libraries, log, time_amortized

CHAPTER = "notebooks/03-workspace"
SHAPES: list[dict] = [  # (name, M, N, K): C (MxN) = A (MxK) B (KxN), FP16, row-major
    {"name": "tiny MN", "m": 64, "n": 64, "k": 262144},
    {"name": "small MN", "m": 256, "n": 256, "k": 65536},
    {"name": "skinny", "m": 128, "n": 1024, "k": 32768},
    {"name": "square", "m": 4096, "n": 4096, "k": 4096},
]
ZERO = {"CUBLAS_WORKSPACE_CONFIG": ":0:0", "CUBLASLT_WORKSPACE_SIZE": "0"}
ENV_KEYS = ("CUBLAS_WORKSPACE_CONFIG", "CUBLASLT_WORKSPACE_SIZE", "TORCH_CUBLASLT_UNIFIED_WORKSPACE")
LIMITS = (0, 1 << 20, 4 << 20, 32 << 20, 256 << 20)   # workspace limits the cuBLASLt heuristic is asked at
PER_LIMIT = 8                                          # candidates asked for at each limit
MAX_CANDIDATES = 16                                    # per shape, in the order the heuristic offered them


def _operands(torch, s, gen):
    a = torch.randn(s["m"], s["k"], device="cuda", dtype=torch.float16, generator=gen)
    b = torch.randn(s["k"], s["n"], device="cuda", dtype=torch.float16, generator=gen) / s["k"] ** 0.5
    return a, b, a.double() @ b.double()


def _rel(torch, c, ref) -> float:
    return float((c.double() - ref).norm() / ref.norm())


# ----- child: PyTorch's matmul ---------------------------------------------------------------------

def _torch_child() -> dict:
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    gen = torch.Generator(device="cuda").manual_seed(0)
    out: dict = {"env": {k: os.environ.get(k) for k in ENV_KEYS},
           "preferred_blas_library": str(torch.backends.cuda.preferred_blas_library()), "cases": []}
    for i, s in enumerate(SHAPES):
        a, b, ref = _operands(torch, s, gen)
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
        c = torch.mm(a, b)
        torch.cuda.synchronize()
        if i == 0:  # the first cuBLAS call of the process allocates PyTorch's workspace for this stream
            out["first_call_extra_bytes"] = int(torch.cuda.memory_allocated() - before - c.numel() * c.element_size())
        rel = _rel(torch, c, ref)
        if not rel < 1e-2:
            raise RuntimeError(f"{s['name']}: relative error {rel:.2e} against float64")
        kernels = kernel_names(lambda: torch.mm(a, b))
        samples, launches, method = time_amortized(lambda: torch.mm(a, b))
        out["cases"].append({"shape": s["name"], "kernels": kernels, "samples_ms": samples, "launches": launches,
                             "method": method, "rel_error": rel})
        log(f"  torch {s['name']}: {1000 * sorted(samples)[len(samples) // 2]:.1f} us, {kernels[:1]}")
    return out


# ----- child: cuBLASLt through ctypes ----------------------------------------------------------------
# Declarations from cublasLt.h (CUDA 12/13): opaque handles are pointers; the enum values used are
# CUBLAS_COMPUTE_32F = 68, CUDA_R_32F = 0, CUDA_R_16F = 2, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES = 1
# (a uint64_t), CUBLASLT_ALGO_CONFIG_ID/TILE_ID/SPLITK_NUM/REDUCTION_SCHEME = 0/1/2/3. No descriptor
# attribute is set: the default (no transpose) fits row-major PyTorch tensors read as column-major
# transposes, D^T (NxM) = B^T (NxK) A^T (KxM).
_COMPUTE_32F, _R_32F, _R_16F, _PREF_MAX_WS = 68, 0, 2, 1
_CONFIG = {"id": 0, "tile": 1, "splitk": 2, "reduction": 3}


class _Algo(ctypes.Structure):
    _fields_ = [("data", ctypes.c_uint64 * 8)]


class _Heuristic(ctypes.Structure):
    _fields_ = [("algo", _Algo), ("workspaceSize", ctypes.c_size_t), ("state", ctypes.c_int),
                ("wavesCount", ctypes.c_float), ("reserved", ctypes.c_int * 4)]


class _Lt:
    """The few cuBLASLt calls the recorder makes, every status checked."""

    def __init__(self):
        import torch

        from ..env import loaded_libraries

        x = torch.ones(16, 16, device="cuda", dtype=torch.float16)
        torch.mm(x, x)
        torch.cuda.synchronize()                 # PyTorch has loaded cuBLAS(Lt) into the process now
        paths = loaded_libraries("libcublasLt.so")
        self.lib = ctypes.CDLL(paths[0] if paths else "libcublasLt.so")
        vp, size_t = ctypes.c_void_p, ctypes.c_size_t
        sig = {"cublasLtCreate": [ctypes.POINTER(vp)], "cublasLtDestroy": [vp],
               "cublasLtMatmulDescCreate": [ctypes.POINTER(vp), ctypes.c_int, ctypes.c_int],
               "cublasLtMatmulDescDestroy": [vp],
               "cublasLtMatrixLayoutCreate": [ctypes.POINTER(vp), ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64,
                                              ctypes.c_int64],
               "cublasLtMatrixLayoutDestroy": [vp],
               "cublasLtMatmulPreferenceCreate": [ctypes.POINTER(vp)], "cublasLtMatmulPreferenceDestroy": [vp],
               "cublasLtMatmulPreferenceSetAttribute": [vp, ctypes.c_int, vp, size_t],
               "cublasLtMatmulAlgoGetHeuristic": [vp, vp, vp, vp, vp, vp, vp, ctypes.c_int,
                                                  ctypes.POINTER(_Heuristic), ctypes.POINTER(ctypes.c_int)],
               "cublasLtMatmul": [vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp, ctypes.POINTER(_Algo), vp, size_t,
                                  vp],
               "cublasLtMatmulAlgoConfigGetAttribute": [ctypes.POINTER(_Algo), ctypes.c_int, vp, size_t,
                                                        ctypes.POINTER(size_t)]}
        for name, args in sig.items():
            fn = getattr(self.lib, name)
            fn.argtypes, fn.restype = args, ctypes.c_int
        self.library = paths[0] if paths else "libcublasLt.so"
        self.handle = vp()
        self.check(self.lib.cublasLtCreate(ctypes.byref(self.handle)), "cublasLtCreate")

    @staticmethod
    def check(status: int, what: str) -> None:
        if status != 0:
            raise RuntimeError(f"{what} returned cuBLAS status {status}")

    def problem(self, m: int, n: int, k: int):
        """Descriptors of D^T (n x m) = B^T (n x k) A^T (k x m) in FP16 with FP32 compute."""
        vp = ctypes.c_void_p
        desc = vp()
        self.check(self.lib.cublasLtMatmulDescCreate(ctypes.byref(desc), _COMPUTE_32F, _R_32F), "MatmulDescCreate")
        layouts = []
        for rows, cols in ((n, k), (k, m), (n, m), (n, m)):  # "A" = B^T, "B" = A^T, C, D
            lay = vp()
            self.check(self.lib.cublasLtMatrixLayoutCreate(ctypes.byref(lay), _R_16F, rows, cols, rows),
                       "MatrixLayoutCreate")
            layouts.append(lay)
        return desc, layouts

    def heuristic(self, desc, layouts, limit: int, count: int) -> list[_Heuristic]:
        pref = ctypes.c_void_p()
        self.check(self.lib.cublasLtMatmulPreferenceCreate(ctypes.byref(pref)), "MatmulPreferenceCreate")
        value = ctypes.c_uint64(limit)
        self.check(self.lib.cublasLtMatmulPreferenceSetAttribute(pref, _PREF_MAX_WS, ctypes.byref(value), 8),
                   "MatmulPreferenceSetAttribute")
        found = (_Heuristic * count)()
        returned = ctypes.c_int(0)
        status = self.lib.cublasLtMatmulAlgoGetHeuristic(self.handle, desc, *layouts, pref, count, found,
                                                         ctypes.byref(returned))
        self.lib.cublasLtMatmulPreferenceDestroy(pref)
        self.check(status, "MatmulAlgoGetHeuristic")
        return [found[i] for i in range(returned.value) if found[i].state == 0]

    def config(self, algo: _Algo) -> dict:
        out = {}
        for key, attr in _CONFIG.items():
            buf, written = ctypes.c_uint32(0), ctypes.c_size_t(0)
            status = self.lib.cublasLtMatmulAlgoConfigGetAttribute(ctypes.byref(algo), attr, ctypes.byref(buf), 4,
                                                                   ctypes.byref(written))
            out[key] = int(buf.value) if status == 0 and written.value == 4 else None
        return out

    def matmul(self, desc, layouts, algo: _Algo, a, b, d, workspace, ws_bytes: int, stream: int) -> None:
        alpha, beta = ctypes.c_float(1.0), ctypes.c_float(0.0)
        vp = ctypes.c_void_p
        status = self.lib.cublasLtMatmul(self.handle, desc, ctypes.byref(alpha), vp(b.data_ptr()), layouts[0],
                                         vp(a.data_ptr()), layouts[1], ctypes.byref(beta), vp(d.data_ptr()), layouts[2],
                                         vp(d.data_ptr()), layouts[3], ctypes.byref(algo),
                                         vp(workspace.data_ptr() if ws_bytes else 0), ws_bytes, vp(stream))
        self.check(status, "cublasLtMatmul")

    def release(self, desc, layouts) -> None:
        for lay in layouts:
            self.lib.cublasLtMatrixLayoutDestroy(lay)
        self.lib.cublasLtMatmulDescDestroy(desc)


def _cublaslt_child() -> dict:
    import torch

    lt = _Lt()
    gen = torch.Generator(device="cuda").manual_seed(0)
    out: dict = {"library": Path(lt.library).name, "limits": list(LIMITS), "cases": []}
    for s in SHAPES:
        a, b, ref = _operands(torch, s, gen)
        desc, layouts = lt.problem(s["m"], s["n"], s["k"])
        picks: dict[str, list[str]] = {}
        unique: dict[str, _Heuristic] = {}
        for limit in LIMITS:
            found = lt.heuristic(desc, layouts, limit, PER_LIMIT)
            picks[str(limit)] = [bytes(h.algo.data).hex() for h in found]  # the heuristic's order: its pick first
            for h in found:
                if len(unique) < MAX_CANDIDATES or bytes(h.algo.data).hex() in unique:
                    unique.setdefault(bytes(h.algo.data).hex(), h)
        top = max([h.workspaceSize for h in unique.values()] + [1])
        workspace = torch.empty(int(top), dtype=torch.uint8, device="cuda")
        algos: list[dict] = []
        rejected: list[dict] = []
        for index, (key, h) in enumerate(unique.items()):
            d = torch.full((s["m"], s["n"]), float("nan"), device="cuda", dtype=torch.float16)   # poisoned
            ws = int(h.workspaceSize)
            algo = h.algo

            def run(algo=algo, d=d, ws=ws):
                lt.matmul(desc, layouts, algo, a, b, d, workspace, ws, torch.cuda.current_stream().cuda_stream)

            run()
            torch.cuda.synchronize()
            rel = _rel(torch, d, ref)
            if not rel < 1e-2:   # a wrong result is not a candidate (TensorRT checks its tactics too)
                rejected.append({"index": index, "workspace_bytes": ws, "rel_error": rel})
                log(f"  cuBLASLt {s['name']} candidate {index}: relative error {rel:.2e}, left out")
                continue
            samples, launches, method = time_amortized(run)
            algos.append({"index": index, "key": key, "workspace_bytes": ws, "config": lt.config(algo),
                          "waves": float(h.wavesCount), "kernels": kernel_names(run), "samples_ms": samples,
                          "launches": launches, "method": method, "rel_error": rel})
        keys = list(unique)
        out["cases"].append({"shape": s["name"], "algos": algos, "rejected": rejected,
                             "heuristic": {limit: [keys.index(k) for k in ks if k in unique]
                                           for limit, ks in picks.items()}})
        log(f"  cuBLASLt {s['name']}: {len(algos)} candidates, workspace "
            f"{sorted({int(x['workspace_bytes']) for x in algos})}")
        lt.release(desc, layouts)
    return out


# ----- the recorder -------------------------------------------------------------------------------

def _child(mode: str, extra_env: dict) -> dict:
    """Run one child process; its result, or ``{"error": ...}`` if it failed."""
    with tempfile.TemporaryDirectory(prefix="trtfaq-ch03-") as tmp:
        path = Path(tmp) / "out.json"
        env = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}
        env.update(extra_env)
        proc = subprocess.run([sys.executable, "-m", "trtfaq.experiments.workspace", mode, str(path)], env=env,
                              stdout=subprocess.DEVNULL, timeout=300)
        if proc.returncode != 0 or not path.exists():
            return {"error": f"child '{mode}' exited with {proc.returncode} (its stderr is above)"}
        return json.loads(path.read_text())


def cublas_workspace(out):
    log("ch03: PyTorch matmul with the default cuBLAS workspace")
    default = _child("torch", {})
    log("ch03: PyTorch matmul with CUBLAS_WORKSPACE_CONFIG=:0:0, CUBLASLT_WORKSPACE_SIZE=0")
    zero = _child("torch", ZERO)
    log("ch03: cuBLASLt candidates at several workspace limits")
    lt = _child("cublaslt", {})
    failed = [name for name, part in (("default", default), ("zero", zero)) if "error" in part]
    if failed:
        why = default.get("error") or zero.get("error")
        raise RuntimeError(f"the PyTorch part failed ({', '.join(failed)}): {why}")
    log("ch03: measured ceilings")
    data = {"shapes": SHAPES, "dtype": "float16", "accumulate": "float32",
            "torch": {"default": default, "zero": zero}, "cublaslt": lt, "ceilings": ceilings(),
            "settings": {"zero": ZERO, "timer": "CUDA graph of several launches per sample (common.time_amortized)",
                         "heuristic_limits_bytes": list(LIMITS), "candidates_per_limit": PER_LIMIT,
                         "max_candidates": MAX_CANDIDATES}}
    prov = results.provenance("python -m trtfaq record ch03-cublas-workspace", libraries())
    return results.save(out, "ch03-cublas-workspace", CHAPTER,
                        "cuBLAS GEMMs with and without workspace; cuBLASLt candidates against the workspace they need",
                        "measured with cuBLAS and cuBLASLt (PyTorch, ctypes) on the GPU, not TensorRT", prov, data)


def _main(argv: list[str]) -> int:
    mode, path = argv
    result = {"torch": _torch_child, "cublaslt": _cublaslt_child}[mode]()
    Path(path).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
