"""Counting studies, not rows; and which analyses are subgroup views of another.

* **Studies** are distinct study names.  A study may fill several data rows of
  one analysis (separate participant groups or arms: the review enters each as
  its own row); it counts once, and is noted once.
* **Participants** are the sum of the experimental and control totals of every
  row of the analysis, estimable or not (as RevMan's total row counts them), so
  an analysis that is not estimable still shows its real participants.
* **Subgroup views.** An analysis with subgroups whose data rows all appear, with
  the same numbers, in one analysis of the same comparison that has no
  subgroups is a subgroup view of that analysis (its *parent*): the same
  studies, split.  Summary tables list the parent as the outcome and the view
  under it, never as a separate outcome (Cochrane Handbook ch. 10.11: subgroup
  analyses explore effect modification; they are not further outcomes).  The
  rule reads the rows, not the analysis names.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

_DATA = ("Experimental cases", "Experimental N", "Experimental mean", "Experimental SD", "Control cases",
         "Control N", "Control mean", "Control SD", "GIV Mean", "GIV SE", "O-E", "Variance")


@dataclass(frozen=True)
class Count:
    """``studies``: distinct study names of the rows, in order; ``estimable``:
    distinct names among estimable rows; ``rows``: data rows; ``participants``:
    all rows' totals; ``repeated``: (study, rows) for studies with several rows;
    ``events``: (experimental events, experimental N, control events, control N)
    summed over all rows for dichotomous data (None otherwise)."""

    studies: tuple
    estimable: tuple
    rows: int
    participants: int
    repeated: tuple
    events: tuple | None

    @property
    def k(self) -> int:
        return len(self.estimable)

    def text(self) -> str:
        """'185 (7 RCTs)' as a summary of findings writes it."""
        n = len(self.studies)
        return f"{self.participants:,} ({n} {'RCT' if n == 1 else 'RCTs'})"

    def repeated_note(self) -> str:
        if not self.repeated:
            return ""
        parts = [f"{s} ({n} rows)" for s, n in self.repeated]
        return ("counted once although it fills several rows (separate participant groups): " if len(parts) == 1
                else "each counted once although they fill several rows (separate participant groups): ") + \
            ", ".join(parts)


def _num(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if x != x else x


def count(ar) -> Count:
    """The :class:`Count` of an :class:`~reviewbook.package.analysis.AnalysisResult`."""
    rows = ar.row_arms or ar.arms
    names = [str(a.get("Study", "")) for a in rows]
    studies = tuple(dict.fromkeys(names))
    estimable = tuple(dict.fromkeys(str(a.get("Study", "")) for a in ar.arms))
    participants = int(sum(_num(a.get("Experimental N")) + _num(a.get("Control N")) for a in rows))
    c = Counter(names)
    repeated = tuple((s, c[s]) for s in studies if c[s] > 1)
    events = None
    if ar.settings.data_type == "Dichotomous":
        events = tuple(int(sum(_num(a.get(k)) for a in rows))
                       for k in ("Experimental cases", "Experimental N", "Control cases", "Control N"))
    return Count(studies, estimable, len(rows), participants, repeated, events)


def _row_keys(rows) -> Counter:
    cols = [c for c in _DATA if c in rows.columns]
    keys = Counter()
    for _, r in rows.iterrows():
        keys[(str(r["Study"]),) + tuple(round(_num(r[c]), 9) for c in cols)] += 1
    return keys


def _subgrouped(rows) -> bool:
    return "Subgroup" in rows.columns and any(str(x).strip() and str(x) != "nan" for x in rows["Subgroup"])


def subgroup_parents(pkg) -> dict:
    """``{analysis id: parent id}`` for every analysis that is a subgroup view of
    another (see the module docstring).  Where several analyses qualify as parent,
    the one with the fewest rows (the closest superset), then the first, is taken."""
    ids = pkg.analysis_ids()
    rows = {a: pkg.rows_of(a) for a in ids}
    keys = {a: _row_keys(r) for a, r in rows.items()}
    plain = [a for a in ids if not _subgrouped(rows[a]) and len(rows[a])]
    out = {}
    for a in ids:
        if not len(rows[a]) or not _subgrouped(rows[a]):
            continue
        group = a.split(".")[0]
        best = None
        for p in plain:
            if p.split(".")[0] != group:
                continue
            if not (keys[a] - keys[p]) and (best is None or sum(keys[p].values()) < sum(keys[best].values())):
                best = p
        if best is not None:
            out[a] = best
    return out


def study_population_risk(ar) -> tuple:
    """``(risk, events, participants)``: the control-arm events over the control-arm
    participants summed over every row of the analysis, the assumed risk GRADEpro
    calls the *study population*'s; ``(None, 0, 0)`` when no row has a control arm.
    It is 0 only when every control arm had 0 events."""
    rows = [a for a in (ar.row_arms or ar.arms) if _num(a.get("Control N")) > 0]
    if not rows:
        return None, 0, 0
    e = int(sum(_num(a.get("Control cases")) for a in rows))
    n = int(sum(_num(a.get("Control N")) for a in rows))
    return e / n, e, n


def arm_counts(ar) -> list:
    """``(study, experimental events, N, control events, N)`` for every row of a
    dichotomous analysis, as reported."""
    return [(str(a.get("Study", "")), int(_num(a.get("Experimental cases"))), int(_num(a.get("Experimental N"))),
             int(_num(a.get("Control cases"))), int(_num(a.get("Control N")))) for a in (ar.row_arms or ar.arms)]
