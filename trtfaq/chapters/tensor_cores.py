"""Chapter 12: which layers run on tensor cores. A small convolutional model with aligned and
unaligned channel counts and its alignment table, the inspector's layers classified, and the
recorded GPU runs read back (GEMM alignment, TF32 off and on, 3x3 convolutions by input channels,
and Nsight Compute's tensor-pipe counters)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import inspector, plots, timing
from ..errors import InputError, ResultError
from ..tables import table

#: The channel multiple TensorRT's tensor-core formats pad to, per precision, as real engines print
#: them in the inspector: "Channel major FP32 format where channel % 4 == 0" and "Four wide channel
#: vectorized row major FP32 format" (TF32 kernels), "Channel major FP16 format where channel % 8 == 0"
#: (FP16; some layers use % 16), "Thirty-two wide channel vectorized row major Int8 format" (INT8).
#: Source: NVIDIA/TensorRT v10.16, tools/experimental/trt-engine-explorer/examples (A100 and RTX 3090
#: engines), NVIDIA/TensorRT#3876; the formats themselves: TensorFormat HWC8/CHW4/CHW32 docstrings. The same
#: multiples as the 8.x Developer Guide's "Optimizing for Tensor Cores" table (TF32 4, FP16 8 dense / 16
#: sparse, INT8 32; INT8 rule restated by NVIDIA in NVIDIA/TensorRT#1310); the 10.x/11.x page was not read.
MULTIPLE = {"TF32": 4, "FP16": 8, "INT8": 32}
CHANNELS = (3, 24, 50, 64)   # the convolutions' channel counts: 3 -> 24 -> 50 -> 64
CLASSES = 100


@dataclass(frozen=True)
class ChannelNet:
    """3x3 convolutions (by default 3 -> 24 -> 50 -> 64 channels, each with ReLU), global average pooling
    and a matrix product to 100 classes: channel counts that are and are not multiples of 4, 8 and 32."""

    convs: tuple[tuple[np.ndarray, np.ndarray], ...]   # (weight (C_out, C_in, 3, 3), bias)
    fc: np.ndarray                                      # (64, 100)

    @classmethod
    def random(cls, seed: int = 0, channels: tuple[int, ...] = CHANNELS) -> ChannelNet:
        """Fixed-seed weights; ``channels``: the input channels, then each convolution's output channels."""
        if len(channels) < 2 or min(channels) < 1:
            raise InputError(f"need an input and at least one convolution's channels, all positive, got {channels}")
        rng = np.random.default_rng(seed)
        convs = []
        for c_in, c_out in zip(channels[:-1], channels[1:]):
            w = rng.standard_normal((c_out, c_in, 3, 3)) / np.sqrt(9 * c_in)
            convs.append((w.astype(np.float32), (0.1 * rng.standard_normal(c_out)).astype(np.float32)))
        fc = (rng.standard_normal((channels[-1], CLASSES)) / np.sqrt(channels[-1])).astype(np.float32)
        return cls(tuple(convs), fc)

    def onnx(self):
        """ONNX model: input ``x`` (N, C, 32, 32) with N dynamic, output ``y`` (N, 100)."""
        from onnx import helper, numpy_helper

        from ..models import axes, finish, io

        inits, nodes, t = [], [], "x"
        for i, (w, b) in enumerate(self.convs, 1):
            inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes += [helper.make_node("Conv", [t, f"w{i}", f"b{i}"], [f"c{i}"], name=f"conv{i}", pads=[1, 1, 1, 1]),
                      helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}")]
            t = f"r{i}"
        inits += [numpy_helper.from_array(self.fc, "wfc"), axes("flat", [0, -1])]
        nodes += [helper.make_node("GlobalAveragePool", [t], ["pooled"], name="pool"),
                  helper.make_node("Reshape", ["pooled", "flat"], ["features"], name="flatten"),
                  helper.make_node("MatMul", ["features", "wfc"], ["y"], name="fc")]
        c_in = self.convs[0][0].shape[1]
        graph = helper.make_graph(nodes, "channel_net", [io("x", ["N", c_in, 32, 32])], [io("y", ["N", CLASSES])],
                                  inits)
        return finish(graph, "channel_net")

    def reference(self, x: np.ndarray) -> np.ndarray:
        """The model in float64 numpy (a direct 3x3 convolution with zero padding)."""
        x = np.asarray(x, np.float64)
        c_in = self.convs[0][0].shape[1]
        if x.ndim != 4 or x.shape[1:] != (c_in, 32, 32):
            raise InputError(f"expected input of shape (N, {c_in}, 32, 32), got {x.shape}")
        for w, b in self.convs:
            p = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
            windows = np.lib.stride_tricks.sliding_window_view(p, (3, 3), axis=(2, 3))   # N, C, H, W, 3, 3
            x = np.maximum(np.einsum("nchwij,ocij->nohw", windows, w.astype(np.float64)) + b[None, :, None, None], 0)
        return x.mean(axis=(2, 3)) @ self.fc.astype(np.float64)


