"""Set our estimates beside the review's published ones (data/published-estimates.csv).

A published row matches an analysis when its comparison's label appears in the
analysis group name and its outcome (and window, for pain) in the analysis
name.  The explanation of each gap is computed from what differs: the studies
we could pool, the measure and the model.
"""
from __future__ import annotations

import csv
import re

from ..engine.report import fmt, fmt_ci
from .paths import resolve

COMPARISON_PATTERNS = {
    "ketamine_iv": r"intravenous ketamine|\bIV ketamine", "ketamine_oral": r"oral ketamine",
    "ketamine_topical": r"topical ketamine", "memantine": r"memantine",
    "dextromethorphan": r"dextromethorphan", "amantadine": r"amantadine", "magnesium": r"magnesium",
}
OUTCOME_PATTERNS = {"pain": r"pain intensity", "any_ae": r"any adverse event"}
LABELS = {"ketamine_iv": "IV ketamine", "ketamine_oral": "Oral ketamine", "ketamine_topical": "Topical ketamine",
          "memantine": "Memantine", "dextromethorphan": "Dextromethorphan", "amantadine": "Amantadine",
          "magnesium": "Magnesium"}


def read_published(path):
    p = resolve(path)
    if not p.exists():
        return []
    with open(p, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def _num(x):
    x = (x or "").strip()
    return float(x) if x else None


def match(pub, settings) -> bool:
    cp = COMPARISON_PATTERNS.get(pub["comparison"])
    op = OUTCOME_PATTERNS.get(pub["outcome"], re.escape(pub["outcome"]))
    if not cp or not re.search(cp, settings.group_name, re.I) or not re.search(op, settings.name, re.I):
        return False
    if pub["window"]:
        return re.search(rf"\b{re.escape(pub['window'])}\b", settings.name, re.I) is not None
    return True


def compare(sec, published_csv):
    """Rows for the comparison table of a :class:`~reviewbook.book.Section`."""
    rows = []
    for pub in read_published(published_csv):
        hit = None
        for it in sec.items:
            if match(pub, sec.pkg.analysis(it.aid)):
                hit = it
                break
        relevant = hit is not None or _section_owns(sec, pub)
        if not relevant:
            continue
        est, lo, hi = _num(pub["estimate"]), _num(pub["ci_low"]), _num(pub["ci_high"])
        published = (f"{pub['measure']} {fmt(est)} [{fmt(lo)}, {fmt(hi)}]" if est is not None
                     else (pub["note"] or "not pooled"))
        outcome = pub["outcome"] + (f", {pub['window']} term" if pub["window"] else "")
        if hit is None or hit.result is None:
            rows.append([LABELS.get(pub["comparison"], pub["comparison"]), outcome, published,
                         pub["certainty"] or "not reported", "no data in this package",
                         "0", _explain(None, pub)])
            continue
        r = hit.result.result
        studies = ", ".join(s.study for s in r.studies)
        rows.append([LABELS.get(pub["comparison"], pub["comparison"]), outcome, published,
                     pub["certainty"] or "not reported",
                     f"{r.measure} {fmt_ci(r)}",
                     f"{r.k} ({studies})", _explain(r, pub)])
    return rows


def _section_owns(sec, pub) -> bool:
    """Whether a published row belongs to this section even without a matching analysis."""
    if sec.key == "harms":
        return pub["outcome"] != "pain"
    if pub["outcome"] != "pain":
        return False
    return {"ketamine_iv": "ketamine_iv", "memantine": "memantine"}.get(pub["comparison"], "other_nmda") == sec.key


def _explain(r, pub) -> str:
    pk = _num(pub.get("studies"))
    if r is None:
        if pk == 0:
            return "neither the review nor our extraction has a study for this outcome"
        return ("our extraction has no usable data for this outcome (the trial reports we could read "
                "did not give the needed numbers)")
    est = _num(pub["estimate"])
    parts = []
    if est is not None:
        parts.append(f"difference ours − published = {fmt(r.estimate - est)}")
    parts.append(f"we pool {r.k} {'study' if r.k == 1 else 'studies'}"
                 + (f", the review {int(pk)}" if pk is not None else
                    "; the review's number of studies for this estimate is not public"))
    if r.k < 3:
        parts.append("with so few studies our estimate is not a reproduction of the review's")
    return "; ".join(parts)
