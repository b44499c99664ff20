"""``reviewbook import-rows``: a complete package from a table of data rows.

    python -m reviewbook import-rows ROWS.csv OUT_DIR [--id ID] [--groups GROUPS.csv]

Reads the rows (:mod:`.rows`), infers every analysis's settings from RevMan's
stored per-study results (:mod:`.infer`) and writes ``OUT_DIR`` as a package
folder that every other command reads:

* ``<ID>-analysis-data/``: the data rows with RevMan's headers (unused numeric
  fields 0.0, as RevMan writes them; the review's footnotes are not copied,
  only what kind of note each row had, in our words, see
  :data:`FOOTNOTE_KINDS`); ``overall-estimates-and-settings.csv`` with the
  inferred settings and the stored pooled results blank; the subgroup
  estimates (subgroup names and totals, stored results blank);
* ``<ID>-study-data/``: study information (study, year) and the risk of bias
  from the RoB 2 judgement columns, one row per data row ("Not reported"
  where a row carries no judgement; the support texts are not copied);
* ``settings-inferred.csv``: one row per analysis, ``analysis, data_type,
  measure, method, model, estimator, weights_rule, status, candidates,
  max_abs_diff_estimate, max_abs_diff_weight``, and ``settings-evidence.csv``
  with the evidence for each;
* ``provenance.csv``: one row per value (analysis, study row, column, value,
  and the file, line and column it was read from);
* ``review.csv`` (``field, value, source``) where the rows name the review they
  are from (``review_doi``, ``review_url``): the book cites the review by it.

The rows are checked by the validator the package reader uses
(:func:`.datapackage.validate_rows`), so that ``audit`` accepts every package
``import-rows`` writes: rows RevMan could not compute (SD 0, SE 0, no numbers,
events above N where RevMan stored no result, ...) are imported and shown not
estimable, with the reason; an analysis with no numbers at all is imported with
every study not estimable.  A blank in a field the analysis's data type uses is
written blank, never 0.  Subgroups that share a name are told apart
(:func:`subgroup_labels`).

``--groups`` names the comparisons (``Analysis group, Analysis group name,
Experimental group label, Control group label``; extra columns ignored).
Exit codes: 0 on success, 2 on invalid input (file, line, column, the value
found and what was expected).
"""
from __future__ import annotations

import csv
import io
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, Problem
from . import infer as inf
from .analysis import row_labels
from .datapackage import validate_rows, write
from .names import name_problem
from .rows import make_names, read_rows_table
from .schema import (DATA_ROW_COLUMNS, MEASURE_NAMES, OVERALL_COLUMNS_OLD, OVERALL_NEW_EXTRA,
                     SMD_FORMULAS, SUBGROUP_COLUMNS, Package)
from .tabular import Cells, kind_of, read_csv_text, read_utf8

SETTINGS_COLUMNS = ["analysis", "data_type", "measure", "method", "model", "estimator", "weights_rule",
                    "status", "candidates", "max_abs_diff_estimate", "max_abs_diff_weight"]
GROUP_COLUMNS = ["Analysis group", "Analysis group name", "Experimental group label", "Control group label"]
STORED = ("Mean", "CI start", "CI end", "Weight")
ROB_DOMAINS_ORDER = ("randomization", "deviations", "missing", "measurement", "selection", "overall")

#: What kind of note a row's footnote is, in our words (first match wins).
#: The review's footnote text itself is never copied.
FOOTNOTE_KINDS = (
    (r"software|digiti[sz]|from (a |the )?(figure|graph|plot)|read (off|from)", "value read off a figure with software"),
    (r"(first|1st) (phase|period)|cross-?over", "first-period data of a crossover trial from the study authors"),
    (r"provided by|supplied by|personal communication|unpublished|contacted|on request",
     "unpublished data from the study authors"),
    (r"only|separately|subset", "only part of the reported events or participants counted"),
)
FOOTNOTE_OTHER = "the review gives a note on this row (not copied)"


def footnote_kind(text: str) -> str:
    """Our one-line category for a footnote of the review ('' when there is none)."""
    t = (text or "").strip()
    if not t:
        return ""
    for pattern, kind in FOOTNOTE_KINDS:
        if re.search(pattern, t, re.I):
            return kind
    return FOOTNOTE_OTHER


@dataclass(frozen=True)
class ImportResult:
    package: Package
    inference: dict  # analysis id -> Inference
    settings: pd.DataFrame  # settings-inferred.csv
    evidence: pd.DataFrame
    provenance: pd.DataFrame
    seconds: float


