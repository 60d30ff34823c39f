"""The Lessons dock: a lesson's steps one at a time, its questions asked before the phase is revealed.

It only draws: `visualcnn.lessons.LessonPlayer` drives the Session and judges answers against the
core's values. The dock hands the player's session to the controller, refreshes the views after every
move, highlights what a step points at, and remembers each lesson's answers and step in QSettings.
"""

from __future__ import annotations

import json
from typing import Any

from PyQt6 import QtCore, QtWidgets

from visualcnn.errors import VisualCNNError
from visualcnn.i18n import _, pick
from visualcnn.lessons import AnswerError, LessonError, LessonPlayer, find_lesson, format_answer, list_lessons

from .lesson_pointer import Pointing
from .lesson_widgets import AnswerBox, lesson_markdown

SETTINGS_KEY = "lessons"
LESSON_WIDTH = 420          # px the left column gets when a lesson starts


class LessonsPanel(QtWidgets.QWidget):
    """Pick a lesson, step through it, answer its questions. `start(name)` opens a lesson."""

    stepShown = QtCore.pyqtSignal(int)

    def __init__(self, window: Any, settings: QtCore.QSettings) -> None:
        super().__init__()
        self.window = window
        self.settings = settings
        self.player: LessonPlayer | None = None
        self.pointing = Pointing(window)
        self.lessons = []
        self.load_error = ""
        try:
            self.lessons = list_lessons()
        except LessonError as e:            # a broken bundled file must not keep the window from opening
            self.load_error = str(e)

        outer = QtWidgets.QVBoxLayout(self)
        pick_row = QtWidgets.QHBoxLayout()
        self.picker = QtWidgets.QComboBox()
        # long lesson titles must not widen the left column (1280×800 projectors)
        self.picker.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(10)
        self.picker.currentIndexChanged.connect(self._show_summary)
        self.start_button = QtWidgets.QPushButton()
        self.start_button.clicked.connect(lambda: self.start(self.picker.currentData()))
        pick_row.addWidget(self.picker, 1)
        pick_row.addWidget(self.start_button)
        outer.addLayout(pick_row)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        f = self.title.font()
        f.setBold(True)
        f.setPointSizeF(f.pointSizeF() * 1.15)
        self.title.setFont(f)
        outer.addWidget(self.title)
        self.progress = QtWidgets.QProgressBar()
        self.progress.setTextVisible(True)
        outer.addWidget(self.progress)
        self.score = QtWidgets.QLabel()
        outer.addWidget(self.score)
        self.text = QtWidgets.QTextBrowser()
        self.text.setOpenExternalLinks(False)
        outer.addWidget(self.text, 3)
        self.answer_box = AnswerBox()
        self.answer_box.answered.connect(self.answer)
        outer.addWidget(self.answer_box)
        self.verdict = QtWidgets.QLabel()
        self.verdict.setWordWrap(True)
        outer.addWidget(self.verdict)
        self.explain = QtWidgets.QTextBrowser()
        outer.addWidget(self.explain, 2)
        nav = QtWidgets.QHBoxLayout()
        self.back_button = QtWidgets.QPushButton()
        self.back_button.clicked.connect(self.back)
        self.again_button = QtWidgets.QPushButton()
        self.again_button.clicked.connect(self.ask_again)
        self.next_button = QtWidgets.QPushButton()
        self.next_button.clicked.connect(self.next)
        nav.addWidget(self.back_button)
        nav.addStretch(1)
        nav.addWidget(self.again_button)
        nav.addWidget(self.next_button)
        outer.addLayout(nav)
        self.retranslate()
        last = self.picker.findData(settings.value(f"{SETTINGS_KEY}/last", ""))
        if last >= 0:                       # the lesson the learner worked on last, ready to resume
            self.picker.setCurrentIndex(last)
        changed = getattr(window.controller, "sessionChanged", None)
        if changed is not None:
            changed.connect(self._session_changed)

    def _session_changed(self, session: Any) -> None:
        """Another session (a preset, a file) replaced the lesson's: the lesson stops driving anything."""
        if self.player is not None and session is not self.player.session:
            self.player = None
            self.hide_mistakes(False)
            self.pointing.clear()
            self._show_summary()

    # -- text ---------------------------------------------------------------------------
    def retranslate(self) -> None:
        """Every string again, in the current language (View ▸ Language)."""
        self.start_button.setText(_("Start"))
        self.start_button.setToolTip(_("open the lesson: its network, its image and its first step"))
        self.picker.setToolTip(_("the lessons, in teaching order"))
        self.back_button.setText(_("◀ Back"))
        self.back_button.setToolTip(_("the previous step"))
        self.next_button.setText(_("Next ▶"))
        self.next_button.setToolTip(_("the next step (answer the question first)"))
        self.again_button.setText(_("Ask again"))
        self.again_button.setToolTip(_("forget your answer to this question and ask it again"))
        current = self.picker.currentIndex()
        self.picker.blockSignals(True)
        self.picker.clear()
        for lesson in self.lessons:
            self.picker.addItem(pick(lesson.title), lesson.name)
        self.picker.setCurrentIndex(max(current, 0))
        self.picker.blockSignals(False)
        if self.player is None:
            self._show_summary()
        else:
            self.show_step()

    def _show_summary(self, *args: Any) -> None:
        if self.player is not None:
            return
        self.answer_box.hide()
        self.verdict.setText("")
        self.explain.hide()
        self.progress.hide()
        self.score.hide()
        for b in (self.back_button, self.next_button, self.again_button):
            b.setEnabled(False)
        if self.load_error:
            self.title.setText(_("Lessons unavailable"))
            self.text.setPlainText(self.load_error)
            return
        lesson = self.lessons[self.picker.currentIndex()] if self.lessons else None
        self.title.setText(_("Lessons") if lesson is None else pick(lesson.title))
        self.text.setMarkdown("" if lesson is None else pick(lesson.summary) + "\n\n"
                              + _("Press **Start** to open this lesson."))

    # -- lessons --------------------------------------------------------------------------
    def _saved(self, name: str) -> tuple[dict, int]:
        raw = self.settings.value(f"{SETTINGS_KEY}/{name}/answers", "")
        try:
            answers = json.loads(raw) if isinstance(raw, str) and raw else {}
        except json.JSONDecodeError:
            answers = {}
        step = self.settings.value(f"{SETTINGS_KEY}/{name}/step", 0)
        try:
            step = int(step)
        except (TypeError, ValueError):
            step = 0
        return (answers if isinstance(answers, dict) else {}), step

    def _remember(self) -> None:
        p = self.player
        if p is None:
            return
        name = p.lesson.name
        self.settings.setValue(f"{SETTINGS_KEY}/{name}/answers", json.dumps(p.answers))
        self.settings.setValue(f"{SETTINGS_KEY}/{name}/step", p.index)
        self.settings.setValue(f"{SETTINGS_KEY}/last", name)

    def start(self, name: str | None, step: int | None = None) -> bool:
        """Open lesson `name` (bundled name or .toml path) at `step` (default: where the learner left it)."""
        if not name:
            return False
        c = self.window.controller
        if c.refuse() or not c.confirm_discard(_("Opening a lesson")):
            return False
        try:
            lesson = find_lesson(name)
            answers, saved_step = self._saved(lesson.name)
            player = LessonPlayer(lesson, answers, apply_mistakes=self._apply_mistakes)
            session = player.build_session()
        except VisualCNNError as e:
            self.window.show_message(str(e))
            return False
        player.session = session          # before the controller announces it: it is the lesson's own
        self.player = player
        self.window.files.set_session(session, path=None)
        c.set_session(session)
        index = saved_step if step is None else step
        index = min(max(index, 0), len(lesson.steps) - 1)
        dock = self.window.docks.get("lessons")
        if dock is not None:
            dock.show()
            dock.raise_()
            # room to read: widen the column (not its minimum: 1280×800 must still fit)
            width = max(dock.width(), min(LESSON_WIDTH, self.window.width() // 4))
            self.window.resizeDocks([dock], [width], QtCore.Qt.Orientation.Horizontal)
        moved = self._move(lambda: player.start(index, session=session))
        QtCore.QTimer.singleShot(0, lambda: hide_stale_bars(self.window, "lessons"))
        return moved

    def _move(self, fn: Any) -> bool:
        c = self.window.controller
        if c.refuse():
            return False
        try:
            fn()
        except VisualCNNError as e:
            self.window.show_message(str(e))
            return False
        c.refresh(force=True)
        self._remember()
        self.show_step()
        return True

    def next(self) -> bool:
        return self.player is not None and self._move(self.player.next)

    def back(self) -> bool:
        return self.player is not None and self._move(self.player.back)

    def ask_again(self) -> bool:
        p = self.player
        return p is not None and self._move(lambda: p.forget(p.step.number))

    def answer(self, given: Any) -> bool:
        """Judge `given`; the phase is revealed and the verdict and explanation are shown."""
        p = self.player
        if p is None or not p.asking or self.window.controller.refuse():     # not while a run owns the session
            return False
        try:
            p.answer(given)
        except AnswerError as e:
            self.verdict.setText(str(e))
            return False
        return self._move(lambda: None)

    # -- drawing --------------------------------------------------------------------------
    def show_step(self) -> None:
        p = self.player
        if p is None:
            return
        step = p.step
        answered, total = p.progress
        self.title.setText(pick(p.lesson.title))
        self.progress.show()
        self.progress.setRange(0, p.n_steps)
        self.progress.setValue(p.index + 1)
        self.progress.setFormat(_("Step {n} of {total}").format(n=p.index + 1, total=p.n_steps))
        self.score.setText(_("{answered} of {questions} questions answered, {right} right").format(
            answered=answered, questions=total, right=p.score))
        self.score.show()
        at = self.picker.findData(p.lesson.name)
        if at >= 0 and at != self.picker.currentIndex():
            self.picker.blockSignals(True)
            self.picker.setCurrentIndex(at)
            self.picker.blockSignals(False)
        self.text.setMarkdown(lesson_markdown(f"### {pick(step.title)}\n\n{pick(step.text)}"))
        self.back_button.setEnabled(p.index > 0)
        self.next_button.setEnabled(not p.asking and p.index + 1 < p.n_steps)
        q = step.ask
        self.again_button.setEnabled(q is not None and not p.asking)
        self.answer_box.setVisible(q is not None and p.asking)
        if q is not None and p.asking:
            self.answer_box.ask(q, p)
            self.verdict.setText("")
            self.explain.hide()
        elif q is not None:
            self._show_verdict()
        else:
            self.verdict.setText(_("Lesson complete.") if p.index + 1 == p.n_steps else "")
            self.explain.hide()
        secret = p.lesson.setup.hide_mistakes and bool(p.mistakes_at(p.index))
        self.hide_mistakes(secret)
        self.pointing.show(step.point, hide_mistakes=secret)
        self.stepShown.emit(p.index)

    def _apply_mistakes(self, session: Any, names: tuple[str, ...]) -> None:
        """Switch a step's mistakes so that the math lab agrees: it re-applies the mistakes it wants after
        every rebuild, so it must want these (quietly: a secret stays out of the status bar)."""
        from visualcnn.mistakes import apply_to_session
        lab = getattr(self.window, "mathlab", None)
        if lab is not None and hasattr(lab, "wanted"):
            lab.wanted = list(names)
        apply_to_session(session, names)

    def hide_mistakes(self, hidden: bool) -> None:
        """While a lesson keeps its mistake secret ("find the bug"), the Mistakes menu and panel, which would
        show it ticked, are out of sight."""
        w = self.window
        # the strip over the pipeline says the math is wrong on purpose, but not where (MainWindow.show_mistakes)
        w.mistakes_secret = _("Deliberately wrong math: one of the study note's formulas is switched on in this "
                              "lesson. Find the layer that computes it.") if hidden else ""
        s = w.controller.session
        if hasattr(w, "show_mistakes") and s is not None:
            w.show_mistakes(s.network, s.optimizer)
        lab = getattr(self.window, "mathlab", None)
        menu = getattr(lab, "mistakes_menu", None)
        if menu is not None:
            menu.menuAction().setVisible(not hidden)
        dock = self.window.docks.get("mistakes")
        if dock is not None:
            dock.toggleViewAction().setEnabled(not hidden)
            if hidden:
                dock.hide()

    def _show_verdict(self) -> None:
        p = self.player
        q = p.step.ask
        v = p.last_verdict
        if v is not None:
            given, correct, expected = v.given, v.correct, v.expected
        else:                               # answered in an earlier visit: the core's answer again
            rec = p.recorded() or {}
            given, correct = rec.get("given"), bool(rec.get("correct"))
            if q.kind == "window" and given is not None:
                given = frozenset(tuple(rc) for rc in given)
            expected = p.expected_answer()
        mark = _("✔ Right.") if correct else _("✘ Not quite.")
        self.verdict.setText(_("{mark} You answered {given}; the network computed {expected}.").format(
            mark=mark, given=format_answer(q, given), expected=format_answer(q, expected)))
        colour = "#1b5e20" if correct else "#b71c1c"
        self.verdict.setStyleSheet(f"color: {colour}; font-weight: bold;")
        self.explain.setMarkdown(lesson_markdown(pick(q.explain)))
        self.explain.show()


def hide_stale_bars(window: Any, key: str) -> None:
    """Qt can leave a tabbed dock group's old tab bar behind when the window is resized: a second bar with
    the same tabs, drawn over the dock. Keep the one right under the dock; hide the others."""
    dock = window.docks.get(key)
    if dock is None or not dock.isVisible():
        return
    mine = {dock.windowTitle()}
    bars = [b for b in window.findChildren(QtWidgets.QTabBar)
            if b.parent() is window and b.isVisibleTo(window) and mine <= {b.tabText(i) for i in range(b.count())}]
    if len(bars) < 2:
        return
    bottom = dock.geometry().bottom()
    keep = min(bars, key=lambda b: abs(b.geometry().top() - bottom))
    for b in bars:
        if b is not keep:
            b.hide()


def install_lessons(window: Any) -> LessonsPanel:
    """Add the Lessons dock to `window`, tabbed with the layer stack in the full-height left column
    (the inspector, where questions are answered from, stays in view); returns the panel."""
    panel = LessonsPanel(window, window.settings)
    dock = window.add_dock("lessons", _("Lessons"), panel, QtCore.Qt.DockWidgetArea.LeftDockWidgetArea,
                           tabify_with="stack")
    window.docks["stack"].raise_()
    QtCore.QTimer.singleShot(0, lambda: hide_stale_bars(window, "lessons"))
    window.lessons = panel
    return panel


__all__ = ["LessonsPanel", "hide_stale_bars", "install_lessons"]
