"""UI latency and run mode: F10 key press to every view updated (vs the bare session.step), and during a run
(as fast as possible) the redraws per second, the longest stall of the GUI event loop and the training
throughput with the GUI drawing versus a headless session.run in the same process.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui.py [--preset digits-small] [--steps 200]
                                                                       [--run-seconds 5]

Not a test. Each press is a real key event sent to the window (QTest.keyClick, which goes through the
action's shortcut); the time runs until processEvents() returns with the views redrawn. session.step is
wrapped to time the core's share of the same presses, so both figures come from one run.

The run: F5 in a window at the fastest speed, the event loop left to itself (app.exec-like), a 5 ms
QTimer noting the gaps between its ticks (goal: no gap over 50 ms); redraws counted from the worker's
signal. Throughput: iterations per second of the run (pauses excluded) over session.run(records=False)
on a fresh session of the same preset (goal ≥ 80 %).
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
    p.add_argument("--run-seconds", type=float, default=5.0, help="length of the measured run")
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtTest import QTest

    from ui.app import make_app, settle_heap
    from ui.main_window import MainWindow
    from visualcnn.session import Session

    app = make_app([])
    session = Session.from_preset(args.preset)
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(session, QSettings(os.path.join(tmp, "bench.ini"), QSettings.Format.IniFormat))
        w, h = (int(v) for v in args.size.split("x"))
        window.resize(w, h)
        window.show()
        settle_heap()                      # as ui.app.main does once the window is up
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
        session.step = raw_step
        run = measure_run(app, window, args.run_seconds)
        window.close()
        headless = measure_headless(args.preset, run["iterations"])

    def fmt(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1e3:7.2f} ms   max {max(xs) * 1e3:7.2f} ms"

    overhead = [u - c for u, c in zip(ui_times, core_times)]
    print(f"preset {args.preset}, {args.steps} F10 presses, window {args.size}, "
          f"platform {app.platformName()}")
    print(f"  key press → views updated : {fmt(ui_times)}")
    print(f"  session.step() alone      : {fmt(core_times)}")
    print(f"  UI overhead               : {fmt(overhead)}")
    gaps = run["gaps"]
    print(f"run as fast as possible, {run['seconds']:.1f} s, {run['iterations']:,} iterations")
    print(f"  redraws per second        : {run['redraws'] / run['seconds']:7.1f}   (goal ≤ 30)")
    print(f"  longest event-loop stall  : {max(gaps) * 1e3:7.1f} ms   (goal ≤ 50; 5 ms timer; "
          f"99th percentile {sorted(gaps)[int(0.99 * (len(gaps) - 1))] * 1e3:.1f} ms, "
          f"{sum(g > 0.05 for g in gaps)} gaps over 50 ms)")
    ratio = run["rate"] / headless
    print(f"  throughput with the GUI   : {run['rate']:9,.0f} it/s")
    print(f"  headless session.run      : {headless:9,.0f} it/s")
    print(f"  GUI / headless            : {ratio:7.1%}   (goal ≥ 80 %)")
    return 0


def measure_run(app, window, seconds: float) -> dict:
    """F5 at full speed; a 5 ms timer measures the event loop's gaps while the views redraw."""
    import math

    from PyQt6.QtCore import QEventLoop, QTimer
    from PyQt6.QtTest import QTest

    from PyQt6.QtCore import Qt

    c = window.controller
    window.hyper_panel.set_speed(math.inf)
    window.hyper_panel.run_unit.setCurrentText("iterations")
    window.hyper_panel.iterations.setValue(1_000_000)
    redraws = [0]
    c.worker.redraw.connect(lambda: redraws.__setitem__(0, redraws[0] + 1))
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    finished = []
    c.worker.finished.connect(finished.append)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), lambda: QTest.keyClick(window, Qt.Key.Key_F5, Qt.KeyboardModifier.ShiftModifier))
    c.worker.finished.connect(lambda _s: loop.quit())
    timer.start()
    QTest.keyClick(window, Qt.Key.Key_F5)
    loop.exec()
    timer.stop()
    summary = finished[0]
    gaps = [b - a for a, b in zip(ticks, ticks[1:])] or [0.0]
    return {"iterations": summary.iterations, "seconds": summary.seconds, "rate": summary.iterations / summary.seconds,
            "redraws": redraws[0], "gaps": gaps}


def measure_headless(preset: str, iterations: int) -> float:
    from visualcnn.session import Session
    s = Session.from_preset(preset)
    n = max(200, iterations)
    t = time.perf_counter()
    s.run(n, records=False)
    return n / (time.perf_counter() - t)


if __name__ == "__main__":
    sys.exit(main())
