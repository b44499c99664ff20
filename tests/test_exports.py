"""`reviewbook export` and the site's machine-readable files: the summary of
findings as an EBM-on-FHIR R5 Bundle read back with fhir.resources, the included
studies as RIS (rispy) and BibTeX (pybtex), the summary of findings as CSV, and
PRISMA-LSR in changes.json.

Expected numbers come from ``results.json`` as the book writes it
(:func:`reviewbook.book.runner.collect_results`, the function the runner calls),
never typed in: the bundle must give the same estimate, CI, participants, studies
and certainty for every outcome.  The checks run on ``reviewbook export`` (no
Sphinx), on the embedded package and on a review of the training half of
Pairwise70 (CD000028, read in place from ../shared)."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EMBEDDED = ROOT / "data" / "CD015373"
TRAIN = ROOT.parent / "shared" / "datasets" / "pairwise70" / "train" / "CD000028_pub4_data.csv"
needs_shared = pytest.mark.skipif(not TRAIN.exists(), reason="../shared/datasets/pairwise70 is not present")
PROFILE = "http://hl7.org/fhir/uv/ebm/StructureDefinition/"
#: A made-up trial (as in tests/test_living.py): 150 + 150 participants, means 40 and 60
#: (SD 20), in analysis 1.4 (IV ketamine vs placebo, pain intensity, short term).
MADE_UP = ("Analysis.group,Analysis.number,Study,Study.year,Experimental.mean,Experimental.SD,Experimental.N,"
           "Control.mean,Control.SD,Control.N\n1,4,Madeup 2026,2026,40,20,150,60,20,150\n")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "reviewbook", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"})


def export(package, fmt, out):
    res = run_cli("export", package, "--format", fmt, "-o", out)
    assert res.returncode == 0, res.stderr
    return Path(out).read_text(encoding="utf-8")


def results_of(package):
    from reviewbook.book import review as rv
    from reviewbook.book.paths import load
    from reviewbook.book.runner import collect_results

    pkg = load(str(package))
    return pkg, collect_results(pkg, rv.for_package(pkg))


def references(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "reference":
                yield v
            else:
                yield from references(v)
    elif isinstance(node, list):
        for v in node:
            yield from references(v)


def values(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from values(v)
    elif isinstance(node, list):
        for v in node:
            yield from values(v)
    else:
        yield node


def check_round_trip(text: str, results: dict) -> int:
    """The bundle read back with fhir.resources' R5 models; every outcome's numbers
    equal results.json's; returns the number of outcomes checked."""
    from fhir.resources.bundle import Bundle

    b = Bundle.model_validate_json(text)
    assert b.type == "collection"
    data = json.loads(text)
    assert None not in list(values(data))  # FHIR JSON has no nulls
    urls = {e["fullUrl"] for e in data["entry"]}
    refs = list(references(data))
    assert refs and all(r in urls for r in refs), [r for r in refs if r not in urls][:3]
    by_url = {e.fullUrl: e.resource for e in b.entry}
    checked = 0
    for comp in (e.resource for e in b.entry if e.resource.get_resource_type() == "Composition"):
        assert comp.meta.profile == [PROFILE + "summary-of-findings"]
        sof = next(s for s in comp.section if s.code.coding[0].code == "summary-of-findings")
        for outcome in sof.section:
            effect = next(s for s in outcome.section if s.code.coding[0].code == "result-with-intervention-vs-comparator")
            ev = by_url[effect.entry[0].reference]
            assert PROFILE + "comparative-evidence" in ev.meta.profile
            aid = ev.identifier[0].value
            want = results["analyses"][aid]
            stat = ev.statistic[0]
            if want["status"] != "computed":
                assert stat.quantity is None and not ev.certainty
                checked += 1
                continue
            assert float(stat.quantity.value) == want["estimate"]  # Decimal in fhir.resources
            ci = stat.attributeEstimate[0]
            assert ci.type.coding[0].code == "STATO:0000196"
            assert (float(ci.range.low.value), float(ci.range.high.value)) == (want["ci_low"], want["ci_high"])
            assert stat.sampleSize.numberOfStudies == want["k"]
            assert stat.sampleSize.numberOfParticipants == want["participants"]
            assert ev.certainty[0].rating.text == want["certainty"]
            assert ev.certainty[0].rating.coding[0].code == want["certainty"].replace(" ", "-")
            assert sorted(s.type.coding[0].code for s in ev.certainty[0].subcomponent) == sorted(
                ["RiskOfBias", "Inconsistency", "Indirectness", "Imprecision", "PublicationBias"])
            assert ev.assertion == want["statement"]
            checked += 1
    return checked


def sof_outcomes(pkg):
    from reviewbook.book import review as rv
    from reviewbook.book.evidence import judged_all
    from reviewbook.book.synthesis import main_comparisons

    r = rv.for_package(pkg)
    return [aid for m in main_comparisons(pkg, r, judged_all(pkg, r, {})) for aid in m.outcomes]


