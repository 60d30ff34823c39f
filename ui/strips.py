"""The window's strips and stand-ins: the alert banner, the pinned-input strip, the drawing pad's label row,
and the placeholder for a view module that has not landed."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QStyle, QToolButton, QWidget


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
        self.setText(f"{name}\n(view not available yet)")

    def set_network(self, network: Any) -> None:
        self.network = network

    def show_state(self, records: list[Any], next_phase: Any) -> None:
        self.records, self.next_phase = list(records), next_phase
        last = records[-1].description if records else "nothing yet"
        self.setText(f"{self.name}\n\nlast: {last}\nnext: {next_phase[0]}"
                     + (f" layer {next_phase[1]}" if next_phase[1] is not None else ""))

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
        self.layer_button.setText("Show layer")
        self.layer_button.clicked.connect(lambda: self.layer is not None and self.showLayer.emit(self.layer))
        close = QToolButton()
        close.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_TitleBarCloseButton))
        close.setToolTip("hide this message")
        close.clicked.connect(self.hide)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 6, 6, 6)
        row.addWidget(self.icon)
        row.addWidget(self.label, 1)
        row.addWidget(self.layer_button)
        row.addWidget(close)
        self.layer: int | None = None
        self.hide()

    def show_message(self, text: str, layer: int | None = None) -> None:
        self.layer = layer
        self.label.setText(text)
        self.layer_button.setVisible(layer is not None)
        self.show()

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
        self.button = QPushButton("Back to dataset batches")
        self.button.setToolTip("unpin: step and train on the dataset's batches again (the current iteration restarts)")
        self.button.clicked.connect(self.unpinRequested)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self.hide()

    def show_pinned(self, source: str) -> None:
        """Show the strip for a pinned `source` ("" hides it)."""
        if source:
            self.label.setText(f"<b>Pinned input:</b> {source} — every iteration steps on it")
        self.setVisible(bool(source))


class PadLabels(QWidget):
    """'My image is a: [class]' above the drawing pad: the label the loss compares the drawing with."""

    labelChanged = pyqtSignal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setToolTip("the true class of your image: the loss, its gradients and the green bar use it")
        self.combo.currentIndexChanged.connect(lambda k: k >= 0 and self.labelChanged.emit(k))
        hint = QLabel("Draw or open a picture; the network's answer shows in Samples and the pipeline.")
        hint.setWordWrap(True)
        hint.setEnabled(False)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 4, 6, 0)
        row.addWidget(QLabel("My image shows:"))
        row.addWidget(self.combo)
        row.addWidget(hint, 1)

    def set_classes(self, names: list[str]) -> None:
        keep = self.combo.currentIndex()
        self.combo.blockSignals(True)
        self.combo.clear()
        self.combo.addItems([str(n) for n in names])
        self.combo.setCurrentIndex(keep if 0 <= keep < len(names) else 0)
        self.combo.blockSignals(False)

    def label(self) -> int:
        return max(0, self.combo.currentIndex())
