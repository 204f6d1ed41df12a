"""Chapter 3: the workspace and the other memory pools. The pool table read from the real bindings'
docstrings, the chapter's long-K model, a logger that keeps TensorRT's build log, the build-log
reader, and the recorded cuBLAS workspace runs read back (tables and the "tactic filter" figure)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .. import plots, timing
from ..bindings import Binary
from ..errors import InputError, ResultError
from ..tables import table

#: MemoryPoolType members, in the order the bindings list them
POOLS = ("WORKSPACE", "TACTIC_DRAM", "TACTIC_SHARED_MEMORY", "DLA_MANAGED_SRAM", "DLA_LOCAL_DRAM", "DLA_GLOBAL_DRAM")
_DEFAULT = re.compile(r"(?:defaults to|default value is) (.+?)\.(?:\s|$)")


def mib(nbytes: int | float | None) -> str:
    """Bytes as MiB (or KiB below 1 MiB) for tables; ``-`` for None."""
    if nbytes is None:
        return "-"
    if nbytes < 1 << 20:
        return f"{nbytes / 1024:.0f} KiB"
    return f"{nbytes / (1 << 20):,.1f} MiB"


# ----- the pools, from the real bindings -----------------------------------------------------------

def pool_doc(binary: Binary, pool: str) -> str | None:
    """The docstring of a ``MemoryPoolType`` member in one release's bindings (8.6 spells one of them
    ``kTACTIC_DRAM``), or None if the release has no such pool."""
    if pool not in POOLS:
        raise InputError(f"unknown memory pool {pool!r}: choose from {', '.join(POOLS)}")
    if not binary.registers(pool):
        return None
    doc = binary.docstring(f"{pool} ") or binary.docstring(f"k{pool} ")
    return " ".join(doc.split()) if doc else None


def pool_default(doc: str | None) -> str:
    """The default a pool's docstring states ("max device memory", "1 MiB", ...), "-" if none."""
    if doc is None:
        return "(no such pool)"
    m = _DEFAULT.search(doc)
    return m.group(1) if m else "(not stated)"


def pool_table(binaries: dict[str, Binary]) -> str:
    """One row per pool: the default the newest release's docstring states, and for each older
    release "same", "no such pool" or its own different wording."""
    releases = list(binaries)
    newest, older = releases[-1], releases[-2::-1]
    rows = []
    for pool in POOLS:
        latest = pool_default(pool_doc(binaries[newest], pool))
        cells: list[str] = []
        for r in older:
            stated = pool_default(pool_doc(binaries[r], pool))          # "(no such pool)" when absent
            cells.append("no such pool" if stated == "(no such pool)" else "same" if stated == latest else stated)
        rows.append([pool, latest] + cells)
    return table(["pool", f"default ({newest} docstring)"] + older, rows)


# ----- the model -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LongK:
    """``y = relu(x W1) W2``: a projection with a long inner dimension K (matrix products whose few
    outputs each sum K terms: the shape where libraries split K and need scratch memory)."""

    w1: np.ndarray   # (K, hidden)
    w2: np.ndarray   # (hidden, out)

    @classmethod
    def random(cls, k: int = 32768, hidden: int = 128, out: int = 10, seed: int = 0) -> LongK:
        if min(k, hidden, out) < 1:
            raise InputError(f"sizes must be positive, got K={k}, hidden={hidden}, out={out}")
        rng = np.random.default_rng(seed)
        return cls((rng.standard_normal((k, hidden)) / np.sqrt(k)).astype(np.float32),
                   (rng.standard_normal((hidden, out)) / np.sqrt(hidden)).astype(np.float32))

    def reference(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64)
        if x.ndim != 2 or x.shape[1] != self.w1.shape[0]:
            raise InputError(f"expected input of shape (N, {self.w1.shape[0]}), got {x.shape}")
        return np.maximum(x @ self.w1.astype(np.float64), 0.0) @ self.w2.astype(np.float64)

    def onnx(self):
        """ONNX model, input ``x`` of shape ``(N, K)`` with ``N`` dynamic, output ``y``."""
        from onnx import helper, numpy_helper

        from ..models import finish, io

        k, out = self.w1.shape[0], self.w2.shape[1]
        nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"], name="project"),
                 helper.make_node("Relu", ["h"], ["hr"], name="relu"),
                 helper.make_node("MatMul", ["hr", "w2"], ["y"], name="classify")]
        graph = helper.make_graph(nodes, "long_k", [io("x", ["N", k])], [io("y", ["N", out])],
                                  [numpy_helper.from_array(self.w1, "w1"), numpy_helper.from_array(self.w2, "w2")])
        return finish(graph, "long_k")


