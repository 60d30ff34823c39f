"""Benchmark: what the step-through path costs on top of the raw computation.

One training iteration done two ways in the same process, in alternating rounds:
  raw      net.forward, net.loss, net.backward, opt.step
  step     session.step() × (2L + 2): the same math plus StepRecords (read-only copies for the views)
  run      session.run(1, records=False): the run-mode path (checkpoints for undo, no records)
Prints medians and the overhead ratios. Not a test: machines here are shared and noisy.

    python benchmarks/bench_session.py [--preset lenet5] [--batches 1 32 128] [--rounds 30]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import visualcnn as vc


def timed(fn, repeat: int) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - t0) / repeat


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="lenet5")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 32, 128])
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--threads", type=int, default=None, help="BLAS threads (default: library default)")
    args = ap.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits
        threadpool_limits(args.threads)

    print(f"preset {args.preset}, float32, {args.rounds} alternating rounds, medians")
    print(f"{'batch':>5} {'raw ms':>9} {'step ms':>9} {'run ms':>9} {'step/raw':>9} {'run/raw':>8}")
    for batch in args.batches:
        s = vc.Session.from_preset(args.preset, batch_size=batch)
        net, opt, ds = s.network, s.optimizer, s.dataset
        rng = np.random.default_rng(0)
        idx = rng.choice(len(ds.y_train), size=batch, replace=False)
        x, y = ds.x_train[idx], ds.y_train[idx]

        def raw():
            net.loss(net.forward(x), y)
            net.backward()
            opt.step()

        def step():
            for _ in range(s.n_phases):
                s.step()

        def run():
            s.run(1, records=False)

        repeat = max(1, 64 // batch)
        for f in (raw, step, run):          # warm-up: allocations, caches
            f()
        times = {"raw": [], "step": [], "run": []}
        for _ in range(args.rounds):
            for name, f in (("raw", raw), ("step", step), ("run", run)):
                times[name].append(timed(f, repeat))
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        ratios_step = statistics.median(a / b for a, b in zip(times["step"], times["raw"]))
        ratios_run = statistics.median(a / b for a, b in zip(times["run"], times["raw"]))
        print(f"{batch:>5} {med['raw']:>9.3f} {med['step']:>9.3f} {med['run']:>9.3f} "
              f"{ratios_step:>9.3f} {ratios_run:>8.3f}")


if __name__ == "__main__":
    main()
