"""torch.func gradient tools against naive per-sample loops."""
import torch
from torch import nn

from paper_repro.core import gradients, models
from paper_repro.testing import assert_close_dtype


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
    assert_close_dtype(fast, slow, n_reduce=7)  # float32 vmap against a loop: sums over fan-ins <= 7 (sqrt rule)


def test_batch_grads_and_full_grad_match_loop():
    model, x, y = _setup(n=14)  # two samples past the last full batch are dropped
    fast = gradients.batch_grads(model, nn.functional.cross_entropy, x, y, batch_size=4, chunk_size=2)
    slow = _naive(model, nn.functional.cross_entropy, x[:12].reshape(3, 4, 5), y[:12].reshape(3, 4))
    assert_close_dtype(fast, slow, n_reduce=4 * 7)  # float32 means over the batch of 4 of sums over fan-ins <= 7
    full = gradients.full_grad(model, nn.functional.cross_entropy, x, y, chunk=5)
    assert_close_dtype(full, _naive(model, nn.functional.cross_entropy, [x], [y])[0], n_reduce=14 * 7)


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
    assert_close_dtype(jac, torch.stack(rows), n_reduce=8)  # float32, fan-ins <= 8
    # non-zero spectrum of G^T G / n (P x P) equals that of the n x n Gram matrix; float32 sums over the P = 40
    # parameters, eigenvalues off by n eps relative to the largest (Weyl; linear rule for the eigensolver)
    big = torch.linalg.eigvalsh((jac.T @ jac / len(x)).double()).flip(0)[: len(x)]
    assert_close_dtype(gradients.gram_eigenvalues(jac), big.clamp_min(0), dtype=torch.float32, n_reduce=jac.shape[1],
                       growth="linear")
    centred = jac - jac.mean(0)
    assert_close_dtype(gradients.gram(jac, center=True), centred @ centred.T / len(x), n_reduce=jac.shape[1])
