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


def show_window(qtbot, tmp_path, session, active: bool = False):
    """A MainWindow on `session` with settings of its own, shown; active=True also waits until it is the active
    window, so key presses (F10, Shift+F5) reach its shortcuts."""
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from ui.main_window import MainWindow
    w = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    if active:
        w.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=3000)
    return w
