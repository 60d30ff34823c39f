"""Translations: the language chosen from the locale, the catalogues complete, placeholders kept, fonts checked."""

from __future__ import annotations

import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from visualcnn import i18n

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
translations = pytest.importorskip("translations", reason="scripts/translations.py needs Babel (the test extra)")

CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("env, expected", [
    ({"LANG": "ja_JP.UTF-8"}, "ja"),
    ({"LANG": "ja_JP.eucJP"}, "ja"),
    ({"LANGUAGE": "fr:ja", "LANG": "C.UTF-8"}, "ja"),       # a priority list: the first we have
    ({"LC_ALL": "C", "LANG": "ja_JP.UTF-8"}, "en"),          # LC_ALL decides before LANG
    ({"LC_MESSAGES": "ja_JP", "LANG": "en_GB.UTF-8"}, "ja"),
    ({"LANG": "de_DE.UTF-8"}, "en"),                          # no catalogue: English
    ({}, "en"),
])
def test_the_system_locale_chooses_the_language(env, expected):
    assert i18n.system_language(env) == expected


def test_set_language_translates_and_falls_back():
    assert i18n.set_language("ja") == "ja"
    assert i18n._("Start") == "開始"
    assert i18n._("a string no catalogue has") == "a string no catalogue has"
    assert i18n.set_language("xx") == "en" and i18n._("Start") == "Start"
    assert i18n.pick({"en": "one", "ja": "一"}, "ja") == "一"
    assert i18n.pick({"en": "one"}, "ja") == "one"


def test_mistake_texts_are_marked_and_translated():
    from visualcnn.mistakes import MISTAKES
    i18n.set_language("ja")
    for m in MISTAKES.values():
        assert CJK.search(i18n._(m.title)) and CJK.search(i18n._(m.why)), m.name


# -- the catalogues --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template():
    return translations.extract()


@pytest.fixture(scope="module", params=[p.parents[1].name for p in translations.po_files()])
def catalog(request):
    return translations.read(translations.LOCALE / request.param / "LC_MESSAGES" / "visualcnn.po")


def test_there_is_a_japanese_catalogue():
    assert [p.parents[1].name for p in translations.po_files()] == ["ja"]


def test_every_marked_string_is_translated(template, catalog):
    assert len(template) > 50
    assert translations.missing(catalog, template) == []


def _pairs(catalog):
    """(source, translation) of every entry; a plural entry gives one pair per form, against the plural source."""
    for msg in catalog:
        if not msg.id:
            continue
        if isinstance(msg.id, (list, tuple)):
            for form in msg.string:
                yield msg.id[1], form
        else:
            yield msg.id, msg.string


def test_nothing_is_left_in_english(catalog):
    for source, text in _pairs(catalog):
        assert CJK.search(text), f"{source!r} → {text!r}"


def _fields(text: str) -> list[str]:
    named = sorted(f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None)
    printf = sorted(re.findall(r"%(?:\(\w+\))?[sdifr]", text))
    tags = sorted(re.findall(r"</?\w+>", text))
    return named + printf + tags


def test_placeholders_and_markup_match_the_source(catalog):
    for source, text in _pairs(catalog):
        assert _fields(text) == _fields(source), f"{source!r} → {text!r}"
        assert ("&" in source) == ("&" in text), f"menu accelerator lost: {text!r}"
    plurals = [msg.id for msg in catalog if isinstance(msg.id, (list, tuple))]
    assert plurals, "the catalogue has plural entries (ngettext) and this test reads them"
    for singular, plural in plurals:
        assert _fields(singular) == _fields(plural), f"{singular!r} / {plural!r}"


def test_placeholder_check_catches_a_bad_translation():
    assert _fields("Wrote {path} ({n} frames).") != _fields("{path} に書き出しました。")
    assert _fields("<b>x</b>") != _fields("x")


def test_the_compiled_catalogue_is_up_to_date(catalog):
    mo = translations.LOCALE / catalog.locale.language / "LC_MESSAGES" / "visualcnn.mo"
    assert mo.read_bytes() == translations.compiled(catalog), "run python scripts/translations.py"


def test_the_wheel_declares_the_compiled_catalogues():
    import tomllib
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "locale/*/LC_MESSAGES/*.mo" in data["tool"]["setuptools"]["package-data"]["visualcnn"]