def review_frame(review: dict, source: str) -> pd.DataFrame:
    """``review.csv``: the review's DOI and address as the rows give them."""
    return pd.DataFrame([[k, v, f"{source}, column '{k}'"] for k, v in review.items()],
                        columns=["field", "value", "source"])


def _aid(g, n) -> str:
    return f"{int(g)}.{int(n)}"


def read_groups(path, analysis_groups) -> dict:
    """``Analysis group -> {name, experimental label, control label}`` from a groups CSV."""
    path = Path(path)
    name = path.name
    text = read_utf8(path, "a CSV naming the comparisons")
    header, rows = read_csv_text(text, name)
    alias = {make_names(c): c for c in GROUP_COLUMNS}
    header_map = {h: (h if h in GROUP_COLUMNS else alias.get(h, h)) for h in header}
    problems = [Problem(name, 1, c, "no such column", f"a column '{c}'")
                for c in GROUP_COLUMNS[:2] if c not in header_map.values()]
    if problems:
        raise InputError(problems)
    out, seen = {}, {}
    for line, row in rows:
        row = {header_map[k]: v for k, v in row.items() if k in header_map}
        cells = Cells(name, line, row, problems)
        g = cells.number("Analysis group", integer=True, minimum=1)
        if g is None:
            continue
        g = int(g)
        if g in seen:
            cells.problem("Analysis group", f"group {g} again", f"each group once (first on line {seen[g]})")
            continue
        seen[g] = line
        if g not in analysis_groups:
            cells.problem("Analysis group", f"group {g}",
                          "a group that has data rows (" + ", ".join(str(x) for x in sorted(analysis_groups)) + ")")
            continue
        if not cells.text("Analysis group name"):
            cells.problem("Analysis group name", "an empty cell", "the comparison's name")
        for c in GROUP_COLUMNS[1:]:
            bad = name_problem(cells.text(c), what="a name", spaces_allowed=True)
            if bad:
                cells.problem(c, *bad)
        out[g] = {c: cells.text(c) for c in GROUP_COLUMNS[1:]}
    if problems:
        raise InputError(problems)
    return out


def build(rows_csv, *, pkg_id=None, groups_csv=None, collection=None) -> ImportResult:
    """Read, infer and assemble (nothing written); see the module docstring."""
    t0 = time.perf_counter()
    table = read_rows_table(rows_csv)
    rows = table.rows
    name = table.name
    pkg_id = pkg_id or re.sub(r"(_data)?\.csv$", "", Path(rows_csv).name, flags=re.I)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", pkg_id):
        raise InputError([Problem(name, None, None, f"the package id '{pkg_id}'",
                                  "an id of letters, digits, '.', '_' or '-' (give one with --id)")])
    keys = list(dict.fromkeys(zip(rows["Analysis group"], rows["Analysis number"])))
    keys.sort(key=lambda k: (k[0], k[1]))
    by_analysis, positions, notes = {}, {}, {}
    weight_tol = inf.column_tolerance(rows["Weight"])
    for g, n in keys:
        idx = np.flatnonzero((rows["Analysis group"] == g) & (rows["Analysis number"] == n))
        sub = rows.iloc[idx].reset_index(drop=True)
        aid = _aid(g, n)
        numbers = [table.subgroup_numbers[i] for i in idx] if table.subgroup_numbers is not None else None
        labels, note = subgroup_labels(list(sub["Subgroup"]), numbers, list(sub["Weight"]), weight_tol)
        if note:
            sub["Subgroup"] = labels
            notes[aid] = note
        by_analysis[aid] = (sub, row_labels(sub["Study"]))
        positions[aid] = idx
    tol = {c: inf.column_tolerance(rows[c]) for c in STORED}
    inference = inf.infer(by_analysis, tol)
    groups = read_groups(groups_csv, {int(g) for g, _ in keys}) if groups_csv else {}
    analyses = _analyses_frame(keys, by_analysis, inference, groups)
    data_rows, prov, row_lines = _rows_frame(table, keys, positions, by_analysis, inference, collection or name)
    # the validator audit uses, on the rows as written: what import-rows accepts, audit accepts
    problems: list[Problem] = []
    validate_rows(data_rows, analyses, name, problems, lines=row_lines, columns=table.headers)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise InputError(errors)
    subgroups = _subgroups_frame(keys, by_analysis)
    studies = _studies_frame(rows)
    rob = _rob_frame(table, keys, positions, by_analysis)
    extra = {"review.csv": review_frame(table.review, collection or name)} if table.review else {}
    pkg = Package(pkg_id, analyses, data_rows, subgroups, studies, rob, extra=extra)
    settings = pd.DataFrame([_settings_row(aid, r) for aid, r in inference.items()], columns=SETTINGS_COLUMNS)
    evidence = pd.DataFrame([[aid, r.evidence + (f"; {notes[aid]}" if aid in notes else "")]
                             for aid, r in inference.items()], columns=["analysis", "evidence"])
    return ImportResult(pkg, inference, settings, evidence, prov, time.perf_counter() - t0)


