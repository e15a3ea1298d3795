"""The experiments of notebook 03 (batch normalisation) whose claims are checked on 20 seeds.

Each function takes the student's functions (``batchnorm_forward``, ``layernorm_forward``) where the
experiment is about them, a ``seed`` and a ``device``, and returns the numbers its claim judges. The
thresholds live in ``THRESHOLDS``: the notebook quotes them and ``tests/claims/test_claims_03.py``
asserts them on 20 seeds (with the references standing in for the student's functions).

Example
-------
>>> from labkit.reference import batchnorm_forward
>>> mean_err, var_err = bn_output_stats(batchnorm_forward, seed=0, scale=1e3)
>>> mean_err < THRESHOLDS["bn_mean"] and var_err < THRESHOLDS["bn_var"]
True
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

__all__ = ["THRESHOLDS", "bn_output_stats", "identity_recovery", "affine_stats", "running_stats", "eval_is_affine",
           "forgotten_eval", "batch_mean_noise", "batch_dependence", "init_robustness", "tanh_saturation",
           "whitening", "dropout_variance_shift", "make_mlp"]

THRESHOLDS = {
    "bn_mean": 1e-5, "bn_var": 1e-4,                      # 03-01: per-feature |mean| and |var - 1| after BN
    "identity": 1e-5,                                      # 03-02: max |y - x| with gamma = sqrt(var + eps), beta = mu
    "affine_mean": 1e-5, "affine_std": 1e-4,               # 03-03: |mean - beta| and |std / gamma - 1|
    "tiny_std_low": 0.5, "tiny_std_high": 0.9,             # 03-03: std / gamma when the variance is about eps
    "running_mean": 0.15, "running_var": 0.1,             # 03-04: mean |running_mean - 3|, mean |running_var / 4 - 1|
    "torch_match": 1e-5,                                   # 03-04: against nn.BatchNorm1d's buffers (float32)
    "folded": 1e-5, "train_change": 0.3,                   # 03-05
    "eval_acc": 0.9, "random64_gap": 0.05, "sorted16_drop": 0.5, "batch2_drop": 0.25,   # 03-06
    "noise_ratio": (3.5, 4.5), "ln_change": 0.0, "bn_change": 0.3,                      # 03-07
    "bn_init_acc": 0.85, "plain_bad_acc": 0.3,            # 03-08
    "raw_saturated": 0.5, "bn_saturated": 0.05,            # 03-09
    "whitened": 1e-6, "corr_kept": 1e-12,                  # 03-10
    "dropout_var_ratio": 1.5,                              # 03-11
}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(seed))


def bn_output_stats(batchnorm_forward: Callable, seed: int, scale: float, device="cpu") -> tuple[float, float]:
    """03-01: x = scale·(7 + 5·N(0, 1)), 256×10 float32, gamma = 1, beta = 0, train mode.
    Returns (max over features of |mean|, max over features of |biased var - 1|) of the output."""
    x = (scale * (7 + 5 * torch.randn(256, 10, generator=_gen(seed)))).to(device)
    out, _ = batchnorm_forward(x, torch.ones(10, device=device), torch.zeros(10, device=device), {"mode": "train"})
    out = out.double()
    return float(out.mean(0).abs().max()), float((out.var(0, unbiased=False) - 1).abs().max())


def identity_recovery(batchnorm_forward: Callable, seed: int, device="cpu") -> float:
    """03-02: with gamma = sqrt(var + eps) and beta = mu of the batch, max |BN(x) - x| (float32)."""
    x = (3 + 2 * torch.randn(128, 6, generator=_gen(seed))).to(device)
    mu, var = x.mean(0), x.var(0, unbiased=False)
    out, _ = batchnorm_forward(x, torch.sqrt(var + 1e-5), mu, {"mode": "train", "eps": 1e-5})
    return float((out - x).abs().max())


def affine_stats(batchnorm_forward: Callable, seed: int, scale: float, device="cpu") -> tuple[float, float]:
    """03-03: random gamma in [0.5, 1.5] and beta; x = scale·(7 + 5·N(0, 1)) (float64).
    Returns (max |mean(out) - beta|, max |std(out) / gamma - 1|), std the biased one."""
    g = _gen(seed)
    x = (scale * (7 + 5 * torch.randn(256, 10, generator=g, dtype=torch.float64))).to(device)
    gamma = (0.5 + torch.rand(10, generator=g, dtype=torch.float64)).to(device)
    beta = torch.randn(10, generator=g, dtype=torch.float64).to(device)
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    return float((out.mean(0) - beta).abs().max()), float((out.std(0, unbiased=False) / gamma - 1).abs().max())


def running_stats(batchnorm_forward: Callable, seed: int, steps: int = 100, batch: int = 32, features: int = 20,
                  device="cpu") -> dict:
    """03-04: ``steps`` train-mode batches from N(3, 2²); the student's running statistics next to
    ``nn.BatchNorm1d``'s buffers. Returns the histories (one row per step) and the summaries."""
    g = _gen(seed)
    bn_param = {"mode": "train"}
    module = nn.BatchNorm1d(features).to(device)
    ones, zeros = torch.ones(features, device=device), torch.zeros(features, device=device)
    means, variances, gap = [], [], 0.0
    with torch.no_grad():
        for _ in range(steps):
            x = (3 + 2 * torch.randn(batch, features, generator=g)).to(device)
            batchnorm_forward(x, ones, zeros, bn_param)
            module(x)
            means.append(bn_param["running_mean"].double().cpu())
            variances.append(bn_param["running_var"].double().cpu())
            gap = max(gap, float((bn_param["running_mean"] - module.running_mean).abs().max()),
                      float((bn_param["running_var"] - module.running_var).abs().max()))
    rm, rv = means[-1], variances[-1]
    return {"means": torch.stack(means), "vars": torch.stack(variances), "torch_gap": gap,
            "mean_error": float((rm - 3).abs().mean()), "var_error": float((rv / 4 - 1).abs().mean())}


