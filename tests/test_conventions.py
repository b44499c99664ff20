"""One convention per quantity (issue #21, item 4) and the prediction interval (item 5).

Expected numbers: tests/reference/hksj_pi_reference.json, written by
tests/reference/make_hksj_pi.R (R, metafor 3.8-1: ``rma(test="z"|"knha"|"adhoc")``,
``predict()``, and the test for subgroup differences as ``rma(b, sei=se, method="FE")``
on the subgroup estimates), on the embedded package's analyses 1.15, 7.3 and 7.7 and
metafor's dat.bcg.  Rules: Knapp and Hartung 2003 (Stat Med 22:2693, the ad hoc factor
max(1, q)); Jackson et al. 2017 (Stat Med 36:3923: the plain HKSJ interval can be narrower
than the Wald one); Deeks and Higgins, Statistical algorithms in Review Manager, and the
Cochrane Handbook 10.11.3.1 (the test for subgroup differences on the subgroups'
inverse-variance SEs); Cochrane Handbook 10.10.4.3 (prediction interval, t with k - 2 df).
"""
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from reviewbook.book import review as rv
from reviewbook.book.evidence import judged_all
from reviewbook.book.sections import DL_LABELS, Section
from reviewbook.engine import pooling, sequential as sq
from reviewbook.engine.report import fmt
from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from tolerances import CLOSED, ITERATIVE

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests/reference/hksj_pi_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
PKG = dp.read(ROOT / "data/CD015373")
REVIEW = rv.load(ROOT / "book/review.yml")


def _reml(aid, ci):
    return an.run(PKG, aid, model="random", estimator="REML", ci_method=ci).result


@pytest.mark.parametrize("aid", ["1.15", "7.7"])
def test_hksj_plain_and_ad_hoc_match_metafor(aid):
    """metafor test='z', 'knha' and 'adhoc' (make_hksj_pi.R) on the review's rows."""
    ref = CASES[f"CD015373_{aid}"]
    for ci, test in (("Wald", "z"), ("HKSJ", "knha"), ("HKSJ ad hoc", "adhoc")):
        r = _reml(aid, ci)
        assert r.te == pytest.approx(ref[test]["estimate"], rel=ITERATIVE)
        assert r.se == pytest.approx(ref[test]["se"], rel=ITERATIVE)
        assert r.ci_low_te == pytest.approx(ref[test]["ci_low"], rel=ITERATIVE)
        assert r.ci_high_te == pytest.approx(ref[test]["ci_high"], rel=ITERATIVE)
    assert _reml(aid, "HKSJ").hksj_q == pytest.approx(ref["qh"], rel=ITERATIVE)


def test_plain_hksj_of_nausea_is_narrower_than_wald_and_ad_hoc_is_not():
    """Issue #21: nausea 1.15, HKSJ 2.18 to 6.70 against Wald 1.75 to 8.36 (q = 0.107 < 1);
    the ad hoc form gives 0.68 to 21.30 (metafor test='adhoc', make_hksj_pi.R)."""
    wald, plain, adhoc = (_reml("1.15", ci) for ci in ("Wald", "HKSJ", "HKSJ ad hoc"))
    assert plain.ci_high_te - plain.ci_low_te < wald.ci_high_te - wald.ci_low_te
    assert adhoc.ci_high_te - adhoc.ci_low_te > wald.ci_high_te - wald.ci_low_te
    assert (round(adhoc.ci_low, 2), round(adhoc.ci_high, 2)) == (0.68, 21.30)


def test_the_book_never_shows_hksj_narrower_than_wald():
    """Knapp and Hartung 2003; Jackson et al. 2017: wherever a package asks for HKSJ the book
    shows the ad hoc form, never narrower than the Wald interval with the same tau²; a note
    gives q where it is below 1 (and only there)."""
    j = judged_all(PKG, REVIEW, {"ci_method": "HKSJ", "model": "random"})
    checked = 0
    for aid, it in j.items():
        r = it.pooled
        if r is None or r.k < 2:
            continue
        checked += 1
        assert r.hksj == "adhoc", aid
        wald = an.run(PKG, aid, model="random").result
        assert r.ci_high_te - r.ci_low_te >= wald.ci_high_te - wald.ci_low_te - 1e-12, aid
        assert bool(it.notes) == (r.hksj_q < 1), aid
        if r.hksj_q < 1:
            assert f"q is {fmt(r.hksj_q, 2)}, below 1" in it.notes[0]
    # the analyses of data/CD015373 with two or more estimable rows: 36 of its 95 (the
    # review's forest plots; the other 59 have one study or none estimable)
    assert checked == 36


def test_the_note_says_narrower_only_where_the_plain_interval_is():
    """q < 1 does not make the plain HKSJ interval narrower than the Wald one: it is narrower
    where sqrt(q) t(k-1) < z (Jackson et al. 2017).  yi 0, 0.25, 0.5 with vi 0.1: Q = 1.25,
    tau² = 0, q = 0.625 (by hand), sqrt(0.625) t(2, 0.975) = 3.40 > 1.96; 1.15 (q = 0.107,
    make_hksj_pi.R): 1.41 < 1.96."""
    from reviewbook.book.evidence import hksj_note, plain_hksj_narrower
    from reviewbook.engine import effects

    r = pooling.meta(effects.generic([0.0, 0.25, 0.5], [0.1, 0.1, 0.1]), "DL", hksj="adhoc")
    assert r.hksj_q == pytest.approx(0.625, rel=CLOSED)
    assert not plain_hksj_narrower(r) and "narrower" not in hksj_note(r) and "0.63, below 1" in hksj_note(r)  # 0.625, half away from zero
    n = _reml("1.15", "HKSJ ad hoc")
    assert plain_hksj_narrower(n) and "narrower than the Wald interval" in hksj_note(n)


