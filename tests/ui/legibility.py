"""What a reader at the back of the room would call a bug, measured: text cut or elided, captions on top of
each other, columns out of reach, maps too small. Used by test_legibility.py at several window sizes."""

from __future__ import annotations

from itertools import combinations

from PyQt6 import QtCore, QtGui, QtWidgets


def _plain(label: QtWidgets.QLabel) -> str:
    text = label.text()
    if label.textFormat() == QtCore.Qt.TextFormat.RichText or (
            label.textFormat() == QtCore.Qt.TextFormat.AutoText and QtCore.Qt.mightBeRichText(text)):
        doc = QtGui.QTextDocument()
        doc.setHtml(text)
        text = doc.toPlainText()
    return text


def _shown(widget: QtWidgets.QWidget, window: QtWidgets.QWidget) -> bool:
    return widget.isVisibleTo(window) and widget.width() > 0 and widget.height() > 0


def cut_labels(window: QtWidgets.QWidget) -> list[str]:
    """Every visible label whose text does not fit it (a line wider than the label, or wrapped text taller)."""
    bad = []
    for label in window.findChildren(QtWidgets.QLabel):
        if not _shown(label, window) or not label.text() or label.pixmap() is not None and not label.pixmap().isNull():
            continue
        rect = label.contentsRect()
        fm = QtGui.QFontMetricsF(label.font())
        text = _plain(label)
        if label.wordWrap():
            need = label.heightForWidth(rect.width())
            if need > rect.height() + 2:
                bad.append(f"{text!r}: wrapped text needs {need} px of height, has {rect.height()}")
            continue
        widest = max(fm.horizontalAdvance(line) for line in text.split("\n"))
        if widest > rect.width() + 1:
            bad.append(f"{text!r}: {widest:.0f} px wide in a {rect.width()} px label")
    return bad


def cut_controls(window: QtWidgets.QWidget) -> list[str]:
    """Spin boxes, combo boxes, buttons and check boxes narrower than their text needs."""
    bad = []
    kinds = (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QAbstractButton)
    for w in window.findChildren(QtWidgets.QWidget):
        if not isinstance(w, kinds) or not _shown(w, window) or isinstance(w, QtWidgets.QToolButton):
            continue
        if w.parent() is not None and isinstance(w.parent(), QtWidgets.QTabBar):
            continue
        need = w.minimumSizeHint().width()
        if w.width() + 1 < need:
            text = w.currentText() if isinstance(w, QtWidgets.QComboBox) else getattr(w, "text", lambda: "")()
            bad.append(f"{type(w).__name__} {text!r} in {type(w.parentWidget()).__name__}: {w.width()} px, "
                       f"needs {need}")
    return bad


def hidden_tabs(window: QtWidgets.QWidget) -> list[str]:
    """Tabs that are scrolled out of a visible tab bar, or cut by its edge."""
    bad = []
    for bar in window.findChildren(QtWidgets.QTabBar):
        if not _shown(bar, window):
            continue
        fm = QtGui.QFontMetricsF(bar.font())
        text_h = fm.height()
        for i in range(bar.count()):
            r = bar.tabRect(i)
            elided = r.width() < fm.horizontalAdvance(bar.tabText(i).replace("&", "")) + 8
            if r.left() < 0 or r.right() > bar.rect().right() or text_h > bar.height() or elided:
                bad.append(f"tab {bar.tabText(i)!r} is not wholly shown ({r} in {bar.rect()})")
    return bad


def overlapping_captions(pipeline) -> list[str]:
    items = pipeline.caption_items()
    bad = []
    for a, b in combinations(items, 2):
        ra, rb = a.sceneBoundingRect(), b.sceneBoundingRect()
        inter = ra.intersected(rb)
        if inter.width() > 0.5 and inter.height() > 0.5:
            bad.append(f"{a.text().strip()!r} overlaps {b.text().strip()!r}")
    return bad


def captions_outside_columns(pipeline) -> list[str]:
    bad = []
    for col in pipeline.columns:
        for t in col.texts():
            r = t.sceneBoundingRect()
            if col.kind == "loss" and t in col.bar_values + col.bar_labels:
                continue
            if r.left() < col.rect.left() - 0.5 or r.right() > col.rect.right() + 0.5:
                bad.append(f"{t.text().strip()!r} sticks out of column {col.spec.title!r}")
    return bad


def unreachable_columns(pipeline) -> list[str]:
    """Columns that scrolling cannot bring wholly into view (sideways; a scene taller than the view must
    scroll up and down too)."""
    view = pipeline.view
    bad = []
    vp = view.viewport().rect()
    if pipeline.scene.sceneRect().height() > vp.height() + 1 and not view.verticalScrollBar().isVisible():
        bad.append(f"the scene is {pipeline.scene.sceneRect().height():.0f} px high in a {vp.height()} px view "
                   f"that cannot scroll")
    for col in pipeline.columns:
        view.ensureVisible(col.rect, 0, 0)
        QtWidgets.QApplication.processEvents()
        shown = view.mapFromScene(col.rect).boundingRect()
        if shown.left() < -1 or shown.right() > vp.right() + 1:
            bad.append(f"column {col.spec.title!r} at {shown} cannot be brought into the {vp}")
    view.horizontalScrollBar().setValue(0)
    return bad


