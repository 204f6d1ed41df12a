"""The inspector reader (TensorRT 10.x and 11.x JSON) and the tactic-name classifier (trtfaq.inspector).

JSON fixtures follow NVIDIA's documentation and real output, named at each fixture; tactic names are
quoted from real TensorRT output, each with where it was printed. Planted mistakes prove the checks bite.
"""
import json

import pytest

from trtfaq import inspector
from trtfaq.errors import InputError

from helpers import one_line

# ----- fixtures ------------------------------------------------------------------------------------

#: A DETAILED 10.x engine, shaped as real output: the layer objects and "Format/Datatype" texts as in
#: NVIDIA/TensorRT v10.16 tools/experimental/trt-engine-explorer/examples/pytorch/resnet/A100/fp16/
#: resnet.onnx.engine.graph.json and NVIDIA/TensorRT#3876; "Bindings" as in NVIDIA's 10.x -> 11.x
#: IEngineInspector migration guide ("Before (TensorRT 10.x)").
V10 = {
    "Layers": [
        {"Name": "Reformatting CopyNode for Input Tensor 0 to conv1 + relu1", "LayerType": "Reformat",
         "Inputs": [{"Name": "x", "Location": "Device", "Dimensions": [8, 3, 32, 32],
                     "Format/Datatype": "Row major linear FP32"}],
         "Outputs": [{"Name": "Reformatted Input Tensor 0 to conv1 + relu1", "Location": "Device",
                      "Dimensions": [8, 3, 32, 32],
                      "Format/Datatype": "Channel major FP16 format where channel % 4 == 0"}],
         "ParameterType": "Reformat", "Origin": "REFORMAT", "TacticValue": "0x0000000000000000"},
        {"Name": "conv1 + relu1", "LayerType": "CaskConvolution",
         "Inputs": [{"Name": "Reformatted Input Tensor 0 to conv1 + relu1", "Location": "Device",
                     "Dimensions": [8, 3, 32, 32],
                     "Format/Datatype": "Channel major FP16 format where channel % 4 == 0"}],
         "Outputs": [{"Name": "h1", "Location": "Device", "Dimensions": [8, 50, 32, 32],
                      "Format/Datatype": "Channel major FP16 format where channel % 8 == 0"}],
         "ParameterType": "Convolution", "Kernel": [3, 3], "OutMaps": 50,
         "TacticName": "sm80_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize64x32x64_stage5_"
                       "warpsize2x2x1_g1_tensor16x8x16_t1r1s1",
         "TacticValue": "0x1234", "StreamId": 0, "Metadata": "[ONNX Layer: conv1]\u001f[ONNX Layer: relu1]"},
        {"Name": "pool", "LayerType": "CaskPooling",
         "Inputs": [{"Name": "h1", "Location": "Device", "Dimensions": [8, 50, 32, 32],
                     "Format/Datatype": "Thirty-two wide channel vectorized row major Int8 format"}],
         "Outputs": [{"Name": "y", "Location": "Device", "Dimensions": [8, 50, 1, 1],
                      "Format/Datatype": "Row major linear FP32"}],
         "TacticName": "sm50_xmma_pooling_fw_4d_FP16FP32NHWC_Average_FastDiv_CAlign8", "TacticValue": "0x5"},
    ],
    "Bindings": ["x", "y"],
}

