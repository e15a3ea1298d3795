"""Small shared pieces of the plot helpers: input conversion, new axes, moving averages."""
from __future__ import annotations

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def to_numpy(values, name: str) -> np.ndarray:
    """A float64 NumPy copy of a list, tuple, NumPy array or tensor (any device)."""
    if isinstance(values, torch.Tensor):
        return values.detach().to("cpu", torch.float64).numpy()
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numbers (a list, array or tensor), got {type(values).__name__}") from exc


def as_1d(values, name: str) -> np.ndarray:
    """``values`` as a non-empty 1-D float64 array; a clear error otherwise."""
    arr = to_numpy(values, name)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per step), got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: nothing to plot")
    return arr


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``(figure, ax)``: the given axes and their figure, or a fresh figure with one axes.

    Fresh figures are ``matplotlib.figure.Figure`` objects outside pyplot: in a notebook one shows
    once when it is the last expression of a cell (or with ``display(fig)``), and nothing piles up in
    pyplot's list of open figures.
    """
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax.get_figure(root=True), ax


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over the last ``window`` values (fewer at the start); same length as ``values``.

    ``out[i] = mean(values[max(0, i − window + 1) : i + 1])``, computed from cumulative sums.
    """
    if not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    csum = np.concatenate([[0.0], np.cumsum(values)])  # (T + 1,)
    idx = np.arange(1, values.size + 1)
    lo = np.maximum(0, idx - window)
    return (csum[idx] - csum[lo]) / (idx - lo)


def auto_window(n: int) -> int:
    """The default smoothing window: about 1/50 of the run, no smoothing for short runs."""
    return max(1, n // 50) if n >= 100 else 1


def check_positive(arr: np.ndarray, name: str) -> None:
    finite = arr[np.isfinite(arr)]
    if finite.size and (finite <= 0).any():
        raise ValueError(f"{name} has values <= 0, which a log scale cannot show; pass log=False")


def _figure_png(fig: Figure) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def register_notebook_display(shell=None) -> bool:
    """Let IPython show a returned ``Figure`` as a PNG even before pyplot is imported.

    The inline backend registers its figure formatter only once pyplot is loaded; the helpers here
    never load pyplot, so without this a figure returned as a cell's last expression would show
    as text. Does nothing outside IPython or when a formatter is already registered (e.g. the
    inline backend's). Returns True when it registered one.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:  # pragma: no cover - IPython comes with ipywidgets
            return False
        shell = get_ipython()
    if shell is None:
        return False
    png = shell.display_formatter.formatters["image/png"]
    try:
        png.lookup_by_type(Figure)
        return False
    except KeyError:
        png.for_type(Figure, _figure_png)
        return True
