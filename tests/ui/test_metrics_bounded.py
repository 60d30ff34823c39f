"""A long run keeps the window bounded: the metrics view's curves and the worker's test points stay under a
fixed number of points however many iterations come, still spanning the whole run (issue 12, item 7)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

N = 50_000          # iterations: far past every bound (2,048 recent + 1,024 summary points per curve)
FRAME = 500         # iterations between two redraws (the controller redraws the view a few times a second)


def _loss(i: int) -> float:
    return 2.0 * math.exp(-i / 10_000) + 0.1 * (i % 2)


def _metrics(i: int):
    from visualcnn.history import IterationMetrics

    return IterationMetrics(i, _loss(i), min(1.0, i / N), {0: 0.5 + 0.1 * (i % 3), 4: 1e-3},
                            {0: 1e-3, 4: 0.0 if i % 7 == 0 else 1e-4})


def test_a_long_run_keeps_curves_and_test_points_bounded(qtbot, monkeypatch):
    from ui.bounded import MAX_TEST_POINTS, RECENT_POINTS, SUMMARY_POINTS
    from ui.views.metrics import MetricsView
    from ui.worker import RunWorker
    from visualcnn.metrics import MetricsLog

    view = MetricsView()
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.show()
    log = MetricsLog()                              # what session.metrics is
    stub = SimpleNamespace(iteration=0)
    stub.evaluate = lambda split, max_samples=None: (_loss(stub.iteration), min(1.0, stub.iteration / N))
    worker = RunWorker(stub, eval_every=10)         # 5,000 evaluations, through the worker's own path
    try:
        for i in range(N):
            log.append(_metrics(i))
            stub.iteration = i + 1
            worker._evaluate_if_due()
            if (i + 1) % FRAME == 0:
                view.update_from(log, worker.test_points)      # as the controller's redraw does
    finally:
        assert worker.shutdown(5.0)

    bound = RECENT_POINTS + SUMMARY_POINTS + 1
    envelope_bound = RECENT_POINTS + 2 * (SUMMARY_POINTS + 1)     # a raw curve: each block's low and high
    series = [view._loss, view._loss_smooth, view._acc_smooth]
    series += [entry[k] for store in view._layer_series.values() for entry in store.values() for k in ("raw", "smooth")]
    assert len(series) == 3 + 2 * 2 * 2
    for s in series:
        # bounded, buffers included, and still the whole run: first iteration to last, in order
        most = envelope_bound if s.envelope else bound
        assert len(s) <= most and s._out_x.size <= most and s._rx.size + s._sx.size <= bound
        assert s.x[0] == 0 and s.x[-1] == N - 1 and np.all(np.diff(s.x) >= 0)
    assert view.loss_raw.xData[[0, -1]].tolist() == [0, N - 1] and len(view.loss_raw.xData) <= envelope_bound
    # the curves keep their shape: the smoothed loss follows the trend along the whole run, and the raw one
    # keeps its noise (0 / 0.1 alternating) in the old, summarised part too: lows and highs, not means
    xs = np.arange(0, N, 997)
    trend = 2.0 * np.exp(-xs / 10_000) + 0.05
    assert np.max(np.abs(np.interp(xs, view.loss_smooth.xData, view.loss_smooth.yData) - trend)) < 0.03
    old = (view.loss_raw.xData > 20_000) & (view.loss_raw.xData < 20_500)
    spread = view.loss_raw.yData[old].max() - view.loss_raw.yData[old].min()
    assert 0.1 < spread < 0.1 + 2.0 * math.exp(-2) * 0.06
    # a log-scale curve with gaps (ratio 0 every 7th iteration) keeps finite points along the run
    ratio = view._layer_series["update_ratios"][4]["raw"]
    assert np.isfinite(ratio.y).sum() > bound // 2

    tests = worker.test_points
    assert len(tests) <= MAX_TEST_POINTS and len(view.loss_test.xData) == len(tests)
    its = [p[0] for p in tests]
    assert its[0] == 10 and its[-1] == N                # the first evaluation and the newest one
    assert len(set(np.diff(its[:-1]).tolist())) == 1    # evenly spaced along the run
    assert view.loss_test.xData[-1] == N
    # pyqtgraph's symbol atlas keeps one entry per pen/brush object it is given: the same ones every redraw
    assert len(view.loss_test.scatter.fragmentAtlas) <= 2 and len(view.acc_test.scatter.fragmentAtlas) <= 2

    # stepping back across an iteration: the view starts over from what the log kept, not from every count
    reads: list[int] = []
    get = MetricsLog._get
    monkeypatch.setattr(MetricsLog, "_get", lambda self, k: (reads.append(k), get(self, k))[1])
    log.truncate(N - 1)
    view.update_from(log, worker.test_points)
    assert len(reads) < 10
    assert view._loss.x[[0, -1]].tolist() == [0, N - 2] and len(view._loss) <= envelope_bound


def test_held_out_points_thin_evenly_and_keep_the_newest():
    from ui.bounded import HeldOutPoints

    points = HeldOutPoints(max_points=8)
    versions = []
    for k in range(1, 101):
        points.append((10 * k, 1.0 / k, 0.5))
        versions.append(points.version)
        assert len(points) <= 8 and points[-1][0] == 10 * k      # the newest evaluation is always shown
    kept = [p[0] for p in points[:-1]]
    assert kept[0] == 10 and len(set(np.diff(kept).tolist())) == 1 and len(kept) >= 4
    assert versions == sorted(set(versions))                     # every change is seen, even at one length
    points.clear()
    points.append((5, 1.0, 0.0))
    assert list(points) == [(5, 1.0, 0.0)] and points.stride == 1
