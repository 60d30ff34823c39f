"""A Network → an ONNX model computing the same logits (float32 or float64, as the network).

    to_onnx(net, "model.onnx")

One group of standard ops per layer: Conv (+ Add of a (1, F, H', W') constant for untied biases),
MaxPool / AveragePool, LpPool for the sum form with an integer p, and for the mean form (or a
fractional p) the ops of its definition: Abs → Pow(p) → AveragePool → [Mul(k·k) for the sum] → Pow(1/p).
Sigmoid / Relu / Tanh, Flatten, Gemm (transB = 1, so W keeps its (out, in) layout). The output is the
logits (N, K); softmax + cross-entropy stay with the loss. The batch axis is named "N" (any size).
`load_onnx` reads every one of these back to the same spec and bit-identical parameters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import VisualCNNError
from ..io import atomic_write
from visualcnn.i18n import _

#: ONNX operator set written (LpPool, Pow, AveragePool as in opset 17; the reference evaluator runs it)
OPSET = 17
#: doc_string of the Flatten written for a dense layer on a (C, H, W) input: read back as part of that layer
IMPLICIT_FLATTEN = "visualcnn: the dense layer after this flattens its input itself"
_ELEM = {np.dtype(np.float32): 1, np.dtype(np.float64): 11}


class ExportError(VisualCNNError):
    """A network that cannot be written in the requested format: names the layer and why."""


def build_onnx(net: Any, name: str = "visualcnn") -> Any:
    """The ModelProto for `net` (nothing written)."""
    from onnx import helper, numpy_helper

    dtype = np.dtype(net.dtype)
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(tensor_name: str, value: Any) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), tensor_name))
        return tensor_name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    cur = "input"
    for i, layer in enumerate(net.layers):
        kind, o = layer.type_name, layer.options
        at = f"layer{i}_{kind}"
        if kind == "conv2d":
            k, s, p = o["kernel_size"], o["stride"], o["padding"]
            W, b = layer.params["W"], layer.params["b"]
            attrs = dict(kernel_shape=[k, k], strides=[s, s], pads=[p] * 4)
            if b.ndim == 1:
                cur = node("Conv", [cur, const(f"{at}.W", W), const(f"{at}.b", b)], at, **attrs)
            else:
                cur = node("Conv", [cur, const(f"{at}.W", W)], f"{at}_conv", **attrs)
                cur = node("Add", [cur, const(f"{at}.b", b[None])], at)       # one bias per unit, (1, F, H', W')
        elif kind in ("maxpool2d", "avgpool2d", "lppool2d"):
            k, s = layer.kernel, layer.stride
            window = dict(kernel_shape=[k, k], strides=[s, s])
            norm = o.get("norm", "mean")
            p = float(o.get("p", 2.0))
            if kind == "maxpool2d":
                cur = node("MaxPool", [cur], at, **window)
            elif kind == "avgpool2d":
                cur = node("AveragePool", [cur], at, **window)
            elif norm == "sum" and p.is_integer():
                cur = node("LpPool", [cur], at, p=int(p), **window)
            else:
                # ((1/|P|) Σ|x|^p)^(1/p): the mean form's own definition, in ops (× k·k first for the sum form)
                cur = node("Abs", [cur], f"{at}_abs")
                cur = node("Pow", [cur, const(f"{at}.p", p)], f"{at}_pow")
                cur = node("AveragePool", [cur], f"{at}_mean", **window)
                if norm == "sum":
                    cur = node("Mul", [cur, const(f"{at}.count", k * k)], f"{at}_sum")
                cur = node("Pow", [cur, const(f"{at}.inv_p", 1.0 / p)], at)
        elif kind in ("sigmoid", "relu", "tanh"):
            cur = node({"sigmoid": "Sigmoid", "relu": "Relu", "tanh": "Tanh"}[kind], [cur], at)
        elif kind == "flatten":
            cur = node("Flatten", [cur], at, axis=1)
        elif kind == "dense":
            if len(layer.input_shape) != 1:                  # the dense layer flattens its input itself
                cur = node("Flatten", [cur], f"{at}_flatten", axis=1)
                nodes[-1].doc_string = IMPLICIT_FLATTEN
            cur = node("Gemm", [cur, const(f"{at}.W", layer.params["W"]), const(f"{at}.b", layer.params["b"])],
                       at, transB=1)
        else:
            raise ExportError(_("layer {i} {kind}: no ONNX equivalent (a custom layer); ONNX export "
                                "covers conv2d, maxpool2d, avgpool2d, lppool2d, sigmoid, relu, tanh, "
                                "flatten, dense").format(i=i, kind=kind))
    nodes[-1].output[0] = "logits"
    nodes[-1].name = "logits"
    elem = _ELEM[dtype]
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", elem, ["N", *net.input_shape])],
        [helper.make_tensor_value_info("logits", elem, ["N", net.n_classes])],
        initializer=inits)
    from .. import __version__
    model = helper.make_model(graph, producer_name="visualcnn", producer_version=__version__,
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8                 # readable by every onnx/onnxruntime release since 1.10
    return model


def to_onnx(net: Any, path: str | Path) -> Path:
    """Write `net` (spec and current parameters) as a self-contained ONNX file, atomically."""
    path = Path(path)
    if not path.parent.exists():
        raise ExportError(_("cannot write {path}: the folder {parent} does not exist").format(
                              path=path, parent=path.parent))
    model = build_onnx(net, name=path.stem or "visualcnn")
    data = model.SerializeToString()
    return atomic_write(path, lambda f: f.write(data))
