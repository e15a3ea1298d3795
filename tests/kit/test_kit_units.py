"""The kit builder's surgery on source files, and questions in the kit (their form, never their answer)."""
from __future__ import annotations

import pytest

from autograder.kit import _top_level_cut
from labkit.checks import Answer, frozen, make_answer_check

SPECS_FILE = '''"""Specs."""
from .answers import Answer

__all__ = ["SPECS", "ANSWERS", "relu_forward"]


@staticmethod
def relu_forward(x):
    return x.clamp(min=0)


def _case(d):
    return d.randn(3)


SPECS = []
ANSWERS = [
    Answer("q_slope", "number", expect=2.0, explain="the centred error falls as h squared", wrong=(1.0,)),
]
'''


def test_the_kit_cuts_graded_functions_and_the_questions_answers_and_keeps_the_rest():
    cut = _top_level_cut(SPECS_FILE, {"relu_forward"}, answers=True)
    assert "clamp" not in cut and "def relu_forward" not in cut and "@staticmethod" not in cut
    assert "h squared" not in cut and "expect=2.0" not in cut and "ANSWERS = []" in cut
    assert "def _case(d):" in cut and "__all__ = ['SPECS', 'ANSWERS']" in cut
    assert _top_level_cut(SPECS_FILE, set(), answers=False) == SPECS_FILE


def test_a_question_in_the_kit_checks_its_form_and_leaves_the_judgement_to_the_autograder(capsys):
    full = Answer("q_pick", "choice", expect="b", explain="because", choices=("a", "b"), wrong=("a",))
    kit = Answer.form_only("q_pick", "choice", choices=("a", "b"))
    check_full, check_kit = make_answer_check(full), make_answer_check(kit)
    for value in ("a", "c", None):
        assert check_kit(value, points=1).report() == check_full(value, points=1).report()
    assert "because" not in repr(kit.__dict__) and kit.expect == "<judged by the autograder>"
    with pytest.raises(RuntimeError, match="autograder only"):
        check_kit("b", points=1, cases="hidden")
    assert not frozen.active()  # the instructor's package: no frozen table beside labkit.checks
