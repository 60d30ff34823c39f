"""Is a view on screen? A dock tab behind another is not: Qt moves it out of the window (it stays 'visible').

Views skip drawing while out of sight and catch up when their dock comes to the front:

    if out_of_sight(self):
        self._stale = True
        on_coming_into_sight(self, self._catch_up)
        return
"""

from __future__ import annotations

from typing import Callable

from PyQt6 import QtCore, QtWidgets


def out_of_sight(widget: QtWidgets.QWidget) -> bool:
    """True while `widget`'s window is shown but `widget` is not on it (hidden, or a dock tab behind another).
    A widget in a window not shown yet (a test building views) counts as in sight: it draws as it always did."""
    window = widget.window()
    return window.isVisible() and (not widget.isVisible() or widget.visibleRegion().isEmpty())


def on_coming_into_sight(widget: QtWidgets.QWidget, callback: Callable[[], None]) -> None:
    """Call `callback` (in the next event-loop turn, once the dock is laid out) whenever the dock holding
    `widget` comes to the front or the widget is shown again; connected once per widget."""
    if getattr(widget, "_sight_watched", False):
        return
    widget._sight_watched = True
    later = lambda *_a: QtCore.QTimer.singleShot(0, callback)        # noqa: E731
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QtWidgets.QDockWidget):
        parent = parent.parentWidget()
    if parent is not None:
        parent.visibilityChanged.connect(lambda on: on and later())
    watcher = _ShowWatcher(widget, later)
    widget.installEventFilter(watcher)


class _ShowWatcher(QtCore.QObject):
    def __init__(self, widget: QtWidgets.QWidget, callback: Callable[[], None]) -> None:
        super().__init__(widget)
        self._callback = callback

    def eventFilter(self, obj: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if event.type() == QtCore.QEvent.Type.Show:
            self._callback()
        return False


__all__ = ["on_coming_into_sight", "out_of_sight"]
