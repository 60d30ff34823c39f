"""The window steps and gradient-checks a stack whose input matches no data set (issue 11, item 9)."""

from __future__ import annotations

import numpy as np
import pytest

import visualcnn as vc
from tests.ui.helpers import shown_window
from ui import files as files_mod
from visualcnn.layers import LAYER_TYPES


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


def test_the_check_dock_also_compares_the_float32_path(window, qtbot):
    from visualcnn.layers import Tanh

    class Float32OnlyBug(Tanh):
        def backward(self, dout):
            return dout * (1.0 - self.y) if self.dtype == np.float32 else super().backward(dout)

    s = window.controller.session
    assert window.mathlab.run_check(whole=True)
    assert window.statusBar().currentMessage().startswith("float32 path: gradients agree with float64 (worst ")
    qtbot.waitUntil(lambda: window.mathlab.check_view.report is not None, timeout=60_000)
    spec = s.network.to_spec()
    spec["layers"][1] = {"type": "tanh"}                     # digits-small: conv, relu → tanh, pool, …
    window.controller.apply_spec(spec)
    net = window.controller.session.network
    bugged = vc.Network.from_spec(net.to_spec(), dtype=net.dtype, seed=net.seed,
                                  layer_types={**LAYER_TYPES, "tanh": Float32OnlyBug})
    bugged.set_params(net.get_params())
    window.controller.session.swap_network(bugged, type(window.controller.session.optimizer)(
        bugged, **window.controller.session.optimizer.hyper()))
    assert window.mathlab.run_check(whole=True)
    said = window.statusBar().currentMessage()
    assert "DO NOT agree with float64 at layer 1 tanh input" in said and "float32-only bug" in said
    qtbot.waitUntil(lambda: window.mathlab.check_view.report is not None, timeout=60_000)
