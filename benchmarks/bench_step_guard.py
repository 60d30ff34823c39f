"""What F10 would cost if every phase ran off the GUI thread (ui/control/guard.py): key press → views updated,
with the phase on the step thread (what a stack with a user layer gets) versus inline on the GUI thread (what
a stack of built-in layers gets, as before), in the same window, alternating press by press, so both figures
share the machine's load and the phases.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_step_guard.py [--preset digits-small]
                                                                                [--rounds 10] [--steps 24]

Not a test. The two ways differ only in guard.runs_user_code (patched to True / False), so everything
else — refresh, views, status — is the same code in both.
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
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--steps", type=int, default=24, help="F10 presses per round")
    args = p.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtTest import QTest

    import ui.control.guard as guard
    from ui.app import make_app
    from ui.main_window import MainWindow
    from visualcnn.session import Session

    app = make_app([])
    shipped = guard.runs_user_code
    times: dict[str, list[float]] = {"off the GUI thread": [], "inline": []}
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(Session.from_preset(args.preset),
                            QSettings(os.path.join(tmp, "b.ini"), QSettings.Format.IniFormat))
        window.resize(1600, 1000)
        window.show()
        for _ in range(3):
            app.processEvents()
        session = window.controller.session
        for _ in range(session.n_phases):          # warm up: every view has drawn every phase once
            QTest.keyClick(window, Qt.Key.Key_F10)
            app.processEvents()
        variants = (("off the GUI thread", lambda _net: True), ("inline", lambda _net: False))
        for r in range(args.rounds):
            before = session.iteration * session.n_phases + session.phase_index
            for k in range(args.steps):             # the two ways alternate press by press: same load, same phases
                name, call = variants[(k + r) % 2]
                guard.runs_user_code = call
                t = time.perf_counter()
                QTest.keyClick(window, Qt.Key.Key_F10)
                app.processEvents()
                times[name].append(time.perf_counter() - t)
            after = session.iteration * session.n_phases + session.phase_index
            assert after - before == args.steps, "a key press did not step the session"
        guard.runs_user_code = shipped
        window.close()
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"preset {args.preset}: {args.rounds} rounds of {args.steps} F10 presses, the two ways alternating, "
          f"load average {os.getloadavg()[0]:.2f}")
    for name, xs in times.items():
        print(f"  {name:20s} median {med[name] * 1e3:7.2f} ms   90th pct "
              f"{sorted(xs)[int(0.9 * (len(xs) - 1))] * 1e3:7.2f} ms")
    print(f"  cost of the thread hop: {(med['off the GUI thread'] - med['inline']) * 1e3:+.2f} ms "
          f"({med['off the GUI thread'] / med['inline']:.2f}×)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
