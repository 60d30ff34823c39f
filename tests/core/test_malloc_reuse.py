"""Freed arrays are reused from the heap (layers/workspace.keep_freed_memory), not faulted in again."""

from __future__ import annotations

import resource

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


@pytest.mark.skipif(not workspace.MALLOC_TUNED, reason="glibc malloc not tunable here")
def test_a_repeated_step_gets_its_memory_back_without_page_faults():
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
