"""The experiments of notebook 04 (dropout and regularisation), with the thresholds of their checked claims.

Each function takes the student's functions (or stand-ins: torch built-ins, the references in the
tests) and a seed, and returns the measured numbers; the notebook plots them and states the claims,
``tests/claims/test_claims_04.py`` asserts the same thresholds (the constants below) on 20 seeds.

Example
-------
>>> from labkit.reference import dropout_forward
>>> r = dropout_expectation(dropout_forward, seed=0)
>>> 0.99 <= r["ratio_scaled"] <= 1.01
True
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ..bridges import FunctionLayer
from ..data import load_digits

__all__ = ["THRESHOLDS", "dropout_expectation", "mask_average", "noisy_digits", "dropout_mlp", "train_full_batch",
           "dropout_overfitting", "noisy_objective", "l2_weight_norms", "sparsity", "ridge_curve", "weight_decay_match",
           "early_stopping_run"]

# Every asserted threshold, in one place (SEED_CLAIMS.md, section 04; brackets there are the 20-seed ranges).
THRESHOLDS = {
    "ratio_scaled": (0.99, 1.01),  # 04-01 mean(out) / mean(x) with the 1/(1-p) scale, p = 0.3
    "ratio_unscaled": (0.69, 0.71),  # 04-01 the same without the scale: (1 - p)
    "linear_mc_gap": 0.05,  # 04-03 Monte-Carlo average vs scaled pass, linear net: at most
    "relu_mc_gap": 0.15,  # 04-03 ... ReLU net: at least
    "dropout_val_acc_gain": 0.02,  # 04-05 at least (fraction, i.e. 2 points)
    "dropout_val_loss_drop": 0.3,  # 04-05 at least
    "dropout_gap_drop": 0.3,  # 04-05 at least
    "noisy_rise_fraction": 0.05,  # 04-06 fraction of steps that raise the loss with dropout: at least
    "l1_sparse": 0.7,  # 04-08 fraction of irrelevant weights below 0.01 with L1: at least
    "l2_sparse": 0.4,  # 04-08 ... with L2: at most
    "ridge_ends_over_best": 1.5,  # 04-09 both ends of the λ grid at least this much above the best val MSE
    "wd_match": 1e-12,  # 04-10 SGD(weight_decay=2λ) vs the penalty: at most
    "wd_mismatch": 1e-4,  # 04-10 SGD(weight_decay=λ) vs the penalty: at least
    "overfit_rise": 0.1,  # 04-11 final val loss - best val loss: at least
    "stop_before": 50,  # 04-11 EarlyStopping(patience=5) stops before this epoch
    "restored_within": 0.05,  # 04-11 val loss of the restored epoch - minimum: at most
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


# --------------------------------------------------------------------------------- 04-01, 04-04
def dropout_expectation(dropout_forward: Callable, seed: int, p: float = 0.3, n: int = 1000) -> dict:
    """Inverted dropout on an (n, n) input drawn U(0.5, 1.5): the mean ratio with and without the scale,
    the eval and p = 1 outputs, and how often a row's mask repeats row 0's (one mask per example?)."""
    g = _gen(seed)
    x = 0.5 + torch.rand(n, n, generator=g)
    out, _ = dropout_forward(x, p, train=True, generator=g)
    unscaled = out * (1 - p)  # the kept entries without the 1/(1-p): plain x * mask
    out2, _ = dropout_forward(x, p, train=True, generator=g)
    ev, _ = dropout_forward(x, p, train=False, generator=g)
    ones, _ = dropout_forward(x, 1.0, train=True, generator=g)
    mask = out != 0
    return {"ratio_scaled": float(out.mean() / x.mean()), "ratio_unscaled": float(unscaled.mean() / x.mean()),
            "eval_identity": bool(torch.equal(ev, x)), "p1_zeros": bool((ones == 0).all()),
            "p1_nan": bool(torch.isnan(ones).any()), "dropped": float(1 - mask.double().mean()),
            "rows_like_row0": float((mask[1:] == mask[:1]).all(dim=1).double().mean()),
            "calls_differ": not torch.equal(out, out2)}


# -------------------------------------------------------------------------------------- 04-03
def mask_average(dropout_forward: Callable, seed: int, masks: int = 2000, keep: float = 0.5, batch: int = 100) -> dict:
    """Random 50-100-10 nets, dropout (keep 0.5) on the inputs: the Monte-Carlo average over ``masks``
    training-mode passes against the single evaluation-mode pass, for a linear and a ReLU hidden layer
    (normrel = ‖a − b‖ / max(‖a‖, ‖b‖); argmax agreement of the ReLU net)."""
    g = _gen(seed)
    w1, w2 = torch.randn(50, 100, generator=g) / 50 ** 0.5, torch.randn(100, 10, generator=g) / 10
    x = torch.randn(batch, 50, generator=g)
    res = {}
    for name, act in (("linear", lambda z: z), ("relu", torch.relu)):
        total = torch.zeros(batch, 10)
        for _ in range(masks // 50):  # 50 masks per call: (50, batch, 50)
            dropped, _ = dropout_forward(x.expand(50, batch, 50), 1 - keep, train=True, generator=g)
            total += (act(dropped @ w1) @ w2).sum(0)
        mc = total / (masks // 50 * 50)
        det = act(dropout_forward(x, 1 - keep, train=False)[0] @ w1) @ w2
        res[name] = float((mc - det).norm() / max(mc.norm(), det.norm()))
        if name == "relu":
            res["argmax_agree"] = float((mc.argmax(1) == det.argmax(1)).double().mean())
    return res


# --------------------------------------------------------------------------------- 04-05, 04-11
def noisy_digits(seed: int, n_train: int = 200, noise: float = 0.3, device=None):
    """``n_train`` training digits (flattened, standardised) with a fraction ``noise`` of their labels
    replaced by random classes, and the clean validation set: ``(x, y, x_val, y_val)``."""
    d = load_digits(seed, flatten=True, device=device)
    g = _gen(seed + 1000)
    x, y = d.train.x[:n_train], d.train.y[:n_train].clone()
    flip = torch.rand(n_train, generator=g) < noise
    y[flip.to(y.device)] = torch.randint(0, 10, (int(flip.sum()),), generator=g).to(y.device)
    return x, y, d.val.x, d.val.y


def dropout_mlp(dropout_forward: Callable, dropout_backward: Callable, p: float, widths=(64, 256, 256, 10),
                seed: int = 0, device=None) -> nn.Sequential:
    """An MLP of ``widths`` (ReLU) with the student's dropout (as a layer, its generator on ``device``)
    after every hidden ReLU."""
    gen = torch.Generator(device=device if device is not None else "cpu").manual_seed(seed + 7)
    torch.manual_seed(seed)  # PyTorch's default init draws from the global RNG
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers += [nn.ReLU(), FunctionLayer(dropout_forward, dropout_backward, p, generator=gen)]
    return nn.Sequential(*layers)


def _losses(model, x, y, xv, yv):
    model.eval()
    with torch.no_grad():
        lt = nn.functional.cross_entropy(model(x), y).item()
        out = model(xv)
        lv, acc = nn.functional.cross_entropy(out, yv).item(), (out.argmax(1) == yv).double().mean().item()
    model.train()
    return lt, lv, acc


def train_full_batch(model, data, steps: int = 300, lr: float = 1e-3, every: int = 10, device=None) -> dict:
    """Adam on full batches for ``steps`` steps; train / val loss (eval mode) every ``every`` steps."""
    x, y, xv, yv = (t.to(device) if device is not None else t for t in data)
    model.to(x.device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    curve = {"step": [], "train_loss": [], "val_loss": [], "val_acc": []}
    for t in range(steps + 1):
        if t % every == 0 or t == steps:
            lt, lv, acc = _losses(model, x, y, xv, yv)
            for k, v in zip(curve, (t, lt, lv, acc)):
                curve[k].append(v)
        if t == steps:
            break
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return curve


def dropout_overfitting(dropout_forward: Callable, dropout_backward: Callable, seed: int, p: float = 0.5,
                        steps: int = 300, device=None) -> dict:
    """04-05: the noisy-label digits trained with dropout ``p`` and without; the final numbers and curves."""
    data = noisy_digits(seed, device=device)
    res = {}
    for name, rate in (("plain", 0.0), ("dropout", p)):
        curve = train_full_batch(dropout_mlp(dropout_forward, dropout_backward, rate, seed=seed, device=device), data, steps,
                                 device=device)
        res[name] = curve
    a, b = res["plain"], res["dropout"]
    res["val_acc_gain"] = b["val_acc"][-1] - a["val_acc"][-1]
    res["val_loss_drop"] = a["val_loss"][-1] - b["val_loss"][-1]
    res["gap_drop"] = (a["val_loss"][-1] - a["train_loss"][-1]) - (b["val_loss"][-1] - b["train_loss"][-1])
    return res


# -------------------------------------------------------------------------------------- 04-06
def noisy_objective(dropout_forward: Callable, dropout_backward: Callable, seed: int, p: float = 0.5,
                    steps: int = 100, lr: float = 0.05) -> dict:
    """Full-batch gradient descent on 500 digits (MLP 64-128-10), the loss measured in training mode at
    every step: the fraction of steps at which it rose, without and with dropout."""
    d = load_digits(seed, flatten=True)
    x, y = d.train.x[:500], d.train.y[:500]
    res = {}
    for name, rate in (("plain", 0.0), ("dropout", p)):
        model = dropout_mlp(dropout_forward, dropout_backward, rate, widths=(64, 128, 10), seed=seed)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        losses = []
        for _ in range(steps):
            loss = nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        rises = sum(b > a for a, b in zip(losses[:-1], losses[1:]))
        res[name] = losses
        res[f"{name}_rise_fraction"] = rises / (len(losses) - 1)
    return res


# ----------------------------------------------------------------------------------- 04-07, 04-08
def l2_weight_norms(l2_penalty: Callable, seed: int, lams=(0.0, 1e-4, 1e-3, 1e-2, 1e-1), steps: int = 300,
                    lr: float = 0.5) -> dict:
    """Softmax regression on 500 digits by gradient descent with the student's L2 penalty: ‖W‖ per λ."""
    d = load_digits(seed, flatten=True)
    x, y = d.train.x[:500].double(), d.train.y[:500]
    onehot = nn.functional.one_hot(y, 10).double()
    norms = []
    for lam in lams:
        w = torch.zeros(64, 10, dtype=torch.float64)
        b = torch.zeros(10, dtype=torch.float64)
        for _ in range(steps):
            probs = torch.softmax(x @ w + b, dim=1)
            dscores = (probs - onehot) / len(x)
            _, (gw,) = l2_penalty([w], lam)
            w = w - lr * (x.T @ dscores + gw)
            b = b - lr * dscores.sum(0)
        norms.append(float(w.norm()))
    return {"lams": list(lams), "norms": norms}


