"""Colours, colour maps, fonts and spacing for the whole GUI, and the helpers that apply them.

One place decides what an activation or a gradient looks like:
- activations: a sequential map (viridis), levels = the array's own min … max;
- gradients and signed parameters: a diverging blue–white–red map, levels fixed
  symmetric ±max|g| so that white is always exactly 0 and sign is never confused.
Fonts are sized for a projector at the back of a lecture hall. Text colours come
from the widget palette (light and dark themes both stay legible); only accents
(highlight, next, true/predicted class) are fixed colours chosen to read on both.
"""

from __future__ import annotations

import os

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtGui, QtWidgets

#: Qt's raster painter splits every fill or scaled image taller than ~96 px into 64-line pieces for a
#: thread pool of its own and waits for them: for the window's small pictures, waking those threads costs
#: more than the painting (a third of the GUI thread's time at F10, in futex calls, on two busy cores).
#: Read when Qt first paints, so set on import (before any view exists); a user's own setting wins.
os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")

_configured = False


def configure_pyqtgraph() -> None:
    """Global pyqtgraph options, set once: row-major images (NumPy's (row, col) = (y, x))."""
    global _configured
    if not _configured:
        pg.setConfigOptions(imageAxisOrder="row-major", antialias=True)
        _configured = True


configure_pyqtgraph()

# -- colour maps -------------------------------------------------------------------
ACTIVATION_CMAP: pg.ColorMap = pg.colormap.get("viridis")
#: blue (negative) – white (0) – red (positive); ColorBrewer RdBu, reversed so red = positive
GRADIENT_CMAP: pg.ColorMap = pg.ColorMap(
    pos=np.linspace(0.0, 1.0, 7),
    color=[(33, 102, 172), (103, 169, 207), (209, 229, 240), (247, 247, 247),
           (253, 219, 199), (239, 138, 98), (178, 24, 43)],
    name="gradient-RdBu")
ACTIVATION_LUT = ACTIVATION_CMAP.getLookupTable(nPts=256, alpha=False)
GRADIENT_LUT = GRADIENT_CMAP.getLookupTable(nPts=256, alpha=False)

# -- accents (legible on light and dark backgrounds) -----------------------------------
HIGHLIGHT = QtGui.QColor(255, 152, 0)        # the phase just executed
NEXT = QtGui.QColor(0, 150, 200)             # the phase the next step runs
TRUE_CLASS = QtGui.QColor(46, 160, 67)       # the label
PREDICTED = QtGui.QColor(255, 152, 0)        # the arg-max probability
BAR = QtGui.QColor(120, 130, 150)            # other probability bars
FRAME = QtGui.QColor(128, 128, 128, 160)     # thin frame around every map
GRID = QtGui.QColor(255, 255, 255, 170)      # pooling-window borders drawn over a map

# -- fonts and spacing (points / pixels) -------------------------------------------------
FONT_SMALL_PT = 10
FONT_PT = 12
FONT_TITLE_PT = 13
FONT_LARGE_PT = 22
SPACING = 8          # between widgets
MARGIN = 12          # around a view's content
GAP = 6              # between small maps
MAX_CHANNELS = 8     # feature maps drawn per pipeline column ("+N more" beyond)
MONO_FAMILY = "DejaVu Sans Mono"


def font(point_size: float = FONT_PT, bold: bool = False, mono: bool = False) -> QtGui.QFont:
    """A font of `point_size` at the base text size, scaled with the window's text size (ui.textsize)."""
    from ui.textsize import scale
    f = QtGui.QFont(MONO_FAMILY) if mono else QtGui.QFont()
    if mono:
        f.setStyleHint(QtGui.QFont.StyleHint.Monospace)
    f.setPointSizeF(round(point_size * scale() * 2) / 2)
    f.setBold(bold)
    return f


def text_color(widget: QtWidgets.QWidget | None = None) -> QtGui.QColor:
    """The palette's text colour (legible on the palette's window colour, light or dark)."""
    pal = widget.palette() if widget is not None else QtWidgets.QApplication.palette()
    return pal.color(QtGui.QPalette.ColorRole.WindowText)


def dim_text_color(widget: QtWidgets.QWidget | None = None) -> QtGui.QColor:
    c = QtGui.QColor(text_color(widget))
    c.setAlpha(150)
    return c


def background_color(widget: QtWidgets.QWidget | None = None) -> QtGui.QColor:
    pal = widget.palette() if widget is not None else QtWidgets.QApplication.palette()
    return pal.color(QtGui.QPalette.ColorRole.Window)


def is_dark(widget: QtWidgets.QWidget | None = None) -> bool:
    return background_color(widget).lightness() < 128


def with_alpha(color: QtGui.QColor, alpha: int) -> QtGui.QColor:
    c = QtGui.QColor(color)
    c.setAlpha(alpha)
    return c


# -- levels --------------------------------------------------------------------
_TINY = 1e-12


def activation_levels(a: np.ndarray | None) -> tuple[float, float]:
    """(min, max) of the finite values of `a`, widened when flat so the map never divides by 0."""
    if a is None or np.size(a) == 0:
        return (0.0, 1.0)
    a = np.asarray(a)
    lo, hi = float(a.min()), float(a.max())            # two reductions, no copy: the common, all-finite case
    if not (np.isfinite(lo) and np.isfinite(hi)):
        finite = a[np.isfinite(a)]
        if finite.size == 0:
            return (0.0, 1.0)
        lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < _TINY:
        lo, hi = lo - 0.5, hi + 0.5
    return (lo, hi)


