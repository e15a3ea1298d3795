"""Notebook 03: realistic buggy student versions (each must lose points), correct versions written
differently from the reference (each must keep full marks) and cheats (the built-in, autograd, the answer
key: each must score 0 with the call named), grouped by function; BUGGY, CORRECT and CHEATS at the end.

The student's batch norm here is written once, as a student would (``_bn``), with one keyword per known
mistake; each buggy version is that code with one mistake switched on, so that every other line is right.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .answer_key import RAW as R

# --- batchnorm_forward --------------------------------------------------------------------------------


def _bn(x, gamma, beta, bn_param, *, norm_unbiased=False, run_biased=False, swap_momentum=False,
        ignore_mode=False, eval_updates=False, no_write_back=False, eps_outside=False, fixed_eps=False,
        per_sample=False, inplace_x=False, cancel=False, reset_running=False):
    """A student's batch norm over dim 0 of (N, D), cache as a dict; each keyword switches on one mistake."""
    mode = bn_param["mode"]
    eps = 1e-5 if fixed_eps else bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    n, d = x.shape
    if reset_running:
        running_mean = torch.zeros(d, dtype=x.dtype, device=x.device)
        running_var = torch.ones(d, dtype=x.dtype, device=x.device)
    else:
        running_mean = bn_param.get("running_mean", torch.zeros(d, dtype=x.dtype, device=x.device))
        running_var = bn_param.get("running_var", torch.ones(d, dtype=x.dtype, device=x.device))
    if mode == "train" or ignore_mode:
        axis = 1 if per_sample else 0
        mu = x.mean(dim=axis, keepdim=True)
        if cancel:
            var = (x * x).mean(dim=axis, keepdim=True) - mu * mu
        else:
            var = ((x - mu) ** 2).sum(dim=axis, keepdim=True) / (x.shape[axis] - 1 if norm_unbiased else x.shape[axis])
        if inplace_x:
            x -= mu
            xc = x
        else:
            xc = x - mu
        std = var.sqrt() + eps if eps_outside else torch.sqrt(var + eps)
        xhat = xc / std
        out = gamma * xhat + beta
        if not per_sample:
            unbiased = ((x - x.mean(dim=0)) ** 2).sum(dim=0) / (n if run_biased else n - 1) if not inplace_x \
                else (xc ** 2).sum(dim=0) / (n - 1)
            new_m, new_v = mu.squeeze(0), unbiased
        else:
            new_m, new_v = x.mean(dim=0), x.var(dim=0)
        keep = momentum if swap_momentum else 1 - momentum
        running_mean = keep * running_mean + (1 - keep) * new_m
        running_var = keep * running_var + (1 - keep) * new_v
        cache = {"mode": "train", "xhat": xhat, "std": std, "gamma": gamma}
    else:
        std = running_var.sqrt() + eps if eps_outside else torch.sqrt(running_var + eps)
        xhat = (x - running_mean) / std
        out = gamma * xhat + beta
        if eval_updates:
            keep = 1 - momentum
            running_mean = keep * running_mean + momentum * x.mean(dim=0)
            running_var = keep * running_var + momentum * x.var(dim=0)
        cache = {"mode": "eval", "xhat": xhat, "std": std, "gamma": gamma}
    if not no_write_back:
        bn_param["running_mean"] = running_mean
        bn_param["running_var"] = running_var
    return out, cache


def bn_student(x, gamma, beta, bn_param):
    return _bn(x, gamma, beta, bn_param)


def bn_unbiased_norm(x, gamma, beta, bn_param):
    """Normalises with the unbiased (N - 1) variance, as torch.var's default."""
    return _bn(x, gamma, beta, bn_param, norm_unbiased=True)


def bn_biased_running(x, gamma, beta, bn_param):
    """Puts the biased batch variance into the running average."""
    return _bn(x, gamma, beta, bn_param, run_biased=True)


def bn_momentum_swapped(x, gamma, beta, bn_param):
    """running = momentum * running + (1 - momentum) * batch (the Keras/CS231n convention)."""
    return _bn(x, gamma, beta, bn_param, swap_momentum=True)


def bn_ignores_mode(x, gamma, beta, bn_param):
    """Always normalises with the batch statistics, eval mode included."""
    return _bn(x, gamma, beta, bn_param, ignore_mode=True)


def bn_eval_updates(x, gamma, beta, bn_param):
    """Updates the running statistics in eval mode too."""
    return _bn(x, gamma, beta, bn_param, eval_updates=True)


def bn_no_write_back(x, gamma, beta, bn_param):
    """Updates local variables, never stores them back into bn_param."""
    return _bn(x, gamma, beta, bn_param, no_write_back=True)


def bn_eps_outside(x, gamma, beta, bn_param):
    """sqrt(var) + eps."""
    return _bn(x, gamma, beta, bn_param, eps_outside=True)


def bn_fixed_eps(x, gamma, beta, bn_param):
    """eps hard-coded to 1e-5, bn_param['eps'] ignored."""
    return _bn(x, gamma, beta, bn_param, fixed_eps=True)


