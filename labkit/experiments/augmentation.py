"""Experiments of notebook 07 (data augmentation), each a function of the student's transforms and a seed.

Every function takes the transforms it needs as arguments (the notebook passes the student's, the claim
tests pass the references), runs in seconds on the digits or the bundled photos, and returns plain
numbers; ``THRESHOLDS`` holds what the notebook's checked claims assert (measured on 20 seeds, see
``tests/claims/test_claims_07.py``).

Example
-------
>>> from labkit.reference import hflip
>>> r = flipped_digits(hflip, seed=0)            # doctest: +SKIP
>>> r["val_acc"] - r["flipped_acc"] > 0.3        # doctest: +SKIP
True
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from ..data import load_digits, load_sample_photos

__all__ = ["THRESHOLDS", "train_mlp", "accuracy", "flipped_digits", "shift_invariance", "augmented_vs_new", "tta_gain", "colour_rules",
           "photo_pca", "lighting_offsets", "affine_composition", "beta_law", "mixup_labels", "cutmix_area"]

THRESHOLDS = {
    "digits_val_acc": (0.93, 1.0),  # 07-01 val accuracy of the MLP on D
    "flip_drop": 0.3,  # 07-01 accuracy lost on horizontally flipped digits: at least
    "shift_gain": 0.3,  # 07-02 accuracy on shifted digits, trained with shifts minus without: at least
    "new_vs_augmented": 0.0,  # 07-04 val accuracy with 2n real digits minus n digits + shifts: at least
    "tta_change": -0.01,  # 07-05 TTA accuracy minus single view: at least
    "colour_exact": 1e-6,  # 07-06 the blends' rules, largest deviation: at most
    "pc1_share": 0.85,  # 07-07 share of the RGB variance on the first principal component: at least
    "offset_cov_rel": 0.05,  # 07-07 empirical covariance of the offsets against the law's: at most (relative)
    "offset_pc1_energy": 0.95,  # 07-07 share of the offsets' energy along PC1: at least
    "affine_compose": 1e-12,  # 07-08 rotations and scales compose exactly: at most
    "lam_mean": (0.49, 0.51),  # 07-09 mean of 20000 lam draws
    "lam_extreme_02": (0.65, 0.70),  # 07-09 P(lam < 0.1 or lam > 0.9) for alpha = 0.2
    "lam_extreme_1": (0.18, 0.22),  # 07-09 ... for alpha = 1
    "mix_exact": 1e-6,  # 07-09, 07-10 label rules: at most
}


def _mlp(hidden: int = 256) -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))


def train_mlp(x: torch.Tensor, y: torch.Tensor, *, steps: int = 300, lr: float = 1e-3, seed: int = 0,
              augment: Callable | None = None, device=None) -> nn.Module:
    """An MLP 64-256-10 trained full-batch with Adam on images ``x`` ``(N, 1, 8, 8)``, labels ``y``.

    ``augment(x, generator) -> x`` transforms the batch afresh at every step (None: no augmentation).
    """
    if x.dim() != 4 or x.shape[1:] != (1, 8, 8):
        raise ValueError(f"x must be digits of shape (N, 1, 8, 8), got {tuple(x.shape)}")
    device = device or "cpu"
    torch.manual_seed(seed)
    model = _mlp().to(device)
    g = torch.Generator().manual_seed(seed + 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x, y = x.to(device), y.to(device)
    for _ in range(steps):
        xb = augment(x, g) if augment is not None else x
        loss = nn.functional.cross_entropy(model(xb), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` that ``model`` classifies as ``y``."""
    dev = next(model.parameters()).device
    return float((model(x.to(dev)).argmax(1).cpu() == y.cpu()).double().mean())


def _digits(seed: int):
    d = load_digits(seed=seed)
    return d.train.x, d.train.y, d.val.x, d.val.y


def _raw_range(x: torch.Tensor) -> torch.Tensor:
    """Standardised digits moved to [0, 1] (the transforms take images in [0, 1])."""
    lo, hi = x.min(), x.max()
    return (x - lo) / (hi - lo)


