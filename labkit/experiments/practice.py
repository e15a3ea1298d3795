"""The experiments of notebook 08 (training in practice), with the thresholds of their checked claims.

Each function takes the student's functions where the experiment uses one (or stand-ins: the
references in the tests) and a seed, and returns the measured numbers; the notebook plots them and
states the claims, ``tests/claims/test_claims_08.py`` asserts the same thresholds (the constants
below) on 20 seeds. Every network here is small and trained full-batch or with a few hundred steps
on the digits (``labkit.data.load_digits``), so each experiment takes well under a second on a CPU.

Example
-------
>>> r = initial_loss(seed=0)
>>> abs(r["ce_small"] - math.log(10)) < 0.01
True
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn
import torch.nn.functional as F

from ..data import load_digits
from ..monitor import ActivationStats

__all__ = ["THRESHOLDS", "digits", "mlp", "initial_loss", "overfit_tiny", "update_ratios", "batch_wiggle",
           "train_val_gap", "dropout_train_above_val", "activation_health", "log_scale_draws", "random_vs_grid",
           "border_search", "coarse_to_fine", "ensemble_gain", "ema_gain", "loss_accuracy_disagree",
           "roc_experiment", "test_set_optimism", "feature_scaling", "normalise_with_train_stats",
           "nan_from_a_bug", "regularisation_raises_loss"]

# Every asserted threshold, in one place (SEED_CLAIMS.md, section 08; brackets there are the 20-seed ranges).
THRESHOLDS = {
    "init_ce_small": 0.01,  # 08-01 |CE - ln 10| with weights N(0, 1e-3^2): at most
    "init_hinge_small": 0.01,  # 08-01 |hinge - 9|: at most
    "init_ce_default": 0.15,  # 08-01 |CE - ln 10| with torch's default init: at most
    "tiny_loss": 1e-3,  # 08-03 training loss on 20 examples after 200 Adam steps: at most
    "random_features_val": 0.3,  # 08-04 val accuracy of a net that memorised random inputs: at most
    "ratio_slope": (0.7, 1.1),  # 08-05 log-log slope of the update ratio against lr
    "ratio_low_lr": (3e-5, 3e-4),  # 08-05 the ratio at lr 1e-3
    "low_lr_val": 0.5,  # 08-05 val accuracy at lr 1e-3: below
    "wiggle_small_vs_large": 1.5,  # 08-06 std of the loss change, B=8 over B=64: at least
    "wiggle_large_vs_full": 10.0,  # 08-06 B=64 over full batch: at least
    "overfit_gap": 0.04,  # 08-07 train - val accuracy of the big net on 100 examples: at least
    "underfit_gap": 0.05,  # 08-07 |gap| of the strongly regularised linear model: at most
    "underfit_train": 0.9,  # 08-07 its training accuracy: below
    "dropout_train_above_val": 0.05,  # 08-08 last-epoch train loss (dropout on) - val loss: at least
    "saturated_big_std": 0.6,  # 08-09 fraction of layer-10 tanh outputs beyond 0.99 with std 1: at least
    "collapsed_small_std": 1e-6,  # 08-09 layer-10 std with init std 0.01: below
    "decade_share": (0.11, 0.18),  # 08-11 share of each decade of 7000 log-uniform draws
    "uniform_top_decade": 0.85,  # 08-11 share of uniform draws in the top decade: at least
    "random_beats_grid": 0.65,  # 08-12 fraction of repetitions where random search finds the better value
    "border_u": 0.9,  # 08-13 the best sample's log-position: at least
    "staged_wins": 0.6,  # 08-14 coarse-to-fine beats one wide search: fraction, at least
    "ensemble_gain": 0.0,  # 08-15 ensemble val accuracy - mean member accuracy: at least
    "ema_loss_gain": 0.0,  # 08-16 val loss(raw) - val loss(EMA): above
    "auc_pairs": 1e-12,  # 08-18 |trapezoid AUC - pairwise fraction|: at most
    "noise_auc": 0.12,  # 08-18 |AUC of pure-noise scores - 0.5|: below
    "optimism": 0.03,  # 08-19 best test score - true accuracy: at least
    "scaling_ratio": 1.2,  # 08-20 best loss with badly scaled features / standardised: at least
    "wrong_stats_drop": 0.05,  # 08-21 val accuracy, train statistics - raw val pixels: at least
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def digits(seed: int = 0, device=None, standardize: bool = True):
    """The digits as flat (N, 64) splits (train 1257, val 270, test 270) on ``device``."""
    return load_digits(seed=seed, flatten=True, standardize=standardize, device=device)


def mlp(widths, seed: int, act=nn.ReLU, device=None, dropout: float = 0.0) -> nn.Sequential:
    """An MLP with the given layer widths (64, ..., 10), torch's default init seeded by ``seed``."""
    torch.manual_seed(int(seed))  # nn.Linear draws from the global generator
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(act())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers).to(device or "cpu")


