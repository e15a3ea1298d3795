"""Plots of notebook 06 (learning-rate schedules).

=============================  ==========================================================
``plot_curves``                several named curves against the step (or epoch), optional log axes
``plot_rate_and_loss``         the rate (top) and the loss (bottom) of several runs, one shared x axis
``plot_warmup_runs``           loss and sharpness of gradient descent with and without warm-up
``plot_plateau_run``           validation loss and the rate a plateau detector chose, per epoch
``plot_range_test``            loss against the rate of a range test, with the picked rate
=============================  ==========================================================

Example
-------
>>> fig = plot_curves({"lr 0.1": [1.0, 0.5, 0.2], "lr 0.01": [1.0, 0.9, 0.8]}, title="Loss", ylabel="loss")
"""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._common import as_1d, moving_average, new_axes

__all__ = ["plot_curves", "plot_rate_and_loss", "plot_warmup_runs", "plot_plateau_run", "plot_range_test"]


def _series(series: Mapping, name: str) -> dict:
    if not isinstance(series, Mapping) or not series:
        raise ValueError(f"{name} must be a non-empty dict: label -> values")
    return {str(k): as_1d(v, f"{name}[{k!r}]") for k, v in series.items()}


def _finite_positive(y: np.ndarray) -> np.ndarray:
    y = y.copy()
    y[~np.isfinite(y) | (y <= 0)] = np.nan  # a log axis cannot show them: the curve stops there
    return y


