"""Lp pooling at the extremes: |x| from 1e-30 to 1e30, p from 1 to 1000, both forms, both dtypes,
against an mpmath reference computed on the very same (float32 or float64) inputs."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

import visualcnn as vc
from visualcnn.errors import SpecError
from visualcnn.gradcheck import gradcheck_layer
from visualcnn.layers import LpPool2D

PS = (1, 1.5, 2, 3, 7.5, 16, 32, 100, 333, 1000)
# worst relative error allowed against the exact value. y is computed in float64 and rounded once
# (measured: float32 <= 5.7e-8, float64 <= 4.3e-16). The gradient's base |x|/y is raised to p − 1,
# which multiplies its few-ulp float64 error by p − 1, the condition number of |x|^{p−1} itself
# (measured: float32 <= 5.8e-8 at every p; float64 1.9e-13 at p = 1000).
Y_RTOL = {np.float32: 1.2e-7, np.float64: 1e-15}
GRAD_RTOL = {np.float32: 1.2e-7, np.float64: 1e-15}
GRAD_RTOL_PER_P = {np.float32: 0.0, np.float64: 3e-16}


def pool_layer(p, norm, dtype, k=3):
    layer = LpPool2D(kernel_size=k, p=p, norm=norm)
    layer.build((1, k, k), np.random.default_rng(0), np.dtype(dtype))
    return layer


def extreme_windows(dtype, n=48, k=3, seed=0):
    """(n, 1, k, k) windows: magnitudes 10^[-30, 30] with spreads inside a window from none to 60 decades,
    random signs, some zeros, some windows of equal values (the issue's cases)."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, 1, k, k))
    for w in range(n):
        spread = (0.0, 0.3, 3.0, 12.0, 60.0)[w % 5]
        hi = rng.uniform(-30 + spread, 30)
        logs = rng.uniform(hi - spread, hi, size=(k, k))
        x[w, 0] = 10.0 ** logs * rng.choice([-1.0, 1.0], size=(k, k))
    x[3, 0, 1, 1] = 0.0
    x[7, 0, :2] = 0.0
    x[11, 0] = 10.0 ** rng.uniform(-30, 30)           # all equal: every weight is exactly c
    x[13, 0] = 0.0                                      # all zero: y = 0, gradient 0
    return x.astype(dtype)


def reference(x, p, norm):
    """Exact (50 digits) y (n,) and ∂y/∂x (n, k, k) of each window of x (n, 1, k, k)."""
    mpmath.mp.dps = 50
    p = mpmath.mpf(p)
    n, _, k, _ = x.shape
    c = mpmath.mpf(1) / (k * k) if norm == "mean" else mpmath.mpf(1)
    y = np.zeros(n)
    g = np.zeros((n, k, k))
    for w in range(n):
        vals = [mpmath.mpf(float(v)) for v in x[w, 0].ravel()]
        yw = (c * mpmath.fsum(abs(v) ** p for v in vals)) ** (1 / p)
        y[w] = float(yw)
        if yw == 0:
            continue
        g[w] = np.array([float(c * mpmath.sign(v) * (abs(v) / yw) ** (p - 1)) for v in vals]).reshape(k, k)
    return y, g


def rel_err(got, ref, dtype):
    """Relative error, where the exact value is a normal number of `dtype` (below that: absolute, in units
    of the smallest normal, which must stay <= 1)."""
    tiny = np.finfo(dtype).tiny
    got, ref = np.asarray(got, np.float64), np.asarray(ref, np.float64)
    normal = np.abs(ref) >= tiny
    err = np.abs(got - ref)
    err[normal] /= np.abs(ref[normal])
    err[~normal] /= tiny
    return err


def worst_errors(dtype, norm, p):
    x = extreme_windows(dtype, seed=int(p * 10) + (norm == "sum"))
    layer = pool_layer(p, norm, dtype)
    with np.errstate(all="raise"):                     # no overflow, underflow to 0 is fine below
        y = layer.forward(x)
    ry, rg = reference(x, p, norm)
    with np.errstate(all="raise", under="ignore"):
        g = layer.routing[:, 0, 0, 0]
    assert y.dtype == dtype and g.dtype == dtype
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    return rel_err(y[:, 0, 0, 0], ry, dtype).max(), rel_err(g, rg, dtype).max()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm", ["mean", "sum"])
@pytest.mark.parametrize("p", PS)
def test_lp_pool_is_exact_over_the_whole_range(dtype, norm, p):
    ey, eg = worst_errors(dtype, norm, p)
    assert ey <= Y_RTOL[dtype], f"y: worst relative error {ey:.3g}"
    assert eg <= GRAD_RTOL[dtype] + GRAD_RTOL_PER_P[dtype] * p, f"∂y/∂x: worst relative error {eg:.3g}"


@pytest.mark.parametrize("dtype, p, value, y, grad", [
    (np.float32, 32, 0.05, 0.05, 0.25),         # was: y right, gradient inf
    (np.float32, 16, 1e-3, 1e-3, 0.25),         # was: 0 and 0
    (np.float32, 16, 300.0, 300.0, 0.25),       # was: inf
    (np.float64, 100, 5e-4, 5e-4, 0.25),        # was: 0
    (np.float64, 1000, 1e300, 1e300, 0.25),
    (np.float32, 1000, 1e-38, 1e-38, 0.25),
])
def test_lp_pool_equal_window_cases_from_the_issue(dtype, p, value, y, grad):
    layer = LpPool2D(kernel_size=2, p=p)
    layer.build((1, 2, 2), np.random.default_rng(0), np.dtype(dtype))
    x = np.full((1, 1, 2, 2), value, dtype=dtype)
    out = layer.forward(x)
    np.testing.assert_allclose(out, dtype(y), rtol=np.finfo(dtype).eps)
    dx = layer.backward(np.ones_like(out))
    np.testing.assert_allclose(dx, grad, rtol=4 * np.finfo(dtype).eps)


def test_sum_form_is_the_mean_form_times_P_to_the_1_over_p():
    x = np.random.default_rng(1).normal(size=(2, 3, 6, 6))
    mean, total = pool_layer(3.0, "mean", np.float64, k=2), pool_layer(3.0, "sum", np.float64, k=2)
    for lay in (mean, total):
        lay.build((3, 6, 6), np.random.default_rng(0), np.dtype(np.float64))
    np.testing.assert_allclose(total.forward(x), mean.forward(x) * 4 ** (1 / 3), rtol=1e-14)
    # the sum form's weights are |P| times the mean form's at the same y ratio: both checked numerically
    report = gradcheck_layer(total, x)
    assert report.passed, report.table()


@pytest.mark.parametrize("norm", ["mean", "sum"])
@pytest.mark.parametrize("p", [1, 2.5, 7, 32])
@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 2), (2, 1)])
def test_lp_pool_gradient_check_in_a_network(norm, p, kernel, stride):
    spec = {"input_shape": [2, 7, 7], "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}, "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 2},
        {"type": "lppool2d", "kernel_size": kernel, "stride": stride, "p": p, "norm": norm},
        {"type": "flatten"}, {"type": "dense", "out_features": 3}]}
    net = vc.Network.from_spec(spec, dtype=np.float64, seed=0)
    rng = np.random.default_rng(100)
    report = vc.gradcheck(net, rng.normal(size=(3, 2, 7, 7)), rng.integers(0, 3, 3), tol=1e-6)
    assert report.passed, report.table()


