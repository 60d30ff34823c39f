"""File menu: presets, sessions (open / save / recent), an image as the input, the layer stack as JSON,
exports (pipeline as PNG or SVG, metrics plots, metrics CSV, the current step's arrays), quit."""

from __future__ import annotations

from typing import Any

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMenu, QStyle

from visualcnn.i18n import _

from .common import add_action

KEY = "file"


def create(window: Any) -> None:
    P = QStyle.StandardPixmap
    add_action(window, "open_spec", _("Open layer stack…"),
               _("load a layer stack (spec) from a JSON file into the editor"),
               P.SP_DialogOpenButton)
    add_action(window, "save_spec", _("Save layer stack…"), _("save the layer stack (spec) as JSON"), P.SP_DialogSaveButton)
    add_action(window, "open_image", _("Open image…"), _("a PNG or JPEG picture as the input: converted like the "
               "dataset's images, pinned, and run forward"), None, "Ctrl+I")
    add_action(window, "export_pipeline", _("Pipeline view as PNG/SVG…"), _("save a picture of the pipeline (SVG: a "
               "vector figure for slides)"), None)
    add_action(window, "export_metrics_plot", _("Metrics plots as PNG/SVG…"), _("save the curves as a picture"), None)
    add_action(window, "export_csv", _("Metrics as CSV…"), _("every iteration's loss, accuracy, gradient norms and "
               "update ratios, and the test points"), None)
    add_action(window, "export_record", _("Current step's arrays (.npz)…"), _("every array of the last phase's "
               "record (activations, gradients, updates)"), None)
    add_action(window, "quit", _("Quit"), _("close the window"), None, "Ctrl+Q")
    f = window.files.actions
    f["open"].setText(_("&Open session…"))
    f["save"].setText(_("&Save session"))
    f["save_as"].setText(_("Save session &as…"))
    for act in f.values():
        window.addAction(act)
        tip = f"{act.text().replace('&', '')}  ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
        act.setToolTip(tip)
        act.setStatusTip(tip)


def menu(window: Any) -> QMenu:
    a, f = window.actions, window.files.actions
    m = window.menuBar().addMenu(_("&File"))
    window.presets_menu = m.addMenu(_("&New from preset"))
    _fill_presets(window)
    m.addAction(f["open"])
    window.files.recent_menu(m)
    m.addActions([f["save"], f["save_as"]])
    m.addSeparator()
    m.addAction(a["open_image"])
    stack = m.addMenu(_("&Layer stack"))
    stack.addActions([a["open_spec"], a["save_spec"]])
    window.export_menu = m.addMenu(_("&Export"))
    window.export_menu.addActions([a["export_pipeline"], a["export_metrics_plot"], a["export_csv"],
                                   a["export_record"]])
    window.file_end = m.addSeparator()         # extensions insert their actions before this (and Quit)
    m.addAction(a["quit"])
    return m


def _fill_presets(window: Any) -> None:
    window.preset_actions = {}
    try:
        from visualcnn.presets import list_presets
        presets = list_presets()
    except Exception as e:          # a broken preset file must not keep the window from opening
        act = window.presets_menu.addAction(_("presets unavailable: {error}").format(error=e))
        act.setEnabled(False)
        return
    for p in presets:
        act: QAction = window.presets_menu.addAction(p["title"])
        act.setToolTip(p["description"])
        act.setStatusTip(p["description"])
        act.setData(p["name"])
        window.preset_actions[p["name"]] = act
    window.presets_menu.setToolTipsVisible(True)


def connect(window: Any) -> None:
    a, c = window.actions, window.controller
    a["quit"].triggered.connect(window.request_close)
    a["open_image"].triggered.connect(lambda: window.open_image())
    a["export_pipeline"].triggered.connect(lambda: window.files.export_view(window.pipeline.export_target()))
    a["export_metrics_plot"].triggered.connect(lambda: window.files.export_view(window.metrics.graphics))
    a["export_csv"].triggered.connect(c.export_metrics_csv)
    a["export_record"].triggered.connect(c.export_record)
    a["open_spec"].triggered.connect(lambda: window.open_spec())
    a["save_spec"].triggered.connect(lambda: window.save_spec())
    for name, act in window.preset_actions.items():
        act.triggered.connect(lambda _checked=False, n=name: c.open_preset(n))
