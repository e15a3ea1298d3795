"""Argument checks of the reference implementations, in one place (as scikit-learn's ``utils/validation.py``).

Each ``check_*`` returns the value it accepts (converted where it says so). A wrong kind of value raises
``TypeError``, a wrong value ``ValueError``, with a message that names the argument and the problem:

>>> check_tensor(torch.arange(3), "x", floating=True)
Traceback (most recent call last):
    ...
TypeError: x must be a floating-point tensor, got dtype torch.int64
>>> check_number(-0.5, "lam (a penalty strength)", minimum=0)
Traceback (most recent call last):
    ...
ValueError: lam (a penalty strength) must be >= 0, got -0.5
"""
from __future__ import annotations

import numbers
import operator
from typing import Any, Mapping, Sequence

import torch

__all__ = [
    "check_tensor", "check_like", "check_same_shape", "check_same_length", "check_tensor_list", "check_images",
    "check_one_hot", "check_class_ids", "check_binary_labels", "check_number", "check_int", "check_choice",
    "check_dict", "check_float_dtype", "check_search_space",
]


# ----------------------------------------------------------------------------- tensors
def check_tensor(value, name: str, *, floating: bool = False, ndim: int | None = None, layout: str = "",
                 shape: tuple | None = None, like: torch.Tensor | None = None) -> torch.Tensor:
    """``value`` as it is, after checking that it is a tensor; ``floating``: of a floating-point dtype;
    ``ndim``: with that many dimensions (``layout`` such as ``"(N, D)"`` names them); ``shape``: of that
    shape; ``like``: of the dtype and device of ``like`` (named x)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if floating and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if ndim is not None and value.dim() != ndim:
        raise ValueError(f"{name} must be {layout or f'{ndim}-D'}, got shape {tuple(value.shape)}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}, got {tuple(value.shape)}")
    if like is not None:
        check_like(value, name, like)
    return value


def check_like(value: torch.Tensor, name: str, x: torch.Tensor) -> torch.Tensor:
    """``value`` with the dtype and device of ``x`` (no conversion: a mismatch is an error)."""
    if value.dtype != x.dtype or value.device != x.device:
        raise TypeError(
            f"{name} must have the dtype and device of x ({x.dtype}, {x.device}), got ({value.dtype}, {value.device})"
        )
    return value


def check_same_shape(a: torch.Tensor, b: torch.Tensor, names: tuple[str, str]) -> None:
    """``a.shape == b.shape``; ``names`` are the two arguments' names."""
    if a.shape != b.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_same_length(a: Sequence, b: Sequence, names: tuple[str, str]) -> None:
    """``len(a) == len(b)`` for two lists of tensors."""
    if len(a) != len(b):
        raise ValueError(f"{names[0]} and {names[1]} must hold as many tensors, got {len(a)} and {len(b)}")


def check_tensor_list(values, name: str, *, floating: bool = False, non_empty: bool = False) -> list[torch.Tensor]:
    """A tensor, or an iterable of tensors, as a list; each entry checked as ``name[i]``."""
    if isinstance(values, torch.Tensor):
        return [check_tensor(values, name, floating=floating)]
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"{name} must be a tensor or a list of tensors, got {type(values).__name__}") from None
    if non_empty and not items:
        raise TypeError(f"{name} must be a non-empty list of tensors")
    return [check_tensor(v, f"{name}[{i}]", floating=floating) for i, v in enumerate(items)]


def check_images(x, name: str = "x", channels: tuple[int, ...] | None = None) -> torch.Tensor:
    """A float batch of images ``(N, C, H, W)``, with C in ``channels`` when given."""
    check_tensor(x, name, floating=True, ndim=4, layout="a 4-D batch of images (N, C, H, W)")
    if channels is not None and x.shape[1] not in channels:
        raise ValueError(f"{name} must have {' or '.join(map(str, channels))} channels, got C = {x.shape[1]}")
    return x


def check_one_hot(y, x: torch.Tensor) -> torch.Tensor:
    """Labels ``y`` ``(N, K)`` for the images ``x`` ``(N, ...)`` (one-hot or soft), in ``x``'s dtype if integer."""
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor of one-hot labels (N, K), got {type(y).__name__}")
    if y.dim() != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must be one-hot labels of shape (N, K) with N = {x.shape[0]}, got {tuple(y.shape)} "
                         "(class indices can be converted with torch.nn.functional.one_hot)")
    return y if y.is_floating_point() else y.to(x.dtype)


