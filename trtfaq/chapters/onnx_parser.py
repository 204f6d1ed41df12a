"""Chapter 10: which ONNX operators TensorRT's parser imports, and which node of a model it cannot.

TensorRT's ONNX parser is open source (onnx/onnx-tensorrt) and documents, per release, the opset range
and every ONNX operator with its support, types and restrictions (``docs/operators.md``). The book ships
that file for TensorRT 10.16 and 11.1 (``trtfaq/data/onnx-tensorrt/``, with the commit each came from);
:func:`load_matrix` reads it, :func:`check_model` names every node of a model the matrix says the parser
will refuse (also inside ``If``/``Loop``/``Scan`` bodies and local functions), and :func:`subgraphs`
partitions the graph around them the way the parser's ``supports_model_v2`` does.

The matrix is documentation, not the parser: an operator marked ``Y`` can still fail on a restriction or
a type, and only the parser of the reader's TensorRT gives the final answer (the chapter's TensorRT cells).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..tables import table

DATA = Path(__file__).resolve().parents[1] / "data" / "onnx-tensorrt"
#: ONNX domains the parser imports as standard operators
DEFAULT_DOMAINS = ("", "ai.onnx")
_HEADER = re.compile(r"TensorRT\s+([0-9.]+)\s+supports operators in the inclusive range of opset\s+(\d+)\s+to\s+"
                     r"opset\s+(\d+)", re.I)
_TYPES = re.compile(r"TensorRT supports the following ONNX data types:\s*(.+)")


@dataclass(frozen=True)
class Operator:
    name: str
    supported: bool
    types: tuple[str, ...]
    restrictions: str


@dataclass(frozen=True)
class Matrix:
    """One ``docs/operators.md``: the release it names, its opset range, data types and operators."""

    tensorrt: str
    opset_min: int
    opset_max: int
    data_types: tuple[str, ...]
    operators: dict[str, Operator]
    source: dict = field(default_factory=dict)

    def status(self, op_type: str) -> Operator | None:
        """The matrix row of ``op_type``, or None when the matrix does not list it."""
        return self.operators.get(op_type)


def parse_operators_md(text: str, source: dict | None = None) -> Matrix:
    """Read the text of an onnx-tensorrt ``docs/operators.md`` (the book's copy or one you download)."""
    if not isinstance(text, str):
        raise InputError(f"operators.md must be given as text, got {type(text).__name__}")
    head = _HEADER.search(text)
    if head is None:
        raise InputError("not an onnx-tensorrt operators.md: no 'TensorRT X supports operators in the inclusive "
                         "range of opset A to opset B' line")
    types = _TYPES.search(text)
    data_types = tuple(t.strip() for t in re.split(r",|\band\b", types.group(1)) if t.strip()) if types else ()
    operators = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.startswith("|") else []
        if len(cells) < 2 or cells[0] in ("Operator", "") or set(cells[0]) <= {"-", ":"}:
            continue
        flag = cells[1].upper()
        if not flag.startswith(("Y", "N")):
            continue
        types_cell = cells[2] if len(cells) > 2 else ""
        operators[cells[0]] = Operator(cells[0], flag.startswith("Y"),
                                       tuple(t.strip() for t in types_cell.split(",") if t.strip()),
                                       " | ".join(c for c in cells[3:] if c))
    if not operators:
        raise InputError("operators.md has no operator table (rows like '| Abs | Y | FP32, FP16 |')")
    return Matrix(head.group(1), int(head.group(2)), int(head.group(3)), data_types, operators, dict(source or {}))


def matrices() -> dict[str, dict]:
    """The vendored matrices: release -> where it came from (repository, path, commit, URL)."""
    return json.loads((DATA / "sources.json").read_text(encoding="utf-8"))["matrices"]


def load_matrix(release: str) -> Matrix:
    """The vendored matrix for a TensorRT release: ``"10.16"``, ``"11.1"``, or any ``10.x``/``11.x`` version
    string such as ``trt.__version__`` (10.x reads 10.16's, 11.x reads 11.1's: the newest in the open-source
    tree). Other majors are a one-line error."""
    known = matrices()
    release = str(release).strip()
    key = release if release in known else {"10": "10.16", "11": "11.1"}.get(release.split(".")[0])
    if key is None:
        raise InputError(f"no vendored operator matrix for TensorRT {release!r}: the book ships "
                         f"{', '.join(sorted(known))}; pass your own docs/operators.md to parse_operators_md")
    info = known[key]
    return parse_operators_md((DATA / info["file"]).read_text(encoding="utf-8"), info)


# ----- checking a model --------------------------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """A node the parser will not import (``blocking``) or should be checked against a restriction."""

    node: int              # index in the main graph (the enclosing node for nested graphs)
    name: str
    op_type: str
    where: str             # "graph", or the path into an If/Loop/Scan body or local function
    reason: str
    blocking: bool


@dataclass(frozen=True)
class Report:
    tensorrt: str
    opset: int
    opset_ok: bool
    findings: list[Finding]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.blocking]

    @property
    def supported(self) -> bool:
        return self.opset_ok and not self.blocking


