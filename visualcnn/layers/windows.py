"""Sliding windows over NCHW arrays, and their adjoint: the one place both convolution and pooling use.

`windows` is im2col without the copy (a strided view); `scatter_windows` is
col2im: it adds each window's values back onto the positions they came from,
so overlapping windows (stride < kernel) add up, as the chain rule requires.

Convolution and pooling keep their arrays "batch-last": shaped (N, C, H, W) as
everywhere, but laid out in memory as (C, H, W, N) (`batch_last`), so a shift by
a kernel offset moves whole contiguous runs of samples: im2col (`conv_windows`)
and col2im become copies and adds of long contiguous rows, with no padding
columns, and one GEMM covers the batch (a 1-channel conv too).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view


def output_size(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """Windows along one axis: floor((size + 2*padding - kernel) / stride) + 1 (as PyTorch)."""
    return (size + 2 * padding - kernel) // stride + 1


def uncovered(size: int, kernel: int, stride: int, padding: int = 0) -> int:
    """How many trailing (padded) positions along one axis no window reaches because the output size is floored."""
    n_out = output_size(size, kernel, stride, padding)
    return size + 2 * padding - ((n_out - 1) * stride + kernel)


def windows(x: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Read-only strided view of every kh×kw window of x (N, C, H, W) -> (N, C, H_out, W_out, KH, KW)."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


def scatter_windows(dwin: np.ndarray, shape: tuple[int, ...], stride: int) -> np.ndarray:
    """Adjoint of `windows`: sum dwin (N, C, H_out, W_out, KH, KW) back into an array of `shape` (N, C, H, W)."""
    N, C, H_out, W_out, KH, KW = dwin.shape
    out = np.zeros(shape, dtype=dwin.dtype)
    h_span = stride * (H_out - 1) + 1
    w_span = stride * (W_out - 1) + 1
    # a loop over the KH×KW kernel offsets only; each adds one strided slab at once
    for p in range(KH):
        for q in range(KW):
            out[:, :, p:p + h_span:stride, q:q + w_span:stride] += dwin[:, :, :, :, p, q]
    return out


def pad(x: np.ndarray, padding: int) -> np.ndarray:
    """Zero-pad the two spatial axes of x (N, C, H, W)."""
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))



def _batch_first(a: np.ndarray) -> np.ndarray:
    """View of a (..., N) as (N, ...): a transpose (np.moveaxis's argument checks cost ~3 µs a call)."""
    return a.transpose(a.ndim - 1, *range(a.ndim - 1))


def batch_last(shape: tuple[int, ...], dtype: np.dtype, zero: bool = False) -> np.ndarray:
    """A new (N, C, H, W) array laid out in memory as (C, H, W, N): the batch is the innermost axis."""
    N, *rest = shape
    alloc = np.zeros if zero else np.empty
    return _batch_first(alloc((*rest, N), dtype))


def conv_windows(xt: np.ndarray, kh: int, kw: int, stride: int) -> np.ndarray:
    """Read-only strided view (C, KH, KW, H_out, W_out, N) of every window of xt (C, H, W, N).

    Entry [c, p, q, i, j, n] is xt[c, i·s + p, j·s + q, n]: with the batch innermost, a copy of
    this view moves runs of N (W_out·N at stride 1) contiguous values at a time.
    """
    C, H, W, N = xt.shape
    sc, sh, sw, sn = xt.strides
    shape = (C, kh, kw, output_size(H, kh, stride), output_size(W, kw, stride), N)
    strides = (sc, sh, sw, stride * sh, stride * sw, sn)
    if xt.flags.c_contiguous:       # a view on the same buffer: as_strided's Python layers cost ~3 µs a call
        view = np.ndarray(shape, xt.dtype, buffer=xt, strides=strides)
        view.flags.writeable = False
        return view
    return as_strided(xt, shape=shape, strides=strides, writeable=False)


def as_batch_last(a: np.ndarray) -> np.ndarray:
    """a (N, ...) itself if it is batch-last in memory, else a batch-last copy (mixed layouts make every pass strided)."""
    moved = a.transpose(*range(1, a.ndim), 0)
    return a if moved.flags.c_contiguous else _batch_first(np.ascontiguousarray(moved))
