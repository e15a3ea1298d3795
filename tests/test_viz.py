"""labkit.viz plot helpers: each renders to PNG under Agg and draws the expected artists."""
from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import PathCollection  # noqa: E402
from matplotlib.contour import ContourSet  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from labkit import viz  # noqa: E402
from labkit.surfaces import quadratic_bowl, run_optimizer  # noqa: E402
from labkit.viz._common import moving_average  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def render(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    return buf.getvalue()


def gd(w, dw, config):
    return w - config["learning_rate"] * dw, config


def visible_axes(fig: Figure):
    return [ax for ax in fig.axes if ax.get_visible()]


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture
def losses(gen):
    t = torch.arange(400, dtype=torch.float64)
    return (2.3 * torch.exp(-t / 100) + 0.1 + 0.1 * torch.rand(400, generator=gen, dtype=torch.float64)).tolist()


def search_results():
    rng = np.random.default_rng(0)
    out = []
    for _ in range(30):
        lr, wd = 10 ** rng.uniform(-5, -1), 10 ** rng.uniform(-6, -2)
        out.append(({"learning_rate": lr, "weight_decay": wd, "act": "relu"},
                    -((math.log10(lr) + 2.5) ** 2) if lr < 0.05 else float("nan")))
    return out


# one call of every helper, for the render-to-PNG check
BUILDERS = {
    "loss": lambda: viz.plot_loss([3.0 / (t + 1) for t in range(200)], log=True),
    "accuracy": lambda: viz.plot_accuracy([0.5, 0.7, 0.9], [0.4, 0.6, 0.65]),
    "layer_histograms": lambda: viz.plot_layer_histograms({"a": torch.randn(500), "b": torch.randn(500) * 0.1}),
    "update_ratios": lambda: viz.plot_update_ratios({"w1": [1e-3, 2e-3], "w2": [1e-4, 5e-5]}),
    "schedule": lambda: viz.plot_schedule(lambda t: 0.1 * 0.9 ** t, steps=50),
    "trajectories": lambda: viz.plot_trajectories("bowl", run_optimizer("bowl", gd, steps=20, learning_rate=0.5)),
    "image_grid": lambda: viz.plot_image_grid(torch.rand(6, 3, 8, 8)),
    "first_layer_weights": lambda: viz.plot_first_layer_weights(torch.randn(10, 64)),
    "search_results": lambda: viz.plot_search_results(search_results(), "learning_rate", "weight_decay"),
}


@pytest.mark.parametrize("name", BUILDERS)
def test_every_helper_returns_a_figure_that_renders_to_png(name):
    fig = BUILDERS[name]()
    assert isinstance(fig, Figure)
    png = render(fig)
    assert png.startswith(PNG_MAGIC) and len(png) > 2000


def test_moving_average_is_the_trailing_mean():
    x = np.array([1.0, 3.0, 5.0, 7.0, 9.0])
    assert np.allclose(moving_average(x, 2), [1.0, 2.0, 4.0, 6.0, 8.0])
    assert np.allclose(moving_average(x, 10), np.cumsum(x) / np.arange(1, 6))
    with pytest.raises(ValueError, match="window"):
        moving_average(x, 0)


def test_loss_plot_draws_raw_and_smoothed_curves_on_a_log_axis(losses):
    fig = viz.plot_loss(losses, log=True, window=20)
    (ax,) = fig.axes
    raw, smooth = ax.get_lines()
    assert np.allclose(raw.get_ydata(), losses)
    assert np.allclose(smooth.get_ydata(), moving_average(np.array(losses), 20))
    assert ax.get_yscale() == "log" and ax.get_title() == "Training loss"
    assert legend_texts(ax) == ["per iteration", "moving average (20)"]


def test_loss_plot_accepts_tensors_and_skips_smoothing_for_short_runs():
    fig = viz.plot_loss(torch.tensor([2.0, 1.5, 1.2]))
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 1 and ax.get_yscale() == "linear"


def test_loss_plot_rejects_bad_input():
    with pytest.raises(ValueError, match="log"):
        viz.plot_loss([1.0, 0.0, -1.0], log=True)
    with pytest.raises(ValueError, match="1-D"):
        viz.plot_loss(np.ones((3, 3)))
    with pytest.raises(ValueError, match="empty"):
        viz.plot_loss([])
    with pytest.raises(TypeError, match="ax"):
        viz.plot_loss([1.0], ax="left")


def test_loss_plot_draws_into_a_given_axes():
    fig = Figure()
    ax1, ax2 = fig.subplots(1, 2)
    assert viz.plot_loss([1.0, 0.5], ax=ax2) is fig
    assert len(ax2.get_lines()) == 1 and not ax1.get_lines()


def test_accuracy_plot_has_train_and_val_per_epoch_and_final_values_in_title():
    fig = viz.plot_accuracy([0.5, 0.7, 0.9], [0.4, 0.6, 0.65])
    (ax,) = fig.axes
    train, val = ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3] and list(val.get_ydata()) == [0.4, 0.6, 0.65]
    assert "train 0.900" in ax.get_title() and "val 0.650" in ax.get_title()
    assert legend_texts(ax) == ["train", "validation"] and ax.get_xlabel() == "epoch"
    with pytest.raises(ValueError, match="val_acc"):
        viz.plot_accuracy([0.5, 0.7], [0.4])


