"""Interactive explorers for the notebooks (ipywidgets 8): one call each, redrawn in place.

=======================  ===========================================================
``activation_explorer``  depth × width × initialisation × scale × nonlinearity -> per-layer
                         activation histograms of a fresh deep MLP
``optimizer_explorer``   surface × update rule × learning rate × momentum -> the path
                         over the surface's contours and the loss along it
``schedule_explorer``    schedule × its parameters (× warm-up) -> the learning-rate curve
=======================  ===========================================================

In a Jupyter kernel each call returns an ``Explorer``: its controls sit above a picture, and every
change of a control redraws the picture (``Explorer.image``, a PNG) from the pure figure functions
of ``labkit.viz`` (``activation_figure``, ``optimizer_figure``, ``schedule_figure``). Outside a
kernel (a script, a test, nbconvert without widgets) the call returns the static Figure for the
given settings instead; ``interactive=True`` forces the explorer.

Example
-------
>>> from labkit.widgets import activation_explorer
>>> view = activation_explorer(depth=8, nonlinearity="tanh", init="normal", scale=0.05)   # or as a cell's last line
"""
from __future__ import annotations

import html
import io
from typing import Callable

import ipywidgets as W
from matplotlib.figure import Figure

from .surfaces import OPTIMIZERS, SURFACES
from .viz.explore import INITS, NONLINEARITIES, SCHEDULES, activation_figure, optimizer_figure, schedule_figure

__all__ = [
    "in_notebook", "Explorer", "ActivationExplorer", "OptimizerExplorer", "ScheduleExplorer",
    "activation_explorer", "optimizer_explorer", "schedule_explorer",
]


def in_notebook() -> bool:
    """True when running inside an IPython kernel (Jupyter), where widgets can be shown."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The figure rendered to PNG bytes (Agg, whatever the notebook's backend)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


_STYLE = {"description_width": "110px"}
_LAYOUT = {"width": "360px"}


def _slider(kind, description: str, **kw):
    return kind(description=description, continuous_update=False, style=_STYLE, layout=dict(_LAYOUT), **kw)


def _dropdown(description: str, options, value):
    return W.Dropdown(description=description, options=list(options), value=value, style=_STYLE,
                      layout=dict(_LAYOUT))


class Explorer:
    """Controls + a picture redrawn from ``figure_fn(**values)`` whenever a control changes.

    ``controls``: name -> ipywidgets value widget, the names being ``figure_fn``'s keyword
    arguments; ``fixed``: further keyword arguments passed unchanged. Attributes: ``controls``,
    ``image`` (an ``ipywidgets.Image`` holding the current PNG, ``png`` its bytes), ``figure`` (the current Figure),
    ``message`` (an HTML line showing an error, if drawing failed), ``widget`` (the whole box,
    what a notebook displays). Set a control's ``.value`` (by hand or in code) to redraw.
    """

    def __init__(self, figure_fn: Callable[..., Figure], controls: dict[str, W.ValueWidget],
                 fixed: dict | None = None, dpi: int = 80, columns: int = 2):
        self.figure_fn = figure_fn
        self.controls = dict(controls)
        self.fixed = dict(fixed or {})
        self.dpi = dpi
        self.figure: Figure | None = None
        self.image = W.Image(format="png", layout={"max_width": "100%"})
        self.message = W.HTML()
        self._holding = False
        boxes = list(self.controls.values())
        grid = W.GridBox(boxes, layout={"grid_template_columns": f"repeat({columns}, 370px)"})
        self.widget = W.VBox([grid, self.message, self.image])
        for ctrl in boxes:
            ctrl.observe(self._on_change, names="value")
        self.update()

    @property
    def png(self) -> bytes:
        """The picture shown now, as PNG bytes."""
        return bytes(self.image.value)

    def values(self) -> dict:
        """The current settings: control name -> value (hidden controls included)."""
        return {name: ctrl.value for name, ctrl in self.controls.items()}

    def arguments(self) -> dict:
        """The keyword arguments of ``figure_fn`` for the current settings."""
        return {**self.values(), **self.fixed}

    def update(self) -> Figure | None:
        """Redraw now; returns the new Figure (``None`` and a message when drawing failed)."""
        try:
            fig = self.figure_fn(**self.arguments())
        except Exception as exc:  # shown to the student instead of vanishing into the kernel log
            self.message.value = (f"<span style='color:#b00'>could not draw: "
                                  f"{html.escape(type(exc).__name__)}: {html.escape(str(exc))}</span>")
            return None
        self.message.value = ""
        self.figure = fig
        self.image.value = figure_png(fig, self.dpi)
        return fig

    def set(self, **values) -> Figure | None:
        """Set several controls at once and redraw a single time."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; the controls are {sorted(self.controls)}")
        self._holding = True
        try:
            for name, value in values.items():
                self.controls[name].value = value
        finally:
            self._holding = False
        return self.update()

    def _on_change(self, change) -> None:
        if not self._holding:
            self.update()

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


