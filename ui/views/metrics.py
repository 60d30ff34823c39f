"""Training curves: loss and accuracy (train per iteration, smoothed; held-out test points), per-layer
gradient norms and update-to-weight ratios on log scales, and a run's progress bar with its ETA.

    view = MetricsView()
    view.set_layer_names({0: "conv2d", 4: "dense"})
    view.update_from(session.metrics, worker.test_points)   # on every redraw: appends what is new
    worker.progress.connect(view.set_progress)
    view.export_csv("metrics.csv")

`update_from` is incremental: it keeps how many metrics it has drawn and only appends
the new ones (setData on the existing curves). If the list shrank or changed under it
(step back across an iteration, a rebuild, a loaded session) it starts over — from what a
MetricsLog kept (its summary and recent iterations), so starting over costs the same however
long the run. Each curve keeps at most RECENT_POINTS in full and SUMMARY_POINTS blocks
(`ui.bounded.CurvePoints`; raw curves draw a block as its low and high): a long run's window stays the same size.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.bounded import CurvePoints
from ui.in_sight import on_coming_into_sight, out_of_sight
from ui.views.metrics_data import (SMOOTHING, _ema, _kept, _version, format_eta, metrics_csv,  # noqa: F401
                                   metrics_table, progress_text, write_metrics_csv)
from ui.views.metrics_layout import PlotGrid
from visualcnn.i18n import _

RATIO_GUIDE = 1e-3       # the healthy update-to-weight ratio, drawn as a dashed line
#: one colour per parametrised layer (Okabe–Ito: tells apart for colour-blind eyes, reads on light and dark)
LAYER_COLORS = [(0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233),
                (213, 94, 0), (240, 228, 66), (120, 120, 120)]
TRAIN_COLOR = (0, 114, 178)
# Drawing cost, measured offscreen with 3,000 iterations: 1-pixel (cosmetic) pens paint in 15 ms a frame,
# 2-pixel antialiased ones in 50–80 ms — enough to starve the GUI thread during a run. Curves are therefore
# 1 px, not antialiased, decimated to about one point per pixel column, and redrawn at most MAX_FPS times a
# second. The rest of a frame's cost was the axes (grid included) re-laid and repainted every frame by the
# view boxes' autoRange: ranges are set here, only when the data leaves them or they are > RANGE_SLACK loose,
# and the axes are pixmap-cached, so most frames repaint the curves only (5,000 iterations, 1600×500:
# ~45 ms → ~9 ms a frame with painting).
DOWNSAMPLE_FACTOR = 1.0
MAX_FPS = 10.0
ANTIALIAS = False        # the app turns antialiasing on globally; for these 1 px curves it only costs paint time
RANGE_SLACK = 0.1        # a plot's range follows the data only when it moves by more than this share of it
X_HEADROOM = 0.1         # the x range reaches this far past the last iteration, so it changes every ~10 %
MIN_X_SPAN = 10          # iterations the x axis shows at least: whole-number ticks from the first iteration on
TEST_COLOR = (213, 94, 0)


class MetricsView(PlotGrid, QtWidgets.QWidget):
    """Four plots (loss, accuracy, gradient norms, update ratios), a progress bar and an ETA."""

    exportRequested = QtCore.pyqtSignal()      # the "Export CSV…" button; the lead connects it to SessionFiles

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self._layer_names: dict[int, str] = {}
        self._manual: set[pg.PlotItem] = set()          # plots the user panned or zoomed: ranges left alone
        self._ranges: dict[Any, tuple[float, float]] = {}
        self._columns = 2
        self._last_update = 0.0
        self._deferred = QtCore.QTimer(self)
        self._deferred.setSingleShot(True)
        self._deferred.timeout.connect(lambda: self.update_from(self._metrics, self._test_points))
        self._stale = False             # new figures came while the view was hidden (a tab behind another)
        self._metrics: Sequence[Any] = []
        self._test_points: Sequence[tuple[int, float, float]] = []

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(style.background_color(self))
        self.loss_plot = self._plot(0, 0, _("Loss C"), _("cross-entropy"))
        self.acc_plot = self._plot(0, 1, _("Accuracy"), _("fraction"))
        self.grad_plot = self._plot(1, 0, "‖∂C/∂W‖", _("per layer"), log=True)
        self.ratio_plot = self._plot(1, 1, "‖ΔW‖ / ‖W‖", _("update ratio"), log=True)
        self.acc_plot.setYRange(0, 1, padding=0.02)
        self.acc_plot.getViewBox().setLimits(yMin=-0.05, yMax=1.05)
        for p in (self.grad_plot, self.ratio_plot):
            p.setXLink(self.loss_plot)
        self.acc_plot.setXLink(self.loss_plot)

        dim = style.dim_text_color(self)
        for plot, corner in ((self.loss_plot, (-10, 10)), (self.acc_plot, (-10, -10)), (self.grad_plot, (-10, 10))):
            legend = plot.addLegend(offset=corner, labelTextColor=style.text_color(self),
                                    brush=style.with_alpha(style.background_color(self), 200))
            legend.setLabelTextSize(f"{style.FONT_SMALL_PT}pt")
        self.grad_legend = self.grad_plot.legend
        self.loss_raw = self.loss_plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(style.with_alpha(QtGui.QColor(*TRAIN_COLOR), 50), width=1))
        self.loss_smooth = self.loss_plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(TRAIN_COLOR, width=1), name=_("train (smoothed)"))
        # the test points' symbol pen and brush are made once: given as a colour, pyqtgraph makes new ones on
        # every setData and its symbol atlas keeps one entry per new pen/brush object (a long run's slow leak)
        dot_pen, dot_brush = pg.mkPen(None), pg.mkBrush(TEST_COLOR)
        self.loss_test = self.loss_plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(TEST_COLOR, width=1), symbol="o", symbolSize=6,
                                             symbolBrush=dot_brush, symbolPen=dot_pen, name=_("test"))
        self.acc_smooth = self.acc_plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(TRAIN_COLOR, width=1), name=_("train (smoothed)"))
        self.acc_test = self.acc_plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(TEST_COLOR, width=1), symbol="o", symbolSize=6,
                                           symbolBrush=dot_brush, symbolPen=dot_pen, name=_("test"))
        for curve in (self.loss_raw, self.loss_smooth, self.acc_smooth):
            curve.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
        guide = pg.InfiniteLine(pos=math.log10(RATIO_GUIDE), angle=0,
                                pen=pg.mkPen(dim, width=1, style=QtCore.Qt.PenStyle.DashLine),
                                label=_("1e−3 (typical healthy)"),
                                # from the left end of the line: a centred label was cut by the axis (hidden)
                                # in plots that had room for it
                                labelOpts={"position": 0.02, "anchors": [(0, 0), (0, 1)], "color": dim})
        self.ratio_plot.addItem(guide)
        self.guide_label = guide.label
        for p in self.plot_items():
            p.getViewBox().sigResized.connect(self._fit_overlays)
        # the guide line's label moves with the ratio plot's range (it is drawn at 1e−3): fitted again then too
        self.ratio_plot.getViewBox().sigYRangeChanged.connect(self._fit_overlays)

        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(_("no run"))
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setMinimumHeight(self.progress_bar.fontMetrics().height() + 8)
        self.progress_bar.setMinimumWidth(self.progress_bar.fontMetrics().horizontalAdvance(progress_text(1000, 1000)) + 16)
        self.eta_label = QtWidgets.QLabel("")
        self.eta_label.setFont(style.font(style.FONT_PT))
        self.eta_label.setWordWrap(True)
        self.eta_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.summary_label = QtWidgets.QLabel(_("no iterations yet"))
        self.summary_label.setFont(style.font(style.FONT_PT))
        # a long summary must not widen the window during a run: it wraps (the row grows to hold it)
        self.summary_label.setWordWrap(True)
        self.summary_label.setMinimumHeight(2 * self.summary_label.fontMetrics().lineSpacing() + 4)
        self.summary_label.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Preferred)
        self.export_button = QtWidgets.QPushButton(_("Export CSV…"))
        self.export_button.clicked.connect(self.exportRequested)

        bottom = QtWidgets.QHBoxLayout()
        bottom.addWidget(self.summary_label, 3)
        bottom.addWidget(self.progress_bar, 2)
        bottom.addWidget(self.eta_label, 1)
        bottom.addWidget(self.export_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(style.MARGIN, style.MARGIN, style.MARGIN, style.MARGIN)
        layout.setSpacing(style.SPACING)
        layout.addWidget(self.graphics, 1)
        layout.addLayout(bottom)
        self.reset()

    # -- feeding ----------------------------------------------------------------
    def set_layer_names(self, names: dict[int, str]) -> None:
        """Legend names for the per-layer curves: {layer index: 'conv2d'} (shown as 'layer 0 conv2d')."""
        self._layer_names = dict(names)
        for i, entry in self._layer_series.get("grad_norms", {}).items():
            smooth = entry["curves"][1]
            self.grad_legend.removeItem(smooth)
            self.grad_legend.addItem(smooth, self._layer_label(i))
            self._fit_overlays()

    def _layer_label(self, i: int) -> str:
        name = self._layer_names.get(i)
        return _("layer {k} {type_name}").format(k=i, type_name=name) if name else _("layer {k}").format(k=i)

    def reset(self) -> None:
        """Forget every curve (a rebuilt network or a new session)."""
        self._n = 0
        self._last_iteration: int | None = None
        self._n_test = 0
        self._loss = CurvePoints(envelope=True)
        self._loss_smooth = CurvePoints()
        self._acc_smooth = CurvePoints()
        self._ema_loss = (0.0, 0)
        self._ema_acc = (0.0, 0)
        for curve in (self.loss_raw, self.loss_smooth, self.loss_test, self.acc_smooth, self.acc_test):
            curve.setData([], [])
        for key, store in getattr(self, "_layer_series", {}).items():
            plot = self.grad_plot if key == "grad_norms" else self.ratio_plot
            for entry in store.values():
                for curve in entry["curves"]:
                    plot.removeItem(curve)
                    if plot is self.grad_plot:
                        self.grad_legend.removeItem(curve)
        self._layer_series: dict[str, dict[int, dict[str, Any]]] = {}
        self._test_bounds: tuple[float, float, float] | None = None
        self._bounds: dict[Any, list[float]] = {}      # plot → [min, max] of its y data (log10 on log plots)
        self._ranges = {}
        self._manual.clear()
        self.summary_label.setText(_("no iterations yet"))
        # the axes start again too: the last session's ranges would frame curves that are not there
        self.loss_plot.setXRange(0, MIN_X_SPAN, padding=0)
        self.loss_plot.setYRange(0, 1, padding=0)
        for plot in (self.grad_plot, self.ratio_plot):
            plot.setYRange(-4, 0, padding=0)

    def update_from(self, metrics: Sequence[Any], test_points: Sequence[tuple[int, float, float]] = (),
                    force: bool = True) -> int:
        """Append the metrics not drawn yet (and any new test points); returns how many were new.

        force=False (for a run's redraw signal): at most MAX_FPS updates a second; a call that
        comes sooner is deferred to a timer (returns 0), so the latest figures always get drawn.

        metrics: the session's IterationMetrics list (read-only here; it may be growing on the
        worker thread, so only the first len() seen now is used). test_points: (iteration, loss, acc).
        """
        self._metrics, self._test_points = metrics, test_points
        if self._hidden():
            self._deferred.stop()
            self._stale = True          # drawn when shown (showEvent): a hidden tab costs nothing
            return 0
        self._stale = False
        if not force:
            wait = self._last_update + 1.0 / MAX_FPS - time.perf_counter()
            if wait > 0:
                if not self._deferred.isActive():
                    self._deferred.start(int(wait * 1000) + 1)
                return 0
        self._deferred.stop()
        self._last_update = time.perf_counter()
        n = len(metrics)
        if n < self._n or (self._n and metrics[self._n - 1].iteration != self._last_iteration):
            self.reset()
        if self._n < getattr(metrics, "first_recent", 0):
            # behind the log's full-resolution window (a reset, a loaded session, a long pause of the GUI):
            # draw what the log kept — its summary and its recent iterations — instead of reading every
            # iteration count (which a MetricsLog answers with the same summary point, thousands of times)
            new, n = _kept(metrics)
            if self._n:
                self.reset()
        else:
            new = [metrics[k] for k in range(self._n, n)]
        if new:
            its = [m.iteration for m in new]
            losses = np.array([m.loss for m in new], dtype=float)
            accs = np.array([m.accuracy for m in new], dtype=float)
            sm_loss, self._ema_loss = _ema(losses, self._ema_loss)
            sm_acc, self._ema_acc = _ema(accs, self._ema_acc)
            self._loss.extend(its, losses)
            self._loss_smooth.extend(its, sm_loss)
            self._acc_smooth.extend(its, sm_acc)
            for plot, key in ((self.grad_plot, "grad_norms"), (self.ratio_plot, "update_ratios")):
                self._append_layer_curves(plot, key, new, its)
            self.loss_raw.setData(*self._loss.arrays())
            self.loss_smooth.setData(*self._loss_smooth.arrays())
            self.acc_smooth.setData(*self._acc_smooth.arrays())
            self._n, self._last_iteration = n, new[-1].iteration
            self._widen(self.loss_plot, losses)
            last = new[-1]
            self.summary_label.setText(_("iteration {k}: loss {loss} (smoothed {smoothed}), accuracy {accuracy}").format(
                k=last.iteration + 1, loss=f"{last.loss:.3f}", smoothed=f"{sm_loss[-1]:.3f}",
                accuracy=f"{sm_acc[-1]:.0%}"))
        if _version(test_points) != self._n_test:
            pts = np.asarray(list(test_points), dtype=float).reshape(-1, 3)
            self.loss_test.setData(pts[:, 0], pts[:, 1])
            self.acc_test.setData(pts[:, 0], pts[:, 2])
            self._n_test = _version(test_points)
            finite = pts[np.isfinite(pts[:, 1]), 1]
            self._test_bounds = ((float(finite.min()) if len(finite) else math.nan,
                                  float(finite.max()) if len(finite) else math.nan, pts[-1, 0]) if len(pts) else None)
            if len(pts):
                self.summary_label.setText(self.summary_label.text().split("  |")[0]
                                           + f"  |  test {pts[-1, 2]:.0%}")
        if new or self._n_test:
            self._follow_data()
        return len(new)

    def update_soon(self, metrics: Sequence[Any], test_points: Sequence[tuple[int, float, float]] = ()) -> None:
        """update_from in the event loop's next turn: after a step the views draw first and the curves right
        after them, instead of all in one turn (calls before then make one update, with the latest figures)."""
        self._metrics, self._test_points = metrics, test_points
        if not self._deferred.isActive():
            self._deferred.start(0)

    def flush(self) -> None:
        """Draw now what update_soon (or the MAX_FPS throttle) left for later."""
        if self._deferred.isActive():
            self.update_from(self._metrics, self._test_points)

    def pending(self) -> bool:
        """Figures given but not drawn yet (an update_soon not run, or a hidden view's)."""
        return self._deferred.isActive() or self._stale

    def _hidden(self) -> bool:
        """Not on screen while its window is (another tab in front): nothing to draw for now."""
        if not out_of_sight(self):
            return False
        on_coming_into_sight(self, self._catch_up)
        return True

    def _catch_up(self) -> None:
        if self._stale and not out_of_sight(self):
            self._stale = False
            self.update_from(self._metrics, self._test_points)

    def _widen(self, plot: pg.PlotItem, values: np.ndarray) -> None:
        """Grow the plot's y bounds by the finite ones of `values` (already log10 on a log plot)."""
        finite = values[np.isfinite(values)]
        if len(finite):
            b = self._bounds.setdefault(plot, [math.inf, -math.inf])
            b[0], b[1] = min(b[0], float(finite.min())), max(b[1], float(finite.max()))

    def _follow_data(self) -> None:
        """Ranges that follow the data, set only when it leaves them or they are loose by > RANGE_SLACK."""
        last_x = float(self._loss.x[-1]) if len(self._loss) else -math.inf
        b = self._bounds.get(self.loss_plot)
        if self._test_bounds is not None:
            t_lo, t_hi, t_x = self._test_bounds
            last_x = max(last_x, t_x)
            if np.isfinite(t_lo):
                lo, hi = (min(b[0], t_lo), max(b[1], t_hi)) if b else (t_lo, t_hi)
                b = [lo, hi]
        if math.isfinite(last_x) and not self._manual:        # x is linked: any panned plot holds it
            first = float(self._loss.x[0]) if len(self._loss) else 0.0
            span = max(last_x - first, 1.0)
            cur = self._ranges.get("x")
            floor = first + MIN_X_SPAN
            if cur is None or last_x > cur[1] or cur[1] - max(last_x, floor) > 2 * X_HEADROOM * span \
                    or first < cur[0]:
                want = (first, max(last_x + X_HEADROOM * span, floor))
                self._ranges["x"] = want
                self.loss_plot.setXRange(*want, padding=0)
        for plot in (self.loss_plot, self.grad_plot, self.ratio_plot):
            bounds = b if plot is self.loss_plot else self._bounds.get(plot)
            if not bounds or not all(map(math.isfinite, bounds)) or plot in self._manual:
                continue
            lo, hi = bounds
            span = hi - lo or abs(hi) or 1.0
            cur = self._ranges.get(plot)
            want = (lo - 0.05 * span, hi + 0.05 * span)
            if (cur is None or lo < cur[0] or hi > cur[1]
                    or abs(want[0] - cur[0]) > RANGE_SLACK * span or abs(want[1] - cur[1]) > RANGE_SLACK * span):
                self._ranges[plot] = want
                plot.setYRange(*want, padding=0)

    def _append_layer_curves(self, plot: pg.PlotItem, key: str, new: Sequence[Any], its: list[int]) -> None:
        """Per layer: the raw figure faint, its smoothed (EMA of log10) bold, in the layer's colour."""
        store = self._layer_series.setdefault(key, {})
        layers = sorted({i for m in new for i in getattr(m, key)} | set(store))
        for i in layers:
            vals = np.array([getattr(m, key).get(i, np.nan) for m in new], dtype=float)
            # log scale: zeros and infinities would break the axis, so they become gaps
            vals[~(np.isfinite(vals) & (vals > 0))] = np.nan
            if i not in store:
                color = QtGui.QColor(*LAYER_COLORS[len(store) % len(LAYER_COLORS)])
                raw = plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(style.with_alpha(color, 50), width=1), connect="finite")
                raw.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
                smooth = plot.plot(antialias=ANTIALIAS, pen=pg.mkPen(color, width=1), connect="finite")
                smooth.opts["autoDownsampleFactor"] = DOWNSAMPLE_FACTOR
                store[i] = {"raw": CurvePoints(envelope=True), "smooth": CurvePoints(), "ema": (0.0, 0), "curves": (raw, smooth)}
                if plot is self.grad_plot:
                    self.grad_legend.addItem(smooth, self._layer_label(i))
                    self._fit_overlays()
            entry = store[i]
            with np.errstate(invalid="ignore", divide="ignore"):
                sm_log, entry["ema"] = _ema(np.log10(vals), entry["ema"])
            entry["raw"].extend(its, vals)
            with np.errstate(divide="ignore", invalid="ignore"):
                self._widen(plot, np.log10(vals))
            entry["smooth"].extend(its, 10 ** sm_log)
            raw, smooth = entry["curves"]
            raw.setData(*entry["raw"].arrays())
            smooth.setData(*entry["smooth"].arrays())

    # -- a run's progress (connect RunWorker.progress and stateChanged) --------------------
    def set_progress(self, done: int, total: int, eta_seconds: float) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(min(done, total))
        self.progress_bar.setFormat(progress_text(done, total))
        self.eta_label.setText(_("done") if done >= total else format_eta(eta_seconds) if math.isfinite(eta_seconds)
                               else "")

    def set_run_state(self, state: str) -> None:
        """"paused", "idle", or how a run ended ("done", "stop", "breakpoint", "error"): no stale ETA stays."""
        if state == "paused":
            self.eta_label.setText(_("paused"))
        elif state == "idle":
            self.progress_bar.setFormat(_("no run"))
            self.eta_label.setText("")
        elif state in ("stop", "breakpoint", "error"):
            self.eta_label.setText({"stop": _("stopped"), "breakpoint": _("stopped at a breakpoint"),
                                    "error": _("stopped by an error")}[state])

    # -- export -----------------------------------------------------------------------
    def export_csv(self, path: str | Path) -> Path:
        """The metrics last given to update_from, as CSV (atomic write)."""
        return write_metrics_csv(path, list(self._metrics), list(self._test_points))


__all__ = ["MetricsView", "format_eta", "metrics_csv", "metrics_table", "write_metrics_csv"]
