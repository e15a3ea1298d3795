"""Bridges between the lab's hand-written pieces and PyTorch's training machinery.

- ``autograd_function(forward, backward)``: a layer written as an ``(out, cache) = forward(...)`` /
  ``grads = backward(dout, cache)`` pair becomes a differentiable function, so autograd (and
  ``torch.autograd.gradcheck``) can call it like any torch op.
- ``FunctionLayer``: the same pair as an ``nn.Module`` owning its parameters, ready for an
  ``nn.Sequential`` and a torch optimizer.
- ``RuleOptimizer``: a CS231n-style update rule ``rule(w, dw, config) -> (next_w, config)`` as a
  ``torch.optim.Optimizer`` (one config per parameter; ``param_groups[i]["lr"]`` is the rule's
  ``learning_rate``, so torch schedulers work).
- ``ScheduleLR``: a pure schedule ``f(t)`` (``labkit.reference.schedules``) as a torch LR scheduler.

Example
-------
>>> from labkit.reference import affine_forward, affine_backward, adam, cosine_annealing
>>> layer = FunctionLayer(affine_forward, affine_backward, torch.randn(4, 3), torch.zeros(4))
>>> model = torch.nn.Sequential(layer, torch.nn.ReLU(), torch.nn.Linear(4, 2))
>>> opt = RuleOptimizer(model.parameters(), adam, {"learning_rate": 1e-2})
>>> sched = ScheduleLR(opt, lambda t: cosine_annealing(t, 1e-2, total_steps=100))
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Iterable, Sequence

import torch
from torch import nn
from torch.optim.lr_scheduler import LRScheduler

__all__ = ["autograd_function", "FunctionLayer", "RuleOptimizer", "ScheduleLR"]


# ----------------------------------------------------------------------------- layers
def autograd_function(forward: Callable, backward: Callable, name: str | None = None) -> Callable:
    """Turn a forward/backward pair into a function that autograd can differentiate.

    ``f = autograd_function(forward, backward)``; ``out = f(*args, **kwargs)`` runs
    ``out, cache = forward(*args, **kwargs)`` under ``no_grad``; on the backward pass
    ``grads = backward(dout, cache)`` supplies the gradients of the *tensor* positional arguments,
    in their order: a single tensor when there is one, else a tuple (``None`` allowed for an
    argument that needs none). Non-tensor arguments (dicts such as ``bn_param``, floats) and keyword
    arguments are passed through and receive no gradient.

    The backward itself is not differentiable (no double backward).
    """
    if not callable(forward) or not callable(backward):
        raise TypeError(
            "autograd_function needs two callables: forward(*args) -> (out, cache) and backward(dout, cache)"
        )
    label = name or getattr(forward, "__name__", "forward").removesuffix("_forward")

    class _Bridge(torch.autograd.Function):
        @staticmethod
        def forward(ctx, kwargs: dict, *args):
            with torch.no_grad():
                result = forward(*args, **kwargs)
            if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[0], torch.Tensor)):
                got = type(result).__name__
                raise TypeError(f"{label}: forward must return (out, cache) with out a tensor, got {got}")
            out, ctx.cache = result
            ctx.is_tensor = [isinstance(a, torch.Tensor) for a in args]
            return out

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, dout):
            with torch.no_grad():
                grads = backward(dout, ctx.cache)
            grads = grads if isinstance(grads, (tuple, list)) else (grads,)
            n_tensors = sum(ctx.is_tensor)
            if len(grads) != n_tensors:
                raise ValueError(
                    f"{label}: backward returned {len(grads)} gradient(s) but forward took "
                    f"{n_tensors} tensor argument(s)"
                )
            it = iter(grads)
            per_arg = [next(it) if is_t else None for is_t in ctx.is_tensor]
            return (None, *per_arg)

    _Bridge.__name__ = _Bridge.__qualname__ = f"{label.capitalize()}Function"

    def apply(*args, **kwargs):
        return _Bridge.apply(kwargs, *args)

    apply.__name__ = label
    names = (getattr(f, "__name__", repr(f)) for f in (forward, backward))
    apply.__doc__ = "Differentiable {}: forward {}, backward {}.".format(label, *names)
    return apply


def _argument_names(forward: Callable, count: int) -> list[str]:
    """Names of the forward's positional arguments after the first (``x``), for naming parameters."""
    try:
        params = [
            p.name for p in inspect.signature(forward).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ][1:]
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i + 1}" for i in range(count)]


