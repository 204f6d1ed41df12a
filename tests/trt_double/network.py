"""Network definitions of the double: tensors, layers, the layer API, and the ONNX parser.

A network is either parsed from ONNX (one layer per ONNX node, named like TensorRT's parser names
unnamed nodes, ``node_of_<first output>``; the engine runs the model itself on ONNX Runtime) or built
with the layer API (``add_input``, ``add_constant``, ``add_elementwise``, ``add_scale``; the engine runs
the layer graph with numpy). Layers the layer API offers beyond these raise NotImplementedError.
"""
from __future__ import annotations

import numpy as np

from . import contract
from .core import Dims, ILogger, Weights, error, itemsize, shape_tuple, weights_or_empty
from .enums import ONNX_LAYER_TYPES, DataType, ElementWiseOperation, ErrorCode, LayerType, ScaleMode, TensorLocation
from .surface import Base, active_major, not_implemented, only, prop

_LAYER_KINDS = {"constant": "Constant", "elementwise": "ElementWise", "scale": "Scale"}


class ITensor(Base):
    _real = "ITensor"

    @classmethod
    def _make(cls, network, name, dtype, shape, producer=None, onnx_name=None, is_input=False):
        return cls._new(_network=network, _name=name, _dtype=dtype, _shape=tuple(shape), _producer=producer,
                        _onnx_name=onnx_name, _is_input=is_input, _id=network._next_id())

    @prop(10, 11)
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        if not isinstance(value, str):
            raise TypeError(f"ITensor.name must be a str, got {type(value).__name__}")
        self._name = value

    @prop(10, 11)
    def shape(self):
        return Dims(self._shape)

    @shape.setter
    def shape(self, value):
        if not self._is_input:
            raise not_implemented("ITensor.shape (setting it on a tensor that is not a network input)")
        self._shape = shape_tuple(value)

    @prop(10)  # 10.16: a settable attribute; 11.4: read-only (types come from the network)
    def dtype(self):
        return self._dtype

    @prop()
    def is_network_input(self):
        return self._is_input

    @prop()
    def is_network_output(self):
        return any(t is self for t in self._network._outputs)

    @prop(10, 11)
    def location(self):
        return TensorLocation.DEVICE


class ILayer(Base):
    _real = "ILayer"

    @classmethod
    def _make(cls, network, kind, inputs, name=None, op_type=None, **fields):
        index = len(network._layers)
        label = op_type or _LAYER_KINDS.get(kind, kind)
        layer = cls._new(_network=network, _index=index, _kind=kind, _op_type=op_type, _inputs=list(inputs),
                         _outputs=[], _name=name or f"(Unnamed Layer* {index}) [{label}]", **fields)
        network._layers.append(layer)
        return layer

    def _add_output(self, dtype, shape, name=None, onnx_name=None):
        tensor = ITensor._make(self._network, name or f"{self._name}_output", dtype, shape, producer=self,
                               onnx_name=onnx_name)
        self._outputs.append(tensor)
        return tensor

    @prop(10, 11)
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = str(value)

    @prop()
    def type(self):
        if self._op_type is None:
            return getattr(LayerType, {"constant": "CONSTANT", "elementwise": "ELEMENTWISE",
                                       "scale": "SCALE"}[self._kind])
        if self._op_type not in ONNX_LAYER_TYPES:
            raise not_implemented(f"ILayer.type (for the ONNX operator {self._op_type})")
        return getattr(LayerType, ONNX_LAYER_TYPES[self._op_type])

    @prop()
    def num_inputs(self):
        return len(self._inputs)

    @prop()
    def num_outputs(self):
        return len(self._outputs)

    def get_input(self, index):
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index):
        return self._outputs[index] if 0 <= index < len(self._outputs) else None

    # 10.x weak typing (10.16 stubs; "[DEPRECATED] Deprecated in TensorRT 10.12. Superseded by strong typing";
    # gone in 11.x). The double records the request and does not change how it computes.
    def _set_precision(self, value):
        if not isinstance(value, DataType):
            raise TypeError(f"precision must be a DataType, got {value!r}")
        self._precision = value

    precision = only(10)(prop(10)(lambda self: getattr(self, "_precision", DataType.FLOAT)).setter(_set_precision))

    @only(10)
    @prop()
    def precision_is_set(self):
        return hasattr(self, "_precision")

    @only(10)
    def set_output_type(self, index, dtype):
        """10.16 docstring: "Set the output type of this layer. Setting the output type constrains TensorRT to
        choose implementations which generate output data with the given type." Recorded, not applied."""
        if not 0 <= int(index) < len(self._outputs):
            raise IndexError(f"layer {self._name!r} has no output {index}")
        if not isinstance(dtype, DataType):
            raise TypeError(f"dtype must be a DataType, got {dtype!r}")
        self.__dict__.setdefault("_output_types", {})[int(index)] = dtype


