"""Notebook 00: realistic buggy student versions (each must lose points), correct versions written
differently from the reference (each must keep full marks) and cheats (the matching built-in, autograd,
the answer key: each must score 0 with the call named), grouped by function; BUGGY, CORRECT and CHEATS
at the end list them. CHECK_PROBLEMS names the verdicts the checks get wrong today (the tests mark them
xfail)."""
from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F

from .answer_key import RAW as R  # the references, callable from a student's function here

# --- numerical_gradient -------------------------------------------------------------------------


def ng_one_sided(f, x, h=1e-5):
    g = torch.zeros_like(x)
    fx = float(f(x))
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + h
        g.view(-1)[i] = (float(f(x)) - fx) / h
        x.view(-1)[i] = old
    return g


def ng_divides_by_h(f, x, h=1e-5):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + h
        fp = float(f(x))
        x.view(-1)[i] = old - h
        fm = float(f(x))
        x.view(-1)[i] = old
        g.view(-1)[i] = (fp - fm) / h
    return g


def ng_no_restore(f, x, h=1e-5):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        old = x.view(-1)[i].item()
        x.view(-1)[i] = old + h
        fp = float(f(x))
        x.view(-1)[i] = old - h
        fm = float(f(x))
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_all_at_once(f, x, h=1e-5):
    return torch.full_like(x, (float(f(x + h)) - float(f(x - h))) / (2 * h))


def ng_flat(f, x, h=1e-5):
    return R.numerical_gradient(f, x, h).reshape(-1)


def ng_fixed_h(f, x, h=1e-5):
    return R.numerical_gradient(f, x, 1e-5)


def ng_float64_result(f, x, h=1e-5):
    return R.numerical_gradient(f, x.double(), h)


def ng_alt_clone_per_entry(f, x, h=1e-5):
    flat = x.reshape(-1)
    out = []
    for i in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[i] = h
        out.append((f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * h))
    return torch.stack([torch.as_tensor(v, dtype=x.dtype) for v in out]).reshape(x.shape)


def ng_rows_only(f, x, h=1e-5):
    """Loops over len(x): for a 2-D x, x[i] is a whole row, perturbed all at once."""
    g = torch.zeros_like(x)
    for i in range(len(x)):
        old = x[i].clone()
        x[i] = old + h
        fp = float(f(x))
        x[i] = old - h
        fm = float(f(x))
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def ng_saved_view(f, x, h=1e-5):
    """Saves the old entry as a view (no .item() or .clone()): 'old' moves with x, so x[i] = old - h is wrong."""
    g = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        old = flat[i]
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_float32_buffer(f, x, h=1e-5):
    """torch.zeros(x.shape) is float32 whatever x is: a float64 x gets a float32 gradient."""
    g = torch.zeros(x.shape)
    flat = x.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        fp = f(x).item()
        flat[i] = old - h
        fm = f(x).item()
        flat[i] = old
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_skips_last(f, x, h=1e-5):
    """Off by one: range(numel - 1) never fills the last entry."""
    g = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel() - 1):
        old = flat[i].item()
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_precedence(f, x, h=1e-5):
    """(fp - fm) / 2 * h divides by 2 and then multiplies by h."""
    g = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        fp = float(f(x))
        flat[i] = old - h
        fm = float(f(x))
        flat[i] = old
        g.view(-1)[i] = (fp - fm) / 2 * h
    return g


def ng_restore_by_adding(f, x, h=1e-5):
    """x[i] += h; x[i] -= 2h; x[i] += h: the round trip rounds, so x is not exactly restored."""
    g = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        flat[i] += h
        fp = float(f(x))
        flat[i] -= 2 * h
        fm = float(f(x))
        flat[i] += h
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_float32_eval(f, x, h=1e-5):
    """Evaluates f on a float32 copy of x: the differences drown in float32 rounding."""
    z = x.float()
    g = torch.zeros_like(x)
    for i in range(z.numel()):
        old = z.view(-1)[i].item()
        z.view(-1)[i] = old + h
        fp = float(f(z))
        z.view(-1)[i] = old - h
        fm = float(f(z))
        z.view(-1)[i] = old
        g.view(-1)[i] = (fp - fm) / (2 * h)
    return g


def ng_default_h_big(f, x, h=1e-3):
    """The default step is 1e-3 instead of the contract's 1e-5."""
    return R.numerical_gradient(f, x, h)


def ng_returns_list(f, x, h=1e-5):
    return R.numerical_gradient(f, x, h).reshape(-1).tolist()


def ng_clone_per_entry(f, x, h=1e-5):
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        xp, xm = x.clone(), x.clone()
        xp.view(-1)[i] += h
        xm.view(-1)[i] -= h
        g.view(-1)[i] = (f(xp) - f(xm)) / (2 * h)  # 0-d tensors written into the buffer
    return g


def ng_multi_index(f, x, h=1e-5):
    g = torch.empty_like(x)
    for idx in itertools.product(*[range(n) for n in x.shape]):
        old = x[idx].item()
        x[idx] = old + h
        fp = f(x)
        x[idx] = old - h
        fm = f(x)
        x[idx] = old
        g[idx] = (fp - fm) / (2 * h)
    return g


def ng_list_then_tensor(f, x, h=1e-5):
    work = x.detach().clone().reshape(-1)
    vals = []
    for i in range(work.numel()):
        old = work[i].item()
        work[i] = old + h
        fp = f(work.reshape(x.shape)).item()
        work[i] = old - h
        fm = f(work.reshape(x.shape)).item()
        work[i] = old
        vals.append((fp - fm) / (2 * h))
    return torch.tensor(vals, dtype=x.dtype, device=x.device).reshape(x.shape)


def ng_basis_vectors(f, x, h=1e-5):
    flat = x.reshape(-1)
    steps = torch.eye(flat.numel(), dtype=x.dtype, device=x.device) * h  # row i is h * e_i
    g = [(f((flat + e).reshape(x.shape)) - f((flat - e).reshape(x.shape))) / (2 * h) for e in steps]
    return torch.stack(g).reshape(x.shape)


# --- numerical_gradient_array -------------------------------------------------------------------


