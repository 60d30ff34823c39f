"""The window steps and gradient-checks a stack whose input matches no data set (issue 11, item 9)."""

from __future__ import annotations

import pytest

from tests.ui.helpers import shown_window
from ui import files as files_mod


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")
    return shown_window(qtbot, tmp_path)


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
