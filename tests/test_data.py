"""The embedded data: data/CD015373 is what build-review makes of the review's own
data rows (../shared/datasets/pairwise70/CD015373_pub2_data.csv) and our sources;
every value has its provenance; nothing of the review's own sentences is copied;
our independent extraction (data/independent) rebuilds identically and its
conversions are recomputed here by formulas written out in this file (e.g.
SD = SEM × √n, Cochrane Handbook 6.5.2.3)."""
import csv
import math
import re
import shutil
from pathlib import Path

import pytest

from reviewbook.package import datapackage as dp
from reviewbook.package.extraction import coverage_by_comparison
from bookutil import leaves
from conftest import cli

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
PKG = DATA / "CD015373"
IND = DATA / "independent"
SHARED = ROOT.parent / "shared" / "datasets" / "pairwise70"
SOURCE_ROWS = SHARED / "CD015373_pub2_data.csv"
needs_shared = pytest.mark.needs("shared")


def rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def same_tree(a: Path, b: Path):
    fa = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    fb = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert fa == fb and fa, (a, b)  # a package folder is never empty
    for rel in fa:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


@needs_shared
def test_review_package_rebuilds_identically_from_the_reviews_rows(tmp_path):
    out = tmp_path / "CD015373"
    res = cli("build-review", str(DATA / "sources"), str(out))
    assert res.returncode == 0, res.stderr
    same_tree(PKG, out)


def test_independent_package_rebuilds_identically(tmp_path):
    out = tmp_path / "package"
    res = cli("build-package", str(IND / "extraction"), str(out))
    assert res.returncode == 0, res.stderr
    same_tree(IND / "package", out)


@needs_shared
def test_rows_are_the_reviews_rows():
    """Every number of data/CD015373's data rows is the review's number, row by row
    and in the review's own analysis numbering (1.1 ... 13.1)."""
    src = rows(SOURCE_ROWS)
    ours = rows(next(PKG.rglob("*-data-rows.csv")))
    key = lambda r, g, n: (int(r[g]), int(r[n]))  # noqa: E731
    src.sort(key=lambda r: key(r, "Analysis.group", "Analysis.number"))
    assert len(ours) == len(src) == 176
    pairs = [("Experimental.mean", "Experimental mean"), ("Experimental.SD", "Experimental SD"),
             ("Experimental.cases", "Experimental cases"), ("Experimental.N", "Experimental N"),
             ("Control.mean", "Control mean"), ("Control.SD", "Control SD"), ("Control.cases", "Control cases"),
             ("Control.N", "Control N"), ("Mean", "Mean"), ("CI.start", "CI start"), ("CI.end", "CI end"),
             ("Weight", "Weight")]
    for s, o in zip(src, ours):
        assert (s["Analysis.group"], s["Analysis.number"], s["Study"]) == (o["Analysis group"], o["Analysis number"],
                                                                         o["Study"])
        for a, b in pairs:
            if s[a] not in ("", "0") or b in ("Mean", "CI start", "CI end", "Weight"):
                assert (float(s[a]) if s[a] else None) == (float(o[b]) if o[b] else None), (s["Study"], a)
    ids = [f"{r['Analysis group']}.{r['Analysis number']}" for r in rows(next(PKG.rglob("*-overall-estimates-and-settings.csv")))]
    assert ids[0] == "1.1" and ids[-1] == "13.1" and len(ids) == 95


@needs_shared
def test_no_sentence_of_the_review_is_copied():
    """Footnotes and RoB support texts are the review authors' words: none appears in data/."""
    texts = set()
    for r in rows(SOURCE_ROWS):
        for k, v in r.items():
            if (k == "Footnotes" or k.endswith("support.")) and len(v.strip()) >= 25:
                texts.add(re.sub(r"<[^>]+>", "", v).strip()[:60])
    assert texts
    blob = "\n".join(p.read_text(encoding="utf-8", errors="ignore") for p in DATA.rglob("*") if p.is_file()
                     and p.suffix in (".csv", ".md", ".yml", ".ris"))
    leaked = [t for t in texts if t in blob]
    assert not leaked, leaked


