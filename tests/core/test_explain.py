"""explain_unit: the numbers shown are the records' own, and the printed arithmetic ends in them."""

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.data import load_dataset
from visualcnn.explain import explain_unit, find_record, fmt, pool_preview, routing_map
from visualcnn.layers import MaxPool2D

SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},    # 0
    {"type": "relu"},                                                          # 1
    {"type": "maxpool2d", "kernel_size": 2},                                   # 2
    {"type": "conv2d", "out_channels": 4, "kernel_size": 2, "bias": "untied"}, # 3
    {"type": "tanh"},                                                          # 4
    {"type": "lppool2d", "kernel_size": 2, "stride": 1, "p": 3},               # 5
    {"type": "sigmoid"},                                                       # 6
    {"type": "avgpool2d", "kernel_size": 2},                                   # 7
    {"type": "flatten"},                                                       # 8
    {"type": "dense", "out_features": 10}]}                                    # 9


@pytest.fixture(scope="module")
def run():
    net = vc.Network.from_spec(SPEC)
    s = vc.Session(net, vc.SGD(net, lr=0.1, momentum=0.9), load_dataset("digits"), batch_size=2)
    records = [s.step() for _ in range(s.n_phases)]        # the whole iteration, update included
    return s.network, records


def units(shape):
    return [(min(1, shape[0] - 1), 0, 0), (shape[0] - 1, shape[1] - 1, shape[2] - 1)] if len(shape) == 3 else [(0,), (shape[0] - 1,)]


@pytest.mark.parametrize("layer", range(len(SPEC["layers"])))
@pytest.mark.parametrize("sample", [0, 1])
def test_forward_value_is_the_records(run, layer, sample):
    net, records = run
    fwd = find_record(records, "forward", layer)
    for u in units(net.layers[layer].output_shape):
        e = explain_unit(net, records, layer, u, "forward", sample=sample)
        assert e.available
        assert e.value == float(fwd.y[(sample, *u)])
        assert fmt(e.value) in e.numbers.rstrip().splitlines()[-1]


@pytest.mark.parametrize("layer", range(len(SPEC["layers"])))
def test_backward_never_raises_and_prints_its_value(run, layer):
    net, records = run
    for u in units(net.layers[layer].input_shape):
        e = explain_unit(net, records, layer, u, "backward")
        assert e.available and np.isfinite(e.value)
        assert fmt(e.value) in e.numbers


def test_conv_terms_sum_to_the_unit(run):
    net, records = run
    fwd = find_record(records, "forward", 0)
    e = explain_unit(net, records, 0, (2, 3, 4), "forward")
    assert len(e.terms) == 1 * 3 * 3
    bias = float(records[-1].updates[0]["b"].before[2])      # the bias the forward pass used
    assert sum(t.product for t in e.terms) + bias == pytest.approx(float(fwd.y[0, 2, 3, 4]), abs=1e-5)
    assert "Σ_k Σ_p Σ_q W" in e.formula


def test_conv_untied_bias_and_padding(run):
    net, records = run
    e = explain_unit(net, records, 0, (0, 0, 0), "forward")
    assert any("pad" in t.label for t in e.terms)             # the corner reads the zero padding
    e3 = explain_unit(net, records, 3, (1, 0, 0), "forward")
    assert "b_{l,i,j}" in e3.formula


def test_dense_terms(run):
    net, records = run
    e = explain_unit(net, records, 9, (4,), "forward")
    assert len(e.terms) == net.layers[9].input_shape[0]
    assert e.formula.startswith("x_j = Σ_i W_ji")


def test_max_pool_names_the_winner(run):
    net, records = run
    fwd = find_record(records, "forward", 2)
    e = explain_unit(net, records, 2, (1, 2, 3), "forward")
    win = fwd.x[0, 1, 4:6, 6:8]
    assert e.value == float(win.max())
    assert f"winner x[1," in e.numbers and fmt(win.max()) in e.numbers
    a, b = 4 + int(np.argmax(win.ravel())) // 2, 6 + int(np.argmax(win.ravel())) % 2
    back = explain_unit(net, records, 2, (1, a, b), "backward")          # the winner's gradient
    bwd = find_record(records, "backward", 2)
    assert back.value == float(bwd.dx[0, 1, a, b]) == float(bwd.dout[0, 1, 2, 3])
    assert "won window" in back.formula


