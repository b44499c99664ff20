"""The References page: the methods sources the book relies on
(``book/references.bib``, checked against their publishers' or indexers'
records) and the reports of the included studies, made from the data package's
RIS records (``<ID>-included.ris``) for any package.

Each RIS record becomes a BibTeX entry written with pybtex; it is attached to
the study of the package whose name it carries (a label, ID or note tag equal
to the study name) or whose name is its first author's surname and year
(``Lumanauw 2019`` for ``AU - Lumanauw, ...`` and ``PY - 2019``); RevMan's
exports name the study in the ``NS`` tag.  The first
report of a study is cited as the study (:func:`study_keys`), so that a page can
cite and link a study by its name.  Text from the package is untrusted: the
characters that would change the BibTeX markup (braces, backslash, double
quote) are replaced, and Sphinx escapes the rest when it writes HTML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

#: What a study's reference says when no identifier of it was found.
NONE_FOUND = "no DOI, PubMed record or registration found"
#: Where a link to a study's report may point: its DOI, its PubMed record, or its entry in a
#: trial registry (ClinicalTrials.gov and the WHO ICTRP's primary registries).
STUDY_HOSTS = ("doi.org", "pubmed.ncbi.nlm.nih.gov", "clinicaltrials.gov", "trialsearch.who.int", "isrctn.com",
               "anzctr.org.au", "clinicaltrialsregister.eu", "euclinicaltrials.eu", "drks.de", "chictr.org.cn",
               "irct.behdasht.gov.ir", "trialregister.nl", "onderzoekmetmensen.nl", "ctri.nic.in", "jrct.niph.go.jp",
               "rctportal.niph.go.jp", "umin.ac.jp", "ensaiosclinicos.gov.br", "rpcec.sld.cu", "pactr.samrc.ac.za",
               "cris.nih.go.kr", "slctr.lk", "thaiclinicaltrials.org", "lbctr.moph.gov.lb", "itmctr.ccebtcm.org.cn")
#: Aggregators, mirrors and catalogues: copies of other records, never a source a reader is sent to.
AGGREGATOR_HOSTS = ("metajournal.com", "curehunter.com", "jioinstitute.edu.in", "zhixidata.com", "wilddata.cn",
                    "scilit.com", "scilit.net", "litmetric.com", "neuly.com", "meddatax.com", "crick.ai",
                    "epocrates.com", "reliasmedia.com", "painpluscpn.ca", "ilneurologo.com", "zendy.io",
                    "mendeley.com", "zhenzhi.com", "ouci.dntb.gov.ua", "trials.co", "supplementai.io",
                    "trialx.com", "clinconnect.io", "medluna.com", "paperexplained.cn", "scite.ai", "dissem.in")


def host_of(url: str) -> str:
    """The host of a web address, without 'www.' (lower case)."""
    from urllib.parse import urlsplit

    return (urlsplit(str(url)).hostname or "").lower().removeprefix("www.")


def on_hosts(url: str, hosts) -> bool:
    """Whether ``url``'s host is one of ``hosts`` or a subdomain of one."""
    h = host_of(url)
    return any(h == x or h.endswith("." + x) for x in hosts)


#: RIS reference types written as BibTeX ``@article`` when the journal is known.
_JOURNAL_TYPES = {"JOUR", "JFULL", "ABST", "INPR", "MGZN", "NEWS", "EJOUR"}
#: Tags that may carry the study a report belongs to (RevMan writes the study's name as ``NS``).
_STUDY_TAGS = ("NS", "LB", "ID", "N1", "DB", "AN", "C1")


@dataclass(frozen=True)
class StudyReport:
    """One report of the package's RIS records: its citation ``key``, the
    ``study`` it belongs to ('' when no study of the package matches) and the
    BibTeX entry's ``kind`` and ``fields`` (author list as BibTeX names)."""

    key: str
    study: str
    kind: str
    fields: tuple  # (name, value) pairs
    authors: tuple
    record: dict | None = field(default=None, compare=False, hash=False, repr=False)  # the RIS record (tag -> values)


def _clean(value) -> str:
    """Plain text that cannot change BibTeX markup: no braces, backslashes or double quotes."""
    text = " ".join(str(value).split())
    return text.translate(str.maketrans({"{": "(", "}": ")", "\\": "/", '"': "'"}))


