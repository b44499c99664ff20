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
    """

    measure: str
    study: tuple
    yi: np.ndarray
    vi: np.ndarray
    excluded: tuple = ()
    tables: np.ndarray | None = field(default=None, repr=False)
    raw_tables: np.ndarray | None = field(default=None, repr=False)
    index: tuple = ()

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


def continuous(n1, mean1, sd1, n2, mean2, sd2, *, measure="MD", study=None,
               smd_correction="revman") -> EffectSizes:
    """Mean difference or standardised mean difference per study.

    Parameters
    ----------
    n1, mean1, sd1, n2, mean2, sd2 : array_like
        Arm sizes, means and standard deviations (group 1 experimental).
    measure : {"MD", "SMD"}
    smd_correction : {"revman", "exact"}
        Small-sample correction for ``SMD`` (see module docstring).
    """
    check_choice("measure", measure, CONTINUOUS_MEASURES)
    check_choice("smd_correction", smd_correction, SMD_CORRECTIONS)
    n1, m1, s1, n2, m2, s2 = (_as_float(nm, v) for nm, v in zip(
        ("n1", "mean1", "sd1", "n2", "mean2", "sd2"), (n1, mean1, sd1, n2, mean2, sd2)))
    k = len(n1)
    if not all(len(a) == k for a in (m1, s1, n2, m2, s2)):
        raise ArgumentError("n1, mean1, sd1, n2, mean2, sd2 must have the same length")
    if np.any(n1 <= 0) or np.any(n2 <= 0):
        raise ArgumentError("n1 and n2 must be > 0")
    if np.any(s1 < 0) or np.any(s2 < 0):
        raise ArgumentError("sd1 and sd2 must be >= 0")
    labels = _labels(study, k)
    if measure == "MD":
        yi = m1 - m2
        vi = s1 ** 2 / n1 + s2 ** 2 / n2
    else:
        big_n = n1 + n2
        with np.errstate(divide="ignore", invalid="ignore"):  # N = 2 or SD 0: not estimable (reasons below)
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
    keep = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    excluded = tuple((labels[i], _continuous_reason(measure, n1[i], s1[i], n2[i], s2[i]))
                     for i in np.flatnonzero(~keep))
    return EffectSizes(measure, _kept(labels, keep), yi[keep], vi[keep], excluded,
                       index=tuple(int(i) for i in np.flatnonzero(keep)))


def _continuous_reason(measure, n1, s1, n2, s2) -> str:
    """Why a continuous study is not estimable, from its own numbers."""
    if measure == "SMD" and n1 + n2 <= 2:
        return (f"not estimable: an SMD needs at least 3 participants in all (N = {n1:g} + {n2:g}: "
                "the pooled SD divides by N - 2)")
    if s1 == 0 and s2 == 0:
        return "not estimable: zero variance (SD = 0 in both arms)"
    return f"not estimable: the variance cannot be computed (N = {n1:g} + {n2:g}, SD = {s1:g} and {s2:g})"


def dichotomous(events1, n1, events2, n2, *, measure="RR", study=None) -> EffectSizes:
    """Risk ratio, odds ratio or risk difference per study, RevMan's zero-cell rules.

    Parameters
    ----------
    events1, n1, events2, n2 : array_like
        Events and totals per arm (group 1 experimental).
    measure : {"RR", "OR", "RD"}
    """
    check_choice("measure", measure, DICHOTOMOUS_MEASURES)
    e1, t1, e2, t2 = (_as_float(nm, v) for nm, v in zip(
        ("events1", "n1", "events2", "n2"), (events1, n1, events2, n2)))
    k = len(e1)
    if not all(len(a) == k for a in (t1, e2, t2)):
        raise ArgumentError("events1, n1, events2, n2 must have the same length")
    if np.any(t1 <= 0) or np.any(t2 <= 0):
        raise ArgumentError("n1 and n2 must be > 0")
    if np.any(e1 < 0) or np.any(e2 < 0) or np.any(e1 > t1) or np.any(e2 > t2):
        raise ArgumentError("events must be between 0 and n")
    labels = _labels(study, k)
    raw = np.column_stack([e1, t1 - e1, e2, t2 - e2])
    none_both = (e1 == 0) & (e2 == 0)
    all_both = (e1 == t1) & (e2 == t2)
    if measure == "OR":
        keep = ~(none_both | all_both)
    elif measure == "RR":
        keep = ~none_both  # every participant with the event in both arms: RR = 1 (below)
    else:
        keep = np.ones(k, dtype=bool)
    excluded = tuple(
        (labels[i], "not estimable: no events in either arm" if none_both[i]
         else "not estimable: all participants had the event in both arms")
        for i in np.flatnonzero(~keep))
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


def oe(o_e, v, *, study=None) -> EffectSizes:
    """O-E and variance data (RevMan's "O-E and variance" data type).

    Parameters
    ----------
    o_e, v : array_like
        Observed minus expected events and their variance per study (log-rank
        or Peto statistics, group 1 experimental).

    Returns
    -------
    EffectSizes
        ``measure="HR"``: ``yi = (O-E)/V`` (log hazard ratio) and ``vi = 1/V``,
        as RevMan computes them (Deeks & Higgins 2010, section 2.1.1.3); a study
        with ``V = 0`` is not estimable.  Checked against hand computation and
        against the Peto odds ratio of the same tables (``tests/test_engine_faults.py``).
    """
    o_e = _as_float("o_e", o_e)
    v = _as_float("v", v)
    if len(o_e) != len(v):
        raise ArgumentError("o_e and v must have the same length")
    if np.any(~np.isfinite(o_e)) or np.any(~np.isfinite(v)) or np.any(v < 0):
        raise ArgumentError("o_e must be finite and v finite and >= 0")
    labels = _labels(study, len(o_e))
    keep = v > 0
    excluded = tuple((labels[i], "not estimable: variance V = 0") for i in np.flatnonzero(~keep))
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
