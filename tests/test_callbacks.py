"""labkit.callbacks: a student's schedule, update rule and early stopping drop into the trainer and take
effect; callbacks run in their order and compose."""
from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from labkit.callbacks import BestState, ClipGradNorm, EarlyStop, LRSchedule, Metrics, UpdateRule
from labkit.train import fit, train


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def toy_data(gen, n=40):
    return torch.randn(n, 4, generator=gen), torch.randint(0, 3, (n,), generator=gen)


# ----------------------------------------------------------------------------- what a student writes
def student_cosine_annealing(t, lr0, total_steps):
    """Section 06, as a student writes it: a plain function of the step."""
    return lr0 * (1 + math.cos(math.pi * t / total_steps)) / 2


def student_sgd_momentum(w, dw, config=None):
    """Section 05, as a student writes it: rule(w, dw, config) -> (next_w, config), v <- mu v + dw."""
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", torch.zeros_like(w)) + dw
    config["velocity"] = v
    return w - config["learning_rate"] * v, config


class StudentEarlyStopping:
    """Section 04, as a student writes it (no labkit base class)."""

    def __init__(self, patience=5, min_delta=0.0, mode="min"):
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch, self.num_bad_epochs, self.calls = -1, 0, 0

    def step(self, metric):
        better = metric < self.best - self.min_delta if self.mode == "min" else metric > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.num_bad_epochs = metric, self.calls, 0
        else:
            self.num_bad_epochs += 1
        self.calls += 1
        return self.num_bad_epochs >= self.patience


class SeenLR:
    """Records the learning rate of every param group at the moment of each optimizer step."""

    def __init__(self):
        self.lrs = []

    def on_before_step(self, state):
        self.lrs.append([g["lr"] for g in state.optimizer.param_groups])


# ----------------------------------------------------------------------------- schedules
def test_a_student_schedule_sets_the_lr_the_optimizer_uses_at_every_step(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias]}], lr=1.0)
    schedule = lambda t: student_cosine_annealing(t, 0.1, 12)  # noqa: E731
    seen = SeenLR()
    hist = train(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=3, batch_size=10, schedule=schedule,
                 callbacks=[seen], quiet=True, device="cpu")
    assert seen.lrs == [[schedule(t)] * 2 for t in range(12)]
    assert hist.lr == [schedule(t) for t in range(12)]


def test_a_schedule_that_reaches_zero_stops_the_weights_moving(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    weights = []

    class Snap:
        def on_step(self, state):
            weights.append(state.model.weight.detach().clone())

    fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=1.0), (x, y), epochs=2, batch_size=10,
        callbacks=[LRSchedule(lambda t: 0.5 if t < 3 else 0.0), Snap()], device="cpu")
    assert not torch.equal(weights[1], weights[2])                  # step 2 still moves
    assert all(torch.equal(w, weights[2]) for w in weights[3:])     # lr 0 from step 3 on