def test_layer_histograms_one_panel_per_layer_with_mean_and_std_titles(gen):
    samples = {f"layer {i}": torch.randn(2000, generator=gen) * 0.5 ** i for i in range(1, 5)}
    fig = viz.plot_layer_histograms(samples, bins=30, kind="gradients")
    axes = visible_axes(fig)
    assert len(axes) == 4
    for ax, (name, v) in zip(axes, samples.items()):
        assert len(ax.patches) == 30
        title = ax.get_title()
        assert title.startswith(name)
        assert f"mean {float(v.mean()):+.2g}" in title and f"std {float(v.std(correction=0)):.2g}" in title
        assert ax.get_xlabel() == "gradients"
    assert len({ax.get_xlim() for ax in axes}) == 1
    assert fig.get_suptitle() == "Gradients per layer"


def test_layer_histograms_wrap_into_balanced_rows_and_report_dead_units():
    samples = {f"h{i}": torch.relu(torch.linspace(-1, 1, 101)) for i in range(8)}
    fig = viz.plot_layer_histograms(samples, range=(0.0, 1.0))
    axes = visible_axes(fig)
    assert len(axes) == 8
    assert len({ax.get_position().y0 for ax in axes}) == 2  # two rows of four
    assert "50% zeros" in axes[0].get_title() and axes[0].get_xlim() == (0.0, 1.0)
    bars = sum(p.get_height() for p in axes[0].patches)
    fig = viz.plot_layer_histograms(samples, range=(0.0, 1.0), skip_zeros=True)
    first = visible_axes(fig)[0]
    assert "50% zeros (not drawn)" in first.get_title()
    n_zero = int((samples["h0"] == 0).sum())
    assert bars == 101 and sum(p.get_height() for p in first.patches) == 101 - n_zero


def test_layer_histograms_survive_non_finite_values_and_reject_bad_input():
    fig = viz.plot_layer_histograms({"ok": [0.0, 1.0, 2.0], "nan": [float("nan")] * 3})
    assert "no finite values" in visible_axes(fig)[1].get_title()
    with pytest.raises(TypeError, match="samples"):
        viz.plot_layer_histograms({})
    with pytest.raises(ValueError, match="bins"):
        viz.plot_layer_histograms({"a": [1.0]}, bins=0)


