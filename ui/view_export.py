"""Writing a view or a step to a file, atomically: a widget as PNG (any) or SVG (pyqtgraph plots and the
pipeline's scene, as vector shapes), a StepRecord's arrays as .npz. No dialogs here: SessionFiles (ui/files.py)
asks for the file and says what went wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from visualcnn.i18n import _
from visualcnn.io import atomic_write


def export_widget(widget: QtWidgets.QWidget, path: str | Path) -> Path:
    """PNG (any widget, via grab) or SVG (pyqtgraph views only); atomic. Raises ValueError when SVG is impossible."""
    path = Path(path)
    if path.suffix.lower() == ".svg":
        import pyqtgraph as pg
        from pyqtgraph.exporters import SVGExporter

        if isinstance(widget, QtWidgets.QGraphicsView) and not isinstance(widget, pg.GraphicsView):
            # a plain QGraphicsScene (the pipeline): Qt's SVG generator draws the whole scene, scrolled-out
            # columns too, as vector shapes and real text
            svg = _scene_svg(widget, widget.sceneRect())
            atomic_write(path, lambda f: f.write(svg))
            return path
        views = [widget] if isinstance(widget, pg.GraphicsView) else widget.findChildren(pg.GraphicsView)
        if not views:
            raise ValueError(_("{name}: this view is not a pyqtgraph plot, so it has no SVG form; export it as PNG "
                               "instead").format(name=path.name))
        view = max(views, key=lambda v: v.width() * v.height())
        try:
            svg = bytes(SVGExporter(view.scene()).export(toBytes=True))
        except ValueError:
            # pyqtgraph's exporter cannot parse the path syntax of Qt >= 6.10's SVG writer
            # (pyqtgraph issue #3485): let Qt write the SVG of the scene directly instead.
            svg = _scene_svg(view)
        atomic_write(path, lambda f: f.write(svg))
        return path
    if path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        path = path.with_suffix(".png")
    if isinstance(widget, QtWidgets.QGraphicsView) and not isinstance(widget, pg_view_class()):
        rect = widget.sceneRect()            # the whole scene, not only the part scrolled into view
        pixmap = QtGui.QPixmap(int(rect.width()), int(rect.height()))
        pixmap.fill(widget.palette().color(QtGui.QPalette.ColorRole.Window))
        painter = QtGui.QPainter(pixmap)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        widget.scene().render(painter, QtCore.QRectF(pixmap.rect()), rect)
        painter.end()
    else:
        pixmap = widget.grab()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    if not pixmap.save(buffer, path.suffix.lstrip(".").upper().replace("JPG", "JPEG")):
        raise ValueError(_("{name}: the view could not be rendered as {suffix}").format(name=path.name,
                                                                                          suffix=path.suffix))
    data = bytes(buffer.data())
    atomic_write(path, lambda f: f.write(data))
    return path


def pg_view_class():
    import pyqtgraph as pg
    return pg.GraphicsView


def _scene_svg(view, rect=None) -> bytes:
    """The scene of a graphics view (its visible part for a pyqtgraph view, or `rect`) rendered by Qt's
    QSvgGenerator (vector lines, real text)."""
    from PyQt6 import QtSvg

    if rect is None:
        rect = view.viewRect() if hasattr(view, "viewRect") else view.sceneRect()
    buffer = QtCore.QBuffer()
    buffer.open(QtCore.QIODevice.OpenModeFlag.WriteOnly)
    generator = QtSvg.QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QtCore.QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QtCore.QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle("visualcnn view")
    generator.setResolution(view.logicalDpiX())      # else line widths and clipped items scale apart
    painter = QtGui.QPainter(generator)
    view.scene().render(painter, QtCore.QRectF(0, 0, rect.width(), rect.height()), rect)
    painter.end()
    return bytes(buffer.data())


def export_record_npz(record, path: str | Path, warning: str = "") -> Path:
    """Every array of a StepRecord (record.arrays()) as an .npz, atomically; a `warning` (the math is
    deliberately wrong) is stored beside them as the text array `WARNING_deliberately_wrong_math`."""
    arrays = record.arrays()
    if warning:
        arrays["WARNING_deliberately_wrong_math"] = np.array(warning)
    return atomic_write(path, lambda f: np.savez(f, **arrays))


__all__ = ["export_record_npz", "export_widget"]
