"""GRADE-style certainty from a pooled result, with the reason for each
downgrade that the data support.

The rules are explicit and mechanical, so a reader can check each judgement;
they are ours (the review's GRADE judgements are not public), stated in the
book's methods page:

* Start at *high* (randomised trials).
* Risk of bias: judged only from a package's risk-of-bias table; when it says
  "Not assessed" there is nothing to judge and no downgrade is made, which is
  stated, so the certainty shown is an upper bound.
* Inconsistency: I² > 50% with k >= 2: -1 (I² > 75%: -2).  One study: not assessable.
* Imprecision: fewer than ``ois`` participants (optimal information size,
  default 400): -1; the CI includes both no effect and an appreciable effect
  (``mid``: 10 points on 0-100 for pain; RR 0.75/1.25): -1.  At most -2.
* Publication bias: Egger's test p < 0.10 with k >= 10: -1; otherwise not assessed.
* Indirectness: not assessed (no downgrade; stated).
"""
from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("very low", "low", "moderate", "high")


@dataclass(frozen=True)
class Downgrade:
    domain: str
    levels: int
    reason: str


@dataclass(frozen=True)
class Grade:
    certainty: str
    downgrades: tuple
    notes: tuple

    def reasons(self) -> str:
        parts = [f"{d.domain} (−{d.levels}): {d.reason}" for d in self.downgrades if d.levels]
        return "; ".join(parts) if parts else "no downgrade supported by the data"


def assess(result, *, participants: int, rob_assessed: bool = False, egger_p: float | None = None,
           mid: float | None = None, ois: int = 400) -> Grade:
    """Certainty of one pooled result (see module docstring for the rules)."""
    ratio = result.is_ratio
    if mid is None:
        mid = 10.0 if not ratio else None
    downs, notes = [], []
    if not rob_assessed:
        notes.append("risk of bias not assessed (judgements not public): certainty is an upper bound")
    if result.k >= 2 and result.i2 is not None and result.i2 > 50:
        lv = 2 if result.i2 > 75 else 1
        downs.append(Downgrade("inconsistency", lv, f"I² = {result.i2:.0f}%"))
    elif result.k < 2:
        notes.append("inconsistency not assessable (one study)")
    imp = 0
    why = []
    if participants < ois:
        imp += 1
        why.append(f"{participants} participants (< {ois})")
    lo, hi = result.ci_low, result.ci_high
    if ratio:
        crosses = lo < 1 < hi and (lo < 0.75 or hi > 1.25)
        appreciable = "RR 0.75 or 1.25"
    else:
        crosses = lo < 0 < hi and (lo < -mid or hi > mid)
        appreciable = f"±{mid:g} points"
    if crosses:
        imp += 1
        why.append(f"CI includes no effect and {appreciable}")
    if imp:
        downs.append(Downgrade("imprecision", min(imp, 2), "; ".join(why)))
    if result.k >= 10 and egger_p is not None:
        if egger_p < 0.10:
            downs.append(Downgrade("publication bias", 1, f"Egger's test p = {egger_p:.3f}"))
    else:
        notes.append("publication bias not assessable (fewer than 10 studies)")
    notes.append("indirectness not assessed")
    total = min(3, sum(d.levels for d in downs))
    return Grade(LEVELS[3 - total], tuple(downs), tuple(notes))


def absolute_per_1000(control_events: float, control_n: float, rr: float, rr_low: float, rr_high: float):
    """Assumed control risk (pooled control arms) and the corresponding
    intervention risk per 1,000 with its CI: ``1000 * CR * RR``."""
    cr = control_events / control_n if control_n else float("nan")
    return {"control": 1000 * cr, "intervention": 1000 * cr * rr,
            "low": 1000 * cr * rr_low, "high": 1000 * cr * rr_high}
