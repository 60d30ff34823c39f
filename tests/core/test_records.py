"""StepRecord's lazily computed pooling views."""

from __future__ import annotations

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.data import load_dataset


@pytest.mark.parametrize("kind, has_mask", [("maxpool2d", True), ("avgpool2d", False), ("lppool2d", False)])
def test_mask_can_be_read_before_routing(kind, has_mask):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": kind, "kernel_size": 2}, {"type": "flatten"},
                                                 {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec, dtype=np.float64)
    s = vc.Session(net, vc.SGD(net, lr=0.1), load_dataset("digits", size=8), batch_size=2)
    back = s.run_iteration()[-2]
    assert back.phase == "backward" and back.layer == 0
    mask = back.mask                                    # first read: was a RuntimeError for max pooling
    if has_mask:
        x = back.batch_x.reshape(2, 1, 4, 2, 4, 2)
        won = mask.reshape(2, 1, 4, 2, 4, 2)
        assert np.all(won.sum(axis=(3, 5)) == 1)                        # one winner per 2×2 window
        np.testing.assert_array_equal((x * won).sum(axis=(3, 5)), x.max(axis=(3, 5)))  # ... and it is the max
        np.testing.assert_array_equal(back.routing.sum(axis=(-1, -2)), 1)
    else:
        assert mask is None and back.routing is not None