def test_update_ratios_log_axis_one_line_per_parameter_and_the_guide():
    ratios = {"fc1.weight": [2e-3, 1e-3, 8e-4], "fc2.weight": [5e-4, 4e-4, 3e-4]}
    fig = viz.plot_update_ratios(ratios)
    (ax,) = fig.axes
    lines = ax.get_lines()
    assert len(lines) == 3 and ax.get_yscale() == "log"
    assert np.allclose(lines[0].get_ydata(), ratios["fc1.weight"])
    assert np.allclose(lines[2].get_ydata(), 1e-3) and lines[2].get_linestyle() == "--"
    assert legend_texts(ax) == ["fc1.weight", "fc2.weight", "guide 0.001"]
    with pytest.raises(TypeError, match="ratios"):
        viz.plot_update_ratios([1e-3, 1e-3])


def test_update_ratios_of_a_frozen_parameter_leave_a_gap_instead_of_failing():
    fig = viz.plot_update_ratios({"frozen": [0.0, 0.0, 1e-3], "never updated": []})
    assert render(fig).startswith(PNG_MAGIC)
    assert legend_texts(fig.axes[0]) == ["frozen", "guide 0.001"]
    with pytest.raises(ValueError, match="empty"):
        viz.plot_update_ratios({"a": [], "b": []})


