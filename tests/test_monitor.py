"""labkit.monitor: the monitors report the right numbers on constructed cases and clean up their hooks."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from labkit.monitor import ActivationStats, GradientStats, UpdateRatioMonitor, layer_kind
from labkit.train import train

TOL = 1e-6


def constant_relu_net(bias: list[float]) -> nn.Sequential:
    """Linear(3, k) with zero weights and the given bias, then a ReLU: every sample gives relu(bias)."""
    lin = nn.Linear(3, len(bias))
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.copy_(torch.tensor(bias))
    return nn.Sequential(lin, nn.ReLU())


def test_an_all_dead_relu_layer_reports_100_percent_dead(gen):
    net = constant_relu_net([-1.0] * 8)
    with ActivationStats(net) as acts:
        net(torch.randn(16, 3, generator=gen))
    s = acts.summary()["1"]
    assert s["frac_dead"] == 1.0 and s["frac_zero"] == 1.0 and s["mean"] == 0.0 and s["std"] == 0.0
    assert math.isnan(s["frac_saturated"])


def test_half_dead_relu_layer_reports_half_dead(gen):
    net = constant_relu_net([-1.0, -2.0, 3.0, 1.0])
    with ActivationStats(net) as acts:
        net(torch.randn(10, 3, generator=gen))
    s = acts.summary()["1"]
    assert s["frac_dead"] == 0.5 and s["frac_zero"] == 0.5
    assert abs(s["mean"] - 1.0) < TOL                               # (0 + 0 + 3 + 1) / 4


def test_units_zero_for_some_samples_only_are_zeros_but_not_dead():
    net = nn.Sequential(nn.Identity(), nn.ReLU())
    x = torch.tensor([[1.0, -1.0], [-1.0, -1.0], [2.0, -3.0], [-2.0, -1.0]])   # unit 0 alive half the time
    with ActivationStats(net) as acts:
        net(x)
    s = acts.summary()["1"]
    assert s["frac_zero"] == 0.75 and s["frac_dead"] == 0.5


def test_tanh_and_sigmoid_saturation_fractions():
    x = torch.tensor([[-5.0, -1.0, 0.0, 1.0], [5.0, 10.0, 0.5, 3.0]])          # |x| > atanh(0.99)=2.65: 4 of 8
    z = torch.tensor([[-6.0, -1.0, 0.0, 1.0], [6.0, 10.0, 2.0, -5.0]])         # |z| > logit(0.99)=4.60: 4 of 8
    tanh, sig = nn.Sequential(nn.Tanh()), nn.Sequential(nn.Sigmoid())
    with ActivationStats(tanh) as a, ActivationStats(sig) as b:
        tanh(x)
        sig(z)
    assert a.summary()["0"]["frac_saturated"] == 0.5 and b.summary()["0"]["frac_saturated"] == 0.5


def test_mean_std_and_samples_match_the_layer_output(gen):
    net = nn.Sequential(nn.Linear(5, 300), nn.Tanh())
    x = torch.randn(64, 5, generator=gen)
    with ActivationStats(net, keep_samples=1000) as acts:
        out = net(x).detach()
    s = acts.summary()["1"]
    assert abs(s["mean"] - float(out.mean())) < TOL and abs(s["std"] - float(out.std(correction=0))) < TOL
    sample = acts.samples["1"]
    assert sample.ndim == 1 and 0 < sample.numel() <= 1000 and sample.device.type == "cpu"
    assert torch.equal(sample, out.detach().flatten()[::20])               # 19200 values, every 20th
    counts, edges = acts.histogram("1", bins=10)
    assert counts.sum() == sample.numel() and edges.shape == (11,)


def test_history_keeps_one_entry_per_forward_and_summary_can_average():
    net = nn.Sequential(nn.ReLU())
    with ActivationStats(net) as acts:
        net(torch.ones(2, 3))
        net(torch.full((2, 3), 3.0))
    assert len(acts.history["0"]) == 2
    assert acts.summary()["0"]["mean"] == 3.0 and acts.summary("mean")["0"]["mean"] == 2.0


def test_hooks_are_removed_on_exit():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid())
    with ActivationStats(net) as acts, GradientStats(net) as grads:
        net(torch.ones(2, 3)).sum().backward()
    assert all(not m._forward_hooks for m in net.modules())
    net(torch.ones(2, 3)).sum().backward()
    assert [len(v) for v in acts.history.values()] == [1, 1]
    assert [len(v) for v in grads.history.values()] == [1, 1]
    assert list(acts.history) == ["1", "3"]


def test_layer_selection_by_names_and_eval_mode_filter():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    with pytest.raises(ValueError, match="names"):
        ActivationStats(net, names=["nope"])
    with ActivationStats(net, names=["0"], record_eval=False) as acts:
        net(torch.ones(2, 3))
        net.eval()
        net(torch.ones(2, 3))
    assert list(acts.history) == ["0"] and len(acts.history["0"]) == 1


def test_layer_kind_by_type_or_by_class_name():
    class BridgedTanh(nn.Module):
        def forward(self, x):
            return torch.tanh(x)

    assert [layer_kind(m) for m in (nn.Tanh(), nn.Sigmoid(), nn.ReLU(), nn.GELU(), BridgedTanh())] == \
        ["tanh", "sigmoid", "relu", "other", "tanh"]


def test_gradient_stats_report_the_known_output_gradient(gen):
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    c = torch.tensor([1.0, -2.0, 0.0, 3.0])
    with GradientStats(net) as grads:
        (net(torch.randn(5, 3, generator=gen)) * c).sum().backward()      # dL/da = c for every sample
    g = c.expand(5, 4)
    s = grads.summary()["1"]
    assert abs(s["mean"] - float(g.mean())) < TOL and abs(s["norm"] - float(g.norm())) < TOL
    assert abs(s["std"] - float(g.std(correction=0))) < TOL
    assert s["frac_zero"] == 0.25 and s["frac_dead"] == 0.25
    assert torch.equal(grads.samples["1"], g.flatten())


def test_gradient_stats_record_nothing_without_a_backward_graph():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    with GradientStats(net) as grads, torch.no_grad():
        net(torch.ones(2, 3))
    assert grads.summary() == {}


def test_a_known_update_gives_the_known_ratio():
    w = nn.Parameter(torch.tensor([3.0, 4.0]))                      # ||w|| = 5
    model = nn.Module()
    model.w = w
    opt = torch.optim.SGD([w], lr=0.1)
    with UpdateRatioMonitor(model, opt) as mon:
        w.grad = torch.tensor([-3.0, -4.0])                          # update 0.1 * (3, 4): norm 0.5
        opt.step()
        w.grad = torch.tensor([0.0, 0.0])
        opt.step()                                                   # no update
    assert mon.ratios["w"] == pytest.approx([0.1, 0.0], abs=1e-7)
    opt.step()                                                       # after exit: not recorded
    assert len(mon.ratios["w"]) == 2 and mon.steps == 2


def test_manual_step_and_zero_weights_give_nan():
    model = nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, 0.0]]))
        model.bias.zero_()
    with UpdateRatioMonitor(model) as mon:
        with torch.no_grad():
            model.weight += torch.tensor([[0.0, 0.02]])
            model.bias += 1.0
        mon.step()
    assert mon.ratios["weight"] == pytest.approx([0.02]) and math.isnan(mon.ratios["bias"][0])
    assert mon.summary()["weight"]["last"] == pytest.approx(0.02)


def test_update_ratio_monitor_as_a_trainer_callback_records_every_step(gen):
    x, y = torch.randn(40, 3, generator=gen), torch.randint(0, 2, (40,), generator=gen)
    model = nn.Linear(3, 2)
    twin = nn.Linear(3, 2)
    twin.load_state_dict(model.state_dict())
    w0 = twin.weight.detach().clone()
    nn.functional.cross_entropy(twin(x), y).backward()               # full batch: the first step is known
    expected_first = float((0.1 * twin.weight.grad).norm() / w0.norm())
    mon = UpdateRatioMonitor(model)
    hist = train(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1), (x, y),
                 epochs=3, batch_size=40, quiet=True, device="cpu", callbacks=[mon])
    assert len(mon.ratios["weight"]) == len(mon.ratios["bias"]) == len(hist.loss) == 3
    assert mon.ratios["weight"][0] == pytest.approx(expected_first, rel=1e-4)


def test_monitors_work_on_the_device(device, gen):
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU()).to(device)
    with ActivationStats(net) as acts, GradientStats(net) as grads:
        net(torch.randn(6, 4, generator=gen).to(device)).sum().backward()
    assert acts.samples["1"].device.type == "cpu" and 0 <= acts.summary()["1"]["frac_dead"] <= 1
    assert grads.summary()["1"]["norm"] > 0


def test_gradient_samples_keep_the_model_layer_order():
    import torch
    from torch import nn

    from labkit.monitor import GradientStats

    model = nn.Sequential(nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(), nn.Linear(4, 2))
    with GradientStats(model) as grads:
        model(torch.randn(8, 4, generator=torch.Generator().manual_seed(0))).sum().backward()
    assert list(grads.samples) == ["1", "3"]