def _accuracy(model, x, y) -> float:
    with torch.no_grad():
        model.eval()
        acc = float((model(x).argmax(1) == y).float().mean())
        model.train()
        return acc


def _fit(model, x, y, steps: int, lr: float, opt: str = "adam", batch: int | None = None, seed: int = 0,
         weight_decay: float = 0.0, l2: float = 0.0, record: bool = False):
    """Train with cross-entropy (full batch when ``batch`` is None); the losses of every step when ``record``."""
    params = list(model.parameters())
    o = (torch.optim.Adam(params, lr=lr, weight_decay=weight_decay) if opt == "adam"
         else torch.optim.SGD(params, lr=lr, weight_decay=weight_decay))
    g = _gen(seed)
    losses = []
    for _ in range(steps):
        if batch is None:
            xb, yb = x, y
        else:
            idx = torch.randint(len(x), (batch,), generator=g).to(x.device)
            xb, yb = x[idx], y[idx]
        loss = F.cross_entropy(model(xb), yb)
        if l2:
            loss = loss + l2 * sum((p ** 2).sum() for n, p in model.named_parameters() if n.endswith("weight"))
        o.zero_grad()
        loss.backward()
        o.step()
        if record:
            losses.append(loss.item())
    return losses


# ----------------------------------------------------------------------------- 08-01
def initial_loss(seed: int, device=None) -> dict:
    """The loss of an untrained MLP 64-64-10 on the digits: cross-entropy and multiclass hinge with weights
    N(0, 1e-3^2), and cross-entropy with torch's default init."""
    d = digits(seed, device)
    net = mlp([64, 64, 10], seed, device=device)
    with torch.no_grad():
        ce_default = float(F.cross_entropy(net(d.train.x), d.train.y))
        g = _gen(seed)
        for p in net.parameters():
            p.copy_(1e-3 * torch.randn(p.shape, generator=g).to(p))
        s = net(d.train.x)
        ce_small = float(F.cross_entropy(s, d.train.y))
        hinge = float(F.multi_margin_loss(s, d.train.y, reduction="mean") * s.shape[1])  # torch divides by C
    return {"ce_small": ce_small, "hinge_small": hinge, "ce_default": ce_default}


# ----------------------------------------------------------------------------- 08-02
def regularisation_raises_loss(seed: int, lams=(0.0, 1e-3, 1e-2, 1e-1), steps: int = 200, device=None) -> dict:
    """MLP 64-64-10 trained full-batch (Adam 1e-2) with an L2 penalty of strength lam on the weights: the
    total loss at init and the final data loss for each lam."""
    d = digits(seed, device)
    init_total, final_data = [], []
    for lam in lams:
        net = mlp([64, 64, 10], seed, device=device)
        with torch.no_grad():
            pen = sum((p ** 2).sum() for n, p in net.named_parameters() if n.endswith("weight"))
            init_total.append(float(F.cross_entropy(net(d.train.x), d.train.y) + lam * pen))
        _fit(net, d.train.x, d.train.y, steps, 1e-2, l2=lam)
        with torch.no_grad():
            final_data.append(float(F.cross_entropy(net(d.train.x), d.train.y)))
    return {"lams": list(lams), "init_total": init_total, "final_data": final_data}


