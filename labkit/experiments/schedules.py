"""The experiments of notebook 06 (learning-rate schedules), as functions of the student's schedules.

Every function takes the schedule functions (or the plateau class) it needs as arguments, so the
notebook runs them with the student's code and ``tests/claims/test_claims_06.py`` with the references,
on 20 seeds, against the thresholds below (``CLAIMS``), which the notebook quotes.

Set-ups (the digits are ``labkit.data.load_digits(seed, flatten=True)``, 1257 training samples):

* ``quadratic_descent``: gradient descent on ``f(w) = curvature * w**2 / 2``.
* ``constant_rate_grid``: an MLP 64-64-10 trained by SGD at several constant rates.
* ``regression_problem`` + ``sgd_regression``: float64 linear regression, SGD with batch 1, many
  schedules at once on the same samples (the noise floor, annealing, decaying too fast).
* ``two_layer_scalar``: the two-parameter net ``f(a, b) = (a b - 1)**2 / 2`` (warm-up).
* ``train_digits``: SGD(+momentum) on the digits MLP driven by any schedule, loss and rate per step.
* ``plateau_run``: a plateau detector driving the rate of a digits run, once per epoch.
* ``final_training_loss``: the linear scaling rule.
* ``lr_range_test``: the rate grows exponentially every step; the loss is recorded.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn

from ..data import load_digits

__all__ = ["CLAIMS", "quadratic_descent", "digits_mlp", "constant_rate_grid", "regression_problem",
           "sgd_regression", "two_layer_scalar", "train_digits", "plateau_run",
           "final_training_loss", "lr_range_test", "smoothed", "accuracy_after_training"]

# The thresholds of the checked claims (measured on 20 seeds, with margin; see tests/claims/test_claims_06.py)
CLAIMS = {
    "quadratic_converges": 1e-4,          # |w_100| below this at lr * curvature = 1.9
    "quadratic_diverges": 1e3,            # |w_100| above this at lr * curvature = 2.1
    "tiny_lr_ratio": 0.99,                # final / initial loss at lr 1e-4: at least
    "good_lr_ratio": 0.3,                 # at lr 0.1: at most
    "huge_lr_loss": 10.0,                 # at lr 100: NaN/inf or above this
    "noise_floor_slope": (0.8, 1.4),      # log-log slope of the excess loss against the constant rate
    "annealed_vs_constant": 0.3,          # every annealed schedule's final excess / the constant rate's: at most
    "too_fast_vs_constant": 3.0,          # decaying by 0.9 per step: at least this many times the constant's
    "warmup_loss": 1e-12,                 # final loss with warm-up: below
    "warmup_sharpness": (1.8, 2.7),       # where the warmed-up run ends (2/lr = 4 is the stability edge)
    "one_cycle_vs_constant": 0.5,         # one-cycle's final loss / the constant peak rate's: at most
    "plateau_cuts": 1,                    # cuts made by the plateau detector in the digits run: at least
    "scaling_same": (0.8, 1.25),          # loss(B=128, lr 0.16) / loss(B=16, lr 0.02)
    "scaling_unscaled": 2.0,              # loss(B=128, lr 0.02) / loss(B=16, lr 0.02): at least
    "range_test_lr": (0.05, 0.5),         # the rate at the smoothed loss's minimum
    "range_test_divisor": 3,              # train at the minimum's rate divided by this
    "range_test_accuracy": 0.7,           # validation accuracy after 2 epochs at that rate: at least
}


def _device(device) -> torch.device:
    if device is None:
        from ..device import get_device

        return get_device()
    return torch.device(device)


# ----------------------------------------------------------------------------- a quadratic
def quadratic_descent(lr: float, curvature: float = 1.0, steps: int = 100, w0: float = 1.0) -> list[float]:
    """``w_t`` for ``t = 0 .. steps`` of gradient descent on ``f(w) = curvature * w**2 / 2`` (floats)."""
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    ws = [float(w0)]
    for _ in range(steps):
        ws.append(ws[-1] - lr * curvature * ws[-1])
    return ws


# ----------------------------------------------------------------------------- the digits MLP
def digits_mlp(seed: int, widths: Sequence[int] = (64, 64, 10), device=None) -> nn.Sequential:
    """An MLP 64-...-10 with ReLUs and PyTorch's default init, drawn from ``seed`` (the global RNG is left as
    it was)."""
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        sizes = [64, *widths]
        for i in range(len(widths)):
            layers.append(nn.Linear(sizes[i], sizes[i + 1]))
            if i < len(widths) - 1:
                layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(_device(device))


def _digits(seed: int, device):
    splits = load_digits(seed, flatten=True).to(_device(device))
    return splits.train.x, splits.train.y, splits.val.x, splits.val.y


@torch.no_grad()
def _full_loss(model, x, y) -> float:
    return float(nn.functional.cross_entropy(model(x), y))


def constant_rate_grid(rates: Sequence[float], seed: int = 0, steps: int = 100, batch: int = 64, device=None,
                       progress: Callable | None = None) -> dict:
    """SGD at each constant rate on the digits MLP (same init, same batches): for each rate the minibatch
    losses and ``ratio`` = full training loss after ``steps`` / before (NaN or inf when it blew up)."""
    x, y, _, _ = _digits(seed, device)
    gen = torch.Generator().manual_seed(seed)
    batches = torch.randint(0, x.shape[0], (steps, batch), generator=gen).to(x.device)
    out = {}
    for lr in (progress(rates) if progress else rates):
        model = digits_mlp(seed, device=x.device)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        first = _full_loss(model, x, y)
        losses = []
        for idx in batches:
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        out[lr] = {"losses": losses, "ratio": _full_loss(model, x, y) / first}
    return out


# ----------------------------------------------------------------------------- linear regression, SGD batch 1
def regression_problem(seed: int, n: int = 2000, dim: int = 10, noise: float = 0.5) -> dict:
    """``y = X w_true + noise``, float64: ``X`` (n, dim), ``y`` (n,), and the best loss ``loss_star`` (the loss
    is ``mean((X w - y)**2) / 2``, minimised by least squares)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, dim, generator=gen, dtype=torch.float64)
    w_true = torch.randn(dim, generator=gen, dtype=torch.float64)
    y = x @ w_true + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    w_star = torch.linalg.lstsq(x, y[:, None]).solution[:, 0]
    return {"x": x, "y": y, "w_star": w_star, "loss_star": float(((x @ w_star - y) ** 2).mean() / 2), "seed": seed}


