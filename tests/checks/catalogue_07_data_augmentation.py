"""Notebook 07: realistic buggy student versions (each must lose points), correct versions written
differently from the reference (each must keep full marks; for the random transforms, other ways of
drawing) and cheats (the answer key: each must score 0 with the call named), grouped by function;
BUGGY, CORRECT and CHEATS at the end list them."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .answer_key import RAW as R

LUMA = (0.299, 0.587, 0.114)


def _u(n, g, like):
    return torch.rand(n, generator=g, dtype=torch.float64).to(like)


# --- hflip ---------------------------------------------------------------------------------------
def hf_vertical(x):
    return torch.flip(x, dims=(2,))


def hf_channels(x):
    return torch.flip(x, dims=(1,))


def hf_both(x):
    return torch.flip(x, dims=(2, 3))


def hf_transpose(x):
    return x.transpose(-1, -2).contiguous() if x.shape[-1] == x.shape[-2] else x.flip(-2)


def hf_off_by_one(x):
    W = x.shape[-1]
    return x[..., [(W - j) % W for j in range(W)]]


def hf_in_place(x):
    x.copy_(x.flip(-1))
    return x


def hf_swap_loop(x):
    out = x.clone()
    W = x.shape[-1]
    for j in range(W):
        out[..., j] = out[..., W - 1 - j]
    return out


def hf_batch(x):
    return x.flip(0)


def hf_float32(x):
    return x.float().flip(-1)


def hf_alt_index(x):
    return x[..., torch.arange(x.shape[-1] - 1, -1, -1, device=x.device)]


def hf_alt_loop(x):
    cols = [x[..., j] for j in reversed(range(x.shape[-1]))]
    return torch.stack(cols, dim=-1)


def hf_alt_fliplr(x):
    return torch.stack([torch.stack([torch.fliplr(ch) for ch in img]) for img in x])


def hf_answer_key(x):
    from labkit.reference import hflip
    return hflip(x)


# --- crop ----------------------------------------------------------------------------------------
def _inside(x, top, left, height, width):
    H, W = x.shape[-2:]
    if top < 0 or left < 0 or top + height > H or left + width > W:
        raise ValueError("window outside the image")


def cr_swapped(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x[:, :, left:left + height, top:top + width].clone()


def cr_hw_swapped(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x[:, :, top:top + width, left:left + height].clone()


def cr_corners(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x[:, :, top:height, left:width].clone()


def cr_inclusive(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x[:, :, top:top + height + 1, left:left + width + 1].clone()


def cr_no_check(x, top, left, height, width):
    return x[:, :, top:top + height, left:left + width].clone()


def cr_one_based(x, top, left, height, width):
    _inside(x, top, left, height, width)
    t, l = max(top - 1, 0), max(left - 1, 0)
    return x[:, :, t:t + height, l:l + width].clone()


def cr_first_channel(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x[:, :1, top:top + height, left:left + width].clone()


def cr_centre(x, top, left, height, width):
    _inside(x, top, left, height, width)
    t, l = max(top - height // 2, 0), max(left - width // 2, 0)
    return x[:, :, t:t + height, l:l + width].clone()


def cr_in_place(x, top, left, height, width):
    _inside(x, top, left, height, width)
    out = x[:, :, top:top + height, left:left + width]
    out.mul_(1.0)
    x.zero_()
    return out


def cr_alt_narrow(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x.narrow(2, top, height).narrow(3, left, width).clone()


def cr_alt_index(x, top, left, height, width):
    if not (0 <= top and 0 <= left and top + height <= x.shape[2] and left + width <= x.shape[3]):
        raise ValueError("crop window leaves the image")
    rows, cols = torch.arange(top, top + height), torch.arange(left, left + width)
    return x[:, :, rows][:, :, :, cols]


def cr_alt_view(x, top, left, height, width):
    _inside(x, top, left, height, width)
    return x[..., top:top + height, left:left + width]


def cr_answer_key(x, top, left, height, width):
    from labkit.reference import crop
    return crop(x, top, left, height, width)


# --- random_horizontal_flip ----------------------------------------------------------------------
def rf_inverted(x, p=0.5, generator=None):
    flip = _u(len(x), generator, x) > p
    return torch.where(flip.reshape(-1, 1, 1, 1), x.flip(-1), x)


def rf_batch(x, p=0.5, generator=None):
    return x.flip(-1) if float(torch.rand(1, generator=generator)) < p else x.clone()


def rf_vertical(x, p=0.5, generator=None):
    flip = _u(len(x), generator, x) < p
    return torch.where(flip.reshape(-1, 1, 1, 1), x.flip(-2), x)


def rf_ignores_p(x, p=0.5, generator=None):
    flip = _u(len(x), generator, x) < 0.5
    return torch.where(flip.reshape(-1, 1, 1, 1), x.flip(-1), x)


def rf_global_rng(x, p=0.5, generator=None):
    flip = torch.rand(len(x)) < p
    return torch.where(flip.reshape(-1, 1, 1, 1), x.flip(-1), x)


def rf_per_channel(x, p=0.5, generator=None):
    flip = torch.rand(x.shape[0], x.shape[1], generator=generator).to(x) < p
    return torch.where(flip[:, :, None, None], x.flip(-1), x)


def rf_seeded_inside(x, p=0.5, generator=None):
    g = torch.Generator().manual_seed(0)
    flip = torch.rand(len(x), generator=g).to(x.device) < p
    return torch.where(flip.reshape(-1, 1, 1, 1), x.flip(-1), x)


def rf_in_place(x, p=0.5, generator=None):
    flip = _u(len(x), generator, x) < p
    x[flip] = x[flip].flip(-1)
    return x


def rf_always(x, p=0.5, generator=None):
    return x.flip(-1) if p > 0 else x.clone()


def rf_alt_bernoulli(x, p=0.5, generator=None):
    flip = torch.bernoulli(torch.full((len(x),), float(p), dtype=torch.float64), generator=generator).bool()
    return torch.where(flip.to(x.device).reshape(-1, 1, 1, 1), x.flip(-1), x)


def rf_alt_loop(x, p=0.5, generator=None):
    out = x.clone()
    for n in range(len(x)):
        if float(torch.rand(1, generator=generator)) < p:
            out[n] = x[n].flip(-1)
    return out


def rf_alt_mask_mul(x, p=0.5, generator=None):
    m = (torch.rand(len(x), generator=generator) < p).to(x).reshape(-1, 1, 1, 1)
    return m * x.flip(-1) + (1 - m) * x


def rf_answer_key(x, p=0.5, generator=None):
    from labkit.reference import random_horizontal_flip
    return random_horizontal_flip(x, p, generator)


# --- random_crop ---------------------------------------------------------------------------------
def _crop_at(xp, tops, lefts, size):
    return torch.stack([xp[n, :, int(t):int(t) + size, int(l):int(l) + size] for n, (t, l) in
                        enumerate(zip(tops, lefts))])


def rc_exclusive(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    k = xp.shape[-1] - size
    t = torch.randint(0, max(k, 1), (len(x),), generator=generator)
    l = torch.randint(0, max(k, 1), (len(x),), generator=generator)
    return _crop_at(xp, t, l, size)


def rc_one_window(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    t = int(torch.randint(0, xp.shape[-2] - size + 1, (1,), generator=generator))
    l = int(torch.randint(0, xp.shape[-1] - size + 1, (1,), generator=generator))
    return xp[:, :, t:t + size, l:l + size].clone()


def rc_no_padding(x, size, padding=0, generator=None):
    H, W = x.shape[-2:]
    s = min(size, H, W)
    t = torch.randint(0, H - s + 1, (len(x),), generator=generator)
    l = torch.randint(0, W - s + 1, (len(x),), generator=generator)
    out = _crop_at(x, t, l, s)
    return F.pad(out, (0, size - s, 0, size - s))


def rc_reflect(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4, mode="replicate") if padding else x
    t = torch.randint(0, xp.shape[-2] - size + 1, (len(x),), generator=generator)
    l = torch.randint(0, xp.shape[-1] - size + 1, (len(x),), generator=generator)
    return _crop_at(xp, t, l, size)


def rc_same_offset(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    t = torch.randint(0, xp.shape[-2] - size + 1, (len(x),), generator=generator)
    return _crop_at(xp, t, t, size)


def rc_pad_width_only(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding, padding, 0, 0))
    xp = F.pad(xp, (0, 0, 0, 2 * padding))
    t = torch.randint(0, xp.shape[-2] - size + 1, (len(x),), generator=generator)
    l = torch.randint(0, xp.shape[-1] - size + 1, (len(x),), generator=generator)
    return _crop_at(xp, t, l, size)


def rc_global_rng(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    t = torch.randint(0, xp.shape[-2] - size + 1, (len(x),))
    l = torch.randint(0, xp.shape[-1] - size + 1, (len(x),))
    return _crop_at(xp, t, l, size)


def rc_rounded_uniform(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    k = xp.shape[-2] - size
    t = (torch.rand(len(x), generator=generator) * k).round().long()
    l = (torch.rand(len(x), generator=generator) * k).round().long()
    return _crop_at(xp, t, l, size)


def rc_alt_loop(x, size, padding=0, generator=None):
    xp = torch.zeros(*x.shape[:2], x.shape[2] + 2 * padding, x.shape[3] + 2 * padding, dtype=x.dtype, device=x.device)
    xp[:, :, padding:padding + x.shape[2], padding:padding + x.shape[3]] = x
    outs = []
    for n in range(len(x)):
        t = int(torch.randint(xp.shape[2] - size + 1, (1,), generator=generator))
        l = int(torch.randint(xp.shape[3] - size + 1, (1,), generator=generator))
        outs.append(xp[n, :, t:t + size, l:l + size])
    return torch.stack(outs)


def rc_alt_floor(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    kt, kl = xp.shape[-2] - size + 1, xp.shape[-1] - size + 1
    t = (torch.rand(len(x), generator=generator) * kt).floor().long()
    l = (torch.rand(len(x), generator=generator) * kl).floor().long()
    return _crop_at(xp, t, l, size)


def rc_alt_unfold(x, size, padding=0, generator=None):
    xp = F.pad(x, (padding,) * 4)
    kt, kl = xp.shape[-2] - size + 1, xp.shape[-1] - size + 1
    idx = torch.randint(0, kt * kl, (len(x),), generator=generator)
    return _crop_at(xp, idx // kl, idx % kl, size)


def rc_answer_key(x, size, padding=0, generator=None):
    from labkit.reference import random_crop
    return random_crop(x, size, padding, generator)


# --- rgb_to_grayscale ----------------------------------------------------------------------------
def gr_mean(x):
    return x.mean(dim=1, keepdim=True)


def gr_bgr(x):
    return (0.299 * x[:, 2] + 0.587 * x[:, 1] + 0.114 * x[:, 0]).unsqueeze(1)


def gr_709(x):
    return (0.2126 * x[:, 0] + 0.7152 * x[:, 1] + 0.0722 * x[:, 2]).unsqueeze(1)


def gr_sum(x):
    return x.sum(dim=1, keepdim=True)


def gr_no_keepdim(x):
    return 0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]


def gr_three_channels(x):
    return (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1).expand_as(x).clone()


def gr_rounded(x):
    return (0.3 * x[:, 0] + 0.59 * x[:, 1] + 0.11 * x[:, 2]).unsqueeze(1)


def gr_max(x):
    return x.max(dim=1, keepdim=True).values


def gr_quantised(x):
    return ((0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]) * 255).round().unsqueeze(1) / 255


def gr_alt_einsum(x):
    return torch.einsum("nchw,c->nhw", x, torch.tensor(LUMA, dtype=x.dtype, device=x.device)).unsqueeze(1)


def gr_alt_conv(x):
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    return F.conv2d(x, w)


def gr_alt_sum(x):
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).reshape(1, 3, 1, 1)
    return (x * w).sum(dim=1, keepdim=True)


def gr_answer_key(x):
    from labkit.reference import rgb_to_grayscale
    return rgb_to_grayscale(x)


# --- the three blends ----------------------------------------------------------------------------
def _f(f, x):
    f = torch.as_tensor(f, dtype=x.dtype, device=x.device)
    return f.reshape(-1, 1, 1, 1) if f.dim() == 1 else f


def _gray(x):
    return R.rgb_to_grayscale(x) if x.shape[1] == 3 else x


def _mean_grey(x):
    return _gray(x).mean(dim=(1, 2, 3), keepdim=True)


def br_no_clamp(x, f):
    return _f(f, x) * x


def br_add(x, f):
    return (x + _f(f, x)).clamp(0, 1)


def br_white(x, f):
    f = _f(f, x)
    return (f * x + (1 - f)).clamp(0, 1)


def br_reversed(x, f):
    return ((1 - _f(f, x)) * x).clamp(0, 1)


def br_scalar_only(x, f):
    return (float(f) * x).clamp(0, 1)


def br_unshaped(x, f):
    return (torch.as_tensor(f, dtype=x.dtype) * x).clamp(0, 1) if torch.as_tensor(f).dim() == 0 else \
        (torch.as_tensor(f, dtype=x.dtype).reshape(-1, 1, 1) * x).clamp(0, 1)


def br_clamp_255(x, f):
    return (_f(f, x) * x).clamp(0, 255)


def br_one_plus(x, f):
    return ((1 + _f(f, x)) * x).clamp(0, 1)


def br_alt_mul(x, f):
    return torch.clamp(x * _f(f, x), min=0.0, max=1.0)


def br_alt_lerp(x, f):
    return torch.lerp(torch.zeros_like(x), x, _f(f, x).expand_as(x)).clamp(0, 1)


def br_alt_minimum(x, f):
    return torch.minimum(_f(f, x) * x, torch.ones_like(x)).clamp_min(0)


def br_answer_key(x, f):
    from labkit.reference import adjust_brightness
    return adjust_brightness(x, f)


def co_no_clamp(x, f):
    f = _f(f, x)
    return f * x + (1 - f) * _mean_grey(x)


def co_batch_mean(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * _gray(x).mean()).clamp(0, 1)


def co_channel_mean(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * x.mean(dim=(2, 3), keepdim=True)).clamp(0, 1)


def co_rgb_mean(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * x.mean(dim=(1, 2, 3), keepdim=True)).clamp(0, 1)


def co_half(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * 0.5).clamp(0, 1)


def co_reversed(x, f):
    f = _f(f, x)
    return ((1 - f) * x + f * _mean_grey(x)).clamp(0, 1)


def co_pixel_grey(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * _gray(x)).clamp(0, 1)


def co_mean_of_clamped_first(x, f):
    f = _f(f, x)
    return (f * (x - _mean_grey(x))).clamp(0, 1) + _mean_grey(x)


def co_alt_lerp(x, f):
    m = _mean_grey(x).expand_as(x)
    return torch.lerp(m, x, _f(f, x).expand_as(x)).clamp(0, 1)


def co_alt_centre(x, f):
    m = (0.299 * x[:, :1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:]).mean(dim=(2, 3), keepdim=True) \
        if x.shape[1] == 3 else x.mean(dim=(1, 2, 3), keepdim=True)
    return (m + _f(f, x) * (x - m)).clamp(0, 1)


def co_alt_loop(x, f):
    out = torch.empty_like(x)
    fs = _f(f, x).reshape(-1) if _f(f, x).dim() else _f(f, x).repeat(len(x))
    for n in range(len(x)):
        m = _gray(x[n:n + 1]).mean()
        out[n] = (fs[n] * x[n] + (1 - fs[n]) * m).clamp(0, 1)
    return out


def co_answer_key(x, f):
    from labkit.reference import adjust_contrast
    return adjust_contrast(x, f)


def sa_no_clamp(x, f):
    f = _f(f, x)
    return f * x + (1 - f) * _gray(x)


def sa_mean_grey(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * x.mean(dim=1, keepdim=True)).clamp(0, 1)


def sa_reversed(x, f):
    f = _f(f, x)
    return ((1 - f) * x + f * _gray(x)).clamp(0, 1)


def sa_contrast(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * _mean_grey(x)).clamp(0, 1)


def sa_one_channel(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * _gray(x)).clamp(0, 1).mean(dim=1, keepdim=True)


def sa_grey_error(x, f):
    f = _f(f, x)
    return (f * x + (1 - f) * R.rgb_to_grayscale(x)).clamp(0, 1)


def sa_white(x, f):
    f = _f(f, x)
    return (f * x + (1 - f)).clamp(0, 1)


def sa_luma_709(x, f):
    f = _f(f, x)
    g = (0.2126 * x[:, :1] + 0.7152 * x[:, 1:2] + 0.0722 * x[:, 2:]) if x.shape[1] == 3 else x
    return (f * x + (1 - f) * g).clamp(0, 1)


def sa_alt_lerp(x, f):
    if x.shape[1] == 1:
        return x.clone()
    return torch.lerp(R.rgb_to_grayscale(x).expand_as(x), x, _f(f, x).expand_as(x)).clamp(0, 1)


def sa_alt_centre(x, f):
    g = _gray(x)
    return (g + _f(f, x) * (x - g)).clamp(0, 1)


def sa_alt_einsum(x, f):
    if x.shape[1] != 3:
        return x.clone()
    g = torch.einsum("nchw,c->nhw", x, torch.tensor(LUMA, dtype=x.dtype, device=x.device)).unsqueeze(1)
    return torch.clamp(_f(f, x) * x + (1 - _f(f, x)) * g, 0, 1)


def sa_answer_key(x, f):
    from labkit.reference import adjust_saturation
    return adjust_saturation(x, f)


# --- color_jitter --------------------------------------------------------------------------------
def _jitter(x, vs, draw, order=("b", "c", "s")):
    ops = {"b": R.adjust_brightness, "c": R.adjust_contrast, "s": R.adjust_saturation}
    out = x
    for key in order:
        v = vs[key]
        if v > 0:
            out = ops[key](out, draw(v, key))
    return out if out is not x else x.clone()


def cj_one_factor(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: float(1 - v + 2 * v * torch.rand(1, generator=generator)))


def cj_zero_to_v(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: (torch.rand(len(x), generator=generator) * v).to(x))


def cj_half_width(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: (1 - v / 2 + v * torch.rand(len(x), generator=generator)).to(x))


def cj_normal(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: (1 + v * torch.randn(len(x), generator=generator)).clamp_min(0).to(x))


def cj_global_rng(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: (max(0, 1 - v) + (1 + v - max(0, 1 - v)) * torch.rand(len(x))).to(x))


def cj_swapped_ops(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=contrast, c=brightness, s=saturation),
                   lambda v, k: (max(0, 1 - v) + (1 + v - max(0, 1 - v)) * torch.rand(len(x), generator=generator)).to(x))


def cj_no_floor(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: (1 - v + 2 * v * torch.rand(len(x), generator=generator)).clamp_min(0).to(x))


def cj_ignores_saturation(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=0),
                   lambda v, k: (max(0, 1 - v) + (1 + v - max(0, 1 - v)) * torch.rand(len(x), generator=generator)).to(x))


def cj_identity_factor(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: (v + torch.rand(len(x), generator=generator)).to(x))


def _uniform_factor(g, like):
    return lambda v, k: (max(0.0, 1 - v) + (1 + v - max(0.0, 1 - v)) * torch.rand(len(like), generator=g,
                                                                                 dtype=torch.float64)).to(like)


def cj_alt_draw_first(x, brightness=0, contrast=0, saturation=0, generator=None):
    lo = lambda v: max(0.0, 1 - v)  # noqa: E731
    fs = {k: lo(v) + (1 + v - lo(v)) * torch.rand(len(x), generator=generator)
          for k, v in (("b", brightness), ("c", contrast), ("s", saturation)) if v > 0}
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation), lambda v, k: fs[k].to(x))


def cj_alt_uniform_(x, brightness=0, contrast=0, saturation=0, generator=None):
    return _jitter(x, dict(b=brightness, c=contrast, s=saturation),
                   lambda v, k: torch.empty(len(x), dtype=torch.float64).uniform_(max(0.0, 1 - v), 1 + v,
                                                                                  generator=generator).to(x))


def cj_alt_loop(x, brightness=0, contrast=0, saturation=0, generator=None):
    out = x.clone()
    for v, op in ((brightness, R.adjust_brightness), (contrast, R.adjust_contrast), (saturation, R.adjust_saturation)):
        if v > 0:
            f = torch.empty(len(x), dtype=torch.float64).uniform_(max(0.0, 1 - v), 1 + v, generator=generator)
            out = op(out, f.to(x))
    return out


def cj_answer_key(x, brightness=0, contrast=0, saturation=0, generator=None):
    from labkit.reference import color_jitter
    return color_jitter(x, brightness, contrast, saturation, generator)


# --- pca_lighting --------------------------------------------------------------------------------
def _light(x, off):
    return x + off.to(x)[:, :, None, None]


def _cpu(*ts):
    return tuple(t.cpu().double() for t in ts)


def pl_rows(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 3, generator=generator, dtype=torch.float64) * alphastd
    return _light(x, (a * eigvals) @ eigvecs)


def pl_sqrt(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 3, generator=generator, dtype=torch.float64) * alphastd
    return _light(x, (a * eigvals.sqrt()) @ eigvecs.T)


def pl_no_eigvals(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 3, generator=generator, dtype=torch.float64) * alphastd
    return _light(x, a @ eigvecs.T)


def pl_uniform(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = (torch.rand(len(x), 3, generator=generator, dtype=torch.float64) * 2 - 1) * alphastd * math.sqrt(3)
    return _light(x, (a * eigvals) @ eigvecs.T)


def pl_one_alpha(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(1, 3, generator=generator, dtype=torch.float64).expand(len(x), 3) * alphastd
    return _light(x, (a * eigvals) @ eigvecs.T)


def pl_scalar_alpha(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 1, generator=generator, dtype=torch.float64).expand(len(x), 3) * alphastd
    return _light(x, (a * eigvals) @ eigvecs.T)


def pl_clamped(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 3, generator=generator, dtype=torch.float64) * alphastd
    return _light(x, (a * eigvals) @ eigvecs.T).clamp(0, 1)


def pl_variance(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 3, generator=generator, dtype=torch.float64) * alphastd ** 2
    return _light(x, (a * eigvals) @ eigvecs.T)


def pl_per_pixel(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    N, _, H, W = x.shape
    a = torch.randn(N, H, W, 3, generator=generator, dtype=torch.float64) * alphastd
    return x + ((a * eigvals) @ eigvecs.T).permute(0, 3, 1, 2).to(x)


def pl_global_rng(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    eigvals, eigvecs = _cpu(eigvals, eigvecs)
    a = torch.randn(len(x), 3, dtype=torch.float64) * alphastd
    return _light(x, (a * eigvals) @ eigvecs.T)


def pl_alt_loop(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    out = x.clone()
    for n in range(len(x)):
        a = torch.randn(3, generator=generator, dtype=torch.float64) * alphastd
        out[n] += (eigvecs.cpu().double() @ (a * eigvals.cpu().double())).to(x)[:, None, None]
    return out


def pl_alt_einsum(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    a = torch.normal(0.0, float(alphastd), (len(x), 3), generator=generator, dtype=torch.float64)
    off = torch.einsum("ck,nk->nc", eigvecs.cpu().double(), a * eigvals.cpu().double())
    return _light(x, off)


def pl_alt_sum(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    a = torch.randn(len(x), 3, generator=generator, dtype=torch.float64) * alphastd
    off = sum((a[:, k:k + 1] * eigvals[k].cpu().double()) * eigvecs[:, k].cpu().double() for k in range(3))
    return _light(x, off)


def pl_answer_key(x, eigvals, eigvecs, alphastd=0.1, generator=None):
    from labkit.reference import pca_lighting
    return pca_lighting(x, eigvals, eigvecs, alphastd, generator)


# --- affine_matrix -------------------------------------------------------------------------------
def _m3(a, b, c, d, tx=0.0, ty=0.0):
    return torch.tensor([[a, b, tx], [c, d, ty], [0.0, 0.0, 1.0]], dtype=torch.float64)


def _parts(angle, translate, scale, shear, rad=True):
    k = math.radians if rad else (lambda v: v)
    a = k(float(angle))
    sx, sy = (shear if isinstance(shear, (tuple, list)) else (shear, 0.0))
    sx, sy = k(float(sx)), k(float(sy))
    T = _m3(1.0, 0.0, 0.0, 1.0, float(translate[0]), float(translate[1]))
    Rm = _m3(math.cos(a), -math.sin(a), math.sin(a), math.cos(a))
    S = _m3(scale, 0.0, 0.0, scale)
    SHy = _m3(1.0, 0.0, -math.tan(sy), 1.0)
    SHx = _m3(1.0, -math.tan(sx), 0.0, 1.0)
    return T, Rm, S, SHy, SHx


def am_radians(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, translate, scale, shear, rad=False)
    return T @ Rm @ S @ SHy @ SHx


def am_ccw(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(-angle, translate, scale, shear)
    _, _, _, SHy, SHx = _parts(angle, translate, scale, shear)
    return T @ Rm @ S @ SHy @ SHx


def am_inverse(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, translate, scale, shear)
    return torch.linalg.inv(T @ Rm @ S @ SHy @ SHx)


def am_translate_last(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, translate, scale, shear)
    return Rm @ S @ SHy @ SHx @ T


def am_shear_sign(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, translate, scale, shear)
    return T @ Rm @ S @ torch.linalg.inv(SHy) @ torch.linalg.inv(SHx)


def am_shear_order(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, translate, scale, shear)
    return T @ Rm @ S @ SHx @ SHy


def am_inverse_scale(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, translate, 1.0 / scale, shear)
    return T @ Rm @ S @ SHy @ SHx


def am_shear_pair_swapped(angle, translate, scale, shear):
    sh = tuple(reversed(shear)) if isinstance(shear, (tuple, list)) else (0.0, shear)
    T, Rm, S, SHy, SHx = _parts(angle, translate, scale, sh)
    return T @ Rm @ S @ SHy @ SHx


def am_translation_negated(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = _parts(angle, (-translate[0], -translate[1]), scale, shear)
    return T @ Rm @ S @ SHy @ SHx


def am_alt_closed_form(angle, translate, scale, shear):
    a = math.radians(angle)
    sx, sy = (shear if isinstance(shear, (tuple, list)) else (shear, 0.0))
    tx_, ty_ = math.tan(math.radians(sx)), math.tan(math.radians(sy))
    A = torch.tensor([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]], dtype=torch.float64) * scale
    Sh = torch.tensor([[1.0, 0.0], [-ty_, 1.0]], dtype=torch.float64) @ torch.tensor([[1.0, -tx_], [0.0, 1.0]],
                                                                                    dtype=torch.float64)
    M = torch.eye(3, dtype=torch.float64)
    M[:2, :2] = A @ Sh
    M[0, 2], M[1, 2] = float(translate[0]), float(translate[1])
    return M


def am_alt_numpy(angle, translate, scale, shear):
    T, Rm, S, SHy, SHx = (m.numpy() for m in _parts(angle, translate, scale, shear))
    return torch.from_numpy(T @ Rm @ S @ SHy @ SHx)


def am_alt_functools(angle, translate, scale, shear):
    from functools import reduce
    return reduce(torch.matmul, _parts(angle, translate, scale, shear))


def am_answer_key(angle, translate, scale, shear):
    from labkit.reference import affine_matrix
    return affine_matrix(angle, translate, scale, shear)


# --- affine --------------------------------------------------------------------------------------
def _warp(x, M, *, inverse=True, align=False, norm=None, centred=True, mode="bilinear", pad="zeros", yx=False):
    N, _, H, W = x.shape
    Minv = torch.linalg.inv(M) if inverse else M
    ys = torch.arange(H, dtype=torch.float64) - ((H - 1) / 2 if centred else 0)
    xs = torch.arange(W, dtype=torch.float64) - ((W - 1) / 2 if centred else 0)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    q = torch.stack([gx, gy, torch.ones_like(gx)], -1) @ Minv[:2].T
    scale = torch.tensor(norm or ([2.0 / (W - 1), 2.0 / (H - 1)] if align else [2.0 / W, 2.0 / H]), dtype=torch.float64)
    grid = q * scale
    if yx:
        grid = grid.flip(-1)
    grid = grid.to(x).expand(N, H, W, 2)
    return F.grid_sample(x, grid, mode=mode, padding_mode=pad, align_corners=align)


def af_forward_map(x, angle, translate, scale, shear):
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), inverse=False)


def af_align_corners(x, angle, translate, scale, shear):
    W, H = x.shape[-1], x.shape[-2]
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), align=True, norm=[2.0 / W, 2.0 / H])


def af_square_norm(x, angle, translate, scale, shear):
    W = x.shape[-1]
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), norm=[2.0 / W, 2.0 / W])


def af_corner_origin(x, angle, translate, scale, shear):
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), centred=False)


def af_nearest(x, angle, translate, scale, shear):
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), mode="nearest")


def af_border(x, angle, translate, scale, shear):
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), pad="border")


def af_yx(x, angle, translate, scale, shear):
    return _warp(x, R.affine_matrix(angle, translate, scale, shear), yx=True)


def af_affine_grid(x, angle, translate, scale, shear):
    Minv = torch.linalg.inv(R.affine_matrix(angle, translate, scale, shear))[:2]
    theta = Minv.clone()
    theta[:, 2] = theta[:, 2] * torch.tensor([2.0 / x.shape[-1], 2.0 / x.shape[-2]], dtype=torch.float64)
    grid = F.affine_grid(theta.to(x).expand(len(x), 2, 3), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False)


def af_alt_affine_grid(x, angle, translate, scale, shear):
    N, C, H, W = x.shape
    Minv = torch.linalg.inv(R.affine_matrix(angle, translate, scale, shear))
    D = torch.diag(torch.tensor([W / 2.0, H / 2.0, 1.0], dtype=torch.float64))
    theta = (torch.linalg.inv(D) @ Minv @ D)[:2]
    grid = F.affine_grid(theta.to(x).expand(N, 2, 3), [N, C, H, W], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def af_alt_solve(x, angle, translate, scale, shear):
    N, _, H, W = x.shape
    M = R.affine_matrix(angle, translate, scale, shear)
    ys = torch.arange(H, dtype=torch.float64) - (H - 1) / 2
    xs = torch.arange(W, dtype=torch.float64) - (W - 1) / 2
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    p = torch.stack([gx.reshape(-1), gy.reshape(-1), torch.ones(H * W, dtype=torch.float64)])
    q = torch.linalg.solve(M, p)[:2].T.reshape(H, W, 2)
    grid = torch.stack([q[..., 0] * 2 / W, q[..., 1] * 2 / H], -1)
    return F.grid_sample(x, grid.to(x).expand(N, H, W, 2), align_corners=False)


def af_alt_normalised(x, angle, translate, scale, shear):
    N, _, H, W = x.shape
    Minv = torch.linalg.inv(R.affine_matrix(angle, translate, scale, shear))
    u = (torch.arange(W, dtype=torch.float64) + 0.5) / W * 2 - 1
    v = (torch.arange(H, dtype=torch.float64) + 0.5) / H * 2 - 1
    gv, gu = torch.meshgrid(v, u, indexing="ij")
    px, py = gu * W / 2, gv * H / 2
    qx = Minv[0, 0] * px + Minv[0, 1] * py + Minv[0, 2]
    qy = Minv[1, 0] * px + Minv[1, 1] * py + Minv[1, 2]
    grid = torch.stack([qx / (W / 2), qy / (H / 2)], -1)
    return F.grid_sample(x, grid.to(x).expand(N, H, W, 2), align_corners=False)


def af_answer_key(x, angle, translate, scale, shear):
    from labkit.reference import affine
    return affine(x, angle, translate, scale, shear)


def af_reference_warp(x, angle, translate, scale, shear):  # the answer key's warp, not a graded name
    import labkit.reference as answer_key
    return answer_key.warp(x, R.affine_matrix(angle, translate, scale, shear))


# --- cutout --------------------------------------------------------------------------------------
def _cut(x, cy, cx, size, start=None, channels=None, fill=0.0, side=None):
    N, C, H, W = x.shape
    side = size if side is None else side
    y0 = (cy - size // 2) if start is None else start[0]
    x0 = (cx - size // 2) if start is None else start[1]
    r, c = torch.arange(H), torch.arange(W)
    m = ((r[None] >= y0[:, None]) & (r[None] < y0[:, None] + side))[:, :, None] & \
        ((c[None] >= x0[:, None]) & (c[None] < x0[:, None] + side))[:, None, :]
    m = m[:, None].expand(N, C, H, W).clone()
    if channels is not None:
        m[:, channels:] = False
    return x.masked_fill(m.to(x.device), fill)


def _centres(x, g):
    N, _, H, W = x.shape
    return torch.randint(0, H, (N,), generator=g), torch.randint(0, W, (N,), generator=g)


def cu_inside_only(x, size, generator=None):
    N, _, H, W = x.shape
    lo = size // 2
    cy = torch.randint(lo, max(H - size + lo + 1, lo + 1), (N,), generator=generator)
    cx = torch.randint(lo, max(W - size + lo + 1, lo + 1), (N,), generator=generator)
    return _cut(x, cy, cx, size)


def cu_top_left(x, size, generator=None):
    cy, cx = _centres(x, generator)
    return _cut(x, cy, cx, size, start=(cy, cx))


def cu_one_square(x, size, generator=None):
    cy, cx = _centres(x[:1], generator)
    return _cut(x, cy.expand(len(x)), cx.expand(len(x)), size)


def cu_first_channel(x, size, generator=None):
    cy, cx = _centres(x, generator)
    return _cut(x, cy, cx, size, channels=1)


def cu_plus_one(x, size, generator=None):
    cy, cx = _centres(x, generator)
    return _cut(x, cy, cx, size, side=size + 1)


def cu_mean_fill(x, size, generator=None):
    cy, cx = _centres(x, generator)
    return _cut(x, cy, cx, size, fill=0.5)


def cu_same_centre(x, size, generator=None):
    cy, _ = _centres(x, generator)
    return _cut(x, cy, cy.clamp(max=x.shape[-1] - 1), size)


def cu_global_rng(x, size, generator=None):
    cy, cx = _centres(x, None)
    return _cut(x, cy, cx, size)


def cu_half_side(x, size, generator=None):
    cy, cx = _centres(x, generator)
    return _cut(x, cy, cx, size // 2, side=size // 2)


def cu_alt_loop(x, size, generator=None):
    out = x.clone()
    N, _, H, W = x.shape
    for n in range(N):
        cy = int(torch.randint(H, (1,), generator=generator))
        cx = int(torch.randint(W, (1,), generator=generator))
        y0, x0 = max(cy - size // 2, 0), max(cx - size // 2, 0)
        y1, x1 = min(cy - size // 2 + size, H), min(cx - size // 2 + size, W)
        if size > 0:
            out[n, :, y0:y1, x0:x1] = 0
    return out


def cu_alt_padded(x, size, generator=None):
    N, C, H, W = x.shape
    cy, cx = _centres(x, generator)
    mask = torch.ones(N, H + 2 * size, W + 2 * size, dtype=x.dtype)
    for n in range(N):
        y0, x0 = int(cy[n]) - size // 2 + size, int(cx[n]) - size // 2 + size
        mask[n, y0:y0 + size, x0:x0 + size] = 0
    return x * mask[:, None, size:size + H, size:size + W].to(x)


def cu_alt_floor(x, size, generator=None):
    N, _, H, W = x.shape
    cy = (torch.rand(N, generator=generator, dtype=torch.float64) * H).floor().long()
    cx = (torch.rand(N, generator=generator, dtype=torch.float64) * W).floor().long()
    return _cut(x, cy, cx, size)


def cu_answer_key(x, size, generator=None):
    from labkit.reference import cutout
    return cutout(x, size, generator)


# --- mixup ---------------------------------------------------------------------------------------
def _np_beta(alpha, g, a=None, b=None):
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
    return float(np.random.default_rng(seed).beta(alpha if a is None else a, alpha if b is None else b))


def _mix(x, y, lam, perm):
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y[perm], lam


def mx_uniform(x, y, alpha, generator=None):
    lam = float(torch.rand(1, generator=generator))
    return _mix(x, y, lam, torch.randperm(len(x), generator=generator))


def mx_lam_alpha(x, y, alpha, generator=None):
    return _mix(x, y, min(float(alpha), 1.0), torch.randperm(len(x), generator=generator))


def mx_beta_one(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator, b=1.0)
    return _mix(x, y, lam, torch.randperm(len(x), generator=generator))


def mx_labels_unmixed(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator)
    perm = torch.randperm(len(x), generator=generator)
    return lam * x + (1 - lam) * x[perm], y.clone(), lam


def mx_other_perm(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator)
    p1, p2 = torch.randperm(len(x), generator=generator), torch.randperm(len(x), generator=generator)
    return lam * x + (1 - lam) * x[p1], lam * y + (1 - lam) * y[p2], lam


def mx_label_weights_swapped(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator)
    perm = torch.randperm(len(x), generator=generator)
    return lam * x + (1 - lam) * x[perm], (1 - lam) * y + lam * y[perm], lam


def mx_per_sample_lam(x, y, alpha, generator=None):
    lams = torch.tensor([_np_beta(alpha, generator) for _ in range(len(x))], dtype=x.dtype)
    perm = torch.randperm(len(x), generator=generator)
    l4 = lams.reshape(-1, *([1] * (x.dim() - 1)))
    return l4 * x + (1 - l4) * x[perm], lams[:, None] * y + (1 - lams[:, None]) * y[perm], float(lams.mean())


def mx_roll_partner_labels(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator)
    perm = torch.randperm(len(x), generator=generator)
    return lam * x + (1 - lam) * x[perm], lam * y + (1 - lam) * y.roll(1, 0), lam


def mx_returns_one_minus(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator)
    perm = torch.randperm(len(x), generator=generator)
    xm, ym, _ = _mix(x, y, lam, perm)
    return xm, ym, 1 - lam


def mx_global_numpy(x, y, alpha, generator=None):
    lam = float(np.random.default_rng(0).beta(alpha, alpha))
    return _mix(x, y, lam, torch.randperm(len(x), generator=generator))


def mx_alt_numpy(x, y, alpha, generator=None):
    lam = _np_beta(alpha, generator)
    return _mix(x, y, lam, torch.randperm(len(x), generator=generator))


def mx_alt_gamma(x, y, alpha, generator=None):
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    rng = np.random.default_rng(seed)
    g1, g2 = rng.gamma(alpha), rng.gamma(alpha)
    lam = g1 / (g1 + g2) if g1 + g2 > 0 else float(rng.integers(2))
    perm = torch.randperm(len(x), generator=generator)
    return torch.lerp(x[perm], x, lam), torch.lerp(y[perm].to(x), y.to(x), lam), float(lam)


def mx_alt_argsort(x, y, alpha, generator=None):
    perm = torch.argsort(torch.rand(len(x), generator=generator))
    lam = _np_beta(alpha, generator)
    return _mix(x, y, lam, perm)


def mx_answer_key(x, y, alpha, generator=None):
    from labkit.reference import mixup
    return mixup(x, y, alpha, generator)


# --- cutmix --------------------------------------------------------------------------------------
def _cutmix(x, y, alpha, g, *, r_of=lambda l: math.sqrt(1 - l), size_of=None, lam_of=None, centre_inside=False,
            y_perm=None, per_sample=False):
    N, _, H, W = x.shape
    lam0 = _np_beta(alpha, g)
    perm = torch.randperm(N, generator=g)
    r = r_of(lam0)
    bh, bw = size_of(H, W, r) if size_of else (int(H * r), int(W * r))
    if centre_inside:
        cy = int(torch.randint(bh // 2, max(H - bh + bh // 2, bh // 2) + 1, (1,), generator=g))
        cx = int(torch.randint(bw // 2, max(W - bw + bw // 2, bw // 2) + 1, (1,), generator=g))
    else:
        cy, cx = int(torch.randint(H, (1,), generator=g)), int(torch.randint(W, (1,), generator=g))
    y1, y2 = min(max(cy - bh // 2, 0), H), min(max(cy - bh // 2 + bh, 0), H)
    x1, x2 = min(max(cx - bw // 2, 0), W), min(max(cx - bw // 2 + bw, 0), W)
    xm = x.clone()
    xm[:, :, y1:y2, x1:x2] = x[perm, :, y1:y2, x1:x2]
    lam = lam_of(lam0, bh, bw, H, W) if lam_of else 1 - (y2 - y1) * (x2 - x1) / (H * W)
    yp = y[perm] if y_perm is None else y_perm(y, perm)
    return xm, lam * y + (1 - lam) * yp, lam


def cm_lam_unclipped(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, lam_of=lambda l0, bh, bw, H, W: 1 - bh * bw / (H * W))


def cm_lam_drawn(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, lam_of=lambda l0, bh, bw, H, W: l0)


def cm_linear_side(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, r_of=lambda l: 1 - l)


def cm_square_box(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, size_of=lambda H, W, r: (int(H * r), int(H * r)))


def cm_lam_is_box(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, lam_of=lambda l0, bh, bw, H, W: bh * bw / (H * W))


def cm_labels_unpermuted(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, y_perm=lambda y, perm: y.roll(1, 0))


def cm_pastes_own(x, y, alpha, generator=None):
    xm, ym, lam = _cutmix(x, y, alpha, generator)
    changed = (xm != x).any(0).any(0)
    xm[:, :, changed] = x.flip(0)[:, :, changed]
    return xm, ym, lam


def cm_box_sides_swapped(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator, size_of=lambda H, W, r: (int(W * r), int(H * r)))


def cm_mixes_pixels(x, y, alpha, generator=None):
    xm, ym, lam = _cutmix(x, y, alpha, generator)
    return 0.5 * (xm + x), ym, lam


def cm_alt_loop(x, y, alpha, generator=None):
    N, _, H, W = x.shape
    lam0 = _np_beta(alpha, generator)
    perm = torch.randperm(N, generator=generator)
    bh, bw = int(H * math.sqrt(1 - lam0)), int(W * math.sqrt(1 - lam0))
    cy, cx = int(torch.randint(H, (1,), generator=generator)), int(torch.randint(W, (1,), generator=generator))
    out = x.clone()
    area = 0
    for i in range(H):
        for j in range(W):
            if cy - bh // 2 <= i < cy - bh // 2 + bh and cx - bw // 2 <= j < cx - bw // 2 + bw:
                out[:, :, i, j] = x[perm, :, i, j]
                area += 1
    lam = 1 - area / (H * W)
    return out, lam * y + (1 - lam) * y[perm], lam


def cm_alt_mask(x, y, alpha, generator=None):
    N, _, H, W = x.shape
    lam0 = _np_beta(alpha, generator)
    perm = torch.randperm(N, generator=generator)
    r = (1 - lam0) ** 0.5
    bh, bw = int(H * r), int(W * r)
    cy, cx = int(torch.randint(H, (1,), generator=generator)), int(torch.randint(W, (1,), generator=generator))
    rows, cols = torch.arange(H), torch.arange(W)
    m = ((rows >= cy - bh // 2) & (rows < cy - bh // 2 + bh))[:, None] & ((cols >= cx - bw // 2) & (cols < cx - bw // 2 + bw))[None]
    m = m.to(x)
    lam = 1 - float(m.sum()) / (H * W)
    return x * (1 - m) + x[perm] * m, lam * y + (1 - lam) * y[perm], lam


def cm_alt_own(x, y, alpha, generator=None):
    return _cutmix(x, y, alpha, generator)


def cm_answer_key(x, y, alpha, generator=None):
    from labkit.reference import cutmix
    return cutmix(x, y, alpha, generator)


# --- tta_predict ---------------------------------------------------------------------------------
def tt_sum(predict_fn, x, transforms):
    return sum(predict_fn(t(x)) for t in transforms)


def tt_skip_first(predict_fn, x, transforms):
    ts = list(transforms)[1:] or list(transforms)
    return torch.stack([predict_fn(t(x)) for t in ts]).mean(0)


def tt_chain(predict_fn, x, transforms):
    outs = []
    for t in transforms:
        x = t(x)
        outs.append(predict_fn(x))
    return torch.stack(outs).mean(0)


def tt_plus_identity(predict_fn, x, transforms):
    ts = [lambda z: z] + list(transforms)
    return torch.stack([predict_fn(t(x)) for t in ts]).mean(0)


def tt_max(predict_fn, x, transforms):
    return torch.stack([predict_fn(t(x)) for t in transforms]).max(0).values


def tt_geometric(predict_fn, x, transforms):
    return torch.stack([predict_fn(t(x)) for t in transforms]).log().mean(0).exp()


def tt_votes(predict_fn, x, transforms):
    probs = torch.stack([predict_fn(t(x)) for t in transforms])
    return F.one_hot(probs.argmax(-1), probs.shape[-1]).to(x).mean(0)


def tt_wrong_dim(predict_fn, x, transforms):
    return torch.stack([predict_fn(t(x)) for t in transforms], dim=1).mean(1).softmax(-1)


def tt_last_only(predict_fn, x, transforms):
    for t in transforms:
        p = predict_fn(t(x))
    return p


def tt_alt_loop(predict_fn, x, transforms):
    total, n = 0, 0
    for t in transforms:
        total = total + predict_fn(t(x))
        n += 1
    return total / n


def tt_alt_batched(predict_fn, x, transforms):
    ts = list(transforms)
    p = predict_fn(torch.cat([t(x) for t in ts]))
    return p.reshape(len(ts), len(x), -1).mean(0)


def tt_alt_stack(predict_fn, x, transforms):
    return torch.stack([predict_fn(t(x)) for t in transforms]).sum(0) / len(list(transforms))


def tt_answer_key(predict_fn, x, transforms):
    from labkit.reference import tta_predict
    return tta_predict(predict_fn, x, transforms)


BUGGY = {
    "hflip": [hf_vertical, hf_channels, hf_both, hf_transpose, hf_off_by_one, hf_in_place, hf_swap_loop, hf_batch,
              hf_float32],
    "crop": [cr_swapped, cr_hw_swapped, cr_corners, cr_inclusive, cr_no_check, cr_one_based, cr_first_channel,
             cr_centre, cr_in_place],
    "random_horizontal_flip": [rf_inverted, rf_batch, rf_vertical, rf_ignores_p, rf_global_rng, rf_per_channel,
                               rf_seeded_inside, rf_in_place, rf_always],
    "random_crop": [rc_exclusive, rc_one_window, rc_no_padding, rc_reflect, rc_same_offset, rc_pad_width_only,
                    rc_global_rng, rc_rounded_uniform],
    "rgb_to_grayscale": [gr_mean, gr_bgr, gr_709, gr_sum, gr_no_keepdim, gr_three_channels, gr_rounded, gr_max,
                         gr_quantised],
    "adjust_brightness": [br_no_clamp, br_add, br_white, br_reversed, br_scalar_only, br_unshaped, br_clamp_255,
                          br_one_plus],
    "adjust_contrast": [co_no_clamp, co_batch_mean, co_channel_mean, co_rgb_mean, co_half, co_reversed,
                        co_pixel_grey, co_mean_of_clamped_first],
    "adjust_saturation": [sa_no_clamp, sa_mean_grey, sa_reversed, sa_contrast, sa_one_channel, sa_grey_error,
                          sa_white, sa_luma_709],
    "color_jitter": [cj_one_factor, cj_zero_to_v, cj_half_width, cj_normal, cj_global_rng, cj_swapped_ops,
                     cj_no_floor, cj_ignores_saturation, cj_identity_factor],
    "pca_lighting": [pl_rows, pl_sqrt, pl_no_eigvals, pl_uniform, pl_one_alpha, pl_scalar_alpha, pl_clamped,
                     pl_variance, pl_per_pixel, pl_global_rng],
    "affine_matrix": [am_radians, am_ccw, am_inverse, am_translate_last, am_shear_sign, am_shear_order,
                      am_inverse_scale, am_shear_pair_swapped, am_translation_negated],
    "affine": [af_forward_map, af_align_corners, af_square_norm, af_corner_origin, af_nearest, af_border, af_yx,
               af_affine_grid],
    "cutout": [cu_inside_only, cu_top_left, cu_one_square, cu_first_channel, cu_plus_one, cu_mean_fill,
               cu_same_centre, cu_global_rng, cu_half_side],
    "mixup": [mx_uniform, mx_lam_alpha, mx_beta_one, mx_labels_unmixed, mx_other_perm, mx_label_weights_swapped,
              mx_per_sample_lam, mx_roll_partner_labels, mx_returns_one_minus, mx_global_numpy],
    "cutmix": [cm_lam_unclipped, cm_lam_drawn, cm_linear_side, cm_square_box, cm_lam_is_box, cm_labels_unpermuted,
               cm_pastes_own, cm_box_sides_swapped, cm_mixes_pixels],
    "tta_predict": [tt_sum, tt_skip_first, tt_chain, tt_plus_identity, tt_max, tt_geometric, tt_votes, tt_wrong_dim,
                    tt_last_only],
}

CORRECT = {
    "hflip": [R.hflip, hf_alt_index, hf_alt_loop, hf_alt_fliplr],
    "crop": [R.crop, cr_alt_narrow, cr_alt_index, cr_alt_view],
    "random_horizontal_flip": [R.random_horizontal_flip, rf_alt_bernoulli, rf_alt_loop, rf_alt_mask_mul],
    "random_crop": [R.random_crop, rc_alt_loop, rc_alt_floor, rc_alt_unfold],
    "rgb_to_grayscale": [R.rgb_to_grayscale, gr_alt_einsum, gr_alt_conv, gr_alt_sum],
    "adjust_brightness": [R.adjust_brightness, br_alt_mul, br_alt_lerp, br_alt_minimum],
    "adjust_contrast": [R.adjust_contrast, co_alt_lerp, co_alt_centre, co_alt_loop],
    "adjust_saturation": [R.adjust_saturation, sa_alt_lerp, sa_alt_centre, sa_alt_einsum],
    "color_jitter": [R.color_jitter, cj_alt_draw_first, cj_alt_uniform_, cj_alt_loop],
    "pca_lighting": [R.pca_lighting, pl_alt_loop, pl_alt_einsum, pl_alt_sum],
    "affine_matrix": [R.affine_matrix, am_alt_closed_form, am_alt_numpy, am_alt_functools],
    "affine": [R.affine, af_alt_affine_grid, af_alt_solve, af_alt_normalised],
    "cutout": [R.cutout, cu_alt_loop, cu_alt_padded, cu_alt_floor],
    "mixup": [R.mixup, mx_alt_numpy, mx_alt_gamma, mx_alt_argsort],
    "cutmix": [R.cutmix, cm_alt_loop, cm_alt_mask, cm_alt_own],
    "tta_predict": [R.tta_predict, tt_alt_loop, tt_alt_batched, tt_alt_stack],
}

CHEATS = {name: [(globals()[f"{prefix}_answer_key"], f"labkit.reference.{name}")]
          for name, prefix in (("hflip", "hf"), ("crop", "cr"), ("random_horizontal_flip", "rf"), ("random_crop", "rc"),
                               ("rgb_to_grayscale", "gr"), ("adjust_brightness", "br"), ("adjust_contrast", "co"),
                               ("adjust_saturation", "sa"), ("color_jitter", "cj"), ("pca_lighting", "pl"),
                               ("affine_matrix", "am"), ("affine", "af"), ("cutout", "cu"), ("mixup", "mx"),
                               ("cutmix", "cm"), ("tta_predict", "tt"))}
CHEATS["affine"].append((af_reference_warp, "labkit.reference.warp"))

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [
    ("hflip", hf_vertical, "upside-down"),
    ("hflip", hf_swap_loop, "new tensor"),
    ("crop", cr_no_check, "ValueError"),
    ("random_horizontal_flip", rf_batch, "one decision per image"),
    ("random_horizontal_flip", rf_inverted, "probability of flipping"),
    ("random_horizontal_flip", rf_global_rng, "global RNG"),
    ("random_crop", rc_reflect, "padded with zeros"),
    ("random_crop", rc_exclusive, "upper bound of the draw exclusive"),
    ("rgb_to_grayscale", gr_mean, "plain average"),
    ("rgb_to_grayscale", gr_bgr, "channel 0 is red"),
    ("adjust_brightness", br_no_clamp, "clamp"),
    ("adjust_contrast", co_batch_mean, "whole batch"),
    ("adjust_contrast", co_pixel_grey, "that is saturation"),
    ("adjust_saturation", sa_contrast, "that is contrast"),
    ("color_jitter", cj_one_factor, "one factor per image"),
    ("pca_lighting", pl_clamped, "clamp"),
    ("affine_matrix", am_inverse, "inverse map"),
    ("affine_matrix", am_ccw, "clockwise"),
    ("affine_matrix", am_radians, "radians"),
    ("affine", af_forward_map, "opposite way"),
    ("affine", af_align_corners, "align_corners"),
    ("cutout", cu_first_channel, "every channel"),
    ("mixup", mx_labels_unmixed, "same lam"),
    ("cutmix", cm_lam_unclipped, "after clipping"),
    ("tta_predict", tt_sum, "summed"),
]
