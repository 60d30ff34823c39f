"""Element-wise activations: sigmoid (the study note's unit), ReLU and tanh.

Each keeps its output (and ReLU its input) for backward and for the dead-unit watch. Each pass writes
fresh arrays, a large one in parts on the core's threads (workspace.split_map).
"""

from __future__ import annotations

import numpy as np

from .base import Layer
from .workspace import split_map
from visualcnn.i18n import N_


class _Activation(Layer):
    fields = {}

    def infer_output_shape(self, input_shape):
        return input_shape

    def dead_fraction(self) -> float:
        """Fraction of units that carry no gradient for any sample of the last batch."""
        raise NotImplementedError


def _fresh(like: np.ndarray, *others: np.ndarray) -> np.ndarray:
    """An empty array of `like`'s shape and memory layout, of the type `like` and `others` combine to."""
    return np.empty_like(like, dtype=np.result_type(like, *others)) if others else np.empty_like(like)


def _product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a · b in a fresh array (the activations' backward: slope · dout)."""
    out = _fresh(a, b)
    split_map(_multiply, out, a, b)
    return out


def _multiply(out: np.ndarray, a: np.ndarray, b: np.ndarray) -> None:
    np.multiply(a, b, out=out)


def _relu(y: np.ndarray, x: np.ndarray) -> None:
    np.maximum(x, 0, out=y)


def _relu_grad(dx: np.ndarray, dout: np.ndarray, x: np.ndarray) -> None:
    np.multiply(dout, x > 0, out=dx)


def sigmoid_and_slope(x: np.ndarray, mirrored: bool = False,
                      out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(σ(x), σ'(x)) with σ(x) = 1/(1 + e^{−x}) and σ' = σ(x)σ(−x) = y(1 − y), both to a few ulps of
    relative precision for every x; mirrored=True gives σ(−x) instead of σ(x) (same slope).

    With t = e^{−|x|} (never overflows) and r = 1/(1 + t): σ(|x|) = r, σ(−|x|) = t·r and
    σ' = t·r², so nothing is computed as a difference from 1 (0.5·tanh(x/2) + 0.5 returned 0 for
    x <= −38 in float64, and 1 − y loses everything once y rounds to 1). The sign picks the factor
    without a masked copy (those ran 30× slower): max(t, [x >= 0]) is 1 for x >= 0 and t for x < 0.
    out: the two arrays to write (y, slope), else fresh ones.
    """
    y, t = out if out is not None else (_fresh(x), _fresh(x))
    np.abs(x, out=t)
    np.negative(t, out=t)
    with np.errstate(under="ignore"):               # e^{−|x|} below the smallest float is 0: so is σ there
        np.exp(t, out=t)                            # t = e^{−|x|} in [0, 1]
    r = np.add(t, 1.0)
    np.reciprocal(r, out=r)                         # σ(|x|)
    np.maximum(t, np.less(x, 0) if mirrored else np.greater_equal(x, 0), out=y)
    y *= r                                          # σ(|x|) or σ(−|x|), whichever the sign asks for
    t *= r
    t *= r                                          # σ' = e^{−|x|} / (1 + e^{−|x|})²
    return y, t


class Sigmoid(_Activation):
    """y = 1 / (1 + e^{−x}),  ∂y/∂x = y(1 − y) = e^{−|x|} / (1 + e^{−|x|})².

    Both are computed without a difference from 1 (sigmoid_and_slope): they keep their relative
    precision for every x, and nothing overflows. A unit counts as dead (saturated) when
    y(1 − y) < 0.01 for every sample (|x| > ~4.6).
    """

    type_name = "sigmoid"
    description = N_("Sigmoid 1/(1+e^−x): the study note's unit")

    def forward(self, x):
        self.x = x
        self.y, self._slope = _fresh(x), _fresh(x)
        split_map(lambda y, slope, x_: sigmoid_and_slope(x_, out=(y, slope)), self.y, self._slope, x)
        return self.y

    def backward(self, dout):
        return _product(self._slope, dout)             # y(1 − y) · dout, in one fresh array

    def dead_fraction(self):
        slope = self._slope.reshape(self._slope.shape[0], -1)
        return float(np.mean(np.all(slope < 0.01, axis=0)))


class ReLU(_Activation):
    """y = max(0, x),  ∂y/∂x = 1 where x > 0 else 0 (0 at x = 0, as PyTorch)."""

    type_name = "relu"
    description = N_("ReLU max(0, x)")

    def forward(self, x):
        self.x = x
        self.y = _fresh(x)
        split_map(_relu, self.y, x)
        return self.y

    def backward(self, dout):
        dx = _fresh(dout, self.x)
        split_map(_relu_grad, dx, dout, self.x)
        return dx

    def dead_fraction(self):
        x = self.x.reshape(self.x.shape[0], -1)
        return float(np.mean(np.all(x <= 0, axis=0)))


class Tanh(_Activation):
    """y = tanh(x),  ∂y/∂x = 1 − y² = 4e^{−2|x|} / (1 + e^{−2|x|})².

    The slope is computed from e^{−2|x|}, not as 1 − y² (which is 0 once y rounds to ±1, |x| > ~19 in
    float64, though the exact value is 4e^{−2|x|}). A unit is saturated when 1 − y² < 0.01 for every sample.
    """

    type_name = "tanh"
    description = N_("Hyperbolic tangent")

    def forward(self, x):
        self.x = x
        self.y, self._slope = _fresh(x), _fresh(x)
        split_map(_tanh_and_slope, self.y, self._slope, x)
        return self.y

    def backward(self, dout):
        return _product(self._slope, dout)             # (1 − y²) · dout, in one fresh array

    def dead_fraction(self):
        slope = self._slope.reshape(self._slope.shape[0], -1)
        return float(np.mean(np.all(slope < 0.01, axis=0)))


def _tanh_and_slope(y: np.ndarray, t: np.ndarray, x: np.ndarray) -> None:
    """y = tanh(x) and t = 4e^{−2|x|} / (1 + e^{−2|x|})², written into y and t."""
    np.tanh(x, out=y)
    np.abs(x, out=t)
    t *= -2.0
    with np.errstate(under="ignore"):               # e^{−2|x|} below the smallest float is 0: so is the slope
        np.exp(t, out=t)
    r = np.add(t, 1.0)
    np.reciprocal(r, out=r)
    t *= r
    t *= r
    t *= 4.0