class IConstantLayer(ILayer):
    _real = "IConstantLayer"

    @prop(10, 11)
    def weights(self):
        return self._weights

    @prop(10, 11)
    def shape(self):
        return Dims(self._shape)


class IElementWiseLayer(ILayer):
    _real = "IElementWiseLayer"

    @prop(10, 11)
    def op(self):
        return self._op

    @op.setter
    def op(self, value):
        if not isinstance(value, ElementWiseOperation):
            raise TypeError(f"op must be an ElementWiseOperation, got {value!r}")
        self._op = value


class IScaleLayer(ILayer):
    _real = "IScaleLayer"

    @prop(10, 11)
    def mode(self):
        return self._mode

    @prop(10, 11)
    def shift(self):
        return self._shift

    @prop(10, 11)
    def scale(self):
        return self._scale

    @prop(10, 11)
    def power(self):
        return self._power

    @prop(10, 11)
    def channel_axis(self):
        return self._channel_axis

    @channel_axis.setter
    def channel_axis(self, value):
        self._channel_axis = int(value)


class INetworkDefinition(Base):
    _real = "INetworkDefinition"

    @classmethod
    def _make(cls, builder, flags):
        return cls._new(_builder=builder, _flags=int(flags), _inputs=[], _outputs=[], _layers=[], _debug=[],
                        _onnx=None, _name="Unnamed Network 0", _ids=0)

    def _next_id(self):
        self._ids += 1
        return self._ids

    @property
    def _logger(self):
        return self._builder._logger

    @property
    def _strongly_typed(self):
        # 11.x: always (NetworkDefinitionCreationFlag.STRONGLY_TYPED, 11.4: "Strongly typed mode is always
        # enabled"); 10.x: when created with 1 << STRONGLY_TYPED. A 10.x network created with flags 0 is an
        # explicit-batch, weakly typed network (EXPLICIT_BATCH: "Ignored because networks are always
        # explicit batch in TensorRT 10.0").
        return active_major() >= 11 or bool(self._flags & 2)

    def _layer_api(self, what):
        if self._onnx is not None:
            raise not_implemented(f"INetworkDefinition.{what} on a network parsed from ONNX")

    # ----- read --------------------------------------------------------------------------------
    @prop(10, 11)
    def name(self):
        return self._name

    @name.setter
    def name(self, value):
        self._name = str(value)

    @prop()
    def flags(self):
        return self._flags

    @prop()
    def num_layers(self):
        return len(self._layers)

    @prop()
    def num_inputs(self):
        return len(self._inputs)

    @prop()
    def num_outputs(self):
        return len(self._outputs)

    def get_layer(self, index):
        return self._layers[index] if 0 <= index < len(self._layers) else None

    def get_input(self, index):
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index):
        return self._outputs[index] if 0 <= index < len(self._outputs) else None

    # ----- outputs and debug tensors -----------------------------------------------------------
    def _check_tensor(self, tensor):
        if not isinstance(tensor, ITensor):
            raise TypeError(f"incompatible function arguments: expected ITensor, got {type(tensor).__name__}")
        if tensor._network is not self:
            raise ValueError("the tensor belongs to another network")

    def mark_output(self, tensor):
        self._check_tensor(tensor)
        if not any(t is tensor for t in self._outputs):
            self._outputs.append(tensor)

    def unmark_output(self, tensor):
        self._check_tensor(tensor)
        self._outputs = [t for t in self._outputs if t is not tensor]

    def mark_debug(self, tensor):
        """Docstring: "Mark a tensor as a debug tensor in the network." returns: True on success."""
        self._check_tensor(tensor)
        if not any(t is tensor for t in self._debug):
            self._debug.append(tensor)
        return True

    def unmark_debug(self, tensor):
        self._check_tensor(tensor)
        self._debug = [t for t in self._debug if t is not tensor]
        return True

    def is_debug_tensor(self, tensor):
        self._check_tensor(tensor)
        return any(t is tensor for t in self._debug)

    # ----- layer API ---------------------------------------------------------------------------
    def add_input(self, name, dtype, shape):
        self._layer_api("add_input")
        if not isinstance(dtype, DataType):
            raise TypeError(f"incompatible function arguments: dtype must be a DataType, got {dtype!r}")
        tensor = ITensor._make(self, str(name), dtype, shape_tuple(shape), is_input=True)
        self._inputs.append(tensor)
        return tensor

    def add_constant(self, shape, weights):
        self._layer_api("add_constant")
        shape = shape_tuple(shape)
        weights = weights_or_empty(weights)
        if int(np.prod(shape, dtype=np.int64)) != weights.size:
            error(self._logger, f"{contract.DOUBLE}add_constant: {weights.size} weights do not fill shape {shape}")
            return None
        layer = IConstantLayer._make(self, "constant", [], _weights=weights, _shape=shape)
        layer._add_output(weights.dtype, shape)
        return layer

    def add_elementwise(self, input1, input2, op):
        """Docstring: "The input tensors must have the same number of dimensions. For each dimension, their
        lengths must match, or one of them must be one." returns "None if it could not be created"."""
        self._layer_api("add_elementwise")
        for t in (input1, input2):
            self._check_tensor(t)
        if not isinstance(op, ElementWiseOperation):
            raise TypeError(f"incompatible function arguments: op must be an ElementWiseOperation, got {op!r}")
        a, b = input1._shape, input2._shape
        if len(a) != len(b) or any(x != y and 1 not in (x, y) and -1 not in (x, y) for x, y in zip(a, b)):
            error(self._logger, f"{contract.DOUBLE}add_elementwise: shapes {a} and {b} do not broadcast (same rank, "
                                f"each dimension equal or one)")
            return None
        if input1._dtype != input2._dtype:
            error(self._logger, f"{contract.DOUBLE}add_elementwise: input types differ ({input1._dtype.name}, "
                                f"{input2._dtype.name})")
            return None
        out_shape = tuple(-1 if -1 in (x, y) else max(x, y) for x, y in zip(a, b))
        logical = op.name in ("EQUAL", "GREATER", "LESS", "AND", "OR", "XOR")
        layer = IElementWiseLayer._make(self, "elementwise", [input1, input2], _op=op)
        layer._add_output(DataType.BOOL if logical else input1._dtype, out_shape)
        return layer

    def add_scale(self, input, mode, shift=None, scale=None, power=None):
        """Docstring: "input: ... This tensor is required to have a minimum of 3 dimensions." and "For
        UNIFORM, the number of weights is equal to 1. For CHANNEL, the number of weights is equal to the
        channel dimension. For ELEMENTWISE, the number of weights is equal to the volume of the input.\""""
        self._layer_api("add_scale")
        self._check_tensor(input)
        if not isinstance(mode, ScaleMode):
            raise TypeError(f"incompatible function arguments: mode must be a ScaleMode, got {mode!r}")
        shift, scale, power = (weights_or_empty(w) for w in (shift, scale, power))
        shape = input._shape
        if len(shape) < 3:
            error(self._logger, f"{contract.DOUBLE}add_scale: the input needs at least 3 dimensions, got {shape}")
            return None
        channel_axis = len(shape) - 3
        need = {"UNIFORM": 1, "CHANNEL": shape[channel_axis]}.get(mode.name)
        for label, w in (("shift", shift), ("scale", scale), ("power", power)):
            if w.size and need is not None and need != -1 and w.size != need:
                error(self._logger, f"{contract.DOUBLE}add_scale: {label} has {w.size} weights, {mode} needs {need}")
                return None
        layer = IScaleLayer._make(self, "scale", [input], _mode=mode, _shift=shift, _scale=scale, _power=power,
                                  _channel_axis=channel_axis)
        layer._add_output(input._dtype, shape)
        return layer

    # ----- ONNX --------------------------------------------------------------------------------
    def _load_onnx(self, model, data: bytes):
        """Fill the network from a parsed ONNX model; returns a list of (ErrorCode name, desc, node)."""
        from .programs import value_infos

        if self._onnx is not None or self._layers or self._inputs:
            raise not_implemented("OnnxParser.parse into a network that already has layers")
        static = static_check(model)
        if static:
            return static
        infos = value_infos(model)
        graph = model.graph
        initializers = {i.name for i in graph.initializer}
        tensors: dict[str, ITensor] = {}

        def info(name):
            dtype_name, shape = infos.get(name, (None, None))
            return (getattr(DataType, dtype_name) if dtype_name else None), shape

        for vi in graph.input:
            if vi.name in initializers:
                continue
            dtype, shape = info(vi.name)
            if dtype is None:
                return [("UNSUPPORTED_GRAPH", f"{contract.DOUBLE}input {vi.name} has a type TensorRT cannot take",
                         -1)]
            tensors[vi.name] = t = ITensor._make(self, vi.name, dtype, shape or (), onnx_name=vi.name, is_input=True)
            self._inputs.append(t)
        for node in graph.node:
            inputs = []
            for name in node.input:
                if name and name not in tensors:
                    dtype, shape = info(name)
                    tensors[name] = ITensor._make(self, name, dtype or DataType.FLOAT, shape or (), onnx_name=name)
                inputs.append(tensors[name] if name else None)
            layer = ILayer._make(self, "onnx", inputs, name=node.name or f"node_of_{node.output[0]}",
                                 op_type=node.op_type)
            for name in node.output:
                if name:
                    dtype, shape = info(name)
                    tensors[name] = layer._add_output(dtype or DataType.FLOAT, shape or (), name=name, onnx_name=name)
        for vi in graph.output:
            if vi.name not in tensors:
                return [("INVALID_GRAPH", f"{contract.DOUBLE}graph output {vi.name} is not produced by any node", -1)]
            self._outputs.append(tensors[vi.name])
        self._onnx = {"bytes": data, "tensors": tensors}
        return []

    # ----- what the builder serializes ---------------------------------------------------------
    def _io_nbytes(self):
        return sum(itemsize(t._dtype) * int(np.prod([max(d, 1) for d in t._shape])) for t in self._inputs)


