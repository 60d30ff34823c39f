"""The main window used as a user would: keys, toolbar actions, panels, the run, breakpoints, snapshots."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PyQt6.QtCore import QSettings, Qt
from PyQt6.QtGui import QImage

from ui import app as ui_app
from ui import files as files_mod
from ui.main_window import MainWindow
from ui.snapshot import SnapshotError, render_snapshot
from visualcnn.session import Session


def _settings(tmp_path, name="settings.ini"):
    return QSettings(str(tmp_path / name), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(Session.from_preset("digits-small"), _settings(tmp_path))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _status(w):
    return w.location_label.text()


def test_opens_ready_to_step(window):
    s = window.controller.session
    assert s.batch_size == 1 and s.phase_index == 0
    assert _status(window).startswith("iteration 0 · ready — next: forward through layer 0 conv2d")
    assert window.actions["step"].isEnabled()
    assert not window.actions["step_back"].isEnabled()
    assert not window.actions["stop"].isEnabled()
    assert window.actions["step"].shortcut().toString() == "F10"
    assert window.actions["step_back"].shortcut().toString() == "Shift+F10"
    assert window.actions["step_iteration"].shortcut().toString() == "F11"
    assert window.actions["run"].shortcut().toString() == "F5"
    assert window.actions["stop"].shortcut().toString() == "Shift+F5"
    assert window.font().pointSize() >= 11


def test_f10_steps_a_whole_iteration_and_feeds_the_views(window, qtbot):
    s = window.controller.session
    views = window.controller.views
    n = s.n_phases
    for k in range(n):
        expected_next = s.describe(k + 1) if k + 1 < n else s.describe(0)
        qtbot.keyClick(window, Qt.Key.Key_F10)
        assert s.iteration == (1 if k == n - 1 else 0)
        status = _status(window)
        assert status.endswith(f"next: {expected_next}")
        if k < n - 1:
            rec = s.last_record
            assert status.startswith(f"iteration 0 · {rec.phase}")
            for v in views:         # every view was handed the session's records, the same objects
                assert len(v.records) == k + 1 and v.records[-1] is rec
        if k == 3:
            assert "· layer 3 flatten" in status
        if k == 5:
            assert "loss" in status
    assert _status(window).startswith("iteration 1 · start (iteration 0: loss")
    # until the next step the views keep the finished iteration, so the update stays in sight
    for v in views:
        assert len(v.records) == n and v.records[-1].phase == "update" and v.records[-1].iteration == 0
    qtbot.keyClick(window, Qt.Key.Key_F10)
    for v in views:
        assert v.records == s.records and s.records[0].iteration == 1
    assert window.progress_label.text().startswith("phase 1 / 12 · back 1")


def test_the_pipeline_shows_the_records_arrays(window, qtbot):
    pipeline = window.pipeline
    if not hasattr(pipeline, "executed_column"):
        pytest.skip("the pipeline view has not landed")
    for _ in range(2):
        qtbot.keyClick(window, Qt.Key.Key_F10)
    rec = window.controller.session.last_record
    assert pipeline.executed_column == pipeline.column_of_layer(1)
    images = pipeline.images_of_layer(1)
    assert images and np.array_equal(images[0].image, rec.y[0, 0])


def test_shift_f10_steps_back_to_the_previous_state(window, qtbot):
    s = window.controller.session
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_F10)
    before = s.records[1]
    status_two = None
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert s.phase_index == 2
    assert np.array_equal(s.last_record.y, before.y)
    assert window.pipeline.records[-1] is s.last_record
    assert "· layer 1 relu" in _status(window)
    status_two = _status(window)
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)
    assert s.phase_index == 0 and not window.actions["step_back"].isEnabled()
    assert _status(window) != status_two
    qtbot.keyClick(window, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)    # nothing left: no error
    assert s.phase_index == 0 and not window.banner.isVisible()


def test_f11_finishes_the_iteration_and_step_back_crosses_it(window, qtbot):
    s = window.controller.session
    qtbot.keyClick(window, Qt.Key.Key_F10)
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert s.iteration == 1 and s.phase_index == 0
    assert window.actions["step_back"].isEnabled()
    window.actions["step_back"].trigger()
    assert s.iteration == 0 and s.phase == "update"
    assert window.controller.views[0].records[-1] is s.last_record


def test_gradient_norm_breakpoint_while_stepping(window, qtbot):
    bp = window.breakpoints_panel
    bp.grad_on.setChecked(True)
    bp.grad_norm.setValue(0.001)
    assert window.controller.session.breakpoints.grad_norm == pytest.approx(0.001)
    window.actions["step_iteration"].trigger()
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=5_000)
    assert "gradient norm" in window.banner.text()
    assert window.controller.session.phase == "backward"     # F11 stopped at the breakpoint


def test_hyper_parameters_and_batch_size_apply_to_the_session(window):
    s, panel = window.controller.session, window.hyper_panel
    assert panel.lr.value() == pytest.approx(s.optimizer.lr)
    panel.momentum.setValue(0.5)
    panel.weight_decay.setValue(0.01)
    panel.decay_biases.setChecked(False)
    panel.batch_size.setValue(4)
    assert s.optimizer.hyper() == {"lr": pytest.approx(panel.lr.value()), "momentum": 0.5,
                                   "weight_decay": 0.01, "decay_biases": False}
    assert s.batch_size == 4
    window.actions["step"].trigger()
    assert s.last_record.batch_x.shape[0] == 4
    assert not panel.error.isVisible()


def test_a_rejected_hyper_parameter_is_a_message_not_a_traceback(window):
    window.controller.set_hyper("momentum", 1.5)
    assert window.hyper_panel.error.isVisible()
    assert "momentum" in window.hyper_panel.error.text()
    assert window.hyper_panel.momentum.value() == pytest.approx(window.controller.session.optimizer.momentum)


def test_reset_weights_uses_the_seed(window):
    s = window.controller.session
    w0 = s.network.layers[0].params["W"].copy()
    window.actions["step_iteration"].trigger()
    window.hyper_panel.seed.setValue(0)
    window.actions["reset"].trigger()
    assert s.iteration == 0 and np.array_equal(s.network.layers[0].params["W"], w0)
    window.hyper_panel.seed.setValue(7)
    window.actions["reset"].trigger()
    assert not np.array_equal(s.network.layers[0].params["W"], w0)
    assert _status(window).startswith("iteration 0 · ready")


def test_presets_menu_switches_session(window, monkeypatch):
    assert "lenet5" in window.preset_actions
    window.actions["step_iteration"].trigger()
    assert window.files.is_dirty and window.isWindowModified()
    asked = []
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: asked.append(name) or "cancel")
    window.preset_actions["lenet5"].trigger()
    assert asked and window.controller.session.network.input_shape == (1, 8, 8)
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")
    window.preset_actions["lenet5"].trigger()
    assert window.settings.value("session/last_preset") == "lenet5"
    assert not window.files.is_dirty
    assert window.controller.session.network.input_shape == (1, 28, 28)
    assert window.editor.tree.topLevelItemCount() == 12
    window.actions["step"].trigger()
    assert window.pipeline.records[-1] is window.controller.session.last_record


def test_dock_layout_is_remembered(qtbot, tmp_path):
    w = MainWindow(Session.from_preset("digits-small"), _settings(tmp_path, "layout.ini"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.docks["inspector"].toggleViewAction().trigger()
    assert not w.docks["inspector"].isVisible()
    w.close()
    w2 = MainWindow(Session.from_preset("digits-small"), _settings(tmp_path, "layout.ini"))
    qtbot.addWidget(w2)
    w2.show()
    qtbot.waitExposed(w2)
    assert not w2.docks["inspector"].isVisible()
    w2.actions["reset_layout"].trigger()
    assert w2.docks["inspector"].isVisible()


def test_file_menu_keys_and_extension_points(window, qtbot):
    f = window.files.actions
    assert f["open"].shortcut().toString() == "Ctrl+O" and f["save"].shortcut().toString() == "Ctrl+S"
    assert f["save_as"].shortcut().toString() == "Ctrl+Shift+S"
    assert window.actions["open_image"].shortcut().toString() == "Ctrl+I"
    from PyQt6.QtWidgets import QLabel
    dock = window.add_dock("extra", "Extra panel", QLabel("extra"), tabify_with="controls")
    assert window.docks["extra"] is dock and dock.toggleViewAction() in window.view_menu.actions()
    menu = window.add_menu("&Extra")
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles.index("&Extra") == titles.index("&Debug") - 1
    seen = []
    window.controller.sessionChanged.connect(seen.append)
    window.controller.set_session(Session.from_preset("digits-small"))
    assert seen == [window.controller.session]


def test_the_input_is_shown_before_the_first_phase(window):
    s = window.controller.session
    x, y = s.current_batch()
    assert s.phase_index == 0 and not s.records
    samples = window.samples
    assert np.array_equal(samples.image_items[0].image, x[0].mean(axis=0))
    col = window.pipeline.columns[0]
    assert col.images and col.images[0].image is not None
    assert np.array_equal(col.images[0].image, x[0, 0])


def test_open_and_save_spec(window, tmp_path):
    path = tmp_path / "stack.json"
    assert window.save_spec(str(path))
    window.editor.select_layer(1)
    window.editor.add_actions["sigmoid"].trigger()
    assert window.open_spec(str(path))
    assert [e["type"] for e in window.editor.spec()["layers"]][1:3] == ["relu", "maxpool2d"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert not window.open_spec(str(bad))
    assert window.banner.isVisible() and "bad.json" in window.banner.text()


def test_snapshot_writes_a_png_of_the_requested_size(qtbot, tmp_path):
    out = render_snapshot("digits-small", phases=4, size=(1280, 800), out=tmp_path / "shot.png")
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)


@pytest.mark.parametrize("kwargs, match", [
    ({"size": (10, 10)}, "between"),
    ({"size": "big"}, "width, height"),
    ({"preset": "no-such-preset"}, "no preset named"),
    ({"phases": -1}, "phases"),
])
def test_snapshot_rejects_bad_arguments(qtbot, tmp_path, kwargs, match):
    with pytest.raises(SnapshotError, match=match):
        render_snapshot(**{"out": tmp_path / "x.png", **kwargs})


def test_main_without_a_display_writes_a_snapshot(qtbot, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(ui_app.sys, "platform", "linux")
    assert ui_app.main([]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "no display" in out
    assert os.path.exists(tmp_path / ui_app.HEADLESS_SNAPSHOT)
    assert ui_app.main(["no-such-preset"]) == 2
    assert "no preset named" in capsys.readouterr().err


def test_main_takes_the_cli_arguments(monkeypatch):
    args = ui_app.parse_args(["--preset", "lenet5"])
    assert args.preset == "lenet5" and args.target is None
    seen = {}
    monkeypatch.setattr(ui_app, "has_display", lambda: False)
    monkeypatch.setattr("ui.snapshot.render_snapshot", lambda target, **kw: seen.update(target=target) or "x.png")
    assert ui_app.main(["--preset", "lenet5"]) == 0
    assert seen["target"] == "lenet5"


def test_a_bare_spec_file_opens_on_the_default_data(tmp_path):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    path = tmp_path / "tiny.json"
    path.write_text(__import__("json").dumps(spec))
    s = ui_app.load_session(str(path))
    assert [layer.type_name for layer in s.network.layers] == ["flatten", "dense"]
