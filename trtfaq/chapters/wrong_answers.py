"""Chapter 6: wrong answers. The chapter's real data, its misbehaving models, classification
metrics, Polygraphy's command line, and the recorded GPU run read back.

Data: scikit-learn's ``digits`` (1797 handwritten 8x8 images, shipped offline with scikit-learn),
its preprocessing contract, a small classifier trained on it, and a check that catches
preprocessing mistakes.

The contract every model of chapter 6 is trained with: an image of raw intensities 0..16 (what
``load_digits`` gives), divided by 16 and flattened row by row to 64 features in [0, 1]
(:func:`preprocess`). :class:`InputCheck` compares a batch with the training features, so that a
wrong scale, a transposed layout or inverted intensities is a one-line error instead of quietly
wrong answers.
"""
from __future__ import annotations

import hashlib
import math
import numbers
from dataclasses import dataclass

import numpy as np

from ..errors import BookError, InputError, ResultError
from ..models import MLP, axes, finish, io
from ..tables import table

TEST_SIZE = 360  # a fixed 20 % of the 1797 images
SPLIT_SEED = 0


@dataclass(frozen=True)
class Digits:
    """Images of raw intensities 0..16, shape (N, 8, 8), and labels 0..9; a fixed train/test split."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load() -> Digits:
    """The digits data set, split with a fixed seed (1437 training and 360 test images)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError("chapter 6 needs scikit-learn for its data set: pip install scikit-learn") from None
    data = load_digits()
    images = np.asarray(data.images, np.float32)
    labels = np.asarray(data.target, np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(labels))
    test, train = order[:TEST_SIZE], order[TEST_SIZE:]
    return Digits(images[train], labels[train], images[test], labels[test])


def _numbers(values, what: str, ndim: int | None = None) -> np.ndarray:
    """``values`` as a finite, non-empty numeric array (of ``ndim`` dimensions); one-line error otherwise."""
    if values is None or isinstance(values, (str, bytes, dict)):
        raise InputError(f"{what} must be a numeric array, got {type(values).__name__}")
    try:
        a = np.asarray(values)
    except (ValueError, TypeError):
        raise InputError(f"{what} must be a rectangular numeric array") from None
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise InputError(f"{what} must be numeric, got dtype {a.dtype}")
    if ndim is not None and a.ndim != ndim:
        raise InputError(f"{what} must have {ndim} dimension(s), got shape {a.shape}")
    if a.size == 0:
        raise InputError(f"{what} is empty (shape {a.shape})")
    if a.dtype.kind == "f":
        bad = int(np.count_nonzero(~np.isfinite(a)))
        if bad:
            raise InputError(f"{what} holds {bad} NaN or inf value(s)")
    return a


