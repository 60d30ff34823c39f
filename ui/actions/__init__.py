"""The window's actions, one module per menu (as napari's `_qapp_model/qactions/_file.py`, `_view.py`, …).

Each menu module has
- `create(window)`: its QActions, made with `add_action` (stored in `window.actions[key]`, shortcuts live
  even while the toolbar is hidden);
- `menu(window)`: its menu in the menu bar (stored in `window.menus[KEY]`), and anything else it shows;
- `connect(window)`: wiring to the window and `window.controller`, called once the controller exists.

MENUS is the menu bar's order. A new menu (or a group of actions in an existing menu, e.g. File ▸ Open
model…) is a new module here listed in EXTENSIONS: its `install(window)` runs after the menus and the
controller exist and adds to `window.menus["file"]` etc. or calls `window.add_menu(title)`; a new panel
goes through `window.add_dock(key, title, widget, area, tabify_with=...)`.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import data, debug, edit, file, view
from .common import add_action

#: the menu bar, left to right (window.add_menu puts extension menus before Debug)
MENUS = (file, edit, view, debug, data)
#: modules with install(window), run after the menus and the controller exist
EXTENSIONS: tuple[str, ...] = ("ui.actions.model", "ui.actions.download", "ui.teach")


def build(window: Any) -> None:
    """Every menu module's actions, then its menu."""
    for module in MENUS:
        module.create(window)
    for module in MENUS:
        window.menus[module.KEY] = module.menu(window)


def connect(window: Any) -> None:
    for module in MENUS:
        module.connect(window)
    for name in EXTENSIONS:
        importlib.import_module(name).install(window)

__all__ = ["EXTENSIONS", "MENUS", "add_action", "build", "connect"]
