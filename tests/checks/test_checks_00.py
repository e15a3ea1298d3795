"""Every check of section 00 fails realistic buggy versions and gives full marks to correct ones; a check never
raises and never writes to stderr, whatever the student's function returns; the hint of a known bug names it.

Verdicts that are wrong today because of a problem in labkit/checks are listed in the catalogue
(CHECK_PROBLEMS) and marked xfail(strict=True) here, with the problem as the reason.
"""
from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import labkit.reference as R
from labkit import checks

from . import catalogue_00 as cat
from .catalogue_00 import BUGGY, CHECK_PROBLEMS, CORRECT, EXTRA_SEEDS, callables, name_of

HIDDEN_SEEDS = [0, 4242, 31337]
POINTS = 4.0
FUNCTIONS = ["numerical_gradient", "numerical_gradient_array", "rel_error", "affine_forward", "affine_backward",
             "mse_loss", "l1_loss", "softmax_cross_entropy", "binary_cross_entropy_with_logits",
             "multiclass_hinge_loss"]


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: on a loaded 2-core machine torch's thread pool makes each reduction ~100x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_check(function, impl, seed=0, points=POINTS):
    return getattr(checks, function)(*callables(function, impl), points=points, seed=seed, quiet=True)


def _params(table):
    params = []
    for fn, impls in table.items():
        for impl in impls:
            name = name_of(impl)
            for seed in HIDDEN_SEEDS + EXTRA_SEEDS.get(name, []):
                marks = []
                if name in CHECK_PROBLEMS:
                    reason, seeds = CHECK_PROBLEMS[name]
                    if seeds is None or seed in seeds:
                        marks = [pytest.mark.xfail(strict=True, reason=reason)]
                params.append(pytest.param(fn, impl, seed, id=f"{fn}-{name}-{seed}", marks=marks))
    return params


@pytest.mark.parametrize("function, impl, seed", _params(BUGGY))
def test_buggy_version_loses_points(function, impl, seed):
    result = run_check(function, impl, seed)
    assert result.earned < POINTS, result.report()
    failed = [s for s in result.subchecks if not s.passed]
    assert failed and all(s.hint or s.error for s in failed), "every failed sub-check explains itself"


@pytest.mark.parametrize("function, impl, seed", _params(CORRECT))
def test_correct_version_keeps_full_marks(function, impl, seed):
    result = run_check(function, impl, seed)
    assert result.earned == POINTS, result.report()


def test_every_section_00_function_has_a_catalogue():
    assert set(BUGGY) == set(FUNCTIONS) and set(CORRECT) == set(FUNCTIONS)
    assert all(len(BUGGY[f]) >= 8 and len(CORRECT[f]) >= 4 for f in FUNCTIONS)
    names = [name_of(i) for table in (BUGGY, CORRECT) for impls in table.values() for i in impls]
    assert len(names) == len(set(names)), "catalogue names are unique (they key CHECK_PROBLEMS)"
    assert set(CHECK_PROBLEMS) <= set(names) and set(EXTRA_SEEDS) <= set(names)


# --- hints ---------------------------------------------------------------------------------------

HINTS = [  # (function, buggy version, words the hint or error of some failed sub-check must contain)
    ("numerical_gradient", cat.ng_one_sided, "one-sided"),
    ("numerical_gradient", cat.ng_divides_by_h, "twice the gradient"),
    ("numerical_gradient", cat.ng_fixed_h, "argument h"),
    ("numerical_gradient", cat.ng_returns_list, "should be a torch.Tensor"),
    ("numerical_gradient_array", cat.nga_ignores_dout, "ignores dout"),
    ("rel_error", cat.re_mean, "you took the mean"),
    ("rel_error", cat.re_cs231n_sum, "|a| + |b|"),
    ("rel_error", cat.re_nan_on_zeros, "0/0 gives NaN"),
    ("rel_error", cat.re_tensor_max, ".item()"),
    ("affine_forward", cat.af_no_bias, "bias b is missing"),
    ("affine_forward", cat.af_inplace, "in place"),
    ("affine_forward", cat.af_float64, "float64"),
    ("affine_backward", cat.ab_dx_not_reshaped, "dx has shape"),
    ("mse_loss", cat.mse_no_two, "half the right one"),
    ("mse_loss", cat.mse_sum, "numel times too large"),
    ("mse_loss", cat.mse_grad_sign, "wrong sign"),
    ("mse_loss", cat.mse_mutates_pred, "in place"),
    ("mse_loss", cat.mse_float64_grad, "float64"),
    ("mse_loss", cat.mse_swapped, "should be a scalar"),
    ("l1_loss", cat.l1_sign_at_zero, "torch.sign"),
    ("l1_loss", cat.l1_divide_by_abs, "torch.sign"),
    ("softmax_cross_entropy", cat.ce_no_shift, "overflows"),
    ("softmax_cross_entropy", cat.ce_no_mean, "N times too large"),
    ("softmax_cross_entropy", cat.ce_grad_sign, "wrong sign"),
    ("softmax_cross_entropy", cat.ce_mutates_scores, "in place"),
    ("binary_cross_entropy_with_logits", cat.bce_naive, "stable form"),
    ("binary_cross_entropy_with_logits", cat.bce_sum, "numel times too large"),
    ("multiclass_hinge_loss", cat.hinge_counts_correct, "one margin too large"),
    ("multiclass_hinge_loss", cat.hinge_divides_by_c, "divided by C"),
    ("multiclass_hinge_loss", cat.hinge_mean_over_all, "divided by C"),
    ("multiclass_hinge_loss", cat.hinge_fixed_margin, "hard-coded 1"),
    ("multiclass_hinge_loss", cat.hinge_no_correct_grad, "correct-class column"),
    ("multiclass_hinge_loss", cat.hinge_grad_counts_self, "correct-class column"),
    ("multiclass_hinge_loss", cat.hinge_batch_sum, "N times too large"),
    ("multiclass_hinge_loss", cat.hinge_delta_keyword, "keyword argument 'margin'"),
]
HINTS += [
    ("numerical_gradient", cat.ng_float32_buffer, "dtype"),
    ("numerical_gradient_array", cat.nga_float32_buffer, "dtype"),
]


