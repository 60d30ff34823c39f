"""Finding text left in English in a widget tree: what the translation tests check, panel by panel.

`untranslated(widget)` lists (where, text) for every visible string — labels, buttons, group titles, combo
items, placeholders, tooltips, dock titles, tab names, menus and their actions — that still holds an English
word. Identifiers that stay as they are in every language (mistake names, layer types, file formats, math
function names) do not count.
"""

from __future__ import annotations

import re
from typing import Iterator

from PyQt6 import QtGui, QtWidgets

from visualcnn.layers import LAYER_TYPES
from visualcnn.mistakes import MISTAKES

KEEP = {*MISTAKES, *LAYER_TYPES, "GIF", "APNG", "PNG", "MP4", "SVG", "CSV", "JSON", "PyTorch", "SGD", "ReLU",
        "max", "sign", "log", "exp", "logits", "rot180", "full", "pad", "MATH.md",
        "English"}                   # each language is listed in its own words
_KEEP = re.compile("|".join(sorted((re.escape(k) for k in KEEP), key=len, reverse=True)))
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> list[str]:
    return _WORD.findall(_KEEP.sub(" ", _TAG.sub(" ", text or "")))


def texts(root: QtWidgets.QWidget) -> Iterator[tuple[str, str]]:
    widgets = [root, *root.findChildren(QtWidgets.QWidget)]
    for w in widgets:
        name = type(w).__name__
        if isinstance(w, QtWidgets.QTextBrowser):
            continue                    # lesson bodies: bilingual data, checked for Japanese separately
        if w.toolTip():
            yield f"{name} tooltip", w.toolTip()
        if isinstance(w, QtWidgets.QAbstractButton):
            yield name, w.text()
        elif isinstance(w, QtWidgets.QLabel):
            yield name, w.text()
        elif isinstance(w, QtWidgets.QGroupBox):
            yield name, w.title()
        elif isinstance(w, QtWidgets.QComboBox):
            for i in range(w.count()):
                yield f"{name} item", w.itemText(i)
        elif isinstance(w, QtWidgets.QLineEdit):
            yield f"{name} placeholder", w.placeholderText()
        elif isinstance(w, QtWidgets.QProgressBar) and w.isVisible():
            yield name, w.text()
        elif isinstance(w, QtWidgets.QDockWidget):
            yield name, w.windowTitle()
        elif isinstance(w, QtWidgets.QTabBar):
            for i in range(w.count()):
                yield f"{name} tab", w.tabText(i)
        elif isinstance(w, QtWidgets.QMenu):
            yield name, w.title()
            yield from action_texts(w.actions())


def action_texts(actions: list[QtGui.QAction]) -> Iterator[tuple[str, str]]:
    for a in actions:
        if a.isSeparator():
            continue
        for what, value in (("action", a.text()), ("action tooltip", a.toolTip()), ("status tip", a.statusTip())):
            yield what, value


def untranslated(root: QtWidgets.QWidget) -> list[tuple[str, str]]:
    return [(where, text) for where, text in texts(root) if english_words(text)]