class ActivationExplorer(Explorer):
    """Per-layer activation histograms of a fresh MLP (see ``labkit.viz.activation_figure``).

    Controls: ``depth`` (1-12), ``width`` (units per layer), ``nonlinearity``, ``init``
    (``"normal"``: N(0, scale²); ``"xavier"``: gain = scale; ``"kaiming"``: times scale) and ``scale``
    (log slider 1e-3 .. 10). With ``init="normal"`` the width matters: the variance of a layer's
    output grows with it, while the Xavier and Kaiming laws divide it out.
    """

    def __init__(self, depth: int = 6, nonlinearity: str = "tanh", init: str = "xavier", scale: float = 1.0,
                 width: int = 256, n: int = 512, seed: int = 0):
        if isinstance(width, bool) or not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive integer, got {width!r}")
        controls = {
            "depth": _slider(W.IntSlider, "depth", value=depth, min=1, max=12),
            "width": _dropdown("width", sorted({16, 64, 256, 1024, width}), width),
            "nonlinearity": _dropdown("nonlinearity", NONLINEARITIES, nonlinearity),
            "init": _dropdown("init", INITS, init),
            "scale": _slider(W.FloatLogSlider, "scale", value=scale, base=10, min=-3, max=1, step=0.05,
                             readout_format=".3g"),
        }
        super().__init__(activation_figure, controls, fixed={"n": n, "seed": seed})


class OptimizerExplorer(Explorer):
    """An update rule's path over a 2-D surface (see ``labkit.viz.optimizer_figure``).

    Controls: ``surface``, ``optimizer``, ``learning_rate`` (log slider 1e-4 .. 3), ``momentum``
    (μ of the momentum methods, β₁ of Adam/AdamW), ``steps`` and ``compare_sgd`` (draw plain SGD
    with the same learning rate too).
    """

    def __init__(self, surface: str = "bowl", optimizer: str = "sgd_momentum", learning_rate: float = 0.1,
                 momentum: float = 0.9, steps: int = 100, compare_sgd: bool = True):
        controls = {
            "surface": _dropdown("surface", SURFACES, surface),
            "optimizer": _dropdown("optimizer", OPTIMIZERS, optimizer),
            "learning_rate": _slider(W.FloatLogSlider, "learning rate", value=learning_rate, base=10,
                                     min=-4, max=0.5, step=0.05, readout_format=".3g"),
            "momentum": _slider(W.FloatSlider, "momentum / β₁", value=momentum, min=0.0, max=0.99, step=0.01),
            "steps": _slider(W.IntSlider, "steps", value=steps, min=10, max=500, step=10),
            "compare_sgd": W.Checkbox(description="compare with plain SGD", value=compare_sgd, style=_STYLE),
        }
        super().__init__(self._draw, controls)

    @staticmethod
    def _draw(surface, optimizer, learning_rate, momentum, steps, compare_sgd) -> Figure:
        names = ["sgd", optimizer] if compare_sgd and optimizer != "sgd" else [optimizer]
        return optimizer_figure(surface, names, learning_rate, momentum, steps)


# every parameter any schedule takes, with its slider
def _schedule_param_controls() -> dict[str, W.ValueWidget]:
    log = dict(base=10, step=0.05, readout_format=".3g")
    return {
        "step_size": _slider(W.IntSlider, "step_size", value=30, min=1, max=500),
        "gamma": _slider(W.FloatSlider, "gamma", value=0.5, min=0.01, max=1.0, step=0.01),
        "k": _slider(W.FloatLogSlider, "k", value=0.05, min=-3, max=0, **log),
        "lr_min": _slider(W.FloatLogSlider, "lr_min", value=1e-4, min=-6, max=0, **log),
        "T_0": _slider(W.IntSlider, "T_0", value=20, min=1, max=500),
        "T_mult": _slider(W.IntSlider, "T_mult", value=2, min=1, max=4),
        "pct_start": _slider(W.FloatSlider, "pct_start", value=0.3, min=0.05, max=0.95, step=0.05),
        "div_factor": _slider(W.FloatLogSlider, "div_factor", value=25.0, min=0, max=3, **log),
        "final_div_factor": _slider(W.FloatLogSlider, "final_div_factor", value=1e4, min=0, max=5, **log),
    }


