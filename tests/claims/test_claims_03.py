"""Notebook 03's checked claims hold on 20 seeds, with the references standing in for the student's functions
(thresholds: labkit.experiments.normalization.THRESHOLDS, the ones the notebook quotes)."""
from __future__ import annotations

import pytest
import torch

from labkit.experiments import normalization as E
from tests.checks.answer_key import RAW

T = E.THRESHOLDS
SEEDS = range(20)
BN, LN = RAW.batchnorm_forward, RAW.layernorm_forward


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_03_01_train_mode_gives_every_feature_mean_0_and_variance_1_whatever_the_scale(scale):
    for seed in SEEDS:
        mean_err, var_err = E.bn_output_stats(BN, seed, scale)
        assert mean_err < T["bn_mean"] and var_err < T["bn_var"], (seed, mean_err, var_err)


def test_03_02_gamma_sqrt_var_plus_eps_and_beta_mu_give_back_the_input():
    assert max(E.identity_recovery(BN, seed) for seed in SEEDS) < T["identity"]


def test_03_03_after_gamma_and_beta_the_mean_is_beta_and_the_std_gamma_unless_the_variance_is_near_eps():
    for seed in SEEDS:
        for scale in (1.0, 1e3):
            mean_err, std_err = E.affine_stats(BN, seed, scale)
            assert mean_err < T["affine_mean"] and std_err < T["affine_std"], (seed, scale)
        _, std_err = E.affine_stats(BN, seed, 1e-3)
        assert T["tiny_std_low"] <= 1 - std_err <= T["tiny_std_high"], (seed, std_err)


def test_03_04_running_statistics_converge_and_match_batchnorm1d_step_for_step():
    for seed in SEEDS:
        r = E.running_stats(BN, seed)
        assert r["mean_error"] < T["running_mean"] and r["var_error"] < T["running_var"], seed
        assert r["torch_gap"] < T["torch_match"], seed


def test_03_05_eval_mode_is_a_fixed_affine_map_independent_of_the_rest_of_the_batch():
    for seed in SEEDS:
        folded, train_change, eval_change = E.eval_is_affine(BN, seed)
        assert folded < T["folded"] and train_change >= T["train_change"] and eval_change == 0, seed


def test_03_06_forgetting_eval_mode_hurts_with_small_or_sorted_batches():
    for seed in SEEDS:
        r = E.forgotten_eval(seed)
        assert r["eval"] >= T["eval_acc"], (seed, r)
        assert abs(r["train, random batches of 64"] - r["eval"]) <= T["random64_gap"], (seed, r)
        assert r["eval"] - r["train, class-sorted batches of 16"] >= T["sorted16_drop"], (seed, r)
        assert r["eval"] - r["train, random batches of 2"] >= T["batch2_drop"], (seed, r)


def test_03_07_batch_statistics_get_noisier_as_one_over_root_b_and_layer_norm_ignores_the_batch():
    low, high = T["noise_ratio"]
    for seed in SEEDS:
        noise = E.batch_mean_noise(seed)
        assert low <= noise[4] / noise[64] <= high, (seed, noise)
        ln_change, bn_change = E.batch_dependence(BN, LN, seed)
        assert ln_change <= T["ln_change"] and bn_change >= T["bn_change"], (seed, ln_change, bn_change)


def test_03_08_batch_norm_trains_at_every_init_scale_and_the_plain_net_only_at_the_right_one():
    for seed in SEEDS:
        acc = E.init_robustness(seed)
        assert all(acc[True, s] >= T["bn_init_acc"] for s in (0.01, 0.1, 1.0)), (seed, acc)
        assert acc[False, 0.01] <= T["plain_bad_acc"] and acc[False, 1.0] <= T["plain_bad_acc"], (seed, acc)


def test_03_09_normalising_keeps_tanh_out_of_its_flat_tails():
    for seed in SEEDS:
        raw, after = E.tanh_saturation(BN, seed)
        assert raw >= T["raw_saturated"] and after < T["bn_saturated"], seed


def test_03_10_whitening_gives_identity_covariance_and_standardising_keeps_the_correlation():
    for seed in SEEDS:
        r = E.whitening(seed)
        assert r["white_cov_error"] < T["whitened"] and r["corr_change"] < T["corr_kept"], seed


def test_03_11_dropout_before_batch_norm_shifts_the_variance_between_train_and_eval():
    assert min(E.dropout_variance_shift(seed) for seed in SEEDS) >= T["dropout_var_ratio"]
