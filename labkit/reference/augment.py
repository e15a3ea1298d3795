"""Data augmentation on batches of images ``x`` ``(N, C, H, W)``, float, values in [0, 1].

Each random transform is a deterministic "apply" function (``hflip``, ``crop``, ``adjust_*``,
``affine``) plus a random wrapper that draws every per-sample parameter at once from ``generator``
(on the generator's device, then moved), so one seed gives the same result on every device.
Colour and geometry follow torchvision's conventions; ``mixup`` and ``cutmix`` mix whole batches.

Example
-------
>>> g = torch.Generator().manual_seed(0)
>>> x = torch.rand(8, 3, 32, 32)
>>> x = random_crop(random_horizontal_flip(x, generator=g), 32, padding=4, generator=g)
>>> x = color_jitter(x, brightness=0.4, contrast=0.4, saturation=0.4, generator=g)
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._validation import check_images, check_int, check_number, check_one_hot

__all__ = [
    "hflip", "crop", "random_horizontal_flip", "random_crop",
    "rgb_to_grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation", "color_jitter",
    "pca_lighting", "affine_matrix", "affine", "warp", "cutout", "mixup", "cutmix", "tta_predict",
]

_LUMA = (0.299, 0.587, 0.114)  # ITU-R 601-2 weights of R, G, B


def _draw_device(generator: torch.Generator | None) -> torch.device:
    return generator.device if generator is not None else torch.device("cpu")


def _uniform(n: int, low: float, high: float, generator, like: torch.Tensor) -> torch.Tensor:
    """``n`` draws of U(low, high), drawn on the generator's device, returned like ``like``."""
    u = torch.rand(n, generator=generator, device=_draw_device(generator), dtype=torch.float64)
    return (low + (high - low) * u).to(device=like.device, dtype=like.dtype)


def _randint(high: int, n: int, generator, device: torch.device) -> torch.Tensor:
    return torch.randint(0, high, (n,), generator=generator, device=_draw_device(generator)).to(device)


def _log_gamma_draws(a: float, n: int, generator) -> torch.Tensor:
    """``log`` of ``n`` Gamma(a, 1) draws (Marsaglia-Tsang; ``Gamma(a) = Gamma(a+1) U^(1/a)`` for a < 1)."""
    dev, f64 = _draw_device(generator), torch.float64
    b = a + 1.0 if a < 1.0 else a
    d = b - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = torch.empty(n, dtype=f64, device=dev)
    todo = torch.ones(n, dtype=torch.bool, device=dev)
    while bool(todo.any()):  # a few rejection rounds over the whole vector (acceptance > 95 %)
        z = torch.randn(n, generator=generator, device=dev, dtype=f64)
        u = torch.rand(n, generator=generator, device=dev, dtype=f64)
        v = (1.0 + c * z) ** 3
        ok = (v > 0) & (torch.log(u) < 0.5 * z * z + d - d * v + d * torch.log(v.clamp_min(1e-300)))
        new = todo & ok
        out[new] = math.log(d) + torch.log(v[new])
        todo &= ~ok
    if a < 1.0:
        u = torch.rand(n, generator=generator, device=dev, dtype=f64)
        out = out + torch.log(u.clamp_min(1e-300)) / a
    return out


def _beta(alpha: float, generator) -> float:
    """One draw of Beta(alpha, alpha) = G1 / (G1 + G2) with G1, G2 ~ Gamma(alpha)."""
    lg = _log_gamma_draws(alpha, 2, generator)
    return float(torch.sigmoid(lg[0] - lg[1]))


def _factor(f, x: torch.Tensor, name: str) -> torch.Tensor:
    """A scalar or a per-sample ``(N,)`` factor as a tensor broadcastable to ``x``."""
    f = torch.as_tensor(f, dtype=x.dtype, device=x.device)
    if f.dim() == 1 and f.shape[0] == x.shape[0]:
        f = f.reshape(-1, 1, 1, 1)
    elif f.dim() != 0:
        raise ValueError(f"{name} must be a number or a tensor of shape (N,) = ({x.shape[0]},), got {tuple(f.shape)}")
    if bool((f < 0).any()):
        raise ValueError(f"{name} must be >= 0")
    return f