# ----- what the ONNX parser imports (chapter 10) ---------------------------------------------------------
_MATRIX_FILES = {10: "operators-10.16.md", 11: "operators-11.1.md"}
_matrices: dict = {}


def operator_matrix() -> dict[str, bool]:
    """ONNX operator -> supported, from onnx-tensorrt's docs/operators.md at the commit the played TensorRT
    pins (10.16: 6bde659; 11.x: 11.1's 7c51a63, the newest in the open-source tree), as vendored in
    trtfaq/data/onnx-tensorrt. Read here with its own small parser, independently of the book's helper."""
    import re
    from pathlib import Path

    major = active_major()
    if major not in _matrices:
        path = Path(__file__).resolve().parents[2] / "trtfaq" / "data" / "onnx-tensorrt" / _MATRIX_FILES[major]
        rows = re.findall(r"^\|\s*([A-Za-z0-9_]+)\s*\|\s*([YN])", path.read_text(encoding="utf-8"), re.M)
        _matrices[major] = {name: flag == "Y" for name, flag in rows}
    return _matrices[major]


def _nonzero_zero_point(node, initializers) -> bool:
    if node.op_type not in ("QuantizeLinear", "DequantizeLinear") or len(node.input) < 3 or not node.input[2]:
        return False
    zp = initializers.get(node.input[2])
    if zp is None:
        return False
    from onnx import numpy_helper

    return bool(np.any(numpy_helper.to_array(zp).astype(np.float64) != 0))


