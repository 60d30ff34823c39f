"""Views behind another tab draw nothing until shown, and a step's curves come one event-loop turn after its
views (goal: the window keeps up; what the user sees is the same once shown)."""

import numpy as np
from PyQt6.QtCore import Qt

from ui.in_sight import out_of_sight


def test_a_step_draws_the_curves_in_the_next_turn(window, qtbot):
    m = window.metrics
    window.docks["metrics"].raise_()
    s = window.controller.session
    while s.iteration == 0:
        qtbot.keyClick(window, Qt.Key.Key_F10)
    qtbot.waitUntil(lambda: not m.pending(), timeout=2000)
    assert len(m.loss_smooth.xData) == len(s.metrics) == 1
    window.actions["step_iteration"].trigger()
    assert m.pending()                          # the views drew; the curves follow
    qtbot.waitUntil(lambda: not m.pending(), timeout=2000)
    assert len(m.loss_smooth.xData) == 2
    np.testing.assert_allclose(m.loss_raw.yData, [x.loss for x in s.metrics])


def test_metrics_behind_another_tab_draw_when_shown(window, qtbot):
    m = window.metrics
    window.docks["draw"].raise_()               # the Draw tab in front of Metrics
    qtbot.waitUntil(lambda: out_of_sight(m), timeout=2000)
    for _k in range(2):
        window.actions["step_iteration"].trigger()
    qtbot.wait(50)
    assert m.loss_smooth.xData is None or len(m.loss_smooth.xData) == 0
    window.docks["metrics"].raise_()
    qtbot.waitUntil(lambda: m.loss_smooth.xData is not None and len(m.loss_smooth.xData) == 2, timeout=2000)
    assert not m.pending()


def test_samples_behind_another_tab_draw_when_shown(window, qtbot):
    samples = window.samples
    window.docks["controls"].raise_()
    qtbot.waitUntil(lambda: out_of_sight(samples), timeout=2000)
    before = samples.image_items[0].image.copy()
    s = window.controller.session
    for _k in range(2):
        window.actions["step_iteration"].trigger()      # the next iterations: other batches
    qtbot.keyClick(window, Qt.Key.Key_F10)
    x = s.records[0].batch_x
    assert not np.array_equal(x[0].mean(axis=0), before)
    assert np.array_equal(samples.image_items[0].image, before)            # nothing drawn while behind
    window.docks["samples"].raise_()
    qtbot.waitUntil(lambda: np.array_equal(samples.image_items[0].image, x[0].mean(axis=0)), timeout=2000)