def bn_per_sample(x, gamma, beta, bn_param):
    """Statistics over dim 1 (each sample over its features): layer norm by mistake."""
    return _bn(x, gamma, beta, bn_param, per_sample=True)


def bn_inplace_x(x, gamma, beta, bn_param):
    """x -= mu changes the caller's tensor."""
    return _bn(x, gamma, beta, bn_param, inplace_x=True)


def bn_cancellation(x, gamma, beta, bn_param):
    """var = E[x^2] - E[x]^2: catastrophic cancellation for large offsets."""
    return _bn(x, gamma, beta, bn_param, cancel=True)


def bn_resets_running(x, gamma, beta, bn_param):
    """Starts the running statistics from zeros and ones at every call."""
    return _bn(x, gamma, beta, bn_param, reset_running=True)


def bn_var_mean(x, gamma, beta, bn_param):
    """torch.var_mean, running statistics updated in place (allowed: they belong to bn_param)."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    d = x.shape[1]
    if "running_mean" not in bn_param:
        bn_param["running_mean"] = x.new_zeros(d)
        bn_param["running_var"] = x.new_ones(d)
    if bn_param.get("mode", "train") == "train":
        var, mean = torch.var_mean(x, dim=0, unbiased=False)
        bn_param["running_mean"].mul_(1 - momentum).add_(mean, alpha=momentum)
        bn_param["running_var"].mul_(1 - momentum).add_(var * (x.shape[0] / (x.shape[0] - 1)), alpha=momentum)
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    inv = torch.rsqrt(var + eps)
    xhat = (x - mean) * inv
    return torch.addcmul(beta, gamma, xhat), (bn_param.get("mode", "train"), xhat, inv, gamma)


def bn_loop_features(x, gamma, beta, bn_param):
    """One feature at a time, Python floats for the statistics."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    n, d = x.shape
    rm = bn_param.get("running_mean", torch.zeros(d, dtype=x.dtype, device=x.device)).clone()
    rv = bn_param.get("running_var", torch.ones(d, dtype=x.dtype, device=x.device)).clone()
    out = torch.empty_like(x)
    for j in range(d):
        col = x[:, j]
        if bn_param["mode"] == "train":
            m = col.sum() / n
            v = ((col - m) ** 2).sum() / n
            rm[j] = (1 - momentum) * rm[j] + momentum * m
            rv[j] = (1 - momentum) * rv[j] + momentum * v * n / (n - 1)
        else:
            m, v = bn_param["running_mean"][j], bn_param["running_var"][j]
        out[:, j] = gamma[j] * (col - m) / torch.sqrt(v + eps) + beta[j]
    bn_param["running_mean"], bn_param["running_var"] = rm, rv
    return out, None


def bn_F_batch_norm(x, gamma, beta, bn_param):
    d = x.shape[1]
    rm = bn_param.setdefault("running_mean", torch.zeros(d, dtype=x.dtype))
    rv = bn_param.setdefault("running_var", torch.ones(d, dtype=x.dtype))
    out = F.batch_norm(x, rm, rv, gamma, beta, training=bn_param["mode"] == "train",
                       momentum=bn_param.get("momentum", 0.1), eps=bn_param.get("eps", 1e-5))
    return out, None


def bn_answer_key(x, gamma, beta, bn_param):
    from labkit.reference import norm

    return norm.batchnorm_forward(x, gamma, beta, bn_param)


# --- batchnorm_backward (staged) and batchnorm_backward_alt (closed form) --------------------------------


def _staged(dout, cache, *, no_mu=False, no_var=False, n_minus_1=False, dbeta_mean=False, dgamma_x=False,
            dvar_sign=False, no_gamma=False, mutate_dout=False, ignore_mode=False, no_eps=False):
    """A student's staged backward over the graph mu, xc, var, std, inv, xhat, out (cache of _bn)."""
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    n = dout.shape[0]
    dbeta = dout.mean(dim=0) if dbeta_mean else dout.sum(dim=0)
    xc = xhat * std
    if no_eps:
        std = (xc * xc).mean(dim=0, keepdim=True).sqrt()
    dgamma = (dout * (xc + cache.get("mu", 0.0) if dgamma_x else xhat)).sum(dim=0)
    if mutate_dout:
        dout *= gamma
        dxhat = dout
    else:
        dxhat = dout if no_gamma else dout * gamma
    if cache["mode"] == "eval" and not ignore_mode:
        return dxhat / std, dgamma, dbeta
    dinv = (dxhat * xc).sum(dim=0)
    dxc = dxhat / std
    dstd = -dinv / std ** 2
    dvar = 0.5 * dstd / std * (-1.0 if dvar_sign else 1.0)
    if not no_var:
        dxc = dxc + 2 * xc * dvar / (n - 1 if n_minus_1 else n)
    dmu = -dxc.sum(dim=0)
    dx = dxc + (0 if no_mu else dmu / n)
    return dx, dgamma, dbeta


def bnb_staged(dout, cache):
    return _staged(dout, cache)


def bnb_no_mu_path(dout, cache):
    return _staged(dout, cache, no_mu=True)


def bnb_no_var_path(dout, cache):
    return _staged(dout, cache, no_var=True)


