"""Soak: run mode for N minutes, sampling the process's RSS every 10 s and the longest stall.

    .venv/bin/python benchmarks/bench_soak.py                     # headless, 10 minutes
    .venv/bin/python benchmarks/bench_soak.py --minutes 2         # shorter
    .venv/bin/python benchmarks/bench_soak.py --preset tinyvgg --threads 2   # the core's own threads, as
                                                                  # `visualcnn train` runs at the default
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_soak.py --window --minutes 10

Not a test. Headless: the loop the window's run worker runs, without Qt — `Session.run` in chunks of
about 20 ms as fast as possible, a held-out evaluation every 100 iterations, one recorded iteration
(StepRecords built) every 0.5 s; the stall is the longest gap between two completed iterations.
--window: the real window offscreen in run mode (as fast as possible), its event loop left to itself,
with a 5 ms QTimer recording its own lateness (the longest gap between its ticks, minus 5 ms).

RSS is VmRSS from /proc/self/status. "Flat" (the goal): the last sample within 10 % of the first
sample after the warm-up (default 60 s); no stall over 50 ms.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SAMPLE_SECONDS = 10.0
STALL_GOAL_MS = 50.0


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


class Samples:
    """RSS and the worst stall per 10-second window, printed as they come."""

    def __init__(self, warmup: float) -> None:
        self.t0 = time.perf_counter()
        self.warmup = warmup
        self.rows: list[tuple[float, float, int, float]] = []     # (seconds, RSS MB, iterations, worst stall ms)
        self.cpu: list[float] = []                                  # CPU ms the thread used in that stall
        print(f"{'t (s)':>7} {'RSS (MB)':>9} {'iterations':>11} {'longest stall (ms)':>19} {'its CPU (ms)':>13}",
              flush=True)

    def add(self, iterations: int, stall_ms: float, cpu_ms: float = math.nan) -> None:
        row = (time.perf_counter() - self.t0, rss_mb(), iterations, stall_ms)
        self.rows.append(row)
        self.cpu.append(cpu_ms)
        print(f"{row[0]:7.0f} {row[1]:9.1f} {row[2]:11,d} {row[3]:19.1f} {cpu_ms:13.1f}", flush=True)

    def report(self, label: str) -> int:
        after = [r for r in self.rows if r[0] >= self.warmup] or self.rows[-1:]
        first, last = after[0], self.rows[-1]
        growth = last[1] / first[1] - 1
        worst = max(r[3] for r in after)
        worst_all = max(r[3] for r in self.rows)
        print(f"\n{label}: {last[2]:,} iterations in {last[0]:.0f} s; load average {os.getloadavg()[0]:.2f} "
              f"(1 min) at the end")
        print(f"  RSS first after warm-up ({first[0]:.0f} s): {first[1]:.1f} MB, last ({last[0]:.0f} s): "
              f"{last[1]:.1f} MB, change {growth:+.1%}  (goal within ±10 %)")
        print(f"  longest stall after warm-up: {worst:.1f} ms (whole run {worst_all:.1f} ms; goal <= {STALL_GOAL_MS:.0f}); "
              f"median of the 10-s windows' worst: {sorted(r[3] for r in after)[len(after) // 2]:.1f} ms")
        cpu = [c for r, c in zip(self.rows, self.cpu) if r[0] >= self.warmup and not math.isnan(c)]
        if cpu:
            print(f"  CPU the run's thread used during those worst gaps: at most {max(cpu):.1f} ms "
                  f"(the rest of a gap is waiting for a core: load average {os.getloadavg()[0]:.1f} on "
                  f"{os.cpu_count()} cores)")
        return 0 if abs(growth) <= 0.10 and worst <= STALL_GOAL_MS else 1


def headless(preset: str, minutes: float, warmup: float, threads: int = 1) -> int:
    from threadpoolctl import threadpool_limits

    from visualcnn.session import Session

    session = Session.from_preset(preset)
    samples = Samples(warmup)
    end = samples.t0 + minutes * 60
    state = {"last": time.perf_counter(), "last_cpu": time.thread_time(), "worst": 0.0, "worst_cpu": 0.0,
             "iterations": 0}
    rate, last_record, next_sample = None, 0.0, samples.t0 + SAMPLE_SECONDS

    def on_iteration(s) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if now - state["last"] > state["worst"]:
            # the CPU this thread used across the worst gap: much less than the gap = waiting for a core
            state["worst"], state["worst_cpu"] = now - state["last"], cpu - state["last_cpu"]
        state["last"], state["last_cpu"] = now, cpu
        state["iterations"] += 1
        if s.iteration % 100 == 0:                          # as the window's worker: held-out points
            s.evaluate("test", max_samples=200)

    with threadpool_limits(threads):                        # as the worker: one BLAS thread (default)
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            record = t0 - last_record >= 0.5 and session.phase_index == 0
            n = 1 if (rate is None or record) else max(1, int(rate * 0.02))
            if record:
                last_record = t0
            before = state["iterations"]
            session.run(n, on_iteration=on_iteration, records=record)
            dt = time.perf_counter() - t0
            if not record and dt > 0:
                rate = (state["iterations"] - before) / dt
            if time.perf_counter() >= next_sample:
                samples.add(state["iterations"], state["worst"] * 1e3, state["worst_cpu"] * 1e3)
                state["worst"] = state["worst_cpu"] = 0.0
                next_sample += SAMPLE_SECONDS
    print(f"(history {session.history.nbytes / 2**20:.0f} MB of {session.history_budget / 2**20:.0f} MB budget; "
          f"metrics {session.metrics!r}; log {len(session.log)} lines)")
    return samples.report(f"headless run mode, {preset}, {threads} thread{'s' if threads > 1 else ''}")


def window(preset: str, minutes: float, warmup: float, size: str) -> int:
    import tempfile

    from PyQt6.QtCore import QSettings, QTimer

    from ui.app import make_app, settle_heap
    from ui.main_window import MainWindow
    from visualcnn.session import Session

    app = make_app([])
    session = Session.from_preset(preset)
    tmp = tempfile.TemporaryDirectory()
    win = MainWindow(session, QSettings(os.path.join(tmp.name, "soak.ini"), QSettings.Format.IniFormat))
    w, h = (int(v) for v in size.split("x"))
    win.resize(w, h)
    win.show()
    settle_heap()
    for _ in range(3):
        app.processEvents()
    c = win.controller
    c.worker.set_speed(math.inf)
    samples = Samples(warmup)
    state = {"last": time.perf_counter(), "worst": 0.0}

    def tick() -> None:
        now = time.perf_counter()
        state["worst"] = max(state["worst"], now - state["last"] - 0.005)     # lateness past the 5 ms interval
        state["last"] = now
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)

    def sample() -> None:
        samples.add(session.iteration, state["worst"] * 1e3)
        state["worst"] = 0.0
        if time.perf_counter() - samples.t0 >= minutes * 60:
            c.worker.stop()
            QTimer.singleShot(2000, app.quit)
    sampler = QTimer()
    sampler.setInterval(int(SAMPLE_SECONDS * 1000))
    sampler.timeout.connect(sample)
    if not c.run(n_iterations=10**9):
        print("the window refused to run", file=sys.stderr)
        return 2
    timer.start()
    sampler.start()
    app.exec()
    timer.stop()
    sampler.stop()
    c.worker.shutdown()
    print(f"(history {session.history.nbytes / 2**20:.0f} MB of {session.history_budget / 2**20:.0f} MB budget; "
          f"metrics {session.metrics!r}; log {len(session.log)} lines)")
    code = samples.report(f"the window offscreen in run mode, {preset}, {size}")
    win.close()
    tmp.cleanup()
    return code


def main() -> int:
    from visualcnn.layers.workspace import keep_freed_memory
    keep_freed_memory()             # as visualcnn and the window do at their start
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10.0, help="how long to run (default 10)")
    p.add_argument("--warmup", type=float, default=60.0, help="seconds before the RSS reference sample (default 60)")
    p.add_argument("--preset", default="digits-small")
    p.add_argument("--window", action="store_true", help="the real window offscreen instead of headless")
    p.add_argument("--size", default="1440x900", help="window size WxH (with --window)")
    p.add_argument("--threads", type=int, default=1,
                   help="headless: BLAS threads, the core's thread budget (default 1, as the window's worker)")
    args = p.parse_args()
    if args.window:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        return window(args.preset, args.minutes, args.warmup, args.size)
    return headless(args.preset, args.minutes, args.warmup, args.threads)


if __name__ == "__main__":
    sys.exit(main())
