"""Chapter 9's GPU evidence (PyTorch on a CUDA GPU; not TensorRT). One recorder, ``formats``:

- FP8 E4M3 GEMM with ``torch._scaled_mm`` (one scale per tensor, and one per row/column) against BF16
  ``torch.matmul``, square sizes 1024 to 8192: time, TFLOP/s, and the relative error of each result
  against a float64 product of the same unquantized float32 inputs.
- FP4: ``torch._scaled_mm`` on ``float4_e2m1fn_x2`` operands with NVFP4 (FP8 scales per 16) and MXFP4
  (E8M0 scales per 32) block scales; on Hopper the library refuses, and its own message is recorded.
- INT4 weight-only: ``torch._weight_int4pack_mm`` (PyTorch's tinygemm kernel; BF16 activations, INT4
  weights in groups of 128 with BF16 scales, zero points set to 0 so the quantization is symmetric as
  in TensorRT) against BF16 ``torch.matmul`` on the dequantized weight, for a 8192 x 8192 layer and
  batch sizes M = 1 to 4096.
- The measured ceilings (copy bandwidth, FP16 GEMM) and, per operation, the CUDA kernel names the
  profiler saw, so every kernel is labelled by its library.

Every call that can fail on some GPU or PyTorch version is recorded with its error instead of aborting.
"""
from __future__ import annotations

from .. import results, timing
from .common import ceilings, libraries, log, stream

CHAPTER = "notebooks/09-quantization"
FP8_SIZES = (1024, 2048, 4096, 8192)
INT4_N = INT4_K = 8192
INT4_GROUP = 128
INT4_INNER_K_TILES = 8
INT4_M = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:400] if text else ''}"


def _kernels(torch, fn) -> list[str]:
    """Names of the CUDA kernels one call of ``fn`` launches (torch.profiler); [] if profiling fails."""
    try:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        names = []
        for e in prof.key_averages():
            t = getattr(e, "device_time_total", None)
            if t is None:
                t = getattr(e, "cuda_time_total", 0)
            if t and t > 0 and not e.key.startswith(("Memcpy", "Memset")):
                names.append(e.key[:200])
        return names
    except Exception as exc:  # recorded as empty: the timings do not depend on it
        log(f"  profiler failed: {_first_line(exc)}")
        return []


def _launches(seconds_guess: float) -> int:
    """Calls per event pair so that one sample covers about 0.5 ms (never fewer than 1, at most 20)."""
    return max(1, min(20, int(5e-4 / max(seconds_guess, 1e-7))))


def _time(torch, fn, seconds_guess: float, repeats: int = 30) -> dict:
    """Raw CUDA-event samples of ``fn``; ``seconds_guess`` (a rough time per call) sets how many calls
    share one event pair, so that microsecond kernels are not timed one launch at a time."""
    launches = _launches(seconds_guess)
    samples = timing.time_cuda(fn, stream(), warmup=5, repeats=repeats, launches=launches)
    return {"samples_ms": samples.tolist(), "launches_per_sample": launches}


def _rel(torch, got, ref) -> float:
    return float((got.double() - ref).norm() / ref.norm())


