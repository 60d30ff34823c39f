"""Pieces the inspector tabs share: a column of image plots with scales, hover read-out and clicks.

Also `LayerState`: what the records say about one layer (its forward, backward and update records).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.i18n import _
from visualcnn.records import StepRecord

#: no inspector map is drawn smaller than this (px, short side): the panel scrolls instead
MIN_MAP_PX = 150


def hover_hint() -> str:
    return _("hover over a map to read its values")


@dataclass
class LayerState:
    """The records of one layer in the current iteration (None where that phase has not run)."""

    network: object
    layer: int
    records: Sequence[StepRecord]
    next_phase: tuple[str, int | None] | None
    forward: StepRecord | None = None
    backward: StepRecord | None = None
    loss: StepRecord | None = None
    update: StepRecord | None = None

    @classmethod
    def of(cls, network, layer: int, records: Sequence[StepRecord], next_phase) -> "LayerState":
        st = cls(network, layer, records, next_phase)
        for r in records:
            if r.phase == "forward" and r.layer == layer:
                st.forward = r
            elif r.phase == "backward" and r.layer == layer:
                st.backward = r
            elif r.phase == "loss":
                st.loss = r
            elif r.phase == "update":
                st.update = r
        return st

    @property
    def layer_obj(self):
        return self.network.layers[self.layer]

    @property
    def batch_size(self) -> int:
        return int(self.records[0].batch_x.shape[0]) if self.records else 1


def not_run_yet(phase: str, layer: int) -> str:
    """'forward through layer 3 has not run yet in this iteration' (phase: 'forward' or 'backward')."""
    if phase == "forward":
        return _("forward through layer {index} has not run yet in this iteration").format(index=layer)
    return _("backward through layer {index} has not run yet in this iteration").format(index=layer)


def channel_slice(array: np.ndarray | None, sample: int, channel: int) -> np.ndarray | None:
    """One sample's map: (H, W) of channel `channel` for NCHW, the (D,) vector for (N, D)."""
    if array is None:
        return None
    a = np.asarray(array)
    sample = min(sample, a.shape[0] - 1)
    if a.ndim == 4:
        return a[sample, min(channel, a.shape[1] - 1)]
    return a[sample].reshape(-1)


