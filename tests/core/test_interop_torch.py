"""A model trained in PyTorch, opened here: logits and every gradient against PyTorch's autograd, and back out.

Without torch (CI) the checks run against fixtures made by scripts/make_torch_fixture.py: the ONNX
file torch.onnx.export wrote and PyTorch's own autograd values. With torch installed (the benchmarks'
environment) the live tests also export fresh models and load the PyTorch code export in PyTorch;
they say so when skipped.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.interop import ModelImportError, load_onnx, pytorch_source, to_onnx, to_pytorch

onnx = pytest.importorskip("onnx")
from onnx.reference import ReferenceEvaluator  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HAS_LP_NORM = "norm" in vc.LAYER_TYPES["lppool2d"].fields
try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed here (the checks against PyTorch "
                                                       "ran on the committed fixtures instead)")


def rel(a, b):
    """max |a − b| / max |b|: the relative error of a whole tensor."""
    return float(np.max(np.abs(np.asarray(a, np.float64) - b)) / max(float(np.max(np.abs(b))), 1e-30))


@pytest.fixture(scope="module")
def tinyvgg():
    return load_onnx(FIXTURES / "tinyvgg_torch.onnx"), dict(np.load(FIXTURES / "tinyvgg_torch_ref.npz"))


def test_the_pytorch_model_opens_with_its_layers(tinyvgg):
    model, _ = tinyvgg
    assert [e["type"] for e in model.spec["layers"]] == [
        "conv2d", "relu", "conv2d", "relu", "maxpool2d", "conv2d", "relu", "avgpool2d", "flatten", "dense"]
    assert model.spec["input_shape"] == [1, 16, 16]
    assert "pytorch" in model.report.text() and "2,120 parameters" in model.report.text()


def test_logits_loss_and_every_gradient_match_pytorch_autograd(tinyvgg):
    model, ref = tinyvgg
    net = model.network(np.float32)
    logits = net.forward(ref["x"])
    assert rel(logits, ref["logits"]) <= 1e-4
    assert rel(logits, ref["logits_unfused"]) <= 1e-4          # PyTorch's own model, BatchNorm unfused
    loss = net.loss(logits, ref["labels"])
    assert abs(loss - float(ref["loss"])) <= 1e-4 * abs(float(ref["loss"]))
    dx = net.backward()
    assert rel(dx, ref["dx"]) <= 1e-4
    checked = 0
    for i, layer in enumerate(net.layers):
        for k, g in layer.grads.items():
            assert rel(g, ref[f"{i}/{k}"]) <= 1e-4, f"layer {i} {layer.type_name} ∂C/∂{k}"
            checked += 1
    assert checked == 8


def test_gradient_check_is_green_on_the_imported_model(tinyvgg):
    model, ref = tinyvgg
    report = vc.gradcheck(model.network(), ref["x"][:2], ref["labels"][:2], max_entries=12, jitter=0.01)
    assert report.passed, report.table()


def test_exported_back_it_gives_pytorchs_logits(tinyvgg, tmp_path):
    model, ref = tinyvgg
    path = to_onnx(model.network(), tmp_path / "back.onnx")
    (logits,) = ReferenceEvaluator(str(path)).run(None, {"input": ref["x"]})
    assert rel(logits, ref["logits"]) <= 1e-4
    source, state = pytorch_source(model.network(), module="back", weights="back.npz")
    compile(source, "back.py", "exec")
    assert set(state) == {f"layers.layer{i}.{k}" for i in (0, 2, 5, 9) for k in ("weight", "bias")}


def test_pytorch_lppool2d_opens_as_the_sum_form():
    path = FIXTURES / "lppool_torch.onnx"
    if not HAS_LP_NORM:
        with pytest.raises(ModelImportError, match="sum form"):
            load_onnx(path)
        pytest.skip("this core's lppool2d has no 'norm' option (sum form) yet: PyTorch's LPPool2d is refused, clearly")
    ref = np.load(FIXTURES / "lppool_torch_ref.npz")
    model = load_onnx(path)
    assert model.spec["layers"][2]["norm"] == "sum"
    assert rel(model.network().forward(ref["x"]), ref["logits"]) <= 1e-4


# -- live PyTorch ---------------------------------------------------------------------------------------

def _tiny_vgg_torch(lp: bool = False):
    from torch import nn
    torch.manual_seed(0)
    pool = nn.LPPool2d(2, 2) if lp else nn.AvgPool2d(2)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.Tanh(), pool, nn.Dropout(0.3), nn.Flatten(), nn.Linear(6 * 2 * 2, 5))
    with torch.no_grad():                      # BatchNorm statistics that are not the identity
        model[1].running_mean.uniform_(-0.5, 0.5)
        model[1].running_var.uniform_(0.5, 2.0)
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.uniform_(-0.3, 0.3)
    return model.eval()


@needs_torch
@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo-exporter", "torchscript-exporter"])
def test_live_torch_onnx_export_matches_autograd(tmp_path, dynamo):
    import warnings

    if dynamo:
        pytest.importorskip("onnxscript", reason="torch.onnx.export's default exporter needs onnxscript")
    model = _tiny_vgg_torch(lp=HAS_LP_NORM)
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    path = tmp_path / "m.onnx"
    kw = ({"dynamic_shapes": ({0: torch.export.Dim("N")},)} if dynamo
          else {"dynamic_axes": {"image": {0: "N"}}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x[:2],), str(path), input_names=["image"], dynamo=dynamo,
                          external_data=False, **kw)
    imported = load_onnx(path)
    net = imported.network()
    labels = np.array([0, 3, 4])
    logits = net.forward(x.numpy())
    net.loss(logits, labels)
    dx = net.backward()
    xt = x.clone().requires_grad_(True)
    out = model(xt)
    torch.nn.functional.cross_entropy(out, torch.from_numpy(labels)).backward()
    assert rel(logits, out.detach().numpy()) <= 1e-4
    assert rel(dx, xt.grad.numpy()) <= 1e-4
    # the last layer's gradients are the same parameters in both (earlier ones are folded with BatchNorm)
    assert rel(net.layers[-1].grads["W"], model[-1].weight.grad.numpy()) <= 1e-4
    assert rel(net.layers[-1].grads["b"], model[-1].bias.grad.numpy()) <= 1e-4


@needs_torch
def test_live_pytorch_code_export_loads_in_pytorch_without_visualcnn(tmp_path):
    spec = {"input_shape": [2, 9, 9], "layers": [
        {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1, "bias": "untied"}, {"type": "tanh"},
        {"type": "lppool2d", "kernel_size": 2, "p": 3}, {"type": "conv2d", "out_channels": 4, "kernel_size": 2},
        {"type": "sigmoid"}, {"type": "maxpool2d", "kernel_size": 2, "stride": 1},
        {"type": "avgpool2d", "kernel_size": 1}, {"type": "relu"}, {"type": "dense", "out_features": 3}]}
    if HAS_LP_NORM:
        spec["layers"].insert(2, {"type": "lppool2d", "kernel_size": 1, "p": 1.5, "norm": "sum"})
    net = vc.Network.from_spec(spec, seed=3)
    rng = np.random.default_rng(0)
    net.set_params([{k: rng.normal(0, 0.5, v.shape) for k, v in p.items()} for p in net.get_params()])
    to_pytorch(net, tmp_path / "exported_net.py")
    x = rng.normal(size=(4, 2, 9, 9)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    # a fresh interpreter that cannot import visualcnn: only torch, numpy and the two exported files
    script = ("import sys; sys.modules['visualcnn'] = None\n"
              "import numpy as np, torch\nfrom exported_net import load\n"
              "print(repr(load()(torch.from_numpy(np.load('x.npy'))).detach().numpy().tolist()))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    logits = np.array(eval(out.stdout))
    assert rel(logits, net.forward(x)) <= 1e-5
