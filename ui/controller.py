"""The one place that holds both the Session and the widgets.

Model → view: the Session's events (plain callbacks, on whatever thread emitted
them) are re-emitted as Qt signals by a `SessionBridge` and always delivered
queued on the GUI thread, so a worker thread driving a run later changes nothing
here. The controller then hands the views `show_state(records, next_phase)` and
updates the actions and the status bar; redraws are coalesced (≤ 30/s).

View → model: the window's actions and panels call the controller's commands
(step, step back, step iteration, run/pause/stop, reset, hyper-parameters,
breakpoints, a new spec from the stack editor); errors become messages, never tracebacks.

Run mode goes through a runner object with start / pause / resume / stop and a
`finished` signal. `TimerRunner` steps on the GUI thread in small chunks (one
QTimer tick each); a worker-thread runner with the same interface can replace it.
"""

from __future__ import annotations

import sys
import time
import traceback
from typing import Any, Callable

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QMessageBox

from visualcnn.errors import SpecError, VisualCNNError
from visualcnn.network import Network
from visualcnn.spec import format_shape

from .controls import SPEEDS

#: at most this many redraws per second while running
MAX_REDRAWS_PER_S = 30
#: the share of a frame a fast run spends computing before it redraws
FRAME_BUDGET_S = 0.025


class SessionBridge(QObject):
    """Re-emits a Session's plain-callback events as Qt signals (safe to emit from any thread)."""

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
        self._callbacks = {
            "phase_completed": self.phaseCompleted.emit,
            "stepped_back": self.steppedBack.emit,
            "breakpoint_hit": self.breakpointHit.emit,
            "network_rebuilt": self.networkRebuilt.emit,
            "history_trimmed": self.historyTrimmed.emit,
            "hyper_changed": self.hyperChanged.emit,
            "iteration_completed": self.iterationCompleted.emit,
        }
        for name, callback in self._callbacks.items():
            session.events.connect(name, callback)

    def detach(self) -> None:
        for name, callback in self._callbacks.items():
            self.session.events.disconnect(name, callback)


