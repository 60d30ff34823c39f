"""Pointing: what a lesson step points at, highlighted in the window.

A view is a dock (raised, its title bar coloured), a layer is the selected column (pipeline, inspector,
stack), a tab is the inspector's tab, a unit is an outlined pixel on the pipeline's map of that layer.
"""

from __future__ import annotations

from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

HIGHLIGHT = "#ffb300"
DOCK_STYLE = f"QDockWidget::title {{ background: {HIGHLIGHT}; }}"
# the lesson's view names that are not docks of their own
NOT_DOCKS = {"pipeline": None, "numbers": "inspector"}


class Pointing:
    def __init__(self, window: Any) -> None:
        self.window = window
        self.dock: QtWidgets.QDockWidget | None = None
        self.marker: QtWidgets.QGraphicsRectItem | None = None

    def clear(self) -> None:
        if self.dock is not None:
            self.dock.setStyleSheet("")
            self.dock = None
        if self.marker is not None:
            try:
                scene = self.marker.scene()
                if scene is not None:
                    scene.removeItem(self.marker)
            except RuntimeError:            # the image it sat on was rebuilt
                pass
            self.marker = None

    def show(self, point: Any, hide_mistakes: bool = False) -> None:
        """Highlight `point` (a lessons.Pointer or None); the previous highlight goes."""
        self.clear()
        if point is None:
            return
        w = self.window
        key = NOT_DOCKS.get(point.view, point.view)
        if hide_mistakes and key == "mistakes":
            key = None
        dock = w.docks.get(key) if key else None
        if dock is not None:
            dock.show()
            dock.raise_()
            dock.setStyleSheet(DOCK_STYLE)
            self.dock = dock
        if point.layer is not None:
            w.controller.select_layer(point.layer)
        tab = "Numbers" if point.view == "numbers" else point.tab
        inspector = getattr(w, "inspector", None)
        if tab and inspector is not None and tab in getattr(inspector, "TABS", ()):
            inspector.setCurrentIndex(inspector.TABS.index(tab))
        if point.layer is not None and point.unit is not None:
            # the input of layer i is the output of layer i − 1 (−1: the input column)
            column = point.layer - 1 if point.of == "input" else point.layer
            self.marker = mark_unit(w.pipeline, column, point.unit)

    @property
    def marked(self) -> tuple[int, int] | None:
        """The (x, y) pixel of the map the marker outlines (for tests)."""
        if self.marker is None:
            return None
        r = self.marker.rect()
        return int(r.x()), int(r.y())


def mark_unit(pipeline: Any, layer: int, unit: tuple[int, ...]) -> QtWidgets.QGraphicsRectItem | None:
    """Outline `unit` ((channel, row, col) of a map, or (j,) of a vector) on the pipeline column of `layer`."""
    images_of = getattr(pipeline, "images_of_layer", None)
    if images_of is None:
        return None
    try:
        images = images_of(layer)
    except (IndexError, AttributeError):
        return None
    if len(unit) == 3:
        channel, row, col = unit
    elif len(unit) == 1:
        channel, row, col = 0, unit[0], 0          # a vector is drawn as one column of D pixels
    else:
        return None
    if channel >= len(images):
        return None
    image = images[channel]
    # the unit itself, and a ring around it large enough to find on a small map
    rect = QtWidgets.QGraphicsRectItem(QtCore.QRectF(col, row, 1, 1), image)
    pen = QtGui.QPen(QtGui.QColor(HIGHLIGHT), 2)
    pen.setCosmetic(True)
    rect.setPen(pen)
    rect.setZValue(10)
    shape = getattr(image, "image", None)
    size = max(shape.shape[:2]) if shape is not None else 8
    r = max(1.5, 0.15 * size)
    ring = QtWidgets.QGraphicsEllipseItem(QtCore.QRectF(col + 0.5 - r, row + 0.5 - r, 2 * r, 2 * r), rect)
    ring_pen = QtGui.QPen(QtGui.QColor(HIGHLIGHT), 3)
    ring_pen.setCosmetic(True)
    ring.setPen(ring_pen)
    return rect


__all__ = ["Pointing", "mark_unit"]
