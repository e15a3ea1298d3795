"""Section 00 references against torch.nn.functional and autograd (float64, several shapes)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import labkit.reference as R


def _autograd(fn, *tensors):
    leaves = [t.detach().clone().requires_grad_(True) for t in tensors]
    out = fn(*leaves)
    out.backward()
    return out.detach(), [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("shape", [(1,), (7,), (4, 3), (2, 3, 5)])
def test_mse_and_l1_match_torch_and_autograd(shape, device, gen):
    pred = torch.randn(shape, generator=gen, dtype=torch.float64).to(device)
    target = torch.randn(shape, generator=gen, dtype=torch.float64).to(device)
    for ours, theirs in ((R.mse_loss, F.mse_loss), (R.l1_loss, F.l1_loss)):
        loss, dpred = ours(pred, target)
        want, (grad, _) = _autograd(theirs, pred, target)
        torch.testing.assert_close(loss, want, rtol=1e-12, atol=0)
        torch.testing.assert_close(dpred, grad, rtol=1e-12, atol=1e-15)
        assert dpred.device == pred.device and dpred.dtype == pred.dtype


def test_l1_gradient_at_ties_is_zero_like_torch(device):
    pred = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, device=device)
    target = torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64, device=device)
    _, dpred = R.l1_loss(pred, target)
    _, (grad, _) = _autograd(F.l1_loss, pred, target)
    torch.testing.assert_close(dpred, grad)
    assert dpred[0] == 0 and dpred[2] == 0


@pytest.mark.parametrize("n, c", [(1, 2), (5, 10), (64, 3)])
def test_softmax_cross_entropy_hard_labels_matches_torch(n, c, device, gen):
    scores = (3 * torch.randn(n, c, generator=gen, dtype=torch.float64)).to(device)
    y = torch.randint(0, c, (n,), generator=gen).to(device)
    loss, d = R.softmax_cross_entropy(scores, y)
    want, (grad,) = _autograd(lambda s: F.cross_entropy(s, y), scores)
    torch.testing.assert_close(loss, want, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d, grad, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("n, c", [(3, 4), (16, 10)])
def test_softmax_cross_entropy_soft_labels_matches_torch(n, c, device, gen):
    scores = torch.randn(n, c, generator=gen, dtype=torch.float64).to(device)
    probs = torch.softmax(torch.randn(n, c, generator=gen, dtype=torch.float64), 1).to(device)
    loss, d = R.softmax_cross_entropy(scores, probs)
    want, (grad,) = _autograd(lambda s: F.cross_entropy(s, probs), scores)
    torch.testing.assert_close(loss, want, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d, grad, rtol=1e-10, atol=1e-15)


def test_softmax_cross_entropy_is_finite_for_scores_of_1e4(device):
    scores = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 5e3]], dtype=torch.float64, device=device)
    y = torch.tensor([1, 2], device=device)
    loss, d = R.softmax_cross_entropy(scores, y)
    want, (grad,) = _autograd(lambda s: F.cross_entropy(s, y), scores)
    assert torch.isfinite(loss) and torch.isfinite(d).all()
    torch.testing.assert_close(loss, want)
    torch.testing.assert_close(d, grad)


def test_softmax_matches_torch_softmax(gen):
    s = 5 * torch.randn(6, 7, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(R.softmax(s), torch.softmax(s, 1), rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(R.log_softmax(s), torch.log_softmax(s, 1), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("shape", [(5,), (4, 3)])
def test_bce_with_logits_matches_torch_including_large_logits(shape, device, gen):
    s = (4 * torch.randn(shape, generator=gen, dtype=torch.float64)).to(device)
    s.view(-1)[0] = 1e4
    s.view(-1)[-1] = -1e4
    y = torch.rand(shape, generator=gen, dtype=torch.float64).to(device)
    loss, ds = R.binary_cross_entropy_with_logits(s, y)
    want, (grad,) = _autograd(lambda z: F.binary_cross_entropy_with_logits(z, y), s)
    torch.testing.assert_close(loss, want, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(ds, grad, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("n, c, margin", [(4, 3, 1.0), (10, 10, 1.0), (6, 5, 2.5)])
def test_multiclass_hinge_is_torch_multi_margin_loss_times_c(n, c, margin, device, gen):
    scores = torch.randn(n, c, generator=gen, dtype=torch.float64).to(device)
    y = torch.randint(0, c, (n,), generator=gen).to(device)
    loss, d = R.multiclass_hinge_loss(scores, y, margin=margin)
    want, (grad,) = _autograd(lambda s: c * F.multi_margin_loss(s, y, margin=margin), scores)
    torch.testing.assert_close(loss, want, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(d, grad, rtol=1e-10, atol=1e-15)


def test_hinge_of_zero_scores_is_c_minus_one_margins():
    loss, _ = R.multiclass_hinge_loss(torch.zeros(8, 10, dtype=torch.float64), torch.arange(8) % 10)
    assert float(loss) == pytest.approx(9.0)


@pytest.mark.parametrize("x_shape, m", [((4, 6), 3), ((2, 3, 4), 5), ((3, 2, 2, 2), 1)])
def test_affine_matches_f_linear_and_autograd(x_shape, m, device, gen):
    x = torch.randn(x_shape, generator=gen, dtype=torch.float64).to(device)
    d = x[0].numel()
    w = torch.randn(m, d, generator=gen, dtype=torch.float64).to(device)
    b = torch.randn(m, generator=gen, dtype=torch.float64).to(device)
    out, cache = R.affine_forward(x, w, b)
    torch.testing.assert_close(out, F.linear(x.reshape(len(x), -1), w, b), rtol=1e-12, atol=1e-13)
    dout = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(device)
    leaves = [t.clone().requires_grad_(True) for t in (x, w, b)]
    (F.linear(leaves[0].reshape(len(x), -1), leaves[1], leaves[2]) * dout).sum().backward()
    for ours, leaf in zip(R.affine_backward(dout, cache), leaves):
        torch.testing.assert_close(ours, leaf.grad, rtol=1e-12, atol=1e-13)


def test_affine_rejects_mismatched_shapes_with_a_clear_message():
    with pytest.raises(ValueError, match="shape mismatch"):
        R.affine_forward(torch.zeros(2, 3), torch.zeros(4, 5), torch.zeros(4))


def test_cross_entropy_rejects_out_of_range_labels():
    with pytest.raises(ValueError, match="class ids"):
        R.softmax_cross_entropy(torch.zeros(2, 3), torch.tensor([0, 3]))


def test_references_keep_float32(gen):
    s = torch.randn(4, 5, generator=gen)
    y = torch.randint(0, 5, (4,), generator=gen)
    for loss, grad in (R.softmax_cross_entropy(s, y), R.multiclass_hinge_loss(s, y), R.mse_loss(s, s.flip(0)),
                       R.binary_cross_entropy_with_logits(s, torch.rand(4, 5, generator=gen))):
        assert loss.dtype == grad.dtype == torch.float32
