"""Answered questions: "predict before you run" prompts whose answer is a number or a choice.

A notebook asks a question in prose; the student writes the answer in a solution cell::

    q_centred_slope = 2.0          # the slope you expect on the right of the plot

and a test cell grades it, like a function::

    checks.q_centred_slope(q_centred_slope, points=1, cases="visible")
    ### BEGIN HIDDEN TESTS
    checks.q_centred_slope(q_centred_slope, points=1, cases="hidden")
    ### END HIDDEN TESTS

The visible check only looks at the form of the answer (a number, or one of the choices) and never
tells whether it is right: otherwise the prompt would be answered by trial and error. The hidden
check, run by the autograder, judges the value within the question's tolerance and explains the
answer in the feedback. Questions are declared next to the specs: ``ANSWERS = [Answer(...), ...]``
in ``specs_NN.py``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .core import FAIL, PASS, CheckResult, SubCheck

__all__ = ["Answer", "AnswerResult", "run_answer", "WITHHELD"]

WITHHELD = "<judged by the autograder>"  # a question's answer in the student kit


@dataclass
class Answer:
    """A question with a number or a choice as answer.

    name: the variable the student sets, the test cell's grade_id, and the check's name (``q_...``)
    kind: "number" (``expect`` a float, right within ``abs_tol`` or ``rel_tol`` relative) or
          "choice" (``expect`` one of ``choices``, compared case-insensitively after stripping)
    explain: why the answer is what it is, shown in the graded feedback (never in the visible check)
    wrong: a few realistic wrong answers (the tests prove each one loses the points)
    right: answers that must keep full marks (other spellings, values inside the tolerance)
    """

    name: str
    kind: str
    expect: object
    explain: str
    abs_tol: float = 0.0
    rel_tol: float = 0.0
    choices: tuple = ()
    wrong: tuple = ()
    right: tuple = ()
    prompt: str = field(default="")

    def __post_init__(self):
        if not self.name.startswith("q_"):
            raise ValueError(f"an answer's name starts with q_, got {self.name!r}")
        if self.kind not in ("number", "choice"):
            raise ValueError(f"Answer {self.name}: kind is 'number' or 'choice', got {self.kind!r}")
        if self.kind == "choice":
            if not self.choices or self._norm(self.expect) not in {self._norm(c) for c in self.choices}:
                raise ValueError(f"Answer {self.name}: expect must be one of its choices")
        if not self.wrong:
            raise ValueError(f"Answer {self.name}: list realistic wrong answers (wrong=...)")

    @classmethod
    def form_only(cls, name: str, kind: str, choices: tuple = (), prompt: str = "") -> "Answer":
        """A question as the student kit holds it: its form (kind, choices), no answer, no explanation."""
        answer = object.__new__(cls)
        answer.__dict__.update(name=name, kind=kind, expect=WITHHELD, explain="", abs_tol=0.0, rel_tol=0.0,
                               choices=tuple(choices), wrong=(), right=(), prompt=prompt)
        return answer

    @staticmethod
    def _norm(value) -> str:
        return " ".join(str(value).strip().lower().split())

    @property
    def form(self) -> str:
        if self.kind == "number":
            return "a number"
        return "one of " + ", ".join(repr(c) for c in self.choices)

    def well_formed(self, value) -> str:
        """'' when ``value`` has the form of an answer, else what is wrong with it."""
        if value is None or value is Ellipsis:
            return "no answer yet"
        if self.kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"the answer should be a number, got {_what(value)}"
            if not math.isfinite(float(value)):
                return f"the answer should be a finite number, got {value!r}"
            return ""
        if not isinstance(value, str):
            return f"the answer should be one of the choices as a string, got {_what(value)}"
        if self._norm(value) not in {self._norm(c) for c in self.choices}:
            return f"{value!r} is not one of the choices ({', '.join(repr(c) for c in self.choices)})"
        return ""

    def correct(self, value) -> bool:
        if self.well_formed(value):
            return False
        if self.kind == "choice":
            return self._norm(value) == self._norm(self.expect)
        x, want = float(value), float(self.expect)
        return abs(x - want) <= max(self.abs_tol, self.rel_tol * abs(want))


def _what(value) -> str:
    """What a malformed answer is, in words (a function defined under the answer's name is common)."""
    return "a function" if callable(value) else type(value).__name__


def _plain(value):
    """The student's answer as a plain Python value (in the grader it lives in the student's process)."""
    fetch = getattr(type(value), "__labkit_value__", None)
    if fetch is not None:
        value = fetch(value)
    if type(value) in (int, float, str, bool) or value is None:
        return value
    for kind in (bool, int, float, str):  # subclasses (numpy scalars, lying floats) become plain
        if isinstance(value, kind):
            return kind(value)
    item = getattr(value, "item", None)  # a 0-d tensor or array
    if callable(item) and getattr(value, "ndim", None) == 0:
        try:
            v = item()
            if type(v) in (int, float, bool):
                return v
        except Exception:
            pass
    return value


class AnswerResult(CheckResult):
    """A checked answer. The visible check earns nothing by itself: it says whether the form is right."""

    @property
    def earned(self) -> float:
        return 0.0 if self.cases == "visible" else super().earned

    def report(self) -> str:
        form, = self.subchecks
        if self.cases == "visible":
            state = "recorded" if form.passed else "not recorded yet"
            head = f"Answer {self.function}: {state} (worth {self.points:g} point{'s' * (self.points != 1)})"
            lines = [head, "-" * len(head), form.line(),
                     "  The autograder judges the value; this check only looks at its form."]
            return "\n".join(lines)
        return super().report()


def run_answer(answer: Answer, value, *, points: float, cases: str) -> CheckResult:
    """Check an answer: its form (visible, earns nothing), or its value with the explanation (hidden)."""
    result = AnswerResult(answer.name, points, cases, 0)
    problem = answer.well_formed(value := _plain(value))
    if cases == "visible":
        form = SubCheck(f"the answer is {answer.form}", 1.0)
        form.state, form.measured, form.hint = (FAIL, None, problem) if problem else (PASS, repr(value), "")
        result.subchecks.append(form)
        return result
    if answer.expect is WITHHELD:
        raise RuntimeError(f"checks.{answer.name}: the answer is judged by the autograder only")
    right = SubCheck("the answer is right", 1.0, measured=None if problem else repr(value))
    right.state = PASS if not problem and answer.correct(value) else FAIL
    right.hint = problem or "see why below"
    result.subchecks.append(right)
    result.notes.append(f"why: {answer.explain}")
    return result
