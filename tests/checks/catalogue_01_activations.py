"""Notebook 01: realistic buggy student versions of the activations (each must lose points), correct versions
written differently from the reference (each must keep full marks) and cheats (the matching built-in,
autograd, the answer key: each must score 0 with the call named). A backward alone is paired with the
reference forward (whose cache it must then read: sigmoid and tanh cache ``out``, relu ``x``, leaky ReLU
``(x, negative_slope)``, ELU ``(x, neg, alpha)``, PReLU ``(x, alpha)``, maxout ``(x, w, first)``); a pair
``(forward, backward)`` brings its own cache."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .answer_key import RAW as R

# --- sigmoid ------------------------------------------------------------------------------------


def sig_sign(x):
    out = 1 / (1 + torch.exp(x))
    return out, out


def sig_exp_ratio(x):
    """Overflows: inf / inf for large x."""
    e = torch.exp(x)
    out = e / (1 + e)
    return out, out


def sig_clipped(x):
    """Clips the input 'for stability': wrong beyond |x| = 10."""
    out = 1 / (1 + torch.exp(-x.clamp(-10, 10)))
    return out, out


def sig_inplace(x):
    out = x.neg_().exp_().add_(1).reciprocal_()
    return out, out


def sig_numpy(x):
    out = 1 / (1 + np.exp(-x.numpy()))
    return out, out


def sig_no_cache(x):
    return 1 / (1 + torch.exp(-x))


def sig_float32(x):
    out = 1 / (1 + torch.exp(-x.float()))
    return out, out


def sig_math_exp(x):
    out = 1 / (1 + math.exp(-x))
    return out, out


def sig_tanh_identity_wrong(x):
    """Half of the identity: the argument of tanh is x, not x/2."""
    out = 0.5 * (1 + torch.tanh(x))
    return out, out


def sig_alt_tanh(x):
    out = 0.5 * (1 + torch.tanh(0.5 * x))
    return out, out


def sig_alt_stable_where(x):
    e = torch.exp(-x.abs())  # never overflows
    out = torch.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return out, x


def sig_alt_logaddexp(x):
    out = torch.exp(-torch.logaddexp(torch.zeros_like(x), -x))
    return out, out


def sig_cheat_builtin(x):
    out = torch.sigmoid(x)
    return out, out


def sig_cheat_expit(x):
    out = torch.special.expit(x)
    return out, out


def sb_ignores_dout(dout, out):
    return out * (1 - out)


def sb_sigmoid_twice(dout, out):
    """Reads the cache as x and applies the sigmoid again."""
    s = 1 / (1 + torch.exp(-out))
    return dout * s * (1 - s)


def sb_tanh_formula(dout, out):
    return dout * (1 - out ** 2)


def _sig_fwd_x(x):
    return 1 / (1 + torch.exp(-x)), x


def sb_no_square(dout, x):
    e = torch.exp(-x)
    return dout * e / (1 + e)


def sb_overflow(dout, x):
    e = torch.exp(-x)
    return dout * e / (1 + e) ** 2


def sb_sign(dout, out):
    return dout * out * (out - 1)


def sb_inplace_dout(dout, out):
    dout *= out * (1 - out)
    return dout


def sb_float32(dout, out):
    return (dout * out * (1 - out)).float()


def sb_just_out(dout, out):
    return dout * out


def sb_alt_from_x(dout, x):
    s = 0.5 * (1 + torch.tanh(0.5 * x))
    return dout * s * (1 - s)


def sb_alt_expanded(dout, out):
    return dout * (out - out * out)


def sb_alt_stable_exp(dout, x):
    e = torch.exp(-x.abs())
    return dout * e / (1 + e) ** 2


def sb_cheat_autograd(dout, out):
    x = torch.logit(out).requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(torch.sigmoid(x), x, dout)
    return g


# --- tanh ---------------------------------------------------------------------------------------


def th_exp_formula(x):
    out = (torch.exp(x) - torch.exp(-x)) / (torch.exp(x) + torch.exp(-x))
    return out, out


def th_sigmoid_identity_wrong(x):
    out = 2 / (1 + torch.exp(-x)) - 1
    return out, out


def th_sign(x):
    e = torch.exp(-2 * x.abs())
    out = torch.sign(x) * (e - 1) / (1 + e)
    return out, out


def th_inplace(x):
    x *= -2
    out = 2 / (1 + torch.exp(x)) - 1
    return out, out


def th_numpy(x):
    out = np.tanh(x.numpy())
    return out, out


def th_no_cache(x):
    return 2 / (1 + torch.exp(-2 * x)) - 1


def th_float32(x):
    out = torch.zeros(x.shape)
    out[...] = 2 / (1 + torch.exp(-2 * x)) - 1
    return out, out


def th_hardtanh(x):
    """Confuses tanh with its piecewise-linear cousin."""
    out = x.clamp(-1, 1)
    return out, out


def th_sigmoid_of_2x(x):
    out = 1 / (1 + torch.exp(-2 * x))
    return out, out


def th_alt_two_sigmoid(x):
    out = 2 / (1 + torch.exp(-2 * x)) - 1
    return out, out


def th_alt_symmetric(x):
    e = torch.exp(-2 * x.abs())
    out = torch.sign(x) * (1 - e) / (1 + e)
    return out, x


def th_alt_expm1(x):
    t = torch.expm1(-2 * x.abs())
    out = -torch.sign(x) * t / (2 + t)
    return out, out


def th_alt_loop(x):
    flat = x.reshape(-1)
    out = torch.empty_like(flat)
    for i in range(flat.numel()):
        v = float(flat[i])
        e = math.exp(-2 * abs(v))
        out[i] = math.copysign((1 - e) / (1 + e), v)
    out = out.reshape(x.shape)
    return out, out


def th_cheat_builtin(x):
    out = torch.tanh(x)
    return out, out


def th_cheat_method(x):
    out = x.tanh()
    return out, out


def tb_ignores_dout(dout, out):
    return 1 - out ** 2


def tb_sigmoid_formula(dout, out):
    return dout * out * (1 - out)


def tb_no_square(dout, out):
    return dout * (1 - out)


def tb_sign(dout, out):
    return dout * (out ** 2 - 1)


def _th_fwd_x(x):
    return 2 / (1 + torch.exp(-2 * x)) - 1, x


def tb_cache_is_x(dout, x):
    """The forward caches x, the backward treats it as tanh(x)."""
    return dout * (1 - x ** 2)


def tb_tanh_twice(dout, out):
    t = 2 / (1 + torch.exp(-2 * out)) - 1
    return dout * (1 - t ** 2)


def tb_inplace_dout(dout, out):
    dout.mul_(1 - out * out)
    return dout


def tb_float32(dout, out):
    return dout.float() * (1 - out.float() ** 2)


def tb_square_of_difference(dout, out):
    return dout * (1 - out) ** 2


def tb_alt_factored(dout, out):
    return dout * (1 - out) * (1 + out)


def tb_alt_from_x(dout, x):
    t = 2 / (1 + torch.exp(-2 * x)) - 1
    return dout * (1 - t * t)


def tb_alt_cosh(dout, x):
    e = torch.exp(-2 * x.abs())
    return dout * 4 * e / (1 + e) ** 2


def tb_cheat_autograd(dout, out):
    x = torch.atanh(out).requires_grad_(True)
    with torch.enable_grad():
        y = torch.tanh(x)
        y.backward(dout)
    return x.grad


# --- relu ---------------------------------------------------------------------------------------


def relu_max_dim(x):
    out = torch.max(x, 0)[0]
    return out, x


def relu_inplace(x):
    x[x < 0] = 0
    return x, x


def relu_wrong_clamp(x):
    return x.clamp(max=0), x


def relu_no_half(x):
    return x + x.abs(), x


def relu_python_max(x):
    return max(0, x), x


def relu_no_cache(x):
    return x.clamp(min=0)


def relu_numpy(x):
    return np.maximum(x.numpy(), 0), x


def relu6(x):
    """ReLU6, the mobile-network variant, by mistake."""
    return x.clamp(0, 6), x


def relu_float32_buffer(x):
    out = torch.zeros(x.shape)
    out[x > 0] = x[x > 0].float()
    return out, x


def relu_alt_mask(x):
    return x * (x > 0), x


def relu_alt_where(x):
    return torch.where(x > 0, x, torch.zeros_like(x)), x


def relu_alt_abs(x):
    return (x + x.abs()) / 2, x > 0


def relu_alt_maximum(x):
    return torch.maximum(x, x.new_zeros(())), x


def relu_cheat_builtin(x):
    return torch.relu(x), x


def relu_cheat_functional(x):
    return F.relu(x), x


def rb_ge_zero(dout, x):
    return dout * (x >= 0)


def rb_ignores_dout(dout, x):
    return (x > 0).to(x.dtype)


def rb_mask_from_dout(dout, x):
    return dout * (dout > 0)


def rb_inplace(dout, x):
    dout[x <= 0] = 0
    return dout


def rb_relu_of_dout(dout, x):
    return dout.clamp(min=0)


def rb_float32_buffer(dout, x):
    dx = torch.zeros(dout.shape)
    dx[x > 0] = dout[x > 0].float()
    return dx


def rb_inverted(dout, x):
    return dout * (x < 0)


def rb_times_x(dout, x):
    """Multiplies by the forward's value instead of its derivative."""
    return dout * x.clamp(min=0)


