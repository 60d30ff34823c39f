"""ONNX round trips: every layer type and option exported, run by ONNX's own reference evaluator, read back."""

from __future__ import annotations

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.interop import load_onnx, to_onnx

from .interop_helpers import same_params

onnx = pytest.importorskip("onnx")
from onnx.reference import ReferenceEvaluator  # noqa: E402

HAS_LP_NORM = "norm" in vc.LAYER_TYPES["lppool2d"].fields
needs_norm = pytest.mark.skipif(not HAS_LP_NORM, reason="this core's lppool2d has no 'norm' option (sum form) yet")


def _stack(*layers, input_shape=(2, 11, 11), classes=3):
    return {"input_shape": list(input_shape), "layers": [*layers, {"type": "dense", "out_features": classes}]}


CONV_POOL = [
    pytest.param([{"type": "conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "relu"}], id="conv-relu"),
    pytest.param([{"type": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2, "padding": 1},
                  {"type": "sigmoid"}], id="conv-stride-pad-sigmoid"),
    pytest.param([{"type": "conv2d", "out_channels": 3, "kernel_size": 2, "bias": "untied"}, {"type": "tanh"}],
                 id="conv-untied-tanh"),
    pytest.param([{"type": "maxpool2d", "kernel_size": 2}], id="maxpool"),
    pytest.param([{"type": "maxpool2d", "kernel_size": 3, "stride": 2}], id="maxpool-overlap"),
    pytest.param([{"type": "avgpool2d", "kernel_size": 2, "stride": 3}], id="avgpool-gaps"),
    pytest.param([{"type": "lppool2d", "kernel_size": 2, "p": 2}], id="lp-mean-p2"),
    pytest.param([{"type": "lppool2d", "kernel_size": 3, "stride": 2, "p": 3}], id="lp-mean-p3"),
    pytest.param([{"type": "lppool2d", "kernel_size": 2, "p": 2.5}], id="lp-mean-p2.5"),
    pytest.param([{"type": "lppool2d", "kernel_size": 2, "p": 2, "norm": "sum"}], id="lp-sum-p2",
                 marks=needs_norm),
    pytest.param([{"type": "lppool2d", "kernel_size": 2, "p": 1.5, "norm": "sum"}], id="lp-sum-p1.5",
                 marks=needs_norm),
    pytest.param([{"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "flatten"},
                  {"type": "tanh"}], id="flatten-explicit"),
    pytest.param([{"type": "conv2d", "out_channels": 2, "kernel_size": 3, "bias": "untied"}, {"type": "relu"},
                  {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 7},
                  {"type": "sigmoid"}], id="two-dense"),
]


def _randomised(spec, dtype=np.float32, seed=0):
    """A network whose every parameter (biases too) is random, so a dropped or misplaced one shows."""
    net = vc.Network.from_spec(spec, dtype=dtype, seed=seed)
    rng = np.random.default_rng(seed + 1)
    net.set_params([{k: rng.normal(0, 0.5, v.shape) for k, v in p.items()} for p in net.get_params()])
    return net


def _max_rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-30))


@pytest.mark.parametrize("layers", CONV_POOL)
def test_export_runs_in_the_reference_evaluator_with_the_same_logits_and_reads_back_bit_identical(layers, tmp_path):
    net = _randomised(_stack(*layers))
    path = to_onnx(net, tmp_path / "net.onnx")
    onnx.checker.check_model(str(path), full_check=True)          # valid for any ONNX tool, shapes inferred
    x = np.random.default_rng(2).normal(size=(3, *net.input_shape)).astype(np.float32)
    (ref,) = ReferenceEvaluator(str(path)).run(None, {"input": x})
    ours = net.forward(x)
    assert ref.dtype == np.float32 and ref.shape == ours.shape
    assert _max_rel(ref, ours) <= 1e-5

    back = load_onnx(path)
    assert back.spec["layers"] == vc.Network.from_spec(net.to_spec()).to_spec()["layers"]
    again = back.network()
    for i, (p, q) in enumerate(zip(net.get_params(), again.get_params())):
        assert set(p) == set(q), i
        for k in p:
            assert p[k].tobytes() == q[k].tobytes(), f"layer {i} {k} changed in the round trip"
    assert np.array_equal(again.forward(x), ours)


def test_float64_network_exports_double_tensors(tmp_path):
    net = _randomised(_stack({"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "tanh"}),
                      dtype=np.float64)
    path = net.to_onnx(tmp_path / "d.onnx")
    x = np.random.default_rng(0).normal(size=(2, *net.input_shape))
    (ref,) = ReferenceEvaluator(str(path)).run(None, {"input": x})
    assert ref.dtype == np.float64
    assert _max_rel(ref, net.forward(x)) <= 1e-12
    back = vc.Network.from_onnx(path, dtype=np.float64)
    assert same_params(back, net)


def test_dense_only_network_on_vector_input(tmp_path):
    net = _randomised({"input_shape": [6], "layers": [{"type": "dense", "out_features": 4}, {"type": "relu"},
                                                        {"type": "dense", "out_features": 2}]})
    path = net.to_onnx(tmp_path / "v.onnx")
    x = np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32)
    (ref,) = ReferenceEvaluator(str(path)).run(None, {"input": x})
    assert _max_rel(ref, net.forward(x)) <= 1e-5
    assert load_onnx(path).spec["layers"] == net.to_spec()["layers"]


def test_export_refuses_a_custom_layer_naming_it(tmp_path):
    class Double(vc.Layer):
        type_name = "double"

        def forward(self, x):
            return 2 * x

    net = vc.Network.from_spec(_stack({"type": "double"}), layer_types={**vc.LAYER_TYPES, "double": Double})
    with pytest.raises(vc.VisualCNNError, match=r"layer 0 double: no ONNX equivalent"):
        net.to_onnx(tmp_path / "c.onnx")
    assert not (tmp_path / "c.onnx").exists()


def test_export_into_a_missing_folder_is_one_clear_error(tmp_path):
    net = vc.Network.from_spec(_stack({"type": "relu"}))
    with pytest.raises(vc.VisualCNNError, match="does not exist"):
        net.to_onnx(tmp_path / "nope" / "x.onnx")
