"""``reviewbook build-review``: the embedded package from a review's published
data rows plus what we established ourselves, each value with its source.

    python -m reviewbook build-review data/sources data/CD015373

``data/sources/sources.yml`` names the inputs (paths relative to it):

* ``rows``: the review's analysis data rows (read in place, e.g. from
  Pairwise70), imported by :mod:`.importer` with the settings inferred from
  RevMan's stored per-study results;
* ``comparisons``: the name, arm labels and evidence (trial reports) of each
  comparison (the ``--groups`` table of ``import-rows`` plus sources);
* ``studies``: characteristics of the pooled studies (condition, design,
  drug, route, comparator), each with the report it was read in; blank where
  no source was found (the book prints "not reported");
* ``row_notes``: why a study has more than one row in an analysis, in our words;
* ``study_aliases``: names in our extraction that denote a study of the rows;
* ``study_flow``: the review's PRISMA counts; ``extraction_studies``: our own
  extraction, whose eligible studies that no analysis uses are listed with the
  reason each is not pooled;
* ``review_file``: the review file whose ``outcomes`` rules give each analysis's
  direction of benefit with its source; the directions are written into the
  settings (our extension columns ``Direction of benefit``, ``Direction source``
  and ``Outcome instrument``, and RevMan's ``Graph label (left)`` / ``(right)``),
  so that the package itself carries them.
* ``included_references``: RIS records of the pooled studies' reports, each
  keyed by an ``ID`` tag holding the study name exactly as in the data rows;
  written into the package as ``<ID>-study-data/<ID>-included.ris``.

The output is deterministic (building twice gives identical bytes) and is
written beside the target and then renamed into place, so a failed build
never leaves a half-written package.  ``provenance.csv`` has one row per
value: the review, the analysis, the study (row label), the column, the value,
the collection and line it was read from, and how the review obtained it
(footnote category, in our words) or the source of a value we added.
"""
from __future__ import annotations

import re
import shutil
import unicodedata
from pathlib import Path

import pandas as pd
import yaml

from ..errors import InputError, Problem
from . import importer
from .schema import Package
from .tabular import read_csv

STUDY_COLUMNS = ["study", "year", "condition", "design", "drug", "route", "comparator", "source", "location", "notes"]
NOT_POOLED_COLUMNS = ["Study", "Comparison (our extraction)", "Design", "Condition", "Eligibility (our judgement)",
                      "Why not pooled (our extraction)", "Source", "Location"]


def _table(path: Path, required) -> list:
    try:
        header, rows = read_csv(path, path.name)
    except FileNotFoundError:
        raise InputError([Problem(path.name, None, None, "a missing file", f"{path}")]) from None
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError([Problem(path.name, 1, c, "no such column", f"a column '{c}'") for c in missing])
    return rows


def study_key(name: str) -> str:
    """A study name reduced for matching across sources: accents, case,
    punctuation and a trailing report letter removed (``Noppers 2011a`` ->
    ``noppers2011``); a trial registration number stands for itself."""
    s = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    m = re.search(r"nct\d{8}", s)
    if m:
        return m.group(0)
    m = re.match(r"\s*([a-z][a-z \-']*?)\s+(\d{4})[a-z]?\b", s)
    return re.sub(r"[^a-z]", "", m.group(1)) + m.group(2) if m else re.sub(r"[^a-z0-9]", "", s)


def load_sources(folder):
    folder = Path(folder)
    path = folder / "sources.yml"
    if not path.exists():
        raise InputError([Problem("sources.yml", None, None, "a missing file", f"{path}")])
    cfg = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    need = ("package_id", "review", "review_id", "rows", "collection", "comparisons", "studies")
    problems = [Problem("sources.yml", None, k, "no such key", f"a key '{k}'") for k in need if k not in cfg]
    if problems:
        raise InputError(problems)
    paths = {k: (folder / v) for k, v in cfg.items() if k in ("rows", "comparisons", "studies", "row_notes",
                                                                "study_aliases", "study_flow",
                                                                "extraction_studies", "review_file",
                                                                "included_references")}
    return cfg, paths


