"""Living updates (issue #18): add a trial with ``add-rows``, see what changed
(``changes.json`` and the 'What changed' page), whether a conclusion did, the
cumulative meta-analysis and the book's version on the landing page.

Sources of expected values:

* cumulative meta-analysis: metafor 3.8-1 ``cumul()``, stored with the R call of
  each case in ``tests/reference/cumul_reference.json`` (``make_cumul.R``);
* data rows and files: the embedded package ``data/CD015373`` as committed
  (read here), and made-up rows written in each test (their values are stated
  where they are written);
* the content hash: the shell command the landing page gives, run here.
"""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bookutil import copy_built, dates_now, run_book
from conftest import cli
from reviewbook.book import changes as ch
from reviewbook.engine import cumulative as cu
from reviewbook.engine import effects
from reviewbook.errors import ArgumentError
from reviewbook.package import analysis as an
from reviewbook.package import datapackage as dp
from tolerances import CLOSED, ITERATIVE, close
from bookutil import leaves

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ROOT / "data" / "CD015373"
REF = json.loads((ROOT / "tests" / "reference" / "cumul_reference.json").read_text())
CASES = {c["id"]: c for c in REF["cases"]}
#: A made-up trial (values invented for the tests, R spelling of the headers): 150 + 150
#: participants, means 40 and 60 (SD 20) on 0-100 pain, in analysis 1.4 (IV ketamine vs
#: placebo, pain intensity, short term).
MADE_UP = ("Analysis.group,Analysis.number,Study,Study.year,Experimental.mean,Experimental.SD,Experimental.N,"
           "Control.mean,Control.SD,Control.N\n1,4,Madeup 2026,2026,40,20,150,60,20,150\n")


