"""Inspector: tabs that look into one layer — activations, gradients, pooling, parameters, numbers.

inspector.set_network(net); inspector.select_layer(i); inspector.show_state(records, next_phase)
Only the visible tab redraws; switching tabs draws the new one from the last records.
Every tab copes with every layer type at every phase (before a phase ran it says so).
"""

from __future__ import annotations

from typing import Sequence

from PyQt6 import QtCore, QtWidgets

from ui import style
from ui.views.common import LayerState, MapPanel, channel_slice, not_run_yet, set_max, spin
from ui.views.numbers import NumbersTab
from ui.views.tabs import ParametersTab, PoolingTab
from visualcnn.i18n import N_, _
from visualcnn.records import StepRecord


class _MapTab(QtWidgets.QWidget):
    """Two maps of one sample with sample / channel pickers; a click on the output-side map picks a unit."""

    #: (label, spin box attribute) in the order the pickers appear
    PICKERS: tuple[tuple[str, str], ...] = ()
    MAPS: tuple[tuple[str, bool], ...] = ()      # (title, gradient colours?)
    CLICK_MAP = 0                                # which map's click selects a unit
    PHASE = "forward"

    def __init__(self, inspector: "Inspector") -> None:
        super().__init__()
        self.inspector = inspector
        self.state: LayerState | None = None
        controls = QtWidgets.QHBoxLayout()
        self.sample = spin(_("sample"), controls)
        for label, attr in self.PICKERS:
            setattr(self, attr, spin(_(label), controls))
        controls.addStretch(1)
        self.panel = MapPanel()
        for title, gradient in self.MAPS:
            self.panel.add(_(title), gradient=gradient)
        self.panel.on_click = self._clicked
        self.note = QtWidgets.QLabel()
        self.note.setWordWrap(True)
        box = QtWidgets.QVBoxLayout(self)
        box.addLayout(controls)
        box.addWidget(self.note)
        box.addWidget(self.panel, 1)
        for s in (self.sample, self.in_channel, self.out_channel):
            s.valueChanged.connect(lambda _=0: self.refresh(self.state))

    def refresh(self, st: LayerState | None) -> None:
        self.state = st
        if st is None:
            return
        lay = st.layer_obj
        set_max(self.sample, st.batch_size - 1)
        set_max(self.in_channel, lay.input_shape[0] - 1 if len(lay.input_shape) == 3 else 0)
        set_max(self.out_channel, lay.output_shape[0] - 1 if len(lay.output_shape) == 3 else 0)
        self.draw(st)

    def draw(self, st: LayerState) -> None:
        raise NotImplementedError

    def _clicked(self, index: int, rc: tuple[int, ...]) -> None:
        if index == self.CLICK_MAP and self.state is not None:
            spatial = len(self.state.layer_obj.output_shape) == 3
            self.inspector.select_unit((self.out_channel.value(), *rc) if spatial else rc,
                                       sample=self.sample.value(), phase=self.PHASE)


class ActivationsTab(_MapTab):
    """The layer's input and output maps (one channel of one sample), value on hover."""

    PICKERS = ((N_("in ch"), "in_channel"), (N_("out ch"), "out_channel"))
    MAPS = ((N_("input x"), False), (N_("output y"), False))
    CLICK_MAP, PHASE = 1, "forward"

    def draw(self, st: LayerState) -> None:
        rec = st.forward
        n = self.sample.value()
        self.note.setText("" if rec is not None else not_run_yet("forward", st.layer))
        self.panel.show(0, channel_slice(rec.x if rec else None, n, self.in_channel.value()),
                        _("input x, ch {channel}").format(channel=self.in_channel.value()))
        self.panel.show(1, channel_slice(rec.y if rec else None, n, self.out_channel.value()),
                        _("output y, ch {channel}").format(channel=self.out_channel.value()))


