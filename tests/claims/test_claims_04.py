"""The checked claims of notebook 04 hold on 20 seeds, with the references standing in for the student's
functions and the thresholds of ``labkit.experiments.regularization.THRESHOLDS`` (the ones the notebook
asserts). The two training runs of 04-05 cost about 4 s a seed: 3 seeds here, all 20 under ``-m slow``."""
from __future__ import annotations

import pytest
import torch

from labkit.experiments import regularization as E
from tests.checks.answer_key import RAW as R

SEEDS = range(20)
T = E.THRESHOLDS


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/claims/conftest.py


def _holds_on_every_seed(measure, ok, seeds=SEEDS):
    bad = {}
    for seed in seeds:
        value = measure(seed)
        if not ok(value):
            bad[seed] = value
    assert not bad, f"the claim fails on seeds {bad}"


def test_04_01_04_inverted_dropout_keeps_the_mean_and_draws_a_fresh_mask_per_example():
    def ok(r):
        return (T["ratio_scaled"][0] <= r["ratio_scaled"] <= T["ratio_scaled"][1]
                and T["ratio_unscaled"][0] <= r["ratio_unscaled"] <= T["ratio_unscaled"][1]
                and r["eval_identity"] and r["p1_zeros"] and not r["p1_nan"] and r["rows_like_row0"] == 0
                and r["calls_differ"])
    _holds_on_every_seed(lambda s: E.dropout_expectation(R.dropout_forward, s), ok)


def test_04_02_vanilla_dropout_expected_output_is_keep_times_full():
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        w1, w2, x1, x2 = torch.randn(4, generator=g, dtype=torch.float64).tolist()
        for keep in (0.5, 0.8):
            expected = sum((keep if m1 else 1 - keep) * (keep if m2 else 1 - keep) * (w1 * x1 * m1 + w2 * x2 * m2)
                           for m1 in (0, 1) for m2 in (0, 1))
            assert abs(expected - keep * (w1 * x1 + w2 * x2)) <= 1e-12 * max(1.0, abs(w1 * x1 + w2 * x2))


def test_04_03_one_eval_pass_is_the_mask_average_only_for_a_linear_net():
    _holds_on_every_seed(lambda s: E.mask_average(R.dropout_forward, s),
                         lambda r: r["linear"] <= T["linear_mc_gap"] and r["relu"] >= T["relu_mc_gap"])


def _overfit_ok(r):
    return (r["val_acc_gain"] >= T["dropout_val_acc_gain"] and r["val_loss_drop"] >= T["dropout_val_loss_drop"]
            and r["gap_drop"] >= T["dropout_gap_drop"])


def _overfit(seed):
    r = E.dropout_overfitting(R.dropout_forward, R.dropout_backward, seed)
    return {k: r[k] for k in ("val_acc_gain", "val_loss_drop", "gap_drop")}


def test_04_05_dropout_reduces_overfitting_on_noisy_labels_three_seeds():
    _holds_on_every_seed(_overfit, _overfit_ok, seeds=range(3))


@pytest.mark.slow
def test_04_05_dropout_reduces_overfitting_on_noisy_labels_twenty_seeds():
    _holds_on_every_seed(_overfit, _overfit_ok)


def test_04_06_dropout_makes_the_full_batch_loss_rise_at_some_steps():
    def measure(s):
        r = E.noisy_objective(R.dropout_forward, R.dropout_backward, s)
        return r["plain_rise_fraction"], r["dropout_rise_fraction"]
    _holds_on_every_seed(measure, lambda r: r[0] == 0 and r[1] >= T["noisy_rise_fraction"])


def test_04_07_l2_weight_norm_falls_strictly_with_lambda():
    _holds_on_every_seed(lambda s: E.l2_weight_norms(R.l2_penalty, s)["norms"],
                         lambda n: all(b < a for a, b in zip(n, n[1:])))


def test_04_08_l1_zeroes_irrelevant_weights_and_l2_does_not():
    def measure(s):
        r = E.sparsity(R.l1_penalty, R.l2_penalty, s)
        k = r["lams"].index(0.1)
        return r["l1"][k], r["l2"][k], r["l1"]
    _holds_on_every_seed(measure, lambda r: r[0] >= T["l1_sparse"] and r[1] <= T["l2_sparse"]
                         and all(b >= a for a, b in zip(r[2], r[2][1:])))


def test_04_09_validation_error_is_u_shaped_in_lambda():
    def ok(r):
        best = min(r["val"])
        return (r["val"][0] >= T["ridge_ends_over_best"] * best and r["val"][-1] >= T["ridge_ends_over_best"] * best
                and 0 < r["val"].index(best) < len(r["val"]) - 1
                and all(b >= a for a, b in zip(r["train"], r["train"][1:])))
    _holds_on_every_seed(E.ridge_curve, ok)


def test_04_10_sgd_weight_decay_is_twice_the_penalty_strength():
    _holds_on_every_seed(lambda s: E.weight_decay_match(R.l2_penalty, s),
                         lambda r: r["wd_2lam"] <= T["wd_match"] and r["wd_lam"] >= T["wd_mismatch"])


def test_04_11_early_stopping_stops_early_and_restores_a_near_best_epoch():
    def measure(s):
        r = E.early_stopping_run(R.dropout_forward, R.dropout_backward, R.EarlyStopping, s)
        return r["final_minus_best"], r["stopped"]["epochs_run"], r["stopped"]["restored_val_loss"] - r["min_val_loss"]
    _holds_on_every_seed(measure, lambda r: r[0] >= T["overfit_rise"] and r[1] <= T["stop_before"] - 1
                         and r[2] <= T["restored_within"])