def flipped_digits(hflip: Callable, seed: int = 0, device=None, steps: int = 300) -> dict:
    """07-01: an MLP trained on the digits, its validation accuracy on the digits and on their mirror images."""
    xt, yt, xv, yv = _digits(seed)
    xt, xv = _raw_range(xt), _raw_range(xv)
    model = train_mlp(xt, yt, steps=steps, seed=seed, device=device)
    per_class = []
    flipped = hflip(xv)
    with torch.no_grad():
        pred = model(flipped.to(next(model.parameters()).device)).argmax(1).cpu()
    for k in range(10):
        m = yv == k
        per_class.append(float((pred[m] == k).double().mean()) if m.any() else float("nan"))
    return {"val_acc": accuracy(model, xv, yv), "flipped_acc": accuracy(model, flipped, yv),
            "per_class_flipped": per_class}


def shift_invariance(random_crop: Callable, seed: int = 0, n: int = 100, device=None, steps: int = 300) -> dict:
    """07-02: 100 digits, trained with and without random ±1-pixel shifts (pad 1, random 8x8 crop); accuracy
    on clean and on randomly shifted validation digits."""
    xt, yt, xv, yv = _digits(seed)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(xt), generator=g)[:n]
    xt, yt, xv = _raw_range(xt)[idx], yt[idx], _raw_range(xv)
    shift = lambda x, gen: random_crop(x, 8, padding=1, generator=gen)  # noqa: E731
    plain = train_mlp(xt, yt, steps=steps, lr=3e-3, seed=seed, device=device)
    aug = train_mlp(xt, yt, steps=steps, lr=3e-3, seed=seed, augment=shift, device=device)
    xs = random_crop(xv, 8, padding=1, generator=torch.Generator().manual_seed(seed + 99))
    return {"plain_clean": accuracy(plain, xv, yv), "plain_shifted": accuracy(plain, xs, yv),
            "aug_clean": accuracy(aug, xv, yv), "aug_shifted": accuracy(aug, xs, yv)}


def augmented_vs_new(random_crop: Callable, seed: int = 0, n: int = 100, device=None, steps: int = 400) -> dict:
    """07-04: validation accuracy of an MLP trained on 2n real digits against one trained on n digits with
    random ±1-pixel shifts (pad 1, random 8x8 crop) at every step."""
    xt, yt, xv, yv = _digits(seed)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(xt), generator=g)[:2 * n]
    xt, yt, xv = _raw_range(xt)[idx], yt[idx], _raw_range(xv)
    real = train_mlp(xt, yt, steps=steps, lr=1e-3, seed=seed, device=device)
    aug = train_mlp(xt[:n], yt[:n], steps=steps, lr=1e-3, seed=seed, device=device,
                    augment=lambda x, gen: random_crop(x, 8, padding=1, generator=gen))
    return {"real_2n": accuracy(real, xv, yv), "aug_n": accuracy(aug, xv, yv)}


