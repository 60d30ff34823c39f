"""Shared test set-up: Qt runs offscreen (no display needed); texts in English unless a test says otherwise."""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# gettext reads LANGUAGE first: a developer's ja_JP locale must not change what the tests see. Tests of the
# translations choose their language themselves (and monkeypatch the environment to test the locale).
os.environ["LANGUAGE"] = "en"


@pytest.fixture(autouse=True)
def _back_to_english():
    yield
    from visualcnn import i18n
    if i18n.current_language() != i18n.SOURCE_LANGUAGE:
        i18n.set_language(i18n.SOURCE_LANGUAGE)
