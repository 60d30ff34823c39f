"""The GUI's entry point: `main(argv)` opens the debugger window on a preset or a spec file.

    python -m ui [digits-small | lenet5 | path/to/spec.json] [--batch-size N] [--snapshot out.png]

On a machine without a display it says so in one line and writes a snapshot PNG instead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Sequence

APP_NAME = "visualcnn"
ORGANIZATION = "visualcnn"
DEFAULT_PRESET = "digits-small"
HEADLESS_SNAPSHOT = "visualcnn-snapshot.png"
BASE_FONT_PT = 11


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
    app.setApplicationDisplayName("visualcnn")
    app.setStyle("Fusion")
    f = QFont(app.font())
    f.setPointSize(max(BASE_FONT_PT, f.pointSize()))      # MainWindow applies the user's saved size
    app.setFont(f)
    return app


def load_session(target: str | None = None, batch_size: int | None = None) -> Any:
    """A Session for a preset name, a preset/session-config JSON, a bare spec JSON (on the default
    preset's data and hyper-parameters) or a saved session file (.vcnn)."""
    from visualcnn import presets

    overrides = {} if batch_size is None else {"batch_size": batch_size}
    target = str(target or DEFAULT_PRESET)
    path = Path(target)
    if path.suffix not in ("", ".json") and path.exists():
        from visualcnn.io import load_session as load_saved
        session = load_saved(path)
        if batch_size is not None:
            session.set_batch_size(batch_size)
        return session
    if path.suffix == ".json":
        from visualcnn.errors import FileFormatError
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise FileFormatError(f"{path}: cannot read ({e.strerror})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise FileFormatError(f"{path}: not valid JSON ({e})") from None
        if isinstance(data, dict) and "spec" not in data:
            cfg = {**presets.load_preset(DEFAULT_PRESET), "spec": data, "title": path.stem}
            return presets.build_session(cfg, **overrides)
    return presets.session_from_preset(target, **overrides)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="visualcnn gui", description="Step through backpropagation in a small CNN.")
    p.add_argument("target", nargs="?", default=None,
                   help=f"a preset name (default {DEFAULT_PRESET}), a spec / preset JSON file or a saved session")
    p.add_argument("--preset", default=None, help="a preset name (when no file is given)")
    p.add_argument("--batch-size", type=int, default=None, help="images per iteration (default: the preset's)")
    p.add_argument("--snapshot", metavar="PNG", default=None,
                   help="write a screenshot of the window to PNG and exit (no display needed)")
    p.add_argument("--phases", type=int, default=0, help="with --snapshot: phases to step first")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; returns the exit code (2 for a bad preset, spec or argument)."""
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    args.target = args.target or args.preset
    from visualcnn.errors import VisualCNNError

    if args.snapshot is not None or not has_display():
        args.target = args.target or DEFAULT_PRESET
        from .snapshot import SnapshotError, render_snapshot
        out = args.snapshot or HEADLESS_SNAPSHOT
        if args.snapshot is None:
            print(f"visualcnn: no display (DISPLAY/WAYLAND_DISPLAY unset), so no window: "
                  f"writing a snapshot to {out} instead")
        try:
            path = render_snapshot(args.target, phases=args.phases, out=out, batch_size=args.batch_size)
        except (SnapshotError, VisualCNNError) as e:
            print(f"visualcnn: {e}", file=sys.stderr)
            return 2
        if args.snapshot is not None:
            print(f"wrote {path}")
        return 0

    app = make_app([])
    if args.target is None:                     # the preset the user last worked on
        from PyQt6.QtCore import QSettings
        last = QSettings().value("session/last_preset")
        args.target = last if isinstance(last, str) and last else DEFAULT_PRESET
    try:
        session = load_session(args.target, args.batch_size)
    except VisualCNNError as e:
        print(f"visualcnn: {e}", file=sys.stderr)
        return 2
    from .main_window import MainWindow
    window = MainWindow(session)
    window.show()
    settle_heap()
    return app.exec()


def settle_heap() -> None:
    """Move everything built so far (Qt wrappers, pyqtgraph, NumPy: ~100k objects) out of the cyclic
    garbage collector's scans. A full collection during a run otherwise stalls the window for tens of
    milliseconds; these objects live as long as the app anyway."""
    import gc

    gc.collect()
    gc.freeze()
