"""Plots of notebook 04 (dropout and regularisation): several curves per panel, panels side by side.

Example
-------
>>> fig = plot_panels([{"x": [1, 2, 3], "curves": {"train": [3, 2, 1]}, "xlabel": "epoch", "ylabel": "loss",
...                     "title": "loss falls"}], suptitle="a demo")
"""
from __future__ import annotations

from matplotlib.figure import Figure

from ._common import as_1d

__all__ = ["plot_panels"]


def plot_panels(panels: list[dict], suptitle: str = "", width: float = 4.6, height: float = 3.4) -> Figure:
    """One axes per panel, side by side. Each panel is a dict with ``x`` (shared by its curves),
    ``curves`` ({label: y values}), ``xlabel``, ``ylabel``, ``title``, and optionally ``logx``/``logy``
    (bool), ``vlines`` ({label: x position}) and ``styles`` ({label: matplotlib format string})."""
    if not isinstance(panels, (list, tuple)) or not panels:
        raise ValueError("panels must be a non-empty list of dicts")
    fig = Figure(figsize=(width * len(panels), height), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        missing = {"x", "curves", "xlabel", "ylabel", "title"} - set(panel)
        if missing:
            raise ValueError(f"a panel needs the keys {sorted(missing)}")
        x = as_1d(panel["x"], "x")
        for label, ys in panel["curves"].items():
            y = as_1d(ys, f"curve {label!r}")
            if len(y) != len(x):
                raise ValueError(f"curve {label!r} has {len(y)} values for {len(x)} x positions")
            ax.plot(x, y, panel.get("styles", {}).get(label, "-"), label=label)
        for i, (label, pos) in enumerate(panel.get("vlines", {}).items()):
            ax.axvline(pos, color=f"C{i + 3}", linestyle="--", label=label)
        ax.set_xscale("log" if panel.get("logx") else "linear")
        ax.set_yscale("log" if panel.get("logy") else "linear")
        ax.set_xlabel(panel["xlabel"])
        ax.set_ylabel(panel["ylabel"])
        ax.set_title(panel["title"], fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
