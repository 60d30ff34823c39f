"""Regressions of issue 11 §8 on the API main already had (explain_unit, find_record): on main they fail."""

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.data import load_dataset
from visualcnn.explain import explain_unit, find_record

# overlapping max (k3 s2), Lp (k2 s1) and average (k2 s1) windows; padding; tied and untied bias
SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},               # 0 → 3×8×8
    {"type": "relu"},                                                                     # 1
    {"type": "maxpool2d", "kernel_size": 3, "stride": 2},                                 # 2 → 3×3×3
    {"type": "conv2d", "out_channels": 4, "kernel_size": 2, "padding": 1, "bias": "untied"},  # 3 → 4×4×4
    {"type": "tanh"},                                                                     # 4
    {"type": "lppool2d", "kernel_size": 2, "stride": 1, "p": 3},                          # 5 → 4×3×3
    {"type": "sigmoid"},                                                                  # 6
    {"type": "avgpool2d", "kernel_size": 2, "stride": 1},                                 # 7 → 4×2×2
    {"type": "flatten"},                                                                  # 8
    {"type": "dense", "out_features": 10}]}                                               # 9


def iteration(dtype: str, phases: int | None = None):
    net = vc.Network.from_spec(SPEC, dtype=dtype)
    s = vc.Session(net, vc.SGD(net, lr=0.5, momentum=0.9), load_dataset("digits"), batch_size=2)
    s.run(1, records=False)                           # a second iteration: momentum makes ΔW ≠ −lr·∂C/∂W
    records = [s.step() for _ in range(s.n_phases if phases is None else phases)]
    return s.network, records


def test_overlapping_pool_windows_sum_every_window():
    """Regression (issue 11 §8): the tab showed one window's share, not the sum the core sends down."""
    net, records = iteration("float64")
    bwd = find_record(records, "backward", 7)               # avgpool k2 s1: inner inputs lie in 4 windows
    e = explain_unit(net, records, 7, (1, 1, 1), "backward")
    assert e.value == float(bwd.dx[0, 1, 1, 1]) and len(e.terms) == 4
    assert {t.cell for t in e.terms} == {(1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1)}
    assert e.total == pytest.approx(0.25 * float(bwd.dout[0, 1, :2, :2].sum()), rel=1e-12)
    mx = explain_unit(net, records, 2, (0, 2, 2), "backward")   # max k3 s2: (2, 2) lies in 4 windows
    assert len(mx.terms) == 4 and mx.value == float(find_record(records, "backward", 2).dx[0, 0, 2, 2])


def test_lp_backward_shows_each_windows_share():
    """Regression: Lp backward printed ∂C/∂y instead of the routed share ∂C/∂y · ∂y/∂x."""
    net, records = iteration("float64")
    bwd = find_record(records, "backward", 5)
    e = explain_unit(net, records, 5, (2, 1, 1), "backward")
    routing = bwd.routing[0, 2]
    expect = [float(bwd.dout[0, 2, i, j]) * float(routing[i, j, 1 - i, 1 - j]) for i in (0, 1) for j in (0, 1)]
    assert sorted(t.product for t in e.terms) == sorted(expect)
    assert e.value == float(bwd.dx[0, 2, 1, 1]) != float(bwd.dout[0, 2, 1, 1])


def test_after_the_update_the_forward_reads_the_weights_it_used():
    """Regression: after the update the tab rebuilt W as new − ΔW, which float32 rounds differently."""
    net, records = iteration("float32")
    upd = find_record(records, "update")
    W = upd.updates[0]["W"]
    rebuilt = np.asarray(W.value, np.float64) - np.asarray(W.velocity, np.float64)
    assert np.any(rebuilt != W.before)                     # the rounding this guards against happens here
    e = explain_unit(net, records, 0, (1, 4, 4), "forward")
    used = [t.factors[0] for t in e.terms]
    np.testing.assert_array_equal(used, np.asarray(W.before[1], np.float64).ravel())
    net2, records2 = iteration("float32", phases=len(records) - 1)    # the same run, stopped before the update
    before_update = explain_unit(net2, records2, 0, (1, 4, 4), "forward")   # reads the live weights
    assert [t.factors for t in before_update.terms] == [t.factors for t in e.terms]
