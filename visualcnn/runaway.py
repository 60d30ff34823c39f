"""User layers that never return: run a call so it can be waited for, stopped, or abandoned.

A custom layer may loop or sleep forever. Whoever steps it (the window's worker thread, a
check) must stay in control:

    call = AbandonableCall(session.step)           # on its own daemon thread
    if not call.wait(0.5):                         # "layer 3 is still running… Stop"
        if not call.stop(grace=0.5):               # interrupts Python code (a loop) with LayerStopped
            call.abandon()                         # blocked in C (a sleep): leave the thread behind
            session = rescued_session(session)     # and go on with a copy that shares nothing with it

`stop` raises `LayerStopped` inside the thread at its next Python instruction — a BaseException,
so a layer's own `except Exception` cannot swallow it; the session's phase is then not completed
and the cursor stays before it. Code blocked inside C (time.sleep, a lock) cannot be interrupted
that way; `rescued_session` then builds a new Session at the start of the current iteration from
its checkpoint, with its own network, optimizer and lock, so the app goes on while the abandoned
thread stays parked. Qt-free.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable
from visualcnn.i18n import _


class LayerStopped(BaseException):
    """Raised inside a thread whose layer call was stopped by the user (not an Exception: layer code's
    `except Exception` must not swallow it)."""


def interrupt_thread(ident: int, exc_type: type[BaseException] = LayerStopped) -> bool:
    """Make thread `ident` raise `exc_type` at its next Python instruction; False if no such thread runs.

    Code blocked in C (sleeping, waiting on a lock or a socket) sees it only once it returns to Python.
    """
    n = ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), ctypes.py_object(exc_type))
    if n > 1:                                   # cannot happen for one ident; undo as the C API asks
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)
        return False
    return n == 1


class AbandonableCall:
    """fn() on a daemon thread of its own: wait for it, stop it, or abandon it (see the module doc)."""

    def __init__(self, fn: Callable[[], Any], name: str = "visualcnn-layer-call") -> None:
        self._fn = fn
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        self.abandoned = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as e:  # noqa: BLE001 - handed to whoever asks for the result
            self._error = e
        finally:
            self._done.set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the call has returned or raised (within `timeout` seconds)."""
        return self._done.wait(timeout)

    def stop(self, grace: float = 0.5) -> bool:
        """Interrupt the call with LayerStopped; True if it ended within `grace` seconds."""
        if self.done:
            return True
        if self.thread.ident is not None:
            interrupt_thread(self.thread.ident)
        return self.wait(grace)

    def abandon(self) -> None:
        """Stop waiting for a call that cannot be interrupted; its thread stays parked (it is a daemon)."""
        self.abandoned = True

    def result(self) -> Any:
        """The call's value, or its exception raised here (LayerStopped if it was stopped)."""
        if not self.done:
            raise RuntimeError(_("the call is still running"))
        if self._error is not None:
            raise self._error
        return self._value


def rescued_session(session: Any) -> Any:
    """A new Session at the start of `session`'s current iteration that shares nothing an abandoned thread
    holds — not its lock, network, optimizer or records; same spec and classes, weights and velocities of the
    iteration's checkpoint, batch order, batch, pinned input, hyper-parameters, breakpoints and metrics.

    Reads the old session without its lock: the thread holding it is parked inside a layer call.
    """
    from .session import Session

    cp = session.history.current
    net = session.network.copy()
    opt = type(session.optimizer)(net, **session.optimizer.hyper())
    new = Session(net, opt, session.dataset, batch_size=session.batch_size, seed=session.seed,
                  history_budget=session.history_budget)
    new.restore_state(list(cp.params), list(cp.velocity), session.iteration, cp.sampler_state,
                      list(session.metrics), batch=cp.batch, sampler_after=cp.sampler_after,
                      pinned=session.pinned)
    new.breakpoints = session.breakpoints
    new.preset, new.path = session.preset, session.path
    new.log.append(_("iteration {iteration}: a layer call that never returned was abandoned; the "
                     "iteration restarts from its beginning").format(iteration=session.iteration))
    return new


__all__ = ["AbandonableCall", "LayerStopped", "interrupt_thread", "rescued_session"]
