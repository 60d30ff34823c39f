"""SGD with momentum and weight decay: the study note's update rule (MATH.md §2).

Δw^t = −ε ∂C/∂w^t + α Δw^{t−1} − ε λ w^t,   w^{t+1} = w^t + Δw^t

`velocity` holds Δw (the last update) for every parameter, mirroring the
network's params; with constant ε this equals torch.optim.SGD(lr=ε,
momentum=α, weight_decay=λ, dampening=0). Biases use the same rule (the note
drops α there: a slip); whether λ applies to them is `decay_biases`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import VisualCNNError
from .network import Network
from visualcnn.i18n import _


class HyperParameterError(VisualCNNError):
    """A learning rate, momentum or weight decay outside its valid range."""


def check_hyper(lr: float, momentum: float, weight_decay: float) -> None:
    for name, value in ((_("learning rate"), lr), (_("momentum"), momentum), (_("weight decay"), weight_decay)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise HyperParameterError(_("{name} must be a finite number, got {value!r}").format(
                                          name=name, value=value))
    if lr <= 0:
        raise HyperParameterError(_("learning rate must be > 0, got {lr!r}").format(lr=lr))
    if not 0 <= momentum < 1:
        raise HyperParameterError(_("momentum must be in [0, 1), got {momentum!r}").format(momentum=momentum))
    if weight_decay < 0:
        raise HyperParameterError(_("weight decay must be >= 0, got {weight_decay!r}").format(
                                      weight_decay=weight_decay))


def check_for_dtype(lr: float, weight_decay: float, decay_biases: Any, dtype: np.dtype) -> None:
    """Refuse what check_hyper cannot see: a non-boolean decay_biases ("no" is not false), and a rate the
    network's dtype turns into infinity (lr 1e39 is inf in float32)."""
    if not isinstance(decay_biases, (bool, np.bool_)):
        raise HyperParameterError(_("decay_biases must be true or false, got {decay_biases!r}").format(
                                      decay_biases=decay_biases))
    biggest = float(np.finfo(dtype).max)
    for name, value in ((_("learning rate"), lr), (_("learning rate × weight decay"), lr * weight_decay)):
        if value > biggest:
            raise HyperParameterError(_("{name} {value:g} is not representable in {dtype} (largest "
                                        "{biggest:g}); use a smaller value or float64").format(
                                          name=name, value=value, dtype=np.dtype(dtype).name, biggest=biggest))


class SGD:
    """opt = SGD(net, lr=0.1, momentum=0.9, weight_decay=1e-4, decay_biases=True); opt.step()."""

    def __init__(self, net: Network, lr: float = 0.1, momentum: float = 0.0,
                 weight_decay: float = 0.0, decay_biases: bool = True) -> None:
        check_hyper(lr, momentum, weight_decay)
        check_for_dtype(lr, weight_decay, decay_biases, net.dtype)
        self.net = net
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.decay_biases = bool(decay_biases)
        self.velocity: list[dict[str, np.ndarray]] = [
            {k: np.zeros_like(v) for k, v in layer.params.items()} for layer in net.layers]

    def hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "momentum": self.momentum, "weight_decay": self.weight_decay,
                "decay_biases": self.decay_biases}

    def set_hyper(self, **changes: Any) -> None:
        """Change lr / momentum / weight_decay / decay_biases (checked together before any is applied)."""
        new = {**self.hyper(), **changes}
        unknown = set(changes) - set(self.hyper())
        if unknown:
            raise HyperParameterError(_("unknown hyper-parameter {unknown!r}; valid: lr, momentum, "
                                        "weight_decay, decay_biases").format(unknown=sorted(unknown)[0]))
        check_hyper(new["lr"], new["momentum"], new["weight_decay"])
        check_for_dtype(new["lr"], new["weight_decay"], new["decay_biases"], self.net.dtype)
        self.lr, self.momentum = float(new["lr"]), float(new["momentum"])
        self.weight_decay, self.decay_biases = float(new["weight_decay"]), bool(new["decay_biases"])

    def decays(self, name: str) -> bool:
        return name != "b" or self.decay_biases

    def step(self) -> None:
        """Apply one update to every parameter from its current gradient."""
        for layer, vel in zip(self.net.layers, self.velocity):
            for k, w in layer.params.items():
                v = vel[k]
                v *= self.momentum                      # α Δw^{t−1}
                v -= self.lr * layer.grads[k]           # − ε ∂C/∂w
                if self.weight_decay and self.decays(k):
                    v -= (self.lr * self.weight_decay) * w   # − ε λ w
                w += v

    def get_state(self) -> list[dict[str, np.ndarray]]:
        return [{k: v.copy() for k, v in vel.items()} for vel in self.velocity]

    def set_state(self, state: list[dict[str, np.ndarray]]) -> None:
        for vel, new in zip(self.velocity, state):
            for k in vel:
                vel[k][...] = new[k]