def static_check(model) -> list[tuple]:
    """The parser's per-node static checks (onnx-tensorrt parseGraph at 6bde659 runs parseNodeStaticCheck on
    every node and records each failure), for two rules:

    - an operator without an importer falls back to a plugin of that name; none is registered in the double,
      so it fails as TensorRT 10.x/11.x report it: 'In node 0 with name:  and operator: DummyOp
      (checkFallbackPluginImporter): INVALID_NODE: creator && "Plugin not found, are the plugin name, version,
      and namespace correct?"' (NVIDIA/Model-Optimizer#2016, July 2026; onedl-mmdeploy#16 shows the same
      assertion as "[6]", kINVALID_NODE);
    - QuantizeLinear/DequantizeLinear with a non-zero zero point (operators.md: "`x_zero_point` must be
      zero", "`y_zero_point` must be 0"); the wording of that error is the double's (not confirmed).

    Returns tuples (code, desc, node index, "plugin" marker or nothing, node name, operator, function)."""
    matrix = operator_matrix()
    initializers = {i.name: i for i in model.graph.initializer}
    found = []
    for index, node in enumerate(model.graph.node):
        name = node.name
        if node.domain not in ("", "ai.onnx") or not matrix.get(node.op_type, False):
            found.append(("INVALID_NODE", 'creator && "Plugin not found, are the plugin name, version, and '
                          'namespace correct?"', index, "plugin", name, node.op_type, "checkFallbackPluginImporter"))
        elif _nonzero_zero_point(node, initializers):
            found.append(("INVALID_NODE", f"{contract.DOUBLE}{node.op_type}: the zero point must be zero "
                          "(operators.md; TensorRT quantization is symmetric)", index, name, node.op_type,
                          f"check{node.op_type}"))
    return found