def run_cli(*args, cwd=ROOT):
    """The CLI with only this checkout's sources on the path and a minimal PATH."""
    return cli(*args, cwd=cwd, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def package(tmp_path):
    dest = tmp_path / "CD015373"
    shutil.copytree(EMBEDDED, dest)
    return dest


# ------------------------------------------------------------------ cumulative meta-analysis

def _es(case):
    inp = case["input"]
    if "analysis" in inp:  # the review's analysis, from the embedded package
        pkg = dp.read(EMBEDDED)
        return an.effect_sizes(pkg.analysis(inp["analysis"]), pkg.rows_of(inp["analysis"]))
    return effects.dichotomous(inp["events1"], inp["n1"], inp["events2"], inp["n2"], measure=case["measure"],
                               study=inp["study"])


@pytest.mark.parametrize("cid", sorted(CASES))
def test_cumulative_matches_metafor_cumul(cid):
    """Every step's estimate, SE, CI, Q and tau² = metafor's cumul() (R call in the case)."""
    case = CASES[cid]
    hksj = "plain" if case["test"] == "knha" else None
    steps = cu.cumulative(_es(case), case["method"], order=case["order"], hksj=hksj)
    ref = case["steps"]
    rel = ITERATIVE if case["method"] == "REML" else CLOSED
    assert len(steps) == len(ref["estimate"])
    for i, s in enumerate(steps):
        got = {"estimate": s.te, "se": s.se, "q": s.q}
        if case["measure"] in ("RR", "OR"):  # metafor's cumul() reports the log scale
            got.update(ci_low=float(np.log(s.ci_low)), ci_high=float(np.log(s.ci_high)))
        else:
            got.update(ci_low=s.ci_low, ci_high=s.ci_high)
        if ref["tau2"]:  # rma.mh has no tau²
            got["tau2"] = s.tau2
        for k, v in got.items():
            assert close(v, ref[k][i], rel), f"{cid} step {i + 1} {k}: {v} vs metafor {ref[k][i]}; R: {case['call']}"
        assert s.k == i + 1
    # the studies were added in the order of the case (by year, ties in input order)
    if "analysis" not in case["input"]:
        assert [s.study for s in steps] == [case["input"]["study"][j] for j in case["order"]]


def test_cumulative_i2_is_revmans_and_equals_metafors_for_dl():
    """For DL fits metafor's I² is Q-based, so it equals RevMan's (Q - df)/Q (cumul_reference.json)."""
    case = CASES["bcg_RR_DL_year"]
    steps = cu.cumulative(_es(case), "DL", order=case["order"])
    for s, ref in zip(steps[1:], case["steps"]["i2_metafor"][1:]):
        assert close(s.i2, ref, 1e-8)
    assert steps[0].i2 is None  # one study: no heterogeneity


def test_cumulative_refuses_an_order_that_is_not_a_permutation():
    es = effects.generic([0.1, 0.2, 0.3], [0.01, 0.02, 0.03])
    with pytest.raises(ArgumentError, match="each of the positions 0 to 2 once"):
        cu.cumulative(es, "DL", order=[0, 0, 1])
    es = effects.generic([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], study=["a", "b", "c"])
    assert [s.study for s in cu.cumulative(es, "DL", order=[2, 0, 1])] == ["c", "a", "b"]


# ------------------------------------------------------------------ add-rows

def test_add_rows_appends_a_new_trial_with_its_provenance_and_version(package, tmp_path):
    rows = tmp_path / "new.csv"
    rows.write_text(MADE_UP)
    before = snapshot(package)
    dates_before = dates_now()
    res = run_cli("add-rows", package, rows, "--source", "doi:10.0000/madeup.2026", "--note", "a made-up trial")
    during = dates_before | dates_now()
    assert res.returncode == 0, res.stderr
    assert "analysis 1.4: Madeup 2026 (line 2)" in res.stdout
    assert f"next: make book DATA={package}" in res.stdout
    after = snapshot(package)
    # every existing file keeps its bytes; the changed ones only grow at the end
    for rel, data in before.items():
        assert after[rel][: len(data)] == data, rel
    changed = {str(r) for r in after if after[r] != before.get(r)}
    assert changed == {"CD015373-analysis-data/CD015373-data-rows.csv", "provenance.csv", "versions.csv",
                       "CD015373-study-data/CD015373-study-information.csv",
                       "CD015373-study-data/CD015373-risk-of-bias.csv"}
    pkg = dp.read(package)
    assert not pkg.warnings
    r14 = pkg.rows_of("1.4")
    new = r14[r14["Study"] == "Madeup 2026"].iloc[0]
    assert (new["Experimental mean"], new["Control SD"], new["Control N"]) == (40.0, 20.0, 150.0)
    assert new["Analysis name"] == pkg.analysis("1.4").name  # taken from the package (the file gave none)
    assert an.run(pkg, "1.4").result.k == an.run(dp.read(EMBEDDED), "1.4").result.k + 1
    prov = pkg.extra["provenance.csv"]
    mine = prov[prov["study"] == "Madeup 2026"]
    assert len(mine) == 6 and set(mine["collection"]) == {"doi:10.0000/madeup.2026"}
    assert set(mine["column"]) == {"Experimental mean", "Experimental SD", "Experimental N", "Control mean",
                                   "Control SD", "Control N"}
    assert set(mine["line"]) == {"2"} and "Experimental.SD" in set(mine["source_column"])
    versions = pkg.extra["versions.csv"]
    assert list(versions.columns) == ["version", "date", "rows_added", "source", "note"]
    last = versions.iloc[-1]
    assert (last["version"], last["rows_added"], last["source"], last["note"]) == (
        "2", "1", "doi:10.0000/madeup.2026", "a made-up trial")
    assert last["date"] in during  # add-rows writes UTC dates (dates_now: UTC and local)
    info = pkg.studies[pkg.studies["Study"] == "Madeup 2026"].iloc[0]
    assert info["Year"] == "2026" and info["Char: Methods"] == "" and info["Char: Participants"] == ""
    rob = pkg.risk_of_bias[pkg.risk_of_bias["Study"] == "Madeup 2026"]
    assert len(rob) == 1 and rob.iloc[0]["Result"] == "Madeup 2026"


def test_characteristics_of_a_new_study_show_as_not_reported(package, tmp_path):
    from reviewbook.book.pages import characteristics

    rows = tmp_path / "new.csv"
    rows.write_text(MADE_UP)
    assert run_cli("add-rows", package, rows, "--source", "x").returncode == 0
    table = next(t for t in leaves(characteristics(str(package))) if hasattr(t, "rows"))
    row = next(r for r in table.rows if r[0] == "Madeup 2026")
    assert row[2:5] == ["not reported"] * 3 and row[5] == "1.4"


def test_add_rows_two_arms_of_a_new_study_and_revman_headers(package, tmp_path):
    """Two rows of one new study in a dichotomous analysis (13.1, tolerability) get the labels
    'Study (1)', 'Study (2)'; RevMan's header spelling; RoB 2 judgements carried by the rows."""
    pkg0 = dp.read(EMBEDDED)
    s = pkg0.analysis("13.1")
    assert s.data_type == "Dichotomous"
    rows = tmp_path / "arms.csv"
    rows.write_text("Analysis group,Analysis number,Study,Study year,Experimental cases,Experimental N,"
                    "Control cases,Control N,Bias arising from the randomization process (judgement)\n"
                    "13,1,Twoarm 2025,2025,3,40,2,20,Low risk\n13,1,Twoarm 2025,2025,4,40,2,20,High risk\n")
    res = run_cli("add-rows", package, rows, "--source", "https://example.org/trial")
    assert res.returncode == 0, res.stderr
    pkg = dp.read(package)
    prov = pkg.extra["provenance.csv"]
    assert set(prov[prov["study"].str.startswith("Twoarm")]["study"]) == {"Twoarm 2025 (1)", "Twoarm 2025 (2)"}
    rob = pkg.risk_of_bias[pkg.risk_of_bias["Study"] == "Twoarm 2025"]
    dom = "Domain (judgement): Bias arising from the randomization process"
    assert list(rob["Result"]) == ["Twoarm 2025 (1)", "Twoarm 2025 (2)"]
    assert list(rob[dom]) == ["Low risk", "High risk"]
    assert (rob["Domain (judgement): Overall bias"] == "Not reported").all()
    assert len(pkg.studies[pkg.studies["Study"] == "Twoarm 2025"]) == 1


def test_add_rows_refuses_invalid_rows_and_leaves_the_package_byte_for_byte(package, tmp_path):
    """Each problem located in ROWS.csv (line, column as the file spells it), all at once, exit 2."""
    rows = tmp_path / "bad.csv"
    rows.write_text(
        "Analysis group,Analysis number,Study,Study year,Experimental mean,Experimental SD,Experimental N,"
        "Control mean,Control SD,Control N\n"
        "1,4,Madeup 2026,2026,40,,150,60,20,150\n"          # no SD: the package validator's check
        "1,99,Other 2025,2025,40,20,150,60,20,150\n"        # an analysis the package lacks
        "1,4,Sigtermans 2009,2009,40,20,15,60,20,15\n"      # a study already in analysis 1.4
        "1,1,New 2024,,40,20,15,60,20,15\n"                 # no year for a new study
        "1,4,Text 2024,2024,forty,20,15,60,20,15\n")        # text in a number
    before = snapshot(package)
    res = run_cli("add-rows", package, rows, "--source", "x")
    assert res.returncode == 2
    assert snapshot(package) == before
    assert "Traceback" not in res.stderr
    assert "bad.csv, line 6, column 'Experimental mean': found 'forty'; expected a number" in res.stderr
    # the table's own problems come first (read_rows_table); then, with a readable table:
    rows.write_text("\n".join(rows.read_text().splitlines()[:-1]) + "\n")
    res = run_cli("add-rows", package, rows, "--source", "x")
    assert res.returncode == 2 and snapshot(package) == before
    err = res.stderr
    assert "bad.csv, line 2, column 'Experimental SD': found an empty cell; expected a number >= 0" in err
    assert "bad.csv, line 3, column 'Analysis number': found analysis 1.99; expected an analysis of package" in err
    assert "bad.csv, line 4, column 'Study': found 'Sigtermans 2009', which already has a row in analysis 1.4" in err
    assert "bad.csv, line 5, column 'Study year': found an empty cell; expected the year of 'New 2024'" in err


@pytest.mark.parametrize("text,expected", [
    ("Analysis.group,Analysis.number,Study,Study.year,Experimental.mean,Experimental.SD,Experimental.N,Control.mean,"
     "Control.SD,Control.N\n1,4,Madeup 2026,2026,40,20,150,60,0,150\n",
     "new.csv, line 2, column 'Control.SD': found '0'; expected a positive SD"),
    ("Analysis.group,Analysis.number,Study,Study.year,Experimental.mean,Experimental.SD,Experimental.N,Control.mean,"
     "Control.SD,Control.N,Subgroup\n1,2,Madeup 2026,2026,40,20,150,60,20,150,\n",
     "new.csv, line 2, column 'Subgroup': found an empty cell; expected one of the subgroups of analysis 1.2"),
    ("Analysis.group,Analysis.number,Analysis.name,Study,Study.year,Experimental.mean,Experimental.SD,Experimental.N,"
     "Control.mean,Control.SD,Control.N\n1,4,Nausea,Madeup 2026,2026,40,20,150,60,20,150\n",
     "new.csv, line 2, column 'Analysis.name': found 'Nausea'; expected the name of analysis 1.4 in the package"),
])
def test_add_rows_checks_each_row_against_the_package(package, tmp_path, text, expected):
    """An SD of 0 (a warning of the validator, refused here: the book would not build), a row
    without the analysis's subgroup (analysis 1.2 is subgrouped), an analysis name that is not
    the analysis's."""
    rows = tmp_path / "new.csv"
    rows.write_text(text)
    before = snapshot(package)
    res = run_cli("add-rows", package, rows, "--source", "x")
    assert res.returncode == 2 and expected in res.stderr, res.stderr
    assert snapshot(package) == before


def test_add_rows_needs_a_source_and_a_package_folder(package, tmp_path):
    rows = tmp_path / "new.csv"
    rows.write_text(MADE_UP)
    before = snapshot(package)
    res = run_cli("add-rows", package, rows)
    assert res.returncode == 2 and "--source" in res.stderr
    res = run_cli("add-rows", package, rows, "--source", "  ")
    assert res.returncode == 2 and "--source: found an empty text; expected a citation, DOI or URL" in res.stderr
    zipped = dp.write_zip(dp.read(package), tmp_path / "p.zip")
    res = run_cli("add-rows", zipped, rows, "--source", "x")
    assert res.returncode == 2 and "p.zip: found a file; expected a package folder" in res.stderr
    assert snapshot(package) == before


def test_add_rows_starts_a_version_history_where_there_is_none(package, tmp_path):
    """A package without versions.csv: version 1 is the package as it was (176 rows, the
    embedded package's count; date not recorded), version 2 the addition."""
    (package / "versions.csv").unlink()
    rows = tmp_path / "new.csv"
    rows.write_text(MADE_UP)
    assert run_cli("add-rows", package, rows, "--source", "x").returncode == 0
    v = dp.read(package).extra["versions.csv"]
    assert list(v["version"]) == ["1", "2"] and list(v["rows_added"]) == [str(len(dp.read(EMBEDDED).rows)), "1"]
    assert v.iloc[0]["date"] == ""


def test_embedded_package_has_its_first_version():
    """data/sources/sources.yml: version 1, 2026-12-01, every data row."""
    pkg = dp.read(EMBEDDED)
    v = pkg.extra["versions.csv"]
    assert len(v) == 1 and v.iloc[0]["version"] == "1" and v.iloc[0]["date"] == "2026-12-01"
    assert v.iloc[0]["rows_added"] == str(len(pkg.rows))


# ------------------------------------------------------------------ the diff

def _entry(est, lo, hi, **kw):
    return {"status": "computed", "measure": kw.pop("measure", "MD"), "estimate": est, "ci_low": lo, "ci_high": hi,
            "name": "Pain", "studies": kw.pop("studies", ["A 2001"]), **kw}


def _results(**analyses):
    return {"package": "P", "results_format": 2, "analyses": {k.replace("_", "."): v for k, v in analyses.items()}}


def test_conclusion_kinds_are_flagged_only_where_both_builds_carry_them():
    mid = {"low": -10, "high": 10, "source": "made up"}
    prev = _results(a_1=_entry(-5, -15, 5, mid=mid, certainty="low", statement="may result in little to no "
                                                                                "difference", direction="lower"),
                    a_2=_entry(-5, -15, 5), a_3=_entry(0.8, 0.6, 1.1, measure="RR", certainty="low"))
    cur = _results(a_1=_entry(-14, -22, -11, mid=mid, certainty="low", statement="may reduce", direction="lower"),
                   a_2=_entry(-8, -16, -1, certainty="moderate"), a_3=_entry(0.7, 0.55, 0.9, measure="RR"))
    d = ch.diff(cur, prev)
    got = {(c["analysis"], c["kind"]): (c["previous"], c["current"]) for c in d["conclusions"]}
    # -15..5 includes 0 and crosses -10; -22..-11 excludes 0 and lies wholly beyond -10
    assert got[("a.1", "null")] == ("includes no effect", "excludes no effect")
    assert got[("a.1", "mid")] == ("crosses the MID of -10.00 (important benefit)",
                                   "lies wholly beyond the MID of -10.00 (important benefit)")
    assert got[("a.1", "statement")] == ("may result in little to no difference", "may reduce")
    assert ("a.1", "certainty") not in got  # unchanged
    # a.2 has no mid and the previous build no certainty: neither kind is evaluated
    assert ("a.2", "null") in got and ("a.2", "mid") not in got and ("a.2", "certainty") not in got
    # a ratio: no effect is 1 (0.6..1.1 includes it, 0.55..0.9 does not)
    assert got[("a.3", "null")] == ("includes no effect", "excludes no effect")
    assert [m["analysis"] for m in d["moved"]] == ["a.1", "a.2", "a.3"]
    assert d["data"]["available"] is False


@pytest.mark.parametrize("lo,hi,expected", [
    (-30, -12, "beyond-low"), (-15, 5, "crosses-low"), (-5, 5, "within"), (-15, 15, "crosses-both"),
    (2, 12, "crosses-high"), (11, 30, "beyond-high")])
def test_mid_position(lo, hi, expected):
    """Thresholds -10 and 10 (e.g. 10 points on 0-100 pain)."""
    assert ch.mid_position(lo, hi, {"low": -10, "high": 10}) == expected
    assert ch.mid_position(lo, hi, None) is None


def test_data_diff_keys_rows_by_analysis_and_row_label():
    """The first study with two rows in one analysis of the embedded package: a value of its second
    row changed, a row of another study removed, a row added."""
    pkg = dp.read(EMBEDDED)
    rows = pkg.rows
    counts = rows.groupby(["Analysis group", "Analysis number", "Study"]).size()
    (g, n, study) = next(k for k, c in counts.items() if c == 2)
    aid = f"{int(g)}.{int(n)}"
    cur = rows.copy()
    idx = cur.index[(cur["Analysis group"] == g) & (cur["Analysis number"] == n) & (cur["Study"] == study)]
    col = "Experimental N"
    old = cur.loc[idx[1], col]
    cur.loc[idx[1], col] = old + 1
    other = cur.index[(cur["Analysis group"] == 1) & (cur["Analysis number"] == 1)][0]
    removed_study = cur.loc[other, "Study"]
    cur = cur.drop(index=other)
    extra = rows.iloc[[0]].copy()
    extra["Study"] = "Added 2030"
    cur = __import__("pandas").concat([cur, extra], ignore_index=True)
    d = ch.data_diff(rows, cur)
    assert (d["rows_added"], d["rows_removed"], d["values_changed"]) == (1, 1, 1)
    changed = [c for c in d["changes"] if c["previous"] is not None and c["current"] is not None]
    assert changed == [{"analysis": aid, "study": f"{study} (2)", "column": col, "previous": float(old),
                        "current": float(old + 1)}]
    assert any(c["study"] == removed_study and c["current"] is None for c in d["changes"])
    assert any(c["study"] == "Added 2030" and c["previous"] is None for c in d["changes"])


def test_an_older_results_file_lists_row_labels_reduced_to_studies():
    prev = {"package": "P", "analyses": {"1.1": _entry(1, 0, 2, studies=["A 2001 (1)", "A 2001 (2)", "B 2002"])}}
    cur = _results(a_1=_entry(1, 0, 2, studies=["A 2001", "B 2002"]))
    cur["analyses"] = {"1.1": cur["analyses"].pop("a.1")}
    d = ch.diff(cur, prev)
    assert d["studies_added"] == [] and d["studies_removed"] == []


def test_what_changed_page_puts_conclusions_first_and_escapes_names():
    prev = _results(a_1=_entry(-5, -15, 5, certainty="low"))
    cur = _results(a_1=_entry(-8, -16, -1, certainty="moderate", studies=["A 2001", "<script>x</script> 2020"]))
    payload = {"changes": ch.diff(cur, prev), "current": cur, "previous": prev,
               "versions": [{"version": "1", "date": "2026-12-01", "rows_added": "3", "source": "s", "note": ""}]}
    page = ch.render_markdown(payload)
    assert page.index("## Conclusions") < page.index("## Data") < page.index("## Estimates") < page.index(
        "## Versions of the data package")
    assert "the CI now excludes no effect \\(before\\: included no effect\\)" in page
    assert "the certainty of the evidence moved from low to moderate" in page
    assert "<script>" not in page and "\\<script\\>" in page
    assert "The data diff is not available" in page


def test_content_hash_is_what_the_shell_command_gives(tmp_path):
    """The landing page's check: unzip the download and run find | sort | sha256sum."""
    if shutil.which("sha256sum") is None:
        pytest.skip("no sha256sum")
    pkg = dp.read(EMBEDDED)
    z = dp.write_zip(pkg, tmp_path / "p.zip")
    out = tmp_path / "unzipped"
    out.mkdir()
    import zipfile

    zipfile.ZipFile(z).extractall(out)
    sh = subprocess.run("find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum",
                        shell=True, cwd=out, capture_output=True, text=True, check=True).stdout.split()[0]
    assert ch.content_hash(pkg) == sh


# ------------------------------------------------------------------ end to end

@pytest.fixture(scope="module")
def updated(default_book, tmp_path_factory):
    """A copy of the default book as built, the made-up trial added with add-rows, and
    built again."""
    repo = copy_built(default_book[0], tmp_path_factory.mktemp("living") / "repo")
    first = default_book[1]
    site = repo / "book/_build/html"
    saved = tmp_path_factory.mktemp("first-site")
    shutil.copy2(site / "results.json", saved / "results.json")
    rows = repo / "new-trial.csv"
    rows.write_text(MADE_UP)
    dates = dates_now()
    env_res = subprocess.run([sys.executable, "-m", "reviewbook", "add-rows", "data/CD015373", rows.name,
                              "--source", "doi:10.0000/madeup.2026", "--note", "a made-up trial"],
                             cwd=repo, capture_output=True, text=True, env={"PYTHONPATH": str(repo / "src"),
                                                                             "PATH": "/usr/bin:/bin"})
    assert env_res.returncode == 0, env_res.stderr
    second = run_book(repo)
    assert second.returncode == 0, second.stdout + second.stderr
    return repo, first, second, saved, dates | dates_now()


def _text(path):
    return " ".join(re.sub(r"<[^>]+>", " ", path.read_text()).split())


@pytest.mark.slow(21)
def test_changes_json_records_the_new_trial(updated):
    repo, _, _, _, _ = updated
    site = repo / "book/_build/html"
    c = json.loads((site / "changes.json").read_text())
    res = json.loads((site / "results.json").read_text())
    assert {"analysis": "1.4", "study": "Madeup 2026"} in c["studies_added"] and c["studies_removed"] == []
    moved = {m["analysis"]: m for m in c["moved"]}
    assert moved["1.4"]["current"]["estimate"] == res["analyses"]["1.4"]["estimate"]
    assert moved["1.4"]["current"]["estimate"] < moved["1.4"]["previous"]["estimate"]  # 40 vs 60: lower pain
    # before, 1.4's CI included 0 (MD -5.32, -15.51 to 4.87, results of the first build);
    # the trial's MD of -20 (SE 2.3) moves it below 0
    kinds = {(x["analysis"], x["kind"]) for x in c["conclusions"]}
    assert ("1.4", "null") in kinds
    assert moved["1.4"]["previous"]["ci_high"] > 0 > moved["1.4"]["current"]["ci_high"]
    data = c["data"]
    assert data["available"] and (data["rows_added"], data["rows_removed"], data["values_changed"]) == (1, 0, 0)
    assert {"analysis": "1.4", "study": "Madeup 2026", "column": "Experimental mean", "previous": None,
            "current": 40.0} in data["changes"]
    assert c["current_version"]["version"] == "2" and c["previous_version"]["version"] == "1"
    assert res["analyses"]["1.4"]["studies"].count("Madeup 2026") == 1
    # PRISMA-LSR (Akl et al. 2024): the new trial changes results (L3) and the version (L4), not methods (L2)
    assert c["prisma_lsr"]["answered"] == ["L3", "L4"] and c["methods_changed"] == []
    # the site's FHIR bundle carries the new version, and analysis 1.4 its new estimate
    bundle = json.loads((site / "evidence.fhir.json").read_text())
    comps = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Composition"]
    assert comps and {x["version"] for x in comps} == {c["current_version"]["version"]}
    ev = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == "evidence-1-4")
    assert ev["statistic"][0]["quantity"]["value"] == res["analyses"]["1.4"]["estimate"]


