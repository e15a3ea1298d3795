"""The experiments of notebook 00 (gradient checking): what each measures, and the thresholds its claim asserts.

Every function takes the student's functions (the notebook passes its own; ``tests/claims/test_claims_00.py``
passes stand-ins) and a seed, and returns plain numbers and lists (a ``dict``) for the plot and the claim.
The thresholds are the constants below: the notebook quotes them in its ``claim(...)`` calls and the
20-seed test asserts the same ones. Gradient checks run in float64 on the CPU (thousands of tiny
evaluations, where a GPU only adds latency); the experiments that train or evaluate batches take a
``device``.

Example
-------
>>> from labkit.experiments import gradcheck as ex
>>> m = ex.step_sizes(numerical_gradient, rel_error, seed=0)          # doctest: +SKIP
>>> ex.CENTRED_SLOPE                                                   # the range the claim asserts
(1.8, 2.2)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "CENTRED_SLOPE", "FORWARD_SLOPE", "BEST_H_FLOAT64", "ROUNDOFF_GROWTH", "FLOAT32_GAIN", "FLOAT64_CORRECT", "FLOAT32_CORRECT",
    "BUG_TIMES_TWO", "BUG_TIMES_1_1", "BUG_TRANSPOSED", "BUG_ANY", "ONE_SIDED_SYMMETRIC", "FLAT_RATE_MARGIN",
    "KINK_FRACTION_FEW", "KINK_FRACTION_MANY", "BURN_IN_BEFORE", "BURN_IN_AFTER", "BURN_IN_CORRECT",
    "REG_BUG_SMALL_R", "REG_BUG_LARGE_R", "REG_SLOPE", "REG_ELEMENTWISE", "DROPOUT_FRESH", "DROPOUT_SEEDED",
    "TINY_OTHER_ROWS", "TINY_NORMREL", "SCALE_SPREAD", "SCALE_SUBNORMAL", "OFFSET_GROWTH", "DEPTH_RATIO",
    "DEPTH_FLOAT64", "MSE_SLOWDOWN", "OUTLIER_L2_SHIFT", "OUTLIER_L1_SHIFT", "INITIAL_LOSS_TOL",
    "normrel", "forward_difference", "step_sizes", "bands", "relu_denominators", "relu_kink",
    "flat_sampling", "exact_flat_rate", "kink_crossings", "burn_in", "regularisation_ratio", "dropout_check",
    "tiny_entries", "loss_scaling", "depth", "ce_against_mse", "outliers", "initial_loss",
]

# ---- thresholds (each holds on 20 seeds: tests/claims/test_claims_00.py) -----------------------------------
CENTRED_SLOPE = (1.8, 2.2)        # log-log slope of the centred difference's error, h in [1e-4, 1e-2]
FORWARD_SLOPE = (0.8, 1.2)        # ... of the one-sided difference
BEST_H_FLOAT64 = (1e-7, 1e-4)     # the step with the smallest float64 error
ROUNDOFF_GROWTH = 100.0           # error(h = 1e-12) / error(h = 1e-5), at least
FLOAT32_GAIN = 3.0                # float32: error(h = 1e-5) / error(h = 1e-3), at least
FLOAT64_CORRECT = 1e-6            # rel_error of a correct gradient in float64, at most
FLOAT32_CORRECT = 1e-2            # ... of the same correct gradient in float32, at least
BUG_TIMES_TWO = (0.45, 0.55)      # rel_error of a gradient twice too large
BUG_TIMES_1_1 = (0.08, 0.1)       # ... ten per cent too large
BUG_TRANSPOSED = 1.5              # ... transposed then reshaped, at least
BUG_ANY = 1e-2                    # every bug, at least
ONE_SIDED_SYMMETRIC = 1e-8        # the symmetric rel_error of a correct ReLU gradient, at most
FLAT_RATE_MARGIN = 0.04           # |empirical rate - exact probability| of a flat sample, at most
KINK_FRACTION_FEW = 0.1           # fraction of entries whose check crosses a kink at N = 10, at most
KINK_FRACTION_MANY = 0.9          # ... at N = 10 000, at least
BURN_IN_BEFORE = 1e-6             # rel_error of the gate-less hinge gradient at W ~ 0, at most
BURN_IN_AFTER = 0.5               # ... after the burn-in, at least
BURN_IN_CORRECT = 1e-8            # the correct gradient after the burn-in, at most
REG_BUG_SMALL_R = 0.3             # normrel of the doubled data gradient at r <= 1, at least
REG_BUG_LARGE_R = 2e-4            # ... at r = 1e4, at most
REG_SLOPE = (-1.05, -0.95)        # log-log slope of that normrel against r over [1e2, 1e4]
REG_ELEMENTWISE = 1e-2            # element-wise rel_error of the bug at r = 1e4, at least
DROPOUT_FRESH = 0.5               # normrel with a fresh dropout mask at every evaluation, at least
DROPOUT_SEEDED = 1e-8             # ... with the generator re-seeded before every evaluation, at most
TINY_OTHER_ROWS = 1e-6            # rel_error on the rows of normal size, at most
TINY_NORMREL = 1e-8               # normrel of the whole gradient, at most
SCALE_SPREAD = 3.0                # largest / smallest normrel over c in {1e-10, 1, 1e10}, at most
SCALE_SUBNORMAL = 1e-2            # normrel for c = 1e-42 (subnormal float32), at least
OFFSET_GROWTH = 30.0              # normrel with 1e3 added to the loss / without, at least
DEPTH_RATIO = 1.5                 # geometric-mean normrel, 10 layers / 1 layer, at least
DEPTH_FLOAT64 = 1e-7              # every float64 normrel at depth 10, at most
MSE_SLOWDOWN = 5.0                # steps to 90 % accuracy, MSE / BCE, at least
OUTLIER_L2_SHIFT = 4.0            # how far 10 % outliers move the best constant under MSE, at least
OUTLIER_L1_SHIFT = 0.4            # ... under L1, at most
INITIAL_LOSS_TOL = 0.02           # |initial loss - chance value| with tiny weights, at most


def normrel(a, b) -> float:
    """||a - b|| / max(||a||, ||b||) of two tensors (0 when both are 0): one number for a whole gradient."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    if a.shape != b.shape:
        raise ValueError(f"normrel needs two tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    scale = max(float(a.norm()), float(b.norm()))
    return 0.0 if scale == 0 else float((a - b).norm()) / scale


def forward_difference(f, x: torch.Tensor, h: float) -> torch.Tensor:
    """One-sided differences (f(x + h e_i) - f(x)) / h, for comparison with the centred ones."""
    z = x.detach().clone(memory_format=torch.contiguous_format)
    flat, f0 = z.view(-1), float(f(z))
    grad = torch.zeros_like(z)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        grad.view(-1)[i] = (float(f(z)) - f0) / h
        flat[i] = old
    return grad


def _autograd(f, x: torch.Tensor) -> torch.Tensor:
    with torch.enable_grad():
        z = x.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(z), z)
    return g.detach()


