"""Curves of a training run: loss, accuracy, update ratios, learning-rate schedules, search results."""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import as_1d, auto_window, check_positive, moving_average, new_axes, to_numpy

__all__ = ["plot_loss", "plot_accuracy", "plot_update_ratios", "plot_schedule", "plot_search_results"]


def plot_loss(
    losses,
    ax: Axes | None = None,
    log: bool = False,
    window: int | None = None,
    title: str = "Training loss",
    xlabel: str = "iteration",
) -> Figure:
    """The loss per iteration (faint) and its trailing moving average (bold).

    ``losses``: list / 1-D array / tensor of T floats. ``window``: the moving-average length
    (``None``: about T/50, no smoothing line below 100 values; 1: no smoothing line).
    ``log=True`` draws the y axis on a log scale (the losses must be positive). Returns the Figure.

    Example
    -------
    >>> fig = plot_loss([2.3 * 0.99 ** t for t in range(500)], log=True, window=20)
    """
    y = as_1d(losses, "losses")
    if log:
        check_positive(y, "losses")
    window = auto_window(y.size) if window is None else window
    fig, ax = new_axes(ax, (6.0, 3.8))
    t = np.arange(y.size)
    if window > 1:
        ax.plot(t, y, color="tab:blue", alpha=0.3, linewidth=0.8, label="per iteration")
        ax.plot(t, moving_average(y, window), color="tab:blue", linewidth=2.0,
                label=f"moving average ({window})")
        ax.legend(loc="upper right")
    else:
        ax.plot(t, y, color="tab:blue", linewidth=1.5, label="loss")
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel="loss" + (" (log scale)" if log else ""))
    ax.grid(True, which="major", alpha=0.3)
    return fig


def plot_accuracy(
    train_acc,
    val_acc=None,
    ax: Axes | None = None,
    title: str = "Accuracy",
    xlabel: str = "epoch",
) -> Figure:
    """Train (and validation) accuracy per epoch; the title states the final values.

    ``train_acc``, ``val_acc``: one value per epoch (lists, arrays or tensors of the same length);
    epoch numbers start at 1. A growing gap between the two curves is overfitting; both low and
    flat is underfitting. Returns the Figure.

    Example
    -------
    >>> fig = plot_accuracy([0.5, 0.7, 0.8, 0.9], [0.45, 0.6, 0.66, 0.68])
    """
    tr = as_1d(train_acc, "train_acc")
    fig, ax = new_axes(ax, (6.0, 3.8))
    ax.plot(np.arange(1, tr.size + 1), tr, "o-", color="tab:blue", markersize=3, label="train")
    final = f"train {tr[-1]:.3f}"
    if val_acc is not None:
        va = as_1d(val_acc, "val_acc")
        if va.size != tr.size:
            raise ValueError(f"val_acc has {va.size} epochs but train_acc has {tr.size}")
        ax.plot(np.arange(1, va.size + 1), va, "s-", color="tab:orange", markersize=3, label="validation")
        final += f", val {va[-1]:.3f}"
    ax.set(title=f"{title} (final: {final})", xlabel=xlabel, ylabel="accuracy")
    ax.legend(loc="lower right")
    ax.grid(True, alpha=0.3)
    return fig


def plot_update_ratios(
    ratios: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    guide: float = 1e-3,
    title: str = "Update / weight ratio",
    xlabel: str = "iteration",
) -> Figure:
    """``‖Δw‖ / ‖w‖`` per parameter over time, on a log axis, with the ~1e-3 rule-of-thumb line.

    ``ratios``: parameter name -> list of ratios (one per recorded step); a ratio of 0 (a frozen
    parameter) cannot sit on the log axis and leaves a gap. Far below the guide (1e-5) the learning
    rate is probably too small; far above (1e-1) too large. Returns the Figure.

    Example
    -------
    >>> fig = plot_update_ratios({"fc1.weight": [2e-3, 1e-3, 8e-4], "fc2.weight": [5e-4, 4e-4, 3e-4]})
    """
    if not isinstance(ratios, Mapping) or not ratios:
        raise TypeError("ratios must be a non-empty dict: parameter name -> list of ratios")
    series = {name: to_numpy(values, f"ratios[{name!r}]") for name, values in ratios.items()}
    series = {name: r for name, r in series.items() if r.size}  # a parameter never updated has none
    if not series:
        raise ValueError("every list in ratios is empty: no update has been recorded yet")
    fig, ax = new_axes(ax, (6.5, 3.8))
    for name, values in series.items():
        r = as_1d(values, f"ratios[{name!r}]")
        ax.plot(np.arange(r.size), r, linewidth=1.2, label=str(name))
    ax.axhline(guide, color="black", linestyle="--", linewidth=1.2, label=f"guide {guide:g}")
    ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel="update / weight (log scale)")
    ax.legend(loc="best", fontsize="small", ncols=2 if len(series) > 6 else 1)
    ax.grid(True, which="major", alpha=0.3)
    return fig


