"""How a pipeline column paints its feature maps: all of them as ONE picture (ui/views/pipeline.py places them).

A column's channel maps share a shape, a colour map and a scale, and sit in a grid of equal cells. Painting each
as its own scaled image cost one QPainter.drawImage (and one frame) per channel, ~22 a frame on TinyVGG — the
largest share of a redraw. Here the column's `MapTiles` item colours the maps of the page shown (one vectorised
look-up for all of them), enlarges them to the cells' device pixels (nearest neighbour, as a scaled image draws)
into one buffer, and blits that with one drawImage and the frames with one drawRects. The buffer is made when
the column is first painted after a change: a column scrolled out of view costs nothing.

`MapItem` stays one per channel: what the column shows of that channel (`image`, `levels`) and where (its local
coordinates are the map's pixels, so a marker parented to it outlines a unit); it paints nothing itself.
"""

from __future__ import annotations

import math

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style

_NO_CONTENTS = QtWidgets.QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


def _bgra(lut: np.ndarray) -> np.ndarray:
    """A (256, 3) RGB look-up table as 257 premultiplied BGRA entries (QImage ARGB32 in memory); the last,
    transparent, is for NaN."""
    out = np.zeros((257, 4), dtype=np.uint8)
    out[:256, 0], out[:256, 1], out[:256, 2], out[:256, 3] = lut[:, 2], lut[:, 1], lut[:, 0], 255
    return out


_LUTS = {False: _bgra(np.asarray(style.ACTIVATION_LUT)), True: _bgra(np.asarray(style.GRADIENT_LUT))}


def colour(maps: np.ndarray, levels: tuple[float, float], gradient: bool) -> np.ndarray:
    """(n, h, w) values → (n, h, w, 4) BGRA bytes: levels[0] … levels[1] spread over the map's 256 colours
    (below and above clip to the ends, as pyqtgraph's ImageItem does), NaN transparent."""
    lo, hi = levels
    scale = 256.0 / (hi - lo) if hi > lo else 0.0
    t = (np.asarray(maps, dtype=np.float32) - np.float32(lo)) * np.float32(scale)
    np.clip(t, 0, 255, out=t)
    nan = np.isnan(t)
    if nan.any():
        t[nan] = 256                                  # the transparent entry
    idx = t.astype(np.uint16)
    return _LUTS[bool(gradient)][idx]


class MapItem(QtWidgets.QGraphicsItem):
    """One channel of a column: its data, levels and cell (local coordinates = the map's pixels). Its column's
    MapTiles paints it; this item only carries what is shown, for tests, markers and the lessons."""

    def __init__(self, tiles: "MapTiles") -> None:
        super().__init__()
        self.setFlag(_NO_CONTENTS, True)
        self.setZValue(0.5)
        self.tiles = tiles
        self.image: np.ndarray | None = None
        self.levels: tuple[float, float] | None = None
        self.cell = QtCore.QRectF()

    def boundingRect(self) -> QtCore.QRectF:
        if self.image is None:
            return QtCore.QRectF()
        h, w = self.image.shape[:2]
        return QtCore.QRectF(0, 0, w, h)

    def paint(self, painter, option, widget=None) -> None:       # painted by its column's MapTiles
        pass

    def clear(self) -> None:
        self.prepareGeometryChange()
        self.image, self.levels = None, None

    def setRect(self, rect: QtCore.QRectF) -> None:
        """Map the map's pixels onto `rect` (scene pixels), as pyqtgraph's ImageItem.setRect does."""
        self.cell = QtCore.QRectF(rect)
        self._place()

    def _place(self) -> None:
        self.setPos(self.cell.topLeft())
        if self.image is not None and self.image.size:
            h, w = self.image.shape[:2]
            self.setTransform(QtGui.QTransform.fromScale(self.cell.width() / w, self.cell.height() / h))