def rb_numpy(dout, x):
    return dout.numpy() * (x.numpy() > 0)


def _relu_fwd_out(x):
    out = x.clamp(min=0)
    return out, out


def rb_alt_from_out(dout, out):
    return torch.where(out > 0, dout, torch.zeros_like(dout))


def rb_alt_sign(dout, x):
    return dout * torch.sign(x).clamp(min=0)


def _relu_fwd_mask(x):
    return x.clamp(min=0), x > 0


def rb_alt_mask_cache(dout, mask):
    dx = dout.clone()
    dx[~mask] = 0
    return dx


def rb_cheat_autograd(dout, x):
    z = x.clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(z.clamp(min=0), z, dout)
    return g


# --- leaky relu ---------------------------------------------------------------------------------


def lr_fixed_slope(x, negative_slope=0.01):
    return torch.where(x > 0, x, 0.01 * x), (x, negative_slope)


def lr_max_form(x, negative_slope=0.01):
    return torch.maximum(x, negative_slope * x), (x, negative_slope)


def lr_slope_on_positives(x, negative_slope=0.01):
    return torch.where(x > 0, negative_slope * x, x), (x, negative_slope)


def lr_adds_everywhere(x, negative_slope=0.01):
    return x.clamp(min=0) + negative_slope * x, (x, negative_slope)