@pytest.mark.parametrize("function, impl, words", HINTS, ids=lambda v: getattr(v, "__name__", None))
def test_the_hint_of_a_known_bug_names_it(function, impl, words):
    result = run_check(function, impl)
    said = [s.hint + " " + s.error for s in result.subchecks if not s.passed]
    assert any(words.lower() in text.lower() for text in said), result.report()


@pytest.mark.parametrize("impl", [cat.l1_grad_not_divided, cat.l1_float32_grad], ids=name_of)
def test_l1_tie_subcheck_fails_only_for_a_wrong_sign_at_zero(impl):
    result = run_check("l1_loss", impl)
    tie = next(s for s in result.subchecks if "sign(0)" in s.name)
    assert tie.passed, result.report()


@pytest.mark.parametrize("impl, right", [(cat.ab_db_keepdim, ("dx", "dw")), (cat.ab_db_sum_all, ("dx", "dw")),
                                         (cat.ab_order_swapped, ("db",))], ids=lambda v: getattr(v, "__name__", None))
def test_affine_backward_gives_credit_for_each_right_gradient(impl, right):
    result = run_check("affine_backward", impl)
    subs = {s.name.split()[0]: s for s in result.subchecks if "centred differences" in s.name}
    assert all(subs[g].passed for g in right), result.report()


@pytest.mark.parametrize("function, impl", [("affine_forward", cat.af_swapped), ("affine_backward", cat.ab_db_keepdim)],
                         ids=["af_swapped", "ab_db_keepdim"])
def test_errors_of_the_check_itself_are_not_blamed_on_the_student(function, impl):
    result = run_check(function, impl)
    blamed = [s.error for s in result.subchecks if s.error and "(line " not in s.error]
    assert not blamed, result.report()


# --- robustness: hostile or broken student functions ----------------------------------------------


class _LyingTensor(torch.Tensor):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __float__(self):
        return 0.0


class _LyingFloat(float):
    def __eq__(self, other):
        return True

    def __lt__(self, other):
        return True

    def __le__(self, other):
        return True

    def __sub__(self, other):
        return 0.0

    def __rsub__(self, other):
        return 0.0

    def __abs__(self):
        return 0.0


class _BrokenLen(tuple):
    def __len__(self):
        raise RuntimeError("no len")


def _returning(make):
    def student(*args, **kwargs):
        return make()
    return student


def _raising(exc):
    def student(*args, **kwargs):
        raise exc
    return student


def _noisy(*args, **kwargs):
    print("student output on stderr", file=sys.stderr)
    warnings.warn("a student warning")
    return None


def _recursing(*args, **kwargs):
    return _recursing(*args, **kwargs)


