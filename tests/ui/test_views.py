"""The views draw exactly what the records hold, at every phase, and never raise."""

import time

import numpy as np
import pytest
from PyQt6 import QtCore

import visualcnn as vc
from ui import style
from ui.views.inspector import Inspector
from ui.views.pipeline import PipelineView
from ui.views.samples import SamplePanel
from visualcnn.data import load_dataset

ALL_TYPES = {"input_shape": [1, 8, 8], "layers": [
    {"type": "conv2d", "out_channels": 3, "kernel_size": 3, "padding": 1},
    {"type": "relu"},
    {"type": "maxpool2d", "kernel_size": 2},
    {"type": "conv2d", "out_channels": 4, "kernel_size": 2, "bias": "untied"},
    {"type": "tanh"},
    {"type": "lppool2d", "kernel_size": 2, "stride": 1, "p": 3},
    {"type": "sigmoid"},
    {"type": "avgpool2d", "kernel_size": 2},
    {"type": "flatten"},
    {"type": "dense", "out_features": 10}]}


def next_of(session, rec):
    """(phase, layer) of the next step; after the update it is the next iteration's forward 0."""
    return (session.phase, session.layer)


@pytest.fixture
def session():
    return vc.Session.from_preset("digits-small")


@pytest.fixture
def views(qtbot, session):
    pipeline, inspector, samples = PipelineView(), Inspector(), SamplePanel()
    for v, size in ((pipeline, (1000, 600)), (inspector, (420, 600)), (samples, (420, 300))):
        qtbot.addWidget(v)
        v.resize(*size)
        v.set_network(session.network)
        v.show()
    return pipeline, inspector, samples


def step_all(session, views, n):
    """Step n phases, feeding every view the iteration's records so far (the update record included)."""
    recs = list(session.records)
    for _ in range(n):
        rec = session.step()
        recs = recs + [rec] if rec.index > 0 else [rec]
        for v in views:
            v.show_state(recs, next_of(session, rec))
        yield rec, recs


def test_pipeline_shows_the_records_arrays_and_follows_the_phase(session, views):
    pipeline = views[0]
    L = len(session.network.layers)
    for rec, recs in step_all(session, views, session.n_phases):
        if rec.phase == "forward":
            assert pipeline.executed_column == rec.layer + 1
            imgs = pipeline.images_of_layer(rec.layer)
            y = rec.y[0]
            for c, img in enumerate(imgs):
                expected = y[c] if y.ndim == 3 else y.reshape(-1, 1)
                np.testing.assert_array_equal(img.image, expected)
            assert tuple(imgs[0].levels) == style.activation_levels(y)
        elif rec.phase == "backward":
            assert pipeline.executed_column == rec.layer + 1
            imgs = pipeline.images_of_layer(rec.layer)
            g = rec.dout[0]
            np.testing.assert_array_equal(imgs[0].image, g[0] if g.ndim == 3 else g.reshape(-1, 1))
            lo, hi = imgs[0].levels
            assert lo == -hi and hi == pytest.approx(float(np.abs(g).max()))
        elif rec.phase == "loss":
            assert pipeline.executed_column == L + 1
            bars = pipeline.columns[-1].bars
            widths = np.array([b.rect().width() for b in bars])
            area = pipeline.columns[-1].bar_area.width()
            np.testing.assert_allclose(widths, np.maximum(rec.probs[0] * area, 1.0), rtol=1e-6)
        # the next column is marked: forward → its layer, backward ← its layer
        phase, layer = next_of(session, rec)
        if phase in ("forward", "backward") and rec.phase != "update":
            assert pipeline.next_column == layer + 1
            assert pipeline.columns[layer + 1].mark_item.text().strip() == ("→ next" if phase == "forward"
                                                                            else "← next")


def test_step_back_shows_the_previous_arrays(session, views):
    pipeline = views[0]
    list(step_all(session, views, 3))
    before = [img.image.copy() for img in pipeline.images_of_layer(1)]
    list(step_all(session, views, 1))
    session.step_back()
    for v in views:
        v.show_state(session.records, (session.phase, session.layer))
    assert pipeline.executed_column == 3
    assert pipeline.images_of_layer(3)[0].image is None or pipeline.columns[4].shown[1] == "none"
    for a, b in zip(before, pipeline.images_of_layer(1)):
        np.testing.assert_array_equal(a, b.image)
    session.step_back()
    session.step_back()
    for v in views:
        v.show_state(session.records, (session.phase, session.layer))
    assert pipeline.executed_column == 1
    assert pipeline.columns[2].shown[1] == "none"        # layer 1 not computed any more


