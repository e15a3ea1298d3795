"""Notebook 08: realistic buggy student versions (each must lose points), correct versions written
differently from the reference (each must keep full marks) and cheats (the answer key, the matching
library function: each must score 0 with the call named), grouped by function; BUGGY, CORRECT and
CHEATS at the end list them."""
from __future__ import annotations

import math
import random

import numpy as np
import torch

from .answer_key import RAW as R  # the references, callable from a student's function here

# --- expected_initial_loss -------------------------------------------------------------------------


def eil_log10(num_classes, loss="softmax", margin=1.0):
    return math.log10(num_classes) if loss == "softmax" else (num_classes - 1) * margin


def eil_log2(num_classes, loss="softmax", margin=1.0):
    return math.log2(num_classes) if loss == "softmax" else (num_classes - 1) * margin


def eil_negative(num_classes, loss="softmax", margin=1.0):
    return math.log(1 / num_classes) if loss == "softmax" else (num_classes - 1) * margin


def eil_probability(num_classes, loss="softmax", margin=1.0):
    return 1 / num_classes if loss == "softmax" else (num_classes - 1) * margin


def eil_hinge_all_classes(num_classes, loss="softmax", margin=1.0):
    return math.log(num_classes) if loss == "softmax" else num_classes * margin


def eil_hinge_no_margin(num_classes, loss="softmax", margin=1.0):
    return math.log(num_classes) if loss == "softmax" else float(num_classes - 1)


def eil_hinge_mean(num_classes, loss="softmax", margin=1.0):
    return math.log(num_classes) if loss == "softmax" else (num_classes - 1) * margin / num_classes


def eil_ignores_loss(num_classes, loss="softmax", margin=1.0):
    return math.log(num_classes)


def eil_tensor(num_classes, loss="softmax", margin=1.0):
    if loss == "softmax":
        return torch.log(torch.tensor(float(num_classes)))
    return torch.tensor((num_classes - 1) * margin)


def eil_log_c_minus_1(num_classes, loss="softmax", margin=1.0):
    return math.log(num_classes - 1) if loss == "softmax" else (num_classes - 1) * margin


def eil_alt_uniform_ce(num_classes, loss="softmax", margin=1.0):
    if loss == "softmax":
        p = torch.full((num_classes,), 1.0 / num_classes, dtype=torch.float64)
        return float(-torch.log(p[0]))
    if loss == "hinge":
        scores = torch.zeros(num_classes, dtype=torch.float64)
        return float((scores[1:] - scores[0] + margin).clamp(min=0).sum())
    raise ValueError(f"unknown loss {loss}")


def eil_alt_numpy(num_classes, loss="softmax", margin=1.0):
    if loss not in ("softmax", "hinge"):
        raise ValueError(loss)
    return float(np.log(num_classes)) if loss == "softmax" else float(margin * (num_classes - 1))


def eil_alt_dict(num_classes, loss="softmax", margin=1.0):
    table = {"softmax": lambda: -math.log(1.0 / num_classes), "hinge": lambda: sum(margin for _ in range(num_classes - 1))}
    if loss not in table:
        raise ValueError(f"loss must be softmax or hinge, got {loss}")
    return float(table[loss]())


def eil_answer_key(num_classes, loss="softmax", margin=1.0):
    from labkit.reference import practice

    return practice.expected_initial_loss(num_classes, loss, margin)


# --- update_to_weight_ratio -------------------------------------------------------------------------


def _pairs(w_before, w_after):
    if torch.is_tensor(w_before):
        return [(w_before, w_after)]
    return list(zip(w_before, w_after))


def uwr_squared(w_before, w_after):
    p = _pairs(w_before, w_after)
    return sum(float(((a - b) ** 2).sum()) for b, a in p) / sum(float((b ** 2).sum()) for b, _ in p)


def uwr_mean_of_ratios(w_before, w_after):
    p = _pairs(w_before, w_after)
    return sum(float((a - b).norm() / b.norm()) for b, a in p) / len(p)


def uwr_after_norm(w_before, w_after):
    p = _pairs(w_before, w_after)
    return math.sqrt(sum(float(((a - b) ** 2).sum()) for b, a in p) / sum(float((a ** 2).sum()) for _, a in p))


def uwr_norm_difference(w_before, w_after):
    p = _pairs(w_before, w_after)
    nb = math.sqrt(sum(float((b ** 2).sum()) for b, _ in p))
    na = math.sqrt(sum(float((a ** 2).sum()) for _, a in p))
    return abs(na - nb) / nb


