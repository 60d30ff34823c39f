"""The inspector's Numbers tab: the formula behind one unit, drawn as math, with the core's own numbers.

Two maps: what the formula reads, with the cells its terms read marked (the unit's receptive field in
this layer; for the backward pass, the output units whose windows contain the input unit), and what it
computes, with the unit marked; clicking the computed map picks a unit. Below, the formula and its
numbers (visualcnn.explain): a long sum shows its largest terms and folds the rest into one number.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from ui import style
from ui.views.common import LayerState, MapPanel, hover_hint, set_max
from ui.views.formula import MathView, warm_up
from ui.views.tabs import _Tab
from visualcnn.explain import MapRef, explain_param, explain_unit, fmt, unit_shape
from visualcnn.i18n import N_, _

#: labels of the index pickers by the rank of what they index
INDEX_LABELS = {1: (N_("unit"),), 2: (N_("out"), N_("in")), 3: (N_("ch"), N_("row"), N_("col")),
                4: (N_("filter"), N_("in ch"), N_("row"), N_("col"))}
PARAM_PHASES = {"∂C/∂W": "W", "∂C/∂b": "b"}
#: the phase picker's words (its items keep the phase itself as their data; ∂C/∂W and ∂C/∂b are shown as they are)
PHASE_LABELS = {"forward": N_("forward"), "backward": N_("backward"), "loss": N_("loss")}


def symbol_of(title: str) -> str:
    """A map's title without its verb ("reads ∂C/∂x, ch 5" → "∂C/∂x, ch 5"), in the current language (the core
    writes the titles as _("reads {symbol}") and _("computes {symbol}")); other titles as they are."""
    for template in (_("reads {symbol}"), _("computes {symbol}")):
        before, _sep, after = template.partition("{symbol}")
        if before.strip() and title.startswith(before) and not after:
            return title[len(before):]
        if after.strip() and not before and title.split(",")[0].endswith(after):
            head, comma, rest = title.partition(",")
            return head[:-len(after)] + comma + rest
    return title


class IndexPicker(QtWidgets.QWidget):
    """Up to four labelled spin boxes for an index into an array of a given shape."""

    changed = QtCore.pyqtSignal()

    def __init__(self) -> None:
        super().__init__()
        box = QtWidgets.QHBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        self.labels, self.spins = [], []
        for _k in range(4):
            lab, spin = QtWidgets.QLabel(), QtWidgets.QSpinBox()
            spin.valueChanged.connect(lambda _=0: self.changed.emit())
            box.addWidget(lab)
            box.addWidget(spin)
            self.labels.append(lab)
            self.spins.append(spin)
        box.addStretch(1)
        self.shape: tuple[int, ...] = (1,)

    def set_shape(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)
        names = INDEX_LABELS.get(len(shape), tuple(f"i{k}" for k in range(len(shape))))
        for k, (lab, spin) in enumerate(zip(self.labels, self.spins)):
            on = k < len(shape)
            lab.setVisible(on)
            spin.setVisible(on)
            if on:
                lab.setText(_(names[k]) if len(shape) in INDEX_LABELS else names[k])
                set_max(spin, shape[k] - 1)

    def set_value(self, index: tuple[int, ...]) -> None:
        for spin, v in zip(self.spins, index):
            spin.blockSignals(True)
            spin.setMaximum(max(spin.maximum(), int(v)))
            spin.setValue(int(v))
            spin.blockSignals(False)

    def value(self) -> tuple[int, ...]:
        return tuple(min(self.spins[k].value(), self.shape[k] - 1) for k in range(len(self.shape)))


class MapPair(QtWidgets.QWidget):
    """Two map panels side by side or one above the other, whichever draws the maps larger."""

    #: what a panel needs besides its map: colour bar and its labels (across), title and read-out (down)
    CHROME_W, CHROME_H = 70, 60

    def __init__(self, first: MapPanel, second: MapPanel) -> None:
        super().__init__()
        self.panels = (first, second)
        self.box = QtWidgets.QBoxLayout(QtWidgets.QBoxLayout.Direction.LeftToRight, self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(first, 1)
        self.box.addWidget(second, 1)

    def needed_width(self) -> float:
        """The narrowest a panel can be without clipping: its title (or a small map) beside its colour bar."""
        minimum = QtCore.Qt.SizeHint.MinimumSize
        return max(max(p.glw.ci.effectiveSizeHint(minimum).width() + 8,
                       max(p.plots[0].plot.titleLabel.item.boundingRect().width(), 80) + p.plots[0].bar.width() + 20)
                   for p in self.panels)

    def side_by_side(self, w: int, h: int) -> bool:
        if w / 2 < self.needed_width():
            return False
        across = min((w - 2 * self.CHROME_W) / 2, h - self.CHROME_H)
        down = min(w - self.CHROME_W, (h - 2 * self.CHROME_H) / 2)
        return across >= down

    def arrange(self) -> None:
        wanted = (QtWidgets.QBoxLayout.Direction.LeftToRight if self.side_by_side(self.width(), self.height())
                  else QtWidgets.QBoxLayout.Direction.TopToBottom)
        if self.box.direction() != wanted:
            self.box.setDirection(wanted)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.arrange()


class NumbersTab(_Tab):
    """The formula behind one unit, with the numbers of the records plugged in (visualcnn.explain)."""

    def __init__(self, inspector) -> None:
        super().__init__(inspector)
        page = QtWidgets.QWidget()
        row1 = QtWidgets.QHBoxLayout()
        row1.addWidget(QtWidgets.QLabel(_("phase")))
        self.phase = QtWidgets.QComboBox()
        self._set_phases(["forward", "backward", "loss"])
        self.phase.setToolTip(_("forward: how an output unit was computed · backward: the gradient the layer "
                                "sends down to one input · loss: a logit's gradient · ∂C/∂W, ∂C/∂b: a "
                                "parameter's gradient"))
        row1.addWidget(self.phase)
        row1.addWidget(QtWidgets.QLabel(_("sample")))
        self.sample = QtWidgets.QSpinBox()
        row1.addWidget(self.sample)
        row1.addStretch(1)
        self.index = IndexPicker()
        self.read_label = QtWidgets.QLabel(_("read ch"))
        self.read_channel = QtWidgets.QSpinBox()
        self.read_channel.setToolTip(_("which channel of the map the formula reads is drawn"))
        self.index.layout().insertWidget(8, self.read_label)
        self.index.layout().insertWidget(9, self.read_channel)
        # the map the formula reads and the one it computes, side by side (each with its scale)
        self.read_panel, self.result_panel = MapPanel(), MapPanel()
        self.read_panel.add(_("what the formula reads"))
        self.result_panel.add(_("what it computes"))
        self.result_panel.on_click = lambda _k, rc: self._clicked(rc)
        self.panels = (self.read_panel, self.result_panel)
        # one read-out line under both maps (the panels' own lines would take two rows of a narrow dock)
        self.hover = QtWidgets.QLabel(hover_hint())
        self.hover.setFont(style.font(style.FONT_SMALL_PT, mono=True))
        for panel in self.panels:
            panel.status.hide()
            panel.status = self.hover
        maps = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(maps)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        self.maps = MapPair(self.read_panel, self.result_panel)
        column.addWidget(self.maps, 1)
        column.addWidget(self.hover)
        pen = pg.mkPen(style.HIGHLIGHT, width=2)
        # cell-sized squares (data units): the terms' window on the read map, the unit on the computed one
        self.window_marks = pg.ScatterPlotItem(symbol="s", size=0.92, pxMode=False, pen=pen, brush=None)
        self.unit_mark = pg.ScatterPlotItem(symbol="s", size=1.0, pxMode=False, pen=pg.mkPen(style.HIGHLIGHT, width=3),
                                            brush=None)
        self.read_panel.plots[0].plot.addItem(self.window_marks)
        self.result_panel.plots[0].plot.addItem(self.unit_mark)
        self.text = MathView()
        warm_up()
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(maps)
        split.addWidget(self.text)
        split.setChildrenCollapsible(False)
        split.splitterMoved.connect(self._split_moved)
        self.split = split
        self._split_by_user = False
        inner = QtWidgets.QVBoxLayout(page)
        inner.setContentsMargins(4, 4, 4, 0)
        inner.addLayout(row1)
        inner.addWidget(self.index)
        inner.addWidget(split, 1)
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.explanation = None
        self._auto_phase = True
        self._auto_read_channel = True
        self.sample.valueChanged.connect(lambda _=0: self.refresh(self.state))
        self.index.changed.connect(self._unit_changed)
        self.read_channel.valueChanged.connect(self._read_channel_chosen)
        self.phase.activated.connect(self._phase_chosen)

    # -- selection -------------------------------------------------------------------------
    def _set_phases(self, names: list[str]) -> None:
        self.phase.clear()
        for name in names:
            self.phase.addItem(_(PHASE_LABELS[name]) if name in PHASE_LABELS else name, name)

    def _select_phase(self, name: str) -> None:
        k = self.phase.findData(name)
        if k < 0:
            self.phase.addItem(_(PHASE_LABELS[name]) if name in PHASE_LABELS else name, name)
            k = self.phase.count() - 1
        self.phase.setCurrentIndex(k)

    def current_phase(self) -> str:
        """The phase explained ('forward', 'backward', 'loss', '∂C/∂W', '∂C/∂b'), whatever the language."""
        return self.phase.currentData() or "forward"

    def reset(self) -> None:
        self._auto_phase = True
        self._auto_read_channel = True
        self.index.set_value((0, 0, 0, 0))
        self.sample.blockSignals(True)
        self.sample.setValue(0)
        self.sample.blockSignals(False)

    def _phase_chosen(self, _value=0) -> None:
        self._auto_phase = False
        self._auto_read_channel = True
        self.refresh(self.state)

    def _unit_changed(self) -> None:
        self._auto_read_channel = True
        self.refresh(self.state)

    def _read_channel_chosen(self, _value=0) -> None:
        self._auto_read_channel = False
        self._draw_maps()

    def set_unit(self, unit: tuple[int, ...], sample: int = 0, phase: str | None = None) -> None:
        """Explain `unit` (of the output for forward, of the input for backward, a parameter index for ∂C/∂W)."""
        if phase is not None:
            self._select_phase(phase)
            self._auto_phase = False
        self.index.set_value(tuple(unit))
        self.sample.blockSignals(True)
        self.sample.setMaximum(max(self.sample.maximum(), sample))
        self.sample.setValue(sample)
        self.sample.blockSignals(False)
        self._auto_read_channel = True

    def unit(self) -> tuple[int, ...]:
        return self.index.value()

    def _phases_for(self, st: LayerState) -> list[str]:
        names = ["forward", "backward", "loss"]
        names += [ph for ph, name in PARAM_PHASES.items() if name in st.layer_obj.params]
        return names

    def _shape(self, st: LayerState, phase: str) -> tuple[int, ...]:
        if phase in PARAM_PHASES:
            return tuple(st.layer_obj.params[PARAM_PHASES[phase]].shape)
        return unit_shape(st.network, st.layer, phase)

    # -- drawing --------------------------------------------------------------------------
    def refresh(self, st: LayerState | None) -> None:
        self.state = st
        if st is None:
            return
        names = self._phases_for(st)
        if [self.phase.itemData(k) for k in range(self.phase.count())] != names:
            current = self.current_phase()
            self.phase.blockSignals(True)
            self._set_phases(names)
            self._select_phase(current if current in names else "backward")
            self.phase.blockSignals(False)
        if self._auto_phase:
            self._select_phase("backward" if st.backward is not None else "forward")
        phase = self.current_phase()
        set_max(self.sample, st.batch_size - 1)
        self.index.set_shape(self._shape(st, phase))
        n = self.sample.value()
        try:
            if phase in PARAM_PHASES:
                e = explain_param(st.network, st.records, st.layer, PARAM_PHASES[phase], self.unit(), sample=n)
            else:
                e = explain_unit(st.network, st.records, None if phase == "loss" else st.layer, self.unit(),
                                 phase=phase, sample=n)
        except (ValueError, IndexError) as err:       # a unit out of range while the pickers catch up
            self.explanation = None
            self.text.set_content(_("cannot explain this unit: {why}").format(why=err), [], str(err))
            return
        self.explanation = e
        if e.available:
            tex = [e.formula_tex, *e.lines_tex]
            plain = f"{e.text}\n\n" + _("value in the record: {value}").format(value=fmt(e.value))
        else:
            tex, plain = [], f"{e.title}\n\n{e.numbers}"
        if e.available:
            about = " · ".join(f"{ref.title} = {ref.about}" for ref in (e.reads, e.computes)
                               if ref is not None and ref.about)
            plain = f"{e.title}\n{about}\n\n" + plain.split("\n\n", 1)[1]
            heading = e.title
        else:
            heading = f"{e.title}\n\n{e.numbers}"
        self.text.set_content(heading, tex, plain)
        self._draw_maps()
        self._fit_split()

    def _split_moved(self, *_args) -> None:
        self._split_by_user = True

    def _fit_split(self) -> None:
        """Give the formula the height it needs (up to half the tab), the maps the rest — until the
        user drags the divider."""
        total = sum(self.split.sizes())
        if self._split_by_user or total <= 0:
            return
        need = min(self.text.content_height(), int(0.5 * total))
        self.split.setSizes([total - need, need])

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_split()

    def _draw_maps(self) -> None:
        e = self.explanation
        reads = e.reads if e is not None and e.available else None
        computes = e.computes if e is not None and e.available else None
        channel = self._pick_read_channel(reads)
        self._show(self.read_panel, reads, channel, self.window_marks)
        unit_channel = computes.cells[0][0] if computes is not None and np.ndim(computes.array) == 3 else 0
        self._show(self.result_panel, computes, unit_channel, self.unit_mark)
        if self.maps.width() < 2 * self.maps.needed_width():
            # too narrow for both titles side by side: name the symbols only ("∂C/∂x, ch 5", "∂C/∂y")
            for panel in self.panels:
                symbol = symbol_of(panel.names[0])
                if symbol != panel.names[0]:
                    panel.show(0, panel.data[0], symbol)
        self.maps.arrange()                  # a longer title may no longer fit side by side

    def _pick_read_channel(self, ref: MapRef | None) -> int:
        spatial = ref is not None and ref.array is not None and np.ndim(ref.array) == 3
        self.read_label.setVisible(spatial and np.shape(ref.array)[0] > 1)
        self.read_channel.setVisible(self.read_label.isVisible())
        if not spatial:
            return 0
        set_max(self.read_channel, np.shape(ref.array)[0] - 1)
        if self._auto_read_channel and ref.cells:
            # the channel of the term with the largest |product| (the one the eye should go to)
            weights: dict[int, float] = {}
            for t in self.explanation.terms:
                if t.cell is not None and len(t.cell) == 3:
                    weights[t.cell[0]] = weights.get(t.cell[0], 0.0) + abs(t.product)
            best = max(weights, key=weights.get) if weights else ref.cells[0][0]
            self.read_channel.blockSignals(True)
            self.read_channel.setValue(int(best))
            self.read_channel.blockSignals(False)
        return self.read_channel.value()

    def _show(self, panel: MapPanel, ref: MapRef | None, channel: int, marks: pg.ScatterPlotItem) -> None:
        if ref is None or ref.array is None:
            panel.show(0, None, "—")
            marks.setData([], [])
            return
        a = np.asarray(ref.array)
        spatial = a.ndim == 3
        data = a[channel] if spatial else a.reshape(-1)
        panel.set_gradient(0, ref.gradient)
        panel.setToolTip(f"{ref.title}: {ref.about}" if ref.about else ref.title)
        title = ref.title + (", " + _("ch {channel}").format(channel=channel) if spatial and a.shape[0] > 1 else "")
        panel.show(0, data, title)
        cells = [c for c in ref.cells if not spatial or c[0] == channel]
        if marks is self.window_marks and len(set(cells)) >= data.size and self.explanation.shown:
            # the terms read the whole map (a dense layer): mark the ones written out, the largest
            cells = [t.cell for t in self.explanation.shown
                     if t.cell is not None and (not spatial or t.cell[0] == channel)]
        if spatial:
            xs = [c[2] + 0.5 for c in cells]
            ys = [c[1] + 0.5 for c in cells]
        elif a.ndim == 2:
            xs, ys = [c[1] + 0.5 for c in cells], [c[0] + 0.5 for c in cells]
        else:
            xs, ys = [c[-1] + 0.5 for c in cells], [0.5] * len(cells)
        marks.setData(xs, ys)

    def marked_cells(self, k: int) -> list[tuple[int, int]]:
        """(row, col) of the squares drawn on map k (0: read, 1: computed), for tests and snapshots."""
        xs, ys = (self.window_marks if k == 0 else self.unit_mark).getData()
        return sorted((int(np.floor(y)), int(np.floor(x))) for x, y in zip(xs, ys))

    def _clicked(self, rc: tuple[int, ...]) -> None:
        """A click on the computed map explains the unit clicked (same phase, same sample)."""
        e = self.explanation
        if self.state is None or e is None or not e.available or e.computes is None:
            return
        a = np.asarray(e.computes.array)
        if a.ndim == 3:
            unit = (e.computes.cells[0][0], *rc)
        elif a.ndim == 2:
            unit = rc
        else:
            unit = (rc[-1],)
        phase = self.current_phase()
        if phase in PARAM_PHASES and len(self._shape(self.state, phase)) in (2, 4):
            unit = (self.unit()[0], *unit)              # the map shows one filter / one row of W: it stays
        self.inspector.select_unit(unit, sample=self.sample.value(), phase=phase)