def sgd_regression(problem: dict, schedules: Sequence[Callable[[int], float]], steps: int,
                   record_every: int = 10, from_optimum: bool = False) -> torch.Tensor:
    """SGD with batch 1 from ``w = 0`` (or from the least-squares solution ``w*``: then every bit of excess
    loss is the noise of the steps), one run per schedule, all on the same sample sequence: the excess
    loss ``L(w) - L(w*)`` every ``record_every`` steps (after the step), shape (len(schedules), records)."""
    x, y = problem["x"], problem["y"]
    gen = torch.Generator().manual_seed(problem["seed"] + 1)
    idx = torch.randint(0, x.shape[0], (steps,), generator=gen)
    xs, ys = x[idx], y[idx]
    w = torch.zeros(len(schedules), x.shape[1], dtype=torch.float64)
    if from_optimum:
        w += problem["w_star"]
    records = []
    for t in range(steps):
        lr = torch.tensor([float(f(t)) for f in schedules], dtype=torch.float64)
        residual = w @ xs[t] - ys[t]                          # (S,)
        w -= (lr * residual)[:, None] * xs[t][None, :]        # the gradient of (x.w - y)^2 / 2
        if (t + 1) % record_every == 0:
            records.append(((x @ w.T - y[:, None]) ** 2).mean(0) / 2 - problem["loss_star"])
    return torch.stack(records, dim=1)


# ----------------------------------------------------------------------------- warm-up on a two-parameter net
def two_layer_scalar(schedule: Callable[[int], float], seed: int, steps: int = 300) -> dict:
    """Gradient descent on ``f(a, b) = (a b - 1)**2 / 2`` from ``a, b = 3 + 0.05 N(0, 1)``: the loss and the
    sharpness ``a**2 + b**2`` (the top curvature near the minimum) at every step, and whether it diverged."""
    gen = torch.Generator().manual_seed(seed)
    a, b = (3.0 + 0.05 * torch.randn(2, generator=gen, dtype=torch.float64)).tolist()
    losses, sharpness = [], []
    for t in range(steps):
        r = a * b - 1.0
        losses.append(0.5 * r * r)
        sharpness.append(a * a + b * b)
        if not math.isfinite(losses[-1]) or losses[-1] > 1e12:
            return {"losses": losses, "sharpness": sharpness, "diverged": True}
        lr = float(schedule(t))
        a, b = a - lr * r * b, b - lr * r * a
    r = a * b - 1.0
    losses.append(0.5 * r * r)
    sharpness.append(a * a + b * b)
    return {"losses": losses, "sharpness": sharpness, "diverged": not math.isfinite(losses[-1])}