def test_every_value_has_its_provenance():
    """One provenance row per value of the data rows (the review, analysis, study,
    column, collection and line), plus one per study characteristic and comparison name."""
    pkg = dp.read(PKG)
    prov = rows(PKG / "provenance.csv")
    index = {}
    for r in prov:
        assert r["review"] == "CD015373.pub2" and r["collection"].strip(), r
        index[(r["analysis"], r["study"], r["column"])] = index.get((r["analysis"], r["study"], r["column"]), 0) + 1
    assert all(v == 1 for v in index.values()), [k for k, v in index.items() if v > 1]
    from reviewbook.package import analysis as an

    n = 0
    for aid in pkg.analysis_ids():
        r_ = pkg.rows_of(aid)
        for label, (_, row) in zip(an.row_labels(r_["Study"]), r_.iterrows()):
            for col in ("Experimental N", "Control N", "Mean", "CI start", "CI end", "Weight"):
                v = row[col]
                if v == v and v != 0:
                    assert index.get((aid, label, col)) == 1, (aid, label, col)
                    n += 1
    assert n > 900
    studies = {r["study"] for r in prov if r["column"] in ("condition", "design", "route")}
    assert len(studies) >= 20  # characteristics of the pooled studies, each with its source
    names = [r for r in prov if r["column"] == "Analysis group name"]
    assert len(names) == 13 and all(r["collection"] for r in names)


def test_footnotes_are_categories_in_our_words():
    from reviewbook.package.importer import FOOTNOTE_KINDS, FOOTNOTE_OTHER

    allowed = {k for _, k in FOOTNOTE_KINDS} | {FOOTNOTE_OTHER}
    notes = [r["note"] for r in rows(DATA / "sources" / "row_notes.csv")]
    for r in rows(next(PKG.rglob("*-data-rows.csv"))):
        rest = r["Footnotes"]
        for text in sorted(notes, key=len, reverse=True) + sorted(allowed, key=len, reverse=True):
            rest = rest.replace(text, "")
        assert rest.replace(";", "").strip() == "", r["Footnotes"]
    cats = {r["how_obtained"] for r in rows(PKG / "provenance.csv") if r["how_obtained"]}
    assert "value read off a figure with software" in cats
    assert "first-period data of a crossover trial from the study authors" in cats


def test_same_study_twice_is_kept_and_labelled():
    """Dadabayev 2020 reports participants with and without PTSD separately; the
    review enters both groups in 2.1 and 2.2 (legal), and each row keeps its own label."""
    from reviewbook.package import analysis as an

    pkg = dp.read(PKG)
    res = an.run(pkg, "2.1")
    assert res.labels == ("Dadabayev 2020 (1)", "Dadabayev 2020 (2)") and res.result.k == 2
    assert "PTSD" in pkg.rows_of("2.1")["Footnotes"][1]


@needs_shared
def test_risk_of_bias_is_the_reviews_and_not_reported_elsewhere():
    src = rows(SOURCE_ROWS)
    rob = rows(next(PKG.rglob("*-risk-of-bias.csv")))
    assert len(rob) == len(src)
    src.sort(key=lambda r: (int(r["Analysis.group"]), int(r["Analysis.number"])))
    for s, o in zip(src, rob):
        assert s["Study"] == o["Study"]
        j = s["Overall.bias..judgement."].strip()
        assert o["Domain (judgement): Overall bias"] == (j or "Not reported")
    judged = [r for r in rob if r["Domain (judgement): Overall bias"] != "Not reported"]
    assert len(judged) == 4  # the Pairwise70 README: 4 rows judged overall


def test_study_information_has_sources_or_says_not_reported():
    info = rows(next(PKG.rglob("*-study-information.csv")))
    assert len(info) == 28
    for r in info:
        assert r["Char: Methods"].startswith("Design: ") and r["Char: Participants"].startswith("Condition: ")
        assert "Characteristics from:" in r["Char: Notes"]
    not_pooled = rows(next(PKG.rglob("*-studies-not-pooled.csv")))
    assert len(not_pooled) >= 40 and all(r["Why not pooled (our extraction)"] for r in not_pooled)
    pooled = {r["Study"] for r in info}
    assert not pooled & {r["Study"] for r in not_pooled}


