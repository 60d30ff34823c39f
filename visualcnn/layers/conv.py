"""2-D convolution (cross-correlation, as PyTorch) with tied or untied biases (MATH.md §4)."""

from __future__ import annotations

import numpy as np

from .base import BuildError, Field, Layer, glorot_uniform
from .windows import conv_windows, output_size, uncovered


class Conv2D(Layer):
    """x_{l,i,j} = Σ_k Σ_p Σ_q W_{l,k,p,q} · x_{k, i·s+p−pad, j·s+q−pad} + b.

    x: (N, C, H, W) → y: (N, F, H_out, W_out), H_out = floor((H + 2·pad − KH) / s) + 1.
    W: (F, C, KH, KW) (PyTorch layout); b: (F,) when tied, (F, H_out, W_out) when untied
    (one bias per unit, the study note's "ユニット毎").
    Init: Glorot uniform on W (fan_in = C·KH·KW, fan_out = F·KH·KW), zero biases.

    y and the dx of backward are batch-last in memory ((C, H, W, N) behind the NCHW shape; see
    windows.py); both are fresh arrays on every call. Private work arrays (the column matrix
    and its gradient) are reused across calls.
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
        k, s, pad = self.options["kernel_size"], self.options["stride"], self.options["padding"]
        Wt, b = self.params["W"], self.params["b"]
        self.x = x
        # im2col with the batch innermost, (C·KH·KW, H_out·W_out·N): one GEMM for all samples and channels
        # (a C = 1 conv too), copies of contiguous runs (batch-last made im2col 1.5-2× and col2im 3-4× faster
        # than per-sample rows, with no padding columns)
        cols = self._work("cols", (C, k, k, H_out, W_out, N))
        np.copyto(cols, conv_windows(self._padded(x), k, k, s))
        out = np.empty((F, H_out, W_out, N), dtype=self.dtype)                # y's memory: batch-last
        np.matmul(Wt.reshape(F, -1), cols.reshape(C * k * k, -1), out=out.reshape(F, -1))
        out += b[:, None, None, None] if b.ndim == 1 else b[..., None]
        self.y = np.moveaxis(out, -1, 0)                                      # (N, F, H_out, W_out)
        return self.y

    def _padded(self, x: np.ndarray) -> np.ndarray:
        """x (N, C, H, W) as xt (C, Hp, Wp, N), zero-padded; a view when x is batch-last and unpadded."""
        N, C, H, W = x.shape
        pad = self.options["padding"]
        xt = np.moveaxis(x, 0, -1)
        if pad:
            xp = np.zeros((C, H + 2 * pad, W + 2 * pad, N), dtype=self.dtype)
            xp[:, pad:pad + H, pad:pad + W] = xt
            return xp
        return xt if xt.strides[-1] == x.itemsize else np.ascontiguousarray(xt)

    def _work(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A private work array kept across calls (fresh large temporaries each step cost page faults)."""
        buf = self.__dict__.get("_buf_" + name)
        if buf is None or buf.shape != shape or buf.dtype != self.dtype:
            buf = np.empty(shape, dtype=self.dtype)
            setattr(self, "_buf_" + name, buf)
        return buf

    def backward(self, dout):
        N, F, H_out, W_out = dout.shape
        C, H, W = self.input_shape
        k, s, pad = self.options["kernel_size"], self.options["stride"], self.options["padding"]
        Wt = self.params["W"]
        cols = self._buf_cols.reshape(C * k * k, -1)                           # (C·KH·KW, H_out·W_out·N)
        delta = np.moveaxis(dout, 0, -1)                                       # δ (F, H_out, W_out, N)
        delta2 = delta.reshape(F, -1)                                          # a copy only if dout isn't batch-last
        # ∂C/∂W_{l,k,p,q} = Σ_s Σ_{i,j} δ_{l,i,j} · x_{k, i·s+p−pad, j·s+q−pad}
        self.grads["W"].reshape(F, -1)[...] = column_blocks_dot(cols, delta2).T
        if self.params["b"].ndim == 1:
            self.grads["b"][...] = delta2.sum(axis=1)      # along contiguous rows: pairwise sums, fast and accurate
        else:
            self.grads["b"][...] = delta.sum(axis=-1)
        if not self.input_grad:
            return None
        # ∂C/∂x: each window position sends δ·W back to the inputs it read (full conv with the flipped filter)
        dcols = self._work("dcols", self._buf_cols.shape)
        np.matmul(Wt.reshape(F, -1).T, delta2, out=dcols.reshape(C * k * k, -1))
        dxt = np.zeros((C, H + 2 * pad, W + 2 * pad, N), dtype=self.dtype)    # batch-last, padded
        h_span, w_span = s * (H_out - 1) + 1, s * (W_out - 1) + 1
        for p in range(k):
            for q in range(k):
                dxt[:, p:p + h_span:s, q:q + w_span:s] += dcols[:, p, q]
        return np.moveaxis(dxt[:, pad:pad + H, pad:pad + W], -1, 0)


#: columns per block of the weight-gradient GEMM: a block of the column matrix stays in cache
COLUMN_BLOCK = 4096


def column_blocks_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a (K, M) @ b (F, M).T summed over blocks of M columns: 2-3× faster than one GEMM with M ≫ K, F
    (BLAS streams the whole long dot per entry), and more accurate (the sum is blocked)."""
    M = a.shape[1]
    nb = M // COLUMN_BLOCK
    if nb < 2:
        return a @ b.T
    m = nb * COLUMN_BLOCK
    out = np.matmul(a[:, :m].reshape(a.shape[0], nb, -1).swapaxes(0, 1),
                    b[:, :m].reshape(b.shape[0], nb, -1).transpose(1, 2, 0)).sum(axis=0)
    if m < M:
        out += a[:, m:] @ b[:, m:].T
    return out
