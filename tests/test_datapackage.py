"""Reading, validating, writing and auditing Cochrane data packages.

Expected numbers: RevMan's own stored results in the fixtures
(tests/fixtures/README.md); e.g. Fleiss1993 analysis 1.1 stored OR 0.896866
[0.840514, 0.956995], Chi² 9.946056, I² 39.67458 (overall-estimates-and-settings.csv).
"""
import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from reviewbook.package import datapackage as dp
from reviewbook.errors import InputError

FIX = Path(__file__).parent / "fixtures"
ZIP = FIX / "Fleiss1993.zip"
CSV5 = FIX / "Fleiss1993_CR.csv"
PID = "921923100913455418"


from conftest import cli  # noqa: E402


@pytest.fixture
def folder(tmp_path):
    """The fixture unpacked to a plain package folder (analysis-data + study-data)."""
    outer = tmp_path / "outer"
    dp.safe_extract(ZIP, outer)
    inner = next(outer.rglob("*-data.zip"))
    pkg = tmp_path / "pkg"
    dp.safe_extract(inner, pkg)
    return pkg


def edit_csv(folder, suffix, fn):
    """Apply ``fn(header, rows)`` to the package CSV ending in ``suffix``."""
    path = next(folder.rglob(f"*-{suffix}"))
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    header, body = fn(header, body)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header] + body)
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")
    return path


def set_cell(folder, suffix, line, column, value):
    def fn(header, body):
        body[line - 2][header.index(column)] = value
        return header, body
    edit_csv(folder, suffix, fn)


# ------------------------------------------------------------------ reading

def test_read_nested_export_zip():
    pkg = dp.read(ZIP)
    assert pkg.id == PID
    assert pkg.analysis_ids() == ["1.1", "1.2"]
    assert len(pkg.rows) == 12 and len(pkg.studies) == 12 and len(pkg.risk_of_bias) == 12
    assert len(pkg.references["included"]) == 12
    a = pkg.analysis("1.1")
    assert (a.data_type, a.method, a.measure_code, a.model) == ("Dichotomous", "MH", "OR", "fixed")
    assert a.stored.estimate == 0.896866 and a.stored.ci_low == 0.840514
    assert pkg.analysis("1.2").stored.is_blank


def test_both_exports_read_to_the_same_analyses():
    """Same ids, names, data types, methods, studies and arm data.  The one
    difference is real and in the fixtures: the RevMan 5 CSV declares 1.2 as MD
    with a stored result, the RevMan Web package as SMD with none."""
    web, old = dp.read(ZIP), dp.read(CSV5)
    assert web.analysis_ids() == old.analysis_ids()
    for aid in web.analysis_ids():
        a, b = web.analysis(aid), old.analysis(aid)
        assert (a.name, a.data_type, a.method, a.model) == (b.name, b.data_type, b.method, b.model)
        ra, rb = web.rows_of(aid), old.rows_of(aid)
        key = ["Study", "Experimental cases", "Experimental N", "Control cases", "Control N",
               "Experimental mean", "Experimental SD", "Control mean", "Control SD"]
        ta = sorted(map(tuple, ra[key].astype(str).values.tolist()))
        tb = sorted(map(tuple, rb[key].astype(str).values.tolist()))
        assert ta == tb
    assert web.analysis("1.1").measure_code == old.analysis("1.1").measure_code == "OR"
    assert (web.analysis("1.2").measure_code, old.analysis("1.2").measure_code) == ("SMD", "MD")


def test_read_folder_and_datapackage_layouts(folder, tmp_path):
    assert dp.read(folder) == dp.read(ZIP)
    # the Library's "<ID>-dataPackage" folder holding the two folders directly
    lib = tmp_path / f"{PID}-dataPackage"
    shutil.copytree(folder, lib)
    assert dp.read(lib) == dp.read(ZIP)
    # and zipped
    z = tmp_path / f"{PID}-dataPackage.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for p in lib.rglob("*"):
            if p.is_file():
                zf.write(p, str(p.relative_to(tmp_path)))
    assert dp.read(z) == dp.read(ZIP)


