"""The inspector's Numbers tab: the formula behind one unit, with the core's own numbers (visualcnn.explain)."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from ui import style
from ui.views.common import LayerState, MapPanel, channel_slice, set_max, spin
from ui.views.tabs import _Tab
from visualcnn.explain import explain_unit, fmt


class NumbersTab(_Tab):
    """The formula behind one unit, with the numbers of the records plugged in (visualcnn.explain)."""

    def __init__(self, inspector) -> None:
        super().__init__(inspector)
        page = QtWidgets.QWidget()
        row1 = QtWidgets.QHBoxLayout()
        row1.addWidget(QtWidgets.QLabel("phase"))
        self.phase = QtWidgets.QComboBox()
        self.phase.addItems(["forward", "backward", "loss"])
        row1.addWidget(self.phase)
        self.sample = spin("sample", row1)
        row1.addStretch(1)
        row2 = QtWidgets.QHBoxLayout()
        self.c = spin("ch", row2)
        self.i = spin("row", row2)
        self.j = spin("col", row2)
        row2.addStretch(1)
        self.panel = MapPanel()
        self.panel.add("click a unit")
        self.panel.on_click = self._clicked
        self.text = QtWidgets.QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(style.font(style.FONT_PT, mono=True))
        self.text.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.WidgetWidth)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        split.addWidget(self.panel)
        split.addWidget(self.text)
        split.setSizes([220, 300])
        inner = QtWidgets.QVBoxLayout(page)
        inner.addLayout(row1)
        inner.addLayout(row2)
        inner.addWidget(split, 1)
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        self.explanation = None
        self._auto_phase = True
        for w in (self.sample, self.c, self.i, self.j):
            w.valueChanged.connect(lambda _=0: self.refresh(self.state))
        self.phase.activated.connect(self._phase_chosen)
        self.marker = pg.ScatterPlotItem(symbol="s", size=12, pen=pg.mkPen(style.HIGHLIGHT, width=2), brush=None)
        self.panel.plots[0].plot.addItem(self.marker)

    def reset(self) -> None:
        self._auto_phase = True
        for w in (self.c, self.i, self.j, self.sample):
            w.blockSignals(True)
            w.setValue(0)
            w.blockSignals(False)

    def _phase_chosen(self, _=0) -> None:
        self._auto_phase = False
        self.refresh(self.state)

    def set_unit(self, unit: tuple[int, ...], sample: int = 0, phase: str | None = None) -> None:
        boxes = (self.c, self.i, self.j) if len(unit) == 3 else (self.j,)
        for box, v in zip(boxes, unit):
            box.blockSignals(True)
            box.setMaximum(max(box.maximum(), int(v)))
            box.setValue(int(v))
            box.blockSignals(False)
        self.sample.blockSignals(True)
        self.sample.setMaximum(max(self.sample.maximum(), sample))
        self.sample.setValue(sample)
        self.sample.blockSignals(False)
        if phase is not None:
            self.phase.setCurrentText(phase)
            self._auto_phase = False

    def unit(self) -> tuple[int, ...]:
        if self.phase.currentText() == "loss":
            return (self.j.value(),)
        shape = self.state.layer_obj.output_shape
        return (self.c.value(), self.i.value(), self.j.value()) if len(shape) == 3 else (self.j.value(),)

    def refresh(self, st: LayerState | None) -> None:
        self.state = st
        if st is None:
            return
        lay = st.layer_obj
        if self._auto_phase:
            phase = "backward" if st.backward is not None else "forward"
            self.phase.setCurrentText(phase)
        phase = self.phase.currentText()
        set_max(self.sample, st.batch_size - 1)
        shape = (st.network.n_classes,) if phase == "loss" else lay.output_shape
        spatial = len(shape) == 3
        set_max(self.c, shape[0] - 1 if spatial else 0)
        set_max(self.i, shape[1] - 1 if spatial else 0)
        set_max(self.j, shape[2] - 1 if spatial else shape[0] - 1)
        n = self.sample.value()
        if phase == "loss":
            arr, gradient, what = (st.loss.probs if st.loss else None), False, "probabilities p (click a class)"
        elif phase == "backward":
            arr, gradient, what = (st.backward.dout if st.backward else None), True, f"∂C/∂y of layer {st.layer}"
        else:
            arr, gradient, what = (st.forward.y if st.forward else None), False, f"output y of layer {st.layer}"
        self.panel.set_gradient(0, gradient)
        data = channel_slice(arr, n, self.c.value())
        self.panel.show(0, data, what + (f", ch {self.c.value()}" if spatial else ""))
        if data is not None:
            r, q = (self.i.value(), self.j.value()) if spatial else (0, self.j.value())
            self.marker.setData([q + 0.5], [r + 0.5])
        else:
            self.marker.setData([], [])
        try:
            e = explain_unit(st.network, st.records, None if phase == "loss" else st.layer, self.unit(),
                             phase=phase, sample=n)
        except (ValueError, IndexError) as err:       # a unit out of range while the spins catch up
            self.text.setPlainText(f"cannot explain this unit: {err}")
            return
        self.explanation = e
        body = e.text if e.available else f"{e.title}\n\n{e.numbers}"
        if e.available:
            body += f"\n\nvalue in the record: {fmt(e.value)}"
        self.text.setPlainText(body)

    def _clicked(self, index: int, rc: tuple[int, ...]) -> None:
        if self.state is None:
            return
        if len(rc) == 2:
            unit = (self.c.value(), *rc)
        else:
            unit = rc
        self.inspector.select_unit(unit, sample=self.sample.value(),
                                   phase=self.phase.currentText())
