"""Background work for the views: a QObject worker on its own QThread, started and ended from the GUI thread.

The usual recipe — the worker's result signals connected to `thread.quit` and `thread.finished` to
`worker.deleteLater` — deadlocks under PyQt: the worker's destructor then runs in the worker thread,
where sip asks for the GIL while holding Qt's connection mutex, which the GUI thread (holding the
GIL) may be waiting for in any `connect`. So the GUI thread ends the thread itself, in the slot that
receives the result, and the worker is released there.
"""

from __future__ import annotations

from PyQt6 import QtCore


def start_worker(parent: QtCore.QObject, worker: QtCore.QObject) -> QtCore.QThread:
    """Move `worker` to a new QThread (owned by `parent`) and call worker.run there."""
    thread = QtCore.QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    thread.start()
    return thread


def end_worker(thread: QtCore.QThread | None) -> None:
    """Stop `thread`'s event loop and wait for it (call from the GUI thread, after the worker's run returned
    or was told to stop); the QThread object is then released by the GUI thread's event loop."""
    if thread is None:
        return
    thread.quit()
    thread.wait()
    thread.deleteLater()


class WorkerHost:
    """Mixin for a widget that runs at most one worker at a time in `self._worker` / `self._thread`
    (set them to None in __init__); the worker has a thread-safe stop()."""

    _worker: QtCore.QObject | None
    _thread: QtCore.QThread | None

    def cancel(self, wait: bool = False) -> None:
        """Ask the worker to stop (it checks between two steps); wait=True blocks until its thread ended."""
        if self._worker is not None:
            self._worker.stop()
        if wait and self._thread is not None and self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()

    def shutdown(self) -> None:
        self.cancel(wait=True)