def _shifts(x: torch.Tensor) -> list[Callable]:
    def make(dy, dx):
        def shift(z):
            zp = nn.functional.pad(z, (1, 1, 1, 1))
            return zp[:, :, 1 + dy:1 + dy + z.shape[2], 1 + dx:1 + dx + z.shape[3]]
        return shift
    return [make(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def tta_gain(random_crop: Callable, tta_predict: Callable, seed: int = 0, n: int = 300, device=None,
             steps: int = 300) -> dict:
    """07-05: a shift-augmented MLP on 300 digits; accuracy and NLL of the single view against the average over
    the 9 one-pixel shifts (``tta_predict``)."""
    xt, yt, xv, yv = _digits(seed)
    g = torch.Generator().manual_seed(seed)
    idx = torch.randperm(len(xt), generator=g)[:n]
    xt, yt, xv = _raw_range(xt)[idx], yt[idx], _raw_range(xv)
    model = train_mlp(xt, yt, steps=steps, lr=3e-3, seed=seed, device=device,
                      augment=lambda x, gen: random_crop(x, 8, padding=1, generator=gen))
    dev = next(model.parameters()).device

    @torch.no_grad()
    def predict(z):
        return model(z.to(dev)).softmax(1).cpu()

    single = predict(xv)
    avg = tta_predict(predict, xv, _shifts(xv))
    nll = lambda p: float(-torch.log(p[torch.arange(len(yv)), yv].clamp_min(1e-12)).mean())  # noqa: E731
    return {"single_acc": float((single.argmax(1) == yv).double().mean()),
            "tta_acc": float((avg.argmax(1) == yv).double().mean()),
            "single_nll": nll(single), "tta_nll": nll(avg)}


def colour_rules(adjust_brightness, adjust_contrast, adjust_saturation, rgb_to_grayscale, seed: int = 0) -> dict:
    """07-06: the three blends on random images kept away from the clamp: their largest deviations from the rules."""
    g = torch.Generator().manual_seed(seed)
    x = 0.3 + 0.3 * torch.rand(6, 3, 8, 8, generator=g, dtype=torch.float64)  # f x stays below 1 for f <= 1.5
    f = 0.5 + float(torch.rand(1, generator=g))
    grey = rgb_to_grayscale(x)
    mean = grey.mean(dim=(1, 2, 3), keepdim=True)
    return {
        "brightness_is_scaling": float((adjust_brightness(x, f) - f * x).abs().max()),
        "contrast0_is_mean_grey": float((adjust_contrast(x, 0.0) - mean.expand_as(x)).abs().max()),
        "saturation0_is_grey": float((adjust_saturation(x, 0.0) - grey.expand_as(x)).abs().max()),
        "factor1_identity": max(float((fn(x, 1.0) - x).abs().max())
                                for fn in (adjust_brightness, adjust_contrast, adjust_saturation)),
    }


def photo_pca(photos: torch.Tensor | None = None) -> dict:
    """07-07: the eigenvalues (ascending, as ``torch.linalg.eigh``) and eigenvectors (columns) of the photos'
    RGB covariance, and the share of the variance on the first component."""
    photos = load_sample_photos(dtype=torch.float64) if photos is None else photos.to(torch.float64)
    pix = photos.permute(0, 2, 3, 1).reshape(-1, 3)
    cov = torch.cov(pix.T)
    lam, vec = torch.linalg.eigh(cov)
    return {"cov": cov, "eigvals": lam, "eigvecs": vec, "pc1_share": float(lam[-1] / lam.sum()),
            "pc1": vec[:, -1] * torch.sign(vec[:, -1].sum())}


def lighting_offsets(pca_lighting: Callable, seed: int = 0, n: int = 20000, alphastd: float = 0.1) -> dict:
    """07-07: ``n`` lighting offsets of a grey image (one pixel per image): their covariance against the law's
    ``alphastd^2 V diag(lam^2) V^T`` and the share of their energy along the first component."""
    p = photo_pca()
    lam, vec = p["eigvals"], p["eigvecs"]
    x = torch.full((n, 3, 1, 1), 0.5, dtype=torch.float64)
    off = (pca_lighting(x, lam, vec, alphastd, generator=torch.Generator().manual_seed(seed)) - x).reshape(n, 3)
    emp = off.T @ off / n
    law = alphastd ** 2 * vec @ torch.diag(lam ** 2) @ vec.T
    along = off @ vec[:, -1]
    return {"offsets": off, "cov_rel_error": float((emp - law).norm() / law.norm()),
            "pc1_energy": float((along ** 2).sum() / (off ** 2).sum())}


def affine_composition(affine_matrix: Callable, affine: Callable, seed: int = 0) -> dict:
    """07-08: rotations (and scales) compose exactly as matrices; warping twice differs from warping once."""
    g = torch.Generator().manual_seed(seed)
    a1, a2 = (float(v) for v in (torch.rand(2, generator=g) * 80 - 40))
    s1, s2 = (float(v) for v in (0.8 + 0.4 * torch.rand(2, generator=g)))
    rot = float((affine_matrix(a1, (0, 0), 1.0, 0) @ affine_matrix(a2, (0, 0), 1.0, 0)
                 - affine_matrix(a1 + a2, (0, 0), 1.0, 0)).abs().max())
    sca = float((affine_matrix(0, (0, 0), s1, 0) @ affine_matrix(0, (0, 0), s2, 0)
                 - affine_matrix(0, (0, 0), s1 * s2, 0)).abs().max())
    photo = load_sample_photos(dtype=torch.float64)[:1, :, 100:164, 200:264]
    twice = affine(affine(photo, a1, (0, 0), 1.0, 0), a2, (0, 0), 1.0, 0)
    once = affine(photo, a1 + a2, (0, 0), 1.0, 0)
    c = slice(16, 48)  # the centre, where neither warp reads outside the image
    return {"rotation_error": rot, "scale_error": sca,
            "twice_vs_once": float((twice - once)[..., c, c].abs().mean()), "once": once, "twice": twice,
            "photo": photo}


def beta_law(mixup: Callable, seed: int = 0, n: int = 20000) -> dict:
    """07-09: ``n`` weights lam from ``mixup`` (tiny batches) for alpha = 0.2 and 1: mean and P(lam < 0.1 or > 0.9)."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(2, 1, 1, 1, dtype=torch.float64)
    y = torch.eye(2, dtype=torch.float64)
    out = {}
    for alpha in (0.2, 1.0):
        lam = torch.tensor([float(mixup(x, y, alpha, generator=g)[2]) for _ in range(n)], dtype=torch.float64)
        out[alpha] = {"mean": float(lam.mean()), "extreme": float(((lam < 0.1) | (lam > 0.9)).double().mean()),
                      "lams": lam}
    return out


def mixup_labels(mixup: Callable, seed: int = 0) -> dict:
    """07-09: soft labels of one mixed batch: rows sum to 1 and the label weight equals the image weight."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(16, 3, 4, 4, generator=g, dtype=torch.float64)
    y = nn.functional.one_hot(torch.randint(0, 5, (16,), generator=g), 5).to(torch.float64)
    xm, ym, lam = mixup(x, y, 1.0, generator=g)
    # the image weight, read back from the pixels: xm = lam x + (1 - lam) x[j] for the partner j
    err = 0.0
    for n in range(16):
        res = [(float((xm[n] - (lam * x[n] + (1 - lam) * x[j])).abs().max()), j) for j in range(16)]
        _, j = min(res)
        err = max(err, float((ym[n] - (lam * y[n] + (1 - lam) * y[j])).abs().max()))
    return {"row_sum_error": float((ym.sum(1) - 1).abs().max()), "label_vs_image": err, "lam": float(lam)}


def cutmix_area(cutmix: Callable, seed: int = 0, trials: int = 20) -> dict:
    """07-10: over ``trials`` batches of random images, the largest |pasted fraction - (1 - lam)| and the
    largest deviation of y_mix from the mix of the partners' labels; how many boxes were clipped."""
    g = torch.Generator().manual_seed(seed)
    worst_area = worst_label = 0.0
    clipped = 0
    for _ in range(trials):
        x = torch.rand(10, 3, 12, 16, generator=g, dtype=torch.float64)
        y = nn.functional.one_hot(torch.randint(0, 4, (10,), generator=g), 4).to(torch.float64)
        xm, ym, lam = cutmix(x, y, 1.0, generator=g)
        changed = (xm != x).any(1)  # (N, H, W)
        moved = changed.any(0)
        worst_area = max(worst_area, abs(float(moved.double().mean()) - (1 - lam)))
        rows, cols = moved.any(1).nonzero(), moved.any(0).nonzero()
        if len(rows) and (rows.min() == 0 or rows.max() == 11 or cols.min() == 0 or cols.max() == 15):
            clipped += 1
        for n in range(10):
            if changed[n].any():
                j = min(range(10), key=lambda k: float((xm[n][:, moved] - x[k][:, moved]).abs().max()))
            else:
                j = n
            worst_label = max(worst_label, float((ym[n] - (lam * y[n] + (1 - lam) * y[j])).abs().max()))
    return {"area_error": worst_area, "label_error": worst_label, "clipped": clipped}
