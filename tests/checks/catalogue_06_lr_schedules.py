"""Notebook 06: realistic buggy student versions of the schedules (each must lose points), correct
versions written differently from the reference (each must keep full marks) and cheats (the answer
key: each must score 0 with the call named). BUGGY, CORRECT and CHEATS at the end list them."""
from __future__ import annotations

import bisect
import collections
import functools
import math

import numpy as np
import torch

import labkit.reference as guarded

from .answer_key import RAW as R

# --- step_decay ---------------------------------------------------------------------------------


def sd_early(t, lr0, step_size, gamma=0.1):  # counts steps from 1
    return lr0 * gamma ** ((t + 1) // step_size)


def sd_smooth(t, lr0, step_size, gamma=0.1):  # forgot the floor
    return lr0 * gamma ** (t / step_size)


def sd_times_gamma(t, lr0, step_size, gamma=0.1):  # multiplies instead of raising to a power
    k = t // step_size
    return lr0 * gamma * k if k else lr0


def sd_round(t, lr0, step_size, gamma=0.1):  # round() instead of floor
    return lr0 * gamma ** round(t / step_size)


def sd_ceil(t, lr0, step_size, gamma=0.1):
    return lr0 * gamma ** math.ceil(t / step_size)


def sd_once(t, lr0, step_size, gamma=0.1):  # decays only once
    return lr0 * gamma if t >= step_size else lr0


def sd_fixed_gamma(t, lr0, step_size, gamma=0.1):  # ignores the argument
    return lr0 * 0.1 ** (t // step_size)


def sd_tensor(t, lr0, step_size, gamma=0.1):  # a 0-d tensor, not a float
    return torch.tensor(lr0) * gamma ** (t // step_size)


def sd_rounded(t, lr0, step_size, gamma=0.1):  # rounded "for printing"
    return round(lr0 * gamma ** (t // step_size), 4)


_SD_STATE = {"lr": None}


def sd_stateful(t, lr0, step_size, gamma=0.1):  # keeps the rate between calls, like a scheduler object
    if t == 0 or _SD_STATE["lr"] is None:
        _SD_STATE["lr"] = lr0
    elif t % step_size == 0:
        _SD_STATE["lr"] *= gamma
    return _SD_STATE["lr"]


def sd_alt_floor(t, lr0, step_size, gamma=0.1):
    return lr0 * math.pow(gamma, math.floor(t / step_size))


def sd_alt_loop(t, lr0, step_size, gamma=0.1):
    lr = lr0
    for _ in range(t // step_size):
        lr *= gamma
    return lr


def sd_alt_divmod(t, lr0, step_size, gamma=0.1):
    periods, _ = divmod(t, step_size)
    return float(lr0 * gamma ** periods)


def sd_alt_numpy(t, lr0, step_size, gamma=0.1):
    return float(lr0 * np.power(gamma, t // step_size))


def sd_answer_key(t, lr0, step_size, gamma=0.1):
    return guarded.step_decay(t, lr0, step_size, gamma)


# --- multistep_decay ----------------------------------------------------------------------------


def ms_strict(t, lr0, milestones, gamma=0.1):  # decays one step after the milestone
    return lr0 * gamma ** sum(m < t for m in milestones)


def ms_assumes_sorted(t, lr0, milestones, gamma=0.1):
    k = 0
    for m in milestones:
        if t < m:
            break
        k += 1
    return lr0 * gamma ** k


def ms_set(t, lr0, milestones, gamma=0.1):  # a repeated milestone counted once
    return lr0 * gamma ** sum(m <= t for m in set(milestones))


def ms_times(t, lr0, milestones, gamma=0.1):
    k = sum(m <= t for m in milestones)
    return lr0 * gamma * k if k else lr0


def ms_last_index(t, lr0, milestones, gamma=0.1):  # 0-based index of the last milestone passed
    passed = [i for i, m in enumerate(sorted(milestones)) if m <= t]
    return lr0 * gamma ** passed[-1] if passed else lr0


def ms_bisect_left(t, lr0, milestones, gamma=0.1):
    return lr0 * gamma ** bisect.bisect_left(sorted(milestones), t)


def ms_fixed_gamma(t, lr0, milestones, gamma=0.1):
    return lr0 * 0.1 ** sum(m <= t for m in milestones)


def ms_equal_only(t, lr0, milestones, gamma=0.1):  # decays only AT the milestone step
    return lr0 * gamma if t in milestones else lr0


def ms_tensor(t, lr0, milestones, gamma=0.1):
    return lr0 * torch.tensor(gamma, dtype=torch.float64) ** sum(m <= t for m in milestones)


def ms_alt_bisect(t, lr0, milestones, gamma=0.1):
    return lr0 * gamma ** bisect.bisect_right(sorted(milestones), t)


def ms_alt_counter(t, lr0, milestones, gamma=0.1):
    counts = collections.Counter(milestones)
    return lr0 * gamma ** sum(c for m, c in counts.items() if m <= t)


def ms_alt_loop(t, lr0, milestones, gamma=0.1):
    lr = lr0
    for m in milestones:
        if t >= m:
            lr = lr * gamma
    return lr


def ms_alt_numpy(t, lr0, milestones, gamma=0.1):
    return float(lr0 * gamma ** int((np.asarray(milestones) <= t).sum()))


def ms_answer_key(t, lr0, milestones, gamma=0.1):
    return guarded.multistep_decay(t, lr0, milestones, gamma)


# --- exponential_decay --------------------------------------------------------------------------


def ed_plus_one(t, lr0, gamma):
    return lr0 * gamma ** (t + 1)


def ed_exp(t, lr0, gamma):  # gamma used as a rate constant
    return lr0 * math.exp(-gamma * t)


def ed_linear(t, lr0, gamma):
    return lr0 * gamma * t if t else lr0


def ed_one_minus(t, lr0, gamma):
    return lr0 * (1 - gamma) ** t


def ed_float32(t, lr0, gamma):
    return float(torch.tensor(lr0, dtype=torch.float32) * torch.tensor(gamma, dtype=torch.float32) ** t)


def ed_divides(t, lr0, gamma):
    return lr0 / gamma ** t


def ed_rounded(t, lr0, gamma):
    return round(lr0 * gamma ** t, 5)


def ed_numpy_scalar(t, lr0, gamma):  # a numpy float32, not a Python float
    return np.float32(lr0) * np.float32(gamma) ** t


def ed_every_other(t, lr0, gamma):  # "per epoch of 2 steps"
    return lr0 * gamma ** (t // 2)


def ed_alt_log(t, lr0, gamma):
    return lr0 * math.exp(t * math.log(gamma))


def ed_alt_loop(t, lr0, gamma):
    lr = lr0
    for _ in range(t):
        lr *= gamma
    return lr


def ed_alt_pow(t, lr0, gamma):
    return math.pow(gamma, t) * lr0


def ed_alt_tensor_item(t, lr0, gamma):
    return (torch.tensor(gamma, dtype=torch.float64) ** t * lr0).item()


def ed_answer_key(t, lr0, gamma):
    return guarded.exponential_decay(t, lr0, gamma)


# --- inverse_time_decay -------------------------------------------------------------------------


def it_precedence(t, lr0, k):
    return lr0 / 1 + k * t


def it_plus_one(t, lr0, k):
    return lr0 / (1 + k * (t + 1))


def it_ignores_k(t, lr0, k):
    return lr0 / (1 + t)


def it_exponential(t, lr0, k):
    return lr0 / (1 + k) ** t


def it_sqrt(t, lr0, k):
    return lr0 / math.sqrt(1 + k * t)


def it_no_one(t, lr0, k):  # seed formula without the 1: divides by zero at t = 0
    return lr0 / (k * t)


def it_k_on_top(t, lr0, k):
    return lr0 * k / (1 + t)


def it_rounded(t, lr0, k):
    return round(lr0 / (1 + k * t), 4)


def it_linear(t, lr0, k):
    return lr0 * (1 - k * t)


def it_alt_power(t, lr0, k):
    return lr0 * (1 + k * t) ** -1


def it_alt_reciprocal(t, lr0, k):
    return 1.0 / (1.0 / lr0 + k * t / lr0)


def it_alt_numpy(t, lr0, k):
    return float(np.divide(lr0, np.add(1.0, np.multiply(k, t))))


def it_alt_fraction(t, lr0, k):
    return lr0 * (1 / (1 + k * t))


def it_answer_key(t, lr0, k):
    return guarded.inverse_time_decay(t, lr0, k)


# --- inverse_sqrt_decay -------------------------------------------------------------------------


def is_max_one(t, lr0):  # the seed's 1/sqrt(t), patched at t = 0
    return lr0 / math.sqrt(max(t, 1))


def is_precedence(t, lr0):
    return lr0 / (t + 1) ** 1 / 2


def is_sqrt_plus_one(t, lr0):
    return lr0 / (math.sqrt(t) + 1)


def is_no_sqrt(t, lr0):
    return lr0 / (t + 1)


def is_float32(t, lr0):
    return float(torch.tensor(lr0, dtype=torch.float32) / torch.sqrt(torch.tensor(t + 1.0, dtype=torch.float32)))


def is_rounded(t, lr0):
    return round(lr0 / math.sqrt(t + 1), 4)


def is_tensor(t, lr0):
    return lr0 / torch.sqrt(torch.tensor(t + 1.0, dtype=torch.float64))


_IS_CACHE: dict = {}


def is_memo_on_t(t, lr0):  # memoised on t alone: the first lr0 sticks
    if t not in _IS_CACHE:
        _IS_CACHE[t] = lr0 / math.sqrt(t + 1)
    return _IS_CACHE[t]


def is_alt_pow(t, lr0):
    return lr0 * (t + 1) ** -0.5


def is_alt_numpy(t, lr0):
    return float(lr0 / np.sqrt(t + 1))


def is_alt_rsqrt(t, lr0):
    return lr0 * torch.rsqrt(torch.tensor(t + 1.0, dtype=torch.float64)).item()


def is_alt_exp_log(t, lr0):
    return lr0 * math.exp(-0.5 * math.log(t + 1))


def is_answer_key(t, lr0):
    return guarded.inverse_sqrt_decay(t, lr0)


# --- linear_decay -------------------------------------------------------------------------------


def ld_no_clip(t, lr0, total_steps):
    return lr0 * (1 - t / total_steps)


def ld_minus_one(t, lr0, total_steps):
    return lr0 * max(0.0, 1 - t / (total_steps - 1))


def ld_int_div(t, lr0, total_steps):
    return lr0 * max(0, 1 - t // total_steps)


def ld_forgot_lr0(t, lr0, total_steps):
    return max(0.0, lr0 - t / total_steps)


def ld_plus_one(t, lr0, total_steps):
    return lr0 * max(0.0, 1 - (t + 1) / total_steps)


def ld_abs(t, lr0, total_steps):
    return lr0 * abs(1 - t / total_steps)


def ld_floor_lr(t, lr0, total_steps):  # keeps a small floor "so it never stops"
    return max(lr0 * 1e-3, lr0 * (1 - t / total_steps))


def ld_rounded(t, lr0, total_steps):
    return round(lr0 * max(0.0, 1 - t / total_steps), 4)


def ld_restarts(t, lr0, total_steps):  # wraps around instead of staying at 0
    return lr0 * (1 - (t % total_steps) / total_steps)


def ld_alt_min(t, lr0, total_steps):
    return lr0 * (total_steps - min(t, total_steps)) / total_steps


def ld_alt_branch(t, lr0, total_steps):
    if t >= total_steps:
        return 0.0
    return lr0 - lr0 * t / total_steps


def ld_alt_numpy(t, lr0, total_steps):
    return float(lr0 * np.clip(1 - t / total_steps, 0, None))


def ld_alt_interp(t, lr0, total_steps):
    return float(np.interp(t, [0, total_steps], [lr0, 0.0]))


def ld_answer_key(t, lr0, total_steps):
    return guarded.linear_decay(t, lr0, total_steps)


# --- cosine_annealing ---------------------------------------------------------------------------


def ca_seed_sign(t, lr0, total_steps, lr_min=0.0):  # the sign slip of one lecture's slide
    return lr_min + 0.5 * (lr_min - lr0) * (1 + math.cos(math.pi * t / total_steps))


def ca_no_half(t, lr0, total_steps, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total_steps))


def ca_no_one(t, lr0, total_steps, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * t / total_steps) / 2


def ca_clipped(t, lr0, total_steps, lr_min=0.0):
    t = min(t, total_steps)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * t / total_steps)) / 2


def ca_two_pi(t, lr0, total_steps, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(2 * math.pi * t / total_steps)) / 2


def ca_ignores_min(t, lr0, total_steps, lr_min=0.0):
    return lr0 * (1 + math.cos(math.pi * t / total_steps)) / 2


def ca_no_subtract(t, lr0, total_steps, lr_min=0.0):
    return lr_min + lr0 * (1 + math.cos(math.pi * t / total_steps)) / 2


def ca_degrees(t, lr0, total_steps, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(180 * t / total_steps)) / 2


def ca_float32(t, lr0, total_steps, lr_min=0.0):
    c = torch.cos(torch.tensor(math.pi * t / total_steps, dtype=torch.float32))
    return float(lr_min + (lr0 - lr_min) * (1 + c) / 2)


def ca_alt_sin2(t, lr0, total_steps, lr_min=0.0):
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * t / (2 * total_steps)) ** 2


def ca_alt_mix(t, lr0, total_steps, lr_min=0.0):
    w = (1 + math.cos(math.pi * t / total_steps)) / 2
    return w * lr0 + (1 - w) * lr_min


def ca_alt_numpy(t, lr0, total_steps, lr_min=0.0):
    return float(lr_min + 0.5 * (lr0 - lr_min) * (1 + np.cos(np.pi * t / total_steps)))


def ca_alt_periodic(t, lr0, total_steps, lr_min=0.0):  # reduces t modulo the period 2T first
    u = t % (2 * total_steps)
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * u / total_steps)) / 2


def ca_answer_key(t, lr0, total_steps, lr_min=0.0):
    return guarded.cosine_annealing(t, lr0, total_steps, lr_min)


# --- cosine_warm_restarts -----------------------------------------------------------------------


def _cos(u, lr0, period, lr_min):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * u / period)) / 2


def wr_no_mult(t, lr0, T_0, T_mult=1, lr_min=0.0):
    return _cos(t % T_0, lr0, T_0, lr_min)


def wr_late(t, lr0, T_0, T_mult=1, lr_min=0.0):  # restarts one step late (reaches lr_min first)
    u, period = t, T_0
    while u > period:
        u -= period + 1
        period *= T_mult
    return _cos(u, lr0, period, lr_min)


def wr_additive(t, lr0, T_0, T_mult=1, lr_min=0.0):  # cycles grow by T_mult steps, not by a factor
    u, period = t, T_0
    while u >= period:
        u -= period
        period += T_mult
    return _cos(u, lr0, period, lr_min)


def wr_first_multiplied(t, lr0, T_0, T_mult=1, lr_min=0.0):
    u, period = t, T_0 * T_mult
    while u >= period:
        u -= period
        period *= T_mult
    return _cos(u, lr0, period, lr_min)


def wr_ignores_min(t, lr0, T_0, T_mult=1, lr_min=0.0):
    return R.cosine_warm_restarts(t, lr0, T_0, T_mult, 0.0)


def wr_modulo_total(t, lr0, T_0, T_mult=1, lr_min=0.0):  # T_cur from a modulo of the grown length
    period = T_0
    while t >= period * 2 and T_mult > 1:
        period *= T_mult
    return _cos(t % period, lr0, period, lr_min)


def wr_period_minus_one(t, lr0, T_0, T_mult=1, lr_min=0.0):  # reaches lr_min at the last step of a cycle
    u, period = t, T_0
    while u >= period:
        u -= period
        period *= T_mult
    return _cos(u, lr0, period - 1, lr_min)


def wr_seed_sign(t, lr0, T_0, T_mult=1, lr_min=0.0):
    u, period = t, T_0
    while u >= period:
        u -= period
        period *= T_mult
    return lr_min + 0.5 * (lr_min - lr0) * (1 + math.cos(math.pi * u / period))


def wr_rounded(t, lr0, T_0, T_mult=1, lr_min=0.0):
    return round(R.cosine_warm_restarts(t, lr0, T_0, T_mult, lr_min), 4)


def wr_alt_log(t, lr0, T_0, T_mult=1, lr_min=0.0):  # the closed form torch uses for T_mult > 1
    if T_mult == 1:
        u, period = t % T_0, T_0
    else:
        n = int(math.log(t / T_0 * (T_mult - 1) + 1, T_mult)) if t >= T_0 else 0
        start = T_0 * (T_mult ** n - 1) // (T_mult - 1)
        if start > t:  # the log rounded up: one cycle back
            n -= 1
            start = T_0 * (T_mult ** n - 1) // (T_mult - 1)
        u, period = t - start, T_0 * T_mult ** n
    return _cos(u, lr0, period, lr_min)


def wr_alt_loop(t, lr0, T_0, T_mult=1, lr_min=0.0):
    start, period = 0, T_0
    while start + period <= t:
        start += period
        period *= T_mult
    return _cos(t - start, lr0, period, lr_min)


def wr_alt_table(t, lr0, T_0, T_mult=1, lr_min=0.0):
    bounds = [0]
    period = T_0
    while bounds[-1] <= t:
        bounds.append(bounds[-1] + period)
        period *= T_mult
    i = bisect.bisect_right(bounds, t) - 1
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * (t - bounds[i]) / (bounds[i + 1] - bounds[i])))


