"""labkit.data: shapes, dtypes, value ranges and determinism of every loader."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch

from labkit.data import (CIFAR10_FILES, DataSplits, Split, dropout_regression_target, load_cifar10, load_digits,
                         load_sample_photos, make_dropout_regression, make_mnist1d, make_spirals, photo_patches,
                         random_split_indices)

TOL = 1e-5


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ----------------------------------------------------------------------------- containers
def test_split_unpacks_slices_and_rejects_mismatched_lengths():
    s = Split(torch.arange(10.0).view(5, 2), torch.arange(5))
    x, y = s
    assert x.shape == (5, 2) and len(s) == 5
    assert torch.equal(s[1:3].y, torch.tensor([1, 2])) and len(s[0]) == 1
    with pytest.raises(ValueError, match="first dimension"):
        Split(torch.zeros(3, 2), torch.zeros(4))


def test_random_split_indices_are_disjoint_and_cover_everything():
    tr, va, te = random_split_indices(100, 0.2, 0.1, seeded(0))
    assert (len(tr), len(va), len(te)) == (70, 20, 10)
    assert torch.equal(torch.cat([tr, va, te]).sort().values, torch.arange(100))
    with pytest.raises(ValueError, match="val_frac"):
        random_split_indices(100, 1.5, 0.1, seeded(0))


# ----------------------------------------------------------------------------- digits
def test_load_digits_shapes_dtypes_and_split_sizes():
    d = load_digits(seed=0)
    assert isinstance(d, DataSplits)
    assert [len(s) for s in d] == [1257, 270, 270]
    for s in d:
        assert s.x.dtype == torch.float32 and s.x.shape[1:] == (1, 8, 8)
        assert s.y.dtype == torch.int64 and s.y.min() >= 0 and s.y.max() <= 9
    assert d.classes == [str(k) for k in range(10)]
    assert d.mean.shape == d.std.shape == (1, 1, 1, 1)
    assert set(d.train.y.tolist()) == set(range(10))


def test_load_digits_standardisation_is_fitted_on_the_training_split_only():
    d, raw = load_digits(seed=3), load_digits(seed=3, standardize=False)
    assert raw.train.x.min() == 0 and raw.train.x.max() == 16
    assert abs(float(d.mean) - float(raw.train.x.mean())) < TOL
    assert abs(float(d.std) - float(raw.train.x.std())) < TOL
    assert abs(float(d.train.x.mean())) < 1e-4 and abs(float(d.train.x.std()) - 1) < 1e-4
    for s, r in zip(d, raw):     # val and test use the training statistics
        assert torch.allclose(s.x * d.std + d.mean, r.x, atol=1e-4)


def test_load_digits_is_deterministic_given_the_seed():
    a, b, c = load_digits(seed=1), load_digits(seed=1), load_digits(seed=2)
    assert all(torch.equal(s.x, t.x) and torch.equal(s.y, t.y) for s, t in zip(a, b))
    assert not torch.equal(a.test.y, c.test.y)


def test_load_digits_flatten_and_device(device):
    d = load_digits(seed=0, val_frac=0.1, test_frac=0.2, device=device, flatten=True)
    assert d.train.x.shape == (1797 - 180 - 359, 64) and d.train.x.device.type == device.type
    assert d.mean.shape == (1, 1)


# ----------------------------------------------------------------------------- photos
def test_sample_photos_are_two_rgb_images_in_unit_range():
    p = load_sample_photos()
    assert p.shape == (2, 3, 427, 640) and p.dtype == torch.float32
    assert p.min() >= 0 and p.max() <= 1 and p.std() > 0.1
    assert torch.equal(p, load_sample_photos())


def test_photo_patches_are_true_crops_and_deterministic():
    # Encode the coordinates in the channels: a crop must show consecutive rows and columns.
    rows = torch.arange(50.0).view(1, 1, 50, 1).expand(2, 1, 50, 60)
    cols = torch.arange(60.0).view(1, 1, 1, 60).expand(2, 1, 50, 60)
    which = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 1, 50, 60)
    coded = torch.cat([rows, cols, which], dim=1)                       # (2, 3, 50, 60)
    pat = photo_patches(size=8, n=64, generator=seeded(0), photos=coded)
    assert pat.shape == (64, 3, 8, 8)
    assert torch.equal(pat[:, 0] - pat[:, 0, :1, :1], torch.arange(8.0).view(1, 8, 1).expand(64, 8, 8))
    assert torch.equal(pat[:, 1] - pat[:, 1, :1, :1], torch.arange(8.0).view(1, 1, 8).expand(64, 8, 8))
    assert set(pat[:, 2].unique().tolist()) == {0.0, 1.0}
    assert torch.equal(pat, photo_patches(size=8, n=64, generator=seeded(0), photos=coded))
    assert not torch.equal(pat, photo_patches(size=8, n=64, generator=seeded(1), photos=coded))


def test_photo_patches_tile_the_real_photos_without_randomness():
    p = load_sample_photos()
    tiles = photo_patches(size=32, n=None)
    assert tiles.shape == (2 * 13 * 20, 3, 32, 32) and tiles.min() >= 0 and tiles.max() <= 1
    assert torch.equal(tiles[0], p[0, :, :32, :32]) and torch.equal(tiles[1], p[0, :, :32, 32:64])
    assert torch.equal(tiles[260], p[1, :, :32, :32])
    with pytest.raises(ValueError, match="size"):
        photo_patches(size=500)


# ----------------------------------------------------------------------------- procedural sets
def test_spirals_shapes_balance_and_determinism():
    s = make_spirals(50, n_classes=4, noise=0.1, generator=seeded(0))
    assert s.x.shape == (200, 2) and s.x.dtype == torch.float32 and s.y.dtype == torch.int64
    assert s.y.bincount().tolist() == [50] * 4
    assert s.x.norm(dim=1).max() <= 1 + TOL
    assert torch.equal(s.x, make_spirals(50, n_classes=4, noise=0.1, generator=seeded(0)).x)
    assert not torch.equal(s.x, make_spirals(50, n_classes=4, noise=0.1, generator=seeded(1)).x)


def test_noiseless_spiral_points_lie_on_their_arm():
    s = make_spirals(20, n_classes=3, noise=0.0)
    r = s.x.norm(dim=1)
    theta = 2 * math.pi * s.y / 3 + 4 * r
    assert torch.allclose(s.x, torch.stack([r * theta.sin(), r * theta.cos()], 1), atol=1e-5)


def test_dropout_regression_target_formula_and_samples():
    x = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    expected = [0.25, 0.2 + 0.1 + 0.15 * math.sin(7.5) + 0.05 * math.cos(25), 0.6 + 0.3 * math.sin(15) + 0.05 * math.cos(50)]
    assert torch.allclose(dropout_regression_target(x), torch.tensor(expected, dtype=torch.float64), atol=1e-12)
    clean = make_dropout_regression(100, noise=0.0, generator=seeded(0), low=-1, high=2)
    assert clean.x.shape == clean.y.shape == (100, 1) and clean.y.dtype == torch.float32
    assert clean.x.min() >= -1 and clean.x.max() <= 2 and torch.all(clean.x[1:] >= clean.x[:-1])
    assert torch.allclose(clean.y, dropout_regression_target(clean.x), atol=1e-5)
    noisy = make_dropout_regression(20000, noise=0.05, generator=seeded(0))
    assert abs(float((noisy.y - dropout_regression_target(noisy.x)).std()) - 0.05) < 2e-3
    assert torch.equal(noisy.y, make_dropout_regression(20000, noise=0.05, generator=seeded(0)).y)


def test_mnist1d_shapes_labels_and_determinism():
    m = make_mnist1d(1000, generator=seeded(0))
    assert m.x.shape == (1000, 40) and m.x.dtype == torch.float32 and m.y.dtype == torch.int64
    assert set(m.y.tolist()) == set(range(10)) and m.x.abs().max() < 4
    assert torch.equal(m.x, make_mnist1d(1000, generator=seeded(0)).x)
    assert not torch.equal(m.x, make_mnist1d(1000, generator=seeded(1)).x)


def test_mnist1d_noise_is_correlated_and_of_the_stated_scale():
    clean = make_mnist1d(4000, generator=seeded(0), corr_noise=0.0, iid_noise=0.0)
    noisy = make_mnist1d(4000, generator=seeded(0), corr_noise=0.25, iid_noise=0.02)
    assert clean.x.abs().max() <= 1.3 + 0.375 + TOL                 # scale <= 1.3, ramp <= 0.75 / 2
    noise = noisy.x - clean.x                                        # the same draws: only the noise differs
    assert abs(float(noise.std()) - math.hypot(0.25, 0.02)) < 0.01
    lag1 = float(torch.corrcoef(torch.stack([noise[:, :-1].flatten(), noise[:, 1:].flatten()]))[0, 1])
    assert lag1 > 0.8                                                # neighbours move together


def test_mnist1d_classes_are_told_apart_by_a_nearest_neighbour():
    def one_nn_accuracy(m):
        train, test = m[:2000], m[2000:]
        return float((train.y[torch.cdist(test.x, train.x).argmin(1)] == test.y).float().mean())

    assert one_nn_accuracy(make_mnist1d(2500, generator=seeded(0), corr_noise=0.0, iid_noise=0.0)) > 0.9
    assert one_nn_accuracy(make_mnist1d(2500, generator=seeded(0))) > 0.4      # noisy: harder; chance is 0.1


# ----------------------------------------------------------------------------- CIFAR-10 (tiny fixture)
def _write_cifar(folder, n_per_batch=4, n_test=3):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images, labels = [], []
    for i in range(1, 6):
        img = rng.integers(0, 256, size=(n_per_batch, 3, 32, 32), dtype=np.uint8)
        img[:, 0, 0, 0] = np.arange(n_per_batch) + (i - 1) * n_per_batch    # the image's id
        lab = rng.integers(0, 10, size=n_per_batch).tolist()
        with open(folder / f"data_batch_{i}", "wb") as fh:
            pickle.dump({b"data": img.reshape(n_per_batch, 3072), b"labels": lab, b"batch_label": b"x"}, fh)
        images.append(img)
        labels += lab
    test = rng.integers(0, 256, size=(n_test, 3, 32, 32), dtype=np.uint8)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": test.reshape(n_test, 3072), b"labels": [1, 2, 3]}, fh)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [f"class{k}".encode() for k in range(10)]}, fh)
    return np.concatenate(images), np.array(labels), test


def test_load_cifar10_reads_the_pickle_batches(tmp_path):
    images, labels, test = _write_cifar(tmp_path / "cifar-10-batches-py")
    c = load_cifar10(tmp_path, val_frac=0.25, seed=0)                # the parent folder works too
    assert (len(c.train), len(c.val), len(c.test)) == (15, 5, 3)
    assert c.train.x.shape == (15, 3, 32, 32) and c.train.x.dtype == torch.float32 and c.train.y.dtype == torch.int64
    assert torch.equal(c.test.x, torch.as_tensor(test).float() / 255) and c.test.y.tolist() == [1, 2, 3]
    for s in (c.train, c.val):                                       # rows land with their own labels
        ids = (s.x[:, 0, 0, 0] * 255).round().long()
        assert torch.equal(s.x, torch.as_tensor(images[ids.numpy()]).float() / 255)
        assert torch.equal(s.y, torch.as_tensor(labels[ids.numpy()]))
    assert c.classes == [f"class{k}" for k in range(10)] and c.mean.shape == (1, 3, 1, 1)
    assert torch.equal(c.val.y, load_cifar10(tmp_path, val_frac=0.25, seed=0).val.y)


def test_load_cifar10_standardises_with_training_statistics(tmp_path):
    _write_cifar(tmp_path / "data")
    c = load_cifar10(tmp_path / "data", val_frac=0.25, standardize=True)
    assert torch.allclose(c.train.x.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.allclose(c.train.x.std(dim=(0, 2, 3)), torch.ones(3), atol=1e-4)


def test_load_cifar10_names_the_folder_and_the_missing_files(tmp_path):
    folder = tmp_path / "cifar"
    _write_cifar(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError) as err:
        load_cifar10(folder)
    assert str(folder) in str(err.value) and "data_batch_3" in str(err.value)
    assert all(name in str(err.value) for name in CIFAR10_FILES)
