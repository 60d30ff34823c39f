"""The optimised layers against a naive reference written with explicit loops straight from MATH.md.

The reference functions below are the test oracle: slow, obvious, one formula per
line. Every vectorised layer must match them in float64 (tight) and float32
(looser) over strides, paddings, odd sizes, batches and channel counts, and must
keep the Layer contract (backward never mutates its argument nor the cache,
`params` are the live arrays, max pooling routes each window to its first winner).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.layers import AvgPool2D, Conv2D, Dense, Flatten, LpPool2D, MaxPool2D, ReLU, Sigmoid, Tanh

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}


# -- the reference: explicit loops, MATH.md §1, §3, §4 -------------------------------------------
def ref_conv_forward(x, Wt, b, stride, padding):
    """x_{l,i,j} = Σ_k Σ_p Σ_q h_{l,k,p,q} · y_{k, i·s+p−pad, j·s+q−pad} + b (tied b_l or untied b_{l,i,j})."""
    N, C, H, W = x.shape
    F, _, KH, KW = Wt.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    y = np.zeros((N, F, H_out, W_out))
    for s in range(N):
        for l in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    total = b[l] if b.ndim == 1 else b[l, i, j]
                    for k in range(C):
                        for p in range(KH):
                            for q in range(KW):
                                a, c = i * stride + p - padding, j * stride + q - padding
                                if 0 <= a < H and 0 <= c < W:
                                    total += Wt[l, k, p, q] * x[s, k, a, c]
                    y[s, l, i, j] = total
    return y


def ref_conv_backward(x, Wt, b, stride, padding, delta):
    """∂C/∂h_{l,k,p,q} = Σ_s Σ_{i,j} δ_{l,i,j} y_{k,i·s+p−pad,j·s+q−pad}; ∂C/∂b; ∂C/∂y_{k,a,b} = Σ δ h over (i,j,p,q) hitting (a,b)."""
    N, C, H, W = x.shape
    F, _, KH, KW = Wt.shape
    _, _, H_out, W_out = delta.shape
    dW = np.zeros(Wt.shape)
    dx = np.zeros(x.shape)
    for s in range(N):
        for l in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    for k in range(C):
                        for p in range(KH):
                            for q in range(KW):
                                a, c = i * stride + p - padding, j * stride + q - padding
                                if 0 <= a < H and 0 <= c < W:
                                    dW[l, k, p, q] += delta[s, l, i, j] * x[s, k, a, c]
                                    dx[s, k, a, c] += delta[s, l, i, j] * Wt[l, k, p, q]
    db = delta.sum(axis=(0, 2, 3)) if b.ndim == 1 else delta.sum(axis=0)
    return dx, dW, db


def ref_pool_forward(x, kind, k, stride, p=2.0):
    """max / average / Lp ((1/|P|) Σ |y|^p)^{1/p} over each k×k window, channel by channel."""
    N, C, H, W = x.shape
    H_out, W_out = (H - k) // stride + 1, (W - k) // stride + 1
    y = np.zeros((N, C, H_out, W_out))
    for s in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = [x[s, c, i * stride + a, j * stride + b] for a in range(k) for b in range(k)]
                    if kind == "max":
                        y[s, c, i, j] = max(window)
                    elif kind == "avg":
                        y[s, c, i, j] = sum(window) / len(window)
                    else:
                        y[s, c, i, j] = (sum(abs(v) ** p for v in window) / len(window)) ** (1.0 / p)
    return y


def ref_pool_local_grad(x, kind, k, stride, p=2.0):
    """∂y_ij/∂y_ab per window (N, C, H_out, W_out, k, k): max → 1 at the first arg-max in row-major order."""
    N, C, H, W = x.shape
    y = ref_pool_forward(x, kind, k, stride, p)
    _, _, H_out, W_out = y.shape
    g = np.zeros((N, C, H_out, W_out, k, k))
    for s in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    best = None
                    for a in range(k):
                        for b in range(k):
                            v = x[s, c, i * stride + a, j * stride + b]
                            if kind == "max":
                                if best is None or v > x[s, c, i * stride + best[0], j * stride + best[1]]:
                                    best = (a, b)
                            elif kind == "avg":
                                g[s, c, i, j, a, b] = 1.0 / (k * k)
                            elif y[s, c, i, j] > 0:
                                g[s, c, i, j, a, b] = (np.sign(v) * abs(v) ** (p - 1)
                                                       * y[s, c, i, j] ** (1 - p) / (k * k))
                    if kind == "max":
                        g[s, c, i, j, best[0], best[1]] = 1.0
    return g


def ref_pool_backward(x, kind, k, stride, dout, p=2.0):
    """∂C/∂y_ab = Σ over the windows ij containing ab of ∂C/∂y_ij · ∂y_ij/∂y_ab (overlaps add up)."""
    g = ref_pool_local_grad(x, kind, k, stride, p)
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for s in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    for a in range(k):
                        for b in range(k):
                            dx[s, c, i * stride + a, j * stride + b] += dout[s, c, i, j] * g[s, c, i, j, a, b]
    return dx


def ref_dense(x, Wt, b, dout):
    """y_j = Σ_i w_ji x_i + b_j;  ∂C/∂w_ji = Σ_s dout_j x_i;  ∂C/∂b_j = Σ_s dout_j;  ∂C/∂x_i = Σ_j w_ji dout_j."""
    N, D = x.shape
    K = Wt.shape[0]
    y, dW, db, dx = np.zeros((N, K)), np.zeros(Wt.shape), np.zeros(K), np.zeros(x.shape)
    for s in range(N):
        for j in range(K):
            y[s, j] = b[j] + sum(Wt[j, i] * x[s, i] for i in range(D))
            db[j] += dout[s, j]
            for i in range(D):
                dW[j, i] += dout[s, j] * x[s, i]
                dx[s, i] += Wt[j, i] * dout[s, j]
    return y, dx, dW, db


def ref_softmax_ce(logits, labels, reduction):
    """C = −Σ_s log p_{label}, p_j = exp(x_j − max x) / Σ_k exp(x_k − max x);  ∂C/∂x_j = p_j − d_j (÷ N for the mean)."""
    N, K = logits.shape
    loss, dx = 0.0, np.zeros((N, K))
    for s in range(N):
        m = max(logits[s])
        z = sum(math.exp(v - m) for v in logits[s])
        loss -= (logits[s, labels[s]] - m) - math.log(z)
        for j in range(K):
            dx[s, j] = math.exp(logits[s, j] - m) / z - (1.0 if j == labels[s] else 0.0)
    if reduction == "mean":
        return loss / N, dx / N
    return loss, dx


# -- helpers ---------------------------------------------------------------------------------------
def conv(out_channels, kernel_size, stride=1, padding=0, bias="tied"):
    """A Conv2D with every option given (the spec fills these defaults; a bare layer does not)."""
    return Conv2D(out_channels=out_channels, kernel_size=kernel_size, stride=stride, padding=padding, bias=bias)


def built(layer, input_shape, dtype, seed=0):
    layer.build(input_shape, np.random.default_rng(seed), np.dtype(dtype))
    return layer


def randn(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def close(actual, expected, dtype):
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, **TOL[dtype])


DTYPES = [np.float64, np.float32]


# -- convolution -----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", ["tied", "untied"])
@pytest.mark.parametrize("C, F, H, W, k, stride, padding", [
    (1, 2, 7, 9, 3, 1, 0),
    (1, 3, 8, 7, 3, 2, 1),
    (3, 2, 7, 7, 3, 1, 2),
    (2, 4, 9, 8, 3, 2, 0),
    (3, 2, 6, 9, 2, 2, 1),
    (2, 3, 5, 6, 5, 1, 2),
    (1, 6, 12, 12, 5, 1, 0),
    (4, 2, 5, 5, 1, 1, 0),
    (2, 2, 10, 11, 3, 3, 2),
])
def test_conv_matches_reference(dtype, bias, C, F, H, W, k, stride, padding):
    rng = np.random.default_rng(C * 100 + H * 10 + k + stride)
    layer = built(conv(F, k, stride, padding, bias), (C, H, W), dtype)
    layer.params["b"][...] = randn(rng, layer.params["b"].shape, dtype)
    x = randn(rng, (3, C, H, W), dtype)
    Wt, b = layer.params["W"].astype(np.float64), layer.params["b"].astype(np.float64)
    y = layer.forward(x)
    assert y.shape == (3, *layer.output_shape) and y.dtype == dtype
    close(y, ref_conv_forward(x.astype(np.float64), Wt, b, stride, padding), dtype)
    dout = randn(rng, y.shape, dtype)
    dx = layer.backward(dout)
    assert dx.shape == x.shape and dx.dtype == dtype
    rdx, rdW, rdb = ref_conv_backward(x.astype(np.float64), Wt, b, stride, padding, dout.astype(np.float64))
    close(dx, rdx, dtype)
    close(layer.grads["W"], rdW, dtype)
    close(layer.grads["b"], rdb, dtype)


@pytest.mark.parametrize("N", [1, 3, 5])
def test_conv_batch_sizes_change_between_calls(N):
    """Internal work buffers follow the batch size: a small batch after a large one still matches."""
    rng = np.random.default_rng(N)
    layer = built(conv(3, 3, padding=1), (2, 6, 7), np.float64)
    for n in (4, N, 2):
        x = randn(rng, (n, 2, 6, 7), np.float64)
        close(layer.forward(x), ref_conv_forward(x, layer.params["W"], layer.params["b"], 1, 1), np.float64)
        dout = randn(rng, (n, 3, 6, 7), np.float64)
        rdx, rdW, _ = ref_conv_backward(x, layer.params["W"], layer.params["b"], 1, 1, dout)
        close(layer.backward(dout), rdx, np.float64)
        close(layer.grads["W"], rdW, np.float64)


# -- pooling ---------------------------------------------------------------------------------------
POOLS = [("max", MaxPool2D, {}), ("avg", AvgPool2D, {}),
         ("lp", LpPool2D, {"p": 1}), ("lp", LpPool2D, {"p": 2}), ("lp", LpPool2D, {"p": 3.5})]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind, cls, extra", POOLS, ids=["max", "avg", "lp1", "lp2", "lp3.5"])
@pytest.mark.parametrize("C, H, W, k, stride", [
    (1, 6, 6, 2, 2),
    (3, 7, 9, 2, 2),      # odd sizes: trailing rows/columns fall in no window
    (2, 7, 7, 3, 2),      # overlapping windows (stride < kernel)
    (2, 6, 5, 3, 1),
    (1, 9, 8, 3, 3),
    (2, 8, 8, 2, 1),
    (3, 7, 8, 3, 4),      # gaps between windows (stride > kernel)
])
def test_pool_matches_reference(dtype, kind, cls, extra, C, H, W, k, stride):
    rng = np.random.default_rng(H * 10 + k + stride)
    layer = built(cls(kernel_size=k, stride=stride, **extra), (C, H, W), dtype)
    x = randn(rng, (3, C, H, W), dtype)
    p = float(extra.get("p", 2.0))
    y = layer.forward(x)
    close(y, ref_pool_forward(x.astype(np.float64), kind, k, stride, p), dtype)
    dout = randn(rng, y.shape, dtype)
    dx = layer.backward(dout)
    assert dx.shape == x.shape and dx.dtype == dtype
    close(dx, ref_pool_backward(x.astype(np.float64), kind, k, stride, dout.astype(np.float64), p), dtype)
    close(layer.routing, ref_pool_local_grad(x.astype(np.float64), kind, k, stride, p), dtype)


def test_lp_pool_zero_window_has_zero_gradient():
    layer = built(LpPool2D(kernel_size=2, p=3), (1, 4, 4), np.float64)
    x = np.random.default_rng(0).standard_normal((2, 1, 4, 4))
    x[0, 0, :2, :2] = 0.0
    y = layer.forward(x)
    assert y[0, 0, 0, 0] == 0.0
    dx = layer.backward(np.ones_like(y))
    assert np.all(np.isfinite(dx)) and np.all(dx[0, 0, :2, :2] == 0.0)
    close(dx, ref_pool_backward(x, "lp", 2, 2, np.ones(y.shape), 3.0), np.float64)


@pytest.mark.parametrize("k, stride", [(2, 2), (3, 2), (2, 1), (3, 3)])
def test_max_pool_ties_go_to_first_in_row_major_order(k, stride):
    # small integers: nearly every window has ties
    x = np.random.default_rng(k + stride).integers(0, 3, size=(3, 2, 7, 8)).astype(np.float64)
    x[0, 0] = 1.0                                       # a whole channel of ties
    layer = built(MaxPool2D(kernel_size=k, stride=stride), (2, 7, 8), np.float64)
    y = layer.forward(x)
    routing = layer.routing
    assert routing.shape == (*y.shape, k, k) and not routing.flags.writeable
    assert set(np.unique(routing)) <= {0.0, 1.0}
    np.testing.assert_array_equal(routing.sum(axis=(-2, -1)), 1.0)                # one winner per window
    np.testing.assert_array_equal(routing, ref_pool_local_grad(x, "max", k, stride))
    assert np.all(routing[0, 0, :, :, 0, 0] == 1.0)                                # all tied: first wins
    # the mask counts how many windows each input won
    expected = np.zeros(x.shape)
    for s, c, i, j, a, b in zip(*np.nonzero(routing)):
        expected[s, c, i * stride + a, j * stride + b] += 1
    np.testing.assert_array_equal(layer.mask, expected)
    dout = np.random.default_rng(1).standard_normal(y.shape)
    close(layer.backward(dout), ref_pool_backward(x, "max", k, stride, dout), np.float64)


def test_max_pool_routing_and_mask_follow_the_latest_forward():
    layer = built(MaxPool2D(kernel_size=2), (1, 4, 4), np.float64)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1, 4, 4)), rng.standard_normal((2, 1, 4, 4))
    layer.forward(a)
    _ = layer.mask
    layer.forward(b)
    np.testing.assert_array_equal(layer.routing, ref_pool_local_grad(b, "max", 2, 2))
    assert layer.mask.sum() == 2 * 4


# -- dense, activations, loss ----------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("in_shape, out", [((7,), 3), ((2, 3, 3), 5), ((1,), 1)])
def test_dense_matches_reference(dtype, in_shape, out):
    rng = np.random.default_rng(out)
    layer = built(Dense(out_features=out), in_shape, dtype)
    layer.params["b"][...] = randn(rng, (out,), dtype)
    x = randn(rng, (4, *in_shape), dtype)
    dout = randn(rng, (4, out), dtype)
    y = layer.forward(x)
    dx = layer.backward(dout)
    ry, rdx, rdW, rdb = ref_dense(x.reshape(4, -1).astype(np.float64), layer.params["W"].astype(np.float64),
                                  layer.params["b"].astype(np.float64), dout.astype(np.float64))
    close(y, ry, dtype)
    close(dx, rdx.reshape(x.shape), dtype)
    close(layer.grads["W"], rdW, dtype)
    close(layer.grads["b"], rdb, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls, f, df", [
    (Sigmoid, lambda x: 1 / (1 + np.exp(-x)), lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    (ReLU, lambda x: np.maximum(x, 0), lambda x: (x > 0).astype(float)),
    (Tanh, np.tanh, lambda x: 1 - np.tanh(x) ** 2),
])
def test_activations_match_their_formula(dtype, cls, f, df):
    rng = np.random.default_rng(0)
    layer = built(cls(), (2, 5, 3), dtype)
    x = randn(rng, (3, 2, 5, 3), dtype) * 4
    dout = randn(rng, x.shape, dtype)
    x64 = x.astype(np.float64)
    close(layer.forward(x), f(x64), dtype)
    close(layer.backward(dout), dout * df(x64), dtype)


def test_sigmoid_never_overflows():
    layer = built(Sigmoid(), (4,), np.float32)
    with np.errstate(all="raise"):
        y = layer.forward(np.array([[-1e4, -50.0, 50.0, 1e4]], dtype=np.float32))
    # σ(−50) = 1.9e-22 is a float32 number: it must not be rounded to 0 (σ(−1e4) is below every float32)
    np.testing.assert_allclose(y, [[0.0, 1.9287498e-22, 1.0, 1.0]], rtol=2e-7, atol=0)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_cross_entropy_matches_reference(reduction, dtype):
    rng = np.random.default_rng(1)
    logits = randn(rng, (5, 4), dtype) * 3
    logits[0] = [1e4, -1e4, 0, 1]                      # log-sum-exp must keep this finite
    labels = np.array([0, 3, 1, 2, 3])
    loss_fn = vc.SoftmaxCrossEntropy(reduction=reduction)
    loss = loss_fn.forward(logits, labels)
    dx = loss_fn.backward()
    rloss, rdx = ref_softmax_ce(logits.astype(np.float64), labels, reduction)
    assert loss == pytest.approx(rloss, rel=1e-10 if dtype == np.float64 else 1e-5)
    close(dx, rdx, dtype)


# -- the Layer contract ----------------------------------------------------------------------------
def contract_layers():
    return [
        ("conv", lambda: conv(3, 3, stride=2, padding=1), (2, 7, 6)),
        ("conv1", lambda: conv(4, 3), (1, 6, 7)),
        ("conv-untied", lambda: conv(2, 2, bias="untied"), (3, 5, 5)),
        ("maxpool", lambda: MaxPool2D(kernel_size=2), (2, 6, 6)),
        ("maxpool-overlap", lambda: MaxPool2D(kernel_size=3, stride=1), (2, 5, 6)),
        ("avgpool", lambda: AvgPool2D(kernel_size=3, stride=2), (2, 7, 7)),
        ("lppool", lambda: LpPool2D(kernel_size=2, p=3.5), (2, 6, 6)),
        ("sigmoid", Sigmoid, (2, 4, 4)),
        ("relu", ReLU, (2, 4, 4)),
        ("tanh", Tanh, (2, 4, 4)),
        ("flatten", Flatten, (2, 3, 3)),
        ("dense", lambda: Dense(out_features=4), (2, 3, 3)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, make, shape", contract_layers(), ids=[c[0] for c in contract_layers()])
def test_backward_never_mutates_its_argument_nor_the_cache(dtype, name, make, shape):
    rng = np.random.default_rng(0)
    layer = built(make(), shape, dtype)
    x = randn(rng, (3, *shape), dtype)
    x_before = x.copy()
    y = layer.forward(x)
    np.testing.assert_array_equal(x, x_before)                      # forward leaves its input alone
    y_before, cached_x, cached_y = y.copy(), layer.x.copy(), layer.y.copy()
    dout = randn(rng, y.shape, dtype)
    dout_before = dout.copy()
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dout, dout_before)
    np.testing.assert_array_equal(layer.x, cached_x)
    np.testing.assert_array_equal(layer.y, cached_y)
    np.testing.assert_array_equal(y, y_before)
    # the gradient handed down is a fresh array: a second backward does not overwrite it
    kept = dx.copy()
    layer.backward(randn(rng, y.shape, dtype))
    np.testing.assert_array_equal(dx, kept)


@pytest.mark.parametrize("name, make, shape", contract_layers(), ids=[c[0] for c in contract_layers()])
def test_layers_take_non_contiguous_inputs(name, make, shape):
    """Arrays may arrive as views with any strides (e.g. another layer's channel-major output)."""
    rng = np.random.default_rng(2)
    a, b = built(make(), shape, np.float64), built(make(), shape, np.float64)
    for k in a.params:
        b.params[k][...] = a.params[k]
    x = randn(rng, (3, *shape), np.float64)
    x_strided = np.asfortranarray(x)
    y_a, y_b = a.forward(x).copy(), b.forward(x_strided)
    close(y_b, y_a, np.float64)
    dout = randn(rng, y_a.shape, np.float64)
    close(b.backward(np.asfortranarray(dout)), a.backward(dout), np.float64)
    for k in a.grads:
        close(b.grads[k], a.grads[k], np.float64)


@pytest.mark.parametrize("name, make, shape",
                         [c for c in contract_layers() if c[0] in ("conv", "conv1", "conv-untied", "dense")],
                         ids=["conv", "conv1", "conv-untied", "dense"])
def test_params_are_the_live_arrays(name, make, shape):
    rng = np.random.default_rng(3)
    layer = built(make(), shape, np.float64)
    x = randn(rng, (2, *shape), np.float64)
    before = layer.forward(x).copy()
    layer.params["W"][...] *= 2.0
    layer.params["b"][...] += 1.0
    after = layer.forward(x)
    assert not np.allclose(after, before)
    W = layer.params["W"]
    if isinstance(layer, Conv2D):
        expected = ref_conv_forward(x, W, layer.params["b"], layer.options["stride"], layer.options["padding"])
    else:
        expected = x.reshape(2, -1) @ W.T + layer.params["b"]
    close(after, expected, np.float64)


# -- the whole stack under the numeric gradient check ----------------------------------------------
@pytest.mark.parametrize("pool", [
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "maxpool2d", "kernel_size": 3, "stride": 2},
    {"type": "avgpool2d", "kernel_size": 2, "stride": 1},
    {"type": "lppool2d", "kernel_size": 2, "p": 3.5},
])
def test_gradcheck_through_every_optimised_layer(pool):
    spec = {
        "input_shape": [2, 9, 8],
        "layers": [
            {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "stride": 1, "padding": 1},
            {"type": "sigmoid"},
            pool,
            {"type": "conv2d", "out_channels": 4, "kernel_size": 2, "stride": 2, "padding": 1, "bias": "untied"},
            {"type": "tanh"},
            {"type": "flatten"},
            {"type": "dense", "out_features": 5},
            {"type": "relu"},
            {"type": "dense", "out_features": 3},
        ],
        "loss": {"type": "softmax_cross_entropy", "reduction": "mean"},
    }
    net = vc.Network.from_spec(spec, dtype=np.float64, seed=1)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 2, 9, 8))
    report = vc.gradcheck(net, x, [0, 2, 1], tol=1e-6)
    assert report.passed, report.table()