def test_avg_and_lp_pool(run):
    net, records = run
    avg = explain_unit(net, records, 7, (0, 0, 0), "forward")
    assert avg.value == pytest.approx(np.mean([t.product for t in avg.terms]), rel=1e-5)
    bwd = find_record(records, "backward", 7)
    back = explain_unit(net, records, 7, (0, 0, 0), "backward")
    assert back.value == pytest.approx(float(bwd.dout[0, 0, 0, 0]) / 4, rel=1e-5)
    lp = explain_unit(net, records, 5, (2, 1, 1), "forward")
    p = 3.0
    m = max(abs(v) for v in find_record(records, "forward", 5).x[0, 2, 1:3, 1:3].ravel())
    assert lp.value == pytest.approx(m * np.mean([t.product for t in lp.terms]) ** (1 / p), rel=1e-4)
    assert "p = 3" in lp.numbers


@pytest.mark.parametrize("layer, word", [(1, "max(0,"), (4, "tanh("), (6, "1/(1+e^(")])
def test_activations(run, layer, word):
    net, records = run
    fwd, bwd = find_record(records, "forward", layer), find_record(records, "backward", layer)
    e = explain_unit(net, records, layer, (1, 1, 1), "forward")
    assert word in e.numbers and e.value == float(fwd.y[0, 1, 1, 1])
    b = explain_unit(net, records, layer, (1, 1, 1), "backward")
    assert b.value == float(bwd.dx[0, 1, 1, 1])
    assert fmt(b.value) in b.numbers.rstrip().splitlines()[-1]


def test_sigmoid_derivative_numbers(run):
    net, records = run
    fwd = find_record(records, "forward", 6)
    y = float(fwd.y[0, 0, 0, 0])
    b = explain_unit(net, records, 6, (0, 0, 0), "backward")
    assert b.formula == "∂C/∂x = ∂C/∂y · y(1−y)"
    assert f"{fmt(y)}·(1−{fmt(y)})" in b.numbers


def test_softmax_unit_is_p_minus_d(run):
    net, records = run
    loss = find_record(records, "loss")
    n = 0
    truth = int(loss.batch_y[n])
    e = explain_unit(net, records, None, (truth,), "loss", sample=n)
    assert e.value == float(loss.dx[n, truth])
    assert e.value == pytest.approx((float(loss.probs[n, truth]) - 1) / 2, rel=1e-5)   # mean over N = 2
    assert f"({fmt(loss.probs[n, truth])} − 1) / 2\n" in e.numbers and fmt(e.value) in e.numbers.splitlines()[-1]
    other = (truth + 1) % 10
    e2 = explain_unit(net, records, None, (n, other), "loss")            # sample given as the first index
    assert e2.value == float(loss.dx[n, other]) and "− 0" in e2.numbers


def test_before_the_phase_ran_it_says_so():
    net = vc.Network.from_spec(SPEC)
    e = explain_unit(net, [], 0, (0, 0, 0), "forward")
    assert not e.available and "step forward" in e.numbers
    assert not explain_unit(net, [], None, (0,), "loss").available


def test_bad_arguments_are_value_errors(run):
    net, records = run
    with pytest.raises(ValueError):
        explain_unit(net, records, 0, (0, 0), "forward")
    with pytest.raises(ValueError):
        explain_unit(net, records, 99, (0,), "forward")
    with pytest.raises(ValueError):
        explain_unit(net, records, 0, (0, 0, 0), "sideways")


def test_pool_preview_is_the_layers_math_and_leaves_the_layer_alone(run):
    net, records = run
    lay = net.layers[5]
    fwd = find_record(records, "forward", 5)
    y, routing, weights = pool_preview(lay, fwd.x)
    np.testing.assert_allclose(y, fwd.y, rtol=1e-5, atol=1e-6)
    bwd = find_record(records, "backward", 5)
    np.testing.assert_allclose(routing, bwd.routing, rtol=1e-4, atol=1e-6)
    assert weights.shape == fwd.x.shape
    y16, _, _ = pool_preview(lay, fwd.x, p=16)
    assert lay.options["p"] == 3
    # p → large approaches the window's max |x|
    assert np.all(y16 <= np.abs(fwd.x).max() + 1e-9)
    mp = MaxPool2D(kernel_size=2)
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    _, r, w = pool_preview(mp, x)
    assert w[0, 0].tolist() == [[0, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 0], [0, 1, 0, 1]]
    np.testing.assert_array_equal(routing_map(r, x.shape, 2), w)
