"""SGD-regimes chapter pieces: config validation, exponent fits, T_c(P) and T_opt(alpha) recovery, verdicts."""
import numpy as np
import pytest
import torch

from paper_repro.config import ConfigError
from paper_repro.experiments import sgd_regimes as sr
from paper_repro.experiments import sgd_regimes_analysis as an
from paper_repro.experiments import sgd_regimes_reading as rd
from paper_repro.experiments.sgd_regimes_cnn import mnasnet_like


@pytest.mark.parametrize("bad, match", [
    (dict(dataset="svhn"), "dataset"), (dict(width=0), "width"), (dict(lazy_P=()), "lazy_P"),
    (dict(perc_chis=(-1.0,)), "perc_chis"), (dict(dtype="float16"), "dtype"), (dict(executor="ray"), "executor"),
    (dict(phase_temperatures=(0.1, -1.0)), "phase_temperatures"), (dict(device="tpu"), "device"),
])
def test_config_rejects_bad_values(bad, match):
    with pytest.raises(ConfigError, match=match):
        sr.make_config("smoke", **bad)


def test_presets_and_profile_validation():
    for profile in ("smoke", "quick", "paper"):
        assert sr.make_config(profile).profile == profile
    assert sr.make_config("quick", seeds=3).seeds == 3
    assert max(sr.make_config("quick").lazy_P) <= 2048
    with pytest.raises(ConfigError, match="profile"):
        sr.make_config("huge")


def test_fit_power_recovers_exponents():
    rng = np.random.default_rng(0)
    T = np.repeat([1.0, 2.0, 4.0, 8.0], 6)
    P = np.tile([256.0, 512.0, 1024.0], 8)
    y = 3 * T ** 0.7 * P ** 0.4 * np.exp(0.02 * rng.standard_normal(len(T)))
    fit = an.fit_power(T, P, y, n_boot=100)
    assert fit.e_T == pytest.approx(0.7, abs=0.03) and fit.e_P == pytest.approx(0.4, abs=0.03)
    assert 0 < fit.err_T < 0.05
    np.testing.assert_allclose(fit.predict(T, P), y, rtol=0.1)
    assert np.isnan(an.fit_power([1.0, 1.0], [1.0, 2.0], [1.0, 2.0]).e_T)  # too few points: NaN, no crash


def test_crossover_recovers_a_equal_gamma_over_delta():
    delta, gamma, plateau = 0.8, 0.4, 1e-3
    T = np.tile(2.0 ** np.arange(-4, 8), 4)
    P = np.repeat([256.0, 512.0, 1024.0, 2048.0], 12)
    w = np.maximum(plateau, 1e-5 * T ** delta * P ** gamma)
    table = {"T": T, "P": P, "weight_change": w, "status": np.array(["fitted"] * len(T))}
    T_min = 30.0  # every P is noise-dominated above it
    cross = an.crossover(table, T_min, n_boot=20)
    assert cross.a == pytest.approx(gamma / delta, abs=1e-6)
    expected = (plateau / (1e-5 * cross.P ** gamma)) ** (1 / delta)
    np.testing.assert_allclose(cross.T_c, expected, rtol=1e-6)


def test_optimal_temperature_slope_and_noise_effect():
    alphas, Ts = 2.0 ** np.arange(-6, 1), 2.0 ** np.arange(-10, 4, 0.5)
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    err = 0.1 + 0.01 * (np.log(T) - (2 / 3) * np.log(A)) ** 2
    table = {"alpha": A.ravel(), "T": T.ravel(), "test_error": err.ravel(),
             "status": np.array(["fitted"] * A.size)}
    opt = an.optimal_temperature(table, alpha_max=1.0)
    assert opt.k == pytest.approx(2 / 3, abs=0.1)
    # alpha = 1: T_opt = 1 is nearer the largest T (noise helps); alpha = 2^-6: nearer the smallest T (noise hurts)
    assert an.noise_effect(table, 1.0).effect < 0 < an.noise_effect(table, 2.0 ** -6).effect
    eff = an.noise_effect_extreme(table, "feature")
    assert eff.alpha == 2.0 ** -6 and eff.significant


