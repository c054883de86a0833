"""The tests' tolerance rule (paper_repro.testing.float_tol / assert_close_dtype / mc_tol) on known cases."""
import numpy as np
import pytest
import torch

from paper_repro.testing import assert_close_dtype, eps_of, float_tol, mc_tol


def test_float_tol_is_eps_times_the_growth_of_the_reduction():
    eps32 = torch.finfo(torch.float32).eps
    assert eps_of(torch.float32) == eps_of(np.float32) == eps32 and eps_of(np.float64) == np.finfo(float).eps
    assert float_tol(torch.float32, 100) == pytest.approx((4 * eps32 * 10, 4 * eps32 * 10))
    assert float_tol(np.float64, 100, growth="linear", factor=2, scale=3.0) == pytest.approx(
        (2 * np.finfo(float).eps * 100, 6 * np.finfo(float).eps * 100))
    assert float_tol(torch.float32, 0)[0] == 4 * eps32  # no reduction: a few roundings
    with pytest.raises(ValueError, match="growth"):
        float_tol(torch.float32, 10, growth="log")


def test_two_summation_orders_of_float32_pass_and_a_wrong_term_fails():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 4096, generator=g)
    w = torch.randn(4096, 8, generator=g)
    blocked = sum(x[:, i:i + 512] @ w[i:i + 512] for i in range(0, 4096, 512))  # another reduction order
    assert_close_dtype(blocked, x @ w, n_reduce=4096)
    assert_close_dtype(x @ w, x.double() @ w.double(), dtype=torch.float32, n_reduce=4096)  # float64 reference
    with pytest.raises(AssertionError):  # float64 results: the float64 eps, far below float32 rounding
        assert_close_dtype((x @ w).double(), x.double() @ w.double(), n_reduce=4096)
    wrong = x @ w
    wrong[3, 2] += 1e-3 * wrong.abs().max()  # a small bug: one term of 10^3 missing
    with pytest.raises(AssertionError):
        assert_close_dtype(wrong, x @ w, n_reduce=4096)


def test_norm_wise_scale_tolerates_cancelled_elements_only_on_request():
    """The issue's failure: an element that cancels to ~0 carries the rounding of its O(1) terms."""
    terms = torch.tensor([1.0, -(1.0 - 2 ** -20), 0.5, -0.5], dtype=torch.float32)
    exact = [terms.double().sum().item(), 1.0]  # 2^-20: a sum of O(1) terms that cancel
    rounded = [exact[0] + 2 * eps_of(torch.float32), 1.0]  # off by two roundings of the O(1) terms: 25 % relative
    assert_close_dtype(rounded, exact, dtype=torch.float32, n_reduce=4)  # norm-wise: scale = max |expected| = 1
    with pytest.raises(AssertionError):
        assert_close_dtype(rounded, exact, dtype=torch.float32, n_reduce=4, scale=0)  # element-wise relative


def test_mc_tol_is_four_standard_errors_of_the_mean():
    x = np.random.default_rng(0).standard_normal(40_000)
    assert mc_tol(x) == pytest.approx(4 / np.sqrt(40_000), rel=0.02) and mc_tol(x, z=1) == pytest.approx(mc_tol(x) / 4)
    assert abs(x.mean()) < mc_tol(x) and abs(x.mean() - 0.05) > mc_tol(x)  # 0.05 = 10 standard errors off
    assert mc_tol(torch.ones(10)) == 0.0
