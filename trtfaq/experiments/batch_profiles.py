"""Chapter 1's GPU evidence (PyTorch + Triton on a CUDA GPU; not TensorRT).

- ``tactics``: a Triton GEMM with eight tile configurations, each timed at every batch size; the
  chapter picks a configuration by timing at one batch size (as TensorRT tunes kernels for a
  profile's ``opt`` shape) and compares it with the best configuration per size.
- ``batch_curve``: latency of the chapter's MLP (1024 -> 4096 -> 1024, FP16) per batch size with
  CUDA graphs, plus the measured copy-bandwidth and FP16 matrix ceilings.
"""
from __future__ import annotations

from .. import results, timing
from .common import ceilings, libraries, log
from .common import stream as current_stream

CHAPTER = "notebooks/01-batch-profiles"
SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
K, N_HIDDEN = 1024, 4096
LAUNCHES = 20  # kernel launches per timed CUDA-graph replay in ``tactics``
CONFIGS = [  # (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages)
    (16, 32, 128, 4, 4), (16, 64, 64, 4, 4), (32, 64, 64, 4, 4), (64, 64, 64, 4, 4),
    (64, 128, 64, 4, 4), (128, 64, 64, 4, 4), (128, 128, 64, 8, 3), (128, 256, 64, 8, 3),
]


def _matmul_kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def kernel(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
               BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_n = tl.program_id(1)
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, K, BLOCK_K):
            a = tl.load(a_ptr + rm[:, None] * sam + (k0 + rk)[None, :] * sak,
                        mask=(rm[:, None] < M) & ((k0 + rk)[None, :] < K), other=0.0)
            b = tl.load(b_ptr + (k0 + rk)[:, None] * sbk + rn[None, :] * sbn,
                        mask=((k0 + rk)[:, None] < K) & (rn[None, :] < N), other=0.0)
            acc += tl.dot(a, b)
        tl.store(c_ptr + rm[:, None] * scm + rn[None, :] * scn, acc.to(tl.float16),
                 mask=(rm[:, None] < M) & (rn[None, :] < N))

    return kernel


def tactics(out):
    import torch
    import triton

    kernel = _matmul_kernel()
    gen = torch.Generator(device="cuda").manual_seed(0)
    b = torch.randn(K, N_HIDDEN, device="cuda", dtype=torch.float16, generator=gen) / K ** 0.5
    runs, errors = [], {}
    for m in SIZES:
        a = torch.randn(m, K, device="cuda", dtype=torch.float16, generator=gen)
        ref = (a.double() @ b.double())
        for cfg in CONFIGS:
            bm, bn, bk, warps, stages = cfg
            c = torch.full((m, N_HIDDEN), float("nan"), device="cuda", dtype=torch.float16)  # poisoned
            grid = (triton.cdiv(m, bm), triton.cdiv(N_HIDDEN, bn))

            def launch():
                kernel[grid](a, b, c, m, N_HIDDEN, K, a.stride(0), a.stride(1), b.stride(0), b.stride(1),
                             c.stride(0), c.stride(1), BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk,
                             num_warps=warps, num_stages=stages)

            launch()
            torch.cuda.synchronize()
            rel = float((c.double() - ref).norm() / ref.norm())
            if not rel < 1e-2:
                raise RuntimeError(f"config {cfg} at M={m}: relative error {rel}")
            errors[f"{m}:{cfg}"] = rel
            # A Python launch of a Triton kernel costs more CPU time than this GEMM takes on the GPU:
            # capture LAUNCHES launches in a CUDA graph and time its replays, per launch.
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                for _ in range(LAUNCHES):
                    launch()
            samples = timing.time_cuda(graph.replay, current_stream(), warmup=5, repeats=60) / LAUNCHES
            runs.append({"size": m, "config": list(cfg), "samples_ms": samples.tolist()})
        best = min((r for r in runs if r["size"] == m), key=lambda r: timing.summarize(r["samples_ms"]).median)
        log(f"tactics: M={m:4d} best {best['config']} {timing.summarize(best['samples_ms'])}")
    data = {"gemm": {"K": K, "N": N_HIDDEN, "dtype": "float16", "accumulate": "float32"},
            "sizes": SIZES, "configs": [list(c) for c in CONFIGS], "runs": runs,
            "max_relative_error_vs_float64": max(errors.values()),
            "timer": {"warmup": 5, "repeats": 60, "cuda_graph_launches_per_sample": LAUNCHES}}
    return results.save(out, "ch01-tactics", CHAPTER,
                        "One GEMM, eight tile configurations, timed at every batch size",
                        "Measured with Triton kernels on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record ch01-tactics", libraries()), data)


def batch_curve(out):
    import torch

    gen = torch.Generator(device="cuda").manual_seed(0)
    w1 = torch.randn(N_HIDDEN, K, device="cuda", dtype=torch.float16, generator=gen) / K ** 0.5
    w2 = torch.randn(K, N_HIDDEN, device="cuda", dtype=torch.float16, generator=gen) / N_HIDDEN ** 0.5

    def mlp(x):
        return torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(x, w1)), w2)

    curve = []
    for m in SIZES:
        x = torch.randn(m, K, device="cuda", dtype=torch.float16, generator=gen)
        ref = torch.relu(x.double() @ w1.double().T) @ w2.double().T
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                mlp(x)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            y = mlp(x)
        graph.replay()
        torch.cuda.synchronize()
        rel = float((y.double() - ref).norm() / ref.norm())
        samples = timing.time_cuda(graph.replay, current_stream(), warmup=20, repeats=200)
        curve.append({"size": m, "samples_ms": samples.tolist(), "relative_error_vs_float64": rel})
        log(f"batch curve: M={m:4d} {timing.summarize(samples)} rel err {rel:.1e}")
    weights_bytes = 2 * (w1.numel() + w2.numel())
    data = {"model": {"layers": [K, N_HIDDEN, K], "dtype": "float16", "weights_bytes": weights_bytes,
                      "flops_per_sample": 2 * 2 * K * N_HIDDEN},
            "curve": curve, "ceilings": ceilings(), "timer": {"warmup": 20, "repeats": 200, "cuda_graphs": True}}
    return results.save(out, "ch01-batch-curve", CHAPTER,
                        "Latency of the chapter's MLP per batch size (CUDA graphs)",
                        "Measured with PyTorch (cuBLAS) on the GPU, not TensorRT",
                        results.provenance("python -m trtfaq record ch01-batch-curve", libraries()), data)
