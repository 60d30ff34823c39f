"""The layer-stack spec: shape inference, round trips, and an error for every kind of bad stack."""

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import visualcnn as vc

LENET = {"input_shape": [1, 28, 28], "layers": [
    {"type": "conv2d", "out_channels": 6, "kernel_size": 5, "stride": 1, "padding": 0, "bias": "tied"},
    {"type": "sigmoid"}, {"type": "maxpool2d", "kernel_size": 2, "stride": 2},
    {"type": "conv2d", "out_channels": 16, "kernel_size": 5}, {"type": "sigmoid"},
    {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
    {"type": "dense", "out_features": 120}, {"type": "sigmoid"}, {"type": "dense", "out_features": 10}],
    "loss": {"type": "softmax_cross_entropy", "reduction": "mean"}}


def test_shapes_and_parameter_counts_are_known_before_any_data():
    net = vc.Network.from_spec(LENET)
    shapes = [layer.output_shape for layer in net.layers]
    assert shapes == [(6, 24, 24), (6, 24, 24), (6, 12, 12), (16, 8, 8), (16, 8, 8), (16, 4, 4),
                      (256,), (120,), (120,), (10,)]
    assert [layer.n_params for layer in net.layers] == [156, 0, 0, 2416, 0, 0, 0, 30840, 0, 1210]
    assert net.layers[0].params["W"].shape == (6, 1, 5, 5) and net.layers[0].params["b"].shape == (6,)
    assert net.layers[7].params["W"].shape == (120, 256)
    assert net.layers[0].params["W"].dtype == np.float32


def test_untied_bias_has_one_per_unit():
    spec = {"input_shape": [2, 6, 6], "layers": [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "bias": "untied"}, {"type": "flatten"},
        {"type": "dense", "out_features": 2}]}
    net = vc.Network.from_spec(spec)
    assert net.layers[0].params["b"].shape == (3, 4, 4)


def test_round_trip_through_json_fills_defaults():
    net = vc.Network.from_spec(json.loads(json.dumps(LENET)), seed=3)
    spec = net.to_spec()
    assert spec["layers"][2] == {"type": "maxpool2d", "kernel_size": 2, "stride": 2}
    assert spec["layers"][5] == {"type": "maxpool2d", "kernel_size": 2, "stride": None}
    again = vc.Network.from_spec(json.loads(json.dumps(spec)), seed=3)
    assert again.to_spec() == spec
    np.testing.assert_array_equal(again.layers[3].params["W"], net.layers[3].params["W"])


def test_init_is_seeded():
    a, b, c = (vc.Network.from_spec(LENET, seed=s) for s in (1, 1, 2))
    np.testing.assert_array_equal(a.layers[0].params["W"], b.layers[0].params["W"])
    assert not np.array_equal(a.layers[0].params["W"], c.layers[0].params["W"])


def test_forward_casts_and_checks_the_input():
    net = vc.Network.from_spec(LENET, dtype=np.float64)
    out = net.forward(np.zeros((2, 1, 28, 28), dtype=np.uint8))
    assert out.shape == (2, 10) and out.dtype == np.float64
    with pytest.raises(vc.ShapeError, match=r"input must have shape \(N, 1, 28, 28\), got \(2, 1, 8, 8\)"):
        net.forward(np.zeros((2, 1, 8, 8)))


def test_params_are_live():
    net = vc.Network.from_spec({"input_shape": [3], "layers": [{"type": "dense", "out_features": 2}]})
    net.layers[0].params["W"][...] = 0
    net.layers[0].params["b"][...] = [1, 2]
    np.testing.assert_array_equal(net.forward(np.ones((1, 3))), [[1, 2]])


def with_layers(*layers, shape=(1, 8, 8)):
    return {"input_shape": list(shape), "layers": list(layers)}


DENSE = {"type": "dense", "out_features": 3}

