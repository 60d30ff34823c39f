"""Formulas with the numbers plugged in: what produced one unit's value or gradient, for the views.

    e = explain_unit(network, session.records, layer=0, unit=(2, 3, 4), phase="forward")
    e.title     'layer 0 conv2d, unit (2, 3, 4) of sample 0: forward'
    e.formula   'x_{l,i,j} = Σ_k Σ_p Σ_q W_{l,k,p,q} · y_{k, i·s+p−pad, j·s+q−pad} + b_l'
    e.numbers   '= 0.1·0.5 + (−0.2)·0.25 + … (9 terms) …'
    e.value     the record's own entry (float)
    e.terms     the products of a sum, in order

`unit` indexes one sample's array: the layer's output for "forward" and "backward"
((c, i, j) or (j,)), the logits for "loss" ((j,)); a leading extra index is the sample
(or pass `sample=`). Every number shown is read from the StepRecords and the layers'
parameters, never recomputed differently: `value` is always the record's entry, and the
arithmetic printed ends with `fmt(value)`. When the phase needed has not run yet the
explanation says so (`available` False) instead of raising.

Also here, because they are the core's arithmetic the views must not redo:
`pool_preview` (a pooling layer's output and routing on an input, for any p) and
`routing_map` (per-window routing laid back onto the input grid).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .layers import AvgPool2D, Conv2D, Dense, Flatten, LpPool2D, MaxPool2D, ReLU, Sigmoid, Tanh
from .layers.windows import scatter_windows
from .records import StepRecord

#: how many terms of a long sum are printed before "…"
SHOWN_TERMS = 4
DIGITS = 4


def fmt(v: float, digits: int = DIGITS) -> str:
    """A number as the views print it: `digits` significant digits, a real minus sign."""
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.{digits}g}".replace("-", "−")


def _par(v: float) -> str:
    """A factor inside a product: negatives in parentheses."""
    s = fmt(v)
    return f"({s})" if s.startswith("−") else s


@dataclass(frozen=True)
class Term:
    """One product of a sum: label, its factors and their product."""

    label: str
    factors: tuple[float, ...]
    product: float


@dataclass(frozen=True)
class Explanation:
    title: str
    formula: str
    numbers: str
    value: float
    terms: tuple[Term, ...] = field(default_factory=tuple)
    available: bool = True

    @property
    def text(self) -> str:
        """Title, formula and numbers, one per block (what the Numbers tab prints)."""
        return f"{self.title}\n\n{self.formula}\n\n{self.numbers}"


def find_record(records: Sequence[StepRecord], phase: str, layer: int | None = None) -> StepRecord | None:
    """The record of `phase` (and `layer`) among `records`, or None if that phase has not run."""
    for r in records:
        if r.phase == phase and (layer is None or r.layer == layer):
            return r
    return None


def _unavailable(title: str, why: str) -> Explanation:
    return Explanation(title, "", why, float("nan"), available=False)


def _split_unit(unit: Sequence[int], ndim: int, sample: int) -> tuple[int, tuple[int, ...]]:
    unit = tuple(int(u) for u in unit)
    if len(unit) == ndim + 1:
        return unit[0], unit[1:]
    if len(unit) != ndim:
        raise ValueError(f"unit {unit} must have {ndim} indices (or {ndim + 1} with the sample first)")
    return int(sample), unit


def _params_used(records: Sequence[StepRecord], layer_index: int, layer: Any) -> dict[str, np.ndarray]:
    """The parameters the forward pass used: the live ones, or, after this iteration's update, value − ΔW."""
    upd = find_record(records, "update")
    if upd is not None and layer_index in upd.updates:
        return {k: np.asarray(u.value, np.float64) - np.asarray(u.velocity, np.float64)
                for k, u in upd.updates[layer_index].items()}
    return {k: np.asarray(v, np.float64) for k, v in layer.params.items()}


def _sum_text(terms: Sequence[Term], n_total: int | None = None) -> str:
    n_total = len(terms) if n_total is None else n_total
    shown = " + ".join("·".join(_par(f) for f in t.factors) for t in terms[:SHOWN_TERMS])
    if n_total > SHOWN_TERMS:
        shown += f" + … ({n_total} terms)"
    return shown


