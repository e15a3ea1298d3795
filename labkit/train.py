"""A small trainer grown by callbacks: minibatch descent on any ``nn.Module``.

``fit`` is the whole loop. One epoch visits every training sample once, in a fresh random order
(shuffling without replacement, drawn from ``generator``); each iteration t = 0, 1, ... runs forward,
backward and one optimizer step. Everything else is a callback (``labkit.callbacks``): an object with
any of the methods below, each called with the ``TrainerState``::

    on_train_begin                      once, before the first epoch
      on_epoch_begin                    model in train mode, the epoch's order drawn
        on_batch_begin                  state.xb, state.yb set (a callback may replace them)
        on_before_step                  after backward: state.loss set, gradients in place
        on_step                         after optimizer.step(); then state.iteration += 1
      on_epoch_end                      state.history.epochs_run counts this epoch
    on_train_end                        always, also when training ends by an exception

Callbacks run in the order of their ``order`` attribute (default 0; ties keep the list's order).
Setting ``state.stop = True`` ends training after the current batch (``on_epoch_end`` still runs).

``train`` is the entry point for notebooks: it builds the usual callbacks from keyword arguments
(metrics history, best state, schedule, clipping, early stopping, progress bar) and calls ``fit``.

Example
-------
>>> from labkit.data import load_digits
>>> d = load_digits(seed=0)
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
>>> opt = torch.optim.Adam(model.parameters(), lr=1e-2)
>>> hist = train(model, nn.CrossEntropyLoss(), opt, d.train, d.val, epochs=10, batch_size=64, quiet=True)
>>> hist.best_val_acc > 0.9
True
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch
from torch import nn

from .device import get_device

__all__ = ["History", "TrainerState", "fit", "train", "evaluate", "as_optimizer", "EVENTS"]

EVENTS = ("on_train_begin", "on_epoch_begin", "on_batch_begin", "on_before_step", "on_step", "on_epoch_end",
          "on_train_end")


@dataclass
class History:
    """What a run records. Per iteration: ``loss``, ``lr``. Per epoch: ``train_loss``, ``train_acc``,
    ``val_loss``, ``val_acc`` (accuracy lists stay empty for regression targets, ``val_*`` without
    validation data). ``best_epoch`` (0-based, -1 if none), ``best_val_acc`` (nan if none),
    ``best_state`` (a CPU copy of ``model.state_dict()`` at the best epoch), ``best_by`` (the metric
    that chose it), ``stop_reason`` ("completed", "early_stopping", "diverged" or "callback")."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    best_val_acc: float = math.nan
    best_epoch: int = -1
    best_state: dict | None = None
    best_by: str = ""
    epochs_run: int = 0
    iterations_per_epoch: int = 0
    stop_reason: str = "completed"
    seconds: float = 0.0
    samples_seen: int = 0

    def latest(self, kind: str) -> tuple[str, float] | None:
        """The current epoch's ``"acc"`` or ``"loss"``: ``(name, value)``, from the validation set when
        there is one (``"val_acc"``), else the training set (``"train_acc"``); None if not recorded."""
        name = f"{'val' if self.val_loss else 'train'}_{kind}"
        values = getattr(self, name)
        return (name, values[-1]) if values and len(values) == self.epochs_run else None

    def __repr__(self) -> str:
        last = lambda xs: f"{xs[-1]:.4g}" if xs else "-"  # noqa: E731
        return (f"History(epochs_run={self.epochs_run}, iterations={len(self.loss)}, last loss={last(self.loss)}, "
                f"train_acc={last(self.train_acc)}, val_acc={last(self.val_acc)}, best_val_acc={self.best_val_acc:.4g} "
                f"at epoch {self.best_epoch}, stop_reason={self.stop_reason!r})")


@dataclass
class TrainerState:
    """What callbacks see: the objects in use, the data, where the loop stands, and ``stop``."""

    model: nn.Module
    optimizer: torch.optim.Optimizer | None
    history: History
    device: torch.device
    loss_fn: Callable | None = None
    x: torch.Tensor | None = None          # the training inputs (N, ...), on the device
    y: torch.Tensor | None = None          # the training targets (N, ...)
    epochs: int = 0
    epoch: int = 0
    iteration: int = 0                     # global iteration t, 0-based
    batch_index: int = 0                   # within the epoch
    xb: torch.Tensor | None = None         # the current minibatch (B, ...), (B, ...)
    yb: torch.Tensor | None = None
    loss: torch.Tensor | None = None       # its loss, a detached 0-d tensor (.item() syncs the GPU)
    stop: bool = False

    @property
    def lr(self) -> float:
        """The learning rate of the first param group (nan without an optimizer)."""
        return float(self.optimizer.param_groups[0].get("lr", math.nan)) if self.optimizer else math.nan


