"""Inputs and files in the window, used as a user would: drawing, the dataset browser, pictures, data sets,
save and open."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PyQt6 import QtGui
from PyQt6.QtCore import QSettings

from ui import files as files_mod
from ui.main_window import MainWindow
from ui.views.dataset_browser import predict_labels
from visualcnn.session import Session
from tests.ui.helpers import stroke


@pytest.fixture(autouse=True)
def no_dialogs(monkeypatch):
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")


@pytest.fixture(scope="module")
def trained_params():
    s = Session.from_preset("digits-small")
    s.set_batch_size(16)
    s.run(150, records=False)              # trained enough that predictions depend on the input
    return s.checkpoint_state()


@pytest.fixture
def window(qtbot, tmp_path, trained_params):
    s = Session.from_preset("digits-small")
    s.restore_state(trained_params["params"], trained_params["velocity"], 150, trained_params["sampler"])
    w = MainWindow(s, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.controller.shutdown()




def draw(qtbot, window, points):
    window.docks["draw"].show()
    window.docks["draw"].raise_()
    qtbot.waitExposed(window.pad.canvas)
    with qtbot.waitSignal(window.pad.imageChanged, timeout=3000):
        stroke(qtbot, window.pad.canvas, points)
    return window.pad.current_input()


def test_drawing_pins_the_input_and_updates_the_prediction_live(window, qtbot):
    c, s = window.controller, window.controller.session
    window.pad_labels.combo.setCurrentIndex(2)                   # label 1 (index 0 is "— choose —")
    one = draw(qtbot, window, [(0.5, 0.1), (0.5, 0.9)])
    assert s.pinned is not None and np.array_equal(s.pinned[0][0], one) and list(s.pinned[1]) == [1]
    # forward phases and the loss ran: the pipeline, the probabilities and the inspector have them
    assert s.last_record.phase == "loss" and window.pipeline.records[-1] is s.last_record
    assert np.array_equal(window.pipeline.images_of_layer(0)[0].image, s.records[0].y[0, 0])
    p_one = window.samples.probs.copy()
    assert np.array_equal(p_one, s.last_record.probs[0])
    assert window.pin_strip.isVisible() and "your image" in window.pin_strip.label.text()
    window.pad.clear()
    zero = draw(qtbot, window, [(0.5, 0.1), (0.8, 0.3), (0.8, 0.7), (0.5, 0.9), (0.2, 0.7), (0.2, 0.3), (0.5, 0.1)])
    assert not np.array_equal(one, zero)
    assert not np.allclose(window.samples.probs, p_one)          # the prediction followed the drawing
    window.pad_labels.combo.setCurrentIndex(1)                   # relabelling (to 0) reruns the loss
    assert list(s.pinned[1]) == [0] and s.last_record.phase == "loss"
    window.pin_strip.button.click()                              # back to dataset batches
    assert s.pinned is None and not window.pin_strip.isVisible() and s.phase_index == 0
    assert window.samples.input_batch is not None                # the next dataset batch is shown


def test_drawing_while_running_is_refused(window, qtbot):
    c, s = window.controller, window.controller.session
    window.hyper_panel.set_speed(math.inf)
    c.run(n_iterations=1_000_000)
    qtbot.waitUntil(lambda: s.iteration >= 155, timeout=10_000)
    assert not c.try_input(np.zeros(s.dataset.input_shape, np.float32))
    assert "pause it" in window.statusBar().currentMessage() and s.pinned is None
    c.stop()
    qtbot.waitUntil(lambda: not c.worker.is_active, timeout=5_000)


def test_the_dataset_browser_picks_an_input_and_finds_misclassified(window, qtbot):
    c, s = window.controller, window.controller.session
    b = window.browser
    window.docks["dataset"].show()
    window.docks["dataset"].raise_()
    b.set_filter(split="test", label=3)
    row = 2
    index = int(b.visible_indices()[row])
    b.view.setCurrentIndex(b.model.index(row, 0))
    b.use_button.click()
    assert np.array_equal(s.pinned[0][0], s.dataset.x_test[index]) and int(s.pinned[1][0]) == 3
    assert f"test image #{index}" in window.pin_strip.label.text()
    x, y = s.current_batch()
    assert np.array_equal(window.samples.input_batch[0], x)       # shown before the first phase
    assert np.array_equal(window.pipeline.input_batch, x)
    b.set_filter(label=-1, misclassified=True)                     # predictions come from the worker
    qtbot.waitUntil(lambda: "test" in b.model.predictions, timeout=10_000)
    expected = predict_labels(s, "test")
    assert np.array_equal(b.model.predictions["test"], expected)
    wrong = np.flatnonzero(expected != s.dataset.y_test)
    assert np.array_equal(b.visible_indices(), wrong)


def test_open_an_image_file(window, qtbot, tmp_path, monkeypatch):
    s = window.controller.session
    img = QtGui.QImage(120, 90, QtGui.QImage.Format.Format_RGB32)
    img.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(img)
    painter.setPen(QtGui.QPen(QtGui.QColor("black"), 10))
    painter.drawLine(60, 10, 60, 80)
    painter.end()
    path = tmp_path / "one.png"
    assert img.save(str(path))
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a: str(path))
    window.actions["open_image"].trigger()
    # unlabelled until the user says what it shows: forward only, nothing scored
    assert s.pinned is not None and s.last_record.phase == "forward"
    x = s.pinned[0][0]
    C, H, W = s.dataset.input_shape
    assert x.shape == (C, H, W) and x[0, :, W // 2 - 1:W // 2 + 1].sum() > 0 and x[0, :, 0].sum() == 0
    assert "one.png" in window.pad.canvas_caption.text() and "inverted" in window.pad.canvas_caption.text()
    assert window.docks["draw"].isVisible()
    bad = tmp_path / "nope.png"
    bad.write_bytes(b"not a picture")
    pinned = s.pinned
    assert not window.open_image(str(bad))
    assert window.banner.isVisible() and "nope.png" in window.banner.text() and s.pinned is pinned


def test_save_then_open_gives_the_same_parameters_and_predictions(window, qtbot, tmp_path):
    c = window.controller
    window.actions["step_iteration"].trigger()
    s = c.session
    path = tmp_path / "trained.vcnn"
    assert window.files.save_as(path) and not window.files.is_dirty and not window.isWindowModified()
    assert "trained.vcnn" in window.windowTitle()
    before = [{k: v.copy() for k, v in d.items()} for d in s.checkpoint_state()["params"]]
    preds = predict_labels(s, "test")
    window.actions["step_iteration"].trigger()                   # change it, then open the file
    assert window.files.is_dirty
    opened = window.files.open(path)
    assert opened is c.session and opened is not s
    assert c.worker.session is opened and window.browser.dataset is opened.dataset
    for a, b in zip(before, opened.checkpoint_state()["params"]):
        for k in a:
            assert np.array_equal(a[k], b[k])
    assert np.array_equal(predict_labels(opened, "test"), preds)
    assert window.editor.spec() == opened.network.to_spec() and opened.iteration == s.iteration - 1
    window.actions["step"].trigger()
    assert window.pipeline.records[-1] is opened.last_record


def test_a_truncated_session_file_is_refused_and_nothing_changes(window, qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(files_mod, "show_error", lambda parent, title, text: shown.append(text))
    good = tmp_path / "good.vcnn"
    assert window.files.save_as(good)
    cut = tmp_path / "cut.vcnn"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    s = window.controller.session
    assert window.files.open(cut) is None
    assert shown and "cut.vcnn" in shown[0]
    assert window.controller.session is s and window.controller.worker.session is s
    assert window.actions["step"].isEnabled()
    window.actions["step"].trigger()
    assert s.phase_index == 1


def test_an_incompatible_dataset_is_refused_with_a_message(window, qtbot):
    c, s = window.controller, window.controller.session
    assert not window.load_dataset({"name_or_path": "bars", "size": 16}, "bars 16×16")
    text = window.banner.text()
    assert "bars 16×16" in text and "1×16×16" in text and "1×8×8" in text and "unchanged" in text
    assert c.session is s and c.worker.session is s and s.dataset.name == "digits"
    window.actions["step"].trigger()                             # nothing broken
    assert s.phase_index == 1
    # a compatible one is taken, with the weights kept
    w0 = s.network.layers[0].params["W"].copy()
    window.data_actions[("bars", 8)].trigger()
    new = c.session
    assert new is not s and new.dataset.name == "bars" and new.network is s.network
    assert np.array_equal(new.network.layers[0].params["W"], w0)
    assert window.browser.dataset is new.dataset and window.samples.class_names == list(new.dataset.class_names)
    assert "bars" in window.dataset_label.text() and window.files.is_dirty
    window.hyper_panel.set_speed(math.inf)
    with qtbot.waitSignal(c.worker.finished, timeout=10_000):
        c.run(n_iterations=20)
    assert new.iteration == 20


def test_a_dataset_from_an_npz_file(window, qtbot, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    path = tmp_path / "tiny.npz"
    np.savez(path, images=rng.random((60, 8, 8)).astype(np.float32), labels=np.arange(60) % 3)
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a: str(path))
    window.actions["load_npz"].trigger()
    ds = window.controller.session.dataset
    assert ds.n_classes == 3 and ds.input_shape == (1, 8, 8)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK garbage")
    monkeypatch.setattr(files_mod, "get_open_path", lambda *a: str(bad))
    window.actions["load_npz"].trigger()
    assert window.controller.session.dataset is ds and "bad.npz" in window.banner.text()


def test_an_unlabelled_drawing_is_not_scored(window, qtbot):
    """Issue 10 §7: the label no longer defaults to "0" (a drawn 7 was scored "0 → 4 ✗")."""
    s = window.controller.session
    assert window.pad_labels.label() is None and window.pad_labels.combo.currentText() == "— choose —"
    draw(qtbot, window, [(0.2, 0.1), (0.8, 0.1), (0.4, 0.9)])
    assert s.pinned is not None and s.last_record.phase == "forward"            # no loss: nothing scored
    assert s.last_record.layer == len(s.network.layers) - 1
    assert "no label yet" in window.pin_strip.label.text()
    window.pad_labels.combo.setCurrentIndex(8)                                  # "7"
    assert list(s.pinned[1]) == [7] and s.last_record.phase == "loss"
