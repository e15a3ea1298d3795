"""Notebook 04: realistic buggy student versions (each must lose points), correct versions written
differently from the reference (each must keep full marks, whatever way they draw their random numbers)
and cheats (the built-in dropout, autograd, the answer key: each must score 0 with the call named),
grouped by function; BUGGY, CORRECT and CHEATS at the end list them. A backward alone is paired with
the reference forward (whose cache is the scaled mask, or None when dropout is off)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .answer_key import RAW as R  # noqa: F401  (the references, callable from a student's function here)

# --- dropout_forward ------------------------------------------------------------------------------


def df_keeps_with_p(x, p, train=True, generator=None):  # p read as the keep probability (as 000 and 002 do)
    if not train:
        return x.clone(), None
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) < p).to(x.dtype)
    return x * mask / p, mask / p


def df_no_rescale(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), None
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * mask, mask


def df_multiplies_by_keep(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), None
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * mask * (1 - p), mask * (1 - p)


def df_divides_by_p(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) > p).to(x.dtype) / p
    return x * mask, mask


def df_uniform_noise(x, p, train=True, generator=None):  # the slide's first code block: no "< p"
    if not train or p == 0:
        return x.clone(), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = torch.rand(x.shape, generator=generator, dtype=x.dtype) / (1 - p)
    return x * mask, mask


def df_vanilla_at_test(x, p, train=True, generator=None):  # scales at test time as well
    if not train:
        return x * (1 - p), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    return x * mask, mask


def df_ignores_train(x, p, train=True, generator=None):
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    return x * mask, mask


def df_nan_at_one(x, p, train=True, generator=None):
    if not train:
        return x.clone(), None
    keep = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return x * keep / (1 - p), keep / (1 - p)


def df_one_mask_per_batch(x, p, train=True, generator=None):  # 004: "held fixed during that mini-batch"
    if not train or p == 0:
        return x.clone(), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = (torch.rand(x.shape[1:], generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    return x * mask, mask.expand_as(x)


def df_global_rng(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = (torch.rand(x.shape, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    return x * mask, mask


def df_reseeds(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    torch.manual_seed(0)  # "for reproducibility"
    mask = (torch.rand(x.shape, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    return x * mask, mask


def df_in_place(x, p, train=True, generator=None):
    if not train or p == 0:
        return x, None
    if p == 1:
        return x.zero_(), torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype) / (1 - p)
    x *= mask
    return x, mask


def df_float64_mask(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), None
    if p == 1:
        return torch.zeros_like(x), torch.zeros_like(x)
    mask = (torch.rand(x.shape, generator=generator, dtype=torch.float64) >= p).double() / (1.0 - p)
    return x * mask, mask


def dfc_bernoulli(x, p, train=True, generator=None):
    if not train or p == 0.0:
        return x.clone(), None
    keep = torch.bernoulli(torch.full_like(x, 1.0 - p), generator=generator)
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    return x * keep * scale, keep * scale


def dfc_where(x, p, train=True, generator=None):
    if train is False or p <= 0:
        return x * 1, ("off",)
    u = torch.empty(x.shape, dtype=x.dtype).uniform_(0, 1, generator=generator)
    keep = u > p  # P(u > p) = 1 - p
    out = torch.where(keep, x / max(1.0 - p, 1e-300), torch.zeros_like(x)) if p < 1 else torch.zeros_like(x)
    return out, ("on", keep, p)


def dfc_exact_count(x, p, train=True, generator=None):  # drops exactly round(p n) entries at random
    if not train or p == 0:
        return x.clone(), None
    n = x.numel()
    order = torch.randperm(n, generator=generator)
    keep = torch.ones(n, dtype=x.dtype)
    keep[order[: round(p * n)]] = 0
    keep = keep.reshape(x.shape)
    if p == 1:
        return torch.zeros_like(x), keep
    return x * keep / (1 - p), keep / (1 - p)


def dfc_numpy_style(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.detach().clone(), None
    if p >= 1:
        z = torch.zeros_like(x)
        return z, z
    mask = (torch.rand(*x.shape, generator=generator) < 1 - p).to(dtype=x.dtype, device=x.device)
    mask /= 1 - p
    return x * mask, mask


# --- dropout_backward (pairs: a forward with its own cache, and its backward) -----------------------


def _fwd_mask_p(x, p, train=True, generator=None):
    """A correct forward whose cache is (binary keep mask, p), or None when off."""
    if not train or p == 0:
        return x.clone(), None
    keep = (torch.rand(x.shape, generator=generator, dtype=x.dtype) >= p).to(x.dtype)
    return (torch.zeros_like(x) if p == 1 else x * keep / (1 - p)), (keep, p)


def _fwd_p_only(x, p, train=True, generator=None):
    """A correct forward that keeps only p (so its backward cannot know the mask)."""
    out, cache = _fwd_mask_p(x, p, train, generator)
    return out, (None if cache is None else (p, x.shape))


def db_redraws(dout, cache):
    if cache is None:
        return dout.clone()
    p, shape = cache
    keep = (torch.rand(shape, dtype=dout.dtype) >= p).to(dout.dtype)
    return dout * keep / (1 - p) if p < 1 else torch.zeros_like(dout)


def db_no_scale(dout, cache):
    if cache is None:
        return dout.clone()
    keep, p = cache
    return dout * keep


def db_identity(dout, cache):
    return dout.clone()


def db_inverted_mask(dout, cache):
    if cache is None:
        return dout.clone()
    keep, p = cache
    return torch.zeros_like(dout) if p == 1 else dout * (1 - keep) / (1 - p)


def _fwd_caches_out(x, p, train=True, generator=None):
    out, _ = R.dropout_forward(x, p, train, generator)
    return out, out


def db_uses_output(dout, cache):
    return dout * cache


def db_eval_crashes(dout, cache):  # the reference forward's cache is None when dropout is off
    return dout * cache


def db_nan_at_one(dout, cache):
    if cache is None:
        return dout.clone()
    keep, p = cache
    return dout * keep / (1 - p)


def db_in_place(dout, cache):
    if cache is None:
        return dout
    dout *= cache
    return dout


def db_scale_twice(dout, cache):
    if cache is None:
        return dout.clone()
    keep, p = cache
    return torch.zeros_like(dout) if p == 1 else dout * keep / (1 - p) ** 2


def dbc_reference_cache(dout, cache):
    return dout.clone() if cache is None else torch.mul(dout, cache)


def dbc_mask_p(dout, cache):
    if cache is None:
        return dout * 1
    keep, p = cache
    if p == 1:
        return torch.zeros_like(dout)
    return torch.where(keep.bool(), dout / (1 - p), torch.zeros_like(dout))


def _fwd_bool_scale(x, p, train=True, generator=None):
    if not train or p == 0:
        return x.clone(), {"on": False}
    keep = torch.rand(x.shape, generator=generator) >= p
    scale = 0.0 if p == 1 else 1 / (1 - p)
    return x * keep * scale, {"on": True, "keep": keep, "scale": scale}


def dbc_dict_cache(dout, cache):
    if not cache["on"]:
        return dout.clone()
    return dout * cache["keep"].to(dout.dtype) * cache["scale"]


def dbc_exact_count_pair(dout, cache):
    return dout.clone() if cache is None else dout * cache


# --- l2_penalty ------------------------------------------------------------------------------------


def l2_no_two(weights, lam):
    return lam * sum((w ** 2).sum() for w in weights), [lam * w for w in weights]


def l2_norm_not_squared(weights, lam):  # 003: alpha * ||W||_2
    norm = torch.sqrt(sum((w ** 2).sum() for w in weights))
    return lam * norm, [lam * w / norm for w in weights]


def l2_half(weights, lam):
    return 0.5 * lam * sum((w ** 2).sum() for w in weights), [lam * w for w in weights]


def l2_mean(weights, lam):
    return lam * sum((w ** 2).mean() for w in weights), [2 * lam * w / w.numel() for w in weights]


def l2_overwrites_total(weights, lam):
    grads = []
    for w in weights:
        loss = lam * (w ** 2).sum()
        grads.append(2 * lam * w)
    return loss, grads


def l2_first_grad_only(weights, lam):
    loss = lam * sum((w ** 2).sum() for w in weights)
    return loss, [2 * lam * weights[0]] + [torch.zeros_like(w) for w in weights[1:]]


def l2_in_place(weights, lam):
    loss = lam * sum((w ** 2).sum() for w in weights)
    return loss, [w.mul_(2 * lam) for w in weights]


def l2_grad_without_lam(weights, lam):
    return lam * sum((w ** 2).sum() for w in weights), [2 * w for w in weights]


def l2_integer_accumulator(weights, lam):  # 004's code: torch.tensor(0) is an integer tensor
    total = torch.tensor(0)
    for w in weights:
        total += (w ** 2).sum()
    return lam * total, [2 * lam * w for w in weights]


def l2_one_flat_grad(weights, lam):
    loss = lam * sum((w ** 2).sum() for w in weights)
    return loss, torch.cat([(2 * lam * w).reshape(-1) for w in weights])


def l2c_loop(weights, lam):
    loss = torch.zeros((), dtype=weights[0].dtype)
    grads = []
    for w in weights:
        loss = loss + lam * torch.sum(w * w)
        grads.append(2.0 * lam * w)
    return loss, grads


def l2c_norm(weights, lam):
    return lam * sum(torch.linalg.vector_norm(w) ** 2 for w in weights), [w * (2 * lam) for w in weights]


def l2c_cat(weights, lam):
    flat = torch.cat([w.reshape(-1) for w in weights])
    return lam * flat.dot(flat), [torch.mul(w, 2 * lam) for w in weights]


def l2c_tuple(weights, lam):
    grads = tuple(2 * lam * w for w in weights)
    return sum(lam * w.pow(2).sum() for w in weights), grads


# --- l1_penalty ------------------------------------------------------------------------------------


def l1_no_abs(weights, lam):
    return lam * sum(w.sum() for w in weights), [lam * torch.sign(w) for w in weights]


def l1_w_over_abs(weights, lam):
    return lam * sum(w.abs().sum() for w in weights), [lam * w / w.abs() for w in weights]


def l1_positive_only(weights, lam):
    return lam * sum(w.abs().sum() for w in weights), [lam * (w > 0).to(w.dtype) for w in weights]


def l1_sign_zero_is_one(weights, lam):
    return lam * sum(w.abs().sum() for w in weights), [lam * torch.where(w >= 0, 1.0, -1.0).to(w.dtype)
                                                       for w in weights]


def l1_squares(weights, lam):
    return lam * sum((w ** 2).sum() for w in weights), [lam * torch.sign(w) for w in weights]


def l1_two_lam(weights, lam):
    return lam * sum(w.abs().sum() for w in weights), [2 * lam * torch.sign(w) for w in weights]


def l1_l2_shaped_grad(weights, lam):
    return lam * sum(w.abs().sum() for w in weights), [lam * w for w in weights]


def l1_mean(weights, lam):
    return lam * sum(w.abs().mean() for w in weights), [lam * torch.sign(w) / w.numel() for w in weights]


def l1_grad_without_lam(weights, lam):
    return lam * sum(w.abs().sum() for w in weights), [torch.sign(w) for w in weights]


def l1c_sign_method(weights, lam):
    return sum(lam * w.abs().sum() for w in weights), [w.sign() * lam for w in weights]


def l1c_comparisons(weights, lam):
    grads = [lam * ((w > 0).to(w.dtype) - (w < 0).to(w.dtype)) for w in weights]
    return lam * torch.stack([torch.linalg.vector_norm(w, ord=1) for w in weights]).sum(), grads


def l1c_where(weights, lam):
    grads = []
    for w in weights:
        grads.append(torch.where(w > 0, torch.full_like(w, lam), torch.where(w < 0, torch.full_like(w, -lam),
                                                                             torch.zeros_like(w))))
    return lam * torch.cat([w.reshape(-1) for w in weights]).abs().sum(), grads


def l1c_loop(weights, lam):
    loss = torch.zeros((), dtype=weights[0].dtype)
    grads = []
    for w in weights:
        loss += lam * w.abs().sum()
        grads.append(lam * torch.sgn(w))
    return loss, grads


# --- elastic_net_penalty ---------------------------------------------------------------------------
# A student's elastic net calls the student's own l1_penalty / l2_penalty; here they are correct ones.
l1_penalty = l1c_sign_method
l2_penalty = l2c_loop


def en_swapped(weights, l1, l2):
    a, ga = l1_penalty(weights, l2)
    b, gb = l2_penalty(weights, l1)
    return a + b, [x + y for x, y in zip(ga, gb)]


def en_l2_grads_only(weights, l1, l2):
    a, _ = l1_penalty(weights, l1)
    b, gb = l2_penalty(weights, l2)
    return a + b, gb


def en_average(weights, l1, l2):
    a, ga = l1_penalty(weights, l1)
    b, gb = l2_penalty(weights, l2)
    return (a + b) / 2, [(x + y) / 2 for x, y in zip(ga, gb)]


def en_concatenated_lists(weights, l1, l2):
    a, ga = l1_penalty(weights, l1)
    b, gb = l2_penalty(weights, l2)
    return a + b, ga + gb


def en_same_strength(weights, l1, l2):
    a, ga = l1_penalty(weights, l1)
    b, gb = l2_penalty(weights, l1)
    return a + b, [x + y for x, y in zip(ga, gb)]


def en_own_no_two(weights, l1, l2):
    loss = sum(l1 * w.abs().sum() + l2 * (w ** 2).sum() for w in weights)
    return loss, [l1 * torch.sign(w) + l2 * w for w in weights]


def en_squared_sum(weights, l1, l2):
    loss = sum(l1 * w.abs().sum() + l2 * w.sum() ** 2 for w in weights)
    return loss, [l1 * torch.sign(w) + 2 * l2 * w.sum() * torch.ones_like(w) for w in weights]


def en_product(weights, l1, l2):
    a, ga = l1_penalty(weights, l1)
    b, gb = l2_penalty(weights, l2)
    return a * b, [x * b + a * y for x, y in zip(ga, gb)]


def en_l2_of_l1_grads(weights, l1, l2):
    a, ga = l1_penalty(weights, l1)
    b, gb = l2_penalty(ga, l2)  # the L2 penalty applied to the wrong tensors
    return a + b, [x + y for x, y in zip(ga, gb)]


def enc_helpers(weights, l1, l2):
    loss1, grads1 = l1_penalty(weights, l1)
    loss2, grads2 = l2_penalty(weights, l2)
    return loss1 + loss2, [g1 + g2 for g1, g2 in zip(grads1, grads2)]


def enc_own(weights, l1, l2):
    loss = sum(l1 * w.abs().sum() + l2 * (w * w).sum() for w in weights)
    return loss, [l1 * w.sign() + 2 * l2 * w for w in weights]


def enc_map(weights, l1, l2):
    parts = [l1_penalty(weights, l1), l2_penalty(weights, l2)]
    grads = [torch.stack(pair).sum(dim=0) for pair in zip(parts[0][1], parts[1][1])]
    return parts[0][0] + parts[1][0], grads


def enc_loop(weights, l1, l2):
    total = torch.zeros((), dtype=weights[0].dtype)
    grads = []
    for w in weights:
        total = total + l1 * torch.linalg.vector_norm(w, 1) + l2 * torch.linalg.vector_norm(w) ** 2
        grads.append(torch.sign(w) * l1 + w * 2 * l2)
    return total, grads


# --- EarlyStopping ---------------------------------------------------------------------------------


class _Base:
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.num_bad_epochs, self.epoch = -1, 0, -1

    def better(self, metric):
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric):
        self.epoch += 1
        if self.better(metric):
            self.best, self.best_epoch, self.num_bad_epochs = metric, self.epoch, 0
        else:
            self.num_bad_epochs += 1
        return self.num_bad_epochs >= self.patience


class es_one_late(_Base):
    def step(self, metric):
        super().step(metric)
        return self.num_bad_epochs > self.patience


class es_ties_improve(_Base):
    def better(self, metric):
        if self.mode == "min":
            return metric <= self.best - self.min_delta
        return metric >= self.best + self.min_delta


class es_ignores_min_delta(_Base):
    def better(self, metric):
        return metric < self.best if self.mode == "min" else metric > self.best


class es_min_delta_wrong_side(_Base):
    def better(self, metric):
        if self.mode == "min":
            return metric < self.best + self.min_delta
        return metric > self.best - self.min_delta


class es_ignores_mode(_Base):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, "min")


class es_one_based_epoch(_Base):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.epoch = 0


class es_no_reset(_Base):
    def step(self, metric):
        self.epoch += 1
        if self.better(metric):
            self.best, self.best_epoch = metric, self.epoch
        else:
            self.num_bad_epochs += 1
        return self.num_bad_epochs >= self.patience


class es_best_always_moves(_Base):
    def step(self, metric):
        self.epoch += 1
        improved = self.better(metric)
        if (metric < self.best) if self.mode == "min" else (metric > self.best):
            self.best, self.best_epoch = metric, self.epoch
        self.num_bad_epochs = 0 if improved else self.num_bad_epochs + 1
        return self.num_bad_epochs >= self.patience


class es_compares_previous(_Base):
    def step(self, metric):
        self.epoch += 1
        previous = getattr(self, "previous", None)
        self.previous = metric
        if previous is None or (metric < previous - self.min_delta if self.mode == "min"
                                else metric > previous + self.min_delta):
            self.num_bad_epochs = 0
            if (metric < self.best) if self.mode == "min" else (metric > self.best):
                self.best, self.best_epoch = metric, self.epoch
        else:
            self.num_bad_epochs += 1
        return self.num_bad_epochs >= self.patience


class es_best_starts_at_zero(_Base):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        super().__init__(patience, min_delta, mode)
        self.best = 0.0


class es_forgets_return(_Base):
    def step(self, metric):
        if super().step(metric):
            return True


class esc_history(object):
    """Keeps every metric and recomputes the state."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.sign = patience, min_delta, 1.0 if mode == "min" else -1.0
        self.history = []
        self.best, self.best_epoch, self.num_bad_epochs = self.sign * math.inf, -1, 0

    def step(self, metric):
        metric = float(metric)
        self.history.append(metric)
        if self.sign * metric < self.sign * self.best - self.min_delta:
            self.best, self.best_epoch = metric, len(self.history) - 1
        self.num_bad_epochs = len(self.history) - 1 - self.best_epoch
        return bool(self.num_bad_epochs >= self.patience)