def explain_unit(network: Any, records: Sequence[StepRecord], layer: int | None, unit: Sequence[int],
                 phase: str = "forward", sample: int = 0) -> Explanation:
    """The formula behind one unit's value ("forward"), gradient ("backward") or softmax gradient ("loss")."""
    if phase == "loss":
        return _explain_loss(network, records, unit, sample)
    if phase not in ("forward", "backward"):
        raise ValueError(f"phase must be 'forward', 'backward' or 'loss', got {phase!r}")
    if layer is None or not 0 <= layer < len(network.layers):
        raise ValueError(f"layer must be 0 … {len(network.layers) - 1}, got {layer!r}")
    lay = network.layers[layer]
    n, u = _split_unit(unit, len(lay.output_shape), sample)
    title = f"layer {layer} {lay.type_name}, unit {u if len(u) > 1 else u[0]} of sample {n}: {phase}"
    fwd = find_record(records, "forward", layer)
    if fwd is None:
        return _unavailable(title, f"step forward through layer {layer} first")
    if phase == "forward":
        return _FORWARD.get(type(lay), _forward_generic)(network, records, layer, lay, fwd, n, u, title)
    bwd = find_record(records, "backward", layer)
    if bwd is None:
        return _unavailable(title, f"step backward through layer {layer} first")
    return _BACKWARD.get(type(lay), _backward_generic)(network, records, layer, lay, fwd, bwd, n, u, title)


# -- forward -----------------------------------------------------------------

def _forward_conv(net, records, li, lay: Conv2D, fwd, n, u, title):
    l, i, j = u
    C, H, W = lay.input_shape
    k, s, pad = lay.options["kernel_size"], lay.options["stride"], lay.options["padding"]
    params = _params_used(records, li, lay)
    Wt, b = params["W"], params["b"]
    x = fwd.x
    terms = []
    for c in range(C):
        for p in range(k):
            for q in range(k):
                a, bb = i * s + p - pad, j * s + q - pad
                inside = 0 <= a < H and 0 <= bb < W
                y = float(x[n, c, a, bb]) if inside else 0.0
                w = float(Wt[l, c, p, q])
                where = f"y[{c},{a},{bb}]" if inside else "pad"
                terms.append(Term(f"W[{l},{c},{p},{q}]·{where}", (w, y), w * y))
    bias = float(b[l]) if b.ndim == 1 else float(b[l, i, j])
    total = math.fsum(t.product for t in terms)
    value = float(fwd.y[n, l, i, j])
    b_name = "b_l" if b.ndim == 1 else "b_{l,i,j}"
    formula = f"x_{{l,i,j}} = Σ_k Σ_p Σ_q W_{{l,k,p,q}} · y_{{k, i·s+p−pad, j·s+q−pad}} + {b_name}"
    numbers = (f"= {_sum_text(terms)}  + {_par(bias)}\n"
               f"= {fmt(total)} + {_par(bias)}\n= {fmt(value)}")
    return Explanation(title, formula, numbers, value, tuple(terms))


def _window(lay, x, n, c, i, j):
    k, s = lay.kernel, lay.stride
    return x[n, c, i * s:i * s + k, j * s:j * s + k], (i * s, j * s)


def _forward_pool(net, records, li, lay, fwd, n, u, title):
    c, i, j = u
    win, (a0, b0) = _window(lay, fwd.x, n, c, i, j)
    value = float(fwd.y[n, c, i, j])
    k = lay.kernel
    vals = [float(v) for v in win.ravel()]
    cells = ", ".join(fmt(v) for v in vals)
    if isinstance(lay, MaxPool2D):
        _, routing, _ = pool_preview(lay, fwd.x[n:n + 1])
        w = int(np.argmax(routing[0, c, i, j].ravel()))
        a, b = a0 + w // k, b0 + w % k
        formula = "y_{ij} = max_{(a,b) ∈ P_ij} x_ab   (ties: first in row-major order)"
        numbers = (f"window rows {a0}…{a0 + k - 1}, cols {b0}…{b0 + k - 1}: [{cells}]\n"
                   f"winner x[{c},{a},{b}] = {fmt(vals[w])}\n= {fmt(value)}")
        return Explanation(title, formula, numbers, value,
                           tuple(Term(f"x[{c},{a0 + t // k},{b0 + t % k}]", (v,), v) for t, v in enumerate(vals)))
    if isinstance(lay, LpPool2D):
        p = float(lay.options["p"])
        terms = tuple(Term(f"|x[{c},{a0 + t // k},{b0 + t % k}]|^p", (v,), abs(v) ** p) for t, v in enumerate(vals))
        mean = math.fsum(t.product for t in terms) / len(terms)
        formula = "y_{ij} = ((1/|P|) Σ_{P_ij} |x_ab|^p)^{1/p}"
        numbers = (f"p = {fmt(p)}, |P| = {len(vals)}: window [{cells}]\n"
                   f"= ((1/{len(vals)})·({' + '.join(fmt(t.product) for t in terms[:SHOWN_TERMS])}"
                   f"{' + …' if len(terms) > SHOWN_TERMS else ''}))^(1/{fmt(p)})\n"
                   f"= ({fmt(mean)})^(1/{fmt(p)})\n= {fmt(value)}")
        return Explanation(title, formula, numbers, value, terms)
    terms = tuple(Term(f"x[{c},{a0 + t // k},{b0 + t % k}]", (v,), v) for t, v in enumerate(vals))
    total = math.fsum(vals)
    formula = "y_{ij} = (1/|P|) Σ_{P_ij} x_ab"
    numbers = (f"= (1/{len(vals)})·({' + '.join(_par(v) for v in vals[:SHOWN_TERMS])}"
               f"{' + …' if len(vals) > SHOWN_TERMS else ''})\n= {fmt(total)} / {len(vals)}\n= {fmt(value)}")
    return Explanation(title, formula, numbers, value, terms)


