"""The Numbers tab as a user meets it: click a unit on a map, read the rendered formula, see its window."""

import numpy as np
import pytest
from PyQt6 import QtCore, QtWidgets
from PyQt6.QtTest import QTest

import visualcnn as vc
from ui.views.formula import MathView, split_top_level
from ui.views.inspector import Inspector
from visualcnn.data import load_dataset
from visualcnn.explain import find_record, fmt

SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},     # 0 → 3×8×8
    {"type": "relu"},                                                           # 1
    {"type": "avgpool2d", "kernel_size": 3, "stride": 2},                       # 2 → 3×3×3, overlapping
    {"type": "flatten"},                                                        # 3
    {"type": "dense", "out_features": 10}]}                                     # 4


@pytest.fixture
def setup(qtbot):
    net = vc.Network.from_spec(SPEC)
    s = vc.Session(net, vc.SGD(net, lr=0.1, momentum=0.9), load_dataset("digits"), batch_size=2)
    records = [s.step() for _ in range(s.n_phases)]             # the whole iteration, update included
    ins = Inspector()
    qtbot.addWidget(ins)
    ins.resize(900, 880)
    ins.set_network(s.network)
    ins.show()
    qtbot.waitExposed(ins)
    ins.setCurrentWidget(ins.numbers)
    ins.show_state(records, None)
    return s, records, ins


