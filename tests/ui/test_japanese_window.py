"""The whole window in Japanese, and View ▸ Language switching it live without losing anything.

Each area of the window is its own case, so a failure names the area left in English. The live switch
builds the window's widgets again around the same session (ui/rebuild.py): the tests check what must
survive it — the session and its phase, the inspected layer, the stack's undo history, the layout, a run's
results, a lesson in progress — and that nothing of the old widgets stays behind.
"""

from __future__ import annotations

import gc
import json

import pytest
from PyQt6 import QtWidgets
from PyQt6.QtCore import QSettings

from tests.ui.helpers import open_window
from ui import language
from visualcnn import i18n
from visualcnn.session import Session

from .i18n_helpers import action_texts, english_words, untranslated


@pytest.fixture
def has_font(monkeypatch):
    monkeypatch.setattr(language, "has_cjk_font", lambda: True)


def _ja_window(qtbot, tmp_path, steps=6):
    s = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    s.setValue(language.SETTING, "ja")
    s.sync()
    w = open_window(qtbot, tmp_path)
    assert i18n.current_language() == "ja"
    for _k in range(steps):            # something in every view and in the status bar
        assert w.controller.step()
    w.controller.refresh(force=True)
    return w


@pytest.fixture
def ja_window(qtbot, tmp_path, has_font):
    w = _ja_window(qtbot, tmp_path)
    yield w
    w.controller.shutdown()


def _english(pairs):
    return [(where, text) for where, text in pairs if english_words(text)]


# -- every area of the window, in Japanese -------------------------------------------------------------
MY_MENUS = ("file", "edit", "view", "debug", "data")


@pytest.mark.parametrize("key", MY_MENUS)
def test_menus_and_their_actions_are_japanese(ja_window, key):
    menu = ja_window.menus[key]
    assert untranslated(menu) == []
    assert menu.title() and not english_words(menu.title())


def test_every_top_level_menu_title_is_japanese(ja_window):
    assert _english(("menu", a.text()) for a in ja_window.menuBar().actions()) == []


def test_toolbar_and_its_buttons_are_japanese(ja_window):
    w = ja_window
    assert untranslated(w.toolbar) == []
    assert _english(action_texts(w.toolbar.actions())) == []
    assert not english_words(w.toolbar.windowTitle())


def test_every_dock_title_tab_and_panel_toggle_is_japanese(ja_window):
    w = ja_window
    titles = [(key, d.windowTitle()) for key, d in w.docks.items()]
    toggles = [(key, t) for key, d in w.docks.items() for _w, t in action_texts([d.toggleViewAction()])]
    tabs = [("tab", b.tabText(i)) for b in w.findChildren(QtWidgets.QTabBar) if b.parent() is w
            for i in range(b.count())]
    assert _english(titles) == [] and _english(toggles) == [] and _english(tabs) == []
    assert len(titles) >= 12                   # the window's docks and every extension's


@pytest.mark.parametrize("panel", ["hyper_panel", "breakpoints_panel", "model_report"])
def test_the_window_s_own_panels_are_japanese(ja_window, panel):
    assert untranslated(getattr(ja_window, panel)) == []


def test_the_status_bar_frame_is_japanese(ja_window):
    w = ja_window
    assert not english_words(w.progress_label.text()) and "フェーズ" in w.progress_label.text()
    assert _english([("tip", w.progress_label.toolTip()), ("tip", w.dataset_label.toolTip())]) == []
    where = w.location_label.toolTip() or w.location_label.text()
    assert where.startswith("反復 0 · ") and " — 次: " in where


def test_the_whole_status_bar_is_japanese(ja_window):
    # the core's own sentences (what the next phase does, the data set) are translated in visualcnn/
    assert untranslated(ja_window.statusBar()) == []