def _schedule_values(schedule, steps: int | None, name: str) -> np.ndarray:
    if callable(schedule):
        if steps is None:
            raise ValueError("steps is needed to plot a schedule given as a function f(t)")
        return np.array([float(schedule(t)) for t in range(steps)])
    return as_1d(schedule, name)


def plot_schedule(
    schedule: Callable[[int], float] | Sequence[float] | Mapping[str, object],
    steps: int | None = None,
    ax: Axes | None = None,
    log: bool = False,
    title: str = "Learning-rate schedule",
    xlabel: str = "step",
) -> Figure:
    """The learning rate against the step ``t`` (t = 0 is the first step).

    ``schedule``: a function ``f(t) -> lr`` (evaluated at ``t = 0 .. steps-1``), a list of values,
    or a dict name -> either of those to compare several schedules. ``log=True``: log y axis (a
    learning rate of 0, e.g. the first warm-up step, is left out of the log plot).
    Returns the Figure.

    Example
    -------
    >>> import math
    >>> fig = plot_schedule(lambda t: 0.1 * 0.5 * (1 + math.cos(math.pi * t / 100)), steps=100)
    """
    if isinstance(steps, bool) or (steps is not None and (not isinstance(steps, int) or steps < 1)):
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    items = schedule.items() if isinstance(schedule, Mapping) else [(None, schedule)]
    fig, ax = new_axes(ax, (6.0, 3.6))
    for label, sched in items:
        lr = _schedule_values(sched, steps, "schedule" if label is None else f"schedule[{label!r}]")
        ax.plot(np.arange(lr.size), lr, linewidth=1.8, label=label)
    if isinstance(schedule, Mapping):
        ax.legend(loc="best")
    if log:
        ax.set_yscale("log")
    ax.set(title=title, xlabel=xlabel, ylabel="learning rate" + (" (log scale)" if log else ""))
    ax.grid(True, which="major", alpha=0.3)
    return fig


def _param_column(results, key: str) -> np.ndarray:
    try:
        values = [params[key] for params, _ in results]
    except KeyError:
        raise ValueError(f"hyper-parameter {key!r} is not in the results (have {sorted(results[0][0])})") from None
    if not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"hyper-parameter {key!r} must be numeric to be placed on an axis")
    return np.asarray(values, dtype=np.float64)


def plot_search_results(
    results: Sequence[tuple[Mapping[str, object], float]],
    x: str,
    y: str | None = None,
    ax: Axes | None = None,
    logx: bool = True,
    logy: bool = True,
    title: str = "Hyper-parameter search",
) -> Figure:
    """Each trial of a random search as a point; the best one starred.

    ``results``: list of ``(params_dict, score)`` as returned by ``random_search`` (higher score is
    better). With ``y`` given: the trials at (params[x], params[y]) on log axes (``logx``, ``logy``),
    coloured by score, with a colour bar. Without ``y``: score against params[x]. Trials whose
    score is NaN/inf (diverged) are grey crosses. The best trial sitting at the edge of the searched
    range says: widen the range. Returns the Figure.

    Example
    -------
    >>> res = [({"learning_rate": 1e-3, "weight_decay": 1e-4}, 0.61),
    ...        ({"learning_rate": 1e-2, "weight_decay": 1e-5}, 0.74)]
    >>> fig = plot_search_results(res, "learning_rate", "weight_decay")
    """
    if not isinstance(results, Sequence) or not results:
        raise TypeError("results must be a non-empty list of (params_dict, score)")
    results = list(results)
    score = to_numpy([s for _, s in results], "scores")
    xs = _param_column(results, x)
    ys = _param_column(results, y) if y is not None else score
    ok = np.isfinite(score)
    if not ok.any():
        raise ValueError("no trial has a finite score: nothing to rank")
    fig, ax = new_axes(ax, (6.0, 4.4))
    best = int(np.flatnonzero(ok)[np.argmax(score[ok])])
    if y is not None:
        pts = ax.scatter(xs[ok], ys[ok], c=score[ok], cmap="viridis", s=36, edgecolors="k",
                         linewidths=0.4)
        fig.colorbar(pts, ax=ax, label="score")
    else:
        ax.scatter(xs[ok], ys[ok], color="tab:blue", s=30, edgecolors="k", linewidths=0.4, label="trial")
    if (~ok).any():
        fail_y = ys[~ok] if y is not None else np.full((~ok).sum(), np.nanmin(score[ok]))
        ax.scatter(xs[~ok], fail_y, marker="x", color="0.5", s=30, label="diverged")
    ax.scatter([xs[best]], [ys[best]], marker="*", s=260, color="red", edgecolors="k",
               linewidths=0.6, zorder=5, label=f"best: {score[best]:.4g}")
    if logx:
        check_positive(xs, f"params[{x!r}]")
        ax.set_xscale("log")
    if y is not None and logy:
        check_positive(ys, f"params[{y!r}]")
        ax.set_yscale("log")
    ax.set(title=f"{title} ({len(results)} trials)", xlabel=x, ylabel=y if y is not None else "score")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=3, fontsize="small", frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return fig
