"""The Lessons dock, used as a learner would: start a lesson, answer by clicking, move on, come back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PyQt6.QtCore import QSettings, Qt

from ui.main_window import MainWindow
from visualcnn.session import Session


def _settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(Session.from_preset("digits-small"), _settings(tmp_path))
    qtbot.addWidget(w)
    w.resize(1440, 900)
    w.show()
    qtbot.waitExposed(w)
    return w


def _start(window, name, step=None):
    panel = window.lessons
    panel.picker.setCurrentIndex(panel.picker.findData(name))
    if step is None:
        panel.start_button.click()
    else:
        assert panel.start(name, step)
    return panel


def test_the_dock_lists_the_lessons_and_starts_one_on_its_own_session(window, qtbot):
    panel = window.lessons
    assert "lessons" in window.docks
    assert panel.picker.count() == 6
    before = window.controller.session
    _start(window, "softmax-output")
    assert window.controller.session is not before
    assert window.controller.session is panel.player.session
    assert window.controller.session.pinned is not None                # the lesson's image
    assert "One image, ten scores" in panel.text.toPlainText()
    assert panel.progress.value() == 1 and "Step 1 of 7" in panel.progress.format()
    assert not panel.back_button.isEnabled() and panel.next_button.isEnabled()
    assert not panel.answer_box.isVisible()


def test_a_question_blocks_next_until_answered_then_reveals_the_phase(window, qtbot):
    panel = _start(window, "softmax-output")
    panel.next_button.click()                                            # step 2: asks p_4
    s = window.controller.session
    assert panel.answer_box.isVisible() and not panel.next_button.isEnabled()
    assert s.phase == "loss"                                             # not revealed yet
    assert "p<sub>4</sub>" in panel.answer_box.prompt.text()
    panel.answer_box.value_edit.setText("0.9")                           # wrong on purpose
    panel.answer_box.check_button.click()
    assert s.records[-1].phase == "loss"                                 # revealed
    assert window.samples is not None
    assert "Not quite" in panel.verdict.text()
    core = float(s.records[-1].probs[0, 4])
    assert f"{core:.4f}" in panel.verdict.text()                         # the network's own number
    assert panel.explain.isVisible() and "p4 = ex4 / Σk exk" in panel.explain.toPlainText()
    assert panel.next_button.isEnabled() and panel.again_button.isEnabled()
    assert panel.player.answers[2]["correct"] is False
    panel.again_button.click()                                           # ask again: back before the phase
    assert panel.answer_box.isVisible() and s.phase == "loss"
    panel.answer_box.value_edit.setText(f"{core:.2f}")
    panel.answer_box.value_edit.returnPressed.emit()
    assert "Right" in panel.verdict.text()


def test_a_step_switches_the_note_formula_on_and_off_in_the_window(window, qtbot):
    from visualcnn.mistakes import active
    panel = _start(window, "softmax-output", 5)                           # softmax-diagonal on
    s = window.controller.session
    assert active(s.network, s.optimizer) == ["softmax-diagonal"]
    assert "softmax-diagonal" in window.mistake_strip.text()              # not a secret here: named
    panel.back_button.click()
    assert active(s.network, s.optimizer) == [] and window.mistake_strip.isHidden()
    assert not any(a.isChecked() for a in window.mathlab.mistake_actions.values())


def test_sign_buttons_and_the_pointed_unit_is_outlined(window, qtbot):
    panel = _start(window, "softmax-output", 2)                          # step 3: sign of ∂C/∂x_4
    assert set(panel.answer_box.sign_buttons) == {"+", "-", "0"}
    assert panel.pointing.marked == (0, 4)                               # unit 4 of the dense column
    assert window.pipeline.images_of_layer(4)[0] is panel.pointing.marker.parentItem()
    panel.answer_box.sign_buttons["-"].click()
    assert "Right" in panel.verdict.text()
    rec = window.controller.session.records[-1]
    assert rec.phase == "backward" and rec.layer == 4 and rec.dout[0, 4] < 0


def test_window_questions_show_the_inputs_and_take_clicked_cells(window, qtbot):
    panel = _start(window, "pooling", 4)                                 # step 5: max pooling window
    cells = panel.answer_box.cells
    assert len(cells) == 4
    s = window.controller.session
    fwd = [r for r in s.records if r.phase == "forward" and r.layer == 2][0]
    window_values = np.asarray(fwd.x[0, 1, 4:6, 6:8])
    winner = np.unravel_index(np.argmax(window_values), (2, 2))
    assert cells[winner].text() == f"{window_values[winner]:.3f}"
    assert window.inspector.currentIndex() == window.inspector.TABS.index("Pooling")
    cells[winner].click()
    panel.answer_box.check_button.click()
    assert "Right" in panel.verdict.text()


def test_answers_and_step_are_remembered_across_windows(window, qtbot, tmp_path):
    panel = _start(window, "sigmoid", 2)
    panel.answer_box.value_edit.setText("0.2")
    panel.answer_box.check_button.click()
    panel.next_button.click()
    saved = json.loads(window.settings.value("lessons/sigmoid/answers"))
    assert saved == {"3": {"given": 0.2, "correct": False}}
    assert int(window.settings.value("lessons/sigmoid/step")) == 3
    window.settings.sync()
    again = MainWindow(Session.from_preset("digits-small"), _settings(tmp_path))
    qtbot.addWidget(again)
    assert again.lessons.picker.currentData() == "sigmoid"               # the last lesson, ready to resume
    again.lessons.start_button.click()                                    # where the learner left it
    assert again.lessons.player.index == 3
    again.lessons.back_button.click()                                     # the answered step, revealed
    assert not again.lessons.answer_box.isVisible()
    assert "0.2000" in again.lessons.verdict.text() and "Not quite" in again.lessons.verdict.text()


def _column_titles(window):
    return [col.spec.title for col in window.pipeline.columns]


def test_the_layer_question_and_the_hidden_mistake(window, qtbot):
    panel = _start(window, "find-the-bug", 1)
    combo = panel.answer_box.layer_combo
    assert combo.count() == 5
    # the secret stays secret: the dock never names it, and the menu and panel that would show it ticked are away
    assert "sigmoid" not in panel.text.toPlainText().lower()
    assert not window.mathlab.mistakes_menu.menuAction().isVisible()
    assert not window.docks["mistakes"].isVisible()
    assert not window.docks["mistakes"].toggleViewAction().isEnabled()
    strip = window.mistake_strip.text()                                  # wrong on purpose, but not where
    assert "Deliberately wrong math" in strip and "sigmoid" not in strip and "layer 1" not in strip
    assert not any(t.startswith("⚠") for t in _column_titles(window))
    combo.setCurrentIndex(1)
    panel.answer_box.check_button.click()
    assert "Right" in panel.verdict.text()
    panel.next_button.click()                                            # the culprit revealed, the menu back
    assert window.mathlab.mistakes_menu.menuAction().isVisible()
    assert window.docks["mistakes"].isVisible()                          # the step points at it
    assert window.mistake_strip.isHidden()                               # the correct formula is back
    from visualcnn.mistakes import active
    s = window.controller.session
    assert active(s.network, s.optimizer) == []                          # and stays (the math lab agrees)


def test_back_and_next_walk_the_whole_lesson(window, qtbot):
    panel = _start(window, "conv-backward")
    seen = []
    while True:
        seen.append(panel.player.index)
        if panel.answer_box.isVisible():
            right = panel.player.expected_answer()
            panel.answer_box.sign_buttons[right].click()
            assert "Right" in panel.verdict.text()
        if not panel.next_button.isEnabled():
            break
        panel.next_button.click()
    assert seen == list(range(7)) and panel.verdict.text() == "Lesson complete."
    assert panel.player.progress == (4, 4)
    panel.back_button.click()
    assert panel.player.index == 5 and not panel.answer_box.isVisible()


def test_lessons_dock_screenshots_at_three_sizes(window, qtbot, tmp_path):
    panel = _start(window, "conv-backward", 2)
    window.docks["lessons"].raise_()
    for size in ((1280, 800), (1440, 900), (1920, 1080)):
        window.resize(*size)
        qtbot.wait(30)
        assert panel.answer_box.prompt.isVisible()
        assert panel.text.width() > 250
        assert window.grab().save(str(tmp_path / f"lesson-{size[0]}.png"))


def test_lesson_command_opens_the_window_on_the_lesson(qtbot, tmp_path, capsys):
    from ui.teach import lesson_main, open_lesson_window
    from visualcnn.lessons import find_lesson
    w = open_lesson_window(find_lesson("pooling"), 2, _settings(tmp_path))
    qtbot.addWidget(w)
    assert w.lessons.player.lesson.name == "pooling" and w.lessons.player.index == 2
    assert w.controller.session is w.lessons.player.session
    assert w.docks["lessons"].isVisible()
    assert lesson_main("no-such-lesson") == 2
    assert lesson_main("pooling", 99) == 2
    err = capsys.readouterr().err
    assert "no lesson of that name" in err and "--step must be 1…7, got 99" in err


def test_the_lessons_dock_leaves_room_for_1280x800_in_presentation_mode(qtbot):
    # a long lesson title in the picker once widened the left column beyond what 1280 px can hold
    from ui.render import offscreen_window
    with offscreen_window(Session.from_preset("lenet5"), (1280, 800), presentation=True) as w:
        assert (w.width(), w.height()) == (1280, 800)
        assert w.docks["lessons"].minimumSizeHint().width() <= w.docks["stack"].minimumSizeHint().width() + 60


def test_a_stale_tab_bar_left_over_the_lessons_dock_is_hidden(window, qtbot):
    # Qt can leave a tabbed group's old bar behind after a resize (seen at 1280×800 with the app's font):
    # the same tabs again, drawn over the dock's answer buttons
    from PyQt6.QtCore import QRect
    from PyQt6.QtWidgets import QTabBar

    from ui.views.lessons import hide_stale_bars

    def bars():
        return [b for b in window.findChildren(QTabBar) if b.parent() is window and b.isVisible()
                and "Lessons" in [b.tabText(i) for i in range(b.count())]]
    _start(window, "pooling", 4)
    qtbot.wait(30)
    real = bars()
    assert len(real) == 1
    stale = QTabBar(window)
    for title in ("Layer stack", "Lessons"):
        stale.addTab(title)
    dock = window.docks["lessons"].geometry()
    stale.setGeometry(QRect(0, dock.center().y(), 200, 30))
    stale.show()
    assert len(bars()) == 2
    hide_stale_bars(window, "lessons")
    assert bars() == real


def test_opening_another_session_ends_the_lesson(window, qtbot):
    panel = _start(window, "find-the-bug", 1)
    lesson_session = panel.player.session
    assert window.controller.open_preset("digits-small")
    assert panel.player is None and not panel.next_button.isEnabled()
    assert window.mathlab.mistakes_menu.menuAction().isVisible()          # nothing secret any more
    assert panel.pointing.dock is None
    assert window.controller.session is not lesson_session


def test_every_view_and_tab_a_lesson_can_name_exists_in_the_window(window):
    from ui.views.lesson_pointer import NOT_DOCKS
    from visualcnn.lessons.model import TABS, VIEWS
    assert TABS == tuple(window.inspector.TABS)
    for view in VIEWS:
        assert view in window.docks or view in NOT_DOCKS, view
