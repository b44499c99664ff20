"""'What changed': this build's results and data against the previous ones.

:func:`diff` compares two results files (``results.json``: one entry per
analysis, see :func:`reviewbook.book.runner.collect_results`) and the data rows
of the two packages, and returns the machine-readable record written beside
``results.json`` in the site as ``changes.json``:

``studies_added``, ``studies_removed``
    ``[{analysis, study}]``: distinct study names that entered or left an analysis;
``moved``
    ``[{analysis, previous, current}]``, each an ``{estimate, ci_low, ci_high}``:
    pooled estimates or CI limits that changed;
``conclusions``
    ``[{analysis, kind, previous, current}]``, each a change in what the
    evidence says, in words; ``kind`` is

    * ``null``: whether the CI excludes no effect (0, or 1 for ratios);
    * ``mid``: where the CI lies against the thresholds of an important effect
      (the analysis's ``mid``: ``{low, high}`` on the reporting scale): wholly
      beyond one, crossing one, crossing both, or within them;
    * ``certainty``: the GRADE certainty;
    * ``statement``: the narrative statement.

    A kind whose key an analysis does not carry (in either results file) is
    not evaluated: nothing is inferred in its place;
``data``
    ``{available, rows_added, rows_removed, values_changed, changes}`` with
    ``changes`` ``[{analysis, study, column, previous, current}]`` for every
    value added, changed or removed.  Rows are matched by analysis and row
    label (a study with two rows in an analysis is ``Study (1)``,
    ``Study (2)``, :func:`reviewbook.package.analysis.row_labels`);
``methods_changed``
    ``[{analysis, previous, current}]``, each a ``{measure, method}``: an
    analysis whose effect measure or pooling method changed;
``prisma_lsr``
    ``{items, answered}``: the PRISMA-LSR item (Akl et al. 2024, BMJ
    387:e079183) each key of this record answers (``L2`` changes to the
    methods, ``L3`` changes to the results and conclusions, ``L4`` the version
    of the data) and the items this comparison has a change for;
``analyses_added``, ``analyses_removed``, ``status_changed``, ``first``
(nothing to compare with: no previous build, or one of another package,
``other_package``), ``previous_version``, ``current_version``
    the rest of what changed.

:func:`render_markdown` writes the 'What changed' page from it: the changes in
conclusions first, each in words, then the data diff, the estimates that
moved, the version history of the package (``versions.csv``) and the
notebooks re-executed.  Every name from a package is escaped.
"""
from __future__ import annotations

import hashlib
import html
import math
import re
import tempfile
from pathlib import Path

from ..engine.report import fmt
from ..views.tables import escape, md_table

#: Measures reported as ratios (no effect is 1).
RATIO_MEASURES = ("RR", "OR", "HR", "GENR", "ROM", "RaR")
KEY_COLUMNS = ("Analysis group", "Analysis number", "Study")
#: The results format that keeps distinct study names in ``studies`` (older
#: results files list row labels, ``Study (1)``).
RESULTS_FORMAT = 2


# ------------------------------------------------------------------ conclusions

def excludes_null(entry) -> bool:
    """Whether the CI of a computed analysis excludes no effect."""
    null = 1.0 if entry.get("measure") in RATIO_MEASURES else 0.0
    return not (entry["ci_low"] <= null <= entry["ci_high"])


def mid_position(ci_low, ci_high, mid) -> str | None:
    """Where a CI lies against the thresholds of an important effect
    (``mid = {low, high}``, low below high): ``beyond-low``/``beyond-high`` (wholly
    beyond a threshold), ``crosses-low``/``crosses-high`` (an important and a
    trivial effect), ``crosses-both`` or ``within`` (only trivial effects).
    None when the thresholds are missing."""
    try:
        low, high = float(mid["low"]), float(mid["high"])
    except (TypeError, KeyError, ValueError):
        return None
    if math.isnan(low) or math.isnan(high) or ci_low is None or ci_high is None:
        return None
    low, high = min(low, high), max(low, high)
    below, above = ci_low < low, ci_high > high
    trivial = ci_high > low and ci_low < high
    if below and above:
        return "crosses-both"
    if below:
        return "crosses-low" if trivial else "beyond-low"
    if above:
        return "crosses-high" if trivial else "beyond-high"
    return "within"