# ----- TensorRT's build log --------------------------------------------------------------------

def collecting_logger(trt, min_severity=None):
    """A ``trt.ILogger`` that keeps every message as ``"[V] text"`` (letters as TensorRT's own logger
    prints them) in ``.lines``, so a build log can be read afterwards; VERBOSE by default."""
    letters = {"INTERNAL_ERROR": "F", "ERROR": "E", "WARNING": "W", "INFO": "I", "VERBOSE": "V"}
    floor = int(trt.ILogger.Severity.VERBOSE if min_severity is None else min_severity)

    class Collecting(trt.ILogger):
        def __init__(self):
            trt.ILogger.__init__(self)
            self.lines: list[str] = []

        def log(self, severity, msg):
            if int(severity) <= floor:
                self.lines.append(f"[{letters.get(severity.name, '?')}] {msg}")

    return Collecting()


#: TensorRT's wording, each quoted from real logs:
#: - "Skipping tactic 3 due to insufficient memory on requested size of 9385 detected for tactic
#:   0x0000000000000004." (hmorimitsu/ptlflow#65), 10.x with an "UNSUPPORTED_STATE: " prefix
#:   (zz990099/foundationpose_cpp#22, ultralytics/ultralytics#22271), 8.x also misspelt "insuficient"
#:   (ultralytics/yolov5#12248) or "due to oom error" (Hale423/CenterPoint#10);
#: - "Tactic Device request: 9385MB Available: 7649MB. Device memory is insufficient to use tactic."
#:   (the same threads);
#: - "Some tactics do not have sufficient workspace memory to run. Increasing workspace size may
#:   increase performance, please check verbose output." (NVIDIA/TensorRT#4136, wang-xinyu/tensorrtx#855);
#: - "Could not find any implementation for node {ForeignNode[...]}." (lightvector/KataGo#1228, 10.16);
#: - the builder's memory summary, "Total Activation Memory: 2478873600 bytes" and its neighbours
#:   (zz990099/foundationpose_cpp#22, 10.x; "Total Scratch Memory: 140175360" in 8.x, CenterPoint#10).
_SKIP = re.compile(r"Skipping tactic (?P<index>\S+) due to (?:insufficient memory|insuficient memory|oom error) "
                   r"on requested size of (?P<size>\d+) detected for tactic (?P<tactic>0x[0-9a-fA-F]+|-?\d+)")
_DEVICE = re.compile(r"Tactic Device request: (?P<request>\d+)\s*MB Available: (?P<available>\d+)\s*MB")
_SUMMARY = "Some tactics do not have sufficient workspace memory to run"
_NO_IMPL = re.compile(r"Could not find any implementation for node (?P<node>.+?)(?:\.\)|\.\s|\.$|$)")
_MEMORY = re.compile(r"(?P<what>Total Host Persistent Memory|Total Device Persistent Memory|Max Scratch Memory|"
                     r"Total Scratch Memory|Total Activation Memory|Total Weights Memory): (?P<n>\d+)")


@dataclass(frozen=True)
class Skip:
    """One tactic the builder skipped for memory. ``requested`` is the number as printed; its unit is
    ``"bytes"`` or ``"MiB"`` when the log shows which (see :func:`read_build_log`), else None."""

    tactic: str
    requested: int
    unit: str | None
    device_request_mib: int | None = None   # the "Tactic Device request" line that came with it, if any

    @property
    def requested_bytes(self) -> int | None:
        return {"bytes": self.requested, "MiB": self.requested << 20}.get(self.unit or "")