def test_what_changed_page_and_landing_page_after_the_update(updated):
    repo, _, second, _, dates = updated
    site = repo / "book/_build/html"
    page = _text(site / "what_changed.html")
    assert page.index("Conclusions") < page.index("Data values added")
    assert "Analysis 1.4 (Pain intensity (continuous), short-term follow-up): the CI now excludes no effect" in page
    assert "Madeup 2026 Experimental mean blank 40 added" in page
    assert "2 2026" in page and "doi:10.0000/madeup.2026 a made-up trial" in page  # the version history
    assert "this comparison has changes for L3, L4" in page  # PRISMA-LSR items the update answers
    for item in ("L1 Living mode parameters", "L2 Changes to the methods", "L3 Changes to the results",
                 "L4 Versions"):
        assert item in page
    intro = _text(site / "intro.html")
    c = json.loads((site / "changes.json").read_text())
    assert "package CD015373, version 2" in intro and c["current_version"]["sha256"] in intro
    assert re.search(r"Build date of the data: (\d{4}-\d\d-\d\d)", intro).group(1) in dates
    # the update touched IV ketamine (analysis 1.4) and the study list, not memantine
    assert re.search(r"ketamine_iv\s+executed", second.stdout) and re.search(r"memantine\s+cached", second.stdout)
    ket = (site / "sections/ketamine_iv.html").read_text()
    assert 'alt="Cumulative meta-analysis of analysis 1.4' in ket and "Madeup 2026" in ket