# ----------------------------------------------------------------------------- 08-03, 08-04
def overfit_tiny(seed: int, n: int = 20, steps: int = 200, device=None) -> dict:
    """MLP 64-128-10 on ``n`` training digits (Adam 1e-2, full batch): its training accuracy and loss, the
    same with random N(0, 1) inputs in place of the images (and that model's val accuracy), and a broken
    loop (learning rate 0)."""
    d = digits(seed, device)
    x, y = d.train.x[:n], d.train.y[:n]
    out = {}
    net = mlp([64, 128, 10], seed, device=device)
    out["losses"] = _fit(net, x, y, steps, 1e-2, record=True)
    out["train_acc"], out["loss"] = _accuracy(net, x, y), out["losses"][-1]
    xr = torch.randn(x.shape, generator=_gen(seed + 1)).to(x)
    rnd = mlp([64, 128, 10], seed, device=device)
    out["random_losses"] = _fit(rnd, xr, y, steps, 1e-2, record=True)
    out["random_train_acc"] = _accuracy(rnd, xr, y)
    out["random_val_acc"] = _accuracy(rnd, d.val.x, d.val.y)
    broken = mlp([64, 128, 10], seed, device=device)
    out["broken_losses"] = _fit(broken, x, y, steps, 0.0, record=True)
    out["broken_train_acc"] = _accuracy(broken, x, y)
    return out


