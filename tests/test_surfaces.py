"""labkit.surfaces: the 2-D test surfaces, their gradients, and run_optimizer over the reference rules."""
from __future__ import annotations

import math

import pytest
import torch

from labkit import reference as R
from labkit.gradcheck import numerical_gradient, rel_error
from labkit.surfaces import (
    OPTIMIZERS, SURFACES, Surface, get_rule, get_surface, quadratic_bowl, rosenbrock, run_optimizer, saddle,
)

GRAD_TOL = 1e-10      # analytic vs autograd, float64
NUMGRAD_TOL = 1e-7    # analytic vs centred differences (h = 1e-5), float64

ALL_SURFACES = {
    "bowl": quadratic_bowl(),
    "bowl_rotated": quadratic_bowl(condition_number=50.0, angle=30.0),
    "rosenbrock": rosenbrock(),
    "rosenbrock_a2": rosenbrock(a=2.0, b=10.0),
    "saddle": saddle(),
    "monkey_saddle": saddle("monkey"),
}


def gd(w, dw, config):
    """Plain gradient descent written here, independent of the references."""
    return w - config["learning_rate"] * dw, config


def random_points(surface: Surface, n: int, gen: torch.Generator) -> torch.Tensor:
    u = torch.rand(n, 2, generator=gen, dtype=torch.float64)  # (n, 2) in [0, 1)
    lo = torch.tensor([surface.xlim[0], surface.ylim[0]], dtype=torch.float64)
    hi = torch.tensor([surface.xlim[1], surface.ylim[1]], dtype=torch.float64)
    return lo + u * (hi - lo)


@pytest.mark.parametrize("name", ALL_SURFACES)
def test_gradient_matches_autograd_over_the_window(name, gen):
    surface = ALL_SURFACES[name]
    w = random_points(surface, 64, gen).requires_grad_(True)
    (auto,) = torch.autograd.grad(surface.f(w).sum(), w)
    assert rel_error(surface.grad(w.detach()), auto) < GRAD_TOL


@pytest.mark.parametrize("name", ALL_SURFACES)
def test_gradient_matches_centred_differences_at_the_start(name):
    surface = ALL_SURFACES[name]
    w = torch.tensor(surface.start, dtype=torch.float64)
    assert rel_error(surface.grad(w), numerical_gradient(surface.f, w)) < NUMGRAD_TOL


@pytest.mark.parametrize("name", ALL_SURFACES)
def test_values_keep_dtype_device_and_batch_shape(name, device):
    surface = ALL_SURFACES[name]
    w = torch.zeros(3, 4, 2, dtype=torch.float32, device=device) + 0.5
    assert surface.f(w).shape == (3, 4) and surface.f(w).dtype == torch.float32
    assert surface.f(w).device.type == device.type
    assert surface.grad(w).shape == (3, 4, 2) and surface.grad(w).dtype == torch.float32
    assert surface.grad(w).device.type == device.type


@pytest.mark.parametrize("name", ALL_SURFACES)
def test_start_lies_inside_the_window(name):
    surface = ALL_SURFACES[name]
    assert surface.xlim[0] < surface.start[0] < surface.xlim[1]
    assert surface.ylim[0] < surface.start[1] < surface.ylim[1]


@pytest.mark.parametrize("name", ["bowl", "bowl_rotated", "rosenbrock", "rosenbrock_a2"])
def test_minimum_is_stationary_and_below_every_grid_value(name):
    surface = ALL_SURFACES[name]
    w_star = torch.tensor(surface.minimum, dtype=torch.float64)
    assert torch.allclose(surface.grad(w_star), torch.zeros(2, dtype=torch.float64), atol=1e-12)
    X, Y, Z = surface.grid(101)
    assert X.shape == Y.shape == Z.shape == (101, 101)
    assert float(surface.f(w_star)) <= float(Z.min()) + 1e-12


@pytest.mark.parametrize("kappa, angle", [(20.0, 0.0), (50.0, 30.0), (1.0, 75.0)])
def test_bowl_hessian_has_eigenvalues_one_over_kappa_and_one(kappa, angle):
    bowl = quadratic_bowl(kappa, angle)
    H = torch.autograd.functional.hessian(bowl.f, torch.tensor([0.3, -0.7], dtype=torch.float64))
    eig = torch.linalg.eigvalsh(H)
    assert torch.allclose(eig, torch.tensor([1 / kappa, 1.0], dtype=torch.float64), atol=1e-12)


def test_saddle_origin_is_stationary_with_curvature_of_both_signs():
    s = saddle()
    origin = torch.zeros(2, dtype=torch.float64)
    assert torch.equal(s.grad(origin), torch.zeros(2, dtype=torch.float64))
    H = torch.autograd.functional.hessian(s.f, origin)
    assert torch.allclose(torch.linalg.eigvalsh(H), torch.tensor([-2.0, 2.0], dtype=torch.float64))
    assert s.minimum is None and saddle("monkey").minimum is None


def test_get_surface_builds_every_registered_name_and_passes_options():
    for name in SURFACES:
        assert isinstance(get_surface(name), Surface)
    assert "κ = 5" in get_surface("bowl", condition_number=5.0).name
    bowl = quadratic_bowl()
    assert get_surface(bowl) is bowl


