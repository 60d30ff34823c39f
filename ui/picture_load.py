"""Opening a big picture as the input without freezing the window (issue 12 §11).

The Draw panel first reads the picture's size from its header (`visualcnn.data.picture.check_picture`: a
file past limits.MAX_IMAGE_FILE_BYTES or a picture past limits.MAX_IMAGE_PIXELS is refused before anything
decodes it). A picture up to SYNC_PIXELS is decoded on the GUI thread as before (tens of milliseconds); a
bigger one by a `PictureLoad` on a thread of its own, which reports its stages (`progress`) and ends with
`loaded` or `failed`:

    load = PictureLoad(path, dataset, width, height)
    load.progress.connect(lambda percent, text: ...)      # "decoding 6000×4000 px…" 10 %, …
    load.loaded.connect(lambda picture: ...)               # a LoadedPicture
    load.failed.connect(lambda message: ...)
    load.start()

The thread decodes straight to at most DISPLAY_SIDE pixels on the long side (QImageReader.setScaledSize:
JPEG decoders skip the detail they would throw away), so neither the decoded picture nor its grey copy
costs more than a few megabytes; the network's input (at most a few dozen pixels a side) is resampled from
that. QImage, QImageReader and QPainter on a QImage are safe off the GUI thread; no widget is touched there.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6 import QtCore, QtGui

from visualcnn.errors import DataError, VisualCNNError
from visualcnn.i18n import _

#: pictures up to this many pixels are decoded on the GUI thread (≈ 20 ms); bigger ones on a thread
SYNC_PIXELS = 1024 * 1024
#: a big picture is decoded to at most this many pixels on its long side
DISPLAY_SIDE = 1024


class UnreadablePicture(DataError):
    """Qt cannot decode the file (its message names the file and says what would be valid)."""


@dataclass(frozen=True)
class LoadedPicture:
    path: Path
    width: int                  # the picture's own size (its header's)
    height: int
    grey: np.ndarray            # (h, w) in [0, 1], at most DISPLAY_SIDE a side
    converted: np.ndarray       # the network's input (C, H, W), by the data set's rules


def decode_grey(path: Path, max_side: int | None = None) -> np.ndarray:
    """The picture at `path` as (h, w) grey in [0, 1], decoded to at most `max_side` pixels a side if given;
    a DataError-like VisualCNNError naming the file if Qt cannot decode it."""
    from ui.views.drawing_pad import qimage_to_grey

    reader = QtGui.QImageReader(str(path))
    if max_side is not None:
        size = reader.size()
        if size.isValid() and max(size.width(), size.height()) > max_side:
            reader.setScaledSize(size.scaled(max_side, max_side, QtCore.Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        why = reader.errorString() if path.exists() else _("no such file")
        raise UnreadablePicture(_("Cannot open {name}: {why}. Use a PNG or JPEG picture.").format(name=path.name,
                                                                                                   why=why))
    return qimage_to_grey(image)


class PictureLoad(QtCore.QObject):
    """Decode and convert one picture on a daemon thread; the signals arrive on the GUI thread (queued)."""

    progress = QtCore.pyqtSignal(int, str)       # percent, what is being done
    loaded = QtCore.pyqtSignal(object)           # LoadedPicture
    failed = QtCore.pyqtSignal(str)              # the message naming the file

    def __init__(self, path: str | Path, dataset: Any, width: int, height: int,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.path, self.dataset, self.width, self.height = Path(path), dataset, int(width), int(height)
        self.cancelled = False
        self._thread = threading.Thread(target=self._run, name="visualcnn-picture", daemon=True)

    def start(self) -> None:
        self.progress.emit(0, _("opening {name} ({width}×{height} px)…").format(name=self.path.name, width=self.width,
                                                                                  height=self.height))
        self._thread.start()

    def cancel(self) -> None:
        """Its result is no longer wanted (another picture was opened, the pad cleared)."""
        self.cancelled = True

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self.progress.emit(10, _("decoding {name} ({width}×{height} px)…").format(
                name=self.path.name, width=self.width, height=self.height))
            grey = decode_grey(self.path, DISPLAY_SIDE)
            if self.cancelled:
                return
            self.progress.emit(70, _("resampling {name} to the network's input…").format(name=self.path.name))
            converted = self.dataset.to_input(grey)
        except VisualCNNError as e:
            self.failed.emit(str(e) if isinstance(e, UnreadablePicture) else
                             _("Cannot use {name}: {error}").format(name=self.path.name, error=e))
            return
        except (MemoryError, OSError, ValueError) as e:
            self.failed.emit(_("Cannot open {name}: {error}").format(name=self.path.name, error=f"{type(e).__name__}: {e}"))
            return
        if not self.cancelled:
            self.progress.emit(100, _("{name} loaded").format(name=self.path.name))
            self.loaded.emit(LoadedPicture(self.path, self.width, self.height, grey, converted))


__all__ = ["DISPLAY_SIDE", "LoadedPicture", "PictureLoad", "SYNC_PIXELS", "decode_grey"]