def _slope(xs, ys) -> float:
    x = torch.tensor([math.log10(v) for v in xs], dtype=torch.float64)
    y = torch.tensor([math.log10(max(v, 1e-300)) for v in ys], dtype=torch.float64)
    x = x - x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return seed


# ---- 1.4 the step size ----------------------------------------------------------------------------------------
def step_sizes(numerical_gradient, seed: int = 0, hs=None, fit_range=(1e-4, 1e-2)) -> dict:
    """Error of the centred and one-sided differences of f(x) = Σ tanh(Ax)² + Σ sin x (A random 5×5)
    against autograd, for every step in ``hs``, in float64 and float32.

    Returns ``hs``, ``errors[dtype][formula]`` (the absolute error of ∂f/∂x₀, per h), the fitted float64
    slopes over ``fit_range``, the float64 step with the smallest centred error, the growth of that error
    from h = 1e-5 to h = 1e-12, and how much smaller the float32 error is at h = 1e-3 than at 1e-5.
    """
    gen = torch.Generator().manual_seed(_check_seed(seed))
    a = torch.randn(5, 5, generator=gen, dtype=torch.float64) / math.sqrt(5)
    x0 = torch.randn(5, generator=gen, dtype=torch.float64)
    hs = list(hs) if hs is not None else sorted(set(torch.logspace(-13, -1, 37, dtype=torch.float64).tolist()
                                                   + [1e-12, 1e-5]))
    errors = {}
    for dtype in ("float64", "float32"):
        dt = getattr(torch, dtype)
        x, a_dt = x0.to(dt), a.to(dt)
        f = lambda z: (torch.tanh(z @ a_dt.T) ** 2).sum() + torch.sin(z).sum()  # noqa: E731
        exact = float(_autograd(lambda z: (torch.tanh(z @ a.T) ** 2).sum() + torch.sin(z).sum(), x0)[0])
        errors[dtype] = {
            "centred": [abs(float(numerical_gradient(f, x, h)[0]) - exact) for h in hs],
            "forward": [abs(float(forward_difference(f, x, h)[0]) - exact) for h in hs],
        }
    fit = [i for i, h in enumerate(hs) if fit_range[0] * 0.999 <= h <= fit_range[1] * 1.001]
    e64, e32 = errors["float64"], errors["float32"]
    best = min(range(len(hs)), key=lambda i: e64["centred"][i])
    near = lambda v: min(range(len(hs)), key=lambda i: abs(math.log10(hs[i] / v)))  # noqa: E731
    return {"hs": hs, "errors": errors, "fit_range": fit_range,
            "slope_centred": _slope([hs[i] for i in fit], [e64["centred"][i] for i in fit]),
            "slope_forward": _slope([hs[i] for i in fit], [e64["forward"][i] for i in fit]),
            "best_h": hs[best],
            "best_h_float32": hs[min(range(len(hs)), key=lambda i: errors["float32"]["centred"][i])],
            "roundoff_growth": e64["centred"][near(1e-12)] / max(e64["centred"][near(1e-5)], 1e-300),
            "float32_gain": e32["centred"][near(1e-5)] / max(e32["centred"][near(1e-3)], 1e-300)}