# -- fonts -------------------------------------------------------------------------------------------

def test_cjk_font_check(monkeypatch):
    monkeypatch.setattr(i18n.shutil, "which", lambda name: None)
    assert i18n.cjk_font_available() is None                   # no fontconfig: the system's fonts decide
    monkeypatch.setattr(i18n.shutil, "which", lambda name: "/usr/bin/fc-list")
    monkeypatch.setattr(i18n.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout="", stderr=""))
    assert i18n.cjk_font_available() is False
    monkeypatch.setattr(i18n.subprocess, "run",
                        lambda *a, **k: subprocess.CompletedProcess(a, 0, stdout="Noto Sans CJK JP\n", stderr=""))
    assert i18n.cjk_font_available() is True
    message = i18n.font_missing_message("ja")
    assert "日本語 (ja)" in message and "sudo apt-get install fonts-noto-cjk" in message


def test_lang_ja_lists_the_lessons_in_japanese(tmp_path):
    env = {"LANG": "ja_JP.UTF-8", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "visualcnn", "lesson"], capture_output=True, text=True, env=env,
                         timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "出力層の勾配：ソフトマックスと交差エントロピー" in out.stdout
    assert "畳み込み層の誤差逆伝播" in out.stdout


def test_presets_are_listed_in_the_current_language():
    from visualcnn.presets import list_presets
    english = {p["name"]: p for p in list_presets()}
    i18n.set_language("ja")
    japanese = {p["name"]: p for p in list_presets()}
    assert english.keys() == japanese.keys() and len(japanese) >= 6
    for name, p in japanese.items():
        assert CJK.search(p["description"]), name
        assert not CJK.search(english[name]["description"]), name
    assert japanese["seed-note"]["title"] == "学習ノートのネットワーク"
    assert english["seed-note"]["title"] == "The study note's network"


def test_a_preset_translation_names_a_language_we_have(tmp_path):
    from visualcnn.errors import FileFormatError
    from visualcnn.presets import load_preset, preset_text
    import json
    cfg = json.loads((ROOT / "assets" / "presets" / "digits-small.json").read_text(encoding="utf-8"))
    path = tmp_path / "p.json"
    path.write_text(json.dumps({**cfg, "translations": {"fr": {"title": "Chiffres"}}}), encoding="utf-8")
    with pytest.raises(FileFormatError, match="translations: unknown key \"fr\"; valid keys: ja"):
        load_preset(path)
    path.write_text(json.dumps({**cfg, "translations": {"ja": {"title": "数字"}}}), encoding="utf-8")
    loaded = load_preset(path)
    i18n.set_language("ja")
    assert preset_text(loaded, "title") == "数字"
    assert preset_text(loaded, "description") == cfg["description"]      # no translation: English


def test_bundled_class_names_are_shown_in_the_current_language():
    from visualcnn.data import class_label, load_dataset
    colour = load_dataset("colour-shapes", size=8, n=24)
    assert colour.class_names[0] == "red circle"                      # the data stays as it is
    i18n.set_language("ja")
    assert class_label("red circle") == "赤の円" and class_label("diagonal /") == "斜め /"
    assert class_label("Ankle boot") == "アンクルブーツ"
    assert class_label("7") == "7" and class_label("my own class") == "my own class"
    for name in load_dataset("bars", size=8, n=8).class_names + colour.class_names:
        assert CJK.search(class_label(name)), name
    i18n.set_language("en")
    assert class_label("red circle") == "red circle"


def test_a_spec_refusal_names_the_field_s_type_in_the_current_language():
    from visualcnn.errors import SpecError
    from visualcnn.network import Network
    spec = {"input_shape": [1, 8, 8], "layers": [{"type": "conv2d", "out_channels": "6", "kernel_size": 3},
                                                 {"type": "flatten"}, {"type": "dense", "out_features": 10}]}
    with pytest.raises(SpecError, match="layer 0 conv2d: out_channels must be int >= 1, got '6'"):
        Network.from_spec(spec)
    i18n.set_language("ja")
    with pytest.raises(SpecError, match="層 0 conv2d: out_channels は 整数 >= 1 でなければなりません。実際: '6'"):
        Network.from_spec(spec)
