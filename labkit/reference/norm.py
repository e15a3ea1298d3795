"""Batch normalisation (fully connected and spatial) and layer normalisation, with their backwards.

``batchnorm_forward`` behaves as ``torch.nn.BatchNorm1d``: in train mode it normalises with the
batch mean and the biased batch variance and updates the running statistics in ``bn_param``
(``running = (1 - momentum) running + momentum batch_stat``, the variance being the *unbiased*
one); in eval mode it normalises with the running statistics.

``bn_param`` keys: ``mode`` (``"train"`` or ``"eval"``, default ``"train"``), ``eps`` (1e-5),
``momentum`` (0.1), ``running_mean`` (zeros, ``(D,)``) and ``running_var`` (ones, ``(D,)``). The
running statistics are created when absent and replaced by new tensors (never written in place).

Batch norm keeps its per-channel statistics as ``(1, C)`` / ``(1, C, 1, 1)`` so that they broadcast
against ``x`` with no permute or copy; the forward and ``batchnorm_backward_alt`` update their own
intermediate tensors in place (never an input), so, like every graded function, they are meant to
run under ``torch.no_grad()``: autograd cannot differentiate through them.

Example
-------
>>> bn_param = {"mode": "train"}
>>> out, cache = batchnorm_forward(torch.randn(32, 10), torch.ones(10), torch.zeros(10), bn_param)
>>> dx, dgamma, dbeta = batchnorm_backward_alt(torch.randn(32, 10), cache)
>>> bn_param["mode"] = "eval"                         # now uses bn_param["running_mean"/"running_var"]
"""
from __future__ import annotations

import math

import torch

from ._validation import check_choice, check_dict, check_like, check_tensor

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
]


# ---------------------------------------------------------------------------------------- batchnorm
def _channel_shape(x: torch.Tensor) -> tuple[int, ...]:
    """``(1, C)`` for ``x`` ``(N, C)``, ``(1, C, 1, 1)`` for ``(N, C, H, W)``: per-channel values that broadcast."""
    return (1, x.shape[1]) + (1,) * (x.dim() - 2)


def _batchnorm(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, bn_param: dict):
    """Shared by the fully connected and spatial forwards: statistics per channel (dim 1) over every
    other dim, kept as ``(1, C, 1, ...)`` so that they broadcast against ``x`` without copies."""
    for name, t in (("gamma", gamma), ("beta", beta)):
        check_tensor(t, name, floating=True, shape=x.shape[1:2], like=x)
    check_dict(bn_param, "bn_param")
    mode = check_choice(bn_param.get("mode", "train"), "bn_param['mode']", ("train", "eval"))
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    c = x.shape[1]
    dims = (0,) + tuple(range(2, x.dim()))  # every dim but the channel
    m = x.shape[0] * math.prod(x.shape[2:])  # values per channel: N, or N*H*W
    running_mean = bn_param.get("running_mean")
    running_var = bn_param.get("running_var")
    if running_mean is None:
        running_mean = torch.zeros(c, dtype=x.dtype, device=x.device)
    if running_var is None:
        running_var = torch.ones(c, dtype=x.dtype, device=x.device)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if not isinstance(t, torch.Tensor) or t.shape != (c,):
            raise ValueError(f"bn_param[{name!r}] must be a tensor of shape ({c},)")
        check_like(t, f"bn_param[{name!r}]", x)
    shape = _channel_shape(x)
    gamma, beta = gamma.reshape(shape), beta.reshape(shape)  # (C,) -> (1, C, 1, ...)

    if mode == "train":
        if m < 2:
            raise ValueError(
                "batch normalisation in train mode needs more than one sample per feature "
                f"(statistics over {m} value(s)); use mode 'eval' or a larger batch"
            )
        mu = x.mean(dim=dims, keepdim=True)  # (1, C, 1, ...)
        xc = x - mu  # same shape as x
        var = (xc * xc).mean(dim=dims, keepdim=True)  # (1, C, 1, ...), biased
        std = torch.sqrt(var + eps)
        inv = 1.0 / std
        xhat = xc.mul_(inv)  # normalised in place: xc is not kept (batchnorm_backward recovers it as x̂ · s)
        out = torch.addcmul(beta, gamma, xhat)  # gamma * xhat + beta in one pass
        unbiased = var.reshape(c) * (m / (m - 1))
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu.reshape(c)
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * unbiased
        cache = {"mode": "train", "dims": dims, "m": m, "std": std, "inv": inv, "xhat": xhat, "gamma": gamma}
    else:  # eval
        inv = (1.0 / torch.sqrt(running_var + eps)).reshape(shape)
        xhat = (x - running_mean.reshape(shape)) * inv
        out = torch.addcmul(beta, gamma, xhat)  # gamma * xhat + beta
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        cache = {"mode": "eval", "dims": dims, "inv": inv, "xhat": xhat, "gamma": gamma}
    return out, cache


def batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, bn_param: dict):
    """Batch normalisation of ``x`` ``(N, D)``, per feature.

    Train: ``μ = mean_n x``, ``σ² = mean_n (x - μ)²`` (biased), ``x̂ = (x - μ) / √(σ² + eps)``,
    ``out = gamma · x̂ + beta``; then ``running_mean ← (1-m) running_mean + m μ`` and
    ``running_var ← (1-m) running_var + m σ² N/(N-1)``.
    Eval: ``x̂ = (x - running_mean) / √(running_var + eps)``.
    ``gamma``, ``beta``: ``(D,)``. Returns ``out`` ``(N, D)`` and the cache of the staged graph
    (per-feature values in it are ``(1, D)``).
    """
    check_tensor(x, "x", floating=True, ndim=2, layout="(N, D)")
    return _batchnorm(x, gamma, beta, bn_param)


def batchnorm_backward(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)`` by walking the staged graph backwards, one node at a time.

    Graph: ``μ = mean x``; ``xc = x - μ``; ``σ² = mean xc²``; ``s = √(σ² + eps)``; ``i = 1/s``;
    ``x̂ = xc · i``; ``out = gamma x̂ + beta``. In eval mode ``μ`` and ``s`` are constants.
    The means run over the batch (and over ``H, W`` for a spatial cache); ``dx`` has the shape of
    ``dout``, ``dgamma`` and ``dbeta`` are ``(D,)``.
    """
    xhat, gamma, inv, dims = cache["xhat"], cache["gamma"], cache["inv"], cache["dims"]
    dbeta = dout.sum(dim=dims)  # (D,)
    dgamma = (dout * xhat).sum(dim=dims)  # (D,)
    if cache["mode"] == "eval":
        return dout * (gamma * inv), dgamma, dbeta
    std = cache["std"]  # (1, D)
    xc = xhat * std  # the centred input x - μ, (N, D)
    m = cache["m"]  # values per feature
    dxhat = dout * gamma  # out = gamma x̂ + beta
    dinv = (dxhat * xc).sum(dim=dims, keepdim=True)  # x̂ = xc · i, through i: (1, D)
    dxc = dxhat * inv  # x̂ = xc · i, through xc: (N, D)
    dstd = -dinv / (std * std)  # i = 1/s
    dvar = 0.5 * dstd / std  # s = √(σ² + eps)
    dxc += xc * (2.0 * dvar / m)  # σ² = mean xc², the second path into xc
    dmu = -dxc.sum(dim=dims, keepdim=True)  # xc = x - μ, through μ: (1, D)
    dx = dxc + dmu / m  # μ = mean x
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)`` from the closed form (train mode):

    ``dbeta = Σ_n dout``, ``dgamma = Σ_n dout x̂`` and, over the ``N`` values of each feature,
    ``dx = (gamma / s) · (dout - dbeta / N - x̂ · dgamma / N)`` with ``s = √(σ² + eps)``
    (the same as ``(1 / (N s)) · (N g - Σ_n g - x̂ Σ_n g x̂)`` with ``g = dout · gamma``).
    In eval mode ``dx = gamma · dout / √(running_var + eps)``. Shapes as ``batchnorm_backward``.
    """
    xhat, gamma, inv, dims = cache["xhat"], cache["gamma"], cache["inv"], cache["dims"]
    dbeta = dout.sum(dim=dims, keepdim=True)  # (1, D)
    dgamma = (dout * xhat).sum(dim=dims, keepdim=True)  # (1, D)
    scale = gamma * inv  # (1, D)
    if cache["mode"] == "eval":
        dx = dout * scale
    else:
        m = cache["m"]  # values per feature
        dx = dout - dbeta / m  # dout minus its mean per feature,
        dx.addcmul_(xhat, dgamma / m, value=-1.0)  # minus x̂ times the mean of dout·x̂,
        dx *= scale  # times gamma / s
    return dx, dgamma.flatten(), dbeta.flatten()


