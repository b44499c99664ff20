"""Per-study effect sizes (metafor's ``escalc`` vocabulary: ``yi``, ``vi``).

Conventions follow RevMan 5 (Deeks & Higgins, *Statistical algorithms in Review
Manager 5*, 2010) unless stated:

* ``MD``  mean difference, ``vi = sd1^2/n1 + sd2^2/n2``.
* ``SMD`` Hedges' g.  ``smd_correction="revman"`` (default) uses RevMan 5's
  approximate correction ``g = d (1 - 3/(4N - 9))`` with
  ``vi = N/(n1 n2) + g^2 / (2 (N - 3.94))``; ``smd_correction="exact"`` uses
  metafor's exact gamma-function correction with ``vi = 1/n1 + 1/n2 + g^2/(2N)``
  (``escalc(measure="SMD")``, vtype "LS"); ``smd_correction="hedges"`` uses the
  approximate correction with the large-sample variance of Hedges & Olkin
  (1985), ``vi = N/(n1 n2) + g^2/(2N)`` (a formula other programs use; the
  settings inference tries all three against RevMan's stored results).
  Validated against metafor 3.8-1 (exact) and the RevMan formula computed in R
  (``tests/reference``).
* ``RR``, ``OR`` on the log scale, ``RD`` on the risk scale.  A study with a
  zero cell gets 0.5 added to all four cells; for ``RD`` only its variance is
  computed from the corrected table (the estimate, and Mantel-Haenszel pooling,
  use the counts as they are), as RevMan's stored results show.  For RR and OR a study with no
  events in both arms is *not estimable* and is dropped with that reason; for
  RD it is kept (Cochrane Handbook 10.4.4.1).  A study in which every
  participant of both arms had the event is not estimable for OR; for RR its
  estimate is exactly 1 with the variance of the corrected table, as RevMan's
  stored per-study results show (CD001703.pub4, analysis 1.25, Atkinson 1998).
* ``GEN`` generic inverse variance: ``yi`` and ``vi`` given, reported as they are;
  ``GENR`` the same for ratios given on the log scale (reported exponentiated).
* ``HR`` O-E and variance data (RevMan's "O-E and variance"): ``yi = (O-E)/V``
  (log hazard ratio), ``vi = 1/V``; a study with ``V = 0`` is not estimable.

Group 1 is the experimental arm throughout, as in RevMan.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ArgumentError
from .codes import CONTINUOUS_MEASURES, DICHOTOMOUS_MEASURES, MEASURES, RATIO_MEASURES, SMD_CORRECTIONS  # noqa: F401

#: Continuity correction added to every cell of a table with a zero cell (RevMan).
CC = 0.5


def check_yi_vi(yi, vi):
    """``yi``, ``vi`` as float arrays; :class:`ArgumentError` unless they are 1-d,
    of one non-zero length, ``yi`` finite and ``vi`` finite and positive."""
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    if yi.ndim != 1 or yi.shape != vi.shape or yi.size == 0:
        raise ArgumentError("yi and vi must be 1-d arrays of the same, non-zero length")
    if np.any(~np.isfinite(yi)) or np.any(~np.isfinite(vi)) or np.any(vi <= 0):
        raise ArgumentError("yi must be finite and vi finite and > 0")
    return yi, vi


def check_choice(name: str, value, allowed) -> None:
    """Raise :class:`ArgumentError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        raise ArgumentError(
            f"{name}={value!r} is not allowed; expected one of {', '.join(map(str, allowed))}"
        )


@dataclass(frozen=True)
class EffectSizes:
    """Study-level effect sizes.

    Attributes
    ----------
    measure : str
        One of ``MD SMD RR OR RD GEN``.
    study : tuple of str
        Study labels of the *estimable* studies, in input order.
    yi, vi : numpy.ndarray
        Effect sizes (log scale for RR/OR) and sampling variances.
    excluded : tuple of (str, str)
        Studies that are not estimable, with the reason.
    tables : numpy.ndarray or None
        For dichotomous data, the (k, 4) array ``a b c d`` of the estimable
        studies used by Mantel-Haenszel: *after* the continuity correction for
        RR and OR, uncorrected for RD (RevMan's rules).
    raw_tables : numpy.ndarray or None
        The same tables without any correction, used by Peto.
    index : tuple of int
        The position (0-based, in the input) of each estimable study, so that
        anything given per input row (subgroup labels, arm data) can be
        filtered along with the studies that are not estimable.
    label : str
        How the measure is named to a reader where the code does not name it
        (``GEN``, ``GENR``): e.g. 'Rate ratio' from a data package; '' for the
        code's own name (:func:`reviewbook.engine.report.measure_text`).
    """

    measure: str
    study: tuple
    yi: np.ndarray
    vi: np.ndarray
    excluded: tuple = ()
    tables: np.ndarray | None = field(default=None, repr=False)
    raw_tables: np.ndarray | None = field(default=None, repr=False)
    index: tuple = ()
    label: str = ""

    def __post_init__(self):
        if not self.index and len(self.study):
            object.__setattr__(self, "index", tuple(range(len(self.study))))

    @property
    def k(self) -> int:
        return len(self.study)


def _as_float(name, values):
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1:
        raise ArgumentError(f"{name} must be one-dimensional")
    return arr


def _kept(labels, keep) -> tuple:
    return tuple(lab for lab, k in zip(labels, keep) if k)


def _labels(study, k):
    if study is None:
        return tuple(f"Study {i + 1}" for i in range(k))
    study = tuple(str(s) for s in study)
    if len(study) != k:
        raise ArgumentError(f"study has {len(study)} labels but the data have {k} rows")
    return study


def _missing_or_zero(*arrays):
    """True where every one of ``arrays`` is 0 or NaN (a row with no data)."""
    out = np.ones(len(arrays[0]), dtype=bool)
    for a in arrays:
        out &= np.isnan(a) | (a == 0)
    return out


#: Why a study is not estimable, as every command and page words it.
NO_DATA = "not estimable: no numbers in any data field"
NO_PARTICIPANTS = "not estimable: no participants in an arm (N is 0 or missing)"
MISSING_MEAN_SD = "not estimable: a mean or SD is missing"
SD_ZERO = "not estimable: SD is 0 in an arm"
NOT_COMPUTABLE = "not estimable: the effect size or its variance cannot be computed"
MISSING_EVENTS = "not estimable: the number of events is missing"
EVENTS_ABOVE_N = "not estimable: more events than participants in an arm"
NO_EVENTS = "not estimable: no events in either arm"
ALL_EVENTS = "not estimable: all participants had the event in both arms"
NO_SE = "not estimable: no standard error (SE is 0 or missing)"
MISSING_ESTIMATE = "not estimable: the estimate is missing"
NO_VARIANCE = "not estimable: variance V = 0"
MISSING_OE = "not estimable: O-E or its variance is missing"


def continuous_reasons(n1, mean1, sd1, n2, mean2, sd2) -> np.ndarray:
    """Per row, why continuous data give no result (``""`` where they do).

    RevMan's rules, read off its stored per-study results (a study it leaves
    blank, see tests/test_audit_rules.py): no numbers at all; an arm with no
    participants; a missing mean or SD; an SD of 0 in either arm (RevMan leaves
    such a study without a result even when the other arm's SD is positive).
    """
    n1, m1, s1, n2, m2, s2 = (np.asarray(a, dtype=float) for a in (n1, mean1, sd1, n2, mean2, sd2))
    out = np.full(len(n1), "", dtype=object)
    checks = [
        (_missing_or_zero(n1, m1, s1, n2, m2, s2), NO_DATA),
        (np.isnan(n1) | np.isnan(n2) | (n1 <= 0) | (n2 <= 0), NO_PARTICIPANTS),
        (np.isnan(m1) | np.isnan(m2) | np.isnan(s1) | np.isnan(s2), MISSING_MEAN_SD),
        ((s1 == 0) | (s2 == 0), SD_ZERO),
    ]
    for mask, reason in reversed(checks):  # the first rule that applies names the reason
        out[mask] = reason
    return out


def continuous(n1, mean1, sd1, n2, mean2, sd2, *, measure="MD", study=None,
               smd_correction="revman") -> EffectSizes:
    """Mean difference or standardised mean difference per study.

    Parameters
    ----------
    n1, mean1, sd1, n2, mean2, sd2 : array_like
        Arm sizes, means and standard deviations (group 1 experimental); NaN
        where a value is missing.
    measure : {"MD", "SMD"}
    smd_correction : {"revman", "exact", "hedges"}
        Small-sample correction for ``SMD`` (see module docstring).

    A study that gives no result (:func:`continuous_reasons`: no data, no
    participants in an arm, a missing mean or SD, an SD of 0) is not estimable
    and listed in ``excluded`` with the reason.  Negative sizes or SDs raise
    :class:`ArgumentError`.
    """
    check_choice("measure", measure, CONTINUOUS_MEASURES)
    check_choice("smd_correction", smd_correction, SMD_CORRECTIONS)
    n1, m1, s1, n2, m2, s2 = (_as_float(nm, v) for nm, v in zip(
        ("n1", "mean1", "sd1", "n2", "mean2", "sd2"), (n1, mean1, sd1, n2, mean2, sd2)))
    k = len(n1)
    if not all(len(a) == k for a in (m1, s1, n2, m2, s2)):
        raise ArgumentError("n1, mean1, sd1, n2, mean2, sd2 must have the same length")
    if np.any(n1 < 0) or np.any(n2 < 0):
        raise ArgumentError("n1 and n2 must be >= 0")
    if np.any(s1 < 0) or np.any(s2 < 0):
        raise ArgumentError("sd1 and sd2 must be >= 0")
    labels = _labels(study, k)
    reasons = continuous_reasons(n1, m1, s1, n2, m2, s2)
    if measure == "SMD":  # the pooled SD divides by N - 2
        few = (reasons == "") & (n1 + n2 <= 2)
        for i in np.flatnonzero(few):
            reasons[i] = (f"not estimable: an SMD needs at least 3 participants in all "
                          f"(N = {n1[i]:g} + {n2[i]:g}: the pooled SD divides by N - 2)")
    ok = reasons == ""
    n1, n2 = np.where(ok, n1, 2.0), np.where(ok, n2, 2.0)
    m1, m2 = np.where(ok, m1, 0.0), np.where(ok, m2, 0.0)
    s1, s2 = np.where(ok, s1, 1.0), np.where(ok, s2, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "MD":
            yi = m1 - m2
            vi = s1 ** 2 / n1 + s2 ** 2 / n2
        else:
            big_n = n1 + n2
            s_pooled = np.sqrt(((n1 - 1) * s1 ** 2 + (n2 - 1) * s2 ** 2) / (big_n - 2))
            d = (m1 - m2) / s_pooled
            if smd_correction == "revman":
                yi = d * (1 - 3 / (4 * big_n - 9))
                vi = big_n / (n1 * n2) + yi ** 2 / (2 * (big_n - 3.94))
            elif smd_correction == "hedges":
                yi = d * (1 - 3 / (4 * big_n - 9))
                vi = big_n / (n1 * n2) + yi ** 2 / (2 * big_n)
            else:
                from scipy.special import gammaln

                m = big_n - 2
                j = np.exp(gammaln(m / 2) - 0.5 * np.log(m / 2) - gammaln((m - 1) / 2))
                yi = j * d
                vi = 1 / n1 + 1 / n2 + yi ** 2 / (2 * big_n)
    bad = ok & ~(np.isfinite(yi) & np.isfinite(vi) & (vi > 0))
    reasons[bad] = NOT_COMPUTABLE
    keep = reasons == ""
    excluded = tuple((labels[i], reasons[i]) for i in np.flatnonzero(~keep))
    return EffectSizes(measure, _kept(labels, keep), yi[keep], vi[keep], excluded,
                       index=tuple(int(i) for i in np.flatnonzero(keep)))


def dichotomous_reasons(events1, n1, events2, n2) -> np.ndarray:
    """Per row, why dichotomous data give no result whatever the measure
    (``""`` where they may): no numbers at all; an arm with no participants;
    a missing number of events; more events than participants (RevMan leaves
    such a row without a result; a package validator decides whether that is
    allowed, see :mod:`reviewbook.package.datapackage`)."""
    e1, t1, e2, t2 = (np.asarray(a, dtype=float) for a in (events1, n1, events2, n2))
    out = np.full(len(e1), "", dtype=object)
    checks = [
        (_missing_or_zero(e1, t1, e2, t2), NO_DATA),
        (np.isnan(t1) | np.isnan(t2) | (t1 <= 0) | (t2 <= 0), NO_PARTICIPANTS),
        (np.isnan(e1) | np.isnan(e2), MISSING_EVENTS),
        ((e1 > t1) | (e2 > t2), EVENTS_ABOVE_N),
    ]
    for mask, reason in reversed(checks):
        out[mask] = reason
    return out


def dichotomous(events1, n1, events2, n2, *, measure="RR", study=None, swap=False) -> EffectSizes:
    """Risk ratio, odds ratio or risk difference per study, RevMan's zero-cell rules.

    Parameters
    ----------
    events1, n1, events2, n2 : array_like
        Events and totals per arm (group 1 experimental); NaN where missing.
    measure : {"RR", "OR", "RD"}
    swap : bool
        RevMan's "Swap event and non-event": the non-events (``n - events``)
        are analysed as the events.

    Rows :func:`dichotomous_reasons` rules out, and those the measure cannot
    estimate (no events, or for OR every participant with the event, in both
    arms), are not estimable and listed in ``excluded`` with the reason.
    Negative counts raise :class:`ArgumentError`.
    """
    check_choice("measure", measure, DICHOTOMOUS_MEASURES)
    e1, t1, e2, t2 = (_as_float(nm, v) for nm, v in zip(
        ("events1", "n1", "events2", "n2"), (events1, n1, events2, n2)))
    k = len(e1)
    if not all(len(a) == k for a in (t1, e2, t2)):
        raise ArgumentError("events1, n1, events2, n2 must have the same length")
    if np.any(t1 < 0) or np.any(t2 < 0) or np.any(e1 < 0) or np.any(e2 < 0):
        raise ArgumentError("events and n must be >= 0")
    labels = _labels(study, k)
    reasons = dichotomous_reasons(e1, t1, e2, t2)
    usable = reasons == ""
    e1, t1 = np.where(usable, e1, 0.0), np.where(usable, t1, 1.0)
    e2, t2 = np.where(usable, e2, 0.0), np.where(usable, t2, 1.0)
    if swap:
        e1, e2 = t1 - e1, t2 - e2
    raw = np.column_stack([e1, t1 - e1, e2, t2 - e2])
    none_both = (e1 == 0) & (e2 == 0)
    all_both = (e1 == t1) & (e2 == t2)
    if measure == "OR":
        reasons[usable & none_both] = NO_EVENTS
        reasons[usable & all_both & ~none_both] = ALL_EVENTS
    elif measure == "RR":
        reasons[usable & none_both] = NO_EVENTS  # every participant with the event in both arms: RR = 1 (below)
    keep = reasons == ""
    excluded = tuple((labels[i], reasons[i]) for i in np.flatnonzero(~keep))
    kept = raw[keep]
    tab = kept.copy()
    zero = np.any(tab == 0, axis=1)
    tab[zero] += CC
    a, b, c, d = tab.T
    m1, m2 = a + b, c + d
    if measure == "RR":
        yi = np.log((a / m1) / (c / m2))
        vi = 1 / a - 1 / m1 + 1 / c - 1 / m2
        # RevMan: when every participant of both arms had the event the risk
        # ratio is exactly 1 (the corrected table would move it), with the SE
        # of the corrected table (seen in RevMan Web's stored study results)
        yi = np.where(all_both[keep], 0.0, yi)
    elif measure == "OR":
        yi = np.log((a * d) / (b * c))
        vi = 1 / a + 1 / b + 1 / c + 1 / d
    else:
        # RevMan: the risk difference itself from the uncorrected counts, its
        # variance from the corrected table (a zero cell would give SE 0), and
        # Mantel-Haenszel on the uncorrected tables.  RevMan's stored per-study
        # results show all three (CD000478.pub5, analysis 7.2: 0/38 vs 0/39 is
        # RD 0 [-0.0493, 0.0493]; 3/25 vs 0/25 is RD 0.12 [-0.0214, 0.2614];
        # M-H weights n1 n2 / N of the uncorrected arms).
        p1, p2 = a / m1, c / m2
        vi = p1 * (1 - p1) / m1 + p2 * (1 - p2) / m2
        yi = e1[keep] / t1[keep] - e2[keep] / t2[keep]
        tab = kept
    return EffectSizes(measure, _kept(labels, keep), yi, vi, excluded,
                       tables=tab, raw_tables=kept, index=tuple(int(i) for i in np.flatnonzero(keep)))


def generic(yi, vi, *, study=None, measure="GEN") -> EffectSizes:
    """Generic inverse variance input: estimates ``yi`` and variances ``vi``.

    ``measure`` may name the scale of ``yi`` (e.g. ``"RR"`` when ``yi`` are
    log risk ratios) so that results are back-transformed; default ``GEN``.
    """
    check_choice("measure", measure, MEASURES)
    yi = _as_float("yi", yi)
    vi = _as_float("vi", vi)
    if len(yi) != len(vi):
        raise ArgumentError("yi and vi must have the same length")
    if np.any(~np.isfinite(vi)) or np.any(vi <= 0):
        raise ArgumentError("vi must be finite and > 0")
    labels = _labels(study, len(yi))
    return EffectSizes(measure, labels, yi, vi)


def _first_reason(n, checks) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for mask, reason in reversed(checks):  # the first rule that applies names the reason
        out[mask] = reason
    return out


def generic_reasons(yi, se) -> np.ndarray:
    """Per row, why an estimate and SE give no result (``""`` where they do):
    no numbers, an SE of 0 or missing, a missing estimate."""
    yi, se = np.asarray(yi, dtype=float), np.asarray(se, dtype=float)
    return _first_reason(len(yi), [(_missing_or_zero(yi, se), NO_DATA), (np.isnan(se) | (se == 0), NO_SE),
                                   (np.isnan(yi), MISSING_ESTIMATE)])


def oe_reasons(o_e, v) -> np.ndarray:
    """Per row, why O-E and variance give no result (``""`` where they do):
    no numbers, a missing value, V = 0."""
    o_e, v = np.asarray(o_e, dtype=float), np.asarray(v, dtype=float)
    return _first_reason(len(o_e), [(_missing_or_zero(o_e, v), NO_DATA), (np.isnan(o_e) | np.isnan(v), MISSING_OE),
                                    (v == 0, NO_VARIANCE)])


def generic_se(yi, se, *, study=None, measure="GEN") -> EffectSizes:
    """Generic inverse variance rows as RevMan holds them: an estimate and its SE.

    A row with no numbers, a missing estimate, or an SE that is 0 or missing
    is not estimable (RevMan stores no result for it) and listed in
    ``excluded`` with the reason; a negative SE raises :class:`ArgumentError`.
    ``vi = se^2``; ``measure`` as in :func:`generic`.
    """
    check_choice("measure", measure, MEASURES)
    yi = _as_float("yi", yi)
    se = _as_float("se", se)
    if len(yi) != len(se):
        raise ArgumentError("yi and se must have the same length")
    if np.any(se < 0) or np.any(np.isinf(se)) or np.any(np.isinf(yi)):
        raise ArgumentError("se must be >= 0 and finite, yi finite")
    labels = _labels(study, len(yi))
    reasons = generic_reasons(yi, se)
    keep = reasons == ""
    excluded = tuple((labels[i], reasons[i]) for i in np.flatnonzero(~keep))
    return EffectSizes(measure, _kept(labels, keep), yi[keep], se[keep] ** 2, excluded,
                       index=tuple(int(i) for i in np.flatnonzero(keep)))


def oe(o_e, v, *, study=None) -> EffectSizes:
    """O-E and variance data (RevMan's "O-E and variance" data type).

    Parameters
    ----------
    o_e, v : array_like
        Observed minus expected events and their variance per study (log-rank
        or Peto statistics, group 1 experimental); NaN where missing.

    Returns
    -------
    EffectSizes
        ``measure="HR"``: ``yi = (O-E)/V`` (log hazard ratio) and ``vi = 1/V``,
        as RevMan computes them (Deeks & Higgins 2010, section 2.1.1.3); a study
        with ``V = 0`` (or a missing value) is not estimable.  Checked against hand computation and
        against the Peto odds ratio of the same tables (``tests/test_engine_faults.py``).
    """
    o_e = _as_float("o_e", o_e)
    v = _as_float("v", v)
    if len(o_e) != len(v):
        raise ArgumentError("o_e and v must have the same length")
    if np.any(np.isinf(o_e)) or np.any(np.isinf(v)) or np.any(v < 0):
        raise ArgumentError("o_e must be finite and v finite and >= 0")
    labels = _labels(study, len(o_e))
    reasons = oe_reasons(o_e, v)
    keep = reasons == ""
    excluded = tuple((labels[i], reasons[i]) for i in np.flatnonzero(~keep))
    return EffectSizes("HR", _kept(labels, keep), o_e[keep] / v[keep], 1.0 / v[keep], excluded,
                       index=tuple(int(i) for i in np.flatnonzero(keep)))


def combine_arms(n, mean, sd):
    """Combine several arms into one (Cochrane Handbook 6.5.2.10, Table 6.5.a).

    Returns ``(n, mean, sd)`` of the pooled group; validated by hand against the
    Handbook's two-group formula applied repeatedly.
    """
    n = _as_float("n", n)
    mean = _as_float("mean", mean)
    sd = _as_float("sd", sd)
    tot_n, tot_m, tot_s = n[0], mean[0], sd[0]
    for n2, m2, s2 in zip(n[1:], mean[1:], sd[1:]):
        new_n = tot_n + n2
        new_m = (tot_n * tot_m + n2 * m2) / new_n
        var = ((tot_n - 1) * tot_s ** 2 + (n2 - 1) * s2 ** 2
               + tot_n * n2 / new_n * (tot_m ** 2 + m2 ** 2 - 2 * tot_m * m2)) / (new_n - 1)
        tot_n, tot_m, tot_s = new_n, new_m, float(np.sqrt(var))
    return float(tot_n), float(tot_m), float(tot_s)
