"""Freed arrays are reused from the heap (layers/workspace.keep_freed_memory), not faulted in again."""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import numpy as np
import pytest

from visualcnn.layers import workspace


def _faults_of_a_step(sizes: list[int]) -> int:
    """Minor page faults while arrays of `sizes` float32 entries are made, written, and freed together."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    arrays = []
    for n in sizes:
        a = np.empty(n, np.float32)
        a.fill(1.0)                         # touch every page
        arrays.append(a)
    del arrays
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def test_a_repeated_step_gets_its_memory_back_without_page_faults(monkeypatch):
    for name in ("VISUALCNN_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    if not workspace.keep_freed_memory():
        pytest.skip("glibc malloc not tunable here")
    # a step's temporaries: several arrays of a few MiB, all freed at its end (24 MiB in all); glibc's
    # defaults trimmed that free top of the heap and faulted all 6,000 pages in again on the next step
    sizes = [(2 << 20) // 4 * k for k in (1, 2, 3, 2, 4)]
    sizes += [(24 << 20) // 4 - sum(sizes)]
    _faults_of_a_step(sizes)                         # the first step may grow the heap
    pages = 24 * 256
    assert _faults_of_a_step(sizes) < pages // 10


def test_the_users_own_malloc_settings_win(monkeypatch):
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert workspace.keep_freed_memory() is False


def test_glibc_defaults_on_request(monkeypatch):
    monkeypatch.setenv("VISUALCNN_MALLOC", "default")
    assert workspace.keep_freed_memory() is False


def _run(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("VISUALCNN_MALLOC", "MALLOC_MMAP_THRESHOLD_",
                                                             "MALLOC_TRIM_THRESHOLD_")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=env).stdout.strip()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_importing_the_core_leaves_the_host_programs_allocator_alone():
    # a notebook or another program that imports the core keeps its own malloc settings
    assert _run("import visualcnn, visualcnn.network, visualcnn.layers.workspace as w; print(w.malloc_tuned())") == "False"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc only")
def test_the_command_line_tunes_it_at_its_start():
    code = ("import visualcnn.cli as c, visualcnn.layers.workspace as w; c.main(['presets']); "
            "print('tuned', w.malloc_tuned())")
    assert _run(code).splitlines()[-1] == "tuned True"
