"""Group-sequential monitoring boundaries and the cumulative z-curve.

Two-sided, symmetric Lan-DeMets (1983) boundaries with the O'Brien-Fleming-type
alpha-spending function, computed exactly (no Monte Carlo) by the recursive
numerical integration of Armitage, McPherson & Rowe (1969) as set out in
Jennison & Turnbull (2000), *Group Sequential Methods with Applications to
Clinical Trials*, ch. 19: the sub-density of the score process
``S_k = Z_k sqrt(t_k)`` on the continuation region is carried from look to look
by convolution with the normal density of the independent increment, and the
boundary at look ``k`` is the root of "probability of first crossing at ``k`` =
alpha spent between ``t_{k-1}`` and ``t_k``".

Spending-function convention
----------------------------
``alpha`` is the overall two-sided level.  Each tail spends the Lan-DeMets
O'Brien-Fleming function for the one-sided level ``alpha/2``,

.. math:: \\alpha_1(t) = 2 - 2\\Phi\\bigl(z_{1-\\alpha/4}/\\sqrt{t}\\bigr),

so the cumulative two-sided alpha spent is ``2 alpha_1(t)``, equal to ``alpha`` at
``t = 1``.  This is the convention of Reboussin et al. (2000, ld98 / R ldbounds
``iuse=1``), gsDesign's ``sfLDOF`` (one-sided ``alpha/2``, symmetric) and rpact's
``asOF`` (``sided=2``), and it reproduces the published five-look boundaries
4.877, 3.357, 2.680, 2.290, 2.031.  (Writing the function as
``2 - 2 Phi(z_{1-alpha/2}/sqrt t)`` with ``alpha`` the two-sided level spends
more alpha early: first of five looks 4.38, not 4.877.)

Validated (tests/test_sequential.py) against the published equally spaced
five-look values, gsDesign's published bounds for unequal looks (219/441,
329/441, 1), rpact's unit-test values for unequal looks (0.4, 0.75, 0.85, 1),
and an independent multivariate-normal computation of the crossing
probabilities.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from . import dist

from ..errors import ArgumentError
from .effects import check_yi_vi as _check_yi_vi

__all__ = [
    "Boundaries",
    "CumulativeZ",
    "cumulative_z",
    "obf_spending",
    "obrien_fleming_boundaries",
]

#: Gauss-Legendre nodes per panel of the recursive integration.
_GL_NODES = 10
#: Panels per standard deviation of the narrowest Brownian increment involved.
_PANELS_PER_SD = 2


@dataclass(frozen=True)
class Boundaries:
    """Group-sequential boundaries (two-sided symmetric, or one-sided upper).

    Attributes
    ----------
    information : ndarray
        Information fractions ``t_1 < ... < t_K`` (in (0, 1]).
    z : ndarray
        Critical values: stop (reject H0) at look ``k`` when ``|Z_k| >= z[k]``.
        ``inf`` where the alpha to spend underflows double precision (t below
        about 0.004).
    alpha_spent : ndarray
        Cumulative alpha spent at each look, ``obf_spending(t, alpha, sides)``
        (two-sided total when ``sides == 2``).
    nominal_p : ndarray
        Nominal p-value of each boundary, ``sides * (1 - Phi(z))``.
    alpha : float
        Overall level (two-sided if ``sides == 2``).
    sides : int
        2 for symmetric two-sided boundaries ``+/- z``, 1 for an upper boundary.
    """

    information: np.ndarray
    z: np.ndarray
    alpha_spent: np.ndarray
    nominal_p: np.ndarray
    alpha: float
    sides: int


@dataclass(frozen=True)
class CumulativeZ:
    """Cumulative meta-analysis in the given study order.

    Element ``j`` describes the pooled analysis of the first ``j + 1`` studies.

    Attributes
    ----------
    z : ndarray
        ``mu / se``.
    mu : ndarray
        Pooled estimate (analysis scale; log scale for ratio measures).
    se : ndarray
        Its standard error.
    tau2 : ndarray
        DerSimonian-Laird tau^2 (truncated at 0; 0 for one study); zeros for FE.
    method : str
        ``"DL"`` or ``"FE"``.
    """

    z: np.ndarray
    mu: np.ndarray
    se: np.ndarray
    tau2: np.ndarray
    method: str


def _check_alpha(alpha):
    alpha = float(alpha)
    if not (0.0 < alpha < 1.0):
        raise ArgumentError(f"alpha must be in (0, 1); got {alpha!r}")
    return alpha


def _check_sides(sides):
    if sides not in (1, 2):
        raise ArgumentError(f"sides must be 1 or 2; got {sides!r}")
    return sides


def obf_spending(t, alpha=0.05, sides=2):
    """Cumulative alpha spent by the Lan-DeMets O'Brien-Fleming-type function.

    ``sides=2`` (default): ``alpha`` is the two-sided level and the return
    value is the cumulative two-sided alpha, ``2 * (2 - 2 Phi(z_{1-alpha/4} /
    sqrt(t)))`` -- each tail spends the one-sided function for ``alpha/2``.
    ``sides=1``: ``alpha`` is one-sided and the return value is
    ``2 - 2 Phi(z_{1-alpha/2} / sqrt(t))`` (Lan & DeMets 1983; gsDesign
    ``sfLDOF``).  Either way it equals ``alpha`` at ``t = 1`` and 0 at ``t = 0``.

    Parameters
    ----------
    t : float or array_like
        Information fraction(s) in [0, 1].
    alpha : float
        Overall level (two-sided if ``sides=2``).
    sides : {2, 1}

    Returns
    -------
    float or ndarray
    """
    alpha = _check_alpha(alpha)
    sides = _check_sides(sides)
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ArgumentError("information fractions t must lie in [0, 1]")
    one_sided = alpha / sides
    zq = dist.norm_isf(one_sided / 2.0)
    safe_t = np.where(t > 0, t, 1.0)
    out = np.where(t > 0, sides * 2.0 * dist.norm_sf(zq / np.sqrt(safe_t)), 0.0)
    return float(out) if out.ndim == 0 else out


def _check_information(information):
    t = np.asarray(information, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ArgumentError("information must be a non-empty 1-d sequence of fractions")
    if np.any(~np.isfinite(t)) or np.any(t <= 0) or np.any(t > 1):
        raise ArgumentError(f"information fractions must lie in (0, 1]; got {t.tolist()}")
    if np.any(np.diff(t) <= 0):
        raise ArgumentError(f"information fractions must be strictly increasing; got {t.tolist()}")
    return t


#: Where the continuation region is unbounded (one-sided lower side, or no
#: stopping possible), the carried sub-density is truncated at this many SDs
#: of S_k (mass beyond: < 1e-32).
_TRUNC_SD = 12.0


def _panel_nodes(a, b, h):
    """Composite Gauss-Legendre nodes and weights on [a, b] with panels of width <= h."""
    n_pan = max(2, int(np.ceil((b - a) / h)))
    edges = np.linspace(a, b, n_pan + 1)
    x, w = np.polynomial.legendre.leggauss(_GL_NODES)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    nodes = (mid[:, None] + half[:, None] * x[None, :]).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    return nodes, weights


def _exit_probability(nodes, mass, b, sd, sides):
    """P(S_k >= b) (+ P(S_k <= -b) if two-sided) over the carried sub-density."""
    p = special.ndtr((nodes - b) / sd)          # P(S_k >= b | S_{k-1} = s)
    if sides == 2:
        p = p + special.ndtr((-b - nodes) / sd)  # P(S_k <= -b | s)
    return float(mass @ p)


def obrien_fleming_boundaries(information, alpha=0.05, sides=2):
    """Lan-DeMets O'Brien-Fleming-type group-sequential boundaries.

    Parameters
    ----------
    information : array_like
        Information fractions ``t_1 < ... < t_K`` in (0, 1]; the last may be
        below 1 (then only ``obf_spending(t_K)`` is spent).
    alpha : float
        Overall type I error; two-sided when ``sides=2`` (default 0.05).
    sides : {2, 1}
        2: symmetric two-sided boundaries ``+/- z`` (stop when ``|Z_k| >= z_k``);
        1: upper boundary only (stop when ``Z_k >= z_k``), ``alpha`` one-sided.

    Returns
    -------
    Boundaries

    Notes
    -----
    Under H0, ``S(t) = Z(t) sqrt(t)`` is standard Brownian motion.  With
    ``b_k = z_k sqrt(t_k)``, ``C_k`` the continuation interval (``(-b_k, b_k)``
    two-sided, ``(-inf, b_k)`` one-sided) and ``f_k`` the sub-density of ``S_k``
    on ``C_k`` for paths that have not stopped,

    .. math:: f_1(s) = \\phi(s/\\sqrt{t_1})/\\sqrt{t_1},\\qquad
              f_k(s) = \\int_{C_{k-1}} f_{k-1}(u)\\,
              \\phi\\Bigl(\\frac{s-u}{\\sqrt{\\Delta_k}}\\Bigr)\\frac{du}{\\sqrt{\\Delta_k}},

    ``Delta_k = t_k - t_{k-1}``; ``z_k`` solves
    ``int_{C_{k-1}} f_{k-1}(u) P(S_k outside C_k | u) du = alpha(t_k) - alpha(t_{k-1})``
    (Armitage, McPherson & Rowe 1969; Jennison & Turnbull 2000, sec. 19.2).
    The integrals use composite 10-point Gauss-Legendre rules with panels no
    wider than half the smallest increment SD, so the quadrature error is far
    below the root tolerance (1e-13 in z); unbounded sides are truncated at 12
    SDs.  Agreement with rpact 3.3.4 is ~1e-8 in z (tests/test_sequential.py).

    Validated against the published five-look values (4.877, 3.357, 2.680,
    2.290, 2.031), gsDesign's published bounds for the unequal looks
    219/441, 329/441, 1 and rpact's unit-test values for looks 0.4, 0.75,
    0.85, 1 (one-sided).
    """
    alpha = _check_alpha(alpha)
    sides = _check_sides(sides)
    t = _check_information(information)
    spent = np.atleast_1d(obf_spending(t, alpha, sides))
    incr = np.diff(np.concatenate(([0.0], spent)))
    K = t.size
    z = np.empty(K)

    # look 1: P(Z_1 outside C_1) = alpha(t_1)
    z[0] = dist.norm_isf(incr[0] / sides) if incr[0] > 0 else np.inf
    nodes = mass = None
    for k in range(1, K):
        sd = np.sqrt(t[k] - t[k - 1])
        # continuation interval of look k-1 on the S scale (truncated if unbounded)
        s_prev = np.sqrt(t[k - 1])
        hi = z[k - 1] * s_prev if np.isfinite(z[k - 1]) else _TRUNC_SD * s_prev
        lo = -hi if sides == 2 else -_TRUNC_SD * s_prev
        if k == 1:
            h = min(sd, s_prev) / _PANELS_PER_SD
            nodes_new, w = _panel_nodes(lo, hi, h)
            mass = w * dist.norm_pdf(nodes_new, scale=s_prev)
        else:
            prev_sd = np.sqrt(t[k - 1] - t[k - 2])
            h = min(sd, prev_sd) / _PANELS_PER_SD
            nodes_new, w = _panel_nodes(lo, hi, h)
            kern = dist.norm_pdf((nodes_new[:, None] - nodes[None, :]) / prev_sd) / prev_sd
            mass = w * (kern @ mass)
        nodes = nodes_new
        target = incr[k]
        if target <= 0:
            z[k] = np.inf
            continue
        sk = np.sqrt(t[k])

        def g(c, nodes=nodes, mass=mass, sk=sk, sd=sd, target=target):
            p = _exit_probability(nodes, mass, c * sk, sd, sides)
            return np.log(max(p, 1e-300)) - np.log(target)

        z[k] = optimize.brentq(g, 1e-6, 40.0, xtol=1e-13, rtol=1e-13, maxiter=500)
    nominal = sides * dist.norm_sf(z)
    return Boundaries(information=t, z=z, alpha_spent=spent, nominal_p=nominal,
                      alpha=alpha, sides=sides)


def cumulative_z(yi, vi, method="DL"):
    """Cumulative z statistic after each study, in the given order.

    For the first ``j`` studies: FE inverse-variance ``mu = sum(w y)/sum(w)``,
    ``se = sum(w)^(-1/2)`` with ``w = 1/vi``; DL adds the DerSimonian-Laird
    ``tau2 = max(0, (Q - (j-1)) / (sum w - sum w^2 / sum w))`` (0 for ``j = 1``)
    and uses ``w* = 1/(vi + tau2)``.  ``z = mu/se``.  Self-contained; the last
    element equals the full DL / FE analysis, validated against metafor 3.8-1
    (tests/reference/metafor_reference.json).

    Parameters
    ----------
    yi, vi : array_like
        Effect sizes (analysis scale, log scale for ratios) and their variances.
    method : {"DL", "FE"}

    Returns
    -------
    CumulativeZ
    """
    if method not in ("DL", "FE"):
        raise ArgumentError(f"method must be 'DL' or 'FE'; got {method!r}")
    yi, vi = _check_yi_vi(yi, vi)
    w = 1.0 / vi
    k = yi.size
    mu = np.empty(k)
    se = np.empty(k)
    tau2 = np.zeros(k)
    for j in range(k):
        wj, yj = w[: j + 1], yi[: j + 1]
        if method == "DL" and j > 0:
            mu_fe = wj @ yj / wj.sum()
            q = wj @ (yj - mu_fe) ** 2
            c = wj.sum() - (wj @ wj) / wj.sum()
            tau2[j] = max(0.0, (q - j) / c)
        ws = 1.0 / (vi[: j + 1] + tau2[j])
        mu[j] = ws @ yj / ws.sum()
        se[j] = 1.0 / np.sqrt(ws.sum())
    return CumulativeZ(z=mu / se, mu=mu, se=se, tau2=tau2, method=method)