def test_bad_surface_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="surface must be one of"):
        get_surface("ackley")
    with pytest.raises(TypeError, match="surface"):
        get_surface(3)
    with pytest.raises(ValueError, match="condition_number"):
        quadratic_bowl(0.5)
    with pytest.raises(ValueError, match="kind"):
        saddle("horse")
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        rosenbrock().f(torch.zeros(3))


def test_run_optimizer_returns_steps_plus_one_float64_rows_starting_at_start():
    path = run_optimizer("rosenbrock", gd, steps=7, learning_rate=1e-3)
    assert path.shape == (8, 2) and path.dtype == torch.float64
    assert torch.equal(path[0], torch.tensor(rosenbrock().start, dtype=torch.float64))
    assert run_optimizer("bowl", gd, start=(1.0, 2.0), steps=0, learning_rate=0.1).tolist() == [[1.0, 2.0]]


def test_gradient_descent_on_the_bowl_follows_the_closed_form():
    # axis-aligned bowl: x_t = x_0 (1 - lr/κ)^t, y_t = y_0 (1 - lr)^t
    kappa, lr, steps = 20.0, 0.3, 40
    path = run_optimizer(quadratic_bowl(kappa), gd, start=(-8.0, 2.0), steps=steps, learning_rate=lr)
    t = torch.arange(steps + 1, dtype=torch.float64)
    expected = torch.stack([-8.0 * (1 - lr / kappa) ** t, 2.0 * (1 - lr) ** t], dim=1)
    assert rel_error(path, expected) < 1e-12


def test_run_optimizer_by_name_equals_stepping_the_reference_rule_by_hand():
    bowl = quadratic_bowl()
    path = run_optimizer(bowl, "sgd_momentum", steps=25, learning_rate=0.1, momentum=0.9)
    w, config = torch.tensor(bowl.start, dtype=torch.float64), {"learning_rate": 0.1, "momentum": 0.9}
    for t in range(25):
        w, config = R.sgd_momentum(w, bowl.grad(w), config)
        assert torch.allclose(path[t + 1], w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_contract_rule_runs_and_lowers_the_bowl(name):
    bowl = quadratic_bowl()
    path = run_optimizer(bowl, name, steps=100, learning_rate=0.1)
    assert bool(torch.isfinite(path).all())
    assert float(bowl.f(path[-1])) < 0.5 * float(bowl.f(path[0]))


def test_momentum_beats_plain_sgd_on_the_ill_conditioned_bowl():
    bowl = quadratic_bowl(condition_number=20.0)
    sgd = run_optimizer(bowl, "sgd", steps=100, learning_rate=0.1)
    mom = run_optimizer(bowl, "sgd_momentum", steps=100, learning_rate=0.1, momentum=0.9)
    assert float(bowl.f(mom[-1])) < 0.01 * float(bowl.f(sgd[-1]))


def test_gradient_descent_leaves_the_saddle_along_the_negative_curvature():
    s = saddle()
    path = run_optimizer(s, "sgd", steps=60, learning_rate=0.1)
    # the y offset grows by (1 + 2 lr) per step, x shrinks by (1 - 2 lr)
    assert math.isclose(float(path[-1, 1]), s.start[1] * 1.2 ** 60, rel_tol=1e-9)
    assert float(s.f(path[-1])) < -1.0


def test_repeated_runs_are_identical_and_do_not_share_rule_state():
    a = run_optimizer("rosenbrock", "adam", steps=30, learning_rate=0.05)
    b = run_optimizer("rosenbrock", "adam", steps=30, learning_rate=0.05)
    assert torch.equal(a, b)


def test_a_diverging_run_is_cut_off_with_nan_rows():
    def explode(w, dw, config):
        config["t"] = config.get("t", 0) + 1
        return (w * float("inf") if config["t"] == 3 else w - 0.1 * dw), config

    path = run_optimizer("bowl", explode, steps=6)
    assert bool(torch.isfinite(path[:3]).all()) and bool(torch.isnan(path[3:]).all())


def test_bad_run_optimizer_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown update rule"):
        run_optimizer("bowl", "sgd_with_magic", steps=3)
    with pytest.raises(TypeError, match="rule_or_name"):
        get_rule(42)
    with pytest.raises(ValueError, match="steps"):
        run_optimizer("bowl", gd, steps=-1, learning_rate=0.1)
    with pytest.raises(ValueError, match="start"):
        run_optimizer("bowl", gd, start=(1.0, 2.0, 3.0), steps=3, learning_rate=0.1)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_a_rule_by_name_is_torch_optim_and_follows_the_reference_trajectory(name):
    """The explorers draw with torch.optim (they need no one's answers): the same path as the reference."""
    bowl = quadratic_bowl()
    config = {"learning_rate": 0.05, "weight_decay": 0.1} if name != "adamw" else {"learning_rate": 0.05}
    mine = run_optimizer(bowl, name, steps=25, **config)
    rule, w, state = getattr(R, name), torch.tensor(bowl.start, dtype=torch.float64), dict(config)
    for t in range(25):
        w, state = rule(w, bowl.grad(w), state)
        assert torch.allclose(mine[t + 1], w, rtol=1e-10, atol=1e-12), (name, t)
