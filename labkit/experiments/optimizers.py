"""The computations of notebook 05's experiments (optimizers), as functions of the update rules.

Every function takes the rules it runs as arguments (the student's in the notebook; torch-matching
ones in ``tests/claims/test_claims_05.py``) and returns the numbers a claim is judged on. The claims'
thresholds live in ``LIMITS`` and are quoted by the notebook and the tests. The surfaces are the
bowl ``f = (x^2 + kappa y^2) / 2`` and the saddle ``f = x^2 - y^2``; everything runs in float64.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

__all__ = ["LIMITS", "bowl_grad", "run_rule", "steps_to_converge", "sign_change_fraction", "conditioning_slope",
           "momentum_speedup", "filter_gains", "momentum_forms", "nesterov_lookahead", "oscillations",
           "step_sizes", "adagrad_equalises", "sqrt_matters", "saddle_escape", "positive_definite_fraction",
           "minibatch_noise", "adam_bias_steps", "decay_factors", "adamw_vs_l2", "clipping_demo",
           "coupling", "constant_correction_steps", "newton_vs_gd", "lr_robustness", "train_with_rules", "radam_rho", "lbfgs_noise"]

LIMITS = {
    "conditioning_slope": (0.8, 1.1),
    "momentum_speedup": 2.0,
    "momentum_dc_gain": (9.99, 10.01),
    "standard_hf_gain": (0.525, 0.527),
    "nesterov_hf_gain": (1.473, 1.475),
    "forms_equal": 1e-12,
    "forms_differ_after_cut": 1e-3,
    "lookahead_equal": 1e-12,
    "literal_slide_blowup": 1e50,
    "momentum_sign_changes": 30,
    "nesterov_sign_changes": 5,
    "adagrad_slope": (-0.52, -0.48),
    "rmsprop_ratio": (0.95, 1.05),
    "adagrad_equal_first_step": (1 - 1e-6, 1 + 1e-6),
    "sparse_boost": (math.sqrt(10) - 1e-3, math.sqrt(10) + 1e-3),
    "adagrad_best_f": 1e-8,
    "no_sqrt_best_f": 1.0,
    "saddle_ratio": 5.0,
    "pd_n1": (0.48, 0.52),
    "pd_n2": (0.13, 0.16),
    "pd_n10": 1e-3,
    "minibatch_bias": 0.15,
    "minibatch_slope": (-1.2, -0.8),
    "adam_corrected": (0.999, 1.001),
    "adam_uncorrected_first": (3.1, 3.2),
    "adam_uncorrected_peak": (6.5, 6.7),
    "adam_uncorrected_late": (1.2, 1.3),
    "constant_correction_late": (0.31, 0.33),
    "momentum_gains": {0.5: (1.999, 2.001), 0.9: (9.99, 10.01), 0.99: (99.9, 100.1)},
    "adamw_factor": (0.90479 - 1e-5, 0.90479 + 1e-5),
    "adam_l2_small_weight": 0.01,
    "adam_vs_adamw_digits": 0.1,
    "sgd_l2_vs_decoupled": 1e-5,
    "clip_norm_cos": 1 - 1e-7,
    "clip_value_cos": 0.9,
    "clip_final": 0.5,
    "newton_f": 1e-20,
    "gd_steps": 1000,
    "adam_wins_lrs": 1,
    "radam_first_adaptive": 6,
    "lbfgs_full": 0.005,
    "lbfgs_minibatch": 0.03,
}


def bowl_grad(kappa: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The gradient of ``(x^2 + kappa y^2) / 2``."""
    scale = torch.tensor([1.0, float(kappa)], dtype=torch.float64)
    return lambda w: scale * w


def run_rule(rule: Callable, grad: Callable, w0, steps: int, **hyper) -> torch.Tensor:
    """The path ``(steps + 1, d)`` of ``rule`` fed ``grad(w)``; rows after a non-finite iterate are NaN."""
    w = torch.as_tensor(w0, dtype=torch.float64).clone()
    path = torch.full((steps + 1, w.numel()), float("nan"), dtype=torch.float64)
    path[0] = w
    config = dict(hyper)
    for t in range(steps):
        w, config = rule(w, grad(w), config)
        if not bool(torch.isfinite(w).all()):
            break
        path[t + 1] = w
    return path


