"""Speed of the labkit references against the PyTorch / scikit-learn built-ins they are validated against.

Every function of ``labkit.reference`` that has a built-in gets a row; the others are listed under
the table with the reason. A row times the reference and the built-in in the same run, interleaved
(which one goes first alternates from one repeat to the next), after untimed warm-up calls, and
prints the median of the repeats for each and their ratio (reference / built-in; below 1 means the
reference is faster). Where a function has a backward, a row is forward+backward: the reference's
``*_forward`` + ``*_backward`` (or its ``(loss, grad)``) against the built-in's forward + autograd.
Rows run on the CPU, and on CUDA too when present (the device is synchronised before every clock
reading). Nothing is asserted.

    python benchmarks/bench_reference.py                # representative sizes (about a minute on 2 CPU cores)
    python benchmarks/bench_reference.py --quick        # small sizes, 3 repeats (a few seconds)
    python benchmarks/bench_reference.py --only 05      # one section, or several: --only 00,03
    python benchmarks/bench_reference.py --cpu-time     # process CPU time next to wall time (steadier on a shared machine)

The summary at the end counts the rows within 1.5x of their built-in and lists the others.
"""
from __future__ import annotations

import argparse
import importlib
import math
import pkgutil
import statistics
import time
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F
from torch.optim import lr_scheduler as S

import labkit.reference as R

SECTIONS = {
    "00": "gradient checking: losses and the affine layer",
    "01": "activations",
    "02": "initialization",
    "03": "batch and layer normalization",
    "04": "dropout and weight penalties",
    "05": "optimizers and gradient clipping",
    "06": "learning-rate schedules",
    "07": "data augmentation",
    "08": "training practice",
}
WITHIN = 1.5  # the summary's threshold on the ratio reference / built-in


@dataclass(frozen=True)
class Sizes:
    affine: tuple[int, int, int]  # N, D, M
    elementwise: tuple[int, int]  # activations, regression and binary losses, dropout, layer norm
    classes: tuple[int, int]  # N, C of the classification losses and softmax
    batchnorm: tuple[int, int]  # N, D
    spatial: tuple[int, int, int, int]  # N, C, H, W
    init: tuple[int, int]  # the weight shape the initialisers fill
    widths: tuple[int, ...]  # the MLP whose parameters the optimizers, clipping and penalties use
    schedule_steps: int
    metric_samples: int


# the full MLP has ~10M parameters: weights (out, in) and biases (out,)
FULL = Sizes((256, 1024, 1024), (4096, 1024), (4096, 1000), (256, 4096), (64, 64, 32, 32), (4096, 4096),
             (2048, 2048, 2048, 768, 40), 1000, 100_000)
QUICK = Sizes((64, 256, 256), (512, 256), (512, 100), (64, 256), (8, 16, 16, 16), (512, 512), (256, 256, 10), 200, 10_000)
TINY = Sizes((4, 6, 5), (8, 6), (8, 5), (8, 6), (2, 3, 4, 4), (8, 6), (6, 5, 3), 20, 64)  # for the smoke test

Pair = tuple[Callable[[], object], Callable[[], object]]


@dataclass
class Row:
    section: str
    label: str  # "<reference> <what> vs <built-in>"
    size: str
    device: torch.device
    make: Callable[[], Pair]  # builds the inputs and returns (reference, builtin); called only when the row runs
    needs: tuple[str, ...]  # the labkit.reference names the row covers


@dataclass
class Timing:
    """Median seconds per call: wall clock and process CPU time, of the reference and of the built-in."""

    ref_wall: float
    builtin_wall: float
    ref_cpu: float
    builtin_cpu: float

    def ratio(self, clock: str = "wall") -> float:
        ref, builtin = (self.ref_wall, self.builtin_wall) if clock == "wall" else (self.ref_cpu, self.builtin_cpu)
        return ref / builtin if builtin > 0 else math.nan


# ----------------------------------------------------------------------------- timing
def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA kernels run asynchronously)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[[], object], device: torch.device, no_grad: bool) -> tuple[float, float]:
    sync(device)  # nothing queued before the clock starts
    wall, cpu = time.perf_counter(), time.process_time()
    if no_grad:
        with torch.no_grad():  # references never need autograd
            fn()
    else:
        fn()
    sync(device)  # the work is done before the clock is read
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(reference, builtin, device: torch.device, warmup: int, repeats: int) -> Timing:
    """Median wall and CPU times of ``reference()`` and ``builtin()`` after ``warmup`` untimed calls of
    each. They are timed alternately, the first of the two switching every repeat, so that a busy
    machine and cache effects touch both alike."""
    for _ in range(warmup):
        _timed(reference, device, True)
        _timed(builtin, device, False)
    ref, bi = [], []
    for i in range(repeats):
        if i % 2 == 0:
            ref.append(_timed(reference, device, True))
            bi.append(_timed(builtin, device, False))
        else:
            bi.append(_timed(builtin, device, False))
            ref.append(_timed(reference, device, True))
    med = lambda times, k: statistics.median(t[k] for t in times)  # noqa: E731
    return Timing(med(ref, 0), med(bi, 0), med(ref, 1), med(bi, 1))


