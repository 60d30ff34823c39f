"""The one place that holds both the Session and the widgets.

Model → view: the Session's events (plain callbacks, on whatever thread emitted
them) are re-emitted as Qt signals by a `SessionBridge` and always delivered
queued on the GUI thread. The controller then hands the views
`show_state(records, next_phase)` and updates the actions and the status bar;
redraws are coalesced (≤ 30/s).

View → model: the window's actions and panels call the controller's commands
(step, step back, step iteration, run/pause/stop, reset, hyper-parameters,
breakpoints, a new spec, a pinned input, another data set); errors become messages,
never tracebacks.

Run mode is a `RunWorker` (ui/worker.py): it drives the same Session from its own
thread and the GUI thread only draws. The worker's rule decides who may touch the
Session: while it runs, stepping is refused with a status-bar message, hyper-parameter
changes are queued to it (`submit`), and the views are fed records the Session's own
events delivered (`_collect`, on the worker thread, only rebinds lists); once paused
or finished, the GUI has the Session to itself again.
"""

from __future__ import annotations

import contextlib
import math
import time
from typing import Any, Callable, Iterator

import numpy as np
from PyQt6.QtCore import QAbstractEventDispatcher, QObject, Qt, QThread, QTimer, pyqtSignal

from visualcnn.errors import SpecError, VisualCNNError
from visualcnn.network import Network
from visualcnn.spec import format_shape

from .worker import FAST, PAUSED, RUNNING, RunWorker, speed_label

