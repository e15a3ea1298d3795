"""The experiments of notebook 01 (activations), as functions of the student's forward/backward pairs.

Every function takes ``acts``, a dict ``{name: (forward, backward)}`` of activation layers written as
``forward(x, ...) -> (out, cache)`` / ``backward(dout, cache)`` (the student's, or any implementation
of the same contract), and a ``seed``; it returns plain numbers (and the curves a plot needs). The
thresholds of the notebook's checked claims live here as constants, so that the notebook and
``tests/claims/test_claims_01.py`` (20 seeds) assert the same numbers.

Example
-------
>>> from labkit import reference as R
>>> acts = {"relu": (R.relu_forward, R.relu_backward), "sigmoid": (R.sigmoid_forward, R.sigmoid_backward)}
>>> ratios = layer_gradient_norms(acts, "sigmoid", seed=0)["ratio"]      # doctest: +SKIP
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ..bridges import FunctionLayer, autograd_function
from ..data import load_digits
from ..monitor import GradientStats

__all__ = [
    "THRESHOLDS", "activation_layer", "derivative_peaks", "layer_gradient_norms", "sign_agreement",
    "dead_units", "linear_vs_relu", "steps_to_loss", "maxout_special_cases", "maxout_fit", "prelu_learns_slope",
]

THRESHOLDS = {
    # 01-01: derivative of sigmoid at most 1/4 (at 0), of tanh at most 1; both vanish far from 0
    "sigmoid_peak": (0.25 - 1e-6, 0.25 + 1e-6), "tanh_peak": (1 - 1e-6, 1 + 1e-6),
    "sigmoid_at_10": 1e-4, "tanh_at_5": 5e-4,
    # 01-02: ||dL/da|| of the first activation over the last's, 10 hidden layers (labkit.monitor)
    "vanish_sigmoid": 1e-3, "vanish_relu": (0.1, 10.0),
    # 01-03: fraction of units whose incoming weight gradients share one sign
    "sign_sigmoid_b1": (1.0, 1.0), "sign_tanh_b1": 0.05, "sign_sigmoid_b32": 0.1, "sign_tanh_b32": 0.02,
    # 01-04 / 01-05: dead units after 10 steps at a too-large learning rate
    "dead_at_init": 0.05, "dead_after": 0.4, "rows_changed_leaky": 0.99, "silent_rows_changed_elu": 0.1,
    "silent_rows_changed_prelu": 0.99,
    # 01-06: without a nonlinearity, depth adds nothing
    "linear_acc": 0.65, "relu_acc": 0.9, "collapse": 1e-4,
    # 01-07: steps to reach a training loss of 0.5, sigmoid over ReLU
    "speedup": 5.0,
    # 01-08: maxout reproduces ReLU and leaky ReLU
    "maxout_identity": 1e-5, "maxout_fit_mse": 0.03,
    # 01-09: PReLU learns the slope of its data
    "prelu_alpha": (0.24, 0.26),
}


def _check_acts(acts: dict, name: str) -> tuple[Callable, Callable]:
    if not isinstance(acts, dict) or name not in acts:
        raise ValueError(f"acts must be a dict holding {name!r}: (forward, backward); got {type(acts).__name__}"
                         f"{' with ' + str(list(acts)) if isinstance(acts, dict) else ''}")
    pair = acts[name]
    if not (isinstance(pair, tuple) and len(pair) == 2 and all(callable(f) for f in pair)):
        raise ValueError(f"acts[{name!r}] must be a pair (forward, backward) of functions")
    return pair


def activation_layer(acts: dict, name: str, **kwargs) -> nn.Module:
    """The pair ``acts[name]`` as an ``nn.Module`` (``labkit.bridges.FunctionLayer``); ``prelu`` gets a
    learnable shared slope ``alpha`` (``kwargs["alpha"]``, default 0.25); other keywords go to the forward."""
    forward, backward = _check_acts(acts, name)
    if name == "prelu":
        alpha = torch.tensor([float(kwargs.pop("alpha", 0.25))])
        return FunctionLayer(forward, backward, alpha, **kwargs)
    return FunctionLayer(forward, backward, **kwargs)


def _generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an int, got {seed!r}")
    return torch.Generator().manual_seed(seed)


def _default_init(seed: int, build: Callable[[], nn.Module]) -> nn.Module:
    """``build()`` with torch's default init drawn from a global RNG seeded with ``seed``; the caller's
    global RNG state is left as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build()


