"""A pipeline column's state (what it shows, where, its items) and the scrolling surface the columns are drawn on
(ui/views/pipeline.py fills them; pipeline_layout places them; pipeline_maps paints the maps)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.views.pipeline_captions import INSPECTED, CaptionText
from ui.views.pipeline_layout import ColumnBox, ColumnSpec
from ui.views.pipeline_maps import MapItem, MapTiles


@dataclass
class Column:
    kind: str                           # "input" | "layer" | "loss"
    layer: int | None
    spec: ColumnSpec
    images: list[MapItem] = field(default_factory=list)       # one per channel (up to MAX_CHANNEL_ITEMS)
    tiles: MapTiles | None = None                             # paints the maps of the page shown, at once
    title_item: "CaptionText | None" = None
    info_item: "CaptionText | None" = None
    size_item: "CaptionText | None" = None
    mark_item: "CaptionText | None" = None
    highlight: QtWidgets.QGraphicsRectItem | None = None
    outline: QtWidgets.QGraphicsRectItem | None = None
    inspect_bar: QtWidgets.QGraphicsRectItem | None = None
    box: ColumnBox | None = None
    page: int = 0
    shown: tuple = ()                   # (id(array), mode, dim, page) of what the images show now
    bars: list[QtWidgets.QGraphicsRectItem] = field(default_factory=list)
    bar_labels: list["CaptionText"] = field(default_factory=list)
    bar_values: list["CaptionText"] = field(default_factory=list)
    tracks: list[QtWidgets.QGraphicsRectItem] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.spec.shape

    @property
    def spatial(self) -> bool:
        return self.spec.spatial

    @property
    def rect(self) -> QtCore.QRectF:
        return self.box.rect if self.box is not None else QtCore.QRectF()

    @property
    def bar_area(self) -> QtCore.QRectF:
        return self.box.bar_area if self.box is not None else QtCore.QRectF()

    @property
    def page_range(self) -> tuple[int, int]:
        """The channels [start, end) the current page shows."""
        if not self.spatial:
            return 0, 1
        per = self.box.per_page if self.box is not None else 1
        n = min(self.shape[0], len(self.images))
        start = min(self.page * per, max(0, n - 1) // per * per)
        return start, min(n, start + per)

    def build_items(self, scene: QtWidgets.QGraphicsScene, make_text: Callable[..., CaptionText],
                    class_names: Sequence[str], max_channels: int) -> None:
        """Create the column's items in `scene`: its tint, outline and inspected bar, its texts (`make_text(bold=…)`
        adds one to the scene) and its maps (up to `max_channels`) or, for the loss column, a bar per class."""
        self.highlight = scene.addRect(QtCore.QRectF(), QtGui.QPen(QtCore.Qt.PenStyle.NoPen),
                                       QtGui.QBrush(style.with_alpha(style.HIGHLIGHT, 45)))
        self.highlight.setZValue(-10)
        self.outline = scene.addRect(QtCore.QRectF(), QtGui.QPen(style.NEXT, 2, QtCore.Qt.PenStyle.DashLine))
        self.outline.setZValue(-9)
        self.inspect_bar = scene.addRect(QtCore.QRectF(), QtGui.QPen(QtCore.Qt.PenStyle.NoPen), QtGui.QBrush(INSPECTED))
        self.inspect_bar.setVisible(False)
        self.title_item = make_text(bold=True)
        self.mark_item = make_text(bold=True)
        self.info_item = make_text()
        self.size_item = make_text(bold=True)
        if self.kind == "loss":
            self.size_item.setText(self.spec.subtitle)
            for name in class_names:
                self.tracks.append(scene.addRect(QtCore.QRectF(), QtGui.QPen(style.FRAME, 1)))
                self.bars.append(scene.addRect(QtCore.QRectF(), QtGui.QPen(QtCore.Qt.PenStyle.NoPen),
                                               QtGui.QBrush(style.BAR)))
                label = make_text()
                label.setText(name)
                self.bar_labels.append(label)
                self.bar_values.append(make_text())
        else:
            self.tiles = MapTiles()
            scene.addItem(self.tiles)
            for _channel in range(min(self.shape[0], max_channels) if self.spatial else 1):
                item = self.tiles.add_map()
                scene.addItem(item)
                self.images.append(item)
        self.title_item.setText(self.spec.title)

    def texts(self) -> list["CaptionText"]:
        return [t for t in (self.title_item, self.info_item, self.size_item, self.mark_item, *self.bar_labels,
                            *self.bar_values) if t is not None and t.text().strip()]


class Scene(QtWidgets.QGraphicsView):
    """The drawing surface: scene coordinates are pixels (no zoom); it scrolls when the columns need more room."""

    clicked = QtCore.pyqtSignal(QtCore.QPointF)
    resized = QtCore.pyqtSignal()
    # pyqtgraph items look for these on the view that holds them; the pixels never zoom, so never emitted
    sigDeviceRangeChanged = QtCore.pyqtSignal(object)
    sigDeviceTransformChanged = QtCore.pyqtSignal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QtWidgets.QGraphicsScene(self))
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.setMouseTracking(True)
        # scrolling must not blit stale pixels of pyqtgraph items: every frame repaints what is shown
        self.setViewportUpdateMode(QtWidgets.QGraphicsView.ViewportUpdateMode.FullViewportUpdate)

    def follow(self, rect: QtCore.QRectF, edges: Sequence[float] = ()) -> None:
        """Scroll sideways (only) so that `rect` is in view, starting at one of the column `edges` so that no
        column is cut in half at the left."""
        bar = self.horizontalScrollBar()
        left, width = bar.value(), self.viewport().width()
        if rect.left() >= left and rect.right() <= left + width:
            return
        target = rect.left() - 4 if rect.left() < left else rect.right() + 4 - width
        snapped = [e - 4 for e in edges if e - 4 >= target and e - 4 <= rect.left()]
        bar.setValue(int(min(snapped) if snapped else target))

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        super().resizeEvent(ev)
        self.resized.emit()

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self.clicked.emit(self.mapToScene(ev.position().toPoint()))
        super().mousePressEvent(ev)


__all__ = ["Column", "Scene"]