def missing(*names: str) -> str | None:
    """The first reference name not (yet) in labkit.reference, else None."""
    return next((n for n in names if not hasattr(R, n)), None)


def run_row(row: Row, warmup: int, repeats: int) -> Timing | str:
    """The row's timing, or why it was skipped."""
    absent = missing(*row.needs)
    if absent is not None:
        return f"skipped: labkit.reference.{absent} is missing"
    try:
        reference, builtin = row.make()
    except ImportError as err:  # scikit-learn absent
        return f"skipped: {err}"
    return measure(reference, builtin, row.device, warmup, repeats)


# ----------------------------------------------------------------------------- building blocks
def randn(gen, device, dtype, *shape, scale=1.0) -> torch.Tensor:
    """Standard normal samples drawn on the CPU generator, then moved (same numbers on every device)."""
    return (torch.randn(shape, generator=gen) * scale).to(device, dtype)


def autograd(fn, inputs, constants=(), dout=None) -> Callable[[], None]:
    """The built-in side of a forward+backward row: ``fn(*leaves, *constants).backward(dout)``, with a
    leaf (requiring grad) for each tensor of ``inputs``; their gradients are reset at every call."""
    leaves = [t.detach().clone().requires_grad_() for t in inputs]

    def builtin():
        for leaf in leaves:
            leaf.grad = None
        fn(*leaves, *constants).backward(dout)

    return builtin


def layer_pair(fwd, bwd, torch_fn, inputs, dout, extra=()) -> Pair:
    """Reference ``bwd(dout, fwd(*inputs, *extra)[1])`` against ``torch_fn(*inputs)`` + autograd."""

    def reference():
        _, cache = fwd(*inputs, *extra)
        return bwd(dout, cache)

    return reference, autograd(torch_fn, inputs, dout=dout)


def loss_pair(ref_fn, torch_fn, pred, target) -> Pair:
    """Reference ``(loss, grad) = ref_fn(pred, target)`` against ``torch_fn(pred, target)`` + autograd."""
    return partial(ref_fn, pred, target), autograd(torch_fn, [pred], [target])


def forward_pair(ref_fn, torch_fn, scores) -> Pair:
    """Forward only: ``ref_fn(scores)`` against ``torch_fn(scores, dim=1)`` (no autograd graph)."""
    return partial(ref_fn, scores), partial(torch_fn, scores, dim=1)


def mlp_shapes(widths) -> list[tuple[int, ...]]:
    shapes = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        shapes += [(fan_out, fan_in), (fan_out,)]
    return shapes


def n_params(widths) -> str:
    count = sum(math.prod(s) for s in mlp_shapes(widths))
    return f"{count / 1e6:.1f}M params" if count >= 1e5 else f"{count} params"


# ----------------------------------------------------------------------------- 00 losses, affine
def rows_00(device, dtype, sz: Sizes, gen) -> list[Row]:
    rn = partial(randn, gen, device, dtype)
    n, d, m = sz.affine
    en, ed = sz.elementwise
    cn, cc = sz.classes
    ids = lambda: torch.randint(0, cc, (cn,), generator=gen).to(device)  # noqa: E731
    flips = lambda: torch.randint(0, 2, (en, ed), generator=gen).to(device, dtype)  # noqa: E731
    row = partial(Row, "00", device=device)
    esize, csize = f"{en}x{ed}", f"N={cn} C={cc}"
    return [
        row("affine fwd+bwd vs F.linear+autograd", f"N={n} D={d} M={m}",
            make=lambda: layer_pair(R.affine_forward, R.affine_backward, F.linear,
                                    [rn(n, d), rn(m, d, scale=d**-0.5), rn(m)], rn(n, m)),
            needs=("affine_forward", "affine_backward")),
        row("mse_loss loss+grad vs F.mse_loss+autograd", esize,
            make=lambda: loss_pair(R.mse_loss, F.mse_loss, rn(en, ed), rn(en, ed)), needs=("mse_loss",)),
        row("l1_loss loss+grad vs F.l1_loss+autograd", esize,
            make=lambda: loss_pair(R.l1_loss, F.l1_loss, rn(en, ed), rn(en, ed)), needs=("l1_loss",)),
        row("binary_cross_entropy_with_logits vs F.*+autograd", esize,
            make=lambda: loss_pair(R.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
                                   rn(en, ed, scale=3.0), flips()),
            needs=("binary_cross_entropy_with_logits",)),
        row("softmax_cross_entropy vs F.cross_entropy+autograd", csize,
            make=lambda: loss_pair(R.softmax_cross_entropy, F.cross_entropy, rn(cn, cc), ids()),
            needs=("softmax_cross_entropy",)),
        row("multiclass_hinge_loss vs C*F.multi_margin_loss+ag", csize,
            make=lambda: loss_pair(R.multiclass_hinge_loss, lambda s, y: cc * F.multi_margin_loss(s, y, margin=1.0),
                                   rn(cn, cc), ids()),
            needs=("multiclass_hinge_loss",)),
        row("softmax forward vs F.softmax", csize,
            make=lambda: forward_pair(R.softmax, F.softmax, rn(cn, cc)), needs=("softmax",)),
        row("log_softmax forward vs F.log_softmax", csize,
            make=lambda: forward_pair(R.log_softmax, F.log_softmax, rn(cn, cc)), needs=("log_softmax",)),
    ]


