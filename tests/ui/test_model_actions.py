"""File ▸ Open model… / Export model… used as a user would: the model opens, steps, checks and saves like any stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt6.QtCore import Qt

from tests.core.interop_helpers import same_params
from tests.ui.helpers import open_window
from ui import files as files_mod
from visualcnn.interop import load_onnx
from visualcnn.io import load_session

pytest.importorskip("onnx")
TINYVGG = Path(__file__).resolve().parents[1] / "fixtures" / "tinyvgg_torch.onnx"


@pytest.fixture
def window(qtbot, tmp_path):
    return open_window(qtbot, tmp_path, size=(1280, 800))


def _open(window, monkeypatch, path):
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a, **k: str(path))
    window.actions["open_model"].trigger()


def test_file_menu_has_open_and_export_model(window):
    texts = [a.text() for a in window.menus["file"].actions()]
    assert "Open model (ONNX)…" in texts and "Export model…" in texts
    assert texts.index("Export model…") < texts.index("Quit")
    assert not window.docks["model"].isVisible()


def test_open_model_steps_through_every_layer_and_shows_the_report(window, qtbot, monkeypatch):
    _open(window, monkeypatch, TINYVGG)
    s = window.controller.session
    model = load_onnx(TINYVGG)
    assert s.network.to_spec()["layers"] == model.network().to_spec()["layers"]
    assert same_params(s.network, model.network())
    dock = window.docks["model"]
    assert dock.isVisible()
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=5000)      # raised, on screen
    assert "opened tinyvgg_torch.onnx (made by pytorch" in window.model_report.text()
    assert "2,120 parameters" in window.model_report.text()
    assert window.editor.tree.topLevelItemCount() >= 10                 # the stack editor lists its layers
    for _ in range(s.n_phases):
        qtbot.keyClick(window, Qt.Key.Key_F10)
    assert s.iteration == 1
    assert window.pipeline.records[-1].phase == "update" and window.pipeline.records[-1].iteration == 0
    assert len(window.pipeline.images_of_layer(0)) == 6                  # conv 0: its 6 feature maps
    window.grab().save(str(Path(window.settings.fileName()).with_name("open_model.png")))


def test_opened_model_gradient_check_is_green(window, qtbot, monkeypatch):
    from ui.mathlab import install_mathlab

    _open(window, monkeypatch, TINYVGG)
    lab = getattr(window, "mathlab", None) or install_mathlab(window)
    lab.check_view.entries.setValue(4)
    with qtbot.waitSignal(lab.check_view.checkFinished, timeout=120_000) as blocker:
        assert lab.run_check(whole=True)
    report = blocker.args[0]
    assert report is not None and report.passed, report.table()
    assert {r.layer for r in report.results} == set(range(10))


def test_opened_model_saves_and_reopens_as_a_session(window, monkeypatch, tmp_path):
    _open(window, monkeypatch, TINYVGG)
    path = tmp_path / "tv.vcnn"
    assert window.files.save_as(path)
    back = load_session(path)
    assert back.network.to_spec() == window.controller.session.network.to_spec()
    assert same_params(back.network, window.controller.session.network)


def test_a_corrupt_model_leaves_the_session_and_says_why(window, monkeypatch, tmp_path):
    before = window.controller.session
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07 not a model")
    _open(window, monkeypatch, bad)
    assert window.controller.session is before
    assert "The model was not opened" in window.banner.text() and "bad.onnx" in window.banner.text()


@pytest.mark.parametrize("name", ["exported.onnx", "exported_net.py"])
def test_export_model_writes_what_the_name_says(window, monkeypatch, tmp_path, name):
    target = tmp_path / name
    monkeypatch.setattr(files_mod, "get_save_path", lambda *a, **k: str(target))
    window.actions["export_model"].trigger()
    assert target.exists()
    net = window.controller.session.network
    if name.endswith(".onnx"):
        back = load_onnx(target).network()
        assert same_params(back, net)
    else:
        assert target.with_suffix(".npz").exists()
        assert "class Net(nn.Module)" in target.read_text()
    assert f"exported {name}" in window.statusBar().currentMessage()


def test_export_to_an_unknown_suffix_is_refused_in_the_banner(window, monkeypatch, tmp_path):
    monkeypatch.setattr(files_mod, "get_save_path", lambda *a, **k: str(tmp_path / "model.txt"))
    window.actions["export_model"].trigger()
    assert "must end in .onnx (ONNX) or .py" in window.banner.text()
    assert not (tmp_path / "model.txt").exists()


def test_an_onnx_model_is_a_window_target_like_a_spec(tmp_path):
    """`visualcnn model.onnx` (and --snapshot) open the window on the model, with its weights."""
    from ui.snapshot import render_snapshot
    from ui.startup import load_session

    session = load_session(str(TINYVGG), batch_size=2)
    assert session.batch_size == 2 and len(session.network.layers) == 10
    model = load_onnx(TINYVGG).network()
    assert same_params(session.network, model)
    out = render_snapshot(str(TINYVGG), phases=3, out=tmp_path / "tv.png")
    assert out.stat().st_size > 0


def test_a_model_no_data_set_fits_opens_on_random_images(window, monkeypatch, tmp_path, qtbot):
    import visualcnn as vc
    from ui.mathlab import install_mathlab

    net = vc.Network.from_spec({"input_shape": [3, 10, 10], "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "sigmoid"},
        {"type": "dense", "out_features": 5}]})
    _open(window, monkeypatch, net.to_onnx(tmp_path / "rgb.onnx"))
    s = window.controller.session
    assert s.dataset.source["name_or_path"] == "random" and same_params(s.network, net)
    assert "stepping on random images of its input shape (no data set fits)" in window.statusBar().currentMessage()
    lab = getattr(window, "mathlab", None) or install_mathlab(window)
    with qtbot.waitSignal(lab.check_view.checkFinished, timeout=120_000) as blocker:
        assert lab.run_check(whole=True)
    assert blocker.args[0] is not None and blocker.args[0].passed


def test_the_model_panel_follows_the_session(qtbot, tmp_path, window, monkeypatch):
    from visualcnn.interop.sessions import open_model_session

    _open(window, monkeypatch, TINYVGG)
    assert "tinyvgg_torch.onnx" in window.model_report.text()
    window.controller.open_preset("digits-small")
    assert "not opened from a model file" in window.model_report.text()
    # a window opened on a model (`visualcnn model.onnx`) shows its report from the start
    session, _ = open_model_session(TINYVGG)
    w = open_window(qtbot, tmp_path, session)
    assert w.docks["model"].isVisible() and "2,120 parameters" in w.model_report.text()
