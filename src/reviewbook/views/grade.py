"""GRADE-style certainty from data, with the reason for each domain.

The rules are explicit and mechanical, so a reader can check each judgement
(they are ours, stated in the book's methods page; GRADE Handbook, Schünemann
et al. 2013, and Guyatt et al. 2011, J Clin Epidemiol 64:1283 and 1294, for the
optimal information size):

* Start at *high* (randomised trials).
* **Risk of bias**, from the package's RoB 2 judgements of the analysis's rows:
  a row's judgement is its overall one, or the worst of the domains it carries
  ("partial").  −2 when more than half the weight comes from rows at high
  risk; −1 when more than half comes from rows at high risk or with some
  concerns.  With no judgement at all there is nothing to judge: no downgrade,
  and the certainty is an upper bound.
* **Inconsistency**, from I² and the prediction interval: −1 when I² > 50% or
  (k >= 3, τ² > 0) the prediction interval includes both an appreciable benefit
  and an appreciable harm; −2 when both hold and I² > 75%.  One study: not
  assessable.
* **Imprecision**, from the optimal information size (OIS) and the CI: −1 when
  the participants fall short of the OIS (mean difference: the clinically
  important difference ``mcid`` with the pooled SD of the arms; ratios: a 25%
  relative risk reduction at the pooled control risk; alpha 0.05, power 0.80;
  where neither can be computed, 400 participants); −1 when the CI includes no
  effect and an appreciable effect (``mcid`` points; RR or OR 0.75 / 1.25).  At
  most −2.
* **Publication bias**: Egger's test p < 0.10 with k >= 10: −1; otherwise not
  assessable.
* **Indirectness**: not assessed (no downgrade; stated).
"""
from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("very low", "low", "moderate", "high")
JUDGEMENTS = ("Low risk", "Some concerns", "High risk")


@dataclass(frozen=True)
class Downgrade:
    domain: str
    levels: int
    reason: str


@dataclass(frozen=True)
class Grade:
    certainty: str
    downgrades: tuple  # one Downgrade per domain judged (levels may be 0)
    notes: tuple

    def reasons(self) -> str:
        parts = [f"{d.domain} (−{d.levels}): {d.reason}" for d in self.downgrades if d.levels]
        return "; ".join(parts) if parts else "no downgrade supported by the data"

    def domain(self, name: str) -> Downgrade | None:
        return next((d for d in self.downgrades if d.domain == name), None)


def row_judgement(judged: dict) -> tuple:
    """``(judgement, partial)`` of a result from its RoB 2 domains: the overall
    judgement where given, else the worst judged domain (partial); None if none."""
    overall = next((v for k, v in judged.items() if "overall" in k.lower()), None)
    if overall in JUDGEMENTS:
        return overall, False
    seen = [v for k, v in judged.items() if v in JUDGEMENTS]
    if not seen:
        return None, False
    return max(seen, key=JUDGEMENTS.index), True


def _risk_of_bias(rob):
    """``rob``: list of (weight %, {domain: judgement}) for the studies of the analysis."""
    if not rob:
        return Downgrade("risk of bias", 0, "no RoB 2 judgement in the package (upper bound)"), False
    judged = [(w, *row_judgement(j)) for w, j in rob]
    known = [(w, j, p) for w, j, p in judged if j is not None]
    if not known:
        return Downgrade("risk of bias", 0, "no RoB 2 judgement for these results (upper bound)"), False
    total = sum(w for w, _, _ in judged) or 1.0
    high = sum(w for w, j, _ in known if j == "High risk") / total * 100
    concern = sum(w for w, j, _ in known if j in ("High risk", "Some concerns")) / total * 100
    partial = sum(1 for _, _, p in known if p)
    detail = (f"{high:.0f}% of the weight at high risk, {concern:.0f}% at high risk or with some concerns"
              + (f"; {partial} of {len(judged)} results judged on some domains only" if partial else "")
              + (f"; {len(judged) - len(known)} without judgement" if len(known) < len(judged) else ""))
    if high > 50:
        return Downgrade("risk of bias", 2, detail), True
    if concern > 50:
        return Downgrade("risk of bias", 1, detail), True
    return Downgrade("risk of bias", 0, detail), True