# ----------------------------------------------------------------------------------- 01-01
def derivative_peaks(acts: dict, n: int = 400_001, limit: float = 20.0) -> dict:
    """Derivatives of sigmoid and tanh from their backward passes on a grid of ``n`` points in [-limit, limit].

    Returns ``x`` and the curves ``dsigmoid``, ``dtanh`` (float64, CPU), their maxima and where they lie,
    and the values at x = 10 (sigmoid) and x = 5 (tanh).
    """
    x = torch.linspace(-limit, limit, n, dtype=torch.float64)
    out = {"x": x}
    for name in ("sigmoid", "tanh"):
        forward, backward = _check_acts(acts, name)
        _, cache = forward(x)
        d = backward(torch.ones_like(x), cache)
        out[f"d{name}"] = d
        i = int(d.argmax())
        out[f"{name}_peak"], out[f"{name}_peak_at"] = float(d[i]), float(x[i])
    for name, at in (("sigmoid", 10.0), ("tanh", 5.0)):
        forward, backward = _check_acts(acts, name)
        z = torch.tensor([at], dtype=torch.float64)
        out[f"{name}_at_{int(at)}"] = float(backward(torch.ones_like(z), forward(z)[1])[0])
    return out


# ----------------------------------------------------------------------------------- 01-02
def _deep_mlp(acts, name, depth, width, init, generator, device):
    layers = []
    for i in range(depth):
        lin = nn.Linear(64 if i == 0 else width, width)
        fan_in, fan_out = lin.weight.shape[1], lin.weight.shape[0]
        std = math.sqrt(2.0 / fan_in) if init == "he" else math.sqrt(2.0 / (fan_in + fan_out))
        with torch.no_grad():
            lin.weight.copy_(torch.randn(lin.weight.shape, generator=generator) * std)
            lin.bias.zero_()
        layers += [lin, activation_layer(acts, name)]
    head = nn.Linear(width, 10)
    with torch.no_grad():  # every weight from the run's own generator
        head.weight.copy_(torch.randn(head.weight.shape, generator=generator) * math.sqrt(1.0 / width))
        head.bias.zero_()
    layers.append(head)
    return nn.Sequential(*layers).to(device)


def layer_gradient_norms(acts: dict, name: str, seed: int = 0, depth: int = 10, width: int = 64,
                         init: str | None = None, n: int = 256, device=None) -> dict:
    """One backward pass of a ``depth``-layer MLP (64 -> width x depth -> 10) on ``n`` digits.

    Glorot init for sigmoid and tanh, He for the ReLU family (``init`` "glorot" or "he" overrides).
    ``labkit.monitor.GradientStats`` records ``||dL/da||`` for the output ``a`` of every activation layer.
    Returns ``norms`` (first layer first) and ``ratio`` = first / last.
    """
    if depth < 2:
        raise ValueError(f"depth must be at least 2, got {depth}")
    gen = _generator(seed)
    init = init or ("glorot" if name in ("sigmoid", "tanh") else "he")
    if init not in ("glorot", "he"):
        raise ValueError(f"init must be 'glorot' or 'he', got {init!r}")
    model = _deep_mlp(acts, name, depth, width, init, gen, device)
    data = load_digits(seed=0, flatten=True).train
    idx = torch.randperm(len(data.y), generator=gen)[:n]
    x, y = data.x[idx].to(device), data.y[idx].to(device)
    names = [str(i) for i in range(1, 2 * depth, 2)]  # the activation layers of the Sequential, in order
    with GradientStats(model, keep_samples=0, names=names) as grads:
        nn.functional.cross_entropy(model(x), y).backward()
    summary = grads.summary()
    norms = [summary[k]["norm"] for k in names]
    return {"norms": norms, "ratio": norms[0] / norms[-1]}


# ----------------------------------------------------------------------------------- 01-03
def sign_agreement(acts: dict, name: str, batch: int, seed: int = 0, fan_in: int = 64, units: int = 32) -> float:
    """Fraction of the ``units`` next-layer units whose ``fan_in`` incoming weight gradients share one sign.

    The next layer's input is ``h = f(z)`` with ``z ~ N(0, 1)`` of shape ``(batch, fan_in)``; its weight
    gradient is ``dz.T @ h`` for a random upstream gradient ``dz`` of shape ``(batch, units)``.
    """
    gen = _generator(seed)
    forward, _ = _check_acts(acts, name)
    z = torch.randn(batch, fan_in, generator=gen, dtype=torch.float64)
    dz = torch.randn(batch, units, generator=gen, dtype=torch.float64)
    h = forward(z)[0]
    dw = dz.T @ h  # (units, fan_in)
    same = (dw > 0).all(dim=1) | (dw < 0).all(dim=1)
    return float(same.double().mean())


