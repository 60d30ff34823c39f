"""Sliding windows over NCHW arrays, and their adjoint: the one place both convolution and pooling use.

`windows` is im2col without the copy (a strided view); `scatter_windows` is
col2im: it adds each window's values back onto the positions they came from,
so overlapping windows (stride < kernel) add up, as the chain rule requires.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


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
