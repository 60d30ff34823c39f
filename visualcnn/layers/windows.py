"""Sliding windows over NCHW arrays, and their adjoint: the one place both convolution and pooling use.

`windows` is im2col without the copy (a strided view); `scatter_windows` is
col2im: it adds each window's values back onto the positions they came from,
so overlapping windows (stride < kernel) add up, as the chain rule requires.

The fast paths keep arrays "channel-major": shaped (N, C, H, W) as everywhere,
but laid out in memory as (C, N, H, W), so one channel of the whole batch is one
contiguous block (`channel_major`). `row_windows` is the stride-1 im2col of the
convolution: with windows read along whole input rows, each (channel, kernel
offset) row of the column matrix is one contiguous slice per sample.
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


def channel_major(shape: tuple[int, ...], dtype: np.dtype, zero: bool = False) -> np.ndarray:
    """A new (N, C, ...) array laid out in memory as (C, N, ...)."""
    N, C, *rest = shape
    alloc = np.zeros if zero else np.empty
    return alloc((C, N, *rest), dtype).swapaxes(0, 1)


def row_windows(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    """Stride-1 windows of x (N, C, H, W) read along whole rows: a read-only view (C, KH, KW, N, L).

    Entry [c, p, q, n, i·W + j] is x[n, c, i + p, j + q] for the output position (i, j): each row
    of W holds W_out real positions and kw − 1 that wrap into the next input row (garbage the
    callers never expose). L = (H_out − 1)·W + W_out stops at the last real position, so the
    view never reads past the image. Needs each image C-contiguous (rows of W, then H).
    """
    N, C, H, W = x.shape
    isz = x.itemsize
    if x.strides[2:] != (W * isz, isz):
        raise ValueError("row_windows needs C-contiguous images")
    L = (H - kh) * W + (W - kw + 1)
    return as_strided(x, shape=(C, kh, kw, N, L),
                      strides=(x.strides[1], W * isz, isz, x.strides[0], isz), writeable=False)
