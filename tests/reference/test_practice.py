"""Training-practice tools of section 08 against sklearn.metrics, scipy.stats and hand values."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn import metrics

from labkit.reference import practice as ref

TOL = 1e-12


# ----------------------------------------------------------------------------- sanity checks
def test_expected_initial_loss_values():
    assert ref.expected_initial_loss(10) == pytest.approx(math.log(10), rel=1e-15)
    assert ref.expected_initial_loss(10, loss="hinge") == 9.0
    assert ref.expected_initial_loss(5, loss="hinge", margin=0.5) == 2.0
    assert ref.expected_initial_loss(2) == pytest.approx(math.log(2), rel=1e-15)


def test_expected_initial_loss_matches_a_uniform_softmax_classifier():
    scores = torch.zeros(8, 10, dtype=torch.float64)
    y = torch.arange(8) % 10
    loss = torch.nn.functional.cross_entropy(scores, y).item()
    assert ref.expected_initial_loss(10) == pytest.approx(loss, rel=1e-15)


@pytest.mark.parametrize("args", [(1,), (10.0,), (10, "mse")])
def test_expected_initial_loss_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        ref.expected_initial_loss(*args)


def test_update_to_weight_ratio_hand_values():
    before = torch.tensor([3.0, 4.0], dtype=torch.float64)
    after = torch.tensor([3.0, 4.05], dtype=torch.float64)
    assert ref.update_to_weight_ratio(before, after) == pytest.approx(0.05 / 5, rel=1e-12)
    # a list of tensors uses global norms: ||(0, 0.05, 0)|| / ||(3, 4, 0)||
    assert ref.update_to_weight_ratio([before, torch.zeros(1)], [after, torch.zeros(1)]) == pytest.approx(0.01, rel=1e-12)
    assert ref.update_to_weight_ratio(torch.zeros(2), torch.ones(2)) == math.inf
    assert ref.update_to_weight_ratio(torch.zeros(2), torch.zeros(2)) == 0.0


# ----------------------------------------------------------------------------- search
def test_log_uniform_stays_within_bounds_and_keeps_dtype(device):
    gen = torch.Generator().manual_seed(0)
    x = ref.log_uniform(1e-5, 1e-1, (100, 3), generator=gen, dtype=torch.float32, device=device)
    assert x.shape == (100, 3) and x.dtype == torch.float32 and x.device.type == device.type
    assert bool((x >= 1e-5).all() and (x <= 1e-1).all())


def test_log_uniform_is_uniform_in_log_space_ks_test():
    x = ref.log_uniform(1e-6, 1e-2, 20000, generator=torch.Generator().manual_seed(1))
    logs = (torch.log10(x).numpy() + 6) / 4  # should be U(0, 1)
    assert stats.kstest(logs, "uniform").pvalue > 1e-3
    # and clearly not uniform on the linear scale
    assert stats.kstest(x.numpy() / 1e-2, "uniform").pvalue < 1e-10


def test_log_uniform_same_generator_state_same_draws():
    a = ref.log_uniform(1e-3, 1.0, 50, generator=torch.Generator().manual_seed(7))
    b = ref.log_uniform(1e-3, 1.0, 50, generator=torch.Generator().manual_seed(7))
    assert torch.equal(a, b)


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1.0, 1.0), (1.0, 0.1)])
def test_log_uniform_rejects_bad_bounds(low, high):
    with pytest.raises(ValueError, match="low"):
        ref.log_uniform(low, high, 3)


SPACE = {
    "lr": ("log", 1e-4, 1e-1),
    "dropout": ("uniform", 0.0, 0.5),
    "width": ("choice", [32, 64, 128]),
}


def objective(p):
    return -((math.log10(p["lr"]) + 2) ** 2) - p["dropout"] + p["width"] / 1000


def test_random_search_is_deterministic_for_a_seed():
    a = ref.random_search(objective, SPACE, 30, generator=torch.Generator().manual_seed(3))
    b = ref.random_search(objective, SPACE, 30, generator=torch.Generator().manual_seed(3))
    c = ref.random_search(objective, SPACE, 30, generator=torch.Generator().manual_seed(4))
    assert a == b and a != c


def test_random_search_returns_trials_best_first_within_the_space():
    results = ref.random_search(objective, SPACE, 40, generator=torch.Generator().manual_seed(0))
    assert len(results) == 40
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    for params, score in results:
        assert 1e-4 <= params["lr"] <= 1e-1 and 0.0 <= params["dropout"] <= 0.5 and params["width"] in (32, 64, 128)
        assert score == objective(params)
    assert {p["width"] for p, _ in results} == {32, 64, 128}


def test_random_search_ranks_nan_scores_last():
    calls = iter(range(10))
    results = ref.random_search(lambda p: float("nan") if next(calls) % 3 == 0 else p["dropout"], SPACE, 10,
                                generator=torch.Generator().manual_seed(0))
    scores = [s for _, s in results]
    assert all(math.isnan(s) for s in scores[-4:]) and not any(math.isnan(s) for s in scores[:6])


@pytest.mark.parametrize(
    "space",
    [{}, {"lr": ("log", 0.0, 1.0)}, {"lr": ("uniform", 1.0, 0.0)}, {"lr": ("normal", 0.0, 1.0)}, {"w": ("choice", [])}],
)
def test_random_search_rejects_bad_spaces(space):
    with pytest.raises(ValueError, match="space"):
        ref.random_search(objective, space, 3)


def test_on_border_cases():
    assert ref.on_border(1.2e-4, 1e-4, 1e-1)  # u = 0.026, near the low end
    assert ref.on_border(0.09, 1e-4, 1e-1)  # u = 0.98, near the high end
    assert not ref.on_border(3e-3, 1e-4, 1e-1)  # u = 0.49
    assert ref.on_border(1e-5, 1e-4, 1e-1)  # outside the range
    assert ref.on_border(0.009, 0.0, 0.1, log=False) and not ref.on_border(0.05, 0.0, 0.1, log=False)
    assert ref.on_border(1e-3, 1e-4, 1e-1, frac=1 / 3)  # u = 1/3 exactly counts as a border
    with pytest.raises(ValueError, match="low < high"):
        ref.on_border(0.5, 1.0, 0.1)
    with pytest.raises(ValueError, match="> 0"):
        ref.on_border(0.5, 0.0, 1.0)


# ----------------------------------------------------------------------------- averaging
def test_ema_update_hand_values_and_leaves_inputs_alone():
    ema = [torch.tensor([1.0, 2.0]), torch.tensor([[0.0]])]
    params = [torch.tensor([3.0, 2.0]), torch.tensor([[10.0]])]
    copies = [t.clone() for t in ema + params]
    out = ref.ema_update(ema, params, decay=0.75)
    torch.testing.assert_close(out[0], torch.tensor([1.5, 2.0]))
    torch.testing.assert_close(out[1], torch.tensor([[2.5]]))
    assert all(torch.equal(a, b) for a, b in zip(ema + params, copies))
    assert ref.ema_update(ema, params)[1].item() == pytest.approx(0.01)


def test_ema_update_rejects_mismatched_lists():
    with pytest.raises(ValueError, match="as many"):
        ref.ema_update([torch.zeros(2)], [torch.zeros(2), torch.zeros(2)])


def test_ensemble_predict_hand_values():
    p1 = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    p2 = torch.tensor([[0.5, 0.5], [0.6, 0.4]])
    torch.testing.assert_close(ref.ensemble_predict([p1, p2]), torch.tensor([[0.7, 0.3], [0.4, 0.6]]))
    with pytest.raises(ValueError):
        ref.ensemble_predict([])


# ----------------------------------------------------------------------------- metrics vs sklearn
def labels_and_scores(n, seed, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s = rng.normal(size=n) + y
    if ties:
        s = np.round(s, 1)  # many tied scores, some across the two classes
    return y, s


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_precision_recall_match_sklearn(seed):
    y, s = labels_and_scores(200, seed)
    pred = (s > 0.5).astype(int)
    p, r = ref.precision_recall(torch.tensor(y), torch.tensor(pred))
    assert p == pytest.approx(metrics.precision_score(y, pred), rel=TOL)
    assert r == pytest.approx(metrics.recall_score(y, pred), rel=TOL)


def test_precision_recall_zero_division_like_sklearn():
    y = np.array([0, 0, 1, 1])
    never = np.zeros(4, dtype=int)
    p, r = ref.precision_recall(torch.tensor(y), torch.tensor(never))
    assert (p, r) == (metrics.precision_score(y, never, zero_division=0.0), metrics.recall_score(y, never)) == (0.0, 0.0)
    only_neg = np.zeros(4, dtype=int)
    p, r = ref.precision_recall(torch.tensor(only_neg), torch.tensor([1, 0, 1, 0]))
    assert (p, r) == (0.0, metrics.recall_score(only_neg, [1, 0, 1, 0], zero_division=0.0))


@pytest.mark.parametrize("ties", [False, True], ids=["distinct", "ties"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_roc_auc_matches_sklearn(seed, ties):
    y, s = labels_and_scores(500, seed, ties=ties)
    assert ref.roc_auc(torch.tensor(y), torch.tensor(s)) == pytest.approx(metrics.roc_auc_score(y, s), rel=TOL)


def test_roc_auc_hand_values():
    assert ref.roc_auc(torch.tensor([0, 0, 1, 1]), torch.tensor([0.1, 0.4, 0.35, 0.8])) == 0.75
    assert ref.roc_auc(torch.tensor([0, 1]), torch.tensor([0.5, 0.5])) == 0.5  # a tie counts 1/2
    assert ref.roc_auc(torch.tensor([1, 1, 0]), torch.tensor([3.0, 2.0, 1.0])) == 1.0


def test_roc_auc_works_on_float32_and_bool_labels(device):
    y, s = labels_and_scores(100, 5)
    yt = torch.tensor(y, dtype=torch.bool, device=device)
    st = torch.tensor(s, dtype=torch.float32, device=device)
    assert ref.roc_auc(yt, st) == pytest.approx(metrics.roc_auc_score(y, s.astype(np.float32)), rel=1e-9)


def test_metrics_reject_one_class_and_non_binary_labels():
    with pytest.raises(ValueError, match="one class"):
        ref.roc_auc(torch.ones(5), torch.rand(5))
    with pytest.raises(ValueError, match="0 and 1"):
        ref.roc_auc(torch.tensor([0, 1, 2]), torch.rand(3))
    with pytest.raises(ValueError, match="0 and 1"):
        ref.precision_recall(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="shape"):
        ref.precision_recall(torch.tensor([0, 1]), torch.tensor([0, 1, 1]))