def test_schedule_plot_evaluates_a_function_at_every_step():
    fig = viz.plot_schedule(lambda t: 0.1 * 0.5 ** (t // 10), steps=40, log=True)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    assert list(line.get_xdata()) == list(range(40))
    assert np.allclose(line.get_ydata(), [0.1 * 0.5 ** (t // 10) for t in range(40)])
    assert ax.get_yscale() == "log" and ax.get_ylabel().startswith("learning rate")


def test_schedule_plot_compares_several_schedules_given_as_lists_or_functions():
    fig = viz.plot_schedule({"constant": [0.1] * 30, "linear": lambda t: 0.1 * (1 - t / 30)}, steps=30)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2 and legend_texts(ax) == ["constant", "linear"]
    with pytest.raises(ValueError, match="steps"):
        viz.plot_schedule(lambda t: 0.1)


def test_trajectories_over_contours_of_the_surface_window():
    bowl = quadratic_bowl()
    paths = {"lr 0.5": run_optimizer(bowl, gd, steps=30, learning_rate=0.5),
             "lr 1.5": run_optimizer(bowl, gd, steps=30, learning_rate=1.5)}
    fig = viz.plot_trajectories(bowl, paths)
    (ax,) = fig.axes
    assert sum(isinstance(c, ContourSet) for c in ax.collections) == 2  # filled + lines
    lines = ax.get_lines()
    assert len(lines) == 4  # two paths, the start, the minimum
    assert np.allclose(lines[1].get_xydata(), paths["lr 1.5"].numpy())
    assert ax.get_xlim() == bowl.xlim and ax.get_ylim() == bowl.ylim
    assert ax.get_title() == bowl.name
    assert legend_texts(ax) == ["lr 0.5", "lr 1.5", "start", "minimum"]


def test_trajectories_accept_a_single_path_and_a_surface_without_minimum():
    fig = viz.plot_trajectories("saddle", torch.tensor([[-1.8, 0.01], [-1.0, 0.02]]))
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2  # the path and the start
    with pytest.raises(ValueError, match=r"\(T, 2\)"):
        viz.plot_trajectories("saddle", torch.zeros(5, 3))


def test_image_grid_one_image_per_sample_with_labels(gen):
    x = torch.rand(7, 3, 8, 8, generator=gen)  # (N, C, H, W)
    fig = viz.plot_image_grid(x, labels=list("abcdefg"), title="seven")
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 7
    assert images[0].get_array().shape == (8, 8, 3)
    assert np.allclose(images[2].get_array(), x[2].permute(1, 2, 0).numpy())
    assert [ax.get_title() for ax in fig.axes if ax.get_images()] == list("abcdefg")
    assert fig.get_suptitle() == "seven"


def test_image_grid_rescales_out_of_range_images_and_rejects_bad_shapes():
    x = np.stack([np.full((5, 5), -3.0), np.linspace(-2, 6, 25).reshape(5, 5)])  # (N, H, W)
    fig = viz.plot_image_grid(x)
    arr = [im.get_array() for ax in fig.axes for im in ax.get_images()]
    assert float(arr[1].min()) == 0.0 and float(arr[1].max()) == 1.0
    with pytest.raises(ValueError, match="shape"):
        viz.plot_image_grid(torch.rand(2, 5, 8, 8))
    with pytest.raises(ValueError, match="labels"):
        viz.plot_image_grid(torch.rand(2, 1, 8, 8), labels=["one"])


def test_first_layer_weights_of_an_affine_layer_are_drawn_as_images():
    w = torch.randn(12, 64)
    w[0] = torch.arange(64.0) - 20.0  # signed: 0 maps to mid grey, +max to 1
    fig = viz.plot_first_layer_weights(w, image_shape=(8, 8))
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 12 and images[0].get_array().shape == (8, 8)
    first = images[0].get_array()
    assert math.isclose(float(first.max()), 1.0) and math.isclose(float(first.flat[20]), 0.5)
    assert images[0].get_cmap().name == "RdBu_r"
    assert fig.get_suptitle() == "First-layer weights"


def test_first_layer_weights_of_colour_convs_and_shape_guessing():
    fig = viz.plot_first_layer_weights(torch.randn(100, 3, 5, 5), max_filters=16)
    images = [im for ax in fig.axes for im in ax.get_images()]
    assert len(images) == 16 and images[0].get_array().shape == (5, 5, 3)
    fig = viz.plot_first_layer_weights(torch.randn(4, 3 * 4 * 4))  # guessed (3, 4, 4)
    assert [im for ax in fig.axes for im in ax.get_images()][0].get_array().shape == (4, 4, 3)
    with pytest.raises(ValueError, match="image_shape"):
        viz.plot_first_layer_weights(torch.randn(4, 10))


def test_search_results_on_log_axes_coloured_by_score_with_the_best_starred():
    res = search_results()
    fig = viz.plot_search_results(res, "learning_rate", "weight_decay")
    ax, cbar = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log" and cbar.get_ylabel() == "score"
    scatters = [c for c in ax.collections if isinstance(c, PathCollection)]
    n_ok = sum(math.isfinite(s) for _, s in res)
    assert [len(c.get_offsets()) for c in scatters] == [n_ok, len(res) - n_ok, 1]
    best = max((r for r in res if math.isfinite(r[1])), key=lambda r: r[1])
    assert np.allclose(scatters[2].get_offsets()[0], [best[0]["learning_rate"], best[0]["weight_decay"]])
    assert legend_texts(ax) == ["diverged", f"best: {best[1]:.4g}"]
    assert ax.get_title() == "Hyper-parameter search (30 trials)"


def test_search_results_score_against_one_parameter_and_bad_keys():
    fig = viz.plot_search_results(search_results(), "learning_rate")
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "linear" and ax.get_ylabel() == "score"
    with pytest.raises(ValueError, match="momentum"):
        viz.plot_search_results(search_results(), "momentum")
    with pytest.raises(TypeError, match="numeric"):
        viz.plot_search_results(search_results(), "act")
    with pytest.raises(TypeError, match="results"):
        viz.plot_search_results([], "learning_rate")


def test_figures_get_a_png_formatter_in_ipython_without_pyplot():
    from types import SimpleNamespace

    from IPython.core.formatters import DisplayFormatter

    from labkit.viz import register_notebook_display

    shell = SimpleNamespace(display_formatter=DisplayFormatter())
    assert register_notebook_display(shell) is True
    assert register_notebook_display(shell) is False  # already there: left alone
    data, _ = shell.display_formatter.format(viz.plot_loss([1.0, 0.5]))
    assert data["image/png"][:8] == PNG_MAGIC
    assert register_notebook_display() is False  # no IPython shell in the test process
