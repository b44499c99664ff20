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

Futility boundaries
-------------------
:func:`futility_boundaries` adds non-binding futility boundaries by an
O'Brien-Fleming-type beta-spending function, the same recursion run under the
alternative (Brownian motion with drift); :func:`first_crossing` says which
boundary a cumulative z-curve crossed first.  Conventions (drift, last look,
sidedness) are stated in :func:`futility_boundaries`; validated against rpact
3.3.4 (tests/reference/rpact_futility.json) and Monte Carlo.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from scipy import optimize, special

from . import dist

from ..errors import ArgumentError
from .effects import check_yi_vi as _check_yi_vi

__all__ = [
    "Boundaries",
    "Crossing",
    "CumulativeZ",
    "FutilityBoundaries",
    "cumulative_z",
    "first_crossing", "first_looks",
    "futility_boundaries",
    "obf_beta_spending",
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


# ----------------------------------------------------------------------------
# Non-binding futility boundaries (beta-spending)


@dataclass(frozen=True)
class FutilityBoundaries:
    """Efficacy boundaries with non-binding futility boundaries (beta-spending).

    Attributes
    ----------
    information : ndarray
        Information fractions ``t_1 < ... < t_K`` as given.
    z : ndarray
        Efficacy critical values, identical to
        ``obrien_fleming_boundaries(information, alpha, sides).z`` (non-binding:
        the futility region is ignored when they are computed).
    futility : ndarray
        Futility bounds.  Two-sided: stop for futility at look ``k`` when
        ``|Z_k| < futility[k]`` (an inner wedge); ``nan`` where no futility stop is
        possible at that look.  One-sided: stop when ``Z_k < futility[k]``;
        ``-inf`` where no type II error is spent yet.  Never above ``z``.
    alpha_spent : ndarray
        Cumulative alpha spent (as in :class:`Boundaries`).
    beta_spent : ndarray
        Cumulative probability, under the alternative, of stopping for futility
        by look ``k`` (efficacy and futility stops both respected).
    power : ndarray
        Cumulative probability, under the alternative, of crossing the upper
        efficacy boundary by look ``k`` (futility stops respected).
    drift : float
        Mean of ``Z`` at ``t = 1`` under the alternative: ``z_{1-alpha/sides} +
        z_{1-beta}`` unless ``inflated``.
    inflation : float
        ``(drift / (z_{1-alpha/sides} + z_{1-beta}))**2``: the maximum information
        as a multiple of the fixed-sample required information size (1 unless
        ``inflated``).
    inflated : bool
        True when the drift was solved so that the bounds meet at ``t = 1``
        (rpact's convention); the fractions are then fractions of the inflated
        maximum information.
    alpha, beta : float
        Overall type I error (two-sided if ``sides == 2``) and type II error.
    sides : int
        2 (symmetric efficacy boundaries ``+/- z``, inner-wedge futility) or 1.
    """

    information: np.ndarray
    z: np.ndarray
    futility: np.ndarray
    alpha_spent: np.ndarray
    beta_spent: np.ndarray
    power: np.ndarray
    drift: float
    inflation: float
    inflated: bool
    alpha: float
    beta: float
    sides: int


def _check_beta(beta):
    beta = float(beta)
    if not (0.0 < beta < 1.0):
        raise ArgumentError(f"beta must be in (0, 1); got {beta!r}")
    return beta


def obf_beta_spending(t, beta=0.20):
    """Cumulative type II error spent by the O'Brien-Fleming-type function.

    The Lan-DeMets O'Brien-Fleming form applied to ``beta``,
    ``2 - 2 Phi(z_{1-beta/2} / sqrt(t))`` (0 at ``t = 0``, ``beta`` at ``t = 1``),
    for one- and two-sided tests alike, as rpact's ``typeBetaSpending = "bsOF"``
    (its betaSpent is reproduced in tests/test_sequential.py).

    Parameters
    ----------
    t : float or array_like
        Information fraction(s) in [0, 1].
    beta : float
        Overall type II error (1 - power).

    Returns
    -------
    float or ndarray
    """
    beta = _check_beta(beta)
    t = np.asarray(t, dtype=float)
    if np.any(~np.isfinite(t)) or np.any(t < 0) or np.any(t > 1):
        raise ArgumentError("information fractions t must lie in [0, 1]")
    zq = dist.norm_isf(beta / 2.0)
    safe_t = np.where(t > 0, t, 1.0)
    out = np.where(t > 0, 2.0 * dist.norm_sf(zq / np.sqrt(safe_t)), 0.0)
    return float(out) if out.ndim == 0 else out


class _Walk:
    """Sub-density of ``S(t) = theta t + W(t)`` over the paths still running.

    Starts as a point mass at ``S(0) = 0``.  :meth:`advance` carries it to a look
    and keeps the part inside that look's continuation region (a union of
    z-scale intervals): the Armitage-McPherson-Rowe recursion with increments
    ``S_k - S_{k-1} ~ N(theta Delta_k, Delta_k)``, on composite Gauss-Legendre
    nodes as in :func:`obrien_fleming_boundaries`.
    """

    def __init__(self, theta):
        self.theta = float(theta)
        self.t = 0.0
        self.nodes = np.zeros(1)
        self.mass = np.ones(1)

    def below(self, t_next, z):
        """P(running now and Z(t_next) < z[i]) for each ``z[i]``."""
        sd = np.sqrt(t_next - self.t)
        mu = self.nodes + self.theta * (t_next - self.t)
        z = np.atleast_1d(np.asarray(z, dtype=float))
        return special.ndtr((z[:, None] * np.sqrt(t_next) - mu[None, :]) / sd) @ self.mass

    def between(self, t_next, lo, hi):
        """P(running now and lo < Z(t_next) < hi)."""
        p = self.below(t_next, [lo, hi])
        return float(p[1] - p[0])

    def running(self):
        """P(running now)."""
        return float(self.mass.sum())

    def advance(self, t_next, intervals, h):
        """Move to ``t_next`` keeping the paths with ``Z(t_next)`` in ``intervals``.

        Infinite ends are truncated 12 SDs of ``S(t_next)`` about its mean.
        """
        dt = t_next - self.t
        sd = np.sqrt(dt)
        s = np.sqrt(t_next)
        lo_cut = self.theta * t_next - _TRUNC_SD * s
        hi_cut = self.theta * t_next + _TRUNC_SD * s
        nodes, weights = [], []
        for lo, hi in intervals:
            a = max(lo * s, lo_cut) if lo > -np.inf else lo_cut
            b = min(hi * s, hi_cut) if hi < np.inf else hi_cut
            if b > a:
                x, w = _panel_nodes(a, b, h)
                nodes.append(x)
                weights.append(w)
        if nodes:
            new = np.concatenate(nodes)
            kern = dist.norm_pdf((new[:, None] - self.nodes[None, :] - self.theta * dt) / sd) / sd
            self.mass = np.concatenate(weights) * (kern @ self.mass)
            self.nodes = new
        else:
            self.nodes, self.mass = np.zeros(1), np.zeros(1)
        self.t = float(t_next)


def _solve_futility(walk, t_k, b_k, target, sides):
    """Futility bound at one look spending ``target`` under the alternative.

    Two-sided: ``a`` in (0, b_k] with P(running, |Z_k| < a) = target; one-sided:
    ``a`` in (-40, b_k] with P(running, Z_k < a) = target.  Capped at ``b_k``
    when the whole continuation region at the look holds less than ``target``.
    Returns ``(a, probability spent)``.
    """
    def lo_of(a):
        return -a if sides == 2 else -np.inf

    if np.isfinite(b_k):
        p_max = walk.between(t_k, lo_of(b_k), b_k)
        if p_max <= target:
            return float(b_k), p_max
    upper = float(b_k) if np.isfinite(b_k) else 40.0
    lower = 1e-12 if sides == 2 else -40.0

    def g(a):
        return np.log(max(walk.between(t_k, lo_of(a), a), 1e-300)) - np.log(target)

    if g(lower) >= 0:  # the target is below what the narrowest bound already spends
        return lower, walk.between(t_k, lo_of(lower), lower)
    a = optimize.brentq(g, lower, upper, xtol=1e-13, rtol=1e-13, maxiter=500)
    return float(a), walk.between(t_k, lo_of(a), a)


def _panel_width(t, k):
    """Half the smaller SD of the increments into and out of look ``k``."""
    into = t[k] - (t[k - 1] if k > 0 else 0.0)
    out = t[k + 1] - t[k] if k + 1 < t.size else into
    return np.sqrt(min(into, out)) / _PANELS_PER_SD


def _futility_pass(t, z, spend, theta, sides, allowed):
    """The recursion under drift ``theta`` with efficacy bounds ``z`` (fixed).

    Returns ``(futility, beta_spent, power, last_gap)``; ``last_gap`` is
    P(running at the last look and not crossing efficacy there) minus the type
    II error left to spend there: 0 when the bounds meet at the last look,
    positive when the spending leaves a gap between them.
    """
    K = t.size
    walk = _Walk(theta)
    fut = np.full(K, np.nan if sides == 2 else -np.inf)
    spent = np.zeros(K)
    power = np.zeros(K)
    cum = up = last_gap = 0.0
    for k in range(K):
        b = z[k]
        target = spend[k] - cum
        if k == K - 1 and np.isfinite(b):
            last_gap = walk.between(t[k], -b if sides == 2 else -np.inf, b) - target
        if allowed[k] and target > 0:
            fut[k], p = _solve_futility(walk, t[k], b, target, sides)
            cum += p
        if np.isfinite(b):
            up += walk.running() - float(walk.below(t[k], [b])[0])
        spent[k], power[k] = cum, up
        if k + 1 < K:
            a = fut[k]
            if sides == 2:
                a = a if np.isfinite(a) else 0.0
                cont = [(-b, -a), (a, b)] if a > 0 else [(-b, b)]
            else:
                cont = [(a, b)]
            walk.advance(t[k], cont, _panel_width(t, k))
    return fut, spent, power, last_gap


def _meeting_drift(gap, theta0):
    """Drift at which the bounds meet at the last look (root of ``gap``), by
    bracketing upwards from ``theta0`` and Brent's method."""
    lo, hi = theta0, theta0
    for _ in range(60):
        if gap(lo) >= 0:
            break
        lo /= 1.25
    else:  # pragma: no cover - near zero drift the gap is about 1 - alpha - beta > 0
        raise ArgumentError("no drift makes the futility and efficacy bounds meet at the last look")
    for _ in range(60):
        hi *= 1.25
        if gap(hi) < 0:
            break
    else:  # pragma: no cover - the gap tends to -beta' as the drift grows
        raise ArgumentError("no drift makes the futility and efficacy bounds meet at the last look")
    return optimize.brentq(gap, lo, hi, xtol=1e-13, rtol=1e-13, maxiter=500)


def _restarted_spending(B, beta, allowed):
    """Beta spending with no futility stop at the first looks (rpact ``betaAdjustment``).

    If the first look with a futility stop is ``j > 0``, the spending function
    restarts at the look before it: ``beta (B(t) - B(t_{j-1})) / (beta - B(t_{j-1}))``
    from ``t_{j-1}`` on, 0 before.
    """
    interim = np.flatnonzero(allowed[:-1])
    j = int(interim[0]) if interim.size else B.size - 1
    if j == 0:
        return B.copy()
    anchor = B[j - 1]
    out = beta * (B - anchor) / (beta - anchor)
    out[:j] = 0.0
    return out


def futility_boundaries(information, alpha=0.05, beta=0.20, sides=2, inflate=False):
    """Lan-DeMets O'Brien-Fleming boundaries with non-binding futility boundaries.

    Efficacy: :func:`obrien_fleming_boundaries` (unchanged, because the
    futility boundaries are non-binding: the type I error is controlled
    whether or not one stops when a futility bound is crossed).  Futility: an
    O'Brien-Fleming-type beta-spending function,
    ``beta(t) = 2 - 2 Phi(z_{1-beta/2}/sqrt t)`` (:func:`obf_beta_spending`),
    spent under the alternative with both boundaries in force, as TSA
    (Copenhagen Trial Unit; Wetterslev et al. 2017, BMC Med Res Methodol 17:39)
    and rpact (``typeBetaSpending = "bsOF"``, ``bindingFutility = FALSE``) do.

    Parameters
    ----------
    information : array_like
        Information fractions ``t_1 < ... < t_K`` in (0, 1]: accrued information
        over the required information size (see ``inflate``).
    alpha : float
        Overall type I error, two-sided when ``sides == 2``.
    beta : float
        Type II error (1 - power) of the required information size.
    sides : {2, 1}
        2: efficacy ``|Z_k| >= z_k``, futility ``|Z_k| < futility_k``; 1: efficacy
        ``Z_k >= z_k``, futility ``Z_k < futility_k``.
    inflate : bool
        False (default): the drift is fixed by the required information size.
        True: rpact's convention, the drift solved so that the bounds meet at
        ``t = 1`` (the last fraction must be 1).

    Returns
    -------
    FutilityBoundaries

    Notes
    -----
    **Drift.**  The information fractions are fractions of the required
    information size computed for the same ``alpha`` and power ``1 - beta``
    (the fixed-sample size, as ``reviewbook.engine.ris`` computes it).  Under
    the alternative, ``Z(t)`` has mean ``drift * sqrt(t)`` with
    ``drift = z_{1-alpha/sides} + z_{1-beta}`` (two-sided: ``z_{1-alpha/2} +
    z_{1-beta}``, 2.8016 for 0.05 and 0.20); ``S(t) = Z(t) sqrt(t)`` is Brownian
    motion with that drift, and the recursion of
    :func:`obrien_fleming_boundaries` (Jennison & Turnbull 2000, ch. 19) is
    run with shifted increments.  Beta is spent by the upper alternative; by
    symmetry the lower one gives the same bounds.

    **Look k.**  ``futility_k`` solves P_H1(no stop before k, futility at k) =
    ``beta*(t_k)`` - (type II error already spent), where futility at k is
    ``|Z_k| < a`` (two-sided) or ``Z_k < a`` (one-sided); it is capped at
    ``z_k``.  A futility bound depends only on the looks up to it.

    **Two-sided looks without a futility stop.**  As rpact does (its
    ``betaAdjustment = TRUE``): at a look where the one-sided design (the same
    efficacy bounds as upper boundary, ``Z_k < a_k`` as futility, the same
    drift) has ``a_k <= 0`` -- early looks, where a futility stop would need an
    estimate pointing away from the anticipated effect -- there is no futility
    stop (``nan``), and the spending function restarts at the last such look
    before the first look with a stop: ``beta*(t) = beta (beta(t) -
    beta(t_j)) / (beta - beta(t_j))``.  Without this rule the two-sided wedge
    would stop for futility at tiny ``|Z|`` at the first looks.

    **Last look.**  With the drift fixed by the fixed-sample required
    information size, the design with interim looks has power below
    ``1 - beta`` at ``t = 1``, so when all of ``beta`` is spent by ``t = 1``
    the futility bound there lies *below* the efficacy bound: a z-value
    between them at ``t = 1`` has crossed neither (the result is not
    conclusive).  rpact, gsDesign and RTSA instead inflate the maximum
    information until the bounds meet (``inflate=True``: the drift is solved
    for ``futility_K = z_K``, ``inflation = (drift / (z_{1-alpha/sides} +
    z_{1-beta}))**2``, and the fractions are of the inflated information).
    We do not inflate by default because in a cumulative meta-analysis the
    looks are the studies as they accrue, not a plan: an inflation factor
    that depends on the looks would change the required information size
    with every new study, and the efficacy boundaries, which are defined on
    the same information axis, would move with it.

    Validated (tests/test_sequential.py, tests/reference/rpact_futility.json)
    against rpact 3.3.4 ``getDesignGroupSequential(..., typeOfDesign = "asOF",
    typeBetaSpending = "bsOF", bindingFutility = FALSE)`` for ``sided = 1``
    and ``2``, equal and unequal looks, a first look at t = 0.05
    (``inflate=True``: futility bounds, beta spent, power, shift and
    inflation factor), rpact's probabilities of the fixed-drift bounds
    (``getPowerAndAverageSampleNumber``), and a Monte Carlo simulation of the
    stopping probabilities under the alternative.
    """
    alpha = _check_alpha(alpha)
    beta = _check_beta(beta)
    sides = _check_sides(sides)
    t = _check_information(information)
    if inflate and t[-1] != 1.0:
        raise ArgumentError(f"inflate=True needs the last information fraction to be 1; got {t[-1]!r}")
    fixed = float(dist.norm_isf(alpha / sides) + dist.norm_isf(beta))
    if not fixed > 0:
        raise ArgumentError(f"alpha/sides + beta must be below 1 (no alternative is powered); "
                            f"got alpha {alpha!r}, beta {beta!r}")
    eff = obrien_fleming_boundaries(t, alpha=alpha, sides=sides)
    z = eff.z
    B = np.atleast_1d(obf_beta_spending(t, beta))
    K = t.size
    everywhere = np.ones(K, dtype=bool)

    def gap_of(spend, s, allowed):
        return lambda th: _futility_pass(t, z, spend, th, s, allowed)[3]

    if sides == 2:
        theta1 = _meeting_drift(gap_of(B, 1, everywhere), fixed) if inflate else fixed
        one_sided = _futility_pass(t, z, B, theta1, 1, everywhere)[0]
        allowed = np.append(one_sided[:-1] > 0, True)
        spend = _restarted_spending(B, beta, allowed)
    else:
        allowed, spend = everywhere, B
    theta = _meeting_drift(gap_of(spend, sides, allowed), fixed) if inflate else fixed
    fut, spent, power, _ = _futility_pass(t, z, spend, theta, sides, allowed)
    if inflate:
        fut[-1] = z[-1]
    return FutilityBoundaries(information=t, z=z, futility=fut, alpha_spent=eff.alpha_spent,
                              beta_spent=spent, power=power, drift=float(theta),
                              inflation=float((theta / fixed) ** 2), inflated=bool(inflate),
                              alpha=alpha, beta=beta, sides=sides)


@dataclass(frozen=True)
class Crossing:
    """Which boundary a cumulative z-curve crossed first, and where.

    Attributes
    ----------
    boundary : str
        ``"efficacy"``, ``"futility"`` or ``"none"``.
    index : int or None
        0-based index of the look at which it was first crossed.
    information : float or None
        Information fraction at that look.
    z : float or None
        The z-value at that look.
    direction : int
        +1 (upper) or -1 (lower) for an efficacy crossing, 0 otherwise.
    crossings : tuple of (str, int)
        Every look at which a boundary is crossed, in order (futility boundaries
        are non-binding, so the curve may go on to cross another).
    """

    boundary: str
    index: int | None
    information: float | None
    z: float | None
    direction: int
    crossings: tuple

    @property
    def conclusive(self):
        """True only when a boundary was crossed."""
        return self.boundary != "none"


def first_looks(bounds, n: int):
    """The first ``n`` looks of ``bounds`` (Boundaries or FutilityBoundaries), with
    the boundaries as computed over all the looks: the looks seen so far of a
    design planned to ``t = 1``, so that a verdict at the looks seen reads the
    same boundaries as a figure of the whole design.  (Computed over the looks
    seen alone, the last of them would be treated as the final look.)"""
    if not 1 <= n <= np.asarray(bounds.information).size:
        raise ArgumentError(f"n must be from 1 to {np.asarray(bounds.information).size}; got {n!r}")
    cut = {f.name: getattr(bounds, f.name)[:n] for f in fields(bounds)
           if isinstance(getattr(bounds, f.name), np.ndarray)}
    return replace(bounds, **cut)


def first_crossing(z, bounds):
    """The first boundary crossed by the cumulative z-values at the looks of ``bounds``.

    Parameters
    ----------
    z : array_like
        Cumulative z-values, one per look of ``bounds`` (same order).
    bounds : Boundaries or FutilityBoundaries
        Boundaries computed at the information fractions of these looks.

    Returns
    -------
    Crossing

    Notes
    -----
    Efficacy at look ``k``: ``|z_k| >= bounds.z[k]`` (two-sided) or
    ``z_k >= bounds.z[k]``; futility (only with :class:`FutilityBoundaries`):
    ``|z_k| < futility[k]`` (two-sided, where a futility stop is possible) or
    ``z_k < futility[k]``.  The two regions never overlap (``futility <= z``).
    "Conclusive" is only said of a crossed boundary: a z-curve between the
    boundaries at every look, the last included, crossed none.
    """
    zs = np.asarray(z, dtype=float)
    n = np.asarray(bounds.information).size
    if zs.ndim != 1 or zs.size != n:
        raise ArgumentError(f"z must have one value per look ({n}); got shape {zs.shape}")
    if not np.all(np.isfinite(zs)):
        raise ArgumentError(f"z must be finite; got {zs.tolist()}")
    fut = getattr(bounds, "futility", None)
    two = bounds.sides == 2
    hits = []
    for k, (zk, bk) in enumerate(zip(zs, bounds.z)):
        if (abs(zk) if two else zk) >= bk:
            hits.append(("efficacy", k))
        elif fut is not None and np.isfinite(fut[k]) and (abs(zk) if two else zk) < fut[k]:
            hits.append(("futility", k))
    if not hits:
        return Crossing("none", None, None, None, 0, ())
    kind, k = hits[0]
    direction = (1 if zs[k] > 0 else -1) if kind == "efficacy" else 0
    return Crossing(kind, k, float(bounds.information[k]), float(zs[k]), direction, tuple(hits))


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