def test_samples_bars_equal_the_probabilities(session, views):
    samples = views[2]
    assert "loss: —" in samples.loss_label.text()
    for rec, recs in step_all(session, views, session.n_phases):
        if rec.phase == "forward":
            assert "loss: —" in samples.loss_label.text()
            np.testing.assert_array_equal(samples.image_items[0].image, rec.batch_x[0].mean(axis=0))
        if rec.phase == "loss":
            np.testing.assert_allclose(samples.bars.opts["height"], rec.probs[0])
            assert f"{rec.loss:.4f}" in samples.loss_label.text()
            truth = int(rec.batch_y[0])
            assert samples.bars.opts["brushes"][truth].color() == style.TRUE_CLASS
    for v in views:                                       # a new iteration starts empty
        v.show_state([], ("forward", 0))
    assert samples.probs is None and "loss: —" in samples.loss_label.text()


def test_batch_of_several_images(qtbot):
    s = vc.Session.from_preset("digits-small", batch_size=4)
    samples = SamplePanel()
    qtbot.addWidget(samples)
    samples.set_network(s.network)
    samples.set_class_names(s.dataset.class_names)
    recs = [s.step() for _ in range(len(s.network.layers) + 1)]
    samples.show_state(recs, (s.phase, s.layer))
    assert len(samples.image_items) == 4
    samples.selected = 2
    samples.show_state(recs, (s.phase, s.layer))
    np.testing.assert_allclose(samples.bars.opts["height"], recs[-1].probs[2])


def test_click_a_column_emits_layer_clicked(qtbot, session, views):
    pipeline = views[0]
    col = pipeline.columns[pipeline.column_of_layer(2)]
    pos = pipeline.view.mapFromScene(col.rect.center())
    with qtbot.waitSignal(pipeline.layerClicked, timeout=1000) as blocker:
        qtbot.mouseClick(pipeline.view.viewport(), QtCore.Qt.MouseButton.LeftButton, pos=pos)
    assert blocker.args == [2]


def test_inspector_every_tab_every_layer_every_phase(qtbot):
    net = vc.Network.from_spec(ALL_TYPES)
    s = vc.Session(net, vc.SGD(net, lr=0.1, momentum=0.9), load_dataset("digits"), batch_size=2)
    ins = Inspector()
    qtbot.addWidget(ins)
    ins.resize(420, 600)
    ins.set_network(s.network)
    ins.show()
    L = len(net.layers)

    def visit_all(recs, nxt):
        ins.show_state(recs, nxt)
        for layer in range(L):
            ins.select_layer(layer)
            for t in range(ins.count()):
                ins.setCurrentIndex(t)

    visit_all([], ("forward", 0))
    recs = []
    for _ in range(s.n_phases):
        rec = s.step()
        recs.append(rec)
        visit_all(recs, (s.phase, s.layer))
    # messages for layers the tab does not apply to
    ins.select_layer(1)
    ins.setCurrentIndex(ins.TABS.index("Pooling"))
    assert "does no pooling" in ins.pooling.message.text()
    ins.setCurrentIndex(ins.TABS.index("Params"))
    assert "no parameters" in ins.parameters.message.text()


def test_inspector_shows_the_records(qtbot, session, views):
    ins = views[1]
    ins.select_layer(0)
    records = None
    for rec, recs in step_all(session, views, session.n_phases):
        records = recs
    # after the update: the parameters tab shows value, grad and velocity of the update record
    ins.setCurrentIndex(ins.TABS.index("Params"))
    upd = records[-1].updates[0]["W"]
    panel = ins.parameters.panel
    assert panel.data[0].shape == (3 * 4 - 1, 3 * 4 - 1)         # 8 one-channel 3×3 filters on a 3×3 grid
    np.testing.assert_array_equal(panel.data[0][0:3, 4:7], np.asarray(upd.value)[1, 0])
    np.testing.assert_array_equal(panel.data[2][4:7, 0:3], np.asarray(upd.velocity)[3, 0])
    assert np.isnan(panel.data[0][3]).all()
    assert f"{upd.ratio:.2e}" in ins.parameters.ratio.text()
    # gradient tab: dout and dx on one symmetric scale
    ins.setCurrentIndex(ins.TABS.index("Gradient"))
    bwd = next(r for r in records if r.phase == "backward" and r.layer == 0)
    gp = ins.gradient.panel
    np.testing.assert_array_equal(gp.data[0], bwd.dout[0, 0])
    np.testing.assert_array_equal(gp.data[1], bwd.dx[0, 0])
    lo, hi = gp.plots[0].image.levels
    assert (lo, hi) == tuple(gp.plots[1].image.levels) and lo == -hi
    # pooling tab on the max-pool layer: winners drawn where the routing says
    ins.select_layer(2)
    ins.setCurrentIndex(ins.TABS.index("Pooling"))
    bwd2 = next(r for r in records if r.phase == "backward" and r.layer == 2)
    xs, ys = ins.pooling.winners.getData()
    mask = np.zeros((8, 8))
    mask[(ys - 0.5).astype(int), (xs - 0.5).astype(int)] = 1
    np.testing.assert_array_equal(mask, bwd2.mask[0, 0])


