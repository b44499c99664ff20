"""The book's results as files other software reads (``reviewbook export`` and
the site's Downloads page):

* ``fhir``: the summary of findings as an EBM-on-FHIR R5 Bundle (:mod:`.fhir`);
* ``ris`` and ``bibtex``: one record per included study (the report the book
  cites for it, else a record naming the study), written with rispy and pybtex;
* ``csv``: the summary of findings, one row per outcome, with the columns of the
  Cochrane table (Cochrane Handbook ch. 14), each main comparison in turn.

Every text cell comes from the package and is untrusted: RIS values are kept on
one line, BibTeX values lose the characters that change its markup
(:func:`reviewbook.book.references._clean`), and a CSV cell that a spreadsheet
would run as a formula gets a leading quote.
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

from ..errors import InputError, Problem

FORMATS = ("fhir", "ris", "bibtex", "csv")
#: The site's file name of each export.
FILE_NAMES = {"fhir": "evidence.fhir.json", "ris": "included-studies.ris", "bibtex": "included-studies.bib",
              "csv": "summary-of-findings.csv"}
#: The columns of the summary of findings CSV (the Cochrane table's, after the comparison).
SOF_COLUMNS = ("Comparison", "Outcomes", "Anticipated absolute effects: risk with comparator",
               "Anticipated absolute effects: risk with intervention", "Relative effect (95% CI)",
               "№ of participants (studies)", "Certainty of the evidence (GRADE)", "Comments")
NO_REPORT = "the data package gives no report of this study"


def _line(text) -> str:
    return " ".join(str(text).split())


def studies_ris(pkg) -> str:
    """One RIS record per included study (rispy writes it)."""
    import rispy

    from .fhir import primary_reports

    tag_key = rispy.TAG_KEY_MAPPING
    entries = []
    for study, report, rec in primary_reports(pkg):
        entry = {}
        if rec:
            for tag, values in rec.items():
                key = tag_key.get(tag)
                vals = [_line(v) for v in values if _line(v)]
                if key is None or not vals or tag in ("TY", "ID", "ER"):
                    continue
                entry[key] = vals if tag in rispy.LIST_TYPE_TAGS else vals[0]
            ty = _line((rec.get("TY") or ["GEN"])[0]).upper()
            entry["type_of_reference"] = ty if ty in rispy.TYPE_OF_REFERENCE_MAPPING else "GEN"
        else:
            entry = {"type_of_reference": "GEN", "title": _line(study), "notes": [NO_REPORT]}
        entry["id"] = _line(study)
        entries.append({"type_of_reference": entry.pop("type_of_reference"), **entry})
    return rispy.dumps(entries)


def studies_bibtex(pkg) -> str:
    """One BibTeX entry per included study (pybtex writes it)."""
    from .fhir import primary_reports
    from .references import StudyReport, _clean, _slug
    from .references import studies_bibtex as write

    chosen, used = [], set()
    for study, report, _rec in primary_reports(pkg):
        if report is None:
            report = StudyReport("study-" + _slug(study), study, "misc",
                                 (("title", _clean(study)), ("note", NO_REPORT)), ())
        key, n = report.key, 1
        while key in used:
            n += 1
            key = f"{report.key}-{n}"
        used.add(key)
        chosen.append(StudyReport(key, report.study, report.kind, report.fields, report.authors))
    return write(chosen)


def sof_rows(pkg, rvw) -> list:
    """The summary of findings as rows of :data:`SOF_COLUMNS`, read off the FHIR
    bundle's outcome sections (so the two cannot disagree)."""
    from .fhir import bundle

    data = bundle(pkg, rvw)
    rows = []
    for e in data["entry"]:
        res = e["resource"]
        if res["resourceType"] != "Composition":
            continue
        comparison = res["title"].removeprefix("Summary of findings: ")
        sof = next(s for s in res["section"] if s["code"]["coding"][0]["code"] == "summary-of-findings")
        for o in sof["section"]:
            cells = [_text_of(s) for s in o["section"]]
            rows.append([comparison, *cells])
    return rows


def _text_of(section) -> str:
    import html
    import re

    div = section.get("text", {}).get("div", "")
    return html.unescape(re.sub(r"<[^>]+>", "", div))


def sof_csv(pkg, rvw) -> str:
    from ..package.datapackage import spreadsheet_safe

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(SOF_COLUMNS)
    for row in sof_rows(pkg, rvw):
        w.writerow([spreadsheet_safe(str(c)) for c in row])
    return out.getvalue()


def render(fmt: str, pkg, rvw) -> str:
    """The export ``fmt`` (one of :data:`FORMATS`) of ``pkg`` as text."""
    if fmt == "fhir":
        from .fhir import build_json

        return build_json(pkg, rvw)
    if fmt == "ris":
        return studies_ris(pkg)
    if fmt == "bibtex":
        return studies_bibtex(pkg)
    if fmt == "csv":
        return sof_csv(pkg, rvw)
    raise ValueError(f"unknown export format {fmt!r}")


def write_atomic(path: Path, text: str) -> None:
    """``text`` written to ``path`` through a temporary file in the same folder and
    a rename: a failed write leaves ``path`` as it was."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError([Problem(path.name, None, None, f"no folder '{folder}'",
                                  "an output file in an existing folder")])
    if path.exists() and not path.is_file():
        raise InputError([Problem(path.name, None, None, "a folder or special file", "a regular file to write")])
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    except OSError as exc:
        raise InputError([Problem(path.name, None, None, f"a folder that cannot be written ({exc.strerror})",
                                  "a folder this user can write")]) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(package, fmt: str, output=None, review=None) -> int:
    """The ``export`` command; returns the exit code."""
    import sys

    from . import review as rv
    from .paths import read

    try:
        pkg = read(Path(package))
        rvw = rv.for_package(pkg, Path(review).resolve() if review else None)
        text = render(fmt, pkg, rvw)
        if output:
            write_atomic(Path(output), text)
            print(f"wrote {output} ({FILE_NAMES[fmt]} format: {fmt})", file=sys.stderr)
        else:
            sys.stdout.write(text)
    except InputError as exc:
        return exc.report()
    return 0


def write_all(folder: Path, pkg, rvw) -> dict:
    """Every export into ``folder`` under :data:`FILE_NAMES`; returns {format: path}."""
    out = {}
    for fmt in FORMATS:
        p = Path(folder) / FILE_NAMES[fmt]
        p.write_text(render(fmt, pkg, rvw), encoding="utf-8")
        out[fmt] = p
    return out
