"""Shared fixtures: every device the machine has, float dtypes, seeded generators."""
from __future__ import annotations

import pytest
import torch

from labkit.device import available_devices

DEVICES = available_devices()

# Tests use tiny tensors and run two workers on two cores: one thread each avoids oversubscription
# (tiny float64 matmuls cost 100x more with a contended thread pool).
torch.set_num_threads(1)


@pytest.fixture(params=DEVICES, ids=lambda d: d.type)
def device(request) -> torch.device:
    """The CPU, and CUDA too when present: the same test runs on both."""
    return request.param


@pytest.fixture
def gen():
    """A seeded CPU generator (draw on the CPU, then move: the same numbers on every device)."""
    return torch.Generator().manual_seed(1234)
