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
        "English",                   # each language is listed in its own words
        # names that stay as they are in Japanese too: keys, formats and data sets, non-numbers
        "Ctrl", "Shift", "NaN", "Inf", "ONNX", "onnx", "MNIST", "Fashion-MNIST", "IDX", "train/t10k", "NumPy", "JPEG",
        "npz", "npy", "torch.onnx.export", "imageio-ffmpeg", "imageio", "pip install", "visualcnn", "pyqtgraph",
        "LeNet-5", "TinyVGG", "CNN Explainer", "RGB"}
_KEEP = re.compile("|".join(sorted((re.escape(k) for k in KEEP), key=len, reverse=True)))
_TAG = re.compile(r"<[^>]+>")
# a URL, a file's path or a file's name (x.svg): data, not words
_PLACE = re.compile(r"\w+://\S+|(?<![\w.])(?:~|/)[\w.~-]*(?:/[\w.~-]+)+/?|(?<![\w.])[\w-]+\.[A-Za-z0-9]{2,5}\b(?!\.)")
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> list[str]:
    return _WORD.findall(_KEEP.sub(" ", _PLACE.sub(" ", _TAG.sub(" ", text or ""))))


# what each kind of widget shows: (class, label for the report, the texts)
SHOWN = (
    (QtWidgets.QAbstractButton, "", lambda w: [w.text()]),
    (QtWidgets.QLabel, "", lambda w: [w.text()]),
    (QtWidgets.QGroupBox, "", lambda w: [w.title()]),
    (QtWidgets.QComboBox, " item", lambda w: [w.itemText(i) for i in range(w.count())]),
    (QtWidgets.QLineEdit, " placeholder", lambda w: [w.placeholderText()]),
    (QtWidgets.QProgressBar, "", lambda w: [w.text()] if w.isVisible() else []),
    (QtWidgets.QDockWidget, "", lambda w: [w.windowTitle()]),
    (QtWidgets.QTabBar, " tab", lambda w: [w.tabText(i) for i in range(w.count())]),
    (QtWidgets.QMenu, "", lambda w: [w.title()]),
)


def texts(root: QtWidgets.QWidget) -> Iterator[tuple[str, str]]:
    for w in [root, *root.findChildren(QtWidgets.QWidget)]:
        name = type(w).__name__
        if isinstance(w, QtWidgets.QTextBrowser):
            continue                    # lesson bodies: bilingual data, checked for Japanese separately
        if w.toolTip():
            yield f"{name} tooltip", w.toolTip()
        for cls, label, shown in SHOWN:
            if isinstance(w, cls):
                for text in shown(w):
                    yield f"{name}{label}", text
                break
        if isinstance(w, QtWidgets.QMenu):
            yield from action_texts(w.actions())


def action_texts(actions: list[QtGui.QAction]) -> Iterator[tuple[str, str]]:
    for a in actions:
        if a.isSeparator():
            continue
        for what, value in (("action", a.text()), ("action tooltip", a.toolTip()), ("status tip", a.statusTip())):
            yield what, value


def untranslated(root: QtWidgets.QWidget) -> list[tuple[str, str]]:
    return [(where, text) for where, text in texts(root) if english_words(text)]