class esc_flags(object):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        assert mode in ("min", "max")
        self.patience, self.min_delta, self.maximise = patience, min_delta, mode == "max"
        self.best = None
        self.best_epoch = -1
        self.num_bad_epochs = 0
        self.calls = 0

    def step(self, metric):
        epoch = self.calls
        self.calls += 1
        if self.best is None:
            improved = True
        elif self.maximise:
            improved = metric - self.best > self.min_delta
        else:
            improved = self.best - metric > self.min_delta
        if improved:
            self.best, self.best_epoch, self.num_bad_epochs = metric, epoch, 0
        else:
            self.num_bad_epochs = self.num_bad_epochs + 1
        return self.num_bad_epochs >= self.patience


class esc_numpy(object):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        import numpy as np

        self.np = np
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = np.inf if mode == "min" else -np.inf
        self.best_epoch, self.num_bad_epochs, self._t = -1, 0, 0

    def step(self, metric):
        gain = (self.best - metric) if self.mode == "min" else (metric - self.best)
        if gain > self.min_delta:
            self.best, self.best_epoch, self.num_bad_epochs = metric, self._t, 0
        else:
            self.num_bad_epochs += 1
        self._t += 1
        return self.np.bool_(self.num_bad_epochs >= self.patience)


class esc_counter_property(object):
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best, self.best_epoch, self._steps = (math.inf if mode == "min" else -math.inf), -1, 0

    @property
    def num_bad_epochs(self):
        return self._steps - 1 - self.best_epoch

    def step(self, metric):
        better = metric < self.best - self.min_delta if self.mode == "min" else metric > self.best + self.min_delta
        if better:
            self.best, self.best_epoch = metric, self._steps
        self._steps += 1
        return self.num_bad_epochs >= self.patience