def click_cell(qtbot, panel, row, col):
    """Click the centre of cell (row, col) of a MapPanel's map, as a user would."""
    qtbot.wait(30)                                      # let pending layout (a resized formula area) settle
    image = panel.plots[0].image
    pos = panel.glw.mapFromScene(image.mapToScene(QtCore.QPointF(col + 0.5, row + 0.5)))
    QTest.mouseClick(panel.glw.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    qtbot.wait(20)


def test_clicking_a_conv_unit_shows_its_receptive_field_and_rendered_sum(qtbot, setup):
    s, records, ins = setup
    ins.select_layer(0)
    tab = ins.numbers
    tab.phase.setCurrentText("forward")
    tab._phase_chosen()
    with qtbot.waitSignal(ins.unitSelected, timeout=2000) as blocker:
        click_cell(qtbot, tab.result_panel, 0, 5)               # unit (0, 0, 5): the window hangs over row −1
    assert blocker.args == [0, (0, 0, 5)]
    e = tab.explanation
    fwd = find_record(records, "forward", 0)
    assert e.value == float(fwd.y[0, 0, 0, 5])
    assert tab.marked_cells(0) == [(a, b) for a in (0, 1) for b in (4, 5, 6)]     # in-bounds part of the 3×3
    assert tab.marked_cells(1) == [(0, 5)]
    np.testing.assert_array_equal(tab.read_panel.data[0], fwd.x[0, 0])
    assert tab.read_panel.names[0].startswith("reads y")          # titled by what it is
    assert tab.result_panel.names[0].startswith("computes x")
    # the formula is drawn as math: one pixmap per rendered line, the last one stating the value
    shown = [lab for lab in tab.text.lines if lab.isVisible()]
    assert len(shown) == len(tab.text.shown_tex) >= 4
    assert all(not lab.pixmap().isNull() and lab.pixmap().height() > 10 for lab in shown)
    assert tab.text.shown_tex[-1] == f"= {e.lines_tex[-1][2:]}"
    assert fmt(e.value) in tab.text.toPlainText().splitlines()[-1]


def test_backward_through_overlapping_windows_marks_every_window(qtbot, setup):
    s, records, ins = setup
    ins.select_layer(2)
    tab = ins.numbers                                          # auto phase: backward ran, so backward
    assert tab.phase.currentText() == "backward"
    tab.index.set_value((1, 2, 2))
    tab._unit_changed()
    bwd = find_record(records, "backward", 2)
    e = tab.explanation
    assert e.value == float(bwd.dx[0, 1, 2, 2])
    # input (2, 2) lies in the four windows (0..1, 0..1) of a k3 s2 pooling: all four are marked on ∂C/∂y
    assert tab.marked_cells(0) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert tab.read_channel.value() == 1
    assert e.total == pytest.approx(float(bwd.dout[0, 1, :2, :2].sum()) / 9, rel=1e-5)
    # clicking another input on the computed map (∂C/∂x) explains that one
    click_cell(qtbot, tab.result_panel, 4, 5)
    assert tab.unit() == (1, 4, 5) and tab.explanation.value == float(bwd.dx[0, 1, 4, 5])
    assert tab.marked_cells(0) == [(1, 2), (2, 2)]                  # rows 2..4 and 4..6, cols 4..6


def test_a_long_sum_is_folded_and_its_largest_terms_are_marked(qtbot, setup):
    s, records, ins = setup
    ins.select_layer(4)
    ins.select_unit((7,), phase="forward")
    tab = ins.numbers
    e = tab.explanation
    assert len(e.terms) == 27 and len(e.shown) == 4
    rendered = " ".join(tab.text.shown_tex)
    assert "\\ldots_{(23)}" in rendered and fmt(e.folded).replace("−", "-") in rendered
    # a dense unit reads the whole map: the four terms written out are the ones marked
    assert tab.marked_cells(0) == sorted((0, t.cell[0]) for t in e.shown)


def test_parameter_gradient_and_gradient_tab_click(qtbot, setup):
    s, records, ins = setup
    ins.select_layer(0)
    ins.select_unit((2, 0, 1, 1), phase="∂C/∂W")
    tab = ins.numbers
    bwd = find_record(records, "backward", 0)
    assert tab.explanation.value == float(bwd.grads["W"][2, 0, 1, 1])
    assert tab.marked_cells(1) == [(1, 1)]
    # on the Gradient tab a click on ∂C/∂x sent down opens that entry in the backward phase
    ins.select_layer(2)
    ins.setCurrentWidget(ins.gradient)
    ins.gradient.in_channel.setValue(2)
    with qtbot.waitSignal(ins.unitSelected, timeout=2000) as blocker:
        click_cell(qtbot, _single(ins.gradient.panel, 1), 3, 6)
    assert blocker.args == [2, (2, 3, 6)]
    ins.setCurrentWidget(tab)
    assert tab.phase.currentText() == "backward" and tab.explanation.value == float(
        find_record(records, "backward", 2).dx[0, 2, 3, 6])


class _single:
    """One map of a multi-map MapPanel, with the attributes click_cell uses."""

    def __init__(self, panel, k):
        self.glw, self.plots = panel.glw, [panel.plots[k]]


def test_lines_fit_a_narrow_view_by_breaking_at_plus(qtbot):
    view = MathView()
    qtbot.addWidget(view)
    view.resize(260, 300)
    view.show()
    qtbot.waitExposed(view)
    long = "= " + " + ".join(f"{k}.123 \\cdot (-0.{k}45)" for k in range(1, 7))
    view.set_content("title", [long], "plain")
    assert len(view.shown_tex) > 1 and view.shown_tex[1].startswith("\\quad + ")
    assert all(lab.pixmap().width() / lab.pixmap().devicePixelRatio() <= view.viewport().width()
               for lab in view.lines if lab.isVisible())
    tex = r"= a + \left(b + c\right) + [d + e],\quad f = g"
    parts = split_top_level(tex)
    assert parts == [("", "= a"), (" + ", r"\left(b + c\right)"), (" + ", "[d + e]"), (r",\quad ", "f"), (" = ", "g")]
    assert "".join(j + p for j, p in parts) == tex


@pytest.mark.parametrize("size, across", [((380, 860), False), ((900, 560), True)])
def test_maps_are_laid_out_to_be_as_large_as_the_tab_allows(qtbot, setup, size, across):
    s, records, ins = setup
    ins.select_layer(0)
    ins.resize(*size)
    qtbot.wait(50)
    tab = ins.numbers
    vb = [p.plots[0].plot.vb.sceneBoundingRect() for p in tab.panels]
    first, second = (p.mapTo(tab, QtCore.QPoint(0, 0)) for p in tab.panels)
    assert (first.y() == second.y()) == across                      # side by side or one above the other
    short = min(min(r.width(), r.height()) for r in vb)
    assert short >= 120, f"maps only {short:.0f} px at {size}"
    # the formula keeps at least the height it needs, or half the tab, and never clips a line sideways
    assert tab.text.height() >= min(tab.text.content_height(), tab.split.height() // 2) - 2


@pytest.mark.parametrize("size", [(370, 385), (900, 880)])
def test_no_text_is_clipped(qtbot, setup, size):
    """At the dock's default size and enlarged: every label and map title fits its widget."""
    s, records, ins = setup
    ins.resize(*size)
    for layer, unit, phase in ((0, (1, 4, 4), "backward"), (2, (2, 1, 1), "forward"), (4, (3,), "forward")):
        ins.select_layer(layer)
        ins.select_unit(unit, phase=phase)
        qtbot.wait(30)
        tab = ins.numbers
        for lab in tab.findChildren(QtWidgets.QLabel):
            if lab.isVisible() and not lab.wordWrap() and lab.text():
                assert lab.fontMetrics().horizontalAdvance(lab.text()) <= lab.width(), lab.text()
        for panel in tab.panels:
            plot, bar = panel.plots[0].plot, panel.plots[0].bar
            title = plot.titleLabel.item.boundingRect().width()
            assert title <= plot.width(), (panel.names[0], title, plot.width())
            # nothing of the map, its title or its scale lies outside what the panel shows
            assert bar.sceneBoundingRect().right() <= panel.glw.viewport().width() + 1, panel.names[0]
