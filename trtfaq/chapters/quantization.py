"""Chapter 9: the number formats a TensorRT engine can hold (INT8, INT4, FP8, FP4) and what they cost.

- Value grids of INT8, INT4, FP8 E4M3 and FP4 E2M1 (from ``ml_dtypes``), and each format's error on one
  weight tensor with the scaling TensorRT documents (symmetric, zero point 0).
- The weight-only INT4 pattern TensorRT's ONNX parser imports: an opset-21 ``DequantizeLinear`` with
  ``block_size`` on an INT4 initializer feeding a ``MatMul``; its error and size against block size.
- ONNX Runtime with graph optimizations pinned (it may fuse the pattern into its own kernel).
- ModelOpt's ONNX quantization options, read from the real wheel's source with ``ast``.
- The recorded GPU run (PyTorch on an H100, not TensorRT): FP8 GEMM against BF16, FP4 refused on
  Hopper, an INT4 weight-only kernel against BF16 across batch sizes.
"""
from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import BookError, InputError
from ..tables import table

# ----- value grids -----------------------------------------------------------------------------------
#: format -> (bits, what the format is in TensorRT)
FORMATS = {"INT8": (8, "integer -128..127"), "INT4": (4, "integer -8..7 (weights only)"),
           "FP8 E4M3": (8, "float, 4 exponent bits, 3 mantissa bits"),
           "FP4 E2M1": (4, "float, 2 exponent bits, 1 mantissa bit")}


def grid(fmt: str) -> np.ndarray:
    """Every finite value of ``fmt`` (a key of :data:`FORMATS`), sorted, as float64."""
    import ml_dtypes

    if fmt == "INT8":
        return np.arange(-128, 128, dtype=np.float64)
    if fmt == "INT4":
        return np.arange(-8, 8, dtype=np.float64)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    dtype = {"FP8 E4M3": ml_dtypes.float8_e4m3fn, "FP4 E2M1": ml_dtypes.float4_e2m1fn}[fmt]
    bits = FORMATS[fmt][0]
    codes = np.arange(2 ** bits, dtype=np.uint8)
    if bits == 4:  # ml_dtypes stores one 4-bit value per byte, in the low nibble
        values = codes.view(dtype).astype(np.float64)
    else:
        values = codes.view(dtype).astype(np.float64)
    return np.unique(values[np.isfinite(values)])


def grid_table() -> str:
    """Per format: bits, distinct finite values, largest value, smallest positive value, and the
    relative gap between neighbours near the top (the format's precision where it matters most)."""
    rows = []
    for fmt, (bits, what) in FORMATS.items():
        g = grid(fmt)
        pos = g[g > 0]
        top_gap = (pos[-1] - pos[-2]) / pos[-1]
        rows.append([fmt, bits, len(g), f"{g.max():g}", f"{pos.min():g}", f"{top_gap:.1%}", what])
    return table(["format", "bits", "values", "largest", "smallest > 0", "gap at the top", "kind"], rows)


def _round_to_grid(x: np.ndarray, fmt: str) -> np.ndarray:
    import ml_dtypes

    if fmt in ("INT8", "INT4"):
        lo, hi = (-128, 127) if fmt == "INT8" else (-8, 7)
        return np.clip(np.rint(x), lo, hi)
    dtype = {"FP8 E4M3": ml_dtypes.float8_e4m3fn, "FP4 E2M1": ml_dtypes.float4_e2m1fn}[fmt]
    top = grid(fmt).max()
    return np.clip(x, -top, top).astype(np.float32).astype(dtype).astype(np.float64)


