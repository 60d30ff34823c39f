"""Opening a session in the window is all or nothing (issue 12 §5), and every refusal is shown in the window
(§3): a CLI session saved with --seed 3000000000 opens; a failure on the way leaves the window exactly on the
session it had."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt

from ui import files as files_mod
from visualcnn import cli
from visualcnn.io import save_session
from visualcnn.limits import MAX_SEED
from visualcnn.session import Session

from tests.ui.helpers import activate, open_window


@pytest.fixture
def window(qtbot, tmp_path):
    return activate(qtbot, open_window(qtbot, tmp_path, Session.from_preset("digits-small")))


@pytest.fixture
def shown(monkeypatch):
    out = []
    monkeypatch.setattr(files_mod, "show_error", lambda parent, title, text: out.append((title, text)))
    return out


def test_the_window_opens_a_cli_session_saved_with_a_seed_past_int32(window, qtbot, tmp_path, shown):
    path = tmp_path / "big-seed.vcnn"
    assert cli.main(["train", "--preset", "digits-small", "--seed", "3000000000", "--epochs", "1",
                     "--batch-size", "64", "--save", str(path)]) == 0
    opened = window.files.open(path, ask=False)     # before: OverflowError from the seed box, half-switched
    assert opened is not None and window.controller.session is opened and not shown
    assert opened.seed == 3_000_000_000 and window.hyper_panel.seed_value() == 3_000_000_000
    assert window.windowTitle().startswith("big-seed.vcnn")
    qtbot.keyClick(window, Qt.Key.Key_F10)
    assert opened.phase_index == 1
    window.hyper_panel.seed.setValue(MAX_SEED)      # the largest seed a session takes, as Reset weights uses it
    assert window.controller.reset_weights() and opened.seed == MAX_SEED


def test_a_failure_while_switching_leaves_the_window_exactly_as_it_was(window, qtbot, tmp_path, shown, monkeypatch):
    other = Session.from_preset("digits-small", seed=5)
    path = tmp_path / "other.vcnn"
    save_session(other, path)
    c = window.controller
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_F10)
    old = c.session
    before = (window.windowTitle(), window.editor.spec(), window.files.path, old.phase_index,
              [v.records[-1] for v in c.views], window.progress_label.text())
    real = window.browser.set_dataset

    def breaks_on_the_new_one(ds):
        if ds is not old.dataset:
            raise RuntimeError("a view could not show this data set")
        real(ds)
    monkeypatch.setattr(window.browser, "set_dataset", breaks_on_the_new_one)
    assert window.files.open(path, ask=False) is None
    after = (window.windowTitle(), window.editor.spec(), window.files.path, c.session.phase_index,
             [v.records[-1] for v in c.views], window.progress_label.text())
    assert c.session is old and window.files.session is old and after == before
    assert shown and "other.vcnn was not opened" in shown[0][1] and "a view could not show" in shown[0][1]
    assert "other.vcnn was not opened" in window.banner.text()
    qtbot.keyClick(window, Qt.Key.Key_F10)           # and it goes on stepping the session it had
    assert old.phase_index == 4


def test_a_file_that_cannot_be_read_is_refused_in_the_window(window, tmp_path, shown):
    bad = tmp_path / "bad.vcnn"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    old = window.controller.session
    assert window.files.open(bad, ask=False) is None
    assert window.controller.session is old
    assert shown and "bad.vcnn" in shown[0][1]
    assert "could not open bad.vcnn" in window.statusBar().currentMessage()


def test_a_preset_that_fails_on_the_way_is_named_and_the_window_stays(window, shown, monkeypatch):
    c = window.controller
    old = c.session
    real = window.browser.set_dataset
    monkeypatch.setattr(window.browser, "set_dataset",
                        lambda ds: real(ds) if ds is old.dataset else (_ for _ in ()).throw(RuntimeError("no room")))
    window.files.set_dirty(False)
    assert c.open_preset("digits-small") is False
    assert c.session is old and window.files.session is old
    assert shown and "the preset 'digits-small' was not opened" in shown[0][1] and "no room" in shown[0][1]
