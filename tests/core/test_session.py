"""The step-through engine: phases, exact undo, history budget, breakpoints, events, hyper-parameters."""

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.data import load_dataset

SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "sigmoid"},
    {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 10}]}


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", size=8)


def make(digits, batch_size=2, lr=0.1, spec=SPEC, **kw):
    net = vc.Network.from_spec(spec, seed=0)
    return vc.Session(net, vc.SGD(net, lr=lr, momentum=0.9, weight_decay=1e-3), digits, batch_size=batch_size,
                      **kw)


def snapshot(s):
    return ([{k: v.copy() for k, v in d.items()} for d in s.network.get_params()],
            s.optimizer.get_state(), s.sampler.get_state(), s.iteration, s.phase_index)


def assert_same(a, b):
    for pa, pb in zip(a[0], b[0]):
        for k in pa:
            np.testing.assert_array_equal(pa[k], pb[k])
    for va, vb in zip(a[1], b[1]):
        for k in va:
            np.testing.assert_array_equal(va[k], vb[k])
    assert a[2:] == b[2:]


def test_one_iteration_is_2L_plus_2_phases_in_order(digits):
    s = make(digits)
    L = len(s.network.layers)
    recs = s.run_iteration()
    assert len(recs) == 2 * L + 2 == s.n_phases
    assert [(r.phase, r.layer) for r in recs] == (
        [("forward", i) for i in range(L)] + [("loss", None)]
        + [("backward", i) for i in reversed(range(L))] + [("update", None)])
    assert s.iteration == 1 and s.phase == "forward" and s.layer == 0


def test_records_carry_what_the_views_need_and_are_read_only(digits):
    s = make(digits)
    recs = s.run_iteration()
    fwd0, fwd1 = recs[0], recs[1]
    assert fwd0.x.shape == (2, 1, 8, 8) and fwd0.y.shape == (2, 3, 6, 6)
    assert fwd1.x is fwd0.y                                 # shared, not copied twice
    loss = recs[5]
    np.testing.assert_allclose(loss.probs.sum(axis=1), 1, rtol=1e-6)
    assert loss.loss > 0 and 0 <= loss.accuracy <= 1 and list(loss.batch_y) == list(fwd0.batch_y)
    pool_back = recs[8]
    assert pool_back.phase == "backward" and pool_back.layer == 2
    assert pool_back.routing.shape == (2, 3, 3, 3, 2, 2) and pool_back.mask.shape == (2, 3, 6, 6)
    assert pool_back.dout.shape == (2, 3, 3, 3) and pool_back.dx.shape == (2, 3, 6, 6)
    conv_back = recs[10]
    assert set(conv_back.grads) == {"W", "b"}
    update = recs[11]
    u = update.updates[0]["W"]
    np.testing.assert_array_equal(u.grad, conv_back.grads["W"])
    assert u.ratio > 0 and update.hyper["lr"] == 0.1
    for r in recs:
        for a in r.arrays().values():
            assert not a.flags.writeable
    with pytest.raises(ValueError):
        fwd0.y[...] = 0


def test_a_pooling_step_leaves_routing_to_the_views_that_ask(digits, monkeypatch):
    """Routing is (N, C, H_out, W_out, k, k): a step records the pool's input, not its routing (building it on
    every pooling backward cost 5 of a 64×64 net's 9 ms), and the record still has it when a view asks."""
    from visualcnn.layers.pool import MaxPool2D
    built = []
    real = MaxPool2D.routing.fget
    monkeypatch.setattr(MaxPool2D, "routing", property(lambda self: built.append(self) or real(self)))
    s = make(digits)
    recs = s.run_iteration()
    assert built == []
    assert recs[8].routing.shape == (2, 3, 3, 3, 2, 2) and len(built) == 1 and built[0] is not s.network.layers[2]


def test_records_are_not_changed_by_later_steps(digits):
    s = make(digits)
    first = s.run_iteration()
    y0 = first[0].y.copy()
    s.run(3)
    np.testing.assert_array_equal(first[0].y, y0)


