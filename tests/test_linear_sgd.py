"""Linear-regression chains of the escape-rate chapter: exact formulas, naive-loop equivalence, recovery of phi."""
import numpy as np
import pytest
from scipy import integrate

from paper_repro.experiments.escape_rate import linear_sgd as ls
from paper_repro.testing import assert_close_dtype, mc_tol


def test_problem_is_least_squares_and_loss_is_exact():
    p = ls.make_problem(5000, 3, "gaussian", seed=1)
    residual = p.x @ p.theta_star - p.y
    grad_at_star = p.x.T @ residual / len(p.y)
    # float64 means over the 5000 samples (sqrt rule), relative to the size of their terms |x r|
    assert_close_dtype(grad_at_star, np.zeros(3), n_reduce=len(p.y), scale=np.abs(p.x * residual[:, None]).mean())
    theta = np.random.default_rng(0).standard_normal((7, 3))
    direct = 0.5 * ((theta @ p.x.T - p.y) ** 2).mean(1)
    assert_close_dtype(p.loss(theta), direct, n_reduce=len(p.y))


@pytest.mark.parametrize("inputs,fourth", [("gaussian", 3.0), ("rademacher", 1.0), ("sparse", 2.0)])
def test_exact_noise_matches_fourth_moment_formula(inputs, fourth):
    # B Sigma(theta) = 1 + (E x^4 - 1) theta^2 for y independent of x (theta* ~ 0, d = 1)
    p = ls.make_problem(200_000, 1, inputs, seed=2)
    for th in (0.5, 1.5):
        var = float(p.noise_variance(np.array([th]), batch_size=2)[0, 0]) * 2
        g = (p.x[:, 0] * th - p.y) * p.x[:, 0]  # the per-sample gradients: var is their variance over 200,000
        assert abs(var - (1 + (fourth - 1) * th ** 2)) < mc_tol((g - g.mean()) ** 2)
    dec = float(p.decoupled_variance(np.array([1.0]))[0, 0])
    assert dec == pytest.approx(2 * float(p.loss(np.array([1.0]))) * float(p.hessian[0, 0]))


def test_sgd_step_equals_naive_loop():
    p = ls.make_problem(300, 2, "gaussian", seed=3)
    step = ls.Stepper(p, lr=0.1, batch_size=4, dynamics="sgd", seed=5)
    theta = np.random.default_rng(1).standard_normal((6, 2))
    new = step(theta)
    idx = np.random.default_rng(5).integers(len(p.y), size=(step.block, 6, 4))[0]
    for m in range(6):
        g = sum((p.x[i] @ theta[m] - p.y[i]) * p.x[i] for i in idx[m]) / 4
        assert_close_dtype(new[m], theta[m] - 0.1 * g, n_reduce=4 * 2)  # float64 sums over the batch of 4, d = 2


@pytest.mark.parametrize("d,phi", [(1, 3.0), (1, 11.0), (4, 6.0)])
def test_fit_phi_recovers_known_exponent(d, phi):
    # p(x) ~ (1+x)^-phi x^(d/2-1) with x = L/L* - 1 is a beta-prime law: x = b / (1 - b), b ~ Beta(d/2, phi - d/2)
    b = np.random.default_rng(0).beta(d / 2, phi - d / 2, size=(400, 500))
    losses = 0.7 * (1 + b / (1 - b))
    se = ls.fit_phi_se(losses, 0.7, d, boot=40)
    assert abs(ls.fit_phi(losses, 0.7, d) - phi) < 4 * se  # bootstrap standard error of the 200,000 samples
    assert 0 < se < 0.05 * phi
    total, err = integrate.quad(lambda L: ls.loss_density(L, 0.7, d, phi), 0.7, np.inf)
    assert abs(total - 1.0) < 4 * err  # within quad's own error estimate (an x^(d/2-1) singularity, infinite range)


