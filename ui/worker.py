"""Run mode: a worker thread drives the same Session the GUI steps, while the GUI thread only draws.

    worker = RunWorker(session)                  # owns its QThread; call shutdown() before quitting
    worker.redraw.connect(main_window.refresh)   # ≤ 30 per second, never per phase
    worker.start(epochs=2)                       # or start(n_iterations=500)
    worker.pause(); worker.resume(); worker.stop()
    worker.set_speed(1.0)                        # phases per second; FAST (inf) = as fast as possible

Two ways of running (`set_speed`, changeable during a run):
- paced (finite phases/s): `session.step()` one phase at a time, waiting between phases;
  each StepRecord goes out through `recordReady` (at most 30 per second; at higher paces
  only the latest record of each frame is sent, the others are never drawn anyway);
- FAST: `session.run(chunk, records=False)` in chunks of about 20 ms, checking the stop
  and pause flags between phases; no records are built, so views draw metrics only —
  unless `sample_every` is set (seconds): then, that often, one whole iteration runs with
  records (its phase_completed events carry them), so the views can show a recent iteration.

Who may touch the Session while a run is going (the rule the GUI must follow):
- `state == "running"`: the worker owns it. The GUI reads only what is immutable or
  append-only — `session.metrics` (complete IterationMetrics are appended, never edited),
  `worker.test_points`, records received through `recordReady`. Step, step back, rebuild,
  pin_input are refused: `worker.refusal()` returns the message to show (and
  `checked(fn)` does the refusing for you). Hyper-parameter changes go through
  `worker.submit(fn)`, which runs fn(session) on the worker thread between phases.
- `state == "paused"` (also after a breakpoint): the worker thread is parked on a condition
  and does not touch the Session, so the GUI may step, step back and inspect; `resume()`
  continues from wherever the Session then is.
- "idle" / "finished": the GUI has the Session to itself.

The Session's own RLock makes each call atomic, but `session.run` holds it for a whole
chunk, which is why chunks are kept short and why the GUI must not call into the Session
while running (it would freeze for a chunk at a time).

Held-out test points: every `eval_every` iterations the worker calls
`session.evaluate("test", max_samples=eval_samples)` on its own thread and appends
(iteration, loss, accuracy) to `test_points` (and emits `evaluated`). A long run keeps at most
`ui.bounded.MAX_TEST_POINTS` of them, evenly spread along the run, the newest always last (`HeldOutPoints`).

BLAS runs on one thread inside a run (threadpoolctl): the networks are small, so extra
BLAS threads buy nothing and steal the core the GUI thread draws on.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

from PyQt6 import QtCore

from ui.bounded import HeldOutPoints
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _
from visualcnn.runaway import LayerStopped

FAST = math.inf
#: "watch it learn": whole iterations at WATCH_ITERATIONS_PER_S, paced like the slow speeds so every frame
#: shows a recent iteration, fast enough that the curves climb within seconds. A speed below 0 is
#: iterations per second (-speed), not phases per second: the pace then does not depend on the stack's depth.
WATCH_ITERATIONS_PER_S = 10.0
WATCH = -WATCH_ITERATIONS_PER_S
#: speeds offered by a slider: phases per second from "watch the wave" (0.5) up, then WATCH, then FAST
SPEED_STEPS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, WATCH, FAST)
#: held-out test points in the window: besides every `eval_every` iterations, at least this often (seconds),
#: so that a slow run's test curve still grows every second (RunWorker.eval_every_s)
EVAL_EVERY_S = 1.0
MAX_REDRAWS_PER_SECOND = 30.0
CHUNK_SECONDS = 0.02            # one session.run() call in FAST mode lasts about this long
STOP_GRACE = 1.0                # seconds a layer may take to return after Stop before it is interrupted

IDLE, RUNNING, PAUSED, FINISHED = "idle", "running", "paused", "finished"


def speed_label(phases_per_second: float) -> str:
    """'1 phase/s', '10 phases/s', 'watch it learn (10 iterations/s)', 'as fast as possible'."""
    if math.isinf(phases_per_second):
        return _("as fast as possible")
    if phases_per_second < 0:
        return _("watch it learn ({n:g} iterations/s)").format(n=-phases_per_second)
    if phases_per_second == 1:
        return _("1 phase/s")
    return _("{n:g} phases/s").format(n=phases_per_second)


@dataclass(frozen=True)
class RunSummary:
    """What a run did: passed with `finished`."""

    iterations: int                 # whole iterations completed by this run
    total: int                      # iterations asked for
    stopped_by: str                 # "done" | "stop" | "breakpoint" | "error"
    seconds: float                  # wall time spent running (pauses excluded)
    breakpoint: Any = None          # the BreakpointHit, if one stopped the run
    error: str | None = None        # the message, if the session raised


class RunWorker(QtCore.QObject):
    """Drives `session` from its own QThread: start / pause / resume / stop, paced or as fast as possible.

    Every public method is called from the GUI thread and only sets thread-safe flags;
    the signals arrive in the GUI thread (queued), so slots may draw.
    """

    progress = QtCore.pyqtSignal(int, int, float)      # iterations done, total, ETA in seconds (nan: unknown)
    stateChanged = QtCore.pyqtSignal(str)              # idle | running | paused | finished
    breakpointHit = QtCore.pyqtSignal(object)          # BreakpointHit; the run is then paused at that phase
    finished = QtCore.pyqtSignal(object)               # RunSummary
    redraw = QtCore.pyqtSignal()                       # something new to draw (≤ MAX_REDRAWS_PER_SECOND)
    recordReady = QtCore.pyqtSignal(object)            # paced mode: the latest StepRecord (≤ 30/s)
    evaluated = QtCore.pyqtSignal(int, float, float)   # iteration, test loss, test accuracy
    failed = QtCore.pyqtSignal(str)                    # the session raised (e.g. a LayerFailure): message
    jobDone = QtCore.pyqtSignal(object, object)        # tag, result of a submit()ted job

    _begin = QtCore.pyqtSignal()                       # GUI -> worker thread: start the loop
    _wake = QtCore.pyqtSignal()                        # GUI -> worker thread: run queued jobs while idle

    def __init__(self, session, eval_every: int = 100, eval_samples: int | None = 200,
                 limit_blas: bool = True) -> None:
        super().__init__()
        self.session = session
        self.eval_every = int(eval_every)
        self.eval_samples = eval_samples
        self.limit_blas = limit_blas
        self.test_points = HeldOutPoints()
        self.redraw_count = 0
        self.sample_every: float | None = None     # FAST mode: seconds between recorded iterations
        self._last_sample = 0.0
        self.eval_every_s: float | None = None      # also evaluate at least this often (seconds), if set
        self._last_eval = 0.0
        self._speed = FAST
        self._state = IDLE
        self._total = 0
        self._done = 0
        self._cond = threading.Condition()
        self._stop = False
        self._pause = False
        self._closed = False
        self._ident: int | None = None          # the worker thread's id, for interrupting a stuck layer
        self.last_error: VisualCNNError | None = None     # what made the last run fail (`failed` carries its text)
        self._jobs: deque[tuple[Callable[[Any], Any], Any]] = deque()
        self._last_redraw = 0.0
        self._hold_until = 0.0
        self._thread = QtCore.QThread()
        self._thread.setObjectName("visualcnn-run")
        self.moveToThread(self._thread)
        self._begin.connect(self._loop)
        self._wake.connect(self._run_jobs)
        self._thread.start()
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown, QtCore.Qt.ConnectionType.DirectConnection)

    # -- GUI-thread API -------------------------------------------------------------
    @property
    def state(self) -> str:
        return self._state

    @property
    def is_active(self) -> bool:
        """True while a run is going or paused (the worker has not finished it)."""
        return self._state in (RUNNING, PAUSED)

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, phases_per_second: float) -> None:
        """Phases per second (> 0), WATCH-like iterations per second (< 0), or FAST for as fast as possible;
        takes effect at the next phase."""
        pps = float(phases_per_second)
        if not (pps > 0 or pps < 0) or math.isinf(pps) and pps < 0:
            raise ValueError(f"speed must be a positive number of phases per second, a negative number of "
                             f"iterations per second or FAST, got {phases_per_second!r}")
        with self._cond:
            self._speed = pps
            self._cond.notify_all()

    def iterations_for(self, epochs: int) -> int:
        """How many iterations `epochs` epochs are at the session's batch size."""
        return int(epochs) * self.session.sampler.batches_per_epoch

    def start(self, n_iterations: int | None = None, epochs: int | None = None) -> None:
        """Run `n_iterations` whole iterations, or `epochs` epochs (finishing the current iteration counts)."""
        if (n_iterations is None) == (epochs is None):
            raise ValueError("start: give exactly one of n_iterations or epochs")
        total = int(n_iterations) if n_iterations is not None else self.iterations_for(epochs)
        if total < 1:
            raise ValueError(_("the run must be at least 1 iteration, got {n}").format(n=total))
        if self._closed:
            raise RuntimeError(_("the run worker has been shut down"))
        if self.is_active:
            raise RuntimeError(_("a run is already going; stop it first"))
        with self._cond:
            self._stop = self._pause = False
            self._total, self._done = total, 0
        self._set_state(RUNNING)
        self._begin.emit()

    def pause(self) -> None:
        """Pause at the next phase boundary (state becomes 'paused' once the worker has let go)."""
        with self._cond:
            if self._state == RUNNING:
                self._pause = True
                self._cond.notify_all()

    def resume(self) -> None:
        with self._cond:
            if self._state == PAUSED or self._pause:
                self._pause = False
                self._cond.notify_all()

    def stop(self) -> None:
        """End the run at the next phase boundary; `finished` follows. A layer that does not return within
        STOP_GRACE seconds is interrupted (visualcnn.runaway: works for Python code, not for a C-level sleep)."""
        with self._cond:
            self._stop = True
            self._pause = False
            self._cond.notify_all()
        if self._state == RUNNING:
            timer = threading.Timer(STOP_GRACE, self._interrupt_if_stuck)
            timer.daemon = True
            timer.start()

    def _interrupt_if_stuck(self) -> None:
        if self._stop and self._state == RUNNING and self._ident is not None:
            from visualcnn.runaway import interrupt_thread
            interrupt_thread(self._ident)

    def hold(self, seconds: float = 0.05) -> None:
        """Ask the worker to wait at its next phase boundary for up to `seconds` while the GUI draws a frame.

        Two busy Python threads share one GIL, handing it over every few milliseconds, so a frame
        drawn while the worker computes takes several times longer (and the event loop stalls).
        Holding the worker for the frame costs the run exactly the drawing time. `release()` ends it early.
        """
        self._hold_until = time.perf_counter() + float(seconds)

    def release(self) -> None:
        """End a hold(): the worker continues at once."""
        self._hold_until = 0.0
        with self._cond:
            self._cond.notify_all()

    def refusal(self) -> str | None:
        """Why the GUI may not step / step back / rebuild now, or None when it may."""
        if self._state == RUNNING:
            return _("Training is running: pause it first to step, step back or change the network.")
        return None

    def checked(self, fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """(True, fn(*args)) if the GUI may touch the Session now, else (False, the refusal message)."""
        message = self.refusal()
        if message is not None:
            return False, message
        return True, fn(*args)

    def submit(self, fn: Callable[[Any], Any], tag: Any = None) -> None:
        """Run fn(session) on the worker thread between phases (or right away when idle); emits jobDone(tag, result)."""
        with self._cond:
            self._jobs.append((fn, tag))
            self._cond.notify_all()
        if self._state != RUNNING:
            self._wake.emit()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Stop any run and end the thread; True if it ended within `timeout` seconds. Safe to call twice."""
        if self._closed:
            return self._thread.isFinished()
        self._closed = True
        self.stop()
        self._thread.quit()
        ok = self._thread.wait(QtCore.QDeadlineTimer(int(timeout * 1000)))
        if ok and self._state in (RUNNING, PAUSED):
            self._state = FINISHED
        return bool(ok)

    # -- worker thread --------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        self._state = state
        self.stateChanged.emit(state)

    def _maybe_redraw(self, force: bool = False) -> bool:
        now = time.perf_counter()
        period = 1.0 / MAX_REDRAWS_PER_SECOND
        if force or now - self._last_redraw >= period:
            # on a grid of `period` (not `period` after the last one): iterations of 20 ms asked every 40 ms, 25/s
            late = force or now - self._last_redraw >= 2 * period
            self._last_redraw = now if late else self._last_redraw + period
            self.redraw_count += 1
            self.redraw.emit()
            return True
        return False

    def _run_jobs(self) -> None:
        while True:
            with self._cond:
                if not self._jobs:
                    return
                fn, tag = self._jobs.popleft()
            try:
                result = fn(self.session)
            except VisualCNNError as e:
                result = e
            except (Exception, SystemExit) as e:  # noqa: BLE001 - reported to the GUI, never out of this slot
                result = VisualCNNError(f"{type(e).__name__}: {e}")
            self.jobDone.emit(tag, result)

    def _should_stop(self) -> bool:
        """Checked between phases: stop, pause or queued jobs interrupt the current chunk; a hold waits here."""
        if self._hold_until:
            self._wait_for_gui()
        return self._stop or self._pause or bool(self._jobs)

    def _wait_for_gui(self) -> None:
        with self._cond:
            while not (self._stop or self._pause or self._jobs):
                left = self._hold_until - time.perf_counter()
                if left <= 0:
                    break
                self._cond.wait(left)
        self._hold_until = 0.0

    def _evaluate_if_due(self) -> None:
        s = self.session
        now = time.perf_counter()
        if self.eval_every <= 0:
            return
        due = s.iteration % self.eval_every == 0 or (
            self.eval_every_s is not None and now - self._last_eval >= self.eval_every_s)
        if due and (not self.test_points or self.test_points[-1][0] != s.iteration):
            self._last_eval = now
            loss, acc = s.evaluate("test", max_samples=self.eval_samples)
            self.test_points.append((s.iteration, loss, acc))
            self.evaluated.emit(s.iteration, loss, acc)

    def _loop(self) -> None:
        self._ident = threading.get_ident()
        try:
            self._loop_body()
        except LayerStopped:        # an interrupt that arrived after the run ended: nothing left to stop
            pass

    def _loop_body(self) -> None:
        if self.limit_blas:
            from threadpoolctl import threadpool_limits
            with threadpool_limits(1):
                self._run_body()
        else:
            self._run_body()

    def _run_body(self) -> None:
        t_start = self._last_eval = time.perf_counter()
        paused_for = 0.0
        hit, error = None, None
        self._last_redraw = 0.0
        self._rate = None
        self.progress.emit(0, self._total, math.nan)

        def on_iteration(_session) -> None:
            self._done += 1
            self._evaluate_if_due()
            if math.isinf(self._speed) and self._maybe_redraw():
                elapsed = time.perf_counter() - t_start - paused_for
                self.progress.emit(self._done, self._total, elapsed / self._done * (self._total - self._done))

        try:
            while self._done < self._total and not self._stop:
                self._run_jobs()
                if self._pause:
                    t0 = time.perf_counter()
                    self._park()
                    paused_for += time.perf_counter() - t0
                    continue
                if math.isinf(self._speed):
                    tripped = self._fast_chunk(on_iteration)
                else:
                    tripped = self._paced_phase(on_iteration)
                if tripped is not None:
                    # Stay at the tripping phase (paused) so it can be inspected; resume or stop decides.
                    hit = tripped
                    self._pause = True
                    self.breakpointHit.emit(hit)
        except VisualCNNError as e:
            error = str(e)
            self.last_error = e                 # the exception itself (a LayerFailure's traceback) for the GUI
            self.failed.emit(error)
        except LayerStopped:
            # Stop interrupted a layer that did not return: its phase never completed; start the iteration
            # over from its checkpoint so the session is consistent whatever was half done
            self.session.restart_iteration()
        except (Exception, SystemExit) as e:  # noqa: BLE001 - user code outside a guarded layer call (a property,
            # a hook) or a bug: the run ends with a message and its traceback in the Errors panel; out of this slot
            # it would take the whole app down
            error = f"{type(e).__name__}: {e}"
            self.last_error = e
            self.failed.emit(error)
        if error is not None:
            stopped_by = "error"
        elif self._done >= self._total:
            stopped_by = "done"
        else:
            stopped_by = "breakpoint" if hit is not None else "stop"
        self.progress.emit(self._done, self._total, 0.0)
        self._maybe_redraw(force=True)
        seconds = time.perf_counter() - t_start - paused_for
        self._set_state(FINISHED)
        self.finished.emit(RunSummary(self._done, self._total, stopped_by, seconds, hit, error))

    def _park(self) -> None:
        """Wait, not touching the Session, until resume, stop or a job arrives."""
        self._set_state(PAUSED)
        self._maybe_redraw(force=True)
        with self._cond:
            while self._pause and not self._stop and not self._jobs:
                self._cond.wait(0.5)
        self._run_jobs()
        if not self._pause and not self._stop:
            self._set_state(RUNNING)

    def _fast_chunk(self, on_iteration: Callable[[Any], None]):
        """One session.run() call of about CHUNK_SECONDS; returns a BreakpointHit or None."""
        s = self.session
        rate = getattr(self, "_rate", None)                   # iterations per second, measured
        n = 1 if rate is None else max(1, int(rate * CHUNK_SECONDS))
        n = min(n, self._total - self._done)
        t0 = time.perf_counter()
        sample = (self.sample_every is not None and s.phase_index == 0
                  and t0 - self._last_sample >= self.sample_every)
        if sample:                  # one iteration with records, for the views; not a rate measurement
            self._last_sample = t0
            n = 1
        before = self._done
        result = s.run(n, should_stop=self._should_stop, on_iteration=on_iteration, records=sample)
        dt = time.perf_counter() - t0
        if self._done > before and dt > 0 and not sample:
            self._rate = (self._done - before) / dt
        if result.stopped_by == "breakpoint":
            return result.breakpoint
        return None

    def _paced_phase(self, on_iteration: Callable[[Any], None]):
        """One session.step(), then wait out the rest of the phase's time slot; returns a BreakpointHit or None."""
        s = self.session
        t0 = time.perf_counter()
        start_iteration = s.iteration
        rec = s.step()
        if s.iteration != start_iteration:
            on_iteration(s)
        hit = s.last_hit
        frame = self._maybe_redraw(force=self._phase_rate() <= MAX_REDRAWS_PER_SECOND)
        if frame or hit is not None:
            self.recordReady.emit(rec)
            self.progress.emit(self._done, self._total, self._eta_paced())
        if hit is not None:
            return hit
        with self._cond:
            while not (self._stop or self._pause or self._jobs):
                left = t0 + 1.0 / self._phase_rate() - time.perf_counter()
                if left <= 0 or math.isinf(self._speed):
                    break
                self._cond.wait(left)
        return None

    def _eta_paced(self) -> float:
        if math.isinf(self._speed):
            return math.nan
        s = self.session
        remaining = (self._total - self._done) * s.n_phases - s.phase_index
        return max(0.0, remaining / self._phase_rate())

    def _phase_rate(self) -> float:
        """Phases per second of the current pace (a WATCH-like speed counts whole iterations)."""
        speed = self._speed
        return -speed * self.session.n_phases if speed < 0 else speed


__all__ = ["EVAL_EVERY_S", "FAST", "WATCH", "MAX_REDRAWS_PER_SECOND", "RUNNING", "PAUSED", "IDLE", "FINISHED", "SPEED_STEPS",
           "RunSummary", "RunWorker", "speed_label"]