def bnb_n_minus_1(dout, cache):
    return _staged(dout, cache, n_minus_1=True)


def bnb_dbeta_mean(dout, cache):
    return _staged(dout, cache, dbeta_mean=True)


def bnb_dgamma_uses_xc(dout, cache):
    return _staged(dout, cache, dgamma_x=True)


def bnb_dvar_sign(dout, cache):
    return _staged(dout, cache, dvar_sign=True)


def bnb_no_gamma(dout, cache):
    return _staged(dout, cache, no_gamma=True)


def bnb_mutates_dout(dout, cache):
    return _staged(dout, cache, mutate_dout=True)


def bnb_ignores_mode(dout, cache):
    return _staged(dout, cache, ignore_mode=True)


def bnb_no_eps(dout, cache):
    return _staged(dout, cache, no_eps=True)


def bnb_cs231n_names(dout, cache):
    """The same graph, with the intermediate names of the CS231n notes and eval handled first."""
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    if cache["mode"] == "eval":
        return dout * gamma / std, (dout * xhat).sum(0), dout.sum(0)
    n = dout.shape[0]
    xmu = xhat * std
    ivar = 1.0 / std
    dxhat = dout * gamma
    divar = (dxhat * xmu).sum(axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -divar / std ** 2
    dvar = 0.5 / std * dsqrtvar
    dsq = torch.ones_like(dout) * dvar / n
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=0)
    dx2 = torch.ones_like(dout) * dmu / n
    return dx1 + dx2, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def bnb_jacobian(dout, cache):
    """One explicit N x N Jacobian per feature."""
    mode, xhat, inv, gamma = cache
    n, d = dout.shape
    dx = torch.empty_like(dout)
    eye = torch.eye(n, dtype=dout.dtype, device=dout.device)
    for j in range(d):
        h = xhat[:, j]
        jac = eye if mode == "eval" else eye - 1.0 / n - torch.outer(h, h) / n  # d xhat / d x, times std
        dx[:, j] = gamma[j] * inv[j] * (jac.T @ dout[:, j])
    return dx, (dout * xhat).sum(0), dout.sum(0)


def _closed(dout, cache, *, no_n=False, no_xhat_term=False, no_mean_term=False, plus=False, var_not_std=False,
            n_minus_1=False, no_gamma=False, ignore_mode=False, keepdim=False, dgamma_x=False):
    """A student's closed-form backward (cache of _bn)."""
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    n = dout.shape[0]
    dbeta = dout.sum(dim=0, keepdim=keepdim)
    dgamma = ((xhat * std if dgamma_x else xhat) * dout).sum(dim=0, keepdim=keepdim)
    scale = (1.0 if no_gamma else gamma) / (std * std if var_not_std else std)
    if cache["mode"] == "eval" and not ignore_mode:
        return dout * scale, dgamma, dbeta
    k = 1 if no_n else (n - 1 if n_minus_1 else n)
    dx = dout * (n if no_n else 1)
    if not no_mean_term:
        dx = dx - dout.sum(dim=0) / k
    if not no_xhat_term:
        term = xhat * (xhat * dout).sum(dim=0) / k
        dx = dx + term if plus else dx - term
    return scale * dx, dgamma, dbeta


def alt_student(dout, cache):
    return _closed(dout, cache)


def alt_no_divide_by_n(dout, cache):
    """N·dout - Σdout - x̂ Σ(dout x̂), the 1/N in front forgotten."""
    return _closed(dout, cache, no_n=True)


def alt_no_xhat_term(dout, cache):
    return _closed(dout, cache, no_xhat_term=True)


def alt_no_mean_term(dout, cache):
    return _closed(dout, cache, no_mean_term=True)


def alt_sign(dout, cache):
    return _closed(dout, cache, plus=True)


def alt_var_not_std(dout, cache):
    return _closed(dout, cache, var_not_std=True)


def alt_n_minus_1(dout, cache):
    return _closed(dout, cache, n_minus_1=True)


def alt_no_gamma(dout, cache):
    return _closed(dout, cache, no_gamma=True)


def alt_ignores_mode(dout, cache):
    return _closed(dout, cache, ignore_mode=True)


def alt_keepdim(dout, cache):
    """dgamma and dbeta come back as (1, D)."""
    return _closed(dout, cache, keepdim=True)


def alt_dgamma_uses_xc(dout, cache):
    return _closed(dout, cache, dgamma_x=True)


def alt_g_form(dout, cache):
    """With g = dout * gamma: (g - mean g - x̂ mean(g x̂)) / std."""
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    g = dout * gamma
    if cache["mode"] == "eval":
        dx = g / std
    else:
        dx = (g - g.mean(0) - xhat * (g * xhat).mean(0)) / std
    return dx, (dout * xhat).sum(0), dout.sum(0)


def alt_einsum(dout, cache):
    mode, xhat, inv, gamma = cache
    n = dout.shape[0]
    dgamma = torch.einsum("nd,nd->d", dout, xhat)
    dbeta = torch.einsum("nd->d", dout)
    if mode == "eval":
        return dout * gamma * inv, dgamma, dbeta
    return (gamma * inv / n) * (n * dout - dbeta - xhat * dgamma), dgamma, dbeta


