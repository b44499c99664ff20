"""``reviewbook import-rows``: a table of data rows on its own becomes a complete
package whose settings reproduce RevMan's stored per-study results (issue: the
review's own data as the embedded default).  Expected values are RevMan's stored
per-study results in the rows (the audit checks every one), the review's published
pooled estimates (data/published-estimates.csv) and hand computations stated here."""
import csv
import io
import json
import math
from statistics import NormalDist
from pathlib import Path

import pytest

from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from reviewbook.package import importer
from reviewbook.package.rows import make_names, read_rows_table

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets" / "pairwise70"
REVIEWS = {"CD015373_pub2": (176, 95, 169), "CD001703_pub4": (119, 27, 116), "CD007809_pub3": (95, 55, 90)}
needs_shared = pytest.mark.needs("shared")
SETTINGS_COLUMNS = ["analysis", "data_type", "measure", "method", "model", "estimator", "weights_rule", "status",
                    "candidates", "max_abs_diff_estimate", "max_abs_diff_weight"]
HEADER = ["Analysis group", "Analysis number", "Analysis name", "Subgroup", "Applicability", "Study", "Study year",
          "GIV Mean", "GIV SE", "Experimental mean", "Experimental SD", "Experimental cases", "Experimental N",
          "Control mean", "Control SD", "Control cases", "Control N", "O-E", "Variance", "Weight", "Mean", "CI start",
          "CI end", "Footnotes"]


def read_csv(path, encoding="utf-8-sig"):
    with open(path, newline="", encoding=encoding) as f:
        return list(csv.DictReader(f))


from conftest import cli  # noqa: E402


def write_rows(path: Path, rows, header=HEADER, bom=True):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([r.get(h, "") for h in header])
    path.write_text(("\ufeff" if bom else "") + buf.getvalue(), encoding="utf-8")
    return path


def row(g, n, study, **kw):
    base = {"Analysis group": g, "Analysis number": n, "Analysis name": f"Outcome {g}.{n}", "Study": study,
            "Study year": "2000", "Applicability": "SUBGROUP_AND_OVERALL"}
    base.update({("O-E" if k == "O_E" else k.replace("_", " ")): v for k, v in kw.items()})
    return base


def audit(path):
    res = cli("audit", path, "--json")
    assert res.returncode in (0, 1), res.stderr
    return json.loads(res.stdout)


# ------------------------------------------------------------------ the shared reviews

@needs_shared
@pytest.mark.parametrize("review", sorted(REVIEWS))
def test_import_and_audit_every_stored_study_result(review, tmp_path):
    """Each shared review imports to a package whose inferred settings reproduce every
    stored per-study estimate, CI and weight of RevMan (counts: rows, analyses, and
    rows with a stored result: the rows minus the studies RevMan left not estimable)."""
    n_rows, n_analyses, n_checked = REVIEWS[review]
    out = tmp_path / review
    res = cli("import-rows", SHARED / f"{review}_data.csv", out)
    assert res.returncode == 0, res.stderr
    assert f"read {n_rows} data rows of {n_analyses} analyses" in res.stdout
    pkg = dp.read(out)
    assert not pkg.warnings and len(pkg.analysis_ids()) == n_analyses
    summary = audit(out)["summary"]
    assert summary["studies_checked"] == n_checked
    assert summary["studies_matched"] == n_checked
    settings = read_csv(out / "settings-inferred.csv")
    assert list(settings[0]) == SETTINGS_COLUMNS and len(settings) == n_analyses
    for s in settings:
        assert s["status"] in ("inferred", "tie-broken", "not identifiable")
        assert int(s["candidates"]) >= (1 if s["status"] == "inferred" else 0)
        if s["status"] == "inferred":
            assert int(s["candidates"]) == 1
        if s["status"] == "tie-broken":
            assert int(s["candidates"]) >= 2


