"""GradCheckView (the check off the GUI thread, its table and three maps) and MistakesPanel."""

import numpy as np
import pytest
from PyQt6 import QtCore
from PyQt6.QtTest import QTest

from ui.views.gradcheck_view import FAIL_COLOR, PASS_COLOR, GradCheckView, error_map
from ui.views.mistakes_panel import MistakesPanel
from visualcnn import mistakes as M
from visualcnn.network import Network

SPEC = {"input_shape": [2, 7, 7], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "tanh"},
    {"type": "conv2d", "out_channels": 3, "kernel_size": 2}, {"type": "sigmoid"},
    {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 4}],
    "loss": {"type": "softmax_cross_entropy", "reduction": "sum"}}


def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2, 2, 7, 7)), np.array([0, 3])


@pytest.fixture
def view(qtbot):
    v = GradCheckView()
    qtbot.addWidget(v)
    v.resize(1100, 800)
    v.show()
    yield v
    v.shutdown()


def run(qtbot, view, net, **kw):
    with qtbot.waitSignal(view.checkFinished, timeout=60000) as blocker:
        view.run_check(net, *batch(), **kw)
    return blocker.args[0]


def row_of(view, layer, name):
    return view._rows.index((layer, name))


def test_correct_network_fills_the_table_and_passes(qtbot, view):
    net = Network.from_spec(SPEC, dtype=np.float32)
    view.set_network(net)
    assert view.table.rowCount() == 13 and view.table.item(0, 6).text() == "not checked"
    report = run(qtbot, view, net)
    assert report.passed and not view.running
    assert view.table.rowCount() == len(report.results) == 13
    for row in range(view.table.rowCount()):
        assert view.table.item(row, 6).text() == "✓ pass"
        assert view.table.item(row, 6).background().color() == PASS_COLOR
    assert "all 13 tensors pass" in view.summary.text()
    assert "entries sampled" in view.summary.text()         # 64 per tensor: the inputs are sampled
    r = report.result(0, "input")
    assert view.table.item(row_of(view, 0, "input"), 4).text() == "64 of 196"
    assert r.indices.size == 64


def test_conv_no_flip_marks_the_conv_row(qtbot, view):
    net = M.build_network(SPEC, ["conv-no-flip"], np.float32)
    report = run(qtbot, view, net)
    failing = {(r.layer, r.name) for r in report.failures}
    assert failing == M.expected_failures(net) and (2, "input") in failing
    for row, key in enumerate(view._rows):
        item = view.table.item(row, 6)
        if key in failing:
            assert item.text() == "✗ FAIL" and item.background().color() == FAIL_COLOR
        else:
            assert item.text() == "✓ pass"
    assert "5 of 13 tensors FAIL" in view.summary.text()
    # the first failing row is selected, and the maps outline its failing cells
    assert view.selected_result().layer == 0 and not view.selected_result().passed
    view.select(2, "input")
    res = view.selected_result()
    assert (res.layer, res.name) == (2, "input")
    lead = view._lead()
    in_slice = sum(1 for f in res.failing if np.unravel_index(f, res.shape)[:2] == lead)
    assert len(view.marks["analytic"].data) == in_slice > 0


def test_the_three_maps_show_the_reports_arrays(qtbot, view):
    net = M.build_network(SPEC, ["conv-no-flip"], np.float32)
    report = run(qtbot, view, net, layer=2)
    assert {(r.layer, r.name) for r in report.results} == {(2, "W"), (2, "b"), (2, "input")}
    view.select(2, "W")                                    # (F, C, KH, KW): filter and channel pickers
    res = report.result(2, "W")
    (l0, s0), (l1, s1) = view.pickers
    assert l0.text() == "filter" and l1.text() == "channel" and s0.maximum() == 2 and s1.maximum() == 2
    s0.setValue(1)
    s1.setValue(2)
    items = {k: m.image for k, m in view.maps.items()}
    np.testing.assert_array_equal(items["analytic"].image, res.full("analytic")[1, 2])
    np.testing.assert_array_equal(items["numeric"].image, res.full("numeric")[1, 2])
    np.testing.assert_array_equal(items["error"].image, error_map(res)[1, 2])
    np.testing.assert_allclose(10 ** items["error"].image, np.maximum(res.full("rel_error")[1, 2], 1e-16))
    # analytic and numeric share one colour scale, symmetric around 0
    assert items["analytic"].levels is not None
    np.testing.assert_array_equal(items["analytic"].levels, items["numeric"].levels)
    assert items["analytic"].levels[0] == -items["analytic"].levels[1]
    # a 1-D tensor is one row; pickers hidden
    view.select(2, "b")
    assert not view.pickers[0][1].isVisibleTo(view)
    np.testing.assert_array_equal(items["analytic"].image, report.result(2, "b").full("analytic")[None, :])