class GradientTab(_MapTab):
    """dC/d(output) and dC/d(input) side by side on one symmetric scale."""

    PICKERS = ((N_("out ch"), "out_channel"), (N_("in ch"), "in_channel"))
    MAPS = ((N_("∂C/∂y (arriving)"), True), (N_("∂C/∂x (sent down)"), True))
    CLICK_MAP, PHASE = 0, "backward"

    def draw(self, st: LayerState) -> None:
        rec = st.backward
        n = self.sample.value()
        dout = channel_slice(rec.dout if rec else None, n, self.out_channel.value())
        dx = channel_slice(rec.dx if rec else None, n, self.in_channel.value())
        levels = style.symmetric_levels(dout, dx)
        self.note.setText(_("one scale for both: {levels}").format(levels=style.levels_text(levels, True))
                          if rec is not None else not_run_yet("backward", st.layer))
        self.panel.show(0, dout, _("∂C/∂y arriving, ch {channel}").format(channel=self.out_channel.value()), levels)
        self.panel.show(1, dx, _("∂C/∂x sent down, ch {channel}").format(channel=self.in_channel.value()), levels)

    def _clicked(self, index: int, rc: tuple[int, ...]) -> None:
        # the Numbers tab's backward explains an entry of ∂C/∂x sent down: a unit of the layer's input
        if index == 1 and self.state is not None:
            spatial = len(self.state.layer_obj.input_shape) == 3
            self.inspector.select_unit((self.in_channel.value(), *rc) if spatial else rc,
                                       sample=self.sample.value(), phase="backward")


class Inspector(QtWidgets.QTabWidget):
    """The selected layer's tabs. select_layer(i); unitSelected(layer, unit) when a map is clicked."""

    unitSelected = QtCore.pyqtSignal(int, tuple)

    TABS = (N_("Activations"), N_("Gradient"), N_("Pooling"), N_("Params"), N_("Numbers"))
    TIPS = (N_("the layer's input and output maps"), N_("∂C/∂y arriving and ∂C/∂x sent down, one symmetric scale"),
            N_("window winners and routing weights (pooling layers)"),
            N_("parameters: W, ∂C/∂W, ΔW and the update ratio"), N_("the formula behind one unit, with its numbers"))

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = None
        self.layer = 0
        self.records: list[StepRecord] = []
        self.next_phase: tuple[str, int | None] | None = None
        self.activations = ActivationsTab(self)
        self.gradient = GradientTab(self)
        self.pooling = PoolingTab(self)
        self.parameters = ParametersTab(self)
        self.numbers = NumbersTab(self)
        self._tabs = (self.activations, self.gradient, self.pooling, self.parameters, self.numbers)
        for k, (name, tab) in enumerate(zip(self.TABS, self._tabs)):
            self.addTab(tab, _(name))
            self.setTabToolTip(k, _(self.TIPS[k]))
        self.setFont(style.font(style.FONT_PT))
        self.tabBar().setFont(style.font(style.FONT_SMALL_PT))
        self.setDocumentMode(True)
        self.tabBar().setExpanding(False)
        self.setUsesScrollButtons(True)
        self.currentChanged.connect(lambda _=0: self._refresh())
        self._fit_tabs()

    def _fit_tabs(self) -> None:
        """Never narrower than its tabs: no tab hides behind scroll arrows, at any text size."""
        self.setMinimumWidth(max(360, self.tabBar().sizeHint().width() + 6))

    def changeEvent(self, ev: QtCore.QEvent) -> None:
        super().changeEvent(ev)
        if ev.type() in (QtCore.QEvent.Type.FontChange, QtCore.QEvent.Type.ApplicationFontChange):
            QtCore.QTimer.singleShot(0, self._fit_tabs)         # once the tab bar has its new font

    # -- public API ----------------------------------------------------------------
    def set_network(self, network) -> None:
        self.network = network
        self.records = []
        self.layer = min(self.layer, len(network.layers) - 1)
        self.numbers.reset()
        self._refresh()

    def select_layer(self, index: int) -> None:
        if self.network is None or not 0 <= index < len(self.network.layers):
            return
        if index != self.layer:
            self.layer = index
            self.numbers.reset()
        self._refresh()

    def show_state(self, records: Sequence[StepRecord], next_phase: tuple[str, int | None] | None) -> None:
        self.records = list(records)
        self.next_phase = next_phase
        self._refresh()

    def select_unit(self, unit: tuple[int, ...], sample: int = 0, phase: str | None = None) -> None:
        """Show `unit` of the selected layer in the Numbers tab and emit unitSelected."""
        self.numbers.set_unit(unit, sample, phase)
        self.unitSelected.emit(self.layer, tuple(int(u) for u in unit))
        if self.currentWidget() is self.numbers:
            self._refresh()

    def state(self) -> LayerState | None:
        if self.network is None:
            return None
        return LayerState.of(self.network, self.layer, self.records, self.next_phase)

    # -- drawing ---------------------------------------------------------------------
    def _refresh(self) -> None:
        st = self.state()
        if st is None:
            return
        tab = self.currentWidget()
        if tab is not None:
            tab.refresh(st)
