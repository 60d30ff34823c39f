"""Lp pooling's p: the spec, the stack editor's field and the Pooling tab's slider agree on 1 … 1000."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QComboBox, QDoubleSpinBox

import visualcnn as vc
from ui.main_window import MainWindow
from ui.views.inspector import Inspector
from visualcnn.data import load_dataset
from visualcnn.layers import LpPool2D
from visualcnn.session import Session


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(Session.from_preset("digits-small"), settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_the_editor_offers_p_up_to_the_spec_maximum_and_the_norm(window):
    editor = window.editor
    editor.select_layer(2)
    editor._form_widgets["type"].setCurrentText("lppool2d")
    p_box = editor._form_widgets["p"]
    assert isinstance(p_box, QDoubleSpinBox)
    assert (p_box.minimum(), p_box.maximum()) == (1.0, LpPool2D.fields["p"].maximum) == (1.0, 1000.0)
    p_box.setValue(5000.0)                                  # typed past the end: clamped to what the spec takes
    layer = window.controller.session.network.layers[2]
    assert editor.spec()["layers"][2]["p"] == 1000.0 and layer.options["p"] == 1000.0
    norm = editor._form_widgets["norm"]
    assert isinstance(norm, QComboBox) and [norm.itemText(i) for i in range(norm.count())] == ["mean", "sum"]
    norm.setCurrentText("sum")
    assert window.controller.session.network.layers[2].options["norm"] == "sum"


def test_the_pooling_slider_reaches_p_1000_and_previews_it(qtbot):
    spec = {"input_shape": [1, 8, 8], "layers": [
        {"type": "lppool2d", "kernel_size": 2, "p": 500}, {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec)
    s = vc.Session(net, vc.SGD(net, lr=0.1), load_dataset("digits"), batch_size=1)
    ins = Inspector()
    qtbot.addWidget(ins)
    ins.set_network(net)
    ins.select_layer(0)
    ins.setCurrentIndex(ins.TABS.index("Pooling"))
    rec = s.step()
    ins.show_state([rec], (s.phase, s.layer))
    slider = ins.pooling.slider
    assert ins.pooling.p_label.text() == "p = 500"
    # the layer's own p (500, beyond the old slider's 16) sits at its place on the slider, not at the end
    assert 0 < slider.value() < slider.maximum()
    slider.setValue(slider.maximum())
    assert ins.pooling.p_label.text() == "p = 1000.00"
    preview = ins.pooling.panel.data[2]
    win = np.abs(rec.x[0, 0]).reshape(4, 2, 4, 2).max(axis=(1, 3))
    # mean form at p = 1000 over 4 values: between max·4^(-1/1000) and max
    assert np.all(preview <= win + 1e-6) and np.all(preview >= win * 4 ** (-1 / 1000) - 1e-6)
