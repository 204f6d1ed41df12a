"""Every replacement hint of ``trtfaq check-api`` (``HINTS``) against NVIDIA's own word on that name.

``trtfaq/data/hint_sources.json`` (written by tests/trt_api/make_hint_sources.py from a clone of
NVIDIA/TensorRT) holds, for every key of ``HINTS``, the deprecation notes NVIDIA wrote for the name: the
``\\deprecated`` note of the wrapped C++ declaration, the ``[DEPRECATED]`` note of the Python docstring, the
text the Python binding prints when the name is used, and the entry of NVIDIA's migration table. Where such
a note names a replacement, the hint must name it too: the C++ name as the Python binding spells it
(``getTensorShape`` -> ``get_tensor_shape``) among the hint's backquoted names, or NVIDIA's phrase
("strong typing", "explicit quantization") in the hint's words.
"""
from __future__ import annotations

import importlib.resources
import json
import re
from fnmatch import fnmatch
from pathlib import Path

import pytest
import tomllib

from trtfaq.tools import apisurface
from trtfaq.tools.check_api import HINTS

from trt_api.make_hint_sources import CPP, check_mapping, named_replacements

ROOT = Path(__file__).resolve().parents[1]
KINDS = {"header", "docstring", "binding", "page"}

#: C++ (or binding) names whose Python spelling is not the plain snake_case of the C++ name, each from the
#: pybind11 statement that binds it (python/src/infer/pyCore.cpp of NVIDIA/TensorRT v8.6.1 unless noted)
EQUIVALENT = {
    # .def_property_readonly("num_io_tensors", &ICudaEngine::getNbIOTensors)
    "getNbIOTensors": ["ICudaEngine.num_io_tensors"],
    # .def("get_tensor_mode", &ICudaEngine::getTensorIOMode, ...)
    "getTensorIOMode": ["ICudaEngine.get_tensor_mode"],
    # .def("get_tensor_dtype", &ICudaEngine::getTensorDataType, ...)
    "getTensorDataType": ["ICudaEngine.get_tensor_dtype"],
    # .def("get_tensor_profile_shape", lambdas::get_tensor_profile_shape, ...); it calls self.getProfileShape(...)
    "getProfileShape": ["ICudaEngine.get_tensor_profile_shape"],
    # .def("get_shape_input", lambdas::opt_profile_get_shape_input, ...) on IOptimizationProfile; it calls
    # self.getShapeValues(inputName, ...) (IOptimizationProfile::getShapeValues)
    "getShapeValues": ["IOptimizationProfile.get_shape_input"],
    # .def("execute_async_v2", lambdas::execute_async_v2, ...); it calls self.enqueueV2(...)
    "enqueueV2": ["IExecutionContext.execute_async_v2"],
    # .def("execute_async_v3", lambdas::execute_async_v3, ...); it calls self.enqueueV3(...)
    "enqueueV3": ["IExecutionContext.execute_async_v3"],
    # python/src/parsers/pyOnnx.cpp: py::class_<IParser>(m, "OnnxParser", ...)
    "IParser": ["tensorrt.OnnxParser"],
    # a typo in the binding: pyGraph.cpp:404 deprecateMember(&IPoolingLayer::getWindowSize, "windnow_size_nd");
    # the property is IPoolingLayer.window_size_nd
    "windnow_size_nd": ["IPoolingLayer.window_size_nd"],
}

