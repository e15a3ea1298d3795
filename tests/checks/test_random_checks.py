"""Checks of random functions (``Spec(kind="random")``, ``labkit/checks/stats.py``): a correct function
never fails by chance, any correct way of drawing keeps full marks, the generator rules are judged, and
the machinery works for any random function (a toy dropout mask here), through the wire as well."""
from __future__ import annotations

import math

import pytest
import torch

from labkit import checks
from labkit.checks import stats
from labkit.checks.runner import call_student
from labkit.checks.spec import Case, Spec, Statistic

from .answer_key import RAW

RANDOM_SPECS = sorted(name for name, spec in checks.REGISTRY.items()  # the initialisers of notebook 02
                     if spec.kind == "random" and checks.SPEC_MODULE.get(name) == "specs_02")
MANY_SEEDS = range(1000, 1150)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _margins(result) -> dict[str, float]:
    """For each statistic but the exact bound: how far towards the edge of its accepted interval the value
    went (0: the centre, or 0 for a distance; 1: the edge)."""
    out = {}
    for sub in result.subchecks:
        if "; accepted " in str(sub.measured) and "bound" not in sub.name:
            value, rest = str(sub.measured).split("; accepted ")
            low, high = (float(x) for x in rest.split(" to "))
            if low == 0:  # a distance or a correlation: 0 is perfect
                out[sub.name] = float(value) / high
            else:
                out[sub.name] = abs(float(value) - (low + high) / 2) / ((high - low) / 2)
    return out


@pytest.mark.parametrize("name", RANDOM_SPECS)
def test_a_correct_initialiser_keeps_full_marks_on_many_seeds_with_room_to_spare(name):
    """150 hidden seeds: never a false failure; the worst statistic stays well inside its interval
    (each interval is set for a false-failure probability of TOL['false_failure'] = 1e-9)."""
    check = getattr(checks, name)
    worst = 0.0
    for seed in MANY_SEEDS:
        result = check(getattr(RAW, name), points=1, cases="hidden", seed=seed, quiet=True)
        assert result.earned == 1, result.report()
        worst = max([worst] + list(_margins(result).values()))
    assert worst < 0.9, f"{name}: a correct function came within {worst:.2f} of an interval's edge"


def test_intervals_cover_the_truth_at_their_stated_rate():
    gen = torch.Generator().manual_seed(0)
    n, trials = 4000, 300
    x = torch.randn(trials, n, generator=gen, dtype=torch.float64) * 0.3
    lo, hi = stats.std_interval(0.3, n, stats.NORMAL_KURTOSIS, alpha=0.05)
    inside = ((x.pow(2).mean(1).sqrt() >= lo) & (x.pow(2).mean(1).sqrt() <= hi)).double().mean()
    assert 0.9 < float(inside) <= 1.0  # about 95 % at alpha = 0.05
    lo, hi = stats.mean_interval(0.0, 0.3, n, alpha=0.05)
    inside = ((x.mean(1) >= lo) & (x.mean(1) <= hi)).double().mean()
    assert 0.9 < float(inside) <= 1.0
    u = torch.rand(trials, n, generator=gen, dtype=torch.float64)
    ks = torch.tensor([stats.ks_distance(row, lambda t: t.clamp(0, 1)) for row in u[:100]])
    assert float((ks > stats.ks_limit(n, alpha=0.05)).double().mean()) <= 0.1  # at most ~5 % (DKW is conservative)
    assert float(ks.max()) < stats.ks_limit(n) and stats.ks_limit(n) > stats.ks_limit(n, alpha=0.05)
    assert stats.uniform_max_low(1000, alpha=0.01) ** 1000 == pytest.approx(0.01)
    lo, hi = stats.fraction_interval(0.5, 10_000, alpha=0.05)
    assert hi - lo == pytest.approx(2 * 1.96 * 0.005, rel=1e-3)
    with pytest.raises(ValueError, match="sample size"):
        stats.std_interval(1.0, 1)
    with pytest.raises(ValueError, match="alpha"):
        stats.z_value(1.5)


