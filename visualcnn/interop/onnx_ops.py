"""The ONNX ops the importer understands, one handler each: `_op_<OpType>(node, cur)` returns the new running tensor.

A handler turns its node (or a recognised group of nodes starting there) into one spec entry with
`self.add`, folds it into the layer before (BatchNormalization), or skips it (Dropout, Identity);
anything it cannot represent exactly is `self.fail(node, why)`. The walk itself is in onnx_import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers import LAYER_TYPES
from ..spec import format_shape
from .onnx_export import IMPLICIT_FLATTEN
from .onnx_read import node_name
from visualcnn.i18n import N_, _


class OpHandlers:
    """Mixin of the importer: the per-op handlers (it provides add, fail, const, window, sole_consumer, …)."""

    def _op_Conv(self, node, cur):
        W = self.const(node, 1, "weights")
        if W.ndim != 4:
            self.fail(node, _("has {ndim}-D weights {shape}; supported: 2-D convolution (F, C, k, k)").format(
                                ndim=W.ndim, shape=W.shape))
        group = self.attr(node, "group", 1)
        if group != 1:
            self.fail(node, _("has group {group}; supported: group 1 (every filter sees every channel)").format(
                                group=group))
        k, s, p = self.window(node, kernel=list(W.shape[2:]), padding_ok=True)
        if tuple(W.shape[2:]) != (k, k):
            self.fail(node, _("has kernel_shape {k}×{k} but weights {shape}").format(k=k, shape=W.shape))
        F = W.shape[0]
        b = self.const(node, 2, "bias") if len(node.input) > 2 and node.input[2] else np.zeros(F, dtype=W.dtype)
        if b.shape != (F,):
            self.fail(node, _("has a bias of shape {shape}; expected ({F},)").format(shape=b.shape, F=F))
        entry = {"type": "conv2d", "out_channels": F, "kernel_size": k, "stride": s, "padding": p, "bias": "tied"}
        out = node.output[0]
        add = self.sole_consumer(out, "Add")
        c = self.other_const(add, out) if add is not None else None
        if c is not None:
            # a constant added right after the convolution is its bias: per filter (F, 1, 1) or per unit (F, H', W')
            H_out = (self.shape[1] + 2 * p - k) // s + 1 if len(self.shape) == 3 else 0
            W_out = (self.shape[2] + 2 * p - k) // s + 1 if len(self.shape) == 3 else 0
            c = c.reshape(c.shape[1:]) if c.ndim == 4 and c.shape[0] == 1 else c
            if c.shape == (F, H_out, W_out):
                entry["bias"] = "untied"
                b = b.astype(np.result_type(b, c))[:, None, None] + c if b.any() else c.copy()
            elif c.shape == (F, 1, 1):
                b = b + c.reshape(F)
            else:
                c = None
            if c is not None:
                self.visited.add(id(add))
                out = add.output[0]
        return self.add(node, entry, {"W": W, "b": b}, out)

    def _activation(self, node, cur):
        return self.add(node, {"type": node.op_type.lower()}, {}, node.output[0])

    _op_Relu = _op_Sigmoid = _op_Tanh = _activation

    def _op_MaxPool(self, node, cur):
        self.unused_extra_outputs(node)             # the Indices output (and its storage_order) unused
        k, s, _ = self.window(node)
        return self.add(node, self.pool_entry(node, "maxpool2d", k, s), {}, node.output[0])

    def _op_AveragePool(self, node, cur):
        k, s, _ = self.window(node)
        return self.add(node, self.pool_entry(node, "avgpool2d", k, s), {}, node.output[0])

    def _global(self, node, cur):
        # PyTorch's AdaptiveAvgPool2d(1) / AdaptiveMaxPool2d(1): one window over the whole (square) map
        if len(self.shape) != 3 or self.shape[1] != self.shape[2]:
            self.fail(node, _("pools a {format_shape} input; supported: square maps (one k×k window)").format(
                                format_shape=format_shape(self.shape)))
        kind = "avgpool2d" if node.op_type == "GlobalAveragePool" else "maxpool2d"
        return self.add(node, self.pool_entry(node, kind, self.shape[1], self.shape[1]), {}, node.output[0])

    _op_GlobalAveragePool = _op_GlobalMaxPool = _global

    def _op_LpPool(self, node, cur):
        k, s, _ = self.window(node)
        p = self.attr(node, "p", 2)
        return self.add(node, self._lp_entry(node, k, s, p, "sum"), {}, node.output[0])

    def _lp_entry(self, node, k: int, s: int, p: float, norm: str) -> dict[str, Any]:
        if p < 1:
            self.fail(node, _("has p = {p:g}; supported: p >= 1").format(p=p))
        extra: dict[str, Any] = {"p": p}
        if "norm" in LAYER_TYPES["lppool2d"].fields:
            extra["norm"] = norm
        elif norm == "sum":
            self.fail(node, _("computes the sum form (Σ|x|^p)^(1/p), and this visualcnn's Lp pooling "
                              "has only the mean form ((1/|P|) Σ|x|^p)^(1/p)"))
        return self.pool_entry(node, "lppool2d", k, s, **extra)

    LP_PATTERN = (N_("is supported only as part of Lp pooling: [Abs →] Pow(p) → AveragePool → "
                     "[Mul(k·k)] → Pow(1/p) (as visualcnn and PyTorch's LPPool2d write it)"))

    def _op_Abs(self, node, cur):
        pow1 = self.sole_consumer(node.output[0], "Pow")
        if pow1 is None:
            self.fail(node, _(self.LP_PATTERN))
        self.visited.add(id(pow1))
        return self._lp_ops(node, pow1, node.output[0], absolute=True)

    def _op_Pow(self, node, cur):
        return self._lp_ops(node, node, cur, absolute=False)

    def _lp_ops(self, first, pow1, tensor: str, absolute: bool) -> str:
        """Lp pooling written as ops, from its first node on; the group becomes one lppool2d layer."""
        p = self.other_const(pow1, tensor)
        pool = self.sole_consumer(pow1.output[0], "AveragePool") if p is not None and p.size == 1 else None
        if pool is None:
            self.fail(first, _(self.LP_PATTERN))
        k, s, _pads = self.window(pool)
        group = [pool]
        tail, extra = self._identity_sign_abs(pool.output[0])      # PyTorch's sign(t)·relu(|t|), which is t
        group += extra
        mul = self.sole_consumer(tail, "Mul")
        c = self.other_const(mul, tail) if mul is not None else None
        if c is not None and c.size == 1 and float(c.reshape(())) == float(k * k):
            tail = mul.output[0]
            group.append(mul)
        else:
            mul = None
        pow2 = self.sole_consumer(tail, "Pow")
        inv = self.other_const(pow2, tail) if pow2 is not None else None
        p = float(p.reshape(()))
        if inv is None or inv.size != 1 or not np.isclose(float(inv.reshape(())) * p, 1.0, rtol=1e-6):
            self.fail(first, _(self.LP_PATTERN))
        nonnegative = bool(self.layers) and self.layers[-1]["type"] in ("relu", "sigmoid")
        if not absolute and not (p.is_integer() and p % 2 == 0) and not nonnegative:
            self.fail(first, _("raises to the power p = {p:g} without taking |x| first (PyTorch's "
                               "LPPool2d): for an odd or fractional p that is not the Lp norm on "
                               "negative inputs (PyTorch gives NaN there); supported: an even p, or a "
                               "ReLU or Sigmoid right before the pooling").format(p=p))
        self.visited.update(id(n) for n in (*group, pow2))
        p_value: float | int = int(p) if p.is_integer() else p
        return self.add(first, self._lp_entry(first, k, s, p_value, "sum" if mul is not None else "mean"),
                        {}, pow2.output[0])

    def _identity_sign_abs(self, t: str) -> tuple[str, list[Any]]:
        """(tensor, nodes) past sign(t) · relu(abs(t)) after t, which is t itself; (t, []) if not there."""
        users = self.consumers.get(t, [])
        if sorted(n.op_type for n in users) != ["Abs", "Sign"] or t in self.outputs:
            return t, []
        sign, absolute = sorted(users, key=lambda n: n.op_type != "Sign")
        relu = self.sole_consumer(absolute.output[0], "Relu")
        mul = self.sole_consumer(sign.output[0], "Mul")
        if relu is None or mul is None or self.sole_consumer(relu.output[0], "Mul") is not mul:
            return t, []
        return mul.output[0], [sign, absolute, relu, mul]

    def _op_Flatten(self, node, cur):
        axis = self.attr(node, "axis", 1)
        if axis != 1:
            self.fail(node, _("has axis {axis}; supported: axis 1 ((N, C, H, W) → (N, C·H·W))").format(axis=axis))
        if node.doc_string == IMPLICIT_FLATTEN and self.sole_consumer(node.output[0], "Gemm") is not None:
            self.implicit_flatten = True             # written by to_onnx for a dense layer that flattens itself
            return node.output[0]
        return self.add(node, {"type": "flatten"}, {}, node.output[0])

    def _op_Reshape(self, node, cur):
        if len(node.input) > 1:
            shape = self.const(node, 1, _("target shape"))
            if not np.issubdtype(shape.dtype, np.integer):
                self.fail(node, _("has a {dtype} target shape; expected int64").format(dtype=shape.dtype))
            target = [int(v) for v in shape.ravel()]
        else:
            target = self.attr(node, "shape", [])
        D = int(np.prod(self.shape))
        keep = (-1,) if self.attr(node, "allowzero", 0) else (0, -1)        # allowzero: a 0 means size 0
        keep += (self.batch,) if self.batch else ()          # an export with a fixed batch writes its size
        ok = len(target) == 2 and target[1] in (-1, D) and target[0] in keep and target != [-1, -1]
        if not ok:
            self.fail(node, _("reshapes to {target}; supported: flattening to (N, {D}) (e.g. [-1, {D}] "
                              "or [0, -1])").format(target=target, D=D))
        return self.add(node, {"type": "flatten"}, {}, node.output[0])

    def _dense(self, node, W: np.ndarray, b: np.ndarray, out: str) -> str:
        D = int(np.prod(self.shape))
        if W.ndim != 2 or W.shape[1] != D:
            self.fail(node, _("has weights of shape {shape} for an input of {D} values; expected (out, "
                              "{D})").format(shape=W.shape, D=D))
        if len(self.shape) != 1 and not self.implicit_flatten:
            self.fail(node, _("gets a {format_shape} input; flatten it first (Flatten or Reshape)").format(
                                format_shape=format_shape(self.shape)))
        self.implicit_flatten = False
        return self.add(node, {"type": "dense", "out_features": int(W.shape[0])}, {"W": W, "b": b}, out)

    def _op_Gemm(self, node, cur):
        if self.attr(node, "transA", 0):
            self.fail(node, _("has transA 1; supported: the running tensor as A, untransposed"))
        B = self.const(node, 1, "weights")
        if B.ndim != 2:
            self.fail(node, _("has weights of shape {shape}; expected a matrix").format(shape=B.shape))
        W = B if self.attr(node, "transB", 0) else B.T
        alpha, beta = self.attr(node, "alpha", 1.0), self.attr(node, "beta", 1.0)
        if alpha != 1.0:
            W = W * np.float64(alpha)
        out_features = W.shape[0]
        if len(node.input) > 2 and node.input[2]:
            C = self.const(node, 2, "bias")
            if C.size not in (1, out_features) or (C.ndim == 2 and C.shape[0] != 1):
                self.fail(node, _("has a bias of shape {shape}; expected ({out_features},)").format(
                                    shape=C.shape, out_features=out_features))
            b = np.broadcast_to(C.reshape(-1), (out_features,)) * (np.float64(beta) if beta != 1.0 else 1)
        else:
            b = np.zeros(out_features, dtype=W.dtype)
        return self._dense(node, np.ascontiguousarray(W), np.array(b), node.output[0])

    def _op_MatMul(self, node, cur):
        B = self.const(node, 1, "weights")
        if B.ndim != 2:
            self.fail(node, _("has weights of shape {shape}; expected a matrix (in, out)").format(shape=B.shape))
        W = np.ascontiguousarray(B.T)
        out = node.output[0]
        b = np.zeros(W.shape[0], dtype=W.dtype)
        add = self.sole_consumer(out, "Add")
        c = self.other_const(add, out) if add is not None else None
        if c is not None and c.size == W.shape[0] and c.shape[-1] == W.shape[0]:
            b = c.reshape(-1).copy()
            self.visited.add(id(add))
            out = add.output[0]
        return self._dense(node, W, b, out)

    def _op_BatchNormalization(self, node, cur):
        if self.attr(node, "training_mode", 0):
            self.fail(node, _("is in training mode; export the model in evaluation mode (model.eval())"))
        if self.param_output != cur:
            self.fail(node, _("does not directly follow a Conv or Gemm; visualcnn folds "
                              "BatchNormalization into the weights of the Conv or Gemm right before it"))
        self.unused_extra_outputs(node)
        gamma, beta, mean, var = (self.const(node, i, what).astype(np.float64).reshape(-1)
                                  for i, what in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "variance")))
        params, entry = self.params[-1], self.layers[-1]
        F = params["W"].shape[0]
        if not all(v.shape == (F,) for v in (gamma, beta, mean, var)):
            self.fail(node, _("has statistics for {size} channels; the layer before has {F}").format(
                                size=gamma.size, F=F))
        # eval-mode BN: y = γ (x − μ) / sqrt(σ² + ε) + β = scale·x + (β − scale·μ): a per-channel affine map
        scale = gamma / np.sqrt(var + self.attr(node, "epsilon", 1e-5))
        expand = (slice(None),) + (None,) * (params["b"].ndim - 1)
        params["W"] = params["W"].astype(np.float64) * scale.reshape((F,) + (1,) * (params["W"].ndim - 1))
        params["b"] = (params["b"].astype(np.float64) - mean[expand]) * scale[expand] + beta[expand]
        index = len(self.layers) - 1
        self.folded.append(_("BatchNormalization {node_name!r} folded into layer {index} {type} "
                             "(weights and bias)").format(
                               node_name=node_name(node), index=index, type=entry['type']))
        self.param_output = node.output[0]
        return node.output[0]

    def _skip(self, node, cur):
        self.unused_extra_outputs(node)
        if node.op_type == "Dropout" and len(node.input) > 2 and node.input[2]:
            if bool(np.any(self.const(node, 2, "training_mode"))):
                self.fail(node, _("is in training mode; export the model in evaluation mode "
                                  "(model.eval())"))
        self.skipped.append(_("{op_type} {node_name!r} (the identity in evaluation)").format(
                                op_type=node.op_type, node_name=node_name(node)))
        out = node.output[0]
        if self.param_output == cur:
            self.param_output = out
        return out

    _op_Dropout = _op_Identity = _skip

    def _op_Softmax(self, node, cur):
        if self.consumers.get(node.output[0]) or node.output[0] not in self.outputs:
            self.fail(node, _("is not the last node; Softmax is supported only at the end (folded into "
                              "the loss)"))
        axis = self.attr(node, "axis", -1)
        if len(self.shape) != 1 or axis not in (-1, 1):
            self.fail(node, _("normalises axis {axis} of a {format_shape} tensor; supported: the class "
                              "scores (N, K), axis -1 or 1").format(
                                axis=axis, format_shape=format_shape(self.shape)))
        self.folded.append(_("{op_type} {node_name!r} at the end folded into the loss (softmax + "
                             "cross-entropy); the network outputs the logits").format(
                               op_type=node.op_type, node_name=node_name(node)))
        self.final = True
        return node.output[0]

    _op_LogSoftmax = _op_Softmax
