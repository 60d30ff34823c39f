"""Inputs for stepping: the drawing pad (mouse, pictures) and the dataset browser (filters, choosing)."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6 import QtCore, QtGui

import visualcnn as vc
from ui.views.dataset_browser import DatasetBrowser, predict_labels
from ui.views.drawing_pad import DrawingPad
from tests.ui.helpers import stroke


@pytest.fixture(scope="module")
def session():
    s = vc.Session.from_preset("digits-small")
    s.set_batch_size(16)
    s.run(150, records=False)                  # trained enough that predictions depend on the input
    return s


@pytest.fixture
def pad(qtbot, session):
    p = DrawingPad()
    qtbot.addWidget(p)
    p.resize(640, 400)
    p.set_dataset(session.dataset)
    p.show()
    qtbot.waitExposed(p)
    return p




def predict(session, x):
    with session._lock:
        net = session.network.copy()
    return int(net.forward(x[None]).argmax())


def test_drawing_emits_input_where_drawn(qtbot, pad, session):
    with qtbot.waitSignal(pad.imageChanged, timeout=2000) as blocker:
        stroke(qtbot, pad.canvas, [(0.5, 0.1), (0.5, 0.9)])          # a vertical bar
    x = blocker.args[0]
    assert x.shape == session.dataset.input_shape and x.dtype == np.float32
    grey = x[0]
    C, H, W = x.shape
    assert grey[:, W // 2 - 1:W // 2 + 1].sum() > 0                   # ink in the middle columns
    assert grey[:, 0].sum() == 0 and grey[:, -1].sum() == 0          # none at the sides
    assert pad.current_input() is x


def test_drawing_changes_pinned_prediction(qtbot, pad, session):
    with qtbot.waitSignal(pad.imageChanged, timeout=2000) as first:
        stroke(qtbot, pad.canvas, [(0.5, 0.1), (0.5, 0.9)])          # "1"
    one = first.args[0]
    pad.clear()
    with qtbot.waitSignal(pad.imageChanged, timeout=2000) as second:
        # "0": a closed loop
        stroke(qtbot, pad.canvas, [(0.5, 0.1), (0.8, 0.3), (0.8, 0.7), (0.5, 0.9), (0.2, 0.7), (0.2, 0.3), (0.5, 0.1)])
    zero = second.args[0]
    assert not np.array_equal(one, zero)
    preds = []
    for x in (one, zero):
        session.pin_input(x[None], [0])
        rec = None
        while rec is None or rec.phase != "loss":
            rec = session.step()
        preds.append(int(np.argmax(rec.probs[0])))
        session.restart_iteration()
    session.pin_input(None)
    assert preds[0] != preds[1]
    assert preds == [predict(session, one), predict(session, zero)]


def test_drawing_is_throttled(qtbot, pad):
    got = []
    pad.imageChanged.connect(got.append)
    canvas = pad.canvas
    qtbot.mousePress(canvas, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(40, 40))
    for k in range(60):                                              # 60 moves within one interval
        qtbot.mouseMove(canvas, QtCore.QPoint(40 + 2 * k, 40 + k))
    assert len(got) <= 1
    qtbot.waitUntil(lambda: len(got) >= 1, timeout=1000)             # while still drawing, one comes
    qtbot.mouseRelease(canvas, QtCore.Qt.MouseButton.LeftButton, pos=QtCore.QPoint(160, 100))
    assert len(got) <= 3


def test_open_picture(qtbot, pad, tmp_path, session):
    img = QtGui.QImage(300, 200, QtGui.QImage.Format.Format_RGB32)
    img.fill(QtGui.QColor("white"))
    painter = QtGui.QPainter(img)
    painter.setPen(QtGui.QPen(QtGui.QColor("black"), 18))
    painter.drawLine(150, 20, 150, 180)                             # a dark "1" on white paper
    painter.end()
    path = tmp_path / "one.png"
    assert img.save(str(path))
    with qtbot.waitSignal(pad.imageChanged, timeout=2000) as blocker:
        assert pad.open_image(path)
    x = blocker.args[0]
    assert x.shape == session.dataset.input_shape
    # the set is light ink on dark: the picture was inverted, so the ink is bright, the border dark
    assert x[0].max() >= 0.5 and x[0][:, 0].max() == 0 and x[0][0].max() > 0
    assert "one.png" in pad.canvas_caption.text() and "inverted" in pad.canvas_caption.text()
    assert pad.preview._image is not None


@pytest.mark.parametrize("content", [b"", b"not a picture at all", b"\x89PNG\r\n\x1a\n" + b"\0" * 20])
def test_bad_picture_is_a_message(qtbot, pad, tmp_path, content):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    failures = []
    pad.failed.connect(failures.append)
    assert pad.open_image(path) is False
    assert failures and "bad.png" in failures[0] and pad.message.text() == failures[0]
    assert pad.open_image(tmp_path / "missing.png") is False and "no such file" in pad.message.text()


def test_browser_filters_and_chooses(qtbot, session):
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    browser.set_dataset(session.dataset)
    ds = session.dataset
    assert len(browser.visible_indices()) == len(ds.y_train)
    browser.set_filter(label=3)
    shown = browser.visible_indices()
    assert len(shown) == int(np.sum(ds.y_train == 3)) and np.all(ds.y_train[shown] == 3)
    # icons are made on demand and carry the label text
    idx = browser.model.index(0, 0)
    assert browser.model.data(idx) == "3"
    assert not browser.model.data(idx, QtCore.Qt.ItemDataRole.DecorationRole).isNull()
    with qtbot.waitSignal(browser.sampleChosen) as blocker:
        browser.choose_row(0)
    x, labels = blocker.args
    np.testing.assert_array_equal(x[0], ds.x_train[shown[0]])
    assert labels.tolist() == [3]
    session.pin_input(x, labels)                                    # the signal's arguments fit pin_input
    session.pin_input(None)


def test_browser_misclassified(qtbot, session):
    browser = DatasetBrowser()
    qtbot.addWidget(browser)
    browser.set_dataset(session.dataset)
    wanted = []
    browser.predictionsWanted.connect(wanted.append)
    browser.set_filter(split="test", misclassified=True)
    assert wanted == ["test"] and "computing" in browser.count_label.text()
    preds = predict_labels(session, "test")
    browser.set_predictions("test", preds)
    wrong = np.flatnonzero(preds != session.dataset.y_test)
    np.testing.assert_array_equal(browser.visible_indices(), wrong)
    assert 0 < len(wrong) < len(preds)
    text = browser.model.data(browser.model.index(0, 0))
    names = session.dataset.class_names
    assert text == f"{names[session.dataset.y_test[wrong[0]]]} → {names[preds[wrong[0]]]}"
    # predictions computed on a copy: the session's step state is untouched
    before = (session.iteration, session.phase_index)
    predict_labels(session, "train")
    assert (session.iteration, session.phase_index) == before