@dataclass(frozen=True)
class BuildLog:
    """What a build log says about memory."""

    skipped: list[Skip] = field(default_factory=list)
    warned_insufficient_workspace: bool = False
    no_implementation: list[str] = field(default_factory=list)
    memory: dict[str, int] = field(default_factory=dict)   # the builder's summary, bytes

    def over(self, limit: int | None) -> list[Skip]:
        """Skipped tactics whose request exceeds ``limit`` bytes (the WORKSPACE limit set for the
        build): those the pool limit explains. Requests of unknown unit are left out."""
        if limit is None:
            return []
        return [s for s in self.skipped if s.requested_bytes is not None and s.requested_bytes > limit]


def read_build_log(lines, major: int | None = None) -> BuildLog:
    """Read a TensorRT build log (lines of text, e.g. :func:`collecting_logger`'s ``.lines``) of
    TensorRT ``major`` (None if unknown).

    The unit of "requested size" differs between releases and messages: 10.x prints bytes
    (ultralytics/ultralytics#22271: "requested size of 1048576000" beside "Tactic Device request:
    1000MB"; zz990099/foundationpose_cpp#22: 7742685184); some 8.x logs print MiB
    (hmorimitsu/ptlflow#65: 9385 beside "9385MB"), others bytes (enazoe/yolo-tensorrt#169:
    4294967296). So a skip takes its unit from the "Tactic Device request" line next to it when there
    is one, else bytes for ``major >= 10`` or a number of at least 1 MiB, else unknown.
    """
    if isinstance(lines, str):
        raise InputError("pass the log as a list of lines (str.splitlines()), not one string")
    lines = [str(line) for line in lines]
    skips, no_impl, memory, warned = [], [], {}, False
    for i, line in enumerate(lines):
        m = _SKIP.search(line)
        if m:
            size = int(m.group("size"))
            unit, request = None, None
            # the "Tactic Device request" line of this skip: after it (past a "Try decreasing" line), or before
            for j in (i + 1, i + 2, i - 1):
                d = _DEVICE.search(lines[j]) if 0 <= j < len(lines) else None
                if d is None:
                    continue
                req = int(d.group("request"))
                if abs(req - size) <= 1:
                    unit, request = "MiB", req
                elif abs(req - size / (1 << 20)) <= 1:
                    unit, request = "bytes", req
                if unit:
                    break
            if unit is None and (size >= 1 << 20 or (major is not None and major >= 10)):
                unit = "bytes"
            skips.append(Skip(m.group("tactic"), size, unit, request))
        warned = warned or _SUMMARY in line
        n = _NO_IMPL.search(line)
        if n:
            no_impl.append(n.group("node"))
        mm = _MEMORY.search(line)
        if mm:
            memory[mm.group("what")] = int(mm.group("n"))
    return BuildLog(skips, warned, no_impl, memory)


def build_log_table(logs: dict[str, tuple[BuildLog, int | None]]) -> str:
    """One row per build (label -> (log, WORKSPACE limit or None)): skips, how many over the limit."""
    rows = []
    for label, (log, limit) in logs.items():
        rows.append([label, mib(limit) if limit is not None else "default", len(log.skipped),
                     len(log.over(limit)), "yes" if log.warned_insufficient_workspace else "no",
                     len(log.no_implementation)])
    return table(["build", "WORKSPACE limit", "tactics skipped", "over the limit", "'insufficient workspace' warning",
                  "nodes without implementation"], rows)


# ----- the recorded cuBLAS run (ch03-cublas-workspace) -------------------------------------------

def _median(samples) -> float:
    return timing.summarize(samples).median


