"""Section 00: realistic buggy student versions (each must lose points) and correct versions written
differently from the reference (each must keep full marks)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

import labkit.reference as R

# --- numerical_gradient -------------------------------------------------------------------------


def ng_one_sided(f, x, h=1e-5):
    g = torch.zeros_like(x)
    fx = float(f(x))
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + h
        g.view(-1)[i] = (float(f(x)) - fx) / h
        x.view(-1)[i] = old
    return g


def ng_divides_by_h(f, x, h=1e-5):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + h
        fp = float(f(x))
        x.view(-1)[i] = old - h
        fm = float(f(x))
        x.view(-1)[i] = old
        g.view(-1)[i] = (fp - fm) / h
    return g


def ng_no_restore(f, x, h=1e-5):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + h
        fp = float(f(x))
        x.view(-1)[i] = old - h
        fm = float(f(x))
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_all_at_once(f, x, h=1e-5):
    return torch.full_like(x, (float(f(x + h)) - float(f(x - h))) / (2 * h))


def ng_flat(f, x, h=1e-5):
    return R.numerical_gradient(f, x, h).reshape(-1)


def ng_fixed_h(f, x, h=1e-5):
    return R.numerical_gradient(f, x, 1e-5)


def ng_float64_result(f, x, h=1e-5):
    return R.numerical_gradient(f, x.double(), h)


def ng_alt_clone_per_entry(f, x, h=1e-5):
    flat = x.reshape(-1)
    out = []
    for i in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[i] = h
        out.append((f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * h))
    return torch.stack([torch.as_tensor(v, dtype=x.dtype) for v in out]).reshape(x.shape)


# --- numerical_gradient_array -------------------------------------------------------------------


def nga_ignores_dout(f, x, dout, h=1e-5):
    return R.numerical_gradient(lambda z: f(z).sum(), x, h)


def nga_one_sided(f, x, dout, h=1e-5):
    base = (f(x) * dout).sum()
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        z = x.clone()
        z.view(-1)[i] += h
        g.view(-1)[i] = ((f(z) * dout).sum() - base) / h
    return g


def nga_no_restore(f, x, dout, h=1e-5):
    return ng_no_restore(lambda z: (f(z) * dout).sum(), x, h)


def nga_alt(f, x, dout, h=1e-5):
    g = torch.empty_like(x)
    for idx in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[idx] += h
        minus.view(-1)[idx] -= h
        g.view(-1)[idx] = torch.sum((f(plus) - f(minus)) * dout) / (2 * h)
    return g


# --- rel_error ----------------------------------------------------------------------------------


def re_mean(a, b):
    return float(((a - b).abs() / torch.maximum(a.abs(), b.abs())).mean())


def re_cs231n_sum(a, b):
    return float(((a - b).abs() / torch.clamp(a.abs() + b.abs(), min=1e-8)).max())


def re_nan_on_zeros(a, b):
    return float(((a - b).abs() / torch.maximum(a.abs(), b.abs())).max())


def re_returns_tensor(a, b):
    return R.rel_error(a, b) * torch.ones(())


def re_denominator_a_only(a, b):
    num, den = (a - b).abs(), a.abs()
    return float(torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(den)).max())


def re_alt_numpy(a, b):
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    den = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den == 0, 0.0, np.abs(a - b) / np.where(den == 0, 1, den))
    return float(r.max()) if r.size else 0.0


# --- affine -------------------------------------------------------------------------------------


def af_no_transpose(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def af_no_reshape(x, w, b):
    return x @ w.T + b, (x, w, b)


def af_no_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w.T, (x, w, b)


def af_inplace(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    x2.mul_(1.0)
    x2 += 0.0
    out = x2 @ w.T
    out += b
    x.zero_()
    return out, (x, w, b)


def af_float64(x, w, b):
    return (x.reshape(x.shape[0], -1).double() @ w.double().T + b.double()), (x, w, b)


def af_alt_einsum(x, w, b):
    return torch.einsum("nd,md->nm", x.flatten(1), w) + b[None, :], (x.flatten(1), x.shape, w)


def af_alt_linear(x, w, b):
    return F.linear(x.view(len(x), -1), w, b), {"x": x, "w": w, "b": b}


def ab_dw_transposed(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w).reshape(x.shape), x2.T @ dout, dout.sum(0)


def ab_db_wrong_axis(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w).reshape(x.shape), dout.T @ x2, dout.sum(1)


def ab_dx_not_reshaped(dout, cache):
    x, w, b = cache
    return dout @ w, dout.T @ x.reshape(x.shape[0], -1), dout.sum(0)


def ab_db_mean(dout, cache):
    x, w, b = cache
    return (dout @ w).reshape(x.shape), dout.T @ x.reshape(x.shape[0], -1), dout.mean(0)


def ab_dw_scaled(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    return (dout @ w).reshape(x.shape), dout.T @ x.reshape(n, -1) / n, dout.sum(0)


def ab_alt_einsum(dout, cache):
    x2, shape, w = cache
    return torch.einsum("nm,md->nd", dout, w).reshape(shape), torch.einsum("nm,nd->md", dout, x2), dout.sum(0)


def ab_alt_dict(dout, cache):
    x, w = cache["x"], cache["w"]
    return (dout.matmul(w)).view(x.shape), dout.t().matmul(x.view(len(x), -1)), torch.ones(len(x), dtype=dout.dtype) @ dout


# --- losses -------------------------------------------------------------------------------------


def mse_sum(pred, target):
    d = pred - target
    return (d ** 2).sum(), 2 * d


def mse_no_two(pred, target):
    d = pred - target
    return (d ** 2).mean(), d / d.numel()


def mse_batch_mean(pred, target):
    d = pred - target
    return (d ** 2).sum() / d.shape[0], 2 * d / d.shape[0]


def mse_alt(pred, target):
    loss = F.mse_loss(pred, target)
    return loss, (pred - target) * (2.0 / pred.numel())


def l1_sign_at_zero(pred, target):
    d = pred - target
    return d.abs().mean(), ((d > 0).to(d.dtype) * 2 - 1) / d.numel()


def l1_sum(pred, target):
    d = pred - target
    return d.abs().sum(), torch.sign(d)


def l1_alt(pred, target):
    d = pred - target
    g = torch.where(d > 0, 1.0, torch.where(d < 0, -1.0, 0.0)).to(d.dtype)
    return torch.mean(torch.abs(d)), g / d.numel()


def ce_no_shift(scores, y):
    n, c = scores.shape
    p = torch.exp(scores) / torch.exp(scores).sum(1, keepdim=True)
    t = F.one_hot(y, c).to(scores.dtype) if y.dim() == 1 else y
    return -(t * torch.log(p)).sum() / n, (p - t) / n


def ce_no_mean(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return loss * scores.shape[0], d * scores.shape[0]


def ce_grad_no_mean(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return loss, d * scores.shape[0]


def ce_hard_only(scores, y):
    n = scores.shape[0]
    logp = scores - torch.logsumexp(scores, 1, keepdim=True)
    d = logp.exp()
    d[torch.arange(n), y] -= 1
    return -logp[torch.arange(n), y].mean(), d / n


def ce_grad_sign(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return loss, -d


def ce_log_of_softmax(scores, y):
    n, c = scores.shape
    shifted = scores - scores.max(1, keepdim=True).values
    p = shifted.exp() / shifted.exp().sum(1, keepdim=True)
    t = F.one_hot(y, c).to(scores.dtype) if y.dim() == 1 else y
    return -(t * torch.log(p)).sum() / n, (p - t) / n


def ce_alt_logsumexp(scores, y):
    n, c = scores.shape
    target = y.to(scores.dtype) if y.dim() == 2 else torch.zeros_like(scores).scatter_(1, y[:, None], 1.0)
    logp = scores - torch.logsumexp(scores, dim=1, keepdim=True)
    return -(target * logp).sum() / n, (torch.softmax(scores, 1) * target.sum(1, keepdim=True) - target) / n


def bce_naive(s, y):
    p = torch.sigmoid(s)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), (p - y) / s.numel()


def bce_sum(s, y):
    loss, d = R.binary_cross_entropy_with_logits(s, y)
    return loss * s.numel(), d * s.numel()


def bce_grad_sign(s, y):
    loss, d = R.binary_cross_entropy_with_logits(s, y)
    return loss, (y - torch.sigmoid(s)) / s.numel()


def bce_alt_softplus(s, y):
    return (F.softplus(-s) * y + F.softplus(s) * (1 - y)).mean(), (torch.sigmoid(s) - y) / s.numel()


def hinge_counts_correct(scores, y, margin=1.0):
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    active = (m > 0).to(scores.dtype)
    d = active.clone()
    d.scatter_(1, y[:, None], -(active.sum(1, keepdim=True) - 1))
    return m.sum() / n, d / n


def hinge_divides_by_c(scores, y, margin=1.0):
    loss, d = R.multiclass_hinge_loss(scores, y, margin)
    return loss / scores.shape[1], d / scores.shape[1]


def hinge_fixed_margin(scores, y, margin=1.0):
    return R.multiclass_hinge_loss(scores, y, 1.0)


def hinge_no_correct_grad(scores, y, margin=1.0):
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    m.scatter_(1, y[:, None], 0.0)
    return m.sum() / n, (m > 0).to(scores.dtype) / n


def hinge_alt_loop_free(scores, y, margin=1.0):
    n, c = scores.shape
    rows = torch.arange(n)
    diff = scores - scores[rows, y].unsqueeze(1) + margin
    mask = (diff > 0) & (torch.arange(c)[None, :] != y[:, None])
    loss = torch.where(mask, diff, torch.zeros_like(diff)).sum() / n
    d = mask.to(scores.dtype)
    d[rows, y] = -mask.sum(1).to(scores.dtype)
    return loss, d / n


# --- the catalogue ------------------------------------------------------------------------------

BUGGY = {
    "numerical_gradient": [ng_one_sided, ng_divides_by_h, ng_no_restore, ng_all_at_once, ng_flat, ng_fixed_h,
                           ng_float64_result],
    "numerical_gradient_array": [nga_ignores_dout, nga_one_sided, nga_no_restore],
    "rel_error": [re_mean, re_cs231n_sum, re_nan_on_zeros, re_returns_tensor, re_denominator_a_only],
    "affine_forward": [af_no_transpose, af_no_reshape, af_no_bias, af_inplace, af_float64],
    "affine_backward": [ab_dw_transposed, ab_db_wrong_axis, ab_dx_not_reshaped, ab_db_mean, ab_dw_scaled],
    "mse_loss": [mse_sum, mse_no_two, mse_batch_mean],
    "l1_loss": [l1_sign_at_zero, l1_sum],
    "softmax_cross_entropy": [ce_no_shift, ce_no_mean, ce_grad_no_mean, ce_hard_only, ce_grad_sign,
                              ce_log_of_softmax],
    "binary_cross_entropy_with_logits": [bce_naive, bce_sum, bce_grad_sign],
    "multiclass_hinge_loss": [hinge_counts_correct, hinge_divides_by_c, hinge_fixed_margin,
                              hinge_no_correct_grad],
}

CORRECT = {
    "numerical_gradient": [R.numerical_gradient, ng_alt_clone_per_entry],
    "numerical_gradient_array": [R.numerical_gradient_array, nga_alt],
    "rel_error": [R.rel_error, re_alt_numpy],
    "affine_forward": [R.affine_forward, af_alt_einsum, af_alt_linear],
    "affine_backward": [(R.affine_forward, R.affine_backward), (af_alt_einsum, ab_alt_einsum),
                        (af_alt_linear, ab_alt_dict)],
    "mse_loss": [R.mse_loss, mse_alt],
    "l1_loss": [R.l1_loss, l1_alt],
    "softmax_cross_entropy": [R.softmax_cross_entropy, ce_alt_logsumexp],
    "binary_cross_entropy_with_logits": [R.binary_cross_entropy_with_logits, bce_alt_softplus],
    "multiclass_hinge_loss": [R.multiclass_hinge_loss, hinge_alt_loop_free],
}


def callables(function: str, impl):
    """The arguments a check takes: (forward, backward) for affine_backward, else the one function."""
    if function == "affine_backward" and not isinstance(impl, tuple):
        return (R.affine_forward, impl)
    return impl if isinstance(impl, tuple) else (impl,)
