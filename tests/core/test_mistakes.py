"""The study note's mistakes (visualcnn.mistakes): each one is caught on exactly the tensors it spoils.

"Exactly" means, per mistake:
- a layer mistake (conv-no-flip, sigmoid-sign, lp-missing-factor): the layer checked alone
  (`gradcheck_layer`, random upstream gradient) fails on its "input" only, and the built-in passes;
  in a network check the failures are that layer's input plus every tensor below it
  (`expected_failures`), so the highest failure is (that layer, "input");
- softmax-diagonal: the loss checked alone fails on "logits"; in a network every tensor fails;
- bias-no-momentum: gradients all pass; `update_check` fails on exactly the "b" tensors.
"""

import numpy as np
import pytest

from visualcnn import mistakes as M
from visualcnn.cli import main
from visualcnn.gradcheck import gradcheck
from visualcnn.layers import LAYER_TYPES, Conv2D, LpPool2D, Sigmoid
from visualcnn.losses import SoftmaxCrossEntropy
from visualcnn.network import Network
from visualcnn.optim import SGD
from visualcnn.presets import build_session, load_preset

LAYER_MISTAKES = {
    # name: (built-in class, options, per-sample input shape)
    "conv-no-flip": (Conv2D, {"out_channels": 3, "kernel_size": 3, "stride": 2, "padding": 1, "bias": "tied"},
                     (2, 7, 6)),
    "sigmoid-sign": (Sigmoid, {}, (3, 4, 5)),
    "lp-missing-factor": (LpPool2D, {"kernel_size": 2, "stride": 1, "p": 3.0}, (2, 5, 5)),
}

#: every affected layer type somewhere in the middle, so there are layers above and below it
SPEC = {"input_shape": [2, 7, 7], "layers": [
    {"type": "conv2d", "out_channels": 2, "kernel_size": 2},
    {"type": "tanh"},
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},
    {"type": "sigmoid"},
    {"type": "lppool2d", "kernel_size": 2, "p": 3},
    {"type": "flatten"},
    {"type": "dense", "out_features": 4}],
    "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}}
AFFECTED = {"conv-no-flip": 2, "sigmoid-sign": 3, "lp-missing-factor": 4}


def batch(seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(3, 2, 7, 7)), rng.integers(0, 4, 3)


def failures(report):
    return {(r.layer, r.name) for r in report.failures}


# -- the registry -----------------------------------------------------------------------------

def test_registry_describes_every_mistake():
    assert list(M.MISTAKES) == ["softmax-diagonal", "lp-missing-factor", "sigmoid-sign", "conv-no-flip",
                                "bias-no-momentum"]
    for m in M.MISTAKES.values():
        assert m.title and m.note_formula and m.correct_formula and m.note_formula != m.correct_formula
        assert 2 <= m.why.count(". ") + 1 <= 5
        assert M.mistake_of(m.cls) == m.name
        assert "<sub>" in M.formula_html(m.correct_formula) or "<sup>" in M.formula_html(m.correct_formula)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(M.UnknownMistakeError) as e:
        M.layer_types(["conv-noflip"])
    assert "did you mean 'conv-no-flip'" in str(e.value)
    for name in M.MISTAKES:
        assert name in str(e.value)


def test_nothing_leaks_into_normal_use():
    before = dict(LAYER_TYPES)
    net = M.build_network(SPEC, list(M.MISTAKES), np.float64)
    assert M.active(net) == ["softmax-diagonal", "lp-missing-factor", "sigmoid-sign", "conv-no-flip"]
    assert LAYER_TYPES == before
    plain = Network.from_spec(SPEC, dtype=np.float64)
    assert M.active(plain) == [] and type(plain.loss_fn) is SoftmaxCrossEntropy
    assert M.optimizer_class([]) is SGD and M.optimizer_class(["bias-no-momentum"]) is M.SGDBiasNoMomentum
    # a copy keeps the mistake classes (gradcheck runs on a copy)
    assert M.active(net.copy(np.float64)) == M.active(net)


# -- layer mistakes -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(LAYER_MISTAKES))
def test_layer_check_flags_exactly_the_input(name):
    base, options, in_shape = LAYER_MISTAKES[name]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, *in_shape))
    for cls, expected in ((base, set()), (M.MISTAKES[name].cls, {(0, "input")})):
        layer = cls(**options)
        layer.build(in_shape, np.random.default_rng(3), np.float64)
        report = M.gradcheck_layer(layer, x, seed=4)
        assert failures(report) == expected, f"{cls.__name__}\n" + report.table()
        assert {r.name for r in report.results} == {*layer.params, "input"}
    assert M.MISTAKES[name].affects == ((base.type_name, ("input",)),)