#: An 11.x engine: "I/O Tensors" exactly as the migration guide's "After (TensorRT 11.x)" example
#: (docs.nvidia.com/deeplearning/tensorrt/11.0.0/api/migration/tensorrt-10x-to-11x-IEngineInspector.html).
#: Layer tensors with separate "Format" and "Datatype" keys are the book's inference (see
#: trtfaq/inspector.py): the guide shows no layer entry.
V11 = {
    "Layers": [
        {"Name": "conv1 + relu1", "LayerType": "CaskConvolution",
         "Inputs": [{"Name": "input_0", "Location": "Device", "Dimensions": [1, 3, 224, 224],
                     "Format": "Channel major FP16 format where channel % 8 == 0", "Datatype": "FP16"}],
         "Outputs": [{"Name": "output_0", "Location": "Device", "Dimensions": [1, 1000],
                      "Format": "Row major linear FP32 format (kLINEAR)", "Datatype": "Float"}],
         "TacticName": "sm80_xmma_fprop_implicit_gemm_indexed_f32f32_tf32f32_f32_nhwckrsc_nchw_tilesize128x64x64_"
                       "stage3_warpsize2x2x1_g1_tensor16x8x8", "TacticValue": "0x7a3515260a54ecd4"},
    ],
    "I/O Tensors": [
        {"Name": "input_0", "IOMode": "Input", "DataType": "Float", "Dimensions": [1, 3, 224, 224],
         "Location": "Device", "IsShapeInferenceIO": False,
         "ProfileInfo": [{"MinShape": [1, 3, 224, 224], "OptShape": [1, 3, 224, 224], "MaxShape": [1, 3, 224, 224],
                          "Format": "Row major linear FP32 format (kLINEAR)"}]},
        {"Name": "output_0", "IOMode": "Output", "DataType": "Float", "Dimensions": [1, 1000],
         "Location": "Device", "IsShapeInferenceIO": False,
         "ProfileInfo": [{"MinShape": [1, 1000], "OptShape": [1, 1000], "MaxShape": [1, 1000],
                          "Format": "Row major linear FP32 format (kLINEAR)"}]},
    ],
}

#: LAYER_NAMES_ONLY, as `trtexec --exportLayerInfo` printed it without --profilingVerbosity=detailed
#: (NVIDIA/TensorRT#4020: {"Layers": ["Reformatting CopyNode for Input Tensor 0 to resnetv15_conv0_fwd ...", ...]}).
NAMES_ONLY = {"Layers": ["Reformatting CopyNode for Input Tensor 0 to resnetv15_conv0_fwd",
                         "resnetv15_conv0_fwd + resnetv15_batchnorm0_fwd"], "Bindings": ["data", "out"]}


def test_reads_a_detailed_10x_engine():
    info = inspector.read(json.dumps(V10))
    assert (info.schema, info.detailed) == ("10.x", True)
    assert [t.name for t in info.io] == ["x", "y"] and info.io[0].mode is None
    conv = info.layers[1]
    assert conv.layer_type == "CaskConvolution" and conv.tactic.startswith("sm80_xmma_fprop")
    assert conv.metadata.startswith("[ONNX Layer: conv1]")
    out = conv.outputs[0]
    assert (out.dimensions, out.datatype, out.channel_multiple) == ((8, 50, 32, 32), "FP16", 8)
    assert info.layers[0].tactic is None                 # reformat layers have a value, no name
    assert info.layers[2].inputs[0].channel_multiple == 32 and info.layers[2].inputs[0].datatype == "INT8"


def test_reads_an_11x_engine_with_io_tensor_objects():
    info = inspector.read(V11)
    assert (info.schema, info.detailed) == ("11.x", True)
    inp = info.io[0]
    assert (inp.name, inp.mode, inp.datatype, inp.dimensions, inp.location) == \
        ("input_0", "Input", "FP32", (1, 3, 224, 224), "Device")
    assert inp.profiles[0]["OptShape"] == [1, 3, 224, 224]
    t = info.layers[0].inputs[0]
    assert (t.format, t.datatype, t.channel_multiple) == ("Channel major FP16 format where channel % 8 == 0", "FP16", 8)
    assert info.layers[0].outputs[0].datatype == "FP32"  # "Float", as the 11.x guide spells data types


def test_reads_layer_names_only_and_single_layers():
    info = inspector.read(json.dumps(NAMES_ONLY))
    assert not info.detailed and info.layers[1].name.startswith("resnetv15_conv0_fwd")
    assert all(layer.tactic is None for layer in info.layers)
    assert inspector.read_layer(json.dumps(V10["Layers"][1])).tactic.endswith("tensor16x8x16_t1r1s1")
    assert inspector.read_layer('"conv1 + relu1"').name == "conv1 + relu1"   # LAYER_NAMES_ONLY
    assert inspector.read({"Layers": []}).schema == "layers only"