def _side(direction, lower: bool) -> str:
    """'benefit' or 'harm' on the lower (or upper) side, given where benefit lies."""
    if direction not in ("lower", "higher"):
        return ""
    return " (important benefit)" if (direction == "lower") == lower else " (important harm)"


def mid_words(position: str, mid, direction=None) -> str:
    """The position of :func:`mid_position` in words."""
    low, high = fmt(min(float(mid["low"]), float(mid["high"]))), fmt(max(float(mid["low"]), float(mid["high"])))
    return {
        "beyond-low": f"lies wholly beyond the MID of {low}{_side(direction, True)}",
        "beyond-high": f"lies wholly beyond the MID of {high}{_side(direction, False)}",
        "crosses-low": f"crosses the MID of {low}{_side(direction, True)}",
        "crosses-high": f"crosses the MID of {high}{_side(direction, False)}",
        "crosses-both": f"crosses both MIDs ({low} and {high})",
        "within": f"lies within the MIDs ({low} to {high}: no important effect)",
    }[position]


def _conclusions(aid, a, b) -> list:
    """Changes in what analysis ``aid`` says (``a`` current, ``b`` previous entry)."""
    out = []
    was, now = excludes_null(b), excludes_null(a)
    if was != now:
        out.append({"analysis": aid, "kind": "null",
                    "previous": "excludes no effect" if was else "includes no effect",
                    "current": "excludes no effect" if now else "includes no effect"})
    ma, mb = a.get("mid"), b.get("mid")
    if ma and mb:
        pa, pb = mid_position(a["ci_low"], a["ci_high"], ma), mid_position(b["ci_low"], b["ci_high"], mb)
        if pa and pb and pa != pb:
            out.append({"analysis": aid, "kind": "mid", "previous": mid_words(pb, mb, b.get("direction")),
                        "current": mid_words(pa, ma, a.get("direction"))})
    for kind in ("certainty", "statement"):
        va, vb = a.get(kind), b.get(kind)
        if va is not None and vb is not None and str(va).strip() != str(vb).strip():
            out.append({"analysis": aid, "kind": kind, "previous": str(vb), "current": str(va)})
    return out


def _triple(e) -> dict:
    return {"estimate": e["estimate"], "ci_low": e["ci_low"], "ci_high": e["ci_high"]}


_LABEL = re.compile(r"^(.*) \(\d+\)$")


def _studies(entry, old_format: bool) -> list:
    """Distinct study names of an analysis; an older results file lists row labels
    (``Study (1)``), reduced here to the study."""
    names = [str(s) for s in entry.get("studies", [])]
    if old_format:
        names = [(_LABEL.match(s).group(1) if _LABEL.match(s) else s) for s in names]
    return list(dict.fromkeys(names))


#: The PRISMA-LSR item each key of ``changes.json`` answers (Akl et al. 2024, BMJ 387:e079183,
#: Table 1: L2 changes to the methods, L3 changes to the results, L4 the version and its contributors).
PRISMA_LSR_ITEMS = {"methods_changed": "L2", "studies_added": "L3", "studies_removed": "L3", "moved": "L3",
                    "conclusions": "L3", "analyses_added": "L3", "analyses_removed": "L3", "status_changed": "L3",
                    "data": "L3", "current_version": "L4", "previous_version": "L4"}
#: The items, as the checklist names them.
PRISMA_LSR_TITLES = {"L1": "Living mode parameters", "L2": "Changes to the methods since the preceding version",
                     "L3": "Changes to the results and conclusions since the preceding version",
                     "L4": "Versions, their authors and roles"}


