"""Pooling layers: max, average and Lp (mean or sum form), each channel on its own (MATH.md §3).

All three share the same skeleton: k×k windows at stride s (default s = k), no
padding, output size floored (as PyTorch). Each exposes, after a forward pass,
`routing`: the per-window local derivative ∂y_ij/∂x_ab of shape
(N, C, H_out, W_out, KH, KW). Backward is the same for all three:
∂C/∂x_ab = Σ_{windows ij containing ab} ∂C/∂y_ij · routing — overlapping windows add up.

Both passes run one kernel offset (p, q) at a time over whole arrays, and `routing`
is only built when asked for (the views ask; training does not). y and dx are
fresh batch-last arrays (memory (C, H, W, N), see windows.py) on every call.
"""

from __future__ import annotations

import numpy as np

from visualcnn.i18n import N_, _

from .base import BuildError, Field, Layer
from .windows import as_batch_last, batch_last, output_size, scatter_windows, uncovered
from .workspace import split_map


#: pooling passes over its input once per kernel offset: in parts of about this many bytes, each part's offsets
#: run while it is in cache (at 128² the passes over a 32 MiB input cost 2× per pixel what they cost at 64²)
POOL_BLOCK_BYTES = 1 << 19


class _Pool2D(Layer):
    #: both passes may run in parts (channels, or samples), on the core's threads (workspace.split_map)
    in_parts = True
    fields = {
        "kernel_size": Field(int, required=True, minimum=1, help=N_("window size k (k×k)")),
        "stride": Field((int, type(None)), default=None, minimum=1,
                        help=N_("step between windows (default: kernel_size, windows don't overlap)")),
    }

    @property
    def kernel(self) -> int:
        return self.options["kernel_size"]

    @property
    def stride(self) -> int:
        s = self.options.get("stride")
        return self.kernel if s is None else s

    def infer_output_shape(self, input_shape):
        self._need_rank(input_shape, 3, _("a (C, H, W) input"))
        C, H, W = input_shape
        k, s = self.kernel, self.stride
        if k > H or k > W:
            raise BuildError(_("kernel {k} is larger than its {H}×{W} input; use kernel_size <= {most}").format(
                k=k, H=H, W=W, most=min(H, W)))
        self.notes = [
            note.format(n=n)
            for n, note in ((uncovered(H, k, s), _("last {n} rows of the input fall in no window "
                                                   "(output size floored)")),
                            (uncovered(W, k, s), _("last {n} columns of the input fall in no window "
                                                   "(output size floored)"))) if n]
        return (C, output_size(H, k, s), output_size(W, k, s))

    def forward(self, x):
        N, C, H, W = x.shape
        self.x = x
        self._routing = None
        y = batch_last((N, C, *self.output_shape[1:]), self.dtype)
        self._in_parts(self._pool_part, x, y)
        self.y = y
        return y

    def _in_parts(self, fn, *arrays: np.ndarray) -> None:
        """fn(*arrays), in parts on the core's threads and in cache-sized pieces when `in_parts` allows."""
        if self.in_parts:
            split_map(fn, *arrays, block_bytes=POOL_BLOCK_BYTES)
        else:
            fn(*arrays)

    def _offsets(self, x: np.ndarray):
        """(p, q, x at offset (p, q) of every window: a strided (N, C, H_out, W_out) view), in row-major order.

        Pooling works one kernel offset at a time over whole arrays: KH·KW vectorised passes
        instead of reducing a (…, KH, KW) window view (reshape + max/argmax ran several times slower).
        """
        s = self.stride
        H_out, W_out = self.output_shape[1:]
        h_span, w_span = s * (H_out - 1) + 1, s * (W_out - 1) + 1
        for p in range(self.kernel):
            for q in range(self.kernel):
                yield p, q, x[:, :, p:p + h_span:s, q:q + w_span:s]      # = windows(x, k, k, s)[..., p, q]

    def _pool_part(self, x: np.ndarray, y: np.ndarray) -> None:
        """Write the pooled x (the input, or a part of it) into y (the output's matching part)."""
        self._pool(self._offsets(x), y)

    def _pool(self, offsets, y: np.ndarray) -> None:
        """Write the pooled output into y (N, C, H_out, W_out) from the offsets of `_offsets`."""
        raise NotImplementedError

    def _local_grads(self, x: np.ndarray, y: np.ndarray):
        """(p, q, ∂y_ij/∂x at offset (p, q) of every window: (N, C, H_out, W_out), or a scalar for all), for
        input x and output y (the last forward pass's, or matching parts of them)."""
        raise NotImplementedError

    @property
    def routing(self) -> np.ndarray:
        """Per-window ∂y/∂x (N, C, H_out, W_out, KH, KW) of the last forward pass (read-only)."""
        if self.x is None:
            raise RuntimeError(f"{self.type_name}: routing exists only after a forward pass")
        if self._routing is None:
            r = np.zeros((*self.y.shape, self.kernel, self.kernel), dtype=self.x.dtype)
            for p, q, g in self._local_grads(self.x, self.y):
                r[..., p, q] = g
            r.flags.writeable = False
            self._routing = r
        return self._routing

    def backward(self, dout):
        dx = batch_last(self.x.shape, self.dtype, zero=True)
        dout = as_batch_last(dout)
        self._in_parts(self._backward_part, dx, self.x, dout, self.y)
        return dx

    def _backward_part(self, dx: np.ndarray, x: np.ndarray, dout: np.ndarray, y: np.ndarray) -> None:
        # ∂C/∂x_ab = Σ_{windows ij containing ab} ∂C/∂y_ij · ∂y_ij/∂x_ab, one kernel offset at a time
        N, C, H_out, W_out = dout.shape
        s = self.stride
        h_span, w_span = s * (H_out - 1) + 1, s * (W_out - 1) + 1
        overlapping = s < self.kernel
        for p, q, g in self._local_grads(x, y):
            slab = dx[:, :, p:p + h_span:s, q:q + w_span:s]       # where offset (p, q) of each window lies
            if overlapping:
                slab += dout * g
            else:       # disjoint slabs: write in place (a masked `where=` add ran 7× slower)
                np.multiply(dout, g, out=slab)