def report_subgraphs(model, error_nodes, ok) -> list[tuple[list[int], bool]]:
    """onnx-tensorrt ModelImporter::reportSubgraphs (6bde659): nodes in topological order, split at every node
    an error names; each subgraph "unknown" (False) unless the parse succeeded and there is exactly one."""
    graph = model.graph
    produced = {out: i for i, n in enumerate(graph.node) for out in n.output if out}
    order, seen = [], set()

    def visit(i):
        if i in seen:
            return
        seen.add(i)
        for name in graph.node[i].input:
            if name in produced:
                visit(produced[name])
        order.append(i)

    for i in range(len(graph.node)):
        visit(i)
    bad = {int(n) for n in error_nodes if int(n) >= 0}
    parts, current = [], None
    for i in order:
        if i in bad:
            current = None
            continue
        if current is None:
            current = []
            parts.append(current)
        current.append(i)
    return [(nodes, bool(ok and len(parts) == 1)) for nodes in parts]


class ParserError(Base):
    _real = "ParserError"

    def code(self):
        return getattr(ErrorCode, self._code)

    def desc(self):
        return self._desc

    def node(self):
        return self._node

    def node_name(self):
        return self._node_name

    def node_operator(self):
        return self._node_operator

    def file(self):
        return "trt_double/network.py"

    def func(self):
        return self._func

    def line(self):
        return 0

    def __str__(self):
        # TensorRT 10's parser errors read "In node N with name: X and operator: Y (func): CODE: desc"
        return (f"In node {self._node} with name: {self._node_name} and operator: {self._node_operator} "
                f"({self._func}): {self._code}: {self._desc}")

    def __repr__(self):
        return f"<ParserError {self}>"


