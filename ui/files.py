"""The File menu, Qt side: open / save / save as, recent files, unsaved-changes guard, exports.

    files = SessionFiles(main_window, settings=QSettings(...))   # settings default: the app's QSettings
    files.set_session(session)                 # the lead calls this whenever the session is replaced
    files.sessionOpened.connect(controller.replace_session)      # then calls files.set_session(new)
    menu.addActions(files.actions.values())    # open, save, save_as (with Ctrl+O, Ctrl+S, Ctrl+Shift+S)
    files.recent_menu(menu)                    # "Open recent" submenu, kept current
    if not files.maybe_close(): event.ignore() # in closeEvent

All saving goes through visualcnn.io (atomic: a failed save never destroys the old
file). Opening reads and checks the whole file before anything changes; a corrupt,
truncated or foreign file shows the core's message and the current session stays.
Dialogs are module functions (`ask_save_changes`, `show_error`, `get_open_path`,
`get_save_path`) so tests can replace them.

Saving while a run is going is safe: the save takes the Session's lock, so it
happens between two of the worker's chunks (a few tens of milliseconds at most).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from PyQt6 import QtCore, QtGui, QtWidgets

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import N_, _
from visualcnn.io import SESSION_SUFFIX, LayerFilesNeeded, load_session, save_session

from .view_export import export_record_npz, export_widget

MAX_RECENT = 8
RECENT_KEY = "files/recent"
SESSION_FILTER = N_("visualcnn sessions (*{suffix});;All files (*)")
#: a save waits at most this long for the session's lock (a run holds it a chunk at a time: ~20 ms)
SAVE_WAIT_S = 2.0
DIRTY_EVENTS = ("iteration_completed", "stepped_back", "hyper_changed", "network_rebuilt")


def session_filter() -> str:
    """The file dialogs' filter for session files, in the current language."""
    return _(SESSION_FILTER).format(suffix=SESSION_SUFFIX)


# -- dialogs (module functions so tests can patch them) -------------------------------------
def ask_save_changes(parent: QtWidgets.QWidget | None, name: str) -> str:
    """'save' | 'discard' | 'cancel'."""
    box = QtWidgets.QMessageBox(parent)
    box.setIcon(QtWidgets.QMessageBox.Icon.Warning)
    box.setWindowTitle(_("Unsaved changes"))
    box.setText(_("The session {name} has changes that are not saved.").format(name=name))
    box.setInformativeText(_("Save them before closing?"))
    B = QtWidgets.QMessageBox.StandardButton
    box.setStandardButtons(B.Save | B.Discard | B.Cancel)
    box.setDefaultButton(B.Save)
    answer = box.exec()
    return {B.Save: "save", B.Discard: "discard"}.get(B(answer), "cancel")


def ask_load_layer_files(parent: QtWidgets.QWidget | None, needed: LayerFilesNeeded) -> bool:
    """Whether the user agrees to run the custom layer files a session names (they are Python code)."""
    B = QtWidgets.QMessageBox.StandardButton
    answer = QtWidgets.QMessageBox.question(
        parent, _("Load custom layer files?"),
        _("{session} uses the custom layer type(s) {types}, defined in:\n\n{paths}\n\nLoading a layer file runs the "
          "Python code in it. Load only files you trust. Load them and open the session?").format(
            session=needed.session_path.name, types=", ".join(needed.types), paths="\n".join(needed.paths)),
        B.Yes | B.No, B.No)
    return answer == B.Yes


def show_error(parent: QtWidgets.QWidget | None, title: str, text: str) -> None:
    QtWidgets.QMessageBox.critical(parent, title, text)


def get_open_path(parent: QtWidgets.QWidget | None, caption: str, directory: str, filter: str) -> str:
    return QtWidgets.QFileDialog.getOpenFileName(parent, caption, directory, filter)[0]


def get_save_path(parent: QtWidgets.QWidget | None, caption: str, directory: str, filter: str) -> str:
    return QtWidgets.QFileDialog.getSaveFileName(parent, caption, directory, filter)[0]


