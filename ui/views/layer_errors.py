"""The Errors panel: what went wrong in a layer's code — where (phase, layer), what, and the traceback.

    panel.add_error(LayerError.of(exc, source="step"))      # a LayerFailure, a CustomLayerError, a NaN hit…
    panel.errorAdded                                         # emitted with the LayerError (raise the dock)

Entries are plain data: the panel never holds an exception object (nor its frames) and never
raises itself, so a failing user layer cannot take the window down through it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PyQt6 import QtCore, QtGui, QtWidgets

from ui import style
from visualcnn.i18n import N_, _

MAX_ENTRIES = 200
#: who reported an error (LayerError.source) and the phase it happened in, as shown
SOURCE_LABELS = {"step": N_("step"), "run": N_("run"), "load": N_("load"), "gradient check": N_("gradient check"),
                 "breakpoint": N_("breakpoint"), "compare": N_("compare"), "mistakes": N_("mistakes")}
PHASE_LABELS = {"forward": N_("forward"), "backward": N_("backward"), "update": N_("update"), "loss": N_("loss"),
                "gradient check": N_("gradient check"), "build": N_("build")}


def shown(labels: dict[str, str], key: str) -> str:
    return _(labels[key]) if key in labels else key
ERROR_COLOR = QtGui.QColor(200, 40, 40)
WARN_COLOR = QtGui.QColor(230, 120, 0)


@dataclass(frozen=True)
class LayerError:
    """One reported problem: where it happened, the message, and the traceback text (may be empty)."""

    source: str                   # "step", "run", "load", "gradient check", "breakpoint", "compare"
    message: str
    phase: str = ""               # "forward" | "backward" | "update" | "" when not a phase
    layer: int | None = None
    traceback_text: str = ""
    path: str = ""                # the layer file, when one is to blame
    when: float = 0.0
    severity: str = "error"       # "error" | "warning"

    @classmethod
    def of(cls, exc: BaseException, source: str) -> "LayerError":
        """From a LayerFailure (phase, layer, traceback_text), a CustomLayerError (path, traceback_text)
        or any other exception (message and its own formatted traceback)."""
        import traceback
        tb = getattr(exc, "traceback_text", "") or ""
        if not tb and exc.__traceback__ is not None:
            tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        path = getattr(exc, "path", None)
        return cls(source=source, message=str(exc), phase=getattr(exc, "phase", "") or "",
                   layer=getattr(exc, "layer", None), traceback_text=tb,
                   path="" if path is None else str(path), when=time.time())

    @property
    def where(self) -> str:
        parts = []
        if self.phase:
            parts.append(shown(PHASE_LABELS, self.phase))
        if self.layer is not None:
            parts.append(_("layer {index}").format(index=self.layer))
        return " · ".join(parts) or shown(SOURCE_LABELS, self.source)


class LayerErrorsPanel(QtWidgets.QWidget):
    """A list of LayerErrors (newest first) over the selected one's message and traceback."""

    errorAdded = QtCore.pyqtSignal(object)
    showLayer = QtCore.pyqtSignal(int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.entries: list[LayerError] = []
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(style.MARGIN, style.MARGIN, style.MARGIN, style.MARGIN)
        lay.setSpacing(style.SPACING)
        top = QtWidgets.QHBoxLayout()
        self.title = QtWidgets.QLabel(_("No errors: every layer's code ran cleanly."))
        self.title.setFont(style.font(style.FONT_TITLE_PT, bold=True))
        self.title.setWordWrap(True)
        top.addWidget(self.title, 1)
        self.show_button = QtWidgets.QPushButton(_("Show layer"))
        self.show_button.setToolTip(_("select the layer this error happened in"))
        self.show_button.clicked.connect(self._show_layer)
        self.show_button.setEnabled(False)
        top.addWidget(self.show_button)
        self.clear_button = QtWidgets.QPushButton(_("Clear"))
        self.clear_button.clicked.connect(self.clear)
        top.addWidget(self.clear_button)
        lay.addLayout(top)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        self.list = QtWidgets.QTreeWidget()
        self.list.setColumnCount(4)
        self.list.setHeaderLabels([_("time"), _("from"), _("where"), _("message")])
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.header().setStretchLastSection(True)
        self.list.currentItemChanged.connect(lambda *_: self._show_current())
        split.addWidget(self.list)
        self.detail = QtWidgets.QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setFont(style.font(style.FONT_PT, mono=True))
        self.detail.setLineWrapMode(QtWidgets.QPlainTextEdit.LineWrapMode.NoWrap)
        self.detail.setPlaceholderText(_("Select an error to see its traceback."))
        split.addWidget(self.detail)
        split.setSizes([120, 260])
        lay.addWidget(split, 1)

    def add_error(self, error: LayerError) -> None:
        """Show `error` at the top of the list, selected."""
        self.entries.insert(0, error)
        del self.entries[MAX_ENTRIES:]
        stamp = time.strftime("%H:%M:%S", time.localtime(error.when or time.time()))
        first_line = error.message.splitlines()[0] if error.message else ""
        item = QtWidgets.QTreeWidgetItem([stamp, shown(SOURCE_LABELS, error.source), error.where, first_line])
        item.setForeground(3, ERROR_COLOR if error.severity == "error" else WARN_COLOR)
        item.setToolTip(3, error.message)
        self.list.insertTopLevelItem(0, item)
        while self.list.topLevelItemCount() > MAX_ENTRIES:
            self.list.takeTopLevelItem(self.list.topLevelItemCount() - 1)
        for col in range(3):
            self.list.resizeColumnToContents(col)
        self.list.setCurrentItem(item)
        n = len(self.entries)
        self.title.setText(_("Errors: {n} — the session itself is unaffected: fix the layer, reload its file, or "
                             "remove it from the stack").format(n=n))
        self.errorAdded.emit(error)

    def clear(self) -> None:
        self.entries.clear()
        self.list.clear()
        self.detail.clear()
        self.show_button.setEnabled(False)
        self.title.setText(_("No errors: every layer's code ran cleanly."))

    def current(self) -> LayerError | None:
        row = self.list.indexOfTopLevelItem(self.list.currentItem()) if self.list.currentItem() else -1
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _show_current(self) -> None:
        e = self.current()
        if e is None:
            self.detail.clear()
            self.show_button.setEnabled(False)
            return
        head = [e.message, "", _("where: {where}   (reported by: {source})").format(
            where=e.where, source=shown(SOURCE_LABELS, e.source))]
        if e.path:
            head.append(_("file: {path}").format(path=e.path))
        body = e.traceback_text.rstrip() or _("(no traceback: the layer returned a wrong result rather than raising)")
        self.detail.setPlainText("\n".join(head) + "\n\n" + body)
        self.show_button.setEnabled(e.layer is not None and e.layer >= 0)

    def _show_layer(self) -> None:
        e = self.current()
        if e is not None and e.layer is not None and e.layer >= 0:
            self.showLayer.emit(int(e.layer))