def test_numbers_tab_click_selects_a_unit(qtbot, session, views):
    ins = views[1]
    ins.select_layer(4)
    ins.setCurrentIndex(ins.TABS.index("Numbers"))
    list(step_all(session, views, len(session.network.layers) + 1))     # through the loss phase
    with qtbot.waitSignal(ins.unitSelected, timeout=1000) as blocker:
        ins.select_unit((3,), phase="forward")
    assert blocker.args == [4, (3,)]
    fwd = session.records[4]
    e = ins.numbers.explanation
    assert e.value == float(fwd.y[0, 3])
    assert "x_j = Σ_i W_ji" in ins.numbers.text.toPlainText()
    ins.numbers.phase.setCurrentText("loss")
    ins.numbers._phase_chosen()
    loss = session.records[5]
    assert ins.numbers.explanation.value == float(loss.dx[0, 3])


def test_lp_slider_previews_with_the_layer_class(qtbot):
    spec = {"input_shape": [1, 8, 8], "layers": [
        {"type": "lppool2d", "kernel_size": 2, "p": 2}, {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    net = vc.Network.from_spec(spec)
    s = vc.Session(net, vc.SGD(net, lr=0.1), load_dataset("digits"), batch_size=1)
    ins = Inspector()
    qtbot.addWidget(ins)
    ins.set_network(net)
    ins.select_layer(0)
    ins.setCurrentIndex(ins.TABS.index("Pooling"))
    rec = s.step()
    ins.show_state([rec], (s.phase, s.layer))
    assert ins.pooling.p_label.isVisibleTo(ins.pooling)
    ins.pooling.slider.setValue(ins.pooling.slider.maximum())           # p = 16, towards max
    y16 = ins.pooling.panel.data[2]
    win = np.abs(rec.x[0, 0]).reshape(4, 2, 4, 2).max(axis=(1, 3))
    assert np.all(y16 <= win + 1e-9) and np.all(y16 >= 0.8 * win - 1e-9)
    ins.pooling.slider.setValue(0)                                      # p = 1, the mean of |x|
    np.testing.assert_allclose(ins.pooling.panel.data[2],
                               np.abs(rec.x[0, 0]).reshape(4, 2, 4, 2).mean(axis=(1, 3)), rtol=1e-6)
    assert net.layers[0].options["p"] == 2


def test_per_step_update_fits_in_a_frame(qtbot, session, views):
    """Feeding all three views one step stays well under a 16 ms frame on the default preset."""
    for v in views:
        v.show_state([], ("forward", 0))
    times = []
    recs = []
    for _ in range(session.n_phases * 2):
        rec = session.step()
        recs = recs + [rec] if rec.index > 0 else [rec]
        t0 = time.perf_counter()
        for v in views:
            v.show_state(recs, (session.phase, session.layer))
        times.append(time.perf_counter() - t0)
    median = sorted(times)[len(times) // 2]
    assert median < 0.016, f"median per-step update {median * 1000:.1f} ms"


def test_screenshots(qtbot, session, views, tmp_path):
    """Grab each view at a few phases (kept under /tmp for a human to look at)."""
    pipeline, inspector, samples = views
    shots = {3: "forward", 6: "loss", 9: "backward"}
    for k, (rec, recs) in enumerate(step_all(session, views, 10), start=1):
        if k in shots:
            for name, v in (("pipeline", pipeline), ("inspector", inspector), ("samples", samples)):
                img = v.grab()
                assert not img.isNull() and img.width() > 100
                img.save(str(tmp_path / f"views_{name}_{shots[k]}.png"))