def quantize(w: np.ndarray, fmt: str, block: int | None = None, scale_format: str | None = None) -> np.ndarray:
    """``w`` [K, N] quantized to ``fmt`` and dequantized back (float64), symmetric with zero point 0.

    One scale per column (``block=None``) or per ``block`` rows of a column; the scale maps the block's
    largest magnitude to the format's largest value (INT4: 7, as symmetric quantization leaves -8
    unused). ``scale_format="FP8 E4M3"`` rounds the scales to FP8 first, as NVFP4 stores them
    (blocks of 16, FP8 scales; NVFP4's second-level FP32 scale is left out here).
    """
    w = np.asarray(w, np.float64)
    if w.ndim != 2:
        raise InputError(f"expected a weight matrix [K, N], got shape {w.shape}")
    k = w.shape[0]
    block = k if block is None else int(block)
    if block < 1 or k % block:
        raise InputError(f"block size {block} must divide K = {k}")
    top = 7.0 if fmt == "INT4" else grid(fmt).max()
    blocks = w.reshape(k // block, block, w.shape[1])
    amax = np.abs(blocks).max(axis=1, keepdims=True)
    scale = np.where(amax > 0, amax / top, 1.0)
    if scale_format is not None:
        scale = _round_to_grid(scale / scale.max() * grid(scale_format).max(), scale_format) \
            * scale.max() / grid(scale_format).max()
        scale = np.where(scale > 0, scale, 1.0)
    return (_round_to_grid(blocks / scale, fmt) * scale).reshape(w.shape)


def relative_error(approx: np.ndarray, exact: np.ndarray) -> float:
    """``||approx - exact|| / ||exact||`` (Frobenius), computed in float64."""
    a, e = np.asarray(approx, np.float64), np.asarray(exact, np.float64)
    if a.shape != e.shape:
        raise InputError(f"cannot compare shapes {a.shape} and {e.shape}")
    return float(np.linalg.norm(a - e) / np.linalg.norm(e))


#: (label, format, block, scale format, scale bits per scale) of the error comparison
SCHEMES = [("FP16 (reference storage)", None, None, None, 0),
           ("INT8, one scale per column", "INT8", None, None, 32),
           ("FP8 E4M3, one scale per column", "FP8 E4M3", None, None, 32),
           ("INT4, blocks of 128", "INT4", 128, None, 16),
           ("INT4, blocks of 32", "INT4", 32, None, 16),
           ("FP4 E2M1, blocks of 16, FP8 scales (NVFP4-like)", "FP4 E2M1", 16, "FP8 E4M3", 8)]


def format_errors(w: np.ndarray) -> list[list]:
    """Rows of (scheme, bits per weight with the scales, relative error) for one weight matrix [K, N]."""
    w = np.asarray(w, np.float64)
    k, n = w.shape
    rows = []
    for label, fmt, block, scale_fmt, scale_bits in SCHEMES:
        if fmt is None:
            err, bits = relative_error(w.astype(np.float16), w), 16.0
        else:
            b = k if block is None else block
            err = relative_error(quantize(w, fmt, block, scale_fmt), w)
            bits = FORMATS[fmt][0] + scale_bits * (k // b) * n / (k * n)
        rows.append([label, f"{bits:.2f}", f"{err:.2e}"])
    return rows


def weight_matrix(k: int = 1024, n: int = 256, seed: int = 0) -> np.ndarray:
    """A [K, N] float32 weight matrix shaped like a trained layer's: Gaussian, with a few columns' scale
    raised (outlier channels, as in transformer weights)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((k, n)) / np.sqrt(k)
    w[:, rng.choice(n, size=max(1, n // 64), replace=False)] *= 8.0
    w[rng.integers(0, k, size=k // 128), rng.integers(0, n, size=k // 128)] *= 6.0
    return w.astype(np.float32)


# ----- the weight-only INT4 model ------------------------------------------------------------------
INT4_OPSET = 21  # DequantizeLinear's block_size and the INT4 type arrive in opset 21


@dataclass(frozen=True)
class Int4Layer:
    """A weight [K, N] quantized to INT4 in blocks of ``block`` rows per column: codes and FP16 scales."""

    weight: np.ndarray   # the original float32 weight
    codes: np.ndarray    # int8 holding INT4 values in [-8, 7], shape [K, N]
    scales: np.ndarray   # float16, shape [K // block, N]
    block: int

    @classmethod
    def from_weight(cls, w: np.ndarray, block: int) -> Int4Layer:
        w = np.asarray(w, np.float32)
        if w.ndim != 2 or w.shape[0] % block:
            raise InputError(f"block size {block} must divide K of a [K, N] weight, got shape {w.shape}")
        blocks = w.reshape(w.shape[0] // block, block, w.shape[1]).astype(np.float64)
        scales = (np.abs(blocks).max(axis=1) / 7.0).astype(np.float16)
        safe = np.where(scales > 0, scales, 1).astype(np.float64)[:, None, :]
        codes = np.clip(np.rint(blocks / safe), -8, 7).astype(np.int8).reshape(w.shape)
        return cls(w, codes, scales, block)

    def dequantized(self) -> np.ndarray:
        """What ``DequantizeLinear`` computes: codes x scale of their block (float64)."""
        k, n = self.codes.shape
        return (self.codes.reshape(k // self.block, self.block, n).astype(np.float64)
                * self.scales.astype(np.float64)[:, None, :]).reshape(k, n)

    @property
    def nbytes(self) -> int:
        """Bytes of the stored weight: two INT4 codes per byte plus the FP16 scales."""
        return self.codes.size // 2 + self.scales.nbytes


def int4_model(layer: Int4Layer):
    """ONNX model ``y = x @ DequantizeLinear(W_int4, scale, axis=0, block_size)``, FP16 activations:
    the weight-only pattern TensorRT's parser imports (input ``x`` [N, K], N dynamic, output ``y``)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if not isinstance(layer, Int4Layer):
        raise InputError(f"expected an Int4Layer, got {type(layer).__name__}")
    k, n = layer.codes.shape
    weight = helper.make_tensor("w_int4", TensorProto.INT4, [k, n], layer.codes.ravel().tolist())
    graph = helper.make_graph(
        [helper.make_node("DequantizeLinear", ["w_int4", "w_scale"], ["w"], name="dequantize_w", axis=0,
                          block_size=layer.block),
         helper.make_node("MatMul", ["x", "w"], ["y"], name="matmul")],
        "int4_weight_only",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT16, ["N", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT16, ["N", n])],
        [weight, numpy_helper.from_array(layer.scales, "w_scale")])
    model = helper.make_model(graph, producer_name="trtfaq", opset_imports=[helper.make_opsetid("", INT4_OPSET)])
    model.ir_version = 10
    onnx.checker.check_model(model, full_check=True)
    return model


def block_sweep(w: np.ndarray, blocks=(16, 32, 64, 128, 256)) -> list[list]:
    """Rows of (block size, stored bytes, bytes against FP16, relative weight error) for INT4 blocks."""
    w = np.asarray(w, np.float32)
    fp16_bytes = w.size * 2
    rows = []
    for b in blocks:
        layer = Int4Layer.from_weight(w, b)
        err = relative_error(layer.dequantized(), w)
        rows.append([b, layer.nbytes, f"{layer.nbytes / fp16_bytes:.1%}", f"{err:.3f}"])
    return rows


def onnxruntime_run(model, feeds: dict, optimizations: str) -> tuple[dict, list[str]]:
    """Run ``model`` on ONNX Runtime's CPU provider with graph optimizations ``"off"``
    (``ORT_DISABLE_ALL``) or ``"all"`` (``ORT_ENABLE_ALL``, the default). Returns the outputs and the
    operators of the graph ONNX Runtime actually ran (``domain:op`` for non-ONNX operators)."""
    import onnx
    import onnxruntime as ort

    levels = {"off": ort.GraphOptimizationLevel.ORT_DISABLE_ALL, "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}
    if optimizations not in levels:
        raise InputError(f"optimizations must be 'off' or 'all', got {optimizations!r}")
    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = levels[optimizations]
        opts.intra_op_num_threads = 1
        opts.log_severity_level = 3
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        outputs = dict(zip(names, sess.run(names, feeds)))
        ran = onnx.load(opts.optimized_model_filepath)
    ops = [f"{n.domain}:{n.op_type}" if n.domain else n.op_type for n in ran.graph.node]
    return outputs, ops


def fused_node(model, feeds: dict, accuracy_level: int | None = None):
    """The node ONNX Runtime fused the pattern into (``com.microsoft`` ``MatMulNBits``), as a model of
    its own; with ``accuracy_level`` set, the same node with that attribute changed. Returns
    (its attributes as a dict, the optimized model)."""
    import onnx
    import onnxruntime as ort
    from onnx import helper

    with tempfile.TemporaryDirectory() as tmp:
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        opts.optimized_model_filepath = str(Path(tmp) / "optimized.onnx")
        opts.log_severity_level = 3
        ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
        fused = onnx.load(opts.optimized_model_filepath)
    nodes = [n for n in fused.graph.node if n.op_type == "MatMulNBits"]
    if not nodes:
        raise BookError("this ONNX Runtime did not fuse the pattern into MatMulNBits: nothing to inspect")
    if accuracy_level is not None:
        for a in nodes[0].attribute:
            if a.name == "accuracy_level":
                a.i = int(accuracy_level)
    return {a.name: helper.get_attribute_value(a) for a in nodes[0].attribute}, fused


# ----- ModelOpt's options, from the wheel -----------------------------------------------------------
MODELOPT = "nvidia-modelopt==0.47.0"


def modelopt_wheel(requirement: str = MODELOPT) -> Path:
    """The ``nvidia-modelopt`` wheel (pure Python, about 2 MB), downloaded once into the book's cache; it
    is read, never installed (it needs PyTorch and onnxruntime-gpu)."""
    from ..cache import folder

    name, _, version = requirement.partition("==")
    if not version:
        raise InputError(f"pin an exact version, e.g. {name}==0.47.0")
    dest = folder("wheels")
    pattern = f"nvidia_modelopt-{version}-*.whl"
    found = sorted(dest.glob(pattern))
    if not found:
        dest.mkdir(parents=True, exist_ok=True)
        res = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                              "--dest", str(dest), requirement], capture_output=True, text=True)
        found = sorted(dest.glob(pattern))
        if res.returncode != 0 or not found:
            last = (res.stderr.strip().splitlines() or ["no wheel"])[-1][:200]
            raise BookError(f"could not download {requirement}: {last}")
    return found[0]


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return ast.unparse(node)


