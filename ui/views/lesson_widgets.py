"""The Lessons dock's pieces: lesson text with its math set, and the answer controls of each kind of question."""

from __future__ import annotations

import html
import re
from typing import Any

import numpy as np
from PyQt6 import QtCore, QtWidgets

from visualcnn.i18n import _, pick
from visualcnn.lessons import LessonPlayer

# x_j, x_{l,i,j}, e^{x_j}, w^t: a sub- or superscript is a brace group or a run of letters and digits
_SCRIPT = re.compile(r"([_^])(\{([^{}]*)\}|([0-9A-Za-zα-ωΑ-Ω′]+))")


def with_scripts(text: str) -> str:
    """Plain text with the lessons' math notation → HTML: `_j` / `_{..}` → <sub>, `^t` / `^{..}` → <sup>."""
    text = html.escape(text, quote=False)
    prev = None
    while prev != text:                     # nested groups (e^{x_j}) resolve from the inside out
        prev = text
        text = _SCRIPT.sub(lambda m: "<{0}>{1}</{0}>".format("sub" if m.group(1) == "_" else "sup",
                                                            m.group(3) if m.group(3) is not None else m.group(4)),
                           text)
    return text


def lesson_markdown(text: str) -> str:
    """A lesson text (Markdown, math in Unicode) for QTextBrowser.setMarkdown: scripts raised or lowered,
    indented formula lines as paragraphs of their own, indented, rather than code blocks."""
    out = []
    for line in text.split("\n"):
        if line.startswith("    ") and line.strip():
            out += ["", "&emsp;&emsp;" + with_scripts(line.strip()), ""]
        else:
            out.append(with_scripts(line))
    return "\n".join(out)


class AnswerBox(QtWidgets.QGroupBox):
    """The answer controls for one question: sign buttons, a number, window cells or a layer."""

    answered = QtCore.pyqtSignal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QtWidgets.QVBoxLayout(self)
        self.prompt = QtWidgets.QLabel()
        self.prompt.setWordWrap(True)
        self.prompt.setTextFormat(QtCore.Qt.TextFormat.RichText)
        self.box.addWidget(self.prompt)
        self.controls = QtWidgets.QWidget()
        self.box.addWidget(self.controls)
        self.sign_buttons: dict[str, QtWidgets.QPushButton] = {}
        self.cells: dict[tuple[int, int], QtWidgets.QPushButton] = {}
        self.value_edit: QtWidgets.QLineEdit | None = None
        self.layer_combo: QtWidgets.QComboBox | None = None
        self.check_button: QtWidgets.QPushButton | None = None

    def ask(self, question: Any, player: LessonPlayer) -> None:
        """Show `question`'s prompt and the controls for its kind."""
        self.setTitle(_("Your prediction"))
        self.prompt.setText(with_scripts(pick(question.prompt)))
        old = self.controls
        self.controls = QtWidgets.QWidget()
        self.box.replaceWidget(old, self.controls)
        old.hide()                  # until deleteLater runs, it would still be drawn under the new controls
        old.deleteLater()
        self.sign_buttons, self.cells = {}, {}
        self.value_edit = self.layer_combo = self.check_button = None
        row = QtWidgets.QHBoxLayout(self.controls)
        row.setContentsMargins(0, 0, 0, 0)
        if question.kind == "sign":
            for sign, text in (("+", _("+ positive")), ("-", _("− negative")), ("0", _("0 zero"))):
                b = QtWidgets.QPushButton(text)
                b.clicked.connect(lambda _c=False, s=sign: self.answered.emit(s))
                self.sign_buttons[sign] = b
                row.addWidget(b)
            return
        if question.kind == "value":
            self.value_edit = QtWidgets.QLineEdit()
            self.value_edit.setPlaceholderText(_("a number, e.g. 0.12"))
            self.value_edit.returnPressed.connect(self._submit)
            row.addWidget(self.value_edit, 1)
        elif question.kind == "window":
            grid = QtWidgets.QGridLayout()
            values = window_inputs(question, player)
            k = values.shape[0]
            for r in range(k):
                for c in range(values.shape[1]):
                    b = QtWidgets.QPushButton(f"{values[r, c]:.3f}".replace("-", "−"))
                    b.setCheckable(True)
                    b.setToolTip(_("input ({r}, {c}) of the window: click to choose it").format(r=r, c=c))
                    grid.addWidget(b, r, c)
                    self.cells[(r, c)] = b
            row.addLayout(grid)
            row.addStretch(1)
        else:
            self.layer_combo = QtWidgets.QComboBox()
            for i, layer in enumerate(player.session.network.layers):
                self.layer_combo.addItem(_("layer {n} — {type}").format(n=i, type=layer.type_name), i)
            row.addWidget(self.layer_combo, 1)
        self.check_button = QtWidgets.QPushButton(_("Check"))
        self.check_button.clicked.connect(self._submit)
        row.addWidget(self.check_button)

    def _submit(self) -> None:
        if self.value_edit is not None:
            self.answered.emit(self.value_edit.text())
        elif self.cells:
            self.answered.emit([rc for rc, b in self.cells.items() if b.isChecked()])
        elif self.layer_combo is not None:
            self.answered.emit(self.layer_combo.currentData())


def window_inputs(question: Any, player: LessonPlayer) -> np.ndarray:
    """The inputs of the pooling window a question is about, as the forward phase recorded them."""
    layer = player.session.network.layers[question.layer]
    k, s = layer.kernel, layer.stride
    c, i, j = question.unit
    for rec in player.session.records:
        if rec.phase == "forward" and rec.layer == question.layer:
            return np.asarray(rec.x[question.sample, c, i * s:i * s + k, j * s:j * s + k])
    return np.full((k, k), np.nan)


__all__ = ["AnswerBox", "lesson_markdown", "window_inputs", "with_scripts"]
