"""A CPU torch.Generator crosses the sandbox wire as a copy in the same state (random functions of
notebooks 02 and 04 take one); a malformed state is refused."""
from __future__ import annotations

import pytest
import torch

from autograder import wire


def _kept(value):
    raise AssertionError("a generator must not cross as a handle")


def test_a_generator_arrives_in_the_same_state_and_the_original_is_untouched():
    g = torch.Generator().manual_seed(1234)
    torch.rand(3, generator=g)  # not a fresh state
    copy = wire.decode(wire.encode(g, _kept), lambda ref: None)
    assert type(copy) is torch.Generator
    assert torch.equal(torch.rand(5, generator=copy), torch.rand(5, generator=g))


def test_a_malformed_generator_state_is_refused():
    with pytest.raises(wire.WireError):
        wire.decode({"__generator__": torch.zeros(3)}, lambda ref: None)
    with pytest.raises(wire.WireError):
        wire.decode({"__generator__": torch.zeros(7, dtype=torch.uint8)}, lambda ref: None)
