"""What an engine of the double computes: an ONNX model on ONNX Runtime (CPU), or a layer graph on numpy.

A program knows its I/O by engine tensor name and answers three questions: the shapes of outputs (and
debug tensors) for given input shapes, their values for given inputs, and a modelled duration. The
values come from ONNX Runtime (``onnx.reference.ReferenceEvaluator`` where ORT cannot run a model) or
numpy; they say nothing about TensorRT's accuracy, and the duration says nothing about its speed.
"""
from __future__ import annotations

import hashlib
import io
import json
import threading

import numpy as np

#: nominal rates of the modelled clock (not a claim about any GPU)
FLOPS_PER_MS = 5e10
BYTES_PER_MS = 2e9
LAUNCH_MS = 0.005

_cache: dict = {}
_cache_lock = threading.Lock()


def _elem_type_name(elem_type: int) -> str | None:
    from onnx import TensorProto

    return {TensorProto.FLOAT: "FLOAT", TensorProto.FLOAT16: "HALF", TensorProto.BFLOAT16: "BF16",
            TensorProto.INT8: "INT8", TensorProto.UINT8: "UINT8", TensorProto.INT32: "INT32",
            TensorProto.INT64: "INT64", TensorProto.BOOL: "BOOL", TensorProto.FLOAT8E4M3FN: "FP8",
            TensorProto.INT4: "INT4", TensorProto.FLOAT4E2M1: "FP4"}.get(elem_type)


