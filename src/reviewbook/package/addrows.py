"""``reviewbook add-rows``: append data rows (a new trial) to a package folder.

    python -m reviewbook add-rows PACKAGE ROWS.csv --source TEXT [--note TEXT]

``ROWS.csv`` is a table of data rows with either header spelling (RevMan's or
R's ``make.names``), read and checked by :func:`.rows.read_rows_table`, the
reader ``import-rows`` uses.  The rows are then appended to a copy of the
package, and the copy is read with the package validator
(:func:`.datapackage.read`), so that a new row is checked exactly as a row of
an imported package is (data type, required fields, events and totals, a row
entered twice).  Besides, each new row must

* belong to an analysis the package declares, and carry its name or none;
* name one of the analysis's subgroups when it has subgroups (else none);
* be of a study that has no row in that analysis yet (add-rows adds trials;
  a correction is made in the data rows themselves);
* give the study's year for a study new to the package (and, for a study the
  package has, the year it has).

Every problem is reported at once, located in ``ROWS.csv`` by line and column
(as the file spells it), with the value found and what was expected; the
command then exits 2 and the package is left byte for byte as it was.

On success, the package's files are extended (their existing bytes are kept;
new lines are appended):

* ``<ID>-data-rows.csv``: the new rows (blank where the file gives no value;
  ``Analysis name`` from the package when blank);
* ``provenance.csv``: one row per new data value, citing ``--source``, with the
  line and column of ``ROWS.csv`` it was read from;
* ``<ID>-study-information.csv``: a row for each study new to the package,
  with its name and year and blank characteristics (shown as "not reported");
* ``<ID>-risk-of-bias.csv`` (when the package has one): one row per new
  result with the RoB 2 judgements the rows carry ("Not reported" otherwise);
* ``versions.csv``: ``version, date, rows_added, source, note`` (the date is
  the day of the change).  A package without one gets its first row for the
  package as it was (date not recorded).

The files are written only after every check has passed, each replaced in one
rename.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputError, Problem
from .analysis import row_labels
from .datapackage import INTEGER_COLUMNS, _fmt
from .datapackage import read as read_package
from .rows import make_names, read_rows_table
from .names import escaped, name_problem, study_key
from .schema import (DATA_ROW_COLUMNS, DATA_ROW_NUMERIC, MAX_NOTE_CHARS, MAX_SOURCE_CHARS, STUDY_INFO_COLUMNS,
                     YEAR_RULE, analysis_id, year_of)
from .tabular import read_csv_text

VERSION_COLUMNS = ["version", "date", "rows_added", "source", "note"]
#: Header of a provenance.csv that add-rows creates (the columns import-rows writes).
PROVENANCE_COLUMNS = ["analysis", "study", "column", "value", "source", "line", "source_column", "how_obtained"]
#: The data fields each data type reads (their values get provenance rows even when 0).
FIELDS = {
    "Dichotomous": ("Experimental cases", "Experimental N", "Control cases", "Control N"),
    "Continuous": ("Experimental mean", "Experimental SD", "Experimental N", "Control mean", "Control SD",
                   "Control N"),
    "Generic inverse variance": ("GIV Mean", "GIV SE"),
    "Contrast level": ("GIV Mean", "GIV SE"),
    "O-E and variance": ("O-E", "Variance"),
}


#: What each data field of a new trial must hold (add-rows adds a trial's numbers:
#: a row that would give no result is refused, unlike a published review's own
#: rows, which RevMan may have left uncomputed).
MUST_HOLD = {
    "Experimental N": "a number > 0", "Control N": "a number > 0",
    "Experimental SD": "a positive SD", "Control SD": "a positive SD",
    "GIV SE": "a positive SE", "Variance": "a positive variance",
}
EMPTY_EXPECTED = {"Experimental SD": "a number >= 0", "Control SD": "a number >= 0", "GIV SE": "a number > 0",
                  "Variance": "a number > 0", "Experimental N": "a number > 0", "Control N": "a number > 0"}


def _trial_problems(r, data_type, problem) -> None:
    """A new row's data fields must give a result: no blank, no N, SD, SE or
    variance of 0 or less, no more events than participants (see :data:`MUST_HOLD`)."""
    for c in FIELDS.get(data_type, ()):
        v = float(r[c])
        if v != v:
            problem(c, "an empty cell", EMPTY_EXPECTED.get(c, "a number"))
        elif c in MUST_HOLD and v <= 0:
            problem(c, f"'{v:g}'", MUST_HOLD[c])
    if data_type == "Dichotomous":
        for arm in ("Experimental", "Control"):
            ev, n = float(r[f"{arm} cases"]), float(r[f"{arm} N"])
            if ev > n:
                problem(f"{arm} cases", f"{ev:g} events", f"at most {arm} N = {n:g}")


@dataclass(frozen=True)
class Added:
    """What an ``add-rows`` run added: the version recorded, and per new row
    ``(analysis, row label, line of ROWS.csv)``; the studies new to the package."""

    package: str
    version: str
    date: str
    rows: tuple
    new_studies: tuple
    provenance_rows: int


def _text(path: Path) -> str:
    return path.read_bytes().decode("utf-8-sig")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _append(text: str, rows) -> str:
    """``text`` (a CSV file's content, BOM kept) with ``rows`` appended in its line-end style."""
    nl = _newline(text)
    buf = io.StringIO()
    csv.writer(buf, lineterminator=nl).writerows(rows)
    if text and not text.endswith(("\n", "\r")):
        text += nl
    return text + buf.getvalue()


def _new_file(header, rows) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    return "\ufeff" + buf.getvalue()


def _file(folder: Path, pkg_id: str, sub: str, suffix: str) -> Path:
    return folder / f"{pkg_id}-{sub}" / f"{pkg_id}-{suffix}"


def _header(path: Path) -> list:
    header, _ = read_csv_text(_text(path), path.name)
    return header


def add_rows(package, rows_csv, *, source: str, note: str = "", today: str | None = None):
    """Check the new rows and compute the new content of each file; nothing is
    written.  Returns ``(Added, {path: new text})``; raises :class:`InputError`."""
    folder, rows_path = Path(package), Path(rows_csv)
    arg_problems = []
    for arg, value, limit in (("--source", source, MAX_SOURCE_CHARS), ("--note", note, MAX_NOTE_CHARS)):
        bad = name_problem(str(value or "").replace("\t", " ").replace("\n", " ").replace("\r", " "))
        if bad:
            arg_problems.append(Problem(arg, None, None, bad[0], "text on one line, without control or "
                                                                 "bidirectional formatting characters"))
        elif len(" ".join(str(value or "").split())) > limit:
            arg_problems.append(Problem(arg, None, None, f"a text of {len(' '.join(str(value).split())):,} "
                                        "characters", f"at most {limit:,} characters"))
    if arg_problems:
        raise InputError(arg_problems)
    source, note = " ".join(str(source or "").split()), " ".join(str(note or "").split())
    if not source:
        raise InputError([Problem("--source", None, None, "an empty text",
                                  "a citation, DOI or URL of the report the new rows come from")])
    if not folder.is_dir():
        raise InputError([Problem(folder.name, None, None,
                                  "a file" if folder.exists() else "no such folder",
                                  "a package folder (add-rows writes into it; unzip a zipped package first)")])
    pkg = read_package(folder)  # the package as it is must be valid
    if pkg.source_format != "revman-web":
        raise InputError([Problem(folder.name, None, None, "a RevMan 5 analysis CSV",
                                  "a package folder in the RevMan Web layout")])
    data_path = _file(folder, pkg.id, "analysis-data", "data-rows.csv")
    if not data_path.is_file():
        raise InputError([Problem(folder.name, None, None, f"no {data_path.relative_to(folder)}",
                                  "a package folder in the RevMan Web layout (<ID>-analysis-data/<ID>-data-rows.csv)")])
    table = read_rows_table(rows_path)  # every problem of the table itself, located in it
    new = table.rows
    name = table.name
    header_of = _file_headers(rows_path)
    problems = []
    declared = {aid: pkg.analysis(aid) for aid in pkg.analysis_ids()}
    known_years = _years(pkg)
    spelled = {study_key(x): str(x).strip() for x in pkg.rows["Study"]} if not pkg.rows.empty else {}
    if not pkg.studies.empty and "Study" in pkg.studies.columns:
        for x in pkg.studies["Study"]:
            spelled.setdefault(study_key(x), str(x).strip())
    labels_new = {}
    combined_labels = {}
    for i, line in enumerate(table.lines):
        r = new.iloc[i]
        aid = analysis_id(r["Analysis group"], r["Analysis number"])
        study = str(r["Study"]).strip()

        def problem(col, found, expected, line=line):
            problems.append(Problem(name, line, header_of.get(col, col), found, expected))

        if aid not in declared:
            problem("Analysis number", f"analysis {aid}",
                    "an analysis of package " + pkg.id + " (" + _list(list(declared)) + ")")
            continue
        s = declared[aid]
        _trial_problems(r, s.data_type, problem)
        given = str(r["Analysis name"]).strip()
        if given and given != s.name:
            problem("Analysis name", f"'{given}'", f"the name of analysis {aid} in the package, '{s.name}', or blank")
        old = pkg.rows_of(aid)
        subgroups = [x for x in dict.fromkeys(str(v).strip() for v in old.get("Subgroup", [])) if x]
        sub = str(r["Subgroup"]).strip()
        if subgroups and sub not in subgroups:
            problem("Subgroup", f"'{sub}'" if sub else "an empty cell",
                    f"one of the subgroups of analysis {aid}: " + ", ".join(f"'{x}'" for x in subgroups))
        elif not subgroups and sub:
            problem("Subgroup", f"'{sub}'", f"an empty cell (analysis {aid} has no subgroups)")
        skey = study_key(study)
        known = spelled.get(skey)
        if study and known is not None and known != study:
            # the same study spelled another way (case, spaces, Unicode form, invisible characters)
            problem("Study", f"'{escaped(study)}', a look-alike of the package's study '{escaped(known)}'",
                    f"'{escaped(known)}' spelled as in the package, or a study name that is not a look-alike "
                    "(names that differ only in case, spaces, Unicode form or invisible characters are one study)")
        elif study and skey in {study_key(x) for x in old["Study"]}:
            problem("Study", f"'{study}', which already has a row in analysis {aid}",
                    "a study new to the analysis (add-rows adds trials; correct a study's values in the "
                    "package's data rows)")
        year = str(r["Study year"]).strip()
        if skey in known_years:
            if year and known_years[skey] and year != known_years[skey]:
                problem("Study year", f"'{escaped(year)}'",
                        f"{known_years[skey]}, the year of '{escaped(study)}' in the package")
        elif study and not _is_year(year):
            problem("Study year", f"'{escaped(year)}'" if year else "an empty cell",
                    f"the year of '{escaped(study)}', a study new to the package ({YEAR_RULE})")
        if study and known is None:
            spelled[skey] = study  # a second new row of the same study must be spelled alike
        labels_new.setdefault(aid, []).append(i)
    if any(i not in {j for idx in labels_new.values() for j in idx} for i in range(len(new))):
        # rows of undeclared analyses: the rest is still checked, so that every problem is listed
        keep = sorted(j for idx in labels_new.values() for j in idx)
        if not keep:
            raise InputError(problems)
        table = _subset(table, keep)
        new = table.rows
        labels_new = {aid: [keep.index(j) for j in idx] for aid, idx in labels_new.items()}
    for aid, idx in labels_new.items():
        old = [str(x).strip() for x in pkg.rows_of(aid)["Study"]]
        labels = row_labels(old + [str(new.iloc[i]["Study"]).strip() for i in idx])[len(old):]
        for i, lab in zip(idx, labels):
            combined_labels[i] = (aid, lab)
    version, versions_text = _versions(folder, pkg, len(new), source, note, today)
    files = {}
    # data rows
    data_text = _text_bom(data_path)
    data_header = _header(data_path)
    applicability = {}
    for aid in labels_new:
        values = {str(x).strip() for x in pkg.rows_of(aid).get("Applicability", [])}
        if len(values) == 1:  # the analysis's rows agree: the new row takes the same
            applicability[aid] = values.pop()
    out_rows = []
    for i in range(len(new)):
        r = new.iloc[i]
        aid = combined_labels[i][0]
        cells = []
        for c in data_header:
            if c == "Analysis name" and not str(r[c]).strip():
                cells.append(declared[aid].name)
            elif c == "Applicability" and not str(r[c]).strip():
                cells.append(applicability.get(aid, ""))
            elif c in DATA_ROW_NUMERIC or c in ("Analysis group", "Analysis number"):
                cells.append(_fmt(r[c], c in INTEGER_COLUMNS))
            elif c in DATA_ROW_COLUMNS:
                cells.append(str(r[c]).strip())
            else:
                cells.append("")
        out_rows.append(cells)
    files[data_path] = _append(data_text, out_rows)
    # provenance
    prov_path = folder / "provenance.csv"
    prov_header = _header(prov_path) if prov_path.is_file() else PROVENANCE_COLUMNS
    prov = []
    for i, line in enumerate(table.lines):
        r = new.iloc[i]
        aid, label = combined_labels[i]
        used = FIELDS.get(declared[aid].data_type, ())
        for c in DATA_ROW_NUMERIC:
            v = r[c]
            if v != v or (v == 0 and c not in used):
                continue
            values = {"analysis": aid, "study": label, "column": c, "value": repr(float(v)), "source": source,
                      "collection": source, "line": str(line), "source_column": header_of.get(c, c),
                      "how_obtained": f"added with add-rows from {name} (package version {version})"
                                      + (f": {note}" if note else "")}
            prov.append([values.get(h, "") for h in prov_header])
    files[prov_path] = (_append(_text_bom(prov_path), prov) if prov_path.is_file()
                        else _new_file(prov_header, prov))
    # study information: one row per study new to the package
    info_path = _file(folder, pkg.id, "study-data", "study-information.csv")
    info_header = _header(info_path) if info_path.is_file() else STUDY_INFO_COLUMNS
    fresh = []
    for i in range(len(new)):
        study = str(new.iloc[i]["Study"]).strip()
        if study_key(study) not in known_years and study not in fresh:
            fresh.append(study)
    years = {str(new.iloc[i]["Study"]).strip(): str(new.iloc[i]["Study year"]).strip() for i in range(len(new))}
    info_rows = [[s if h == "Study" else years[s] if h == "Year" else "" for h in info_header] for s in fresh]
    if info_rows:
        files[info_path] = (_append(_text_bom(info_path), info_rows) if info_path.is_file()
                            else _new_file(info_header, info_rows))
    # risk of bias: one row per new result, where the package has a table of results
    rob_path = _file(folder, pkg.id, "study-data", "risk-of-bias.csv")
    if rob_path.is_file():
        rob_header = _header(rob_path)
        if {"Study", "Analysis group", "Analysis number", "Result"} <= set(rob_header):
            files[rob_path] = _append(_text_bom(rob_path), _rob_rows(table, combined_labels, rob_header, problems,
                                                                     header_of))
    files[folder / "versions.csv"] = versions_text
    seen = {(p.file, p.line, p.column) for p in problems}
    problems += [p for p in _validate(folder, files, data_path, table, header_of)
                 if (p.file, p.line, p.column) not in seen]  # one problem per cell
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.file != name, p.line or 0)))
    added = Added(pkg.id, version, _today(today), tuple((combined_labels[i][0], combined_labels[i][1], line)
                                                        for i, line in enumerate(table.lines)),
                  tuple(fresh), len(prov))
    return added, files


