"""Reference learning-rate schedules (section 06 of the contract).

Each schedule is a pure function of the step ``t`` (an integer, ``t = 0`` is the first step) that
returns the learning rate as a Python float, equal to what the ``torch.optim.lr_scheduler`` class
named in its docstring puts in ``optimizer.param_groups[0]["lr"]`` after ``t`` calls of
``scheduler.step()``. ``ReduceLROnPlateau`` depends on the validation metric, so it is a small class.

To drive a ``torch.optim`` optimizer with one of these functions use ``labkit.bridges.ScheduleLR``;
to add a warm-up to any of them use ``with_linear_warmup``.

Example
-------
>>> f = with_linear_warmup(lambda t: cosine_annealing(t, 0.1, total_steps=900), warmup_steps=100)
>>> [round(f(t), 4) for t in (0, 50, 100, 550, 1000)]
[0.0, 0.05, 0.1, 0.05, 0.0]
"""
from __future__ import annotations

import bisect
import math
from typing import Callable, Sequence

from ._validation import check_choice, check_int, check_number

__all__ = [
    "step_decay",
    "multistep_decay",
    "exponential_decay",
    "inverse_time_decay",
    "inverse_sqrt_decay",
    "linear_decay",
    "cosine_annealing",
    "cosine_warm_restarts",
    "with_linear_warmup",
    "triangular_cyclic",
    "one_cycle",
    "ReduceLROnPlateau",
]

Schedule = Callable[[int], float]


