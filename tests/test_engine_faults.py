"""Engine edge cases that crashed books built from other reviews (issue #10, section 4),
and the O-E and variance data type.

Every expected number names its source: metafor 3.8.1 output (the R call is in the
test's docstring), or a hand computation written out here.
"""
import math
import subprocess
import sys

import numpy as np
import pytest

from reviewbook.engine import effects, pooling
from reviewbook.errors import ArgumentError
from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from reviewbook.package import importer
from test_import_rows import row, write_rows
from tolerances import CLOSED, ITERATIVE, close


# ----------------------------------------------------------- HKSJ with Q = 0

def test_hksj_with_identical_estimates_follows_metafor():
    """1/22 vs 1/22 and 1/34 vs 1/34: both log RR are 0, Q = 0.

    metafor 3.8.1: ``rma(measure="RR", ai=c(1,1), n1i=c(22,34), ci=c(1,1), n2i=c(22,34),
    method="DL", test="knha")`` gives b = 0, se = 0, ci.lb = ci.ub = 0, zval = NaN,
    pval = NaN, tau2 = 0, QE = 0, dfs = 1.  Before the fix: ZeroDivisionError."""
    es = effects.dichotomous([1, 1], [22, 34], [1, 1], [22, 34], measure="RR")
    r = pooling.meta(es, "DL", hksj="plain")
    assert (r.te, r.se, r.ci_low_te, r.ci_high_te, r.tau2, r.q) == (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert r.estimate == 1.0 and r.ci_low == 1.0 and r.ci_high == 1.0
    assert math.isnan(r.stat) and math.isnan(r.p) and r.stat_df == 1
    assert any("Q = 0" in n for n in r.notes)


def test_hksj_with_identical_nonzero_estimates_follows_metafor():
    """metafor 3.8.1: ``rma(yi=c(0.3,0.3,0.3), vi=c(0.1,0.2,0.05), method="REML",
    test="knha")`` gives b = 0.29999999999999977, se = 0, CI [b, b], zval = Inf, pval = 0."""
    es = effects.generic([0.3, 0.3, 0.3], [0.1, 0.2, 0.05])
    r = pooling.meta(es, "REML", hksj="plain")
    assert close(r.te, 0.29999999999999977, ITERATIVE)
    assert r.se == 0.0 and r.ci_low_te == r.te == r.ci_high_te
    assert r.stat == math.inf and r.p == 0.0


def test_adhoc_hksj_with_q_zero_keeps_the_wald_variance():
    """The ad hoc variant floors the factor at 1. metafor 3.8.1: ``rma(yi=c(0.3,0.3,0.3),
    vi=c(0.1,0.2,0.05), method="REML", test="adhoc")``: se = 0.16903085094570325,
    ci.lb = -0.42728105223340501, ci.ub = 1.02728105223340460, zval = 1.77482393492988422,
    pval = 0.21791913113994843."""
    r = pooling.meta(effects.generic([0.3, 0.3, 0.3], [0.1, 0.2, 0.05]), "REML", hksj="adhoc")
    for ours, theirs in ((r.se, 0.16903085094570325), (r.ci_low_te, -0.42728105223340501),
                         (r.ci_high_te, 1.02728105223340460), (r.stat, 1.77482393492988422),
                         (r.p, 0.21791913113994843)):
        assert close(ours, theirs, ITERATIVE), (ours, theirs)


def test_sensitivity_table_with_q_zero_builds(tmp_path):
    """A package analysis of two identical 2x2 tables: every sensitivity variant
    (including REML + HKSJ) is computed, none raises."""
    stored = dict(Mean=1.0, CI_start=0.066, CI_end=15.148)
    rows = [row(1, 1, "A 2001", Experimental_cases=1, Experimental_N=22, Control_cases=1, Control_N=22,
                Weight=50.0, **stored),
            row(1, 1, "B 2002", Experimental_cases=1, Experimental_N=34, Control_cases=1, Control_N=34,
                Weight=50.0, **stored)]
    res = importer.build(write_rows(tmp_path / "q0.csv", rows))
    importer.write_import(res, tmp_path / "pkg")
    pkg = dp.read(tmp_path / "pkg")
    for kw in (dict(model="fixed"), dict(model="random", estimator="DL"),
               dict(model="random", estimator="REML", ci_method="HKSJ")):
        r = an.run(pkg, "1.1", **kw).result
        assert r.estimate == pytest.approx(1.0, abs=1e-12) and r.k == 2


# ---------------------------------------- subgroups with a non-estimable study

def _subgrouped_rows():
    """Subgroup 'Week 4' holds a double-zero study (not estimable for RR); study C is in
    both subgroups (two time points: legal)."""
    def r(sub, study, e1, n1, e2, n2):
        return row(1, 1, study, Subgroup=sub, Experimental_cases=e1, Experimental_N=n1,
                   Control_cases=e2, Control_N=n2)
    return [r("Week 4", "A 2001", 0, 10, 0, 12), r("Week 4", "B 2002", 3, 20, 6, 21),
            r("Week 4", "C 2003", 2, 15, 5, 15), r("Week 12", "C 2003", 4, 15, 7, 15),
            r("Week 12", "D 2004", 5, 30, 9, 28)]


def test_subgrouped_analysis_with_a_non_estimable_study(tmp_path):
    """Before the fix: ``groups has 5 labels but there are 4 studies``. The labels are
    filtered with the studies; the non-estimable one is reported, the rest are pooled."""
    res = importer.build(write_rows(tmp_path / "sub.csv", _subgrouped_rows()))
    importer.write_import(res, tmp_path / "pkg")
    ar = an.run(dp.read(tmp_path / "pkg"), "1.1", model="fixed")
    assert ar.result.k == 4
    assert [label for label, _ in ar.excluded] == ["A 2001"]
    assert ar.study_subgroup == ("Week 4", "Week 4", "Week 12", "Week 12")
    names = [name for name, _ in ar.subgroups.groups]
    assert names == ["Week 4", "Week 12"]
    assert [r.k for _, r in ar.subgroups.groups] == [2, 2]


def test_pool_cli_subgroup_with_a_non_estimable_study(tmp_path):
    """The same through ``pool --subgroup``: exit 0, the double-zero study listed as excluded."""
    p = tmp_path / "sub.csv"
    p.write_text("study,events1,n1,events2,n2,time\nA,0,10,0,12,w4\nB,3,20,6,21,w4\n"
                 "C,2,15,5,15,w4\nC12,4,15,7,15,w12\nD,5,30,9,28,w12\n")
    res = subprocess.run([sys.executable, "-m", "reviewbook", "pool", str(p), "--measure", "RR",
                          "--method", "MH", "--subgroup", "time"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "no events in either arm" in res.stdout


def test_engine_subgroups_still_refuses_misaligned_labels():
    """The engine's own contract: one label per estimable study."""
    es = effects.generic([0.1, 0.2], [0.01, 0.02])
    with pytest.raises(ArgumentError, match="groups has 3 labels but there are 2 studies"):
        pooling.subgroups(es, ["a", "b", "b"], "FE")


# ------------------------------------------------------------- O-E and variance

def _peto_oe(a, n1, c, n2):
    """Peto's O-E and V of one 2x2 table (Yusuf et al. 1985), written out by hand."""
    n, m1 = n1 + n2, a + c
    return a - n1 * m1 / n, n1 * n2 * m1 * (n - m1) / (n * n * (n - 1))


def test_o_e_is_log_hr_over_v():
    """yi = (O-E)/V and vi = 1/V (RevMan); V = 0 is not estimable."""
    es = effects.oe([6.0, -3.0, 1.0], [4.0, 2.5, 0.0], study=["a", "b", "c"])
    assert es.measure == "HR" and es.k == 2
    assert np.allclose(es.yi, [1.5, -1.2], rtol=CLOSED) and np.allclose(es.vi, [0.25, 0.4], rtol=CLOSED)
    assert es.excluded == (("c", "not estimable: variance V = 0"),)


def test_o_e_of_peto_statistics_pools_to_the_peto_odds_ratio():
    """O-E and V taken from 2x2 tables pool (fixed effect, inverse variance) to exactly the
    Peto odds ratio of the same tables, which is checked against metafor's
    ``rma.peto`` in tests/test_engine_reference.py."""
    tables = [(12, 50, 20, 48), (3, 30, 8, 31), (25, 100, 24, 98)]
    oe, v = zip(*(_peto_oe(*t) for t in tables))
    via_oe = pooling.meta(effects.oe(oe, v), "FE")
    a, n1, c, n2 = map(list, zip(*tables))
    peto = pooling.meta(effects.dichotomous(a, n1, c, n2, measure="OR"), "PETO")
    assert close(via_oe.te, peto.te, CLOSED) and close(via_oe.se, peto.se, CLOSED)
    assert close(via_oe.q, peto.q, CLOSED)