# ----------------------------------------------------------------------------- digits under any schedule
def train_digits(schedule: Callable[[int], float], seed: int, steps: int, batch: int = 64, momentum: float = 0.9,
                 device=None) -> dict:
    """SGD with momentum on the digits MLP, the rate of step ``t`` set to ``schedule(t)``: the rate and the
    minibatch loss of every step, and the final validation accuracy."""
    x, y, xv, yv = _digits(seed, device)
    gen = torch.Generator().manual_seed(seed)
    batches = torch.randint(0, x.shape[0], (steps, batch), generator=gen).to(x.device)
    model = digits_mlp(seed, device=x.device)
    opt = torch.optim.SGD(model.parameters(), lr=float(schedule(0)), momentum=momentum)
    lrs, losses = [], []
    for t, idx in enumerate(batches):
        lr = float(schedule(t))
        for group in opt.param_groups:
            group["lr"] = lr
        loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(float(loss.detach()))
    with torch.no_grad():
        acc = float((model(xv).argmax(1) == yv).float().mean())
    return {"lrs": lrs, "losses": losses, "val_accuracy": acc}


# ----------------------------------------------------------------------------- a plateau detector on digits
def plateau_run(make_plateau: Callable, seed: int, epochs: int = 30, lr0: float = 0.3, batch: int = 64,
                device=None) -> dict:
    """Plain SGD on the digits MLP, one epoch at a time; after each epoch ``plateau.step(val_loss)`` gives
    the rate of the next (``plateau = make_plateau(lr0)``). Returns the rate and the validation loss per epoch."""
    x, y, xv, yv = _digits(seed, device)
    gen = torch.Generator().manual_seed(seed)
    model = digits_mlp(seed, device=x.device)
    opt = torch.optim.SGD(model.parameters(), lr=lr0)
    plateau = make_plateau(lr0)
    lrs, val_losses = [], []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        for idx in torch.randperm(x.shape[0], generator=gen).to(x.device).split(batch):
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        val_losses.append(_full_loss(model, xv, yv))
        new_lr = float(plateau.step(val_losses[-1]))
        for group in opt.param_groups:
            group["lr"] = new_lr
    return {"lrs": lrs, "val_losses": val_losses}


# ----------------------------------------------------------------------------- the linear scaling rule
def final_training_loss(seed: int, batch: int, lr: float, epochs: int = 5, device=None) -> dict:
    """Plain SGD on the digits MLP for ``epochs`` epochs (shuffled, without replacement): the full training
    loss after every epoch (the first entry is before training)."""
    x, y, _, _ = _digits(seed, device)
    gen = torch.Generator().manual_seed(seed)
    model = digits_mlp(seed, device=x.device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    per_epoch = [_full_loss(model, x, y)]
    for _ in range(epochs):
        for idx in torch.randperm(x.shape[0], generator=gen).to(x.device).split(batch):
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        per_epoch.append(_full_loss(model, x, y))
    return {"per_epoch": per_epoch, "final": per_epoch[-1]}


# ----------------------------------------------------------------------------- the range test
def smoothed(values: Sequence[float], half_width: int = 5) -> list[float]:
    """Centred moving average over ``2 half_width + 1`` steps (fewer at the ends). A centred window does not
    lag: an exponential average would move the minimum of a falling-then-rising curve to later steps."""
    out = []
    for i in range(len(values)):
        window = values[max(0, i - half_width):i + half_width + 1]
        out.append(sum(window) / len(window))
    return out


def lr_range_test(seed: int, lr_start: float = 1e-5, lr_end: float = 10.0, steps: int = 200, batch: int = 64,
                  momentum: float = 0.9, device=None) -> dict:
    """The rate grows by a constant factor every step from ``lr_start`` to ``lr_end``; SGD with momentum
    on the digits MLP. Returns the rates, the minibatch losses, their smoothed curve and ``best_lr``, the
    rate at the smoothed minimum."""
    growth = (lr_end / lr_start) ** (1 / (steps - 1))
    run = train_digits(lambda t: lr_start * growth ** t, seed, steps, batch, momentum, device)
    smooth = smoothed(run["losses"])
    finite = [(v, i) for i, v in enumerate(smooth) if math.isfinite(v)]
    best = min(finite)[1]
    return {"lrs": run["lrs"], "losses": run["losses"], "smoothed": smooth, "best_lr": run["lrs"][best]}


def accuracy_after_training(seed: int, lr: float, epochs: int = 2, batch: int = 64, momentum: float = 0.9,
                            device=None) -> float:
    """Validation accuracy of the digits MLP after ``epochs`` epochs of SGD with momentum at a constant rate."""
    steps = epochs * math.ceil(1257 / batch)
    return train_digits(lambda t: lr, seed, steps, batch, momentum, device)["val_accuracy"]
