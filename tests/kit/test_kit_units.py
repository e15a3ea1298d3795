"""The kit builder's surgery on source files, and questions in the kit (their form, never their answer)."""
from __future__ import annotations

import pytest
import torch

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
    assert "is a graded function" in _top_level_cut(SPECS_FILE, {"relu_forward"}, answers=False)


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


def test_a_reference_that_updates_a_state_dict_is_replayed_with_the_same_update():
    import torch

    def step(w, config):
        config["t"] = config.get("t", 0) + 1
        return w - config["lr"] * w, config

    store = {}
    recorder = frozen._Recorder("step", step, store)
    recorder(torch.ones(2), {"lr": 0.5})
    replay, config = frozen.FrozenFunction("step", store["step"]), {"lr": 0.5}
    w, out = replay(torch.ones(2), config)
    assert config == {"lr": 0.5, "t": 1} and out == config and torch.equal(w, torch.full((2,), 0.5))
    with pytest.raises(frozen.FrozenMiss):
        replay(torch.ones(3), {"lr": 0.5})


def test_a_spec_with_its_own_reference_is_frozen_and_checked_from_data():
    import torch

    from labkit.checks import Spec, make_check

    spec = Spec("toy_cube", "function", lambda d: [(d.randn(4),), (d.randn(2, 3),)], outputs=("y",),
                reference=lambda x: x ** 3, keeps_dtype=True)
    table = frozen.freeze([spec])
    assert len(table["functions"]["toy_cube"]["calls"]) >= 2
    check = make_check(spec)
    full = check(lambda x: x * x, points=2, quiet=True).report()
    with frozen.simulate(table):
        assert check(lambda x: x * x * x, points=2, quiet=True).earned == 2
        assert check(lambda x: x * x, points=2, quiet=True).report() == full
    assert spec.reference is not None and spec.reference(torch.tensor(2.0)) == 8


def _model(w):
    def predict(z, w=w):
        return z @ w

    return predict


def test_callables_among_the_inputs_are_keyed_by_their_definition_and_what_they_close_over():
    import functools

    from labkit.checks.specs_08 import _Objective

    w = torch.arange(6.0).reshape(3, 2)
    x = torch.ones(4, 3)
    same = frozen.key((_model(w.clone()), x, [torch.flip, functools.partial(torch.roll, shifts=1)]), {})
    assert same is not None
    assert same == frozen.key((_model(w.clone()), x, [torch.flip, functools.partial(torch.roll, shifts=1)]), {})
    assert same != frozen.key((_model(w + 1), x, [torch.flip, functools.partial(torch.roll, shifts=1)]), {})
    assert same != frozen.key((_model(w.clone()), x, [torch.flip, functools.partial(torch.roll, shifts=2)]), {})
    assert frozen.key((_Objective(), {"lr": ("log", 1e-5, 1.0)}, 6), {}) is not None
    assert frozen.key((torch.nn.Linear(2, 2),), {}) is not None

    class Elsewhere:  # a callable object of unknown make: no key, the check needs an expect of its own
        def __call__(self, z):
            return z

    assert frozen.key((Elsewhere(), x), {}) is None
    assert frozen.key(([].append,), {}) is None  # a bound method of some object


def test_a_case_whose_last_bits_differ_finds_its_frozen_result_and_another_case_does_not():
    # a Mac's libm may draw randn a last bit apart from the Linux machine that froze the results
    store: dict = {}
    recorder = frozen._Recorder("f", lambda x, scale=1.0: x * scale, store)
    x64 = torch.randn(50, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x32 = torch.randn(7, dtype=torch.float32, generator=torch.Generator().manual_seed(2))
    recorder(x64, scale=0.5)
    recorder(x32)
    replay = frozen.FrozenFunction("f", store["f"])
    ulp64 = torch.nextafter(x64, torch.full_like(x64, float("inf")))
    ulp32 = torch.nextafter(x32, torch.full_like(x32, float("inf")))
    assert frozen.key((ulp64,), {"scale": 0.5}) != frozen.key((x64,), {"scale": 0.5})  # the exact key misses
    assert torch.equal(replay(ulp64, scale=0.5), x64 * 0.5)
    assert torch.equal(replay(ulp32), x32)
    for other in (x64 + 1e-6, x64.flip(0), x64.to(torch.float32)):  # another case, not noise
        with pytest.raises(frozen.FrozenMiss):
            replay(other, scale=0.5)
    with pytest.raises(frozen.FrozenMiss):
        replay(ulp64, scale=0.25)


def test_a_check_the_kit_cannot_answer_says_why_and_how_to_fix_it_without_a_traceback(capsys):
    from labkit import checks

    table = {"torch": "9.9.9+cpu", "functions": {"relu_forward": {"params": ["x"], "calls": {}}}, "answers": {}}
    with frozen.simulate(table):
        result = checks.relu_forward(lambda x: (x.clamp_min(0), x), points=2)
    said = capsys.readouterr().out
    assert result.earned == 0 and "not run here" in said and 'pip install "torch==9.9.9"' in said
    assert "Traceback" not in said
