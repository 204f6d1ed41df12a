"""Chapter 8: what TensorRT's DLA partitioner must do, computed on CPU from an ONNX model.

Each node is mapped to the TensorRT layer the ONNX parser builds for it (onnx-tensorrt's importers),
marked DLA-capable or not by the documented DLA rules below, then the graph is cut into GPU and DLA
partitions; every tensor that crosses from one to the other is a reformat (a copy between the GPU's and
the DLA's memory layouts). This is a model of the documented rules, not TensorRT: the real builder also
checks what no page states (internal buffer sizes, fusions, the formats it picks), and its timings need a
Jetson with DLA. ``Constant`` nodes are counted as weights here and are not placed (a simplification:
TensorRT makes constant layers of them, whose placement this model does not follow).

Sources, by the short names ``RULES`` uses (what each holds, and which versions):

- *page*: NVIDIA's "DLA Supported Layers and Restrictions" (``DOCS``, the ``latest`` page when 11.4.1 was
  current). Its General Restrictions and the rows of its summary table from Activation to Parametric
  ReLU; the copy read for this book breaks off inside that row, so the table's later rows and the page's
  per-layer detail sections are not used.
- *detail*: that page's per-layer detail sections as the TensorRT 8.x-10.x Developer Guide worded them;
  their wording is NOT confirmed against a 10.x or 11.x copy of the page (marked "unconfirmed").
- *NvInfer.h*: the "If executing this layer on DLA ..." sentences of the C++ API docs, TensorRT 10.7.0
  and 11.1 (``HEADERS``; the two versions say the same).
- *Python docs*: the same sentences in the tensorrt 10.7, 10.16 and 11.4 Python docstrings (ISoftMaxLayer,
  ISliceLayer, IResizeLayer, IUnaryLayer).
- *operators*: the "DLA Support" sections of the TensorRT Operators reference (``OPERATORS``).
- *parser*: onnx-tensorrt's ``onnxOpImporters.cpp`` (``PARSER``), for which layer an ONNX op becomes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..cnn import cnn  # noqa: F401  (the chapter's model, re-exported for the notebook)
from ..errors import InputError

DOCS = "https://docs.nvidia.com/deeplearning/tensorrt/latest/inference-library/dla-layer-restrictions.html"
HEADERS = ("https://github.com/NVIDIA/TensorRT/blob/v10.7.0/include/NvInfer.h",
           "https://github.com/NVIDIA/TensorRT/blob/v11.1/include/NvInfer.h")
OPERATORS = "https://docs.nvidia.com/deeplearning/tensorrt/operators/docs/"
PARSER = "https://github.com/onnx/onnx-tensorrt/blob/main/onnxOpImporters.cpp"

#: rule id -> (what the sources say, quoted or closely paraphrased, with the source; what this module encodes)
RULES = {
    # ----- general restrictions -----
    "layer": ("page: the summary table's rows (as read): Activation, Comparison, Concatenation, Convolution / "
              "Fully Connected, Deconvolution, ElementWise, LRN, Parametric ReLU, ...; NvInfer.h and operators give "
              "DLA limits for Pooling, Resize, Unary, Slice, SoftMax, Reduce",
              "an ONNX op whose TensorRT layer (parser) has no DLA entry is GPU: Pad, Gather, Cast, Identity, "
              "Expand, Where, ..."),
    "static": ("page: 'DLA does not support dynamic dimensions'", "a tensor with an unknown dimension is GPU"),
    "2d": ("page: '2D only' (Activation, Convolution, Deconvolution, ElementWise rows); NvInfer.h: 'only support "
           "2D' kernel, window, stride and padding (convolution, deconvolution, pooling); detail (unconfirmed): "
           "the same for Scale",
           "Conv, ConvTranspose, pools, activations, elementwise ops and BatchNormalization need rank-4 (NCHW) "
           "tensors; Conv1D/Conv3D are GPU"),
    "dims": ("page: 'maximum supported batch size is 4096'; 'maximum supported size for non-batch dimensions is "
             "8192'; 'Batch size for DLA is the product of all index dimensions except the CHW dimensions'; the "
             "Convolution / Fully Connected row's 'channels [1,8192]' and NvInfer.h's output maps [1,8192] and "
             "'max number of groups is 8192' (convolution, deconvolution) follow from the C limit",
             "the product of all but the last three dimensions <= 4096, each of the last three <= 8192"),
    "precision": ("page: Precision column (FP16, INT8 for most rows); detail (unconfirmed): Slice, SoftMax and "
                  "Reduce FP16 only; in 11.x 'Precision is determined by network tensor types' (Strongly Typed "
                  "Networks for DLA, 11.4.1)",
                  "with precision_from_model=True (11.x) an FP32 tensor is GPU, an INT8 one too for Slice, SoftMax "
                  "and Reduce; with False (10.x, --fp16) the types are not checked"),
    "loadables": ("page: 'only 16 DLA loadable can be loaded concurrently per core'; TensorRT 7/8 builders warned "
                  "'DLA supports only 8 subgraphs per DLA core'",
                  "DLA partitions are counted against a limit you pass (default 16)"),
    # ----- Convolution (Conv) -----
    "conv-kernel": ("page: Convolution / Fully Connected row 'kernel [1,32]'; NvInfer.h setKernelSizeNd: 'both "
                    "height and width of kernel size must be in the range [1,32]'", "each kernel dimension 1..32"),
    "conv-stride": ("page: same row 'stride [1,8]'; NvInfer.h setStrideNd: '[1,8]'", "each stride 1..8"),
    "conv-dilation": ("NvInfer.h setDilationNd: 'both height and width must be in the range [1,32]'",
                      "each dilation 1..32"),
    "conv-padding": ("NvInfer.h setPaddingNd / setPrePadding / setPostPadding: padding 'in the range [0,31], and "
                     "the padding must be less than the kernel size'",
                     "every pad (begin and end, auto_pad worked out) 0..31 and smaller than the kernel"),
    # ----- Deconvolution (ConvTranspose) -----
    "deconv-kernel": ("page: Deconvolution row '2D only'; NvInfer.h setKernelSizeNd: 'in the range [1,32] or the "
                      "combinations of [64, 96, 128] in one dimension and 1 in the other'", "the same"),
    "deconv-stride": ("NvInfer.h setStrideNd: the same ranges as the kernel", "the same"),
    "deconv-padding": ("page: Deconvolution row 'padding must be 0'; NvInfer.h setPaddingNd",
                       "all pads 0 (an auto_pad SAME that pads is refused too)"),
    "deconv-groups": ("page: Deconvolution row 'no grouped/dilated'; NvInfer.h setNbGroups: 'nbGroups must be "
                      "one'", "group 1"),
    "deconv-dilation": ("page: Deconvolution row 'no grouped/dilated'", "dilations all 1"),
    # ----- Pooling (MaxPool, AveragePool) -----
    "pool-type": ("NvInfer.h setPoolingType: 'DLA only supports kMAX and kAVERAGE pooling types'",
                  "MaxPool and AveragePool are candidates; LpPool is GPU"),
    "pool-window": ("NvInfer.h setWindowSizeNd: 'both height and width of window size must be in the range [1,8]'",
                    "each kernel dimension 1..8"),
    "pool-stride": ("NvInfer.h setStrideNd (pooling): '[1,16]'", "each stride 1..16"),
    "pool-padding": ("NvInfer.h setPaddingNd / setPrePadding / setPostPadding (pooling): '[0,7]'",
                     "every pad 0..7 (auto_pad worked out)"),
    # ----- Activation -----
    "activation": ("page: Activation row 'FP16, INT8; 2D only; ReLU, Sigmoid, TanH, Clipped ReLU, Leaky ReLU'; "
                   "NvInfer.h setActivationType (10.7, 11.1) lists kRELU, kSIGMOID, kTANH and kCLIP only",
                   "Relu, Sigmoid, Tanh, Clip, LeakyRelu (the page's list); Elu, Selu, HardSigmoid, Softplus, ... "
                   "are GPU"),
    "activation-clip": ("page: 'Clipped ReLU'; detail (unconfirmed): 'Clipped ReLU only supports values in the "
                        "range [1, 127]'", "Clip needs constant bounds, min 0 and 1 <= max <= 127"),
    "prelu-slope": ("page: Parametric ReLU row 'FP16, INT8; Slope must be bu[ild-time constant]' (the copy read "
                    "breaks off there); NvInfer.h IParametricReLULayer: 'the slopes input must be a build-time "
                    "constant'", "PRelu's slope is an initializer or a Constant"),
    # ----- ElementWise (Add, Sub, Mul, Max, Min, Sum, Mean, Div, Pow) -----
    "elementwise-op": ("page: ElementWise row 'FP16, INT8; 2D only; Sum, Sub, Product, Max, Min, Div, Pow'; "
                       "NvInfer.h setOperation (10.7, 11.1): 'DLA supports only kSUM, kPROD, kMAX, kMIN, and kSUB'",
                       "Add, Sub, Mul, Max, Min, Sum, Mean are candidates, Div and Pow as below; And, Or, Xor are GPU"),
    "elementwise-div": ("detail (unconfirmed): the divisor must be INT8 or an FP32 constant, and a constant operand "
                        "must hold one value", "Div by a constant that holds one value"),
    "elementwise-pow": ("detail (unconfirmed): one input an FP32 constant of one value, the other an INT8 "
                        "non-constant", "Pow is GPU (this model assumes FP16 builds)"),
    "elementwise-broadcast": ("detail (unconfirmed): broadcasting when an operand is NCHW (equal), NC11 or N111",
                              "each operand, its rank aligned as the parser does, equals the output shape or is "
                              "[N, C, 1, 1] or [N, 1, 1, 1]"),
    "comparison": ("page: Comparison (Equal, Greater, Less) row 'INT8; Output must be cast to FP16/INT8 "
                   "immediately'", "Equal, Greater, Less are GPU (FP16 builds; an INT8 comparison also needs its "
                   "device and precision set by hand)"),
    # ----- Scale (BatchNormalization), LRN, Concatenation -----
    "scale-params": ("parser: BatchNormalization with constant parameters becomes one per-channel Scale layer, "
                     "otherwise elementwise layers with a Sqrt (Unary); NvInfer.h sets no DLA limit on Scale; detail "
                     "(unconfirmed): Uniform, Per-Channel and ElementWise modes, scale and shift only",
                     "BatchNormalization needs constant scale, bias, mean and variance"),
    "lrn-window": ("page: LRN row 'FP16 (INT8→FP16); Window 3/5/7/9; ACROSS_CHANNELS only'; NvInfer.h "
                   "setWindowSize: 'only values in the set, [3, 5, 7, 9], are valid'",
                   "size in {3, 5, 7, 9} (ONNX LRN is across channels)"),
    "concat-axis": ("page: Concatenation row 'Channel axis only; ≥ 2 inputs; same spatial dims'; NvInfer.h setAxis: "
                    "'the concatenation axis must be the third to last axis'; operators: 'across C dimensions only'",
                    "axis == rank - 3 (ONNX already makes the other dimensions equal)"),
    "concat-inputs": ("page: Concatenation row '≥ 2 inputs'", "at least two inputs"),
    # ----- Resize (Resize, Upsample) -----
    "resize-mode": ("NvInfer.h IResizeLayer (10.7, 11.1): nearest with (ASYMMETRIC, FORMULA, FLOOR), (HALF_PIXEL, "
                    "FORMULA, HALF_DOWN) or (HALF_PIXEL, FORMULA, HALF_UP); 'In kLINEAR mode' (HALF_PIXEL, FORMULA) "
                    "or (HALF_PIXEL, UPPER); the Python docs (10.7, 11.4) say 'In LINEAR and CUBIC mode'",
                    "ONNX mode / coordinate_transformation_mode / nearest_mode mapped as the parser maps them; cubic "
                    "is GPU (the scale limits name nearest and linear only)"),
    "resize-sizes": ("NvInfer.h setOutputDimensions: 'If executing this layer on DLA, setOutputDimensions() is not "
                     "supported'", "a Resize given 'sizes', or scales that are not constants, is GPU"),
    "resize-scales": ("NvInfer.h setScales, Python docs: 'nbScales has to be exactly 4', 'the first two elements "
                      "... exactly 1', the last two 'integer values in the range of [1, 32] for kNEAREST mode and "
                      "[1, 4] for kLINEAR'", "the same"),
    # ----- Unary, SoftMax -----
    "unary-op": ("NvInfer.h IUnaryLayer::setOperation, Python docs (10.7, 11.4): 'only UnaryOperation::kABS is "
                 "supported'", "Abs only; Exp, Log, Sqrt, Erf, Sin, Neg, Floor, ... are GPU"),
    "softmax-axis": ("NvInfer.h ISoftMaxLayer, Python docs (10.7, 11.4): 'Axis must be one of the channel or spatial "
                     "dimensions'", "the axis is one of the last three (opset < 13: after the parser's 2D flatten)"),
    "softmax-size": ("same: 'Non-axis, non-batch dimensions are all 1 and the axis dimension is at most 8192', or "
                     "else 'the axis dimension is at most 1024'", "the same"),
    # ----- Shuffle (Transpose, Reshape, Flatten, Squeeze, Unsqueeze) -----
    "shuffle-rank": ("detail (unconfirmed): the Shuffle layer 'only supports 4-D input tensors'; DLA splits it into "
                     "a transpose and a reshape, each under the same limits", "input and output are rank 4"),
    "shuffle-batch": ("detail (unconfirmed): batch dimensions cannot take part in the reshape or the transpose",
                      "Transpose keeps axis 0 first; a reshape keeps dimension 0"),
    # ----- Slice (Slice, Split) -----
    "slice-rank": ("NvInfer.h ISliceLayer, Python docs (10.7, 11.4): 'The input tensor has four dimensions'; the "
                   "builder says 'DLA only supports slicing 4 dimensional tensors' (ultralytics#18012)",
                   "Slice and Split (the parser makes slices of it) need a rank-4 input"),
    "slice-static": ("same: 'start, size, and stride are build time constants'", "starts, ends, axes, steps and "
                     "split sizes are initializers, Constants or attributes"),
    "slice-stride": ("same: 'Strides are 1 for all dimensions'", "steps all 1"),
    "slice-batch": ("same: 'Slicing is not performed on the first dimension'", "dimension 0 is kept whole"),
    # ----- Reduce (ReduceMax, GlobalMaxPool, ...) -----
    "reduce-op": ("operators, Reduce: 'DLA supports the following operation type: MAX where any combination of the "
                  "CHW is reduced'", "ReduceMax and GlobalMaxPool are candidates; ReduceMean, ReduceSum, ... and "
                  "GlobalAveragePool (the parser makes a Reduce AVG of it) are GPU"),
    "reduce-axes": ("same: 'any combination of the CHW'", "the reduced axes are among the last three"),
    # ----- Matrix multiply (Gemm, MatMul) -----
    "matmul": ("page: the Convolution / Fully Connected row names the fully connected layer, which TensorRT 10.0 "
               "removed; the parser builds an IMatrixMultiplyLayer for Gemm and MatMul, and the table, as read, "
               "has no Matrix Multiply row (it goes from LRN to Parametric ReLU)",
               "Gemm and MatMul are GPU (a fully connected layer written as a 1x1 Conv stays a Convolution)"),
}

#: ONNX op -> the TensorRT layer onnx-tensorrt's importer builds for it (PARSER)
LAYER_OF = {
    "Conv": "Convolution", "ConvTranspose": "Deconvolution",
    **dict.fromkeys(["MaxPool", "AveragePool", "LpPool"], "Pooling"),
    **dict.fromkeys(["Relu", "Sigmoid", "Tanh", "Clip", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Softplus",
                     "Softsign", "ThresholdedRelu"], "Activation"),
    "PRelu": "ParametricReLU",
    **dict.fromkeys(["Add", "Sub", "Mul", "Max", "Min", "Sum", "Mean", "Div", "Pow", "And", "Or", "Xor"],
                    "ElementWise"),
    **dict.fromkeys(["Equal", "Greater", "Less"], "ElementWise (comparison)"),
    "BatchNormalization": "Scale", "LRN": "LRN", "Concat": "Concatenation",
    **dict.fromkeys(["Resize", "Upsample"], "Resize"),
    **dict.fromkeys(["Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan",
                     "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf", "Floor", "Ceil", "Round", "Sign", "Not"],
                    "Unary"),
    "Softmax": "SoftMax",
    **dict.fromkeys(["Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze"], "Shuffle"),
    **dict.fromkeys(["Slice", "Split"], "Slice"),
    **dict.fromkeys(["ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2",
                     "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "GlobalAveragePool", "GlobalMaxPool"],
                    "Reduce"),
    **dict.fromkeys(["Gemm", "MatMul"], "MatrixMultiply"),
}
ACTIVATIONS = {"Relu", "Sigmoid", "Tanh", "Clip", "LeakyRelu"}
FOUR_D = {"Convolution", "Deconvolution", "Pooling", "Activation", "ElementWise", "Scale"}
FP16_ONLY = {"Slice", "SoftMax", "Reduce"}
#: which inputs of an op carry data (the rest are weights, shapes or parameters)
_ALL_INPUTS = {"Add", "Sub", "Mul", "Max", "Min", "Sum", "Mean", "Div", "Pow", "And", "Or", "Xor", "Equal",
               "Greater", "Less", "Concat"}
_NEAREST = {("ASYMMETRIC", "FORMULA", "FLOOR"), ("HALF_PIXEL", "FORMULA", "HALF_DOWN"),
            ("HALF_PIXEL", "FORMULA", "HALF_UP")}
_LINEAR = {("HALF_PIXEL", "FORMULA"), ("HALF_PIXEL", "UPPER")}
_DECONV_LONG = {(1, 64), (1, 96), (1, 128), (64, 1), (96, 1), (128, 1)}


@dataclass
class Placement:
    node: str
    op: str
    device: str            # "DLA" or "GPU"
    reason: str            # the rule that sent it to the GPU, "" on DLA
    layer: str = ""        # the TensorRT layer the ONNX parser builds, "" if none on record


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


# ----- reading the graph -------------------------------------------------------------------------------
@dataclass
class _Graph:
    shapes: dict[str, tuple[list | None, int]]   # dims (None: unknown rank or dimension), ONNX type
    consts: dict[str, np.ndarray]
    opset: int

    def dims(self, name):
        if name in self.consts:
            return list(self.consts[name].shape)
        return self.shapes.get(name, (None, None))[0]


def _read(model: onnx.ModelProto) -> _Graph:
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes: dict[str, tuple[list | None, int]] = {}
    for vi in list(inferred.graph.input) + list(inferred.graph.value_info) + list(inferred.graph.output):
        t = vi.type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim] if t.HasField("shape") else None
        shapes[vi.name] = (dims, t.elem_type)
    consts = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    for n in model.graph.node:
        if n.op_type == "Constant" and n.output:
            a = _attrs(n)
            if "value" in a:
                consts[n.output[0]] = numpy_helper.to_array(a["value"])
            elif "value_float" in a or "value_int" in a:
                consts[n.output[0]] = np.array(a.get("value_float", a.get("value_int")))
            elif "value_floats" in a or "value_ints" in a:
                consts[n.output[0]] = np.array(a.get("value_floats", a.get("value_ints")))
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    return _Graph(shapes, consts, opset)


def _attrs(node) -> dict:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _pads(a: dict, spatial: list, k: list, s: list, d: list) -> list[int]:
    """Begin and end pads (ONNX order: all begins, then all ends), auto_pad worked out as ONNX defines it."""
    n = len(k)
    auto = a.get("auto_pad", "NOTSET")
    if auto == "VALID":
        return [0] * 2 * n
    if auto not in ("SAME_UPPER", "SAME_LOWER"):
        return list(a.get("pads", [0] * 2 * n))
    total = [max(0, (math.ceil(i / st) - 1) * st + (kk - 1) * dd + 1 - i) for i, kk, st, dd in zip(spatial, k, s, d)]
    small, big = [t // 2 for t in total], [t - t // 2 for t in total]
    return small + big if auto == "SAME_UPPER" else big + small


def _in(values, lo, hi) -> bool:
    return all(lo <= v <= hi for v in values)


def _one_value(arr) -> bool:
    return arr is not None and arr.size > 0 and bool(np.all(arr == arr.flat[0]))


# ----- per-layer checks: '' or the rule id ------------------------------------------------------------------
def _conv(node, g, a):
    xd, wd = g.dims(node.input[0]), g.dims(node.input[1])
    if wd is None or any(v is None for v in wd):
        return "static"
    k = list(a.get("kernel_shape", wd[2:]))
    s, d = list(a.get("strides", [1] * len(k))), list(a.get("dilations", [1] * len(k)))
    pads = _pads(a, xd[2:], k, s, d)
    if node.op_type == "Conv":             # output channels and groups are bounded by the 'dims' rule on C
        checks = [("conv-kernel", _in(k, 1, 32)), ("conv-stride", _in(s, 1, 8)), ("conv-dilation", _in(d, 1, 32)),
                  ("conv-padding", _in(pads, 0, 31) and all(p < k[i % len(k)] for i, p in enumerate(pads)))]
    else:
        def long_ok(v):
            return _in(v, 1, 32) or tuple(v) in _DECONV_LONG
        checks = [("deconv-kernel", long_ok(k)), ("deconv-stride", long_ok(s)), ("deconv-padding", not any(pads)),
                  ("deconv-groups", a.get("group", 1) == 1), ("deconv-dilation", all(v == 1 for v in d))]
    return next((rule for rule, ok in checks if not ok), "")


def _pool(node, g, a):
    if node.op_type == "LpPool":
        return "pool-type"
    k = list(a["kernel_shape"])
    s = list(a.get("strides", [1] * len(k)))
    pads = _pads(a, g.dims(node.input[0])[2:], k, s, [1] * len(k))
    checks = [("pool-window", _in(k, 1, 8)), ("pool-stride", _in(s, 1, 16)), ("pool-padding", _in(pads, 0, 7))]
    return next((rule for rule, ok in checks if not ok), "")


def _activation(node, g, a):
    if node.op_type not in ACTIVATIONS:
        return "activation"
    if node.op_type == "Clip":
        if g.opset >= 11:
            names = list(node.input[1:3]) + [""] * (3 - len(node.input))
            if any(t and t not in g.consts for t in names):
                return "activation-clip"
            lo = float(g.consts[names[0]]) if names[0] else -math.inf
            hi = float(g.consts[names[1]]) if names[1] else math.inf
        else:
            lo, hi = a.get("min", -math.inf), a.get("max", math.inf)
        if lo != 0 or not 1 <= hi <= 127:
            return "activation-clip"
    return ""


def _elementwise(node, g, a, out_dims):
    op = node.op_type
    if op in ("Equal", "Greater", "Less"):
        return "comparison"
    if op in ("And", "Or", "Xor"):
        return "elementwise-op"
    if op == "Pow":
        return "elementwise-pow"
    if op == "Div" and not _one_value(g.consts.get(node.input[1])):
        return "elementwise-div"
    rank = len(out_dims)
    for t in node.input:
        dims = g.dims(t)
        dims = [1] * (rank - len(dims)) + list(dims)
        n_c11 = [out_dims[0], out_dims[1]] + [1] * (rank - 2)
        n111 = [out_dims[0]] + [1] * (rank - 1)
        if dims not in (list(out_dims), n_c11, n111):
            return "elementwise-broadcast"
    return ""


def _resize(node, g, a):
    mode = a.get("mode", "nearest")
    linear = mode in ("linear", "bilinear")
    if node.op_type == "Upsample" or g.opset < 11:
        coord, sel, rnd = "ASYMMETRIC", "FORMULA", "FLOOR"
    else:
        ctm = a.get("coordinate_transformation_mode", "half_pixel")
        coord = {"align_corners": "ALIGN_CORNERS", "asymmetric": "ASYMMETRIC"}.get(ctm, "HALF_PIXEL")
        sel = "UPPER" if ctm == "pytorch_half_pixel" else "FORMULA"
        rnd = "CEIL" if ctm == "tf_half_pixel_for_nn" else {
            "floor": "FLOOR", "ceil": "CEIL", "round_prefer_ceil": "HALF_UP"}.get(
            a.get("nearest_mode", "round_prefer_floor"), "HALF_DOWN")
    if mode == "cubic" or (linear and (coord, sel) not in _LINEAR) or (
            not linear and (coord, sel, rnd) not in _NEAREST):
        return "resize-mode"
    if node.op_type == "Upsample" and "scales" in a:
        scales = np.array(a["scales"])
    else:
        idx = 1 if node.op_type == "Upsample" or g.opset < 11 else 2
        if node.op_type == "Resize" and g.opset >= 11 and len(node.input) > 3 and node.input[3]:
            return "resize-sizes"
        name = node.input[idx] if len(node.input) > idx else ""
        if name not in g.consts:
            return "resize-sizes"
        scales = g.consts[name].astype(float)
    hi = 4 if linear else 32
    hw = scales[2:]
    ok = (scales.size == 4 and bool(np.all(scales[:2] == 1)) and bool(np.all(hw == np.round(hw)))
          and _in(hw, 1, hi))
    return "" if ok else "resize-scales"


def _softmax(node, g, a, in_dims):
    rank = len(in_dims)
    axis = a.get("axis", -1 if g.opset >= 13 else 1)
    axis = axis + rank if axis < 0 else axis
    if g.opset < 13:                                           # the parser flattens to 2D around the axis
        in_dims, axis, rank = [math.prod(in_dims[:axis]), math.prod(in_dims[axis:])], 1, 2
    if axis < rank - 3:
        return "softmax-axis"
    others = [in_dims[i] for i in range(max(0, rank - 3), rank) if i != axis]
    limit = 8192 if all(v == 1 for v in others) else 1024
    return "" if in_dims[axis] <= limit else "softmax-size"


def _shuffle(node, g, a, in_dims, out_dims):
    if len(in_dims) != 4 or len(out_dims) != 4:
        return "shuffle-rank"
    if node.op_type == "Transpose":
        perm = list(a.get("perm", range(3, -1, -1)))
        return "" if perm[0] == 0 else "shuffle-batch"
    return "" if out_dims[0] == in_dims[0] else "shuffle-batch"


def _slice(node, g, a, in_dims):
    if len(in_dims) != 4:
        return "slice-rank"
    rank = 4
    if node.op_type == "Split":
        axis = a.get("axis", 0)
        axis = axis + rank if axis < 0 else axis
        if len(node.input) > 1 and node.input[1] and node.input[1] not in g.consts:
            return "slice-static"
        return "slice-batch" if axis == 0 else ""
    if g.opset >= 10:
        names = list(node.input[1:5])
        if any(t and t not in g.consts for t in names):
            return "slice-static"
        vals = [g.consts[t].astype(np.int64).tolist() if t else None for t in names + [""] * (4 - len(names))]
        starts, ends, axes, steps = vals
    else:
        starts, ends, axes, steps = a["starts"], a["ends"], a.get("axes"), None
    axes = list(range(len(starts))) if axes is None else [x + rank if x < 0 else x for x in axes]
    steps = steps or [1] * len(starts)
    if any(s != 1 for s in steps):
        return "slice-stride"
    for ax, st, en in zip(axes, starts, ends):
        size = in_dims[ax]
        st, en = (st + size if st < 0 else st), (en + size if en < 0 else en)
        if ax == 0 and (max(0, min(st, size)) != 0 or min(max(en, 0), size) != size):
            return "slice-batch"
    return ""


def _reduce(node, g, a, in_dims):
    if node.op_type not in ("ReduceMax", "GlobalMaxPool"):
        return "reduce-op"
    rank = len(in_dims)
    if node.op_type == "GlobalMaxPool":
        axes = list(range(2, rank))
    elif g.opset >= 18 and len(node.input) > 1 and node.input[1]:
        if node.input[1] not in g.consts:
            return "reduce-axes"
        axes = g.consts[node.input[1]].astype(np.int64).tolist()
    else:
        axes = a.get("axes")
    axes = list(range(rank)) if not axes else [x + rank if x < 0 else x for x in axes]
    return "" if all(x >= rank - 3 for x in axes) else "reduce-axes"


def _place(node, g: _Graph, precision_from_model: bool) -> tuple[str, str]:
    """(layer, rule): rule is '' if the node may run on DLA, else the id of the rule that keeps it on the GPU."""
    op = node.op_type
    layer = LAYER_OF.get(op, "")
    if not layer:
        return "", "layer"
    if layer == "MatrixMultiply":
        return layer, "matmul"
    data = [t for t in (node.input if op in _ALL_INPUTS else node.input[:1]) if t and t not in g.consts]
    tensors = data + [t for t in node.output if t]
    for t in tensors:
        dims, dtype = g.shapes.get(t, (None, None))
        if dims is None or any(d is None for d in dims):
            return layer, "static"
    for t in tensors:
        dims, dtype = g.shapes[t]
        assert dims is not None                    # checked just above
        if layer in FOUR_D and len(dims) != 4:
            return layer, "2d"
        if dims and (math.prod(dims[:-3]) > 4096 or any(d > 8192 for d in dims[-3:])):
            return layer, "dims"
        allowed = (TensorProto.FLOAT16,) if layer in FP16_ONLY else (TensorProto.FLOAT16, TensorProto.INT8)
        if precision_from_model and dtype not in allowed and op not in ("Equal", "Greater", "Less"):
            return layer, "precision"
    a = _attrs(node)
    in_dims, out_dims = g.dims(node.input[0]), g.dims(node.output[0])
    if layer in ("Convolution", "Deconvolution"):
        return layer, _conv(node, g, a)
    if layer == "Pooling":
        return layer, _pool(node, g, a)
    if layer == "Activation":
        return layer, _activation(node, g, a)
    if layer == "ParametricReLU":
        return layer, "" if node.input[1] in g.consts else "prelu-slope"
    if layer.startswith("ElementWise"):
        return layer, _elementwise(node, g, a, out_dims)
    if layer == "Scale":
        return layer, "" if all(t in g.consts for t in node.input[1:5]) else "scale-params"
    if layer == "LRN":
        return layer, "" if a.get("size") in (3, 5, 7, 9) else "lrn-window"
    if layer == "Concatenation":
        if len([t for t in node.input if t]) < 2:
            return layer, "concat-inputs"
        axis = a.get("axis", 0)
        return layer, "" if (axis + len(out_dims) if axis < 0 else axis) == len(out_dims) - 3 else "concat-axis"
    if layer == "Resize":
        return layer, _resize(node, g, a)
    if layer == "Unary":
        return layer, "" if op == "Abs" else "unary-op"
    if layer == "SoftMax":
        return layer, _softmax(node, g, a, in_dims)
    if layer == "Shuffle":
        return layer, _shuffle(node, g, a, in_dims, out_dims)
    if layer == "Slice":
        return layer, _slice(node, g, a, in_dims)
    return layer, _reduce(node, g, a, in_dims)


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
    g = _read(model)
    nodes = [(name, n) for name, n in zip(names, model.graph.node) if n.op_type != "Constant"]
    if not nodes:
        raise InputError("the model has only Constant nodes")
    names = [name for name, _ in nodes]
    placements = []
    for name, node in nodes:
        layer, why = _place(node, g, precision_from_model)
        placements.append(Placement(name, node.op_type, "GPU" if why else "DLA", why, layer))
    device = {p.node: p.device for p in placements}
    producer = {out: name for name, n in nodes for out in n.output}
    inputs = {name: [producer[t] for t in n.input if t in producer] for name, n in nodes}
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
    for name, node in nodes:
        for t in node.input:
            if t in producer and device[producer[t]] != device[name]:
                boundaries.append((t, device[producer[t]], device[name]))
    graph_in = {i.name for i in model.graph.input}
    io = sorted({t for name, n in nodes if device[name] == "DLA" for t in n.input if t in graph_in}
                | {o.name for o in model.graph.output if o.name in producer and device[producer[o.name]] == "DLA"})
    return Partitioning(placements, partitions, sorted(set(boundaries)), limit, io)


def placement_rows(result: Partitioning) -> list[list]:
    """Rows (node, op, TensorRT layer, device, rule) for trtfaq.tables.table."""
    return [[p.node, p.op, p.layer or "-", p.device, p.reason or "-"] for p in result.placements]


def partition_rows(result: Partitioning) -> list[list]:
    return [[i, d, len(ms), f"{ms[0]} .. {ms[-1]}" if len(ms) > 1 else ms[0]]
            for i, (d, ms) in enumerate(result.partitions)]


def rule_rows(rules: dict | None = None) -> list[list]:
    """Rows (rule, what the sources say, what is encoded) for trtfaq.tables.table."""
    return [[k, a, b] for k, (a, b) in (RULES if rules is None else rules).items()]


# ----- a second model: a detector's neck ----------------------------------------------------------------
def neck(fixed: bool = False, channels: int = 8, size: int = 32, seed: int = 0) -> onnx.ModelProto:
    """(chapter 8) A small detector neck: Conv, LeakyRelu, a 5x5 max pool, a 2x nearest upsample, a channel
    concat, a 1x1 Conv, a second upsample and concat, a softmax over channels and a reshape for the head.
    As built (``fixed=False``) it has what exported necks often have: an upsample given by output ``sizes``,
    a concat along the width and a reshape to 3D. ``fixed=True`` writes the same steps the way the DLA rules
    allow: scales, a channel concat, a 4D reshape."""
    if not isinstance(fixed, bool):
        raise InputError(f"fixed must be True or False, got {fixed!r}")
    for name, v in (("channels", channels), ("size", size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 2 or v % 2:
            raise InputError(f"{name} must be an even whole number >= 2, got {v!r}")
    rng = np.random.default_rng(seed)
    c, s = channels, size

    def init(name, values, dtype=np.float32):
        return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)

    inits = [init("c1.w", rng.standard_normal((2 * c, c, 3, 3)) * 0.1),
             init("c2.w", rng.standard_normal((c, 3 * c, 1, 1)) * 0.1), init("x2", [1, 1, 2, 2])]
    nodes = [helper.make_node("Conv", ["x", "c1.w"], ["c1"], name="conv1", strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("LeakyRelu", ["c1"], ["a1"], name="leaky1", alpha=0.1),
             helper.make_node("MaxPool", ["a1"], ["p1"], name="pool5", kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
             helper.make_node("Resize", ["p1", "", "x2"], ["u1"], name="up1", mode="nearest"),
             helper.make_node("Concat", ["u1", "x"], ["k1"], name="cat1", axis=1),
             helper.make_node("Conv", ["k1", "c2.w"], ["c2"], name="conv2")]
    if fixed:
        head = [1, 2 * c, 1, 4 * s * s]
        nodes += [helper.make_node("Resize", ["c2", "", "x2"], ["u2"], name="up2", mode="nearest"),
                  helper.make_node("Concat", ["u2", "u2"], ["k2"], name="cat2", axis=1)]
    else:
        head = [1, c, 8 * s * s]
        inits.append(init("up2.sizes", [1, c, 2 * s, 2 * s], np.int64))
        nodes += [helper.make_node("Resize", ["c2", "", "", "up2.sizes"], ["u2"], name="up2", mode="nearest"),
                  helper.make_node("Concat", ["u2", "u2"], ["k2"], name="cat2", axis=3)]
    inits.append(init("head", head, np.int64))
    nodes += [helper.make_node("Softmax", ["k2"], ["sm"], name="softmax", axis=1),
              helper.make_node("Reshape", ["sm", "head"], ["y"], name="head_reshape")]
    graph = helper.make_graph(nodes, "dla_neck", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c, s, s])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, head)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model