def symmetric_levels(*arrays: np.ndarray | None) -> tuple[float, float]:
    """(−m, +m) with m = max|g| over all `arrays` (finite values), so 0 is the map's centre."""
    m = 0.0
    for a in arrays:
        if a is not None and np.size(a):
            a = np.asarray(a)
            lo, hi = float(a.min()), float(a.max())    # max|g| without an |a| copy, when all are finite
            if not (np.isfinite(lo) and np.isfinite(hi)):
                finite = a[np.isfinite(a)]
                lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
            m = max(m, -lo, hi)
    m = m if m > _TINY else 1.0
    return (-m, m)


def format_number(v: float, digits: int = 3) -> str:
    """A compact number for legends and scales, with a real minus sign."""
    v = float(v)
    if v == 0 or not np.isfinite(v):
        return "0" if v == 0 else str(v)
    return f"{v:.{digits}g}".replace("-", "−")


def levels_text(levels: tuple[float, float], symmetric: bool) -> str:
    lo, hi = levels
    return f"±{format_number(hi)}" if symmetric else f"{format_number(lo)} … {format_number(hi)}"


# -- images with a scale ----------------------------------------------------------------
def set_image(item: pg.ImageItem, data: np.ndarray | None, gradient: bool,
              levels: tuple[float, float] | None = None) -> tuple[float, float]:
    """Show `data` (2-D) on `item` with the right map and fixed levels; returns the levels used."""
    if data is None or np.size(data) == 0:
        item.clear()
        return (0.0, 1.0)
    data = np.asarray(data)
    if data.ndim == 1:
        data = data[:, None]
    if levels is None:
        levels = symmetric_levels(data) if gradient else activation_levels(data)
    item.setLookupTable(GRADIENT_LUT if gradient else ACTIVATION_LUT, update=False)
    item.setImage(data, levels=levels, autoLevels=False)
    return levels


#: room a colour bar with its numbers may take beside a map (px at the base text size; long numbers)
COLOR_BAR_BASE_WIDTH = 100


def plot_title_height() -> float:
    """Height of a plot title line at the current text size (px)."""
    return QtGui.QFontMetricsF(font(FONT_PT)).lineSpacing() + 10


def __getattr__(name: str):
    if name == "COLOR_BAR_WIDTH":          # follows the text size: the bar's numbers grow with it
        from ui.textsize import scale
        return COLOR_BAR_BASE_WIDTH * scale()
    raise AttributeError(name)


class ScaledImage:
    """A plot with one ImageItem, a colour bar (min/max numbers) and a title: `image_item_with_scale`."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, title: str = "",
                 gradient: bool = False) -> None:
        self.gradient = gradient
        self.plot: pg.PlotItem = layout.addPlot(row=row, col=col, title=title)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        # indices are read by hovering (the status line); axes would only crowd a narrow dock
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        cmap = GRADIENT_CMAP if gradient else ACTIVATION_CMAP
        self.bar = pg.ColorBarItem(values=(-1, 1) if gradient else (0, 1), colorMap=cmap, interactive=False,
                                   width=14, rounding=1e-12)
        self.bar.setImageItem(self.image)
        # its numbers never carry a unit prefix (the bar has no label); left on, every new scale re-set the
        # axis label's HTML and re-laid the bar
        self.bar.axis.enableAutoSIPrefix(False)
        layout.addItem(self.bar, row=row, col=col + 1)
        self._shape: tuple[int, ...] | None = None

    def set_title(self, title: str) -> None:
        self.plot.setTitle(title, size=f"{font(FONT_PT).pointSizeF():g}pt", color=text_color())
        self.bar.axis.setStyle(tickFont=font(FONT_SMALL_PT))

    def show(self, data: np.ndarray | None, levels: tuple[float, float] | None = None) -> None:
        if data is None or np.size(data) == 0:
            self.image.clear()
            return
        data = np.asarray(data, dtype=np.float64)
        if data.ndim == 1:
            data = data[None, :]
        if levels is None:
            levels = symmetric_levels(data) if self.gradient else activation_levels(data)
        self.bar.setLevels(levels)
        self.image.setImage(data, levels=levels, autoLevels=False)
        if data.shape != self._shape:
            self._shape = data.shape
            self.plot.setRange(xRange=(0, data.shape[1]), yRange=(0, data.shape[0]), padding=0.02)

    def clear(self) -> None:
        self.image.clear()


def image_item_with_scale(layout: pg.GraphicsLayout, row: int, col: int, title: str = "",
                          gradient: bool = False) -> ScaledImage:
    """An image plot at (row, col) of `layout` with its colour bar at (row, col + 1)."""
    return ScaledImage(layout, row, col, title, gradient)


def colormap_pixmap(gradient: bool, width: int = 120, height: int = 12) -> QtGui.QPixmap:
    """A horizontal strip of the map, for legends outside pyqtgraph scenes."""
    lut = GRADIENT_LUT if gradient else ACTIVATION_LUT
    row = lut[np.linspace(0, len(lut) - 1, width).astype(int)].astype(np.uint8)
    img = np.ascontiguousarray(np.repeat(row[None, :, :3], height, axis=0))
    qimg = QtGui.QImage(img.data, width, height, 3 * width, QtGui.QImage.Format.Format_RGB888)
    return QtGui.QPixmap.fromImage(qimg.copy())
