"""Where everything in the pipeline goes: pure geometry, no painting (ui/views/pipeline.py draws).

Columns are never squeezed below what their captions need, so captions never overlap: when the columns
do not fit the view, the scene grows wider than the viewport and scrolls sideways (every column stays
reachable). A column shows as many of its channels as fit at MIN_MAP px or more; the rest are a page
away ("1–8 of 32 ▸"). Text sizes come from the fonts given, i.e. they follow the window's text size.

    geometry = layout(columns, viewport_w, viewport_h, fonts)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from PyQt6 import QtCore, QtGui, QtWidgets

from ui.views.pipeline_captions import captions, marks
from visualcnn.i18n import _

#: margins, and the least / most size of one feature map in pixels
MARGIN = 8.0
MIN_MAP = 22.0
MAX_MAP = 150.0
MAP_GAP = 6.0
MAX_GRID_COLUMNS = 4
#: lines of text above the maps (the "→ next" mark, the title, the map size or channel page) and below
#: them (what is shown, its scale)
CAPTION_LINES = 2
#: the captions and marks a column may show (in the current language): ui/views/pipeline_captions.py


@dataclass
class ColumnSpec:
    """What the layout needs to know of a column: its kind, shape and its own texts."""

    kind: str                          # "input" | "layer" | "loss"
    shape: tuple[int, ...]
    title: str                         # "2 maxpool2d"
    subtitle: str                      # "6×12×12"
    size_texts: tuple[str, ...] = ()   # the texts its size / page line can show
    bar_labels: tuple[str, ...] = ()   # loss column: class names
    wider: float = 0.0                 # a caption shown once needed this width (the column never shrinks back)

    @property
    def spatial(self) -> bool:
        return len(self.shape) == 3


@dataclass
class ColumnBox:
    """One column's place: its rectangle, where its maps and captions go, how many channels a page holds."""

    rect: QtCore.QRectF
    title_top: float
    mark_top: float
    map_area: QtCore.QRectF
    caption_top: float
    cells: list[QtCore.QRectF] = field(default_factory=list)   # one per channel of a page (or one strip)
    per_page: int = 1
    bar_area: QtCore.QRectF = field(default_factory=QtCore.QRectF)
    row_h: float = 0.0
    label_w: float = 0.0

    @property
    def center(self) -> float:
        return self.rect.center().x()


@dataclass
class Geometry:
    boxes: list[ColumnBox]
    arrows: list[QtCore.QPointF]       # centre-top of each arrow between columns
    width: float                       # the scene's size (larger than the viewport: it scrolls)
    height: float


@dataclass
class Fonts:
    title: QtGui.QFont
    small: QtGui.QFont
    arrow: QtGui.QFont

    def metrics(self) -> tuple[QtGui.QFontMetricsF, QtGui.QFontMetricsF, QtGui.QFontMetricsF]:
        return QtGui.QFontMetricsF(self.title), QtGui.QFontMetricsF(self.small), QtGui.QFontMetricsF(self.arrow)

    def lines(self) -> tuple[float, float]:
        """The height of a line of title text and of caption text as drawn, in the current language: a script
        the font lacks (Japanese) is drawn in a fallback font with taller lines than the font's own spacing."""
        return (line_height(self.title, (*marks(), _("input"))), line_height(self.small, captions()))


_LINE_HEIGHTS: dict[tuple[str, tuple[str, ...]], float] = {}


def line_height(font: QtGui.QFont, texts: tuple[str, ...]) -> float:
    """The tallest one-line text item among `texts` in `font`, at least the font's line spacing."""
    key = (font.toString(), texts)
    if key not in _LINE_HEIGHTS:
        item = QtWidgets.QGraphicsSimpleTextItem()
        item.setFont(font)
        height = QtGui.QFontMetricsF(font).lineSpacing()
        for text in texts:
            item.setText(text.split("\n")[0])
            height = max(height, item.boundingRect().height())
        _LINE_HEIGHTS[key] = height
    return _LINE_HEIGHTS[key]


def least_width(spec: ColumnSpec, fm_title: QtGui.QFontMetricsF, fm_small: QtGui.QFontMetricsF) -> float:
    """The narrowest the column may be: its widest caption, or the loss column's labels + bars + values."""
    titles = max(fm_title.horizontalAdvance(t) for t in (spec.title, spec.subtitle, *spec.size_texts, *marks()))
    words = max(fm_small.horizontalAdvance(t) for t in captions())
    need = max(titles, words, spec.wider)
    if spec.kind == "loss":
        labels = max((fm_small.horizontalAdvance(t) for t in spec.bar_labels), default=0.0)
        need = max(need, labels + 8 + 60 + fm_small.horizontalAdvance(" 0.00") + 4)
    elif spec.spatial:
        need = max(need, MIN_MAP * min(spec.shape[0], 2) + MAP_GAP)
    return need + 8


