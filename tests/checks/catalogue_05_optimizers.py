"""Notebook 05: realistic buggy update rules and clipping functions (each must lose points), correct
versions written differently from the reference (each must keep full marks; both momentum
formulations among them) and cheats (torch.optim, torch's clipping, the answer key: each must score 0
with the call named), grouped by function; BUGGY, CORRECT and CHEATS at the end list them."""
from __future__ import annotations

import math

import torch

from .answer_key import RAW as R


def _get(config, **defaults):
    """What a student writes at the top of a rule: a dict with the defaults filled in."""
    config = {} if config is None else config
    for key, value in defaults.items():
        config.setdefault(key, value)
    return config


SGD = dict(learning_rate=1e-2, weight_decay=0.0)
MOM = dict(learning_rate=1e-2, momentum=0.9, weight_decay=0.0)
ADAGRAD = dict(learning_rate=1e-2, eps=1e-10)
RMS = dict(learning_rate=1e-2, decay_rate=0.99, eps=1e-8)
ADAM = dict(learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
ADAMW = dict(ADAM, weight_decay=1e-2)

# --- sgd ---------------------------------------------------------------------------------------


def sgd_plus(w, dw, config=None):
    """Climbs: adds the gradient."""
    c = _get(config, **SGD)
    return w + c["learning_rate"] * (dw + c["weight_decay"] * w), c


def sgd_fixed_lr(w, dw, config=None):
    """Hard-codes the default learning rate."""
    c = _get(config, **SGD)
    return w - 1e-2 * (dw + c["weight_decay"] * w), c


def sgd_no_decay(w, dw, config=None):
    """Never reads weight_decay."""
    c = _get(config, **SGD)
    return w - c["learning_rate"] * dw, c


def sgd_decay_after(w, dw, config=None):
    """Shrinks the new weights after the step instead of adding the decay to the gradient."""
    c = _get(config, **SGD)
    nw = w - c["learning_rate"] * dw
    return nw - c["learning_rate"] * c["weight_decay"] * nw, c


def sgd_inplace(w, dw, config=None):
    """numpy habit: w -= ..., on the caller's tensor."""
    c = _get(config, **SGD)
    w -= c["learning_rate"] * (dw + c["weight_decay"] * w)
    return w, c


def sgd_decay_sign(w, dw, config=None):
    """Subtracts the decay term from the gradient."""
    c = _get(config, **SGD)
    return w - c["learning_rate"] * (dw - c["weight_decay"] * w), c


def sgd_torch_default_lr(w, dw, config=None):
    """torch.optim.SGD's own default (1e-3) instead of the contract's 1e-2."""
    c = _get(config, learning_rate=1e-3, weight_decay=0.0)
    return w - c["learning_rate"] * (dw + c["weight_decay"] * w), c


def sgd_float32_buffer(w, dw, config=None):
    """Writes the result into torch.zeros(w.shape): float32 whatever w is."""
    c = _get(config, **SGD)
    out = torch.zeros(w.shape)
    out[:] = w - c["learning_rate"] * (dw + c["weight_decay"] * w)
    return out, c


def sgd_double_decay(w, dw, config=None):
    """Differentiates weight_decay * ||w||^2 and gets twice the decay term."""
    c = _get(config, **SGD)
    return w - c["learning_rate"] * (dw + 2 * c["weight_decay"] * w), c


def sgd_alt_torch_add(w, dw, config=None):
    c = _get(config, **SGD)
    return torch.add(w, dw.add(w, alpha=c["weight_decay"]), alpha=-c["learning_rate"]), c


def sgd_alt_shrink(w, dw, config=None):
    config = config if config is not None else {}
    lr, wd = config.get("learning_rate", 1e-2), config.get("weight_decay", 0.0)
    config.update(learning_rate=lr, weight_decay=wd)
    return w * (1 - lr * wd) - lr * dw, config


def sgd_alt_loop_free(w, dw, config=None):
    c = dict(SGD, **(config or {}))
    return w.clone().sub_(c["learning_rate"] * (dw + c["weight_decay"] * w)), c


def sgd_alt_new_dict(w, dw, config=None):
    lr = (config or {}).get("learning_rate", 0.01)
    wd = (config or {}).get("weight_decay", 0)
    grad = dw if wd == 0 else dw + wd * w
    return w - lr * grad, {"learning_rate": lr, "weight_decay": wd}


# --- sgd_momentum ------------------------------------------------------------------------------


def mom_reset(w, dw, config=None):
    """The velocity is a local variable: it starts from 0 at every call."""
    c = _get(config, **MOM)
    v = torch.zeros_like(w)
    v = c["momentum"] * v + dw + c["weight_decay"] * w
    return w - c["learning_rate"] * v, c


def mom_dampening(w, dw, config=None):
    """An exponential average: the new gradient weighted by (1 - momentum)."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    v = c.get("velocity", torch.zeros_like(w))
    c["velocity"] = c["momentum"] * v + (1 - c["momentum"]) * g
    return w - c["learning_rate"] * c["velocity"], c


def mom_no_decay(w, dw, config=None):
    """Never reads weight_decay."""
    c = _get(config, **MOM)
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + dw
    return w - c["learning_rate"] * c["velocity"], c


def mom_is_nesterov(w, dw, config=None):
    """Steps with the look-ahead: that is Nesterov's rule, not standard momentum."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + g
    return w - c["learning_rate"] * (g + c["momentum"] * c["velocity"]), c


def mom_sign(w, dw, config=None):
    """CS231n's form with the sign of the learning-rate term flipped."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + c["learning_rate"] * g
    return w + c["velocity"], c


def mom_first_twice(w, dw, config=None):
    """Starts the velocity at the gradient and then adds the gradient again: the first step is (1 + mu) g."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    v = c.get("velocity", g)
    c["velocity"] = c["momentum"] * v + g
    return w - c["learning_rate"] * c["velocity"], c


def mom_torch_default(w, dw, config=None):
    """torch.optim.SGD's default momentum (0) instead of the contract's 0.9."""
    c = _get(config, learning_rate=1e-2, momentum=0.0, weight_decay=0.0)
    g = dw + c["weight_decay"] * w
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + g
    return w - c["learning_rate"] * c["velocity"], c


def mom_stale(w, dw, config=None):
    """Moves with the old velocity, then updates it: every step one step late."""
    c = _get(config, **MOM)
    v = c.get("velocity", torch.zeros_like(w))
    nw = w - c["learning_rate"] * v
    c["velocity"] = c["momentum"] * v + dw + c["weight_decay"] * w
    return nw, c


def mom_aliased(w, dw, config=None):
    """setdefault(..., dw) stores dw itself, then mul_/add_ change the caller's gradient."""
    c = _get(config, **MOM)
    v = c.setdefault("velocity", dw)
    v.mul_(c["momentum"]).add_(dw + c["weight_decay"] * w)
    return w - c["learning_rate"] * v, c


def mom_alt_cs231n(w, dw, config=None):
    """The other formulation: the velocity holds -lr times PyTorch's."""
    c = _get(config, **MOM)
    v = c.get("velocity", torch.zeros_like(w))
    v = c["momentum"] * v - c["learning_rate"] * (dw + c["weight_decay"] * w)
    c["velocity"] = v
    return w + v, c


def mom_alt_first_step(w, dw, config=None):
    """torch's own style: the buffer is the gradient at the first step."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    c["buf"] = g.clone() if "buf" not in c else c["buf"] * c["momentum"] + g
    return w - c["learning_rate"] * c["buf"], c


def mom_alt_inplace_state(w, dw, config=None):
    c = _get(config, **MOM)
    if "v" not in c:
        c["v"] = torch.zeros_like(w)
    c["v"].mul_(c["momentum"]).add_(dw).add_(w, alpha=c["weight_decay"])
    return w.sub(c["v"], alpha=c["learning_rate"]), c


def mom_alt_step_stored(w, dw, config=None):
    """Keeps lr * velocity (the step itself) in config."""
    c = _get(config, **MOM)
    step = c.get("step", torch.zeros_like(w))
    step = c["momentum"] * step + c["learning_rate"] * (dw + c["weight_decay"] * w)
    c["step"] = step
    return w - step, c


# --- sgd_nesterov ------------------------------------------------------------------------------


def nest_standard(w, dw, config=None):
    """Plain momentum: no look-ahead."""
    c = _get(config, **MOM)
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + dw + c["weight_decay"] * w
    return w - c["learning_rate"] * c["velocity"], c


def nest_old_velocity(w, dw, config=None):
    """Looks ahead along the velocity of the previous step."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    v_old = c.get("velocity", torch.zeros_like(w))
    c["velocity"] = c["momentum"] * v_old + g
    return w - c["learning_rate"] * (g + c["momentum"] * v_old), c


def nest_one_minus(w, dw, config=None):
    """CS231n's rewritten form with (1 - mu) where (1 + mu) belongs."""
    c = _get(config, **MOM)
    mu = c["momentum"]
    v_prev = c.get("velocity", torch.zeros_like(w))
    v = mu * v_prev - c["learning_rate"] * (dw + c["weight_decay"] * w)
    c["velocity"] = v
    return w - mu * v_prev + (1 - mu) * v, c


def nest_reset(w, dw, config=None):
    """The velocity is never stored."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    v = g
    return w - c["learning_rate"] * (g + c["momentum"] * v), c


def nest_no_decay(w, dw, config=None):
    """Never reads weight_decay."""
    c = _get(config, **MOM)
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + dw
    return w - c["learning_rate"] * (dw + c["momentum"] * c["velocity"]), c


def nest_dampening(w, dw, config=None):
    """Averages the velocity with weight (1 - mu) on the gradient."""
    c = _get(config, **MOM)
    g = dw + c["weight_decay"] * w
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + (1 - c["momentum"]) * g
    return w - c["learning_rate"] * (g + c["momentum"] * c["velocity"]), c


def nest_decay_outside(w, dw, config=None):
    """Applies the decay to the weights after the momentum step."""
    c = _get(config, **MOM)
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + dw
    nw = w - c["learning_rate"] * (dw + c["momentum"] * c["velocity"])
    return nw - c["learning_rate"] * c["weight_decay"] * nw, c


def nest_uses_new_v_twice(w, dw, config=None):
    """Bengio's form with both velocities the new one: (1 + mu) v - mu v = v, plain momentum again."""
    c = _get(config, **MOM)
    mu = c["momentum"]
    v = mu * c.get("velocity", torch.zeros_like(w)) - c["learning_rate"] * (dw + c["weight_decay"] * w)
    c["velocity"] = v
    return w + (1 + mu) * v - mu * v, c


def nest_torch_default(w, dw, config=None):
    """torch.optim.SGD's default momentum (0): Nesterov needs a momentum, so with 0 it is plain SGD."""
    c = _get(config, learning_rate=1e-2, momentum=0.0, weight_decay=0.0)
    g = dw + c["weight_decay"] * w
    c["velocity"] = c["momentum"] * c.get("velocity", torch.zeros_like(w)) + g
    return w - c["learning_rate"] * (g + c["momentum"] * c["velocity"]), c


def nest_alt_cs231n(w, dw, config=None):
    """CS231n's rewritten look-ahead: x += -mu v_prev + (1 + mu) v."""
    c = _get(config, **MOM)
    mu = c["momentum"]
    v_prev = c.get("velocity", torch.zeros_like(w))
    v = mu * v_prev - c["learning_rate"] * (dw + c["weight_decay"] * w)
    c["velocity"] = v
    return w - mu * v_prev + (1 + mu) * v, c


def nest_alt_bengio(w, dw, config=None):
    """Bengio's form: step = v + mu (v - v_prev)."""
    c = _get(config, **MOM)
    v_prev = c.get("velocity", torch.zeros_like(w))
    v = c["momentum"] * v_prev - c["learning_rate"] * (dw + c["weight_decay"] * w)
    c["velocity"] = v
    return w + v + c["momentum"] * (v - v_prev), c


def nest_alt_inline(w, dw, config=None):
    c = _get(config, **MOM)
    mu, g = c["momentum"], dw + c["weight_decay"] * w
    old = c.get("buf", torch.zeros_like(w))
    c["buf"] = mu * old + g
    return w - c["learning_rate"] * ((1 + mu) * g + mu * mu * old), c


def nest_alt_torch_ops(w, dw, config=None):
    c = _get(config, **MOM)
    g = dw.add(w, alpha=c["weight_decay"])
    if "v" not in c:
        c["v"] = torch.zeros_like(w)
    c["v"] = c["v"].mul(c["momentum"]).add(g)
    return w.sub(g.add(c["v"], alpha=c["momentum"]), alpha=c["learning_rate"]), c


# --- adagrad -----------------------------------------------------------------------------------


def ada_no_sqrt(w, dw, config=None):
    """Divides by the accumulated sum itself."""
    c = _get(config, **ADAGRAD)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw
    return w - c["learning_rate"] * dw / (c["cache"] + c["eps"]), c


def ada_eps_inside(w, dw, config=None):
    """eps inside the square root."""
    c = _get(config, **ADAGRAD)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw
    return w - c["learning_rate"] * dw / torch.sqrt(c["cache"] + c["eps"]), c


def ada_reset(w, dw, config=None):
    """The sum is a local variable: it never accumulates."""
    c = _get(config, **ADAGRAD)
    cache = dw * dw
    return w - c["learning_rate"] * dw / (cache.sqrt() + c["eps"]), c


def ada_plus(w, dw, config=None):
    """003's slide taken literally: a plus sign."""
    c = _get(config, **ADAGRAD)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw
    return w + c["learning_rate"] * dw / (c["cache"].sqrt() + c["eps"]), c


def ada_sum_of_gradients(w, dw, config=None):
    """000's 'sum up gradients' read literally: sums the gradients, not their squares (sqrt of negatives)."""
    c = _get(config, **ADAGRAD)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw
    return w - c["learning_rate"] * dw / (c["cache"].sqrt() + c["eps"]), c


def ada_late_cache(w, dw, config=None):
    """Uses the old sum, then adds the new square: the first step divides by eps."""
    c = _get(config, **ADAGRAD)
    cache = c.get("cache", torch.zeros_like(w))
    nw = w - c["learning_rate"] * dw / (cache.sqrt() + c["eps"])
    c["cache"] = cache + dw * dw
    return nw, c


def ada_mean(w, dw, config=None):
    """The mean of the squares (divides by t): the step no longer shrinks."""
    c = _get(config, **ADAGRAD)
    c["t"] = c.get("t", 0) + 1
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw
    return w - c["learning_rate"] * dw / ((c["cache"] / c["t"]).sqrt() + c["eps"]), c


def ada_inplace(w, dw, config=None):
    """addcdiv_ on w itself."""
    c = _get(config, **ADAGRAD)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw
    return w.addcdiv_(dw, c["cache"].sqrt() + c["eps"], value=-c["learning_rate"]), c


def ada_eps_accumulates(w, dw, config=None):
    """Adds eps to the sum at every step."""
    c = _get(config, **ADAGRAD)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw + c["eps"]
    return w - c["learning_rate"] * dw / c["cache"].sqrt(), c


def ada_alt_torch_ops(w, dw, config=None):
    c = _get(config, **ADAGRAD)
    if "sum" not in c:
        c["sum"] = torch.zeros_like(w)
    c["sum"].addcmul_(dw, dw)
    return torch.addcdiv(w, dw, c["sum"].sqrt().add(c["eps"]), value=-c["learning_rate"]), c


def ada_alt_reciprocal(w, dw, config=None):
    c = _get(config, **ADAGRAD)
    c["g2"] = c.get("g2", 0) + dw ** 2
    return w - c["learning_rate"] * dw * (c["g2"] ** 0.5 + c["eps"]).reciprocal(), c


def ada_alt_list(w, dw, config=None):
    """Keeps every squared gradient and sums them again (slow, but right)."""
    c = _get(config, **ADAGRAD)
    c.setdefault("history", []).append(dw * dw)
    total = torch.stack(c["history"]).sum(0)
    return w - c["learning_rate"] * dw / (torch.sqrt(total) + c["eps"]), c


def ada_alt_no_defaults_dict(w, dw, config=None):
    config = {} if config is None else config
    lr, eps = config.get("learning_rate", 0.01), config.get("eps", 1e-10)
    config["cache"] = config["cache"] + dw.square() if "cache" in config else dw.square()
    return w - lr * dw / (config["cache"].sqrt() + eps), config


# --- rmsprop -----------------------------------------------------------------------------------


def rms_swapped(w, dw, config=None):
    """decay_rate on the new square, (1 - decay_rate) on the old average."""
    c = _get(config, **RMS)
    rho = c["decay_rate"]
    c["cache"] = (1 - rho) * c.get("cache", torch.zeros_like(w)) + rho * dw * dw
    return w - c["learning_rate"] * dw / (c["cache"].sqrt() + c["eps"]), c


def rms_eps_inside(w, dw, config=None):
    """eps inside the square root."""
    c = _get(config, **RMS)
    rho = c["decay_rate"]
    c["cache"] = rho * c.get("cache", torch.zeros_like(w)) + (1 - rho) * dw * dw
    return w - c["learning_rate"] * dw / (c["cache"] + c["eps"]).sqrt(), c


def rms_sum(w, dw, config=None):
    """AdaGrad's sum: decay_rate never used."""
    c = _get(config, **RMS)
    c["cache"] = c.get("cache", torch.zeros_like(w)) + dw * dw
    return w - c["learning_rate"] * dw / (c["cache"].sqrt() + c["eps"]), c


def rms_reset(w, dw, config=None):
    """The average is not stored: it restarts from 0 at every step."""
    c = _get(config, **RMS)
    cache = (1 - c["decay_rate"]) * dw * dw
    return w - c["learning_rate"] * dw / (cache.sqrt() + c["eps"]), c


def rms_bias_corrected(w, dw, config=None):
    """Adam habit: divides the average by 1 - decay_rate**t; torch's RMSprop does not."""
    c = _get(config, **RMS)
    c["t"] = c.get("t", 0) + 1
    rho = c["decay_rate"]
    c["cache"] = rho * c.get("cache", torch.zeros_like(w)) + (1 - rho) * dw * dw
    return w - c["learning_rate"] * dw / ((c["cache"] / (1 - rho ** c["t"])).sqrt() + c["eps"]), c


def rms_hinton_default(w, dw, config=None):
    """Hinton's lecture default decay 0.9 instead of the contract's (and torch's) 0.99."""
    c = _get(config, learning_rate=1e-2, decay_rate=0.9, eps=1e-8)
    rho = c["decay_rate"]
    c["cache"] = rho * c.get("cache", torch.zeros_like(w)) + (1 - rho) * dw * dw
    return w - c["learning_rate"] * dw / (c["cache"].sqrt() + c["eps"]), c


def rms_no_sqrt(w, dw, config=None):
    """Divides by the average of squares itself."""
    c = _get(config, **RMS)
    rho = c["decay_rate"]
    c["cache"] = rho * c.get("cache", torch.zeros_like(w)) + (1 - rho) * dw * dw
    return w - c["learning_rate"] * dw / (c["cache"] + c["eps"]), c


def rms_late_cache(w, dw, config=None):
    """Steps with the old average, then updates it: the first step divides by eps."""
    c = _get(config, **RMS)
    cache = c.get("cache", torch.zeros_like(w))
    nw = w - c["learning_rate"] * dw / (cache.sqrt() + c["eps"])
    c["cache"] = c["decay_rate"] * cache + (1 - c["decay_rate"]) * dw * dw
    return nw, c


def rms_alt_lerp(w, dw, config=None):
    c = _get(config, **RMS)
    avg = c.get("square_avg", torch.zeros_like(w))
    c["square_avg"] = torch.lerp(avg, dw * dw, 1 - c["decay_rate"])
    return w - c["learning_rate"] * dw / (c["square_avg"].sqrt() + c["eps"]), c


def rms_alt_torch_ops(w, dw, config=None):
    c = _get(config, **RMS)
    if "sq" not in c:
        c["sq"] = torch.zeros_like(w)
    c["sq"].mul_(c["decay_rate"]).addcmul_(dw, dw, value=1 - c["decay_rate"])
    return torch.addcdiv(w, dw, c["sq"].sqrt().add(c["eps"]), value=-c["learning_rate"]), c


def rms_alt_increment(w, dw, config=None):
    c = _get(config, **RMS)
    cache = c.get("cache", torch.zeros_like(w))
    cache = cache + (1 - c["decay_rate"]) * (dw ** 2 - cache)
    c["cache"] = cache
    return w - c["learning_rate"] * dw / (torch.sqrt(cache) + c["eps"]), c


def rms_alt_rms_key(w, dw, config=None):
    lr = config.get("learning_rate", 1e-2)
    rho, eps = config.get("decay_rate", 0.99), config.get("eps", 1e-8)
    ms = config.get("ms")
    ms = (1 - rho) * dw * dw if ms is None else rho * ms + (1 - rho) * dw * dw
    config["ms"] = ms
    return w - lr * dw / (ms.sqrt() + eps), config


# --- adam / adamw --------------------------------------------------------------------------------


def _adam(w, dw, config, defaults, *, correct=True, eps_inside=False, t_stuck=False, decoupled=False,
          unscaled=False, late_t=False, constant_correction=False, swapped_m=False, also_l2=False,
          decay_after=False, inplace=False):
    """One Adam/AdamW step with the mistake named by the keyword (the catalogue's buggy versions)."""
    c = _get(config, **defaults)
    lr, b1, b2, wd = c["learning_rate"], c["beta1"], c["beta2"], c["weight_decay"]
    g = dw + wd * w if (not decoupled or also_l2) else dw
    t = c.get("t", 0) if late_t else c.get("t", 0) + 1
    c["t"] = t + 1 if late_t else t
    if t_stuck:
        t = 1
    m = c.get("m", torch.zeros_like(w))
    c["m"] = b1 * g + (1 - b1) * m if swapped_m else b1 * m + (1 - b1) * g
    c["v"] = b2 * c.get("v", torch.zeros_like(w)) + (1 - b2) * g * g
    if constant_correction:
        mh, vh = c["m"] / (1 - b1), c["v"] / (1 - b2)
    elif correct:
        mh, vh = c["m"] / (1 - b1 ** t), c["v"] / (1 - b2 ** t)
    else:
        mh, vh = c["m"], c["v"]
    step = mh / ((vh + c["eps"]).sqrt() if eps_inside else vh.sqrt() + c["eps"])
    if decoupled and not decay_after:
        w = w * (1 - (wd if unscaled else lr * wd))
    if inplace:
        w -= lr * step
        return w, c
    nw = w - lr * step
    if decoupled and decay_after:
        nw = nw * (1 - lr * wd)
    return nw, c


def adam_no_bias_correction(w, dw, config=None):
    """Uses m and v as they are."""
    return _adam(w, dw, config, ADAM, correct=False)


def adam_t_stuck(w, dw, config=None):
    """Stores t but corrects with t = 1 at every step."""
    return _adam(w, dw, config, ADAM, t_stuck=True)


def adam_eps_inside(w, dw, config=None):
    """eps inside the square root."""
    return _adam(w, dw, config, ADAM, eps_inside=True)


def adam_decoupled(w, dw, config=None):
    """AdamW's decay in Adam."""
    return _adam(w, dw, config, ADAM, decoupled=True)


def adam_late_t(w, dw, config=None):
    """Increments t after using it: the first correction divides by 1 - beta**0 = 0."""
    return _adam(w, dw, config, ADAM, late_t=True)


def adam_constant_correction(w, dw, config=None):
    """003's slide: m / (1 - beta1), v / (1 - beta2), without the power t."""
    return _adam(w, dw, config, ADAM, constant_correction=True)


def adam_swapped_m(w, dw, config=None):
    """beta1 on the new gradient, (1 - beta1) on the old average."""
    return _adam(w, dw, config, ADAM, swapped_m=True)


def adam_inplace(w, dw, config=None):
    """w -= ..., on the caller's tensor."""
    return _adam(w, dw, config, ADAM, inplace=True)


def adam_default_lr(w, dw, config=None):
    """Default learning rate 1e-2 instead of the contract's 1e-3."""
    return _adam(w, dw, config, dict(ADAM, learning_rate=1e-2))


def adamw_l2(w, dw, config=None):
    """Adam with the decay added to the gradient: not AdamW."""
    return _adam(w, dw, config, ADAMW)


def adamw_unscaled(w, dw, config=None):
    """Shrinks by (1 - weight_decay), without the learning rate."""
    return _adam(w, dw, config, ADAMW, decoupled=True, unscaled=True)


def adamw_decay_after(w, dw, config=None):
    """Shrinks the new weights after the Adam step; torch shrinks the old ones first."""
    return _adam(w, dw, config, ADAMW, decoupled=True, decay_after=True)


def adamw_no_bias_correction(w, dw, config=None):
    """Uses m and v as they are."""
    return _adam(w, dw, config, ADAMW, decoupled=True, correct=False)


def adamw_default_no_decay(w, dw, config=None):
    """Default weight_decay 0 (Adam's) instead of AdamW's 1e-2."""
    return _adam(w, dw, config, ADAM, decoupled=True)


def adamw_t_stuck(w, dw, config=None):
    """Corrects with t = 1 at every step."""
    return _adam(w, dw, config, ADAMW, decoupled=True, t_stuck=True)


def adamw_eps_inside(w, dw, config=None):
    """eps inside the square root."""
    return _adam(w, dw, config, ADAMW, decoupled=True, eps_inside=True)


def adamw_decay_twice(w, dw, config=None):
    """Decoupled decay and, by habit, the L2 term in the gradient too."""
    return _adam(w, dw, config, ADAMW, decoupled=True, also_l2=True)


def adam_alt_folded(w, dw, config=None, decoupled=False):
    """torch's own arithmetic: the corrections folded into the step size and eps."""
    c = _get(config, **(ADAMW if decoupled else ADAM))
    lr, b1, b2, wd = c["learning_rate"], c["beta1"], c["beta2"], c["weight_decay"]
    g = dw if decoupled else dw + wd * w
    c["step"] = c.get("step", 0) + 1
    if "exp_avg" not in c:
        c["exp_avg"], c["exp_avg_sq"] = torch.zeros_like(w), torch.zeros_like(w)
    c["exp_avg"] = c["exp_avg"].lerp(g, 1 - b1)
    c["exp_avg_sq"] = c["exp_avg_sq"] * b2 + (1 - b2) * g * g
    denom = c["exp_avg_sq"].sqrt() / math.sqrt(1 - b2 ** c["step"]) + c["eps"]
    start = w * (1 - lr * wd) if decoupled else w
    return start - (lr / (1 - b1 ** c["step"])) * c["exp_avg"] / denom, c


def adam_alt_powers(w, dw, config=None, decoupled=False):
    """Keeps beta1**t and beta2**t in config instead of t."""
    c = _get(config, **(ADAMW if decoupled else ADAM))
    b1, b2 = c["beta1"], c["beta2"]
    c["p1"], c["p2"] = c.get("p1", 1.0) * b1, c.get("p2", 1.0) * b2
    g = dw if decoupled else dw + c["weight_decay"] * w
    c["m"] = b1 * c.get("m", 0 * w) + (1 - b1) * g
    c["v"] = b2 * c.get("v", 0 * w) + (1 - b2) * g.square()
    step = (c["m"] / (1 - c["p1"])) / ((c["v"] / (1 - c["p2"])).sqrt() + c["eps"])
    if decoupled:
        return w - c["learning_rate"] * (step + c["weight_decay"] * w), c
    return w - c["learning_rate"] * step, c


def adam_alt_plain(w, dw, config=None):
    c = _get(config, **ADAM)
    t = c["t"] = c.get("t", 0) + 1
    g = dw + c["weight_decay"] * w
    m = c["m"] = c["beta1"] * c.get("m", torch.zeros_like(w)) + (1 - c["beta1"]) * g
    v = c["v"] = c["beta2"] * c.get("v", torch.zeros_like(w)) + (1 - c["beta2"]) * g ** 2
    m_hat, v_hat = m / (1 - c["beta1"] ** t), v / (1 - c["beta2"] ** t)
    return w - c["learning_rate"] * m_hat / (v_hat.sqrt() + c["eps"]), c


def adam_alt_inplace_state(w, dw, config=None, decoupled=False):
    c = _get(config, **(ADAMW if decoupled else ADAM))
    if "m" not in c:
        c["m"], c["v"], c["t"] = torch.zeros_like(w), torch.zeros_like(w), 0
    c["t"] += 1
    g = dw.clone() if decoupled else dw.add(w, alpha=c["weight_decay"])
    c["m"].mul_(c["beta1"]).add_(g, alpha=1 - c["beta1"])
    c["v"].mul_(c["beta2"]).addcmul_(g, g, value=1 - c["beta2"])
    m_hat = c["m"] / (1 - c["beta1"] ** c["t"])
    v_hat = c["v"] / (1 - c["beta2"] ** c["t"])
    new = w.mul(1 - c["learning_rate"] * c["weight_decay"]) if decoupled else w.clone()
    return new.addcdiv_(m_hat, v_hat.sqrt().add_(c["eps"]), value=-c["learning_rate"]), c


def adamw_alt_folded(w, dw, config=None):
    return adam_alt_folded(w, dw, config, decoupled=True)


def adamw_alt_powers(w, dw, config=None):
    """The decay written as a term of the step, lr * (adam_step + wd * w): the same as shrinking first."""
    return adam_alt_powers(w, dw, config, decoupled=True)


def adamw_alt_inplace_state(w, dw, config=None):
    return adam_alt_inplace_state(w, dw, config, decoupled=True)


def adamw_alt_plain(w, dw, config=None):
    c = _get(config, **ADAMW)
    t = c["t"] = c.get("t", 0) + 1
    shrunk = w - c["learning_rate"] * c["weight_decay"] * w
    m = c["m"] = c["beta1"] * c.get("m", torch.zeros_like(w)) + (1 - c["beta1"]) * dw
    v = c["v"] = c["beta2"] * c.get("v", torch.zeros_like(w)) + (1 - c["beta2"]) * dw ** 2
    m_hat, v_hat = m / (1 - c["beta1"] ** t), v / (1 - c["beta2"] ** t)
    return shrunk - c["learning_rate"] * m_hat / (v_hat.sqrt() + c["eps"]), c


# --- clip_grad_norm ------------------------------------------------------------------------------


def cn_per_tensor(grads, max_norm):
    """Clips every tensor by its own norm."""
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    return [g * min(1.0, max_norm / (float(g.norm()) + 1e-6)) for g in grads], total


def cn_sum_of_norms(grads, max_norm):
    """The total as the sum of the per-tensor norms."""
    total = sum(g.norm() for g in grads)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return [g * scale for g in grads], total


def cn_always_rescale(grads, max_norm):
    """Rescales to max_norm even when the norm is smaller (blows small gradients up)."""
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    return [g * (max_norm / (total + 1e-6)) for g in grads], total


def cn_no_epsilon(grads, max_norm):
    """Divides by the norm itself; torch divides by norm + 1e-6."""
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    scale = torch.clamp(max_norm / total, max=1.0)
    return [g * scale for g in grads], total


def cn_norm_after(grads, max_norm):
    """Returns the norm after clipping."""
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return [g * scale for g in grads], total * scale


def cn_inplace(grads, max_norm):
    """mul_ on the caller's gradients (torch's clip_grad_norm_ is in place; this contract is not)."""
    total = torch.sqrt(sum((g * g).sum() for g in grads))
    scale = float(torch.clamp(max_norm / (total + 1e-6), max=1.0))
    return [g.mul_(scale) for g in grads], total


def cn_squared(grads, max_norm):
    """Forgets the square root: the 'norm' is the sum of squares."""
    total = sum((g * g).sum() for g in grads)
    scale = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    return [g * scale for g in grads], total


def cn_one_tensor(grads, max_norm):
    """Returns one flat tensor instead of a list."""
    flat = torch.cat([g.reshape(-1) for g in grads])
    total = flat.norm()
    return flat * torch.clamp(max_norm / (total + 1e-6), max=1.0), total


def cn_stack(grads, max_norm):
    """torch.stack of the gradients: fails when their shapes differ."""
    total = torch.stack(grads).norm()
    return [g * torch.clamp(max_norm / (total + 1e-6), max=1.0) for g in grads], total


def cn_alt_cat(grads, max_norm):
    total = torch.linalg.vector_norm(torch.cat([g.flatten() for g in grads]))
    coef = max_norm / (total + 1e-6)
    return [g * coef if coef < 1 else g.clone() for g in grads], total


def cn_alt_norm_of_norms(grads, max_norm):
    total = torch.stack([g.norm() for g in grads]).norm()
    return [g * torch.clamp(max_norm / (total + 1e-6), max=1.0) for g in grads], total


def cn_alt_float(grads, max_norm):
    """The norm as a Python float."""
    total = math.sqrt(sum(float((g ** 2).sum()) for g in grads))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [scale * g for g in grads], total


def cn_alt_where(grads, max_norm):
    sq = torch.zeros((), dtype=grads[0].dtype)
    for g in grads:
        sq = sq + (g * g).sum()
    total = sq.sqrt()
    scale = torch.where(total > max_norm, max_norm / (total + 1e-6), torch.ones_like(total))
    return [g * scale for g in grads], total


# --- clip_grad_value -----------------------------------------------------------------------------


def cv_upper_only(grads, clip_value):
    """Clamps from above only."""
    return [g.clamp(max=clip_value) for g in grads]


def cv_abs(grads, clip_value):
    """Clips the magnitude and forgets the sign."""
    return [g.abs().clamp(max=clip_value) for g in grads]


def cv_inplace(grads, clip_value):
    """clamp_ on the caller's gradients."""
    return [g.clamp_(-clip_value, clip_value) for g in grads]


def cv_zero_to_c(grads, clip_value):
    """clamp(0, c): the lower bound typed as 0."""
    return [g.clamp(0, clip_value) for g in grads]


def cv_rescale(grads, clip_value):
    """Rescales a tensor whose largest entry is too big (that is another kind of clipping)."""
    return [g * min(1.0, clip_value / float(g.abs().max())) for g in grads]


def cv_one_tensor(grads, clip_value):
    """Returns one flat tensor instead of a list."""
    return torch.cat([g.reshape(-1) for g in grads]).clamp(-clip_value, clip_value)


def cv_where_sign(grads, clip_value):
    """torch.where(|g| > c, c, g): large negative entries become +c."""
    return [torch.where(g.abs() > clip_value, torch.full_like(g, clip_value), g) for g in grads]


def cv_float32_buffer(grads, clip_value):
    """Copies into torch.zeros(g.shape): float32 whatever g is."""
    out = []
    for g in grads:
        buf = torch.zeros(g.shape)
        buf[:] = g.clamp(-clip_value, clip_value)
        out.append(buf)
    return out


def cv_alt_minmax(grads, clip_value):
    return [torch.minimum(torch.maximum(g, torch.full_like(g, -clip_value)), torch.full_like(g, clip_value))
            for g in grads]


def cv_alt_where(grads, clip_value):
    out = []
    for g in grads:
        g = torch.where(g > clip_value, torch.full_like(g, clip_value), g)
        out.append(torch.where(g < -clip_value, torch.full_like(g, -clip_value), g))
    return out


def cv_alt_sign(grads, clip_value):
    return [torch.sign(g) * g.abs().clamp(max=clip_value) for g in grads]


def cv_alt_clip(grads, clip_value):
    return [torch.clip(g.clone(), min=-clip_value, max=clip_value) for g in grads]


# --- cheats ------------------------------------------------------------------------------------


def _torch_rule(cls, **mapping):
    def rule(w, dw, config=None):
        c = config if config is not None else {}
        if "opt" not in c:
            c["p"] = torch.nn.Parameter(w.clone())
            c["opt"] = cls([c["p"]], **{k: c.get(v, d) for k, (v, d) in mapping.items()})
        c["p"].grad = dw.clone()
        c["opt"].step()
        return c["p"].detach().clone(), c
    rule.__name__ = f"cheat_{cls.__name__}"
    return rule


def cheat_answer_key(name):
    def rule(w, dw, config=None):
        import labkit.reference

        return getattr(labkit.reference, name)(w, dw, config)
    rule.__name__ = f"cheat_reference_{name}"
    return rule


def cn_torch(grads, max_norm):
    params = [torch.nn.Parameter(g.clone()) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return [p.grad for p in params], total


def cv_torch(grads, clip_value):
    params = [torch.nn.Parameter(g.clone()) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, clip_value)
    return [p.grad for p in params]


def cn_answer_key(grads, max_norm):
    from labkit import reference

    return reference.clip_grad_norm(grads, max_norm)


BUGGY = {
    "sgd": [sgd_plus, sgd_fixed_lr, sgd_no_decay, sgd_decay_after, sgd_inplace, sgd_decay_sign,
            sgd_torch_default_lr, sgd_float32_buffer, sgd_double_decay],
    "sgd_momentum": [mom_reset, mom_dampening, mom_no_decay, mom_is_nesterov, mom_sign, mom_first_twice,
                     mom_torch_default, mom_stale, mom_aliased],
    "sgd_nesterov": [nest_standard, nest_old_velocity, nest_one_minus, nest_reset, nest_no_decay, nest_dampening,
                     nest_decay_outside, nest_uses_new_v_twice, nest_torch_default],
    "adagrad": [ada_no_sqrt, ada_eps_inside, ada_reset, ada_plus, ada_sum_of_gradients, ada_late_cache, ada_mean,
                ada_inplace, ada_eps_accumulates],
    "rmsprop": [rms_swapped, rms_eps_inside, rms_sum, rms_reset, rms_bias_corrected, rms_hinton_default,
                rms_no_sqrt, rms_late_cache],
    "adam": [adam_no_bias_correction, adam_t_stuck, adam_eps_inside, adam_decoupled, adam_late_t,
             adam_constant_correction, adam_swapped_m, adam_inplace, adam_default_lr],
    "adamw": [adamw_l2, adamw_unscaled, adamw_decay_after, adamw_no_bias_correction, adamw_default_no_decay,
              adamw_t_stuck, adamw_eps_inside, adamw_decay_twice],
    "clip_grad_norm": [cn_per_tensor, cn_sum_of_norms, cn_always_rescale, cn_no_epsilon, cn_norm_after, cn_inplace,
                       cn_squared, cn_one_tensor, cn_stack],
    "clip_grad_value": [cv_upper_only, cv_abs, cv_inplace, cv_zero_to_c, cv_rescale, cv_one_tensor, cv_where_sign,
                        cv_float32_buffer],
}

CORRECT = {
    "sgd": [sgd_alt_torch_add, sgd_alt_shrink, sgd_alt_loop_free, sgd_alt_new_dict],
    "sgd_momentum": [mom_alt_cs231n, mom_alt_first_step, mom_alt_inplace_state, mom_alt_step_stored],
    "sgd_nesterov": [nest_alt_cs231n, nest_alt_bengio, nest_alt_inline, nest_alt_torch_ops],
    "adagrad": [ada_alt_torch_ops, ada_alt_reciprocal, ada_alt_list, ada_alt_no_defaults_dict],
    "rmsprop": [rms_alt_lerp, rms_alt_torch_ops, rms_alt_increment, rms_alt_rms_key],
    "adam": [adam_alt_folded, adam_alt_powers, adam_alt_plain, adam_alt_inplace_state],
    "adamw": [adamw_alt_folded, adamw_alt_powers, adamw_alt_inplace_state, adamw_alt_plain],
    "clip_grad_norm": [cn_alt_cat, cn_alt_norm_of_norms, cn_alt_float, cn_alt_where],
    "clip_grad_value": [cv_alt_minmax, cv_alt_where, cv_alt_sign, cv_alt_clip],
}

_SGD_ARGS = dict(lr=("learning_rate", 1e-2), weight_decay=("weight_decay", 0.0))
CHEATS = {  # (function, version, the call the report must name)
    "sgd": [(_torch_rule(torch.optim.SGD, **_SGD_ARGS), "torch.optim.SGD"),
            (cheat_answer_key("sgd"), "labkit.reference.sgd")],
    "sgd_momentum": [(_torch_rule(torch.optim.SGD, momentum=("momentum", 0.9), **_SGD_ARGS), "torch.optim.SGD")],
    "sgd_nesterov": [(cheat_answer_key("sgd_nesterov"), "labkit.reference.sgd_nesterov")],
    "adagrad": [(_torch_rule(torch.optim.Adagrad, lr=("learning_rate", 1e-2), eps=("eps", 1e-10)),
                 "torch.optim.Adagrad")],
    "rmsprop": [(_torch_rule(torch.optim.RMSprop, lr=("learning_rate", 1e-2), alpha=("decay_rate", 0.99)),
                 "torch.optim.RMSprop")],
    "adam": [(_torch_rule(torch.optim.Adam, lr=("learning_rate", 1e-3)), "torch.optim.Adam"),
             (cheat_answer_key("adam"), "labkit.reference.adam")],
    "adamw": [(_torch_rule(torch.optim.AdamW, lr=("learning_rate", 1e-3)), "torch.optim.AdamW")],
    "clip_grad_norm": [(cn_torch, "torch._foreach_norm"), (cn_answer_key, "labkit.reference.clip_grad_norm")],
    "clip_grad_value": [(cv_torch, "torch._foreach_clamp_min_")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("sgd", sgd_fixed_lr, "default learning rate"),
    ("sgd", sgd_no_decay, "without weight decay"),
    ("sgd", sgd_decay_after, "after the step"),
    ("sgd", sgd_inplace, "in place"),
    ("sgd", sgd_torch_default_lr, "empty config"),
    ("sgd", sgd_float32_buffer, "float64 inputs came back as float32"),
    ("sgd_momentum", mom_reset, "plain SGD"),
    ("sgd_momentum", mom_dampening, "dampening"),
    ("sgd_momentum", mom_is_nesterov, "Nesterov"),
    ("sgd_momentum", mom_stale, "very first step"),
    ("sgd_momentum", mom_aliased, "changed: dw"),
    ("sgd_nesterov", nest_standard, "look-ahead is missing"),
    ("sgd_nesterov", nest_old_velocity, "look-ahead is missing"),
    ("adagrad", ada_no_sqrt, "square root"),
    ("adagrad", ada_eps_inside, "inside the square root"),
    ("adagrad", ada_reset, "restarts at every step"),
    ("adagrad", ada_sum_of_gradients, "NaN"),
    ("rmsprop", rms_swapped, "swapped"),
    ("rmsprop", rms_sum, "AdaGrad"),
    ("rmsprop", rms_hinton_default, "empty config"),
    ("adam", adam_no_bias_correction, "without bias correction"),
    ("adam", adam_t_stuck, "t = 1"),
    ("adam", adam_decoupled, "AdamW"),
    ("adam", adam_late_t, "NaN or inf"),
    ("adamw", adamw_l2, "decouples"),
    ("adamw", adamw_unscaled, "not scaled by the learning rate"),
    ("clip_grad_norm", cn_per_tensor, "its own norm"),
    ("clip_grad_norm", cn_sum_of_norms, "sum of the per-tensor norms"),
    ("clip_grad_norm", cn_norm_after, "after clipping"),
    ("clip_grad_norm", cn_inplace, "in place"),
    ("clip_grad_norm", cn_one_tensor, "list of tensors"),
    ("clip_grad_value", cv_upper_only, "upper bound"),
    ("clip_grad_value", cv_abs, "sign"),
    ("clip_grad_value", cv_one_tensor, "list of tensors"),
]