# ----------------------------------------------------------------------------- 01 activations
def rows_01(device, dtype, sz: Sizes, gen) -> list[Row]:
    rn = partial(randn, gen, device, dtype)
    n, c = sz.elementwise
    row = partial(Row, "01", size=f"{n}x{c}", device=device)

    def activation(name, torch_fn, *extra):
        fwd, bwd = getattr(R, f"{name}_forward"), getattr(R, f"{name}_backward")
        return layer_pair(fwd, bwd, torch_fn, [rn(n, c)], rn(n, c), extra)

    def prelu(channels):
        alpha = torch.full((channels,), 0.25).to(device, dtype)
        return layer_pair(R.prelu_forward, R.prelu_backward, F.prelu, [rn(n, c), alpha], rn(n, c))

    pair = lambda name: (f"{name}_forward", f"{name}_backward")  # noqa: E731
    return [
        row("sigmoid fwd+bwd vs torch.sigmoid+autograd", make=lambda: activation("sigmoid", torch.sigmoid),
            needs=pair("sigmoid")),
        row("tanh fwd+bwd vs torch.tanh+autograd", make=lambda: activation("tanh", torch.tanh), needs=pair("tanh")),
        row("relu fwd+bwd vs F.relu+autograd", make=lambda: activation("relu", F.relu), needs=pair("relu")),
        row("leaky_relu fwd+bwd vs F.leaky_relu+autograd",
            make=lambda: activation("leaky_relu", lambda x: F.leaky_relu(x, 0.01), 0.01), needs=pair("leaky_relu")),
        row("elu fwd+bwd vs F.elu+autograd", make=lambda: activation("elu", lambda x: F.elu(x, 1.0), 1.0),
            needs=pair("elu")),
        row("prelu (shared alpha) fwd+bwd vs F.prelu+autograd", make=lambda: prelu(1), needs=pair("prelu")),
        row(f"prelu (per-channel alpha, C={c}) fwd+bwd vs F.prelu+ag", make=lambda: prelu(c), needs=pair("prelu")),
    ]


# ----------------------------------------------------------------------------- 02 initialization
def rows_02(device, dtype, sz: Sizes, gen) -> list[Row]:
    init = torch.nn.init

    def pair(ref_name, torch_fn, **kwargs) -> Pair:
        # one generator per side on the row's device, seeded alike: both draw the same way
        g_ref = torch.Generator(device=device).manual_seed(0)
        g_torch = torch.Generator(device=device).manual_seed(0)
        ref_fn = getattr(R, ref_name)

        def reference():
            return ref_fn(sz.init, generator=g_ref, dtype=dtype, device=device, **kwargs)

        def builtin():  # the usual call: a fresh tensor, filled in place; so both sides allocate one
            return torch_fn(torch.empty(sz.init, device=device, dtype=dtype), generator=g_torch, **kwargs)

        return reference, builtin

    row = partial(Row, "02", size="x".join(map(str, sz.init)), device=device)
    relu = {"nonlinearity": "relu"}  # torch's kaiming default is leaky_relu; the contract's is relu
    return [
        row("xavier_uniform vs nn.init.xavier_uniform_", make=lambda: pair("xavier_uniform", init.xavier_uniform_),
            needs=("xavier_uniform",)),
        row("xavier_normal vs nn.init.xavier_normal_", make=lambda: pair("xavier_normal", init.xavier_normal_),
            needs=("xavier_normal",)),
        row("kaiming_uniform vs nn.init.kaiming_uniform_",
            make=lambda: pair("kaiming_uniform", init.kaiming_uniform_, **relu), needs=("kaiming_uniform",)),
        row("kaiming_normal vs nn.init.kaiming_normal_",
            make=lambda: pair("kaiming_normal", init.kaiming_normal_, **relu), needs=("kaiming_normal",)),
    ]