def _count(value, what: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise InputError(f"{what} must be a whole number >= {low}, got {value!r}")
    return int(value)


def _positive(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise InputError(f"{what} must be a finite number > 0, got {value!r}")
    return float(value)


def _labels(labels, n: int) -> np.ndarray:
    y = _numbers(labels, "labels", 1)
    if y.dtype.kind == "f" and not np.all(y == np.round(y)):
        raise InputError("labels must be whole numbers (digits 0..9)")
    if len(y) != n:
        raise InputError(f"need one label per sample: {n} samples, {len(y)} labels")
    if y.min() < 0 or y.max() > 9:
        raise InputError("labels must be digits 0..9")
    return y.astype(np.int64)


def _images(images) -> np.ndarray:
    images = _numbers(images, "digit images")
    if images.ndim != 3 or images.shape[1:] != (8, 8):
        raise InputError(f"expected digit images of shape (N, 8, 8), got {images.shape}")
    return images


def preprocess(images) -> np.ndarray:
    """The contract: raw intensities 0..16 divided by 16, flattened row-major to (N, 64) float32."""
    return (_images(images).astype(np.float32) / np.float32(16.0)).reshape(-1, 64)


def to_bytes(images) -> np.ndarray:
    """The images as an 8-bit camera would give them: (N, 64) values 0..255, float32."""
    return np.round(_images(images).astype(np.float64) * (255.0 / 16.0)).astype(np.float32).reshape(-1, 64)


def on_paper(images) -> np.ndarray:
    """Dark ink on white paper: ``1 - x/16``, (N, 64) float32 in [0, 1] (a scanner's view)."""
    return (np.float32(1.0) - preprocess(images)).astype(np.float32)


def train_mlp(features, labels, hidden: int = 32, steps: int = 400, lr: float = 0.01, seed: int = 0) -> MLP:
    """A 64 -> ``hidden`` -> 10 ReLU perceptron trained with full-batch Adam on softmax cross-entropy,
    in float64 numpy (deterministic; about 0.3 s). Returns float32 weights."""
    x = _numbers(features, "features").astype(np.float64)
    if x.ndim != 2:
        raise InputError(f"need features (N, D) and N labels, got {x.shape} and {np.shape(labels)}")
    if np.ndim(labels) != 1 or len(labels) != len(x):
        raise InputError(f"need features (N, D) and N labels, got {x.shape} and {np.shape(labels)}")
    y = _labels(labels, len(x))
    hidden, steps = _count(hidden, "hidden"), _count(steps, "steps")
    lr = _positive(lr, "lr")
    seed = _count(seed, "seed", 0)
    rng = np.random.default_rng(seed)
    n, d_in = x.shape
    params = [rng.standard_normal((hidden, d_in)) / np.sqrt(d_in), np.zeros(hidden),
              rng.standard_normal((10, hidden)) / np.sqrt(hidden), np.zeros(10)]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    onehot = np.eye(10)[y]
    for t in range(1, steps + 1):
        w1, b1, w2, b2 = params
        h = x @ w1.T + b1
        hr = np.maximum(h, 0.0)
        z = hr @ w2.T + b2
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        gh = (g @ w2) * (h > 0)
        grads = [gh.T @ x, gh.sum(0), g.T @ hr, g.sum(0)]
        for i, (param, grad) in enumerate(zip(params, grads)):
            m[i] = 0.9 * m[i] + 0.1 * grad
            v[i] = 0.999 * v[i] + 0.001 * grad * grad
            param -= lr * (m[i] / (1 - 0.9 ** t)) / (np.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8)
    w1, b1, w2, b2 = (p.astype(np.float32) for p in params)
    return MLP(w1=w1, b1=b1, w2=w2, b2=b2)


def centroids(features, labels) -> np.ndarray:
    """The mean feature vector of each digit, shape (10, D), float32."""
    x = _numbers(features, "features", 2).astype(np.float64)
    y = _labels(labels, len(x))
    missing = [k for k in range(10) if not np.any(y == k)]
    if missing:
        raise InputError(f"no training sample of digit(s) {missing}")
    return np.stack([x[y == k].mean(axis=0) for k in range(10)]).astype(np.float32)


@dataclass(frozen=True)
class InputCheck:
    """What preprocessed training features look like: range, and per-feature mean and spread.

    :meth:`check` refuses a batch whose values leave the training range (wrong scale) or whose
    per-feature means sit far from the training means, measured in standard errors of a batch of
    that size (transposed layout, swapped channels, inverted intensities). Run it on a validation
    batch of a few dozen inputs once, before trusting a deployment's answers.
    """

    low: float
    high: float
    mean: np.ndarray
    std: np.ndarray
    limit: float = 4.0

    def __post_init__(self):
        mean, std = np.asarray(self.mean, np.float64), np.asarray(self.std, np.float64)
        if mean.ndim != 1 or mean.shape != std.shape or mean.size == 0:
            raise InputError(f"mean and std must be vectors of one length, got {mean.shape} and {std.shape}")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)):
            raise InputError("mean and std must be finite, std >= 0: fit the check with InputCheck.fit(features)")
        for name in ("low", "high"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise InputError(f"{name} must be a finite number, got {v!r}")
        if self.low > self.high:
            raise InputError(f"low ({self.low:g}) is above high ({self.high:g})")
        _positive(self.limit, "limit")

    @classmethod
    def fit(cls, features, limit: float = 4.0) -> InputCheck:
        x = _numbers(features, "training features").astype(np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise InputError(f"need training features of shape (N >= 2, D), got {x.shape}")
        return cls(float(x.min()), float(x.max()), x.mean(axis=0), x.std(axis=0), _positive(limit, "limit"))

    def distance(self, batch) -> float:
        """RMS over features of (batch mean - training mean) / standard error; about 1 for a
        batch drawn like the training data."""
        x = _numbers(batch, "the batch").astype(np.float64)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0]:
            raise InputError(f"expected a batch of shape (N, {self.mean.shape[0]}), got {x.shape}")
        # a floor on the spread keeps features that never vary in training (always-0 pixels) usable
        se = np.sqrt((self.std ** 2 + 1e-2) / len(x))
        return float(np.sqrt(np.mean(((x.mean(axis=0) - self.mean) / se) ** 2)))

    def check(self, batch) -> float:
        """The :meth:`distance` of a good batch; one-line :class:`InputError` for a suspicious one
        (wrong type, shape, NaN or inf, values out of the training range, statistics far off)."""
        x = _numbers(batch, "the batch")
        if x.dtype != np.float32:
            raise InputError(f"preprocessed input must be float32, got {x.dtype}")
        d = self.distance(x)
        lo, hi = float(x.min()), float(x.max())
        tol = 1e-6 * max(1.0, abs(self.high - self.low))
        if lo < self.low - tol or hi > self.high + tol:
            raise InputError(f"values span [{lo:g}, {hi:g}] but training inputs span [{self.low:g}, "
                             f"{self.high:g}]: check the scaling")
        if d > self.limit:
            raise InputError(f"batch statistics are {d:.1f} standard errors from the training data "
                             f"(limit {self.limit:g}): check layout (transposed? NHWC vs NCHW?), channel "
                             f"order and scaling")
        return d


# ----- the chapter's models ---------------------------------------------------------------------

def _mlp(mlp) -> MLP:
    if not isinstance(mlp, MLP):
        raise InputError(f"expected a trained perceptron (trtfaq.models.MLP), got {type(mlp).__name__}")
    for name in ("w1", "b1", "w2", "b2"):
        _numbers(getattr(mlp, name), f"mlp.{name}")
    if not (mlp.w1.ndim == 2 and mlp.w2.ndim == 2 and mlp.b1.shape == (mlp.w1.shape[0],)
            and mlp.w2.shape[1] == mlp.w1.shape[0] and mlp.b2.shape == (mlp.w2.shape[0],)):
        raise InputError("the perceptron's weights do not fit together (w1 (H, D), b1 (H,), w2 (K, H), b2 (K,))")
    return mlp


def l2_normalized_classifier(mlp: MLP):
    """Chapter 6's overflow model: ``x / sqrt(sum(x*x))`` over the features, then ``mlp``.

    Input ``x`` is (N, 64) raw 8-bit intensities 0..255. The sum of squares reaches about 10^6,
    far beyond float16's largest value 65504. Tensors: ``sq``, ``sumsq``, ``norm``, ``unit``, then
    the perceptron's ``h``, ``hr``, ``y``.
    """
    from onnx import helper

    _mlp(mlp)
    d_in, d_out = mlp.w1.shape[1], mlp.w2.shape[0]
    inits, head = mlp.onnx_nodes("unit")
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
             helper.make_node("ReduceSum", ["sq", "axes1"], ["sumsq"], name="sum_squares", keepdims=1),
             helper.make_node("Sqrt", ["sumsq"], ["norm"], name="sqrt"),
             helper.make_node("Div", ["x", "norm"], ["unit"], name="normalize")] + head
    graph = helper.make_graph(nodes, "l2_classifier", [io("x", ["N", d_in])], [io("y", ["N", d_out])],
                              [axes("axes1", [1])] + inits)
    return finish(graph, "l2_classifier")