def uwr_elementwise(w_before, w_after):
    p = _pairs(w_before, w_after)
    return float(torch.cat([((a - b).abs() / b.abs()).reshape(-1) for b, a in p]).mean())


def uwr_mean_abs(w_before, w_after):
    p = _pairs(w_before, w_after)
    return float(torch.cat([(a - b).abs().reshape(-1) for b, a in p]).mean() /
                 torch.cat([b.abs().reshape(-1) for b, _ in p]).mean())


def uwr_first_only(w_before, w_after):
    b, a = _pairs(w_before, w_after)[0]
    return float((a - b).norm() / b.norm())


def uwr_tensor(w_before, w_after):
    p = _pairs(w_before, w_after)
    return torch.sqrt(sum(((a - b) ** 2).sum() for b, a in p) / sum((b ** 2).sum() for b, _ in p))


def uwr_max_abs(w_before, w_after):
    p = _pairs(w_before, w_after)
    return max(float((a - b).abs().max()) for b, a in p) / max(float(b.abs().max()) for b, _ in p)


def uwr_alt_cat(w_before, w_after):
    p = _pairs(w_before, w_after)
    b = torch.cat([x.reshape(-1) for x, _ in p]).double()
    a = torch.cat([y.reshape(-1) for _, y in p]).double()
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))


def uwr_alt_numpy(w_before, w_after):
    p = _pairs(w_before, w_after)
    num = sum(np.sum((a.numpy() - b.numpy()) ** 2) for b, a in p)
    den = sum(np.sum(b.numpy() ** 2) for b, _ in p)
    return float(np.sqrt(num) / np.sqrt(den))


def uwr_alt_hypot(w_before, w_after):
    before = [w_before] if torch.is_tensor(w_before) else list(w_before)
    after = [w_after] if torch.is_tensor(w_after) else list(w_after)
    update = math.sqrt(sum(float(torch.sum((y - x) * (y - x))) for x, y in zip(before, after)))
    weight = math.sqrt(sum(float(torch.sum(x * x)) for x in before))
    return update / weight


def uwr_answer_key(w_before, w_after):
    import labkit.reference as ref

    return ref.update_to_weight_ratio(w_before, w_after)


# --- log_uniform ---------------------------------------------------------------------------------------


def _shape(size):
    return (size,) if isinstance(size, int) else tuple(size)


def lu_linear(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), generator=generator, dtype=torch.float64)
    return (low + (high - low) * u).to(device=device, dtype=dtype)


def lu_exp_of_log10(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), generator=generator, dtype=torch.float64)
    lo, hi = math.log10(low), math.log10(high)
    return torch.exp(lo + (hi - lo) * u).to(device=device, dtype=dtype)


def lu_no_offset(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), generator=generator, dtype=torch.float64)
    return (10 ** ((math.log10(high) - math.log10(low)) * u) * 1.0).to(device=device, dtype=dtype)


def lu_whole_powers(low, high, size, generator=None, dtype=torch.float64, device=None):
    e = torch.randint(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1, _shape(size), generator=generator)
    return (10.0 ** e.double()).to(device=device, dtype=dtype)


def lu_global_rng(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), dtype=torch.float64)
    lo, hi = math.log10(low), math.log10(high)
    return (10 ** (lo + (hi - lo) * u)).to(device=device, dtype=dtype)


def lu_fixed_seed(low, high, size, generator=None, dtype=torch.float64, device=None):
    g = torch.Generator().manual_seed(0)
    u = torch.rand(_shape(size), generator=g, dtype=torch.float64)
    lo, hi = math.log10(low), math.log10(high)
    return (10 ** (lo + (hi - lo) * u)).to(device=device, dtype=dtype)


def lu_ignores_dtype(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), generator=generator)
    lo, hi = math.log10(low), math.log10(high)
    return 10 ** (lo + (hi - lo) * u)


def lu_normal_exponent(low, high, size, generator=None, dtype=torch.float64, device=None):
    lo, hi = math.log10(low), math.log10(high)
    z = torch.randn(_shape(size), generator=generator, dtype=torch.float64)
    return (10 ** ((lo + hi) / 2 + (hi - lo) / 4 * z).clamp(lo, hi)).to(device=device, dtype=dtype)


def lu_flat_size(low, high, size, generator=None, dtype=torch.float64, device=None):
    n = size if isinstance(size, int) else size[0]
    u = torch.rand(n, generator=generator, dtype=torch.float64)
    lo, hi = math.log10(low), math.log10(high)
    return (10 ** (lo + (hi - lo) * u)).to(device=device, dtype=dtype)


