"""Plots of notebook 01 (activations): derivatives, per-layer gradient norms, silent units, loss curves, maxout.

Every function returns a ``matplotlib.figure.Figure`` built outside pyplot (see ``labkit.viz``).

Example
-------
>>> import torch
>>> x = torch.linspace(-5, 5, 101)
>>> fig = plot_derivatives(x, {"sigmoid": torch.sigmoid(x) * (1 - torch.sigmoid(x))})
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ._common import as_1d, check_positive, to_numpy

__all__ = ["plot_derivatives", "plot_layer_norms", "plot_silent_units", "plot_loss_curves", "plot_maxout_fit",
           "plot_slope_history"]


def _curves(curves, name: str) -> dict:
    if not isinstance(curves, dict) or not curves:
        raise ValueError(f"{name} must be a non-empty dict {{label: values}}, got {type(curves).__name__}")
    return curves


def plot_derivatives(x, derivatives: dict, title: str = "Derivatives of the squashing activations") -> Figure:
    """Each derivative curve against ``x`` (linear axis) with its maximum marked."""
    xs = as_1d(x, "x")
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    for label, values in _curves(derivatives, "derivatives").items():
        y = as_1d(values, label)
        if y.size != xs.size:
            raise ValueError(f"{label}: {y.size} values for {xs.size} points of x")
        line, = ax.plot(xs, y, label=f"{label}' (max {y.max():.4g})")
        ax.plot(xs[y.argmax()], y.max(), "o", color=line.get_color())
    ax.set(title=title, xlabel="x", ylabel="derivative  d f / d x")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def plot_layer_norms(norms: dict, title: str = "Gradient norm per layer after one backward pass") -> Figure:
    """``{label: [||dL/da|| of layer 1, ..., layer L]}`` on a log axis, the input side on the left."""
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for label, values in _curves(norms, "norms").items():
        y = as_1d(values, label)
        check_positive(y, label)
        ax.plot(np.arange(1, y.size + 1), y, "o-", label=label)
    ax.set_yscale("log")
    ax.set(title=title, xlabel="hidden layer (1 = next to the input)", ylabel="||dL/da||  (log scale)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_silent_units(results: dict, title: str = "Silent units, and whether they still learn") -> Figure:
    """Bars per activation: fraction of silent units after the large steps, and the fraction of their
    weight rows that changed during the recovery steps."""
    names = list(_curves(results, "results"))
    silent = [results[n]["after"] for n in names]
    learn = [np.nan_to_num(results[n]["silent_rows_changed"]) for n in names]
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    pos = np.arange(len(names))
    ax.bar(pos - 0.2, silent, 0.4, label="silent: pre-activation <= 0 on every example")
    ax.bar(pos + 0.2, learn, 0.4, label="of those, rows of W1 that still changed")
    ax.set_xticks(pos, names)
    ax.set(title=title, xlabel="activation", ylabel="fraction of hidden units", ylim=(0, 1.4))
    ax.legend(loc="upper center", fontsize=8, ncol=2)
    return fig


def plot_loss_curves(curves: dict, target: float | None = None,
                     title: str = "Training loss of the same network with each activation") -> Figure:
    """``{label: [(step, loss), ...]}`` on a log axis, with the target loss as a dashed line."""
    fig = Figure(figsize=(6.8, 3.9), layout="constrained")
    ax = fig.add_subplot()
    styles = ("-", "--", "-.", ":")  # curves that coincide stay visible
    for i, (label, pairs) in enumerate(_curves(curves, "curves").items()):
        arr = to_numpy(pairs, label)
        if arr.ndim != 2 or arr.shape[1] != 2:
            raise ValueError(f"{label}: expected (step, loss) pairs, got shape {arr.shape}")
        ax.plot(arr[:, 0], arr[:, 1], styles[i % len(styles)], label=label)
    if target is not None:
        ax.axhline(target, color="gray", linestyle="--", label=f"target loss {target:g}")
    ax.set_yscale("log")
    ax.set(title=title, xlabel="SGD step", ylabel="training loss (log scale)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return fig


def plot_maxout_fit(x, target, fit, pieces, title: str = "One maxout unit: the maximum of its lines") -> Figure:
    """The target curve, the learned maxout function and each affine piece (dotted)."""
    xs, t, f = as_1d(to_numpy(x, "x").reshape(-1), "x"), to_numpy(target, "target").reshape(-1), \
        to_numpy(fit, "fit").reshape(-1)
    p = to_numpy(pieces, "pieces")
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for j in range(p.shape[1]):
        ax.plot(xs, p[:, j], ":", linewidth=1, label=f"piece {j + 1}")
    ax.plot(xs, t, color="black", linewidth=2, alpha=0.4, label="target")
    ax.plot(xs, f, color="tab:red", linewidth=2, label="maxout output")
    ax.set(title=title, xlabel="input x", ylabel="output", ylim=(t.min() - 1, t.max() + 1))
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    return fig


def plot_slope_history(history, true_slope: float, title: str = "PReLU's slope alpha during training") -> Figure:
    """The learned slope per SGD step against the slope that generated the data."""
    y = as_1d(history, "history")
    fig = Figure(figsize=(5.6, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(np.arange(y.size), y, label="learned alpha")
    ax.axhline(true_slope, color="gray", linestyle="--", label=f"slope of the data ({true_slope:g})")
    ax.set(title=title, xlabel="SGD step", ylabel="alpha")
    ax.legend()
    ax.grid(alpha=0.3)
    return fig
