"""The engine's distribution functions (reviewbook.engine.dist) equal scipy.stats,
which evaluates the same scipy.special functions (scipy 1.17, _continuous_distns)."""
import numpy as np
from scipy import stats

from reviewbook.engine import dist

Q = np.array([1e-12, 1e-6, 0.001, 0.025, 0.1, 0.5, 0.9, 0.975, 0.999999])
X = np.array([-40.0, -8.0, -1.96, -0.5, 0.0, 0.3, 1.96, 6.0, 37.5])


def test_normal_functions_equal_scipy_stats():
    assert np.array_equal(dist.norm_ppf(Q), stats.norm.ppf(Q))
    assert np.array_equal(dist.norm_isf(Q), stats.norm.isf(Q))
    assert np.array_equal(dist.norm_cdf(X), stats.norm.cdf(X))
    assert np.array_equal(dist.norm_sf(X), stats.norm.sf(X))
    assert np.allclose(dist.norm_pdf(X, scale=2.5), stats.norm.pdf(X, scale=2.5), rtol=1e-15, atol=0)


def test_t_and_chi2_equal_scipy_stats():
    for df in (1, 2, 5, 30):
        assert np.array_equal(dist.t_ppf(Q, df), stats.t.ppf(Q, df))
        assert np.array_equal(dist.t_sf(X, df), stats.t.sf(X, df))
        pos = np.abs(X)
        assert np.array_equal(dist.chi2_sf(pos, df), stats.chi2.sf(pos, df))