def as_optimizer(optimizer, params) -> torch.optim.Optimizer:
    """A torch optimizer as is; a CS231n update rule ``rule(w, dw, config)`` (or a pair ``(rule, config)``)
    wrapped in ``labkit.bridges.RuleOptimizer`` over ``params``."""
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    rule, config = optimizer if isinstance(optimizer, tuple) and len(optimizer) == 2 else (optimizer, None)
    if not callable(rule):
        raise TypeError("optimizer must be a torch.optim.Optimizer, an update rule rule(w, dw, config) or a pair "
                        f"(rule, config), got {type(optimizer).__name__}")
    from .bridges import RuleOptimizer  # lazy: the bridges are only needed for student update rules

    return RuleOptimizer(params, rule, dict(config or {}))


def _as_split(data, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = (data.x, data.y) if hasattr(data, "x") and hasattr(data, "y") else (None, None)
    if x is None and isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = data
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor) or x.shape[0] != y.shape[0]:
        raise TypeError(f"{name} must be a Split or a pair (x, y) of tensors with the same first dimension")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return x, y


def _loss_value(loss_fn, out, y) -> torch.Tensor:
    loss = loss_fn(out, y)
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError("loss_fn(scores, y) must return a scalar tensor (for a CS231n-style (loss, dscores) "
                        "function, wrap it with labkit.bridges first)")
    return loss if loss.ndim == 0 else loss.reshape(())


def _num_correct(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor | None:
    """Correct predictions in a batch, as a 0-d tensor; None when ``y`` is not class ids."""
    if y.dtype.is_floating_point or y.ndim != 1:
        return None
    if out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1):     # binary logits: predict s > 0
        return ((out.reshape(-1) > 0).long() == y).sum()
    return (out.argmax(dim=1) == y).sum()                         # (N, C) -> (N,)


@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable | None = None, batch_size: int = 1024,
             device=None) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on ``data`` (a Split or ``(x, y)``), in eval mode, no gradients.

    Returns ``(loss, acc)``: loss averaged over samples (nan when ``loss_fn`` is None), acc the fraction
    of ``argmax(scores) == y`` (``s > 0`` for one logit; nan for float targets). The model's train/eval
    mode is restored afterwards.
    """
    x, y = _as_split(data, "data")
    device = torch.device(device) if device is not None else next(model.parameters(), torch.zeros(0)).device
    was_training = model.training
    model.eval()
    total_loss, correct = torch.zeros((), device=device), torch.zeros((), device=device)
    has_acc = True
    try:
        for i in range(0, x.shape[0], batch_size):
            xb, yb = x[i:i + batch_size].to(device), y[i:i + batch_size].to(device)
            out = model(xb)
            if loss_fn is not None:
                total_loss += _loss_value(loss_fn, out, yb) * xb.shape[0]
            c = _num_correct(out, yb)
            has_acc = has_acc and c is not None
            if has_acc:
                correct += c
    finally:
        model.train(was_training)
    n = x.shape[0]
    loss = float(total_loss) / n if loss_fn is not None else math.nan
    return loss, (float(correct) / n if has_acc else math.nan)


def _check_run(model, epochs, batch_size) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def _handlers(callbacks: Sequence[Any]) -> dict[str, list[Callable]]:
    """Each event's bound methods, callbacks sorted by ``order`` (looked up once, not per batch)."""
    ordered = sorted(callbacks, key=lambda cb: getattr(cb, "order", 0))
    return {e: [getattr(cb, e) for cb in ordered if callable(getattr(cb, e, None))] for e in EVENTS}