@pytest.mark.slow(10)
def test_previous_results_without_their_data_say_the_diff_is_not_available(updated):
    repo, _, _, saved, _ = updated
    res = run_book(repo, "--previous", saved / "results.json")
    assert res.returncode == 0, res.stderr
    c = json.loads((repo / "book/_build/html/changes.json").read_text())
    assert c["data"]["available"] is False and "not beside its results" in c["data"]["reason"]
    assert {"analysis": "1.4", "study": "Madeup 2026"} in c["studies_added"]
    bad = saved / "broken.json"
    bad.write_text("{not json")
    res = run_book(repo, "--previous", bad)
    assert res.returncode == 2 and "broken.json, line 1: found text that is not JSON" in res.stderr
    assert "expected a results.json of an earlier build" in res.stderr


def test_results_of_another_package_are_not_compared():
    """A build of another package is not an earlier version: nothing is compared, and the
    other package is not named on the page."""
    prev = {"package": "OTHER1", "results_format": 2, "analyses": {"1.1": _entry(1, 0, 2)}}
    cur = _results(a_1=_entry(-8, -16, -1))
    d = ch.diff(cur, prev)
    assert d["first"] and d["other_package"] and d["moved"] == [] and d["data"]["available"] is False
    page = ch.render_markdown({"changes": d, "current": cur, "previous": prev, "versions": []})
    assert "another data package" in page and "OTHER1" not in page


def test_what_changed_writes_moves_to_the_books_two_decimals():
    """Issue #15.6: estimates to 2 decimals, as RevMan writes them and as everywhere else in
    the book; a move smaller than that says so rather than print 0.00."""
    from reviewbook.book.changes import _change, _count, _est

    assert _change(-5.737) == "-5.74" and _change(0.2) == "+0.20"
    assert _change(0.004) == "less than 0.005 in size"
    assert _est({"estimate": -5.3249, "ci_low": -15.51, "ci_high": 4.87}) == "-5.32 (-15.51 to 4.87)"
    assert _count(1, "data row") == "1 data row" and _count(0, "value") == "0 values"