def _subset(table, keep):
    """The rows ``keep`` (positions) of a rows table."""
    from dataclasses import replace

    rob = table.rob.iloc[keep].reset_index(drop=True) if len(table.rob) else table.rob
    return replace(table, rows=table.rows.iloc[keep].reset_index(drop=True),
                   lines=tuple(table.lines[i] for i in keep), rob=rob)


def _text_bom(path: Path) -> str:
    """A file's text with its byte-order mark, if it has one (kept when appending)."""
    return path.read_bytes().decode("utf-8")


def _file_headers(path: Path) -> dict:
    """RevMan column name -> the file's own spelling of it."""
    header, _ = read_csv_text(path.read_bytes().decode("utf-8-sig"), path.name)
    out = {}
    for h in header:
        for c in DATA_ROW_COLUMNS:
            if h == c or h == make_names(c):
                out.setdefault(c, h)
    return out


def _years(pkg) -> dict:
    """Study key (:func:`.names.study_key`) -> year ('' when unknown), from study
    information, else the data rows."""
    out = {}
    if not pkg.rows.empty:
        for s, y in zip(pkg.rows["Study"], pkg.rows.get("Study year", [""] * len(pkg.rows))):
            y = "" if y is None or (isinstance(y, float) and np.isnan(y)) else str(y).strip()
            out.setdefault(study_key(s), y.removesuffix(".0"))
    if not pkg.studies.empty and "Study" in pkg.studies.columns:
        for _, r in pkg.studies.iterrows():
            y = str(r.get("Year", "")).strip()
            if y or study_key(r["Study"]) not in out:
                out[study_key(r["Study"])] = y
    return out


