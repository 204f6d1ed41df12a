"""A battery of bad inputs to every public entry point of chapter 6's kit and the book's command line.

Each case must end in a one-line book error naming the problem (``helpers.one_line``) and never in a
traceback from numpy, onnx, Polygraphy or ONNX Runtime, nor in a silent result. Cases are grouped by
class (wrong types, paths instead of models, shapes, NaN, empty data, missing or invalid files,
unwritable outputs, bad values, bad environment variables); interrupts, atomic writes and
never-overwritten results are tested below the table. ``test_every_class_has_three_cases`` keeps the
count honest.
"""
import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest

from trtfaq import engine, models, plots, precision, results
from trtfaq.chapters import versions
from trtfaq.chapters import wrong_answers as ch6
from trtfaq.errors import BookError
from trtfaq.tools import cli, colab, doctor, preflight

from helpers import one_line

MLP = models.MLP.random((8, 6, 3), seed=1)
MODEL = MLP.onnx()
X = {"x": np.zeros((2, 8), np.float32)}
REF = {"h": np.ones((2, 6), np.float32)}
ROWS = precision.compare_tensors(REF, REF, [("h", "Gemm", "fc1")])
CHECK = ch6.InputCheck.fit(np.random.default_rng(0).uniform(0, 1, (20, 4)))
IMAGES = np.random.default_rng(0).integers(0, 17, (5, 8, 8)).astype(np.float32)
PROV = {"gpu": "G", "compute_capability": "9.0", "driver": "1", "cuda_runtime": "13.0", "libraries": {},
        "created": "2026-11-24T14:15:29+00:00", "git_commit": "0" * 40, "command": "c", "python": "3.11"}


def nan(shape=(2, 8)):
    a = np.zeros(shape, np.float32)
    a.flat[0] = np.nan
    return a


def axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots()[1]


def fake_result(tmp_path, experiment="ch06-precision", data=None):
    path = results.save(tmp_path, experiment, "notebooks/06-wrong-answers", "t", "not TensorRT", PROV,
                        data if data is not None else {"networks": {}})
    return results.load(path)


def text_file(tmp_path, name="notes.txt", text="not a model"):
    p = tmp_path / name
    p.write_text(text)
    return p