def modelopt_cli_options(wheel: Path, names=("--quantize_mode", "--calibration_method", "--use_zero_point",
                                             "--high_precision_dtype", "--opset")) -> list[list]:
    """Rows of (option, choices, default, help) of ``python -m modelopt.onnx.quantization``, read from
    ``modelopt/onnx/quantization/__main__.py`` in ``wheel`` with ``ast`` (nothing is imported)."""
    try:
        with zipfile.ZipFile(wheel) as whl:
            tree = ast.parse(whl.read("modelopt/onnx/quantization/__main__.py"))
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise BookError(f"{Path(wheel).name} is not a ModelOpt wheel with an ONNX quantization CLI "
                        f"({type(exc).__name__})") from None
    found = {}
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "add_argument" and call.args:
            flag = _literal(call.args[0])
            kw = {k.arg: k.value for k in call.keywords}
            help_text = _literal(kw["help"]) if "help" in kw else ""
            found[flag] = [flag, _literal(kw["choices"]) if "choices" in kw else "-",
                           _literal(kw["default"]) if "default" in kw else "-",
                           " ".join(str(help_text).split())[:90]]
    missing = [n for n in names if n not in found]
    if missing:
        raise BookError(f"the ModelOpt CLI in {Path(wheel).name} has no option(s) {missing}")
    return [found[n] for n in names]


