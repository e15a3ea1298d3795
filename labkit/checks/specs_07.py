"""Specs of notebook 07 (data augmentation): flips, crops, colour, PCA lighting, affine maps, cutout, mixup, cutmix, TTA.

The deterministic transforms (``hflip``, ``crop``, ``rgb_to_grayscale``, ``adjust_*``, ``affine_matrix``,
``affine``, ``tta_predict``) are compared with the reference on random images. The random ones are
``Spec(kind="random")``: the student's draws are never compared with the reference's. Each
:class:`Statistic` reads the parameters the student drew back out of the output (which samples were
flipped, where the window or the square lies, the colour factor of each image, the lighting offset,
the permutation and the weight of the mix) and judges them: exact rules (the output is the transform
of the input with *some* parameter) with a tolerance of rounding, laws of the parameters with
intervals from the sample size (``labkit.checks.stats``); the runner adds the generator rules.
Every check makes a few tens of calls at most.
"""
from __future__ import annotations

import math

import torch

from . import stats
from .core import StudentError
from .answers import Answer
from .spec import Case, Diagnosis, Probe, Spec, Statistic
from .stateful import binomial_tolerance

__all__ = ["SPECS", "ANSWERS"]

EXACT = 1e-6  # rounding of float64 arithmetic on values in [0, 1]
LUMA = (0.299, 0.587, 0.114)


def _images(d, n, c, h, w, low=0.05, high=0.95):
    """Random images with no two equal pixels and no zero (a zero in the output is always a change)."""
    return low + (high - low) * d.rand(n, c, h, w)


def _grey(x):
    return (LUMA[0] * x[:, 0] + LUMA[1] * x[:, 1] + LUMA[2] * x[:, 2]).unsqueeze(1) if x.shape[1] == 3 else x


def _pass():
    return 0.0, 0.0, 1.0


# ------------------------------------------------------------------------------------------ geometry
def _hflip_cases(d):
    return [Case((_images(d, 2, 3, 4, d.choice([5, 6])),)), Case((_images(d, 3, 1, 3, 7),)),
            Case((_images(d, 1, 2, 5, 4),))]


def _same(ev, fn):
    return ev.matches(lambda c, w: fn(c.args[0]))


HFLIP = Spec(
    "hflip", "function", _hflip_cases, outputs=("out",),
    hints={"out": "the output is not the left-right mirror image of x"},
    diagnoses=[Diagnosis("the rows are reversed (an upside-down image): a horizontal flip mirrors the columns",
                         lambda ev: _same(ev, lambda x: x.flip(-2))),
               Diagnosis("the channels are reversed (RGB became BGR), not the columns",
                         lambda ev: _same(ev, lambda x: x.flip(1))),
               Diagnosis("both rows and columns are reversed (a 180° rotation)",
                         lambda ev: _same(ev, lambda x: x.flip(-1, -2))),
               Diagnosis("the order of the images in the batch is reversed, not their columns",
                         lambda ev: _same(ev, lambda x: x.flip(0))),
               Diagnosis("the mirror image is shifted by one column: check the index of the last column",
                         lambda ev: _same(ev, lambda x: x.flip(-1).roll(1, -1)) or
                         _same(ev, lambda x: x.flip(-1).roll(-1, -1))),
               Diagnosis("the right half mirrors the left half: columns were copied onto the tensor being read "
                         "(write into a new tensor)",
                         lambda ev: ev.holds(lambda c, g, w: torch.equal(g, g.flip(-1)))),
               ])


def _crop_cases(d):
    x = _images(d, 2, 3, 6, 8)
    return [Case((x, 1, 2, 3, 4)), Case((_images(d, 3, 1, 7, 5), 2, 0, 4, 3)),
            Case((_images(d, 1, 2, 5, 9), 0, 3, 5, 2)), Case((x, 3, 1, 2, 6))]


CROP = Spec(
    "crop", "function", _crop_cases, outputs=("out",),
    hints={"out": "the window differs from x[:, :, top:top+height, left:left+width]"},
    diagnoses=[Diagnosis("the window has the right shape but holds other pixels: rows are indexed by top and "
                         "height, columns by left and width", lambda ev: ev.holds(lambda c, g, w: g.shape == w.shape)),
               ],
    probes=[Probe("a window that leaves the image raises ValueError", lambda d: Case((_images(d, 1, 1, 4, 4), 2, 1, 3, 2)),
                  raises=ValueError, weight=0.5,
                  hint="a window that does not fit inside the image must raise ValueError naming the problem "
                       "(slicing silently returns a smaller window)")])


# --------------------------------------------------------------------------------- random geometry
def _flip_cases(d):
    return [Case((_images(d, 300, 2, 2, 3),), {"p": d.choice([0.2, 0.3])}),
            Case((_images(d, 200, 1, 3, 4),)),
            Case((_images(d, 40, 3, 2, 3),), {"p": 0.0}),
            Case((_images(d, 40, 1, 2, 5),), {"p": 1.0})]


def _flip_kind(case, outputs):
    """Per sample: 1 flipped, 0 unchanged, -1 neither (a tensor of shape (N,))."""
    x, out = case.args[0], outputs[0]
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    return torch.where(flipped, 1, torch.where(same, 0, -1))


def _flip_whole(case, outputs):
    bad = int((_flip_kind(case, outputs) < 0).sum())
    return float(bad), 0.0, 0.0


def _flip_fraction(case, outputs):
    p = case.kwargs.get("p", 0.5)
    k = _flip_kind(case, outputs)
    tol = binomial_tolerance(p, len(k))
    return float((k == 1).double().mean()), p - tol, p + tol


def _frac_is(target):
    return lambda ev: ev.holds(lambda c, g, w: abs(float(g) - target(c.kwargs.get("p", 0.5))) < 0.2)