def _prisma_lsr(out: dict) -> dict:
    """``{items, answered}`` of a record of changes (see :data:`PRISMA_LSR_ITEMS`)."""
    answered = set()
    for key, item in PRISMA_LSR_ITEMS.items():
        v = out.get(key)
        if key == "data":
            hit = bool(v and v.get("changes"))
        elif key in ("current_version", "previous_version"):
            hit = not out.get("first") and (out.get("current_version") or {}).get("version") != \
                (out.get("previous_version") or {}).get("version")
        else:
            hit = bool(v)
        if hit:
            answered.add(item)
    return {"items": dict(PRISMA_LSR_ITEMS), "answered": sorted(answered)}


def diff(current: dict, previous: dict | None, *, current_rows=None, previous_rows=None,
         data_note: str | None = None) -> dict:
    """The record of what changed (see the module docstring).  ``current_rows``
    and ``previous_rows`` are the data rows of the two packages (DataFrames);
    without the previous ones, ``data`` says why (``data_note``)."""
    out = _diff(current, previous, current_rows=current_rows, previous_rows=previous_rows, data_note=data_note)
    out["prisma_lsr"] = _prisma_lsr(out)
    return out


def _diff(current, previous, *, current_rows, previous_rows, data_note) -> dict:
    out = {"methods_changed": [], "first": not previous, "studies_added": [], "studies_removed": [], "moved": [], "conclusions": [],
           "analyses_added": [], "analyses_removed": [], "status_changed": [],
           "current_version": current.get("data_version"),
           "previous_version": (previous or {}).get("data_version")}
    if not previous:
        out["data"] = _no_data("there is no previous build to compare with")
        return out
    if previous.get("package") != current.get("package"):
        # results of another package are not an earlier version of this one
        out.update(first=True, other_package=True, previous_version=None)
        out["data"] = _no_data("the previous build was of another data package")
        return out
    if previous_rows is None or current_rows is None:
        out["data"] = _no_data(data_note or "the previous build's data package is not available")
    else:
        out["data"] = data_diff(previous_rows, current_rows)
    old_format = previous.get("results_format", 1) < RESULTS_FORMAT
    cur, prev = current["analyses"], previous["analyses"]
    out["analyses_added"] = sorted(set(cur) - set(prev), key=_aid_key)
    out["analyses_removed"] = sorted(set(prev) - set(cur), key=_aid_key)
    for aid in sorted(set(cur) & set(prev), key=_aid_key):
        a, b = cur[aid], prev[aid]
        ma = {"measure": a.get("measure"), "method": a.get("method")}
        mb = {"measure": b.get("measure"), "method": b.get("method")}
        if ma != mb and all(v is not None for v in (*ma.values(), *mb.values())):
            out["methods_changed"].append({"analysis": aid, "previous": mb, "current": ma})
        sa, sb = _studies(a, False), _studies(b, old_format)
        out["studies_added"] += [{"analysis": aid, "study": s} for s in sa if s not in sb]
        out["studies_removed"] += [{"analysis": aid, "study": s} for s in sb if s not in sa]
        if a.get("status") != "computed" or b.get("status") != "computed":
            if a.get("status") != b.get("status"):
                out["status_changed"].append({"analysis": aid, "previous": b.get("status"),
                                              "current": a.get("status")})
            continue
        if _triple(a) != _triple(b):
            out["moved"].append({"analysis": aid, "previous": _triple(b), "current": _triple(a)})
        out["conclusions"] += _conclusions(aid, a, b)
    return out


def _no_data(reason) -> dict:
    return {"available": False, "reason": reason, "rows_added": None, "rows_removed": None,
            "values_changed": None, "changes": []}


def _aid_key(aid):
    return tuple(int(x) if x.isascii() and x.isdigit() else 0 for x in str(aid).split("."))


# ------------------------------------------------------------------ data

def _value(v):
    """A cell as JSON: a number, a text, or None when blank."""
    if v is None:
        return None
    if isinstance(v, float):
        return None if math.isnan(v) else v
    if hasattr(v, "item"):  # numpy scalars
        return _value(v.item())
    if isinstance(v, (int,)):
        return float(v)
    text = str(v).strip()
    return text or None


