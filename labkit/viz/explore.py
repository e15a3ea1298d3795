"""The pictures behind the explorers of ``labkit.widgets``, as pure functions of their settings.

Each ``*_figure`` function builds one Figure from plain values: the widget callback, the static
fallback outside Jupyter and the tests all call them. The update rules, schedules, initialisers
and activations are PyTorch's own (``torch.optim``, ``torch.optim.lr_scheduler``, ``torch.nn.init``,
``torch.nn.functional``): the explorers need no one's answers, and a student's function can be
passed where a figure takes one.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

from .contours import plot_trajectories
from .layers import plot_layer_histograms
from .training import plot_schedule

__all__ = [
    "NONLINEARITIES", "INITS", "deep_net_activations", "activation_figure",
    "optimizer_figure", "SCHEDULES", "make_schedule", "schedule_figure",
]

NONLINEARITIES = ("tanh", "relu", "sigmoid", "leaky_relu", "elu", "linear")
INITS = ("normal", "xavier", "kaiming")
# the gain torch.nn.init knows for each nonlinearity (ELU borrows ReLU's)
_GAIN_NAME = {"tanh": "tanh", "relu": "relu", "sigmoid": "sigmoid", "leaky_relu": "leaky_relu",
              "elu": "relu", "linear": "linear"}


_BUILTIN_ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
                        "leaky_relu": torch.nn.functional.leaky_relu, "elu": torch.nn.functional.elu,
                        "linear": lambda x: x}


def _activate(x: torch.Tensor, nonlinearity: str) -> torch.Tensor:
    return _BUILTIN_ACTIVATIONS[nonlinearity](x)


def deep_net_activations(
    depth: int = 6,
    nonlinearity: str = "tanh",
    init: str = "xavier",
    scale: float = 1.0,
    width: int = 256,
    n: int = 512,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """The activations of a fresh ``depth``-layer MLP on unit-Gaussian inputs, layer by layer.

    ``h_0 = x ~ N(0, 1)`` of shape ``(n, width)``; ``h_l = φ(h_{l-1} W_lᵀ)`` with ``W_l`` of shape
    ``(width, width)`` drawn by ``init``:
    ``"normal"``: ``N(0, scale²)`` (the raw scale, e.g. 0.01 or 1);
    ``"xavier"``: ``xavier_normal`` with ``gain = scale``;
    ``"kaiming"``: ``kaiming_normal`` for φ (fan_in), times ``scale``.
    Returns ``{"layer 1": h_1.flatten(), ...}``, each of ``n * width`` values.
    """
    init_ = torch.nn.init
    if not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be a positive integer, got {depth!r}")
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {NONLINEARITIES}, got {nonlinearity!r}")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    h = torch.randn(n, width, generator=generator)  # (n, width)
    out = {}
    for layer in range(1, depth + 1):
        shape = (width, width)
        if init == "normal":
            w = scale * torch.randn(shape, generator=generator)
        elif init == "xavier":
            w = init_.xavier_normal_(torch.empty(shape), gain=scale, generator=generator)
        else:
            gain_name = _GAIN_NAME[nonlinearity]
            a = 0.01 if gain_name == "leaky_relu" else 0.0
            w = scale * init_.kaiming_normal_(torch.empty(shape), a=a, nonlinearity=gain_name, generator=generator)
        h = _activate(h @ w.T, nonlinearity)  # (n, width) -> (n, width)
        out[f"layer {layer}"] = h.flatten()
    return out


def activation_figure(
    depth: int = 6,
    nonlinearity: str = "tanh",
    init: str = "xavier",
    scale: float = 1.0,
    width: int = 256,
    n: int = 512,
    seed: int = 0,
) -> Figure:
    """Histograms of ``deep_net_activations(...)`` per layer (one seed, so only the settings change).

    For ReLU the exact zeros (about half) are counted in the titles but not drawn.
    """
    gen = torch.Generator().manual_seed(seed)
    acts = deep_net_activations(depth, nonlinearity, init, scale, width, n, generator=gen)
    bounded = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
    return plot_layer_histograms(
        acts, bins=40, range=bounded.get(nonlinearity), skip_zeros=nonlinearity == "relu",
        title=f"{nonlinearity} activations, {init} init, scale {scale:.3g}, width {width}",
    )


def _config_for(name: str, learning_rate: float, momentum: float) -> dict:
    """The rule's config: the slider's ``momentum`` is β₁ for Adam/AdamW, unused by Adagrad/RMSprop."""
    config = {"learning_rate": learning_rate}
    if name in ("sgd_momentum", "sgd_nesterov"):
        config["momentum"] = momentum
    elif name in ("adam", "adamw"):
        config["beta1"] = momentum
    return config


def optimizer_figure(
    surface: str = "bowl",
    optimizer: str | Sequence[str] = "sgd_momentum",
    learning_rate: float = 0.1,
    momentum: float = 0.9,
    steps: int = 100,
) -> Figure:
    """Left: the path of each optimizer over the surface's contours; right: f(w_t) per step.

    ``optimizer``: a rule name of ``labkit.surfaces.OPTIMIZERS`` or a list of them (compared with
    the same ``learning_rate``; ``momentum`` is μ for the momentum methods and β₁ for Adam/AdamW).
    The right panel shows ``f(w_t) − f(w*)`` on a log axis when the surface has a minimum, else f,
    within the range of f over the window (a run marked "diverged" leaves it).
    """
    from labkit.surfaces import get_surface, run_optimizer

    surf = get_surface(surface)
    names = [optimizer] if isinstance(optimizer, str) else list(optimizer)
    paths = {nm: run_optimizer(surf, nm, steps=steps, **_config_for(nm, learning_rate, momentum))
             for nm in names}
    fig = Figure(figsize=(11.0, 4.6), layout="constrained")
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=[1.25, 1.0])
    plot_trajectories(surf, paths, ax=ax_path, markers=steps <= 300)
    f_min = None
    if surf.minimum is not None:
        f_min = float(surf.f(torch.tensor(surf.minimum, dtype=torch.float64)))
    z = surf.grid(100)[2]
    z_lo, z_hi = float(z.min()), float(z.max())  # the loss panel shows the values seen in the window
    shown = []
    for i, (nm, p) in enumerate(paths.items()):
        f = surf.f(p).numpy()
        diverged = bool(np.isnan(f).any())
        if f_min is not None:
            f = np.maximum(f - f_min, 1e-16)
            diverged = diverged or bool(np.nanmax(f) > 1e3 * max(f[0], 1e-12))
            shown.append(f[np.isfinite(f)])
        ax_loss.plot(np.arange(f.size), f, linewidth=1.6, label=nm + (" (diverged)" if diverged else ""),
                     color=("tab:red", "tab:blue", "tab:green", "tab:orange")[i % 4])
    if f_min is not None:
        ax_loss.set_yscale("log")
        vals = np.concatenate(shown)
        ax_loss.set_ylim(vals.min() / 3, min(10 * (z_hi - f_min), 3 * vals.max()))
        ax_loss.set_ylabel("f(w) − f(w*)  (log scale)")
    else:
        pad = 0.05 * (z_hi - z_lo)
        ax_loss.set_ylim(z_lo - pad, z_hi + pad)
        ax_loss.set_ylabel("f(w)")
    ax_loss.set(title="loss along the path", xlabel="step")
    ax_loss.grid(True, which="major", alpha=0.3)
    ax_loss.legend(loc="best", fontsize="small")
    fig.suptitle(f"learning rate {learning_rate:.3g}, momentum/β₁ {momentum:.3g}, {steps} steps")
    return fig


#: schedule name -> its own parameters (besides lr0 / lr_max and total_steps) with their defaults
SCHEDULES: dict[str, dict[str, float]] = {
    "step_decay": {"step_size": 30, "gamma": 0.5},
    "exponential_decay": {"gamma": 0.97},
    "inverse_time_decay": {"k": 0.05},
    "inverse_sqrt_decay": {},
    "linear_decay": {},
    "cosine_annealing": {"lr_min": 1e-4},
    "cosine_warm_restarts": {"T_0": 20, "T_mult": 2, "lr_min": 1e-4},
    "triangular_cyclic": {"lr_min": 1e-3, "step_size": 20},
    "one_cycle": {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
}
_TAKES_TOTAL = ("linear_decay", "cosine_annealing", "one_cycle")
_PEAK_NAME = {"triangular_cyclic": "lr_max", "one_cycle": "lr_max"}


def _builtin_rates(name: str, lr0: float, steps: int, kwargs: dict) -> list[float]:
    """The learning rates at steps ``0 .. steps`` of ``torch.optim.lr_scheduler``'s version of ``name``."""
    S = torch.optim.lr_scheduler
    k = kwargs
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([param], lr=k.get("lr_min", lr0) if name == "triangular_cyclic" else lr0)
    total = k.get("total_steps", steps)
    makers = {
        "step_decay": lambda: S.StepLR(optimizer, step_size=int(k["step_size"]), gamma=k["gamma"]),
        "exponential_decay": lambda: S.ExponentialLR(optimizer, gamma=k["gamma"]),
        "inverse_time_decay": lambda: S.LambdaLR(optimizer, lambda t: 1.0 / (1.0 + k["k"] * t)),
        "inverse_sqrt_decay": lambda: S.LambdaLR(optimizer, lambda t: (t + 1.0) ** -0.5),
        "linear_decay": lambda: S.LambdaLR(optimizer, lambda t: max(0.0, 1.0 - t / total)),
        "cosine_annealing": lambda: S.CosineAnnealingLR(optimizer, T_max=total, eta_min=k["lr_min"]),
        "cosine_warm_restarts": lambda: S.CosineAnnealingWarmRestarts(optimizer, T_0=int(k["T_0"]),
                                                                      T_mult=int(k["T_mult"]), eta_min=k["lr_min"]),
        "triangular_cyclic": lambda: S.CyclicLR(optimizer, base_lr=k["lr_min"], max_lr=lr0,
                                                step_size_up=int(k["step_size"]), cycle_momentum=False),
        "one_cycle": lambda: S.OneCycleLR(optimizer, max_lr=lr0, total_steps=total, pct_start=k["pct_start"],
                                          div_factor=k["div_factor"], final_div_factor=k["final_div_factor"]),
    }
    scheduler = makers[name]()
    rates = []
    for t in range(steps + 1):
        rates.append(float(optimizer.param_groups[0]["lr"]))
        if t < steps:
            optimizer.step()
            scheduler.step()
    return rates


