"""The window's language: chosen at start (saved choice, else the system locale), View ▸ Language, font check.

One catalogue mechanism serves the core and the window: gettext (visualcnn.i18n). Qt's own strings in
standard dialogs (OK, Cancel, Save) come from the `qtbase_<lang>.qm` that ships with PyQt6, loaded with a
QTranslator. Japanese needs a CJK font: without one the window stays in English and says how to install one.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Callable, Iterator

from PyQt6 import QtCore, QtGui, QtWidgets

from visualcnn import i18n
from visualcnn.i18n import _

SETTING = "view/language"
_state: dict[str, Any] = {"translator": None, "warned": set(), "keep": 0}


@contextlib.contextmanager
def language_kept() -> Iterator[None]:
    """Windows built inside keep the language in use (offscreen windows for animations carry throw-away
    settings: they must not switch the whole application to the system's language)."""
    _state["keep"] += 1
    try:
        yield
    finally:
        _state["keep"] -= 1


def saved_language(settings: QtCore.QSettings) -> str:
    value = settings.value(SETTING, i18n.SYSTEM)
    return value if value in (i18n.SYSTEM, *i18n.LANGUAGES) else i18n.SYSTEM


def has_cjk_font() -> bool:
    """fontconfig first (what Qt uses on Linux); where there is none, ask Qt's font database."""
    known = i18n.cjk_font_available()
    if known is not None:
        return known
    return bool(QtGui.QFontDatabase.families(QtGui.QFontDatabase.WritingSystem.Japanese))


def apply_language(choice: str, stream: Any = None) -> str:
    """Switch to `choice` ('system', 'en', 'ja'); a language whose script has no font falls back to English,
    with the install line printed once. Returns the language now in use."""
    code = i18n.set_language(choice)
    if code in i18n.CJK_LANGUAGES and not has_cjk_font():
        if code not in _state["warned"]:
            _state["warned"].add(code)
            print(i18n.font_missing_message(code), file=stream or sys.stderr)
        code = i18n.set_language(i18n.SOURCE_LANGUAGE)
    _install_qt_translator(code)
    return code


def _install_qt_translator(code: str) -> None:
    app = QtCore.QCoreApplication.instance()
    if app is None:
        return
    old = _state["translator"]
    if old is not None:
        app.removeTranslator(old)
        _state["translator"] = None
    if code == i18n.SOURCE_LANGUAGE:
        return
    translator = QtCore.QTranslator(app)
    path = QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(f"qtbase_{code}", path):
        app.installTranslator(translator)
        _state["translator"] = translator


class LanguageMenu:
    """View ▸ Language: System / English / 日本語, remembered in QSettings; `hooks` retranslate live widgets."""

    def __init__(self, window: Any, hooks: list[Callable[[], None]]) -> None:
        self.window = window
        self.hooks = hooks
        self.menu = QtWidgets.QMenu(window)
        self.group = QtGui.QActionGroup(self.menu)
        self.actions: dict[str, QtGui.QAction] = {}
        for code in (i18n.SYSTEM, *i18n.LANGUAGES):
            act = self.menu.addAction("")
            act.setCheckable(True)
            act.setData(code)
            act.triggered.connect(lambda _c=False, c=code: self.choose(c))
            self.group.addAction(act)
            self.actions[code] = act
        self.actions[saved_language(window.settings)].setChecked(True)
        view = getattr(window, "menus", {}).get("view")
        if view is not None:
            view.addSeparator()
            view.addMenu(self.menu)
        self.retranslate()

    def retranslate(self) -> None:
        self.menu.setTitle(_("&Language"))
        self.actions[i18n.SYSTEM].setText(_("System default ({language})").format(
            language=i18n.LANGUAGES[i18n.system_language()]))
        for code, name in i18n.LANGUAGES.items():
            self.actions[code].setText(name)            # each language in its own words
        self.menu.setToolTipsVisible(True)
        self.menu.setToolTip(_("the language of the lessons, the mistakes and the panels translated so far"))

    def choose(self, code: str) -> str:
        """Use `code` from now on and remember it; the live panels switch at once."""
        self.window.settings.setValue(SETTING, code)
        used = apply_language(code)
        self.actions[code].setChecked(True)
        for hook in self.hooks:
            hook()
        requested = i18n.system_language() if code == i18n.SYSTEM else code
        if used != requested:         # worth the banner: the user asked for something we cannot show
            self.window.show_message(_("No font for {language} is installed: {install}").format(
                language=i18n.LANGUAGES[requested], install=i18n.CJK_FONT_INSTALL))
        else:
            self.window.statusBar().showMessage(_("Language: {language}. Panels not yet translated follow at the "
                                                  "next start.").format(language=i18n.LANGUAGES[used]), 10000)
        return used


def install_language(window: Any, hooks: list[Callable[[], None]]) -> LanguageMenu:
    """Apply the saved (or the system's) language and add View ▸ Language to `window`."""
    if not _state["keep"]:
        apply_language(saved_language(window.settings))
    menu = LanguageMenu(window, hooks)
    hooks.append(menu.retranslate)
    window.language_menu = menu
    return menu


__all__ = ["LanguageMenu", "SETTING", "apply_language", "has_cjk_font", "install_language", "language_kept",
           "saved_language"]
