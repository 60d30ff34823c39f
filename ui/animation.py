"""Animations for slides: the forward and backward waves of one iteration, one frame per phase.

    frames = render_frames(session, phases="all", size=(1280, 800))     # list of QImage
    write_animation(frames, "wave.gif", fps=2)                           # .gif / .png (APNG) / .mp4

Frames come from the window drawn offscreen (ui/render.py, the painter snapshots use), in presentation
mode's styling, on a *copy* of the session: the live session and its history are never stepped.
GIF and APNG are written with Pillow; MP4 with imageio and the ffmpeg binary its `imageio-ffmpeg` wheel
ships (the optional extra `visualcnn[video]`). Files are written atomically: a failed export leaves none.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

FORMATS = {".gif": "GIF", ".png": "APNG", ".apng": "APNG", ".mp4": "MP4"}
PHASE_CHOICES = ("all", "forward", "backward")
MAX_INBETWEENS = 12
MAX_FRAMES = 2000


class AnimationError(VisualCNNError):
    """An animation that cannot be made: bad phases, size, output file or a missing writer."""


def copy_session(session: Any) -> Any:
    """A new Session at the start of `session`'s current iteration: same spec, weights, velocities,
    hyper-parameters, mistakes, batch (or pinned input) — stepping it leaves `session` untouched."""
    from visualcnn import mistakes
    from visualcnn.presets import build_session

    with session.lock:
        names = mistakes.active(session.network, session.optimizer)
        copy = build_session(session.config(), dataset=session.dataset, mistakes=names)
        state = session.checkpoint_state()
        copy.restore_state(state["params"], state["velocity"], session.iteration, state["sampler"])
        if session.pinned is not None:
            copy.pin_input(*session.pinned)
    return copy


def phase_count(phases: str | int, session: Any) -> int:
    """How many phases to animate from the start of the iteration: all, forward (+ loss), backward
    (everything, ending with the update; the forward frames are skipped), or a number."""
    n, L = session.n_phases, len(session.network.layers)
    if phases in ("all", "backward"):
        return n
    if phases == "forward":
        return L + 1
    if isinstance(phases, int) and not isinstance(phases, bool) and 1 <= phases <= n:
        return phases
    raise AnimationError(_("phases must be all, forward, backward or a number 1…{n} (one iteration of this "
                           "{layers}-layer stack), got {phases!r}").format(n=n, layers=L, phases=phases))


VIEWS = ("pipeline", "window")


def pipeline_only(window: Any) -> None:
    """Hide the docks, toolbars, menu and status bar: the pipeline fills the frame (slides)."""
    from PyQt6.QtWidgets import QApplication, QToolBar
    for dock in window.docks.values():
        dock.hide()
    for bar in window.findChildren(QToolBar):
        bar.hide()
    window.menuBar().hide()
    window.statusBar().hide()
    QApplication.processEvents()


def render_frames(session: Any, phases: str | int = "all", size: tuple[int, int] = (1280, 800),
                  presentation: bool = True, inbetweens: int = 0, view: str = "pipeline") -> list[Any]:
    """Frames (RGB arrays) of the window after each phase of the current iteration (on a copy of `session`),
    with `inbetweens` cross-faded frames between two phases. view: "pipeline" (the wave alone, filling the
    frame) or "window" (every panel, as on screen)."""
    from .render import LayoutError, grab, offscreen_window
    from .snapshot import SnapshotError, _check_size

    try:
        w, h = _check_size(size)
    except SnapshotError as e:
        raise AnimationError(str(e)) from None
    if not isinstance(inbetweens, int) or isinstance(inbetweens, bool) or not 0 <= inbetweens <= MAX_INBETWEENS:
        raise AnimationError(_("in-between frames must be a whole number 0…{max}, got {value!r}").format(
            max=MAX_INBETWEENS, value=inbetweens))
    if view not in VIEWS:
        raise AnimationError(_("view must be one of {views}, got {view!r}").format(views=", ".join(VIEWS), view=view))
    copy = copy_session(session)
    count = phase_count(phases, copy)
    skip = len(copy.network.layers) + 1 if phases == "backward" else 0
    shots = []
    from .language import language_kept
    try:
        with language_kept(), offscreen_window(copy, (w, h), presentation=presentation) as window:
            if view == "pipeline":
                pipeline_only(window)
            for k in range(count):
                if not window.controller.step():
                    raise AnimationError(_("phase {k} could not run: {why}").format(
                        k=k + 1, why=window.controller.alert or _("refused")))
                if k >= skip:
                    shots.append(grab(window))
    except LayoutError as e:
        raise AnimationError(str(e)) from None
    return with_inbetweens(shots, inbetweens)


def to_array(image: Any) -> np.ndarray:
    """A QImage as an (H, W, 3) uint8 RGB array."""
    from PyQt6.QtGui import QImage
    rgb = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = rgb.width(), rgb.height(), rgb.bytesPerLine()
    buf = np.frombuffer(rgb.constBits().asstring(stride * h), dtype=np.uint8).reshape(h, stride)
    return buf[:, :w * 3].reshape(h, w, 3).copy()


def with_inbetweens(shots: Sequence[Any], k: int) -> list[np.ndarray]:
    """The frames as RGB arrays, with k cross-faded frames between each two."""
    arrays = [to_array(s) for s in shots]
    if k == 0 or len(arrays) < 2:
        return arrays
    out = []
    for a, b in zip(arrays, arrays[1:]):
        out.append(a)
        for j in range(1, k + 1):
            t = j / (k + 1)
            out.append(np.round(a * (1 - t) + b * t).astype(np.uint8))
    out.append(arrays[-1])
    return out


def check_output(out: str | os.PathLike) -> tuple[Path, str]:
    """(path, format) for an output file name; AnimationError for a folder that is missing or a
    file type we cannot write."""
    path = Path(out)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AnimationError(_("{path}: choose a .gif, .png (animated PNG) or .mp4 file name").format(path=path))
    if not path.parent.is_dir():
        raise AnimationError(_("{path}: the folder {folder} does not exist").format(path=path, folder=path.parent))
    if fmt == "MP4":
        try:
            import imageio_ffmpeg  # noqa: F401
            import imageio.v2  # noqa: F401
        except ImportError:
            raise AnimationError(_("{path}: MP4 needs imageio and imageio-ffmpeg: pip install 'visualcnn[video]' "
                                   "(or write a .gif or .png)").format(path=path)) from None
    return path, fmt


def write_animation(frames: Sequence[np.ndarray], out: str | os.PathLike, fps: float = 2.0,
                    hold_last: float = 2.0) -> Path:
    """Write RGB frames to `out` (.gif, .png/.apng, .mp4) at `fps`, the last frame held `hold_last` s longer;
    atomically (a temporary file renamed into place). Returns the path."""
    path, fmt = check_output(out)
    if not frames:
        raise AnimationError(_("no frames to write"))
    if len(frames) > MAX_FRAMES:
        raise AnimationError(_("{n} frames is more than {max}; use fewer in-between frames").format(n=len(frames),
                                                                                                  max=MAX_FRAMES))
    if not 0.1 <= fps <= 60:
        raise AnimationError(_("fps must be between 0.1 and 60, got {fps}").format(fps=fps))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if fmt == "MP4":
            _write_mp4(frames, tmp, fps, hold_last)
        else:
            _write_pillow(frames, tmp, fmt, fps, hold_last)
        os.replace(tmp, path)
    except OSError as e:
        raise AnimationError(_("{path}: could not write the animation ({error})").format(path=path,
                                                                                        error=e.strerror or e)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path.resolve()


def _write_pillow(frames: Sequence[np.ndarray], tmp: str, fmt: str, fps: float, hold_last: float) -> None:
    from PIL import Image
    step = int(round(1000 / fps))
    durations = [step] * len(frames)
    durations[-1] += int(round(1000 * hold_last))
    images = [Image.fromarray(f) for f in frames]
    if fmt == "GIF":
        # one palette for all frames (from the first), so colours do not flicker between phases
        palette = images[0].quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        images = [im.quantize(palette=palette, dither=Image.Dither.NONE) for im in images]
    images[0].save(tmp, format="GIF" if fmt == "GIF" else "PNG", save_all=True, append_images=images[1:],
                   duration=durations, loop=0, optimize=False)


def _write_mp4(frames: Sequence[np.ndarray], tmp: str, fps: float, hold_last: float) -> None:
    import imageio.v2 as imageio
    h, w = frames[0].shape[:2]
    # H.264 in yuv420p needs even sizes; pad by one pixel rather than rescale
    pad = ((0, h % 2), (0, w % 2), (0, 0))
    extra = int(round(hold_last * fps))
    with imageio.get_writer(tmp, format="FFMPEG", mode="I", fps=fps, codec="libx264", macro_block_size=1,
                            pixelformat="yuv420p", output_params=["-movflags", "+faststart"],
                            ffmpeg_log_level="error") as writer:
        for f in [*frames, *[frames[-1]] * extra]:
            writer.append_data(np.pad(f, pad, mode="edge") if any(p[1] for p in pad) else f)


def export_animation(session: Any, out: str | os.PathLike, phases: str | int = "all",
                     size: tuple[int, int] = (1280, 800), presentation: bool = True, inbetweens: int = 0,
                     fps: float = 2.0, view: str = "pipeline") -> tuple[Path, int]:
    """Render and write an animation of `session`'s current iteration; (path, frames written)."""
    check_output(out)                       # before minutes of rendering, not after
    frames = render_frames(session, phases, size, presentation, inbetweens, view)
    return write_animation(frames, out, fps=fps), len(frames)


__all__ = ["AnimationError", "FORMATS", "PHASE_CHOICES", "check_output", "copy_session", "export_animation",
           "phase_count", "pipeline_only", "render_frames", "to_array", "with_inbetweens", "write_animation"]
