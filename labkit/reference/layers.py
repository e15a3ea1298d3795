"""The affine (fully connected) layer, in the ``(out, cache)`` / ``backward(dout, cache)`` style.

Weights follow ``torch.nn.Linear``: ``w`` is ``(M, D)``, so ``out = x @ w.T + b``.

Example
-------
>>> out, cache = affine_forward(torch.randn(4, 3, 2), torch.randn(5, 6), torch.zeros(5))
>>> dx, dw, db = affine_backward(torch.ones_like(out), cache)
"""
from __future__ import annotations

import torch

from ._validation import check_tensor

__all__ = ["affine_forward", "affine_backward"]


def affine_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor):
    """``out = flatten(x) @ w.T + b``.

    Inputs: ``x`` ``(N, d1, ..., dk)`` with ``D = d1*...*dk``; ``w`` ``(M, D)``; ``b`` ``(M,)``.
    Returns ``out`` ``(N, M)`` and the cache ``(x, w, b)``.
    """
    for name, t in (("x", x), ("w", w), ("b", b)):
        check_tensor(t, name)
    if x.dim() < 1 or w.dim() != 2 or b.dim() != 1:
        raise ValueError(f"expected x (N, ...), w (M, D), b (M,); got {tuple(x.shape)}, {tuple(w.shape)}, {tuple(b.shape)}")
    x2 = x.reshape(x.shape[0], -1)  # (N, D)
    if x2.shape[1] != w.shape[1] or b.shape[0] != w.shape[0]:
        raise ValueError(
            f"shape mismatch: x flattens to {tuple(x2.shape)}, w is {tuple(w.shape)} (M, D), b is {tuple(b.shape)} (M,)"
        )
    out = x2 @ w.T + b  # (N, D) @ (D, M) -> (N, M)
    return out, (x, w, b)


def affine_backward(dout: torch.Tensor, cache):
    """Gradients of the affine layer.

    ``dx = dout @ w`` reshaped like ``x``; ``dw = dout.T @ flatten(x)`` ``(M, D)``; ``db = sum_n dout`` ``(M,)``.
    """
    x, w, _ = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w).reshape(x.shape)  # (N, M) @ (M, D) -> (N, D)
    dw = dout.T @ x2  # (M, N) @ (N, D) -> (M, D)
    db = dout.sum(dim=0)
    return dx, dw, db