#: NVIDIA's phrases (lower case, as named in a note) -> what the hint must say: every pattern must match
#: (case-insensitive)
PHRASES = {
    "strong typing": [r"strong(ly)? typ"],
    "strongly typed networks": [r"strong(ly)? typ"],
    "strong typing (always enforced)": [r"strong(ly)? typ"],
    "strong typing with modelopt autocast": [r"strong(ly)? typ", r"autocast"],
    # NVIDIA's 10.x -> 11.x migration table spells it out: "Explicit quantization with Q/DQ nodes"
    "explicit quantization": [r"q/dq|explicit quantization"],
    "explicit quantization with q/dq nodes": [r"q/dq"],
    "editable mode in itimingcache": [r"editable", r"`ITimingCache`"],
    # the get_tensor_*(name) family that replaced the binding-index methods in 8.5
    "name-based methods": [r"\(name\b|\bnames?\b|_name\b"],
    "builder optimization level 2": [r"builder_optimization_level\W*(=\s*)?2\b|optimization level 2"],
    "query data type support from cuda directly": [r"\bCUDA\b"],
    "network created with networkdefinitioncreationflag::explicit_batch flag": [r"explicit batch"],
}


def load() -> dict:
    return json.loads((importlib.resources.files("trtfaq") / "data" / "hint_sources.json").read_text())


DATA = load()
SURFACE = apisurface.load()


# ----- reading names ---------------------------------------------------------------------------------------
def snake(name: str) -> str:
    """``getTensorShape`` -> ``get_tensor_shape``; ``isShapeInferenceIO`` -> ``is_shape_inference_io``."""
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def is_api_name(token: str) -> bool:
    last = re.split(r"::|\.", token)[-1]
    return bool("::" in token or "_" in last or re.search(r"[a-z][A-Z]", last) or re.match(r"I[A-Z]", last)
                or re.fullmatch(r"[A-Z][A-Z0-9_]+", last))


def api_names(text: str) -> list[str]:
    """The API names in a replacement (``IBuilderConfig::setMemoryPoolLimit() with MemoryPoolType::kWORKSPACE``
    -> the two names), not plain words."""
    return [t for t in re.findall(r"[A-Za-z_]\w*(?:(?:::|\.)[A-Za-z_]\w*)*", text) if is_api_name(t)]


def python_names(name: str) -> list[str]:
    """The Python member names a C++ or binding name can stand for (bare, no class)."""
    last = re.split(r"::|\.", name)[-1]
    if last in EQUIVALENT:
        return [q.split(".")[-1] for q in EQUIVALENT[last]]
    if re.fullmatch(r"k[A-Z][A-Z0-9_]*", last):  # enum values: kSTANDARD -> STANDARD
        return [last[1:]]
    if last[0].isupper() and not re.fullmatch(r"[A-Z0-9_]+", last):  # classes keep their names
        return [last]
    n = last if "_" in last or last.isupper() else snake(last)
    out = [n]
    if n.startswith(("get_", "set_")):  # C++ get/set pairs are Python properties: getAvgTimingIterations
        out.append(n[4:])
    if n.startswith("get_nb_"):
        out.append("num_" + n[7:])
    return out


def hint_names(hint: str) -> set[str]:
    """Every identifier inside the hint's backquotes."""
    return {w for span in re.findall(r"`([^`]*)`", hint) for w in re.findall(r"\w+", span)}


def gone_together(key: str, later: str) -> bool:
    """Whether ``later`` (NVIDIA's replacement for ``key``) was already gone in the first release without
    ``key``: then only its own replacement helps (execute_async -> execute_async_v2, both gone in 10.0)."""
    last = DATA["names"][key]["last_release"]
    if last not in SURFACE.releases or SURFACE.index(last) + 1 == len(SURFACE.releases):
        return False
    owner, name = later.split(".", 1)
    return not SURFACE.api(SURFACE.releases[SURFACE.index(last) + 1]).has("" if owner == "tensorrt" else owner, name)