def _fp8(torch) -> dict:
    dev = "cuda"
    f8 = torch.float8_e4m3fn
    top = torch.finfo(f8).max
    runs = []
    for n in FP8_SIZES:
        log(f"fp8: {n}^3")
        gen = torch.Generator(device=dev).manual_seed(n)
        a = torch.randn(n, n, device=dev, generator=gen)
        b = torch.randn(n, n, device=dev, generator=gen)       # [N, K]: the product is a @ b.T
        ref = a.double() @ b.double().t()
        row: dict = {"m": n, "n": n, "k": n}
        a16, b16 = a.bfloat16(), b.bfloat16()
        fn16 = lambda a16=a16, b16=b16: torch.matmul(a16, b16.t())  # noqa: E731
        row["bf16"] = {"kernel": "torch.matmul, BF16 (cuBLAS)", "rel_error": _rel(torch, fn16(), ref),
                       "kernels": _kernels(torch, fn16), **_time(torch, fn16, 2 * n ** 3 / 6e14)}
        sa, sb = (a.abs().max() / top).float(), (b.abs().max() / top).float()
        a8, b8 = (a / sa).to(f8), (b / sb).to(f8)
        try:
            fn8 = lambda a8=a8, b8=b8, sa=sa, sb=sb: torch._scaled_mm(a8, b8.t(), scale_a=sa, scale_b=sb,  # noqa: E731
                                                                      out_dtype=torch.bfloat16)
            row["fp8_tensorwise"] = {"kernel": "torch._scaled_mm, FP8 E4M3, one scale per tensor",
                                     "rel_error": _rel(torch, fn8(), ref), "kernels": _kernels(torch, fn8),
                                     **_time(torch, fn8, 2 * n ** 3 / 1.2e15)}
        except Exception as exc:
            row["fp8_tensorwise"] = {"kernel": "torch._scaled_mm, FP8 E4M3, one scale per tensor",
                                     "error": _first_line(exc)}
        ra = (a.abs().amax(dim=1, keepdim=True) / top).float()          # [M, 1]
        rb = (b.abs().amax(dim=1, keepdim=True) / top).float()          # [N, 1] -> [1, N] for mat2
        try:
            a8r, b8r = (a / ra).to(f8), (b / rb).to(f8)
            fnr = lambda a8r=a8r, b8r=b8r, ra=ra, rb=rb: torch._scaled_mm(  # noqa: E731
                a8r, b8r.t(), scale_a=ra, scale_b=rb.t().contiguous(), out_dtype=torch.bfloat16)
            row["fp8_rowwise"] = {"kernel": "torch._scaled_mm, FP8 E4M3, one scale per row and column",
                                  "rel_error": _rel(torch, fnr(), ref), "kernels": _kernels(torch, fnr),
                                  **_time(torch, fnr, 2 * n ** 3 / 1.2e15)}
        except Exception as exc:
            row["fp8_rowwise"] = {"kernel": "torch._scaled_mm, FP8 E4M3, one scale per row and column",
                                  "error": _first_line(exc)}
        runs.append(row)
        del ref
        torch.cuda.empty_cache()
    return {"runs": runs, "settings": {"inputs": "float32 standard normal, quantized with scale = amax / 448",
                                       "reference": "float64 product of the float32 inputs",
                                       "use_fast_accum": False, "out_dtype": "bfloat16"}}