class MaxPool2D(_Pool2D):
    """y_ij = max over the window P_ij; the gradient goes to the window's winner only.

    One winner per window: ties go to the first position in row-major order, and a NaN wins over
    any number (the last NaN of the window in row-major order), both as PyTorch: y_ij is then NaN
    and its gradient goes to that NaN. `mask` (shape of the input) counts the windows each input
    won: the pooling mask.
    """

    type_name = "maxpool2d"
    description = N_("Max pooling: keeps the largest value of each window")

    def _pool(self, offsets, y):
        _, _, first = next(offsets)
        np.copyto(y, first)
        for _, _, xo in offsets:
            np.maximum(y, xo, out=y)

    def _pool_part(self, x, y):
        """Windows that tile the input (stride = kernel): the max of each window's rows first, then of its
        columns. The rows of a window lie a whole input row apart, so the first maxima run over long
        contiguous stretches (W·N values of a batch-last array) where a kernel offset's view has runs of N:
        with a batch of 16 the offsets' passes were bound by NumPy's per-run cost (the 64×64 net's first pooling
        at 128²: 7.2 ms, now 3.7).
        The max is exact and NaN wins either way, so y is the same bits as the offsets' pass."""
        k = self.kernel
        if self.stride != k or k == 1:
            return super()._pool_part(x, y)
        H_out, W_out = self.output_shape[1:]
        rows = np.maximum(x[:, :, 0:k * H_out:k], x[:, :, 1:k * H_out:k])      # (N, C, H_out, W), x's layout
        for p in range(2, k):
            np.maximum(rows, x[:, :, p:k * H_out:k], out=rows)
        np.maximum(rows[..., 0:k * W_out:k], rows[..., 1:k * W_out:k], out=y)
        for q in range(2, k):
            np.maximum(y, rows[..., q:k * W_out:k], out=y)

    def _local_grads(self, x, y):
        if np.isnan(y).any():
            yield from self._local_grads_with_nan(x, y)
            return
        # the winner of a window is its first offset (row-major) equal to the max: `free` marks windows not yet won
        free = None
        last = (self.kernel - 1, self.kernel - 1)
        for p, q, xo in self._offsets(x):
            if (p, q) == last and free is not None:
                yield p, q, free                    # whatever no earlier offset won (one winner even with NaN)
                return
            hit = np.equal(xo, y)
            if free is None:
                free = ~hit
            else:
                hit &= free
                free ^= hit
            yield p, q, hit

    def _local_grads_with_nan(self, x, y):
        """As _local_grads, where some windows hold a NaN: there the last NaN (row-major) wins, as in
        PyTorch's `if (val > maxval || isnan(val))` scan; elsewhere the first position equal to the max."""
        offsets = list(self._offsets(x))
        nan_hits, taken = {}, np.zeros(y.shape, dtype=bool)
        for p, q, xo in reversed(offsets):
            hit = np.isnan(xo) & ~taken
            taken |= hit
            nan_hits[p, q] = hit
        free = ~taken
        for p, q, xo in offsets:
            hit = np.equal(xo, y) & free
            free &= ~hit
            yield p, q, hit | nan_hits[p, q]

    @property
    def mask(self) -> np.ndarray:
        """How many windows each input position won (N, C, H, W); 0/1 when windows don't overlap."""
        return scatter_windows(self.routing, self.x.shape, self.stride)