@needs_shared
def test_inferred_settings_of_the_ketamine_review(tmp_path):
    """Analyses 1.1 (3 studies, tau² > 0) and 1.9 are identified uniquely as IV random DL;
    single-study analyses are tie-broken; the SMD of 7.19 is RevMan 5's formula
    (Gustin 2010: d = -12/7.5166, g = d (1 - 3/71) = -1.529 as stored)."""
    res = importer.build(SHARED / "CD015373_pub2_data.csv", pkg_id="CD015373")
    inf = res.inference
    assert inf["1.1"].status == "inferred" and inf["1.1"].candidate.label == "MD, IV random DL, weights overall"
    assert inf["1.9"].status == "inferred" and inf["1.9"].candidate.variant.measure == "RR"
    assert inf["1.3"].status == "tie-broken" and inf["1.3"].n_candidates > 1
    assert inf["7.19"].candidate.variant.measure == "SMD" and inf["7.19"].candidate.variant.smd == "revman"
    assert inf["1.19"].status == "not identifiable"  # no study is estimable: nothing stored identifies it


@needs_shared
def test_published_estimates_are_reproduced(tmp_path):
    """The published MD -15.79 [-32.09, 0.51] (1.1), MD -5.32 [-15.51, 4.87] (1.4) and
    RR 3.26 [1.05, 10.09] (1.9), read from data/published-estimates.csv, are reproduced
    by the imported package and by data/CD015373 to the published decimals."""
    pub = {r["analysis"]: r for r in read_csv(ROOT / "data/published-estimates.csv")}
    out = tmp_path / "CD015373"
    assert cli("import-rows", SHARED / "CD015373_pub2_data.csv", out, "--id", "CD015373").returncode == 0
    for path in (out, ROOT / "data/CD015373"):
        pkg = dp.read(path)
        for aid in ("1.1", "1.4", "1.9"):
            r = an.run(pkg, aid).result
            p = pub[aid]
            for ours, key in ((r.estimate, "estimate"), (r.ci_low, "ci_low"), (r.ci_high, "ci_high")):
                assert round(ours, 2) == float(p[key]), (aid, key, ours, p[key])


@needs_shared
def test_subtotals_only_and_same_study_in_several_subgroups(tmp_path):
    """CD001703.pub4 1.1: weights within subgroups (TCA 58.381605 + 41.618395 = 100);
    CD007809.pub3 2.1: one study at three time points in three subgroups (legal), each 100%."""
    a = importer.build(SHARED / "CD001703_pub4_data.csv").package
    assert a.analysis("1.1").totals is False
    w = an.run(a, "1.1").weights()
    assert abs(w["Jenkins 1976"] - 58.381605) < 5e-7
    b = importer.build(SHARED / "CD007809_pub3_data.csv").package
    res = an.run(b, "2.1")
    assert res.labels == ("Munteanu 2021 (1)", "Munteanu 2021 (2)", "Munteanu 2021 (3)")
    assert all(abs(v - 100) < 1e-9 for v in res.weights().values())


@needs_shared
def test_arm_level_rows_with_a_filled_giv_se_are_arm_level(tmp_path):
    """RevMan Web fills GIV SE and Variance for arm-level rows in some reviews
    (CD001703.pub4 1.1, Konno 2016: GIV SE 2.19340208 where the rounded arm data give
    sqrt(24.27²/230 + 22.55²/226) = 2.1934046): the data type is still continuous (MD)."""
    res = importer.build(SHARED / "CD001703_pub4_data.csv")
    c = res.inference["1.1"].candidate
    assert (c.variant.data_type, c.variant.measure) == ("Continuous", "MD")
    # the filled GIV SE is the MD's standard error from the row's own arm data (to the
    # rounding of the SDs), read from the imported package, not typed here
    rows = res.package.rows_of("1.1")
    konno = rows[rows["Study"] == "Konno 2016"]
    assert len(konno) == 1
    r = konno.iloc[0]
    se_from_arms = math.sqrt(r["Experimental SD"] ** 2 / r["Experimental N"]
                             + r["Control SD"] ** 2 / r["Control N"])
    assert r["GIV SE"] > 0 and abs(se_from_arms - r["GIV SE"]) < 1e-5


# ------------------------------------------------------------------ reading a rows table