# ---- 1.5 the bands ---------------------------------------------------------------------------------------------
def bands(numerical_gradient, rel_error, affine_forward, softmax_cross_entropy, seed: int = 0) -> dict:
    """rel_error of a tiny classifier's weight gradient (x (5, 8), w (4, 8), tanh, a second layer, softmax
    cross-entropy; h = 1e-5): the correct gradient in float64 and in float32, and three wrong ones.

    Returns ``labels`` and ``errors`` (one per case, in order) and ``by_case`` (label -> error).
    """
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x = torch.randn(5, 8, generator=gen, dtype=torch.float64)
    w = torch.randn(4, 8, generator=gen, dtype=torch.float64) / math.sqrt(8)
    v = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (5,), generator=gen)

    def loss(dtype):
        xd, vd = x.to(dtype), v.to(dtype)
        zero_b1, zero_b2 = torch.zeros(4, dtype=dtype), torch.zeros(3, dtype=dtype)

        def f(wd):
            hidden = torch.tanh(affine_forward(xd, wd, zero_b1)[0])
            return softmax_cross_entropy(affine_forward(hidden, vd, zero_b2)[0], y)[0]

        def g(wd):  # the same loss from torch built-ins, for autograd
            return F.cross_entropy(torch.tanh(xd @ wd.T) @ vd.T, y)
        return f, g

    f64, g64 = loss(torch.float64)
    f32, g32 = loss(torch.float32)
    right64, right32 = _autograd(g64, w), _autograd(g32, w.float())
    num64, num32 = numerical_gradient(f64, w, 1e-5), numerical_gradient(f32, w.float(), 1e-5)
    cases = [("correct, float64", rel_error(right64, num64)),
             ("correct, float32", rel_error(right32, num32)),
             ("bug: twice the gradient", rel_error(2 * right64, num64)),
             ("bug: 10 % too large", rel_error(1.1 * right64, num64)),
             ("bug: transposed, reshaped", rel_error(right64.T.reshape(right64.shape), num64))]
    return {"labels": [c for c, _ in cases], "errors": [e for _, e in cases], "by_case": dict(cases)}


