"""labkit.widgets explorers and the pure figure functions behind them (labkit.viz.explore)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from labkit import reference as R  # noqa: E402
from labkit import widgets  # noqa: E402
from labkit.surfaces import run_optimizer  # noqa: E402
from labkit.viz.explore import (  # noqa: E402
    SCHEDULES, activation_figure, deep_net_activations, make_schedule, optimizer_figure, schedule_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SMALL = {"width": 64, "n": 128}  # a small net keeps the tests fast


def stds(acts: dict) -> list[float]:
    return [float(v.std()) for v in acts.values()]


def visible_axes(fig: Figure):
    return [ax for ax in fig.axes if ax.get_visible()]


def line_ydata(fig: Figure) -> np.ndarray:
    return np.asarray(fig.axes[0].get_lines()[0].get_ydata())


# ---- the pure figure functions ------------------------------------------------------------------

def test_deep_net_activations_one_flat_sample_per_layer_and_reproducible():
    a = deep_net_activations(4, "tanh", "xavier", 1.0, generator=torch.Generator().manual_seed(3), **SMALL)
    b = deep_net_activations(4, "tanh", "xavier", 1.0, generator=torch.Generator().manual_seed(3), **SMALL)
    assert list(a) == ["layer 1", "layer 2", "layer 3", "layer 4"]
    assert all(v.shape == (128 * 64,) for v in a.values())
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_tiny_gaussian_init_makes_tanh_activations_vanish_layer_after_layer(gen):
    s = stds(deep_net_activations(6, "tanh", "normal", 0.01, generator=gen, **SMALL))
    assert all(later < 0.2 * earlier for earlier, later in zip(s, s[1:]))


def test_unit_gaussian_init_saturates_tanh(gen):
    acts = deep_net_activations(3, "tanh", "normal", 1.0, generator=gen, **SMALL)
    assert float((acts["layer 3"].abs() > 0.99).float().mean()) > 0.5


def test_kaiming_keeps_relu_activations_at_one_scale_through_depth(gen):
    s = stds(deep_net_activations(10, "relu", "kaiming", 1.0, generator=gen, **SMALL))
    assert 0.4 < s[-1] / s[0] < 2.5


def test_deep_net_activations_reject_bad_settings():
    with pytest.raises(ValueError, match="nonlinearity"):
        deep_net_activations(3, "swish")
    with pytest.raises(ValueError, match="init"):
        deep_net_activations(3, "tanh", "orthogonal")
    with pytest.raises(ValueError, match="depth"):
        deep_net_activations(0)
    with pytest.raises(ValueError, match="scale"):
        deep_net_activations(3, scale=0.0)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid", "leaky_relu", "elu", "linear"])
def test_activation_figure_has_one_histogram_per_layer(nonlinearity):
    fig = activation_figure(3, nonlinearity, "kaiming", 1.0, **SMALL)
    assert len(visible_axes(fig)) == 3
    assert fig.get_suptitle().startswith(f"{nonlinearity} activations, kaiming init")


def test_optimizer_figure_draws_the_paths_of_run_optimizer_and_their_loss():
    fig = optimizer_figure("bowl", ["sgd", "sgd_momentum"], learning_rate=0.1, momentum=0.9, steps=40)
    ax_path, ax_loss = fig.axes
    expected = run_optimizer("bowl", "sgd_momentum", steps=40, learning_rate=0.1, momentum=0.9)
    assert np.allclose(ax_path.get_lines()[1].get_xydata(), expected.numpy())
    assert ax_loss.get_yscale() == "log" and len(ax_loss.get_lines()) == 2
    assert "learning rate 0.1" in fig.get_suptitle()


def test_optimizer_figure_marks_a_diverged_run_and_uses_a_linear_axis_without_minimum():
    fig = optimizer_figure("rosenbrock", ["sgd", "adam"], learning_rate=0.05, steps=50)
    labels = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert labels == ["sgd (diverged)", "adam"]
    fig = optimizer_figure("saddle", "rmsprop", learning_rate=0.05, steps=30)
    assert fig.axes[1].get_yscale() == "linear" and fig.axes[1].get_ylabel() == "f(w)"


def test_make_schedule_computes_with_torch_the_schedules_the_references_compute():
    f = make_schedule("step_decay", lr0=0.2, total_steps=100, step_size=10, gamma=0.5)
    assert [f(t) for t in (0, 9, 10, 35)] == [R.step_decay(t, 0.2, 10, 0.5) for t in (0, 9, 10, 35)]
    g = make_schedule("one_cycle", lr0=0.3, total_steps=100)
    assert g(50) == pytest.approx(R.one_cycle(50, 0.3, 100))


def test_make_schedule_with_warmup_starts_at_zero_and_ends_on_time():
    f = make_schedule("cosine_annealing", lr0=0.1, total_steps=100, warmup_steps=10, lr_min=0.0)
    assert f(0) == 0.0
    assert f(10) == pytest.approx(0.1)
    assert f(10 + 45) == pytest.approx(R.cosine_annealing(45, 0.1, 90, 0.0))


def test_make_schedule_rejects_unknown_names_and_parameters():
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_schedule("polynomial")
    with pytest.raises(TypeError, match="gamma"):
        make_schedule("cosine_annealing", gamma=0.5)
    with pytest.raises(ValueError, match="warmup_steps"):
        make_schedule("cosine_annealing", total_steps=10, warmup_steps=10)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedule_figure_draws_every_schedule(name):
    fig = schedule_figure(name, lr0=0.1, total_steps=60)
    sched = make_schedule(name, 0.1, 60)
    assert np.allclose(line_ydata(fig), [sched(t) for t in range(60)])
    assert fig.axes[0].get_title().startswith(name)


# ---- the explorers -------------------------------------------------------------------------------

def test_outside_a_kernel_each_explorer_call_returns_the_static_figure():
    assert not widgets.in_notebook()
    assert isinstance(widgets.activation_explorer(depth=2, width=32, n=16), Figure)
    assert isinstance(widgets.optimizer_explorer(steps=10), Figure)
    assert isinstance(widgets.schedule_explorer("step_decay", step_size=5), Figure)


def test_activation_explorer_redraws_when_depth_is_set():
    ex = widgets.activation_explorer(depth=3, interactive=True, **SMALL)
    assert isinstance(ex, widgets.ActivationExplorer)
    assert set(ex.controls) == {"depth", "width", "nonlinearity", "init", "scale"}
    before = ex.png
    assert before.startswith(PNG_MAGIC) and len(visible_axes(ex.figure)) == 3
    ex.controls["depth"].value = 5
    assert len(visible_axes(ex.figure)) == 5 and ex.png != before


def test_activation_explorer_redraws_for_nonlinearity_init_and_scale():
    ex = widgets.ActivationExplorer(depth=2, **SMALL)
    seen = {ex.png}
    ex.controls["nonlinearity"].value = "relu"
    assert ex.figure.get_suptitle().startswith("relu")
    seen.add(ex.png)
    ex.controls["init"].value = "normal"
    seen.add(ex.png)
    ex.controls["scale"].value = 0.01
    assert "scale 0.01" in ex.figure.get_suptitle()
    seen.add(ex.png)
    assert len(seen) == 4


def test_activation_explorer_width_control_scales_a_raw_normal_init_and_not_kaiming():
    ex = widgets.ActivationExplorer(depth=2, nonlinearity="linear", init="normal", scale=0.1, width=16, n=64)
    assert "width 16" in ex.figure.get_suptitle()
    narrow = ex.figure.axes[1].get_title()
    ex.controls["width"].value = 256  # each layer multiplies the variance by width * 0.01: 0.16 -> 2.56
    assert "width 256" in ex.figure.get_suptitle() and ex.figure.axes[1].get_title() != narrow
    std = lambda title: float(title.split("std ")[1].split()[0])  # noqa: E731
    assert std(ex.figure.axes[1].get_title()) > 5 * std(narrow)
    with pytest.raises(ValueError, match="width"):
        widgets.ActivationExplorer(width=0)


def test_optimizer_explorer_redraws_the_path_for_a_new_learning_rate_and_surface():
    ex = widgets.optimizer_explorer(steps=30, interactive=True)
    path_before = ex.figure.axes[0].get_lines()[1].get_xydata()
    png_before = ex.png
    ex.controls["learning_rate"].value = 0.02
    path_after = ex.figure.axes[0].get_lines()[1].get_xydata()
    assert not np.allclose(path_before, path_after) and ex.png != png_before
    expected = run_optimizer("bowl", "sgd_momentum", steps=30, learning_rate=0.02, momentum=0.9)
    assert np.allclose(path_after, expected.numpy())
    ex.controls["surface"].value = "rosenbrock"
    assert ex.figure.axes[0].get_title() == "Rosenbrock"


def test_optimizer_explorer_compare_box_adds_or_removes_plain_sgd():
    ex = widgets.OptimizerExplorer(optimizer="adam", learning_rate=0.3, steps=20)
    assert len(ex.figure.axes[1].get_lines()) == 2
    ex.controls["compare_sgd"].value = False
    assert [t.get_text() for t in ex.figure.axes[1].get_legend().get_texts()] == ["adam"]


def test_schedule_explorer_shows_only_the_chosen_schedules_parameters():
    ex = widgets.schedule_explorer("cosine_annealing", total_steps=100, interactive=True)
    shown = {n for n, c in ex.controls.items() if c.layout.display != "none"}
    assert {"lr_min"} <= shown and not {"gamma", "step_size", "T_0"} & shown
    before = ex.png
    ex.controls["schedule"].value = "step_decay"
    shown = {n for n, c in ex.controls.items() if c.layout.display != "none"}
    assert {"step_size", "gamma"} <= shown and "lr_min" not in shown
    assert ex.controls["gamma"].value == SCHEDULES["step_decay"]["gamma"]
    expected = make_schedule("step_decay", 0.1, 100, **SCHEDULES["step_decay"])
    assert np.allclose(line_ydata(ex.figure), [expected(t) for t in range(100)])
    assert ex.png != before


def test_schedule_explorer_parameters_and_warmup_change_the_curve():
    ex = widgets.ScheduleExplorer("step_decay", total_steps=60, step_size=10)
    ex.controls["gamma"].value = 0.25
    assert line_ydata(ex.figure)[25] == pytest.approx(0.1 * 0.25 ** 2)
    ex.controls["warmup_steps"].value = 5
    assert line_ydata(ex.figure)[0] == 0.0
    ex.set(schedule="one_cycle", pct_start=0.5)  # explicit values win over the new defaults
    assert ex.controls["pct_start"].value == 0.5 and ex.controls["div_factor"].value == 25.0
    assert ex.figure.axes[0].get_title().startswith("one_cycle")


def test_set_changes_several_controls_with_a_single_redraw():
    calls = []

    def figure_fn(a, b):
        calls.append((a, b))
        fig = Figure()
        fig.add_subplot().plot([a, b])
        return fig

    ex = widgets.Explorer(figure_fn, {"a": W.IntSlider(value=1), "b": W.IntSlider(value=2)})
    ex.set(a=5, b=7)
    assert calls == [(1, 2), (5, 7)]
    ex.controls["a"].value = 6
    assert calls[-1] == (6, 7)
    with pytest.raises(ValueError, match="unknown control"):
        ex.set(c=1)


def test_a_failing_draw_shows_a_message_and_keeps_the_last_picture():
    def figure_fn(x):
        if x < 0:
            raise ValueError("x must be >= 0")
        fig = Figure()
        fig.add_subplot().plot([0, x])
        return fig

    ex = widgets.Explorer(figure_fn, {"x": W.IntSlider(value=1, min=-5, max=5)})
    good = ex.png
    ex.controls["x"].value = -1
    assert "x must be &gt;= 0" in ex.message.value and ex.png == good
    ex.controls["x"].value = 2
    assert ex.message.value == "" and ex.png != good


def test_explorer_displays_as_its_widget_box():
    ex = widgets.Explorer(lambda x: Figure(), {"x": W.IntSlider(value=1)})
    assert isinstance(ex.widget, W.VBox) and ex.image in ex.widget.children
    assert "application/vnd.jupyter.widget-view+json" in ex._repr_mimebundle_()


@pytest.mark.parametrize("name", sorted(SCHEDULES))
@pytest.mark.parametrize("warmup", [0, 7])
def test_every_schedule_of_the_explorer_equals_the_reference_at_every_step(name, warmup):
    total = 90
    f = make_schedule(name, lr0=0.2, total_steps=total, warmup_steps=warmup)
    kwargs = dict(SCHEDULES[name])
    if name in ("linear_decay", "cosine_annealing", "one_cycle"):
        kwargs["total_steps"] = total - warmup
    peak = "lr_max" if name in ("triangular_cyclic", "one_cycle") else "lr0"
    ref = lambda t: getattr(R, name)(t, **{peak: 0.2}, **kwargs)  # noqa: E731
    ref = R.with_linear_warmup(ref, warmup) if warmup else ref
    for t in range(total + 1):
        assert f(t) == pytest.approx(ref(t), rel=1e-9, abs=1e-12), (name, warmup, t)
