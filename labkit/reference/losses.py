"""Losses with their gradients: each returns ``(loss, dinput)``, ``loss`` a 0-d tensor.

All are means (over the batch, or over every element for the regression and binary losses), so
they match ``torch.nn.functional`` with its default ``reduction="mean"``; the multiclass hinge is
the Weston-Watkins sum over wrong classes averaged over the batch (torch's ``multi_margin_loss``
also divides by C).

Like every graded function these run under ``torch.no_grad()``; ``softmax_cross_entropy`` reuses
its own intermediate tensors in place (exp, then the gradient), so autograd cannot differentiate
through it.

Example
-------
>>> scores = torch.randn(8, 10); y = torch.randint(0, 10, (8,))
>>> loss, dscores = softmax_cross_entropy(scores, y)   # loss ~ ln 10 for small scores
"""
from __future__ import annotations

import torch

from ._validation import check_class_ids, check_same_shape

__all__ = [
    "mse_loss",
    "l1_loss",
    "softmax",
    "log_softmax",
    "softmax_cross_entropy",
    "binary_cross_entropy_with_logits",
    "multiclass_hinge_loss",
]


def mse_loss(pred: torch.Tensor, target: torch.Tensor):
    """``L = mean((pred - target)²)`` over all elements; ``dpred = 2 (pred - target) / numel``."""
    check_same_shape(pred, target, ("pred", "target"))
    diff = pred - target
    return (diff * diff).mean(), 2.0 * diff / diff.numel()


def l1_loss(pred: torch.Tensor, target: torch.Tensor):
    """``L = mean(|pred - target|)``; ``dpred = sign(pred - target) / numel`` (sign(0) = 0)."""
    check_same_shape(pred, target, ("pred", "target"))
    diff = pred - target
    return diff.abs().mean(), torch.sign(diff) / diff.numel()


def log_softmax(scores: torch.Tensor) -> torch.Tensor:
    """Row-wise ``s - max(s) - log(Σ_c exp(s - max(s)))``: stable for any finite scores. ``(N, C) -> (N, C)``."""
    shifted = scores - scores.amax(dim=1, keepdim=True)  # (N, C), 0 at each row's max
    log_z = torch.exp(shifted).sum(dim=1, keepdim=True).log_()  # (N, 1), log Σ_c exp(s - max(s))
    return shifted.sub_(log_z)  # in place: shifted is our own temporary


def softmax(scores: torch.Tensor) -> torch.Tensor:
    """Row-wise stable softmax ``exp(s - max(s)) / Σ_c exp(s - max(s))``, ``(N, C) -> (N, C)``."""
    e = (scores - scores.amax(dim=1, keepdim=True)).exp_()  # (N, C), every entry in (0, 1]
    return e.div_(e.sum(dim=1, keepdim=True))  # normalised in place: e is our own temporary


def softmax_cross_entropy(scores: torch.Tensor, y: torch.Tensor):
    """Softmax cross-entropy averaged over the batch.

    ``scores`` ``(N, C)``; ``y`` either ``(N,)`` int64 class ids or ``(N, C)`` probabilities.
    ``L = -(1/N) Σ_n Σ_c y_nc log softmax(s_n)_c``; ``dscores = (softmax(s) - y) / N`` (for soft
    labels whose rows sum to 1; in general ``(softmax(s)·Σ_c y_nc - y) / N``).
    With class ids ``y_n`` the one-hot rows are never built: ``L = (1/N) Σ_n (log Σ_c exp(s_nc) - s_n,y_n)``
    and ``dscores = softmax(s) / N`` with ``1/N`` taken off at ``(n, y_n)``.
    """
    if scores.dim() != 2:
        raise ValueError(f"scores must be (N, C), got shape {tuple(scores.shape)}")
    n, c = scores.shape
    if y.dim() == 1:
        y = check_class_ids(y, n, c)  # (N,) int64
    elif y.shape != scores.shape:
        raise ValueError(f"soft labels y must have the shape of scores {tuple(scores.shape)}, got {tuple(y.shape)}")
    shifted = scores - scores.amax(dim=1, keepdim=True)  # (N, C), ≤ 0: exp cannot overflow
    if y.dim() == 1:
        picked = shifted.gather(1, y[:, None])  # (N, 1), the shifted score of each true class
        e = shifted.exp_()  # the only exp, taken in place: shifted is not needed any more
        z = e.sum(dim=1, keepdim=True)  # (N, 1), log z = logsumexp(s_n) - max(s_n)
        loss = (torch.log(z) - picked).sum() / n  # -log p_y = log z - shifted_y
        dscores = e.mul_(1.0 / (n * z))  # softmax / N, again in place
        dscores[torch.arange(n, device=scores.device), y] -= 1.0 / n  # minus the one-hot / N
        return loss, dscores
    target = y.to(scores.dtype)  # (N, C)
    e = torch.exp(shifted)  # the only exp, shared by the loss and the gradient
    z = e.sum(dim=1, keepdim=True)  # (N, 1)
    loss = -(target * (shifted - torch.log(z))).sum() / n
    dscores = (e * (target.sum(dim=1, keepdim=True) / z) - target) / n
    return loss, dscores


def binary_cross_entropy_with_logits(s: torch.Tensor, y: torch.Tensor):
    """``L = mean(max(s, 0) - s·y + log(1 + exp(-|s|)))`` (the stable form); ``ds = (σ(s) - y) / numel``.

    The three terms are summed separately (``Σ s·y`` as a dot product), so only one full-size
    temporary, ``log(1 + exp(-|s|))``, is built for the loss.
    """
    check_same_shape(s, y, ("s", "y"))
    y = y.to(s.dtype)
    n = s.numel()
    softplus_tail = s.abs().neg_().exp_().log1p_()  # log(1 + exp(-|s|)), same shape as s
    loss = (s.clamp(min=0).sum() - torch.dot(s.flatten(), y.flatten()) + softplus_tail.sum()) / n
    return loss, torch.sigmoid(s).sub_(y).div_(n)


def multiclass_hinge_loss(scores: torch.Tensor, y: torch.Tensor, margin: float = 1.0):
    """Weston-Watkins hinge: ``L = (1/N) Σ_n Σ_{j≠y_n} max(0, s_nj - s_ny + margin)``.

    ``dscores[n, j] = 1/N`` for every wrong class with a positive margin term (0 at the hinge), and
    ``dscores[n, y_n] = -(count of those)/N``.
    """
    if scores.dim() != 2:
        raise ValueError(f"scores must be (N, C), got shape {tuple(scores.shape)}")
    if y.dim() != 1 or y.shape[0] != scores.shape[0]:
        raise ValueError(f"y must be (N,) class ids for scores {tuple(scores.shape)}, got {tuple(y.shape)}")
    n = scores.shape[0]
    y = y.long()
    correct = scores.gather(1, y[:, None])  # (N, 1)
    margins = (scores - correct + margin).clamp(min=0)
    margins.scatter_(1, y[:, None], 0.0)  # the correct class contributes nothing
    loss = margins.sum() / n
    active = (margins > 0).to(scores.dtype)
    dscores = active.clone()
    dscores.scatter_(1, y[:, None], -active.sum(dim=1, keepdim=True))
    return loss, dscores / n
