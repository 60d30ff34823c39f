"""Element-wise activations: sigmoid (the study note's unit), ReLU and tanh.

Each keeps its output (and ReLU its input) for backward and for the dead-unit watch.
"""

from __future__ import annotations

import numpy as np

from .base import Layer


class _Activation(Layer):
    fields = {}

    def infer_output_shape(self, input_shape):
        return input_shape

    def dead_fraction(self) -> float:
        """Fraction of units that carry no gradient for any sample of the last batch."""
        raise NotImplementedError


class Sigmoid(_Activation):
    """y = 1 / (1 + e^{−x}),  ∂y/∂x = y(1 − y).

    Computed as 0.5·tanh(0.5x) + 0.5: never overflows, for any x.
    A unit counts as dead (saturated) when y(1 − y) < 0.01 for every sample (|x| > ~4.6).
    """

    type_name = "sigmoid"
    description = "Sigmoid 1/(1+e^−x): the study note's unit"

    def forward(self, x):
        self.x = x
        y = np.multiply(x, 0.5)     # one array, then in place (temporaries per pass cost ~1.5× here)
        np.tanh(y, out=y)
        y *= 0.5
        y += 0.5
        self.y = y
        return y

    def backward(self, dout):
        dx = np.subtract(1.0, self.y)   # y(1 − y) · dout, built in one fresh array
        dx *= self.y
        dx *= dout
        return dx

    def dead_fraction(self):
        y = self.y.reshape(self.y.shape[0], -1)
        return float(np.mean(np.all(y * (1.0 - y) < 0.01, axis=0)))


class ReLU(_Activation):
    """y = max(0, x),  ∂y/∂x = 1 where x > 0 else 0 (0 at x = 0, as PyTorch)."""

    type_name = "relu"
    description = "ReLU max(0, x)"

    def forward(self, x):
        self.x = x
        self.y = np.maximum(x, 0)
        return self.y

    def backward(self, dout):
        return dout * (self.x > 0)

    def dead_fraction(self):
        x = self.x.reshape(self.x.shape[0], -1)
        return float(np.mean(np.all(x <= 0, axis=0)))


class Tanh(_Activation):
    """y = tanh(x),  ∂y/∂x = 1 − y². A unit is saturated when 1 − y² < 0.01 for every sample."""

    type_name = "tanh"
    description = "Hyperbolic tangent"

    def forward(self, x):
        self.x = x
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        dx = np.multiply(self.y, self.y)
        np.subtract(1.0, dx, out=dx)
        dx *= dout
        return dx

    def dead_fraction(self):
        y = self.y.reshape(self.y.shape[0], -1)
        return float(np.mean(np.all(1.0 - y * y < 0.01, axis=0)))
