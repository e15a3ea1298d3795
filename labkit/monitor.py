"""Monitors for a network in training, used as context managers (hooks are removed on exit).

- ``ActivationStats``: per named activation layer and per forward pass, statistics of its output
  ``a`` (a tensor ``(N, ...)``: the batch first, every other dimension a "unit"):
  ``mean``, ``std`` (population), ``abs_mean``, ``frac_zero`` (fraction of entries exactly 0),
  ``frac_dead`` (fraction of units that are 0 for every sample of the batch: dead ReLUs),
  ``frac_saturated`` (tanh: ``|a| > 0.99``; sigmoid: ``a < 0.01`` or ``a > 0.99``; nan for other layers);
  plus ``samples[name]``, a 1-D CPU tensor of at most ``keep_samples`` output values for histograms.
- ``GradientStats``: the same for the gradient of the loss w.r.t. each layer's output ``g = dL/da``:
  ``mean``, ``std``, ``abs_mean``, ``norm`` (``||g||_2``), ``frac_zero``, ``frac_dead``.
- ``UpdateRatioMonitor``: per parameter and per optimizer step, ``||w_after - w_before|| / ||w_before||``
  (about 1e-3 is the usual rule of thumb for a healthy learning rate).

Example
-------
>>> net = nn.Sequential(nn.Linear(10, 20), nn.Tanh(), nn.Linear(20, 2))
>>> with ActivationStats(net) as acts, GradientStats(net) as grads:
...     net(torch.randn(32, 10)).sum().backward()
>>> sorted(acts.summary()["1"])
['abs_mean', 'frac_dead', 'frac_saturated', 'frac_zero', 'mean', 'std']
>>> acts.samples["1"].shape, grads.summary()["1"]["norm"] > 0
(torch.Size([640]), True)
"""
from __future__ import annotations

import math
from typing import Iterable

import torch
from torch import nn

__all__ = ["DEFAULT_LAYER_TYPES", "ActivationStats", "GradientStats", "UpdateRatioMonitor", "layer_kind"]

DEFAULT_LAYER_TYPES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.GELU, nn.SiLU,
                       nn.Tanh, nn.Sigmoid, nn.Softplus)


def layer_kind(module: nn.Module) -> str:
    """``"tanh"``, ``"sigmoid"``, ``"relu"`` or ``"other"``: by type, else by the class name or, for a
    ``labkit.bridges.FunctionLayer``, by the name of its forward (``relu_forward`` -> ``"relu"``)."""
    if isinstance(module, nn.Tanh):
        return "tanh"
    if isinstance(module, nn.Sigmoid):
        return "sigmoid"
    if isinstance(module, (nn.ReLU, nn.ReLU6)):
        return "relu"
    name = (type(module).__name__ + " " + str(getattr(module, "forward_name", ""))).lower()
    return next((k for k in ("tanh", "sigmoid", "relu") if k in name and "leaky" not in name), "other")


def _first_tensor(output) -> torch.Tensor | None:
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


@torch.no_grad()
def _stats(t: torch.Tensor, kind: str | None) -> dict[str, torch.Tensor]:
    """0-d tensors (one device sync later for all of them). ``kind`` None: gradient statistics."""
    t = t.detach().float()
    units = t.reshape(t.shape[0], -1) if t.ndim > 1 else t.reshape(-1, 1)   # (N, units)
    out = {"mean": t.mean(), "std": t.std(correction=0), "abs_mean": t.abs().mean(),
           "frac_zero": (t == 0).float().mean(), "frac_dead": (units == 0).all(dim=0).float().mean()}
    if kind is None:
        out["norm"] = t.norm()
    elif kind == "tanh":
        out["frac_saturated"] = (t.abs() > 0.99).float().mean()
    elif kind == "sigmoid":
        out["frac_saturated"] = ((t < 0.01) | (t > 0.99)).float().mean()
    else:
        out["frac_saturated"] = torch.full((), math.nan, device=t.device)
    return out