# ----------------------------------------------------------------------------- 03 normalization
def rows_03(device, dtype, sz: Sizes, gen) -> list[Row]:
    rn = partial(randn, gen, device, dtype)

    def batchnorm(shape, backward_name):
        c = shape[1]
        fwd = R.spatial_batchnorm_forward if len(shape) == 4 else R.batchnorm_forward
        running_mean = torch.zeros(c, device=device, dtype=dtype)
        running_var = torch.ones(c, device=device, dtype=dtype)
        torch_fn = lambda x, g, b: F.batch_norm(x, running_mean, running_var, g, b,  # noqa: E731
                                                training=True, momentum=0.1, eps=1e-5)
        gamma, beta = 1.0 + 0.1 * rn(c), 0.1 * rn(c)
        return layer_pair(fwd, getattr(R, backward_name), torch_fn, [rn(*shape), gamma, beta], rn(*shape),
                          ({"mode": "train"},))

    def layernorm():
        n, d = sz.elementwise
        torch_fn = lambda x, g, b: F.layer_norm(x, (d,), g, b, eps=1e-5)  # noqa: E731
        return layer_pair(R.layernorm_forward, R.layernorm_backward, torch_fn,
                          [rn(n, d), 1.0 + 0.1 * rn(d), 0.1 * rn(d)], rn(n, d), ({"eps": 1e-5},))

    bn = "N={} D={}".format(*sz.batchnorm)
    row = partial(Row, "03", device=device)
    return [
        row("batchnorm fwd+bwd vs F.batch_norm+autograd", bn,
            make=lambda: batchnorm(sz.batchnorm, "batchnorm_backward"),
            needs=("batchnorm_forward", "batchnorm_backward")),
        row("batchnorm fwd+bwd_alt vs F.batch_norm+autograd", bn,
            make=lambda: batchnorm(sz.batchnorm, "batchnorm_backward_alt"),
            needs=("batchnorm_forward", "batchnorm_backward_alt")),
        row("spatial_batchnorm fwd+bwd vs F.batch_norm+autograd", "x".join(map(str, sz.spatial)),
            make=lambda: batchnorm(sz.spatial, "spatial_batchnorm_backward"),
            needs=("spatial_batchnorm_forward", "spatial_batchnorm_backward")),
        row("layernorm fwd+bwd vs F.layer_norm+autograd", "N={} D={}".format(*sz.elementwise), make=layernorm,
            needs=("layernorm_forward", "layernorm_backward")),
    ]


# ----------------------------------------------------------------------------- 04 regularization
def rows_04(device, dtype, sz: Sizes, gen) -> list[Row]:
    rn = partial(randn, gen, device, dtype)
    n, d = sz.elementwise

    def dropout():
        g = torch.Generator(device=device).manual_seed(0)  # the reference draws on the row's device too
        x, dout = rn(n, d), rn(n, d)

        def reference():
            _, cache = R.dropout_forward(x, 0.5, train=True, generator=g)
            return R.dropout_backward(dout, cache)

        return reference, autograd(lambda t: F.dropout(t, 0.5, training=True), [x], dout=dout)

    def penalty(ref_name, expression, *strengths):
        weights = [rn(*s) for s in mlp_shapes(sz.widths)]
        return partial(getattr(R, ref_name), weights, *strengths), autograd(expression, weights)

    l2 = lambda *ws: 1e-4 * sum((w * w).sum() for w in ws)  # noqa: E731
    l1 = lambda *ws: 1e-5 * sum(w.abs().sum() for w in ws)  # noqa: E731
    row = partial(Row, "04", device=device)
    params = n_params(sz.widths)
    return [
        row("dropout fwd+bwd (p=0.5) vs F.dropout+autograd", f"{n}x{d}", make=dropout,
            needs=("dropout_forward", "dropout_backward")),
        row("l2_penalty loss+grads vs autograd of the sum", params,
            make=lambda: penalty("l2_penalty", l2, 1e-4), needs=("l2_penalty",)),
        row("l1_penalty loss+grads vs autograd of the sum", params,
            make=lambda: penalty("l1_penalty", l1, 1e-5), needs=("l1_penalty",)),
        row("elastic_net_penalty vs autograd of the sum", params,
            make=lambda: penalty("elastic_net_penalty", lambda *ws: l1(*ws) + l2(*ws), 1e-5, 1e-4),
            needs=("elastic_net_penalty",)),
    ]