def test_comparisons_are_named_with_evidence():
    comp = rows(next(PKG.rglob("*-comparisons.csv")))
    assert [int(r["Analysis group"]) for r in comp] == list(range(1, 14))
    for r in comp:
        assert r["Analysis group name"] and r["evidence"] and r["source"]
    settings = rows(next(PKG.rglob("*-overall-estimates-and-settings.csv")))
    assert {r["Analysis group name"] for r in settings if r["Analysis group"] == "1"} == {
        "Intravenous ketamine versus placebo"}


def test_audit_of_the_review_package_matches_every_stored_study_result():
    res = cli("audit", str(PKG), "--json")
    assert res.returncode == 0, res.stderr
    import json

    s = json.loads(res.stdout)["summary"]
    assert s["studies_checked"] == 169 and s["studies_matched"] == 169  # 176 rows, 7 not estimable


# ------------------------------------------------------------------ the independent extraction

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


def test_independent_values_and_transformations_agree():
    ext = rows(IND / "extraction" / "outcomes.csv")
    for p in rows(IND / "package" / "provenance.csv"):
        lines = [int(x) for x in p["extraction_lines"].split()]
        src = [ext[i - 2] for i in lines]
        assert all(s["study"] == p["study"] for s in src)
        assert float(p["value"]) == pytest.approx(_recompute(p["column"], src), rel=1e-12), p
        if p["column"].endswith(" SD") and "read as SEM" in p["transformation"]:
            assert "SD = SEM × √n" in p["transformation"]


def test_sigtermans_by_hand_agrees_with_the_review():
    """Sigtermans 2009 abstract: week 1 NRS ketamine 2.68 ± 0.51, placebo 5.45 ± 0.48, n = 30 each;
    ± read as SEM (our rule): SD = 0.51 × √30 × 10 = 27.934 on 0-100, which is the review's
    value in analysis 1.1 (27.93385)."""
    ours = dp.read(IND / "package").rows_of("1.1").iloc[0]
    assert ours["Study"] == "Sigtermans 2009"
    assert ours["Experimental SD"] == pytest.approx(0.51 * math.sqrt(30) * 10)
    review = dp.read(PKG).rows_of("1.1")
    row = review[review["Study"] == "Sigtermans 2009"].iloc[0]
    assert row["Experimental SD"] == pytest.approx(ours["Experimental SD"], abs=5e-6)


def test_every_reported_number_is_in_the_verbatim_text():
    for i, r in enumerate(rows(IND / "extraction" / "outcomes.csv"), start=2):
        text = r["verbatim"].replace(",", ".")
        assert r["citation"].strip() and r["location"].strip() and r["verbatim"].strip(), i
        for c in ("reported_mean", "reported_dispersion", "events"):
            x = r[c].strip()
            if x:
                assert x in text or x.rstrip("0").rstrip(".") in text, (i, c, x)


def test_study_flow_and_published_estimates_have_sources():
    for r in rows(IND / "extraction" / "study_flow.csv"):
        if r["count"].strip():
            assert r["source"].strip(), r
        else:
            assert "not public" in r["note"]
    for r in rows(DATA / "published-estimates.csv"):
        assert r["source"].strip() and r["location"].strip(), r


def test_readme_states_the_independent_coverage():
    readme = (DATA / "README.md").read_text()
    for label, described, pooled, parts, n_out in coverage_by_comparison(IND / "extraction", IND / "package"):
        assert f"| {label} | {described} | {pooled} | {parts} | {n_out} |" in readme, label


# ------------------------------------------------------------------ reader text and study references

def _data_text_files():
    for folder in (PKG, IND, DATA / "sources"):
        yield from sorted(p for p in folder.rglob("*") if p.suffix in (".csv", ".ris", ".yml") and p.is_file())
    yield DATA / "published-estimates.csv"