def build(folder):
    """Assemble the package (nothing written); returns ``(Package, ImportResult)``."""
    cfg, paths = load_sources(folder)
    rows_path = paths["rows"]
    if not rows_path.exists():
        raise InputError([Problem(rows_path.name, None, None, "a missing file",
                                  f"the review's data rows at {rows_path}")])
    res = importer.build(rows_path, pkg_id=cfg["package_id"], groups_csv=paths["comparisons"],
                         collection=cfg["collection"])
    pkg = res.package
    rows = pkg.rows.copy()
    prov = res.provenance.copy()
    # notes on repeated rows, in our words, into Footnotes and the provenance
    notes = {}
    if "row_notes" in paths:
        for line, r in _table(paths["row_notes"], ["analysis", "study", "row", "note"]):
            notes[(r["analysis"], r["study"], int(r["row"]))] = r["note"]
    seen = {}
    foot = []
    for _, r in rows.iterrows():
        aid = f"{int(r['Analysis group'])}.{int(r['Analysis number'])}"
        k = (aid, r["Study"])
        seen[k] = seen.get(k, 0) + 1
        note = notes.get((aid, r["Study"], seen[k]), "")
        foot.append("; ".join(x for x in (r["Footnotes"], note) if x))
    rows["Footnotes"] = foot
    studies, study_prov = _studies(paths["studies"], pkg)
    comparisons, comp_prov = _comparisons(paths["comparisons"])
    extra = {**pkg.extra, "study-data/comparisons.csv": comparisons}  # review.csv: the review's DOI
    if "extraction_studies" in paths:
        extra["study-data/studies-not-pooled.csv"] = _not_pooled(paths["extraction_studies"],
                                                                  paths.get("study_aliases"), pkg)
    if "study_flow" in paths:
        header, flow = read_csv(paths["study_flow"], paths["study_flow"].name)
        extra["study-flow.csv"] = pd.DataFrame([[r.get(h, "") for h in header] for _, r in flow], columns=header)
    prov.insert(0, "review", cfg["review_id"])
    prov = prov.rename(columns={"source": "collection"})
    added = pd.DataFrame([[cfg["review_id"], *p[1:]] for p in study_prov + comp_prov],
                         columns=["review", "analysis", "study", "column", "value", "collection", "line",
                                  "source_column", "how_obtained"])
    prov = pd.concat([prov, added], ignore_index=True)
    analyses = pkg.analyses
    if "review_file" in paths:
        analyses = with_directions(analyses, paths["review_file"])
        direction_prov = pd.DataFrame(
            [[cfg["review_id"], f"{int(r['Analysis group'])}.{int(r['Analysis number'])}", "", col, r[col],
              paths["review_file"].name, "", "outcomes", r["Direction source"]]
             for _, r in analyses.iterrows() if r["Direction of benefit"]
             for col in ("Direction of benefit", "Graph label (left)", "Graph label (right)")],
            columns=["review", "analysis", "study", "column", "value", "collection", "line", "source_column",
                     "how_obtained"])
        prov = pd.concat([prov, direction_prov], ignore_index=True)
    extra["settings-inferred.csv"] = res.settings.astype(str)
    extra["settings-evidence.csv"] = res.evidence
    extra["provenance.csv"] = prov.astype(str)
    if "version" in cfg:
        extra["versions.csv"] = _first_version(cfg, len(rows))
    refs = {"included": _references(paths["included_references"], pkg)} if "included_references" in paths else {}
    out = Package(pkg.id, analyses, rows, pkg.subgroup_estimates, studies, pkg.risk_of_bias, refs, extra)
    return out, res


def with_directions(analyses: pd.DataFrame, review_file: Path) -> pd.DataFrame:
    """The settings with each analysis's direction of benefit from the review
    file's ``outcomes`` rules (first match wins), its source and instrument, and
    the graph labels RevMan draws for it ('Favours <experimental>' on the side
    where benefit lies); analyses no rule gives a direction keep blank labels."""
    from .outcomes import DIRECTION_COLUMNS, parse_rules, rule_for

    if not review_file.exists():
        raise InputError([Problem(review_file.name, None, None, "a missing file", f"the review file at {review_file}")])
    cfg = yaml.safe_load(review_file.read_text(encoding="utf-8")) or {}
    rules = parse_rules(cfg.get("outcomes"), review_file.name)
    out = analyses.copy()
    for c in DIRECTION_COLUMNS:
        out[c] = ""
    for i, row in out.iterrows():
        aid = f"{int(row['Analysis group'])}.{int(row['Analysis number'])}"
        rule = rule_for(rules, aid, row["Analysis name"])
        if rule is None:
            continue
        out.at[i, "Outcome instrument"] = rule.instrument
        if rule.better:
            exp = row["Experimental group label"] or "experimental"
            ctl = row["Control group label"] or "control"
            left, right = (exp, ctl) if rule.better == "lower" else (ctl, exp)
            out.at[i, "Graph label (left)"] = f"Favours {left}"
            out.at[i, "Graph label (right)"] = f"Favours {right}"
            out.at[i, "Direction of benefit"] = rule.better
            out.at[i, "Direction source"] = rule.direction_source
    return out


def _first_version(cfg, n_rows) -> pd.DataFrame:
    """The package's first row of ``versions.csv`` (the columns ``add-rows`` extends):
    version 1, the date its content was established (``version.date`` in
    sources.yml, never the clock: the build is deterministic), every row added."""
    from .addrows import VERSION_COLUMNS

    v = cfg["version"] or {}
    date = str(v.get("date", "")).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise InputError([Problem("sources.yml", None, "version.date", f"'{date}'", "a date YYYY-MM-DD")])
    source = f"{cfg['review']}; data rows from {cfg['collection']}"
    return pd.DataFrame([["1", date, str(n_rows), source, str(v.get("note", "")).strip()]], columns=VERSION_COLUMNS)


