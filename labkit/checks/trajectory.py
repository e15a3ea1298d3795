"""Two kinds of check the generic runner does not know: stateful update rules and lists of tensors.

``trajectory``: an update rule ``rule(w, dw, config) -> (next_w, config)`` (section 05 of the
contract) is judged over many steps. A case is ``Case((w0, dws, hyper), expect=...)`` with ``dws``
of shape ``(T, *w0.shape)`` (the gradient fed at each step) and ``hyper`` a dict of hyper-parameters.
The runner calls the rule ``T`` times: ``config`` starts as a fresh copy of ``hyper`` and the config
the rule returns is passed back at the next step. The output ``weights`` is the weights after every
step, shape ``(T, *w0.shape)``; it is compared with ``case.expect`` (for instance the trajectory of
the matching ``torch.optim`` class, :func:`optim_trajectory`) or, without one, with the reference
rule driven the same way. How the rule keeps its state in ``config`` is free: only the weights count.

In-place changes: the contract lets a rule update its ``config`` in place (that is how the state
travels), so changes to ``config`` are not reported; ``w`` and ``dw`` are compared bit for bit before
and after every step as for any graded function.

``list``: ``fn(*args) -> outputs`` whose *first* output is a list of tensors, one per tensor of the
first argument (a list of tensors) and shaped like it; e.g. ``clip_grad_norm(grads, max_norm) ->
(clipped, total_norm)``. The list is compared as the concatenation of its flattened entries, after
its length and every entry's shape are checked; the first argument's tensors are cast to float32
for the dtype sub-check and compared for in-place changes like any argument.

A ``torch.optim`` optimizer stepped while a student's function runs inside a check is recorded
as a forbidden call (``torch.optim.<Class>``; the check scores 0): list the names in the spec's ``forbid``.
"""
from __future__ import annotations

from typing import Callable

import torch

from .. import _student_code
from .core import TOL, StudentError
from .runner import Call, Runner, _message, _scalar
from .spec import Case, Diagnosis, Evidence

__all__ = ["TrajectoryRunner", "ListRunner", "RUNNERS", "MUTABLE", "optim_trajectory", "rule_trajectory",
           "divergence", "divergence_diagnosis"]

MUTABLE = ("config",)  # arguments a rule may change in place (the contract's documented exception)


def _record_optimizer_step(optimizer, args, kwargs):
    """A torch optimizer stepped by a student's function inside a check: record it as a forbidden call
    (the check then scores 0 and names it; outside a check nothing happens)."""
    log = _student_code._LOG.get()
    name = f"torch.optim.{type(optimizer).__name__}"
    if log is not None and name not in log:
        log.append(name)
    return None


from torch.optim.optimizer import register_optimizer_step_pre_hook  # noqa: E402

register_optimizer_step_pre_hook(_record_optimizer_step)


def _float_tensor(value, what: str) -> torch.Tensor:
    if not issubclass(type(value), torch.Tensor):
        raise StudentError(f"{what} should be a torch.Tensor, got {type(value).__name__}")
    return value


def _stack(steps: list[torch.Tensor]) -> torch.Tensor:
    """The steps stacked as plain values, in the dtype and on the device that differ from the first
    step's when one does (so a stray dtype anywhere shows in the dtype sub-check)."""
    from .core import as_plain_tensor

    plain = torch.stack([as_plain_tensor(s, "next_w") for s in steps])
    odd = next((s for s in steps if (s.dtype, s.device) != (steps[0].dtype, steps[0].device)), steps[0])
    return plain.to(device=odd.device, dtype=odd.dtype) if odd.is_floating_point() else plain


def rule_trajectory(rule: Callable, w0: torch.Tensor, dws: torch.Tensor, hyper: dict) -> torch.Tensor:
    """The weights after every step, ``(T, *w0.shape)``, of ``rule`` fed the gradients ``dws``.

    Example
    -------
    >>> from labkit.reference import sgd
    >>> rule_trajectory(sgd, torch.zeros(2), torch.ones(3, 2), {"learning_rate": 0.1})[-1]
    tensor([-0.3000, -0.3000])
    """
    w, config, out = w0.clone(), dict(hyper), []
    for dw in dws:
        w, config = rule(w, dw.clone(), config)
        out.append(w.clone())
    return torch.stack(out)


def optim_trajectory(optimizer: type, kwargs: dict, w0: torch.Tensor, dws: torch.Tensor) -> torch.Tensor:
    """The weights after every step, ``(T, *w0.shape)``, of ``optimizer([w], **kwargs)`` fed ``dws``.

    Example
    -------
    >>> optim_trajectory(torch.optim.SGD, {"lr": 0.1}, torch.zeros(2), torch.ones(3, 2))[-1]
    tensor([-0.3000, -0.3000])
    """
    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer class, got {optimizer!r}")
    if dws.shape[1:] != w0.shape:
        raise ValueError(f"dws must have shape (T, *w0.shape) = (T, {tuple(w0.shape)}), got {tuple(dws.shape)}")
    p = torch.nn.Parameter(w0.detach().clone())
    opt = optimizer([p], **kwargs)
    out = []
    for dw in dws:
        p.grad = dw.detach().clone()
        opt.step()
        out.append(p.detach().clone())
    return torch.stack(out)


def divergence(got: torch.Tensor, want: torch.Tensor, tol: float) -> tuple[int, bool]:
    """The first step (0-based) whose weights differ from the expected ones, and whether they are not finite there."""
    scale = max(float(want.abs().max()), 1e-300)
    for t in range(len(want)):
        bad = ~torch.isfinite(got[t])
        if bad.any() or float((got[t] - want[t]).abs().max()) > tol * scale:
            return t, bool(bad.any())
    return len(want), False


