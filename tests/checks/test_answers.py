"""Answered questions (labkit/checks/answers.py): every declared question, and the machinery itself."""
from __future__ import annotations

import math

import pytest
import torch

from labkit import checks
from labkit.checks import ANSWERS, Answer
from labkit.checks.answers import run_answer

NAMES = sorted(ANSWERS)


def _hidden(answer, value):
    return run_answer(answer, value, points=2, cases="hidden")


@pytest.mark.parametrize("name", NAMES or ["(none yet)"])
def test_every_question_gives_full_marks_to_its_answer_and_none_to_its_wrong_answers(name):
    if not NAMES:
        pytest.skip("no questions declared yet")
    answer = ANSWERS[name]
    assert _hidden(answer, answer.expect).earned == 2
    for right in answer.right:
        assert _hidden(answer, right).earned == 2, f"{name}: {right!r} should keep full marks"
    assert len(answer.wrong) >= 1
    for wrong in answer.wrong:
        assert _hidden(answer, wrong).earned == 0, f"{name}: {wrong!r} should lose the points"
    assert len(answer.explain) > 20, f"{name}: the feedback should explain the answer"


@pytest.mark.parametrize("name", NAMES or ["(none yet)"])
def test_the_visible_check_of_a_question_earns_nothing_and_never_tells_the_answer(name, capsys):
    if not NAMES:
        pytest.skip("no questions declared yet")
    answer = ANSWERS[name]
    for value in (answer.expect, *answer.wrong):
        result = getattr(checks, name)(value, points=1, cases="visible")
        assert result.earned == 0 and float(result) == 0
    out = capsys.readouterr().out
    assert answer.explain not in out and "right" not in out.replace("write", "")


QUESTION = Answer("q_demo_slope", "number", 2.0, "centred differences cancel the even Taylor terms, so k = 2",
                  abs_tol=0.25, wrong=(1.0, 3.0), right=(2.2, 1.8))
CHOICE = Answer("q_demo_pick", "choice", "ReLU", "ReLU's derivative is 1 where it is on, so gradients do not shrink",
                choices=("sigmoid", "tanh", "ReLU"), wrong=("sigmoid",), right=(" relu ",))


@pytest.mark.parametrize("value, earned", [(2.0, 2), (2.2, 2), (1.7, 0), (torch.tensor(2.0), 2), (True, 0),
                                           ("2", 0), (None, 0), (math.nan, 0), (math.inf, 0)])
def test_number_answers_are_judged_within_the_tolerance_and_by_form(value, earned):
    assert _hidden(QUESTION, value).earned == earned


@pytest.mark.parametrize("value, earned", [("ReLU", 2), ("relu", 2), ("  ReLU ", 2), ("tanh", 0), ("elu", 0),
                                           (1, 0), (None, 0)])
def test_choice_answers_ignore_case_and_spaces(value, earned):
    assert _hidden(CHOICE, value).earned == earned


def test_a_malformed_answer_says_what_is_wrong_with_its_form():
    report = run_answer(CHOICE, "elu", points=1, cases="visible").report()
    assert "not one of the choices" in report and "0" not in report.split("(worth")[0]
    assert "why:" in _hidden(CHOICE, "tanh").report()


def test_a_question_must_declare_wrong_answers_and_a_valid_expected_choice():
    with pytest.raises(ValueError, match="wrong"):
        Answer("q_x", "number", 1.0, "because", abs_tol=0.1)
    with pytest.raises(ValueError, match="one of its choices"):
        Answer("q_x", "choice", "d", "because", choices=("a", "b"), wrong=("a",))
    with pytest.raises(ValueError, match="q_"):
        Answer("x", "number", 1.0, "because", wrong=(2.0,))