def agrees(key: str, hint: str, replacement: str, seen: frozenset = frozenset()) -> bool:
    """Whether ``hint`` names NVIDIA's ``replacement`` for ``key``. A replacement that is itself a removed
    name with a hint (``execute_async`` -> ``execute_async_v2``, gone in 10.0) counts when the hint names
    what NVIDIA gives for that one."""
    phrase = re.sub(r"\s+", " ", replacement.strip().lower())
    if phrase in PHRASES:
        return all(re.search(p, hint, re.I) for p in PHRASES[phrase])
    names = api_names(replacement)
    if not names:
        return phrase in re.sub(r"\s+", " ", hint.replace("`", "").replace("_", " ").lower())
    have = hint_names(hint)
    for alternative in re.split(r"\bor\b", replacement):
        wanted = api_names(alternative)
        if wanted and all(set(python_names(n)) & have for n in wanted):
            return True
    owner = key.split(".")[0]
    for n in names:
        for cand in python_names(n):
            later = f"{owner}.{cand}"
            if later in HINTS and later != key and later not in seen and gone_together(key, later):
                for src in DATA["entries"].get(later, []):
                    for r in named_replacements(src["text"], src["kind"]):
                        if agrees(later, hint, r, seen | {key}):
                            return True
    return False


def disagreements(key: str, hint: str) -> list[str]:
    out = []
    for src in DATA["entries"].get(key, []):
        for r in named_replacements(src["text"], src["kind"]):
            if not agrees(key, hint, r):
                out.append(f"{src['kind']} {src['url']}: NVIDIA: {src['text']!r} names {r!r}; hint: {hint!r}")
    return out