# ----------------------------------------------------------------------------- update rules
def test_a_student_rule_trains_like_torch_sgd_momentum_and_follows_the_schedule(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    twin = copy.deepcopy(model)
    schedule = lambda t: student_cosine_annealing(t, 0.2, 8)  # noqa: E731
    lrs_seen_by_rule = []

    def rule(w, dw, config):
        lrs_seen_by_rule.append(config["learning_rate"])
        return student_sgd_momentum(w, dw, config)

    ours = fit(model, nn.CrossEntropyLoss(), None, (x, y), epochs=2, batch_size=10, device="cpu", generator=seeded(3),
               callbacks=[UpdateRule(rule, {"learning_rate": 0.2, "momentum": 0.9}), LRSchedule(schedule), Metrics()])
    theirs = train(twin, nn.CrossEntropyLoss(), torch.optim.SGD(twin.parameters(), lr=0.2, momentum=0.9), (x, y),
                   epochs=2, batch_size=10, schedule=schedule, quiet=True, device="cpu", generator=seeded(3))
    assert lrs_seen_by_rule == [schedule(t) for t in range(8) for _ in ("weight", "bias")]
    assert ours.loss == pytest.approx(theirs.loss, rel=1e-5, abs=1e-6)
    assert torch.allclose(model.weight, twin.weight, atol=1e-6) and torch.allclose(model.bias, twin.bias, atol=1e-6)


def test_a_rule_passed_to_train_is_the_same_as_the_update_rule_callback(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    twin = copy.deepcopy(model)
    cfg = {"learning_rate": 0.1, "momentum": 0.5}
    by_train = train(model, nn.CrossEntropyLoss(), (student_sgd_momentum, cfg), (x, y), epochs=2, quiet=True,
                     device="cpu")
    by_callback = fit(twin, nn.CrossEntropyLoss(), None, (x, y), epochs=2, device="cpu",
                      callbacks=[UpdateRule(student_sgd_momentum, cfg), Metrics()])
    assert by_train.loss == by_callback.loss and torch.equal(model.weight, twin.weight)


# ----------------------------------------------------------------------------- early stopping
@pytest.mark.parametrize("mode,patience", [("min", 1), ("min", 3), ("max", 2)])
def test_a_student_early_stopping_ends_training_at_the_epoch_it_says(gen, mode, patience):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    stopper = StudentEarlyStopping(patience=patience, mode=mode)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.0), (x, y), (x, y),
                 epochs=20, early_stopping=stopper, quiet=True, device="cpu")
    assert hist.epochs_run == stopper.calls == patience + 1 and hist.stop_reason == "early_stopping"
    assert stopper.best == (hist.val_loss[0] if mode == "min" else hist.val_acc[0])  # lr 0: epoch 0 stays best


def test_early_stopping_on_a_learning_run_stops_where_a_replay_of_its_metrics_says(gen):
    x, y = toy_data(gen, n=60)
    xv, yv = toy_data(gen, n=30)
    model = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 3))
    stopper = EarlyStop(StudentEarlyStopping(3, mode="min"))
    hist = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5), (x, y), epochs=40,
               batch_size=16, device="cpu", callbacks=[Metrics((xv, yv)), stopper])
    replay = StudentEarlyStopping(3, mode="min")
    first_stop = next(i for i, v in enumerate(hist.val_loss) if replay.step(v))
    assert hist.stop_reason == "early_stopping" and hist.epochs_run == first_stop + 1 < 40


# ----------------------------------------------------------------------------- order and composition
def test_callbacks_run_by_order_then_list_position_around_the_built_in_ones(gen):
    x, y = toy_data(gen)
    calls = []

    class Named:
        def __init__(self, name, order=None):
            self.name = name
            if order is not None:
                self.order = order

        def on_epoch_end(self, state):
            calls.append((self.name, len(state.history.val_loss), stopper.calls))

    stopper = StudentEarlyStopping(patience=100)
    model = nn.Linear(4, 3)
    train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), (x, y), epochs=1,
          early_stopping=stopper, quiet=True, device="cpu",
          callbacks=[Named("late", 5), Named("a"), Named("early", -1), Named("b")])
    # every user callback sees the epoch's metrics (Metrics runs first) and runs before EarlyStop
    assert calls == [("early", 1, 0), ("a", 1, 0), ("b", 1, 0), ("late", 1, 0)] and stopper.calls == 1


def test_a_user_callback_that_stops_training_takes_precedence_over_early_stopping(gen):
    x, y = toy_data(gen)

    class StopAfterFirstEpoch:
        def on_epoch_end(self, state):
            state.stop = True

    stopper = StudentEarlyStopping(patience=1)
    model = nn.Linear(4, 3)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), (x, y), epochs=5,
                 early_stopping=stopper, callbacks=[StopAfterFirstEpoch()], quiet=True, device="cpu")
    assert hist.epochs_run == 1 and hist.stop_reason == "callback" and stopper.calls == 0


