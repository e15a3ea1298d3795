"""Plots of notebook 05 (optimizers): several curves on one axis, e.g. loss or step size per step."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.figure import Figure

from ._common import new_axes, to_numpy

__all__ = ["plot_curves"]


def plot_curves(curves: Mapping[str, object], title: str, xlabel: str = "step", ylabel: str = "loss",
                logx: bool = False, logy: bool = False, x=None, ax=None) -> Figure:
    """One line per entry of ``curves`` (label -> 1-D values), against ``x`` (default 1, 2, ...).

    Example
    -------
    >>> fig = plot_curves({"sgd": [1.0, 0.5, 0.2], "adam": [1.0, 0.3, 0.1]}, "loss per step", logy=True)
    """
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict label -> values")
    fig, ax = new_axes(ax, (6.5, 4.0))
    for label, values in curves.items():
        y = to_numpy(values, f"curves[{label!r}]").reshape(-1)
        xs = np.arange(1, y.size + 1) if x is None else to_numpy(x, "x").reshape(-1)
        if xs.shape != y.shape:
            raise ValueError(f"x has {xs.size} values but curves[{label!r}] has {y.size}")
        ax.plot(xs, y, label=str(label), linewidth=1.4)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
