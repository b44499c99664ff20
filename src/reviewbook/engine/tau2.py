"""Between-study variance (tau^2) estimators for one meta-analysis.

* ``DL``   DerSimonian-Laird, truncated at 0.
* ``REML`` the global maximum of the restricted log-likelihood on [0, inf).
  Found without trusting a single Fisher-scoring run: the score is evaluated on
  a grid, every sign change from + to - is refined by Brent's root finder to
  machine precision, and the candidate with the highest restricted likelihood
  (boundary 0 included) wins.  Validated against ``metafor::rma(method="REML")``
  with ``control=list(threshold=1e-12)`` to relative 1e-8.
* ``PM``   Paule-Mandel: the root of ``Q(tau2) = k - 1`` (generalised Q),
  0 when ``Q(0) <= k - 1``.  Validated against ``metafor::rma(method="PM")``.
"""
from __future__ import annotations

import numpy as np

ESTIMATORS = ("DL", "REML", "PM")



def _brentq():
    """scipy's root finder, imported when first needed (scipy.optimize takes a
    quarter of a second to import; most analyses need no iterative estimator)."""
    from scipy.optimize import brentq

    return brentq

def dl(yi: np.ndarray, vi: np.ndarray) -> float:
    """DerSimonian-Laird tau^2 (truncated at 0); Q about the IV fixed-effect mean."""
    return dl_about(yi, vi, None)


def dl_about(yi, vi, centre=None) -> float:
    """DL tau^2 with Q taken about ``centre`` (the IV mean when ``None``).

    RevMan 5's 'M-H, Random' uses the Mantel-Haenszel estimate as the centre.
    """
    k = len(yi)
    if k < 2:
        return 0.0
    w = 1.0 / vi
    if centre is None:
        centre = np.sum(w * yi) / np.sum(w)
    q = np.sum(w * (yi - centre) ** 2)
    # c = sum(w) - sum(w^2)/sum(w) = 2 sum_{i<j} w_i w_j / sum(w), summed without the
    # subtraction, which cancels to 0 when one weight dwarfs the others (1/1e-12 beside 1/1e12)
    before = np.concatenate([[0.0], np.cumsum(w)[:-1]])
    c = 2.0 * np.sum(w * before) / np.sum(w)
    return float(max(0.0, (q - (k - 1)) / c))


def _upper(yi, vi) -> float:
    spread = float(np.max(yi) - np.min(yi))
    return max(10.0 * spread ** 2, 10.0 * float(np.max(vi)), 1e-8) + 100.0 * dl(yi, vi)


def restricted_loglik(tau2, yi, vi) -> float:
    """Restricted log-likelihood of the random-effects model (constant dropped)."""
    w = 1.0 / (vi + tau2)
    sw = np.sum(w)
    mu = np.sum(w * yi) / sw
    return float(-0.5 * (np.sum(np.log(vi + tau2)) + np.log(sw) + np.sum(w * (yi - mu) ** 2)))


def _reml_score(tau2, yi, vi) -> float:
    w = 1.0 / (vi + tau2)
    sw = np.sum(w)
    mu = np.sum(w * yi) / sw
    return float(0.5 * (np.sum(w ** 2 * (yi - mu) ** 2) - sw + np.sum(w ** 2) / sw))


def reml(yi: np.ndarray, vi: np.ndarray) -> float:
    """REML tau^2: global maximiser of the restricted likelihood on [0, inf)."""
    if len(yi) < 2:
        return 0.0
    upper = _upper(yi, vi)
    # grid dense near 0 (where most estimates lie) and geometric beyond
    grid = np.concatenate([[0.0], np.geomspace(upper * 1e-10, upper, 120)])
    w = 1.0 / (vi[None, :] + grid[:, None])  # the score on the whole grid at once
    sw = w.sum(axis=1)
    mu = (w * yi).sum(axis=1) / sw
    score = 0.5 * ((w ** 2 * (yi - mu[:, None]) ** 2).sum(axis=1) - sw + (w ** 2).sum(axis=1) / sw)
    candidates = [0.0]
    for i in np.flatnonzero((score[:-1] > 0) & (score[1:] <= 0)):
        lo, hi = grid[i], grid[i + 1]
        candidates.append(_brentq()(_reml_score, lo, hi, args=(yi, vi), xtol=1e-300, rtol=1e-15,
                                 maxiter=500) if score[i + 1] < 0 else hi)
    if score[-1] > 0:  # still rising at the upper end: extend
        hi = upper
        while _reml_score(hi, yi, vi) > 0:
            hi *= 10.0
        candidates.append(_brentq()(_reml_score, upper, hi, args=(yi, vi), xtol=1e-300,
                                 rtol=1e-15, maxiter=500))
    ll = [restricted_loglik(t, yi, vi) for t in candidates]
    return float(candidates[int(np.argmax(ll))])


def generalised_q(tau2, yi, vi) -> float:
    w = 1.0 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return float(np.sum(w * (yi - mu) ** 2))


def pm(yi: np.ndarray, vi: np.ndarray) -> float:
    """Paule-Mandel tau^2."""
    k = len(yi)
    if k < 2:
        return 0.0
    target = k - 1
    if generalised_q(0.0, yi, vi) <= target:
        return 0.0
    # Q(tau2) <= spread^2 * sum(w) <= k spread^2 / tau2, so Q <= k - 1 from 2 spread^2 on: a
    # finite bracket whatever the data (the DL term of _upper can overflow when the weights
    # differ by 24 orders of magnitude, and Q(inf) is NaN)
    spread = float(np.max(yi) - np.min(yi))
    hi = max(10.0 * spread ** 2, 10.0 * float(np.max(vi)), 1e-8)
    while generalised_q(hi, yi, vi) > target and hi < 1e300:
        hi *= 10.0
    return float(_brentq()(lambda t: generalised_q(t, yi, vi) - target, 0.0, hi,
                        xtol=1e-300, rtol=1e-15, maxiter=500))


def estimate(method: str, yi, vi) -> float:
    """Dispatch to :func:`dl`, :func:`reml` or :func:`pm`."""
    return {"DL": dl, "REML": reml, "PM": pm}[method](np.asarray(yi, float), np.asarray(vi, float))
