"""Session files resume exactly (issue 11, items 1–3): at any phase, with the same batch, batch size
changes honoured by every replay, mistakes and custom layer files kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import visualcnn as vc
from visualcnn import mistakes as M
from visualcnn.custom import unregister_all
from visualcnn.data import load_dataset
from visualcnn.errors import VisualCNNError
from visualcnn.io import load_session, read_session_file, save_session

SPEC = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "out_channels": 2, "kernel_size": 3}, {"type": "sigmoid"},
    {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
TEMPLATE = Path(__file__).resolve().parents[2] / "assets" / "layer_template.py"


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", size=8)


def make(digits, dtype=np.float32, batch_size=3, mistakes=(), spec=SPEC):
    net = M.build_network(spec, mistakes, dtype=dtype, seed=1)
    opt = M.optimizer_class(mistakes)(net, lr=0.2, momentum=0.9, weight_decay=1e-3)
    return vc.Session(net, opt, digits, batch_size=batch_size, seed=4)


def fingerprint(s):
    """Everything that must continue bit for bit: parameters, velocities, batch, position, metrics."""
    return ([{k: v.copy() for k, v in d.items()} for d in s.network.get_params()],
            [{k: v.copy() for k, v in d.items()} for d in s.optimizer.get_state()],
            [a.copy() for a in s.current_batch()], s.iteration, s.phase_index,
            [(m.iteration, m.loss, m.accuracy) for m in s.metrics])


def assert_identical(a, b):
    for da, db in zip(a[0] + a[1], b[0] + b[1]):
        assert da.keys() == db.keys()
        for k in da:
            assert da[k].dtype == db[k].dtype
            np.testing.assert_array_equal(da[k], db[k])
    for xa, xb in zip(a[2], b[2]):
        np.testing.assert_array_equal(xa, xb)
    assert a[3:] == b[3:]


# -- item 1: a save at any phase resumes at that phase -----------------------------------------------

def test_the_issue_example_resumes_on_the_same_batch(tmp_path):
    s = vc.Session.from_preset("digits-small")
    s.set_batch_size(4)
    s.run(2, records=False)
    s.step()
    save_session(s, tmp_path / "s.vcnn")
    t = load_session(tmp_path / "s.vcnn")
    np.testing.assert_array_equal(t.current_batch()[1], s.current_batch()[1])   # was [0 1 5 8] vs [7 7 7 2]
    assert (t.iteration, t.phase_index) == (s.iteration, s.phase_index) == (2, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_save_at_every_phase_continues_bit_identically(tmp_path, digits, dtype):
    s = make(digits, dtype)
    s.run(1)
    for k in range(s.n_phases):
        assert s.phase_index == k
        path = tmp_path / f"phase{k}.vcnn"
        save_session(s, path)
        t = load_session(path, dataset=digits)
        assert_identical(fingerprint(t), fingerprint(s))
        if k > 0:               # the records of the phases before the cursor are there for the views
            assert [r.index for r in t.records] == list(range(k))
            np.testing.assert_array_equal(t.records[-1].batch_x, s.records[-1].batch_x)
        # both go on for the rest of this iteration and the whole next one, as does a session restored in memory
        st = s.file_state()
        ref = make(digits, dtype)
        ref.restore_state(st["params"], st["velocity"], st["iteration"], st["sampler"], s.metrics,
                          phase_index=k, batch=st["batch"], sampler_after=st["sampler_after"])
        for u in (t, ref):
            u.run(2)
        assert_identical(fingerprint(t), fingerprint(ref))
        s.step()
    # and the never-saved session, run on the same two iterations, ends where the resumed ones do
    never = make(digits, dtype)
    never.run(3)
    t = load_session(tmp_path / "phase0.vcnn", dataset=digits)
    t.run(2)
    assert_identical(fingerprint(t), fingerprint(never))


def test_a_pinned_session_resumes_pinned(tmp_path, digits):
    s = make(digits)
    x = digits.x_test[:2]
    s.pin_input(x, digits.y_test[:2])
    s.step(), s.step()
    save_session(s, tmp_path / "p.vcnn")
    t = load_session(tmp_path / "p.vcnn", dataset=digits)
    assert t.pinned is not None and t.phase_index == 2
    s.run(2), t.run(2)
    assert_identical(fingerprint(t), fingerprint(s))
    np.testing.assert_array_equal(t.current_batch()[0], x)


# -- item 2: a batch-size change survives every replay ---------------------------------------------

def test_the_issue_example_keeps_the_new_batch_size_through_step_back(digits):
    s = make(digits)
    s.set_batch_size(2)
    s.step()
    msg = s.set_batch_size(5)
    assert "from iteration 1 (iteration 0 keeps its batch of 2)" in msg and msg in s.log
    s.step_back()
    s.run_iteration()
    assert s.batch_size == 5 and len(s.current_batch()[1]) == 5       # was 2


@pytest.mark.parametrize("replay", ["step_back", "evaluate", "mistake", "unpin"])
def test_every_replay_honours_a_batch_size_change(digits, replay):
    s = make(digits)
    s.step(), s.step()
    s.set_batch_size(6)
    if replay == "step_back":
        s.step_back()
    elif replay == "evaluate":
        s.evaluate(max_samples=20)
    elif replay == "mistake":
        M.apply_to_session(s, ["sigmoid-sign"])
    else:
        s.pin_input(None)           # restarts the iteration: its batch is fetched anew, at the new size
    s.run_iteration()
    assert len(s.current_batch()[1]) == 6
    assert len(s.run_iteration()[0].batch_y) == 6


def test_a_new_batch_size_applies_at_once_before_the_batch_is_fetched(digits):
    s = make(digits)
    s.run(1)
    assert s.set_batch_size(7).endswith("from this iteration")
    assert len(s.step().batch_y) == 7


def test_a_save_after_a_batch_size_change_keeps_both_sizes(tmp_path, digits):
    s = make(digits, batch_size=2)
    s.step()
    s.set_batch_size(5)
    save_session(s, tmp_path / "b.vcnn")
    t = load_session(tmp_path / "b.vcnn", dataset=digits)
    assert t.batch_size == 5 and len(t.current_batch()[1]) == 2       # this iteration keeps its batch
    t.run_iteration(), s.run_iteration()
    assert len(t.current_batch()[1]) == 5
    assert_identical(fingerprint(t), fingerprint(s))


# -- item 3: mistakes and custom layer files ---------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mistakes_are_saved_and_restored(tmp_path, digits, dtype):
    names = ["softmax-diagonal", "bias-no-momentum"]
    s = make(digits, dtype, mistakes=names)
    s.run(1)
    s.step()
    save_session(s, tmp_path / "m.vcnn")
    meta, _ = read_session_file(tmp_path / "m.vcnn")
    assert meta["mistakes"] == names and meta["layer_files"] == []
    t = load_session(tmp_path / "m.vcnn", dataset=digits)
    assert M.active(t.network, t.optimizer) == names                   # was [] (correct formulas)
    s.run(2), t.run(2)
    assert_identical(fingerprint(t), fingerprint(s))


def test_an_unknown_mistake_in_a_file_is_named(tmp_path, digits):
    s = make(digits)
    save_session(s, tmp_path / "m.vcnn")
    with np.load(tmp_path / "m.vcnn") as z:
        arrays = dict(z)
    meta = json.loads(str(arrays.pop("__meta__")))
    meta["mistakes"] = ["softmax-diagonals"]
    with open(tmp_path / "bad.vcnn", "wb") as f:
        np.savez(f, __meta__=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(vc.errors.FileFormatError) as e:
        load_session(tmp_path / "bad.vcnn", dataset=digits)
    assert "bad.vcnn" in str(e.value) and "softmax-diagonals" in str(e.value) and "softmax-diagonal'" in str(e.value)


@pytest.mark.parametrize("change", [{"dtype": np.float64}, {"seed": 9}, {"spec": "wider"}])
def test_rebuild_keeps_the_mistakes(digits, change):
    names = ["softmax-diagonal", "sigmoid-sign", "bias-no-momentum"]
    s = make(digits, mistakes=names)
    if change.get("spec") == "wider":
        spec = json.loads(json.dumps(SPEC))
        spec["layers"][0]["out_channels"] = 3
        change = {"spec": spec}
    s.rebuild(**change)
    assert M.active(s.network, s.optimizer) == names       # was: dtype dropped bias-no-momentum, seed all


@pytest.fixture
def layer_file(tmp_path):
    path = tmp_path / "my_layer.py"
    shutil.copy(TEMPLATE, path)
    yield path
    unregister_all()


def test_a_custom_layer_file_is_named_and_reloaded_only_when_allowed(tmp_path, digits, layer_file):
    from visualcnn.custom import load_layer_file

    load_layer_file(layer_file)
    spec = json.loads(json.dumps(SPEC))
    spec["layers"][1] = {"type": "scaled_tanh", "init_scale": 1.5}
    s = make(digits, spec=spec)
    s.run(1)
    s.step(), s.step()
    save_session(s, tmp_path / "c.vcnn")
    meta, _ = read_session_file(tmp_path / "c.vcnn")
    assert meta["layer_files"] == [str(layer_file.resolve())]
    unregister_all()                                         # a new process: the type is unknown
    with pytest.raises(VisualCNNError) as e:
        load_session(tmp_path / "c.vcnn", dataset=digits)
    assert type(e.value).__name__ == "LayerFilesNeeded" and e.value.paths == [str(layer_file.resolve())] and e.value.types == ["scaled_tanh"]
    assert "c.vcnn" in str(e.value) and "my_layer.py" in str(e.value) and "runs the Python code" in str(e.value)
    t = load_session(tmp_path / "c.vcnn", dataset=digits, layer_files=True)   # the user agreed
    assert type(t.network.layers[1]).type_name == "scaled_tanh"
    s.run(1), t.run(1)
    assert_identical(fingerprint(t), fingerprint(s))


def test_a_missing_layer_file_is_named(tmp_path, digits, layer_file):
    from visualcnn.custom import load_layer_file

    load_layer_file(layer_file)
    spec = json.loads(json.dumps(SPEC))
    spec["layers"][1] = {"type": "scaled_tanh"}
    save_session(make(digits, spec=spec), tmp_path / "c.vcnn")
    unregister_all()
    layer_file.unlink()
    with pytest.raises(vc.errors.FileFormatError) as e:
        load_session(tmp_path / "c.vcnn", dataset=digits, layer_files=True)
    assert "c.vcnn" in str(e.value) and "my_layer.py: no such file" in str(e.value)
