"""The embedded data set: the package rebuilds identically from the extraction,
every value has its provenance, values and transformations agree, and the
README states the coverage the data really have.

Expected numbers here are recomputed from the extraction by formulas written
out in this file (independently of build_package), e.g. SD = SEM × √n
(Cochrane Handbook 6.5.2.3)."""
import csv
import filecmp
import math
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbook.package import datapackage as dp
from reviewbook.package.extraction import coverage_by_comparison
from reviewbook.book import coverage_of

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
PKG = DATA / "CD015373"


def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def test_package_rebuild_is_identical(tmp_path):
    out = tmp_path / "CD015373"
    res = subprocess.run([sys.executable, "-m", "reviewbook", "build-package", str(DATA / "extraction"), str(out)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    cmp = filecmp.dircmp(PKG, out)
    def check(c):
        assert not c.left_only and not c.right_only and not c.diff_files, (c.left, c.left_only, c.right_only, c.diff_files)
        for sub in c.subdirs.values():
            check(sub)
    check(cmp)
    for p in PKG.rglob("*"):
        if p.is_file():
            assert p.read_bytes() == (out / p.relative_to(PKG)).read_bytes(), p


def test_every_numeric_value_has_exactly_one_provenance_row():
    pkg = dp.read(PKG)
    prov = rows(PKG / "provenance.csv")
    index = {}
    for r in prov:
        key = (r["analysis"], r["study"], r["column"])
        index[key] = index.get(key, 0) + 1
        assert r["citation"].strip() and r["location"].strip(), r
        assert r["verbatim"].strip() and r["transformation"].strip(), r
    assert all(v == 1 for v in index.values()), [k for k, v in index.items() if v > 1]
    n_values = 0
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        cols = (["Experimental mean", "Experimental SD", "Experimental N", "Control mean", "Control SD", "Control N"]
                if s.data_type == "Continuous" else ["Experimental cases", "Experimental N", "Control cases", "Control N"])
        for _, r in pkg.rows_of(aid).iterrows():
            for c in cols:
                assert index.get((aid, r["Study"], c)) == 1, (aid, r["Study"], c)
                n_values += 1
    assert n_values == len(prov)


def _recompute(column, ext_rows):
    """The package value from the extraction rows, by the rules of data/README.md."""
    r = ext_rows[0]
    if column.endswith(" N"):
        return sum(float(x["n"]) for x in ext_rows)
    if column.endswith(" cases"):
        return sum(float(x["events"]) for x in ext_rows)
    factor = 100.0 / float(r["scale_max"])
    mean, disp, n = float(r["reported_mean"]), float(r["reported_dispersion"]), float(r["n"])
    if column.endswith(" mean"):
        return mean * factor
    kind = r["dispersion_type"]
    if kind == "unlabelled":  # bound: SD <= range/2; below 10% of the range as an SD -> SEM
        kind = "SD" if disp * math.sqrt(n) > float(r["scale_max"]) / 2 else "SEM" if disp < 0.1 * float(r["scale_max"]) else None
    return {"SD": disp, "SEM": disp * math.sqrt(n)}[kind] * factor


def test_values_and_transformations_agree():
    ext = rows(DATA / "extraction" / "outcomes.csv")
    for p in rows(PKG / "provenance.csv"):
        lines = [int(x) for x in p["extraction_lines"].split()]
        src = [ext[i - 2] for i in lines]
        assert all(s["study"] == p["study"] for s in src)
        assert float(p["value"]) == pytest.approx(_recompute(p["column"], src), rel=1e-12), p
        if p["column"].endswith(" SD") and "read as SEM" in p["transformation"]:
            assert "SD = SEM × √n" in p["transformation"]


def test_sigtermans_by_hand():
    """Sigtermans 2009 abstract: week 1 NRS ketamine 2.68 ± 0.51, placebo 5.45 ± 0.48, n = 30 each;
    ± read as SEM (data/README.md rule): SD = 0.51 × √30 × 10 = 27.934 on 0-100."""
    pkg = dp.read(PKG)
    r = pkg.rows_of("1.1").iloc[0]
    assert r["Study"] == "Sigtermans 2009"
    assert r["Experimental mean"] == pytest.approx(26.8) and r["Control mean"] == pytest.approx(54.5)
    assert r["Experimental SD"] == pytest.approx(0.51 * math.sqrt(30) * 10)
    assert r["Control SD"] == pytest.approx(0.48 * math.sqrt(30) * 10)


def test_every_reported_number_is_in_the_verbatim_text():
    for i, r in enumerate(rows(DATA / "extraction" / "outcomes.csv"), start=2):
        text = r["verbatim"].replace(",", ".")
        assert r["citation"].strip() and r["location"].strip() and r["verbatim"].strip(), i
        for c in ("reported_mean", "reported_dispersion", "events"):
            x = r[c].strip()
            if x:
                assert x in text or x.rstrip("0").rstrip(".") in text, (i, c, x)


def test_study_flow_and_published_estimates_have_sources():
    for r in rows(DATA / "extraction" / "study_flow.csv"):
        if r["count"].strip():
            assert r["source"].strip(), r
        else:
            assert "not public" in r["note"]
    for r in rows(DATA / "published-estimates.csv"):
        assert r["source"].strip() and r["location"].strip(), r


def test_risk_of_bias_is_not_invented():
    rob = rows(next(PKG.rglob("*-risk-of-bias.csv")))
    assert rob and all(r["Domain (judgement): Overall risk of bias (RoB 2)"] == "Not assessed" for r in rob)


def test_readme_states_the_real_coverage():
    readme = (DATA / "README.md").read_text()
    for label, described, pooled, parts, n_out in coverage_by_comparison(DATA / "extraction", PKG):
        assert f"| {label} | {described} | {pooled} | {parts} | {n_out} |" in readme, label
    c = coverage_of(dp.read(PKG))
    flat = " ".join(readme.split())
    assert f"{c.studies_with_data} studies with {c.participants_pooled} participants are in our meta-analyses" in flat
    assert f"{100 * c.studies_with_data / c.review_studies:.1f}% and {100 * c.participants_pooled / c.review_participants:.1f}%" in flat


def test_audit_of_our_package_says_there_is_nothing_stored():
    res = subprocess.run([sys.executable, "-m", "reviewbook", "audit", str(PKG)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "no stored estimate" in res.stdout and "mismatch" not in res.stdout