class SessionFiles(QtCore.QObject):
    """Open / save / recent / dirty tracking for one window's Session."""

    sessionOpened = QtCore.pyqtSignal(object)      # a freshly loaded Session: the lead swaps it in
    saved = QtCore.pyqtSignal(str)                 # path
    dirtyChanged = QtCore.pyqtSignal(bool)
    recentChanged = QtCore.pyqtSignal(list)        # [path, ...] newest first
    message = QtCore.pyqtSignal(str)               # one line for the status bar
    _dirty_from_worker = QtCore.pyqtSignal()

    def __init__(self, parent: QtWidgets.QWidget | None = None, settings: QtCore.QSettings | None = None) -> None:
        super().__init__(parent)
        self.window = parent
        self.settings = settings if settings is not None else QtCore.QSettings("visualcnn", "visualcnn")
        self.session = None
        self.path: Path | None = None
        self._dirty = False
        self._dirty_from_worker.connect(lambda: self.set_dirty(True), QtCore.Qt.ConnectionType.QueuedConnection)
        #: the lead's all-or-nothing switch to an opened session: switch(session, path) -> bool; on False
        #: it has already put everything back and said why (Controller.switch_session)
        self.switch: Any = None
        self.actions = self._make_actions()
        self._recent_menus: list[QtWidgets.QMenu] = []

    # -- the session ---------------------------------------------------------------------
    def set_session(self, session, path: str | Path | None = None, dirty: bool = False) -> None:
        """Track `session` (and its file, if it came from one); subscribes to its events for dirty tracking."""
        if self.session is not None:
            for name in DIRTY_EVENTS:
                self.session.events.disconnect(name, self._on_session_event)
        self.session = session
        if session is not None:
            for name in DIRTY_EVENTS:
                session.events.connect(name, self._on_session_event)
        p = path if path is not None else getattr(session, "path", None)
        self.path = Path(p) if p is not None else None
        self.set_dirty(dirty)

    def _on_session_event(self, *args: Any) -> None:
        # May run on the worker thread during a run: only hand a signal over.
        if not self._dirty:
            self._dirty_from_worker.emit()

    @property
    def is_dirty(self) -> bool:
        return self._dirty

    def set_dirty(self, dirty: bool = True) -> None:
        """Mark unsaved changes (the lead calls it for edits the session does not announce)."""
        dirty = bool(dirty)
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)

    def display_name(self) -> str:
        return self.path.name if self.path is not None else _("untitled")

    # -- save / open -----------------------------------------------------------------------
    def save(self) -> bool:
        """Save to the current file (asks for one the first time); False if cancelled or failed."""
        if self.path is None:
            return self.save_as()
        return self._save_to(self.path)

    def save_as(self, path: str | Path | None = None) -> bool:
        if path is None:
            start = str(self.path or Path.home() / f"session{SESSION_SUFFIX}")
            path = get_save_path(self.window, _("Save session"), start, session_filter())
            if not path:
                return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(SESSION_SUFFIX)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        if self.session is None:
            return False
        lock = self.session.lock
        if not lock.acquire(timeout=SAVE_WAIT_S):
            # a layer's code still runs (and holds it): waiting could freeze the window for good
            show_error(self.window, _("Could not save"), _("{name} was not saved: a layer's code is still running "
                                                           "on this session. Press Stop (Shift+F5), then save "
                                                           "again.").format(name=path.name))
            return False
        try:
            save_session(self.session, path)       # takes the session's lock itself (re-entrant)
        except (VisualCNNError, OSError) as e:
            show_error(self.window, _("Could not save"), _("Could not save to {path}:\n{error}").format(path=path, error=e))
            return False
        finally:
            lock.release()
        self.path = path
        self.session.path = path
        self.set_dirty(False)
        self.add_recent(path)
        self.saved.emit(str(path))
        self.message.emit(_("saved {name} (iteration {k})").format(name=path.name, k=self.session.iteration))
        return True

    def open(self, path: str | Path | None = None, ask: bool = True) -> Any:
        """Load a session file; returns the new Session (also emitted as sessionOpened) or None.

        With unsaved changes, first asks whether to save them (unless ask=False). A file that
        cannot be read shows its message and changes nothing.
        """
        if path is None:
            start = str(self.path.parent if self.path else Path.home())
            path = get_open_path(self.window, _("Open session"), start, session_filter())
            if not path:
                return None
        if ask and not self.maybe_close():
            return None
        path = Path(path)
        try:
            try:
                session = load_session(path)
            except LayerFilesNeeded as needed:
                if not needed.paths or not ask_load_layer_files(self.window, needed):
                    raise
                return self._open_with_layer_files(path)       # the user agreed to run them
        except (VisualCNNError, OSError) as e:
            self._not_opened(path, e)
            return None
        return self._opened(session, path)

    def _not_opened(self, path: Path, e: BaseException) -> None:
        show_error(self.window, _("Could not open"), str(e))
        self.message.emit(_("could not open {name}").format(name=path.name))
        if not path.exists():
            self.prune_recent()

    def _open_with_layer_files(self, path: Path) -> Any:
        """load_session with its layer files, guarded like a step (ui/control/guard.py): their top level and the
        layers' __init__ run user code, so one that loops, sleeps or exits leaves the window answering on the
        session it has, with Stop in the banner. Returns the Session, or None (also while it still runs: the
        session then opens when it returns)."""
        from .control.guard import STOPPED, GuardedJob, job_result
        c = self.window.controller
        refusal = c.busy_refusal()
        if refusal:
            self.message.emit(refusal)
            return None
        what = _("opening {name} with its layer files").format(name=path.name)
        opened: list[Any] = [None]

        def finished(call) -> bool:
            try:
                session = job_result(c, call, what, "load", None, _("the window stays on the session it had"))
            except (VisualCNNError, OSError) as e:
                self._not_opened(path, e)
                return False
            except BaseException as e:  # noqa: BLE001 - sys.exit() in a layer file must not close the window
                c._failed(e, _("{what} failed: ").format(what=what))
                return False
            if session is STOPPED:
                return False
            opened[0] = self._opened(session, path)
            return opened[0] is not None
        c._guarded(lambda: load_session(path, layer_files=True), user_code=True,
                   job=GuardedJob(what, None, finished, holds_session=False))
        return opened[0]

    def _opened(self, session: Any, path: Path) -> Any:
        """The window takes the session just read from `path`; returns it, or None when the switch was refused."""
        if self.switch is not None:
            if not self.switch(session, path):
                self.message.emit(_("could not open {name}: the window stays on the session it had").format(name=path.name))
                return None
        else:
            self.set_session(session, path)
        self.add_recent(path)
        self.sessionOpened.emit(session)
        from visualcnn.mistakes import active
        on = active(session.network, session.optimizer)
        opened = _("opened {name} (iteration {k}, next: {next})").format(name=path.name, k=session.iteration,
                                                                          next=session.describe())
        if on:
            opened = _("{opened} — study-note mistakes on: {mistakes}").format(opened=opened, mistakes=", ".join(on))
        self.message.emit(opened)
        return session

    def maybe_close(self) -> bool:
        """True if it is fine to drop the current session (saved, discarded, or nothing to save)."""
        if not self._dirty or self.session is None:
            return True
        answer = ask_save_changes(self.window, self.display_name())
        if answer == "save":
            return self.save()
        return answer == "discard"

    # -- recent files --------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        """Newest first, at most MAX_RECENT, only files that still exist."""
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [p for p in (value or []) if Path(p).is_file()][:MAX_RECENT]

    def _store_recent(self, paths: Sequence[str]) -> None:
        self.settings.setValue(RECENT_KEY, list(paths))
        self.settings.sync()
        self._refresh_recent_menus()
        self.recentChanged.emit(list(paths))

    def add_recent(self, path: str | Path) -> None:
        p = str(Path(path).resolve())
        self._store_recent([p] + [q for q in self.recent_files() if q != p][:MAX_RECENT - 1])

    def prune_recent(self) -> None:
        self._store_recent(self.recent_files())

    def recent_menu(self, parent_menu: QtWidgets.QMenu) -> QtWidgets.QMenu:
        """An 'Open recent' submenu of `parent_menu`, rebuilt whenever the list changes."""
        menu = parent_menu.addMenu(_("Open &recent"))
        self._recent_menus.append(menu)
        self._refresh_recent_menus()
        return menu

    def _refresh_recent_menus(self) -> None:
        paths = self.recent_files()
        for menu in self._recent_menus:
            menu.clear()
            for k, p in enumerate(paths, 1):
                action = menu.addAction(f"&{k} {Path(p).name}")
                action.setToolTip(p)
                action.triggered.connect(lambda _=False, p=p: self.open(p))
            menu.setEnabled(bool(paths))

    # -- exports ----------------------------------------------------------------------------------
    def export_view(self, widget: QtWidgets.QWidget, path: str | Path | None = None) -> Path | None:
        """Ask for a file (PNG or SVG) if none given, and write the view there."""
        if path is None:
            path = get_save_path(self.window, _("Export view"), str(Path.home() / "view.png"),
                                 _("PNG image (*.png);;SVG drawing (*.svg)"))
            if not path:
                return None
        try:
            out = export_widget(widget, path)
        except (ValueError, OSError) as e:
            show_error(self.window, _("Could not export"), str(e))
            return None
        self.message.emit(_("exported {name}").format(name=out.name))
        return out

    def export_metrics_csv(self, metrics, test_points=(), path: str | Path | None = None,
                           warning: str = "") -> Path | None:
        from ui.views.metrics import write_metrics_csv

        if path is None:
            path = get_save_path(self.window, _("Export metrics"), str(Path.home() / "metrics.csv"), "CSV (*.csv)")
            if not path:
                return None
        try:
            out = write_metrics_csv(path, list(metrics), list(test_points), warning)
        except OSError as e:
            show_error(self.window, _("Could not export"), _("Could not write {path}:\n{error}").format(path=path, error=e))
            return None
        self.message.emit(_("exported {name}").format(name=Path(out).name))
        return Path(out)

    def export_record(self, record, path: str | Path | None = None, warning: str = "") -> Path | None:
        """The current StepRecord's arrays as .npz."""
        if record is None:
            show_error(self.window, _("Nothing to export"), _("No phase has run yet: step once, then export its arrays."))
            return None
        if path is None:
            name = f"iteration{record.iteration}_{record.index:02d}_{record.phase}.npz"
            path = get_save_path(self.window, _("Export step arrays"), str(Path.home() / name),
                                 _("NumPy archive (*.npz)"))
            if not path:
                return None
        try:
            out = export_record_npz(record, path, warning)
        except OSError as e:
            show_error(self.window, _("Could not export"), _("Could not write {path}:\n{error}").format(path=path, error=e))
            return None
        self.message.emit(_("exported {name}").format(name=out.name))
        return out

    # -- actions ---------------------------------------------------------------------------------
    def _make_actions(self) -> dict[str, QtGui.QAction]:
        parent = self.window if self.window is not None else self
        acts = {}
        for key, text, shortcut, slot in (
                ("open", _("&Open…"), QtGui.QKeySequence.StandardKey.Open, lambda: self.open()),
                ("save", _("&Save"), QtGui.QKeySequence.StandardKey.Save, lambda: self.save()),
                ("save_as", _("Save &as…"), QtGui.QKeySequence.StandardKey.SaveAs, lambda: self.save_as())):
            action = QtGui.QAction(text, parent)
            action.setShortcut(shortcut)
            action.triggered.connect(slot)
            acts[key] = action
        return acts


__all__ = ["MAX_RECENT", "SessionFiles", "ask_save_changes", "export_record_npz", "export_widget",
           "get_open_path", "get_save_path", "show_error"]
