"""expected_failures on stacks where a mistaken layer type appears more than once (issue 11, item 11).

sigmoid-sign flips the sign of the input gradient: below a second sigmoid-sign the flips cancel and the
gradients are right again; conv-no-flip and lp-missing-factor spoil for good. Each case runs the real
gradient check and compares its failures with expected_failures and with the set written out by hand.
"""

import numpy as np
import pytest

from visualcnn import mistakes as M
from visualcnn.gradcheck import gradcheck


def stack(*layers, c=2, size=6):
    return {"input_shape": [c, size, size], "layers": [*layers, {"type": "flatten"}, {"type": "dense", "out_features": 3}],
            "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}}


CONV = {"type": "conv2d", "out_channels": 2, "kernel_size": 3, "padding": 1}
SIG, TANH = {"type": "sigmoid"}, {"type": "tanh"}
LP = {"type": "lppool2d", "kernel_size": 2, "stride": 1, "p": 3}
CASES = {
    # two sigmoid-sign: wrong between them (layers 2..3 and the upper one's input), right from the lower one down
    "two sigmoids": (stack(CONV, SIG, CONV, SIG), ["sigmoid-sign"],
                     {(3, "input"), (2, "W"), (2, "b"), (2, "input")}),
    # three: wrong down to the middle one, right from it to the lowest, whose input is wrong again
    "three sigmoids": (stack(SIG, CONV, SIG, TANH, SIG), ["sigmoid-sign"],
                       {(4, "input"), (3, "input"), (0, "input")}),
    # a spoil above a flip stays spoiled below it
    "conv-no-flip above two sigmoids": (stack(SIG, CONV, SIG, CONV), ["sigmoid-sign", "conv-no-flip"],
                                        {(3, "input"), (2, "input"), (1, "W"), (1, "b"), (1, "input"), (0, "input")}),
    # two conv-no-flip layers: spoiled from the upper one down
    "two convs": (stack(CONV, TANH, CONV), ["conv-no-flip"],
                  {(2, "input"), (1, "input"), (0, "W"), (0, "b"), (0, "input")}),
    # two lp-missing-factor layers
    "two lp pools": (stack(LP, TANH, LP, size=7), ["lp-missing-factor"],
                     {(2, "input"), (1, "input"), (0, "input")}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_expected_failures_with_repeated_mistaken_layers(case):
    spec, names, by_hand = CASES[case]
    net = M.build_network(spec, names, np.float64)
    rng = np.random.default_rng(2)
    shape = tuple(spec["input_shape"])
    report = gradcheck(net, rng.normal(size=(3, *shape)), rng.integers(0, 3, 3))
    found = {(r.layer, r.name) for r in report.failures}
    assert M.expected_failures(net) == by_hand
    assert found == by_hand, report.table()