@pytest.mark.parametrize("name", list(AFFECTED))
def test_network_check_fails_from_the_affected_layer_down(name):
    net = M.build_network(SPEC, [name], np.float64)
    x, labels = batch()
    report = gradcheck(net, x, labels)
    assert failures(report) == M.expected_failures(net), report.table()
    assert M.first_failure(report) == (AFFECTED[name], "input")
    # the affected layer's own parameters and every layer above are right
    above = {(r.layer, r.name) for r in report.results
             if r.layer > AFFECTED[name] or (r.layer == AFFECTED[name] and r.name != "input")}
    assert above and not above & failures(report)


def test_correct_network_passes():
    x, labels = batch()
    report = gradcheck(Network.from_spec(SPEC, dtype=np.float64), x, labels)
    assert report.passed, report.table()


@pytest.mark.parametrize("stride,padding", [(1, 0), (2, 1), (2, 0), (3, 2)])
def test_conv_no_flip_is_the_correct_gradient_without_the_rotation(stride, padding):
    """The full correlation with the filter rotated is the built-in's dx; as is, it is the mistake's."""
    options = {"out_channels": 3, "kernel_size": 3, "stride": stride, "padding": padding, "bias": "untied"}
    rng = np.random.default_rng(stride * 10 + padding)
    right, wrong = Conv2D(**options), M.ConvNoFlip(**options)
    for layer in (right, wrong):
        layer.build((2, 8, 7), np.random.default_rng(0), np.float64)
    x = rng.normal(size=(2, 2, 8, 7))
    dout = rng.normal(size=(2, *right.output_shape))
    right.forward(x), wrong.forward(x)
    dx_right, dx_wrong = right.backward(dout), wrong.backward(dout)
    rotated = M.full_correlation_input_grad(dout, right.params["W"][:, :, ::-1, ::-1], (2, 8, 7), stride, padding)
    np.testing.assert_allclose(rotated, dx_right, atol=1e-12)
    np.testing.assert_allclose(wrong.backward(dout), dx_wrong)
    assert not np.allclose(dx_wrong, dx_right)
    for k in ("W", "b"):
        np.testing.assert_allclose(wrong.grads[k], right.grads[k], atol=1e-12)


def test_lp_missing_factor_routing_is_the_notes_derivative():
    layer = M.LpPoolMissingFactor(kernel_size=2, stride=None, p=2.0)
    layer.build((1, 4, 4), np.random.default_rng(0), np.float64)
    y = layer.forward(np.random.default_rng(1).normal(size=(1, 1, 4, 4)))
    # (1/p) · y^{1−p}, the same for every position of a window
    np.testing.assert_allclose(layer.routing[..., 1, 0], 0.5 / y)
    assert not layer.routing.flags.writeable


# -- the loss ------------------------------------------------------------------------------------

@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_softmax_diagonal(reduction):
    rng = np.random.default_rng(0)
    logits, labels = rng.normal(size=(3, 5)), np.array([0, 4, 2])
    assert M.gradcheck_loss(SoftmaxCrossEntropy(reduction), logits, labels).passed
    report = M.gradcheck_loss(M.SoftmaxDiagonal(reduction), logits, labels)
    assert failures(report) == {(-1, "logits")}
    # d(1 − p): the true class's gradient has the wrong sign, the others none
    loss = M.SoftmaxDiagonal(reduction)
    loss.forward(logits, labels)
    g = loss.backward()
    assert np.all(g[np.arange(3), labels] > 0) and np.count_nonzero(g) == 3

    net = M.build_network(SPEC, ["softmax-diagonal"], np.float64)
    x, y = batch()
    report = gradcheck(net, x, y)
    assert failures(report) == {(r.layer, r.name) for r in report.results} == M.expected_failures(net)


# -- the optimizer ---------------------------------------------------------------------------------

