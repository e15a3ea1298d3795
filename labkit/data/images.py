"""Two real colour photos (scikit-learn's sample images ``china.jpg`` and ``flower.jpg``) and patches cut
from them, for the data-augmentation demos. No download: the JPEGs ship inside scikit-learn.

Example
-------
>>> photos = load_sample_photos()
>>> photos.shape, photos.dtype
(torch.Size([2, 3, 427, 640]), torch.float32)
>>> photo_patches(size=32, n=100, generator=torch.Generator().manual_seed(0)).shape
torch.Size([100, 3, 32, 32])
"""
from __future__ import annotations

from functools import lru_cache

import torch

__all__ = ["PHOTO_NAMES", "load_sample_photos", "photo_patches"]

PHOTO_NAMES = ["china", "flower"]


@lru_cache(maxsize=1)
def _photos_uint8() -> torch.Tensor:
    from sklearn.datasets import load_sample_images

    images = load_sample_images().images                                   # two (427, 640, 3) uint8 arrays
    return torch.stack([torch.as_tensor(im.copy()) for im in images]).permute(0, 3, 1, 2).contiguous()  # (2, 3, H, W)


def load_sample_photos(device=None, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Both photos as one tensor of shape ``(2, 3, 427, 640)``, values ``pixel / 255`` in [0, 1].

    Order: ``PHOTO_NAMES`` (a Chinese temple, then a flower). RGB channels; ``dtype`` a float dtype;
    ``device`` None means the CPU. Deterministic (no randomness).
    """
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point dtype, got {dtype}")
    return (_photos_uint8().to(dtype) / 255.0).to(device)


def photo_patches(size: int = 32, n: int | None = 256, generator: torch.Generator | None = None,
                  photos: torch.Tensor | None = None) -> torch.Tensor:
    """Square patches of ``size x size`` pixels cut from the photos, shape ``(n, 3, size, size)``, in [0, 1].

    With ``n`` a number: each patch picks a photo uniformly and a top-left corner uniformly among the
    positions where the patch fits (patches may overlap); deterministic given ``generator`` (None: a
    generator seeded with 0). With ``n=None``: every non-overlapping tile of the grid, photo by photo,
    row by row, with no randomness (``2 * (427 // size) * (640 // size)`` patches).
    ``photos`` (default ``load_sample_photos()``) may be any ``(P, C, H, W)`` tensor; dtype and device
    follow it.
    """
    photos = load_sample_photos() if photos is None else photos
    if photos.ndim != 4:
        raise ValueError(f"photos must have shape (P, C, H, W), got {tuple(photos.shape)}")
    p, c, h, w = photos.shape
    if not isinstance(size, int) or not 1 <= size <= min(h, w):
        raise ValueError(f"size must be an int in [1, {min(h, w)}], got {size!r}")

    if n is None:
        tiles = photos[:, :, : h // size * size, : w // size * size]
        tiles = tiles.unfold(2, size, size).unfold(3, size, size)        # (P, C, h', w', size, size)
        return tiles.permute(0, 2, 3, 1, 4, 5).reshape(-1, c, size, size)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int or None, got {n!r}")

    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    which = torch.randint(0, p, (n,), generator=gen)                       # (n,) photo of each patch
    top = torch.randint(0, h - size + 1, (n,), generator=gen)              # (n,)
    left = torch.randint(0, w - size + 1, (n,), generator=gen)             # (n,)
    offs = torch.arange(size)
    rows = (top[:, None] + offs)[:, None, :, None]                         # (n, 1, size, 1)
    cols = (left[:, None] + offs)[:, None, None, :]                        # (n, 1, 1, size)
    chans = torch.arange(c)[None, :, None, None]                           # (1, C, 1, 1)
    dev = photos.device
    return photos[which.to(dev)[:, None, None, None], chans.to(dev), rows.to(dev), cols.to(dev)]  # (n, C, size, size)
