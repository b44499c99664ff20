"""reviewbook.engine.sequential against published group-sequential boundaries
(equal and unequal looks), a brute-force multivariate-normal check of the
crossing probabilities, and metafor for the cumulative z-curve.
Tolerances: tests/tolerances.py."""
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from tolerances import CLOSED, close
from tolerances import MVN_ABS, PUBLISHED_3DP, PUBLISHED_6DP, RPACT_REL

from reviewbook.engine.sequential import (
    cumulative_z,
    obf_spending,
    obrien_fleming_boundaries,
)
from reviewbook.errors import ArgumentError

REF = json.loads((Path(__file__).parent / "reference" / "metafor_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}


def test_five_equal_looks_published():
    """Two-sided alpha = 0.05, Lan-DeMets O'Brien-Fleming spending, 5 equally spaced
    looks: 4.877, 3.357, 2.680, 2.290, 2.031.  Source: the task brief's published
    values (the ld98 five-look example of Reboussin, DeMets, Kim & Lan 2000,
    Control Clin Trials 21:190-207, run by R ldbounds as ``ldBounds(5)`` in
    cran/ldbounds man/ldBounds.Rd; the .Rd shows the call, not the numbers, and
    the paper itself was not available here).  rpact 3.3.4 ``asOF``, sided = 2
    gives 4.8768849 3.3570119 2.6802801 2.2898168 2.0310320 (run by hand, not a
    test dependency)."""
    b = obrien_fleming_boundaries([0.2, 0.4, 0.6, 0.8, 1.0], alpha=0.05)
    expected = [4.877, 3.357, 2.680, 2.290, 2.031]
    assert np.all(np.abs(b.z - expected) <= PUBLISHED_3DP), b.z
    assert abs(b.alpha_spent[-1] - 0.05) <= 1e-15


def test_unequal_looks_gsdesign_vignette():
    """gsDesign vignette 'Integer sample size and event counts' (keaven/gsDesign,
    articles/toInteger.md @0d273313): one-sided alpha = 0.025, sfLDOF.
    Planned looks 0.5, 0.75, 1: ``xb$upper$bound`` = 2.962588 2.359018 2.014084,
    cumulative alpha 0.001525323 0.009649325 0.025.  Integer design, looks
    219/441, 329/441, 1 (``x_integer$n.I`` = 219 329 441; printed timing
    0.4965986 0.7460317 1): ``x_integer$upper$bound`` = 2.974067 2.366106 2.012987,
    cumulative alpha 0.001469404 0.009458454 0.025."""
    b = obrien_fleming_boundaries([0.5, 0.75, 1.0], alpha=0.025, sides=1)
    assert np.all(np.abs(b.z - [2.962588, 2.359018, 2.014084]) <= PUBLISHED_6DP), b.z
    assert np.allclose(b.alpha_spent, [0.001525323, 0.009649325, 0.025], rtol=0, atol=5e-10)
    b = obrien_fleming_boundaries([219 / 441, 329 / 441, 1.0], alpha=0.025, sides=1)
    assert np.all(np.abs(b.z - [2.974067, 2.366106, 2.012987]) <= PUBLISHED_6DP), b.z
    assert np.allclose(b.alpha_spent, [0.001469404, 0.009458454, 0.025], rtol=0, atol=5e-10)


def test_unequal_looks_two_sided_equals_one_sided_at_half_alpha():
    """For these levels the two-sided symmetric design at alpha = 0.05 has the same
    boundaries as the one-sided design at 0.025 up to the probability of crossing the
    lower boundary and then the upper (< 1e-9): the gsDesign values above again."""
    b = obrien_fleming_boundaries([219 / 441, 329 / 441, 1.0], alpha=0.05)
    assert np.all(np.abs(b.z - [2.974067, 2.366106, 2.012987]) <= PUBLISHED_6DP), b.z


@pytest.mark.parametrize("rates,z,spent", [
    # rpact-com/rpact tests/testthat/test-f_design_group_sequential.R, test
    # "'getDesignGroupSequential' with type of design = 'asOF' and 'bsKD' and
    # non-binding futility bounds (kMax = 3)": x7a$criticalValues, x7a$alphaSpent
    ((0.4, 0.75, 1.0), (2.1280732, 1.4368565, 1.2468994), (0.016665509, 0.080406163, 0.12999999)),
    # same file, "... non-binding futility bounds (kMax = 4)"
    ((0.4, 0.75, 0.85, 1.0), (2.1280732, 1.4368565, 1.422873, 1.2970881),
     (0.016665509, 0.080406163, 0.10053322, 0.13)),
])
def test_unequal_looks_rpact_unit_tests(rates, z, spent):
    """rpact getDesignGroupSequential(typeOfDesign = 'asOF', alpha = 0.13, sided = 1,
    informationRates = rates); non-binding futility bounds do not enter the
    efficacy critical values.  rpact stores alphaSpent at t = 1 as 0.12999999."""
    b = obrien_fleming_boundaries(rates, alpha=0.13, sides=1)
    assert np.all(np.abs(b.z - z) <= RPACT_REL * np.abs(z)), b.z
    assert np.all(np.abs(b.alpha_spent - spent) <= RPACT_REL * np.array(spent) + 1e-8), b.alpha_spent


def _box_probability(t, c):
    """P(|Z_k| < c_k for all k) for Z_k = B(t_k)/sqrt(t_k), by inclusion-exclusion
    over the corners of the box with scipy's multivariate normal CDF."""
    t = np.asarray(t, float)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    mvn = stats.multivariate_normal(mean=np.zeros(t.size), cov=cov)
    total = 0.0
    for corner in range(2 ** t.size):
        signs = np.array([1.0 if corner >> j & 1 else -1.0 for j in range(t.size)])
        total += np.prod(signs) * mvn.cdf(signs * c)
    return total


@pytest.mark.parametrize("t", [(0.3, 0.6, 1.0), (0.1, 0.15, 0.5), (0.25, 0.5, 0.7)])
def test_crossing_probabilities_brute_force(t):
    """Independent check: with the computed boundaries, P(no crossing by look k)
    = 1 - alpha spent at t_k, by the multivariate normal CDF (Genz) of the
    correlated z-statistics, corr(Z_j, Z_k) = sqrt(t_j/t_k)."""
    b = obrien_fleming_boundaries(t, alpha=0.05)
    for k in range(1, len(t) + 1):
        p_stay = _box_probability(t[:k], b.z[:k])
        assert abs((1 - p_stay) - b.alpha_spent[k - 1]) <= MVN_ABS, (k, 1 - p_stay, b.alpha_spent[k - 1])


def test_spending_function_formula():
    """obf_spending = 2 (2 - 2 Phi(z_{1-alpha/4}/sqrt t)) two-sided (hand formula),
    = alpha at t = 1; one-sided 2 - 2 Phi(z_{1-alpha/2}/sqrt t)."""
    t = np.array([0.05, 0.2, 0.5, 0.9, 1.0])
    # 2 - 2 Phi(x) written as 2 Phi(-x) to keep precision at small t
    hand = 2 * (2 * stats.norm.cdf(-stats.norm.ppf(1 - 0.05 / 4) / np.sqrt(t)))
    assert np.allclose(obf_spending(t, 0.05), hand, rtol=CLOSED, atol=0)
    hand1 = 2 * stats.norm.cdf(-stats.norm.ppf(1 - 0.025 / 2) / np.sqrt(t))
    assert np.allclose(obf_spending(t, 0.025, sides=1), hand1, rtol=CLOSED, atol=0)
    assert obf_spending(1.0, 0.05) == pytest.approx(0.05, rel=1e-14)
    assert obf_spending(0.0, 0.05) == 0.0


def test_last_look_below_one_spends_only_alpha_t():
    """A final look at t < 1 spends alpha(t_K) < alpha; the boundaries at the earlier
    looks are those of any design sharing them (spending is look-by-look)."""
    b_short = obrien_fleming_boundaries([0.3, 0.6], alpha=0.05)
    b_full = obrien_fleming_boundaries([0.3, 0.6, 1.0], alpha=0.05)
    assert np.allclose(b_short.z, b_full.z[:2], rtol=1e-12)
    assert b_short.alpha_spent[-1] < 0.05


@pytest.mark.parametrize("info", [[0.5, 0.4], [0.0, 0.5], [0.5, 1.2], [], [0.3, 0.3, 1.0], [[0.5]]])
def test_information_validation(info):
    with pytest.raises(ArgumentError):
        obrien_fleming_boundaries(info)


@pytest.mark.parametrize("kwargs", [{"alpha": 0}, {"alpha": 1.5}, {"sides": 3}])
def test_argument_validation(kwargs):
    with pytest.raises(ArgumentError):
        obrien_fleming_boundaries([0.5, 1.0], **kwargs)


# ----------------------------------------------------------------------------
# cumulative z

@pytest.mark.parametrize("cid,method", [("bcg_RR_DL", "DL"), ("bcg_RR_FE", "FE"),
                                        ("normand_MD_DL", "DL"), ("normand_MD_FE", "FE")])
def test_cumulative_z_final_equals_metafor(cid, method):
    """The last point of the cumulative z-curve is the full analysis: metafor 3.8-1
    ``rma(yi, vi, method=...)`` estimate, se, z and tau2
    (tests/reference/metafor_reference.json, case ``cid``)."""
    case = CASES[cid]
    cz = cumulative_z(case["yi"], case["vi"], method=method)
    res = case["result"]
    assert close(cz.mu[-1], res["estimate"], CLOSED)
    assert close(cz.se[-1], res["se"], CLOSED)
    assert close(cz.z[-1], res["stat"], CLOSED)
    assert close(cz.tau2[-1], res["tau2"], CLOSED)


def test_cumulative_z_prefixes_by_hand():
    """First point: z = y1/sqrt(v1).  Two studies, FE: (y1/v1 + y2/v2)/sqrt(1/v1 + 1/v2).
    Two studies DL with Q = (y1-y2)^2/(v1+v2): tau2 = max(0, (Q-1)/(sum w - sum w^2/sum w))."""
    y, v = np.array([0.5, -0.2, 0.1]), np.array([0.04, 0.09, 0.02])
    fe = cumulative_z(y, v, method="FE")
    assert close(fe.z[0], 0.5 / 0.2, CLOSED)
    assert close(fe.z[1], (0.5 / 0.04 - 0.2 / 0.09) / np.sqrt(1 / 0.04 + 1 / 0.09), CLOSED)
    dl = cumulative_z(y, v, method="DL")
    q = (0.5 + 0.2) ** 2 / (0.04 + 0.09)
    w = 1 / v[:2]
    tau2 = max(0.0, (q - 1) / (w.sum() - (w @ w) / w.sum()))
    ws = 1 / (v[:2] + tau2)
    assert close(dl.tau2[1], tau2, CLOSED)
    assert close(dl.z[1], (ws @ y[:2]) / np.sqrt(ws.sum()), CLOSED)
    assert dl.tau2[0] == 0.0


def test_cumulative_z_errors():
    with pytest.raises(ArgumentError):
        cumulative_z([0.1], [0.01], method="REML")
    with pytest.raises(ArgumentError):
        cumulative_z([0.1, 0.2], [0.01, -1.0])