# ----------------------------------------------------------------------------- 05 optimizers
# (rule, config given to the rule, torch.optim class, its keyword arguments, what the label shows of them)
OPTIMIZERS = [
    ("sgd", {"learning_rate": 1e-2}, "SGD", {"lr": 1e-2}, ""),
    ("sgd_momentum", {"learning_rate": 1e-2, "momentum": 0.9}, "SGD", {"lr": 1e-2, "momentum": 0.9}, "momentum"),
    ("sgd_nesterov", {"learning_rate": 1e-2, "momentum": 0.9}, "SGD",
     {"lr": 1e-2, "momentum": 0.9, "nesterov": True}, "nesterov"),
    ("adagrad", {"learning_rate": 1e-2, "eps": 1e-10}, "Adagrad", {"lr": 1e-2, "eps": 1e-10}, ""),
    ("rmsprop", {"learning_rate": 1e-2, "decay_rate": 0.99, "eps": 1e-8}, "RMSprop",
     {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8}, ""),
    ("adam", {"learning_rate": 1e-3}, "Adam", {"lr": 1e-3}, ""),
    ("adamw", {"learning_rate": 1e-3, "weight_decay": 1e-2}, "AdamW", {"lr": 1e-3, "weight_decay": 1e-2}, ""),
    ("nadam", {"learning_rate": 2e-3}, "NAdam", {"lr": 2e-3}, ""),
    ("radam", {"learning_rate": 1e-3}, "RAdam", {"lr": 1e-3}, ""),
]
FOREACH_TOO = ("adam", "sgd_momentum")  # on the CPU torch's default is the per-tensor loop: show foreach too


def optimizer_pair(rn, shapes, rule_name, config, torch_cls, torch_kwargs, foreach=None, presteps=0) -> Pair:
    rule = getattr(R, rule_name)
    params = [rn(*s) for s in shapes]
    grads = [rn(*s) for s in shapes]
    configs = [dict(config) for _ in shapes]
    torch_params = [torch.nn.Parameter(p.clone()) for p in params]
    for p, g in zip(torch_params, grads):
        p.grad = g.clone()
    opt = torch_cls(torch_params, foreach=foreach, **torch_kwargs)

    def reference():
        for i in range(len(params)):
            params[i], configs[i] = rule(params[i], grads[i], configs[i])

    with torch.no_grad():
        for _ in range(presteps):  # RAdam: past the first steps, where the adaptive term is switched off
            reference()
            opt.step()
    return reference, opt.step


def clip_pair(rn, shapes, which) -> Pair:
    grads = [rn(*s) for s in shapes]
    params = [torch.nn.Parameter(torch.empty_like(g)) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    if which == "norm":
        return partial(R.clip_grad_norm, grads, 1.0), partial(torch.nn.utils.clip_grad_norm_, params, 1.0)
    return partial(R.clip_grad_value, grads, 0.5), partial(torch.nn.utils.clip_grad_value_, params, 0.5)


def rows_05(device, dtype, sz: Sizes, gen) -> list[Row]:
    rn = partial(randn, gen, device, dtype)
    shapes = mlp_shapes(sz.widths)
    row = partial(Row, "05", size=n_params(sz.widths), device=device)
    rows = []
    for name, config, cls_name, kwargs, shown in OPTIMIZERS:
        cls = getattr(torch.optim, cls_name)
        presteps = 6 if name == "radam" else 0
        make = partial(optimizer_pair, rn, shapes, name, config, cls, kwargs, None, presteps)
        rows.append(row(f"{name} step vs {cls_name}" + (f"({shown})" if shown else ""), make=make, needs=(name,)))
        if name in FOREACH_TOO and device.type == "cpu":
            make = partial(optimizer_pair, rn, shapes, name, config, cls, kwargs, True)
            shown_foreach = f"{shown}, foreach=True" if shown else "foreach=True"
            rows.append(row(f"{name} step vs {cls_name}({shown_foreach})", make=make, needs=(name,)))
    rows += [
        row("clip_grad_norm vs nn.utils.clip_grad_norm_", make=partial(clip_pair, rn, shapes, "norm"),
            needs=("clip_grad_norm",)),
        row("clip_grad_value vs nn.utils.clip_grad_value_", make=partial(clip_pair, rn, shapes, "value"),
            needs=("clip_grad_value",)),
    ]
    return rows


# ----------------------------------------------------------------------------- 06 schedules
def schedule_pair(make_ours: Callable[[], Callable[[int], float]], make_scheduler, steps: int) -> Pair:
    """``steps`` calls of the pure function ``make_ours()(t)`` against a fresh optimizer and scheduler
    whose rate is read at each step, followed by ``scheduler.step()`` (no optimizer step is taken)."""

    def reference():
        ours = make_ours()
        return [ours(t) for t in range(steps)]

    def builtin():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        with warnings.catch_warnings():  # "scheduler.step() before optimizer.step()"
            warnings.simplefilter("ignore")
            sched = make_scheduler(opt)
            lrs = []
            for t in range(steps):
                lrs.append(opt.param_groups[0]["lr"])
                if t < steps - 1:
                    sched.step()
        return lrs

    return reference, builtin


def plateau_pair(steps: int, gen) -> Pair:
    # a validation loss that drops by a step every 100 epochs and is noisy in between
    epochs = torch.arange(steps, dtype=torch.float64)
    noise = 1e-3 * torch.randn(steps, generator=gen, dtype=torch.float64)
    metrics = (1.0 / (1.0 + torch.floor(epochs / 100)) + noise).tolist()

    def reference():
        sched = R.ReduceLROnPlateau(0.1, mode="min", factor=0.5, patience=10, threshold=1e-4)
        return [sched.step(m) for m in metrics]

    def builtin():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = S.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=10, threshold=1e-4)
        lrs = []
        for m in metrics:
            sched.step(m)
            lrs.append(opt.param_groups[0]["lr"])
        return lrs

    return reference, builtin