def relu_denominators(numerical_gradient, rel_error, seed: int = 0, n: int = 100) -> dict:
    """Σ relu(x) on ``n`` N(0, 1) inputs (float64): the one-sided |a - b| / |a| and the symmetric rel_error of
    the exact gradient against the numerical one."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x = torch.randn(n, generator=gen, dtype=torch.float64)
    exact = (x > 0).to(torch.float64)
    numeric = numerical_gradient(lambda z: torch.relu(z).sum(), x)
    one_sided = float(((exact - numeric).abs() / exact.abs()).max())
    return {"one_sided": one_sided, "symmetric": rel_error(exact, numeric),
            "zero_entries": int((exact == 0).sum())}


def relu_kink(numerical_gradient, h: float = 1e-5, points=(-1e-6, -1e-3)) -> dict:
    """The centred difference of relu at each point of ``points``, and whether ±h changes the winner of
    max(0, x) (a kink was crossed)."""
    out = {}
    for p in points:
        x = torch.tensor([p], dtype=torch.float64)
        estimate = float(numerical_gradient(lambda z: torch.relu(z).sum(), x, h)[0])
        crossed = bool((p + h > 0) != (p - h > 0))
        out[p] = {"estimate": estimate, "exact": float(p > 0), "crossed": crossed}
    return out


# ---- 2.1 sampling per parameter ---------------------------------------------------------------------------------
def exact_flat_rate(total: int, small: int, k: int) -> float:
    """Probability that ``k`` entries drawn without replacement from ``total`` include one of ``small``."""
    return 1.0 - math.comb(total - small, k) / math.comb(total, k)


def flat_sampling(numerical_gradient_array, affine_forward, affine_backward, seed: int = 0, n=2, d=40, m=5,
                  k=10, per_parameter=None, repeats=1000, tolerance=1e-2) -> dict:
    """A bias bug (db averaged instead of summed) checked with ``k`` random entries: a flat sample of
    x, w and b together against a few entries of each; ``repeats`` random checks of each kind."""
    per_parameter = per_parameter or {"x": 3, "w": 4, "b": 3}
    gen = torch.Generator().manual_seed(_check_seed(seed))
    params = {"x": torch.randn(n, d, generator=gen, dtype=torch.float64),
              "w": torch.randn(m, d, generator=gen, dtype=torch.float64),
              "b": torch.randn(m, generator=gen, dtype=torch.float64)}
    dout = torch.randn(n, m, generator=gen, dtype=torch.float64)
    _, cache = affine_forward(params["x"], params["w"], params["b"])
    dx, dw, db = affine_backward(dout, cache)
    analytic = {"x": dx, "w": dw, "b": db / n}  # the bug: db = dout.mean(0)

    def output_of(name):
        return lambda z: affine_forward(*[z if k2 == name else params[k2] for k2 in ("x", "w", "b")])[0]

    reveals = {}
    for name, p in params.items():
        num = numerical_gradient_array(output_of(name), p, dout).reshape(-1)
        a = analytic[name].reshape(-1)
        reveals[name] = (a - num).abs() > tolerance * torch.maximum(a.abs(), num.abs())

    def picks(size, count):
        return torch.rand(repeats, size, generator=gen).argsort(dim=1)[:, :count]

    flat = torch.cat([reveals[name] for name in params])
    caught_flat = flat[picks(flat.numel(), k)].any(dim=1)
    caught_per = torch.zeros(repeats, dtype=torch.bool)
    for name, count in per_parameter.items():
        caught_per |= reveals[name][picks(reveals[name].numel(), count)].any(dim=1)
    sizes = {name: p.numel() for name, p in params.items()}
    return {"sizes": sizes, "repeats": repeats, "k": k,
            "rate_flat": float(caught_flat.double().mean()), "rate_per_parameter": float(caught_per.double().mean()),
            "exact_flat": exact_flat_rate(sum(sizes.values()), sizes["b"], k),
            "bug_entries": {name: int(r.sum()) for name, r in reveals.items()}}


# ---- 4.2 kinks ---------------------------------------------------------------------------------------------------
def kink_crossings(affine_forward, affine_backward, multiclass_hinge_loss, numerical_gradient, rel_error,
                   seed: int = 0, sizes=(10, 100, 1000, 10000), steps=(1e-3, 1e-5), d=20, c=10,
                   check_n=1000, check_h=1e-3) -> dict:
    """A linear SVM (Weston-Watkins hinge, C classes, D features, W ~ N(0, 0.1²)) on nested batches of one
    data set: for every entry of W, does a centred difference of step h move some hinge term across its
    kink? (Counted from the margins, without evaluating the loss.) Then, at N = ``check_n``, the real check
    of every entry: its rel_error, and whether its step crossed a kink."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x_all = torch.randn(max(sizes), d, generator=gen, dtype=torch.float64)
    y_all = torch.randint(0, c, (max(sizes),), generator=gen)
    w = 0.1 * torch.randn(c, d, generator=gen, dtype=torch.float64)
    b = torch.zeros(c, dtype=torch.float64)

    def crossing_mask(n, h):
        x, y = x_all[:n], y_all[:n]
        scores = affine_forward(x, w, b)[0]
        margins = scores - scores.gather(1, y[:, None]) + 1.0
        wrong = torch.arange(c)[None, :] != y[:, None]
        dist = torch.where(wrong, margins.abs(), torch.full_like(margins, math.inf))  # (N, C)
        label_dist = dist.min(dim=1).values                                            # every term of row n moves
        # entry (j, k) moves the margin (n, j) by h |x_nk| when j is wrong for n, every margin of n when j = y_n
        thresh = torch.where(wrong, dist, label_dist[:, None])                         # (N, C)
        step = h * x.abs()                                                             # (N, D)
        return (step[:, None, :] > thresh[:, :, None]).any(dim=0)                      # (C, D)

    fractions = {h: [float(crossing_mask(n, h).double().mean()) for n in sizes] for h in steps}
    x, y = x_all[:check_n], y_all[:check_n]
    scores, cache = affine_forward(x, w, b)
    _, dw, _ = affine_backward(multiclass_hinge_loss(scores, y)[1], cache)
    numeric = numerical_gradient(lambda z: multiclass_hinge_loss(affine_forward(x, z, b)[0], y)[0], w, check_h)
    errs = [rel_error(dw.reshape(-1)[i], numeric.reshape(-1)[i]) for i in range(w.numel())]
    crossed = crossing_mask(check_n, check_h).reshape(-1).tolist()
    return {"sizes": list(sizes), "fractions": fractions, "check_n": check_n, "check_h": check_h,
            "errors": errs, "crossed": crossed,
            "failing_without_kink": sum(1 for e, k in zip(errs, crossed) if e > 1e-6 and not k),
            "failing_with_kink": sum(1 for e, k in zip(errs, crossed) if e > 1e-6 and k)}