def bnb_autograd(dout, cache):
    """(For the reference's cache.)"""
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"].flatten()
    x = (xhat * std).detach().requires_grad_(True)
    g = gamma.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        mu = x.mean(0)
        var = ((x - mu) ** 2).mean(0)
        out = g * (x - mu) / torch.sqrt(var + 1e-5)
        dx, dg = torch.autograd.grad(out, (x, g), dout)
    return dx, dg, dout.sum(0)


def bnb_answer_key(dout, cache):
    import labkit.reference as ref

    return ref.batchnorm_backward(dout, cache)


# --- spatial_batchnorm_forward / backward ----------------------------------------------------------------


def _to_rows(x):
    """(N, C, H, W) -> (N·H·W, C), channels last."""
    n, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(-1, c)


def _from_rows(rows, shape):
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).permute(0, 3, 1, 2)


def sbn_permute(x, gamma, beta, bn_param):
    out, cache = bn_student(_to_rows(x), gamma, beta, bn_param)
    return _from_rows(out, x.shape), (cache, x.shape)


def sbn_reshape_no_permute(x, gamma, beta, bn_param):
    """x.reshape(-1, C) without moving C last: each 'row' mixes channels and pixels."""
    n, c, h, w = x.shape
    out, cache = bn_student(x.reshape(-1, c), gamma, beta, bn_param)
    return out.reshape(n, c, h, w), (cache, x.shape)


def sbn_no_permute_back(x, gamma, beta, bn_param):
    """Channels moved last on the way in, the output reshaped straight to (N, C, H, W) on the way out."""
    out, cache = bn_student(_to_rows(x), gamma, beta, bn_param)
    return out.reshape(x.shape), (cache, x.shape)


