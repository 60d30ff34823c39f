"""The window's strips and stand-ins: the alert banner, the pinned-input strip, the drawing pad's label row,
and the placeholder for a view module that has not landed."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStyle, QToolButton, QWidget

from visualcnn.data import class_label
from visualcnn.i18n import _


class PlaceholderView(QLabel):
    """Stands in for a view module that has not landed yet; shows where the stepping is, in words."""

    layerClicked = pyqtSignal(int)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.network = None
        self.records: list[Any] = []
        self.next_phase: Any = None
        self.selected: int | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setMinimumSize(200, 120)
        self.setText(f"{name}\n" + _("(view not available yet)"))

    def set_network(self, network: Any) -> None:
        self.network = network

    def show_state(self, records: list[Any], next_phase: Any) -> None:
        self.records, self.next_phase = list(records), next_phase
        last = records[-1].description if records else _("nothing yet")
        upcoming = (_("{phase} layer {index}").format(phase=next_phase[0], index=next_phase[1])
                    if next_phase[1] is not None else next_phase[0])
        self.setText(f"{self.name}\n\n" + _("last: {last}").format(last=last) + "\n"
                     + _("next: {next}").format(next=upcoming))

    def select_layer(self, index: int) -> None:
        self.selected = index


def make_view(module: str, cls: str, name: str) -> QWidget:
    """The real view if its module exists, else a placeholder in the same slot."""
    import importlib
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as e:
        if e.name is None or not e.name.startswith("ui.views"):
            raise
        return PlaceholderView(name)
    return getattr(mod, cls)()


class Banner(QFrame):
    """A non-modal message strip above the pipeline (breakpoints, errors); 'Show layer' and a close button."""

    showLayer = pyqtSignal(int)
    stopRequested = pyqtSignal()         # the Stop button of "layer k is still running…"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        # fixed colours on both palettes: dark text on a light amber strip reads in any theme
        self.setStyleSheet("QFrame#banner { background: #ffe3a3; border: 1px solid #d08a00; border-radius: 4px; }"
                           "QFrame#banner QLabel { color: #3a2600; }")
        self.icon = QLabel()
        self.icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(28, 28))
        self.label = QLabel()
        self.label.setWordWrap(True)
        f = QFont(self.label.font())
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.label.setFont(f)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layer_button = QToolButton()
        self.layer_button.setText(_("Show layer"))
        self.layer_button.clicked.connect(lambda: self.layer is not None and self.showLayer.emit(self.layer))
        close = QToolButton()
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip(_("hide this message"))
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.icon)
        row.addWidget(self.label, 1)
        row.addWidget(self.layer_button)
        # "layer k is still running… Stop": shown only with show_message(..., stop=True)
        self.stop_button = QToolButton()
        self.stop_button.setText(_("Stop"))
        self.stop_button.setToolTip(_("interrupt the layer that has not returned (Shift+F5)"))
        self.stop_button.clicked.connect(self.stopRequested)
        self.stop_button.hide()
        row.addWidget(self.stop_button)
        row.addWidget(close)
        self.layer: int | None = None
        self.hide()

    def show_message(self, text: str, layer: int | None = None, stop: bool = False) -> None:
        self.layer = layer
        self.label.setText(text)
        self.layer_button.setVisible(layer is not None)
        self.stop_button.setVisible(stop)
        self.show()

    def show_stop(self, visible: bool) -> None:
        self.stop_button.setVisible(visible)

    def text(self) -> str:
        return self.label.text()


class PinStrip(QFrame):
    """Shown while a chosen or drawn image is pinned as the input: what it is, and the way back."""

    unpinRequested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pinStrip")
        self.setStyleSheet("QFrame#pinStrip { background: #d6ebff; border: 1px solid #3d85c6; border-radius: 4px; }"
                           "QFrame#pinStrip QLabel { color: #0b2a4a; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.button = QPushButton(_("Back to data set batches"))
        self.button.setToolTip(_("unpin: step and train on the data set's batches again (the current iteration "
                                 "restarts)"))
        self.button.clicked.connect(self.unpinRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.hide()

    def show_pinned(self, source: str) -> None:
        """Show the strip for a pinned `source` ("" hides it)."""
        if source:
            self.label.setText("<b>" + _("Pinned input:") + "</b> "
                               + _("{source} — every iteration steps on it").format(source=source))
        self.setVisible(bool(source))


class PadLabels(QWidget):
    """'My image shows: [class]' above the drawing pad: the label the loss compares the drawing with. Until one
    is chosen the image is unlabelled and only runs forward (a prediction, nothing scored right or wrong)."""

    labelChanged = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip(_("the true class of your image: the loss, its gradients and the green bar use it. "
                                "Unchosen, the image only runs forward and the network's answer is not scored"))
        self.combo.currentIndexChanged.connect(lambda k: k >= 1 and self.labelChanged.emit(k - 1))
        hint = QLabel(_("Draw or open a picture; the network's answer shows in Samples and the pipeline."))
        hint.setWordWrap(True)
        hint.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 0)
        row.addWidget(QLabel(_("My image shows:")))
        row.addWidget(self.combo)
        row.addWidget(hint, 1)

    def set_classes(self, names: list[str]) -> None:
        keep = self.combo.currentIndex()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems([_("— choose —"), *[class_label(n) for n in names]])
        self.combo.setCurrentIndex(keep if 0 <= keep <= len(names) else 0)
        self.combo.blockSignals(False)

    def label(self) -> int | None:
        """The chosen class, or None while the image is unlabelled."""
        k = self.combo.currentIndex()
        return k - 1 if k >= 1 else None


class FittedLabel(QLabel):
    """A one-line label that shows the longest of its texts that fits its width (never cut mid-word or
    run into its neighbour); the whole text is its tooltip. set_texts(full, shorter, shortest, …)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._texts: tuple[str, ...] = ("",)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_texts(self, *texts: str) -> None:
        self._texts = tuple(t for t in texts if t) or ("",)
        self.setToolTip(self._texts[0])
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        fm = self.fontMetrics()
        width = self.contentsRect().width()
        for text in self._texts:
            if fm.horizontalAdvance(text) <= width:
                break
        else:
            text = fm.elidedText(self._texts[-1], Qt.TextElideMode.ElideRight, max(width, 0)) if width > 0 else ""
        if text != self.text():
            self.setText(text)


