"""SamplePanel: the batch's images with their labels, and after the loss phase p and the loss.

samples.set_network(net); samples.set_class_names(dataset.class_names); samples.show_state(records, next_phase)
The bar chart shows sample `selected`'s softmax probabilities: the true class in green, the
predicted (arg-max) class in orange, the rest grey. Click an image to select its sample.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.in_sight import on_coming_into_sight, out_of_sight
from visualcnn.data import class_label
from visualcnn.i18n import _
from visualcnn.records import StepRecord

MAX_IMAGES = 8
TITLE_PX = 30           # the height pyqtgraph gives a plot's title row
MIN_TITLED_PX = 48      # an image smaller than this with a title above it: titles go (they stay in the tooltips)


class SamplePanel(QtWidgets.QWidget):
    """The current input images (up to 8), the probabilities of the selected one, and the loss."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = None
        self.class_names: list[str] | None = None
        self.records: list[StepRecord] = []
        self.input_batch: tuple[np.ndarray, np.ndarray] | None = None    # shown before the first phase
        self.selected = 0
        self.loss_label = QtWidgets.QLabel(_("loss: — (step to the loss phase)"))
        self.loss_label.setFont(style.font(style.FONT_LARGE_PT - 4, bold=True))
        self.loss_label.setWordWrap(True)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(style.background_color(self))
        self.glw.ci.setSpacing(2)
        self.images_row = self.glw.addLayout(row=0, col=0)
        self.bars_plot = self.glw.addPlot(row=0, col=1)
        self.bars_plot.setMenuEnabled(False)
        self.bars_plot.setMouseEnabled(False, False)
        self.bars_plot.hideButtons()
        self.bars_plot.setYRange(0, 1, padding=0)
        self.bars_plot.getAxis("left").setTicks([[(0, "0"), (0.5, "0.5"), (1, "1")]])
        for axis in ("left", "bottom"):
            self.bars_plot.getAxis(axis).setStyle(tickFont=style.font(style.FONT_SMALL_PT))
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7)
        self.bars_plot.addItem(self.bars)
        self.bar_text = pg.TextItem("", anchor=(0.5, 1.0), color=style.text_color(self))
        self.bars_plot.addItem(self.bar_text)
        self.glw.ci.layout.setColumnStretchFactor(0, 2)
        self.glw.ci.layout.setColumnStretchFactor(1, 3)
        self.glw.scene().sigMouseClicked.connect(self._click)
        self.glw.installEventFilter(self)
        legend = QtWidgets.QLabel(
            f"<span style='color:{style.TRUE_CLASS.name()}'>■</span> " + _("true class") + " &nbsp; "
            f"<span style='color:{style.PREDICTED.name()}'>■</span> " + _("predicted") + " &nbsp; "
            f"<span style='color:{style.BAR.name()}'>■</span> " + _("other"))
        legend.setFont(style.font(style.FONT_SMALL_PT))
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(style.SPACING, style.SPACING, style.SPACING, style.SPACING)
        box.addWidget(self.loss_label)
        box.addWidget(self.glw, 1)
        box.addWidget(legend)
        self.image_plots: list[pg.PlotItem] = []
        self._titles: list[str] = []           # each image's whole title (shown cut to fit, whole in its tooltip)
        self._grid = (0, True)                 # (columns, titles shown) of the image grid
        self._bar_texts = ("", "")             # the bar chart's label: with the class's name, and without
        self.image_items: list[pg.ImageItem] = []
        self.probs: np.ndarray | None = None
        self.setMinimumSize(300, 220)

    # -- public API ----------------------------------------------------------------
    def set_class_names(self, names: Sequence[str] | None) -> None:
        self.class_names = None if names is None else [str(n) for n in names]
        if self.network is not None:
            self._set_ticks()
            self.show_state(self.records, None)

    def set_network(self, network) -> None:
        self.network = network
        self.records = []
        self.input_batch = None
        self.selected = 0
        self._set_ticks()
        self.bars_plot.setXRange(-0.6, network.n_classes - 0.4, padding=0)
        self._ensure_images(0)
        self.show_state([], ("forward", 0))

    def show_state(self, records: Sequence[StepRecord], next_phase=None) -> None:
        self.records = list(records)
        self._stale = out_of_sight(self)
        if self._stale:             # a tab behind another: drawn when it comes to the front
            on_coming_into_sight(self, lambda: self._stale and not out_of_sight(self) and self.show_state(self.records))
        if self.network is None or self._stale:
            return
        if not self.records:
            self._show_probs(None)
            if self.input_batch is not None:
                self._show_images(*self.input_batch, None)
                self.loss_label.setText(_("loss: — (step to the loss phase)"))
            else:
                self._ensure_images(0)
                self.loss_label.setText(_("loss: — (step to fetch a batch)"))
            return
        first = self.records[0]
        loss_rec = next((r for r in self.records if r.phase == "loss"), None)
        self._show_images(first.batch_x, first.batch_y, loss_rec)
        self._show_probs(loss_rec)
        if loss_rec is None:
            self.loss_label.setText(_("loss: — (step to the loss phase)"))
        else:
            acc = (" · " + _("accuracy {accuracy}").format(accuracy=f"{loss_rec.accuracy:.0%}")
                   if len(first.batch_x) > 1 else "")
            self.loss_label.setText(_("loss C = {loss}").format(loss=f"{loss_rec.loss:.4f}") + acc)

    def show_input(self, x: np.ndarray | None, y: np.ndarray | None = None) -> None:
        """The iteration's images x (N, C, H, W) and labels y (N,), shown while no phase has run yet."""
        self.input_batch = None if x is None else (x, y)
        if self.network is not None and not self.records:
            self.show_state([])

    def _show_images(self, x: np.ndarray, y: np.ndarray, loss_rec: StepRecord | None) -> None:
        n = min(len(x), MAX_IMAGES)
        self.selected = min(self.selected, len(x) - 1)
        self._ensure_images(n)
        pred = loss_rec.probs.argmax(axis=1) if loss_rec is not None else None
        levels = style.activation_levels(x)          # one scale for the batch: computed once, not per image
        for k in range(n):
            img = x[k].mean(axis=0) if x.shape[1] != 3 else x[k].mean(axis=0)
            self.image_items[k].setImage(np.asarray(img), levels=levels, autoLevels=False)
            title = f"{'▸ ' if k == self.selected else ''}{self._name(int(y[k]))}"
            if pred is not None:
                ok = int(pred[k]) == int(y[k])
                title += f" → {self._name(int(pred[k]))} {'✓' if ok else '✗'}"
            if k == n - 1 and len(x) > MAX_IMAGES:
                title += f" (+{len(x) - MAX_IMAGES})"
            self._set_title(k, title, style.FONT_PT if n == 1 else style.FONT_SMALL_PT)
        self._fit_titles()

    def _set_title(self, k: int, title: str, pt: float) -> None:
        self._titles[k] = title
        self.image_plots[k].setTitle(title, size=f"{pt}pt", color=style.text_color(self))
        self.image_plots[k].setToolTip(title)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        # the plots' view, not the panel: it also shrinks when the loss line above it wraps to two lines
        if watched is self.glw and event.type() == QtCore.QEvent.Type.Resize:
            self._arrange()
            self._set_ticks()
            self._fit_bar_text()
        return False

    def _arrange(self) -> None:
        """The images in as many columns as make them largest in the space they have, with their titles only
        where an image keeps at least MIN_TITLED_PX beside them: three rows of titles in a short dock (1280×800)
        left the images no height at all."""
        n = len(self.image_plots)
        if n == 0:
            return
        area_w, area_h = self.glw.width() * 2 / 5, self.glw.height()     # the images' column: stretch 2 of 5

        def side(columns: int, title_h: float) -> float:
            return min(area_w / columns, area_h / math.ceil(n / columns) - title_h)
        titled = max(side(c, TITLE_PX) for c in range(1, n + 1)) >= MIN_TITLED_PX
        columns = max(range(1, n + 1), key=lambda c: side(c, TITLE_PX if titled else 0))
        if (columns, titled) == self._grid:
            return
        self._grid = (columns, titled)
        for p in self.image_plots:
            self.images_row.removeItem(p)
        for k, p in enumerate(self.image_plots):
            self.images_row.addItem(p, row=k // columns, col=k % columns)
        self._fit_titles()

    def _fit_titles(self, *_args) -> None:
        """Each image's title cut with "…" to its own width (the whole title in its tooltip), or none where the
        grid has no room for titles: a title's width used to be its plot's minimum, and colour-shapes' "red
        square → blue square ✗" pushed the grid and the bars past the dock's edge at 1280×800."""
        titled = self._grid[1]
        for p, full in zip(self.image_plots, self._titles):
            label = p.titleLabel
            if not titled or not full:
                if label.isVisible():
                    p.setTitle(None)
                label.setText("")              # a hidden title's text still counted in its plot's width
                continue
            fm = QtGui.QFontMetricsF(label.item.font())
            shown = fm.elidedText(full, QtCore.Qt.TextElideMode.ElideRight, max(0.0, p.width() - 4))
            if shown != label.text or not label.isVisible():
                p.setTitle(shown)
            label.setMinimumWidth(0)

    # -- drawing ---------------------------------------------------------------------
    def _name(self, k: int) -> str:
        if self.class_names and k < len(self.class_names):
            return class_label(self.class_names[k])
        return str(k)

    def _set_ticks(self) -> None:
        """The class names under the bars where they fit side by side, else the class numbers (twelve
        colour-shape names ran into each other); the names are in the bottom axis's tooltip then."""
        if self.network is None:
            return
        K = self.network.n_classes
        axis = self.bars_plot.getAxis("bottom")
        fm = QtGui.QFontMetricsF(style.font(style.FONT_SMALL_PT))
        names = [self._name(k) for k in range(K)]
        fits = max(fm.horizontalAdvance(n) for n in names) + 6 <= self.bars_plot.getViewBox().width() / K
        axis.setTicks([[(k, names[k] if fits else str(k)) for k in range(K)]])
        axis.setToolTip("" if fits else "\n".join(f"{k}: {n}" for k, n in enumerate(names)))

    def _ensure_images(self, n: int) -> None:
        """Keep exactly max(n, 1) image plots (rebuilt only when the batch size changes)."""
        want = max(n, 1)
        if len(self.image_plots) == want:
            if n == 0:
                self.image_items[0].clear()
                self._set_title(0, _("no batch yet"), style.FONT_PT)
            return
        self.images_row.clear()
        self.image_plots, self.image_items = [], []
        self._titles = [""] * want
        self._grid = (0, True)
        for k in range(want):
            p = self.images_row.addPlot(row=0, col=k)
            p.hideAxis("left")
            p.hideAxis("bottom")
            p.setMenuEnabled(False)
            p.setMouseEnabled(False, False)
            p.hideButtons()
            p.invertY(True)
            p.setAspectLocked(True)
            p.getViewBox().setDefaultPadding(0.0)      # the image fills its cell: a small dock has none to spare
            p.layout.setContentsMargins(1, 1, 1, 1)
            img = pg.ImageItem()
            img.setLookupTable(style.ACTIVATION_LUT)
            p.addItem(img)
            p.getViewBox().sigResized.connect(self._fit_titles)
            self.image_plots.append(p)
            self.image_items.append(img)
        self._arrange()
        if n == 0:
            self._set_title(0, _("no batch yet"), style.FONT_PT)

    def _show_probs(self, rec: StepRecord | None) -> None:
        if rec is None:
            self.probs = None
            self.bars.setOpts(x=[], height=[])
            self._bar_texts = ("", "")
            self.bar_text.setText("")
            return
        s = min(self.selected, rec.probs.shape[0] - 1)
        probs = np.asarray(rec.probs[s], dtype=np.float64)
        self.probs = probs
        truth, pred = int(rec.batch_y[s]), int(np.argmax(probs))
        brushes = [pg.mkBrush(style.TRUE_CLASS if k == truth else style.PREDICTED if k == pred else style.BAR)
                   for k in range(len(probs))]
        self.bars.setOpts(x=np.arange(len(probs)), height=probs, brushes=brushes)
        self._bar_texts = (f"p({self._name(truth)}) = {probs[truth]:.2f}", f"p = {probs[truth]:.2f}")
        self._fit_bar_text()
        # anchored along its width as the bar is along the axis: over a bar near either end it stays in the plot
        self.bar_text.setAnchor((truth / max(1, len(probs) - 1), 1.0))
        self.bar_text.setPos(truth, min(1.0, probs[truth] + 0.12))

    def _fit_bar_text(self) -> None:
        """p(true class) with the class's name where the plot is wide enough for it, else without it."""
        texts = self._bar_texts
        fm = QtGui.QFontMetricsF(self.bar_text.textItem.font())
        room = self.bars_plot.getViewBox().width() - 4
        self.bar_text.setText(texts[0] if fm.horizontalAdvance(texts[0]) <= room else texts[1])

    def _click(self, ev) -> None:
        for k, p in enumerate(self.image_plots):
            if p.sceneBoundingRect().contains(ev.scenePos()) and self.records:
                self.selected = k
                self.show_state(self.records)
                return
