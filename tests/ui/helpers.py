"""Helpers shared by the GUI tests: acting on widgets as a user would."""

import numpy as np
from PyQt6 import QtCore


def stroke(qtbot, canvas, points):
    """Press at the first point, drag through the others, release (points as fractions of the canvas)."""
    r = canvas.rect()
    pos = [QtCore.QPoint(int(r.width() * x), int(r.height() * y)) for x, y in points]
    qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=pos[0])
    for a, b in zip(pos, pos[1:]):
        for t in np.linspace(0, 1, 8)[1:]:
            qtbot.mouseMove(canvas, QtCore.QPoint(int(a.x() + (b.x() - a.x()) * t), int(a.y() + (b.y() - a.y()) * t)))
    qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=pos[-1])


def open_window(qtbot, tmp_path, session=None, size=(1440, 900)):
    """A MainWindow for `session` (default: the digits-small preset) with throw-away settings (the default
    layout), shown at `size` (None: the window's own default size)."""
    from PyQt6.QtCore import QSettings

    from ui.main_window import MainWindow
    from visualcnn.session import Session

    session = session if session is not None else Session.from_preset("digits-small")
    w = MainWindow(session, QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    if size is not None:
        w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    return w


def shown_window(qtbot, tmp_path, session=None):
    """open_window at the window's own default size."""
    return open_window(qtbot, tmp_path, session, size=None)


def activate(qtbot, window):
    """Make `window` the active window, so key presses (F10, Shift+F5) reach its shortcuts."""
    from PyQt6.QtWidgets import QApplication

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    return window