def assess(result, *, participants: int, rob=None, egger_p: float | None = None, mcid: float | None = None,
           ois: float | None = None, rob_assessed: bool | None = None) -> Grade:
    """Certainty of one pooled result (see the module docstring for the rules).

    ``rob``: (weight %, {domain: judgement}) per study (None: no judgements);
    ``ois``: the optimal information size in participants (None: 400);
    ``mcid``: the clinically important difference for a mean difference.
    ``rob_assessed`` is accepted for backwards compatibility and ignored.
    """
    ratio = result.is_ratio
    downs, notes = [], []
    rb, assessed = _risk_of_bias(rob)
    downs.append(rb)
    if not assessed:
        notes.append("risk of bias not judged: certainty is an upper bound")
    if ratio:
        lo_app, hi_app, appreciable = 0.75, 1.25, "RR 0.75 or 1.25"
    elif mcid is not None:
        lo_app, hi_app, appreciable = -mcid, mcid, f"±{mcid:g} points"
    else:
        lo_app = hi_app = None
        appreciable = "an appreciable effect (none set for this measure)"
    # inconsistency
    if result.k < 2:
        notes.append("inconsistency not assessable (one study)")
        downs.append(Downgrade("inconsistency", 0, "one study"))
    else:
        i2 = result.i2 or 0.0
        # the prediction interval speaks of heterogeneity only when tau² > 0 (with
        # tau² = 0 it is the CI widened by the t quantile)
        pi_spans = (result.pi_low is not None and lo_app is not None and (result.tau2 or 0) > 0
                    and result.pi_low < lo_app and result.pi_high > hi_app)
        why = [f"I² = {i2:.0f}%"]
        if result.pi_low is not None:
            why.append(f"prediction interval {result.pi_low:.2f} to {result.pi_high:.2f}"
                       + (f" includes both {appreciable}" if pi_spans else ""))
        lv = 2 if (i2 > 75 and pi_spans) else 1 if (i2 > 50 or pi_spans) else 0
        downs.append(Downgrade("inconsistency", lv, "; ".join(why)))
    # imprecision
    imp, why = 0, []
    target = ois if ois is not None else 400
    if participants < target:
        imp += 1
        why.append(f"{participants} participants, below the optimal information size of {target:.0f}")
    else:
        why.append(f"{participants} participants, at least the optimal information size of {target:.0f}")
    lo, hi = result.ci_low, result.ci_high
    null = 1.0 if ratio else 0.0
    if lo_app is not None:
        crosses = lo < null < hi and (lo < lo_app or hi > hi_app)
    else:
        crosses = lo < null < hi
    if crosses:
        imp += 1
        why.append(f"the CI includes no effect and {appreciable}" if lo_app is not None
                   else "the CI includes no effect")
    downs.append(Downgrade("imprecision", min(imp, 2), "; ".join(why)))
    # publication bias
    if result.k >= 10 and egger_p is not None:
        lv = 1 if egger_p < 0.10 else 0
        downs.append(Downgrade("publication bias", lv, f"Egger's test p = {egger_p:.3f}"))
    else:
        notes.append("publication bias not assessable (fewer than 10 studies)")
    notes.append("indirectness not assessed")
    total = min(3, sum(d.levels for d in downs))
    return Grade(LEVELS[3 - total], tuple(downs), tuple(notes))


def absolute_per_1000(control_events: float, control_n: float, measure: str, est: float, low: float,
                      high: float):
    """Assumed control risk (pooled control arms) and the corresponding
    intervention risk per 1,000 with its CI (Cochrane Handbook, chapter 14.1.5.1):

    * ``RR``: ``1000 * CR * RR``, capped at 1,000 (a risk cannot exceed 1);
    * ``OR`` (also Peto's): ``1000 * CR * OR / (1 - CR + CR * OR)``.

    Any other measure raises ``ValueError``.  Checked by hand in
    ``tests/test_views.py``."""
    cr = control_events / control_n if control_n else float("nan")
    if measure == "RR":
        def risk(x):
            return 1000 * min(1.0, cr * x)
    elif measure == "OR":
        def risk(x):
            return 1000 * cr * x / (1 - cr + cr * x)
    else:
        raise ValueError(f"absolute effects per 1,000 need a risk or odds ratio, not {measure}")
    return {"control": 1000 * cr, "intervention": risk(est), "low": risk(low), "high": risk(high)}


def per_1000(x: float) -> str:
    """A risk per 1,000 as a whole number with a thousands separator ('1,000')."""
    from ..engine.report import fmt

    return "not estimable" if x != x else f"{int(fmt(x, 0)):,}"
