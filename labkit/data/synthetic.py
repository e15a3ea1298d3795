"""Procedural data sets: spirals, the dropout regression curve and a procedural MNIST-1D.

Every generator draws all its randomness from ``generator`` (None: a generator seeded with 0), on the
CPU, so one seed gives the same numbers on every device. Outputs are float32 inputs and int64 class ids
(float32 targets for regression), wrapped in a ``Split``.

Example
-------
>>> g = torch.Generator().manual_seed(0)
>>> make_spirals(100, n_classes=3, generator=g).x.shape
torch.Size([300, 2])
>>> make_mnist1d(500, generator=g).x.shape
torch.Size([500, 40])
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .splits import Split

__all__ = ["make_spirals", "dropout_regression_target", "make_dropout_regression",
           "MNIST1D_TEMPLATES", "make_mnist1d"]


def _gen(generator: torch.Generator | None) -> torch.Generator:
    if generator is None:
        return torch.Generator().manual_seed(0)
    if not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    return generator


def _check_count(name: str, value) -> None:
    if not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")


def make_spirals(n_per_class: int, n_classes: int = 3, noise: float = 0.2,
                 generator: torch.Generator | None = None) -> Split:
    """Interleaved spiral arms in the plane, one arm per class: a classic set a linear model cannot fit.

    Arm ``k`` has points at radius ``r = i / (n-1)``, i = 0..n-1, and angle
    ``theta = 2 pi k / K + 4 r + noise * eps``, ``eps ~ N(0, 1)``; the point is ``r (sin theta, cos theta)``.
    Returns ``x`` float32 ``(K n, 2)`` with values in about [-1, 1], ``y`` int64 ``(K n,)``, arm by arm.
    """
    _check_count("n_per_class", n_per_class)
    _check_count("n_classes", n_classes)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    gen = _gen(generator)
    r = torch.linspace(0.0, 1.0, n_per_class).repeat(n_classes)                  # (K n,)
    y = torch.arange(n_classes).repeat_interleave(n_per_class)                   # (K n,)
    theta = 2 * math.pi * y / n_classes + 4.0 * r + noise * torch.randn(r.shape, generator=gen)
    x = torch.stack([r * torch.sin(theta), r * torch.cos(theta)], dim=1)         # (K n, 2)
    return Split(x.float(), y)


def dropout_regression_target(x: torch.Tensor) -> torch.Tensor:
    """The clean curve of the dropout example: ``f(x) = 0.2 + 0.4 x^2 + 0.3 x sin(15 x) + 0.05 cos(50 x)``.

    Elementwise; any shape, dtype and device (values in about [0.1, 0.95] for x in [0, 1]).
    """
    return 0.2 + 0.4 * x ** 2 + 0.3 * x * torch.sin(15 * x) + 0.05 * torch.cos(50 * x)


def make_dropout_regression(n: int, noise: float = 0.05, generator: torch.Generator | None = None,
                            low: float = 0.0, high: float = 1.0) -> Split:
    """Noisy samples of ``dropout_regression_target``: ``y = f(x) + noise * eps``, ``eps ~ N(0, 1)``.

    ``x`` is drawn uniformly in [low, high] and sorted (handy for line plots). Returns ``x`` and ``y``
    float32 of shape ``(n, 1)`` each (a regression target, as ``nn.MSELoss`` expects).
    """
    _check_count("n", n)
    if noise < 0 or not low < high:
        raise ValueError(f"need noise >= 0 and low < high, got noise={noise}, low={low}, high={high}")
    gen = _gen(generator)
    x = torch.rand(n, generator=gen, dtype=torch.float64).sort().values * (high - low) + low  # (n,)
    y = dropout_regression_target(x) + noise * torch.randn(n, generator=gen, dtype=torch.float64)
    return Split(x[:, None].float(), y[:, None].float())


# Ten hand-drawn 1-D "digit" strokes of 12 control points each, values in [-1, 1]. Each one is a
# caricature of its digit traced left to right: 0 one closed loop, 1 a single stroke, 8 two loops...
MNIST1D_TEMPLATES = torch.tensor([
    [0.0, 0.5, 0.9, 1.0, 0.6, 0.0, -0.6, -1.0, -0.9, -0.5, 0.0, 0.0],   # 0: one full loop
    [0.0, 0.0, 0.0, 0.0, 0.2, 1.0, 1.0, 0.2, 0.0, 0.0, 0.0, 0.0],       # 1: a single stroke
    [0.6, 1.0, 0.8, 0.3, -0.2, -0.6, -0.9, -0.9, -0.9, -0.9, -0.9, -0.6],  # 2: a hook, then a flat base
    [0.0, 0.7, 1.0, 0.5, 0.1, 0.5, 1.0, 0.7, 0.0, -0.3, -0.3, 0.0],     # 3: two bumps on the right
    [-0.5, -0.2, 0.1, 0.4, 0.7, 1.0, -0.6, -0.6, 0.6, 0.6, -0.2, -0.2],  # 4: a rising arm, a cross bar
    [1.0, 1.0, 1.0, 0.2, -0.4, -0.8, -1.0, -0.8, -0.4, 0.1, 0.4, 0.2],   # 5: flat top, then a belly
    [1.0, 0.4, -0.3, -0.8, -1.0, -0.6, 0.2, 0.6, 0.2, -0.2, 0.0, 0.0],   # 6: a long stroke into a loop
    [0.9, 0.9, 0.9, 0.9, 0.6, 0.2, -0.2, -0.6, -1.0, -1.0, -0.5, 0.0],   # 7: top bar, then a diagonal
    [0.0, 0.9, 0.0, -0.9, 0.0, 0.9, 0.0, -0.9, 0.0, 0.9, 0.0, 0.0],      # 8: two loops
    [0.0, 0.8, 0.8, 0.0, -0.3, 0.0, 0.5, 0.3, 0.0, -0.4, -0.8, -1.0],    # 9: a small loop, a long tail
])


def make_mnist1d(n: int, generator: torch.Generator | None = None, length: int = 40,
                 corr_noise: float = 0.25, iid_noise: float = 0.02) -> Split:
    """A procedural MNIST-1D: each sample is one of ten 1-D templates, randomly placed, scaled, stretched,
    sheared and buried in correlated noise (in the spirit of Greydanus' MNIST-1D; our own generator).

    For a sample of class ``k`` and output positions ``u = 0..L-1``:
      1. stretch + shift (padding): the template spans ``w ~ U(0.45 L, 0.65 L)`` positions starting at
         ``s ~ U(0, L - w)``; it is read by linear interpolation at ``(u - s) / w * 11``, zero outside;
      2. scale: times ``a ~ U(0.7, 1.3)``;
      3. shear: plus ``b (u / (L-1) - 1/2)`` with ``b ~ U(-0.75, 0.75)``;
      4. noise: plus ``corr_noise * c`` with ``c`` white noise smoothed by a unit-norm Gaussian kernel
         (width 2 samples, so each ``c_u ~ N(0, 1)`` but neighbours are correlated), plus
         ``iid_noise * N(0, 1)``.
    Returns ``x`` float32 ``(n, L)`` (use ``x[:, None]`` for ``nn.Conv1d``) with values in about
    [-2, 2] and ``y`` int64 ``(n,)`` uniform over 0..9.
    """
    _check_count("n", n)
    _check_count("length", length)
    if corr_noise < 0 or iid_noise < 0:
        raise ValueError(f"noise scales must be >= 0, got corr_noise={corr_noise}, iid_noise={iid_noise}")
    gen = _gen(generator)
    L, K = length, MNIST1D_TEMPLATES.shape[1]
    y = torch.randint(0, 10, (n,), generator=gen)                                   # (n,)
    width = L * (0.45 + 0.2 * torch.rand(n, 1, generator=gen))                      # (n, 1)
    start = (L - width) * torch.rand(n, 1, generator=gen)                           # (n, 1)
    scale = 0.7 + 0.6 * torch.rand(n, 1, generator=gen)                             # (n, 1)
    shear = 1.5 * torch.rand(n, 1, generator=gen) - 0.75                            # (n, 1)
    white = torch.randn(n, 1, L + 8, generator=gen)                                 # (n, 1, L + 8)
    iid = torch.randn(n, L, generator=gen)                                          # (n, L)

    # 1. Linear interpolation of each sample's template at its stretched, shifted positions.
    u = torch.arange(L, dtype=torch.float32)[None, :]                               # (1, L)
    pos = (u - start) / width * (K - 1)                                             # (n, L) template coordinate
    inside = (pos >= 0) & (pos <= K - 1)
    i0 = pos.clamp(0, K - 2).floor().long()                                         # (n, L) left control point
    frac = pos.clamp(0, K - 1) - i0
    tpl = MNIST1D_TEMPLATES[y]                                                      # (n, K)
    stroke = tpl.gather(1, i0) * (1 - frac) + tpl.gather(1, i0 + 1) * frac          # (n, L)
    stroke = torch.where(inside, stroke, torch.zeros(()))

    # 2-3. Amplitude scale and a linear ramp (a vertical shear of the plotted curve).
    x = scale * stroke + shear * (u / (L - 1) - 0.5)

    # 4. Correlated noise: white noise convolved with a Gaussian kernel of unit L2 norm (unit variance).
    kernel = torch.exp(-0.5 * (torch.arange(9, dtype=torch.float32) - 4) ** 2 / 2.0 ** 2)
    kernel = (kernel / kernel.norm()).view(1, 1, 9)
    smooth = F.conv1d(white, kernel).squeeze(1)                                     # (n, 1, L+8) -> (n, L)
    x = x + corr_noise * smooth + iid_noise * iid
    return Split(x, y)
