"""Required information size (RIS) for trial sequential analysis.

Following Wetterslev, Thorlund, Brok & Gluud (2008, J Clin Epidemiol 61:64-75)
and Wetterslev, Thorlund, Brok & Gluud (2009, BMC Med Res Methodol 9:86), as
implemented in the Copenhagen Trial Unit's TSA software (Thorlund et al.,
*User manual for Trial Sequential Analysis (TSA)*, 2011/2017):

* the fixed-effect information size is the total number of participants of one
  two-arm trial powered for the anticipated effect,
  ``RIS = 4 (z_{1-alpha/2} + z_{1-beta})^2 nu / delta^2`` with ``nu = sigma^2``
  (mean difference) or ``nu = pbar (1 - pbar)`` (dichotomous outcome,
  ``pbar = (Pc + Pe)/2``, ``delta = Pc - Pe``);
* heterogeneity is allowed for by the diversity ``D^2 = (V_R - V_F)/V_R``, the
  relative reduction of the variance of the pooled estimate when the
  DerSimonian-Laird random-effects model is replaced by the inverse-variance
  fixed-effect model; ``RIS_adjusted = RIS / (1 - D^2)`` (Wetterslev 2009).

Sizes are returned unrounded (TSA and R's RTSA round up, RTSA to an even
number).  Validated in tests/test_ris.py (published TSA worked value, metafor
DL/FE variances, a hand derivation of D^2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from . import dist
from .codes import ALPHA, POWER

from ..errors import ArgumentError
from .effects import check_yi_vi as _check_yi_vi

__all__ = [
    "RIS",
    "diversity",
    "information_size_binary",
    "information_size_md",
    "pooled_sd",
    "ris_md",
    "ris_rr",
]


@dataclass(frozen=True)
class RIS:
    """Required information size of a meta-analysis.

    Attributes
    ----------
    sd : float
        Standard deviation used: the assumed/pooled within-arm SD of the
        outcome (mean difference, outcome units), or the Bernoulli SD
        ``sqrt(pbar (1 - pbar))`` (dichotomous outcome).
    ris : float
        Fixed-effect required information size (total participants, both arms).
    d2 : float
        Diversity D^2 of the included studies (0 to 1).
    ris_adjusted : float
        Diversity-adjusted RIS, ``ris / (1 - d2)`` (``inf`` if ``d2 == 1``).
    accrued : float
        Participants in the included studies (both arms).
    fraction : float
        Information fraction ``accrued / ris_adjusted``.
    delta : float
        Anticipated effect on the natural scale (MD in outcome units, or the
        risk difference ``Pc - Pe``).
    alpha, beta : float
        Two-sided type I error and type II error.
    """

    sd: float
    ris: float
    d2: float
    ris_adjusted: float
    accrued: float
    fraction: float
    delta: float
    alpha: float
    beta: float


def _check_error_rates(alpha, beta):
    alpha, beta = float(alpha), float(beta)
    if not (0 < alpha < 1):
        raise ArgumentError(f"alpha must be in (0, 1); got {alpha!r}")
    if not (0 < beta < 1):
        raise ArgumentError(f"beta must be in (0, 1); got {beta!r}")
    return alpha, beta


def _zsum2(alpha, beta):
    return (dist.norm_isf(alpha / 2.0) + dist.norm_isf(beta)) ** 2


def diversity(yi, vi):
    """Diversity ``D^2 = (V_R - V_F) / V_R`` (Wetterslev et al. 2009).

    ``V_F = 1 / sum(1/vi)`` is the variance of the inverse-variance
    fixed-effect estimate and ``V_R = 1 / sum(1/(vi + tau2))`` that of the
    DerSimonian-Laird random-effects estimate (``tau2`` truncated at 0).  Zero
    for one study or ``tau2 = 0``.  Validated against metafor 3.8-1 standard
    errors (tests/reference/metafor_reference.json) and, for equal ``vi``, the
    identity ``D^2 = I^2 = 1 - v/s^2`` (tests/test_ris.py).
    """
    yi, vi = _check_yi_vi(yi, vi)
    if yi.size == 1:
        return 0.0
    w = 1.0 / vi
    sw = w.sum()
    mu = w @ yi / sw
    q = w @ (yi - mu) ** 2
    c = sw - (w @ w) / sw
    tau2 = max(0.0, (q - (yi.size - 1)) / c)
    v_f = 1.0 / sw
    v_r = 1.0 / np.sum(1.0 / (vi + tau2))
    return float(max(0.0, (v_r - v_f) / v_r))


def information_size_md(delta, sd, alpha=ALPHA, beta=1 - POWER):
    """Fixed-effect information size for a mean difference (total participants).

    ``4 (z_{1-alpha/2} + z_{1-beta})^2 sd^2 / delta^2`` (two equal arms;
    Wetterslev 2008; the formula of the TSA software as restated in the
    vignette "Calculating required sample size" of R's RTSA, Copenhagen Trial
    Unit).  ``delta`` and ``sd`` in
    outcome units (e.g. points on a 0-100 scale).
    """
    alpha, beta = _check_error_rates(alpha, beta)
    delta, sd = float(delta), float(sd)
    if not (np.isfinite(delta) and delta != 0):
        raise ArgumentError(f"delta must be finite and non-zero; got {delta!r}")
    if not (np.isfinite(sd) and sd > 0):
        raise ArgumentError(f"sd must be finite and > 0; got {sd!r}")
    return float(4.0 * _zsum2(alpha, beta) * sd ** 2 / delta ** 2)


def information_size_binary(control_risk, rrr, alpha=ALPHA, beta=1 - POWER):
    """Fixed-effect information size for a dichotomous outcome (total participants).

    With ``Pc = control_risk``, ``Pe = Pc (1 - rrr)``, ``pbar = (Pc + Pe)/2``:
    ``4 (z_{1-alpha/2} + z_{1-beta})^2 pbar (1 - pbar) / (Pc - Pe)^2``
    (Wetterslev 2008; TSA software, as restated in R RTSA's vignette and
    implemented in ``RTSA::ris(outcome="RR")`` with ``p0 = Pc``,
    ``mc = 1 - rrr``).
    """
    alpha, beta = _check_error_rates(alpha, beta)
    pc, rrr = float(control_risk), float(rrr)
    if not (0 < pc < 1):
        raise ArgumentError(f"control_risk must be in (0, 1); got {pc!r}")
    if not (rrr != 0 and np.isfinite(rrr) and 0 < pc * (1 - rrr) < 1):
        raise ArgumentError(f"rrr must be non-zero with 0 < control_risk*(1-rrr) < 1; got {rrr!r}")
    pe = pc * (1.0 - rrr)
    pbar = 0.5 * (pc + pe)
    return float(4.0 * _zsum2(alpha, beta) * pbar * (1.0 - pbar) / (pc - pe) ** 2)


def pooled_sd(n1, sd1, n2, sd2):
    """Participant-weighted pooled SD of the arms of the included studies.

    ``sigma^2 = sum_ij n_ij sd_ij^2 / sum_ij n_ij`` over studies ``i`` and arms
    ``j`` (the default SD used for the mean-difference RIS here; TSA asks the
    user for a variance and offers the empirical one from the included
    trials).
    """
    n = np.concatenate([np.asarray(n1, float).ravel(), np.asarray(n2, float).ravel()])
    s = np.concatenate([np.asarray(sd1, float).ravel(), np.asarray(sd2, float).ravel()])
    if n.size == 0 or n.shape != s.shape:
        raise ArgumentError("n1, sd1, n2, sd2 must be non-empty and of matching lengths")
    if np.any(~np.isfinite(n)) or np.any(n <= 0) or np.any(~np.isfinite(s)) or np.any(s < 0):
        raise ArgumentError("sample sizes must be > 0 and SDs finite and >= 0")
    return float(np.sqrt(np.sum(n * s * s) / np.sum(n)))


def _assemble(sd, ris, d2, accrued, delta, alpha, beta):
    adj = ris / (1.0 - d2) if d2 < 1.0 else np.inf
    return RIS(sd=float(sd), ris=float(ris), d2=float(d2), ris_adjusted=float(adj),
               accrued=float(accrued), fraction=float(accrued / adj), delta=float(delta),
               alpha=float(alpha), beta=float(beta))


def _check_arms(k, **arrays):
    out = []
    for name, a in arrays.items():
        a = np.asarray(a, dtype=float)
        if a.shape != (k,):
            raise ArgumentError(f"{name} must have one value per study ({k}); got shape {a.shape}")
        out.append(a)
    return out


def ris_md(yi, vi, n1, sd1, n2, sd2, *, delta, sd=None, alpha=ALPHA, beta=1 - POWER):
    """Diversity-adjusted required information size for a mean difference.

    Parameters
    ----------
    yi, vi : array_like
        Mean differences of the included studies and their variances (for D^2).
    n1, sd1, n2, sd2 : array_like
        Arm sizes and SDs of the included studies (accrued size; default SD).
    delta : float
        Anticipated (minimal clinically important) mean difference, outcome units.
    sd : float, optional
        Within-arm SD; default :func:`pooled_sd` of the included arms.
    alpha, beta : float
        Two-sided type I error and type II error (default 0.05, 0.20).

    Returns
    -------
    RIS

    Notes
    -----
    ``RIS = 4 (z_{1-alpha/2} + z_{1-beta})^2 sd^2 / delta^2``,
    ``RIS_adjusted = RIS / (1 - D^2)`` (Wetterslev 2009).
    """
    yi, vi = _check_yi_vi(yi, vi)
    n1, sd1, n2, sd2 = _check_arms(yi.size, n1=n1, sd1=sd1, n2=n2, sd2=sd2)
    s = pooled_sd(n1, sd1, n2, sd2) if sd is None else float(sd)
    ris = information_size_md(delta, s, alpha, beta)
    return _assemble(s, ris, diversity(yi, vi), float(n1.sum() + n2.sum()), float(delta),
                     alpha, beta)


def ris_rr(yi, vi, n1, n2, *, control_risk, rrr, alpha=ALPHA, beta=1 - POWER):
    """Diversity-adjusted required information size for a risk ratio.

    Parameters
    ----------
    yi, vi : array_like
        Log risk ratios of the included studies and their variances (for D^2).
    n1, n2 : array_like
        Arm sizes of the included studies (accrued size).
    control_risk : float
        Anticipated control-group risk ``Pc``.
    rrr : float
        Anticipated relative risk reduction ``R`` (``Pe = Pc (1 - R)``).
    alpha, beta : float
        Two-sided type I error and type II error.

    Returns
    -------
    RIS
        ``sd`` is the Bernoulli SD ``sqrt(pbar (1 - pbar))`` and ``delta`` the
        risk difference ``Pc - Pe``.

    Notes
    -----
    ``RIS = 4 (z_{1-alpha/2} + z_{1-beta})^2 pbar (1 - pbar) / (Pc - Pe)^2``,
    ``pbar = (Pc + Pe)/2`` (Wetterslev 2008; TSA), adjusted by
    ``1/(1 - D^2)`` (Wetterslev 2009).
    """
    yi, vi = _check_yi_vi(yi, vi)
    n1, n2 = _check_arms(yi.size, n1=n1, n2=n2)
    if np.any(n1 <= 0) or np.any(n2 <= 0):
        raise ArgumentError("arm sizes must be > 0")
    ris = information_size_binary(control_risk, rrr, alpha, beta)
    pc = float(control_risk)
    pe = pc * (1.0 - float(rrr))
    pbar = 0.5 * (pc + pe)
    return _assemble(np.sqrt(pbar * (1 - pbar)), ris, diversity(yi, vi),
                     float(n1.sum() + n2.sum()), pc - pe, alpha, beta)
