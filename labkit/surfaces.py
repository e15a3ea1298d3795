"""Two-dimensional loss surfaces for watching optimizers move, and a runner for the update rules.

Each surface is a scalar function of a point ``w = (x, y)`` written in torch, with its gradient in
closed form, a window that frames its interesting part and a suggested start point:

=================  ===========================================  ==========================
name               f(x, y)                                      what it shows
=================  ===========================================  ==========================
``bowl``           ½ (λ₁ u² + λ₂ v²), (u, v) = R(θ)ᵀ (x, y)       ill conditioning: zig-zag
``rosenbrock``     (a − x)² + b (y − x²)²                         a long curved valley
``saddle``         x² − y²                                       escaping a saddle point
``monkey_saddle``  x³ − 3 x y²                                   a flat, degenerate saddle
=================  ===========================================  ==========================

``run_optimizer`` drives any update rule of the contract (``rule(w, dw, config) -> (next_w,
config)``, section 05) over a surface and returns the whole path.

Example
-------
>>> from labkit.surfaces import get_surface, run_optimizer
>>> bowl = get_surface("bowl")
>>> path = run_optimizer(bowl, "sgd_momentum", steps=50, learning_rate=0.1, momentum=0.9)
>>> path.shape                      # (steps + 1, 2), path[0] is bowl.start
torch.Size([51, 2])
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch

__all__ = [
    "Surface",
    "quadratic_bowl",
    "rosenbrock",
    "saddle",
    "SURFACES",
    "get_surface",
    "OPTIMIZERS",
    "get_rule",
    "run_optimizer",
]

Tensor = torch.Tensor


@dataclass(frozen=True)
class Surface:
    """A 2-D loss surface.

    ``f(w)``: ``w`` of shape ``(..., 2)`` -> values of shape ``(...)``; ``grad(w)``: ``(..., 2)`` ->
    ``(..., 2)``, the analytic gradient. Both keep ``w``'s dtype and device, so the same surface
    evaluates a single point, a trajectory ``(T, 2)`` or a contour grid ``(H, W, 2)``.
    ``xlim``/``ylim`` frame the picture, ``start`` is the suggested starting point, ``minimum`` the
    global minimiser (``None`` when f is unbounded below), ``log_levels`` says whether contour levels
    should be log-spaced (values spanning many decades).
    """

    name: str
    f: Callable[[Tensor], Tensor]
    grad: Callable[[Tensor], Tensor]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float] | None = None
    log_levels: bool = False
    description: str = ""

    def __call__(self, w: Tensor) -> Tensor:
        return self.f(w)

    def grid(self, n: int = 200, dtype: torch.dtype = torch.float64) -> tuple[Tensor, Tensor, Tensor]:
        """``(X, Y, Z)``, each ``(n, n)``: the window sampled on a regular grid and f on it."""
        if not isinstance(n, int) or n < 2:
            raise ValueError(f"n must be an integer >= 2, got {n!r}")
        xs = torch.linspace(*self.xlim, n, dtype=dtype)
        ys = torch.linspace(*self.ylim, n, dtype=dtype)
        Y, X = torch.meshgrid(ys, xs, indexing="ij")  # (n, n) each, rows follow y
        Z = self.f(torch.stack([X, Y], dim=-1))  # (n, n, 2) -> (n, n)
        return X, Y, Z


def _xy(w: Tensor) -> tuple[Tensor, Tensor]:
    if not isinstance(w, torch.Tensor):
        raise TypeError(f"w must be a torch.Tensor of shape (..., 2), got {type(w).__name__}")
    if w.shape[-1:] != (2,):
        raise ValueError(f"w must have shape (..., 2), got {tuple(w.shape)}")
    return w[..., 0], w[..., 1]


def quadratic_bowl(condition_number: float = 20.0, angle: float = 0.0) -> Surface:
    """The ill-conditioned quadratic ``f(w) = ½ wᵀ A w`` with ``A = R diag(1/κ, 1) Rᵀ``.

    ``κ = condition_number`` is the ratio of the curvatures along the two axes of the bowl (the
    eigenvalues of A are 1/κ and 1), ``angle`` (degrees) turns the axes away from x and y; with
    ``angle = 0`` the per-coordinate methods (Adagrad, RMSprop, Adam) see the axes directly. Plain
    gradient descent is stable for ``learning_rate < 2`` and shrinks the shallow direction by
    ``(1 − lr/κ)`` per step. Minimum 0 at the origin.

    Example
    -------
    >>> bowl = quadratic_bowl(condition_number=50.0, angle=30.0)
    >>> values = bowl.f(torch.tensor([[0.0, 0.0], [1.0, 1.0]]))      # (2, 2) -> (2,)
    """
    if not condition_number >= 1:
        raise ValueError(f"condition_number must be >= 1, got {condition_number!r}")
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    lam = (1.0 / condition_number, 1.0)
    # A = R diag(lam) R^T with R = [[c, -s], [s, c]]
    a11 = lam[0] * c * c + lam[1] * s * s
    a22 = lam[0] * s * s + lam[1] * c * c
    a12 = (lam[0] - lam[1]) * c * s

    def f(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return 0.5 * (a11 * x * x + 2 * a12 * x * y + a22 * y * y)

    def grad(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return torch.stack([a11 * x + a12 * y, a12 * x + a22 * y], dim=-1)

    # frame the long axis: the start lies far along the shallow direction, a little off the steep one
    start = (-8.0 * c - 2.0 * s, -8.0 * s + 2.0 * c)
    return Surface(
        name=f"quadratic bowl (κ = {condition_number:g})",
        f=f, grad=grad, xlim=(-10.0, 10.0), ylim=(-5.0, 5.0) if angle == 0 else (-10.0, 10.0),
        start=start, minimum=(0.0, 0.0), log_levels=True,
        description="ill-conditioned quadratic: fast along one axis, slow along the other",
    )


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """Rosenbrock's valley ``f(x, y) = (a − x)² + b (y − x²)²``; minimum 0 at ``(a, a²)``.

    ``∂f/∂x = −2 (a − x) − 4 b x (y − x²)``, ``∂f/∂y = 2 b (y − x²)``. The floor of the curved valley
    is nearly flat while its walls are steep (curvature ~ 2b across it), so a learning rate small
    enough for the walls crawls along the floor. Start at the classic (−1.2, 1).

    Example
    -------
    >>> rosenbrock().grad(torch.tensor([0.0, 0.0]))          # (−2a, 0) at the origin
    tensor([-2.,  0.])
    """

    def f(w: Tensor) -> Tensor:
        x, y = _xy(w)
        return (a - x) ** 2 + b * (y - x * x) ** 2

    def grad(w: Tensor) -> Tensor:
        x, y = _xy(w)
        r = y - x * x
        return torch.stack([-2 * (a - x) - 4 * b * x * r, 2 * b * r], dim=-1)

    return Surface(
        name="Rosenbrock", f=f, grad=grad, xlim=(-2.0, 2.0), ylim=(-1.0, 3.0),
        start=(-1.2, 1.0), minimum=(a, a * a), log_levels=True,
        description="curved valley with a flat floor and steep walls",
    )


def saddle(kind: str = "quadratic") -> Surface:
    """A saddle point at the origin, where the gradient vanishes but f has no minimum.

    ``kind="quadratic"``: ``f = x² − y²``, gradient ``(2x, −2y)``; the start (−1.8, 0.01) sits almost
    on the ridge, so plain gradient descent slides into the saddle and leaves it only as the tiny y
    offset grows by ``(1 + 2 lr)`` per step. ``kind="monkey"``: ``f = x³ − 3 x y²``, gradient
    ``(3x² − 3y², −6xy)``, a degenerate saddle (zero curvature too) that slows every method down.
    Both are unbounded below: ``minimum`` is ``None``.

    Example
    -------
    >>> saddle("monkey").f(torch.tensor([1.0, 1.0]))         # 1 - 3 = -2
    tensor(-2.)
    """
    if kind == "quadratic":

        def f(w: Tensor) -> Tensor:
            x, y = _xy(w)
            return x * x - y * y

        def grad(w: Tensor) -> Tensor:
            x, y = _xy(w)
            return torch.stack([2 * x, -2 * y], dim=-1)

        return Surface(name="saddle x² − y²", f=f, grad=grad, xlim=(-2.0, 2.0), ylim=(-2.0, 2.0),
                       start=(-1.8, 0.01), description="escaping a saddle point")
    if kind == "monkey":

        def f(w: Tensor) -> Tensor:
            x, y = _xy(w)
            return x ** 3 - 3 * x * y * y

        def grad(w: Tensor) -> Tensor:
            x, y = _xy(w)
            return torch.stack([3 * x * x - 3 * y * y, -6 * x * y], dim=-1)

        return Surface(name="monkey saddle x³ − 3xy²", f=f, grad=grad, xlim=(-2.0, 2.0),
                       ylim=(-2.0, 2.0), start=(1.6, 0.02), description="a flat, degenerate saddle")
    raise ValueError(f"kind must be 'quadratic' or 'monkey', got {kind!r}")


#: name -> factory; ``get_surface(name, **kwargs)`` builds one.
SURFACES: dict[str, Callable[..., Surface]] = {
    "bowl": quadratic_bowl,
    "rosenbrock": rosenbrock,
    "saddle": saddle,
    "monkey_saddle": lambda: saddle("monkey"),
}


def get_surface(surface: str | Surface, **kwargs) -> Surface:
    """The surface named (a key of ``SURFACES``, factory keyword arguments allowed) or ``surface`` itself.

    Example
    -------
    >>> get_surface("bowl", condition_number=100.0).name
    'quadratic bowl (κ = 100)'
    """
    if isinstance(surface, Surface):
        if kwargs:
            raise TypeError("keyword arguments are only accepted with a surface name")
        return surface
    if not isinstance(surface, str):
        raise TypeError(f"surface must be a name or a Surface, got {type(surface).__name__}")
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {sorted(SURFACES)}, got {surface!r}")
    return SURFACES[surface](**kwargs)


#: the update rules of the contract (section 05), run here with their ``torch.optim`` optimizers.
OPTIMIZERS = ("sgd", "sgd_momentum", "sgd_nesterov", "adagrad", "rmsprop", "adam", "adamw")


def _torch_optimizer(name: str, param: Tensor, config: dict) -> torch.optim.Optimizer:
    """The ``torch.optim`` optimizer a rule of the contract is named after, with ``config``'s
    hyper-parameters (the contract's keys and defaults, ``docs/student_api.md`` section 05)."""
    c = config
    lr, wd = c.get("learning_rate", 1e-3 if name in ("adam", "adamw") else 1e-2), c.get("weight_decay")
    O = torch.optim
    if name in ("sgd", "sgd_momentum", "sgd_nesterov"):
        momentum = 0.0 if name == "sgd" else c.get("momentum", 0.9)
        return O.SGD([param], lr=lr, momentum=momentum, nesterov=name == "sgd_nesterov", weight_decay=wd or 0.0)
    if name == "adagrad":
        return O.Adagrad([param], lr=lr, eps=c.get("eps", 1e-10), weight_decay=wd or 0.0)
    if name == "rmsprop":
        return O.RMSprop([param], lr=lr, alpha=c.get("decay_rate", 0.99), eps=c.get("eps", 1e-8),
                         weight_decay=wd or 0.0)
    betas = (c.get("beta1", 0.9), c.get("beta2", 0.999))
    if name == "adam":
        return O.Adam([param], lr=lr, betas=betas, eps=c.get("eps", 1e-8), weight_decay=wd or 0.0)
    return O.AdamW([param], lr=lr, betas=betas, eps=c.get("eps", 1e-8), weight_decay=1e-2 if wd is None else wd)


def builtin_rule(name: str) -> Callable:
    """The rule ``name`` of ``OPTIMIZERS`` as ``rule(w, dw, config) -> (next_w, config)``, stepping its
    ``torch.optim`` optimizer (kept in ``config["_torch"]``): what the explorers draw with, so that they
    need no one's answers."""
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown update rule {name!r}; expected one of {list(OPTIMIZERS)}")

    def rule(w, dw, config=None):
        config = {} if config is None else config
        state = config.get("_torch")
        if state is None:
            param = torch.nn.Parameter(torch.as_tensor(w).detach().clone())
            state = config["_torch"] = (param, _torch_optimizer(name, param, config))
        param, optimizer = state
        with torch.no_grad():
            param.copy_(torch.as_tensor(w))
        param.grad = torch.as_tensor(dw).detach().clone().to(param)
        optimizer.step()
        return param.detach().clone(), config

    rule.__name__ = rule.__qualname__ = name
    return rule


def get_rule(rule_or_name: str | Callable) -> Callable:
    """An update rule ``rule(w, dw, config) -> (next_w, config)``: a callable (your own rule) is
    returned as is; a name of ``OPTIMIZERS`` gives that rule run by its ``torch.optim`` optimizer.

    Example
    -------
    >>> adam = get_rule("adam")                              # torch.optim.Adam, stepped as a rule
    """
    if callable(rule_or_name):
        return rule_or_name
    if not isinstance(rule_or_name, str):
        raise TypeError(f"rule_or_name must be an update rule or its name, got {type(rule_or_name).__name__}")
    return builtin_rule(rule_or_name)


def run_optimizer(
    surface: str | Surface,
    rule_or_name: str | Callable,
    start: tuple[float, float] | Tensor | None = None,
    steps: int = 100,
    **hyperparams,
) -> Tensor:
    """The path of an update rule over a surface: a float64 tensor of shape ``(steps + 1, 2)``.

    ``w₀ = start`` (default ``surface.start``), then ``w_{t+1}, config = rule(w_t, ∇f(w_t), config)``
    with ``config`` starting as ``hyperparams`` (``learning_rate``, ``momentum``, ``beta1`` ... as in
    the contract). Row t is ``w_t``. Once an iterate is not finite (the run diverged) the remaining
    rows are NaN. Computed in float64 on the CPU.

    Example
    -------
    >>> my_sgd = lambda w, dw, config: (w - config["learning_rate"] * dw, config)
    >>> path = run_optimizer("rosenbrock", my_sgd, steps=500, learning_rate=1e-3)   # (501, 2)
    """
    surface = get_surface(surface)
    rule = get_rule(rule_or_name)
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    w = torch.as_tensor(surface.start if start is None else start, dtype=torch.float64).detach().clone()
    if w.shape != (2,):
        raise ValueError(f"start must be a point (x, y), got shape {tuple(w.shape)}")
    path = torch.full((steps + 1, 2), float("nan"), dtype=torch.float64)  # (T+1, 2)
    path[0] = w
    config = dict(hyperparams)
    for t in range(steps):
        w, config = rule(w, surface.grad(w), config)
        w = torch.as_tensor(w, dtype=torch.float64)
        if not bool(torch.isfinite(w).all()):
            break
        path[t + 1] = w
    return path