# ----- the recorded GPU run (PyTorch on an H100, not TensorRT) ---------------------------------------
EXPERIMENT = "ch09-formats"


def _median_ms(entry) -> float:
    return float(np.median(entry["samples_ms"]))


def fp8_rows(run) -> list[list]:
    """Rows of the FP8-against-BF16 GEMM table: size, library/kernel, TFLOP/s, % of the measured FP16
    GEMM ceiling, relative error against a float64 reference of the unquantized inputs."""
    data = run.data
    ceiling = data["ceilings"]["gemm_fp16"]["flops"] / _median_ms(data["ceilings"]["gemm_fp16"]) / 1e9
    rows = []
    for r in data["fp8"]["runs"]:
        for key in ("bf16", "fp8_tensorwise", "fp8_rowwise"):
            entry = r.get(key)
            if not entry or "samples_ms" not in entry:
                continue
            tflops = 2 * r["m"] * r["n"] * r["k"] / _median_ms(entry) / 1e9
            rows.append([f"{r['m']}x{r['n']}x{r['k']}", entry["kernel"], f"{tflops:.0f}",
                         f"{tflops / ceiling:.0%}", f"{entry['rel_error']:.1e}"])
    return rows


def fp8_table(run) -> str:
    return table(["M x N x K", "kernel (library)", "TFLOP/s", "% of FP16 ceiling", "rel. error vs float64"],
                 fp8_rows(run))


