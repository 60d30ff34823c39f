"""Checks and stepping on any stack (issue 11, item 9): no data set needed for a gradient check, and a
stack whose input matches no data set steps on random images of its shape instead of being refused."""

from __future__ import annotations

import json

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.cli import main
from visualcnn.data import load_dataset
from visualcnn.io import load_session, save_session

SPEC = {"input_shape": [2, 9, 9], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3}, {"type": "tanh"},
    {"type": "avgpool2d", "kernel_size": 2, "stride": 1}, {"type": "flatten"}, {"type": "dense", "out_features": 4}]}


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(SPEC))
    return path


def test_gradcheck_runs_on_a_stack_no_data_set_fits(spec_file, capsys):
    # was: "the dataset's images are 1×8×8 but the network takes 2×9×9"
    assert main(["gradcheck", "--spec", str(spec_file)]) == 0
    out, err = capsys.readouterr()
    assert "no data set fits this stack (2×9×9 input, 4 classes" in err and "random images and labels" in err
    assert "samples of random (no data set fits) 2×9×9" in out and "all passed" in out
    assert "float32 path: analytic gradients agree with float64" in out


def test_an_explicit_data_set_that_does_not_fit_is_still_refused(spec_file, capsys):
    assert main(["gradcheck", "--spec", str(spec_file), "--data", "digits"]) == 2
    assert "2×9×9" in capsys.readouterr().err


def test_a_stack_steps_on_random_images_of_its_shape_and_resumes(tmp_path):
    ds = load_dataset("random", channels=2, height=9, width=9, n_classes=4)
    assert ds.input_shape == (2, 9, 9) and ds.n_classes == 4
    net = vc.Network.from_spec(SPEC, seed=0)
    s = vc.Session(net, vc.SGD(net, lr=0.1), ds, batch_size=3)
    s.run(1)
    s.step()
    save_session(s, tmp_path / "r.vcnn")
    t = load_session(tmp_path / "r.vcnn")                  # the random set is rebuilt from its source
    np.testing.assert_array_equal(t.current_batch()[0], s.current_batch()[0])
    t.run(1), s.run(1)
    for a, b in zip(t.network.get_params(), s.network.get_params()):
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])


def test_the_random_set_refuses_a_huge_shape_by_name():
    with pytest.raises(vc.errors.DataError) as e:
        load_dataset("random", channels=64, height=4096, width=4096)
    assert "random:" in str(e.value) and "at most" in str(e.value)