RANDOM_FLIP = Spec(
    "random_horizontal_flip", "random", _flip_cases, outputs=("out",), calls=("hflip",),
    hints={"out": "the output must have the shape of x"},
    statistics=[
        Statistic("every image comes back either unchanged or mirrored left-right (count of other images)",
                  _flip_whole, weight=2.0,
                  hint="some images are neither x[n] nor its mirror image: the flip decision is one per image (not "
                       "per channel or per pixel), and the flip mirrors columns"),
        Statistic("each image is flipped with probability p (fraction within the sampling error)", _flip_fraction,
                  weight=3.0, requires=("every image comes back either unchanged or mirrored left-right (count of "
                                        "other images)",),
                  hint="the fraction of flipped images is not p",
                  diagnoses=[Diagnosis("all or none of the images are flipped in a call: draw one decision per image, "
                                       "not one for the batch",
                                       lambda ev: ev.holds(lambda c, g, w: float(g) in (0.0, 1.0)) and
                                       any(0 < c.kwargs.get("p", 0.5) < 1 for c in ev.cases)),
                             Diagnosis("about 1 - p of the images are flipped: p is the probability of flipping",
                                       _frac_is(lambda p: 1 - p)),
                             Diagnosis("about half of the images are flipped whatever p is: p is not used",
                                       _frac_is(lambda p: 0.5))]),
    ])


def _crop_cases_r(d):
    return [Case((_images(d, 250, 1, 6, 5), 5), {"padding": 2}),
            Case((_images(d, 250, 2, 4, 4), 3)),
            Case((_images(d, 120, 3, 5, 5), 5), {"padding": 1})]


def _windows(case, outputs):
    """The (top, left) of the zero-padded image's window each output image equals, or -1 (shape (N, 2))."""
    x, size = case.args[0], case.args[1]
    p = case.kwargs.get("padding", 0)
    out = outputs[0]
    xp = torch.nn.functional.pad(x, (p, p, p, p))
    hp, wp = xp.shape[-2:]
    found = torch.full((x.shape[0], 2), -1, dtype=torch.int64)
    for t in range(hp - size + 1):
        for l in range(wp - size + 1):
            hit = (xp[:, :, t:t + size, l:l + size] == out).flatten(1).all(1) & (found[:, 0] < 0)
            found[hit] = torch.tensor([t, l])
    return found, hp - size + 1, wp - size + 1


def _crop_windows(case, outputs):
    found, _, _ = _windows(case, outputs)
    return float((found[:, 0] < 0).sum()), 0.0, 0.0


def _crop_law(which):
    """``which`` = "edges": the fractions of corners at the first and at the last position, each 1/k;
    "mean": the mean corner, (k - 1)/2; the worst of rows and columns (within the sampling error)."""
    def measure(case, outputs):
        found, kt, kl = _windows(case, outputs)
        n = len(found)
        for col, k in ((0, kt), (1, kl)):
            v = found[:, col].double()
            if k == 1:
                vals = [(float(v.abs().max()), 0.0, 0.0)]
            elif which == "edges":
                tol = binomial_tolerance(1 / k, n)
                vals = [(float((v == 0).double().mean()), 1 / k - tol, 1 / k + tol),
                        (float((v == k - 1).double().mean()), 1 / k - tol, 1 / k + tol)]
            else:
                vals = [(float(v.mean()), *stats.mean_interval((k - 1) / 2, math.sqrt((k * k - 1) / 12.0), n))]
            for val, lo, hi in vals:
                if not lo <= val <= hi:
                    return val, lo, hi
        return _pass()
    return measure


def _crop_independent(case, outputs):
    found, kt, kl = _windows(case, outputs)
    if kt == 1 or kl == 1:
        return _pass()
    r = float(torch.corrcoef(found.double().T)[0, 1])
    r = 0.0 if math.isnan(r) else r  # a constant corner: the laws above already judged it
    lim = stats.correlation_limit(len(found))
    return r, -lim, lim


CROP_WINDOWS = ("every output image is a size x size window of its zero-padded input "
                "(count of images that are not)")

CROP_EDGES = ("the first and the last position that fit are each drawn for their share of the images "
              "(within the sampling error)")
CROP_MEAN = "the mean corner is the middle of the positions that fit (within the sampling error)"

RANDOM_CROP = Spec(
    "random_crop", "random", _crop_cases_r, outputs=("out",), calls=("crop",),
    hints={"out": "the output must have shape (N, C, size, size)"},
    statistics=[
        Statistic(CROP_WINDOWS, _crop_windows, weight=2.0,
                  hint="some output images are not a window of the input padded with zeros on all four sides: "
                       "pad each side by padding, with zeros, then cut the window"),
        Statistic(CROP_EDGES, _crop_law("edges"), weight=2.0, requires=(CROP_WINDOWS,),
                  hint="the first or the last position where the window fits is drawn too rarely (or too often): "
                       "every corner from 0 to the last one that fits must be possible (is the upper bound of the "
                       "draw exclusive?), and each image needs its own draw"),
        Statistic(CROP_MEAN, _crop_law("mean"), weight=1.0, requires=(CROP_WINDOWS, CROP_EDGES),
                  hint="the windows' corners are not spread uniformly over the positions that fit"),
        Statistic("each image gets its own window, top and left drawn independently (correlation within the "
                  "sampling error)", _crop_independent, weight=1.0, requires=(CROP_WINDOWS, CROP_EDGES, CROP_MEAN),
                  hint="the row and column of the corners are correlated: draw top and left separately"),
    ])


# -------------------------------------------------------------------------------------------- colour
def _gray_cases(d):
    return [Case((_images(d, 2, 3, 4, 5, 0.0, 1.0),)), Case((_images(d, 1, 3, 3, 3, 0.0, 1.0),)),
            Case((torch.eye(3, dtype=torch.float64).reshape(3, 3, 1, 1),))]


