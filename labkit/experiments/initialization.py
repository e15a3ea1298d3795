"""The experiments of notebook 02 (initialisation), as functions of an initialiser and seeds.

An *initialiser* here is any callable ``init(shape, generator) -> tensor of that shape`` (the
notebook wraps the student's ``xavier_normal`` and friends; the tests wrap ``torch.nn.init``).
Every function takes a list of seeds and computes all of them at once (the networks of different
seeds are stacked along a first dimension and trained together with batched matrix products), so
the 20-seed claim tests of ``tests/claims/test_claims_02.py`` cost about what one seed costs.

The thresholds of the notebook's checked claims live here (``CLAIMS``), quoted by the notebook and
asserted by the tests.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch

__all__ = ["CLAIMS", "stack_weights", "deep_activations", "train_mlp", "constant_init_run", "digits_tensors"]

Init = Callable[[tuple, torch.Generator], torch.Tensor]

CLAIMS = {
    # 02-01: constant weights never break symmetry
    "constant_row_spread_max": 1e-6, "constant_accuracy_max": 0.4, "zeros_accuracy_max": 0.15,
    "random_row_spread_min": 0.1, "random_accuracy_min": 0.9,
    # 02-02 / 02-03 / 02-04: a 10-layer tanh network of width 256
    "small_ratio_max": 1e-4, "large_saturated_min": 0.6, "xavier_ratio": (0.2, 1.0), "xavier_saturated_max": 0.01,
    # 02-05: the same with ReLU; per-layer ratio of the mean square (geometric mean) and after 10 layers
    "relu_xavier_layer_ratio": (0.4, 0.6), "relu_he_layer_ratio": (0.85, 1.15), "relu_xavier_total_max": 0.01,
    "relu_he_total": (0.3, 3.0),
    # 02-06: the slide's Glorot bound kills the signal
    "slide_ratio_max": 1e-6,
    # 02-09: depth makes a small initialisation fatal (training loss after 300 steps)
    "shallow_small_loss_max": 0.5, "deep_small_loss_min": 2.2,
    # 02-10: deep (8 layers) training with each initialisation (final training loss)
    "relu_small_loss_min": 2.2, "relu_he_loss_max": 0.2, "tanh_xavier_loss_max": 0.5, "tanh_large_loss_min": 1.2,
    "tanh_small_loss_min": 2.2,
}


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    seeds = list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of ints, got {seeds!r}")
    return seeds


def stack_weights(init: Init, shape: tuple, generators: list[torch.Generator], device=None) -> torch.Tensor:
    """One weight per generator, drawn by ``init``: ``(S, *shape)`` as float32 on ``device``."""
    ws = [torch.as_tensor(init(tuple(shape), g)).to(torch.float32) for g in generators]
    for w in ws:
        if tuple(w.shape) != tuple(shape):
            raise ValueError(f"the initialiser returned shape {tuple(w.shape)} for {tuple(shape)}")
    return torch.stack(ws).to(device or "cpu")


def _act(name: str):
    acts = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda z: z}
    if name not in acts:
        raise ValueError(f"nonlinearity must be one of {sorted(acts)}, got {name!r}")
    return acts[name]


def deep_activations(init: Init, nonlinearity: str = "tanh", seeds: Sequence[int] = (0,), depth: int = 10,
                     width: int = 256, n: int = 512, device=None) -> list[torch.Tensor]:
    """The activations of a fresh ``depth``-layer MLP (no biases) on ``n`` inputs ~ N(0, 1).

    The first layer maps 2·width inputs to ``width`` units, every other one ``width`` to ``width``.
    Returns one tensor per layer, ``(S, n, width)`` (S = the number of seeds), on ``device``.
    """
    seeds, act = _check_seeds(seeds), _act(nonlinearity)
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    h = torch.stack([torch.randn(n, 2 * width, generator=g) for g in gens]).to(device or "cpu")  # (S, n, 2W)
    out = []
    with torch.no_grad():
        for layer in range(depth):
            w = stack_weights(init, (width, h.shape[-1]), gens, device)  # (S, W, in)
            h = act(h @ w.transpose(1, 2))                               # (S, n, in) -> (S, n, W)
            out.append(h)
    return out


def digits_tensors(device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The scikit-learn digits' training split, flattened and standardised: ``x`` (N, 64), ``y`` (N,)."""
    from ..data import load_digits

    d = load_digits(seed=0, flatten=True)
    return d.train.x.to(device or "cpu"), d.train.y.to(device or "cpu")


