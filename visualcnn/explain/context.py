"""What every explanation of one layer reads: its records, its parameters as used, its routing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..layers import AvgPool2D, Conv2D, Dense, LpPool2D, MaxPool2D
from ..records import StepRecord
from visualcnn.i18n import _


def find_record(records: Sequence[StepRecord], phase: str, layer: int | None = None) -> StepRecord | None:
    """The record of `phase` (and `layer`) among `records`, or None if that phase has not run."""
    for r in records:
        if r.phase == phase and (layer is None or r.layer == layer):
            return r
    return None


def symbols(layer: Any) -> tuple[str, str]:
    """(input, output) symbols in the study note's notation: a conv or dense layer computes the
    pre-activation x from the previous layer's y; an activation or pooling layer maps x to y."""
    return ("y", "x") if isinstance(layer, (Conv2D, Dense)) else ("x", "y")


def tex_name(name: str) -> str:
    """A layer type's name as mathtext-safe roman text (custom layers may name themselves anything)."""
    return r"\mathrm{" + (re.sub(r"[^A-Za-z0-9]", "", name) or "f") + "}"


class ExplainError(ValueError):
    """The core's value an explanation needs is not in the records (a record from an older engine)."""


@dataclass
class Context:
    network: Any
    records: Sequence[StepRecord]
    index: int
    sample: int
    title: str
    fwd: StepRecord | None
    bwd: StepRecord | None = None

    @property
    def layer(self) -> Any:
        return self.network.layers[self.index]

    @property
    def dtype(self) -> np.dtype:
        rec = self.fwd if self.fwd is not None else self.bwd
        return np.asarray(rec.x if rec.x is not None else rec.dx).dtype

    def params(self, name: str) -> np.ndarray:
        """The parameter `name` as this iteration's forward and backward passes used it.

        Before the update phase that is the layer's live array; after it, the update record's `before`
        (the value it started from) — read, never rebuilt as value − ΔW (which rounds differently).
        """
        upd = find_record(self.records, "update")
        if upd is not None and self.index in upd.updates:
            before = getattr(upd.updates[self.index][name], "before", None)
            if before is None:
                raise ExplainError(_("the update record of layer {index} does not keep {name} before "
                                     "the update; step back to the backward phase to see the numbers").format(
                                       index=self.index, name=name))
            return np.asarray(before)
        return np.asarray(self.layer.params[name])

    def routing(self) -> np.ndarray:
        """A pooling layer's per-window ∂y/∂x (N, C, H_out, W_out, KH, KW): the core's, from the records."""
        rec = self.bwd if self.bwd is not None and self.bwd.routing is not None else self.fwd
        if rec is self.bwd:
            return rec.routing
        return _routing_of(self.layer, self.fwd.x)


def _routing_of(layer: Any, x: np.ndarray) -> np.ndarray:
    """The routing of pooling `layer` on x, computed by a twin of the layer (the record before backward runs)."""
    from ..records import PoolView
    return PoolView(layer, x).routing


POOLS = (MaxPool2D, AvgPool2D, LpPool2D)
