"""The window steps and gradient-checks a stack whose input matches no data set (issue 11, item 9)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings

from ui import files as files_mod
from ui.main_window import MainWindow
from visualcnn.session import Session


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(Session.from_preset("digits-small"), settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_a_two_channel_stack_steps_and_passes_the_gradient_check(window, qtbot):
    editor = window.editor
    editor.input_boxes[0].setValue(2)                       # 2×8×8: no data set has two channels
    s = window.controller.session
    assert editor.valid and s.network.input_shape == (2, 8, 8) == s.dataset.input_shape
    assert window.controller.step() and s.phase_index == 1
    assert s.records[0].x.shape[1:] == (2, 8, 8)
    view = window.mathlab.check_view
    assert window.mathlab.run_check(whole=True)
    qtbot.waitUntil(lambda: view.report is not None, timeout=60_000)
    assert view.report.passed and {r.layer for r in view.report.results} == set(range(len(s.network.layers)))
    assert f"all {len(view.report.results)} tensors pass" in view.summary.text()      # what the dock shows
