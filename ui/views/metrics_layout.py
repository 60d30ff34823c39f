"""How the metrics view lays out its four plots and the text drawn over them: a row of four or a 2 × 2 grid,
axis labels only where they fit, and legends and the guide line's label only where they fit whole."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PyQt6 import QtGui, QtWidgets

from ui import style
from ui.views.metrics_data import _LogAxis
from visualcnn.i18n import _


class PlotGrid:
    """Mixed into MetricsView (a QWidget with `graphics`, a GraphicsLayoutWidget, and the four plots)."""

    graphics: pg.GraphicsLayoutWidget
    _columns: int
    _manual: set

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        """Four plots in a row or 2 × 2: whichever leaves the smallest plot area larger (a short dock under the
        pipeline gets a row, a tall one a square)."""
        super().resizeEvent(event)
        g = self.graphics
        row_axis_w, frame_h = 46, 70         # a y axis of only its numbers (in a row); a title and an x axis
        fm = QtGui.QFontMetricsF(style.font(style.FONT_PT))
        titles = [fm.horizontalAdvance(p.titleLabel.text) + 12 for p in self.plot_items()]
        # a title spans its whole plot, axis included: a row fits when each title fits a quarter of the width
        fits_a_row = max(titles) <= g.width() / 4

        def room(columns: int) -> float:
            rows = 4 // columns
            return min(g.width() / columns - row_axis_w, g.height() / rows - frame_h)
        self.set_columns(4 if fits_a_row and room(4) > room(2) else 2)
        for p in self.plot_items():            # in a row the titles say what each is: the width goes to curves
            p.getAxis("left").showLabel(self._columns == 2)
            p.getAxis("left").setWidth(row_axis_w if self._columns == 4 else None)
        # short plots: the x axis says "iteration" once, under the bottom row, so the curves keep the height
        short = g.height() < 360
        plots = self.plot_items()
        for k, p in enumerate(plots):
            p.getAxis("bottom").showLabel(not (short and k < len(plots) - self._columns))

    def overlays(self) -> list[tuple[Any, Any]]:
        """(text drawn over a plot's curves, that plot): the legends and the guide line's label."""
        return [(p.legend, p) for p in (self.loss_plot, self.acc_plot, self.grad_plot)] + \
            [(self.guide_label, self.ratio_plot)]

    def _fit_overlays(self, *_args: Any) -> None:
        """A legend or label wider than its plot would be cut by the axis beside it: it shows only where it
        fits whole (a narrow plot at 1280×800 keeps its curves; the wider layouts show the words)."""
        for item, plot in self.overlays():
            if isinstance(item, pg.LegendItem):
                # placed again for its size now (pyqtgraph anchors a legend once, for the size it had then)
                off = item.opts["offset"]
                corner = (1 if off[0] <= 0 else 0, 1 if off[1] <= 0 else 0)
                item.anchor(itemPos=corner, parentPos=corner, offset=off)
            elif isinstance(item, pg.TextItem):
                # a hidden TextItem keeps the scaling it had when last shown (pyqtgraph updates it only while
                # visible), so measured hidden its rect is far too large and it would never show again; and a
                # range just set reaches the view box's matrix only when it paints: both brought up to date first
                plot.getViewBox().updateMatrix()
                item.setVisible(True)
                if hasattr(item, "updatePosition"):
                    item.updatePosition()
                item.updateTransform(force=True)
            item.setVisible(plot.getViewBox().sceneBoundingRect().contains(item.sceneBoundingRect()))

    def set_columns(self, columns: int) -> None:
        """Lay the four plots out in `columns` columns (2 or 4)."""
        if columns == self._columns:
            return
        self._columns = columns
        layout = self.graphics.ci
        plots = self.plot_items()
        for p in plots:
            layout.removeItem(p)
        for k, p in enumerate(plots):
            layout.addItem(p, row=k // columns, col=k % columns)

    def _plot(self, row: int, col: int, title: str, ylabel: str, log: bool = False) -> pg.PlotItem:
        axes = {"left": _LogAxis(orientation="left")} if log else {}
        p = self.graphics.addPlot(row=row, col=col, axisItems=axes)
        p.setTitle(title, size=f"{style.FONT_TITLE_PT}pt", color=style.text_color(self))
        p.setLabel("bottom", _("iteration"))
        p.setLabel("left", ylabel)
        for axis in ("left", "bottom"):
            ax = p.getAxis(axis)
            ax.setStyle(tickFont=style.font(style.FONT_SMALL_PT))
            ax.setTextPen(style.text_color(self))
            ax.setPen(style.dim_text_color(self))
            ax.enableAutoSIPrefix(False)          # "ratio (x0.001)" on a log axis only confuses
        p.getAxis("left").setWidth(64)            # same width in every plot, so the x axes line up
        p.showGrid(x=True, y=True, alpha=0.15)
        p.setLogMode(y=log)
        p.setClipToView(True)
        p.setDownsampling(auto=True, mode="peak")
        p.setMenuEnabled(False)
        p.hideButtons()
        # the view box's own autoRange re-scans every curve on every frame (and re-lays the axes): ranges are
        # set here instead, from figures kept while appending, and only when they move by more than RANGE_SLACK
        p.disableAutoRange()
        p.getViewBox().sigRangeChangedManually.connect(lambda *_a, plot=p: self._manual.add(plot))
        for axis in ("left", "bottom"):
            # a grid-carrying axis repaints as a blit while its range holds
            p.getAxis(axis).setCacheMode(QtWidgets.QGraphicsItem.CacheMode.DeviceCoordinateCache)
        return p

    def plot_items(self) -> list[pg.PlotItem]:
        return [self.loss_plot, self.acc_plot, self.grad_plot, self.ratio_plot]
