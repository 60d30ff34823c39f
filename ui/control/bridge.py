"""SessionBridge: a Session's events as Qt signals; status_text: where the stepping is, in words."""

from __future__ import annotations

from typing import Any, Callable

from PyQt6.QtCore import QObject, pyqtSignal

from visualcnn.i18n import _
from visualcnn.records import phase_name


class SessionBridge(QObject):
    """Re-emits a Session's plain-callback events as Qt signals (safe to emit from any thread).

    `quiet` (set while the worker runs): the per-phase and per-iteration events are not forwarded —
    thousands a second, each would make the GUI thread take the GIL from the worker, which redraws at
    its own pace anyway; a history trim is kept in `pending_trim` for when the run pauses or ends.
    """

    HIGH_RATE = ("phase_completed", "stepped_back", "iteration_completed")

    phaseCompleted = pyqtSignal(object)       # StepRecord
    steppedBack = pyqtSignal(object)          # StepRecord | None
    breakpointHit = pyqtSignal(object)        # BreakpointHit
    networkRebuilt = pyqtSignal(object)       # list[str]: what was reset
    historyTrimmed = pyqtSignal(int, str)
    hyperChanged = pyqtSignal(object)         # dict
    iterationCompleted = pyqtSignal(int)

    def __init__(self, session: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.quiet = False
        self.pending_trim = ""
        signals = {
            "phase_completed": self.phaseCompleted,
            "stepped_back": self.steppedBack,
            "breakpoint_hit": self.breakpointHit,
            "network_rebuilt": self.networkRebuilt,
            "history_trimmed": self.historyTrimmed,
            "hyper_changed": self.hyperChanged,
            "iteration_completed": self.iterationCompleted,
        }
        self._callbacks = {name: self._forwarder(name, signal) for name, signal in signals.items()}
        for name, callback in self._callbacks.items():
            session.events.connect(name, callback)

    def _forwarder(self, name: str, signal: Any) -> Callable[..., None]:
        if name in self.HIGH_RATE:
            def forward(*args: Any) -> None:
                if not self.quiet:
                    signal.emit(*args)
        elif name == "history_trimmed":
            def forward(n: int, message: str) -> None:
                if self.quiet:
                    self.pending_trim = message
                else:
                    signal.emit(n, message)
        else:
            forward = signal.emit
        return forward

    def detach(self) -> None:
        for name, callback in self._callbacks.items():
            self.session.events.disconnect(name, callback)


def status_text(session: Any) -> str:
    """'iteration 3 · backward · layer 2 maxpool2d — next: backward through layer 1 relu (…)'."""
    last = session.last_record
    if last is None:
        if session.iteration == 0:
            where = _("iteration 0 · ready")
        else:
            m = session.metrics[-1] if session.metrics else None
            if m is not None:
                where = _("iteration {k} · start (iteration {previous}: loss {loss:.4g}, weights updated)").format(
                    k=session.iteration, previous=session.iteration - 1, loss=m.loss)
            else:
                where = _("iteration {k} · start").format(k=session.iteration)
    else:
        phase = phase_name(last.phase)
        if last.layer is not None:
            where = _("iteration {k} · {phase} · layer {layer} {type}").format(
                k=last.iteration, phase=phase, layer=last.layer, type=last.layer_type)
        else:
            where = _("iteration {k} · {phase}").format(k=last.iteration, phase=phase)
        if last.loss is not None:
            where += f" C = {last.loss:.4g}"
    # " — " splits what happened from what comes next: the status bar drops the second part when short of room
    return _("{where} — next: {next}").format(where=where, next=session.describe())
