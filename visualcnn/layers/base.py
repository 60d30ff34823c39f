"""The Layer contract every built-in (and user-written) layer follows.

A layer is built for a per-sample input shape (C, H, W) or (D,), knows its
output shape and parameter count before any data, and then maps a batch
x (N, *input_shape) to y (N, *output_shape) in `forward`, and an upstream
gradient dout (N, *output_shape) to dx (N, *input_shape) in `backward`,
filling `grads` (same keys and shapes as `params`).

Rules (ARCHITECTURE.md):
- `params` holds the live arrays the layer computes with.
- `backward` never mutates `dout` nor the cache (`x`, `y`).
- The last input and output stay in `x` and `y` for the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from visualcnn.i18n import N_, _


class BuildError(ValueError):
    """Raised by `Layer.build` for a shape it cannot take; the Network adds the layer index."""


#: how a message names a field's type (English: the Python name a spec author knows; Japanese: 整数…)
KIND_WORDS = {int: N_("int"), float: N_("number"), str: N_("str"), bool: N_("bool")}


@dataclass(frozen=True)
class Field:
    """One option of a layer's spec entry: its type, default, and what is valid."""

    kind: type | tuple[type, ...]
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""

    def describe(self) -> str:
        if self.choices is not None:
            return " | ".join(repr(c) for c in self.choices)
        names = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        text = _(" or ").join(_(KIND_WORDS[k]) if k in KIND_WORDS else k.__name__ for k in names)
        if self.minimum is not None and self.maximum is not None:
            text = _("{kind} from {minimum:g} to {maximum:g}").format(kind=text, minimum=self.minimum,
                                                                     maximum=self.maximum)
        elif self.minimum is not None:
            text += f" >= {self.minimum:g}"
        elif self.maximum is not None:
            text += f" <= {self.maximum:g}"
        return text


class Layer:
    """Base class: one small class per layer, `forward(x)` / `backward(dout)`."""

    type_name: ClassVar[str] = ""
    #: spec options of this layer type (besides "type")
    fields: ClassVar[dict[str, Field]] = {}
    #: short human description for menus and tooltips
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        self.options: dict[str, Any] = dict(options)
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.input_shape: tuple[int, ...] = ()
        self.output_shape: tuple[int, ...] = ()
        self.dtype: np.dtype = np.dtype(np.float32)
        self.x: np.ndarray | None = None
        self.y: np.ndarray | None = None
        #: remarks about the built shape (e.g. input rows no window reaches), shown next to the layer
        self.notes: list[str] = []
        #: False while the network only wants parameter gradients from this layer: backward may then
        #: skip ∂C/∂x and return None (training skips it for the lowest layer with parameters)
        self.input_grad: bool = True

    # -- building -----------------------------------------------------------
    def build(self, input_shape: tuple[int, ...], rng: np.random.Generator, dtype: np.dtype) -> None:
        """Check `input_shape` (per sample), set `output_shape`, create params and zero grads."""
        self.input_shape = tuple(int(s) for s in input_shape)
        self.dtype = np.dtype(dtype)
        self.notes = []
        self.output_shape = tuple(int(s) for s in self.infer_output_shape(self.input_shape))
        self.params = {k: np.asarray(v, dtype=self.dtype) for k, v in self.init_params(rng).items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.x = self.y = None

    def infer_output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Per-sample output shape for `input_shape`; raise BuildError if the input cannot be taken."""
        return input_shape

    def init_params(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Initial parameters (empty for layers without any)."""
        return {}

    @property
    def n_params(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.type_name, **self.options}

    # -- computing ----------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    # -- helpers for subclasses ---------------------------------------------
    def _need_rank(self, input_shape: tuple[int, ...], rank: int, what: str) -> None:
        if len(input_shape) != rank:
            shape = "×".join(map(str, input_shape)) or "()"
            raise BuildError(_("needs {what}, got an input of shape {shape}").format(what=what, shape=shape))

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"


def glorot_uniform(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    """Glorot/Xavier uniform: U(-a, a) with a = sqrt(6 / (fan_in + fan_out)); suits sigmoid and tanh units."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape)


def readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view of `a` (what the views are handed)."""
    v = a.view()
    v.flags.writeable = False
    return v
