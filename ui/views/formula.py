"""Formulas drawn as math: matplotlib's mathtext (its own TeX subset and fonts, no LaTeX install) to QImage.

    view = MathView(); view.set_content(title, [tex, tex, …], plain_text)
    view.toPlainText()    the same content as text (copying, tests, screen readers)

A line wider than the view is broken at its top-level " + " (continuation lines start with "+"); what
still does not fit scrolls sideways rather than being clipped.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from visualcnn.i18n import _

#: the Computer Modern look of a textbook
FONTSET = "cm"


def _parse(tex: str, point_size: float, dpi: float):
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    # the font set travels with the font properties: no global rcParams touched (the warm-up runs in a thread)
    prop = FontProperties(size=point_size, math_fontfamily=FONTSET)
    return MathTextParser("agg").parse(f"${tex}$", dpi=dpi, prop=prop)


_warm = threading.Lock()
_warmed = False


def warm_up() -> None:
    """Import matplotlib and build mathtext's parser in the background (about a second, once per process),
    so the first formula the user opens is drawn without that wait."""
    global _warmed
    with _warm:
        if _warmed:
            return
        _warmed = True
    threading.Thread(target=_parse, args=("x", 10.0, 72.0), name="mathtext-warm-up", daemon=True).start()


@lru_cache(maxsize=512)
def render(tex: str, point_size: float, dpi: float, rgb: tuple[int, int, int]) -> QtGui.QImage:
    """`tex` (mathtext, without $) as an image in colour `rgb` on a transparent ground."""
    out = _parse(tex, point_size, dpi)
    alpha = np.asarray(out.image, dtype=np.uint8)
    h, w = alpha.shape
    rgba = np.empty((h, w, 4), np.uint8)
    rgba[..., :3] = rgb
    rgba[..., 3] = alpha
    img = QtGui.QImage(rgba.data, w, h, 4 * w, QtGui.QImage.Format.Format_RGBA8888)
    return img.copy()


#: where a long line may break, and how its continuation starts
BREAKS = ((" + ", r"\quad + "), (r",\quad ", r"\quad "), (" = ", r"\quad = "))


def split_top_level(tex: str) -> list[tuple[str, str]]:
    """tex cut at its top-level break points (outside braces, brackets, parentheses), as (joiner, piece):
    '= a + b,\\quad c' -> [('', '= a'), (' + ', 'b'), (',\\quad ', 'c')]. Joining them gives tex back."""
    parts, depth, start, joiner, k = [], 0, 0, "", 0
    while k < len(tex):
        ch = tex[k]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif depth == 0 and k > 0:
            hit = next((sep for sep, _ in BREAKS if tex.startswith(sep, k)), None)
            if hit is not None:
                parts.append((joiner, tex[start:k]))
                joiner, start = hit, k + len(hit)
                k = start
                continue
        k += 1
    parts.append((joiner, tex[start:]))
    return parts


class MathView(QtWidgets.QScrollArea):
    """A title, then one rendered line per formula line, in a scroll area that never clips."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.inner = QtWidgets.QWidget()
        self.box = QtWidgets.QVBoxLayout(self.inner)
        self.box.setContentsMargins(6, 4, 6, 4)
        self.box.setSpacing(4)
        self.setWidget(self.inner)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.box.addWidget(self.title)
        self.lines: list[QtWidgets.QLabel] = []
        self.box.addStretch(1)
        self._tex: list[str] = []
        self._plain = ""
        self._width = 0
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.ActionsContextMenu)
        copy = QtGui.QAction(_("Copy as text"), self)
        copy.triggered.connect(lambda: QtWidgets.QApplication.clipboard().setText(self._plain))
        self.addAction(copy)

    def toPlainText(self) -> str:
        return self._plain

    def set_content(self, title: str, tex_lines: list[str], plain: str) -> None:
        self.title.setText(title)
        self._plain = plain
        self._tex = list(tex_lines)
        self._layout_lines()

    def _line_images(self) -> list[tuple[QtGui.QImage, str]]:
        """(image, tex) per shown line, long lines broken at their top-level " + " to fit the width."""
        scale = self.devicePixelRatioF()
        pt = self.font().pointSizeF() * 1.15
        dpi = self.logicalDpiY() * scale
        rgb = self.palette().color(QtGui.QPalette.ColorRole.Text).getRgb()[:3]
        avail = max(120, self.viewport().width() - 16) * scale
        out = []
        for k, tex in enumerate(self._tex):
            img = render(tex, pt * (1.1 if k == 0 else 1.0), dpi, rgb)
            if img.width() <= avail:
                out.append((img, tex))
                continue
            parts = split_top_level(tex)
            line = parts[0][1]
            for joiner, part in parts[1:]:
                trial = line + joiner + part
                if render(trial, pt, dpi, rgb).width() > avail and line:
                    out.append((render(line, pt, dpi, rgb), line))
                    line = dict(BREAKS)[joiner] + part
                else:
                    line = trial
            out.append((render(line, pt, dpi, rgb), line))
        # a piece still too wide is drawn smaller, down to 3/4 size; past that the view scrolls sideways
        for k, (img, tex) in enumerate(out):
            if img.width() > avail:
                out[k] = (render(tex, pt * max(0.75, avail / img.width()), dpi, rgb), tex)
        return out

    def _layout_lines(self) -> None:
        self._width = self.viewport().width()
        margins = self.box.contentsMargins()
        # the title wraps at the visible width even when a formula line is wider and scrolls
        self.title.setMaximumWidth(max(80, self._width - margins.left() - margins.right()))
        images = self._line_images() if self._tex else []
        while len(self.lines) < len(images):
            lab = QtWidgets.QLabel()
            lab.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignVCenter)
            self.box.insertWidget(self.box.count() - 1, lab)
            self.lines.append(lab)
        scale = self.devicePixelRatioF()
        for lab, (img, tex) in zip(self.lines, images):
            pix = QtGui.QPixmap.fromImage(img)
            pix.setDevicePixelRatio(scale)
            lab.setPixmap(pix)
            lab.setToolTip(tex)
            lab.setMinimumWidth(int(np.ceil(img.width() / scale)))
            lab.show()
        for lab in self.lines[len(images):]:
            lab.hide()
        self.shown_tex = [tex for _, tex in images]

    def content_height(self) -> int:
        """The height that shows every line without scrolling."""
        return self.inner.sizeHint().height() + 2 * self.frameWidth() + 4

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._tex and abs(self.viewport().width() - self._width) > 8:
            self._layout_lines()
