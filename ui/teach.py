"""The teaching layer's hooks into the window and the command line.

`install(window)` (a window extension, ui/actions EXTENSIONS): the Lessons dock, the language menu and
File ▸ Export animation…. `cmd_lesson` and `cmd_animate` are the bodies of `visualcnn lesson` and
`visualcnn animate`.
"""

from __future__ import annotations

import sys
from typing import Any

from visualcnn.i18n import _, set_language


def install(window: Any) -> None:
    """Add View ▸ Language, the Lessons dock and File ▸ Export animation… to a MainWindow (before its layout is
    restored). A language switch builds them again with the rest of the window (ui/rebuild.py)."""
    from .animation_dialog import install_export_animation
    from .language import install_language
    from .views.lessons import install_lessons
    install_language(window)
    install_lessons(window)
    install_export_animation(window)


def cmd_animate(args: Any) -> int:
    """`visualcnn animate --preset P --phases all --out wave.gif`: render offscreen, write, say what was written."""
    import os

    from .animation import export_animation
    from .startup import has_display, load_session
    set_language()                      # its messages in the system's language
    phases: Any = args.phases
    if isinstance(phases, str) and phases.isdigit():
        phases = int(phases)
    if not has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    session = load_session(args.preset)
    path, n = export_animation(session, args.out, phases=phases, size=args.size,
                               presentation=not args.no_presentation, inbetweens=args.inbetween,
                               fps=args.fps, view=args.view)
    print(_("wrote {path} ({n} frames, {width}×{height})").format(path=path, n=n, width=args.size[0],
                                                                   height=args.size[1]))
    return 0


def lesson_list() -> str:
    """The bundled lessons, one a line: name, title (in the current language)."""
    from visualcnn.i18n import pick
    from visualcnn.lessons import list_lessons
    lessons = list_lessons()
    width = max(len(l.name) for l in lessons)
    return "\n".join(f"{l.name:<{width}}  {pick(l.title)}" for l in lessons)


def cmd_lesson(args: Any) -> int:
    """`visualcnn lesson [NAME] [--step N]`: list the lessons, or open the window on one."""
    set_language()                      # the titles and messages in the system's language
    if not args.name:
        print(lesson_list())
        return 0
    return lesson_main(args.name, args.step)


def lesson_main(name: str, step: int | None = None) -> int:
    """Open the window on lesson `name` (a bundled name or a .toml file) at `step` (1-based); exit code."""
    from visualcnn.lessons import LessonError, find_lesson

    from .app import settle_heap
    from .startup import has_display, make_app
    try:
        lesson = find_lesson(name)
    except LessonError as e:
        print(f"visualcnn: {e}", file=sys.stderr)
        return 2
    if step is not None and not 1 <= step <= len(lesson.steps):
        print("visualcnn: " + _("{path}: --step must be 1…{n}, got {step}").format(
            path=lesson.path, n=len(lesson.steps), step=step), file=sys.stderr)
        return 2
    if not has_display():
        print("visualcnn: " + _("no display (DISPLAY/WAYLAND_DISPLAY unset), so no window for the lesson"),
              file=sys.stderr)
        return 2
    app = make_app([])
    window = open_lesson_window(lesson, None if step is None else step - 1)
    if window is None:
        return 2
    settle_heap()
    return app.exec()


def open_lesson_window(lesson: Any, index: int | None = None, settings: Any = None) -> Any:
    """A shown MainWindow on `lesson` at step `index` (0-based; None: where the learner left it);
    None (and the reason on stderr) when the lesson's session cannot be built."""
    from visualcnn.lessons import LessonError, LessonPlayer

    from .main_window import MainWindow
    try:
        session = LessonPlayer(lesson).build_session()
    except LessonError as e:
        print(f"visualcnn: {e}", file=sys.stderr)
        return None
    window = MainWindow(session, settings)
    window.show()
    if not window.lessons.start(str(lesson.path), index):
        window.close()
        return None
    return window


__all__ = ["cmd_animate", "cmd_lesson", "install", "lesson_list", "lesson_main", "open_lesson_window"]