GRAY = Spec(
    "rgb_to_grayscale", "function", _gray_cases, outputs=("gray",),
    hints={"gray": "the grey image differs from the ITU-R 601-2 luma of the pixels"},
    diagnoses=[Diagnosis("this is the plain average of R, G and B: the eye is most sensitive to green, so the "
                         "luma weighs the channels differently", lambda ev: ev.matches(lambda c, w: c.args[0].mean(1, keepdim=True))),
               Diagnosis("the weights are applied in the order B, G, R: channel 0 is red",
                         lambda ev: ev.matches(lambda c, w: _grey(c.args[0].flip(1)))),
               Diagnosis("these are the Rec. 709 (HDTV) weights; the API asks for ITU-R 601-2",
                         lambda ev: ev.matches(lambda c, w: (0.2126 * c.args[0][:, 0] + 0.7152 * c.args[0][:, 1]
                                                             + 0.0722 * c.args[0][:, 2]).unsqueeze(1))),
               Diagnosis("the channels are summed without weights", lambda ev: ev.matches(
                   lambda c, w: c.args[0].sum(1, keepdim=True)))])


def _factor_cases(d, *, grey_ok):
    x3, x1 = _images(d, 4, 3, 3, 4, 0.0, 1.0), _images(d, 3, 1, 4, 3, 0.0, 1.0)
    per = 0.2 + 1.6 * d.rand(4)
    cases = [Case((x3, d.choice([0.5, 0.8]))), Case((x3, d.choice([1.3, 1.7]))), Case((x3, per)),
             Case((_images(d, 2, 3, 2, 2, 0.0, 1.0), 0.0))]
    if grey_ok:
        cases.append(Case((x1, 0.2 + 1.6 * d.rand(3))))
    return cases


def _blend_with(x, f, target):
    f = torch.as_tensor(f, dtype=torch.float64)
    f = f.reshape(-1, 1, 1, 1) if f.dim() == 1 else f
    return f * x + (1 - f) * target


def _colour_diagnoses(target):
    """Bugs common to the three blends; ``target(x)`` is what the blend moves towards."""
    return [
        Diagnosis("values leave [0, 1]: clamp the result", lambda ev: ev.holds(
            lambda c, g, w: (g.min() < -1e-12 or g.max() > 1 + 1e-12) and
            torch.allclose(g, _blend_with(c.args[0], c.args[1], target(c.args[0]))))),
        Diagnosis("the blend runs the wrong way: a factor 0 should give the target, a factor 1 the image itself",
                  lambda ev: ev.matches(lambda c, w: _blend_with(target(c.args[0]), c.args[1], c.args[0]).clamp(0, 1))),
        Diagnosis("a per-image factor (a tensor of shape (N,)) is not applied image by image",
                  lambda ev: any(torch.as_tensor(c.args[1]).dim() == 1 for c in ev.cases) and
                  ev.holds(lambda c, g, w: torch.as_tensor(c.args[1]).dim() == 1 or
                           (g.shape == w.shape and bool(torch.allclose(g, w))))),
    ]


BRIGHTNESS = Spec(
    "adjust_brightness", "function", lambda d: _factor_cases(d, grey_ok=True), outputs=("out",),
    hints={"out": "the output is not the image blended with black by the factor f (then clamped)"},
    diagnoses=[*_colour_diagnoses(torch.zeros_like),
               Diagnosis("f is added to the pixels: brightness multiplies them",
                         lambda ev: ev.matches(lambda c, w: (c.args[0] + _blend_with(1.0, c.args[1], 0.0)).clamp(0, 1)))])

CONTRAST = Spec(
    "adjust_contrast", "function", lambda d: _factor_cases(d, grey_ok=True), outputs=("out",), calls=("rgb_to_grayscale",),
    hints={"out": "the output is not the image blended with its mean grey level by the factor f (then clamped)"},
    diagnoses=[*_colour_diagnoses(lambda x: _grey(x).mean((1, 2, 3), keepdim=True)),
               Diagnosis("the mean is taken over the whole batch: each image has its own mean grey level",
                         lambda ev: ev.matches(lambda c, w: _blend_with(c.args[0], c.args[1], _grey(c.args[0]).mean()).clamp(0, 1))),
               Diagnosis("the mean is taken per channel (or over the RGB values): contrast blends with the mean of "
                         "the grey image", lambda ev: ev.matches(
                             lambda c, w: _blend_with(c.args[0], c.args[1], c.args[0].mean((2, 3), keepdim=True)).clamp(0, 1)) or
                         ev.matches(lambda c, w: _blend_with(c.args[0], c.args[1], c.args[0].mean((1, 2, 3), keepdim=True)).clamp(0, 1))),
               Diagnosis("the blend moves towards a fixed grey 0.5: the target is the image's own mean grey level",
                         lambda ev: ev.matches(lambda c, w: _blend_with(c.args[0], c.args[1], 0.5).clamp(0, 1))),
               Diagnosis("each pixel moves towards its own grey value: that is saturation, contrast uses the mean",
                         lambda ev: ev.matches(lambda c, w: _blend_with(c.args[0], c.args[1], _grey(c.args[0])).clamp(0, 1)))])

SATURATION = Spec(
    "adjust_saturation", "function", lambda d: _factor_cases(d, grey_ok=True), outputs=("out",), calls=("rgb_to_grayscale",),
    hints={"out": "the output is not the image blended with its grey version by the factor f (then clamped)"},
    diagnoses=[*_colour_diagnoses(_grey),
               Diagnosis("the grey image is the plain mean of the channels: use the luma",
                         lambda ev: ev.matches(lambda c, w: _blend_with(c.args[0], c.args[1], c.args[0].mean(1, keepdim=True)).clamp(0, 1))),
               Diagnosis("each image moves towards its mean grey level: that is contrast, saturation uses the grey "
                         "image pixel by pixel", lambda ev: ev.matches(
                             lambda c, w: _blend_with(c.args[0], c.args[1], _grey(c.args[0]).mean((1, 2, 3), keepdim=True)).clamp(0, 1)))])


