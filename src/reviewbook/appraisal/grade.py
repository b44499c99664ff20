"""GRADE certainty of one pooled result, domain by domain, by written rules.

Start at *high* (randomised trials; GRADE Handbook; Cochrane Handbook ch. 14)
and rate down per domain.  Each rule below names its source; each domain's
verdict carries its reason, which the book shows as a footnote.  Every domain
gets a verdict: where the data cannot settle it, a stated rule decides, so the
certainty is a rating, never a bound.

**Risk of bias** (RoB 2, Sterne et al. 2019; Cochrane Handbook 5.1 Table
12.2.d; GRADE 4).  A result's judgement is its RoB 2 *overall* judgement; where
it is missing, RoB 2's own algorithm gives it when all five domains are judged,
and any judged domain at high risk makes it high (the overall judgement is the
least favourable domain).  A result whose overall judgement cannot be derived
from the domains it carries is at *unclear* risk (Cochrane Handbook 5.1, 8.5.3
and Table 12.2.d: insufficient information is "unclear"); RoB 2's *some
concerns* is counted with it.  Each result then carries its own rating-down:
0 at low risk, 1 unclear or with some concerns, 2 at high risk (Table 12.2.d:
unclear risk costs at most one level, high risk one or two).  The domain's
verdict is the weight-averaged rating-down of the results, rounded to the
nearest level with halves rounded up: 0 only when most of the information comes
from results at low risk (Table 12.2.d, first row), and the weight at high risk
counting twice, so no one category's share flips the verdict at 50%.

**Inconsistency** (GRADE 7; Cochrane Handbook ch. 10.10).  Not applicable with
one study.  −1 when I² > 50%, the Q test has P < 0.10 and the studies' point
estimates fall in different ranges of the scale (an important effect either
way, or a trivial one, by the MID; on opposite sides of no effect where no MID
is set): heterogeneity in the size of an effect that points the same way does
not lower confidence in the conclusion.  −2 when, in addition, I² > 75% and the
confidence intervals of two studies do not overlap.  The prediction interval is
not used (with few studies it mostly restates imprecision).

**Indirectness** (GRADE 8).  From the review file: whether the included
studies' populations, interventions, comparators and outcomes answer the review
question, and which studies do not, with sources.  −1 when more than half of the
weight comes from studies judged indirect.  Where the review file states no
judgement the domain is not assessed and not rated down (the methods page says
so once).

**Imprecision** (GRADE 6; GRADE 34, minimally contextualised approach; GRADE
35).  The thresholds of an important effect (the MID; the null where no MID can
be set) split the scale into ranges; an estimate exactly on a threshold is not
past it.  The 95% CI reaching into two ranges is −1, into all three (important
benefit and important harm) −2, and −3 when it reaches a *large* effect on both
sides of the null (ratios: RR below 0.5 and above 2, GRADE 9's large effect;
continuous: 0.8 SD, Cohen's large effect as the Cochrane Handbook 5.1, 12.6.2
gives it).  The optimal information size (OIS: the participants one adequately
powered trial would need, α and power as :mod:`.config` states, the MID as the
effect; for ratios a 25% relative risk reduction at the assumed control risk)
not reached is −1, and −2 when the participants are fewer than
:data:`OIS_FAR` (a quarter) of it (GRADE 34: more than one level when the
information is far below the OIS; with under a quarter, the CI is more than
twice as wide as that of one adequately powered trial).  A single trial is rated down at least one level (KCE
Process Book 5.5: a single study is rated down unless it is a large multicentre
trial, which the data cannot show).  The verdict is the largest of these.

**Publication bias** (GRADE 5; Sterne et al. 2011; Cochrane Handbook ch. 13).
With at least 10 studies, Egger's test with P < 0.10 is −1.  Where the review
file states how many included studies measured the outcome but contribute no
data, −1 when they are at least as many as the studies that do.  Otherwise
*undetected*: no test is possible with fewer than 10 studies.

The certainty is high less the levels rated down, and never below very low.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.report import fmt, fmt_p
from .sources import cite

LEVELS = ("very low", "low", "moderate", "high")
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
JUDGEMENTS = ("Low risk", "Some concerns", "High risk")
VERDICTS = {0: "not serious", 1: "serious", 2: "very serious", 3: "extremely serious"}
DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")


#: Below this fraction of the optimal information size the information is "far below" it and
#: imprecision is rated down two levels (GRADE 34: more than one level when the sample size
#: is far less than the OIS).  The fraction is this book's stated default: with fewer than a
#: quarter of the OIS participants the CI is more than twice as wide as that of one adequately
#: powered trial (a CI's width goes with one over the square root of the sample size).
OIS_FAR = 0.25
#: Large effects, for a CI "very wide" enough to rate down three levels: RR below 0.5 or
#: above 2 (GRADE 9, Guyatt et al. 2011: a large effect) and 0.8 SD for continuous outcomes
#: (Cohen's large effect, Cochrane Handbook 5.1, 12.6.2).
LARGE_RATIO = 2.0
LARGE_SD = 0.8


@dataclass(frozen=True)
class Domain:
    """One GRADE domain's verdict: ``levels`` rated down, ``verdict`` in GRADE's
    words, ``reason`` and ``sources`` (keys of
    :data:`reviewbook.appraisal.sources.SOURCES`); ``why``: the reason in one
    short clause, for a sentence that compares ratings."""

    name: str
    levels: int
    verdict: str
    reason: str
    sources: tuple = ()
    why: str = ""

    def footnote(self) -> str:
        lv = f" (−{self.levels})" if self.levels else ""
        reason = self.reason[:1].upper() + self.reason[1:]
        return f"{self.name.capitalize()}: {self.verdict}{lv}. {reason} ({cite(*self.sources)})."


@dataclass(frozen=True)
class Grade:
    """The certainty of one result: ``certainty`` (one of :data:`LEVELS`) and the
    five :class:`Domain` verdicts it follows from."""

    certainty: str
    domains: tuple

    def domain(self, name: str) -> Domain:
        return next(d for d in self.domains if d.name == name)

    @property
    def label(self) -> str:
        """'Low', 'Very low'."""
        return self.certainty.capitalize()

    @property
    def symbols(self) -> str:
        return SYMBOLS[self.certainty]

    def footnotes(self) -> list:
        """Footnotes of the domains that were rated down."""
        return [d.footnote() for d in self.domains if d.levels]

    def reasons(self) -> str:
        parts = [f"{d.name} (−{d.levels})" for d in self.domains if d.levels]
        return "; ".join(parts) if parts else "no domain rated down"


# ------------------------------------------------------------------ risk of bias

def row_judgement(judged: dict) -> str | None:
    """A result's overall RoB 2 judgement where it is known (see the module
    docstring): the stated overall one, or the one RoB 2's algorithm gives from
    five judged domains, or 'High risk' when any judged domain is at high risk
    (the overall judgement is the least favourable domain); None otherwise."""
    overall = next((str(v).strip() for k, v in judged.items() if "overall" in k.lower()), None)
    if overall in JUDGEMENTS:
        return overall
    domains = [str(v).strip() for k, v in judged.items() if "overall" not in k.lower()]
    valid = [v for v in domains if v in JUDGEMENTS]
    if "High risk" in valid:
        return "High risk"
    if len(valid) >= 5 and len(valid) == len(domains):
        return "Low risk" if all(v == "Low risk" for v in valid) else "Some concerns"
    return None


#: Each result's own rating-down by its judgement (Cochrane Handbook 5.1 Table 12.2.d).
ROW_LEVELS = {"Low risk": 0, "Some concerns": 1, "Unclear": 1, "High risk": 2}


def _share(x: float) -> str:
    return f"{fmt(x, 0)}%"


def risk_of_bias(rows) -> Domain:
    """``rows``: (weight %, {domain: judgement}) for each estimable row (see the
    module docstring for the rule)."""
    src = ("rob2", "handbook51-12.2.d", "grade4")
    total = sum(float(w) for w, _ in rows)
    if not rows or total <= 0:
        return Domain("risk of bias", 0, "not serious", "no result carries weight, so none can bias the estimate",
                      src)
    share = {"Low risk": 0.0, "Some concerns": 0.0, "Unclear": 0.0, "High risk": 0.0}
    n_full = 0
    for w, j in rows:
        full = row_judgement(j or {})
        n_full += full is not None
        share[full or "Unclear"] += float(w) / total * 100
    score = sum(ROW_LEVELS[k] * v for k, v in share.items()) / 100
    lv = 0 if score < 0.5 else 1 if score < 1.5 else 2
    n = len(rows)
    judged = share["Low risk"] + share["Some concerns"] + share["High risk"]
    if n_full == 0:
        head = ("No result has a full risk-of-bias judgement (an overall RoB 2 judgement, or every domain judged), "
                "so every result is at unclear risk")
    elif n_full == n:
        head = f"{'The result has' if n == 1 else f'All {n} results have'} a full risk-of-bias judgement"
    else:
        head = (f"{n_full} of {n} results, {_share(judged)} of the weight, have a full risk-of-bias judgement; "
                "the others are at unclear risk")
    parts = [f"{_share(v)} of the weight {k.lower() if k != 'Unclear' else 'at unclear risk'}"
             for k, v in share.items() if v > 0]
    parts = [p.replace("low risk", "at low risk").replace("high risk", "at high risk").replace("some concerns",
                                                                                               "with some concerns")
             for p in parts]
    reason = (head + ("" if n_full == 0 else f": {', '.join(parts)}")
              + f"; weighing each result's own rating-down (0 low, 1 unclear or some concerns, 2 high) gives "
                f"{fmt(score, 2)}")
    top = max(share, key=lambda k: (ROW_LEVELS[k], share[k]) if share[k] > 0 else (-1, 0))
    why = ("no result has a full RoB 2 judgement" if n_full == 0 else
           f"{_share(share[top])} of the weight " + {"Low risk": "at low risk", "Some concerns": "with some concerns",
                                                     "Unclear": "at unclear risk", "High risk": "at high risk"}[top])
    return Domain("risk of bias", lv, VERDICTS[lv], reason, src, why)


# ------------------------------------------------------------------ inconsistency

def _analysis_scale(x, ratio):
    return math.log(x) if ratio else x


def inconsistency(result, mid, k_studies: int) -> Domain:
    """``result``: the pooled :class:`~reviewbook.engine.pooling.MetaResult`
    (its ``studies`` carry each row's yi and vi); ``k_studies``: distinct studies."""
    src = ("grade7", "handbook-ch10")
    if k_studies < 2 or result.k < 2:
        return Domain("inconsistency", 0, "not applicable", "one study: consistency cannot be judged", src)
    ratio = result.is_ratio
    i2 = result.i2 or 0.0
    p = result.q_p
    ys = [s.yi for s in result.studies]
    cis = [(s.yi - 1.959963984540054 * math.sqrt(s.vi), s.yi + 1.959963984540054 * math.sqrt(s.vi))
           for s in result.studies]
    null = 0.0
    if mid.assessed:
        lo_t, hi_t = _analysis_scale(mid.low, ratio), _analysis_scale(mid.high, ratio)
        regions = {(-1 if y < lo_t else 1 if y > hi_t else 0) for y in ys}  # on a threshold: not past it
        ranges = "ranges set by the MID"
    else:
        regions = {(-1 if y < null else 1 if y > null else 0) for y in ys}
        ranges = "sides of no effect"
    spread = len(regions) > 1
    apart = any(a[1] < b[0] for a in cis for b in cis)
    lv = 0
    if i2 > 50 and p is not None and p < 0.10 and spread:
        lv = 2 if (i2 > 75 and apart) else 1
    parts = [f"I² = {fmt(i2, 0)}%", f"Chi² test {fmt_p(p)}",
             ("point estimates fall in different " if spread else "point estimates fall in one of the ") + ranges,
             "some study CIs do not overlap" if apart else "the study CIs overlap"]
    return Domain("inconsistency", lv, VERDICTS[lv], "; ".join(parts), src,
                  f"I² = {fmt(i2, 0)}% with estimates in different {ranges}" if lv else "")


# ------------------------------------------------------------------ indirectness

def indirectness(weights: dict, study_of: dict, judgement, name: str) -> Domain:
    """``weights``: row label -> weight %; ``study_of``: row label -> study name;
    ``judgement``: :class:`~reviewbook.appraisal.config.Indirectness`."""
    src = ("grade8",)
    if not judgement.assessed:
        return Domain("indirectness", 0, "not assessed",
                      "no judgement of how directly the studies answer the review question is stated; not rated down",
                      src)
    flagged = [s for s in judgement.studies if s.applies(name)]
    by_study = {}
    for f in flagged:
        by_study.setdefault(f.study, []).append(f)
    total = sum(weights.values()) or 1.0
    share = sum(w for lab, w in weights.items() if study_of.get(lab) in by_study) / total * 100
    hit = [f for s in dict.fromkeys(study_of.get(lab) for lab in weights) for f in by_study.get(s, [])]
    lv = 1 if share > 50 else 0
    reason = judgement.basis.rstrip(".")
    if hit:
        reason += "; " + "; ".join(f"{f.study}: {f.domain}, {f.reason} ({f.source})" for f in hit)
        reason += f" ({fmt(share, 0)}% of the weight)"
    if judgement.source:
        reason += f" [{judgement.source}]"
    return Domain("indirectness", lv, VERDICTS[lv], reason, src,
                  f"{fmt(share, 0)}% of the weight from studies judged indirect" if lv else "")


# ------------------------------------------------------------------ imprecision

def _very_wide(result, mid, sd) -> bool:
    """Whether the CI reaches a large effect on both sides of the null (see the
    module docstring): RR below 1/LARGE_RATIO and above LARGE_RATIO; for a mean
    difference LARGE_SD times the pooled SD (``sd``), for an SMD LARGE_SD."""
    lo, hi = result.ci_low, result.ci_high
    if result.is_ratio:
        return lo < 1 / LARGE_RATIO and hi > LARGE_RATIO
    big = LARGE_SD if result.measure == "SMD" else (None if sd is None else LARGE_SD * sd)
    return big is not None and lo < -big and hi > big


def imprecision(result, mid, participants: int, ois: float | None, k_studies: int = 2, sd: float | None = None
                ) -> Domain:
    """``participants``: all rows' totals; ``ois``: the optimal information size
    (None when it cannot be computed); ``k_studies``: distinct studies; ``sd``:
    pooled SD of the arms (continuous outcomes), for a very wide CI."""
    src = ("grade6", "grade34", "grade35")
    parts, lv = [], 0
    if mid.assessed:
        n = mid.regions(result.ci_low, result.ci_high)
        lv = n - 1
        what = f"ranges set by the MID ({mid.text})"
        parts.append(f"the 95% CI ({fmt(result.ci_low)} to {fmt(result.ci_high)}) reaches into {n} of the 3 {what}")
    else:
        null = 1.0 if result.is_ratio else 0.0
        crosses = result.ci_low < null < result.ci_high
        lv = 1 if crosses else 0
        parts.append(f"no MID is set, so the threshold is no effect: the 95% CI ({fmt(result.ci_low)} to "
                     f"{fmt(result.ci_high)}) {'includes' if crosses else 'excludes'} it")
    whys = [(lv, f"the 95% CI reaches into {n} of the 3 ranges set by the MID" if mid.assessed else
             "the 95% CI includes no effect")]
    if (lv == 2 or (lv == 1 and not mid.assessed)) and _very_wide(result, mid, sd):
        lv = 3
        large = (f"the ratio below {fmt(1 / LARGE_RATIO, 1)} and above {fmt(LARGE_RATIO, 0)}" if result.is_ratio else
                 f"more than {fmt(LARGE_SD, 1)} SD either way")
        parts.append(f"it reaches a large effect on both sides of no effect ({large})")
        whys.append((3, f"the 95% CI reaches a large effect on both sides of no effect ({large})"))
    if ois is not None and math.isfinite(ois) and ois > 0:
        pct = participants / ois * 100
        ois_text = f"{int(fmt(ois, 0)):,}"
        if participants < OIS_FAR * ois:
            parts.append(f"{participants:,} participants, {fmt(pct, 0)}% of the optimal information size of "
                         f"{ois_text}: far below it (less than {fmt(100 * OIS_FAR, 0)}%)")
            whys.append((2, f"{participants:,} participants, {fmt(pct, 0)}% of the optimal information size"))
        elif participants < ois:
            parts.append(f"{participants:,} participants, fewer than the optimal information size of {ois_text}")
            whys.append((1, (f"{participants:,} participants, fewer than the optimal information size of "
                             f"{ois_text}")))
        else:
            parts.append(f"{participants:,} participants, at least the optimal information size of "
                         f"{int(fmt(ois, 0)):,}")
    else:
        parts.append("the optimal information size cannot be computed (no control-arm events, or no SD), so the CI "
                     "decides")
    if k_studies == 1:
        parts.append("a single trial")
        whys.append((1, "a single trial"))
        src = src + ("kce-imprecision",)
    lv = max(w[0] for w in whys)
    why = next((w for lv_, w in sorted(whys, key=lambda x: -x[0]) if lv_ == lv), "") if lv else ""
    return Domain("imprecision", lv, VERDICTS[lv], "; ".join(parts), src, why)


# ------------------------------------------------------------------ publication bias

def publication_bias(k_studies: int, egger_p: float | None, missing=None) -> Domain:
    src = ("grade5", "sterne2011", "handbook-ch13")
    parts, lv = [], 0
    if k_studies >= 10 and egger_p is not None:
        if egger_p < 0.10:
            lv = 1
        parts.append(f"Egger's test {fmt_p(egger_p)} with {k_studies} studies")
    else:
        parts.append("fewer than 10 studies: small-study effects cannot be tested")
    if missing is not None:
        if missing.studies_without_data >= k_studies:
            lv = 1
        parts.append(f"{missing.studies_without_data} included studies measured the outcome but contribute no data, "
                     f"against {k_studies} that do ({missing.source})")
    else:
        parts.append("no count of included studies without data for this outcome is stated")
    return Domain("publication bias", lv, "suspected" if lv else "undetected", "; ".join(parts), src,
                  "small-study effects or studies without data" if lv else "")


# ------------------------------------------------------------------ the rating

def rate(domains) -> Grade:
    """Certainty from the five domain verdicts: high less the levels rated down,
    never below very low (GRADE Handbook; Cochrane Handbook ch. 14)."""
    total = min(3, sum(d.levels for d in domains))
    return Grade(LEVELS[3 - total], tuple(domains))