def test_the_dense_layer_s_gradient_shape_reads_as_a_derivative(qtbot, tmp_path):
    # it read "dC/d10 → dC/d128": a derivative with respect to 10
    w = open_window(qtbot, tmp_path)
    c = w.controller
    for _k in range(len(c.session.network.layers) + 1):       # forward and the loss: next is dense's backward
        c.step()
    text = w.location_label.toolTip() or w.location_label.text()
    assert "∂C/∂x: 128" in text and "∂C/∂y: 10" in text and "dC/d" not in text
    c.shutdown()


# the panels of the other modules, each its own case (they are translated where they are built)
OTHER_DOCKS = ("stack", "inspector", "samples", "metrics", "dataset", "draw", "lessons", "gradcheck",
               "mistakes", "errors")


@pytest.mark.parametrize("key", OTHER_DOCKS)
def test_every_dock_panel_is_japanese(ja_window, key):
    assert untranslated(ja_window.docks[key]) == []


def test_the_pipeline_and_the_strips_are_japanese(ja_window):
    assert untranslated(ja_window.centralWidget()) == []


def test_the_loss_column_names_a_bundled_set_s_classes_in_japanese(qtbot, tmp_path, has_font):
    # colour-shapes' classes are words ('red circle'): the loss column showed them in English
    s = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    s.setValue(language.SETTING, "ja")
    s.sync()
    w = open_window(qtbot, tmp_path, Session.from_preset("tinyvgg"))
    names = w.pipeline.class_names
    assert names is not None and "赤の円" in names and not any(english_words(n) for n in names)
    w.controller.shutdown()


def test_the_other_menus_are_japanese(ja_window):
    others = [m.menu() for m in ja_window.menuBar().actions()
              if m.menu() is not None and m.menu() not in ja_window.menus.values()]
    assert others and [(m.title(), untranslated(m)) for m in others if untranslated(m)] == []


@pytest.mark.parametrize("key", ["controls", "breakpoints"])
def test_the_training_and_breakpoint_panels_fit_a_projector_in_japanese(qtbot, tmp_path, has_font, key):
    # the Japanese labels are wider: the spin boxes beside them pushed the Breakpoints form past its dock at
    # 1280×800, so it scrolled sideways
    s = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    s.setValue(language.SETTING, "ja")
    w = open_window(qtbot, tmp_path, size=(1280, 800))
    w.docks[key].raise_()
    qtbot.wait(20)
    scroll = w.docks[key].widget()
    assert scroll.isVisible() and not scroll.horizontalScrollBar().isVisible()
    w.controller.shutdown()


# -- the message boxes and messages the window's code shows ---------------------------------------------
class Boxes:
    """Every QMessageBox the code opens: (title, text, informative text, button texts)."""

    def __init__(self, monkeypatch):
        self.shown: list[tuple[str, ...]] = []
        M = QtWidgets.QMessageBox

        def exec_(box):
            self.shown.append((box.windowTitle(), box.text(), box.informativeText(),
                               *[b.text() for b in box.buttons()]))
            return M.StandardButton.Cancel

        def static(answer):
            def show(_parent, title, text, *_a, **_k):
                self.shown.append((title, text))
                return answer
            return show
        monkeypatch.setattr(M, "exec", exec_)
        monkeypatch.setattr(M, "critical", static(M.StandardButton.Ok))
        monkeypatch.setattr(M, "question", static(M.StandardButton.Cancel))

    def english(self):
        return [(box, words) for box in self.shown for words in [english_words(" ".join(box))] if words]


@pytest.fixture
def boxes(monkeypatch):
    return Boxes(monkeypatch)


def test_message_boxes_are_japanese(ja_window, boxes, tmp_path):
    w = ja_window
    from ui.actions.download import download
    w.files.export_record(None)                          # nothing to export
    w.files.set_dirty(True)
    assert not w.files.maybe_close()                    # unsaved changes: the box, cancelled
    assert not download(w, "mnist")                      # the question before connecting, declined
    w.files.export_view(w.model_report, tmp_path / "x.svg")     # no SVG form: could not export
    assert len(boxes.shown) == 4, boxes.shown
    assert boxes.english() == []
    buttons = boxes.shown[1][3:]
    assert buttons and not any(english_words(b) for b in buttons)       # Qt's own buttons, from qtbase_ja


