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


class SnapshotError(VisualCNNError):
    """A snapshot that cannot be made: bad preset, size, phase count or output file."""


def _check_size(size: Any) -> tuple[int, int]:
    try:
        w, h = size
    except (TypeError, ValueError):
        raise SnapshotError(f"size must be (width, height) in pixels, got {size!r}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (w, h)):
        raise SnapshotError(f"size must be two whole numbers of pixels, got {size!r}")
    if not (MIN_SIZE[0] <= w <= MAX_SIZE[0] and MIN_SIZE[1] <= h <= MAX_SIZE[1]):
        raise SnapshotError(f"size must be between {MIN_SIZE[0]}×{MIN_SIZE[1]} and {MAX_SIZE[0]}×{MAX_SIZE[1]} "
                            f"pixels, got {w}×{h}")
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
        raise SnapshotError(f"phases must be a whole number >= 0, got {phases!r}")
    out = Path(out)
    if not out.parent.is_dir():
        raise SnapshotError(f"{out}: the folder {out.parent} does not exist")
    if session is None:
        try:
            session = load_session(preset, batch_size)
        except VisualCNNError as e:
            raise SnapshotError(str(e)) from None
    try:
        with offscreen_window(session, (w, h), presentation=presentation) as window:
            for _ in range(phases):
                if not window.controller.step():
                    break
            image = grab(window)
    except LayoutError as e:
        raise SnapshotError(str(e)) from None
    if not image.save(str(out), "PNG"):
        raise SnapshotError(f"{out}: could not write the PNG")
    return out.resolve()