def subgroup_labels(names, numbers=None, weights=None, weight_tol=5e-7) -> tuple:
    """One label per row naming its subgroup, and a note ('' if nothing changed).

    RevMan may give two subgroups of one analysis the same name.  They are told
    apart by RevMan's subgroup number where the file has it; otherwise rows of
    one subgroup are contiguous in RevMan's export, so a name that comes back
    after another subgroup is another subgroup; and where a review shows
    subtotals only, the stored weights of each subgroup add up to 100, so a run
    of rows of one name whose weights add up to 200 is two subgroups, cut where
    the running sum reaches 100 (CD004661.pub4 5.5).  The second subgroup of a
    name is labelled ``name (2)``, and so on.
    """
    names = ["" if not isinstance(x, str) and x != x else str(x).strip() for x in names]
    stored = weights is not None and any(w == w and w != 0 for w in weights)
    if numbers is not None and any(numbers):
        ident = [(nm, numbers[i]) for i, nm in enumerate(names)]
        blocks = {}
        for i, k in enumerate(ident):
            blocks.setdefault(k, []).append(i)
        segments = list(blocks.values())
    elif not stored:
        # no stored result: nothing says the rows are in RevMan's export order
        blocks = {}
        for i, nm in enumerate(names):
            blocks.setdefault(nm, []).append(i)
        segments = list(blocks.values())
    else:
        segments = []
        for i, nm in enumerate(names):
            if segments and names[segments[-1][-1]] == nm:
                segments[-1].append(i)
            else:
                segments.append([i])
    if stored:
        segments = [part for seg in segments for part in _split_by_weight(seg, names, weights, weight_tol)]
    label = list(names)
    count = {}
    for seg in sorted(segments, key=lambda s: s[0]):
        nm = names[seg[0]]
        if not nm:
            continue
        count[nm] = count.get(nm, 0) + 1
        if count[nm] > 1:
            new = f"{nm} ({count[nm]})"
            while new in names:
                new += "'"
            for i in seg:
                label[i] = new
    twice = sorted(k for k, v in count.items() if v > 1)
    note = ""
    if twice:
        note = ("subgroups that share a name are told apart: "
                + ", ".join(f"'{k}' ({count[k]} subgroups)" for k in twice))
    return label, note


def _split_by_weight(seg, names, weights, tol):
    """Cut ``seg`` where its stored weights reach 100, when they add up to a
    multiple of 100 above 100 (two subgroups of one name, subtotals only)."""
    w = [float(weights[i]) if weights[i] == weights[i] else 0.0 for i in seg]
    total = sum(w)
    slack = 1e-3 + tol * len(seg)
    if not names[seg[0]] or total < 200 - slack:
        return [seg]
    parts, acc, cur = [], 0.0, []
    for i, x in zip(seg, w):
        cur.append(i)
        acc += x
        if abs(acc - 100) <= slack:
            parts.append(cur)
            cur, acc = [], 0.0
    if cur:
        if any(weights[i] == weights[i] and weights[i] != 0 for i in cur):
            return [seg]  # does not cut into parts of 100 each: one subgroup after all
        parts[-1].extend(cur)
    return parts if len(parts) > 1 else [seg]


def _file_column(table, canonical):
    """The file's own header of a RevMan column (RevMan's or R's spelling)."""
    return (table.headers or {}).get(canonical) or make_names(canonical)


def _fmt(x) -> str:
    return "" if x is None else f"{x:.3g}"


def _settings_row(aid, r):
    c = r.candidate
    measure = ("OR" if c.variant.peto else c.variant.measure)
    return [aid, c.variant.data_type, measure, c.method, c.model, c.estimator or "", c.weights_rule, r.status,
            r.n_candidates, _fmt(r.max_abs_diff_estimate), _fmt(r.max_abs_diff_weight)]