def test_fhir_bundle_of_the_default_book_round_trips(tmp_path):
    pkg, results = results_of(EMBEDDED)
    text = export(EMBEDDED, "fhir", tmp_path / "evidence.fhir.json")
    n = check_round_trip(text, results)
    assert n == len(sof_outcomes(pkg)) > 0  # every summary of findings outcome, in the book's order
    data = json.loads(text)
    comps = [e["resource"] for e in data["entry"] if e["resource"]["resourceType"] == "Composition"]
    order = [s["focus"]["display"] for c in comps for s in c["section"][1]["section"]]
    assert [o.rsplit("(", 1)[1].rstrip(")") for o in order] == sof_outcomes(pkg)
    # the review cited by its DOI (review.csv of the package)
    review = next(e["resource"] for e in data["entry"] if e["resource"].get("id") == "citation-review")
    assert review["citedArtifact"]["identifier"][0]["value"] == "10.1002/14651858.CD015373.pub2"
    # one Citation per included study (study-information table), the DOI where the RIS gives one
    studies = [e["resource"] for e in data["entry"] if e["resource"].get("id", "").startswith("citation-study")]
    assert len(studies) == len(set(pkg.studies["Study"]))
    lumanauw = next(s for s in studies if s["identifier"][0]["value"] == "Lumanauw 2019")
    # data/CD015373/CD015373-study-data/CD015373-included.ris: DO 10.1111/acem.13755, N1 Registration NCT02920528
    assert {i["value"] for i in lumanauw["citedArtifact"]["identifier"]} == {"10.1111/acem.13755", "NCT02920528"}


@needs_shared
def test_fhir_bundle_of_a_training_half_review_round_trips(tmp_path):
    pkg, results = results_of(TRAIN)
    text = export(TRAIN, "fhir", tmp_path / "e.json")
    n = check_round_trip(text, results)
    assert n == len(sof_outcomes(pkg)) > 0


def test_profile_checks_can_fail():
    from reviewbook.book import fhir
    from reviewbook.book import review as rv
    from reviewbook.book.paths import load

    pkg = load(str(EMBEDDED))
    data = fhir.bundle(pkg, rv.for_package(pkg))
    assert fhir.check(data) == []
    ev = next(e["resource"] for e in data["entry"] if e["resource"].get("id") == "evidence-1-1")
    ev["variableDefinition"] = ev["variableDefinition"][:2]
    del ev["synthesisType"]
    data["entry"].pop(0)  # the review's Citation, which every Evidence cites
    problems = fhir.check(data)
    assert any("resolves to no entry" in p for p in problems)
    assert any("ComparativeEvidence needs 3..*" in p for p in problems)
    assert any("synthesisType" in p for p in problems)


def test_ris_and_bibtex_hold_one_entry_per_included_study(tmp_path):
    import rispy
    from pybtex.database import parse_string

    from reviewbook.book.fhir import included_studies
    from reviewbook.book.paths import load

    pkg = load(str(EMBEDDED))
    studies = included_studies(pkg)
    assert len(studies) == len(set(pkg.studies["Study"])) == 28  # 28 included studies (data/README.md)
    ris = rispy.loads(export(EMBEDDED, "ris", tmp_path / "s.ris"))
    assert [r["id"] for r in ris] == studies
    bib = parse_string(export(EMBEDDED, "bibtex", tmp_path / "s.bib"), "bibtex")
    assert len(bib.entries) == len(studies)
    lum = next(r for r in ris if r["id"] == "Lumanauw 2019")
    assert lum["doi"] == "10.1111/acem.13755"  # CD015373-included.ris


def test_csv_has_the_cochrane_columns_and_one_row_per_outcome(tmp_path):
    from reviewbook.book.paths import load

    _, results = results_of(EMBEDDED)
    rows = list(csv.reader(io.StringIO(export(EMBEDDED, "csv", tmp_path / "sof.csv"))))
    assert rows[0] == ["Comparison", "Outcomes", "Anticipated absolute effects: risk with comparator",
                       "Anticipated absolute effects: risk with intervention", "Relative effect (95% CI)",
                       "№ of participants (studies)", "Certainty of the evidence (GRADE)", "Comments"]
    outcomes = sof_outcomes(load(str(EMBEDDED)))
    assert len(rows) - 1 == len(outcomes)
    for row, aid in zip(rows[1:], outcomes):
        want = results["analyses"][aid]
        assert row[1].endswith(f"({aid})")
        if want["status"] == "computed":
            assert row[6].lower().startswith(want["certainty"])
            assert row[7] == want["statement"]


def test_export_to_stdout_and_bad_input(tmp_path):
    res = run_cli("export", EMBEDDED, "--format", "ris")
    assert res.returncode == 0 and res.stdout.startswith("1.\nTY  - ")
    res = run_cli("export", tmp_path / "nothing", "--format", "fhir")
    assert res.returncode == 2 and "Traceback" not in res.stderr
    out = tmp_path / "missing" / "e.json"
    res = run_cli("export", EMBEDDED, "--format", "fhir", "-o", out)
    assert res.returncode == 2 and "e.json" in res.stderr and not out.parent.exists()
    res = run_cli("export", EMBEDDED, "--format", "pdf")
    assert res.returncode == 2


