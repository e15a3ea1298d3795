"""The real handwritten digits that ship with scikit-learn (1797 images of 8x8 pixels, 10 classes).

No download: the data lies inside the scikit-learn package. Raw pixel values are integers 0..16.

Example
-------
>>> d = load_digits(seed=0)
>>> d.train.x.shape, d.train.x.dtype, d.train.y.dtype
(torch.Size([1257, 1, 8, 8]), torch.float32, torch.int64)
>>> len(d.train) + len(d.val) + len(d.test)
1797
"""
from __future__ import annotations

from functools import lru_cache

import torch

from .splits import DataSplits, Split, random_split_indices

__all__ = ["load_digits"]


@lru_cache(maxsize=1)
def _raw_digits() -> tuple[torch.Tensor, torch.Tensor]:
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1)  # (1797, 8, 8) -> (1797, 1, 8, 8)
    y = torch.as_tensor(bunch.target, dtype=torch.int64)                  # (1797,)
    return x, y


def load_digits(seed: int = 0, val_frac: float = 0.15, test_frac: float = 0.15, device=None,
                standardize: bool = True, flatten: bool = False) -> DataSplits:
    """The scikit-learn digits, split at random into train / val / test and standardised.

    Inputs: ``seed`` fixes the split (one ``torch.randperm`` of the 1797 samples); ``val_frac`` and
    ``test_frac`` are the fractions held out (``round(frac * 1797)`` samples each); ``device`` where the
    tensors go (None: the CPU).

    Returns a ``DataSplits`` whose splits hold
      - ``x``: float32 ``(N, 1, 8, 8)`` (or ``(N, 64)`` with ``flatten=True``); with ``standardize``
        ``x = (raw - mean) / std`` where ``mean``, ``std`` are the scalar mean and standard deviation of
        every training pixel (so the training inputs have mean 0 and std 1; the raw values are 0..16);
      - ``y``: int64 ``(N,)`` class ids 0..9.
    ``mean``, ``std`` are float32 tensors of shape ``(1, 1, 1, 1)`` (``(1, 1)`` when flattened), always
    the statistics of the raw training pixels; ``classes`` is ``["0", ..., "9"]``.
    The same seed gives the same split and the same numbers on every device.
    """
    x, y = _raw_digits()                            # cached: never modified below
    gen = torch.Generator().manual_seed(int(seed))
    i_train, i_val, i_test = random_split_indices(x.shape[0], val_frac, test_frac, gen)

    # Statistics of the training pixels only: nothing about val/test leaks into the inputs.
    mean = x[i_train].mean().reshape(1, 1, 1, 1)
    std = x[i_train].std().reshape(1, 1, 1, 1)
    if standardize:
        x = (x - mean) / std
    if flatten:
        x = x.flatten(1)                            # (N, 1, 8, 8) -> (N, 64)
        mean, std = mean.reshape(1, 1), std.reshape(1, 1)

    splits = DataSplits(Split(x[i_train], y[i_train]), Split(x[i_val], y[i_val]), Split(x[i_test], y[i_test]),
                        mean, std, [str(k) for k in range(10)])
    return splits.to(device) if device is not None else splits
