"""Readable at 1280×800, 1440×900, 1920×1080 and in presentation mode (issue 10 §3), measured in the default
layout as ui/render.py builds it (the same window the snapshots draw)."""

from __future__ import annotations

import contextlib

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence

from tests.ui import legibility as L
from ui import language, style
from ui.render import offscreen_window
from ui.textsize import text_size
from ui.views.samples import SamplePanel
from visualcnn.session import Session

SIZES = [(1280, 800), (1440, 900), (1920, 1080)]


def stepped(window, phases: int) -> None:
    for _ in range(phases):
        window.controller.step()
    window.controller.refresh()


@contextlib.contextmanager
def stepped_window(preset: str, phases: int, size):
    """The default window on `preset` at `size` (or "presentation": 1440×900 in presentation mode), `phases`
    phases stepped."""
    presentation = size == "presentation"
    with offscreen_window(Session.from_preset(preset), (1440, 900) if presentation else size,
                          presentation=presentation) as window:
        stepped(window, phases)
        yield window


NAMED = list(zip(SIZES + ["presentation"], ["1280", "1440", "1920", "presentation"]))
#: tinyvgg (3×64×64, 12 layers, a 20,292-weight dense layer) at the two small sizes too: its metrics row and its
#: stack's numbers were cut at 1280×800
CASES = [pytest.param(p, n, s, id=f"{p}-{name}") for p, n in (("digits-small", 9), ("lenet5", 20))
         for s, name in NAMED] + [pytest.param("tinyvgg", 14, s, id=f"tinyvgg-{name}") for s, name in NAMED[:2]]


@pytest.mark.parametrize("preset, phases, size", CASES)
def test_no_text_is_cut_and_pipeline_captions_never_overlap(qtbot, size, preset, phases):
    with stepped_window(preset, phases, size) as window:
        qtbot.wait(10)
        assert L.cut_labels(window) == []
        assert L.cut_controls(window) == []
        assert L.hidden_tabs(window) == []
        assert L.cut_plots(window.metrics) == []
        assert L.cut_columns(window.editor.tree) == []
        pipeline = window.pipeline
        assert L.overlapping_captions(pipeline) == []
        assert L.captions_outside_columns(pipeline) == []
        assert L.unreachable_columns(pipeline) == []


@pytest.fixture
def japanese():
    """Windows built inside are in Japanese (as after View ▸ Language ▸ 日本語); English again afterwards."""
    with language.language_kept():
        assert language.apply_language("ja") == "ja"
        yield
    language.apply_language("en")


@pytest.mark.parametrize("preset, phases, size", [("tinyvgg", 14, (1280, 800)), ("tinyvgg", 19, "presentation")],
                         ids=["tinyvgg-1280", "tinyvgg-presentation"])
def test_nothing_is_cut_in_japanese_either(qtbot, japanese, preset, phases, size):
    with stepped_window(preset, phases, size) as window:
        qtbot.wait(10)
        assert L.cut_labels(window) == []
        assert L.cut_plots(window.metrics) == []
        assert L.cut_columns(window.editor.tree) == []
        assert L.overlapping_captions(window.pipeline) == [] and L.captions_outside_columns(window.pipeline) == []
        # the inspector at the narrowest its dock may make it: its picker row ("サンプル", "入力 ch", "出力 ch")
        # still whole on every tab (a hand-set minimum used to let the dock squeeze it)
        insp = window.inspector
        window.controller.select_layer(0)      # a conv layer: the params tab says how W is laid out
        window.resizeDocks([window.docks["inspector"]], [1], Qt.Orientation.Horizontal)
        for tab in (insp.activations, insp.gradient, insp.pooling, insp.parameters):
            insp.setCurrentWidget(tab)
            qtbot.wait(10)
            assert L.cut_labels(insp) == [], type(tab).__name__


@pytest.mark.parametrize("size", [(1280, 800), "presentation"], ids=["1280", "presentation"])
def test_the_samples_panel_fits_long_class_names(qtbot, size):
    """colour-shapes' twelve class names ("red square → blue square ✗" over each image) pushed the images and
    the bar chart past the Samples dock's edge and left the images no height."""
    with stepped_window("tinyvgg", 25, size) as window:   # past the loss: every image has "true → predicted"
        window.docks["samples"].raise_()
        qtbot.wait(10)
        panel = window.docks["samples"].findChild(SamplePanel)
        assert len(panel.image_plots) == 8
        assert L.cut_samples(panel) == []


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_the_mistakes_list_shows_each_mistake_whole(qtbot, size):
    """"softmax-diagonal — Softmax + cross-entropy: …" was cut after a dozen letters at 1280×800: rows wrap."""
    with stepped_window("digits-small", 1, size) as window:
        window.docks["mistakes"].raise_()
        qtbot.wait(10)
        lst = window.mathlab.mistakes_panel.list
        assert lst.isVisibleTo(window) and lst.count() >= 5
        assert L.cut_list_rows(lst) == []


