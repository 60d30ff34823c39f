"""The window drawn offscreen at a chosen size: one painter for snapshots, slides and the legibility tests.

    with offscreen_window(session, (1440, 900), presentation=True) as window:
        image = grab(window)

The window is built exactly as on screen (default layout: a throw-away QSettings), so what a snapshot shows
and what the tests measure is what a user sees at that size, in presentation mode too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Iterator

from PyQt6.QtCore import QSettings, QSize, Qt, QtMsgType, qInstallMessageHandler
from PyQt6.QtGui import QImage

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

#: what Qt's offscreen plugin says about every top-level window: noise for a user, never a problem
_NOISE = ("This plugin does not support propagateSizeHints()",)


class LayoutError(VisualCNNError):
    """The window cannot be laid out at the size asked for."""


@contextlib.contextmanager
def quiet_offscreen_plugin() -> Iterator[None]:
    """Drop the offscreen plugin's known noise from Qt's messages; everything else still goes to stderr."""
    import sys

    def handler(kind: QtMsgType, _context: Any, message: str) -> None:
        if message not in _NOISE:
            print(message, file=sys.stderr)

    previous = qInstallMessageHandler(handler)
    try:
        yield
    finally:
        qInstallMessageHandler(previous)


@contextlib.contextmanager
def offscreen_window(session: Any, size: tuple[int, int], presentation: bool = False) -> Iterator[Any]:
    """A MainWindow for `session`, not shown on any screen, laid out at `size` (and in presentation mode's
    text size if asked), in the language in use; closed on exit. Raises LayoutError when the window cannot be that small."""
    from PyQt6.QtWidgets import QApplication

    from .language import language_kept
    from .main_window import MainWindow
    from .startup import has_display, make_app

    if QApplication.instance() is None and not has_display():
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = make_app([])
    w, h = size
    # its settings are throw-away ("system" language): the window keeps the language in use instead
    with tempfile.TemporaryDirectory() as tmp, quiet_offscreen_plugin(), language_kept():
        settings = QSettings(os.path.join(tmp, "window.ini"), QSettings.Format.IniFormat)
        window = MainWindow(session, settings)
        try:
            window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
            if presentation:
                window.set_presentation(True, full_screen=False)
            window.resize(w, h)
            window.show()
            app.processEvents()
            # before the first show, tabbed docks still count as stacked: the window's minimum height is too
            # large then, and the first resize() is clamped; once shown, the requested size takes
            window.resize(w, h)
            app.processEvents()
            if (window.width(), window.height()) != (w, h):
                raise LayoutError(_("the window cannot be laid out at {width}×{height} (it needs at least "
                                    "{min_width}×{min_height}); choose a larger size").format(
                                        width=w, height=h, min_width=window.width(), min_height=window.height()))
            yield window
        finally:
            window.set_presentation(False)
            window.close()
            window.deleteLater()
            app.processEvents()


def settle(window: Any) -> None:
    """Let every pending refresh and layout of `window` happen."""
    from PyQt6.QtWidgets import QApplication
    window.controller.refresh()
    for _turn in range(3):
        QApplication.processEvents()


def grab(window: Any) -> QImage:
    """The window as an image of its logical size (high-DPI screens grab at device pixels)."""
    settle(window)
    image = window.grab().toImage()
    size = QSize(window.width(), window.height())
    if image.size() != size:
        image = image.scaled(size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
    return image