CENTROID_FORMS = ("expanded", "direct")


def centroid_classifier(centers, form: str = "expanded"):
    """Chapter 6's rounding model: scores ``y = -|x - c_k|^2`` for each class centre ``c_k``.

    ``form="expanded"`` computes ``|x|^2 - 2 x.c + |c|^2`` (one matrix product, as GEMM-based
    nearest-neighbour search does): tensors ``sq``, ``x2``, ``xc``, ``two_xc``, ``x2_minus``,
    ``dist``, ``y``. ``form="direct"`` subtracts first: ``x3``, ``diff``, ``sq``, ``dist``, ``y``.
    """
    from onnx import helper, numpy_helper

    if form not in CENTROID_FORMS:
        raise InputError(f"unknown centroid form {form!r}: use one of {', '.join(CENTROID_FORMS)}")
    c = _numbers(centers, "class centres").astype(np.float32)
    if c.ndim != 2:
        raise InputError(f"class centres must have shape (K, D), got {c.shape}")
    k, d = c.shape
    if form == "expanded":
        inits = [numpy_helper.from_array(np.ascontiguousarray(c.T), "centers_t"),
                 numpy_helper.from_array((c.astype(np.float64) ** 2).sum(1).astype(np.float32), "c2"),
                 numpy_helper.from_array(np.array(2.0, np.float32), "two"), axes("axes1", [1])]
        nodes = [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
                 helper.make_node("ReduceSum", ["sq", "axes1"], ["x2"], name="sum_squares", keepdims=1),
                 helper.make_node("MatMul", ["x", "centers_t"], ["xc"], name="dot_centers"),
                 helper.make_node("Mul", ["xc", "two"], ["two_xc"], name="times_two"),
                 helper.make_node("Sub", ["x2", "two_xc"], ["x2_minus"], name="subtract"),
                 helper.make_node("Add", ["x2_minus", "c2"], ["dist"], name="add_c2")]
    else:
        inits = [numpy_helper.from_array(c, "centers"), axes("axes1", [1]), axes("axes2", [2])]
        nodes = [helper.make_node("Unsqueeze", ["x", "axes1"], ["x3"], name="unsqueeze"),
                 helper.make_node("Sub", ["x3", "centers"], ["diff"], name="subtract"),
                 helper.make_node("Mul", ["diff", "diff"], ["sq"], name="square"),
                 helper.make_node("ReduceSum", ["sq", "axes2"], ["dist"], name="sum_squares", keepdims=0)]
    nodes.append(helper.make_node("Neg", ["dist"], ["y"], name="negate"))
    graph = helper.make_graph(nodes, f"centroid_{form}", [io("x", ["N", d])], [io("y", ["N", k])], inits)
    return finish(graph, f"centroid_{form}")


