"""Notebook 02: realistic buggy student versions (each must lose points), correct versions written
differently from the reference (each must keep full marks: for the random initialisers, other ways of
drawing the same law) and cheats (the answer key: each must score 0 with the call named), grouped by
function; BUGGY, CORRECT and CHEATS at the end list them. CHECK_PROBLEMS names the verdicts the checks get
wrong today (the tests mark them xfail)."""
from __future__ import annotations

import math

import torch

from .answer_key import RAW as R  # the references, callable from a student's function here

# --- compute_fans --------------------------------------------------------------------------------


def cf_swapped(shape):
    receptive = math.prod(shape[2:])
    return shape[0] * receptive, shape[1] * receptive


def cf_no_receptive(shape):
    return shape[1], shape[0]


def cf_4d_only(shape):
    receptive = shape[2] * shape[3] if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def cf_fan_out_no_receptive(shape):
    return math.prod(shape[1:]), shape[0]


def cf_returns_tensors(shape):
    receptive = torch.tensor(shape[2:], dtype=torch.int64).prod()
    return shape[1] * receptive, shape[0] * receptive


def cf_true_division(shape):
    n = math.prod(shape)
    return n / shape[0], n / shape[1]


def cf_sum_receptive(shape):
    receptive = sum(shape[2:]) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def cf_last_is_input(shape):  # thinks of a (D, M) NumPy layout: the last dimension as the inputs
    receptive = math.prod(shape[2:])
    return shape[-1] * receptive if len(shape) > 2 else shape[-1], shape[0] * receptive


def cf_alt_numel(shape):
    n = math.prod(shape)
    return n // shape[0], n // shape[1]


def cf_loop(shape):
    receptive = 1
    for k in shape[2:]:
        receptive *= int(k)
    return int(shape[1]) * receptive, int(shape[0]) * receptive


def cf_list(shape):
    receptive = torch.Size(shape[2:]).numel()
    return [shape[1] * receptive, shape[0] * receptive]


def cf_empty_tensor(shape):
    w = torch.empty(tuple(shape), device="meta")
    return w[0].numel(), w[:, 0].numel()


def cf_answer_key(shape):
    from labkit.reference import compute_fans

    return compute_fans(shape)


# --- calculate_gain ------------------------------------------------------------------------------

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "sigmoid")


def _gain_with(overrides):
    def gain(nonlinearity, param=None):
        if nonlinearity in overrides:
            return overrides[nonlinearity](param)
        return R.calculate_gain(nonlinearity, param)
    return gain


def cg_tanh_one(nonlinearity, param=None):
    return _gain_with({"tanh": lambda p: 1.0})(nonlinearity, param)


def cg_relu_two(nonlinearity, param=None):  # the variance factor instead of its square root
    return _gain_with({"relu": lambda p: 2.0})(nonlinearity, param)


def cg_leaky_no_square(nonlinearity, param=None):
    return _gain_with({"leaky_relu": lambda p: math.sqrt(2.0 / (1.0 + (0.01 if p is None else p)))})(
        nonlinearity, param)


def cg_param_or_default(nonlinearity, param=None):
    return _gain_with({"leaky_relu": lambda p: math.sqrt(2.0 / (1.0 + (p or 0.01) ** 2))})(nonlinearity, param)


def cg_selu_one(nonlinearity, param=None):
    return _gain_with({"selu": lambda p: 1.0})(nonlinearity, param)


def cg_default_slope_zero(nonlinearity, param=None):
    return _gain_with({"leaky_relu": lambda p: math.sqrt(2.0 / (1.0 + (0.0 if p is None else p) ** 2))})(
        nonlinearity, param)


def cg_only_linear(nonlinearity, param=None):
    if nonlinearity in ("linear", "sigmoid"):
        return 1.0
    if nonlinearity in ("tanh", "relu", "leaky_relu", "selu"):
        return R.calculate_gain(nonlinearity, param)
    raise ValueError(f"unknown nonlinearity {nonlinearity}")


def cg_unknown_is_one(nonlinearity, param=None):
    try:
        return R.calculate_gain(nonlinearity, param)
    except ValueError:
        return 1.0


def cg_sigmoid_slope(nonlinearity, param=None):  # sigmoid's slope at 0 taken for its gain
    return _gain_with({"sigmoid": lambda p: 0.25})(nonlinearity, param)


