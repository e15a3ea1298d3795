"""Reference tools of everyday training practice (section 08 of the contract).

Sanity checks (``expected_initial_loss``, ``update_to_weight_ratio``), hyper-parameter search
(``log_uniform``, ``random_search``, ``on_border``), averaging (``ema_update``,
``ensemble_predict``) and binary metrics (``precision_recall``, ``roc_auc``, equal to
``sklearn.metrics``).

Example
-------
>>> round(expected_initial_loss(10), 4)          # a fresh 10-class softmax classifier
2.3026
>>> space = {"lr": ("log", 1e-4, 1e-1), "dropout": ("uniform", 0.0, 0.5), "width": ("choice", [64, 128])}
>>> best_params, best_score = random_search(lambda p: -abs(p["lr"] - 1e-2), space, 20,
...                                          generator=torch.Generator().manual_seed(0))[0]
"""
from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import torch

from ._validation import check_binary_labels, check_same_length, check_same_shape, check_search_space, check_tensor_list

__all__ = [
    "expected_initial_loss",
    "update_to_weight_ratio",
    "log_uniform",
    "random_search",
    "on_border",
    "ema_update",
    "ensemble_predict",
    "precision_recall",
    "roc_auc",
]


# ----------------------------------------------------------------------------- sanity checks
def expected_initial_loss(num_classes: int, loss: str = "softmax", margin: float = 1.0) -> float:
    """The loss of a classifier whose scores are all equal (small random weights at initialisation).

    softmax cross-entropy: every class gets probability ``1/C``, so the loss is ``ln C``;
    multiclass hinge (Weston-Watkins): each of the ``C - 1`` wrong classes costs ``margin``,
    so ``(C - 1) * margin``.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    if loss == "softmax":
        return math.log(num_classes)
    if loss == "hinge":
        return (num_classes - 1) * float(margin)
    raise ValueError(f"loss must be 'softmax' or 'hinge', got {loss!r}")


def update_to_weight_ratio(w_before, w_after) -> float:
    """``||w_after - w_before|| / ||w_before||`` (Frobenius norms) as a Python float.

    ``w_before``/``w_after`` are tensors of one shape, or two lists of tensors (global norms over
    the list). A healthy learning rate gives ratios around 1e-3 per step. When ``w_before`` is all
    zeros the ratio is ``inf`` (or 0.0 if nothing moved either).
    """
    before, after = check_tensor_list(w_before, "w_before"), check_tensor_list(w_after, "w_after")
    check_same_length(before, after, ("w_before", "w_after"))
    delta_sq = before_sq = 0.0
    for b, a in zip(before, after):
        check_same_shape(b, a, ("w_before", "w_after"))
        delta_sq += float(((a.double() - b.double()) ** 2).sum())
        before_sq += float((b.double() ** 2).sum())
    if before_sq == 0.0:
        return math.inf if delta_sq > 0 else 0.0
    return math.sqrt(delta_sq / before_sq)


# ----------------------------------------------------------------------------- hyper-parameter search
def _uniform(size, generator: torch.Generator | None) -> torch.Tensor:
    """U[0, 1) in float64, drawn on the generator's device (CPU when there is none)."""
    device = generator.device if generator is not None else torch.device("cpu")
    return torch.rand(size, generator=generator, dtype=torch.float64, device=device)