def test_the_working_note_scan_finds_the_phrases_of_issue_16():
    """The scan is not vacuous: the phrases the issue quotes from the built site
    are found, and reader words that look alike are not (tests/wording.py)."""
    from wording import working_notes

    for phrase in ("not retrievable in this session", "an imputation decision by the lead",
                   "citation from brief/general knowledge, NOT verified", "not found in the corpus",
                   "Lead: fetch the results", "lead engineer to decide", "(2 searches)", "{{ template }}"):
        assert working_notes(phrase, braces=True), phrase
    for phrase in ("Brief Pain Inventory", "brief narrative intervention", "single-blind placebo lead-in",
                   "16 ketamine sessions", "checked against", "https://linkinghub.elsevier.com/retrieve/pii/X"):
        assert not working_notes(phrase), phrase


def test_no_working_notes_in_the_embedded_data():
    """No CSV, RIS or YAML text of data/CD015373, data/independent and data/sources (nor the
    published estimates) reads as a working note (the words of tests/wording.py)."""
    from wording import working_notes

    found = {}
    for path in _data_text_files():
        hits = working_notes(path.read_text(encoding="utf-8-sig"))
        if hits:
            found[str(path.relative_to(DATA))] = hits[:3]
    assert not found, found


# a source cites the trial's report or registry: a DOI, a PubMed or PMC number, a trial registry
# number, or a report-repository accession (DTIC), unless it says "secondary source"
PRIMARY = re.compile(r"doi:10\.\d{4,9}/\S+|PMID \d+|pubmed\.ncbi\.nlm\.nih\.gov/\d+|PMC\d+|\bNCT\d{8}\b|"
                     r"\bISRCTN\d+\b|\bACTRN\d{14}\b|\b20\d\d-\d{6}-\d\d\b|\bDRKS\d+\b|\bChiCTR\S+|\bIRCT\S+|"
                     r"\bDTIC accession AD\d+\b")
REVIEW_DOI = "doi:10.1002/14651858.CD015373.pub2"


def test_every_pooled_study_cites_its_report_or_registry_or_says_secondary():
    """data/sources/studies.csv: a non-blank source names the trial's report or registry
    entry with a stable identifier, or is labelled 'secondary source', or is the review's
    own data rows for a study whose report was not identified (then the notes say so).
    No blog is cited as a source."""
    table = rows(DATA / "sources" / "studies.csv")
    assert len(table) == 28  # the 28 pooled studies of the data rows (review-facts.md)
    primary = 0
    for r in table:
        src = r["source"]
        if not src:
            assert not any(r[c] for c in ("condition", "design", "drug", "route", "comparator")), r["study"]
            continue
        assert "blog" not in src.lower(), r["study"]
        assert r["location"], r["study"]
        if src.startswith("the review's analysis data rows"):
            assert REVIEW_DOI in src and "No report of this" in r["notes"], r["study"]
        elif "secondary source" in src.lower():
            continue
        else:
            assert PRIMARY.search(src.replace(REVIEW_DOI, "")), (r["study"], src)
            primary += 1
    assert primary > len(table) // 2, primary  # most pooled studies cite their own report or registry


#: What a reference says when no DOI, PubMed record or trial registration of a study was found.
NONE_FOUND = "no DOI, PubMed record or registration found"


def _ris(path):
    return dp.parse_ris(path.read_text(encoding="utf-8-sig"))