def make_schedule(name: str, lr0: float = 0.1, total_steps: int = 100, warmup_steps: int = 0,
                  **params) -> Callable[[int], float]:
    """``f(t) -> lr`` for ``t`` in ``0 .. total_steps``: the schedule ``name`` (a key of ``SCHEDULES``)
    as ``torch.optim.lr_scheduler`` computes it.

    ``lr0`` is the initial (peak, for ``triangular_cyclic`` / ``one_cycle``) learning rate;
    ``params`` the schedule's own parameters (defaults from ``SCHEDULES``). With ``warmup_steps > 0``
    the rate first climbs linearly from 0 for ``warmup_steps`` steps, then the schedule runs its
    ``total_steps − warmup_steps`` steps, so it still ends at ``total_steps``.
    """
    if name not in SCHEDULES:
        raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {name!r}")
    unknown = set(params) - set(SCHEDULES[name])
    if unknown:
        raise TypeError(f"{name} takes no parameter(s) {sorted(unknown)}; it takes {sorted(SCHEDULES[name])}")
    if not isinstance(warmup_steps, int) or not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_steps must be an integer in [0, total_steps), got {warmup_steps!r}")
    kwargs = {**SCHEDULES[name], **params}
    if name in _TAKES_TOTAL:
        kwargs["total_steps"] = total_steps - warmup_steps
    rates = _builtin_rates(name, lr0, total_steps - warmup_steps, kwargs)
    rates = [rates[0] * t / warmup_steps for t in range(warmup_steps)] + rates

    def schedule(t: int) -> float:
        if not 0 <= int(t) <= total_steps:
            raise ValueError(f"t must be in [0, {total_steps}], got {t!r}")
        return rates[int(t)]

    return schedule


def schedule_figure(name: str = "cosine_annealing", lr0: float = 0.1, total_steps: int = 100,
                    warmup_steps: int = 0, log: bool = False, **params) -> Figure:
    """The learning-rate curve of ``make_schedule(name, lr0, total_steps, warmup_steps, **params)``."""
    sched = make_schedule(name, lr0, total_steps, warmup_steps, **params)
    shown = {**SCHEDULES[name], **params}
    desc = ", ".join([f"lr0={lr0:.3g}"] + [f"{k}={v:g}" for k, v in shown.items()])
    fig = plot_schedule(sched, steps=total_steps, log=log, title=f"{name}\n{desc}")
    ax = fig.axes[0]
    ax.title.set_fontsize("medium")
    fig.set_size_inches(7.0, 3.8)
    if warmup_steps:
        ax.axvline(warmup_steps, color="0.4", linestyle=":", linewidth=1.2,
                   label=f"end of warm-up ({warmup_steps})")
        ax.legend(loc="best", fontsize="small")
    return fig