def sbn_per_instance(x, gamma, beta, bn_param):
    """Statistics per (sample, channel) over H and W only: instance norm."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    c = x.shape[1]
    if bn_param["mode"] == "train":
        mu = x.mean(dim=(2, 3), keepdim=True)
        var = x.var(dim=(2, 3), keepdim=True, unbiased=False)
        rm = bn_param.get("running_mean", x.new_zeros(c))
        rv = bn_param.get("running_var", x.new_ones(c))
        bn_param["running_mean"] = (1 - momentum) * rm + momentum * x.mean(dim=(0, 2, 3))
        bn_param["running_var"] = (1 - momentum) * rv + momentum * x.var(dim=(0, 2, 3))
    else:
        mu = bn_param["running_mean"].reshape(1, c, 1, 1)
        var = bn_param["running_var"].reshape(1, c, 1, 1)
    xhat = (x - mu) / torch.sqrt(var + eps)
    return gamma.reshape(1, c, 1, 1) * xhat + beta.reshape(1, c, 1, 1), None


def _sbn_direct(x, gamma, beta, bn_param, *, n_only=False, keepdim_running=False, ignore_mode=False,
                inplace=False, global_var=False):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    n, c, h, w = x.shape
    m = n * h * w
    rm = bn_param.get("running_mean", x.new_zeros(c))
    rv = bn_param.get("running_var", x.new_ones(c))
    if bn_param["mode"] == "train" or ignore_mode:
        mu = x.mean(dim=(0, 2, 3), keepdim=True)
        var = x.var(unbiased=False) * torch.ones_like(mu) if global_var else \
            ((x - mu) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        new_m, new_v = (mu, var * m / (m - 1)) if keepdim_running else (mu.flatten(), var.flatten() * m / (m - 1))
        if n_only:
            new_v = var.flatten() * m / (n - 1)
        bn_param["running_mean"] = (1 - momentum) * rm + momentum * new_m
        bn_param["running_var"] = (1 - momentum) * rv + momentum * new_v
        mode = "train"
    else:
        mu, var = rm.reshape(1, c, 1, 1), rv.reshape(1, c, 1, 1)
        mode = "eval"
    if inplace:
        x.sub_(mu)
        xc = x
    else:
        xc = x - mu
    std = torch.sqrt(var + eps)
    xhat = xc / std
    out = gamma.view(1, c, 1, 1) * xhat + beta.view(1, c, 1, 1)
    return out, {"mode": mode, "xhat": xhat, "std": std, "gamma": gamma.view(1, c, 1, 1), "m": m}


def sbn_direct(x, gamma, beta, bn_param):
    return _sbn_direct(x, gamma, beta, bn_param)


def sbn_unbiased_n_minus_1(x, gamma, beta, bn_param):
    """The unbiased correction with N - 1 where each channel pools N·H·W values."""
    return _sbn_direct(x, gamma, beta, bn_param, n_only=True)


def sbn_keepdim_running(x, gamma, beta, bn_param):
    """Running statistics stored with shape (1, C, 1, 1)."""
    return _sbn_direct(x, gamma, beta, bn_param, keepdim_running=True)


def sbn_ignores_mode(x, gamma, beta, bn_param):
    return _sbn_direct(x, gamma, beta, bn_param, ignore_mode=True)


def sbn_inplace(x, gamma, beta, bn_param):
    return _sbn_direct(x, gamma, beta, bn_param, inplace=True)


def sbn_global_variance(x, gamma, beta, bn_param):
    """One variance over every value of x, not one per channel."""
    return _sbn_direct(x, gamma, beta, bn_param, global_var=True)


def sbn_eps_outside(x, gamma, beta, bn_param):
    out, cache = _bn(_to_rows(x), gamma, beta, bn_param, eps_outside=True)
    return _from_rows(out, x.shape), (cache, x.shape)


def sbn_momentum_swapped(x, gamma, beta, bn_param):
    out, cache = _bn(_to_rows(x), gamma, beta, bn_param, swap_momentum=True)
    return _from_rows(out, x.shape), (cache, x.shape)


def sbn_movedim(x, gamma, beta, bn_param):
    """movedim + flatten, through the var_mean version."""
    rows = x.movedim(1, -1).flatten(0, 2)
    out, cache = bn_var_mean(rows, gamma, beta, bn_param)
    return out.reshape(x.shape[0], x.shape[2], x.shape[3], -1).movedim(-1, 1), (cache, x.shape)


def sbnb_permute(dout, cache):
    inner, shape = cache
    dx, dgamma, dbeta = alt_student(_to_rows(dout), inner)
    return _from_rows(dx, shape), dgamma, dbeta


def sbnb_movedim(dout, cache):
    inner, shape = cache
    dx, dgamma, dbeta = alt_einsum(dout.movedim(1, -1).flatten(0, 2), inner)
    return dx.reshape(shape[0], shape[2], shape[3], -1).movedim(-1, 1), dgamma, dbeta


def _sbnb_direct(dout, cache, *, m_is_n=False, dbeta_mean=False, keep_pixels=False, no_xhat_term=False,
                 mutate=False, ignore_mode=False, sum_all=False):
    xhat, std, gamma = cache["xhat"], cache["std"], cache["gamma"]
    dims = (0,) if keep_pixels else (0, 2, 3)
    m = dout.shape[0] if m_is_n else cache["m"]
    if sum_all:
        dbeta, dgamma = dout.sum(), (dout * xhat).sum()
    else:
        dbeta = dout.mean(dim=dims) * (1 if not dbeta_mean else 1) if dbeta_mean else dout.sum(dim=dims)
        dgamma = (dout * xhat).sum(dim=dims)
    if cache["mode"] == "eval" and not ignore_mode:
        return dout * gamma / std, dgamma, dbeta
    sb = dout.sum(dim=(0, 2, 3), keepdim=True)
    sg = (dout * xhat).sum(dim=(0, 2, 3), keepdim=True)
    if mutate:
        dout -= sb / m
        dx = dout
    else:
        dx = dout - sb / m
    if not no_xhat_term:
        dx = dx - xhat * sg / m
    return dx * gamma / std, dgamma, dbeta


def sbnb_direct(dout, cache):
    return _sbnb_direct(dout, cache)


def sbnb_batch_only_count(dout, cache):
    """Divides the sums by N where each channel pools N·H·W values."""
    return _sbnb_direct(dout, cache, m_is_n=True)


def sbnb_dbeta_mean(dout, cache):
    return _sbnb_direct(dout, cache, dbeta_mean=True)


def sbnb_dgamma_per_pixel(dout, cache):
    """dgamma and dbeta summed over N only: shape (C, H, W)."""
    return _sbnb_direct(dout, cache, keep_pixels=True)


def sbnb_no_xhat_term(dout, cache):
    return _sbnb_direct(dout, cache, no_xhat_term=True)


def sbnb_mutates_dout(dout, cache):
    return _sbnb_direct(dout, cache, mutate=True)


def sbnb_ignores_mode(dout, cache):
    return _sbnb_direct(dout, cache, ignore_mode=True)


def sbnb_sums_everything(dout, cache):
    """dgamma and dbeta summed over every axis: scalars."""
    return _sbnb_direct(dout, cache, sum_all=True)


def sbnb_no_permute(dout, cache):
    """dout reshaped to (-1, C) without moving the channels last (the forward did move them)."""
    inner, shape = cache
    dx, dgamma, dbeta = alt_student(dout.reshape(-1, shape[1]), inner)
    return _from_rows(dx, shape), dgamma, dbeta


def sbnb_reshape_back(dout, cache):
    """dx of the rows reshaped straight to (N, C, H, W)."""
    inner, shape = cache
    dx, dgamma, dbeta = alt_student(_to_rows(dout), inner)
    return dx.reshape(shape), dgamma, dbeta


def sbn_module(x, gamma, beta, bn_param):
    bn = torch.nn.BatchNorm2d(x.shape[1], eps=bn_param.get("eps", 1e-5), momentum=bn_param.get("momentum", 0.1),
                              dtype=x.dtype)
    bn.weight.data, bn.bias.data = gamma.clone(), beta.clone()
    bn.train(bn_param["mode"] == "train")
    out = bn(x)
    bn_param["running_mean"], bn_param["running_var"] = bn.running_mean, bn.running_var
    return out, None


def sbnb_autograd(dout, cache):
    x = torch.randn_like(dout).requires_grad_(True)
    with torch.enable_grad():
        out = F.batch_norm(x, None, None, training=True)
        (dx,) = torch.autograd.grad(out, x, dout)
    return dx, dout.sum((0, 2, 3)), dout.sum((0, 2, 3))


# --- layernorm_forward / backward ------------------------------------------------------------------------


def _ln(x, gamma, beta, ln_param, *, over_batch=False, unbiased=False, eps_outside=False, fixed_eps=False,
        no_keepdim=False, inplace=False, cancel=False, no_beta=False, var_not_std=False):
    eps = 1e-5 if fixed_eps else (ln_param or {}).get("eps", 1e-5)
    dim = 0 if over_batch else 1
    if no_keepdim:
        mu = x.mean(dim=dim)
        var = x.var(dim=dim, unbiased=unbiased)
        xc = x - mu
        std = torch.sqrt(var + eps)
        xhat = xc / std
    else:
        mu = x.mean(dim=dim, keepdim=True)
        if cancel:
            var = (x * x).mean(dim=dim, keepdim=True) - mu ** 2
        else:
            var = x.var(dim=dim, keepdim=True, unbiased=unbiased)
        if inplace:
            x -= mu
            xc = x
        else:
            xc = x - mu
        std = (var + eps) if var_not_std else (var.sqrt() + eps if eps_outside else torch.sqrt(var + eps))
        xhat = xc / std
    out = gamma * xhat if no_beta else gamma * xhat + beta
    return out, (xhat, std, gamma)


def ln_student(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param)


def ln_over_batch(x, gamma, beta, ln_param):
    """Batch norm's axis (dim 0)."""
    return _ln(x, gamma, beta, ln_param, over_batch=True)