def _fp4(torch) -> dict:
    dev = "cuda"
    attempts = []
    m = n = k = 256
    fp4 = getattr(torch, "float4_e2m1fn_x2", None)
    if fp4 is None:
        return {"attempts": [{"what": "torch.float4_e2m1fn_x2", "ok": False,
                              "message": "this PyTorch has no float4_e2m1fn_x2 dtype"}]}
    gen = torch.Generator(device=dev).manual_seed(4)
    a = torch.randint(0, 256, (m, k // 2), dtype=torch.uint8, device=dev, generator=gen).view(fp4)
    b = torch.randint(0, 256, (n, k // 2), dtype=torch.uint8, device=dev, generator=gen).view(fp4)
    cases = [("NVFP4: torch._scaled_mm, FP4 E2M1 operands, FP8 E4M3 scales per 16 values", 16, torch.float8_e4m3fn),
             ("MXFP4: torch._scaled_mm, FP4 E2M1 operands, E8M0 scales per 32 values", 32,
              getattr(torch, "float8_e8m0fnu", None))]
    for what, block, scale_dtype in cases:
        log(f"fp4: {what.split(':')[0]}")
        if scale_dtype is None:
            attempts.append({"what": what, "ok": False, "message": "this PyTorch has no float8_e8m0fnu dtype"})
            continue
        try:
            sa = torch.ones(m * k // block, device=dev).to(scale_dtype)
            sb = torch.ones(n * k // block, device=dev).to(scale_dtype)
            torch._scaled_mm(a, b.t(), scale_a=sa, scale_b=sb, out_dtype=torch.bfloat16)
            torch.cuda.synchronize()
            attempts.append({"what": what, "ok": True, "message": ""})
        except Exception as exc:
            attempts.append({"what": what, "ok": False, "message": _first_line(exc)})
    return {"attempts": attempts, "shape": [m, n, k]}


def _pack_int4(torch, q, high_even: bool):
    """Signed codes q [N, K] in [-8, 7] -> uint8 [N, K/2] with two unsigned codes (q + 8) per byte."""
    u = (q + 8).to(torch.int32)
    hi, lo = (u[:, ::2], u[:, 1::2]) if high_even else (u[:, 1::2], u[:, ::2])
    return ((hi << 4) | lo).to(torch.uint8)


def _int4(torch) -> dict:
    dev = "cuda"
    n, k, g = INT4_N, INT4_K, INT4_GROUP
    gen = torch.Generator(device=dev).manual_seed(9)
    w = torch.randn(n, k, device=dev, generator=gen) / k ** 0.5              # [out, in]
    groups = w.view(n, k // g, g)
    scale = (groups.abs().amax(dim=2) / 7).bfloat16()                      # [N, K/G]
    q = torch.clamp(torch.round(groups / scale.float()[..., None]), -8, 7)  # symmetric, zero point 0
    deq = (q * scale.float()[..., None]).view(n, k).bfloat16()               # what the INT4 kernel multiplies
    q = q.view(n, k)
    # tinygemm's scales-and-zeros: [K/G, N, 2], value = (code - 8) * scale + zero; zero = 0 -> symmetric
    sz = torch.stack([scale.t(), torch.zeros_like(scale.t())], dim=2).contiguous()
    x = torch.randn(64, k, device=dev, generator=gen).bfloat16()
    want = torch.matmul(x, deq.t())
    packed, layout = None, None
    checks: list[dict] = []
    for high_even in (True, False):
        try:
            candidate = torch._convert_weight_to_int4pack(_pack_int4(torch, q, high_even), INT4_INNER_K_TILES)
            got = torch._weight_int4pack_mm(x, candidate, g, sz)
            err = _rel(torch, got, want.double())
            checks.append({"high_nibble_even_k": high_even, "rel_error": err})
            if err < 2e-2:
                packed, layout = candidate, high_even
                break
        except Exception as exc:
            checks.append({"high_nibble_even_k": high_even, "error": _first_line(exc)})
    out: dict = {"n": n, "k": k, "group_size": g, "inner_k_tiles": INT4_INNER_K_TILES, "packing_checks": checks,
           "bf16_kernel": "torch.matmul, BF16 (cuBLAS)",
           "int4_kernel": "torch._weight_int4pack_mm (PyTorch tinygemm), BF16 activations, INT4 weights",
           "bf16_weight_bytes": n * k * 2, "int4_weight_bytes": n * k // 2 + sz.numel() * 2,
           "int4_vs_dequantized_rel_error": checks[-1].get("rel_error", float("nan")) if checks else float("nan"),
           "weight_quantization_rel_error": float((deq.double() - w.double()).norm() / w.double().norm()),
           "runs": []}
    if packed is None:
        out["error"] = "no packing layout reproduced the BF16 product of the dequantized weight"
        log(f"int4: {out['error']}: {checks}")
        return out
    out["high_nibble_even_k"] = layout
    weight_t = deq.t()
    for m in INT4_M:
        log(f"int4: M = {m}")
        xm = torch.randn(m, k, device=dev, generator=gen).bfloat16()
        f16 = lambda xm=xm: torch.matmul(xm, weight_t)  # noqa: E731
        f4 = lambda xm=xm: torch._weight_int4pack_mm(xm, packed, g, sz)  # noqa: E731
        row: dict = {"m": m, "bf16": _time(torch, f16, max(n * k * 2 / 2.5e12, 2 * m * n * k / 6e14)),
               "int4": _time(torch, f4, max(n * k / 2 / 2.5e12, 2 * m * n * k / 1.5e14))}
        if m in (1, 4096):
            row["bf16"]["kernels"], row["int4"]["kernels"] = _kernels(torch, f16), _kernels(torch, f4)
        out["runs"].append(row)
    return out


def formats(out):
    import torch

    log("ceilings")
    data = {"ceilings": ceilings(), "compute_capability": list(torch.cuda.get_device_capability())}
    data["fp8"] = _fp8(torch)
    data["fp4"] = _fp4(torch)
    data["int4"] = _int4(torch)
    prov = results.provenance("python -m trtfaq record ch09-formats", libraries())
    return results.save(out, "ch09-formats", CHAPTER,
                        "FP8 and INT4 weight-only matrix products against BF16, and FP4 on this GPU",
                        "measured with PyTorch (cuBLAS, cuBLASLt/CUTLASS via torch._scaled_mm, tinygemm) on the "
                        "GPU, not TensorRT", prov, data)
