"""Issue 10 §4: in the phase where a layer's backward runs, the pipeline shows both what arrived (∂C/∂y, in
its column) and what it sent down (∂C/∂x, in the column below), labelled — for max pooling, the sparse
routed gradient appears in the step that routed it, not one phase later."""

import numpy as np
from PyQt6.QtCore import QSettings

from ui.main_window import MainWindow
from visualcnn.session import Session


def test_a_backward_phase_shows_the_gradient_it_sent_down(qtbot, tmp_path):
    s = Session.from_preset("digits-small")          # conv, relu, maxpool (layer 2), flatten, dense
    w = MainWindow(s, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    c, p = w.controller, w.pipeline
    while not (s.last_record is not None and s.last_record.phase == "backward" and s.last_record.layer == 2):
        assert c.step()
    rec = s.last_record
    pool, below = p.columns[p.column_of_layer(2)], p.columns[p.column_of_layer(1)]
    assert p.executed_column == p.column_of_layer(2) and p.sent_column == p.column_of_layer(1)
    assert pool.info_item.plain().startswith("∂C/∂y arrived")
    np.testing.assert_array_equal(pool.images[0].image, rec.dout[0, 0])
    assert below.info_item.plain().startswith("∂C/∂x sent down") and below.mark_item.plain() == "← next"
    for ch, img in enumerate(p.images_of_layer(1)):
        np.testing.assert_array_equal(img.image, rec.dx[0, ch])
    # max pooling routes each window's gradient to one winner: at most one non-zero per 2×2 window
    routed = rec.dx[0]
    C, H, W = routed.shape
    windows = (routed.reshape(C, H // 2, 2, W // 2, 2) != 0).sum(axis=(2, 4))
    assert windows.max() <= 1 and (routed != 0).any()
    w.controller.shutdown()