@pytest.mark.parametrize("doc, message", [
    ("Layers: conv1", "is not JSON (line 1"),                        # ONELINE output, not JSON
    ({"Bindings": ["x"]}, "no 'Layers' list"),
    ({"Layers": [], "Bindings": [], "I/O Tensors": []}, "both 'Bindings'"),
    ({"Layers": [42], "Bindings": []}, "layer 0 is neither a name nor an object"),
    ({"Layers": [{"Name": "a", "Inputs": {"Name": "x"}}]}, "Inputs must be a list"),
    ({"Layers": [{"Name": "a", "Outputs": [{"Name": "y", "Dimensions": "8x3"}]}]}, "Dimensions must be a list"),
    ({"Layers": [], "I/O Tensors": [{"Name": "x", "ProfileInfo": {}}]}, "ProfileInfo must be a list"),
    ({"Layers": [], "Bindings": "x"}, "Bindings entry must be a list"),
])
def test_bad_documents_are_one_line_errors(doc, message):
    with pytest.raises(InputError) as e:
        inspector.read(json.dumps(doc) if isinstance(doc, dict) else doc)
    assert message in one_line(e)


# ----- the classifier on real names ------------------------------------------------------------------

T, C, U = inspector.TENSOR_CORES, inspector.CUDA_CORES, inspector.UNKNOWN
REAL_NAMES = [
    # (name, unit, precision, where it was printed)
    ("sm80_xmma_gemm_f16f16_f16f16_f16_nn_n_tilesize128x128x32_stage4_warpsize2x2x1_tensor16x8x16", T, "FP16",
     "NVIDIA/TensorRT#3583 (TensorRT 9.1, A800, ONELINE layer information)"),
    ("sm80_xmma_fprop_implicit_gemm_indexed_f32f32_tf32f32_f32_nhwckrsc_nchw_tilesize128x64x64_stage3_warpsize2x2x1"
     "_g1_tensor16x8x8", T, "TF32", "dusty-nv/jetson-inference#1855 (TensorRT 8.6.2 verbose build log)"),
    ("sm50_xmma_fprop_implicit_gemm_f32f32_f32f32_f32_nhwckrsc_nhwc_tilesize64x64x8_stage1_warpsize1x4x1_g1_ffma_"
     "aligna4_alignc4", C, "FP32", "wenet-e2e/wenet#2206 (TensorRT 8.6 verbose build log, a MatMul)"),
    ("sm75_xmma_fprop_implicit_gemm_f16f16_f16f16_f16_nhwckrsc_nhwc_tilesize64x256x64_stage1_warpsize1x4x2_g1_"
     "tensor16x8x8_t1r3s3", T, "FP16", "ultralytics/ultralytics#23047 (verbose build log, 2025): FP16 with the "
     "16x8x8 MMA shape, so that shape alone does not mean TF32"),
    ("turing_h1688cudnn_256x64_sliced1x2_ldg8_relu_exp_medium_nhwc_tn_v1", T, "FP16",
     "NVIDIA/TensorRT#875 (TensorRT 7 verbose build log)"),
    ("volta_h884cudnn_256x128_ldg8_relu_exp_small_nhwc_tn_v1", T, "FP16", "NVIDIA/TensorRT#875"),
    ("trt_turing_xmma_implicit_gemm_f16f16f16_nhwc_nhwc_fprop_64x32x64x1_16x8x8_1stages", T, "FP16",
     "NVIDIA/TensorRT#875"),
    ("maxwell_scudnn_128x32_relu_medium_nn_v0", C, "FP32", "NVIDIA/TensorRT#875"),
    ("volta_scudnn_winograd_128x128_ldg1_ldg4_relu_tile148t_nt_v1", C, "FP32", "NVIDIA/TensorRT#1090"),
    ("ampere_h16816cudnn_128x64_sliced1x2_ldg8_relu_exp_stages_64x3_small_nhwc_tn_v1", T, "FP16",
     "NVIDIA/TensorRT v10.16, trt-engine-explorer example A100/fp16 graph.json"),
    ("trt_turing_cutlass_image_network_first_layer_hmma_fprop_f16f16f32_nhwc_nhwc_k64r7s7c4_stride2x2", T, "FP16",
     "same file: the first (3-channel) convolution, padded to c4"),
    ("sm80_xmma_fprop_implicit_gemm_f32f32_f32f32_f32_nhwckrsc_nhwc_tilesize128x64x8_stage3_warpsize2x2x1_g1_ffma_"
     "t1r3s3_aligna4_alignc4", C, "FP32", "NVIDIA/TensorRT v10.16, trt-engine-explorer example RTX-3090/fp32"),
    ("ampere_int8x4_icudnn_int8x4_128x32_relu_interior_c32_nn_v1", C, "INT8",
     "NVIDIA/TensorRT v10.16, trt-engine-explorer example RTX-3090/qat: int8 on DP4A, not tensor cores"),
    ("sm80_xmma_fprop_implicit_gemm_interleaved_i8i8_i8i32_f32_nchw_vect_c_32kcrs_vect_c_32_nchw_vect_c_32_"
     "tilesize128x128x64_stage4_warpsize2x2x1_g1_tensor16x8x32_t1r3s3", T, "INT8",
     "NVIDIA/TensorRT v10.16, trt-engine-explorer example A100/qat-residual"),
    ("sm50_xmma_pooling_fw_4d_FP16FP32NHWC_Average_FastDiv_CAlign8", C, "FP16",
     "NVIDIA/TensorRT v10.16, trt-engine-explorer example A100/fp16 (a pooling kernel)"),
]


