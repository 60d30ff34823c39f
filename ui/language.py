"""The window's language: chosen at start (saved choice, else the system locale), View ▸ Language, font check.

One catalogue mechanism serves the core and the window: gettext (visualcnn.i18n). Qt's own strings in
standard dialogs (OK, Cancel, Save) come from the `qtbase_<lang>.qm` that ships with PyQt6, loaded with a
QTranslator. Japanese needs a CJK font: without one the window stays in English and says how to install one.
Every text is written when its widget is built, so MainWindow applies the language before it builds anything, and
a switch in View ▸ Language builds the whole window again (ui/rebuild.py) instead of retranslating widget by widget.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

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


def use_saved_language(settings: QtCore.QSettings) -> str:
    """Apply the saved (or the system's) language — unless a caller keeps the one in use (`language_kept`)."""
    if _state["keep"]:
        return i18n.current_language()
    return apply_language(saved_language(settings))


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
    """View ▸ Language: System / English / 日本語, remembered in QSettings. Choosing one builds the whole window
    again in that language (MainWindow.rebuild_widgets): every text is written when its widget is built."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.menu = QtWidgets.QMenu(_("&Language"), window)
        self.group = QtGui.QActionGroup(self.menu)
        self.actions: dict[str, QtGui.QAction] = {}
        for code in (i18n.SYSTEM, *i18n.LANGUAGES):
            if code == i18n.SYSTEM:
                text = _("System default ({language})").format(language=i18n.LANGUAGES[i18n.system_language()])
            else:
                text = i18n.LANGUAGES[code]            # each language in its own words
            act = self.menu.addAction(text)
            act.setCheckable(True)
            act.setData(code)
            act.triggered.connect(lambda _c=False, c=code: self.choose(c))
            self.group.addAction(act)
            self.actions[code] = act
        self.actions[saved_language(window.settings)].setChecked(True)
        self.menu.setToolTipsVisible(True)
        self.menu.setToolTip(_("the language of the whole window; the session, the layout and the step stay "
                               "as they are"))
        view = getattr(window, "menus", {}).get("view")
        if view is not None:
            view.addSeparator()
            view.addMenu(self.menu)

    def choose(self, code: str) -> str:
        """Use `code` from now on and remember it; the whole window switches at once (a run is stopped first).
        Returns the language in use afterwards."""
        window = self.window
        refusal = getattr(window, "rebuild_refusal", lambda: None)()
        if refusal:                   # a layer's code still owns the session: nothing may be rebuilt around it
            self.actions[saved_language(window.settings)].setChecked(True)
            window.statusBar().showMessage(refusal, 8000)
            return i18n.current_language()
        window.settings.setValue(SETTING, code)
        before = i18n.current_language()
        used = apply_language(code)
        if used != before and hasattr(window, "rebuild_widgets"):
            window.rebuild_widgets()               # every menu, dock and panel again, in `used` (this menu too)
        else:
            self.actions[code].setChecked(True)
        requested = i18n.system_language() if code == i18n.SYSTEM else code
        if used != requested:         # worth the banner: the user asked for something we cannot show
            window.show_message(_("No font for {language} is installed: {install}").format(
                language=i18n.LANGUAGES[requested], install=i18n.CJK_FONT_INSTALL))
        else:
            window.statusBar().showMessage(_("Language: {language}").format(language=i18n.LANGUAGES[used]), 10000)
        return used


def install_language(window: Any) -> LanguageMenu:
    """Add View ▸ Language to `window` (MainWindow applied the saved language before building anything)."""
    menu = LanguageMenu(window)
    window.language_menu = menu
    return menu


__all__ = ["LanguageMenu", "SETTING", "apply_language", "has_cjk_font", "install_language", "language_kept",
           "saved_language", "use_saved_language"]
