"""Every random reference draws only from its ``generator``: the global RNG is never touched, and the
same generator state gives the same result."""
from __future__ import annotations

import pytest
import torch

import labkit.reference as R


def _g(seed=0):
    return torch.Generator().manual_seed(seed)


IMAGES = torch.rand(4, 3, 8, 8, generator=_g(99))
ONE_HOT = torch.nn.functional.one_hot(torch.arange(4) % 3, 3).float()
EIGVECS = torch.linalg.eigh(torch.cov(IMAGES.permute(1, 0, 2, 3).reshape(3, -1)))[1]

RANDOM_CALLS = {
    "dropout_forward": lambda g: R.dropout_forward(torch.ones(50, 20), 0.3, True, generator=g)[0],
    "xavier_uniform": lambda g: R.xavier_uniform((30, 20), generator=g),
    "xavier_normal": lambda g: R.xavier_normal((30, 20), generator=g),
    "kaiming_uniform": lambda g: R.kaiming_uniform((30, 20), generator=g),
    "kaiming_normal": lambda g: R.kaiming_normal((30, 20), generator=g),
    "random_horizontal_flip": lambda g: R.random_horizontal_flip(IMAGES, 0.5, generator=g),
    "random_crop": lambda g: R.random_crop(IMAGES, 6, padding=2, generator=g),
    "color_jitter": lambda g: R.color_jitter(IMAGES, 0.4, 0.4, 0.4, generator=g),
    "pca_lighting": lambda g: R.pca_lighting(IMAGES, torch.tensor([0.2, 0.1, 0.05]), EIGVECS, generator=g),
    "cutout": lambda g: R.cutout(IMAGES, 3, generator=g),
    "mixup": lambda g: R.mixup(IMAGES, ONE_HOT, 0.4, generator=g)[0],
    "cutmix": lambda g: R.cutmix(IMAGES, ONE_HOT, 1.0, generator=g)[0],
    "log_uniform": lambda g: R.log_uniform(1e-5, 1e-1, 100, generator=g),
    "random_search": lambda g: torch.tensor([s for _, s in R.random_search(
        lambda p: -abs(p["lr"] - 1e-3), {"lr": ("log", 1e-5, 1e-1)}, 5, generator=g)]),
}


@pytest.mark.parametrize("name", sorted(RANDOM_CALLS))
def test_random_reference_leaves_the_global_rng_alone_and_repeats_per_seed(name):
    call = RANDOM_CALLS[name]
    before = torch.get_rng_state()
    a = call(_g(7))
    assert torch.equal(torch.get_rng_state(), before), f"{name} used the global RNG"
    b = call(_g(7))
    assert torch.equal(torch.as_tensor(a), torch.as_tensor(b)), f"{name} is not a function of the generator state"
    c = call(_g(8))
    assert not torch.equal(torch.as_tensor(a), torch.as_tensor(c)), f"{name} ignores the generator"
