"""Animations for slides: one frame per phase from the offscreen window, written as GIF, APNG or MP4."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtCore import QSettings

from ui import animation
from ui.animation import AnimationError, export_animation, render_frames, write_animation
from visualcnn.cli import main as cli_main
from visualcnn.session import Session

SIZE = (1280, 800)         # the smallest projector size the window is laid out for


@pytest.fixture(scope="module")
def frames(qapp):
    return render_frames(Session.from_preset("seed-note"), "all", SIZE)


def test_one_frame_per_phase_of_the_requested_size_each_different(frames):
    s = Session.from_preset("seed-note")
    assert len(frames) == s.n_phases == 12
    for f in frames:
        assert f.shape == (SIZE[1], SIZE[0], 3) and f.dtype == np.uint8
    # every phase changes what the pipeline shows (the wave, the "just ran" column)
    for k, (a, b) in enumerate(zip(frames, frames[1:])):
        changed = np.any(a != b, axis=2).mean()
        assert changed > 0.001, f"frames {k} and {k + 1} are the same"


def test_the_live_session_is_not_stepped(qapp):
    s = Session.from_preset("seed-note")
    s.step()
    before = (s.iteration, s.phase_index, len(s.records), [p["W"].copy() for p in s.network.get_params() if "W" in p])
    render_frames(s, "forward", SIZE)
    assert (s.iteration, s.phase_index, len(s.records)) == before[:3]
    for w, w0 in zip([p["W"] for p in s.network.get_params() if "W" in p], before[3]):
        np.testing.assert_array_equal(w, w0)


def test_forward_backward_and_numbers_choose_the_phases(qapp):
    s = Session.from_preset("seed-note")
    L = len(s.network.layers)
    assert animation.phase_count("forward", s) == L + 1
    assert len(render_frames(s, "backward", SIZE)) == L + 1          # backward through L layers, then the update
    assert animation.phase_count(3, s) == 3
    for bad in (0, 13, "sideways", True):
        with pytest.raises(AnimationError, match="phases must be all, forward, backward or a number 1…12"):
            animation.phase_count(bad, s)


def test_inbetween_frames_cross_fade(frames):
    arrays = animation.with_inbetweens([], 0)
    assert arrays == []
    shots = [f for f in frames[:3]]
    from PyQt6.QtGui import QImage
    images = [QImage(f.data, f.shape[1], f.shape[0], 3 * f.shape[1], QImage.Format.Format_RGB888).copy() for f in shots]
    out = animation.with_inbetweens(images, 2)
    assert len(out) == 3 + 2 * 2
    np.testing.assert_array_equal(out[0], shots[0])
    np.testing.assert_array_equal(out[3], shots[1])
    lo, hi = np.minimum(shots[0], shots[1]), np.maximum(shots[0], shots[1])
    assert np.all(out[1] >= lo) and np.all(out[1] <= hi) and np.any(out[1] != shots[0])


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_gif_and_apng_hold_every_frame(frames, tmp_path, suffix):
    path = write_animation(frames, tmp_path / f"wave{suffix}", fps=4)
    with Image.open(path) as im:
        assert im.n_frames == len(frames) and im.size == SIZE and im.is_animated
        im.seek(5)
        got = np.asarray(im.convert("RGB"))
    diff = np.abs(got.astype(int) - frames[5].astype(int))
    assert diff.mean() < 3                        # the same picture (a GIF's palette rounds colours)
    assert os.listdir(tmp_path) == [path.name]    # no temporary file left behind


def test_mp4_with_imageio(frames, tmp_path):
    imageio = pytest.importorskip("imageio.v2", reason="MP4 needs the video extra (imageio, imageio-ffmpeg)")
    path = write_animation(frames, tmp_path / "wave.mp4", fps=2, hold_last=1.0)
    reader = imageio.get_reader(str(path))
    count = reader.count_frames()
    first = reader.get_data(0)
    reader.close()
    assert count == len(frames) + 2 and first.shape == (SIZE[1], SIZE[0], 3)


def test_bad_outputs_are_refused_before_rendering_and_leave_nothing(frames, tmp_path, monkeypatch):
    with pytest.raises(AnimationError, match=r"wave\.bmp: choose a \.gif, \.png"):
        export_animation(Session.from_preset("seed-note"), tmp_path / "wave.bmp")
    with pytest.raises(AnimationError, match="the folder .*missing does not exist"):
        write_animation(frames, tmp_path / "missing" / "wave.gif")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(animation, "_write_pillow", broken)
    with pytest.raises(AnimationError, match="could not write the animation \\(No space left on device\\)"):
        write_animation(frames, tmp_path / "wave.gif")
    assert os.listdir(tmp_path) == []


def test_cli_animate_writes_the_file_and_says_so(qapp, tmp_path, capsys):
    out = tmp_path / "wave.gif"
    assert cli_main(["animate", "--preset", "seed-note", "--phases", "forward", "--size", "1280x800",
                     "--out", str(out)]) == 0
    assert f"wrote {out} (6 frames, 1280×800)" in capsys.readouterr().out
    with Image.open(out) as im:
        assert im.n_frames == 6
    assert cli_main(["animate", "--preset", "seed-note", "--phases", "40", "--out", str(tmp_path / "x.gif")]) == 2
    assert "phases must be" in capsys.readouterr().err and not (tmp_path / "x.gif").exists()


def test_file_export_animation_from_the_window(qtbot, tmp_path, monkeypatch):
    from PyQt6 import QtWidgets

    from ui import animation_dialog
    from ui.main_window import MainWindow
    w = MainWindow(Session.from_preset("seed-note"), QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    act = w.actions["export_animation"]
    assert act in w.export_menu.actions()
    out = tmp_path / "slide.png"
    monkeypatch.setattr(animation_dialog.AnimationDialog, "exec",
                        lambda self: (self.size.setCurrentIndex(0), self.phases.setCurrentIndex(1),
                                      QtWidgets.QDialog.DialogCode.Accepted)[-1])
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    act.trigger()
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.size == (1280, 800)
    assert w.controller.session.phase_index == 0        # the window's own session did not move
