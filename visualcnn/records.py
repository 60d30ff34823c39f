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

from visualcnn.i18n import N_, _

PHASES = ("forward", "loss", "backward", "update")
#: a phase's name as a sentence shows it (translated where shown: `phase_name`)
PHASE_NAMES = {"forward": N_("forward"), "loss": N_("loss"), "backward": N_("backward"), "update": N_("update")}


def phase_name(phase: str) -> str:
    """'backward' in the current language (逆伝播); an unknown name as it is."""
    return _(PHASE_NAMES[phase]) if phase in PHASE_NAMES else phase


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
    """One parameter's update: gradient, momentum velocity (= ΔW, the note's Δw^t) and the value after.

    `before` is the value the iteration's forward and backward passes used (value − velocity only up
    to rounding, so explanations read it instead of rebuilding it).
    """

    grad: np.ndarray
    velocity: np.ndarray
    value: np.ndarray
    before: np.ndarray | None = None

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


class PoolView:
    """A pooling layer's routing and winner mask for one recorded input, computed when first asked for.

    Most steps are never inspected, and both arrays are as large as the layer's input, so the record
    keeps the input and a twin of the layer, and only a view that shows them pays for them.
    """

    def __init__(self, layer: Any, x: np.ndarray) -> None:
        self._twin = type(layer)(**layer.options)
        self._twin.build(layer.input_shape, np.random.default_rng(0), layer.dtype)
        self._x = x
        self._routing: np.ndarray | None = None
        self._mask: np.ndarray | None = None

    @property
    def routing(self) -> np.ndarray:
        if self._routing is None:
            self._twin.forward(self._x)
            self._routing = frozen(self._twin.routing)
        return self._routing

    @property
    def mask(self) -> np.ndarray | None:
        # ask the class: on the instance, hasattr would evaluate the property before any forward pass
        if self._mask is None and hasattr(type(self._twin), "mask"):
            self.routing                            # noqa: B018 - runs the twin's forward pass
            self._mask = frozen(self._twin.mask)
        return self._mask


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
    pool: PoolView | None = None        # pooling layers: routing and mask on demand (see below)
    # update: layer index -> parameter name -> ParamUpdate
    updates: Mapping[int, Mapping[str, ParamUpdate]] = field(default_factory=lambda: MappingProxyType({}))
    hyper: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def routing(self) -> np.ndarray | None:
        """Pooling: the per-window ∂y/∂x (N, C, H_out, W_out, KH, KW) of this phase's input."""
        return None if self.pool is None else self.pool.routing

    @property
    def mask(self) -> np.ndarray | None:
        """Max pooling: how many windows each input position won (N, C, H, W): the pooling mask."""
        return None if self.pool is None else self.pool.mask

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
        """Bytes held by the record's own arrays (lazily computed pooling views not counted)."""
        seen: set[int] = set()
        total = 0
        plain = {k: getattr(self, k) for k in ("batch_x", "batch_y", "x", "y", "logits", "probs", "dout", "dx")}
        for a in [*plain.values(), *self.grads.values(),
                  *(u for params in self.updates.values() for p in params.values()
                    for u in (p.grad, p.velocity, p.value, p.before))]:
            if a is None:
                continue
            if id(a) not in seen:
                seen.add(id(a))
                total += a.nbytes
        return total