def _blend(a: torch.Tensor, b: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    return (f * a + (1 - f) * b).clamp(0, 1)


# ----------------------------------------------------------------------------- geometry
def hflip(x: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: ``out[n, c, i, j] = x[n, c, i, W-1-j]``; shape ``(N, C, H, W)``.

    >>> hflip(torch.tensor([[[[1., 2., 3.]]]]))
    tensor([[[[3., 2., 1.]]]])
    """
    check_images(x)
    return torch.flip(x, dims=(-1,))


def crop(x: torch.Tensor, top: int, left: int, height: int, width: int) -> torch.Tensor:
    """The window ``x[:, :, top:top+height, left:left+width]`` (a copy), ``(N, C, height, width)``.

    The window must lie inside the image.

    >>> crop(torch.arange(16.).reshape(1, 1, 4, 4), 1, 2, 2, 2)
    tensor([[[[ 6.,  7.],
              [10., 11.]]]])
    """
    check_images(x)
    H, W = x.shape[-2:]
    top, left = check_int(top, "top", minimum=0), check_int(left, "left", minimum=0)
    height, width = check_int(height, "height", minimum=1), check_int(width, "width", minimum=1)
    if top + height > H or left + width > W:
        raise ValueError(f"crop window rows {top}..{top + height - 1}, cols {left}..{left + width - 1} "
                         f"lies outside the {H}x{W} image")
    return x[:, :, top:top + height, left:left + width].clone()


def random_horizontal_flip(x: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None):
    """Flip each sample independently with probability ``p``; ``(N, C, H, W) -> (N, C, H, W)``.

    >>> out = random_horizontal_flip(torch.rand(4, 3, 8, 8), p=0.5, generator=torch.Generator().manual_seed(0))
    """
    check_images(x)
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    flip = _uniform(x.shape[0], 0.0, 1.0, generator, x) < p  # (N,), True with probability p
    return torch.where(flip.reshape(-1, 1, 1, 1), hflip(x), x)


def random_crop(x: torch.Tensor, size: int, padding: int = 0, generator: torch.Generator | None = None):
    """Zero-pad by ``padding`` on every side, then take a per-sample random ``size x size`` window.

    Top-left corners are uniform on ``{0..H+2p-size} x {0..W+2p-size}``; returns ``(N, C, size, size)``.

    >>> random_crop(torch.rand(4, 3, 32, 32), 32, padding=4, generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 3, 32, 32])
    """
    check_images(x)
    size, padding = check_int(size, "size", minimum=1), check_int(padding, "padding", minimum=0)
    N = x.shape[0]
    xp = F.pad(x, (padding, padding, padding, padding))  # (N, C, H+2p, W+2p), zeros outside
    Hp, Wp = xp.shape[-2:]
    if size > Hp or size > Wp:
        raise ValueError(f"size {size} is larger than the padded image {Hp}x{Wp}")
    top = _randint(Hp - size + 1, N, generator, x.device)  # (N,)
    left = _randint(Wp - size + 1, N, generator, x.device)
    offs = torch.arange(size, device=x.device)
    rows = (top[:, None] + offs)[:, :, None]  # (N, size, 1)
    cols = (left[:, None] + offs)[:, None, :]  # (N, 1, size)
    n = torch.arange(N, device=x.device)[:, None, None]
    out = xp[n, :, rows, cols]  # advanced indexing -> (N, size, size, C)
    return out.permute(0, 3, 1, 2).contiguous()


# ----------------------------------------------------------------------------- colour
def rgb_to_grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma ``0.299 R + 0.587 G + 0.114 B``: ``(N, 3, H, W) -> (N, 1, H, W)``.

    >>> rgb_to_grayscale(torch.tensor([1., 0., 0.]).reshape(1, 3, 1, 1)).flatten()
    tensor([0.2990])
    """
    check_images(x, channels=(3,))
    r, g, b = x.unbind(dim=1)
    return (_LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b).unsqueeze(1)


def adjust_brightness(x: torch.Tensor, f) -> torch.Tensor:
    """Blend with black: ``clamp(f * x, 0, 1)``. ``f`` >= 0, a number or per-sample ``(N,)``.

    >>> adjust_brightness(torch.full((1, 3, 1, 1), 0.4), 1.5).flatten()
    tensor([0.6000, 0.6000, 0.6000])
    """
    check_images(x)
    f = _factor(f, x, "f")
    return _blend(x, torch.zeros_like(x), f)


def adjust_contrast(x: torch.Tensor, f) -> torch.Tensor:
    """Blend with the image's mean grey level ``m``: ``clamp(f * x + (1 - f) * m, 0, 1)``.

    ``m`` is the mean of ``rgb_to_grayscale(x[n])`` over H, W (of ``x[n]`` itself when C = 1).

    >>> adjust_contrast(torch.tensor([0.2, 0.6]).reshape(1, 1, 1, 2), 0.5).flatten()
    tensor([0.3000, 0.5000])
    """
    check_images(x, channels=(1, 3))
    f = _factor(f, x, "f")
    grey = rgb_to_grayscale(x) if x.shape[1] == 3 else x
    m = grey.mean(dim=(1, 2, 3), keepdim=True)  # (N, 1, 1, 1)
    return _blend(x, m, f)


def adjust_saturation(x: torch.Tensor, f) -> torch.Tensor:
    """Blend with the grey image: ``clamp(f * x + (1 - f) * gray(x), 0, 1)``; C = 1 is returned as is.

    >>> adjust_saturation(torch.tensor([1., 0., 0.]).reshape(1, 3, 1, 1), 0.0).flatten()
    tensor([0.2990, 0.2990, 0.2990])
    """
    check_images(x, channels=(1, 3))
    f = _factor(f, x, "f")
    return x.clone() if x.shape[1] == 1 else _blend(x, rgb_to_grayscale(x), f)


def color_jitter(x: torch.Tensor, brightness: float = 0, contrast: float = 0, saturation: float = 0,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample factors ``U[max(0, 1 - v), 1 + v]``, applied as brightness, then contrast, then saturation.

    A strength ``v = 0`` leaves that property alone (factor 1).

    >>> g = torch.Generator().manual_seed(0)
    >>> out = color_jitter(torch.rand(4, 3, 8, 8), brightness=0.4, saturation=0.4, generator=g)
    """
    check_images(x, channels=(1, 3))
    out = x
    for v, name, apply in ((brightness, "brightness", adjust_brightness),
                           (contrast, "contrast", adjust_contrast),
                           (saturation, "saturation", adjust_saturation)):
        v = check_number(v, name, minimum=0)
        if v > 0:
            f = _uniform(x.shape[0], max(0.0, 1.0 - v), 1.0 + v, generator, x)  # (N,)
            out = apply(out, f)
    return out if out is not x else x.clone()


def pca_lighting(x: torch.Tensor, eigvals: torch.Tensor, eigvecs: torch.Tensor, alphastd: float = 0.1,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """AlexNet lighting noise: ``out[n] = x[n] + eigvecs @ (alpha_n * eigvals)`` added to every pixel.

    ``eigvals`` ``(3,)``, ``eigvecs`` ``(3, 3)`` with eigenvectors as columns (as ``torch.linalg.eigh``);
    ``alpha_n ~ N(0, alphastd^2 I)`` of shape ``(3,)`` per sample; no clamping.

    >>> lam, vec = torch.linalg.eigh(torch.eye(3) * 0.01)
    >>> out = pca_lighting(torch.rand(4, 3, 8, 8), lam, vec, 0.1, generator=torch.Generator().manual_seed(0))
    """
    check_images(x, channels=(3,))
    alphastd = check_number(alphastd, "alphastd", minimum=0)
    eigvals = torch.as_tensor(eigvals, dtype=x.dtype, device=x.device)
    eigvecs = torch.as_tensor(eigvecs, dtype=x.dtype, device=x.device)
    if eigvals.shape != (3,) or eigvecs.shape != (3, 3):
        raise ValueError(f"eigvals must be (3,) and eigvecs (3, 3), "
                         f"got {tuple(eigvals.shape)} and {tuple(eigvecs.shape)}")
    dev = _draw_device(generator)
    alpha = torch.randn(x.shape[0], 3, generator=generator, device=dev, dtype=torch.float64) * alphastd
    alpha = alpha.to(device=x.device, dtype=x.dtype)  # (N, 3)
    offset = (alpha * eigvals) @ eigvecs.T  # row n = eigvecs @ (alpha_n * eigvals); (N, 3)
    return x + offset[:, :, None, None]


def affine_matrix(angle: float, translate, scale: float, shear) -> torch.Tensor:
    """The forward map ``M = T(tx, ty) R(angle) S(scale) SHy(sy) SHx(sx)``, a ``(3, 3)`` float64 tensor.

    Pixel coordinates centred on the image (x right, y down); ``R(a) = [[cos a, -sin a], [sin a, cos a]]``
    (positive = clockwise on screen), ``SHx(s) = [[1, -tan s], [0, 1]]``, ``SHy(s) = [[1, 0], [-tan s, 1]]``.
    Angles in degrees; ``shear`` is ``sx`` or ``(sx, sy)``; ``translate = (tx, ty)`` in pixels.

    >>> affine_matrix(90, (0, 0), 1.0, 0) @ torch.tensor([1., 0., 1.], dtype=torch.float64)  # (1, 0) -> (0, 1)
    tensor([6.1232e-17, 1.0000e+00, 1.0000e+00], dtype=torch.float64)
    """
    a = math.radians(float(angle))
    if isinstance(shear, (tuple, list)):
        if len(shear) != 2:
            raise ValueError(f"shear must be a number or a pair (sx, sy), got {shear!r}")
        sx, sy = (math.radians(float(s)) for s in shear)
    else:
        sx, sy = math.radians(float(shear)), 0.0
    if len(translate) != 2:
        raise ValueError(f"translate must be a pair (tx, ty), got {translate!r}")
    tx, ty = (float(t) for t in translate)
    scale = check_number(scale, "scale", minimum=0, strict=True)

    def m3(a11, a12, a21, a22, b1=0.0, b2=0.0):
        return torch.tensor([[a11, a12, b1], [a21, a22, b2], [0.0, 0.0, 1.0]], dtype=torch.float64)

    T = m3(1.0, 0.0, 0.0, 1.0, tx, ty)
    R = m3(math.cos(a), -math.sin(a), math.sin(a), math.cos(a))
    S = m3(scale, 0.0, 0.0, scale)
    SHy = m3(1.0, 0.0, -math.tan(sy), 1.0)
    SHx = m3(1.0, -math.tan(sx), 0.0, 1.0)
    return T @ R @ S @ SHy @ SHx


def affine(x: torch.Tensor, angle: float, translate, scale: float, shear) -> torch.Tensor:
    """Warp by ``M = affine_matrix(...)`` (same parameters for the whole batch), zero outside.

    Output pixel centre ``p`` (centred coordinates) takes the bilinear sample of ``x`` at ``M^-1 p``
    (``grid_sample``, ``align_corners=False``); ``(N, C, H, W) -> (N, C, H, W)``.

    >>> out = affine(torch.rand(2, 3, 8, 8), angle=15, translate=(1, -2), scale=1.1, shear=(5, 0))
    """
    check_images(x)
    M = affine_matrix(angle, translate, scale, shear)
    if torch.equal(M, torch.eye(3, dtype=torch.float64)):
        return x.clone()  # exact identity (the grid's rounding would perturb the last bit)
    return warp(x, M)


def warp(x: torch.Tensor, M: torch.Tensor, align_corners: bool = False) -> torch.Tensor:
    """Warp every image of ``x`` by the ``(3, 3)`` forward map ``M`` (centred pixel coordinates), zero
    outside: output pixel centre ``p`` takes the bilinear sample of ``x`` at ``M^-1 p``. Not graded: what
    :func:`affine` does once it has its matrix, and what the checks' diagnoses warp with wrong maps or
    ``align_corners=True`` (the answer key stays out of the student kit with it)."""
    check_images(x)
    N, _, H, W = x.shape
    Minv = torch.linalg.inv(torch.as_tensor(M, dtype=torch.float64))
    ys = torch.arange(H, dtype=torch.float64) - (H - 1) / 2
    xs = torch.arange(W, dtype=torch.float64) - (W - 1) / 2
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")  # output pixel centres, (H, W) each
    p = torch.stack([gx, gy, torch.ones_like(gx)], dim=-1)  # (H, W, 3)
    q = p @ Minv[:2].T  # source points M^-1 p, (H, W, 2)
    grid = q * torch.tensor([2.0 / W, 2.0 / H], dtype=torch.float64)  # normalised, align_corners=False
    grid = grid.to(device=x.device, dtype=x.dtype).expand(N, H, W, 2)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=bool(align_corners))


# ----------------------------------------------------------------------------- erasing and mixing
def cutout(x: torch.Tensor, size: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Zero a ``size x size`` square per sample, in every channel, clipped to the image.

    Centre ``(cy, cx)`` uniform on the pixel grid; rows ``cy - size//2 .. cy - size//2 + size - 1``,
    columns likewise. Returns ``(N, C, H, W)``.

    >>> out = cutout(torch.rand(4, 3, 32, 32), 8, generator=torch.Generator().manual_seed(0))
    """
    check_images(x)
    size = check_int(size, "size", minimum=0)
    N, _, H, W = x.shape
    y0 = (_randint(H, N, generator, x.device) - size // 2)[:, None]  # (N, 1) first zeroed row
    x0 = (_randint(W, N, generator, x.device) - size // 2)[:, None]
    r, c = torch.arange(H, device=x.device), torch.arange(W, device=x.device)
    in_rows = (r >= y0) & (r < y0 + size)  # (N, H)
    in_cols = (c >= x0) & (c < x0 + size)  # (N, W)
    mask = in_rows[:, :, None] & in_cols[:, None, :]  # (N, H, W)
    return x.masked_fill(mask[:, None], 0)


def mixup(x: torch.Tensor, y: torch.Tensor, alpha: float, generator: torch.Generator | None = None):
    """``x_mix = lam x + (1 - lam) x[perm]``, ``y_mix = lam y + (1 - lam) y[perm]``.

    One ``lam ~ Beta(alpha, alpha)`` and one random permutation ``perm`` per batch. ``y`` one-hot
    ``(N, K)`` (integer labels are converted to ``x``'s dtype). Returns ``(x_mix, y_mix, lam)``.

    >>> y = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 1]), 3).float()
    >>> x_mix, y_mix, lam = mixup(torch.rand(4, 3, 8, 8), y, 0.2, generator=torch.Generator().manual_seed(0))
    """
    check_images(x)
    y, alpha = check_one_hot(y, x), check_number(alpha, "alpha", minimum=0, strict=True)
    lam = _beta(alpha, generator)
    perm = torch.randperm(x.shape[0], generator=generator, device=_draw_device(generator))
    return (lam * x + (1 - lam) * x[perm.to(x.device)],
            lam * y + (1 - lam) * y[perm.to(y.device)], lam)


def cutmix(x: torch.Tensor, y: torch.Tensor, alpha: float, generator: torch.Generator | None = None):
    """Paste one box from the partner images ``x[perm]``; labels weighted by the kept area.

    ``lam0 ~ Beta(alpha, alpha)``, ``r = sqrt(1 - lam0)``; the box is ``int(H r) x int(W r)`` with centre
    uniform on the pixel grid, top-left at centre - size//2, clipped to the image, the same for the batch.
    Returns ``(x_mix, y_mix, lam)`` with ``lam = 1 - box_area / (H W)``, ``y_mix = lam y + (1 - lam) y[perm]``.

    >>> y = torch.nn.functional.one_hot(torch.tensor([0, 1, 2, 1]), 3).float()
    >>> x_mix, y_mix, lam = cutmix(torch.rand(4, 3, 8, 8), y, 1.0, generator=torch.Generator().manual_seed(0))
    """
    check_images(x)
    y, alpha = check_one_hot(y, x), check_number(alpha, "alpha", minimum=0, strict=True)
    N, _, H, W = x.shape
    lam0 = _beta(alpha, generator)
    perm = torch.randperm(N, generator=generator, device=_draw_device(generator))
    r = math.sqrt(1.0 - lam0)
    bh, bw = int(H * r), int(W * r)
    cy, cx = int(_randint(H, 1, generator, "cpu")), int(_randint(W, 1, generator, "cpu"))  # box centre
    y1, y2 = min(max(cy - bh // 2, 0), H), min(max(cy - bh // 2 + bh, 0), H)
    x1, x2 = min(max(cx - bw // 2, 0), W), min(max(cx - bw // 2 + bw, 0), W)
    x_mix = x.clone()
    x_mix[:, :, y1:y2, x1:x2] = x[perm.to(x.device), :, y1:y2, x1:x2]  # the partner's pixels, same place
    lam = 1.0 - (y2 - y1) * (x2 - x1) / (H * W)
    return x_mix, lam * y + (1 - lam) * y[perm.to(y.device)], lam


def tta_predict(predict_fn, x: torch.Tensor, transforms) -> torch.Tensor:
    """Test-time augmentation: ``mean_t predict_fn(t(x))`` over ``transforms``; probabilities ``(N, K)``.

    ``predict_fn`` maps images to probabilities; include ``lambda z: z`` to keep the untransformed copy.

    >>> probs = tta_predict(lambda z: z.mean(dim=(2, 3)).softmax(1), torch.rand(4, 3, 8, 8), [lambda z: z, hflip])
    """
    check_images(x)
    if not callable(predict_fn):
        raise TypeError(f"predict_fn must be callable, got {type(predict_fn).__name__}")
    transforms = list(transforms)
    if not transforms or not all(callable(t) for t in transforms):
        raise ValueError("transforms must be a non-empty sequence of callables")
    probs = torch.stack([predict_fn(t(x)) for t in transforms])  # (T, N, K), one call per transform
    return probs.mean(dim=0)