def rows_06(device, dtype, sz: Sizes, gen) -> list[Row]:
    if device.type != "cpu":  # plain Python on floats: one pass is enough
        return []
    T = sz.schedule_steps
    W = max(1, T // 10)  # warm-up steps
    step_size, milestones = max(1, T // 10), [3 * T // 10, 6 * T // 10, 9 * T // 10]
    cycle = max(1, T // 10)
    # (reference name, maker of its function of t, maker of the torch scheduler, built-in's label, extra names)
    table = [
        ("step_decay", lambda: partial(R.step_decay, lr0=0.1, step_size=step_size, gamma=0.5),
         lambda o: S.StepLR(o, step_size=step_size, gamma=0.5), "StepLR", ()),
        ("multistep_decay", lambda: partial(R.multistep_decay, lr0=0.1, milestones=milestones, gamma=0.1),
         lambda o: S.MultiStepLR(o, milestones=milestones, gamma=0.1), "MultiStepLR", ()),
        ("exponential_decay", lambda: partial(R.exponential_decay, lr0=0.1, gamma=0.995),
         lambda o: S.ExponentialLR(o, gamma=0.995), "ExponentialLR", ()),
        ("inverse_time_decay", lambda: partial(R.inverse_time_decay, lr0=0.1, k=0.01),
         lambda o: S.LambdaLR(o, lambda t: 1.0 / (1.0 + 0.01 * t)), "LambdaLR(1/(1+kt))", ()),
        ("inverse_sqrt_decay", lambda: partial(R.inverse_sqrt_decay, lr0=0.1),
         lambda o: S.LambdaLR(o, lambda t: 1.0 / math.sqrt(t + 1)), "LambdaLR(1/sqrt(t+1))", ()),
        ("linear_decay", lambda: partial(R.linear_decay, lr0=0.1, total_steps=T),
         lambda o: S.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=T), "LinearLR", ()),
        ("cosine_annealing", lambda: partial(R.cosine_annealing, lr0=0.1, total_steps=T, lr_min=1e-4),
         lambda o: S.CosineAnnealingLR(o, T_max=T, eta_min=1e-4), "CosineAnnealingLR", ()),
        ("cosine_warm_restarts", lambda: partial(R.cosine_warm_restarts, lr0=0.1, T_0=cycle, T_mult=2, lr_min=1e-4),
         lambda o: S.CosineAnnealingWarmRestarts(o, T_0=cycle, T_mult=2, eta_min=1e-4), "CosineAnnealingWarmRestarts", ()),
        ("with_linear_warmup", lambda: R.with_linear_warmup(partial(R.cosine_annealing, lr0=0.1, total_steps=T - W), W),
         lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=1e-3, total_iters=W), S.CosineAnnealingLR(o, T_max=T - W)],
                                  milestones=[W]),
         "SequentialLR(Linear, Cosine)", ("cosine_annealing",)),
        ("triangular_cyclic", lambda: partial(R.triangular_cyclic, lr_min=1e-3, lr_max=0.1, step_size=cycle),
         lambda o: S.CyclicLR(o, base_lr=1e-3, max_lr=0.1, step_size_up=cycle, mode="triangular", cycle_momentum=False),
         "CyclicLR", ()),
        ("one_cycle", lambda: partial(R.one_cycle, lr_max=0.1, total_steps=T),
         lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=T, anneal_strategy="cos", three_phase=False,
                                cycle_momentum=False), "OneCycleLR", ()),
    ]
    row = partial(Row, "06", size=f"{T} steps", device=device)
    rows = [row(f"{name} vs {label}", make=partial(schedule_pair, ours, sched, T), needs=(name, *extra))
            for name, ours, sched, label, extra in table]
    rows.append(row("ReduceLROnPlateau.step vs ReduceLROnPlateau.step", size=f"{T} epochs",
                    make=partial(plateau_pair, T, gen), needs=("ReduceLROnPlateau",)))
    return rows


# ----------------------------------------------------------------------------- 07, 08
def rows_07(device, dtype, sz: Sizes, gen) -> list[Row]:
    return []  # the built-ins would be torchvision's transforms (see the notes)