def test_the_statistics_catch_a_wrong_law_by_a_few_per_cent():
    """A spread 6 % too large, a uniform law drawn for a normal one: caught on every seed."""
    def xn_six_percent(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
        return RAW.xavier_normal(shape, gain * 1.06, generator, dtype, device)

    def xn_uniform(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
        return RAW.xavier_uniform(shape, gain, generator, dtype, device)

    for seed in range(5):
        for wrong in (xn_six_percent, xn_uniform):
            assert checks.xavier_normal(wrong, points=1, cases="hidden", seed=seed, quiet=True).earned < 1


# --- the machinery, on a toy random function of another kind (a dropout mask) --------------------------

def _keep_fraction(case, outputs):
    mask = outputs[0]
    low, high = stats.fraction_interval(1 - case.args[1], mask.numel())
    return float(mask.mean()), low, high


def _mask_reference(x, p, generator=None):
    return (torch.rand(x.shape, generator=generator, dtype=torch.float64) >= p).to(x.dtype)


MASK = Spec("toy_mask", "random", lambda d: [Case((d.randn(80, 90), 0.3)), Case((d.randn(50, 60), 0.5))],
            outputs=("mask",), reference=_mask_reference,
            statistics=[Statistic("the kept fraction is 1 - p", _keep_fraction, weight=2.0, hint="wrong fraction")])


def _run(fn, seed=0):
    return checks.make_check(MASK)(fn, points=2, cases="hidden", seed=seed, quiet=True)


def test_a_random_spec_of_another_kind_grades_a_mask_and_keeps_the_input_dtype():
    assert _run(_mask_reference).earned == 2
    report = _run(lambda x, p, generator=None: _mask_reference(x, p + 0.1, generator)).report()
    assert "wrong fraction" in report and "accepted" in report
    float64_always = _run(lambda x, p, generator=None: _mask_reference(x, p, generator).double())
    assert not next(s for s in float64_always.subchecks if "dtype" in s.name).passed


@pytest.mark.parametrize("bug, failed", [
    (lambda x, p, generator=None: (torch.rand(x.shape, dtype=x.dtype) >= p).to(x.dtype),
     {"equal generator states give equal draws", "leaves the global random number generator alone"}),
    (lambda x, p, generator=None: _mask_reference(x, p, torch.Generator().manual_seed(3)),
     {"draws change with the generator's state"}),
    (lambda x, p, generator=None: (torch.manual_seed(1), _mask_reference(x, p, generator))[1],
     {"leaves the global random number generator alone"}),
])
def test_the_generator_rules_are_judged(bug, failed):
    result = _run(bug)
    assert {s.name for s in result.subchecks if s.state == "FAIL"} == failed, result.report()


def test_a_random_spec_refuses_a_probe_compared_with_the_references_draws():
    from labkit.checks.spec import Probe

    with pytest.raises(ValueError, match="statistics"):
        Spec("x", "random", lambda d: [], outputs=("y",))
    with pytest.raises(ValueError, match="expect= or raises="):
        Spec("x", "random", lambda d: [], outputs=("y",), statistics=MASK.statistics,
             probes=[Probe("p", lambda d: Case(()))])
    with pytest.raises(ValueError, match="kind 'random'"):
        Spec("x", "function", lambda d: [], outputs=("y",), statistics=MASK.statistics)


def test_a_call_records_whether_it_changed_the_global_rng():
    quiet = call_student(lambda g: torch.rand(3, generator=g), (torch.Generator().manual_seed(0),), {},
                         names=["g"], forbidden={}, seen=[])
    noisy = call_student(lambda g: torch.rand(3), (None,), {}, names=["g"], forbidden={}, seen=[])
    assert not quiet.rng_changed and noisy.rng_changed


def test_a_generator_crosses_the_wire_as_a_copy_in_the_same_state():
    from autograder import wire

    g = torch.Generator().manual_seed(11)
    torch.rand(5, generator=g)
    copy = wire.decode(wire.encode(g, keep=lambda v: 0), resolve=None)
    assert type(copy) is torch.Generator and torch.equal(torch.rand(4, generator=copy), torch.rand(4, generator=g))
    with pytest.raises(wire.WireError):
        wire.decode({"__generator__": torch.zeros(3)}, resolve=None)


def test_the_slide_bound_is_named_and_loses_most_of_the_spread_points():
    def slide(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
        fan_in, fan_out = RAW.compute_fans(shape)
        a = gain * math.sqrt(6) / (fan_in + fan_out)
        return ((2 * torch.rand(tuple(shape), generator=generator, dtype=dtype) - 1) * a).to(device or "cpu")

    result = checks.xavier_uniform(slide, points=3, cases="hidden", quiet=True)
    assert result.earned < 0.7 * 3 and "where the square root ends" in result.report(), result.report()
    failed = [s.name for s in result.subchecks if s.state == "FAIL"]
    assert len(failed) == 1 and "spread" in failed[0], result.report()  # one bug, charged once


def test_a_statistic_that_requires_another_is_skipped_while_that_one_fails():
    def ku_wide(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32, device=None):
        return 2 * RAW.kaiming_uniform(shape, a, mode, nonlinearity, generator, dtype, device)

    def ku_outlier(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32, device=None):
        w = RAW.kaiming_uniform(shape, a, mode, nonlinearity, generator, dtype, device)
        w.view(-1)[0] = 2 * w.abs().max()  # one draw outside the bound: the spread barely moves
        return w

    states = {s.name: s.state for s in checks.kaiming_uniform(ku_wide, points=1, quiet=True).subchecks}
    assert states["every draw lies inside the bound of the law"] == "SKIP"
    states = {s.name: s.state for s in checks.kaiming_uniform(ku_outlier, points=1, quiet=True).subchecks}
    assert states["every draw lies inside the bound of the law"] == "FAIL"