def test_included_references_are_the_studies_reports():
    """The package's included.ris is the copy of data/sources/included.ris; each record is
    keyed by a study of the rows (ID) and agrees with that study's source in studies.csv:
    every DOI and PubMed number of the record is cited there, and every DOI cited there for
    a primary report is in the record."""
    built = next(PKG.rglob("*-included.ris"))
    assert _ris(built) == _ris(DATA / "sources" / "included.ris")
    source = {r["study"]: r["source"] for r in rows(DATA / "sources" / "studies.csv")}
    info = {r["Study"] for r in rows(next(PKG.rglob("*-study-information.csv")))}
    seen = set()
    for rec in _ris(built):
        (study,) = rec["ID"]
        assert study in info and study not in seen, study
        seen.add(study)
        none_found = NONE_FOUND in " ".join(rec.get("N1", []))
        # a report with a title and authors, linked to its DOI, PubMed record or registration,
        # or a record that says no identifier was found (and is then linked to nothing)
        assert rec.get("TY") and ((rec.get("TI") and rec.get("AU")) or none_found), study
        assert rec.get("UR") or none_found, study
        for doi in rec.get("DO", []):
            assert f"doi:{doi}" in source[study], (study, doi)
        for pmid in re.findall(r"PMID (\d+)", " ".join(rec.get("N1", []))):
            assert f"PMID {pmid}" in source[study], (study, pmid)
    for study, src in source.items():
        if src and "secondary source" not in src.lower() and not src.startswith("the review's"):
            assert study in seen, study
            dois = re.findall(r"doi:(10\.\S+?)[;,)]?(?:\s|$)", src)
            record = next(r for r in _ris(built) if r["ID"] == [study])
            assert set(dois) <= set(record.get("DO", [])), (study, dois)


@needs_shared  # build-review reads the review's rows from ../shared
def test_a_reference_naming_no_study_of_the_rows_is_refused(tmp_path):
    """build-review exits 2 naming the RIS file, the record's line, the ID tag and the value."""
    src = tmp_path / "sources"
    shutil.copytree(DATA / "sources", src)
    cfg = (src / "sources.yml").read_text()
    for key in ("rows", "study_flow", "extraction_studies", "review_file"):
        value = re.search(rf"^{key}: (\S+)", cfg, re.M).group(1)
        cfg = cfg.replace(f"{key}: {value}", f"{key}: {(DATA / 'sources' / value).resolve()}")
    (src / "sources.yml").write_text(cfg)
    ris = (src / "included.ris").read_text()
    line = ris.splitlines().index("ID  - Maier 2003")  # 0-based index of the ID line; the record starts above
    start = max(i for i, x in enumerate(ris.splitlines()[:line]) if x.startswith("TY  -")) + 1
    (src / "included.ris").write_text(ris.replace("ID  - Maier 2003", "ID  - Maier 2004"))
    res = cli("build-review", str(src), str(tmp_path / "out"))
    assert res.returncode == 2, res.stderr
    assert f"included.ris, line {start}, column 'ID': found 'Maier 2004'" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and not (tmp_path / "out").exists()


def test_not_pooled_page_says_what_its_studies_are():
    """book.not_pooled on the embedded package: the studies are split by our extraction's
    eligibility judgement, every count in the text is the data's (the rows of
    studies-not-pooled.csv; the review's included and pooled counts of study-flow.csv,
    67 and 28 per review-facts.md), and the text says the list is not the review's."""
    from reviewbook.book import pages

    table = rows(next(PKG.rglob("*-studies-not-pooled.csv")))
    flow = {r["step"]: r["count"] for r in rows(PKG / "study-flow.csv")}
    yes = [r["Study"] for r in table if r["Eligibility (our judgement)"] == "yes"]
    unsure = [r["Study"] for r in table if r["Eligibility (our judgement)"] == "uncertain"]
    assert len(yes) + len(unsure) == len(table) and yes and unsure
    bundle = pages.not_pooled(PKG)
    note, *tables = [t for t in leaves(bundle)]
    text = repr(note)
    assert f"The {len(table)} studies below ({len(yes)} judged eligible, {len(unsure)} of uncertain" in text
    included, pooled = int(flow["studies_included"]), int(flow["studies_in_meta_analyses"])
    assert (included, pooled) == (67, 28)
    assert f"{included} included studies, {pooled} of them in meta-analyses, so {included - pooled}" in text
    assert "not the review's own list" in text
    assert [t.label for t in tables] == ["tbl-not-pooled", "tbl-not-pooled-uncertain"]
    col = tables[0].header.index("Eligibility (our judgement)")
    assert [r[0] for r in tables[0].rows] == yes and {r[col] for r in tables[0].rows} == {"yes"}
    assert [r[0] for r in tables[1].rows] == unsure and {r[col] for r in tables[1].rows} == {"uncertain"}
    assert f"({len(yes)})" in tables[0].caption and f"({len(unsure)})" in tables[1].caption
