"""A small trainer: minibatch gradient descent on any ``nn.Module``, with the bookkeeping the labs plot.

One epoch visits every training sample once, in a fresh random order (shuffling without replacement,
drawn from ``generator``); each iteration t = 0, 1, ... sets the learning rate ``schedule(t)`` (if any),
runs forward, backward and one optimizer step. The ``History`` records

- per iteration: the minibatch loss ``loss[t]`` and the learning rate ``lr[t]``;
- per epoch: ``train_loss`` (mean minibatch loss), ``train_acc`` (eval-mode accuracy on a fixed subset of
  the training set, as the CS231n solver does), ``val_loss`` and ``val_acc`` (whole validation set);
- the best epoch by validation accuracy and a copy of the model's weights at that epoch.

The loop grows by composition, not by edits: callbacks (e.g. ``labkit.monitor.UpdateRatioMonitor``) are
objects with any of the methods ``on_train_begin``, ``on_before_step``, ``on_step``, ``on_epoch_end``,
``on_train_end``, each called with the ``TrainerState``; setting ``state.stop = True`` ends training.

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

__all__ = ["History", "TrainerState", "train", "evaluate", "as_optimizer"]


@dataclass
class History:
    """What ``train`` records. Per iteration: ``loss``, ``lr``. Per epoch: ``train_loss``, ``train_acc``,
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

    def __repr__(self) -> str:
        last = lambda xs: f"{xs[-1]:.4g}" if xs else "-"  # noqa: E731
        return (f"History(epochs_run={self.epochs_run}, iterations={len(self.loss)}, last loss={last(self.loss)}, "
                f"train_acc={last(self.train_acc)}, val_acc={last(self.val_acc)}, best_val_acc={self.best_val_acc:.4g} "
                f"at epoch {self.best_epoch}, stop_reason={self.stop_reason!r})")


@dataclass
class TrainerState:
    """What callbacks see: the objects in use, where the loop stands, and ``stop`` to end training."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    device: torch.device
    epoch: int = 0
    iteration: int = 0          # global iteration t, 0-based
    batch_index: int = 0        # within the epoch
    loss: torch.Tensor | None = None   # the current minibatch loss (a 0-d tensor; .item() syncs the GPU)
    lr: float = math.nan
    stop: bool = False


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


def _call(callbacks: Sequence[Any], method: str, state: TrainerState) -> None:
    for cb in callbacks:
        fn = getattr(cb, method, None)
        if fn is not None:
            fn(state)


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
        ``best_state`` into the model at the end; ``quiet``: no progress bar.
    The best epoch is the one with the highest validation accuracy (lowest validation loss for float
    targets; training metrics when there is no validation data); ties keep the earlier epoch.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    device = torch.device(device) if device is not None else get_device()
    gen = generator if generator is not None else torch.Generator().manual_seed(0)
    model.to(device)
    opt = as_optimizer(optimizer, model.parameters())
    x_train, y_train = (t.to(device) for t in _as_split(train_data, "train_data"))
    val = tuple(t.to(device) for t in _as_split(val_data, "val_data")) if val_data is not None else None
    n = x_train.shape[0]
    n_sub = n if train_acc_samples is None else min(int(train_acc_samples), n)
    sub = (x_train, y_train) if n_sub == n else tuple(
        t[torch.linspace(0, n - 1, n_sub, device=device).long()] for t in (x_train, y_train))

    hist = History(iterations_per_epoch=math.ceil(n / batch_size))
    state = TrainerState(model, opt, hist, device)
    best_score = -math.inf
    bar = None
    if not quiet:
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs * hist.iterations_per_epoch, desc="training", unit="it", leave=True)
    start = time.perf_counter()
    _call(callbacks, "on_train_begin", state)
    try:
        for epoch in range(epochs):
            state.epoch = epoch
            model.train()
            perm = torch.randperm(n, generator=gen).to(device)          # a fresh order, without replacement
            epoch_losses = []
            for b, i in enumerate(range(0, n, batch_size)):
                state.batch_index = b
                if schedule is not None:
                    lr_t = float(schedule(state.iteration))
                    for group in opt.param_groups:
                        group["lr"] = lr_t
                state.lr = float(opt.param_groups[0].get("lr", math.nan))
                idx = perm[i:i + batch_size]
                xb, yb = x_train[idx], y_train[idx]                       # (B, ...), (B, ...)
                loss = _loss_value(loss_fn, model(xb), yb)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if clip_grad_norm is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm)
                state.loss = loss.detach()
                _call(callbacks, "on_before_step", state)
                opt.step()
                epoch_losses.append(state.loss)                           # kept on the device: no sync per step
                hist.lr.append(state.lr)
                hist.samples_seen += xb.shape[0]
                _call(callbacks, "on_step", state)
                state.iteration += 1
                if bar is not None:
                    bar.update(1)
                if state.stop:
                    break

            losses = torch.stack(epoch_losses).tolist()
            hist.loss.extend(losses)
            hist.train_loss.append(sum(losses) / len(losses))
            if n_sub > 0:
                _, acc = evaluate(model, sub, None, device=device)
                if not math.isnan(acc):
                    hist.train_acc.append(acc)
            if val is not None:
                v_loss, v_acc = evaluate(model, val, loss_fn, device=device)
                hist.val_loss.append(v_loss)
                if not math.isnan(v_acc):
                    hist.val_acc.append(v_acc)
            hist.epochs_run = epoch + 1

            # The epoch's score: accuracy if there is one, else minus the loss; validation before training.
            accs, losses_ = (hist.val_acc, hist.val_loss) if val is not None else (hist.train_acc, hist.train_loss)
            prefix = "val" if val is not None else "train"
            score, hist.best_by = ((accs[-1], f"{prefix}_acc") if len(accs) == hist.epochs_run
                                   else (-losses_[-1], f"{prefix}_loss"))
            if score > best_score:
                best_score, hist.best_epoch = score, epoch
                hist.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
                if len(hist.val_acc) == hist.epochs_run:
                    hist.best_val_acc = hist.val_acc[-1]
            if bar is not None:
                post = {"loss": f"{hist.train_loss[-1]:.4f}"}
                post.update({k: f"{v[-1]:.3f}" for k, v in (("train_acc", hist.train_acc), ("val_acc", hist.val_acc)) if v})
                bar.set_postfix(post, refresh=False)
            _call(callbacks, "on_epoch_end", state)

            if not math.isfinite(hist.train_loss[-1]):
                hist.stop_reason = "diverged"
                break
            if state.stop:
                hist.stop_reason = "callback"
                break
            if early_stopping is not None:
                maximise = getattr(early_stopping, "mode", "min") == "max"
                if maximise and not accs:
                    raise ValueError("early_stopping has mode='max' (an accuracy) but the targets have no accuracy; "
                                     "use mode='min' to stop on the loss")
                metric = (accs if maximise else losses_)[-1]
                if early_stopping.step(metric):
                    hist.stop_reason = "early_stopping"
                    break
    finally:
        if bar is not None:
            bar.close()
    hist.seconds = time.perf_counter() - start
    if restore_best and hist.best_state is not None:
        model.load_state_dict(hist.best_state)
    _call(callbacks, "on_train_end", state)
    return hist
