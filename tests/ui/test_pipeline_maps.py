"""A pipeline column paints its maps as one picture: it must look as one scaled ImageItem per map did."""

import numpy as np
import pyqtgraph as pg
import pytest
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.views.pipeline_maps import MapTiles, colour


def _render(scene: QtWidgets.QGraphicsScene, w: int, h: int) -> np.ndarray:
    img = QtGui.QImage(w, h, QtGui.QImage.Format.Format_RGB32)
    img.fill(0xFFFFFF)
    p = QtGui.QPainter(img)
    scene.render(p, QtCore.QRectF(0, 0, w, h), QtCore.QRectF(0, 0, w, h))
    p.end()
    bits = img.constBits()
    bits.setsize(img.sizeInBytes())
    return np.frombuffer(bits, np.uint8).reshape(h, w, 4)[..., :3].astype(int).copy()


@pytest.mark.parametrize("gradient", [False, True])
def test_tiles_paint_the_colours_an_image_item_paints(qapp, gradient):
    rng = np.random.default_rng(3)
    data = rng.standard_normal((2, 12, 9)).astype(np.float32)
    levels = style.symmetric_levels(data) if gradient else style.activation_levels(data)
    cells = [QtCore.QRectF(10, 10, 45, 60), QtCore.QRectF(61, 10, 45, 60)]     # 5 px a unit: no rounding
    reference = QtWidgets.QGraphicsScene()
    for k, cell in enumerate(cells):
        item = pg.ImageItem()
        reference.addItem(item)
        style.set_image(item, data[k], gradient, levels)
        item.setRect(cell)
    scene = QtWidgets.QGraphicsScene()
    tiles = MapTiles()
    scene.addItem(tiles)
    maps = [tiles.add_map() for _ in range(2)]
    for m in maps:
        scene.addItem(m)
    tiles.show(data, levels, gradient, 0, cells)
    a, b = _render(reference, 120, 80), _render(scene, 120, 80)
    inside = (slice(11, 69), slice(11, 54))          # inside the first cell, clear of its frame
    np.testing.assert_array_equal(a[inside], b[inside])
    inside = (slice(11, 69), slice(62, 105))
    np.testing.assert_array_equal(a[inside], b[inside])
    # each map keeps its own data and the column's levels, and maps its pixels onto its cell
    assert maps[1].image is not None and np.array_equal(maps[1].image, data[1]) and maps[1].levels == levels
    assert maps[1].mapRectToScene(maps[1].boundingRect()) == cells[1]


def test_colour_clips_to_the_ends_and_leaves_nan_transparent():
    out = colour(np.array([[[-5.0, 0.0, 0.999, 5.0, np.nan]]]), (0.0, 1.0), gradient=False)
    lut = np.asarray(style.ACTIVATION_LUT)
    assert tuple(out[0, 0, 0, 2::-1]) == tuple(lut[0]) and tuple(out[0, 0, 3, 2::-1]) == tuple(lut[255])
    assert tuple(out[0, 0, 2, 2::-1]) == tuple(lut[255])
    assert out[0, 0, 0, 3] == 255 and tuple(out[0, 0, 4]) == (0, 0, 0, 0)


def test_a_page_shows_only_its_maps_and_a_clear_empties_them(qapp):
    scene = QtWidgets.QGraphicsScene()
    tiles = MapTiles()
    scene.addItem(tiles)
    maps = [tiles.add_map() for _ in range(4)]
    data = np.arange(2 * 3 * 3, dtype=float).reshape(2, 3, 3)
    tiles.show(data, (0.0, 17.0), False, 2, [QtCore.QRectF(0, 0, 30, 30), QtCore.QRectF(40, 0, 30, 30)])
    assert [m.isVisible() for m in maps] == [False, False, True, True]
    assert np.array_equal(maps[3].image, data[1])
    tiles.clear()
    assert all(m.image is None for m in maps)