def test_bundle_after_add_rows_matches_changes_json(tmp_path):
    from reviewbook.book.changes import diff
    from reviewbook.book.paths import load

    pkg_dir = tmp_path / "CD015373"
    shutil.copytree(EMBEDDED, pkg_dir)
    _, before = results_of(pkg_dir)
    b1 = json.loads(export(pkg_dir, "fhir", tmp_path / "v1.json"))
    (tmp_path / "new.csv").write_text(MADE_UP)
    res = run_cli("add-rows", pkg_dir, tmp_path / "new.csv", "--source", "doi:10.0000/madeup.2026")
    assert res.returncode == 0, res.stderr
    pkg, after = results_of(pkg_dir)
    b2 = json.loads(export(pkg_dir, "fhir", tmp_path / "v2.json"))
    changes = diff(after, before, current_rows=pkg.rows, previous_rows=load(str(EMBEDDED)).rows)
    version = changes["current_version"]["version"]
    assert version != changes["previous_version"]["version"]
    comps = [e["resource"] for e in b2["entry"] if e["resource"]["resourceType"] == "Composition"]
    assert comps and all(c["version"] == version for c in comps)
    assert b2["identifier"]["value"].endswith(f"version {version}")

    def stats(b):
        return {e["resource"]["identifier"][0]["value"]: e["resource"]["statistic"][0]
                for e in b["entry"] if PROFILE + "comparative-evidence" in e["resource"].get("meta", {}).get("profile", [])}

    s1, s2 = stats(b1), stats(b2)
    assert set(s1) == set(s2) and s1
    changed = {aid for aid in s2 if s1[aid] != s2[aid]}
    moved = {m["analysis"] for m in changes["moved"]} | {s["analysis"] for s in changes["studies_added"]}
    assert changed == moved & set(s2) and "1.4" in changed  # the new trial is in analysis 1.4
    assert changes["prisma_lsr"]["answered"] == ["L3", "L4"]
    assert changes["prisma_lsr"]["items"]["moved"] == "L3"


def test_what_changed_page_states_prisma_lsr_items():
    from reviewbook.book.changes import diff, render_markdown

    cur = {"package": "P", "analyses": {}, "data_version": {"version": "2", "date": "2026-01-02"}}
    prev = {"package": "P", "analyses": {}, "data_version": {"version": "1", "date": "2026-01-01"}}
    d = diff(cur, prev)
    assert d["prisma_lsr"]["answered"] == ["L4"]
    page = render_markdown({"changes": d, "current": cur, "previous": prev,
                            "versions": [{"version": "1", "date": "2026-01-01"}, {"version": "2", "date": "2026-01-02"}]})
    for item in ("L1", "L2", "L3", "L4"):
        assert f"**{item} " in page
    assert "2 versions, the first dated 2026-01-01 and the latest 2026-01-02" in page.replace("\\", "")  # Markdown escapes


def test_names_from_a_package_stay_text_in_every_export():
    """Untrusted names (markup, formulas) in a package: the FHIR narratives escape
    them, the CSV quotes formula-like cells, RIS and BibTeX keep one entry per study."""
    import rispy
    from pybtex.database import parse_string

    from reviewbook.book import exports, fhir
    from reviewbook.book import review as rv
    from reviewbook.package import datapackage as dp

    evil = "<img src=x onerror=alert(1)>"
    pkg = dp.read(ROOT / "tests" / "fixtures" / "Fleiss1993.zip")
    analyses = pkg.analyses.copy()
    analyses["Analysis name"] = analyses["Analysis name"].astype(str) + " " + evil
    analyses["Analysis group name"] = "=HYPERLINK(\"http://evil\") " + evil
    rows = pkg.rows.copy()
    first = str(rows.loc[0, "Study"])
    rows["Study"] = rows["Study"].replace(first, f"@{first}\n{evil}")
    bad = dp.Package("EV1", analyses, rows, pkg.subgroup_estimates, pkg.studies, pkg.risk_of_bias,
                     pkg.references, {})
    review = rv.for_package(bad)
    data = json.loads(exports.render("fhir", bad, review))
    assert fhir.check(data) == []
    divs = [s["text"]["div"] for e in data["entry"] if e["resource"]["resourceType"] == "Composition"
            for top in e["resource"]["section"] for o in top.get("section", []) for s in o.get("section", [])]
    assert divs and not any("<img" in d for d in divs) and any("&lt;img" in d for d in divs)
    table = list(csv.reader(io.StringIO(exports.render("csv", bad, review))))[1:]
    assert table and all(not c.startswith(("=", "+", "-", "@")) or c[:1] == "'" for r in table for c in r
                         if not c.lstrip("-").replace(".", "", 1).isdigit())
    studies = fhir.included_studies(bad)
    ris = rispy.loads(exports.render("ris", bad, review))
    assert [r["id"] for r in ris] == [" ".join(s.split()) for s in studies]
    assert len(parse_string(exports.render("bibtex", bad, review), "bibtex").entries) == len(studies)