def train_mlp(init: Init, nonlinearity: str = "tanh", seeds: Sequence[int] = (0,), depth: int = 8,
              width: int = 64, steps: int = 300, lr: float = 0.05, momentum: float = 0.0, batch_size: int = 64,
              data=None, device=None, hidden: Sequence[int] | None = None, progress: bool = False) -> dict:
    """Train one MLP per seed on the digits with minibatch SGD (cross-entropy), all seeds at once.

    Layers: 64 inputs -> ``hidden`` (default: ``depth - 1`` layers of ``width``) -> 10 classes, weights
    drawn by ``init`` (every layer, the output layer too), biases 0. Returns ``{"loss": (S, steps)`` the
    training loss of each step's batch, ``"accuracy"`` and ``"final_loss"``: (S,) on the whole training split after training,
    ``"weights"``: the trained weights, a list of ``(S, out, in)``}.
    """
    seeds, act = _check_seeds(seeds), _act(nonlinearity)
    x, y = data if data is not None else digits_tensors(device)
    x, y = x.to(device or "cpu"), y.to(device or "cpu")
    sizes = [x.shape[1]] + list(hidden if hidden is not None else [width] * (depth - 1)) + [10]
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    ws = [stack_weights(init, (o, i), gens, device).requires_grad_(True) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [torch.zeros(len(seeds), 1, o, device=x.device, requires_grad=True) for o in sizes[1:]]
    velocity = [torch.zeros_like(p) for p in ws + bs]
    losses = torch.zeros(len(seeds), steps)
    batch_gen = torch.Generator().manual_seed(seeds[0] + 7919)
    steps_iter = range(steps)
    if progress:
        from tqdm.auto import tqdm

        steps_iter = tqdm(steps_iter, desc=f"{nonlinearity}, depth {len(sizes) - 1}", leave=False)

    def forward(xb):
        h = xb
        for k, (w, b) in enumerate(zip(ws, bs)):
            h = torch.baddbmm(b, h, w.transpose(1, 2))  # (S, B, in) -> (S, B, out)
            if k < len(ws) - 1:
                h = act(h)
        return h

    for t in steps_iter:
        idx = torch.randint(0, x.shape[0], (len(seeds), batch_size), generator=batch_gen).to(x.device)
        scores = forward(x[idx])                                             # (S, B, 10)
        per_seed = torch.nn.functional.cross_entropy(scores.transpose(1, 2), y[idx], reduction="none").mean(1)
        grads = torch.autograd.grad(per_seed.sum(), ws + bs)
        with torch.no_grad():
            for p, g, v in zip(ws + bs, grads, velocity):
                v.mul_(momentum).add_(g)
                p.sub_(lr * v)
        losses[:, t] = per_seed.detach().cpu()
    with torch.no_grad():
        scores = forward(x.expand(len(seeds), *x.shape))                    # (S, N, 10)
        accuracy = (scores.argmax(-1) == y).float().mean(1).cpu()
        final = torch.nn.functional.cross_entropy(scores.transpose(1, 2), y.expand(len(seeds), -1),
                                                  reduction="none").mean(1).cpu()
    return {"loss": losses, "accuracy": accuracy, "final_loss": final, "weights": [w.detach() for w in ws]}


def constant_init_run(init: Init, seeds: Sequence[int] = (0,), steps: int = 200, data=None, device=None) -> dict:
    """Claim 02-01: an MLP 64-32-10 (tanh) trained with SGD (lr 0.1, batches of 64) from ``init``.

    Returns ``{"row_spread": (S,)`` the largest deviation of any row of the first weight from the mean
    row after training, ``"accuracy"``: (S,) on the training split, ``"loss"``: (S, steps)}.
    """
    run = train_mlp(init, "tanh", seeds, hidden=[32], steps=steps, lr=0.1, data=data, device=device)
    w1 = run["weights"][0]                                               # (S, 32, 64)
    spread = (w1 - w1.mean(1, keepdim=True)).abs().amax((1, 2)).cpu()
    return {"row_spread": spread, "accuracy": run["accuracy"], "loss": run["loss"]}


def layer_std_ratio(acts: list[torch.Tensor]) -> torch.Tensor:
    """std(last layer) / std(first layer), one per seed."""
    return (acts[-1].flatten(1).std(1) / acts[0].flatten(1).std(1)).cpu()


def mean_square_ratios(acts: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per seed: the geometric mean over layers of ms(layer l+1)/ms(layer l), and ms(last)/ms(first)."""
    ms = torch.stack([a.flatten(1).pow(2).mean(1) for a in acts], 1).cpu()  # (S, depth)
    total = ms[:, -1] / ms[:, 0]
    per_layer = total ** (1.0 / (ms.shape[1] - 1))
    return per_layer, total


def saturated_fraction(acts: list[torch.Tensor], level: float = 0.99) -> torch.Tensor:
    """The fraction of the last layer's activations with ``|h| > level``, one per seed."""
    return (acts[-1].abs() > level).flatten(1).float().mean(1).cpu()


__all__ += ["layer_std_ratio", "mean_square_ratios", "saturated_fraction"]


def normal_init(std: float) -> Init:
    """``init`` drawing N(0, std²) (the 'small random numbers' of old)."""
    return lambda shape, g: std * torch.randn(shape, generator=g)


def lecun_init() -> Init:
    """``init`` drawing N(0, 1/fan_in) (what a lecture slide calls Xavier; equal to Glorot when square)."""
    return lambda shape, g: torch.randn(shape, generator=g) / math.sqrt(shape[1])


__all__ += ["normal_init", "lecun_init"]