# ----- classification metrics ----------------------------------------------------------------------

def compare_scores(scores, reference_scores, labels) -> dict:
    """How far a run's output scores are from a reference run's: worst absolute error, that error
    relative to the largest reference score, non-finite count, top-1 agreement and accuracy."""
    a = _scores(scores, "scores", allow_nonfinite=True)
    r = _scores(reference_scores, "reference scores")
    if a.shape != r.shape:
        raise InputError(f"cannot compare scores of shape {a.shape} with {r.shape}")
    y = _labels(labels, len(a))
    ok = np.isfinite(a)
    max_abs = float(np.abs(a - r)[ok].max(initial=0.0))
    top = float(np.abs(r).max())
    return {"max_abs": max_abs, "rel": max_abs / top if top > 0 else max_abs, "nonfinite": int((~ok).sum()),
            "agreement": agreement(a, r), "accuracy": float(np.mean(top1(a) == y))}


def _scores(scores, what: str, allow_nonfinite: bool = False) -> np.ndarray:
    """Scores of shape (N, classes) as float64; NaN and inf are allowed only in a run under test."""
    if allow_nonfinite:
        if scores is None or isinstance(scores, (str, bytes, dict)):
            raise InputError(f"{what} must be a numeric array, got {type(scores).__name__}")
        try:
            a = np.asarray(scores)
        except (ValueError, TypeError):
            raise InputError(f"{what} must be a rectangular numeric array") from None
        if a.dtype == object or a.dtype.kind not in "biuf" or a.size == 0:
            raise InputError(f"{what} must be a non-empty numeric array, got dtype {a.dtype}, shape {a.shape}")
    else:
        a = _numbers(scores, what)
    if a.ndim != 2:
        raise InputError(f"expected {what} of shape (N, classes), got {a.shape}")
    return a.astype(np.float64)


def scores_table(rows: dict[str, dict]) -> str:
    """:func:`compare_scores` rows by model name as a text table."""
    keys = ("max_abs", "rel", "nonfinite", "agreement", "accuracy")
    if not isinstance(rows, dict) or not rows or \
            not all(isinstance(s, dict) and all(k in s for k in keys) for s in rows.values()):
        raise InputError("scores_table takes {model name: compare_scores(...)}, one entry or more")
    return table(["model", "max abs", "rel", "inf/NaN", "top-1 agree", "accuracy"],
                 [[name, f"{s['max_abs']:.3g}", f"{s['rel']:.2e}", s["nonfinite"], f"{s['agreement']:.1%}",
                   f"{s['accuracy']:.1%}"] for name, s in rows.items()])


def top1(scores) -> np.ndarray:
    """Predicted class per row (argmax of the scores; rows holding NaN count as class -1)."""
    s = _scores(scores, "scores", allow_nonfinite=True)
    pred = np.argmax(np.where(np.isnan(s), -np.inf, s), axis=1)
    return np.where(np.isnan(s).any(axis=1), -1, pred)


def agreement(scores, reference_scores) -> float:
    """Fraction of rows whose predicted class matches the reference's."""
    a, b = top1(scores), top1(reference_scores)
    if a.shape != b.shape:
        raise InputError(f"cannot compare predictions of {a.shape[0]} and {b.shape[0]} rows")
    return float(np.mean(a == b))


