"""Data for the labs, all offline: real digits and photos shipped with scikit-learn, procedural sets,
and CIFAR-10 from local files.

Every loader is deterministic given its seed or ``generator`` and returns plain tensors wrapped in a
``Split(x, y)`` or, for data sets with a train/val/test split, a ``DataSplits(train, val, test, mean,
std, classes)``. Shapes, dtypes and value ranges are documented on each loader:

=========================  ===========================================  =========================
loader                     x                                            y
=========================  ===========================================  =========================
``load_digits``            float32 (N, 1, 8, 8), standardised            int64 (N,) in 0..9
``load_sample_photos``     float32 (2, 3, 427, 640) in [0, 1]            (a tensor, no labels)
``photo_patches``          float32 (n, 3, size, size) in [0, 1]          (a tensor, no labels)
``make_spirals``           float32 (K n, 2) in about [-1, 1]             int64 (K n,) in 0..K-1
``make_dropout_regression`` float32 (n, 1) in [low, high]                float32 (n, 1)
``make_mnist1d``           float32 (n, 40) in about [-2, 2]              int64 (n,) in 0..9
``load_cifar10``           float32 (N, 3, 32, 32) in [0, 1]              int64 (N,) in 0..9
=========================  ===========================================  =========================

Example
-------
>>> from labkit.data import load_digits
>>> train, val, test = load_digits(seed=0)
>>> x, y = train
>>> x.shape, y.dtype
(torch.Size([1257, 1, 8, 8]), torch.int64)
"""
from __future__ import annotations

from .cifar import *  # noqa: F401,F403
from .digits import *  # noqa: F401,F403
from .images import *  # noqa: F401,F403
from .splits import *  # noqa: F401,F403
from .synthetic import *  # noqa: F401,F403

from . import cifar, digits, images, splits, synthetic

__all__ = splits.__all__ + digits.__all__ + images.__all__ + synthetic.__all__ + cifar.__all__
