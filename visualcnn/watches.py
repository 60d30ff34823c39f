"""Breakpoints and watches, checked after every phase: NaN/Inf, gradient norm, dead units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .records import StepRecord, phase_name
from visualcnn.i18n import _


@dataclass(frozen=True)
class BreakpointHit:
    """Why a run stopped: which watch tripped, where, and the value that tripped it."""

    kind: str            # "nonfinite" | "grad_norm" | "dead_units"
    iteration: int
    phase: str
    layer: int | None
    value: float
    message: str


@dataclass
class Breakpoints:
    """Which watches are armed. None disarms a threshold watch."""

    nonfinite: bool = True
    grad_norm: float | None = None      # trip when any gradient's L2 norm exceeds this
    dead_fraction: float | None = None  # trip when this fraction of an activation's units is dead/saturated

    def to_dict(self) -> dict[str, Any]:
        return {"nonfinite": self.nonfinite, "grad_norm": self.grad_norm, "dead_fraction": self.dead_fraction}

    def check(self, rec: StepRecord, dead_fraction: float | None = None) -> BreakpointHit | None:
        """The first watch this record trips, or None. `dead_fraction`: the activation layer's, if any."""
        where = _where(rec)
        if self.nonfinite:
            for name, a in _checked_arrays(rec):
                # reductions instead of an element-wise mask: max and min propagate NaN and reach ±Inf
                a = np.asarray(a)
                if a.size and not (np.isfinite(a.max()) and np.isfinite(a.min())):
                    bad = int(np.size(a) - np.count_nonzero(np.isfinite(a)))
                    return BreakpointHit("nonfinite", rec.iteration, rec.phase, rec.layer, float(bad),
                                         _("NaN/Inf first appeared in {where}: {bad} non-finite "
                                           "value(s) in {name}").format(where=where, bad=bad, name=name))
        if self.grad_norm is not None and rec.phase == "backward":
            for name, g in (("dC/dx", rec.dx), *((f"dC/d{k}", v) for k, v in rec.grads.items())):
                norm = float(np.linalg.norm(g))
                if norm > self.grad_norm:
                    return BreakpointHit("grad_norm", rec.iteration, rec.phase, rec.layer, norm,
                                         _("gradient norm ‖{name}‖ = {norm:.3g} exceeds {grad_norm:g} "
                                           "in {where}").format(
                                             name=name, norm=norm, grad_norm=self.grad_norm, where=where))
        if self.dead_fraction is not None and dead_fraction is not None and dead_fraction > self.dead_fraction:
            return BreakpointHit("dead_units", rec.iteration, rec.phase, rec.layer, dead_fraction,
                                 _("{dead_fraction:.0%} of the units of {where} are dead or saturated "
                                   "(threshold {threshold:.0%})").format(
                                     dead_fraction=dead_fraction, where=_where(rec, iteration=False),
                                     threshold=self.dead_fraction))
        return None


def _where(rec: StepRecord, iteration: bool = True) -> str:
    """'the backward phase of layer 2 relu (iteration 7)' (without the iteration when asked)."""
    if rec.layer is not None:
        text = (_("the {phase} phase of layer {k} {type} (iteration {iteration})") if iteration
                else _("the {phase} phase of layer {k} {type}"))
    else:
        text = _("the {phase} phase (iteration {iteration})") if iteration else _("the {phase} phase")
    return text.format(phase=phase_name(rec.phase), k=rec.layer, type=rec.layer_type, iteration=rec.iteration)


def _checked_arrays(rec: StepRecord):
    if rec.phase == "forward":
        yield _("the output"), rec.y
    elif rec.phase == "loss":
        yield _("the loss"), np.asarray(rec.loss)
        yield _("the logits"), rec.logits
    elif rec.phase == "backward":
        yield "dC/dx", rec.dx
        for k, g in rec.grads.items():
            yield f"dC/d{k}", g
    else:
        for i, params in rec.updates.items():
            for k, u in params.items():
                yield _("layer {i} {k} after the update").format(i=i, k=k), u.value