def value_infos(model) -> dict:
    """ONNX tensor name -> (DataType member name or None, shape with -1 for unknown dims, or None)."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # noqa: BLE001 - shape inference is best effort
        inferred = model
    found = {}
    graph = inferred.graph
    for init in graph.initializer:
        found[init.name] = (_elem_type_name(init.data_type), tuple(init.dims))
    for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
        tt = vi.type.tensor_type
        shape = None
        if tt.HasField("shape"):
            shape = tuple(d.dim_value if d.HasField("dim_value") else -1 for d in tt.shape.dim)
        found[vi.name] = (_elem_type_name(tt.elem_type), shape)
    return found


class OnnxProgram:
    """An ONNX model with extra outputs (marked outputs, debug tensors) exposed as graph outputs."""

    def __init__(self, model_bytes: bytes, inputs: dict[str, str], outputs: dict[str, str]):
        """``inputs``/``outputs``: engine tensor name -> ONNX tensor name (outputs include debug tensors)."""
        import onnx

        self.inputs, self.outputs = dict(inputs), dict(outputs)
        model = onnx.load_from_string(model_bytes)
        present = {o.name for o in model.graph.output}
        for onnx_name in self.outputs.values():
            if onnx_name not in present:
                vi = onnx.ValueInfoProto()
                vi.name = onnx_name  # type left to ONNX Runtime
                model.graph.output.append(vi)
                present.add(onnx_name)
        self.model = model
        self._session = None
        self._reference = None
        self._tried_ort = False
        self._shapes: dict = {}
        self._lock = threading.Lock()

    # ----- values --------------------------------------------------------------------------------
    def _ort(self):
        if not self._tried_ort:
            self._tried_ort = True
            try:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.log_severity_level = 3
                self._session = ort.InferenceSession(self.model.SerializeToString(), options,
                                                     providers=["CPUExecutionProvider"])
            except Exception:  # noqa: BLE001 - e.g. a float16 operator ORT's CPU provider lacks
                self._session = None
        return self._session

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        onnx_feeds = {self.inputs[name]: arr for name, arr in feeds.items()}
        wanted = list(dict.fromkeys(self.outputs.values()))
        with self._lock:
            session = self._ort()
            values = None
            if session is not None:
                try:
                    values = dict(zip(wanted, session.run(wanted, onnx_feeds)))
                except Exception:  # noqa: BLE001 - ORT cannot run it: the reference evaluator will
                    values = None
            if values is None:
                if self._reference is None:
                    from onnx.reference import ReferenceEvaluator

                    self._reference = ReferenceEvaluator(self.model)
                values = dict(zip(wanted, self._reference.run(wanted, onnx_feeds)))
        return {name: np.asarray(values[onnx_name]) for name, onnx_name in self.outputs.items()}

    # ----- shapes and cost -----------------------------------------------------------------------
    def _concrete(self, input_shapes: dict[str, tuple]):
        """(shapes of every ONNX tensor shape inference could pin down, flops of MatMul/Gemm nodes)."""
        import onnx

        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        by_onnx = {self.inputs[n]: s for n, s in input_shapes.items()}
        for vi in model.graph.input:
            if vi.name in by_onnx:
                dims = vi.type.tensor_type.shape.dim
                del dims[:]
                for d in by_onnx[vi.name]:
                    dims.add().dim_value = int(d)
        infos = value_infos(model)
        shapes = {k: s for k, (_, s) in infos.items() if s is not None and all(d >= 0 for d in s)}
        flops = 0
        for node in model.graph.node:
            if node.op_type in ("MatMul", "Gemm") and len(node.input) >= 2:
                a, b = shapes.get(node.input[0]), shapes.get(node.input[1])
                out = shapes.get(node.output[0])
                if a and b and out:
                    k = a[-1] if node.op_type == "MatMul" or not _attr(node, "transA") else a[0]
                    flops += 2 * int(np.prod(out)) * int(k)
        return shapes, flops

    def output_shapes(self, input_shapes: dict[str, tuple]) -> dict[str, tuple]:
        key = tuple(sorted((n, tuple(s)) for n, s in input_shapes.items()))
        with self._lock:
            cached = self._shapes.get(key)
        if cached is not None:
            return cached[0]
        shapes, flops = self._concrete(input_shapes)
        out = {name: shapes.get(onnx_name) for name, onnx_name in self.outputs.items()}
        if any(s is None for s in out.values()):  # shape inference could not tell: a dry run can
            dtypes = {n: t for n, (t, _) in value_infos(self.model).items()}
            from .core import NUMPY

            feeds = {name: np.zeros(shape, NUMPY.get(dtypes.get(self.inputs[name]) or "FLOAT", np.float32))
                     for name, shape in input_shapes.items()}
            out = {name: tuple(arr.shape) for name, arr in self.run(feeds).items()}
        with self._lock:
            self._shapes[key] = (out, flops)
        return out

    def cost_ms(self, input_shapes: dict[str, tuple], io_bytes: int) -> float:
        self.output_shapes(input_shapes)
        key = tuple(sorted((n, tuple(s)) for n, s in input_shapes.items()))
        flops = self._shapes[key][1]
        return LAUNCH_MS + flops / FLOPS_PER_MS + io_bytes / BYTES_PER_MS


def _attr(node, name, default=0):
    for a in node.attribute:
        if a.name == name:
            return a.i
    return default


# ----- layer graphs --------------------------------------------------------------------------------
def _elementwise(op: str, a, b):
    if op == "DIV" and np.issubdtype(a.dtype, np.integer):
        return (np.trunc(a / b)).astype(a.dtype)
    fn = {"SUM": np.add, "PROD": np.multiply, "MAX": np.maximum, "MIN": np.minimum, "SUB": np.subtract,
          "DIV": np.divide, "POW": np.power, "FLOOR_DIV": np.floor_divide, "AND": np.logical_and,
          "OR": np.logical_or, "XOR": np.logical_xor, "EQUAL": np.equal, "GREATER": np.greater,
          "LESS": np.less}[op]
    out = fn(a, b)
    return out if op in ("AND", "OR", "XOR", "EQUAL", "GREATER", "LESS") else out.astype(a.dtype, copy=False)


def _scale(layer, x, weights):
    """IScaleLayer: "output = (input * scale + shift) ^ {power}"; ScaleMode.CHANNEL: "The channel dimension
    is assumed to be the third to last dimension" (or ``channel_axis`` when set)."""
    def coeff(key, default):
        w = weights.get(layer[key]) if layer.get(key) else None
        if w is None or w.size == 0:
            return x.dtype.type(default)
        if layer["mode"] == "UNIFORM":
            return w.reshape(()).astype(x.dtype)
        if layer["mode"] == "CHANNEL":
            axis = layer["channel_axis"] % x.ndim
            return w.reshape((-1,) + (1,) * (x.ndim - axis - 1)).astype(x.dtype)
        for k in range(x.ndim, 0, -1):  # ELEMENTWISE: weights cover the trailing dims they fill
            if int(np.prod(x.shape[x.ndim - k:])) == w.size:
                return w.reshape(x.shape[x.ndim - k:]).astype(x.dtype)
        raise ValueError(f"scale weights of {w.size} values do not fit an input of shape {x.shape}")

    y = x * coeff("scale", 1) + coeff("shift", 0)
    power = coeff("power", 1)
    return y if np.all(power == 1) else np.power(y, power).astype(x.dtype)


