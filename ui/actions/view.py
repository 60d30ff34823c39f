"""View menu: a toggle per panel (added by window.add_dock), the toolbar, text size (Ctrl+= / Ctrl+-, also the
pipeline's own labels), presentation mode (F12) and Reset layout."""

from __future__ import annotations

from typing import Any

from PyQt6.QtWidgets import QMenu

from visualcnn.i18n import _

from .common import add_action

KEY = "view"


def create(window: Any) -> None:
    add_action(window, "zoom_in", _("Larger text"), _("make all text larger, the pipeline's too (for the back of the "
               "room)"), None, ["Ctrl+=", "Ctrl++"])
    add_action(window, "zoom_out", _("Smaller text"), _("make all text smaller"), None, "Ctrl+-")
    add_action(window, "presentation", _("Presentation"), _("full screen with large text for a projector; "
               "press again to leave"), None, "F12")
    window.actions["presentation"].setCheckable(True)
    add_action(window, "reset_layout", _("Reset layout"), _("put every panel back where it started, floating ones "
               "too"), None)


def menu(window: Any) -> QMenu:
    a = window.actions
    m = window.menuBar().addMenu(_("&View"))
    window.view_menu = m
    window._view_docks_end = m.addSeparator()        # add_dock puts the panels' toggles above it
    m.addActions([a["zoom_in"], a["zoom_out"], a["presentation"], a["reset_layout"]])
    return m


def connect(window: Any) -> None:
    a = window.actions
    a["zoom_in"].triggered.connect(lambda: window.zoom(+1))
    a["zoom_out"].triggered.connect(lambda: window.zoom(-1))
    a["presentation"].toggled.connect(window.set_presentation)
    a["reset_layout"].triggered.connect(window.reset_layout)
    window.view_menu.addAction(window.toolbar.toggleViewAction())
