"""ONNX → an ordinary spec + parameters: a sequential CNN walked node by node from the input to the output.

    model = load_onnx("tinyvgg.onnx")     # ImportedModel: spec, params, report
    net = model.network()                 # a Network like any other (nothing downstream knows the source)

Supported (the opset's default attributes apply): Conv (square kernel, one stride, the same padding on
every border, group 1, with or without bias; a constant Add right after is its bias, per filter or per
unit), Relu, Sigmoid, Tanh, MaxPool / AveragePool / LpPool (square window, no padding), GlobalAveragePool /
GlobalMaxPool (on a square map: one window over all of it), Flatten / Reshape to (N, D), Gemm or MatMul
(+ Add), Softmax / LogSoftmax at the end (folded into the loss).
Exact in evaluation, and said in the report: BatchNormalization right after a Conv or Gemm is folded
into its weights; Dropout and Identity are skipped. The Lp mean form written by `to_onnx`
(Abs → Pow(p) → AveragePool → Pow(1/p)) is read back as an Lp pooling layer. Anything else is one
ModelImportError naming the node, its op and what is supported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SpecError, VisualCNNError
from ..layers import LAYER_TYPES, BuildError
from ..spec import format_shape, normalize_layer
from .onnx_ops import OpHandlers
from .onnx_read import ModelImportError, attributes, constants, graph_input, node_name, read_model, text
from .report import ImportReport, describe_layer
from visualcnn.i18n import N_, _

SUPPORTED = (N_("Conv, Relu, Sigmoid, Tanh, MaxPool, AveragePool, LpPool, GlobalAveragePool, "
                "GlobalMaxPool, Flatten, Reshape to (N, D), Gemm, MatMul + Add, Softmax/LogSoftmax at "
                "the end; BatchNormalization after Conv/Gemm is folded, Dropout and Identity are skipped"))


@dataclass
class ImportedModel:
    """An imported model: a spec the core validates, one parameter dict per layer, and the import report."""

    spec: dict[str, Any]
    params: list[dict[str, np.ndarray]]
    report: ImportReport

    def network(self, dtype: Any = np.float32, seed: int = 0):
        """A Network built from the spec with the imported parameters (cast to `dtype`)."""
        from ..network import Network
        net = Network.from_spec(self.spec, dtype=dtype, seed=seed)
        net.set_params(self.params)
        return net


def load_onnx(path: str | Path) -> ImportedModel:
    """Read the ONNX file at `path` into a spec + parameters, or raise one ModelImportError naming the problem."""
    path = Path(path)
    where = str(path)
    model = read_model(path)
    for node in model.graph.node:
        if node.domain not in ("", "ai.onnx"):
            raise ModelImportError(_("{where}: node {node_name!r} ({text}) is from the custom domain "
                                     "{domain!r}; visualcnn opens standard ONNX ops: {SUPPORTED}").format(
                                       where=where, node_name=node_name(node), text=text(node.op_type),
                                       domain=node.domain, SUPPORTED=_(SUPPORTED)))
    consts = constants(model, where, folder=path.parent)
    input_name, input_shape, batch = graph_input(model, consts, where)
    importer = _Importer(model, consts, where, input_shape)
    importer.batch = batch
    importer.walk(input_name)
    spec = {"input_shape": list(input_shape), "layers": importer.layers,
            "loss": {"type": "softmax_cross_entropy", "reduction": "mean"}}
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    report = ImportReport(source=path.name, producer=" ".join(filter(None, (text(model.producer_name),
                                                                             text(model.producer_version)))),
                          opset=int(opset), input_shape=input_shape,
                          layers=[describe_layer(e) for e in importer.layers],
                          n_params=int(sum(v.size for p in importer.params for v in p.values())),
                          folded=importer.folded, skipped=importer.skipped)
    imported = ImportedModel(spec, importer.params, report)
    try:
        imported.network()                  # every shape and parameter checked now, not when a session runs
    except VisualCNNError as e:
        raise ModelImportError(_("{where}: the imported network is not a classifier visualcnn can run: "
                                 "{error}").format(where=where, error=e)) from None
    return imported


class _Importer(OpHandlers):
    """Walks the chain input → output, one node (or one recognised group of nodes) at a time."""

    def __init__(self, model: Any, consts: dict[str, np.ndarray], where: str, input_shape: tuple[int, ...]) -> None:
        self.where = where
        self.consts = consts
        self.nodes = [n for n in model.graph.node if n.op_type != "Constant"]
        self.consumers: dict[str, list[Any]] = defaultdict(list)
        for n in self.nodes:
            for name in n.input:
                if name and name not in consts:
                    self.consumers[name].append(n)
        self.outputs = [o.name for o in model.graph.output]
        self.shape = input_shape                 # per-sample shape of the current tensor
        self.layers: list[dict[str, Any]] = []
        self.params: list[dict[str, np.ndarray]] = []
        self.folded: list[str] = []
        self.skipped: list[str] = []
        self.param_output: str | None = None     # the tensor a conv/dense layer's output is (for folding)
        self.visited: set[int] = set()
        self.final = False
        self.implicit_flatten = False
        self.batch: int | None = None            # the input's batch size when the graph fixes it

    # -- the walk ---------------------------------------------------------------------------
    def walk(self, cur: str) -> None:
        while cur not in self.outputs or self.consumers.get(cur):
            nxt = self.consumers.get(cur, [])
            if not nxt:
                raise ModelImportError(_("{where}: tensor {cur!r} leads to no graph output; visualcnn "
                                         "opens a chain of nodes from the input to the output").format(
                                           where=self.where, cur=cur))
            if len(nxt) > 1:
                names = ", ".join(f"{node_name(n)!r} ({text(n.op_type)})" for n in nxt)
                raise ModelImportError(_("{where}: tensor {cur!r} feeds {n_nxt} nodes ({names}); "
                                         "visualcnn opens sequential models (one chain, no branches)").format(
                                           where=self.where, cur=cur, n_nxt=len(nxt), names=names))
            node = nxt[0]
            if id(node) in self.visited:
                self.fail(node, _("is reached a second time: the graph has a cycle"))
            if self.final:
                self.fail(node, _("comes after the final Softmax; Softmax must be the last node"))
            handler = getattr(self, "_op_" + text(node.op_type), None)
            if handler is None:
                self.fail(node, _("is not supported; supported: {SUPPORTED}").format(SUPPORTED=_(SUPPORTED)))
            if node.input[0] != cur:
                self.fail(node, _("takes the running tensor {cur!r} as input {index}; supported only "
                                  "as its first input").format(cur=cur, index=list(node.input).index(cur)))
            self.visited.add(id(node))
            cur = handler(node, cur)
        if len(self.outputs) != 1:
            raise ModelImportError(_("{where}: the graph has {n_outputs} outputs; visualcnn opens "
                                     "models with one output (the class scores)").format(
                                       where=self.where, n_outputs=len(self.outputs)))
        left = [n for n in self.nodes if id(n) not in self.visited]
        if left:
            self.fail(left[0], _("is not on the chain from the input to the output; visualcnn opens "
                                 "sequential models"))
        if not self.layers:
            raise ModelImportError(_("{where}: no layers found between the input and the output").format(
                                       where=self.where))

    def fail(self, node: Any, problem: str) -> None:
        raise ModelImportError(f"{self.where}: node {node_name(node)!r} ({text(node.op_type)}) {problem}")

    def const(self, node: Any, index: int, what: str) -> np.ndarray:
        if index >= len(node.input) or not node.input[index]:
            self.fail(node, _("has no {what} (input {index})").format(what=what, index=index))
        name = node.input[index]
        if name not in self.consts:
            self.fail(node, _("computes its {what} (input {index}, {name!r}) from other tensors; "
                              "supported only as a stored constant").format(what=what, index=index, name=name))
        return self.consts[name]

    def sole_consumer(self, tensor: str, op: str) -> Any | None:
        """The one node reading `tensor` if it has type `op` (and `tensor` is not also a graph output)."""
        users = self.consumers.get(tensor, [])
        if len(users) == 1 and users[0].op_type == op and tensor not in self.outputs:
            return users[0]
        return None

    def other_const(self, node: Any, tensor: str) -> np.ndarray | None:
        """The constant second operand of a binary node whose other operand is `tensor`."""
        others = [name for name in node.input if name != tensor]
        if len(node.input) == 2 and len(others) == 1 and others[0] in self.consts:
            return self.consts[others[0]]
        return None

    def attr(self, node: Any, name: str, default: Any) -> Any:
        """Attribute `name` of `node` (or `default`), of the default's kind: a list of ints, an int, a number, a text."""
        value = attributes(node).get(name, default)
        if isinstance(default, list):
            ok, kind = isinstance(value, list) and all(isinstance(v, int) for v in value), _("a list of integers")
        elif isinstance(default, float):
            ok, kind = isinstance(value, (int, float)), _("a number")
        else:
            ok, kind = isinstance(value, type(default)), _("an integer") if isinstance(default, int) else _("a text")
        if not ok:
            self.fail(node, _("has a malformed {name} attribute ({value!r}); expected {kind}").format(
                                name=name, value=str(value)[:40], kind=kind))
        return value

    def unused_extra_outputs(self, node: Any) -> None:
        for name in list(node.output)[1:]:
            if name and (self.consumers.get(name) or name in self.outputs):
                self.fail(node, _("has its extra output {name!r} used; only the first output is "
                                  "supported").format(name=name))

    def add(self, node: Any, entry: dict[str, Any], params: dict[str, np.ndarray], out: str) -> str:
        index = len(self.layers)
        try:
            entry = normalize_layer(index, entry)
            layer = LAYER_TYPES[entry["type"]](**{k: v for k, v in entry.items() if k != "type"})
            shape = tuple(layer.infer_output_shape(self.shape))
        except (SpecError, BuildError) as e:
            self.fail(node, _("cannot be layer {index} {type} on its {format_shape} input: {error}").format(
                                index=index, type=entry['type'], format_shape=format_shape(self.shape), error=e))
        self.layers.append(entry)
        self.params.append(params)
        self.shape = shape
        self.param_output = out if params else None
        return out

    # -- window attributes ------------------------------------------------------------------
    def window(self, node: Any, kernel: list[int] | None = None, padding_ok: bool = False) -> tuple[int, int, int]:
        """(k, stride, padding) of a square window with one stride and one padding, or a clear refusal."""
        ks = self.attr(node, "kernel_shape", kernel or [])
        if len(ks) != 2 or ks[0] != ks[1]:
            self.fail(node, _("has kernel_shape {ks}; supported: square 2-D windows (k, k)").format(ks=ks))
        strides = self.attr(node, "strides", [1, 1])
        if len(strides) != 2 or strides[0] != strides[1]:
            self.fail(node, _("has strides {strides}; supported: the same stride on both axes").format(
                                strides=strides))
        dilations = self.attr(node, "dilations", [1, 1])
        if any(d != 1 for d in dilations):
            self.fail(node, _("has dilations {dilations}; supported: no dilation").format(dilations=dilations))
        auto_pad = self.attr(node, "auto_pad", "NOTSET")
        if auto_pad not in ("NOTSET", "VALID"):
            self.fail(node, _("has auto_pad {auto_pad!r}; supported: explicit pads").format(auto_pad=auto_pad))
        pads = self.attr(node, "pads", [0, 0, 0, 0]) if auto_pad == "NOTSET" else [0, 0, 0, 0]
        if len(pads) != 4 or len(set(pads)) != 1:
            self.fail(node, _("has pads {pads}; supported: the same padding on every border").format(pads=pads))
        if pads[0] and not padding_ok:
            self.fail(node, _("has pads {pads}; supported: pooling without padding").format(pads=pads))
        k, s, p = ks[0], strides[0], pads[0]
        if self.attr(node, "ceil_mode", 0) and len(self.shape) == 3:
            H, W = self.shape[1:]
            if any((n + 2 * p - k) % s for n in (H, W)):
                self.fail(node, _("has ceil_mode 1 with windows that do not tile the input; supported: "
                                  "floor (ceil_mode 0), or ceil_mode where both give the same size"))
        return k, s, p

    def pool_entry(self, node: Any, kind: str, k: int, s: int, **extra: Any) -> dict[str, Any]:
        return {"type": kind, "kernel_size": k, "stride": None if s == k else s, **extra}