def sparsity(l1_penalty: Callable, l2_penalty: Callable, seed: int, lams=(0.0, 0.01, 0.03, 0.1, 0.3),
             steps: int = 2000, lr: float = 0.01, small: float = 0.01) -> dict:
    """Linear regression (200 x 50, 5 relevant weights, noise 0.5) by subgradient descent with each
    penalty: the fraction of the 45 irrelevant weights below ``small`` in magnitude, per λ."""
    g = _gen(seed)
    x = torch.randn(200, 50, generator=g, dtype=torch.float64)
    w_true = torch.zeros(50, dtype=torch.float64)
    w_true[:5] = torch.randn(5, generator=g, dtype=torch.float64).sign() * (1 + torch.rand(5, generator=g))
    y = x @ w_true + 0.5 * torch.randn(200, generator=g, dtype=torch.float64)
    res = {"lams": list(lams)}
    for name, penalty in (("l1", l1_penalty), ("l2", l2_penalty)):
        fracs, weights = [], []
        for lam in lams:
            w = torch.zeros(50, dtype=torch.float64)
            for _ in range(steps):
                grad = 2 * x.T @ (x @ w - y) / len(x)
                _, (gp,) = penalty([w], lam)
                w = w - lr * (grad + gp)
            fracs.append(float((w[5:].abs() < small).double().mean()))
            weights.append(w)
        res[name] = fracs
        res[f"{name}_weights"] = weights
    return res


