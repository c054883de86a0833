"""Vectorised ensemble: k members equal k separate runs and a naive autograd loop; stop times are exact."""
import numpy as np
import pytest
import torch

from paper_repro.ensemble import ntk_mlp, outputs, stack, train_ensemble


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny per-step work: one thread avoids oversubscription on a shared CPU."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _data(n=64, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g)
    return x, torch.sign(x[:, 0] + 0.5 * x[:, 1])


def _naive(model, x, y, alpha, lr, n, seed, batch_size, max_steps, check_every):
    """Plain autograd SGD on one nn.Module with the same batches and checks; returns (weights, steps)."""
    f0 = model(x).reshape(-1).detach()
    g = torch.Generator().manual_seed(seed)
    step, last = 0, -1
    while step < max_steps:
        idx = torch.randint(n, (check_every, batch_size), generator=g)
        for s in range(check_every):
            ib = idx[s]
            z = alpha * y[ib] * (model(x[ib]).reshape(-1) - f0[ib])
            loss = torch.relu(1 - z).mean() / alpha ** 2
            model.zero_grad()
            loss.backward()
            with torch.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
            if loss.item() != 0:
                last = step + s
        step += check_every
        with torch.no_grad():
            z = alpha * y[:n] * (model(x[:n]).reshape(-1) - f0[:n])
        if (z < 1).sum() == 0:
            return [p.detach() for p in model.parameters()], last + 1
    return [p.detach() for p in model.parameters()], step


def test_ensemble_equals_separate_runs_and_naive_loop():
    torch.manual_seed(0)
    x, y = _data()
    k = 4
    kw = dict(alpha=[1.0, 4.0, 1.0, 2.0], lr=[0.8, 1.6, 0.4, 1.0], n_train=[64, 48, 56, 64], seeds=[3, 4, 5, 6])
    make = lambda: [ntk_mlp(8, 16, 2, seed=s) for s in range(k)]  # noqa: E731
    ens = train_ensemble(make(), x, y, x, y, batch_size=8, max_steps=2000, check_every=20, **kw)
    assert (ens.status == "fitted").sum() >= 3  # the comparison is about real stop times
    for i in range(k):
        one = train_ensemble([make()[i]], x, y, x, y, batch_size=8, max_steps=2000, check_every=20,
                             **{key: [v[i]] for key, v in kw.items()})
        assert one.status[0] == ens.status[i] and one.steps[0] == ens.steps[i]
        for name, p in one.params.items():
            torch.testing.assert_close(p[0], ens.params[name][i], rtol=1e-4, atol=1e-5)
        w, steps = _naive(make()[i], x, y, kw["alpha"][i], kw["lr"][i], kw["n_train"][i], kw["seeds"][i], 8, 2000, 20)
        if ens.status[i] == "fitted":
            assert steps == ens.steps[i]
        for p, q in zip(w, ens.params.values()):
            torch.testing.assert_close(p, q[i], rtol=1e-4, atol=1e-5)


def test_finished_members_stop_changing_and_outputs_fit():
    x, y = _data()
    models = [ntk_mlp(8, 16, 2, seed=s) for s in range(3)]
    p0, base = stack(models)
    r = train_ensemble(models, x, y, x, y, alpha=1.0, lr=0.5, batch_size=8, max_steps=3000, check_every=10)
    f = outputs(r.params, base, x) - outputs(p0, base, x)
    fitted = r.status == "fitted"
    assert fitted.all()
    assert torch.all(y[None, :] * f >= 1)  # training hinge loss is exactly zero at the returned weights
    assert np.all(r.test_error == 0)  # the train set is used as test set here
    assert np.allclose(r.time, r.steps * 0.5)
    # each member left at the first check after its stop step (its loss curve is NaN afterwards)
    n_checked = np.isfinite(r.train_loss).sum(1)
    for i in range(3):
        assert r.check_steps[n_checked[i] - 1] >= r.steps[i]
        assert n_checked[i] == 1 or r.check_steps[n_checked[i] - 2] < r.steps[i]


def test_step_cap_is_marked_and_lazy_weights_move_less():
    x, y = _data()
    models = [ntk_mlp(8, 16, 2, seed=0) for _ in range(2)]
    r = train_ensemble(models, x, y, x, y, alpha=[1.0, 100.0], lr=0.5, batch_size=8, max_steps=3000, check_every=50)
    assert r.weight_change[1] < 0.1 * r.weight_change[0]
    capped = train_ensemble([ntk_mlp(8, 16, 2)], x, y, x, y, alpha=1.0, lr=1e-4, max_steps=20, check_every=10)
    assert capped.status[0] == "capped" and capped.steps[0] == 20


def test_bad_n_train_raises():
    x, y = _data()
    with pytest.raises(ValueError, match="n_train"):
        train_ensemble([ntk_mlp(8, 8, 1)], x, y, x, y, alpha=1.0, lr=0.1, n_train=1000)
