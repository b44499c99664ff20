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


def _lines_run_in_batch(yi, vi, method):
    """How many lines of ``engine/batch.py`` Python executes for one ``batch.pool`` call."""
    import sys

    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if frame.f_code.co_filename == batch.__file__:
            if event == "line":
                count += 1
            return tracer
        return None

    sys.settrace(tracer)
    try:
        batch.pool(yi, vi, method)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_batch_has_no_python_loop_per_fit(method, monkeypatch):
    """The batch path is vectorised: the Python lines it runs do not grow with the number
    of meta-analyses (a loop per fit would run 100 times more lines for 100 times the
    fits), and it never calls the single-fit pooling. The one exception, by design, is
    REML's fallback to the single-fit global search for a row whose vectorised Newton
    steps did not converge (2 lines each); those must stay rare (under 1% of rows)."""
    def single_fit(*a, **k):
        raise AssertionError("batch.pool called the single-fit path")

    fallbacks = 0
    reml = batch.tau2_mod.reml

    def counted_reml(*a, **k):
        nonlocal fallbacks
        fallbacks += 1
        return reml(*a, **k)

    monkeypatch.setattr(pooling, "meta", single_fit)
    monkeypatch.setattr(batch.tau2_mod, "reml", counted_reml)
    small = _lines_run_in_batch(*random_sets(1, 100, 6), method)
    fallbacks = 0
    large = _lines_run_in_batch(*random_sets(1, 10_000, 6), method)
    assert fallbacks < 100, fallbacks
    assert small > 0 and large - 2 * fallbacks < 2 * small, (small, large, fallbacks)


def test_batch_rejects_unknown_method():
    with pytest.raises(ValueError, match="method='MH' is not allowed; expected one of FE, DL, REML, PM"):
        batch.pool([[0.1, 0.2]], [[0.1, 0.1]], "MH")