# ----- alignment ---------------------------------------------------------------------------------

def math_layers(model) -> list[tuple[str, str, int, int]]:
    """(node, op, input channels or K, output channels or N) of every Conv, ConvTranspose, MatMul and
    Gemm of an ONNX model, read from the weight initializers."""
    from onnx import numpy_helper

    if not hasattr(model, "graph"):
        raise InputError(f"expected an onnx.ModelProto, got {type(model).__name__}")
    weights = {i.name: numpy_helper.to_array(i).shape for i in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type not in ("Conv", "ConvTranspose", "MatMul", "Gemm") or len(node.input) < 2:
            continue
        shape = weights.get(node.input[1])
        if shape is None:
            raise InputError(f"node {node.name!r}: its weights are not an initializer; the table needs constant "
                             f"weights")
        if node.op_type == "Conv":
            c_in, c_out = shape[1], shape[0]
        elif node.op_type == "ConvTranspose":
            c_in, c_out = shape[0], shape[1]
        elif node.op_type == "Gemm" and any(a.name == "transB" and a.i == 1 for a in node.attribute):
            c_in, c_out = shape[1], shape[0]
        else:
            c_in, c_out = shape[0], shape[1]
        out.append((node.name, node.op_type, int(c_in), int(c_out)))
    return out


def padded(c: int, multiple: int) -> int:
    if c < 1 or multiple < 1:
        raise InputError(f"channels and multiple must be positive, got {c}, {multiple}")
    return -(-c // multiple) * multiple


def alignment_table(model) -> str:
    """Per math layer: channels in and out, and for TF32, FP16 and INT8 the padded sizes TensorRT's
    formats round them to and the extra work padding adds (multiply-adds scale with C_in x C_out)."""
    rows = []
    for name, op, c_in, c_out in math_layers(model):
        row = [name, op, c_in, c_out]
        for multiple in MULTIPLE.values():
            pi, po = padded(c_in, multiple), padded(c_out, multiple)
            extra = pi * po / (c_in * c_out) - 1
            row.append(f"{pi}x{po} (+{100 * extra:.0f}%)" if extra else "aligned")
        rows.append(row)
    return table(["layer", "op", "C_in / K", "C_out / N"] + [f"{p} (multiple of {m})" for p, m in MULTIPLE.items()],
                 rows)


# ----- TensorRT's inspector output, classified ----------------------------------------------------

def layers_table(info: inspector.EngineInfo, width: int = 60) -> str:
    """One row per engine layer that runs a named kernel: type, kernel, what the name suggests, and
    the format of its first input."""
    rows = []
    for layer, k in inspector.classify_layers(info):
        if layer.tactic is None:
            continue
        fmt = layer.inputs[0].format if layer.inputs else None
        name = layer.tactic if len(layer.tactic) <= width else layer.tactic[:width - 3] + "..."
        rows.append([layer.name[:28], layer.layer_type or "-", name, k.unit, k.precision or "-", fmt or "-"])
    if not rows and not info.detailed:
        return "layer names only: build with config.profiling_verbosity = ProfilingVerbosity.DETAILED"
    if not rows:
        return "no layer reports a TacticName (TacticName is printed for layers that run a named kernel)"
    return table(["layer", "type", "tactic (kernel)", "runs on (from the name)", "type", "input format"], rows)


# ----- recorded runs (ch12-tensor-cores, ch12-tensor-pipe) ------------------------------------------

def _ceilings(result) -> tuple[float, float]:
    c = result.data["ceilings"]
    med = lambda s: timing.summarize(s).median / 1000  # noqa: E731 - seconds
    bandwidth = c["copy"]["bytes_moved"] / med(c["copy"]["samples_ms"])
    return bandwidth, c["gemm_fp16"]["flops"] / med(c["gemm_fp16"]["samples_ms"])


def _kernel(case: dict) -> str:
    """The case's main kernel: the longest one the profiler saw (recorded first by the recorder)."""
    kernels = case.get("kernels") or []
    if not kernels:
        raise ResultError(f"case {case.get('label', '?')} recorded no kernel name")
    return kernels[0]


@dataclass(frozen=True)
class Row:
    label: str
    ms: float
    tflops: float
    pct_peak: float
    pct_bandwidth: float
    kernel: str
    kind: inspector.Kernel
    error: float | None


def rows(result, part: str) -> list[Row]:
    """Every case of one part ("gemm_alignment", "tf32" or "conv") of a ``ch12-tensor-cores`` run."""
    if part not in ("gemm_alignment", "tf32", "conv"):
        raise InputError(f"unknown part {part!r}: choose gemm_alignment, tf32 or conv")
    if part not in result.data:
        raise ResultError(f"{result.path.name} has no {part!r} part")
    bandwidth, peak = _ceilings(result)
    out = []
    for case in result.data[part]["cases"]:
        ms = timing.summarize(case["samples_ms"]).median
        seconds = ms / 1000
        k = _kernel(case)
        out.append(Row(case["label"], ms, case["flops"] / seconds / 1e12, 100 * case["flops"] / seconds / peak,
                       100 * case["bytes"] / seconds / bandwidth, k, inspector.classify(k), case.get("rel_error")))
    return out


def short(name: str, width: int = 52) -> str:
    return name if len(name) <= width else name[:width - 3] + "..."


def cases_table(result, part: str) -> str:
    """A recorded part as a table: time, TFLOP/s, % of the measured FP16 peak and bandwidth, the
    main kernel and what its name suggests (alignment tokens included), error where recorded."""
    body = []
    for r in rows(result, part):
        align = f" align{min(r.kind.alignment)}" if r.kind.alignment else ""
        body.append([r.label, f"{r.ms * 1000:.1f} us", f"{r.tflops:.1f}", f"{r.pct_peak:.0f}%",
                     f"{r.pct_bandwidth:.0f}%",
                     short(r.kernel), r.kind.unit + align, "-" if r.error is None else f"{r.error:.1e}"])
    return table(["case", "median", "TFLOP/s", "% FP16 peak", "% bandwidth", "main kernel", "name says",
                  "rel. error vs FP64"], body)


def show_runs(result) -> None:
    """Three panels: TFLOP/s against K (aligned and unaligned), FP32 with TF32 off and on, and the 3x3
    convolution against input channels, each bar labelled with what the kernel name suggests."""
    import matplotlib.pyplot as plt

    parts = [("gemm_alignment", "FP16 GEMM 8192x8192xK"), ("tf32", "FP32 GEMM"), ("conv", "FP16 3x3 conv")]
    with plots.style():
        fig, axes = plt.subplots(1, 3, figsize=(11, 3.6), layout="constrained")
        for ax, (part, title) in zip(axes, parts):
            rs = rows(result, part)
            colors = ["C0" if r.kind.unit == inspector.TENSOR_CORES else "C3" if r.kind.unit == inspector.CUDA_CORES
                      else "0.6" for r in rs]
            ax.bar(range(len(rs)), [r.tflops for r in rs], color=colors)
            ax.set_xticks(range(len(rs)), [r.label for r in rs], rotation=30, ha="right", fontsize=8)
            ax.set_title(title, fontsize=9)
        axes[0].set_ylabel("TFLOP/s (median)")
        from matplotlib.patches import Patch  # empty bar() calls gave every legend entry the first colour

        axes[0].legend(handles=[Patch(color=c, label=f"name says {what}") for c, what in
                                (("C0", "tensor cores"), ("C3", "CUDA cores"), ("0.6", "nothing"))], fontsize=7,
                       loc="center right", frameon=True, framealpha=1)  # opaque: the grey patch on grey bars
        plots.source_note(axes[0], f"PyTorch (cuBLAS/cuDNN) on {result.provenance['gpu']}, not TensorRT (recorded run)")
        plt.show()


def pipe_table(result) -> str:
    """Nsight Compute's counters per case (``ch12-tensor-pipe``): the longest kernel of each case, what
    its name suggests, and each counter (``%``: percent of the pipe's peak while the SM is active;
    the others are instruction counts)."""
    metrics = [m for m in result.data["metrics"] if m != "gpu__time_duration.sum"]
    body = []
    for case in result.data["cases"]:
        if not case["kernels"]:
            raise ResultError(f"{result.path.name}: case {case['case']!r} has no profiled kernel")
        main = max(case["kernels"], key=lambda k: k["metrics"].get("gpu__time_duration.sum", 0.0))
        body.append([case["case"], short(main["name"], 44), inspector.classify(main["name"]).unit] +
                    [_fmt(main["metrics"].get(m)) for m in metrics])
    return table(["case", "longest kernel", "name says"] +
                 [m.split(".")[0].replace("sm__", "") + (" %" if "pct_of_peak" in m else "") for m in metrics], body)


def _fmt(value) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if abs(value) < 1e5 else f"{value:.3g}"


def names_table(named: list[tuple[str, str]]) -> str:
    """Classify tactic names, each with where it was printed: the unit the name suggests, the type,
    and the part of the name that decided."""
    rows = []
    for name, where in named:
        k = inspector.classify(name)
        rows.append([short(name, 50), k.unit, k.precision or "-", short(k.evidence, 44), where])
    return table(["tactic name", "name says", "type", "because of", "printed in"], rows)