class MapTiles(QtWidgets.QGraphicsItem):
    """Paints a column's maps (the channels shown) and their frames at once; see the module's docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.setZValue(0)
        self.dim = 1.0                                # opacity of the maps (not of their frames)
        self.maps: list[MapItem] = []
        self._stack: np.ndarray | None = None        # (n, h, w) of the channels shown
        self._gradient = False
        self._cells: list[QtCore.QRectF] = []
        self._bounds = QtCore.QRectF()
        self._picture: tuple[float, QtGui.QImage, np.ndarray] | None = None   # (device pixel ratio, image, buffer)
        self._placed: tuple | None = None            # (cells, first channel, map size) the maps were placed for

    def add_map(self) -> MapItem:
        item = MapItem(self)
        self.maps.append(item)
        return item

    def show(self, stack: np.ndarray | None, levels: tuple[float, float], gradient: bool,
             first: int, cells: list[QtCore.QRectF]) -> None:
        """Show `stack` (n, h, w) — channels first … first + n − 1 — in `cells` (one per channel, equal sizes)."""
        shown = range(first, first + (0 if stack is None else len(stack)))
        for c, item in enumerate(self.maps):
            if c in shown:
                image = stack[c - first]
                if item.image is None or item.image.shape != image.shape:
                    item.prepareGeometryChange()
                item.image, item.levels = image, levels
            elif stack is None and item.image is not None:
                item.clear()
        self._stack, self._gradient = stack, gradient
        self.place(cells, first)

    def place(self, cells: list[QtCore.QRectF], first: int) -> None:
        """Put the maps first … first + len(cells) − 1 in `cells`; the others are hidden."""
        self._picture = None
        self.update()
        # whole pixels, all of one size: crisp frames, and every map enlarged alike
        if cells:
            cw, ch = max(1, round(cells[0].width())), max(1, round(cells[0].height()))
        snapped = [(round(r.left()), round(r.top()), cw, ch) for r in cells]
        key = (tuple(snapped), first, None if self._stack is None else self._stack.shape[1:])
        if key == self._placed:
            return                  # the same cells and map size: only the pixels changed
        self._placed = key
        self.prepareGeometryChange()
        self._cells = [QtCore.QRectF(*r) for r in snapped]
        bounds = QtCore.QRectF()
        for r in self._cells:
            bounds = bounds.united(r)
        self._bounds = bounds
        for c, item in enumerate(self.maps):
            k = c - first
            item.setVisible(0 <= k < len(cells))
            if 0 <= k < len(cells):
                item.setRect(self._cells[k])

    def clear(self) -> None:
        self.show(None, (0.0, 1.0), False, 0, self._cells)

    def boundingRect(self) -> QtCore.QRectF:
        return self._bounds.adjusted(-1, -1, 1, 1) if not self._bounds.isEmpty() else QtCore.QRectF()

    def _render(self, dpr: float) -> tuple[QtGui.QImage, QtCore.QRectF]:
        """The maps shown, enlarged to their cells at `dpr` device pixels per scene pixel, as one image."""
        if self._picture is not None and self._picture[0] == dpr:
            return self._picture[1], self._bounds
        b = self._bounds
        n = 0 if self._stack is None else min(len(self._stack), len(self._cells))
        W, H = max(1, math.ceil(b.width() * dpr)), max(1, math.ceil(b.height() * dpr))
        buf = np.zeros((H, W, 4), dtype=np.uint8)
        if n:
            stack = self._stack[:n]
            _, h, w = stack.shape
            cell = self._cells[0]
            dw, dh = max(1, round(cell.width() * dpr)), max(1, round(cell.height() * dpr))
            # each device pixel shows the map pixel under its centre
            rows = np.minimum(((np.arange(dh) + 0.5) * (h / dh)).astype(np.intp), h - 1)
            cols = np.minimum(((np.arange(dw) + 0.5) * (w / dw)).astype(np.intp), w - 1)
            # colour the small maps first, then enlarge the colours (fewer values to look up)
            big = colour(stack, self._levels(), self._gradient)[:, rows][:, :, cols]
            for k in range(n):
                x0 = min(max(0, round((self._cells[k].left() - b.left()) * dpr)), W - dw) if W >= dw else 0
                y0 = min(max(0, round((self._cells[k].top() - b.top()) * dpr)), H - dh) if H >= dh else 0
                tile = big[k, :H - y0, :W - x0]
                buf[y0:y0 + tile.shape[0], x0:x0 + tile.shape[1]] = tile
        image = QtGui.QImage(buf.data, W, H, 4 * W, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(dpr)
        self._picture = (dpr, image, buf)        # the buffer is kept alive with the image that reads it
        return image, b

    def _levels(self) -> tuple[float, float]:
        for item in self.maps:
            if item.levels is not None:
                return item.levels
        return (0.0, 1.0)

    def paint(self, painter: QtGui.QPainter, option, widget=None) -> None:
        if self._bounds.isEmpty():
            return
        dev = painter.device()
        dpr = dev.devicePixelRatioF() if dev is not None else 1.0
        if self._stack is not None:
            image, b = self._render(dpr)
            opacity = painter.opacity()
            painter.setOpacity(opacity * self.dim)
            painter.drawImage(b.topLeft(), image)
            painter.setOpacity(opacity)
        pen = QtGui.QPen(style.FRAME, 1)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        # just outside each map: a frame never covers a pixel of it
        painter.drawRects([r.adjusted(-0.5, -0.5, 0.5, 0.5) for r in self._cells])


__all__ = ["MapItem", "MapTiles", "colour"]