def log_uniform(
    low: float,
    high: float,
    size,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Samples spread evenly over orders of magnitude: ``10 ** U(log10 low, log10 high)``.

    ``size`` is an int or a shape; returns a tensor of that shape with values in ``[low, high]``
    (``dtype``/``device`` as given; drawn on the generator's device, then moved).
    """
    if not (low > 0 and high > 0):
        raise ValueError(f"log_uniform needs low > 0 and high > 0, got low={low}, high={high}")
    if low > high:
        raise ValueError(f"log_uniform needs low <= high, got low={low}, high={high}")
    size = (size,) if isinstance(size, int) else tuple(size)
    lo, hi = math.log10(low), math.log10(high)
    u = _uniform(size, generator)
    out = torch.pow(10.0, lo + (hi - lo) * u).clamp_(low, high)  # clamp: rounding of 10**x at the ends
    return out.to(device=device if device is not None else out.device, dtype=dtype)


def _sample(space: Mapping[str, tuple], generator: torch.Generator | None) -> dict[str, Any]:
    """One point of the search space (one uniform draw per name, in the dict's order)."""
    params = {}
    for name, spec in space.items():
        u = float(_uniform((), generator))
        if spec[0] == "log":
            lo, hi = math.log10(spec[1]), math.log10(spec[2])
            params[name] = min(max(10 ** (lo + (hi - lo) * u), spec[1]), spec[2])
        elif spec[0] == "uniform":
            params[name] = spec[1] + (spec[2] - spec[1]) * u
        else:
            options = list(spec[1])
            params[name] = options[min(int(u * len(options)), len(options) - 1)]
    return params


def random_search(
    objective: Callable[[dict], float],
    space: Mapping[str, tuple],
    n_trials: int,
    generator: torch.Generator | None = None,
) -> list[tuple[dict, float]]:
    """Random search: ``n_trials`` independent draws from ``space``, each scored by ``objective``.

    ``space`` maps a name to ``("log", lo, hi)`` (log-uniform), ``("uniform", lo, hi)`` or
    ``("choice", [options])``. Returns ``[(params, score), ...]`` sorted best first (higher score is
    better; ties keep the trial order; a NaN score, e.g. a diverged run, ranks last).
    """
    if not callable(objective):
        raise TypeError(f"objective must be callable, got {type(objective).__name__}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be a positive integer, got {n_trials!r}")
    check_search_space(space)
    results = []
    for _ in range(n_trials):
        params = _sample(space, generator)
        results.append((params, float(objective(dict(params)))))
    return sorted(results, key=lambda r: -math.inf if math.isnan(r[1]) else r[1], reverse=True)


def on_border(value: float, low: float, high: float, log: bool = True, frac: float = 0.1) -> bool:
    """Whether a best value found by a search sits near an edge of its range ``[low, high]``
    (then the range should be widened). With ``u`` the value's position in the range,
    ``(log10 v - log10 low) / (log10 high - log10 low)`` (linear scale when ``log=False``):
    True when ``u <= frac`` or ``u >= 1 - frac`` (also when the value is outside the range)."""
    if not low < high:
        raise ValueError(f"on_border needs low < high, got low={low}, high={high}")
    if not 0.0 <= frac <= 0.5:
        raise ValueError(f"frac must be in [0, 0.5], got {frac}")
    if log:
        if low <= 0 or value <= 0:
            raise ValueError(f"on a log scale value and low must be > 0, got value={value}, low={low}")
        u = (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
    else:
        u = (value - low) / (high - low)
    return bool(u <= frac or u >= 1.0 - frac)


# ----------------------------------------------------------------------------- averaging
def ema_update(
    ema_params: Sequence[torch.Tensor], params: Sequence[torch.Tensor], decay: float = 0.999
) -> list[torch.Tensor]:
    """Polyak / exponential moving average of weights: ``ema_i <- decay * ema_i + (1 - decay) * p_i``.

    Returns a new list of new tensors (the inputs are unchanged).
    """
    ema_list, p_list = check_tensor_list(ema_params, "ema_params"), check_tensor_list(params, "params")
    check_same_length(ema_list, p_list, ("ema_params", "params"))
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"decay must be in [0, 1], got {decay}")
    out = []
    for i, (e, p) in enumerate(zip(ema_list, p_list)):
        check_same_shape(e, p, (f"ema_params[{i}]", f"params[{i}]"))
        out.append(decay * e + (1.0 - decay) * p)
    return out


def ensemble_predict(prob_list: Sequence[torch.Tensor]) -> torch.Tensor:
    """Mean of the models' predicted probabilities: ``(1/M) sum_m P_m``, each ``(N, C)`` -> ``(N, C)``."""
    probs = check_tensor_list(prob_list, "prob_list")
    if not probs:
        raise ValueError("prob_list must hold at least one model's probabilities")
    shapes = {tuple(p.shape) for p in probs}
    if len(shapes) != 1:
        raise ValueError(f"every model must predict the same shape, got {sorted(shapes)}")
    return torch.stack(probs).mean(dim=0)  # (M, N, C) -> (N, C)


# ----------------------------------------------------------------------------- binary metrics
def precision_recall(y_true, y_pred) -> tuple[float, float]:
    """Binary precision ``TP / (TP + FP)`` and recall ``TP / (TP + FN)`` of the positive class 1,
    as ``sklearn.metrics.precision_score``/``recall_score`` (0.0 where the denominator is 0)."""
    t, p = check_binary_labels(y_true, "y_true"), check_binary_labels(y_pred, "y_pred")
    check_same_shape(t, p, ("y_true", "y_pred"))
    tp = int((t & p).sum())
    predicted, actual = int(p.sum()), int(t.sum())
    precision = tp / predicted if predicted else 0.0
    recall = tp / actual if actual else 0.0
    return precision, recall


def roc_auc(y_true, scores) -> float:
    """Area under the ROC curve (as ``sklearn.metrics.roc_auc_score``, binary case).

    The probability that a random positive scores above a random negative, ties counting 1/2,
    computed from ranks (Mann-Whitney U), tied scores sharing their average rank::

        AUC = (sum of the positives' ranks - P (P + 1) / 2) / (P N)

    ``y_true`` ``(n,)`` of 0/1, ``scores`` ``(n,)``; raises ValueError when only one class is present.
    """
    t = check_binary_labels(y_true, "y_true")
    s = torch.as_tensor(scores).to(t.device, torch.float64)
    check_same_shape(t, s, ("y_true", "scores"))
    n_pos = int(t.sum())
    n_neg = t.numel() - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc is undefined when y_true holds only one class")
    sorted_s, order = torch.sort(s)
    _, inverse, counts = torch.unique_consecutive(sorted_s, return_inverse=True, return_counts=True)
    # a group of tied scores occupying 1-based ranks (start+1 .. start+count) gets their mean rank
    group_end = torch.cumsum(counts, dim=0).to(torch.float64)
    group_rank = group_end - (counts.to(torch.float64) - 1) / 2
    ranks = torch.empty_like(s)
    ranks[order] = group_rank[inverse]
    rank_sum = ranks[t].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