def _is_year(text: str) -> bool:
    return year_of(text) is not None


def _list(ids) -> str:
    return ", ".join(ids[:8]) + (f", ... ({len(ids)} analyses)" if len(ids) > 8 else "")


def _today(today) -> str:
    return today or dt.datetime.now(dt.timezone.utc).date().isoformat()  # UTC: one date whatever TZ says


def _versions(folder: Path, pkg, n_new: int, source: str, note: str, today):
    """The next version number and the new text of versions.csv."""
    path = folder / "versions.csv"
    row = None
    if path.is_file():
        header, rows = read_csv_text(_text(path), path.name)
        missing = [c for c in VERSION_COLUMNS if c not in header]
        if missing:
            raise InputError([Problem(path.name, 1, c, "no such column", f"a column '{c}'") for c in missing])
        numbers = []
        for line, r in rows:
            v = r.get("version", "").strip()
            if not (v.isascii() and v.isdigit()):
                raise InputError([Problem(path.name, line, "version", f"'{v}'", "a whole number (1, 2, ...)")])
            numbers.append(int(v))
        version = str(max(numbers, default=0) + 1)
        row = [version if h == "version" else _today(today) if h == "date" else str(n_new) if h == "rows_added"
               else source if h == "source" else note if h == "note" else "" for h in header]
        return version, _append(_text_bom(path), [row])
    first = ["1", "", str(len(pkg.rows)), "", "the package before its first recorded change (no version record)"]
    return "2", _new_file(VERSION_COLUMNS, [first, ["2", _today(today), str(n_new), source, note]])