def ceilings(result) -> tuple[float, float]:
    """The run's measured copy bandwidth (bytes/s) and FP16 matrix-product rate (FLOP/s)."""
    c = result.data["ceilings"]
    return (c["copy"]["bytes_moved"] / (_median(c["copy"]["samples_ms"]) / 1000),
            c["gemm_fp16"]["flops"] / (_median(c["gemm_fp16"]["samples_ms"]) / 1000))


def _shape(result, name: str) -> dict:
    for s in result.data["shapes"]:
        if s["name"] == name:
            return s
    raise ResultError(f"{result.path.name}: no shape named {name!r}")


def _percent(result, shape: dict, ms: float) -> tuple[float, float]:
    bandwidth, peak = ceilings(result)
    m, n, k = shape["m"], shape["n"], shape["k"]
    seconds = ms / 1000
    return 100 * 2 * m * n * k / seconds / peak, 100 * 2 * (m * k + k * n + m * n) / seconds / bandwidth


@dataclass(frozen=True)
class KnobRow:
    shape: str
    default_ms: float
    zero_ms: float
    default_kernels: tuple[str, ...]
    zero_kernels: tuple[str, ...]

    @property
    def slowdown(self) -> float:
        return self.zero_ms / self.default_ms

    @property
    def kernels_changed(self) -> bool:
        return self.default_kernels != self.zero_kernels


def knob_rows(result) -> list[KnobRow]:
    """Per shape: PyTorch's matmul with cuBLAS's default workspace and with none, and the kernels."""
    runs = result.data["torch"]
    if set(runs) != {"default", "zero"}:
        raise ResultError(f"{result.path.name}: expected torch runs 'default' and 'zero', got {sorted(runs)}")
    by = {mode: {c["shape"]: c for c in runs[mode]["cases"]} for mode in runs}
    rows = []
    for s in result.data["shapes"]:
        d, z = by["default"].get(s["name"]), by["zero"].get(s["name"])
        if d is None or z is None:
            raise ResultError(f"{result.path.name}: shape {s['name']!r} lacks a default or zero-workspace run")
        rows.append(KnobRow(s["name"], _median(d["samples_ms"]), _median(z["samples_ms"]),
                            tuple(d["kernels"]), tuple(z["kernels"])))
    return rows


def short(kernel: str, width: int = 48) -> str:
    """A kernel name cut to ``width`` characters for tables."""
    return kernel if len(kernel) <= width else kernel[:width - 3] + "..."


def knob_table(result) -> str:
    """The measured effect of forcing cuBLAS's workspace to zero, shape by shape."""
    rows = []
    for r in knob_rows(result):
        s = _shape(result, r.shape)
        flops_pct, bw_pct = _percent(result, s, r.default_ms)
        rows.append([f"{r.shape} ({s['m']}x{s['n']}x{s['k']})", f"{r.default_ms * 1000:.1f} us",
                     f"{r.zero_ms * 1000:.1f} us", f"{r.slowdown:.2f}x", "yes" if r.kernels_changed else "no",
                     f"{flops_pct:.0f}%", f"{bw_pct:.0f}%"])
    runs = result.data["torch"]
    extra = [runs[m].get("first_call_extra_bytes") for m in ("default", "zero")]
    if not extra[0]:  # the recorder read the allocation after its float64 reference product, a cuBLAS call too
        head = ("PyTorch's cuBLAS workspace: not measured by this run (the allocation was read around the first "
                f"FP16 matmul, after the float64 reference product had already called cuBLAS; both runs read "
                f"{mib(extra[0])} and {mib(extra[1])})\n")
    else:
        head = ("PyTorch's cuBLAS workspace (what its first matmul allocated beyond the output): "
                f"default run {mib(extra[0])}, zero-workspace run {mib(extra[1])}\n")
    return head + table(["shape (MxNxK)", "default workspace", "zero workspace", "slowdown", "other kernel?",
                         "% FP16 peak (default)", "% bandwidth (default)"], rows)