def _forward_activation(net, records, li, lay, fwd, n, u, title):
    x = float(fwd.x[(n, *u)])
    value = float(fwd.y[(n, *u)])
    if isinstance(lay, Sigmoid):
        formula = "y = 1/(1+e^(−x))"
        numbers = f"x = {fmt(x)}\ny = 1/(1+e^({fmt(-x)})) = 1/(1+{fmt(math.exp(-x))})\n= {fmt(value)}"
    elif isinstance(lay, ReLU):
        formula = "y = max(0, x)"
        numbers = f"x = {fmt(x)}\ny = max(0, {fmt(x)})\n= {fmt(value)}"
    elif isinstance(lay, Tanh):
        formula = "y = tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x))"
        numbers = f"x = {fmt(x)}\ny = tanh({fmt(x)})\n= {fmt(value)}"
    else:
        formula = f"y = {lay.type_name}(x)"
        numbers = f"x = {fmt(x)}\n= {fmt(value)}"
    return Explanation(title, formula, numbers, value)


def _forward_flatten(net, records, li, lay, fwd, n, u, title):
    src = np.unravel_index(u[0], lay.input_shape)
    value = float(fwd.y[n, u[0]])
    formula = "y_d = x[c, i, j] with d = (c·H + i)·W + j   (row-major)"
    numbers = f"d = {u[0]} ← x{tuple(int(v) for v in src)}\n= {fmt(value)}"
    return Explanation(title, formula, numbers, value)


def _forward_dense(net, records, li, lay: Dense, fwd, n, u, title):
    (j,) = u
    params = _params_used(records, li, lay)
    Wt, b = params["W"], params["b"]
    y = np.asarray(fwd.x[n], np.float64).ravel()
    terms = tuple(Term(f"W[{j},{i}]·y[{i}]", (float(Wt[j, i]), float(y[i])), float(Wt[j, i] * y[i]))
                  for i in range(y.size))
    total = math.fsum(t.product for t in terms)
    value = float(fwd.y[n, j])
    formula = "x_j = Σ_i W_ji · y_i + b_j"
    numbers = (f"= {_sum_text(terms)}  + {_par(float(b[j]))}\n"
               f"= {fmt(total)} + {_par(float(b[j]))}\n= {fmt(value)}")
    return Explanation(title, formula, numbers, value, terms)


def _forward_generic(net, records, li, lay, fwd, n, u, title):
    value = float(fwd.y[(n, *u)])
    return Explanation(title, f"y = {lay.type_name}(x)", f"= {fmt(value)}", value)


_FORWARD = {Conv2D: _forward_conv, MaxPool2D: _forward_pool, AvgPool2D: _forward_pool, LpPool2D: _forward_pool,
            Sigmoid: _forward_activation, ReLU: _forward_activation, Tanh: _forward_activation,
            Flatten: _forward_flatten, Dense: _forward_dense}


# -- backward ----------------------------------------------------------------

def _backward_activation(net, records, li, lay, fwd, bwd, n, u, title):
    idx = (n, *u)
    dout, dx = float(bwd.dout[idx]), float(bwd.dx[idx])
    x, y = float(fwd.x[idx]), float(fwd.y[idx])
    if isinstance(lay, Sigmoid):
        formula = "∂C/∂x = ∂C/∂y · y(1−y)"
        numbers = f"= {_par(dout)} · {fmt(y)}·(1−{fmt(y)}) = {_par(dout)} · {fmt(y * (1 - y))}\n= {fmt(dx)}"
    elif isinstance(lay, ReLU):
        formula = "∂C/∂x = ∂C/∂y · [x > 0]"
        numbers = f"x = {fmt(x)}, so [x > 0] = {int(x > 0)}\n= {_par(dout)} · {int(x > 0)}\n= {fmt(dx)}"
    elif isinstance(lay, Tanh):
        formula = "∂C/∂x = ∂C/∂y · (1 − y²)"
        numbers = f"= {_par(dout)} · (1 − {_par(y)}²) = {_par(dout)} · {fmt(1 - y * y)}\n= {fmt(dx)}"
    else:
        formula = "∂C/∂x = ∂C/∂y · ∂y/∂x"
        numbers = f"= {fmt(dx)}"
    return Explanation(title, formula, numbers, dx)


