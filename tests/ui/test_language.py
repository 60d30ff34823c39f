"""The interface in Japanese: the teaching panels and the mistakes leave nothing in English; the language
follows the locale, is switched in View ▸ Language and remembered; without a CJK font it stays English."""

from __future__ import annotations

import io
import re

import pytest
from PyQt6.QtCore import QSettings

from ui import language
from ui.main_window import MainWindow
from visualcnn import i18n
from visualcnn.session import Session

from .i18n_helpers import action_texts, english_words, untranslated

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _settings(tmp_path, lang=None):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    if lang is not None:
        s.setValue(language.SETTING, lang)
    return s


@pytest.fixture
def has_font(monkeypatch):
    monkeypatch.setattr(language, "has_cjk_font", lambda: True)


def _window(qtbot, settings):
    w = MainWindow(Session.from_preset("digits-small"), settings)
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    return w


def test_the_helper_finds_english_and_lets_identifiers_through():
    assert english_words("Next step") == ["Next", "step"]
    assert english_words("層 1 — sigmoid") == []
    assert english_words("<b>開始</b> GIF softmax-diagonal") == []


@pytest.mark.parametrize("lesson, step", [("softmax-output", 1), ("softmax-output", 2), ("pooling", 2),
                                          ("find-the-bug", 1), ("sgd-momentum", 0)])
def test_lessons_dock_in_japanese_leaves_nothing_in_english(qtbot, tmp_path, has_font, lesson, step):
    w = _window(qtbot, _settings(tmp_path, "ja"))
    assert i18n.current_language() == "ja"
    panel = w.lessons
    assert untranslated(panel) == []
    assert w.docks["lessons"].windowTitle() == "レッスン"
    assert panel.start(lesson, step)
    assert untranslated(panel) == []
    assert CJK.search(panel.text.toPlainText())
    if panel.player.asking:
        panel.answer(panel.player.wrong_answer())
        assert untranslated(panel) == [], "after the verdict"
        assert CJK.search(panel.explain.toPlainText()) and CJK.search(panel.verdict.text())


def test_export_animation_and_language_menu_in_japanese(qtbot, tmp_path, has_font):
    from ui.animation_dialog import AnimationDialog
    w = _window(qtbot, _settings(tmp_path, "ja"))
    assert [t for t in action_texts([w.actions["export_animation"]]) if english_words(t[1])] == []
    dialog = AnimationDialog(w)
    qtbot.addWidget(dialog)
    assert untranslated(dialog) == []
    menu = w.language_menu.menu
    assert [t for t in action_texts(menu.actions()) if english_words(t[1])] == [] and menu.title() == "言語(&L)"


def test_mistakes_explanations_in_japanese(qtbot, tmp_path, has_font):
    from ui.views.mistakes_panel import mistake_html
    from visualcnn.mistakes import MISTAKES
    w = _window(qtbot, _settings(tmp_path, "ja"))
    for name, m in MISTAKES.items():
        html = mistake_html(name, applies=m.kind != "layer")      # the "no such layer here" note too
        assert english_words(html.replace("MATH.md", "")) == [], name
    titles = [a.text() for a in w.mathlab.mistakes_menu.actions()[:len(MISTAKES)]]
    assert all(CJK.search(t) for t in titles)


def test_view_language_switches_live_and_is_remembered(qtbot, tmp_path, has_font):
    settings = _settings(tmp_path)
    w = _window(qtbot, settings)
    assert w.lessons.start_button.text() == "Start"
    w.language_menu.actions["ja"].trigger()
    assert settings.value(language.SETTING) == "ja"
    # the window is built again in Japanese: its panels are new objects
    assert w.lessons.start_button.text() == "開始" and w.docks["lessons"].windowTitle() == "レッスン"
    assert "日本語" in w.statusBar().currentMessage()
    again = _window(qtbot, settings)
    assert again.lessons.start_button.text() == "開始"
    assert again.language_menu.actions["ja"].isChecked()
    again.language_menu.actions["en"].trigger()
    assert again.lessons.start_button.text() == "Start"


def test_without_a_cjk_font_the_window_stays_english_and_says_how_to_install_one(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(language, "has_cjk_font", lambda: False)
    language._state["warned"].clear()
    err = io.StringIO()
    assert language.apply_language("ja", stream=err) == "en"
    assert "sudo apt-get install fonts-noto-cjk" in err.getvalue()
    w = _window(qtbot, _settings(tmp_path, "ja"))
    assert w.lessons.start_button.text() == "Start"
    w.language_menu.actions["ja"].trigger()
    assert "fonts-noto-cjk" in w.banner.text()


def test_lang_ja_starts_in_japanese(qtbot, tmp_path, has_font, monkeypatch):
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    w = _window(qtbot, _settings(tmp_path))              # no saved choice: the system's
    assert w.lessons.start_button.text() == "開始"
    assert w.language_menu.actions[i18n.SYSTEM].isChecked()
    assert "日本語" in w.language_menu.actions[i18n.SYSTEM].text()


def test_an_animation_export_keeps_the_language_in_use(qtbot, tmp_path, has_font):
    # the offscreen window of an export has throw-away settings ("system", here English): building it
    # once switched the whole application back to the system's language
    from ui.animation import render_frames
    w = _window(qtbot, _settings(tmp_path, "ja"))
    assert i18n.current_language() == "ja"
    render_frames(w.controller.session, 2, (1280, 800))
    assert i18n.current_language() == "ja"
    w.lessons.retranslate()
    assert w.lessons.start_button.text() == "開始"


def test_an_offscreen_window_keeps_the_language_in_use(qtbot, has_font):
    # snapshots and presentation exports build their window with throw-away settings ("system": English
    # here); it must be drawn in the language the user chose, and leave that language in place
    from ui.render import offscreen_window
    language.apply_language("ja")
    with offscreen_window(Session.from_preset("digits-small"), (1280, 800), presentation=True) as w:
        assert i18n.current_language() == "ja"
        assert w.lessons.start_button.text() == "開始"
        assert w.docks["lessons"].windowTitle() == "レッスン"
    assert i18n.current_language() == "ja"
    language.apply_language("en")
    with offscreen_window(Session.from_preset("digits-small"), (1280, 800)) as w:
        assert w.lessons.start_button.text() == "Start"
