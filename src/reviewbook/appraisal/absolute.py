"""Anticipated absolute effects, as the Cochrane Handbook (ch. 14; 5.1, 12.5.4)
and GRADEpro compute them.

* **Assumed risk**: a stated representative control risk (the review file's,
  with its source), by default the risk of the *study population* as GRADEpro
  computes it: the control-arm events over the control-arm participants of the
  studies of the analysis.  It is 0 only when every control arm had 0 events.
* **Corresponding risk** per 1,000 from the relative effect: ``ACR × RR``;
  ``OR × ACR / (1 − ACR + OR × ACR)`` for odds ratios (Handbook 5.1, 12.5.4.2
  and 12.5.4.3; both examples there are reproduced in the tests).  A risk cannot
  exceed 1,000 per 1,000: a bound that would is shown as 1,000 and the table
  says it was capped.  Both maps are increasing in the ratio, so the absolute
  effect and its CI point the way the relative effect and its CI point; this is
  checked on every result (:func:`check_direction`).
* **Every control arm with 0 events**: a relative effect cannot give an absolute
  one (any ratio times a risk of 0 is 0).  The events and participants of each
  arm are shown instead, and no absolute effect.
* **Continuous outcomes**: the mean in the control arms (median of the
  control-arm means) and the mean difference with its CI (GRADE 13).  Whether
  the means are final values or changes from baseline is said where the data
  state it, and "not reported" otherwise; a range of control means is shown
  only for final values, since the range of change scores is not the scale's.
* **Not estimable**: the real participants and events of every row.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.report import fmt, measure_text
from .counting import arm_counts, study_population_risk
from .sources import cite


@dataclass(frozen=True)
class Absolute:
    """``control``/``intervention``: the two cells of a summary of findings'
    anticipated absolute effects, as text; ``difference``: per 1,000 (ratios)
    or in the outcome's units; ``footnotes``: what a reader must know (capping,
    a zero control risk, where the assumed risk comes from)."""

    kind: str  # "ratio", "zero control risk", "mean", "other", "not estimable"
    control: str
    intervention: str
    assumed_risk: float | None = None
    per_1000: tuple | None = None  # (corresponding, low, high) per 1,000
    difference: tuple | None = None  # (difference, low, high): per 1,000 for risks
    capped: bool = False
    footnotes: tuple = ()

    def to_dict(self) -> dict:
        """The absolute effect as the results JSON stores it: the two cells, the
        assumed risk (per 1) and the difference with its CI (per 1,000 for risks,
        in the outcome's units for means)."""
        return {"kind": self.kind, "control": self.control, "intervention": self.intervention,
                "assumed_risk": None if self.assumed_risk is None else float(f"{self.assumed_risk:.10g}"),
                "difference": None if self.difference is None else [float(f"{x:.10g}") for x in self.difference]}


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


def check_direction(ratio: tuple, diff: tuple) -> None:
    """Raise when an absolute effect (``diff``: difference, low, high) points
    against its relative effect (``ratio``: estimate, low, high): a ratio above 1
    must give a difference of at least 0 and one below 1 at most 0, for the
    estimate and both limits.  A guard, not a rule: the maps of :func:`ratio_effect`
    are increasing, so it never fires on correct code."""
    for r, d in zip(ratio, diff):
        if (r > 1 and d < -1e-9) or (r < 1 and d > 1e-9):
            raise ValueError(f"absolute effect {diff} points against the relative effect {ratio}")


def _zero_risk(ar, basis: str) -> Absolute:
    rows = arm_counts(ar)
    e1, n1 = sum(r[1] for r in rows), sum(r[2] for r in rows)
    n2 = sum(r[4] for r in rows)
    per_arm = "; ".join(f"{s}: {a}/{b} with the intervention, {c}/{d} with the comparison" for s, a, b, c, d in rows)
    return Absolute("zero control risk", f"0/{n2:,} (no events in any control arm)", f"{e1:,}/{n1:,}",
                    0.0, footnotes=((f"No control arm had an event ({basis}), so the assumed risk is 0 and a "
                                     "relative effect cannot give an absolute one (any ratio times 0 is 0); events "
                                     f"and participants per arm: {per_arm}."),))


def ratio_effect(ar, assumed=None) -> Absolute:
    """Absolute effects of a dichotomous analysis pooled as a ratio.

    ``assumed``: (risk, basis text) of a stated assumed risk, or None for the
    study population's risk (control events over control participants)."""
    r = ar.result
    if assumed is not None:
        acr, basis = assumed
    else:
        acr, e, n = study_population_risk(ar)
        basis = (f"the study population: {e:,} events among {n:,} participants in the control arms"
                 f" ({cite('gradepro')})")
    if acr is None:
        return Absolute("not estimable", "not reported", "not estimable", footnotes=("no control arm with data",))
    if acr == 0:
        return _zero_risk(ar, basis)
    notes = [f"Assumed risk with the comparison: {per_1000(1000 * acr)} per 1,000, {basis}."]
    raw = [1000 * corresponding_risk(acr, r.measure, x) for x in (r.estimate, r.ci_low, r.ci_high)]
    capped = any(x > 1000 for x in raw)
    cor = tuple(min(1000.0, x) for x in raw)
    if capped:
        notes.append("A limit above 1,000 per 1,000 is shown as 1,000: a risk cannot exceed 1.")
    diff = tuple(x - 1000 * acr for x in cor)
    check_direction((r.estimate, r.ci_low, r.ci_high), diff)
    text = f"{per_1000(cor[0])} per 1,000 ({per_1000(cor[1])} to {per_1000(cor[2])})"
    if capped:
        text += " (capped)"
    return Absolute("ratio", f"{per_1000(1000 * acr)} per 1,000",
                    text + f"; {_diff_text(diff[0])} per 1,000 ({_range_text(diff[1], diff[2])})",
                    acr, cor, diff, capped, tuple(notes))


#: What the control means are, by the word a package's data use for them.
MEAN_KINDS = {"final": "final values", "change": "changes from baseline"}


def mean_kind(ar) -> str | None:
    """'final' or 'change' when every row of the package carries a "Mean type"
    saying which its means are; None when the data do not say."""
    kinds = set()
    for a in (ar.row_arms or ar.arms):
        v = a.get("Mean type")
        v = v.strip().lower() if isinstance(v, str) else ""
        kinds.add("change" if "change" in v else "final" if "final" in v else None)
    return kinds.pop() if len(kinds) == 1 and None not in kinds else None


def mean_effect(ar) -> Absolute:
    """Control-arm mean and the mean difference (or SMD) with its CI."""
    import numpy as np

    r = ar.result
    means = [float(a["Control mean"]) for a in ar.arms
             if a.get("Control mean") is not None and a.get("Control mean") == a.get("Control mean")]
    if r.measure == "MD" and means:
        med = float(np.median(means))
        kind = mean_kind(ar)
        what = MEAN_KINDS[kind] if kind else "final values or changes from baseline: not reported"
        control = f"mean {fmt(med)} ({what})"
        if kind == "final" and len(means) > 1:
            control += f"; range {fmt(min(means))} to {fmt(max(means))}"
        n = len(means)
        notes = (f"Control: the median of the control-arm means of {n} {'study' if n == 1 else 'studies'}"
                 + ("" if kind else "; the data do not say whether they are final values or changes from baseline, "
                                    "so no range is shown") + ".",)
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