# ----------------------------------------------------------------------------------- 01-06
def linear_vs_relu(acts: dict, seed: int = 0, steps: int = 300, lr: float = 0.01, hidden: int = 64,
                   device=None) -> dict:
    """MLP 2-hidden-hidden-3 on three spirals (100 points each), without and with ReLU, Adam, full batch.

    Returns the training accuracies ``linear`` and ``relu`` and ``collapse_error``: the largest difference
    between the linear network's outputs and the single affine map ``x W^T + c`` its layers multiply into.
    """
    from ..data import make_spirals

    gen = _generator(seed)
    x, y = make_spirals(100, 3, generator=gen)
    x, y = x.to(device), y.to(device)
    out = {}
    for name in ("linear", "relu"):
        act = (lambda: nn.Identity()) if name == "linear" else (lambda: activation_layer(acts, "relu"))
        model = _default_init(seed, lambda: nn.Sequential(nn.Linear(2, hidden), act(), nn.Linear(hidden, hidden),
                                                          act(), nn.Linear(hidden, 3))).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        with torch.no_grad():
            out[name] = float((model(x).argmax(1) == y).float().mean())
            if name == "linear":
                lins = [m for m in model if isinstance(m, nn.Linear)]
                w = lins[2].weight @ lins[1].weight @ lins[0].weight
                c = lins[2].weight @ (lins[1].weight @ lins[0].bias + lins[1].bias) + lins[2].bias
                out["collapse_error"] = float((model(x) - (x @ w.T + c)).abs().max())
    return out


# ----------------------------------------------------------------------------------- 01-04 / 01-05
def dead_units(acts: dict, name: str, seed: int = 0, hidden: int = 128, big_lr: float = 3.0, big_steps: int = 10,
               lr: float = 0.05, steps: int = 100, batch: int = 64, prelu_alpha: float = 0.01, device=None) -> dict:
    """MLP 64-hidden-10 (He init) on the digits: ``big_steps`` SGD steps at ``big_lr``, then ``steps`` at ``lr``.

    A PReLU (``acts["prelu"]``) starts with the slope ``prelu_alpha`` shared by its units, which is left
    out of the large steps (at that rate a shared slope, whose gradient sums over every unit, diverges).

    A unit is *silent* when its pre-activation is <= 0 on every training example. Returns the silent
    fraction at init, after the large steps and at the end, and the fraction of rows of the first
    weight matrix that changed during the last ``steps`` steps (``rows_changed``), and among the silent
    units only (``silent_rows_changed``; nan when none is silent).
    """
    gen = _generator(seed)
    data = load_digits(seed=seed, flatten=True).train.to(device)
    lin1, lin2 = nn.Linear(64, hidden), nn.Linear(hidden, 10)
    with torch.no_grad():  # every draw from the run's own generator
        lin1.weight.copy_(torch.randn(hidden, 64, generator=gen) * math.sqrt(2 / 64))
        lin1.bias.zero_()
        lin2.weight.copy_(torch.randn(10, hidden, generator=gen) * math.sqrt(1 / hidden))
        lin2.bias.zero_()
    act = activation_layer(acts, name, alpha=prelu_alpha) if name == "prelu" else activation_layer(acts, name)
    model = nn.Sequential(lin1, act, lin2).to(device)

    def silent() -> torch.Tensor:
        with torch.no_grad():
            return (model[0](data.x) <= 0).all(dim=0)

    def train(rate, count, slopes=True):
        params = [p for n, p in model.named_parameters() if slopes or not n.endswith("alpha")]
        opt = torch.optim.SGD(params, lr=rate)
        for _ in range(count):
            idx = torch.randint(0, len(data.y), (batch,), generator=gen).to(data.y.device)
            opt.zero_grad()
            nn.functional.cross_entropy(model(data.x[idx]), data.y[idx]).backward()
            opt.step()

    at_init = float(silent().float().mean())
    train(big_lr, big_steps, slopes=False)  # a PReLU's slope only learns at the sensible rate
    mask = silent()
    after = float(mask.float().mean())
    before = model[0].weight.detach().clone()
    train(lr, steps)
    changed = (model[0].weight.detach() != before).any(dim=1)
    return {"at_init": at_init, "after": after, "end": float(silent().float().mean()),
            "rows_changed": float(changed.float().mean()),
            "silent_rows_changed": float(changed[mask].float().mean()) if mask.any() else float("nan")}