def cg_returns_tensor(nonlinearity, param=None):
    return torch.tensor(R.calculate_gain(nonlinearity, param))


def cg_alt_dict(nonlinearity, param=None):
    slope = 0.01 if param is None else param
    table = {name: 1.0 for name in _LINEAR}
    table.update(tanh=5.0 / 3, relu=2.0 ** 0.5, leaky_relu=(2.0 / (1 + slope * slope)) ** 0.5, selu=0.75)
    if nonlinearity not in table:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}")
    return table[nonlinearity]


def cg_startswith(nonlinearity, param=None):
    if nonlinearity.startswith("conv") or nonlinearity in ("linear", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5 / 3
    if nonlinearity == "relu":
        return math.sqrt(2)
    if nonlinearity == "leaky_relu":
        slope = param if param is not None else 0.01
        return math.sqrt(2 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3 / 4
    raise ValueError(nonlinearity)


def cg_match(nonlinearity, param=None):
    match nonlinearity:
        case "tanh":
            return 5.0 / 3.0
        case "relu":
            return float(torch.tensor(2.0, dtype=torch.float64).sqrt())
        case "leaky_relu":
            s = 0.01 if param is None else float(param)
            return math.sqrt(2.0) / math.sqrt(1.0 + s * s)
        case "selu":
            return 0.75
        case name if name in _LINEAR:
            return 1.0
    raise ValueError(f"calculate_gain: {nonlinearity!r} is not supported")


def cg_answer_key(nonlinearity, param=None):
    import labkit.reference as ref

    return ref.calculate_gain(nonlinearity, param)


# --- the initialisers: shared pieces -------------------------------------------------------------

def _fans(shape):
    return R.compute_fans(tuple(shape))


def _uniform(shape, bound, generator, dtype, device):
    u = torch.rand(tuple(shape), generator=generator, dtype=dtype)
    return ((2 * u - 1) * bound).to(device or "cpu")


def _normal(shape, std, generator, dtype, device):
    return (torch.randn(tuple(shape), generator=generator, dtype=dtype) * std).to(device or "cpu")


# --- xavier_uniform ------------------------------------------------------------------------------

def xu_slide_bound(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6) / (fan_in + fan_out)  # the lecture slide's form
    return _uniform(shape, a, generator, dtype, device)


def xu_std_as_bound(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _uniform(shape, gain * math.sqrt(2 / (fan_in + fan_out)), generator, dtype, device)


def xu_not_centred(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    return (torch.rand(tuple(shape), generator=generator, dtype=dtype) * a).to(device or "cpu")


def xu_normal_law(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _normal(shape, gain * math.sqrt(2 / (fan_in + fan_out)), generator, dtype, device)


def xu_global_rng(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6 / (fan_in + fan_out))
    return ((2 * torch.rand(tuple(shape), dtype=dtype) - 1) * a).to(device or "cpu")


def xu_manual_seed(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    torch.manual_seed(0)
    return xu_global_rng(shape, gain, None, dtype, device)


def xu_ignores_gain(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _uniform(shape, math.sqrt(6 / (fan_in + fan_out)), generator, dtype, device)


def xu_fan_in_only(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, _ = _fans(shape)
    return _uniform(shape, gain * math.sqrt(3 / fan_in), generator, dtype, device)


def xu_no_receptive(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = shape[1], shape[0]
    return _uniform(shape, gain * math.sqrt(6 / (fan_in + fan_out)), generator, dtype, device)


def xu_always_float64(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    return R.xavier_uniform(shape, gain, generator, torch.float64, device)


def xu_repeated_rows(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    row = _uniform(shape[1:], gain * math.sqrt(6 / (fan_in + fan_out)), generator, dtype, device)
    return row.expand(tuple(shape)).clone()


def xu_alt_uniform_(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    a = gain * (6.0 / (fan_in + fan_out)) ** 0.5
    return torch.empty(tuple(shape), dtype=dtype).uniform_(-a, a, generator=generator).to(device or "cpu")


def xu_alt_float64_then_cast(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    u = torch.rand(math.prod(shape), generator=generator, dtype=torch.float64)
    return (a * (1 - 2 * u)).reshape(tuple(shape)).to(device=device or "cpu", dtype=dtype)


def xu_alt_std_first(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    return _uniform(shape, bound, generator, dtype, device)


def xu_answer_key(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    import sys

    return sys.modules["labkit.reference"].xavier_uniform(shape, gain, generator, dtype, device)


# --- xavier_normal -------------------------------------------------------------------------------

def xn_variance_as_std(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _normal(shape, gain * 2 / (fan_in + fan_out), generator, dtype, device)


def xn_uniform_law(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _uniform(shape, gain * math.sqrt(6 / (fan_in + fan_out)), generator, dtype, device)


def xn_six(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _normal(shape, gain * math.sqrt(6 / (fan_in + fan_out)), generator, dtype, device)


def xn_global_rng(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return (torch.randn(tuple(shape), dtype=dtype) * gain * math.sqrt(2 / (fan_in + fan_out))).to(device or "cpu")


def xn_ignores_gain(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _normal(shape, math.sqrt(2 / (fan_in + fan_out)), generator, dtype, device)


def xn_lecun(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):  # the seed's "Xavier"
    fan_in, _ = _fans(shape)
    return _normal(shape, gain * math.sqrt(1 / fan_in), generator, dtype, device)


def xn_no_receptive(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = shape[1], shape[0]
    return _normal(shape, gain * math.sqrt(2 / (fan_in + fan_out)), generator, dtype, device)


def xn_always_float32(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    return R.xavier_normal(shape, gain, generator, torch.float32, device)


def xn_abs(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    return _normal(shape, gain * math.sqrt(2 / (fan_in + fan_out)), generator, dtype, device).abs()


def xn_own_generator(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    own = torch.Generator().manual_seed(0)
    return _normal(shape, gain * math.sqrt(2 / (fan_in + fan_out)), own, dtype, device)


def xn_alt_torch_normal(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return torch.normal(0.0, std, size=tuple(shape), generator=generator, dtype=dtype).to(device or "cpu")


def xn_alt_normal_(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    std = gain / math.sqrt((fan_in + fan_out) / 2.0)
    return torch.empty(tuple(shape), dtype=dtype).normal_(0.0, std, generator=generator).to(device or "cpu")


def xn_alt_box_muller(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    n = math.prod(shape)
    u1 = 1.0 - torch.rand(n, generator=generator, dtype=torch.float64)  # in (0, 1]: the log is finite
    u2 = torch.rand(n, generator=generator, dtype=torch.float64)
    z = torch.sqrt(-2.0 * torch.log(u1)) * torch.cos(2 * math.pi * u2)
    return (std * z).reshape(tuple(shape)).to(device=device or "cpu", dtype=dtype)


def xn_alt_erfinv(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    fan_in, fan_out = _fans(shape)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    u = torch.rand(tuple(shape), generator=generator, dtype=torch.float64).clamp(1e-15, 1 - 1e-15)
    z = math.sqrt(2.0) * torch.erfinv(2 * u - 1)
    return (std * z).to(device=device or "cpu", dtype=dtype)


def xn_answer_key(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    from labkit.reference import init

    return init.xavier_normal(shape, gain, generator, dtype, device)


# --- kaiming_uniform ------------------------------------------------------------------------------

def _kaiming_fan(shape, mode):
    fan_in, fan_out = _fans(shape)
    return fan_in if mode == "fan_in" else fan_out


def ku_std_as_bound(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                    device=None):
    gain = R.calculate_gain(nonlinearity, a)
    return _uniform(shape, gain / math.sqrt(_kaiming_fan(shape, mode)), generator, dtype, device)


def ku_ignores_mode(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                    device=None):
    gain = R.calculate_gain(nonlinearity, a)
    return _uniform(shape, gain * math.sqrt(3 / _fans(shape)[0]), generator, dtype, device)


def ku_relu_gain_always(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                        device=None):
    return _uniform(shape, math.sqrt(2) * math.sqrt(3 / _kaiming_fan(shape, mode)), generator, dtype, device)


def ku_slope_ignored(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    gain = R.calculate_gain(nonlinearity)
    return _uniform(shape, gain * math.sqrt(3 / _kaiming_fan(shape, mode)), generator, dtype, device)


def ku_glorot_fans(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                   device=None):
    fan_in, fan_out = _fans(shape)
    gain = R.calculate_gain(nonlinearity, a)
    return _uniform(shape, gain * math.sqrt(6 / (fan_in + fan_out)), generator, dtype, device)


def ku_not_centred(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                   device=None):
    bound = R.calculate_gain(nonlinearity, a) * math.sqrt(3 / _kaiming_fan(shape, mode))
    return (torch.rand(tuple(shape), generator=generator, dtype=dtype) * bound).to(device or "cpu")


def ku_global_rng(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                  device=None):
    bound = R.calculate_gain(nonlinearity, a) * math.sqrt(3 / _kaiming_fan(shape, mode))
    return torch.empty(tuple(shape), dtype=dtype).uniform_(-bound, bound).to(device or "cpu")


def ku_ignores_dtype(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    return R.kaiming_uniform(shape, a, mode, nonlinearity, generator)


def ku_mode_inverted(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    fan_in, fan_out = _fans(shape)
    fan = fan_out if mode == "fan_in" else fan_in
    return _uniform(shape, R.calculate_gain(nonlinearity, a) * math.sqrt(3 / fan), generator, dtype, device)


def ku_alt_uniform_(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                    device=None):
    std = R.calculate_gain(nonlinearity, a) / math.sqrt(_kaiming_fan(shape, mode))
    bound = math.sqrt(3.0) * std
    return torch.empty(tuple(shape), dtype=dtype).uniform_(-bound, bound, generator=generator).to(device or "cpu")


def ku_alt_affine_map(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                      device=None):
    bound = R.calculate_gain(nonlinearity, a) * (3.0 / _kaiming_fan(shape, mode)) ** 0.5
    u = torch.rand(tuple(shape), generator=generator, dtype=torch.float64)
    return torch.lerp(torch.full_like(u, -bound), torch.full_like(u, bound), u).to(device=device or "cpu",
                                                                                   dtype=dtype)


def ku_alt_own_helpers(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                       device=None):
    fan_in, fan_out = cf_loop(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out}[mode]
    bound = cg_alt_dict(nonlinearity, a) * math.sqrt(3.0 / fan)
    return _uniform(shape, bound, generator, dtype, device)


def ku_answer_key(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                  device=None):
    from labkit import reference

    return reference.kaiming_uniform(shape, a, mode, nonlinearity, generator, dtype, device)


# --- kaiming_normal -------------------------------------------------------------------------------

def kn_two_twice(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                 device=None):
    gain = R.calculate_gain(nonlinearity, a)
    return _normal(shape, gain * math.sqrt(2 / _kaiming_fan(shape, mode)), generator, dtype, device)


def kn_variance_as_std(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                       device=None):
    gain = R.calculate_gain(nonlinearity, a)
    return _normal(shape, gain ** 2 / _kaiming_fan(shape, mode), generator, dtype, device)


def kn_ignores_mode(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                    device=None):
    gain = R.calculate_gain(nonlinearity, a)
    return _normal(shape, gain / math.sqrt(_fans(shape)[0]), generator, dtype, device)


def kn_relu_gain_always(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                        device=None):
    return _normal(shape, math.sqrt(2 / _kaiming_fan(shape, mode)), generator, dtype, device)


def kn_slope_ignored(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    gain = R.calculate_gain(nonlinearity)
    return _normal(shape, gain / math.sqrt(_kaiming_fan(shape, mode)), generator, dtype, device)


def kn_uniform_law(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                   device=None):
    gain = R.calculate_gain(nonlinearity, a)
    return _uniform(shape, gain * math.sqrt(3 / _kaiming_fan(shape, mode)), generator, dtype, device)


def kn_global_rng(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                  device=None):
    std = R.calculate_gain(nonlinearity, a) / math.sqrt(_kaiming_fan(shape, mode))
    return torch.normal(0.0, std, size=tuple(shape), dtype=dtype).to(device or "cpu")


def kn_fan_out_default(shape, a=0.0, mode="fan_out", nonlinearity="relu", generator=None, dtype=torch.float32,
                       device=None):
    return R.kaiming_normal(shape, a, mode, nonlinearity, generator, dtype, device)


def kn_ignores_dtype(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    std = R.calculate_gain(nonlinearity, a) / math.sqrt(_kaiming_fan(shape, mode))
    return torch.randn(tuple(shape), generator=generator) * std


def kn_seeded_inside(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    generator = torch.Generator().manual_seed(1234)  # "for reproducibility"
    return R.kaiming_normal(shape, a, mode, nonlinearity, generator, dtype, device)


def kn_alt_normal_(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                   device=None):
    std = R.calculate_gain(nonlinearity, a) / _kaiming_fan(shape, mode) ** 0.5
    return torch.empty(tuple(shape), dtype=dtype).normal_(0, std, generator=generator).to(device or "cpu")


def kn_alt_variance_first(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                          device=None):
    var = R.calculate_gain(nonlinearity, a) ** 2 / _kaiming_fan(shape, mode)
    z = torch.randn(math.prod(shape), generator=generator, dtype=torch.float64)
    return (z * math.sqrt(var)).view(*shape).to(device=device or "cpu", dtype=dtype)


def kn_alt_box_muller(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                      device=None):
    std = cg_alt_dict(nonlinearity, a) / math.sqrt(_kaiming_fan(shape, mode))
    n = math.prod(shape)
    half = (n + 1) // 2
    u1 = 1.0 - torch.rand(half, generator=generator, dtype=torch.float64)
    u2 = torch.rand(half, generator=generator, dtype=torch.float64)
    r = torch.sqrt(-2.0 * torch.log(u1))
    z = torch.cat([r * torch.cos(2 * math.pi * u2), r * torch.sin(2 * math.pi * u2)])[:n]
    return (std * z).reshape(tuple(shape)).to(device=device or "cpu", dtype=dtype)


def kn_answer_key(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                  device=None):
    import importlib

    return importlib.import_module("labkit.reference").kaiming_normal(shape, a, mode, nonlinearity, generator,
                                                                       dtype, device)


# --- cheats: torch.nn.init does the work ----------------------------------------------------------

def cf_torch_builtin(shape):
    return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(tuple(shape)))


def cg_torch_builtin(nonlinearity, param=None):
    from torch.nn import init

    return init.calculate_gain(nonlinearity, param)


def xu_torch_builtin(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    w = torch.empty(tuple(shape), dtype=dtype)
    return torch.nn.init.xavier_uniform_(w, gain=gain, generator=generator).to(device or "cpu")


def xn_torch_builtin(shape, gain=1.0, generator=None, dtype=torch.float32, device=None):
    from torch.nn.init import xavier_normal_  # bound before the check runs: still recognised

    return xavier_normal_(torch.empty(tuple(shape), dtype=dtype), gain=gain, generator=generator).to(device or "cpu")


def ku_torch_builtin(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                     device=None):
    w = torch.empty(tuple(shape), dtype=dtype)
    return torch.nn.init.kaiming_uniform_(w, a, mode, nonlinearity, generator).to(device or "cpu")


def kn_own_gain_torch_fans(shape, a=0.0, mode="fan_in", nonlinearity="relu", generator=None, dtype=torch.float32,
                           device=None):
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(tuple(shape)))
    std = cg_alt_dict(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    return _normal(shape, std, generator, dtype, device)


# --- the catalogue ------------------------------------------------------------------------------

BUGGY = {
    "compute_fans": [cf_swapped, cf_no_receptive, cf_4d_only, cf_fan_out_no_receptive, cf_returns_tensors,
                     cf_true_division, cf_sum_receptive, cf_last_is_input],
    "calculate_gain": [cg_tanh_one, cg_relu_two, cg_leaky_no_square, cg_param_or_default, cg_selu_one,
                       cg_default_slope_zero, cg_only_linear, cg_unknown_is_one, cg_sigmoid_slope, cg_returns_tensor],
    "xavier_uniform": [xu_slide_bound, xu_std_as_bound, xu_not_centred, xu_normal_law, xu_global_rng, xu_manual_seed,
                       xu_ignores_gain, xu_fan_in_only, xu_no_receptive, xu_always_float64, xu_repeated_rows],
    "xavier_normal": [xn_variance_as_std, xn_uniform_law, xn_six, xn_global_rng, xn_ignores_gain, xn_lecun,
                      xn_no_receptive, xn_always_float32, xn_abs, xn_own_generator],
    "kaiming_uniform": [ku_std_as_bound, ku_ignores_mode, ku_relu_gain_always, ku_slope_ignored, ku_glorot_fans,
                        ku_not_centred, ku_global_rng, ku_ignores_dtype, ku_mode_inverted],
    "kaiming_normal": [kn_two_twice, kn_variance_as_std, kn_ignores_mode, kn_relu_gain_always, kn_slope_ignored,
                       kn_uniform_law, kn_global_rng, kn_fan_out_default, kn_ignores_dtype, kn_seeded_inside],
}

CORRECT = {
    "compute_fans": [R.compute_fans, cf_alt_numel, cf_loop, cf_list, cf_empty_tensor],
    "calculate_gain": [R.calculate_gain, cg_alt_dict, cg_startswith, cg_match],
    "xavier_uniform": [R.xavier_uniform, xu_alt_uniform_, xu_alt_float64_then_cast, xu_alt_std_first],
    "xavier_normal": [R.xavier_normal, xn_alt_torch_normal, xn_alt_normal_, xn_alt_box_muller, xn_alt_erfinv],
    "kaiming_uniform": [R.kaiming_uniform, ku_alt_uniform_, ku_alt_affine_map, ku_alt_own_helpers],
    "kaiming_normal": [R.kaiming_normal, kn_alt_normal_, kn_alt_variance_first, kn_alt_box_muller],
}

CHEATS = {  # (function, version, the call the report must name)
    "compute_fans": [(cf_answer_key, "labkit.reference.compute_fans"),
                     (cf_torch_builtin, "torch.nn.init._calculate_fan_in_and_fan_out")],
    "calculate_gain": [(cg_answer_key, "labkit.reference.calculate_gain"),
                       (cg_torch_builtin, "torch.nn.init.calculate_gain")],
    "xavier_uniform": [(xu_answer_key, "labkit.reference.xavier_uniform"),
                       (xu_torch_builtin, "torch.nn.init.xavier_uniform_")],
    "xavier_normal": [(xn_answer_key, "labkit.reference.xavier_normal"),
                      (xn_torch_builtin, "torch.nn.init.xavier_normal_")],
    "kaiming_uniform": [(ku_answer_key, "labkit.reference.kaiming_uniform"),
                        (ku_torch_builtin, "torch.nn.init.kaiming_uniform_")],
    "kaiming_normal": [(kn_answer_key, "labkit.reference.kaiming_normal"),
                       (kn_own_gain_torch_fans, "torch.nn.init._calculate_fan_in_and_fan_out")],
}

CHECK_PROBLEMS: dict[str, tuple[str, list[int] | None]] = {}
EXTRA_SEEDS: dict[str, list[int]] = {}

HINTS = [  # (function, buggy version, words the hint or measurement of some failed sub-check must contain)
    ("compute_fans", cf_swapped, "swapped"),
    ("compute_fans", cf_no_receptive, "receptive field"),
    ("compute_fans", cf_returns_tensors, "returns Python ints"),
    ("calculate_gain", cg_tanh_one, "wrong for: 'tanh'"),
    ("calculate_gain", cg_param_or_default, "param is None"),
    ("calculate_gain", cg_unknown_is_one, "must raise ValueError"),
    ("xavier_uniform", xu_slide_bound, "where the square root ends"),
    ("xavier_uniform", xu_std_as_bound, "not its standard deviation"),
    ("xavier_uniform", xu_not_centred, "not centred"),
    ("xavier_uniform", xu_normal_law, "look normal, not uniform"),
    ("xavier_uniform", xu_global_rng, "global RNG changed"),
    ("xavier_uniform", xu_ignores_gain, "gain argument"),
    ("xavier_uniform", xu_fan_in_only, "fan_in alone"),
    ("xavier_uniform", xu_no_receptive, "kernel's area"),
    ("xavier_uniform", xu_always_float64, "asked for"),
    ("xavier_uniform", xu_repeated_rows, "repeated"),
    ("xavier_normal", xn_uniform_law, "look uniform, not normal"),
    ("xavier_normal", xn_six, "bound of the uniform law"),
    ("xavier_normal", xn_own_generator, "fixed seed"),
    ("kaiming_uniform", ku_ignores_mode, "mode"),
    ("kaiming_uniform", ku_relu_gain_always, "ReLU's gain"),
    ("kaiming_uniform", ku_slope_ignored, "negative slope"),
    ("kaiming_normal", kn_two_twice, "counted twice"),
    ("kaiming_normal", kn_seeded_inside, "fixed seed"),
]
