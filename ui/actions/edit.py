"""Edit menu: undo / redo of layer-stack edits (Ctrl+Z also from inside the field just edited)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QMenu, QStyle

from visualcnn.i18n import _

from .common import add_action

KEY = "edit"


def create(window: Any) -> None:
    P = QStyle.StandardPixmap
    add_action(window, "undo", _("Undo stack edit"), _("undo the last change to the layer stack"), P.SP_ArrowBack, "Ctrl+Z")
    add_action(window, "redo", _("Redo stack edit"), _("redo the change to the layer stack"), P.SP_ArrowForward,
               "Ctrl+Shift+Z")


def menu(window: Any) -> QMenu:
    m = window.menuBar().addMenu(_("&Edit"))
    m.addActions([window.actions["undo"], window.actions["redo"]])
    return m


def connect(window: Any) -> None:
    a, editor = window.actions, window.editor
    a["undo"].triggered.connect(editor.undo)
    a["redo"].triggered.connect(editor.redo)
    follow_undo_stack(window)


def follow_undo_stack(window: Any) -> None:
    """Undo / Redo enabled as the editor's undo stack allows (again when a rebuilt window's editor takes over
    the old one's history: ui/rebuild.py)."""
    a, stack = window.actions, window.editor.undo_stack
    stack.canUndoChanged.connect(a["undo"].setEnabled)
    stack.canRedoChanged.connect(a["redo"].setEnabled)
    a["undo"].setEnabled(stack.canUndo())
    a["redo"].setEnabled(stack.canRedo())