# -------------------------------------------------------------------------------------- 04-09
def ridge_curve(seed: int, lams=(1e-9, 1e-6, 1e-4, 1e-2, 0.1, 1.0, 10.0, 100.0), degree: int = 15) -> dict:
    """Degree-15 polynomial ridge regression (closed form) on 20 noisy points of sin 3x: train and val MSE
    per λ (500 validation points)."""
    g = _gen(seed)

    def sample(n):
        x = torch.rand(n, generator=g, dtype=torch.float64) * 2 - 1
        return x, torch.sin(3 * x) + 0.2 * torch.randn(n, generator=g, dtype=torch.float64)

    (x, y), (xv, yv) = sample(20), sample(500)
    feats = lambda z: torch.stack([z ** k for k in range(degree + 1)], dim=1)  # noqa: E731  (n, degree+1)
    a, av = feats(x), feats(xv)
    train, val = [], []
    for lam in lams:
        w = torch.linalg.solve(a.T @ a + lam * torch.eye(degree + 1, dtype=torch.float64), a.T @ y)
        train.append(float(((a @ w - y) ** 2).mean()))
        val.append(float(((av @ w - yv) ** 2).mean()))
    return {"lams": list(lams), "train": train, "val": val}


# -------------------------------------------------------------------------------------- 04-10
def weight_decay_match(l2_penalty: Callable, seed: int, lam: float = 0.05, steps: int = 50, lr: float = 0.1) -> dict:
    """float64 linear regression: plain gradient steps on MSE + the student's L2 penalty against
    ``torch.optim.SGD(weight_decay=2λ)`` and ``SGD(weight_decay=λ)`` on the MSE alone: max |Δw|."""
    g = _gen(seed)
    x = torch.randn(40, 8, generator=g, dtype=torch.float64)
    y = x @ torch.randn(8, generator=g, dtype=torch.float64) + 0.1 * torch.randn(40, generator=g, dtype=torch.float64)
    w0 = torch.randn(8, generator=g, dtype=torch.float64)
    w = w0.clone()
    for _ in range(steps):
        _, (gp,) = l2_penalty([w], lam)
        w = w - lr * (2 * x.T @ (x @ w - y) / len(x) + gp)
    res = {}
    for name, wd in (("wd_2lam", 2 * lam), ("wd_lam", lam)):
        p = nn.Parameter(w0.clone())
        opt = torch.optim.SGD([p], lr=lr, weight_decay=wd)
        for _ in range(steps):
            opt.zero_grad()
            ((x @ p - y) ** 2).mean().backward()
            opt.step()
        res[name] = float((p.detach() - w).abs().max())
    return res


