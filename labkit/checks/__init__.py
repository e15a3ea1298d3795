"""The checks that grade student functions: ``checks.<name>(student callables, points=P, cases=...)``.

One check per graded function, built from its :class:`Spec` (one ``specs_NN.py`` file per notebook,
found here without an import list). The same name everywhere: ``checks.affine_forward`` checks the
student's ``affine_forward``, compares it with ``labkit.reference.affine_forward`` and is the
nbgrader ``grade_id`` of its test cell. The contract is ``docs/student_api.md``.

A visible self-check says ``cases="visible"``; a hidden test says ``cases="hidden"`` and passes the
seed of its cases. Each check prints a report on stdout and returns a :class:`CheckResult` whose
text form is the points earned (nbgrader's partial credit).

Example
-------
>>> from labkit import checks
>>> checks.affine_forward(affine_forward, points=3, cases="visible")      # doctest: +SKIP
"""
from __future__ import annotations

import contextvars
import importlib
import pkgutil
import zlib
from typing import Callable

from .core import TOL, CheckResult, StudentError, SubCheck  # noqa: F401
from .runner import run_spec
from .answers import Answer, AnswerResult, run_answer
from .spec import Case, Diagnosis, Draw, Probe, Spec  # noqa: F401

__all__ = ["TOL", "CheckResult", "SubCheck", "Spec", "Probe", "Diagnosis", "Case", "REGISTRY", "make_check",
           "Answer", "AnswerResult", "ANSWERS", "make_answer_check"]

REGISTRY: dict[str, Spec] = {}  # every graded function's spec, by name
SPEC_MODULE: dict[str, str] = {}  # check name -> the specs module that declares it ("specs_03")
ANSWERS: dict[str, Answer] = {}  # every autograded question ("q_..."), by name


# The seed of a hidden case. The grader sets a provider (grade_id -> seed, derived from a secret kept in
# the instructor's course directory, different for every student); elsewhere (the maintainers' run of
# the source notebooks, nbgrader validate) a fixed seed derived from the name is used.
HIDDEN_SEEDS: contextvars.ContextVar = contextvars.ContextVar("labkit_hidden_seeds", default=None)


def hidden_seed(name: str) -> int:
    """The seed of the hidden cases of check ``name`` in this context (see ``HIDDEN_SEEDS``)."""
    provider = HIDDEN_SEEDS.get()
    if provider is not None:
        return int(provider(name)) & 0x7FFFFFFF
    return zlib.crc32(f"labkit hidden cases of {name}".encode()) & 0x7FFFFFFF


def _reference(spec: Spec):
    from . import frozen

    if frozen.active():  # the student kit: the reference's results on the visible cases, from data
        if spec.kind == "backward":
            return frozen.function(spec.forward), frozen.function(spec.name)
        ref = frozen.function(spec.name)
        return spec.adapt(ref) if spec.reference is None and getattr(spec, "adapt", None) is not None else ref
    if spec.reference is not None:
        return spec.reference
    from .. import reference as R

    if getattr(spec, "adapt", None) is not None:
        return spec.adapt(getattr(R, spec.name))
    if spec.kind == "backward":
        return getattr(R, spec.forward), getattr(R, spec.name)
    return getattr(R, spec.name)


def make_check(spec: Spec) -> Callable[..., CheckResult]:
    """The check function of ``spec``: ``check(*students, points, cases="visible", seed=None, quiet=False)``."""

    def check(*students: Callable, points: float, cases: str = "visible", seed: int | None = None,
              quiet: bool = False) -> CheckResult:
        if len(students) != spec.arity:
            what = "your forward and backward functions" if spec.arity == 2 else "your function"
            raise TypeError(f"checks.{spec.name} takes {what} ({spec.arity} argument{'s' * (spec.arity > 1)}), "
                            f"got {len(students)}")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not points >= 0:
            raise ValueError(f"points must be a non-negative number, got {points!r}")
        if cases not in ("visible", "hidden"):
            raise ValueError(f'cases must be "visible" or "hidden", got {cases!r}')
        if cases == "hidden" and _kit():
            raise RuntimeError(f"checks.{spec.name}: the hidden cases are run by the autograder only")
        if seed is None:
            seed = hidden_seed(spec.name) if cases == "hidden" else 0
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an int, got {seed!r}")
        if getattr(spec, "adapt", None) is not None:  # e.g. a schedule judged over a range of steps (checks/sequences.py)
            students = tuple(spec.adapt(s) for s in students)
        run = getattr(spec, "runner", None) or run_spec  # a spec of labkit/checks/stateful.py brings its own
        from .frozen import FrozenMiss, miss_report

        try:
            result = run(spec, students, points=points, cases=cases, seed=seed, reference=_reference(spec))
        except FrozenMiss as miss:  # the student kit, drawing other visible cases than those it froze
            result = miss_report(spec.name, float(points), cases, int(seed), miss)
        if not quiet:
            print(result.report())
        return result

    check.__name__ = check.__qualname__ = spec.name
    check.__doc__ = f"Check the student's ``{spec.name}`` ({spec.kind}) on seeded cases; see labkit/checks/spec.py."
    check.spec = spec
    return check


def _kit() -> bool:
    from . import frozen

    return frozen.active()


def make_answer_check(answer: Answer) -> Callable[..., CheckResult]:
    """The check of a question: ``check(value, points, cases="visible", seed=None, quiet=False)``."""

    def check(value, *, points: float, cases: str = "visible", seed: int | None = None,
              quiet: bool = False) -> CheckResult:
        if isinstance(points, bool) or not isinstance(points, (int, float)) or not points >= 0:
            raise ValueError(f"points must be a non-negative number, got {points!r}")
        if cases not in ("visible", "hidden"):
            raise ValueError(f'cases must be "visible" or "hidden", got {cases!r}')
        result = run_answer(answer, value, points=points, cases=cases)
        if not quiet:
            print(result.report())
        return result

    check.__name__ = check.__qualname__ = answer.name
    check.__doc__ = f"Check the answer ``{answer.name}`` ({answer.kind}); see labkit/checks/answers.py."
    check.answer = answer
    return check


def _discover() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("specs_"):
            module = importlib.import_module(f"{__name__}.{info.name}")
            for spec in module.SPECS:
                if spec.name in REGISTRY:
                    raise RuntimeError(f"two specs are named {spec.name!r}")
                REGISTRY[spec.name] = spec
                SPEC_MODULE[spec.name] = info.name
                globals()[spec.name] = make_check(spec)
                __all__.append(spec.name)
            for answer in _answers(module):
                SPEC_MODULE[answer.name] = info.name
                _register_answer(answer)
    for answer in _kit_answers():
        _register_answer(answer)


def _register_answer(answer: Answer) -> None:
    if answer.name in REGISTRY or answer.name in ANSWERS:
        raise RuntimeError(f"two checks are named {answer.name!r}")
    ANSWERS[answer.name] = answer
    globals()[answer.name] = make_answer_check(answer)
    __all__.append(answer.name)


def _answers(module) -> list:
    """The module's questions (none in the student kit, whose specs files hold no answer)."""
    from . import frozen

    return [] if frozen.active() else list(getattr(module, "ANSWERS", ()))


def _kit_answers() -> list:
    """In the student kit: every question with its form only (kind, choices, prompt), from the frozen table."""
    from . import frozen

    if not frozen.active():
        return []
    return [Answer.form_only(name, **form) for name, form in sorted(frozen.table().get("answers", {}).items())]


_discover()
