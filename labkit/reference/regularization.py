"""Regularisation: inverted dropout, weight penalties (L2, L1, elastic net) and early stopping.

``p`` in dropout is the probability of *dropping* a unit, as in ``torch.nn.Dropout``. Penalties take
a list of weight tensors and return ``(loss, grads)``, ``loss`` a 0-d tensor and ``grads`` a list
shaped like ``weights``.

Example
-------
>>> g = torch.Generator().manual_seed(0)
>>> out, cache = dropout_forward(torch.ones(1000), p=0.2, generator=g)   # ~200 zeros, others 1.25
>>> loss, grads = l2_penalty([torch.randn(5, 3), torch.randn(2, 5)], lam=1e-3)
>>> stopper = EarlyStopping(patience=3)
>>> [stopper.step(v) for v in [1.0, 0.9, 0.95, 0.93, 0.91]]
[False, False, False, False, True]
"""
from __future__ import annotations

import math

import torch

from ._validation import check_choice, check_int, check_number, check_tensor, check_tensor_list

__all__ = [
    "dropout_forward",
    "dropout_backward",
    "l2_penalty",
    "l1_penalty",
    "elastic_net_penalty",
    "EarlyStopping",
]


# ------------------------------------------------------------------------------------------ dropout
def dropout_forward(x: torch.Tensor, p: float, train: bool = True, generator: torch.Generator | None = None):
    """Inverted dropout: ``out = x · m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` per element.

    ``E[out] = x``, so nothing changes at test time: with ``train=False`` or ``p == 0`` the output is
    (a copy of) ``x``; with ``p == 1`` every unit is dropped and ``out`` is zeros (no 0/0).
    The mask is drawn on the generator's device (``x``'s device without a generator).
    Returns ``out`` shaped like ``x`` and the cache: the scaled mask ``m / (1 - p)`` (None when
    dropout is off).
    """
    check_tensor(x, "x", floating=True)
    p = check_number(p, "p")
    if not 0.0 <= p <= 1.0:  # also rejects NaN
        raise ValueError(f"p (the drop probability) must lie in [0, 1], got {p}")
    if not train or p == 0.0:
        return x.clone(), None
    if p == 1.0:
        return torch.zeros_like(x), torch.zeros_like(x)
    where = generator.device if generator is not None else x.device
    u = torch.rand(x.shape, generator=generator, dtype=torch.float32, device=where).to(x.device)
    keep = (u >= p).to(x.dtype)  # P(keep) = 1 - p
    scaled_mask = keep * (1.0 / (1.0 - p))  # exactly 0 or 1/(1-p)
    return x * scaled_mask, scaled_mask


def dropout_backward(dout: torch.Tensor, cache):
    """``dx = dout · m / (1 - p)`` with the forward's mask; ``dx = dout`` when dropout was off."""
    scaled_mask = cache
    if scaled_mask is None:
        return dout.clone()
    return dout * scaled_mask


# ---------------------------------------------------------------------------------------- penalties
def l2_penalty(weights, lam: float):
    """``loss = lam · Σ_w Σ w²``; ``grads = [2 · lam · w for w in weights]``."""
    weights = check_tensor_list(weights, "weights", floating=True, non_empty=True)
    lam = check_number(lam, "lam (a penalty strength)", minimum=0)
    loss = lam * sum((w * w).sum() for w in weights)
    return loss, [2.0 * lam * w for w in weights]


def l1_penalty(weights, lam: float):
    """``loss = lam · Σ_w Σ |w|``; ``grads = [lam · sign(w)]`` with ``sign(0) = 0``."""
    weights = check_tensor_list(weights, "weights", floating=True, non_empty=True)
    lam = check_number(lam, "lam (a penalty strength)", minimum=0)
    loss = lam * sum(w.abs().sum() for w in weights)
    return loss, [lam * torch.sign(w) for w in weights]


def elastic_net_penalty(weights, l1: float, l2: float):
    """``l1_penalty(weights, l1) + l2_penalty(weights, l2)``, losses and gradients summed."""
    check_number(l1, "l1 (a penalty strength)", minimum=0)
    check_number(l2, "l2 (a penalty strength)", minimum=0)
    loss1, grads1 = l1_penalty(weights, l1)
    loss2, grads2 = l2_penalty(weights, l2)
    return loss1 + loss2, [g1 + g2 for g1, g2 in zip(grads1, grads2)]


# ----------------------------------------------------------------------------------- early stopping
class EarlyStopping:
    """Stop training when a validation metric has not improved for ``patience`` epochs.

    An epoch improves when ``metric < best - min_delta`` (mode ``"min"``, e.g. a loss) or
    ``metric > best + min_delta`` (mode ``"max"``, e.g. an accuracy). Attributes: ``best`` (the
    best metric so far, ±inf before the first step), ``best_epoch`` (0-based index of the ``step``
    call that gave it, -1 before the first step), ``num_bad_epochs`` (epochs since then).
    ``step(metric)`` returns True (stop) once ``num_bad_epochs >= patience``. A NaN metric never
    improves.
    """

    def __init__(self, patience: int = 5, min_delta: float = 0.0, mode: str = "min"):
        self.patience = check_int(patience, "patience", minimum=1)
        self.min_delta = check_number(min_delta, "min_delta", minimum=0)
        self.mode = check_choice(mode, "mode", ("min", "max"))
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = -1
        self.num_bad_epochs = 0
        self.epoch = -1  # index of the last step call

    def improves(self, metric: float) -> bool:
        """Whether ``metric`` beats ``best`` by more than ``min_delta``."""
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric) -> bool:
        """Record one epoch's metric (a number or a 0-d tensor); True when training should stop."""
        metric = float(metric)
        self.epoch += 1
        if self.improves(metric):
            self.best = metric
            self.best_epoch = self.epoch
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        return self.num_bad_epochs >= self.patience