def ln_unbiased(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param, unbiased=True)


def ln_eps_outside(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param, eps_outside=True)


def ln_fixed_eps(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param, fixed_eps=True)


def ln_no_keepdim(x, gamma, beta, ln_param):
    """mean(dim=1) without keepdim: (N,) broadcasts along the features (or fails)."""
    return _ln(x, gamma, beta, ln_param, no_keepdim=True)


def ln_inplace(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param, inplace=True)


def ln_cancellation(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param, cancel=True)


def ln_no_beta(x, gamma, beta, ln_param):
    return _ln(x, gamma, beta, ln_param, no_beta=True)


def ln_var_not_std(x, gamma, beta, ln_param):
    """Divides by var + eps (no square root)."""
    return _ln(x, gamma, beta, ln_param, var_not_std=True)


def ln_transpose_bn(x, gamma, beta, ln_param):
    """Layer norm as batch norm of x.T (statistics per column of x.T), then gamma and beta per feature."""
    eps = ln_param.get("eps", 1e-5)
    xt = x.T
    mu = xt.mean(dim=0)
    var = ((xt - mu) ** 2).mean(dim=0)
    xhat = ((xt - mu) / torch.sqrt(var + eps)).T
    return gamma * xhat + beta, ("t", xhat, torch.sqrt(var + eps)[:, None], gamma)


def ln_var_mean(x, gamma, beta, ln_param):
    var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
    inv = torch.rsqrt(var + ln_param.get("eps", 1e-5))
    xhat = (x - mean) * inv
    return xhat * gamma + beta, {"xhat": xhat, "inv": inv, "gamma": gamma}


def _lnb(dout, cache, *, over_batch=False, dgamma_rows=False, no_d=False, no_xhat_term=False,
         no_mean_term=False, no_gamma=False, plus=False, mutate=False, no_eps=False):
    xhat, std, gamma = cache
    dim = 0 if over_batch else 1
    d = dout.shape[dim]
    if no_eps:
        xc = xhat * std
        std = (xc * xc).mean(dim=1, keepdim=True).sqrt()
    dbeta = dout.sum(dim=1) if dgamma_rows else dout.sum(dim=0)
    dgamma = (dout * xhat).sum(dim=1) if dgamma_rows else (dout * xhat).sum(dim=0)
    if mutate:
        dout *= gamma
        g = dout
    else:
        g = dout if no_gamma else dout * gamma
    k = 1 if no_d else d
    dx = g * (d if no_d else 1)
    if not no_mean_term:
        dx = dx - g.sum(dim=dim, keepdim=True) / (1 if no_d else k)
    if not no_xhat_term:
        t = xhat * (g * xhat).sum(dim=dim, keepdim=True) / (1 if no_d else k)
        dx = dx + t if plus else dx - t
    return dx / std, dgamma, dbeta


def lnb_student(dout, cache):
    return _lnb(dout, cache)


def lnb_batch_axes(dout, cache):
    """Batch norm's closed form unchanged: sums over dim 0."""
    return _lnb(dout, cache, over_batch=True)


def lnb_dgamma_per_sample(dout, cache):
    """dgamma and dbeta summed over the features: shape (N,)."""
    return _lnb(dout, cache, dgamma_rows=True)


def lnb_no_divide_by_d(dout, cache):
    return _lnb(dout, cache, no_d=True)


def lnb_no_xhat_term(dout, cache):
    return _lnb(dout, cache, no_xhat_term=True)


