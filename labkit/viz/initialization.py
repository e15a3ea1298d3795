"""Plots of notebook 02 (initialisation): a statistic per layer for several initialisations, the
classic grid of per-layer activation histograms, and training-loss curves side by side.

Example
-------
>>> fig = plot_per_layer({"std 0.01": [1e-2, 1e-4, 1e-6], "Xavier": [0.6, 0.5, 0.45]}, ylabel="std")
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._common import moving_average, to_numpy

__all__ = ["plot_per_layer", "plot_activation_grid", "plot_loss_curves"]


def _check_mapping(values, name: str) -> None:
    if not isinstance(values, Mapping) or not values:
        raise ValueError(f"{name} must be a non-empty dict: label -> values, got {type(values).__name__}")


def plot_per_layer(values: Mapping[str, Sequence[float]], ylabel: str, title: str = "", log: bool = True,
                   reference: float | None = None) -> Figure:
    """One line per initialisation: a statistic (``values[label][l]``) against the layer 1, 2, ...

    ``log``: a log y axis (for values spanning many orders of magnitude); ``reference``: a dotted
    horizontal line (for instance the input's value). Returns the Figure.
    """
    _check_mapping(values, "values")
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    for label, v in values.items():
        y = to_numpy(v, label).reshape(-1)
        ax.plot(np.arange(1, len(y) + 1), y, marker="o", label=label)
    if reference is not None:
        ax.axhline(reference, color="gray", ls=":", lw=1)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("layer")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_activation_grid(rows: Mapping[str, Sequence], layers: Sequence[int], title: str = "",
                         value_range: tuple[float, float] | None = None, bins: int = 50) -> Figure:
    """The classic figure: one row per initialisation, one histogram per chosen layer (1-based).

    ``rows[label]`` is the list of a network's activations, layer by layer (tensors of any shape).
    Each panel is titled with the layer and its std; ``value_range`` fixes the x range of a row
    (default: the row's own 0.1 .. 99.9 percentiles), since the rows differ by orders of magnitude.
    """
    _check_mapping(rows, "rows")
    layers = list(layers)
    fig = Figure(figsize=(2.3 * len(layers), 1.9 * len(rows) + 0.6))
    axes = fig.subplots(len(rows), len(layers), squeeze=False)
    for r, (label, acts) in enumerate(rows.items()):
        values = [to_numpy(acts[l - 1], label).reshape(-1) for l in layers]
        if value_range is None:
            both = np.concatenate(values)
            lo, hi = np.percentile(both, [0.1, 99.9])
            span = (lo, hi) if hi > lo else (lo - 1e-12, hi + 1e-12)
        else:
            span = value_range
        for c, (layer, v) in enumerate(zip(layers, values)):
            ax = axes[r][c]
            ax.hist(v, bins=bins, range=span, color="tab:blue", alpha=0.8)
            ax.set_yticks([])
            ax.set_title(f"layer {layer}, std {v.std():.2g}", fontsize=8)
            ax.tick_params(labelsize=7)
            if c == 0:
                ax.set_ylabel(label, fontsize=9)
            if r == len(rows) - 1:
                ax.set_xlabel("activation", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_loss_curves(curves: Mapping[str, Sequence[float]], title: str = "", window: int = 10,
                     log: bool = True) -> Figure:
    """Training-loss curves, one per label, smoothed by a trailing moving average of ``window`` steps."""
    _check_mapping(curves, "curves")
    fig = Figure(figsize=(7.5, 3.8))
    ax = fig.add_subplot()
    for label, v in curves.items():
        y = to_numpy(v, label).reshape(-1)
        ax.plot(np.arange(len(y)), moving_average(y, window) if window > 1 else y, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (batch, smoothed)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