# ---- 4.3 burn-in ------------------------------------------------------------------------------------------------
def burn_in(affine_forward, affine_backward, multiclass_hinge_loss, numerical_gradient, rel_error, seed: int = 0,
            n=50, d=20, c=5, steps=50, lr=0.01, init_std=1e-6) -> dict:
    """A linear SVM on class-shifted Gaussians; a buggy gradient that treats every margin as active (it
    forgets the hinge's gate). rel_error of the buggy and of the correct gradient at W ~ N(0, init_std²) and
    after ``steps`` subgradient steps with the correct gradient; the loss along the way."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    centres = 2.0 * torch.randn(c, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=gen)
    x = centres[y] + torch.randn(n, d, generator=gen, dtype=torch.float64)
    w = init_std * torch.randn(c, d, generator=gen, dtype=torch.float64)
    b = torch.zeros(c, dtype=torch.float64)

    def grads(wt):
        scores, cache = affine_forward(x, wt, b)
        loss, dscores = multiclass_hinge_loss(scores, y)
        wrong = torch.arange(c)[None, :] != y[:, None]
        # the bug: the gradient of the hinge terms without their max(0, .), as if every margin were active
        gateless = _autograd(lambda z: ((z - z.gather(1, y[:, None]) + 1.0) * wrong).sum() / n, scores)
        return float(loss), affine_backward(dscores, cache)[1], affine_backward(gateless, cache)[1]

    def check(wt):
        _, right, buggy = grads(wt)
        numeric = numerical_gradient(lambda z: multiclass_hinge_loss(affine_forward(x, z, b)[0], y)[0], wt)
        return rel_error(right, numeric), rel_error(buggy, numeric)

    before = check(w)
    losses = []
    for _ in range(steps):
        loss, right, _ = grads(w)
        losses.append(loss)
        w = w - lr * right
    after = check(w)
    return {"losses": losses, "correct_before": before[0], "buggy_before": before[1],
            "correct_after": after[0], "buggy_after": after[1]}


# ---- 4.4 regularisation ---------------------------------------------------------------------------------------
def regularisation_ratio(affine_forward, affine_backward, softmax_cross_entropy, numerical_gradient, rel_error,
                         x: torch.Tensor, y: torch.Tensor, seed: int = 0, ratios=(0.1, 1, 10, 100, 1e3, 1e4),
                         w_std=0.01) -> dict:
    """Softmax regression with a doubled data gradient (the bug) plus λ||W||², λ set so that
    r = ||penalty gradient|| / ||data gradient|| takes each value of ``ratios``: the normrel and the
    element-wise rel_error of the buggy total gradient against the numerical one, per r."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x, c = x.to(torch.float64).reshape(len(x), -1), int(y.max()) + 1
    w = w_std * torch.randn(c, x.shape[1], generator=gen, dtype=torch.float64)
    b = torch.zeros(c, dtype=torch.float64)
    scores, cache = affine_forward(x, w, b)
    _, dw_data, _ = affine_backward(softmax_cross_entropy(scores, y)[1], cache)
    out = {"ratios": list(ratios), "normrel": [], "elementwise": [], "lambdas": []}
    for r in ratios:
        lam = r * float(dw_data.norm()) / (2 * float(w.norm()))
        numeric = numerical_gradient(
            lambda z: softmax_cross_entropy(affine_forward(x, z, b)[0], y)[0] + lam * (z * z).sum(), w)
        buggy = 2 * dw_data + _autograd(lambda z: lam * (z * z).sum(), w)
        out["lambdas"].append(lam)
        out["normrel"].append(normrel(buggy, numeric))
        out["elementwise"].append(rel_error(buggy, numeric))
    fit = [i for i, r in enumerate(ratios) if 1e2 <= r <= 1e4]
    out["slope"] = _slope([ratios[i] for i in fit], [out["normrel"][i] for i in fit])
    return out