class _LayerMonitor:
    """Shared machinery: picks the layers, records statistics per call, removes its hooks on exit."""

    def __init__(self, model: nn.Module, layer_types: tuple = DEFAULT_LAYER_TYPES, keep_samples: int = 10_000,
                 names: Iterable[str] | None = None, record_eval: bool = True):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        if not isinstance(keep_samples, int) or keep_samples < 0:
            raise ValueError(f"keep_samples must be an int >= 0, got {keep_samples!r}")
        named = {name or type(m).__name__: m for name, m in model.named_modules()}
        if names is not None:
            unknown = [n for n in names if n not in named]
            if unknown:
                raise ValueError(f"names {unknown} are not modules of the model; known: {list(named)}")
            self.layers = {n: named[n] for n in names}
        else:
            self.layers = {n: m for n, m in named.items() if isinstance(m, tuple(layer_types))
                           or (hasattr(m, "forward_name") and layer_kind(m) != "other")}   # bridged activations
        self.keep_samples = keep_samples
        self.record_eval = record_eval
        self.history: dict[str, list[dict[str, float]]] = {n: [] for n in self.layers}
        self.samples: dict[str, torch.Tensor] = {}
        self._handles: list = []
        self._active = False

    # -- recording ---------------------------------------------------------------------------------
    def _record(self, name: str, t: torch.Tensor, kind: str | None) -> None:
        if not self._active or t.numel() == 0:
            return
        stats = _stats(t, kind)
        values = torch.stack(list(stats.values())).tolist()            # one sync for all statistics
        self.history[name].append(dict(zip(stats, values)))
        if self.keep_samples:
            flat = t.detach().reshape(-1)
            step = max(1, math.ceil(flat.numel() / self.keep_samples))
            self.samples[name] = flat[::step].float().cpu().clone()     # evenly spaced, deterministic
            # keep the model's layer order whatever order the hooks fire in (backward runs last layer first)
            self.samples = {n: self.samples[n] for n in self.layers if n in self.samples}

    def _attach(self) -> None:
        raise NotImplementedError

    # -- context manager -----------------------------------------------------------------------------
    def __enter__(self):
        self._active = True
        self._attach()
        return self

    def __exit__(self, *exc) -> None:
        self.remove()

    def remove(self) -> None:
        """Remove every hook (also done on leaving the ``with`` block)."""
        self._active = False
        for h in self._handles:
            h.remove()
        self._handles.clear()

    # -- results -----------------------------------------------------------------------------------
    def summary(self, which: str = "last") -> dict[str, dict[str, float]]:
        """``{layer name: {statistic: float}}`` of the last recorded call (``which="mean"``: the mean over
        every recorded call). Layers never called are left out."""
        if which not in ("last", "mean"):
            raise ValueError(f"which must be 'last' or 'mean', got {which!r}")
        out = {}
        for name, calls in self.history.items():
            if calls:
                out[name] = dict(calls[-1]) if which == "last" else {
                    k: sum(c[k] for c in calls) / len(calls) for k in calls[0]}
        return out

    def histogram(self, name: str, bins: int = 50, range: tuple[float, float] | None = None):
        """``(counts, edges)`` of ``samples[name]``: float tensors of shapes ``(bins,)`` and ``(bins + 1,)``."""
        if name not in self.samples:
            raise ValueError(f"no samples recorded for layer {name!r}; recorded: {list(self.samples)}")
        s = self.samples[name].double()
        lo, hi = range if range is not None else (float(s.min()), float(s.max()) + 1e-12)
        return torch.histogram(s, bins=bins, range=(lo, hi))

    def reset(self) -> None:
        """Forget every recorded statistic and sample (the hooks stay)."""
        self.history = {n: [] for n in self.layers}
        self.samples = {}