def nga_ignores_dout(f, x, dout, h=1e-5):
    return R.numerical_gradient(lambda z: f(z).sum(), x, h)


def nga_one_sided(f, x, dout, h=1e-5):
    base = (f(x) * dout).sum()
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        z = x.clone()
        z.view(-1)[i] += h
        g.view(-1)[i] = ((f(z) * dout).sum() - base) / h
    return g


def nga_no_restore(f, x, dout, h=1e-5):
    return ng_no_restore(lambda z: (f(z) * dout).sum(), x, h)


def nga_alt(f, x, dout, h=1e-5):
    g = torch.empty_like(x)
    for idx in range(x.numel()):
        plus, minus = x.clone(), x.clone()
        plus.view(-1)[idx] += h
        minus.view(-1)[idx] -= h
        g.view(-1)[idx] = torch.sum((f(plus) - f(minus)) * dout) / (2 * h)
    return g


def nga_float32_buffer(f, x, dout, h=1e-5):
    """torch.zeros(x.shape): a float32 result for a float64 x."""
    g = torch.zeros(x.shape)
    for i in range(x.numel()):
        xp, xm = x.clone(), x.clone()
        xp.view(-1)[i] += h
        xm.view(-1)[i] -= h
        g.view(-1)[i] = ((f(xp) - f(xm)) * dout).sum() / (2 * h)
    return g


def nga_elementwise(f, x, dout, h=1e-5):
    """Assumes f is elementwise and perturbs every entry at once."""
    return (f(x + h) - f(x - h)) / (2 * h) * dout


def nga_mean(f, x, dout, h=1e-5):
    """Averages f(x) * dout instead of summing it."""
    g = torch.zeros_like(x)
    for i in range(x.numel()):
        xp, xm = x.clone(), x.clone()
        xp.view(-1)[i] += h
        xm.view(-1)[i] -= h
        g.view(-1)[i] = ((f(xp) - f(xm)) * dout).mean() / (2 * h)
    return g


def nga_fixed_h(f, x, dout, h=1e-5):
    return R.numerical_gradient_array(f, x, dout, 1e-5)


def nga_divides_by_h(f, x, dout, h=1e-5):
    return R.numerical_gradient_array(f, x, dout, h) * 2


def nga_restore_by_adding(f, x, dout, h=1e-5):
    return ng_restore_by_adding(lambda z: (f(z) * dout).sum(), x, h)


def nga_tensordot(f, x, dout, h=1e-5):
    g = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        fp = f(x)
        flat[i] = old - h
        fm = f(x)
        flat[i] = old
        g.view(-1)[i] = torch.tensordot(fp - fm, dout, dims=dout.dim()) / (2 * h)
    return g


def nga_own_numerical_gradient(f, x, dout, h=1e-5):
    return ng_clone_per_entry(lambda z: torch.sum(f(z) * dout), x, h)


def nga_dot_multi_index(f, x, dout, h=1e-5):
    g = torch.empty_like(x)
    for idx in itertools.product(*[range(n) for n in x.shape]):
        xp, xm = x.clone(), x.clone()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = torch.dot((f(xp) - f(xm)).reshape(-1), dout.reshape(-1)) / (2 * h)
    return g


# --- rel_error ----------------------------------------------------------------------------------


def re_mean(a, b):
    return float(((a - b).abs() / torch.maximum(a.abs(), b.abs())).mean())


def re_cs231n_sum(a, b):
    return float(((a - b).abs() / torch.clamp(a.abs() + b.abs(), min=1e-8)).max())


def re_nan_on_zeros(a, b):
    return float(((a - b).abs() / torch.maximum(a.abs(), b.abs())).max())


def re_returns_tensor(a, b):
    return R.rel_error(a, b) * torch.ones(())


def re_denominator_a_only(a, b):
    num, den = (a - b).abs(), a.abs()
    return float(torch.where(den > 0, num / den.clamp(min=1e-300), torch.zeros_like(den)).max())


def re_alt_numpy(a, b):
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    den = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(den == 0, 0.0, np.abs(a - b) / np.where(den == 0, 1, den))
    if np.isnan(r).any():
        return float("inf")
    return float(r.max()) if r.size else 0.0


def re_tensor_max(a, b):
    """Returns the 0-d tensor of torch.max instead of a Python float."""
    return torch.max(torch.abs(a - b) / torch.maximum(torch.abs(a), torch.abs(b)).clamp(min=1e-300))


def re_float32(a, b):
    a, b = a.float(), b.float()
    den = torch.maximum(a.abs(), b.abs())
    return torch.where(den > 0, (a - b).abs() / den, torch.zeros_like(den)).max().item()


def re_clamp_1e8(a, b):
    """cs231n's max(1e-8, ...) guard: entries below 1e-8 are no longer relative."""
    return ((a - b).abs() / torch.maximum(a.abs(), b.abs()).clamp(min=1e-8)).max().item()


def re_eps_in_den(a, b):
    return ((a - b).abs() / (torch.maximum(a.abs(), b.abs()) + 1e-8)).max().item()


def re_masked_max(a, b):
    """Drops the 0/0 entries by masking: raises on all-zero inputs (the max of an empty tensor)."""
    den = torch.maximum(a.abs(), b.abs())
    keep = den > 0
    return ((a - b).abs()[keep] / den[keep]).max().item()


def re_builtin_max(a, b):
    """Python's max iterates over the first axis: right for 1-D, raises for a 2-D gradient."""
    r = torch.nan_to_num((a - b).abs() / torch.maximum(a.abs(), b.abs()), nan=0.0)
    return float(max(r))


def re_global_scale(a, b):
    """max|a - b| / max(max|a|, max|b|): one scale for every entry."""
    den = max(a.abs().max().item(), b.abs().max().item())
    return (a - b).abs().max().item() / den if den else 0.0


def re_norm_ratio(a, b):
    den = max(torch.linalg.norm(a).item(), torch.linalg.norm(b).item())
    return torch.linalg.norm(a - b).item() / den if den else 0.0


def re_nan_to_num(a, b):
    """Turns the NaN of a broken gradient into 0: the notebook asks for inf."""
    return torch.nan_to_num((a - b).abs() / torch.maximum(a.abs(), b.abs()), nan=0.0).max().item()