def lr_inplace(x, negative_slope=0.01):
    x[x < 0] *= negative_slope
    return x, (x, negative_slope)


def lr_alpha_keyword(x, alpha=0.01):
    return torch.where(x > 0, x, alpha * x), (x, alpha)


def lr_float32(x, negative_slope=0.01):
    out = torch.zeros(x.shape)
    out[...] = torch.where(x > 0, x, negative_slope * x)
    return out, (x, negative_slope)


def lr_constant_branch(x, negative_slope=0.01):
    return torch.where(x > 0, x, negative_slope * torch.ones_like(x)), (x, negative_slope)


def lr_default_tenth(x, negative_slope=0.1):
    """The slope drawn on a slide (0.1) as default; the API's is 0.01."""
    return torch.where(x > 0, x, negative_slope * x), (x, negative_slope)


def lr_alt_arithmetic(x, negative_slope=0.01):
    return x.clamp(min=0) + negative_slope * x.clamp(max=0), (x, negative_slope)


def lr_alt_mask(x, negative_slope=0.01):
    pos = (x > 0).to(x.dtype)
    return x * (pos + negative_slope * (1 - pos)), (x, negative_slope)


def lr_alt_clone(x, negative_slope=0.01):
    out = x.clone()
    out[x <= 0] = out[x <= 0] * negative_slope
    return out, {"x": x, "slope": negative_slope}


def lr_cheat_builtin(x, negative_slope=0.01):
    return F.leaky_relu(x, negative_slope), (x, negative_slope)


def _lr_fwd_x_only(x, negative_slope=0.01):
    return torch.where(x > 0, x, negative_slope * x), x


def lb_fixed_slope(dout, x):
    """The cache forgot the slope, so the backward assumes the default."""
    return dout * torch.where(x > 0, torch.ones_like(x), torch.full_like(x, 0.01))


def lb_relu_backward(dout, cache):
    x, slope = cache
    return dout * (x > 0)


def lb_ge_zero(dout, cache):
    x, slope = cache
    return dout * torch.where(x >= 0, torch.ones_like(x), torch.full_like(x, slope))


def lb_ignores_dout(dout, cache):
    x, slope = cache
    return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, slope))


def lb_slope_on_positives(dout, cache):
    x, slope = cache
    return dout * torch.where(x > 0, torch.full_like(x, slope), torch.ones_like(x))


def lb_inplace(dout, cache):
    x, slope = cache
    dout[x <= 0] *= slope
    return dout


def lb_float32(dout, cache):
    x, slope = cache
    dx = torch.zeros(dout.shape)
    dx[...] = dout * torch.where(x > 0, torch.ones_like(x), torch.full_like(x, slope))
    return dx


def lb_value_not_slope(dout, cache):
    """Uses the forward's value on the negative side instead of its derivative."""
    x, slope = cache
    return torch.where(x > 0, dout, slope * x * dout)


def lb_alt_arith(dout, cache):
    x, slope = cache
    pos = (x > 0).to(dout.dtype)
    return dout * (pos + slope * (1 - pos))


def lb_alt_clone(dout, cache):
    x, slope = cache
    dx = dout.clone()
    dx[x <= 0] = dx[x <= 0] * slope
    return dx


def lb_alt_dict(dout, cache):
    return torch.where(cache["x"] > 0, dout, cache["slope"] * dout)


def lb_cheat_autograd(dout, cache):
    x, slope = cache
    z = x.clone().requires_grad_(True)
    with torch.enable_grad():
        out = torch.where(z > 0, z, slope * z)
        out.backward(dout)
    return z.grad


# --- elu ----------------------------------------------------------------------------------------


def elu_no_minus_one(x, alpha=1.0):
    return torch.where(x > 0, x, alpha * torch.exp(x)), (x, alpha)


def elu_masks_multiply(x, alpha=1.0):
    """inf * 0 = NaN for large positive x."""
    return x * (x > 0) + alpha * (torch.exp(x) - 1) * (x <= 0), (x, alpha)


def elu_swapped(x, alpha=1.0):
    return torch.where(x < 0, x, alpha * (torch.exp(x) - 1)), (x, alpha)


def elu_inplace(x, alpha=1.0):
    neg = x < 0
    x[neg] = alpha * (torch.exp(x[neg]) - 1)
    return x, (x, alpha)


def elu_float32(x, alpha=1.0):
    out = torch.zeros(x.shape)
    out[...] = torch.where(x > 0, x, alpha * torch.expm1(x.clamp(max=0)))
    return out, (x, alpha)


def elu_a_keyword(x, a=1.0):
    return torch.where(x > 0, x, a * torch.expm1(x.clamp(max=0))), (x, a)


def elu_exp_everywhere(x, alpha=1.0):
    """Adds the exponential part without restricting it to x < 0."""
    return x.clamp(min=0) + alpha * torch.expm1(x.clamp(max=50)), (x, alpha)


