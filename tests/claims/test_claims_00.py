"""Notebook 00's checked claims hold on 20 seeds, with the references standing in for the student's functions.

Each test runs the computation of one experiment (``labkit.experiments.gradcheck``) on seeds 0-19 and asserts
the thresholds the notebook's ``claim(...)`` calls quote (the constants of that module). The deterministic
claims of the notebook (worked loss values, PyTorch equivalences, relu's kink) are exact identities and are
tested once. About 15 s of CPU in all.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

import labkit.reference as R
from labkit.data import load_digits
from labkit.experiments import gradcheck as ex

SEEDS = range(20)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _within(value, bounds):
    low, high = bounds
    return low <= value <= high


def test_step_size_slopes_best_step_and_roundoff():
    for seed in SEEDS:
        m = ex.step_sizes(R.numerical_gradient, seed=seed)
        assert _within(m["slope_centred"], ex.CENTRED_SLOPE), (seed, m["slope_centred"])
        assert _within(m["slope_forward"], ex.FORWARD_SLOPE), (seed, m["slope_forward"])
        assert _within(m["best_h"], ex.BEST_H_FLOAT64), (seed, m["best_h"])
        assert m["roundoff_growth"] >= ex.ROUNDOFF_GROWTH, (seed, m["roundoff_growth"])
        assert m["float32_gain"] >= ex.FLOAT32_GAIN, (seed, m["float32_gain"])  # q_float32_best_h: "larger"


def test_bands_of_correct_and_buggy_gradients():
    lin = lambda x, w, b: (x @ w.T + b, None)  # noqa: E731  (as in the notebook: torch built-ins)
    ce = lambda s, y: (F.cross_entropy(s, y), None)  # noqa: E731
    for seed in SEEDS:
        err = ex.bands(R.numerical_gradient, R.rel_error, lin, ce, seed=seed)["by_case"]
        assert err["correct, float64"] <= ex.FLOAT64_CORRECT, (seed, err)
        assert err["correct, float32"] >= ex.FLOAT32_CORRECT, (seed, err)  # q_float32_band: "probably wrong"
        assert _within(err["bug: twice the gradient"], ex.BUG_TIMES_TWO), (seed, err)
        assert _within(err["bug: 10 % too large"], ex.BUG_TIMES_1_1), (seed, err)
        assert err["bug: transposed, reshaped"] >= ex.BUG_TRANSPOSED, (seed, err)
        assert min(e for c, e in err.items() if c.startswith("bug")) >= ex.BUG_ANY, (seed, err)


def test_relu_zeros_break_a_one_sided_denominator_and_the_kink_gives_045():
    for seed in SEEDS:
        m = ex.relu_denominators(R.numerical_gradient, R.rel_error, seed=seed)
        assert not math.isfinite(m["one_sided"]) and m["symmetric"] <= ex.ONE_SIDED_SYMMETRIC, (seed, m)
    kink = ex.relu_kink(R.numerical_gradient, h=1e-5, points=(-1e-6, -1e-3))
    assert abs(kink[-1e-6]["estimate"] - 0.45) <= 1e-9 and kink[-1e-3]["estimate"] == 0.0
    assert kink[-1e-6]["crossed"] and not kink[-1e-3]["crossed"]


def test_flat_sampling_rate_matches_the_exact_probability_and_per_parameter_always_catches():
    assert ex.exact_flat_rate(285, 5, 10) == pytest.approx(1 - math.comb(280, 10) / math.comb(285, 10))
    assert ex.exact_flat_rate(285, 5, 10) == pytest.approx(0.1646, abs=1e-4)
    for seed in SEEDS:
        m = ex.flat_sampling(R.numerical_gradient_array, R.affine_forward, R.affine_backward, seed=seed)
        assert m["bug_entries"] == {"x": 0, "w": 0, "b": 5}, (seed, m["bug_entries"])
        assert abs(m["rate_flat"] - m["exact_flat"]) <= ex.FLAT_RATE_MARGIN, (seed, m["rate_flat"])
        assert m["rate_per_parameter"] == 1.0, seed


def test_kink_crossings_grow_with_n_and_explain_every_failing_entry():
    for seed in SEEDS:
        m = ex.kink_crossings(R.affine_forward, R.affine_backward, R.multiclass_hinge_loss, R.numerical_gradient,
                              R.rel_error, seed=seed)
        fr = m["fractions"][1e-3]
        assert fr[0] <= ex.KINK_FRACTION_FEW and fr[-1] >= ex.KINK_FRACTION_MANY, (seed, fr)
        assert all(a <= b for a, b in zip(fr, fr[1:])), (seed, fr)
        assert m["failing_without_kink"] == 0 and m["failing_with_kink"] > 0, (seed, m["failing_with_kink"])


def test_burn_in_reveals_the_gateless_hinge_gradient():
    for seed in SEEDS:
        m = ex.burn_in(R.affine_forward, R.affine_backward, R.multiclass_hinge_loss, R.numerical_gradient,
                       R.rel_error, seed=seed)
        assert m["buggy_before"] <= ex.BURN_IN_BEFORE, (seed, m)
        assert m["buggy_after"] >= ex.BURN_IN_AFTER, (seed, m)
        assert m["correct_after"] <= ex.BURN_IN_CORRECT, (seed, m)


def test_regularisation_hides_a_doubled_data_gradient_like_one_over_r():
    for seed in SEEDS:
        digits = load_digits(seed, flatten=True)
        m = ex.regularisation_ratio(R.affine_forward, R.affine_backward, R.softmax_cross_entropy,
                                    R.numerical_gradient, R.rel_error, digits.train.x[:100], digits.train.y[:100],
                                    seed=seed)
        assert min(m["normrel"][:2]) >= ex.REG_BUG_SMALL_R, (seed, m["normrel"])
        assert m["normrel"][-1] <= ex.REG_BUG_LARGE_R, (seed, m["normrel"])
        assert _within(m["slope"], ex.REG_SLOPE), (seed, m["slope"])
        assert m["elementwise"][-1] >= ex.REG_ELEMENTWISE, (seed, m["elementwise"])


def test_dropout_masks_ruin_a_check_unless_reseeded():
    for seed in SEEDS:
        m = ex.dropout_check(R.affine_forward, R.softmax_cross_entropy, R.numerical_gradient, seed=seed)
        assert m["fresh"] >= ex.DROPOUT_FRESH and m["seeded"] <= ex.DROPOUT_SEEDED, (seed, m)


def test_tiny_entries_read_as_rel_error_one():
    for seed in SEEDS:
        m = ex.tiny_entries(R.affine_forward, R.affine_backward, R.softmax_cross_entropy, R.numerical_gradient,
                            R.rel_error, seed=seed)
        assert m["tiny_row"] == 1.0 and m["numeric_tiny_size"] == 0.0, (seed, m)
        assert m["other_rows"] <= ex.TINY_OTHER_ROWS and m["normrel"] <= ex.TINY_NORMREL, (seed, m)


def test_scaling_the_loss_changes_nothing_but_subnormals_and_offsets_hurt():
    for seed in SEEDS:
        m = ex.loss_scaling(R.affine_forward, R.affine_backward, R.softmax_cross_entropy, R.numerical_gradient,
                            seed=seed)
        e = m["errors"]
        normal = [e[1e-10], e[1.0], e[1e10]]
        assert max(normal) / min(normal) <= ex.SCALE_SPREAD, (seed, e)
        assert e[1e-42] >= ex.SCALE_SUBNORMAL, (seed, e)
        assert m["with_offset"] / e[1.0] >= ex.OFFSET_GROWTH, (seed, m)


def test_errors_grow_with_depth_but_float64_stays_tiny():
    for seed in SEEDS:
        m = ex.depth(R.affine_forward, R.numerical_gradient, seed=seed)
        assert m["ratio_float32"] >= ex.DEPTH_RATIO and m["ratio_float64"] >= ex.DEPTH_RATIO, (seed, m)
        assert m["worst_float64_deep"] <= ex.DEPTH_FLOAT64, (seed, m["worst_float64_deep"])


def test_cross_entropy_recovers_from_a_confidently_wrong_start_faster_than_mse():
    for seed in SEEDS:
        m = ex.ce_against_mse(R.binary_cross_entropy_with_logits, R.mse_loss, seed=seed)
        assert m["slowdown"] >= ex.MSE_SLOWDOWN and m["MSE"]["steps"] < 3000, (seed, m["slowdown"])
        assert m["grad_bce"] / m["grad_mse"] >= 1e3


def test_outliers_move_the_mse_fit_not_the_l1_fit():
    for seed in SEEDS:
        m = ex.outliers(R.mse_loss, R.l1_loss, seed=seed)
        assert m["shift"]["MSE"] >= ex.OUTLIER_L2_SHIFT and m["shift"]["L1"] <= ex.OUTLIER_L1_SHIFT, (seed, m)


def test_initial_losses_are_at_chance_and_regularisation_raises_them():
    for seed in range(5):  # 200 x 3072 inputs per seed: the values are exact limits, five seeds suffice
        m = ex.initial_loss(R.affine_forward, R.softmax_cross_entropy, R.multiclass_hinge_loss, seed=seed)
        assert abs(m["ce"][0] - math.log(10)) <= ex.INITIAL_LOSS_TOL, (seed, m["ce"][0])
        assert abs(m["hinge"][0] - 9.0) <= ex.INITIAL_LOSS_TOL, (seed, m["hinge"][0])
        assert all(r > c for r, c in zip(m["ce_reg"], m["ce"])), seed


def test_deterministic_claims_worked_values_torch_equivalences_and_autograd():
    f64 = torch.float64
    assert float(R.mse_loss(torch.tensor([[1., 1, 1], [2, 2, 2]]), torch.tensor([[0., 0, 0], [3, 3, 3]]))[0]) == 1.0
    assert float(R.l1_loss(torch.ones(2, 3), torch.tensor([[0., 0, 0], [3, 3, 3]]))[0]) == 1.5
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]], dtype=f64)
    assert float(R.softmax_cross_entropy(probs.log(), torch.tensor([0, 1, 2]))[0]) == pytest.approx(0.094590, abs=1e-4)
    soft = torch.tensor([[0.7, 0.2, 0.1], [0.05, 0.9, 0.05], [0.3, 0.3, 0.4]], dtype=f64)
    assert float(R.softmax_cross_entropy(probs.log(), soft)[0]) == pytest.approx(1.2243, abs=1e-4)
    p = torch.tensor([0.6, 0.8, 0.1], dtype=f64)
    bce = R.binary_cross_entropy_with_logits(torch.log(p / (1 - p)), torch.tensor([0., 1, 0], dtype=f64))[0]
    assert float(bce) == pytest.approx(0.41493, abs=1e-4)
    gen = torch.Generator().manual_seed(0)
    z, sign = torch.randn(100, generator=gen, dtype=f64), torch.randint(0, 2, (100,), generator=gen) * 2 - 1
    hinge, d = R.multiclass_hinge_loss(torch.stack([torch.zeros_like(z), z], 1), (sign > 0).long())
    assert abs(float(hinge - F.margin_ranking_loss(z, torch.zeros_like(z), sign.to(f64), margin=1.0))) <= 1e-7
    assert torch.equal(d[:, 1] != 0, sign * z < 1)
    assert float(torch.logsumexp(torch.tensor([1000.0, 999.0]), 0)) == pytest.approx(1000.3133, abs=1e-4)
    naive = -torch.log(1 - torch.sigmoid(torch.tensor([20.0, 30.0, 100.0, 1e4])))
    assert torch.isinf(naive).all()
