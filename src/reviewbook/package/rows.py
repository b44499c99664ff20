"""Read a table of Cochrane data rows on its own (no settings file).

People hold data rows without the rest of a package: the Cochrane Library's
download of one analysis, collections such as Pairwise70, or an R user's
``write.csv`` of a package.  :func:`read_rows_table` reads such a table with
either header spelling:

* RevMan's (``Experimental SD``, ``CI start``, ``O-E``), or
* R's ``make.names`` spelling (``Experimental.SD``, ``CI.start``, ``O.E``,
  ``Bias.arising.from.the.randomization.process..judgement.``).

Extra columns are ignored, except RevMan's ``Subgroup number``
(``Subgroup.number``), which tells apart two subgroups of one analysis that
carry the same name, and ``review_doi`` and ``review_url`` (added by the
Pairwise70 collection): the review the rows are from, one DOI and one
``https`` address per file, kept so that a book built from the rows can cite
the review.  A UTF-8 byte-order mark and quoted cells
with newlines are accepted.  Blank numeric cells (R's ``NA``) stay missing
(NaN: never read as 0); RevMan writes ``0.0`` in the fields a data type does
not use.  The RoB 2 columns ``<domain> (judgement)`` are read where present,
``Not applicable`` being one of RevMan's judgements (their ``(support)`` texts
are the review authors' words and are not kept).

Every problem is reported at once, naming the file, line, column, the value
found and what was expected (:class:`~reviewbook.errors.InputError`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from .schema import (DATA_ROW_COLUMNS, DATA_ROW_NUMERIC, MAX_ANALYSIS_NUMBER, MAX_MAGNITUDE, NUMBER_RULE,
                     parse_number)
from .tabular import Cells, _shown, invisible_note, read_csv_text, read_utf8

REQUIRED = ("Analysis group", "Analysis number", "Study")
INTEGER_COLUMNS = ("Analysis group", "Analysis number")
JUDGEMENT = re.compile(r"^(?P<domain>.+?)(?: \(judgement\)|\.\.judgement\.)$")
#: RoB 2 judgements as written in data rows, and the spelling the package uses.
JUDGEMENTS = {"low risk": "Low risk", "low": "Low risk", "some concerns": "Some concerns",
              "high risk": "High risk", "high": "High risk", "not applicable": "Not applicable"}
#: RevMan's own column numbering the subgroups of an analysis (present in some
#: exports); two subgroups may carry the same name.
SUBGROUP_NUMBER = "Subgroup number"


def make_names(name: str) -> str:
    """R's ``make.names`` of a column header (the spelling ``write.csv`` of an R
    data frame gives): every character that is not a letter, digit, ``.`` or
    ``_`` becomes ``.``."""
    return re.sub(r"[^A-Za-z0-9._]", ".", name)


#: RevMan header by its R spelling (both spellings map to RevMan's).
HEADER_ALIASES = {make_names(c): c for c in DATA_ROW_COLUMNS}


@dataclass(frozen=True)
class RowsTable:
    """A data-rows table: ``rows`` with RevMan's headers and numbers as floats
    (NaN where blank), ``lines`` the file line of each row, ``rob`` the RoB 2
    judgements per row (columns: domain names, values ``Low risk``, ``Some
    concerns``, ``High risk``, ``Not applicable`` or ``""``), ``name`` the file
    name, ``headers`` the file's own header of each RevMan column it has, and
    ``subgroup_numbers`` RevMan's subgroup number of each row (a tuple of
    strings) where the file has that column, else ``None``."""

    name: str
    rows: pd.DataFrame
    lines: tuple
    rob: pd.DataFrame
    domains: tuple
    headers: dict = None
    subgroup_numbers: tuple | None = None
    review: dict = None


#: The columns naming the review the rows are from, and what each must hold.
REVIEW_COLUMNS = {
    "review_doi": (re.compile(r"10\.\d{4,9}/[-._;()/:A-Za-z0-9]{1,200}"), "a DOI such as 10.1002/14651858.CD015373.pub2"),
    "review_url": (re.compile(r"https?://[-._~:/?#@!$&'()*+,;=%A-Za-z0-9]{1,500}"), "an http(s) address"),
}


def _review_identity(header, raw, name, problems) -> dict:
    """The ``review_doi`` and ``review_url`` of a rows table (see the module
    docstring): one value per column in the whole file (blanks allowed);
    another value, or a value of the wrong form, is a located problem."""
    out = {}
    for column, (pattern, expected) in REVIEW_COLUMNS.items():
        if column not in header:
            continue
        first = None
        for line, row in raw:
            v = (row.get(column) or "").strip()
            if not v:
                continue
            if not pattern.fullmatch(v):
                problems.append(Problem(name, line, column, f"'{v}'", expected))
                break
            if first is None:
                first = (line, v)
            elif v != first[1]:
                problems.append(Problem(name, line, column, f"'{v}'",
                                        f"one review per file: line {first[0]} gives '{first[1]}'"))
                break
        if first is not None:
            out[column] = first[1]
    return out


def _canonical(header):
    """Map each header to RevMan's spelling (or keep it); RoB judgement columns to
    ``('rob', domain)``."""
    out = []
    for h in header:
        if h in DATA_ROW_COLUMNS:
            out.append(h)
        elif h in HEADER_ALIASES:
            out.append(HEADER_ALIASES[h])
        elif h in (SUBGROUP_NUMBER, make_names(SUBGROUP_NUMBER)):
            out.append(("number", SUBGROUP_NUMBER))
        else:
            m = JUDGEMENT.match(h)
            if m:
                domain = m.group("domain")
                if "." in domain and " " not in domain:  # R spelling: dots stand for spaces
                    domain = re.sub(r"\.+", " ", domain).strip()
                out.append(("rob", domain))
            else:
                out.append(None)  # ignored
    return out


def read_rows_table(path) -> RowsTable:
    """Read and check a data-rows table (see the module docstring).

    Raises
    ------
    InputError
        With every problem found: unreadable file, missing columns, text in
        numeric cells, negative or fractional counts, negative SDs, SEs or
        variances, unknown RoB judgements, one analysis id with two names.
        Checks that depend on the data type (events above N, blanks in the
        fields it uses) are :func:`reviewbook.package.datapackage.validate_rows`'s,
        run by the importer once the data type is inferred.
    """
    path = Path(path)
    name = path.name
    text = read_utf8(path, "a CSV file of Cochrane data rows")
    header, raw = read_csv_text(text, name)
    canon = _canonical(header)
    spelled = {}
    for h, c in zip(header, canon):
        if c is not None:
            spelled.setdefault(c, []).append(h)
    twice = [Problem(name, 1, hs[1], f"the column '{c if isinstance(c, str) else hs[0]}' twice, as "
                     + " and ".join(f"'{h}'" for h in hs), "each column once, in one spelling")
             for c, hs in spelled.items() if len(hs) > 1]
    if twice:
        raise InputError(twice)
    present = {c for c in canon if isinstance(c, str)}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise InputError([Problem(name, 1, c, "no such column",
                                  f"a column '{c}' (RevMan spelling) or '{make_names(c)}' (R spelling)")
                          for c in missing])
    if not raw:
        raise InputError([Problem(name, None, None, "no data rows", "at least one row")])
    by_canon = {}
    for h, c in zip(header, canon):
        if c is not None and c not in by_canon:
            by_canon[c] = h
    domains = tuple(c[1] for c in by_canon if isinstance(c, tuple) and c[0] == "rob")
    number_header = by_canon.get(("number", SUBGROUP_NUMBER))
    numbers = []
    problems: list[Problem] = []
    data = {c: [] for c in DATA_ROW_COLUMNS}
    rob = {d: [] for d in domains}
    lines = []
    for line, row in raw:
        # the row's cells under RevMan's names (the problems name the file's own column)
        cells = Cells(name, line, {}, problems)
        lines.append(line)
        for c in DATA_ROW_COLUMNS:
            h = by_canon.get(c)
            cells.row = row
            value = (row.get(h) or "").strip() if h else ""
            if c in DATA_ROW_NUMERIC or c in INTEGER_COLUMNS:
                data[c].append(_number(cells, h, value, c))
            else:
                data[c].append(value)
        for d in domains:
            h = by_canon[("rob", d)]
            v = (row.get(h) or "").strip()
            if v and v.lower() not in JUDGEMENTS:
                cells.problem(h, f"'{v}'", "a RoB 2 judgement: Low risk, Some concerns, High risk, "
                                          "Not applicable or blank")
                v = ""
            rob[d].append(JUDGEMENTS.get(v.lower(), ""))
        if number_header:
            numbers.append((row.get(number_header) or "").strip())
    frame = pd.DataFrame(data, columns=DATA_ROW_COLUMNS)
    _check_values(frame, lines, name, by_canon, problems)
    _check_analysis_names(frame, lines, name, by_canon, problems)
    review = _review_identity(header, raw, name, problems)
    if problems:
        raise InputError(problems)
    headers = {c: h for c, h in by_canon.items() if isinstance(c, str)}
    return RowsTable(name, frame, tuple(lines), pd.DataFrame(rob, columns=list(domains)), domains, headers,
                     tuple(numbers) if number_header else None, review)


def _number(cells: Cells, header, value: str, column: str):
    if value == "" or value.upper() == "NA":
        if column in INTEGER_COLUMNS:
            cells.problem(header, "an empty cell", "a whole number (the analysis number)")
        return np.nan
    x = parse_number(value)
    if x is None:
        cells.problem(header, f"'{_shown(value)}'{invisible_note(value)}", NUMBER_RULE)
        return np.nan
    if not np.isfinite(x):
        cells.problem(header, f"'{value}'", "a finite number")
        return np.nan
    if abs(x) > MAX_MAGNITUDE:
        cells.problem(header, f"'{value[:40]}'", f"a number of at most {MAX_MAGNITUDE:g} in absolute value")
        return np.nan
    if column in INTEGER_COLUMNS and (x != int(x) or not 1 <= x <= MAX_ANALYSIS_NUMBER):
        cells.problem(header, f"'{value}'", f"a whole number from 1 to {MAX_ANALYSIS_NUMBER}")
    return x


def _check_values(frame, lines, name, by_canon, problems):
    """Values that are invalid whatever the data type: negative or fractional
    counts, negative SDs, SEs and variances.  Whether events above N, a zero SD
    or SE, or a blank are allowed depends on the data type and on whether RevMan
    stored a result for the row: the package validator decides
    (:func:`reviewbook.package.datapackage.validate_rows`, shared by
    ``import-rows`` and ``audit``)."""
    cols = {c: frame[c].tolist() for c in frame.columns}
    for i, line in enumerate(lines):
        r = {c: v[i] for c, v in cols.items()}
        if not str(r["Study"]).strip():
            problems.append(Problem(name, line, by_canon.get("Study"), "an empty cell", "a study name"))
        for arm in ("Experimental", "Control"):
            n, ev, sd = r[f"{arm} N"], r[f"{arm} cases"], r[f"{arm} SD"]
            for col, v in ((f"{arm} N", n), (f"{arm} cases", ev)):
                if v == v and (v < 0 or v != int(v)):
                    problems.append(Problem(name, line, by_canon.get(col), f"'{v:g}'", "a whole number >= 0"))
            if sd == sd and sd < 0:
                problems.append(Problem(name, line, by_canon.get(f"{arm} SD"), f"'{sd:g}'", "a number >= 0"))
        for col in ("GIV SE", "Variance"):
            v = r[col]
            if v == v and v < 0:
                problems.append(Problem(name, line, by_canon.get(col), f"'{v:g}'", "a number >= 0"))


def _check_analysis_names(frame, lines, name, by_canon, problems):
    """One analysis id, one analysis name: a second name for the same id means
    rows of two analyses were numbered alike (both names and their lines are
    reported)."""
    first = {}
    reported = set()
    groups, numbers, titles = (frame[c].tolist() for c in ("Analysis group", "Analysis number", "Analysis name"))
    for i, line in enumerate(lines):
        g, n = groups[i], numbers[i]
        if g != g or n != n:
            continue
        key = (g, n)
        title = " ".join(str(titles[i]).split())
        if key not in first:
            first[key] = (title, line)
            continue
        title0, line0 = first[key]
        if title != title0 and (key, title) not in reported:
            reported.add((key, title))
            problems.append(Problem(name, line, by_canon.get("Analysis name", "Analysis name"),
                                    f"'{title}' as the name of analysis {int(g)}.{int(n)}",
                                    f"one name per analysis: line {line0} names it '{title0}'"))
