"""A user layer whose __init__ never returns, or calls sys.exit(), added from the stack editor: the stack is built
on the step thread like a step is stepped (tests/ui/test_runaway_window.py) — the window answers, the banner
offers Stop, Stop leaves the previous stack in place, and sys.exit() is a layer failure, never a closed window."""

from __future__ import annotations

import threading
import time

import pytest
from PyQt6.QtCore import Qt

from visualcnn import custom
from visualcnn.presets import build_session

from tests.ui.helpers import activate, open_window

RELEASE = threading.Event()     # lets a layer blocked in C (waiting on it) return at the end of a test

BODIES = {
    "test_spins_in_init": "while True:\n            pass",
    "test_blocks_in_init": "from tests.ui.test_runaway_build import RELEASE\n        RELEASE.wait()",
    "test_exits_in_init": "import sys\n        sys.exit(3)",
    "test_slow_init": "import time\n        time.sleep(0.4)",
    # the editor's check builds it once; the session's rebuild, the second time, spins
    "test_spins_when_applied": "BUILT.append(1)\n        while len(BUILT) > 1:\n            pass",
}


def _layer_file(tmp_path, type_name):
    path = tmp_path / f"{type_name}.py"
    path.write_text("from visualcnn.layers import Layer\n\nBUILT = []\n\n"
                    f"class UserLayer(Layer):\n    type_name = {type_name!r}\n\n"
                    f"    def __init__(self, **options):\n        super().__init__(**options)\n"
                    f"        {BODIES[type_name]}\n\n"
                    "    def forward(self, x):\n        return x\n\n"
                    "    def backward(self, dout):\n        return dout\n")
    custom.load_layer_file(path)
    return path.resolve()


@pytest.fixture(autouse=True)
def _cleanup():
    RELEASE.clear()
    yield
    RELEASE.set()                   # an abandoned build returns and its thread ends
    custom.unregister_all()


def _window(qtbot, tmp_path):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                  {"type": "relu"}, {"type": "flatten"},
                                                  {"type": "dense", "out_features": 10}]}
    session = build_session({"spec": spec, "dataset": {"name_or_path": "digits"}, "optimizer": {"lr": 0.1},
                             "batch_size": 2, "train": {}, "dtype": "float32", "seed": 0})
    return activate(qtbot, open_window(qtbot, tmp_path, session))


def _add_after_first(w, type_name) -> float:
    w.editor.select_layer(0)
    t0 = time.perf_counter()
    w.editor.add_layer(type_name)
    return time.perf_counter() - t0


def _errors(w):
    return w.mathlab.errors.entries


def test_a_spinning_init_added_in_the_editor_can_be_stopped_and_the_old_stack_steps_on(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    old_net, old_spec = s.network, s.network.to_spec()
    path = _layer_file(tmp_path, "test_spins_in_init")
    assert _add_after_first(w, "test_spins_in_init") < 2.0        # before: the GUI thread built it, for ever
    assert c.busy and not w.editor.valid and "still running" in w.editor.error_message
    qtbot.waitUntil(lambda: w.banner.isVisible() and w.banner.stop_button.isVisible(), timeout=3000)
    assert "building layer 1 test_spins_in_init" in w.banner.text() and str(path) in w.banner.text()
    qtbot.keyClick(w, Qt.Key.Key_F10)                              # the stack is not checked yet: no step
    assert s.phase_index == 0 and c.busy
    qtbot.mouseClick(w.banner.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert c.session is s and s.network is old_net
    assert w.editor.spec() == old_spec and w.editor.valid and c.spec_valid
    text = w.banner.text()
    assert "stopped by the user" in text and "test_spins_in_init" in text and str(path) in text
    assert _errors(w) and "test_spins_in_init" in _errors(w)[0].message
    assert _errors(w)[0].phase == "build" and _errors(w)[0].layer == 1
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1 and not c.busy                      # the previous stack steps on


def test_an_init_blocked_in_c_is_abandoned_and_the_old_stack_stays(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    old_spec = s.network.to_spec()
    _layer_file(tmp_path, "test_blocks_in_init")
    assert _add_after_first(w, "test_blocks_in_init") < 2.0
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    qtbot.keyClick(w, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)     # Stop, from the keyboard
    qtbot.waitUntil(lambda: not c.busy, timeout=5000)
    assert c.session is s and w.editor.spec() == old_spec and c.spec_valid    # a check holds no session: kept
    assert "abandoned" in w.banner.text() and "test_blocks_in_init" in w.banner.text()
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_a_rebuild_that_spins_after_the_check_passed_can_be_stopped_too(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    old_net, old_spec = s.network, s.network.to_spec()
    path = _layer_file(tmp_path, "test_spins_when_applied")
    assert _add_after_first(w, "test_spins_when_applied") < 2.0
    assert c.busy                                                  # the check passed: the rebuild spins
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    assert "building layer 1 test_spins_when_applied" in w.banner.text()
    qtbot.mouseClick(w.banner.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert c.session is s and s.network is old_net and w.editor.spec() == old_spec and c.spec_valid
    assert "stopped by the user" in w.banner.text() and str(path) in w.banner.text()
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_sys_exit_in_init_is_a_layer_failure_and_the_window_stays(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    old_net = s.network
    path = _layer_file(tmp_path, "test_exits_in_init")
    _add_after_first(w, "test_exits_in_init")                      # before: SystemExit closed the app, unsaved
    assert w.isVisible() and not c.busy and s.network is old_net
    assert not w.editor.valid and w.editor.error_index == 1
    assert "test_exits_in_init" in w.editor.error_message and "SystemExit: 3" in w.editor.error_message
    assert "SystemExit: 3" in w.banner.text() and str(path) in w.banner.text()
    entry = _errors(w)[0]
    assert "sys.exit(3)" in entry.traceback_text
    w.editor.undo()                                                # back to the working stack: steps again
    assert w.editor.valid and c.spec_valid
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_a_slow_init_is_built_off_the_gui_thread_and_then_applied(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    _layer_file(tmp_path, "test_slow_init")
    assert _add_after_first(w, "test_slow_init") < 0.4 + 0.3      # the check went on off the GUI thread
    qtbot.waitUntil(lambda: [layer.type_name for layer in s.network.layers][:2] == ["conv2d", "test_slow_init"]
                    and not c.busy, timeout=5000)
    assert w.editor.valid and c.spec_valid and w.editor.spec() == s.network.to_spec()
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_a_built_in_stack_is_still_built_on_the_gui_thread(qtbot, tmp_path, monkeypatch):
    import ui.control.guard as guard
    w = _window(qtbot, tmp_path)
    monkeypatch.setattr(guard, "StepThread", lambda: pytest.fail("a built-in stack was built off the GUI thread"))
    _add_after_first(w, "sigmoid")
    assert [layer.type_name for layer in w.controller.session.network.layers][1] == "sigmoid"
