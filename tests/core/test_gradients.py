"""Numeric gradient checks (MATH.md §5): every layer type and option, float64, relative error < 1e-6."""

import numpy as np
import pytest

import visualcnn as vc

TOL = 1e-6


def check(spec, x_shape, n_classes, seed=0, reduction="sum"):
    spec = {**spec, "loss": {"type": "softmax_cross_entropy", "reduction": reduction}}
    net = vc.Network.from_spec(spec, dtype=np.float64, seed=seed)
    rng = np.random.default_rng(seed + 100)
    x = rng.normal(size=x_shape)
    labels = rng.integers(0, n_classes, x_shape[0])
    report = vc.gradcheck(net, x, labels, tol=TOL)
    assert report.passed, "\n" + report.table()
    return report


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("bias", ["tied", "untied"])
def test_conv2d(stride, padding, bias):
    spec = {"input_shape": [2, 7, 6], "layers": [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "stride": stride, "padding": padding, "bias": bias},
        {"type": "flatten"}, {"type": "dense", "out_features": 4}]}
    report = check(spec, (3, 2, 7, 6), 4)
    names = {(r.layer, r.name) for r in report.results}
    assert {(0, "W"), (0, "b"), (0, "input")} <= names


def test_conv2d_single_input_channel_even_kernel():
    spec = {"input_shape": [1, 9, 9], "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 4, "stride": 2, "padding": 1},
        {"type": "flatten"}, {"type": "dense", "out_features": 3}]}
    check(spec, (3, 1, 9, 9), 3)


@pytest.mark.parametrize("kind,extra", [("maxpool2d", {}), ("avgpool2d", {}),
                                        ("lppool2d", {"p": 1}), ("lppool2d", {"p": 2}),
                                        ("lppool2d", {"p": 3.5})])
@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 2), (2, 1)])
def test_pooling(kind, extra, kernel, stride):
    pool = {"type": kind, "kernel_size": kernel, "stride": stride, **extra}
    spec = {"input_shape": [2, 7, 7], "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 2}, pool,
        {"type": "flatten"}, {"type": "dense", "out_features": 3}]}
    check(spec, (3, 2, 7, 7), 3)


@pytest.mark.parametrize("act", ["sigmoid", "relu", "tanh"])
def test_activations(act):
    spec = {"input_shape": [5], "layers": [
        {"type": "dense", "out_features": 6}, {"type": act}, {"type": "dense", "out_features": 3}]}
    check(spec, (4, 5), 3)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_whole_seed_note_network(reduction):
    spec = {"input_shape": [1, 10, 10], "layers": [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "bias": "untied"}, {"type": "sigmoid"},
        {"type": "lppool2d", "kernel_size": 2, "p": 2}, {"type": "conv2d", "out_channels": 2, "kernel_size": 2},
        {"type": "tanh"}, {"type": "maxpool2d", "kernel_size": 2, "stride": 1},
        {"type": "flatten"}, {"type": "dense", "out_features": 5}, {"type": "relu"},
        {"type": "dense", "out_features": 4}]}
    check(spec, (3, 1, 10, 10), 4, reduction=reduction)


def test_gradcheck_samples_large_tensors_and_reports_it():
    spec = {"input_shape": [1, 8, 8], "layers": [
        {"type": "conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "flatten"},
        {"type": "dense", "out_features": 3}]}
    net = vc.Network.from_spec(spec, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(2, 1, 8, 8))
    report = vc.gradcheck(net, x, [0, 2], max_entries=10)
    w = report.result(2, "W")
    assert w.indices.size == 10 and w.sampled and report.passed
    assert "10/432" in report.table()


def test_gradcheck_flags_a_wrong_backward():
    """A broken backward must fail the check on exactly that layer's input gradient."""
    spec = {"input_shape": [6], "layers": [
        {"type": "dense", "out_features": 5}, {"type": "sigmoid"}, {"type": "dense", "out_features": 3}]}
    class BrokenSigmoid(vc.LAYER_TYPES["sigmoid"]):
        def backward(self, dout):
            return dout * self.y                    # forgot the (1 − y) factor

    net = vc.Network.from_spec(spec, dtype=np.float64, layer_types={**vc.LAYER_TYPES, "sigmoid": BrokenSigmoid})
    report = vc.gradcheck(net, np.random.default_rng(1).normal(size=(3, 6)), [0, 1, 2])
    failed = {(r.layer, r.name) for r in report.failures}
    assert (1, "input") in failed and (0, "W") in failed
    assert report.result(2, "W").passed and report.result(2, "input").passed


def test_gradcheck_leaves_the_network_untouched():
    spec = {"input_shape": [4], "layers": [{"type": "dense", "out_features": 3}]}
    net = vc.Network.from_spec(spec)                # float32: the check runs on a float64 copy
    before = net.get_params()
    vc.gradcheck(net, np.ones((2, 4)), [0, 1])
    for a, b in zip(before, net.get_params()):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert net.layers[0].params["W"].dtype == np.float32


def test_ties_are_reported_as_kinks_not_failures():
    """Max pooling over a flat region: every window ties, so there is no derivative to check there."""
    spec = {"input_shape": [1, 4, 4], "layers": [
        {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 3}]}
    net = vc.Network.from_spec(spec, dtype=np.float64)
    x = np.zeros((1, 1, 4, 4))
    report = vc.gradcheck(net, x, [1])
    pool = report.result(0, "input")
    assert report.passed and pool.n_kinks > 0
    assert "at kinks, not judged" in report.table()


def test_backward_without_input_grad_gives_the_same_parameter_gradients():
    spec = {"input_shape": [1, 7, 7], "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "sigmoid"},
        {"type": "flatten"}, {"type": "dense", "out_features": 3}]}
    net = vc.Network.from_spec(spec, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(4, 1, 7, 7))
    net.loss(net.forward(x), [0, 1, 2, 0])
    assert net.backward().shape == x.shape
    full = [{k: g.copy() for k, g in layer.grads.items()} for layer in net.layers]
    for layer in net.layers:
        for g in layer.grads.values():
            g[...] = 0
    assert net.backward(input_grad=False) is None
    for layer, ref in zip(net.layers, full):
        for k in ref:
            np.testing.assert_array_equal(layer.grads[k], ref[k])
    assert all(layer.input_grad for layer in net.layers)
