"""The GUI's entry point: `main(argv)` opens the debugger window on a preset or a spec file.

    python -m ui [digits-small | lenet5 | path/to/spec.json] [--batch-size N] [--snapshot out.png]

On a machine without a display it says so in one line and writes a snapshot PNG instead.
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from visualcnn.i18n import _, set_language
from visualcnn.layers.workspace import keep_freed_memory

from .startup import DEFAULT_PRESET, has_display, load_session, make_app

HEADLESS_SNAPSHOT = "visualcnn-snapshot.png"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="visualcnn gui", description=_("Step through backpropagation in a small CNN."))
    p.add_argument("target", nargs="?", default=None,
                   help=_("a preset name (default {preset}), a spec / preset JSON file or a saved session").format(
                       preset=DEFAULT_PRESET))
    p.add_argument("--preset", default=None, help=_("a preset name (when no file is given)"))
    p.add_argument("--batch-size", type=int, default=None, help=_("images per iteration (default: the preset's)"))
    p.add_argument("--snapshot", metavar="PNG", default=None,
                   help=_("write a screenshot of the window to PNG and exit (no display needed)"))
    p.add_argument("--phases", type=int, default=0, help=_("with --snapshot: phases to step first"))
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Open the window; returns the exit code (2 for a bad preset, spec or argument)."""
    set_language()              # the system's, for what is printed; the window applies the user's saved choice
    keep_freed_memory()         # the window's steps reuse freed arrays (visualcnn/layers/workspace.py)
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    args.target = args.target or args.preset
    from visualcnn.errors import VisualCNNError

    if args.snapshot is not None or not has_display():
        args.target = args.target or DEFAULT_PRESET
        from .snapshot import SnapshotError, render_snapshot
        out = args.snapshot or HEADLESS_SNAPSHOT
        if args.snapshot is None:
            print("visualcnn: " + _("no display (DISPLAY/WAYLAND_DISPLAY unset), so no window: writing a snapshot "
                                    "to {out} instead").format(out=out))
        try:
            path = render_snapshot(args.target, phases=args.phases, out=out, batch_size=args.batch_size)
        except (SnapshotError, VisualCNNError) as e:
            print(f"visualcnn: {e}", file=sys.stderr)
            return 2
        if args.snapshot is not None:
            print(_("wrote {path}").format(path=path))
        return 0

    app = make_app([])
    # F10 steps on the GUI thread: with BLAS spinning two threads on a shared 2-core machine one step of a
    # 64×64 net took up to 4.5 s (p95 1.07 s, against 0.1 s pinned); run mode's worker is pinned likewise
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    if args.target is None:                     # the preset the user last worked on
        from PyQt6.QtCore import QSettings
        last = QSettings().value("session/last_preset")
        args.target = last if isinstance(last, str) and last else DEFAULT_PRESET
    try:
        from .files import ask_load_layer_files
        session = load_session(args.target, args.batch_size, lambda needed: ask_load_layer_files(None, needed))
    except VisualCNNError as e:
        print(f"visualcnn: {e}", file=sys.stderr)
        from . import files as files_mod         # started from a desktop, stderr goes nowhere: say it in a dialog
        files_mod.show_error(None, _("visualcnn could not start"),
                             _("Could not open {target}:\n{error}").format(target=args.target, error=e))
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


__all__ = ["DEFAULT_PRESET", "HEADLESS_SNAPSHOT", "has_display", "load_session", "main", "make_app", "parse_args",
           "settle_heap"]
