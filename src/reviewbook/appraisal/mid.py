"""The minimal important difference (MID) of an analysis, as thresholds on its
reporting scale, with where it comes from.

Rule, in order:

1. **The review file's MID** for the outcome or instrument (in the outcome's
   units; for a ratio measure, a relative change such as 0.25), with its source.
2. **Defaults, stated as defaults:**

   * standardised mean difference: 0.5 SD (Norman et al. 2003);
   * mean difference: 0.5 SD converted to the outcome's units with the
     participant-weighted pooled SD of the analysis's arms;
   * risk, odds and hazard ratios: a 25% relative change, RR 0.75 and 1.25
     (GRADE 6, Guyatt et al. 2011);
   * risk difference: 25% of the assumed control risk.

3. Otherwise (a generic estimate of unknown units) the MID is *not assessed*.

The thresholds ``low < null < high`` split the scale into an important effect
below ``low``, a trivial range between them, and an important effect above
``high``; which of the two is benefit is the direction's business
(:mod:`.direction`), not the MID's.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.report import fmt, measure_text
from ..package.outcomes import rule_for
from .sources import cite

RATIOS = ("RR", "OR", "HR", "GENR")


@dataclass(frozen=True)
class Mid:
    """``low``/``high``: thresholds of an important effect on the reporting scale
    (None: not assessed); ``size``: the MID in its unit; ``basis``: ``"review
    file"``, ``"default"`` or ``"not assessed"``; ``text``: one line for a reader."""

    low: float | None
    high: float | None
    size: float | None
    unit: str
    basis: str
    source: str
    text: str

    @property
    def assessed(self) -> bool:
        return self.low is not None and self.high is not None

    def region(self, value: float) -> int | None:
        """-1 (important, below), 0 (trivial), +1 (important, above); None if not assessed.
        A value exactly on a threshold is not past it (GRADE 34: an effect is important
        when it *exceeds* the threshold), so it counts as trivial."""
        if not self.assessed:
            return None
        if value < self.low:  # strict: an estimate exactly on a threshold is not an important effect
            return -1
        if value > self.high:
            return 1
        return 0

    def regions(self, lo: float, hi: float) -> int:
        """How many of the three ranges (important below, trivial, important above)
        the interval [lo, hi] reaches into; a limit exactly on a threshold does not
        reach past it."""
        if not self.assessed:
            raise ValueError("MID not assessed")
        return len({r for r in (-1, 0, 1)
                    if (r == -1 and lo < self.low) or (r == 1 and hi > self.high)
                    or (r == 0 and hi > self.low and lo < self.high)})

    def to_dict(self) -> dict | None:
        if not self.assessed:
            return None
        return {"low": self.low, "high": self.high, "size": self.size, "unit": self.unit, "basis": self.basis,
                "source": self.source}


NOT_ASSESSED = Mid(None, None, None, "", "not assessed", "",
                   "not assessed (no MID for this outcome and no default for its measure)")


def pooled_sd_of(ar) -> float | None:
    """Participant-weighted pooled SD of the arms of the estimable rows (None if
    the analysis has no arm SDs)."""
    from ..engine.ris import pooled_sd

    try:
        n1 = [float(a["Experimental N"]) for a in ar.arms]
        n2 = [float(a["Control N"]) for a in ar.arms]
        s1 = [float(a["Experimental SD"]) for a in ar.arms]
        s2 = [float(a["Control SD"]) for a in ar.arms]
        sd = pooled_sd(n1, s1, n2, s2)
    except (KeyError, TypeError, ValueError):
        return None
    return sd if sd > 0 else None


def mid_for(ar, config, assumed_risk: float | None = None) -> Mid:
    """The MID of analysis result ``ar`` (see the module docstring)."""
    s = ar.settings
    measure = ar.result.measure if ar.result is not None else (s.measure_code or "")
    name = measure_text(measure, ar.result.label if ar.result is not None else "")  # as a reader sees it
    rule = rule_for(config.outcomes, s.id, s.name)
    if rule is not None and rule.mid is not None:
        m = rule.mid
        if measure in RATIOS:
            return Mid(1 - m, 1 + m, m, "relative change", "review file", rule.mid_source,
                       f"a {fmt(100 * m, 0)}% relative change ({name} {fmt(1 - m)} or {fmt(1 + m)}); "
                       f"source: {rule.mid_source}")
        unit = "SD" if measure == "SMD" else "points"
        inst = f" on {rule.instrument}" if rule.instrument else ""
        return Mid(-m, m, m, unit, "review file", rule.mid_source,
                   f"{fmt(m, 2).rstrip('0').rstrip('.')} {unit}{inst}; source: {rule.mid_source}")
    if measure == "SMD":
        m = config.smd_mid
        return Mid(-m, m, m, "SD", "default", cite("norman2003"),
                   f"{fmt(m, 1)} SD (default: half a standard deviation, {cite('norman2003')})")
    if measure == "MD":
        sd = pooled_sd_of(ar)
        if sd is None:
            return NOT_ASSESSED
        m = config.smd_mid * sd
        return Mid(-m, m, m, "points", "default", cite("norman2003"),
                   f"{fmt(m)} points (default: {fmt(config.smd_mid, 1)} × the pooled SD of the arms, {fmt(sd)}; "
                   f"{cite('norman2003')})")
    if measure in RATIOS:
        r = config.rrr
        return Mid(1 - r, 1 + r, r, "relative change", "default", cite("grade6"),
                   f"{name} {fmt(1 - r)} or {fmt(1 + r)} (default: a {fmt(100 * r, 0)}% relative change, "
                   f"{cite('grade6')})")
    if measure == "RD" and assumed_risk:
        d = config.rrr * assumed_risk
        return Mid(-d, d, d, "risk difference", "default", cite("grade6"),
                   f"RD {fmt(d, 3)} (default: {fmt(100 * config.rrr, 0)}% of the assumed control risk "
                   f"{fmt(assumed_risk, 3)}; {cite('grade6')})")
    return NOT_ASSESSED
