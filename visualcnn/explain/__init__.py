"""Formulas with the numbers plugged in: what produced one unit's value or gradient, for the views.

    e = explain_unit(network, session.records, layer=0, unit=(2, 3, 4), phase="forward")
    e.title        'layer 0 conv2d, unit (2, 3, 4) of sample 0: forward'
    e.formula      'x_{l,i,j} = Σ_k Σ_p Σ_q W_{l,k,p,q} · y_{k, i·s+p−pad, j·s+q−pad} + b_l'   (plain text)
    e.formula_tex  the same in mathtext (matplotlib renders it: sub/superscripts, Σ, fractions)
    e.numbers      '= 0.1·0.5 + (−0.2)·0.25 + … + (14 more terms: 0.03) + 0.1 …'   (e.lines_tex: as mathtext)
    e.value        the core's own entry (float); e.total: the sum written out (equal up to the dtype's rounding)
    e.terms        every product of the sum; e.shown: the ones written (the largest when a sum is long)
    e.reads        the map the terms read, with their cells (the unit's receptive field / the windows)
    e.computes     the map the formula computes, with the unit

Phases: "forward" explains a unit of the layer's output; "backward" a unit of ∂C/∂(input) — what the
layer's backward sends down, the sum over every output unit that read that input; "loss" a logit's
gradient. `explain_param` explains an entry of ∂C/∂W or ∂C/∂b. `unit` indexes one sample's array
((c, i, j) or (j,)); a leading extra index is the sample (or pass `sample=`). Every number is read
from the StepRecords, the weights the pass used and the layers' routing — never recomputed another
way. When the phase needed has not run yet the explanation says so (`available` False).

Also here, because they are the core's arithmetic the views must not redo:
`pool_preview` (a pooling layer's output and routing on an input, for any p) and
`routing_map` (per-window routing laid back onto the input grid).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..layers import LpPool2D
from ..layers.windows import scatter_windows
from ..records import StepRecord, phase_name
from . import backward as _backward
from . import forward as _forward
from ..mistakes import mistake_of
from .context import Context, ExplainError, find_record
from .loss import explain_loss
from .model import Explanation, MapRef, Term, fmt, fold, unavailable
from visualcnn.i18n import _

PHASES = ("forward", "backward", "loss")


def _split_unit(unit: Sequence[int], shape: tuple[int, ...], sample: int, what: str) -> tuple[int, tuple[int, ...]]:
    unit = tuple(int(u) for u in unit)
    ndim = len(shape)
    if len(unit) == ndim + 1:
        sample, unit = unit[0], unit[1:]
    elif len(unit) != ndim:
        raise ValueError(_("unit {unit} must have {ndim} indices (or {value} with the sample first) "
                           "for {what} of shape {shape}").format(
                             unit=unit, ndim=ndim, value=ndim + 1, what=what, shape=shape))
    if not all(0 <= u < s for u, s in zip(unit, shape)):
        raise ValueError(_("unit {unit} is outside {what} of shape {shape}").format(
                             unit=unit, what=what, shape=shape))
    return int(sample), unit


def _layer(network: Any, layer: int | None) -> Any:
    if layer is None or not 0 <= layer < len(network.layers):
        raise ValueError(_("layer must be 0 … {value}, got {layer!r}").format(
                             value=len(network.layers) - 1, layer=layer))
    return network.layers[layer]


def unit_shape(network: Any, layer: int | None, phase: str) -> tuple[int, ...]:
    """The per-sample shape a unit indexes in `phase`: the output (forward), the input (backward), the classes."""
    if phase == "loss":
        return (network.n_classes,)
    lay = _layer(network, layer)
    return tuple(lay.input_shape if phase == "backward" else lay.output_shape)


def explain_unit(network: Any, records: Sequence[StepRecord], layer: int | None, unit: Sequence[int],
                 phase: str = "forward", sample: int = 0) -> Explanation:
    """The formula behind one unit's value ("forward"), the gradient sent down ("backward") or a logit's ("loss")."""
    if phase not in PHASES:
        raise ValueError(_("phase must be 'forward', 'backward' or 'loss', got {phase!r}").format(phase=phase))
    if phase == "loss":
        n, u = _split_unit(unit, unit_shape(network, None, "loss"), sample, _("the logits"))
        return explain_loss(network, records, n, u[0])
    lay = _layer(network, layer)
    shape = unit_shape(network, layer, phase)
    n, u = _split_unit(unit, shape, sample, (_("layer {layer}'s input") if phase == "backward"
                                             else _("layer {layer}'s output")).format(layer=layer))
    where = "∂C/∂x" if phase == "backward" else _("unit")
    title = _("layer {layer} {type_name}, {where} {value} of sample {n}: {phase}").format(
                layer=layer, type_name=lay.type_name, where=where, value=u if len(u) > 1 else u[0], n=n,
                phase=phase_name(phase))
    fwd = find_record(records, "forward", layer)
    if fwd is None:
        return unavailable(title, _("step forward through layer {layer} first").format(layer=layer))
    if not 0 <= n < fwd.x.shape[0]:
        raise ValueError(_("sample {n} is outside the batch of {shape}").format(n=n, shape=fwd.x.shape[0]))
    wrong = mistake_of(lay)
    if wrong is not None:
        # a mistaken twin computes the note's formula: only the generic explanation, which claims no sum
        title += _(" — ⚠ the study note's mistake {wrong!r} is on: the layer computes the note's "
                   "formula").format(wrong=wrong)
    ctx = Context(network, records, layer, n, title, fwd)
    try:
        if phase == "forward":
            return _forward.FORWARD.get(type(lay), _forward.generic)(ctx, u)
        ctx.bwd = find_record(records, "backward", layer)
        if ctx.bwd is None:
            return unavailable(title, _("step backward through layer {layer} first").format(layer=layer))
        if ctx.bwd.dx is None:
            return unavailable(title, _("layer {layer} sends no gradient down (nothing below needs it)").format(
                                          layer=layer))
        return _backward.BACKWARD.get(type(lay), _backward.generic)(ctx, u)
    except ExplainError as err:
        return unavailable(title, str(err))


def explain_param(network: Any, records: Sequence[StepRecord], layer: int, name: str, index: Sequence[int],
                  sample: int = 0) -> Explanation:
    """The sum behind ∂C/∂`name`[index] of `layer` (the backward record's own entry)."""
    lay = _layer(network, layer)
    if name not in lay.params:
        raise ValueError(_("layer {layer} ({type_name}) has no parameter {name!r}; it has {value}").format(
                             layer=layer, type_name=lay.type_name, name=name, value=', '.join(lay.params) or _('none')))
    shape = tuple(lay.params[name].shape)
    index = tuple(int(i) for i in index)
    if len(index) != len(shape) or not all(0 <= i < s for i, s in zip(index, shape)):
        raise ValueError(_("index {index} is outside {name} of layer {layer}, shape {shape}").format(
                             index=index, name=name, layer=layer, shape=shape))
    title = _("layer {layer} {type_name}, ∂C/∂{name}{index}: backward").format(
                layer=layer, type_name=lay.type_name, name=name, index=list(index))
    fwd, bwd = find_record(records, "forward", layer), find_record(records, "backward", layer)
    if fwd is None or bwd is None:
        return unavailable(title, _("step backward through layer {layer} first").format(layer=layer))
    n = min(int(sample), fwd.x.shape[0] - 1)
    try:
        return _backward.param(Context(network, records, layer, n, title, fwd, bwd), name, index)
    except ExplainError as err:
        return unavailable(title, str(err))


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


__all__ = ["Explanation", "MapRef", "PHASES", "Term", "explain_param", "explain_unit", "find_record", "fmt", "fold",
           "pool_preview", "routing_map", "unit_shape"]
