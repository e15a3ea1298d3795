"""Plots of notebook 03 (batch normalisation); each returns a ``matplotlib.figure.Figure``.

Example
-------
>>> import torch
>>> fig = plot_feature_distributions(torch.randn(100, 4) * 5 + 3, torch.randn(100, 4))
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._common import to_numpy

__all__ = ["plot_feature_distributions", "plot_running_stats", "plot_accuracy_bars", "plot_init_robustness",
           "plot_batch_noise", "plot_whitening"]


def _figure(ncols: int, width: float = 5.0, height: float = 3.8) -> tuple[Figure, list]:
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, [fig.add_subplot(1, ncols, i + 1) for i in range(ncols)]


def plot_feature_distributions(before, after, features: int = 4, title: str = "") -> Figure:
    """Histograms of the first ``features`` columns of ``before`` (N, D) and of ``after`` (N, D)."""
    before, after = to_numpy(before, "before"), to_numpy(after, "after")
    if before.ndim != 2 or before.shape != after.shape:
        raise ValueError(f"before and after must be (N, D) of one shape, got {before.shape} and {after.shape}")
    fig, (a, b) = _figure(2)
    for j in range(min(features, before.shape[1])):
        a.hist(before[:, j], bins=30, alpha=0.5, label=f"feature {j}")
        b.hist(after[:, j], bins=30, alpha=0.5, label=f"feature {j}")
    a.set(xlabel="value", ylabel="count", title="input: each feature its own mean and spread")
    b.set(xlabel="value", ylabel="count", title="after batch norm (γ = 1, β = 0): all alike")
    a.legend(fontsize=8)
    b.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def plot_running_stats(means, variances, true_mean: float, true_var: float, features: int = 3) -> Figure:
    """Running mean and variance (steps, D) of a few features against the data's values."""
    means, variances = to_numpy(means, "means"), to_numpy(variances, "variances")
    steps = np.arange(1, len(means) + 1)
    fig, axes = _figure(2)
    for ax, values, truth, name in ((axes[0], means, true_mean, "running_mean"),
                                    (axes[1], variances, true_var, "running_var")):
        for j in range(min(features, values.shape[1])):
            ax.plot(steps, values[:, j], lw=1.2, label=f"feature {j}")
        ax.axhline(truth, color="k", ls="--", lw=1, label=f"the data's value ({truth:g})")
        ax.set(xlabel="training step (batches seen)", ylabel=name,
               title=f"{name} starts at its default and converges")
        ax.legend(fontsize=8)
    return fig


def plot_accuracy_bars(accuracies: Mapping[str, float], title: str) -> Figure:
    """One horizontal bar per setting, its accuracy written at the end of the bar."""
    names, values = list(accuracies), [float(v) for v in accuracies.values()]
    fig, (ax,) = _figure(1, width=8.0, height=0.6 * len(names) + 1.6)
    bars = ax.barh(names, values, color=["tab:green"] + ["tab:orange"] * (len(names) - 1))
    for bar, v in zip(bars, values):
        ax.text(v + 0.01, bar.get_y() + bar.get_height() / 2, f"{v:.2f}", va="center")
    ax.axvline(0.1, color="k", ls=":", lw=1, label="chance (10 classes)")
    ax.set(xlim=(0, 1.1), xlabel="validation accuracy", title=title)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_init_robustness(accuracies: Mapping[tuple, float], stds: Sequence[float]) -> Figure:
    """Validation accuracy against the initial weights' std, with and without batch norm."""
    fig, (ax,) = _figure(1, width=6.5)
    for bn, style, label in ((True, "o-", "with batch norm"), (False, "s--", "without")):
        ax.plot(list(stds), [accuracies[bn, s] for s in stds], style, label=label)
    ax.axhline(0.1, color="k", ls=":", lw=1, label="chance")
    ax.set(xscale="log", ylim=(0, 1.05), xlabel="std of the initial weights (log scale)",
           ylabel="validation accuracy", title="6 hidden layers: batch norm trains at every scale")
    ax.legend(fontsize=8, loc="center right")
    return fig


def plot_batch_noise(stds: Mapping[int, float]) -> Figure:
    """The std of the batch mean against the batch size, on log-log axes, with the 1/√B line."""
    sizes = sorted(stds)
    fig, (ax,) = _figure(1, width=6.0)
    ax.loglog(sizes, [stds[b] for b in sizes], "o-", label="measured std of the batch mean")
    b0 = sizes[0]
    ax.loglog(sizes, [stds[b0] * np.sqrt(b0 / b) for b in sizes], "k--", lw=1, label=r"$\propto 1/\sqrt{B}$")
    ax.set(xlabel="batch size B", ylabel="std of the batch mean",
           title="smaller batches: noisier batch statistics")
    ax.legend(fontsize=8)
    return fig


def plot_whitening(train, standard, white, white_test=None) -> Figure:
    """Scatter plots: the raw data, standardised, PCA-whitened (test points over the whitened ones)."""
    fig, axes = _figure(3, width=4.2, height=4.0)
    panels = (("raw: correlated, scales 3 and 0.5", train), ("standardised: scale gone, correlation kept",
                                                            standard), ("PCA-whitened: covariance = I", white))
    for ax, (title, pts) in zip(axes, panels):
        pts = to_numpy(pts, "points")
        ax.scatter(pts[:, 0], pts[:, 1], s=2, alpha=0.3, label="training points")
        ax.set(xlabel="dimension 1", ylabel="dimension 2", title=title)
        ax.set_aspect("equal", adjustable="datalim")
    if white_test is not None:
        t = to_numpy(white_test, "white_test")
        axes[2].scatter(t[:, 0], t[:, 1], s=2, alpha=0.3, color="tab:red", label="test points (training μ, Σ)")
    for ax in axes:
        ax.legend(fontsize=7, loc="upper left", markerscale=4)
    return fig