def lnb_no_mean_term(dout, cache):
    return _lnb(dout, cache, no_mean_term=True)


def lnb_no_gamma(dout, cache):
    return _lnb(dout, cache, no_gamma=True)


def lnb_sign(dout, cache):
    return _lnb(dout, cache, plus=True)


def lnb_mutates_dout(dout, cache):
    return _lnb(dout, cache, mutate=True)


def lnb_no_eps(dout, cache):
    return _lnb(dout, cache, no_eps=True)


def lnb_transpose(dout, cache):
    """Batch norm's closed form applied to the transposes."""
    _, xhat, std, gamma = cache
    g = (dout * gamma).T
    h = xhat.T
    d = g.shape[0]
    dx = (d * g - g.sum(0) - h * (g * h).sum(0)) / (d * std.T)
    return dx.T, (dout * xhat).sum(0), dout.sum(0)


def lnb_staged(dout, cache):
    """The staged graph per row: mean, centre, variance, inverse std."""
    xhat, inv, gamma = cache["xhat"], cache["inv"], cache["gamma"]
    d = dout.shape[1]
    xc = xhat / inv
    dxhat = dout * gamma
    dinv = (dxhat * xc).sum(1, keepdim=True)
    dxc = dxhat * inv
    dvar = dinv * (-0.5) * inv ** 3
    dxc = dxc + 2 * xc * dvar / d
    dx = dxc - dxc.mean(1, keepdim=True)
    return dx, (dout * xhat).sum(0), dout.sum(0)


def ln_F_layer_norm(x, gamma, beta, ln_param):
    return F.layer_norm(x, x.shape[1:], gamma, beta, ln_param.get("eps", 1e-5)), None


def lnb_autograd(dout, cache):
    """(For the reference's cache: x̂, 1/std, gamma.)"""
    xhat, inv, gamma = cache
    std = 1.0 / inv
    x = (xhat * std).detach().requires_grad_(True)
    with torch.enable_grad():
        out = gamma * (x - x.mean(1, keepdim=True)) / std
        (dx,) = torch.autograd.grad(out, x, dout)
    return dx, (dout * xhat).sum(0), dout.sum(0)


# --- the catalogue ------------------------------------------------------------------------------------

BUGGY = {
    "batchnorm_forward": [bn_unbiased_norm, bn_biased_running, bn_momentum_swapped, bn_ignores_mode, bn_eval_updates,
                          bn_no_write_back, bn_eps_outside, bn_fixed_eps, bn_per_sample, bn_inplace_x,
                          bn_cancellation, bn_resets_running],
    "batchnorm_backward": [(bn_student, f) for f in (bnb_no_mu_path, bnb_no_var_path, bnb_n_minus_1, bnb_dbeta_mean,
                                                     bnb_dgamma_uses_xc, bnb_dvar_sign, bnb_no_gamma,
                                                     bnb_mutates_dout, bnb_ignores_mode, bnb_no_eps)],
    "batchnorm_backward_alt": [(bn_student, f) for f in (alt_no_divide_by_n, alt_no_xhat_term, alt_no_mean_term,
                                                         alt_sign, alt_var_not_std, alt_n_minus_1, alt_no_gamma,
                                                         alt_ignores_mode, alt_keepdim, alt_dgamma_uses_xc)],
    "spatial_batchnorm_forward": [sbn_reshape_no_permute, sbn_no_permute_back, sbn_per_instance,
                                  sbn_unbiased_n_minus_1, sbn_keepdim_running, sbn_ignores_mode, sbn_inplace,
                                  sbn_global_variance, sbn_eps_outside, sbn_momentum_swapped],
    "spatial_batchnorm_backward": [(sbn_direct, sbnb_batch_only_count), (sbn_direct, sbnb_dbeta_mean),
                                   (sbn_direct, sbnb_dgamma_per_pixel), (sbn_direct, sbnb_no_xhat_term),
                                   (sbn_direct, sbnb_mutates_dout), (sbn_direct, sbnb_ignores_mode),
                                   (sbn_direct, sbnb_sums_everything), (sbn_permute, sbnb_no_permute),
                                   (sbn_permute, sbnb_reshape_back)],
    "layernorm_forward": [ln_over_batch, ln_unbiased, ln_eps_outside, ln_fixed_eps, ln_no_keepdim, ln_inplace,
                          ln_cancellation, ln_no_beta, ln_var_not_std],
    "layernorm_backward": [(ln_student, f) for f in (lnb_batch_axes, lnb_dgamma_per_sample, lnb_no_divide_by_d,
                                                     lnb_no_xhat_term, lnb_no_mean_term, lnb_no_gamma, lnb_sign,
                                                     lnb_mutates_dout, lnb_no_eps)],
}

