"""Sources a reader can follow (issue 22): every included study of the default package is
cited by its DOI, its PubMed record or its trial registration, or its reference says that
none was found; no aggregator or catalogue is a source; web addresses are stored unescaped;
every source the methods page names is in the bibliography.  These tests read the package
and the book's files (fast); test_book.py checks the built site's links."""
import re
from pathlib import Path

from pybtex.database import parse_file, parse_string

from reviewbook.appraisal.sources import SOURCES
from reviewbook.book import references as refs
from reviewbook.package import datapackage as dp

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "data" / "CD015373"
BIB = ROOT / "src" / "reviewbook" / "resources" / "book" / "references.bib"
URL = re.compile(r"https?://[^\s<>\"')]+")


def _entries(pkg):
    reports = refs.study_reports(pkg)
    bib = parse_string(refs.studies_bibtex(reports), "bibtex")
    return reports, bib


def test_every_included_study_has_an_identifier_or_says_none_was_found():
    pkg = dp.read(PKG)
    studies = list(pkg.studies["Study"])
    assert len(studies) == 28  # the 28 pooled studies of the review's data rows (data/README.md)
    reports, bib = _entries(pkg)
    with_id, none_found = [], []
    for study in studies:
        mine = [r for r in reports if r.study == study]
        assert mine, f"{study}: no reference"
        for r in mine:
            fields = bib.entries[r.key].fields
            assert re.fullmatch(r"(1[89]|20)\d\d", fields.get("year", "")), (study, "cited as n.d.")
            url = fields.get("url", "")
            assert not url or refs.on_hosts(url, refs.STUDY_HOSTS), (study, url)
            if fields.get("doi") or url:
                with_id.append(study)
            else:
                assert refs.NONE_FOUND in fields.get("note", ""), (study, dict(fields))
                none_found.append(study)
    # data/sources/studies.csv: 18 studies with a DOI, PubMed number or trial registration,
    # 10 known only from the rows or from a secondary source (the identifiers table of issue 22)
    assert (len(set(with_id)), len(set(none_found))) == (18, 10)
    assert set(with_id) | set(none_found) == set(studies)


def test_study_characteristics_link_only_to_identifiers():
    """The 'Characteristics from:' sources of the study table link to a DOI, a PubMed
    record or a registry entry only."""
    info = dp.read(PKG).studies
    n = 0
    for study, notes in zip(info["Study"], info["Char: Notes"]):
        for url in URL.findall(str(notes)):
            url = url.rstrip(".,;:")
            assert refs.on_hosts(url, refs.STUDY_HOSTS), (study, url)
            n += 1
    assert n >= 18  # at least one for each of the 18 studies with an identifier (several cite two)


def test_no_aggregator_or_catalogue_in_the_package():
    """No file of the default package names or links an aggregator or a catalogue."""
    names = {h.split(".")[0] for h in refs.AGGREGATOR_HOSTS if h.split(".")[0] not in ("trials", "ouci")}
    files = [p for p in sorted(PKG.rglob("*")) if p.is_file()]
    assert len(files) >= 14  # the package's CSV and RIS files (data/README.md)
    for path in files:
        text = path.read_text(encoding="utf-8-sig", errors="replace").lower()
        for url in URL.findall(text):
            assert not refs.on_hosts(url, refs.AGGREGATOR_HOSTS), (path.name, url)
        hits = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", text))
        assert not hits, (path.name, hits)
        assert "by elimination, with" not in text and "copy at curehunter" not in text


def test_web_addresses_and_dois_are_stored_unescaped():
    """pybtex's writer LaTeX-escapes fields; a URL or DOI is written as it is, so that the
    printed link is the address (no '\\%5B', '\\_', '\\&')."""
    url = "https://example.org/search?f%5Bsubject%5D%5B%5D=anesthesia&q=%22W+Z%22&search_field=author"
    report = refs.StudyReport("report-x-2013", "", "misc", (("title", "A & B 100%"), ("year", "2013"),
                                                             ("url", url)), ("X, Y",))
    text = refs.studies_bibtex([report])
    assert url in text and "\\%" not in text.split("url")[1] and "\\_" not in text and "\\&" not in text.split("url")[1]
    entry = parse_string(text, "bibtex").entries["report-x-2013"]
    assert entry.fields["url"] == url
    assert entry.fields["title"] == "{A \\& B 100\\%}"  # ordinary text stays LaTeX for the styles