def test_step_back_then_step_is_bit_identical_within_and_across_iterations(digits):
    s = make(digits, batch_size=3)
    s.run(2)
    for _ in range(4):
        s.step()
    states, recs = [], []
    for _ in range(2 * s.n_phases + 3):          # crosses two iteration boundaries
        states.append(snapshot(s))
        recs.append(s.step())
    for state in reversed(states):
        s.step_back()
        assert_same(snapshot(s), state)
    for rec in recs:                               # forward again: the same numbers
        again = s.step()
        assert (again.phase, again.layer, again.iteration) == (rec.phase, rec.layer, rec.iteration)
        for k, a in rec.arrays().items():
            np.testing.assert_array_equal(again.arrays()[k], a, err_msg=k)


def test_step_back_returns_the_record_now_current(digits):
    s = make(digits)
    r0, r1 = s.step(), s.step()
    assert s.step_back() is r0 and s.records == [r0]
    assert s.step_back() is None and s.records == []


def test_step_back_at_the_start_is_a_clear_error(digits):
    s = make(digits)
    assert not s.can_step_back
    with pytest.raises(vc.SessionError, match="start of history"):
        s.step_back()


def test_history_respects_its_budget_and_says_so(digits):
    s = make(digits, history_budget=60_000)
    trimmed = []
    s.events.connect("history_trimmed", lambda n, msg: trimmed.append(msg))
    s.run(30)
    assert s.history_bytes <= 60_000
    assert trimmed and "within" in trimmed[-1]
    n = s.history_iterations
    assert 0 < n < 30
    for _ in range(n * s.n_phases):
        s.step_back()
    with pytest.raises(vc.SessionError, match="budget"):
        s.step_back()


def test_nan_breakpoint_names_the_first_phase_and_layer(digits):
    s = make(digits)
    s.run_iteration()
    s.network.layers[0].params["W"][0, 0, 0, 0] = np.nan       # poison the first conv filter
    hits = []
    s.events.connect("breakpoint_hit", hits.append)
    result = s.run(5)
    assert result.stopped_by == "breakpoint"
    assert (result.breakpoint.phase, result.breakpoint.layer) == ("forward", 0)
    assert "layer 0 conv2d" in result.breakpoint.message and hits == [result.breakpoint]
    assert s.phase_index == 1                                  # stopped right after the tripping phase


def test_huge_learning_rate_trips_the_nonfinite_breakpoint_in_fast_mode(digits):
    s = make(digits, lr=1e6, batch_size=8)
    s.optimizer.momentum = 0.0
    result = s.run(200, records=False)
    assert result.stopped_by == "breakpoint", result
    assert result.breakpoint.kind == "nonfinite"
    assert s.last_record is not None and (s.last_record.phase, s.last_record.layer) == (
        result.breakpoint.phase, result.breakpoint.layer)


def test_gradient_norm_breakpoint(digits):
    s = make(digits)
    s.breakpoints.grad_norm = 1e-9
    result = s.run(1)
    assert result.stopped_by == "breakpoint" and result.breakpoint.kind == "grad_norm"
    assert result.breakpoint.phase == "backward" and result.breakpoint.layer == 4


def test_dead_unit_breakpoint(digits):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "dense", "out_features": 6},
                                                 {"type": "relu"}, {"type": "dense", "out_features": 10}]}
    s = make(digits, spec=spec)
    s.network.layers[1].params["b"][...] = -100.0              # every ReLU unit dead
    s.breakpoints.dead_fraction = 0.5
    result = s.run(1)
    assert result.stopped_by == "breakpoint" and result.breakpoint.kind == "dead_units"
    assert result.breakpoint.layer == 2 and result.breakpoint.value == 1.0


def test_events_and_hyper_parameter_changes(digits):
    s = make(digits)
    seen = []
    for name in ("phase_completed", "stepped_back", "hyper_changed", "network_rebuilt"):
        s.events.connect(name, lambda *a, name=name: seen.append(name))
    s.step()
    s.step_back()
    s.set_hyper(lr=0.5)
    assert s.run_iteration()[-1].hyper["lr"] == 0.5
    assert any("lr = 0.5" in line for line in s.log)
    reset = s.rebuild(dtype=np.float64)
    assert s.network.dtype == np.float64 and any("float64" in r for r in reset)
    assert seen[:3] == ["phase_completed", "stepped_back", "hyper_changed"] and "network_rebuilt" in seen
    with pytest.raises(vc.HyperParameterError):
        s.set_hyper(momentum=2)
    with pytest.raises(vc.SessionError, match="batch size"):
        s.set_batch_size(0)


def test_batch_size_change_takes_effect_at_the_next_batch(digits):
    s = make(digits, batch_size=2)
    s.step()
    s.set_batch_size(5)
    assert s.run_iteration()[-1].batch_x.shape[0] == 2
    assert s.step().batch_x.shape[0] == 5


