"""SamplePanel: the batch's images with their labels, and after the loss phase p and the loss.

samples.set_network(net); samples.set_class_names(dataset.class_names); samples.show_state(records, next_phase)
The bar chart shows sample `selected`'s softmax probabilities: the true class in green, the
predicted (arg-max) class in orange, the rest grey. Click an image to select its sample.
"""

from __future__ import annotations

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
            self.image_plots[k].setTitle(title, size=f"{style.FONT_PT if n == 1 else style.FONT_SMALL_PT}pt",
                                         color=style.text_color(self))
        if len(x) > MAX_IMAGES:
            self.image_plots[-1].setTitle(self.image_plots[-1].titleLabel.text + f" (+{len(x) - MAX_IMAGES})")

    # -- drawing ---------------------------------------------------------------------
    def _name(self, k: int) -> str:
        if self.class_names and k < len(self.class_names):
            return class_label(self.class_names[k])
        return str(k)

    def _set_ticks(self) -> None:
        K = self.network.n_classes
        self.bars_plot.getAxis("bottom").setTicks([[(k, self._name(k)) for k in range(K)]])

    def _ensure_images(self, n: int) -> None:
        """Keep exactly max(n, 1) image plots (rebuilt only when the batch size changes)."""
        want = max(n, 1)
        if len(self.image_plots) == want:
            if n == 0:
                self.image_items[0].clear()
                self.image_plots[0].setTitle(_("no batch yet"), size=f"{style.FONT_PT}pt")
            return
        self.images_row.clear()
        self.image_plots, self.image_items = [], []
        per_row = int(np.ceil(np.sqrt(want)))
        for k in range(want):
            p = self.images_row.addPlot(row=k // per_row, col=k % per_row)
            p.hideAxis("left")
            p.hideAxis("bottom")
            p.setMenuEnabled(False)
            p.setMouseEnabled(False, False)
            p.hideButtons()
            p.invertY(True)
            p.setAspectLocked(True)
            img = pg.ImageItem()
            img.setLookupTable(style.ACTIVATION_LUT)
            p.addItem(img)
            self.image_plots.append(p)
            self.image_items.append(img)
        if n == 0:
            self.image_plots[0].setTitle(_("no batch yet"), size=f"{style.FONT_PT}pt")

    def _show_probs(self, rec: StepRecord | None) -> None:
        if rec is None:
            self.probs = None
            self.bars.setOpts(x=[], height=[])
            self.bar_text.setText("")
            return
        s = min(self.selected, rec.probs.shape[0] - 1)
        probs = np.asarray(rec.probs[s], dtype=np.float64)
        self.probs = probs
        truth, pred = int(rec.batch_y[s]), int(np.argmax(probs))
        brushes = [pg.mkBrush(style.TRUE_CLASS if k == truth else style.PREDICTED if k == pred else style.BAR)
                   for k in range(len(probs))]
        self.bars.setOpts(x=np.arange(len(probs)), height=probs, brushes=brushes)
        self.bar_text.setText(f"p({self._name(truth)}) = {probs[truth]:.2f}")
        self.bar_text.setPos(truth, min(1.0, probs[truth] + 0.12))

    def _click(self, ev) -> None:
        for k, p in enumerate(self.image_plots):
            if p.sceneBoundingRect().contains(ev.scenePos()) and self.records:
                self.selected = k
                self.show_state(self.records)
                return