def steps_to_converge(rule: Callable, kappa: float, w0, tol: float = 1e-8, max_steps: int = 20000, **hyper) -> int:
    """Steps until the bowl's value is below ``tol`` times its start value (``max_steps`` if never)."""
    grad = bowl_grad(kappa)
    w = torch.as_tensor(w0, dtype=torch.float64).clone()
    f = lambda z: 0.5 * float(z[0] ** 2 + kappa * z[1] ** 2)  # noqa: E731
    f0, config = f(w), dict(hyper)
    for t in range(1, max_steps + 1):
        w, config = rule(w, grad(w), config)
        if f(w) < tol * f0:
            return t
    return max_steps


def conditioning_slope(sgd: Callable, kappas=(10, 30, 100, 300, 1000)) -> tuple[float, list[int]]:
    """Gradient descent (lr = 1/kappa) from (1, 1): the log-log slope of the steps against kappa."""
    steps = [steps_to_converge(sgd, k, (1.0, 1.0), learning_rate=1.0 / k) for k in kappas]
    x, y = torch.tensor(kappas, dtype=torch.float64).log(), torch.tensor(steps, dtype=torch.float64).log()
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / ((x - x.mean()) ** 2).sum())
    return slope, steps


def sign_change_fraction(sgd: Callable, lr_times_kappa: float, kappa: float = 100.0, steps: int = 50) -> float:
    """The fraction of steps at which the steep coordinate changes sign (the zig-zag)."""
    path = run_rule(sgd, bowl_grad(kappa), (1.0, 1.0), steps, learning_rate=lr_times_kappa / kappa)
    y = path[:, 1]
    return float((y[1:] * y[:-1] < 0).double().mean())


def _start(seed: int) -> tuple[float, float]:
    theta = float(torch.rand(1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)) * 2 * math.pi
    return 10 * math.cos(theta), math.sin(theta)


def momentum_speedup(sgd: Callable, sgd_momentum: Callable, seed: int, kappa: float = 100.0) -> float:
    """Steps of GD at its best constant lr 2/(1 + kappa) over steps of momentum (mu 0.9, lr 1/kappa)."""
    w0 = _start(seed)
    gd = steps_to_converge(sgd, kappa, w0, learning_rate=2 / (1 + kappa))
    mom = steps_to_converge(sgd_momentum, kappa, w0, learning_rate=1 / kappa, momentum=0.9)
    return gd / mom


def filter_gains(sgd_momentum: Callable, sgd_nesterov: Callable, mu: float = 0.9, steps: int = 200) -> dict:
    """Step size over lr for a constant gradient (DC gain) and for a gradient (-1)^t (high frequency)."""
    out = {}
    for name, rule in (("momentum", sgd_momentum), ("nesterov", sgd_nesterov)):
        for kind, grad_at in (("dc", lambda t: 1.0), ("hf", lambda t: (-1.0) ** t)):
            w, config, last = torch.zeros(1, dtype=torch.float64), {"learning_rate": 1.0, "momentum": mu}, 0.0
            for t in range(steps):
                nw, config = rule(w, torch.full((1,), grad_at(t), dtype=torch.float64), config)
                last, w = float((nw - w).abs()), nw
            out[f"{name}_{kind}"] = last
    return out


def _momentum_other_form(grad, w0, lrs, mu):
    """v <- mu v - lr g, w <- w + v: the velocity holds the step itself."""
    w, v, path = w0.clone(), torch.zeros_like(w0), []
    for lr in lrs:
        v = mu * v - lr * grad(w)
        w = w + v
        path.append(w.clone())
    return torch.stack(path)


def momentum_forms(sgd_momentum: Callable, steps: int = 100, cut_at: int = 50, mu: float = 0.9) -> tuple[float, float]:
    """Largest gap between the two momentum formulations: constant lr, then lr cut tenfold at ``cut_at``."""
    grad, w0 = bowl_grad(10.0), torch.tensor([1.0, 1.0], dtype=torch.float64)
    gaps = []
    for lrs in ([0.02] * steps, [0.02] * cut_at + [0.002] * (steps - cut_at)):
        w, config, path = w0.clone(), {"momentum": mu}, []
        for lr in lrs:
            config["learning_rate"] = lr
            w, config = sgd_momentum(w, grad(w), config)
            path.append(w.clone())
        gaps.append(float((torch.stack(path) - _momentum_other_form(grad, w0, lrs, mu)).abs().max()))
    return gaps[0], gaps[1]


