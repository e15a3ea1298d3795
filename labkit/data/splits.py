"""The two containers every loader returns: ``Split`` (inputs and targets) and ``DataSplits``.

A ``Split`` is a pair of tensors with the same first dimension: ``x`` of shape ``(N, ...)`` and ``y``
of shape ``(N,)`` (class ids, int64) or ``(N, K)`` (regression targets, float). It unpacks like a
tuple, slices like a tensor and moves like a tensor.

A ``DataSplits`` holds the train / validation / test ``Split``s of one data set, the statistics used
to standardise it (fitted on the training split only) and the class names.

Example
-------
>>> s = Split(torch.zeros(5, 2), torch.arange(5))
>>> x, y = s                 # unpacks like a tuple
>>> len(s[:3]), s.to("cpu").x.shape
(3, torch.Size([5, 2]))
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

__all__ = ["Split", "DataSplits", "random_split_indices"]


@dataclass
class Split:
    """Inputs ``x`` ``(N, ...)`` and targets ``y`` ``(N, ...)`` of one split of a data set."""

    x: torch.Tensor
    y: torch.Tensor

    def __post_init__(self) -> None:
        if not isinstance(self.x, torch.Tensor) or not isinstance(self.y, torch.Tensor):
            raise TypeError(f"Split needs two tensors, got x={type(self.x).__name__}, y={type(self.y).__name__}")
        if self.x.shape[0] != self.y.shape[0]:
            raise ValueError(f"x and y must have the same first dimension, got {self.x.shape[0]} and {self.y.shape[0]}")

    def __len__(self) -> int:
        return self.x.shape[0]

    def __iter__(self):
        # x, y = split
        yield self.x
        yield self.y

    def __getitem__(self, index) -> "Split":
        """The samples at ``index`` (an int, a slice, an index tensor or a boolean mask), as a Split."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return Split(self.x[index], self.y[index])

    def to(self, device=None, dtype: torch.dtype | None = None) -> "Split":
        """A copy on ``device``; ``dtype`` (if given) applies to ``x`` only, ``y`` keeps its dtype."""
        return Split(self.x.to(device=device, dtype=dtype), self.y.to(device=device))


@dataclass
class DataSplits:
    """Train / validation / test ``Split``s plus the standardisation statistics and the class names.

    ``mean`` and ``std`` are per-channel statistics of the *raw* training inputs, shaped to broadcast
    against ``x`` (``(1, C, 1, 1)`` for images); ``raw = x * std + mean`` undoes a standardisation.
    """

    train: Split
    val: Split
    test: Split
    mean: torch.Tensor
    std: torch.Tensor
    classes: list[str] = field(default_factory=list)

    def __iter__(self):
        # train, val, test = splits
        yield self.train
        yield self.val
        yield self.test

    def to(self, device=None) -> "DataSplits":
        """A copy with every tensor on ``device``."""
        return DataSplits(self.train.to(device), self.val.to(device), self.test.to(device),
                          self.mean.to(device), self.std.to(device), list(self.classes))


def random_split_indices(n: int, val_frac: float, test_frac: float,
                         generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Disjoint index sets ``(train, val, test)`` covering ``range(n)``, from one seeded permutation.

    Sizes: ``n_test = round(test_frac n)``, ``n_val = round(val_frac n)``, the rest is training.
    """
    for name, frac in (("val_frac", val_frac), ("test_frac", test_frac)):
        if not 0.0 <= frac < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {frac}")
    n_test, n_val = round(test_frac * n), round(val_frac * n)
    if n_test + n_val >= n:
        raise ValueError(f"val_frac + test_frac must leave training samples, got {val_frac} + {test_frac}")
    perm = torch.randperm(n, generator=generator)
    return perm[n_test + n_val:], perm[n_test:n_test + n_val], perm[:n_test]
