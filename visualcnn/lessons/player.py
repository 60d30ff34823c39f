"""LessonPlayer: walks a Session through a lesson's steps, asks before it reveals, and keeps the answers.

    player = LessonPlayer(load_lesson(path))
    player.start()                      # builds the session of the lesson's setup, goes to step 1
    if player.asking:                   # the step's phase has not run yet
        verdict = player.answer("+")    # runs the phase, judges the answer against the core's values
    player.next(); player.back()

`answers` (step number → {"given", "correct"}) is plain JSON, so a window can remember it per lesson;
a step answered before is shown revealed, with the answer given then. Qt-free.
"""

from __future__ import annotations

from typing import Any, Callable

from ..errors import VisualCNNError
from . import questions
from .model import Lesson, LessonError, Step, phase_index
from .questions import Verdict
from visualcnn.i18n import _


class LessonPlayer:
    def __init__(self, lesson: Lesson, answers: dict[int, dict[str, Any]] | None = None,
                 apply_mistakes: Callable[[Any, tuple[str, ...]], Any] | None = None) -> None:
        """apply_mistakes(session, names): how a step's mistakes are switched (default
        visualcnn.mistakes.apply_to_session; a window passes the way its own mistakes menu does it)."""
        self.lesson = lesson
        self.apply_mistakes = apply_mistakes
        self.answers: dict[int, dict[str, Any]] = {int(k): dict(v) for k, v in (answers or {}).items()}
        self.session: Any = None
        self.index = 0
        self.asking = False
        self.last_verdict: Verdict | None = None

    # -- where we are -------------------------------------------------------------------
    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def n_steps(self) -> int:
        return len(self.lesson.steps)

    @property
    def progress(self) -> tuple[int, int]:
        """(questions answered, questions in the lesson)."""
        numbers = {s.number for s in self.lesson.questions}
        return len(numbers & set(self.answers)), len(numbers)

    @property
    def score(self) -> int:
        """Questions answered right (first answer)."""
        return sum(1 for a in self.answers.values() if a.get("correct"))

    @property
    def finished(self) -> bool:
        return self.index == self.n_steps - 1 and not self.asking

    def mistakes_at(self, index: int) -> tuple[str, ...]:
        names = self.lesson.setup.mistakes
        for s in self.lesson.steps[:index + 1]:
            if s.mistakes is not None:
                names = s.mistakes
        return names

    def hyper_at(self, index: int) -> dict[str, Any]:
        hyper = dict(self.lesson.setup.hyper)
        for s in self.lesson.steps[:index + 1]:
            hyper.update(s.hyper)
        return hyper

    # -- moving -------------------------------------------------------------------------
    def build_session(self) -> Any:
        """A fresh session of the lesson's setup: its preset, seed, hyper-parameters, mistakes and image."""
        from ..presets import build_session, load_preset
        setup = self.lesson.setup
        cfg = load_preset(setup.preset)
        overrides: dict[str, Any] = {"batch_size": 1, **setup.hyper}
        if setup.seed is not None:
            overrides["seed"] = setup.seed
        try:
            session = build_session(cfg, mistakes=setup.mistakes, **overrides)
        except VisualCNNError as e:
            raise LessonError(self.lesson.path, f"setup: {e}") from None
        ds = session.dataset
        n = len(ds.y_train)
        if setup.sample >= n:
            raise LessonError(self.lesson.path, _("setup.sample = {sample}, but the data set {name!r} "
                                                  "has {n} training images (valid 0…{value})").format(
                                                    sample=setup.sample, name=ds.name, n=n, value=n - 1))
        i = setup.sample
        session.pin_input(ds.x_train[i:i + 1], ds.y_train[i:i + 1])
        return session

    def start(self, index: int = 0, session: Any = None) -> Any:
        """Build the lesson's session (or take `session`, e.g. for tests) and go to step `index`."""
        self.session = session if session is not None else self.build_session()
        self.goto(index)
        return self.session

    def goto(self, index: int) -> None:
        """Show step `index`: its mistakes and hyper-parameters on, the session at its phase — just before it
        when the step asks a question not answered yet (so the answer cannot be read off the window)."""
        if not 0 <= index < self.n_steps:
            raise IndexError(_("step {value} of a {n_steps}-step lesson").format(
                                 value=index + 1, n_steps=self.n_steps))
        self.index = index
        s = self.session
        self._apply_config(index)
        step = self.step
        target = self._target(step)
        self.asking = step.ask is not None and step.number not in self.answers
        self.last_verdict = None
        self._move_to(target - 1 if self.asking else target)

    def next(self) -> bool:
        if self.asking or self.index + 1 >= self.n_steps:
            return False
        self.goto(self.index + 1)
        return True

    def back(self) -> bool:
        if self.index == 0:
            return False
        self.goto(self.index - 1)
        return True

    def _apply_config(self, index: int) -> None:
        from .. import mistakes
        s = self.session
        wanted = self.mistakes_at(index)
        if set(mistakes.active(s.network, s.optimizer)) != set(wanted):
            (self.apply_mistakes or mistakes.apply_to_session)(s, wanted)
        current = s.optimizer.hyper()
        changes = {k: v for k, v in self.hyper_at(index).items() if current.get(k) != v}
        if changes:
            s.set_hyper(**changes)

    def _target(self, step: Step) -> int:
        """The step's position: phases run since the lesson's start, once its phase has run."""
        s = self.session
        return step.iteration * s.n_phases + phase_index(step.at, len(s.network.layers))

    def position(self) -> int:
        s = self.session
        return s.iteration * s.n_phases + s.phase_index

    def _move_to(self, target: int) -> None:
        s = self.session
        while self.position() < target:
            s.step()
        while self.position() > target:
            s.step_back()

    # -- asking -------------------------------------------------------------------------
    def _records_through_phase(self) -> list[Any]:
        """The records of the revealed phase's iteration, up to and including it."""
        s = self.session
        if s.phase_index == 0 and s.iteration > 0:
            # the phase was the update: its iteration's records are gone; redo it (exact) to see them
            s.step_back()
            before = s.records
            return [*before, s.step()]
        return s.records

    def _kernel(self) -> tuple[int, int]:
        q = self.step.ask
        if q is None or q.kind != "window":
            return (2, 2)
        k = self.session.network.layers[q.layer].kernel
        return (k, k)

    def expected_answer(self) -> Any:
        """The right answer to the current step's question, computed by the core without revealing it."""
        q = self.step.ask
        if q is None:
            raise ValueError(_("step {number} asks nothing").format(number=self.step.number))
        if not self.asking:
            return questions.expected(q, self._records_through_phase(), self.session)[0]
        s = self.session
        self._move_to(self._target(self.step) - 1)        # the learner may have stepped the window meanwhile
        before = s.records
        rec = s.step()
        try:
            return questions.expected(q, [*before, rec], s)[0]
        finally:
            s.step_back()

    def wrong_answer(self) -> Any:
        """An answer the core will judge wrong (for tests and demonstrations)."""
        return questions.wrong_answer(self.step.ask, self.expected_answer(), len(self.session.network.layers),
                                      self._kernel())

    def answer(self, given: Any) -> Verdict:
        """Judge `given` (AnswerError if it cannot be read), then reveal the phase; the answer is remembered."""
        q = self.step.ask
        if q is None or not self.asking:
            raise ValueError(_("step {number} has no open question").format(number=self.step.number))
        value = questions.read_answer(q, given)
        self._move_to(self._target(self.step) - 1)        # the learner may have stepped the window meanwhile
        before = self.session.records
        rec = self.session.step()
        right, core_value = questions.expected(q, [*before, rec], self.session)
        verdict = Verdict(correct=questions.judge(q, value, right), given=value, expected=right, value=core_value)
        self.answers[self.step.number] = verdict.to_json()
        self.asking = False
        self.last_verdict = verdict
        return verdict

    def recorded(self) -> dict[str, Any] | None:
        """The answer given to the current step's question earlier (this time or a previous one)."""
        return self.answers.get(self.step.number)

    def forget(self, number: int | None = None) -> None:
        """Forget the answer to step `number` (every answer when None), and show the step asking again."""
        if number is None:
            self.answers.clear()
        else:
            self.answers.pop(number, None)
        if self.session is not None:
            self.goto(self.index)


__all__ = ["LessonPlayer"]