def test_pooling_winners_leave_a_64_px_map_readable(qtbot):
    """On tinyvgg's 60×60 pooling input at 1280×800 the winners' 10-px squares covered the whole map in orange:
    a winner is one cell now, so well under half the map is the winners' colour."""
    with stepped_window("tinyvgg", 21, (1280, 800)) as window:     # backward through layer 4 maxpool2d
        window.controller.select_layer(4)
        insp = window.inspector
        insp.setCurrentWidget(insp.pooling)
        qtbot.wait(10)
        sp = insp.pooling.panel.plots[0]
        assert len(insp.pooling.winners.getData()[0]) == 30 * 30
        glw = insp.pooling.panel.glw
        rect = glw.mapFromScene(sp.image.mapRectToScene(sp.image.boundingRect())).boundingRect()
        pixels = glw.grab(rect).toImage()
        hue = style.HIGHLIGHT
        orange = sum(1 for y in range(pixels.height()) for x in range(pixels.width())
                     if abs(pixels.pixelColor(x, y).red() - hue.red()) + abs(pixels.pixelColor(x, y).green() - hue.green())
                     + abs(pixels.pixelColor(x, y).blue() - hue.blue()) < 60)
        assert rect.width() >= 100 and orange < 0.5 * pixels.width() * pixels.height(), (rect, orange)


@pytest.mark.parametrize("size", [(1440, 900), (1920, 1080)], ids=["1440", "1920"])
def test_inspector_maps_are_at_least_120_px(qtbot, size):
    with offscreen_window(Session.from_preset("digits-small"), size) as window:
        stepped(window, 12)                      # a whole iteration: every tab has something to show
        insp = window.inspector
        for layer, tab in ((0, insp.activations), (0, insp.gradient), (2, insp.pooling), (0, insp.parameters),
                           (4, insp.parameters)):
            window.controller.select_layer(layer)
            insp.setCurrentWidget(tab)
            qtbot.wait(10)
            sizes = L.map_sizes(tab.panel)
            assert sizes and min(sizes) >= 120, (type(tab).__name__, layer, sizes)


def test_presentation_mode_scales_the_pipeline_text_and_ctrl_plus_too(qtbot):
    with offscreen_window(Session.from_preset("digits-small"), (1440, 900)) as window:
        title = window.pipeline.columns[1].title_item
        base_pt, base_app = title.font().pointSizeF(), text_size()
        assert QKeySequence("Ctrl+=") in window.actions["zoom_in"].shortcuts()
        assert window.actions["presentation"].shortcut() == QKeySequence("F12")
        window.actions["zoom_in"].trigger()
        qtbot.wait(20)                           # the font change reaches the views as an event
        assert text_size() == base_app + 1 and title.font().pointSizeF() > base_pt
        window.actions["zoom_out"].trigger()
        qtbot.wait(20)
        assert text_size() == base_app and title.font().pointSizeF() == base_pt
        window.actions["presentation"].trigger()
        qtbot.wait(20)
        assert window.presenting and text_size() >= 16
        assert title.font().pointSizeF() >= base_pt * 16 / base_app - 0.5
        window.set_presentation(False, full_screen=False)
        qtbot.wait(20)
        assert text_size() == base_app and title.font().pointSizeF() == base_pt


def test_every_channel_can_be_paged_into_view(qtbot):
    session = Session.from_preset("digits-small")
    spec = session.network.to_spec()
    spec["layers"][0]["out_channels"] = 64
    session.rebuild(spec=spec)
    with offscreen_window(session, (1280, 800)) as window:
        stepped(window, 1)
        pipeline = window.pipeline
        col = pipeline.columns[1]
        assert col.box.per_page < 64                      # not all fit: the caption says which are shown
        seen = set()
        for _ in range(64):
            start, end = col.page_range
            seen.update(range(start, end))
            assert f"{start + 1}–{end} of 64" in col.size_item.text()
            assert [img.image is not None for img in pipeline.images_of_layer(0)] == [True] * (end - start)
            pipeline.next_page(1)
            if col.page_range[0] == 0:
                break
        assert seen == set(range(64))


def test_the_inspected_column_is_marked(qtbot):
    with offscreen_window(Session.from_preset("digits-small"), (1440, 900)) as window:
        window.controller.select_layer(2)
        marked = [c for c in window.pipeline.columns if c.inspect_bar.isVisible()]
        assert [c.layer for c in marked] == [2]
