"""Every spec against its notebook's catalogue, and the framework's promises tested once for every spec.

For each ``tests/checks/catalogue_NN_*.py``: every buggy version loses points (on the visible seed and two
hidden ones), every correct version written differently keeps full marks, every cheat scores 0 with the
call named, and the hint of each known bug names it. For every spec in the registry: hostile return
values neither crash, warn nor score; an exception is reported once; no hint quotes a solution.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import linecache
import pkgutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from labkit import checks

from . import __path__ as _here
from .answer_key import RAW

HIDDEN_SEEDS = [0, 4242, 31337]
POINTS = 4.0
ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {info.name: importlib.import_module(f"tests.checks.{info.name}") for info in pkgutil.iter_modules(_here)
              if info.name.startswith("catalogue_")}


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Tiny tensors: on a loaded 2-core machine torch's thread pool makes each reduction ~100x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def name_of(impl) -> str:
    return impl[-1].__name__ if isinstance(impl, tuple) else impl.__name__


def students(function: str, impl) -> tuple:
    """The callables a check takes: a backward alone is paired with the reference forward."""
    spec = checks.REGISTRY[function]
    if spec.kind == "backward" and not isinstance(impl, tuple):
        return getattr(RAW, spec.forward), impl
    return impl if isinstance(impl, tuple) else (impl,)


def run_check(function, impl, seed=0, points=POINTS):
    return getattr(checks, function)(*students(function, impl), points=points,
                                     cases="visible" if seed == 0 else "hidden", seed=seed, quiet=True)


def _params(table_name):
    params = []
    for cat_name, cat in CATALOGUES.items():
        for fn, impls in getattr(cat, table_name).items():
            for impl in impls:
                name = name_of(impl)
                for seed in HIDDEN_SEEDS + cat.EXTRA_SEEDS.get(name, []):
                    marks = []
                    if name in cat.CHECK_PROBLEMS:
                        reason, seeds = cat.CHECK_PROBLEMS[name]
                        if seeds is None or seed in seeds:
                            marks = [pytest.mark.xfail(strict=True, reason=reason)]
                    params.append(pytest.param(fn, impl, seed, id=f"{fn}-{name}-{seed}", marks=marks))
    return params


@pytest.mark.parametrize("function, impl, seed", _params("BUGGY"))
def test_buggy_version_loses_points(function, impl, seed):
    result = run_check(function, impl, seed)
    assert result.earned < POINTS, result.report()
    failed = [s for s in result.subchecks if s.state == "FAIL"]
    assert all(s.hint for s in failed), f"every failed sub-check explains itself:\n{result.report()}"
    assert failed or result.errors or result.forbidden, result.report()


@pytest.mark.parametrize("function, impl, seed", _params("CORRECT"))
def test_correct_version_keeps_full_marks(function, impl, seed):
    result = run_check(function, impl, seed)
    assert result.earned == POINTS, result.report()


@pytest.mark.parametrize("function, cheat, seed",
                         [pytest.param(fn, c, s, id=f"{fn}-{c[0].__name__}-{s}") for cat in CATALOGUES.values()
                          for fn, cs in cat.CHEATS.items() for c in cs for s in (0, 4242)])
def test_a_cheat_scores_zero_and_the_report_names_the_call(function, cheat, seed):
    impl, call = cheat
    result = run_check(function, impl, seed)
    assert result.earned == 0 and result.forbidden, result.report()
    assert call in result.report() and "forbids" in result.report()


def test_every_spec_has_a_catalogue_and_every_catalogue_entry_a_spec():
    covered = {fn for cat in CATALOGUES.values() for fn in cat.BUGGY}
    assert covered == set(checks.REGISTRY)
    for cat in CATALOGUES.values():
        assert set(cat.CORRECT) == set(cat.BUGGY) == set(cat.CHEATS)
        assert all(len(cat.BUGGY[f]) >= 8 and len(cat.CORRECT[f]) >= 4 for f in cat.BUGGY)
        names = [name_of(i) for table in (cat.BUGGY, cat.CORRECT) for impls in table.values() for i in impls]
        assert len(names) == len(set(names)), "catalogue names are unique (they key CHECK_PROBLEMS)"
        assert set(cat.CHECK_PROBLEMS) <= set(names) and set(cat.EXTRA_SEEDS) <= set(names) | set(cat.BUGGY)


# --- hints ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("function, impl, words", [h for cat in CATALOGUES.values() for h in cat.HINTS],
                         ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_the_hint_of_a_known_bug_names_it(function, impl, words):
    result = run_check(function, impl)
    said = [f"{s.name} {s.hint} {s.measured}" for s in result.subchecks if s.state in ("FAIL", "ERROR")] + result.errors
    assert any(words.lower() in text.lower() for text in said), result.report()


def _solution_lines() -> set[str]:
    """Every line of every solution cell of every source notebook, normalised (long enough to be telling)."""
    lines = set()
    for path in ROOT.glob("notebooks/*/*.ipynb"):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("solution"):
                for line in "".join(cell["source"]).splitlines():
                    code = line.split("#")[0].replace(" ", "")
                    if len(code) >= 12 and "SOLUTION" not in line and not code.startswith(("def", "return", '"""')):
                        lines.add(code)
    return lines