def nesterov_lookahead(sgd_nesterov: Callable, seed: int = 0, steps: int = 100, lr: float = 0.05,
                       mu: float = 0.9) -> tuple[float, float]:
    """On a random SPD quadratic (4-D): the gap between the rule's weights and the explicit look-ahead
    point x + mu v (gradient evaluated there); and f/f0 of 000's slide taken literally."""
    gen = torch.Generator().manual_seed(seed)
    q = torch.linalg.qr(torch.randn(4, 4, generator=gen, dtype=torch.float64))[0]
    a = q @ torch.diag(torch.tensor([1.0, 3.0, 6.0, 10.0], dtype=torch.float64)) @ q.T
    grad = lambda z: a @ z  # noqa: E731
    f = lambda z: 0.5 * float(z @ a @ z)  # noqa: E731
    x0 = torch.randn(4, generator=gen, dtype=torch.float64)
    x, v = x0.clone(), torch.zeros(4, dtype=torch.float64)  # explicit: v <- mu v - lr grad(x + mu v); x += v
    w, config, gap = x0.clone(), {"learning_rate": lr, "momentum": mu}, 0.0
    for _ in range(steps):
        v = mu * v - lr * grad(x + mu * v)
        x = x + v
        w, config = sgd_nesterov(w, grad(w), config)
        gap = max(gap, float((w - (x + mu * v)).abs().max()))
    z, u = x0.clone(), torch.zeros(4, dtype=torch.float64)  # the slide: u accumulates +grad at z + mu u, z -= lr u
    for _ in range(steps):
        u = mu * u + grad(z + mu * u)
        z = z - lr * u
    return gap, f(z) / f(x0)


def oscillations(sgd_momentum: Callable, sgd_nesterov: Callable, seed: int, kappa: float = 100.0) -> tuple[int, int]:
    """Sign changes of the steep coordinate before convergence: (momentum, Nesterov)."""
    counts = []
    for rule in (sgd_momentum, sgd_nesterov):
        steps = steps_to_converge(rule, kappa, _start(seed), learning_rate=1 / kappa, momentum=0.9)
        y = run_rule(rule, bowl_grad(kappa), _start(seed), steps, learning_rate=1 / kappa, momentum=0.9)[:, 1]
        y = y[y.abs() > 1e-10 * abs(float(y[0]))]  # below that, a sign is rounding noise
        counts.append(int((y[1:] * y[:-1] < 0).sum()))
    return counts[0], counts[1]


def step_sizes(rule: Callable, steps: int = 1000, **hyper) -> torch.Tensor:
    """|w_t - w_{t-1}| for t = 1..steps under a constant gradient 1."""
    path = run_rule(rule, lambda w: torch.ones_like(w), torch.zeros(1, dtype=torch.float64), steps, **hyper)
    return (path[1:, 0] - path[:-1, 0]).abs()


def adagrad_equalises(adagrad: Callable, steps: int = 1000) -> tuple[float, float]:
    """First AdaGrad step on the kappa = 100 bowl: |dx| / |dy|; and, for a coordinate that receives the
    same gradient every 10th step only, its effective rate over the always-updated one's after 1000 steps."""
    w0 = torch.tensor([1.0, 1.0], dtype=torch.float64)
    w1, _ = adagrad(w0, bowl_grad(100.0)(w0), {"learning_rate": 0.1})
    ratio = float((w1[0] - w0[0]).abs() / (w1[1] - w0[1]).abs())
    w, config = torch.zeros(2, dtype=torch.float64), {"learning_rate": 0.1}
    for t in range(steps):  # the second coordinate gets its gradient at steps 10, 20, ..., 1000
        last = w
        w, config = adagrad(w, torch.tensor([1.0, 1.0 if t % 10 == 9 else 0.0], dtype=torch.float64), config)
    step = (w - last).abs()  # step 1000: both got the same gradient
    return ratio, float(step[1] / step[0])