# ------------------------------------------------------------------------------------ colour jitter
def _jitter_cases(d):
    n = 300
    return [Case((_images(d, n, 3, 2, 3, 0.05, 0.6),), {"brightness": d.choice([0.3, 0.5])}),
            Case((_images(d, n, 3, 2, 3, 0.3, 0.7),), {"contrast": d.choice([0.4, 0.6])}),
            Case((_images(d, n, 3, 2, 3, 0.4, 0.6),), {"saturation": d.choice([0.5, 0.8])}),
            Case((_images(d, 2 * n, 3, 2, 3, 0.02, 0.3),), {"brightness": 1.5}),
            Case((_images(d, 20, 3, 2, 2, 0.0, 1.0),), {})]


def _jitter_factors(case, outputs):
    """(factors, residual, v): the factor of each image, fitted, and how far the output is from that blend."""
    x, out = case.args[0], outputs[0]
    kw = case.kwargs
    name = next((k for k in ("brightness", "contrast", "saturation") if kw.get(k, 0) > 0), None)
    if name is None:
        return None, float((out - x).abs().max()), 0.0
    target = {"brightness": torch.zeros_like(x), "contrast": _grey(x).mean((1, 2, 3), keepdim=True).expand_as(x),
              "saturation": _grey(x).expand_as(x)}[name]
    a, b = (out - target).flatten(1), (x - target).flatten(1)
    f = (a * b).sum(1) / (b * b).sum(1)
    pred = (f.reshape(-1, 1, 1, 1) * x + (1 - f.reshape(-1, 1, 1, 1)) * target).clamp(0, 1)
    return f, float((out - pred).abs().max()), kw[name]


def _jitter_blend(case, outputs):
    _, res, _ = _jitter_factors(case, outputs)
    return res, 0.0, EXACT


def _jitter_range(case, outputs):
    f, _, v = _jitter_factors(case, outputs)
    if f is None:
        return _pass()
    lo, hi = max(0.0, 1 - v), 1 + v
    excess = float(torch.clamp(lo - f, min=0).max() + torch.clamp(f - hi, min=0).max())
    return excess, 0.0, EXACT


def _jitter_law(case, outputs):
    f, _, v = _jitter_factors(case, outputs)
    if f is None:
        return _pass()
    lo, hi = max(0.0, 1 - v), 1 + v
    return stats.ks_distance(f, lambda t: ((t - lo) / (hi - lo)).clamp(0, 1)), 0.0, stats.ks_limit(len(f))


JITTER_BLEND = ("each image is blended by one factor: with black (brightness), its mean grey (contrast) or its grey "
                "image (saturation), then clamped; no strength given leaves x unchanged")

COLOR_JITTER = Spec(
    "color_jitter", "random", _jitter_cases, outputs=("out",),
    calls=("adjust_brightness", "adjust_contrast", "adjust_saturation", "rgb_to_grayscale"),
    hints={"out": "the output must have the shape of x"},
    statistics=[
        Statistic(JITTER_BLEND, _jitter_blend, weight=2.0,
                  hint="with one strength set, each output image is not the matching blend of its input by a single "
                       "factor (or a zero strength changed something)"),
        Statistic("every factor lies in [max(0, 1 - v), 1 + v]", _jitter_range, weight=2.0, requires=(JITTER_BLEND,),
                  hint="some factors fall outside the range of a strength v: draw each factor between the bounds "
                       "the API gives (never below 0)"),
        Statistic("the factors are uniform over that range and drawn per image (Kolmogorov-Smirnov distance within "
                  "the sampling error)", _jitter_law, weight=2.0, requires=(JITTER_BLEND,),
                  hint="the factors are not spread uniformly over their range: one factor per image, from a "
                       "uniform law over the whole range"),
    ])


# ------------------------------------------------------------------------------------- PCA lighting
def _rotation(d):
    q, _ = torch.linalg.qr(d.randn(3, 3))
    return q


def _lighting_cases(d):
    vec = _rotation(d)
    lam = torch.tensor([0.2, 0.03, 0.004], dtype=torch.float64)
    x = _images(d, 4000, 3, 1, 2, 0.0, 1.0)  # 12 000 weights: the normal law apart from a uniform one
    x[:, :, 0, 0] = 0.0  # a clamp at 0 or 1 would show
    x[:, :, 0, 1] = 1.0
    return [Case((x, lam, vec), {"alphastd": d.choice([0.1, 0.3])}),
            Case((_images(d, 1000, 3, 2, 1, 0.0, 1.0), lam.flip(0), vec)),
            Case((_images(d, 10, 3, 2, 2, 0.0, 1.0), lam, vec), {"alphastd": 0.0})]


def _offsets(case, outputs):
    """(offset per image (N, 3), how far each image's offset is from constant over its pixels)."""
    d = outputs[0] - case.args[0]
    o = d.mean((2, 3))
    return o, float((d - o[:, :, None, None]).abs().max())


def _alphas(case, outputs):
    o, _ = _offsets(case, outputs)
    lam, vec = case.args[1], case.args[2]
    return (o @ vec) / lam  # (N, 3): alpha_n = (V^T o_n) / lambda


def _lighting_constant(case, outputs):
    _, spread = _offsets(case, outputs)
    return spread, 0.0, EXACT


def _alpha_std(case, outputs):
    a = _alphas(case, outputs)
    s = case.kwargs.get("alphastd", 0.1)
    if s == 0:
        return float(a.abs().max()), 0.0, EXACT
    worst = None
    for k in range(3):
        lo, hi = stats.std_interval(s, a.shape[0])
        val = float(a[:, k].pow(2).mean().sqrt())
        if worst is None or not lo <= val <= hi:
            worst = (val, lo, hi)
            if not lo <= val <= hi:
                break
    return worst