class FunctionLayer(nn.Module):
    """A forward/backward pair as a module: ``out = forward(x, *args, **kwargs)``.

    Every tensor in ``args`` becomes an ``nn.Parameter`` named after the forward's argument
    (``affine_forward(x, w, b)`` gives parameters ``w`` and ``b``); other arguments are passed
    through as they are. Train / eval mode is handed down: every dict argument (``bn_param``,
    ``ln_param``) gets ``"mode"`` set to ``"train"``/``"eval"`` before each call, and a forward
    with a ``train`` keyword (dropout) gets ``train=self.training`` unless it is fixed in ``kwargs``.

    Example: ``FunctionLayer(batchnorm_forward, batchnorm_backward, torch.ones(8), torch.zeros(8), {})``
    is a batch-norm layer with parameters ``gamma`` and ``beta`` whose ``bn_param`` follows
    ``.train()``/``.eval()``.
    """

    def __init__(self, forward: Callable, backward: Callable, *args, **kwargs) -> None:
        super().__init__()
        self.fn = autograd_function(forward, backward)
        self.forward_name = getattr(forward, "__name__", "forward")
        names = _argument_names(forward, len(args))
        self._slots: list[tuple[str, Any]] = []  # ("param", name) or ("const", value), in order
        for name, arg in zip(names, args):
            if isinstance(arg, torch.Tensor):
                param = arg if isinstance(arg, nn.Parameter) else nn.Parameter(arg.detach().clone())
                self.register_parameter(name, param)
                self._slots.append(("param", name))
            else:
                self._slots.append(("const", arg))
        self.kwargs = dict(kwargs)
        try:
            self._takes_train = "train" in inspect.signature(forward).parameters and "train" not in kwargs
        except (TypeError, ValueError):
            self._takes_train = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        args = []
        for kind, value in self._slots:
            if kind == "param":
                args.append(getattr(self, value))
            else:
                if isinstance(value, dict):  # a state dict such as bn_param follows train/eval
                    value["mode"] = "train" if self.training else "eval"
                args.append(value)
        kwargs = dict(self.kwargs, train=self.training) if self._takes_train else self.kwargs
        return self.fn(x, *args, **kwargs)

    def extra_repr(self) -> str:
        return self.forward_name


# ----------------------------------------------------------------------------- optimizers
class RuleOptimizer(torch.optim.Optimizer):
    """A CS231n-style update rule as a ``torch.optim.Optimizer``.

    ``RuleOptimizer(params, rule, config=None)``: at each ``step()`` every parameter ``p`` with a
    gradient is replaced by ``rule(p, p.grad, config_p)[0]``, where ``config_p`` is that
    parameter's own config (kept in ``optimizer.state[p]["config"]``; it starts as a copy of
    ``config`` and holds the rule's state, e.g. Adam's ``m``, ``v``, ``t``).

    Hyper-parameters live in the param groups, as in torch: ``group["lr"]`` is written to
    ``config_p["learning_rate"]`` before every step (so an LR scheduler drives the rule), and every
    other key given in ``config`` or in a param-group dict is copied to ``config_p`` too. When
    ``config`` has no ``learning_rate``, the rule's own default is read by calling it once on a
    throw-away zero tensor.
    """

    def __init__(self, params: Iterable, rule: Callable, config: dict | None = None) -> None:
        if not callable(rule):
            raise TypeError(f"rule must be an update rule(w, dw, config) -> (next_w, config), got {type(rule).__name__}")
        config = dict(config or {})
        for key, value in config.items():
            if isinstance(value, torch.Tensor):
                raise ValueError(f"config[{key!r}] is a tensor: pass hyper-parameters only, the rule creates its state")
        if "learning_rate" not in config:
            _, probed = rule(torch.zeros(1), torch.zeros(1), dict(config))
            config["learning_rate"] = probed["learning_rate"]
        lr = config.pop("learning_rate")
        self.rule = rule
        self._config_keys = frozenset(config)  # the hyper-parameters every group carries
        self._group_keys: list[frozenset] = []
        super().__init__(params, {"lr": lr, **config})

    def add_param_group(self, param_group: dict) -> None:
        # remember the hyper-parameters this group sets itself (keys added later, e.g. a
        # scheduler's "initial_lr", are not copied to the rule's config)
        self._group_keys.append(frozenset(k for k in param_group if k not in ("params", "lr")))
        super().add_param_group(param_group)

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group, own_keys in zip(self.param_groups, self._group_keys):
            hyper = {k: group[k] for k in self._config_keys | own_keys}
            hyper["learning_rate"] = group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                config = state.setdefault("config", {})
                config.update(hyper)
                next_w, state["config"] = self.rule(p.detach(), p.grad.detach(), config)
                p.copy_(next_w)
        return loss


class ScheduleLR(LRScheduler):
    """Drive an optimizer's learning rate with a pure schedule ``f(t)``.

    ``schedule`` is one function of the step (used for every param group) or a list with one per
    group. After construction ``param_groups[i]["lr"] == f(0)``; after the ``t``-th call of
    ``step()`` it is ``f(t)``, exactly (no ratio to a base rate as in ``LambdaLR``).
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, schedule: Callable[[int], float] | Sequence, last_epoch: int = -1
    ) -> None:
        n = len(optimizer.param_groups)
        schedules = list(schedule) if isinstance(schedule, (list, tuple)) else [schedule] * n
        if len(schedules) != n or not all(callable(s) for s in schedules):
            raise ValueError(f"schedule must be a function of t or a list of {n} functions (one per param group)")
        self.schedules = schedules
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [float(f(self.last_epoch)) for f in self.schedules]

    def _get_closed_form_lr(self) -> list[float]:
        return self.get_lr()

    def state_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "schedules")}
