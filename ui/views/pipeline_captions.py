"""The pipeline's words: centred caption items, the legend under the columns, and every text a column, its mark
or the header can show — translated (`_`), in one place, so the layout can measure them all."""

from __future__ import annotations

from typing import Sequence

from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.i18n import N_, _, ngettext

INSPECTED = QtGui.QColor(142, 68, 173)       # the bar under the inspected column's title

# what a column shows under its maps
INPUT_IMAGE = N_("input image")
IMAGE_GRADIENT = N_("∂C/∂x (image)")
ACTIVATION = N_("activation")
ARRIVED = N_("∂C/∂y arrived")
SENT_DOWN = N_("∂C/∂x sent down")
NOT_YET = N_("not yet")
# the mark above a column
NEXT_FORWARD, NEXT_BACKWARD, NEXT_UPDATE = N_("→ next"), N_("← next"), N_("ΔW next")
JUST_RAN, UPDATED, SENT = N_("just ran"), N_("updated"), N_("sent down")
MARKS = (NEXT_FORWARD, NEXT_BACKWARD, NEXT_UPDATE, JUST_RAN, UPDATED, SENT)
PAGE = N_("{first}–{last} of {n} · {h}×{w} ▸")
#: the widest numbers a caption may show (they size the columns, with the words above)
NUMBER_SAMPLES = ("−0.000 … −0.000", "±0.0000", "C = 0.0000")


def captions() -> tuple[str, ...]:
    """Every caption a column may show under its maps, in the current language (the layout's least width)."""
    return (*(_(t) for t in (INPUT_IMAGE, IMAGE_GRADIENT, ACTIVATION, ARRIVED, SENT_DOWN, NOT_YET)),
            *NUMBER_SAMPLES, p_true_text(0.0))


def marks() -> tuple[str, ...]:
    return tuple(_(m) for m in MARKS)


def size_texts(shape: Sequence[int]) -> tuple[str, ...]:
    """The texts a column's size / page line can show (the first is what it starts with)."""
    if len(shape) == 3:
        C, h, w = shape
        # the pager's text is sized as "C of C · h×w ▸" (the range it shows is rarely wider than that)
        pager = _(PAGE).replace("{first}–", "").format(last=C, n=C, h=h, w=w)
        return (maps_text(C, h, w), pager, f"{h}×{w}")
    return (units_text(shape[0]),)


def maps_text(C: int, h: int, w: int) -> str:
    return ngettext("{n} map {h}×{w}", "{n} maps {h}×{w}", C).format(n=C, h=h, w=w) if C > 1 else f"{h}×{w}"


def page_text(first: int, last: int, C: int, h: int, w: int) -> str:
    """'1–8 of 32 · 12×12 ▸' (click for the next page)."""
    return _(PAGE).format(first=first, last=last, n=C, h=h, w=w)


def units_text(n: int) -> str:
    return ngettext("{n} unit", "{n} units", n).format(n=n)


def classes_text(n: int) -> str:
    return ngettext("{n} class", "{n} classes", n).format(n=n)


def p_true_text(p: float) -> str:
    return _("p(true) = {p}").format(p=f"{p:.2f}")


def loss_texts(loss: float | None, p_true: float | None, predicted: int | None) -> str:
    """The loss column's two caption lines."""
    if loss is None:
        return "C = —\n" + _("(after the loss phase)")
    second = p_true_text(p_true) if p_true is not None else _("predicted {k}").format(k=predicted)
    return f"C = {style.format_number(loss, 4)}\n{second}"


def describe(network, phase: str, layer: int | None) -> str:
    """'forward layer 2 conv2d', 'loss (softmax + cross-entropy)', 'update (SGD step)'."""
    if phase in ("forward", "backward") and layer is not None and 0 <= layer < len(network.layers):
        text = _("forward layer {k} {type_name}") if phase == "forward" else _("backward layer {k} {type_name}")
        return text.format(k=layer, type_name=network.layers[layer].type_name)
    if phase == "loss":
        return _("loss (softmax + cross-entropy)")
    if phase == "update":
        return _("update (SGD step)")
    return str(phase)


def header_texts(network, last, next_phase, wrong: bool) -> tuple[str, ...]:
    """The header's forms, longest first ('iteration 3 · just ran: … · next: …'): the longest that fits shows."""
    if last is not None:
        ran = _("just ran: {what}").format(what=describe(network, last.phase, last.layer))
        where = _("iteration {k} · ").format(k=last.iteration)
    else:
        ran, where = _("nothing computed yet"), _("start of an iteration: ")
    nxt = _("next: {what}").format(what=describe(network, *next_phase)) if next_phase is not None else ""
    w = _("⚠ wrong on purpose · ") if wrong else ""
    return f"{w}{where}{ran} · {nxt}", f"{w}{ran} · {nxt}", f"{w}{nxt or ran}"


def start_text(network) -> str:
    """The header before the first step."""
    layers = ngettext("{n} layer", "{n} layers", len(network.layers)).format(n=len(network.layers))
    return _("{layers}, {params} parameters · step to begin").format(layers=layers, params=f"{network.n_params:,}")


