"""The gradient check, seen: a table of every layer × tensor, and for one of them the analytic gradient,
the numeric one and their relative error side by side (those maps: gradcheck_maps.py).

The check (visualcnn.gradcheck) runs on a worker QThread: progress and the result come back as
queued signals, Cancel sets a flag the check polls between entries. The network is copied on
the GUI thread before the worker starts, so the session can keep stepping meanwhile.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Sequence

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from ui.threads import WorkerHost, end_worker, start_worker
from visualcnn.gradcheck import CheckResult, GradCheckCancelled, GradCheckReport, gradcheck
from visualcnn.i18n import N_, _
from visualcnn.spec import format_shape

from .gradcheck_maps import CheckMaps, error_map

PASS_COLOR = QtGui.QColor(46, 160, 67)
FAIL_COLOR = QtGui.QColor(200, 40, 40)
COLUMNS = (N_("Layer"), N_("Type"), N_("Tensor"), N_("Shape"), N_("Checked"), N_("Max rel. error"), N_("Result"))


def tensor_label(name: str) -> str:
    """A checked tensor as the table shows it: the input gradient in words, parameters by their symbol (W, b)."""
    return _("input") if name == "input" else name


class _CheckWorker(QtCore.QObject):
    """Runs one gradcheck off the GUI thread; reports through signals only."""

    progress = QtCore.pyqtSignal(int, int)
    finished = QtCore.pyqtSignal(object)      # GradCheckReport
    cancelled = QtCore.pyqtSignal()
    failed = QtCore.pyqtSignal(str)

    def __init__(self, network, x, labels, kwargs: dict[str, Any]) -> None:
        super().__init__()
        self.network, self.x, self.labels, self.kwargs = network, x, labels, kwargs
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()

    @QtCore.pyqtSlot()
    def run(self) -> None:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done == total or now - last[0] > 0.05:     # ≤ 20 updates/s: the GUI thread only draws
                last[0] = now
                self.progress.emit(done, total)

        try:
            report = gradcheck(self.network, self.x, self.labels, progress=progress,
                               should_stop=self._stop.is_set, **self.kwargs)
        except GradCheckCancelled:
            self.cancelled.emit()
        except Exception as e:  # noqa: BLE001 - a failing layer must not take the GUI down
            self.failed.emit(f"{type(e).__name__}: {e}")
        else:
            self.finished.emit(report)


class GradCheckView(CheckMaps, WorkerHost, QtWidgets.QWidget):
    """view.set_network(net); view.run_check(net, x, labels) → table + maps; cellClicked(layer, tensor, flat_index)."""

    cellClicked = QtCore.pyqtSignal(int, str, int)
    #: the report when a check ends, None when it was cancelled or failed
    checkFinished = QtCore.pyqtSignal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = None
        self.report: GradCheckReport | None = None
        self._batch: tuple[np.ndarray, np.ndarray] | None = None
        self._rows: list[tuple[int, str]] = []
        self._thread: QtCore.QThread | None = None
        self._worker: _CheckWorker | None = None
        self._build()

    # -- layout ---------------------------------------------------------------------
    def _build(self) -> None:
        self.setFont(style.font(style.FONT_PT))
        outer = QtWidgets.QVBoxLayout(self)
        outer.setContentsMargins(style.MARGIN, style.MARGIN, style.MARGIN, style.MARGIN)
        outer.setSpacing(style.SPACING)

        top = QtWidgets.QHBoxLayout()
        title = QtWidgets.QLabel(_("Gradient check"))
        title.setFont(style.font(style.FONT_TITLE_PT, bold=True))
        top.addWidget(title)
        self.run_button = QtWidgets.QPushButton(_("Check gradients"))
        self.run_button.setToolTip(_("Compare every gradient of backward with central differences (float64)"))
        self.run_button.clicked.connect(self._rerun)
        self.run_button.setEnabled(False)
        top.addWidget(self.run_button)
        top.addStretch(1)
        outer.addLayout(top)
        # the options and the progress on a row of their own: with the check buttons beside them the panel
        # would be wider than a 1440-pixel window's bottom dock (more so in Japanese)
        options = QtWidgets.QHBoxLayout()
        options.addWidget(QtWidgets.QLabel(_("entries per tensor")))
        self.entries = QtWidgets.QSpinBox()
        self.entries.setRange(0, 100000)
        self.entries.setValue(64)
        self.entries.setSpecialValueText(_("all"))
        self.entries.setToolTip(_("Check at most this many entries of each tensor (a random sample); 0 = all"))
        options.addWidget(self.entries)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat(_("%v / %m entries"))
        self.progress.hide()
        options.addWidget(self.progress, 1)
        self.cancel_button = QtWidgets.QPushButton(_("Cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        options.addWidget(self.cancel_button)
        options.addStretch(0)
        outer.addLayout(options)

        self.summary = QtWidgets.QLabel(_("No check run yet."))
        self.failed_message = ""             # why the last check could not run ("" when it ran)
        self.summary.setWordWrap(True)
        outer.addWidget(self.summary)

        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.table = QtWidgets.QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([_(c) for c in COLUMNS])
        self.table.setMinimumHeight(160)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        # every column as wide as its texts ("conv2d", not "conv…"): a narrow dock scrolls the table sideways
        self.table.horizontalHeader().setSectionResizeMode(QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.itemSelectionChanged.connect(self._row_selected)
        split.addWidget(self.table)
        split.addWidget(self._build_maps())
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([300, 450])
        outer.addWidget(split, 1)

    # -- feeding -----------------------------------------------------------------
    def set_network(self, network) -> None:
        """List `network`'s layers × tensors, not yet checked (clears an earlier report)."""
        self.network = network
        self.report = None
        rows = []
        for i, layer in enumerate(network.layers):
            rows += [(i, layer.type_name, k, layer.params[k].shape) for k in layer.params]
            rows.append((i, layer.type_name, "input", ("N", *(layer.input_shape or ()))))
        self._fill([(i, t, k, shape, None) for i, t, k, shape in rows])
        self.summary.setText(_("{tensors} tensors in {layers} layers, not checked yet.").format(
            tensors=len(rows), layers=len(network.layers)))
        self._clear_maps()
        self.run_button.setEnabled(self._batch is not None)

    def set_batch(self, x: np.ndarray, labels: np.ndarray) -> None:
        """The batch the Check button runs on."""
        self._batch = (np.array(x), np.array(labels))
        self.run_button.setEnabled(self.network is not None)

    def run_check(self, network, x, labels, layer: int | None = None) -> None:
        """Start checking `network` on (x, labels) — every layer, or only `layer` — off the GUI thread."""
        self.cancel(wait=True)
        if network is not self.network:
            self.set_network(network)
        self.set_batch(x, labels)
        net = network.copy()                  # a snapshot: the session may keep stepping meanwhile
        kwargs = {"max_entries": self.entries.value() or None, "layers": None if layer is None else [layer]}
        worker = _CheckWorker(net, self._batch[0], self._batch[1], kwargs)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.cancelled.connect(self._on_cancelled)
        worker.failed.connect(self._on_failed)
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_button.show()
        self.run_button.setEnabled(False)
        self.failed_message = ""
        self.summary.setText(_("Checking all layers in float64…") if layer is None else
                             _("Checking layer {index} in float64…").format(index=layer))
        self._worker = worker
        self._thread = start_worker(self, worker)

    def _rerun(self) -> None:
        if self.network is not None and self._batch is not None:
            self.run_check(self.network, *self._batch)

    @property
    def running(self) -> bool:
        """A check is under way (its result has not arrived yet)."""
        return self._worker is not None


    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- worker results ----------------------------------------------------------------
    def _end_run(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.run_button.setEnabled(self.network is not None and self._batch is not None)
        end_worker(self._thread)
        self._worker = self._thread = None

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _on_cancelled(self) -> None:
        self._end_run()
        self.summary.setText(_("Check cancelled."))
        self.checkFinished.emit(None)

    def _on_failed(self, message: str) -> None:
        self._end_run()
        self.failed_message = _("The check could not run: {why}").format(why=message)
        self.summary.setText(f"<span style='color:{FAIL_COLOR.name()}'>{self.failed_message}</span>")
        self.checkFinished.emit(None)

    def _on_finished(self, report: GradCheckReport) -> None:
        self._end_run()
        self.show_report(report)
        self.checkFinished.emit(report)

    def show_report(self, report: GradCheckReport) -> None:
        """Fill the table from `report` and select the first failing row (or the first row)."""
        self.report = report
        self._fill([(r.layer, r.layer_type, r.name, r.shape, r) for r in report.results])
        checked = sum(r.indices.size for r in report.results)
        total = sum(int(np.prod(r.shape)) for r in report.results)
        sampled = (_("{checked} of {total} entries sampled") if checked < total else _("all {total} entries")).format(
            checked=f"{checked:,}", total=f"{total:,}")
        fails = report.failures
        if fails:
            verdict = (f"<b style='color:{FAIL_COLOR.name()}'>"
                       + _("✗ {failed} of {tensors} tensors FAIL").format(failed=len(fails), tensors=len(report.results))
                       + "</b> — " + _("the first wrong formula is at or below layer {index}").format(
                           index=max(r.layer for r in fails)))
        else:
            verdict = (f"<b style='color:{PASS_COLOR.name()}'>"
                       + _("✓ all {tensors} tensors pass").format(tensors=len(report.results)) + "</b>")
        self.summary.setText(verdict + " · " + _("tolerance {tol} on the relative error").format(tol=f"{report.tol:.0e}")
                             + f" · {sampled}")
        first = next((k for k, r in enumerate(report.results) if not r.passed), 0)
        if report.results:
            self.table.selectRow(first)

    def _fill(self, rows: Sequence[tuple[int, str, str, tuple, CheckResult | None]]) -> None:
        self.table.blockSignals(True)
        self.table.clearContents()
        self.table.setRowCount(len(rows))
        self._rows = [(i, name) for i, _, name, _, _ in rows]
        for row, (i, kind, name, shape, res) in enumerate(rows):
            if res is None:
                cells = [str(i), kind, tensor_label(name), format_shape(shape), "—", "—", _("not checked")]
            else:
                n, total = res.indices.size, int(np.prod(res.shape))
                cells = [str(i), kind, tensor_label(name), format_shape(res.shape),
                         (_("{checked} of {total}") if n < total else _("all {total}")).format(
                             checked=f"{n:,}", total=f"{total:,}"),
                         f"{res.max_rel_error:.1e}", _("✓ pass") if res.passed else _("✗ FAIL")]
            for col, text in enumerate(cells):
                item = QtWidgets.QTableWidgetItem(text)
                if col in (0, 4, 5):
                    item.setTextAlignment(QtCore.Qt.AlignmentFlag.AlignRight | QtCore.Qt.AlignmentFlag.AlignVCenter)
                if res is not None and col in (5, 6):
                    color = PASS_COLOR if res.passed else FAIL_COLOR
                    if col == 6:
                        item.setBackground(color)
                        item.setForeground(QtGui.QColor("white"))
                        f = item.font()
                        f.setBold(True)
                        item.setFont(f)
                    elif not res.passed:
                        item.setForeground(color)
                self.table.setItem(row, col, item)
        self.table.blockSignals(False)


__all__ = ["COLUMNS", "FAIL_COLOR", "PASS_COLOR", "GradCheckView", "error_map", "tensor_label"]