def test_newer_header_generation(folder):
    def add(header, body):
        extra = ["Heterogeneity estimator", "CI method", "Prediction interval", "CI/PI level",
                 "Graph label (left)", "Graph label (right)", "Show risk of bias"]
        vals = ["REML", "HKSJ", "true", "95%", "Favours aspirin", "Favours control", "false"]
        return header + extra, [r + vals for r in body]
    edit_csv(folder, "overall-estimates-and-settings.csv", add)
    a = dp.read(folder).analysis("1.1")
    assert (a.estimator, a.ci_method, a.prediction_interval, a.level) == ("REML", "HKSJ", True, 0.95)
    assert a.label_left == "Favours aspirin"


def test_round_trip(tmp_path):
    pkg = dp.read(ZIP)
    assert dp.read(dp.write(pkg, tmp_path / "out")) == pkg
    assert dp.read(dp.write_zip(pkg, tmp_path / "out.zip")) == pkg
    # A RevMan 5 analysis CSV is written in the RevMan Web layout: every table it carries comes
    # back equal, its (absent) subgroup estimates stay absent, and only the recorded source
    # layout changes; a second round trip is then a fixed point.
    old = dp.read(CSV5)
    back = dp.read(dp.write(old, tmp_path / "old"))
    for field in ("analyses", "rows", "studies", "risk_of_bias"):
        assert getattr(back, field).equals(getattr(old, field)), field
    assert (back.id, back.references, back.extra) == (old.id, old.references, old.extra)
    assert len(old.subgroup_estimates) == len(back.subgroup_estimates) == 0
    assert (old.source_format, back.source_format) == ("revman5-csv", "revman-web")
    assert dp.read(dp.write(back, tmp_path / "again")) == back


def test_write_zip_is_deterministic(tmp_path):
    pkg = dp.read(ZIP)
    a = dp.write_zip(pkg, tmp_path / "a.zip").read_bytes()
    b = dp.write_zip(pkg, tmp_path / "b.zip").read_bytes()
    assert a == b


# ------------------------------------------------------------------ validation

ROWS = "data-rows.csv"
OVERALL = "overall-estimates-and-settings.csv"