def _keyed(rows) -> dict:
    """``(analysis, row label) -> {column: value}`` (row labels as the engine gives them)."""
    from ..package.analysis import row_labels
    from ..package.schema import analysis_id

    out = {}
    if rows is None or rows.empty:
        return out
    cols = [c for c in rows.columns if c not in KEY_COLUMNS]
    groups = {}
    for i, (g, n) in enumerate(zip(rows["Analysis group"], rows["Analysis number"])):
        try:
            aid = analysis_id(g, n)
        except (TypeError, ValueError):
            continue
        groups.setdefault(aid, []).append(i)
    for aid, idx in groups.items():
        labels = row_labels([str(rows["Study"].iloc[i]).strip() for i in idx])
        for i, lab in zip(idx, labels):
            r = rows.iloc[i]
            out[(aid, lab)] = {c: _value(r[c]) for c in cols}
    return out


def data_diff(previous_rows, current_rows) -> dict:
    """Values added, changed and removed between two tables of data rows."""
    before, after = _keyed(previous_rows), _keyed(current_rows)
    changes = []
    added = removed = changed = 0
    for key in sorted(set(before) | set(after), key=lambda k: (_aid_key(k[0]), k[1])):
        aid, study = key
        b, a = before.get(key), after.get(key)
        if b is None:
            added += 1
        elif a is None:
            removed += 1
        cols = list(dict.fromkeys(list((a or {}).keys()) + list((b or {}).keys())))
        for c in cols:
            vb, va = (b or {}).get(c), (a or {}).get(c)
            if vb == va:
                continue
            if b is not None and a is not None:
                changed += 1
            changes.append({"analysis": aid, "study": study, "column": c, "previous": vb, "current": va})
    return {"available": True, "rows_added": added, "rows_removed": removed, "values_changed": changed,
            "changes": changes}


# ------------------------------------------------------------------ versions and hash

def versions(pkg) -> list:
    """The package's version history (``versions.csv``) as a list of dicts, in file order."""
    frame = pkg.extra.get("versions.csv")
    if frame is None or frame.empty:
        return []
    return [{c: str(r.get(c, "")) for c in frame.columns} for _, r in frame.iterrows()]


def content_hash(pkg) -> str:
    """SHA-256 of the package's files as the site's download holds them, computed
    as ``find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum``
    computes it in the unzipped download (a manifest of each file's SHA-256 and
    path, hashed), so that a reader can check it without our software."""
    from ..package.datapackage import write

    with tempfile.TemporaryDirectory(prefix="reviewbook-hash-") as d:
        write(pkg, d)
        files = sorted((str(p.relative_to(d)).replace("\\", "/"), p) for p in Path(d).rglob("*") if p.is_file())
        manifest = "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  ./{rel}\n"
                           for rel, p in sorted(files, key=lambda x: ("./" + x[0]).encode()))
    return hashlib.sha256(manifest.encode()).hexdigest()


# ------------------------------------------------------------------ the page

_KIND_ORDER = {"null": 0, "mid": 1, "certainty": 2, "statement": 3}


def _sentence(aid, name, items) -> str:
    """One analysis's changes in conclusions, in words."""
    ci = []
    parts = []
    for c in sorted(items, key=lambda c: _KIND_ORDER.get(c["kind"], 9)):
        if c["kind"] == "null":
            ci.append(f"{c['current']} (before: {c['previous'].replace('excludes', 'excluded').replace('includes', 'included')})")
        elif c["kind"] == "mid":
            ci.append(f"{c['current']} (before: it {c['previous']})")
        elif c["kind"] == "certainty":
            parts.append(f"the certainty of the evidence moved from {c['previous']} to {c['current']}")
        else:
            parts.append(f"the narrative statement moved from '{c['previous']}' to '{c['current']}'")
    if ci:
        parts.insert(0, "the CI now " + " and ".join(ci))
    text = "; ".join(parts)
    return f"**Analysis {escape(aid)}** ({escape(name)}): {escape(text)}."


def _num(v) -> str:
    if v is None:
        return "blank"
    if isinstance(v, float):
        return fmt(v, 6) if not float(v).is_integer() else str(int(v))
    return str(v)