# --- cheats ----------------------------------------------------------------------------------------


def df_builtin(x, p, train=True, generator=None):
    return F.dropout(x, p, training=train), None


def df_answer_key(x, p, train=True, generator=None):
    import labkit.reference as ref

    return ref.dropout_forward(x, p, train, generator)


def db_autograd(dout, cache):  # differentiates "multiply by the cached mask" with autograd
    if cache is None:
        return dout.clone()
    with torch.enable_grad():
        z = torch.ones_like(dout).requires_grad_(True)
        (g,) = torch.autograd.grad(z * cache, z, dout)
    return g


def db_answer_key(dout, cache):
    import labkit.reference as ref

    return ref.dropout_backward(dout, cache)


def l2_answer_key(weights, lam):
    from labkit import reference

    return reference.l2_penalty(weights, lam)


def l2_autograd(weights, lam):
    with torch.enable_grad():
        ws = [w.clone().requires_grad_(True) for w in weights]
        loss = lam * sum((w ** 2).sum() for w in ws)
        grads = torch.autograd.grad(loss, ws)
    return loss.detach(), [g for g in grads]


def l1_answer_key(weights, lam):
    from labkit import reference

    return reference.l1_penalty(weights, lam)


def en_answer_key(weights, l1, l2):
    from labkit import reference

    return reference.elastic_net_penalty(weights, l1, l2)


