"""Plots of notebook 08 (training in practice): shares of decades, search trials, ROC and precision-recall.

Example
-------
>>> fig = plot_roc([0.0, 0.5, 1.0], [0.0, 0.8, 1.0], auc=0.65)
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._common import as_1d

__all__ = ["plot_decade_shares", "plot_search", "plot_roc"]


def plot_decade_shares(decades: Sequence[str], shares: Mapping[str, Sequence[float]],
                       title: str = "Share of the draws in each decade") -> Figure:
    """Grouped bars: for each sampler (``shares``: label -> one share per decade), its share of each decade."""
    if not isinstance(shares, Mapping) or not shares:
        raise ValueError("shares must be a non-empty dict {label: shares per decade}")
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(decades))
    width = 0.8 / len(shares)
    for i, (label, values) in enumerate(shares.items()):
        v = as_1d(values, f"shares[{label!r}]")
        if len(v) != len(decades):
            raise ValueError(f"shares[{label!r}] has {len(v)} values for {len(decades)} decades")
        ax.bar(x + (i - (len(shares) - 1) / 2) * width, v, width, label=label)
    ax.set_xticks(x, [f"[{d}, 10×)" for d in decades], fontsize=8)
    ax.set_xlabel("decade")
    ax.set_ylabel("share of the draws")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    return fig


def plot_search(runs: Mapping[str, dict], title: str = "Random search: score of every trial") -> Figure:
    """One panel per search: each trial's score against its learning rate (log axis), the searched range
    shaded and the best trial marked. ``runs``: label -> dict with ``lrs``, ``scores``, ``range``, ``best``."""
    if not isinstance(runs, Mapping) or not runs:
        raise ValueError("runs must be a non-empty dict {label: search result}")
    fig = Figure(figsize=(4.6 * len(runs), 3.4), layout="constrained")
    axes = fig.subplots(1, len(runs), squeeze=False)[0]
    for ax, (label, r) in zip(axes, runs.items()):
        missing = {"lrs", "scores", "range", "best"} - set(r)
        if missing:
            raise ValueError(f"runs[{label!r}] needs the keys {sorted(missing)}")
        ax.axvspan(*r["range"], color="0.9", label="searched range")
        ax.plot(as_1d(r["lrs"], "lrs"), as_1d(r["scores"], "scores"), "o", ms=4, label="trials")
        ax.axvline(r["best"], color="C3", linestyle="--", label=f"best lr = {r['best']:.2g}")
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("score (higher is better)")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def plot_roc(fpr, tpr, auc: float | None = None, precision=None, title: str = "Threshold sweep") -> Figure:
    """The ROC curve (TPR against FPR, chance as a diagonal) and, with ``precision``, the precision-recall
    curve (recall is the TPR)."""
    f, t = as_1d(fpr, "fpr"), as_1d(tpr, "tpr")
    if len(f) != len(t):
        raise ValueError(f"fpr and tpr differ in length ({len(f)} and {len(t)})")
    panels = 1 if precision is None else 2
    fig = Figure(figsize=(4.2 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    label = "ROC" if auc is None else f"ROC, AUC = {auc:.3f}"
    axes[0].plot(f, t, label=label)
    axes[0].plot([0, 1], [0, 1], "k:", label="chance")
    axes[0].set_xlabel("false positive rate")
    axes[0].set_ylabel("true positive rate (recall)")
    axes[0].set_title("ROC curve", fontsize=10)
    axes[0].legend(fontsize=8)
    axes[0].grid(alpha=0.3)
    if precision is not None:
        p = as_1d(precision, "precision")
        if len(p) != len(t):
            raise ValueError(f"precision and tpr differ in length ({len(p)} and {len(t)})")
        axes[1].plot(t[1:], p[1:], label="precision-recall")
        axes[1].set_xlabel("recall")
        axes[1].set_ylabel("precision")
        axes[1].set_title("precision falls as recall rises", fontsize=10)
        axes[1].legend(fontsize=8)
        axes[1].grid(alpha=0.3)
    fig.suptitle(title)
    return fig