def test_no_hint_quotes_a_line_of_a_solution():
    lines = _solution_lines()
    assert len(lines) > 20
    for cat in CATALOGUES.values():
        for fn, impls in cat.BUGGY.items():
            for impl in impls:
                result = run_check(fn, impl)
                for text in result.hints + [s.note for s in result.subchecks]:
                    flat = text.replace(" ", "")
                    assert not [line for line in lines if line in flat], f"{name_of(impl)}: {text}"


# --- one bug, charged once ----------------------------------------------------------------------

def _in_notebook(source: str, **names):
    """Define functions as a notebook cell would: in a namespace of their own, the source in linecache."""
    filename = f"<cell-{abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace = {"torch": torch, **names}
    exec(compile(source, filename, "exec"), namespace)
    return namespace


def test_a_function_calling_a_buggy_graded_helper_keeps_full_marks_and_the_report_names_the_helper():
    ns = _in_notebook("def numerical_gradient(f, x, h=1e-5):\n    return -RAW.numerical_gradient(f, x, h)\n\n"
                      "def numerical_gradient_array(f, x, dout, h=1e-5):\n"
                      "    return numerical_gradient(lambda z: (f(z) * dout).sum(), x, h)\n", RAW=RAW)
    result = run_check("numerical_gradient_array", ns["numerical_gradient_array"])
    assert result.earned == POINTS, result.report()
    assert any("your own numerical_gradient" in n for n in result.notes), result.report()
    assert run_check("numerical_gradient", ns["numerical_gradient"]).earned < POINTS


def test_a_probe_is_not_charged_for_the_bug_the_values_already_show():
    ns = _in_notebook("def numerical_gradient(f, x, h=1e-5):\n    return -RAW.numerical_gradient(f, x, h)\n", RAW=RAW)
    result = run_check("numerical_gradient", ns["numerical_gradient"])
    states = {s.name.split(" (")[0]: s.state for s in result.subchecks}
    assert states["uses the h it is given"] == "SKIP" and "wrong sign" in " ".join(result.hints), result.report()
    assert len(result.hints) == 1, result.report()


def test_zero_stubs_for_forward_and_backward_earn_nothing_on_the_gradients():
    fwd = lambda x, w, b: (torch.zeros(len(x), len(w), dtype=x.dtype), (x, w, b))  # noqa: E731
    bwd = lambda dout, cache: tuple(torch.zeros_like(t) for t in cache)  # noqa: E731
    result = run_check("affine_backward", (fwd, bwd))
    grads = [s for s in result.subchecks if s.name.startswith(("dx", "dw", "db"))]
    assert grads and not any(s.passed for s in grads), result.report()
    assert "fix the forward first" in result.report()


def test_a_backward_consistent_with_a_wrong_forward_keeps_its_credit():
    fwd = lambda x, w, b: (2 * RAW.affine_forward(x, w, b)[0], (x, w, b))  # noqa: E731  twice too large
    bwd = lambda dout, cache: tuple(2 * g for g in RAW.affine_backward(dout, cache))  # noqa: E731
    result = run_check("affine_backward", (fwd, bwd))
    assert result.earned == POINTS and "differs from the reference" in result.report(), result.report()


def test_a_gradient_that_a_wrong_forward_makes_zero_earns_nothing():
    fwd = lambda x, w, b: (x.reshape(len(x), -1) @ w.T, (x, w, b))  # noqa: E731  forgets the bias
    bwd = lambda dout, cache: RAW.affine_backward(dout, cache)[:2] + (torch.zeros_like(cache[2]),)  # noqa: E731
    result = run_check("affine_backward", (fwd, bwd))
    subs = {s.name[:2]: s for s in result.subchecks}
    assert subs["dx"].passed and subs["dw"].passed, result.report()
    assert not subs["db"].passed and "ignores b" in subs["db"].hint, result.report()


def test_an_exception_is_reported_once_with_the_students_line_and_no_hints():
    ns = _in_notebook("def mse_loss(pred, target):\n    d = pred - target\n    return d.mean(axis=7), d\n")
    result = run_check("mse_loss", ns["mse_loss"])
    assert result.earned == 0 and len(result.errors) == 1, result.report()
    assert "line 3" in result.errors[0] and "IndexError" in result.errors[0]
    assert not result.hints and result.report().count("your code raised") == 1


def test_float64_demoted_to_float32_is_named():
    ns = _in_notebook("def affine_forward(x, w, b):\n    return (x.reshape(len(x), -1) @ w.T + b).float(), None\n")
    result = run_check("affine_forward", ns["affine_forward"])
    sub = next(s for s in result.subchecks if "dtype" in s.name)
    assert not sub.passed and "float64 inputs came back as float32" in sub.hint, result.report()


