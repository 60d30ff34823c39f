"""A layer file that hangs or exits while it loads (its top level is user code), and a reloaded layer whose new
__init__ never returns: Layer ▸ Load layer file… runs both guarded like a step (ui/control/guard.py) — the
window answers, the banner offers Stop, and nothing is registered or swapped in by a load that did not finish."""

from __future__ import annotations

import time

from PyQt6.QtCore import Qt

from visualcnn.layers import LAYER_TYPES

# the same small window, and the same clean-up (autouse: unregisters the layers, releases a blocked file)
from tests.ui.test_runaway_build import RELEASE, _cleanup, _window  # noqa: F401

LAYER = ("from visualcnn.layers import Layer\n\n"
         "class UserLayer(Layer):\n    type_name = {name!r}\n\n"
         "    def __init__(self, **options):\n        super().__init__(**options)\n        {init}\n\n"
         "    def forward(self, x):\n        return x\n\n"
         "    def backward(self, dout):\n        return dout\n")


def _load(w, path) -> tuple[object, float]:
    t0 = time.perf_counter()
    result = w.mathlab.load_layer_file(str(path))
    return result, time.perf_counter() - t0


def test_a_file_that_spins_while_it_loads_can_be_stopped(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    path = tmp_path / "spins.py"
    path.write_text(LAYER.format(name="spins_on_load", init="pass") + "\nwhile True:\n    pass\n")
    result, took = _load(w, path)
    assert result is None and took < 2.0 and c.busy                # before: the GUI thread ran it, for ever
    qtbot.waitUntil(lambda: w.banner.isVisible() and w.banner.stop_button.isVisible(), timeout=3000)
    assert "loading the layer file spins.py" in w.banner.text()
    qtbot.keyClick(w, Qt.Key.Key_F10)                               # the session is not stepped meanwhile
    assert s.phase_index == 0
    qtbot.mouseClick(w.banner.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert "stopped by the user" in w.banner.text() and "spins.py" in w.banner.text()
    entries = w.mathlab.errors.entries
    assert entries and "loading the layer file spins.py" in entries[0].message
    assert "spins_on_load" not in LAYER_TYPES and "spins_on_load" not in w.editor.add_actions
    assert c.session is s
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_a_file_blocked_in_c_while_it_loads_is_abandoned(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    path = tmp_path / "blocks.py"
    path.write_text(LAYER.format(name="blocks_on_load", init="pass")
                    + "\nfrom tests.ui.test_runaway_build import RELEASE\nRELEASE.wait()\n")
    result, took = _load(w, path)
    assert result is None and took < 2.0
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    qtbot.keyClick(w, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier)     # Stop, from the keyboard
    qtbot.waitUntil(lambda: not c.busy, timeout=5000)
    assert "abandoned" in w.banner.text() and "no layer was loaded" in w.banner.text()
    assert c.session is s and "blocks_on_load" not in LAYER_TYPES
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_a_file_that_exits_while_it_loads_is_reported_and_the_window_stays(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    path = tmp_path / "exits.py"
    path.write_text("import sys\nsys.exit(3)\n")
    result, _took = _load(w, path)
    assert result is None and w.isVisible() and not w.controller.busy
    e = w.mathlab.errors.entries[0]
    assert e.source == "load" and "SystemExit" in e.message and e.path.endswith("exits.py")


def test_a_reloaded_layer_whose_init_spins_can_be_stopped_and_the_stack_steps_on(qtbot, tmp_path):
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    path = tmp_path / "reloaded.py"
    path.write_text(LAYER.format(name="reloaded", init="pass"))
    assert w.mathlab.load_layer_file(str(path))
    w.editor.select_layer(0)
    w.editor.add_layer("reloaded")
    qtbot.waitUntil(lambda: not c.busy and [layer.type_name for layer in s.network.layers][1] == "reloaded",
                    timeout=5000)
    old_net = s.network
    path.write_text(LAYER.format(name="reloaded", init="while True:\n            pass"))
    result, took = _load(w, path)
    assert took < 2.0 and [cls.type_name for cls in result] == ["reloaded"]      # the file itself loaded
    assert c.busy                                                   # the stack's rebuild with it spins
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    assert "rebuilding the layer stack with the reloaded layers" in w.banner.text()
    qtbot.mouseClick(w.banner.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert "stopped by the user" in w.banner.text()
    assert c.session is s and s.network is old_net                  # the old classes still run
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1


def test_opening_a_session_whose_layer_file_spins_can_be_stopped_and_the_window_keeps_its_session(
        qtbot, tmp_path, monkeypatch):
    import json

    from ui import files as files_mod
    from visualcnn import custom
    from visualcnn.io import save_session
    from visualcnn.presets import build_session, load_preset
    layer_path = tmp_path / "later_spins.py"
    layer_path.write_text(LAYER.format(name="later_spins", init="pass"))
    custom.load_layer_file(layer_path)
    cfg = json.loads(json.dumps(load_preset("digits-small")))
    cfg["spec"]["layers"][1] = {"type": "later_spins"}
    save_session(build_session(cfg), tmp_path / "s.vcnn")
    custom.unregister_all()
    layer_path.write_text(LAYER.format(name="later_spins", init="pass") + "\nwhile True:\n    pass\n")
    monkeypatch.setattr(files_mod, "ask_load_layer_files", lambda parent, needed: True)     # the user agrees
    w = _window(qtbot, tmp_path)
    c, s = w.controller, w.controller.session
    t0 = time.perf_counter()
    assert w.files.open(tmp_path / "s.vcnn", ask=False) is None and time.perf_counter() - t0 < 2.0
    qtbot.waitUntil(lambda: w.banner.stop_button.isVisible(), timeout=3000)
    assert "opening s.vcnn with its layer files" in w.banner.text()
    qtbot.mouseClick(w.banner.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not c.busy, timeout=3000)
    assert "stopped by the user" in w.banner.text() and "the window stays on the session it had" in w.banner.text()
    assert c.session is s and w.files.path != tmp_path / "s.vcnn"
    qtbot.keyClick(w, Qt.Key.Key_F10)
    assert s.phase_index == 1
