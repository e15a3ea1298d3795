"""The trainer's callbacks: each piece of a training run that is not forward, backward and step.

Pass them to ``labkit.train.fit`` (``train`` builds them from its keyword arguments). Each is a plain
object with some of the loop's event methods (``labkit.train.EVENTS``) and an ``order``::

    order  callback        events                       does
    -----  --------------  ---------------------------  ---------------------------------------------
    -30    UpdateRule      train_begin                  installs a rule(w, dw, config) as the optimizer
    -20    Metrics         train/epoch begin, step,     loss and lr per step; train/val loss and
                           epoch_end                    accuracy per epoch; stops a diverged run
    -10    LRSchedule      batch_begin                  lr = schedule(t) in every param group
    -10    ClipGradNorm    before_step                  clips the global gradient norm
    -10    BestState       epoch_end, train_end         keeps (and restores) the best epoch's weights
     -5    ProgressBar     train_begin, step,           a tqdm bar over all iterations
                           epoch_end, train_end
      0    (your own)
     10    EarlyStop       epoch_end                    asks stopper.step(metric) whether to stop

A student's pieces drop in as they are: a schedule is any function of the step
(``LRSchedule(lambda t: cosine_annealing(t, 0.1, 500))``), an update rule any ``rule(w, dw, config)``
(``UpdateRule(adam, {"learning_rate": 1e-3})``), early stopping any object with ``.step(metric) -> bool``
and an optional ``mode`` (``EarlyStop(EarlyStopping(patience=3, mode="max"))``).

Example
-------
>>> from labkit.data import load_digits
>>> from labkit.train import fit
>>> from labkit.reference import adam, cosine_annealing, EarlyStopping
>>> d = load_digits(seed=0)
>>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
>>> cbs = [UpdateRule(adam), LRSchedule(lambda t: cosine_annealing(t, 1e-2, total_steps=100)),
...        Metrics(d.val), EarlyStop(EarlyStopping(patience=2, mode="max"))]
>>> hist = fit(model, torch.nn.CrossEntropyLoss(), None, d.train, epochs=5, callbacks=cbs, device="cpu")
>>> len(hist.val_acc) == hist.epochs_run
True
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .train import TrainerState, _as_split, evaluate

__all__ = ["Callback", "UpdateRule", "Metrics", "LRSchedule", "ClipGradNorm", "BestState", "ProgressBar",
           "EarlyStop"]


class Callback:
    """Optional base class: ``order`` 0 and no event methods (define the ones you need)."""

    order = 0


class UpdateRule(Callback):
    """Train with a CS231n update rule ``rule(w, dw, config) -> (next_w, config)``: installs
    ``labkit.bridges.RuleOptimizer(model.parameters(), rule, config)`` when training begins (one config per
    parameter, holding the rule's state; the param group's ``lr`` is the rule's ``learning_rate``)."""

    order = -30

    def __init__(self, rule: Callable, config: dict | None = None):
        if not callable(rule):
            raise TypeError(f"rule must be an update rule rule(w, dw, config) -> (next_w, config), "
                            f"got {type(rule).__name__}")
        self.rule, self.config = rule, dict(config or {})

    def on_train_begin(self, state: TrainerState) -> None:
        from .bridges import RuleOptimizer

        state.optimizer = RuleOptimizer(state.model.parameters(), self.rule, self.config)


class Metrics(Callback):
    """Fills ``state.history``: per step the loss and lr (losses kept on the device, read once per epoch);
    per epoch ``train_loss`` (mean minibatch loss), ``train_acc`` (eval mode, on ``train_acc_samples``
    evenly spaced training samples; None: all, 0: skip), ``val_loss`` and ``val_acc`` (whole ``val_data``).
    A non-finite ``train_loss`` ends training with ``stop_reason = "diverged"``."""

    order = -20

    def __init__(self, val_data=None, train_acc_samples: int | None = 1000):
        self.val_data = _as_split(val_data, "val_data") if val_data is not None else None
        self.train_acc_samples = train_acc_samples

    def on_train_begin(self, state: TrainerState) -> None:
        n = state.x.shape[0]
        k = n if self.train_acc_samples is None else min(int(self.train_acc_samples), n)
        idx = torch.linspace(0, n - 1, k, device=state.device).long() if 0 < k < n else slice(None)
        self.sub = (state.x[idx], state.y[idx]) if k > 0 else None
        self.val = tuple(t.to(state.device) for t in self.val_data) if self.val_data is not None else None

    def on_epoch_begin(self, state: TrainerState) -> None:
        self.losses = []

    def on_step(self, state: TrainerState) -> None:
        h = state.history
        self.losses.append(state.loss)                              # on the device: no sync per step
        h.lr.append(state.lr)
        h.samples_seen += state.xb.shape[0]

    def on_epoch_end(self, state: TrainerState) -> None:
        h = state.history
        losses = torch.stack(self.losses).tolist()
        h.loss.extend(losses)
        h.train_loss.append(sum(losses) / len(losses))
        if self.sub is not None:
            acc = evaluate(state.model, self.sub, None, device=state.device)[1]
            h.train_acc += [] if math.isnan(acc) else [acc]
        if self.val is not None:
            loss, acc = evaluate(state.model, self.val, state.loss_fn, device=state.device)
            h.val_loss.append(loss)
            h.val_acc += [] if math.isnan(acc) else [acc]
        if not math.isfinite(h.train_loss[-1]):
            state.stop, h.stop_reason = True, "diverged"


class LRSchedule(Callback):
    """Before iteration t (t = 0, 1, ... over the whole run) sets ``lr = schedule(t)`` in every param
    group: ``schedule`` is any function of the step, e.g. ``lambda t: cosine_annealing(t, 0.1, 500)``."""

    order = -10

    def __init__(self, schedule: Callable[[int], float]):
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of the step t, got {type(schedule).__name__}")
        self.schedule = schedule

    def on_batch_begin(self, state: TrainerState) -> None:
        lr = float(self.schedule(state.iteration))
        for group in state.optimizer.param_groups:
            group["lr"] = lr


class ClipGradNorm(Callback):
    """Before each step rescales the gradients so that their global L2 norm is at most ``max_norm``
    (``torch.nn.utils.clip_grad_norm_``)."""

    order = -10

    def __init__(self, max_norm: float):
        if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not max_norm > 0:
            raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
        self.max_norm = float(max_norm)

    def on_before_step(self, state: TrainerState) -> None:
        nn.utils.clip_grad_norm_(state.model.parameters(), self.max_norm)


def _epoch_metric(state: TrainerState, kind: str, who: str) -> tuple[str, float] | None:
    if state.history.latest("loss") is None:
        raise RuntimeError(f"{who} needs the epoch's metrics: add a Metrics callback")
    return state.history.latest(kind)


class BestState(Callback):
    """Keeps a CPU copy of the weights at the best epoch (``history.best_state``, ``best_epoch``,
    ``best_by``, ``best_val_acc``): highest accuracy, else lowest loss, of the validation set when there
    is one, else of the training set; ties keep the earlier epoch. ``restore``: load it at the end."""

    order = -10

    def __init__(self, restore: bool = False):
        self.restore = restore

    def on_train_begin(self, state: TrainerState) -> None:
        self.best_score = -math.inf

    def on_epoch_end(self, state: TrainerState) -> None:
        h = state.history
        acc = _epoch_metric(state, "acc", "BestState")
        h.best_by, score = (acc[0], acc[1]) if acc else (h.latest("loss")[0], -h.latest("loss")[1])
        if score > self.best_score:
            self.best_score, h.best_epoch = score, state.epoch
            h.best_state = {k: v.detach().to("cpu", copy=True) for k, v in state.model.state_dict().items()}
            if acc and acc[0] == "val_acc":
                h.best_val_acc = acc[1]

    def on_train_end(self, state: TrainerState) -> None:
        if self.restore and state.history.best_state is not None:
            state.model.load_state_dict(state.history.best_state)


class ProgressBar(Callback):
    """A tqdm bar over every iteration of the run, with the epoch's loss and accuracies."""

    order = -5

    def __init__(self, desc: str = "training"):
        self.desc, self.bar = desc, None

    def on_train_begin(self, state: TrainerState) -> None:
        from tqdm.auto import tqdm

        total = state.epochs * state.history.iterations_per_epoch
        self.bar = tqdm(total=total, desc=self.desc, unit="it", leave=True)

    def on_step(self, state: TrainerState) -> None:
        self.bar.update(1)

    def on_epoch_end(self, state: TrainerState) -> None:
        h = state.history
        post = {"loss": f"{h.train_loss[-1]:.4f}"} if h.train_loss else {}
        post.update({k: f"{v[-1]:.3f}" for k, v in (("train_acc", h.train_acc), ("val_acc", h.val_acc)) if v})
        self.bar.set_postfix(post, refresh=False)

    def on_train_end(self, state: TrainerState) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class EarlyStop(Callback):
    """After each epoch calls ``stopper.step(metric)`` and ends training when it returns True
    (``stop_reason = "early_stopping"``). ``metric`` is the accuracy when ``stopper.mode == "max"``, else
    the loss (``mode`` absent: "min"), of the validation set when there is one. Skipped once another
    callback has stopped training."""

    order = 10

    def __init__(self, stopper):
        if not callable(getattr(stopper, "step", None)):
            raise TypeError(f"early_stopping must have a method .step(metric) -> bool, got {type(stopper).__name__}")
        self.stopper = stopper

    def on_epoch_end(self, state: TrainerState) -> None:
        if state.stop:
            return
        maximise = getattr(self.stopper, "mode", "min") == "max"
        metric = _epoch_metric(state, "acc" if maximise else "loss", "EarlyStop")
        if metric is None:
            raise ValueError("early_stopping has mode='max' (an accuracy) but the targets have no accuracy; "
                             "use mode='min' to stop on the loss")
        if self.stopper.step(metric[1]):
            state.stop, state.history.stop_reason = True, "early_stopping"
