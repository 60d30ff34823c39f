"""Every command line the README shows, run as written (issue 12 §4).

The lines are read from README.md itself, so a command added there is tested here. Shell
conventions the README relies on are applied as a shell would (`~` is the home folder; the
`make run ARGS="..."` lines pass ARGS to `visualcnn`). Nothing here opens a window or
connects anywhere: the window's entry point is replaced by a recorder, `data download`
fetches from a server on 127.0.0.1, HOME and the user cache are temporary folders.
"""

from __future__ import annotations

import gzip
import os
import re
import shlex
import struct
from pathlib import Path

import numpy as np
import pytest

from tests.core.test_data_download import publish, served  # noqa: F401 - a fixture used below
from visualcnn.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_command_lines() -> list[str]:
    """The `visualcnn ...` lines of the README's sh blocks (comments dropped), and make's ARGS."""
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line.startswith("visualcnn"):
                lines.append(line)
    for args in re.findall(r'make run ARGS="([^"]*)"', README.read_text(encoding="utf-8")):
        lines.append(f"visualcnn {args}")
    return lines


def idx(array: np.ndarray) -> bytes:
    header = struct.pack(">I", (0x08 << 8) | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def fake_mnist(directory: Path) -> None:
    """Four small valid MNIST files (28×28), enough for lenet5 to train an epoch in well under a second."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    for prefix, n in (("train", 48), ("t10k", 16)):
        (directory / f"{prefix}-images-idx3-ubyte.gz").write_bytes(gzip.compress(idx(rng.integers(0, 256, (n, 28, 28)))))
        (directory / f"{prefix}-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx(np.arange(n) % 10)))


@pytest.fixture
def shell(tmp_path, monkeypatch, served):  # noqa: F811 - the fixture imported above
    """A working directory, HOME with ~/mnist, a temporary user cache, a recorded window, a local mirror."""
    home = tmp_path / "home"
    fake_mnist(home / "mnist")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    monkeypatch.setattr("visualcnn.data.paths.platformdirs.user_cache_dir", lambda app: str(tmp_path / "cache" / app))
    windows: list[list[str]] = []

    def fake_window(argv):
        windows.append(list(argv))
        return 0
    monkeypatch.setattr("ui.app.main", fake_window)
    root, base_url = served
    checksums = publish(root)
    import visualcnn.data.download as download
    real = download.download_mnist
    monkeypatch.setattr(download, "download_mnist",
                        lambda dest=None, progress=None, **kw: real(dest, base_url=base_url, checksums=checksums,
                                                                    progress=progress, timeout=5))
    return {"work": work, "windows": windows, "cache": tmp_path / "cache"}


def run(line: str) -> int:
    argv = [os.path.expanduser(w) if w.startswith("~") else w for w in shlex.split(line)[1:]]
    return main(argv)


def test_the_readme_shows_the_commands_it_promises():
    lines = readme_command_lines()
    for expected in ("visualcnn data download mnist", "visualcnn data list", "visualcnn lenet.vcnn",
                     "visualcnn train --resume lenet.vcnn", "visualcnn presets"):
        assert expected in lines


@pytest.mark.slow
def test_every_readme_command_line_runs_as_written(shell, capsys):
    """In README order, so `--save lenet.vcnn` makes the file that `--resume` and the window then open."""
    lines = readme_command_lines()
    for line in lines:
        status = run(line)
        out, err = capsys.readouterr()
        # the README: gradcheck exits 1 on failure, and a study-note mistake is there to fail it
        expected = 1 if line.startswith("visualcnn gradcheck") and "--mistake" in line else 0
        assert status == expected, f"{line!r} exited {status}: {err}"
        assert "Traceback" not in err and "invalid choice" not in err, line
        if line.startswith("visualcnn train --preset lenet5 --data"):
            assert (shell["work"] / "lenet.vcnn").is_file() and "saved to lenet.vcnn" in out
        if line == "visualcnn data list":
            assert "digits" in out and "mnist" in out
        if line == "visualcnn data download mnist":
            assert sorted(p.name for p in (shell["cache"] / "visualcnn" / "mnist").iterdir())[0].endswith(".gz")
        if line.startswith("visualcnn snapshot"):
            assert (shell["work"] / "slide.png").stat().st_size > 0
    # the window lines reached the window with what they name
    assert [] in shell["windows"]                                   # `visualcnn`
    assert ["lenet.vcnn"] in shell["windows"]                       # `visualcnn lenet.vcnn`


@pytest.mark.parametrize("argv,window_argv", [
    (["lenet.vcnn"], ["lenet.vcnn"]),
    (["gui", "lenet.vcnn"], ["lenet.vcnn"]),
    (["--preset", "lenet5"], ["--preset", "lenet5"]),
    (["gui", "--preset", "lenet5"], ["--preset", "lenet5"]),
    ([], []),
])
def test_window_command_lines_reach_the_window(shell, argv, window_argv):
    assert main(argv) == 0
    assert shell["windows"] == [window_argv]


def test_a_mistyped_command_is_still_an_invalid_choice(capsys):
    with pytest.raises(SystemExit) as e:
        main(["trian"])
    assert e.value.code == 2 and "invalid choice: 'trian'" in capsys.readouterr().err