def wr_alt_recursive(t, lr0, T_0, T_mult=1, lr_min=0.0):
    if t < T_0:
        return _cos(t, lr0, T_0, lr_min)
    return wr_alt_recursive(t - T_0, lr0, T_0 * T_mult, T_mult, lr_min)


def wr_answer_key(t, lr0, T_0, T_mult=1, lr_min=0.0):
    return guarded.cosine_warm_restarts(t, lr0, T_0, T_mult, lr_min)


# --- with_linear_warmup -------------------------------------------------------------------------


def lw_unshifted(schedule, warmup_steps):
    return lambda t: schedule(0) * t / warmup_steps if t < warmup_steps else schedule(t)


def lw_multiplicative(schedule, warmup_steps):  # the usual LambdaLR factor, no shift
    return lambda t: schedule(t) * min(1.0, t / warmup_steps)


def lw_starts_ahead(schedule, warmup_steps):
    return lambda t: schedule(0) * (t + 1) / warmup_steps if t < warmup_steps else schedule(t - warmup_steps)


def lw_boundary(schedule, warmup_steps):  # t <= warmup_steps: one warm-up step too many
    return lambda t: schedule(0) * t / warmup_steps if t <= warmup_steps else schedule(t - warmup_steps)


def lw_int_div(schedule, warmup_steps):
    return lambda t: schedule(0) * (t // warmup_steps) if t < warmup_steps else schedule(t - warmup_steps)


def lw_zero_div(schedule, warmup_steps):  # no care for warmup_steps = 0
    def f(t):
        frac = t / warmup_steps
        return schedule(0) * frac if frac < 1 else schedule(t - warmup_steps)
    return f


def lw_returns_value(schedule, warmup_steps):  # returns the first value, not a function
    return schedule(0) * 0 / max(warmup_steps, 1)


def lw_shift_wrong_way(schedule, warmup_steps):
    return lambda t: schedule(0) * t / warmup_steps if t < warmup_steps else schedule(t + warmup_steps)


def lw_ramps_to_end_value(schedule, warmup_steps):  # ramps towards the value at the end of the warm-up
    return lambda t: schedule(warmup_steps) * t / warmup_steps if t < warmup_steps else schedule(t - warmup_steps)


def lw_alt_class(schedule, warmup_steps):
    class Warm:
        def __call__(self, t):
            if t >= warmup_steps:
                return schedule(t - warmup_steps)
            return schedule(0) * (t / warmup_steps)
    return Warm()


def lw_alt_min(schedule, warmup_steps):
    def f(t):
        if warmup_steps == 0 or t >= warmup_steps:
            return schedule(t - warmup_steps)
        return t * schedule(0) / warmup_steps
    return f


def lw_alt_partial(schedule, warmup_steps):
    def warm(t, schedule, w):
        return schedule(max(t - w, 0)) * (t / w if t < w else 1.0)
    return functools.partial(warm, schedule=schedule, w=warmup_steps)


def lw_alt_cached_peak(schedule, warmup_steps):
    peak = schedule(0)

    def f(t):
        return peak * t / warmup_steps if t < warmup_steps else schedule(t - warmup_steps)
    return f


def lw_answer_key(schedule, warmup_steps):
    return guarded.with_linear_warmup(schedule, warmup_steps)


# --- triangular_cyclic --------------------------------------------------------------------------


def tc_period_s(t, lr_min, lr_max, step_size):
    return lr_min + (lr_max - lr_min) * (1 - abs((t % step_size) / step_size * 2 - 1))


def tc_starts_high(t, lr_min, lr_max, step_size):
    return lr_max - (lr_max - lr_min) * (1 - abs((t % (2 * step_size)) / step_size - 1))


def tc_inverted(t, lr_min, lr_max, step_size):  # max(0, x) where max(0, 1 - x) belongs
    cycle = math.floor(1 + t / (2 * step_size))
    x = abs(t / step_size - 2 * cycle + 1)
    return lr_min + (lr_max - lr_min) * max(0.0, x)


def tc_precedence(t, lr_min, lr_max, step_size):
    cycle = math.floor(1 + t / 2 * step_size)
    x = abs(t / step_size - 2 * cycle + 1)
    return lr_min + (lr_max - lr_min) * max(0.0, 1 - x)


def tc_ignores_min(t, lr_min, lr_max, step_size):
    pos = t % (2 * step_size)
    return lr_max * (pos / step_size if pos <= step_size else 2 - pos / step_size)


def tc_one_cycle_only(t, lr_min, lr_max, step_size):
    x = abs(t / step_size - 1)
    return lr_min + (lr_max - lr_min) * max(0.0, 1 - x)


def tc_sine(t, lr_min, lr_max, step_size):
    return lr_min + (lr_max - lr_min) * abs(math.sin(math.pi * t / (2 * step_size)))


def tc_off_by_one(t, lr_min, lr_max, step_size):
    return R.triangular_cyclic(t + 1, lr_min, lr_max, step_size)


def tc_rounded(t, lr_min, lr_max, step_size):
    return round(R.triangular_cyclic(t, lr_min, lr_max, step_size), 4)


def tc_alt_clr(t, lr_min, lr_max, step_size):  # the formula of the cyclical-rates paper
    cycle = math.floor(1 + t / (2 * step_size))
    x = abs(t / step_size - 2 * cycle + 1)
    return lr_min + (lr_max - lr_min) * max(0.0, 1 - x)


def tc_alt_branch(t, lr_min, lr_max, step_size):
    pos = t % (2 * step_size)
    if pos < step_size:
        return lr_min + (lr_max - lr_min) * pos / step_size
    return lr_max - (lr_max - lr_min) * (pos - step_size) / step_size


def tc_alt_interp(t, lr_min, lr_max, step_size):
    return float(np.interp(t % (2 * step_size), [0, step_size, 2 * step_size], [lr_min, lr_max, lr_min]))


def tc_alt_min(t, lr_min, lr_max, step_size):
    pos = t % (2 * step_size)
    return lr_min + (lr_max - lr_min) * min(pos, 2 * step_size - pos) / step_size


def tc_answer_key(t, lr_min, lr_max, step_size):
    return guarded.triangular_cyclic(t, lr_min, lr_max, step_size)


# --- one_cycle ----------------------------------------------------------------------------------


def _anneal(a, b, u):
    return b + (a - b) * (1 + math.cos(math.pi * u)) / 2


def oc_peak_late(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max / div_factor
    end = start / final_div_factor
    peak = pct_start * total_steps
    if t <= peak:
        return _anneal(start, lr_max, t / peak)
    return _anneal(lr_max, end, (t - peak) / (total_steps - 1 - peak))


def oc_linear(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max / div_factor
    end = start / final_div_factor
    peak = pct_start * total_steps - 1
    if t <= peak:
        return start + (lr_max - start) * t / peak
    return lr_max + (end - lr_max) * (t - peak) / (total_steps - 1 - peak)


def oc_end_from_max(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max / div_factor
    end = lr_max / final_div_factor  # from lr_max, not from the starting rate
    peak = pct_start * total_steps - 1
    if t <= peak:
        return _anneal(start, lr_max, t / peak)
    return _anneal(lr_max, end, (t - peak) / (total_steps - 1 - peak))


def oc_no_div(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max  # starts at the peak
    end = lr_max / div_factor / final_div_factor
    peak = pct_start * total_steps - 1
    if t <= peak:
        return _anneal(start, lr_max, t / peak)
    return _anneal(lr_max, end, (t - peak) / (total_steps - 1 - peak))


def oc_denominator(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max / div_factor
    end = start / final_div_factor
    peak = pct_start * total_steps - 1
    if t <= peak:
        return _anneal(start, lr_max, t / peak)
    return _anneal(lr_max, end, (t - peak) / (total_steps - peak))


def oc_reversed(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max / div_factor
    end = start / final_div_factor
    peak = pct_start * total_steps - 1
    if t <= peak:
        return _anneal(lr_max, start, t / peak)  # start and end swapped in the first phase
    return _anneal(lr_max, end, (t - peak) / (total_steps - 1 - peak))


def oc_int_peak(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    start = lr_max / div_factor
    end = start / final_div_factor
    peak = int(pct_start * total_steps)
    if t < peak:
        return _anneal(start, lr_max, t / peak)
    return _anneal(lr_max, end, (t - peak) / (total_steps - peak))


def oc_fixed_pct(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    return R.one_cycle(t, lr_max, total_steps, 0.3, div_factor, final_div_factor)


def oc_rounded(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    return round(R.one_cycle(t, lr_max, total_steps, pct_start, div_factor, final_div_factor), 4)


def oc_alt_phases(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    phases = [(pct_start * total_steps - 1, lr_max / div_factor, lr_max),
              (total_steps - 1, lr_max, lr_max / div_factor / final_div_factor)]
    begin = 0.0
    for end_step, a, b in phases:
        if t <= end_step or end_step == phases[-1][0]:
            u = (t - begin) / (end_step - begin)
            return b + (a - b) / 2 * (1 + math.cos(math.pi * u))
        begin = end_step


def oc_alt_sin(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    lo = lr_max / div_factor
    end = lo / final_div_factor
    p = pct_start * total_steps - 1
    if t <= p:
        return lo + (lr_max - lo) * math.sin(math.pi * t / (2 * p)) ** 2
    return end + (lr_max - end) * math.cos(math.pi * (t - p) / (2 * (total_steps - 1 - p))) ** 2


def oc_alt_numpy(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    lo = lr_max / div_factor
    p = pct_start * total_steps - 1
    a, b, u = (lo, lr_max, t / p) if t <= p else (lr_max, lo / final_div_factor, (t - p) / (total_steps - 1 - p))
    return float(b + (a - b) * 0.5 * (1 + np.cos(np.pi * u)))


def oc_alt_tensor_item(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    lo = torch.tensor(lr_max / div_factor, dtype=torch.float64)
    p = pct_start * total_steps - 1
    if t <= p:
        a, b, u = lo, torch.tensor(lr_max, dtype=torch.float64), t / p
    else:
        a, b, u = torch.tensor(lr_max, dtype=torch.float64), lo / final_div_factor, (t - p) / (total_steps - 1 - p)
    return (b + (a - b) * (1 + torch.cos(torch.tensor(math.pi * u, dtype=torch.float64))) / 2).item()


def oc_answer_key(t, lr_max, total_steps, pct_start=0.3, div_factor=25.0, final_div_factor=1e4):
    return guarded.one_cycle(t, lr_max, total_steps, pct_start, div_factor, final_div_factor)


# --- ReduceLROnPlateau --------------------------------------------------------------------------


class _Plateau:
    """A correct base written as students do; the buggy versions below change one method."""

    def __init__(self, lr0, mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0):
        self.lr, self.mode, self.factor, self.patience = lr0, mode, factor, patience
        self.threshold, self.cooldown, self.min_lr = threshold, cooldown, min_lr
        self.best = math.inf if mode == "min" else -math.inf
        self.bad, self.cool = 0, 0

    def better(self, m):
        if self.mode == "min":
            return m < self.best * (1 - self.threshold)
        return m > self.best * (1 + self.threshold)

    def cut(self):
        new = max(self.lr * self.factor, self.min_lr)
        if self.lr - new > 1e-8:
            self.lr = new

    def step(self, metric):
        if self.better(metric):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cool > 0:
            self.cool -= 1
            self.bad = 0
        if self.bad > self.patience:
            self.cut()
            self.cool, self.bad = self.cooldown, 0
        return self.lr


class rp_early(_Plateau):  # >= patience: cuts one epoch early
    def step(self, metric):
        if self.better(metric):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cool > 0:
            self.cool -= 1
            self.bad = 0
        if self.bad >= self.patience:
            self.cut()
            self.cool, self.bad = self.cooldown, 0
        return self.lr


class rp_absolute(_Plateau):  # an absolute threshold
    def better(self, m):
        if self.mode == "min":
            return m < self.best - self.threshold
        return m > self.best + self.threshold


class rp_no_threshold(_Plateau):
    def better(self, m):
        return m < self.best if self.mode == "min" else m > self.best


class rp_no_cooldown(_Plateau):
    def __init__(self, lr0, mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0):
        super().__init__(lr0, mode, factor, patience, threshold, 0, min_lr)


class rp_ignores_min_lr(_Plateau):
    def cut(self):
        self.lr *= self.factor


class rp_no_reset(_Plateau):  # the bad-epoch count is not reset after a cut
    def step(self, metric):
        if self.better(metric):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cool > 0:
            self.cool -= 1
            self.bad = 0
        if self.bad > self.patience:
            self.cut()
            self.cool = self.cooldown
        return self.lr


class rp_min_only(_Plateau):  # mode="max" ignored
    def better(self, m):
        return m < self.best * (1 - self.threshold)


class rp_returns_old(_Plateau):  # returns the rate used this epoch, not the next one
    def step(self, metric):
        before = self.lr
        super().step(metric)
        return before


class rp_best_always(_Plateau):  # best follows every metric, even a worse one
    def step(self, metric):
        improved = self.better(metric)
        self.best = metric
        self.bad = 0 if improved else self.bad + 1
        if self.cool > 0:
            self.cool -= 1
            self.bad = 0
        if self.bad > self.patience:
            self.cut()
            self.cool, self.bad = self.cooldown, 0
        return self.lr


class rp_cooldown_counts(_Plateau):  # bad epochs still counted during the cool-down
    def step(self, metric):
        if self.better(metric):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cool > 0:
            self.cool -= 1
        if self.bad > self.patience and self.cool == 0:
            self.cut()
            self.cool, self.bad = self.cooldown, 0
        return self.lr


class rp_alt_plain(_Plateau):
    pass


class rp_alt_history:
    """Keeps the whole history and recounts (slow but right)."""

    def __init__(self, lr0, mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0):
        self.args = (mode, factor, patience, threshold, cooldown, min_lr)
        self.lr = lr0
        self.best = None
        self.bad = self.cool = 0

    def step(self, metric):
        mode, factor, patience, threshold, cooldown, min_lr = self.args
        sign = 1.0 if mode == "min" else -1.0
        if self.best is None or sign * metric < sign * self.best * (1 - sign * threshold):
            self.best, self.bad = metric, 0
        else:
            self.bad += 1
        if self.cool:
            self.cool, self.bad = self.cool - 1, 0
        if self.bad > patience:
            if self.lr - max(self.lr * factor, min_lr) > 1e-8:
                self.lr = max(self.lr * factor, min_lr)
            self.bad, self.cool = 0, cooldown
        return float(self.lr)


class rp_alt_dataclass:
    def __init__(self, lr0, mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0):
        self.state = {"lr": float(lr0), "best": None, "bad": 0, "cool": 0}
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.cooldown, self.min_lr = threshold, cooldown, min_lr

    def _improves(self, metric):
        best = self.state["best"]
        if best is None:
            return True
        if self.mode == "min":
            return metric < best - best * self.threshold
        return metric > best + best * self.threshold

    def step(self, metric):
        s = self.state
        if self._improves(metric):
            s["best"], s["bad"] = metric, 0
        else:
            s["bad"] += 1
        if s["cool"] > 0:
            s["cool"] -= 1
            s["bad"] = 0
        if s["bad"] > self.patience:
            new = max(s["lr"] * self.factor, self.min_lr)
            if s["lr"] - new > 1e-8:
                s["lr"] = new
            s["cool"], s["bad"] = self.cooldown, 0
        return s["lr"]


def rp_alt_factory(lr0, mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0):
    """A function returning an object with a step method also drives the check."""
    return rp_alt_dataclass(lr0, mode=mode, factor=factor, patience=patience, threshold=threshold,
                            cooldown=cooldown, min_lr=min_lr)


class rp_answer_key(guarded.ReduceLROnPlateau):
    pass


# --- tables -------------------------------------------------------------------------------------

BUGGY = {
    "step_decay": [sd_early, sd_smooth, sd_times_gamma, sd_round, sd_ceil, sd_once, sd_fixed_gamma, sd_tensor,
                   sd_rounded, sd_stateful],
    "multistep_decay": [ms_strict, ms_assumes_sorted, ms_set, ms_times, ms_last_index, ms_bisect_left,
                        ms_fixed_gamma, ms_equal_only, ms_tensor],
    "exponential_decay": [ed_plus_one, ed_exp, ed_linear, ed_one_minus, ed_float32, ed_divides, ed_rounded,
                          ed_numpy_scalar, ed_every_other],
    "inverse_time_decay": [it_precedence, it_plus_one, it_ignores_k, it_exponential, it_sqrt, it_no_one,
                           it_k_on_top, it_rounded, it_linear],
    "inverse_sqrt_decay": [is_max_one, is_precedence, is_sqrt_plus_one, is_no_sqrt, is_float32, is_rounded,
                           is_tensor, is_memo_on_t],
    "linear_decay": [ld_no_clip, ld_minus_one, ld_int_div, ld_forgot_lr0, ld_plus_one, ld_abs, ld_floor_lr,
                     ld_rounded, ld_restarts],
    "cosine_annealing": [ca_seed_sign, ca_no_half, ca_no_one, ca_clipped, ca_two_pi, ca_ignores_min,
                         ca_no_subtract, ca_degrees, ca_float32],
    "cosine_warm_restarts": [wr_no_mult, wr_late, wr_additive, wr_first_multiplied, wr_ignores_min,
                             wr_modulo_total, wr_period_minus_one, wr_seed_sign, wr_rounded],
    "with_linear_warmup": [lw_unshifted, lw_multiplicative, lw_starts_ahead, lw_boundary, lw_int_div, lw_zero_div,
                           lw_returns_value, lw_shift_wrong_way, lw_ramps_to_end_value],
    "triangular_cyclic": [tc_period_s, tc_starts_high, tc_inverted, tc_precedence, tc_ignores_min,
                          tc_one_cycle_only, tc_sine, tc_off_by_one, tc_rounded],
    "one_cycle": [oc_peak_late, oc_linear, oc_end_from_max, oc_no_div, oc_denominator, oc_reversed, oc_int_peak,
                  oc_fixed_pct, oc_rounded],
    "ReduceLROnPlateau": [rp_early, rp_absolute, rp_no_threshold, rp_no_cooldown, rp_ignores_min_lr, rp_no_reset,
                          rp_min_only, rp_returns_old, rp_best_always, rp_cooldown_counts],
}

CORRECT = {
    "step_decay": [sd_alt_floor, sd_alt_loop, sd_alt_divmod, sd_alt_numpy],
    "multistep_decay": [ms_alt_bisect, ms_alt_counter, ms_alt_loop, ms_alt_numpy],
    "exponential_decay": [ed_alt_log, ed_alt_loop, ed_alt_pow, ed_alt_tensor_item],
    "inverse_time_decay": [it_alt_power, it_alt_reciprocal, it_alt_numpy, it_alt_fraction],
    "inverse_sqrt_decay": [is_alt_pow, is_alt_numpy, is_alt_rsqrt, is_alt_exp_log],
    "linear_decay": [ld_alt_min, ld_alt_branch, ld_alt_numpy, ld_alt_interp],
    "cosine_annealing": [ca_alt_sin2, ca_alt_mix, ca_alt_numpy, ca_alt_periodic],
    "cosine_warm_restarts": [wr_alt_log, wr_alt_loop, wr_alt_table, wr_alt_recursive],
    "with_linear_warmup": [lw_alt_class, lw_alt_min, lw_alt_partial, lw_alt_cached_peak],
    "triangular_cyclic": [tc_alt_clr, tc_alt_branch, tc_alt_interp, tc_alt_min],
    "one_cycle": [oc_alt_phases, oc_alt_sin, oc_alt_numpy, oc_alt_tensor_item],
    "ReduceLROnPlateau": [rp_alt_plain, rp_alt_history, rp_alt_dataclass, rp_alt_factory],
}

CHEATS = {  # (version, the call the report must name)
    "step_decay": [(sd_answer_key, "labkit.reference.step_decay")],
    "multistep_decay": [(ms_answer_key, "labkit.reference.multistep_decay")],
    "exponential_decay": [(ed_answer_key, "labkit.reference.exponential_decay")],
    "inverse_time_decay": [(it_answer_key, "labkit.reference.inverse_time_decay")],
    "inverse_sqrt_decay": [(is_answer_key, "labkit.reference.inverse_sqrt_decay")],
    "linear_decay": [(ld_answer_key, "labkit.reference.linear_decay")],
    "cosine_annealing": [(ca_answer_key, "labkit.reference.cosine_annealing")],
    "cosine_warm_restarts": [(wr_answer_key, "labkit.reference.cosine_warm_restarts")],
    "with_linear_warmup": [(lw_answer_key, "labkit.reference.with_linear_warmup")],
    "triangular_cyclic": [(tc_answer_key, "labkit.reference.triangular_cyclic")],
    "one_cycle": [(oc_answer_key, "labkit.reference.one_cycle")],
    "ReduceLROnPlateau": [(rp_answer_key, "labkit.reference.ReduceLROnPlateau")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("step_decay", sd_early, "one step too early"),
    ("step_decay", sd_smooth, "decays smoothly"),
    ("step_decay", sd_tensor, "Python float"),
    ("multistep_decay", ms_strict, "has not decayed yet"),
    ("multistep_decay", ms_set, "repeated milestone"),
    ("exponential_decay", ed_plus_one, "shifted by one step"),
    ("exponential_decay", ed_exp, "rate constant"),
    ("inverse_sqrt_decay", is_max_one, "right at t = 0"),
    ("inverse_sqrt_decay", is_precedence, "precedence"),
    ("linear_decay", ld_no_clip, "negative"),
    ("cosine_annealing", ca_seed_sign, "wrong sign"),
    ("cosine_annealing", ca_clipped, "not clipped"),
    ("cosine_annealing", ca_ignores_min, "ignores lr_min"),
    ("cosine_warm_restarts", wr_no_mult, "T_mult"),
    ("with_linear_warmup", lw_unshifted, "not shifted"),
    ("with_linear_warmup", lw_starts_ahead, "should be 0"),
    ("with_linear_warmup", lw_returns_value, "should return a function"),
    ("triangular_cyclic", tc_period_s, "step_size steps"),
    ("triangular_cyclic", tc_starts_high, "starts at lr_max"),
    ("one_cycle", oc_peak_late, "peak comes one step late"),
    ("ReduceLROnPlateau", rp_early, "one epoch early"),
    ("ReduceLROnPlateau", rp_returns_old, "first wrong at call"),
]