def metric_pair(which: str, n: int, gen) -> Pair:
    from sklearn import metrics  # imported here: only these rows need scikit-learn

    y_true = torch.randint(0, 2, (n,), generator=gen)
    if which == "precision_recall":
        wrong = torch.rand(n, generator=gen) < 0.2
        y_pred = torch.where(wrong, 1 - y_true, y_true)
        t_np, p_np = y_true.numpy(), y_pred.numpy()
        builtin = lambda: (metrics.precision_score(t_np, p_np), metrics.recall_score(t_np, p_np))  # noqa: E731
        return partial(R.precision_recall, y_true, y_pred), builtin
    scores = torch.round((y_true + torch.randn(n, generator=gen)) * 100) / 100  # rounded: ties happen
    t_np, s_np = y_true.numpy(), scores.numpy()
    return partial(R.roc_auc, y_true, scores), partial(metrics.roc_auc_score, t_np, s_np)


def rows_08(device, dtype, sz: Sizes, gen) -> list[Row]:
    if device.type != "cpu":  # scikit-learn works on NumPy arrays in host memory
        return []
    n = sz.metric_samples
    row = partial(Row, "08", size=f"{n} samples", device=device)
    return [
        row("precision_recall vs sklearn precision+recall_score", make=partial(metric_pair, "precision_recall", n, gen),
            needs=("precision_recall",)),
        row("roc_auc vs sklearn.metrics.roc_auc_score", make=partial(metric_pair, "roc_auc", n, gen),
            needs=("roc_auc",)),
    ]


ROW_BUILDERS = {"00": rows_00, "01": rows_01, "02": rows_02, "03": rows_03, "04": rows_04, "05": rows_05,
                "06": rows_06, "07": rows_07, "08": rows_08}


def build_rows(section: str, device: torch.device, dtype=torch.float32, sizes: Sizes = FULL, gen=None) -> list[Row]:
    """The rows of one section on one device (no tensor is made before a row's ``make`` is called)."""
    gen = gen if gen is not None else torch.Generator().manual_seed(0)
    return ROW_BUILDERS[section](device, dtype, sizes, gen)


# ----------------------------------------------------------------------------- notes and coverage
NO_BUILTIN = {  # section -> [(names, why they have no row)]
    "00": [(("numerical_gradient", "numerical_gradient_array", "rel_error"),
            "numerical tools (labkit.gradcheck): torch.autograd.gradcheck checks a function, it returns no gradient")],
    "01": [(("maxout_forward", "maxout_backward"), "torch.nn has no maxout layer")],
    "02": [(("compute_fans", "calculate_gain"), "a little arithmetic on a shape or a name: trivial, not benchmarked")],
    "04": [(("EarlyStopping",), "torch has no early stopping")],
    "05": [(("lookahead",), "torch.optim has no Lookahead")],
    "07": [(tuple(importlib.import_module("labkit.reference.augment").__all__),
            "the built-ins are torchvision's transforms, and torchvision is not a dependency")],
    "08": [(("ema_update",), "no functional built-in (torch.optim.swa_utils.AveragedModel wraps a whole nn.Module)"),
           (("ensemble_predict",), "a mean over a stack of tensors: no built-in"),
           (("expected_initial_loss", "update_to_weight_ratio", "log_uniform", "random_search", "on_border"),
            "no built-in")],
}
MEASURED = {  # section -> what its rows measure, where that is not plain "the same computation"
    "00": "the hinge is compared with C * F.multi_margin_loss (torch also divides by C); softmax and "
          "log_softmax are forward only (the references have no backward).",
    "02": "the built-in fills a fresh torch.empty tensor in place (its usual call), the reference returns a new "
          "tensor: both allocate one; each side draws from its own generator on the row's device, seeded alike.",
    "04": "F.dropout draws its mask from torch's global RNG, the reference from an explicit generator; the "
          "penalties' built-in is autograd of the same expression over the MLP's parameter list.",
    "05": "one step over every tensor of the MLP; torch.optim with its default implementation (a per-tensor "
          "loop on the CPU, foreach on CUDA) unless foreach=True is shown; RAdam after 6 untimed steps "
          "(rectified phase). The clipping references return new tensors, the built-ins clip .grad in place.",
    "06": "pure functions against stateful objects: the reference calls f(t) for t = 0..steps-1; the built-in "
          "builds an SGD over one parameter and the scheduler, then reads param_groups[0]['lr'] and calls "
          "scheduler.step() at each step (no optimizer step). ReduceLROnPlateau: class against class, "
          "one step(metric) per epoch. with_linear_warmup starts at 0, LinearLR at a factor > 0 (1e-3).",
    "08": "scikit-learn on NumPy arrays (converted once, not timed); CPU only. A reference far faster than "
          "scikit-learn is expected: scikit-learn inspects its inputs (target type, labels) at every call.",
}