def _backward_flatten(net, records, li, lay, fwd, bwd, n, u, title):
    src = tuple(int(v) for v in np.unravel_index(u[0], lay.input_shape))
    dout = float(bwd.dout[n, u[0]])
    value = float(bwd.dx[(n, *src)])
    formula = "∂C/∂x[c,i,j] = ∂C/∂y_d   (flatten only reshapes)"
    numbers = f"∂C/∂y_{u[0]} = {fmt(dout)} → ∂C/∂x{src}\n= {fmt(value)}"
    return Explanation(title, formula, numbers, value)


def _backward_dense(net, records, li, lay, fwd, bwd, n, u, title):
    (j,) = u
    delta = float(bwd.dout[n, j])
    y = np.asarray(fwd.x[n], np.float64).ravel()
    terms = tuple(Term(f"∂C/∂W[{j},{i}] (sample {n})", (delta, float(y[i])), delta * float(y[i]))
                  for i in range(y.size))
    N = bwd.dout.shape[0]
    batch = f" (summed over the {N} samples of the batch)" if N > 1 else ""
    formula = "δ_j = ∂C/∂x_j;  ∂C/∂b_j = Σ_s δ_j;  ∂C/∂W_ji = Σ_s δ_j · y_i;  ∂C/∂y_i = Σ_j W_ji δ_j"
    numbers = (f"δ_{j} = {fmt(delta)}\n"
               f"∂C/∂b_{j} = {fmt(float(bwd.grads['b'][j]))}{batch}\n"
               f"∂C/∂W_{j},i = δ_j·y_i: " + ", ".join(
                   f"{_par(delta)}·{_par(t.factors[1])} = {fmt(t.product)}" for t in terms[:3])
               + (f", … ({len(terms)} inputs)" if len(terms) > 3 else "")
               + f"\nδ_{j} = {fmt(delta)}")
    return Explanation(title, formula, numbers, delta, terms)


def _backward_conv(net, records, li, lay, fwd, bwd, n, u, title):
    l, i, j = u
    delta = float(bwd.dout[n, l, i, j])
    tied = bwd.grads["b"].ndim == 1
    db = float(bwd.grads["b"][l]) if tied else float(bwd.grads["b"][l, i, j])
    formula = ("δ_{l,i,j} = ∂C/∂x_{l,i,j};  ∂C/∂W_{l,k,p,q} = Σ_s Σ_{i,j} δ_{l,i,j} · y_{k,i·s+p−pad,j·s+q−pad};  "
               + ("∂C/∂b_l = Σ_s Σ_{i,j} δ_{l,i,j}" if tied else "∂C/∂b_{l,i,j} = Σ_s δ_{l,i,j}"))
    where = f"∂C/∂b_{l} = {fmt(db)} (all units of channel {l})" if tied else f"∂C/∂b_{l},{i},{j} = {fmt(db)}"
    numbers = (f"δ = {fmt(delta)}: this unit sends δ·W_{{{l},k,p,q}} back to each input it read\n"
               f"{where}\nδ = {fmt(delta)}")
    return Explanation(title, formula, numbers, delta)