#: at most this many redraws per second while running
MAX_REDRAWS_PER_S = 30
#: as fast as possible: one iteration in this many seconds is run with records, for the views to show
SAMPLE_EVERY_S = 0.5
#: During a run every redraw holds the GIL the worker trains with, so the GUI draws what changed, at
#: most this often: the curves (about 25 ms a frame at a few thousand iterations), the status and progress
#: bar, and (as fast as possible) a recorded iteration for the views (SAMPLE_EVERY_S).
METRICS_EVERY_S = 0.5
#: the longest a redraw holds the worker (RunWorker.hold); released as soon as the frame is done
HOLD_S = 0.1
STATUS_EVERY_S = 0.2
#: held-out test points during a run: every so many iterations, on so many test images
EVAL_EVERY = 100
EVAL_SAMPLES = 200


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
        w.files.sessionOpened.connect(self.set_session)

    def set_session(self, session: Any) -> None:
        """Drive `session` from now on (at start, and for a preset, a file or another data set)."""
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
        self.pin_source = "" if session.pinned is None else "a pinned input"
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
        self.clear_alert()
        self.refresh(force=True)
        self.sessionChanged.emit(session)

    def _new_worker(self, session: Any) -> None:
        """Stop and end the current worker's thread; start one for `session`."""
        old = self.worker
        if old is not None:
            if not old.shutdown(5.0):
                self._retired.append(old)           # its QThread must not be destroyed while running
        w = RunWorker(session, eval_every=EVAL_EVERY, eval_samples=EVAL_SAMPLES)
        w.sample_every = SAMPLE_EVERY_S
        w.set_speed(self.window.hyper_panel.speed)
        # every slot checks it is still the current worker: queued signals of a replaced one may still land
        w.redraw.connect(lambda w=w: w is self.worker and self.refresh())
        w.stateChanged.connect(lambda state, w=w: w is self.worker and self._run_state(state))
        w.progress.connect(lambda d, t, eta, w=w: w is self.worker and self._run_progress(d, t, eta))
        w.finished.connect(lambda summary, w=w: w is self.worker and self._run_finished(summary))
        w.failed.connect(lambda message, w=w: w is self.worker and self._failed(w.last_error or message, "The run stopped: "))
        w.jobDone.connect(lambda tag, result, w=w: w is self.worker and self._job_done(tag, result))
        self.worker = w

    def shutdown(self) -> bool:
        """Stop any run and end the worker's thread (closeEvent); True if it ended."""
        ok = self.worker.shutdown(5.0) if self.worker is not None else True
        self._refresh_timer.stop()
        return ok

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

    def _running_records(self) -> tuple[list[Any], tuple[str, int | None]]:
        """While the worker runs: the records its steps delivered, and the phase after the last of them.
        Paced, the iteration as it goes (the wave forward and back); as fast as possible, the latest whole one."""
        s = self.session
        records = self._completed if math.isinf(self.worker.speed) else self._collected
        if not records:
            return [], ("forward", 0)
        nxt = records[-1].index + 1
        return list(records), s.phase_at(nxt) if nxt < s.n_phases else ("forward", 0)

    def _request_refresh(self, *_: Any) -> None:
        """Coalesce refreshes asked for by events: at most MAX_REDRAWS_PER_S."""
        if not self._refresh_timer.isActive():
            wait = self._last_refresh + 1 / MAX_REDRAWS_PER_S - time.perf_counter()
            self._refresh_timer.start(max(0, int(wait * 1000)))

    def refresh(self, force: bool = False) -> None:
        """Hand the views the current state (if it changed), update the metrics, actions and status bar."""
        self._refresh_timer.stop()
        s, w = self.session, self.window
        running = self.running
        if running:
            if not force and not self._frame_due():
                return                      # a redraw signal with nothing new to draw: no hold, no work
            self.hold_worker()
        if s.network is not self._shown_network:
            for v in self.views:
                v.set_network(s.network)
            w.metrics.set_layer_names({i: layer.type_name for i, layer in enumerate(s.network.layers)
                                       if layer.params})
            self._shown_network = s.network
            force = True
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
            self._refresh_metrics(running)
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
                                   "The layer stack is invalid (see Layer stack): stepping is off until it is "
                                   "fixed or the edit undone (Ctrl+Z)")
        w.set_status(text, alert, s.phase_index, s.n_phases, s.history_iterations)
        self.refreshed.emit()

    def hold_worker(self) -> None:
        """Before drawing during a run: the worker waits at its next phase boundary until the GUI's event
        loop is idle again (QAbstractEventDispatcher.aboutToBlock), at most HOLD_S. Two busy Python threads
        hand the GIL over every few milliseconds, so a frame drawn against a computing worker takes many
        times longer and the event loop stalls; held, a frame costs the run exactly its drawing time."""
        worker = self.worker
        if worker is None or worker.state != RUNNING or self._held is not None:
            return
        worker.hold(HOLD_S)
        self._held = worker
        QAbstractEventDispatcher.instance().aboutToBlock.connect(self._release_worker)

    def _release_worker(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            QAbstractEventDispatcher.instance().aboutToBlock.disconnect(self._release_worker)
            held.release()

    def _frame_due(self) -> bool:
        """During a run: has a newer iteration been recorded, or are the curves or the status bar due?"""
        now = time.perf_counter()
        records, _ = self._running_records()
        last = records[-1] if records else None
        return (not self._shown or self._shown[-1] is not last or self.session.network is not self._shown_network
                or now - self._metrics_drawn >= METRICS_EVERY_S or now - self._status_drawn >= STATUS_EVERY_S)

    def _refresh_metrics(self, running: bool) -> bool:
        """Append new metrics to the curves (during a run at most every METRICS_EVERY_S); True if drawn."""
        metrics, tests = self.session.metrics, self.worker.test_points
        seen = (id(metrics), len(metrics), len(tests))
        if seen == self._metrics_seen:
            return False
        now = time.perf_counter()
        if running and now - self._metrics_drawn < METRICS_EVERY_S:
            return False                      # the next redraw signal comes back for it
        self._metrics_seen, self._metrics_drawn = seen, now
        self.window.metrics.update_from(metrics, tests)
        return True

    def run_status(self) -> str:
        """'running · iteration 1,234 (300 / 1,000) · loss 0.412 · as fast as possible'."""
        s = self.session
        done, total, _eta = self._progress
        m = s.metrics[-1] if s.metrics else None
        loss = f" · loss {m.loss:.4g}" if m is not None else ""
        return (f"running · iteration {s.iteration:,} ({done:,} / {total:,} of this run){loss} · "
                f"{speed_label(self.worker.speed)} — F5 pauses, Shift+F5 stops")

    def update_actions(self) -> None:
        a, s, w = self.window.actions, self.session, self.worker
        running = w.state == RUNNING
        # while running, the stepping commands stay enabled: pressing them says why they are refused
        a["step"].setEnabled(self.spec_valid)
        a["step_iteration"].setEnabled(self.spec_valid)
        a["step_back"].setEnabled(self.spec_valid and (running or s.can_step_back))
        a["reset"].setEnabled(self.spec_valid)
        a["run"].setEnabled(self.spec_valid)
        a["stop"].setEnabled(w.is_active)
        self.window.set_running(running, w.state == PAUSED)

    def _network_rebuilt(self, _reset: Any = None) -> None:
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
        self.last_hit = hit
        self.alert = f"Breakpoint: {hit.message}"
        if self.worker.is_active:
            self.alert += " — the run is paused here: F5 resumes, Shift+F5 stops"
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
        if isinstance(e, LayerFailure) and self.receivers(self.layerFailed) > 0:
            self.layerFailed.emit(e)
            self._error(f"{prefix}{e} — the traceback is in the Errors panel")
        else:
            self._error(f"{prefix}{e}")

    def refuse(self) -> bool:
        """True (and the reason in the status bar) when the worker owns the Session right now."""
        message = self.worker.refusal()
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
        try:
            fn()
        except VisualCNNError as e:
            self._failed(e)
            return False
        self.window.files.set_dirty(True)
        self.refresh()
        return True

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

    def toggle_run(self) -> None:
        """Run (F5) for the iterations or epochs set under Training; while running, pause; while paused, resume."""
        w = self.worker
        if w.state == RUNNING:
            w.pause()
        elif w.state == PAUSED:
            self.clear_alert()
            w.resume()
        elif self.spec_valid:
            self.run(**self.window.hyper_panel.run_length())
        self.refresh(force=True)

    def run(self, n_iterations: int | None = None, epochs: int | None = None) -> bool:
        """Start a run of `n_iterations` iterations or `epochs` epochs on the worker thread (returns at once)."""
        if not self.spec_valid or self.worker.is_active:
            return False
        self.clear_alert()
        self._collected, self._completed = [], []
        try:
            self.bridge.quiet = True          # before the first phase: the worker may start at once
            self.worker.start(n_iterations=n_iterations, epochs=epochs)
        except (ValueError, RuntimeError) as e:
            self.bridge.quiet = False
            self._error(f"Cannot run: {e}")
            return False
        self.runningChanged.emit(True)
        self.refresh(force=True)
        return True

    def pause(self) -> None:
        self.worker.pause()

    def resume(self) -> None:
        self.clear_alert()
        self.worker.resume()

    def stop(self) -> None:
        """End the run at the next phase boundary (Shift+F5); `finished` follows."""
        self.worker.stop()

    def wait_until_paused(self, timeout: float = 2.0) -> bool:
        """Pause and wait (briefly, on the GUI thread) until the worker has let go of the Session."""
        w = self.worker
        if w.state != RUNNING:
            return True
        w.pause()
        deadline = time.perf_counter() + timeout
        while w.state == RUNNING and time.perf_counter() < deadline:
            QThread.msleep(2)
        return w.state != RUNNING

    def _run_state(self, state: str) -> None:
        self.bridge.quiet = state == RUNNING
        if state != RUNNING and self.bridge.pending_trim:
            self.window.statusBar().showMessage(self.bridge.pending_trim, 8000)
            self.bridge.pending_trim = ""
        self.window.metrics.set_run_state(state)
        self.runningChanged.emit(state == RUNNING)
        self.refresh(force=True)

    def _run_progress(self, done: int, total: int, eta: float) -> None:
        # stored only: refresh draws it (a QProgressBar repaints at once on every setValue)
        self._progress = (done, total, eta)

    def _run_finished(self, summary: Any) -> None:
        self._progress = (summary.iterations, summary.total, 0.0)
        if summary.stopped_by == "done":
            rate = summary.iterations / summary.seconds if summary.seconds > 0 else math.inf
            self.window.statusBar().showMessage(
                f"run finished: {summary.iterations:,} iterations in {summary.seconds:.1f} s "
                f"({rate:,.0f} per second)", 8000)
        elif summary.stopped_by == "stop":
            self.window.statusBar().showMessage(f"run stopped after {summary.iterations:,} iterations", 5000)
        self._forget_predictions()
        self.runningChanged.emit(False)
        self.refresh(force=True)

    def set_speed(self, phases_per_second: float) -> None:
        self.worker.set_speed(phases_per_second)
        self.refresh()

    def reset_weights(self) -> bool:
        """New initial weights from the seed box (clears the step history)."""
        seed = self.window.hyper_panel.seed.value()
        return self._command(lambda: self.session.rebuild(seed=seed))

    def set_hyper(self, name: str, value: Any) -> None:
        """A hyper-parameter from the Training panel; during a run it is applied by the worker between phases."""
        if self.running:
            self.worker.submit(lambda s: s.set_hyper(**{name: value}), tag=("hyper", name))
            return
        try:
            self.session.set_hyper(**{name: value})
            self.window.hyper_panel.show_error("")
        except VisualCNNError as e:
            self.window.hyper_panel.show_error(str(e))
            self._show_hyper()

    def set_batch_size(self, n: int) -> None:
        if self.running:
            self.worker.submit(lambda s: s.set_batch_size(int(n)), tag=("hyper", "batch_size"))
            return
        try:
            s = self.session
            if s.phase_index == 0:
                # nothing computed yet: the batch shown was only fetched for display, so fetch it anew
                s.restart_iteration()
            s.set_batch_size(int(n))
            self.window.hyper_panel.show_error("")
            self.refresh()
        except VisualCNNError as e:
            self.window.hyper_panel.show_error(str(e))
            self._show_hyper()

    def _job_done(self, tag: Any, result: Any) -> None:
        if not isinstance(tag, tuple):
            return
        if tag[0] == "hyper":
            if isinstance(result, VisualCNNError):
                self.window.hyper_panel.show_error(str(result))
                self._show_hyper()
            else:
                self.window.hyper_panel.show_error("")
        elif tag[0] == "predictions" and tag[2] is self.session.dataset and isinstance(result, np.ndarray):
            self.window.browser.set_predictions(tag[1], result)

    def set_breakpoints(self, values: dict[str, Any]) -> None:
        # plain attribute writes: the worker reads them between phases, so no lock or queue is needed
        bp = self.session.breakpoints
        bp.nonfinite, bp.grad_norm, bp.dead_fraction = (values["nonfinite"], values["grad_norm"],
                                                         values["dead_fraction"])

    # -- inputs ---------------------------------------------------------------------------
    def pin_input(self, x: np.ndarray, labels: Any, source: str) -> bool:
        """Step on the images x (N, C, H, W) from now on instead of the dataset's batches; `source` in words."""
        if self.refuse():
            return False
        try:
            self.session.pin_input(x, labels)
        except VisualCNNError as e:
            self._error(f"Cannot use {source} as the input: {e}")
            return False
        self.pin_source = source
        self.clear_alert()
        self.refresh(force=True)
        return True

    def unpin_input(self) -> bool:
        """Back to the dataset's batches (the current iteration starts again)."""
        if self.refuse():
            return False
        self.session.pin_input(None)
        self.pin_source = ""
        self.refresh(force=True)
        return True

    def _browser_chose(self, x: np.ndarray, labels: np.ndarray) -> None:
        b = self.window.browser
        row = b.view.currentIndex().row()
        index = int(b.model.rows[row]) if 0 <= row < len(b.model.rows) else None
        name = self.session.dataset.class_names[int(labels[0])]
        where = f"{b.split} image #{index}" if index is not None else f"{b.split} image"
        self.pin_input(x, labels, f"{where} (label {name})")

    def try_input(self, x: np.ndarray) -> bool:
        """The drawing pad's image x (C, H, W): pin it and run the forward phases and the loss, so the
        pipeline, the probabilities and the inspector show what the network makes of it."""
        if self.running:
            self.window.statusBar().showMessage("Training is running: pause it (F5) to try your own image.", 5000)
            return False
        label = self.window.pad_labels.label()
        name = self.session.dataset.class_names[label]
        if not self.pin_input(np.asarray(x)[None], [label], f"your image (labelled {name})"):
            return False
        s = self.session
        try:
            for _ in range(len(s.network.layers) + 1):
                s.step()
                if s.last_hit is not None:
                    break
        except VisualCNNError as e:
            self._error(str(e))
            return False
        self.refresh()
        return True

    def request_predictions(self, split: str) -> None:
        """Predicted labels of a split for the browser's "misclassified only", computed on the worker thread."""
        from .views.dataset_browser import predict_labels
        self.worker.submit(lambda s: predict_labels(s, split), tag=("predictions", split, self.session.dataset))

    def _forget_predictions(self) -> None:
        """The weights changed: the browser's predictions are stale (asked for again if it shows them)."""
        b = self.window.browser
        for split in list(b.model.predictions):
            b.set_predictions(split, None)

    def set_dataset(self, dataset: Any, label: str) -> bool:
        """Train and step on `dataset` with the same network and optimizer (weights kept; the iteration
        count, curves and step history start again). An incompatible set is refused with a message."""
        from visualcnn.session import Session

        s = self.session

        def build() -> Any:
            return Session(s.network, s.optimizer, dataset, batch_size=s.batch_size, seed=s.seed)
        try:
            new = build()            # checks the shapes; a run, if any, goes on untouched when they differ
        except VisualCNNError as e:
            self._error(f"{label} was not loaded: {e}. The session is unchanged.")
            return False
        if self.worker.is_active:
            # the new session shares the network: stop the run, then take its weights as they are now
            self._new_worker(s)
            new = build()
        new.breakpoints = s.breakpoints
        files = self.window.files
        files.set_session(new, path=files.path, dirty=True)
        self.set_session(new)
        self.window.statusBar().showMessage(f"now on {dataset.describe()} — weights kept; curves and step "
                                            f"history start again", 8000)
        return True

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
            self.worker.pause()
        self.spec_valid = valid
        self.refresh()

    def apply_spec(self, spec: dict[str, Any]) -> None:
        """Rebuild the session's network for a valid spec from the stack editor (a run is paused first)."""
        if not self.wait_until_paused():
            self._error("The run did not pause in time, so the edit was not applied; press F5 and try again.")
            return
        try:
            self.session.rebuild(spec=spec)
        except VisualCNNError as e:
            self._error(str(e))
            return
        self.clear_alert()
        self.refresh()

    def confirm_discard(self, what: str) -> bool:
        """Ask before `what` replaces the session: save, discard or cancel when there are unsaved changes."""
        return self.window.files.maybe_close()

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
        self.window.files.set_session(session, path=None)
        self.set_session(session)
        self.window.settings.setValue("session/last_preset", name)
        return True

    def export_metrics_csv(self) -> None:
        self.window.files.export_metrics_csv(list(self.session.metrics), list(self.worker.test_points))

    def export_record(self) -> None:
        if self.refuse():
            return
        records = self.shown_records()
        self.window.files.export_record(records[-1] if records else None)


__all__ = ["Controller", "FAST", "SessionBridge", "status_text"]
