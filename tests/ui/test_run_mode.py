"""Run mode in the window, used as a user would: F5 / Shift+F5, the speed, the curves, breakpoints, closing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PyQt6.QtCore import QSettings, Qt

from ui import controller as controller_mod
from ui import files as files_mod
from ui.main_window import MainWindow
from visualcnn.session import Session


@pytest.fixture(autouse=True)
def no_dialogs(monkeypatch):
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")


@pytest.fixture
def window(qtbot, tmp_path):
    session = Session.from_preset("digits-small")
    session.set_batch_size(8)
    w = MainWindow(session, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.controller.shutdown()


def fast(window, iterations, unit="iterations"):
    panel = window.hyper_panel
    panel.set_speed(math.inf)
    panel.run_unit.setCurrentText(unit)
    panel.iterations.setValue(iterations)


def test_a_bounded_run_grows_the_curves_and_refreshes_the_views(window, qtbot, monkeypatch):
    c, s = window.controller, window.controller.session
    # on a quiet machine 2,000 iterations take about as long as the curves' redraw interval (0.5 s):
    # draw them at every redraw here, so that "they grew live" never depends on the machine's speed
    monkeypatch.setattr(controller_mod, "METRICS_EVERY_S", 0.0)
    fast(window, 2000)
    curve_lengths, running_records = [], []

    def seen():
        x = window.metrics.loss_smooth.xData          # the whole curve (getData is the drawn, decimated one)
        curve_lengths.append(0 if x is None else len(x))
        if c.running and window.pipeline.records:
            running_records.append(window.pipeline.records[-1])
    c.refreshed.connect(seen)
    with qtbot.waitSignal(c.worker.finished, timeout=30_000) as done:
        qtbot.keyClick(window, Qt.Key.Key_F5)
        assert window.actions["run"].text() == "Pause" and window.actions["stop"].isEnabled()
    assert done.args[0].stopped_by == "done" and s.iteration == 2000
    qtbot.waitUntil(lambda: not c.running and window.actions["run"].text() == "Run", timeout=5_000)
    growth = sorted(set(n for n in curve_lengths if n))
    assert growth[-1] == 2000                              # the curves end complete (live growth: below)
    assert all(r.iteration < 2000 for r in running_records)    # (views fed during a run: below)
    assert window.metrics.progress_bar.value() == window.metrics.progress_bar.maximum() == 2000
    assert c.worker.test_points and c.worker.test_points[-1][0] == 2000    # held-out test points
    assert window.controller.session.metrics[-1].grad_norms               # per-layer figures reach the view
    assert window.metrics.grad_plot.listDataItems()
    assert window.files.is_dirty
    assert "run finished: 2,000 iterations" in window.statusBar().currentMessage()


def test_the_curves_grow_and_the_views_follow_while_a_run_goes_on(window, qtbot, monkeypatch):
    monkeypatch.setattr(controller_mod, "METRICS_EVERY_S", 0.0)
    c = window.controller
    fast(window, 1_000_000)
    lengths = set()

    shown = set()

    def seen():
        x = window.metrics.loss_smooth.xData
        if c.running and x is not None and len(x):
            lengths.add(len(x))
        if c.running and window.pipeline.records:
            shown.add(window.pipeline.records[-1].iteration)
    c.refreshed.connect(seen)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    # two different curve lengths and two different iterations in the views, drawn while the run goes on
    qtbot.waitUntil(lambda: len(lengths) >= 2 and len(shown) >= 2, timeout=30_000)
    with qtbot.waitSignal(c.worker.finished, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)


def test_pause_step_resume_stop_and_stepping_is_refused_while_running(window, qtbot):
    c, s = window.controller, window.controller.session
    fast(window, 1_000_000)
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(lambda: s.iteration >= 5, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_F10)                    # refused: the worker owns the session
    assert "Training is running" in window.statusBar().currentMessage()
    assert c.running
    qtbot.keyClick(window, Qt.Key.Key_F5)                     # pause
    qtbot.waitUntil(lambda: c.worker.state == "paused", timeout=5_000)
    qtbot.waitUntil(lambda: window.actions["run"].text() == "Resume", timeout=5_000)
    it, index = s.iteration, s.phase_index
    qtbot.keyClick(window, Qt.Key.Key_F10)                    # stepping while paused is allowed
    assert (s.iteration, s.phase_index) in ((it, index + 1), (it + 1, 0))
    assert window.pipeline.records == c.shown_records()
    qtbot.keyClick(window, Qt.Key.Key_F5)                     # resume
    qtbot.waitUntil(lambda: s.iteration >= it + 5, timeout=10_000)
    with qtbot.waitSignal(c.worker.finished, timeout=10_000) as done:
        qtbot.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    assert done.args[0].stopped_by == "stop"
    qtbot.waitUntil(lambda: not window.actions["stop"].isEnabled(), timeout=5_000)
    stopped = s.iteration
    qtbot.wait(100)
    assert s.iteration == stopped and window.actions["run"].text() == "Run"
    assert window.pipeline.records == c.shown_records()       # the views show where the run stopped


def test_a_slow_run_shows_the_wave_phase_by_phase(window, qtbot):
    c, s = window.controller, window.controller.session
    window.hyper_panel.set_speed(30.0)
    assert window.hyper_panel.speed_label.text() == "30 phases/s"
    lengths = []
    c.refreshed.connect(lambda: c.running and lengths.append(len(window.pipeline.records)))
    with qtbot.waitSignal(c.worker.finished, timeout=10_000):
        c.run(n_iterations=1)
    assert s.iteration == 1
    # the pipeline was handed the iteration as it went: forward, loss, backward, update
    assert len(set(lengths)) >= 4 and max(lengths) == s.n_phases


def test_speed_changes_during_a_run_and_epochs_set_the_length(window, qtbot):
    c, s = window.controller, window.controller.session
    window.hyper_panel.set_speed(2.0)
    # an epoch is counted in batches of the run's size (stepping keeps its own batch size)
    fast_total = math.ceil(len(s.dataset.y_train) / window.hyper_panel.run_batch.value())
    assert fast_total != s.sampler.batches_per_epoch
    step_batch = s.batch_size
    window.hyper_panel.run_unit.setCurrentText("epochs")
    window.hyper_panel.iterations.setValue(1)
    window.actions["run"].trigger()
    qtbot.wait(200)
    assert s.iteration == 0 and c.running                     # 2 phases a second: still in iteration 0
    with qtbot.waitSignal(c.worker.finished, timeout=30_000) as done:
        window.hyper_panel.set_speed(math.inf)                # the slider, during the run
    assert done.args[0].total == fast_total and s.iteration == fast_total
    assert window.metrics.progress_bar.maximum() == fast_total
    assert s.batch_size == window.hyper_panel.batch_size.value() == step_batch    # stepping's batch is back


def test_hyper_parameters_edited_during_a_run_reach_the_session(window, qtbot):
    c, s = window.controller, window.controller.session
    fast(window, 1_000_000)
    window.actions["run"].trigger()
    qtbot.waitUntil(lambda: s.iteration >= 3, timeout=10_000)
    window.hyper_panel.lr.setValue(0.0123)
    qtbot.waitUntil(lambda: s.optimizer.lr == pytest.approx(0.0123), timeout=5_000)
    assert c.running
    c.stop()
    qtbot.waitUntil(lambda: not c.worker.is_active, timeout=5_000)


def test_a_breakpoint_pauses_the_run_at_the_phase_that_tripped_it(window, qtbot):
    c, s = window.controller, window.controller.session
    window.breakpoints_panel.grad_on.setChecked(True)
    window.breakpoints_panel.grad_norm.setValue(5.0)
    window.hyper_panel.run_lr.setValue(5.0)                   # Run's ε: diverges within a few iterations
    fast(window, 2000)
    window.actions["run"].trigger()
    qtbot.waitUntil(lambda: window.banner.isVisible() and c.worker.state == "paused", timeout=20_000)
    qtbot.waitUntil(lambda: window.actions["run"].text() == "Resume", timeout=5_000)
    hit = c.last_hit
    assert hit.kind == "grad_norm" and hit.message in window.banner.text()
    rec = s.last_record
    assert (rec.iteration, rec.phase, rec.layer) == (hit.iteration, hit.phase, hit.layer)
    assert window.pipeline.records[-1] is rec                  # the window jumped to the tripping phase
    assert window.editor.current_row() == hit.layer
    assert s.iteration < 2000 and window.actions["stop"].isEnabled()
    with qtbot.waitSignal(c.worker.finished, timeout=10_000) as done:
        window.actions["stop"].trigger()
    assert done.args[0].stopped_by == "breakpoint"


def test_nan_during_a_fast_run_pauses_with_the_banner(window, qtbot):
    c, s = window.controller, window.controller.session
    assert window.breakpoints_panel.nonfinite.isChecked()
    window.hyper_panel.run_lr.setValue(1e6)                   # Run's own ε
    fast(window, 500)
    window.actions["run"].trigger()
    qtbot.waitUntil(lambda: window.banner.isVisible() and c.worker.state == "paused", timeout=20_000)
    assert c.last_hit.kind == "nonfinite" and "NaN/Inf" in window.banner.text()
    assert s.last_record.phase == c.last_hit.phase
    c.stop()
    qtbot.waitUntil(lambda: not c.worker.is_active, timeout=5_000)
    window.actions["step_back"].trigger()                      # the next command clears the alert
    assert not window.banner.isVisible()


def test_closing_the_window_during_a_run_ends_the_thread(qtbot, tmp_path):
    w = MainWindow(Session.from_preset("digits-small"),
                   QSettings(str(tmp_path / "close.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    fast(w, 1_000_000)
    w.actions["run"].trigger()
    s, worker = w.controller.session, w.controller.worker
    qtbot.waitUntil(lambda: s.iteration >= 3, timeout=10_000)
    assert w.close()
    assert worker._thread.isFinished() and not worker.is_active
    it = s.iteration
    qtbot.wait(50)
    assert s.iteration == it
    # the settings were saved on the way out
    settings = QSettings(str(tmp_path / "close.ini"), QSettings.Format.IniFormat)
    assert math.isinf(float(settings.value("run/speed"))) and int(settings.value("run/length")) == 1_000_000


def test_run_settings_are_remembered(qtbot, tmp_path):
    ini = str(tmp_path / "remember.ini")
    w = MainWindow(Session.from_preset("digits-small"), QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.hyper_panel.set_speed(10.0)
    w.hyper_panel.iterations.setValue(7)
    w.hyper_panel.run_unit.setCurrentText("epochs")
    w.close()
    w2 = MainWindow(Session.from_preset("digits-small"), QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    assert w2.hyper_panel.speed == 10.0 and w2.controller.worker.speed == 10.0
    assert w2.hyper_panel.run_length() == {"epochs": 7}


def test_quit_asks_about_unsaved_changes(window, qtbot, monkeypatch):
    window.actions["step_iteration"].trigger()
    assert window.files.is_dirty
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "cancel")
    assert not window.request_close() and window.isVisible()
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")
    assert window.request_close() and not window.isVisible()
    assert window.controller.worker._thread.isFinished()


def test_the_metrics_csv_export(window, qtbot, tmp_path, monkeypatch):
    window.actions["step_iteration"].trigger()
    window.actions["step_iteration"].trigger()
    out = tmp_path / "metrics.csv"
    monkeypatch.setattr(files_mod, "get_save_path", lambda *a: str(out))
    window.metrics.export_button.click()
    lines = out.read_text().splitlines()
    assert lines[0].startswith("iteration,train_loss") and len(lines) == 3
    npz = tmp_path / "record.npz"
    monkeypatch.setattr(files_mod, "get_save_path", lambda *a: str(npz))
    window.actions["step"].trigger()
    window.actions["export_record"].trigger()
    with np.load(npz) as arrays:
        assert np.array_equal(arrays["y"], window.controller.session.last_record.y)
    png = tmp_path / "pipeline.png"
    monkeypatch.setattr(files_mod, "get_save_path", lambda *a: str(png))
    window.actions["export_pipeline"].trigger()
    assert png.stat().st_size > 1000
