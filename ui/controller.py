"""The one place that holds both the Session and the widgets.

Model → view: the Session's events (plain callbacks, on whatever thread emitted
them) are re-emitted as Qt signals by a `SessionBridge` (ui/control/bridge.py) and
always delivered queued on the GUI thread. The controller then hands the views
`show_state(records, next_phase)` and updates the actions and the status bar;
redraws are coalesced (≤ 30/s).

View → model: the window's actions and panels call the controller's commands;
errors become messages, never tracebacks. The commands live with their subject:
stepping and the stack here, Run in ui/control/run.py (RunControl), pinned inputs in
ui/control/inputs.py (InputControl), presets, data sets and exports in
ui/control/files.py (FileControl), the layer stack in ui/control/stack.py (StackControl).
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

from PyQt6.QtCore import QObject, Qt, QTimer, pyqtSignal

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

from .control.bridge import SessionBridge, status_text
from .control.files import FileControl
from .control.guard import GuardControl
from .control.inputs import InputControl
from .controls import DEFAULT_RUN_BATCH, DEFAULT_RUN_LR
from .control.run import MAX_REDRAWS_PER_S, METRICS_EVERY_S, STATUS_EVERY_S, RunControl
from .control.stack import StackControl
from .worker import FAST, PAUSED, RUNNING, RunWorker


def run_hyper(session: Any) -> tuple[int, float]:
    """Run's batch size and ε for `session`: its preset's "train" settings (what `visualcnn train` uses), else
    DEFAULT_RUN_BATCH and the session's own ε scaled by the batch (the mean gradient of a batch is smaller)."""
    from visualcnn.presets import load_preset
    train: dict[str, Any] = {}
    if getattr(session, "preset", None):
        try:
            train = dict(load_preset(session.preset).get("train") or {})
        except VisualCNNError:
            train = {}
    batch = int(train.get("batch_size", DEFAULT_RUN_BATCH))
    lr = float(train.get("lr", DEFAULT_RUN_LR))
    return batch, lr