def render_markdown(payload: dict) -> str:
    """The 'What changed' page from ``payload``: ``{changes, current, previous,
    versions, executed, cached}``."""
    d = payload["changes"]
    cur = payload["current"]["analyses"]
    prev = (payload.get("previous") or {}).get("analyses", {})

    def name(aid):
        return (cur.get(aid) or prev.get(aid) or {}).get("name", "")

    lines = ["(sec-what-changed)=", "# What changed", ""]
    if d.get("other_package"):
        lines += ["The previous build was of another data package: there is nothing to compare with.", ""]
    elif d["first"]:
        lines += ["This is the first build with these results: there is nothing to compare with. When the book is "
                  "rebuilt on corrected or newer data, this page will list the data values added, changed or "
                  "removed, the studies added or removed, the pooled estimates that moved, and every change in what "
                  "an analysis says (its certainty, its statement, and where its confidence interval lies against no "
                  "effect and an important effect); `changes.json` on the {ref}`Downloads <sec-downloads>` page "
                  "holds the same comparison.", ""]
    else:
        pv, cv = d.get("previous_version") or {}, d.get("current_version") or {}
        if pv.get("version") or cv.get("version"):
            lines += [f"This build (data package version {escape(cv.get('version') or 'not recorded')}) is "
                      f"compared with the previous one (version {escape(pv.get('version') or 'not recorded')}).", ""]
        n = sum(len(d.get(k) or []) for k in ("studies_added", "studies_removed", "moved", "conclusions",
                                              "analyses_added", "analyses_removed", "status_changed",
                                              "methods_changed"))
        data = d["data"]
        if n == 0 and not data.get("changes"):
            lines += ["No data value, pooled estimate, study list or conclusion changed since the previous build.", ""]
        lines += ["## Conclusions", ""]
        by = {}
        for c in d["conclusions"]:
            by.setdefault(c["analysis"], []).append(c)
        if by:
            lines += ["Changes in what an analysis says: whether the CI excludes no effect, where it lies against "
                      "the thresholds of an important effect (MID), the certainty of the evidence and the narrative "
                      "statement.", ""]
            lines += [f"- {_sentence(aid, name(aid), items)}" for aid, items in by.items()] + [""]
        else:
            lines += ["No analysis changed in whether its CI excludes no effect, in where its CI lies against the "
                      "thresholds of an important effect, in certainty or in its narrative statement (where these "
                      "are given).", ""]
        lines += ["## Data", ""]
        if not data.get("available"):
            lines += [f"The data diff is not available: {escape(data.get('reason', ''))}.", ""]
        elif not data["changes"]:
            lines += ["No data value was added, changed or removed.", ""]
        else:
            lines += [f"{_count(data['rows_added'], 'data row')} added, {data['rows_removed']} removed and "
                      f"{_count(data['values_changed'], 'value')} changed in rows present in both versions.", ""]
            rows = [[c["analysis"], c["study"], c["column"], _num(c["previous"]), _num(c["current"]),
                     "added" if c["previous"] is None else "removed" if c["current"] is None else "changed"]
                    for c in data["changes"]]
            lines.append(md_table(["Analysis", "Study", "Column", "Previous", "Current", "Change"], rows,
                                  caption="Data values added, changed or removed (previous → current).",
                                  label="tbl-changes-data", align=["l", "l", "l", "r", "r", "l"]))
        lines += ["## Estimates", ""]
        if d["analyses_added"] or d["analyses_removed"]:
            rows = [[a, name(a), "added"] for a in d["analyses_added"]]
            rows += [[a, name(a), "removed"] for a in d["analyses_removed"]]
            lines.append(md_table(["Analysis", "Outcome", "Change"], rows, caption="Analyses added or removed.",
                                  label="tbl-changes-analyses"))
        studies = {}
        for key, what in (("studies_added", 0), ("studies_removed", 1)):
            for s in d[key]:
                studies.setdefault(s["analysis"], ([], []))[what].append(s["study"])
        if studies:
            rows = [[a, name(a), ", ".join(ad) or "none", ", ".join(rm) or "none"] for a, (ad, rm) in studies.items()]
            lines.append(md_table(["Analysis", "Outcome", "Studies added", "Studies removed"], rows,
                                  caption="Studies added or removed.", label="tbl-changes-studies"))
        if d["moved"] or d["status_changed"]:
            rows = [[m["analysis"], name(m["analysis"]), _est(m["previous"]), _est(m["current"]),
                     _change(m["current"]["estimate"] - m["previous"]["estimate"])] for m in d["moved"]]
            rows += [[s["analysis"], name(s["analysis"]), str(s["previous"]), str(s["current"]), ""]
                     for s in d["status_changed"]]
            lines.append(md_table(["Analysis", "Outcome", "Previous", "Current", "Change in estimate"], rows,
                                  caption="Estimates that moved.", label="tbl-changes-moved"))
        if not (d["moved"] or d["status_changed"] or studies or d["analyses_added"] or d["analyses_removed"]):
            lines += ["No pooled estimate or study list changed.", ""]
    history = payload.get("versions") or []
    lines += prisma_lsr_section(d, history)
    lines += ["## Versions of the data package", ""]
    if history:
        rows = [[v.get("version", ""), v.get("date", "") or "not recorded", v.get("rows_added", ""),
                 v.get("source", "") or "not recorded", v.get("note", "")] for v in history]
        lines.append(md_table(["Version", "Date", "Rows added", "Source", "Note"], rows,
                              caption="The package's version history (versions.csv).", label="tbl-changes-versions",
                              align=["l", "l", "r", "l", "l"]))
    else:
        lines += ["The data package keeps no version history (it has no `versions.csv`).", ""]
    executed, cached = payload.get("executed", []), payload.get("cached", [])
    if cached and not d["first"] and not d.get("other_package"):
        same = ("read only data that did not change, so their results are those of the previous build: "
                + escape(", ".join(cached)) + ".")
        lines += ["## Pages recomputed", "",
                  ("Pages whose results were computed afresh for this build: " + escape(", ".join(executed))
                   + ". The others " + same) if executed else "No page was computed afresh: every page " + same,
                  ""]
    return "\n".join(lines)