# ----------------------------------------------------------------------------- 08-05
def update_ratios(update_to_weight_ratio: Callable, seed: int, lrs=(1e-3, 1e-2, 1e-1), steps: int = 100,
                  device=None) -> dict:
    """MLP 64-128-10, SGD with batches of 64 for each learning rate: the first layer's update-to-weight
    ratio at every step (the student's function), its median over steps 50-100, the log-log slope of the
    medians against lr and the final val accuracy."""
    d = digits(seed, device)
    out = {"lrs": list(lrs), "ratios": [], "median": [], "val_acc": []}
    for lr in lrs:
        net = mlp([64, 128, 10], seed, device=device)
        opt = torch.optim.SGD(net.parameters(), lr=lr)
        g = _gen(seed)
        w = net[0].weight
        rs = []
        for _ in range(steps):
            idx = torch.randint(len(d.train.x), (64,), generator=g).to(d.train.x.device)
            loss = F.cross_entropy(net(d.train.x[idx]), d.train.y[idx])
            opt.zero_grad()
            loss.backward()
            before = w.detach().clone()
            opt.step()
            rs.append(float(update_to_weight_ratio(before, w.detach().clone())))
        out["ratios"].append(rs)
        out["median"].append(float(torch.tensor(rs[steps // 2:]).median()))
        out["val_acc"].append(_accuracy(net, d.val.x, d.val.y))
    lx = torch.log10(torch.tensor(out["lrs"], dtype=torch.float64))
    ly = torch.log10(torch.tensor(out["median"], dtype=torch.float64))
    lx, ly = lx - lx.mean(), ly - ly.mean()
    out["slope"] = float((lx * ly).sum() / (lx * lx).sum())
    return out


# ----------------------------------------------------------------------------- 08-06
def batch_wiggle(seed: int, steps: int = 200, lr: float = 0.05, device=None) -> dict:
    """Softmax regression on the digits, SGD lr 0.05 with batches of 8, 64 and the full set: the training
    loss (on the whole set) at every step and the std of its step-to-step change over steps 100-200."""
    d = digits(seed, device)
    out = {}
    for name, b in (("B=8", 8), ("B=64", 64), ("full", None)):
        torch.manual_seed(seed)
        model = nn.Linear(64, 10).to(d.train.x.device)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        g = _gen(seed)
        curve = []
        for _ in range(steps):
            if b is None:
                xb, yb = d.train.x, d.train.y
            else:
                idx = torch.randint(len(d.train.x), (b,), generator=g).to(d.train.x.device)
                xb, yb = d.train.x[idx], d.train.y[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                curve.append(float(F.cross_entropy(model(d.train.x), d.train.y)) if b is None else loss.item())
        c = torch.tensor(curve[steps // 2:], dtype=torch.float64)
        out[name] = {"curve": curve, "wiggle": float(c.diff().std()), "rises": int((c.diff() > 0).sum())}
    return out


# ----------------------------------------------------------------------------- 08-07
def train_val_gap(seed: int, device=None) -> dict:
    """An over-fitting run (MLP 64-256-10 on 100 digits, Adam 3e-3, 200 full-batch steps) against an
    under-fitting one (linear model with L2 strength 1 on all 1257): train and val accuracy after every
    10 steps."""
    d = digits(seed, device)
    out = {}
    for name, model, x, y, l2 in (("overfit", mlp([64, 256, 10], seed, device=device), d.train.x[:100],
                                   d.train.y[:100], 0.0),
                                  ("underfit", mlp([64, 10], seed, device=device), d.train.x, d.train.y, 1.0)):
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        tr, va = [], []
        for step in range(200):
            loss = F.cross_entropy(model(x), y)
            if l2:
                loss = loss + l2 * sum((p ** 2).sum() for n, p in model.named_parameters() if n.endswith("weight"))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 10 == 9:
                tr.append(_accuracy(model, x, y))
                va.append(_accuracy(model, d.val.x, d.val.y))
        out[name] = {"train_acc": tr, "val_acc": va, "gap": tr[-1] - va[-1]}
    return out


# ----------------------------------------------------------------------------- 08-08
def dropout_train_above_val(seed: int, epochs: int = 5, device=None) -> dict:
    """MLP 64-128-Dropout(0.5)-10, Adam 1e-3, batches of 64 for 5 epochs: the mean training loss of the
    last epoch (train mode, as a training loop reports it) against the validation loss (eval mode)."""
    d = digits(seed, device)
    net = mlp([64, 128, 10], seed, device=device, dropout=0.5)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    g = _gen(seed)
    for _ in range(epochs):
        perm = torch.randperm(len(d.train.x), generator=g).to(d.train.x.device)
        losses = []
        for i in range(0, len(perm), 64):
            idx = perm[i:i + 64]
            loss = F.cross_entropy(net(d.train.x[idx]), d.train.y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    net.eval()
    with torch.no_grad():
        val = float(F.cross_entropy(net(d.val.x), d.val.y))
    return {"train_loss": sum(losses) / len(losses), "val_loss": val}


# ----------------------------------------------------------------------------- 08-09
def activation_health(seed: int, depth: int = 10, width: int = 256, n: int = 500) -> dict:
    """A 10-layer tanh net of width 256 on N(0, 1) inputs, initialised with std 1, std 0.01 and Xavier:
    ``labkit.monitor.ActivationStats`` of every tanh layer (summary and samples)."""
    g = _gen(seed)
    x = torch.randn(n, width, generator=g)
    out = {}
    for name in ("std 1", "std 0.01", "xavier"):
        layers = []
        for _ in range(depth):
            lin = nn.Linear(width, width, bias=False)
            with torch.no_grad():
                std = {"std 1": 1.0, "std 0.01": 0.01, "xavier": math.sqrt(1.0 / width)}[name]
                lin.weight.copy_(std * torch.randn(width, width, generator=g))
            layers += [lin, nn.Tanh()]
        net = nn.Sequential(*layers)
        with torch.no_grad(), ActivationStats(net) as acts:
            net(x)
        summary = acts.summary()
        names = [k for k in summary]
        out[name] = {"names": names, "summary": summary, "samples": {k: acts.samples[k] for k in names}}
    return out


# ----------------------------------------------------------------------------- 08-11
def log_scale_draws(log_uniform: Callable, seed: int, n: int = 7000) -> dict:
    """7000 draws of the student's ``log_uniform(1e-6, 10)`` and 7000 uniform draws on [1e-6, 10]: the share
    of each of the 7 decades."""
    g = _gen(seed)
    lu = torch.as_tensor(log_uniform(1e-6, 10.0, n, generator=g)).double().cpu()
    un = 1e-6 + (10 - 1e-6) * torch.rand(n, generator=g, dtype=torch.float64)
    edges = [10.0 ** k for k in range(-6, 2)]

    def shares(v):
        return [float(((v >= a) & (v < b if b < 10 else v <= b)).double().mean()) for a, b in zip(edges, edges[1:])]
    return {"decades": [f"1e{k}" for k in range(-6, 1)], "log": shares(lu), "uniform": shares(un)}


# ----------------------------------------------------------------------------- 08-12
def random_vs_grid(random_search: Callable, seed: int, reps: int = 200, side: int = 3) -> dict:
    """Objective -(a - a*)^2 with a* ~ U(0, 1) and an irrelevant b: a side x side grid against side^2 trials
    of the student's ``random_search`` on the same budget, ``reps`` times; how often random is closer."""
    g = _gen(seed)
    space = {"a": ("uniform", 0.0, 1.0), "b": ("uniform", 0.0, 1.0)}
    grid = [i / (side - 1) for i in range(side)]  # a grid spans its range, ends included (np.linspace)
    wins = ties = 0
    for _ in range(reps):
        target = float(torch.rand((), generator=g))
        best_grid = max(-(a - target) ** 2 for a in grid)
        results = random_search(lambda p, t=target: -(p["a"] - t) ** 2, space, side * side, generator=g)
        best_random = results[0][1]
        wins += best_random > best_grid
        ties += best_random == best_grid
    return {"random_wins": wins / reps, "ties": ties / reps, "distinct_grid": side, "distinct_random": side * side}


# ----------------------------------------------------------------------------- 08-13
def _peaked(lr: float, g: torch.Generator, peak: float = 0.3) -> float:
    return -(math.log10(lr) - math.log10(peak)) ** 2 + 0.01 * float(torch.randn((), generator=g))


def border_search(random_search: Callable, on_border: Callable, seed: int, n: int = 60) -> dict:
    """An objective peaked at lr = 0.3, searched with 60 trials in [1e-6, 1e-2] (the best lands on the border)
    and again in [1e-3, 10]."""
    g = _gen(seed)
    out = {}
    for name, lo, hi in (("first", 1e-6, 1e-2), ("moved", 1e-3, 10.0)):
        res = random_search(lambda p: _peaked(p["lr"], g), {"lr": ("log", lo, hi)}, n, generator=g)
        best = res[0][0]["lr"]
        u = (math.log10(best) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
        out[name] = {"best": best, "score": res[0][1], "u": u, "border": bool(on_border(best, lo, hi)),
                     "lrs": [p["lr"] for p, _ in res], "scores": [s for _, s in res], "range": (lo, hi)}
    return out


# ----------------------------------------------------------------------------- 08-14
def coarse_to_fine(random_search: Callable, seed: int, reps: int = 100) -> dict:
    """A peak of width 0.15 decades at a random log-lr in [-5, 0]: 20 wide trials in [1e-6, 10] then 20
    within half a decade of the best, against 40 wide trials; how often the staged search ends higher."""
    g = _gen(seed)
    wins = 0
    for _ in range(reps):
        c = -5 + 5 * float(torch.rand((), generator=g))

        def f(p, c=c):
            return math.exp(-((math.log10(p["lr"]) - c) / 0.15) ** 2)
        wide = random_search(f, {"lr": ("log", 1e-6, 10.0)}, 40, generator=g)[0][1]
        first = random_search(f, {"lr": ("log", 1e-6, 10.0)}, 20, generator=g)[0]
        b = math.log10(first[0]["lr"])
        fine = random_search(f, {"lr": ("log", 10 ** (b - 0.5), 10 ** (b + 0.5))}, 20, generator=g)[0][1]
        wins += max(first[1], fine) > wide
    return {"staged_wins": wins / reps}


# ----------------------------------------------------------------------------- 08-15
def ensemble_gain(ensemble_predict: Callable, seed: int, members: int = 5, n: int = 300, steps: int = 150,
                  device=None) -> dict:
    """Five MLPs 64-128-10, each on a bootstrap sample of 300 digits (Adam 3e-3, full batch): val accuracy
    and NLL of each member and of the ensemble (the student's ``ensemble_predict``), and the NLL of the
    ensemble of the first k members."""
    d = digits(seed, device)
    g = _gen(seed)
    probs, accs, nlls = [], [], []
    for m in range(members):
        idx = torch.randint(n, (n,), generator=g).to(d.train.x.device)
        net = mlp([64, 128, 10], seed * 100 + m, device=device)
        _fit(net, d.train.x[:n][idx], d.train.y[:n][idx], steps, 3e-3)
        net.eval()
        with torch.no_grad():
            p = torch.softmax(net(d.val.x), 1)
        probs.append(p)
        accs.append(float((p.argmax(1) == d.val.y).float().mean()))
        nlls.append(float(F.nll_loss(p.log(), d.val.y)))
    ens = ensemble_predict(probs)
    k_nll = [float(F.nll_loss(ensemble_predict(probs[:k]).clamp_min(1e-12).log(), d.val.y))
             for k in range(1, members + 1)]
    return {"member_acc": accs, "member_nll": nlls, "ensemble_acc": float((ens.argmax(1) == d.val.y).float().mean()),
            "ensemble_nll": float(F.nll_loss(ens.clamp_min(1e-12).log(), d.val.y)), "k_nll": k_nll}


# ----------------------------------------------------------------------------- 08-16
def ema_gain(ema_update: Callable, seed: int, steps: int = 1000, lr: float = 1.0, batch: int = 8,
             decay: float = 0.99, device=None) -> dict:
    """Softmax regression on the digits, SGD lr 1.0 with batches of 8 for 1000 steps, with the student's
    ``ema_update`` (decay 0.99) after every step: val loss and accuracy of the last iterate and of the
    average, every 50 steps."""
    d = digits(seed, device)
    torch.manual_seed(seed)
    model = nn.Linear(64, 10).to(d.train.x.device)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    ema = [p.detach().clone() for p in model.parameters()]
    g = _gen(seed)
    hist = {"step": [], "raw_loss": [], "ema_loss": []}

    def val(ws):
        with torch.no_grad():
            s = d.val.x @ ws[0].T + ws[1]
            return float(F.cross_entropy(s, d.val.y)), float((s.argmax(1) == d.val.y).float().mean())
    for t in range(steps):
        idx = torch.randint(len(d.train.x), (batch,), generator=g).to(d.train.x.device)
        loss = F.cross_entropy(model(d.train.x[idx]), d.train.y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        ema = [e.detach() for e in ema_update(ema, [p.detach() for p in model.parameters()], decay)]
        if t % 50 == 49:
            hist["step"].append(t + 1)
            hist["raw_loss"].append(val([p.detach() for p in model.parameters()])[0])
            hist["ema_loss"].append(val(ema)[0])
    raw, ema_v = val([p.detach() for p in model.parameters()]), val(ema)
    return {**hist, "raw": raw, "ema": ema_v, "loss_gain": raw[0] - ema_v[0]}


# ----------------------------------------------------------------------------- 08-17
def loss_accuracy_disagree() -> dict:
    """Two 3-class models on 4 examples of class 0: A is more often wrong but never badly, B is right more
    often and very wrong once. Their accuracy and cross-entropy."""
    a = torch.tensor([[0.45, 0.35, 0.2], [0.45, 0.35, 0.2], [0.3, 0.4, 0.3], [0.3, 0.4, 0.3]])
    b = torch.tensor([[0.4, 0.3, 0.3], [0.4, 0.3, 0.3], [0.4, 0.3, 0.3], [0.001, 0.998, 0.001]])
    y = torch.zeros(4, dtype=torch.long)

    def both(p):
        return float((p.argmax(1) == y).float().mean()), float(F.nll_loss(p.log(), y))
    return {"A": both(a), "B": both(b)}


# ----------------------------------------------------------------------------- 08-18
def roc_experiment(roc_auc: Callable, precision_recall: Callable, seed: int, n: int = 300) -> dict:
    """300 labels, scores N(0, 1) + y: the threshold sweep (precision, recall, FPR at every threshold, with
    the student's ``precision_recall``), its trapezoid area, the pairwise fraction, the student's
    ``roc_auc``, and ``roc_auc`` of pure-noise scores."""
    g = _gen(seed)
    y = (torch.rand(n, generator=g) < 0.5).long()
    s = torch.randn(n, generator=g, dtype=torch.float64) + y
    ths = torch.cat([torch.tensor([math.inf], dtype=torch.float64), torch.sort(s, descending=True).values])
    tpr, fpr, prec = [], [], []
    for t in ths.tolist():
        pred = (s >= t).long()
        p, r = precision_recall(y, pred)
        tpr.append(r)
        prec.append(p)
        fpr.append(float(((pred == 1) & (y == 0)).sum()) / float((y == 0).sum()))
    trap = float(torch.trapezoid(torch.tensor(tpr, dtype=torch.float64), torch.tensor(fpr, dtype=torch.float64)))
    pos, neg = s[y == 1], s[y == 0]
    pairs = float(((pos[:, None] > neg[None, :]).double() + 0.5 * (pos[:, None] == neg[None, :]).double()).mean())
    noise = float(roc_auc(y, torch.randn(n, generator=g, dtype=torch.float64)))
    return {"fpr": fpr, "tpr": tpr, "precision": prec, "thresholds": ths.tolist(), "trapezoid": trap, "pairs": pairs,
            "auc": float(roc_auc(y, s)), "noise_auc": noise,
            "recall_monotone": all(a <= b + 1e-15 for a, b in zip(tpr, tpr[1:]))}


# ----------------------------------------------------------------------------- 08-19
def test_set_optimism(seed: int, configs: int = 50, n_test: int = 100, true_acc: float = 0.8) -> dict:
    """50 configurations of true accuracy 0.8 scored on a test set of 100: the best observed score."""
    g = _gen(seed)
    scores = (torch.rand(configs, n_test, generator=g) < true_acc).double().mean(1)
    return {"scores": scores.tolist(), "best": float(scores.max()), "true": true_acc}


# ----------------------------------------------------------------------------- 08-20
def feature_scaling(seed: int, steps: int = 100, lrs=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0),
                    device=None) -> dict:
    """Softmax regression by full-batch gradient descent on standardised digits, and on the same with pixel
    column j multiplied by 10^U(-1, 1): the best final training loss over 10 learning rates, and the loss
    curve at each one's best rate."""
    d = digits(seed, device)
    g = _gen(seed)
    scale = (10 ** (2 * torch.rand(64, generator=g) - 1)).to(d.train.x)
    x_std = d.train.x
    sets = {"standardised": x_std, "badly scaled": x_std * scale}
    out = {}
    for name, x in sets.items():
        best = (math.inf, None, None)
        for lr in lrs:
            torch.manual_seed(seed)
            model = nn.Linear(64, 10).to(x.device)
            curve = _fit(model, x, d.train.y, steps, lr, opt="sgd", record=True)
            final = curve[-1] if math.isfinite(curve[-1]) else math.inf
            if final < best[0]:
                best = (final, lr, curve)
        out[name] = {"loss": best[0], "lr": best[1], "curve": best[2]}
    out["ratio"] = out["badly scaled"]["loss"] / out["standardised"]["loss"]
    return out


# ----------------------------------------------------------------------------- 08-21
def normalise_with_train_stats(seed: int, steps: int = 200, device=None) -> dict:
    """MLP 64-64-10 trained on per-pixel standardised raw digits (Adam 1e-2, full batch): val accuracy with
    the training mean and std applied, and on raw val pixels."""
    d = digits(seed, device, standardize=False)
    mu, sd = d.train.x.mean(0), d.train.x.std(0) + 1e-6
    net = mlp([64, 64, 10], seed, device=device)
    _fit(net, (d.train.x - mu) / sd, d.train.y, steps, 1e-2)
    return {"train_stats": _accuracy(net, (d.val.x - mu) / sd, d.val.y), "raw": _accuracy(net, d.val.x, d.val.y)}


# ----------------------------------------------------------------------------- 08-22
def nan_from_a_bug() -> dict:
    """A NaN gradient from sqrt at 0 times a zero mask, what ``torch.autograd.detect_anomaly`` says about
    it, and -log(softmax) against the logits form for logits (1000, 0)."""
    x = torch.zeros(1, requires_grad=True)
    (torch.sqrt(x) * torch.zeros(1)).sum().backward()
    grad_nan = bool(torch.isnan(x.grad).any())
    message = ""
    x2 = torch.zeros(1, requires_grad=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.autograd.detect_anomaly():
                (torch.sqrt(x2) * torch.zeros(1)).sum().backward()
        except RuntimeError as exc:
            message = str(exc)
    logits = torch.tensor([[1000.0, 0.0]])
    naive = float(-torch.log(torch.softmax(logits, 1)[0, 1]))
    stable = float(F.cross_entropy(logits, torch.tensor([1])))
    return {"grad_nan": grad_nan, "anomaly_message": message, "naive": naive, "stable": stable}