def sqrt_matters(adagrad: Callable, steps: int = 500) -> tuple[float, float]:
    """Best final value of the kappa = 100 bowl over a learning-rate grid: AdaGrad, and AdaGrad without the root."""

    def no_root(w, dw, config):
        config["cache"] = config.get("cache", torch.zeros_like(w)) + dw * dw
        return w - config["learning_rate"] * dw / (config["cache"] + 1e-10), config

    lrs = torch.logspace(-3, 3, 13).tolist()
    f = lambda z: 0.5 * float(z[0] ** 2 + 100 * z[1] ** 2)  # noqa: E731
    best = []
    for rule in (adagrad, no_root):
        finals = []
        for lr in lrs:
            w = run_rule(rule, bowl_grad(100.0), (1.0, 1.0), steps, learning_rate=lr)[-1]
            finals.append(f(w) if bool(torch.isfinite(w).all()) else math.inf)
        best.append(min(finals))
    return best[0], best[1]


def saddle_escape(rules: dict, seed: int, lr: float = 0.01, max_steps: int = 5000) -> dict:
    """Steps until |y| > 1 on f = x^2 - y^2 from (1, eps), eps = 1e-6 U(0.5, 2) with a random sign."""
    gen = torch.Generator().manual_seed(seed)
    eps = 1e-6 * (0.5 + 1.5 * float(torch.rand(1, generator=gen))) * (1 if float(torch.rand(1, generator=gen)) < 0.5
                                                                       else -1)
    grad = lambda w: torch.stack([2 * w[0], -2 * w[1]])  # noqa: E731
    out = {}
    for name, rule in rules.items():
        w, config = torch.tensor([1.0, eps], dtype=torch.float64), {"learning_rate": lr}
        out[name] = max_steps
        for t in range(1, max_steps + 1):
            w, config = rule(w, grad(w), config)
            if abs(float(w[1])) > 1:
                out[name] = t
                break
    return out


def positive_definite_fraction(n: int, seed: int, samples: int = 20000) -> float:
    """The fraction of random symmetric n x n Gaussian matrices (GOE) with every eigenvalue > 0."""
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(samples, n, n, generator=gen, dtype=torch.float64)
    return float((torch.linalg.eigvalsh((a + a.transpose(1, 2)) / 2) > 0).all(dim=1).double().mean())


def _softmax_grad(w, x, y):
    p = torch.softmax(x @ w.T, dim=1)
    p[torch.arange(len(y)), y] -= 1
    return p.T @ x / len(y)


def minibatch_noise(x: torch.Tensor, y: torch.Tensor, seed: int, draws: int = 400) -> tuple[float, float]:
    """Softmax regression at a random W: relative gap between the mean of ``draws`` B = 16 gradients and the
    full gradient; and the log-log slope of E||g_B - g||^2 over B in (4, 16, 64)."""
    gen = torch.Generator().manual_seed(seed)
    x, y = x.double(), y
    w = 0.1 * torch.randn(10, x.shape[1], generator=gen, dtype=torch.float64)
    full = _softmax_grad(w, x, y)
    errs, mean16 = [], None
    for b in (4, 16, 64):
        gs = []
        for _ in range(draws):
            idx = torch.randint(0, len(y), (b,), generator=gen)
            gs.append(_softmax_grad(w, x[idx], y[idx]))
        gs = torch.stack(gs)
        errs.append(float(((gs - full) ** 2).sum(dim=(1, 2)).mean()))
        if b == 16:
            mean16 = gs.mean(0)
    bias = float((mean16 - full).norm() / full.norm())
    lx, ly = torch.tensor([4.0, 16.0, 64.0]).log(), torch.tensor(errs).log()
    slope = float(((lx - lx.mean()) * (ly - ly.mean())).sum() / ((lx - lx.mean()) ** 2).sum())
    return bias, slope