def _sensitivity_rows(aid):
    key = rv.claim(PKG, REVIEW)[aid]
    sec = Section(PKG, key, review=REVIEW)
    it = next(x for x in sec.items if x.aid == aid)
    table = sec._sensitivity_parts(it)[0]
    return table


def test_sensitivity_table_says_which_hksj_is_shown():
    """1.15: the row 'Random, REML + HKSJ (ad hoc)' shows metafor's test='adhoc' interval
    (0.68 to 21.30) and the note gives q and the plain interval it replaces (2.18 to 6.70,
    metafor test='knha'); 1.15 is an inverse-variance analysis, so its DL row is the
    inverse-variance DerSimonian-Laird."""
    t = _sensitivity_rows("1.15")
    rows = {r[0]: r for r in t.rows}
    assert rows["Random, REML + HKSJ (ad hoc)"][1] == "RR 3.82 (0.68 to 21.30)"
    assert DL_LABELS["DL"] in rows
    notes = " ".join(n for _, n in t.notes)
    assert "0.11, below 1" in notes and "(2.18 to 6.70)" in notes


def test_subgroup_test_uses_inverse_variance_ses_under_hksj():
    """Analysis 7.3 pooled with REML and HKSJ: Q between = 12.36 (P 0.002) on the subgroups'
    inverse-variance SEs (metafor, make_hksj_pi.R), not 27.50 (P 1e-6) on their HKSJ SEs."""
    ref = REF["subgroup"]
    t = an.run(PKG, "7.3", model="random", estimator="REML", ci_method="HKSJ").subgroups.test
    assert t.q == pytest.approx(ref["q"], rel=ITERATIVE)
    assert t.df == ref["df"] and t.p == pytest.approx(ref["p"], rel=1e-6)
    assert round(ref["q"], 2) == 12.36 and round(ref["q_knha"], 2) == 27.50
    wald = an.run(PKG, "7.3", model="random", estimator="REML").subgroups.test
    assert t.q == pytest.approx(wald.q, rel=CLOSED)


@pytest.mark.parametrize("cid,aid", [("CD015373_1.15", "1.15"), ("bcg_RR", None)])
def test_prediction_interval_matches_predict(cid, aid):
    """Cochrane Handbook 10.10.4.3: mu +/- t(k-2) sqrt(tau² + SE²), with mu and SE from
    metafor's predict() (make_hksj_pi.R)."""
    ref = CASES[cid]
    if aid is None:
        from reviewbook.engine import effects

        r = pooling.meta(effects.generic(ref["yi"], ref["vi"], measure="RR"), "REML")
    else:
        r = _reml(aid, "Wald")
    assert r.te == pytest.approx(ref["pi"]["pred"], rel=ITERATIVE)
    assert r.se == pytest.approx(ref["pi"]["se"], rel=ITERATIVE)
    assert math.log(r.pi_low) == pytest.approx(ref["pi"]["pi_low"], rel=ITERATIVE)
    assert math.log(r.pi_high) == pytest.approx(ref["pi"]["pi_high"], rel=ITERATIVE)


def test_section_tables_show_the_prediction_interval_from_three_studies():
    """Every random-effects analysis of three or more rows shows its prediction interval in
    its section's table of outcomes (Handbook 10.10.4.3); one of fewer shows none."""
    from reviewbook.book.sections import effect_cell

    j = judged_all(PKG, REVIEW, {})
    shown = 0
    for aid, it in j.items():
        r = it.pooled
        if r is None:
            continue
        has = "prediction interval" in effect_cell(r)
        assert has == (r.k >= 3 and r.tau2 is not None), aid
        shown += has
    assert shown >= 10  # CD015373: every random-effects analysis of three or more rows


def test_verdict_reads_the_boundaries_the_figure_draws():
    """first_looks keeps the boundaries computed over all looks (those seen and those to
    come); computed over the looks seen alone, the last look seen would be treated as the
    final one and get another futility bound (issue #21: 7.2, 3.2, 5.2, 10.2)."""
    # the information fractions of analysis 3.2's two studies (sections._tsa_parts on
    # data/CD015373: 0.101 and 0.175 of the required information size), then ten looks to 1
    seen_t = np.array([0.101, 0.175])
    looks = np.concatenate([seen_t, np.linspace(seen_t[-1], 1.0, 11)[1:]])
    full = sq.futility_boundaries(looks, beta=0.2)
    seen = sq.first_looks(full, 2)
    assert np.array_equal(seen.information, seen_t) and np.array_equal(seen.z, full.z[:2])
    assert np.array_equal(seen.futility, full.futility[:2], equal_nan=True)
    # the former verdict's boundaries: a futility bound at the second look that the drawn
    # design does not have (no futility stop is possible there: nan)
    alone = sq.futility_boundaries(seen_t, beta=0.2)
    assert np.isfinite(alone.futility[-1]) and np.isnan(full.futility[1])


def test_no_engine_code_in_the_cumulative_caption():
    """'MH-DL' is an engine code: captions name the method as RevMan does ('M-H, Random')."""
    src = (ROOT / "src/reviewbook/book/sections.py").read_text()
    assert re.search(r"\{ar\.engine_method\} as in the analysis", src) is None
