"""Batch and layer normalisation of section 03 against F.batch_norm / F.layer_norm and autograd."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from labkit.reference import norm as ref

RTOL, ATOL = 1e-10, 1e-12  # float64 agreement with torch (different summation orders)
STEPS = 5  # training steps over which the running statistics are followed
BN_SHAPES = [(16, 5), (2, 3), (64, 10)]
SPATIAL_SHAPES = [(4, 3, 5, 5), (2, 6, 3, 4), (1, 2, 3, 3)]


def close(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=RTOL, atol=ATOL)


def randn(shape, seed, device, scale=1.0, shift=0.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(shape, generator=g, dtype=dtype) + shift).to(device)


def affine_params(channels, device, seed=100, dtype=torch.float64):
    return randn(channels, seed, device, dtype=dtype) + 1.5, randn(channels, seed + 1, device, dtype=dtype)


def autograd_grads(fn, inputs, dout):
    leaves = [t.detach().clone().requires_grad_(True) for t in inputs]
    (fn(*leaves) * dout).sum().backward()
    return [t.grad for t in leaves]


# --------------------------------------------------------------------------------- batchnorm (N, D)
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_batchnorm_forward_matches_f_batch_norm_and_running_stats_over_several_steps(shape, device):
    d = shape[1]
    gamma, beta = affine_params(d, device)
    bn_param = {"mode": "train"}  # running statistics absent: created as zeros / ones
    running_mean = torch.zeros(d, dtype=torch.float64, device=device)
    running_var = torch.ones(d, dtype=torch.float64, device=device)
    for step in range(STEPS):
        x = randn(shape, step, device, scale=3.0, shift=2.0)
        out, _ = ref.batchnorm_forward(x, gamma, beta, bn_param)
        expected = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=0.1, eps=1e-5)
        close(out, expected)
        close(bn_param["running_mean"], running_mean)
        close(bn_param["running_var"], running_var)  # updated with the unbiased variance, as torch
    bn_param["mode"] = "eval"
    x = randn(shape, 99, device, scale=3.0, shift=2.0)
    out, _ = ref.batchnorm_forward(x, gamma, beta, bn_param)
    close(out, F.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=1e-5))
    close(bn_param["running_mean"], running_mean)  # eval mode leaves them alone
    close(bn_param["running_var"], running_var)


def test_batchnorm_honours_momentum_and_eps_from_bn_param(device):
    gamma, beta = affine_params(4, device)
    bn_param = {"mode": "train", "momentum": 0.3, "eps": 1e-2}
    running_mean = torch.zeros(4, dtype=torch.float64, device=device)
    running_var = torch.ones(4, dtype=torch.float64, device=device)
    for step in range(STEPS):
        x = randn((6, 4), step, device, scale=0.1)
        out, _ = ref.batchnorm_forward(x, gamma, beta, bn_param)
        close(out, F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=0.3, eps=1e-2))
    close(bn_param["running_var"], running_var)


def test_batchnorm_train_output_has_mean_beta_and_std_gamma(device):
    gamma, beta = affine_params(5, device)
    out, _ = ref.batchnorm_forward(randn((200, 5), 0, device, scale=4.0, shift=-3.0), gamma, beta, {"mode": "train"})
    close(out.mean(dim=0), beta)
    torch.testing.assert_close(out.std(dim=0, unbiased=False), gamma.abs(), rtol=1e-5, atol=0)  # eps shrinks it


def test_batchnorm_running_stats_are_created_with_the_input_dtype_and_device(device):
    gamma, beta = affine_params(3, device, dtype=torch.float32)
    for mode in ("train", "eval"):
        bn_param = {"mode": mode}
        ref.batchnorm_forward(randn((4, 3), 0, device, dtype=torch.float32), gamma, beta, bn_param)
        for key in ("running_mean", "running_var"):
            assert bn_param[key].shape == (3,) and bn_param[key].dtype == torch.float32
            assert bn_param[key].device == gamma.device
    assert torch.equal(bn_param["running_mean"], torch.zeros(3, device=device))  # eval: created, not updated
    assert torch.equal(bn_param["running_var"], torch.ones(3, device=device))


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("shape", BN_SHAPES)
def test_both_batchnorm_backwards_match_autograd_of_f_batch_norm(shape, mode, device):
    d = shape[1]
    gamma, beta = affine_params(d, device)
    running_mean, running_var = randn(d, 7, device), randn(d, 8, device).abs() + 0.5
    x = randn(shape, 9, device, scale=2.0, shift=1.0)
    dout = randn(shape, 10, device)
    bn_param = {"mode": mode, "running_mean": running_mean.clone(), "running_var": running_var.clone()}
    _, cache = ref.batchnorm_forward(x, gamma, beta, bn_param)

    def torch_bn(x, gamma, beta):
        training = mode == "train"
        rm, rv = running_mean.clone(), running_var.clone()
        return F.batch_norm(x, rm, rv, gamma, beta, training=training, momentum=0.1, eps=1e-5)

    expected = autograd_grads(torch_bn, [x, gamma, beta], dout)
    for backward in (ref.batchnorm_backward, ref.batchnorm_backward_alt):
        for got, want in zip(backward(dout, cache), expected):
            close(got, want)


@pytest.mark.parametrize("seed", range(3))
def test_batchnorm_backward_alt_equals_staged_backward(seed, device):
    gamma, beta = affine_params(7, device, seed=seed)
    x = randn((32, 7), seed + 20, device, scale=5.0)
    dout = randn((32, 7), seed + 40, device)
    _, cache = ref.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    for staged, alt in zip(ref.batchnorm_backward(dout, cache), ref.batchnorm_backward_alt(dout, cache)):
        torch.testing.assert_close(alt, staged, rtol=1e-12, atol=1e-13)


# ----------------------------------------------------------------------------- spatial (N, C, H, W)
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_forward_matches_f_batch_norm_over_several_steps(shape, device):
    c = shape[1]
    gamma, beta = affine_params(c, device)
    bn_param = {"mode": "train"}
    running_mean = torch.zeros(c, dtype=torch.float64, device=device)
    running_var = torch.ones(c, dtype=torch.float64, device=device)
    for step in range(STEPS):
        x = randn(shape, step, device, scale=2.0, shift=-1.0)
        out, _ = ref.spatial_batchnorm_forward(x, gamma, beta, bn_param)
        assert out.shape == shape
        close(out, F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=0.1, eps=1e-5))
        close(bn_param["running_mean"], running_mean)
        close(bn_param["running_var"], running_var)
    bn_param["mode"] = "eval"
    x = randn(shape, 50, device)
    out, _ = ref.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    close(out, F.batch_norm(x, running_mean, running_var, gamma, beta, training=False, eps=1e-5))


@pytest.mark.parametrize("mode", ["train", "eval"])
@pytest.mark.parametrize("shape", SPATIAL_SHAPES)
def test_spatial_batchnorm_backward_matches_autograd_of_f_batch_norm(shape, mode, device):
    c = shape[1]
    gamma, beta = affine_params(c, device)
    running_mean, running_var = randn(c, 7, device), randn(c, 8, device).abs() + 0.5
    x, dout = randn(shape, 11, device, scale=2.0), randn(shape, 12, device)
    bn_param = {"mode": mode, "running_mean": running_mean.clone(), "running_var": running_var.clone()}
    _, cache = ref.spatial_batchnorm_forward(x, gamma, beta, bn_param)

    def torch_bn(x, gamma, beta):
        return F.batch_norm(x, running_mean.clone(), running_var.clone(), gamma, beta, training=(mode == "train"))

    for got, want in zip(ref.spatial_batchnorm_backward(dout, cache), autograd_grads(torch_bn, [x, gamma, beta], dout)):
        close(got, want)


# -------------------------------------------------------------------------------------- layernorm
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
@pytest.mark.parametrize("shape", [(4, 6), (1, 5), (7, 1), (32, 20)])
def test_layernorm_forward_and_backward_match_f_layer_norm(shape, eps, device):
    d = shape[1]
    gamma, beta = affine_params(d, device)
    x, dout = randn(shape, 13, device, scale=3.0, shift=1.0), randn(shape, 14, device)
    ln_param = {"eps": eps} if eps != 1e-5 else {}
    out, cache = ref.layernorm_forward(x, gamma, beta, ln_param)
    close(out, F.layer_norm(x, (d,), gamma, beta, eps=eps))
    expected = autograd_grads(lambda x, g, b: F.layer_norm(x, (d,), g, b, eps=eps), [x, gamma, beta], dout)
    for got, want in zip(ref.layernorm_backward(dout, cache), expected):
        close(got, want)


def test_layernorm_ignores_the_batch_and_accepts_no_ln_param():
    gamma, beta = affine_params(5, "cpu")
    x = randn((6, 5), 15, "cpu")
    whole, _ = ref.layernorm_forward(x, gamma, beta, None)
    one_row, _ = ref.layernorm_forward(x[2:3], gamma, beta, {})
    close(one_row, whole[2:3])


# ----------------------------------------------------------------------- contract-wide properties
def all_layers(device, dtype):
    """(forward, backward, x, gamma, beta, param) for every normalisation layer."""
    g4, b4 = affine_params(4, device, dtype=dtype)
    x2 = randn((6, 4), 16, device, dtype=dtype)
    x4 = randn((3, 4, 2, 5), 17, device, dtype=dtype)

    def bn(mode):
        zeros, ones = torch.zeros(4, dtype=dtype, device=device), torch.ones(4, dtype=dtype, device=device)
        return {"mode": mode, "running_mean": zeros, "running_var": ones}

    return [
        (ref.batchnorm_forward, ref.batchnorm_backward, x2, g4, b4, bn("train")),
        (ref.batchnorm_forward, ref.batchnorm_backward_alt, x2, g4, b4, bn("train")),
        (ref.batchnorm_forward, ref.batchnorm_backward, x2, g4, b4, bn("eval")),
        (ref.spatial_batchnorm_forward, ref.spatial_batchnorm_backward, x4, g4, b4, bn("train")),
        (ref.layernorm_forward, ref.layernorm_backward, x2, g4, b4, {"eps": 1e-5}),
    ]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_outputs_keep_dtype_and_device_and_inputs_are_not_modified(dtype, device):
    for forward, backward, x, gamma, beta, param in all_layers(device, dtype):
        before = [t.clone() for t in (x, gamma, beta)]
        running = [param[k] for k in ("running_mean", "running_var") if k in param]
        running_before = [t.clone() for t in running]
        out, cache = forward(x, gamma, beta, param)
        dout = torch.ones_like(out)
        dx, dgamma, dbeta = backward(dout, cache)
        assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
        assert dx.shape == x.shape and dx.dtype == dtype and dx.device == x.device
        assert dgamma.shape == gamma.shape and dbeta.shape == beta.shape and dgamma.dtype == dtype
        for t, t0 in zip((x, gamma, beta), before):
            assert torch.equal(t, t0), f"{forward.__name__} modified an input"
        assert torch.equal(dout, torch.ones_like(out)), f"{backward.__name__} modified dout"
        for t, t0 in zip(running, running_before):  # the caller's running tensors are replaced, not written
            assert torch.equal(t, t0), f"{forward.__name__} wrote a running statistic in place"


def test_batchnorm_works_under_no_grad():
    gamma, beta = affine_params(3, "cpu")
    with torch.no_grad():
        out, cache = ref.batchnorm_forward(randn((5, 3), 0, "cpu"), gamma, beta, {"mode": "train"})
        ref.batchnorm_backward(torch.ones_like(out), cache)


# ---------------------------------------------------------------------------------------- errors
def test_batch_of_one_in_train_mode_is_a_clear_error_but_eval_works():
    gamma, beta = affine_params(3, "cpu")
    x = randn((1, 3), 0, "cpu")
    with pytest.raises(ValueError, match="more than one sample"):
        ref.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    with pytest.raises(ValueError, match="more than one sample"):
        ref.spatial_batchnorm_forward(randn((1, 3, 1, 1), 0, "cpu"), gamma, beta, {"mode": "train"})
    out, _ = ref.batchnorm_forward(x, gamma, beta, {"mode": "eval"})
    close(out, F.batch_norm(x, torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64), gamma, beta))


def test_unknown_mode_is_a_clear_error():
    gamma, beta = affine_params(3, "cpu")
    with pytest.raises(ValueError, match=r"bn_param\['mode'\] must be 'train' or 'eval', got 'test'"):
        ref.batchnorm_forward(randn((4, 3), 0, "cpu"), gamma, beta, {"mode": "test"})


def test_wrong_shapes_are_clear_errors():
    gamma, beta = affine_params(3, "cpu")
    with pytest.raises(ValueError, match=r"x must be \(N, D\)"):
        ref.batchnorm_forward(randn((4, 3, 2), 0, "cpu"), gamma, beta, {"mode": "train"})
    with pytest.raises(ValueError, match=r"x must be \(N, C, H, W\)"):
        ref.spatial_batchnorm_forward(randn((4, 3), 0, "cpu"), gamma, beta, {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(4,\)"):
        ref.layernorm_forward(randn((2, 4), 0, "cpu"), gamma, beta, {})
    with pytest.raises(ValueError, match=r"bn_param\['running_mean'\] must be a tensor of shape \(3,\)"):
        ref.batchnorm_forward(randn((4, 3), 0, "cpu"), gamma, beta, {"running_mean": torch.zeros(2)})
    with pytest.raises(TypeError, match="bn_param must be a dict"):
        ref.batchnorm_forward(randn((4, 3), 0, "cpu"), gamma, beta, None)
    with pytest.raises(TypeError, match="beta must have the dtype and device of x"):
        ref.batchnorm_forward(randn((4, 3), 0, "cpu"), gamma, beta.float(), {})
