"""Activation functions as layers: ``*_forward(x) -> (out, cache)``, ``*_backward(dout, cache)``.

Element-wise activations keep the shape of ``x``. Derivatives at the kink ``x = 0`` follow PyTorch's
autograd: ``relu'(0) = 0``, ``leaky_relu'(0) = negative_slope``, ``elu'(0) = alpha``, and PReLU
takes the negative branch (slope ``alpha``) at 0.

Example
-------
>>> x = torch.randn(4, 5)
>>> out, cache = relu_forward(x)
>>> dx = relu_backward(torch.ones_like(out), cache)      # 1 where x > 0, else 0
"""
from __future__ import annotations

import torch

from ._validation import check_number, check_tensor

__all__ = [
    "sigmoid_forward",
    "sigmoid_backward",
    "tanh_forward",
    "tanh_backward",
    "relu_forward",
    "relu_backward",
    "leaky_relu_forward",
    "leaky_relu_backward",
    "elu_forward",
    "elu_backward",
    "prelu_forward",
    "prelu_backward",
    "maxout_forward",
    "maxout_backward",
]


# ----------------------------------------------------------------------------------------- sigmoid
def sigmoid_forward(x: torch.Tensor):
    """``σ(x) = 1 / (1 + exp(-x))``, finite for any finite ``x``.

    For very negative ``x`` (below about -88 in float32, -709 in float64) ``exp(-x)`` overflows to
    ``+inf``, and IEEE arithmetic then gives ``1 / (1 + inf) = 0`` exactly, the correctly rounded
    limit; for large positive ``x``, ``exp(-x)`` underflows to 0 and ``σ = 1``. So no NaN can appear
    and no branch is needed. Returns ``out`` shaped like ``x`` and the cache ``out``.
    """
    check_tensor(x, "x", floating=True)
    out = x.neg().exp_()  # exp(-x): one fresh tensor, then updated in place
    out.add_(1.0).reciprocal_()  # 1 / (1 + exp(-x))
    return out, out


def sigmoid_backward(dout: torch.Tensor, cache):
    """``dx = dout · σ(x) (1 - σ(x))``."""
    out = cache
    return (1.0 - out).mul_(out).mul_(dout)  # one new tensor: (1 - σ), times σ, times dout


# -------------------------------------------------------------------------------------------- tanh
def tanh_forward(x: torch.Tensor):
    """``tanh(x) = (e^x - e^-x) / (e^x + e^-x) = 2σ(2x) - 1``; the cache is ``out``."""
    check_tensor(x, "x", floating=True)
    out = torch.tanh(x)
    return out, out


def tanh_backward(dout: torch.Tensor, cache):
    """``dx = dout · (1 - tanh(x)²)``."""
    out = cache
    return dout * (1.0 - out * out)


# -------------------------------------------------------------------------------------------- relu
def _positive_indicator(x: torch.Tensor) -> torch.Tensor:
    """``1[x > 0]`` as a new tensor of ``x``'s dtype: ``max(sign(x), 0)``, 0 at ``x = 0``.

    (Arithmetic rather than ``(x > 0).to(dtype)``: no boolean temporary, and it can be updated in place.)
    """
    return x.sign().clamp_(min=0)


def relu_forward(x: torch.Tensor):
    """``relu(x) = max(0, x)``; the cache is ``x``."""
    check_tensor(x, "x", floating=True)
    return x.clamp(min=0), x


def relu_backward(dout: torch.Tensor, cache):
    """``dx = dout · 1[x > 0]`` (so ``relu'(0) = 0``), with ``1[x > 0] = max(sign(x), 0)``."""
    x = cache
    return _positive_indicator(x).mul_(dout)


# ---------------------------------------------------------------------------------------- leaky relu
def leaky_relu_forward(x: torch.Tensor, negative_slope: float = 0.01):
    """``leaky_relu(x) = x`` for ``x > 0``, ``negative_slope · x`` otherwise.

    Computed without a branch as ``a·x + (1 - a)·max(x, 0)`` with ``a = negative_slope``.
    """
    check_tensor(x, "x", floating=True)
    check_number(negative_slope, "negative_slope")
    out = x.clamp(min=0).mul_(1.0 - negative_slope).add_(x, alpha=negative_slope)
    return out, (x, negative_slope)


def leaky_relu_backward(dout: torch.Tensor, cache):
    """``dx = dout`` where ``x > 0``, ``negative_slope · dout`` where ``x <= 0``.

    The local slope is ``a + (1 - a)·1[x > 0]`` with ``a = negative_slope`` (so ``a`` at ``x = 0``).
    """
    x, negative_slope = cache
    slope = _positive_indicator(x).mul_(1.0 - negative_slope).add_(negative_slope)
    return slope.mul_(dout)


# --------------------------------------------------------------------------------------------- elu
def elu_forward(x: torch.Tensor, alpha: float = 1.0):
    """``elu(x) = x`` for ``x > 0``, ``alpha · (exp(x) - 1)`` otherwise (``expm1``, accurate near 0).

    Without a branch: ``elu(x) = max(x, 0) + neg`` with ``neg = alpha · expm1(min(x, 0))``, which is 0
    for ``x > 0`` (and cannot overflow). The cache is ``(x, neg, alpha)``.
    """
    check_tensor(x, "x", floating=True)
    check_number(alpha, "alpha")
    neg = x.clamp(max=0).expm1_().mul_(alpha)  # alpha (exp(min(x, 0)) - 1)
    out = x.clamp(min=0).add_(neg)
    return out, (x, neg, alpha)


