"""MetricsView's cheap redraw: append-only numpy buffers, and ranges it sets itself (no per-frame autoRange)."""

from __future__ import annotations

import math
import time
from types import SimpleNamespace

import numpy as np


def _metrics(n: int, start: int = 0):
    rng = np.random.default_rng(start)
    return [SimpleNamespace(iteration=i, loss=2.0 * math.exp(-i / 2000) + 0.1 * rng.random(),
                            accuracy=min(1.0, i / n), grad_norms={0: 0.5 + rng.random(), 4: 1e-3 * (1 + rng.random())},
                            update_ratios={0: 1e-3, 4: 0.0 if i % 7 == 0 else 1e-4})
            for i in range(start, start + n)]


def test_appends_keep_whole_curves_and_ranges_follow_the_data(qtbot):
    from ui.bounded import CurvePoints
    from ui.views.metrics import MetricsView

    s = CurvePoints(recent=16, summary=4)
    for k in range(5):
        s.extend([k, k + 0.5], [2 * k, 2 * k + 1])
    assert len(s) == 10 and s.x.tolist()[-2:] == [4, 4.5] and s.y.tolist()[:3] == [0, 1, 2]

    view = MetricsView()
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.show()
    metrics = _metrics(5000)
    for n in range(200, 5001, 200):
        view.update_from(metrics[:n], [(k, 1.0, 0.5) for k in range(50, n + 1, 50)])
        (x0, x1), (y0, y1) = view.loss_plot.viewRange()
        assert x1 >= n and x1 <= 1.3 * n                       # the last point shows, not far from the edge
        losses = view.loss_raw.yData
        assert y0 <= losses.min() and y1 >= max(losses.max(), 1.0)
    # the whole run is drawn (the oldest iterations as block means; see test_metrics_bounded)
    assert view.loss_smooth.xData[0] == 0 and view.loss_smooth.xData[-1] == 4999
    assert view._layer_series["update_ratios"][4]["raw"].x[[0, -1]].tolist() == [0, 4999]
    g0, g1 = view.grad_plot.viewRange()[1]                     # log10 units: 1e-3 … 1.5 inside
    assert g0 <= -3 and g1 >= math.log10(1.4)
    assert not view.loss_plot.getViewBox().autoRangeEnabled()[1]

    # a plot the user zoomed is left where they put it, until reset
    view.loss_plot.getViewBox().sigRangeChangedManually.emit([True, True])
    view.loss_plot.setYRange(0.5, 0.6, padding=0)
    view.update_from(metrics + _metrics(100, 5000))
    assert np.allclose(view.loss_plot.viewRange()[1], (0.5, 0.6))
    view.reset()
    view.update_from(metrics[:300])
    assert view.loss_plot.viewRange()[1][1] > 2.0

    # incremental appends stay cheap at a few thousand iterations (generous bound; was ~45 ms with painting)
    view.reset()
    view.update_from(metrics[:4000])
    t = time.perf_counter()
    for n in range(4030, 5001, 30):
        view.update_from(metrics[:n])
    assert (time.perf_counter() - t) / 33 < 0.05