def fit(model: nn.Module, loss_fn: Callable, optimizer, train_data, epochs: int = 10, batch_size: int = 64,
        callbacks: Sequence[Any] = (), device=None, generator: torch.Generator | None = None) -> History:
    """The training loop: ``epochs`` passes of minibatch descent on ``loss_fn(model(xb), yb)``, grown by
    ``callbacks`` (see the module docstring); returns ``state.history``.

    ``optimizer``: as in ``train``, or None when a callback (``labkit.callbacks.UpdateRule``) installs one
    in ``on_train_begin``. ``train_data``: a Split or ``(x (N, ...), y (N, ...))``, moved to ``device``
    once (None: ``labkit.device.get_device()``). ``generator`` draws the shuffling (None: seeded with 0).
    """
    _check_run(model, epochs, batch_size)
    device = torch.device(device) if device is not None else get_device()
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    x, y = (t.to(device) for t in _as_split(train_data, "train_data"))
    n = x.shape[0]
    model.to(device)
    opt = as_optimizer(optimizer, model.parameters()) if optimizer is not None else None
    state = TrainerState(model, opt, History(iterations_per_epoch=math.ceil(n / batch_size)), device, loss_fn,
                         x, y, epochs)
    on = _handlers(callbacks)
    start = time.perf_counter()
    try:
        _emit(on["on_train_begin"], state)
        if (opt := state.optimizer) is None:
            raise TypeError("fit needs an optimizer, or a callback that sets state.optimizer (UpdateRule)")
        for epoch in range(epochs):
            state.epoch = epoch
            model.train()
            perm = torch.randperm(n, generator=gen).to(device)          # a fresh order, without replacement
            _emit(on["on_epoch_begin"], state)
            for b, i in enumerate(range(0, n, batch_size)):
                idx = perm[i:i + batch_size]
                state.batch_index, state.xb, state.yb = b, x[idx], y[idx]      # (B, ...), (B, ...)
                _emit(on["on_batch_begin"], state)
                loss = _loss_value(loss_fn, model(state.xb), state.yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                state.loss = loss.detach()
                _emit(on["on_before_step"], state)
                opt.step()
                _emit(on["on_step"], state)
                state.iteration += 1
                if state.stop:
                    break
            state.history.epochs_run = epoch + 1
            _emit(on["on_epoch_end"], state)
            if state.stop:
                if state.history.stop_reason == "completed":
                    state.history.stop_reason = "callback"
                break
    finally:
        state.history.seconds = time.perf_counter() - start
        _emit(on["on_train_end"], state)
    return state.history


def _emit(handlers: list[Callable], state: TrainerState) -> None:
    for handler in handlers:
        handler(state)


def train(model: nn.Module, loss_fn: Callable, optimizer, train_data, val_data=None, epochs: int = 10,
          batch_size: int = 64, schedule: Callable[[int], float] | None = None, early_stopping=None,
          device=None, quiet: bool = False, generator: torch.Generator | None = None,
          callbacks: Sequence[Any] = (), clip_grad_norm: float | None = None, train_acc_samples: int | None = 1000,
          restore_best: bool = False) -> History:
    """Train ``model`` by minibatch descent on ``loss_fn``; return the ``History``.

    Inputs
      - ``model``: any ``nn.Module`` (moved to ``device``; None: ``labkit.device.get_device()``).
      - ``loss_fn(scores, y) -> scalar tensor``, e.g. ``nn.CrossEntropyLoss()``.
      - ``optimizer``: a ``torch.optim.Optimizer`` over the model's parameters, or a CS231n update rule
        ``rule(w, dw, config)`` / a pair ``(rule, config)`` (wrapped by ``labkit.bridges.RuleOptimizer``).
      - ``train_data``, ``val_data``: ``Split``s or pairs ``(x (N, ...), y (N, ...))``; moved to the device
        once. Class ids (int64 ``(N,)``) give accuracies; float targets give losses only.
      - ``schedule``: ``t -> lr``, applied to every parameter group before step t (t = 0, 1, ...).
      - ``early_stopping``: an object with ``.step(metric) -> bool`` (True: stop), called once per epoch
        with the validation accuracy if its ``mode`` is ``"max"``, else with the validation loss (the
        training metrics when there is no validation data).
      - ``generator``: draws the shuffling (None: a CPU generator seeded with 0, so runs repeat).
      - ``clip_grad_norm``: clip the global gradient norm before each step; ``train_acc_samples``: size of
        the evenly spaced training subset for ``train_acc`` (None: all; 0: skip); ``restore_best``: load
        ``best_state`` into the model at the end; ``quiet``: no progress bar; ``callbacks``: more of them.
    The best epoch is the one with the highest validation accuracy (lowest validation loss for float
    targets; training metrics when there is no validation data); ties keep the earlier epoch.

    The same run by hand: ``fit(model, loss_fn, optimizer, train_data, epochs, batch_size,
    [Metrics(val_data, train_acc_samples), BestState(restore_best), LRSchedule(schedule),
    ClipGradNorm(clip_grad_norm), EarlyStop(early_stopping), ProgressBar(), *callbacks], device, generator)``.
    """
    from . import callbacks as cb  # lazy: the callbacks build on this module

    built = [cb.Metrics(val_data, train_acc_samples), cb.BestState(restore_best)]
    built += [cb.LRSchedule(schedule)] if schedule is not None else []
    built += [cb.ClipGradNorm(clip_grad_norm)] if clip_grad_norm is not None else []
    built += [cb.EarlyStop(early_stopping)] if early_stopping is not None else []
    built += [] if quiet else [cb.ProgressBar()]
    return fit(model, loss_fn, optimizer, train_data, epochs, batch_size, [*built, *callbacks], device, generator)
