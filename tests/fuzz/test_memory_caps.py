"""Bombs under a memory cap: tiny files declaring gigabytes are refused before anything is allocated.

The loaders run in a subprocess whose address space is capped (RLIMIT_AS, 320 MiB — the interpreter,
NumPy and visualcnn need about 250 MiB of it), so a regression fails with a MemoryError in the child
instead of swapping the machine. Each refusal must name the limit (a constant of visualcnn.limits).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.conftest import tried

ROOT = Path(__file__).resolve().parents[2]
CAP_BYTES = 320 * 2**20

CHILD = f"""
import json, resource, sys, tempfile
resource.setrlimit(resource.RLIMIT_AS, ({CAP_BYTES}, {CAP_BYTES}))
sys.path.insert(0, {str(ROOT)!r})
from pathlib import Path
from tests.fuzz.corpus import run_bombs
with tempfile.TemporaryDirectory() as tmp:
    for row in run_bombs(Path(tmp)):
        print(json.dumps(row), flush=True)
"""


@pytest.fixture(scope="module")
def outcomes():
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ROOT)
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert rows, f"the capped child produced nothing (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return {row["bomb"]: row for row in rows}


def bomb_names():
    sys.path.insert(0, str(ROOT))
    from tests.fuzz.corpus import bombs
    return list(bombs())


@pytest.mark.parametrize("bomb", bomb_names())
def test_a_bomb_is_refused_under_a_memory_cap_naming_the_limit(outcomes, bomb):
    tried()
    row = outcomes.get(bomb)
    assert row is not None, f"{bomb}: the child died before reaching it"
    assert row["outcome"] == "refused", row
    assert row["limit"] in row["message"], row
