"""Initialisers of section 02 against torch.nn.init: fans and gains exactly, the laws statistically."""
from __future__ import annotations

import math

import pytest
import torch
from scipy import stats

from labkit.reference import init as ref

P_MIN = 1e-3  # smallest accepted p-value of a Kolmogorov-Smirnov test (seeded, so deterministic)
Z = 5.0  # mean and variance must lie within Z standard errors of their target

FAN_SHAPES = [(5, 3), (3, 5), (16, 3, 3, 3), (8, 4, 5), (2, 3, 4, 5, 6), (1, 1)]

GAIN_CASES = [
    ("linear", None),
    ("conv1d", None),
    ("conv2d", None),
    ("conv3d", None),
    ("conv_transpose1d", None),
    ("conv_transpose2d", None),
    ("conv_transpose3d", None),
    ("sigmoid", None),
    ("tanh", None),
    ("relu", None),
    ("leaky_relu", None),
    ("leaky_relu", 0.2),
    ("leaky_relu", 0),
    ("leaky_relu", 1),
    ("selu", None),
]


@pytest.mark.parametrize("shape", FAN_SHAPES)
def test_compute_fans_matches_torch_internals(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert ref.compute_fans(shape) == tuple(expected)
    assert ref.compute_fans(torch.Size(shape)) == tuple(expected)


def test_compute_fans_of_affine_and_conv_weights_by_hand():
    assert ref.compute_fans((10, 784)) == (784, 10)
    assert ref.compute_fans((64, 3, 5, 5)) == (75, 1600)


@pytest.mark.parametrize("nonlinearity, param", GAIN_CASES)
def test_calculate_gain_matches_torch(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert ref.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-15)


def test_calculate_gain_values_by_hand():
    assert ref.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert ref.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert ref.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert ref.calculate_gain("selu") == pytest.approx(0.75)


# ------------------------------------------------------------------------------ the four laws
def law_cases():
    """(id, initialiser, shape, keyword arguments, 'uniform' or 'normal', bound or std) by hand."""
    conv = (64, 32, 3, 3)  # fan_in 288, fan_out 576
    tanh_gain = 5 / 3
    leaky_gain = math.sqrt(2 / (1 + 0.2**2))
    return [
        ("xavier_uniform", ref.xavier_uniform, (256, 128), {}, "uniform", math.sqrt(6 / 384)),
        (
            "xavier_uniform_tanh_conv",
            ref.xavier_uniform,
            conv,
            {"gain": tanh_gain},
            "uniform",
            tanh_gain * math.sqrt(6 / 864),
        ),
        ("xavier_normal", ref.xavier_normal, (256, 128), {}, "normal", math.sqrt(2 / 384)),
        ("xavier_normal_gain_conv", ref.xavier_normal, conv, {"gain": 0.5}, "normal", 0.5 * math.sqrt(2 / 864)),
        ("kaiming_uniform", ref.kaiming_uniform, (300, 200), {}, "uniform", math.sqrt(2) * math.sqrt(3 / 200)),
        (
            "kaiming_uniform_leaky_fan_out_conv",
            ref.kaiming_uniform,
            conv,
            {"a": 0.2, "mode": "fan_out", "nonlinearity": "leaky_relu"},
            "uniform",
            leaky_gain * math.sqrt(3 / 576),
        ),
        ("kaiming_normal", ref.kaiming_normal, (300, 200), {}, "normal", math.sqrt(2) / math.sqrt(200)),
        (
            "kaiming_normal_fan_out_linear",
            ref.kaiming_normal,
            conv,
            {"mode": "fan_out", "nonlinearity": "linear"},
            "normal",
            1 / math.sqrt(576),
        ),
    ]


LAWS = {case[0]: case[1:] for case in law_cases()}

# our initialiser name -> the in-place torch.nn.init function it mirrors
TORCH_INIT = {
    ref.xavier_uniform: torch.nn.init.xavier_uniform_,
    ref.xavier_normal: torch.nn.init.xavier_normal_,
    ref.kaiming_uniform: torch.nn.init.kaiming_uniform_,
    ref.kaiming_normal: torch.nn.init.kaiming_normal_,
}


def draw(case, seed=0, dtype=torch.float64, device=None):
    fn, shape, kwargs, _, _ = LAWS[case]
    return fn(shape, **kwargs, generator=torch.Generator().manual_seed(seed), dtype=dtype, device=device)


@pytest.mark.parametrize("case", list(LAWS))
def test_initialiser_has_the_right_shape_mean_and_variance(case):
    _, shape, _, law, scale = LAWS[case]
    w = draw(case)
    assert w.shape == shape
    v = w.flatten()
    n = v.numel()
    variance = scale**2 / 3 if law == "uniform" else scale**2
    # standard error of the sample variance: sqrt((mu4 - sigma^4) / n)
    mu4 = scale**4 / 5 if law == "uniform" else 3 * scale**4
    assert abs(v.mean().item()) < Z * math.sqrt(variance / n)
    assert abs(v.var().item() - variance) < Z * math.sqrt((mu4 - variance**2) / n)


@pytest.mark.parametrize("case", [c for c in LAWS if LAWS[c][3] == "uniform"])
def test_uniform_initialiser_stays_within_its_bound_and_reaches_it(case):
    bound = LAWS[case][4]
    w = draw(case)
    assert w.abs().max().item() <= bound
    assert w.max().item() > 0.99 * bound and w.min().item() < -0.99 * bound


@pytest.mark.parametrize("case", list(LAWS))
def test_initialiser_passes_kolmogorov_smirnov_against_target_law(case):
    _, _, _, law, scale = LAWS[case]
    v = draw(case).flatten().numpy()
    if law == "uniform":
        result = stats.kstest(v, "uniform", args=(-scale, 2 * scale))
    else:
        result = stats.kstest(v, "norm", args=(0.0, scale))
    assert result.pvalue > P_MIN, f"KS statistic {result.statistic:.4f}, p = {result.pvalue:.2e}"


@pytest.mark.parametrize("case", list(LAWS))
def test_initialiser_has_the_same_law_as_torch_nn_init(case):
    fn, shape, kwargs, _, _ = LAWS[case]
    ours = draw(case, seed=1).flatten().numpy()
    theirs = torch.empty(shape, dtype=torch.float64)
    TORCH_INIT[fn](theirs, **kwargs, generator=torch.Generator().manual_seed(2))
    result = stats.ks_2samp(ours, theirs.flatten().numpy())
    assert result.pvalue > P_MIN, f"two-sample KS statistic {result.statistic:.4f}, p = {result.pvalue:.2e}"


@pytest.mark.parametrize("case", list(LAWS))
def test_initialiser_is_deterministic_for_a_given_generator_state(case):
    assert torch.equal(draw(case, seed=5), draw(case, seed=5))
    assert not torch.equal(draw(case, seed=5), draw(case, seed=6))
    fn, shape, kwargs, _, _ = LAWS[case]
    g = torch.Generator().manual_seed(5)
    first, second = fn(shape, **kwargs, generator=g), fn(shape, **kwargs, generator=g)
    assert not torch.equal(first, second)  # the generator advances


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("case", ["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal"])
def test_initialiser_honours_dtype_and_device_with_the_same_numbers_everywhere(case, dtype, device):
    w = draw(case, seed=3, dtype=dtype, device=device)
    assert w.dtype == dtype and w.device.type == torch.device(device).type
    assert torch.equal(w.cpu(), draw(case, seed=3, dtype=dtype, device="cpu"))


def test_default_dtype_is_float32_on_cpu_and_the_global_rng_works():
    with torch.random.fork_rng(devices=[]):
        for fn in TORCH_INIT:
            w = fn((4, 3))
            assert w.dtype == torch.float32 and w.device.type == "cpu" and w.shape == (4, 3)


# ---------------------------------------------------------------------------------------- errors
def test_unknown_nonlinearity_is_a_clear_error():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        ref.calculate_gain("swish")
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        ref.kaiming_normal((4, 3), nonlinearity="gelu")
    with pytest.raises(ValueError, match=r"param \(the negative slope of leaky_relu\) must be a number"):
        ref.calculate_gain("leaky_relu", "0.1")


@pytest.mark.parametrize("fn", [ref.kaiming_uniform, ref.kaiming_normal])
def test_unknown_mode_is_a_clear_error(fn):
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out', got 'fan_avg'"):
        fn((4, 3), mode="fan_avg")


@pytest.mark.parametrize("fn", list(TORCH_INIT) + [ref.compute_fans])
def test_shape_with_fewer_than_two_dims_is_a_clear_error(fn):
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fn((5,))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        fn(())


def test_bad_shape_and_dtype_are_clear_errors():
    with pytest.raises(ValueError, match="positive ints"):
        ref.compute_fans((4, 0))
    with pytest.raises(ValueError, match="positive ints"):
        ref.compute_fans((4, 2.5))
    with pytest.raises(TypeError, match="shape must be a tuple"):
        ref.compute_fans(torch.empty(3, 4))
    with pytest.raises(TypeError, match="dtype must be a floating-point"):
        ref.xavier_uniform((4, 3), dtype=torch.int64)


def test_kolmogorov_smirnov_rejects_the_slides_wrong_glorot_bound():
    """The test has power: sqrt(6)/(fan_in+fan_out) instead of sqrt(6/(fan_in+fan_out)) fails it."""
    shape = (256, 128)
    right = math.sqrt(6 / 384)
    wrong = ref.xavier_uniform(shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    wrong = wrong * (math.sqrt(6) / 384) / right
    assert stats.kstest(wrong.flatten().numpy(), "uniform", args=(-right, 2 * right)).pvalue < P_MIN