@pytest.mark.parametrize("lr,b", [(0.5, 1), (0.25, 4)])
def test_chain_second_moment_matches_simulation(lr, b):
    # the discrete chain's exact stationary E u^2 (derived here) against a long simulation
    p = ls.make_problem(20_000, 1, "gaussian", seed=4)
    s = ls.stationary_samples(p, lr, b, chains=4000, burn_in=300, samples=20, every=10, dynamics="sgd", seed=0)
    per_chain = 2 * (s.losses - p.loss_star).mean(0) / p.h  # the 4000 chains are independent, their samples not
    assert abs(per_chain.mean() - ls.chain_second_moment(p, lr, b)) < mc_tol(per_chain)
    assert ls.phi_chain(p, lr, b) < ls.phi_theory(lr, b, p.h)


def test_kesten_tail_marks_infinite_variance():
    # finite variance <=> tail index alpha > 2 <=> phi = (alpha + 1)/2 > 3/2
    p = ls.make_problem(20_000, 1, "gaussian", seed=4)
    assert not np.isfinite(ls.chain_second_moment(p, 1.0, 1)) and ls.phi_kesten(p, 1.0, 1) < 1.5
    assert np.isfinite(ls.chain_second_moment(p, 0.5, 1)) and ls.phi_kesten(p, 0.5, 1) > 1.5
    assert np.isnan(ls.phi_chain(p, 1.0, 1))


def test_decoupled_sde_stationary_law_is_below_continuous_phi():
    p = ls.make_problem(20_000, 1, "gaussian", seed=4)
    s = ls.stationary_samples(p, lr=0.1, batch_size=1, chains=3000, burn_in=300, samples=20, every=20,
                              dynamics="decoupled", seed=0)
    se = ls.fit_phi_se(s.losses, p.loss_star, 1, boot=40)  # bootstrap over the 3000 chains
    assert abs(ls.fit_phi(s.losses, p.loss_star, 1) - (ls.phi_theory(0.1, 1, p.h) - 0.5)) < 4 * se
    assert s.diverged == 0.0


def test_escape_times_are_ordered_and_censored():
    p = ls.make_problem(2000, 1, "gaussian", seed=5)
    e = ls.escape_times(p, lr=0.25, batch_size=1, c=np.array([1.5, 1.2, 50.0]), runs=40, max_steps=3000)
    assert np.all(np.diff(e.c) > 0)
    assert np.all(e.times[0] <= e.times[1]) and np.all(e.times[1] <= e.times[2])  # inf = not escaped yet
    assert e.escaped[0] == 1.0 and e.escaped[-1] < 0.5
    assert e.mean[0] < e.mean[1] and e.median[0] <= e.median[1]
    assert e.max_time == pytest.approx(0.25 * 3000)


def test_censored_mean_recovers_exponential_mean():
    t = np.random.default_rng(0).exponential(10.0, size=(1, 20_000))
    e = ls.EscapeTimes(np.array([2.0]), np.where(t > 8.0, np.inf, t), 8.0, "sgd", 1)
    assert 0.3 < 1 - e.escaped[0] < 0.6
    se = e.mean[0] / np.sqrt(np.isfinite(e.times).sum())  # the censored exponential MLE: mean / sqrt(#escaped)
    assert abs(e.mean[0] - 10.0) < 4 * se


def test_langevin_escape_follows_arrhenius_scale():
    # mean escape time over a barrier grows much faster for Langevin than for decoupled SGD at the same c
    p = ls.make_problem(2000, 1, "gaussian", seed=6)
    c = np.array([1.5, 2.5])
    lang = ls.escape_times(p, 0.25, 1, c, 60, 20_000, "langevin", seed=1)
    dec = ls.escape_times(p, 0.25, 1, c, 60, 20_000, "decoupled", seed=1)
    assert lang.mean[1] / lang.mean[0] > dec.mean[1] / dec.mean[0]


def test_bad_arguments_raise():
    p = ls.make_problem(100, 1)
    with pytest.raises(ValueError, match="dynamics"):
        ls.stationary_samples(p, 0.1, 1, 2, 1, 1, 1, dynamics="adam")
    with pytest.raises(ValueError, match="inputs"):
        ls.make_problem(100, 1, inputs="uniform")
    with pytest.raises(ValueError, match="lr"):
        ls.escape_times(p, -0.1, 1, np.array([2.0]), 2, 10)