def test_refusals_and_banners_are_japanese(ja_window, tmp_path, qtbot):
    w = ja_window
    c = w.controller
    bad = tmp_path / "list.json"
    bad.write_text(json.dumps([1, 2]))
    assert not w.open_spec(str(bad))
    said = w.banner.text().replace(str(bad), "")
    assert "JSON" in said and not english_words(said.replace("input_shape", "").replace("layers", ""))
    c.worker.set_speed(1.0)
    assert c.run(n_iterations=1000)
    qtbot.waitUntil(lambda: c.running, timeout=5000)
    assert not c.step()                                  # refused while training: said in the status bar
    message = w.statusBar().currentMessage()
    assert message and not english_words(message)
    assert w.actions["run"].text() == "一時停止"
    c.stop()
    qtbot.waitUntil(lambda: not c.worker.is_active, timeout=10_000)


# -- View ▸ Language: the whole window switches, nothing is lost ---------------------------------------------
def _layout(w):
    """Where every dock is, whether it is hidden, floating or the shown tab of its group; the window's size."""
    area = w.dockWidgetArea
    return ({k: (area(d), d.isHidden(), d.isFloating(), not d.visibleRegion().isEmpty()) for k, d in w.docks.items()},
            {k: sorted(t.objectName() for t in w.tabifiedDockWidgets(d) if not t.isHidden())
             for k, d in w.docks.items() if not d.isHidden()},
            (w.width(), w.height()), w.toolbar.isVisible())


def _shown_sizes(w):
    return {k: (d.width(), d.height()) for k, d in w.docks.items() if not d.visibleRegion().isEmpty()}


def _close(a, b, tolerance=16):
    """Dock sizes within a few pixels: Japanese text makes tab bars and the status bar a little taller."""
    return a.keys() == b.keys() and all(abs(x - y) <= tolerance for k in a for x, y in zip(a[k], b[k]))


def _listeners(session):
    return {name: len(session.events.subscribers(name)) for name in session.events.names}


def test_switching_to_japanese_and_back_keeps_everything(qtbot, tmp_path, has_font):
    w = open_window(qtbot, tmp_path)
    c = w.controller
    session = c.session
    listeners = _listeners(session)
    editor = w.editor
    spec = editor.spec()
    edited = json.loads(json.dumps(spec))
    edited["layers"][0]["out_channels"] = 6
    assert editor.propose(edited, "six filters")           # an undoable edit, applied to the session
    assert session.network.layers[0].params["W"].shape[0] == 6
    for _k in range(4):
        assert c.step()
    c.select_layer(2)
    w.inspector.setCurrentIndex(w.inspector.count() - 1)
    panel = w.hyper_panel
    panel.iterations.setValue(7)
    panel.set_run_unit("iterations")
    panel.run_batch.setValue(8)
    w.docks["dataset"].raise_()
    w.docks["breakpoints"].hide()
    w.docks["model"].show()
    w.docks["model"].setFloating(True)
    from visualcnn.session import LayerFailure
    c._failed(LayerFailure("layer 1 spin: it failed", phase="forward", layer=1))     # listed in Errors
    errors = len(w.mathlab.errors.entries)
    assert errors >= 1
    qtbot.wait(20)                                              # the layout settled, as a user sees it
    before = (session.phase_index, session.iteration, len(session.records), _layout(w), w.files.is_dirty,
              panel.run_length(), panel.run_batch.value())
    sizes = _shown_sizes(w)

    for code, run_text in (("ja", "実行"), ("en", "Run")):
        w.language_menu.actions[code].trigger()
        qtbot.wait(10)
        c = w.controller
        assert c.session is session and w.files.session is session
        assert (session.phase_index, session.iteration, len(session.records)) == before[:3]
        assert _layout(w) == before[3], code
        assert _close(_shown_sizes(w), sizes), (code, _shown_sizes(w), sizes)
        assert w.files.is_dirty and w.isWindowModified()
        assert (w.hyper_panel.run_length(), w.hyper_panel.run_batch.value()) == before[5:]
        assert w.inspector.layer == 2 and w.editor.current_row() == 2
        assert w.inspector.currentIndex() == w.inspector.count() - 1
        assert w.actions["run"].text() == run_text
        assert w.editor.undo_stack.count() == 1 and w.actions["undo"].isEnabled()
        assert _listeners(session) == listeners                 # the old widgets listen no more
        assert len(w.findChildren(QtWidgets.QDockWidget)) == len(w.docks)
        assert w.language_menu.actions[code].isChecked()
        assert len(w.mathlab.errors.entries) == errors and w.docks["model"].isFloating()
        assert "layer 1 spin: it failed" in w.banner.text() and w.banner.isVisible()

    w.docks["breakpoints"].show()                               # a hidden dock comes back to its tab group
    assert w.docks["controls"] in w.tabifiedDockWidgets(w.docks["breakpoints"])
    w.actions["undo"].trigger()                                 # the history carried over still works
    assert w.editor.spec() == spec and session.network.layers[0].params["W"].shape[0] == 8
    assert not w.actions["undo"].isEnabled() and w.actions["redo"].isEnabled()
    c.shutdown()


