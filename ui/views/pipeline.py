"""PipelineView: the whole network left to right, one column per layer, as the step cursor moves.

Columns: the input image, then one per layer (title "2 maxpool2d" and its output shape), then
the loss / probabilities. A column shows what the records say about it:
- forward (and until the backward wave reaches it): the layer's output for sample 0, in the
  sequential map, levels = that column's own min … max;
- once backward has passed it: ∂C/∂y, the gradient that arrived at the layer's output, in the
  diverging map with levels ±max|g| of that column (white is exactly 0);
- in the phase where layer k's backward runs, column k shows the ∂C/∂y that arrived and the column
  below it at once shows the ∂C/∂x layer k sent down (for max pooling: the sparse routed gradient);
- the input column shows ∂C/∂x of the image after the last backward phase.
The column of the phase just run is tinted, the next one outlined with "→ next" / "← next", the one
the inspector shows has a bar under its title; the loss column's bars carry their probabilities.

Where things go is ui/views/pipeline_layout.py (the columns never squeeze their captions: the view
scrolls instead); this module creates the items in `set_network` and `show_state` only calls
setImage / setRect / setText. Text follows the window's text size (Ctrl+= / Ctrl+-, presentation).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.views import pipeline_captions as text
from ui.views.pipeline_captions import CaptionText, Legend
from ui.views.pipeline_columns import Column, Scene
from visualcnn.data import class_label
from ui.views.pipeline_layout import ColumnSpec, Fonts, layout
from ui.views.pipeline_maps import MapItem
from visualcnn.i18n import _
from visualcnn.records import StepRecord

#: channel maps made per column at most (a page shows what fits; the pager reaches the others)
MAX_CHANNEL_ITEMS = 64


class PipelineView(QtWidgets.QWidget):
    """pipeline.set_network(net); pipeline.show_state(records, (phase, layer)); layerClicked(int)."""

    layerClicked = QtCore.pyqtSignal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = None
        self.columns: list[Column] = []
        self.records: list[StepRecord] = []
        self.next_phase: tuple[str, int | None] | None = None
        self.executed_column: int | None = None   # index into self.columns
        self.next_column: int | None = None
        self.sent_column: int | None = None       # the column that just received a backward phase's ∂C/∂x
        self.selected: int | None = None          # the layer the inspector shows
        self.class_names: list[str] | None = None
        self.input_batch: np.ndarray | None = None    # shown in the input column before the first phase
        self.arrows: list[CaptionText] = []

        from ui.strips import FittedLabel
        self.header = FittedLabel()          # one line: the longest form of "just ran … · next …" that fits
        self.header.setFont(style.font(style.FONT_TITLE_PT, bold=True))
        self.view = Scene(self)
        self.view.clicked.connect(self._on_click)
        self.view.resized.connect(self._relayout)
        self.scene = self.view.scene()
        self.legend = Legend()

        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(style.SPACING, style.SPACING, style.SPACING, style.SPACING)
        box.setSpacing(style.SPACING // 2)
        box.addWidget(self.header)
        box.addWidget(self.view, 1)
        box.addWidget(self.legend)
        self.setMinimumSize(420, 300)
        self._fonts = self._make_fonts()

    # -- public API ------------------------------------------------------------------
    def set_class_names(self, names: Sequence[str] | None) -> None:
        # shown in the current language ('red circle' → '赤の円'), as the samples panel shows them
        self.class_names = None if names is None else [class_label(n) for n in names]
        if self.network is not None:
            self.set_network(self.network)

    def set_network(self, network) -> None:
        """Build every item for `network` (called at start and after every rebuild)."""
        self.network = network
        self.scene.clear()
        self.columns, self.arrows = [], []
        self._mistakes = (frozenset(), False)
        self.records, self.executed_column, self.next_column, self.sent_column = [], None, None, None
        self.input_batch = None
        n = network.n_classes
        names = self.class_names or [str(k) for k in range(n)]
        names = [names[k] if k < len(names) else str(k) for k in range(n)]
        self.columns.append(self._column("input", None, _("input"), tuple(network.input_shape)))
        for i, layer in enumerate(network.layers):
            self.columns.append(self._column("layer", i, f"{i} {layer.type_name}", tuple(layer.output_shape)))
        loss = Column("loss", None, ColumnSpec("loss", (n,), _("loss"), text.classes_text(n),
                                                bar_labels=tuple(names)))
        self.columns.append(loss)
        if self.selected is None or self.selected >= len(network.layers):
            self.selected = 0
        for ci, col in enumerate(self.columns):
            col.build_items(self.scene, self._text, names, MAX_CHANNEL_ITEMS)
            if ci < len(self.columns) - 1:
                arrow = self._text(arrow=True)
                arrow.setText("→")
                self.arrows.append(arrow)
        self.header.set_texts(text.start_text(network))
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
            elif col.kind == "input":
                if 0 in bwd:
                    self._show_maps(col, bwd[0].dx, "grad", _(text.IMAGE_GRADIENT))
                else:
                    self._show_maps(col, batch_x, "act", _(text.INPUT_IMAGE), dim=dim)
            elif col.layer in bwd:
                self._show_maps(col, bwd[col.layer].dout, "grad", _(text.ARRIVED))
            elif col.layer + 1 in bwd:
                # the layer above has just run its backward: what it sent down arrives here in the same phase
                self._show_maps(col, bwd[col.layer + 1].dx, "grad", _(text.SENT_DOWN))
            elif col.layer in fwd:
                self._show_maps(col, fwd[col.layer].y, "act", _(text.ACTIVATION), dim=dim)
            else:
                self._show_maps(col, None, "none", _(text.NOT_YET))
        self._mark(self.records[-1] if self.records else None, update_rec)
        self._update_header()

    def show_input(self, batch_x: np.ndarray | None) -> None:
        """The iteration's input images (N, C, H, W), drawn in the input column while no phase has run yet."""
        self.input_batch = batch_x
        if self.network is not None and not self.records:
            self.show_state([], self.next_phase)

    def select_layer(self, index: int | None) -> None:
        """Mark layer `index`'s column as the one the inspector shows."""
        self.selected = index
        for col in self.columns:
            col.inspect_bar.setVisible(col.kind == "layer" and col.layer == index)

    def set_mistakes(self, layers: set[int], wrong: bool) -> None:
        """Mark the columns whose layer computes a study-note mistake (⚠, red title) — in the window and in
        every export of the pipeline — and say in the header that the math is wrong on purpose."""
        key = (frozenset(layers), wrong)
        if key == getattr(self, "_mistakes", (frozenset(), False)):
            return
        self._mistakes = key
        loss_wrong = wrong and not layers and self.network is not None
        for col in self.columns:
            spoiled = (col.kind == "layer" and col.layer in layers) or (col.kind == "loss" and loss_wrong)
            base = col.spec.title.removeprefix("⚠ ")
            col.spec.title = f"⚠ {base}" if spoiled else base
            col.title_item.setText(col.spec.title)
            col.title_item.setBrush(QtGui.QBrush(QtGui.QColor(192, 57, 43) if spoiled else style.text_color(self)))
        self._relayout()
        self._update_header()

    def column_of_layer(self, layer: int) -> int:
        """Index into `columns` of layer `layer` (the input column is 0)."""
        return layer + 1

    def images_of_layer(self, layer: int) -> list[MapItem]:
        """The maps of layer `layer`'s column on its current page: `.image`, `.levels`, local coordinates in
        the map's pixels (for tests, snapshots and the lessons' markers)."""
        col = self.columns[layer + 1]
        start, end = col.page_range
        return col.images[start:end]

    def next_page(self, column: int) -> None:
        """Show the next page of channels of `column` (wrapping round to the first)."""
        col = self.columns[column]
        start, end = col.page_range
        col.page = 0 if end >= min(col.shape[0], len(col.images)) else col.page + 1
        col.shown = ()
        self._place_images(col)
        self.show_state(self.records, self.next_phase)

    def caption_items(self) -> list[QtWidgets.QGraphicsSimpleTextItem]:
        """Every piece of text in the scene that shows something (the legibility tests measure them)."""
        return [t for col in self.columns for t in col.texts()] + [a for a in self.arrows if a.isVisible()]

    # -- drawing ---------------------------------------------------------------------
    def _column(self, kind: str, layer: int | None, title: str, shape: tuple[int, ...]) -> Column:
        sizes = text.size_texts(shape)
        return Column(kind, layer, ColumnSpec(kind, shape, title, sizes[0], size_texts=sizes))

    def _make_fonts(self) -> Fonts:
        return Fonts(style.font(style.FONT_PT, bold=True), style.font(style.FONT_SMALL_PT),
                     style.font(style.FONT_TITLE_PT, bold=True))

    def _text(self, bold: bool = False, arrow: bool = False) -> CaptionText:
        f = self._fonts.arrow if arrow else (self._fonts.title if bold else self._fonts.small)
        item = CaptionText(f, style.text_color(self))
        item._role = "arrow" if arrow else ("title" if bold else "small")
        self.scene.addItem(item)
        return item

    def _show_maps(self, col: Column, array: np.ndarray | None, mode: str, what: str, dim: bool = False) -> None:
        key = (id(array), mode, dim, col.page, what)
        if col.shown == key:
            return
        col.shown = key
        start, end = col.page_range
        if array is None:
            col.tiles.clear()
            col.info_item.setText(f"{what}\n")
            self._size_text(col, start, end)
            self._place_captions(col)
            return
        sample = np.asarray(array[0])
        gradient = mode == "grad"
        levels = style.symmetric_levels(sample) if gradient else style.activation_levels(sample)
        col.tiles.dim = 0.35 if dim else 1.0
        # a vector is drawn as one column of D pixels
        stack = sample[start:end] if col.spatial else sample.reshape(1, -1, 1)
        col.tiles.show(stack, levels, gradient, start if col.spatial else 0, self._cells(col))
        col.info_item.setText(f"{what}\n{style.levels_text(levels, gradient)}")
        self._size_text(col, start, end)
        self._place_captions(col)

    def _size_text(self, col: Column, start: int, end: int) -> None:
        if not col.spatial:
            col.size_item.setText(text.units_text(col.shape[0]))
            return
        C, h, w = col.shape
        col.size_item.setText(text.maps_text(C, h, w) if end - start >= C else text.page_text(start + 1, end, C, h, w))

    def _show_loss(self, col: Column, rec: StepRecord | None) -> None:
        key = (id(rec),)
        if col.shown == key:
            return
        col.shown = key
        area = col.bar_area
        if rec is None:
            for bar, value in zip(col.bars, col.bar_values):
                bar.setRect(QtCore.QRectF())
                value.setText("")
            col.info_item.setText(text.loss_texts(None, None, None))
            self._place_captions(col)
            return
        probs = np.asarray(rec.probs[0])
        truth = int(rec.batch_y[0]) if rec.batch_y is not None and len(rec.batch_y) else -1
        pred = int(np.argmax(probs))
        row_h = col.box.row_h
        fm = QtGui.QFontMetricsF(col.bar_values[0].font()) if col.bar_values else None
        for k, (bar, value) in enumerate(zip(col.bars, col.bar_values)):
            w = float(probs[k]) * area.width()
            bar.setRect(QtCore.QRectF(area.left(), area.top() + k * row_h + row_h * 0.15, max(w, 1.0), row_h * 0.7))
            color = style.TRUE_CLASS if k == truth else (style.PREDICTED if k == pred else style.BAR)
            bar.setBrush(QtGui.QBrush(color))
            value.setText(f"{probs[k]:.2f}")
            value.setPos(area.right() + 4, area.top() + k * row_h + (row_h - fm.height()) / 2)
        col.info_item.setText(text.loss_texts(rec.loss, float(probs[truth]) if truth >= 0 else None, pred))
        self._place_captions(col)

    def _mark(self, last: StepRecord | None, update_rec: StepRecord | None) -> None:
        executed = nxt = sent = None
        if last is not None:
            executed = self._column_for(last.phase, last.layer)
            if last.phase == "backward" and last.layer is not None:
                sent = last.layer            # the column below layer k is column k (the input column for k = 0)
        phase, layer = self.next_phase if self.next_phase is not None else (None, None)
        if phase is not None:
            nxt = self._column_for(phase, layer)
        if executed is not None and executed != self.executed_column and self.columns[executed].box is not None:
            shown = QtCore.QRectF(self.columns[executed].rect)      # follow the wave when the columns scroll
            if sent is not None:
                shown = shown.united(self.columns[sent].rect)       # with where its gradient went
            self.view.follow(shown, [c.rect.left() for c in self.columns])
        self.executed_column, self.next_column, self.sent_column = executed, nxt, sent
        backward = phase in ("backward", "update") or (last is not None and last.phase == "backward")
        for ci, col in enumerate(self.columns):
            tinted = ci == executed or (last is not None and last.phase == "update" and self._has_params(col))
            col.highlight.setVisible(tinted or ci == sent)
            col.highlight.setBrush(QtGui.QBrush(style.with_alpha(style.HIGHLIGHT, 45 if tinted else 22)))
            is_next = ci == nxt or (phase == "update" and self._has_params(col))
            col.outline.setVisible(is_next)
            if is_next:
                mark = text.NEXT_UPDATE if phase == "update" else \
                    (text.NEXT_BACKWARD if phase == "backward" else text.NEXT_FORWARD)
                col.mark_item.setText(_(mark))
                col.mark_item.setBrush(QtGui.QBrush(style.NEXT))
            elif tinted:
                mark = text.UPDATED if last.phase == "update" else text.JUST_RAN
                col.mark_item.setText(_(mark))
                col.mark_item.setBrush(QtGui.QBrush(style.HIGHLIGHT))
            elif ci == sent:
                col.mark_item.setText(_(text.SENT))
                col.mark_item.setBrush(QtGui.QBrush(style.HIGHLIGHT))
            else:
                col.mark_item.setText("")
        arrow_color = style.GRADIENT_CMAP.map(0.08, mode="qcolor") if backward else style.dim_text_color(self)
        for a in self.arrows:
            a.setText("←" if backward else "→")
            a.setBrush(QtGui.QBrush(arrow_color))

    def _has_params(self, col: Column) -> bool:
        return col.kind == "layer" and bool(self.network.layers[col.layer].params)

    def _column_for(self, phase: str, layer: int | None) -> int | None:
        if phase in ("forward", "backward") and layer is not None:
            return layer + 1
        if phase == "loss":
            return len(self.columns) - 1
        return None

    def _update_header(self) -> None:
        wrong = getattr(self, "_mistakes", (None, False))[1]
        self.header.set_texts(*text.header_texts(self.network, self.records[-1] if self.records else None,
                                                 self.next_phase, wrong))

    # -- layout (pixels; recomputed on resize and text size only) ----------------------------
    def changeEvent(self, ev: QtCore.QEvent) -> None:
        super().changeEvent(ev)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.ApplicationFontChange):
            self._fonts = self._make_fonts()
            self.header.setFont(style.font(style.FONT_TITLE_PT, bold=True))
            self._relayout()

    def _relayout(self) -> None:
        if not self.columns:
            return
        fonts = self._fonts
        for col in self.columns:
            for t in (col.title_item, col.mark_item, col.info_item, col.size_item, *col.bar_labels, *col.bar_values):
                t.set_font(fonts.title if t._role == "title" else fonts.small)
        for a in self.arrows:
            a.set_font(fonts.arrow)
        vp = self.view.maximumViewportSize()
        geo = layout([c.spec for c in self.columns], vp.width(), vp.height(), fonts)
        if geo.width > vp.width():        # a horizontal scroll bar will take some height
            geo = layout([c.spec for c in self.columns], vp.width(),
                         vp.height() - self.view.horizontalScrollBar().sizeHint().height(), fonts)
        self.scene.setSceneRect(0, 0, geo.width, geo.height)
        for col, box in zip(self.columns, geo.boxes):
            col.box = box
            col.highlight.setRect(box.rect)
            col.outline.setRect(box.rect.adjusted(1, 1, -1, -1))
            col.title_item.set_center(box.center, box.title_top)
            col.size_item.set_center(box.center, box.title_top + fonts.lines()[0])
            col.mark_item.set_center(box.center, box.mark_top)
            col.inspect_bar.setRect(QtCore.QRectF(box.rect.left() + 6, box.map_area.top() - 5,
                                                  box.rect.width() - 12, 4))
            if col.kind == "loss":
                area = box.bar_area
                for k, (track, lab) in enumerate(zip(col.tracks, col.bar_labels)):
                    track.setRect(QtCore.QRectF(area.left(), area.top() + k * box.row_h + box.row_h * 0.15,
                                                area.width(), box.row_h * 0.7))
                    lab.setPos(area.left() - 4 - lab.boundingRect().width(),
                               area.top() + k * box.row_h + (box.row_h - lab.boundingRect().height()) / 2)
            else:
                self._place_images(col)
            col.shown = ()
            self._place_captions(col)
        for arrow, pos in zip(self.arrows, geo.arrows):
            arrow.set_center(pos.x(), pos.y())
        self.select_layer(self.selected)
        if self.network is not None:
            self.show_state(self.records, self.next_phase)

    def _cells(self, col: Column) -> list[QtCore.QRectF]:
        """The cells of the channels on the column's current page (one strip for a vector)."""
        if col.box is None:
            return []
        start, end = col.page_range
        return col.box.cells[:end - start] if col.spatial else col.box.cells[:1]

    def _place_images(self, col: Column) -> None:
        if col.box is not None and col.tiles is not None:
            col.tiles.place(self._cells(col), col.page_range[0] if col.spatial else 0)

    def _place_captions(self, col: Column) -> None:
        box = col.box
        if box is None:
            return
        col.info_item.set_center(box.center, box.caption_top)
        col.size_item.set_center(box.center, col.size_item._anchor[1])
        # a caption wider than its column (a long number): widen the column once, never squeeze or clip
        need = max(col.info_item.boundingRect().width(), col.size_item.boundingRect().width()) + 8
        if need > box.rect.width() and need > col.spec.wider:
            col.spec.wider = need
            QtCore.QTimer.singleShot(0, self._relayout)

    # -- interaction -------------------------------------------------------------------------
    def _on_click(self, pos: QtCore.QPointF) -> None:
        for ci, col in enumerate(self.columns):
            if col.size_item.sceneBoundingRect().contains(pos) and col.spatial and \
                    col.box is not None and col.box.per_page < col.shape[0]:
                self.next_page(ci)
                return
            if col.kind == "layer" and col.rect.contains(pos):
                self.layerClicked.emit(col.layer)
                return

    def export_target(self) -> QtWidgets.QGraphicsView:
        """What File ▸ Export ▸ Pipeline writes: the whole scene (also the part scrolled out of view)."""
        return self.view