def _divergence_hint(ev: Evidence) -> str:
    firsts = [divergence(g, w, TOL["value"]) for g, w in zip(ev.got, ev.want)]
    t, nonfinite = min(firsts)
    if nonfinite:
        return (f"the weights become NaN or inf at step {t + 1}: a division by a quantity that can be 0, or an "
                "update that grows without bound?")
    if t == 0:
        return ("the very first step already differs from the optimizer's: look at the update itself (how the "
                "gradient is scaled, which hyper-parameters of config are read, their defaults)")
    return (f"the first {t} step(s) agree with the optimizer's and step {t + 1} differs: the state carried from "
            "step to step in config (how it is updated, or read back) is the likely cause")


def divergence_diagnosis() -> Diagnosis:
    """A diagnosis that always applies to a failed trajectory: where it leaves the expected one."""
    return Diagnosis(_divergence_hint, lambda ev: bool(ev.got) and all(g.shape == w.shape for g, w in
                                                                       zip(ev.got, ev.want)))


class TrajectoryRunner(Runner):
    """Kind ``trajectory``: the rule stepped over each case's gradients (see the module docstring)."""

    def run(self, case: Case, cast=None, helpers=True, seed_offset: int = 0) -> tuple[Call, tuple | None]:
        w0, dws, hyper = case.args[:3]
        w, dws = w0.clone(), dws.clone()
        if cast is not None:
            w, dws = cast(w), cast(dws)
        config, steps, changed = dict(hyper), [], []
        call = Call()
        for t in range(len(dws)):
            call = self.call(self.students[0], (w, dws[t].clone(), config), helpers=helpers)
            changed += [n for n in call.changed if n not in MUTABLE and n not in changed]
            if not call.ok:
                call.changed = changed
                return call, None
            try:
                value = call.value
                if not isinstance(value, (tuple, list)) or len(value) != 2:
                    got = type(value).__name__ + (f" of length {len(value)}" if isinstance(value, (tuple, list))
                                                  else "")
                    raise StudentError(f"{self.spec.name} should return a tuple (next_w, config), got a {got}")
                next_w, config = value
                next_w = _float_tensor(next_w, "next_w")
                if tuple(next_w.shape) != tuple(w0.shape):
                    raise StudentError(f"next_w has shape {tuple(next_w.shape)}, expected {tuple(w0.shape)} "
                                       "(the shape of w)")
                if not isinstance(config, dict):
                    raise StudentError(f"the config returned should be a dict (pass it back at the next step), "
                                       f"got {type(config).__name__}")
                steps.append(next_w.detach().clone())
            except Exception as exc:
                call.changed = changed
                return self._structural(call, exc), None
            w = next_w
        try:
            weights = _stack(steps)
        except Exception as exc:
            call.changed = changed
            return self._structural(call, exc), None
        return Call(value=weights, changed=changed), (weights,)

    def expected(self, case: Case) -> tuple:
        if case.expect is not None:
            return case.expect if isinstance(case.expect, tuple) else (case.expect,)
        return (rule_trajectory(self.reference, *case.args[:3]),)

    def _value_name(self, output: str) -> str:
        return f"{output}: the weights after every step match the expected trajectory"


def _flat_list(value, like: list, what: str) -> torch.Tensor:
    """A list of tensors shaped like ``like``, as one flat tensor (its dtype and device kept)."""
    if not isinstance(value, (list, tuple)):
        raise StudentError(f"{what} should be a list of tensors, got a {type(value).__name__}")
    if len(value) != len(like):
        raise StudentError(f"{what} should hold {len(like)} tensors (one per input tensor), got {len(value)}")
    for i, (v, x) in enumerate(zip(value, like)):
        _float_tensor(v, f"{what}[{i}]")
        if tuple(v.shape) != tuple(x.shape):
            raise StudentError(f"{what}[{i}] has shape {tuple(v.shape)}, expected {tuple(x.shape)} (the shape of "
                               f"input {i})")
    if not value:
        return torch.zeros(0, dtype=torch.float64)
    return torch.cat([v.detach().reshape(-1) for v in value])


class ListRunner(Runner):
    """Kind ``list``: the first output is a list of tensors shaped like the first argument's (see above)."""

    def run(self, case: Case, cast=None, helpers=True, seed_offset: int = 0) -> tuple[Call, tuple | None]:
        def copy(a):
            if type(a) in (list, tuple):
                return [copy(t) for t in a]
            if isinstance(a, torch.Tensor):
                a = a.clone()
                return cast(a) if cast is not None else a
            return a

        inputs = Case(tuple(copy(a) for a in case.args), case.kwargs)
        call, values = super().run(inputs, None, helpers)
        if values is None:
            return call, values
        try:
            first = _flat_list(values[0], list(case.args[0]), self.spec.outputs[0])
        except Exception as exc:
            return self._structural(call, exc if isinstance(exc, StudentError) else StudentError(_message(exc))), None
        return call, (first,) + tuple(values[1:])

    def plain(self, output: str, value) -> torch.Tensor:
        if output != self.spec.outputs[0] and not issubclass(type(value), torch.Tensor):
            return _scalar(value, output)  # a number beside the list may be a Python float
        return super().plain(output, value)

    def expected(self, case: Case) -> tuple:
        want = super().expected(case)
        return (_flat_list(want[0], list(case.args[0]), "expected"),) + tuple(want[1:])


RUNNERS = {"trajectory": TrajectoryRunner, "list": ListRunner}