@needs_shared
def test_both_header_spellings_read_alike(tmp_path):
    """R's make.names spelling (Experimental.SD, CI.start, O.E) and RevMan's read alike."""
    src = SHARED / "CD007809_pub3_data.csv"
    text = src.read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    back = {make_names(c): c for c in HEADER}
    table[0] = [back.get(h, h.replace("..judgement.", " (judgement)").replace(".", " ")
                         if h.endswith("..judgement.") else h) for h in table[0]]
    assert "CI start" in table[0] and "O-E" in table[0]
    revman = tmp_path / "revman.csv"
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(table)
    revman.write_text(buf.getvalue(), encoding="utf-8")  # no BOM this time
    a, b = read_rows_table(src), read_rows_table(revman)
    assert a.rows.equals(b.rows) and a.domains == b.domains and a.rob.equals(b.rob)
    assert "Bias arising from the randomization process" in a.domains


def test_bom_quoted_newlines_and_extra_columns(tmp_path):
    rows = [row(1, 1, "A 2001", Experimental_mean=10, Experimental_SD=5, Experimental_N=20, Control_mean=12,
                Control_SD=5, Control_N=20, Mean=-2, CI_start=-5.099032, CI_end=1.099032, Weight=100)]
    rows[0]["Analysis name"] = "Pain\nshort term"
    path = write_rows(tmp_path / "r.csv", rows, header=HEADER + ["review_url", "Subgroup.number"])
    t = read_rows_table(path)
    assert t.rows["Analysis name"][0] == "Pain\nshort term"
    res = importer.build(path)
    assert res.inference["1.1"].candidate.variant.measure == "MD"  # -2 ± 1.959964 × sqrt(2.5) = [-5.099032, 1.099032]


def test_o_e_and_variance_rows(tmp_path):
    """O-E and variance: log HR = (O-E)/V, variance 1/V (RevMan).  Stored results written
    here by that formula (exp(6/4) = 4.481689 etc.); the fixed-effect pool is
    sum(O-E)/sum(V) (Peto), checked by hand."""
    def stored(oe, v):
        y, se = oe / v, 1 / math.sqrt(v)
        return dict(Mean=round(math.exp(y), 6), CI_start=round(math.exp(y - 1.959964 * se), 6),
                    CI_end=round(math.exp(y + 1.959964 * se), 6))
    data = [(6.0, 4.0), (-3.0, 2.5), (2.0, 6.0)]  # heterogeneous: random effects would weight differently
    total_v = sum(v for _, v in data)
    rows = [row(1, 1, f"S{i} 200{i}", O_E=oe, Variance=v, Experimental_N=50, Control_N=50, Weight=round(100 * v / total_v, 6),
                **stored(oe, v)) for i, (oe, v) in enumerate(data)]
    path = write_rows(tmp_path / "oe.csv", rows)
    res = importer.build(path)
    c = res.inference["1.1"].candidate
    assert (c.variant.data_type, c.variant.measure, c.model) == ("O-E and variance", "HR", "fixed")
    assert res.inference["1.1"].status == "inferred"
    out = tmp_path / "pkg"
    importer.write_import(res, out)
    r = an.run(dp.read(out), "1.1").result
    assert r.te == pytest.approx(sum(o for o, _ in data) / total_v, rel=1e-12)
    assert r.se == pytest.approx(1 / math.sqrt(total_v), rel=1e-12)
    assert audit(out)["summary"]["studies_matched"] == 3


