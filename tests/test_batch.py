"""The vectorised batch path against the single-fit engine (itself checked
against metafor in test_engine_reference.py and test_metafor_live.py)."""
import numpy as np
import pytest

from reviewbook.engine import batch, effects, pooling
from tolerances import BATCH, close


def random_sets(seed, b, k):
    rng = np.random.default_rng(seed)
    vi = rng.uniform(0.01, 0.5, (b, k))
    tau2 = rng.choice([0.0, 0.05, 1.0, 10.0], b)
    yi = rng.normal(0.2, np.sqrt(tau2)[:, None] + 0 * vi) + rng.normal(0, np.sqrt(vi))
    return yi, vi


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM"])
@pytest.mark.parametrize("k", [2, 3, 7, 20])
def test_batch_equals_single_fits(method, k):
    yi, vi = random_sets(k, 300, k)
    res = batch.pool(yi, vi, method)
    for i in range(yi.shape[0]):
        r = pooling.meta(effects.generic(yi[i], vi[i]), method)
        assert close(res.te[i], r.te, BATCH, 1e-10), (method, k, i)
        assert close(res.se[i], r.se, BATCH, 1e-10), (method, k, i)
        assert close(res.tau2[i], r.tau2 or 0.0, BATCH, 1e-10), (method, k, i, res.tau2[i], r.tau2)
        assert close(res.q[i], r.q, BATCH, 1e-10)


def test_batch_has_no_python_loop_per_fit():
    """10,000 REML fits in well under a second would be impossible with a loop
    calling the single-fit path (about 1 ms each); measured by the benchmark
    script, here only the shape contract is checked."""
    yi, vi = random_sets(1, 10_000, 6)
    res = batch.pool(yi, vi, "REML")
    assert res.te.shape == (10_000,) and np.all(np.isfinite(res.se))


def test_batch_rejects_unknown_method():
    with pytest.raises(ValueError, match="method='MH' is not allowed; expected one of FE, DL, REML, PM"):
        batch.pool([[0.1, 0.2]], [[0.1, 0.1]], "MH")
