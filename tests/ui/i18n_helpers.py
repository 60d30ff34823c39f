"""Finding text left in English in a widget tree: what the translation tests check, panel by panel.

`untranslated(widget)` lists (where, text) for every visible string — labels, buttons, group titles, combo
items, placeholders, tooltips, dock titles, tab names, menus and their actions, the rows, cells and headers of
item views (trees, tables, lists), spin boxes' special texts, and what graphics scenes draw (pyqtgraph plot
titles, axis labels, TextItems, legends: every text item of a QGraphicsView's scene) — that still holds an
English word. Identifiers that stay as they are in every language (mistake names, layer types, file formats,
math function names) do not count, nor do TeX commands (a formula's tooltip is its mathtext source: the
words inside it are drawn, so they do count).
"""

from __future__ import annotations

import re
from typing import Iterator

from PyQt6 import QtCore, QtGui, QtWidgets

from visualcnn.data.registry import DATASETS
from visualcnn.layers import LAYER_TYPES
from visualcnn.mistakes import MISTAKES

KEEP = {*MISTAKES, *LAYER_TYPES, *DATASETS,  # names the command line takes, the same in every language
        *(name for cls in LAYER_TYPES.values() for name in cls.fields if "_" in name),  # the spec's keys
        "tied", "untied", "mean", "sum",  # and its choices (the form shows them beside their words)
        "Shift", "Ctrl",                  # keyboard shortcuts stay as they are
        "Python", "ONNX", "LpPool", "GIF", "APNG", "PNG", "MP4", "SVG", "CSV", "JSON", "PyTorch", "SGD", "ReLU",
        "max", "sign", "log", "exp", "logits", "rot180", "full", "pad", "MATH.md",
        "English",                   # each language is listed in its own words
        "NaN", "Inf", "float32", "float64",
        # names that stay as they are in Japanese too: keys, formats and data sets, non-numbers
        "onnx", "MNIST", "Fashion-MNIST", "IDX", "train/t10k", "NumPy", "JPEG",
        "npz", "npy", "torch.onnx.export", "imageio-ffmpeg", "imageio", "pip install", "visualcnn", "pyqtgraph",
        "LeNet-5", "TinyVGG", "CNN Explainer", "RGB"}
#: item views list at most this many rows each (a data set's thousands of thumbnails are data, not interface)
MAX_ROWS = 200
_KEEP = re.compile("|".join(sorted((re.escape(k) for k in KEEP), key=len, reverse=True)))
_TAG = re.compile(r"<[^>]+>|&[a-z]+;|&#\d+;")
_TEX = re.compile(r"\\[A-Za-z]+")
# a URL, a file's path or a file's name (x.svg): data, not words
_PLACE = re.compile(r"\w+://\S+|(?<![\w.])(?:~|/)[\w.~-]*(?:/[\w.~-]+)+/?|(?<![\w.])[\w-]+\.[A-Za-z0-9]{2,5}\b(?!\.)")
_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> list[str]:
    return _WORD.findall(_KEEP.sub(" ", _TEX.sub(" ", _PLACE.sub(" ", _TAG.sub(" ", text or "")))))


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
    (QtWidgets.QAbstractSpinBox, "", lambda w: [w.prefix(), w.suffix()]
     + ([w.specialValueText()] if w.value() == w.minimum() else [])),
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
        if (isinstance(w, QtWidgets.QAbstractItemView) and not isinstance(w, QtWidgets.QHeaderView)
                and w.isVisibleTo(root)):
            yield from item_texts(w)
        if isinstance(w, QtWidgets.QGraphicsView) and w.scene() is not None and w.isVisibleTo(root):
            yield from scene_texts(w.scene())


def item_texts(view: QtWidgets.QAbstractItemView) -> Iterator[tuple[str, str]]:
    """The header labels, and each shown row's texts and tooltips (first MAX_ROWS rows, top level), each once."""
    model = view.model()
    if model is None:
        return
    try:
        columns = model.columnCount()
    except TypeError:                    # a list model: one column (columnCount is private in PyQt)
        columns = 1
    seen: set[tuple[str, str]] = set()
    name = type(view).__name__
    Role, Horizontal = QtCore.Qt.ItemDataRole, QtCore.Qt.Orientation.Horizontal
    header = view.header() if isinstance(view, QtWidgets.QTreeView) else (
        view.horizontalHeader() if isinstance(view, QtWidgets.QTableView) else None)
    if header is not None and not header.isHidden():
        for c in range(columns):
            yield f"{name} header", str(model.headerData(c, Horizontal, Role.DisplayRole) or "")
    for r in range(min(model.rowCount(), MAX_ROWS)):
        for c in range(columns):
            index = model.index(r, c)
            for role, what in ((Role.DisplayRole, "item"), (Role.ToolTipRole, "item tooltip")):
                value = model.data(index, role)
                if isinstance(value, str) and (what, value) not in seen:
                    seen.add((what, value))
                    yield f"{name} {what}", value


def scene_texts(scene: QtWidgets.QGraphicsScene) -> Iterator[tuple[str, str]]:
    """What a graphics scene draws as text: pyqtgraph's titles (LabelItem), axis labels, TextItems and legends
    are QGraphicsTextItems; QGraphicsSimpleTextItems too. Hidden items (an axis label not shown) do not count."""
    for item in scene.items():
        if not item.isVisible():
            continue
        if isinstance(item, QtWidgets.QGraphicsTextItem):
            yield "scene text", item.toPlainText()
        elif isinstance(item, QtWidgets.QGraphicsSimpleTextItem):
            yield "scene text", item.text()


def action_texts(actions: list[QtGui.QAction]) -> Iterator[tuple[str, str]]:
    for a in actions:
        if a.isSeparator():
            continue
        for what, value in (("action", a.text()), ("action tooltip", a.toolTip()), ("status tip", a.statusTip())):
            yield what, value


def untranslated(root: QtWidgets.QWidget) -> list[tuple[str, str]]:
    return [(where, text) for where, text in texts(root) if english_words(text)]
