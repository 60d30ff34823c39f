"""The colour scales: min … max of the finite values (activations), ±max|g| (gradients), NaN and ±inf ignored."""

import numpy as np
import pytest

from ui import style


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_levels_are_the_finite_min_and_max(dtype):
    a = np.array([[0.5, -2.0], [3.0, 1.0]], dtype=dtype)
    assert style.activation_levels(a) == (-2.0, 3.0)
    a[0, 0], a[1, 1] = np.nan, np.inf
    assert style.activation_levels(a) == (-2.0, 3.0)
    a[0, 1] = -np.inf
    assert style.activation_levels(a) == (3.0 - 0.5, 3.0 + 0.5)        # one finite value: a flat map, widened
    assert style.activation_levels(np.full(3, np.nan, dtype=dtype)) == (0.0, 1.0)
    assert style.activation_levels(np.zeros(0)) == (0.0, 1.0)


def test_symmetric_levels_take_the_largest_magnitude_of_all_arrays():
    assert style.symmetric_levels(np.array([-3.0, 1.0]), np.array([2.0])) == (-3.0, 3.0)
    assert style.symmetric_levels(np.array([0.5, np.nan, -np.inf]), np.array([-0.25, np.inf])) == (-0.5, 0.5)
    assert style.symmetric_levels(np.zeros(4)) == (-1.0, 1.0)
    assert style.symmetric_levels(np.array([np.nan]), None) == (-1.0, 1.0)


def test_painting_does_not_wait_for_qt_s_fill_threads(qapp):
    """Qt's raster painter hands every tall fill to a thread pool of its own and waits for it: slower than
    painting the window's small pictures on the GUI thread. ui.style turns that pool off before anything
    paints: a large translucent fill starts no thread."""
    import os
    import threading

    from PyQt6 import QtCore, QtGui

    def threads() -> int:
        return len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()
    before = threads()
    img = QtGui.QImage(800, 800, QtGui.QImage.Format.Format_ARGB32_Premultiplied)
    p = QtGui.QPainter(img)
    p.fillRect(QtCore.QRectF(0, 0, 700, 700), QtGui.QColor(10, 20, 30, 100))
    p.end()
    assert threads() == before
