"""Pooling layers: max, average and Lp (mean form), each channel on its own (MATH.md §3).

All three share the same skeleton: k×k windows at stride s (default s = k), no
padding, output size floored (as PyTorch). Each exposes, after a forward pass,
`routing`: the per-window local derivative ∂y_ij/∂x_ab of shape
(N, C, H_out, W_out, KH, KW). Backward is the same for all three:
∂C/∂x_ab = Σ_{windows ij containing ab} ∂C/∂y_ij · routing — overlapping windows add up.
"""

from __future__ import annotations

import numpy as np

from .base import BuildError, Field, Layer
from .windows import output_size, scatter_windows, uncovered, windows


class _Pool2D(Layer):
    fields = {
        "kernel_size": Field(int, required=True, minimum=1, help="window size k (k×k)"),
        "stride": Field((int, type(None)), default=None, minimum=1,
                        help="step between windows (default: kernel_size, windows don't overlap)"),
    }

    @property
    def kernel(self) -> int:
        return self.options["kernel_size"]

    @property
    def stride(self) -> int:
        s = self.options.get("stride")
        return self.kernel if s is None else s

    def infer_output_shape(self, input_shape):
        self._need_rank(input_shape, 3, "a (C, H, W) input")
        C, H, W = input_shape
        k, s = self.kernel, self.stride
        if k > H or k > W:
            raise BuildError(f"kernel {k} is larger than its {H}×{W} input; use kernel_size <= {min(H, W)}")
        self.notes = [
            f"last {n} {axis} of the input fall in no window (output size floored)"
            for n, axis in ((uncovered(H, k, s), "rows"), (uncovered(W, k, s), "columns")) if n]
        return (C, output_size(H, k, s), output_size(W, k, s))

    def forward(self, x):
        self.x = x
        self._routing = None
        self.y = self._pool(windows(x, self.kernel, self.kernel, self.stride))
        return self.y

    def _pool(self, win: np.ndarray) -> np.ndarray:
        """y (N, C, H_out, W_out) from the window view win (N, C, H_out, W_out, KH, KW)."""
        raise NotImplementedError

    def _local_grad(self, win: np.ndarray) -> np.ndarray:
        """∂y_ij/∂x_ab for every window: (N, C, H_out, W_out, KH, KW)."""
        raise NotImplementedError

    @property
    def routing(self) -> np.ndarray:
        """Per-window ∂y/∂x (N, C, H_out, W_out, KH, KW) of the last forward pass (read-only)."""
        if self.x is None:
            raise RuntimeError(f"{self.type_name}: routing exists only after a forward pass")
        if self._routing is None:
            r = self._local_grad(windows(self.x, self.kernel, self.kernel, self.stride))
            r.flags.writeable = False
            self._routing = r
        return self._routing

    def backward(self, dout):
        dwin = self.routing * dout[..., None, None]
        return scatter_windows(dwin, self.x.shape, self.stride)


class MaxPool2D(_Pool2D):
    """y_ij = max over the window P_ij; the gradient goes to the window's winner only.

    One winner per window: ties go to the first position in row-major order (as PyTorch).
    `mask` (shape of the input) counts the windows each input won: the pooling mask.
    """

    type_name = "maxpool2d"
    description = "Max pooling: keeps the largest value of each window"

    def _pool(self, win):
        return win.max(axis=(-2, -1))

    def _local_grad(self, win):
        N, C, H_out, W_out, KH, KW = win.shape
        winner = win.reshape(N, C, H_out, W_out, KH * KW).argmax(axis=-1)   # first maximum wins ties
        onehot = np.zeros((N, C, H_out, W_out, KH * KW), dtype=self.x.dtype)
        np.put_along_axis(onehot, winner[..., None], 1, axis=-1)
        return onehot.reshape(win.shape)

    @property
    def mask(self) -> np.ndarray:
        """How many windows each input position won (N, C, H, W); 0/1 when windows don't overlap."""
        return scatter_windows(self.routing, self.x.shape, self.stride)


class AvgPool2D(_Pool2D):
    """y_ij = (1/|P|) Σ_{P_ij} x; every input of a window receives 1/|P| of its gradient."""

    type_name = "avgpool2d"
    description = "Average pooling: the mean of each window"

    def _pool(self, win):
        return win.mean(axis=(-2, -1))

    def _local_grad(self, win):
        return np.full(win.shape, 1.0 / (self.kernel * self.kernel), dtype=self.x.dtype)


class LpPool2D(_Pool2D):
    """y_ij = ((1/|P|) Σ_{P_ij} |x|^p)^{1/p}  (mean form; p = 1: mean of |x|, p → ∞: max of |x|).

    ∂y_ij/∂x_ab = (1/|P|) · sign(x_ab) · |x_ab|^{p−1} · y_ij^{1−p}, and 0 where y_ij = 0.
    """

    type_name = "lppool2d"
    description = "Lp pooling: the p-mean of each window (p=1 average of |x|, large p → max)"
    fields = {
        **_Pool2D.fields,
        "p": Field((int, float), default=2.0, minimum=1, help="the norm's order p >= 1"),
    }

    def _pool(self, win):
        p = float(self.options["p"])
        return np.mean(np.abs(win) ** p, axis=(-2, -1)) ** (1.0 / p)

    def _local_grad(self, win):
        p = float(self.options["p"])
        y = self.y[..., None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(y > 0, y ** (1.0 - p), 0.0)
        return (np.sign(win) * np.abs(win) ** (p - 1.0) * scale / (self.kernel * self.kernel)).astype(self.x.dtype)