class CaptionText(QtWidgets.QGraphicsSimpleTextItem):
    """Text whose lines are each centred on a point (QGraphicsSimpleTextItem aligns left)."""

    def __init__(self, font: QtGui.QFont, color: QtGui.QColor) -> None:
        super().__init__()
        self.setFont(font)
        self.setBrush(QtGui.QBrush(color))
        self.setZValue(5)
        self._fm = QtGui.QFontMetricsF(font)
        self._anchor = (0.0, 0.0)
        self._plain = ""

    def setText(self, text: str) -> None:
        if text == self._plain:
            return
        self._plain = text
        lines = text.split("\n")
        width = max(self._fm.horizontalAdvance(line) for line in lines)
        space = self._fm.horizontalAdvance(" ") or 1.0
        # pad each line with spaces on the left so that all lines share one centre
        super().setText("\n".join(" " * round((width - self._fm.horizontalAdvance(line)) / 2 / space) + line
                                  for line in lines))
        self.set_center(*self._anchor)

    def plain(self) -> str:
        return self._plain

    def set_font(self, font: QtGui.QFont) -> None:
        if font == self.font():
            return
        self.setFont(font)
        self._fm = QtGui.QFontMetricsF(font)
        text, self._plain = self._plain, None
        self.setText(text)

    def set_center(self, cx: float, top: float) -> None:
        self._anchor = (cx, top)
        self.setPos(cx - self.boundingRect().width() / 2, top)


def _legend_swatch(fill: QtGui.QColor | None, pen: QtGui.QPen | None) -> QtGui.QPixmap:
    pm = QtGui.QPixmap(22, 14)
    pm.fill(QtCore.Qt.GlobalColor.transparent)
    p = QtGui.QPainter(pm)
    p.setPen(pen if pen is not None else QtGui.QPen(QtCore.Qt.PenStyle.NoPen))
    p.setBrush(QtGui.QBrush(fill) if fill is not None else QtGui.QBrush())
    p.drawRect(QtCore.QRectF(1, 1, 20, 12))
    p.end()
    return pm


class Legend(QtWidgets.QWidget):
    """What the colours, the shading, the outline and the bars mean: as many entries a row as fit whole."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QtWidgets.QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(style.SPACING)
        self.grid.setVerticalSpacing(2)
        self.entries: list[tuple[QtWidgets.QLabel, QtWidgets.QLabel]] = []
        for pixmap, text in (
            (style.colormap_pixmap(False, 60, 14), _("activation low → high")),
            (style.colormap_pixmap(True, 60, 14), _("gradient − 0 +")),
            (_legend_swatch(style.with_alpha(style.HIGHLIGHT, 70), None), _("shaded: just ran")),
            (_legend_swatch(None, QtGui.QPen(style.NEXT, 2, QtCore.Qt.PenStyle.DashLine)), _("dashed: next")),
            (_legend_swatch(INSPECTED, None), _("purple: inspected")),
            (_legend_swatch(style.TRUE_CLASS, None), _("green: true class")),
        ):
            swatch = QtWidgets.QLabel()
            swatch.setPixmap(pixmap)
            self.entries.append((swatch, QtWidgets.QLabel(text)))
        self.labels = [label for _swatch, label in self.entries]
        self._per_row = 0
        self._arrange()
        self.setToolTip(_("each column has its own scale: activations from its min to its max, gradients ±max|g| "
                          "(white is exactly 0); the loss column's orange bar is the prediction"))

    def _arrange(self) -> None:
        entry_w = max(s.sizeHint().width() + self.grid.horizontalSpacing() + lab.sizeHint().width()
                      for s, lab in self.entries) + self.grid.horizontalSpacing()
        per_row = max(1, min(len(self.entries), int(max(self.width(), 1) // max(entry_w, 1))))
        if per_row == self._per_row:
            return
        self._per_row = per_row
        for swatch, label in self.entries:
            self.grid.removeWidget(swatch)
            self.grid.removeWidget(label)
        for k, (swatch, label) in enumerate(self.entries):
            row, col = divmod(k, per_row)
            self.grid.addWidget(swatch, row, 2 * col)
            self.grid.addWidget(label, row, 2 * col + 1)
        for col in range(2 * len(self.entries)):
            self.grid.setColumnStretch(col, 1 if col % 2 and col < 2 * per_row else 0)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        super().resizeEvent(ev)
        self._arrange()

    def changeEvent(self, ev: QtCore.QEvent) -> None:
        super().changeEvent(ev)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.ApplicationFontChange):
            self._per_row = 0
            QtCore.QTimer.singleShot(0, self._arrange)

    def minimumSizeHint(self) -> QtCore.QSize:
        return QtCore.QSize(0, super().minimumSizeHint().height())



__all__ = ["CaptionText", "INSPECTED", "Legend", "captions", "describe", "header_texts", "marks", "size_texts"]