def test_norm_is_saved_in_the_spec_and_defaults_to_mean():
    spec = {"input_shape": [1, 4, 4], "layers": [{"type": "lppool2d", "kernel_size": 2}, {"type": "flatten"},
                                                 {"type": "dense", "out_features": 2}]}
    net = vc.Network.from_spec(spec)
    assert net.to_spec()["layers"][0]["norm"] == "mean"
    spec["layers"][0]["norm"] = "sum"
    assert vc.Network.from_spec(spec).to_spec()["layers"][0]["norm"] == "sum"


@pytest.mark.parametrize("entry, fragment", [
    ({"p": float("inf")}, "p must be int or number from 1 to 1000"),
    ({"p": 1001}, "got 1001"),
    ({"p": 0.5}, "p must be >= 1"),
    ({"p": float("nan")}, "NaN"),
    ({"norm": "max"}, "norm must be one of 'mean' | 'sum', got 'max'"),
])
def test_lp_pool_refuses_p_outside_1_to_1000_and_unknown_norms(entry, fragment):
    spec = {"input_shape": [1, 4, 4], "layers": [{"type": "lppool2d", "kernel_size": 2, **entry}]}
    with pytest.raises(SpecError) as e:
        vc.Network.from_spec(spec)
    assert "layer 0 lppool2d" in str(e.value) and fragment in str(e.value)


def test_p_max_is_accepted_and_the_spec_field_states_the_range():
    from visualcnn.layers.pool import P_MAX
    assert P_MAX == 1000
    field = LpPool2D.fields["p"]
    assert (field.minimum, field.maximum) == (1, P_MAX)
    spec = {"input_shape": [1, 4, 4], "layers": [{"type": "lppool2d", "kernel_size": 2, "p": P_MAX},
                                                 {"type": "flatten"}, {"type": "dense", "out_features": 2}]}
    assert vc.Network.from_spec(spec).layers[0].options["p"] == P_MAX