def kernel_table(result) -> str:
    """The kernels PyTorch's matmul launched, per shape, with and without a workspace."""
    rows = []
    for r in knob_rows(result):
        rows.append([r.shape, "default", "; ".join(short(k) for k in r.default_kernels)])
        rows.append(["", "zero", "; ".join(short(k) for k in r.zero_kernels)])
    return table(["shape", "workspace", "kernels (torch.profiler)"], rows)


@dataclass(frozen=True)
class Candidate:
    """One cuBLASLt algorithm the heuristic offered: its workspace need and measured time."""

    index: int
    workspace_bytes: int
    ms: float
    kernels: tuple[str, ...]


def candidates(result, shape: str) -> list[Candidate]:
    """The cuBLASLt candidates of one shape (the recorder's ``cublaslt`` part)."""
    lt = result.data.get("cublaslt", {})
    if "error" in lt:
        raise ResultError(f"{result.path.name}: the cuBLASLt part did not run: {lt['error']}")
    case = next((c for c in lt.get("cases", []) if c["shape"] == shape), None)
    if case is None:
        raise ResultError(f"{result.path.name}: no cuBLASLt candidates for shape {shape!r}")
    return [Candidate(a["index"], int(a["workspace_bytes"]), _median(a["samples_ms"]), tuple(a["kernels"]))
            for a in case["algos"]]


def best_under(cands: list[Candidate], limit: int) -> Candidate | None:
    """What a builder that times every candidate fitting ``limit`` bytes keeps (TensorRT's rule)."""
    fitting = [c for c in cands if c.workspace_bytes <= limit]
    return min(fitting, key=lambda c: c.ms) if fitting else None


def filter_table(result, limits=(0, 1 << 20, 32 << 20)) -> str:
    """Per shape and workspace limit: the fastest candidate that fits, and its cost against the best."""
    rows = []
    for s in result.data["shapes"]:
        cands = candidates(result, s["name"])
        best = min(cands, key=lambda c: c.ms)
        for limit in limits:
            c = best_under(cands, limit)
            rows.append([s["name"], mib(limit), "none fits" if c is None else f"{c.ms * 1000:.1f} us",
                         "-" if c is None else f"{c.ms / best.ms:.2f}x", "-" if c is None else mib(c.workspace_bytes),
                         len([x for x in cands if x.workspace_bytes <= limit]), len(cands)])
    return table(["shape", "limit", "fastest that fits", "vs best", "its workspace", "fit", "candidates"], rows)


def show_tactic_filter(result, limits=(1 << 20, 32 << 20)) -> None:
    """Each cuBLASLt candidate's time against the workspace it needs, one panel per shape; dashed
    lines at workspace limits. Only the points left of a line are allowed under that limit."""
    import matplotlib.pyplot as plt

    shapes = result.data["shapes"]
    with plots.style():
        fig, axes = plt.subplots(1, len(shapes), figsize=(3.3 * len(shapes), 3.4), layout="constrained", squeeze=False)
        for ax, s in zip(axes[0], shapes):
            cands = candidates(result, s["name"])
            x = np.array([max(c.workspace_bytes, 1024) for c in cands], float)
            y = np.array([c.ms * 1000 for c in cands])
            ax.scatter(x, y, s=14, color="C0", zorder=3)
            ax.scatter([x[i] for i, c in enumerate(cands) if c.workspace_bytes == 0],
                       [y[i] for i, c in enumerate(cands) if c.workspace_bytes == 0], s=14, color="C3", zorder=4,
                       label="needs no workspace")
            for limit, style in zip(limits, ("--", ":")):
                ax.axvline(limit, color="0.3", ls=style, lw=1, label=f"limit {mib(limit)}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(f"{s['name']}: {s['m']}x{s['n']}x{s['k']}", fontsize=9)
            ax.set_xlabel("workspace needed (bytes; 0 drawn at 1 KiB)")
        axes[0][0].set_ylabel("time per GEMM (us)")
        axes[0][0].legend(fontsize=7)
        plots.source_note(axes[0][0], f"cuBLASLt on {result.provenance['gpu']}, not TensorRT (recorded run)")
        plt.show()
