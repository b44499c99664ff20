"""Study-flow pages: PRISMA diagram, characteristics, studies not pooled, coverage."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..engine.report import fmt
from ..package.schema import Package
from ..views.tables import Figure, Note, Table
from .glue import _display, _glue, _shows
from .paths import load


def _flow_counts(pkg: Package) -> dict:
    flow = pkg.extra.get("study-flow.csv")
    if flow is None:
        return {}
    return {r["step"]: r["count"] for _, r in flow.iterrows()}


@_shows
def prisma(package, figures="figures"):
    """PRISMA 2020 flow diagram from the package's study-flow counts."""
    from ..views.prisma import BOXES, count_text, prisma_diagram

    pkg = load(package)
    counts = _flow_counts(pkg)
    if not counts:
        _display(Note("This data package has no study-flow counts (study-flow.csv); the PRISMA diagram "
                      "shows every count as not reported.", "note"))
    fig = prisma_diagram(counts)
    known = [f"{label}: {count_text(counts.get(k))}" for k, label, _, _ in BOXES]
    _display(Figure(fig, str(Path(figures) / "study_flow_prisma.png"),
                    caption="PRISMA 2020 flow diagram. Counts that are not public are shown as 'not reported'.",
                    label="fig-prisma", alt="PRISMA flow diagram. " + "; ".join(known) + "."))
    for k, _, _, _ in BOXES:
        _glue(f"flow_{k}", count_text(counts.get(k)))


def _study_analyses(pkg: Package) -> dict:
    out = {}
    for _, r in pkg.rows.iterrows():
        out.setdefault(r["Study"], set()).add(f"{int(r['Analysis group'])}.{int(r['Analysis number'])}")
    return out


@_shows
def characteristics(package):
    """Characteristics of included studies (as RevMan's table), from study-information.csv."""
    pkg = load(package)
    if pkg.studies.empty:
        _display(Note("The package has no study information table.", "note"))
        return None
    used = _study_analyses(pkg)
    rows = []
    for _, s in pkg.studies.iterrows():
        rows.append([s.get("Study", ""), s.get("Char: Methods", ""), s.get("Char: Participants", ""),
                     s.get("Char: Interventions", ""), ", ".join(sorted(used.get(s.get("Study", ""), []))) or "none"])
    t = Table(["Study", "Methods", "Participants", "Interventions", "Analyses"], rows,
              caption="Characteristics of included studies.", label="tbl-characteristics")
    _display(t)
    return t


@_shows
def not_pooled(package):
    """Studies that contribute to no analysis, with the reason recorded in the package."""
    pkg = load(package)
    used = _study_analyses(pkg)
    rows = []
    for _, s in pkg.studies.iterrows() if not pkg.studies.empty else []:
        if s.get("Study", "") in used:
            continue
        note = str(s.get("Char: Notes", ""))
        reasons = re.search(r"Reasons: \{(.*?)\}\. ", note)
        elig = re.search(r"Eligibility: (\w+)", note)
        rows.append([s["Study"], reasons.group(1).replace(" | ", "; ") if reasons else "no usable data reported",
                     elig.group(1) if elig else "not stated"])
    _glue("n_not_pooled", str(len(rows)))
    if not rows:
        _display(Note("Every included study contributes to at least one analysis.", "note"))
        return None
    t = Table(["Study", "Why not pooled", "Eligibility"], rows,
              caption="Included studies that contribute to no meta-analysis, with reasons.",
              label="tbl-not-pooled")
    _display(t)
    return t


@dataclass(frozen=True)
class Coverage:
    studies_included: int
    studies_with_data: int
    participants_randomised: int
    participants_pooled: int
    review_studies: int | None
    review_participants: int | None


def coverage_of(pkg: Package) -> Coverage:
    """How much of the review this package covers (review totals from study-flow.csv)."""
    used = _study_analyses(pkg)
    per_study = {}
    for _, r in pkg.rows.iterrows():
        n = int((r["Experimental N"] or 0) + (r["Control N"] or 0))
        per_study[r["Study"]] = max(per_study.get(r["Study"], 0), n)
    rand = 0
    for _, s in pkg.studies.iterrows() if not pkg.studies.empty else []:
        m = re.search(r"randomised: (\d+)", str(s.get("Char: Participants", "")))
        if m:
            rand += int(m.group(1))
    counts = _flow_counts(pkg)

    def num(k):
        v = str(counts.get(k, "") or "").strip()
        return int(float(v)) if v else None

    return Coverage(len(pkg.studies), len(used), rand, sum(per_study.values()), num("studies_included"),
                    num("participants_randomised"))


@_shows
def coverage(package):
    """Table: what our data cover against the review's totals; glues the numbers."""
    pkg = load(package)
    c = coverage_of(pkg)

    def pct(a, b):
        return "not reported" if not b else f"{fmt(100 * a / b, 1)}%"

    rows = [["Studies described (judged eligible or possibly eligible)", c.studies_included,
             c.review_studies or "not reported", "not comparable: the review's list of studies is not public"],
            ["Studies contributing to a meta-analysis", c.studies_with_data,
             _flow_counts(pkg).get("studies_in_meta_analyses") or "not reported",
             pct(c.studies_with_data, int(float(_flow_counts(pkg).get("studies_in_meta_analyses") or 0)))],
            ["Participants randomised in the studies described (where reported)", c.participants_randomised,
             c.review_participants or "not reported", "not comparable (as above)"],
            ["Participants in our meta-analyses", c.participants_pooled, "", pct(c.participants_pooled, c.review_participants)]]
    for key, val in (("cov_studies_included", c.studies_included), ("cov_studies_with_data", c.studies_with_data),
                     ("cov_participants_randomised", c.participants_randomised),
                     ("cov_participants_pooled", c.participants_pooled),
                     ("cov_review_studies", c.review_studies or "not reported"),
                     ("cov_review_participants", c.review_participants or "not reported"),
                     ("cov_pct_studies_with_data", pct(c.studies_with_data, c.review_studies)),
                     ("cov_pct_participants_pooled", pct(c.participants_pooled, c.review_participants))):
        _glue(key, str(val))
    t = Table(["Quantity", "This data set", "The review", "Coverage"], rows,
              caption="Coverage of this data set against the review's totals.", label="tbl-coverage")
    _display(t)
    return t