def elu_fixed_alpha(x, alpha=1.0):
    return torch.where(x > 0, x, torch.expm1(x.clamp(max=0))), (x, alpha)


def elu_alt_where(x, alpha=1.0):
    return torch.where(x > 0, x, alpha * (torch.exp(x) - 1)), (x, alpha)


def elu_alt_clamps(x, alpha=1.0):
    return x.clamp(min=0) + alpha * (torch.exp(x.clamp(max=0)) - 1), (x, alpha)


def elu_alt_mask_assign(x, alpha=1.0):
    out = x.clone()
    neg = x <= 0
    out[neg] = alpha * torch.expm1(x[neg])
    return out, (x, out, alpha)


def elu_cheat_builtin(x, alpha=1.0):
    return F.elu(x, alpha), (x, alpha)


def _elu_fwd_simple(x, alpha=1.0):
    return torch.where(x > 0, x, alpha * torch.expm1(x.clamp(max=0))), (x, alpha)


def eb_value_not_slope(dout, cache):
    x, alpha = cache
    return torch.where(x > 0, dout, alpha * torch.expm1(x.clamp(max=0)) * dout)


def eb_no_alpha(dout, cache):
    x, alpha = cache
    return torch.where(x > 0, dout, torch.exp(x.clamp(max=0)) * dout)


def eb_out_plus_alpha_everywhere(dout, cache):
    x, neg, alpha = cache
    out = x.clamp(min=0) + neg
    return dout * (out + alpha)


def eb_ge_zero(dout, cache):
    x, alpha = cache
    return torch.where(x >= 0, dout, alpha * torch.exp(x.clamp(max=0)) * dout)


def eb_ignores_dout(dout, cache):
    x, alpha = cache
    return torch.where(x > 0, torch.ones_like(x), alpha * torch.exp(x.clamp(max=0)))


def eb_relu_slope(dout, cache):
    x, alpha = cache
    return dout * (x > 0)


def eb_inplace(dout, cache):
    x, alpha = cache
    neg = x <= 0
    dout[neg] *= alpha * torch.exp(x[neg])
    return dout


def eb_float32(dout, cache):
    x, alpha = cache
    return torch.where(x > 0, dout, alpha * torch.exp(x.clamp(max=0)) * dout).float()


def eb_masks_multiply(dout, cache):
    """inf * 0 = NaN for large positive x."""
    x, alpha = cache
    return dout * ((x > 0) + alpha * torch.exp(x) * (x <= 0))


def eb_alt_where(dout, cache):
    x, alpha = cache
    return torch.where(x > 0, dout, alpha * torch.exp(x.clamp(max=0)) * dout)


def _elu_fwd_out(x, alpha=1.0):
    out = torch.where(x > 0, x, alpha * torch.expm1(x.clamp(max=0)))
    return out, (x, out, alpha)


def eb_alt_from_out(dout, cache):
    x, out, alpha = cache
    return torch.where(x > 0, dout, (out + alpha) * dout)


def eb_alt_mask_assign(dout, cache):
    x, out, alpha = cache
    dx = dout.clone()
    neg = x <= 0
    dx[neg] = dx[neg] * alpha * torch.exp(x[neg])
    return dx


def eb_cheat_autograd(dout, cache):
    x, neg, alpha = cache
    z = x.clone().requires_grad_(True)
    with torch.enable_grad():
        (g,) = torch.autograd.grad(torch.where(z > 0, z, alpha * torch.expm1(z.clamp(max=0))), z, dout)
    return g


# --- prelu --------------------------------------------------------------------------------------


def _view(x, alpha):
    return alpha if alpha.numel() == 1 else alpha.reshape([1, -1] + [1] * (x.dim() - 2))


def pf_last_dim(x, alpha):
    """alpha broadcast along the last dimension: right for (N, C) only."""
    return torch.where(x > 0, x, alpha * x), (x, alpha)


def pf_adds_everywhere(x, alpha):
    return x.clamp(min=0) + _view(x, alpha) * x, (x, alpha)


def pf_shared_only(x, alpha):
    return torch.where(x > 0, x, alpha[0] * x), (x, alpha)


def pf_always_4d(x, alpha):
    return torch.where(x > 0, x, alpha.reshape(1, -1, 1, 1) * x), (x, alpha)


def pf_inplace(x, alpha):
    x.copy_(torch.where(x > 0, x, _view(x, alpha) * x))
    return x, (x, alpha)


def pf_swapped(x, alpha):
    return torch.where(x < 0, x, _view(x, alpha) * x), (x, alpha)


def pf_column(x, alpha):
    """alpha as a column: broadcasts over the batch dimension."""
    a = alpha if alpha.numel() == 1 else alpha.reshape(-1, *([1] * (x.dim() - 1)))
    return torch.where(x > 0, x, a * x), (x, alpha)


def pf_abs_no_half(x, alpha):
    return (x + x.abs()) / 2 + _view(x, alpha) * (x - x.abs()), (x, alpha)


def pf_float32(x, alpha):
    out = torch.zeros(x.shape)
    out[...] = torch.where(x > 0, x, _view(x, alpha) * x)
    return out, (x, alpha)


def pf_alt_clamps(x, alpha):
    return x.clamp(min=0) + _view(x, alpha) * x.clamp(max=0), (x, alpha)