HOSTILE = {
    "none": _returning(lambda: None), "int": _returning(lambda: 42), "str": _returning(lambda: "x"),
    "bool": _returning(lambda: True), "empty_tuple": _returning(tuple), "nones": _returning(lambda: (None, None)),
    "three_ints": _returning(lambda: (1, 2, 3)), "dict": _returning(lambda: {"loss": 1.0}),
    "numpy": _returning(lambda: np.zeros(3)), "numpy_pair": _returning(lambda: (np.float64(1.0), np.zeros(3))),
    "nan": _returning(lambda: torch.full((3,), float("nan"))),
    "nan_pair": _returning(lambda: (torch.tensor(float("nan")), torch.full((4, 3), float("nan")))),
    "inf_pair": _returning(lambda: (torch.tensor(float("inf")), torch.full((4, 3), float("inf")))),
    "int_tensor": _returning(lambda: torch.zeros(3, dtype=torch.int64)),
    "bool_tensor": _returning(lambda: torch.zeros(3, dtype=torch.bool)),
    "sparse": _returning(lambda: torch.zeros(3, 4).to_sparse()),
    "sparse_pair": _returning(lambda: (torch.zeros(()), torch.zeros(3, 4).to_sparse())),
    "meta": _returning(lambda: torch.zeros(3, device="meta")),
    "meta_pair": _returning(lambda: (torch.zeros((), device="meta"), torch.zeros(3, 4, device="meta"))),
    "empty_tensor": _returning(lambda: torch.zeros(0)), "zero_d": _returning(lambda: torch.zeros(())),
    "lying_tensor": _returning(lambda: torch.zeros(3).as_subclass(_LyingTensor)),
    "lying_pair": _returning(lambda: (torch.zeros(()).as_subclass(_LyingTensor),
                                      torch.zeros(4, 3).as_subclass(_LyingTensor))),
    "lying_float": _returning(lambda: _LyingFloat(0.5)),
    "lying_float_pair": _returning(lambda: (_LyingFloat(0.5), torch.zeros(3))),
    "nan_float": _returning(lambda: float("nan")), "inf_float": _returning(lambda: float("inf")),
    "huge_int": _returning(lambda: 10 ** 400), "generator": _returning(lambda: (i for i in range(2))),
    "broken_len": _returning(lambda: _BrokenLen((1, 2))),
    "value_error": _raising(ValueError("student bug")), "not_implemented": _raising(NotImplementedError()),
    "system_exit": _raising(SystemExit(3)), "stop_iteration": _raising(StopIteration()),
    "noisy": _noisy, "recursion": _recursing, "no_arguments": lambda: None,
}


def _student_sets(function, student):
    if function == "affine_backward":
        return [(R.affine_forward, student), (student, R.affine_backward), (student, student)]
    return [(student,)]


def _run_guarded(function, args):
    """The check's result, the warnings its own code emitted and what reached stderr."""
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        result = getattr(checks, function)(*args, points=2.0, seed=1, quiet=True)
        result.report(), repr(result), result.to_dict()
    return result, [str(w.message) for w in caught], err.getvalue()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_check_never_raises_warns_or_gives_marks_to_a_hostile_function(function):
    for name, student in HOSTILE.items():
        for args in _student_sets(function, student):
            result, caught, err = _run_guarded(function, args)
            assert result.earned < 2.0, f"{name}: {result.report()}"
            assert not caught and not err, f"{name}: the check itself wrote {caught or err}"


def _fresh_interpreter(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new Python (torch warns only once per process; a segfault must not kill pytest)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)


def test_odd_outputs_make_no_warning_escape_the_check():
    proc = _fresh_interpreter(
        "import torch\nfrom labkit import checks\n"
        "checks.numerical_gradient(lambda f, x, h=1e-5: torch.zeros(x.shape, dtype=torch.complex128), quiet=True)\n"
        "checks.rel_error(lambda a, b: torch.zeros((), requires_grad=True), quiet=True)\n")
    assert proc.returncode == 0 and not proc.stderr, proc.stderr.decode()[-800:]


class _BadMessage(Exception):
    def __str__(self):
        raise ValueError("no message")


@pytest.mark.parametrize("exc", [GeneratorExit(), _BadMessage()], ids=["GeneratorExit", "broken_str"])
def test_any_student_exception_fails_only_its_subcheck(exc):
    result, _, _ = _run_guarded("mse_loss", (_raising(exc),))
    assert result.earned == 0


def test_an_object_faking_a_tensor_does_not_crash_the_kernel():
    code = ("import torch\nfrom labkit import checks\n"
            "class Fake:\n    __class__ = property(lambda self: torch.Tensor)\n"
            "    def detach(self): return self\n"
            "r = checks.rel_error(lambda a, b: Fake(), points=1, seed=0, quiet=True)\n"
            "assert r.earned < 1\n")
    proc = _fresh_interpreter(code)
    assert proc.returncode == 0, proc.stderr.decode()[-500:]


def test_rel_error_answering_nan_earns_nothing_beyond_the_type_subcheck():
    def nan_unless_equal(a, b):
        return 0.0 if torch.equal(a, b) else float("nan")

    result = run_check("rel_error", nan_unless_equal, points=5.0)
    assert result.earned <= 1.0, result.report()
