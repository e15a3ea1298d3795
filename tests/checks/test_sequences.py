"""labkit.checks.sequences and Spec.adapt: a function of the step judged over a range of steps, a function
returning a schedule, a class driven by a sequence."""
from __future__ import annotations

import pytest
import torch

from labkit import _student_code
from labkit.checks import make_check
from labkit.checks.core import StudentError
from labkit.checks.sequences import (anywhere, driven_by, first_difference, float_probe, over_steps, returned_schedule,
                                     shuffled_probe, sweep_case, torch_lrs)
from labkit.checks.spec import Evidence, Spec
from labkit.reference import schedules as guarded_schedules


def halving(t, lr0):
    return lr0 * 0.5 ** t


def test_over_steps_evaluates_every_step_as_one_float64_tensor_and_reports_types():
    sweep = over_steps(halving)
    assert torch.equal(sweep([0, 1, 3], 1.0), torch.tensor([1.0, 0.5, 0.125], dtype=torch.float64))
    as_tensor = over_steps(lambda t, lr0: torch.tensor(lr0))
    assert as_tensor([0, 1], 0.1, _types=True).tolist() == [0.0, 0.0]
    assert sweep([0, 1], 0.1, _types=True).tolist() == [1.0, 1.0]
    with pytest.raises(StudentError, match="should be a number"):
        over_steps(lambda t: "x")([0])
    with pytest.raises(ValueError, match="non-negative integers"):
        sweep([0.5], 1.0)


def test_returned_schedule_needs_a_function_back():
    sweep = returned_schedule(lambda schedule, w: (lambda t: schedule(t) * 2))
    assert sweep([0, 2], lambda t: float(t), 1).tolist() == [0.0, 4.0]
    with pytest.raises(StudentError, match="should return a function of the step"):
        returned_schedule(lambda schedule, w: 0.1)([0], lambda t: 1.0, 1)


class Counter:
    def __init__(self, start, step=1.0):
        self.value, self.inc = start, step

    def step(self, x):
        self.value += self.inc * x
        return self.value


def test_driven_by_builds_the_object_once_and_calls_its_method_for_each_item():
    drive = driven_by(Counter)
    assert drive([1, 2, 3], 0.0, step=2.0).tolist() == [2.0, 6.0, 12.0]
    with pytest.raises(StudentError, match="should have a method step"):
        driven_by(lambda *a: 42)([1.0], 0.0)


def test_driven_by_refuses_a_class_built_on_the_answer_key_and_records_it():
    class Sneaky(guarded_schedules.ReduceLROnPlateau):
        pass

    log: list = []
    with _student_code.running_student_code(log), pytest.raises(_student_code.ForbiddenCall):
        driven_by(Sneaky)([1.0], 0.1)
    assert log == ["labkit.reference.ReduceLROnPlateau"]


def test_torch_lrs_are_the_rates_each_optimizer_step_uses():
    lrs = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 2, 0.5), 5, 1.0)
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25]


def test_first_difference_names_the_step_and_the_values():
    case = sweep_case([0, 1, 2, 3], 1.0, expect=[1.0, 0.5, 0.25, 0.125])
    got = torch.tensor([1.0, 0.5, 0.5, 0.25], dtype=torch.float64)
    text = first_difference(Evidence("lr", [case], [got], [case.expect]))
    assert text.startswith("first wrong at t = 2") and "got 0.5, expected 0.25" in text


SPEC = Spec("halving_demo", "function", lambda d: [sweep_case(range(30), 0.8), sweep_case(range(5), 0.1)],
            outputs=("lr",), keeps_dtype=False, adapt=over_steps, reference=over_steps(halving), diagnoses=[anywhere()],
            probes=[shuffled_probe(lambda d: sweep_case(range(30), 0.8)),
                    float_probe(lambda d: sweep_case(range(3), 0.8))])
CHECK = make_check(SPEC)


def test_an_adapted_spec_keeps_a_right_function_and_charges_wrong_ones():
    assert CHECK(halving, points=2, quiet=True).earned == 2
    shifted = CHECK(lambda t, lr0: lr0 * 0.5 ** (t + 1), points=2, quiet=True)
    assert shifted.earned == 0 and "first wrong at t = 0" in shifted.report()
    as_tensor = CHECK(lambda t, lr0: torch.tensor(lr0 * 0.5 ** t, dtype=torch.float64), points=2, quiet=True)
    assert 0 < as_tensor.earned < 2 and "Python float" in as_tensor.report()


def test_the_shuffled_probe_catches_a_schedule_that_keeps_state_between_calls():
    state = {}

    def stateful(t, lr0):
        state["lr"] = lr0 if t == 0 else state["lr"] * 0.5
        return state["lr"]

    result = CHECK(stateful, points=2, quiet=True)
    assert result.earned < 2 and "keep something between calls" in result.report()