def test_a_double_escaped_ampersand_in_a_link_is_undone():
    """MyST-Parser stores '&' in a link as '&amp;' and the HTML writer escapes it again
    (MyST-Parser issue #760); the book's extension undoes the first escape."""
    from docutils.core import publish_doctree, publish_from_doctree
    from myst_parser.parsers.docutils_ import Parser

    from reviewbook.book.sphinxext import unescape_refuris, unescaped_uri

    src = "[h](https://a.example/?q=1&r=2) and <https://b.example/?x=1&y=2>\n"
    doctree = publish_doctree(src, parser=Parser())
    before = publish_from_doctree(doctree, writer_name="html5").decode()
    assert before.count("&amp;amp;") == 2  # the bug this guards against (myst-parser 3.0.1)
    unescape_refuris(None, doctree)
    html = publish_from_doctree(doctree, writer_name="html5").decode()
    assert 'href="https://a.example/?q=1&amp;r=2"' in html and 'href="https://b.example/?x=1&amp;y=2"' in html
    assert "&amp;amp;" not in html
    assert unescaped_uri("https://c/?a=1&amp;amp;b=2") == "https://c/?a=1&amp;b=2"  # one escape undone, no more


def test_a_study_without_a_year_in_its_record_takes_the_studys_year():
    """Fischer 2013's record gives no year (a catalogue record; the journal was not
    confirmed); the book cites it with the year of the study, never 'n.d.'."""
    pkg = dp.read(PKG)
    rec = next(r for r in pkg.references["included"] if r.get("ID") == ["Fischer 2013"])
    assert not rec.get("PY")
    reports, bib = _entries(pkg)
    key = next(r.key for r in reports if r.study == "Fischer 2013")
    assert bib.entries[key].fields["year"] == "2013"


def test_every_rule_source_has_a_bibliography_entry():
    keys = set(parse_file(str(BIB)).entries)
    assert set(refs.RULE_ENTRIES) == set(SOURCES)
    missing = {k: v for k, v in refs.RULE_ENTRIES.items() if v not in keys}
    assert not missing, missing
    assert len(SOURCES) == 33  # the entries of SOURCES in src/reviewbook/appraisal/sources.py


def test_sources_the_review_file_names_are_found_by_author_and_year():
    named = refs.named_entries((ROOT / "book" / "review.yml").read_text(encoding="utf-8"), BIB)
    # book/review.yml names Farrar 2001, Busse 2015, Puhan 2008, Pickard 2007, Pollard 1984, Zigmond & Snaith
    # 1983, Ware & Sherbourne 1992, Ware, Kosinski & Keller 1996 and the review (by its DOI)
    assert {"farrar2001", "busse2015", "puhan2008", "pickard2007", "pollard1984", "zigmond1983", "ware1992",
            "ware1996", "ferraro2025"} <= set(named)
    assert refs.named_entries("Guyatt 2011, GRADE 6", BIB) == []  # five entries share the name and year
    assert refs.named_entries("Röver et al. 2015, BMC Med Res Methodol", BIB) == ["roever2015"]
    page = refs.page(1, 1, ["busse2015", "norman2003"])
    assert ':filter: cited or key in {"busse2015", "norman2003"}' in page


def test_every_source_the_methods_page_names_is_cited():
    """A source named in the prose as 'Author (et al.) YEAR' is a citation, not plain text,
    and every cited key is in the bibliography."""
    keys = set(parse_file(str(BIB)).entries)
    n = 0
    for page in ("methods.md", "rerun.md", "review_file.md"):
        text = (ROOT / "src" / "reviewbook" / "resources" / "book" / page).read_text(encoding="utf-8")
        for key in re.findall(r"\{cite:[pt]\}`([^`]+)`", text):
            for k in key.split(","):
                assert k.strip() in keys, (page, k)
                n += 1
        prose = re.sub(r"\{cite:[pt]\}`[^`]+`", "", text)
        prose = re.sub(r"```.*?```", "", prose, flags=re.S)
        named = re.findall(r"\b[A-Z][a-zà-ÿ]+(?: et al\.?| (?:&|and) [A-Z][a-zà-ÿ]+)? \(?(?:19|20)\d\d\b", prose)
        assert not named, (page, named)
    assert n >= 40