def re_where(a, b):
    """Right but for the notebook's rule that a NaN gives inf (this returns NaN)."""
    den = torch.maximum(a.abs(), b.abs())
    return float(torch.where(den == 0, torch.zeros_like(den), (a - b).abs() / den).max())


def re_python_loop(a, b):
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
    worst = 0.0
    for u, v in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist()):
        if u != u or v != v:
            return float("inf")
        den = max(abs(u), abs(v))
        if den > 0:
            worst = max(worst, abs(u - v) / den)
    return worst


def re_loop_without_the_rules(a, b):
    """Right on ordinary inputs, but neither a NaN gives inf nor do different shapes raise."""
    worst = 0.0
    for u, v in zip(a.reshape(-1).tolist(), b.reshape(-1).tolist()):
        den = max(abs(u), abs(v))
        if den > 0:
            worst = max(worst, abs(u - v) / den)
    return worst


def re_numpy_scalar(a, b):
    """Returns np.max(...): a numpy.float64, which is a subclass of Python's float."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError("a and b differ in shape")
    den = np.maximum(np.abs(a), np.abs(b))
    return np.inf if np.isnan(a).any() or np.isnan(b).any() else np.max(np.abs(a - b) / np.where(den == 0, 1.0, den))


# --- affine_forward / affine_backward -----------------------------------------------------------


def af_no_transpose(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def af_no_reshape(x, w, b):
    return x @ w.T + b, (x, w, b)


def af_no_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w.T, (x, w, b)


def af_inplace(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    x2.mul_(1.0)
    x2 += 0.0
    out = x2 @ w.T
    out += b
    x.zero_()
    return out, (x, w, b)


def af_float64(x, w, b):
    return (x.reshape(x.shape[0], -1).double() @ w.double().T + b.double()), (x, w, b)


def af_alt_einsum(x, w, b):
    return torch.einsum("nd,md->nm", x.flatten(1), w) + b[None, :], (x.flatten(1), x.shape, w)


def af_alt_linear(x, w, b):
    return F.linear(x.view(len(x), -1), w, b), {"x": x, "w": w, "b": b}


def af_hardcoded_3d(x, w, b):
    """Flattens with a hard-coded x.shape[1] * x.shape[2]."""
    return x.reshape(x.shape[0], x.shape[1] * x.shape[2]) @ w.T + b, (x, w, b)


def af_float32_buffer(x, w, b):
    """torch.zeros(N, M) is float32: float64 inputs lose precision."""
    n = x.shape[0]
    out = torch.zeros(n, w.shape[0])
    out += x.reshape(n, -1) @ w.T + b
    return out, (x, w, b)


def af_bias_column(x, w, b):
    """b as a column (M, 1): broadcasts against the wrong axis."""
    return x.reshape(x.shape[0], -1) @ w.T + b.reshape(-1, 1), (x, w, b)


def af_transposed_flatten(x, w, b):
    """x.T reverses every axis: the flattened features come out in the wrong order."""
    n = x.shape[0]
    return x.T.reshape(-1, n).T @ w.T + b, (x, w, b)


def af_swapped(x, w, b):
    """Returns (cache, out)."""
    out, cache = R.affine_forward(x, w, b)
    return cache, out


def af_mutates_w(x, w, b):
    """Transposes w in place with w.t_()."""
    w.t_()
    return x.reshape(x.shape[0], -1) @ w + b, (x, w.t(), b)


def af_addmm(x, w, b):
    return torch.addmm(b, x.reshape(x.shape[0], -1), w.T), (x, w, b)


def af_list(x, w, b):
    out = x.reshape(-1, w.shape[1]) @ w.t()
    out += b  # in place on a fresh tensor
    return [out, [x, w, b]]


def af_loop_outputs(x, w, b):
    x2 = torch.flatten(x, start_dim=1)
    out = x2.new_zeros(x2.shape[0], w.shape[0])
    for j in range(w.shape[0]):
        out[:, j] = x2 @ w[j] + b[j]
    return out, (x, w, b)


def ab_dw_transposed(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w).reshape(x.shape), x2.T @ dout, dout.sum(0)


def ab_db_wrong_axis(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    return (dout @ w).reshape(x.shape), dout.T @ x2, dout.sum(1)


def ab_dx_not_reshaped(dout, cache):
    x, w, b = cache
    return dout @ w, dout.T @ x.reshape(x.shape[0], -1), dout.sum(0)


def ab_db_mean(dout, cache):
    x, w, b = cache
    return (dout @ w).reshape(x.shape), dout.T @ x.reshape(x.shape[0], -1), dout.mean(0)


def ab_dw_scaled(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    return (dout @ w).reshape(x.shape), dout.T @ x.reshape(n, -1) / n, dout.sum(0)


def ab_alt_einsum(dout, cache):
    x2, shape, w = cache
    return torch.einsum("nm,md->nd", dout, w).reshape(shape), torch.einsum("nm,nd->md", dout, x2), dout.sum(0)


def ab_alt_dict(dout, cache):
    x, w = cache["x"], cache["w"]
    return (dout.matmul(w)).view(x.shape), dout.t().matmul(x.view(len(x), -1)), torch.ones(len(x), dtype=dout.dtype) @ dout


def ab_db_keepdim(dout, cache):
    """db = dout.sum(0, keepdim=True) has shape (1, M); dx and dw are right."""
    x, w, b = cache
    return (dout @ w).reshape(x.shape), dout.T @ x.reshape(x.shape[0], -1), dout.sum(0, keepdim=True)


def ab_dw_float32_buffer(dout, cache):
    """Accumulates dw in torch.zeros(w.shape): float32 for float64 inputs."""
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dw = torch.zeros(w.shape)
    for n in range(x2.shape[0]):
        dw += torch.outer(dout[n], x2[n])
    return (dout @ w).reshape(x.shape), dw, dout.sum(0)


def ab_db_sum_all(dout, cache):
    x, w, b = cache
    return (dout @ w).reshape(x.shape), dout.T @ x.reshape(x.shape[0], -1), dout.sum()


def ab_dx_w_transposed(dout, cache):
    x, w, b = cache
    return (dout @ w.T).reshape(x.shape), dout.T @ x.reshape(x.shape[0], -1), dout.sum(0)


def ab_order_swapped(dout, cache):
    """Returns (dw, dx, db)."""
    x, w, b = cache
    return dout.T @ x.reshape(x.shape[0], -1), (dout @ w).reshape(x.shape), dout.sum(0)


def ab_dw_no_reshape(dout, cache):
    x, w, b = cache
    return (dout @ w).reshape(x.shape), dout.T @ x, dout.sum(0)


def ab_loop_batch(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dw = torch.zeros_like(w)
    for n in range(x2.shape[0]):
        dw += torch.outer(dout[n], x2[n])
    return (dout @ w).reshape(x.shape), dw, dout.sum(0)


def ab_list_transposes(dout, cache):
    """A list, and dw as the transpose of x2.T @ dout (a non-contiguous tensor)."""
    x, w, b = cache
    x2 = x.reshape(len(x), -1)
    return [(w.T @ dout.T).T.reshape(x.shape), (x2.T @ dout).T, dout.T.sum(1)]


# --- mse_loss -----------------------------------------------------------------------------------


def mse_sum(pred, target):
    d = pred - target
    return (d ** 2).sum(), 2 * d


def mse_no_two(pred, target):
    d = pred - target
    return (d ** 2).mean(), d / d.numel()


def mse_batch_mean(pred, target):
    d = pred - target
    return (d ** 2).sum() / d.shape[0], 2 * d / d.shape[0]


def mse_alt(pred, target):
    loss = F.mse_loss(pred, target)
    return loss, (pred - target) * (2.0 / pred.numel())


def mse_float32_constant(pred, target):
    """torch.tensor(2 / n) is a float32 constant: the gradient is rounded to float32."""
    d = pred - target
    return (d * d).mean(), d * torch.tensor(2.0 / d.numel())


def mse_floor_division(pred, target):
    d = pred - target
    return (d ** 2).sum() // d.numel(), 2 * d / d.numel()


def mse_hardcoded_2d(pred, target):
    d = pred - target
    n = pred.shape[0] * pred.shape[1]
    return (d ** 2).sum() / n, 2 * d / n


def mse_swapped(pred, target):
    """Returns (dpred, loss)."""
    loss, d = R.mse_loss(pred, target)
    return d, loss


def mse_grad_sign(pred, target):
    d = target - pred
    return (d ** 2).mean(), 2 * d / d.numel()


def mse_mutates_pred(pred, target):
    pred -= target
    return (pred ** 2).mean(), 2 * pred / pred.numel()


def mse_float64_grad(pred, target):
    d = (pred - target).double()
    return (d ** 2).mean().to(pred.dtype), 2 * d / d.numel()


def mse_float64_loss(pred, target):
    """The gradient keeps the dtype, the loss is float64 whatever the input."""
    d = pred - target
    return (d.double() ** 2).mean(), 2 * d / d.numel()


def mse_float_loss(pred, target):
    """The loss as a Python float: the contract does not fix the loss's type and the check accepts it."""
    d = pred - target
    return (d ** 2).mean().item(), 2 * d / d.numel()


