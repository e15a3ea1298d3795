"""Sub-checks shared by many checks: no in-place change, dtype/device kept, finite at extremes."""
from __future__ import annotations

from typing import Callable, Sequence

import torch

from .core import Check, StudentError

__all__ = ["check_no_inplace", "check_dtype_kept", "outputs_of", "tensors_in"]


def tensors_in(value) -> list[torch.Tensor]:
    """The tensors of a student's return value (a tensor or a tuple/list holding some)."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [v for v in value if isinstance(v, torch.Tensor)]
    return []


def outputs_of(value, select: Callable | None):
    return select(value) if select is not None else tensors_in(value)


def check_no_inplace(c: Check, fn: Callable, args: Sequence, kwargs: dict | None = None, weight: float = 1.0,
                     name: str | None = None) -> None:
    """The call leaves every tensor argument exactly as it was."""
    kwargs = kwargs or {}
    label = name or "leaves its inputs unchanged (no in-place modification)"
    with c.sub(label, weight=weight, tol="bit-identical",
               hint="an input tensor was modified in place (e.g. `x -= ...`, `x[mask] = 0`, `.add_()`); "
                    "work on a copy or build a new tensor") as s:
        before = [a.clone() if isinstance(a, torch.Tensor) else None for a in args]
        c.call(fn, *args, **kwargs)
        changed = [i for i, (a, b) in enumerate(zip(args, before)) if b is not None and not torch.equal(a, b)]
        s.require(not changed, measured="unchanged" if not changed else f"argument {changed[0] + 1} changed")


def check_dtype_kept(c: Check, fn: Callable, args32: Sequence, select: Callable | None = None,
                     weight: float = 1.0, kwargs: dict | None = None) -> None:
    """Given float32 inputs, every returned floating tensor is float32 on the input's device."""
    kwargs = kwargs or {}
    with c.sub("keeps the input's dtype (float32 in, float32 out) and device", weight=weight, tol="float32",
               hint="a float64 constant or tensor crept in (e.g. torch.tensor(...) without dtype=, or .double()); "
                    "build new tensors with the input's dtype and device (torch.zeros_like, x.new_tensor)") as s:
        if torch.cuda.is_available():  # on a GPU machine the same call also proves the device is kept
            args32 = [a.cuda() if isinstance(a, torch.Tensor) else a for a in args32]
        device = next(a.device for a in args32 if isinstance(a, torch.Tensor))
        outs = [t for t in tensors_in(list(outputs_of(c.call(fn, *args32, **kwargs), select)))
                if t.is_floating_point()]
        if not outs:
            raise StudentError("no floating tensor came back")
        bad = [t for t in outs if t.dtype != torch.float32 or t.device != device]
        s.require(not bad, measured="float32" if not bad else f"{bad[0].dtype} on {bad[0].device}")