def check_class_ids(y: torch.Tensor, n: int, c: int) -> torch.Tensor:
    """``y`` ``(N,)`` as int64 after checking it: ``n`` integers in ``[0, c - 1]``."""
    if y.is_floating_point() or y.is_complex():
        raise TypeError("class ids y must be an integer tensor (int64); soft labels must be (N, C)")
    if y.shape[0] != n:
        raise ValueError(f"y has {y.shape[0]} labels for {n} rows of scores")
    y = y.long()
    if y.numel():
        lo, hi = torch.aminmax(y)  # one pass over the labels
        if bool((lo < 0) | (hi >= c)):  # a single read back to the host (one sync on a GPU)
            raise ValueError(f"class ids must lie in [0, {c - 1}], got min {int(lo)} max {int(hi)}")
    return y


def check_binary_labels(y, name: str) -> torch.Tensor:
    """``y`` (anything ``torch.as_tensor`` takes) as a bool tensor ``(n,)``, its values 0 and 1."""
    y = torch.as_tensor(y)
    if y.dim() != 1:
        raise ValueError(f"{name} must be a 1-D tensor of 0/1 labels, got shape {tuple(y.shape)}")
    if y.dtype != torch.bool and not bool(((y == 0) | (y == 1)).all()):
        raise ValueError(f"{name} must contain only 0 and 1 (binary labels)")
    return y.bool()


# ----------------------------------------------------------------------------- numbers and options
def _is_real(value) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1 and not value.is_complex() and value.dtype != torch.bool
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_number(value, name: str, *, minimum: float | None = None, strict: bool = False) -> float:
    """``value`` as a float: a real number (an int, float, NumPy scalar or one-element tensor; not a bool),
    ``>= minimum`` (``> minimum`` when ``strict``) when given; NaN fails any bound."""
    if type(value) is not float:  # the common case skips the rest: update rules check config at every step
        if not _is_real(value):
            raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
        value = float(value)
    if minimum is not None and not (value > minimum if strict else value >= minimum):
        raise ValueError(f"{name} must be {'>' if strict else '>='} {minimum:g}, got {value}")
    return value


def check_int(value, name: str, minimum: int | None = None) -> int:
    """``value`` as a Python int (NumPy integers accepted; bools and floats not), ``>= minimum`` when given."""
    if type(value) is not int:  # the common case skips the rest: schedules check t at every step
        if isinstance(value, bool) or not hasattr(value, "__index__"):
            raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
        value = operator.index(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {'a positive integer' if minimum == 1 else f'>= {minimum}'}, got {value}")
    return value


def check_choice(value, name: str, options: Sequence) -> Any:
    """``value`` if it is one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be {' or '.join(map(repr, options))}, got {value!r}")
    return value


def check_dict(value, name: str) -> dict:
    """``value`` if it is a dict (a state dict such as ``bn_param`` or an update rule's ``config``)."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict, got {type(value).__name__}")
    return value


def check_float_dtype(dtype) -> torch.dtype:
    """``dtype`` if it is a floating-point ``torch.dtype``."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype, got {dtype!r}")
    return dtype


def check_search_space(space: Mapping[str, tuple]) -> Mapping[str, tuple]:
    """A random-search space: name -> ``("log", lo, hi)`` (``0 < lo <= hi``), ``("uniform", lo, hi)``
    (``lo <= hi``) or ``("choice", [options])`` (at least one)."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty dict: name -> ('log'|'uniform', lo, hi) or ('choice', [...])")
    for name, spec in space.items():
        kind = spec[0] if isinstance(spec, (tuple, list)) and spec else None
        if kind in ("log", "uniform") and len(spec) == 3:
            lo, hi = spec[1], spec[2]
            if lo > hi or (kind == "log" and lo <= 0):
                raise ValueError(f"space[{name!r}] = {spec!r}: need {'0 < ' if kind == 'log' else ''}lo <= hi")
        elif not (kind == "choice" and len(spec) == 2 and len(spec[1]) > 0):
            raise ValueError(
                f"space[{name!r}] = {spec!r}: expected ('log', lo, hi), ('uniform', lo, hi) or ('choice', [options])"
            )
    return space