def _first(rec: dict, *tags) -> str:
    for tag in tags:
        for v in rec.get(tag, []):
            if str(v).strip():
                return _clean(v)
    return ""


def _year(rec: dict) -> str:
    m = re.search(r"(1[89]\d\d|20\d\d)", _first(rec, "PY", "Y1", "DA", "Y2"))
    return m.group(1) if m else ""


def _norm(text) -> str:
    return " ".join(str(text).lower().split())


def _slug(text) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "report"


def _study_years(pkg) -> dict:
    """Study name -> the year the package gives the study (study information ``Year``,
    else the rows' ``Study year``), for a report whose record carries no year."""
    years = {}
    for frame, col in ((getattr(pkg, "studies", None), "Year"), (getattr(pkg, "rows", None), "Study year")):
        if frame is None or getattr(frame, "empty", True) or "Study" not in frame or col not in frame:
            continue
        for study, value in zip(frame["Study"], frame[col]):
            m = re.fullmatch(r"\s*(1[89]\d\d|20\d\d)(?:\.0)?\s*", str(value))
            if m and str(study) not in years:
                years[str(study)] = m.group(1)
    return years


def _study_of(rec: dict, studies: list) -> str:
    by_name = {_norm(s): s for s in studies}
    for tag in _STUDY_TAGS:
        for v in rec.get(tag, []):
            hit = by_name.get(_norm(v))
            if hit:
                return hit
    authors = rec.get("AU", []) or rec.get("A1", [])
    year = _year(rec)
    if authors and year:
        surname = _norm(str(authors[0]).split(",")[0])
        stem = f"{surname} {year}"
        if stem in by_name:
            return by_name[stem]
        hits = [s for n, s in by_name.items() if re.fullmatch(re.escape(stem) + r"[a-z]?", n)]
        if len(hits) == 1:  # 'Noppers 2011a' for Noppers, 2011 when it is the only such study
            return hits[0]
    return ""


def _entry(rec: dict, study_year: str = ""):
    """(kind, fields) of a RIS record as a BibTeX entry whose required fields are all present;
    ``study_year`` (the year the package gives the report's study) stands in for a record
    without a year, so that a study of a known year is never cited as 'n.d.'."""
    ty = _first(rec, "TY").upper()
    title = _first(rec, "TI", "T1", "CT", "BT")
    journal = _first(rec, "JO", "JF", "JA", "J2", "T2")
    year = _year(rec) or study_year
    fields = [("title", title)] if title else []
    authors = tuple(_clean(a) for a in (rec.get("AU", []) or rec.get("A1", [])) if str(a).strip())
    if ty in _JOURNAL_TYPES and journal and title and year and authors:
        kind = "article"
        fields.append(("journal", journal))
    else:
        kind = "misc"
        where = journal or _first(rec, "PB", "DB")
        if where:
            fields.append(("howpublished", where))
    if year:
        fields.append(("year", year))
    for tag, name in (("VL", "volume"), ("IS", "number"), ("DO", "doi")):
        value = _first(rec, tag)
        if value:
            fields.append((name, value))
    sp, ep = _first(rec, "SP"), _first(rec, "EP")
    if sp:
        fields.append(("pages", f"{sp}--{ep}" if ep and ep != sp else sp))
    url = _first(rec, "UR", "L2")
    if url.startswith(("http://", "https://")) and not any(n == "doi" for n, _ in fields):
        fields.append(("url", url))
    note = " ".join(_clean(v) for v in rec.get("N1", []) if str(v).strip())
    if note:  # the record's notes: registration, PubMed number, or that no identifier was found
        fields.append(("note", note))
    return kind, tuple(fields), authors


