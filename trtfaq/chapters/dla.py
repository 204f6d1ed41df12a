"""Chapter 8: what TensorRT's DLA partitioner must do, computed on CPU from an ONNX model.

Each node is marked DLA-capable or not by the rules below, then the graph is cut into GPU and DLA
partitions; every tensor that crosses from one to the other is a reformat (a copy between the GPU's and
the DLA's memory layouts). This is a model of the documented rules, not TensorRT: the real builder checks
many more per-layer limits, and its timings need a Jetson with DLA.

Rules encoded, each from NVIDIA's "Working with DLA" and "DLA Supported Layers and Restrictions" pages
(docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/, read with the 11.4.1 release notes;
the layer list is the same sentence on the 11.1.0, 11.3.0, 11.4.0 and 11.4.1 "Working with DLA" pages):
"""
from __future__ import annotations

from dataclasses import dataclass, field

import onnx
from onnx import TensorProto

from ..cnn import cnn  # noqa: F401  (the chapter's model, re-exported for the notebook)
from ..errors import InputError

DOCS = "https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/dla-layer-restrictions.html"

#: rule id -> what the page says (paraphrased) and what this module encodes
RULES = {
    "layer": ("DLA supports convolution, deconvolution, fully connected, activation, pooling and batch "
              "normalization ('Working with DLA')",
              "Conv, ConvTranspose, activations, MaxPool/AveragePool, BatchNormalization are candidates; "
              "Gemm is not (10.0 removed the fully connected layer: the parser emits a matrix multiply, whose DLA "
              "rules are not encoded); every other op is GPU (the full table lists more layers, not encoded)"),
    "activation": ("Activation: FP16, INT8; '2D only; ReLU, Sigmoid, TanH, Clip' (table, Activation row)",
                   "Relu, Sigmoid, Tanh, Clip only"),
    "2d": ("convolution/pooling/activation are 2D ('2D only' in the Activation row; DLA is built for CNNs)",
           "candidates need rank-4 NCHW tensors; Conv1D/Conv3D are GPU"),
    "static": ("'DLA does not support dynamic dimensions'", "a tensor with an unknown dimension is GPU"),
    "dims": ("'maximum supported size for non-batch dimensions is 8192'; 'maximum supported batch size is 4096'",
             "C, H, W <= 8192 and N <= 4096"),
    "precision": ("DLA runs FP16 and INT8; in 11.x 'precision is determined by network tensor types' "
                  "(Strongly Typed Networks for DLA, 11.4.1)", "with precision_from_model=True (11.x) an FP32 "
                  "tensor is GPU; with False (10.x, --fp16) the types are not checked"),
    "loadables": ("'only 16 DLA loadable can be loaded concurrently per core' (General Restrictions); "
                  "TensorRT 7/8 builders warned 'DLA supports only 8 subgraphs per DLA core'",
                  "DLA partitions are counted against a limit you pass (default 16)"),
}

ACTIVATIONS = {"Relu", "Sigmoid", "Tanh", "Clip"}
CANDIDATES = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "BatchNormalization"} | ACTIVATIONS
SPATIAL = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "BatchNormalization"} | ACTIVATIONS


@dataclass
class Placement:
    node: str
    op: str
    device: str            # "DLA" or "GPU"
    reason: str            # the rule that sent it to the GPU, "" on DLA


@dataclass
class Partitioning:
    placements: list[Placement]
    partitions: list[tuple[str, list[str]]]          # (device, node names), in graph order
    boundaries: list[tuple[str, str, str]]           # (tensor, from device, to device)
    limit: int
    io_on_dla: list[str] = field(default_factory=list)

    @property
    def dla_subgraphs(self) -> int:
        return sum(1 for d, _ in self.partitions if d == "DLA")

    @property
    def over_limit(self) -> bool:
        return self.dla_subgraphs > self.limit

    def summary(self) -> str:
        return (f"{len(self.placements)} nodes, {sum(p.device == 'DLA' for p in self.placements)} on DLA; "
                f"{len(self.partitions)} partitions, {self.dla_subgraphs} DLA subgraphs (limit {self.limit}"
                f"{', OVER' if self.over_limit else ''}); {len(self.boundaries)} GPU<->DLA reformats")