def test_bias_no_momentum_is_caught_by_the_update_check_only():
    net = Network.from_spec(SPEC, dtype=np.float64)
    hyper = {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-3, "decay_biases": True}
    assert M.update_check(SGD(net, **hyper)).passed
    report = M.update_check(M.SGDBiasNoMomentum(net, **hyper))
    assert failures(report) == {(i, "b") for i, layer in enumerate(net.layers) if "b" in layer.params}
    assert failures(report) and {r.name for r in report.results} == {"W", "b"}
    # the check works on a copy: the optimizer's network is untouched
    np.testing.assert_array_equal(net.layers[0].params["W"], Network.from_spec(SPEC, np.float64).layers[0].params["W"])
    x, labels = batch()
    assert gradcheck(net, x, labels).passed


# -- sessions and the command line ------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    from visualcnn.data import load_dataset
    return load_dataset(load_preset("seed-note")["dataset"])


def test_apply_to_session_keeps_weights_and_cursor(digits):
    s = build_session(load_preset("seed-note"), dataset=digits)
    s.run(2, records=False)
    for _ in range(3):
        s.step()
    params, index, iteration = s.network.get_params(), s.phase_index, s.iteration
    conv_out = np.asarray(s.records[0].y)
    np.testing.assert_allclose(s.records[1].y, Sigmoid().forward(conv_out), atol=1e-6)
    assert M.apply_to_session(s, ["sigmoid-sign", "bias-no-momentum"]) == ["sigmoid-sign", "bias-no-momentum"]
    assert M.active(s.network, s.optimizer) == ["sigmoid-sign", "bias-no-momentum"]
    assert (s.phase_index, s.iteration) == (index, iteration)
    for old, new in zip(params, s.network.get_params()):
        for k in old:
            np.testing.assert_array_equal(old[k], new[k])
    # the records so far were recomputed: the sigmoid now shows 1/(1 + e^{x}) = 1 − σ(x)
    np.testing.assert_allclose(s.records[1].y, 1.0 - Sigmoid().forward(conv_out), atol=1e-6)
    M.apply_to_session(s, [])
    assert M.active(s.network, s.optimizer) == [] and type(s.optimizer) is SGD
    s.step_back()
    s.step()


def loss_curve(cfg, dataset, names, n=40):
    s = build_session(cfg, dataset=dataset, mistakes=names, batch_size=16)
    s.run(n, records=False)
    return np.array([m.loss for m in s.metrics])


TWO_CONVS = {"input_shape": [1, 16, 16], "layers": [
    {"type": "conv2d", "out_channels": 4, "kernel_size": 3}, {"type": "tanh"},
    {"type": "lppool2d", "kernel_size": 2, "p": 2},
    {"type": "conv2d", "out_channels": 6, "kernel_size": 3}, {"type": "sigmoid"},
    {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 10}],
    "loss": {"type": "softmax_cross_entropy", "reduction": "mean"}}


@pytest.mark.parametrize("name", list(M.MISTAKES))
def test_training_with_a_mistake_follows_another_curve(name, digits):
    # the seed-note net's conv is its first layer (its input gradient is never used): stack two convs
    cfg = dict(load_preset("seed-note"), spec=TWO_CONVS)
    cfg["optimizer"] = {**cfg["optimizer"], "lr": 0.1}
    right = loss_curve(cfg, digits, [])
    wrong = loss_curve(cfg, digits, [name])
    assert not np.allclose(right, wrong)
    if name == "softmax-diagonal":
        assert wrong[-10:].mean() > 2 * wrong[:10].mean()       # it climbs the loss
        assert right[-10:].mean() < right[:10].mean()


def test_softmax_diagonal_does_not_learn_the_seed_network(digits):
    cfg = load_preset("seed-note")
    right, wrong = loss_curve(cfg, digits, []), loss_curve(cfg, digits, ["softmax-diagonal"])
    assert right[-10:].mean() < 0.6 * right[:10].mean()
    assert wrong[-10:].mean() > wrong[:10].mean()


def test_cli_gradcheck_names_the_conv_layer(capsys):
    args = ["gradcheck", "--preset", "seed-note", "--max-entries", "24"]
    assert main(args) == 0
    assert "FAILED" not in capsys.readouterr().err
    assert main([*args, "--mistake", "conv-no-flip"]) == 1
    err = capsys.readouterr().err
    assert "FAILED: layer 0 conv2d input" in err
    assert err.count("FAILED") == 1


def test_cli_rejects_an_unknown_mistake(capsys):
    assert main(["gradcheck", "--preset", "seed-note", "--mistake", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown mistake 'nope'" in err and "conv-no-flip" in err
