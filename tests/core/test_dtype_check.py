"""The float32 path is checked too (issue 11, item 10): float32 analytic gradients agree with float64 ones
on the same numbers, so a float32-only bug cannot pass the (float64) gradient check unseen."""

from __future__ import annotations

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.gradcheck import dtype_check, gradcheck
from visualcnn.layers import LAYER_TYPES, Tanh
from visualcnn.presets import list_presets, load_preset

SPEC = {"input_shape": [2, 9, 9], "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}, "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1}, {"type": "relu"},
    {"type": "lppool2d", "kernel_size": 2, "stride": 1, "p": 3, "norm": "sum"}, {"type": "sigmoid"},
    {"type": "conv2d", "out_channels": 2, "kernel_size": 2, "stride": 2}, {"type": "tanh"},
    {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 4}]}


class Float32FastPathBug(Tanh):
    """A tanh whose float32 'fast path' forgets the square: right in float64, wrong in float32 only."""

    def backward(self, dout):
        if self.dtype == np.float32:
            return dout * (1.0 - self.y)
        return super().backward(dout)


def batch(shape, n=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, *shape)), rng.integers(0, 4, n)


@pytest.mark.parametrize("name", [p["name"] for p in list_presets()])
def test_every_preset_agrees_in_float32_and_float64(name):
    cfg = load_preset(name)
    net = vc.Network.from_spec(cfg["spec"], dtype=np.float32, seed=0)
    x, _ = batch(net.input_shape, n=2)
    labels = np.random.default_rng(1).integers(0, net.n_classes, 2)
    report = dtype_check(net, x, labels)
    assert report.passed, report.table()
    assert {(r.layer, r.name) for r in report.results} == {
        (i, k) for i, layer in enumerate(net.layers) for k in (*layer.params, "input")}


def test_a_mixed_stack_agrees_and_the_worst_error_is_float32_sized():
    net = vc.Network.from_spec(SPEC, dtype=np.float32, seed=0)
    x, labels = batch((2, 9, 9))
    report = dtype_check(net, x, labels)
    assert report.passed, report.table()
    assert max(r.max_rel_error for r in report.results) < 1e-5      # far below tol: it measures rounding


def test_a_float32_only_bug_passes_the_float64_check_but_not_this_one():
    types = {**LAYER_TYPES, "tanh": Float32FastPathBug}
    net = vc.Network.from_spec(SPEC, dtype=np.float32, seed=0, layer_types=types)
    x, labels = batch((2, 9, 9))
    assert gradcheck(net, x, labels, max_entries=20).passed              # the float64 copy is right
    report = dtype_check(net, x, labels)
    failing = {(r.layer, r.name) for r in report.failures}
    assert (5, "input") in failing and (4, "W") in failing and (0, "W") in failing    # the buggy layer and below
    assert not any(layer > 5 for layer, _ in failing)                   # everything above it agrees
