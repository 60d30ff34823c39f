"""PipelineView: the whole network left to right, one column per layer, as the step cursor moves.

Columns: the input image, then one per layer (title "2 maxpool2d" and its output shape), then
the loss / probabilities. A column shows what the records say about it:
- forward (and until the backward wave reaches it): the layer's output for sample 0, in the
  sequential map, levels = that column's own min … max;
- once backward has passed it: ∂C/∂y, the gradient arriving at the layer's output, in the
  diverging map with levels ±max|g| of that column (white is exactly 0);
- the input column shows ∂C/∂x of the image after the last backward phase.
The column of the phase just run is tinted, the next one outlined with "→ next" / "← next".
Every item is created in `set_network`; `show_state` only calls setImage / setRect / setText.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.records import StepRecord
from visualcnn.spec import format_shape

_MARK_H = 24        # "→ next" line above the titles
_TITLE_LINES = 2
_BOTTOM_LINES = 2
_ARROW_GAP = 22     # horizontal room between columns for the flow arrow
_MAX_MAP = 150      # largest size of one feature map, px


@dataclass
class _Column:
    kind: str                           # "input" | "layer" | "loss"
    layer: int | None
    title: str
    shape: tuple[int, ...]
    images: list[pg.ImageItem] = field(default_factory=list)
    frames: list[QtWidgets.QGraphicsRectItem] = field(default_factory=list)
    title_item: QtWidgets.QGraphicsSimpleTextItem | None = None
    info_item: QtWidgets.QGraphicsSimpleTextItem | None = None
    mark_item: QtWidgets.QGraphicsSimpleTextItem | None = None
    highlight: QtWidgets.QGraphicsRectItem | None = None
    outline: QtWidgets.QGraphicsRectItem | None = None
    rect: QtCore.QRectF = field(default_factory=QtCore.QRectF)
    shown: tuple = ()                   # (id(array), mode) of what the images show now
    # loss column
    bars: list[QtWidgets.QGraphicsRectItem] = field(default_factory=list)
    bar_labels: list[QtWidgets.QGraphicsSimpleTextItem] = field(default_factory=list)
    tracks: list[QtWidgets.QGraphicsRectItem] = field(default_factory=list)
    bar_area: QtCore.QRectF = field(default_factory=QtCore.QRectF)

    @property
    def spatial(self) -> bool:
        return len(self.shape) == 3

    @property
    def n_shown(self) -> int:
        return min(self.shape[0], style.MAX_CHANNELS) if self.spatial else 1


class _Scene(QtWidgets.QGraphicsView):
    """The drawing surface: scene coordinates are the viewport's pixels (no zoom, no scroll)."""

    clicked = QtCore.pyqtSignal(QtCore.QPointF)
    resized = QtCore.pyqtSignal()
    # pyqtgraph items look for these on the view that holds them; the pixels never zoom, so never emitted
    sigDeviceRangeChanged = QtCore.pyqtSignal(object)
    sigDeviceTransformChanged = QtCore.pyqtSignal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QtWidgets.QGraphicsScene(self))
        self.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing, True)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignLeft | QtCore.Qt.AlignmentFlag.AlignTop)
        self.setMouseTracking(True)

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        super().resizeEvent(ev)
        self.scene().setSceneRect(0, 0, self.viewport().width(), self.viewport().height())
        self.resized.emit()

    def mousePressEvent(self, ev: QtGui.QMouseEvent) -> None:
        if ev.button() == QtCore.Qt.MouseButton.LeftButton:
            self.clicked.emit(self.mapToScene(ev.position().toPoint()))
        super().mousePressEvent(ev)


