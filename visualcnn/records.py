"""StepRecord: what one phase of the step-through engine produced, frozen for the views.

Every array in a record is read-only and is never written again by the engine,
so a view may keep it as long as it likes. Records of neighbouring phases share
arrays instead of copying them twice (a forward record's input is the previous
record's output).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

PHASES = ("forward", "loss", "backward", "update")


def frozen(a: np.ndarray | None, copy: bool = True) -> np.ndarray | None:
    """A read-only array (copied first unless `copy` is False and it is already private)."""
    if a is None:
        return None
    out = np.array(a, copy=True) if copy else a
    out.flags.writeable = False
    return out


def frozen_dict(d: Mapping[str, np.ndarray], copy: bool = True) -> Mapping[str, np.ndarray]:
    return MappingProxyType({k: frozen(v, copy) for k, v in d.items()})


@dataclass(frozen=True)
class ParamUpdate:
    """One parameter's update: gradient, momentum velocity (= ΔW, the note's Δw^t) and the value after."""

    grad: np.ndarray
    velocity: np.ndarray
    value: np.ndarray

    @property
    def delta(self) -> np.ndarray:
        """ΔW applied by this update (the velocity, by the note's rule)."""
        return self.velocity

    @property
    def ratio(self) -> float:
        """‖ΔW‖ / ‖W‖: the update-to-weight ratio (healthy around 1e-3)."""
        with np.errstate(over="ignore", invalid="ignore"):
            w = float(np.linalg.norm(self.value))
            dw = float(np.linalg.norm(self.velocity))
        if not np.isfinite(w):
            return float("nan")
        return dw / w if w > 0 else float("inf")


@dataclass(frozen=True)
class StepRecord:
    """What one phase did. `phase` is forward | loss | backward | update; `layer` its layer index or None."""

    iteration: int
    index: int                      # position of the phase in its iteration, 0 … 2L+1
    phase: str
    layer: int | None
    layer_type: str | None
    description: str
    batch_x: np.ndarray             # the iteration's input images (N, C, H, W)
    batch_y: np.ndarray             # their labels (N,)
    # forward: the layer's input and output
    x: np.ndarray | None = None
    y: np.ndarray | None = None
    # loss
    logits: np.ndarray | None = None
    probs: np.ndarray | None = None
    loss: float | None = None
    accuracy: float | None = None
    # backward: gradient arriving at the layer's output, the one it sends down, its parameter gradients
    dout: np.ndarray | None = None
    dx: np.ndarray | None = None
    grads: Mapping[str, np.ndarray] = field(default_factory=lambda: MappingProxyType({}))
    routing: np.ndarray | None = None   # pooling: per-window ∂y/∂x (N, C, H_out, W_out, KH, KW)
    mask: np.ndarray | None = None      # max pooling: windows won per input position (N, C, H, W)
    # update: layer index -> parameter name -> ParamUpdate
    updates: Mapping[int, Mapping[str, ParamUpdate]] = field(default_factory=lambda: MappingProxyType({}))
    hyper: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def arrays(self) -> dict[str, np.ndarray]:
        """Every array of the record under a flat name (for export as .npz)."""
        out: dict[str, np.ndarray] = {"batch_x": self.batch_x, "batch_y": self.batch_y}
        for name in ("x", "y", "logits", "probs", "dout", "dx", "routing", "mask"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        for k, g in self.grads.items():
            out[f"grad_{k}"] = g
        for i, params in self.updates.items():
            for k, u in params.items():
                out[f"layer{i}_{k}_grad"] = u.grad
                out[f"layer{i}_{k}_velocity"] = u.velocity
                out[f"layer{i}_{k}_value"] = u.value
        if self.loss is not None:
            out["loss"] = frozen(np.asarray(self.loss))
        return out

    @property
    def nbytes(self) -> int:
        seen: set[int] = set()
        total = 0
        for a in self.arrays().values():
            if id(a) not in seen:
                seen.add(id(a))
                total += a.nbytes
        return total
