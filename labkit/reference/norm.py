"""Batch normalisation (fully connected and spatial) and layer normalisation, with their backwards.

``batchnorm_forward`` behaves as ``torch.nn.BatchNorm1d``: in train mode it normalises with the
batch mean and the biased batch variance and updates the running statistics in ``bn_param``
(``running = (1 - momentum) running + momentum batch_stat``, the variance being the *unbiased*
one); in eval mode it normalises with the running statistics.

``bn_param`` keys: ``mode`` (``"train"`` or ``"eval"``, default ``"train"``), ``eps`` (1e-5),
``momentum`` (0.1), ``running_mean`` (zeros, ``(D,)``) and ``running_var`` (ones, ``(D,)``). The
running statistics are created when absent and replaced by new tensors (never written in place).

Example
-------
>>> bn_param = {"mode": "train"}
>>> out, cache = batchnorm_forward(torch.randn(32, 10), torch.ones(10), torch.zeros(10), bn_param)
>>> dx, dgamma, dbeta = batchnorm_backward_alt(torch.randn(32, 10), cache)
>>> bn_param["mode"] = "eval"                         # now uses bn_param["running_mean"/"running_var"]
"""
from __future__ import annotations

import torch

__all__ = [
    "batchnorm_forward",
    "batchnorm_backward",
    "batchnorm_backward_alt",
    "spatial_batchnorm_forward",
    "spatial_batchnorm_backward",
    "layernorm_forward",
    "layernorm_backward",
]


def _check_inputs(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, ndim: int, layout: str) -> None:
    for name, t in (("x", x), ("gamma", gamma), ("beta", beta)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
        if not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got dtype {t.dtype}")
    if x.dim() != ndim:
        raise ValueError(f"x must be {layout}, got shape {tuple(x.shape)}")
    features = x.shape[1]
    for name, t in (("gamma", gamma), ("beta", beta)):
        if t.shape != (features,):
            raise ValueError(
                f"{name} must have shape ({features},) for x of shape {tuple(x.shape)}, got {tuple(t.shape)}"
            )
        if t.dtype != x.dtype or t.device != x.device:
            raise TypeError(
                f"{name} must have the dtype and device of x ({x.dtype}, {x.device}), got ({t.dtype}, {t.device})"
            )


# ---------------------------------------------------------------------------------------- batchnorm
def batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, bn_param: dict):
    """Batch normalisation of ``x`` ``(N, D)``, per feature.

    Train: ``μ = mean_n x``, ``σ² = mean_n (x - μ)²`` (biased), ``x̂ = (x - μ) / √(σ² + eps)``,
    ``out = gamma · x̂ + beta``; then ``running_mean ← (1-m) running_mean + m μ`` and
    ``running_var ← (1-m) running_var + m σ² N/(N-1)``.
    Eval: ``x̂ = (x - running_mean) / √(running_var + eps)``.
    ``gamma``, ``beta``: ``(D,)``. Returns ``out`` ``(N, D)`` and the cache of the staged graph.
    """
    _check_inputs(x, gamma, beta, 2, "(N, D)")
    if not isinstance(bn_param, dict):
        raise TypeError(f"bn_param must be a dict, got {type(bn_param).__name__}")
    mode = bn_param.get("mode", "train")
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    n, d = x.shape
    running_mean = bn_param.get("running_mean")
    running_var = bn_param.get("running_var")
    if running_mean is None:
        running_mean = torch.zeros(d, dtype=x.dtype, device=x.device)
    if running_var is None:
        running_var = torch.ones(d, dtype=x.dtype, device=x.device)
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if not isinstance(t, torch.Tensor) or t.shape != (d,):
            raise ValueError(f"bn_param[{name!r}] must be a tensor of shape ({d},)")
        if t.dtype != x.dtype or t.device != x.device:
            raise TypeError(f"bn_param[{name!r}] must have the dtype and device of x ({x.dtype}, {x.device})")

    if mode == "train":
        if n < 2:
            raise ValueError(
                "batch normalisation in train mode needs more than one sample per feature "
                f"(statistics over {n} value(s)); use mode 'eval' or a larger batch"
            )
        mu = x.mean(dim=0)  # (N, D) -> (D,)
        xc = x - mu  # (N, D)
        var = (xc * xc).mean(dim=0)  # (D,), biased
        std = torch.sqrt(var + eps)  # (D,)
        inv = 1.0 / std
        xhat = xc * inv  # (N, D)
        out = gamma * xhat + beta
        unbiased = var * (n / (n - 1))
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mu
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * unbiased
        cache = {"mode": "train", "xc": xc, "std": std, "inv": inv, "xhat": xhat, "gamma": gamma}
    elif mode == "eval":
        inv = 1.0 / torch.sqrt(running_var + eps)  # (D,)
        xhat = (x - running_mean) * inv
        out = gamma * xhat + beta
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
        cache = {"mode": "eval", "inv": inv, "xhat": xhat, "gamma": gamma}
    else:
        raise ValueError(f"bn_param['mode'] must be 'train' or 'eval', got {mode!r}")
    return out, cache