# ----- the data --------------------------------------------------------------------------------------------
def test_shipped_as_package_data():
    """pip install must carry the JSON: pyproject's package-data has to match data/hint_sources.json."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["trtfaq"]
    assert any(fnmatch("data/hint_sources.json", g) for g in globs), globs


def test_every_hint_key_has_sources_or_is_listed_unsourced():
    covered = set(DATA["entries"]) | set(DATA["unsourced"])
    assert set(DATA["names"]) == covered
    assert not set(DATA["entries"]) & set(DATA["unsourced"])
    assert sorted(set(HINTS) - covered) == [], "run tests/trt_api/make_hint_sources.py"
    assert sorted(covered - set(HINTS)) == [], "keys no longer in HINTS: run tests/trt_api/make_hint_sources.py"


def test_generator_maps_every_hint_key_to_cpp():
    assert sorted(set(HINTS) - set(CPP)) == []


def test_unsourced_say_what_was_searched():
    for key, info in DATA["unsourced"].items():
        assert info["searched"] and all(isinstance(s, str) and s for s in info["searched"]), key


@pytest.mark.parametrize("key", sorted(DATA["entries"]))
def test_sources_are_well_formed(key):
    sources, info = DATA["entries"][key], DATA["names"][key]
    assert sources, key
    for src in sources:
        assert src["kind"] in KINDS
        text = src["text"]
        assert text and "\n" not in text and text == text.strip() and not text.startswith(("//", "\\")), src
        if src["kind"] == "page":
            assert src["url"].startswith("https://docs.nvidia.com/deeplearning/tensorrt/"), src
        else:
            blob = r"https://github\.com/NVIDIA/TensorRT/blob/" + re.escape(info["tag"]) + r"/[\w/.]+#L\d+"
            assert re.fullmatch(blob, src["url"]), src
        if src["kind"] == "header":
            assert src["cpp"] in info["cpp"], src
        assert src["names_replacement"] == bool(named_replacements(text, src["kind"])), src


def test_equivalences_name_real_python_api():
    for cpp, names in EQUIVALENT.items():
        for qual in names:
            owner, name = qual.split(".")
            assert SURFACE.present("" if owner == "tensorrt" else owner, name), (cpp, qual)


# ----- the hints against NVIDIA ----------------------------------------------------------------------------
@pytest.mark.parametrize("key", sorted(k for k, v in DATA["entries"].items() if any(s["names_replacement"] for s in v)))
def test_hint_agrees_with_nvidia(key):
    assert key in HINTS
    problems = disagreements(key, HINTS[key])
    assert not problems, f"{key}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(("key", "wrong"), [
    ("ICudaEngine.get_binding_shape", "`ICudaEngine.get_tensor_dtype(name)`"),  # a wrong API name
    ("IConvolutionLayer.kernel_size", "`IConvolutionLayer.kernel_size`"),  # the removed name itself
    ("BuilderFlag.INT8", "strong typing: give the model INT8 tensors"),  # NVIDIA: explicit quantization, Q/DQ
    ("IBuilderConfig.algorithm_selector", "`IBuilderConfig.tactic_sources`"),  # NVIDIA: editable ITimingCache
    ("IExecutionContext.execute_async", "`IExecutionContext.execute_v2(bindings)`"),  # NVIDIA: enqueueV2, V3
    ("EngineCapability.SAFE_GPU", "`EngineCapability.STANDARD`"),  # NVIDIA: kSAFETY
    ("tensorrt.UffParser", "export the model to Caffe and use `tensorrt.CaffeParser`"),  # NVIDIA: IParser
])
def test_planted_wrong_hint_is_caught(key, wrong):
    assert disagreements(key, wrong)


@pytest.mark.parametrize(("key", "right"), [
    ("ICudaEngine.get_binding_shape", "`ICudaEngine.get_tensor_shape(name)`"),
    ("IExecutionContext.execute_async", "`IExecutionContext.execute_async_v3(stream)`"),  # via execute_async_v2
    ("BuilderFlag.INT8", "strong typing: INT8 from Q/DQ nodes in the model"),  # both of NVIDIA's phrases
    ("ProfilingVerbosity.DEFAULT", "`ProfilingVerbosity.LAYER_NAMES_ONLY`"),
])
def test_planted_right_hint_passes(key, right):
    assert disagreements(key, right) == []


@pytest.mark.parametrize(("text", "kind", "named"), [
    ("Deprecated in TensorRT 8.5. Superseded by getTensorShape().", "header", ["getTensorShape()"]),
    ("Deprecated in TensorRT 8.0.", "header", []),
    ("[DEPRECATED] This flag has no effect now.", "docstring", []),
    ("get_tensor_strides", "binding", ["get_tensor_strides"]),
    ("Implicit batch dimensions support has been removed", "binding", []),
    ("Removed (unneeded)", "page", []),
    ("Explicit quantization with Q/DQ nodes", "page", ["Explicit quantization with Q/DQ nodes"]),
    ("Deprecated in TensorRT 8.5. Superseded by name-based methods. Use them instead of binding-index based "
     "methods.", "header", ["name-based methods"]),
])
def test_named_replacements(text, kind, named):
    assert named_replacements(text, kind) == named


def test_generator_rejects_a_wrong_cpp_mapping():
    statement = {"text": '.def("get_binding_shape", utils::deprecateMember(&ICudaEngine::getBindingDimensions, '
                         '"get_tensor_shape"), "index"_a, ICudaEngineDoc::get_binding_shape)', "source": ""}
    check_mapping("ICudaEngine.get_binding_shape", ["nvinfer1::ICudaEngine::getBindingDimensions"], [statement])
    with pytest.raises(SystemExit, match="getBindingDataType"):
        check_mapping("ICudaEngine.get_binding_shape", ["nvinfer1::ICudaEngine::getBindingDataType"], [statement])


def test_the_setup_page_counts_the_hints_nvidia_names():
    from trtfaq.tools.check_api import cite

    named = sum(bool(cite(key)[0]) for key in HINTS)
    page = " ".join((ROOT / "book" / "setup.md").read_text().split())
    assert f"(for {named} of the {len(HINTS)} suggestions;" in page
    # the quoted note names where it is, and its address opens that line
    text, url = cite("IBuilderConfig.max_workspace_size")
    assert text.startswith("NVIDIA/TensorRT v8.6.1 include/NvInfer.h:") and url.endswith(text.split(":")[1])
    assert cite("tensorrt.UffInputOrder") == ("", "")