def study_reports(pkg) -> list:
    """The package's included-study reports (RIS ``included``), in the package's
    order, each with its citation key and study."""
    records = (getattr(pkg, "references", None) or {}).get("included") or []
    studies = [str(s) for s in pkg.studies["Study"]] if not pkg.studies.empty and "Study" in pkg.studies else []
    studies += [str(s) for s in dict.fromkeys(pkg.rows["Study"]) if str(s) not in studies] \
        if "Study" in pkg.rows else []
    years = _study_years(pkg)
    out, used = [], set()
    for rec in records:
        study = _study_of(rec, studies)
        kind, fields, authors = _entry(rec, years.get(study, ""))
        if not authors and all(n == "note" for n, _ in fields):
            if not study:
                continue  # an empty record
            fields = (("title", _clean(study)), *fields) if fields else (
                ("title", _clean(study)), ("note", "the data package gives no bibliographic details of this report"))
        elif not any(n == "title" for n, _ in fields):
            fields = (("title", _clean(study) or "Untitled report"), *fields)
        if study:
            stem = "study-" + _slug(study)
        else:
            surname = _slug(str(authors[0]).split(",")[0]) if authors else "report"
            stem = f"report-{surname}-{dict(fields).get('year', 'nd')}"
        key, n = stem, 1
        while key in used:
            n += 1
            key = f"{stem}-{n}"
        used.add(key)
        out.append(StudyReport(key, study, kind, fields, authors, rec))
    return out


def study_keys(pkg) -> dict:
    """Study name -> citation key of its first report with bibliographic details
    (authors, journal, year, ...); studies without such a report are absent."""
    keys = {}
    for r in study_reports(pkg):
        detailed = bool(r.authors) or any(name not in ("title", "note") for name, _ in r.fields)
        if r.study and detailed and r.study not in keys:
            keys[r.study] = r.key
    return keys


#: Fields written as they are: a web address or DOI is stored unescaped (pybtex's writer
#: would LaTeX-escape '%', '_' and '&', and the escapes would reach the printed link).
VERBATIM_FIELDS = ("url", "doi")


def _writer():
    from pybtex.database.output.bibtex import Writer

    class _VerbatimWriter(Writer):
        def _write_field(self, stream, type, value):
            if type.lower() in VERBATIM_FIELDS:
                stream.write(f",\n    {type} = {self.quote(value)}")
            else:
                super()._write_field(stream, type, value)

    return _VerbatimWriter()


def studies_bibtex(reports) -> str:
    """The reports as a BibTeX file (pybtex writes it; deterministic; web addresses and
    DOIs verbatim)."""
    import io

    from pybtex.database import BibliographyData, Entry, Person

    entries = {}
    for r in reports:
        persons = {"author": [Person(a) for a in r.authors]} if r.authors else {}
        fields = dict(r.fields)
        if "title" in fields:
            fields["title"] = "{" + fields["title"] + "}"  # as written (BibTeX styles would lower-case it)
        entries[r.key] = Entry(r.kind, fields=fields, persons=persons)
    if not entries:
        return ""
    out = io.StringIO()
    _writer().write_stream(BibliographyData(entries), out)
    return out.getvalue()


_PARSED = {}


def _parsed(bibfile):
    """``bibfile`` parsed by pybtex, once per process while its bytes are unchanged (a
    build asks twice: for the review's own key and for the sources a review file names).
    Read only."""
    from pybtex.database import parse_file

    path = Path(bibfile)
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _PARSED:
        _PARSED.clear()
        _PARSED[key] = parse_file(str(bibfile), bib_format="bibtex")
    return _PARSED[key]


def key_for(text, bibfile) -> str | None:
    """The key of the entry of ``bibfile`` whose DOI appears in ``text`` (a
    review file's citation), so that the book can cite the review it re-runs."""
    text = str(text or "").lower()
    if not text:
        return None
    for key, entry in _parsed(bibfile).entries.items():
        doi = entry.fields.get("doi", "").lower()
        if doi and doi in text:
            return key
    return None


