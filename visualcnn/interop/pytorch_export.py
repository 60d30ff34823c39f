"""A Network → a small self-contained PyTorch file (an nn.Module) and its weights (.npz), no visualcnn needed.

    to_pytorch(net, "mynet.py")          # writes mynet.py and mynet.npz
    # elsewhere:  from mynet import load; model = load(); logits = model(x)

Layers map to nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.ReLU, nn.Sigmoid, nn.Tanh, nn.Flatten and
nn.Linear under the names layer0, layer1, … (a dense layer on a (C, H, W) input gets an nn.Flatten
before it, as the core's dense flattens its input). Two layers have no exact nn equivalent and are
written out in the file: a conv with untied biases (one per output unit), and Lp pooling, computed on
|x| (PyTorch's LPPool2d raises x, not |x|, to the power p, which differs for odd p) in the mean or sum
form. The model outputs logits; the loss is nn.CrossEntropyLoss with the network's reduction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_write
from .onnx_export import ExportError
from visualcnn.i18n import _

_HEADER = '''"""{name}: a CNN exported from visualcnn (input {shape}, {classes} classes).

Needs torch and numpy only. The weights are in {weights} beside this file.

    from {module} import load
    model = load()                  # eval mode, weights loaded
    logits = model(x)               # x: (N, {shape_args}) float tensor
    loss = nn.CrossEntropyLoss(reduction="{reduction}")(logits, labels)
"""

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

INPUT_SHAPE = {input_shape}
DTYPE = torch.{dtype}
'''

_UNTIED = '''

class UntiedConv2d(nn.Module):
    """A convolution with one bias per output unit: bias (F, H_out, W_out)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, out_size):
        super().__init__()
        self.stride, self.padding = stride, padding
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels, *out_size))

    def forward(self, x):
        return F.conv2d(x, self.weight, None, self.stride, self.padding) + self.bias
'''

_LPPOOL = '''

class LpPool2d(nn.Module):
    """Lp pooling on |x|: mean form ((1/|P|) sum |x|^p)^(1/p), or sum form (sum |x|^p)^(1/p)."""

    def __init__(self, p, kernel_size, stride, norm):
        super().__init__()
        self.p, self.kernel_size, self.stride, self.norm = p, kernel_size, stride, norm

    def forward(self, x):
        pooled = F.avg_pool2d(x.abs() ** self.p, self.kernel_size, self.stride)
        if self.norm == "sum":
            pooled = pooled * (self.kernel_size * self.kernel_size)
        return pooled ** (1.0 / self.p)
'''

_FOOTER = '''

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential()
{adds}

    def forward(self, x):
        return self.layers(x)


def load(weights=None):
    """The network with its weights (from {weights} beside this file unless `weights` says otherwise)."""
    model = Net().to(DTYPE)
    path = Path(weights) if weights is not None else Path(__file__).with_name("{weights}")
    with np.load(path, allow_pickle=False) as z:
        state = {{name: torch.from_numpy(z[name]) for name in z.files}}
    model.load_state_dict(state)
    return model.eval()