# -------------------------------------------------------------------------------------- 04-11
def early_stopping_run(dropout_forward: Callable, dropout_backward: Callable, EarlyStopping, seed: int,
                       epochs: int = 100, patience: int = 5, device=None) -> dict:
    """The noisy-label digits (no dropout), Adam 1e-3, batches of 50, ``epochs`` epochs: the validation
    loss per epoch, then the same run with the student's ``EarlyStopping(patience)`` stopping it and the
    weights of its best epoch restored."""
    from ..train import train as run_training

    data = noisy_digits(seed, device=device)
    x, y, xv, yv = data
    res = {}
    for name in ("full", "stopped"):
        model = dropout_mlp(dropout_forward, dropout_backward, 0.0, seed=seed, device=device)
        stopper = EarlyStopping(patience=patience) if name == "stopped" else None
        keep = _KeepBest(stopper)
        hist = run_training(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-3), (x, y), (xv, yv),
                       epochs=epochs, batch_size=50, early_stopping=stopper, quiet=True, device=device,
                       generator=_gen(seed + 1), callbacks=[keep], train_acc_samples=0)
        res[name] = {"val_loss": list(hist.val_loss), "train_loss": list(hist.train_loss),
                     "epochs_run": hist.epochs_run}
        if stopper is not None:
            model.load_state_dict(keep.state)
            res[name]["best_epoch"] = stopper.best_epoch
            res[name]["restored_val_loss"] = _losses(model, x, y, xv, yv)[1]
    full = res["full"]["val_loss"]
    res["min_val_loss"] = min(full)
    res["best_epoch_full"] = full.index(min(full))
    res["final_minus_best"] = full[-1] - min(full)
    return res


class _KeepBest:
    """A callback: a copy of the weights at the stopper's best epoch (the weights to restore)."""

    order = 20  # after EarlyStop (order 10) has called stopper.step for the epoch

    def __init__(self, stopper):
        self.stopper, self.state = stopper, None

    def on_epoch_end(self, state) -> None:
        if self.stopper is not None and self.stopper.best_epoch == state.epoch:
            self.state = {k: v.detach().clone() for k, v in state.model.state_dict().items()}
