"""FileControl: what replaces or leaves the session — presets, other data sets, exports."""

from __future__ import annotations

from typing import Any

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _


class FileControl:
    """Mixin of Controller: open a preset, switch the data set, export metrics and a step's arrays."""

    def set_dataset(self, dataset: Any, label: str) -> bool:
        """Train and step on `dataset` with the same network and optimizer (weights kept; the iteration
        count, curves and step history start again). An incompatible set is refused with a message."""
        from visualcnn.session import Session

        s = self.session

        def build() -> Any:
            return Session(s.network, s.optimizer, dataset, batch_size=s.batch_size, seed=s.seed)
        try:
            new = build()            # checks the shapes; a run, if any, goes on untouched when they differ
        except VisualCNNError as e:
            self._error(_("{label} was not loaded: {error}. The session is unchanged.").format(label=label, error=e))
            return False
        if self.worker.is_active:
            # the new session shares the network: stop the run, then take its weights as they are now
            self._new_worker(s)
            new = build()
        new.breakpoints = s.breakpoints
        if not self.switch_session(new, self.window.files.path, dirty=True, label=label):
            return False
        self.window.statusBar().showMessage(_("now on {dataset}: weights kept; curves and step history start "
                                              "again").format(dataset=dataset.describe()), 8000)
        return True

    def switch_session(self, session: Any, path: Any = None, dirty: bool = False, label: str | None = None) -> bool:
        """Drive `session` (opened from `path`; `label` names it in a message, default the file's name) from now
        on — or, if anything on the way fails, stay exactly on the session the window had (its file, title, stack,
        views and test points) and say why. True if switched."""
        files = self.window.files
        old, old_file = self.session, (files.session, files.path, files.is_dirty)
        old_points = list(self.worker.test_points)
        try:
            files.set_session(session, path, dirty)
            self.set_session(session)
        except Exception as e:  # noqa: BLE001 - whatever a view trips on, the window must not be left half-switched
            name = label or getattr(path, "name", None) or _("the session")
            try:
                files.set_session(*old_file)
                self.set_session(old)
                self.worker.test_points[:] = old_points
                self.refresh(force=True)
            finally:
                message = _("{name} was not opened: the window could not show it ({error}); it stays on the "
                            "session it had").format(name=name, error=f"{type(e).__name__}: {e}")
                self._error(message)
                from ui import files as files_mod
                files_mod.show_error(self.window, _("Could not open"), message)
            return False
        return True

    def confirm_discard(self, what: str) -> bool:
        """Ask before `what` replaces the session: save, discard or cancel when there are unsaved changes."""
        return self.window.files.maybe_close()

    def open_preset(self, name: str) -> bool:
        """Switch to a bundled preset's session."""
        from visualcnn.session import Session
        if not self.confirm_discard(_("Opening the preset '{name}'").format(name=name)):
            return False
        try:
            session = Session.from_preset(name)
        except VisualCNNError as e:
            self._error(str(e))
            return False
        if not self.switch_session(session, None, label=_("the preset '{name}'").format(name=name)):
            return False
        self.window.settings.setValue("session/last_preset", name)
        return True

    def _wrong_math_warning(self) -> str:
        """What every export says when a study-note mistake is switched on ('' when the math is correct)."""
        from ui.strips import mistakes_text

        return mistakes_text(self.session.network, self.session.optimizer)

    def export_metrics_csv(self) -> None:
        self.window.files.export_metrics_csv(list(self.session.metrics), list(self.worker.test_points),
                                             warning=self._wrong_math_warning())

    def export_record(self) -> None:
        if self.refuse():
            return
        records = self.shown_records()
        self.window.files.export_record(records[-1] if records else None, warning=self._wrong_math_warning())