def eval_is_affine(batchnorm_forward: Callable, seed: int, device="cpu") -> tuple[float, float, float]:
    """03-05: (max |eval output - folded affine map|, change of row 0's train-mode output when rows 1-15
    of a 16-row batch are replaced, the same change in eval mode), float64."""
    g = _gen(seed)
    d = 8
    gamma = (1 + 0.5 * torch.randn(d, generator=g, dtype=torch.float64)).to(device)
    beta = torch.randn(d, generator=g, dtype=torch.float64).to(device)
    rm = torch.randn(d, generator=g, dtype=torch.float64).to(device)
    rv = (0.5 + torch.rand(d, generator=g, dtype=torch.float64)).to(device)
    x = torch.randn(16, d, generator=g, dtype=torch.float64).to(device)
    other = x.clone()
    other[1:] = 3 * torch.randn(15, d, generator=g, dtype=torch.float64).to(device) + 1
    evaluate = {"mode": "eval", "running_mean": rm, "running_var": rv}
    out, _ = batchnorm_forward(x, gamma, beta, dict(evaluate))
    scale = gamma / torch.sqrt(rv + 1e-5)
    folded = x * scale + (beta - rm * scale)
    train_a, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    train_b, _ = batchnorm_forward(other, gamma, beta, {"mode": "train"})
    eval_b, _ = batchnorm_forward(other, gamma, beta, dict(evaluate))
    return (float((out - folded).abs().max()), float((train_a[0] - train_b[0]).abs().max()),
            float((out[0] - eval_b[0]).abs().max()))


