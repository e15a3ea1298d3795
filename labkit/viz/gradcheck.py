"""Plots of notebook 00 (gradient checking): each takes what an experiment of ``labkit.experiments.gradcheck``
returned and gives a ``matplotlib.figure.Figure`` with labelled axes, a legend and a title that says what
to see.

Example
-------
>>> from labkit.viz import gradcheck as gviz
>>> fig = gviz.plot_rel_errors(["correct", "bug"], [1e-10, 0.5], title="two checks")
"""
from __future__ import annotations

import math

from matplotlib.figure import Figure

__all__ = ["REL_ERROR_BANDS", "shade_rel_error_bands", "plot_step_sizes", "plot_rel_errors", "plot_flat_sampling",
           "plot_overflow", "plot_initial_loss", "plot_kinks", "plot_regularisation", "plot_ce_against_mse"]

REL_ERROR_BANDS = [  # (low, high, colour, meaning): the rules of thumb of section 1.5
    (1e-2, 1e3, "tab:red", "> 1e-2  probably wrong"),
    (1e-4, 1e-2, "tab:orange", "1e-4 .. 1e-2  suspicious"),
    (1e-7, 1e-4, "gold", "1e-7 .. 1e-4  OK only with kinks"),
    (1e-30, 1e-7, "tab:green", "< 1e-7  good"),
]


def _figure(width: float, height: float, cols: int = 1, **kwargs):
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(1, cols, **kwargs)
    return fig, axes


def _need(m: dict, keys, what: str) -> None:
    if not isinstance(m, dict):
        raise TypeError(f"{what}: expected the dict an experiment returned, got {type(m).__name__}")
    missing = [k for k in keys if k not in m]
    if missing:
        raise ValueError(f"{what}: the experiment's result lacks {missing}")


def _floor(values, low=1e-17):
    return [max(v, low) if math.isfinite(v) else float("nan") for v in values]