@pytest.mark.parametrize("name, unit, precision, where", REAL_NAMES, ids=[n[0][:40] for n in REAL_NAMES])
def test_real_tactic_names(name, unit, precision, where):
    k = inspector.classify(name)
    assert (k.unit, k.precision) == (unit, precision), f"{name} ({where}): {k}"
    assert k.evidence


def test_alignment_and_architecture_tokens():
    k = inspector.classify(REAL_NAMES[2][0])
    assert k.alignment == (4, 4) and k.arch == "sm50"
    assert inspector.classify("cutlass_80_wmma_tensorop_f16_s161616gemm_f16_32x32_128x2_tn_align1").alignment == (1,)
    assert inspector.classify("turing_h1688cudnn_256x64").arch == "turing"


@pytest.mark.parametrize("name, why", [
    ("__myl_MulAddMulMulAdd_0xa4b2", "Myelin"),            # Myelin's generated kernels (name form as TRT 10 prints)
    ("nvjet_hsh_256x128_64x4_1x2_h_bz_coopA_NNT", "nvjet"),   # cuBLAS's Hopper kernels: type code, no unit
    ("", "no tactic name"),
    (None, "no tactic name"),
    ("my_custom_plugin_kernel", "no token"),
])
def test_opaque_names_are_unknown(name, why):
    k = inspector.classify(name)
    assert k.unit == U and why in k.evidence


def test_classify_refuses_non_strings_and_classifies_every_layer():
    with pytest.raises(InputError) as e:
        inspector.classify(0x1234)
    assert "a tactic name is a string" in one_line(e)
    pairs = inspector.classify_layers(inspector.read(V10))
    assert [k.unit for _, k in pairs] == [U, T, C]


def test_planted_mistake_in_a_pattern_is_caught(monkeypatch):
    """The real-name table bites: drop the MMA-shape rule and Turing's FP16 16x8x8 kernel is lost."""
    monkeypatch.setattr(inspector, "_TENSOR", [p for p in inspector._TENSOR if "tensor" not in p[0]
                                                and "16x8x8" not in p[0]])
    assert inspector.classify(REAL_NAMES[3][0]).unit != T