# ----------------------------------------------------------------------------- decays
def step_decay(t: int, lr0: float, step_size: int, gamma: float = 0.1) -> float:
    """``lr0 * gamma ** floor(t / step_size)`` (as ``StepLR``)."""
    t, step_size = check_int(t, "t", minimum=0), check_int(step_size, "step_size", minimum=1)
    return lr0 * gamma ** (t // step_size)


def multistep_decay(t: int, lr0: float, milestones: Sequence[int], gamma: float = 0.1) -> float:
    """``lr0 * gamma ** (number of milestones <= t)`` (as ``MultiStepLR``; a repeated milestone
    counts once per occurrence)."""
    t = check_int(t, "t", minimum=0)
    marks = sorted(check_int(m, "milestones entry", minimum=0) for m in milestones)
    return lr0 * gamma ** bisect.bisect_right(marks, t)


def exponential_decay(t: int, lr0: float, gamma: float) -> float:
    """``lr0 * gamma ** t`` (as ``ExponentialLR``)."""
    return lr0 * gamma ** check_int(t, "t", minimum=0)


def inverse_time_decay(t: int, lr0: float, k: float) -> float:
    """``lr0 / (1 + k t)``."""
    return lr0 / (1.0 + check_number(k, "k", minimum=0) * check_int(t, "t", minimum=0))


def inverse_sqrt_decay(t: int, lr0: float) -> float:
    """``lr0 / sqrt(t + 1)``."""
    return lr0 / math.sqrt(check_int(t, "t", minimum=0) + 1)


def linear_decay(t: int, lr0: float, total_steps: int) -> float:
    """``lr0 * max(0, 1 - t / total_steps)``: reaches 0 at ``t = total_steps`` and stays there."""
    t, total_steps = check_int(t, "t", minimum=0), check_int(total_steps, "total_steps", minimum=1)
    return lr0 * max(0.0, 1.0 - t / total_steps)


# ----------------------------------------------------------------------------- cosines
def cosine_annealing(t: int, lr0: float, total_steps: int, lr_min: float = 0.0) -> float:
    """``lr_min + (lr0 - lr_min) * (1 + cos(pi t / total_steps)) / 2`` (``CosineAnnealingLR``,
    ``T_max = total_steps``).

    Reaches ``lr_min`` at ``t = total_steps``. Like torch's closed form, the formula is not clipped:
    past ``total_steps`` the rate climbs back to ``lr0`` at ``2 total_steps`` (a cosine of period
    ``2 total_steps``). Stop there, or use ``cosine_warm_restarts`` for deliberate restarts.
    """
    t, total_steps = check_int(t, "t", minimum=0), check_int(total_steps, "total_steps", minimum=1)
    return lr_min + (lr0 - lr_min) * (1.0 + math.cos(math.pi * t / total_steps)) / 2.0


def cosine_warm_restarts(t: int, lr0: float, T_0: int, T_mult: int = 1, lr_min: float = 0.0) -> float:
    """SGDR (as ``CosineAnnealingWarmRestarts``): cosine annealing from ``lr0`` towards ``lr_min``
    over cycles of lengths ``T_0, T_0 T_mult, T_0 T_mult**2, ...``, restarting at ``lr0``.

    With ``T_cur`` the steps since the last restart and ``T_i`` the current cycle's length:
    ``lr_min + (lr0 - lr_min) * (1 + cos(pi T_cur / T_i)) / 2``.
    """
    t, T_0 = check_int(t, "t", minimum=0), check_int(T_0, "T_0", minimum=1)
    T_mult = check_int(T_mult, "T_mult", minimum=1)
    T_cur, T_i = t, T_0
    while T_cur >= T_i:  # walk over whole cycles: O(log t) iterations when T_mult > 1
        if T_mult == 1:
            T_cur %= T_i
            break
        T_cur -= T_i
        T_i *= T_mult
    return lr_min + (lr0 - lr_min) * (1.0 + math.cos(math.pi * T_cur / T_i)) / 2.0


# ----------------------------------------------------------------------------- warm-up
def with_linear_warmup(schedule: Schedule, warmup_steps: int) -> Schedule:
    """Prefix ``schedule`` with a linear warm-up; returns ``f(t)``::

        f(t) = schedule(0) * t / warmup_steps    for t < warmup_steps   (starts at 0)
        f(t) = schedule(t - warmup_steps)         otherwise

    ``warmup_steps = 0`` gives ``schedule`` back unchanged (as a new function).
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be a function of the step t, got {type(schedule).__name__}")
    warmup_steps = check_int(warmup_steps, "warmup_steps", minimum=0)

    def warmed_up(t: int) -> float:
        t = check_int(t, "t", minimum=0)
        if t < warmup_steps:
            return schedule(0) * t / warmup_steps
        return schedule(t - warmup_steps)

    return warmed_up


# ----------------------------------------------------------------------------- cyclic policies
def triangular_cyclic(t: int, lr_min: float, lr_max: float, step_size: int) -> float:
    """Triangular cyclical rate (as ``CyclicLR(base_lr=lr_min, max_lr=lr_max, step_size_up=step_size,
    mode="triangular")``): up from ``lr_min`` to ``lr_max`` in ``step_size`` steps, down again in
    ``step_size`` steps, and repeat (period ``2 step_size``)."""
    t, step_size = check_int(t, "t", minimum=0), check_int(step_size, "step_size", minimum=1)
    pos = t % (2 * step_size)  # position inside the current cycle
    height = pos / step_size if pos <= step_size else (2 * step_size - pos) / step_size
    return lr_min + (lr_max - lr_min) * height


def one_cycle(
    t: int, lr_max: float, total_steps: int, pct_start: float = 0.3, div_factor: float = 25.0, final_div_factor: float = 1e4
) -> float:
    """1cycle policy (as ``OneCycleLR(anneal_strategy="cos", three_phase=False)``).

    ``lr_start = lr_max / div_factor``, ``lr_end = lr_start / final_div_factor`` and the peak at
    step ``p = pct_start * total_steps - 1``; with ``cos_anneal(a, b, u) = b + (a - b)(1 + cos(pi u))/2``::

        t <= p :  cos_anneal(lr_start, lr_max, t / p)
        t >  p :  cos_anneal(lr_max, lr_end, (t - p) / (total_steps - 1 - p))

    Defined for ``0 <= t <= total_steps`` (torch allows one step past the last one too).
    """
    t, total_steps = check_int(t, "t", minimum=0), check_int(total_steps, "total_steps", minimum=1)
    if not 0.0 <= pct_start <= 1.0:
        raise ValueError(f"pct_start must be in [0, 1], got {pct_start}")
    if t > total_steps:
        raise ValueError(f"t = {t} is past the end of the cycle (total_steps = {total_steps})")
    lr_start = lr_max / div_factor
    lr_end = lr_start / final_div_factor
    peak = pct_start * total_steps - 1.0
    if t <= peak:
        if peak == 0:
            raise ValueError("one_cycle: pct_start * total_steps = 1 makes the warm-up phase empty")
        start, end, frac = lr_start, lr_max, t / peak
    else:
        if total_steps - 1 - peak == 0:
            raise ValueError("one_cycle: pct_start = 1 leaves no steps for the annealing phase")
        start, end, frac = lr_max, lr_end, (t - peak) / (total_steps - 1 - peak)
    return end + (start - end) * (1.0 + math.cos(math.pi * frac)) / 2.0


# ----------------------------------------------------------------------------- on a plateau
class ReduceLROnPlateau:
    """Cut the rate by ``factor`` once the metric stops improving (``torch.optim.lr_scheduler.
    ReduceLROnPlateau`` with ``threshold_mode="rel"``).

    ``step(metric) -> lr`` is called once per epoch. In ``"min"`` mode an epoch improves when
    ``metric < best * (1 - threshold)`` (``"max"``: ``metric > best * (1 + threshold)``). After more
    than ``patience`` epochs in a row without improvement the rate becomes
    ``max(lr * factor, min_lr)`` (ignored when that changes it by no more than ``eps``), then
    ``cooldown`` epochs pass during which bad epochs are not counted.

    Attributes: ``lr``, ``best``, ``num_bad_epochs``, ``cooldown_counter``, ``last_epoch``
    (number of ``step`` calls).
    """

    def __init__(
        self,
        lr0: float,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> None:
        check_choice(mode, "mode", ("min", "max"))
        if not 0.0 <= factor < 1.0:
            raise ValueError(f"factor must be in [0, 1) (the rate is multiplied by it), got {factor}")
        self.patience = check_int(patience, "patience", minimum=0)
        self.cooldown = check_int(cooldown, "cooldown", minimum=0)
        self.threshold = check_number(threshold, "threshold", minimum=0)
        self.min_lr = check_number(min_lr, "min_lr", minimum=0)
        self.lr, self.mode, self.factor, self.eps = float(lr0), mode, factor, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0

    def is_better(self, metric: float) -> bool:
        """Whether ``metric`` improves on ``best`` by more than the relative threshold."""
        if self.mode == "min":
            return metric < self.best * (1.0 - self.threshold)
        return metric > self.best * (1.0 + self.threshold)

    def step(self, metric: float) -> float:
        """Record one epoch's metric; returns the learning rate to use next."""
        metric = float(metric)
        self.last_epoch += 1
        if self.is_better(metric):
            self.best, self.num_bad_epochs = metric, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:  # bad epochs do not count while cooling down
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.lr * self.factor, self.min_lr)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        return self.lr

    def __repr__(self) -> str:
        return (
            f"ReduceLROnPlateau(lr={self.lr:g}, mode={self.mode!r}, best={self.best:g}, "
            f"num_bad_epochs={self.num_bad_epochs}, cooldown_counter={self.cooldown_counter})"
        )
