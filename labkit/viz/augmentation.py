"""Plots of notebook 07 (data augmentation): grids of augmented images, and histograms of mixing weights.

Example
-------
>>> import torch
>>> from labkit.viz.augmentation import plot_augment_grid
>>> fig = plot_augment_grid({"original": torch.rand(3, 3, 8, 8), "brighter": torch.rand(3, 3, 8, 8)})
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure

__all__ = ["plot_augment_grid", "plot_histograms"]


def _hwc(img) -> np.ndarray:
    a = torch.as_tensor(img).detach().cpu().to(torch.float64)
    if a.dim() != 3 or a.shape[0] not in (1, 3):
        raise ValueError(f"each image must be (C, H, W) with C = 1 or 3, got {tuple(a.shape)}")
    return a.clamp(0, 1).permute(1, 2, 0).numpy()


def plot_augment_grid(rows: dict, title: str = "", captions: dict | None = None, size: float = 1.5) -> Figure:
    """One row per entry of ``rows`` ({row label: images (N, C, H, W) in [0, 1]}), one column per image.

    Values are clipped to [0, 1] for display; ``captions`` ({row label: [text per image]}) go above the
    images of that row. Returns the Figure.
    """
    if not isinstance(rows, dict) or not rows:
        raise ValueError("rows must be a non-empty dict {label: images (N, C, H, W)}")
    ncols = max(len(v) for v in rows.values())
    fig = Figure(figsize=(size * ncols + 1.2, size * len(rows) + 0.6), layout="constrained")
    axes = fig.subplots(len(rows), ncols, squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(ncols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            if c >= len(imgs):
                ax.axis("off")
                continue
            img = _hwc(imgs[c])
            ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray", vmin=0, vmax=1,
                      interpolation="nearest")
            if captions and label in captions:
                ax.set_title(str(captions[label][c]), fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=9)
    if title:
        fig.suptitle(title)
    return fig


def plot_histograms(samples: dict, xlabel: str, title: str, bins: int = 40,
                    ylabel: str = "density") -> Figure:
    """Overlaid density histograms of ``samples`` ({label: 1-D values}), one axes. Returns the Figure."""
    if not isinstance(samples, dict) or not samples:
        raise ValueError("samples must be a non-empty dict {label: values}")
    fig = Figure(figsize=(6, 3.4), layout="constrained")
    ax = fig.subplots()
    for label, v in samples.items():
        ax.hist(np.asarray(torch.as_tensor(v).detach().cpu(), dtype=float).ravel(), bins=bins, density=True,
                histtype="step", linewidth=1.5, label=str(label))
    ax.set_xlabel(xlabel), ax.set_ylabel(ylabel), ax.set_title(title)
    ax.legend()
    return fig
