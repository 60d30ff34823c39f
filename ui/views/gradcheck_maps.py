"""The gradient check's maps of one checked tensor: the analytic gradient, the numeric one (one colour scale)
and log₁₀ of their relative error, with pickers for the leading axes, failing cells outlined, and a clicked
cell's numbers. A mixin of GradCheckView (gradcheck_view.py), which owns the table and the check's worker."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.gradcheck import CheckResult
from visualcnn.i18n import N_, _
from visualcnn.spec import format_shape

FAIL_MARK = QtGui.QColor(255, 152, 0)        # outline of failing cells on the maps
#: the relative-error map shows log10(error), floored here (exact agreement would be −∞)
ERROR_FLOOR = 1e-16
ERROR_LEVELS = (-12.0, 0.0)
#: a picker's name for each leading axis (axis_names), as shown
AXIS_LABELS = {"sample": N_("sample"), "channel": N_("channel"), "filter": N_("filter")}


def symbol(name: str) -> str:
    """A checked tensor in the formulas' letters: the input is x (∂C/∂x), parameters keep theirs (W, b)."""
    return "x" if name == "input" else name


def error_map(result: CheckResult) -> np.ndarray:
    """log10 of the relative error, shaped like the tensor, NaN where the entry was not sampled."""
    rel = result.full("rel_error")
    with np.errstate(invalid="ignore"):
        return np.log10(np.maximum(rel, ERROR_FLOOR), where=~np.isnan(rel), out=np.full(rel.shape, np.nan))


def axis_names(result: CheckResult) -> tuple[str, ...]:
    """Names of the leading axes a picker chooses from, so that a 2-D map is left."""
    nd = len(result.shape)
    if nd <= 2:
        return ()
    if result.name == "input":
        return ("sample", "channel")[:nd - 2] if nd == 4 else ("sample",)
    return ("filter", "channel")[:nd - 2] if nd == 4 else ("filter",)