class OnnxParser(Base):
    _real = "OnnxParser"

    def __init__(self, network, logger):
        if not isinstance(network, INetworkDefinition) or not isinstance(logger, ILogger):
            raise TypeError("__init__(): incompatible constructor arguments: OnnxParser(network: "
                            "INetworkDefinition, logger: ILogger)")
        self._network, self._logger, self._errors = network, logger, []

    def _fail(self, code, desc, func, node=-1, node_name="", node_operator="", err_func=None):
        err = ParserError._new(_code=code, _desc=desc, _node=node, _node_name=node_name,
                               _node_operator=node_operator, _func=err_func or func)
        self._errors.append(err)
        error(self._logger, str(err))
        return False

    def parse(self, model, path=None):
        try:
            data = bytes(memoryview(model))
        except TypeError:
            raise TypeError("parse(): incompatible function arguments: model must be a bytes-like object") from None
        return self._parse(data, "parse")

    def parse_from_file(self, model):
        try:
            with open(model, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            return self._fail("MODEL_DESERIALIZE_FAILED", f"Failed to open file {model}: {exc.strerror}",
                              "parseFromFile")
        return self._parse(data, "parseFromFile")

    def _parse(self, data: bytes, func: str) -> bool:
        import onnx

        try:
            model = onnx.load_from_string(data)
            ok = model.ir_version > 0 and len(model.graph.output) > 0
        except Exception:  # noqa: BLE001 - protobuf and onnx raise several types: all mean "not ONNX"
            ok = False
        if not ok:
            return self._fail("MODEL_DESERIALIZE_FAILED", "Failed to parse the ONNX model.", func)
        for code, desc, node, *details in self._network._load_onnx(model, data):
            if details and details[0] == "plugin":  # the registry's own message comes first (ModelOpt#2016)
                error(self._logger, contract.plugin_not_found(details[2]))
                details = details[1:]
            self._fail(code, desc, func, node, *details)
        return not self._errors

    def _load(self, model):
        import onnx

        try:
            data = bytes(memoryview(model))
        except TypeError:
            raise TypeError("incompatible function arguments: model must be a bytes-like object") from None
        try:
            parsed = onnx.load_from_string(data)
        except Exception:  # noqa: BLE001 - protobuf and onnx raise several types: all mean "not ONNX"
            parsed = None
        return data, parsed

    # ----- which parts of a model the parser takes (10.1+) ---------------------------------------
    def supports_model_v2(self, model, path=None):
        """Docstring (10.16, 11.4): "Check whether TensorRT supports a particular ONNX model. Query each
        subgraph with num_subgraphs, is_subgraph_supported, get_subgraph_nodes." As onnx-tensorrt's
        ModelImporter::supportsModelV2 at the commit TensorRT 10.16 pins (6bde659): parse the model (errors
        are recorded as parse's), then reportSubgraphs: nodes in topological order, cut at every node that
        failed; "Mark all new graphs as 'unknown'" (False), and only a model without errors, in one subgraph,
        is marked supported."""
        data, parsed = self._load(model)
        ok = self._parse(data, "supportsModelV2")
        self._subgraphs = [] if parsed is None else report_subgraphs(parsed, [e._node for e in self._errors], ok)
        return ok

    @prop()
    def num_subgraphs(self):
        return len(getattr(self, "_subgraphs", []))

    def _subgraph(self, index, call):
        subgraphs = getattr(self, "_subgraphs", [])
        if not 0 <= int(index) < len(subgraphs):
            # ModelImporter.cpp (6bde659): "Query index <i> exceeds subgraph support vector (size = <n>). Have you
            # called supports_model_v2 or parse?", ErrorCode::kINVALID_VALUE
            self._fail("INVALID_VALUE", f"Query index {index} exceeds subgraph support vector (size = "
                       f"{len(subgraphs)}). Have you called supports_model_v2 or parse?", call)
            return None
        return subgraphs[int(index)]

    def is_subgraph_supported(self, index):
        found = self._subgraph(index, "isSubgraphSupported")
        return False if found is None else found[1]

    def get_subgraph_nodes(self, index):
        found = self._subgraph(index, "getSubgraphNodes")
        return [] if found is None else list(found[0])

    @only(10)
    def supports_model(self, model, path=None):
        """10.16 only ("[DEPRECATED] Deprecated in TensorRT 10.1. See supports_model_v2."): returns
        "Tuple[bool, List[Tuple[NodeIndices, bool]]]" -- the same subgraphs as supports_model_v2."""
        ok = self.supports_model_v2(model, path)
        return ok, [(list(nodes), flag) for nodes, flag in self._subgraphs]

    def supports_operator(self, op_name):
        """Docstring: "Returns whether the specified operator may be supported by the parser [...] this
        function may return false-positives." The double answers from the operator matrix (see
        operator_matrix)."""
        return operator_matrix().get(str(op_name), False)

    @prop()
    def num_errors(self):
        return len(self._errors)

    def get_error(self, index):
        return self._errors[index] if 0 <= index < len(self._errors) else None

    def clear_errors(self):
        self._errors = []


__all__ = [
    "IConstantLayer",
    "IElementWiseLayer",
    "ILayer",
    "INetworkDefinition",
    "IScaleLayer",
    "ITensor",
    "OnnxParser",
    "ParserError",
    "Weights",
]