def map_sizes(panel) -> list[float]:
    """The short side (px on screen) of every map with data in an inspector MapPanel."""
    out = []
    for sp, data in zip(panel.plots, panel.data):
        if data is None:
            continue
        r = sp.image.mapRectToScene(sp.image.boundingRect())
        out.append(min(r.width(), r.height()))
    return out


def cut_plots(metrics) -> list[str]:
    """Plots of the metrics view (axes and titles included) that reach past what its graphics view shows, and
    a graphics view that reaches past the metrics view itself (the dock's visible area)."""
    g = metrics.graphics
    bad = []
    vp = g.viewport().rect()
    for p in metrics.plot_items():
        shown = g.mapFromScene(p.sceneBoundingRect()).boundingRect()
        if shown.left() < -1 or shown.top() < -1 or shown.right() > vp.right() + 1 or shown.bottom() > vp.bottom() + 1:
            bad.append(f"plot {p.titleLabel.text!r} at {shown} reaches past the view's {vp}")
    inside = QtCore.QRect(g.mapTo(metrics, QtCore.QPoint(0, 0)), g.size())
    if not metrics.rect().contains(inside):
        bad.append(f"the plots' view {inside} reaches past the metrics view's {metrics.rect()}")
    return bad


def cut_columns(tree: QtWidgets.QTreeView) -> list[str]:
    """Columns of a tree or table whose text does not fit its section (elided or cut), or whose section
    reaches past the visible viewport (a column the reader must scroll sideways to read)."""
    header = tree.header()
    vp_w = tree.viewport().width()
    bad = []
    for c in range(header.count()):
        if header.isSectionHidden(c):
            continue
        need = max(tree.sizeHintForColumn(c), header.sectionSizeHint(c))
        left, width = header.sectionViewportPosition(c), header.sectionSize(c)
        name = tree.model().headerData(c, QtCore.Qt.Orientation.Horizontal)
        if width + 1 < need:
            bad.append(f"column {name!r} is {width} px wide, its text needs {need}")
        if left < 0 or left + min(width, need) > vp_w + 1:
            bad.append(f"column {name!r} at {left}…{left + width} px is cut by the {vp_w} px wide view")
    return bad


def cut_samples(panel) -> list[str]:
    """The samples panel's images and bar chart inside its view, every image at least 24 px, and the texts
    (image titles, the bar chart's p(true class)) inside their plots."""
    g = panel.glw
    vp = QtCore.QRectF(g.viewport().rect()).adjusted(-1, -1, 1, 1)
    bad = []
    for p in [*panel.image_plots, panel.bars_plot]:
        shown = g.mapFromScene(p.sceneBoundingRect()).boundingRect()
        if not vp.contains(QtCore.QRectF(shown)):
            bad.append(f"plot {p.titleLabel.text!r} at {shown} reaches past the view's {vp}")
    for p, img in zip(panel.image_plots, panel.image_items):
        r = img.mapRectToScene(img.boundingRect())
        if img.image is not None and min(r.width(), r.height()) < 24:
            bad.append(f"image {p.titleLabel.text!r} is {r.width():.0f}×{r.height():.0f} px")
        if p.titleLabel.isVisible() and p.titleLabel.item.boundingRect().width() > p.width() + 1:
            bad.append(f"title {p.titleLabel.text!r} is wider than its {p.width():.0f} px image")
    if panel.bar_text.textItem.toPlainText():
        box = panel.bars_plot.getViewBox().sceneBoundingRect().adjusted(-1, -1, 1, 1)
        if not box.contains(panel.bar_text.sceneBoundingRect()):
            bad.append(f"{panel.bar_text.textItem.toPlainText()!r} sticks out of the bar chart")
    return bad


def cut_list_rows(lst: QtWidgets.QListWidget) -> list[str]:
    """Rows of a list whose text is cut: one line wider than its row or than the visible list (a row the reader
    must scroll sideways to read), or a row below the part of the list that shows while it cannot scroll."""
    fm = QtGui.QFontMetricsF(lst.font())
    vp = lst.viewport().rect()
    can_scroll = lst.verticalScrollBarPolicy() != QtCore.Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    bad = []
    for r in range(lst.count()):
        item, rect = lst.item(r), lst.visualItemRect(lst.item(r))
        check = 24 if item.flags() & QtCore.Qt.ItemFlag.ItemIsUserCheckable else 4
        width = fm.horizontalAdvance(item.text()) + check
        if not lst.wordWrap() and (width > rect.width() or rect.left() + width > vp.right() + 1):
            bad.append(f"{item.text()!r} is {width:.0f} px in a {min(rect.width(), vp.width())} px row")
        if rect.bottom() > vp.bottom() + 1 and not can_scroll:
            bad.append(f"{item.text()!r} lies below the list's {vp.height()} px")
    return bad
