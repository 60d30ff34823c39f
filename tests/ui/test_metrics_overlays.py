"""The metrics plots' legends and the guide line's label never stand cut over a plot too narrow for them:
each is whole inside its plot, or hidden (issue 10 §3: no clipped text anywhere)."""

import pytest

from tests.ui.helpers import open_window
from visualcnn.session import Session


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900), (1920, 1080)])
def test_legends_and_labels_fit_their_plots_or_hide(qtbot, tmp_path, size):
    w = open_window(qtbot, tmp_path, Session.from_preset("lenet5"), size=size)
    for _ in range(2):
        w.actions["step_iteration"].trigger()
    w.controller.refresh(force=True)
    qtbot.wait(50)
    shown = []
    for item, plot in w.metrics.overlays():
        if not item.isVisible():
            continue
        shown.append(plot)
        inner, box = item.sceneBoundingRect(), plot.getViewBox().sceneBoundingRect()
        assert box.contains(inner), (size, inner, box)
    if size == (1920, 1080):      # room for the loss and accuracy legends at full HD
        assert w.metrics.loss_plot in shown and w.metrics.acc_plot in shown, size
    w.controller.shutdown()


@pytest.mark.parametrize("presentation", [False, True])
def test_the_guide_label_shows_whole_where_the_plot_has_room(qtbot, tmp_path, presentation):
    """'1e−3 (typical healthy)' was hidden even at 1920×1080 in presentation mode: a hidden pyqtgraph TextItem
    keeps its old scaling, so the fit check measured it thousands of pixels wide and never showed it again."""
    w = open_window(qtbot, tmp_path, Session.from_preset("lenet5"), size=(1920, 1080))
    if presentation:
        w.set_presentation(True, full_screen=False)
        w.resize(1920, 1080)
    for _step in range(2):
        w.actions["step_iteration"].trigger()
    w.controller.refresh(force=True)
    qtbot.wait(50)
    label, box = w.metrics.guide_label, w.metrics.ratio_plot.getViewBox()
    assert label.isVisible()
    assert box.sceneBoundingRect().contains(label.sceneBoundingRect())
    assert label.sceneBoundingRect().width() < box.sceneBoundingRect().width()
    # too narrow for it, then wide again: it shows again
    w.resize(1280, 800)
    qtbot.wait(50)
    w.resize(1920, 1080)
    qtbot.wait(50)
    assert label.isVisible() and box.sceneBoundingRect().contains(label.sceneBoundingRect())
    if presentation:
        w.set_presentation(False)
    w.controller.shutdown()