def reference_names() -> set[str]:
    """Every public name of labkit.reference: each public module's ``__all__`` and the gradcheck tools."""
    names = {"numerical_gradient", "numerical_gradient_array", "rel_error"}
    for info in pkgutil.iter_modules(R.__path__):
        if not info.name.startswith("_"):  # _validation: the references' argument checks
            names |= set(importlib.import_module(f"labkit.reference.{info.name}").__all__)
    return names


def uncovered_names() -> list[str]:
    """Public reference names with neither a row (on the CPU) nor a note in NO_BUILTIN."""
    cpu = torch.device("cpu")
    covered = {n for s in SECTIONS for r in build_rows(s, cpu, sizes=TINY) for n in r.needs}
    covered |= {n for notes in NO_BUILTIN.values() for names, _ in notes for n in names}
    return sorted(reference_names() - covered)


# ----------------------------------------------------------------------------- main
def parse_sections(only: str | None) -> list[str]:
    if not only:
        return list(SECTIONS)
    chosen = []
    for token in only.split(","):
        key = token.strip()[:2]
        if key not in SECTIONS:
            raise SystemExit(f"--only: unknown section {token.strip()!r}; expected some of {', '.join(SECTIONS)}")
        chosen.append(key)
    return [s for s in SECTIONS if s in chosen]


def main(argv=None) -> list[tuple[Row, Timing]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and 3 repeats (a smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per row (default 15, quick 3)")
    parser.add_argument("--only", default=None, help="sections to run, e.g. 05 or 00,03 (default: all)")
    parser.add_argument("--cpu-time", action="store_true", help="also report process CPU time (all threads)")
    parser.add_argument("--cpu-only", action="store_true", help="skip CUDA even when present")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    sections = parse_sections(args.only)
    sizes = QUICK if args.quick else FULL
    repeats = args.repeats or (3 if args.quick else 15)
    warmup = 1 if args.quick else 2
    dtype = torch.float32
    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))

    names = [f"cpu ({torch.get_num_threads()} threads)"]
    if len(devices) > 1:
        names.append(f"cuda ({torch.cuda.get_device_name(0)})")
    print(f"device: {' + '.join(names)} | dtype: {str(dtype).replace('torch.', '')} | threads: "
          f"{torch.get_num_threads()} | torch {torch.__version__} | median of {repeats} after {warmup} warm-up | "
          f"{'quick' if args.quick else 'full'} sizes")
    header = f"{'dev':<4} {'benchmark':<56} {'size':<16} {'ref ms':>10} {'built-in ms':>11} {'ratio':>6}"
    if args.cpu_time:
        header += f" {'ref cpu ms':>10} {'b-in cpu ms':>11} {'cpu ratio':>9}"
    print(header)
    print("-" * len(header))

    started = time.perf_counter()
    results: list[tuple[Row, Timing]] = []
    for section in sections:
        print(f"[{section}] {SECTIONS[section]}")
        n_rows = 0
        for device in devices:
            for row in build_rows(section, device, dtype, sizes):
                n_rows += 1
                timing = run_row(row, warmup, repeats)
                start = f"{device.type:<4} {row.label:<56} {row.size:<16}"
                if isinstance(timing, str):
                    print(f"{start} {timing}")
                    continue
                line = f"{start} {timing.ref_wall * 1e3:>10.3f} {timing.builtin_wall * 1e3:>11.3f} {timing.ratio():>6.2f}"
                if args.cpu_time:
                    line += (f" {timing.ref_cpu * 1e3:>10.3f} {timing.builtin_cpu * 1e3:>11.3f}"
                             f" {timing.ratio('cpu'):>9.2f}")
                print(line, flush=True)
                results.append((row, timing))
        if n_rows == 0:
            print("     (no row: no built-in, see the notes below)")

    print("\nratio = reference time / built-in time (below 1: the reference is faster)")
    clocks = ["wall", "cpu"] if args.cpu_time else ["wall"]
    for clock in clocks:
        slow = [(r, t) for r, t in results if not t.ratio(clock) <= WITHIN]
        print(f"summary ({clock} clock): {len(results) - len(slow)} of {len(results)} rows within {WITHIN}x of "
              f"their built-in" + (":" if not slow else "; not within:"))
        for r, t in slow:
            print(f"  [{r.section}] {r.device.type} {r.label}: {t.ratio(clock):.2f}")
    print("\nwhat is measured:")
    for section in sections:
        if section in MEASURED:
            print(f"  [{section}] {MEASURED[section]}")
    print("no built-in (no row):")
    for section in sections:
        for names_, why in NO_BUILTIN.get(section, []):
            print(f"  [{section}] {', '.join(names_)}: {why}")
    left = uncovered_names()
    print("coverage: every public name of labkit.reference has a row or a note above" if not left
          else f"coverage: no row and no note for {', '.join(left)}")
    print(f"total time {time.perf_counter() - started:.0f} s")
    return results


if __name__ == "__main__":
    main()