def elu_backward(dout: torch.Tensor, cache):
    """``dx = dout`` where ``x > 0``, ``alpha · exp(x) · dout`` where ``x <= 0`` (so ``elu'(0) = alpha``).

    From the cached ``neg = alpha · (exp(min(x, 0)) - 1)``: ``alpha · exp(min(x, 0)) = neg + alpha``,
    which is ``alpha`` for ``x > 0``; adding ``(1 - alpha) · 1[x > 0]`` makes the local slope 1 there.
    """
    x, neg, alpha = cache
    slope = _positive_indicator(x).mul_(1.0 - alpha).add_(neg).add_(alpha)
    return slope.mul_(dout)


# -------------------------------------------------------------------------------------------- prelu
def _alpha_view(x: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """``alpha`` shaped to broadcast against ``x``: ``(1,)`` as is, ``(C,)`` as ``(1, C, 1, ...)``."""
    if alpha.numel() == 1:
        return alpha
    return alpha.reshape((1, -1) + (1,) * (x.dim() - 2))


def prelu_forward(x: torch.Tensor, alpha: torch.Tensor):
    """Parametric ReLU: ``out = x`` for ``x > 0``, ``alpha_c · x`` otherwise.

    Inputs: ``x`` ``(N, C)`` or ``(N, C, H, W)`` (any ``(N, C, ...)``); ``alpha`` ``(1,)`` shared by
    every unit, or ``(C,)`` one slope per channel (dim 1 of ``x``), as ``torch.nn.PReLU``.
    Returns ``out`` shaped like ``x`` and the cache ``(x, alpha)``.
    """
    check_tensor(x, "x", floating=True)
    check_tensor(alpha, "alpha", floating=True, like=x)
    if alpha.dim() != 1:
        raise ValueError(f"alpha must be 1-D, (1,) or (C,), got shape {tuple(alpha.shape)}")
    if alpha.numel() != 1:
        if x.dim() < 2 or x.shape[1] != alpha.numel():
            raise ValueError(
                f"alpha of shape {tuple(alpha.shape)} needs x of shape (N, {alpha.numel()}, ...), got {tuple(x.shape)}"
            )
    a = _alpha_view(x, alpha)
    out = torch.addcmul(x.clamp(min=0), a, x.clamp(max=0))  # max(x, 0) + alpha · min(x, 0)
    return out, (x, alpha)


def prelu_backward(dout: torch.Tensor, cache):
    """Gradients of PReLU: ``(dx, dalpha)``.

    ``dx = dout`` where ``x > 0``, ``alpha_c · dout`` elsewhere, i.e. the local slope is
    ``alpha_c + (1 - alpha_c) · 1[x > 0]``;
    ``dalpha_c = Σ_{units of channel c with x <= 0} dout · x = Σ_{units of c} dout · min(x, 0)``
    (summed over every unit when shared), shaped like ``alpha``.
    """
    x, alpha = cache
    a = _alpha_view(x, alpha)
    dx = _positive_indicator(x).mul_(1.0 - a).add_(a).mul_(dout)
    contrib = x.clamp(max=0).mul_(dout)  # d out / d alpha · dout: min(x, 0) · dout
    if alpha.numel() == 1:
        dalpha = contrib.sum().reshape(1)
    else:
        dims = [d for d in range(x.dim()) if d != 1]
        dalpha = contrib.sum(dim=dims)  # (C,)
    return dx, dalpha


# ------------------------------------------------------------------------------------------- maxout
def maxout_forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor):
    """Maxout of ``k`` affine pieces: ``out[n, m] = max_j (x[n] · w[j, m] + b[j, m])``.

    Inputs: ``x`` ``(N, D)``, ``w`` ``(k, M, D)``, ``b`` ``(k, M)``. Returns ``out`` ``(N, M)`` and a
    cache holding the one-hot choice of the first maximal piece, ``(N, k, M)``.
    """
    check_tensor(x, "x", floating=True)
    check_tensor(w, "w", floating=True, like=x)
    check_tensor(b, "b", floating=True, like=x)
    if x.dim() != 2 or w.dim() != 3 or b.dim() != 2:
        raise ValueError(
            f"expected x (N, D), w (k, M, D), b (k, M); got {tuple(x.shape)}, {tuple(w.shape)}, {tuple(b.shape)}"
        )
    if w.shape[2] != x.shape[1] or b.shape != w.shape[:2]:
        raise ValueError(
            f"shape mismatch: x is {tuple(x.shape)} (N, D), w is {tuple(w.shape)} (k, M, D), "
            f"b is {tuple(b.shape)} (k, M)"
        )
    z = torch.einsum("nd,kmd->nkm", x, w) + b  # (N, D) x (k, M, D) -> (N, k, M)
    out = z.max(dim=1).values  # (N, M)
    is_max = z == out.unsqueeze(1)  # (N, k, M), True for every maximal piece
    first = is_max & (is_max.cumsum(dim=1) == 1)  # only the first maximal piece of each (n, m)
    return out, (x, w, first)


def maxout_backward(dout: torch.Tensor, cache):
    """Gradients of maxout: ``(dx, dw, db)``, all routed through the chosen piece.

    With ``g[n, j, m] = dout[n, m] · 1[j is the first maximal piece]``:
    ``dx = Σ_{j,m} g[n,j,m] w[j,m]`` ``(N, D)``; ``dw[j,m] = Σ_n g[n,j,m] x[n]`` ``(k, M, D)``;
    ``db = Σ_n g`` ``(k, M)``.
    """
    x, w, first = cache
    g = dout.unsqueeze(1) * first.to(dout.dtype)  # (N, M) -> (N, k, M)
    dx = torch.einsum("nkm,kmd->nd", g, w)  # (N, k, M) x (k, M, D) -> (N, D)
    dw = torch.einsum("nkm,nd->kmd", g, x)  # (N, k, M) x (N, D) -> (k, M, D)
    db = g.sum(dim=0)  # (k, M)
    return dx, dw, db