def _alpha_normal(case, outputs):
    a = _alphas(case, outputs)
    if case.kwargs.get("alphastd", 0.1) == 0:
        return _pass()
    z = (a / a.pow(2).mean(0).sqrt().clamp_min(1e-300)).reshape(-1)
    return stats.ks_distance(z, lambda t: 0.5 * (1 + torch.erf(t / math.sqrt(2.0)))), 0.0, stats.ks_limit(z.numel())


def _alpha_independent(case, outputs):
    a = _alphas(case, outputs)
    if case.kwargs.get("alphastd", 0.1) == 0:
        return _pass()
    c = torch.corrcoef(a.T)
    r = float(max(c[0, 1].abs(), c[0, 2].abs(), c[1, 2].abs()))
    lim = stats.correlation_limit(a.shape[0])
    r2 = float(torch.corrcoef(torch.stack([a[:-1, 0], a[1:, 0]]))[0, 1].abs())
    return max(r, r2), 0.0, lim


LIGHT_CONSTANT = "each image gets one colour offset, the same at every pixel, and nothing is clamped"

PCA_LIGHTING = Spec(
    "pca_lighting", "random", _lighting_cases, outputs=("out",), forbid=(),
    hints={"out": "the output must have the shape of x"},
    statistics=[
        Statistic(LIGHT_CONSTANT, _lighting_constant, weight=2.0,
                  hint="out - x is not one constant colour per image: one alpha (3 numbers) per image, the same "
                       "offset added to every pixel, and no clamping",
                  diagnoses=[Diagnosis("the output was clamped to [0, 1]: the API adds the offset without clamping",
                                       lambda ev: True)]),
        Statistic("the weights alpha along the eigenvectors have standard deviation alphastd (each component, "
                  "within the sampling error)", _alpha_std, weight=3.0, requires=(LIGHT_CONSTANT,),
                  hint="read along the eigenvectors (the columns of eigvecs) and divided by the eigenvalues, the "
                       "offsets do not have the spread alphastd: check which axis holds the eigenvectors, and that "
                       "each is weighted by its eigenvalue"),
        Statistic("the weights alpha are normal (Kolmogorov-Smirnov distance within the sampling error)", _alpha_normal,
                  weight=1.0, requires=(LIGHT_CONSTANT,),
                  hint="the weights alpha do not look normal: are they drawn with a uniform law?"),
        Statistic("the weights alpha are independent across components and images", _alpha_independent, weight=1.0,
                  requires=(LIGHT_CONSTANT,),
                  hint="the weights alpha are correlated: draw 3 independent numbers for every image"),
    ])


# ------------------------------------------------------------------------------------------- affine
def _affine_matrix_cases(d):
    return [Case((d.choice([30.0, -45.0, 70.0]), (0, 0), 1.0, 0)),
            Case((0.0, (d.choice([2.0, -3.0]), d.choice([1.5, 4.0])), 1.0, 0)),
            Case((d.choice([15.0, -20.0]), (1.0, -2.0), d.choice([0.8, 1.3]), d.choice([10.0, -12.0]))),
            Case((d.choice([25.0, 60.0]), (-1.5, 0.5), 1.1, (d.choice([8.0, -5.0]), d.choice([12.0, -9.0])))),
            Case((0.0, (0, 0), 1.0, (0.0, d.choice([15.0, 20.0]))))]


def _rot_sign(c, w):
    from .. import reference as R
    from .._student_code import allowed
    a, t, s, sh = c.args
    return allowed(R.affine_matrix)(-a, t, s, sh)


AFFINE_MATRIX = Spec(
    "affine_matrix", "function", _affine_matrix_cases, outputs=("M",), keeps_dtype=False,
    hints={"M": "the 3 x 3 matrix differs from the forward map the API pins"},
    diagnoses=[Diagnosis("this is the inverse map (output to input); the API asks for the forward map",
                         lambda ev: ev.matches(lambda c, w: torch.linalg.inv(w))),
               Diagnosis("the rotation turns the other way: a positive angle turns clockwise on screen (y points down)",
                         lambda ev: ev.matches(_rot_sign)),
               Diagnosis("the angles are used as radians: the API gives degrees",
                         lambda ev: ev.matches(_as_radians))])


def _as_radians(c, w):
    from .. import reference as R
    from .._student_code import allowed
    a, t, s, sh = c.args
    sh = tuple(math.degrees(v) for v in sh) if isinstance(sh, (tuple, list)) else math.degrees(sh)
    return allowed(R.affine_matrix)(math.degrees(a), t, s, sh)


def _affine_cases(d):
    x = _images(d, 2, 2, 7, 9, 0.0, 1.0)
    return [Case((x, d.choice([20.0, -35.0]), (0, 0), 1.0, 0)),
            Case((x, 0.0, (d.choice([1.0, 2.0]), d.choice([-1.0, 1.5])), 1.0, 0)),
            Case((_images(d, 1, 3, 8, 6, 0.0, 1.0), d.choice([10.0, 25.0]), (0.5, -1.0), d.choice([0.9, 1.2]),
                  (d.choice([5.0, -7.0]), 0.0))),
            Case((x, 0.0, (0, 0), 1.0, 0))]


AFFINE = Spec(
    "affine", "function", _affine_cases, outputs=("out",), calls=("affine_matrix",), tol="diagnosis",
    hints={"out": "the warped image differs from sampling x bilinearly at M^-1 applied to each output pixel centre"},
    diagnoses=[Diagnosis("the image moves the opposite way: each output pixel samples the input at the inverse map "
                         "of its position", lambda ev: ev.matches(lambda c, w: _ref_affine(c, inverse=True))),
               Diagnosis("the sampling grid uses align_corners=True; the API's pixel centres fit align_corners=False",
                         lambda ev: ev.matches(lambda c, w: _ref_affine(c, align=True)))])


