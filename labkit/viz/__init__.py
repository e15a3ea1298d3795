"""Plot helpers of the labs (matplotlib): every function returns a ``matplotlib.figure.Figure``.

=============================  ==========================================================
``plot_loss``                  loss per iteration + moving average, optional log axis
``plot_accuracy``              train / validation accuracy per epoch
``plot_layer_histograms``      one histogram per layer, mean and std in the titles
``plot_update_ratios``         ‖Δw‖/‖w‖ per parameter over time, log axis, 1e-3 guide
``plot_schedule``              learning rate against the step (one or several schedules)
``plot_trajectories``          optimizer paths over a 2-D loss surface's contours
``plot_image_grid``            a grid of images with captions
``plot_first_layer_weights``   first-layer filters as images
``plot_search_results``        random-search trials on log axes, coloured by score
=============================  ==========================================================

The figures are built outside pyplot: in a notebook a returned figure shows once as the cell's
last expression (or with ``display(fig)``); in a script call ``fig.savefig("loss.png")``.

Example
-------
>>> from labkit import viz
>>> fig = viz.plot_loss([2.3 * 0.99 ** t for t in range(300)], log=True)
>>> fig.savefig("loss.png")
"""
from __future__ import annotations

from . import activations  # noqa: F401  (notebook 01's plots: viz.activations.plot_...)
from ._common import register_notebook_display
from .contours import plot_trajectories
from .initialization import plot_activation_grid, plot_loss_curves, plot_per_layer
from .explore import activation_figure, deep_net_activations, make_schedule, optimizer_figure, schedule_figure
from .layers import plot_first_layer_weights, plot_image_grid, plot_layer_histograms
from . import gradcheck  # noqa: F401  (notebook 00: labkit.viz.gradcheck)
from .normalization import (plot_accuracy_bars, plot_batch_noise, plot_feature_distributions,  # noqa: F401
                            plot_init_robustness, plot_running_stats, plot_whitening)
from .optimizers import plot_curves
from .regularization import plot_panels
from .practice import plot_decade_shares, plot_roc, plot_search  # noqa: F401  (notebook 08)
from .training import plot_accuracy, plot_loss, plot_schedule, plot_search_results, plot_update_ratios
from .schedules import plot_curves, plot_plateau_run, plot_range_test, plot_rate_and_loss, plot_warmup_runs  # noqa: F401

__all__ = [
    "plot_loss", "plot_accuracy", "plot_layer_histograms", "plot_update_ratios", "plot_schedule",
    "plot_trajectories", "plot_image_grid", "plot_first_layer_weights", "plot_search_results",
    "plot_per_layer", "plot_activation_grid", "plot_loss_curves",
    "deep_net_activations", "activation_figure", "optimizer_figure", "make_schedule", "schedule_figure",
]

register_notebook_display()