# ----------------------------------------------------------------------------------- 01-07
def steps_to_loss(acts: dict, name: str, seed: int = 0, target: float = 0.5, cap: int = 1500, every: int = 10,
                  lr: float = 0.1, batch: int = 64, widths=(64, 64, 64), stop_at_target: bool = True,
                  device=None) -> dict:
    """MLP 64-64-64-64-10 (torch's default init) on the digits, SGD: the steps until the full training
    loss falls below ``target`` (checked every ``every`` steps; ``None`` when not within ``cap``).
    Returns ``steps`` and the ``curve`` of (step, training loss) pairs; with ``stop_at_target=False``
    the run goes on to ``cap`` steps (for the whole curve)."""
    gen = _generator(seed)
    data = load_digits(seed=seed, flatten=True).train.to(device)

    def build():
        layers, size = [], 64
        for w in widths:
            layers += [nn.Linear(size, w), activation_layer(acts, name)]
            size = w
        return nn.Sequential(*layers, nn.Linear(size, 10))

    model = _default_init(seed, build).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    curve, reached = [], None
    for step in range(cap + 1):
        if step % every == 0:
            with torch.no_grad():
                loss = float(nn.functional.cross_entropy(model(data.x), data.y))
            curve.append((step, loss))
            if loss < target and reached is None:
                reached = step
                if stop_at_target:
                    break
        if step == cap:
            break
        idx = torch.randint(0, len(data.y), (batch,), generator=gen).to(data.y.device)
        opt.zero_grad()
        nn.functional.cross_entropy(model(data.x[idx]), data.y[idx]).backward()
        opt.step()
    return {"steps": reached, "curve": curve}


# ----------------------------------------------------------------------------------- 01-08
def maxout_special_cases(maxout_forward: Callable, seed: int = 0, n: int = 16, d: int = 8, m: int = 5) -> dict:
    """Maxout with k = 2 pieces against ReLU and leaky ReLU (slope 0.1) of the same affine map.

    Returns the largest absolute differences ``relu_error`` and ``leaky_error`` and the parameter counts
    of the maxout layer and of one affine layer.
    """
    gen = _generator(seed)
    x, w, b = (torch.randn(*s, generator=gen, dtype=torch.float64) for s in ((n, d), (m, d), (m,)))
    z = x @ w.T + b
    zeros = (torch.zeros_like(w), torch.zeros_like(b))
    relu_like = maxout_forward(x, torch.stack([w, zeros[0]]), torch.stack([b, zeros[1]]))[0]
    leaky_like = maxout_forward(x, torch.stack([w, 0.1 * w]), torch.stack([b, 0.1 * b]))[0]
    return {"relu_error": float((relu_like - z.clamp(min=0)).abs().max()),
            "leaky_error": float((leaky_like - torch.where(z > 0, z, 0.1 * z)).abs().max()),
            "maxout_params": 2 * (m * d + m), "affine_params": m * d + m}


def maxout_fit(maxout_forward: Callable, maxout_backward: Callable, target: Callable | None = None, k: int = 4,
               seed: int = 0, steps: int = 400, lr: float = 0.05) -> dict:
    """Fit one maxout unit (k pieces, 1 input, 1 output) to ``target`` on [-2, 2] with Adam.

    Returns the grid ``x`` (200, 1), the ``target`` values, the learned ``fit`` and each piece's line
    ``pieces`` (200, k), and the final mean squared error ``mse``.
    """
    gen = _generator(seed)
    target = target or (lambda t: t * t)
    x = torch.linspace(-2, 2, 200).reshape(-1, 1)
    y = target(x)
    w = nn.Parameter(torch.randn(k, 1, 1, generator=gen))
    b = nn.Parameter(0.1 * torch.randn(k, 1, generator=gen))
    f = autograd_function(maxout_forward, maxout_backward)
    opt = torch.optim.Adam([w, b], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = ((f(x, w, b) - y) ** 2).mean()
        loss.backward()
        opt.step()
    with torch.no_grad():
        fit = f(x, w, b)
        pieces = (x @ w[:, 0, :].T + b[:, 0])  # (200, k)
        mse = float(((fit - y) ** 2).mean())
    return {"x": x, "target": y, "fit": fit, "pieces": pieces, "mse": mse}


# ----------------------------------------------------------------------------------- 01-09
def prelu_learns_slope(acts: dict, true_slope: float = 0.25, alpha0: float = 0.01, n: int = 2000, steps: int = 200,
                       lr: float = 0.5, seed: int = 0) -> dict:
    """A lone PReLU with a shared slope ``alpha0`` fitted by SGD (MSE) to ``leaky_relu(x, true_slope)`` on
    ``n`` inputs drawn from N(0, 1). Returns the learned ``alpha`` and its ``history``."""
    gen = _generator(seed)
    x = torch.randn(n, 1, generator=gen)
    y = torch.where(x > 0, x, true_slope * x)
    layer = activation_layer(acts, "prelu", alpha=alpha0)
    opt = torch.optim.SGD(layer.parameters(), lr=lr)
    history = [alpha0]
    for _ in range(steps):
        opt.zero_grad()
        ((layer(x) - y) ** 2).mean().backward()
        opt.step()
        history.append(float(layer.alpha.detach()))
    return {"alpha": history[-1], "history": history}
