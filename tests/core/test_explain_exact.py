"""The Numbers tab equals the core: every unit of every layer type, forward and backward, both dtypes.

For each explanation: `value` is the record's own entry, the sum it writes (`total`) is that value up to
the rounding of the core's dtype, the folded part plus the shown terms is the total, and the last
printed line states the value.
"""

import math

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.data import load_dataset
from visualcnn.explain import explain_param, explain_unit, find_record, fmt, unit_shape
from visualcnn.mistakes import build_network
from visualcnn.records import StepRecord

from .test_explain_regressions import SPEC, iteration

EPS = {"float32": 2e-6, "float64": 1e-13}


@pytest.fixture(scope="module", params=["float32", "float64"])
def run(request):
    net, records = iteration(request.param)
    return request.param, net, records


def all_units(shape):
    return list(np.ndindex(*shape))


def check_sum(e, dtype):
    """The printed sum equals the value: exactly the record's, up to the core dtype's rounding."""
    assert e.available, e.numbers
    assert e.total is not None
    scale = math.fsum(abs(t.product) for t in e.terms) + abs(e.total) + abs(e.value)
    assert abs(e.total - e.value) <= EPS[dtype] * 8 * max(scale, 1e-30), (e.title, e.total, e.value)
    if e.folded is not None:
        assert len(e.shown) < len(e.terms)
        shown = math.fsum(t.product for t in e.shown)
        assert math.isclose(shown + e.folded, math.fsum(t.product for t in e.terms), rel_tol=1e-12, abs_tol=1e-300)
        # the shown terms are the largest
        smallest_shown = min(abs(t.product) for t in e.shown)
        assert all(abs(t.product) <= smallest_shown for t in e.terms if t not in e.shown)
    assert e.numbers.rstrip().splitlines()[-1].count(fmt(e.value)) == 1


@pytest.mark.parametrize("phase", ["forward", "backward"])
@pytest.mark.parametrize("layer", range(len(SPEC["layers"])))
def test_every_unit_is_the_cores(run, layer, phase):
    """forward: every output unit is the record's y; backward: every input unit is the record's ∂C/∂x —
    the sum over every output unit that read it (overlapping windows too)."""
    dtype, net, records = run
    rec = find_record(records, phase, layer)
    result, read = (rec.y, rec.x) if phase == "forward" else (rec.dx, rec.dout)
    for n in range(2):
        for u in all_units(unit_shape(net, layer, phase)):
            e = explain_unit(net, records, layer, u, phase, sample=n)
            assert e.value == float(result[(n, *u)])
            check_sum(e, dtype)
            assert e.computes.cells == (u,)
            np.testing.assert_array_equal(e.computes.array, result[n])
            np.testing.assert_array_equal(e.reads.array, read[n])
            if phase == "backward" and net.layers[layer].type_name != "dense":
                for t in e.terms:                     # each term reads the arriving gradient at its cell
                    assert float(rec.dout[(n, *t.cell)]) in t.factors


@pytest.mark.parametrize("layer", [0, 3, 9])
def test_parameter_gradients_are_the_cores(run, layer):
    dtype, net, records = run
    bwd = find_record(records, "backward", layer)
    for name, g in bwd.grads.items():
        for index in all_units(g.shape):
            e = explain_param(net, records, layer, name, index)
            assert e.value == float(g[index])
            check_sum(e, dtype)


def test_receptive_fields():
    net, records = iteration("float64")
    conv = explain_unit(net, records, 0, (2, 0, 5), "forward")          # the window hangs over the top edge
    assert set(conv.reads.cells) == {(0, a, b) for a in (0, 1) for b in (4, 5, 6)}
    assert sum(t.cell is None for t in conv.terms) == 3                  # three padding terms
    back = explain_unit(net, records, 3, (1, 1, 1), "backward")         # k2 pad1: 4 positions × 4 filters
    assert set(back.reads.cells) == {(l, i, j) for l in range(4) for i in (1, 2) for j in (1, 2)}
    dense = explain_unit(net, records, 9, (4,), "forward")
    assert dense.reads.cells == tuple((i,) for i in range(16))


def test_a_long_sum_shows_its_largest_terms_and_folds_the_rest():
    net, records = iteration("float64")
    e = explain_unit(net, records, 9, (4,), "forward")
    assert len(e.terms) == 16 and len(e.shown) == 4
    assert "(12 more terms: " in e.numbers and "\\ldots_{(12)}" in e.lines_tex[1]
    assert [abs(t.product) for t in e.shown] == sorted((abs(t.product) for t in e.terms), reverse=True)[:4]


