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
from .names import study_key

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
    swap: bool = False  # RevMan's "Swap event and non-event" (dichotomous)

    @property
    def label(self) -> str:
        m = "Peto OR" if self.peto else self.measure
        return (m + (f" ({self.smd} formula)" if self.smd else "")
                + (" of the non-events (events and non-events swapped)" if self.swap else ""))


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


def fallback_variants_for(data_type: str) -> list:
    """Variants tried only when none of :func:`variants_for` fits: dichotomous
    data with RevMan's "Swap event and non-event" on."""
    if data_type == DICHOTOMOUS:
        return [Variant(DICHOTOMOUS, m, swap=True) for m in ("RR", "OR", "RD")]
    return []


def study_effects(variant: Variant, rows, labels) -> effects.EffectSizes:
    """Per-study effect sizes of ``rows`` under ``variant`` (indexed by row).

    The same engine functions as :func:`reviewbook.package.analysis.effect_sizes`,
    so that the rows inferred as not estimable are the ones the audit leaves out,
    with the same reasons; blank cells stay missing (never read as 0)."""
    f = lambda c: _field(rows, c)  # noqa: E731
    if variant.data_type == CONTINUOUS:
        return effects.continuous(f("Experimental N"), f("Experimental mean"), f("Experimental SD"),
                                  f("Control N"), f("Control mean"), f("Control SD"), measure=variant.measure,
                                  study=labels, smd_correction=variant.smd or "revman")
    if variant.data_type == DICHOTOMOUS:
        args = (f("Experimental cases"), f("Experimental N"), f("Control cases"), f("Control N"))
        if variant.peto:
            es = effects.dichotomous(*args, measure="OR", study=labels, swap=variant.swap)
            a, b, c, d = es.raw_tables.T
            nn1, nn2 = a + b, c + d
            n = nn1 + nn2
            o_e = a - nn1 * (a + c) / n
            v = nn1 * nn2 * (a + c) * (b + d) / (n ** 2 * (n - 1))
            from dataclasses import replace

            return replace(es, yi=o_e / v, vi=1.0 / v)
        return effects.dichotomous(*args, measure=variant.measure, study=labels, swap=variant.swap)
    if variant.data_type == GIV:
        return effects.generic_se(f("GIV Mean"), f("GIV SE"), study=labels, measure=variant.measure)
    return effects.oe(f("O-E"), f("Variance"), study=labels)


def predicted_cis(es, level, n_rows):
    """Per-row (estimate, low, high) on the reporting scale; NaN where not estimable."""
    out = np.full((n_rows, 3), np.nan)
    z = dist.norm_ppf(0.5 + level / 2)
    se = np.sqrt(es.vi)
    est = np.column_stack([es.yi, es.yi - z * se, es.yi + z * se])
    if es.measure in effects.RATIO_MEASURES:
        with np.errstate(over="ignore"):  # a reading that gives inf simply does not fit
            est = np.exp(est)
    for j, i in enumerate(es.index):
        out[i] = est[j]
    return out


def predicted_weights(es, cand: Candidate, groups, n_rows, keys=None):
    """Per-row weight (percent) under ``cand``; NaN where not estimable.  ``keys``:
    each row's study identity (:func:`.names.study_key`), for RevMan's rule on a
    multi-arm study with a combined row outside the subgroups
    (:func:`reviewbook.engine.pooling.shared_arm_weights`)."""
    out = np.full(n_rows, np.nan)
    if es.k == 0:
        return out
    method = cand.engine_method
    index = np.asarray(es.index)
    if cand.weights_rule == "overall" and keys is not None and any(groups):
        w = pooling.shared_arm_weights(es, [groups[i] for i in es.index], [keys[i] for i in es.index], method)
        if w is not None:
            out[index] = w
            return out
    if cand.weights_rule == "subgroup" and any(groups):
        g = np.array([groups[i] for i in es.index])
        for name in dict.fromkeys(g):
            mask = g == name
            out[index[mask]] = pooling.study_weights(pooling.subset(es, mask), method)
        return out
    out[index] = pooling.study_weights(es, method)
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
    types = present_types(rows)
    fits = _fits(rows, labels, [v for t in types for v in variants_for(t)], stored, weight, groups, tolerances)
    if not any(f.mismatches == 0 for f in fits):
        # RevMan's "Swap event and non-event": tried only when nothing else reproduces the
        # stored values (CD013232.pub2 7.2: 2/15 vs 5/15 stored as RR 1.3 = (13/15)/(10/15))
        fits += _fits(rows, labels, [v for t in types for v in fallback_variants_for(t)], stored, weight,
                      groups, tolerances)
    checked_est = int(np.sum(~np.isnan(stored[:, 0])))
    checked_w = int(np.sum(~np.isnan(weight)))
    return fits, checked_est, checked_w


def _fits(rows, labels, variants, stored, weight, groups, tolerances) -> list:
    with np.errstate(over="ignore"):  # a reading whose ratios overflow simply does not fit
        return _fits_of(rows, labels, variants, stored, weight, groups, tolerances)


def _fits_of(rows, labels, variants, stored, weight, groups, tolerances) -> list:
    n = len(rows)
    subgrouped = any(groups)
    keys = [study_key(x) for x in rows["Study"]] if subgrouped else None
    readings = []
    for variant in variants:
        try:
            es = study_effects(variant, rows, labels)
        except Exception:  # noqa: BLE001 - a variant that cannot apply to these rows
            continue
        readings.append((variant, es))
    scored = [(variant, es) + _estimates_fit(es, n, stored, tolerances) for variant, es in readings]
    if any(best[0] == 0 for *_, best in scored):
        # a reading reproduces every stored estimate and CI: the others cannot fit exactly,
        # and their weights need not be computed
        scored = [x for x in scored if x[3][0] == 0]
    fits = []
    for variant, es, best_level, best in scored:
        for cand in methods_for(variant, subgrouped):
            cand = Candidate(cand.variant, cand.method, cand.model, cand.estimator, cand.weights_rule,
                             best_level)
            if np.isnan(weight).all():
                wb, wd = 0, None  # no weight stored (RevMan shows the studies without pooling them)
            else:
                pw = predicted_weights(es, cand, groups, n, keys)
                wb, wd = _compare(weight, pw, tolerances["Weight"])
            fits.append(_Fit(cand, best[0] + wb, best[1], wd))
    return fits


def _estimates_fit(es, n, stored, tolerances) -> tuple:
    """``(level, (mismatches, max |diff|))``: the per-study CI level that reproduces
    most stored estimates and CI limits, and how many it misses."""
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
    return best_level, best


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
            # no numbers in any data field: RevMan shows such an analysis with no data, every
            # study not estimable; any data type says that, the review's most common is used
            rows = rows_by_analysis[aid][0]
            subgrouped = "Subgroup" in rows.columns and any(str(x).strip() for x in rows["Subgroup"] if x == x)
            types = Counter(c.variant.data_type for c in decided)
            dtype = types.most_common(1)[0][0] if types else DICHOTOMOUS
            pool = [c for v in variants_for(dtype) if not v.peto for c in methods_for(v, subgrouped)]
            chosen = _tie_break(pool, *_majority(decided, dtype))
            out[aid] = Inference(aid, chosen, "not identifiable", 0, None, None, ce, cw,
                                 "no numbers in any data field, so no study is estimable and nothing "
                                 "identifies the settings; written as the review's most common data type "
                                 f"with its majority settings: {chosen.label}")
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
                        f"({_why_tied(exact) if cw else 'no weight is stored, so nothing tells the methods apart'}); "
                        "chosen by the review's majority for "
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