def _ref_affine(case, inverse=False, align=False):
    """The reference's warp with the inverse map or with align_corners=True (two bugs a diagnosis names)."""
    from .. import reference as R
    from .._student_code import allowed
    x, a, t, s, sh = case.args
    M = allowed(R.affine_matrix)(a, t, s, sh)
    return allowed(R.warp)(x, torch.linalg.inv(M) if inverse else M, align_corners=align)


# -------------------------------------------------------------------------------------------- cutout
def _cutout_cases(d):
    return [Case((_images(d, 300, 2, 6, 7), 3)), Case((_images(d, 300, 1, 5, 5), 4)),
            Case((_images(d, 60, 3, 4, 4), 0)), Case((_images(d, 60, 1, 3, 3), 7))]


def _cutout_boxes(case, outputs):
    """(bad, cy, cx): how many images' change is not a clipped size x size square of zeros in every channel,
    and each square's centre where it can be read (-1 where the square covers a whole side)."""
    x, size = case.args
    out = outputs[0]
    N, C, H, W = x.shape
    zero = (out == 0).all(1)  # (N, H, W)
    kept = (out == x).all(1)
    bad = int((~(zero | kept)).any((1, 2)).sum())
    cy = torch.full((N,), -1, dtype=torch.int64)
    cx = torch.full((N,), -1, dtype=torch.int64)
    if size == 0:
        return bad + int(zero.any((1, 2)).sum()), cy, cx
    for n in range(N):
        rr, cc = torch.nonzero(zero[n].any(1)).flatten(), torch.nonzero(zero[n].any(0)).flatten()
        if len(rr) == 0:
            bad += 1
            continue
        y0, y1, x0, x1 = int(rr.min()), int(rr.max()), int(cc.min()), int(cc.max())
        box = torch.zeros(H, W, dtype=torch.bool)
        box[y0:y1 + 1, x0:x1 + 1] = True
        centres = []
        for lo, hi, k in ((y0, y1, H), (x0, x1, W)):
            side = hi - lo + 1
            if side > size or (side < size and lo > 0 and hi < k - 1):
                centres = None
                break
            centres.append(lo + size // 2 if lo > 0 else (hi - size + 1 + size // 2 if hi < k - 1 else -1))
        if centres is None or not torch.equal(box, zero[n]):
            bad += 1
            continue
        cy[n], cx[n] = centres
    return bad, cy, cx


def _cutout_shape(case, outputs):
    bad, _, _ = _cutout_boxes(case, outputs)
    return float(bad), 0.0, 0.0


def _cutout_centres(case, outputs):
    x, size = case.args
    if size == 0:
        return _pass()
    _, cy, cx = _cutout_boxes(case, outputs)
    N, _, H, W = x.shape
    for v, k in ((cy, H), (cx, W)):
        v = v[v >= 0]
        if len(v) < 2 * k:  # the square covers whole rows (or columns): its centre cannot be read
            return _pass()
        tol = binomial_tolerance(1 / k, len(v))
        for val, lo, hi in ((float((v == 0).double().mean()), 1 / k - tol, 1 / k + tol),
                            (float((v == k - 1).double().mean()), 1 / k - tol, 1 / k + tol),
                            (float((v < 0).double().mean() + (v >= k).double().mean()), 0.0, 0.0)):
            if not lo <= val <= hi:
                return val, lo, hi
    both = (cy >= 0) & (cx >= 0)
    r = float(torch.corrcoef(torch.stack([cy[both].double(), cx[both].double()]))[0, 1])
    lim = stats.correlation_limit(int(both.sum()))
    return r, -lim, lim


CUTOUT_SHAPE = ("each image keeps every pixel but one square of zeros (size x size, clipped at the border, in every "
                "channel); count of images that do not")

CUTOUT = Spec(
    "cutout", "random", _cutout_cases, outputs=("out",),
    hints={"out": "the output must have the shape of x"},
    statistics=[
        Statistic(CUTOUT_SHAPE, _cutout_shape, weight=3.0,
                  hint="the changed pixels are not one square of zeros of side size (clipped at the border) in "
                       "every channel: check the square's side, the channels it covers and the fill value"),
        Statistic("the square's centre is uniform over every pixel, rows and columns independent (the edge rows "
                  "and columns within the sampling error)", _cutout_centres, weight=2.0, requires=(CUTOUT_SHAPE,),
                  hint="the centres are not spread uniformly over the pixel grid: a centre on the first or last "
                       "row (or column) must be as likely as any other, with the square clipped there; draw rows "
                       "and columns independently for every image"),
    ])


# ------------------------------------------------------------------------------------ mixup, cutmix
def _labels(d, n, k):
    return torch.nn.functional.one_hot(d.randint(0, k, (n,)), k).to(torch.float64)


def _mix_cases(d, box=False):
    """Box: 8 calls with alpha = 500 (and one with alpha = 1). Mixup: 20 tiny calls with alpha = 0.02 and 10 with
    alpha = 200 judge the law of lam together (one lam per call), one call with alpha = 1."""
    if box:
        cases = [Case((_images(d, 12, 1, 10, 16), _labels(d, 12, 4), 500.0)) for _ in range(8)]
        cases.insert(1, Case((_images(d, 12, 1, 10, 16), _labels(d, 12, 5), 1.0)))
        return cases
    cases = [Case((_images(d, 6, 2, 3, 3), _labels(d, 6, 3), 200.0)) for _ in range(10)]
    cases.insert(1, Case((_images(d, 6, 2, 3, 3), _labels(d, 6, 5), 1.0)))
    cases += [Case((_images(d, 3, 1, 1, 2), _labels(d, 3, 2), 0.02)) for _ in range(20)]
    pool = {"n": len(cases), "lam": {}}
    for c in cases:
        c.lam_pool = pool
    return cases


def _partners(x, xm, lam):
    """For each image the partner j with xm[n] = lam x[n] + (1 - lam) x[j], and the worst residual."""
    pred = lam * x[:, None] + (1 - lam) * x[None, :]  # (N, N, ...): row n, partner j
    res = (pred - xm[:, None]).flatten(2).abs().amax(2)  # (N, N)
    best, j = res.min(1)
    return j, float(best.max())


def _lam(outputs):
    return float(outputs[2].reshape(-1)[0]) if outputs[2].numel() == 1 else float("nan")


def _mix_images(case, outputs):
    x = case.args[0]
    lam = _lam(outputs)
    if not 0.0 <= lam <= 1.0:
        return 1.0, 0.0, EXACT
    j, res = _partners(x, outputs[0], lam)
    perm = 0.0 if sorted(j.tolist()) == list(range(len(j))) or min(lam, 1 - lam) < 1e-6 else 1.0
    return res + perm, 0.0, EXACT


def _mix_labels(case, outputs):
    x, y = case.args[0], case.args[1]
    lam = _lam(outputs)
    j, _ = _partners(x, outputs[0], lam)
    return float((outputs[1] - (lam * y + (1 - lam) * y[j])).abs().max()), 0.0, EXACT


def _mix_law(case, outputs):
    """Collected over every call of the run (one lam per call), judged at the last one: with alpha = 0.02 at
    least 0.4 of the lams lie within 0.02 of 0 or 1 (Beta(0.02, 0.02) puts 0.92 there); with alpha = 200 all
    lie within 0.2 of 0.5 (8 standard deviations)."""
    pool = getattr(case, "lam_pool", None)
    if pool is None:
        return _pass()
    pool["lam"][id(case)] = (case.args[2], _lam(outputs))
    if len(pool["lam"]) < pool["n"]:
        return _pass()
    small = [v for a, v in pool["lam"].values() if a < 0.5]
    big = [v for a, v in pool["lam"].values() if a > 5]
    pool["lam"] = {}
    near = sum(min(v, 1 - v) < 0.02 for v in small) / len(small)
    if not near >= 0.4:
        return near, 0.4, 1.0
    if len(set(big)) == 1:  # a continuous law never repeats a value: lam is fixed (a seed inside?)
        return 1.0, 0.0, 0.2
    return max(abs(v - 0.5) for v in big), 0.0, 0.2


MIX_IMAGES = "each image is lam x[n] + (1 - lam) x[perm[n]] with one lam in [0, 1] and one permutation perm"

MIXUP = Spec(
    "mixup", "random", _mix_cases, outputs=("x_mix", "y_mix", "lam"), scalars=("lam",), keeps_dtype=True,
    forbid=("torch.distributions.Beta.sample", "torch.distributions.beta.Beta.sample"),
    hints={"x_mix": "x_mix must have the shape of x", "y_mix": "y_mix must have the shape of y",
           "lam": "lam must be one number"},
    statistics=[
        Statistic(MIX_IMAGES, _mix_images, weight=2.0,
                  hint="some mixed image is not lam x[n] + (1 - lam) x[j] for the returned lam with j from one "
                       "permutation of the batch: one lam for the whole batch, partners from a permutation"),
        Statistic("the labels are mixed with the same lam and the same partners as the images", _mix_labels,
                  weight=2.0, requires=(MIX_IMAGES,),
                  hint="y_mix is not lam y[n] + (1 - lam) y[j] with the lam and the partner j of the image: mix the "
                       "labels exactly as the images"),
        Statistic("lam follows Beta(alpha, alpha): near 0 or 1 for a small alpha, near 0.5 for a large one "
                  "(over all calls)", _mix_law, weight=2.0, requires=(MIX_IMAGES,),
                  hint="the weights lam do not follow the law Beta(alpha, alpha): check that alpha sets both "
                       "parameters and that lam is a fresh draw from the generator at every call (not alpha itself, "
                       "a uniform number or a fixed seed)"),
    ])


def _cut_box(case, outputs):
    """(partners j, (y1, y2, x1, x2) or None, residual): the box where some image changed."""
    x, xm = case.args[0], outputs[0]
    changed = (xm != x).any(1).any(0)  # (H, W)
    H, W = changed.shape
    if not changed.any():
        return None, None, 0.0
    rows = torch.arange(H)[changed.any(1)]
    cols = torch.arange(W)[changed.any(0)]
    y1, y2, x1, x2 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
    inside = (xm[:, :, y1:y2, x1:x2][:, None] - x[None, :, :, y1:y2, x1:x2]).flatten(2).abs().amax(2)  # (N, N)
    best, j = inside.min(1)
    outside = xm.clone()
    outside[:, :, y1:y2, x1:x2] = x[:, :, y1:y2, x1:x2]
    res = float(best.max()) + float((outside - x).abs().max())
    if sorted(j.tolist()) != list(range(len(j))):
        res += 1.0
    return j, (y1, y2, x1, x2), res


def _cut_images(case, outputs):
    _, _, res = _cut_box(case, outputs)
    return res, 0.0, EXACT


def _cut_lam(case, outputs):
    x = case.args[0]
    _, box, _ = _cut_box(case, outputs)
    H, W = x.shape[-2:]
    area = 0 if box is None else (box[1] - box[0]) * (box[3] - box[2])
    return abs(_lam(outputs) - (1 - area / (H * W))), 0.0, EXACT


def _cut_labels(case, outputs):
    x, y = case.args[0], case.args[1]
    j, _, _ = _cut_box(case, outputs)
    lam = _lam(outputs)
    if j is None:
        j = torch.arange(len(x))
    return float((outputs[1] - (lam * y + (1 - lam) * y[j])).abs().max()), 0.0, EXACT


def _cut_size(case, outputs):
    """With alpha = 500 the weight before clipping is 0.5 within 0.1, so an unclipped box's sides are 0.63
    to 0.78 of the image's (rounded down); a clipped box is no larger."""
    x, _, alpha = case.args
    if alpha < 100:
        return _pass()
    H, W = x.shape[-2:]
    _, box, _ = _cut_box(case, outputs)
    if box is None:
        return 1.0, 0.0, 0.0
    y1, y2, x1, x2 = box
    for lo_edge, hi_edge, n in ((y1, y2, H), (x1, x2, W)):
        side = hi_edge - lo_edge
        low, high = int(n * math.sqrt(0.4)), int(n * math.sqrt(0.6)) + 1
        clipped = lo_edge == 0 or hi_edge == n
        if side > high or (not clipped and side < low):
            return side / n, low / n, high / n
    return _pass()


CUT_IMAGES = ("inside one box, the same for the batch, each image shows its partner x[perm[n]] at the same place; "
              "outside it the image is unchanged (perm a permutation)")

CUTMIX = Spec(
    "cutmix", "random", lambda d: _mix_cases(d, box=True), outputs=("x_mix", "y_mix", "lam"), scalars=("lam",),
    forbid=("torch.distributions.Beta.sample", "torch.distributions.beta.Beta.sample"),
    hints={"x_mix": "x_mix must have the shape of x", "y_mix": "y_mix must have the shape of y",
           "lam": "lam must be one number"},
    statistics=[
        Statistic(CUT_IMAGES, _cut_images, weight=2.0,
                  hint="the pasted region is not one box holding the partner's pixels at the same place (or pixels "
                       "outside it changed): one box for the batch, copied from x[perm] at the same rows and columns"),
        Statistic("lam is the fraction of the image left unpasted", _cut_lam, weight=2.0, requires=(CUT_IMAGES,),
                  hint="the returned lam is not 1 - (pasted area) / (H W): compute it from the box actually pasted, "
                       "after clipping"),
        Statistic("the labels are mixed with that lam and the same partners as the images", _cut_labels, weight=2.0,
                  requires=(CUT_IMAGES,),
                  hint="y_mix is not lam y[n] + (1 - lam) y[j] with the partner j whose pixels were pasted"),
        Statistic("the box's sides follow the drawn weight (alpha = 500: about 0.7 of the image's sides)", _cut_size,
                  weight=1.0, requires=(CUT_IMAGES,),
                  hint="the box's sides do not follow the API's rule for the drawn weight (square root, height "
                       "from H and width from W)"),
    ])


# ---------------------------------------------------------------------------------------------- TTA
def _tta_cases(d):
    w = d.randn(12, 4)

    def predict(z, w=w):
        return torch.softmax(z.flatten(1) @ w.to(z), dim=1)

    def shift(z):
        return torch.roll(z, 1, dims=-1)

    def mirror(z):
        return torch.flip(z, dims=(-1,))

    def ident(z):
        return z

    x = d.rand(5, 1, 3, 4)
    return [Case((predict, x, [ident, mirror])), Case((predict, x, [ident, mirror, shift])),
            Case((predict, d.rand(3, 1, 3, 4), [mirror])), Case((predict, x, [shift, ident, lambda z: 0.5 * z]))]


TTA = Spec(
    "tta_predict", "function", _tta_cases, outputs=("probs",),
    hints={"probs": "the result is not the mean of predict_fn's probabilities over the transformed copies"},
    diagnoses=[Diagnosis("the probabilities are summed, not averaged",
                         lambda ev: ev.matches(lambda c, w: len(c.args[2]) * w)),
               Diagnosis("the first transform is left out (or one copy too many is counted): average over every "
                         "transform in the list, and only over those",
                         lambda ev: ev.matches(lambda c, w: _tta_subset(c, 1))),
               Diagnosis("the transforms are applied one after the other to the same copy: each one transforms the "
                         "original x", lambda ev: ev.matches(lambda c, w: _tta_chain(c)))])


def _tta_subset(case, skip):
    fn, x, ts = case.args
    ts = list(ts)[skip:]
    return torch.stack([fn(t(x)) for t in ts]).mean(0) if ts else torch.full_like(fn(x), float("nan"))


def _tta_chain(case):
    fn, x, ts = case.args
    out, z = [], x
    for t in ts:
        z = t(z)
        out.append(fn(z))
    return torch.stack(out).mean(0)


SPECS = [HFLIP, CROP, RANDOM_FLIP, RANDOM_CROP, GRAY, BRIGHTNESS, CONTRAST, SATURATION, COLOR_JITTER, PCA_LIGHTING,
         AFFINE_MATRIX, AFFINE, CUTOUT, MIXUP, CUTMIX, TTA]

ANSWERS = [
    Answer("q_clamped_pixel", "number", 1.0, abs_tol=1e-6,
           explain="brightness multiplies the pixel by 1.5, giving 1.05, which the clamp brings back to 1.0",
           wrong=(1.05, 0.7, 1.2, 0.35), right=(1, 1.0)),
    Answer("q_cutmix_lam", "number", 0.875, abs_tol=1e-3,
           explain="the box covers 16 * 8 = 128 of the 1024 pixels, so the image keeps 1 - 128/1024 = 0.875 of its "
                   "own content, and that is its label's weight",
           wrong=(0.125, 0.5, 0.25, 0.75), right=(0.875, 7 / 8)),
    Answer("q_small_alpha", "choice", "near an original",
           explain="Beta(0.2, 0.2) puts most of its mass near 0 and 1 (about two thirds of the draws lie within "
                   "0.1 of them), so most mixed images are one image with a faint trace of its partner",
           choices=("near an original", "near a half-half blend"), wrong=("near a half-half blend",)),
    Answer("q_flip_digits", "choice", "much lower",
           explain="mirrored digits are mostly not the digit they were (a 2 looks like a 5, a 3 like an E): the "
                   "network trained on upright digits loses about half of its accuracy on them",
           choices=("about the same", "much lower"), wrong=("about the same",)),
]
