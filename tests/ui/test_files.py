"""The File menu's logic: save / open round trip, refusing bad files, recent files, unsaved changes, exports."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6 import QtCore, QtWidgets

import visualcnn as vc
from ui import files as files_mod
from ui.files import MAX_RECENT, SessionFiles


@pytest.fixture
def settings(tmp_path):
    return QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(files_mod, "show_error", lambda parent, title, text: shown.append((title, text)))
    return shown


@pytest.fixture
def trained():
    s = vc.Session.from_preset("digits-small")
    s.set_batch_size(4)
    s.run(7, records=False)
    return s


def params_of(session):
    return [{k: v.copy() for k, v in d.items()} for d in session.checkpoint_state()["params"]]


def test_save_open_round_trip(qtbot, tmp_path, settings, errors, trained):
    files = SessionFiles(settings=settings)
    files.set_session(trained)
    path = tmp_path / "a.vcnn"
    with qtbot.waitSignal(files.saved):
        assert files.save_as(path)
    assert not files.is_dirty and files.path == path
    with qtbot.waitSignal(files.sessionOpened) as blocker:
        opened = files.open(path)
    assert blocker.args[0] is opened and files.session is opened
    assert opened.iteration == trained.iteration == 7
    for a, b in zip(params_of(opened), params_of(trained)):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert opened.optimizer.hyper() == trained.optimizer.hyper()
    assert errors == []


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # NumPy 2.4 np.load leaks the handle of a bad zip
def test_truncated_file_refused_session_untouched(qtbot, tmp_path, settings, errors, trained):
    files = SessionFiles(settings=settings)
    files.set_session(trained)
    path = tmp_path / "cut.vcnn"
    from visualcnn.io import save_session
    save_session(trained, path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    before = params_of(trained)
    opened = []
    files.sessionOpened.connect(opened.append)
    assert files.open(path) is None
    assert opened == [] and files.session is trained
    assert len(errors) == 1 and "cut.vcnn" in errors[0][1] and "truncated" in errors[0][1]
    for a, b in zip(before, params_of(trained)):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    assert str(path.resolve()) not in files.recent_files()


def test_recent_files_capped_and_pruned(qtbot, tmp_path, settings, errors, trained):
    files = SessionFiles(settings=settings)
    files.set_session(trained)
    paths = [tmp_path / f"s{k}.vcnn" for k in range(MAX_RECENT + 2)]
    for p in paths:
        assert files.save_as(p)
    recent = files.recent_files()
    assert len(recent) == MAX_RECENT
    assert recent[0] == str(paths[-1].resolve())               # newest first
    paths[-1].unlink()
    assert str(paths[-1].resolve()) not in files.recent_files()
    # the list survives in the settings file
    again = SessionFiles(settings=QtCore.QSettings(settings.fileName(), QtCore.QSettings.Format.IniFormat))
    assert again.recent_files() == files.recent_files()
    menu = QtWidgets.QMenu()
    sub = again.recent_menu(menu)
    assert len(sub.actions()) == MAX_RECENT - 1


def test_dirty_tracking_and_close_guard(qtbot, tmp_path, settings, errors, monkeypatch):
    session = vc.Session.from_preset("digits-small")
    files = SessionFiles(settings=settings)
    files.set_session(session)
    assert not files.is_dirty and files.maybe_close()
    with qtbot.waitSignal(files.dirtyChanged):
        session.run_iteration()
    assert files.is_dirty
    answers = iter(["cancel", "discard", "save"])
    asked = []
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: asked.append(name) or next(answers))
    assert not files.maybe_close()                                        # cancel
    assert files.maybe_close()                                            # discard
    monkeypatch.setattr(files_mod, "get_save_path", lambda *a: str(tmp_path / "chosen.vcnn"))
    assert files.maybe_close() and (tmp_path / "chosen.vcnn").exists()    # save (asks for a path)
    assert asked == ["untitled"] * 3 and not files.is_dirty


def test_exports(qtbot, tmp_path, settings, errors, trained):
    from ui.views.metrics import MetricsView

    files = SessionFiles(settings=settings)
    files.set_session(trained)
    view = MetricsView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.update_from(trained.metrics, [(5, 1.0, 0.5)])
    assert files.export_view(view, tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    svg = files.export_view(view, tmp_path / "m.svg")
    assert b"<svg" in svg.read_bytes()[:400]
    label = QtWidgets.QLabel("plain")
    qtbot.addWidget(label)
    assert files.export_view(label, tmp_path / "l.svg") is None and "PNG" in errors[-1][1]
    csv = files.export_metrics_csv(trained.metrics, [(5, 1.0, 0.5)], tmp_path / "m.csv")
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("iteration,train_loss") and len(lines) == 1 + len(trained.metrics)
    rec = trained.step()
    out = files.export_record(rec, tmp_path / "r.npz")
    with np.load(out) as z:
        np.testing.assert_array_equal(z["y"], rec.y)
    assert not list(tmp_path.glob(".*.tmp"))


def test_foreign_file_refused_keeps_dirty_and_recent(qtbot, tmp_path, settings, errors, trained):
    files = SessionFiles(settings=settings)
    files.set_session(trained, dirty=True)
    bad = tmp_path / "foreign.vcnn"
    with open(bad, "wb") as f:
        np.savez(f, weights=np.zeros(3))
    assert files.open(bad, ask=False) is None
    assert "not a visualcnn session" in errors[-1][1] and "foreign.vcnn" in errors[-1][1]
    assert files.session is trained and files.is_dirty and files.recent_files() == []
