"""Softmax + cross-entropy against hand-computed values, and the study note's SGD rule by hand."""

import math
import subprocess
import sys

import numpy as np
import pytest

import visualcnn as vc


def test_softmax_cross_entropy_by_hand():
    logits = np.array([[1.0, 2.0, 0.5], [0.0, 0.0, 0.0]])
    labels = np.array([1, 2])
    e = np.exp([1.0, 2.0, 0.5])
    p0 = e / e.sum()
    expected_sum = -math.log(p0[1]) - math.log(1 / 3)
    ce = vc.SoftmaxCrossEntropy("sum")
    assert ce.forward(logits, labels) == pytest.approx(expected_sum, rel=1e-12)
    grad = ce.backward()
    # ∂C/∂x_j = p_j − d_j (the full Jacobian, not the note's diagonal-only term)
    np.testing.assert_allclose(grad[0], p0 - [0, 1, 0], rtol=1e-12)
    np.testing.assert_allclose(grad[1], [1 / 3, 1 / 3, -2 / 3], rtol=1e-12)
    mean = vc.SoftmaxCrossEntropy("mean")
    assert mean.forward(logits, labels) == pytest.approx(expected_sum / 2, rel=1e-12)
    np.testing.assert_allclose(mean.backward(), grad / 2, rtol=1e-12)
    assert ce.accuracy() == 0.5     # row 0 predicts class 1 (right); row 1 ties → class 0 (wrong)


def test_huge_logits_stay_finite():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    ce = vc.SoftmaxCrossEntropy("sum")
    loss = ce.forward(logits, [1, 0])
    assert math.isfinite(loss) and loss == pytest.approx(2e4 + math.log(3), rel=1e-12)
    assert np.all(np.isfinite(ce.backward()))
    np.testing.assert_allclose(vc.softmax(logits).sum(axis=1), 1.0)


def test_sigmoid_never_overflows():
    net = vc.Network.from_spec({"input_shape": [2], "layers": [
        {"type": "sigmoid"}, {"type": "dense", "out_features": 2}]}, dtype=np.float64)
    with np.errstate(all="raise"):
        net.forward(np.array([[1e4, -1e4]]))
    np.testing.assert_allclose(net.layers[0].y, [[1.0, 0.0]])


@pytest.mark.parametrize("bad,msg", [([0, 3], r"labels must lie in \[0, 2\]"), ([0], r"shape \(2,\)"),
                                     ([0.5, 1], "integer class indices")])
def test_bad_labels(bad, msg):
    with pytest.raises(vc.ShapeError, match=msg):
        vc.SoftmaxCrossEntropy().forward(np.zeros((2, 3)), bad)


def tiny_net():
    net = vc.Network.from_spec({"input_shape": [2], "layers": [{"type": "dense", "out_features": 2}]},
                               dtype=np.float64)
    net.layers[0].params["W"][...] = [[1.0, -2.0], [0.5, 0.25]]
    net.layers[0].params["b"][...] = [0.1, -0.2]
    return net


@pytest.mark.parametrize("decay_biases", [True, False])
def test_sgd_momentum_weight_decay_by_hand(decay_biases):
    net = tiny_net()
    lr, mom, wd = 0.1, 0.9, 0.01
    opt = vc.SGD(net, lr=lr, momentum=mom, weight_decay=wd, decay_biases=decay_biases)
    W, b = net.layers[0].params["W"], net.layers[0].params["b"]
    g1 = {"W": np.array([[0.2, -0.4], [1.0, 0.0]]), "b": np.array([0.3, -0.1])}
    g2 = {"W": np.array([[-0.1, 0.1], [0.5, 0.5]]), "b": np.array([0.0, 0.2])}
    w_hand, b_hand = W.copy(), b.copy()
    dw_prev, db_prev = np.zeros_like(W), np.zeros_like(b)
    for g in (g1, g2):
        for k in g:
            net.layers[0].grads[k][...] = g[k]
        # Δw^t = −ε ∂C/∂w + α Δw^{t−1} − ε λ w^t   (MATH.md §2); the same rule for biases
        dw = -lr * g["W"] + mom * dw_prev - lr * wd * w_hand
        db = -lr * g["b"] + mom * db_prev - (lr * wd * b_hand if decay_biases else 0)
        w_hand, b_hand, dw_prev, db_prev = w_hand + dw, b_hand + db, dw, db
        opt.step()
        np.testing.assert_allclose(W, w_hand, rtol=1e-14)
        np.testing.assert_allclose(b, b_hand, rtol=1e-14)
        np.testing.assert_allclose(opt.velocity[0]["W"], dw, rtol=1e-14)


@pytest.mark.parametrize("kwargs,msg", [({"lr": 0}, "learning rate must be > 0"),
                                        ({"lr": float("nan")}, "learning rate must be a finite number"),
                                        ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
                                        ({"weight_decay": -1}, "weight decay must be >= 0")])
def test_bad_hyper_parameters(kwargs, msg):
    with pytest.raises(vc.HyperParameterError, match=msg):
        vc.SGD(tiny_net(), **kwargs)


def test_training_lowers_the_loss():
    spec = {"input_shape": [1, 6, 6], "layers": [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "relu"},
        {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 2}]}
    net = vc.Network.from_spec(spec, seed=0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 1, 6, 6)).astype(np.float32)
    y = (x[:, 0, :3].mean(axis=(1, 2)) > x[:, 0, 3:].mean(axis=(1, 2))).astype(int)
    opt = vc.SGD(net, lr=0.1, momentum=0.9)
    first = net.loss(net.forward(x), y)
    for _ in range(60):
        net.loss(net.forward(x), y)
        net.backward()
        opt.step()
    assert net.loss(net.forward(x), y) < 0.3 * first


def test_core_never_imports_qt():
    code = ("import sys, visualcnn, visualcnn.session, visualcnn.gradcheck, visualcnn.data; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'ui', 'PySide6')]; "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