class ActivationStats(_LayerMonitor):
    """Statistics of every selected layer's output at each forward pass (see the module docstring).

    Layers: the modules of ``model`` that are instances of ``layer_types`` (plus bridged
    ``FunctionLayer`` activations: tanh, sigmoid, relu forwards), or exactly those in ``names``;
    named as in ``model.named_modules()``. ``record_eval=False`` skips forwards in eval mode. After the
    ``with`` block: ``history[name]`` (one dict per call), ``summary()``, ``samples[name]``.
    """

    def _attach(self) -> None:
        for name, module in self.layers.items():
            kind = layer_kind(module)

            def hook(mod, inputs, output, name=name, kind=kind):
                t = _first_tensor(output)
                if t is not None and (self.record_eval or mod.training):
                    self._record(name, t, kind)

            self._handles.append(module.register_forward_hook(hook))


class GradientStats(_LayerMonitor):
    """Statistics of ``dL/da`` for each selected layer's output ``a``, at each backward pass.

    Same layer selection as ``ActivationStats``; a forward hook registers a hook on the output tensor,
    so forwards under ``torch.no_grad()`` (e.g. evaluation) record nothing.
    """

    def _attach(self) -> None:
        for name, module in self.layers.items():

            def hook(mod, inputs, output, name=name):
                t = _first_tensor(output)
                if t is not None and t.requires_grad and (self.record_eval or mod.training):
                    t.register_hook(lambda g, name=name: self._record(name, g, None))

            self._handles.append(module.register_forward_hook(hook))


class UpdateRatioMonitor:
    """``ratios[param name]``: one float per optimizer step, ``||w_after - w_before||_2 / ||w_before||_2``
    (nan while ``w_before`` is all zeros), for every parameter that requires a gradient.

    Three ways to use it (pick one): with ``optimizer=`` given, ``with`` the monitor hooks
    ``optimizer.step`` itself; as a ``train(..., callbacks=[monitor])`` callback; or by hand, calling
    ``monitor.step()`` right after each ``optimizer.step()`` inside the ``with`` block (the weights are
    snapshotted on entry and after each step).
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer | None = None):
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
        self.params = {n: p for n, p in model.named_parameters() if p.requires_grad}
        self.optimizer = optimizer
        self.ratios: dict[str, list[float]] = {n: [] for n in self.params}
        self.steps = 0
        self._before: list[torch.Tensor] | None = None
        self._handle = None

    @torch.no_grad()
    def snapshot(self) -> None:
        """Remember the current weights as ``w_before`` of the next step."""
        self._before = [p.detach().clone() for p in self.params.values()]

    @torch.no_grad()
    def step(self) -> None:
        """Record the ratio of the update since the last snapshot, then snapshot again."""
        if self._before is None:
            raise RuntimeError("UpdateRatioMonitor.step() needs a snapshot first: use it in a `with` block")
        if self.params:
            diff = torch.stack([(p.detach() - b).float().norm() for p, b in zip(self.params.values(), self._before)])
            base = torch.stack([b.float().norm() for b in self._before])
            ratio = torch.where(base > 0, diff / base, torch.full_like(base, math.nan))
            for name, r in zip(self.params, ratio.tolist()):           # one sync per step
                self.ratios[name].append(r)
        self.steps += 1
        self.snapshot()

    def summary(self) -> dict[str, dict[str, float]]:
        """``{param name: {"last": ..., "mean": ...}}`` over the recorded steps (nan steps ignored)."""
        out = {}
        for name, rs in self.ratios.items():
            finite = [r for r in rs if not math.isnan(r)]
            if rs:
                out[name] = {"last": rs[-1], "mean": sum(finite) / len(finite) if finite else math.nan}
        return out

    def __enter__(self):
        self.snapshot()
        if self.optimizer is not None:
            self._handle = self.optimizer.register_step_post_hook(lambda opt, args, kwargs: self.step())
        return self

    def __exit__(self, *exc) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    # -- trainer callback protocol (labkit.train) -------------------------------------------------------
    def on_train_begin(self, state) -> None:
        if self._handle is None:
            self.snapshot()

    def on_step(self, state) -> None:
        if self._handle is None:        # not already hooked on optimizer.step
            self.step()
