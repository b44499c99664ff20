"""Anticipated absolute effects, as the Cochrane Handbook (ch. 14; 5.1, 12.5.4)
and GRADEpro compute them.

* **Assumed risk**: a stated representative control risk (the review file's,
  with its source), by default the median control-arm risk of the studies
  (Cochrane Handbook 5.1, 11.5.6.3).
* **Corresponding risk** per 1,000 from the relative effect: ``ACR × RR``;
  ``OR × ACR / (1 − ACR + OR × ACR)`` for odds ratios (Handbook 5.1, 12.5.4.2
  and 12.5.4.3; both examples there are reproduced in the tests).  A risk cannot
  exceed 1,000 per 1,000: a bound that would is shown as 1,000 and the table
  says it was capped.
* **Assumed risk 0**: a relative effect cannot give an absolute one (any ratio
  times 0 is 0).  The risk difference is then pooled from the data with the
  analysis's own method and model, and shown per 1,000 with its CI and a
  footnote.
* **Continuous outcomes**: the mean in the control arms (median of the
  control-arm means, with their range) and the mean difference with its CI
  (GRADE 13).
* **Not estimable**: the real participants and events of every row.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.report import fmt, measure_text
from .counting import median_control_risk


@dataclass(frozen=True)
class Absolute:
    """``control``/``intervention``: the two cells of a summary of findings'
    anticipated absolute effects, as text; ``difference``: per 1,000 (ratios)
    or in the outcome's units; ``footnotes``: what a reader must know (capping,
    a zero control risk, where the assumed risk comes from)."""

    kind: str  # "ratio", "risk difference", "mean", "not estimable"
    control: str
    intervention: str
    assumed_risk: float | None = None
    per_1000: tuple | None = None  # (corresponding, low, high) per 1,000
    difference: tuple | None = None  # (difference, low, high): per 1,000 for risks
    capped: bool = False
    footnotes: tuple = ()


def per_1000(x: float) -> str:
    """A risk per 1,000 as a whole number with a thousands separator ('1,000')."""
    return "not estimable" if x is None or x != x else f"{int(fmt(x, 0)):,}"


def corresponding_risk(acr: float, measure: str, ratio: float) -> float:
    """The intervention risk (per 1) for assumed control risk ``acr`` and a
    ratio (Cochrane Handbook 5.1, 12.5.4.2 for RR, 12.5.4.3 for OR); not capped."""
    if measure in ("RR", "HR", "GENR"):
        return acr * ratio
    if measure == "OR":
        return ratio * acr / (1 - acr + ratio * acr)
    raise ValueError(f"absolute effects need a risk or odds ratio, not {measure}")


def _diff_text(d: float) -> str:
    """'24 fewer per 1,000', '3 more per 1,000', '0 fewer per 1,000'."""
    n = int(fmt(abs(d), 0))
    return f"{n:,} {'fewer' if d < 0 else 'more'}"


def _range_text(lo: float, hi: float) -> str:
    return f"{_diff_text(lo)} to {_diff_text(hi)}"


def ratio_effect(ar, assumed=None, rd=None) -> Absolute:
    """Absolute effects of a dichotomous analysis pooled as a ratio.

    ``assumed``: (risk, basis text) of a stated assumed risk, or None for the
    median control-arm risk; ``rd``: the analysis pooled as a risk difference
    (a :class:`~reviewbook.engine.pooling.MetaResult`), used when the assumed
    risk is 0."""
    r = ar.result
    if assumed is not None:
        acr, basis = assumed
    else:
        acr, n = median_control_risk(ar)
        basis = f"median control-arm risk of {n} {'study row' if n == 1 else 'study rows'}"
    if acr is None:
        return Absolute("not estimable", "not reported", "not estimable", footnotes=("no control arm with data",))
    notes = [f"Assumed risk with control: {per_1000(1000 * acr)} per 1,000 ({basis})."]
    if acr == 0:
        if rd is None:
            return Absolute("risk difference", "0 per 1,000", "not estimable", 0.0,
                            footnotes=tuple(notes) + ("The control risk is 0, so a relative effect gives no absolute "
                                                      "effect; no risk difference was pooled.",))
        d = tuple(1000 * x for x in (rd.estimate, rd.ci_low, rd.ci_high))
        notes.append("The control risk is 0, so a relative effect cannot give an absolute one: the risk difference "
                     "is pooled from the data instead (same method and model as the analysis).")
        return Absolute("risk difference", "0 per 1,000",
                        f"{_diff_text(d[0])} per 1,000 ({_range_text(d[1], d[2])})", 0.0, None, d, False,
                        tuple(notes))
    raw = [1000 * corresponding_risk(acr, r.measure, x) for x in (r.estimate, r.ci_low, r.ci_high)]
    capped = any(x > 1000 for x in raw)
    cor = tuple(min(1000.0, x) for x in raw)
    if capped:
        notes.append("A limit above 1,000 per 1,000 is shown as 1,000: a risk cannot exceed 1.")
    diff = tuple(x - 1000 * acr for x in cor)
    text = f"{per_1000(cor[0])} per 1,000 ({per_1000(cor[1])} to {per_1000(cor[2])})"
    if capped:
        text += " (capped)"
    return Absolute("ratio", f"{per_1000(1000 * acr)} per 1,000", text + f"; {_diff_text(diff[0])} per 1,000",
                    acr, cor, diff, capped, tuple(notes))


def mean_effect(ar) -> Absolute:
    """Control-arm mean and the mean difference (or SMD) with its CI."""
    import numpy as np

    r = ar.result
    means = [float(a["Control mean"]) for a in ar.arms
             if a.get("Control mean") is not None and a.get("Control mean") == a.get("Control mean")]
    if r.measure == "MD" and means:
        med = float(np.median(means))
        control = (f"mean {fmt(med)}" + (f" (range {fmt(min(means))} to {fmt(max(means))})" if len(means) > 1 else ""))
        notes = ("Control: the median of the control-arm means of the studies.",)
    else:
        control, notes = "not applicable", ()
    label = measure_text(r.measure, r.label)

    def side(x):
        if fmt(abs(x)) == fmt(0):
            return fmt(0)
        return f"{fmt(abs(x))} {'lower' if x < 0 else 'higher'}"

    text = f"{label} {side(r.estimate)} ({side(r.ci_low)} to {side(r.ci_high)})"
    return Absolute("mean", control, text, difference=(r.estimate, r.ci_low, r.ci_high), footnotes=notes)


def not_estimable(count) -> Absolute:
    """A non-estimable analysis: its real participants and events."""
    if count.events is not None:
        e1, n1, e2, n2 = count.events
        return Absolute("not estimable", f"{e2}/{n2}", f"{e1}/{n1}",
                        footnotes=("Not estimable: no study had an event in either arm, so no relative effect can "
                                   "be computed; the events and participants are shown as reported.",))
    return Absolute("not estimable", "not estimable", "not estimable",
                    footnotes=("Not estimable: no study has usable data for this measure.",))
