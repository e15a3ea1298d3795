"""Optimizer paths drawn over the contour lines of a 2-D loss surface (``labkit.surfaces``)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import new_axes, to_numpy

__all__ = ["plot_trajectories", "contour_levels"]

COLORS = ("tab:red", "tab:blue", "tab:green", "tab:orange", "tab:purple", "tab:brown", "tab:pink", "tab:cyan")


def contour_levels(z: np.ndarray, n: int, log: bool, f_min: float | None = None) -> np.ndarray:
    """``n`` contour levels over the values ``z``: log-spaced above the minimum when ``log``."""
    z = z[np.isfinite(z)]
    if log:
        base = float(z.min()) if f_min is None else f_min
        span = float(z.max()) - base
        lo = max(span * 1e-6, float(np.percentile(z - base, 0.5)), 1e-12)
        return base + np.geomspace(lo, span, n)
    lo, hi = np.percentile(z, [1, 99])
    return np.linspace(lo, hi, n)


def plot_trajectories(
    surface,
    trajectories: Mapping[str, object] | object,
    ax: Axes | None = None,
    levels: int = 20,
    title: str | None = None,
    markers: bool = True,
) -> Figure:
    """Paths ``w_0, w_1, ...`` of one or several optimizers over the contours of ``surface``.

    ``surface``: a ``labkit.surfaces.Surface`` or its name (``"bowl"``, ``"rosenbrock"``,
    ``"saddle"``, ``"monkey_saddle"``). ``trajectories``: a ``(T, 2)`` tensor/array, or a dict
    label -> ``(T, 2)`` (e.g. from ``run_optimizer``). The view is the surface's window, so a
    diverging path leaves the picture instead of rescaling it; the start is a black circle and the
    minimum (when there is one) a gold star. Returns the Figure.

    Example
    -------
    >>> from labkit.surfaces import run_optimizer
    >>> paths = {name: run_optimizer("bowl", name, steps=60, learning_rate=0.5)
    ...          for name in ("sgd", "sgd_momentum")}
    >>> fig = plot_trajectories("bowl", paths)
    """
    from labkit.surfaces import get_surface

    surface = get_surface(surface)
    if not isinstance(levels, int) or levels < 2:
        raise ValueError(f"levels must be an integer >= 2, got {levels!r}")
    paths = dict(trajectories) if isinstance(trajectories, Mapping) else {None: trajectories}
    if not paths:
        raise ValueError("trajectories is empty: nothing to draw")
    fig, ax = new_axes(ax, (6.0, 5.0))
    X, Y, Z = (t.numpy() for t in surface.grid(200))
    f_min = None
    if surface.minimum is not None:
        import torch

        f_min = float(surface.f(torch.tensor(surface.minimum, dtype=torch.float64)))
    lv = contour_levels(Z, levels, surface.log_levels, f_min)
    ax.contourf(X, Y, Z, levels=lv, cmap="Greys", alpha=0.25, extend="both")
    ax.contour(X, Y, Z, levels=lv, cmap="viridis", linewidths=0.7)
    for i, (label, path) in enumerate(paths.items()):
        p = to_numpy(path, f"trajectories[{label!r}]" if label is not None else "trajectories")
        if p.ndim != 2 or p.shape[1] != 2:
            raise ValueError(f"a trajectory must have shape (T, 2), got {p.shape}")
        color = COLORS[i % len(COLORS)]
        ax.plot(p[:, 0], p[:, 1], "-", color=color, linewidth=1.6, label=label,
                marker="o" if markers else None, markersize=2.5)
    starts = np.array([to_numpy(p, "trajectory")[0] for p in paths.values()])
    ax.plot(starts[:, 0], starts[:, 1], "o", color="black", markersize=7, label="start", zorder=4)
    if surface.minimum is not None:
        ax.plot(*surface.minimum, "*", color="gold", markeredgecolor="black", markersize=16,
                label="minimum", zorder=4)
    ax.set_xlim(surface.xlim)
    ax.set_ylim(surface.ylim)
    ax.set(title=title if title is not None else surface.name, xlabel="$w_1$", ylabel="$w_2$")
    ax.legend(loc="best", fontsize="small", framealpha=0.85)
    return fig
