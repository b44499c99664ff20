"""Read, validate and write Cochrane data packages (RevMan Web export layout).

A package is accepted as

* a zip file or a folder holding ``<ID>-analysis-data/`` and ``<ID>-study-data/``;
* the nested export layout ``<ID>-files/<ID>-data.zip`` (RevMan's "Export" and
  the Cochrane Library's "Download data", possibly inside ``<ID>-dataPackage``);
* the older RevMan 5 "analysis data" CSV (one file, ``Comparison Number, ...``).

Both header generations of ``overall-estimates-and-settings.csv`` are read (the
newer adds ``Heterogeneity estimator``, ``CI method``, ``Prediction interval``,
``CI/PI level`` and graph labels).  Files are UTF-8 with an optional byte-order
mark.  Nothing from a package is evaluated or unpickled; zip members whose path
would escape the extraction folder are refused.

:func:`read` returns a :class:`Package` of typed tables (pandas DataFrames with
the package's own column names; numbers as floats) and raises
:class:`~reviewbook.errors.InputError` listing *every* problem, each with file,
line, column, the value found and what was expected.  Warnings (legal but
suspicious values) are kept in ``Package.warnings``.  :func:`write` writes a
package in the same layout; ``read(write(p)) == p``.
"""
from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from .names import escaped, name_problem, study_key
from .schema import (CI_METHODS, DATA_ROW_NUMERIC, DATA_TYPES, ESTIMATORS, FILES, ID_PATTERN, ID_RULE,
                     MAX_ANALYSIS_NUMBER, MAX_ZIP_BYTES, MAX_ZIP_MEMBERS, MAX_ZIP_RATIO, MEASURE_CODES, METHODS,
                     MODELS, OVERALL_NUMERIC, OVERALL_REQUIRED, REQUIRED_FILES, RIS_KINDS, SUBGROUP_COLUMNS,
                     SUBGROUP_NUMERIC, ZIP_RATIO_FROM, Package, analysis_id, parse_number, MAX_ANALYSES,
                     MAX_NAME_CHARS, MAX_STUDY_CHARS)
from .tabular import Cells, _shown, decode, kind_of, read_bytes, read_csv_text, size_text


# ------------------------------------------------------------------ locating files

#: Names the reader opens inside a package (everything else is never read).
_READ_SUFFIXES = (".csv", ".ris", ".zip")
#: Most entries looked at in a package folder (a package has a dozen).
MAX_FOLDER_ENTRIES = 100_000


class _Workdir:
    """A package on disk (a folder or a safely extracted zip); cleans up after itself.

    ``budget`` is what is left of :data:`~.schema.MAX_ZIP_BYTES` for every zip
    extracted for one package (nested zips share it)."""

    def __init__(self):
        self.tmp = None
        self.budget = [MAX_ZIP_BYTES]

    def extract(self, zpath: Path, problems, display=None) -> Path | None:
        if self.tmp is None:
            self.tmp = Path(tempfile.mkdtemp(prefix="reviewbook-pkg-"))
        target = self.tmp / f"z{len(list(self.tmp.iterdir()))}"
        target.mkdir()
        try:
            safe_extract(zpath, target, budget=self.budget, display=display)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
        return target

    def close(self):
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)


