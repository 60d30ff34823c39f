"""The fuzz suite's bookkeeping: every test counts the inputs it tried; the total is printed per run."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

TRIED = {"inputs": 0}

# bounded in time: examples per property are set per test (see each max_examples); no per-example deadline
# on a loaded machine, and no "too slow" complaint for properties that write a file per example
settings.register_profile("fuzz", deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.function_scoped_fixture])
settings.load_profile("fuzz")


def tried(n: int = 1) -> None:
    TRIED["inputs"] += n


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter):
    if TRIED["inputs"]:
        terminalreporter.write_line(f"fuzz: {TRIED['inputs']} hostile inputs tried in this run")
