"""File ▸ Export animation…: choose phases, size, in-between frames and speed, then a file; rendered offscreen."""

from __future__ import annotations

from typing import Any

from PyQt6 import QtCore, QtWidgets
from PyQt6.QtGui import QAction

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _

from .animation import MAX_INBETWEENS, export_animation

SIZES = ((1280, 800), (1440, 900), (1920, 1080), (1280, 720))
FILTER = "GIF (*.gif);;Animated PNG (*.png);;MP4 video (*.mp4)"


class AnimationDialog(QtWidgets.QDialog):
    """The options of an animation export; `options()` once accepted."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Export animation"))
        form = QtWidgets.QFormLayout(self)
        self.phases = QtWidgets.QComboBox()
        for key, text in (("all", _("the whole iteration (forward, loss, backward, update)")),
                          ("forward", _("the forward wave and the loss")),
                          ("backward", _("the backward wave and the update"))):
            self.phases.addItem(text, key)
        self.size = QtWidgets.QComboBox()
        for w, h in SIZES:
            self.size.addItem(f"{w}×{h}", (w, h))
        self.view = QtWidgets.QComboBox()
        self.view.addItem(_("the pipeline alone"), "pipeline")
        self.view.addItem(_("the whole window"), "window")
        self.inbetweens = QtWidgets.QSpinBox()
        self.inbetweens.setRange(0, MAX_INBETWEENS)
        self.inbetweens.setToolTip(_("cross-faded frames between two phases, for a smoother wave"))
        self.fps = QtWidgets.QDoubleSpinBox()
        self.fps.setRange(0.5, 30)
        self.fps.setValue(2.0)
        self.presentation = QtWidgets.QCheckBox(_("presentation text size"))
        self.presentation.setChecked(True)
        form.addRow(_("Phases"), self.phases)
        form.addRow(_("Size"), self.size)
        form.addRow(_("Show"), self.view)
        form.addRow(_("In-between frames"), self.inbetweens)
        form.addRow(_("Frames per second"), self.fps)
        form.addRow("", self.presentation)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def options(self) -> dict[str, Any]:
        return {"phases": self.phases.currentData(), "size": self.size.currentData(), "view": self.view.currentData(),
                "inbetweens": self.inbetweens.value(), "fps": self.fps.value(),
                "presentation": self.presentation.isChecked()}


def export_from_window(window: Any, path: str, options: dict[str, Any]) -> bool:
    """Export the current iteration of the window's session to `path`; the outcome in the status bar."""
    c = window.controller
    if c.refuse():
        return False
    QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
    try:
        out, n = export_animation(c.session, path, **options)
    except VisualCNNError as e:
        window.show_message(_("Could not export the animation: {error}").format(error=e))
        return False
    finally:
        QtWidgets.QApplication.restoreOverrideCursor()
    window.show_message(_("Wrote {path} ({n} frames).").format(path=out, n=n))
    return True


def ask_and_export(window: Any) -> bool:
    dialog = AnimationDialog(window)
    if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
        return False
    path, _filter = QtWidgets.QFileDialog.getSaveFileName(window, _("Export animation"), "wave.gif", FILTER)
    if not path:
        return False
    return export_from_window(window, path, dialog.options())


def retranslate_action(act: QAction) -> None:
    act.setText(_("Animation (GIF, APNG, MP4)…"))
    act.setStatusTip(_("the forward and backward waves of this iteration, one frame per phase, for slides"))
    act.setToolTip(act.statusTip())


def install_export_animation(window: Any) -> QAction:
    """File ▸ Export ▸ Animation (GIF, APNG, MP4)…"""
    act = QAction(window)
    retranslate_action(act)
    act.triggered.connect(lambda: ask_and_export(window))
    menu = getattr(window, "export_menu", None)
    if menu is not None:
        menu.addAction(act)
    window.actions["export_animation"] = act
    return act


__all__ = ["AnimationDialog", "ask_and_export", "export_from_window", "install_export_animation", "retranslate_action"]
