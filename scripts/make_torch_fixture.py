"""Make the PyTorch fixtures of the interop tests (needs torch and onnxscript; CI only reads what this writes).

    .venv/bin/python scripts/make_torch_fixture.py

Trains a TinyVGG-like CNN briefly in PyTorch on the bundled 16×16 digits, exports it with
torch.onnx.export (the default exporter, weights inside the file), and saves PyTorch's own
autograd results on a fixed batch, so that a machine without torch can still check that
visualcnn opens the model and reproduces PyTorch's logits and every gradient:

    tests/fixtures/tinyvgg_torch.onnx      Conv, BatchNorm, ReLU, MaxPool, AvgPool, Dropout, Flatten, Linear
    tests/fixtures/tinyvgg_torch_ref.npz   x, labels, logits, loss, dx and the gradient of every parameter
                                           of the same model with BatchNorm fused into its conv by PyTorch
                                           (torch.nn.utils.fusion), named "<layer index>/W" and "<layer index>/b"
    tests/fixtures/lppool_torch.onnx       a small model with LPPool2d (ONNX LpPool, the sum form)
    tests/fixtures/lppool_torch_ref.npz    its x and logits
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT))


def tiny_vgg() -> nn.Sequential:
    """TinyVGG (CNN Explainer's) shrunk for 1×16×16 digits, with BatchNorm and Dropout as real models have."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
        nn.Conv2d(6, 6, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(8 * 4 * 4, 10))


def lp_model() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), nn.LPPool2d(2, 2), nn.Flatten(), nn.Linear(4 * 3 * 3, 4))


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int = 4) -> None:
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=g)
        for s in range(0, len(y), 32):
            idx = order[s:s + 32]
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    model.eval()


def export(model: nn.Module, example: torch.Tensor, path: Path) -> None:
    torch.onnx.export(model, (example,), str(path), input_names=["image"], output_names=["logits"],
                      dynamic_shapes=({0: torch.export.Dim("N")},), external_data=False)


def main() -> None:
    from visualcnn.data import load_dataset

    torch.manual_seed(0)
    ds = load_dataset("digits", size=16)
    x_all = torch.from_numpy(ds.x_train)
    y_all = torch.from_numpy(ds.y_train).long()
    model = tiny_vgg()
    train(model, x_all, y_all)
    acc = (model(torch.from_numpy(ds.x_test)).argmax(1).numpy() == ds.y_test).mean()
    print(f"TinyVGG-like: test accuracy {acc:.1%} after brief training")
    OUT.mkdir(parents=True, exist_ok=True)
    export(model, x_all[:2], OUT / "tinyvgg_torch.onnx")

    # PyTorch's autograd on a fixed batch, on the same model with BatchNorm fused into the first conv
    rng = np.random.default_rng(0)
    idx = rng.choice(len(ds.y_test), size=4, replace=False)
    x = torch.from_numpy(ds.x_test[idx] + rng.normal(0, 0.05, ds.x_test[idx].shape).astype(np.float32))
    labels = torch.from_numpy(ds.y_test[idx]).long()
    fused = nn.Sequential(torch.nn.utils.fusion.fuse_conv_bn_eval(model[0], model[1]),
                          *[m for i, m in enumerate(model) if i > 1 and not isinstance(m, nn.Dropout)])
    fused.eval()
    fused.zero_grad(set_to_none=True)            # the shared modules still hold the last training step's gradients
    x.requires_grad_(True)
    logits = fused(x)
    loss = nn.functional.cross_entropy(logits, labels)
    loss.backward()
    ref = {"x": x.detach().numpy(), "labels": labels.numpy(), "logits": logits.detach().numpy(),
           "logits_unfused": model(x).detach().numpy(), "loss": np.float32(loss.item()),
           "dx": x.grad.numpy()}
    for i, m in enumerate(fused):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            ref[f"{i}/W"] = m.weight.grad.numpy()
            ref[f"{i}/b"] = m.bias.grad.numpy()
    np.savez_compressed(OUT / "tinyvgg_torch_ref.npz", **ref)

    lp = lp_model()
    x_lp = torch.from_numpy(np.random.default_rng(1).normal(size=(3, 1, 9, 9)).astype(np.float32))
    lp.eval()
    export(lp, x_lp[:2], OUT / "lppool_torch.onnx")
    np.savez_compressed(OUT / "lppool_torch_ref.npz", x=x_lp.numpy(), logits=lp(x_lp).detach().numpy())
    for p in sorted(OUT.glob("*torch*")):
        print(f"wrote {p.relative_to(ROOT)} ({p.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
