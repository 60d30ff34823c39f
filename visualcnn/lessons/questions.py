"""Answers to a lesson's questions: what the core computed, how a learner's answer is read and judged.

Answers, by kind:
    sign    "+", "-" or "0"          the sign of the quantity at the unit
    value   a float                  within the question's tolerance of the core's value
    window  frozenset of (row, col)  the inputs of the pooling window that receive gradient
    layer   an int                   the layer whose backward formula is wrong (the gradient check finds it)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import VisualCNNError
from ..i18n import _
from .model import QUANTITIES, Question

# |v| at or below this fraction of the array's largest |value| counts as 0 (exact zeros stay exact)
ZERO = 1e-9
SIGNS = ("+", "-", "0")


class AnswerError(VisualCNNError):
    """A learner's answer that cannot be read for this kind of question."""


@dataclass(frozen=True)
class Verdict:
    """How an answer was judged: right or not, the core's answer and the explanation to show."""

    correct: bool
    given: Any
    expected: Any
    value: Any            # the core's number behind the answer (the value, or the routing weights)

    def to_json(self) -> dict[str, Any]:
        return {"given": to_json(self.given), "correct": self.correct}


def record_for(records: Sequence[Any], phase: str, layer: int | None) -> Any:
    for rec in records:
        if rec.phase == phase and (layer is None or rec.layer == layer):
            return rec
    raise LookupError(_("no {phase} record for layer {layer} in this iteration").format(phase=phase, layer=layer))


def quantity_array(q: Question, records: Sequence[Any]) -> np.ndarray:
    """The quantity `q` asks about, as the core computed it: one sample's array or a parameter's."""
    phase, per_sample, _needs_param = QUANTITIES[q.quantity]
    rec = record_for(records, phase, None if phase in ("loss", "update") else q.layer)
    a = {
        "input": lambda: rec.x, "output": lambda: rec.y, "probs": lambda: rec.probs,
        "grad_output": lambda: rec.dout, "grad_input": lambda: rec.dx,
        "param_grad": lambda: rec.grads[q.param],
        "delta": lambda: rec.updates[q.layer][q.param].velocity,
        "weight": lambda: rec.updates[q.layer][q.param].value,
    }[q.quantity]()
    return np.asarray(a[q.sample] if per_sample else a, dtype=np.float64)


def sign_of(v: float, scale: float) -> str:
    if abs(v) <= ZERO * max(scale, 1e-300):
        return "0"
    return "+" if v > 0 else "-"


def window_cells(q: Question, records: Sequence[Any]) -> tuple[frozenset, np.ndarray]:
    """(cells that receive gradient, the routing weights ∂y/∂x of the window) for a pooling question."""
    rec = record_for(records, "backward", q.layer)
    c, i, j = q.unit
    weights = np.asarray(rec.routing[q.sample, c, i, j], dtype=np.float64)        # (KH, KW)
    if q.pick == "largest":
        top = np.abs(weights).max()
        cells = {tuple(int(v) for v in rc) for rc in np.argwhere(np.abs(weights) == top)} if top > 0 else set()
    else:
        cells = {tuple(int(v) for v in rc) for rc in np.argwhere(weights != 0)}
    return frozenset(cells), weights


def faulty_layer(session: Any) -> int | None:
    """The layer whose backward formula is wrong, found the way a learner would: a gradient check of the
    session's network on its current batch (the highest failing layer); None when everything passes."""
    from ..gradcheck import gradcheck
    from ..mistakes import first_failure
    x, labels = session.current_batch()
    report = gradcheck(session.network, x, labels, max_entries=12, jitter=1e-3, seed=0)
    failure = first_failure(report)
    return None if failure is None else failure[0]


def expected(q: Question, records: Sequence[Any], session: Any) -> tuple[Any, Any]:
    """(the right answer, the core's value behind it)."""
    if q.kind == "layer":
        layer = faulty_layer(session)
        return layer, layer
    if q.kind == "window":
        return window_cells(q, records)
    a = quantity_array(q, records)
    v = float(a[q.unit])
    if q.kind == "sign":
        return sign_of(v, float(np.abs(a).max())), v
    return v, v


def read_answer(q: Question, given: Any) -> Any:
    """The learner's answer in the kind's form; AnswerError when it cannot be read."""
    if q.kind == "sign":
        s = str(given).strip().replace("−", "-").lower()
        s = {"positive": "+", "negative": "-", "zero": "0", "正": "+", "負": "-", "ゼロ": "0"}.get(s, s)
        if s not in SIGNS:
            raise AnswerError(_("Answer with +, − or 0."))
        return s
    if q.kind == "value":
        try:
            v = float(str(given).strip().replace("−", "-"))
        except ValueError:
            raise AnswerError(_("Answer with a number, e.g. 0.25.")) from None
        if not np.isfinite(v):
            raise AnswerError(_("Answer with a number, e.g. 0.25."))
        return v
    if q.kind == "window":
        try:
            cells = frozenset((int(r), int(c)) for r, c in given)
        except (TypeError, ValueError):
            raise AnswerError(_("Pick the cells of the window that receive a gradient.")) from None
        if not cells:
            raise AnswerError(_("Pick the cells of the window that receive a gradient."))
        return cells
    try:
        return int(given)
    except (TypeError, ValueError):
        raise AnswerError(_("Answer with a layer number.")) from None


def judge(q: Question, given: Any, right: Any) -> bool:
    if q.kind == "value":
        return abs(given - right) <= (q.tolerance * abs(right) if q.relative else q.tolerance)
    return given == right


def wrong_answer(q: Question, right: Any, n_layers: int, kernel: tuple[int, int] = (2, 2)) -> Any:
    """An answer that is certainly wrong (for tests and demonstrations)."""
    if q.kind == "sign":
        return "-" if right == "+" else "+"
    if q.kind == "value":
        return right + 10 * q.tolerance + 0.5
    if q.kind == "window":
        cells = frozenset((r, c) for r in range(kernel[0]) for c in range(kernel[1]))
        return frozenset({(0, 0)}) if right == cells else frozenset({min(cells - right)})
    return 0 if right != 0 else n_layers - 1


def format_answer(q: Question, answer: Any) -> str:
    """An answer as the dock shows it."""
    if answer is None:
        return _("none (every gradient passes)") if q.kind == "layer" else "—"
    if q.kind == "sign":
        return {"+": _("positive (+)"), "-": _("negative (−)"), "0": _("zero (0)")}[answer]
    if q.kind == "value":
        return f"{answer:.4f}".replace("-", "−")
    if q.kind == "window":
        return ", ".join(f"({r}, {c})" for r, c in sorted(answer))
    return _("layer {n}").format(n=answer)


def to_json(answer: Any) -> Any:
    if isinstance(answer, frozenset):
        return sorted([list(rc) for rc in answer])
    return answer


__all__ = ["AnswerError", "Verdict", "expected", "faulty_layer", "format_answer", "judge", "quantity_array",
           "read_answer", "to_json", "window_cells", "wrong_answer"]