def _plural(n, one, many=None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def living_mode(history: list) -> str:
    """PRISMA-LSR item L1 (living mode parameters) as the package's version history states it."""
    text = ("The book is re-run from its data package each time the package gains a version: an update is "
            "triggered by new or corrected data (a new trial added to the package with its source), not by a "
            "fixed schedule. No schedule for searching the literature and no plan for retiring the living mode is stated "
            "in the data package: not reported.")
    if history:
        dates = [v.get("date") for v in history if v.get("date")]
        text += (f" The package has {_plural(len(history), 'version')}"
                 + (f", the first dated {escape(dates[0])} and the latest {escape(dates[-1])}" if dates else "")
                 + ".")
    else:
        text += " The package keeps no version history (no `versions.csv`)."
    return text


def version_authors(history: list) -> str:
    """PRISMA-LSR item L4 (versions, authors and roles) as the version history states it."""
    if not history:
        return "The data package keeps no version history, so no version, author or role is recorded."
    return (f"The data package's version history ({_plural(len(history), 'version')}; `versions.csv`) gives each "
            "version's date, the rows it added and their source; it records no authors or roles per version: "
            "not reported.")


def prisma_lsr_section(d: dict, history: list) -> list:
    """The 'What changed' page's PRISMA-LSR section (Markdown lines): items L1 to L4."""
    t = PRISMA_LSR_TITLES
    lines = ["## PRISMA-LSR", "",
             "This update is reported by the four items that the PRISMA extension for living systematic reviews adds "
             "(PRISMA-LSR, Akl et al. 2024, BMJ 387:e079183)"
             + (f"; this comparison has changes for {', '.join(d['prisma_lsr']['answered'])}"
                if d.get("prisma_lsr", {}).get("answered") else "") + ".", ""]
    lines.append(f"- **L1 {t['L1']}.** {living_mode(history)}")
    if d.get("first"):
        lines.append(f"- **L2 {t['L2']}.** There is no preceding version to compare with.")
        lines.append(f"- **L3 {t['L3']}.** There is no preceding version to compare with.")
    else:
        mc = d.get("methods_changed") or []
        if mc:
            l2 = "; ".join(f"analysis {escape(m['analysis'])}: {escape(m['previous']['measure'])} "
                           f"{escape(m['previous']['method'])} to {escape(m['current']['measure'])} "
                           f"{escape(m['current']['method'])}" for m in mc)
            lines.append(f"- **L2 {t['L2']}.** The effect measure or pooling method changed: {l2}.")
        else:
            lines.append(f"- **L2 {t['L2']}.** No analysis changed its effect measure or pooling method; the "
                         "rules of the methods page apply to every version alike.")
        added = len({(s['analysis'], s['study']) for s in d["studies_added"]})
        concl = sorted({c["analysis"] for c in d["conclusions"]}, key=_aid_key)
        parts = [_plural(added, "study added to an analysis", "studies added to analyses"),
                 _plural(len(d["studies_removed"]), "study removed", "studies removed"),
                 _plural(len(d["moved"]), "pooled estimate moved", "pooled estimates moved"),
                 _plural(len(d["conclusions"]), "change in a conclusion", "changes in conclusions")
                 + (f" (analyses {escape(', '.join(concl))})" if concl else "")]
        lines.append(f"- **L3 {t['L3']}.** " + "; ".join(parts) + " (listed above).")
    lines.append(f"- **L4 {t['L4']}.** {version_authors(history)}")
    return lines + [""]


def _est(t) -> str:
    """An estimate and its CI as the book's tables write them: 'MD -5.32 (-15.51 to 4.87)'
    without the measure (the outcome's row names it)."""
    return f"{fmt(t['estimate'])} ({fmt(t['ci_low'])} to {fmt(t['ci_high'])})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _change(x: float) -> str:
    """A change in a pooled estimate to the book's 2 decimals, signed; a move that
    rounds to 0.00 says so rather than print a zero."""
    text = fmt(x)
    if text.lstrip("-") == "0.00":
        return "less than 0.005 in size"
    return text if text.startswith("-") else "+" + text


def package_zip_name(pkg_id: str) -> str:
    """The file name of the data package download in the site's ``downloads/``."""
    return f"{pkg_id}-data-package.zip"


def data_version(pkg) -> dict:
    """The package's version (the last row of its ``versions.csv``), that version's
    date and the content hash of the package (:func:`.changes.content_hash`)."""
    history = versions(pkg)
    last = history[-1] if history else {}
    return {"version": last.get("version") or None, "date": last.get("date") or None,
            "sha256": content_hash(pkg)}


def _version_label(version) -> str:
    """A version string fit for a link label (letters, digits, '.', '+', '-')."""
    return re.sub(r"[^\w.+-]", "", str(version)) or "unknown"


def version_block(pkg, version: dict) -> str:
    """The landing page's statement of what was reviewed (Markdown): the data
    package's version and content hash, the software version and the date of
    the data (the latest ``versions.csv`` date; never the build machine's clock)."""
    from .. import __version__
    v, date = version.get("version"), version.get("date")
    zip_name = html.escape(f"downloads/{package_zip_name(pkg.id)}")
    lines = [f"- Data: package {escape(pkg.id)}, "
             + (f"version {escape(v)} (the latest entry of its `versions.csv`)" if v
                else "version not recorded (the package has no `versions.csv`)") + ".",
             f"- Build date of the data: {escape(date) if date else 'not recorded'}.",
             f"- Content hash: SHA-256 `{version['sha256']}` of the package's files, as in "
             f'<a href="{zip_name}" download>{zip_name}</a>. Anyone can confirm it: '
             "unzip the download into an empty folder and run "
             "`find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum` there.",
             f"- Software: {{ref}}`reviewbook {_version_label(__version__)} <sec-rerun>`, which rebuilds "
             "this book from the package."]
    return "\n".join(lines)
