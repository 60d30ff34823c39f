"""Guided lessons: a lesson file (TOML, both languages), its parser, and a player that asks before it reveals.

Answers are checked against the core's own values (the session's records, the gradient check), never
against numbers written into the file. Qt-free: `ui/views/lessons.py` only draws a lesson and forwards
answers.
"""

from __future__ import annotations

from pathlib import Path

from .format import load_lesson
from .model import KINDS, QUANTITIES, VIEWS, Lesson, LessonError, Pointer, Question, Step
from .player import LessonPlayer
from .questions import AnswerError, Verdict, format_answer
from visualcnn.i18n import _


def lessons_dir() -> Path:
    from ..data.paths import assets_dir
    return assets_dir() / "lessons"


def list_lessons() -> list[Lesson]:
    """The bundled lessons, in teaching order."""
    return sorted((load_lesson(p) for p in lessons_dir().glob("*.toml")), key=lambda l: (l.order, l.name))


def find_lesson(name_or_path: str | Path) -> Lesson:
    """A bundled lesson by name (its file name without .toml), or a lesson file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        return load_lesson(path)
    path = lessons_dir() / f"{name_or_path}.toml"
    if not path.exists():
        names = ", ".join(sorted(p.stem for p in lessons_dir().glob("*.toml")))
        raise LessonError(name_or_path, _("no lesson of that name; bundled lessons: {names}").format(names=names))
    return load_lesson(path)


__all__ = ["AnswerError", "KINDS", "Lesson", "LessonError", "LessonPlayer", "Pointer", "QUANTITIES", "Question",
           "Step", "VIEWS", "Verdict", "find_lesson", "format_answer", "list_lessons", "load_lesson",
           "lessons_dir"]