def opset_of(model) -> int:
    """The model's opset for the default ONNX domain; one-line error if it imports none."""
    for imp in model.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            return int(imp.version)
    raise InputError("the model imports no default-domain opset: is it an ONNX model?")


def _check_model_arg(model):
    if not hasattr(model, "graph") or not hasattr(model, "opset_import"):
        raise InputError(f"expected an onnx.ModelProto, got {type(model).__name__}")


def _node_findings(node, matrix, functions, index, where, seen) -> list[Finding]:
    name = node.name or f"node_of_{node.output[0] if node.output else index}"
    if (node.domain, node.op_type) in functions:
        key = (node.domain, node.op_type)
        if key in seen:  # a recursive function: report once
            return []
        found = []
        for sub in functions[key].node:
            found += _node_findings(sub, matrix, functions, index, f"{where} > function {node.op_type}",
                                    seen | {key})
        return found
    found = []
    if node.domain not in DEFAULT_DOMAINS:
        found.append(Finding(index, name, node.op_type, where, f"domain {node.domain!r} is not ONNX's: the parser "
                             "looks for a TensorRT plugin of this name", True))
    else:
        row = matrix.status(node.op_type)
        if row is None:
            found.append(Finding(index, name, node.op_type, where, "not in the matrix: the parser looks for a "
                                 "TensorRT plugin of this name", True))
        elif not row.supported:
            found.append(Finding(index, name, node.op_type, where, "marked N (not supported)"
                                 + (f": {row.restrictions}" if row.restrictions else ""), True))
        elif row.restrictions:
            found.append(Finding(index, name, node.op_type, where, f"check: {row.restrictions}", False))
    for attr in node.attribute:
        graphs = ([attr.g] if attr.HasField("g") else []) + list(attr.graphs)
        for g in graphs:
            for sub in g.node:
                found += _node_findings(sub, matrix, functions, index, f"{where} > {node.op_type} '{name}'."
                                        f"{attr.name}", seen)
    return found


def check_model(model, matrix: Matrix) -> Report:
    """Every node of ``model`` the matrix says TensorRT's parser refuses (``blocking``), every node whose
    row carries a restriction to check by hand, and whether the opset is in the matrix's range."""
    _check_model_arg(model)
    if not isinstance(matrix, Matrix):
        raise InputError(f"expected a Matrix (load_matrix or parse_operators_md), got {type(matrix).__name__}")
    opset = opset_of(model)
    functions = {(f.domain, f.name): f for f in model.functions}
    findings: list[Finding] = []
    for i, node in enumerate(model.graph.node):
        findings += _node_findings(node, matrix, functions, i, "graph", frozenset())
    return Report(matrix.tensorrt, opset, matrix.opset_min <= opset <= matrix.opset_max, findings)


def report_table(report: Report, blocking_only: bool = False) -> str:
    """The findings as a text table, with the opset verdict above it."""
    head = (f"opset {report.opset}: " + ("inside" if report.opset_ok else "OUTSIDE") +
            f" the range TensorRT {report.tensorrt}'s parser documents")
    rows = [[f.node, f.name, f.op_type, f.where, "REFUSED" if f.blocking else "check", f.reason]
            for f in report.findings if f.blocking or not blocking_only]
    if not rows:
        return head + "\nno node outside the operator matrix"
    return head + "\n" + table(["node", "name", "operator", "where", "verdict", "why"], rows)


def _topological_order(graph) -> list[int]:
    produced = {out: i for i, n in enumerate(graph.node) for out in n.output if out}
    order: list[int] = []
    state: dict[int, int] = {}

    def visit(i):
        if state.get(i) == 2:
            return
        if state.get(i) == 1:
            raise InputError(f"the graph has a cycle through node {i}")
        state[i] = 1
        for name in graph.node[i].input:
            if name in produced:
                visit(produced[name])
        state[i] = 2
        order.append(i)

    for i in range(len(graph.node)):
        visit(i)
    return order