def adam_bias_steps(adam: Callable, scale: float = 1.0, steps: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """Step sizes over lr under a constant gradient ``scale``: Adam, and Adam without its bias correction."""

    def uncorrected(w, dw, config):
        config["m"] = 0.9 * config.get("m", torch.zeros_like(w)) + 0.1 * dw
        config["v"] = 0.999 * config.get("v", torch.zeros_like(w)) + 0.001 * dw * dw
        return w - config["learning_rate"] * config["m"] / (config["v"].sqrt() + 1e-8), config

    grad = lambda w: torch.full_like(w, scale)  # noqa: E731
    out = []
    for rule in (adam, uncorrected):
        path = run_rule(rule, grad, torch.zeros(1, dtype=torch.float64), steps, learning_rate=1e-3)
        out.append((path[1:, 0] - path[:-1, 0]).abs() / 1e-3)
    return out[0], out[1]


def coupling(adam: Callable, sgd_momentum: Callable, betas=(0.5, 0.9, 0.99), scales=(1e-4, 1.0, 1e4),
             steps: int = 3000) -> tuple[dict, dict]:
    """Under a constant gradient: Adam's last step over lr for each (beta1, gradient scale), and momentum's
    (mu = beta) last step over lr times the gradient (its DC gain)."""
    adam_steps, gains = {}, {}
    for b in betas:
        for scale in scales:
            path = run_rule(adam, lambda w: torch.full_like(w, scale), torch.zeros(1, dtype=torch.float64), 60,
                            learning_rate=1e-3, beta1=b)
            adam_steps[(b, scale)] = float((path[-1] - path[-2]).abs()) / 1e-3
        path = run_rule(sgd_momentum, lambda w: torch.ones_like(w), torch.zeros(1, dtype=torch.float64), steps,
                        learning_rate=1.0, momentum=b)
        gains[b] = float((path[-1] - path[-2]).abs())
    return adam_steps, gains


def constant_correction_steps(steps: int = 5000) -> torch.Tensor:
    """003's slide: m / (1 - beta1) and v / (1 - beta2) without the powers; step / lr under a constant gradient."""
    b1, b2, m, v, out = 0.9, 0.999, 0.0, 0.0, []
    for _ in range(steps):
        m, v = b1 * m + (1 - b1), b2 * v + (1 - b2)
        out.append((m / (1 - b1)) / (math.sqrt(v / (1 - b2)) + 1e-8))
    return torch.tensor(out, dtype=torch.float64)


def decay_factors(adam: Callable, adamw: Callable, steps: int = 100) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights (10, 1, 0.1) under a zero data gradient, lr 0.01, weight decay 0.1: final / initial weights."""
    w0 = torch.tensor([10.0, 1.0, 0.1], dtype=torch.float64)
    zero = lambda w: torch.zeros_like(w)  # noqa: E731
    out = []
    for rule in (adam, adamw):
        out.append(run_rule(rule, zero, w0, steps, learning_rate=0.01, weight_decay=0.1)[-1] / w0)
    return out[0], out[1]


def adamw_vs_l2(rules: dict, x: torch.Tensor, y: torch.Tensor, seed: int, steps: int = 200) -> tuple[float, float]:
    """Softmax regression on the digits, full batch, weight decay 0.1: the largest weight gap between Adam with
    L2 and AdamW; and between SGD with L2 and SGD with decoupled decay (lr 0.1)."""
    gen = torch.Generator().manual_seed(seed)
    x = x.float()
    w0 = 0.01 * torch.randn(10, x.shape[1], generator=gen)
    grad = lambda w: _softmax_grad(w, x, y)  # noqa: E731

    def run(rule, **hyper):
        w, config = w0.clone(), dict(hyper)
        for _ in range(steps):
            w, config = rule(w, grad(w), config)
        return w

    def sgd_decoupled(w, dw, config):
        lr, wd = config["learning_rate"], config["wd"]
        return w * (1 - lr * wd) - lr * dw, config

    a = run(rules["adam"], learning_rate=0.01, weight_decay=0.1)
    b = run(rules["adamw"], learning_rate=0.01, weight_decay=0.1)
    c = run(rules["sgd"], learning_rate=0.1, weight_decay=0.1)
    d = run(sgd_decoupled, learning_rate=0.1, wd=0.1)
    return float((a - b).abs().max()), float((c - d).abs().max())


def clipping_demo(clip_grad_norm: Callable, clip_grad_value: Callable, sgd: Callable,
                  steps: int = 2000) -> dict:
    """Direction kept or not for g = (10, 1); and f = x^4 from x = 10, lr 0.01, with and without norm clipping."""
    g = torch.tensor([10.0, 1.0], dtype=torch.float64)
    by_norm = clip_grad_norm([g], 1.0)[0][0]
    by_value = clip_grad_value([g], 1.0)[0]
    cos = lambda a, b: float(a @ b / (a.norm() * b.norm()))  # noqa: E731
    grad = lambda w: 4 * w ** 3  # noqa: E731
    w, config, blowup = torch.tensor([10.0], dtype=torch.float64), {"learning_rate": 0.01}, None
    for t in range(1, 11):
        w, config = sgd(w, grad(w), config)
        if not bool(torch.isfinite(w).all()) or float(w.abs()) > 1e100:
            blowup = t
            break
    w, config = torch.tensor([10.0], dtype=torch.float64), {"learning_rate": 0.01}
    for _ in range(steps):
        w, config = sgd(w, clip_grad_norm([grad(w)], 1.0)[0][0], config)
    return {"cos_norm": cos(g, by_norm), "cos_value": cos(g, by_value), "blowup_step": blowup,
            "final_clipped": float(w.abs())}


def newton_vs_gd(sgd: Callable, kappa: float = 1000.0) -> tuple[float, int]:
    """One Newton step on the bowl from (1, 1) (f after it), and the steps GD at lr 1/kappa needs."""
    w = torch.tensor([1.0, 1.0], dtype=torch.float64)
    hessian = torch.diag(torch.tensor([1.0, kappa], dtype=torch.float64))
    w_newton = w - torch.linalg.solve(hessian, bowl_grad(kappa)(w))
    f = 0.5 * float(w_newton[0] ** 2 + kappa * w_newton[1] ** 2)
    return f, steps_to_converge(sgd, kappa, (1.0, 1.0), learning_rate=1 / kappa)


def _mlp(seed: int, device) -> torch.nn.Module:
    torch.manual_seed(seed)  # the layers' default initialisation draws from the global generator
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                               torch.nn.Linear(64, 10)).to(device)


def train_with_rules(make_optimizer: Callable, data, seed: int, steps: int = 200, batch: int = 64,
                     device="cpu") -> tuple[list[float], float]:
    """MLP 64-64-64-10 on the digits: ``make_optimizer(params)`` drives ``steps`` minibatch steps (B = 64,
    drawn with replacement); returns the per-step training losses and the final validation accuracy."""
    model = _mlp(seed, device)
    opt = make_optimizer(model.parameters())
    gen = torch.Generator().manual_seed(seed)
    xt, yt = data.train.x.to(device), data.train.y.to(device)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(yt), (batch,), generator=gen).to(device)
        loss = torch.nn.functional.cross_entropy(model(xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    with torch.no_grad():
        acc = float((model(data.val.x.to(device)).argmax(1) == data.val.y.to(device)).float().mean())
    return losses, acc


def lr_robustness(make_sgd: Callable, make_adam: Callable, data, seed: int, device="cpu",
                  lrs=None) -> tuple[int, int]:
    """How many of 9 learning rates in [1e-4, 1] reach validation accuracy >= 0.9 after 200 steps: (SGD, Adam)."""
    lrs = torch.logspace(-4, 0, 9).tolist() if lrs is None else lrs
    counts = []
    for make in (make_sgd, make_adam):
        counts.append(sum(train_with_rules(lambda p: make(p, lr), data, seed, device=device)[1] >= 0.9 for lr in lrs))
    return counts[0], counts[1]


def radam_rho(beta2: float = 0.999, steps: int = 8) -> tuple[float, list[float]]:
    """RAdam's rho_inf and rho_t for t = 1..steps."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf, [rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t) for t in range(1, steps + 1)]


def lbfgs_noise(x: torch.Tensor, y: torch.Tensor, seed: int, lam: float = 1e-3) -> tuple[float, float]:
    """L2-regularised softmax regression (float64): excess loss of 30 full-batch L-BFGS iterations and of 100
    mini-batch (B = 32) L-BFGS steps of 3 iterations each, over a long full-batch L-BFGS reference."""
    x = x.double()

    def loss_of(w, xb, yb):
        return torch.nn.functional.cross_entropy(xb @ w.T, yb) + lam * (w ** 2).sum()

    def run(iters, batches, gen):
        w = torch.zeros(10, x.shape[1], dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w], lr=1, max_iter=iters, line_search_fn="strong_wolfe" if batches == 0 else None)
        for _ in range(max(batches, 1)):
            idx = torch.randint(0, len(y), (32,), generator=gen) if batches else slice(None)

            def closure():
                opt.zero_grad()
                value = loss_of(w, x[idx], y[idx])
                value.backward()
                return value
            opt.step(closure)
        with torch.no_grad():
            return float(loss_of(w, x, y))

    gen = torch.Generator().manual_seed(seed)
    best = run(300, 0, gen)
    return run(30, 0, gen) - best, run(3, 100, gen) - best
