"""A user layer that never returns, or calls sys.exit(), in the window (issue 12 §6): F10 does not freeze it,
a banner says which layer is still running with a Stop button that works, and every failure reaches the
Errors panel; the window never closes."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from PyQt6.QtCore import Qt

from visualcnn import custom
from visualcnn.layers import Layer
from visualcnn.presets import build_session

from tests.ui.helpers import activate, open_window

SPIN = threading.Event()        # set: SpinsWhenArmed loops in Python (interruptible)
BLOCK = threading.Event()       # set: BlocksWhenArmed waits inside C (not interruptible) until RELEASE
RELEASE = threading.Event()


class SpinsWhenArmed(Layer):
    type_name = "test_spins_when_armed"

    def forward(self, x):
        while SPIN.is_set():
            pass
        return x

    def backward(self, dout):
        return dout


class BlocksWhenArmed(Layer):
    type_name = "test_blocks_when_armed"

    def forward(self, x):
        if BLOCK.is_set():
            RELEASE.wait()          # a C-level wait: an async exception cannot reach it
        return x

    def backward(self, dout):
        return dout


class Exits(Layer):
    type_name = "test_exits"

    def forward(self, x):
        sys.exit(3)

    def backward(self, dout):
        return dout


def _window(qtbot, tmp_path, layer_type):
    for cls in (SpinsWhenArmed, BlocksWhenArmed, Exits):
        custom.register_layer(cls)
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                  {"type": layer_type}, {"type": "flatten"},
                                                  {"type": "dense", "out_features": 10}]}
    session = build_session({"spec": spec, "dataset": {"name_or_path": "digits"}, "optimizer": {"lr": 0.1},
                             "batch_size": 2, "train": {}, "dtype": "float32", "seed": 0})
    return activate(qtbot, open_window(qtbot, tmp_path, session))


@pytest.fixture(autouse=True)
def _disarm():
    SPIN.clear(), BLOCK.clear(), RELEASE.clear()
    yield
    SPIN.clear(), BLOCK.clear()
    RELEASE.set()                   # lets an abandoned thread return and end
    custom.unregister_all()


def _press_f10(qtbot, w) -> float:
    t0 = time.perf_counter()
    qtbot.keyClick(w, Qt.Key.Key_F10)
    return time.perf_counter() - t0


def _errors(w):
    return w.mathlab.errors.entries


def test_f10_on_a_spinning_layer_keeps_the_window_answering_and_stop_interrupts_it(qtbot, tmp_path):
    w = _window(qtbot, tmp_path, "test_spins_when_armed")
    c = w.controller
    s = c.session
    _press_f10(qtbot, w)                            # layer 0: ordinary, done at once
    assert s.phase_index == 1 and not c.busy
    SPIN.set()
    assert _press_f10(qtbot, w) < 2.0               # before: never returned
    assert c.busy
    ticks = []
    timer_started = time.perf_counter()
    from PyQt6.QtCore import QTimer
    QTimer.singleShot(50, lambda: ticks.append(time.perf_counter() - timer_started))
    qtbot.waitUntil(lambda: w.banner.isVisible() and w.banner.stop_button.isVisible(), timeout=3000)
    assert ticks, "the event loop did not run while the layer spun"
    assert "layer 1 test_spins_when_armed (forward) is still running" in w.banner.text()
    assert w.actions["stop"].isEnabled()
    qtbot.keyClick(w, Qt.Key.Key_F10)               # refused with a reason, not queued behind the stuck call
    assert "still running" in w.statusBar().currentMessage()
    qtbot.mouseClick(w.banner.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert c.session is s and s.phase_index == 1     # the phase did not complete; the cursor stays before it
    assert "stopped by the user" in w.banner.text()
    assert not w.banner.stop_button.isVisible()
    assert _errors(w) and _errors(w)[0].layer == 1 and "stopped" in _errors(w)[0].message
    SPIN.clear()
    _press_f10(qtbot, w)
    assert s.phase_index == 2 and not c.busy         # the same layer, run again, now returns


def test_a_layer_blocked_in_c_is_abandoned_and_the_window_goes_on_with_a_rescued_session(qtbot, tmp_path):
    w = _window(qtbot, tmp_path, "test_blocks_when_armed")
    c = w.controller
    old = c.session
    title = w.windowTitle()
    _press_f10(qtbot, w)
    BLOCK.set()
    assert _press_f10(qtbot, w) < 2.0
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    qtbot.keyClick(w, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)      # Stop, from the keyboard
    qtbot.waitUntil(lambda: not c.busy, timeout=5000)
    new = c.session
    assert new is not old and new.iteration == old.iteration and new.phase_index == 0
    assert new.network is not old.network and new.lock is not old.lock
    assert w.files.session is new and w.windowTitle() == title
    assert "abandoned" in w.banner.text() and "abandoned" in _errors(w)[0].message
    BLOCK.clear()
    for _ in range(3):                               # the rescued session steps, through the same layer too
        _press_f10(qtbot, w)
    assert new.phase_index == 3 and not c.busy


def test_sys_exit_in_a_layer_is_a_layer_failure_and_never_closes_the_window(qtbot, tmp_path):
    w = _window(qtbot, tmp_path, "test_exits")
    c = w.controller
    _press_f10(qtbot, w)
    _press_f10(qtbot, w)                             # before: SystemExit closed the app, unsaved
    assert w.isVisible() and not c.busy
    assert c.session.phase_index == 1
    assert "layer 1 test_exits: forward raised SystemExit" in w.banner.text()
    entry = _errors(w)[0]
    assert entry.layer == 1 and entry.phase == "forward" and "sys.exit(3)" in entry.traceback_text


def test_saving_while_a_layer_spins_says_why_instead_of_freezing(qtbot, tmp_path, monkeypatch):
    from ui import files as files_mod
    shown = []
    monkeypatch.setattr(files_mod, "show_error", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr(files_mod, "SAVE_WAIT_S", 0.2)
    w = _window(qtbot, tmp_path, "test_spins_when_armed")
    _press_f10(qtbot, w)
    SPIN.set()
    _press_f10(qtbot, w)
    target = tmp_path / "x.vcnn"
    assert w.files.save_as(target) is False          # before: waited for the session's lock for ever
    assert not target.exists() and shown and "still running" in shown[0] and "x.vcnn" in shown[0]
    w.controller.stop()
    qtbot.waitUntil(lambda: not w.controller.busy, timeout=3000)
    SPIN.clear()
    assert w.files.save_as(target) is True and target.exists()


class RecordsItsThread(Layer):
    type_name = "test_records_its_thread"
    seen: list[int] = []

    def forward(self, x):
        RecordsItsThread.seen.append(threading.get_ident())
        return x

    def backward(self, dout):
        return dout


def test_user_layers_step_off_the_gui_thread_and_built_in_stacks_on_it(qtbot, tmp_path, monkeypatch):
    import ui.control.guard as guard
    custom.register_layer(RecordsItsThread)
    w = _window(qtbot, tmp_path, "test_records_its_thread")
    RecordsItsThread.seen.clear()
    _press_f10(qtbot, w)
    _press_f10(qtbot, w)
    assert w.controller.session.phase_index == 2
    assert RecordsItsThread.seen and RecordsItsThread.seen[0] != threading.get_ident()
    # a stack of built-in layers only: no thread hop at all (F10 stays as fast as it was)
    monkeypatch.setattr(guard, "StepThread", lambda: pytest.fail("a built-in stack was stepped off the GUI thread"))
    w.files.set_dirty(False)                         # nothing to save: no question before switching
    assert w.controller.open_preset("digits-small")
    _press_f10(qtbot, w)
    assert w.controller.session.phase_index == 1 and not w.controller.busy


def test_stop_in_run_mode_abandons_a_layer_blocked_in_c_and_the_window_goes_on(qtbot, tmp_path):
    w = _window(qtbot, tmp_path, "test_blocks_when_armed")
    c = w.controller
    old = c.session
    assert c.run(n_iterations=10**6)
    qtbot.waitUntil(lambda: old.iteration >= 3, timeout=10000)
    BLOCK.set()                                      # the next forward through layer 1 never returns
    qtbot.wait(200)
    qtbot.keyClick(w, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)     # before: the run never ended
    qtbot.waitUntil(lambda: c.session is not old, timeout=12000)
    new = c.session
    assert not c.running and not c.worker.is_active and new.phase_index == 0
    assert "abandoned" in w.banner.text() and "abandoned" in _errors(w)[0].message
    BLOCK.clear()
    for _ in range(3):
        _press_f10(qtbot, w)
    assert new.phase_index == 3
    from ui.control.run import ABANDONED
    stuck = ABANDONED.pop()
    RELEASE.set()                                    # let the stuck thread return, so it ends with the test
    assert stuck.shutdown(5.0)


def test_an_unexpected_exception_in_a_run_is_reported_and_the_window_stays(qtbot, tmp_path, monkeypatch):
    w = _window(qtbot, tmp_path, "test_spins_when_armed")
    c = w.controller

    def broken(*args, **kwargs):
        raise SystemExit("a hook called sys.exit()")
    monkeypatch.setattr(c.session, "run", broken)
    monkeypatch.setattr(c.session, "step", broken)
    with qtbot.waitSignal(c.worker.finished, timeout=5000):
        assert c.run(n_iterations=5)
    qtbot.waitUntil(lambda: bool(_errors(w)), timeout=3000)
    assert w.isVisible() and "The run stopped: SystemExit: a hook called sys.exit()" in w.banner.text()
    entry = _errors(w)[0]
    assert entry.source == "run" and "a hook called sys.exit()" in entry.message
    assert "SystemExit" in entry.traceback_text


def test_trying_a_drawing_on_a_spinning_layer_does_not_freeze_the_window(qtbot, tmp_path):
    import numpy as np
    w = _window(qtbot, tmp_path, "test_spins_when_armed")
    c = w.controller
    SPIN.set()
    t0 = time.perf_counter()
    assert c.try_input(np.zeros((1, 8, 8), np.float32))     # before: the forward ran on the GUI thread, for ever
    assert time.perf_counter() - t0 < 2.0 and c.busy
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    assert "layer 1 test_spins_when_armed (forward) is still running" in w.banner.text()
    c.stop()
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert c.session.phase_index == 1


def test_a_layer_from_a_users_file_counts_as_user_code_and_the_presets_do_not(tmp_path):
    from ui.control.guard import runs_user_code
    from visualcnn.session import Session
    path = tmp_path / "my_layer.py"
    path.write_text("from visualcnn.layers import Layer\n\n"
                    "class Twice(Layer):\n    type_name = 'test_twice'\n\n"
                    "    def forward(self, x):\n        return 2 * x\n\n"
                    "    def backward(self, dout):\n        return 2 * dout\n")
    custom.load_layer_file(path)
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "test_twice"}, {"type": "flatten"},
                                                  {"type": "dense", "out_features": 10}]}
    session = build_session({"spec": spec, "dataset": {"name_or_path": "digits"}, "optimizer": {"lr": 0.1},
                             "batch_size": 2, "train": {}, "dtype": "float32", "seed": 0})
    assert runs_user_code(session.network)
    for preset in ("digits-small", "lenet5"):
        assert not runs_user_code(Session.from_preset(preset).network)