def test_rebuild_with_new_spec_reports_what_was_reset(digits):
    s = make(digits)
    s.run(2)
    spec = {**SPEC, "layers": [{"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    reset = s.rebuild(spec=spec)
    assert "weights (new initialisation)" in reset and s.iteration == 0 and len(s.network.layers) == 2


def test_evaluate_does_not_disturb_stepping(digits):
    s = make(digits)
    for _ in range(7):
        s.step()
    state = snapshot(s)
    loss, acc = s.evaluate("test")
    assert loss > 0 and 0 <= acc <= 1
    assert_same(snapshot(s), state)
    s.run_iteration()


def test_pinned_input_is_what_gets_stepped(digits):
    s = make(digits)
    x = digits.x_test[:1]
    s.pin_input(x, [int(digits.y_test[0])])
    rec = s.step()
    np.testing.assert_array_equal(rec.x, x)
    with pytest.raises(vc.ShapeError):
        s.pin_input(np.zeros((1, 1, 5, 5)))


def test_dataset_and_network_must_fit(digits):
    net = vc.Network.from_spec({"input_shape": [1, 16, 16], "layers": [{"type": "flatten"},
                                                                       {"type": "dense", "out_features": 10}]})
    with pytest.raises(vc.SessionError, match="dataset's images are 1×8×8 but the network takes 1×16×16"):
        vc.Session(net, vc.SGD(net), digits)


def test_a_failing_layer_is_reported_and_the_session_survives(digits):
    class Exploding(vc.LAYER_TYPES["relu"]):
        armed = False

        def forward(self, x):
            if Exploding.armed:
                raise RuntimeError("boom")
            return super().forward(x)

    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "relu"},
                                                 {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec, layer_types={**vc.LAYER_TYPES, "relu": Exploding})
    s = vc.Session(net, vc.SGD(net), digits)
    s.step()
    Exploding.armed = True
    with pytest.raises(vc.LayerFailure) as info:
        s.step()
    assert info.value.phase == "forward" and info.value.layer == 1 and "boom" in info.value.traceback_text
    assert s.phase_index == 1                              # nothing advanced
    Exploding.armed = False
    rec = s.step()                                         # the session carries on
    assert rec.phase == "forward" and rec.layer == 1


def test_a_layer_returning_the_wrong_shape_is_reported(digits):
    class Shrinking(vc.LAYER_TYPES["relu"]):
        def forward(self, x):
            return super().forward(x)[:, :3]

    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "relu"},
                                                 {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec, layer_types={**vc.LAYER_TYPES, "relu": Shrinking})
    s = vc.Session(net, vc.SGD(net), digits)
    s.step()
    with pytest.raises(vc.LayerFailure, match=r"layer 1 relu: forward returned \(1, 3\), expected .*\(1, 64\)"):
        s.step()


def test_preset_sessions_build_and_step():
    for name in ("digits-small", "seed-note", "lenet5", "pooling-compare"):
        s = vc.Session.from_preset(name)
        s.run_iteration()
        assert s.iteration == 1
    with pytest.raises(vc.FileFormatError, match="no preset named 'nope'; bundled presets: digits-small"):
        vc.Session.from_preset("nope")


def test_current_batch_can_be_seen_before_the_first_phase(digits):
    s = make(digits, batch_size=3)
    s.run(2)
    state = snapshot(s)
    x, y = s.current_batch()
    assert_same(snapshot(s), state)                     # peeking changes nothing
    rec = s.step()
    np.testing.assert_array_equal(rec.batch_x, x)
    np.testing.assert_array_equal(rec.batch_y, y)
    s.step_back()
    assert_same(snapshot(s), state)
    s.run_iteration()
    other = make(digits, batch_size=3)                  # the same batches as a session that never peeked
    other.run(3)
    assert_same(snapshot(s), snapshot(other))


@pytest.mark.parametrize("name", ["digits-small", "seed-note", "pooling-compare"])
def test_presets_learn_when_run_one_image_at_a_time(name):
    """Run in the window trains at the stepping batch size (1): its learning rate must not kill the net."""
    s = vc.Session.from_preset(name)
    assert s.batch_size == 1
    s.run(800, records=False)
    assert s.evaluate("test", max_samples=300)[1] > 0.8