# ----- Polygraphy's command line -------------------------------------------------------------------

def polygraphy_cli(args: list[str], cwd, timeout: float = 300) -> tuple[int, list[str]]:
    """Run ``polygraphy <args>`` in folder ``cwd``; returns its exit code and its per-tensor verdict
    lines (``PASSED | Output: ...`` / ``FAILED | Output: ...``), without timings or paths.

    Exit code 1 with verdict lines is a comparison that failed. When Polygraphy stops before
    comparing anything (a missing file, a bad option, a model it cannot run), this raises a one-line
    :class:`BookError` carrying Polygraphy's own reason. A run past ``timeout`` seconds is stopped
    and reported; Ctrl-C stops Polygraphy and propagates as ``KeyboardInterrupt``.
    """
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    if isinstance(args, (str, bytes)) or not isinstance(args, (list, tuple)) or not args \
            or not all(isinstance(a, (str, Path)) for a in args):
        raise InputError("args must be a non-empty list of strings, e.g. ['run', 'model.onnx', '--onnxrt']")
    if cwd is None or not isinstance(cwd, (str, Path)) or not Path(cwd).is_dir():
        raise InputError(f"cwd must be an existing folder, got {cwd!r}")
    timeout = _positive(timeout, "timeout")
    exe = Path(sys.executable).with_name("polygraphy")
    on_path = shutil.which("polygraphy")
    if exe.exists():
        cmd = [str(exe)]
    elif on_path:
        cmd = [on_path]
    else:  # the console script's own entry point, where the package is importable but its script not on PATH
        cmd = [sys.executable, "-c", "import sys; from polygraphy.tools import main; sys.argv[0] = 'polygraphy'; "
                                     "sys.exit(main())"]
    try:
        proc = subprocess.run(cmd + [str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise InputError("the polygraphy command is not installed: pip install polygraphy") from None
    except subprocess.TimeoutExpired:
        raise BookError(f"polygraphy {args[0]} did not finish within {timeout:g} s and was stopped") from None
    output = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    verdict = r"((?:PASSED|FAILED) \| Output: '[^']*'[^\n]*)"
    lines = [m.group(1) for m in re.finditer(verdict, output)]
    if proc.returncode != 0 and not lines:
        raise BookError(f"polygraphy {args[0]} failed (exit code {proc.returncode}): {_polygraphy_reason(output)}")
    return proc.returncode, lines


def _polygraphy_reason(output: str) -> str:
    """Polygraphy's own error: its first ``[!]`` (critical) or ``[E]`` line, else its last line."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for mark in ("[!]", "[E]"):
        found = [ln for ln in lines if ln.startswith(mark) or f" {mark} " in ln]
        if found:
            text = found[0][found[0].index(mark) + len(mark):].strip()
            return text[:300]
    usage = [ln for ln in lines if "error:" in ln]  # argparse: "polygraphy run: error: ..."
    return (usage or lines or ["no output"])[-1][:300]


# ----- the recorded GPU run (experiment ch06-precision) --------------------------------------------

def networks() -> dict:
    """The chapter's trained weights (numpy, float32) and test inputs, exactly as the notebook makes them."""
    data = load()
    x = preprocess(data.train_images)
    raw = to_bytes(data.train_images)
    paper = on_paper(data.train_images)
    return {
        "labels": data.test_labels,
        "mlp": (train_mlp(x, data.train_labels), preprocess(data.test_images)),
        "l2": (train_mlp(raw / np.linalg.norm(raw, axis=1, keepdims=True), data.train_labels, steps=600),
               to_bytes(data.test_images)),
        "centroids": (centroids(paper, data.train_labels), on_paper(data.test_images)),
    }


def weights_digest(mlp, l2_mlp, centers) -> str:
    """sha256 over every weight array, so a recorded run can be matched with the notebook's weights."""
    _mlp(mlp)
    _mlp(l2_mlp)
    _numbers(centers, "class centres", 2)
    h = hashlib.sha256()
    for net in (mlp, l2_mlp):
        for arr in (net.w1, net.b1, net.w2, net.b2):
            h.update(np.ascontiguousarray(arr, np.float32).tobytes())
    h.update(np.ascontiguousarray(centers, np.float32).tobytes())
    return h.hexdigest()


#: each network's tensors in graph order (the result file stores them with sorted keys)
ORDER = {"mlp": ("h", "hr", "y"), "l2": ("sq", "sumsq", "norm", "unit", "h", "hr", "y"),
         "centroid_expanded": ("x2", "xc", "x2_minus", "dist", "y"), "centroid_direct": ("diff", "dist", "y")}
NAMES = {"mlp": "mlp", "l2": "l2", "centroid_expanded": "centroid (expanded)", "centroid_direct": "centroid (direct)"}


def recorded_rows(result) -> list[dict]:
    """Per network and precision, recomputed from a recorded run's raw predictions: top-1 agreement
    with float64, accuracy, the output's worst error relative to its largest value, and the first
    tensor (in graph order) holding inf or NaN."""
    where = _result_name(result)
    try:
        return _recorded_rows(result)
    except ResultError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise ResultError(f"{where} is not a ch06-precision recording: {type(exc).__name__} {exc}") from None


def _result_name(result) -> str:
    from ..results import Result

    if not isinstance(result, Result):
        raise InputError(f"expected a recorded run (results.latest('ch06-precision')), got {type(result).__name__}")
    if result.experiment != "ch06-precision":
        raise ResultError(f"{result.path.name} records {result.experiment!r}, not 'ch06-precision'")
    return result.path.name


def _recorded_rows(result) -> list[dict]:
    data = result.data
    labels = np.asarray(data["labels"])
    rows = []
    keys = [k for k in NAMES if k in data["networks"]] + [k for k in data["networks"] if k not in NAMES]
    for key in keys:
        net = data["networks"][key]
        ref = np.asarray(net["reference_pred"])
        for prec in data["precisions"]:
            entry = net["precisions"][prec]
            pred = np.asarray(entry["pred"])
            if pred.shape != ref.shape or pred.shape != labels.shape:
                raise ResultError(f"{result.path.name}: {key}/{prec} has {pred.size} predictions, "
                                  f"expected {labels.size}")
            y = entry["tensors"]["y"]
            order = ORDER.get(key, tuple(sorted(entry["tensors"])))
            bad = [name for name in order if entry["tensors"][name]["nonfinite"]]
            rows.append({"network": NAMES.get(key, key), "precision": prec,
                         "agreement": float(np.mean(pred == ref)), "accuracy": float(np.mean(pred == labels)),
                         "rel": y["max_abs"] / y["scale"] if y["scale"] else y["max_abs"],
                         "first_nonfinite": bad[0] if bad else "-"})
    return rows


def recorded_table(rows: list[dict]) -> str:
    """:func:`recorded_rows` as a text table."""
    keys = ("network", "precision", "agreement", "accuracy", "rel", "first_nonfinite")
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) and all(k in r for k in keys)
                                                          for r in rows):
        raise InputError("recorded_table takes the list recorded_rows(run) returns")
    return table(["network", "precision", "top-1 agree", "accuracy", "rel err", "first inf/NaN"],
                 [[r["network"], r["precision"], f"{r['agreement']:.1%}", f"{r['accuracy']:.1%}", f"{r['rel']:.2e}",
                   r["first_nonfinite"]] for r in rows], align="<<>>><")


