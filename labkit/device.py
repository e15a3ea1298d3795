"""Device selection: CUDA when present, else CPU.

Example
-------
>>> from labkit.device import get_device
>>> x = torch.zeros(3, device=get_device())
"""
from __future__ import annotations

import os

import torch

__all__ = ["get_device", "available_devices", "describe_device"]


def get_device(prefer: str | None = None) -> torch.device:
    """The device experiments should run on.

    ``prefer`` (or the environment variable ``LABKIT_DEVICE``) forces one, e.g. ``"cpu"``;
    otherwise CUDA is used when available, else the CPU.
    """
    choice = prefer or os.environ.get("LABKIT_DEVICE")
    if choice:
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was requested but CUDA is not available on this machine")
        return dev
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def available_devices() -> list[torch.device]:
    """Every device the tests should cover: the CPU, plus CUDA when present."""
    devs = [torch.device("cpu")]
    if torch.cuda.is_available():
        devs.append(torch.device("cuda"))
    return devs


def describe_device(device: torch.device | None = None) -> str:
    """One line naming the device, for the top of a notebook."""
    device = device or get_device()
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} threads)"
