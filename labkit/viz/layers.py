"""Pictures of a network's insides: per-layer histograms, image grids, first-layer weights."""
from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ._common import to_numpy

__all__ = ["plot_layer_histograms", "plot_image_grid", "plot_first_layer_weights"]


def plot_layer_histograms(
    samples: Mapping[str, object],
    bins: int = 40,
    range: tuple[float, float] | None = None,
    kind: str = "activations",
    title: str | None = None,
    ncols: int | None = None,
    color: str = "tab:blue",
    skip_zeros: bool = False,
) -> Figure:
    """One histogram per layer, side by side, each titled with the layer's mean and std.

    ``samples``: layer name -> values of that layer (any shape; tensors, arrays or lists; flattened).
    All panels share the x range (``range``, default the 0.1 .. 99.9 percentiles of all the finite
    values together) so that shrinking or saturating distributions are seen at a glance: with a bad initialisation the
    activations collapse to 0 layer after layer, or pile up at ±1 for tanh. ``kind`` labels the x
    axis ("activations", "gradients" ...). ``ncols``: panels per row (default: one row up to 6
    layers, then balanced rows of at most 6). A title also gives the share of exact zeros when it
    is 5% or more (dead ReLUs); ``skip_zeros=True`` leaves those exact zeros out of the bars, so the
    shape of the rest is not flattened by the spike at 0 (mean and std still count them).
    Returns the Figure.

    Example
    -------
    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> acts = {f"layer {i}": torch.tanh(torch.randn(1000, generator=g) * 0.7 ** i) for i in (1, 2, 3)}
    >>> fig = plot_layer_histograms(acts, range=(-1, 1))
    """
    if not isinstance(samples, Mapping) or not samples:
        raise TypeError("samples must be a non-empty dict: layer name -> values")
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    values = {}
    for name, v in samples.items():
        arr = to_numpy(v, f"samples[{name!r}]").ravel()
        values[name] = arr[np.isfinite(arr)]
    if range is None:  # the pooled 0.1 .. 99.9 percentiles: one outlier does not squeeze every panel
        pooled = np.concatenate([v for v in values.values()]) if any(v.size for v in values.values()) else None
        lo, hi = (-1.0, 1.0) if pooled is None else (float(x) for x in np.percentile(pooled, [0.1, 99.9]))
        range = (lo, hi) if hi > lo else (lo - 0.5, hi + 0.5)
    n = len(values)
    ncols = math.ceil(n / math.ceil(n / 6)) if ncols is None else ncols  # rows of at most 6, balanced
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(2.4 * ncols + 0.4, 2.4 * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, (name, v) in zip(axes.ravel(), values.items()):
        if v.size:
            zeros = float((v == 0).mean())
            ax.hist(v[v != 0] if skip_zeros else v, bins=bins, range=range, color=color, alpha=0.85)
            extra = f", {100 * zeros:.0f}% zeros" if zeros >= 0.05 else ""
            extra += " (not drawn)" if extra and skip_zeros else ""
            ax.set_title(f"{name}{extra}\nmean {v.mean():+.2g}, std {v.std():.2g}", fontsize="medium")
        else:
            ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
            ax.set_title(f"{name}\n(no finite values)", fontsize="medium")
        ax.set_xlim(range)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3), useMathText=True)
        ax.set_xlabel(kind, fontsize="small")
        ax.tick_params(labelsize="small")
        ax.set_yticks([])
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    fig.suptitle(title if title is not None else f"{kind.capitalize()} per layer")
    return fig


def _images_hwc(images, name: str) -> np.ndarray:
    """``(N, H, W, C)`` with C in {1, 3} from (N, C, H, W), (N, H, W) or (N, H, W, C)."""
    arr = to_numpy(images, name)
    if arr.ndim == 3:
        return arr[..., None]
    if arr.ndim == 4:
        if arr.shape[1] in (1, 3):  # (N, C, H, W) -> (N, H, W, C)
            return arr.transpose(0, 2, 3, 1)
        if arr.shape[3] in (1, 3):
            return arr
    raise ValueError(f"{name} must have shape (N, C, H, W), (N, H, W) or (N, H, W, C) with C = 1 or 3, "
                     f"got {arr.shape}")