def lu_alt_natural_log(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), generator=generator, dtype=torch.float64)
    return torch.exp(math.log(low) + (math.log(high) - math.log(low)) * u).clamp(low, high).to(
        device=device, dtype=dtype)


def lu_alt_geometric(low, high, size, generator=None, dtype=torch.float64, device=None):
    u = torch.rand(_shape(size), generator=generator, dtype=torch.float64)
    return (low * (high / low) ** u).clamp(low, high).to(device=device, dtype=dtype)


def lu_alt_uniform_(low, high, size, generator=None, dtype=torch.float64, device=None):
    e = torch.empty(_shape(size), dtype=torch.float64).uniform_(math.log10(low), math.log10(high), generator=generator)
    return torch.pow(10.0, e).clamp(low, high).to(device=device if device is not None else "cpu", dtype=dtype)


def lu_answer_key(low, high, size, generator=None, dtype=torch.float64, device=None):
    from labkit import reference

    return reference.log_uniform(low, high, size, generator=generator, dtype=dtype, device=device)


# --- random_search ---------------------------------------------------------------------------------------


def _draw(spec, generator):
    u = float(torch.rand((), generator=generator, dtype=torch.float64))
    if spec[0] == "log":
        lo, hi = math.log10(spec[1]), math.log10(spec[2])
        return min(max(10 ** (lo + (hi - lo) * u), spec[1]), spec[2])
    if spec[0] == "uniform":
        return spec[1] + (spec[2] - spec[1]) * u
    return spec[1][min(int(u * len(spec[1])), len(spec[1]) - 1)]


def _best_first(results):
    return sorted(results, key=lambda r: -math.inf if math.isnan(r[1]) else r[1], reverse=True)


def rs_ascending(objective, space, n_trials, generator=None):
    results = [(p, objective(p)) for p in ({n: _draw(s, generator) for n, s in space.items()} for _ in range(n_trials))]
    return sorted(results, key=lambda r: -math.inf if math.isnan(r[1]) else r[1])


def rs_nan_unsorted(objective, space, n_trials, generator=None):
    results = [(p, objective(p)) for p in ({n: _draw(s, generator) for n, s in space.items()} for _ in range(n_trials))]
    return sorted(results, key=lambda r: r[1], reverse=True)


def rs_log_linear(objective, space, n_trials, generator=None):
    results = []
    for _ in range(n_trials):
        p = {}
        for n, s in space.items():
            p[n] = _draw(("uniform", s[1], s[2]) if s[0] == "log" else s, generator)
        results.append((p, objective(p)))
    return _best_first(results)


def rs_one_draw_per_trial(objective, space, n_trials, generator=None):
    results = []
    for _ in range(n_trials):
        u = float(torch.rand((), generator=generator, dtype=torch.float64))
        p = {}
        for n, s in space.items():
            if s[0] == "log":
                lo, hi = math.log10(s[1]), math.log10(s[2])
                p[n] = 10 ** (lo + (hi - lo) * u)
            elif s[0] == "uniform":
                p[n] = s[1] + (s[2] - s[1]) * u
            else:
                p[n] = s[1][min(int(u * len(s[1])), len(s[1]) - 1)]
        results.append((p, objective(p)))
    return _best_first(results)


def rs_choice_never_last(objective, space, n_trials, generator=None):
    results = []
    for _ in range(n_trials):
        p = {}
        for n, s in space.items():
            if s[0] == "choice":
                u = float(torch.rand((), generator=generator, dtype=torch.float64))
                p[n] = s[1][int(u * (len(s[1]) - 1))]
            else:
                p[n] = _draw(s, generator)
        results.append((p, objective(p)))
    return _best_first(results)


def rs_python_random(objective, space, n_trials, generator=None):
    results = []
    for _ in range(n_trials):
        p = {}
        for n, s in space.items():
            if s[0] == "log":
                p[n] = 10 ** random.uniform(math.log10(s[1]), math.log10(s[2]))
            elif s[0] == "uniform":
                p[n] = random.uniform(s[1], s[2])
            else:
                p[n] = random.choice(s[1])
        results.append((p, objective(p)))
    return _best_first(results)


def rs_off_by_one(objective, space, n_trials, generator=None):
    results = [(p, objective(p)) for p in ({n: _draw(s, generator) for n, s in space.items()}
                                          for _ in range(n_trials - 1))]
    return _best_first(results)


def rs_best_only(objective, space, n_trials, generator=None):
    results = [(p, objective(p)) for p in ({n: _draw(s, generator) for n, s in space.items()} for _ in range(n_trials))]
    return _best_first(results)[:1]


