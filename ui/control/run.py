"""RunControl: Run (F5) drives the Session from a RunWorker thread while the GUI thread only draws.

The worker's rule decides who may touch the Session: while it runs, stepping is refused with a
status-bar message, hyper-parameter changes are queued to it (`submit`), and the views are fed records
the Session's own events delivered (`Controller._collect`, on the worker thread, only rebinds lists);
once paused or finished, the GUI has the Session to itself again.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from PyQt6.QtCore import QAbstractEventDispatcher, QCoreApplication, QThread, QTimer

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

from ..worker import EVAL_EVERY_S, PAUSED, RUNNING, STOP_GRACE, RunWorker, speed_label

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
#: Stop in run mode: the worker interrupts a layer after its STOP_GRACE; a run still going this much later is
#: stuck in compiled code and is abandoned (generous: a loaded machine may take a while to wind a run down)
ABANDON_RUN_AFTER_S = 3.0
#: run workers whose thread is stuck in a layer that could not be interrupted (RunControl._abandon_run)
ABANDONED: list[RunWorker] = []


def run_summary_text(summary: Any) -> str:
    """What the status bar says when a run ends: its length, and its rate over the time it really ran
    (RunSummary.seconds leaves out every pause)."""
    n = summary.iterations
    if summary.stopped_by == "done":
        rate = summary.iterations / summary.seconds if summary.seconds > 0 else math.inf
        per_s = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2g}"
        text = (_("run finished: 1 iteration in {seconds:.1f} s of running ({rate} iterations/s)") if n == 1 else
                _("run finished: {n:,} iterations in {seconds:.1f} s of running ({rate} iterations/s)"))
        return text.format(n=n, seconds=summary.seconds, rate=per_s)
    if summary.stopped_by == "stop":
        return _("run stopped after 1 iteration") if n == 1 else _("run stopped after {n:,} iterations").format(n=n)
    return ""


class RunControl:
    """Mixin of Controller: the run's commands, its worker and how the GUI shares the Session with it."""

    def _new_worker(self, session: Any) -> None:
        """Stop and end the current worker's thread; start one for `session`."""
        old = self.worker
        if old is not None:
            if not old.shutdown(5.0):
                self._retired.append(old)           # its QThread must not be destroyed while running
        w = RunWorker(session, eval_every=EVAL_EVERY, eval_samples=EVAL_SAMPLES)
        w.sample_every = SAMPLE_EVERY_S
        w.eval_every_s = EVAL_EVERY_S
        w.set_speed(self.window.hyper_panel.speed)
        # every slot checks it is still the current worker: queued signals of a replaced one may still land
        w.redraw.connect(lambda w=w: w is self.worker and self.refresh())
        w.stateChanged.connect(lambda state, w=w: w is self.worker and self._run_state(state))
        w.progress.connect(lambda d, t, eta, w=w: w is self.worker and self._run_progress(d, t, eta))
        w.finished.connect(lambda summary, w=w: w is self.worker and self._run_finished(summary))
        w.failed.connect(lambda message, w=w: w is self.worker and self._failed(w.last_error or message, _("The run stopped: ")))
        w.jobDone.connect(lambda tag, result, w=w: w is self.worker and self._job_done(tag, result))
        self.worker = w

    def shutdown(self) -> bool:
        """Stop any run and end the worker's thread (closeEvent); True if it ended."""
        ok = self.worker.shutdown(5.0) if self.worker is not None else True
        self._refresh_timer.stop()
        self._retire_step_thread()
        return ok

    def _running_records(self) -> tuple[list[Any], tuple[str, int | None]]:
        """While the worker runs: the records its steps delivered, and the phase after the last of them.
        Paced, the iteration as it goes (the wave forward and back); as fast as possible, the latest whole one."""
        s = self.session
        # as fast as possible, and "watch it learn": the latest whole iteration; slower, the wave as it goes
        records = self._completed if not 0 < self.worker.speed < math.inf else self._collected
        if not records:
            return [], ("forward", 0)
        nxt = records[-1].index + 1
        return list(records), s.phase_at(nxt) if nxt < s.n_phases else ("forward", 0)

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
        records, _next = self._running_records()
        last = records[-1] if records else None
        return (not self._shown or self._shown[-1] is not last or self.session.network is not self._shown_network
                or now - self._metrics_drawn >= METRICS_EVERY_S or now - self._status_drawn >= STATUS_EVERY_S)

    def run_status(self) -> str:
        """'running · iteration 1,234 (300 / 1,000) · loss 0.412 · as fast as possible'."""
        s = self.session
        done, total, _eta = self._progress
        m = s.metrics[-1] if s.metrics else None
        if m is not None:
            text = _("running · iteration {k:,} ({done:,} / {total:,} of this run) · loss {loss:.4g} · {speed}")
        else:
            text = _("running · iteration {k:,} ({done:,} / {total:,} of this run) · {speed}")
        where = text.format(k=s.iteration, done=done, total=total, loss=m.loss if m is not None else 0.0,
                            speed=speed_label(self.worker.speed))
        return _("{where} — F5 pauses, Shift+F5 stops").format(where=where)

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
        if not self.spec_valid or self.worker.is_active or self.refuse():
            return False
        self.clear_alert()
        self._collected, self._completed = [], []
        s = self.session
        panel = self.window.hyper_panel
        self._stepping = {"batch_size": s.batch_size, "lr": s.optimizer.hyper()["lr"]}
        try:
            self._use_batch(panel.run_batch.value())
            if panel.run_lr.value() != self._stepping["lr"]:
                s.set_hyper(lr=float(panel.run_lr.value()))
        except VisualCNNError as e:
            self._restore_stepping()
            self._error(_("Cannot run: {error}").format(error=e))
            return False
        try:
            self.bridge.quiet = True          # before the first phase: the worker may start at once
            self.worker.start(n_iterations=n_iterations, epochs=epochs)
        except (ValueError, RuntimeError) as e:
            self.bridge.quiet = False
            self._restore_stepping()
            self._error(_("Cannot run: {error}").format(error=e))
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
        """End the run at the next phase boundary (Shift+F5); `finished` follows. While a step's layer is still
        running (GuardControl), interrupt that instead."""
        if self.stop_pending():
            return
        w = self.worker
        w.stop()
        if w.state == RUNNING:
            # a layer blocked inside C (a sleep) cannot be interrupted: after the worker's own grace and ours,
            # leave its thread behind and go on with a rescued session (GuardControl does the same for F10)
            QTimer.singleShot(int((STOP_GRACE + ABANDON_RUN_AFTER_S) * 1000), lambda w=w: self._abandon_run(w))

    def _abandon_run(self, w: RunWorker) -> None:
        if w is not self.worker or w.state != RUNNING:
            return                                  # it did stop (or was replaced meanwhile)
        # its QThread is stuck in the layer for good: referenced for the life of the process (a QThread destroyed
        # while running aborts it), and not waited for when the app quits
        ABANDONED.append(w)
        app = QCoreApplication.instance()
        if app is not None:
            try:
                app.aboutToQuit.disconnect(w.shutdown)
            except TypeError:
                pass
        self.worker = None                          # so set_session does not wait for it to end
        from visualcnn.runaway import rescued_session
        new = rescued_session(self.session)
        files = self.window.files
        files.set_session(new, path=files.path, dirty=files.is_dirty)
        self.set_session(new)
        self.bridge.quiet = False
        self.runningChanged.emit(False)
        from visualcnn.session import LayerFailure
        self._failed(LayerFailure(_("run: a layer did not return and could not be interrupted (it waits inside "
                                    "compiled code, e.g. time.sleep): it was abandoned and iteration "
                                    "{k} starts again from its beginning").format(k=new.iteration),
                                  phase="", layer=None))

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
        self._progress = self._progress_shown = (summary.iterations, summary.total, math.nan)
        self.window.metrics.set_progress(summary.iterations, summary.total, math.nan)
        self.window.metrics.set_run_state(summary.stopped_by)
        message = run_summary_text(summary)
        if message:
            self.window.statusBar().showMessage(message, 8000)
        self._restore_stepping()
        self._forget_predictions()
        self.runningChanged.emit(False)
        self.refresh(force=True)

    def set_speed(self, phases_per_second: float) -> None:
        self.worker.set_speed(phases_per_second)
        self.refresh()

    def set_hyper(self, name: str, value: Any) -> None:
        """A hyper-parameter from the Training panel; during a run it is applied by the worker between phases.
        The panel shows the values in effect: during a run, ε is the run's (and becomes its ε (Run))."""
        if name == "lr" and self.worker.is_active:
            self.window.hyper_panel.run_lr.setValue(float(value))      # -> set_run_hyper
            return
        if self.running:
            self.worker.submit(lambda s: s.set_hyper(**{name: value}), tag=("hyper", name))
            return
        if self.refuse():
            self._show_hyper()
            return
        try:
            self.session.set_hyper(**{name: value})
            self.window.hyper_panel.show_error("")
        except VisualCNNError as e:
            self.window.hyper_panel.show_error(str(e))
            self._show_hyper()

    def set_batch_size(self, n: int) -> None:
        """The batch size in effect: stepping's, or during a run (also paused) the run's (its batch (Run))."""
        if self.worker.is_active:
            self.window.hyper_panel.run_batch.setValue(int(n))          # -> set_run_hyper
            return
        if self.refuse():
            self._show_hyper()
            return
        try:
            said = self._use_batch(int(n))
            self.window.hyper_panel.show_error("")
            if said:
                self.window.statusBar().showMessage(said, 8000)     # when the new size takes effect
            self.refresh()
        except VisualCNNError as e:
            self.window.hyper_panel.show_error(str(e))
            self._show_hyper()

    def set_run_hyper(self, name: str, value: Any) -> None:
        """Run's own batch size ("batch_size") or ε ("lr"); during a run from the next batch or update."""
        def apply(s: Any) -> None:
            s.set_batch_size(int(value)) if name == "batch_size" else s.set_hyper(lr=float(value))
        if self.running:
            self.worker.submit(apply, tag=("hyper", name))
        elif self.worker.is_active:
            try:
                apply(self.session)
                self._show_hyper()
            except VisualCNNError as e:
                self.window.hyper_panel.show_error(str(e))

    def _use_batch(self, n: int) -> str | None:
        """Set the session's batch size; returns when it takes effect, in words (None: unchanged)."""
        s = self.session
        if n == s.batch_size:
            return None
        if s.phase_index == 0:
            # nothing computed yet: the batch shown was only fetched for display, so fetch it anew
            s.restart_iteration()
        return s.set_batch_size(n)

    def _restore_stepping(self) -> None:
        stepping, self._stepping = getattr(self, "_stepping", None), None
        if stepping is not None:
            try:
                self._use_batch(stepping["batch_size"])
                if self.session.optimizer.hyper()["lr"] != stepping["lr"]:
                    self.session.set_hyper(lr=stepping["lr"])
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
                if isinstance(result, str):                     # set_batch_size says when it takes effect
                    self.window.statusBar().showMessage(result, 8000)
        elif tag[0] == "predictions" and tag[2] is self.session.dataset and isinstance(result, np.ndarray):
            self.window.browser.set_predictions(tag[1], result)
