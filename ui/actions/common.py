"""add_action: a window-wide QAction whose tooltip names its shortcut (for every menu module)."""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QStyle


def add_action(window: Any, key: str, text: str, tip: str, icon: QStyle.StandardPixmap | None = None,
               shortcut: str | QKeySequence.StandardKey | list | None = None) -> QAction:
    """A window-wide action `window.actions[key]`, its tooltip naming its shortcut."""
    act = QAction(text, window)
    if icon is not None:
        act.setIcon(window.style().standardIcon(icon))
    if shortcut is not None:
        if isinstance(shortcut, list):
            act.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            act.setShortcut(QKeySequence(shortcut))
        tip = f"{tip}  ({act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})"
    act.setToolTip(tip)
    act.setStatusTip(tip)
    act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(act)        # shortcuts work even while the toolbar is hidden
    window.actions[key] = act
    return act