def rs_scores_sorted_apart(objective, space, n_trials, generator=None):
    params = [{n: _draw(s, generator) for n, s in space.items()} for _ in range(n_trials)]
    scores = sorted((objective(p) for p in params), key=lambda v: -math.inf if math.isnan(v) else v, reverse=True)
    return list(zip(params, scores))


def rs_shared_dict(objective, space, n_trials, generator=None):
    results, p = [], {}
    for _ in range(n_trials):
        for n, s in space.items():
            p[n] = _draw(s, generator)
        results.append((p, objective(p)))
    return _best_first(results)


def rs_alt_numpy_argsort(objective, space, n_trials, generator=None):
    names = list(space)
    trials = []
    for _ in range(n_trials):
        trials.append({n: _draw(space[n], generator) for n in names})
    scores = np.array([float(objective(dict(t))) for t in trials])
    key = np.where(np.isnan(scores), -np.inf, scores)
    order = np.argsort(-key, kind="stable")
    return [(trials[i], float(scores[i])) for i in order]


def rs_alt_tensor_draws(objective, space, n_trials, generator=None):
    u = torch.rand(n_trials, len(space), generator=generator, dtype=torch.float64)
    results = []
    for i in range(n_trials):
        p = {}
        for j, (n, s) in enumerate(space.items()):
            if s[0] == "log":
                p[n] = float(s[1] * (s[2] / s[1]) ** u[i, j])
            elif s[0] == "uniform":
                p[n] = float(s[1] + (s[2] - s[1]) * u[i, j])
            else:
                p[n] = s[1][int(torch.clamp(u[i, j] * len(s[1]), max=len(s[1]) - 1))]
        results.append((p, objective(p)))
    good = [r for r in results if not math.isnan(r[1])]
    bad = [r for r in results if math.isnan(r[1])]
    return sorted(good, key=lambda r: r[1], reverse=True) + bad


def rs_alt_randint_choice(objective, space, n_trials, generator=None):
    results = []
    for _ in range(n_trials):
        p = {}
        for n, s in space.items():
            if s[0] == "choice":
                p[n] = s[1][int(torch.randint(len(s[1]), (), generator=generator))]
            elif s[0] == "log":
                e = torch.empty(()).double().uniform_(math.log10(s[1]), math.log10(s[2]), generator=generator)
                p[n] = min(max(float(10 ** e), s[1]), s[2])
            else:
                p[n] = float(torch.empty(()).double().uniform_(s[1], s[2], generator=generator))
        results.append((p, float(objective(p))))
    results.sort(key=lambda r: float("-inf") if r[1] != r[1] else r[1], reverse=True)
    return results


def rs_answer_key(objective, space, n_trials, generator=None):
    from labkit.reference import practice

    return practice.random_search(objective, space, n_trials, generator=generator)


# --- on_border ---------------------------------------------------------------------------------------------


def _u(value, low, high, log):
    if log:
        return (math.log10(value) - math.log10(low)) / (math.log10(high) - math.log10(low))
    return (value - low) / (high - low)


def ob_ignores_log(value, low, high, log=True, frac=0.1):
    u = (value - low) / (high - low)
    return u <= frac or u >= 1 - frac


def ob_low_only(value, low, high, log=True, frac=0.1):
    return _u(value, low, high, log) <= frac


def ob_strict(value, low, high, log=True, frac=0.1):
    u = _u(value, low, high, log)
    return u < frac or u > 1 - frac


def ob_fixed_frac(value, low, high, log=True, frac=0.1):
    u = _u(value, low, high, log)
    return u <= 0.1 or u >= 0.9


def ob_outside_false(value, low, high, log=True, frac=0.1):
    u = _u(value, low, high, log)
    return 0 <= u <= frac or 1 - frac <= u <= 1


def ob_unnormalised(value, low, high, log=True, frac=0.1):
    u = math.log10(value / low) if log else value - low
    return u <= frac or u >= 1 - frac


def ob_returns_position(value, low, high, log=True, frac=0.1):
    return _u(value, low, high, log)


def ob_natural_log_value(value, low, high, log=True, frac=0.1):
    u = (math.log(value) - math.log10(low)) / (math.log10(high) - math.log10(low)) if log else _u(value, low, high, log)
    return u <= frac or u >= 1 - frac


def ob_frac_of_value(value, low, high, log=True, frac=0.1):
    return value <= low * (1 + frac) or value >= high * (1 - frac)


def ob_alt_distance(value, low, high, log=True, frac=0.1):
    f = math.log10 if log else (lambda v: v)
    width = f(high) - f(low)
    return bool(min(f(value) - f(low), f(high) - f(value)) <= frac * width)


