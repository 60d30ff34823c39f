"""Sigmoid to a few ulps over the whole range (issue 11, item 6), against a 40-digit mpmath reference.

float64: relative error <= 1e-12 for y and ∂y/∂x over x in [−700, 700] (measured: 3.8e-16 and 5.8e-16);
float32: to its own precision, <= 4 ulps, wherever the exact value is a normal float32 (measured: 2.3e-7
and 3.3e-7, i.e. 1.9 and 2.8 ulps), and within the smallest normal below that. No overflow or invalid-operation warning anywhere.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from visualcnn import mistakes as M
from visualcnn.layers import Sigmoid, Tanh

BOUND = {np.float64: 1e-12, np.float32: 4 * np.finfo(np.float32).eps}


def grid(dtype):
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-700, 700, 14001), rng.uniform(-700, 700, 3000), rng.uniform(-40, 40, 3000),
                        [-745.0, -38.0, -37.0, -18.0, -1e-30, 0.0, 1e-30, 18.0, 37.0, 38.0]])
    return x.astype(dtype)


def reference(x):
    """Exact σ(x) and σ'(x) = e^{−x}/(1 + e^{−x})², to 40 digits, for each (float) x."""
    mpmath.mp.dps = 40
    y, dy = np.empty(x.size), np.empty(x.size)
    for i, v in enumerate(x.astype(np.float64)):
        e = mpmath.exp(-mpmath.mpf(float(v)))
        y[i] = float(1 / (1 + e))
        dy[i] = float(e / (1 + e) ** 2)
    return y, dy


def rel_err(got, ref, dtype):
    """Relative error where the exact value is a normal number of dtype; below, the error in smallest normals."""
    tiny = np.finfo(dtype).tiny
    err = np.abs(got.astype(np.float64) - ref)
    normal = np.abs(ref) >= tiny
    err[normal] /= np.abs(ref[normal])
    err[~normal] /= tiny
    return err


def worst(dtype):
    x = grid(dtype)[None, :]
    layer = Sigmoid()
    layer.build((x.shape[1],), np.random.default_rng(0), np.dtype(dtype))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = layer.forward(x)
        dy = layer.backward(np.ones_like(x))
    assert y.dtype == dtype and dy.dtype == dtype
    ry, rdy = reference(x[0])
    return rel_err(y[0], ry, dtype).max(), rel_err(dy[0], rdy, dtype).max()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_and_its_derivative_are_exact_to_a_few_ulps(dtype):
    ey, edy = worst(dtype)
    assert ey <= BOUND[dtype], f"y: worst relative error {ey:.3g}"
    assert edy <= BOUND[dtype], f"y(1 − y): worst relative error {edy:.3g}"


@pytest.mark.parametrize("dtype, x", [
    (np.float64, -38.0),        # was 0 (exact: 3.1e-17)
    (np.float64, -37.0),        # was 35 % off
    (np.float64, -700.0),
    (np.float32, -18.0),        # was 0
    (np.float32, -87.0),
])
def test_the_issue_cases(dtype, x):
    expected = reference(np.array([x]))[0][0]       # σ(x) ≈ σ'(x) = σ(x)(1 − σ(x)) this far left
    layer = Sigmoid()
    layer.build((1,), np.random.default_rng(0), np.dtype(dtype))
    y = layer.forward(np.array([[x]], dtype))
    np.testing.assert_allclose(y, expected, rtol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(layer.backward(np.ones((1, 1), dtype)), expected, rtol=8 * np.finfo(dtype).eps)


def test_the_mistaken_sigmoid_is_the_mirror_image_and_keeps_its_wrong_sign():
    x = grid(np.float64)[None, :]
    right, wrong = Sigmoid(), M.SigmoidSign()
    for layer in (right, wrong):
        layer.build((x.shape[1],), np.random.default_rng(0), np.dtype(np.float64))
    np.testing.assert_array_equal(wrong.forward(x), right.forward(-x))           # 1/(1 + e^{x}) = σ(−x)
    # its backward keeps the note's y(1 − y): the magnitude of the true derivative, the sign lost
    np.testing.assert_array_equal(wrong.backward(np.ones_like(x)), right.backward(np.ones_like(x)))


def test_tanh_slope_keeps_its_precision_where_y_rounds_to_one():
    """The same sibling in tanh: 1 − y² was 0 for |x| > ~19 in float64 (exact 4e^{−2|x|})."""
    mpmath.mp.dps = 40
    for dtype in (np.float64, np.float32):
        x = np.concatenate([np.linspace(-350, 350, 7001), [-19.5, 19.5, 30.0]]).astype(dtype)[None, :]
        layer = Tanh()
        layer.build((x.shape[1],), np.random.default_rng(0), np.dtype(dtype))
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            layer.forward(x)
            dy = layer.backward(np.ones_like(x))[0]
        exact = np.array([float(1 / mpmath.cosh(mpmath.mpf(float(v))) ** 2) for v in x[0]])
        assert rel_err(dy, exact, dtype).max() <= BOUND[dtype]
