"""Lessons: the file format's checks, the bundled lessons played to the end, answers judged by the core."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from visualcnn.lessons import (AnswerError, LessonError, LessonPlayer, find_lesson, format_answer, list_lessons,
                               load_lesson)
from visualcnn.lessons.format import LANGS

BUNDLED = [lesson.name for lesson in list_lessons()]
CJK = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def test_six_lessons_are_bundled_in_teaching_order():
    assert BUNDLED == ["softmax-output", "pooling", "conv-backward", "sigmoid", "sgd-momentum", "find-the-bug"]


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_text_is_in_both_languages(name):
    lesson = find_lesson(name)
    texts = [lesson.title, lesson.summary]
    for step in lesson.steps:
        texts += [step.title, step.text]
        if step.ask is not None:
            texts += [step.ask.prompt, step.ask.explain]
    for t in texts:
        assert set(t) == set(LANGS), t
        # Japanese, or pure math (no English word in it)
        assert CJK.search(t["ja"]) or not re.search(r"[A-Za-z]{3,}", t["ja"]), f"{name}: not Japanese: {t['ja']!r}"


@pytest.mark.parametrize("name", BUNDLED)
def test_play_every_lesson_to_the_end_answering_wrong_then_right(name):
    player = LessonPlayer(find_lesson(name))
    player.start()
    asked = 0
    while True:
        step = player.step
        if step.ask is not None:
            assert player.asking
            before = player.position()
            right, wrong = player.expected_answer(), player.wrong_answer()
            assert player.position() == before, "computing the answer must not reveal the phase"
            verdict = player.answer(wrong)
            assert not verdict.correct and verdict.expected == right
            assert player.position() == before + 1, "answering reveals exactly the step's phase"
            assert player.answers[step.number] == {"given": verdict.to_json()["given"], "correct": False}
            player.forget(step.number)
            assert player.asking and player.position() == before
            assert player.answer(right).correct
            assert player.answers[step.number]["correct"] is True
            assert format_answer(step.ask, right)
            asked += 1
        else:
            assert not player.asking
        if not player.next():
            break
    assert player.finished and player.index == len(player.lesson.steps) - 1
    assert player.progress == (asked, asked) and player.score == asked and asked >= 1


def test_a_question_is_asked_before_its_phase_runs_and_judged_by_the_core():
    player = LessonPlayer(find_lesson("softmax-output"))
    player.start()
    player.next()                                       # step 2: p_4 before the loss phase
    s = player.session
    assert player.asking and s.phase == "loss" and s.records[-1].phase == "forward"
    logits = np.asarray(s.records[-1].y[0], np.float64)
    p = np.exp(logits - logits.max())
    p /= p.sum()                                        # an independent softmax
    verdict = player.answer(f"{p[4]:.2f}")
    assert verdict.correct and abs(verdict.value - p[4]) < 1e-5
    assert s.records[-1].phase == "loss"                # revealed now
    player.next()                                       # step 3: the sign of ∂C/∂x_4 = p_4 − 1
    assert player.expected_answer() == "-"
    assert not player.answer("+").correct


def test_the_note_formula_step_switches_the_mistake_on_and_off_again():
    from visualcnn.mistakes import active
    player = LessonPlayer(find_lesson("softmax-output"))
    player.start(5)                                     # step 6: softmax-diagonal on
    s = player.session
    assert active(s.network, s.optimizer) == ["softmax-diagonal"]
    assert player.expected_answer() == "+"              # d(1 − p) > 0: the wrong way
    player.back()
    assert active(s.network, s.optimizer) == []
    assert player.expected_answer() == "-"


def test_answers_are_remembered_and_shown_revealed():
    lesson = find_lesson("sigmoid")
    first = LessonPlayer(lesson)
    first.start(2)
    first.answer(first.wrong_answer())
    saved = {str(k): v for k, v in first.answers.items()}          # as JSON keys come back
    again = LessonPlayer(lesson, answers=saved)
    again.start(2)
    assert not again.asking and again.recorded() == first.answers[3]
    assert again.session.records[-1].phase == "forward" and again.session.records[-1].layer == 1
    assert again.progress == (1, 3) and again.score == 0


def test_moving_back_and_forth_keeps_positions_and_hyper_parameters():
    player = LessonPlayer(find_lesson("sgd-momentum"))
    player.start()
    for _ in range(5):                                 # to step 6 (α = 0 from there on), answering as we go
        if player.asking:
            player.answer(player.expected_answer())
        player.next()
    assert player.session.optimizer.hyper()["momentum"] == 0.0
    player.back()
    assert player.session.optimizer.hyper()["momentum"] == 0.9
    assert player.position() == player.session.n_phases * 2           # after iteration 1's update


def test_unreadable_answers_say_what_is_expected():
    player = LessonPlayer(find_lesson("pooling"))
    player.start(2)
    with pytest.raises(AnswerError):
        player.answer([])
    with pytest.raises(AnswerError):
        player.answer("top left")
    assert player.asking                                 # nothing was revealed
    softmax = LessonPlayer(find_lesson("softmax-output"))
    softmax.start(1)
    with pytest.raises(AnswerError):
        softmax.answer("a lot")
    assert softmax.answer("0.08".replace("0", "0")) is not None


@pytest.mark.parametrize("sign", ["+", "positive", "−", "-", "negative", "0", "zero", "正", "負"])
def test_sign_answers_in_words_and_symbols(sign):
    player = LessonPlayer(find_lesson("softmax-output"))
    player.start(2)
    right = player.expected_answer()
    verdict = player.answer(sign)
    assert verdict.correct == (verdict.given == right)


# -- malformed files ---------------------------------------------------------------------------------

GOOD = """
format = 1
title = {en = "T", ja = "題"}
[setup]
preset = "seed-note"
[[steps]]
title.en = "one"
text.en = "first"
at = "start"
[[steps]]
title.en = "two"
text.en = "second"
at = "backward 4"
[steps.ask]
kind = "sign"
quantity = "grad_output"
layer = 4
unit = [3]
prompt.en = "sign?"
explain.en = "because"
"""


def write(tmp_path, text: str):
    path = tmp_path / "broken.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_template_itself_loads(tmp_path):
    lesson = load_lesson(write(tmp_path, GOOD))
    assert lesson.name == "broken" and len(lesson.steps) == 2 and lesson.steps[1].ask.unit == (3,)


@pytest.mark.parametrize("old, new, step, problem", [
    ('at = "backward 4"', 'at = "backward 9"', 2, "backward needs a layer number 0…4"),
    ('at = "backward 4"', 'at = "sideways"', 2, "unknown phase 'sideways'"),
    ('at = "backward 4"', 'at = "forward 4"', 2, "computed by the backward phase, after at = 'forward 4'"),
    ('at = "start"\n', 'at = "start"\ncolour = 1\n', 1, "unknown key 'colour'"),
    ('text.en = "first"\n', '', 1, "missing 'text'"),
    ('unit = [3]', 'unit = [10]', 2, "not an index into grad_output of shape 10"),
    ('unit = [3]', 'unit = [0, 3]', 2, "give 1 indices"),
    ('kind = "sign"', 'kind = "essay"', 2, "unknown kind 'essay'"),
    ('kind = "sign"\nquantity = "grad_output"', 'kind = "window"', 2, "needs a pooling layer (maxpool2d"),
    ('kind = "sign"', 'kind = "window"', 2, "leave out quantity (it is 'grad_input'), got 'grad_output'"),
    ('quantity = "grad_output"', 'quantity = "gradient"', 2, "unknown quantity 'gradient'"),
    ('quantity = "grad_output"', 'quantity = "param_grad"\nparam = "Q"', 2, "has parameters W, b, got 'Q'"),
    ('layer = 4\n', '', 2, "needs layer"),
    ('prompt.en = "sign?"', 'prompt.ja = "符号?"', 2, "ask.prompt: missing 'en'"),
    ('explain.en = "because"', 'explain.en = "because"\ntolerance = 0.1', 2, "only applies to kind 'value'"),
    ('at = "start"\n', 'at = "start"\nmistakes = ["no-such-slip"]\n', 1, "unknown mistake 'no-such-slip'"),
    ('at = "start"\n', 'at = "start"\nhyper = {lr = -1}\n', 1, "hyper.lr: expected a number ≥ 0, got -1"),
    ('at = "start"\n', 'at = "start"\npoint = {view = "kitchen"}\n', 1, "unknown view 'kitchen'"),
    ('at = "start"\n', 'at = "start"\npoint = {view = "inspector", tab = "Pantry"}\n', 1, "unknown tab 'Pantry'"),
    ('at = "start"\n', 'at = "start"\npoint = {unit = [1]}\n', 1, "point.unit needs point.layer"),
    ('at = "start"\n', 'at = "start"\npoint = {layer = 0, unit = [9, 0, 0]}\n', 1,
     "point.unit [9, 0, 0] is not a unit of layer 0's output of shape 6×12×12"),
    ('at = "start"\n', 'at = "start"\npoint = {layer = 0, of = "side"}\n', 1, "point.of must be 'output' or 'input'"),
])
def test_a_malformed_step_names_file_step_and_problem(tmp_path, old, new, step, problem):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(LessonError) as err:
        load_lesson(path)
    message = str(err.value)
    assert message.startswith(f"{path}, step {step}: "), message
    assert problem in message, message
    assert err.value.step == step


@pytest.mark.parametrize("old, new, problem", [
    ("format = 1", "format = 2", "format must be 1, got 2"),
    ('preset = "seed-note"', 'preset = "no-such-preset"', "no preset named 'no-such-preset'"),
    ("[[steps]]", "[[stepz]]", "unknown key 'stepz'"),
    ('title = {en = "T", ja = "題"}', 'title = {en = "T", fr = "T"}', "title: unknown key 'fr'"),
    ("[setup]", "[setup]\nsample = -1", "setup.sample must be a whole number ≥ 0, got -1"),
])
def test_a_malformed_lesson_names_the_file_and_problem(tmp_path, old, new, problem):
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(LessonError) as err:
        load_lesson(path)
    assert str(err.value).startswith(f"{path}: ") and problem in str(err.value), str(err.value)


def test_not_toml_not_utf8_and_missing_files(tmp_path):
    path = write(tmp_path, "format = = 1")
    with pytest.raises(LessonError, match=r"broken\.toml: not valid TOML"):
        load_lesson(path)
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(LessonError, match="not UTF-8 text"):
        load_lesson(path)
    with pytest.raises(LessonError, match="no such file"):
        load_lesson(tmp_path / "nothing.toml")
    with pytest.raises(LessonError, match="bundled lessons: conv-backward, find-the-bug"):
        find_lesson("no-such-lesson")


def test_a_sample_beyond_the_data_set_is_refused_at_start(tmp_path):
    path = write(tmp_path, GOOD.replace("[setup]", "[setup]\nsample = 99999", 1))
    player = LessonPlayer(load_lesson(path))
    with pytest.raises(LessonError, match=r"setup.sample = 99999, but the data set 'digits' has 1437"):
        player.start()


def test_the_cli_lists_the_lessons(capsys):
    from visualcnn.cli import main
    assert main(["lesson"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == BUNDLED
    assert "Find the bug" in out[-1]


def test_the_readme_example_lesson_loads_and_plays(tmp_path):
    from pathlib import Path
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```toml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "my-lesson.toml"
    path.write_text(example, encoding="utf-8")
    player = LessonPlayer(load_lesson(path))
    player.start()
    assert player.asking and player.expected_answer() == "+"          # softmax-diagonal is on in that step
    path.write_text(example.replace('at = "backward 4"', 'at = "forward 4"'), encoding="utf-8")
    with pytest.raises(LessonError) as err:
        load_lesson(path)
    quoted = "my-lesson.toml, step 1: ask: grad_output of layer 4 is computed by the backward phase, after " \
             "at = 'forward 4'; ask it at that phase or later"
    assert quoted in " ".join(readme.split()) and str(err.value).endswith(quoted)


# -- what the lesson texts state as facts about their network must stay true ------------------------------

def _revealed(name, index):
    player = LessonPlayer(find_lesson(name))
    player.start(index)
    if player.asking:
        player.answer(player.expected_answer())
    return player


def test_facts_the_softmax_lesson_states():
    p = _revealed("softmax-output", 2)
    s = p.session
    assert int(s.records[-1].batch_y[0]) == 4                          # "The image we step on is a 4"
    assert abs(float(s.records[-2].probs[0, 4]) - 0.1) < 0.05           # "every p_j is near 1/10"


def test_facts_the_pooling_lesson_states():
    p = _revealed("pooling", 5)                                         # the note's Lp derivative
    weights = np.asarray(p.session.records[-1].routing[0, 0, 0, 0])
    assert np.allclose(weights, weights.flat[0])                        # "All four get the same share"


def test_facts_the_sigmoid_lesson_states():
    p = _revealed("sigmoid", 2)
    y = float(p.session.records[-1].y[0, 0, 1, 1])
    assert abs(y - 0.5) < 0.05                                          # "y is close to 1/2"


def test_facts_the_sgd_lesson_states():
    p = _revealed("sgd-momentum", 1)
    s = p.session
    grads = [r for r in s.records if r.phase == "backward" and r.layer == 4][0].grads["W"]
    assert grads[4, 1] < 0                                              # "∂C/∂w_{4,1} is negative"
    assert grads[4, 3] == 0                                             # "input 3 … is 0, so ∂C/∂w_{4,3} = 0"
    assert s.network.layers[4].params["W"][4, 3] < 0                    # "w_{4,3}, which is negative"


def test_facts_the_find_the_bug_lesson_states():
    p = _revealed("find-the-bug", 1)
    assert p.last_verdict.expected == 1                                 # "the sigmoid (layer 1)"
    assert p.session.network.layers[1].type_name == "sigmoid"


def test_stepping_the_window_while_asked_does_not_confuse_the_answer():
    player = LessonPlayer(find_lesson("softmax-output"))
    player.start(2)                                      # asks the sign of ∂C/∂x_4 before backward 4 runs
    asked_at = player.position()
    player.session.step()                                # the learner pressed F10 instead of answering
    player.session.step()
    assert player.expected_answer() == "-"
    verdict = player.answer("-")
    assert verdict.correct and player.position() == asked_at + 1
    assert player.session.records[-1].phase == "backward" and player.session.records[-1].layer == 4