def test_a_batch_transform_composes_with_a_schedule_and_the_metrics(gen):
    x = torch.arange(20.0).view(20, 1)
    y = torch.zeros(20, dtype=torch.int64)
    seen = []

    class Shift:                                             # e.g. an augmentation: replaces the batch
        def on_batch_begin(self, state):
            state.xb = state.xb + 100

    class Model(nn.Linear):
        def forward(self, inp):
            if self.training:
                seen.append(inp.detach().clone())
            return super().forward(inp)

    schedule = lambda t: 0.1 * (t + 1)  # noqa: E731
    hist = fit(Model(1, 2), nn.CrossEntropyLoss(), torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0), (x, y),
               epochs=2, batch_size=5, device="cpu", callbacks=[Shift(), LRSchedule(schedule), Metrics()])
    assert all(bool((b >= 100).all()) for b in seen) and len(seen) == 8
    assert hist.lr == [schedule(t) for t in range(8)] and len(hist.loss) == 8 and hist.samples_seen == 40


def test_clipping_bounds_the_gradient_norm_seen_at_the_step(gen):
    x, y = toy_data(gen)
    norms = []

    class Norm:
        def on_before_step(self, state):
            grads = [p.grad.norm() for p in state.model.parameters()]
            norms.append(float(torch.linalg.vector_norm(torch.stack(grads))))

    def run(callbacks):
        norms.clear()
        model = nn.Linear(4, 3)
        with torch.no_grad():
            model.weight.mul_(50)                            # large scores: large gradients
        fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01), (x, y), epochs=1,
            device="cpu", callbacks=callbacks)
        return max(norms)

    assert run([Norm()]) > 0.1
    assert run([Norm(), ClipGradNorm(0.1)]) <= 0.1 * (1 + 1e-5)


def test_fit_with_the_built_callbacks_is_what_train_does(gen):
    x, y = toy_data(gen)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    twin = copy.deepcopy(model)
    schedule = lambda t: 0.3 / (1 + t)  # noqa: E731
    a = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), (x, y), epochs=4,
              batch_size=8, schedule=schedule, clip_grad_norm=1.0, restore_best=True, quiet=True, device="cpu")
    b = fit(twin, nn.CrossEntropyLoss(), torch.optim.SGD(twin.parameters(), lr=0.1), (x, y), epochs=4, batch_size=8,
            device="cpu", callbacks=[Metrics((x, y)), BestState(restore=True), LRSchedule(schedule), ClipGradNorm(1.0)])
    assert (a.loss, a.lr, a.val_acc, a.best_epoch) == (b.loss, b.lr, b.val_acc, b.best_epoch)
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), twin.parameters()))


def test_train_end_runs_even_when_training_fails(gen):
    x, y = toy_data(gen)
    ended = []

    class End:
        def on_train_end(self, state):
            ended.append(state.iteration)

    def loss_fn(out, t):
        if ended == [] and len(calls) == 2:
            raise RuntimeError("boom")
        calls.append(1)
        return nn.functional.cross_entropy(out, t)

    calls = []
    model = nn.Linear(4, 3)
    with pytest.raises(RuntimeError, match="boom"):
        fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=3, batch_size=10,
            device="cpu", callbacks=[End(), Metrics()])
    assert ended == [2]


def test_missing_pieces_get_clear_errors(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="optimizer"):
        fit(model, nn.CrossEntropyLoss(), None, (x, y), epochs=1, device="cpu")
    with pytest.raises(RuntimeError, match="Metrics"):
        fit(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=1, device="cpu", callbacks=[BestState()])
    with pytest.raises(TypeError, match="step"):
        EarlyStop(0.5)
    with pytest.raises(TypeError, match="function of the step"):
        LRSchedule(0.1)
    with pytest.raises(TypeError, match="update rule"):
        UpdateRule("adam")
    with pytest.raises(ValueError, match="max_norm"):
        ClipGradNorm(-1.0)
    with pytest.raises(ValueError, match="mode='max'"):
        data = (x, torch.randn(40, 3))
        fit(model, nn.MSELoss(), opt, data, epochs=1, device="cpu",
            callbacks=[Metrics(data), EarlyStop(StudentEarlyStopping(mode="max"))])