#: The entry of ``book/references.bib`` of each source the judgement rules name
#: (:data:`reviewbook.appraisal.sources.SOURCES`, shown on the pages in their short form,
#: e.g. 'Röver 2015'): the References page lists them all (a test checks each has an entry).
RULE_ENTRIES = {
    "handbook-ch14": "handbook-ch14", "handbook-ch10": "handbook-ch10", "handbook-ch13": "handbook-ch13",
    "handbook-ch22": "handbook-ch22", "handbook51-12.2.d": "handbook51", "handbook51-12.5.4": "handbook51",
    "handbook51-11.5": "handbook51", "grade3": "balshem2011", "grade4": "guyatt2011grade4",
    "grade5": "guyatt2011grade5", "grade6": "guyatt2011grade6", "grade7": "guyatt2011grade7",
    "grade8": "guyatt2011grade8", "grade12": "guyatt2013grade12", "grade13": "guyatt2013grade13",
    "grade26": "santesso2020", "grade34": "zeng2022", "rob2": "sterne2019", "norman2003": "norman2003",
    "sterne2011": "sterne2011", "egger1997": "egger1997", "roever2015": "roever2015", "sun2010": "sun2010",
    "wetterslev2017": "wetterslev2017", "simmonds2017": "simmonds2017", "grade9": "guyatt2011grade9",
    "grade35": "schunemann2022grade35", "handbook51-8.5.3": "handbook51-ch08", "handbook51-12.6.2": "handbook51-ch12",
    "kce-imprecision": "kce-processbook", "gradepro": "gradepro", "knapp2003": "knapp2003", "jackson2017": "jackson2017",
}

#: Most characters of a review file read for the sources it names.
MAX_REVIEW_TEXT = 2_000_000


def _surname(entry) -> str:
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    return " ".join(persons[0].last_names) if persons else ""


def named_entries(text, bibfile) -> list:
    """Keys of the entries of ``bibfile`` that ``text`` names: by DOI, or by the first
    author's surname and the year ('Busse et al. 2015', 'Farrar 2001'), where that
    surname and year name one entry only."""
    text = str(text or "")
    if not text:
        return []
    entries = _parsed(bibfile).entries
    by_name = {}
    for key, entry in entries.items():
        surname, year = _surname(entry), entry.fields.get("year", "")
        if surname and year:
            by_name.setdefault((surname, year), []).append(key)
    found = set()
    low = text.lower()
    for key, entry in entries.items():
        doi = entry.fields.get("doi", "").lower()
        if doi and doi in low:
            found.add(key)
    for (surname, year), keys in by_name.items():
        # 'Busse et al. 2015', 'Farrar 2001', 'Zigmond & Snaith 1983', 'Ware, Kosinski & Keller 1996'
        pattern = (rf"(?<!\w){re.escape(surname)}(?:\s+et\s+al\.?|(?:,\s*|\s*&\s*|\s+and\s+)[A-Z][\w'-]+){{0,4}}"
                   rf",?\s*\(?{year}(?!\d)")
        if len(keys) == 1 and re.search(pattern, text):
            found.add(keys[0])
    return sorted(found)


def review_text(review) -> str:
    """The text of the review file (empty for a book without one), for :func:`named_entries`."""
    path = getattr(review, "path", None)
    if path is None or not Path(path).is_file():
        return ""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.read(MAX_REVIEW_TEXT)


def page(n_reports: int, n_studies: int, named=()) -> str:
    """The References page (MyST Markdown): the methods sources cited in the book and
    those it ``named`` in its text (the judgement rules' and the review file's sources),
    then every report of the included studies the package lists."""
    keys = sorted(set(named))
    bib_filter = "cited" + (" or key in {" + ", ".join(f'"{k}"' for k in keys) + "}" if keys else "")
    # each list one click away (a link to an entry opens its list: _static/reviewbook.js), so the
    # page stays short on a phone
    lines = ["(sec-references)=", "# References", "", "## Methods and sources", "",
             "The methods, guidance and software this book relies on, as cited or named in the text.", "",
             "::::{dropdown} The methods sources, by first author", "",
             ":::{bibliography} references.bib", f":filter: {bib_filter}", ":::", "", "::::", "", "## Studies", ""]
    if n_reports:
        study_word = "study" if n_studies == 1 else "studies"
        report_word = "report" if n_reports == 1 else "reports"
        lines += [f"The {n_reports} {report_word} of the included studies that the data package lists "
                  f"({n_studies} {study_word} of the package matched by name).", "",
                  f"::::{{dropdown}} The {n_reports} {report_word} of the included studies", "",
                  ":::{bibliography} studies.bib", ":all:", ":labelprefix: S", ":::", "", "::::"]
    else:
        lines += ["The data package lists no reports of the included studies."]
    return "\n".join(lines) + "\n"