def test_verdicts_and_predictions():
    assert an.agree(0.66, 0.05, 2 / 3, 0.1) == "reproduced"
    assert an.agree(0.8, 0.05, 2 / 3, 0.1) == "partly"
    assert an.agree(2.0, 0.05, 2 / 3, 0.1) == "not reproduced"
    assert an.agree(np.nan, 0.1, 1.0, 0.1) == "not run"
    assert an.perceptron_predictions(1.0) == {"delta": 1.0, "gamma": 0.5, "b": 2.0}


def test_reading_explains_a_by_the_plateau_exponent():
    """The text's identity a = (gamma - s)/delta holds for the crossing estimate, and the words follow the numbers."""
    T = np.tile(2.0 ** np.arange(-4, 8), 3)
    P = np.repeat([256.0, 512.0, 1024.0], 12)
    w = np.maximum(1e-3 * (P / 256) ** 0.9, 1e-5 * T ** 0.8 * P ** 0.4)  # plateau grows faster than P^gamma
    table = {"T": T, "P": P, "weight_change": w, "test_error": 0.1 + 0.001 * np.log(T), "alpha": np.ones_like(T),
             "time": T * P, "status": np.array(["fitted"] * len(T))}
    cfg = sr.make_config("smoke", lazy_P=(256, 512, 1024), lazy_temperatures=tuple(2.0 ** np.arange(-4, 8)))
    cross = an.crossover(table, 30.0, n_boot=5)
    fit = an.noise_fits(table, 30.0, n_boot=5)["weights"]
    r = rd.lazy_reading(cfg, table, cross, fit)
    assert cross.a == pytest.approx((fit.e_P - r["lazy_plateau_exp"]) / fit.e_T)
    assert r["lazy_tc_trend"] == "does not decrease" and r["lazy_plateau_cmp"] == "faster than"
    assert r["lazy_err_up"] == r["lazy_err_nP"] == 3 and r["lazy_T_ratio"] == pytest.approx(2.0)
    assert r["lazy_seeds"] == "1 seed"


def test_claims_reading_names_every_verdict():
    claim = an.make_claim("lazy-Tc", "s", "p", "o", "partly", dataset="mnist", profile="smoke")
    assert rd.claims_reading([claim]) == {"verdict_lazy_Tc": "partly", "n_reproduced": 0, "n_claims": 1}


def test_mnasnet_like_is_scalar_and_seeded():
    x = torch.randn(3, 1, 28, 28)
    a, b = mnasnet_like(1, 16, seed=1), mnasnet_like(1, 16, seed=1)
    assert a(x).shape == (3, 1)
    torch.testing.assert_close(a(x), b(x))


@pytest.fixture(scope="module")
def mnist_available():
    from paper_repro import fetch
    try:
        sr.load_parity("mnist", 8, 8)
    except (fetch.DataError, OSError) as exc:  # no network and no local copy
        pytest.skip(f"MNIST not available: {exc}")


def test_parity_data_is_centred_and_normalised(mnist_available):
    x, y, xt, yt = sr.load_parity("mnist", 256, 64)
    assert x.shape == (256, 1, 28, 28) and x.dtype == torch.float64
    torch.testing.assert_close(x.flatten(1).norm(dim=1), torch.full((256,), 28.0, dtype=torch.float64))
    assert set(y.unique().tolist()) == {-1.0, 1.0} and len(yt) == 64


def test_run_job_returns_one_record_per_member(mnist_available):
    job = sr.EnsembleJob(members=((1.0, 1.0, 32, 0), (2.0 ** 15, 4.0, 16, 1)), dataset="mnist", arch="fc", width=8,
                         depth=1, activation="relu", batch_size=4, n_test=32, dtype="float64", device="cpu",
                         max_steps=300, check_every=50)
    out = sr.run_job(job)
    assert len(out["status"]) == 2 and set(out["status"]) <= {"fitted", "capped", "diverged"}
    assert len(out["train_loss"][0]) == len(out["check_steps"])
