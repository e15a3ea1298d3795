"""Numerical gradients and the tools of a good gradient check.

The three functions of section 00 of the contract (``numerical_gradient``,
``numerical_gradient_array``, ``rel_error``) are the references of the students' versions; the rest
(`sparse_grad_check`, `kink_entries`, `check_layer_gradients`) is what the checks and the notebooks
use to compare an analytic gradient with centred differences properly: in float64, a few sampled
entries of every parameter, and telling a kink apart from a bug.

Example
-------
>>> f = lambda x: (x ** 2).sum()
>>> x = torch.tensor([1.0, -2.0], dtype=torch.float64)
>>> torch.allclose(numerical_gradient(f, x), 2 * x)
True
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

__all__ = [
    "numerical_gradient",
    "numerical_gradient_array",
    "rel_error",
    "sample_indices",
    "one_sided_slopes",
    "is_kink",
    "GradCheckEntry",
    "GradCheckReport",
    "sparse_grad_check",
]


def _as_scalar(value) -> float:
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise ValueError(f"f must return a scalar, got a tensor of shape {tuple(value.shape)}")
        return float(value.item())
    return float(value)


def numerical_gradient(f: Callable[[torch.Tensor], object], x: torch.Tensor, h: float = 1e-5) -> torch.Tensor:
    """Centred differences of a scalar-valued ``f`` at ``x``.

    ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)``; returns a tensor shaped like ``x`` (same dtype
    and device). ``x`` is perturbed one entry at a time and restored, so it is unchanged on return.
    Error O(h²) against O(h) for one-sided differences.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if h <= 0:
        raise ValueError(f"h must be positive, got {h}")
    work = x.detach().clone(memory_format=torch.contiguous_format)
    grad = torch.zeros_like(work)
    flat, gflat = work.view(-1), grad.view(-1)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + h
        fp = _as_scalar(f(work))
        flat[i] = old - h
        fm = _as_scalar(f(work))
        flat[i] = old
        gflat[i] = (fp - fm) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, dout: torch.Tensor, h: float = 1e-5
) -> torch.Tensor:
    """Gradient of ``sum(f(x) * dout)`` with respect to ``x`` by centred differences.

    This is the vector-Jacobian product a layer's backward computes: ``f`` maps a tensor to a tensor
    shaped like ``dout``.
    """
    if not isinstance(dout, torch.Tensor):
        raise TypeError(f"dout must be a torch.Tensor, got {type(dout).__name__}")

    def scalar(z: torch.Tensor) -> float:
        out = f(z)
        if out.shape != dout.shape:
            raise ValueError(f"f(x) has shape {tuple(out.shape)} but dout has shape {tuple(dout.shape)}")
        return float((out.to(torch.float64) * dout.to(torch.float64)).sum().item())

    return numerical_gradient(scalar, x, h)


def rel_error(a, b) -> float:
    """``max_i |a_i - b_i| / max(|a_i|, |b_i|)``; an entry where both are exactly 0 counts 0."""
    a = torch.as_tensor(a, dtype=torch.float64).detach().cpu()
    b = torch.as_tensor(b, dtype=torch.float64).detach().cpu()
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    if a.numel() == 0:
        return 0.0
    # NaN anywhere means a broken gradient: report it as infinitely wrong rather than hiding it.
    if torch.isnan(a).any() or torch.isnan(b).any():
        return float("inf")
    num = (a - b).abs()
    den = torch.maximum(a.abs(), b.abs())
    ratio = torch.where(den > 0, num / torch.where(den > 0, den, torch.ones_like(den)), torch.zeros_like(den))
    if torch.isnan(ratio).any():  # inf - inf
        return float("inf")
    return float(ratio.max().item())


def _entry_error(a: float, b: float) -> float:
    """The relative error of one sampled entry (0 when both are 0; inf for a NaN or inf - inf).

    The check machinery's own, so that it does not depend on the graded ``rel_error`` (which the
    student kit leaves out)."""
    if a != a or b != b:
        return float("inf")
    scale = max(abs(a), abs(b))
    err = 0.0 if scale == 0 else abs(a - b) / scale
    return float("inf") if err != err else err


def sample_indices(shape: Sequence[int], k: int, generator: torch.Generator | None = None) -> list[int]:
    """``k`` distinct flat indices of a tensor of ``shape`` (all of them when it has at most ``k``)."""
    n = 1
    for s in shape:
        n *= int(s)
    if n <= k:
        return list(range(n))
    return torch.randperm(n, generator=generator)[:k].tolist()