class _Text(QtWidgets.QGraphicsSimpleTextItem):
    """Text whose lines are each centred on a point (QGraphicsSimpleTextItem aligns left)."""

    def __init__(self, font: QtGui.QFont, color: QtGui.QColor) -> None:
        super().__init__()
        self.setFont(font)
        self.setBrush(QtGui.QBrush(color))
        self.setZValue(5)
        self._fm = QtGui.QFontMetricsF(font)
        self._anchor = (0.0, 0.0)

    def setText(self, text: str) -> None:
        if text == self.text():
            return
        lines = text.split("\n")
        width = max(self._fm.horizontalAdvance(line) for line in lines)
        space = self._fm.horizontalAdvance(" ") or 1.0
        # pad each line with spaces on the left so that all lines share one centre
        super().setText("\n".join(" " * round((width - self._fm.horizontalAdvance(line)) / 2 / space) + line
                                  for line in lines))
        self.set_center(*self._anchor)

    def set_font(self, font: QtGui.QFont) -> None:
        if font == self.font():
            return
        text = self.text().split("\n")
        self.setFont(font)
        self._fm = QtGui.QFontMetricsF(font)
        super().setText("")
        self.setText("\n".join(line.strip() for line in text))

    def set_center(self, cx: float, top: float) -> None:
        self._anchor = (cx, top)
        self.setPos(cx - self.boundingRect().width() / 2, top)