def shorter_status(text: str) -> tuple[str, ...]:
    """A status line and ever shorter forms of it: without its bracketed detail, then only what comes
    before "— next:"."""
    import re
    out = [text]
    no_detail = re.sub(r"\s*\([^()]*\)\s*$", "", text)
    if no_detail != text:
        out.append(no_detail)
    if " — " in no_detail:
        out.append(no_detail.split(" — ")[0])
    return tuple(out)


def mistakes_text(network: Any, optimizer: Any = None) -> str:
    """'' for correct math; else one sentence naming each of the study note's mistakes switched on, where it
    is computed and which layers' gradients or updates it spoils."""
    from visualcnn.mistakes import MISTAKES, active, mistake_of

    names = active(network, optimizer)
    if not names:
        return ""
    parts = []
    last = len(network.layers) - 1
    for name in names:
        m = MISTAKES[name]
        if m.kind == "loss":
            parts.append(_("{mistake} in the loss: every gradient and update (layers 0–{last})").format(
                mistake=name, last=last))
        elif m.kind == "optimizer":
            parts.append(_("{mistake} in the SGD update: the bias updates of every layer").format(mistake=name))
        else:
            at = [i for i, layer in enumerate(network.layers) if mistake_of(layer) == name]
            top = max(at) if at else last
            where = ", ".join(str(i) for i in at)
            # the layer's own ∂W uses the δ that arrived (right): only what its ∂C/∂x reaches, below it, is spoiled
            if top == 0:
                parts.append(_("{mistake} in layer {where}: only ∂C/∂x there, the image gradient; no weight "
                               "gradient or update").format(mistake=name, where=where))
            else:
                parts.append(_("{mistake} in layer {where}: ∂C/∂x there and every gradient and update below it "
                               "(layers 0–{last})").format(mistake=name, where=where, last=top - 1))
    return _("Deliberately wrong math (the study note's slips): {mistakes}.").format(mistakes="; ".join(parts))



class MistakeStrip(QFrame):
    """Shown while a study-note mistake is switched on: which one and what it spoils. Not closable: a student
    must never take these gradients for correct ones."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mistakeStrip")
        self.setStyleSheet("QFrame#mistakeStrip { background: #f9d6d5; border: 2px solid #c0392b; border-radius: 4px; }"
                           "QFrame#mistakeStrip QLabel { color: #5c0b05; }")
        self.label = QLabel()
        self.label.setWordWrap(True)
        f = QFont(self.label.font())
        f.setBold(True)
        self.label.setFont(f)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(24, 24))
        row.addWidget(icon)
        row.addWidget(self.label, 1)
        self.hide()

    def show_mistakes(self, text: str) -> None:
        if text != self.label.text():
            self.label.setText(text)
        self.setVisible(bool(text))

    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()