def make_mlp(widths: list[int], batchnorm: bool, init_std: float | None = None, seed: int = 0) -> nn.Sequential:
    """Linear layers of ``widths`` with ReLU between (BatchNorm1d before each ReLU when ``batchnorm``);
    weights N(0, init_std²) and zero biases when ``init_std`` is given, PyTorch's default otherwise."""
    layers: list[nn.Module] = []
    with torch.random.fork_rng(devices=[]):  # seeded, and the caller's global RNG left as it was
        torch.manual_seed(seed)
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if init_std is not None:
                nn.init.normal_(layers[-1].weight, 0.0, init_std)
                nn.init.zeros_(layers[-1].bias)
            if i < len(widths) - 2:
                layers += ([nn.BatchNorm1d(b)] if batchnorm else []) + [nn.ReLU()]
    return nn.Sequential(*layers)


def _train(model, x, y, steps, batch, opt, seed):
    g = _gen(seed + 1000)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(x), (batch,), generator=g).to(x.device)
        loss = loss_fn(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()


def _accuracy(model, x, y) -> float:
    with torch.no_grad():
        out = model(x)
    if not torch.isfinite(out).all():
        return float((y == 0).float().mean())  # NaN scores: argmax is meaningless, count it as class 0
    return float((out.argmax(1) == y).float().mean())


def _batched_accuracy(model, x, y, order, batch) -> float:
    correct = 0
    with torch.no_grad():
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            if len(idx) < 2:
                continue
            correct += int((model(x[idx]).argmax(1) == y[idx]).sum())
    return correct / len(order)


def forgotten_eval(seed: int, steps: int = 300, device="cpu") -> dict:
    """03-06: MLP 64-128-BN-ReLU-128-BN-ReLU-10 on the digits (Adam 1e-2, batches of 64); validation
    accuracy in eval mode and in train mode (batch statistics) with three kinds of batches."""
    from ..data import load_digits

    data = load_digits(seed, flatten=True, device=device)
    model = make_mlp([64, 128, 128, 10], batchnorm=True, seed=seed).to(device)
    _train(model, data.train.x, data.train.y, steps, 64, torch.optim.Adam(model.parameters(), lr=1e-2), seed)
    x, y = data.val.x, data.val.y
    model.eval()
    result = {"eval": _accuracy(model, x, y)}
    model.train()  # forgetting model.eval(): every batch is normalised with its own statistics
    perm = torch.randperm(len(y), generator=_gen(seed)).to(device)
    result["train, random batches of 64"] = _batched_accuracy(model, x, y, perm, 64)
    result["train, class-sorted batches of 16"] = _batched_accuracy(model, x, y, torch.argsort(y, stable=True), 16)
    result["train, random batches of 2"] = _batched_accuracy(model, x, y, perm, 2)
    return result


def batch_mean_noise(seed: int, sizes=(4, 64), batches: int = 500) -> dict:
    """03-07: std over ``batches`` random batches of the batch mean of 20000×8 standard normal data,
    for each batch size (averaged over the 8 features)."""
    g = _gen(seed)
    data = torch.randn(20000, 8, generator=g)
    out = {}
    for b in sizes:
        idx = torch.randint(0, len(data), (batches, b), generator=g)
        out[b] = float(data[idx].mean(1).std(0).mean())
    return out


def batch_dependence(batchnorm_forward: Callable, layernorm_forward: Callable, seed: int, device="cpu"):
    """03-07: change of row 0's output when rows 1-15 of a 16-row batch are replaced: (layer norm, batch norm)."""
    g = _gen(seed)
    d = 8
    x = torch.randn(16, d, generator=g, dtype=torch.float64).to(device)
    other = x.clone()
    other[1:] = 3 * torch.randn(15, d, generator=g, dtype=torch.float64).to(device) + 1
    ones, zeros = torch.ones(d, dtype=torch.float64, device=device), torch.zeros(d, dtype=torch.float64, device=device)
    ln = [layernorm_forward(z, ones, zeros, {})[0][0] for z in (x, other)]
    bn = [batchnorm_forward(z, ones, zeros, {"mode": "train"})[0][0] for z in (x, other)]
    return float((ln[0] - ln[1]).abs().max()), float((bn[0] - bn[1]).abs().max())


def init_robustness(seed: int, stds=(0.01, 0.1, 1.0), steps: int = 200, device="cpu", progress=None) -> dict:
    """03-08: 6 hidden ReLU layers of width 64 on the digits, with and without BatchNorm1d, weights
    N(0, std²); SGD with momentum 0.9, lr 0.05, batches of 64. Validation accuracy (eval mode) per
    (batchnorm, std). ``progress``: an optional callable wrapping the list of runs (a tqdm)."""
    from ..data import load_digits

    data = load_digits(seed, flatten=True, device=device)
    runs = [(bn, s) for bn in (True, False) for s in stds]
    out = {}
    for bn, s in (progress(runs) if progress else runs):
        model = make_mlp([64] * 7 + [10], batchnorm=bn, init_std=s, seed=seed).to(device)
        opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        _train(model, data.train.x, data.train.y, steps, 64, opt, seed)
        model.eval()
        out[bn, s] = _accuracy(model, data.val.x, data.val.y)
    return out


def tanh_saturation(batchnorm_forward: Callable, seed: int, device="cpu") -> tuple[float, float]:
    """03-09: 1000×50 features of scale 10 with offsets of ±5; fraction of |tanh| > 0.99, raw and after BN."""
    g = _gen(seed)
    offsets = 5 * torch.sign(torch.randn(50, generator=g))
    x = (offsets + 10 * torch.randn(1000, 50, generator=g)).to(device)
    out, _ = batchnorm_forward(x, torch.ones(50, device=device), torch.zeros(50, device=device), {"mode": "train"})
    return float((torch.tanh(x).abs() > 0.99).float().mean()), float((torch.tanh(out).abs() > 0.99).float().mean())


def whitening(seed: int) -> dict:
    """03-10: a correlated 2-D Gaussian (rho 0.8, scales 3 and 0.5, 5000 points, float64): standardised
    and PCA-whitened with the training statistics; test points transformed with the same ones."""
    g = _gen(seed)
    cov = torch.tensor([[9.0, 0.8 * 3 * 0.5], [0.8 * 3 * 0.5, 0.25]], dtype=torch.float64)
    chol = torch.linalg.cholesky(cov)
    train = torch.randn(5000, 2, generator=g, dtype=torch.float64) @ chol.T + torch.tensor([4.0, -2.0],
                                                                                           dtype=torch.float64)
    test = torch.randn(1000, 2, generator=g, dtype=torch.float64) @ chol.T + torch.tensor([4.0, -2.0],
                                                                                          dtype=torch.float64)
    mu, sd = train.mean(0), train.std(0)
    standard = (train - mu) / sd
    c = torch.cov((train - mu).T)
    evals, evecs = torch.linalg.eigh(c)
    white = (train - mu) @ evecs / torch.sqrt(evals)
    white_test = (test - mu) @ evecs / torch.sqrt(evals)
    corr = lambda z: float(torch.corrcoef(z.T)[0, 1])  # noqa: E731
    return {"train": train, "standard": standard, "white": white, "white_test": white_test,
            "white_cov_error": float((torch.cov(white.T) - torch.eye(2, dtype=torch.float64)).abs().max()),
            "corr_change": abs(corr(standard) - corr(train)), "corr": corr(train)}


def dropout_variance_shift(seed: int, p: float = 0.5, device="cpu") -> float:
    """03-11: ReLU features (10000×64) through inverted dropout; variance in train mode / in eval mode."""
    g = _gen(seed)
    h = torch.relu(torch.randn(10000, 64, generator=g)).to(device)
    drop = nn.Dropout(p)
    with torch.random.fork_rng(devices=[h.device] if h.device.type == "cuda" else []):
        torch.manual_seed(seed)
        train_var = drop.train()(h).var(0)
    eval_var = drop.eval()(h).var(0)
    return float((train_var / eval_var).mean())