def _backward_pool(net, records, li, lay, fwd, bwd, n, u, title):
    c, i, j = u
    k = lay.kernel
    dout = float(bwd.dout[n, c, i, j])
    routing = bwd.routing[n, c, i, j] if bwd.routing is not None else pool_preview(lay, fwd.x[n:n + 1])[1][0, c, i, j]
    a0, b0 = i * lay.stride, j * lay.stride
    terms = tuple(Term(f"∂C/∂x[{c},{a0 + t // k},{b0 + t % k}] += ", (dout, float(r)), dout * float(r))
                  for t, r in enumerate(routing.ravel()))
    if isinstance(lay, MaxPool2D):
        w = int(np.argmax(routing.ravel()))
        a, b = a0 + w // k, b0 + w % k
        value = terms[w].product
        formula = "∂C/∂x_ab = ∂C/∂y_ij if x_ab won window ij, else 0"
        numbers = (f"∂C/∂y = {fmt(dout)} goes to the winner x[{c},{a},{b}] (the other {k * k - 1} get 0)\n"
                   f"= {fmt(value)}")
        return Explanation(title, formula, numbers, value, terms)
    if isinstance(lay, AvgPool2D):
        value = terms[0].product
        formula = "∂C/∂x_ab = ∂C/∂y_ij · 1/|P|   for every (a,b) ∈ P_ij"
        numbers = f"= {_par(dout)} · 1/{k * k} to each of the {k * k} inputs\n= {fmt(value)}"
        return Explanation(title, formula, numbers, value, terms)
    formula = "∂C/∂x_ab = ∂C/∂y_ij · (1/|P|) sign(x_ab) |x_ab|^(p−1) y_ij^(1−p)"
    more = ", …" if len(terms) > SHOWN_TERMS else ""
    shares = ", ".join(fmt(t.factors[1]) for t in terms[:SHOWN_TERMS])
    numbers = (f"routing weights ∂y/∂x over the window: [{shares}{more}]\n"
               f"∂C/∂x_ab = {_par(dout)} · weight: [" + ", ".join(fmt(t.product) for t in terms[:SHOWN_TERMS])
               + f"{more}]\n∂C/∂y = {fmt(dout)}")
    return Explanation(title, formula, numbers, dout, terms)


def _backward_generic(net, records, li, lay, fwd, bwd, n, u, title):
    value = float(bwd.dout[(n, *u)])
    return Explanation(title, "∂C/∂y", f"= {fmt(value)}", value)


_BACKWARD = {Conv2D: _backward_conv, MaxPool2D: _backward_pool, AvgPool2D: _backward_pool,
             LpPool2D: _backward_pool, Sigmoid: _backward_activation, ReLU: _backward_activation,
             Tanh: _backward_activation, Flatten: _backward_flatten, Dense: _backward_dense}


# -- loss --------------------------------------------------------------------

def _explain_loss(net, records, unit, sample):
    n, (j,) = _split_unit(unit, 1, sample)
    title = f"softmax + cross-entropy, class {j} of sample {n}"
    rec = find_record(records, "loss")
    if rec is None:
        return _unavailable(title, "step to the loss phase first")
    p, d = float(rec.probs[n, j]), int(rec.batch_y[n] == j)
    dx = float(rec.dx[n, j])
    N = rec.probs.shape[0]
    mean = getattr(net.loss_fn, "reduction", "mean") == "mean" and N > 1
    logits = rec.logits[n]
    formula = ("p_j = exp(x_j − max_k x_k) / Σ_k exp(x_k − max_k x_k);   ∂C/∂x_j = p_j − d_j"
               + ("   (÷ N for the mean over the batch)" if mean else ""))
    numbers = (f"x_{j} = {fmt(float(logits[j]))}, max_k x_k = {fmt(float(logits.max()))} → p_{j} = {fmt(p)}\n"
               f"d_{j} = {d} ({'the true class' if d else f'true class is {int(rec.batch_y[n])}'})\n"
               f"∂C/∂x_{j} = " + (f"({fmt(p)} − {d}) / {N}" if mean else f"{fmt(p)} − {d}") + f" = {fmt(dx)}")
    return Explanation(title, formula, numbers, dx)


# -- pooling helpers for the views ---------------------------------------------

def pool_preview(layer: Any, x: np.ndarray, p: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run a fresh copy of pooling `layer` (optionally with another p) on x (N, C, H, W).

    Returns (y (N, C, H_out, W_out), routing (N, C, H_out, W_out, KH, KW), weights (N, C, H, W)):
    the weights are the routing laid back on the input grid (overlapping windows add up).
    The live layer and its caches are not touched.
    """
    options = dict(layer.options)
    cls = type(layer)
    if p is not None:
        cls, options["p"] = LpPool2D, float(p)
    fresh = cls(**options)
    fresh.build(tuple(x.shape[1:]), np.random.default_rng(0), np.dtype(np.float64))
    y = fresh.forward(np.asarray(x, np.float64))
    routing = fresh.routing
    return y, routing, routing_map(routing, x.shape, fresh.stride)


def routing_map(routing: np.ndarray, input_shape: tuple[int, ...], stride: int) -> np.ndarray:
    """Per-window routing (N, C, H_out, W_out, KH, KW) summed back onto the input grid (N, C, H, W)."""
    return scatter_windows(np.asarray(routing), tuple(input_shape), stride)


__all__ = ["Explanation", "Term", "explain_unit", "find_record", "fmt", "pool_preview", "routing_map"]