def ob_alt_numpy(value, low, high, log=True, frac=0.1):
    x = np.log10([low, value, high]) if log else np.array([low, value, high], dtype=float)
    u = (x[1] - x[0]) / (x[2] - x[0])
    return bool(u <= frac) or bool(u >= 1.0 - frac)


def ob_alt_not_inside(value, low, high, log=True, frac=0.1):
    u = _u(value, low, high, log)
    inside = frac < u < 1 - frac
    return not inside


def ob_answer_key(value, low, high, log=True, frac=0.1):
    from labkit import reference

    return reference.on_border(value, low, high, log=log, frac=frac)


# --- ema_update ---------------------------------------------------------------------------------------------


def ema_swapped(ema_params, params, decay=0.999):
    return [decay * p + (1 - decay) * e for e, p in zip(ema_params, params)]


def ema_in_place(ema_params, params, decay=0.999):
    for e, p in zip(ema_params, params):
        e.mul_(decay).add_((1 - decay) * p)
    return list(ema_params)


def ema_default_99(ema_params, params, decay=0.99):
    return [decay * e + (1 - decay) * p for e, p in zip(ema_params, params)]


def ema_plain_mean(ema_params, params, decay=0.999):
    return [(e + p) / 2 for e, p in zip(ema_params, params)]


def ema_returns_params(ema_params, params, decay=0.999):
    return [p.clone() for p in params]


def ema_no_one_minus(ema_params, params, decay=0.999):
    return [decay * e + decay * p for e, p in zip(ema_params, params)]


def ema_first_only(ema_params, params, decay=0.999):
    return [decay * ema_params[0] + (1 - decay) * params[0]]


def ema_float64(ema_params, params, decay=0.999):
    return [decay * e.double() + (1 - decay) * p.double() for e, p in zip(ema_params, params)]


def ema_lerp_wrong_way(ema_params, params, decay=0.999):
    return [torch.lerp(e, p, decay) for e, p in zip(ema_params, params)]


def ema_alt_lerp(ema_params, params, decay=0.999):
    return [torch.lerp(e, p, 1 - decay) for e, p in zip(ema_params, params)]


def ema_alt_step(ema_params, params, decay=0.999):
    out = []
    for e, p in zip(ema_params, params):
        out.append(e - (1 - decay) * (e - p))
    return out


def ema_alt_add(ema_params, params, decay=0.999):
    return [torch.add(e * decay, p, alpha=1 - decay) for e, p in zip(ema_params, params)]


def ema_answer_key(ema_params, params, decay=0.999):
    from labkit.reference import practice

    return practice.ema_update(ema_params, params, decay)


# --- ensemble_predict --------------------------------------------------------------------------------------


def ens_sum(prob_list):
    return torch.stack(prob_list).sum(0)


def ens_votes(prob_list):
    c = prob_list[0].shape[1]
    return torch.stack([torch.nn.functional.one_hot(p.argmax(1), c).to(p.dtype) for p in prob_list]).mean(0)


def ens_geometric(prob_list):
    return torch.exp(torch.stack(prob_list).log().mean(0))


def ens_wrong_dim(prob_list):
    return torch.stack(prob_list, dim=1).mean(0)


def ens_cat(prob_list):
    return torch.cat(prob_list).mean(0)


def ens_max(prob_list):
    return torch.stack(prob_list).max(0).values


def ens_first(prob_list):
    return prob_list[0]


def ens_divide_by_n(prob_list):
    return torch.stack(prob_list).sum(0) / prob_list[0].shape[0]


def ens_renormalised_product(prob_list):
    p = torch.stack(prob_list).prod(0)
    return p / p.sum(1, keepdim=True)


def ens_alt_loop(prob_list):
    total = torch.zeros_like(prob_list[0])
    for p in prob_list:
        total = total + p
    return total / len(prob_list)


def ens_alt_sum_builtin(prob_list):
    return sum(prob_list) / len(prob_list)


def ens_alt_einsum(prob_list):
    m = len(prob_list)
    w = torch.full((m,), 1.0 / m, dtype=prob_list[0].dtype)
    return torch.einsum("m,mnc->nc", w, torch.stack(prob_list))


def ens_answer_key(prob_list):
    from labkit import reference

    return reference.ensemble_predict(prob_list)


# --- precision_recall --------------------------------------------------------------------------------------


def _counts(y_true, y_pred):
    t, p = torch.as_tensor(y_true).bool(), torch.as_tensor(y_pred).bool()
    return int((t & p).sum()), int((~t & p).sum()), int((t & ~p).sum()), int((~t & ~p).sum())