def _studies(path, pkg):
    table = _table(path, STUDY_COLUMNS)
    by = {r["study"]: (line, r) for line, r in table}
    problems = []
    names = list(pkg.studies["Study"])
    for s in names:
        if s not in by:
            problems.append(Problem(path.name, None, "study", f"no row for '{s}'", "a row for every pooled study"))
    for s, (line, _) in by.items():
        if s not in names:
            problems.append(Problem(path.name, line, "study", f"'{s}'", "a study of the data rows"))
    if problems:
        raise InputError(problems)
    out, prov = [], []
    nr = "not reported"
    for _, s in pkg.studies.iterrows():
        line, r = by[s["Study"]]
        cond, design = r["condition"] or nr, r["design"] or nr
        drug, route, comp = r["drug"] or nr, r["route"] or "route not reported", r["comparator"] or nr
        src = f"{r['source']} ({r['location']})" if r["source"] else "no report found"
        out.append([s["Study"], s["Year"], "Published data rows of the review (Pairwise70)",
                    f"Design: {design}", f"Condition: {cond}", f"{drug}, {route}; comparator: {comp}", "",
                    f"Characteristics from: {src}. {r['notes']}".strip()])
        for col in ("condition", "design", "drug", "route", "comparator"):
            if r[col]:
                prov.append(["", "", s["Study"], col, r[col], r["source"], str(line), r["location"],
                             "trial report or registry record read by us"])
    frame = pd.DataFrame(out, columns=["Study", "Year", "Data source", "Char: Methods", "Char: Participants",
                                       "Char: Interventions", "Char: Outcomes", "Char: Notes"])
    return frame, [["", *p[1:]] for p in prov]


def _references(path, pkg):
    """The RIS records of ``path``, each required to name a study of the rows in its ``ID`` tag."""
    from .datapackage import parse_ris

    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError([Problem(path.name, None, None, "a missing file", f"{path}")]) from None
    records = parse_ris(text)
    names = set(pkg.studies["Study"])
    starts, first = [], None  # the line on which each record begins
    for i, line in enumerate(text.lstrip("\ufeff").splitlines(), 1):
        if re.match(r"^[A-Z][A-Z0-9]  -", line):
            first = first or i
            if line.startswith("ER  -"):
                starts.append(first)
                first = None
    if first:
        starts.append(first)
    problems = []
    for i, rec in enumerate(records):
        line = starts[i] if i < len(starts) else None
        ids = rec.get("ID", [])
        if len(ids) != 1 or ids[0] not in names:
            problems.append(Problem(path.name, line, "ID", repr(ids[0]) if ids else "no ID tag",
                                    "one ID tag naming a study of the data rows"))
    if problems:
        raise InputError(problems)
    return records


def _comparisons(path):
    cols = ["Analysis group", "Analysis group name", "Experimental group label", "Control group label", "drug",
            "route", "comparator", "evidence", "source", "location"]
    table = _table(path, cols)
    out, prov = [], []
    for line, r in table:
        out.append([r[c] for c in cols])
        prov.append(["", r["Analysis group"], "", "Analysis group name", r["Analysis group name"], r["source"],
                     str(line), r["location"], "comparison named from the trial reports (evidence column)"])
    return pd.DataFrame(out, columns=cols), prov


def _not_pooled(extraction, aliases_path, pkg):
    pooled = {study_key(s): s for s in pkg.studies["Study"]}
    alias = {}
    if aliases_path is not None and aliases_path.exists():
        for _, r in _table(aliases_path, ["extraction_study", "review_study", "verified", "note"]):
            alias[r["extraction_study"]] = r["review_study"]
    out, seen = [], set()
    for _, r in _table(extraction, ["study", "comparison", "design", "condition", "eligible", "reason",
                                    "citation", "location"]):
        name = r["study"]
        if r["eligible"] not in ("yes", "uncertain") or name in seen:
            continue
        if study_key(name) in pooled or alias.get(name) in pkg.studies["Study"].values:
            continue
        seen.add(name)
        out.append([name, r["comparison"], r["design"] or "not reported", r["condition"] or "not reported",
                    r["eligible"], r["reason"] or "not recorded", r["citation"], r["location"]])
    return pd.DataFrame(out, columns=NOT_POOLED_COLUMNS)


def write_package(pkg: Package, output) -> Path:
    from .datapackage import write

    output = Path(output)
    tmp = output.with_name(output.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    write(pkg, tmp)
    if output.exists():
        shutil.rmtree(output)
    tmp.rename(output)  # never leave a half-written package in place
    return output


def main(folder, output) -> int:
    try:
        pkg, res = build(folder)
        write_package(pkg, output)
    except InputError as exc:
        return exc.report()
    counts = {}
    for r in res.inference.values():
        counts[r.status] = counts.get(r.status, 0) + 1
    print(f"wrote {output}: {len(pkg.analyses)} analyses, {len(pkg.rows)} data rows, {len(pkg.studies)} "
          f"pooled studies, {len(pkg.extra['study-data/studies-not-pooled.csv'])} other included studies "
          f"(our extraction), {len(pkg.extra['provenance.csv'])} provenance rows")
    print("settings: " + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("inferred", "tie-broken",
                                                                      "not identifiable")))
    return 0