class TimerRunner(QObject):
    """Runs a bounded number of iterations on the GUI thread, a chunk per QTimer tick.

    A chunk is `per_tick` phases, or (per_tick None) as many as fit in FRAME_BUDGET_S,
    so the event loop keeps turning between chunks. finished(reason, hit) with reason
    "done" | "breakpoint" | "stop" | "error"; the controller's view refresh follows each chunk.
    """

    finished = pyqtSignal(str, object)
    chunkDone = pyqtSignal()

    def __init__(self, session_getter: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._session = session_getter
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self.remaining = 0
        self.per_tick: int | None = 1
        self.paused = False
        self._stop_requested = False
        self.error = ""

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    @property
    def active(self) -> bool:
        """Running or paused: a run that Stop can end."""
        return self.running or self.paused

    def set_speed(self, interval_ms: int, per_tick: int | None) -> None:
        self.per_tick = per_tick
        self._timer.setInterval(interval_ms)

    def start(self, n_iterations: int) -> None:
        self.remaining = int(n_iterations)
        self.paused = False
        self._stop_requested = False
        self._timer.start()

    def pause(self) -> None:
        if self.running:
            self._timer.stop()
            self.paused = True

    def resume(self) -> None:
        if self.paused:
            self.paused = False
            self._stop_requested = False
            self._timer.start()

    def stop(self, reason: str = "stop", hit: Any = None) -> None:
        """End the run between phases (also from inside a chunk: the chunk stops at its next phase)."""
        self._stop_requested = True
        if self.active:
            self._timer.stop()
            self.paused = False
            self.remaining = 0
            self.finished.emit(reason, hit)

    def _tick(self) -> None:
        session = self._session()
        deadline = time.perf_counter() + FRAME_BUDGET_S
        count = 0

        def should_stop() -> bool:
            nonlocal count
            count += 1
            if self._stop_requested:
                return True
            if self.per_tick is not None:
                return count > self.per_tick
            return time.perf_counter() > deadline

        try:
            result = session.run(self.remaining, should_stop=should_stop, records=True)
        except Exception as e:      # a run must end in a message, not a dead timer
            traceback.print_exc(file=sys.stderr)
            self.error = f"the run stopped: {e}"
            self.stop("error")
            return
        self.remaining -= result.iterations
        self.chunkDone.emit()
        if result.stopped_by == "breakpoint":
            self.stop("breakpoint", result.breakpoint)
        elif result.stopped_by == "done" or self.remaining <= 0:
            self.stop("done")


def status_text(session: Any) -> str:
    """'iteration 3 · backward · layer 2 maxpool2d — next: backward through layer 1 relu (…)'."""
    last = session.last_record
    if last is None:
        if session.iteration == 0:
            where = "iteration 0 · ready"
        else:
            m = session.metrics[-1] if session.metrics else None
            done = f" (iteration {session.iteration - 1}: loss {m.loss:.4g}, weights updated)" if m else ""
            where = f"iteration {session.iteration} · start{done}"
    else:
        where = f"iteration {last.iteration} · {last.phase}"
        if last.layer is not None:
            where += f" · layer {last.layer} {last.layer_type}"
        if last.loss is not None:
            where += f" C = {last.loss:.4g}"
    return f"{where} — next: {session.describe()}"


class Controller(QObject):
    """Holds the Session and the MainWindow's widgets; every command goes through here."""

    refreshed = pyqtSignal()           # the views were handed the current state
    runningChanged = pyqtSignal(bool)

    def __init__(self, session: Any, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.session: Any = None
        self.bridge: SessionBridge | None = None
        self.spec_valid = True
        self.alert = ""                 # a breakpoint or error message shown until the next command
        self.last_hit: Any = None
        self._shown: tuple = ()
        self._shown_network: Any = None
        self._last_refresh = 0.0
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh)
        self.runner = TimerRunner(lambda: self.session, self)
        self.runner.finished.connect(self._run_finished)
        self.runner.chunkDone.connect(self.refresh)
        self._connect_window()
        self.set_speed(window.hyper_panel.speed.currentText())
        self.set_session(session)

    # -- wiring -------------------------------------------------------------------
    @property
    def views(self) -> list[Any]:
        return [v for v in (self.window.pipeline, self.window.inspector, self.window.samples) if v is not None]

    def _connect_window(self) -> None:
        w, a = self.window, self.window.actions
        a["step"].triggered.connect(self.step)
        a["step_back"].triggered.connect(self.step_back)
        a["step_iteration"].triggered.connect(self.step_iteration)
        a["run"].triggered.connect(self.toggle_run)
        a["stop"].triggered.connect(self.stop)
        a["reset"].triggered.connect(self.reset_weights)
        w.hyper_panel.hyperEdited.connect(self.set_hyper)
        w.hyper_panel.batchSizeEdited.connect(self.set_batch_size)
        w.hyper_panel.speedChanged.connect(self.set_speed)
        w.breakpoints_panel.changed.connect(self.set_breakpoints)
        w.editor.specApplied.connect(self.apply_spec)
        w.editor.validityChanged.connect(self._validity_changed)
        w.editor.layerSelected.connect(self.select_layer)
        w.editor.validator = self.validate_spec
        w.editor.is_trained = lambda: self.session is not None and self.session.iteration > 0
        if hasattr(w.pipeline, "layerClicked"):
            w.pipeline.layerClicked.connect(self.select_layer)
        w.banner.showLayer.connect(self.select_layer)

    def set_session(self, session: Any) -> None:
        """Drive `session` from now on (at start and when a preset is opened)."""
        self.runner.stop()
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge.deleteLater()
            self.session.events.disconnect("phase_completed", self._collect)
            self.session.events.disconnect("network_rebuilt", self._forget_completed)
        self.session = session
        self._collected: list[Any] = []
        self._completed: list[Any] = []
        # plain callbacks, on the emitting thread: they only rebind lists (atomic), never touch a widget
        session.events.connect("phase_completed", self._collect)
        session.events.connect("network_rebuilt", self._forget_completed)
        self.bridge = SessionBridge(session, self)
        queued = Qt.ConnectionType.QueuedConnection
        b = self.bridge
        b.phaseCompleted.connect(self._request_refresh, queued)
        b.steppedBack.connect(self._request_refresh, queued)
        b.iterationCompleted.connect(self._request_refresh, queued)
        b.networkRebuilt.connect(self._network_rebuilt, queued)
        b.breakpointHit.connect(self._breakpoint_hit, queued)
        b.historyTrimmed.connect(lambda _n, msg: self.window.show_message(msg), queued)
        b.hyperChanged.connect(self._show_hyper, queued)
        self.window.editor.load_spec(session.network.to_spec())
        self.window.breakpoints_panel.show_breakpoints(session.breakpoints.to_dict())
        self._show_hyper()
        self.clear_alert()
        self.refresh(force=True)

    # -- model → view ---------------------------------------------------------------
    def _collect(self, rec: Any) -> None:
        self._collected = [rec] if rec.index == 0 else [*self._collected, rec]
        if rec.phase == "update":
            self._completed = self._collected

    def _forget_completed(self, *_: Any) -> None:
        self._collected, self._completed = [], []

    def shown_records(self) -> list[Any]:
        """What the views get: the current iteration's records, or right after an update (nothing of the
        new iteration computed yet) the whole iteration just finished, so its update stays visible."""
        s = self.session
        records = s.records
        done = self._completed
        if not records and s.phase_index == 0 and done and done[-1].iteration == s.iteration - 1:
            return list(done)
        return records
    def _request_refresh(self, *_: Any) -> None:
        """Coalesce refreshes asked for by events: at most MAX_REDRAWS_PER_S."""
        if not self._refresh_timer.isActive():
            wait = self._last_refresh + 1 / MAX_REDRAWS_PER_S - time.perf_counter()
            self._refresh_timer.start(max(0, int(wait * 1000)))

    def refresh(self, force: bool = False) -> None:
        """Hand the views the current state (if it changed), update the actions and the status bar."""
        self._refresh_timer.stop()
        s = self.session
        if s.network is not self._shown_network:
            for v in self.views:
                v.set_network(s.network)
            self._shown_network = s.network
            force = True
        records = self.shown_records()
        shown = (s, s.network, s.iteration, s.phase_index, records[-1] if records else None)
        if force or len(shown) != len(self._shown) or any(a is not b for a, b in zip(shown, self._shown)):
            self._shown = shown
            next_phase = (s.phase, s.layer)
            for v in self.views:
                v.show_state(records, next_phase)
        self._last_refresh = time.perf_counter()
        self.update_actions()
        alert = self.alert or ("" if self.spec_valid else
                               "The layer stack is invalid (see Layer stack): stepping is off until it is fixed "
                               "or the edit undone (Ctrl+Z)")
        self.window.set_status(status_text(s), alert, s.phase_index, s.n_phases, s.history_iterations)
        self.refreshed.emit()

    def update_actions(self) -> None:
        a, s = self.window.actions, self.session
        running = self.runner.running
        can_step = self.spec_valid and not running
        a["step"].setEnabled(can_step)
        a["step_iteration"].setEnabled(can_step)
        a["step_back"].setEnabled(can_step and s.can_step_back)
        a["reset"].setEnabled(can_step)
        a["run"].setEnabled(self.spec_valid)
        a["stop"].setEnabled(self.runner.active)
        self.window.set_running(running)

    def _network_rebuilt(self, _reset: Any = None) -> None:
        self.refresh()

    def _show_hyper(self, *_: Any) -> None:
        s = self.session
        self.window.hyper_panel.show_hyper(s.optimizer.hyper(), s.batch_size, s.seed)

    def select_layer(self, index: int | None) -> None:
        """Show layer `index` in the inspector, the pipeline and the stack editor."""
        if index is None:
            return
        for v in self.views:
            if hasattr(v, "select_layer"):
                v.select_layer(index)
        if self.window.editor.current_row() != index:
            self.window.editor.select_layer(index)

    # -- alerts -------------------------------------------------------------------------
    def clear_alert(self) -> None:
        self.alert = ""
        self.window.banner.hide()

    def _breakpoint_hit(self, hit: Any) -> None:
        self.last_hit = hit
        self.runner.stop("breakpoint", hit)
        self.alert = f"Breakpoint: {hit.message}"
        self.window.banner.show_message(self.alert, hit.layer)
        self.select_layer(hit.layer)
        self.refresh()

    def _error(self, message: str) -> None:
        self.alert = message
        self.window.show_message(message)
        self.refresh()

    # -- commands -------------------------------------------------------------------------
    def _command(self, fn: Callable[[], Any]) -> bool:
        """Run a stepping command: clear the last alert, show errors as messages, refresh at once."""
        if not self.spec_valid or self.runner.running:
            return False
        self.clear_alert()
        try:
            fn()
        except VisualCNNError as e:
            self._error(str(e))
            return False
        self.refresh()
        return True

    def step(self) -> bool:
        """Run the next phase (F10)."""
        return self._command(self.session.step)

    def step_back(self) -> bool:
        """Undo the last phase (Shift+F10)."""
        if not self.session.can_step_back:
            return False
        return self._command(self.session.step_back)

    def step_iteration(self) -> bool:
        """Run the rest of the current iteration (F11); stops early at a breakpoint."""
        def rest() -> None:
            start = self.session.iteration
            while self.session.iteration == start:
                self.session.step()
                if self.session.last_hit is not None:
                    break
        return self._command(rest)

    def toggle_run(self) -> None:
        """Run (F5) a bounded number of iterations; while running, pause; while paused, resume."""
        if self.runner.running:
            self.runner.pause()
        elif self.runner.paused:
            self.clear_alert()
            self.runner.resume()
        elif self.spec_valid:
            self.clear_alert()
            self.runner.start(self.window.hyper_panel.iterations.value())
        self.runningChanged.emit(self.runner.running)
        self.refresh()

    def run(self, n_iterations: int) -> None:
        """Start a bounded run of `n_iterations` (returns at once; the run goes on in timer ticks)."""
        if self.spec_valid and not self.runner.active:
            self.clear_alert()
            self.runner.start(n_iterations)
            self.runningChanged.emit(True)
            self.refresh()

    def pause(self) -> None:
        self.runner.pause()
        self.refresh()

    def stop(self) -> None:
        """End the run at the next phase boundary (Shift+F5)."""
        self.runner.stop()
        self.refresh()

    def _run_finished(self, reason: str, hit: Any) -> None:
        if reason == "error":
            self._error(self.runner.error)
        self.runningChanged.emit(False)
        self.refresh()

    def set_speed(self, label: str) -> None:
        interval, per_tick = SPEEDS[label]
        self.runner.set_speed(interval, per_tick)

    def reset_weights(self) -> bool:
        """New initial weights from the seed box (clears the step history)."""
        seed = self.window.hyper_panel.seed.value()
        return self._command(lambda: self.session.rebuild(seed=seed))

    def set_hyper(self, name: str, value: Any) -> None:
        try:
            self.session.set_hyper(**{name: value})
            self.window.hyper_panel.show_error("")
        except VisualCNNError as e:
            self.window.hyper_panel.show_error(str(e))
            self._show_hyper()

    def set_batch_size(self, n: int) -> None:
        try:
            self.session.set_batch_size(int(n))
            self.window.hyper_panel.show_error("")
        except VisualCNNError as e:
            self.window.hyper_panel.show_error(str(e))
            self._show_hyper()

    def set_breakpoints(self, values: dict[str, Any]) -> None:
        bp = self.session.breakpoints
        bp.nonfinite, bp.grad_norm, bp.dead_fraction = (values["nonfinite"], values["grad_norm"],
                                                         values["dead_fraction"])

    # -- the stack -----------------------------------------------------------------------
    def validate_spec(self, spec: dict[str, Any]) -> Network:
        """Network.from_spec plus the checks against the session's data set; raises SpecError."""
        s = self.session
        net = Network.from_spec(spec, dtype=s.network.dtype, seed=s.seed)
        ds = s.dataset
        if tuple(ds.input_shape) != net.input_shape:
            raise SpecError(f"input shape {format_shape(net.input_shape)} does not match the data set's "
                            f"images ({format_shape(ds.input_shape)}); set the input to "
                            f"{format_shape(ds.input_shape)}")
        if ds.n_classes > net.n_classes:
            last = len(net.layers) - 1
            raise SpecError(f"layer {last} {net.layers[last].type_name}: outputs {net.n_classes} class scores "
                            f"but the data set has {ds.n_classes} classes; set out_features to {ds.n_classes}",
                            layer_index=last)
        return net

    def _validity_changed(self, valid: bool, message: str) -> None:
        if not valid:
            self.runner.stop()
        self.spec_valid = valid
        self.refresh()

    def apply_spec(self, spec: dict[str, Any]) -> None:
        """Rebuild the session's network for a valid spec from the stack editor."""
        try:
            self.session.rebuild(spec=spec)
        except VisualCNNError as e:
            self._error(str(e))
            return
        self.clear_alert()
        self.refresh()

    def confirm_discard(self, what: str) -> bool:
        """Ask before `what` throws trained weights away (tests patch this)."""
        if self.session.iteration == 0:
            return True
        answer = QMessageBox.question(
            self.window, "Discard the trained weights?",
            f"{what} starts a new session; the training so far and the step history are lost.\n\nContinue?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes

    def open_preset(self, name: str) -> bool:
        """Switch to a bundled preset's session."""
        from visualcnn.session import Session
        if not self.confirm_discard(f"Opening the preset {name!r}"):
            return False
        try:
            session = Session.from_preset(name)
        except VisualCNNError as e:
            self._error(str(e))
            return False
        self.set_session(session)
        return True