class LayerProgram:
    """A network built with the layer API, run with numpy in the network's types."""

    def __init__(self, graph: dict, weights: dict[str, np.ndarray]):
        self.graph, self.weights = graph, weights
        self.inputs = dict(graph["inputs"])  # engine name -> tensor id
        self.outputs = {**graph["outputs"], **graph["debug"]}

    def run(self, feeds):
        values = {self.inputs[name]: np.asarray(arr) for name, arr in feeds.items()}
        for layer in self.graph["layers"]:
            kind = layer["kind"]
            if kind == "constant":
                values[layer["out"]] = self.weights[layer["weights"]].reshape(layer["shape"])
            elif kind == "elementwise":
                a, b = (values[i] for i in layer["in"])
                values[layer["out"]] = _elementwise(layer["op"], a, b)
            elif kind == "scale":
                values[layer["out"]] = _scale(layer, values[layer["in"][0]], self.weights)
        return {name: values[tid] for name, tid in self.outputs.items()}

    def output_shapes(self, input_shapes):
        shapes = {self.inputs[n]: tuple(s) for n, s in input_shapes.items()}
        for layer in self.graph["layers"]:
            if layer["kind"] == "constant":
                shapes[layer["out"]] = tuple(layer["shape"])
            elif layer["kind"] == "elementwise":
                shapes[layer["out"]] = tuple(np.broadcast_shapes(*(shapes[i] for i in layer["in"])))
            else:
                shapes[layer["out"]] = shapes[layer["in"][0]]
        return {name: shapes[tid] for name, tid in self.outputs.items()}

    def cost_ms(self, input_shapes, io_bytes: int) -> float:
        return LAUNCH_MS + 2 * io_bytes / BYTES_PER_MS


def program_for(header: dict, payload: bytes):
    """The program of a plan (cached by plan content, so engines of one plan share an ORT session)."""
    key = hashlib.sha256(payload + json.dumps([header["io"], header["debug"]]).encode()).hexdigest()
    with _cache_lock:
        found = _cache.get(key)
    if found is not None:
        return found
    if header["kind"] == "onnx":
        io_map = {t["name"]: t["onnx_name"] for t in header["io"]}
        inputs = {t["name"]: t["onnx_name"] for t in header["io"] if t["mode"] == "INPUT"}
        outputs = {t["name"]: io_map[t["name"]] for t in header["io"] if t["mode"] == "OUTPUT"}
        outputs.update({d["name"]: d["onnx_name"] for d in header["debug"]})
        program = OnnxProgram(payload, inputs, outputs)
    else:
        with np.load(io.BytesIO(payload)) as npz:
            weights = {k: npz[k] for k in npz.files}
        program = LayerProgram(header["graph"], weights)
    with _cache_lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache.setdefault(key, program)
        return _cache[key]