# (class, id, call(tmp_path), substring of the message)
CASES = [
    # --- wrong types -----------------------------------------------------------------------------
    ("type", "to_fp16 None", lambda t: precision.to_fp16(None), "must be an onnx.ModelProto"),
    ("type", "to_fp16 graph", lambda t: precision.to_fp16(MODEL.graph), "wrap it with onnx.helper.make_model"),
    ("type", "to_fp16 keep_fp32 int", lambda t: precision.to_fp16(MODEL, keep_fp32=3), "keep_fp32 must be a list"),
    ("type", "to_fp16 keep_io_types str", lambda t: precision.to_fp16(MODEL, keep_io_types="yes"), "keep_io_types"),
    ("type", "to_fp16 max_finite str", lambda t: precision.to_fp16(MODEL, max_finite="1e4"), "max_finite must be a number"),
    ("type", "run_tensors feeds list", lambda t: precision.run_tensors(MODEL, [X["x"]]), "feeds must be a dict"),
    ("type", "run_tensors feeds array", lambda t: precision.run_tensors(MODEL, X["x"]), "feeds must be a dict"),
    ("type", "run_tensors string input", lambda t: precision.run_tensors(MODEL, {"x": "zeros"}), "numeric array"),
    ("type", "run_tensors backend None", lambda t: precision.run_tensors(MODEL, X, None), "unknown backend"),
    ("type", "run_tensors int model", lambda t: precision.run_tensors(42, X), "must be an onnx.ModelProto"),
    ("type", "compare_tensors lists", lambda t: precision.compare_tensors([1], [1], []), "must be dicts of tensors"),
    ("type", "compare_tensors atol str", lambda t: precision.compare_tensors(REF, REF, [("h", "Gemm", "")], atol="0.1"),
     "atol must be a number"),
    ("type", "compare_tensors order dict", lambda t: precision.compare_tensors(REF, REF, {"h": 1}), "order must come"),
    ("type", "compare_tensors order entries", lambda t: precision.compare_tensors(REF, REF, ["h"]), "order entries"),
    ("type", "compare_tensors object tensor", lambda t: precision.compare_tensors({"h": ["a"]}, REF, [("h", "G", "")]),
     "not numeric"),
    ("type", "first_divergence dict", lambda t: precision.first_divergence({"h": 1}), "expected the rows"),
    ("type", "first_divergence threshold str", lambda t: precision.first_divergence(ROWS, "32"), "threshold must be"),
    ("type", "rank_divergence top float", lambda t: precision.rank_divergence(ROWS, 1.5), "top must be"),
    ("type", "format_table strings", lambda t: precision.format_table(["a", "b"]), "expected the rows"),
    ("type", "ulp16 str", lambda t: precision.ulp16("1"), "must be a number"),
    ("type", "polygraphy_mismatches str", lambda t: precision.polygraphy_mismatches("a", "b", 0, 0), "numeric"),
    ("type", "check_strict rtol str", lambda t: precision.check_strict(MODEL, X, rtol="1"), "rtol must be a number"),
    ("type", "preprocess string", lambda t: ch6.preprocess("images"), "must be a numeric array"),
    ("type", "preprocess dict", lambda t: ch6.preprocess({"a": 1}), "must be a numeric array"),
    ("type", "train_mlp hidden str", lambda t: ch6.train_mlp(np.zeros((4, 2)), [0, 1, 2, 3], hidden="32"), "hidden"),
    ("type", "train_mlp steps float", lambda t: ch6.train_mlp(np.zeros((4, 2)), [0, 1, 2, 3], steps=1.5), "steps"),
    ("type", "train_mlp lr str", lambda t: ch6.train_mlp(np.zeros((4, 2)), [0, 1, 2, 3], lr="fast"), "lr must be"),
    ("type", "InputCheck.fit strings", lambda t: ch6.InputCheck.fit([["a", "b"], ["c", "d"]]), "must be numeric"),
    ("type", "InputCheck limit str", lambda t: ch6.InputCheck.fit(np.zeros((3, 2)), limit="4"), "limit must be"),
    ("type", "InputCheck direct bad mean", lambda t: ch6.InputCheck(0.0, 1.0, np.zeros((2, 2)), np.zeros((2, 2))),
     "mean and std must be vectors"),
    ("type", "l2 classifier not an MLP", lambda t: ch6.l2_normalized_classifier({"w1": 1}), "expected a trained perceptron"),
    ("type", "weights_digest strings", lambda t: ch6.weights_digest("a", "b", "c"), "expected a trained perceptron"),
    ("type", "centroid form None", lambda t: ch6.centroid_classifier(np.ones((2, 3)), None), "unknown centroid form"),
    ("type", "scores_table list", lambda t: ch6.scores_table([1, 2]), "scores_table takes"),
    ("type", "recorded_rows dict", lambda t: ch6.recorded_rows({"data": {}}), "expected a recorded run"),
    ("type", "recorded_table str", lambda t: ch6.recorded_table("rows"), "recorded_table takes"),
    ("type", "show_gemm_errors None", lambda t: ch6.show_gemm_errors(None), "expected a recorded run"),
    ("type", "polygraphy_cli string args", lambda t: ch6.polygraphy_cli("run m.onnx", t), "args must be a non-empty list"),
    ("type", "polygraphy_cli cwd None", lambda t: ch6.polygraphy_cli(["run"], None), "cwd must be an existing folder"),
    ("type", "polygraphy_cli timeout str", lambda t: ch6.polygraphy_cli(["run"], t, timeout="5"), "timeout must be"),
    ("type", "decode dotted version", lambda t: versions.decode("10.16.1"), "got the string '10.16.1'"),
    ("type", "decode float", lambda t: versions.decode(101601.5), "whole number"),
    ("type", "decode bool", lambda t: versions.decode(True), "whole number"),
    ("type", "encode strings", lambda t: versions.encode("10", "16", "1"), "major must be a whole number"),
    ("type", "fetch_runtime_library int", lambda t: versions.fetch_runtime_library(11), "requirement must be a string"),
    ("type", "dynamic_symbols None", lambda t: versions.dynamic_symbols(None), "expected the path of a library"),
    ("type", "BuildConfig workspace str", lambda t: engine.BuildConfig(workspace_bytes="1G"), "workspace_bytes"),
    ("type", "BuildConfig fp16 str", lambda t: engine.BuildConfig(fp16="yes"), "fp16 must be True or False"),
    ("type", "BuildConfig profile dims str", lambda t: engine.BuildConfig(profiles=({"x": (("1", 8), (4, 8), (8, 8))},)),
     "whole numbers"),
    ("type", "BuildConfig profiles dict", lambda t: engine.BuildConfig(profiles={"x": 1}), "profiles must be a tuple"),
    ("type", "profile_for shapes list", lambda t: engine.profile_for(({"x": ((1,), (2,), (4,))},), [(2,)]),
     "shapes must be a dict"),
    ("type", "results.save title None", lambda t: results.save(t, "e", "c", None, "l", PROV, {}), "title must be"),
    ("type", "results.save data set", lambda t: results.save(t, "e", "c", "t", "l", PROV, {"a": {1, 2}}),
     "cannot be saved as JSON"),
    ("type", "results.load int", lambda t: results.load(3), "expected the path of a result file"),
    ("type", "results.latest None", lambda t: results.latest(None, t), "experiment must be a name"),
    ("type", "gallery_table strings", lambda t: results.gallery_table(["a"]), "gallery_table takes"),
    ("type", "latency_curve not axes", lambda t: plots.latency_curve("ax", [1], [[1.0]], "x"), "matplotlib axes"),
    ("type", "latency_curve label int", lambda t: plots.latency_curve(axes(), [1], [[1.0]], 5), "label must be"),
    ("type", "tensor_errors strings", lambda t: plots.tensor_errors(axes(), ["a"], "t"), "non-empty list"),
    ("type", "tensor_errors floor str", lambda t: plots.tensor_errors(axes(), ROWS, "t", floor="0.1"), "floor must be"),
    ("type", "source_note not text", lambda t: plots.source_note(axes(), None), "source note"),

    # --- a path, bytes or something else where a model is expected ---------------------------------
    ("path", "to_fp16 missing path", lambda t: precision.to_fp16(str(t / "model.onnx")), "does not exist"),
    ("path", "to_fp16 text file", lambda t: precision.to_fp16(text_file(t)), "is not an ONNX model"),
    ("path", "to_fp16 folder", lambda t: precision.to_fp16(t), "is a folder"),
    ("path", "to_fp16 empty path", lambda t: precision.to_fp16(""), "path is empty"),
    ("path", "run_tensors missing path", lambda t: precision.run_tensors(t / "m.onnx", X), "does not exist"),
    ("path", "run_tensors garbage bytes", lambda t: precision.run_tensors(b"\x00\x01garbage", X), "not an ONNX model"),
    ("path", "graph_order empty file", lambda t: precision.graph_order(text_file(t, "e.onnx", "")), "no graph nodes"),
    ("path", "graph_order json file", lambda t: precision.graph_order(text_file(t, "m.onnx", "{}")),
     "not an ONNX model"),
    ("path", "check_strict missing", lambda t: precision.check_strict("nope.onnx", X), "does not exist"),
    ("path", "fp16_clamps folder", lambda t: precision.fp16_clamps(t), "is a folder"),
    ("path", "check_fp16 missing", lambda t: precision.check_fp16(t / "m16.onnx"), "does not exist"),
    ("path", "compare order missing model", lambda t: precision.compare_tensors(REF, REF, t / "m.onnx"), "does not exist"),

    # --- shapes ----------------------------------------------------------------------------------
    ("shape", "run_tensors wrong width", lambda t: precision.run_tensors(MODEL, {"x": np.zeros((1, 9), np.float32)}),
     "input 'x' must have shape (N, 8), got (1, 9)"),
    ("shape", "run_tensors wrong rank", lambda t: precision.run_tensors(MODEL, {"x": np.zeros(8, np.float32)}),
     "must have rank 2"),
    ("shape", "strict wrong width", lambda t: precision.run_tensors(MODEL, {"x": np.zeros((2, 7), np.float32)},
                                                                     "strict"), "got (2, 7)"),
    ("shape", "preprocess (N, 64)", lambda t: ch6.preprocess(np.zeros((2, 64))), "shape (N, 8, 8)"),
    ("shape", "InputCheck width", lambda t: CHECK.check(np.zeros((3, 5), np.float32)), "shape (N, 4)"),
    ("shape", "train_mlp 3-D features", lambda t: ch6.train_mlp(np.zeros((4, 2, 2)), [0, 1, 2, 3]), "need features"),
    ("shape", "train_mlp labels count", lambda t: ch6.train_mlp(np.zeros((4, 2)), [0, 1]), "need features (N, D)"),
    ("shape", "centroid centres 1-D", lambda t: ch6.centroid_classifier(np.ones(3)), "shape (K, D)"),
    ("shape", "compare_scores shapes", lambda t: ch6.compare_scores(np.ones((2, 3)), np.ones((3, 3)), [0, 1]),
     "cannot compare scores"),
    ("shape", "top1 1-D", lambda t: ch6.top1(np.ones(3)), "shape (N, classes)"),
    ("shape", "agreement rows", lambda t: ch6.agreement(np.ones((2, 3)), np.ones((3, 3))), "cannot compare"),
    ("shape", "polygraphy_mismatches shapes", lambda t: precision.polygraphy_mismatches(np.ones(2), np.ones(3), 0, 0),
     "cannot compare shapes"),
    ("shape", "profile ranks", lambda t: engine.BuildConfig(profiles=({"x": ((1, 8), (4,), (8, 8))},)), "one rank"),
    ("shape", "profile_for rank", lambda t: engine.profile_for(({"x": ((1, 8), (4, 8), (8, 8))},), {"x": (4,)}),
     "outside every optimization profile"),
    ("shape", "run_tensors ragged feed", lambda t: precision.run_tensors(MODEL, {"x": [[1.0, 2.0], [3.0]]}),
     "is not a rectangular array"),
    ("shape", "compare_tensors ragged tensor", lambda t: precision.compare_tensors({"h": [[1], [1, 2]]}, REF,
                                                                                   [("h", "G", "")]),
     "is not a rectangular array"),
    ("shape", "top1 ragged", lambda t: ch6.top1([[1.0, 2.0], [3.0]]), "rectangular"),
    ("shape", "latency_curve lengths", lambda t: plots.latency_curve(axes(), [1, 2], [[1.0]], "x"),
     "one list of timings per size"),

    # --- NaN and inf -----------------------------------------------------------------------------
    ("nan", "InputCheck all-NaN batch", lambda t: CHECK.check(np.full((4, 4), np.nan, np.float32)), "NaN or inf"),
    ("nan", "InputCheck one inf", lambda t: CHECK.check(np.where(np.eye(4, dtype=bool), np.inf, 0.5).astype(np.float32)),
     "NaN or inf"),
    ("nan", "InputCheck.fit NaN", lambda t: ch6.InputCheck.fit(nan((4, 4))), "NaN or inf"),
    ("nan", "run_tensors NaN feed", lambda t: precision.run_tensors(MODEL, {"x": nan()}), "NaN or inf"),
    ("nan", "strict NaN feed", lambda t: precision.run_tensors(MODEL, {"x": nan()}, "strict"), "NaN or inf"),
    ("nan", "preprocess NaN", lambda t: ch6.preprocess(np.full((1, 8, 8), np.nan)), "NaN or inf"),
    ("nan", "train_mlp NaN", lambda t: ch6.train_mlp(nan((4, 2)), [0, 1, 2, 3]), "NaN or inf"),
    ("nan", "centroids NaN", lambda t: ch6.centroids(nan((10, 2)), list(range(10))), "NaN or inf"),
    ("nan", "compare_scores NaN reference", lambda t: ch6.compare_scores(np.ones((2, 3)), nan((2, 3)), [0, 1]),
     "NaN or inf"),
    ("nan", "compare_tensors atol NaN", lambda t: precision.compare_tensors(REF, REF, [("h", "G", "")], atol=float("nan")),
     "atol must be finite"),
    ("nan", "to_fp16 max_finite inf", lambda t: precision.to_fp16(MODEL, max_finite=float("inf")), "must be finite"),
    ("nan", "latency_curve NaN samples", lambda t: plots.latency_curve(axes(), [1], [[float("nan")]], "x"),
     "finite timings"),
    ("nan", "results.save NaN data", lambda t: results.save(t, "e", "c", "t", "l", PROV, {"v": float("nan")}),
     "cannot be saved as JSON"),
    ("nan", "InputCheck limit NaN", lambda t: ch6.InputCheck.fit(np.zeros((3, 2)), limit=float("nan")), "limit"),

    # --- empty data ------------------------------------------------------------------------------
    ("empty", "run_tensors empty batch", lambda t: precision.run_tensors(MODEL, {"x": np.zeros((0, 8), np.float32)}),
     "is empty"),
    ("empty", "run_tensors no feeds", lambda t: precision.run_tensors(MODEL, {}), "model inputs are ['x'], got []"),
    ("empty", "compare_tensors nothing shared", lambda t: precision.compare_tensors({}, {}, []), "share no tensor"),
    ("empty", "format_table no rows", lambda t: precision.format_table([]), "no rows"),
    ("empty", "InputCheck empty batch", lambda t: CHECK.check(np.zeros((0, 4), np.float32)), "is empty"),
    ("empty", "InputCheck.fit empty", lambda t: ch6.InputCheck.fit(np.zeros((0, 4))), "is empty"),
    ("empty", "preprocess empty", lambda t: ch6.preprocess(np.zeros((0, 8, 8))), "is empty"),
    ("empty", "top1 empty", lambda t: ch6.top1(np.zeros((0, 3))), "non-empty"),
    ("empty", "centroids empty", lambda t: ch6.centroids(np.zeros((0, 3)), []), "is empty"),
    ("empty", "scores_table empty", lambda t: ch6.scores_table({}), "one entry or more"),
    ("empty", "latency_curve no sizes", lambda t: plots.latency_curve(axes(), [], [], "x"), "non-empty list"),
    ("empty", "latency_curve empty samples", lambda t: plots.latency_curve(axes(), [1], [[]], "x"), "non-empty list"),
    ("empty", "tensor_errors no rows", lambda t: plots.tensor_errors(axes(), [], "t"), "non-empty list"),
    ("empty", "polygraphy_cli no args", lambda t: ch6.polygraphy_cli([], t), "non-empty list"),
    ("empty", "profile_for no profiles", lambda t: engine.profile_for((), {"x": (1,)}), "no optimization profiles"),
    ("empty", "recorded_table no rows", lambda t: ch6.recorded_table([]), "recorded_table takes"),

    # --- missing or invalid files ----------------------------------------------------------------
    ("file", "results.load missing", lambda t: results.load(t / "r.json"), "does not exist"),
    ("file", "results.load not JSON", lambda t: results.load(text_file(t, "r.json", "{")), "not valid JSON"),
    ("file", "results.load folder", lambda t: results.load(t), "is a folder"),
    ("file", "results.load bad created", lambda t: results.load(text_file(t, "r.json", json.dumps(
        {"schema": results.SCHEMA, "experiment": "e", "chapter": "c", "title": "t", "label": "l",
         "provenance": {**PROV, "created": "yesterday"}, "data": {}}))), "not an ISO 8601 time"),
    ("file", "results.load provenance types", lambda t: results.load(text_file(t, "r.json", json.dumps(
        {"schema": results.SCHEMA, "experiment": "e", "chapter": "c", "title": "t", "label": "l",
         "provenance": {**PROV, "gpu": 5}, "data": {}}))), "must be strings"),
    ("file", "list_results missing folder", lambda t: results.list_results(t / "none"), "does not exist"),
    ("file", "recorded_rows wrong experiment", lambda t: ch6.recorded_rows(fake_result(t, "other")),
     "not 'ch06-precision'"),
    ("file", "recorded_rows missing keys", lambda t: ch6.recorded_rows(fake_result(t)), "not a ch06-precision recording"),
    ("file", "show_gemm_errors no gemm", lambda t: ch6.show_gemm_errors(fake_result(t)), "no usable 'gemm' data"),
    ("file", "library missing", lambda t: versions.library_version(t / "libnvinfer.so.11"), "does not exist"),
    ("file", "library not ELF", lambda t: versions.dynamic_symbols(text_file(t, "lib.so")), "not an ELF"),
    ("file", "library is folder", lambda t: versions.needed_libraries(t), "is a folder"),
    ("file", "run-all without _toc.yml", lambda t: preflight.main(t, t / "r.md"), "_toc.yml does not exist"),
    ("file", "run-all quoted toc, missing notebook", lambda t: preflight.main(
        toc(t, '  - file: "notebooks/99-missing"\n'), t / "r.md"), "with no notebook: notebooks/99-missing"),
    ("file", "run-all toc without chapters", lambda t: preflight.main(toc(t, "  - file: book/intro\n"), t / "r.md"),
     "lists no notebooks"),
    ("file", "colab-cells without _config.yml", lambda t: colab.main(t), "_config.yml does not exist"),
    ("file", "colab-cells config without url", lambda t: colab.main(config(t, "title: x\n")), "has no repository.url"),
    ("file", "colab-cells invalid notebook", lambda t: colab.main(book_with(t, "{ not json")), "is not valid JSON"),
    ("file", "colab-cells no notebooks", lambda t: colab.main(config(t)), "no notebooks"),
    ("file", "polygraphy missing model", lambda t: ch6.polygraphy_cli(["run", "missing.onnx", "--onnxrt"], t),
     "polygraphy run failed (exit code 1)"),
    ("file", "polygraphy bad option", lambda t: ch6.polygraphy_cli(["run", "m.onnx", "--bogus"], t), "--bogus"),

    # --- unwritable outputs --------------------------------------------------------------------
    ("unwritable", "results.save into a file", lambda t: results.save(text_file(t), "e", "c", "t", "l", PROV, {}),
     "cannot write the result"),
    ("unwritable", "results.save under a file", lambda t: results.save(text_file(t) / "sub", "e", "c", "t", "l", PROV,
                                                                        {}), "cannot write the result"),
    ("unwritable", "run-all report is a folder", lambda t: preflight.main(book_with(t, None), t), "is a folder"),
    ("unwritable", "run-all report under a file", lambda t: preflight.main(book_with(t, None), text_file(t) / "r.md"),
     "is a file, not a folder"),
    ("unwritable", "fetch into a cache that is a file", lambda t: cache_is_file(t), "cannot write the book's cache"),

    # --- bad values --------------------------------------------------------------------------------
    ("value", "to_fp16 unknown node", lambda t: precision.to_fp16(MODEL, keep_fp32=("fc3",)),
     "no node or tensor named 'fc3' in the model (close: "),
    ("value", "to_fp16 max_finite too big", lambda t: precision.to_fp16(MODEL, max_finite=1e5), "at most 65504"),
    ("value", "to_fp16 on_overflow", lambda t: precision.to_fp16(MODEL, on_overflow="ignore"), "on_overflow must be"),
    ("value", "to_fp16 twice", lambda t: precision.to_fp16(precision.to_fp16(MODEL)), "already holds float16"),
    ("value", "run_tensors unknown input", lambda t: precision.run_tensors(MODEL, {"image": X["x"]}),
     "model inputs are ['x'], got ['image']"),
    ("value", "run_tensors float into int", lambda t: precision.run_tensors(int_model(), {"ids": np.ones(3)}),
     "takes int64 (integers)"),
    ("value", "compare negative rtol", lambda t: precision.compare_tensors(REF, REF, [("h", "G", "")], rtol=-1),
     "at least 0"),
    ("value", "first_divergence threshold 0", lambda t: precision.first_divergence(ROWS, 0), "at least 1"),
    ("value", "labels out of range", lambda t: ch6.train_mlp(np.zeros((2, 4)), [0, 10], steps=1), "digits 0..9"),
    ("value", "labels fractional", lambda t: ch6.centroids(np.zeros((2, 4)), [0.5, 1]), "whole numbers"),
    ("value", "centroids missing digits", lambda t: ch6.centroids(np.zeros((3, 2)), [0, 1, 1]), "no training sample"),
    ("value", "InputCheck low > high", lambda t: ch6.InputCheck(2.0, 1.0, np.zeros(2), np.zeros(2)), "is above high"),
    ("value", "InputCheck negative limit", lambda t: ch6.InputCheck.fit(np.zeros((3, 2)), limit=-1), "limit must be"),
    ("value", "train_mlp zero steps", lambda t: ch6.train_mlp(np.zeros((4, 2)), [0, 1, 2, 3], steps=0), "steps"),
    ("value", "polygraphy_cli timeout 0", lambda t: ch6.polygraphy_cli(["run"], t, timeout=0), "timeout must be"),
    ("value", "polygraphy unknown tool", lambda t: ch6.polygraphy_cli(["nosuchtool"], t), "invalid choice"),
    ("value", "decode out of range", lambda t: versions.decode(12345), "not a TensorRT version number"),
    ("value", "encode negative", lambda t: versions.encode(10, -1, 0), "not a TensorRT release"),
    ("value", "encode major 100", lambda t: versions.encode(100, 0, 0), "not a TensorRT release"),
    ("value", "fetch unpinned", lambda t: versions.fetch_runtime_library("tensorrt-lean-cu13-libs"), "pin an exact"),
    ("value", "fetch not a runtime", lambda t: versions.fetch_runtime_library("numpy==2.0"), "not a TensorRT lean"),
    ("value", "fetch bad version", lambda t: versions.fetch_runtime_library("tensorrt-lean-cu13-libs==latest"),
     "not an exact release"),
    ("value", "BuildConfig negative workspace", lambda t: engine.BuildConfig(workspace_bytes=-1), "workspace_bytes"),
    ("value", "BuildConfig negative dims", lambda t: engine.BuildConfig(profiles=({"x": ((-1, 8), (4, 8), (8, 8))},)),
     "whole numbers >= 0"),
    ("value", "BuildConfig min > max", lambda t: engine.BuildConfig(profiles=({"x": ((8, 8), (4, 8), (1, 8))},)),
     "min <= opt <= max"),
    ("value", "profile_for unknown input", lambda t: engine.profile_for(({"x": ((1,), (2,), (4,))},), {"y": (2,)}),
     "no input named 'y'"),
    ("value", "latency_curve zero sizes", lambda t: plots.latency_curve(axes(), [0], [[1.0]], "x"), "> 0"),
    ("value", "run-all timeout 0", lambda t: preflight.main(t, t / "r.md", timeout=0), "--timeout must be"),
    ("value", "run-all root missing", lambda t: preflight.main(t / "nope", t / "r.md"), "is not a folder"),
    ("value", "colab-cells url not https", lambda t: colab.main(config(t, "repository:\n  url: ftp://x/y\n")),
     "is not an https URL"),
    ("value", "results.latest unknown", lambda t: results.latest("ch99", t), "no recorded run of ch99"),
]


