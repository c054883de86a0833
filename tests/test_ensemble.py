"""Vectorised ensemble: k members equal k separate runs and a loop-based transcription of the released update rule."""
import math

import numpy as np
import pytest
import torch

from paper_repro.experiments.sgd_regimes.ensemble import distinct_batches, outputs, stack, train_ensemble
from paper_repro.experiments.sgd_regimes.nets import NormAct, mlp
from paper_repro.testing import assert_close_dtype, mc_tol


def _data(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, torch.sign(x[:, 0] + 0.5 * x[:, 1])


def _released_f(ws, x):
    """edm/architecture.py mlp by hand: x <- sqrt(2) relu(x W^T / sqrt(fan_in)); out = x W_out^T / h."""
    for w in ws[:-1]:
        x = math.sqrt(2.0) * torch.relu(x @ w.T / math.sqrt(x.shape[1]))
    return (x @ ws[-1].T / x.shape[1])[:, 0]


def _released_loop(ws, x, y, alpha, T, h, n, seed, bs, max_steps, check_every):
    """edm/dynamics.py sgd by hand: dt = T h bs, w <- w - dt grad mean(hinge(alpha (f(w,x) - f(w0,x)), y) / alpha).

    Stop when the full training loss is 0 (checked every ``check_every`` steps); returns (weights, steps).
    """
    ws = [w.clone().requires_grad_(True) for w in ws]
    dt = T * h * bs
    o0 = _released_f(ws, x).detach()
    gen = torch.Generator().manual_seed(seed)
    step, last = 0, -1
    while step < max_steps:
        batches = distinct_batches(gen, n, check_every, bs)
        for s in range(check_every):
            i = batches[s]
            loss = (torch.relu(1 - alpha * (_released_f(ws, x[i]) - o0[i]) * y[i]) / alpha).mean()
            grads = torch.autograd.grad(loss, ws)
            with torch.no_grad():
                for w, g in zip(ws, grads):
                    w -= dt * g
            if loss.item() != 0:
                last = step + s
        step += check_every
        with torch.no_grad():
            if (torch.relu(1 - alpha * (_released_f(ws, x[:n]) - o0[:n]) * y[:n])).sum() == 0:
                return [w.detach() for w in ws], last + 1
    return [w.detach() for w in ws], step


def test_ensemble_equals_separate_runs_and_the_released_rule():
    x, y = _data()
    h, k = 16, 4
    kw = dict(alpha=[1.0, 4.0, 1.0, 2.0], n_train=[64, 48, 56, 64], seeds=[3, 4, 5, 6])
    Ts = [0.01, 0.02, 0.005, 0.01]
    make = lambda: [mlp(8, h, 2, seed=s).double() for s in range(k)]  # noqa: E731
    common = dict(batch_size=8, max_steps=3000, check_every=20)
    ens = train_ensemble(make(), x, y, x, y, lr=[T * h * 8 for T in Ts], **common, **kw)
    assert (ens.status == "fitted").sum() >= 3  # the comparison is about real stop times
    for i in range(k):
        one = train_ensemble([make()[i]], x, y, x, y, lr=[Ts[i] * h * 8], **common,
                             **{key: [v[i]] for key, v in kw.items()})
        assert one.status[0] == ens.status[i] and one.steps[0] == ens.steps[i]
        # float64, up to 3000 steps of sums over the width h: errors may add up coherently (linear rule, 3000 h)
        tol = dict(n_reduce=3000 * h, growth="linear")
        for name, p in one.params.items():
            assert_close_dtype(p[0], ens.params[name][i], **tol)
        w0 = [p.detach() for p in make()[i].parameters()]
        w, steps = _released_loop(w0, x, y, kw["alpha"][i], Ts[i], h, kw["n_train"][i], kw["seeds"][i], 8, 3000, 20)
        if ens.status[i] == "fitted":
            assert steps == ens.steps[i]
        for p, q in zip(w, ens.params.values()):
            assert_close_dtype(p, q[i], **tol)


def test_released_activation_and_readout_scales():
    z = torch.randn(400_000, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for name in ("relu", "gelu"):
        assert abs(float((NormAct(name)(z) ** 2).mean()) - 1) < mc_tol(NormAct(name)(z) ** 2)  # E rho(z)^2 = 1
    net = mlp(8, 32, 2, seed=0).double()
    x = torch.randn(5, 8, dtype=torch.float64)
    torch.testing.assert_close(net(x)[:, 0], _released_f([p.detach() for p in net.parameters()], x))


@pytest.mark.parametrize("n", [64, 20])  # B = 16: rejection (accepts 13 % of rows) and sorted keys (0.015 %)
def test_distinct_batches_have_no_repeats_and_are_uniform(n):
    idx = distinct_batches(torch.Generator().manual_seed(0), n, 5000, 16)
    assert all(len(set(r.tolist())) == 16 for r in idx)
    counts = np.bincount(idx.flatten().numpy(), minlength=n)
    se = np.sqrt(1 / n * (n - 1) / n / counts.sum())  # standard error of a frequency 1/n out of 80,000 draws
    assert np.abs(counts / counts.sum() - 1 / n).max() < 4 * se
    first = np.bincount(idx[:, 0].numpy(), minlength=n)  # each position is uniform too (ordered subsets)
    assert np.abs(first / 5000 - 1 / n).max() < 4 * np.sqrt(1 / n * (n - 1) / n / 5000)


def test_distinct_batches_by_rejection_keep_their_draws():
    """Above the switch the rows are the released rejection rule's draws: i.i.d. rows, duplicates redrawn in turn."""
    gen, ref = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    rows = torch.randint(64, (300, 16), generator=ref)
    bad = [i for i, r in enumerate(rows) if len(set(r.tolist())) < 16]
    while bad:
        rows[bad] = torch.randint(64, (len(bad), 16), generator=ref)
        bad = [i for i in bad if len(set(rows[i].tolist())) < 16]
    assert torch.equal(distinct_batches(gen, 64, 300, 16), rows)


def test_finished_members_stop_changing_and_outputs_fit():
    x, y = _data()
    models = [mlp(8, 16, 2, seed=s).double() for s in range(3)]
    p0, base = stack(models)
    r = train_ensemble(models, x, y, x, y, alpha=1.0, lr=0.5, batch_size=8, max_steps=3000, check_every=10)
    f = outputs(r.params, base, x, member_chunk=2, chunk=16) - outputs(p0, base, x)
    assert (r.status == "fitted").all()
    assert torch.all(y[None, :] * f >= 1)  # training hinge loss is exactly zero at the returned weights
    assert np.all(r.test_error == 0)  # the train set is used as test set here
    assert np.allclose(r.time, r.steps * 0.5)
    n_checked = np.isfinite(r.train_loss).sum(1)
    for i in range(3):
        assert r.check_steps[n_checked[i] - 1] >= r.steps[i]
        assert n_checked[i] == 1 or r.check_steps[n_checked[i] - 2] < r.steps[i]


def test_step_cap_divergence_and_lazy_weights_move_less():
    x, y = _data()
    r = train_ensemble([mlp(8, 16, 2, seed=0).double() for _ in range(2)], x, y, x, y, alpha=[1.0, 100.0], lr=0.5,
                       batch_size=8, max_steps=3000, check_every=50)
    assert r.weight_change[1] < 0.1 * r.weight_change[0]
    capped = train_ensemble([mlp(8, 16, 2).double()], x, y, x, y, alpha=1.0, lr=1e-4, max_steps=20, check_every=10)
    assert capped.status[0] == "capped" and capped.steps[0] == 20
    div = train_ensemble([mlp(8, 16, 2)], x.float(), y.float(), x.float(), y.float(), alpha=1.0, lr=1e37,
                         max_steps=200, check_every=10)  # float32 overflow: loss inf
    assert div.status[0] == "diverged" and np.isnan(div.weight_change[0])


def test_bad_n_train_raises():
    x, y = _data()
    with pytest.raises(ValueError, match="n_train"):
        train_ensemble([mlp(8, 8, 1).double()], x, y, x, y, alpha=1.0, lr=0.1, n_train=1000)


@pytest.mark.parametrize("act", ["relu", "gelu", "tanh"])
def test_handwritten_mlp_step_equals_vmap_grad(act):
    """The fused batched backprop of ensemble_mlp takes the same step as vmap(grad) of the released loss."""
    from torch.func import grad_and_value, vmap

    from paper_repro.experiments.sgd_regimes.ensemble import _hinge
    from paper_repro.experiments.sgd_regimes.ensemble_mlp import forward, mlp_layers, sgd_step

    k, B, d = 5, 8, 12
    params, base = stack([mlp(d, 16, 3, act, seed=s).double() for s in range(k)])
    layers = mlp_layers(base)
    assert layers is not None and len(layers) == 4
    g = torch.Generator().manual_seed(1)
    xb = torch.randn(k, B, d, generator=g, dtype=torch.float64)
    yb = torch.sign(torch.randn(k, B, generator=g, dtype=torch.float64))
    f0b = 0.1 * torch.randn(k, B, generator=g, dtype=torch.float64)
    alpha = torch.tensor([0.5, 1.0, 2.0, 8.0, 0.25], dtype=torch.float64)
    lr = torch.tensor([0.1, 0.2, 0.05, 0.3, 1.0], dtype=torch.float64)
    grads, loss_ref = vmap(grad_and_value(_hinge(base)))(params, xb, yb, f0b, alpha)
    assert (loss_ref > 0).all()  # every member has active points, so every layer's gradient is exercised
    new = {n: p.clone() for n, p in params.items()}
    loss = sgd_step(new, layers, xb, yb, f0b, alpha, lr)
    tol = dict(n_reduce=B * 16)  # float64 sums over the batch and the width 16 (sqrt rule)
    assert_close_dtype(loss, loss_ref, **tol)
    for n in params:
        assert_close_dtype(new[n], params[n] - lr.view(-1, 1, 1) * grads[n], **tol)
    x = torch.randn(7, d, generator=g, dtype=torch.float64)
    ref = torch.stack([base_out for base_out in vmap(lambda p: torch.func.functional_call(base, p, (x,))[:, 0])(new)])
    assert_close_dtype(forward(new, layers, x), ref, **tol)


def test_mlp_layers_rejects_other_architectures():
    from paper_repro.experiments.sgd_regimes.ensemble_mlp import mlp_layers
    from paper_repro.experiments.sgd_regimes.nets import linear

    assert mlp_layers(torch.nn.Sequential(torch.nn.Linear(3, 1))) is None
    assert mlp_layers(linear(4)) is not None  # one readout layer, no activation: the same rule applies


def test_sparser_checks_change_only_the_cost():
    """check_growth skips full-set checks; t*, status and final weights are those of checking every chunk."""
    x, y = _data()
    kw = dict(alpha=[1.0, 4.0, 2.0, 1.0], lr=[1.0, 2.0, 0.5, 1e-4], seeds=[1, 2, 3, 4], batch_size=8,
              max_steps=3000, check_every=10)
    every = train_ensemble([mlp(8, 16, 2, seed=s).double() for s in range(4)], x, y, x, y, **kw)
    sparse = train_ensemble([mlp(8, 16, 2, seed=s).double() for s in range(4)], x, y, x, y, check_growth=0.5, **kw)
    assert list(every.status) == ["fitted"] * 3 + ["capped"] and every.steps[:3].max() > 200
    assert len(sparse.check_steps) < len(every.check_steps) / 2
    assert np.array_equal(every.steps, sparse.steps) and np.array_equal(every.status, sparse.status)
    for name in every.params:
        torch.testing.assert_close(every.params[name], sparse.params[name], rtol=0, atol=0)