def pr_swapped(y_true, y_pred):
    tp, fp, fn, _ = _counts(y_true, y_pred)
    return tp / (tp + fn) if tp + fn else 0.0, tp / (tp + fp) if tp + fp else 0.0


def pr_nan(y_true, y_pred):
    tp, fp, fn, _ = _counts(y_true, y_pred)
    return (tp / (tp + fp) if tp + fp else float("nan")), tp / (tp + fn)


def pr_accuracy(y_true, y_pred):
    acc = float((torch.as_tensor(y_true) == torch.as_tensor(y_pred)).double().mean())
    return acc, acc


def pr_negative_class(y_true, y_pred):
    _, fp, fn, tn = _counts(y_true, y_pred)
    return tn / (tn + fn) if tn + fn else 0.0, tn / (tn + fp) if tn + fp else 0.0


def pr_over_all(y_true, y_pred):
    tp, _, _, _ = _counts(y_true, y_pred)
    n = len(y_true)
    return tp / n, tp / n


def pr_fp_in_recall(y_true, y_pred):
    tp, fp, fn, _ = _counts(y_true, y_pred)
    return tp / (tp + fp) if tp + fp else 0.0, tp / (tp + fp + fn)


def pr_floor_division(y_true, y_pred):
    tp, fp, fn, _ = _counts(y_true, y_pred)
    return float(tp // (tp + fp)) if tp + fp else 0.0, float(tp // (tp + fn))


def pr_tensor_sum_mask(y_true, y_pred):
    t, p = torch.as_tensor(y_true), torch.as_tensor(y_pred)
    tp = float((t * p).sum())
    return tp / float(p.sum()) if p.sum() else 0.0, tp / float(t.sum() + (p - t).clamp(min=0).sum())


def pr_zero_gives_one(y_true, y_pred):
    tp, fp, fn, _ = _counts(y_true, y_pred)
    return tp / (tp + fp) if tp + fp else 1.0, tp / (tp + fn) if tp + fn else 1.0


def pr_alt_numpy(y_true, y_pred):
    t, p = np.asarray(y_true).astype(bool), np.asarray(y_pred).astype(bool)
    tp = np.sum(t & p)
    prec = float(tp / p.sum()) if p.sum() > 0 else 0.0
    rec = float(tp / t.sum()) if t.sum() > 0 else 0.0
    return prec, rec


def pr_alt_loop(y_true, y_pred):
    tp = fp = fn = 0
    for a, b in zip(y_true.tolist(), y_pred.tolist()):
        tp += a == 1 and b == 1
        fp += a == 0 and b == 1
        fn += a == 1 and b == 0
    return (tp / (tp + fp) if tp + fp > 0 else 0.0), (tp / (tp + fn) if tp + fn > 0 else 0.0)


def pr_alt_confusion(y_true, y_pred):
    cm = torch.zeros(2, 2)
    for a, b in zip(torch.as_tensor(y_true).long(), torch.as_tensor(y_pred).long()):
        cm[a, b] += 1
    tp, fp, fn = float(cm[1, 1]), float(cm[0, 1]), float(cm[1, 0])
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def pr_answer_key(y_true, y_pred):
    from labkit.reference import practice

    return practice.precision_recall(y_true, y_pred)


# --- roc_auc ----------------------------------------------------------------------------------------------------


def _split(y_true, scores):
    t = torch.as_tensor(y_true).bool()
    s = torch.as_tensor(scores).double()
    return s[t], s[~t]


def auc_strict(y_true, scores):
    pos, neg = _split(y_true, scores)
    return float((pos[:, None] > neg[None, :]).double().mean())


def auc_ties_count_one(y_true, scores):
    pos, neg = _split(y_true, scores)
    return float((pos[:, None] >= neg[None, :]).double().mean())


def auc_inverted(y_true, scores):
    pos, neg = _split(y_true, scores)
    return float(((pos[:, None] < neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).double().mean())


def auc_argsort_ranks(y_true, scores):
    t = torch.as_tensor(y_true).bool()
    s = torch.as_tensor(scores).double()
    ranks = torch.empty_like(s)
    ranks[torch.argsort(s)] = torch.arange(1, len(s) + 1, dtype=torch.float64)
    p, n = int(t.sum()), int((~t).sum())
    return float((ranks[t].sum() - p * (p + 1) / 2) / (p * n))


def auc_hard_predictions(y_true, scores):
    pos, neg = _split(y_true, scores)
    thr = float(torch.as_tensor(scores).double().median())
    hp, hn = (pos > thr).double(), (neg > thr).double()
    return float(((hp[:, None] > hn[None, :]) + 0.5 * (hp[:, None] == hn[None, :])).double().mean())


def auc_trapezoid_per_sample(y_true, scores):
    """Walks the samples in score order, one ROC step each, ignoring that tied scores move together."""
    t = torch.as_tensor(y_true).bool()
    order = torch.argsort(torch.as_tensor(scores).double(), descending=True, stable=True)
    tps = torch.cumsum(t[order].double(), 0)
    fps = torch.cumsum((~t[order]).double(), 0)
    tpr = torch.cat([torch.zeros(1, dtype=torch.float64), tps / tps[-1]])
    fpr = torch.cat([torch.zeros(1, dtype=torch.float64), fps / fps[-1]])
    return float(torch.trapezoid(tpr, fpr))


def auc_normalised_by_n2(y_true, scores):
    pos, neg = _split(y_true, scores)
    n = len(pos) + len(neg)
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).double().sum() / (n * n / 4))