def safe_extract(zpath: Path, target: Path, *, budget=None, display=None) -> None:
    """Extract ``zpath`` into ``target`` as regular files, streaming and bounded.

    Refused (:class:`InputError` naming the zip and the member): a member path
    that would escape ``target`` (absolute, ``..``), a symbolic-link member, a
    member named twice, more than :data:`~.schema.MAX_ZIP_MEMBERS` members, more
    than :data:`~.schema.MAX_ZIP_BYTES` uncompressed bytes in all (``budget``, a
    one-item list, is shared by nested zips), or a member larger than
    :data:`~.schema.ZIP_RATIO_FROM` that expands more than
    :data:`~.schema.MAX_ZIP_RATIO` times.  Sizes are counted on the bytes
    actually decompressed, not on the sizes the archive declares, and
    extraction stops before writing past a limit.
    """
    name = display or zpath.name
    budget = [MAX_ZIP_BYTES] if budget is None else budget

    def refuse(found, expected):
        return InputError([Problem(name, None, None, found, expected)])

    try:
        zf = zipfile.ZipFile(zpath)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise refuse(f"a file that is not a readable zip ({exc})", "a zip archive (a Cochrane data package)") from None
    with zf:
        root = target.resolve()
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise refuse(f"{len(infos):,} members", f"a package zip of at most {MAX_ZIP_MEMBERS:,} members")
        seen, declared = set(), 0
        for info in infos:
            p = PurePosixPath(info.filename.replace("\\", "/"))
            dest = (root / Path(*p.parts)).resolve() if p.parts else root
            if p.is_absolute() or ".." in p.parts or (dest != root and root not in dest.parents):
                raise refuse(f"the member path '{_shown(info.filename)}'",
                             "paths inside the package folder (no '..' or absolute paths)")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise refuse(f"the member '{_shown(info.filename)}', a symbolic link",
                             "regular files only (links are not followed)")
            if info.file_size > ZIP_RATIO_FROM and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
                raise refuse(f"the member '{_shown(info.filename)}' declaring {size_text(info.file_size)} from "
                             f"{size_text(info.compress_size)}",
                             f"members that expand at most {MAX_ZIP_RATIO} times (a zip bomb is refused)")
            declared += info.file_size
            if declared > budget[0]:
                raise refuse(f"more than {size_text(MAX_ZIP_BYTES)} uncompressed (declared in its directory)",
                             f"a package of at most {size_text(MAX_ZIP_BYTES)} uncompressed")
            key = str(p).rstrip("/")
            if not info.is_dir():
                if key in seen:
                    raise refuse(f"the member '{_shown(info.filename)}' twice", "each member once")
                seen.add(key)
        try:
            for info in infos:
                p = PurePosixPath(info.filename.replace("\\", "/"))
                if info.is_dir() or not p.parts:
                    continue
                dest = root / Path(*p.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                written = 0
                ratio_base = max(info.compress_size, 1)
                with zf.open(info) as src, open(dest, "xb") as out:
                    while True:
                        chunk = src.read(1 << 20)
                        if not chunk:
                            break
                        written += len(chunk)
                        if len(chunk) > budget[0]:
                            raise refuse(f"more than {size_text(MAX_ZIP_BYTES)} uncompressed (stopped at member "
                                         f"'{_shown(info.filename)}')",
                                         f"a package of at most {size_text(MAX_ZIP_BYTES)} uncompressed")
                        if written > ZIP_RATIO_FROM and written > MAX_ZIP_RATIO * ratio_base:
                            raise refuse(f"the member '{_shown(info.filename)}' expanding more than "
                                         f"{MAX_ZIP_RATIO} times its compressed size ({size_text(info.compress_size)})",
                                         f"members that expand at most {MAX_ZIP_RATIO} times (a zip bomb is refused)")
                        budget[0] -= len(chunk)
                        out.write(chunk)
        except InputError:
            raise
        except RuntimeError as exc:  # encrypted member
            raise refuse(f"a member that cannot be extracted ({exc})", "an unencrypted zip archive") from None
        except NotImplementedError as exc:
            raise refuse(f"a member compressed by an unsupported method ({exc})",
                         "a zip archive compressed with deflate (or stored)") from None
        except (zipfile.BadZipFile, OSError, EOFError, zipfile.LargeZipFile, ValueError) as exc:
            raise refuse(f"a corrupt or truncated zip ({exc.__class__.__name__}: {exc})",
                         "a complete zip archive") from None


def _scan(root: Path, display: str, problems) -> list[Path]:
    """The regular files under ``root`` (sorted), found without following links.

    An entry the reader would open (a ``.csv``, ``.ris`` or ``.zip`` name, or a
    folder) that is a symbolic link, named pipe, device or socket is a problem
    naming its path; other entries are never opened and are ignored."""
    files: list[Path] = []
    count = 0

    def onerror(exc):
        problems.append(Problem(display, None, None, f"a folder that cannot be read ({exc.strerror})",
                                "a readable package folder"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror, followlinks=False):
        count += len(dirnames) + len(filenames)
        if count > MAX_FOLDER_ENTRIES:
            problems.append(Problem(display, None, None, f"a folder of more than {MAX_FOLDER_ENTRIES:,} entries",
                                    "a package folder (a few files)"))
            return []
        here = Path(dirpath)
        for d in list(dirnames):
            if os.path.islink(here / d):
                dirnames.remove(d)
                problems.append(_not_regular(root, here / d, display, "a folder"))
        dirnames.sort()
        for f in sorted(filenames):
            p = here / f
            try:
                mode = os.lstat(p).st_mode
            except OSError:
                continue
            if stat.S_ISREG(mode):
                files.append(p)
            elif f.lower().endswith(_READ_SUFFIXES):
                problems.append(_not_regular(root, p, display, "a file"))
    return sorted(files)


def _not_regular(root: Path, p: Path, display: str, kind: str) -> Problem:
    rel = p.relative_to(root).as_posix()
    found = kind_of(os.lstat(p).st_mode)
    if found == "a symbolic link":
        found = f"a symbolic link (to '{_shown(os.readlink(p), 60)}')"
    return Problem(f"{display}/{rel}" if display else rel, None, None, found,
                   f"{kind} inside the package: regular files only (links are not followed; "
                   "pipes and devices are not read)")


def _find(files, suffix: str):
    return [p for p in files if p.name.endswith(f"-{suffix}")]


def _locate(path: Path, work: _Workdir, problems):
    """Find the folder holding the package's CSV files; returns (folder, id, files) or (None, None, None)."""
    display = path.name
    none = (None, None, None)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        problems.append(Problem(display, None, None, f"a path that cannot be read ({exc.strerror})",
                                "a Cochrane data package (zip or folder) or a RevMan 5 CSV"))
        return none
    if mode is not None and stat.S_ISREG(mode) and path.suffix.lower() == ".zip":
        root = work.extract(path, problems)
        if root is None:
            return none
        shown = display
    elif mode is not None and stat.S_ISDIR(mode):
        root = path
        shown = display
    else:
        what = ("no such file or folder" if mode is None else kind_of(mode) or
                f"a file that is neither a zip nor a CSV ('{path.suffix or 'no suffix'}')")
        problems.append(Problem(display, None, None, what,
                                "a Cochrane data package (zip or folder) or a RevMan 5 CSV"))
        return none
    files = _scan(root, shown, problems)
    if any(p.severity == "error" for p in problems):
        return none
    for _ in range(3):  # nested <ID>-files/<ID>-data.zip exports
        if _find(files, "data-rows.csv"):
            break
        inner = [p for p in files if p.suffix.lower() == ".zip"]
        if not inner:
            break
        new = work.extract(inner[0], problems, display=f"{shown}/{inner[0].relative_to(root).as_posix()}")
        if new is None:
            return none
        shown = f"{shown}/{inner[0].relative_to(root).as_posix()}"
        root = new
        files = _scan(root, shown, problems)
    rows = _find(files, "data-rows.csv")
    if not rows:
        problems.append(Problem(display, None, None, "no '<ID>-data-rows.csv' inside",
                                "the files of a Cochrane data package (<ID>-analysis-data/<ID>-data-rows.csv, ...)"))
        return none
    if len(rows) > 1:
        problems.append(Problem(display, None, None, f"{len(rows)} data-rows files",
                                "one package (one <ID>-data-rows.csv)"))
        return none
    pkg_id = rows[0].name[: -len("-data-rows.csv")]
    if not ID_PATTERN.fullmatch(pkg_id):
        problems.append(Problem(rows[0].name if len(rows[0].name) < 80 else _shown(rows[0].name, 80), None, None,
                                f"the package id '{_shown(pkg_id, 60)}' (the file name before '-data-rows.csv')",
                                f"{ID_RULE} (the id names files and folders)"))
        return none
    folder = rows[0].parent.parent
    return folder, pkg_id, [p for p in files if folder in p.parents]


# ------------------------------------------------------------------ reading

#: Analysis group and analysis numbers: whole numbers from 1 to :data:`~.schema.MAX_ANALYSIS_NUMBER`.
ANALYSIS_NUMBER_BOUNDS = {"integer": True, "minimum": 1, "maximum": MAX_ANALYSIS_NUMBER}


def _typed_frame(header, rows, numeric, file, problems, required_numeric=()):
    data = {c: [] for c in header}
    lines, bad = [], set()
    for line, row in rows:
        cells = Cells(file, line, row, problems)
        lines.append(line)
        for c in header:
            if c in numeric:
                before = len(problems)
                bounds = ANALYSIS_NUMBER_BOUNDS if c in ("Analysis group", "Analysis number") else {}
                data[c].append(cells.number(c, required=c in required_numeric, blank_as=np.nan, **bounds)
                               if cells.text(c) != "" or c in required_numeric else np.nan)
                if len(problems) > before:
                    bad.add((line, c))
            else:
                data[c].append(cells.text(c))
    for c in numeric:
        if c in data:
            data[c] = [np.nan if v is None else float(v) for v in data[c]]
    frame = pd.DataFrame(data, columns=header)
    frame.attrs["lines"] = lines
    frame.attrs["file"] = file
    frame.attrs["bad"] = bad  # cells already reported as unreadable
    return frame


def _read_text(path: Path, problems, *, lenient=False) -> str | None:
    """The text of a regular file of the package (never a link, pipe or device;
    bounded), or None with the problem recorded.  ``lenient``: bytes that are not
    UTF-8 are replaced (reference lists, which are shown only as text)."""
    try:
        data = read_bytes(path, "a file of the package", follow=False)
        return data.decode("utf-8", errors="replace").lstrip("\ufeff") if lenient else decode(data, path.name)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _parse(path: Path, problems, *, allow_empty=True):
    """``(header, rows)`` of a CSV file of the package, or None with the problems recorded."""
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        return read_csv_text(text, path.name, allow_empty=allow_empty)
    except InputError as exc:
        problems.extend(exc.problems)
        return None


def _read_file(files, folder: Path, pkg_id: str, key: str, problems):
    sub, suffix = FILES[key]
    path = folder / f"{pkg_id}-{sub}" / f"{pkg_id}-{suffix}"
    if path not in files:
        hits = _find(files, suffix)
        path = hits[0] if hits else None
    if path is None:
        if key in REQUIRED_FILES:
            problems.append(Problem(f"{pkg_id}-{suffix}", None, None, "a missing file",
                                    f"{pkg_id}-{sub}/{pkg_id}-{suffix}"))
        return None, None
    parsed = _parse(path, problems, allow_empty=key not in REQUIRED_FILES)
    return (path.name, parsed) if parsed is not None else (None, None)


def read(path, *, strict=True) -> Package:
    """Read and validate a package; see the module docstring.

    Only regular files inside the package folder (or extracted from its zip)
    are read: see :func:`_scan` and :func:`safe_extract` for what is refused.
    Raises :class:`InputError` with every problem found (unless ``strict`` is
    false, in which case errors are returned in ``warnings`` too; used only by
    tests that inspect partial packages).
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        from .revman5 import read_revman5  # lazily: most packages are not RevMan 5 CSVs

        return read_revman5(path)
    problems: list[Problem] = []
    work = _Workdir()
    try:
        folder, pkg_id, files = _locate(path, work, problems)
        if folder is None:
            raise InputError(problems)
        tables = {}
        for key in FILES:
            name, parsed = _read_file(files, folder, pkg_id, key, problems)
            tables[key] = (name, parsed)
        references = {}
        for kind in RIS_KINDS:
            hits = _find(files, f"{kind}.ris")
            if hits:
                text = _read_text(hits[0], problems, lenient=True)
                if text is not None:
                    references[kind] = parse_ris(text)
        extra = {}
        study_dir = folder / f"{pkg_id}-study-data"
        known = {FILES[k][1] for k in FILES}
        extra_files = [(f"study-data/{p.name[len(pkg_id) + 1:]}", p) for p in files
                       if p.parent == study_dir and p.name.startswith(f"{pkg_id}-") and p.suffix == ".csv"
                       and p.name[len(pkg_id) + 1:] not in known]
        extra_files += [(p.name, p) for p in files if p.parent == folder and p.suffix == ".csv"]  # study-flow.csv
        for key, p in extra_files:
            parsed = _parse(p, problems)
            if parsed is not None:
                hdr, rows = parsed
                extra[key] = pd.DataFrame([[r.get(h, "") for h in hdr] for _, r in rows], columns=hdr)
        pkg = _build(pkg_id, tables, references, extra, problems)
    finally:
        work.close()
    errors = [p for p in problems if p.severity == "error"]
    if errors and strict:
        raise InputError(errors)
    return pkg


def _missing_columns(name, header, required, problems):
    missing = [c for c in required if c not in header]
    for c in missing:
        problems.append(Problem(name, 1, c, "no such column", f"a column '{c}'"))
    return not missing


def _build(pkg_id, tables, references, extra, problems) -> Package:
    empty = pd.DataFrame()
    # overall estimates and settings
    name, parsed = tables["overall"]
    analyses = empty
    if parsed is not None:
        header, rows = parsed
        if _missing_columns(name, header, OVERALL_REQUIRED, problems):
            analyses = _typed_frame(header, rows, [c for c in OVERALL_NUMERIC if c in header], name,
                                    problems, required_numeric=("Analysis group", "Analysis number"))
            _validate_analyses(analyses, name, problems)
            analyses = _without_unnumbered(analyses)
    # data rows
    name_r, parsed = tables["rows"]
    data_rows = empty
    if parsed is not None:
        header, rows = parsed
        need = ["Analysis group", "Analysis number", "Study"] + [
            c for c in DATA_ROW_NUMERIC if c not in ("Weight", "Mean", "CI start", "CI end")]
        if _missing_columns(name_r, header, need, problems):
            numeric = ["Analysis group", "Analysis number"] + [c for c in DATA_ROW_NUMERIC if c in header]
            data_rows = _typed_frame(header, rows, numeric,
                                     name_r, problems, required_numeric=("Analysis group", "Analysis number"))
            if not analyses.empty or parsed:
                _validate_rows(data_rows, analyses, name_r, problems)
    # subgroup estimates
    name_s, parsed = tables["subgroups"]
    subgroups = empty
    if parsed is not None:
        header, rows = parsed
        if header and _missing_columns(name_s, header, ["Analysis group", "Analysis number", "Subgroup"], problems):
            subgroups = _typed_frame(header, rows, [c for c in SUBGROUP_NUMERIC if c in header], name_s,
                                     problems, required_numeric=("Analysis group", "Analysis number"))
            declared = _declared(analyses)
            for line, g, n in zip(subgroups.attrs["lines"], subgroups["Analysis group"],
                                  subgroups["Analysis number"]):
                if declared is not None and not (np.isnan(g) or np.isnan(n)) and (g, n) not in declared:
                    problems.append(Problem(name_s, line, "Analysis number",
                                            f"analysis {analysis_id(g, n)}",
                                            "an analysis declared in overall-estimates-and-settings.csv"))
    # study information and risk of bias: text tables
    frames = {}
    for key in ("studies", "rob"):
        nm, parsed = tables[key]
        if parsed is None:
            frames[key] = empty
            continue
        header, rows = parsed
        if header and "Study" not in header:
            problems.append(Problem(nm, 1, "Study", "no such column", "a column 'Study'"))
        frames[key] = pd.DataFrame([[r.get(h, "") for h in header] for _, r in rows], columns=header)
    for f in (analyses, data_rows, subgroups):
        f.attrs.clear()
    return Package(pkg_id, analyses, data_rows, subgroups, frames["studies"], frames["rob"],
                   references, extra, tuple(p for p in problems if p.severity == "warning"))


def _without_unnumbered(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` without the rows whose analysis group or number could not be read
    (each already reported), so that later checks never meet a missing id."""
    ok = ~(frame["Analysis group"].isna() | frame["Analysis number"].isna()).to_numpy()
    if ok.all():
        return frame
    kept = frame[ok].reset_index(drop=True)
    kept.attrs = dict(frame.attrs, lines=[ln for ln, k in zip(frame.attrs["lines"], ok) if k])
    return kept


def _declared(analyses):
    if analyses.empty:
        return None
    return set(zip(analyses["Analysis group"], analyses["Analysis number"]))


def _validate_analyses(a: pd.DataFrame, name, problems):
    lines = a.attrs["lines"]
    seen = {}
    for i, line in enumerate(lines):
        row = a.iloc[i]
        key = (row["Analysis group"], row["Analysis number"])
        if key in seen:
            problems.append(Problem(name, line, "Analysis number", f"analysis {analysis_id(*key)} again",
                                    f"each analysis once (first on line {seen[key]})"))
        seen.setdefault(key, line)
        checks = [("Data type", DATA_TYPES), ("Statistical method", METHODS), ("Analysis model", MODELS)]
        for col, allowed in checks:
            if str(row[col]).strip() not in allowed:
                problems.append(Problem(name, line, col, f"'{row[col]}'", "one of " + ", ".join(allowed)))
        if str(row["Effect measure"]).strip() not in MEASURE_CODES:
            problems.append(Problem(name, line, "Effect measure", f"'{row['Effect measure']}'",
                                    "one of " + ", ".join(MEASURE_CODES)))
        if "Direction of benefit" in a.columns and str(row["Direction of benefit"]).strip().lower() not in (
                "", "lower", "higher", "nan"):
            problems.append(Problem(name, line, "Direction of benefit", f"'{row['Direction of benefit']}'",
                                    "lower, higher or blank (which way benefit lies on the outcome's scale)"))
        for col, allowed in (("Heterogeneity estimator", ESTIMATORS), ("CI method", CI_METHODS)):
            if col in a.columns and str(row[col]).strip() not in allowed:
                problems.append(Problem(name, line, col, f"'{row[col]}'",
                                        "one of " + ", ".join(x for x in allowed if x) + " or blank"))


#: Stored per-study result columns: RevMan's own result for a row.
STORED_COLUMNS = ("Mean", "CI start", "CI end", "Weight")


def stored_result_mask(r: pd.DataFrame) -> np.ndarray:
    """Per row, whether RevMan stored a result for it (a non-zero ``Mean``, CI
    limit or ``Weight``; RevMan writes blank or 0 for a study it did not compute)."""
    out = np.zeros(len(r), dtype=bool)
    for c in STORED_COLUMNS:
        if c in r.columns:
            v = np.asarray(r[c], dtype=float)
            out |= (v == v) & (v != 0)
    return out


def _validate_rows(r: pd.DataFrame, analyses: pd.DataFrame, name, problems):
    validate_rows(r, analyses, name, problems)


def validate_rows(r: pd.DataFrame, analyses: pd.DataFrame, name, problems, *, lines=None, columns=None):
    """Check data rows against their analyses' data types; the one validator of
    data rows, shared by the package reader (``audit``, ``book``) and
    ``import-rows``, so that a package one writes the other accepts.

    ``lines``: the file line of each row (default ``r.attrs["lines"]``);
    ``columns``: the file's own header of each RevMan column (default: RevMan's
    names), so that every problem names the line and column of the file read.

    The rule (README, fault table):

    * invalid whatever the row: a negative count, SD, SE or variance, a count
      that is not a whole number, an empty study name;
    * a row that cannot give a result (the engine's reasons,
      :mod:`reviewbook.engine.effects`: no numbers, SD 0, SE 0, V 0, no
      participants, events above N, a blank in a field its data type uses) is
      legal and *not estimable*, as RevMan shows it; where RevMan stored a result
      for that row anyway, the audit reports the disagreement
      (``not-estimable-here``), except for counts that are invalid for the data
      type (N of 0 in an arm, events above N) and blanks: errors;
    * events above N, or a blank in a field the data type uses, are errors as well
      in a package whose rows carry no stored per-study result at all (our own
      extraction: a missing number is never read as 0), and allowed only in
      RevMan's packages, for a row RevMan left without a result;
    * a field the row's data type does not use is not checked (RevMan exports
      descriptive counts beside O-E data, or events above N in a generic inverse
      variance row).
    """
    from ..engine import effects as fx

    lines = list(r.attrs["lines"] if lines is None else lines)
    col = (lambda c: c) if columns is None else (lambda c: columns.get(c, c))  # noqa: E731
    declared = _declared(analyses)
    types = {}
    if not analyses.empty:
        types = {(g, n): str(t).strip() for g, n, t in zip(analyses["Analysis group"], analyses["Analysis number"],
                                                           analyses["Data type"])}
    stored = stored_result_mask(r)
    revman = bool(stored.any())  # RevMan's rows: a blank or events > N row is one it left uncomputed
    seen = {}
    spelling = {}  # study_key -> (first spelling, its line)
    counts = {}
    bad = r.attrs.get("bad", set())
    n_before = len(problems)

    def num(row, c):
        return float(row[c]) if c in row else float("nan")

    # plain lists, read once: a row of a DataFrame would copy the frame's attrs each time
    columns_of = {c: r[c].tolist() for c in r.columns}
    for i, line in enumerate(lines):
        row = {c: v[i] for c, v in columns_of.items()}
        g, n = row["Analysis group"], row["Analysis number"]
        if np.isnan(g) or np.isnan(n):
            continue
        key = (g, n)
        counts[key] = counts.get(key, 0) + 1
        if declared is not None and key not in declared:
            problems.append(Problem(name, line, col("Analysis number"), f"analysis {analysis_id(g, n)}",
                                    "an analysis declared in overall-estimates-and-settings.csv"))
        study = str(row["Study"]).strip()
        if not study:
            problems.append(Problem(name, line, col("Study"), "an empty cell", "a study name"))
        for c in ("Study", "Subgroup", "Analysis name"):
            text = row[c] if c in row and isinstance(row[c], str) else ""
            bad_name = name_problem(text, what="a study name" if c == "Study" else f"a {c.lower()}",
                                    spaces_allowed=c != "Study")
            if bad_name:
                problems.append(Problem(name, line, col(c), *bad_name))
            limit = MAX_STUDY_CHARS if c == "Study" else MAX_NAME_CHARS
            if len(text.strip()) > limit:
                problems.append(Problem(name, line, col(c), f"a name of {len(text.strip()):,} characters "
                                        f"('{_shown(text.strip())}')", f"a name of at most {limit:,} characters"))
        # one study, one spelling (RevMan keeps one study per name in a review): names
        # equal under study_key but spelled differently are look-alikes
        skey = study_key(study)
        first = spelling.setdefault(skey, (study, line))
        if study and first[0] != study:
            problems.append(Problem(
                name, line, col("Study"),
                f"'{escaped(study)}', a look-alike of the study '{escaped(first[0])}' (line {first[1]})",
                "one spelling per study: names that differ only in case, spaces, Unicode form or invisible "
                "characters are one study (write it as on the first line)"))
        # the same study may appear twice in one analysis (separate participant
        # groups or arms): legal, and rows are keyed by row; a row identical to
        # an earlier one in every field is most likely entered twice
        dkey = (g, n, str(row.get("Subgroup", "")), study,
                tuple(repr(row[c]) for c in DATA_ROW_NUMERIC if c in r.columns))
        if dkey in seen:
            problems.append(Problem(name, line, col("Study"), f"'{study}' again in analysis {analysis_id(g, n)}, "
                                    f"identical to line {seen[dkey]}",
                                    "a row that differs from the study's other rows (a row entered twice?)",
                                    severity="warning"))
        seen.setdefault(dkey, line)
        dtype = types.get(key)
        # may a row that gives no result be not estimable (True), or is it an error?
        lenient = not stored[i]
        strict_missing = stored[i] or not revman

        def negative(c, integer=False):
            v = num(row, c)
            if v == v and v < 0:
                problems.append(Problem(name, line, col(c), f"'{v:g}'", "a number >= 0"))
                return True
            if integer and v == v and v != int(v):
                problems.append(Problem(name, line, col(c), f"'{v:g}'", "a whole number"))
                return True
            return False

        def blank(c, expected="a number"):
            if strict_missing and np.isnan(num(row, c)):
                problems.append(Problem(name, line, col(c), "an empty cell", expected))

        def no_data(fields, expected):
            """A row with no number: not estimable, unless RevMan stored a result for it, or
            its fields are blank in our own data (a missing number is never read as 0)."""
            if strict_missing and any(np.isnan(num(row, c)) for c in fields):
                problems.append(Problem(name, line, col(fields[0]), "an empty cell",
                                        f"a number (no data field of this row has one: {expected})"))

        if dtype == "Dichotomous":
            if any([negative(f"{a} {f}", integer=True) for a in ("Experimental", "Control") for f in ("cases", "N")]):
                continue
            vals = [num(row, c) for c in ("Experimental cases", "Experimental N", "Control cases", "Control N")]
            reason = fx.dichotomous_reasons(*([v] for v in vals))[0]
            if reason == fx.NO_DATA:
                no_data(("Experimental N", "Experimental cases", "Control N", "Control cases"), "events and totals")
            elif reason == fx.NO_PARTICIPANTS:
                for arm in ("Experimental", "Control"):
                    v = num(row, f"{arm} N")
                    if v != v:
                        blank(f"{arm} N")
                    elif v <= 0 and not lenient:
                        problems.append(Problem(name, line, col(f"{arm} N"), f"'{v:g}'", "a number > 0"))
            elif reason == fx.MISSING_EVENTS:
                for arm in ("Experimental", "Control"):
                    blank(f"{arm} cases")
            elif reason == fx.EVENTS_ABOVE_N and strict_missing:
                for arm in ("Experimental", "Control"):
                    ev, tot = num(row, f"{arm} cases"), num(row, f"{arm} N")
                    if ev > tot:
                        problems.append(Problem(name, line, col(f"{arm} cases"), f"{ev:g} events",
                                                f"at most {arm} N = {tot:g}"))
        elif dtype == "Continuous":
            if any([negative("Experimental N", True), negative("Control N", True), negative("Experimental SD"),
                    negative("Control SD")]):
                continue
            vals = [num(row, c) for c in ("Experimental N", "Experimental mean", "Experimental SD", "Control N",
                                          "Control mean", "Control SD")]
            reason = fx.continuous_reasons(*([v] for v in vals))[0]
            if reason == fx.NO_DATA:
                no_data(("Experimental N", "Experimental mean", "Experimental SD", "Control N", "Control mean",
                         "Control SD"), "means, SDs and totals")
            elif reason == fx.NO_PARTICIPANTS:
                for arm in ("Experimental", "Control"):
                    v = num(row, f"{arm} N")
                    if v != v:
                        blank(f"{arm} N")
                    elif v <= 0 and not lenient:
                        problems.append(Problem(name, line, col(f"{arm} N"), f"'{v:g}'", "a number > 0"))
            elif reason == fx.MISSING_MEAN_SD:
                for arm in ("Experimental", "Control"):
                    blank(f"{arm} mean")
                    blank(f"{arm} SD", "a number >= 0")
        elif dtype in ("Contrast level", "Generic inverse variance"):
            if negative("GIV SE"):
                continue
            yi, se = num(row, "GIV Mean"), num(row, "GIV SE")
            reason = fx.generic_reasons([yi], [se])[0]
            if reason == fx.NO_DATA:
                no_data(("GIV SE", "GIV Mean"), "GIV Mean and GIV SE")
            elif reason == fx.NO_SE and se != se:
                blank("GIV SE", "a number > 0")
            elif reason == fx.MISSING_ESTIMATE:
                blank("GIV Mean")
        elif dtype == "O-E and variance":
            if negative("Variance"):
                continue
            oe, v = num(row, "O-E"), num(row, "Variance")
            reason = fx.oe_reasons([oe], [v])[0]
            if reason == fx.NO_DATA:
                no_data(("Variance", "O-E"), "O-E and Variance")
            elif reason == fx.MISSING_OE:
                blank("O-E")
                blank("Variance", "a number >= 0")
    # a cell that could not be read was reported already: drop follow-on reports
    problems[n_before:] = [p for p in problems[n_before:] if (p.line, p.column) not in bad]
    if len(counts) > MAX_ANALYSES:
        problems.append(Problem(name, None, col("Analysis number"), f"{len(counts):,} analyses",
                                f"at most {MAX_ANALYSES:,} analyses in one package"))
    if not analyses.empty:
        for g, n in zip(analyses["Analysis group"], analyses["Analysis number"]):
            if (g, n) not in counts:
                problems.append(Problem("overall-estimates-and-settings.csv", None, None,
                                        f"analysis {analysis_id(g, n)} with no data rows",
                                        "at least one study per analysis", severity="warning"))


# ------------------------------------------------------------------ RIS

def parse_ris(text: str):
    """RIS records as a list of dicts tag -> list of values (no evaluation)."""
    text = text.lstrip("\ufeff")
    records, cur = [], {}
    for line in text.splitlines():
        m = re.match(r"^([A-Z][A-Z0-9])  - ?(.*)$", line)
        if not m:
            continue
        tag, value = m.group(1), m.group(2).strip()
        if tag == "ER":
            records.append(cur)
            cur = {}
        else:
            cur.setdefault(tag, []).append(value)
    if cur:
        records.append(cur)
    return records


def format_ris(records) -> str:
    out = []
    for rec in records:
        for tag, values in rec.items():
            for v in values:
                out.append(f"{tag}  - {v}")
        out.append("ER  - ")
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------ writing

def _fmt(v, integer=False):
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if integer and v == int(v):
            return str(int(v))
        return repr(v)
    return str(v)


INTEGER_COLUMNS = {"Analysis group", "Analysis number", "Subgroup number", "Experimental cases",
                   "Experimental N", "Control cases", "Control N", "Heterogeneity df", "Subgroup df"}


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
#: Injection"): equals, plus, minus, at, tab, carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_number(text: str) -> bool:
    return parse_number(text) is not None


def spreadsheet_safe(text: str) -> str:
    """``text`` as a spreadsheet will show it, never run it: a cell that starts
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is not a
    number gets a leading single quote (OWASP's CSV-injection rule), so
    ``=HYPERLINK(...)`` is exported as ``'=HYPERLINK(...)``; ``-0.5`` stays a number."""
    if text.startswith(FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _csv_text(frame: pd.DataFrame, *, guard: bool = False) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cell = spreadsheet_safe if guard else (lambda v: v)
    w.writerow([cell(str(c)) for c in frame.columns])
    for row in frame.itertuples(index=False):
        w.writerow([cell(_fmt(v, c in INTEGER_COLUMNS)) for c, v in zip(frame.columns, row)])
    return "\ufeff" + buf.getvalue()


def write(pkg: Package, folder, *, spreadsheet: bool = False) -> Path:
    """Write ``pkg`` as a package folder ``folder`` (created; must not exist or be empty).

    ``spreadsheet``: every CSV cell passes through :func:`spreadsheet_safe`
    (the copy offered for download; the book never reads such a copy)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    ad = folder / f"{pkg.id}-analysis-data"
    sd = folder / f"{pkg.id}-study-data"
    ad.mkdir(exist_ok=True)
    sd.mkdir(exist_ok=True)
    files = {
        ad / f"{pkg.id}-overall-estimates-and-settings.csv": pkg.analyses,
        ad / f"{pkg.id}-data-rows.csv": pkg.rows,
        ad / f"{pkg.id}-subgroup-estimates.csv": pkg.subgroup_estimates
        if not pkg.subgroup_estimates.empty else pd.DataFrame(columns=SUBGROUP_COLUMNS),
        sd / f"{pkg.id}-study-information.csv": pkg.studies,
        sd / f"{pkg.id}-risk-of-bias.csv": pkg.risk_of_bias,
    }
    for key, frame in pkg.extra.items():
        if key.startswith("study-data/"):
            files[sd / f"{pkg.id}-{key.split('/', 1)[1]}"] = frame
        else:
            files[folder / key] = frame
    for path, frame in files.items():
        path.write_text(_csv_text(frame, guard=spreadsheet), encoding="utf-8", newline="")
    for kind, records in pkg.references.items():
        (sd / f"{pkg.id}-{kind}.ris").write_text("\ufeff" + format_ris(records), encoding="utf-8")
    return folder


def write_zip(pkg: Package, zpath, *, spreadsheet: bool = False) -> Path:
    """Write ``pkg`` as a zip file (deterministic: fixed timestamps, sorted members);
    ``spreadsheet`` as in :func:`write`."""
    zpath = Path(zpath)
    with tempfile.TemporaryDirectory() as d:
        write(pkg, d, spreadsheet=spreadsheet)
        with zipfile.ZipFile(zpath, "w", zipfile.ZIP_DEFLATED) as zf:
            for p in sorted(Path(d).rglob("*")):
                if p.is_file():
                    info = zipfile.ZipInfo(str(p.relative_to(d)).replace(os.sep, "/"),
                                           date_time=(1980, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_DEFLATED
                    zf.writestr(info, p.read_bytes())
    return zpath