def toc(tmp_path, entries):
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n" + entries)
    return tmp_path


def config(tmp_path, text="repository:\n  url: https://github.com/o/r\n"):
    (tmp_path / "_config.yml").write_text(text)
    return tmp_path


def book_with(tmp_path, notebook_text):
    """A book folder with _config.yml, _toc.yml and one notebook (valid if ``notebook_text`` is None)."""
    config(tmp_path)
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# x"}], "metadata": {},
          "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "notebooks" / "01-a.ipynb").write_text(json.dumps(nb) if notebook_text is None else notebook_text)
    return toc(tmp_path, "  - file: notebooks/01-a\n")


def int_model():
    from onnx import helper

    g = helper.make_graph([helper.make_node("Identity", ["ids"], ["y"])], "g",
                          [helper.make_tensor_value_info("ids", onnx.TensorProto.INT64, [3])],
                          [helper.make_tensor_value_info("y", onnx.TensorProto.INT64, [3])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def cache_is_file(tmp_path):
    blocker = text_file(tmp_path, "cache")
    os.environ["TRTFAQ_CACHE"] = str(blocker)
    try:
        return versions.fetch_runtime_library("tensorrt-lean-cu13-libs==11.4.0.106")
    finally:
        del os.environ["TRTFAQ_CACHE"]


@pytest.mark.parametrize("kind, case, call, message", CASES, ids=[f"{k}:{c}" for k, c, _, _ in CASES])
def test_bad_input_is_a_one_line_error(kind, case, call, message, tmp_path, monkeypatch):
    monkeypatch.delenv("TRTFAQ_CACHE", raising=False)
    with pytest.raises(BookError) as e:
        call(tmp_path)
    assert message in one_line(e)


# --- the command line: one "trtfaq: ..." line on stderr, exit code 2 ---------------------------------

@pytest.mark.parametrize("argv, message", [
    (["run-all", "--root", "{t}/nope"], "is not a folder"),
    (["run-all", "--root", "{book}", "--report", "{t}"], "is a folder"),
    (["run-all", "--root", "{book}", "--report", "{file}/r.md"], "is a file, not a folder"),
    (["run-all", "--root", "{book}", "--timeout", "0"], "--timeout must be"),
    (["run-all", "--root", "{t}"], "_toc.yml does not exist"),
    (["colab-cells", "--root", "{t}/nope"], "_config.yml does not exist"),
    (["colab-cells", "--root", "{book}"], "01-a.ipynb is not valid JSON"),
    (["record", "nosuch"], "unknown experiment 'nosuch'"),
    (["record", "ch06-precision", "--out", "{file}"], "is a file"),
])
def test_cli_bad_input_is_one_line_on_stderr(argv, message, tmp_path, capsys):
    (tmp_path / "book").mkdir()
    book = book_with(tmp_path / "book", "{ not json" if argv[0] == "colab-cells" else None)
    argv = [a.format(t=tmp_path, book=book, file=text_file(tmp_path)) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("trtfaq: ") and "\n" not in err and message in err, err


# --- bad environment variables ------------------------------------------------------------------

@pytest.mark.parametrize("value, status, message", [
    ("relative/cache", "FAIL", "TRTFAQ_CACHE must be an absolute path, got 'relative/cache'"),
    (".", "FAIL", "TRTFAQ_CACHE must be an absolute path"),
    ("   ", "WARN", "set but empty: the default ~/.cache/trtfaq is used"),
    ("", "WARN", "set but empty"),
    ("{book}/notebooks/cache", "FAIL", "is inside the book's folder"),
    ("{file}", "FAIL", "exists but is not a folder"),
])
def test_doctor_reports_a_bad_cache_setting(value, status, message, monkeypatch, tmp_path, capsys):
    blocker = text_file(tmp_path)
    monkeypatch.setenv("TRTFAQ_CACHE", value.format(book=Path(__file__).resolve().parents[1], file=blocker))
    found = [c for c in doctor.cache_checks(disk_free_bytes=10 * 2**30) if c.status == status]
    assert found and message in found[0].detail, doctor.cache_checks()
    assert doctor.main() == (1 if status == "FAIL" else 0)
    assert message in capsys.readouterr().out


def test_cli_reports_a_relative_cache_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("TRTFAQ_CACHE", "notebooks")
    with pytest.raises(BookError) as e:
        versions.cache_dir()
    assert "absolute path" in one_line(e)
    assert cli.main(["doctor"]) == 1
    assert "FAIL  engine cache" in capsys.readouterr().out


# --- interrupts, atomic writes, results never overwritten --------------------------------------------

def test_ctrl_c_stops_run_all_and_is_reported_as_an_interrupt(tmp_path, monkeypatch, capsys):
    book = book_with(tmp_path, None)
    (book / "notebooks" / "02-b.ipynb").write_text((book / "notebooks" / "01-a.ipynb").read_text())
    toc(book, "  - file: notebooks/01-a\n  - file: 'notebooks/02-b'\n")
    calls = []

    def run(path, timeout):
        calls.append(path.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return preflight.ChapterRun(path.stem, "ok", 0.1, 1, 0)
    monkeypatch.setattr(preflight, "run_notebook", run)
    assert preflight.main(book, book / "r.md") == 130
    report = (book / "r.md").read_text()
    assert "| 01-a | ok |" in report and "| 02-b | INTERRUPTED |" in report and "interrupted (Ctrl-C)" in report
    assert calls == ["01-a.ipynb", "02-b.ipynb"] and "interrupted" in capsys.readouterr().out


def test_a_kernel_interrupted_by_ctrl_c_is_an_interrupt_not_a_failure(tmp_path, monkeypatch):
    from nbclient.exceptions import CellExecutionError

    def execute(self):
        raise CellExecutionError("traceback", "KeyboardInterrupt", "")
    monkeypatch.setattr("nbclient.NotebookClient.execute", execute)
    book = book_with(tmp_path, None)
    with pytest.raises(KeyboardInterrupt):
        preflight.run_notebook(book / "notebooks" / "01-a.ipynb")


def test_a_timeout_names_the_cell_and_the_limit(tmp_path):
    book = book_with(tmp_path, None)
    nb = json.loads((book / "notebooks" / "01-a.ipynb").read_text())
    nb["cells"] += [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": "x = 1"},
                    {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [], "execution_count": None,
                     "source": "import time; time.sleep(30)"}]
    (book / "notebooks" / "01-a.ipynb").write_text(json.dumps(nb))
    run = preflight.run_notebook(book / "notebooks" / "01-a.ipynb", timeout=3)
    assert run.status == "FAILED" and run.error == "cell 2 ran past the 3 s limit per cell"


def test_run_all_refuses_an_unwritable_report_before_running_anything(tmp_path, monkeypatch):
    monkeypatch.setattr(preflight, "run_notebook", lambda *a: pytest.fail("a chapter ran"))
    with pytest.raises(BookError):
        preflight.main(book_with(tmp_path, None), text_file(tmp_path) / "r.md")


def test_cli_reports_ctrl_c_as_an_interrupt(monkeypatch, capsys):
    def stop(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr("trtfaq.tools.doctor.main", stop)
    assert cli.main(["doctor"]) == 130
    assert capsys.readouterr().err.strip() == "trtfaq: interrupted (Ctrl-C)"


def test_polygraphy_cli_passes_ctrl_c_on_and_reports_a_timeout(monkeypatch, tmp_path):
    import subprocess

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(subprocess, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ch6.polygraphy_cli(["run", "m.onnx"], tmp_path)

    def slow(*a, **k):
        raise subprocess.TimeoutExpired("polygraphy", 5)
    monkeypatch.setattr(subprocess, "run", slow)
    with pytest.raises(BookError) as e:
        ch6.polygraphy_cli(["run", "m.onnx"], tmp_path, timeout=5)
    assert one_line(e) == "polygraphy run did not finish within 5 s and was stopped"


def test_results_saved_in_the_same_second_never_overwrite(tmp_path):
    first = results.save(tmp_path, "e", "c", "t", "not TensorRT", PROV, {"run": 1})
    second = results.save(tmp_path, "e", "c", "t", "not TensorRT", PROV, {"run": 2})
    assert first != second and second.name.endswith("-2.json")
    assert [r.data["run"] for r in results.list_results(tmp_path)] == [1, 2]
    assert results.latest("e", tmp_path).data["run"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, second.name])  # no temporary left


def test_an_interrupted_save_leaves_nothing_behind(tmp_path, monkeypatch):
    def stop(*a):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "link", stop)
    with pytest.raises(KeyboardInterrupt):
        results.save(tmp_path, "e", "c", "t", "l", PROV, {})
    assert list(tmp_path.iterdir()) == []


def test_colab_cells_change_nothing_when_one_notebook_is_invalid(tmp_path):
    book = book_with(tmp_path, None)
    good = book / "notebooks" / "01-a.ipynb"
    before = good.read_text()
    (book / "notebooks" / "02-bad.ipynb").write_text('{"cells": 3}')
    with pytest.raises(BookError) as e:
        colab.main(book)
    assert "02-bad.ipynb is not a Jupyter notebook" in one_line(e) and good.read_text() == before
    (book / "notebooks" / "02-bad.ipynb").unlink()
    assert colab.main(book) == 0 and colab.is_install_cell(
        next(c for c in json.loads(good.read_text())["cells"] if c["cell_type"] == "code"))


def test_colab_cells_never_overwrite_a_readers_first_cell(tmp_path):
    book = book_with(tmp_path, None)
    path = book / "notebooks" / "01-a.ipynb"
    nb = json.loads(path.read_text())
    mine = {"cell_type": "code", "id": "mine", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "# Colab only: my own setup\nprint('hello')"}
    nb["cells"].append(mine)
    path.write_text(json.dumps(nb))
    colab.main(book)
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert colab.is_install_cell(cells[0]) and cells[1]["source"] == mine["source"]


def test_every_class_has_three_cases():
    counts = Counter(kind for kind, *_ in CASES)
    assert all(n >= 3 for n in counts.values()) and len(counts) >= 8, counts