def auc_tensor(y_true, scores):
    pos, neg = _split(y_true, scores)
    return ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).double().mean()


def auc_no_error(y_true, scores):
    pos, neg = _split(y_true, scores)
    if len(pos) == 0 or len(neg) == 0:
        return 0.5
    return float(((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).double().mean())


def auc_alt_pairs(y_true, scores):
    pos, neg = _split(y_true, scores)
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("one class only")
    return float(((pos[:, None] > neg[None, :]).double() + 0.5 * (pos[:, None] == neg[None, :]).double()).mean())


def auc_alt_roc_curve(y_true, scores):
    t = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    if t.all() or not t.any():
        raise ValueError("one class only")
    thresholds = np.unique(s)[::-1]
    tpr = [0.0] + [float((s[t] >= th).mean()) for th in thresholds]
    fpr = [0.0] + [float((s[~t] >= th).mean()) for th in thresholds]
    return float(np.trapz(tpr, fpr)) if hasattr(np, "trapz") else float(np.trapezoid(tpr, fpr))


def auc_alt_loops(y_true, scores):
    pos = [float(s) for s, y in zip(scores, y_true) if int(y) == 1]
    neg = [float(s) for s, y in zip(scores, y_true) if int(y) == 0]
    if not pos or not neg:
        raise ValueError("roc_auc needs both classes")
    wins = 0.0
    for a in pos:
        for b in neg:
            wins += 1.0 if a > b else 0.5 if a == b else 0.0
    return wins / (len(pos) * len(neg))


def auc_answer_key(y_true, scores):
    from labkit.reference import practice

    return practice.roc_auc(y_true, scores)


# --- the catalogue ------------------------------------------------------------------------------------------------


BUGGY = {
    "expected_initial_loss": [eil_log10, eil_log2, eil_negative, eil_probability, eil_hinge_all_classes,
                              eil_hinge_no_margin, eil_hinge_mean, eil_ignores_loss, eil_tensor, eil_log_c_minus_1],
    "update_to_weight_ratio": [uwr_squared, uwr_mean_of_ratios, uwr_after_norm, uwr_norm_difference, uwr_elementwise,
                               uwr_mean_abs, uwr_first_only, uwr_tensor, uwr_max_abs],
    "log_uniform": [lu_linear, lu_exp_of_log10, lu_no_offset, lu_whole_powers, lu_global_rng, lu_fixed_seed,
                    lu_ignores_dtype, lu_normal_exponent, lu_flat_size],
    "random_search": [rs_ascending, rs_nan_unsorted, rs_log_linear, rs_one_draw_per_trial, rs_choice_never_last,
                      rs_python_random, rs_off_by_one, rs_best_only, rs_scores_sorted_apart, rs_shared_dict],
    "on_border": [ob_ignores_log, ob_low_only, ob_strict, ob_fixed_frac, ob_outside_false, ob_unnormalised,
                  ob_returns_position, ob_natural_log_value, ob_frac_of_value],
    "ema_update": [ema_swapped, ema_in_place, ema_default_99, ema_plain_mean, ema_returns_params, ema_no_one_minus,
                   ema_first_only, ema_float64, ema_lerp_wrong_way],
    "ensemble_predict": [ens_sum, ens_votes, ens_geometric, ens_wrong_dim, ens_cat, ens_max, ens_first,
                         ens_divide_by_n, ens_renormalised_product],
    "precision_recall": [pr_swapped, pr_nan, pr_accuracy, pr_negative_class, pr_over_all, pr_fp_in_recall,
                         pr_floor_division, pr_tensor_sum_mask, pr_zero_gives_one],
    "roc_auc": [auc_strict, auc_ties_count_one, auc_inverted, auc_argsort_ranks, auc_hard_predictions,
                auc_trapezoid_per_sample, auc_normalised_by_n2, auc_tensor, auc_no_error],
}

CORRECT = {
    "expected_initial_loss": [R.expected_initial_loss, eil_alt_uniform_ce, eil_alt_numpy, eil_alt_dict],
    "update_to_weight_ratio": [R.update_to_weight_ratio, uwr_alt_cat, uwr_alt_numpy, uwr_alt_hypot],
    "log_uniform": [R.log_uniform, lu_alt_natural_log, lu_alt_geometric, lu_alt_uniform_],
    "random_search": [R.random_search, rs_alt_numpy_argsort, rs_alt_tensor_draws, rs_alt_randint_choice],
    "on_border": [R.on_border, ob_alt_distance, ob_alt_numpy, ob_alt_not_inside],
    "ema_update": [R.ema_update, ema_alt_lerp, ema_alt_step, ema_alt_add],
    "ensemble_predict": [R.ensemble_predict, ens_alt_loop, ens_alt_sum_builtin, ens_alt_einsum],
    "precision_recall": [R.precision_recall, pr_alt_numpy, pr_alt_loop, pr_alt_confusion],
    "roc_auc": [R.roc_auc, auc_alt_pairs, auc_alt_roc_curve, auc_alt_loops],
}

def pr_sklearn(y_true, y_pred):
    from sklearn.metrics import precision_score, recall_score

    t, p = y_true.cpu().numpy(), y_pred.cpu().numpy()
    return float(precision_score(t, p, zero_division=0)), float(recall_score(t, p, zero_division=0))


def auc_sklearn(y_true, scores):
    import sklearn.metrics

    return float(sklearn.metrics.roc_auc_score(y_true.cpu().numpy(), scores.cpu().numpy()))


CHEATS = {  # (function, version, the call the report must name)
    "expected_initial_loss": [(eil_answer_key, "labkit.reference.expected_initial_loss")],
    "update_to_weight_ratio": [(uwr_answer_key, "labkit.reference.update_to_weight_ratio")],
    "log_uniform": [(lu_answer_key, "labkit.reference.log_uniform")],
    "random_search": [(rs_answer_key, "labkit.reference.random_search")],
    "on_border": [(ob_answer_key, "labkit.reference.on_border")],
    "ema_update": [(ema_answer_key, "labkit.reference.ema_update")],
    "ensemble_predict": [(ens_answer_key, "labkit.reference.ensemble_predict")],
    "precision_recall": [(pr_answer_key, "labkit.reference.precision_recall"),
                         (pr_sklearn, "sklearn.metrics.precision_score")],
    "roc_auc": [(auc_answer_key, "labkit.reference.roc_auc"), (auc_sklearn, "sklearn.metrics.roc_auc_score")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("expected_initial_loss", eil_log10, "wrong logarithm"),
    ("expected_initial_loss", eil_negative, "wrong sign"),
    ("expected_initial_loss", eil_hinge_no_margin, "ignores the margin"),
    ("update_to_weight_ratio", uwr_squared, "square of the expected"),
    ("update_to_weight_ratio", uwr_mean_of_ratios, "one ratio per tensor"),
    ("log_uniform", lu_linear, "not on a log scale"),
    ("log_uniform", lu_whole_powers, "whole powers of ten"),
    ("log_uniform", lu_global_rng, "global RNG"),
    ("random_search", rs_ascending, "best first"),
    ("random_search", rs_nan_unsorted, "NaN"),
    ("random_search", rs_choice_never_last, "never came up"),
    ("random_search", rs_one_draw_per_trial, "correlated"),
    ("random_search", rs_scores_sorted_apart, "does not belong"),
    ("on_border", ob_ignores_log, "log10 scale"),
    ("on_border", ob_low_only, "upper end"),
    ("on_border", ob_strict, "<="),
    ("on_border", ob_returns_position, "True or False"),
    ("ema_update", ema_swapped, "decay weighs the new parameters"),
    ("ema_update", ema_in_place, "in place"),
    ("ensemble_predict", ens_sum, "divide the sum"),
    ("ensemble_predict", ens_votes, "votes"),
    ("precision_recall", pr_swapped, "swapped"),
    ("precision_recall", pr_nan, "not NaN"),
    ("roc_auc", auc_inverted, "1 - AUC"),
    ("roc_auc", auc_strict, "tied positive-negative pair"),
]
