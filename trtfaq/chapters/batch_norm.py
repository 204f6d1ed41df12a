"""Chapter 7: batch norm as TensorRT layers. The inference-time parameters, their fold into
``a * x + b``, and one-layer ONNX models that write batch norm three ways."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..models import finish, onnx_type


@dataclass(frozen=True)
class BatchNormParams:
    """Per-channel inference-time batch-norm parameters (chapter 7).

    ``scale`` is gamma, ``bias`` is beta, ``mean`` and ``var`` the running statistics.
    """

    scale: np.ndarray
    bias: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    eps: float = 1e-5

    def __post_init__(self):
        shapes = {n: np.shape(getattr(self, n)) for n in ("scale", "bias", "mean", "var")}
        if len(set(shapes.values())) != 1 or len(next(iter(shapes.values()))) != 1:
            raise InputError(f"batch-norm parameters must be 1-D and of one length, got shapes {shapes}")
        if np.any(np.asarray(self.var) < 0):
            raise InputError("batch-norm variance must be >= 0")
        if self.eps < 0:
            raise InputError(f"batch-norm epsilon must be >= 0, got {self.eps}")

    @property
    def channels(self) -> int:
        return int(np.shape(self.scale)[0])

    @classmethod
    def random(cls, channels: int, seed: int = 0, eps: float = 1e-5) -> BatchNormParams:
        """Plausible trained statistics: gamma ~ 1, beta ~ 0, means and variances of activations."""
        rng = np.random.default_rng(seed)
        return cls(scale=rng.uniform(0.5, 2.0, channels), bias=rng.normal(0.0, 0.5, channels),
                   mean=rng.normal(0.0, 2.0, channels), var=rng.uniform(0.05, 3.0, channels), eps=eps)

    def folded(self) -> tuple[np.ndarray, np.ndarray]:
        """``(a, b)`` with ``a = scale / sqrt(var + eps)`` and ``b = bias - a * mean``, in float64,
        so that batch norm is ``y = a * x + b`` per channel."""
        a = np.asarray(self.scale, np.float64) / np.sqrt(np.asarray(self.var, np.float64) + self.eps)
        return a, np.asarray(self.bias, np.float64) - a * np.asarray(self.mean, np.float64)

    def reference(self, x: np.ndarray) -> np.ndarray:
        """Batch norm of an NCHW (or N, C, ...) array, in float64, straight from the definition."""
        x = np.asarray(x, np.float64)
        if x.ndim < 2 or x.shape[1] != self.channels:
            raise InputError(f"expected input of shape (N, {self.channels}, ...), got {x.shape}")
        shape = (1, self.channels) + (1,) * (x.ndim - 2)
        p = {n: np.asarray(getattr(self, n), np.float64).reshape(shape) for n in ("scale", "bias", "mean", "var")}
        return p["scale"] * (x - p["mean"]) / np.sqrt(p["var"] + self.eps) + p["bias"]


BN_FORMS = ("node", "folded", "centered")


def batchnorm_model(params: BatchNormParams, *, form: str = "node", spatial: tuple[int, int] = (8, 8),
                    dtype=np.float32):
    """A one-layer model ``x -> BN(x)``, input ``x`` of shape ``(N, C, H, W)`` with ``N`` dynamic.

    ``form`` says how BN is written:

    - ``"node"``: one ONNX ``BatchNormalization`` node with the four parameter vectors;
    - ``"folded"``: ``Mul(x, a)`` then ``Add(., b)`` with ``a = scale/sqrt(var+eps)``,
      ``b = bias - a*mean`` computed in float64 and stored in ``dtype`` (what TensorRT's parser
      and fusions do);
    - ``"centered"``: ``Sub(x, mean)``, ``Mul(., a)``, ``Add(., bias)``, the same map without the
      large folded bias.
    """
    from onnx import helper, numpy_helper

    if form not in BN_FORMS:
        raise InputError(f"unknown batch-norm form {form!r}: use one of {', '.join(BN_FORMS)}")
    elem = onnx_type(dtype)
    c, (h, w) = params.channels, spatial
    x = helper.make_tensor_value_info("x", elem, ["N", c, h, w])
    y = helper.make_tensor_value_info("y", elem, ["N", c, h, w])
    a, b = params.folded()

    def const(name, values):
        # Values beyond float16's range become +-inf, as any float16 cast does: chapter 7 shows it.
        with np.errstate(over="ignore"):
            return numpy_helper.from_array(np.asarray(values, np.float64).reshape(1, c, 1, 1).astype(dtype), name)

    if form == "node":
        inits = [numpy_helper.from_array(np.asarray(getattr(params, n)).astype(dtype), n)
                 for n in ("scale", "bias", "mean", "var")]
        nodes = [helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                                  name="bn", epsilon=float(params.eps))]
    elif form == "folded":
        inits = [const("a", a), const("b", b)]
        nodes = [helper.make_node("Mul", ["x", "a"], ["ax"], name="mul_a"),
                 helper.make_node("Add", ["ax", "b"], ["y"], name="add_b")]
    else:
        inits = [const("mean", params.mean), const("a", a), const("bias", params.bias)]
        nodes = [helper.make_node("Sub", ["x", "mean"], ["xc"], name="sub_mean"),
                 helper.make_node("Mul", ["xc", "a"], ["axc"], name="mul_a"),
                 helper.make_node("Add", ["axc", "bias"], ["y"], name="add_bias")]
    return finish(helper.make_graph(nodes, f"batchnorm_{form}", [x], [y], inits), f"batchnorm_{form}")


# ----- the FP16 experiment ---------------------------------------------------------------------------

def fp16_sweep(means=(25.0, 250.0), variances=None, seed: int = 3) -> list[dict]:
    """Each form of :func:`batchnorm_model` in float16, one channel per running variance, against the
    float64 definition: one row per (mean, variance, form) with ``a``, ``b``, the largest absolute error
    and the count of non-finite outputs.

    The float16 models run on ONNX's reference evaluator, every tensor stored in float16 (chapter 6's
    strict run): ONNX Runtime's CPU provider computes many float16 operators in float32 and is no FP16
    reference.
    """
    from ..precision import run_tensors
    from ..reference import error_stats

    variances = np.logspace(0, -8, 17) if variances is None else np.asarray(variances, np.float64)
    n = len(variances)
    rows = []
    for mean in means:
        ch = BatchNormParams(scale=np.ones(n), bias=np.full(n, 0.1), mean=np.full(n, mean), var=variances)
        rng = np.random.default_rng(seed)
        x16 = (mean + np.sqrt(variances)[None, :, None, None] * rng.normal(size=(4, n, 8, 8))).astype(np.float16)
        truth = ch.reference(x16)
        a_ch, b_ch = ch.folded()
        for form in BN_FORMS:
            y16 = run_tensors(batchnorm_model(ch, form=form, dtype=np.float16), {"x": x16}, "strict")["y"]
            for c in range(n):
                e = error_stats(y16[:, c], truth[:, c])
                rows.append(dict(mean=mean, var=variances[c], a=a_ch[c], b=b_ch[c], form=form,
                                 max_abs=e.max_abs, nonfinite=e.nonfinite))
    return rows


def parser_fold(params: BatchNormParams) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` as TensorRT's ONNX parser folds a ``BatchNormalization`` node whose inputs are all
    float16: every parameter and the result stored in half precision, each operation rounded to half
    (onnx-tensorrt ``batchnormWeightHelper<half_float::half>``: ``scale / sqrtf(var + eps)``, then
    ``bias - mean * combinedScale``). Values past 65504 become infinite, as the parser's would."""
    h = np.float16
    scale, bias, mean, var = (np.asarray(getattr(params, n)).astype(h) for n in ("scale", "bias", "mean", "var"))
    with np.errstate(over="ignore", invalid="ignore"):
        a = (scale.astype(np.float32) / np.sqrt((var + h(params.eps)).astype(np.float32))).astype(h)
        b = bias - mean * a
    return a, b


