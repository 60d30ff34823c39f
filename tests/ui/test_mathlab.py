"""The math lab in the window, used as a user would: the gradient check dock, the Mistakes menu and dock
(with the twin-run comparison), loading your own layer, and the Errors panel."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6 import QtWidgets
from PyQt6.QtCore import QSettings

from ui.main_window import MainWindow
from ui.mathlab import install_mathlab, unit_for_entry
from visualcnn import custom
from visualcnn.layers import Conv2D, Dense, ReLU
from visualcnn.session import LayerFailure, Session

CHECK_TIMEOUT = 120_000

BROKEN_LAYER = '''
import numpy as np
from visualcnn.layers import Layer

class DoubleTanh(Layer):
    """y = tanh(x), but backward forgets the tanh derivative (returns dout * 2)."""
    type_name = "broken_tanh"
    description = "tanh with a wrong backward (a test)"

    def forward(self, x):
        self.x = x
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * 2.0
'''

RAISING_LAYER = '''
from visualcnn.layers import Layer

class Explodes(Layer):
    type_name = "explodes"
    description = "raises in forward (a test)"

    def forward(self, x):
        raise RuntimeError("boom from my layer")

    def backward(self, dout):
        return dout
'''


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(Session.from_preset("digits-small"), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    lab = getattr(w, "mathlab", None) or install_mathlab(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    yield w
    lab.shutdown()
    w.controller.shutdown()
    custom.unregister_all()


def lab_of(w):
    return w.mathlab


def check(qtbot, w, whole=True, layer=None):
    lab = lab_of(w)
    with qtbot.waitSignal(lab.check_view.checkFinished, timeout=CHECK_TIMEOUT) as blocker:
        assert lab.run_check(whole=whole, layer=layer)
    return blocker.args[0]


def failing(report):
    return {(r.layer, r.name) for r in report.failures}


def test_docks_and_menus_are_installed(window):
    lab = lab_of(window)
    titles = [a.text() for a in window.menuBar().actions()]
    assert "&Mistakes" in titles and "&Layer" in titles
    assert set(lab.mistake_actions) == {"softmax-diagonal", "lp-missing-factor", "sigmoid-sign", "conv-no-flip",
                                        "bias-no-momentum"}
    assert [a.text() for a in lab.layer_menu.actions()] == ["Load layer file…", "New layer from template…"]
    for key in ("gradcheck", "mistakes", "errors"):
        assert lab.docks[key].windowTitle() in ("Gradient check", "Mistakes", "Errors")


def test_check_this_layer_shows_three_maps_for_the_conv(qtbot, window):
    lab = lab_of(window)
    window.controller.select_layer(0)
    lab._update_layer_button()
    assert lab.layer_button.text() == "Check layer 0 conv2d"
    report = check(qtbot, window, whole=False)
    assert report.passed and {r.layer for r in report.results} == {0}
    assert {r.name for r in report.results} == {"W", "b", "input"}
    view = lab.check_view
    view.select(0, "W")
    maps = view.current_maps()
    assert set(maps) == {"analytic", "numeric", "error"}
    assert maps["analytic"].shape == maps["numeric"].shape == maps["error"].shape == (3, 3)
    np.testing.assert_allclose(maps["analytic"], maps["numeric"], rtol=1e-5, atol=1e-9)
    assert view.maps["analytic"].image.image is not None and view.maps["error"].image.image is not None


def test_whole_network_table_and_conv_no_flip_flagged_exactly(qtbot, window):
    lab = lab_of(window)
    s = window.controller.session
    report = check(qtbot, window)
    assert report.passed
    n_rows = sum(len(layer.params) + 1 for layer in s.network.layers)
    assert lab.check_view.table.rowCount() == n_rows == len(report.results)

    # the user ticks conv-no-flip in the Mistakes menu
    lab.mistake_actions["conv-no-flip"].trigger()
    assert type(s.network.layers[0]).__name__ == "ConvNoFlip"
    assert lab.mistakes_panel.checked() == ["conv-no-flip"]
    report = check(qtbot, window)
    assert failing(report) == {(0, "input")}
    row = lab.check_view._rows.index((0, "input"))
    assert lab.check_view.table.item(row, 6).text() == "✗ FAIL"
    assert "conv-no-flip" in lab.mistakes_panel.detail.toPlainText() or \
        "180°" in lab.mistakes_panel.detail.toPlainText()

    # and off again: built-in classes, all pass
    lab.mistake_actions["conv-no-flip"].trigger()
    assert type(s.network.layers[0]) is Conv2D
    assert type(s.network.layers[1]) is ReLU and type(s.network.layers[4]) is Dense
    assert lab.mistakes_panel.checked() == []
    assert check(qtbot, window).passed


def test_mistakes_survive_a_rebuild_and_all_off_restores_builtins(qtbot, window):
    lab = lab_of(window)
    s = window.controller.session
    lab.set_mistakes(["conv-no-flip", "softmax-diagonal"])
    window.controller.reset_weights()                 # Session.rebuild: plain classes, then re-applied
    assert type(s.network.layers[0]).__name__ == "ConvNoFlip"
    assert type(s.network.loss_fn).__name__ == "SoftmaxDiagonal"
    lab.all_off_action.trigger()
    assert type(s.network.layers[0]) is Conv2D
    assert type(s.network.loss_fn).__name__ == "SoftmaxCrossEntropy"
    assert not any(a.isChecked() for a in lab.mistake_actions.values())
    window.controller.reset_weights()
    assert type(s.network.layers[0]) is Conv2D


def test_clicking_a_failing_cell_shows_its_chain_rule_in_the_numbers_tab(qtbot, window):
    lab = lab_of(window)
    s = window.controller.session
    for _ in range(s.n_phases - 1):                 # every phase but the update: the records hold backward
        window.controller.step()
    check(qtbot, window)
    lab.check_view.cellClicked.emit(4, "W", 3 * 128 + 5)          # dense W[3, 5]
    insp = window.inspector
    assert insp.layer == 4 and insp.currentWidget() is insp.numbers
    text = insp.numbers.text.toPlainText()
    assert "layer 4 dense, ∂C/∂W[3, 5]" in text and "Σ_s δ^s_j · y^s_i" in text
    dense_bwd = next(r for r in s.records if r.phase == "backward" and r.layer == 4)
    assert insp.numbers.explanation.value == float(dense_bwd.grads["W"][3, 5])
    lab.check_view.cellClicked.emit(2, "input", 64 + 2 * 8 + 5)   # maxpool input (1, 2, 5) of sample 0
    assert insp.layer == 2 and "layer 2 maxpool2d, ∂C/∂x (1, 2, 5)" in insp.numbers.text.toPlainText()
    bwd = next(r for r in s.records if r.phase == "backward" and r.layer == 2)
    assert insp.numbers.explanation.value == float(bwd.dx[0, 1, 2, 5])
    assert "what its backward sends down" in lab.entry_note.text()


def test_unit_for_entry_maps_inputs_and_parameters():
    s = Session.from_preset("digits-small")
    net = s.network
    assert unit_for_entry(net, 1, "input", 2 * 8 + 3)[:3] == (1, (0, 2, 3), 0)          # relu: itself
    assert unit_for_entry(net, 3, "input", 5)[:3] == (3, (0, 1, 1), 0)                     # flatten input 8×4×4
    assert unit_for_entry(net, 2, "input", 64 + 5)[::4] == (2, "backward")
    assert unit_for_entry(net, 0, "W", 2 * 9 + 4)[:2] == (0, (2, 0, 1, 1))                  # conv filter 2
    assert unit_for_entry(net, 0, "W", 0)[4] == "∂C/∂W"
    assert unit_for_entry(net, 4, "b", 7)[:2] == (4, (7,))


def test_compare_trains_twins_and_plots_two_different_curves(qtbot, window):
    lab = lab_of(window)
    s = window.controller.session
    before = s.network.get_params()
    lab.set_mistakes(["softmax-diagonal"])
    lab.compare.iterations.setValue(60)
    with qtbot.waitSignal(lab.compare.finished, timeout=CHECK_TIMEOUT) as blocker:
        assert lab.compare_with_correct()
    correct, mistaken = blocker.args
    assert len(correct) == len(mistaken) == 60
    assert not np.allclose(correct, mistaken)
    assert np.mean(correct[-10:]) < np.mean(mistaken[-10:])          # the correct math learns
    x, y = lab.compare.correct_curve.getData()
    assert len(x) == 60
    labels = [label.text for _, label in lab.compare.legend.items]
    assert labels == ["correct", "with softmax-diagonal"]
    assert s.iteration == 0                                          # the session itself never trained
    for a, b in zip(before, s.network.get_params()):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_broken_custom_layer_is_loaded_inserted_and_flagged(qtbot, window, tmp_path, monkeypatch):
    lab = lab_of(window)
    path = tmp_path / "broken.py"
    path.write_text(BROKEN_LAYER)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    lab.load_action.trigger()
    editor = window.editor
    assert "broken_tanh" in editor.add_actions
    editor.select_layer(1)                                           # after the relu
    editor.add_actions["broken_tanh"].trigger()
    s = window.controller.session
    assert [layer.type_name for layer in s.network.layers][2] == "broken_tanh"
    assert window.controller.step_iteration()                        # stepped like a built-in
    report = check(qtbot, window)
    # the broken layer's input is its own wrong backward; everything below it is spoiled too
    assert (2, "input") in failing(report)
    assert all(layer <= 2 for layer, _ in failing(report))
    assert report.result(3, "input").passed and report.result(5, "W").passed


def test_raising_custom_layer_goes_to_the_errors_panel_and_removing_it_heals(qtbot, window, tmp_path):
    lab = lab_of(window)
    path = tmp_path / "explodes.py"
    path.write_text(RAISING_LAYER)
    assert lab.load_layer_file(str(path))
    editor = window.editor
    editor.select_layer(0)
    editor.add_actions["explodes"].trigger()
    c = window.controller
    assert c.step()                                       # conv forward is fine
    # the second phase is the custom layer's forward: it raises, the window is still here
    assert not c.step()
    errors = lab.errors
    assert errors.entries, "the failure must be listed in the Errors panel"
    e = errors.entries[0]
    assert e.phase == "forward" and e.layer == 1 and "boom from my layer" in e.message
    assert "boom from my layer" in e.traceback_text and "explodes.py" in e.traceback_text
    assert "Traceback" in errors.detail.toPlainText()
    # remove it: stepping works again
    editor.select_layer(1)
    editor.remove_layer()
    assert [layer.type_name for layer in c.session.network.layers][1] == "relu"
    assert c.step() and c.step()


def test_bad_layer_file_is_reported_not_raised(window, tmp_path):
    lab = lab_of(window)
    path = tmp_path / "syntax.py"
    path.write_text("def broken(:\n")
    assert lab.load_layer_file(str(path)) is None
    e = lab.errors.entries[0]
    assert e.source == "load" and "syntax error" in e.message and e.path.endswith("syntax.py")


def test_new_layer_from_template_saves_a_copy_and_offers_to_open_it(window, tmp_path, monkeypatch):
    lab = lab_of(window)
    dest = tmp_path / "mine"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    asked, opened = [], []
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QtWidgets.QMessageBox.StandardButton.Open)
    from PyQt6 import QtGui
    monkeypatch.setattr(QtGui.QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    lab.template_action.trigger()
    saved = tmp_path / "mine.py"
    assert saved.read_text() == lab_template_text()
    assert str(saved) in asked[0] and opened == [str(saved)]
    assert lab.load_layer_file(str(saved))                 # the copy loads as it is
    assert "scaled_tanh" in window.editor.add_actions


def lab_template_text():
    from ui.mathlab import template_path
    return template_path().read_text()


def test_check_is_refused_while_the_run_owns_the_session(qtbot, window, monkeypatch):
    lab = lab_of(window)
    monkeypatch.setattr(type(window.controller), "running", property(lambda self: True))
    assert not lab.run_check(whole=True)
    assert "pause it" in lab.check_view.summary.text()
    assert not lab.check_view.running


NAN_LAYER = '''
import numpy as np
from visualcnn.layers import Layer

class MakesNaN(Layer):
    type_name = "makes_nan"
    description = "log of negative numbers (a test)"

    def forward(self, x):
        self.x = x
        with np.errstate(invalid="ignore"):
            self.y = np.log(x - 10.0)
        return self.y

    def backward(self, dout):
        return dout / (self.x - 10.0)
'''


def test_nan_from_a_custom_layer_is_listed_with_its_phase(qtbot, window, tmp_path):
    lab = lab_of(window)
    path = tmp_path / "nan.py"
    path.write_text(NAN_LAYER)
    assert lab.load_layer_file(str(path))
    window.editor.select_layer(0)
    window.editor.add_actions["makes_nan"].trigger()
    c = window.controller
    assert c.step() and c.step()                          # the NaN breakpoint trips after layer 1's forward
    qtbot.waitUntil(lambda: bool(lab.errors.entries), timeout=5000)
    e = lab.errors.entries[0]
    assert e.source == "breakpoint" and e.phase == "forward" and e.layer == 1
    assert c.session.network.layers[1].type_name == "makes_nan"


WRONG_SHAPE_LAYER = '''
from visualcnn.layers import Layer

class Shrinks(Layer):
    type_name = "shrinks"
    description = "backward returns the wrong shape (a test)"

    def forward(self, x):
        self.x = x
        return x * 1.0

    def backward(self, dout):
        return dout[:, :1]
'''


def test_a_run_that_hits_a_wrong_shaped_gradient_reports_it_and_stops(qtbot, window, tmp_path):
    lab = lab_of(window)
    path = tmp_path / "shrinks.py"
    path.write_text(WRONG_SHAPE_LAYER)
    assert lab.load_layer_file(str(path))
    window.editor.select_layer(1)
    window.editor.add_actions["shrinks"].trigger()
    c = window.controller
    assert c.run(n_iterations=5)
    qtbot.waitUntil(lambda: bool(lab.errors.entries), timeout=10000)
    e = lab.errors.entries[0]
    assert e.source == "run" and e.phase == "backward" and e.layer == 2
    assert "returned" in e.message and "expected an array of shape" in e.message
    qtbot.waitUntil(lambda: not c.worker.is_active, timeout=10000)
    assert "Errors panel" in window.banner.text()
