"""The command line: each verb end to end, and errors as one line with a non-zero exit."""

import json
import re

import numpy as np
import pytest

from visualcnn.cli import main


def test_train_digits_small_reaches_95_percent(capsys):
    assert main(["train", "--preset", "digits-small"]) == 0
    out = capsys.readouterr().out
    final = out.strip().splitlines()[-1]
    acc = float(re.search(r"test loss [\d.]+\s+acc\s+([\d.]+)%", final).group(1))
    assert acc >= 95.0, out


def test_train_save_and_resume(tmp_path, capsys):
    path = tmp_path / "s.vcnn"
    assert main(["train", "--preset", "digits-small", "--epochs", "1", "--save", str(path)]) == 0
    assert path.exists() and "saved to" in capsys.readouterr().out
    assert main(["train", "--resume", str(path), "--epochs", "1"]) == 0
    assert "epoch   1/1" in capsys.readouterr().out


def test_train_on_an_npz_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, size=(40, 8, 8), dtype=np.uint8)
    np.savez(tmp_path / "d.npz", images=images, labels=rng.integers(0, 10, 40))
    assert main(["train", "--preset", "digits-small", "--data", str(tmp_path / "d.npz"), "--epochs", "1"]) == 0


def test_gradcheck_passes_and_prints_the_table(capsys):
    assert main(["gradcheck", "--preset", "digits-small"]) == 0
    out = capsys.readouterr().out
    assert "all passed" in out and "conv2d" in out and "FAIL" not in out


def test_presets_lists_the_bundled_ones(capsys):
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in ("digits-small", "seed-note", "lenet5", "pooling-compare"):
        assert name in out


@pytest.mark.parametrize("argv,message", [
    (["train", "--preset", "nope"], "no preset named 'nope'"),
    (["train", "--spec", "/no/such/spec.json"], "no such file"),
    (["train", "--data", "nonsense-set"], "nonsense-set"),
    (["train", "--epochs", "1", "--save", "/no/such/dir/x.vcnn"], "folder /no/such/dir does not exist"),
    (["train", "--resume", "/no/such.vcnn"], "no such file"),
    (["train", "--lr", "-1", "--epochs", "1"], "learning rate must be > 0"),
])
def test_errors_are_one_line_and_exit_non_zero(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("visualcnn: error:") and message in err and "Traceback" not in err
    assert len(err.splitlines()) == 1


def test_invalid_spec_file_names_the_layer(tmp_path, capsys):
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "maxpool2d", "kernel_size": 9},
                                                 {"type": "dense", "out_features": 10}]}
    (tmp_path / "bad.json").write_text(json.dumps(spec))
    assert main(["gradcheck", "--spec", str(tmp_path / "bad.json")]) == 2
    assert "layer 0 maxpool2d: kernel 9 is larger than its 8×8 input" in capsys.readouterr().err


def test_debug_shows_the_traceback():
    with pytest.raises(Exception, match="no preset named"):
        main(["--debug", "train", "--preset", "nope"])
