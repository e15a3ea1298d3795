"""The check kinds of labkit/checks/stateful.py on toy specs: a random function judged by properties, a
class driven by sequences, a list output; plus the dropout checks on many seeds (a correct random draw
must never fail by chance)."""
from __future__ import annotations

import math

import torch

from labkit import checks
from labkit.checks.stateful import (ListOutputSpec, Property, RandomSpec, Scenario, SequenceSpec, Setting,
                                    binomial_tolerance, run_list_output, run_random, run_sequence)

from .answer_key import RAW


# --- a random function: flip the sign of each entry with probability q --------------------------
def _flip_fraction(trials):
    frac = [float((t.out != t.x).double().mean()) for t in trials]
    q = [t.setting.args[1] for t in trials]
    ok = all(abs(f - p) <= binomial_tolerance(p, t.x.numel()) for f, p, t in zip(frac, q, trials))
    return ok, f"flipped {frac}"


def _magnitude(trials):
    return all(torch.equal(t.out.abs(), t.x.abs()) for t in trials), "magnitudes"


FLIP = RandomSpec("toy_flip", "forward", lambda d: [Setting("main", (1 + d.rand(50, 40), 0.3))],
                  properties=[Property("flips a fraction q", ("main",), _flip_fraction, core=True, hint="fraction"),
                              Property("keeps magnitudes", ("main",), _magnitude, hint="magnitude")],
                  reproducible_tag="main", arg_names=("x", "q", "generator"))


def flip(x, q, generator=None):
    s = torch.where(torch.rand(x.shape, generator=generator, dtype=x.dtype) < q, -1.0, 1.0).to(x.dtype)
    return x * s, s


def flip_global_rng(x, q, generator=None):
    return flip(x, q, None)


def flip_in_place(x, q, generator=None):
    out, s = flip(x, q, generator)
    x.mul_(s)
    return x, s


def flip_float64(x, q, generator=None):
    out, s = flip(x.double(), q, generator)
    return out, s


def _run(spec, runner, *students, seed=0, reference=None):
    return runner(spec, students, points=1.0, cases="visible", seed=seed, reference=reference)


def test_a_correct_random_function_passes_and_its_bugs_fail_the_right_subcheck():
    assert _run(FLIP, run_random, flip).passed
    by_name = lambda r: {s.name.split(":")[0][:20]: s.state for s in r.subchecks}  # noqa: E731
    r = _run(FLIP, run_random, flip_global_rng)
    assert not r.passed and "global random state" in " ".join(r.hints), r.report()
    r = _run(FLIP, run_random, flip_in_place)
    assert "changed: x" in r.report(), r.report()
    r = _run(FLIP, run_random, flip_float64)
    assert any("float64" in h for h in r.hints), r.report()
    assert by_name(_run(FLIP, run_random, flip))["flips a fraction q"] == "PASS"


def test_a_failed_core_property_skips_the_others_and_an_exception_is_reported_once():
    never = lambda x, q, generator=None: (x.clone(), None)  # noqa: E731
    r = _run(FLIP, run_random, never)
    states = [s.state for s in r.subchecks]
    assert states[0] == "FAIL" and states[1] == "SKIP" and r.earned < 1, r.report()

    def broken(x, q, generator=None):
        raise ValueError("student bug")
    r = _run(FLIP, run_random, broken)
    assert r.earned == 0 and r.report().count("your code raised") == 1, r.report()


def test_the_binomial_tolerance_holds_for_correct_draws_and_shrinks_with_the_sample():
    g = torch.Generator().manual_seed(0)
    for p in (0.1, 0.3, 0.5, 0.9):
        for _ in range(200):
            frac = float((torch.rand(2000, generator=g) < p).double().mean())
            assert abs(frac - p) <= binomial_tolerance(p, 2000)
    assert binomial_tolerance(0.3, 100_000) < binomial_tolerance(0.3, 1000) / 5


def test_a_correct_dropout_keeps_full_marks_on_fifty_hidden_seeds():
    for seed in range(50):
        for name, students in (("dropout_forward", (RAW.dropout_forward,)),
                               ("dropout_backward", (RAW.dropout_forward, RAW.dropout_backward))):
            r = getattr(checks, name)(*students, points=1, cases="hidden", seed=seed, quiet=True)
            assert r.passed, r.report()


# --- a class driven by sequences: a running maximum --------------------------------------------
class RunningMax:
    def __init__(self, start=-math.inf):
        self.best, self.count = start, 0

    def step(self, value):
        self.count += 1
        if value > self.best:
            self.best = value
            return True
        return False


class Reference(RunningMax):
    """The reference (a student's class may not be it, nor derive from it)."""


class MaxCountsFromOne(RunningMax):
    def __init__(self, start=-math.inf):
        super().__init__(start)
        self.count = 1


class MaxWrongStart(RunningMax):
    def __init__(self, start=-math.inf):
        super().__init__(0.0)


SEQ = SequenceSpec("toy_max", lambda d: [Scenario("basic", {}, [0.5, 0.2, 0.9, 0.9]),
                                         Scenario("start", {"start": -5.0}, [-7.0, -6.0, -4.0])],
                   groups={"basic": ("basic sequences", "", 2.0, True), "start": ("honours start", "start", 1.0, False)},
                   attributes=("best", "count"), returns_hint="returns")


def test_a_class_is_driven_next_to_the_reference_and_each_attribute_is_its_own_subcheck():
    assert _run(SEQ, run_sequence, RunningMax, reference=Reference).passed
    r = _run(SEQ, run_sequence, MaxCountsFromOne, reference=Reference)
    failed = [s.name for s in r.subchecks if s.state == "FAIL"]
    assert failed == ["basic sequences: .count"], r.report()
    assert "got 2, expected 1" in r.report() and "after call 1" in r.report()
    assert [s.state for s in r.subchecks][-1] == "SKIP"


def test_a_rule_group_is_judged_once_the_core_passes():
    r = _run(SEQ, run_sequence, MaxWrongStart, reference=Reference)
    assert r.subchecks[-1].state == "FAIL" and r.earned < 1, r.report()


def test_a_subclass_of_the_reference_counts_as_calling_the_answer_key():
    class Sub(Reference):
        pass
    for cheat in (Sub, Reference):
        r = _run(SEQ, run_sequence, cheat, reference=Reference)
        assert r.forbidden and r.earned == 0


# --- a list output ---------------------------------------------------------------------------------
def _scale_all(ws, k):
    return k * sum(w.sum() for w in ws), [k * torch.ones_like(w) for w in ws]


LIST = ListOutputSpec("toy_scale", "loss", lambda d: [([d.randn(2, 3), d.randn(4)], 2.0)], outputs=("loss", "grads"),
                      reference=_scale_all)


def test_a_list_output_is_graded_whole_and_a_wrong_count_is_named():
    assert _run(LIST, run_list_output, _scale_all, reference=_scale_all).passed
    r = _run(LIST, run_list_output, lambda ws, k: (_scale_all(ws, k)[0], _scale_all(ws, k)[1][:1]),
             reference=_scale_all)
    assert "one tensor per weight tensor (2), got 1" in r.report(), r.report()
