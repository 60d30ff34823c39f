"""The text size of the whole window, in one place: the application font, the fonts views set explicitly, and
the pipeline's own scene text all follow it (Ctrl+= / Ctrl+-, presentation mode, the remembered size).

Views that draw text themselves (QGraphics items, pyqtgraph titles) size it with `ui.style.font(pt)`, which
multiplies by `scale()`, and redraw on QEvent.ApplicationFontChange.
"""

from __future__ import annotations

from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QApplication

#: never smaller than this (projector distance); the scale of every view's text is relative to it
BASE_FONT_PT = 11
MAX_FONT_PT = 28
#: View ▸ Presentation: the text size for a lecture hall
PRESENTATION_PT = 16


def text_size() -> int:
    """The application's font size in points (BASE_FONT_PT before a QApplication exists)."""
    app = QApplication.instance()
    return app.font().pointSize() if app is not None and app.font().pointSize() > 0 else BASE_FONT_PT


def scale() -> float:
    """How much larger than the base size text is drawn now (1.0 at BASE_FONT_PT)."""
    return max(1.0, text_size() / BASE_FONT_PT)


def clamp(pt: int) -> int:
    return min(MAX_FONT_PT, max(BASE_FONT_PT, int(pt)))


def set_text_size(pt: int) -> int:
    """Make all text `pt` points (clamped to BASE_FONT_PT … MAX_FONT_PT): the application font, and every
    font a widget set explicitly, scaled by the same factor. Returns the size set."""
    app = QApplication.instance()
    old = text_size()
    new = clamp(pt)
    if new == app.font().pointSize():
        return new
    f = QFont(app.font())
    f.setPointSize(new)
    app.setFont(f)
    factor = new / old if old > 0 else 1.0
    from PyQt6.QtCore import Qt
    for w in app.allWidgets():
        if w.testAttribute(Qt.WidgetAttribute.WA_SetFont):
            wf = QFont(w.font())
            if wf.pointSizeF() > 0:
                wf.setPointSizeF(max(6.0, wf.pointSizeF() * factor))
                w.setFont(wf)
    return new


def ensure_readable_font(size: int | None = None) -> None:
    """The application's base font at `size` points (the remembered size), never below BASE_FONT_PT."""
    set_text_size(size if size is not None else text_size())