class CheckMaps:
    """GradCheckView's maps (a mixin: the view holds the table, the report and `cellClicked`)."""

    def _build_maps(self) -> QtWidgets.QWidget:
        """The map title and pickers, the three maps, their legend and the entry line."""
        maps = QtWidgets.QWidget()
        ml = QtWidgets.QVBoxLayout(maps)
        ml.setContentsMargins(0, 0, 0, 0)
        pick = QtWidgets.QHBoxLayout()
        self.map_title = QtWidgets.QLabel(_("Select a row to see its gradients."))
        self.map_title.setFont(style.font(style.FONT_PT, bold=True))
        pick.addWidget(self.map_title, 1)
        self.pickers: list[tuple[QtWidgets.QLabel, QtWidgets.QSpinBox]] = []
        for _k in range(2):
            label, spin = QtWidgets.QLabel(), QtWidgets.QSpinBox()
            spin.valueChanged.connect(self._show_maps)
            pick.addWidget(label)
            pick.addWidget(spin)
            label.hide(), spin.hide()
            self.pickers.append((label, spin))
        ml.addLayout(pick)
        self.glw = pg.GraphicsLayoutWidget()
        self.glw.setMinimumHeight(220)
        self.glw.ci.setSpacing(style.GAP)
        self.glw.setBackground(style.background_color(self))
        self.maps = {
            "analytic": style.image_item_with_scale(self.glw.ci, 0, 0, _("analytic (backward)"), gradient=True),
            "numeric": style.image_item_with_scale(self.glw.ci, 0, 2, _("numeric (central diff.)"), gradient=True),
            "error": style.image_item_with_scale(self.glw.ci, 0, 4, _("log₁₀ relative error"), gradient=False),
        }
        self.marks: dict[str, pg.ScatterPlotItem] = {}
        for key, m in self.maps.items():
            m.set_title(m.plot.titleLabel.text)
            mark = pg.ScatterPlotItem(symbol="s", size=1.0, pxMode=False, brush=None,
                                      pen=pg.mkPen(FAIL_MARK, width=2))
            mark.setZValue(10)
            m.plot.addItem(mark)
            self.marks[key] = mark
        self.glw.scene().sigMouseClicked.connect(self._map_clicked)
        ml.addWidget(self.glw, 1)
        legend = QtWidgets.QLabel(_("Outlined cells fail the tolerance · blank cells were not sampled · "
                                    "click a cell for its numbers"))
        legend.setWordWrap(True)
        legend.setFont(style.font(style.FONT_SMALL_PT))
        ml.addWidget(legend)
        self.entry_label = QtWidgets.QLabel("")
        self.entry_label.setFont(style.font(style.FONT_PT, mono=True))
        self.entry_label.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        ml.addWidget(self.entry_label)
        return maps

    def selected_result(self) -> CheckResult | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or self.report is None:
            return None
        layer, name = self._rows[rows[0].row()]
        try:
            return self.report.result(layer, name)
        except KeyError:
            return None

    def select(self, layer: int, name: str) -> None:
        """Select the row of (layer, tensor)."""
        self.table.selectRow(self._rows.index((layer, name)))

    def _row_selected(self) -> None:
        res = self.selected_result()
        names = axis_names(res) if res is not None else ()
        for k, (label, spin) in enumerate(self.pickers):
            visible = k < len(names)
            label.setVisible(visible)
            spin.setVisible(visible)
            if visible:
                spin.blockSignals(True)
                label.setText(_(AXIS_LABELS[names[k]]))
                spin.setRange(0, res.shape[k] - 1)
                failing = res.failing
                if failing.size:        # start on the slice of the worst failing entry
                    worst = res.indices[np.argmax(res.rel_error)]
                    spin.setValue(int(np.unravel_index(worst, res.shape)[k]))
                else:
                    spin.setValue(min(spin.value(), res.shape[k] - 1))
                spin.blockSignals(False)
        self._show_maps()

    def _lead(self) -> tuple[int, ...]:
        res = self.selected_result()
        n = len(axis_names(res)) if res is not None else 0
        return tuple(self.pickers[k][1].value() for k in range(n))

    def _slice(self, array: np.ndarray) -> np.ndarray:
        """The 2-D map of `array` (a tensor's full shape) at the pickers' leading indices."""
        a = array[self._lead()]
        return a[None, :] if a.ndim == 1 else a

    def current_maps(self) -> dict[str, np.ndarray]:
        """What the three maps show now: analytic, numeric (same levels) and log10 relative error (2-D each)."""
        res = self.selected_result()
        if res is None:
            return {}
        return {"analytic": self._slice(res.full("analytic")), "numeric": self._slice(res.full("numeric")),
                "error": self._slice(error_map(res))}

    def _clear_maps(self) -> None:
        for key, m in self.maps.items():
            m.clear()
            self.marks[key].clear()
        self.map_title.setText(_("Select a row to see its gradients."))
        self.entry_label.setText("")

    def _show_maps(self) -> None:
        res = self.selected_result()
        if res is None:
            self._clear_maps()
            return
        maps = self.current_maps()
        levels = style.symmetric_levels(maps["analytic"], maps["numeric"])
        self.maps["analytic"].show(maps["analytic"], levels)
        self.maps["numeric"].show(maps["numeric"], levels)
        self.maps["error"].show(maps["error"], ERROR_LEVELS)
        lead = self._lead()
        where = "".join(f", {_(AXIS_LABELS[n])} {v}" for n, v in zip(axis_names(res), lead))
        self.map_title.setText(_("layer {index} {type}").format(index=res.layer, type=res.layer_type)
                               + f" · ∂C/∂{symbol(res.name)} ({format_shape(res.shape)}){where}")
        # outline the failing cells of this slice
        pts = []
        if res.failing.size:
            idx = np.unravel_index(res.failing, res.shape)
            keep = np.ones(res.failing.size, dtype=bool)
            for k, v in enumerate(lead):
                keep &= idx[k] == v
            rest = [a[keep] for a in idx[len(lead):]]
            rows, cols = (np.zeros_like(rest[0]), rest[0]) if len(rest) == 1 else rest
            pts = [{"pos": (c + 0.5, r + 0.5)} for r, c in zip(rows, cols)]
        for mark in self.marks.values():
            mark.setData(pts)
        worst = res.indices[np.argmax(res.rel_error)] if res.indices.size else None
        if worst is not None:
            self._describe_entry(res, int(worst))

    def _describe_entry(self, res: CheckResult, flat: int) -> None:
        pos = np.unravel_index(flat, res.shape)
        k = np.searchsorted(res.indices, flat)
        if k < res.indices.size and res.indices[k] == flat:
            a, n, e = res.analytic[k], res.numeric[k], res.rel_error[k]
            mark = "✓" if e < res.tol else "✗"
            text = f"{symbol(res.name)}[{', '.join(map(str, pos))}]: " + _(
                "analytic {analytic}, numeric {numeric}, rel. error {error} {mark}").format(
                analytic=style.format_number(a, 6), numeric=style.format_number(n, 6), error=f"{e:.1e}", mark=mark)
        else:
            text = f"{symbol(res.name)}[{', '.join(map(str, pos))}]: " + _("not sampled")
        self.entry_label.setText(text)

    def _map_clicked(self, event) -> None:
        res = self.selected_result()
        if res is None:
            return
        pos = event.scenePos()
        for m in self.maps.values():
            if m.plot.vb.sceneBoundingRect().contains(pos) and m.image.image is not None:
                p = m.image.mapFromScene(pos)
                r, c = int(np.floor(p.y())), int(np.floor(p.x()))
                h, w = m.image.image.shape[:2]
                if not (0 <= r < h and 0 <= c < w):
                    return
                tail = (c,) if len(res.shape) - len(self._lead()) == 1 else (r, c)
                flat = int(np.ravel_multi_index(self._lead() + tail, res.shape))
                self._describe_entry(res, flat)
                self.cellClicked.emit(res.layer, res.name, flat)
                return
