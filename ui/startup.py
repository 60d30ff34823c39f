"""What every entry point needs before a window: is there a display, the QApplication, the Session to show.

Shared by the window (ui/app.py), the snapshot (ui/snapshot.py) and the tests; imports no window code.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Sequence

from .textsize import BASE_FONT_PT

APP_NAME = "visualcnn"
ORGANIZATION = "visualcnn"
DEFAULT_PRESET = "digits-small"


def has_display() -> bool:
    """False on Linux/BSD when neither X11 nor Wayland is reachable and no Qt platform was chosen."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def make_app(argv: Sequence[str] | None = None):
    """The QApplication (created once): names for QSettings, high-DPI pass-through, a base font ≥ 11 pt."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QFont, QGuiApplication
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        return app
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
    app = QApplication([sys.argv[0] if sys.argv else APP_NAME, *(argv or [])])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationDisplayName(APP_NAME)       # window managers append it to every window title
    app.setStyle("Fusion")
    f = QFont(app.font())
    f.setPointSize(max(BASE_FONT_PT, f.pointSize()))      # MainWindow applies the user's saved size
    app.setFont(f)
    return app


def load_session(target: str | None = None, batch_size: int | None = None,
                 ask_layer_files: Any = None) -> Any:
    """A Session for a preset name, a preset/session-config JSON, a bare spec JSON (on the default
    preset's data and hyper-parameters, or random images of its shape if they do not fit), a saved
    session file (.vcnn) or an ONNX model (.onnx). ask_layer_files(needed) -> bool: whether to run the
    custom layer files a saved session names (without it, such a session is refused with a message naming them)."""
    from visualcnn import presets

    overrides = {} if batch_size is None else {"batch_size": batch_size}
    target = str(target or DEFAULT_PRESET)
    path = Path(target)
    if path.suffix.lower() == ".onnx":              # a model from elsewhere, with its weights
        from visualcnn.interop.sessions import open_model_session
        return open_model_session(path, batch_size=batch_size or 1)[0]
    if path.suffix not in ("", ".json") and path.exists():
        from visualcnn.io import LayerFilesNeeded, load_session as load_saved
        try:
            session = load_saved(path)
        except LayerFilesNeeded as needed:
            if ask_layer_files is None or not needed.paths or not ask_layer_files(needed):
                raise
            session = load_saved(path, layer_files=True)        # the user agreed to run them
        if batch_size is not None:
            session.set_batch_size(batch_size)
        return session
    if path.suffix == ".json":
        from visualcnn.errors import FileFormatError
        from visualcnn.jsontext import read_json_file
        data = read_json_file(path, FileFormatError)      # size, nesting depth, NaN/Infinity checked: one line
        if isinstance(data, dict) and "spec" not in data:
            cfg = {**presets.load_preset(DEFAULT_PRESET), "spec": data, "title": path.stem}
            from visualcnn.data import load_dataset
            from visualcnn.data.random_set import fit_or_random
            dataset = fit_or_random(data, load_dataset(cfg["dataset"]))
            return presets.build_session(cfg, dataset=dataset, **overrides)
    return presets.session_from_preset(target, **overrides)
