"""View ▸ Language: the whole window built again, in the new language, around the same session.

Every text of the window is written once, when its widget is built (`_()` at construction). A language switch
therefore keeps no retranslate hook per widget (each panel added later would need its own, and a forgotten one
stays English): it builds every menu, dock and panel again — the panels of every module, extensions included —
and carries across what the user had:

- the session itself (its phase, step history, weights, curves, breakpoints, mistakes, pinned input), its file
  and unsaved-changes mark, and the curves' held-out test points;
- the layer-stack editor's undo history and its current edit (an invalid one too);
- the window's size, every dock's place, size and tab, the toolbar, presentation mode, the text size;
- the inspected layer and the inspector's tab, the Training panel's run settings, a lesson in progress, the
  failures listed in the Errors panel.

A run is stopped first (the iterations it did stay done). While a user layer's code still runs a command
(ui/control/guard.py) the switch is refused with a message: the session belongs to that thread until it returns;
likewise while a data set downloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PyQt6 import sip
from PyQt6.QtCore import QByteArray, QObject, QSize, Qt
from PyQt6.QtWidgets import QApplication, QDockWidget, QLayout, QMenuBar, QStatusBar, QTabBar, QToolBar, QWidget

from visualcnn.i18n import _


@dataclass
class Carried:
    """What a rebuilt window takes over from the one before (see the module doc)."""

    session: Any
    path: Any
    dirty: bool
    test_points: list
    state: QByteArray
    size: QSize
    presentation: bool
    full_screen: bool
    undo_stack: Any
    spec: dict | None
    spec_row: int | None
    applied: Any
    discard_confirmed: bool
    layer: int | None
    inspector_tab: int
    run: dict = field(default_factory=dict)
    pin_source: str = ""
    left_dataset: Any = None
    lesson_player: Any = None
    errors: list = field(default_factory=list)
    alert: str = ""
    last_hit: Any = None
    status: str = ""


def refusal(window: Any) -> str | None:
    """Why the window cannot be rebuilt now (None: it can)."""
    c = getattr(window, "controller", None)
    if c is not None and c.busy:
        return _("{why}; the language changes once it is over").format(why=c.busy_refusal())
    downloader = getattr(window, "downloader", None)
    if downloader is not None and downloader.busy:      # its result goes to the window that started it
        return _("A download is still running: choose the language again once it has finished.")
    return None


def rebuild(window: Any) -> bool:
    """Build `window`'s widgets again around its session, in the language now in use; False (and why, in the
    status bar) when a layer's code still owns the session."""
    why = refusal(window)
    if why:
        window.statusBar().showMessage(why, 8000)
        return False
    window.setUpdatesEnabled(False)          # one repaint at the end, not a flash of half-built docks
    QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)      # about half a second
    try:
        carried = capture(window)
        old_controller = window.controller
        teardown(window, carried.session)
        try:
            window._build(carried.session)
            restore(window, carried)
        except Exception as e:  # noqa: BLE001 - a half-built window is the one outcome worse than English
            build_in_english(window, carried.session, e, carried, old_controller)
            return False
    finally:
        QApplication.restoreOverrideCursor()
        window.setUpdatesEnabled(True)
    return True


def build_in_english(window: Any, session: Any, error: Exception, carried: Carried | None = None,
                     old_controller: Any = None) -> None:
    """Building the window in the language in use failed (a panel, a translation): take down what was built,
    build it in English (every text the code's own), restore `carried` if a rebuild was under way, and say what
    happened. At start too (MainWindow), so that a saved language can never keep the window from opening."""
    import traceback

    from visualcnn import i18n

    from .language import SETTING, apply_language
    traceback.print_exception(error)
    language = i18n.LANGUAGES.get(i18n.current_language(), i18n.current_language())
    c = getattr(window, "controller", None)
    if c is not None and c is not old_controller and c.worker is not None:
        c.detach()                           # the half-built window's controller had taken the session
    if carried is not None and not sip.isdeleted(carried.undo_stack):
        carried.undo_stack.setParent(None)   # not to go down with the half-built editor
    apply_language(i18n.SOURCE_LANGUAGE)
    window.settings.setValue(SETTING, i18n.SOURCE_LANGUAGE)      # the next start must not fail the same way
    teardown(window, session)
    window._build(session)
    if carried is not None:
        restore(window, carried)
    window.show_message(_("The window could not be built in {language} ({error}); it is shown in English.").format(
        language=language, error=f"{type(error).__name__}: {error}"))


