"""The inspector's Pooling and Parameters tabs (Activations and Gradient live in inspector.py, Numbers in numbers.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.views.common import LayerState, MapPanel, as_matrix, message_label, not_run_yet, set_max, spin
from visualcnn.explain import pool_preview
from visualcnn.i18n import _
from visualcnn.layers import LpPool2D, MaxPool2D
from visualcnn.layers.pool import P_MAX         # the spec's range of p: the slider covers all of it

_SLIDER_STEPS = 300


def slider_to_p(v: int) -> float:
    """Slider position 0 … 300 → p = 1000^(v/300): 1 … 1000 (P_MAX), evenly spaced in log p."""
    return float(P_MAX ** (v / _SLIDER_STEPS))


def p_to_slider(p: float) -> int:
    return int(round(_SLIDER_STEPS * np.log(max(1.0, min(P_MAX, p))) / np.log(P_MAX)))


class _Tab(QtWidgets.QWidget):
    def __init__(self, inspector) -> None:
        super().__init__()
        self.inspector = inspector
        self.state: LayerState | None = None
        self.stack = QtWidgets.QStackedWidget()
        self.message = message_label()
        self.stack.addWidget(self.message)
        box = QtWidgets.QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.stack)

    def say(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)


class PoolingTab(_Tab):
    """Which input won each window (max), the routing weights ∂y/∂x (avg, Lp) and where ∂C/∂x went."""

    def __init__(self, inspector) -> None:
        super().__init__(inspector)
        page = QtWidgets.QWidget()
        controls = QtWidgets.QHBoxLayout()
        self.sample = spin(_("sample"), controls)
        self.channel = spin(_("channel"), controls)
        controls.addStretch(1)
        p_row = QtWidgets.QHBoxLayout()
        self.p_label = QtWidgets.QLabel("p = 2")
        self.p_label.setMinimumWidth(70)
        self._p_override: float | None = None     # None: the layer's own p
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, _SLIDER_STEPS)
        self.p_row_widgets = (QtWidgets.QLabel(_("average")), self.slider, QtWidgets.QLabel("max"), self.p_label)
        self.slider.setToolTip(_("p from 1 (average of |x|) to {p_max} (close to the max); a preview computed by "
                                 "the Lp pooling layer itself — the layer keeps its own p").format(p_max=f"{P_MAX:g}"))
        for w in self.p_row_widgets:
            p_row.addWidget(w)
        self.panel = MapPanel()
        self.panel.add(_("input x with the window winners"))
        self.panel.add(_("routing weights ∂y/∂x on the input"))
        self.panel.add(_("∂C/∂x routed back"), gradient=True)
        self.winners = pg.ScatterPlotItem(symbol="s", size=10, pen=pg.mkPen(style.HIGHLIGHT, width=2),
                                          brush=None, pxMode=True)
        self.grid = pg.PlotCurveItem(pen=pg.mkPen(style.GRID, width=1), connect="pairs")
        self.panel.plots[0].plot.addItem(self.grid)
        self.panel.plots[0].plot.addItem(self.winners)
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing() + 4)
        inner = QtWidgets.QVBoxLayout(page)
        inner.addLayout(controls)
        inner.addLayout(p_row)
        inner.addWidget(self.note)
        inner.addWidget(self.panel, 1)
        self.stack.addWidget(page)
        self.page = page
        for s in (self.sample, self.channel):
            s.valueChanged.connect(lambda _=0: self.refresh(self.state))
        self.slider.valueChanged.connect(self._p_changed)
        self._layer_id = None

    def _p_changed(self, v: int) -> None:
        self._p_override = slider_to_p(v)
        self.p_label.setText(f"p = {self._p_override:.2f}")
        self.refresh(self.state)

    def refresh(self, st: LayerState | None) -> None:
        self.state = st
        if st is None:
            return
        lay = st.layer_obj
        if not hasattr(type(lay), "routing"):
            self.say(_("Layer {index} ({type}) does no pooling.\n\nSelect a maxpool2d, avgpool2d or lppool2d layer "
                       "to see which inputs each window routes its gradient to.").format(index=st.layer,
                                                                                          type=lay.type_name))
            return
        self.stack.setCurrentWidget(self.page)
        is_lp = isinstance(lay, LpPool2D)
        for w in self.p_row_widgets:
            w.setVisible(is_lp)
        if is_lp and self._layer_id != id(lay):
            self.slider.blockSignals(True)
            self.slider.setValue(p_to_slider(float(lay.options["p"])))
            self.slider.blockSignals(False)
            self.p_label.setText(f"p = {float(lay.options['p']):.3g}")
            self._p_override = None
        self._layer_id = id(lay)
        set_max(self.sample, st.batch_size - 1)
        set_max(self.channel, lay.input_shape[0] - 1)
        fwd, bwd = st.forward, st.backward
        n, c = self.sample.value(), self.channel.value()
        if fwd is None:
            self.note.setText(not_run_yet("forward", st.layer))
            for k in range(3):
                self.panel.show(k, None)
            self.winners.setData([], [])
            self.grid.setData([], [])
            return
        x = fwd.x[n:n + 1]
        layer_p = float(lay.options["p"]) if is_lp else None
        p = (layer_p if self._p_override is None else self._p_override) if is_lp else None
        preview = is_lp and abs(p - layer_p) > 1e-9
        # the routing: the backward record's when it ran (max/avg/the layer's own p), else the layer class on x
        if bwd is not None and bwd.routing is not None and not preview:
            from visualcnn.explain import routing_map
            weights = routing_map(bwd.routing[n:n + 1], x.shape, lay.stride)[0, c]
            routing = bwd.routing[n, c]
        else:
            y, r, wmap = pool_preview(lay, x, p if preview else None)
            weights, routing = wmap[0, c], r[0, c]
        self.panel.show(0, x[0, c], _("input x, ch {channel}").format(channel=c)
                        + (" — " + _("□ = window winner") if isinstance(lay, MaxPool2D) else ""))
        self._draw_grid(lay, x.shape[2:], routing)
        self.panel.show(1, weights, _("routing weights ∂y/∂x") + (f" (p = {p:.2f})" if is_lp else ""))
        if bwd is not None and not preview:
            self.panel.set_gradient(2, True)
            self.panel.show(2, bwd.dx[n, c], _("∂C/∂x routed back (backward)"))
            self.note.setText(self._explain(lay, True))
        else:
            y_show = pool_preview(lay, x, p)[0][0, c] if preview else fwd.y[n, c]
            self.panel.set_gradient(2, False)
            self.panel.show(2, y_show, _("output y (p = {p}, preview)").format(p=f"{p:.2f}") if preview
                            else _("output y"))
            self.note.setText(self._explain(lay, False) if not preview else
                              _("Preview at p = {p} (the layer keeps p = {layer_p}).").format(
                                  p=f"{p:.2f}", layer_p=f"{layer_p:.3g}"))

    def _explain(self, lay, backward: bool) -> str:
        if isinstance(lay, MaxPool2D):
            text = _("Max pooling: the window's winner (□) gets all of its gradient.")
        elif isinstance(lay, LpPool2D):
            text = _("Lp pooling: p = 1 shares the gradient like an average; large p gives it to the max.")
        else:
            text = _("Average pooling: each input of a k×k window gets 1/k² of its gradient.")
        return text + ("" if backward else " " + _("Step backward to see ∂C/∂x."))

    def _draw_grid(self, lay, hw: tuple[int, int], routing: np.ndarray) -> None:
        H, W = hw
        k, s = lay.kernel, lay.stride
        Ho, Wo = routing.shape[:2]
        xs, ys = [], []
        if s >= k:       # non-overlapping windows: draw their borders
            for i in range(Ho + 1):
                xs += [0, Wo * s]
                ys += [i * s, i * s]
            for j in range(Wo + 1):
                xs += [j * s, j * s]
                ys += [0, Ho * s]
        self.grid.setData(np.array(xs, float), np.array(ys, float))
        if isinstance(lay, MaxPool2D):
            flat = routing.reshape(Ho, Wo, -1).argmax(axis=-1)
            ii, jj = np.meshgrid(np.arange(Ho), np.arange(Wo), indexing="ij")
            rows = ii * s + flat // k
            cols = jj * s + flat % k
            self.winners.setData(cols.ravel() + 0.5, rows.ravel() + 0.5)
        else:
            self.winners.setData([], [])


class ParametersTab(_Tab):
    """W (or b), ∂C/∂W, and the momentum velocity ΔW of the last update, each on its own scale."""

    def __init__(self, inspector) -> None:
        super().__init__(inspector)
        page = QtWidgets.QWidget()
        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(QtWidgets.QLabel(_("parameter")))
        self.which = QtWidgets.QComboBox()
        controls.addWidget(self.which)
        controls.addStretch(1)
        self.ratio = QtWidgets.QLabel()
        self.ratio.setFont(style.font(style.FONT_PT, bold=True))
        self.ratio.setWordWrap(True)
        self.ratio.setMinimumHeight(2 * QtGui.QFontMetrics(self.ratio.font()).lineSpacing() + 4)
        self.layout_note = QtWidgets.QLabel()
        self.panel = MapPanel()
        self.panel.add("W", gradient=True)
        self.panel.add("∂C/∂W", gradient=True)
        self.panel.add(_("ΔW = velocity (last update)"), gradient=True)
        inner = QtWidgets.QVBoxLayout(page)
        inner.addLayout(controls)
        inner.addWidget(self.ratio)
        inner.addWidget(self.layout_note)
        inner.addWidget(self.panel, 1)
        self.stack.addWidget(page)
        self.page = page
        self.which.currentIndexChanged.connect(lambda _=0: self.refresh(self.state))

    def refresh(self, st: LayerState | None) -> None:
        self.state = st
        if st is None:
            return
        lay = st.layer_obj
        if not lay.params:
            self.say(_("Layer {index} ({type}) has no parameters:\nnothing here is learned.").format(
                index=st.layer, type=lay.type_name))
            return
        self.stack.setCurrentWidget(self.page)
        names = list(lay.params)
        if [self.which.itemText(k) for k in range(self.which.count())] != names:
            self.which.blockSignals(True)
            self.which.clear()
            self.which.addItems(names)
            self.which.blockSignals(False)
        name = self.which.currentText() or names[0]
        upd = st.update.updates.get(st.layer, {}).get(name) if st.update is not None else None
        shape = lay.params[name].shape
        if len(shape) == 4:
            layout_note = _("one tile per filter") if shape[1] == 1 else _("row = filter, column = input channel")
        elif len(shape) == 2:
            layout_note = _("row = output unit, column = input")
        else:
            layout_note = _("one value per unit") if len(shape) == 3 else _("one value per output")
        self.layout_note.setText(f"{name} {'×'.join(map(str, shape))}: {layout_note}")
        if upd is not None:
            self.panel.show(0, as_matrix(upd.value), _("{name} after the update").format(name=name))
        else:
            self.panel.show(0, as_matrix(np.array(lay.params[name])), _("{name} (current)").format(name=name))
        grad = st.backward.grads.get(name) if st.backward is not None else None
        self.panel.show(1, None if grad is None else as_matrix(grad),
                        f"∂C/∂{name}" + ("" if grad is not None else " — " + _("step backward through this layer")))
        self.panel.show(2, None if upd is None else as_matrix(upd.velocity),
                        _("Δ{name} = velocity").format(name=name)
                        + ("" if upd is not None else " — " + _("after the update phase")))
        ratio = _("update ratio ‖Δ{name}‖/‖{name}‖").format(name=name)
        if upd is not None:
            r = upd.ratio
            health = (_("healthy") if 1e-4 <= r <= 1e-2 else
                      (_("small: learning slowly") if r < 1e-4 else _("large")))
            self.ratio.setText(f"{ratio} = {r:.2e}\n" + _("{health} (≈ 1e-3 is typical)").format(health=health))
        else:
            self.ratio.setText(f"{ratio}: —\n" + _("(after the update phase)"))