def test_every_formula_is_valid_mathtext():
    """What the tab renders parses with matplotlib's mathtext (no LaTeX install needed)."""
    from matplotlib.mathtext import MathTextParser
    parser = MathTextParser("path")
    net, records = iteration("float64")
    es = [explain_unit(net, records, None, (3,), "loss"), explain_param(net, records, 3, "b", (1, 2, 0)),
          explain_param(net, records, 0, "W", (1, 0, 2, 2)), explain_param(net, records, 9, "W", (2, 3)),
          explain_param(net, records, 9, "b", (2,))]
    for layer in range(len(SPEC["layers"])):
        for phase in ("forward", "backward"):
            es.append(explain_unit(net, records, layer, unit_shape(net, layer, phase)[:1] and
                                   tuple(s - 1 for s in unit_shape(net, layer, phase)), phase))
    for e in es:
        for tex in (e.formula_tex, *e.lines_tex):
            parser.parse(f"${tex}$", dpi=72)


def test_lp_forward_is_the_max_scaled_form():
    net, records = iteration("float64")
    e = explain_unit(net, records, 5, (2, 1, 1), "forward")
    window = find_record(records, "forward", 5).x[0, 2, 1:3, 1:3]
    m = float(np.abs(window).max())
    assert f"m = max |x| = {fmt(m)}" in e.numbers
    assert max(t.product for t in e.terms) == 1.0                       # (|x|/m)^p of the largest is 1


def test_layer_zero_before_backward_and_bad_units():
    net, records = iteration("float64", phases=3)
    e = explain_unit(net, records, 0, (0, 0, 0), "backward")
    assert not e.available and "step backward" in e.numbers
    with pytest.raises(ValueError, match="outside"):
        explain_unit(net, records, 0, (3, 0, 0), "forward")
    with pytest.raises(ValueError, match="no parameter"):
        explain_param(net, records, 1, "W", (0,))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm, p, scale", [("sum", 3, 1.0), ("mean", 100, 5e-4), ("sum", 32, 0.05), ("mean", 16, 300.0)])
def test_lp_forms_and_extreme_p_equal_the_core(dtype, norm, p, scale):
    """The sum form has no 1/|P|; at large p the max-scaled terms stay finite and still sum to the core's y."""
    spec = {"input_shape": [1, 4, 4], "layers": [
        {"type": "lppool2d", "kernel_size": 2, "stride": 1, "p": p, "norm": norm},
        {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec, dtype=dtype)
    x = (np.random.default_rng(1).uniform(0.2, 1.0, (2, 1, 4, 4)) * scale).astype(dtype)
    y = net.layers[0].forward(x)
    fwd = StepRecord(0, 0, "forward", 0, "lppool2d", "", x, np.zeros(2, int), x=x, y=np.array(y))
    for u in np.ndindex(*net.layers[0].output_shape):
        e = explain_unit(net, [fwd], 0, u, "forward", sample=1)
        assert np.isfinite(e.total) and e.value == float(y[(1, *u)])
        assert abs(e.total - e.value) <= EPS[dtype] * 8 * abs(e.value)
        assert ("1/4" in e.numbers) == (norm == "mean")


def test_a_layer_computing_a_mistake_says_so_and_claims_no_sum():
    """With the note's slip switched on the core computes the note's formula: the tab must not write the
    correct formula's sum beside the mistaken value."""
    net = build_network(SPEC, ["conv-no-flip", "softmax-diagonal"], dtype=np.float64)
    s = vc.Session(net, vc.SGD(net, lr=0.1), load_dataset("digits"), batch_size=2)
    records = [s.step() for _ in range(s.n_phases - 1)]
    bwd = find_record(records, "backward", 3)
    e = explain_unit(net, records, 3, (1, 1, 1), "backward")
    assert "mistake 'conv-no-flip' is on" in e.title and not e.terms
    assert e.value == float(bwd.dx[0, 1, 1, 1])
    loss = explain_unit(net, records, None, (2,), "loss")
    assert "softmax-diagonal" in loss.title and loss.value == float(find_record(records, "loss").dx[0, 2])
    assert "p_j − d_j" not in loss.formula
    w = explain_param(net, records, 3, "W", (1, 0, 1, 1))             # its ∂C/∂W is still the correct sum
    check_sum(w, "float64")