def test_a_run_is_stopped_first_and_what_it_did_stays(qtbot, tmp_path, has_font):
    w = open_window(qtbot, tmp_path)
    c = w.controller
    session = c.session
    stepping_batch = session.batch_size
    c.worker.set_speed(1000.0)
    assert c.run(n_iterations=100_000)
    qtbot.waitUntil(lambda: session.iteration >= 3, timeout=10_000)
    w.language_menu.actions["ja"].trigger()
    c = w.controller
    assert not c.worker.is_active and c.session is session
    done = session.iteration
    assert done >= 3 and len(session.metrics) >= 3
    assert session.batch_size == stepping_batch              # stepping's own batch size is back
    assert w.actions["run"].text() == "実行"
    assert c.step()                                          # the new window steps the same session
    c.shutdown()


def test_presentation_mode_and_a_lesson_survive_the_switch(qtbot, tmp_path, has_font):
    w = open_window(qtbot, tmp_path)
    assert w.lessons.start("pooling", 1)
    player, session = w.lessons.player, w.controller.session
    w.set_presentation(True, full_screen=False)
    from ui.textsize import text_size
    size = text_size()
    w.language_menu.actions["ja"].trigger()
    assert w.presenting and w.actions["presentation"].isChecked() and text_size() == size
    assert w.lessons.player is player and w.controller.session is session and player.index == 1
    assert w.lessons.next_button.text() == "次へ ▶"
    w.set_presentation(False)
    assert not w.presenting and w.docks["stack"].isVisible()
    w.controller.shutdown()


def test_the_switch_waits_for_a_layer_that_is_still_running(qtbot, tmp_path, has_font):
    # a user layer's code owns the session until it returns: nothing may be rebuilt around it
    w = open_window(qtbot, tmp_path)
    c = w.controller

    class Pending:
        what = "layer 1 spin (forward)"
    c._pending = Pending()
    try:
        w.language_menu.actions["ja"].trigger()
        assert i18n.current_language() == "en" and w.controller is c
        assert "still running" in w.statusBar().currentMessage()
        assert w.language_menu.actions[language.saved_language(w.settings)].isChecked()
    finally:
        c._pending = None
    c.shutdown()


def _fails_in_japanese(monkeypatch, panel_class):
    """`panel_class` raises once built in Japanese (as a translation with a wrong placeholder would)."""
    built = panel_class.__init__

    def init(panel, *args):
        built(panel, *args)
        if i18n.current_language() == "ja":
            raise KeyError("a translation's placeholder")
    monkeypatch.setattr(panel_class, "__init__", init)


