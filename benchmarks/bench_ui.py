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
action's shortcut); the time runs until processEvents() returns with the views redrawn and, at an update,
until the curves the step added (drawn in the event loop's next turn) are drawn too. session.step is wrapped
to time the core's share of the same presses, so both figures come from one run.

The run: F5 in a window at the fastest speed, the event loop left to itself (app.exec-like), a 5 ms
QTimer noting the gaps between its ticks (goal: no gap over 50 ms); redraw signals counted from the worker's
signal (≤ 30/s, at most one an iteration), frames from the window's repaints. Throughput: iterations per second
of the run (pauses excluded) over session.run(records=False) on a fresh session of the same preset with the
run's batch size and ε (goal ≥ 80 %), run with the same BLAS thread count as the window's worker (one thread,
see ui/worker.py), so the ratio compares like with like (the run also evaluates held-out points).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import math
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
    from visualcnn.layers.workspace import keep_freed_memory
    keep_freed_memory()             # as visualcnn and the window do at their start
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
        for _turn in range(3):
            app.processEvents()

        pending = getattr(window.metrics, "pending", lambda: False)      # (older windows drew curves at once)
        core_times: list[float] = []
        raw_step = session.step

        def timed_step():
            t = time.perf_counter()
            try:
                return raw_step()
            finally:
                core_times.append(time.perf_counter() - t)
        session.step = timed_step

        for _press in range(session.n_phases):     # warm up: every view has drawn every phase once
            QTest.keyClick(window, Qt.Key.Key_F10)
            app.processEvents()
            while pending():
                app.processEvents()
        core_times.clear()

        ui_times, first_turn, cpu_times, phases = [], [], [], []
        profiler = cProfile.Profile() if args.profile else None
        for _press in range(args.steps):
            phases.append(session.phase)
            t, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            QTest.keyClick(window, Qt.Key.Key_F10)
            app.processEvents()
            first_turn.append(time.perf_counter() - t)
            while pending():                         # the curves a step adds come one turn later: wait for them
                app.processEvents()
            app.processEvents()                      # and for their paint, asked for while drawing them
            if profiler:
                profiler.disable()
            ui_times.append(time.perf_counter() - t)
            cpu_times.append(time.process_time() - cpu)
        assert len(core_times) == args.steps, "a key press did not step the session"
        session.step = raw_step
        run = measure_run(app, window, args.run_seconds)
        window.close()
        headless = measure_headless(name, run["iterations"], run["limit_blas"], run["batch"], run["lr"])

    def fmt(xs: list[float]) -> str:
        xs = sorted(xs)
        p95 = xs[min(len(xs) - 1, math.ceil(0.95 * len(xs)) - 1)]         # nearest rank
        return (f"median {statistics.median(xs) * 1e3:7.2f} ms   p95 {p95 * 1e3:7.2f} ms   "
                f"max {max(xs) * 1e3:7.2f} ms")

    overhead = [u - c for u, c in zip(ui_times, core_times)]
    print(f"\npreset {name}, {args.steps} F10 presses, window {args.size}, platform {app.platformName()}, "
          f"batch {session.batch_size}, BLAS threads in the GUI thread {blas_threads()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"  key press → every view drawn : {fmt(ui_times)}   (goal p95 ≤ 16 ms; curves included)")
    for kind in ("forward", "loss", "backward", "update"):
        times = [u for u, ph in zip(ui_times, phases) if ph == kind]
        if times:
            print(f"    {kind:9s} ({len(times):3d})          : {fmt(times)}")
    print(f"  … the first event-loop turn : {fmt(first_turn)}   (the views; a step's curves follow in the next)")
    print(f"  … CPU time of the process   : {fmt(cpu_times)}   (what a loaded machine's wait leaves out)")
    print(f"  session.step() alone         : {fmt(core_times)}")
    print(f"  UI overhead                  : {fmt(overhead)}")
    gaps = run["gaps"]
    print(f"run as fast as possible, {run['seconds']:.1f} s, {run['iterations']:,} iterations of batch {run['batch']}")
    print(f"  redraw signals handled /s    : {run['redraws'] / run['seconds']:7.1f}   (goal ≥ 25; the worker asks ≤ 30/s, "
          f"at most once an iteration)")
    print(f"  frames painted /s            : {run['frames'] / run['seconds']:7.1f}   (the window repaints what changed: "
          f"pictures 2/s, curves 2/s, status 5/s)")
    print(f"  longest event-loop stall     : {max(gaps) * 1e3:7.1f} ms   (goal ≤ 50; 5 ms timer; "
          f"99th percentile {sorted(gaps)[int(0.99 * (len(gaps) - 1))] * 1e3:.1f} ms, "
          f"{sum(g > 0.05 for g in gaps)} gaps over 50 ms)")
    plain, evaluating = headless
    blas = "1 BLAS thread" if run["limit_blas"] else "default BLAS threads"
    print(f"  throughput with the GUI      : {run['rate']:9,.1f} it/s   (with its held-out evaluations)")
    print(f"  headless session.run         : {evaluating:9,.1f} it/s   (same preset, batch {run['batch']}, {blas} "
          f"as the worker, the same held-out evaluations; {plain:,.1f} it/s without them)")
    print(f"  GUI / headless               : {run['rate'] / evaluating:7.1%}   (goal ≥ 80 %; "
          f"{run['rate'] / plain:.1%} of the run without evaluations)")
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
    frames = FrameCounter(window)
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
    frames.stop()
    summary = finished[0]
    limit_blas = getattr(c.worker, "limit_blas", True)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])] or [0.0]
    panel = window.hyper_panel
    return {"iterations": summary.iterations, "seconds": summary.seconds, "rate": summary.iterations / summary.seconds,
            "redraws": redraws[0], "frames": frames.count, "gaps": gaps, "limit_blas": limit_blas,
            "batch": int(panel.run_batch.value()), "lr": float(panel.run_lr.value())}


