"""What a long run accumulates stays bounded (issue 12 §7): metrics, the log, the history's real memory.

Counted, not timed: a structure's size after many simulated iterations against a byte limit.
"""

from __future__ import annotations

import gc
import json
import tracemalloc

import numpy as np
import pytest

import visualcnn as vc
from visualcnn import limits
from visualcnn.history import Checkpoint, History, IterationMetrics
from visualcnn.io import load_session, save_session
from visualcnn.metrics import MAX_SUMMARY, EventLog, MetricsLog


def metric(k: int, layers: int = 6) -> IterationMetrics:
    return IterationMetrics(k, 1.0 / (k + 1), (k % 10) / 10, {i: 0.1 * i for i in range(layers)},
                            {i: 1e-3 * i for i in range(layers)})


def test_metrics_of_20k_iterations_stay_under_a_byte_limit():
    log = MetricsLog()
    for k in range(20_000):
        log.append(metric(k))
    assert len(log) == 20_000                       # counted like the list it replaces
    assert len(log.recent) == limits.MAX_METRICS_KEPT and len(log.summary) <= MAX_SUMMARY + 1
    # the plain list held 20k × ~0.9 KB = 18 MB; the log is bounded by keep + summary, whatever the length
    per_point = log.nbytes() / len(list(log))
    bound = (limits.MAX_METRICS_KEPT + MAX_SUMMARY + 1) * per_point      # whatever the run's length
    assert bound < 8 * 2**20
    for k in range(20_000, 200_000):
        log.append(metric(k))
        if k % 9_973 == 0:
            assert log.nbytes() <= bound and len(log.summary) <= MAX_SUMMARY + 1


def test_a_reader_that_remembers_how_far_it_read_sees_every_index():
    """The metrics view reads log[k] for the k it has not drawn yet; indices never shift under it."""
    log = MetricsLog(keep=100, max_summary=8)
    seen = 0
    for k in range(5_000):
        log.append(metric(k))
        if k % 37 == 0:
            new = [log[j] for j in range(seen, len(log))]
            assert [m.iteration for m in new] == list(range(seen, len(log)))
            seen = len(log)
    assert log[-1].iteration == 4_999 and log[len(log) - 1] is log[-1]
    old = log[10]                                   # summarised: the point whose block covers it
    assert old.iteration <= 10 and 0 < old.loss < 1
    # summary points are means over their blocks: the mean loss over the run is kept
    points = list(log)
    assert len(points) == len(log.summary) + len(log.recent)
    partial = [] if log._pending is None else [log._pending.count]
    weights = [*np.diff([0, *log._ends]), *partial]                      # iterations behind each point
    assert sum(weights) == log.first_recent
    assert np.isclose(np.average([p.loss for p in log.summary], weights=weights),
                      np.mean([1.0 / (k + 1) for k in range(log.first_recent)]))


def test_stepping_back_truncates():
    log = MetricsLog(keep=10, max_summary=4)
    for k in range(50):
        log.append(metric(k))
    log.truncate(45)
    assert len(log) == 45 and log[-1].iteration == 44
    log.truncate(5)                                 # past the recent window
    assert [m.iteration for m in log][-1] < 5


def test_repeated_log_lines_are_folded_and_the_log_is_bounded():
    log = EventLog(max_lines=50)
    for k in range(10_000):
        log.append(f"history trimmed: dropped 1 iteration(s); step back reaches iteration {k}", kind="trim")
    assert len(log) == 1 and log[-1].endswith("iteration 9999 (×10000)")
    for k in range(1_000):
        log.append(f"iteration {k}: lr = 0.1")
    assert len(log) == 50


def test_a_long_run_keeps_one_trim_line_and_bounded_metrics():
    s = vc.Session.from_preset("digits-small")
    s.history_budget = 200_000
    s.run(limits.MAX_METRICS_KEPT + 600, records=False)
    assert s.history.trimmed
    assert sum("history trimmed" in line for line in s.log) == 1
    assert len(s.metrics.recent) == limits.MAX_METRICS_KEPT and len(s.metrics) == s.iteration


def test_a_save_of_a_long_run_is_bounded(tmp_path):
    s = vc.Session.from_preset("digits-small")
    s.run(3, records=False)
    for k in range(3, 200_000):                     # as if 200k iterations had run
        s.metrics.append(metric(k, layers=0))
    save_session(s, tmp_path / "long.vcnn")
    with np.load(tmp_path / "long.vcnn") as z:
        meta = json.loads(str(z["__meta__"]))
    assert len(meta["metrics"]) <= limits.MAX_METRICS_KEPT + MAX_SUMMARY
    t = load_session(tmp_path / "long.vcnn")
    assert t.metrics[-1].iteration == 199_999


def test_the_history_budget_holds_for_memory_not_just_for_data():
    """Checkpoints pushed into a History until it trims: the memory they hold (tracemalloc: Python objects and
    NumPy data) stays within 10 % of the budget. Counting only array data it was 1.4× for a small network."""
    s = vc.Session.from_preset("digits-small")
    s.run(2, records=False)
    budget = 2**20
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        h = History(budget)
        x, y = s.current_batch()
        for k in range(600):
            cp = Checkpoint(k, tuple(s.network.get_params()), tuple(s.optimizer.get_state()),
                            json.dumps(s.sampler.get_state()))
            h.push(cp)
            h.set_batch((x.copy(), y.copy()), s.sampler.get_state())
            h.trim()
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert h.trimmed and h.nbytes <= budget
    assert held <= 1.10 * budget, f"{held / budget:.2f}× the budget"
