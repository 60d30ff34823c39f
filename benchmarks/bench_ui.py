"""UI latency and run mode: F10 key press to every view updated (vs the bare session.step), and during a run
(as fast as possible) the redraws per second, the longest stall of the GUI event loop and the training
throughput with the GUI drawing versus a headless session.run in the same process.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_ui.py [--preset digits-small] [--steps 200]
                                                                       [--run-seconds 5] [--profile]
    ... bench_ui.py --preset tinyvgg,net64      the suite's 64×64 networks (net64: conv 32, pool, conv 64,
                                                pool, dense on the colour-shapes set, 16 images a step)

F10 figures are given per phase kind (forward, loss, backward, update) with median, 95th percentile and
max; --profile adds the GUI thread's hottest functions over the presses (cProfile, own time).

Not a test. Each press is a real key event sent to the window (QTest.keyClick, which goes through the
action's shortcut); the time runs until processEvents() returns with the views redrawn. session.step is
wrapped to time the core's share of the same presses, so both figures come from one run.

The run: F5 in a window at the fastest speed, the event loop left to itself (app.exec-like), a 5 ms
QTimer noting the gaps between its ticks (goal: no gap over 50 ms); redraws counted from the worker's
signal. Throughput: iterations per second of the run (pauses excluded) over session.run(records=False)
on a fresh session of the same preset (goal ≥ 80 %), run with the same BLAS thread count as the window's
worker (one thread, see ui/worker.py), so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


#: the suite's 64×64 net (benchmarks/bench_suite.py) on the colour set: not a bundled preset
NET64 = {"title": "64×64 net", "spec": {
    "input_shape": [3, 64, 64],
    "layers": [{"type": "conv2d", "out_channels": 32, "kernel_size": 3}, {"type": "relu"},
               {"type": "maxpool2d", "kernel_size": 2}, {"type": "conv2d", "out_channels": 64, "kernel_size": 3},
               {"type": "relu"}, {"type": "maxpool2d", "kernel_size": 2}, {"type": "flatten"},
               {"type": "dense", "out_features": 12}],
    "loss": {"type": "softmax_cross_entropy", "reduction": "mean"}},
    "dataset": {"name": "colour-shapes", "size": 64, "n": 1200}, "optimizer": {"lr": 0.01, "momentum": 0.9},
    "batch_size": 16}


def make_session(name: str):
    from visualcnn.presets import build_session, check_config
    from visualcnn.session import Session
    if name == "net64":
        return build_session(check_config(NET64, "net64"))
    return Session.from_preset(name)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="digits-small", help="comma-separated presets (or net64)")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--size", default="1600x1000", help="window size WxH")
    p.add_argument("--run-seconds", type=float, default=5.0, help="length of the measured run")
    p.add_argument("--profile", action="store_true", help="profile the GUI thread over the F10 presses")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="BLAS threads for the whole process (default: the process default; the run's worker "
                        "pins its own to one)")
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import contextlib

    import numpy  # noqa: F401  (loaded first: threadpoolctl limits only the libraries already loaded)
    from threadpoolctl import threadpool_limits

    from ui.app import make_app
    app = make_app([])
    with threadpool_limits(args.blas_threads) if args.blas_threads else contextlib.nullcontext():
        for name in args.preset.split(","):
            bench_one(app, name, args)
    return 0


def bench_one(app, name: str, args) -> None:
    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtTest import QTest

    from ui.app import settle_heap
    from ui.main_window import MainWindow

    session = make_session(name)
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

        ui_times, phases = [], []
        profiler = cProfile.Profile() if args.profile else None
        for _ in range(args.steps):
            phases.append(session.phase)
            t = time.perf_counter()
            if profiler:
                profiler.enable()
            QTest.keyClick(window, Qt.Key.Key_F10)
            app.processEvents()
            if profiler:
                profiler.disable()
            ui_times.append(time.perf_counter() - t)
        assert len(core_times) == args.steps, "a key press did not step the session"
        session.step = raw_step
        run = measure_run(app, window, args.run_seconds)
        window.close()
        headless = measure_headless(name, run["iterations"], run["limit_blas"])

    def fmt(xs: list[float]) -> str:
        xs = sorted(xs)
        p95 = xs[int(0.95 * (len(xs) - 1))]
        return (f"median {statistics.median(xs) * 1e3:7.2f} ms   p95 {p95 * 1e3:7.2f} ms   "
                f"max {max(xs) * 1e3:7.2f} ms")

    overhead = [u - c for u, c in zip(ui_times, core_times)]
    print(f"\npreset {name}, {args.steps} F10 presses, window {args.size}, platform {app.platformName()}, "
          f"batch {session.batch_size}, BLAS threads in the GUI thread {blas_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"  key press → views updated : {fmt(ui_times)}   (goal p95 ≤ 16 ms)")
    for kind in ("forward", "loss", "backward", "update"):
        times = [u for u, ph in zip(ui_times, phases) if ph == kind]
        if times:
            print(f"    {kind:9s} ({len(times):3d})       : {fmt(times)}")
    print(f"  session.step() alone      : {fmt(core_times)}")
    print(f"  UI overhead               : {fmt(overhead)}")
    gaps = run["gaps"]
    print(f"run as fast as possible, {run['seconds']:.1f} s, {run['iterations']:,} iterations")
    print(f"  redraws per second        : {run['redraws'] / run['seconds']:7.1f}   (goal ≥ 25, ≤ 30)")
    print(f"  longest event-loop stall  : {max(gaps) * 1e3:7.1f} ms   (goal ≤ 50; 5 ms timer; "
          f"99th percentile {sorted(gaps)[int(0.99 * (len(gaps) - 1))] * 1e3:.1f} ms, "
          f"{sum(g > 0.05 for g in gaps)} gaps over 50 ms)")
    ratio = run["rate"] / headless
    blas = "1 BLAS thread" if run["limit_blas"] else "default BLAS threads"
    print(f"  throughput with the GUI   : {run['rate']:9,.1f} it/s")
    print(f"  headless session.run      : {headless:9,.1f} it/s   (same preset, {blas}, as the worker)")
    print(f"  GUI / headless            : {ratio:7.1%}   (goal ≥ 80 %)")
    if profiler:
        print("  GUI thread over the F10 presses, hottest functions by own time:")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(15)
        print("\n".join("    " + line for line in out.getvalue().splitlines() if line.strip()))
    sys.stdout.flush()


def blas_threads() -> int:
    from visualcnn.layers.workspace import blas_threads as threads
    return threads()


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
            "redraws": redraws[0], "gaps": gaps, "limit_blas": c.worker.limit_blas}


def measure_headless(name: str, iterations: int, limit_blas: bool) -> float:
    """Iterations per second of session.run(records=False) on a fresh session, with the BLAS threads the
    window's worker used (it pins BLAS to one thread; comparing with the process default swung the
    ratio from 45 % to 790 %)."""
    import contextlib

    from threadpoolctl import threadpool_limits
    s = make_session(name)
    n = max(20, min(iterations, 2000))
    with threadpool_limits(1) if limit_blas else contextlib.nullcontext():
        s.run(min(5, n), records=False)             # warm-up, as the window's first iterations
        t = time.perf_counter()
        s.run(n, records=False)
        return n / (time.perf_counter() - t)


if __name__ == "__main__":
    sys.exit(main())
