"""The window's side of issue 11 items 2–3: it says when a new batch size takes effect, shows the
mistakes of an opened session, and asks before running a session's custom layer files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.ui.helpers import shown_window
from ui import files as files_mod
from visualcnn import mistakes as M
from visualcnn.custom import load_layer_file, unregister_all
from visualcnn.io import save_session
from visualcnn.presets import build_session, load_preset

TEMPLATE = Path(__file__).resolve().parents[2] / "assets" / "layer_template.py"


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(files_mod, "ask_save_changes", lambda parent, name: "discard")
    return shown_window(qtbot, tmp_path)


@pytest.fixture
def errors(monkeypatch):
    shown = []
    monkeypatch.setattr(files_mod, "show_error", lambda parent, title, text: shown.append(text))
    return shown


def test_the_window_says_when_a_new_batch_size_takes_effect(window):
    c = window.controller
    c.step(), c.step()
    window.hyper_panel.batch_size.setValue(5)
    s = c.session
    assert s.batch_size == 5
    said = window.statusBar().currentMessage()
    assert "batch size = 5, from iteration 1 (iteration 0 keeps its batch of 1)" in said
    c.step_back(), c.step_back()                            # a replay: the new size still holds
    s.run_iteration()
    assert len(s.current_batch()[1]) == 5
    c.refresh()
    window.hyper_panel.batch_size.setValue(3)               # at phase 0: the batch is fetched anew
    assert window.statusBar().currentMessage().endswith("batch size = 3, from this iteration")
    assert len(s.current_batch()[1]) == 3


def test_an_opened_session_shows_its_mistakes(window, tmp_path, errors):
    names = ["softmax-diagonal", "bias-no-momentum"]
    s = build_session(load_preset("digits-small"), mistakes=names)
    s.run(1)
    s.step()
    save_session(s, tmp_path / "m.vcnn")
    opened = window.files.open(tmp_path / "m.vcnn")
    assert errors == [] and opened is window.controller.session
    assert M.active(opened.network, opened.optimizer) == names
    assert window.mathlab.mistakes_panel.checked() == names
    said = window.statusBar().currentMessage()
    assert "study-note mistakes on: softmax-diagonal, bias-no-momentum" in said
    assert "next: forward through layer 1" in said


@pytest.fixture
def custom_session(tmp_path):
    path = tmp_path / "my_layer.py"
    shutil.copy(TEMPLATE, path)
    load_layer_file(path)
    cfg = load_preset("digits-small")
    cfg = json.loads(json.dumps(cfg))
    cfg["spec"]["layers"][1] = {"type": "scaled_tanh"}
    save_session(build_session(cfg), tmp_path / "c.vcnn")
    unregister_all()
    yield tmp_path / "c.vcnn", path
    unregister_all()


@pytest.mark.parametrize("agree", [True, False])
def test_opening_asks_before_running_a_layer_file(window, custom_session, errors, monkeypatch, agree):
    session_path, layer_path = custom_session
    asked = []
    monkeypatch.setattr(files_mod, "ask_load_layer_files",
                        lambda parent, needed: asked.append((needed.paths, needed.types)) or agree)
    before = window.controller.session
    opened = window.files.open(session_path)
    assert asked == [([str(layer_path.resolve())], ["scaled_tanh"])]
    if agree:
        assert opened is window.controller.session and opened.network.layers[1].type_name == "scaled_tanh"
        assert errors == []
    else:
        assert opened is None and window.controller.session is before
        assert len(errors) == 1 and "my_layer.py" in errors[0] and "scaled_tanh" in errors[0]


def test_launching_on_a_session_file_asks_before_running_its_layer_files(custom_session):
    from ui.startup import load_session
    from visualcnn.errors import VisualCNNError

    session_path, layer_path = custom_session
    with pytest.raises(VisualCNNError, match="my_layer.py"):
        load_session(str(session_path))                     # nobody to ask: refused, naming the file
    asked = []
    s = load_session(str(session_path), ask_layer_files=lambda needed: asked.append(needed.paths) or True)
    assert asked == [[str(layer_path.resolve())]] and s.network.layers[1].type_name == "scaled_tanh"


def test_launching_on_a_bare_spec_no_data_set_fits_steps_on_random_images(tmp_path):
    from ui.startup import load_session

    spec = {"input_shape": [3, 10, 10], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                   {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    (tmp_path / "rgb.json").write_text(json.dumps(spec))
    s = load_session(str(tmp_path / "rgb.json"))            # was: "the dataset's images are 1×8×8 ..."
    assert s.dataset.input_shape == (3, 10, 10) and s.step().y.shape[1:] == (2, 8, 8)