def subgraphs(model, report: Report) -> list[list[int]]:
    """The main graph's nodes in topological order, cut at every blocking node: what the parser's
    ``supports_model_v2`` reports as subgraphs (onnx-tensorrt ``ModelImporter::reportSubgraphs``)."""
    _check_model_arg(model)
    bad = {f.node for f in report.blocking}
    parts: list[list[int]] = []
    current: list[int] = []
    for i in _topological_order(model.graph):
        if i in bad:
            if current:
                parts.append(current)
            current = []
        else:
            current.append(i)
    if current:
        parts.append(current)
    return parts


# ----- the chapter's model -----------------------------------------------------------------------
PATCH, SIDE, CHANNELS = 4, 16, 16


def patch_model(seed: int = 0, opset: int = 25, fold: str = "col2im"):
    """A per-patch image filter: split a 16x16 image into 4x4 patches (a stride-4 convolution), mix each
    patch's 16 features (a 1x1 convolution and ReLU), put the patches back together and add the input
    (a residual filter).

    ``fold="col2im"`` puts them back with ONNX ``Col2Im`` (opset 18+, what ``torch.nn.functional.fold``
    computes); ``fold="reshape"`` with Reshape/Transpose/Reshape, the same function for non-overlapping
    patches. Input ``x`` [N, 1, 16, 16], output ``y`` [N, 1, 16, 16], fixed-seed weights; the folded image
    is the tensor ``folded``.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    if fold not in ("col2im", "reshape"):
        raise InputError(f"fold must be 'col2im' or 'reshape', got {fold!r}")
    if fold == "col2im" and opset < 18:
        raise InputError(f"Col2Im exists from opset 18; opset {opset} cannot hold this model")
    rng = np.random.default_rng(seed)
    p2, grid = PATCH * PATCH, SIDE // PATCH
    inits = [numpy_helper.from_array((rng.standard_normal((CHANNELS, 1, PATCH, PATCH)) / PATCH).astype(np.float32),
                                     "embed_w"),
             numpy_helper.from_array((0.1 * rng.standard_normal(CHANNELS)).astype(np.float32), "embed_b"),
             numpy_helper.from_array((rng.standard_normal((p2, CHANNELS, 1, 1)) / 4).astype(np.float32), "mix_w"),
             numpy_helper.from_array(np.array([0, p2, grid * grid], np.int64), "cols_shape")]
    nodes = [helper.make_node("Conv", ["x", "embed_w", "embed_b"], ["patches"], name="embed",
                              strides=[PATCH, PATCH]),
             helper.make_node("Relu", ["patches"], ["act"], name="relu"),
             helper.make_node("Conv", ["act", "mix_w"], ["mixed"], name="mix"),
             helper.make_node("Reshape", ["mixed", "cols_shape"], ["cols"], name="to_columns")]
    if fold == "col2im":
        inits += [numpy_helper.from_array(np.array([SIDE, SIDE], np.int64), "image_shape"),
                  numpy_helper.from_array(np.array([PATCH, PATCH], np.int64), "block_shape")]
        nodes.append(helper.make_node("Col2Im", ["cols", "image_shape", "block_shape"], ["folded"], name="fold",
                                      strides=[PATCH, PATCH]))
    else:
        # cols[n, (i*4+j), (r*4+c)] is pixel (4r+i, 4c+j): split both axes, move (r, i, c, j) in place
        inits += [numpy_helper.from_array(np.array([0, PATCH, PATCH, grid, grid], np.int64), "split_shape"),
                  numpy_helper.from_array(np.array([0, 1, SIDE, SIDE], np.int64), "image_shape4")]
        nodes += [helper.make_node("Reshape", ["cols", "split_shape"], ["split"], name="fold_split"),
                  helper.make_node("Transpose", ["split"], ["moved"], name="fold_move", perm=[0, 3, 1, 4, 2]),
                  helper.make_node("Reshape", ["moved", "image_shape4"], ["folded"], name="fold_join")]
    nodes.append(helper.make_node("Add", ["folded", "x"], ["y"], name="residual"))
    graph = helper.make_graph(nodes, "patch_filter",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, SIDE, SIDE])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1, SIDE, SIDE])], inits)
    model = helper.make_model(graph, producer_name="trtfaq", opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model


def convert_opset(model, target: int):
    """``model`` rewritten for opset ``target`` with ONNX's version converter (checked afterwards)."""
    import onnx
    from onnx import version_converter

    _check_model_arg(model)
    try:
        converted = version_converter.convert_version(model, int(target))
    except Exception as exc:  # the converter raises several types, all meaning "cannot convert"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].split("failed: ")[-1][:160]
        raise InputError(f"cannot convert the model from opset {opset_of(model)} to {target}: {first}") from None
    onnx.checker.check_model(converted)
    return converted