def plot_curves(series: Mapping[str, Sequence[float]], title: str, ylabel: str, xlabel: str = "step",
                logx: bool = False, logy: bool = False, x: Mapping[str, Sequence[float]] | None = None,
                smooth: int = 1, hline: tuple[float, str] | None = None,
                ylim: tuple[float, float] | None = None) -> Figure:
    """One line per entry of ``series`` (label -> values). ``x``: label -> x values (default 0, 1, ...);
    ``smooth``: a trailing moving average over that many points (the raw values are drawn faint);
    ``hline``: ``(y, label)`` of a dashed guide line; ``ylim``: the y range shown (values outside are
    clipped by the axes). Returns the Figure."""
    ys = _series(series, "series")
    xs = {k: (as_1d(x[k], f"x[{k!r}]") if x is not None and k in x else np.arange(v.size)) for k, v in ys.items()}
    fig, ax = new_axes(None, (7.0, 3.9))
    for i, (label, y) in enumerate(ys.items()):
        colour = f"C{i % 10}"
        shown = _finite_positive(y) if logy else y
        if smooth > 1 and y.size > smooth:
            ax.plot(xs[label], shown, color=colour, alpha=0.25, linewidth=0.8)
            ax.plot(xs[label], moving_average(shown, smooth), color=colour, linewidth=1.8, label=label)
        else:
            ax.plot(xs[label], shown, color=colour, linewidth=1.6, label=label)
    if hline is not None:
        ax.axhline(hline[0], color="0.3", linestyle="--", linewidth=1.0, label=hline[1])
    ax.set(title=title, xlabel=xlabel + (" (log scale)" if logx else ""),
           ylabel=ylabel + (" (log scale)" if logy else ""))
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if ylim is not None:
        ax.set_ylim(*ylim)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def plot_rate_and_loss(runs: Mapping[str, Mapping[str, Sequence[float]]], title: str, smooth: int = 10,
                       log_rate: bool = False) -> Figure:
    """Each run's rate (top) and minibatch loss (bottom, moving average over ``smooth`` steps) against the
    step; ``runs``: label -> {"lrs": [...], "losses": [...]}. Returns the Figure."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict: label -> {'lrs': ..., 'losses': ...}")
    fig = Figure(figsize=(7.5, 5.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    for i, (label, run) in enumerate(runs.items()):
        lrs, losses = as_1d(run["lrs"], f"{label} lrs"), as_1d(run["losses"], f"{label} losses")
        top.plot(np.arange(lrs.size), lrs, color=f"C{i}", linewidth=1.6, label=label)
        bottom.plot(np.arange(losses.size), losses, color=f"C{i}", alpha=0.2, linewidth=0.7)
        bottom.plot(np.arange(losses.size), moving_average(losses, smooth), color=f"C{i}", linewidth=1.8,
                    label=f"{label} (moving average {smooth})")
    top.set(title=title, ylabel="learning rate" + (" (log scale)" if log_rate else ""))
    if log_rate:
        top.set_yscale("log")
    bottom.set(xlabel="step", ylabel="minibatch loss (log scale)")
    bottom.set_yscale("log")
    for ax in (top, bottom):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    return fig


def plot_warmup_runs(runs: Mapping[str, Mapping[str, Sequence[float]]], lr: float, warmup_steps: int) -> Figure:
    """Loss (left, log axis) and sharpness (right) per step for each run (label -> {"losses", "sharpness"}),
    with the stability edge ``2 / lr`` and the end of the warm-up marked. Returns the Figure."""
    fig = Figure(figsize=(9.5, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    for i, (label, run) in enumerate(runs.items()):
        losses = _finite_positive(as_1d(run["losses"], f"{label} losses"))
        sharp = as_1d(run["sharpness"], f"{label} sharpness")
        left.plot(np.arange(losses.size), losses, color=f"C{i}", linewidth=1.6, label=label)
        right.plot(np.arange(sharp.size), sharp, color=f"C{i}", linewidth=1.6, label=label)
    right.axhline(2 / lr, color="tab:red", linestyle="--", linewidth=1.0, label=f"2 / lr = {2 / lr:g}")
    for ax in (left, right):
        ax.axvline(warmup_steps, color="0.4", linestyle=":", linewidth=1.0, label=f"end of warm-up ({warmup_steps})")
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    left.set(title="Loss: without warm-up it blows up", xlabel="step", ylabel="loss (log scale)", yscale="log")
    right.set(title="Sharpness a² + b²: warm-up lets it fall below 2/lr", xlabel="step",
              ylabel="sharpness (log scale)", yscale="log")
    return fig


def plot_plateau_run(lrs: Sequence[float], val_losses: Sequence[float], title: str) -> Figure:
    """Validation loss (left axis) and the rate chosen by a plateau detector (right axis, log), per epoch."""
    lr, loss = as_1d(lrs, "lrs"), as_1d(val_losses, "val_losses")
    fig, ax = new_axes(None, (7.0, 3.8))
    epochs = np.arange(1, loss.size + 1)
    ax.plot(epochs, loss, color="tab:blue", marker="o", markersize=3, linewidth=1.5, label="validation loss")
    ax.set(title=title, xlabel="epoch", ylabel="validation loss")
    ax.grid(True, alpha=0.3)
    twin = ax.twinx()
    twin.step(epochs, lr, where="post", color="tab:orange", linewidth=1.8, label="learning rate")
    twin.set_yscale("log")
    twin.set_ylabel("learning rate (log scale)")
    lines = ax.get_lines() + twin.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="upper right", fontsize="small")
    return fig


def plot_range_test(lrs: Sequence[float], losses: Sequence[float], smooth: Sequence[float], best_lr: float,
                    chosen_lr: float) -> Figure:
    """A range test: the loss against the rate (log x axis), its smoothed curve, the rate at the smoothed
    minimum and the rate chosen for training."""
    lr, raw, sm = as_1d(lrs, "lrs"), as_1d(losses, "losses"), as_1d(smooth, "smooth")
    fig, ax = new_axes(None, (7.0, 3.9))
    ax.plot(lr, _finite_positive(raw), color="tab:blue", alpha=0.3, linewidth=0.8, label="minibatch loss")
    ax.plot(lr, _finite_positive(sm), color="tab:blue", linewidth=1.8, label="smoothed")
    ax.axvline(best_lr, color="tab:red", linestyle="--", label=f"minimum of the smoothed loss (lr {best_lr:.3g})")
    ax.axvline(chosen_lr, color="tab:green", linestyle="--", label=f"rate chosen (lr {chosen_lr:.3g})")
    finite = raw[np.isfinite(raw)]
    top = min(float(finite.max()), 4 * float(raw[0])) if finite.size and math.isfinite(raw[0]) else None
    ax.set(title="Range test: the loss falls, bottoms out, then explodes", xlabel="learning rate (log scale)",
           ylabel="loss (log scale)", xscale="log", yscale="log")
    if top is not None:
        ax.set_ylim(top=top)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig
