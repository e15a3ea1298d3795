"""labkit: the helper package of the deep-network training labs.

What students import: the device helper, gradient-check utilities, the reference implementations
(``labkit.reference``), the checks that grade their functions (``labkit.checks``), data, a small
trainer, monitors, plots and widgets.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .device import available_devices, describe_device, get_device  # noqa: F401


def hello() -> str:
    """The import check at the top of every notebook: prints and returns where labkit runs."""
    import torch

    msg = f"labkit {__version__} ready: torch {torch.__version__} on {describe_device()}"
    print(msg)
    return msg
