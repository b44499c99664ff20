"""Infer each analysis's settings from RevMan's stored per-study results.

Data rows without their settings file (see :mod:`.rows`) still carry RevMan's
own result for every estimable study: ``Mean``, ``CI start``, ``CI end``
(ratio scale for RR/OR/HR) and ``Weight`` (percent).  Those numbers identify
the settings that produced them:

1. **Data type** from which fields carry data: arm means and SDs
   (continuous), events and totals (dichotomous), ``GIV Mean``/``GIV SE``
   (generic inverse variance), ``O-E``/``Variance``.  RevMan Web fills
   ``GIV SE`` and ``Variance`` even for arm-level rows in some reviews, and
   GIV rows often carry arm Ns, so every data type whose fields are present is
   a candidate and the stored results decide; arm-level data win a tie.
2. **Effect measure** (MD, SMD with three small-sample formulas, RR, OR, RD,
   Peto OR, GIV on the log scale or not, HR for O-E) and the **per-study CI
   level**, from the per-study estimates and CIs.  Which studies RevMan left
   blank counts too: a study with no events in either arm is not estimable
   for RR and OR but is for RD.
3. **Statistical method, model and tau² estimator** (IV fixed; IV random with
   DL, REML or PM; M-H fixed; M-H random, RevMan 5's DL about the M-H
   estimate; Peto) and, in subgrouped analyses, the **weights rule**: study
   weights relative to the overall total, or computed within each subgroup
   (RevMan's "subtotals only"), from the stored weights.

A candidate *fits* when it reproduces every stored value within the rounding
of the stored values (:func:`column_tolerance`).  Status:

``inferred``
    exactly one candidate fits;
``tie-broken``
    several fit equally (one study, or tau² = 0 so that every model gives the
    same weights): the one that agrees most with the review's majority
    settings for that data type (over the analyses inferred uniquely) is
    chosen, and the evidence says so;
``not identifiable``
    no candidate fits every stored value (the closest is used and its largest
    differences are reported), or there is nothing to compare (no study is
    estimable); the majority settings are used.

Validated on the three Pairwise70 reviews in ``../shared/datasets`` by
``reviewbook audit`` of the imported packages (tests/test_import_rows.py).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from ..engine import dist, effects, pooling

CONTINUOUS, DICHOTOMOUS, GIV, OE = "Continuous", "Dichotomous", "Generic inverse variance", "O-E and variance"
LEVELS = (0.95, 0.90, 0.99)
#: Order in which tied candidates are listed, and the last resort when a review
#: has no analysis of that data type whose settings are identified uniquely.
FALLBACK_ORDER = ("fixed", "random")


@dataclass(frozen=True)
class Variant:
    """How per-study results are computed: data type, measure, SMD formula, Peto."""

    data_type: str
    measure: str  # engine code: MD SMD RR OR RD HR GEN GENR
    smd: str | None = None  # revman, exact, hedges
    peto: bool = False

    @property
    def label(self) -> str:
        m = "Peto OR" if self.peto else self.measure
        return m + (f" ({self.smd} formula)" if self.smd else "")


@dataclass(frozen=True)
class Candidate:
    """One complete setting of an analysis."""

    variant: Variant
    method: str  # RevMan's statistical method: IV, MH, Peto
    model: str  # fixed, random
    estimator: str | None  # DL, REML, PM for random effects
    weights_rule: str  # overall, subgroup
    level: float = 0.95

    @property
    def engine_method(self) -> str:
        if self.method == "Peto" and self.variant.data_type == DICHOTOMOUS:
            return "PETO"
        if self.method == "MH":
            return "MH" if self.model == "fixed" else "MH-DL"
        return "FE" if self.model == "fixed" else self.estimator

    def fields(self) -> tuple:
        return (self.variant.measure if not self.variant.peto else "OR", self.method, self.model,
                self.estimator or "", self.weights_rule)

    @property
    def label(self) -> str:
        model = "fixed" if self.model == "fixed" else f"random {self.estimator}"
        return f"{self.variant.label}, {self.method} {model}, weights {self.weights_rule}"


@dataclass(frozen=True)
class Inference:
    """The settings inferred for one analysis, with the evidence."""

    analysis: str
    candidate: Candidate | None
    status: str  # inferred, tie-broken, not identifiable
    n_candidates: int  # candidates that reproduce every stored value
    max_abs_diff_estimate: float | None
    max_abs_diff_weight: float | None
    checked_estimates: int
    checked_weights: int
    evidence: str
    tied: tuple = field(default=(), repr=False)

    @property
    def data_type(self) -> str:
        return self.candidate.variant.data_type if self.candidate else ""


# ------------------------------------------------------------------ tolerance

def decimals_of(x: float) -> int:
    """Decimals in the shortest representation of ``x`` (``34.134428`` -> 6)."""
    text = repr(float(x)).lower()
    if "e" in text:
        mant, exp = text.split("e")
        dec = len(mant.split(".")[1]) if "." in mant else 0
        return max(0, dec - int(exp))
    if text.endswith(".0"):
        return 0
    return len(text.split(".")[1]) if "." in text else 0


def column_tolerance(values) -> float:
    """Half a unit in the last decimal the column is stored with.

    RevMan writes per-study results with a fixed number of decimals (6 in the
    exports seen); CSV writers then drop trailing zeros (``100`` for
    ``100.000000``), so the precision of a column is the largest number of
    decimals any of its values shows, not each value's own.
    """
    decs = [decimals_of(v) for v in values if v == v]
    return 0.5 * 10.0 ** (-max(decs)) if decs else 0.5e-6


def _close(stored: float, ours: float, tol: float) -> bool:
    return abs(stored - ours) <= tol + 1e-9 * abs(stored)


# ------------------------------------------------------------------ per-study results

def _field(rows, col):
    return np.asarray(rows[col], float) if col in rows.columns else np.full(len(rows), np.nan)


def _nz(a):
    return np.nan_to_num(a, nan=0.0)


def present_types(rows) -> list:
    """Data types whose fields carry data in these rows, arm-level first."""
    has = lambda *cols: any(np.any(_nz(_field(rows, c)) != 0) for c in cols)  # noqa: E731
    out = []
    if has("Experimental SD", "Control SD", "Experimental mean", "Control mean"):
        out.append(CONTINUOUS)
    if has("Experimental cases", "Control cases"):
        out.append(DICHOTOMOUS)
    if has("GIV SE"):
        out.append(GIV)
    if has("O-E", "Variance"):
        out.append(OE)
    if not out and has("Experimental N") and has("Control N"):
        out.append(DICHOTOMOUS)  # only totals: no events in any arm (every study not estimable)
    return out


def variants_for(data_type: str) -> list:
    if data_type == CONTINUOUS:
        return [Variant(CONTINUOUS, "MD")] + [Variant(CONTINUOUS, "SMD", f) for f in effects.SMD_CORRECTIONS]
    if data_type == DICHOTOMOUS:
        return [Variant(DICHOTOMOUS, m) for m in ("RR", "OR", "RD")] + [Variant(DICHOTOMOUS, "OR", peto=True)]
    if data_type == GIV:
        return [Variant(GIV, "GEN"), Variant(GIV, "GENR")]
    return [Variant(OE, "HR")]


def study_effects(variant: Variant, rows, labels) -> effects.EffectSizes:
    """Per-study effect sizes of ``rows`` under ``variant`` (indexed by row)."""
    if variant.data_type == CONTINUOUS:
        n1, n2 = _nz(_field(rows, "Experimental N")), _nz(_field(rows, "Control N"))
        ok = (n1 > 0) & (n2 > 0)
        es = effects.continuous(np.where(ok, n1, 1), _nz(_field(rows, "Experimental mean")),
                                _nz(_field(rows, "Experimental SD")), np.where(ok, n2, 1),
                                _nz(_field(rows, "Control mean")), _nz(_field(rows, "Control SD")),
                                measure=variant.measure, study=labels, smd_correction=variant.smd or "revman")
        return _drop(es, ok, labels, "not estimable: no participants in an arm")
    if variant.data_type == DICHOTOMOUS:
        n1, n2 = _nz(_field(rows, "Experimental N")), _nz(_field(rows, "Control N"))
        e1, e2 = _nz(_field(rows, "Experimental cases")), _nz(_field(rows, "Control cases"))
        ok = (n1 > 0) & (n2 > 0) & (e1 <= n1) & (e2 <= n2)
        safe = lambda a, b: np.where(ok, a, b)  # noqa: E731
        if variant.peto:
            es = effects.dichotomous(safe(e1, 0), safe(n1, 1), safe(e2, 0), safe(n2, 1), measure="OR", study=labels)
            a, b, c, d = es.raw_tables.T
            nn1, nn2 = a + b, c + d
            n = nn1 + nn2
            o_e = a - nn1 * (a + c) / n
            v = nn1 * nn2 * (a + c) * (b + d) / (n ** 2 * (n - 1))
            from dataclasses import replace

            es = replace(es, yi=o_e / v, vi=1.0 / v)
        else:
            es = effects.dichotomous(safe(e1, 0), safe(n1, 1), safe(e2, 0), safe(n2, 1),
                                     measure=variant.measure, study=labels)
        return _drop(es, ok, labels, "not estimable: no participants in an arm")
    if variant.data_type == GIV:
        yi, se = _nz(_field(rows, "GIV Mean")), _nz(_field(rows, "GIV SE"))
        ok = se > 0
        es = effects.generic(yi, np.where(ok, se, 1.0) ** 2, study=labels, measure=variant.measure)
        return _drop(es, ok, labels, "not estimable: no standard error")
    return effects.oe(_nz(_field(rows, "O-E")), _nz(_field(rows, "Variance")), study=labels)


def _drop(es, ok, labels, reason):
    """Remove the rows where ``ok`` is false from ``es`` (they are not estimable)."""
    keep = [j for j, i in enumerate(es.index) if ok[i]]
    if len(keep) == es.k and all(ok):
        return es
    sub = pooling.subset(es, np.isin(np.arange(es.k), keep))
    from dataclasses import replace

    extra = tuple((labels[i], reason) for i in range(len(ok)) if not ok[i])
    return replace(sub, excluded=tuple(x for x in es.excluded if x[0] not in {e[0] for e in extra}) + extra)


def predicted_cis(es, level, n_rows):
    """Per-row (estimate, low, high) on the reporting scale; NaN where not estimable."""
    out = np.full((n_rows, 3), np.nan)
    z = dist.norm_ppf(0.5 + level / 2)
    se = np.sqrt(es.vi)
    est = np.column_stack([es.yi, es.yi - z * se, es.yi + z * se])
    if es.measure in effects.RATIO_MEASURES:
        est = np.exp(est)
    for j, i in enumerate(es.index):
        out[i] = est[j]
    return out


def predicted_weights(es, cand: Candidate, groups, n_rows):
    """Per-row weight (percent) under ``cand``; NaN where not estimable."""
    out = np.full(n_rows, np.nan)
    if es.k == 0:
        return out
    method = cand.engine_method
    if cand.weights_rule == "subgroup" and any(groups):
        g = np.array([groups[i] for i in es.index])
        for name in dict.fromkeys(g):
            mask = g == name
            r = pooling.meta(pooling.subset(es, mask), method)
            for j, s in zip(np.flatnonzero(mask), r.studies):
                out[es.index[j]] = s.weight
        return out
    r = pooling.meta(es, method)
    for j, s in enumerate(r.studies):
        out[es.index[j]] = s.weight
    return out


def methods_for(variant: Variant, subgrouped: bool) -> list:
    rules = ("overall", "subgroup") if subgrouped else ("overall",)
    out = []
    for rule in rules:
        if variant.peto:
            out.append(Candidate(variant, "Peto", "fixed", None, rule))
            continue
        if variant.data_type == DICHOTOMOUS:
            out.append(Candidate(variant, "MH", "fixed", None, rule))
        out.append(Candidate(variant, "Peto" if variant.data_type == OE else "IV", "fixed", None, rule))
        if variant.data_type == DICHOTOMOUS:
            out.append(Candidate(variant, "MH", "random", "DL", rule))
        for est in ("DL", "REML", "PM"):
            out.append(Candidate(variant, "IV", "random", est, rule))
    return out


# ------------------------------------------------------------------ one analysis

@dataclass
class _Fit:
    cand: Candidate
    mismatches: int
    diff_est: float | None
    diff_w: float | None


def _compare(stored, ours, tol):
    """Mismatch count and max |diff| over cells; blank stored must meet NaN ours."""
    bad, diff = 0, None
    for s, o in zip(stored, ours):
        if s != s:  # stored blank: the study must be not estimable here too
            bad += 0 if o != o else 1
            continue
        if o != o:
            bad += 1
            continue
        d = abs(s - o)
        diff = d if diff is None else max(diff, d)
        if not _close(s, o, tol):
            bad += 1
    return bad, diff


def infer_analysis(aid: str, rows, labels, tolerances: dict) -> tuple:
    """All fits of one analysis: ``(fits, checked_estimates, checked_weights)``.

    ``rows``: the analysis's data rows (RevMan headers, floats); ``labels``:
    one distinct label per row; ``tolerances``: by stored column.
    """
    n = len(rows)
    stored = np.column_stack([_field(rows, c) for c in ("Mean", "CI start", "CI end")])
    weight = _field(rows, "Weight")
    weight = np.where(weight == 0, np.nan, weight)  # RevMan writes 0 or blank for no weight
    # a study RevMan could not estimate has no stored estimate: blank or 0 in all three
    blank = np.all(np.isnan(stored) | (stored == 0), axis=1) & np.isnan(weight)
    stored[blank] = np.nan
    groups = [str(x) if x == x else "" for x in rows["Subgroup"]] if "Subgroup" in rows.columns else [""] * n
    subgrouped = any(groups)
    fits = []
    for dtype in present_types(rows):
        for variant in variants_for(dtype):
            try:
                es = study_effects(variant, rows, labels)
            except Exception:  # noqa: BLE001 - a variant that cannot apply to these rows
                continue
            best_level, best = None, None
            for level in LEVELS:
                pred = predicted_cis(es, level, n)
                bad, diff = 0, None
                for col, tol in zip(range(3), (tolerances["Mean"], tolerances["CI start"], tolerances["CI end"])):
                    b, d = _compare(stored[:, col], pred[:, col], tol)
                    bad += b
                    diff = d if diff is None else (diff if d is None else max(diff, d))
                if best is None or bad < best[0]:
                    best_level, best = level, (bad, diff)
                if bad == 0:
                    break
            for cand in methods_for(variant, subgrouped):
                cand = Candidate(cand.variant, cand.method, cand.model, cand.estimator, cand.weights_rule,
                                 best_level)
                pw = predicted_weights(es, cand, groups, n)
                wb, wd = _compare(weight, pw, tolerances["Weight"])
                fits.append(_Fit(cand, best[0] + wb, best[1], wd))
    checked_est = int(np.sum(~np.isnan(stored[:, 0])))
    checked_w = int(np.sum(~np.isnan(weight)))
    return fits, checked_est, checked_w


def _majority(decided: list, data_type: str) -> tuple:
    """Counters of each setting field (and of method, model and estimator
    together) over the uniquely inferred analyses of a data type."""
    same = [c for c in decided if c.variant.data_type == data_type]
    return [Counter(c.fields()[i] for c in same) for i in range(5)], Counter(c.fields()[1:4] for c in same)


def _tie_break(cands: list, counters: list, joint: Counter) -> Candidate:
    """The tied candidate that agrees most with the majority: first the measure,
    then method, model and estimator together, then each alone, then the
    weights rule; the candidate order (fixed effect first) decides the rest."""
    order = {c: i for i, c in enumerate(cands)}

    def key(c):
        f = c.fields()
        return (counters[0][f[0]], joint[f[1:4]], sum(counters[i][f[i]] for i in (1, 2, 3)),
                counters[4][f[4]], -order[c])
    return max(cands, key=key)


def infer(rows_by_analysis: dict, tolerances: dict) -> dict:
    """Infer the settings of every analysis.

    Parameters
    ----------
    rows_by_analysis : dict
        ``analysis id -> (rows, labels)``.
    tolerances : dict
        ``stored column -> absolute tolerance`` (:func:`column_tolerance`).

    Returns
    -------
    dict
        ``analysis id -> Inference`` in input order.
    """
    raw = {}
    for aid, (rows, labels) in rows_by_analysis.items():
        fits, ce, cw = infer_analysis(aid, rows, labels, tolerances)
        raw[aid] = (fits, ce, cw)
    decided = []
    for aid, (fits, ce, cw) in raw.items():
        exact = _unique([f.cand for f in fits if f.mismatches == 0])
        if len(exact) == 1 and ce > 0:
            decided.append(exact[0])
    out = {}
    for aid, (fits, ce, cw) in raw.items():
        if not fits:
            out[aid] = Inference(aid, None, "not identifiable", 0, None, None, ce, cw,
                                 "no data type can be inferred from the fields that carry data")
            continue
        exact = _unique([f.cand for f in fits if f.mismatches == 0])
        by_cand = {f.cand: f for f in fits}
        if ce == 0 and cw == 0:
            pool = exact or _unique([f.cand for f in fits])
            chosen = _tie_break(pool, *_majority(decided, pool[0].variant.data_type))
            status, evidence = "not identifiable", (
                f"no study is estimable, so nothing stored identifies the settings; {len(pool)} candidates "
                f"are consistent; the review's majority for {chosen.variant.data_type.lower()} data is used: "
                f"{chosen.label}")
        elif len(exact) == 1:
            chosen, status = exact[0], "inferred"
            evidence = (f"{_n(ce, 'stored estimate')} with CIs and {_n(cw, 'weight')} reproduced by one "
                        f"candidate only: {chosen.label}")
        elif exact:
            chosen = _tie_break(exact, *_majority(decided, exact[0].variant.data_type))
            status = "tie-broken"
            evidence = (f"{len(exact)} candidates reproduce {_the(ce, 'stored estimate')} and {_the(cw, 'weight')} "
                        f"({_why_tied(exact)}); chosen by the review's majority for "
                        f"{chosen.variant.data_type.lower()} data: {chosen.label}")
        else:
            least = min(f.mismatches for f in fits)
            best = _unique([f.cand for f in fits if f.mismatches == least])
            chosen = _tie_break(best, *_majority(decided, best[0].variant.data_type))
            status = "not identifiable"
            evidence = (f"no candidate reproduces every stored value; the closest ({least} of {ce * 3 + cw} "
                        f"values off) is used: {chosen.label}")
        f = by_cand[chosen]
        out[aid] = Inference(aid, chosen, status, len(exact), f.diff_est, f.diff_w, ce, cw, evidence,
                             tuple(exact))
    return out


def _n(n: int, noun: str) -> str:
    """'1 weight', '3 weights'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _the(n: int, noun: str) -> str:
    """'the 1 weight', 'all 3 weights', 'no weight'."""
    return f"no {noun}" if n == 0 else ("the " if n == 1 else "all ") + _n(n, noun)


def _unique(cands):
    return list(dict.fromkeys(cands))


def _why_tied(cands) -> str:
    kinds = []
    if len({c.model for c in cands}) > 1 or len({c.estimator for c in cands}) > 1:
        kinds.append("fixed and random effects give the same weights")
    if len({c.method for c in cands}) > 1:
        kinds.append("several methods give the same weights")
    if len({c.variant for c in cands}) > 1:
        kinds.append("several measures give the same study results")
    if len({c.weights_rule for c in cands}) > 1:
        kinds.append("weights within subgroups equal weights overall")
    return "; ".join(kinds) or "equivalent settings"

