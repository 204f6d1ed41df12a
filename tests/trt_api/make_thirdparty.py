"""Copy TensorRT Python code of public projects other than NVIDIA's TensorRT repository into
``tests/trt_api/corpus/thirdparty`` (the checker's second test corpus).

    python tests/trt_api/make_thirdparty.py --clones DIR

``DIR`` holds a clone (or bare git directory) of each project below, named ``owner+name`` (for example
``DIR/open-mmlab+mmdeploy``). Each file is copied from the pinned commit, unchanged but for a ``.txt``
suffix (so that no linter or test runner treats it as this project's code), with the project's license
file beside it. Only projects under permissive licenses that allow copying with attribution are used.
``README.md`` lists every file with its source; ``thirdparty_labels.json`` holds the hand-checked labels of
every report (``tests/test_check_api_corpus.py``).
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus" / "thirdparty"

#: project -> (commit, license, license file, what the code is, files)
PROJECTS = {
    "open-mmlab/mmdeploy": (
        "3f8604bd72e8e15d06b2e0552fe2fdb8f8de33c4", "Apache-2.0", "LICENSE",
        "OpenMMLab's deployment toolbox, TensorRT backend (written for TensorRT 8.x)",
        ["mmdeploy/backend/tensorrt/calib_utils.py", "mmdeploy/backend/tensorrt/wrapper.py",
         "mmdeploy/backend/tensorrt/torch_allocator.py", "mmdeploy/backend/tensorrt/utils.py",
         "mmdeploy/codebase/mmdet/models/necks.py", "mmdeploy/codebase/mmocr/models/text_detection/fpn_cat.py"]),
    "NVIDIA-AI-IOT/torch2trt": (
        "4e820ae31b4e35d59685935223b05b2e11d47b03", "MIT", "LICENSE.md",
        "PyTorch-to-TensorRT converter (written for TensorRT 8.x)",
        ["torch2trt/__init__.py", "torch2trt/torch2trt.py", "torch2trt/trt_module.py", "torch2trt/utils.py",
         "torch2trt/misc_utils.py", "torch2trt/version_utils.py", "torch2trt/dataset_calibrator.py",
         "torch2trt/contrib/qat/converters/QuantConv.py", "torch2trt/contrib/qat/converters/QuantConvBN.py",
         "torch2trt/contrib/qat/converters/QuantRelu.py", "examples/easyocr/optimize_detector.py",
         "examples/easyocr/optimize_recognizer.py", "tests/feature_tests/test_dynamic_shape.py"]),
    "triple-Mu/YOLOv8-TensorRT": (
        "d5f68cd79a589dd6875ccc070c31fbfc2f38227d", "MIT", "LICENSE",
        "YOLOv8 engine building and inference, with version gates for TensorRT 8 and 10",
        ["models/engine.py", "models/api.py", "models/pycuda_api.py", "models/cudart_api.py"]),
    "wang-xinyu/tensorrtx": (
        "3ff22bb4be762dafa2ce83dac0b291ba9a57cd9b", "MIT", "LICENSE",
        "networks written layer by layer with the TensorRT API, and YOLO inference scripts",
        ["lenet/lenet.py", "resnet/resnet50.py", "yolov5/yolov5_det_trt.py", "yolov5/yolov5_det_cuda_python.py",
         "yolov8/yolov8_det_trt.py", "yolo11/yolo11_det_trt.py", "centernet/centernet.py",
         "convnextv2/inference.py"]),
    "pytorch/TensorRT": (
        "d7f2062810df37e4bbcfc9065b5f44f09aca7156", "BSD-3-Clause", "LICENSE",
        "Torch-TensorRT (current code for TensorRT 10.x/11.x, plus its legacy FX path)",
        ["py/torch_tensorrt/_utils.py", "py/torch_tensorrt/dynamo/runtime/_TRTEngine.py",
         "py/torch_tensorrt/dynamo/conversion/_TRTInterpreter.py",
         "py/torch_tensorrt/dynamo/conversion/impl/attention.py",
         "py/torch_tensorrt/dynamo/conversion/impl/nccl_ops.py",
         "py/torch_tensorrt/dynamo/conversion/impl/dynamic_block_quantize.py",
         "py/torch_tensorrt/dynamo/conversion/impl/elementwise/ops.py",
         "py/torch_tensorrt/fx/trt_module.py", "tools/perf/perf_run.py"]),
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=Path, required=True, help="folder of clones named owner+name")
    args = parser.parse_args()
    rows = []
    for project, (commit, license_id, license_file, _what, files) in PROJECTS.items():
        repo = args.clones / project.replace("/", "+")
        dest = CORPUS / project.replace("/", "+")
        (dest / "LICENSE.txt").parent.mkdir(parents=True, exist_ok=True)
        (dest / "LICENSE.txt").write_text(git(repo, "show", f"{commit}:{license_file}"))
        for name in files:
            out = dest / (name + ".txt")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(git(repo, "show", f"{commit}:{name}"))
            rows.append(f"| `{project.replace('/', '+')}/{name}.txt` | [{project}](https://github.com/{project}) "
                        f"`{name}` | `{commit[:12]}` | {license_id} |")
    readme = [
        "# Corpus: TensorRT Python code of other public projects",
        "",
        "Copied by `tests/trt_api/make_thirdparty.py` from the pinned commits below, unchanged except for a",
        "`.txt` suffix. Each project's license file is in its folder (`LICENSE.txt`); the copyright stays",
        "with the projects' authors.",
        "",
        *[f"- [{p}](https://github.com/{p}) at `{c}` ({lic}): {w}." for p, (c, lic, _, w, _f) in PROJECTS.items()],
        "",
        "`tests/test_check_api_corpus.py` runs `trtfaq check-api` over these files against the newest 10.x",
        "and 11.x releases; every report is labelled by hand in `../thirdparty_labels.json` (right: the line",
        "fails on that release when it runs; wrong: it does not).",
        "",
        "| File here | Source | Commit | License |",
        "|---|---|---|---|",
        *rows,
    ]
    (CORPUS / "README.md").write_text("\n".join(readme) + "\n")
    print(f"copied {len(rows)} files into {CORPUS}")


if __name__ == "__main__":
    main()
