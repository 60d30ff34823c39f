"""Issue 10 §7: the smaller defects, each as a user met it."""

from __future__ import annotations

import pytest
from PyQt6.QtWidgets import QDockWidget

from ui.views.metrics import MIN_X_SPAN


@pytest.fixture(autouse=True)
def no_dialogs(monkeypatch):
    from ui import files as files_mod
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")


def test_the_metrics_axes_start_again_with_the_curves(window, qtbot):
    c = window.controller
    c.step_iteration()
    for _ in range(40):
        c.step_iteration()
    c.refresh(force=True)
    m = window.metrics
    assert m.loss_plot.viewRange()[0][1] > 30
    assert c.open_preset("digits-small")
    c.refresh(force=True)
    assert m.summary_label.text() == "no iterations yet"
    assert m.loss_plot.viewRange()[0][1] <= MIN_X_SPAN + 0.01     # not the old session's 40 iterations


def test_the_compare_plot_has_no_multiplier_on_its_log_axis(window):
    axis = window.mathlab.compare.plot.getAxis("left") if hasattr(window.mathlab, "compare") else None
    if axis is None:
        from ui.views.mistake_compare import CompareView
        axis = [v for v in window.findChildren(CompareView)][0].plot.getAxis("left")
    assert axis.autoSIPrefix is False


def test_reset_layout_redocks_a_floating_dock(window, qtbot):
    dock: QDockWidget = window.docks["inspector"]
    dock.setFloating(True)
    assert dock.isFloating()
    window.reset_layout()
    assert not dock.isFloating() and dock.isVisible()


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_the_pipeline_exports_as_a_vector_figure_or_a_picture_of_all_columns(window, tmp_path, suffix):
    from ui.files import export_widget
    for _ in range(5):
        window.controller.step()
    out = export_widget(window.pipeline.export_target(), tmp_path / f"pipeline.{suffix}")
    data = out.read_bytes()
    if suffix == "svg":
        assert b"<svg" in data[:400] and "conv2d".encode() in data
    else:
        from PyQt6.QtGui import QImage
        img = QImage(str(out))
        assert img.width() == int(window.pipeline.scene.sceneRect().width())


def test_headless_snapshots_print_no_plugin_noise(tmp_path, capfd):
    from ui.snapshot import render_snapshot
    render_snapshot("digits-small", size=(1280, 800), out=tmp_path / "s.png")
    assert "propagateSizeHints" not in capfd.readouterr().err