def _analyses_frame(keys, by_analysis, inference, groups):
    cols = OVERALL_COLUMNS_OLD + OVERALL_NEW_EXTRA + ["SMD formula"]
    smd_text = {v: k for k, v in SMD_FORMULAS.items()}
    out = []
    for g, n in keys:
        aid = _aid(g, n)
        sub, _ = by_analysis[aid]
        c = inference[aid].candidate
        subgrouped = any(str(x).strip() for x in sub["Subgroup"])
        grp = groups.get(int(g), {})
        measure = "Peto Odds Ratio" if c.variant.peto else MEASURE_NAMES[c.variant.measure]
        ratio = c.variant.measure in ("RR", "OR", "HR", "GENR") or c.variant.peto
        level = f"{int(round(c.level * 100))}%"
        a = {k: "" for k in cols}
        a.update({
            "Analysis group": float(g), "Analysis number": float(n), "Analysis name": sub["Analysis name"].iloc[0],
            "Analysis group name": grp.get("Analysis group name", ""), "Data source": "Imported data rows",
            "Data type": c.variant.data_type, "Log-scale data": "true" if ratio else "false",
            "Experimental group label": grp.get("Experimental group label", ""),
            "Control group label": grp.get("Control group label", ""),
            "Statistical method": c.method, "Effect measure": measure,
            "Analysis model": "Fixed effect" if c.model == "fixed" else "Random effects",
            "Subgroup estimates": "true" if subgrouped else "false",
            "Overall estimates": "false" if (subgrouped and c.weights_rule == "subgroup") else "true",
            "Test for subgroup differences": "true" if (subgrouped and c.weights_rule == "overall") else "false",
            "Swap event and non-event": "true" if c.variant.swap else "false", "Study CI": level, "Estimate CI": "95%",
            "Heterogeneity estimator": c.estimator or "", "CI method": "Wald", "Prediction interval": "false",
            "CI/PI level": "95%", "Show risk of bias": "false",
            "SMD formula": smd_text.get(c.variant.smd, "") if c.variant.measure == "SMD" else "",
        })
        for k in ("Experimental cases", "Experimental N", "Control cases", "Control N", "Mean", "CI start",
                  "CI end", "Heterogeneity Tau²", "Heterogeneity Chi²", "Heterogeneity df", "Heterogeneity P",
                  "Heterogeneity I²", "Effect Z", "Effect P", "Subgroup Chi²", "Subgroup df", "Subgroup P",
                  "Subgroup I²"):
            a[k] = np.nan  # RevMan's pooled results: not in data rows, left blank
        out.append(a)
    return pd.DataFrame(out, columns=cols)


#: The data-row fields each data type computes with.  A blank in one of them
#: stays blank (a missing number is never read as 0: the validator and the
#: engine decide); a blank elsewhere is written 0.0, as RevMan writes unused fields.
USED_FIELDS = {
    inf.CONTINUOUS: ("Experimental mean", "Experimental SD", "Experimental N", "Control mean", "Control SD",
                     "Control N"),
    inf.DICHOTOMOUS: ("Experimental cases", "Experimental N", "Control cases", "Control N"),
    inf.GIV: ("GIV Mean", "GIV SE"),
    inf.OE: ("O-E", "Variance"),
}


def _rows_frame(table, keys, positions, by_analysis, inference, collection):
    out, prov, row_lines = [], [], []
    cols = {c: table.rows[c].tolist() for c in DATA_ROW_COLUMNS}
    numeric = DATA_ROW_COLUMNS[7:23]
    file_col = {c: _file_column(table, c) for c in DATA_ROW_COLUMNS}
    for g, n in keys:
        aid = _aid(g, n)
        sub, labels = by_analysis[aid]
        used = USED_FIELDS.get(inference[aid].data_type, ())
        subgroup_labels_of = sub["Subgroup"].tolist()
        for j, i in enumerate(positions[aid]):
            r = {c: v[i] for c, v in cols.items()}
            line = table.lines[i]
            row_lines.append(line)
            d = dict(r)
            d["Subgroup"] = subgroup_labels_of[j]
            kind = footnote_kind(r["Footnotes"])
            d["Footnotes"] = kind
            for c in numeric:
                v = d[c]
                if c in STORED:
                    d[c] = v if v == v and not (v == 0 and c == "Weight") else np.nan
                elif c in used:
                    d[c] = float(v)
                else:
                    d[c] = 0.0 if v != v else float(v)
                raw = r[c]
                if raw == raw and (raw != 0 or c in STORED):
                    prov.append([aid, labels[j], c, repr(float(raw)), collection, line, file_col[c], kind])
            out.append(d)
    frame = pd.DataFrame(out, columns=DATA_ROW_COLUMNS)
    for c in ("Analysis group", "Analysis number"):
        frame[c] = frame[c].astype(float)
    provenance = pd.DataFrame(prov, columns=["analysis", "study", "column", "value", "source", "line",
                                             "source_column", "how_obtained"])
    return frame, provenance, row_lines