def test_risk_difference_with_zero_cells_as_revman_stores_it(tmp_path):
    """RD with zero cells, a trap of real data: RevMan takes the estimate from the counts
    as they are, its SE from the table with 0.5 added to every cell, and M-H weights
    n1 n2 / N from the uncorrected arms (within each subgroup here).  The rows are those
    of Cochrane review CD000478.pub5, analysis 7.2 (withdrawal due to adverse events),
    with RevMan's stored per-study results, as the Pairwise70 collection holds them
    (github.com/mahmood789/Pairwise70,
    analysis/output/orcc_vs_rd_mismatch_rows/CD000478_pub5_data_mismatch_rows.csv)."""
    data = [  # subgroup, study, e1, n1, e2, n2, Weight, Mean, CI start, CI end (RevMan's)
        ("AZA versus placebo", "Hawthorne 1992", 0, 38, 0, 39, 47.535042, 0, -0.049316, 0.049316),
        ("AZA versus placebo", "Sood 2000", 3, 25, 0, 25, 30.872117, 0.12, -0.021416, 0.261416),
        ("AZA versus placebo", "Sood 2002", 0, 17, 0, 18, 21.592841, 0, -0.104614, 0.104614),
        ("AZA versus cyclosporin", "Paraskeva 2000", 1, 8, 1, 8, 100, 0, -0.324099, 0.324099),
        ("6-MP versus GMA", "Sakuraba 2012", 1, 11, 0, 10, 100, 0.090909, -0.133068, 0.314886),
        ("AZA vs L-AZA+ALLO", "Kiszka-Kanowitz 2022", 16, 42, 14, 47, 100, 0.08308, -0.113551, 0.279711),
    ]
    rows = [row(7, 2, study, Subgroup=sg, Experimental_cases=e1, Experimental_N=n1, Control_cases=e2,
                Control_N=n2, Weight=w, Mean=m, CI_start=lo, CI_end=hi)
            for sg, study, e1, n1, e2, n2, w, m, lo, hi in data]
    res = importer.build(write_rows(tmp_path / "rd.csv", rows))
    inf = res.inference["7.2"]
    assert (inf.candidate.variant.measure, inf.candidate.method, inf.status) == ("RD", "MH", "inferred")
    out = tmp_path / "pkg"
    importer.write_import(res, out)
    studies = audit(out)["analyses"][0]["studies"]
    assert (studies["checked"], studies["matched"], studies["mismatches"]) == (6, 6, [])


def test_generic_inverse_variance_log_scale(tmp_path):
    """GIV rows carrying arm Ns but no arm means: log-scale estimates (exp(0.4) = 1.491825)."""
    rows = [row(1, 1, "G 2010", GIV_Mean=0.4, GIV_SE=0.2, Experimental_N=40, Control_N=40, Weight=100,
                Mean=1.491825, CI_start=1.007971, CI_end=2.207943)]
    res = importer.build(write_rows(tmp_path / "g.csv", rows))
    c = res.inference["1.1"].candidate
    assert (c.variant.data_type, c.variant.measure) == ("Generic inverse variance", "GENR")


def test_groups_name_the_comparisons(tmp_path):
    rows = [row(1, 1, "A 2001", Experimental_cases=3, Experimental_N=10, Control_cases=1, Control_N=10, Weight=100,
                Mean=3, CI_start=0.366021, CI_end=24.588503)]
    path = write_rows(tmp_path / "r.csv", rows)
    groups = tmp_path / "groups.csv"
    groups.write_text("Analysis group,Analysis group name,Experimental group label,Control group label,source\n"
                      "1,Drug versus placebo,Drug,Placebo,trial report\n", encoding="utf-8")
    out = tmp_path / "pkg"
    assert cli("import-rows", path, out, "--id", "X1", "--groups", groups).returncode == 0
    s = dp.read(out).analysis("1.1")
    assert (s.group_name, s.experimental_label, s.control_label) == ("Drug versus placebo", "Drug", "Placebo")
    bad = tmp_path / "bad.csv"
    bad.write_text("Analysis group,Analysis group name\n7,Other\n", encoding="utf-8")
    res = cli("import-rows", path, tmp_path / "pkg2", "--groups", bad)
    assert res.returncode == 2 and "bad.csv, line 2, column 'Analysis group': found group 7" in res.stderr


# ------------------------------------------------------------------ bad input

def _md_row(study):
    return row(1, 1, study, Experimental_mean=10, Experimental_SD=5, Experimental_N=20, Control_mean=12,
               Control_SD=5, Control_N=20, Mean=-2, CI_start=-5.099032, CI_end=1.099032, Weight=100)


