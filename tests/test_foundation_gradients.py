"""torch.func gradient tools against naive per-sample loops."""
import torch
from torch import nn

from paper_repro.core import gradients, models


def _setup(seed=0, n=12):
    torch.manual_seed(seed)
    model = models.mlp(5, [7, 6], 3, bias=True)
    x, y = torch.randn(n, 5), torch.randint(0, 3, (n,))
    return model, x, y


def _naive(model, loss_fn, xs, ys):
    rows = []
    for xi, yi in zip(xs, ys):
        model.zero_grad()
        loss_fn(model(xi), yi).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    return torch.stack(rows)


def test_per_sample_grads_match_loop():
    model, x, y = _setup()
    fast = gradients.per_sample_grads(model, nn.functional.cross_entropy, x, y, chunk_size=5)
    slow = _naive(model, nn.functional.cross_entropy, x[:, None], y[:, None])
    assert fast.shape == (12, models.count_params(model))
    torch.testing.assert_close(fast, slow)


def test_batch_grads_and_full_grad_match_loop():
    model, x, y = _setup(n=14)  # two samples past the last full batch are dropped
    fast = gradients.batch_grads(model, nn.functional.cross_entropy, x, y, batch_size=4, chunk_size=2)
    slow = _naive(model, nn.functional.cross_entropy, x[:12].reshape(3, 4, 5), y[:12].reshape(3, 4))
    torch.testing.assert_close(fast, slow)
    full = gradients.full_grad(model, nn.functional.cross_entropy, x, y, chunk=5)
    torch.testing.assert_close(full, _naive(model, nn.functional.cross_entropy, [x], [y])[0])


def test_output_jacobian_and_gram_spectrum():
    torch.manual_seed(1)
    model = models.mlp(4, [8], 1, bias=False)
    x = torch.randn(9, 4)
    jac = gradients.output_jacobian(model, x, chunk_size=4)
    rows = []
    for xi in x:
        model.zero_grad()
        model(xi[None]).sum().backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    torch.testing.assert_close(jac, torch.stack(rows))
    # non-zero spectrum of G^T G / n (P x P) equals that of the n x n Gram matrix
    big = torch.linalg.eigvalsh((jac.T @ jac / len(x)).double()).flip(0)[: len(x)]
    torch.testing.assert_close(gradients.gram_eigenvalues(jac), big.clamp_min(0), atol=1e-6, rtol=1e-5)
    centred = jac - jac.mean(0)
    torch.testing.assert_close(gradients.gram(jac, center=True), centred @ centred.T / len(x))