class FrameCounter:
    """Counts the window's repaints (one UpdateRequest of its top-level widget = one frame put on screen)."""

    def __init__(self, window) -> None:
        from PyQt6.QtCore import QEvent, QObject

        counter = self

        class _Filter(QObject):
            def eventFilter(self, obj, event):
                if event.type() == QEvent.Type.UpdateRequest:
                    counter.count += 1
                return False
        self.count = 0
        self._window = window
        self._filter = _Filter()
        window.installEventFilter(self._filter)

    def stop(self) -> None:
        self._window.removeEventFilter(self._filter)


def measure_headless(name: str, iterations: int, limit_blas: bool, batch: int, lr: float) -> tuple[float, float]:
    """Iterations per second of session.run(records=False) on a fresh session, with the batch size, ε and BLAS
    threads the window's run used (its worker pins BLAS to one thread; comparing with the process default swung
    the ratio from 45 % to 790 %, and the run's batch is the Training panel's, not the stepping one): plain, and
    with the held-out evaluations the window's run makes (every EVAL_EVERY iterations and EVAL_EVERY_S seconds,
    on EVAL_SAMPLES test images), which is what the GUI run is compared with."""
    import contextlib

    from threadpoolctl import threadpool_limits

    from ui.control.run import EVAL_EVERY, EVAL_SAMPLES
    from ui.worker import EVAL_EVERY_S

    def rate(evaluate: bool) -> float:
        s = make_session(name)
        s.set_batch_size(batch)
        s.set_hyper(lr=lr)
        last = [0.0]

        def on_iteration(sess) -> None:
            now = time.perf_counter()
            if sess.iteration % EVAL_EVERY == 0 or now - last[0] >= EVAL_EVERY_S:
                last[0] = now
                sess.evaluate("test", max_samples=EVAL_SAMPLES)
        n = max(20, min(iterations, 2000))
        s.run(min(5, n), records=False)             # warm-up, as the window's first iterations
        t = last[0] = time.perf_counter()
        s.run(n, records=False, on_iteration=on_iteration if evaluate else None)
        return n / (time.perf_counter() - t)
    with threadpool_limits(1) if limit_blas else contextlib.nullcontext():
        return rate(False), rate(True)


if __name__ == "__main__":
    sys.exit(main())
