"""Fixtures shared by the GUI tests (a module's own `window` fixture overrides this one)."""

import pytest

from tests.ui.helpers import open_window
from visualcnn.session import Session


@pytest.fixture
def window(qtbot, tmp_path):
    """The window on the digits-small preset at 1440×900, with throw-away settings; shut down afterwards."""
    w = open_window(qtbot, tmp_path, Session.from_preset("digits-small"))
    yield w
    w.controller.shutdown()
