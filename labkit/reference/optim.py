"""Reference update rules (section 05 of the contract) and gradient clipping.

Every rule follows the CS231n convention ``rule(w, dw, config=None) -> (next_w, config)``:

- ``w`` and ``dw`` are tensors of the same shape; neither is modified, ``next_w`` is a new tensor
  of the same dtype and device.
- ``config`` is a dict holding the hyper-parameters (the defaults below are filled in with
  ``setdefault`` when absent) and the rule's state (moment estimates, step counter). It is created
  when ``None`` and updated in place: pass the returned dict back at the next step.

Each rule follows the ``torch.optim`` class named below step for step (same weight trajectory):

    rule            matches torch.optim              defaults
    --------------  -------------------------------  ------------------------------------------------
    sgd             SGD                              learning_rate 1e-2, weight_decay 0
    sgd_momentum    SGD(momentum=mu)                 + momentum 0.9
    sgd_nesterov    SGD(momentum=mu, nesterov=True)  + momentum 0.9
    adagrad         Adagrad                          learning_rate 1e-2, eps 1e-10, weight_decay 0
    rmsprop         RMSprop(alpha=decay_rate)        learning_rate 1e-2, decay_rate 0.99, eps 1e-8,
                                                     weight_decay 0
    adam            Adam                             learning_rate 1e-3, beta1 0.9, beta2 0.999,
                                                     eps 1e-8, weight_decay 0
    adamw           AdamW                            as adam, with weight_decay 1e-2 (decoupled)
    nadam           NAdam (going further)            learning_rate 2e-3, as adam, momentum_decay 4e-3
    radam           RAdam (going further)            as adam

``weight_decay`` (L2) is added to the gradient, ``g = dw + weight_decay * w``, except in ``adamw``
where the weights shrink directly, ``w <- (1 - lr * weight_decay) w``, before the Adam step.

Implementation note: the state tensors in ``config`` belong to the rule and are updated in place
(``mul_``/``add_``), and ``next_w`` is computed with one fused out-of-place op; this keeps a step
over a large model as fast as ``torch.optim``'s own loop.

Example
-------
>>> w, config = torch.zeros(3), None
>>> for _ in range(10):
...     w, config = adam(w, 2 * (w - 1), config)      # minimise ||w - 1||^2
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

from ._validation import check_dict, check_int, check_number, check_same_shape, check_tensor, check_tensor_list

__all__ = [
    "sgd",
    "sgd_momentum",
    "sgd_nesterov",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "nadam",
    "radam",
    "lookahead",
    "clip_grad_norm",
    "clip_grad_value",
]

Rule = Callable[[torch.Tensor, torch.Tensor, "dict | None"], "tuple[torch.Tensor, dict]"]


# ----------------------------------------------------------------------------- helpers
_NON_NEGATIVE = {key: f"config[{key!r}]" for key in ("learning_rate", "weight_decay", "eps", "momentum")}


def _start(w, dw, config, **defaults) -> dict:
    """Check the arguments, create ``config`` if needed and fill in the defaults."""
    check_tensor(w, "w", floating=True)
    check_tensor(dw, "dw")
    check_same_shape(w, dw, ("w", "dw"))
    config = check_dict({} if config is None else config, "config")
    for key, value in defaults.items():
        config.setdefault(key, value)
    for key, label in _NON_NEGATIVE.items():
        if key in config:
            check_number(config[key], label, minimum=0)
    for key in ("beta1", "beta2", "decay_rate"):
        if key in config and not 0.0 <= config[key] < 1.0:
            raise ValueError(f"config[{key!r}] must be in [0, 1), got {config[key]}")
    return config


def _l2_gradient(w: torch.Tensor, dw: torch.Tensor, weight_decay: float) -> torch.Tensor:
    """``g = dw + weight_decay * w`` (a new tensor only when weight_decay is not 0)."""
    return dw.add(w, alpha=weight_decay) if weight_decay != 0 else dw


def _state(config: dict, key: str, w: torch.Tensor) -> torch.Tensor:
    """The state tensor ``config[key]``, created as zeros shaped like ``w`` at the first step."""
    if key not in config:
        config[key] = torch.zeros_like(w, memory_format=torch.preserve_format)
    return config[key]


# ----------------------------------------------------------------------------- SGD family
def sgd(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """Vanilla SGD: ``w <- w - lr * g`` with ``g = dw + weight_decay * w``."""
    config = _start(w, dw, config, learning_rate=1e-2, weight_decay=0.0)
    g = _l2_gradient(w, dw, config["weight_decay"])
    next_w = w.add(g, alpha=-config["learning_rate"])
    return next_w, config


def sgd_momentum(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """SGD with momentum in PyTorch's form (``velocity`` starts at 0)::

        v <- mu * v + g
        w <- w - lr * v
    """
    config = _start(w, dw, config, learning_rate=1e-2, momentum=0.9, weight_decay=0.0)
    g = _l2_gradient(w, dw, config["weight_decay"])
    v = _state(config, "velocity", w)
    v.mul_(config["momentum"]).add_(g)
    next_w = w.add(v, alpha=-config["learning_rate"])
    return next_w, config


def sgd_nesterov(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """Nesterov momentum in PyTorch's form: the step looks ahead along the new velocity::

        v <- mu * v + g
        w <- w - lr * (g + mu * v)
    """
    config = _start(w, dw, config, learning_rate=1e-2, momentum=0.9, weight_decay=0.0)
    g = _l2_gradient(w, dw, config["weight_decay"])
    v = _state(config, "velocity", w)
    v.mul_(config["momentum"]).add_(g)
    step = g.add(v, alpha=config["momentum"])
    next_w = step.mul_(-config["learning_rate"]).add_(w)  # w - lr * (g + mu v), reusing `step`
    return next_w, config


# ----------------------------------------------------------------------------- adaptive rates
def adagrad(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """AdaGrad: per-weight rates shrink with the sum of squared gradients::

        cache <- cache + g**2
        w     <- w - lr * g / (sqrt(cache) + eps)
    """
    config = _start(w, dw, config, learning_rate=1e-2, eps=1e-10, weight_decay=0.0)
    g = _l2_gradient(w, dw, config["weight_decay"])
    cache = _state(config, "cache", w)
    cache.addcmul_(g, g)
    denom = cache.sqrt().add_(config["eps"])
    next_w = torch.addcdiv(w, g, denom, value=-config["learning_rate"])
    return next_w, config


def rmsprop(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """RMSProp: a leaky average of squared gradients (``decay_rate`` is torch's ``alpha``)::

        cache <- decay_rate * cache + (1 - decay_rate) * g**2
        w     <- w - lr * g / (sqrt(cache) + eps)
    """
    config = _start(w, dw, config, learning_rate=1e-2, decay_rate=0.99, eps=1e-8, weight_decay=0.0)
    g = _l2_gradient(w, dw, config["weight_decay"])
    rho = config["decay_rate"]
    cache = _state(config, "cache", w)
    cache.mul_(rho).addcmul_(g, g, value=1 - rho)
    denom = cache.sqrt().add_(config["eps"])
    next_w = torch.addcdiv(w, g, denom, value=-config["learning_rate"])
    return next_w, config


def _adam_step(w, dw, config, decoupled: bool):
    """The shared body of ``adam`` and ``adamw`` (``t`` counts steps, starting at 1)::

        m <- beta1 m + (1 - beta1) g            m_hat = m / (1 - beta1**t)
        v <- beta2 v + (1 - beta2) g**2         v_hat = v / (1 - beta2**t)
        w <- w - lr * m_hat / (sqrt(v_hat) + eps)
    """
    lr, b1, b2, wd = config["learning_rate"], config["beta1"], config["beta2"], config["weight_decay"]
    g = dw if decoupled else _l2_gradient(w, dw, wd)
    m, v = _state(config, "m", w), _state(config, "v", w)
    config["t"] = t = config.get("t", 0) + 1
    m.lerp_(g, 1 - b1)  # m + (1 - b1)(g - m) = b1 m + (1 - b1) g, in one pass
    v.mul_(b2).addcmul_(g, g, value=1 - b2)
    bias1, root2 = 1 - b1**t, math.sqrt(1 - b2**t)
    # m_hat / (sqrt(v_hat) + eps) = (root2 / bias1) * m / (sqrt(v) + eps * root2): scalars folded
    denom = v.sqrt().add_(config["eps"] * root2)
    start = w.mul(1 - lr * wd) if decoupled and wd != 0 else w
    next_w = torch.addcdiv(start, m, denom, value=-lr * root2 / bias1)
    return next_w, config


def adam(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """Adam with bias correction; ``weight_decay`` is L2 (added to the gradient). State: m, v, t."""
    config = _start(w, dw, config, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
    return _adam_step(w, dw, config, decoupled=False)


def adamw(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """AdamW: Adam on ``dw`` alone, with decoupled decay ``w <- (1 - lr * weight_decay) w`` first."""
    config = _start(w, dw, config, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2)
    return _adam_step(w, dw, config, decoupled=True)


# ----------------------------------------------------------------------------- going further
def nadam(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """NAdam (Dozat 2016) as ``torch.optim.NAdam``: Adam with a Nesterov look-ahead on ``m``.

    The momentum coefficient warms up, ``mu_t = beta1 (1 - 0.5 * 0.96**(t * momentum_decay))``,
    and ``prod_t = mu_1 ... mu_t``::

        w <- w - lr [ (1 - mu_t) / (1 - prod_t) g + mu_{t+1} / (1 - prod_t mu_{t+1}) m ] / (sqrt(v_hat) + eps)
    """
    config = _start(w, dw, config, learning_rate=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3,
                    weight_decay=0.0)
    lr, b1, b2, psi = config["learning_rate"], config["beta1"], config["beta2"], config["momentum_decay"]
    g = _l2_gradient(w, dw, config["weight_decay"])
    m, v = _state(config, "m", w), _state(config, "v", w)
    config["t"] = t = config.get("t", 0) + 1
    mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))
    mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
    config["mu_product"] = prod = config.get("mu_product", 1.0) * mu
    m.mul_(b1).add_(g, alpha=1 - b1)
    v.mul_(b2).addcmul_(g, g, value=1 - b2)
    denom = v.div(1 - b2**t).sqrt_().add_(config["eps"])
    next_w = torch.addcdiv(w, g, denom, value=-lr * (1 - mu) / (1 - prod))
    next_w.addcdiv_(m, denom, value=-lr * mu_next / (1 - prod * mu_next))
    return next_w, config


def radam(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
    """RAdam (Liu et al. 2019) as ``torch.optim.RAdam``: Adam whose adaptive step is switched on
    only once the variance of ``v_hat`` is tractable (``rho_t > 5``), and then rectified::

        rho_inf = 2 / (1 - beta2) - 1,   rho_t = rho_inf - 2 t beta2**t / (1 - beta2**t)
        rho_t <= 5:  w <- w - lr * m_hat
        rho_t >  5:  w <- w - lr * r_t * m_hat * sqrt(1 - beta2**t) / (sqrt(v) + eps),
                     r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
    """
    config = _start(w, dw, config, learning_rate=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0)
    lr, b1, b2 = config["learning_rate"], config["beta1"], config["beta2"]
    g = _l2_gradient(w, dw, config["weight_decay"])
    m, v = _state(config, "m", w), _state(config, "v", w)
    config["t"] = t = config.get("t", 0) + 1
    m.mul_(b1).add_(g, alpha=1 - b1)
    v.mul_(b2).addcmul_(g, g, value=1 - b2)
    bias1, bias2 = 1 - b1**t, 1 - b2**t
    rho_inf = 2 / (1 - b2) - 1
    rho_t = rho_inf - 2 * t * b2**t / bias2
    if rho_t <= 5.0:
        return w.add(m, alpha=-lr / bias1), config
    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    denom = v.sqrt().add_(config["eps"])  # torch puts eps on sqrt(v), not on sqrt(v_hat)
    next_w = torch.addcdiv(w, m, denom, value=-lr * rect * math.sqrt(bias2) / bias1)
    return next_w, config


def lookahead(rule: Rule, k: int = 5, alpha: float = 0.5) -> Rule:
    """Lookahead (Zhang et al. 2019) around an inner rule: returns a new rule.

    The inner rule takes ``k`` fast steps; then the slow weights move part of the way,
    ``slow <- slow + alpha (fast - slow)``, and the fast weights restart from them. The slow weights
    (``config["slow"]``) and the fast-step counter (``config["lookahead_step"]``) live in the config
    shared with the inner rule.
    """
    if not callable(rule):
        raise TypeError(f"lookahead: rule must be an update rule, got {type(rule).__name__}")
    k = check_int(k, "lookahead: k", minimum=1)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"lookahead: alpha must be in [0, 1], got {alpha}")

    def lookahead_rule(w: torch.Tensor, dw: torch.Tensor, config: dict | None = None):
        config = {} if config is None else config
        if "slow" not in config:
            config["slow"] = w.clone()
        next_w, config = rule(w, dw, config)
        config["lookahead_step"] = config.get("lookahead_step", 0) + 1
        if config["lookahead_step"] % k == 0:
            config["slow"].add_(next_w - config["slow"], alpha=alpha)
            next_w = config["slow"].clone()
        return next_w, config

    lookahead_rule.__name__ = f"lookahead_{getattr(rule, '__name__', 'rule')}"
    return lookahead_rule


# ----------------------------------------------------------------------------- clipping
def clip_grad_norm(grads: Sequence[torch.Tensor], max_norm: float):
    """Rescale a list of gradients so that their global L2 norm is at most ``max_norm``.

    ``total_norm = sqrt(sum_i ||g_i||**2)``, ``scale = min(1, max_norm / (total_norm + 1e-6))``,
    ``clipped_i = scale * g_i`` (the ``1e-6`` as in ``torch.nn.utils.clip_grad_norm_``).

    Returns ``(clipped, total_norm)``: a list of new tensors and the norm *before* clipping as a
    0-dim tensor (on the first gradient's device and dtype). The inputs are unchanged.
    """
    grads = check_tensor_list(grads, "grads")
    max_norm = check_number(max_norm, "clip_grad_norm: max_norm", minimum=0)
    if not grads:
        return [], torch.tensor(0.0)
    first = grads[0]
    norms = torch.stack([torch.linalg.vector_norm(g).to(first.device, first.dtype) for g in grads])
    total_norm = torch.linalg.vector_norm(norms)
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    clipped = [g * scale.to(g.device, g.dtype) for g in grads]
    return clipped, total_norm


def clip_grad_value(grads: Sequence[torch.Tensor], clip_value: float) -> list[torch.Tensor]:
    """Clamp every gradient entry to ``[-clip_value, clip_value]``; returns a list of new tensors."""
    grads = check_tensor_list(grads, "grads")
    clip_value = check_number(clip_value, "clip_grad_value: clip_value", minimum=0)
    return [g.clamp(-clip_value, clip_value) for g in grads]