def mse_list_inplace(pred, target):
    g = pred - target
    loss = torch.sum(g * g) / g.numel()
    g.mul_(2.0 / g.numel())  # in place on a fresh tensor
    return [loss, g]


def mse_F_sum(pred, target):
    return F.mse_loss(pred, target, reduction="sum") / pred.numel(), torch.sub(pred, target).mul(2).div(pred.numel())


# --- l1_loss ------------------------------------------------------------------------------------


def l1_sign_at_zero(pred, target):
    d = pred - target
    return d.abs().mean(), ((d > 0).to(d.dtype) * 2 - 1) / d.numel()


def l1_sum(pred, target):
    d = pred - target
    return d.abs().sum(), torch.sign(d)


def l1_alt(pred, target):
    d = pred - target
    g = torch.where(d > 0, 1.0, torch.where(d < 0, -1.0, 0.0)).to(d.dtype)
    return torch.mean(torch.abs(d)), g / d.numel()


def l1_ge_zero(pred, target):
    """where(d >= 0, 1, -1) gives +1 at a tie."""
    d = pred - target
    return d.abs().mean(), torch.where(d >= 0, 1.0, -1.0).to(d.dtype) / d.numel()


def l1_divide_by_abs(pred, target):
    """d / |d| is NaN at a tie."""
    d = pred - target
    return d.abs().mean(), d / d.abs() / d.numel()


def l1_copysign(pred, target):
    """copysign(1, d) is +1 at d = +0."""
    d = pred - target
    return d.abs().mean(), torch.copysign(torch.ones_like(d), d) / d.numel()


def l1_grad_not_divided(pred, target):
    d = pred - target
    return d.abs().mean(), torch.sign(d)


def l1_batch_mean(pred, target):
    d = pred - target
    return d.abs().sum() / len(d), torch.sign(d) / len(d)


def l1_float32_grad(pred, target):
    d = pred - target
    return d.abs().mean(), torch.sign(d).float() / d.numel()


def l1_two_masks(pred, target):
    d = pred - target
    g = (d > 0).to(d.dtype) - (d < 0).to(d.dtype)
    return d.abs().sum() / d.numel(), g / d.numel()


def l1_float_loss_sgn(pred, target):
    d = torch.sub(pred, target)
    return float(torch.abs(d).sum() / d.numel()), torch.sgn(d).div(d.numel())


# --- softmax_cross_entropy ----------------------------------------------------------------------


def ce_no_shift(scores, y):
    n, c = scores.shape
    p = torch.exp(scores) / torch.exp(scores).sum(1, keepdim=True)
    t = F.one_hot(y, c).to(scores.dtype) if y.dim() == 1 else y
    return -(t * torch.log(p)).sum() / n, (p - t) / n