def show_gemm_errors(result) -> None:
    """The recorded matrix-product errors against the inner dimension K, one line per precision."""
    import matplotlib.pyplot as plt

    from .. import plots

    where = _result_name(result)
    try:
        gemm = result.data["gemm"]
        k = [row["k"] for row in gemm]
        curves = {prec: [float(row[prec]["rms_rel"]) for row in gemm]
                  for prec in ("fp32", "tf32", "fp16", "fp16_fp32_reduction", "bf16")}
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultError(f"{where} has no usable 'gemm' data: {type(exc).__name__} {exc}") from None
    if not k or not all(v > 0 and math.isfinite(v) for c in curves.values() for v in c):
        raise ResultError(f"{where}: the gemm errors must be finite numbers > 0 (log axes)")
    with plots.style():
        fig, ax = plt.subplots(figsize=(6.4, 3.6), layout="constrained")
        for prec, label in (("fp32", "FP32"), ("tf32", "TF32"), ("fp16", "FP16"),
                            ("fp16_fp32_reduction", "FP16, no reduced-precision reduction"), ("bf16", "BF16")):
            ax.loglog(k, curves[prec], "o-" if prec != "fp16_fp32_reduction" else "x--", ms=4, label=label)
        ax.set_xlabel("inner dimension K")
        ax.set_ylabel("RMS error / RMS of the result")
        ax.legend(fontsize=8, loc="center right")
        plots.source_note(ax, f"{result.label}; {result.provenance['gpu']}, {result.provenance['created'][:10]} "
                              "(caption above)")
        plt.show()