def _whole_in_english(qtbot, w, capsys):
    assert i18n.current_language() == "en" and w.settings.value(language.SETTING) == "en"
    assert w.menus["file"].title() == "&File" and w.actions["run"].text() == "Run"
    assert "could not be built in 日本語" in w.banner.text() and "KeyError" in capsys.readouterr().err
    assert w.controller.step()
    qtbot.wait(10)
    assert len(w.findChildren(QtWidgets.QDockWidget)) == len(w.docks)
    w.controller.shutdown()


def test_a_panel_that_fails_to_build_leaves_the_window_whole_in_english(qtbot, tmp_path, has_font, monkeypatch,
                                                                        capsys):
    from ui import controls
    w = open_window(qtbot, tmp_path)
    session = w.controller.session
    assert w.controller.step()
    _fails_in_japanese(monkeypatch, controls.BreakpointsPanel)
    w.language_menu.actions["ja"].trigger()
    assert w.controller.session is session and session.phase_index == 1
    _whole_in_english(qtbot, w, capsys)


def test_a_window_that_fails_to_build_in_japanese_opens_in_english(qtbot, tmp_path, has_font, monkeypatch,
                                                                   capsys):
    from ui import controls
    _fails_in_japanese(monkeypatch, controls.HyperPanel)
    s = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    s.setValue(language.SETTING, "ja")
    s.sync()
    _whole_in_english(qtbot, open_window(qtbot, tmp_path), capsys)


def test_choosing_the_language_in_use_rebuilds_nothing(qtbot, tmp_path, has_font):
    w = open_window(qtbot, tmp_path)
    c, editor = w.controller, w.editor
    w.language_menu.actions["en"].trigger()             # the system's language here is English too
    assert w.controller is c and w.editor is editor
    assert w.settings.value(language.SETTING) == "en" and w.language_menu.actions["en"].isChecked()
    c.shutdown()


def test_the_switch_waits_for_a_download(qtbot, tmp_path, has_font, monkeypatch):
    w = open_window(qtbot, tmp_path)
    monkeypatch.setattr(type(w.downloader), "busy", property(lambda _self: True))
    w.language_menu.actions["ja"].trigger()
    assert i18n.current_language() == "en" and "download" in w.statusBar().currentMessage()
    w.controller.shutdown()


def test_switching_back_and_forth_leaves_nothing_behind(qtbot, tmp_path, has_font):
    # the old widgets are deleted: switching again and again does not grow the application's widgets
    from PyQt6.QtCore import QCoreApplication, QEvent
    w = open_window(qtbot, tmp_path)
    app = QtWidgets.QApplication.instance()
    counts = []
    for code in ("ja", "en", "ja", "en"):
        w.language_menu.actions[code].trigger()
        for _k in range(3):
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
            app.processEvents()
        gc.collect()                    # pyqtgraph's parentless context menus go with their plots' cycles
        counts.append(len(app.allWidgets()))
    assert counts[1] == counts[2] == counts[3], counts
    w.controller.shutdown()


def test_curves_test_points_survive_the_switch(qtbot, tmp_path, has_font):
    w = open_window(qtbot, tmp_path)
    points = w.controller.worker.test_points
    points.append((5, 0.9, 0.5))
    w.language_menu.actions["ja"].trigger()
    assert list(w.controller.worker.test_points) == [(5, 0.9, 0.5)]
    w.controller.shutdown()


def test_a_window_built_in_japanese_from_the_saved_choice(qtbot, tmp_path, has_font):
    # the saved language applies before any panel is built (not half-way through)
    s = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    s.setValue(language.SETTING, "ja")
    s.sync()
    w = open_window(qtbot, tmp_path, Session.from_preset("digits-small"))
    assert w.docks["stack"].windowTitle() == "層スタック" and w.hyper_panel.run_unit.currentText() == "エポック"
    assert w.menus["file"].title() == "ファイル(&F)"
    w.controller.shutdown()