def _rob_rows(table, combined_labels, header, problems, header_of):
    """Rows of the risk-of-bias table for the new results: the RoB 2 judgements
    the rows carry, 'Not reported' for a domain they do not."""
    domains = {h.split(":", 1)[1].strip().lower(): h for h in header if h.startswith("Domain (judgement):")}
    for d in table.domains:
        if d.lower() not in domains:
            problems.append(Problem(table.name, 1, f"{d} (judgement)", f"the RoB 2 domain '{d}'",
                                    "one of the package's domains: " + ", ".join(
                                        h.split(':', 1)[1].strip() for h in domains.values())))
    out = []
    for i in range(len(table.rows)):
        r = table.rows.iloc[i]
        aid, label = combined_labels[i]
        judged = {domains[d.lower()]: table.rob.iloc[i][d] for d in table.domains if d.lower() in domains}
        g, n = aid.split(".")
        values = {"Study": str(r["Study"]).strip(), "Analysis group": g, "Analysis number": n, "Result": label}
        out.append([values[h] if h in values else (judged.get(h) or "Not reported")
                    if h.startswith("Domain (judgement):") else "" for h in header])
    return out


def _validate(folder: Path, files: dict, data_path: Path, table, header_of) -> list:
    """Read a copy of the package with the new files through the package validator;
    returns its problems, those (and warnings) on the new rows located in ROWS.csv."""
    with tempfile.TemporaryDirectory(prefix="reviewbook-add-rows-") as d:
        copy = Path(d) / folder.name
        shutil.copytree(folder, copy)
        for path, text in files.items():
            dest = copy / path.relative_to(folder)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(text.encode("utf-8"))
        staged_rows = copy / data_path.relative_to(folder)
        _, parsed = read_csv_text(staged_rows.read_bytes().decode("utf-8-sig"), data_path.name)
        lines = [line for line, _ in parsed]
        first_new = lines[len(lines) - len(table.lines)]
        where = dict(zip(lines[len(lines) - len(table.lines):], table.lines))
        try:
            pkg = read_package(copy)
            found = [p for p in pkg.warnings if p.file == data_path.name and p.line in where]
        except InputError as exc:
            found = list(exc.problems)

    def locate(p: Problem) -> Problem:
        if p.file == data_path.name and p.line is not None and p.line >= first_new:
            return Problem(table.name, where.get(p.line, p.line), header_of.get(p.column, p.column), p.found,
                           p.expected)
        return p

    return [locate(p) for p in found]


