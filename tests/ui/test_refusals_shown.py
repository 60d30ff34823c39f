"""Every refusal when opening, saving or applying is shown in the window, never only on stderr (issue 12 §3)."""

from __future__ import annotations

import json

import pytest

from ui import app as ui_app
from ui import files as files_mod


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(files_mod, "show_error", lambda parent, title, text: out.append(text))
    return out


def _spec_before(window):
    return json.dumps(window.editor.spec(), sort_keys=True)


@pytest.mark.parametrize("name, text, says", [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nest"),            # before: RecursionError out of a slot
    ("nan.json", '{"input_shape": [1, 8, 8], "layers": [{"type": "lppool2d", "p": NaN}]}', "NaN"),
    ("bad.json", '{"input_shape": [1, 8, ', "JSON"),
])
def test_a_layer_stack_file_that_cannot_be_read_is_one_line_in_the_banner(window, tmp_path, name, text, says):
    path = tmp_path / name
    path.write_text(text)
    before = _spec_before(window)
    assert window.open_spec(str(path)) is False
    assert window.banner.isVisible() and name in window.banner.text() and says in window.banner.text()
    assert "\n" not in window.banner.text() and "Traceback" not in window.banner.text()
    assert _spec_before(window) == before


def test_a_stack_too_big_to_build_is_refused_in_the_editor_not_allocated(window, tmp_path):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "flatten"}, {"type": "dense", "out_features": 10**9}]}
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(spec))
    s = window.controller.session
    network = s.network
    window.open_spec(str(path))
    editor = window.editor
    assert not editor.valid and editor.error.isVisible() and "out_features" in editor.error.text()
    assert s.network is network                      # nothing was applied


def test_the_window_started_on_a_bad_file_says_so_in_a_dialog(qtbot, tmp_path, monkeypatch, shown, capsys):
    monkeypatch.setattr(ui_app, "has_display", lambda: True)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert ui_app.main([str(deep)]) == 2              # before: a RecursionError traceback on stderr only
    assert shown and "deep.json" in shown[0] and "nest" in shown[0]
    assert ui_app.main(["no-such-preset"]) == 2
    assert len(shown) == 2 and "no preset named" in shown[1]
    assert "no preset named" in capsys.readouterr().err


def test_a_save_that_fails_says_so_in_a_dialog_and_keeps_the_session_dirty(window, qtbot, tmp_path, shown):
    window.controller.step()
    window.files.set_dirty(True)
    target = tmp_path / "no-such-folder" / "x.vcnn"
    assert window.files.save_as(target) is False
    assert shown and "x.vcnn" in shown[0] and window.files.is_dirty
