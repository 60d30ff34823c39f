"""Translations: one gettext catalogue for the core's messages and the window's strings.

    from visualcnn.i18n import _, N_
    _("Next step")                  # translated now, in the current language
    TITLE = N_("Gradient check")     # marked for the catalogue, translated where it is shown: _(TITLE)

Catalogues live under the package (`visualcnn/locale/<lang>/LC_MESSAGES/visualcnn.mo`, compiled from the
`.po` beside it with Babel: `python scripts/translations.py`), so an installed wheel carries them.
The language is chosen once at start-up (`set_language`): the user's saved choice, else the system
locale as gettext reads it (LANGUAGE, LC_ALL, LC_MESSAGES, LANG: `LANG=ja_JP.UTF-8` gives Japanese),
else English. Bilingual *data* (lesson files) picks its text with `pick`. Qt-free.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
from pathlib import Path
from typing import Mapping

DOMAIN = "visualcnn"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
SOURCE_LANGUAGE = "en"
# code -> the language's own name (how a menu lists it)
LANGUAGES: dict[str, str] = {"en": "English", "ja": "日本語"}
SYSTEM = "system"
# languages whose script needs a CJK font to render
CJK_LANGUAGES = frozenset({"ja"})
CJK_FONT_INSTALL = ("sudo apt-get install fonts-noto-cjk   "
                    "(Fedora: sudo dnf install google-noto-sans-cjk-fonts; macOS and Windows ship one)")

_translation: gettext.NullTranslations = gettext.NullTranslations()
_language = SOURCE_LANGUAGE


def _(message: str) -> str:
    """`message` in the current language (itself when there is no translation; "" stays "", not the
    catalogue's header, which gettext keeps under the empty msgid)."""
    return _translation.gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural form for `n`, in the current language."""
    return _translation.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it yet (translate where it is shown)."""
    return message


def language_of(value: str | None) -> str | None:
    """'ja_JP.UTF-8' → 'ja'; None for C/POSIX, empty or a language without a catalogue."""
    if not value:
        return None
    code = value.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the system locale asks for, as gettext reads it; English when none of ours."""
    env = os.environ if environ is None else environ
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if not value:
            continue
        if var == "LANGUAGE":           # a priority list: "ja:en"
            for part in value.split(":"):
                code = language_of(part)
                if code is not None:
                    return code
            continue
        return language_of(value) or SOURCE_LANGUAGE      # the first one set decides, as in gettext
    return SOURCE_LANGUAGE


def set_language(code: str | None = None) -> str:
    """Translate into `code` ('en', 'ja'; None or 'system': the system locale) from now on; returns it.

    A language without a catalogue falls back to English rather than failing.
    """
    global _translation, _language
    if code in (None, "", SYSTEM):
        code = system_language()
    if code not in LANGUAGES:
        code = SOURCE_LANGUAGE
    if code == SOURCE_LANGUAGE:
        _translation = gettext.NullTranslations()
    else:
        _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)
    _language = code
    return code


def current_language() -> str:
    return _language


def pick(texts: Mapping[str, str], language: str | None = None) -> str:
    """From bilingual data ({'en': ..., 'ja': ...}) the text in `language` (default: the current one),
    else the English one."""
    lang = language or _language
    text = texts.get(lang)
    return text if text else texts.get(SOURCE_LANGUAGE, "")


def cjk_font_available() -> bool | None:
    """Whether fontconfig knows a font that covers Japanese; None when fontconfig's `fc-list` is absent
    (macOS, Windows: their system fonts cover it)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return bool(out.stdout.strip())


def font_missing_message(code: str) -> str:
    """What to print when `code` needs a CJK font and none is installed: the fallback and the install line."""
    return _("visualcnn: no font for {language} ({code}) is installed, so the window stays in English.\n"
             "  Install one with:  {command}").format(language=LANGUAGES[code], code=code, command=CJK_FONT_INSTALL)


__all__ = ["CJK_FONT_INSTALL", "DOMAIN", "LANGUAGES", "LOCALE_DIR", "N_", "SYSTEM", "_", "cjk_font_available",
           "current_language", "font_missing_message", "language_of", "ngettext", "pick", "set_language",
           "system_language"]