def test_lenet_float32_matches_float64():
    """The benchmark's network: a float32 step agrees with the float64 one."""
    spec = {"input_shape": [1, 28, 28], "layers": [
        {"type": "conv2d", "out_channels": 6, "kernel_size": 5}, {"type": "sigmoid"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "conv2d", "out_channels": 16, "kernel_size": 5}, {"type": "sigmoid"},
        {"type": "maxpool2d", "kernel_size": 2},
        {"type": "flatten"}, {"type": "dense", "out_features": 120}, {"type": "sigmoid"},
        {"type": "dense", "out_features": 10}]}
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 1, 28, 28))
    labels = rng.integers(0, 10, size=6)
    nets = {dt: vc.Network.from_spec(spec, dtype=dt, seed=0) for dt in DTYPES}
    out = {}
    for dt, net in nets.items():
        logits = net.forward(x)
        net.loss(logits, labels)
        dx = net.backward()
        out[dt] = (logits.copy(), dx.copy(), [{k: g.copy() for k, g in layer.grads.items()} for layer in net.layers])
    close(out[np.float32][0], out[np.float64][0], np.float32)
    scale = np.abs(out[np.float64][1]).max()
    np.testing.assert_allclose(out[np.float32][1], out[np.float64][1], rtol=1e-3, atol=1e-4 * scale)
    for g32, g64 in zip(out[np.float32][2], out[np.float64][2]):
        for k in g64:
            np.testing.assert_allclose(g32[k], g64[k], rtol=1e-3, atol=1e-4 * np.abs(g64[k]).max())
