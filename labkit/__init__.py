"""labkit: the helper package of the deep-network training labs.

What students import: the device helper, gradient-check utilities (``labkit.gradcheck``), the
reference implementations (``labkit.reference``), the checks that grade their functions
(``labkit.checks``), data (``labkit.data``), a small trainer (``labkit.train``), monitors
(``labkit.monitor``), the PyTorch bridges (``labkit.bridges``), 2-D loss surfaces
(``labkit.surfaces``), plots (``labkit.viz``) and widgets (``labkit.widgets``).

The heavy, optional parts (plots, widgets, surfaces) load on first use.

Example
-------
>>> import labkit
>>> _ = labkit.hello()                      # doctest: +ELLIPSIS
labkit ... ready: torch ... on ...
>>> splits = labkit.data.load_digits(seed=0)
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

from . import bridges, data, gradcheck, monitor, reference  # noqa: F401,E402
from .bridges import FunctionLayer, RuleOptimizer, ScheduleLR, autograd_function  # noqa: F401,E402
from .data import (  # noqa: F401,E402
    load_cifar10,
    load_digits,
    load_sample_photos,
    make_dropout_regression,
    make_mnist1d,
    make_spirals,
    photo_patches,
)
from .device import available_devices, describe_device, get_device  # noqa: F401,E402
from .monitor import ActivationStats, GradientStats, UpdateRatioMonitor  # noqa: F401,E402
from .train import History, evaluate, train  # noqa: F401,E402

_LAZY = ("viz", "widgets", "surfaces", "checks")


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


def hello() -> str:
    """The import check at the top of every notebook: prints and returns where labkit runs."""
    import torch

    msg = f"labkit {__version__} ready: torch {torch.__version__} on {describe_device()}"
    print(msg)
    return msg


def progress(iterable=None, **kwargs):
    """A progress bar over ``iterable`` for the notebooks' long loops (tqdm's widget in Jupyter,
    a text bar elsewhere); keyword arguments go to ``tqdm`` (``total``, ``desc``, ``leave``...).

    >>> sum(progress(range(3), disable=True))
    3
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