def capture(window: Any) -> Carried:
    """Everything the new widgets take over; stops a run and lets go of the session (after this the old
    widgets only wait to be deleted)."""
    presenting = window.presenting
    full_screen = bool(presenting and window._presentation_from[3])
    if presenting:
        window.set_presentation(False)       # the working layout is what is carried; presentation re-entered
    c, files, editor, panel = window.controller, window.files, window.editor, window.hyper_panel
    test_points = c.detach()                 # stops a run (stepping's batch size and ε back) and its thread
    stack = editor.undo_stack
    stack.setParent(None)                    # outlives the old editor: it moves to the new one
    lessons = getattr(window, "lessons", None)
    inspector = window.inspector
    return Carried(
        session=c.session, path=files.path, dirty=files.is_dirty, test_points=test_points,
        state=window.saveState(), size=window.size(), presentation=presenting, full_screen=full_screen,
        undo_stack=stack, spec=editor.spec(), spec_row=editor.current_row(),
        applied=getattr(editor, "_applied", None), discard_confirmed=getattr(editor, "_discard_confirmed", False),
        layer=getattr(inspector, "layer", None),
        inspector_tab=inspector.currentIndex() if hasattr(inspector, "currentIndex") else -1,
        run={"speed": panel.speed, "length": panel.iterations.value(), "unit": panel.run_unit_value(),
             "batch": panel.run_batch.value(), "lr": panel.run_lr.value(), "seed": panel.seed.value()},
        pin_source=c.pin_source, left_dataset=getattr(c, "_left_dataset", None),
        lesson_player=getattr(lessons, "player", None),
        errors=list(getattr(_errors_panel(window), "entries", [])),
        alert=c.alert, last_hit=c.last_hit,
        status=window.statusBar().currentMessage())


def _errors_panel(window: Any) -> Any:
    """The math lab's Errors panel (the failures of layers' code so far), if the window has one."""
    return getattr(getattr(window, "mathlab", None), "errors", None)


def _owned_by(obj: QObject, window: QWidget) -> bool:
    while obj is not None and not sip.isdeleted(obj):
        if obj is window:
            return True
        obj = obj.parent()
    return False


def teardown(window: Any, session: Any) -> None:
    """Remove every widget, menu, action and helper object of `window` (deleted later) and every callback they
    left on `session`'s events; the QMainWindow itself, its layout and geometry stay."""
    lab = getattr(window, "mathlab", None)
    if lab is not None and hasattr(lab, "shutdown"):
        lab.shutdown()                       # its gradient-check and comparison threads
    files = getattr(window, "files", None)
    if files is not None:
        files.set_session(None)
    for name in session.events.names:        # any panel's listener: bound methods of the window's objects
        for callback in session.events.subscribers(name):
            owner = getattr(callback, "__self__", None)
            if isinstance(owner, QObject) and _owned_by(owner, window):
                session.events.disconnect(name, callback)
    for dock in list(getattr(window, "docks", {}).values()):
        window.removeDockWidget(dock)
    for bar in window.findChildren(QToolBar):
        if bar.parent() is window:
            window.removeToolBar(bar)
    for act in QWidget.actions(window):      # (window.actions is the dict of the window's named actions)
        window.removeAction(act)
    keep = (QLayout, QTabBar)                # the main window's own layout and the dock areas' tab bars
    old = [child for child in window.children() if not isinstance(child, keep)]
    window.setMenuBar(QMenuBar(window))
    window.setStatusBar(QStatusBar(window))
    window.setCentralWidget(QWidget(window))
    for child in old:
        if sip.isdeleted(child):
            continue
        if isinstance(child, QWidget):
            child.hide()
            if isinstance(child, (QDockWidget, QToolBar)):
                # out of the window at once: restoreState finds docks and toolbars by name among its children
                child.setParent(None)
        child.deleteLater()
    window._torn_down = old                  # referenced until their deferred deletion has run


