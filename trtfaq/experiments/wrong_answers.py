"""Chapter 6's GPU evidence (PyTorch on a CUDA GPU; not TensorRT).

- ``precision``: the chapter's four networks (the digits perceptron, the L2-normalizing overflow
  model on raw 8-bit pixels, the nearest-centroid model with expanded and direct distances) run on
  the test set in float64 (the reference), FP32, TF32, FP16 and BF16 on the GPU. For each network
  and precision it records every prediction, the errors of every tensor against float64 and the
  top-1 agreement, so the chapter recomputes its tables from the raw predictions.
- Alongside, single matrix products against float64 for growing inner dimension ``K`` in the same
  precisions, FP16 with and without cuBLAS's reduced-precision reductions: how the error of one
  long dot product grows.
"""
from __future__ import annotations

import numpy as np

from .. import results
from ..chapters.wrong_answers import networks, top1, weights_digest
from .common import libraries, log

CHAPTER = "notebooks/06-wrong-answers"
PRECISIONS = ("fp32", "tf32", "fp16", "bf16")
K_SIZES = (256, 1024, 4096, 16384, 65536)


def _forward(torch, name: str, params, x):
    """The network ``name`` in PyTorch; returns its tensors by the ONNX models' names, output ``y`` last."""
    t: dict = {}
    if name in ("mlp", "l2"):
        w1, b1, w2, b2 = params
        if name == "l2":
            t["sq"] = x * x
            t["sumsq"] = t["sq"].sum(dim=1, keepdim=True)
            t["norm"] = torch.sqrt(t["sumsq"])
            x = t["unit"] = x / t["norm"]
        t["h"] = x @ w1.T + b1
        t["hr"] = torch.relu(t["h"])
        t["y"] = t["hr"] @ w2.T + b2
    elif name == "centroid_expanded":
        (c,) = params
        t["x2"] = (x * x).sum(dim=1, keepdim=True)
        t["xc"] = x @ c.T
        t["x2_minus"] = t["x2"] - 2 * t["xc"]
        t["dist"] = t["x2_minus"] + (c * c).sum(dim=1)
        t["y"] = -t["dist"]
    else:
        (c,) = params
        t["diff"] = x[:, None, :] - c[None, :, :]
        t["dist"] = (t["diff"] * t["diff"]).sum(dim=2)
        t["y"] = -t["dist"]
    return t


def _compare(ref: dict, got: dict) -> dict:
    """Per tensor: max |error| over finite values, max |reference|, count of non-finite values."""
    out = {}
    for name, r in ref.items():
        r64 = r.double().cpu().numpy()
        g = got[name].double().cpu().numpy()
        finite = np.isfinite(g)
        diff = np.abs(g - r64)[finite]
        out[name] = {"max_abs": float(diff.max(initial=0.0)), "scale": float(np.abs(r64).max(initial=0.0)),
                     "nonfinite": int(g.size - finite.sum())}
    return out


def _top1(y: np.ndarray) -> list[int]:
    return [int(p) for p in top1(y)]


def _set_precision(torch, precision: str):
    torch.set_float32_matmul_precision("high" if precision == "tf32" else "highest")
    return {"fp32": torch.float32, "tf32": torch.float32, "fp16": torch.float16,
            "bf16": torch.bfloat16, "fp64": torch.float64}[precision]


def precision(out):
    import torch

    nets = networks()
    dev = torch.device("cuda")
    mlp_params = lambda m: (m.w1, m.b1, m.w2, m.b2)  # noqa: E731
    cases = {"mlp": (mlp_params(nets["mlp"][0]), nets["mlp"][1]),
             "l2": (mlp_params(nets["l2"][0]), nets["l2"][1]),
             "centroid_expanded": ((nets["centroids"][0],), nets["centroids"][1]),
             "centroid_direct": ((nets["centroids"][0],), nets["centroids"][1])}
    models_out = {}
    for name, (params, x) in cases.items():
        log(f"network {name}")

        def run(prec):
            dtype = _set_precision(torch, prec)
            p = [torch.as_tensor(np.asarray(a), device=dev).to(dtype) for a in params]
            xi = torch.as_tensor(np.asarray(x), device=dev).to(dtype)
            with torch.no_grad():
                t = _forward(torch, name, p, xi)
            torch.cuda.synchronize()
            return t

        ref = run("fp64")
        ref_pred = _top1(ref["y"].cpu().numpy())
        entry = {"reference_pred": ref_pred, "precisions": {}}
        for prec in PRECISIONS:
            got = run(prec)
            pred = _top1(got["y"].double().cpu().numpy())
            entry["precisions"][prec] = {"pred": pred, "tensors": _compare(ref, got)}
            log(f"  {prec}: agreement {np.mean(np.array(pred) == np.array(ref_pred)):.4f}")
        models_out[name] = entry
    torch.set_float32_matmul_precision("highest")

    log("matrix products")
    gen = torch.Generator(device="cpu").manual_seed(0)
    gemm = []
    for k in K_SIZES:
        a = torch.randn(256, k, generator=gen, dtype=torch.float64)
        b = torch.randn(k, 256, generator=gen, dtype=torch.float64)
        ref = (a.to(dev) @ b.to(dev)).cpu()
        row = {"k": k}
        for prec in PRECISIONS + ("fp16_fp32_reduction",):
            base = "fp16" if prec == "fp16_fp32_reduction" else prec
            dtype = _set_precision(torch, base)
            torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = prec != "fp16_fp32_reduction"
            c = (a.to(dev, dtype) @ b.to(dev, dtype)).double().cpu()
            err = (c - ref).abs()
            row[prec] = {"max_abs": float(err.max()), "scale": float(ref.abs().max()),
                         "rms_rel": float((err.pow(2).mean() / ref.pow(2).mean()).sqrt())}
        torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = True
        torch.set_float32_matmul_precision("highest")
        gemm.append(row)

    data = {"networks": models_out, "labels": [int(v) for v in nets["labels"]], "gemm": gemm,
            "weights_sha256": weights_digest(nets["mlp"][0], nets["l2"][0], nets["centroids"][0]),
            "precisions": list(PRECISIONS),
            "settings": {"tf32": "torch.set_float32_matmul_precision('high')",
                         "fp32": "torch.set_float32_matmul_precision('highest')",
                         "fp16/bf16": "weights and inputs cast with .to(dtype); every tensor in that type",
                         "fp16_fp32_reduction":
                             "torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction = False"}}
    prov = results.provenance("python -m trtfaq record ch06-precision", libraries())
    return results.save(out, "ch06-precision", CHAPTER,
                        "Chapter 6 networks and matrix products in FP32, TF32, FP16, BF16 against float64",
                        "measured with PyTorch on the GPU, not TensorRT", prov, data)