class ScheduleExplorer(Explorer):
    """A learning-rate schedule's curve (see ``labkit.viz.schedule_figure``).

    Controls: ``schedule`` (a key of ``labkit.viz.explore.SCHEDULES``), ``lr0`` (the initial or peak
    rate), ``total_steps``, ``warmup_steps``, ``log`` (log y axis) and the schedule's own
    parameters; only the chosen schedule's parameters are shown, and choosing a schedule resets
    them to its defaults.
    """

    def __init__(self, schedule: str = "cosine_annealing", lr0: float = 0.1, total_steps: int = 200,
                 warmup_steps: int = 0, log: bool = False, **params):
        if schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {sorted(SCHEDULES)}, got {schedule!r}")
        self._params = _schedule_param_controls()
        controls = {
            "schedule": _dropdown("schedule", SCHEDULES, schedule),
            "lr0": _slider(W.FloatLogSlider, "lr0 (peak)", value=lr0, base=10, min=-4, max=0, step=0.05,
                           readout_format=".3g"),
            "total_steps": _slider(W.IntSlider, "total_steps", value=total_steps, min=10, max=1000, step=10),
            "warmup_steps": _slider(W.IntSlider, "warmup_steps", value=warmup_steps, min=0, max=200),
            "log": W.Checkbox(description="log scale", value=log, style=_STYLE),
            **self._params,
        }
        for name, value in {**SCHEDULES[schedule], **params}.items():
            if name not in self._params:
                raise TypeError(f"{schedule} takes no parameter {name!r}")
            self._params[name].value = value
        self._show_params(schedule)
        super().__init__(self._draw, controls)

    def _show_params(self, schedule: str) -> None:
        for name, ctrl in self._params.items():
            ctrl.layout.display = None if name in SCHEDULES[schedule] else "none"

    def set(self, **values) -> Figure | None:
        """As ``Explorer.set``; a new ``schedule`` first brings its default parameters."""
        if "schedule" in values:
            name = values.pop("schedule")
            values = {"schedule": name, **SCHEDULES.get(name, {}), **values}
        return super().set(**values)

    def _on_change(self, change) -> None:
        """A new schedule: show its parameters, reset them to its defaults, redraw once."""
        if change["owner"] is self.controls["schedule"]:
            self._show_params(change["new"])
            if not self._holding:
                self.set(**SCHEDULES[change["new"]])
        else:
            super()._on_change(change)

    def _draw(self, schedule, lr0, total_steps, warmup_steps, log, **all_params) -> Figure:
        own = {name: all_params[name] for name in SCHEDULES[schedule]}
        warmup = min(warmup_steps, total_steps - 1)
        return schedule_figure(schedule, lr0, total_steps, warmup, log, **own)


def _explorer_or_figure(cls, figure: Callable[[], Figure], interactive: bool | None):
    if interactive is None:
        interactive = in_notebook()
    return cls() if interactive else figure()


def activation_explorer(depth: int = 6, nonlinearity: str = "tanh", init: str = "xavier", scale: float = 1.0,
                        *, width: int = 256, n: int = 512, seed: int = 0,
                        interactive: bool | None = None) -> ActivationExplorer | Figure:
    """Explore how depth, initialisation and nonlinearity shape the activations of a deep MLP.

    In Jupyter: an ``ActivationExplorer`` with controls for the five settings; elsewhere (or with
    ``interactive=False``) the static ``activation_figure`` for the given values.

    Example
    -------
    >>> view = activation_explorer(depth=10, nonlinearity="relu", init="kaiming")
    """
    args = dict(depth=depth, nonlinearity=nonlinearity, init=init, scale=scale, width=width, n=n, seed=seed)
    return _explorer_or_figure(lambda: ActivationExplorer(**args), lambda: activation_figure(**args), interactive)


def optimizer_explorer(surface: str = "bowl", optimizer: str = "sgd_momentum", learning_rate: float = 0.1,
                       momentum: float = 0.9, steps: int = 100, compare_sgd: bool = True, *,
                       interactive: bool | None = None) -> OptimizerExplorer | Figure:
    """Explore update rules on 2-D surfaces: pick the surface, the rule, its learning rate and momentum.

    In Jupyter: an ``OptimizerExplorer``; elsewhere (or with ``interactive=False``) the static
    figure for the given values.

    Example
    -------
    >>> view = optimizer_explorer("rosenbrock", "adam", learning_rate=0.05, steps=300)
    """
    args = dict(surface=surface, optimizer=optimizer, learning_rate=learning_rate, momentum=momentum,
                steps=steps, compare_sgd=compare_sgd)
    return _explorer_or_figure(lambda: OptimizerExplorer(**args), lambda: OptimizerExplorer._draw(**args),
                               interactive)


def schedule_explorer(schedule: str = "cosine_annealing", lr0: float = 0.1, total_steps: int = 200,
                      warmup_steps: int = 0, log: bool = False, *, interactive: bool | None = None,
                      **params) -> ScheduleExplorer | Figure:
    """Explore learning-rate schedules: pick one, move its parameters, add a linear warm-up.

    In Jupyter: a ``ScheduleExplorer``; elsewhere (or with ``interactive=False``) the static
    ``schedule_figure`` for the given values.

    Example
    -------
    >>> view = schedule_explorer("one_cycle", lr0=0.3, total_steps=500, pct_start=0.25)
    """
    return _explorer_or_figure(
        lambda: ScheduleExplorer(schedule, lr0, total_steps, warmup_steps, log, **params),
        lambda: schedule_figure(schedule, lr0, total_steps, warmup_steps, log, **params), interactive)