class Controller(GuardControl, RunControl, InputControl, FileControl, StackControl, QObject):
    """Holds the Session, its RunWorker and the MainWindow's widgets; every command goes through here."""

    refreshed = pyqtSignal()           # the views were handed the current state
    runningChanged = pyqtSignal(bool)
    sessionChanged = pyqtSignal(object)    # a new Session is driven (preset, file, data set): extensions follow it
    layerFailed = pyqtSignal(object)       # a LayerFailure from a step or a run: the Errors panel shows its traceback

    def __init__(self, session: Any, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.session: Any = None
        self.bridge: SessionBridge | None = None
        self.worker: RunWorker | None = None
        self._retired: list[RunWorker] = []    # workers whose thread did not end in time: kept alive
        self._held: RunWorker | None = None     # the worker hold_worker() is holding until the loop is idle
        self.spec_valid = True
        self.alert = ""                 # a breakpoint or error message shown until the next command
        self.last_hit: Any = None
        self.pin_source = ""            # what the pinned input is, in words ("" = the dataset's batches)
        self._progress = self._progress_shown = (0, 0, math.nan)
        self._shown: tuple = ()
        self._shown_network: Any = None
        self._metrics_seen: tuple = ()
        self._metrics_drawn = 0.0
        self._status_drawn = 0.0
        self._last_refresh = 0.0
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh)
        self._guard_init()
        self._connect_window()
        self.set_session(session)

    # -- wiring -------------------------------------------------------------------
    @property
    def views(self) -> list[Any]:
        return [v for v in (self.window.pipeline, self.window.inspector, self.window.samples) if v is not None]

    @property
    def running(self) -> bool:
        """The worker owns the Session right now (not paused)."""
        return self.worker is not None and self.worker.state == RUNNING

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
        w.hyper_panel.runHyperEdited.connect(self.set_run_hyper)
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
        w.metrics.exportRequested.connect(self.export_metrics_csv)
        w.browser.sampleChosen.connect(self._browser_chose)
        w.browser.predictionsWanted.connect(self.request_predictions)
        w.pad.imageChanged.connect(self.try_input)
        w.pin_strip.unpinRequested.connect(self.unpin_input)
        w.files.switch = self.switch_session          # all or nothing (FileControl)

    def set_session(self, session: Any) -> None:
        """Drive `session` from now on (at start, and for a preset, a file or another data set)."""
        self._forget_pending()
        self._new_worker(session)
        if self.bridge is not None:
            self.bridge.detach()
            self.bridge.deleteLater()
            self.session.events.disconnect("phase_completed", self._collect)
            self.session.events.disconnect("network_rebuilt", self._forget_completed)
        self.session = session
        self._collected: list[Any] = []
        self._completed: list[Any] = []
        self._progress = (0, 0, math.nan)
        self.pin_source = "" if session.pinned is None else _("a pinned input")
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
        w = self.window
        if w.files.session is not session:
            w.files.set_session(session)
        w.editor.load_spec(session.network.to_spec())
        w.breakpoints_panel.show_breakpoints(session.breakpoints.to_dict())
        ds = session.dataset
        for v in (*self.views, w.pipeline):
            if hasattr(v, "set_class_names"):
                v.set_class_names(ds.class_names)
        w.metrics.reset()
        w.metrics.progress_bar.setRange(0, 1)
        w.metrics.progress_bar.setValue(0)
        w.metrics.eta_label.setText("")
        w.metrics.set_run_state("idle")
        w.browser.set_dataset(ds)
        w.pad.set_dataset(ds)
        w.pad_labels.set_classes(ds.class_names)
        w.set_dataset_label(ds.describe())
        self._shown_network = None
        self._metrics_seen = ()
        self._show_hyper()
        w.hyper_panel.show_run_hyper(*run_hyper(session))
        self.clear_alert()
        self.refresh(force=True)
        self.sessionChanged.emit(session)

    def detach(self) -> list[Any]:
        """Let go of the session so that a new window's controller can drive it (ui/rebuild.py): a run is stopped
        (what it computed stays; stepping gets its own batch size and ε back), the worker's thread ends, and
        nothing of this controller listens to the session any more. Returns the curves' held-out test points."""
        from .control.run import ABANDONED
        worker = self.worker
        points = list(worker.test_points) if worker is not None else []
        was_active = worker is not None and worker.is_active
        self._release_worker()
        if not self.shutdown() and worker is not None:
            ABANDONED.append(worker)          # its QThread must not be destroyed while it runs
        if was_active:
            self._restore_stepping()
        self.worker = None                    # queued signals of the old worker land nowhere
        self._pending_timer.stop()
        if self.bridge is not None:
            self.bridge.detach()
        self.session.events.disconnect("phase_completed", self._collect)
        self.session.events.disconnect("network_rebuilt", self._forget_completed)
        return points

    # -- model → view ---------------------------------------------------------------
    def _collect(self, rec: Any) -> None:
        # on the thread that stepped: one list per iteration, rebound (never mutated) so readers see whole lists
        prev = self._collected
        if rec.index == 0 or not prev or prev[-1].iteration != rec.iteration or prev[-1].index != rec.index - 1:
            self._collected = [rec]
        else:
            self._collected = [*prev, rec]
        if rec.phase == "update" and self._collected[0].index == 0:
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
        """Hand the views the current state (if it changed), update the metrics, actions and status bar."""
        self._refresh_timer.stop()
        s, w = self.session, self.window
        if self.busy or self.worker is None:
            return              # a layer call owns the Session (nothing may wait for its lock), or detached
        running = self.running
        if running:
            if not force and not self._frame_due():
                return                      # a redraw signal with nothing new to draw: no hold, no work
            self.hold_worker()
        mistakes_due = force or s.network is not self._shown_network
        if s.network is not self._shown_network:
            for v in self.views:
                v.set_network(s.network)
            w.metrics.set_layer_names({i: layer.type_name for i, layer in enumerate(s.network.layers)
                                       if layer.params})
            self._shown_network = s.network
            force = True
        if mistakes_due:
            w.show_mistakes(s.network, s.optimizer)
        batch = None
        if running:
            records, next_phase = self._running_records()
            shown = (s, s.network, "running", records[-1] if records else None)
        else:
            records, next_phase = self.shown_records(), (s.phase, s.layer)
            if not records and s.phase_index == 0:
                batch = s.current_batch()         # show the iteration's input before its first phase
            shown = (s, s.network, s.iteration, s.phase_index, records[-1] if records else None,
                     batch[0] if batch is not None else None)
        drew_views = False
        if force or len(shown) != len(self._shown) or any(a is not b for a, b in zip(shown, self._shown)):
            self._shown = shown
            drew_views = True
            for v in self.views:
                v.show_state(records, next_phase)
            if batch is not None:
                for v in self.views:
                    if hasattr(v, "show_input"):
                        v.show_input(*batch) if v is w.samples else v.show_input(batch[0])
        if not (running and drew_views and not force):
            # during a run, one heavy redraw per event-loop turn: curves that fall due together with the
            # views wait for the next redraw signal (≤ 1/30 s) instead of stalling the loop with them
            self._refresh_metrics(running, later=not force)
        now = time.perf_counter()
        if running and not force and now - self._status_drawn < STATUS_EVERY_S:
            self.refreshed.emit()       # the words and the progress bar can wait for the next redraw
            return
        self._status_drawn = now
        if self._progress[1] and self._progress != self._progress_shown:
            self._progress_shown = self._progress
            w.metrics.set_progress(*self._progress)
        self._last_refresh = now
        self.update_actions()
        w.pin_strip.show_pinned(self.pin_source if s.pinned is not None else "")
        if running:
            text, alert = self.run_status(), self.alert
        else:
            text = status_text(s)
            alert = self.alert or ("" if self.spec_valid else
                                   _("The layer stack is invalid (see Layer stack): stepping is off until it is "
                                     "fixed or the edit undone (Ctrl+Z)"))
        w.set_status(text, alert, s.phase_index, s.n_phases, s.history_iterations)
        self.refreshed.emit()

    def _refresh_metrics(self, running: bool, later: bool = False) -> bool:
        """Append new metrics to the curves (during a run at most every METRICS_EVERY_S); True if drawn."""
        metrics, tests = self.session.metrics, self.worker.test_points
        seen = (id(metrics), len(metrics), getattr(tests, "version", len(tests)))   # a bounded list can change at one length
        if seen == self._metrics_seen:
            if not later:
                self.window.metrics.flush()     # forced: what a step left for the next turn is drawn now
            return False
        now = time.perf_counter()
        if running and now - self._metrics_drawn < METRICS_EVERY_S:
            return False                      # the next redraw signal comes back for it
        self._metrics_seen, self._metrics_drawn = seen, now
        if later and not running:   # a step: its views draw in this turn, the curves in the next
            self.window.metrics.update_soon(metrics, tests)
        else:
            self.window.metrics.update_from(metrics, tests)
        return True

    def update_actions(self) -> None:
        a, s, w = self.window.actions, self.session, self.worker
        running = w.state == RUNNING
        # while running, the stepping commands stay enabled: pressing them says why they are refused
        a["step"].setEnabled(self.spec_valid)
        a["step_iteration"].setEnabled(self.spec_valid)
        a["step_back"].setEnabled(self.spec_valid and (running or s.can_step_back))
        a["reset"].setEnabled(self.spec_valid)
        a["run"].setEnabled(self.spec_valid)
        a["stop"].setEnabled(w.is_active or self.busy)
        self.window.set_running(running, w.state == PAUSED)

    def _network_rebuilt(self, _reset: Any = None) -> None:
        if self.worker is None:
            return                                  # detached (ui/rebuild.py): the new controller follows it
        if not self.session.metrics and not self.running:
            self.worker.test_points.clear()          # new weights: the old test points are another network's
        self._forget_predictions()
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
        # a run is paused by the worker at the tripping phase; the window jumps there once it is parked
        if self.worker is None:
            return
        self.last_hit = hit
        if self.worker.is_active:
            self.alert = _("Breakpoint: {message} — the run is paused here: F5 resumes, Shift+F5 stops").format(
                message=hit.message)
        else:
            self.alert = _("Breakpoint: {message}").format(message=hit.message)
        self.window.banner.show_message(self.alert, hit.layer)
        self.select_layer(hit.layer)
        self.refresh(force=True)

    def _error(self, message: str) -> None:
        self.alert = message
        self.window.show_message(message)
        self.refresh()

    def _failed(self, e: Any, prefix: str = "") -> None:
        """A command or a run failed: the message in the banner; a layer's own failure (its traceback,
        phase and layer) also goes out through layerFailed, for the Errors panel."""
        from visualcnn.session import LayerFailure
        unexpected = not isinstance(e, VisualCNNError)      # SystemExit, a bug in layer code: its traceback too
        if (isinstance(e, LayerFailure) or unexpected) and self.receivers(self.layerFailed) > 0:
            self.layerFailed.emit(e)
            what = f"{type(e).__name__}: {e}" if unexpected else str(e)
            self._error(_("{prefix}{error} — the traceback is in the Errors panel").format(prefix=prefix, error=what))
        else:
            self._error(f"{prefix}{e}")

    def refuse(self) -> bool:
        """True (and the reason in the status bar) when the worker owns the Session right now."""
        message = self.busy_refusal() or self.worker.refusal()
        if message is None:
            return False
        self.window.statusBar().showMessage(message, 5000)
        return True

    # -- commands -------------------------------------------------------------------------
    def _command(self, fn: Callable[[], Any]) -> bool:
        """Run a stepping command: clear the last alert, show errors as messages, refresh at once."""
        if not self.spec_valid or self.refuse():
            return False
        self.clear_alert()
        return self._guarded(fn)         # off the GUI thread: a layer that never returns cannot freeze it

    def step(self) -> bool:
        """Run the next phase (F10)."""
        return self._command(lambda: self.session.step())

    def step_back(self) -> bool:
        """Undo the last phase (Shift+F10)."""
        if not self.running and not self.session.can_step_back:
            return False
        return self._command(lambda: self.session.step_back())

    def step_iteration(self) -> bool:
        """Run the rest of the current iteration (F11); stops early at a breakpoint."""
        def rest() -> None:
            s = self.session
            start = s.iteration
            while s.iteration == start:
                s.step()
                if s.last_hit is not None:
                    break
        return self._command(rest)

    def reset_weights(self) -> bool:
        """New initial weights from the seed box (clears the step history)."""
        seed = self.window.hyper_panel.seed_value()
        return self._command(lambda: self.session.rebuild(seed=seed))

    def set_breakpoints(self, values: dict[str, Any]) -> None:
        # plain attribute writes: the worker reads them between phases, so no lock or queue is needed
        bp = self.session.breakpoints
        bp.nonfinite, bp.grad_norm, bp.dead_fraction = (values["nonfinite"], values["grad_norm"],
                                                         values["dead_fraction"])


__all__ = ["Controller", "FAST", "SessionBridge", "status_text"]
