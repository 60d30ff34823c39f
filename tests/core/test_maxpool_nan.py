"""Max pooling with NaN in a window: the NaN wins, as in PyTorch (the last NaN of the window in row-major
order, from its `if (val > maxval || isnan(val))` scan), so the gradient and the mask name the NaN."""

from __future__ import annotations

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.layers import MaxPool2D


def torch_like(x, k, s):
    """The PyTorch CPU scan, written out: (y, winner flat index within the window) per window."""
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    y = np.empty((N, C, Ho, Wo), x.dtype)
    arg = np.empty((N, C, Ho, Wo), np.int64)
    for n, c, i, j in np.ndindex(N, C, Ho, Wo):
        best, where = -np.inf, 0
        for t in range(k * k):
            v = x[n, c, i * s + t // k, j * s + t % k]
            if v > best or np.isnan(v):
                best, where = v, t
        y[n, c, i, j], arg[n, c, i, j] = best, where
    return y, arg


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("k, stride", [(2, 2), (3, 2), (2, 1), (3, 3)])
def test_nan_wins_its_window_like_pytorch(dtype, k, stride):
    rng = np.random.default_rng(k * 10 + stride)
    x = rng.integers(0, 3, size=(2, 2, 7, 8)).astype(dtype)     # ties everywhere too
    x[rng.random(x.shape) < 0.15] = np.nan
    x[0, 0, :3, :3] = np.nan                                    # windows of several NaNs
    layer = MaxPool2D(kernel_size=k, stride=stride)
    layer.build((2, 7, 8), np.random.default_rng(0), np.dtype(dtype))
    y = layer.forward(x)
    ref_y, ref_arg = torch_like(x, k, stride)
    np.testing.assert_array_equal(y, ref_y)                     # NaN where the window holds one
    routing = np.asarray(layer.routing).reshape(*y.shape, k * k)
    assert np.all(routing.sum(axis=-1) == 1), "one winner per window"
    np.testing.assert_array_equal(routing.argmax(axis=-1), ref_arg)
    dout = rng.standard_normal(y.shape).astype(dtype)
    dx = layer.backward(dout)
    expected = np.zeros(x.shape, dtype)
    for n, c, i, j in np.ndindex(*y.shape):
        t = ref_arg[n, c, i, j]
        expected[n, c, i * stride + t // k, j * stride + t % k] += dout[n, c, i, j]
    # overlapping windows add in another order than this loop: equal up to rounding
    np.testing.assert_allclose(dx, expected, rtol=0, atol=16 * np.finfo(dtype).eps * np.abs(dout).max())


def test_the_nan_breakpoint_and_the_mask_name_the_nan_unit():
    x = np.ones((1, 1, 4, 4))
    x[0, 0, 0, 0] = np.nan                                      # first position of the first window
    layer = MaxPool2D(kernel_size=2)
    layer.build((1, 4, 4), np.random.default_rng(0), np.dtype(np.float64))
    layer.forward(x)
    mask = layer.mask[0, 0]
    assert mask[0, 0] == 1 and mask[1, 1] == 0                  # was: the window's last position
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 0, 0] == 1 and dx[0, 0, 1, 1] == 0


def test_step_record_mask_follows_the_nan():
    spec = {"input_shape": [1, 4, 4], "layers": [{"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
                                                 {"type": "dense", "out_features": 2}]}
    net = vc.Network.from_spec(spec, dtype=np.float64)

    class One:
        input_shape, n_classes = (1, 4, 4), 2
        x_train = np.ones((1, 1, 4, 4))
        x_train[0, 0, 2, 3] = np.nan
        y_train = np.array([0])
        source = {"name": "nan"}

    s = vc.Session(net, vc.SGD(net, lr=0.1), One())
    rec = s.step()
    assert np.isnan(rec.y[0, 0, 1, 1])
    for _ in range(6):
        s.step()
    back = s.records[-1]
    assert back.phase == "backward" and back.layer == 0
    assert back.mask[0, 0, 2, 3] == 1 and back.mask[0, 0, 3, 3] == 0