def test_the_reviews_doi_is_kept_in_review_csv(tmp_path):
    """Pairwise70 adds review_doi and review_url to every row (its README): import-rows
    keeps them in review.csv, and a book built from the package cites the review by it."""
    from reviewbook.book.review import cited_by_doi, generic
    from reviewbook.package import datapackage as dp

    doi = "10.1002/14651858.CD000001.pub2"
    r = _md_row("A 2001")
    r.update(review_doi=doi, review_url=f"https://www.cochranelibrary.com/cdsr/doi/{doi}/full")
    path = write_rows(tmp_path / "r.csv", [r], header=HEADER + ["review_url", "review_doi"])
    assert cli("import-rows", path, tmp_path / "out").returncode == 0
    got = read_csv(tmp_path / "out/review.csv")
    assert [(g["field"], g["value"]) for g in got] == [("review_doi", doi), ("review_url", r["review_url"])]
    pkg = dp.read(tmp_path / "out")
    assert cited_by_doi(pkg) == f"doi:[10\\.1002\\/14651858\\.CD000001\\.pub2](<https://doi.org/{doi}>)"
    assert generic(pkg).citation == cited_by_doi(pkg)


@pytest.mark.parametrize("values, message", [
    (["10.1002/x.pub2", "10.1002/y.pub1"],
     "r.csv, line 3, column 'review_doi': found '10.1002/y.pub1'; expected one review per file: line 2 gives "
     "'10.1002/x.pub2'"),
    (["javascript:alert(1)", ""],
     "r.csv, line 2, column 'review_doi': found 'javascript:alert(1)'; expected a DOI such as "
     "10.1002/14651858.CD015373.pub2"),
])
def test_a_second_or_malformed_doi_is_refused(tmp_path, values, message):
    rows = []
    for i, v in enumerate(values):
        rows.append({**_md_row(f"S{i} 2001"), "review_doi": v})
    path = write_rows(tmp_path / "r.csv", rows, header=HEADER + ["review_doi"])
    res = cli("import-rows", path, tmp_path / "out")
    assert res.returncode == 2
    assert message in res.stderr
    assert not (tmp_path / "out").exists()


def test_text_in_a_number_exits_2_with_location(tmp_path):
    rows = [row(1, 1, "A 2001", Experimental_cases="three", Experimental_N=10, Control_cases=1, Control_N=10)]
    res = cli("import-rows", write_rows(tmp_path / "r.csv", rows), tmp_path / "out")
    assert res.returncode == 2
    assert "r.csv, line 2, column 'Experimental cases': found 'three'; expected a number" in res.stderr
    assert not (tmp_path / "out").exists()


def test_analysis_without_numbers_is_not_estimable_not_refused(tmp_path):
    """An analysis whose rows carry no number in any data field (RevMan shows it with
    no data; CD012891.pub2 4.3 and 4.6 of the Pairwise70 collection are such) is
    imported, every study not estimable with the reason, its settings 'not
    identifiable'; the review's other analyses are unaffected.  Stored result of 1.2
    written here by hand: RR (3/10)/(1/10) = 3, CI exp(ln 3 ± z sqrt(1/3 - 1/10 + 1 - 1/10)),
    z the normal 97.5% quantile."""
    se, z = math.sqrt(1 / 3 - 1 / 10 + 1 - 1 / 10), NormalDist().inv_cdf(0.975)
    rows = [row(1, 1, "A 2001"),
            row(1, 2, "B 2002", Experimental_cases=3, Experimental_N=10, Control_cases=1, Control_N=10, Weight=100,
                Mean=3, CI_start=round(3 * math.exp(-z * se), 6), CI_end=round(3 * math.exp(z * se), 6))]
    out = tmp_path / "out"
    res = cli("import-rows", write_rows(tmp_path / "r.csv", rows), out)
    assert res.returncode == 0, res.stderr
    settings = {r["analysis"]: r for r in read_csv(out / "settings-inferred.csv")}
    assert settings["1.1"]["status"] == "not identifiable"
    a = {r["id"]: r for r in audit(out)["analyses"]}
    assert a["1.1"]["status"] == "not estimable"
    assert a["1.1"]["not_estimable"] == [{"study": "A 2001", "reason": "not estimable: no numbers in any data field"}]
    assert a["1.2"]["studies"]["matched"] == 1


