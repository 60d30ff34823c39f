"""The panels in Japanese, each on a real session at a phase where it shows content: nothing the user can read
(labels, buttons, tooltips, tabs, table rows and headers, plot titles, axis labels, legends) is left in English.

The window is built after the language is switched (as View ▸ Language does: it rebuilds the window), with a
CJK font assumed present. What stays the same in every language (layer types, mistake names, data set names,
ReLU, SGD, float64, …) is let through by tests/ui/i18n_helpers.py.
"""

from __future__ import annotations

import re

import pytest
from PyQt6.QtCore import QSettings

from ui import language
from visualcnn import i18n
from visualcnn.session import Session

from .i18n_helpers import english_words, untranslated

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
TIMEOUT = 120_000


@pytest.fixture
def ja_window(qtbot, tmp_path, monkeypatch):
    """A window on digits-small (conv2d, relu, maxpool2d, flatten, dense) built in Japanese."""
    from ui.main_window import MainWindow
    monkeypatch.setattr(language, "has_cjk_font", lambda: True)
    assert language.apply_language("ja") == "ja"
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    settings.setValue(language.SETTING, "ja")
    w = MainWindow(Session.from_preset("digits-small"), settings)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    qtbot.waitExposed(w)
    assert i18n.current_language() == "ja"
    yield w
    w.mathlab.shutdown()
    w.controller.shutdown()


def step_to(w, phase: str, layer: int | None) -> None:
    """Step (F10) until the phase just run is (phase, layer); the views show it."""
    s = w.controller.session
    for _k in range(2 * s.n_phases):
        target = (s.phase, s.layer) == (phase, layer)
        assert w.controller.step()
        if target:
            break
    else:
        raise AssertionError(f"never reached {phase} {layer}")
    w.controller.select_layer(layer if layer is not None else 0)
    w.controller.refresh(force=True)


def english_left(panel) -> str:
    """What `panel` still shows in English, one line each ('' when nothing)."""
    return "\n".join(f"{where}: {text!r}" for where, text in untranslated(panel))


# the three states of the issue: forward at a conv layer, backward at pooling, the update phase
# (the phase to step to, its layer, and the layer shown: the update shows the dense layer's parameters)
STATES = {"forward at the conv": ("forward", 0, 0), "backward at the pooling": ("backward", 2, 2),
          "the update": ("update", None, 4)}


def at_state(w, state: str) -> str:
    """Step `w` to `state` and select the layer it shows; returns the phase."""
    phase, layer, shown = STATES[state]
    step_to(w, phase, layer)
    w.controller.select_layer(shown)
    return phase


@pytest.mark.parametrize("state", list(STATES))
def test_inspector_tabs_in_japanese(qtbot, ja_window, state):
    w = ja_window
    at_state(w, state)
    ins = w.inspector
    assert [ins.tabText(k) for k in range(ins.count())] == ["活性", "勾配", "プーリング", "パラメータ", "数値"]
    for k in range(ins.count()):
        ins.setCurrentIndex(k)
        qtbot.wait(1)
        assert not english_left(ins), f"{ins.tabText(k)}:\n{english_left(ins)}"
    if state == "backward at the pooling":          # the pooling tab draws the winners and the routed gradient
        ins.setCurrentWidget(ins.pooling)
        titles = [p.plot.titleLabel.text for p in ins.pooling.panel.plots]
        assert all(CJK.search(t) for t in titles), titles
    if state == "the update":                        # the parameters tab of the dense layer: its update ratio
        ins.setCurrentWidget(ins.parameters)
        assert "更新率" in ins.parameters.ratio.text()


@pytest.mark.parametrize("state", list(STATES))
def test_side_panels_in_japanese(qtbot, ja_window, state):
    """The stack editor (its rows, form and Add layer menu), samples, data set browser, drawing pad."""
    w = ja_window
    phase = at_state(w, state)
    w.docks["samples"].raise_()                       # a panel behind another dock tab may wait to be seen
    qtbot.wait(10)
    w.controller.refresh(force=True)
    for panel in (w.editor, w.samples, w.browser, w.pad, w.pad_labels):
        assert not english_left(panel), english_left(panel)
    assert CJK.search(w.editor.layer_box.title())
    if phase != "forward":
        assert "損失 C =" in w.samples.loss_label.text()


