"""Session files: one schema for the description, as rigorous as the spec's (issue 12 §3).

Every malformed description the adversarial run found ends in one FileFormatError naming the file,
the field, the value and what is valid — and `visualcnn train --resume` prints that one line.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import visualcnn as vc
from visualcnn.cli import main
from visualcnn.errors import FileFormatError
from visualcnn.io import load_session, save_session


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    s = vc.Session.from_preset("digits-small")
    s.run(3, records=False)
    path = tmp_path_factory.mktemp("good") / "good.vcnn"
    save_session(s, path)
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    return json.loads(str(arrays.pop("__meta__"))), arrays


def write(tmp_path, meta, arrays, text=None):
    path = tmp_path / "bad.vcnn"
    with open(path, "wb") as f:             # (np.savez would add .npz to a path)
        np.savez(f, __meta__=np.array(text if text is not None else json.dumps(meta)), **arrays)
    return path


def set_in(meta, dotted, value):
    *parents, last = dotted.split(".")
    d = meta
    for p in parents:
        d = d[p]
    d[last] = value


CASES = [
    ("version", "1", r"version must be a whole number from 1 to \d+, got \"1\""),
    ("config.seed", -1, r"config\.seed must be a whole number from 0 to 4294967295, got -1"),
    ("config.optimizer.nesterov", True, r"config\.optimizer: unknown key \"nesterov\"; valid keys: lr, momentum"),
    ("metrics", "x", r"metrics must be a list, got \"x\""),
    ("iteration", -5, r"iteration must be a whole number from 0 to 9007199254740992, got -5"),
    ("iteration", 1e300, r"iteration must be a whole number .* got 1e\+300"),
    ("config.optimizer.decay_biases", "no", r"config\.optimizer\.decay_biases must be true or false, got \"no\""),
    ("config.optimizer.lr", 1e39, r"learning rate 1e\+39 is not representable in float32"),
    ("config.batch_size", 10**9, r"config\.batch_size must be a whole number from 1 to 4096"),
    ("config.dataset.download_missing", True, r"config\.dataset\.download_missing: opening a file never downloads"),
    ("config.dataset.n", 10**9, r"bars: n × size × size .* over the limit"),
    ("sampler.position", "0", r"sampler\.position must be a whole number"),
    ("metrics", [{"iteration": 0, "loss": "high", "accuracy": 0.5}], r"metrics\[0\]\.loss must be a finite number"),
    ("mistakes", [3], r"mistakes\[0\] must be text"),
    ("config.spec.layers", [{"type": "dense", "out_features": 10**9}], r"out_features is 1,000,000,000, over the limit"),
]


@pytest.mark.parametrize("field,value,message", CASES, ids=[f"{c[0]}={c[1]!r}"[:40] for c in CASES])
def test_a_malformed_description_is_one_error_naming_the_field(tmp_path, good, field, value, message, capsys):
    meta, arrays = json.loads(json.dumps(good[0])), dict(good[1])
    if field == "config.dataset.n":
        meta["config"]["dataset"] = {"name_or_path": "bars", "n": value}
    else:
        set_in(meta, field, value)
    path = write(tmp_path, meta, arrays)
    with pytest.raises(FileFormatError, match=message) as e:
        load_session(path)
    assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)
    assert main(["train", "--resume", str(path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("change,message", [
    (lambda a: a.update({"param/0/W": a["param/0/W"].astype(str)}), r"array 'param/0/W' must hold floating-point"),
    (lambda a: a.update({"velocity/0/W": np.zeros((1, 2))}), r"array 'velocity/0/W' has shape \(1, 2\); its "
                                                              r"parameter has"),
    (lambda a: a.update({"param/0/W": np.zeros((1, 2), np.float32), "velocity/0/W": np.zeros((1, 2), np.float32)}),
     r"layer 0 conv2d: W has shape \(1, 2\)"),
])
def test_malformed_arrays_are_one_error(tmp_path, good, change, message):
    meta, arrays = good[0], dict(good[1])
    change(arrays)
    with pytest.raises(FileFormatError, match=message):
        load_session(write(tmp_path, meta, arrays))


def test_json_nested_100k_deep_is_refused_by_name(tmp_path, good):
    path = write(tmp_path, None, good[1], text="[" * 100_000 + "]" * 100_000)
    with pytest.raises(FileFormatError, match=r"bad\.vcnn: the session's description: not valid JSON: nested "
                                              r"deeper than the limit of 64"):
        load_session(path)


def test_a_diverged_run_saves_and_loads(tmp_path):
    """NaN losses are valid in metrics (only there): a session stopped by the NaN breakpoint can be reopened."""
    from visualcnn.history import IterationMetrics
    s = vc.Session.from_preset("digits-small")
    s.run(3, records=False)
    s.metrics.append(IterationMetrics(3, float("nan"), float("nan")))
    s.metrics.append(IterationMetrics(4, float("inf"), 0.0))
    save_session(s, tmp_path / "nan.vcnn")
    t = load_session(tmp_path / "nan.vcnn")
    assert np.isnan(t.metrics[-2].loss) and np.isinf(t.metrics[-1].loss)


def test_opening_a_session_never_downloads(tmp_path, good, monkeypatch):
    """A session naming MNIST that is not on disk is reported; nothing connects, no cache folder is made."""
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("opening a session tried to connect")
    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    cache = tmp_path / "cache"
    monkeypatch.setattr("visualcnn.data.paths.platformdirs.user_cache_dir", lambda app: str(cache / app))
    meta = json.loads(json.dumps(good[0]))
    meta["config"]["dataset"] = {"name_or_path": "mnist"}
    with pytest.raises(FileFormatError, match=r"mnist: not downloaded yet .*visualcnn data download mnist"):
        load_session(write(tmp_path, meta, good[1]))
    meta["config"]["dataset"] = {"name_or_path": "mnist", "download_missing": True}
    with pytest.raises(FileFormatError, match=r"download_missing: opening a file never downloads"):
        load_session(write(tmp_path, meta, good[1]))
    assert not cache.exists()
