"""Escape-rate chapter: layer-factorised NTK / per-sample norms against naive loops, spectra, config validation."""
import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from paper_repro import gradients, models
from paper_repro.config import ConfigError
from paper_repro.experiments import escape_rate as er
from paper_repro.experiments import escape_rate_nn as enn


def _naive_grads(model, loss_of_sample, n):
    rows = []
    for i in range(n):
        model.zero_grad()
        loss_of_sample(i).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    return torch.stack(rows)


@pytest.mark.parametrize("bias", [False, True])
def test_ntk_gram_equals_jacobian_gram(bias):
    torch.manual_seed(0)
    model = models.mlp(12, [9, 7], 1, bias=bias, init="glorot", activation="tanh").double()
    x = torch.randn(15, 12, dtype=torch.float64)
    jac = _naive_grads(model, lambda i: model(x[i:i + 1]).sum(), len(x))
    assert torch.allclose(enn.ntk_gram(model, x), jac @ jac.T, atol=1e-10)


def test_ntk_gram_falls_back_for_cnn():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 1)).double()
    assert not enn.is_plain_mlp(model)
    x = torch.randn(5, 1, 6, 6, dtype=torch.float64)
    jac = _naive_grads(model, lambda i: model(x[i:i + 1]).sum(), len(x))
    assert torch.allclose(enn.ntk_gram(model, x), jac @ jac.T, atol=1e-10)


def test_noise_strength_equals_naive_per_sample_loop():
    torch.manual_seed(2)
    model = models.mlp(10, [8, 8], 3, bias=True).double()
    x, y = torch.randn(23, 10, dtype=torch.float64), torch.randn(23, 3, dtype=torch.float64)
    g = _naive_grads(model, lambda i: enn.mse(model(x[i:i + 1]), y[i:i + 1]), len(x))
    naive = float((g * g).sum(1).mean() - g.mean(0).pow(2).sum())
    assert enn.noise_strength(model, enn.mse, x, y, chunk_size=7) == pytest.approx(naive, rel=1e-10)
    cnn = nn.Sequential(nn.Unflatten(1, (1, 10)), nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(16, 3)).double()
    g = gradients.per_sample_grads(cnn, enn.mse, x, y)
    naive = float((g * g).sum(1).mean() - g.mean(0).pow(2).sum())
    assert enn.noise_strength(cnn, enn.mse, x, y, chunk_size=10) == pytest.approx(naive, rel=1e-8)


def test_decoupling_spectrum_matches_parameter_space_matrices():
    torch.manual_seed(3)
    model = models.mlp(6, [5], 1, bias=True, init="glorot").double()
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.sign(torch.randn(40, dtype=torch.float64))
    s = enn.decoupling_spectrum(model.float(), x.float(), y.float(), epoch=0, top=5)
    model = model.double()
    jac = _naive_grads(model, lambda i: model(x[i:i + 1]).sum(), len(x))
    ell = 0.5 * (model(x).reshape(-1) - y).detach() ** 2
    exact = jac.T @ (ell[:, None] * jac) / len(x)
    dec = ell.mean() * jac.T @ jac / len(x)
    ev = torch.linalg.eigvalsh(exact).flip(0)[: jac.shape[1]].numpy()
    np.testing.assert_allclose(s.exact[:10], ev[:10], rtol=1e-4)
    np.testing.assert_allclose(s.decoupled[:10], torch.linalg.eigvalsh(dec).flip(0)[:10].numpy(), rtol=1e-4)
    frob = float(torch.linalg.norm(exact - dec) / torch.linalg.norm(exact))
    assert s.frobenius_error == pytest.approx(frob, rel=1e-4)


def test_config_presets_and_validation():
    assert er.make_config("smoke").profile == "smoke"
    assert er.make_config("quick", esc_lr=0.1).esc_lr == 0.1
    with pytest.raises(ConfigError, match="profile"):
        er.make_config("huge")
    with pytest.raises(ConfigError, match="esc_lr"):
        er.make_config("smoke", esc_lr=-1.0)
    with pytest.raises(ConfigError, match="esc_c"):
        dataclasses.replace(er.PRESETS["smoke"], esc_c=(0.5, 2.0))
    with pytest.raises(ConfigError, match="dec_n_spectrum"):
        dataclasses.replace(er.PRESETS["smoke"], dec_n_spectrum=10**6)
    with pytest.raises(ConfigError, match="arch"):
        dataclasses.replace(er.PRESETS["smoke"], noise_runs=(("mnist", "rnn", (4,)),))
    with pytest.raises(ConfigError, match="unknown"):
        er.make_config("smoke", learning_rate=0.1)


def test_prose_words_follow_the_numbers():
    from paper_repro.experiments import escape_rate_reading as et

    assert et.side([1.1, 1.2]) == "above" and et.side([0.9, 0.8]) == "below"
    assert et.side([0.9, 1.1]) == "on both sides of"
    assert [et.trend(r, "up", "down", "flat") for r in (1.5, 0.5, 1.05, float("nan"))] == ["up", "down", "flat",
                                                                                           "not measured"]
    assert et.per_run([0.321], ["a"], ".2f") == "0.32"
    assert et.per_run([0.321, 1.0], ["a", "b"], ".1f") == "0.3 (a); 1.0 (b)"