BAD = [
    (with_layers({"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "maxpool2d", "kernel_size": 9},
                 DENSE), r"layer 1 maxpool2d: kernel 9 is larger than its 6×6 input"),
    (with_layers({"type": "conv2d", "out_channels": 2, "kernel_size": 9}, DENSE),
     r"layer 0 conv2d: kernel 9 is larger than its 8×8 input.*incoming shape 1×8×8"),
    (with_layers({"type": "convolution"}), r"layer 0: unknown type 'convolution'.*valid types: conv2d"),
    (with_layers({"type": "conv2d", "out_channels": 2, "kernel_size": 3, "kernal": 3}, DENSE),
     r"layer 0 conv2d: unknown field 'kernal' \(did you mean 'kernel_size'\?\)"),
    (with_layers({"type": "conv2d", "out_channels": -1, "kernel_size": 3}, DENSE),
     r"layer 0 conv2d: out_channels must be >= 1, got -1"),
    (with_layers({"type": "conv2d", "out_channels": "6", "kernel_size": 3}, DENSE),
     r"layer 0 conv2d: out_channels must be int >= 1, got '6'"),
    (with_layers({"type": "conv2d", "out_channels": True, "kernel_size": 3}, DENSE),
     r"out_channels must be int >= 1, got True"),
    (with_layers({"type": "conv2d", "out_channels": 2}, DENSE), r"layer 0 conv2d: missing field 'kernel_size'"),
    (with_layers({"type": "conv2d", "out_channels": 2, "kernel_size": 3, "bias": "shared"}, DENSE),
     r"bias must be one of 'tied' \| 'untied', got 'shared'"),
    (with_layers({"type": "lppool2d", "kernel_size": 2, "p": 0.5}, DENSE), r"layer 0 lppool2d: p must be >= 1"),
    (with_layers({"type": "conv2d", "out_channels": 2, "kernel_size": 3}),
     r"layer 0 conv2d: the last layer must output class scores.*got 2×6×6"),
    (with_layers({"type": "dense", "out_features": 1}), r"must output class scores \(a vector of K >= 2\)"),
    (with_layers({"type": "conv2d", "out_channels": 2, "kernel_size": 3}, shape=(8,)),
     r"layer 0 conv2d: needs a \(C, H, W\) input, got an input of shape 8"),
    ({"input_shape": [1, 0, 8], "layers": [DENSE]}, r"input_shape must be \[C, H, W\] or \[D\] of positive"),
    ({"input_shape": [1, 8, 8], "layers": []}, r"layers must be a non-empty list"),
    ({"input_shape": [1, 8, 8], "layers": [DENSE], "optimizer": {}}, r"unknown key 'optimizer'"),
    ({"input_shape": [1, 8, 8], "layers": [DENSE], "loss": {"type": "mse"}}, r"loss must be"),
    ({"input_shape": [1, 8, 8], "layers": [DENSE], "loss": {"type": "softmax_cross_entropy", "reduction": "avg"}},
     r"reduction must be 'mean' or 'sum', got 'avg'"),
    ([1, 2, 3], r"a spec must be an object"),
    (with_layers("relu"), r"layer 0: must be an object"),
]


@pytest.mark.parametrize("spec,message", BAD)
def test_invalid_specs_raise_spec_error_with_a_clear_message(spec, message):
    with pytest.raises(vc.SpecError, match=message):
        vc.Network.from_spec(spec)


def test_spec_error_names_the_offending_row():
    bad = with_layers({"type": "relu"}, {"type": "maxpool2d", "kernel_size": 20}, DENSE)
    with pytest.raises(vc.SpecError) as info:
        vc.Network.from_spec(bad)
    assert info.value.layer_index == 1
    assert isinstance(info.value, ValueError)


def test_floored_output_sizes_are_not_silent():
    net = vc.Network.from_spec(with_layers({"type": "maxpool2d", "kernel_size": 3}, DENSE, shape=(1, 8, 8)))
    assert net.layers[0].output_shape == (1, 2, 2)
    assert any("2 rows" in n for n in net.summary()[0]["notes"])


# -- property tests -----------------------------------------------------------------------------

layer_entries = st.one_of(
    st.builds(lambda f, k, s, p, b: {"type": "conv2d", "out_channels": f, "kernel_size": k, "stride": s,
                                     "padding": p, "bias": b},
              st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(0, 1),
              st.sampled_from(["tied", "untied"])),
    st.builds(lambda t, k, s: {"type": t, "kernel_size": k, "stride": s},
              st.sampled_from(["maxpool2d", "avgpool2d"]), st.integers(1, 3), st.sampled_from([None, 1, 2])),
    st.builds(lambda k, p: {"type": "lppool2d", "kernel_size": k, "p": p}, st.integers(1, 2),
              st.sampled_from([1, 2, 3.5])),
    st.sampled_from([{"type": "sigmoid"}, {"type": "tanh"}, {"type": "relu"}]),
)


def has_kinks(net, gap=1e-4):
    """Max pooling with a near-tie in a window, or ReLU with an input near 0: no derivative there (MATH.md §5)."""
    from visualcnn.layers.windows import windows

    for layer in net.layers:
        if layer.type_name == "maxpool2d":
            k = layer.kernel
            w = np.sort(windows(layer.x, k, k, layer.stride).reshape(*layer.y.shape, k * k), axis=-1)
            if k * k > 1 and np.any(w[..., -1] - w[..., -2] < gap):
                return True
        if layer.type_name == "relu" and np.any(np.abs(layer.x) < gap):
            return True
    return False


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(layer_entries, min_size=0, max_size=4), st.integers(5, 9), st.integers(1, 2),
       st.integers(0, 2**16))
def test_random_stacks_either_build_and_pass_gradcheck_or_raise_spec_error(body, size, channels, seed):
    spec = {"input_shape": [channels, size, size], "layers": [*body, {"type": "flatten"}, DENSE],
            "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}}
    try:
        net = vc.Network.from_spec(spec, dtype=np.float64, seed=seed)
    except vc.SpecError as e:
        assert str(e).startswith("layer ")
        return
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, channels, size, size))
    net.forward(x)
    assume(not has_kinks(net))
    report = vc.gradcheck(net, x, rng.integers(0, 3, 2), max_entries=12)
    assert report.passed, report.table()


junk = st.recursive(st.none() | st.booleans() | st.integers(-3, 30) | st.floats(allow_nan=True) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
                    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(junk, st.lists(st.dictionaries(st.sampled_from(["type", "out_channels", "kernel_size", "stride", "padding",
                                                       "bias", "p", "out_features", "extra"]),
                                      junk | st.sampled_from(["conv2d", "dense", "maxpool2d", "lppool2d", "relu"])),
                      max_size=4))
def test_random_invalid_specs_raise_only_spec_error(shape, layers):
    spec = {"input_shape": shape, "layers": layers}
    try:
        vc.Network.from_spec(spec)
    except vc.SpecError:
        pass