def _subgroups_frame(keys, by_analysis):
    out = []
    for g, n in keys:
        sub, _ = by_analysis[_aid(g, n)]
        names = [s for s in dict.fromkeys(str(x).strip() for x in sub["Subgroup"]) if s]
        for k, s in enumerate(names, start=1):
            part = sub[sub["Subgroup"].astype(str).str.strip() == s]
            row = {c: np.nan for c in SUBGROUP_COLUMNS}
            row.update({"Analysis group": float(g), "Analysis number": float(n), "Subgroup": s,
                        "Subgroup number": float(k), "ID": ""})
            for c in ("Experimental cases", "Experimental N", "Control cases", "Control N"):
                row[c] = float(np.nansum(part[c]))
            out.append(row)
    return pd.DataFrame(out, columns=SUBGROUP_COLUMNS)


def _studies_frame(rows):
    seen = {}
    for s, y in zip(rows["Study"], rows["Study year"]):
        seen.setdefault(str(s).strip(), str(y).strip())
    return pd.DataFrame([[s, y, "", "", "", "", "", ""] for s, y in sorted(seen.items())],
                        columns=["Study", "Year", "Data source", "Char: Methods", "Char: Participants",
                                 "Char: Interventions", "Char: Outcomes", "Char: Notes"])


def _rob_frame(table, keys, positions, by_analysis):
    domains = list(table.domains)
    cols = ["Study", "Analysis group", "Analysis number", "Result"] + [f"Domain (judgement): {d}" for d in domains]
    out = []
    judgements = {d: table.rob[d].tolist() for d in domains}
    studies = table.rows["Study"].tolist()
    for g, n in keys:
        aid = _aid(g, n)
        _, labels = by_analysis[aid]
        for j, i in enumerate(positions[aid]):
            judged = [judgements[d][i] for d in domains]
            out.append([str(studies[i]), str(int(g)), str(int(n)), labels[j]]
                       + [v or "Not reported" for v in judged])
    return pd.DataFrame(out, columns=cols)


def csv_text(frame: pd.DataFrame) -> str:
    """Plain CSV (UTF-8, no BOM, '\\n' line ends) of an auxiliary table."""
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue()


def write_import(result: ImportResult, out_dir) -> Path:
    out = Path(out_dir)
    write(result.package, out)
    (out / "settings-inferred.csv").write_text(csv_text(result.settings), encoding="utf-8")
    (out / "settings-evidence.csv").write_text(csv_text(result.evidence), encoding="utf-8")
    (out / "provenance.csv").write_text(csv_text(result.provenance), encoding="utf-8")
    return out


#: What ``import-rows`` writes at the top of OUT_DIR besides the package's two folders.
IMPORT_FILES = ("settings-inferred.csv", "settings-evidence.csv", "provenance.csv")


def main(rows_csv, out_dir, *, pkg_id=None, groups_csv=None, force=False) -> int:
    """The ``import-rows`` command; returns the exit code.

    OUT_DIR may be new or an empty folder.  A folder that already holds any of
    what the import writes (a package's ``<ID>-analysis-data``/``<ID>-study-data``
    or ``settings-inferred.csv``, ...) is refused unless ``force``, and a folder
    holding another package is refused even then.  The package is written into
    a temporary folder beside OUT_DIR and moved into place only when complete,
    so a refused or failed run leaves OUT_DIR byte for byte as it was; with
    ``force`` only the previous import of the same package is replaced (other
    files are kept).
    """
    from .lock import terminated_as_exception, writer_lock

    try:
        out = Path(out_dir)
        _check_out(out, None, force)
        result = build(rows_csv, pkg_id=pkg_id, groups_csv=groups_csv)
        # one writer at a time: the folder is checked again and written under the lock
        with terminated_as_exception(), writer_lock(out, f"the folder {out.name or out}"):
            _check_out(out, result.package.id, force)
            _publish(result, out)
    except InputError as exc:
        return exc.report()
    counts = {}
    for r in result.inference.values():
        counts[r.status] = counts.get(r.status, 0) + 1
    pkg = result.package
    print(f"read {len(pkg.rows)} data rows of {len(pkg.analyses)} analyses "
          f"({len(pkg.studies)} studies) from {Path(rows_csv).name}")
    print("settings: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("inferred", "tie-broken",
                                                                      "not identifiable")))
    print(f"wrote package {pkg.id} to {out_dir} (settings-inferred.csv beside it)")
    return 0