# --- robustness: hostile or broken student functions, for every spec ----------------------------


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
    "generator_exit": _raising(GeneratorExit()), "noisy": _noisy, "recursion": _recursing,
    "no_arguments": lambda: None,
}


def _student_sets(function, student):
    spec = checks.REGISTRY[function]
    if spec.kind == "backward":
        return [(getattr(RAW, spec.forward), student), (student, getattr(RAW, spec.name)), (student, student)]
    return [(student,)]


def _run_guarded(function, args):
    """The check's result, the warnings its own code emitted and what reached stderr."""
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        result = getattr(checks, function)(*args, points=2.0, cases="hidden", seed=1, quiet=True)
        result.report(), repr(result), result.to_dict()
    return result, [str(w.message) for w in caught], err.getvalue()


@pytest.mark.parametrize("function", sorted(checks.REGISTRY))
def test_a_check_never_raises_warns_or_gives_marks_to_a_hostile_function(function):
    for name, student in HOSTILE.items():
        for args in _student_sets(function, student):
            result, caught, err = _run_guarded(function, args)
            assert result.earned < 2.0, f"{name}: {result.report()}"
            assert not caught and not err, f"{name}: the check itself wrote {caught or err}"


@pytest.mark.parametrize("function", sorted(checks.REGISTRY))
def test_not_implemented_gives_a_one_line_report(function):
    stub = _raising(NotImplementedError())
    args = (stub, stub) if checks.REGISTRY[function].arity == 2 else (stub,)
    result, _, _ = _run_guarded(function, args)
    assert result.earned == 0 and "not implemented yet" in result.report() and len(result.report().splitlines()) == 3


def test_a_check_rejects_a_bad_call_with_a_clear_error():
    with pytest.raises(ValueError, match="seed must be an int"):
        checks.mse_loss(RAW.mse_loss, points=1, cases="hidden", seed="7")
    with pytest.raises(ValueError, match='cases must be "visible" or "hidden"'):
        checks.mse_loss(RAW.mse_loss, points=1, cases="secret", seed=3)
    with pytest.raises(ValueError, match="points must be"):
        checks.mse_loss(RAW.mse_loss, points=-1)
    with pytest.raises(TypeError, match="forward and backward"):
        checks.affine_backward(RAW.affine_backward, points=1)


def test_hidden_cases_take_their_seed_from_the_grader_and_a_fixed_one_elsewhere():
    default = checks.hidden_seed("mse_loss")
    assert default == checks.hidden_seed("mse_loss") != checks.hidden_seed("l1_loss")
    token = checks.HIDDEN_SEEDS.set(lambda name: 1234 if name == "mse_loss" else 0)
    try:
        assert checks.hidden_seed("mse_loss") == 1234
        assert checks.mse_loss(RAW.mse_loss, points=1, cases="hidden", quiet=True).seed == 1234
    finally:
        checks.HIDDEN_SEEDS.reset(token)
    assert checks.mse_loss(RAW.mse_loss, points=1, cases="hidden", quiet=True).seed == default


def _fresh_interpreter(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a new Python (torch warns only once per process; a segfault must not kill pytest)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)


def test_odd_outputs_make_no_warning_escape_the_check():
    proc = _fresh_interpreter(
        "import torch\nfrom labkit import checks\n"
        "checks.numerical_gradient(lambda f, x, h=1e-5: torch.zeros(x.shape, dtype=torch.complex128), points=1,"
        " quiet=True)\n"
        "checks.rel_error(lambda a, b: torch.zeros((), requires_grad=True), points=1, quiet=True)\n")
    assert proc.returncode == 0 and not proc.stderr, proc.stderr.decode()[-800:]


def test_an_object_faking_a_tensor_does_not_crash_the_kernel():
    code = ("import torch\nfrom labkit import checks\n"
            "class Fake:\n    __class__ = property(lambda self: torch.Tensor)\n"
            "    def detach(self): return self\n"
            "r = checks.rel_error(lambda a, b: Fake(), points=1, quiet=True)\n"
            "assert r.earned < 1\n")
    proc = _fresh_interpreter(code)
    assert proc.returncode == 0, proc.stderr.decode()[-500:]


def test_rel_error_answering_nan_passes_no_value_subcheck():
    def nan_unless_equal(a, b):
        return 0.0 if torch.equal(a, b) else float("nan")

    result = run_check("rel_error", nan_unless_equal, points=5.0)
    assert not result.subchecks[0].passed and result.earned <= 2.0, result.report()


def test_a_backward_returning_one_gradient_is_compared_as_one_output():
    """A backward whose only gradient is dx returns the tensor itself (not a tuple): the reference's dx must
    not be split into its rows."""
    spec = checks.REGISTRY["relu_backward"]
    assert spec.outputs == ("dx",)
    result = run_check("relu_backward", (RAW.relu_forward, RAW.relu_backward))
    assert result.earned == POINTS, result.report()
    wrong = run_check("relu_backward", (RAW.relu_forward, lambda dout, x: 2 * RAW.relu_backward(dout, x)))
    assert wrong.earned < POINTS and "2 times too large" in wrong.report(), wrong.report()
