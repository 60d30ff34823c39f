"""Stack depth (issue 12 §10): an iteration's work grows linearly with depth, and depth has a stated limit."""

from __future__ import annotations

import sys

import pytest

from visualcnn import limits
from visualcnn.errors import SpecError
from visualcnn.network import Network
from visualcnn.presets import build_session


def relu_stack(depth: int) -> dict:
    """`depth` ReLUs, then flatten and dense: the lowest layer with parameters is at the very top."""
    return {"input_shape": [1, 8, 8], "layers": [{"type": "relu"}] * depth
            + [{"type": "flatten"}, {"type": "dense", "out_features": 10}]}


def lines_per_iteration(depth: int) -> int:
    """Python lines executed (a loop's body counts once per pass) in one run-mode iteration."""
    s = build_session({"spec": relu_stack(depth), "dataset": {"name_or_path": "digits"}, "batch_size": 2,
                       "dtype": "float32", "seed": 0, "optimizer": {}, "train": {}})
    s.run(1, records=False)
    count = 0

    def trace(frame, event, arg):
        nonlocal count
        count += event == "line"
        return trace
    sys.settrace(trace)
    try:
        s.run(1, records=False)
    finally:
        sys.settrace(None)
    return count


def test_an_iteration_is_linear_in_depth():
    # counted work, not time: linear means 4× the layers cost about 4× the lines (quadratic was ~16×:
    # every backward phase asked Network.lowest_param_layer, which scanned the whole stack)
    small, large = lines_per_iteration(100), lines_per_iteration(400)
    assert large / small < 4.6, (small, large)


def test_depth_past_the_limit_is_refused_with_the_limit_named():
    with pytest.raises(SpecError, match=rf"the number of layers is {limits.MAX_LAYERS + 1:,}, over the limit of "
                                        rf"{limits.MAX_LAYERS:,} \(visualcnn.limits.MAX_LAYERS\)"):
        Network.from_spec(relu_stack(limits.MAX_LAYERS - 1))


def test_depth_at_the_limit_builds():
    net = Network.from_spec(relu_stack(limits.MAX_LAYERS - 2))
    assert len(net.layers) == limits.MAX_LAYERS and net.lowest_param_layer == limits.MAX_LAYERS - 1
