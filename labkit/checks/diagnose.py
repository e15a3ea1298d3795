"""Symptoms every output can show, named without giving the answer away.

A spec lists the bugs particular to its function; these generic diagnoses come after them: a wrong
shape, NaN or inf where the values are finite, all zeros, the wrong sign, and a constant factor
(named when it equals a size of the inputs: the batch size N, the number of elements, the number
of classes C, or 2). Each measures the symptom on every case before naming it.
"""
from __future__ import annotations

import torch

from .core import TOL
from .spec import Case, Diagnosis, Evidence

__all__ = ["generic_diagnoses", "shape_hint", "factor_hint", "sizes"]


def shape_hint(output: str, got: tuple, want: tuple) -> str:
    if len(got) == 2 and got == want[::-1] and got != want:
        return f"{output} has shape {got}, the shape of its transpose; expected {want}"
    n_got, n_want = 1, 1
    for s in got:
        n_got *= s
    for s in want:
        n_want *= s
    if n_got == n_want:
        return f"{output} has shape {got} with the right number of entries; expected shape {want}"
    return f"{output} has shape {got}, expected {want}"


def sizes(case: Case) -> list[tuple[str, float]]:
    """Sizes of a case's first tensor argument that a missing (or extra) mean can multiply by."""
    first = next((a for a in case.args if isinstance(a, torch.Tensor)), None)
    found = [("2", 2.0)]
    if first is not None and first.dim() >= 1:
        found.append(("N (the batch size)", float(first.shape[0])))
        found.append(("the number of elements", float(first.numel())))
        if first.dim() >= 2:
            found.append(("C (the size of dim 1)", float(first.shape[1])))
    return found


def _factors(ev: Evidence) -> list[float] | None:
    """For each case, the k with got = k * want, or None when no single factor fits."""
    ks = []
    for g, w in zip(ev.got, ev.want):
        den = float((w * w).sum())
        if den == 0 or not torch.isfinite(g).all():
            return None
        k = float((g * w).sum()) / den
        if k == 0 or float((g - k * w).abs().max()) > TOL["diagnosis"] * float(w.abs().max()) * max(1.0, abs(k)):
            return None
        ks.append(k)
    return ks or None


def factor_hint(ev: Evidence) -> str | None:
    ks = _factors(ev)
    if ks is None or all(abs(k - 1) < TOL["diagnosis"] for k in ks) or all(abs(k + 1) < TOL["diagnosis"] for k in ks):
        return None
    names = [dict(sizes(c)) for c in ev.cases]
    for name in names[0]:
        qs = [n.get(name) for n in names]
        if None in qs or all(q == 1 for q in qs):
            continue
        if all(abs(k - q) <= TOL["diagnosis"] * q for k, q in zip(ks, qs)):
            return f"{ev.output} is {name} times too large on every case (a sum where a mean belongs, or a " \
                   f"factor too many?)"
        if all(abs(k * q - 1) <= TOL["diagnosis"] for k, q in zip(ks, qs)):
            return f"{ev.output} is {name} times too small on every case (a missing factor, or a division too many?)"
    if all(abs(k - ks[0]) <= TOL["diagnosis"] * abs(ks[0]) for k in ks):
        return f"{ev.output} is off by a constant factor of {ks[0]:.4g} on every case"
    return None


def _nonfinite(ev: Evidence) -> bool:
    return any((~torch.isfinite(g) & torch.isfinite(w)).any() for g, w in zip(ev.got, ev.want))


def generic_diagnoses(output: str) -> list[Diagnosis]:
    return [
        Diagnosis(f"{output} holds NaN or inf where the expected values are finite (an overflow, or 0/0?)",
                  _nonfinite),
        Diagnosis(f"{output} is all zeros", lambda ev: all(bool((g == 0).all()) for g in ev.got)
                  and any(bool((w != 0).any()) for w in ev.want)),
        Diagnosis(f"{output} has the wrong sign on every case", lambda ev: ev.matches(lambda c, w: -w)),
        Diagnosis(lambda ev: factor_hint(ev), lambda ev: factor_hint(ev) is not None),
    ]
