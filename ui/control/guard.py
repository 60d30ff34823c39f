"""GuardControl: stepping commands run off the GUI thread, so a user layer that never returns (a loop, a
sleep) cannot freeze the window, and nothing a layer raises (SystemExit included) can close it.

A stack of built-in layers only (their code is the package's: it returns) steps on the GUI thread as before:
handing a phase to another thread costs two thread wake-ups, which on a loaded machine are milliseconds each
(benchmarks/bench_step_guard.py). With a user layer in the stack (`runs_user_code`), a command (F10, F11,
Shift+F10, reset) runs on the window's step thread (`StepThread`: one daemon thread, reused — a new thread per
F10 costs ~0.5 ms more, mostly per-thread set-up of NumPy/BLAS), while the GUI thread waits for it up to
FAST_WAIT_S: an ordinary phase takes milliseconds, so it is
done by then and the command ends exactly as a direct call would (same return value, refresh at once). A call
still going after that lets the event loop go on: the window answers, every command that would touch the
Session is refused with a message, and after STILL_RUNNING_S the banner says "layer k is still running…"
with a Stop button (Stop / Shift+F5 do the same).

Stop interrupts the layer (Python code: LayerStopped at its next instruction; the phase is not completed and
the cursor stays before it); the step thread is then retired and the next command gets a fresh one, so a
late interrupt can never hit another command. A layer blocked inside C (time.sleep, a lock) cannot be interrupted: after
STOP_GRACE_S the call is abandoned — its thread stays parked — and the window goes on with
`rescued_session` (the same session at the start of the iteration, sharing nothing with that thread).
Every failure (a LayerFailure, anything unexpected, a stopped or abandoned layer) goes to the Errors panel.
Building a stack with a user layer (its __init__ and build, ui/control/stack.py), loading a layer file (its
top level) and rebuilding the stack with the classes it reloaded (ui/mathlab/layer_files.py) go the same way,
as GuardedJobs: each names what runs and ends the command its own way.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any, Callable

from visualcnn.custom import is_user_layer
from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _
from visualcnn.runaway import AbandonableCall, LayerStopped, interrupt_thread, rescued_session

#: the GUI thread waits this long for a command before letting the event loop run (an ordinary phase: ms)
FAST_WAIT_S = 0.25
#: after this long the banner says which layer is still running, with a Stop button
STILL_RUNNING_S = 0.5
#: Stop: a layer that has not returned this long after the interrupt is abandoned (blocked in C)
STOP_GRACE_S = 0.5
POLL_MS = 20


def runs_user_code(network: Any) -> bool:
    """Does stepping `network` run code from outside the package (a custom layer from a user's file)?"""
    return any(is_user_layer(layer.type_name, type(layer)) for layer in network.layers)


class GuardedJob:
    """A guarded command that is not a step (building a layer stack): what the banner names while it runs, and
    `finish(call)`, called instead of the stepping command's ending once it returned, raised, was stopped
    (LayerStopped) or abandoned (call.abandoned). holds_session: the call may hold the Session's lock, so an
    abandoned call leaves the window a rescued session."""

    def __init__(self, what: str, layer: int | None, finish: Callable[[StepCall], bool],
                 holds_session: bool = True) -> None:
        self.what, self.layer, self.finish, self.holds_session = what, layer, finish, holds_session


#: what job_result returns for a call that was abandoned or stopped (it has been reported)
STOPPED = object()


def job_result(control: Any, call: "StepCall", what: str, phase: str, layer: int | None, kept: str) -> Any:
    """The value a GuardedJob's call returned, or STOPPED once a call that was abandoned (stuck in compiled code)
    or stopped by the user has been reported (banner and Errors panel: `what` did not finish; `kept`, what stays
    as it was). Whatever else the call raised is raised again, for the job to sort out."""
    if call.abandoned:
        control._report_stuck(phase, layer, _("{what} did not return and could not be interrupted (it waits inside "
                                              "compiled code, e.g. time.sleep): it was abandoned; {kept}").format(
                                                  what=what, kept=kept))
        return STOPPED
    try:
        return call.result()
    except LayerStopped:
        control._report_stuck(phase, layer, _("{what}: stopped by the user before it returned; {kept}").format(
            what=what, kept=kept))
        return STOPPED


class StepCall(AbandonableCall):
    """One command for a StepThread (or, thread=None, run at once on the caller's thread: the built-in fast path):
    AbandonableCall's wait / done / result / abandon, without a thread of its own."""

    def __init__(self, fn: Callable[[], Any], thread: threading.Thread | None) -> None:
        # not AbandonableCall.__init__: that starts a thread per call
        self._fn, self.thread = fn, thread
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        self.abandoned = False

    def run(self) -> None:
        self._run()


class StepThread:
    """A daemon thread running StepCalls one at a time. Once a call on it was interrupted or abandoned, retire()
    it: it ends after whatever it is doing (a late LayerStopped ends it too) and takes no more calls."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[StepCall | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._loop, name="visualcnn-step", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        try:
            while (call := self._queue.get()) is not None:
                call.run()
        except LayerStopped:        # an interrupt that landed after its call had returned: this thread ends
            pass

    def submit(self, fn: Callable[[], Any]) -> StepCall:
        call = StepCall(fn, self.thread)
        self._queue.put(call)
        return call

    def retire(self) -> None:
        self._queue.put(None)


def where(session: Any) -> tuple[str, int | None, str]:
    """(phase, layer, in words) of the phase `session` runs next — read without its lock, for a stuck call: the
    cursor only moves once a phase has completed, so it names the phase a stuck layer call is in."""
    phase, layer = session.phase, session.layer
    from visualcnn.records import phase_name
    name = phase_name(phase)
    if layer is None:
        return phase, None, _("the {phase} phase").format(phase=name)
    return phase, layer, _("layer {layer} {type} ({phase})").format(
        layer=layer, type=session.network.layers[layer].type_name, phase=name)


class PendingCommand:
    """A command still running on its own thread: its session, since when, and whether Stop was pressed."""

    def __init__(self, call: StepCall, session: Any, job: GuardedJob | None = None) -> None:
        self.call, self.session, self.job = call, session, job
        self.started = time.perf_counter()
        self.stop_pressed: float | None = None
        self.announced = False

    def where(self) -> tuple[str, int | None, str]:
        if self.job is not None:
            return "build", self.job.layer, self.job.what
        return where(self.session)

    @property
    def what(self) -> str:
        return self.where()[2]


class GuardControl:
    """Mixin of Controller: `_guarded(fn)` runs a stepping command off the GUI thread (see the module doc)."""

    _pending: PendingCommand | None = None

    def _guard_init(self) -> None:
        from PyQt6.QtCore import QTimer
        self._pending = None
        self._step_thread: StepThread | None = None
        self._pending_timer = QTimer(self)
        self._pending_timer.setInterval(POLL_MS)
        self._pending_timer.timeout.connect(self._poll_pending)
        self.window.banner.stopRequested.connect(self.stop)

    @property
    def busy(self) -> bool:
        """A command's layer call is still running: the Session belongs to its thread until it returns."""
        return self._pending is not None

    def busy_refusal(self) -> str | None:
        p = self._pending
        if p is None:
            return None
        return _("{what} is still running: wait for it, or press Stop (Shift+F5)").format(what=p.what)

    def _guarded(self, fn: Callable[[], Any], user_code: bool | None = None, job: GuardedJob | None = None) -> bool:
        """Run fn() (which steps the Session) — off the GUI thread when it runs user code (default: the stack has a
        user layer); True if it succeeded or is still going (then the banner and Stop take over after
        STILL_RUNNING_S). With a job, job.finish ends it instead of _command_done."""
        s = self.session
        end = self._command_done if job is None else job.finish
        if not (runs_user_code(s.network) if user_code is None else user_code):
            call = StepCall(fn, None)
            call.run()
            return end(call)
        if self._step_thread is None:
            self._step_thread = StepThread()
        call = self._step_thread.submit(fn)
        if call.wait(FAST_WAIT_S):
            return end(call)
        self._pending = p = PendingCommand(call, s, job)
        self._pending_timer.start()
        self.update_actions()
        self.window.statusBar().showMessage(_("{what} is running…").format(what=p.what))
        return True

    def _poll_pending(self) -> None:
        p = self._pending
        if p is None:
            self._pending_timer.stop()
            return
        now = time.perf_counter()
        if p.call.done:
            self._end_pending()
            (self._command_done if p.job is None else p.job.finish)(p.call)
            return
        if p.stop_pressed is not None and now - p.stop_pressed >= STOP_GRACE_S:
            self._abandon_pending(p)
            return
        if not p.announced and now - p.started >= STILL_RUNNING_S:
            p.announced = True
            _phase, layer, what = p.where()
            self.alert = _("{what} is still running… Stop (Shift+F5) interrupts it").format(what=what)
            self.window.banner.show_message(self.alert, layer, stop=True)

    def _end_pending(self) -> None:
        self._pending = None
        self._pending_timer.stop()
        self.window.banner.show_stop(False)
        self.window.statusBar().clearMessage()          # "… is running" / "stopping …": over now

    def stop_pending(self) -> bool:
        """Stop (the banner's button, Shift+F5) while a command runs: interrupt its layer; False if none runs."""
        p = self._pending
        if p is None:
            return False
        if p.stop_pressed is None:
            p.stop_pressed = time.perf_counter()
            self._retire_step_thread()
            if p.call.thread.ident is not None:
                interrupt_thread(p.call.thread.ident)
            self.window.statusBar().showMessage(_("stopping {what}…").format(what=p.what))
        return True

    def _abandon_pending(self, p: PendingCommand) -> None:
        """The layer did not react to Stop (blocked in C): leave its thread behind, go on with a rescued copy."""
        self._end_pending()
        p.call.abandon()
        if p.job is not None and not p.job.holds_session:
            p.job.finish(p.call)
            return
        phase, layer, what = where(p.session)
        new = rescued_session(p.session)
        files = self.window.files
        files.set_session(new, path=files.path, dirty=files.is_dirty)
        self.set_session(new)
        if p.job is not None:
            p.job.finish(p.call)
            return
        self._report_stuck(phase, layer, _("{what} did not return and could not be interrupted (it waits inside "
                                           "compiled code, e.g. time.sleep): it was abandoned and iteration "
                                           "{k} starts again from its beginning").format(what=what, k=new.iteration))

    def _forget_pending(self) -> None:
        """The Session is being replaced (a file, a preset): the running command's result no longer matters."""
        p = self._pending
        if p is not None:
            self._end_pending()
            p.call.abandon()
            self._retire_step_thread()
            if p.call.thread.ident is not None:
                interrupt_thread(p.call.thread.ident)

    def _retire_step_thread(self) -> None:
        """The next command gets a fresh thread (this one was interrupted, abandoned, or the window closes)."""
        t, self._step_thread = self._step_thread, None
        if t is not None:
            t.retire()

    def _report_stuck(self, phase: str, layer: int | None, message: str) -> None:
        from visualcnn.session import LayerFailure
        self._failed(LayerFailure(message, phase=phase, layer=layer))

    def _command_done(self, call: StepCall) -> bool:
        """The end of a command: refresh, or show its failure (banner + Errors panel); never re-raises."""
        try:
            call.result()
        except VisualCNNError as e:
            self._failed(e)
            return False
        except LayerStopped:
            phase, layer, what = where(self.session)
            self._report_stuck(phase, layer, _("{what}: stopped by the user before it returned; the phase was not "
                                               "completed (the next step runs it again)").format(what=what))
            self.refresh()
            return False
        except BaseException as e:  # noqa: BLE001 - SystemExit or a bug in layer code must not close the window
            self._failed(e, _("{what} failed: ").format(what=where(self.session)[2]))
            return False
        self.window.files.set_dirty(True)
        self.refresh()
        return True