def _shapes(model: onnx.ModelProto) -> dict[str, tuple[list, int]]:
    inferred = onnx.shape_inference.infer_shapes(model)
    out = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        t = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        out[vi.name] = (dims, t.elem_type)
    return out


def _place(node, shapes, precision_from_model) -> str:
    """'' if the node may run on DLA, else the id of the rule that keeps it on the GPU."""
    if node.op_type not in CANDIDATES:
        return "layer"
    tensors = [t for t in list(node.input[:1]) + list(node.output) if t]
    for t in tensors:
        dims, dtype = shapes.get(t, (None, None))
        if dims is None or any(d is None for d in dims):
            return "static"
        if node.op_type in SPATIAL and len(dims) != 4:
            return "2d"
        if dims and (dims[0] > 4096 or any(d > 8192 for d in dims[1:])):
            return "dims"
        if precision_from_model and dtype not in (TensorProto.FLOAT16, TensorProto.INT8):
            return "precision"
    return ""


def partition(model: onnx.ModelProto, limit: int = 16, precision_from_model: bool = False) -> Partitioning:
    """Mark each node of ``model`` DLA or GPU, cut the graph into partitions and list the reformats."""
    if not isinstance(model, onnx.ModelProto):
        raise InputError(f"partition needs an onnx.ModelProto, got {type(model).__name__}")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"limit must be a whole number of DLA subgraphs >= 1, got {limit!r}")
    if not model.graph.node:
        raise InputError("the model has no nodes")
    names = [n.name or f"{n.op_type}_{i}" for i, n in enumerate(model.graph.node)]
    if len(set(names)) != len(names):
        raise InputError("node names must be unique (name the nodes of your model)")
    shapes = _shapes(model)
    placements = []
    for name, node in zip(names, model.graph.node):
        why = _place(node, shapes, precision_from_model)
        placements.append(Placement(name, node.op_type, "GPU" if why else "DLA", why))
    device = {p.node: p.device for p in placements}
    producer = {out: name for name, n in zip(names, model.graph.node) for out in n.output}
    inputs = {name: [producer[t] for t in n.input if t in producer] for name, n in zip(names, model.graph.node)}
    ancestors: dict[str, set[str]] = {}
    for name in names:                         # ONNX graphs list nodes in topological order
        ancestors[name] = set(inputs[name]).union(*(ancestors[p] for p in inputs[name]))
    # a node joins the partition of a producer on its device unless one of its other-device ancestors
    # itself depends on that partition (joining would make the partition feed and wait on another one)
    part_of: dict[str, int] = {}
    partitions: list[tuple[str, list[str]]] = []
    for name in names:
        target = None
        for k in dict.fromkeys(part_of[p] for p in inputs[name] if device[p] == device[name]):
            members = set(partitions[k][1])
            if not any(device[u] != device[name] and ancestors[u] & members for u in ancestors[name]):
                target = k
                break
        if target is None:
            partitions.append((device[name], [name]))
            target = len(partitions) - 1
        else:
            partitions[target][1].append(name)
        part_of[name] = target
    boundaries = []
    for name, node in zip(names, model.graph.node):
        for t in node.input:
            if t in producer and device[producer[t]] != device[name]:
                boundaries.append((t, device[producer[t]], device[name]))
    graph_in = {i.name for i in model.graph.input}
    io = sorted({t for name, n in zip(names, model.graph.node) if device[name] == "DLA"
                 for t in n.input if t in graph_in}
                | {o.name for o in model.graph.output if o.name in producer and device[producer[o.name]] == "DLA"})
    return Partitioning(placements, partitions, sorted(set(boundaries)), limit, io)



def placement_rows(result: Partitioning) -> list[list]:
    """Rows (node, op, device, rule) for trtfaq.tables.table."""
    return [[p.node, p.op, p.device, p.reason or "-"] for p in result.placements]


def partition_rows(result: Partitioning) -> list[list]:
    return [[i, d, len(ms), f"{ms[0]} .. {ms[-1]}" if len(ms) > 1 else ms[0]]
            for i, (d, ms) in enumerate(result.partitions)]