class PipelineView(QtWidgets.QWidget):
    """pipeline.set_network(net); pipeline.show_state(records, (phase, layer)); layerClicked(int)."""

    layerClicked = QtCore.pyqtSignal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = None
        self.columns: list[_Column] = []
        self.records: list[StepRecord] = []
        self.next_phase: tuple[str, int | None] | None = None
        self.executed_column: int | None = None   # index into self.columns
        self.next_column: int | None = None
        self.class_names: list[str] | None = None
        self.input_batch: np.ndarray | None = None    # shown in the input column before the first phase

        self.header = QtWidgets.QLabel("no network")
        self.header.setFont(style.font(style.FONT_TITLE_PT, bold=True))
        self.header.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.view = _Scene(self)
        self.view.clicked.connect(self._on_click)
        self.view.resized.connect(self._relayout)
        self.scene = self.view.scene()

        legend = QtWidgets.QHBoxLayout()
        legend.setSpacing(style.SPACING)
        for gradient, text in ((False, "activation (low → high, per column)"),
                               (True, "gradient ∂C/∂y (− 0 +, per column ±max)")):
            strip = QtWidgets.QLabel()
            strip.setPixmap(style.colormap_pixmap(gradient, 110, 14))
            label = QtWidgets.QLabel(text)
            label.setFont(style.font(style.FONT_SMALL_PT))
            legend.addWidget(strip)
            legend.addWidget(label)
            legend.addSpacing(style.SPACING * 2)
        legend.addStretch(1)

        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(style.SPACING, style.SPACING, style.SPACING, style.SPACING)
        box.setSpacing(style.SPACING // 2)
        box.addWidget(self.header)
        box.addWidget(self.view, 1)
        box.addLayout(legend)
        self.setMinimumSize(480, 320)
        self.arrows: list[QtWidgets.QGraphicsSimpleTextItem] = []

    # -- public API ------------------------------------------------------------------
    def set_class_names(self, names: Sequence[str] | None) -> None:
        self.class_names = None if names is None else [str(n) for n in names]
        if self.network is not None:
            self.set_network(self.network)

    def set_network(self, network) -> None:
        """Build every item for `network` (called at start and after every rebuild)."""
        self.network = network
        self.scene.clear()
        self.columns, self.arrows = [], []
        self.records, self.executed_column, self.next_column = [], None, None
        self.input_batch = None
        self.columns.append(_Column("input", None, "input", tuple(network.input_shape)))
        for i, layer in enumerate(network.layers):
            self.columns.append(_Column("layer", i, f"{i} {layer.type_name}", tuple(layer.output_shape)))
        self.columns.append(_Column("loss", None, "loss", (network.n_classes,)))
        fg = style.text_color(self)
        for ci, col in enumerate(self.columns):
            col.highlight = self.scene.addRect(QtCore.QRectF(), QtGui.QPen(QtCore.Qt.PenStyle.NoPen),
                                               QtGui.QBrush(style.with_alpha(style.HIGHLIGHT, 45)))
            col.highlight.setZValue(-10)
            pen = QtGui.QPen(style.NEXT, 2, QtCore.Qt.PenStyle.DashLine)
            col.outline = self.scene.addRect(QtCore.QRectF(), pen)
            col.outline.setZValue(-9)
            col.title_item = self._text(style.FONT_PT, bold=True)
            col.info_item = self._text(style.FONT_SMALL_PT)
            col.mark_item = self._text(style.FONT_PT, bold=True)
            if col.kind == "loss":
                names = self.class_names or [str(k) for k in range(network.n_classes)]
                for k in range(network.n_classes):
                    track = self.scene.addRect(QtCore.QRectF(), QtGui.QPen(style.FRAME, 1))
                    col.tracks.append(track)
                    bar = self.scene.addRect(QtCore.QRectF(), QtGui.QPen(QtCore.Qt.PenStyle.NoPen),
                                             QtGui.QBrush(style.BAR))
                    col.bars.append(bar)
                    label = self._text(style.FONT_SMALL_PT)
                    label.setText(names[k] if k < len(names) else str(k))
                    col.bar_labels.append(label)
            else:
                for _ in range(col.n_shown):
                    img = pg.ImageItem()
                    self.scene.addItem(img)
                    col.images.append(img)
                    frame = self.scene.addRect(QtCore.QRectF(), QtGui.QPen(style.FRAME, 1))
                    frame.setZValue(1)
                    col.frames.append(frame)
            if ci < len(self.columns) - 1:
                arrow = self._text(style.FONT_TITLE_PT, bold=True)
                arrow.setText("→")
                self.arrows.append(arrow)
        for col in self.columns:
            col.title_item.setText(f"{col.title}\n{format_shape(col.shape)}" if col.kind != "loss"
                                   else f"loss\n{network.n_classes} classes")
        self.header.setText(f"{len(network.layers)} layers, {network.n_params:,} parameters\nstep to begin")
        self._relayout()
        self.show_state([], ("forward", 0))

    def show_state(self, records: Sequence[StepRecord], next_phase: tuple[str, int | None] | None) -> None:
        """Draw the iteration so far (`records`, maybe empty) and mark `next_phase` = (phase, layer)."""
        if self.network is None:
            return
        self.records = list(records)
        self.next_phase = tuple(next_phase) if next_phase is not None else None
        fwd, bwd, loss_rec, update_rec = {}, {}, None, None
        for r in self.records:
            if r.phase == "forward":
                fwd[r.layer] = r
            elif r.phase == "backward":
                bwd[r.layer] = r
            elif r.phase == "loss":
                loss_rec = r
            elif r.phase == "update":
                update_rec = r
        dim = bool(bwd)
        batch_x = self.records[0].batch_x if self.records else self.input_batch
        for col in self.columns:
            if col.kind == "loss":
                self._show_loss(col, loss_rec)
                continue
            if col.kind == "input":
                if 0 in bwd:
                    self._show_maps(col, bwd[0].dx, "grad", "∂C/∂x (image)")
                else:
                    self._show_maps(col, batch_x, "act", "input image", dim=dim)
            elif col.layer in bwd:
                self._show_maps(col, bwd[col.layer].dout, "grad", "∂C/∂y arriving")
            elif col.layer in fwd:
                self._show_maps(col, fwd[col.layer].y, "act", "activation", dim=dim)
            else:
                self._show_maps(col, None, "none", "not yet")
        self._mark(self.records[-1] if self.records else None, update_rec)
        self._update_header()

    def show_input(self, batch_x: np.ndarray | None) -> None:
        """The iteration's input images (N, C, H, W), drawn in the input column while no phase has run yet."""
        self.input_batch = batch_x
        if self.network is not None and not self.records:
            self.show_state([], self.next_phase)

    def column_of_layer(self, layer: int) -> int:
        """Index into `columns` of layer `layer` (the input column is 0)."""
        return layer + 1

    # -- drawing ---------------------------------------------------------------------
    def _text(self, size: int, bold: bool = False) -> "_Text":
        item = _Text(style.font(size, bold), style.text_color(self))
        self.scene.addItem(item)
        return item

    def _show_maps(self, col: _Column, array: np.ndarray | None, mode: str, what: str, dim: bool = False) -> None:
        key = (id(array), mode, dim)
        if col.shown == key:
            return
        col.shown = key
        opacity = 0.35 if dim else 1.0
        if array is None:
            for img in col.images:
                img.clear()
            col.info_item.setText(what)
            self._center_info(col)
            return
        sample = np.asarray(array[0])
        gradient = mode == "grad"
        levels = style.symmetric_levels(sample) if gradient else style.activation_levels(sample)
        if col.spatial:
            for c, img in enumerate(col.images):
                style.set_image(img, sample[c], gradient, levels)
                img.setOpacity(opacity)
        else:
            style.set_image(col.images[0], sample.reshape(-1), gradient, levels)
            col.images[0].setOpacity(opacity)
        self._place_images(col)
        more = col.shape[0] - col.n_shown if col.spatial else 0
        extra = f"  (+{more} more)" if more > 0 else ""
        col.info_item.setText(f"{what}{extra}\n{style.levels_text(levels, gradient)}")
        self._center_info(col)

    def _show_loss(self, col: _Column, rec: StepRecord | None) -> None:
        key = (id(rec),)
        if col.shown == key:
            return
        col.shown = key
        area = col.bar_area
        K = len(col.bars)
        if rec is None:
            for bar in col.bars:
                bar.setRect(QtCore.QRectF())
            col.info_item.setText("C = —\n(after the\nloss phase)")
            self._center_info(col)
            return
        probs = np.asarray(rec.probs[0])
        truth = int(rec.batch_y[0])
        pred = int(np.argmax(probs))
        row_h = area.height() / max(K, 1)
        for k, bar in enumerate(col.bars):
            w = float(probs[k]) * area.width()
            bar.setRect(QtCore.QRectF(area.left(), area.top() + k * row_h + row_h * 0.15, max(w, 1.0), row_h * 0.7))
            color = style.TRUE_CLASS if k == truth else (style.PREDICTED if k == pred else style.BAR)
            bar.setBrush(QtGui.QBrush(color))
        col.info_item.setText(f"C = {style.format_number(rec.loss, 4)}\np(true) = {probs[truth]:.2f}")
        self._center_info(col)

    def _mark(self, last: StepRecord | None, update_rec: StepRecord | None) -> None:
        executed = nxt = None
        if last is not None:
            executed = self._column_for(last.phase, last.layer)
        phase, layer = self.next_phase if self.next_phase is not None else (None, None)
        if phase is not None:
            nxt = self._column_for(phase, layer)
        self.executed_column, self.next_column = executed, nxt
        backward = phase in ("backward", "update") or (last is not None and last.phase == "backward")
        for ci, col in enumerate(self.columns):
            tinted = ci == executed or (last is not None and last.phase == "update" and self._has_params(col))
            col.highlight.setVisible(tinted)
            is_next = ci == nxt or (phase == "update" and self._has_params(col))
            col.outline.setVisible(is_next)
            if is_next:
                col.mark_item.setText("ΔW next" if phase == "update" else
                                      ("← next" if phase == "backward" else "→ next"))
                col.mark_item.setBrush(QtGui.QBrush(style.NEXT))
            elif tinted:
                col.mark_item.setText("updated" if last.phase == "update" else "just ran")
                col.mark_item.setBrush(QtGui.QBrush(style.HIGHLIGHT))
            else:
                col.mark_item.setText("")
            self._center(col.mark_item, col.rect.center().x(), col.rect.top() + 2)
        arrow_color = style.GRADIENT_CMAP.map(0.08, mode="qcolor") if backward else style.dim_text_color(self)
        for a in self.arrows:
            a.setText("←" if backward else "→")
            a.setBrush(QtGui.QBrush(arrow_color))

    def _has_params(self, col: _Column) -> bool:
        return col.kind == "layer" and bool(self.network.layers[col.layer].params)

    def _column_for(self, phase: str, layer: int | None) -> int | None:
        if phase in ("forward", "backward") and layer is not None:
            return layer + 1
        if phase == "loss":
            return len(self.columns) - 1
        return None

    def _update_header(self) -> None:
        last = self.records[-1] if self.records else None
        parts = []
        if last is not None:
            parts.append(f"iteration {last.iteration} · just ran: {self._describe(last.phase, last.layer)}")
        else:
            parts.append("start of an iteration: nothing computed yet")
        if self.next_phase is not None:
            parts.append(f"next: {self._describe(*self.next_phase)}")
        self.header.setText("\n".join(parts))

    def _describe(self, phase: str, layer: int | None) -> str:
        if phase in ("forward", "backward") and layer is not None and 0 <= layer < len(self.network.layers):
            return f"{phase} layer {layer} {self.network.layers[layer].type_name}"
        if phase == "loss":
            return "loss (softmax + cross-entropy)"
        if phase == "update":
            return "update (SGD step)"
        return str(phase)

    # -- layout (pixels; recomputed on resize only) ----------------------------------------
    def _relayout(self) -> None:
        if not self.columns:
            return
        W = self.view.viewport().width()
        H = self.view.viewport().height()
        n = len(self.columns)
        m = style.SPACING
        col_w = max(40.0, (W - 2 * m - (n - 1) * _ARROW_GAP) / n)
        title_pt, small_pt = self._fit_fonts(col_w + _ARROW_GAP - 6)
        title_font, small_font = style.font(title_pt, bold=True), style.font(small_pt)
        for col in self.columns:
            col.title_item.set_font(title_font)
            col.mark_item.set_font(title_font)
            col.info_item.set_font(small_font)
        fm_title = QtGui.QFontMetricsF(title_font)
        fm_small = QtGui.QFontMetricsF(small_font)
        title_h = _TITLE_LINES * fm_title.lineSpacing()
        bottom_h = _BOTTOM_LINES * fm_small.lineSpacing() + 4
        top = m + _MARK_H + title_h + 6
        area_h = max(30.0, H - top - bottom_h - m - 6)
        for ci, col in enumerate(self.columns):
            x = m + ci * (col_w + _ARROW_GAP)
            col.rect = QtCore.QRectF(x - 3, m, col_w + 6, H - 2 * m)
            col.highlight.setRect(col.rect)
            col.outline.setRect(col.rect.adjusted(1, 1, -1, -1))
            self._center(col.title_item, x + col_w / 2, m + _MARK_H)
            col.map_area = QtCore.QRectF(x, top, col_w, area_h)
            if col.kind == "loss":
                label_w = max(fm_small.horizontalAdvance(lab.text()) for lab in col.bar_labels) + 6
                K = len(col.bars)
                row_h = min(area_h / max(K, 1), 26.0)
                area = QtCore.QRectF(x + label_w, top, col_w - label_w - 4, row_h * K)
                col.bar_area = area
                for k, track in enumerate(col.tracks):
                    track.setRect(QtCore.QRectF(area.left(), top + k * row_h + row_h * 0.15, area.width(), row_h * 0.7))
                for k, lab in enumerate(col.bar_labels):
                    lab.setPos(x + label_w - 4 - fm_small.horizontalAdvance(lab.text()),
                               top + k * row_h + (row_h - fm_small.height()) / 2)
                col.info_top = top + row_h * K + 6
                col.shown = ()
            else:
                self._place_images(col)
            if ci < len(self.arrows):
                arrow = self.arrows[ci]
                self._center(arrow, x + col_w + _ARROW_GAP / 2, top + area_h / 2 - 10)
        if self.records or self.network is not None:
            self.show_state(self.records, self.next_phase)

    def _fit_fonts(self, width: float) -> tuple[int, int]:
        """The largest title and info point sizes whose texts fit a column `width` px wide."""
        titles = [line for col in self.columns for line in (col.title, format_shape(col.shape))] + ["just ran"]
        infos = ["−0.0000 … 0.0000", "∂C/∂y arriving"]
        title_pt = small_pt = 7
        for pt in range(style.FONT_PT, 6, -1):
            fm = QtGui.QFontMetricsF(style.font(pt, bold=True))
            if max(fm.horizontalAdvance(t) for t in titles) <= width:
                title_pt = pt
                break
        for pt in range(style.FONT_SMALL_PT, 6, -1):
            fm = QtGui.QFontMetricsF(style.font(pt))
            if max(fm.horizontalAdvance(t) for t in infos) <= width:
                small_pt = pt
                break
        return title_pt, min(small_pt, title_pt)

    def _place_images(self, col: _Column) -> None:
        area: QtCore.QRectF = getattr(col, "map_area", QtCore.QRectF())
        if area.isEmpty():
            return
        gap = style.GAP
        if col.spatial:
            C, h, w = col.shape
            k = col.n_shown
            best = None
            for gcols in (1, 2, 3, 4):
                rows = -(-k // gcols)
                cell_w = (area.width() - (gcols - 1) * gap) / gcols
                cell_h = (area.height() - (rows - 1) * gap) / rows
                scale = min(cell_w / w, cell_h / h, _MAX_MAP / max(h, w))
                if best is None or scale > best[0] + 1e-9:
                    best = (scale, gcols, rows)
            scale, gcols, rows = best
            mw, mh = w * scale, h * scale
            total_w = gcols * mw + (gcols - 1) * gap
            total_h = rows * mh + (rows - 1) * gap
            x0 = area.left() + (area.width() - total_w) / 2
            y0 = area.top() + max(0.0, (area.height() - total_h) / 2)
            for c, (img, frame) in enumerate(zip(col.images, col.frames)):
                r, q = divmod(c, gcols)
                rect = QtCore.QRectF(x0 + q * (mw + gap), y0 + r * (mh + gap), mw, mh)
                img.setRect(rect)
                frame.setRect(rect)
            col.info_top = y0 + total_h + 6
        else:
            D = col.shape[0]
            sw = min(26.0, area.width() / 3)
            sh = min(area.height(), max(D * 7.0, sw * 2), D * sw)
            rect = QtCore.QRectF(area.center().x() - sw / 2, area.top() + (area.height() - sh) / 2, sw, sh)
            col.images[0].setRect(rect)
            col.frames[0].setRect(rect)
            col.info_top = rect.bottom() + 6
        self._center_info(col)

    def _center_info(self, col: _Column) -> None:
        top = getattr(col, "info_top", col.rect.bottom() - 40)
        self._center(col.info_item, col.rect.center().x(), top)

    def _center(self, item: "_Text", cx: float, top: float) -> None:
        item.set_center(cx, top)

    # -- interaction -------------------------------------------------------------------------
    def _on_click(self, pos: QtCore.QPointF) -> None:
        for col in self.columns:
            if col.kind == "layer" and col.rect.contains(pos):
                self.layerClicked.emit(col.layer)
                return

    def images_of_layer(self, layer: int) -> list[pg.ImageItem]:
        """The ImageItems of layer `layer`'s column (for tests and snapshots)."""
        return self.columns[layer + 1].images