@pytest.mark.parametrize("edit,expected", [
    (lambda f: set_cell(f, ROWS, 2, "Experimental N", "abc"),
     f"{PID}-data-rows.csv, line 2, column 'Experimental N': found 'abc'; expected a number"),
    (lambda f: set_cell(f, ROWS, 2, "Experimental N", "0"),
     f"{PID}-data-rows.csv, line 2, column 'Experimental N': found '0'; expected a number > 0"),
    (lambda f: set_cell(f, ROWS, 3, "Control cases", "900"),
     f"{PID}-data-rows.csv, line 3, column 'Control cases': found 900 events; expected at most Control N = 771"),
    (lambda f: set_cell(f, ROWS, 10, "Experimental SD", "-1.71"),
     f"{PID}-data-rows.csv, line 10, column 'Experimental SD': found '-1.71'; expected a number >= 0"),
    (lambda f: set_cell(f, OVERALL, 2, "Statistical method", "XYZ"),
     f"{PID}-overall-estimates-and-settings.csv, line 2, column 'Statistical method': found 'XYZ'; expected one of MH, IV, Peto"),
    (lambda f: set_cell(f, OVERALL, 2, "Effect measure", "Odds"),
     f"{PID}-overall-estimates-and-settings.csv, line 2, column 'Effect measure': found 'Odds'; expected one of"),
    (lambda f: set_cell(f, ROWS, 2, "Analysis number", "7"),
     f"{PID}-data-rows.csv, line 2, column 'Analysis number': found analysis 1.7; "
     "expected an analysis declared in overall-estimates-and-settings.csv"),
    (lambda f: edit_csv(f, "subgroup-estimates.csv", lambda h, b: (h, b + [["3", "1", "Old", "1"] + ["0"] * 15 + ["x"]])),
     f"{PID}-subgroup-estimates.csv, line 2, column 'Analysis number': found analysis 3.1; "
     "expected an analysis declared in overall-estimates-and-settings.csv"),
    (lambda f: edit_csv(f, ROWS, lambda h, b: ([c for c in h if c != "Control N"],
                                                [[v for c, v in zip(h, r) if c != "Control N"] for r in b])),
     f"{PID}-data-rows.csv, line 1, column 'Control N': found no such column; expected a column 'Control N'"),
    (lambda f: next(f.rglob(f"*-{ROWS}")).unlink(),
     "Fleiss: found no '<ID>-data-rows.csv' inside"),
    (lambda f: next(f.rglob(f"*-{OVERALL}")).unlink(),
     f"{PID}-{OVERALL}: found a missing file; expected {PID}-analysis-data/{PID}-{OVERALL}"),
])
def test_validation_errors_exit_2_with_location(folder, tmp_path, edit, expected):
    target = tmp_path / "Fleiss"
    shutil.copytree(folder, target)
    edit(target)
    before = sorted((p.relative_to(target), p.read_bytes()) for p in target.rglob("*") if p.is_file())
    res = cli("audit", target)
    assert res.returncode == 2, res.stdout + res.stderr
    assert expected in res.stderr, res.stderr
    after = sorted((p.relative_to(target), p.read_bytes()) for p in target.rglob("*") if p.is_file())
    assert before == after  # invalid input changes nothing


def test_every_problem_is_reported_at_once(folder):
    set_cell(folder, ROWS, 2, "Experimental N", "abc")
    set_cell(folder, ROWS, 4, "Control cases", "-3")
    set_cell(folder, OVERALL, 2, "Analysis model", "Bayesian")
    with pytest.raises(InputError) as exc:
        dp.read(folder)
    text = str(exc.value)
    assert "line 2, column 'Experimental N'" in text and "line 4, column 'Control cases'" in text
    assert "column 'Analysis model': found 'Bayesian'" in text
    assert len(exc.value.problems) == 3


def test_warnings_for_suspicious_but_legal_values(folder):
    """An SD of 0 in a row RevMan stored no result for (analysis 1.2 of the fixture,
    all stored results 0) is legal and not estimable, as RevMan leaves such a study
    (rule read off RevMan's stored results, tests/test_audit_rules.py): no warning,
    the audit names the study and the reason.  An analysis without rows is a warning."""
    set_cell(folder, ROWS, 10, "Experimental SD", "0")

    def add_empty_analysis(h, b):
        row = list(b[0])
        row[h.index("Analysis number")] = "3"
        row[h.index("Analysis name")] = "An analysis without rows"
        row[h.index("ID")] = "analysis:x"
        return h, b + [row]
    edit_csv(folder, OVERALL, add_empty_analysis)
    res = cli("audit", folder)
    assert res.returncode == 0, res.stderr
    assert "column 'Experimental SD'" not in res.stderr
    assert "study Florell: not estimable: SD is 0 in an arm" in res.stdout
    assert "analysis 1.3 with no data rows" in res.stderr
    assert "not computable" in res.stdout and "no data rows" in res.stdout


def test_zip_with_parent_path_is_refused(tmp_path):
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("ok/file.txt", "fine")
        zf.writestr("../escaped.txt", "bad")
    res = cli("audit", evil)
    assert res.returncode == 2
    assert "evil.zip: found the member path '../escaped.txt'" in res.stderr
    assert not (tmp_path.parent / "escaped.txt").exists()
    absolute = tmp_path / "abs.zip"
    with zipfile.ZipFile(absolute, "w") as zf:
        zf.writestr("/etc/x.txt", "bad")
    assert cli("audit", absolute).returncode == 2


