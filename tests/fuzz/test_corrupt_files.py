"""Every loader against the classic broken files: zero bytes, truncated, random, random behind a zip
header, a flipped byte, JSON nested 100 000 deep, a pickle. Each ends in the loader's own error class,
in one line naming the file — never another exception, never a traceback."""

from __future__ import annotations

import pytest

from tests.fuzz.conftest import tried
from tests.fuzz.corpus import corruptions, loaders, write

LOADERS = loaders()
CASES = [(name, kind) for name, (_, _, _, good) in LOADERS.items()
         for kind in corruptions(good() if name != "session" else b"x" * 100)]


@pytest.fixture(scope="module")
def goods():
    return {name: good() for name, (_, _, _, good) in LOADERS.items()}


@pytest.mark.parametrize("loader,corruption", CASES, ids=[f"{a}-{b}" for a, b in CASES])
def test_a_broken_file_is_one_error_naming_it(tmp_path, goods, loader, corruption):
    suffix, open_, errors, _ = LOADERS[loader]
    content = corruptions(goods[loader])[corruption]
    path = write(tmp_path, f"broken-{corruption}", suffix, content)
    tried()
    try:
        open_(path)
    except errors as e:
        message = str(e)
        assert "\n" not in message and "Traceback" not in message
        assert path.name in message or any(f in message for f in ("train-", "t10k-")), message
    # (a flipped byte may leave a usable file: opening it is fine too)
