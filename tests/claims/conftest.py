"""Shared fixtures of the claim tests."""
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Run a module's experiments on one torch thread (as the thresholds were measured), then restore."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
