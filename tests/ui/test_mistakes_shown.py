"""Issue 10 §6: with a study-note mistake switched on, the window says so everywhere a student could be
misled — the title, a strip naming the mistake and the layers it spoils, the pipeline (and so its exports)
and the snapshot."""

from PyQt6 import QtCore

from tests.ui.helpers import open_window
from ui.render import offscreen_window
from ui.snapshot import render_snapshot
from ui.startup import APP_NAME
from visualcnn.mistakes import expected_failures
from visualcnn.session import Session


def window_for(qtbot, tmp_path, session):
    return open_window(qtbot, tmp_path, session)


def test_correct_math_says_nothing_and_the_title_names_visualcnn_once(qtbot, tmp_path):
    w = window_for(qtbot, tmp_path, Session.from_preset("digits-small"))
    assert w.mistake_strip.isHidden() and "wrong" not in w.windowTitle()
    # the window manager appends the application's display name (make_app sets it to "visualcnn"): the
    # title itself must not say it again
    assert APP_NAME == "visualcnn" and APP_NAME not in w.windowTitle()
    w.controller.shutdown()


def test_a_mistake_is_named_with_the_layers_it_spoils(qtbot, tmp_path):
    w = window_for(qtbot, tmp_path, Session.from_preset("lenet5"))
    assert w.mathlab.set_mistakes(["conv-no-flip"])
    strip = w.mistake_strip.text()
    assert not w.mistake_strip.isHidden()
    assert "conv-no-flip" in strip and "layer 0, 3" in strip
    # the layers named are the ones whose weight gradients the gradient check must flag: below layer 3, not 3
    spoiled = {i for i, tensor in expected_failures(w.controller.session.network) if tensor != "input"}
    assert spoiled == {0, 1, 2} & {i for i, layer in enumerate(w.controller.session.network.layers) if layer.params}
    assert "layers 0–2" in strip and "layers 0–3" not in strip
    assert "deliberately wrong" in w.windowTitle()
    titles = {c.layer: c.title_item.plain() for c in w.pipeline.columns if c.kind == "layer"}
    assert titles[0].startswith("⚠") and titles[3].startswith("⚠") and not titles[1].startswith("⚠")
    assert w.pipeline.header.text().startswith("⚠ wrong on purpose")
    assert w.mathlab.set_mistakes([])
    assert w.mistake_strip.isHidden() and "wrong" not in w.windowTitle()
    assert not any(c.title_item.plain().startswith("⚠") for c in w.pipeline.columns)
    w.controller.shutdown()


def test_the_snapshot_shows_the_strip(qtbot, tmp_path):
    from visualcnn.mistakes import apply_to_session
    session = Session.from_preset("digits-small")
    apply_to_session(session, ["softmax-diagonal"])
    with offscreen_window(session, (1280, 800)) as window:
        window.controller.refresh(force=True)
        assert "softmax-diagonal in the loss" in window.mistake_strip.text()
        assert window.mistake_strip.isVisibleTo(window)
    out = render_snapshot(session=session, size=(1280, 800), out=tmp_path / "m.png")
    assert out.exists()


def test_the_metrics_and_array_exports_say_the_math_is_wrong(qtbot, tmp_path, monkeypatch):
    import numpy as np

    import ui.files as files_mod

    w = window_for(qtbot, tmp_path, Session.from_preset("digits-small"))
    w.actions["step"].trigger()
    csv_out, npz_out = tmp_path / "m.csv", tmp_path / "r.npz"
    for wrong in (False, True):
        assert w.mathlab.set_mistakes(["softmax-diagonal"] if wrong else [])
        w.actions["step"].trigger()
        monkeypatch.setattr(files_mod, "get_save_path", lambda *a: str(csv_out))
        w.metrics.export_button.click()
        monkeypatch.setattr(files_mod, "get_save_path", lambda *a: str(npz_out))
        w.actions["export_record"].trigger()
        first = csv_out.read_text().splitlines()[0]
        with np.load(npz_out) as arrays:
            stored = str(arrays["WARNING_deliberately_wrong_math"]) if "WARNING_deliberately_wrong_math" in arrays \
                else ""
        if wrong:
            assert first.startswith("# Deliberately wrong math") and "softmax-diagonal in the loss" in first
            assert "softmax-diagonal" in stored
        else:
            assert first.startswith("iteration,") and stored == ""
    w.controller.shutdown()


def test_a_mistake_in_the_first_layer_spoils_no_update(qtbot, tmp_path):
    w = window_for(qtbot, tmp_path, Session.from_preset("seed-note"))
    assert w.mathlab.set_mistakes(["conv-no-flip"])
    net = w.controller.session.network
    assert expected_failures(net) == {(0, "input")}        # the image gradient only: ∂W of layer 0 is right
    strip = w.mistake_strip.text()
    assert "layer 0" in strip and "no weight gradient or update" in strip and "layers 0–0" not in strip
    w.controller.shutdown()


def test_the_mistakes_dock_shows_list_explanation_and_comparison_without_scrolling_at_1600(qtbot, tmp_path):
    # with a mistake on, the red strip takes height from the bottom docks: the mistakes list used to be as tall
    # as all its rows, so the whole dock scrolled and the comparison plot sat below the fold
    from PyQt6 import QtWidgets

    w = open_window(qtbot, tmp_path, Session.from_preset("seed-note"), size=(1600, 1000))
    assert w.mathlab.set_mistakes(["softmax-diagonal"])
    w.docks["mistakes"].raise_()
    qtbot.wait(50)
    area = w.docks["mistakes"].widget()
    assert isinstance(area, QtWidgets.QScrollArea)
    assert area.verticalScrollBar().maximum() == 0 and area.horizontalScrollBar().maximum() == 0
    panel, plot = w.mathlab.mistakes_panel, w.mathlab.compare.plot
    assert panel.list.height() >= panel.list.visualItemRect(panel.list.item(1)).bottom()   # two rows at least
    assert plot.height() >= 150
    w.controller.shutdown()


def test_a_short_comparison_plot_hides_its_legend_and_the_result_line_names_the_curves_in_their_colours(
        qtbot, tmp_path):
    from ui.views.mistake_compare import CORRECT_PEN, LEGEND_MIN_PLOT_HEIGHT, MISTAKE_PEN

    w = open_window(qtbot, tmp_path, Session.from_preset("seed-note"), size=(1600, 1000))
    lab = w.mathlab
    assert lab.set_mistakes(["softmax-diagonal"])
    w.docks["mistakes"].raise_()
    lab.compare.iterations.setValue(5)
    with qtbot.waitSignal(lab.compare.finished, timeout=60000):
        assert lab.compare_with_correct()
    qtbot.wait(20)
    plot = lab.compare.plot
    assert plot.height() < LEGEND_MIN_PLOT_HEIGHT and not lab.compare.legend.isVisible()
    text = lab.compare.note.text()
    assert CORRECT_PEN.color().name() in text and MISTAKE_PEN.color().name() in text
    w.resizeDocks([w.docks["mistakes"]], [560], QtCore.Qt.Orientation.Vertical)     # the divider dragged up
    qtbot.waitUntil(lambda: plot.height() >= LEGEND_MIN_PLOT_HEIGHT, timeout=2000)
    assert lab.compare.legend.isVisible()
    w.controller.shutdown()