class es_wraps_answer_key:
    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        from labkit import reference

        self.inner = reference.EarlyStopping(patience, min_delta, mode)

    def step(self, metric):
        stop = self.inner.step(metric)
        self.best, self.best_epoch, self.num_bad_epochs = self.inner.best, self.inner.best_epoch, \
            self.inner.num_bad_epochs
        return stop


def _subclass_of_answer_key():
    from labkit import reference

    class EarlyStopping(reference.EarlyStopping):
        pass

    return EarlyStopping


es_subclasses_answer_key = _subclass_of_answer_key()
es_subclasses_answer_key.__name__ = "es_subclasses_answer_key"


# --- the tables --------------------------------------------------------------------------------------
BUGGY = {
    "dropout_forward": [df_keeps_with_p, df_no_rescale, df_multiplies_by_keep, df_divides_by_p, df_uniform_noise,
                        df_vanilla_at_test, df_ignores_train, df_nan_at_one, df_one_mask_per_batch, df_global_rng,
                        df_reseeds, df_in_place, df_float64_mask],
    "dropout_backward": [(_fwd_p_only, db_redraws), (_fwd_mask_p, db_no_scale), db_identity,
                         (_fwd_mask_p, db_inverted_mask), (_fwd_caches_out, db_uses_output), db_eval_crashes,
                         (_fwd_mask_p, db_nan_at_one), db_in_place, (_fwd_mask_p, db_scale_twice)],
    "l2_penalty": [l2_no_two, l2_norm_not_squared, l2_half, l2_mean, l2_overwrites_total, l2_first_grad_only,
                   l2_in_place, l2_grad_without_lam, l2_integer_accumulator, l2_one_flat_grad],
    "l1_penalty": [l1_no_abs, l1_w_over_abs, l1_positive_only, l1_sign_zero_is_one, l1_squares, l1_two_lam,
                   l1_l2_shaped_grad, l1_mean, l1_grad_without_lam],
    "elastic_net_penalty": [en_swapped, en_l2_grads_only, en_average, en_concatenated_lists, en_same_strength,
                            en_own_no_two, en_squared_sum, en_product, en_l2_of_l1_grads],
    "EarlyStopping": [es_one_late, es_ties_improve, es_ignores_min_delta, es_min_delta_wrong_side, es_ignores_mode,
                      es_one_based_epoch, es_no_reset, es_best_always_moves, es_compares_previous,
                      es_best_starts_at_zero, es_forgets_return],
}

CORRECT = {
    "dropout_forward": [dfc_bernoulli, dfc_where, dfc_exact_count, dfc_numpy_style],
    "dropout_backward": [dbc_reference_cache, (_fwd_mask_p, dbc_mask_p), (_fwd_bool_scale, dbc_dict_cache),
                         (dfc_exact_count, dbc_exact_count_pair)],
    "l2_penalty": [l2c_loop, l2c_norm, l2c_cat, l2c_tuple],
    "l1_penalty": [l1c_sign_method, l1c_comparisons, l1c_where, l1c_loop],
    "elastic_net_penalty": [enc_helpers, enc_own, enc_map, enc_loop],
    "EarlyStopping": [_Base, esc_history, esc_flags, esc_numpy, esc_counter_property],
}

CHEATS = {  # (function, version, the call the report must name)
    "dropout_forward": [(df_builtin, "torch.nn.functional.dropout"), (df_answer_key, "labkit.reference.dropout_forward")],
    "dropout_backward": [(db_autograd, "torch.autograd.grad"),
                         (db_answer_key, "labkit.reference.dropout_backward")],
    "l2_penalty": [(l2_answer_key, "labkit.reference.l2_penalty"), (l2_autograd, "torch.autograd.grad")],
    "l1_penalty": [(l1_answer_key, "labkit.reference.l1_penalty")],
    "elastic_net_penalty": [(en_answer_key, "labkit.reference.elastic_net_penalty")],
    "EarlyStopping": [(es_wraps_answer_key, "labkit.reference.EarlyStopping"),
                      (es_subclasses_answer_key, "labkit.reference.EarlyStopping")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS = {"dropout_forward": [1, 2, 3, 5, 8], "EarlyStopping": [1, 2, 3, 5, 8]}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("dropout_forward", df_keeps_with_p, "probability of dropping"),
    ("dropout_forward", df_no_rescale, "kept entries equal x unchanged"),
    ("dropout_forward", df_multiplies_by_keep, "scale is inverted"),
    ("dropout_forward", df_divides_by_p, "drop probability where the keep probability"),
    ("dropout_forward", df_uniform_noise, "mask binary"),
    ("dropout_forward", df_vanilla_at_test, "nothing is scaled at test time"),
    ("dropout_forward", df_ignores_train, "evaluation mode turns dropout off"),
    ("dropout_forward", df_nan_at_one, "p = 1 gives NaN"),
    ("dropout_forward", df_one_mask_per_batch, "mask repeats across the batch"),
    ("dropout_forward", df_global_rng, "global random state"),
    ("dropout_forward", df_in_place, "changed: x"),
    ("dropout_forward", df_float64_mask, "float32 inputs on cpu came back as float64"),
    ("dropout_backward", (_fwd_p_only, db_redraws), "instead of drawing a new one"),
    ("dropout_backward", (_fwd_mask_p, db_no_scale), "miss the forward's scale"),
    ("dropout_backward", db_identity, "mask is not applied"),
    ("dropout_backward", (_fwd_mask_p, db_inverted_mask), "mask is inverted"),
    ("dropout_backward", (_fwd_caches_out, db_uses_output), "does not involve x"),
    ("dropout_backward", (_fwd_mask_p, db_nan_at_one), "NaN in dx"),
    ("dropout_backward", db_in_place, "changed: dout"),
    ("l2_penalty", l2_no_two, "2 times too small"),
    ("l2_penalty", l2_norm_not_squared, "not the squared norm"),
    ("l2_penalty", l2_overwrites_total, "only the last weight tensor"),
    ("l2_penalty", l2_first_grad_only, "first tensor's gradient is right"),
    ("l2_penalty", l2_in_place, "changed: weights"),
    ("l2_penalty", l2_one_flat_grad, "should be a list"),
    ("l2_penalty", l2_integer_accumulator, "RuntimeError"),
    ("l1_penalty", l1_no_abs, "can be negative"),
    ("l1_penalty", l1_w_over_abs, "0 / 0"),
    ("l1_penalty", l1_positive_only, "0 for negative weights"),
    ("l1_penalty", l1_sign_zero_is_one, "sign(0) is 0"),
    ("l1_penalty", l1_squares, "L2 penalty's value"),
    ("l1_penalty", l1_l2_shaped_grad, "grows with the weights"),
    ("elastic_net_penalty", en_swapped, "swapped"),
    ("elastic_net_penalty", en_concatenated_lists, "one tensor per weight tensor"),
    ("EarlyStopping", es_one_late, "what .step returns"),
    ("EarlyStopping", es_ties_improve, "equal to the best"),
    ("EarlyStopping", es_ignores_mode, "mode 'max'"),
    ("EarlyStopping", es_one_based_epoch, ".best_epoch"),
    ("EarlyStopping", es_no_reset, ".num_bad_epochs"),
    ("EarlyStopping", es_best_starts_at_zero, ".best"),
    ("EarlyStopping", es_min_delta_wrong_side, "min_delta"),
]
