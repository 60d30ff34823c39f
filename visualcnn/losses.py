"""Softmax + cross-entropy, computed with log-sum-exp (MATH.md §1).

p_j = exp(x_j − max_k x_k) / Σ_k exp(x_k − max_k x_k);  log p = x − logsumexp(x)
C = −Σ_s Σ_j d_j^s log p_j^s  ("sum", the study note's), or that divided by N ("mean").
∂C/∂x_j = p_j − d_j (÷ N for "mean"): the whole softmax Jacobian, not only its diagonal.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .errors import ShapeError
from visualcnn.i18n import _


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p (N, K) = x − logsumexp(x), finite for any finite logits (±1e4 included)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """p (N, K), rows summing to 1, never overflowing."""
    return np.exp(log_softmax(logits))


class SoftmaxCrossEntropy:
    """The output loss: softmax of the logits, cross-entropy against integer labels."""

    type_name: ClassVar[str] = "softmax_cross_entropy"
    reductions: ClassVar[tuple[str, ...]] = ("mean", "sum")

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction
        self.logits: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.probs: np.ndarray | None = None
        self.value: float | None = None

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.type_name, "reduction": self.reduction}

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> float:
        """Loss C for logits (N, K) and int labels (N,) in [0, K)."""
        N, K = logits.shape
        labels = check_labels(labels, N, K)
        log_p = log_softmax(logits)
        self.logits, self.labels = logits, labels
        self.probs = np.exp(log_p)
        total = -float(log_p[np.arange(N), labels].sum())
        self.value = total / N if self.reduction == "mean" else total
        return self.value

    def backward(self) -> np.ndarray:
        """∂C/∂x (N, K) = p − d, divided by N for the mean."""
        if self.probs is None:
            raise RuntimeError(_("backward() needs a loss computed first"))
        N = self.probs.shape[0]
        dx = self.probs.copy()
        dx[np.arange(N), self.labels] -= 1.0
        if self.reduction == "mean":
            dx /= N
        return dx

    def accuracy(self) -> float:
        """Fraction of the last batch whose arg-max probability is the label."""
        return float(np.mean(self.probs.argmax(axis=1) == self.labels))


def check_labels(labels: Any, n: int, n_classes: int) -> np.ndarray:
    """Labels as an int array (N,) in [0, K), or a ShapeError saying what was received."""
    arr = np.asarray(labels)
    if arr.shape != (n,):
        raise ShapeError(_("labels must have shape ({n},) to match the batch, got {shape}").format(
                             n=n, shape=arr.shape))
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.equal(np.mod(arr, 1), 0)):
            raise ShapeError(_("labels must be integer class indices, got dtype {dtype}").format(dtype=arr.dtype))
    arr = arr.astype(np.intp)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ShapeError(_("labels must lie in [0, {value}] for {n_classes} classes, got values from "
                           "{min} to {max}").format(
                             value=n_classes - 1, n_classes=n_classes, min=arr.min(), max=arr.max()))
    return arr


LOSS_TYPES = {SoftmaxCrossEntropy.type_name: SoftmaxCrossEntropy}
