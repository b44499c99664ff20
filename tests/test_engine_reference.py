"""The engine against R's metafor 3.8-1 reference values.

Every expected number comes from ``tests/reference/metafor_reference.json``,
written by ``tests/reference/make_reference.R``; each case there carries the R
call that produced it (``case["call"]``), and the assertion messages print it.
Where RevMan's convention differs from metafor's default the test says which
and why (see also ``tests/reference/README.md``).
"""
import json
from pathlib import Path

import numpy as np
import pytest

from reviewbook.engine import effects, pooling
from tolerances import ABS_FLOOR, CLOSED, ITERATIVE, close

REF = json.loads((Path(__file__).parent / "reference" / "metafor_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}


def effect_sizes(case, smd_correction=None):
    inp, measure = case["input"], case["measure"]
    if case["data_type"] == "dichotomous":
        return effects.dichotomous(inp["events1"], inp["n1"], inp["events2"], inp["n2"],
                                   measure=measure, study=inp["study"])
    if case["data_type"] == "continuous":
        corr = smd_correction or ("revman" if "revman" in case["id"] else "exact")
        return effects.continuous(inp["n1"], inp["mean1"], inp["sd1"], inp["n2"], inp["mean2"],
                                  inp["sd2"], measure=measure, study=inp["study"],
                                  smd_correction=corr)
    return effects.generic(inp["yi"], inp["vi"], study=inp["study"])


def fit(case):
    hksj = {"z": None, "knha": "plain", "adhoc": "adhoc"}[case["test"]]
    return pooling.meta(effect_sizes(case), case["method"], hksj=hksj, level=case["level"])


def tol(case):
    return ITERATIVE if case["method"] in ("REML", "PM") else CLOSED


def has_zero_cell(case):
    inp = case["input"]
    if case["data_type"] != "dichotomous":
        return False
    e1, n1, e2, n2 = (np.array(inp[c], float) for c in ("events1", "n1", "events2", "n2"))
    return bool(np.any((e1 == 0) | (e1 == n1) | (e2 == 0) | (e2 == n2)))


def check(name, actual, expected, rel, case):
    assert close(actual, expected, rel), (
        f"{case['id']}: {name} = {actual!r}, metafor {expected!r} (rel {rel}); R: {case['call']}")


@pytest.mark.parametrize("cid", sorted(c for c in CASES if CASES[c]["method"] != "PETO"))
def test_effect_sizes_match_escalc(cid):
    """yi, vi per study = metafor::escalc (add=1/2, to='only0'; drop00 for RR/OR as RevMan;
    for RD with zero cells yi with add=0 and vi with add=1/2, RevMan's convention: the
    case's call says which).  (Peto's yi/vi are checked in test_peto_study_values.)"""
    case = CASES[cid]
    es = effect_sizes(case)
    ref_y = [y for y in case["yi"] if y is not None]
    ref_v = [v for v in case["vi"] if v is not None]
    if case["method"] == "MH" and case["measure"] in ("RR", "OR") and len(ref_y) != es.k:
        pytest.fail(f"{cid}: k differs")
    assert es.k == len(ref_y), f"{cid}: {es.k} estimable studies, metafor {len(ref_y)}"
    for a, b in zip(es.yi, ref_y):
        check("yi", a, b, CLOSED, case)
    for a, b in zip(es.vi, ref_v):
        check("vi", a, b, CLOSED, case)


@pytest.mark.parametrize("cid", sorted(c for c in CASES if CASES[c]["method"] not in ("MH", "PETO")
                                       or not has_zero_cell(CASES[c])
                                       or (CASES[c]["method"], CASES[c]["measure"]) == ("MH", "RD")))
def test_pooled_result_matches_metafor(cid):
    """Pooled results = metafor.  M-H RD pools the uncorrected tables, as RevMan and
    rma.mh both do, so zero-cell M-H RD is checked here too; its Q is about the MH
    estimate with RevMan's per-study RD (the case's q_revman, made in R)."""
    case = CASES[cid]
    ref, r, rel = case["result"], fit(case), tol(case)
    check("estimate (analysis scale)", r.te, ref["estimate"], rel, case)
    if case["measure"] == "RD" and case["method"] == "MH":
        # RevMan uses Greenland-Robins (1985) for the MH RD variance; metafor's
        # rma.mh uses Sato-Greenland-Robins (1989).  se_gr1985 is the 1985
        # formula computed by hand in make_reference.R.
        check("se (Greenland-Robins 1985)", r.se, ref["se_gr1985"], rel, case)
        check("ci_low", r.ci_low_te, ref["ci_low_gr1985"], rel, case)
        check("ci_high", r.ci_high_te, ref["ci_high_gr1985"], rel, case)
        check("z", r.stat, ref["stat_gr1985"], rel, case)
        check("p", r.p, ref["p_gr1985"], rel, case)
    else:
        check("se", r.se, ref["se"], rel, case)
        check("ci_low", r.ci_low_te, ref["ci_low"], rel, case)
        check("ci_high", r.ci_high_te, ref["ci_high"], rel, case)
        check("stat", r.stat, ref["stat"], rel, case)
        check("p", r.p, ref["p"], rel, case)
    if r.tau2 is not None:
        check("tau2", r.tau2, ref["tau2"], rel, case)
    else:  # fixed-effect methods report no tau2; metafor reports 0
        assert ref["tau2"] == 0
    # Q: metafor's QE; for MH-DL RevMan's Q about the MH estimate (the case's q);
    # for MH RD the same Q with RevMan's per-study RD (q_revman)
    rv = "_revman" if "q_revman" in ref else ""
    check("Q", r.q, ref["q" + rv], CLOSED if case["method"] != "PM" else rel, case)
    if r.k >= 2:
        assert r.q_df == ref["q_df"]
        check("Q p", r.q_p, ref["q_p" + rv], CLOSED, case)
        # I2: RevMan's (Q - df)/Q for every model = the case's i2_q (metafor's
        # I2 under REML/PM is tau2-based and differs by design).
        check("I2 (RevMan)", r.i2, ref["i2_q" + rv], CLOSED, case)
    else:
        # k = 1: metafor reports Q = 0 on 0 df with p = 1; we report no p and no I2
        assert r.q == 0 and r.q_p is None and r.i2 is None
    if case["method"] in pooling.RANDOM_METHODS and r.k >= 3 and case["test"] == "z":
        # Higgins (2009) PI with t(k-2): the case's pi_*_t (metafor 3.8's predict uses z)
        check("pi_low", np.log(r.pi_low) if r.is_ratio else r.pi_low, ref["pi_low_t"], rel, case)
        check("pi_high", np.log(r.pi_high) if r.is_ratio else r.pi_high, ref["pi_high_t"], rel, case)
    if r.k < 3:
        assert r.pi_low is None  # no PI claimed for k < 3 (metafor 3.8 returns the CI)
    weights = [w for w in ref["weights"] if w is not None and (case["method"] != "MH" or w > 0)]
    assert len(weights) == len(r.studies)
    for s, w in zip(r.studies, weights):
        check("weight %", s.weight, w, rel, case)


@pytest.mark.parametrize("cid", sorted(c for c in CASES if CASES[c]["method"] == "PETO"))
def test_peto_study_values(cid):
    """Peto yi = (O-E)/V and vi = 1/V; double-zero tables are not estimable
    (RevMan's k excludes them; metafor's k counts them, k_yi does not)."""
    case = CASES[cid]
    r = fit(case)
    ref_y = [y for y in case["yi"] if y is not None]
    assert r.k == case["result"].get("k_yi", case["result"]["k"])
    for s, y, v in zip(r.studies, ref_y, [v for v in case["vi"] if v is not None]):
        check("Peto yi", s.yi, y, CLOSED, case)
        check("Peto vi", s.vi, v, CLOSED, case)
    if has_zero_cell(case):
        ref = case["result"]
        check("estimate", r.te, ref["estimate"], CLOSED, case)
        check("se", r.se, ref["se"], CLOSED, case)
        check("Q", r.q, ref["q"], CLOSED, case)
        assert r.q_df == ref["q_df"]


@pytest.mark.parametrize("cid", sorted(c for c in CASES if "subgroups" in CASES[c]))
def test_subgroups_and_test_for_differences(cid):
    """Each subgroup pooled as metafor does; test = rma(est_g, se_g^2, method='FE')."""
    case = CASES[cid]
    sg = case["subgroups"]
    es = effect_sizes(case)
    values = [v for v, y in zip(sg["values"], case["yi"]) if y is not None]
    res = pooling.subgroups(es, values, case["method"])
    ref_groups = {g["name"]: g for g in sg["groups"]}
    assert [n for n, _ in res.groups] == list(dict.fromkeys(values))
    rel = tol(case)
    for name, r in res.groups:
        g = ref_groups[name]
        check(f"{name} estimate", r.te, g["estimate"], rel, case)
        check(f"{name} se", r.se, g["se"], rel, case)
        if r.tau2 is not None:
            check(f"{name} tau2", r.tau2, g["tau2"], rel, case)
        check(f"{name} Q", r.q, g["q"], CLOSED, case)
    t = sg["test"]
    check("Q between", res.test.q, t["q"], rel, case)
    assert res.test.df == t["df"]
    check("p between", res.test.p, t["p"], rel, case)
    check("I2 between", res.test.i2, t["i2"], CLOSED, case)


def test_egger_matches_regtest():
    """Egger's test = metafor regtest(model='lm', predictor='sei') on dat.bcg log RR."""
    case = CASES["bcg_RR_DL"]
    ref = case["egger"]
    e = pooling.egger(effect_sizes(case))
    check("intercept", e.intercept, ref["intercept"], CLOSED, case)
    check("intercept se", e.se, ref["intercept_se"], CLOSED, case)
    check("t", e.t, ref["stat"], CLOSED, case)
    check("p", e.p, ref["p"], CLOSED, case)
    check("slope", e.slope, ref["slope"], CLOSED, case)
    assert e.df == ref["df"]


def test_leave_one_out_matches_leave1out():
    """leave1out(rma(yi, vi, method='DL')) on dat.bcg log RR."""
    case = CASES["bcg_RR_DL"]
    ref = case["leave1out"]
    out = pooling.leave_one_out(effect_sizes(case), "DL")
    assert [s for s, _ in out] == ref["study"]
    for i, (_, r) in enumerate(out):
        check("estimate", r.te, ref["estimate"][i], CLOSED, case)
        check("se", r.se, ref["se"][i], CLOSED, case)
        check("tau2", r.tau2, ref["tau2"][i], CLOSED, case)
        check("Q", r.q, ref["q"][i], CLOSED, case)


def test_smd_revman_formula():
    """RevMan 5 Hedges' g (approximate correction) = yi_revman/vi_revman computed in R."""
    case = CASES["normand_SMD_DL"]
    es = effect_sizes(case, smd_correction="revman")
    for a, b in zip(es.yi, case["yi_revman"]):
        check("g (RevMan)", a, b, CLOSED, case)
    for a, b in zip(es.vi, case["vi_revman"]):
        check("v (RevMan)", a, b, CLOSED, case)


def test_zero_cell_mh_uses_revman_correction():
    """RevMan adds 0.5 to every cell of a table with a zero cell, for MH pooling too
    (Cochrane Handbook 5.1, 9.4.4; Ades et al., Res Synth Methods 2025); metafor's
    rma.mh pools raw counts.  So on tables with zero cells the MH estimate is
    checked against the MH formula applied by hand to the corrected table."""
    case = CASES["zero_RR_MH"]
    inp = case["input"]
    r = fit(case)
    # corrected tables of the estimable studies (Z2 has no events: not estimable)
    a = np.array([0.5, 5, 12]); b = np.array([20.5, 35, 48])
    c = np.array([3.5, 9, 15]); d = np.array([18.5, 32, 43])
    n1, n2 = a + b, c + d
    n = n1 + n2
    rr = np.sum(a * n2 / n) / np.sum(c * n1 / n)
    assert r.te == pytest.approx(np.log(rr), rel=CLOSED)
    assert r.k == 3 and r.excluded[0][0] == inp["study"][1]
    # Q is the same as metafor's (escalc with add=1/2, to='only0' about the MH estimate)
    w = 1 / np.array([v for v in case["vi"] if v is not None])
    y = np.array([v for v in case["yi"] if v is not None])
    assert r.q == pytest.approx(np.sum(w * (y - r.te) ** 2), rel=CLOSED)


def _reml_fixed_point(tau2, yi, vi):
    """The REML estimating equation (Viechtbauer 2005, J Educ Behav Stat 30:261-293; metafor's
    iteration): tau2 = sum w²((y - mu)² - v) / sum w² + 1 / sum w, w = 1 / (v + tau2)."""
    w = 1 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return np.sum(w ** 2 * ((yi - mu) ** 2 - vi)) / np.sum(w ** 2) + 1 / np.sum(w)


def _pm_q(tau2, yi, vi):
    """Paule-Mandel: the generalised Q statistic, which equals k - 1 at the estimate."""
    w = 1 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return np.sum(w * (yi - mu) ** 2)


def test_reference_was_made_with_tight_control():
    """The stored metafor estimates of tau2 solve their own estimating equations to far
    better than the tolerances the engine is held to (checked here with numpy alone on the
    stored yi and vi, not with the engine): a loosely converged reference would fail."""
    assert REF["metafor_version"] == "3.8-1"
    checked = {"REML": 0, "PM": 0}
    for case in REF["cases"]:
        if case["method"] not in checked:
            continue
        yi, vi = np.asarray(case["yi"], float), np.asarray(case["vi"], float)
        t2 = case["result"]["tau2"]
        if case["method"] == "REML":
            target = _reml_fixed_point(t2, yi, vi)
            # at the boundary tau2 = 0 the equation's value is <= 0 (truncated); else a fixed point
            assert (t2 == 0 and target <= 1e-12) or abs(target - t2) <= 1e-9 * max(1.0, t2), case["call"]
        else:
            assert (t2 == 0 and _pm_q(0.0, yi, vi) <= len(yi) - 1) or \
                abs(_pm_q(t2, yi, vi) - (len(yi) - 1)) <= 1e-9 * len(yi), case["call"]
        checked[case["method"]] += 1
    # 15 REML cases (11 z, 2 knha, 2 adhoc) and 7 PM cases in metafor_reference.json
    assert checked == {"REML": 15, "PM": 7}
    assert ABS_FLOOR < 1e-8
