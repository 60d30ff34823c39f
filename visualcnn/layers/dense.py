"""Fully connected layer and flatten (C, H, W → C·H·W, row-major)."""

from __future__ import annotations

import math

import numpy as np

from .base import Field, Layer, glorot_uniform
from visualcnn.i18n import N_


class Flatten(Layer):
    """x (N, C, H, W) → (N, C·H·W) in row-major (C, H, W) order; backward reshapes back."""

    type_name = "flatten"
    description = N_("Flatten (C, H, W) into one vector")
    fields = {}

    def infer_output_shape(self, input_shape):
        return (math.prod(input_shape),)

    def forward(self, x):
        self.x = x
        self.y = x.reshape(x.shape[0], -1)
        return self.y

    def backward(self, dout):
        return dout.reshape((dout.shape[0], *self.input_shape))


class Dense(Layer):
    """y_j = Σ_i W_ji x_i + b_j.

    x: (N, D_in) → y: (N, D_out); W: (D_out, D_in) (PyTorch layout), b: (D_out,).
    An input with more axes, (N, C, H, W), is flattened in row-major order first.
    Init: Glorot uniform on W, zero b.
    """

    type_name = "dense"
    description = N_("Fully connected: every output sees every input")
    fields = {"out_features": Field(int, required=True, minimum=1, help=N_("number of output units"))}

    def infer_output_shape(self, input_shape):
        return (self.options["out_features"],)

    def init_params(self, rng):
        d_in = math.prod(self.input_shape)
        d_out = self.options["out_features"]
        return {"W": glorot_uniform(rng, (d_out, d_in), fan_in=d_in, fan_out=d_out), "b": np.zeros(d_out)}

    def forward(self, x):
        self.x = x
        self._x2 = x.reshape(x.shape[0], -1)
        y = self._x2 @ self.params["W"].T
        y += self.params["b"]
        self.y = y
        return y

    def backward(self, dout):
        # ∂C/∂W_ji = Σ_s dout_j^s x_i^s ; ∂C/∂b_j = Σ_s dout_j^s ; ∂C/∂x_i = Σ_j W_ji dout_j
        self.grads["W"][...] = dout.T @ self._x2
        self.grads["b"][...] = dout.sum(axis=0)
        if not self.input_grad:
            return None
        if self._x2.strides[0] == self._x2.itemsize < self._x2.strides[1]:
            # x came batch-last (from a conv or pooling layer): so does dx, or every layer below mixes layouts
            return (self.params["W"].T @ dout.T).T.reshape(self.x.shape)
        return (dout @ self.params["W"]).reshape(self.x.shape)