def batchnorm_backward(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)`` by walking the staged graph backwards, one node at a time.

    Graph: ``μ = mean x``; ``xc = x - μ``; ``σ² = mean xc²``; ``s = √(σ² + eps)``; ``i = 1/s``;
    ``x̂ = xc · i``; ``out = gamma x̂ + beta``. In eval mode ``μ`` and ``s`` are constants.
    """
    xhat, gamma, inv = cache["xhat"], cache["gamma"], cache["inv"]
    dbeta = dout.sum(dim=0)  # (D,)
    dgamma = (dout * xhat).sum(dim=0)  # (D,)
    dxhat = dout * gamma  # (N, D)
    if cache["mode"] == "eval":
        return dxhat * inv, dgamma, dbeta
    xc, std = cache["xc"], cache["std"]
    n = dout.shape[0]
    dxc = dxhat * inv  # x̂ = xc · i, through xc
    dinv = (dxhat * xc).sum(dim=0)  # through i, (D,)
    dstd = -dinv / (std * std)  # i = 1/s
    dvar = 0.5 * dstd / std  # s = √(σ² + eps)
    dxc = dxc + 2.0 * xc * dvar / n  # σ² = mean xc²
    dmu = -dxc.sum(dim=0)  # xc = x - μ
    dx = dxc + dmu / n  # μ = mean x
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)`` from the closed form (train mode), with ``g = dout · gamma``:

    ``dx = (1 / (N s)) · (N g - Σ_n g - x̂ · Σ_n g x̂)``, ``dgamma = Σ_n dout x̂``, ``dbeta = Σ_n dout``.
    In eval mode ``dx = g / √(running_var + eps)``.
    """
    xhat, gamma, inv = cache["xhat"], cache["gamma"], cache["inv"]
    dbeta = dout.sum(dim=0)
    dgamma = (dout * xhat).sum(dim=0)
    g = dout * gamma  # (N, D)
    if cache["mode"] == "eval":
        return g * inv, dgamma, dbeta
    n = dout.shape[0]
    dx = (inv / n) * (n * g - g.sum(dim=0) - xhat * (g * xhat).sum(dim=0))
    return dx, dgamma, dbeta


# ---------------------------------------------------------------------------------- spatial batchnorm
def spatial_batchnorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, bn_param: dict):
    """Batch normalisation of ``x`` ``(N, C, H, W)`` with statistics per channel over ``N, H, W``
    (as ``torch.nn.BatchNorm2d``). ``gamma``, ``beta``: ``(C,)``; ``bn_param`` as in
    ``batchnorm_forward`` with running statistics of shape ``(C,)``."""
    _check_inputs(x, gamma, beta, 4, "(N, C, H, W)")
    n, c, h, w = x.shape
    flat = x.permute(0, 2, 3, 1).reshape(-1, c)  # (N, C, H, W) -> (N*H*W, C)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    out = out.reshape(n, h, w, c).permute(0, 3, 1, 2)  # back to (N, C, H, W)
    return out, (cache, x.shape)


def spatial_batchnorm_backward(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)`` of spatial batch norm: ``dx`` ``(N, C, H, W)``, the others ``(C,)``."""
    bn_cache, (n, c, h, w) = cache
    flat = dout.permute(0, 2, 3, 1).reshape(-1, c)  # (N, C, H, W) -> (N*H*W, C)
    dx, dgamma, dbeta = batchnorm_backward_alt(flat, bn_cache)
    return dx.reshape(n, h, w, c).permute(0, 3, 1, 2), dgamma, dbeta


# ---------------------------------------------------------------------------------------- layernorm
def layernorm_forward(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor, ln_param: dict | None = None):
    """Layer normalisation of ``x`` ``(N, D)``, per sample over its ``D`` features.

    ``μ_n = mean_d x``, ``σ²_n = mean_d (x - μ_n)²`` (biased), ``x̂ = (x - μ_n) / √(σ²_n + eps)``,
    ``out = gamma · x̂ + beta`` with ``gamma``, ``beta`` ``(D,)``; ``ln_param`` key ``eps`` (1e-5).
    Same in train and eval mode: no running statistics.
    """
    _check_inputs(x, gamma, beta, 2, "(N, D)")
    if ln_param is None:
        ln_param = {}
    if not isinstance(ln_param, dict):
        raise TypeError(f"ln_param must be a dict, got {type(ln_param).__name__}")
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(dim=1, keepdim=True)  # (N, 1)
    xc = x - mu
    var = (xc * xc).mean(dim=1, keepdim=True)  # (N, 1)
    inv = 1.0 / torch.sqrt(var + eps)
    xhat = xc * inv  # (N, D)
    out = gamma * xhat + beta
    return out, (xhat, inv, gamma)


def layernorm_backward(dout: torch.Tensor, cache):
    """``(dx, dgamma, dbeta)``: batch norm's closed form with the roles of the axes swapped.

    With ``g = dout · gamma``: ``dx = (1 / (D s_n)) · (D g - Σ_d g - x̂ · Σ_d g x̂)``;
    ``dgamma = Σ_n dout x̂``; ``dbeta = Σ_n dout``.
    """
    xhat, inv, gamma = cache
    d = dout.shape[1]
    g = dout * gamma  # (N, D)
    dx = (inv / d) * (d * g - g.sum(dim=1, keepdim=True) - xhat * (g * xhat).sum(dim=1, keepdim=True))
    dgamma = (dout * xhat).sum(dim=0)
    dbeta = dout.sum(dim=0)
    return dx, dgamma, dbeta
