"""File ▸ Open model… / Export model…: an ONNX model in as a session like any other, the network out as ONNX
or PyTorch code; the import report in the Model panel. The work is the core's (visualcnn.interop)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QStyle

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import N_, _

from .. import files as files_mod
from .common import add_action

MODEL_FILTER = N_("ONNX models (*.onnx);;All files (*)")
EXPORT_FILTER = N_("ONNX model (*.onnx);;PyTorch code and weights (*.py)")
NO_MODEL = N_("This session was not opened from a model file. File ▸ Open model… reads an ONNX file "
              "(from torch.onnx.export, for example).")


def install(window: Any) -> None:
    P = QStyle.StandardPixmap
    open_act = add_action(window, "open_model", _("Open model (ONNX)…"), _("open a trained model from an ONNX file: its "
                          "layers and weights become a session to step through"), P.SP_DirOpenIcon)
    export_act = add_action(window, "export_model", _("Export model…"), _("write the network and its current weights "
                            "as an ONNX file, or as PyTorch code (.py) with its weights (.npz)"), None)
    file_menu = window.menus["file"]
    file_menu.insertActions(window.file_end, [open_act, export_act])
    window.model_report = QLabel(_(NO_MODEL))
    window.model_report.setWordWrap(True)
    window.model_report.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    window.model_report.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    window.model_report.setMargin(8)
    dock = window.add_dock("model", _("Model"), window.model_report, Qt.DockWidgetArea.LeftDockWidgetArea,
                           tabify_with="stack", scroll=True)
    dock.hide()
    window.docks["stack"].raise_()
    open_act.triggered.connect(lambda: open_model(window))
    export_act.triggered.connect(lambda: export_model(window))
    window.controller.sessionChanged.connect(lambda session: show_report(window, session))
    show_report(window, window.controller.session)      # a model given on the command line


def show_report(window: Any, session: Any) -> None:
    """The Model panel follows the session: its import report, shown, or a hint when it is not an import."""
    from visualcnn.interop.sessions import import_report

    report = import_report(session)
    window.model_report.setText(_(NO_MODEL) if report is None else "\n".join(report.detail_lines()))
    if report is not None:
        window.docks["model"].show()
        window.docks["model"].raise_()


def open_model(window: Any, path: str | Path | None = None) -> bool:
    """Replace the session with the ONNX model at `path` (asked for if None); its report in the Model panel."""
    from visualcnn.interop.sessions import open_model_session

    if path is None:
        path = files_mod.get_open_path(window, _("Open model"), "", _(MODEL_FILTER))
        if not path:
            return False
    c = window.controller
    if not c.confirm_discard(_("Opening the model {name}").format(name=Path(path).name)):
        return False
    try:
        session, model = open_model_session(path)
    except (VisualCNNError, OSError) as e:
        window.show_message(_("The model was not opened: {error}. The session is unchanged.").format(error=e))
        return False
    window.files.set_session(session, path=None)
    c.set_session(session)                      # the Model panel follows (sessionChanged)
    data = session.dataset.describe()
    if session.dataset.source.get("name_or_path") == "random":
        data = _("random images of its input shape (no data set fits)")
    window.statusBar().showMessage(_("opened {summary}; stepping on {data}").format(
        summary=model.report.summary(), data=data), 10000)
    return True


def export_model(window: Any, path: str | Path | None = None) -> Path | None:
    """Write the session's network as ONNX (.onnx) or PyTorch code (.py + .npz), by the file name's suffix."""
    from visualcnn.interop import to_onnx, to_pytorch

    c = window.controller
    if c.refuse():
        return None
    if path is None:
        path = files_mod.get_save_path(window, _("Export model"), str(Path.home() / "model.onnx"),
                                         _(EXPORT_FILTER))
        if not path:
            return None
    path = Path(path)
    if path.suffix == "":
        path = path.with_suffix(".onnx")
    try:
        with c.session.lock:
            if path.suffix.lower() == ".py":
                written = to_pytorch(c.session.network, path)
                message = _("exported {code} and {weights} (PyTorch)").format(code=written[0].name,
                                                                                weights=written[1].name)
            elif path.suffix.lower() == ".onnx":
                written = (to_onnx(c.session.network, path),)
                message = _("exported {name} (ONNX)").format(name=written[0].name)
            else:
                raise VisualCNNError(_("cannot export to {name}: the name must end in .onnx (ONNX) "
                                       "or .py (PyTorch code)").format(name=path.name))
    except (VisualCNNError, OSError) as e:
        window.show_message(_("The model was not exported: {error}").format(error=e))
        return None
    window.statusBar().showMessage(message, 8000)
    return written[0]