def test_the_stack_editor_form_of_every_layer_type_in_japanese(qtbot, ja_window):
    """Every built-in type's options: their names, choices and help."""
    from visualcnn.layers import LAYER_TYPES
    editor = ja_window.editor
    editor.select_layer(0)
    for kind in LAYER_TYPES:
        editor.set_type(0, kind)
        assert not english_left(editor), f"{kind}:\n{english_left(editor)}"
    editor.set_type(0, "lppool2d")
    norm = editor._form_widgets["norm"]
    assert [norm.itemText(k) for k in range(norm.count())] == ["平均（mean）", "総和（sum）"]
    norm.setCurrentIndex(1)                           # the spec stores the value, not the word
    assert editor.spec()["layers"][0]["norm"] == "sum"


def test_gradient_check_and_mistake_in_japanese(qtbot, ja_window):
    """A mistake switched on: the red strip, the mistakes dock, a failing gradient check and the comparison."""
    w = ja_window
    lab = w.mathlab
    assert lab.set_mistakes(["softmax-diagonal"])
    strip = w.mistake_strip.text()
    assert strip and CJK.search(strip) and english_words(strip) == []
    with qtbot.waitSignal(lab.check_view.checkFinished, timeout=TIMEOUT) as blocker:
        assert lab.run_check(whole=True)
    report = blocker.args[0]
    assert report is not None and not report.passed
    view = lab.check_view
    assert "不合格" in view.summary.text()
    view.select(4, "input")                           # a row with a picker-less map and its entry line
    assert not english_left(lab.docks["gradcheck"]), english_left(lab.docks["gradcheck"])
    view.select(0, "input")                           # sample and channel pickers
    assert [lab.text() for lab, spin in view.pickers if not lab.isHidden()] == ["サンプル", "チャネル"]
    assert not english_left(lab.docks["gradcheck"]), english_left(lab.docks["gradcheck"])
    lab.compare.iterations.setValue(3)
    lab.compare.batch.setValue(4)
    with qtbot.waitSignal(lab.compare.finished, timeout=TIMEOUT):
        assert lab.compare_with_correct()
    assert "反復後" in lab.compare.note.text()
    plot = lab.compare.plot.getPlotItem()            # what the curves are: a title, not a rotated axis label that
    assert "損失" in plot.titleLabel.text and not plot.getAxis("left").label.isVisible()   # ran over the ticks
    assert not english_left(lab.docks["mistakes"]), english_left(lab.docks["mistakes"])
    menus = [lab.mistakes_menu, lab.layer_menu]
    assert all(not english_left(m) for m in menus), [english_left(m) for m in menus]


def test_errors_panel_in_japanese(qtbot, ja_window):
    from ui.views.layer_errors import LayerError
    lab = ja_window.mathlab
    lab.errors.add_error(LayerError(source="breakpoint", message="NaN", phase="backward", layer=2,
                                    severity="warning"))
    assert not english_left(lab.docks["errors"]), english_left(lab.docks["errors"])
    assert lab.errors.list.topLevelItem(0).text(1) == "ブレークポイント"
    assert lab.errors.list.topLevelItem(0).text(2) == "逆伝播 · 層 2"


