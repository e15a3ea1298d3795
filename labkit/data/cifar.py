"""CIFAR-10 from the standard python-pickle batches in a local folder (nothing is downloaded).

The folder (the ``cifar-10-batches-py`` directory of the official ``cifar-10-python.tar.gz``, or a
folder that contains it) must hold ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and
``batches.meta``. Each batch is a pickled dict with ``b"data"``: uint8 ``(N, 3072)`` (1024 red, then
1024 green, then 1024 blue values of a 32x32 image, row-major) and ``b"labels"``: N ints in 0..9;
``batches.meta`` has ``b"label_names"``. The files are unpickled: only load folders you trust.

Example
-------
>>> c = load_cifar10("~/data/cifar-10-batches-py")       # doctest: +SKIP
>>> c.train.x.shape, c.train.x.dtype, c.test.y.shape      # doctest: +SKIP
(torch.Size([45000, 3, 32, 32]), torch.float32, torch.Size([10000]))
"""
from __future__ import annotations

import pickle
from pathlib import Path

import torch

from .splits import DataSplits, Split, random_split_indices

__all__ = ["CIFAR10_FILES", "load_cifar10"]

CIFAR10_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]


def _find_folder(folder) -> Path:
    path = Path(folder).expanduser()
    if not (path / "test_batch").exists() and (path / "cifar-10-batches-py").is_dir():
        path = path / "cifar-10-batches-py"
    missing = [name for name in CIFAR10_FILES if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 not found in folder {str(path)!r}: missing {', '.join(missing)}. The folder must hold the "
            f"python-pickle batches {', '.join(CIFAR10_FILES)} (the 'cifar-10-batches-py' folder of "
            "cifar-10-python.tar.gz); nothing is downloaded.")
    return path


def _unpickle(path: Path) -> dict:
    with open(path, "rb") as fh:
        return pickle.load(fh, encoding="bytes")


def _read_batch(path: Path) -> tuple[torch.Tensor, torch.Tensor]:
    d = _unpickle(path)
    if b"data" not in d or b"labels" not in d:
        raise ValueError(f"{path} is not a CIFAR-10 batch: expected a dict with keys b'data' and b'labels'")
    data = torch.as_tensor(d[b"data"], dtype=torch.uint8)
    if data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: b'data' must have shape (N, 3072), got {tuple(data.shape)}")
    return data.view(-1, 3, 32, 32), torch.as_tensor(list(d[b"labels"]), dtype=torch.int64)


def load_cifar10(folder, val_frac: float = 0.1, seed: int = 0, standardize: bool = False,
                 device=None) -> DataSplits:
    """CIFAR-10 as float tensors; a seeded validation split carved out of the 50 000 training images.

    Returns a ``DataSplits`` whose splits hold ``x`` float32 ``(N, 3, 32, 32)`` with values
    ``pixel / 255`` in [0, 1] (or standardised per channel with ``standardize=True``) and ``y`` int64
    ``(N,)`` in 0..9. ``val``: ``round(val_frac * 50000)`` training images chosen by a permutation seeded
    with ``seed``; ``test``: the 10 000 images of ``test_batch``. ``mean`` and ``std`` (shape
    ``(1, 3, 1, 1)``) are the per-channel statistics of the [0, 1] training images (val excluded);
    ``classes`` the label names from ``batches.meta``. Raises ``FileNotFoundError`` naming the folder and
    the expected files when any is missing.
    """
    path = _find_folder(folder)
    parts = [_read_batch(path / f"data_batch_{i}") for i in range(1, 6)]
    x_all = torch.cat([p[0] for p in parts]).float() / 255.0                   # (50000, 3, 32, 32)
    y_all = torch.cat([p[1] for p in parts])                                   # (50000,)
    x_test, y_test = _read_batch(path / "test_batch")
    x_test = x_test.float() / 255.0
    classes = [name.decode() if isinstance(name, bytes) else str(name)
               for name in _unpickle(path / "batches.meta").get(b"label_names", [])]

    i_train, i_val, _ = random_split_indices(x_all.shape[0], val_frac, 0.0, torch.Generator().manual_seed(int(seed)))
    x_train = x_all[i_train]
    mean = x_train.mean(dim=(0, 2, 3), keepdim=True)                          # (1, 3, 1, 1)
    std = x_train.std(dim=(0, 2, 3), keepdim=True)                            # (1, 3, 1, 1)
    x_val = x_all[i_val]
    if standardize:
        x_train, x_val, x_test = ((t - mean) / std for t in (x_train, x_val, x_test))
    splits = DataSplits(Split(x_train, y_all[i_train]), Split(x_val, y_all[i_val]), Split(x_test, y_test),
                        mean, std, classes)
    return splits.to(device) if device is not None else splits
