"""Installed like any Python app: a wheel built from this checkout, installed into a fresh virtual environment
outside it, trains and draws with its own bundled data (presets, digits) — no checkout needed.

Offline: the wheel is built without build isolation (setuptools and wheel come with the test extra) and
installed with --no-deps --no-index; the new environment borrows this one's site-packages (numpy, PyQt6,
pyqtgraph) through a path line in a .pth file, which, unlike a site directory, runs none of that folder's
own .pth files, so this checkout's editable install stays invisible to it.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = shutil.ignore_patterns(".git", ".venv", "build", "dist", "docs", "*.egg-info", "__pycache__", "*.pyc",
                              ".pytest_cache", ".hypothesis", "benchmarks")

pytestmark = pytest.mark.slow


def run(cmd, cwd, env=None, timeout=240):
    done = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    shutil.copytree(ROOT, src, ignore=SKIP)          # build in a copy: no build/ or egg-info in the checkout
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "-w", tmp / "dist", src], cwd=tmp)
    wheel = next((tmp / "dist").glob("visualcnn-*.whl"))
    venv = tmp / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=tmp)
    py = venv / "bin" / "python"
    purelib = Path(run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp).strip())
    (purelib / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel], cwd=tmp)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VISUALCNN_ASSETS")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return tmp, venv, env


def test_the_wheel_carries_its_data(installed):
    tmp, venv, env = installed
    where = run([venv / "bin" / "python", "-c",
                 "import visualcnn; from visualcnn.data.paths import assets_dir; "
                 "print(visualcnn.__file__); print(assets_dir())"], cwd=tmp, env=env).split()
    assert all(Path(p).is_relative_to(venv) for p in where), where
    assert (Path(where[1]) / "presets" / "digits-small.json").is_file()


def test_installed_train_and_snapshot_run_outside_the_checkout(installed):
    tmp, venv, env = installed
    out = run([venv / "bin" / "visualcnn", "train", "--preset", "digits-small", "--epochs", "1"], cwd=tmp, env=env)
    assert "epoch   1/1" in out and "test loss" in out
    run([venv / "bin" / "visualcnn", "snapshot", "--out", tmp / "shot.png"], cwd=tmp, env=env)
    assert (tmp / "shot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