'''


#: modules the written code imports (a file named like one of them would import itself instead)
_IMPORTS = ("torch", "numpy", "pathlib")


def pytorch_source(net: Any, module: str = "model", weights: str = "model.npz") -> tuple[str, dict[str, np.ndarray]]:
    """(Python source, state dict as arrays) for `net`; the source loads `weights` from beside itself."""
    adds: list[str] = []
    state: dict[str, np.ndarray] = {}
    helpers: list[str] = []
    for i, layer in enumerate(net.layers):
        kind, o = layer.type_name, layer.options
        name = f"layer{i}"
        if kind == "conv2d":
            C, F_ = layer.input_shape[0], o["out_channels"]
            k, s, p = o["kernel_size"], o["stride"], o["padding"]
            if layer.params["b"].ndim == 1:
                module_text = f"nn.Conv2d({C}, {F_}, kernel_size={k}, stride={s}, padding={p})"
            else:
                module_text = (f"UntiedConv2d({C}, {F_}, kernel_size={k}, stride={s}, padding={p}, "
                               f"out_size={tuple(layer.output_shape[1:])})")
                if _UNTIED not in helpers:
                    helpers.append(_UNTIED)
            state[f"layers.{name}.weight"] = layer.params["W"]
            state[f"layers.{name}.bias"] = layer.params["b"]
        elif kind == "maxpool2d":
            module_text = f"nn.MaxPool2d(kernel_size={layer.kernel}, stride={layer.stride})"
        elif kind == "avgpool2d":
            module_text = f"nn.AvgPool2d(kernel_size={layer.kernel}, stride={layer.stride})"
        elif kind == "lppool2d":
            module_text = (f"LpPool2d(p={float(o['p'])!r}, kernel_size={layer.kernel}, stride={layer.stride}, "
                           f"norm={o.get('norm', 'mean')!r})")
            if _LPPOOL not in helpers:
                helpers.append(_LPPOOL)
        elif kind in ("sigmoid", "relu", "tanh"):
            module_text = {"sigmoid": "nn.Sigmoid()", "relu": "nn.ReLU()", "tanh": "nn.Tanh()"}[kind]
        elif kind == "flatten":
            module_text = "nn.Flatten()"
        elif kind == "dense":
            if len(layer.input_shape) != 1:
                adds.append(f'        self.layers.add_module("{name}_flatten", nn.Flatten())')
            d_in = int(np.prod(layer.input_shape))
            module_text = f"nn.Linear({d_in}, {o['out_features']})"
            state[f"layers.{name}.weight"] = layer.params["W"]
            state[f"layers.{name}.bias"] = layer.params["b"]
        else:
            raise ExportError(_("layer {i} {kind}: no PyTorch equivalent (a custom layer); PyTorch "
                                "export covers conv2d, maxpool2d, avgpool2d, lppool2d, sigmoid, relu, "
                                "tanh, flatten, dense").format(i=i, kind=kind))
        adds.append(f'        self.layers.add_module("{name}", {module_text})   # layer {i} {kind}')
    shape = "×".join(map(str, net.input_shape))
    source = _HEADER.format(name=module, shape=shape, classes=net.n_classes, weights=weights, module=module,
                            shape_args=", ".join(map(str, net.input_shape)), reduction=net.loss_fn.reduction,
                            input_shape=tuple(net.input_shape), dtype=np.dtype(net.dtype).name)
    source += "".join(helpers) + _FOOTER.format(adds="\n".join(adds), weights=weights)
    return source, {k: np.array(v) for k, v in state.items()}


def to_pytorch(net: Any, path: str | Path) -> tuple[Path, Path]:
    """Write `path` (.py, an nn.Module) and its weights beside it (same name, .npz); returns both paths."""
    path = Path(path)
    if path.suffix != ".py":
        raise ExportError(_("cannot write PyTorch code to {path}: the file name must end in .py").format(path=path))
    if not path.stem.isidentifier():
        raise ExportError(_("cannot write PyTorch code to {path}: {stem!r} is not a valid Python "
                            "module name (letters, digits and _ only, not starting with a digit)").format(
                              path=path, stem=path.stem))
    if path.stem in _IMPORTS:
        raise ExportError(_("cannot write PyTorch code to {path}: a module named {stem!r} would hide "
                            "the {stem} it imports; choose another name").format(path=path, stem=path.stem))
    if not path.parent.exists():
        raise ExportError(_("cannot write {path}: the folder {parent} does not exist").format(
                              path=path, parent=path.parent))
    weights = path.with_suffix(".npz")
    source, state = pytorch_source(net, module=path.stem, weights=weights.name)
    atomic_write(weights, lambda f: np.savez(f, **state))
    atomic_write(path, lambda f: f.write(source), binary=False)
    return path, weights
