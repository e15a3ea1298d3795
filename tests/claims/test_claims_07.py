"""The checked claims of notebook 07 hold on 20 seeds (the law of mixup's weight on 5: 40 000 calls a seed),
with the references standing in for the student's functions and the thresholds of
``labkit.experiments.augmentation.THRESHOLDS`` (the ones the notebook asserts)."""
from __future__ import annotations

import pytest
import torch

from labkit.experiments import augmentation as E
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


def _within(value, bounds):
    return bounds[0] <= value <= bounds[1]


def test_07_01_a_horizontal_flip_changes_what_digits_mean():
    _holds_on_every_seed(lambda s: E.flipped_digits(R.hflip, s),
                         lambda r: _within(r["val_acc"], T["digits_val_acc"])
                         and r["val_acc"] - r["flipped_acc"] >= T["flip_drop"])


def test_07_02_training_on_shifted_copies_teaches_shift_invariance():
    _holds_on_every_seed(lambda s: E.shift_invariance(R.random_crop, s),
                         lambda r: r["aug_shifted"] - r["plain_shifted"] >= T["shift_gain"])


def test_07_05_test_time_augmentation_does_not_cost_accuracy():
    results = []
    _holds_on_every_seed(lambda s: results.append(E.tta_gain(R.random_crop, R.tta_predict, s)) or results[-1],
                         lambda r: r["tta_acc"] - r["single_acc"] >= T["tta_change"])
    assert sum(r["single_nll"] - r["tta_nll"] for r in results) > 0  # on average it helps (NLL)


def test_07_06_colour_blends_follow_their_rules():
    _holds_on_every_seed(lambda s: E.colour_rules(R.adjust_brightness, R.adjust_contrast, R.adjust_saturation,
                                                  R.rgb_to_grayscale, s),
                         lambda r: max(r.values()) <= T["colour_exact"])


def test_07_07_pca_lighting_follows_the_photos_first_component():
    p = E.photo_pca()
    assert p["pc1_share"] >= T["pc1_share"]
    assert torch.allclose(p["pc1"], torch.tensor([0.64, 0.54, 0.55], dtype=torch.float64), atol=0.01)
    _holds_on_every_seed(lambda s: E.lighting_offsets(R.pca_lighting, s),
                         lambda r: r["cov_rel_error"] <= T["offset_cov_rel"]
                         and r["pc1_energy"] >= T["offset_pc1_energy"])


def test_07_08_affine_maps_compose_into_one_but_resampling_twice_blurs():
    _holds_on_every_seed(lambda s: E.affine_composition(R.affine_matrix, R.affine, s),
                         lambda r: max(r["rotation_error"], r["scale_error"]) <= T["affine_compose"]
                         and r["twice_vs_once"] >= 1e-4)


def test_07_09_mixup_weights_follow_beta_and_labels_follow_images():
    _holds_on_every_seed(lambda s: E.beta_law(R.mixup, s),
                         lambda r: _within(r[0.2]["mean"], T["lam_mean"]) and _within(r[1.0]["mean"], T["lam_mean"])
                         and _within(r[0.2]["extreme"], T["lam_extreme_02"])
                         and _within(r[1.0]["extreme"], T["lam_extreme_1"]), seeds=range(5))
    _holds_on_every_seed(lambda s: E.mixup_labels(R.mixup, s),
                         lambda r: max(r["row_sum_error"], r["label_vs_image"]) <= T["mix_exact"])


def test_07_10_cutmix_labels_follow_the_pasted_area():
    _holds_on_every_seed(lambda s: E.cutmix_area(R.cutmix, s),
                         lambda r: max(r["area_error"], r["label_error"]) <= T["mix_exact"] and r["clipped"] > 0)


def test_07_04_augmented_copies_are_worth_less_than_new_examples():
    """Two training runs a seed: 10 seeds here (all 20 held when the threshold was set: +1.9 to +11.1 points)."""
    _holds_on_every_seed(lambda s: E.augmented_vs_new(R.random_crop, s),
                         lambda r: r["real_2n"] - r["aug_n"] >= T["new_vs_augmented"], seeds=range(10))