def pf_alt_movedim(x, alpha):
    xc = x.movedim(1, -1) if x.dim() > 1 else x
    out = torch.where(xc > 0, xc, alpha * xc)
    return (out.movedim(-1, 1) if x.dim() > 1 else out), (x, alpha)


def pf_alt_loop_channels(x, alpha):
    out = x.clone()
    if alpha.numel() == 1:
        out[x <= 0] = x[x <= 0] * alpha
        return out, (x, alpha)
    for c in range(alpha.numel()):
        xc = x[:, c]
        out[:, c] = torch.where(xc > 0, xc, alpha[c] * xc)
    return out, (x, alpha)


def pf_cheat_builtin(x, alpha):
    return F.prelu(x, alpha), (x, alpha)


def _dims(x):
    return [d for d in range(x.dim()) if d != 1]


def pb_not_reduced(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    return torch.where(x > 0, dout, a * dout), dout * x.clamp(max=0)


def pb_sum_all(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    return torch.where(x > 0, dout, a * dout), (dout * x.clamp(max=0)).sum().reshape(1)


def pb_sum_batch_only(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    da = (dout * x.clamp(max=0)).sum(0)
    return torch.where(x > 0, dout, a * dout), (da if alpha.numel() > 1 else da.sum().reshape(1))


def pb_all_units(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    contrib = dout * x
    da = contrib.sum().reshape(1) if alpha.numel() == 1 else contrib.sum(_dims(x))
    return torch.where(x > 0, dout, a * dout), da


def pb_relu_dx(dout, cache):
    x, alpha = cache
    contrib = dout * x.clamp(max=0)
    da = contrib.sum().reshape(1) if alpha.numel() == 1 else contrib.sum(_dims(x))
    return dout * (x > 0), da


def pb_mean(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    contrib = dout * x.clamp(max=0)
    da = contrib.mean().reshape(1) if alpha.numel() == 1 else contrib.mean(_dims(x))
    return torch.where(x > 0, dout, a * dout), da


def pb_slope_swapped(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    contrib = dout * x.clamp(max=0)
    da = contrib.sum().reshape(1) if alpha.numel() == 1 else contrib.sum(_dims(x))
    return torch.where(x > 0, a * dout, dout), da


def pb_scalar_dalpha(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    contrib = dout * x.clamp(max=0)
    da = contrib.sum() if alpha.numel() == 1 else contrib.sum(_dims(x))
    return torch.where(x > 0, dout, a * dout), da


def pb_no_dout_in_dalpha(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    contrib = x.clamp(max=0)
    da = contrib.sum().reshape(1) if alpha.numel() == 1 else contrib.sum(_dims(x))
    return torch.where(x > 0, dout, a * dout), da


def pb_ge_zero(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    contrib = dout * x.clamp(max=0)
    da = contrib.sum().reshape(1) if alpha.numel() == 1 else contrib.sum(_dims(x))
    return torch.where(x >= 0, dout, a * dout), da


def pb_alt_einsum(dout, cache):
    x, alpha = cache
    a = _view(x, alpha)
    neg = torch.where(x > 0, torch.zeros_like(x), x)
    if alpha.numel() == 1:
        da = (neg * dout).sum().reshape(1)
    else:
        da = torch.einsum("nc...,nc...->c", neg, dout)
    return dout * torch.where(x > 0, torch.ones_like(x), a.expand_as(x)), da


def pb_alt_movedim(dout, cache):
    x, alpha = cache
    xc, dc = x.movedim(1, -1), dout.movedim(1, -1)
    neg = xc <= 0
    dx = torch.where(neg, alpha * dc, dc).movedim(-1, 1)
    da = (dc * xc * neg).reshape(-1, xc.shape[-1]).sum(0)
    return dx, (da.sum().reshape(1) if alpha.numel() == 1 else da)


def pb_alt_loop(dout, cache):
    x, alpha = cache
    dx = dout.clone()
    da = torch.zeros_like(alpha)
    for c in range(x.shape[1]):
        a = alpha[0] if alpha.numel() == 1 else alpha[c]
        neg = x[:, c] <= 0
        dx[:, c][neg] = dout[:, c][neg] * a
        da[0 if alpha.numel() == 1 else c] += (dout[:, c] * x[:, c] * neg).sum()
    return dx, da


def pb_cheat_autograd(dout, cache):
    x, alpha = cache
    z, a = x.clone().requires_grad_(True), alpha.clone().requires_grad_(True)
    with torch.enable_grad():
        out = z.clamp(min=0) + _view(x, a) * z.clamp(max=0)
        return torch.autograd.grad(out, (z, a), dout)


# --- maxout -------------------------------------------------------------------------------------


def mf_interleaved(x, w, b):
    """Stacks the pieces, then reshapes the (k*M) columns as (M, k): pieces and units get mixed."""
    k, m, d = w.shape
    z = x @ w.reshape(k * m, d).T + b.reshape(-1)
    return z.reshape(len(x), m, k).max(dim=2).values, None


def mf_min(x, w, b):
    z = torch.einsum("nd,kmd->nkm", x, w) + b
    return z.min(dim=1).values, z


def mf_no_bias(x, w, b):
    z = torch.einsum("nd,kmd->nkm", x, w)
    return z.max(dim=1).values, z


def mf_returns_max_tuple(x, w, b):
    z = torch.einsum("nd,kmd->nkm", x, w) + b
    return z.max(dim=1), z


def mf_mean(x, w, b):
    z = torch.einsum("nd,kmd->nkm", x, w) + b
    return z.mean(dim=1), z


def mf_plus_relu(x, w, b):
    """Applies a ReLU after the maximum, as if maxout were a layer plus an activation."""
    z = torch.einsum("nd,kmd->nkm", x, w) + b
    return z.max(dim=1).values.clamp(min=0), z


def mf_zero_start(x, w, b):
    """A running maximum that starts at 0."""
    best = torch.zeros(len(x), w.shape[1], dtype=x.dtype)
    for j in range(w.shape[0]):
        best = torch.maximum(best, x @ w[j].T + b[j])
    return best, None


def mf_float32(x, w, b):
    best = torch.full((len(x), w.shape[1]), -float("inf"))
    for j in range(w.shape[0]):
        best = torch.maximum(best, (x @ w[j].T + b[j]).float())
    return best, None


def mf_first_two_pieces(x, w, b):
    """Written for k = 2."""
    return torch.maximum(x @ w[0].T + b[0], x @ w[1].T + b[1]), None


def mf_alt_loop(x, w, b):
    best = x @ w[0].T + b[0]
    for j in range(1, w.shape[0]):
        best = torch.maximum(best, x @ w[j].T + b[j])
    return best, (x, w, b)


def mf_alt_matmul(x, w, b):
    z = torch.matmul(x.unsqueeze(0), w.transpose(1, 2)) + b.unsqueeze(1)  # (k, N, M)
    out, idx = z.max(dim=0)
    return out, (x, w, idx)


def mf_alt_stack(x, w, b):
    z = torch.stack([x @ w[j].T + b[j] for j in range(w.shape[0])], dim=-1)  # (N, M, k)
    return z.amax(dim=-1), (x, w, z.argmax(dim=-1))


def mf_cheat_answer_key(x, w, b):
    import labkit.reference as ref

    return ref.maxout_forward(x, w, b)


def _mx_fwd(x, w, b):
    z = torch.einsum("nd,kmd->nkm", x, w) + b
    out, idx = z.max(dim=1)
    return out, (x, w, z, out)


def _mb_grads(dout, x, w, mask):
    g = dout.unsqueeze(1) * mask.to(dout.dtype)  # (N, k, M)
    return torch.einsum("nkm,kmd->nd", g, w), torch.einsum("nkm,nd->kmd", g, x), g.sum(0)


def _first_mask(z, out):
    is_max = z == out.unsqueeze(1)
    return is_max & (is_max.cumsum(dim=1) == 1)


def mb_all_ties(dout, cache):
    """Every maximal piece gets the gradient: double at a tie."""
    x, w, z, out = cache
    return _mb_grads(dout, x, w, z == out.unsqueeze(1))


def mb_dx_first_piece(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dout @ w[0], dw, db


def mb_dw_unmasked(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dx, torch.einsum("nm,nd->md", dout, x).expand_as(w).clone(), db


def mb_db_unmasked(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dx, dw, dout.sum(0).expand_as(db).clone()


def mb_dw_transposed(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dx, dw.transpose(1, 2), db


def mb_argmin(dout, cache):
    x, w, z, out = cache
    mask = torch.zeros_like(z, dtype=torch.bool).scatter_(1, z.argmin(dim=1, keepdim=True), True)
    return _mb_grads(dout, x, w, mask)


def mb_dx_all_pieces(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dout @ w.sum(0), dw, db


def mb_dw_ignores_dout(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    _, dw1, _ = _mb_grads(torch.ones_like(dout), x, w, _first_mask(z, out))
    return dx, dw1, db


def mb_order(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dw, dx, db


def mb_db_mean(dout, cache):
    x, w, z, out = cache
    dx, dw, db = _mb_grads(dout, x, w, _first_mask(z, out))
    return dx, dw, db / len(x)


def mb_alt_matmul(dout, cache):
    x, w, idx = cache  # idx (N, M) from mf_alt_matmul, whose z was (k, N, M)
    k = w.shape[0]
    dx, dw, db = torch.zeros_like(x), torch.zeros_like(w), w.new_zeros(w.shape[:2])
    for j in range(k):
        g = dout * (idx == j)
        dx += g @ w[j]
        dw[j] = g.T @ x
        db[j] = g.sum(0)
    return dx, dw, db


def mb_alt_stack(dout, cache):
    x, w, idx = cache  # idx (N, M)
    onehot = F.one_hot(idx, w.shape[0]).to(dout.dtype).permute(0, 2, 1)  # (N, k, M)
    return _mb_grads(dout, x, w, onehot)


def mb_alt_recompute(dout, cache):
    x, w, b = cache
    best = x @ w[0].T + b[0]
    choice = torch.zeros_like(best, dtype=torch.long)
    for j in range(1, w.shape[0]):
        z = x @ w[j].T + b[j]
        choice = torch.where(z > best, torch.full_like(choice, j), choice)
        best = torch.maximum(best, z)
    mask = torch.stack([choice == j for j in range(w.shape[0])], dim=1)
    return _mb_grads(dout, x, w, mask)


def mb_cheat_autograd(dout, cache):
    x, w, first = cache
    xx, ww = x.clone().requires_grad_(True), w.clone().requires_grad_(True)
    with torch.enable_grad():
        z = torch.einsum("nd,kmd->nkm", xx, ww)
        out = (z * first).sum(1)
        dx, dw = torch.autograd.grad(out, (xx, ww), dout)
    return dx, dw, (dout.unsqueeze(1) * first).sum(0)


# --- the catalogue ------------------------------------------------------------------------------

BUGGY = {
    "sigmoid_forward": [sig_sign, sig_exp_ratio, sig_clipped, sig_inplace, sig_numpy, sig_no_cache, sig_float32,
                        sig_math_exp, sig_tanh_identity_wrong],
    "sigmoid_backward": [sb_ignores_dout, sb_sigmoid_twice, sb_tanh_formula, (_sig_fwd_x, sb_no_square),
                         (_sig_fwd_x, sb_overflow), sb_sign, sb_inplace_dout, sb_float32, sb_just_out],
    "tanh_forward": [th_exp_formula, th_sigmoid_identity_wrong, th_sign, th_inplace, th_numpy, th_no_cache,
                     th_float32, th_hardtanh, th_sigmoid_of_2x],
    "tanh_backward": [tb_ignores_dout, tb_sigmoid_formula, tb_no_square, tb_sign, (_th_fwd_x, tb_cache_is_x),
                      tb_tanh_twice, tb_inplace_dout, tb_float32, tb_square_of_difference],
    "relu_forward": [relu_max_dim, relu_inplace, relu_wrong_clamp, relu_no_half, relu_python_max, relu_no_cache,
                     relu_numpy, relu6, relu_float32_buffer],
    "relu_backward": [rb_ge_zero, rb_ignores_dout, rb_mask_from_dout, rb_inplace, rb_relu_of_dout, rb_float32_buffer,
                      rb_inverted, rb_times_x, rb_numpy],
    "leaky_relu_forward": [lr_fixed_slope, lr_max_form, lr_slope_on_positives, lr_adds_everywhere, lr_inplace,
                           lr_alpha_keyword, lr_float32, lr_constant_branch, lr_default_tenth],
    "leaky_relu_backward": [(_lr_fwd_x_only, lb_fixed_slope), lb_relu_backward, lb_ge_zero, lb_ignores_dout,
                            lb_slope_on_positives, lb_inplace, lb_float32, lb_value_not_slope],
    "elu_forward": [elu_no_minus_one, elu_masks_multiply, elu_swapped, elu_inplace, elu_float32, elu_a_keyword,
                    elu_exp_everywhere, elu_fixed_alpha],
    "elu_backward": [(_elu_fwd_simple, eb_value_not_slope), (_elu_fwd_simple, eb_no_alpha), eb_out_plus_alpha_everywhere,
                     (_elu_fwd_simple, eb_ge_zero), (_elu_fwd_simple, eb_ignores_dout),
                     (_elu_fwd_simple, eb_relu_slope), (_elu_fwd_simple, eb_inplace), (_elu_fwd_simple, eb_float32),
                     (_elu_fwd_simple, eb_masks_multiply)],
    "prelu_forward": [pf_last_dim, pf_adds_everywhere, pf_shared_only, pf_always_4d, pf_inplace, pf_swapped,
                      pf_column, pf_abs_no_half, pf_float32],
    "prelu_backward": [pb_not_reduced, pb_sum_all, pb_sum_batch_only, pb_all_units, pb_relu_dx, pb_mean,
                       pb_slope_swapped, pb_scalar_dalpha, pb_no_dout_in_dalpha, pb_ge_zero],
    "maxout_forward": [mf_interleaved, mf_min, mf_no_bias, mf_returns_max_tuple, mf_mean, mf_plus_relu, mf_zero_start,
                       mf_float32, mf_first_two_pieces],
    "maxout_backward": [(_mx_fwd, mb_all_ties), (_mx_fwd, mb_dx_first_piece), (_mx_fwd, mb_dw_unmasked),
                        (_mx_fwd, mb_db_unmasked), (_mx_fwd, mb_dw_transposed), (_mx_fwd, mb_argmin),
                        (_mx_fwd, mb_dx_all_pieces), (_mx_fwd, mb_dw_ignores_dout), (_mx_fwd, mb_order),
                        (_mx_fwd, mb_db_mean)],
}

CORRECT = {
    "sigmoid_forward": [R.sigmoid_forward, sig_alt_tanh, sig_alt_stable_where, sig_alt_logaddexp],
    "sigmoid_backward": [(R.sigmoid_forward, R.sigmoid_backward), sb_alt_expanded, (sig_alt_stable_where, sb_alt_from_x),
                         (_sig_fwd_x, sb_alt_stable_exp)],
    "tanh_forward": [th_alt_two_sigmoid, th_alt_symmetric, th_alt_expm1, th_alt_loop],
    "tanh_backward": [(R.tanh_forward, R.tanh_backward), tb_alt_factored, (_th_fwd_x, tb_alt_from_x),
                      (th_alt_symmetric, tb_alt_cosh)],
    "relu_forward": [R.relu_forward, relu_alt_mask, relu_alt_where, relu_alt_abs, relu_alt_maximum],
    "relu_backward": [(R.relu_forward, R.relu_backward), (_relu_fwd_out, rb_alt_from_out), rb_alt_sign,
                      (_relu_fwd_mask, rb_alt_mask_cache)],
    "leaky_relu_forward": [R.leaky_relu_forward, lr_alt_arithmetic, lr_alt_mask, lr_alt_clone],
    "leaky_relu_backward": [(R.leaky_relu_forward, R.leaky_relu_backward), lb_alt_arith, lb_alt_clone,
                            (lr_alt_clone, lb_alt_dict)],
    "elu_forward": [R.elu_forward, elu_alt_where, elu_alt_clamps, elu_alt_mask_assign],
    "elu_backward": [(R.elu_forward, R.elu_backward), (_elu_fwd_simple, eb_alt_where), (_elu_fwd_out, eb_alt_from_out),
                     (elu_alt_mask_assign, eb_alt_mask_assign)],
    "prelu_forward": [R.prelu_forward, pf_alt_clamps, pf_alt_movedim, pf_alt_loop_channels],
    "prelu_backward": [(R.prelu_forward, R.prelu_backward), pb_alt_einsum, pb_alt_movedim, pb_alt_loop],
    "maxout_forward": [R.maxout_forward, mf_alt_loop, mf_alt_matmul, mf_alt_stack],
    "maxout_backward": [(R.maxout_forward, R.maxout_backward), (mf_alt_matmul, mb_alt_matmul),
                        (mf_alt_stack, mb_alt_stack), (mf_alt_loop, mb_alt_recompute)],
}

CHEATS = {  # (function, the call the report must name)
    "sigmoid_forward": [(sig_cheat_builtin, "torch.sigmoid"), (sig_cheat_expit, "torch.special.expit")],
    "sigmoid_backward": [(sb_cheat_autograd, "torch.autograd.grad")],
    "tanh_forward": [(th_cheat_builtin, "torch.tanh"), (th_cheat_method, "torch.Tensor.tanh")],
    "tanh_backward": [(tb_cheat_autograd, "torch.Tensor.backward")],
    "relu_forward": [(relu_cheat_builtin, "torch.relu"), (relu_cheat_functional, "torch.nn.functional.relu")],
    "relu_backward": [(rb_cheat_autograd, "torch.autograd.grad")],
    "leaky_relu_forward": [(lr_cheat_builtin, "torch.nn.functional.leaky_relu")],
    "leaky_relu_backward": [(lb_cheat_autograd, "torch.Tensor.backward")],
    "elu_forward": [(elu_cheat_builtin, "torch.nn.functional.elu")],
    "elu_backward": [(eb_cheat_autograd, "torch.autograd.grad")],
    "prelu_forward": [(pf_cheat_builtin, "prelu")],
    "prelu_backward": [(pb_cheat_autograd, "torch.autograd.grad")],
    "maxout_forward": [(mf_cheat_answer_key, "labkit.reference.maxout_forward")],
    "maxout_backward": [(mb_cheat_autograd, "torch.autograd.grad")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("sigmoid_forward", sig_exp_ratio, "overflows"),
    ("sigmoid_forward", sig_sign, "out differs"),
    ("sigmoid_forward", sig_inplace, "in place"),
    ("sigmoid_forward", sig_float32, "float64 inputs came back as float32"),
    ("sigmoid_backward", sb_ignores_dout, "dout is not used"),
    ("sigmoid_backward", (_sig_fwd_x, sb_overflow), "overflows"),
    ("tanh_forward", th_exp_formula, "overflows"),
    ("tanh_forward", th_sign, "wrong sign"),
    ("tanh_backward", tb_ignores_dout, "dout is not used"),
    ("tanh_backward", tb_sign, "wrong sign"),
    ("relu_forward", relu6, "upper limit"),
    ("relu_forward", relu_no_half, "2 times too large"),
    ("relu_backward", rb_ge_zero, "x = 0"),
    ("relu_backward", rb_inplace, "in place"),
    ("leaky_relu_forward", lr_fixed_slope, "negative_slope=0.2"),
    ("leaky_relu_forward", lr_max_form, "slopes up to 1"),
    ("leaky_relu_forward", lr_alpha_keyword, "negative_slope"),
    ("leaky_relu_backward", lb_ge_zero, "x = 0"),
    ("leaky_relu_backward", (_lr_fwd_x_only, lb_fixed_slope), "forward's slope"),
    ("elu_forward", elu_masks_multiply, "overflows"),
    ("elu_forward", elu_fixed_alpha, "alpha=0.5"),
    ("elu_backward", (_elu_fwd_simple, eb_ge_zero), "x = 0"),
    ("elu_backward", (_elu_fwd_simple, eb_masks_multiply), "overflows"),
    ("prelu_forward", pf_always_4d, "out has shape"),
    ("prelu_backward", pb_all_units, "also those where x > 0"),
    ("prelu_backward", pb_not_reduced, "dalpha has shape"),
    ("maxout_forward", mf_zero_start, "starts at 0"),
    ("maxout_backward", (_mx_fwd, mb_all_ties), "tie"),
    ("maxout_backward", (_mx_fwd, mb_dw_transposed), "dw has shape"),
]
