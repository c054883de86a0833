"""Exact finite-c first-passage times of the chapter's SDEs (escape_rate.mfpt): against direct simulation of the same
SDE, against an independent double quadrature, against the large-c limit (Eq. 17), and Eq. (19)'s drift."""
import numpy as np
import pytest
from scipy import integrate

from paper_repro.experiments.escape_rate import mfpt
from paper_repro.testing import mc_tol

corrected_c = mfpt.watched_threshold  # a path watched every dt crosses later than a continuous one


@pytest.mark.parametrize("model,d", [("decoupled", 1), ("decoupled", 3), ("gaussian", 2), ("langevin", 1)])
def test_quadrature_matches_simulation_of_the_same_sde(model, d):
    c, eps, dt = np.array([1.5, 2.0]), 0.5, 0.002
    t = mfpt.simulate(c, eps, d, runs=1500, dt=dt, max_steps=60_000, model=model, seed=d)
    assert np.isfinite(t).all()
    exact = mfpt.mfpt(corrected_c(c, eps, d, model, dt), eps, d, model)
    for i in range(len(c)):
        assert abs(t[i].mean() - exact[i]) < mc_tol(t[i]) + 0.01 * exact[i]  # 1 %: O(dt) left after the correction
    # the test can fail: the quadrature of another noise law misses the same simulation
    other = {"decoupled": "gaussian", "gaussian": "decoupled", "langevin": "decoupled"}[model]
    wrong = mfpt.mfpt(corrected_c(c, eps, d, model, dt), eps, d, other)[1]
    assert abs(t[1].mean() - wrong) > mc_tol(t[1]) + 0.01 * wrong


@pytest.mark.parametrize("model", mfpt.MODELS)
def test_quadrature_matches_an_independent_double_integral(model):
    eps, d, c = 0.3, 2, 2.5
    drift = {"decoupled": lambda y: -y + (d - 1) * eps * (1 + y * y) / (2 * y),
             "gaussian": lambda y: -y + (d - 1) * eps * (1 + y * y) / (2 * y),
             "langevin": lambda y: -y + (d - 1) * eps / (2 * y)}[model]
    diff = {"decoupled": lambda y: eps * (1 + y * y) / 2, "gaussian": lambda y: eps * (1 + 2 * y * y) / 2,
            "langevin": lambda y: eps / 2}[model]
    ref = 0.1  # s(y) normalised at y = ref; T is invariant to the normalisation
    log_s = lambda y: -integrate.quad(lambda z: drift(z) / diff(z), ref, y)[0]  # noqa: E731
    inner = lambda y: integrate.quad(lambda z: np.exp(-log_s(z)) / diff(z), 0, y, limit=200)[0]  # noqa: E731
    want = integrate.quad(lambda y: np.exp(log_s(y)) * inner(y), 0, np.sqrt(c - 1), limit=200)[0]
    assert mfpt.mfpt([c], eps, d, model)[0] == pytest.approx(want, rel=1e-4)


def test_finite_c_slopes_of_the_review_and_the_large_c_limit():
    c = [1.25, 1.5, 2, 2.5, 3]
    # the quadrature numbers (decoupled SDE, c <= 3): eta = 0.25 and the paper's eta = 0.1
    got = [[round(mfpt.window_slope(c, eps, d), 2) for d in (1, 2, 4)] for eps in (0.25, 0.1)]
    assert got == [[4.47, 3.78, 2.95], [9.82, 8.65, 6.64]]
    for eps, d in ((0.25, 1), (0.25, 4), (0.5, 2)):  # local slope at large c -> Eq. (17)'s 1/eps + 1 - d/2
        loc = mfpt.local_slopes([1e4, 2e4], eps, d)[0]
        assert loc == pytest.approx(mfpt.asymptote(eps, d), abs=0.02)
    # constant noise has no power law: its local slope keeps growing (Arrhenius)
    lang = mfpt.local_slopes([1.25, 2, 3, 4], 0.25, 1, "langevin")
    assert np.all(np.diff(lang) > 0.5)


def test_log_loss_drift_changes_sign_at_the_critical_dimension():
    eps = 0.5
    assert mfpt.critical_dimension(eps) == 6.0
    for d in (3, 9):
        m, se = mfpt.log_loss_drift(eps, d, runs=400, dt=0.01, steps=50, seed=d)
        assert abs(m - eps * (d - 6)) < 4 * se + 0.1  # 0.1: O(1/rho^2) at L = 100 L* and the step
        assert np.sign(m) == np.sign(d - 6) and abs(m) > 4 * se
    m, se = mfpt.log_loss_drift(eps, 9, runs=400, dt=0.01, steps=50, model="langevin")
    assert m < -4 * se  # constant noise: the minimum holds at every d


def test_synthetic_times_are_nested_with_the_given_means():
    rng = np.random.default_rng(0)
    t = mfpt.synthetic_times([1.5, 2, 3], [1.0, 3.0, 10.0], 20_000, rng)
    assert np.all(np.diff(t, axis=0) >= 0)
    for row, want in zip(t, (1.0, 3.0, 10.0)):
        assert abs(row.mean() - want) < mc_tol(row)
    with pytest.raises(ValueError, match="exceed 1"):
        mfpt.mfpt([0.5], 0.1, 1)