def _ours(pkg_id: str) -> tuple:
    return (f"{pkg_id}-analysis-data", f"{pkg_id}-study-data") + IMPORT_FILES


def _check_out(out: Path, pkg_id, force: bool) -> None:
    """Refuse an output folder the import must not write into (before anything is
    written).  ``pkg_id`` None: the checks that need no id (run before reading)."""
    def refuse(found, expected):
        raise InputError([Problem(str(out), None, None, found, expected)])

    try:
        st = os.stat(out)
    except FileNotFoundError:
        parent = next((p for p in out.absolute().parents if p.exists()), None)
        if parent is not None and not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)):
            refuse(f"a folder that cannot be created (no write permission in '{parent}')",
                   "an output folder in a place where this user may write")
        return
    except OSError as exc:
        refuse(f"a path that cannot be checked ({exc.strerror})", "a folder to write the package into")
    if not stat.S_ISDIR(st.st_mode):
        refuse(kind_of(st.st_mode) or "a file", "a folder to write the package into")
    if not os.access(out, os.W_OK | os.X_OK):
        refuse("a folder this user may not write into", "a writable folder to write the package into")
    entries = sorted(p.name for p in out.iterdir())
    others = [e for e in entries if e.endswith("-analysis-data") and (pkg_id is None or e != f"{pkg_id}-analysis-data")]
    if pkg_id is not None and others:
        refuse(f"another package inside ({others[0]})",
               "an empty folder, or one holding an earlier import of the same package (with --force)")
    clash = [e for e in entries if e in _ours(pkg_id)] if pkg_id is not None else \
        [e for e in entries if e.endswith(("-analysis-data", "-study-data")) or e in IMPORT_FILES]
    if clash and not force:
        what = next((e for e in clash if e.endswith("-analysis-data")), clash[0])
        refuse(f"'{what}' already there" + (f" (a package {what[:-len('-analysis-data')]})"
                                             if what.endswith("-analysis-data") else ""),
               "a new or empty folder, or --force to replace the earlier import of the same package "
               "(nothing was written)")


def _publish(result: ImportResult, out: Path) -> None:
    """Write the import into a temporary folder inside ``out`` and move it into
    place by renames; on any failure ``out`` is left as it was (a folder the
    run created is removed again)."""
    import shutil
    import tempfile

    created = []

    def fail(exc, undo):
        undo()
        for p in reversed(created):
            shutil.rmtree(p, ignore_errors=True)
        raise InputError([Problem(str(out), None, None, f"a folder that cannot be written "
                                  f"({exc.strerror or exc.__class__.__name__})",
                                  "a folder where this user may write (nothing was changed)")]) from None

    try:
        for p in reversed([out.absolute(), *out.absolute().parents]):
            if not p.exists():
                p.mkdir()
                created.append(p)
        tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=out))
    except OSError as exc:
        fail(exc, lambda: None)
    new, backup = tmp / "new", tmp / "previous"
    moved, placed = [], []

    def undo():
        for name in placed:
            _remove(out / name)
        for name in moved:
            os.rename(backup / name, out / name)
        shutil.rmtree(tmp, ignore_errors=True)

    try:
        write_import(result, new)
        backup.mkdir()
        for name in _ours(result.package.id):
            if os.path.lexists(out / name):
                os.rename(out / name, backup / name)
                moved.append(name)
        for name in sorted(os.listdir(new)):
            os.rename(new / name, out / name)
            placed.append(name)
    except OSError as exc:
        fail(exc, undo)
    except BaseException:  # SIGTERM (lock.Terminated), Ctrl-C: undone as a failure is, then passed on
        undo()
        for p in reversed(created):
            shutil.rmtree(p, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)


def _remove(p: Path) -> None:
    import shutil

    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)
    else:
        p.unlink()
