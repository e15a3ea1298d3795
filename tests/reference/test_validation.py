"""labkit.reference._validation: the one home of the references' argument checks, and what they accept."""
from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch

import labkit.reference as ref
from labkit.reference import _validation as V

REFERENCE_DIR = Path(ref.__file__).parent


def test_no_reference_module_defines_its_own_argument_checks():
    own = []
    for path in REFERENCE_DIR.glob("*.py"):
        if path.name == "_validation.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name.startswith(("_check", "_require", "_validate")):
                own.append(f"{path.name}:{node.name}")
    assert own == []


def test_check_tensor_names_the_argument_and_the_problem():
    x = torch.zeros(2, 3, dtype=torch.float64)
    assert V.check_tensor(x, "x", floating=True, ndim=2, shape=(2, 3), like=x) is x
    cases = [
        (dict(value=[1.0]), TypeError, "x must be a torch.Tensor, got list"),
        (dict(value=torch.arange(3), floating=True), TypeError,
         "x must be a floating-point tensor, got dtype torch.int64"),
        (dict(value=x, ndim=4, layout="(N, C, H, W)"), ValueError, r"x must be \(N, C, H, W\), got shape \(2, 3\)"),
        (dict(value=x, ndim=1), ValueError, r"x must be 1-D, got shape \(2, 3\)"),
        (dict(value=x, shape=(3,)), ValueError, r"x must have shape \(3,\), got \(2, 3\)"),
        (dict(value=x.float(), like=x), TypeError, "x must have the dtype and device of x"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            V.check_tensor(name="x", **kwargs)


def test_check_tensor_list_takes_a_tensor_or_any_iterable_of_tensors():
    a, b = torch.zeros(2), torch.ones(3)
    assert V.check_tensor_list(a, "grads") == [a]
    assert V.check_tensor_list((t for t in (a, b)), "grads") == [a, b]
    with pytest.raises(TypeError, match="grads must be a tensor or a list of tensors, got int"):
        V.check_tensor_list(3, "grads")
    with pytest.raises(TypeError, match=r"grads\[1\] must be a torch.Tensor, got str"):
        V.check_tensor_list([a, "b"], "grads")
    with pytest.raises(TypeError, match="non-empty"):
        V.check_tensor_list([], "weights", non_empty=True)


@pytest.mark.parametrize("value", [2, 2.0, np.float32(2.0), np.int64(2), torch.tensor(2.0), torch.tensor([2.0])])
def test_check_number_accepts_real_numbers_and_returns_a_float(value):
    out = V.check_number(value, "lam", minimum=0)
    assert type(out) is float and out == 2.0


@pytest.mark.parametrize("value", [True, "0.5", None, 1j, torch.ones(2)])
def test_check_number_rejects_what_is_not_a_real_number(value):
    with pytest.raises(TypeError, match="lam must be a real number"):
        V.check_number(value, "lam")


def test_check_number_bounds_reject_nan():
    with pytest.raises(ValueError, match="alpha must be > 0, got 0.0"):
        V.check_number(0.0, "alpha", minimum=0, strict=True)
    with pytest.raises(ValueError, match="k must be >= 0, got nan"):
        V.check_number(math.nan, "k", minimum=0)
    assert V.check_number(math.nan, "k") != V.check_number(math.nan, "k")   # no bound: NaN passes


def test_check_int_accepts_numpy_integers_and_rejects_bools_and_floats():
    assert V.check_int(np.int32(3), "t", minimum=0) == 3 and type(V.check_int(np.int32(3), "t")) is int
    with pytest.raises(TypeError, match="t must be an integer, got float 1.5"):
        V.check_int(1.5, "t")
    with pytest.raises(TypeError, match="t must be an integer, got bool"):
        V.check_int(True, "t")
    with pytest.raises(ValueError, match="t must be >= 0, got -1"):
        V.check_int(-1, "t", minimum=0)
    with pytest.raises(ValueError, match="patience must be a positive integer, got 0"):
        V.check_int(0, "patience", minimum=1)


def test_check_choice_dict_and_dtype():
    assert V.check_choice("max", "mode", ("min", "max")) == "max"
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'avg'"):
        V.check_choice("avg", "mode", ("min", "max"))
    with pytest.raises(TypeError, match="bn_param must be a dict, got NoneType"):
        V.check_dict(None, "bn_param")
    assert V.check_float_dtype(torch.float16) is torch.float16
    with pytest.raises(TypeError, match="dtype must be a floating-point torch.dtype"):
        V.check_float_dtype(torch.int32)


def test_the_references_share_the_messages():
    """The same problem gets the same words in every module."""
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got dtype torch.int64"):
        ref.relu_forward(torch.arange(3))
    with pytest.raises(TypeError, match="x must be a floating-point tensor, got dtype torch.int64"):
        ref.dropout_forward(torch.arange(3), 0.5)
    with pytest.raises(ValueError, match=r"pred and target must have the same shape, got \(2,\) and \(3,\)"):
        ref.mse_loss(torch.zeros(2), torch.zeros(3))
    with pytest.raises(ValueError, match=r"y_true and y_pred must have the same shape, got \(2,\) and \(3,\)"):
        ref.precision_recall(torch.tensor([0, 1]), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="mode must be 'min' or 'max', got 'avg'"):
        ref.ReduceLROnPlateau(0.1, mode="avg")
    with pytest.raises(ValueError, match="clip_grad_norm: max_norm must be >= 0, got -1.0"):
        ref.clip_grad_norm([torch.ones(2)], -1)
