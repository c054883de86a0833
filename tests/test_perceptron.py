"""Perceptron: synthetic data law, event-driven SGD equals the step-by-step run in distribution, exact stop."""
import numpy as np
import pytest
from scipy import stats

from paper_repro.experiments.sgd_regimes.perceptron import (estimate_cost, generalization_error, sample_data, train,
                                                            train_event_driven, train_steps)
from paper_repro.testing import assert_close_dtype, mc_tol


@pytest.mark.parametrize("chi", [0.0, 1.0, 3.0])
def test_boundary_density_has_the_right_moments(chi):
    data = sample_data(40_000, 3, chi, seed=0)
    x1 = np.abs(data.x[:, 0])
    # rho(x1) ∝ |x1|^chi exp(-x1^2/2)  =>  E[x1^2] = chi + 1
    assert abs(np.mean(x1 ** 2) - (chi + 1)) < mc_tol(x1 ** 2)  # four standard errors of the 40,000 samples
    assert np.array_equal(data.y, np.sign(data.x[:, 0]))
    assert abs(data.x[:, 1].std() - 1) < 4 / np.sqrt(2 * len(data.x))  # standard error of a Gaussian's std


def test_event_driven_matches_step_by_step_in_distribution():
    data = sample_data(24, 4, 0.0, seed=3)
    n = 150
    ev = [train_event_driven(data, 0.5, 2, seed=s) for s in range(n)]
    st = [train_steps(data, 0.5, 2, seed=10_000 + s) for s in range(n)]
    for key in ("time", "w_norm", "updates"):
        a, b = np.array([getattr(r, key) for r in ev]), np.array([getattr(r, key) for r in st])
        se = np.sqrt(a.var() / n + b.var() / n)
        assert abs(a.mean() - b.mean()) < 4 * se, key
        assert stats.ks_2samp(a, b).pvalue > 1e-3, key


def test_event_driven_stops_exactly_when_all_margins_reach_one():
    data = sample_data(64, 8, 1.0, seed=1)
    r = train(data, 2.0, 2, seed=0)
    margins = data.y * (data.x @ r.w) / np.sqrt(8)
    assert r.status == "fitted" and margins.min() >= 1
    assert r.updates <= r.steps and r.time == pytest.approx(r.steps * 4.0)
    assert r.w_norm == pytest.approx(np.hypot(r.w_par, r.w_perp))


def test_gram_and_direct_margin_updates_agree():
    data = sample_data(48, 6, 0.0, seed=2)
    a = train_event_driven(data, 1.0, 2, seed=5)
    b = train_event_driven(data, 1.0, 2, seed=5, gram_max=0)
    assert a.steps == b.steps
    # float64: the margins updated through the Gram against x @ w, over the run's steps of d-long dot products
    assert_close_dtype(a.w, b.w, n_reduce=a.steps * 6, growth="linear")


def test_cap_is_marked():
    data = sample_data(200, 8, 0.0, seed=0)
    assert train_steps(data, 0.01, 2, max_steps=30).status == "capped"
    r = train_event_driven(data, 0.01, 2, max_steps=30)
    assert r.status == "capped" and r.steps == 30


def test_generalisation_error_limits():
    assert generalization_error(1.0, 0.0, 0.0)[0] == 0.0
    assert generalization_error(0.0, 1.0, 1.0)[0] == pytest.approx(0.5)
    # Gaussian x1 (chi = 0): error = angle / pi
    # Monte Carlo over 200,000 draws of Phi(-|x1|) (std 0.144): four standard errors
    assert generalization_error(1.0, 1.0, 0.0)[0] == pytest.approx(0.25, abs=4 * 0.144 / np.sqrt(200_000))


def test_released_linear_model_is_the_simulated_perceptron_in_paper_units():
    """edm linear_model by hand: F = w.x/sqrt(d), w0 ~ N(0,1), loss hinge(alpha (F - F0))/alpha, dt = T B (h = 1).

    u = alpha (w - w0) follows our perceptron at temperature alpha T on the same batches (the chapter's mapping).
    """
    data = sample_data(40, 5, 1.0, seed=2)
    alpha, T, B, steps = 2.0 ** 15, 2.0 ** -12, 2, 300
    w0 = np.random.default_rng(9).standard_normal(5)
    w, rng = w0.copy(), np.random.default_rng(4)
    for _ in range(steps):
        i = rng.integers(40, size=B)
        z = alpha * data.y[i] * (data.x[i] @ (w - w0)) / np.sqrt(5)
        grad = -(data.y[i, None] * data.x[i] * (z < 1)[:, None]).mean(0) / np.sqrt(5)  # d/dw hinge(alpha F)/alpha
        w = w - T * B * grad
    ours = train_steps(data, alpha * T, B, max_steps=steps, seed=4)
    # (when ours stops early, the released loop's later steps have no unfitted point and leave w unchanged)
    # float64, `steps` steps of B x d sums (linear rule); alpha (w - w0) cancels: errors of alpha |w0| (scale)
    assert_close_dtype(alpha * (w - w0), ours.w, n_reduce=steps * B * 5, growth="linear",
                       scale=alpha * np.abs(w0).max())
    assert np.linalg.norm(ours.w) > 0


@pytest.mark.parametrize("chi, P, d, T", [(0.0, 256, 64, 32.0), (1.0, 512, 32, 4.0), (3.0, 256, 128, 1.0)])
def test_cost_estimate_within_factor_three_of_a_measured_run(chi, P, d, T):
    runs = [train(sample_data(P, d, chi, seed=100 + s), T, 2, seed=200 + s) for s in range(3)]
    measured = np.exp(np.mean(np.log([r.updates for r in runs])))
    n, flops = estimate_cost(P, d, T, chi)
    assert measured / 3 < n < 3 * measured
    assert flops > n * 3 * d + 2 * P * P * d               # gram built (P <= gram_max) plus the w updates
    n2, flops2 = estimate_cost(P, d, T, chi, gram_max=0)     # direct margin updates: 2 P d per update
    assert n2 == n and flops2 > n * 2 * P * d
