"""The command line under hostile input and hostile conditions (issue 12 §3, §6, §9).

Bad arguments are one line; a layer that raises is one line naming it; the save destination is
checked before training; a full disk loses nothing; SIGTERM saves like Ctrl-C; a second Ctrl-C
stops a layer that never returns; saves clean up after killed saves and keep the file's mode.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from visualcnn import cli_run, custom
from visualcnn.atomic import SaveError, atomic_write
from visualcnn.cli import main
from visualcnn.io import load_session

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def clean_registry():
    yield
    custom.unregister_all()


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err
    return err.splitlines()[-1]


@pytest.mark.parametrize("argv,words", [
    (["train", "--seed", "-1", "--epochs", "1"], "a seed must be a whole number from 0 to 4294967295, got -1"),
    (["train", "--seed", "4294967296", "--epochs", "1"], "from 0 to 4294967295"),
    (["gradcheck", "--jitter", "-1"], "expected a finite number >= 0, got -1"),
    (["gradcheck", "--tol", "nan"], "expected a finite number > 0, got nan"),
    (["snapshot", "--phases", "-3", "--out", "x.png"], "expected a whole number from 0 to 100000, got -3"),
])
def test_bad_numbers_on_the_command_line_are_one_line(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    assert words in one_line_error(capsys)


@pytest.mark.parametrize("argv,words", [
    (["train", "--lr", "1e39", "--epochs", "1"], "learning rate 1e+39 is not representable in float32"),
])
def test_hyper_parameters_the_dtype_cannot_hold_are_refused(argv, words, capsys):
    assert main(argv) == 2
    assert words in one_line_error(capsys)


LAYER = "import numpy as np\nfrom visualcnn.layers import Layer\n\n"


def layer_file(tmp_path, body: str) -> Path:
    path = tmp_path / "mine.py"
    path.write_text(LAYER + textwrap.dedent(body), encoding="utf-8")
    return path


def spec_file(tmp_path, kind: str = "mine") -> Path:
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": 2, "kernel_size": 3},
                                                  {"type": kind}, {"type": "flatten"},
                                                  {"type": "dense", "out_features": 10}]}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return path


@pytest.mark.parametrize("body,words", [
    ("""
     class Mine(Layer):
         type_name = "mine"
         def forward(self, x):
             raise RuntimeError("boom")
         def backward(self, dout):
             return dout
     """, "layer 1 mine: raised RuntimeError: boom during the gradient check"),
    ("""
     class Mine(Layer):
         type_name = "mine"
         def forward(self, x):
             return x[:, :, :2]
         def backward(self, dout):
             return dout
     """, "raised ValueError"),
])
def test_gradcheck_of_a_failing_layer_file_is_one_line(tmp_path, body, words, capsys):
    path = layer_file(tmp_path, body)
    status = main(["gradcheck", "--spec", str(spec_file(tmp_path)), "--layer-file", str(path)])
    assert status == 2
    line = one_line_error(capsys)
    assert line.startswith("visualcnn: error:") and words in line


def test_an_unwritable_destination_is_refused_before_training(tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    assert main(["train", "--epochs", "1", "--save", str(tmp_path / "taken")]) == 2
    out = capsys.readouterr()
    assert "epoch" not in out.out and f"cannot save to {tmp_path / 'taken'}: it is a folder" in out.err


def test_a_failed_save_keeps_the_trained_session_somewhere(tmp_path, monkeypatch, capsys):
    target = tmp_path / "out.vcnn"
    rescue = tmp_path / "rescue"
    rescue.mkdir()
    monkeypatch.setattr(cli_run, "rescue_dirs", lambda: [rescue])
    import visualcnn.io as io

    real = io.save_session

    def disk_full_at_target(session, path):
        if Path(path) == target:
            def write(f):
                raise OSError(28, "No space left on device")
            return atomic_write(path, write)
        return real(session, path)
    monkeypatch.setattr(io, "save_session", disk_full_at_target)
    assert main(["train", "--epochs", "1", "--save", str(target)]) == 2
    err = one_line_error(capsys)
    assert f"cannot save {target}: No space left on device" in err       # the message names the file
    (saved,) = rescue.iterdir()
    assert f"saved to {saved} instead" in err
    assert load_session(saved).iteration > 0 and not target.exists()


def test_save_names_the_file_when_the_disk_is_full(tmp_path):
    def write(f):
        raise OSError(28, "No space left on device")
    with pytest.raises(SaveError, match=rf"cannot save {tmp_path / 'x.vcnn'}: No space left on device"):
        atomic_write(tmp_path / "x.vcnn", write)
    assert list(tmp_path.iterdir()) == []


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_save_removes_temporaries_left_by_killed_saves(tmp_path):
    target = tmp_path / "x.vcnn"
    stale = tmp_path / f".x.vcnn.{dead_pid()}.abc123.tmp"
    stale.write_bytes(b"\0" * 1000)
    live = tmp_path / f".x.vcnn.{os.getppid()}.def456.tmp"        # a save in progress elsewhere: kept
    live.write_bytes(b"\0")
    other = tmp_path / f".y.vcnn.{dead_pid()}.abc123.tmp"          # another file's: not ours to judge
    other.write_bytes(b"\0")
    atomic_write(target, lambda f: f.write(b"new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["x.vcnn", live.name, other.name])


def test_a_save_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "x.vcnn"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    atomic_write(target, lambda f: f.write(b"new"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    os.chmod(target, 0o640)
    atomic_write(target, lambda f: f.write(b"newer"))
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_new_file_gets_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write(tmp_path / "new.vcnn", lambda f: f.write(b"x"))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.vcnn").stat().st_mode) == 0o644


def start_training(tmp_path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "visualcnn", "train", *extra, "--save", str(tmp_path / "run.vcnn")],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


def wait_for(proc: subprocess.Popen, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if text in line:
            return
        if not line and proc.poll() is not None:
            raise AssertionError(f"exited {proc.returncode} before printing {text!r}: {proc.stderr.read()}")
    raise AssertionError(f"no {text!r} within {timeout} s")


@pytest.mark.slow
def test_sigterm_during_training_saves_like_ctrl_c(tmp_path):
    proc = start_training(tmp_path, "--epochs", "400")
    try:
        wait_for(proc, "epoch   1/400")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        stop(proc)
    assert proc.returncode == 130, err
    assert "interrupted (SIGTERM): stopping cleanly" in err and "Traceback" not in err
    assert load_session(tmp_path / "run.vcnn").iteration > 0


@pytest.mark.slow
def test_a_second_ctrl_c_stops_a_layer_that_never_returns(tmp_path):
    path = layer_file(tmp_path, """
        import time
        class Mine(Layer):
            type_name = "mine"
            def forward(self, x):
                print("sleeping", flush=True)
                time.sleep(3600)
                return x
            def backward(self, dout):
                return dout
        """)
    proc = start_training(tmp_path, "--spec", str(spec_file(tmp_path)), "--layer-file", str(path), "--epochs", "1")
    try:
        wait_for(proc, "sleeping")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        assert proc.poll() is None                      # the first asks for a stop at the next phase boundary
        proc.send_signal(signal.SIGINT)                 # the second stops now
        out, err = proc.communicate(timeout=30)
    finally:
        stop(proc)
    assert proc.returncode == 130, err
    assert "press Ctrl-C again" in err and "Traceback" not in err
    custom.load_layer_file(path)                        # (a session never loads a layer file by itself)
    assert load_session(tmp_path / "run.vcnn").iteration == 0         # saved: the state before the hung phase


@pytest.mark.parametrize("seed", [-1, 2**32, True, 1.5])
def test_the_core_refuses_a_seed_out_of_range(seed):
    """One range for every way in (command line, file, window): 0 … limits.MAX_SEED; 3e9 is inside it."""
    from visualcnn.errors import SessionError
    from visualcnn.presets import session_from_preset
    import visualcnn as vc
    with pytest.raises(SessionError, match=r"seed must be a whole number from 0 to 4294967295"):
        vc.Session.from_preset("digits-small").rebuild(seed=seed)
    assert session_from_preset("digits-small", seed=3_000_000_000).seed == 3_000_000_000
