"""What a long headless command needs: stop requests from signals, the epoch loop with its progress
line, and a save that never loses the work.

    with StopRequests() as stop:            # Ctrl-C or SIGTERM: stop at the next phase boundary;
        session.run(n, should_stop=stop)    # a second one stops now (KeyboardInterrupt), even inside a layer
    save_or_rescue(session, path)           # the trained session is written somewhere, or the error names both

Both are Qt-free and used by `visualcnn train`.
"""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .atomic import SaveError
from visualcnn.i18n import _

#: the signals that ask a headless run to stop: Ctrl-C, and what `kill` and service managers send
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequests:
    """A callable flag set by SIGINT/SIGTERM while in the `with` block (main thread only).

    The first signal asks for a clean stop (the run checks the flag between phases) and says so on
    stderr; the second raises KeyboardInterrupt at once — a user layer that never returns (sleeps,
    loops) is interrupted where it is. The previous handlers come back on exit.
    """

    def __init__(self, stream=None) -> None:
        self.requests = 0
        self.signal_name: str | None = None
        self.stream = stream
        self._previous: dict[int, object] = {}

    def __call__(self) -> bool:
        return self.requests > 0

    def _handle(self, signum, frame) -> None:
        self.requests += 1
        self.signal_name = signal.Signals(signum).name
        stream = self.stream or sys.stderr
        if self.requests == 1:
            print("\n" + _("{signal}: stopping after the current phase (press Ctrl-C again to stop at once)").format(
                signal=self.signal_name), file=stream, flush=True)
            return
        raise KeyboardInterrupt(self.signal_name)

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


class _Progress:
    """A one-line progress bar on a terminal; silent elsewhere (per-epoch lines are printed anyway)."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.stream = total, stream
        self.tty = stream.isatty()
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, text: str = "") -> None:
        now = time.perf_counter()
        if not self.tty or (now - self.last < 0.1 and done < self.total):
            return
        self.last = now
        frac = done / max(self.total, 1)
        bar = "#" * int(30 * frac)
        eta = (now - self.start) / frac * (1 - frac) if frac > 0 else 0
        eta_text = _("eta {seconds:4.0f}s").format(seconds=eta)
        self.stream.write(f"\r[{bar:<30}] {done}/{self.total} {text} {eta_text} ")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\r" + " " * 78 + "\r")
            self.stream.flush()


def train_epochs(session, epochs: int, per_epoch: int, stop) -> int:
    """The per-epoch loop of `train`; returns the exit status (0, 1 at a breakpoint, 130 when stopped)."""
    for epoch in range(1, epochs + 1):
        progress = _Progress(per_epoch)
        t0 = time.perf_counter()
        seen: list[tuple[float, float]] = []       # this epoch's (loss, accuracy), whatever the session keeps

        def on_iteration(s) -> None:
            m = s.metrics[-1]
            seen.append((m.loss, m.accuracy))
            progress.update(len(seen), _("loss {loss:.3f}").format(loss=m.loss))
        result = session.run(per_epoch, should_stop=stop, records=False, on_iteration=on_iteration)
        progress.close()
        seconds = time.perf_counter() - t0
        train_loss, train_acc = (np.mean(seen, axis=0) if seen else (float("nan"), float("nan")))
        test_loss, test_acc = session.evaluate("test")
        print(_("epoch {epoch:>3}/{epochs}  train loss {train_loss:.4f}  acc {train_acc:6.1%}  |  test "
                "loss {test_loss:.4f}  acc {test_acc:6.1%}  ({duration})").format(
                  epoch=epoch, epochs=epochs, train_loss=train_loss, train_acc=train_acc, test_loss=test_loss,
                  test_acc=test_acc, duration=_duration(seconds)), flush=True)
        if result.stopped_by == "breakpoint":
            print(_("stopped: {why}").format(why=result.breakpoint.message), file=sys.stderr)
            return 1
        if result.stopped_by == "stop":
            print(_("interrupted ({signal_name}): stopping cleanly").format(signal_name=stop.signal_name),
                  file=sys.stderr)
            return 130
    return 0


def rescue_dirs() -> list[Path]:
    """Where a session goes when its own destination cannot take it: home, then the temporary folder."""
    return [Path.home(), Path(tempfile.gettempdir())]


def save_or_rescue(session, path: Path, save: Callable | None = None) -> tuple[Path, str | None]:
    """Save `session` to `path`; if that fails, to a rescue file. Returns (where it went, why not `path` or None).

    Raises SaveError naming every place tried when none could take it.
    """
    if save is None:
        from .io import save_session as save
    try:
        return save(session, path), None
    except (SaveError, OSError) as e:
        reason = str(e)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tried = [str(path)]
    for folder in rescue_dirs():
        target = folder / f"{Path(path).stem}-rescued-{stamp}-{os.getpid()}.vcnn"
        tried.append(str(target))
        try:
            return save(session, target), reason
        except (SaveError, OSError):
            continue
    raise SaveError(_("{reason}; the trained session could not be saved anywhere (tried {tried})").format(
                        reason=reason, tried=', '.join(tried)))


__all__ = ["STOP_SIGNALS", "StopRequests", "rescue_dirs", "save_or_rescue", "train_epochs"]
