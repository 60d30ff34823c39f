"""`visualcnn export …` and `--spec model.onnx`: end to end through main(), errors as one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.cli import main
from visualcnn.interop import load_onnx
from visualcnn.interop.sessions import matching_dataset, session_for_model
from visualcnn.io import load_session, save_session

from .interop_helpers import same_params

pytest.importorskip("onnx")
TINYVGG = Path(__file__).resolve().parents[1] / "fixtures" / "tinyvgg_torch.onnx"


def test_export_a_preset_to_onnx_and_pytorch_code(tmp_path, capsys):
    out_onnx, out_py = tmp_path / "net.onnx", tmp_path / "net.py"
    assert main(["export", "--preset", "digits-small", "--seed", "4", "--onnx", str(out_onnx),
                 "--pytorch", str(out_py)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out_onnx}" in text and f"wrote {out_py} and {tmp_path / 'net.npz'}" in text
    net = vc.Session.from_preset("digits-small", seed=4).network
    back = load_onnx(out_onnx).network()
    assert same_params(back, net)
    with np.load(tmp_path / "net.npz") as z:
        assert np.array_equal(z["layers.layer0.weight"], net.layers[0].params["W"])


def test_export_a_saved_session_keeps_its_trained_weights(tmp_path, capsys):
    session = vc.Session.from_preset("digits-small")
    session.run(3)
    save_session(session, tmp_path / "s.vcnn")
    assert main(["export", "--resume", str(tmp_path / "s.vcnn"), "--onnx", str(tmp_path / "s.onnx")]) == 0
    saved = load_session(tmp_path / "s.vcnn").network
    back = load_onnx(tmp_path / "s.onnx").network()
    assert same_params(back, saved)
    assert not same_params(back, vc.Session.from_preset("digits-small").network)      # trained, not initial


@pytest.mark.parametrize("argv, message", [
    (["export", "--preset", "digits-small"], "say what to write: --onnx OUT.onnx and/or --pytorch OUT.py"),
    (["export", "--preset", "digits-small", "--onnx", "out.txt"], "the file name must end in .onnx"),
    (["export", "--preset", "digits-small", "--pytorch", "my-net.py"], "'my-net' is not a valid Python module name"),
    (["export", "--preset", "digits-small", "--onnx", "/no/such/folder/x.onnx"], "does not exist"),
    (["export", "--preset", "digits-small", "--pytorch", "torch.py"], "would hide the torch it imports"),
])
def test_export_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_gradcheck_on_an_onnx_model_prints_the_import_report(capsys):
    assert main(["gradcheck", "--spec", str(TINYVGG), "--max-entries", "6"]) == 0
    out = capsys.readouterr().out
    assert "opened tinyvgg_torch.onnx (made by pytorch" in out and "2,120 parameters" in out
    assert "digits 16×16" in out and "all passed" in out


def test_train_on_an_onnx_model_and_save_it_as_a_session(tmp_path, capsys):
    path = tmp_path / "tv.vcnn"
    assert main(["train", "--spec", str(TINYVGG), "--epochs", "1", "--batch-size", "64", "--save", str(path)]) == 0
    out = capsys.readouterr().out
    acc = float(out.split("test loss")[1].split("acc")[1].split("%")[0])
    assert acc > 80.0, out                          # it starts from PyTorch's trained weights (93 %)
    resumed = load_session(path)
    assert resumed.network.to_spec() == load_onnx(TINYVGG).network().to_spec()


def test_a_corrupt_onnx_spec_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    assert main(["gradcheck", "--spec", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and len(err.strip().splitlines()) == 1


def test_a_model_no_data_set_fits_steps_on_random_images_and_checks_green(tmp_path, capsys):
    net = vc.Network.from_spec({"input_shape": [3, 10, 10], "layers": [
        {"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "tanh"}, {"type": "dense", "out_features": 5}]})
    path = net.to_onnx(tmp_path / "rgb.onnx")
    session = session_for_model(load_onnx(path))
    assert session.dataset.source["name_or_path"] == "random"
    assert session.dataset.input_shape == (3, 10, 10) and session.dataset.n_classes == 5
    assert same_params(session.network, net)
    assert main(["gradcheck", "--spec", str(path)]) == 0
    assert "random" in capsys.readouterr().out
    save_session(session, tmp_path / "rgb.vcnn")                  # the random set is rebuilt from its source
    back = load_session(tmp_path / "rgb.vcnn")
    assert np.array_equal(back.dataset.x_train, session.dataset.x_train) and same_params(back.network, net)


def test_a_vector_model_no_data_set_fits_says_what_to_give(tmp_path):
    net = vc.Network.from_spec({"input_shape": [6], "layers": [{"type": "dense", "out_features": 3}]})
    with pytest.raises(vc.VisualCNNError, match=r"no data set has 6 inputs with at most 3 classes; give one"):
        session_for_model(load_onnx(net.to_onnx(tmp_path / "v.onnx")))


@pytest.mark.parametrize("shape, classes, name", [
    ((1, 28, 28), 10, "digits"), ((1, 20, 20), 4, "shapes"), ((1, 28, 28), 4, "shapes"),
    ((3, 16, 16), 10, None), ((1, 5, 5), 10, None), ((12,), 3, None), ((1, 16, 16), 3, None)])
def test_matching_dataset(shape, classes, name):
    source = matching_dataset(shape, classes)
    assert (source or {}).get("name_or_path") == name


def test_a_colour_model_steps_on_the_colour_set_when_there_is_one():
    from visualcnn.data.registry import LOADERS
    if "colour-shapes" not in LOADERS:
        assert matching_dataset((3, 32, 32), 12) is None
        pytest.skip("this installation has no colour data set (colour-shapes) yet")
    assert matching_dataset((3, 32, 32), 12) == {"name_or_path": "colour-shapes", "size": 32}
    assert matching_dataset((3, 32, 32), 10) is None          # 12 classes would not fit 10 scores
