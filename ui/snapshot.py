"""render_snapshot: the window, built offscreen, stepped N phases and saved as a PNG.

For the README screenshot and teachers' slides; also what `main()` does without a display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MIN_SIZE = (800, 500)
MAX_SIZE = (7680, 4320)


from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _


class SnapshotError(VisualCNNError):
    """A snapshot that cannot be made: bad preset, size, phase count or output file."""


def _check_size(size: Any) -> tuple[int, int]:
    try:
        w, h = size
    except (TypeError, ValueError):
        raise SnapshotError(_("size must be (width, height) in pixels, got {size!r}").format(size=size)) from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (w, h)):
        raise SnapshotError(_("size must be two whole numbers of pixels, got {size!r}").format(size=size))
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise SnapshotError(_("size must be between {min_w}×{min_h} and {max_w}×{max_h} pixels, got "
                              "{w}×{h}").format(min_w=MIN_SIZE[0], min_h=MIN_SIZE[1], max_w=MAX_SIZE[0],
                                                max_h=MAX_SIZE[1], w=w, h=h))
    return w, h


def render_snapshot(preset: str = "digits-small", phases: int = 0, size: tuple[int, int] = (1600, 1000),
                    out: str | os.PathLike = "snapshot.png", batch_size: int | None = None,
                    session: Any = None, presentation: bool = False) -> Path:
    """Build the window for `preset` (a name or JSON file; or a ready `session`), step `phases` phases,
    save a `size` PNG to `out` (in presentation mode's text size if asked); returns its path.
    Raises SnapshotError for a bad preset, size or file."""
    from .render import LayoutError, grab, offscreen_window
    from .startup import load_session

    w, h = _check_size(size)
    if not isinstance(phases, int) or isinstance(phases, bool) or phases < 0:
        raise SnapshotError(_("phases must be a whole number >= 0, got {phases!r}").format(phases=phases))
    out = Path(out)
    if not out.parent.is_dir():
        raise SnapshotError(_("{out}: the folder {folder} does not exist").format(out=out, folder=out.parent))
    if session is None:
        try:
            session = load_session(preset, batch_size)
        except VisualCNNError as e:
            raise SnapshotError(str(e)) from None
    try:
        with offscreen_window(session, (w, h), presentation=presentation) as window:
            for _k in range(phases):
                if not window.controller.step():
                    break
            image = grab(window)
    except LayoutError as e:
        raise SnapshotError(str(e)) from None
    if not image.save(str(out), "PNG"):
        raise SnapshotError(_("{out}: could not write the PNG").format(out=out))
    return out.resolve()
