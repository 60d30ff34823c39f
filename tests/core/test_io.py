"""Session files: exact round trips, refusing bad files by name, atomic saves, and the CLI's --save / --resume."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.errors import FileFormatError
from visualcnn.io import load_session, read_session_file, save_session


@pytest.fixture
def trained():
    s = vc.Session.from_preset("digits-small", momentum=0.9)
    s.set_batch_size(8)
    s.set_hyper(lr=0.03, weight_decay=2e-4)
    s.run(11, records=False)
    return s


def state(session):
    cp = session.checkpoint_state()
    return ([{k: v.copy() for k, v in d.items()} for d in cp["params"]],
            [{k: v.copy() for k, v in d.items()} for d in cp["velocity"]])


def assert_same_arrays(a, b):
    assert len(a) == len(b)
    for da, db in zip(a, b):
        assert da.keys() == db.keys()
        for k in da:
            assert da[k].dtype == db[k].dtype
            np.testing.assert_array_equal(da[k], db[k])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_is_exact(tmp_path, dtype):
    s = vc.Session.from_preset("digits-small", dtype=dtype, seed=3)
    s.set_batch_size(8)
    s.set_hyper(lr=0.03, weight_decay=2e-4)
    s.run(11, records=False)
    path = tmp_path / "s.vcnn"
    save_session(s, path)
    t = load_session(path)
    assert t.path == path
    assert t.iteration == s.iteration == 11
    params_s, vel_s = state(s)
    params_t, vel_t = state(t)
    assert_same_arrays(params_s, params_t)
    assert_same_arrays(vel_s, vel_t)
    assert any(np.any(v != 0) for d in vel_t for v in d.values())       # momentum really was saved
    assert t.optimizer.hyper() == s.optimizer.hyper()
    assert t.config() == s.config()
    assert t.dataset.source == s.dataset.source and t.batch_size == s.batch_size and t.seed == s.seed
    assert [(m.iteration, m.loss, m.accuracy) for m in t.metrics] == [(m.iteration, m.loss, m.accuracy)
                                                                       for m in s.metrics]
    np.testing.assert_array_equal(s.network.copy().forward(s.dataset.x_test),
                                  t.network.copy().forward(t.dataset.x_test))
    # the same next batches, and training continues identically
    for _ in range(3):
        rs, rt = s.run_iteration(), t.run_iteration()
        np.testing.assert_array_equal(rs[0].batch_x, rt[0].batch_x)
        np.testing.assert_array_equal(rs[0].batch_y, rt[0].batch_y)
        assert rs[s.n_phases // 2].loss == rt[t.n_phases // 2].loss
    assert_same_arrays(state(s)[0], state(t)[0])


def test_mid_iteration_save_resumes_at_its_phase_from_the_iteration_start(tmp_path, trained):
    start_params, _ = state(trained)
    for _ in range(4):
        trained.step()
    path = tmp_path / "mid.vcnn"
    save_session(trained, path)
    t = load_session(path)
    assert t.iteration == trained.iteration and t.phase_index == trained.phase_index == 4
    assert_same_arrays(state(t)[0], start_params)       # the iteration's start, its first phases recomputed


def write_truncated(path, good):
    data = good.read_bytes()
    path.write_bytes(data[:len(data) // 2])


def write_random(path, good):
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def write_foreign_npz(path, good):
    with open(path, "wb") as f:
        np.savez(f, weights=np.ones(3))


def write_json(path, good):
    path.write_text(json.dumps({"spec": {"layers": []}}))


def write_wrong_format_meta(path, good):
    with open(path, "wb") as f:
        np.savez(f, __meta__=np.array(json.dumps({"format": "something-else", "version": 1})))


def write_empty(path, good):
    path.write_bytes(b"")


@pytest.mark.parametrize("make_bad, words", [
    (write_truncated, "corrupt or truncated"),
    (write_random, "corrupt or truncated"),
    (write_foreign_npz, "not a visualcnn session"),
    (write_json, "corrupt or truncated"),
    (write_wrong_format_meta, "not a visualcnn session"),
    (write_empty, ""),
])
def test_bad_files_are_refused_by_name(tmp_path, trained, make_bad, words):
    good = tmp_path / "good.vcnn"
    save_session(trained, good)
    bad = tmp_path / f"bad-{make_bad.__name__}.vcnn"
    make_bad(bad, good)
    before = state(trained)
    iteration = trained.iteration
    with pytest.raises(FileFormatError) as info:
        load_session(bad)
    assert bad.name in str(info.value) and words in str(info.value)
    with pytest.raises(FileFormatError):
        read_session_file(bad)
    assert trained.iteration == iteration
    assert_same_arrays(state(trained)[0], before[0])
    assert_same_arrays(state(trained)[1], before[1])


def test_missing_file(tmp_path):
    with pytest.raises(FileFormatError, match="nowhere.vcnn: no such file"):
        load_session(tmp_path / "nowhere.vcnn")


def test_arrays_for_another_network_are_refused(tmp_path, trained):
    path = tmp_path / "s.vcnn"
    save_session(trained, path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["param/0/W"] = arrays["param/0/W"][:, :, :2]               # wrong shape
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(FileFormatError, match="s.vcnn"):
        load_session(path)


def test_save_is_atomic(tmp_path, trained, monkeypatch):
    path = tmp_path / "s.vcnn"
    save_session(trained, path)
    good = path.read_bytes()
    trained.run(2, records=False)

    def broken(*args, **kwargs):
        f = args[0]
        f.write(b"half a file")
        raise OSError("disk full (simulated)")
    monkeypatch.setattr(np, "savez_compressed", broken)
    with pytest.raises(OSError, match="disk full"):
        save_session(trained, path)
    assert path.read_bytes() == good                                  # the previous file is intact
    assert sorted(os.listdir(tmp_path)) == ["s.vcnn"]                 # and no temporary file is left
    monkeypatch.undo()
    assert load_session(path).iteration == 11


def test_cli_train_save_and_resume(tmp_path, capsys):
    from visualcnn.cli import main

    path = tmp_path / "cli.vcnn"
    assert main(["train", "--preset", "digits-small", "--epochs", "1", "--save", str(path)]) == 0
    s = load_session(path)
    per_epoch = s.sampler.batches_per_epoch
    assert s.iteration == per_epoch and len(s.metrics) == per_epoch
    out = capsys.readouterr().out
    assert "epoch   1/1" in out and f"saved to {path}" in out
    assert main(["train", "--resume", str(path), "--epochs", "1", "--save", str(path)]) == 0
    t = load_session(path)
    # one more epoch at the saved batch size, continuing the saved metrics
    assert t.batch_size == s.batch_size
    assert t.iteration == 2 * per_epoch and len(t.metrics) == 2 * per_epoch
    assert [m.loss for m in t.metrics[:per_epoch]] == [m.loss for m in s.metrics]


def test_cli_resume_of_a_bad_file_is_one_line(tmp_path, capsys):
    from visualcnn.cli import main

    bad = tmp_path / "bad.vcnn"
    bad.write_text("{}")
    assert main(["train", "--resume", str(bad), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "bad.vcnn" in err and "Traceback" not in err
