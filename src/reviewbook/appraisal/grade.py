"""GRADE certainty of one pooled result, domain by domain, by written rules.

Start at *high* (randomised trials; GRADE Handbook; Cochrane Handbook ch. 14)
and rate down per domain.  Each rule below names its source; each domain's
verdict carries its reason, which the book shows as a footnote.

**Risk of bias** (RoB 2, Sterne et al. 2019; Cochrane Handbook 5.1 Table
12.2.d; GRADE 4).  A result's judgement is its RoB 2 *overall* judgement; where
it is missing, RoB 2's own algorithm gives it when all five domains are judged
(or any judged domain is at high risk).  A result judged on some domains only is
*at least* as bad as its least favourable judged domain, since the overall
judgement is the least favourable domain; an unreported domain is never read as
"no concern".  −2 when more than half of the weight is at high risk; −1 when more
than half is at high risk or with some concerns.  The verdict is what holds
whatever the unreported domains are; where they could make it worse, the domain
is an *upper bound* (and when that could be anything, *not assessed*), and the
rating cannot be high.

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
weight comes from studies judged indirect.  Where the review file says nothing
the domain is *not assessed* and the rating cannot be high.

**Imprecision** (GRADE 6; GRADE 34, minimally contextualised approach).  The
MID's thresholds split the scale into three ranges (important effect one way,
trivial, important effect the other way); the 95% CI reaching into two ranges
is −1, into all three −2.  The optimal information size (OIS, the participants
one adequately powered trial would need: α and power as :mod:`.config` states,
the MID as the effect; for ratios a 25% relative risk reduction at the assumed
control risk) not met is at least −1.  At most −2.  Without an MID the CI cannot
be judged and the domain is an upper bound.

**Publication bias** (GRADE 5; Sterne et al. 2011; Cochrane Handbook ch. 13).
With at least 10 studies, Egger's test with P < 0.10 is −1.  Where the review
file states how many included studies measured the outcome but contribute no
data, −1 when they are at least as many as the studies that do.  Otherwise
*undetected*: no test is possible with fewer than 10 studies.

A rating with any domain not assessed (or an upper bound) is shown as an upper
bound and is at most *moderate*: high certainty needs every domain judged.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..engine.report import fmt, fmt_p
from .sources import cite

LEVELS = ("very low", "low", "moderate", "high")
SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}
JUDGEMENTS = ("Low risk", "Some concerns", "High risk")
VERDICTS = {0: "not serious", 1: "serious", 2: "very serious"}
DOMAINS = ("risk of bias", "inconsistency", "indirectness", "imprecision", "publication bias")


@dataclass(frozen=True)
class Domain:
    """One GRADE domain's verdict: ``levels`` rated down, ``verdict`` in GRADE's
    words, ``complete`` false when the verdict is an upper bound (not assessed,
    or data missing that could change it), ``reason`` and ``sources`` (keys of
    :data:`reviewbook.appraisal.sources.SOURCES`)."""

    name: str
    levels: int
    verdict: str
    reason: str
    sources: tuple = ()
    complete: bool = True

    def footnote(self) -> str:
        lv = f" (−{self.levels})" if self.levels else ""
        bound = "" if self.complete else "; an upper bound"
        return f"{self.name.capitalize()}: {self.verdict}{lv}{bound}. {self.reason} ({cite(*self.sources)})."


@dataclass(frozen=True)
class Grade:
    """The certainty of one result: ``certainty`` (one of :data:`LEVELS`),
    ``upper_bound`` (some domain not fully assessed: the true certainty may be
    lower), and the five :class:`Domain` verdicts."""

    certainty: str
    upper_bound: bool
    domains: tuple

    def domain(self, name: str) -> Domain:
        return next(d for d in self.domains if d.name == name)

    @property
    def label(self) -> str:
        """'Low' or 'Moderate (upper bound)'."""
        return self.certainty.capitalize() + (" (upper bound)" if self.upper_bound else "")

    @property
    def symbols(self) -> str:
        return SYMBOLS[self.certainty]

    def footnotes(self) -> list:
        """Footnotes of the domains that were rated down or are not fully assessed."""
        return [d.footnote() for d in self.domains if d.levels or not d.complete]

    def reasons(self) -> str:
        parts = [f"{d.name}{' at least' if not d.complete else ''} (−{d.levels})" for d in self.domains if d.levels]
        parts += [f"{d.name} {d.verdict}" for d in self.domains if not d.complete and not d.levels]
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


def least_judgement(judged: dict) -> str | None:
    """The least favourable judgement among the domains a result carries: the
    overall judgement cannot be better than it (RoB 2), so it is a lower bound on
    the result's risk of bias; None when no domain is judged."""
    valid = [str(v).strip() for k, v in judged.items() if str(v).strip() in JUDGEMENTS]
    return max(valid, key=JUDGEMENTS.index) if valid else None