# ---- 4.5 dropout ------------------------------------------------------------------------------------------------
def dropout_check(affine_forward, softmax_cross_entropy, numerical_gradient, seed: int = 0, n=4, d=6, hidden=10,
                  c=3, p=0.5) -> dict:
    """A two-layer ReLU net with dropout p on the hidden layer (float64): the numerical gradient of W1 with a
    fresh mask at every evaluation, and with the generator re-seeded before every evaluation, each against
    the autograd gradient under the seeded mask (normrel)."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=gen)
    w1 = torch.randn(hidden, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    w2 = torch.randn(c, hidden, generator=gen, dtype=torch.float64) / math.sqrt(hidden)
    b1, b2 = torch.zeros(hidden, dtype=torch.float64), torch.zeros(c, dtype=torch.float64)
    mask_gen, mask_seed = torch.Generator(), 1000 + seed

    def mask():
        return (torch.rand(n, hidden, generator=mask_gen) >= p).to(torch.float64) / (1 - p)

    def loss(w, reseed):
        if reseed:
            mask_gen.manual_seed(mask_seed)
        h = torch.relu(affine_forward(x, w, b1)[0]) * mask()
        return softmax_cross_entropy(affine_forward(h, w2, b2)[0], y)[0]

    mask_gen.manual_seed(mask_seed)
    fixed = mask()
    exact = _autograd(lambda w: F.cross_entropy((torch.relu(x @ w.T) * fixed) @ w2.T, y), w1)
    mask_gen.manual_seed(mask_seed + 1)
    fresh = numerical_gradient(lambda w: loss(w, reseed=False), w1)
    seeded = numerical_gradient(lambda w: loss(w, reseed=True), w1)
    return {"fresh": normrel(exact, fresh), "seeded": normrel(exact, seeded)}


# ---- 4.6 tiny entries --------------------------------------------------------------------------------------------
def tiny_entries(affine_forward, affine_backward, softmax_cross_entropy, numerical_gradient, rel_error,
                 seed: int = 0, n=6, d=5, c=4, low_bias=-40.0) -> dict:
    """Softmax regression whose last class has bias ``low_bias``: its probability, hence its row of dW, is
    about e^-40 ≈ 1e-17. rel_error on that row, on the other rows, and normrel of the whole gradient."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c - 1, (n,), generator=gen)
    w = torch.randn(c, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    b = torch.zeros(c, dtype=torch.float64)
    b[-1] = low_bias
    scores, cache = affine_forward(x, w, b)
    _, dw, _ = affine_backward(softmax_cross_entropy(scores, y)[1], cache)
    numeric = numerical_gradient(lambda z: softmax_cross_entropy(affine_forward(x, z, b)[0], y)[0], w)
    return {"tiny_row": rel_error(dw[-1], numeric[-1]), "other_rows": rel_error(dw[:-1], numeric[:-1]),
            "normrel": normrel(dw, numeric), "tiny_size": float(dw[-1].abs().max()),
            "numeric_tiny_size": float(numeric[-1].abs().max())}


# ---- 4.7 scaling the loss -------------------------------------------------------------------------------------------
def loss_scaling(affine_forward, affine_backward, softmax_cross_entropy, numerical_gradient, seed: int = 0,
                 factors=(1e-10, 1.0, 1e10, 1e-42), offset=1e3, n=16, d=8, c=4, h=1e-2) -> dict:
    """Float32 softmax regression checked with h = 1e-2: normrel of (numerical gradient of c·L) / c against the
    float64 gradient, for every c of ``factors``, and with ``offset`` added to the loss."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=gen)
    w = torch.randn(c, d, generator=gen, dtype=torch.float64) / math.sqrt(d)
    b = torch.zeros(c, dtype=torch.float64)
    scores, cache = affine_forward(x, w, b)
    _, exact, _ = affine_backward(softmax_cross_entropy(scores, y)[1], cache)
    x32, w32, b32 = x.float(), w.float(), b.float()

    def loss32(z):
        return softmax_cross_entropy(affine_forward(x32, z, b32)[0], y)[0]

    errors = {}
    for factor in factors:
        numeric = numerical_gradient(lambda z: loss32(z) * factor, w32, h).double() / factor
        errors[factor] = normrel(exact, numeric)
    numeric = numerical_gradient(lambda z: loss32(z) + offset, w32, h).double()
    return {"errors": errors, "offset": offset, "with_offset": normrel(exact, numeric)}


# ---- 4.8 depth -------------------------------------------------------------------------------------------------------
def depth(affine_forward, numerical_gradient, seed: int = 0, depths=(1, 10), width=16, nets=10) -> dict:
    """Input-gradient checks of tanh nets (width 16, W ~ N(0, 1/16)), float32 (h = 1e-2) and float64
    (h = 1e-5): normrel against autograd per net, and the geometric mean over ``nets`` nets per depth."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    out = {"depths": list(depths), "float32": {}, "float64": {}}
    for L in depths:
        per = {"float32": [], "float64": []}
        for _ in range(nets):
            ws = [torch.randn(width, width, generator=gen, dtype=torch.float64) / math.sqrt(width) for _ in range(L)]
            x = torch.randn(1, width, generator=gen, dtype=torch.float64)
            for dtype, h in (("float32", 1e-2), ("float64", 1e-5)):
                dt = getattr(torch, dtype)
                wd, zero = [w.to(dt) for w in ws], torch.zeros(width, dtype=dt)

                def net(z, wd=wd, zero=zero):
                    for w in wd:
                        z = torch.tanh(affine_forward(z, w, zero)[0])
                    return z.sum()

                def net_torch(z, wd=wd):
                    for w in wd:
                        z = torch.tanh(z @ w.T)
                    return z.sum()
                exact = _autograd(net_torch, x.to(dt))
                per[dtype].append(normrel(exact, numerical_gradient(net, x.to(dt), h)))
        for dtype in per:
            out[dtype][L] = {"each": per[dtype],
                             "geomean": math.exp(sum(math.log(max(e, 1e-300)) for e in per[dtype]) / nets)}
    lo, hi = min(depths), max(depths)
    for dtype in ("float32", "float64"):
        out[f"ratio_{dtype}"] = out[dtype][hi]["geomean"] / out[dtype][lo]["geomean"]
    out["worst_float64_deep"] = max(out["float64"][hi]["each"])
    return out


# ---- 3.x cross-entropy against MSE ------------------------------------------------------------------------------
def ce_against_mse(binary_cross_entropy_with_logits, mse_loss, seed: int = 0, n=200, lr=0.5, max_steps=3000,
                   target=0.9, device="cpu") -> dict:
    """2-D logistic regression started confidently wrong (w = -3 w_true), gradient descent with lr 0.5 on
    the BCE of the logits or on the MSE of the probabilities: accuracy per step and steps to ``target``."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    w_true = torch.randn(2, generator=gen, dtype=torch.float64)
    w_true = 2.0 * w_true / w_true.norm()
    x = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    y = (x @ w_true > 0).to(torch.float64)
    x, y = x.to(device), y.to(device)
    out = {}
    for name in ("BCE", "MSE"):
        w = (-3.0 * w_true).to(device)
        accuracy, reached = [], None
        for step in range(max_steps):
            s = x @ w
            acc = float(((s > 0).to(torch.float64) == y).double().mean())
            accuracy.append(acc)
            if acc >= target and reached is None:
                reached = step
                break
            if name == "BCE":
                ds = binary_cross_entropy_with_logits(s, y)[1]
            else:
                p = torch.sigmoid(s)
                ds = mse_loss(p, y)[1] * p * (1 - p)
            w = w - lr * (x.T @ ds)
        out[name] = {"accuracy": accuracy, "steps": reached if reached is not None else max_steps}
    s, one = torch.tensor([-10.0], dtype=torch.float64), torch.tensor([1.0], dtype=torch.float64)
    p = torch.sigmoid(s)
    out["grad_bce"] = float(binary_cross_entropy_with_logits(s, one)[1][0])
    out["grad_mse"] = float(mse_loss(p, one)[1][0] * p[0] * (1 - p[0]))
    out["slowdown"] = out["MSE"]["steps"] / max(out["BCE"]["steps"], 1)
    return out


def outliers(mse_loss, l1_loss, seed: int = 0, n=200, frac=0.1, value=50.0, grid=None) -> dict:
    """The best constant prediction under MSE and under L1 (found on a grid with the student's losses), for
    N(0, 1) targets and for the same targets with ``frac`` of them replaced by ``value``."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    t = torch.randn(n, generator=gen, dtype=torch.float64)
    t_out = t.clone()
    t_out[torch.randperm(n, generator=gen)[: int(frac * n)]] = value
    grid = grid if grid is not None else torch.arange(-2.0, 8.0, 0.01, dtype=torch.float64).tolist()

    def best(loss, targets):
        values = [float(loss(torch.full_like(targets, cst), targets)[0]) for cst in grid]
        return grid[min(range(len(grid)), key=values.__getitem__)]

    res = {name: (best(fn, t), best(fn, t_out)) for name, fn in (("MSE", mse_loss), ("L1", l1_loss))}
    return {"clean": {k: v[0] for k, v in res.items()}, "outliers": {k: v[1] for k, v in res.items()},
            "shift": {k: abs(v[1] - v[0]) for k, v in res.items()}}


# ---- 4.1 the loss at initialisation ---------------------------------------------------------------------------------
def initial_loss(affine_forward, softmax_cross_entropy, multiclass_hinge_loss, seed: int = 0, n=200,
                 features=3 * 32 * 32, classes=10, stds=None, lam=1e-3, device="cpu") -> dict:
    """An untrained linear classifier on random 'images': the softmax and hinge losses for every weight
    standard deviation of ``stds``, and the softmax loss with λ||W||² added (λ = ``lam``)."""
    gen = torch.Generator().manual_seed(_check_seed(seed))
    stds = list(stds) if stds is not None else torch.logspace(-5, 0, 21).tolist()
    x = torch.randn(n, features, generator=gen).to(device)
    y = torch.randint(0, classes, (n,), generator=gen).to(device)
    unit = torch.randn(classes, features, generator=gen).to(device)
    b = torch.zeros(classes, device=device)
    ce, hinge, ce_reg = [], [], []
    for std in stds:
        scores = affine_forward(x, std * unit, b)[0]
        ce.append(float(softmax_cross_entropy(scores, y)[0]))
        hinge.append(float(multiclass_hinge_loss(scores, y)[0]))
        ce_reg.append(ce[-1] + lam * float(((std * unit) ** 2).sum()))
    return {"stds": stds, "ce": ce, "hinge": hinge, "ce_reg": ce_reg, "lam": lam,
            "chance_ce": math.log(classes), "chance_hinge": classes - 1.0}