def fp4_attempts(run) -> list[list]:
    """Rows of (attempt, outcome): FP4 matrix products tried on the recorded GPU, with the library's
    own message when it refused."""
    return [[a["what"], "ran" if a["ok"] else f"refused: {a['message']}"] for a in run.data["fp4"]["attempts"]]


def int4_rows(run) -> list[list]:
    """Rows per batch size M: BF16 and INT4 weight-only times (us), speed-up, and the weight-read
    bandwidth each reaches as a share of the measured copy bandwidth."""
    data = run.data
    copy = data["ceilings"]["copy"]
    bandwidth = copy["bytes_moved"] / _median_ms(copy) / 1e9  # measured copy bandwidth, in TB/s
    sweep = data["int4"]
    rows = []
    for r in sweep["runs"]:
        t16, t4 = _median_ms(r["bf16"]) * 1000, _median_ms(r["int4"]) * 1000
        share16 = sweep["bf16_weight_bytes"] / (t16 * 1e-3) / 1e9 / bandwidth  # TB/s over TB/s
        share4 = sweep["int4_weight_bytes"] / (t4 * 1e-3) / 1e9 / bandwidth
        rows.append([r["m"], f"{t16:.1f}", f"{t4:.1f}", f"{t16 / t4:.2f}x", f"{share16:.0%}", f"{share4:.0%}"])
    return rows


def int4_table(run) -> str:
    sweep = run.data["int4"]
    head = (f"weight {sweep['n']}x{sweep['k']}, groups of {sweep['group_size']}; BF16: {sweep['bf16_kernel']}; "
            f"INT4: {sweep['int4_kernel']}; INT4 kernel vs BF16 on the same dequantized weight: "
            f"rel. error {sweep['int4_vs_dequantized_rel_error']:.1e}")
    return head + "\n" + table(["M", "BF16 us", "INT4 us", "INT4 speed-up", "BF16 weight read % of copy BW",
                                "INT4 weight read % of copy BW"], int4_rows(run))


def show_int4_sweep(run, ax=None):
    """Time per product against batch size M, BF16 and INT4 weight-only, with the speed-up on a second
    axis: where the weight read dominates (small M) and where arithmetic does (large M)."""
    import matplotlib.pyplot as plt

    from .. import plots

    sweep = run.data["int4"]["runs"]
    m = [r["m"] for r in sweep]
    q = {k: np.array([np.percentile(r[k]["samples_ms"], [10, 50, 90]) for r in sweep]) * 1000 for k in ("bf16", "int4")}
    with plots.style():
        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        labels = {"bf16": "BF16 (cuBLAS via torch.matmul)", "int4": "INT4 weights (torch._weight_int4pack_mm)"}
        for key, label in labels.items():
            line, = ax.plot(m, q[key][:, 1], marker="o", ms=3, label=label)
            ax.fill_between(m, q[key][:, 0], q[key][:, 2], color=line.get_color(), alpha=0.2, lw=0)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size M (rows of activations)")
        ax.set_ylabel("time per product (us)")
        ax.legend(loc="upper left", fontsize=8)
        twin = ax.twinx()
        twin.plot(m, q["bf16"][:, 1] / q["int4"][:, 1], color="0.3", ls="--", lw=1)
        twin.axhline(1.0, color="0.6", lw=0.6)
        twin.set_ylabel("INT4 speed-up (dashed)")
        plots.source_note(ax, f"PyTorch (cuBLAS, tinygemm) on {run.provenance['gpu']}, not TensorRT "
                              f"(recorded {run.provenance['created'][:10]})")
    return ax