CORRECT = {
    "batchnorm_forward": [R.batchnorm_forward, bn_student, bn_var_mean, bn_loop_features],
    "batchnorm_backward": [(R.batchnorm_forward, R.batchnorm_backward), (bn_student, bnb_staged),
                           (bn_student, bnb_cs231n_names), (bn_var_mean, bnb_jacobian)],
    "batchnorm_backward_alt": [(R.batchnorm_forward, R.batchnorm_backward_alt), (bn_student, alt_student),
                               (bn_student, alt_g_form), (bn_var_mean, alt_einsum)],
    "spatial_batchnorm_forward": [R.spatial_batchnorm_forward, sbn_permute, sbn_direct, sbn_movedim],
    "spatial_batchnorm_backward": [(R.spatial_batchnorm_forward, R.spatial_batchnorm_backward),
                                   (sbn_permute, sbnb_permute), (sbn_direct, sbnb_direct),
                                   (sbn_movedim, sbnb_movedim)],
    "layernorm_forward": [R.layernorm_forward, ln_student, ln_transpose_bn, ln_var_mean],
    "layernorm_backward": [(R.layernorm_forward, R.layernorm_backward), (ln_student, lnb_student),
                           (ln_transpose_bn, lnb_transpose), (ln_var_mean, lnb_staged)],
}

CHEATS = {  # (function, version, the call the report must name)
    "batchnorm_forward": [(bn_F_batch_norm, "torch.nn.functional.batch_norm"),
                          (bn_answer_key, "labkit.reference.batchnorm_forward")],
    "batchnorm_backward": [(bnb_autograd, "torch.autograd.grad"),
                           (bnb_answer_key, "labkit.reference.batchnorm_backward")],
    "batchnorm_backward_alt": [(bnb_autograd, "torch.autograd.grad")],
    "spatial_batchnorm_forward": [(sbn_module, "torch.nn.functional.batch_norm")],
    "spatial_batchnorm_backward": [(sbnb_autograd, "torch.autograd.grad")],
    "layernorm_forward": [(ln_F_layer_norm, "torch.nn.functional.layer_norm")],
    "layernorm_backward": [(lnb_autograd, "torch.autograd.grad")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("batchnorm_forward", bn_unbiased_norm, "unbiased (N - 1) batch variance"),
    ("batchnorm_forward", bn_biased_running, "updated with the biased batch variance"),
    ("batchnorm_forward", bn_momentum_swapped, "weight of 1 - momentum"),
    ("batchnorm_forward", bn_ignores_mode, "eval mode uses the running ones"),
    ("batchnorm_forward", bn_eval_updates, "changed in eval mode"),
    ("batchnorm_forward", bn_no_write_back, "missing after the call"),
    ("batchnorm_forward", bn_eps_outside, "where does eps enter"),
    ("batchnorm_forward", bn_per_sample, "normalised per sample"),
    ("batchnorm_forward", bn_inplace_x, "in place"),
    ("batchnorm_forward", bn_cancellation, "cancels catastrophically"),
    ("batchnorm_forward", bn_resets_running, "start again from their defaults"),
    ("batchnorm_backward", (bn_student, bnb_no_mu_path), "through the batch mean"),
    ("batchnorm_backward", (bn_student, bnb_no_var_path), "through the batch variance"),
    ("batchnorm_backward", (bn_student, bnb_n_minus_1), "N - 1"),
    ("batchnorm_backward", (bn_student, bnb_dbeta_mean), "N (the batch size) times too small"),
    ("batchnorm_backward", (bn_student, bnb_ignores_mode), "eval mode"),
    ("batchnorm_backward", (bn_student, bnb_mutates_dout), "in place"),
    ("batchnorm_backward_alt", (bn_student, alt_no_divide_by_n), "N (the batch size) times too large"),
    ("batchnorm_backward_alt", (bn_student, alt_no_xhat_term), "through the batch variance"),
    ("batchnorm_backward_alt", (bn_student, alt_no_mean_term), "through the batch mean"),
    ("batchnorm_backward_alt", (bn_student, alt_keepdim), "dgamma has shape"),
    ("batchnorm_backward_alt", (bn_student, alt_dgamma_uses_xc), "gamma multiplies the normalised x"),
    ("spatial_batchnorm_forward", sbn_per_instance, "per (sample, channel)"),
    ("spatial_batchnorm_forward", sbn_reshape_no_permute, "does not move the channels"),
    ("spatial_batchnorm_forward", sbn_unbiased_n_minus_1, "pools N·H·W values"),
    ("spatial_batchnorm_forward", sbn_keepdim_running, "running_mean has shape"),
    ("spatial_batchnorm_forward", sbn_momentum_swapped, "weight of 1 - momentum"),
    ("spatial_batchnorm_backward", (sbn_direct, sbnb_dgamma_per_pixel), "dgamma has shape"),
    ("spatial_batchnorm_backward", (sbn_direct, sbnb_ignores_mode), "eval mode"),
    ("layernorm_forward", ln_over_batch, "normalised over the batch"),
    ("layernorm_forward", ln_unbiased, "unbiased (D - 1)"),
    ("layernorm_forward", ln_cancellation, "cancels catastrophically"),
    ("layernorm_backward", (ln_student, lnb_batch_axes), "batch norm's axes"),
    ("layernorm_backward", (ln_student, lnb_no_mean_term), "through the sample's mean"),
    ("layernorm_backward", (ln_student, lnb_dgamma_per_sample), "dgamma has shape"),
]