def test_clicking_a_cell_emits_its_flat_index(qtbot, view):
    net = Network.from_spec(SPEC, dtype=np.float64)
    view.entries.setValue(0)                               # all entries
    run(qtbot, view, net, layer=0)
    view.select(0, "W")
    view.pickers[0][1].setValue(2)
    view.pickers[1][1].setValue(1)
    qtbot.wait(50)
    image = view.maps["numeric"].image
    scene = image.mapToScene(QtCore.QPointF(2.5, 1.5))     # column 2, row 1
    pos = view.glw.mapFromScene(scene)
    with qtbot.waitSignal(view.cellClicked, timeout=2000) as blocker:
        QTest.mouseClick(view.glw.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [0, "W", int(np.ravel_multi_index((2, 1, 1, 2), (3, 2, 3, 3)))]
    assert view.entry_label.text().startswith("W[2, 1, 1, 2]: analytic")


def test_cancel_stops_the_check(qtbot, view):
    big = {"input_shape": [3, 20, 20], "layers": [
        {"type": "conv2d", "out_channels": 8, "kernel_size": 5}, {"type": "tanh"},
        {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    net = Network.from_spec(big, dtype=np.float64)
    view.entries.setValue(0)                               # every entry: tens of thousands of forward passes
    rng = np.random.default_rng(0)
    with qtbot.waitSignal(view.checkFinished, timeout=30000) as blocker:
        view.run_check(net, rng.normal(size=(4, 3, 20, 20)), np.arange(4))
        qtbot.waitUntil(lambda: view.progress.maximum() > 0 and view.progress.value() > 0, timeout=10000)
        assert view.cancel_button.isVisible() and view.running
        QTest.mouseClick(view.cancel_button, QtCore.Qt.MouseButton.LeftButton)
    assert blocker.args == [None]
    qtbot.waitUntil(lambda: not view.running, timeout=5000)
    assert view.summary.text() == "Check cancelled." and not view.cancel_button.isVisible()
    assert view.progress.value() < view.progress.maximum()


def test_screenshot_of_the_gradcheck_view(qtbot, view):
    run(qtbot, view, M.build_network(SPEC, ["conv-no-flip"], np.float32))
    view.select(2, "input")
    qtbot.wait(50)
    assert view.grab().save("/tmp/gc_view.png")


# -- the mistakes panel ------------------------------------------------------------------------------

def test_mistakes_panel(qtbot):
    panel = MistakesPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 700)
    panel.show()
    assert panel.list.count() == len(M.MISTAKES) and panel.checked() == []
    with qtbot.waitSignal(panel.mistakesChanged) as blocker:
        panel.list.item(3).setCheckState(QtCore.Qt.CheckState.Checked)
    assert blocker.args == [["conv-no-flip"]]
    assert panel.current() == "conv-no-flip"
    html = panel.detail.toHtml()
    assert "The study note" in html and "rot180" in html and "180° rotation" in html
    with qtbot.assertNotEmitted(panel.mistakesChanged):
        panel.set_checked(["sigmoid-sign", "softmax-diagonal"])
    assert panel.checked() == ["softmax-diagonal", "sigmoid-sign"]
    with pytest.raises(ValueError, match="valid"):
        panel.set_checked(["nope"])
    panel.select("lp-missing-factor")
    panel.set_network(Network.from_spec(SPEC))             # no lppool2d layer
    assert "changes nothing here" in panel.detail.toPlainText()
    panel.select("bias-no-momentum")
    assert "update check" in panel.detail.toPlainText()
    assert panel.grab().save("/tmp/gc_mistakes_panel.png")
