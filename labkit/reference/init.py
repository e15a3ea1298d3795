"""Weight initialisation: fans, gains, and the Glorot (Xavier) and He (Kaiming) laws.

Same formulas as ``torch.nn.init``, but each initialiser returns a fresh tensor of the given shape
instead of filling one in place. Randomness comes only from ``generator``: the numbers are drawn on
the generator's device (the CPU for a CPU generator) and then moved to ``device``, so one seed gives
the same weights on every device.

Example
-------
>>> g = torch.Generator().manual_seed(0)
>>> w = kaiming_normal((256, 784), generator=g)        # std = sqrt(2) / sqrt(784)
>>> compute_fans((64, 3, 3, 3))                         # (27, 576)
(27, 576)
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

from ._validation import check_choice, check_float_dtype

__all__ = [
    "compute_fans",
    "calculate_gain",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
]

_LINEAR_LIKE = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
)


def compute_fans(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of the given shape (PyTorch layout).

    With ``r = Π shape[2:]`` (the receptive field, 1 for an affine weight):
    ``fan_in = shape[1] · r`` and ``fan_out = shape[0] · r``. So ``(M, D) -> (D, M)`` and
    ``(F, C, KH, KW) -> (C·KH·KW, F·KH·KW)``.
    """
    if isinstance(shape, torch.Tensor) or not isinstance(shape, (tuple, list, torch.Size)):
        raise TypeError(f"shape must be a tuple of ints such as (M, D), got {type(shape).__name__}")
    if len(shape) < 2:
        raise ValueError(f"shape must have at least 2 dimensions (out, in, ...) to define fans, got {tuple(shape)}")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise ValueError(f"shape must hold positive ints, got {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady through a layer followed by ``nonlinearity``.

    linear, conv*, sigmoid: 1; tanh: 5/3; relu: √2; leaky_relu: √(2 / (1 + slope²)) with
    ``slope = param`` (0.01 when ``param`` is None); selu: 3/4.
    """
    if nonlinearity in _LINEAR_LIKE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, (int, float)):
            raise ValueError(f"param (the negative slope of leaky_relu) must be a number, got {param!r}")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1.0 + slope * slope))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    known = ", ".join(_LINEAR_LIKE + ("tanh", "relu", "leaky_relu", "selu"))
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}; expected one of: {known}")


def _draw(kind: str, shape, generator, dtype, device) -> torch.Tensor:
    """Standard uniform on [0, 1) or standard normal samples of ``shape``, drawn on the generator's
    device (``device`` when no generator is given) and returned on ``device``."""
    check_float_dtype(dtype)
    target = torch.device(device) if device is not None else torch.device("cpu")
    where = generator.device if generator is not None else target
    fn = torch.rand if kind == "uniform" else torch.randn
    return fn(tuple(shape), generator=generator, dtype=dtype, device=where).to(target)


def _fan(shape, mode: str) -> int:
    check_choice(mode, "mode", ("fan_in", "fan_out"))
    fan_in, fan_out = compute_fans(shape)
    return fan_in if mode == "fan_in" else fan_out


def xavier_uniform(shape, gain: float = 1.0, generator=None, dtype=torch.float32, device=None) -> torch.Tensor:
    """Glorot uniform: ``W ~ U(-a, a)``, ``a = gain · √(6 / (fan_in + fan_out))`` (variance ``a²/3``)."""
    fan_in, fan_out = compute_fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    u = _draw("uniform", shape, generator, dtype, device)
    return (2.0 * u - 1.0) * a  # [0, 1) -> [-a, a)


def xavier_normal(shape, gain: float = 1.0, generator=None, dtype=torch.float32, device=None) -> torch.Tensor:
    """Glorot normal: ``W ~ N(0, σ²)``, ``σ = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = compute_fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _draw("normal", shape, generator, dtype, device) * std


def kaiming_uniform(
    shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    generator=None,
    dtype=torch.float32,
    device=None,
) -> torch.Tensor:
    """He uniform: ``W ~ U(-b, b)``, ``b = gain · √(3 / fan)``, ``gain = calculate_gain(nonlinearity, a)``.

    ``fan`` is ``fan_in`` (keeps the forward variance) or ``fan_out`` (keeps the backward one);
    ``a`` is the negative slope used by ``leaky_relu``.
    """
    fan = _fan(shape, mode)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    u = _draw("uniform", shape, generator, dtype, device)
    return (2.0 * u - 1.0) * bound


def kaiming_normal(
    shape,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    generator=None,
    dtype=torch.float32,
    device=None,
) -> torch.Tensor:
    """He normal: ``W ~ N(0, σ²)``, ``σ = gain / √fan``, ``gain = calculate_gain(nonlinearity, a)``."""
    fan = _fan(shape, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return _draw("normal", shape, generator, dtype, device) * std