def fp16_table(rows: list[dict], every: int = 4) -> str:
    """Every ``every``-th variance of :func:`fp16_sweep`: the error of each form side by side."""
    from ..tables import table

    def cell(q):
        return "NaN/inf" if q["nonfinite"] else f"{q['max_abs']:.2g}"

    out = []
    for mean in dict.fromkeys(q["mean"] for q in rows):
        variances = list(dict.fromkeys(q["var"] for q in rows if q["mean"] == mean))
        for var in variances[::every]:
            r = {q["form"]: q for q in rows if q["mean"] == mean and q["var"] == var}
            out.append([f"{mean:.0f}", f"{var:.0e}", f"{r['node']['a']:.1f}", f"{r['node']['b']:.1f}"]
                       + [cell(r[form]) for form in BN_FORMS])
    return table(["mean", "var", "a", "b = bias - a*mean"] + [f"FP16 error, {form}" for form in BN_FORMS], out)


def show_fp16(rows: list[dict], note: str) -> None:
    """Error against ``a`` per form, one panel per running mean; NaN/inf marked with a cross."""
    import matplotlib.pyplot as plt

    from .. import plots

    means = list(dict.fromkeys(q["mean"] for q in rows))
    with plots.style():
        fig, axes = plt.subplots(1, len(means), figsize=(8, 3.4), sharey=True)
        for ax, mean in zip(np.atleast_1d(axes), means):
            for form, style in (("folded", "o-"), ("centered", "s-"), ("node", "^:")):
                sel = [q for q in rows if q["mean"] == mean and q["form"] == form]
                aa = np.array([q["a"] for q in sel])
                err = np.array([q["max_abs"] if not q["nonfinite"] else np.nan for q in sel])
                ax.loglog(aa, np.maximum(err, 1e-6), style, ms=4, label=f"{form}")
                bad = [q["a"] for q in sel if q["nonfinite"]]
                if bad:
                    ax.plot(bad, [30.0] * len(bad), "x", color="C3", ms=7, label=f"{form}: NaN/inf")
            ax.axvline(65504 / mean, color="0.5", lw=0.8, ls="--")
            ax.set_title(f"running mean {mean:.0f}")
            ax.set_xlabel("a = scale / sqrt(var + eps)")
        first = np.atleast_1d(axes)[0]
        first.set_ylabel("max |FP16 - float64|")
        handles, labels = np.atleast_1d(axes)[-1].get_legend_handles_labels()
        first.legend(handles, labels, loc="upper left", fontsize=8)
        plots.source_note(first, note)
        fig.tight_layout()
        plt.show()