class AvgPool2D(_Pool2D):
    """y_ij = (1/|P|) Σ_{P_ij} x; every input of a window receives 1/|P| of its gradient."""

    type_name = "avgpool2d"
    description = N_("Average pooling: the mean of each window")

    def _pool(self, offsets, y):
        y[...] = 0
        for _, _, xo in offsets:
            y += xo
        y *= 1.0 / (self.kernel * self.kernel)

    def _local_grads(self, x, y):
        share = self.dtype.type(1.0 / (self.kernel * self.kernel))
        for p in range(self.kernel):
            for q in range(self.kernel):
                yield p, q, share


P_MAX = 1000.0      # the largest Lp order accepted (the spec, the stack editor and the Pooling tab's slider)


class LpPool2D(_Pool2D):
    """Lp pooling of |x| over each window, in one of two forms (`norm`):

        mean (default):  y_ij = ((1/|P|) Σ_{P_ij} |x|^p)^{1/p}   (p = 1: mean of |x|, p → ∞: max |x|)
        sum:             y_ij = (Σ_{P_ij} |x|^p)^{1/p}           (ONNX LpPool; PyTorch LPPool2d for x >= 0)

    With c = 1/|P| (mean) or 1 (sum): ∂y_ij/∂x_ab = c · sign(x_ab) · (|x_ab| / y_ij)^{p−1}, and 0 where y_ij = 0.

    Computed scaled by each window's m = max |x| (exact in exact arithmetic):
    y = m · (c Σ (|x|/m)^p)^{1/p}. Every ratio is <= 1 and the sum >= 1, so nothing overflows
    or underflows to a wrong result for any |x| the dtype holds and any p up to P_MAX; the
    gradient's base |x|/y stays <= |P|^{1/p}. The arithmetic runs in float64 and is rounded
    once to the layer's dtype. p must be finite: p = ∞ is refused (use maxpool2d for a max;
    at p = 1000 y is within a factor |P|^{±1/p} of max |x|: 0.22 % for a 3×3 window).
    """

    type_name = "lppool2d"
    in_parts = False                # its float64 twin of y (`_y64`) is made whole, by one forward pass
    description = N_("Lp pooling: the p-mean of each window (p=1 average of |x|, large p → max)")
    fields = {
        **_Pool2D.fields,
        "p": Field((int, float), default=2.0, minimum=1, maximum=P_MAX,
                   help=N_("order of the norm: 1 averages |x|, large p nears max |x|; for the max "
                           "itself use maxpool2d")),
        "norm": Field(str, default="mean", choices=("mean", "sum"),
                      help=N_("mean: ((1/|P|) Σ|x|^p)^(1/p); sum: (Σ|x|^p)^(1/p), as ONNX LpPool")),
    }

    @property
    def p(self) -> float:
        return float(self.options.get("p", 2.0))

    @property
    def norm_factor(self) -> float:
        """c: 1/|P| in the mean form, 1 in the sum form."""
        return 1.0 / (self.kernel * self.kernel) if self.options.get("norm", "mean") == "mean" else 1.0

    def _pool(self, offsets, y):
        p = self.p
        offsets = list(offsets)
        m = batch_last(y.shape, np.float64)     # m = max |x| of each window (NaN propagates)
        tmp = batch_last(y.shape, np.float64)
        np.abs(offsets[0][2], out=m)              # a float32 input is widened exactly
        for _, _, xo in offsets[1:]:
            np.maximum(m, np.abs(xo, out=tmp), out=m)
        # windows of zeros (and of inf or NaN) are divided by 1: they give 0 (and inf or NaN)
        scale = np.where((m > 0) & (m < np.inf), m, 1.0)
        total = batch_last(y.shape, np.float64, zero=True)      # Σ (|x|/m)^p >= 1 (the max contributes 1)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):   # inf/NaN inputs; tiny ratios
            for _, _, xo in offsets:
                np.abs(xo, out=tmp)
                tmp /= scale
                tmp **= p
                total += tmp
            total *= self.norm_factor
            total **= 1.0 / p
            total *= scale
        self._y64 = total                       # y in float64: the gradient's base |x|/y uses it
        np.copyto(y, total)

    def _local_grads(self, x, y):
        p, c = self.p, self.norm_factor
        y = self._y64                           # whole arrays (in_parts is False): y's float64 twin
        base = np.where(y > 0, y, 1.0)          # y = 0 only where the window is all zeros: gradient 0
        tmp = np.empty_like(base)
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):   # inf/NaN inputs; tiny ratios
            for a, b, xo in self._offsets(x):
                np.abs(xo, out=tmp)
                tmp /= base                     # <= |P|^{1/p}: the power below cannot overflow
                tmp **= p - 1.0
                tmp *= np.sign(xo)
                tmp *= c
                yield a, b, tmp.astype(self.dtype)
