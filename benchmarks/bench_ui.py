"""UI latency: from an F10 key press to every visible view updated, versus the bare session.step().

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui.py [--preset digits-small] [--steps 200]

Not a test. Each press is a real key event sent to the window (QTest.keyClick, which goes through the
action's shortcut); the time runs until processEvents() returns with the views redrawn. session.step is
wrapped to time the core's share of the same presses, so both figures come from one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="digits-small")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--size", default="1600x1000", help="window size WxH")
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtTest import QTest

    from ui.app import make_app
    from ui.main_window import MainWindow
    from visualcnn.session import Session

    app = make_app([])
    session = Session.from_preset(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(session, QSettings(os.path.join(tmp, "bench.ini"), QSettings.Format.IniFormat))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        for _ in range(3):
            app.processEvents()

        core_times: list[float] = []
        raw_step = session.step

        def timed_step():
            t = time.perf_counter()
            try:
                return raw_step()
            finally:
                core_times.append(time.perf_counter() - t)
        session.step = timed_step

        for _ in range(session.n_phases):          # warm up: every view has drawn every phase once
            QTest.keyClick(window, Qt.Key.Key_F10)
            app.processEvents()
        core_times.clear()

        ui_times = []
        for _ in range(args.steps):
            t = time.perf_counter()
            QTest.keyClick(window, Qt.Key.Key_F10)
            app.processEvents()
            ui_times.append(time.perf_counter() - t)
        assert len(core_times) == args.steps, "a key press did not step the session"
        window.close()

    def fmt(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1e3:7.2f} ms   max {max(xs) * 1e3:7.2f} ms"

    overhead = [u - c for u, c in zip(ui_times, core_times)]
    print(f"preset {args.preset}, {args.steps} F10 presses, window {args.size}, "
          f"platform {app.platformName()}")
    print(f"  key press → views updated : {fmt(ui_times)}")
    print(f"  session.step() alone      : {fmt(core_times)}")
    print(f"  UI overhead               : {fmt(overhead)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
