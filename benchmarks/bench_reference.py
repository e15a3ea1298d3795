"""Speed of the labkit references against the PyTorch built-ins they are validated against.

Each row times the reference and the built-in in the same run (warm-up, then the median of
several repeats) and prints both times and their ratio (reference / built-in; below 1 means the
reference is faster). Rows run on the CPU, and on CUDA too when present. Nothing is asserted.

    python benchmarks/bench_reference.py            # full sizes (about a minute on 2 CPU cores)
    python benchmarks/bench_reference.py --quick    # tiny sizes, a few seconds

Rows: softmax cross-entropy forward+backward vs ``F.cross_entropy`` + autograd; batch norm
forward+backward ((N, D) and spatial (N, C, H, W)) vs ``F.batch_norm`` + autograd; one step of the
``adam`` and ``sgd_momentum`` rules over a ~10M-parameter list of tensors vs ``torch.optim.Adam`` /
``SGD`` with their default implementation (a per-tensor loop on the CPU, ``foreach`` on CUDA).
"""
from __future__ import annotations

import argparse
import statistics
import time
from functools import partial
from typing import Callable

import torch
import torch.nn.functional as F

import labkit.reference as R

# layer shapes of a ~10M-parameter MLP: weights (out, in) and biases (out,)
MLP_WIDTHS = [2048, 2048, 2048, 768, 40]


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def paired_median_times(reference, builtin, device, warmup: int, repeats: int) -> tuple[float, float]:
    """Median wall times (seconds) of ``reference()`` and ``builtin()`` after ``warmup`` untimed calls
    of each. The two are timed alternately, so that a busy machine slows both alike."""
    for _ in range(warmup):
        with torch.no_grad():
            reference()
        builtin()
    sync(device)
    t_ref, t_builtin = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        with torch.no_grad():  # references never need autograd
            reference()
        sync(device)
        middle = time.perf_counter()
        builtin()
        sync(device)
        t_ref.append(middle - start)
        t_builtin.append(time.perf_counter() - middle)
    return statistics.median(t_ref), statistics.median(t_builtin)


def missing(*names: str) -> str | None:
    """The first reference name not (yet) in labkit.reference, else None."""
    return next((n for n in names if not hasattr(R, n)), None)


# ----------------------------------------------------------------------------- rows
def bench_cross_entropy(device, dtype, n, c, gen):
    scores = torch.randn(n, c, generator=gen).to(device, dtype)
    y = torch.randint(0, c, (n,), generator=gen).to(device)
    leaf = scores.clone().requires_grad_()

    def reference():
        return R.softmax_cross_entropy(scores, y)

    def builtin():
        leaf.grad = None
        F.cross_entropy(leaf, y).backward()

    return reference, builtin


def bench_batchnorm(device, dtype, shape, gen, backward_name="batchnorm_backward"):
    spatial = len(shape) == 4
    fwd = R.spatial_batchnorm_forward if spatial else R.batchnorm_forward
    bwd = R.spatial_batchnorm_backward if spatial else getattr(R, backward_name)
    c = shape[1]
    x = torch.randn(shape, generator=gen).to(device, dtype)
    dout = torch.randn(shape, generator=gen).to(device, dtype)
    gamma, beta = torch.ones(c, device=device, dtype=dtype), torch.zeros(c, device=device, dtype=dtype)
    bn_param = {"mode": "train"}
    x_leaf, g_leaf, b_leaf = (t.clone().requires_grad_() for t in (x, gamma, beta))
    running_mean, running_var = torch.zeros(c, device=device, dtype=dtype), torch.ones(c, device=device, dtype=dtype)

    def reference():
        out, cache = fwd(x, gamma, beta, bn_param)
        return bwd(dout, cache)

    def builtin():
        for t in (x_leaf, g_leaf, b_leaf):
            t.grad = None
        out = F.batch_norm(x_leaf, running_mean, running_var, g_leaf, b_leaf, training=True, momentum=0.1, eps=1e-5)
        out.backward(dout)

    return reference, builtin


def mlp_shapes(widths):
    shapes = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        shapes += [(fan_out, fan_in), (fan_out,)]
    return shapes