def one_sided_slopes(f: Callable[[torch.Tensor], object], x: torch.Tensor, index: int, h: float) -> tuple[float, float]:
    """Forward and backward difference quotients of ``f`` along flat entry ``index``."""
    work = x.detach().clone(memory_format=torch.contiguous_format)
    flat = work.view(-1)
    old = flat[index].item()
    f0 = _as_scalar(f(work))
    flat[index] = old + h
    fp = _as_scalar(f(work))
    flat[index] = old - h
    fm = _as_scalar(f(work))
    return (fp - f0) / h, (f0 - fm) / h


def is_kink(f: Callable[[torch.Tensor], object], x: torch.Tensor, index: int, h: float, tol: float = 1e-4) -> bool:
    """True when the left and right slopes of ``f`` along an entry disagree: a kink lies within ±h.

    For a smooth function both slopes agree to O(h); across a ReLU's 0 or a hinge's margin they
    differ by a finite jump.
    """
    right, left = one_sided_slopes(f, x, index, h)
    scale = max(abs(right), abs(left), 1e-8)
    return abs(right - left) / scale > tol and abs(right - left) > 10 * h


@dataclass
class GradCheckEntry:
    """One compared entry: where, the two values, their relative error, and whether it sits on a kink."""

    name: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    rel_error: float
    kink: bool


@dataclass
class GradCheckReport:
    """The outcome of a sparse gradient check over several parameters."""

    entries: list[GradCheckEntry] = field(default_factory=list)
    tol: float = 1e-6

    def worst(self, include_kinks: bool = False) -> float:
        errs = [e.rel_error for e in self.entries if include_kinks or not e.kink]
        return max(errs) if errs else 0.0

    def worst_by_name(self, include_kinks: bool = False) -> dict[str, float]:
        out: dict[str, float] = {}
        for e in self.entries:
            if e.kink and not include_kinks:
                continue
            out[e.name] = max(out.get(e.name, 0.0), e.rel_error)
        return out

    @property
    def kinks(self) -> list[GradCheckEntry]:
        return [e for e in self.entries if e.kink]

    @property
    def passed(self) -> bool:
        return self.worst() <= self.tol

    def summary(self) -> str:
        lines = []
        for name, err in self.worst_by_name().items():
            flag = "ok" if err <= self.tol else "MISMATCH"
            lines.append(f"  {name:>8}: max relative error {err:.2e} (tolerance {self.tol:.0e}) {flag}")
        bad_kinks = [e for e in self.kinks if e.rel_error > self.tol]
        if bad_kinks:
            lines.append(
                f"  {len(bad_kinks)} mismatching entr{'y' if len(bad_kinks) == 1 else 'ies'} sit on a kink "
                "(the function is not differentiable there, so centred differences are not to be trusted); "
                "they are not counted."
            )
        return "\n".join(lines)


def sparse_grad_check(
    f: Callable[..., object],
    inputs: dict[str, torch.Tensor],
    analytic: dict[str, torch.Tensor],
    num_checks: int = 10,
    h: float = 1e-6,
    tol: float = 1e-6,
    generator: torch.Generator | None = None,
) -> GradCheckReport:
    """Compare an analytic gradient with centred differences on a few entries of *every* input.

    ``f(**inputs)`` returns a scalar (for a layer, ``sum(out * dout)``). For each named input,
    ``num_checks`` entries are sampled (a flat random sample over all parameters would miss a
    small bias vector entirely). Each entry is compared in float64; an entry whose left and right
    slopes disagree is flagged as a kink rather than a bug.
    """
    report = GradCheckReport(tol=tol)
    work = {k: v.detach().to(torch.float64).clone(memory_format=torch.contiguous_format) for k, v in inputs.items()}
    for name, x in work.items():
        if name not in analytic:
            continue
        grad = analytic[name].detach().to(torch.float64).cpu()
        if grad.shape != x.shape:
            raise ValueError(f"gradient for {name!r} has shape {tuple(grad.shape)}, expected {tuple(x.shape)}")

        def along(z: torch.Tensor, _name=name):
            args = dict(work)
            args[_name] = z
            return f(**args)

        for flat_i in sample_indices(x.shape, num_checks, generator):
            zp = x.clone()
            zp.view(-1)[flat_i] += h
            zm = x.clone()
            zm.view(-1)[flat_i] -= h
            num = (_as_scalar(along(zp)) - _as_scalar(along(zm))) / (2 * h)
            ana = float(grad.reshape(-1)[flat_i].item())
            err = _entry_error(ana, num)
            kink = err > tol and is_kink(along, x, flat_i, h)
            idx = tuple(int(i) for i in torch.unravel_index(torch.tensor(flat_i), x.shape)) if x.dim() else ()
            report.entries.append(GradCheckEntry(name, idx, ana, num, err, kink))
    return report