def restore(window: Any, carried: Carried) -> None:
    """Hand the rebuilt widgets what the old ones had (see Carried)."""
    c, files, editor, panel = window.controller, window.files, window.editor, window.hyper_panel
    files.set_session(carried.session, carried.path, carried.dirty)
    c.worker.test_points[:] = carried.test_points
    run = carried.run
    panel.set_speed(run["speed"])
    panel.iterations.setValue(run["length"])
    panel.set_run_unit(run["unit"])
    panel.show_run_hyper(run["batch"], run["lr"])
    panel.seed.setValue(run["seed"])
    c.pin_source = carried.pin_source
    if carried.left_dataset is not None:
        c._left_dataset = carried.left_dataset
    _carry_undo(editor, carried)
    from .actions.edit import follow_undo_stack
    follow_undo_stack(window)                # Undo / Redo follow the history the editor took over
    errors = _errors_panel(window)
    if errors is not None and hasattr(errors, "add_error"):
        for error in reversed(carried.errors):          # oldest first: the list shows the newest on top
            errors.add_error(error)
    if not (window.isFullScreen() or window.isMaximized()):
        window.resize(carried.size)
    window.restoreState(carried.state)
    QApplication.sendPostedEvents()          # lay the new docks out once: then the sizes in the state take
    window.restoreState(carried.state)
    window._hide_stale_tab_bars()
    player = carried.lesson_player
    lessons = getattr(window, "lessons", None)
    if player is not None and lessons is not None and player.session is carried.session:
        lessons.player = player
        if hasattr(player, "apply_mistakes") and hasattr(lessons, "_apply_mistakes"):
            player.apply_mistakes = lessons._apply_mistakes
        lessons.show_step()
    if carried.layer is not None:
        c.select_layer(carried.layer)
    if carried.inspector_tab >= 0:
        window.inspector.setCurrentIndex(carried.inspector_tab)
    if carried.alert:                        # a breakpoint or an error still to be read (as it was worded)
        c.alert, c.last_hit = carried.alert, carried.last_hit
        window.banner.show_message(carried.alert, getattr(carried.last_hit, "layer", None))
    c.refresh(force=True)
    window._update_title()
    if carried.presentation:
        window.set_presentation(True, full_screen=carried.full_screen)
    if carried.status:
        window.statusBar().showMessage(carried.status, 5000)


def _carry_undo(editor: Any, carried: Carried) -> None:
    """The old editor's undo history, its commands pointed at the new editor; its edit shown as it was."""
    stack = carried.undo_stack
    old_stack = editor.undo_stack
    stack.setParent(editor)
    for i in range(stack.count()):
        command = stack.command(i)
        if hasattr(command, "editor"):
            command.editor = editor
    editor.undo_stack = stack
    old_stack.deleteLater()
    if carried.spec is not None and carried.spec != editor.spec():
        editor._applied = carried.applied
        editor._show_spec(carried.spec, carried.spec_row, announce=False)
    elif carried.spec_row is not None:
        editor.select_layer(carried.spec_row)
    if hasattr(editor, "_discard_confirmed"):
        editor._discard_confirmed = carried.discard_confirmed


__all__ = ["Carried", "build_in_english", "capture", "rebuild", "refusal", "restore", "teardown"]