def _stale_temporaries(folder: Path) -> list:
    """Temporary files an earlier add-rows left in the package (killed outright,
    SIGKILL): under the writer lock no other add-rows is writing, so every one is stale."""
    out = []
    for d in [folder, *[p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()]]:
        out += [p for p in d.iterdir() if p.name.startswith(".") and ".add-rows-" in p.name and p.is_file()
                and not p.is_symlink()]
    return out


def write_files(files: dict) -> None:
    """Replace each file by its new text: written beside it, then renamed over it.
    A temporary file is registered before it is written, so that a failed write
    (a full disk) or SIGTERM (:class:`~.lock.Terminated`) removes it too."""
    staged = []
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.add-rows-{os.getpid()}")
            staged.append((tmp, path))
            tmp.write_bytes(text.encode("utf-8"))
        # the renames run with SIGTERM held back, so the package is never half-updated:
        # a SIGTERM that arrives meanwhile takes effect once every file is in place
        from .lock import sigterm_held

        with sigterm_held():
            for tmp, path in staged:
                os.replace(tmp, path)
    finally:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)


def main(package, rows_csv, *, source, note="") -> int:
    """The ``add-rows`` command; returns the exit code."""
    from .lock import terminated_as_exception, writer_lock

    try:
        # one writer at a time: the package is read, its next version numbered and the
        # files written under one lock (a second add-rows waits, then stops with exit 2)
        with terminated_as_exception(), writer_lock(package, f"the package {Path(package).name}"):
            if Path(package).is_dir():
                for stale in _stale_temporaries(Path(package)):
                    stale.unlink(missing_ok=True)
            try:
                added, files = add_rows(package, rows_csv, source=source, note=note)
            except OSError as exc:  # e.g. a full disk where the copy of the package is checked
                raise InputError([Problem(Path(package).name, None, None, f"a package that could not be checked "
                                          f"({exc.strerror or exc}; nothing was changed)",
                                          "room in the temporary folder (TMPDIR) for a copy of the package")]) from None
            try:
                write_files(files)
            except OSError as exc:
                raise InputError([Problem(Path(package).name, None, None, f"a folder that cannot be written "
                                          f"({exc.strerror or exc}; nothing was changed)",
                                          "a package folder add-rows can write into")]) from None
    except InputError as exc:
        return exc.report()
    n = len(added.rows)
    print(f"added {n} data row{'s' if n != 1 else ''} to package {added.package} from {Path(rows_csv).name} "
          f"(version {added.version}, {added.date}):")
    for aid, label, line in added.rows:
        print(f"  analysis {aid}: {label} (line {line})")
    if added.new_studies:
        print("new to the package (study information added, characteristics not reported): "
              + ", ".join(added.new_studies))
    print(f"wrote {added.provenance_rows} provenance rows citing: {source.strip()}")
    print(f"next: make book DATA={package}")
    return 0