def plot_image_grid(
    images,
    labels: Sequence[object] | None = None,
    ncols: int | None = None,
    title: str | None = None,
    normalize: bool | None = None,
    cmap: str = "gray",
) -> Figure:
    """A grid of images, one panel each, captioned with ``labels``.

    ``images``: ``(N, C, H, W)`` (C = 1 or 3, as the data loaders give them), ``(N, H, W)`` or
    ``(N, H, W, C)``; tensors or arrays. ``normalize``: rescale each image to [0, 1] by its own
    min and max (default: only when some value lies outside [0, 1]). ``ncols`` defaults to about
    √N (at most 10). Single-channel images use ``cmap``. Returns the Figure.

    Example
    -------
    >>> from sklearn.datasets import load_digits
    >>> d = load_digits()
    >>> fig = plot_image_grid(d.images[:16] / 16, labels=d.target[:16])
    """
    imgs = _images_hwc(images, "images")
    n = imgs.shape[0]
    if n == 0:
        raise ValueError("images is empty: nothing to plot")
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but there are {n} images")
    if normalize is None:
        normalize = bool(np.nanmin(imgs) < 0 or np.nanmax(imgs) > 1)
    if normalize:
        lo = imgs.min(axis=(1, 2, 3), keepdims=True)
        span = imgs.max(axis=(1, 2, 3), keepdims=True) - lo
        imgs = (imgs - lo) / np.where(span > 0, span, 1.0)
    imgs = np.clip(imgs, 0.0, 1.0)
    ncols = min(n, 10, math.ceil(math.sqrt(n))) if ncols is None else ncols
    if not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}")
    nrows = math.ceil(n / ncols)
    cell = 1.3 if labels is None else 1.5
    fig = Figure(figsize=(cell * ncols + 0.2, cell * nrows + (0.4 if title else 0.1)), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_axis_off()
        if i >= n:
            continue
        img = imgs[i]
        if img.shape[-1] == 1:
            ax.imshow(img[..., 0], cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
        else:
            ax.imshow(img, interpolation="nearest")
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_first_layer_weights(
    weights,
    image_shape: tuple[int, ...] | None = None,
    max_filters: int = 64,
    ncols: int | None = None,
    title: str = "First-layer weights",
) -> Figure:
    """The first layer's filters drawn as images: what each unit looks for in the input.

    ``weights``: an affine weight ``(M, D)`` (as ``torch.nn.Linear.weight``; each row is one unit,
    reshaped to ``image_shape`` = ``(C, H, W)`` or ``(H, W)``, guessed as a square when omitted) or a
    conv weight ``(F, C, KH, KW)``. At most ``max_filters`` are shown. Single-channel filters are
    drawn with a diverging map centred on 0 (``w / max|w|`` per filter, red positive, blue
    negative); colour filters are each rescaled to [0, 1]. Smooth, structured filters are a sign of
    a healthy network; noisy ones of too little training or too little regularisation.
    Returns the Figure.

    Example
    -------
    >>> import torch
    >>> w = torch.randn(16, 64)                       # 16 units over 8x8 inputs
    >>> fig = plot_first_layer_weights(w, image_shape=(8, 8))
    """
    w = to_numpy(weights, "weights")
    if w.ndim == 2:
        m, d = w.shape
        if image_shape is None:
            side = math.isqrt(d)
            side3 = math.isqrt(d // 3)
            if side * side == d:
                image_shape = (side, side)
            elif d % 3 == 0 and side3 * side3 * 3 == d:
                image_shape = (3, side3, side3)
            else:
                raise ValueError(f"cannot guess the image shape of {d} inputs; pass image_shape=(C, H, W)")
        if math.prod(image_shape) != d:
            raise ValueError(f"image_shape {tuple(image_shape)} has {math.prod(image_shape)} values, "
                             f"but each row of weights has {d}")
        shape = tuple(image_shape) if len(image_shape) == 3 else (1, *image_shape)
        w = w.reshape(m, *shape)  # (M, D) -> (M, C, H, W)
    elif w.ndim != 4:
        raise ValueError(f"weights must be (M, D) or (F, C, KH, KW), got shape {w.shape}")
    if w.shape[1] not in (1, 3):
        raise ValueError(f"filters must have 1 or 3 channels to be drawn, got {w.shape[1]}")
    w = w[:max_filters]
    if w.shape[1] == 1:  # signed map: 0 -> mid grey of the colour map
        scale = np.abs(w).max(axis=(1, 2, 3), keepdims=True)
        imgs = 0.5 + 0.5 * w / np.where(scale > 0, scale, 1.0)
        return plot_image_grid(imgs, ncols=ncols, title=title, normalize=False, cmap="RdBu_r")
    return plot_image_grid(w, ncols=ncols, title=title, normalize=True)