# ---------------------------------------------------------------------------------- spatial batchnorm
def spatial_batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, bn_param: dict):
    """Batch normalisation of ``x`` ``(N, C, H, W)`` with statistics per channel over ``N, H, W``
    (as ``torch.nn.BatchNorm2d``): the formulas of ``batchnorm_forward`` with the means over
    ``N·H·W`` values (unbiased running variance with ``N·H·W - 1``). ``gamma``, ``beta``: ``(C,)``;
    ``bn_param`` as in ``batchnorm_forward`` with running statistics of shape ``(C,)``.
    Returns ``out`` ``(N, C, H, W)`` and the cache (per-channel values ``(1, C, 1, 1)``)."""
    check_tensor(x, "x", floating=True, ndim=4, layout="(N, C, H, W)")
    return _batchnorm(x, gamma, beta, bn_param)


def spatial_batchnorm_backward(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)`` of spatial batch norm: ``dx`` ``(N, C, H, W)``, the others ``(C,)``;
    the closed form of ``batchnorm_backward_alt`` with sums over ``N, H, W``."""
    return batchnorm_backward_alt(dout, cache)


# ---------------------------------------------------------------------------------------- layernorm
def layernorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, ln_param: dict | None = None):
    """Layer normalisation of ``x`` ``(N, D)``, per sample over its ``D`` features.

    ``μ_n = mean_d x``, ``σ²_n = mean_d (x - μ_n)²`` (biased), ``x̂ = (x - μ_n) / √(σ²_n + eps)``,
    ``out = gamma · x̂ + beta`` with ``gamma``, ``beta`` ``(D,)``; ``ln_param`` key ``eps`` (1e-5).
    Same in train and eval mode: no running statistics.
    """
    check_tensor(x, "x", floating=True, ndim=2, layout="(N, D)")
    for name, t in (("gamma", gamma), ("beta", beta)):
        check_tensor(t, name, floating=True, shape=x.shape[1:], like=x)
    eps = check_dict({} if ln_param is None else ln_param, "ln_param").get("eps", 1e-5)
    d = x.shape[1]
    mu = x.mean(dim=1, keepdim=True)  # (N, 1)
    xc = x - mu  # (N, D), the only full-size temporary: it becomes x̂ below
    var = torch.linalg.vecdot(xc, xc, dim=1).unsqueeze(1) / d  # (N, 1): row-wise dot, no (N, D) square
    inv = torch.rsqrt(var + eps)  # 1 / √(σ² + eps), (N, 1)
    xhat = xc.mul_(inv)  # (N, D), normalised in place
    out = torch.addcmul(beta, gamma, xhat)  # gamma · x̂ + beta in one pass
    return out, (xhat, inv, gamma)


def layernorm_backward(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)``: batch norm's closed form with the roles of the axes swapped.

    With ``g = dout · gamma`` and ``s_n = √(σ²_n + eps)``, per row over its ``D`` features:
    ``dx = (1 / s_n) · (g - mean_d g - x̂ · mean_d (g x̂))``;
    ``dgamma = Σ_n dout x̂``; ``dbeta = Σ_n dout`` (both ``(D,)``).
    """
    xhat, inv, gamma = cache
    g = dout * gamma  # (N, D)
    mean_g = g.mean(dim=1, keepdim=True)  # (N, 1)
    mean_gx = torch.linalg.vecdot(g, xhat, dim=1).unsqueeze(1) / g.shape[1]  # (N, 1), row-wise dot / D
    dx = g.sub_(mean_g).addcmul_(xhat, mean_gx, value=-1.0).mul_(inv)  # reuses g, no longer needed
    dgamma = (dout * xhat).sum(dim=0)  # (D,)
    dbeta = dout.sum(dim=0)  # (D,)
    return dx, dgamma, dbeta
