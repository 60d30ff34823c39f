"""The math lab's mistakes: which of the study note's formulas the session computes (`wanted`), the Mistakes
menu and panel kept in step with it, and the twin-run comparison."""

from __future__ import annotations

from typing import Sequence

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _
from visualcnn.mistakes import MISTAKES, active, applies_to, apply_to_session, check_names


class Mistakes:
    """MathLab's mistakes part (a mixin)."""

    def _sync_checks(self) -> None:
        on = active(self.session.network, self.session.optimizer)
        shown = list(dict.fromkeys([*on, *self.wanted]))
        self.mistakes_panel.set_checked(shown)
        for name, act in self.mistake_actions.items():
            act.blockSignals(True)
            act.setChecked(name in shown)
            act.blockSignals(False)


    def _action_toggled(self, name: str, on: bool) -> None:
        names = [n for n in MISTAKES if (n in self.wanted and n != name) or (n == name and on)]
        self.set_mistakes(names)

    def set_mistakes(self, names: Sequence[str]) -> bool:
        """Compute exactly the named mistakes from now on (none = the built-in classes), weights kept."""
        try:
            names = check_names(names)
        except VisualCNNError as e:
            self.window.statusBar().showMessage(str(e), 6000)
            return False
        if not self._session_free(_("switching formulas")):
            self._sync_checks()
            return False
        previous = self.wanted
        self.wanted = names
        try:
            self._applying = True
            apply_to_session(self.session, names)
        except VisualCNNError as e:
            self.wanted = previous
            self.report(e, "mistakes")
            return False
        finally:
            self._applying = False
        self._network_changed()
        self.check_view.summary.setText(_("The formulas changed: run the check again."))
        if names:
            idle = [n for n in names if not applies_to(n, self.session.network)]
            msg = _("Computing the study note's {mistakes} — check the gradients to catch it").format(
                mistakes=", ".join(names))
            if idle:
                msg += " " + _("({mistakes} changes nothing in this network)").format(mistakes=", ".join(idle))
            self.mistakes_panel.select(names[-1])
        else:
            msg = _("Correct math: every layer computes the built-in formulas again")
        self.window.statusBar().showMessage(msg, 8000)
        if hasattr(self.controller, "refresh"):
            self.controller.refresh(force=True)
        self.mistakesApplied.emit(list(names))
        return True

    def explain(self) -> None:
        if self.wanted:
            self.mistakes_panel.select(self.wanted[-1])
        dock = self.docks["mistakes"]
        dock.show()
        dock.raise_()

    def compare_with_correct(self) -> bool:
        """Train a correct twin and one with the ticked mistakes from the current weights; plot both losses."""
        if not self.wanted:
            self.compare.note.setText(_("Tick a mistake first: with none, both twins compute the same math."))
            self.explain()
            return False
        try:
            self.compare.start(self.session, self.wanted)
        except VisualCNNError as e:
            self.report(e, "compare")
            return False
        self.explain()
        return True

