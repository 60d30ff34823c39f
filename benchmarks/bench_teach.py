"""Benchmark: what the teaching layer costs — playing a lesson, and an animation against a snapshot.

  lessons    every bundled lesson played to its end by LessonPlayer (answers right), against one raw
             iteration of the same preset (session.run_iteration) measured in the same round
  animation  render_frames (offscreen window, one grab per phase) and each writer (GIF, APNG, MP4),
             against one snapshot of the same window (render_snapshot): the per-frame cost as a ratio
Medians of alternating rounds. Not a test: machines here are shared and noisy.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_teach.py [--rounds 3] [--preset lenet5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def play(lesson) -> None:
    from visualcnn.lessons import LessonPlayer
    p = LessonPlayer(lesson)
    p.start()
    while True:
        if p.asking:
            p.answer(p.expected_answer())
        if not p.next():
            break


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--preset", default="lenet5")
    ap.add_argument("--size", default="1280x800")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))

    from visualcnn.lessons import list_lessons
    from visualcnn.presets import session_from_preset
    print(f"load average {os.getloadavg()[0]:.2f}")
    print("lesson           steps  play ms  one iteration ms  ratio")
    for lesson in list_lessons():
        plays, iters = [], []
        for _ in range(args.rounds):
            plays.append(timed(lambda: play(lesson)))
            s = session_from_preset(lesson.setup.preset, batch_size=1)
            iters.append(timed(s.run_iteration))
        p, i = statistics.median(plays), statistics.median(iters)
        print(f"{lesson.name:16s} {len(lesson.steps):5d} {p * 1e3:8.0f} {i * 1e3:17.1f} {p / i:6.0f}")

    from ui.animation import render_frames, write_animation
    from ui.snapshot import render_snapshot
    from ui.startup import make_app
    make_app([])
    tmp = Path(tempfile.mkdtemp())
    renders, snaps, writes = [], [], {"gif": [], "png": [], "mp4": []}
    n = 0
    for _ in range(args.rounds):
        s = session_from_preset(args.preset)
        frames = []
        renders.append(timed(lambda: frames.extend(render_frames(s, "all", size))))
        n = len(frames)
        snaps.append(timed(lambda: render_snapshot(args.preset, phases=0, size=size, out=tmp / "snap.png")))
        for ext in writes:
            writes[ext].append(timed(lambda: write_animation(frames, tmp / f"wave.{ext}")))
    r, sn = statistics.median(renders), statistics.median(snaps)
    print(f"\n{args.preset} at {size[0]}×{size[1]}: {n} frames rendered in {r:.2f} s "
          f"({r / n * 1e3:.0f} ms a frame); one snapshot {sn:.2f} s; "
          f"animation / snapshot {r / sn:.1f} (frames / snapshot {n})")
    for ext, ts in writes.items():
        print(f"  write {ext:4s} {statistics.median(ts):.2f} s, {(tmp / f'wave.{ext}').stat().st_size / 2**20:.1f} MiB")
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
