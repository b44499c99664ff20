"""Pooling: fixed effect, Mantel-Haenszel, Peto and random effects.

Method codes (``method=``):

``FE``
    Inverse-variance fixed effect.
``MH``
    Mantel-Haenszel fixed effect for RR, OR, RD.  For RR and OR on tables with
    RevMan's continuity correction (0.5 added to every cell of a table with a
    zero cell; RevMan applies it for MH pooling too); for RD on the tables as
    they are (RevMan's stored M-H weights ``n1 n2 / N`` are those of the
    uncorrected arms).  Variances: Robins-Breslow-Greenland
    (1986) for log OR; Greenland-Robins (1985) for log RR and for RD.  metafor's
    ``rma.mh`` uses Sato-Greenland-Robins (1989) for RD, so RD standard errors
    differ from metafor in about the fourth significant digit; RevMan's formula
    is validated against a hand computation in R (``tests/reference``).
    Heterogeneity Q is taken about the MH estimate with inverse-variance
    weights ``1/vi`` (as RevMan and metafor do).
``MH-DL``
    RevMan 5's 'M-H, Random': DL tau^2 from the Q about the MH estimate, then
    inverse-variance weights ``1/(vi + tau2)``.
``PETO``
    Peto one-step odds ratio (log scale); study ``yi = (O-E)/V``, ``vi = 1/V``.
``DL``, ``REML``, ``PM``
    Inverse-variance random effects with that tau^2 estimator.

Confidence intervals are Wald (normal) unless ``hksj`` is ``"plain"``
(Hartung-Knapp-Sidik-Jonkman, ``metafor test="knha"``) or ``"adhoc"`` (the same
with the variance multiplier truncated below at 1).  The prediction interval is
Higgins et al. (2009): ``mu +/- t(k-2) sqrt(tau2 + SE^2)``, for random-effects
models with ``k >= 3``.  I^2 is RevMan's ``(Q - df)/Q`` in percent for every
model (metafor's REML I^2 is tau^2-based and differs).

Every quantity is validated against R's metafor 3.8-1 (``tests/reference``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from . import dist

from . import tau2 as tau2_mod
from .effects import RATIO_MEASURES, EffectSizes, check_choice
from ..errors import ArgumentError
from .codes import FIXED_METHODS, HKSJ_VARIANTS, METHODS, RANDOM_METHODS  # noqa: F401

METHOD_LABELS = {
    "FE": "IV, Fixed", "MH": "M-H, Fixed", "MH-DL": "M-H, Random", "PETO": "Peto, Fixed",
    "DL": "IV, Random (DL)", "REML": "IV, Random (REML)", "PM": "IV, Random (PM)",
}


@dataclass(frozen=True)
class StudyWeight:
    """A study as pooled: its effect size (analysis scale) and weight in percent."""

    study: str
    yi: float
    vi: float
    weight: float


@dataclass(frozen=True)
class MetaResult:
    """Result of one meta-analysis.

    ``te``, ``se``, ``ci_low_te``, ``ci_high_te`` are on the analysis scale (log
    scale for RR, OR and Peto OR); ``estimate``, ``ci_low``, ``ci_high``,
    ``pi_low``, ``pi_high`` on the reporting scale (ratios back-transformed).
    ``i2`` is in percent (RevMan's definition).  ``stat`` is a z statistic, or a
    t statistic with ``stat_df`` degrees of freedom under HKSJ.  Quantities that
    are not defined for a model are ``None`` (e.g. ``tau2`` for fixed-effect
    methods, the prediction interval for ``k < 3``).
    """

    measure: str
    method: str
    k: int
    te: float
    se: float
    ci_low_te: float
    ci_high_te: float
    estimate: float
    ci_low: float
    ci_high: float
    stat: float
    stat_df: int | None
    p: float
    tau2: float | None
    q: float
    q_df: int
    q_p: float | None
    i2: float | None
    pi_low: float | None
    pi_high: float | None
    level: float
    hksj: str | None
    studies: tuple = ()
    excluded: tuple = ()
    notes: tuple = ()
    #: HKSJ variance factor ``q = sum w_i (y_i - mu)^2 / (k - 1)`` before any
    #: truncation (None without HKSJ); below 1 the plain HKSJ interval can be
    #: narrower than the Wald one and the ad hoc form uses 1 instead.
    hksj_q: float | None = None
    #: standard error without the HKSJ factor, ``1/sqrt(sum w)`` (the Wald SE,
    #: which RevMan's test for subgroup differences uses); equals ``se`` without HKSJ
    se_wald: float | None = None
    #: the measure's name for a reader where its code does not give one (``EffectSizes.label``)
    label: str = ""

    @property
    def tau(self) -> float | None:
        return None if self.tau2 is None else float(np.sqrt(self.tau2))

    @property
    def is_ratio(self) -> bool:
        return self.measure in RATIO_MEASURES

    def to_dict(self) -> dict:
        """Plain dict in the CLI's JSON layout (see ``reviewbook pool --json``)."""
        return {
            "k": self.k, "measure": self.measure, "method": self.method,
            "estimate": self.estimate, "ci_low": self.ci_low, "ci_high": self.ci_high,
            "te": self.te, "se": self.se, "z": self.stat if self.stat_df is None else None,
            "t": self.stat if self.stat_df is not None else None, "t_df": self.stat_df,
            "p": self.p, "tau2": self.tau2, "tau": self.tau, "i2": self.i2, "q": self.q,
            "q_df": self.q_df, "q_p": self.q_p, "pi_low": self.pi_low, "pi_high": self.pi_high,
            "level": self.level, "hksj": self.hksj,
            "studies": [{"study": s.study, "yi": s.yi, "vi": s.vi, "weight": s.weight}
                        for s in self.studies],
            "excluded": [{"study": s, "reason": r} for s, r in self.excluded],
            "notes": list(self.notes),
        }


def backtransform(measure: str, x):
    """Reporting scale of an analysis-scale value (exp for RR and OR)."""
    if x is None:
        return None
    return float(np.exp(x)) if measure in RATIO_MEASURES else float(x)


def _i2(q: float, df: int) -> float | None:
    if df < 1:
        return None
    if q <= 0:
        return 0.0
    return float(max(0.0, (q - df) / q) * 100.0)


def _q_p(q: float, df: int) -> float | None:
    return float(dist.chi2_sf(q, df)) if df >= 1 else None


def _mh(tables: np.ndarray, measure: str, yi=None):
    """Mantel-Haenszel estimate (analysis scale), its SE and the MH weights.

    For RR the estimate is the MH-weighted mean of the study risk ratios,
    ``sum(s_i RR_i) / sum(s_i)`` with ``s_i = c_i n1_i / n_i``, which is
    ``sum(r_i) / sum(s_i)`` whenever ``RR_i = r_i / s_i``.  Given ``yi`` (the
    log RRs), a study whose RR RevMan sets to exactly 1 (every participant of
    both arms had the event) enters with ``RR_i = 1``, as RevMan Web's stored
    weights show (CD001703.pub4, analysis 1.25, Atkinson 1998: its M-H
    contribution is ``r = s = 14.5``, not the corrected table's ``r = 14.49``).
    """
    a, b, c, d = tables.T
    n1, n2 = a + b, c + d
    n = n1 + n2
    if measure == "OR":
        r, s = a * d / n, b * c / n
        pp, qq = (a + d) / n, (b + c) / n
        sr, ss = np.sum(r), np.sum(s)
        te = np.log(sr / ss)
        var = (np.sum(pp * r) / (2 * sr ** 2) + np.sum(pp * s + qq * r) / (2 * sr * ss)
               + np.sum(qq * s) / (2 * ss ** 2))
        w = s
    elif measure == "RR":
        r, s = a * n2 / n, c * n1 / n
        if yi is not None:
            all_events = (b == 0.5) & (d == 0.5) & np.isclose(np.asarray(yi, float), 0.0, atol=0.0)
            r = np.where(all_events, s, r)
        sr, ss = np.sum(r), np.sum(s)
        te = np.log(sr / ss)
        var = np.sum((n1 * n2 * (a + c) - a * c * n) / n ** 2) / (sr * ss)
        w = s
    else:  # RD, Greenland & Robins (1985)
        w = n1 * n2 / n
        te = np.sum((a * n2 - c * n1) / n) / np.sum(w)
        var = np.sum((a * b * n2 ** 3 + c * d * n1 ** 3) / (n1 * n2 * n ** 2)) / np.sum(w) ** 2
    return float(te), float(np.sqrt(var)), w


def _ratio(te: float, se: float) -> float:
    """``te / se`` without ZeroDivisionError: +-inf when ``se`` is 0 (nan for 0/0),
    as R gives for metafor's z and t statistics."""
    if se > 0:
        return te / se
    return float("nan") if te == 0 else float(np.copysign(np.inf, te))


def _peto(raw: np.ndarray):
    a, b, c, d = raw.T
    n1, n2 = a + b, c + d
    n = n1 + n2
    o_e = a - n1 * (a + c) / n
    v = n1 * n2 * (a + c) * (b + d) / (n ** 2 * (n - 1))
    return o_e, v


def meta(es: EffectSizes, method: str = "REML", *, hksj: str | None = None,
         level: float = 0.95, tau2: float | None = None) -> MetaResult:
    """Pool the studies of ``es``.

    Parameters
    ----------
    es : EffectSizes
        From :func:`reviewbook.engine.effects.continuous`, ``dichotomous`` or ``generic``.
    method : {"FE", "MH", "MH-DL", "PETO", "DL", "REML", "PM"}
    hksj : {None, "plain", "adhoc"}
        Hartung-Knapp-Sidik-Jonkman CI (random-effects methods only).  With
        ``"plain"`` and a weighted residual sum of squares of at most machine
        epsilon (Q = 0: every estimate identical), the variance factor is 0,
        as in metafor's ``rma(test="knha")``: SE 0, the CI collapses to the
        estimate, the t statistic is +-inf (nan when the estimate is 0) and
        p is 0 (nan); a note says so.  ``"adhoc"`` truncates the factor at 1.
    level : float
        Confidence level in (0, 1).
    tau2 : float, optional
        Fix tau^2 at this value instead of estimating it (random-effects methods).

    Returns
    -------
    MetaResult
    """
    check_choice("method", method, METHODS)
    check_choice("hksj", hksj, HKSJ_VARIANTS)
    if not (0 < level < 1):
        raise ArgumentError(f"level={level!r} is not allowed; expected a number in (0, 1)")
    if hksj is not None and method not in RANDOM_METHODS:
        raise ArgumentError(f"hksj={hksj!r} needs a random-effects method "
                            f"({', '.join(RANDOM_METHODS)}), not method={method!r}")
    if method in ("MH", "MH-DL") and es.tables is None:
        raise ArgumentError(f"method={method!r} needs dichotomous data (measure RR, OR or RD)")
    if method == "PETO" and (es.raw_tables is None or es.measure != "OR"):
        raise ArgumentError("method='PETO' needs dichotomous data with measure 'OR'")
    if es.k < 1:
        raise ArgumentError("no estimable study to pool (k = 0)")
    if tau2 is not None and (method not in RANDOM_METHODS or tau2 < 0):
        raise ArgumentError("tau2 can only be fixed (>= 0) for a random-effects method")

    measure, k = es.measure, es.k
    yi, vi = np.asarray(es.yi, float), np.asarray(es.vi, float)
    notes = []
    zcrit = dist.norm_ppf(0.5 + level / 2)
    w_iv = 1.0 / vi

    if method == "PETO":
        o_e, v = _peto(es.raw_tables)
        yi, vi = o_e / v, 1.0 / v
        te, se = float(np.sum(o_e) / np.sum(v)), float(1.0 / np.sqrt(np.sum(v)))
        q = float(np.sum(o_e ** 2 / v) - np.sum(o_e) ** 2 / np.sum(v))
        weights, t2 = v, None
    elif method in ("MH", "MH-DL"):
        te_mh, se_mh, w_mh = _mh(es.tables, measure, es.yi)
        q = float(np.sum(w_iv * (yi - te_mh) ** 2))
        if method == "MH":
            te, se, weights, t2 = te_mh, se_mh, w_mh, None
        else:
            t2 = tau2 if tau2 is not None else tau2_mod.dl_about(yi, vi, te_mh)
            weights = 1.0 / (vi + t2)
            te = float(np.sum(weights * yi) / np.sum(weights))
            se = float(1.0 / np.sqrt(np.sum(weights)))
    else:
        te_fe = float(np.sum(w_iv * yi) / np.sum(w_iv))
        q = float(np.sum(w_iv * (yi - te_fe) ** 2))
        if method == "FE":
            te, se, weights, t2 = te_fe, float(1.0 / np.sqrt(np.sum(w_iv))), w_iv, None
        else:
            t2 = tau2 if tau2 is not None else tau2_mod.estimate(method, yi, vi)
            weights = 1.0 / (vi + t2)
            te = float(np.sum(weights * yi) / np.sum(weights))
            se = float(1.0 / np.sqrt(np.sum(weights)))
    if k == 1:
        q = 0.0
        if method in RANDOM_METHODS:
            t2 = 0.0
            notes.append("one study: the pooled result is that study's; tau2 is 0")
    q_df = k - 1

    stat_df = None
    se_wald = se
    qh = None
    if hksj is not None and k >= 2:
        rss = float(np.sum(weights * (yi - te) ** 2))
        # metafor (rma.uni, test="knha") sets the variance factor to 0 when the
        # weighted residual sum of squares is at most machine epsilon (all yi
        # equal); the SE is then 0 and the CI collapses to the estimate.
        qh = 0.0 if rss <= np.finfo(float).eps else rss / (k - 1)
        mult = max(1.0, qh) if hksj == "adhoc" else qh
        se = float(np.sqrt(mult / np.sum(weights)))
        stat_df = k - 1
        crit = dist.t_ppf(0.5 + level / 2, stat_df)
        stat = _ratio(te, se)
        p = float(2 * dist.t_sf(abs(stat), stat_df)) if not np.isnan(stat) else float("nan")
        if se == 0.0:
            notes.append("HKSJ with Q = 0 (identical estimates): the variance factor is 0, so the "
                         "CI collapses to the estimate (as metafor does)")
    else:
        if hksj is not None:
            notes.append("one study: no HKSJ adjustment is possible; Wald interval shown")
            hksj = None
        crit = zcrit
        stat = _ratio(te, se)
        p = float(2 * dist.norm_sf(abs(stat))) if not np.isnan(stat) else float("nan")
    lo_te, hi_te = te - crit * se, te + crit * se

    pi_lo = pi_hi = None
    if method in RANDOM_METHODS:
        if k >= 3:
            half = dist.t_ppf(0.5 + level / 2, k - 2) * np.sqrt(t2 + se ** 2)
            pi_lo, pi_hi = backtransform(measure, te - half), backtransform(measure, te + half)
        else:
            notes.append("fewer than 3 studies: no prediction interval")

    wsum = np.sum(weights)
    studies = tuple(StudyWeight(s, float(y), float(v), float(100.0 * w / wsum))
                    for s, y, v, w in zip(es.study, yi, vi, weights))
    return MetaResult(
        measure=measure, method=method, k=k, te=float(te), se=float(se),
        ci_low_te=float(lo_te), ci_high_te=float(hi_te),
        estimate=backtransform(measure, te), ci_low=backtransform(measure, lo_te),
        ci_high=backtransform(measure, hi_te), stat=float(stat), stat_df=stat_df, p=p,
        tau2=None if t2 is None else float(t2), q=float(q), q_df=q_df, q_p=_q_p(q, q_df),
        i2=_i2(q, q_df), pi_low=pi_lo, pi_high=pi_hi, level=level, hksj=hksj,
        studies=studies, excluded=tuple(es.excluded), notes=tuple(notes),
        hksj_q=None if qh is None else float(qh), se_wald=float(se_wald), label=es.label)


def study_weights(es: EffectSizes, method: str) -> np.ndarray:
    """The studies' weights in percent under ``method``, as :func:`meta` gives them
    (``MetaResult.studies[i].weight``), without the rest of the pooled result: the
    settings inference compares thousands of candidate weightings with RevMan's
    stored weights.  Checked against :func:`meta` in tests/test_audit_rules.py."""
    w = raw_weights(es, method)
    return 100.0 * w / np.sum(w)


def raw_weights(es: EffectSizes, method: str) -> np.ndarray:
    """The studies' weights under ``method`` before they are made percentages:
    ``1/(vi + tau2)`` for random effects (tau2 of these studies), ``1/vi`` for
    ``FE``, the Mantel-Haenszel or Peto weights (:func:`study_weights` divides
    them by their sum)."""
    check_choice("method", method, METHODS)
    if es.k < 1:
        raise ArgumentError("no estimable study to pool (k = 0)")
    yi, vi = np.asarray(es.yi, float), np.asarray(es.vi, float)
    if method == "PETO":
        w = _peto(es.raw_tables)[1]
    elif method in ("MH", "MH-DL"):
        te_mh, _, w_mh = _mh(es.tables, es.measure, es.yi)
        if method == "MH":
            w = w_mh
        else:
            w = 1.0 / (vi + tau2_mod.dl_about(yi, vi, te_mh))
    elif method == "FE":
        w = 1.0 / vi
    else:
        w = 1.0 / (vi + tau2_mod.estimate(method, yi, vi))
    return np.asarray(w, float)


def shared_arm_weights(es: EffectSizes, groups, keys, method: str):
    """RevMan's study weights (percent) in a subgrouped analysis where a multi-arm
    study has a row per comparison in the subgroups and one more row, outside
    every subgroup, that combines its arms (RevMan Web's layout of a study whose
    shared arm would otherwise be counted twice in the total); ``None`` when the
    rows are not laid out so.

    ``groups``: the subgroup of each study of ``es`` (``''`` for none);
    ``keys``: each study's identity (rows of one study share it).  The rule,
    read off RevMan's stored weights (Cochrane review CD011535.pub7, 16
    analyses, every stored weight reproduced within its rounding,
    ``tests/test_audit_rules.py``):

    * the combined row's weight is its weight in the total, the pool of every
      row except the multi-arm study's subgroup rows (``B``), with that pool's
      tau²;
    * a row of another study has the weight ``1/(vi + tau2_A)`` (or the
      method's fixed-effect weight), where ``tau2_A`` is that of the pool of
      every subgroup row, each taken as independent (``A``);
    * the multi-arm study's subgroup rows share its combined row's weight
      ``1/(v_combined + tau2_B)`` in proportion to their inverse variances
      ``1/vi``;
    * the subgroup rows' weights are percentages of their sum (they add up to
      100; the combined row's weight is shown beside them, so RevMan's column
      adds up to more than 100).
    """
    groups = [str(g) for g in groups]
    keys = [str(k) for k in keys]
    if len(groups) != es.k or len(keys) != es.k:
        raise ArgumentError(f"groups and keys need one value per study ({es.k})")
    outside = [i for i in range(es.k) if groups[i] == ""]
    inside = [i for i in range(es.k) if groups[i] != ""]
    if not outside or not inside:
        return None
    combined = {}
    for i in outside:
        rows = [j for j in inside if keys[j] == keys[i]]
        if not rows or keys[i] in combined:
            return None  # a row outside the subgroups that combines nothing, or twice: another layout
        combined[keys[i]] = i
    vi = np.asarray(es.vi, float)
    mask_a = np.array([groups[i] != "" for i in range(es.k)])
    mask_b = np.array([groups[i] == "" or keys[i] not in combined for i in range(es.k)])
    raw_a = np.full(es.k, np.nan)
    raw_a[mask_a] = raw_weights(subset(es, mask_a), method)
    raw_b = np.full(es.k, np.nan)
    raw_b[mask_b] = raw_weights(subset(es, mask_b), method)
    raw = raw_a.copy()
    for key, c in combined.items():
        rows = [j for j in inside if keys[j] == key]
        share = 1.0 / vi[rows]
        raw[rows] = raw_b[c] * share / share.sum()
    out = np.full(es.k, np.nan)
    out[mask_a] = 100.0 * raw[mask_a] / raw[mask_a].sum()
    out[~mask_a] = 100.0 * raw_b[~mask_a] / raw_b[mask_b].sum()
    return out


# ---------------------------------------------------------------- subgroups

@dataclass(frozen=True)
class SubgroupTest:
    """Test for subgroup differences (RevMan): Q between subgroup estimates.

    ``i2`` in percent; ``p`` from chi-square with ``df = groups - 1``.
    """

    q: float
    df: int
    p: float | None
    i2: float | None


@dataclass(frozen=True)
class SubgroupResult:
    """Overall result, one result per subgroup (in order of first appearance), and the test."""

    overall: MetaResult
    groups: tuple  # of (name, MetaResult)
    test: SubgroupTest | None = None


def subset(es: EffectSizes, mask) -> EffectSizes:
    """The studies of ``es`` where ``mask`` is true (excluded studies are kept)."""
    mask = np.asarray(mask, dtype=bool)
    return replace(
        es, study=tuple(np.asarray(es.study, dtype=object)[mask]), yi=es.yi[mask], vi=es.vi[mask],
        tables=None if es.tables is None else es.tables[mask],
        raw_tables=None if es.raw_tables is None else es.raw_tables[mask],
        index=tuple(i for i, m in zip(es.index, mask) if m))


def subgroup_test(results) -> SubgroupTest | None:
    """Q between subgroup estimates, ``sum w_g (te_g - te_bar)^2`` with ``w_g = 1/se_g^2``.

    ``se_g`` is each subgroup's inverse-variance standard error ``1/sqrt(sum w)``
    (``MetaResult.se_wald``), also where the subgroups' CIs are HKSJ: RevMan's
    test (Deeks and Higgins, *Statistical algorithms in Review Manager*;
    Cochrane Handbook 10.11.3.1) is a chi-squared test on those SEs, and a
    chi-squared test on HKSJ-scaled SEs has no source."""
    if len(results) < 2:
        return None
    te = np.array([r.te for r in results])
    w = 1.0 / np.array([r.se if r.se_wald is None else r.se_wald for r in results]) ** 2
    bar = np.sum(w * te) / np.sum(w)
    q = float(np.sum(w * (te - bar) ** 2))
    df = len(results) - 1
    return SubgroupTest(q=q, df=df, p=_q_p(q, df), i2=_i2(q, df))


def subgroups(es: EffectSizes, groups, method: str = "REML", **kwargs) -> SubgroupResult:
    """Pool each subgroup and test for subgroup differences.

    ``groups`` gives the subgroup label of each estimable study of ``es`` (same
    order as ``es.study``).
    """
    groups = [str(g) for g in groups]
    if len(groups) != es.k:
        raise ArgumentError(f"groups has {len(groups)} labels but there are {es.k} studies")
    overall = meta(es, method, **kwargs)
    names = list(dict.fromkeys(groups))
    results = []
    for name in names:
        mask = np.array([g == name for g in groups])
        results.append((name, meta(subset(es, mask), method, **kwargs)))
    return SubgroupResult(overall, tuple(results), subgroup_test([r for _, r in results]))


# ---------------------------------------------------------------- sensitivity

def leave_one_out(es: EffectSizes, method: str = "REML", *, clusters=None, **kwargs):
    """One result per omitted study: tuple of (omitted study, MetaResult).

    ``clusters`` (optional): the study each estimable row belongs to (same order
    as ``es.study``); a study with several rows (separate participant groups) is
    then omitted with all its rows, and labelled by its cluster name.  Needs at
    least two clusters (the book shows it from three studies)."""
    labels = list(es.study) if clusters is None else [str(c) for c in clusters]
    if len(labels) != es.k:
        raise ArgumentError(f"clusters has {len(labels)} labels but there are {es.k} studies")
    names = list(dict.fromkeys(labels))
    if len(names) < 2:
        return ()
    out = []
    for name in names:
        mask = np.array([lab != name for lab in labels])
        out.append((name, meta(subset(es, mask), method, **kwargs)))
    return tuple(out)


@dataclass(frozen=True)
class EggerResult:
    """Egger's regression test for funnel-plot asymmetry.

    Regression of ``yi/sei`` on ``1/sei`` (ordinary least squares); ``intercept``
    measures asymmetry, tested with a t statistic on ``df = k - 2``.  Equals
    ``metafor::regtest(rma(yi, vi, method="FE"), model="lm", predictor="sei")``.
    ``yi``, ``sei`` and ``centre`` (the fixed-effect estimate) give the funnel plot.
    """

    intercept: float
    se: float
    t: float
    df: int
    p: float
    slope: float
    study: tuple
    yi: np.ndarray = field(repr=False)
    sei: np.ndarray = field(repr=False)
    centre: float = 0.0


def egger(es: EffectSizes) -> EggerResult:
    """Egger's test; needs at least 3 studies (the book shows it for k >= 10)."""
    if es.k < 3:
        raise ArgumentError("Egger's test needs at least 3 studies")
    sei = np.sqrt(es.vi)
    z = es.yi / sei
    x = np.column_stack([np.ones(es.k), 1.0 / sei])
    coef, *_ = np.linalg.lstsq(x, z, rcond=None)
    resid = z - x @ coef
    df = es.k - 2
    sigma2 = float(resid @ resid) / df
    cov = sigma2 * np.linalg.inv(x.T @ x)
    se = float(np.sqrt(cov[0, 0]))
    t = float(coef[0] / se)
    w = 1.0 / es.vi
    return EggerResult(intercept=float(coef[0]), se=se, t=t, df=df,
                       p=float(2 * dist.t_sf(abs(t), df)), slope=float(coef[1]),
                       study=tuple(es.study), yi=es.yi, sei=sei,
                       centre=float(np.sum(w * es.yi) / np.sum(w)))