def test_corrupt_and_truncated_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    res = cli("audit", bad)
    assert res.returncode == 2 and "bad.zip: found a file that is not a readable zip" in res.stderr
    trunc = tmp_path / "trunc.zip"
    trunc.write_bytes(ZIP.read_bytes()[: ZIP.stat().st_size // 2])
    res = cli("audit", trunc)
    assert res.returncode == 2 and "trunc.zip" in res.stderr


# ------------------------------------------------------------------ audit

def test_audit_fleiss_matches_revman():
    res = cli("audit", ZIP)
    assert res.returncode == 0, res.stderr
    assert "1.1" in res.stdout and "match" in res.stdout and "no stored estimate" in res.stdout
    out = json.loads(cli("audit", ZIP, "--json").stdout)
    a11, a12 = out["analyses"]
    assert a11["status"] == "match" and a11["method"] == "MH" and a11["k"] == 7
    compared = {c["quantity"] for c in a11["comparisons"]}
    assert {"estimate", "ci_low", "ci_high", "chi2", "i2", "z"} <= compared
    # every stored per-study estimate, CI and weight (RevMan's rounding: 6 decimals)
    assert a11["studies"] == {"checked": 7, "matched": 7, "mismatches": []}
    assert a12["status"] == "no stored estimate"  # RevMan stored zeros: reported, not counted
    assert a12["studies"] == {"checked": 0, "matched": 0, "mismatches": []}  # zeros: nothing stored
    assert out["summary"] == {"match": 1, "no stored estimate": 1, "studies_checked": 7, "studies_matched": 7}
    assert "7/7 studies match" in res.stdout


def test_audit_revman5_csv_matches_both():
    out = json.loads(cli("audit", CSV5, "--json").stdout)
    assert [a["status"] for a in out["analyses"]] == ["match", "match"]


def test_audit_detects_a_mismatch(folder):
    set_cell(folder, OVERALL, 2, "Mean", "0.91")
    res = cli("audit", folder)
    assert res.returncode == 1
    assert "mismatch" in res.stdout and "estimate: stored 0.91" in res.stdout


def test_audit_tolerance_option(folder):
    set_cell(folder, OVERALL, 2, "Mean", "0.8975")
    assert cli("audit", folder).returncode == 1
    assert cli("audit", folder, "--tolerance", "0.001").returncode == 0
    assert cli("audit", folder, "--tolerance", "-1").returncode == 2


def test_audit_reports_a_changed_study_result(folder):
    """A stored per-study weight that no longer matches is named, with both values."""
    set_cell(folder, ROWS, 2, "Weight", "11.5")
    out = json.loads(cli("audit", folder, "--json").stdout)
    a11 = out["analyses"][0]
    assert a11["status"] == "mismatch"
    assert a11["studies"]["checked"] == 7 and a11["studies"]["matched"] == 6
    m = a11["studies"]["mismatches"][0]
    assert (m["study"], m["quantity"], m["stored"]) == ("AMIS", "weight", 11.5)
    assert abs(m["recomputed"] - 10.153491) < 5e-7


def test_same_study_twice_is_legal_but_an_identical_row_is_flagged(folder):
    """Real reviews enter one study twice in an analysis (separate participant groups):
    legal, keyed by row.  A row identical to another in every field is a warning."""
    set_cell(folder, ROWS, 3, "Study", "AMIS")
    pkg = dp.read(folder)
    assert not pkg.warnings
    from reviewbook.package import analysis as an

    assert an.run(pkg, "1.1").labels[:2] == ("AMIS (1)", "AMIS (2)")
    edit_csv(folder, ROWS, lambda h, b: (h, b + [list(b[0])]))
    warnings = [str(w) for w in dp.read(folder).warnings]
    assert any("line 14, column 'Study': found 'AMIS' again in analysis 1.1, identical to line 2" in w
               for w in warnings), warnings