def map_grid(area: QtCore.QRectF, n: int, h: int, w: int) -> tuple[int, int, float]:
    """(channels per page, grid columns, map scale in px per unit): as many of the `n` channels as fit with
    each map at least MIN_MAP px, laid out in up to MAX_GRID_COLUMNS columns, as large as fits."""
    for k in range(n, 0, -1):
        best = None
        for gcols in range(1, min(MAX_GRID_COLUMNS, k) + 1):
            rows = math.ceil(k / gcols)
            cell_w = (area.width() - (gcols - 1) * MAP_GAP) / gcols
            cell_h = (area.height() - (rows - 1) * MAP_GAP) / rows
            scale = min(cell_w / w, cell_h / h, MAX_MAP / max(h, w))
            if best is None or scale > best[1] + 1e-9:
                best = (gcols, scale)
        if best[1] * max(h, w) >= MIN_MAP or k == 1:
            return k, best[0], max(best[1], 0.0)
    return 1, 1, 0.0


def layout(specs: list[ColumnSpec], viewport_w: float, viewport_h: float, fonts: Fonts) -> Geometry:
    """Every column's box for a viewport of viewport_w × viewport_h pixels."""
    fm_title, fm_small, fm_arrow = fonts.metrics()
    gap = fm_arrow.horizontalAdvance("←") + 10
    widths = [least_width(s, fm_title, fm_small) for s in specs]
    total = 2 * MARGIN + sum(widths) + gap * (len(specs) - 1)
    if total < viewport_w:                  # room to spare: every column a little wider
        extra = (viewport_w - total) / len(specs)
        widths = [w + extra for w in widths]
        total = viewport_w
    mark_top = MARGIN
    title_line, small_line = fonts.lines()
    title_top = mark_top + title_line + 2
    top = title_top + 2 * title_line + 6
    caption_h = CAPTION_LINES * small_line
    # too low for the loss column's rows of text (or a map): the scene grows taller and scrolls up and down
    loss = [s for s in specs if s.kind == "loss"]
    # a row of the loss column as its class names are drawn (Japanese names come in a taller fallback font)
    row_line = max((line_height(fonts.small, s.bar_labels) for s in loss), default=fm_small.height())
    classes = max((len(s.bar_labels) for s in loss), default=0)
    least_area = max(MIN_MAP, classes * (row_line + 1))
    H = max(viewport_h, top + least_area + 6 + caption_h + MARGIN)
    caption_top = H - MARGIN - caption_h
    area_h = max(MIN_MAP, caption_top - 6 - top)
    boxes, arrows, x = [], [], MARGIN
    for i, (spec, w) in enumerate(zip(specs, widths)):
        rect = QtCore.QRectF(x, MARGIN / 2, w, H - MARGIN)
        area = QtCore.QRectF(x + 4, top, w - 8, area_h)
        box = ColumnBox(rect, title_top, mark_top, area, caption_top)
        if spec.kind == "loss":
            _loss_box(box, spec, fm_small, row_line)
        elif spec.spatial:
            C, h, wd = spec.shape
            k, gcols, scale = map_grid(area, C, h, wd)
            mw, mh = wd * scale, h * scale
            rows = math.ceil(k / gcols)
            total_w, total_h = gcols * mw + (gcols - 1) * MAP_GAP, rows * mh + (rows - 1) * MAP_GAP
            x0 = area.left() + (area.width() - total_w) / 2
            y0 = area.top() + max(0.0, (area.height() - total_h) / 2)
            box.per_page = k
            box.cells = [QtCore.QRectF(x0 + (c % gcols) * (mw + MAP_GAP), y0 + (c // gcols) * (mh + MAP_GAP), mw, mh)
                         for c in range(k)]
        else:
            D = spec.shape[0]
            sw = min(26.0, area.width() / 3)
            sh = min(area.height(), max(D * 7.0, sw * 2), D * sw)
            box.cells = [QtCore.QRectF(area.center().x() - sw / 2, area.top() + (area.height() - sh) / 2, sw, sh)]
        boxes.append(box)
        if i < len(specs) - 1:
            arrows.append(QtCore.QPointF(x + w + gap / 2, top + area_h / 2 - fm_arrow.height() / 2))
        x += w + gap
    return Geometry(boxes, arrows, total, H)


def _loss_box(box: ColumnBox, spec: ColumnSpec, fm_small: QtGui.QFontMetricsF, row_line: float) -> None:
    area = box.map_area
    K = max(len(spec.bar_labels), 1)
    box.label_w = max((fm_small.horizontalAdvance(t) for t in spec.bar_labels), default=0.0) + 6
    value_w = fm_small.horizontalAdvance(" 0.00") + 4
    box.row_h = max(row_line + 1, min(area.height() / K, 26.0))
    box.bar_area = QtCore.QRectF(area.left() + box.label_w, area.top(), area.width() - box.label_w - value_w,
                                 box.row_h * K)