def _rob_levels(high: float, concern: float) -> int:
    return 2 if high > 50 else 1 if concern > 50 else 0


def risk_of_bias(rows) -> Domain:
    """``rows``: (weight %, {domain: judgement}) for each estimable row.

    A result with a known overall judgement counts as that; a result judged on some
    domains only counts as *at least* its least favourable judged domain (an
    unreported domain is never read as "no concern"), and could be worse.  The
    verdict is the rating-down that holds whatever the unreported domains are;
    where they could change it, the domain is an upper bound on the certainty."""
    src = ("rob2", "handbook51-12.2.d", "grade4")
    total = sum(float(w) for w, _ in rows)
    if not rows or total <= 0:
        return Domain("risk of bias", 0, "not assessed", "no weighted result to judge", src, False)
    known = high_min = concern_min = high_max = concern_max = partial = 0.0
    n_known = 0
    for w, j in rows:
        w = float(w) / total * 100
        j = j or {}
        full = row_judgement(j)
        if full is not None:
            known += w
            n_known += 1
            high_min += w if full == "High risk" else 0
            high_max += w if full == "High risk" else 0
            concern_min += w if full != "Low risk" else 0
            concern_max += w if full != "Low risk" else 0
            continue
        least = least_judgement(j)
        if least is not None:
            partial += w
        if least == "Some concerns":
            concern_min += w
        high_max += w
        concern_max += w
    lv_min, lv_max = _rob_levels(high_min, concern_min), _rob_levels(high_max, concern_max)
    reason = (f"{fmt(known, 0)}% of the weight has an overall RoB 2 judgement ({n_known} of {len(rows)} results)"
              + (f", {fmt(partial, 0)}% is judged on some domains only" if partial else "")
              + f"; at least {fmt(high_min, 0)}% is at high risk and at least {fmt(concern_min, 0)}% at high risk or "
                "with some concerns")
    if lv_min == lv_max:
        return Domain("risk of bias", lv_min, VERDICTS[lv_min], reason, src)
    if known < 50:
        reason += "; most of the evidence has no overall judgement"
    verdict = "not assessed" if lv_min == 0 else f"at least {VERDICTS[lv_min]}"
    return Domain("risk of bias", lv_min, verdict, reason, src, False)


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
        regions = {(-1 if y <= lo_t else 1 if y >= hi_t else 0) for y in ys}
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
    return Domain("inconsistency", lv, VERDICTS[lv], "; ".join(parts), src)


# ------------------------------------------------------------------ indirectness

def indirectness(weights: dict, study_of: dict, judgement, name: str) -> Domain:
    """``weights``: row label -> weight %; ``study_of``: row label -> study name;
    ``judgement``: :class:`~reviewbook.appraisal.config.Indirectness`."""
    src = ("grade8",)
    if not judgement.assessed:
        return Domain("indirectness", 0, "not assessed",
                      "the review description states no judgement of how directly the studies answer the question", src,
                      False)
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
    return Domain("indirectness", lv, VERDICTS[lv], reason, src)


# ------------------------------------------------------------------ imprecision

def imprecision(result, mid, participants: int, ois: float | None) -> Domain:
    src = ("grade6", "grade34")
    parts, lv, complete = [], 0, True
    if mid.assessed:
        n = mid.regions(result.ci_low, result.ci_high)
        lv = n - 1
        parts.append(f"the 95% CI ({fmt(result.ci_low)} to {fmt(result.ci_high)}) reaches into {n} of the 3 ranges "
                     f"set by the MID ({mid.text})")
    else:
        complete = False
        parts.append("no MID, so the CI cannot be judged against an important effect")
    if ois is not None and math.isfinite(ois):
        if participants < ois:
            lv = max(lv, 1)
            parts.append(f"{participants:,} participants, fewer than the optimal information size of "
                         f"{int(fmt(ois, 0)):,}")
        else:
            parts.append(f"{participants:,} participants, at least the optimal information size of "
                         f"{int(fmt(ois, 0)):,}")
    else:
        parts.append("optimal information size not computable (no control-arm events, or no SD)")
        if lv == 0:
            # the CI alone does not show the evidence is precise enough (GRADE 34: then the OIS decides)
            complete = False
    lv = min(lv, 2)
    return Domain("imprecision", lv, VERDICTS[lv], "; ".join(parts), src, complete)


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
    return Domain("publication bias", lv, "suspected" if lv else "undetected", "; ".join(parts), src)


# ------------------------------------------------------------------ the rating

def rate(domains) -> Grade:
    """Certainty from the five domain verdicts (see the module docstring)."""
    total = min(3, sum(d.levels for d in domains))
    index = 3 - total
    upper = any(not d.complete for d in domains)
    if upper:
        index = min(index, 2)
    return Grade(LEVELS[index], upper, tuple(domains))