def ce_no_mean(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return loss * scores.shape[0], d * scores.shape[0]


def ce_grad_no_mean(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return loss, d * scores.shape[0]


def ce_hard_only(scores, y):
    n = scores.shape[0]
    logp = scores - torch.logsumexp(scores, 1, keepdim=True)
    d = logp.exp()
    d[torch.arange(n), y] -= 1
    return -logp[torch.arange(n), y].mean(), d / n


def ce_grad_sign(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return loss, -d


def ce_log_of_softmax(scores, y):
    n, c = scores.shape
    shifted = scores - scores.max(1, keepdim=True).values
    p = shifted.exp() / shifted.exp().sum(1, keepdim=True)
    t = F.one_hot(y, c).to(scores.dtype) if y.dim() == 1 else y
    return -(t * torch.log(p)).sum() / n, (p - t) / n


def ce_alt_logsumexp(scores, y):
    n, c = scores.shape
    target = y.to(scores.dtype) if y.dim() == 2 else torch.zeros_like(scores).scatter_(1, y[:, None], 1.0)
    logp = scores - torch.logsumexp(scores, dim=1, keepdim=True)
    return -(target * logp).sum() / n, (torch.softmax(scores, 1) * target.sum(1, keepdim=True) - target) / n


def _targets(scores, y):
    return F.one_hot(y, scores.shape[1]).to(scores.dtype) if y.dim() == 1 else y


def ce_global_max(scores, y):
    """Shifts by the max of the whole batch: a row far below it underflows to 0 / 0."""
    n = scores.shape[0]
    e = torch.exp(scores - scores.max())
    p = e / e.sum(1, keepdim=True)
    t = _targets(scores, y)
    return -(t * torch.log(p)).sum() / n, (p - t) / n


def ce_log_eps(scores, y):
    """log(p + 1e-12): finite, but wrong once a probability is below 1e-12."""
    n = scores.shape[0]
    p = torch.softmax(scores, dim=1)
    t = _targets(scores, y)
    return -(t * torch.log(p + 1e-12)).sum() / n, (p - t) / n


def ce_softmax_dim0(scores, y):
    n = scores.shape[0]
    p = torch.softmax(scores, dim=0)
    t = _targets(scores, y)
    return -(t * torch.log(p)).sum() / n, (p - t) / n


def ce_soft_argmax(scores, y):
    """Turns soft labels into hard ones with argmax."""
    return R.softmax_cross_entropy(scores, y.argmax(1) if y.dim() == 2 else y)


def ce_mean_over_classes_too(scores, y):
    logp = torch.log_softmax(scores, 1)
    t = _targets(scores, y)
    return -(t * logp).mean(), (logp.exp() - t) / scores.numel()


def ce_mutates_scores(scores, y):
    """numpy habit: scores -= max, in place on the caller's tensor."""
    scores -= scores.max(dim=1, keepdim=True).values
    return R.softmax_cross_entropy(scores, y)


def ce_lse_no_keepdim(scores, y):
    """logsumexp without keepdim=True: (N, C) - (N,) broadcasts along the wrong axis."""
    n = scores.shape[0]
    logp = scores - torch.logsumexp(scores, dim=1)
    t = _targets(scores, y)
    return -(t * logp).sum() / n, (logp.exp() - t) / n


def ce_float32_labels(scores, y):
    n = scores.shape[0]
    t = F.one_hot(y, scores.shape[1]).float() if y.dim() == 1 else y.float()
    logp = torch.log_softmax(scores, 1)
    return -(t * logp).sum() / n, (logp.exp() - t) / n


def ce_swapped(scores, y):
    loss, d = R.softmax_cross_entropy(scores, y)
    return d, loss


def ce_F_cross_entropy(scores, y):
    """F.cross_entropy takes class ids or (N, C) probabilities."""
    return F.cross_entropy(scores, y), (torch.softmax(scores, dim=1) - _targets(scores, y)) / scores.shape[0]


def ce_loop_over_classes(scores, y):
    n, c = scores.shape
    if y.dim() == 1:
        t = torch.zeros_like(scores)
        for k in range(c):
            t[:, k] = (y == k).to(scores.dtype)
    else:
        t = y
    m = scores.max(dim=1, keepdim=True).values
    e = torch.exp(scores - m)
    s = e.sum(dim=1, keepdim=True)
    logp = scores - m - torch.log(s)
    return -(t * logp).sum() / n, (e / s - t) / n


def ce_eye_einsum(scores, y):
    n, c = scores.shape
    t = torch.eye(c, dtype=scores.dtype, device=scores.device)[y] if y.dim() == 1 else y
    loss = -torch.einsum("nc,nc->", t, F.log_softmax(scores, dim=-1)) / n
    d = F.softmax(scores, dim=-1)
    d -= t  # in place on a fresh tensor
    d /= n
    return loss, d


# --- binary_cross_entropy_with_logits -----------------------------------------------------------


def bce_naive(s, y):
    p = torch.sigmoid(s)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), (p - y) / s.numel()


def bce_sum(s, y):
    loss, d = R.binary_cross_entropy_with_logits(s, y)
    return loss * s.numel(), d * s.numel()


def bce_grad_sign(s, y):
    loss, d = R.binary_cross_entropy_with_logits(s, y)
    return loss, (y - torch.sigmoid(s)) / s.numel()


def bce_alt_softplus(s, y):
    return (F.softplus(-s) * y + F.softplus(s) * (1 - y)).mean(), (torch.sigmoid(s) - y) / s.numel()


def bce_unstable_rewrite(s, y):
    """log(1 + exp(-s)) + (1 - y) s: exp(1e4) overflows."""
    return (torch.log(1 + torch.exp(-s)) + (1 - y) * s).mean(), (torch.sigmoid(s) - y) / s.numel()


def bce_clamped_probs(s, y):
    """Clamps the probability to [1e-7, 1 - 1e-7]: finite but wrong for large |s|."""
    p = torch.sigmoid(s).clamp(1e-7, 1 - 1e-7)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean(), (p - y) / s.numel()


def bce_batch_mean(s, y):
    loss, d = R.binary_cross_entropy_with_logits(s, y)
    return loss * s.numel() / s.shape[0], d * s.numel() / s.shape[0]


def bce_hard_targets(s, y):
    """Rounds the targets to 0/1: soft targets unsupported."""
    lp = torch.where(y > 0.5, F.logsigmoid(s), F.logsigmoid(-s))
    return -lp.mean(), (torch.sigmoid(s) - (y > 0.5).to(s.dtype)) / s.numel()


def bce_exp_ratio_sigmoid(s, y):
    """sigmoid as exp(s) / (1 + exp(s)): inf / inf = NaN for large s."""
    loss = (s.clamp(min=0) - s * y + torch.log1p(torch.exp(-s.abs()))).mean()
    return loss, (torch.exp(s) / (1 + torch.exp(s)) - y) / s.numel()


def bce_logsigmoid(s, y):
    loss = -(y * F.logsigmoid(s) + (1 - y) * F.logsigmoid(-s)).mean()
    return loss, (torch.sigmoid(s) - y) / s.numel()


def bce_F_builtin(s, y):
    return F.binary_cross_entropy_with_logits(s, y), (torch.sigmoid(s) - y) / s.numel()


def bce_two_branches(s, y):
    pos = (1 - y) * s + torch.log1p(torch.exp(-s.clamp(min=0)))
    neg = -y * s + torch.log1p(torch.exp(s.clamp(max=0)))
    p = 1 / (1 + torch.exp(-s))  # exp(1e4) = inf gives 1 / inf = 0: fine
    return torch.where(s >= 0, pos, neg).mean(), (p - y) / s.numel()


# --- multiclass_hinge_loss ----------------------------------------------------------------------


def hinge_counts_correct(scores, y, margin=1.0):
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    active = (m > 0).to(scores.dtype)
    d = active.clone()
    d.scatter_(1, y[:, None], -(active.sum(1, keepdim=True) - 1))
    return m.sum() / n, d / n


def hinge_divides_by_c(scores, y, margin=1.0):
    loss, d = R.multiclass_hinge_loss(scores, y, margin)
    return loss / scores.shape[1], d / scores.shape[1]


def hinge_fixed_margin(scores, y, margin=1.0):
    return R.multiclass_hinge_loss(scores, y, 1.0)


def hinge_no_correct_grad(scores, y, margin=1.0):
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    m.scatter_(1, y[:, None], 0.0)
    return m.sum() / n, (m > 0).to(scores.dtype) / n


def hinge_alt_loop_free(scores, y, margin=1.0):
    n, c = scores.shape
    rows = torch.arange(n)
    diff = scores - scores[rows, y].unsqueeze(1) + margin
    mask = (diff > 0) & (torch.arange(c)[None, :] != y[:, None])
    loss = torch.where(mask, diff, torch.zeros_like(diff)).sum() / n
    d = mask.to(scores.dtype)
    d[rows, y] = -mask.sum(1).to(scores.dtype)
    return loss, d / n


def hinge_grad_counts_self(scores, y, margin=1.0):
    """The correct class's own margin is zeroed in the loss but counted in the gradient."""
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    active = (m > 0).to(scores.dtype)
    m.scatter_(1, y[:, None], 0.0)
    d = active.clone()
    d.scatter_(1, y[:, None], -active.sum(1, keepdim=True))
    return m.sum() / n, d / n


def hinge_ge_after_clamp(scores, y, margin=1.0):
    """(m >= 0) after the clamp is true everywhere."""
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    m.scatter_(1, y[:, None], 0.0)
    active = (m >= 0).to(scores.dtype)
    active.scatter_(1, y[:, None], 0.0)
    d = active.clone()
    d.scatter_(1, y[:, None], -active.sum(1, keepdim=True))
    return m.sum() / n, d / n


def hinge_batch_sum(scores, y, margin=1.0):
    loss, d = R.multiclass_hinge_loss(scores, y, margin)
    return loss * scores.shape[0], d * scores.shape[0]


def hinge_mean_over_all(scores, y, margin=1.0):
    n, c = scores.shape
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    m.scatter_(1, y[:, None], 0.0)
    a = (m > 0).to(scores.dtype)
    a.scatter_(1, y[:, None], -a.sum(1, keepdim=True))
    return m.mean(), a / (n * c)


def hinge_delta_keyword(scores, y, delta=1.0):
    """cs231n's name for the margin: the contract's keyword margin= is refused."""
    return R.multiclass_hinge_loss(scores, y, delta)


def hinge_squared(scores, y, margin=1.0):
    n = scores.shape[0]
    m = (scores - scores.gather(1, y[:, None]) + margin).clamp(min=0)
    m.scatter_(1, y[:, None], 0.0)
    d = 2 * m
    d.scatter_(1, y[:, None], -d.sum(1, keepdim=True))
    return (m ** 2).sum() / n, d / n


def hinge_mutates_scores(scores, y, margin=1.0):
    scores -= scores.gather(1, y[:, None])
    return R.multiclass_hinge_loss(scores, y, margin)


def hinge_skips_last_class(scores, y, margin=1.0):
    """Off by one: range(C - 1) never visits the last class."""
    n, c = scores.shape
    rows = torch.arange(n)
    correct = scores[rows, y]
    loss = scores.new_zeros(())
    d = torch.zeros_like(scores)
    for j in range(c - 1):
        m = (scores[:, j] - correct + margin).clamp(min=0) * (y != j)
        loss = loss + m.sum()
        d[:, j] += (m > 0).to(scores.dtype)
        d[rows, y] -= (m > 0).to(scores.dtype)
    return loss / n, d / n


def hinge_naive_loops(scores, y, margin=1.0):
    n, c = scores.shape
    loss = 0.0
    d = torch.zeros_like(scores)
    for i in range(n):
        yi = int(y[i])
        for j in range(c):
            if j == yi:
                continue
            m = scores[i, j] - scores[i, yi] + margin
            if m > 0:
                loss += float(m)
                d[i, j] += 1
                d[i, yi] -= 1
    return torch.tensor(loss / n, dtype=scores.dtype, device=scores.device), d / n


def hinge_masked_relu(scores, y, margin=1.0):
    n, c = scores.shape
    is_y = F.one_hot(y, c).bool()
    m = F.relu(scores - scores[is_y].unsqueeze(1) + margin).masked_fill(is_y, 0.0)
    a = (m > 0).to(scores.dtype)
    return m.sum(dim=1).mean(), (a - is_y.to(scores.dtype) * a.sum(dim=1, keepdim=True)) / n


def hinge_F_multi_margin(scores, y, margin=1.0):
    """torch's multi_margin_loss divides by C: multiply it back."""
    n, c = scores.shape
    loss = F.multi_margin_loss(scores, y, margin=margin) * c
    active = ((scores - scores.gather(1, y[:, None]) + margin) > 0).to(scores.dtype)
    active.scatter_(1, y[:, None], 0.0)
    active.scatter_(1, y[:, None], -active.sum(1, keepdim=True))
    return loss, active / n


def mse_einsum(pred, target):
    d = (pred - target).reshape(-1)
    return torch.einsum("i,i->", d, d) / d.numel(), (2.0 / d.numel()) * (pred - target)


# --- cheats: each scores 0 and the report names the call --------------------------------------------


def ng_autograd(f, x, h=1e-5):
    with torch.enable_grad():
        z = x.detach().clone().requires_grad_(True)
        f(z).backward()
    return z.grad.detach()


def nga_autograd(f, x, dout, h=1e-5):
    with torch.enable_grad():
        z = x.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad((f(z) * dout).sum(), z)
    return g


def ng_answer_key(f, x, h=1e-5):
    from labkit import gradcheck

    return gradcheck.numerical_gradient(f, x, h)


def re_answer_key_importlib(a, b):
    import importlib

    return importlib.import_module("labkit.reference").rel_error(a, b)


def af_answer_key_sys_modules(x, w, b):
    import sys

    return getattr(sys.modules["labkit.reference.layers"], "affine_forward")(x, w, b)


def ab_autograd(dout, cache):
    x, w, b = (t.detach().clone().requires_grad_(True) for t in cache)
    with torch.enable_grad():
        out = x.reshape(len(x), -1) @ w.T + b
        return torch.autograd.grad(out, (x, w, b), dout)


def ab_answer_key(dout, cache):
    import labkit.reference as ref

    return ref.affine_backward(dout, cache)


def ce_nn_module(scores, y):
    """torch.nn.CrossEntropyLoss goes through F.cross_entropy."""
    loss = torch.nn.CrossEntropyLoss()(scores, y)
    return loss, (torch.softmax(scores, dim=1) - _targets(scores, y)) / scores.shape[0]


def l1_builtin(pred, target):
    return F.l1_loss(pred, target), torch.sign(pred - target) / pred.numel()


def hinge_answer_key(scores, y, margin=1.0):
    from labkit.reference import losses

    return losses.multiclass_hinge_loss(scores, y, margin)


# --- the catalogue ------------------------------------------------------------------------------


BUGGY = {
    "numerical_gradient": [ng_one_sided, ng_divides_by_h, ng_no_restore, ng_all_at_once, ng_flat, ng_fixed_h,
                           ng_float64_result, ng_rows_only, ng_saved_view, ng_float32_buffer, ng_skips_last,
                           ng_precedence, ng_restore_by_adding, ng_float32_eval, ng_default_h_big, ng_returns_list],
    "numerical_gradient_array": [nga_ignores_dout, nga_one_sided, nga_no_restore, nga_float32_buffer, nga_elementwise,
                                 nga_mean, nga_fixed_h, nga_divides_by_h, nga_restore_by_adding],
    "rel_error": [re_nan_to_num, re_where, re_loop_without_the_rules, re_mean, re_cs231n_sum, re_nan_on_zeros, re_returns_tensor, re_denominator_a_only, re_tensor_max,
                  re_float32, re_clamp_1e8, re_eps_in_den, re_masked_max, re_builtin_max, re_global_scale,
                  re_norm_ratio],
    "affine_forward": [af_no_transpose, af_no_reshape, af_no_bias, af_inplace, af_float64, af_hardcoded_3d,
                       af_float32_buffer, af_bias_column, af_transposed_flatten, af_swapped, af_mutates_w],
    "affine_backward": [ab_dw_transposed, ab_db_wrong_axis, ab_dx_not_reshaped, ab_db_mean, ab_dw_scaled,
                        ab_db_keepdim, ab_dw_float32_buffer, ab_db_sum_all, ab_dx_w_transposed, ab_order_swapped,
                        ab_dw_no_reshape],
    "mse_loss": [mse_sum, mse_no_two, mse_batch_mean, mse_float32_constant, mse_floor_division, mse_hardcoded_2d,
                 mse_swapped, mse_grad_sign, mse_mutates_pred, mse_float64_grad, mse_float64_loss],
    "l1_loss": [l1_sign_at_zero, l1_sum, l1_ge_zero, l1_divide_by_abs, l1_copysign, l1_grad_not_divided,
                l1_batch_mean, l1_float32_grad],
    "softmax_cross_entropy": [ce_no_shift, ce_no_mean, ce_grad_no_mean, ce_hard_only, ce_grad_sign,
                              ce_log_of_softmax, ce_global_max, ce_log_eps, ce_softmax_dim0, ce_soft_argmax,
                              ce_mean_over_classes_too, ce_mutates_scores, ce_lse_no_keepdim, ce_float32_labels,
                              ce_swapped],
    "binary_cross_entropy_with_logits": [bce_naive, bce_sum, bce_grad_sign, bce_unstable_rewrite, bce_clamped_probs,
                                         bce_batch_mean, bce_hard_targets, bce_exp_ratio_sigmoid],
    "multiclass_hinge_loss": [hinge_counts_correct, hinge_divides_by_c, hinge_fixed_margin, hinge_no_correct_grad,
                              hinge_grad_counts_self, hinge_ge_after_clamp, hinge_batch_sum, hinge_mean_over_all,
                              hinge_delta_keyword, hinge_squared, hinge_mutates_scores, hinge_skips_last_class],
}

CORRECT = {
    "numerical_gradient": [R.numerical_gradient, ng_alt_clone_per_entry, ng_clone_per_entry, ng_multi_index,
                           ng_list_then_tensor, ng_basis_vectors],
    "numerical_gradient_array": [R.numerical_gradient_array, nga_alt, nga_tensordot, nga_own_numerical_gradient,
                                 nga_dot_multi_index],
    "rel_error": [R.rel_error, re_alt_numpy, re_python_loop, re_numpy_scalar],
    "affine_forward": [R.affine_forward, af_alt_einsum, af_addmm, af_list, af_loop_outputs],
    "affine_backward": [(R.affine_forward, R.affine_backward), (af_alt_einsum, ab_alt_einsum),
                        (af_alt_linear, ab_alt_dict), (af_list, ab_loop_batch), ab_list_transposes],
    "mse_loss": [R.mse_loss, mse_float_loss, mse_list_inplace, mse_einsum],
    "l1_loss": [R.l1_loss, l1_alt, l1_two_masks, l1_float_loss_sgn],
    "softmax_cross_entropy": [R.softmax_cross_entropy, ce_alt_logsumexp, ce_loop_over_classes,
                              ce_eye_einsum],
    "binary_cross_entropy_with_logits": [R.binary_cross_entropy_with_logits, bce_alt_softplus, bce_logsigmoid,
                                         bce_two_branches],
    "multiclass_hinge_loss": [R.multiclass_hinge_loss, hinge_alt_loop_free, hinge_naive_loops, hinge_masked_relu],
}

CHEATS = {  # (function, version, the call the report must name)
    "numerical_gradient": [(ng_autograd, "torch.Tensor.backward"), (ng_answer_key, "labkit.gradcheck.numerical_gradient")],
    "numerical_gradient_array": [(nga_autograd, "torch.autograd.grad")],
    "rel_error": [(re_answer_key_importlib, "labkit.gradcheck.rel_error")],
    "affine_forward": [(af_alt_linear, "torch.nn.functional.linear"),
                       (af_answer_key_sys_modules, "labkit.reference.affine_forward")],
    "affine_backward": [(ab_autograd, "torch.autograd.grad"), (ab_answer_key, "labkit.reference.affine_backward")],
    "mse_loss": [(mse_alt, "torch.nn.functional.mse_loss"), (mse_F_sum, "torch.nn.functional.mse_loss")],
    "l1_loss": [(l1_builtin, "torch.nn.functional.l1_loss")],
    "softmax_cross_entropy": [(ce_F_cross_entropy, "torch.nn.functional.cross_entropy"),
                              (ce_nn_module, "torch.nn.functional.cross_entropy")],
    "binary_cross_entropy_with_logits": [(bce_F_builtin, "binary_cross_entropy_with_logits")],
    "multiclass_hinge_loss": [(hinge_F_multi_margin, "multi_margin_loss"),
                              (hinge_answer_key, "labkit.reference.multiclass_hinge_loss")],
}


# --- verdicts the checks get wrong today --------------------------------------------------------
# Each reason names the problem in labkit/checks. The tests mark these (version, seed) pairs
# xfail(strict=True): the suite stays green now and turns red once the check is fixed, as a reminder to
# delete the entry here. Seeds: None means every seed tried; EXTRA_SEEDS adds a seed that shows the problem.

# Versions a check could not judge right, with (the problem, the seeds where it shows; None = all).
# Empty: every problem the red-team review found (P1-P14) is fixed in labkit/checks; a new problem goes
# here and its tests are marked xfail(strict=True) until fixed.
CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS = {"af_no_reshape": [4], "af_transposed_flatten": [4], "nga_float32_buffer": [19],
               "numerical_gradient": [114], "numerical_gradient_array": [681], "affine_backward": [457]}


HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("numerical_gradient", ng_one_sided, "one-sided"),
    ("numerical_gradient", ng_divides_by_h, "twice the gradient"),
    ("numerical_gradient", ng_fixed_h, "argument h"),
    ("numerical_gradient", ng_returns_list, "should be a torch.Tensor"),
    ("numerical_gradient", ng_flat, "with the right number of entries"),
    ("numerical_gradient", ng_float32_buffer, "float64 inputs came back as float32"),
    ("numerical_gradient_array", nga_ignores_dout, "ignores dout"),
    ("numerical_gradient_array", nga_float32_buffer, "float64 inputs came back as float32"),
    ("rel_error", re_mean, "you took the mean"),
    ("rel_error", re_cs231n_sum, "|a| + |b|"),
    ("rel_error", re_nan_on_zeros, "0/0 gives NaN"),
    ("rel_error", re_tensor_max, ".item()"),
    ("affine_forward", af_no_bias, "misses the bias"),
    ("affine_forward", af_inplace, "in place"),
    ("affine_forward", af_float64, "float32 inputs came back as float64"),
    ("affine_backward", ab_dx_not_reshaped, "dx has shape"),
    ("affine_backward", ab_dw_transposed, "shape of its transpose"),
    ("affine_backward", ab_db_mean, "N (the batch size) times too small"),
    ("mse_loss", mse_no_two, "2 times too small"),
    ("mse_loss", mse_sum, "number of elements times too large"),
    ("mse_loss", mse_grad_sign, "wrong sign"),
    ("mse_loss", mse_mutates_pred, "in place"),
    ("mse_loss", mse_float64_grad, "came back as float64"),
    ("mse_loss", mse_swapped, "should be a single number"),
    ("l1_loss", l1_sign_at_zero, "sign(0) = 0"),
    ("l1_loss", l1_divide_by_abs, "at a tie"),
    ("softmax_cross_entropy", ce_no_shift, "overflows"),
    ("softmax_cross_entropy", ce_no_mean, "N (the batch size) times too large"),
    ("softmax_cross_entropy", ce_grad_sign, "wrong sign"),
    ("softmax_cross_entropy", ce_mutates_scores, "in place"),
    ("softmax_cross_entropy", ce_hard_only, "soft labels"),
    ("binary_cross_entropy_with_logits", bce_naive, "for large |s|"),
    ("binary_cross_entropy_with_logits", bce_sum, "number of elements times too large"),
    ("multiclass_hinge_loss", hinge_counts_correct, "one margin too large"),
    ("multiclass_hinge_loss", hinge_divides_by_c, "C (the size of dim 1) times too small"),
    ("multiclass_hinge_loss", hinge_mean_over_all, "C (the size of dim 1) times too small"),
    ("multiclass_hinge_loss", hinge_fixed_margin, "margin argument is not used"),
    ("multiclass_hinge_loss", hinge_no_correct_grad, "correct-class column"),
    ("multiclass_hinge_loss", hinge_batch_sum, "N (the batch size) times too large"),
    ("multiclass_hinge_loss", hinge_delta_keyword, "keyword argument 'margin'"),
]
