"""Debug menu and toolbar: step (F10), step back (Shift+F10), step iteration (F11), run / pause (F5),
stop (Shift+F5), reset weights (Ctrl+R); the toolbar also shows the run speed. The controller connects
these actions to its commands (Controller._connect_window)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QLabel, QMenu, QStyle, QToolBar

from visualcnn.i18n import _

from .common import add_action

KEY = "debug"


def create(window: Any) -> None:
    P = QStyle.StandardPixmap
    add_action(window, "step", _("Step phase"), _("run the next phase: one layer forward or backward, the loss, "
               "or the update"), P.SP_ArrowRight, "F10")
    add_action(window, "step_back", _("Step back"), _("undo the last phase exactly"), P.SP_ArrowLeft, "Shift+F10")
    add_action(window, "step_iteration", _("Step iteration"), _("run the rest of this iteration, up to and including "
               "the update"), P.SP_MediaSkipForward, "F11")
    add_action(window, "run", _("Run"), _("train for the iterations or epochs set under Training, at the speed set "
               "there; press again to pause, and again to resume"), P.SP_MediaPlay, "F5")
    add_action(window, "stop", _("Stop"), _("end the run"), P.SP_MediaStop, "Shift+F5")
    add_action(window, "reset", _("Reset weights"), _("new initial weights from the seed; clears the step history"),
               P.SP_BrowserReload, "Ctrl+R")


def menu(window: Any) -> QMenu:
    a = window.actions
    m = window.menuBar().addMenu(_("&Debug"))
    window.debug_menu = m
    m.addActions([a["step"], a["step_back"], a["step_iteration"]])
    m.addSeparator()
    m.addActions([a["run"], a["stop"]])
    m.addSeparator()
    m.addAction(a["reset"])

    tools = QToolBar(_("Debug toolbar"))
    tools.setObjectName("debugToolbar")
    tools.setIconSize(QSize(24, 24))
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    tools.addActions([a["step_back"], a["step"], a["step_iteration"]])
    tools.addSeparator()
    tools.addActions([a["run"], a["stop"]])
    tools.addSeparator()
    tools.addAction(a["reset"])
    window.speed_tool = QLabel()
    window.speed_tool.setToolTip(_("run speed: change it under Training (also during a run)"))
    tools.addSeparator()
    tools.addWidget(window.speed_tool)
    window.addToolBar(tools)
    window.toolbar = tools
    return m


def show_speed(window: Any) -> None:
    from ..worker import speed_label
    window.speed_tool.setText("  " + _("speed: {speed}").format(speed=speed_label(window.hyper_panel.speed)) + "  ")


def connect(window: Any) -> None:
    window.hyper_panel.speedChanged.connect(lambda *_: show_speed(window))
    show_speed(window)
