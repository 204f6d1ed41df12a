"""Real data for chapter 6: scikit-learn's ``digits`` (1797 handwritten 8x8 images, shipped offline
with scikit-learn), its preprocessing contract, a small classifier trained on it, and a check that
catches preprocessing mistakes.

The contract every model of chapter 6 is trained with: an image of raw intensities 0..16 (what
``load_digits`` gives), divided by 16 and flattened row by row to 64 features in [0, 1]
(:func:`preprocess`). :class:`InputCheck` compares a batch with the training features, so that a
wrong scale, a transposed layout or inverted intensities is a one-line error instead of quietly
wrong answers.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import InputError
from .models import MLP

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


def _images(images) -> np.ndarray:
    images = np.asarray(images)
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
    x = np.asarray(features, np.float64)
    y = np.asarray(labels)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise InputError(f"need features (N, D) and N labels, got {x.shape} and {y.shape}")
    if y.min() < 0 or y.max() > 9:
        raise InputError("labels must be digits 0..9")
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
    x, y = np.asarray(features, np.float64), np.asarray(labels)
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

    @classmethod
    def fit(cls, features, limit: float = 4.0) -> "InputCheck":
        x = np.asarray(features, np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise InputError(f"need training features of shape (N >= 2, D), got {x.shape}")
        return cls(float(x.min()), float(x.max()), x.mean(axis=0), x.std(axis=0), limit)

    def distance(self, batch) -> float:
        """RMS over features of (batch mean - training mean) / standard error; about 1 for a
        batch drawn like the training data."""
        x = np.asarray(batch, np.float64)
        if x.ndim != 2 or x.shape[1] != self.mean.shape[0] or len(x) == 0:
            raise InputError(f"expected a batch of shape (N, {self.mean.shape[0]}), got {x.shape}")
        # a floor on the spread keeps features that never vary in training (always-0 pixels) usable
        se = np.sqrt((self.std ** 2 + 1e-2) / len(x))
        return float(np.sqrt(np.mean(((x.mean(axis=0) - self.mean) / se) ** 2)))

    def check(self, batch) -> float:
        """The :meth:`distance` of a good batch; one-line :class:`InputError` for a suspicious one."""
        x = np.asarray(batch)
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