def bench_optimizer(device, dtype, shapes, gen, rule, torch_cls, config, torch_kwargs, foreach=None):
    params = [torch.randn(s, generator=gen).to(device, dtype) for s in shapes]
    grads = [torch.randn(s, generator=gen).to(device, dtype) for s in shapes]
    configs = [dict(config) for _ in shapes]
    torch_params = [torch.nn.Parameter(p.clone()) for p in params]
    for p, g in zip(torch_params, grads):
        p.grad = g.clone()
    opt = torch_cls(torch_params, foreach=foreach, **torch_kwargs)

    def reference():
        for i in range(len(params)):
            params[i], configs[i] = rule(params[i], grads[i], configs[i])

    return reference, opt.step


# ----------------------------------------------------------------------------- main
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and few repeats (a smoke run)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per entry (default 9, quick 3)")
    parser.add_argument("--cpu-only", action="store_true", help="skip CUDA even when present")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    quick = args.quick
    repeats = args.repeats or (3 if quick else 9)
    warmup = 1 if quick else 2
    dtype = torch.float32
    ce_size = (512, 100) if quick else (4096, 1000)
    bn_size = (64, 256) if quick else (256, 4096)
    sbn_size = (8, 16, 16, 16) if quick else (64, 64, 32, 32)
    widths = [256, 256, 10] if quick else MLP_WIDTHS
    shapes = mlp_shapes(widths)
    n_params = sum(torch.Size(s).numel() for s in shapes)

    devices = [torch.device("cpu")]
    if torch.cuda.is_available() and not args.cpu_only:
        devices.append(torch.device("cuda"))

    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, float32, "
          f"median of {repeats} after {warmup} warm-up{' (quick)' if quick else ''}")
    if torch.cuda.is_available() and not args.cpu_only:
        print(f"CUDA: {torch.cuda.get_device_name(0)}")
    header = f"{'device':<6} {'benchmark':<52} {'reference ms':>12} {'built-in ms':>12} {'ratio':>7}"
    print(header)
    print("-" * len(header))

    for device in devices:
        gen = torch.Generator().manual_seed(0)
        opt = partial(bench_optimizer, device, dtype, shapes, gen)
        sizes = "x".join(map(str, sbn_size))
        rows = [  # (label, builder of the (reference, built-in) pair, reference names needed)
            (f"softmax_cross_entropy fwd+bwd N={ce_size[0]} C={ce_size[1]}",
             partial(bench_cross_entropy, device, dtype, *ce_size, gen), ["softmax_cross_entropy"]),
            (f"batchnorm fwd+bwd N={bn_size[0]} D={bn_size[1]}",
             partial(bench_batchnorm, device, dtype, bn_size, gen), ["batchnorm_forward", "batchnorm_backward"]),
            (f"batchnorm fwd+bwd_alt N={bn_size[0]} D={bn_size[1]}",
             partial(bench_batchnorm, device, dtype, bn_size, gen, "batchnorm_backward_alt"),
             ["batchnorm_forward", "batchnorm_backward_alt"]),
            (f"spatial_batchnorm fwd+bwd {sizes}",
             partial(bench_batchnorm, device, dtype, sbn_size, gen),
             ["spatial_batchnorm_forward", "spatial_batchnorm_backward"]),
        ]
        adam_args = ("adam", torch.optim.Adam, {"learning_rate": 1e-3}, {"lr": 1e-3})
        sgdm_args = ("sgd_momentum", torch.optim.SGD, {"learning_rate": 1e-2, "momentum": 0.9}, {"lr": 1e-2, "momentum": 0.9})
        for rule_name, cls, cfg, kw in (adam_args, sgdm_args):
            rule = getattr(R, rule_name, None)
            rows.append((f"{rule_name} step, {n_params / 1e6:.1f}M params vs {cls.__name__}",
                         partial(opt, rule, cls, cfg, kw), [rule_name]))
            if device.type == "cpu":  # torch's CPU default is the per-tensor loop; show foreach too
                rows.append((f"{rule_name} step vs {cls.__name__}(foreach=True)",
                             partial(opt, rule, cls, cfg, kw, True), [rule_name]))

        for label, make, needed in rows:
            absent = missing(*needed)
            if absent is not None:
                print(f"{device.type:<6} {label:<52} skipped: labkit.reference.{absent} is missing")
                continue
            reference, builtin = make()
            t_ref, t_builtin = paired_median_times(reference, builtin, device, warmup, repeats)
            ms_ref, ms_builtin = t_ref * 1e3, t_builtin * 1e3
            print(f"{device.type:<6} {label:<52} {ms_ref:>12.3f} {ms_builtin:>12.3f} {t_ref / t_builtin:>7.2f}")
            del reference, builtin
    print("ratio = reference time / built-in time (lower is better for the reference)")


if __name__ == "__main__":
    main()
