"""2-D convolution (cross-correlation, as PyTorch) with tied or untied biases (MATH.md §4)."""

from __future__ import annotations

import numpy as np

from .base import BuildError, Field, Layer, glorot_uniform
from .windows import output_size, pad, scatter_windows, uncovered, windows


class Conv2D(Layer):
    """x_{l,i,j} = Σ_k Σ_p Σ_q W_{l,k,p,q} · x_{k, i·s+p−pad, j·s+q−pad} + b.

    x: (N, C, H, W) → y: (N, F, H_out, W_out), H_out = floor((H + 2·pad − KH) / s) + 1.
    W: (F, C, KH, KW) (PyTorch layout); b: (F,) when tied, (F, H_out, W_out) when untied
    (one bias per unit, the study note's "ユニット毎").
    Init: Glorot uniform on W (fan_in = C·KH·KW, fan_out = F·KH·KW), zero biases.
    """

    type_name = "conv2d"
    description = "Convolution: F filters of size k×k over all input channels"
    fields = {
        "out_channels": Field(int, required=True, minimum=1, help="number of filters F"),
        "kernel_size": Field(int, required=True, minimum=1, help="filter size k (k×k)"),
        "stride": Field(int, default=1, minimum=1, help="step between windows"),
        "padding": Field(int, default=0, minimum=0, help="zeros added on each border"),
        "bias": Field(str, default="tied", choices=("tied", "untied"),
                      help="tied: one bias per filter; untied: one per output unit"),
    }

    def infer_output_shape(self, input_shape):
        self._need_rank(input_shape, 3, "a (C, H, W) input")
        C, H, W = input_shape
        k, s, p = self.options["kernel_size"], self.options["stride"], self.options["padding"]
        if k > H + 2 * p or k > W + 2 * p:
            raise BuildError(
                f"kernel {k} is larger than its {H}×{W} input"
                + (f" (padded {H + 2 * p}×{W + 2 * p})" if p else "")
                + f"; use kernel_size <= {min(H, W) + 2 * p} or more padding")
        if p >= k:
            raise BuildError(f"padding {p} must be smaller than kernel_size {k}")
        self.notes = [
            f"{n} {axis} of the padded input reached by no window (output size floored)"
            for n, axis in ((uncovered(H, k, s, p), "rows"), (uncovered(W, k, s, p), "columns")) if n]
        return (self.options["out_channels"], output_size(H, k, s, p), output_size(W, k, s, p))

    def init_params(self, rng):
        C = self.input_shape[0]
        F, H_out, W_out = self.output_shape
        k = self.options["kernel_size"]
        W = glorot_uniform(rng, (F, C, k, k), fan_in=C * k * k, fan_out=F * k * k)
        b_shape = (F,) if self.options["bias"] == "tied" else (F, H_out, W_out)
        return {"W": W, "b": np.zeros(b_shape)}

    def forward(self, x):
        N, C, H, W = x.shape
        F, H_out, W_out = self.output_shape
        k, s = self.options["kernel_size"], self.options["stride"]
        Wt, b = self.params["W"], self.params["b"]
        self.x = x
        win = windows(pad(x, self.options["padding"]), k, k, s)          # (N, C, H_out, W_out, KH, KW)
        # (N*H_out*W_out, C*KH*KW): one row per output position
        self._cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, C * k * k)
        out = self._cols @ Wt.reshape(F, -1).T                            # (N*H_out*W_out, F)
        if b.ndim == 1:
            out += b
        y = np.ascontiguousarray(out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2))
        if b.ndim == 3:
            y += b
        self.y = y
        return y

    def backward(self, dout):
        N, F, H_out, W_out = dout.shape
        C = self.input_shape[0]
        k, s, p = self.options["kernel_size"], self.options["stride"], self.options["padding"]
        Wt = self.params["W"]
        delta = dout.transpose(0, 2, 3, 1).reshape(N * H_out * W_out, F)  # δ, one row per output position
        # ∂C/∂W_{l,k,p,q} = Σ_s Σ_{i,j} δ_{l,i,j} · x_{k, i·s+p−pad, j·s+q−pad}
        self.grads["W"][...] = (delta.T @ self._cols).reshape(Wt.shape)
        if self.params["b"].ndim == 1:
            self.grads["b"][...] = delta.sum(axis=0)
        else:
            self.grads["b"][...] = dout.sum(axis=0)
        # ∂C/∂x: each window position sends δ·W back to the inputs it read (full conv with the flipped filter)
        dcols = delta @ Wt.reshape(F, -1)                                  # (N*H_out*W_out, C*KH*KW)
        dwin = dcols.reshape(N, H_out, W_out, C, k, k).transpose(0, 3, 1, 2, 4, 5)
        H, W_ = self.input_shape[1], self.input_shape[2]
        dxp = scatter_windows(dwin, (N, C, H + 2 * p, W_ + 2 * p), s)
        return dxp[:, :, p:p + H, p:p + W_] if p else dxp
