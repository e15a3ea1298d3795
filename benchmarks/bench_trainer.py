"""Throughput of ``labkit.train.train`` (training samples per second) against a plain hand-written loop.

Two workloads on the scikit-learn digits (1257 training images of 1x8x8): an MLP 64-128-10 and a small
CNN (two 3x3 convolutions, 16 and 32 channels, a 2x2 max-pool, a linear layer). For every device
present (CPU, and CUDA when available) and every workload, three runs over the same data, model and
optimizer (Adam, batch 64), each timed over whole epochs after one warm-up epoch:

- ``baseline``: the loop anyone would write (randperm, slice, forward, loss, zero_grad, backward, step);
- ``trainer``: ``train(..., quiet=True, train_acc_samples=0)``, the same work plus its per-iteration
  bookkeeping (loss and lr history, callbacks);
- ``trainer+eval``: ``train`` with its defaults and a validation set: accuracy on 1000 training samples
  and on the validation set after every epoch.

Prints samples/s and the ratio to the baseline measured in the same run (the median of ``--repeats``
runs). Asserts nothing.

    python benchmarks/bench_trainer.py            # about a minute on a laptop CPU
    python benchmarks/bench_trainer.py --quick    # a few seconds
    python benchmarks/bench_trainer.py --threads 1 --clock cpu   # steadier figures on a shared machine
"""
from __future__ import annotations

import argparse
import copy
import statistics
import time

import torch
from torch import nn

from labkit.data import load_digits
from labkit.device import available_devices, describe_device
from labkit.train import train


def digits_mlp() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def digits_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),          # (N, 1, 8, 8) -> (N, 16, 8, 8)
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),         # -> (N, 32, 8, 8)
        nn.MaxPool2d(2), nn.Flatten(),                      # -> (N, 32 * 4 * 4)
        nn.Linear(512, 10),
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def baseline_loop(model, x, y, epochs, batch_size, gen):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(x.shape[0], generator=gen).to(x.device)
        for i in range(0, x.shape[0], batch_size):
            idx = perm[i:i + batch_size]
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def trainer_loop(model, x, y, epochs, batch_size, gen, val=None):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    extra = {} if val is not None else {"train_acc_samples": 0}
    train(model, nn.CrossEntropyLoss(), opt, (x, y), val, epochs=epochs, batch_size=batch_size, quiet=True,
          device=x.device, generator=gen, **extra)


def measure(loops, inits, x, y, epochs, batch_size, device, clock=time.perf_counter) -> dict[str, float]:
    """Median samples/s of each loop over the initial models ``inits``. The loops take turns within each
    repeat (so a busy machine slows them alike) and start from copies of the same weights."""
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for r, init in enumerate(inits):
        for name, (run, kw) in loops.items():
            model = copy.deepcopy(init).to(device)
            gen = torch.Generator().manual_seed(r)
            run(model, x, y, 1, batch_size, gen, **kw)       # warm-up (allocations, kernels, caches)
            sync(device)
            start = clock()
            run(model, x, y, epochs, batch_size, gen, **kw)
            sync(device)
            rates[name].append(epochs * x.shape[0] / (clock() - start))
    return {name: statistics.median(r) for name, r in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and one repeat")
    parser.add_argument("--epochs", type=int, default=None, help="timed epochs per run (default 20, quick 3)")
    parser.add_argument("--repeats", type=int, default=None, help="runs per measurement (default 3, quick 1)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", choices=["all", "cpu", "cuda"], default="all")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: time CPU runs by this process's CPU time (steadier on a shared machine, "
                             "meaningful with --threads 1); CUDA runs always use the wall clock")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    epochs = args.epochs or (3 if args.quick else 20)
    repeats = args.repeats or (1 if args.quick else 3)

    devices = [d for d in available_devices() if args.device in ("all", d.type)]
    if args.device == "cuda" and not devices:
        print("no CUDA device on this machine")
    data = load_digits(seed=0)
    print(f"torch {torch.__version__}; batch {args.batch_size}; {epochs} timed epochs of {len(data.train)} samples; "
          f"median of {repeats} run(s); {args.clock} clock for the CPU")
    header = f"{'device':<28} {'model':<6} {'loop':<13} {'samples/s':>12} {'vs baseline':>12}"
    print(header)
    print("-" * len(header))
    for device in devices:
        d = data.to(device)
        name = describe_device(device)
        for label, make in (("mlp", digits_mlp), ("cnn", digits_cnn)):
            inits = [make() for _ in range(repeats)]
            loops = {"baseline": (baseline_loop, {}), "trainer": (trainer_loop, {}),
                     "trainer+eval": (trainer_loop, {"val": (d.val.x, d.val.y)})}
            clock = time.process_time if args.clock == "cpu" and device.type == "cpu" else time.perf_counter
            rates = measure(loops, inits, d.train.x, d.train.y, epochs, args.batch_size, device, clock)
            for loop, rate in rates.items():
                print(f"{name:<28} {label:<6} {loop:<13} {rate:>12,.0f} {rate / rates['baseline']:>11.2f}x")

if __name__ == "__main__":
    main()