@pytest.mark.parametrize("size", [(1440, 900), (1280, 800)])
def test_japanese_texts_fit_their_docks(qtbot, ja_window, size):
    """Wider Japanese words must not push a panel past its dock: the gradient check's rows and the stack's
    columns fit without scrolling sideways (regression: the check buttons and 'entries per tensor' shared a row
    wider than the bottom dock; the 'params' column header widened the stack past its dock)."""
    w = ja_window
    w.resize(*size)
    lab = w.mathlab
    lab.docks["gradcheck"].raise_()
    qtbot.wait(10)
    lab._update_layer_button()
    viewport = lab.docks["gradcheck"].widget().viewport()
    assert lab.check_view.minimumSizeHint().width() <= viewport.width()
    table = lab.check_view.table                      # layer types whole ("conv2d", not "conv…")
    assert table.columnWidth(1) >= table.fontMetrics().horizontalAdvance("maxpool2d")
    tree = w.editor.tree
    assert tree.header().length() <= tree.viewport().width()
    dock = lab.docks["mistakes"]
    dock.raise_()
    qtbot.wait(10)
    assert dock.widget().widget().minimumSizeHint().width() <= dock.widget().viewport().width()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_narrow_numbers_tab_names_the_symbols_in_either_language(lang):
    """Too narrow for both titles, the Numbers tab keeps only the symbols: the verb the core puts before them
    ("reads", 読む) is found through the catalogue, not by its English spelling."""
    from ui.views.numbers import symbol_of
    from visualcnn.i18n import _
    i18n.set_language(lang)
    reads = _("reads {symbol}").format(symbol="∂C/∂y") + ", " + _("ch {channel}").format(channel=5)
    computes = _("computes {symbol}").format(symbol="x")
    assert symbol_of(reads) == "∂C/∂y, " + _("ch {channel}").format(channel=5)
    assert symbol_of(computes) == "x"
    assert symbol_of("—") == "—"


def test_class_names_of_a_bundled_set_in_japanese(qtbot, ja_window):
    """The shapes set's classes (circle, square, …) in the samples' titles, the browser and the pad's labels."""
    from visualcnn.data import class_label
    w = ja_window
    assert w.load_dataset({"name_or_path": "shapes", "size": 8}, "shapes 8×8")
    s = w.controller.session
    assert s.dataset.name == "shapes"
    step_to(w, "loss", None)
    names = [class_label(n) for n in s.dataset.class_names]
    assert all(CJK.search(n) for n in names), names
    for panel in (w.samples, w.browser, w.pad_labels):
        assert not english_left(panel), english_left(panel)
    assert [w.pad_labels.combo.itemText(k) for k in range(1, w.pad_labels.combo.count())] == names
    ticks = w.samples.bars_plot.getAxis("bottom")._tickLevels[0]
    assert [t for _v, t in ticks][:len(names)] == names        # (the network still has 10 outputs)


@pytest.mark.parametrize("size", [(1280, 800), (1440, 900), "presentation"], ids=["1280", "1440", "presentation"])
def test_no_japanese_text_is_cut_in_the_panels(qtbot, monkeypatch, size):
    """The legibility checks (text wider or taller than its label, controls narrower than their text, tabs out
    of sight) on every panel of this area, in Japanese, as the snapshots draw the window."""
    from tests.ui import legibility as L
    from ui.render import offscreen_window
    monkeypatch.setattr(language, "has_cjk_font", lambda: True)
    assert language.apply_language("ja") == "ja"
    presentation = size == "presentation"
    with language.language_kept(), offscreen_window(Session.from_preset("digits-small"),
                                                    (1440, 900) if presentation else size,
                                                    presentation=presentation) as w:
        step_to(w, "backward", 2)
        lab = w.mathlab
        assert lab.set_mistakes(["conv-no-flip"])       # the red strip's longest sentence: a layer's mistake
        assert w.mistake_strip.isVisible()
        docks = [w.docks[k] for k in ("stack", "inspector", "samples", "dataset", "draw")] + list(lab.docks.values())
        for dock in [d for d in docks if not d.isHidden()]:
            dock.raise_()
            qtbot.wait(5)
            tabs = range(w.inspector.count()) if dock is w.docks["inspector"] else [None]
            for k in tabs:
                if k is not None:
                    w.inspector.setCurrentIndex(k)
                    qtbot.wait(5)
                bad = L.cut_labels(dock) + L.cut_controls(dock) + L.hidden_tabs(dock)
                assert bad == [], (dock.windowTitle(), k, bad)
        assert L.cut_labels(w.mistake_strip) == []
