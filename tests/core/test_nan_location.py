"""Run mode names the same place for a NaN/Inf as stepping does (issue 12 §8).

The fast path (records=False) used to notice non-finite values only in the next iteration's loss and
replay *that* iteration, so a learning rate that overflows in the update, or a layer whose backward
returns Inf, was reported as the forward pass of layer 0 one iteration later.
"""

from __future__ import annotations

import numpy as np
import pytest

from visualcnn import custom
from visualcnn.layers import Layer
from visualcnn.presets import build_session


class InfBackward(Layer):
    type_name = "test_inf_backward"

    def forward(self, x):
        return x

    def backward(self, dout):
        out = dout.copy()
        out.flat[0] = np.inf
        return out


class HugeGradient(Layer):
    """y = a·x, with a gradient for `a` so large that any learning rate's update overflows."""

    type_name = "test_huge_gradient"

    def init_params(self, rng):
        return {"a": np.ones(1)}

    def forward(self, x):
        return x * self.params["a"][0]

    def backward(self, dout):
        self.grads["a"][...] = 1e300
        return dout * self.params["a"][0]


@pytest.fixture(autouse=True)
def registered():
    custom.register_layer(InfBackward)
    custom.register_layer(HugeGradient)
    yield
    custom.unregister_all()


def make(kind: str | None, **optimizer):
    layers = [{"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "relu"},
              *([{"type": kind}] if kind else []), {"type": "flatten"}, {"type": "dense", "out_features": 10}]
    return build_session({"spec": {"input_shape": [1, 8, 8], "layers": layers}, "dataset": {"name_or_path": "digits"},
                          "optimizer": {"lr": 0.1, **optimizer}, "batch_size": 4, "train": {}, "dtype": "float64",
                          "seed": 0})


def where(hit):
    return hit.iteration, hit.phase, hit.layer


def stepping_hit(session):
    for _ in range(10 * session.n_phases):
        session.step()
        if session.last_hit is not None:
            return session.last_hit
    raise AssertionError("stepping never tripped the NaN/Inf breakpoint")


@pytest.mark.parametrize("kind,optimizer,expected_phase", [
    ("test_inf_backward", {}, "backward"),            # a custom layer returning Inf in backward
    ("test_huge_gradient", {"lr": 1e10}, "update"),   # an update that overflows (train --lr 1e39 in float32)
])
def test_run_mode_names_the_phase_stepping_names(kind, optimizer, expected_phase):
    stepped = stepping_hit(make(kind, **optimizer))
    result = make(kind, **optimizer).run(10, records=False)
    assert result.stopped_by == "breakpoint"
    assert where(result.breakpoint) == where(stepped)
    assert stepped.phase == expected_phase and stepped.iteration == 0
    if expected_phase == "backward":
        assert stepped.layer == 2                     # the custom layer itself
    else:
        assert "update" in result.breakpoint.message