def kernel_grid(F: int, C: int) -> tuple[int, int]:
    """(rows, cols) of the tiles: filter f on row f and input channel c in column c, except that
    single-channel filters are laid out in a near-square grid (f row-major) instead of one tall column."""
    if C == 1:
        cols = int(np.ceil(np.sqrt(F)))
        return -(-F // cols), cols
    return F, C


def tile_kernels(w: np.ndarray) -> np.ndarray:
    """Conv filters (F, C, KH, KW) as one image (see kernel_grid), one NaN pixel between kernels."""
    F, C, KH, KW = w.shape
    rows, cols = kernel_grid(F, C)
    out = np.full((rows * (KH + 1) - 1, cols * (KW + 1) - 1), np.nan)
    for f in range(F):
        for c in range(C):
            r, q = divmod(f, cols) if C == 1 else (f, c)
            out[r * (KH + 1):r * (KH + 1) + KH, q * (KW + 1):q * (KW + 1) + KW] = w[f, c]
    return out


def as_matrix(a: np.ndarray) -> np.ndarray:
    """A parameter as a 2-D image: conv W tiled, dense W (out, in) as is, vectors as one row."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 4:
        return tile_kernels(a)
    if a.ndim == 3:                     # untied conv bias (F, H_out, W_out): side by side
        F, H, W = a.shape
        out = np.full((H, F * (W + 1) - 1), np.nan)
        for f in range(F):
            out[:, f * (W + 1):f * (W + 1) + W] = a[f]
        return out
    if a.ndim == 1:
        return a[None, :]
    return a


class MapPanel(QtWidgets.QWidget):
    """Image plots in a grid, each with its colour bar, a read-out line and click callbacks.

    The grid takes the number of columns that makes the smallest map largest for the panel's size
    (two maps side by side in a wide dock, stacked in a tall one); below MIN_MAP_PX per map it scrolls
    instead of shrinking them.

    panel.add("input x", gradient=False) -> index; panel.show(index, data2d, levels=None)
    on_click(index, (row, col)) is called when a pixel is clicked.
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setBackground(style.background_color(self))
        self.glw.ci.setSpacing(style.SPACING)
        self.status = QtWidgets.QLabel(hover_hint())
        self.status.setFont(style.font(style.FONT_SMALL_PT, mono=True))
        self.status.setWordWrap(True)
        self.scroll = QtWidgets.QScrollArea()
        self.scroll.setWidget(self.glw)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.scroll, 1)
        box.addWidget(self.status)
        self._grid = 0
        self.plots: list[style.ScaledImage] = []
        self.data: list[np.ndarray | None] = []
        self.names: list[str] = []
        self.on_click: Callable[[int, tuple[int, ...]], None] | None = None
        self.glw.scene().sigMouseMoved.connect(self._hover)
        self.glw.scene().sigMouseClicked.connect(self._click)

    def add(self, name: str, gradient: bool = False) -> int:
        row = len(self.plots)
        self.plots.append(style.image_item_with_scale(self.glw.ci, row, 0, name, gradient))
        self.plots[-1].set_title(name)
        self.data.append(None)
        self.names.append(name)
        self._grid = 0
        self._arrange()
        return row

    def resizeEvent(self, ev: QtGui.QResizeEvent) -> None:
        super().resizeEvent(ev)
        self._arrange()

    def changeEvent(self, ev: QtCore.QEvent) -> None:
        super().changeEvent(ev)
        if ev.type() == QtCore.QEvent.Type.ApplicationFontChange:
            for sp, name in zip(self.plots, self.names):
                sp.set_title(name)
            self._grid = 0
            self._arrange()

    def _arrange(self) -> None:
        """Lay the maps out in the number of grid columns that makes the smallest one largest."""
        n = len(self.plots)
        if n == 0:
            return
        W = self.scroll.viewport().width()
        H = self.scroll.viewport().height()
        # a colour bar is as wide as its numbers need ("−0.00123"): measure, never assume
        title_h = style.plot_title_height()
        bar_w = max([style.COLOR_BAR_WIDTH, *(sp.bar.boundingRect().width() + style.SPACING for sp in self.plots)])
        # a grid too tall for the panel scrolls (each row at least MIN_MAP_PX), so height never forces a map smaller
        cell = {g: min((W - g * bar_w) / g,
                       max(MIN_MAP_PX, (H - math.ceil(n / g) * (title_h + style.SPACING)) / math.ceil(n / g)))
                for g in range(1, n + 1)}
        grid = max(cell, key=lambda g: (cell[g], -g))
        rows = math.ceil(n / grid)
        self.glw.setMinimumHeight(int(rows * (MIN_MAP_PX + title_h + style.SPACING)))
        if grid == self._grid:
            return
        self._grid = grid
        ci = self.glw.ci
        for sp in self.plots:
            ci.removeItem(sp.plot)
            ci.removeItem(sp.bar)
        for k, sp in enumerate(self.plots):
            r, c = divmod(k, grid)
            ci.addItem(sp.plot, row=r, col=2 * c)
            ci.addItem(sp.bar, row=r, col=2 * c + 1)
        for c in range(2 * len(self.plots)):         # the maps share the width equally, the bars take what they need
            ci.layout.setColumnStretchFactor(c, 1 if c % 2 == 0 and c < 2 * grid else 0)

    def set_gradient(self, index: int, gradient: bool) -> None:
        sp = self.plots[index]
        if sp.gradient != gradient:
            sp.gradient = gradient
            sp.bar.setColorMap(style.GRADIENT_CMAP if gradient else style.ACTIVATION_CMAP)

    def show(self, index: int, data: np.ndarray | None, title: str | None = None,
             levels: tuple[float, float] | None = None) -> None:
        sp = self.plots[index]
        if title is not None and title != self.names[index]:
            self.names[index] = title
            sp.set_title(title)
        if data is not None:
            data = np.asarray(data, dtype=np.float64)
            if data.ndim == 1:
                data = data[None, :]
            sp.plot.setAspectLocked(data.shape[0] > 1 and data.shape[0] * 8 > data.shape[1])
        self.data[index] = data
        sp.show(data, levels)
        self._arrange()                 # the bar's numbers may have widened it: maybe fewer maps a row now

    def _index_at(self, pos) -> tuple[int, int, int] | None:
        for k, sp in enumerate(self.plots):
            if self.data[k] is None or not sp.plot.sceneBoundingRect().contains(pos):
                continue
            p = sp.plot.vb.mapSceneToView(pos)
            r, c = int(np.floor(p.y())), int(np.floor(p.x()))
            h, w = self.data[k].shape
            if 0 <= r < h and 0 <= c < w:
                return k, r, c
        return None

    def _hover(self, pos) -> None:
        hit = self._index_at(pos)
        if hit is None:
            return
        k, r, c = hit
        v = self.data[k][r, c]
        where = f"[{c}]" if self.data[k].shape[0] == 1 else f"[{r}, {c}]"
        self.status.setText(f"{self.names[k]} {where} = {style.format_number(v, 5) if np.isfinite(v) else '—'}")

    def _click(self, ev) -> None:
        hit = self._index_at(ev.scenePos())
        if hit is not None and self.on_click is not None:
            k, r, c = hit
            self.on_click(k, (c,) if self.data[k].shape[0] == 1 else (r, c))


def spin(label: str, layout: QtWidgets.QHBoxLayout, maximum: int = 0) -> QtWidgets.QSpinBox:
    """A labelled QSpinBox added to `layout`."""
    lab = QtWidgets.QLabel(label)
    box = QtWidgets.QSpinBox()
    box.setRange(0, max(0, maximum))
    layout.addWidget(lab)
    layout.addWidget(box)
    return box


def set_max(box: QtWidgets.QSpinBox, maximum: int) -> None:
    box.blockSignals(True)
    box.setRange(0, max(0, int(maximum)))
    box.setEnabled(maximum > 0)
    box.blockSignals(False)


def message_label(text: str = "") -> QtWidgets.QLabel:
    lab = QtWidgets.QLabel(text)
    lab.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
    lab.setWordWrap(True)
    lab.setFont(style.font(style.FONT_TITLE_PT))
    return lab
