"""The first F5 on a fresh first launch shows a network learning (issue 10 §2), and a run's words are right:
its rate leaves out pauses, "1 iteration" is singular, a stopped run leaves no ETA behind."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from tests.ui.helpers import open_window
from ui import files as files_mod
from ui.control.run import run_summary_text
from ui.startup import load_session
from ui.worker import FAST, SPEED_STEPS, WATCH, RunSummary, speed_label


@pytest.fixture(autouse=True)
def no_dialogs(monkeypatch):
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")


@pytest.fixture
def fresh_window(qtbot, tmp_path):
    """What `visualcnn` opens the first time: the default preset, no remembered settings."""
    w = open_window(qtbot, tmp_path, load_session(None))
    yield w
    w.controller.shutdown()


@pytest.mark.slow
def test_the_first_f5_shows_the_test_accuracy_passing_80_percent_within_a_minute(fresh_window, qtbot):
    w, c = fresh_window, fresh_window.controller
    s = c.session
    assert s.batch_size == 1                                    # stepping stays one image at a time
    panel = w.hyper_panel
    assert panel.speed == WATCH and "watch it learn" in panel.speed_label.text()
    assert {0.5, 1.0, 2.0, 5.0} <= set(SPEED_STEPS) and FAST in SPEED_STEPS     # the slow speeds are still offered
    shown_iterations = []
    c.refreshed.connect(lambda: c.running and w.pipeline.records and
                        shown_iterations.append(w.pipeline.records[-1].iteration))
    started = time.perf_counter()
    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert c.running

    def learned():
        acc = w.metrics.acc_test.yData
        return acc is not None and len(acc) and np.nanmax(acc) > 0.8

    qtbot.waitUntil(learned, timeout=60_000)
    took = time.perf_counter() - started
    assert took < 60
    # the views kept showing new iterations while it learned, not one frozen picture
    assert len(set(shown_iterations)) >= 5, shown_iterations
    assert max(p[2] for p in c.worker.test_points) > 0.8
    # the worker's state turns "finished" on its thread before its queued `finished` reaches the controller:
    # wait for the signal (the controller's slot, connected first, has run by then), not for the state
    with qtbot.waitSignal(c.worker.finished, timeout=10_000):
        qtbot.keyClick(w, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)
    assert s.batch_size == 1 and panel.batch_size.value() == 1       # back to stepping one image
    assert w.metrics.eta_label.text() == "stopped"                    # no stale "ETA 0 s"


def test_run_words():
    assert speed_label(WATCH) == "watch it learn (10 iterations/s)"
    assert run_summary_text(RunSummary(1, 100, "stop", 0.5)) == "run stopped after 1 iteration"
    assert run_summary_text(RunSummary(2, 100, "stop", 0.5)) == "run stopped after 2 iterations"
    text = run_summary_text(RunSummary(300, 300, "done", 30.0))
    assert text == "run finished: 300 iterations in 30.0 s of running (10 iterations/s)"


def test_the_run_rate_leaves_out_the_time_spent_paused(fresh_window, qtbot):
    w, c = fresh_window, fresh_window.controller
    w.hyper_panel.set_speed(WATCH)
    w.hyper_panel.run_unit.setCurrentText("iterations")
    w.hyper_panel.iterations.setValue(30)
    messages = []
    w.statusBar().messageChanged.connect(messages.append)
    started = time.perf_counter()
    with qtbot.waitSignal(c.worker.finished, timeout=60_000) as done:
        c.run(n_iterations=30)                   # 3 s at 10 iterations/s: time to pause it midway
        qtbot.waitUntil(lambda: c.session.iteration >= 2, timeout=10_000)
        c.pause()
        qtbot.waitUntil(lambda: c.worker.state == "paused", timeout=5_000)
        qtbot.wait(1500)
        c.resume()
    wall = time.perf_counter() - started
    summary = done.args[0]
    assert summary.seconds < wall - 1.4
    qtbot.wait(50)
    assert any(m.startswith("run finished: 30 iterations in") and "of running" in m for m in messages), messages
    assert w.metrics.eta_label.text() == "done"