def shade_rel_error_bands(ax, axis: str = "y") -> None:
    """Colour the rule-of-thumb bands of the relative error along ``axis`` ("x" or "y") of a log-scale plot."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis is 'x' or 'y', got {axis!r}")
    for low, high, colour, meaning in REL_ERROR_BANDS:
        (ax.axvspan if axis == "x" else ax.axhspan)(low, high, color=colour, alpha=0.15, lw=0, label=meaning)


def plot_step_sizes(m: dict) -> Figure:
    """Error of the centred and one-sided differences against h, one panel per dtype (from ``step_sizes``)."""
    _need(m, ("hs", "errors", "fit_range"), "plot_step_sizes")
    fig, axes = _figure(11, 4.2, 2, sharey=True)
    hs = m["hs"]
    for ax, dtype in zip(axes, ("float64", "float32")):
        eps = 2.0 ** -52 if dtype == "float64" else 2.0 ** -23
        for formula, colour in (("forward", "tab:orange"), ("centred", "tab:blue")):
            errs = _floor(m["errors"][dtype][formula])
            ax.loglog(hs, errs, "o-", ms=3, color=colour, label=f"{formula} difference")
            best = min(range(len(errs)), key=lambda i: errs[i])
            ax.plot(hs[best], errs[best], "*", ms=14, color=colour, mec="k")
            ax.annotate(f"best h = {hs[best]:.0e}", (hs[best], errs[best]), xytext=(0, -16),
                        textcoords="offset points", ha="center", fontsize=8, color=colour)
        ax.loglog(hs, [eps / h for h in hs], "k:", lw=1, label=r"rounding: $\varepsilon / h$")
        ax.axvspan(*m["fit_range"], color="tab:gray", alpha=0.12, lw=0, label="range of the fitted slopes")
        ax.set(title=f"{dtype} (machine epsilon ε = {eps:.1e})", xlabel="step size h", ylim=(1e-17, 1e3))
        ax.legend(fontsize=8, loc="upper center")
    axes[0].set_ylabel("|numerical − exact| of ∂f/∂x₀")
    fig.suptitle("the error falls with h (truncation) until rounding, which grows as h shrinks, takes over")
    return fig


def plot_rel_errors(labels, errors, title: str = "rel_error of each check against the bands") -> Figure:
    """One horizontal bar per check on the rule-of-thumb bands, each labelled with its value."""
    if len(labels) != len(errors) or not labels:
        raise ValueError(f"plot_rel_errors needs one label per error, got {len(labels)} and {len(errors)}")
    fig, ax = _figure(10, 0.55 * len(labels) + 1.6)
    shade_rel_error_bands(ax, axis="x")
    shown = _floor(errors, 1e-15)
    bars = ax.barh(list(labels), shown, color="tab:gray", height=0.5)
    ax.bar_label(bars, labels=[f"{e:.1e}" for e in errors], padding=3, fontsize=8)
    ax.set(xscale="log", xlim=(1e-15, 1e2), xlabel="rel_error(analytic, numerical), log scale", title=title)
    ax.invert_yaxis()
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_flat_sampling(m: dict) -> Figure:
    """How often each way of sampling catches the bias bug, with the exact expectation of the flat sample."""
    _need(m, ("rate_flat", "rate_per_parameter", "exact_flat", "sizes", "repeats", "k"), "plot_flat_sampling")
    fig, ax = _figure(7, 3.4)
    rates = [100 * m["rate_flat"], 100 * m["rate_per_parameter"]]
    bars = ax.bar(["flat sample", "a few entries per parameter"], rates, color=["tab:gray", "tab:blue"], width=0.5,
                  label="measured")
    ax.bar_label(bars, fmt="%.1f %%")
    ax.axhline(100 * m["exact_flat"], xmin=0.08, xmax=0.42, color="k", ls="--", lw=1.2,
               label=f"flat, expected: {100 * m['exact_flat']:.1f} %")
    sizes = ", ".join(f"{k}: {v}" for k, v in m["sizes"].items())
    ax.set(ylabel="checks that caught the bug (%)", ylim=(0, 118),
           title=f"{m['repeats']} random checks of {m['k']} entries ({sizes})")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_overflow(scales, curves: dict, breaks: dict) -> Figure:
    """Cross-entropy against the scale of the scores: ``curves`` maps a label to its values (NaN/inf not drawn),
    ``breaks`` maps a label to (scale where it breaks, why)."""
    fig, ax = _figure(9, 4.2)
    for label, values in curves.items():
        finite = [(s, v) for s, v in zip(scales, values) if math.isfinite(v)]
        naive = label.startswith("naive")
        if finite:
            style = ("x" if "float32" in label else "o") if naive else "-"
            ax.loglog(*zip(*finite), style, ms=7 if "float32" in label else 9, mfc="none", label=label,
                      color="tab:red" if "float32" in label else "tab:purple", alpha=1.0 if naive else 0.6)
    for i, (label, (where, why)) in enumerate(breaks.items()):
        colour = "tab:red" if "float32" in label else "tab:purple"
        ax.axvline(where, color=colour, ls=":", lw=1)
        ax.annotate(f"{label} breaks here:\n{why}", (where, 10 ** (3 - 1.5 * i)), xytext=(4, 0),
                    textcoords="offset points", color=colour, fontsize=8)
    ax.set(xlabel="scale of the scores", ylabel="mean cross-entropy", ylim=(5e-2, 1e5),
           title="softmax first, then log (naive) breaks; the max-shifted log-softmax does not")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_initial_loss(m: dict) -> Figure:
    """The losses of an untrained linear classifier against the size of its weights, with the chance levels."""
    _need(m, ("stds", "ce", "hinge", "chance_ce", "chance_hinge"), "plot_initial_loss")
    fig, axes = _figure(11, 3.8, 2, sharex=True)
    for ax, key, name, chance in ((axes[0], "ce", "softmax cross-entropy", m["chance_ce"]),
                                  (axes[1], "hinge", "hinge loss (margin 1)", m["chance_hinge"])):
        ax.loglog(m["stds"], m[key], "o-", ms=4, label=f"your {name}")
        if key == "ce" and "ce_reg" in m:
            ax.loglog(m["stds"], m["ce_reg"], "--", color="tab:green", label=f"plus λ‖W‖², λ = {m['lam']:g}")
        ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance level {chance:.3g}")
        ax.set(xlabel="std of the initial weights", ylabel="loss at initialisation (log scale)",
               title=f"{name}: at chance while the weights are small")
        ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_kinks(m: dict) -> Figure:
    """Left: the fraction of weight entries whose check crosses a kink, against N, per step h.
    Right: every entry's rel_error at N = check_n, coloured by whether its step crossed a kink."""
    _need(m, ("sizes", "fractions", "errors", "crossed", "check_n", "check_h"), "plot_kinks")
    fig, (left, right) = _figure(12, 4.2, 2)
    for h, fr in m["fractions"].items():
        left.semilogx(m["sizes"], fr, "o-", label=f"h = {h:g}")
    left.set(xlabel="data points N in the loss", ylabel="fraction of entries of W crossing a kink", ylim=(-0.03, 1.03),
             title="more data points, more kinks within ±h")
    left.legend(fontsize=8)
    shade_rel_error_bands(right, axis="y")
    idx = list(range(len(m["errors"])))
    for crossed, colour, label in ((False, "tab:blue", "no kink crossed"), (True, "tab:red", "a kink was crossed")):
        pts = [(i, max(m["errors"][i], 1e-16)) for i in idx if m["crossed"][i] == crossed]
        if pts:
            right.scatter(*zip(*pts), s=10, color=colour, label=f"{label} ({len(pts)})", zorder=3)
    right.set(yscale="log", ylim=(1e-16, 10), xlabel="entry of W", ylabel="rel_error of that entry",
              title=f"N = {m['check_n']}, h = {m['check_h']:g}: only the crossed entries fail")
    right.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_regularisation(m: dict) -> Figure:
    """The buggy gradient's error against r = ||penalty gradient|| / ||data gradient||, with a 1/r guide."""
    _need(m, ("ratios", "normrel", "elementwise"), "plot_regularisation")
    fig, ax = _figure(10, 4)
    shade_rel_error_bands(ax, axis="y")
    ax.loglog(m["ratios"], _floor(m["normrel"]), "o-", color="k", label="normrel of the whole gradient")
    ax.loglog(m["ratios"], _floor(m["elementwise"]), "s--", color="tab:purple", label="rel_error (worst entry)")
    ax.loglog(m["ratios"], [1.0 / r for r in m["ratios"]], ":", color="gray", label="1 / r")
    ax.set(ylim=(1e-9, 10), xlabel="r = ‖penalty gradient‖ / ‖data gradient‖",
           ylabel="error of the buggy total gradient",
           title="a doubled data gradient fades like 1/r in the norm, not in the worst entry")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


def plot_ce_against_mse(m: dict) -> Figure:
    """Training accuracy per step of the same classifier under BCE and under MSE."""
    _need(m, ("BCE", "MSE"), "plot_ce_against_mse")
    fig, ax = _figure(8, 3.6)
    for name, colour, what in (("BCE", "tab:blue", "BCE of the logit"), ("MSE", "tab:orange", "MSE of the sigmoid")):
        acc = m[name]["accuracy"]
        ax.plot(range(1, len(acc) + 1), [100 * a for a in acc], color=colour,
                label=f"{what}: 90 % after {m[name]['steps']} steps")
    ax.axhline(90, color="k", ls=":", lw=1)
    ax.set(xscale="log", xlabel="gradient-descent step (log scale)", ylabel="training accuracy (%)",
           title="started confidently wrong: cross-entropy recovers, MSE crawls")
    ax.legend(fontsize=8, loc="center left")
    return fig