def test_a_blank_is_never_read_as_0(tmp_path):
    """A blank SD in a table of rows: in rows that carry no stored result at all (our
    own data) it is refused with its line and column; it is never written as 0 and
    pooled (before, the blank was written 0.0 and the study pooled with the other
    arm's variance only)."""
    rows = [row(1, 1, "A 2001", Experimental_mean=10, Experimental_SD="", Experimental_N=20, Control_mean=12,
                Control_SD=5, Control_N=20),
            row(1, 1, "B 2002", Experimental_mean=11, Experimental_SD=4, Experimental_N=30, Control_mean=12,
                Control_SD=5, Control_N=30)]
    res = cli("import-rows", write_rows(tmp_path / "r.csv", rows), tmp_path / "out")
    assert res.returncode == 2
    assert "r.csv, line 2, column 'Experimental SD': found an empty cell; expected a number >= 0" in res.stderr
    assert not (tmp_path / "out").exists()


def test_a_blank_in_a_row_revman_left_without_result_is_not_estimable(tmp_path):
    """The same blank SD in a review's rows where RevMan stored results for the other
    rows and none for this one: the row is not estimable ('a mean or SD is missing'),
    written blank (not 0), and the other study's stored MD -1 [-3.291286, 1.291286]
    (-1 ± 1.959964 sqrt(16/30 + 25/30)) and weight 100 are reproduced."""
    rows = [row(1, 1, "A 2001", Experimental_mean=10, Experimental_SD="", Experimental_N=20, Control_mean=12,
                Control_SD=5, Control_N=20),
            row(1, 1, "B 2002", Experimental_mean=11, Experimental_SD=4, Experimental_N=30, Control_mean=12,
                Control_SD=5, Control_N=30, Mean=-1, CI_start=-3.291286, CI_end=1.291286, Weight=100)]
    out = tmp_path / "out"
    res = cli("import-rows", write_rows(tmp_path / "r.csv", rows), out)
    assert res.returncode == 0, res.stderr
    written = read_csv(next(out.rglob("*-data-rows.csv")))
    assert written[0]["Experimental SD"] == "" and written[0]["GIV SE"] == "0.0"
    a = audit(out)["analyses"][0]
    assert a["not_estimable"] == [{"study": "A 2001", "reason": "not estimable: a mean or SD is missing"}]
    assert (a["studies"]["checked"], a["studies"]["matched"]) == (1, 1)


def test_missing_column_and_events_above_n(tmp_path):
    path = write_rows(tmp_path / "r.csv", [row(1, 1, "A 2001")], header=[h for h in HEADER if h != "Study"])
    res = cli("import-rows", path, tmp_path / "out")
    assert res.returncode == 2 and "column 'Study': found no such column" in res.stderr
    rows = [row(1, 1, "A 2001", Experimental_cases=12, Experimental_N=10, Control_cases=1, Control_N=10)]
    res = cli("import-rows", write_rows(tmp_path / "e.csv", rows), tmp_path / "out")
    assert res.returncode == 2 and "column 'Experimental cases': found 12 events; expected at most Experimental N = 10" in res.stderr


def test_import_into_a_folder_with_another_package_is_refused(tmp_path):
    rows = [row(1, 1, "A 2001", Experimental_cases=3, Experimental_N=10, Control_cases=1, Control_N=10)]
    path = write_rows(tmp_path / "r.csv", rows)
    out = tmp_path / "out"
    assert cli("import-rows", path, out, "--id", "ONE").returncode == 0
    res = cli("import-rows", path, out, "--id", "ONE")  # re-import of the same id: only with --force
    assert res.returncode == 2 and "'ONE-analysis-data' already there" in res.stderr
    assert cli("import-rows", path, out, "--id", "ONE", "--force").returncode == 0  # replaced
    res = cli("import-rows", path, out, "--id", "TWO", "--force")
    assert res.returncode == 2 and "another package inside (ONE-analysis-data)" in res.stderr
