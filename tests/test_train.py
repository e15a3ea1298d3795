"""labkit.train: the trainer learns the digits, shuffles without replacement, records what it promises."""
from __future__ import annotations

import copy
import math

import pytest
import torch
from torch import nn

from labkit.data import load_digits, make_dropout_regression
from labkit.train import History, evaluate, train


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def digits_mlp(gen: torch.Generator) -> nn.Sequential:
    """64 -> 64 -> 10 MLP, initialised from ``gen`` (no global RNG)."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    with torch.no_grad():
        for p in model.parameters():
            bound = 1 / math.sqrt(p.shape[-1] if p.ndim > 1 else 64)
            p.copy_(torch.empty(p.shape).uniform_(-bound, bound, generator=gen))
    return model


def toy_data(gen, n=30):
    return torch.randn(n, 4, generator=gen), torch.randint(0, 3, (n,), generator=gen)


class Recorder(nn.Module):
    """A linear model that remembers the first input feature of every training sample it sees."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(1, 2)
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        if self.training:
            self.seen.append(x[:, 0].detach().clone())
        return self.lin(x)


@pytest.fixture
def one_thread():
    """One intra-op thread for the longest test: a tiny MLP gains nothing from more, and on a shared
    machine spinning thread pools cost many times the work itself. Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ----------------------------------------------------------------------------- learning
def test_trainer_reaches_95_percent_validation_accuracy_on_digits_with_a_small_mlp(device, one_thread):
    d = load_digits(seed=0)
    model = digits_mlp(seeded(0))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    hist = train(model, nn.CrossEntropyLoss(), opt, d.train, d.val, epochs=10, batch_size=64,
                 quiet=True, device=device, generator=seeded(0))
    assert hist.best_val_acc >= 0.95 and max(hist.val_acc) == hist.best_val_acc
    assert hist.train_acc[-1] >= 0.95
    _, test_acc = evaluate(model, d.test, device=device)
    assert test_acc >= 0.9
    assert next(model.parameters()).device.type == device.type


def test_history_records_loss_and_lr_per_iteration_and_metrics_per_epoch(gen):
    x, y = toy_data(gen, n=30)
    model = nn.Linear(4, 3)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.05), (x, y), (x, y),
                 epochs=4, batch_size=8, quiet=True, device="cpu")
    assert isinstance(hist, History)
    assert hist.iterations_per_epoch == 4 and len(hist.loss) == len(hist.lr) == 16
    assert hist.lr == [0.05] * 16
    assert len(hist.train_acc) == len(hist.val_acc) == len(hist.train_loss) == len(hist.val_loss) == 4
    assert hist.train_acc == hist.val_acc                           # the same data, the whole set each time
    assert hist.epochs_run == 4 and hist.stop_reason == "completed" and hist.samples_seen == 120
    assert all(0 <= a <= 1 for a in hist.val_acc) and all(math.isfinite(v) for v in hist.loss)
    assert hist.train_loss[0] == pytest.approx(sum(hist.loss[:4]) / 4)


def test_each_epoch_visits_every_sample_exactly_once_in_a_new_order():
    x = torch.arange(23.0).view(23, 1)
    y = torch.zeros(23, dtype=torch.int64)
    model = Recorder()
    train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.0), (x, y), epochs=3,
          batch_size=5, quiet=True, device="cpu", generator=seeded(0), train_acc_samples=0)
    assert [len(b) for b in model.seen] == [5, 5, 5, 5, 3] * 3     # the last batch is partial
    epochs = [torch.cat(model.seen[5 * e:5 * e + 5]) for e in range(3)]
    for order in epochs:
        assert torch.equal(order.sort().values, x[:, 0])
    assert not torch.equal(epochs[0], epochs[1])


def test_the_same_generator_gives_the_same_history(gen):
    x, y = toy_data(gen, n=40)
    model = nn.Linear(4, 3)
    twin = copy.deepcopy(model)
    runs = [train(m, nn.CrossEntropyLoss(), torch.optim.SGD(m.parameters(), lr=0.1), (x, y), epochs=3,
                  batch_size=7, quiet=True, device="cpu", generator=seeded(5)) for m in (model, twin)]
    assert runs[0].loss == runs[1].loss and runs[0].train_acc == runs[1].train_acc
    other = train(copy.deepcopy(twin), nn.CrossEntropyLoss(), torch.optim.SGD(twin.parameters(), lr=0.1), (x, y),
                  epochs=1, batch_size=7, quiet=True, device="cpu", generator=seeded(6))
    assert other.loss != runs[1].loss[:len(other.loss)]


# ----------------------------------------------------------------------------- schedules and update rules
def test_schedule_sets_the_learning_rate_of_every_iteration(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD([{"params": [model.weight]}, {"params": [model.bias]}], lr=1.0)
    schedule = lambda t: 0.1 / (1 + t)  # noqa: E731
    hist = train(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=2, batch_size=10, schedule=schedule,
                 quiet=True, device="cpu")
    assert hist.lr == [schedule(t) for t in range(6)]
    assert [g["lr"] for g in opt.param_groups] == [schedule(5)] * 2


def sgd_rule(w, dw, config):
    """A CS231n-style vanilla SGD rule, written as a student would."""
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def test_an_update_rule_trains_like_the_matching_torch_optimizer(gen):
    x, y = toy_data(gen, n=40)
    model = nn.Linear(4, 3)
    twin = copy.deepcopy(model)
    kw = dict(epochs=3, batch_size=8, quiet=True, device="cpu", schedule=lambda t: 0.2 * 0.9 ** t)
    by_rule = train(model, nn.CrossEntropyLoss(), (sgd_rule, {"learning_rate": 0.2}), (x, y), generator=seeded(1), **kw)
    by_torch = train(twin, nn.CrossEntropyLoss(), torch.optim.SGD(twin.parameters(), lr=0.2), (x, y),
                     generator=seeded(1), **kw)
    assert by_rule.loss == pytest.approx(by_torch.loss, rel=1e-5, abs=1e-6)
    assert torch.allclose(model.weight, twin.weight, atol=1e-6)
    bare = train(nn.Linear(4, 3), nn.CrossEntropyLoss(), sgd_rule, (x, y), epochs=1, quiet=True, device="cpu")
    assert bare.lr[0] == 1e-2                                       # the rule's own default


# ----------------------------------------------------------------------------- checkpoints and stopping
def test_best_state_is_a_copy_of_the_weights_at_the_best_epoch(gen):
    x, y = toy_data(gen, n=60)
    xv, yv = toy_data(gen, n=30)
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 3))
    snapshots = []

    class Snap:
        def on_epoch_end(self, state):
            snapshots.append({k: v.detach().clone() for k, v in state.model.state_dict().items()})

    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5), (x, y), (xv, yv),
                 epochs=8, batch_size=16, quiet=True, device="cpu", callbacks=[Snap()], restore_best=True)
    best = max(hist.val_acc)
    assert hist.best_val_acc == best and hist.best_epoch == hist.val_acc.index(best) and hist.best_by == "val_acc"
    assert all(torch.equal(hist.best_state[k], snapshots[hist.best_epoch][k]) for k in hist.best_state)
    assert all(torch.equal(v, hist.best_state[k]) for k, v in model.state_dict().items())   # restored
    assert evaluate(model, (xv, yv))[1] == best


class StopAt:
    """An early-stopping stand-in: records the metrics it is given, says stop at the ``at``-th call."""

    def __init__(self, mode, at):
        self.mode, self.at, self.seen = mode, at, []

    def step(self, metric):
        self.seen.append(metric)
        return len(self.seen) >= self.at


@pytest.mark.parametrize("mode", ["max", "min"])
def test_early_stopping_gets_the_validation_metric_of_its_mode_and_can_stop(gen, mode):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    stopper = StopAt(mode, at=3)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), (x[:9], y[:9]),
                 epochs=10, batch_size=10, early_stopping=stopper, quiet=True, device="cpu")
    assert hist.epochs_run == 3 and hist.stop_reason == "early_stopping"
    assert stopper.seen == (hist.val_acc if mode == "max" else hist.val_loss)


def test_contract_early_stopping_object_plugs_in(gen):
    reg = pytest.importorskip("labkit.reference.regularization")
    if not hasattr(reg, "EarlyStopping"):
        pytest.skip("labkit.reference.regularization.EarlyStopping not written yet")
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.0), (x, y), (x, y),
                 epochs=20, early_stopping=reg.EarlyStopping(patience=2, mode="max"), quiet=True, device="cpu")
    assert hist.epochs_run == 3 and hist.stop_reason == "early_stopping"   # lr 0: never improves after epoch 0


def test_callbacks_see_every_step_and_can_stop_training(gen):
    x, y = toy_data(gen)
    calls = []

    class Spy:
        def on_train_begin(self, s): calls.append("begin")  # noqa: E704
        def on_before_step(self, s): calls.append("before")  # noqa: E704
        def on_step(self, s): calls.append(("step", s.iteration, s.epoch))  # noqa: E704
        def on_train_end(self, s): calls.append("end")  # noqa: E704

        def on_epoch_end(self, s):
            calls.append("epoch")
            s.stop = s.epoch == 1

    model = nn.Linear(4, 3)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=5,
                 batch_size=15, quiet=True, device="cpu", callbacks=[Spy()])
    assert calls == ["begin", "before", ("step", 0, 0), "before", ("step", 1, 0), "epoch",
                     "before", ("step", 2, 1), "before", ("step", 3, 1), "epoch", "end"]
    assert hist.epochs_run == 2 and hist.stop_reason == "callback"


def test_regression_targets_give_losses_and_no_accuracy():
    data = make_dropout_regression(64, generator=seeded(0))
    model = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 1))
    hist = train(model, nn.MSELoss(), torch.optim.Adam(model.parameters(), lr=1e-2), data, data, epochs=5,
                 batch_size=16, quiet=True, device="cpu")
    assert hist.train_acc == [] and hist.val_acc == [] and len(hist.val_loss) == 5
    assert hist.best_by == "val_loss" and hist.best_epoch == hist.val_loss.index(min(hist.val_loss))
    assert math.isnan(hist.best_val_acc)


def test_a_diverging_run_stops_with_reason_diverged(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    hist = train(model, lambda out, t: out.sum() * math.inf, torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=5, quiet=True, device="cpu")
    assert hist.stop_reason == "diverged" and hist.epochs_run == 1


# ----------------------------------------------------------------------------- interface
def test_bad_arguments_get_clear_errors(gen):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        train(model, nn.CrossEntropyLoss(), opt, (x, y), epochs=0, quiet=True)
    with pytest.raises(TypeError, match="model"):
        train(lambda v: v, nn.CrossEntropyLoss(), opt, (x, y), quiet=True)
    with pytest.raises(TypeError, match="train_data"):
        train(model, nn.CrossEntropyLoss(), opt, x, quiet=True)
    with pytest.raises(TypeError, match="scalar tensor"):
        train(model, lambda out, t: (out.sum(), out), opt, (x, y), quiet=True, device="cpu")
    with pytest.raises(TypeError, match="optimizer"):
        train(model, nn.CrossEntropyLoss(), 0.1, (x, y), quiet=True, device="cpu")


def test_progress_bar_is_shown_unless_quiet(gen, capsys):
    x, y = toy_data(gen)
    model = nn.Linear(4, 3)
    train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1,
          device="cpu")
    assert "training" in capsys.readouterr().err
    train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=1,
          device="cpu", quiet=True)
    assert capsys.readouterr().err == ""


def test_a_model_built_from_bridged_student_functions_trains_and_is_monitored(gen):
    bridges = pytest.importorskip("labkit.bridges")
    from labkit.monitor import ActivationStats
    from labkit.reference import affine_backward, affine_forward, relu_backward, relu_forward

    d = load_digits(seed=0, flatten=True)
    w1, w2 = 0.1 * torch.randn(32, 64, generator=gen), 0.1 * torch.randn(10, 32, generator=gen)
    model = nn.Sequential(bridges.FunctionLayer(affine_forward, affine_backward, w1, torch.zeros(32)),
                          bridges.FunctionLayer(relu_forward, relu_backward),
                          bridges.FunctionLayer(affine_forward, affine_backward, w2, torch.zeros(10)))
    with ActivationStats(model) as acts:
        hist = train(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2), d.train[:500],
                     d.val, epochs=3, batch_size=50, quiet=True, device="cpu")
    assert hist.val_acc[-1] > 0.8 and hist.loss[-1] < hist.loss[0]
    assert list(acts.history) == ["1"] and 0 <= acts.summary()["1"]["frac_dead"] < 1
