"""Element-wise layers and pooling in parts on the core's threads (workspace.split_map): the same bits as one part.

Activations and pooling cut their arrays along the outermost axis in memory (channels of a batch-last
array, samples of a C-ordered one) and run the parts at once when the thread budget allows. Every value
depends only on its own element or window, so the parts must give exactly what one whole pass gives.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from visualcnn.layers import AvgPool2D, LpPool2D, MaxPool2D, ReLU, Sigmoid, Tanh, workspace
from visualcnn.layers.windows import batch_last

from .test_reference import built

LAYERS = [ReLU, Sigmoid, Tanh, lambda: MaxPool2D(kernel_size=2), lambda: MaxPool2D(kernel_size=3, stride=2),
          lambda: AvgPool2D(kernel_size=2), lambda: LpPool2D(kernel_size=2, p=3)]


def run(layer_factory, x, dout):
    layer = built(layer_factory(), x.shape[1:], x.dtype)
    y = layer.forward(x)
    dx = layer.backward(dout)
    return np.array(y), np.array(dx), layer


@pytest.fixture
def two_threads(monkeypatch):
    """Every array large enough to split, and a budget of 2 threads; records the threads each part ran on."""
    monkeypatch.setattr(workspace, "SPLIT_BYTES", 0)
    monkeypatch.setattr(workspace, "thread_budget", lambda: 2)
    monkeypatch.setattr(workspace.os, "cpu_count", lambda: 2)
    seen = []
    real_share = workspace.share

    def spy(fn, blocks, workers):
        def part(indices):
            seen.append((threading.get_ident(), len(indices)))
            return fn(indices)
        return real_share(part, blocks, workers)
    monkeypatch.setattr(workspace, "share", spy)
    return seen


@pytest.mark.parametrize("layout", ["batch-last", "C-ordered"])
@pytest.mark.parametrize("layer_factory", LAYERS, ids=lambda f: getattr(f, "__name__", "pool"))
def test_parts_give_the_bits_of_one_pass(layer_factory, layout, monkeypatch, request):
    rng = np.random.default_rng(1)
    shape = (4, 6, 9, 8)
    x = batch_last(shape, np.float32) if layout == "batch-last" else np.empty(shape, np.float32)
    x[...] = rng.standard_normal(shape) * 3
    x[0, 1, 2, 3] = np.nan                                   # NaN windows take the other max-pool path
    layer = built(layer_factory(), shape[1:], np.float32)
    out_shape = (shape[0], *layer.output_shape)
    dout = batch_last(out_shape, np.float32) if layout == "batch-last" else np.empty(out_shape, np.float32)
    dout[...] = rng.standard_normal(out_shape)
    y1, dx1, _ = run(layer_factory, x, dout)
    seen = request.getfixturevalue("two_threads")
    y2, dx2, layer = run(layer_factory, x, dout)
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(dx2, dx1)
    if getattr(layer, "in_parts", True):
        assert len({ident for ident, _ in seen}) == 2           # forward and backward ran on two threads
    else:                                                       # Lp pooling keeps its float64 y whole
        assert seen == []


def test_split_map_cuts_the_outermost_axis_in_memory(two_threads):
    x = batch_last((3, 5, 4, 2), np.float64)                   # memory (C, H, W, N): cut along C
    parts = []
    workspace.split_map(lambda a: parts.append(a.shape), x)
    assert sorted(parts) == [(3, 2, 4, 2), (3, 3, 4, 2)]
    parts.clear()
    workspace.split_map(lambda a, b: parts.append((a.shape, b.shape)), np.zeros((5, 7)), np.zeros((5, 7), bool))
    assert sorted(parts) == [((2, 7), (2, 7)), ((3, 7), (3, 7))]
