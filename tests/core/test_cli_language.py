"""The command line speaks the system locale's language: LANG=ja_JP.UTF-8 gives Japanese, LANG=C English.

Each test runs `python -m visualcnn` as a user would, with LANGUAGE unset (tests/conftest.py sets it to
"en" for the suite; gettext reads it before LANG).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], lang: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")}
    env.update(LANG=lang, HOME=str(cwd))
    return subprocess.run([sys.executable, "-m", "visualcnn", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300)


@pytest.fixture
def corrupt(tmp_path):
    path = tmp_path / "broken.vcnn"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive at all")
    return path


@pytest.mark.parametrize("lang, expected", [
    ("ja_JP.UTF-8", ["visualcnn: エラー: ", "broken.vcnn: アーカイブが壊れているか途中で切れています"]),
    ("C", ["visualcnn: error: ", "broken.vcnn: corrupt or truncated archive"]),
])
def test_a_corrupt_file_is_refused_in_the_locale_s_language(corrupt, lang, expected):
    out = run(["train", "--resume", corrupt.name, "--epochs", "1"], lang, corrupt.parent)
    assert out.returncode == 2
    assert all(text in out.stderr for text in expected), out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("lang, expected, english", [
    ("ja_JP.UTF-8", ["個のパラメータを学習します", "1 エポックあたり", "学習率", "慣性項", "重み減衰",
                     "エポック   1/1", "正解率", "テスト 損失", "に保存しました (反復 "], False),
    ("C", ["training 1,370 parameters on digits", "iterations per epoch", "momentum", "weight decay",
           "epoch   1/1", "train loss", "test loss", "saved to run.vcnn (iteration "], True),
])
def test_train_summarises_in_the_locale_s_language(tmp_path, lang, expected, english):
    out = run(["train", "--preset", "digits-small", "--epochs", "1", "--save", "run.vcnn"], lang, tmp_path)
    assert out.returncode == 0, out.stderr
    assert all(text in out.stdout for text in expected), out.stdout
    assert ("epoch" in out.stdout) == english and ("エポック" in out.stdout) != english
    assert (tmp_path / "run.vcnn").is_file()


def test_argparse_s_own_words_and_the_help_are_japanese(tmp_path):
    help_text = run(["train", "--help"], "ja_JP.UTF-8", tmp_path)
    assert help_text.returncode == 0
    for text in ("使い方: visualcnn train", "オプション:", "このヘルプを表示して終了する",
                 "GUI または --save で保存したセッションを続ける"):
        assert text in help_text.stdout, help_text.stdout
    bad = run(["train", "--epochs", "0"], "ja_JP.UTF-8", tmp_path)
    assert bad.returncode == 2
    assert "visualcnn train: エラー: 引数 --epochs: 1 以上の整数を指定してください。指定された値: 0" in bad.stderr
    choice = run(["train", "--dtype", "float16"], "ja_JP.UTF-8", tmp_path)
    assert "正しくない選択肢: 'float16'" in choice.stderr, choice.stderr


def test_with_lang_c_the_help_stays_english(tmp_path):
    out = run(["train", "--help"], "C", tmp_path)
    assert "usage: visualcnn train" in out.stdout and "continue a session saved by the GUI" in out.stdout
    assert not any("\u3040" <= ch <= "\u9fff" for ch in out.stdout)
    bad = run(["train", "--epochs", "0"], "C", tmp_path)
    assert "argument --epochs: expected a whole number >= 1, got 0" in bad.stderr
