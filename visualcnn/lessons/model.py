"""A lesson in memory: its steps, what they point at and ask (see format.py for the file that describes one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import VisualCNNError
from visualcnn.i18n import _

FORMAT_VERSION = 1
LANGS = ("en", "ja")
PHASE_WORDS = ("start", "forward", "loss", "backward", "update")
KINDS = ("sign", "value", "window", "layer")
# quantity -> (phase whose record holds it, per-sample (indexed by sample first), needs a param name)
QUANTITIES: dict[str, tuple[str, bool, bool]] = {
    "input": ("forward", True, False),          # the layer's input x
    "output": ("forward", True, False),         # the layer's output y
    "probs": ("loss", True, False),             # softmax probabilities p
    "grad_output": ("backward", True, False),   # ∂C/∂y arriving at the layer's output
    "grad_input": ("backward", True, False),    # ∂C/∂x the layer sends down
    "param_grad": ("backward", False, True),    # ∂C/∂W or ∂C/∂b
    "delta": ("update", False, True),           # ΔW of the update (the momentum velocity)
    "weight": ("update", False, True),          # W after the update
}
VIEWS = ("pipeline", "inspector", "samples", "stack", "controls", "breakpoints", "metrics", "gradcheck",
         "mistakes", "numbers")
# the inspector's tabs a step may open (ui/views/inspector.py Inspector.TABS; a UI test keeps them equal)
TABS = ("Activations", "Gradient", "Pooling", "Params", "Numbers")
POOL_TYPES = ("maxpool2d", "avgpool2d", "lppool2d")
HYPER_KEYS = ("lr", "momentum", "weight_decay", "decay_biases")


class LessonError(VisualCNNError):
    """A lesson file that cannot be used: names the file, the step (if any) and the problem."""

    def __init__(self, path: str | Path, problem: str, step: int | None = None) -> None:
        where = f"{path}" if step is None else _("{path}, step {step}").format(path=path, step=step)
        super().__init__(f"{where}: {problem}")
        self.path, self.step, self.problem = str(path), step, problem


Text = Mapping[str, str]


@dataclass(frozen=True)
class Pointer:
    """What the window highlights: a view (dock), a pipeline column (layer), a channel and a unit."""

    view: str = "pipeline"
    layer: int | None = None
    channel: int | None = None
    unit: tuple[int, ...] | None = None
    tab: str | None = None
    of: str = "output"                  # the unit is in the layer's "output" or its "input"


@dataclass(frozen=True)
class Question:
    """A question asked before the step's phase is revealed; the answer is computed by the core."""

    kind: str
    prompt: Text
    explain: Text
    quantity: str | None = None
    layer: int | None = None
    param: str | None = None
    unit: tuple[int, ...] = ()
    sample: int = 0
    tolerance: float = 0.01
    relative: bool = False              # value: tolerance is a fraction of the core's value
    pick: str = "nonzero"               # window: "nonzero" (every input that receives) | "largest"


@dataclass(frozen=True)
class Step:
    number: int                         # 1-based, as errors and the dock count
    title: Text
    text: Text
    at: str                             # "start" | "forward N" | "loss" | "backward N" | "update"
    iteration: int = 0
    point: Pointer | None = None
    ask: Question | None = None
    mistakes: tuple[str, ...] | None = None     # None: as before
    hyper: Mapping[str, Any] = field(default_factory=dict)

    def phase(self) -> tuple[str, int | None]:
        word, _, n = self.at.partition(" ")
        return word, (int(n) if n else None)


@dataclass(frozen=True)
class Setup:
    preset: str
    sample: int = 0
    seed: int | None = None
    hyper: Mapping[str, Any] = field(default_factory=dict)
    mistakes: tuple[str, ...] = ()
    hide_mistakes: bool = False


@dataclass(frozen=True)
class Lesson:
    name: str
    path: str
    title: Text
    summary: Text
    setup: Setup
    steps: tuple[Step, ...]
    order: int = 100

    @property
    def questions(self) -> list[Step]:
        return [s for s in self.steps if s.ask is not None]


# -- parsing --------------------------------------------------------------------------------------


def phase_index(at: str, n_layers: int) -> int:
    """How many phases of the iteration have run once phase `at` has (0 for start; 2L+2 after update)."""
    L = n_layers
    word, _, n = at.partition(" ")
    return {"start": 0, "loss": L + 1, "update": 2 * L + 2}.get(word) if not n else (
        int(n) + 1 if word == "forward" else 2 * L - int(n) + 1)


def quantity_shape(net: Any, quantity: str, layer: int | None, param: str | None) -> tuple[int, ...]:
    """The shape of one sample's `quantity` (or the parameter's shape)."""
    if quantity == "probs":
        return (net.n_classes,)
    lay = net.layers[layer]
    if quantity in ("input", "grad_input"):
        return tuple(net.input_shape if layer == 0 else net.layers[layer - 1].output_shape)
    if quantity in ("output", "grad_output"):
        return tuple(lay.output_shape)
    return tuple(lay.params[param].shape)


__all__ = ["FORMAT_VERSION", "HYPER_KEYS", "KINDS", "LANGS", "Lesson", "LessonError", "PHASE_WORDS", "POOL_TYPES",
           "Pointer", "QUANTITIES", "Question", "Setup", "Step", "TABS", "Text", "VIEWS", "phase_index", "quantity_shape"]
