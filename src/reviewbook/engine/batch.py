"""Vectorised pooling of many meta-analyses of the same shape at once.

``yi`` and ``vi`` are arrays of shape ``(B, k)``: B meta-analyses of k studies
each (bootstrap resamples, leave-one-out sets, simulations).  No Python loop
runs per fit: every step is a numpy operation over all B rows.

REML uses Fisher scoring from the DL start, vectorised, with step halving
wherever a step would lower the restricted likelihood, projection onto
[0, inf), and a final comparison with the boundary tau2 = 0; rows that have not
converged after ``maxiter`` steps are refined by the single-fit estimator of
:mod:`reviewbook.engine.tau2` (which finds the global maximum).  Tests check every row
against :func:`reviewbook.engine.pooling.meta` to relative 1e-8.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import tau2 as tau2_mod
from .effects import check_choice

BATCH_METHODS = ("FE", "DL", "REML", "PM")


@dataclass(frozen=True)
class BatchResult:
    """Pooled results of B meta-analyses: arrays of shape ``(B,)``, analysis scale."""

    method: str
    te: np.ndarray
    se: np.ndarray
    tau2: np.ndarray
    q: np.ndarray


def _check(yi, vi):
    yi = np.atleast_2d(np.asarray(yi, dtype=float))
    vi = np.atleast_2d(np.asarray(vi, dtype=float))
    if yi.shape != vi.shape:
        raise ValueError(f"yi has shape {yi.shape} but vi has shape {vi.shape}")
    return yi, vi


def _fe(yi, vi):
    w = 1.0 / vi
    sw = w.sum(axis=1)
    mu = (w * yi).sum(axis=1) / sw
    q = (w * (yi - mu[:, None]) ** 2).sum(axis=1)
    return w, sw, mu, q


def tau2_dl(yi, vi) -> np.ndarray:
    """DerSimonian-Laird tau^2 for each row (truncated at 0)."""
    yi, vi = _check(yi, vi)
    k = yi.shape[1]
    w, sw, _, q = _fe(yi, vi)
    c = sw - (w ** 2).sum(axis=1) / sw
    return np.maximum(0.0, (q - (k - 1)) / c)


def _rll(t2, yi, vi):
    w = 1.0 / (vi + t2[:, None])
    sw = w.sum(axis=1)
    mu = (w * yi).sum(axis=1) / sw
    return -0.5 * (np.log(vi + t2[:, None]).sum(axis=1) + np.log(sw)
                   + (w * (yi - mu[:, None]) ** 2).sum(axis=1))


def tau2_reml(yi, vi, *, tol=1e-12, maxiter=100) -> np.ndarray:
    """REML tau^2 for each row (see module docstring)."""
    yi, vi = _check(yi, vi)
    b, k = yi.shape
    if k < 2:
        return np.zeros(b)
    t2 = tau2_dl(yi, vi)
    active = np.arange(b)  # rows still iterating; work shrinks as rows converge
    for _ in range(maxiter):
        if active.size == 0:
            break
        y, v, t = yi[active], vi[active], t2[active]
        w = 1.0 / (v + t[:, None])
        sw = w.sum(axis=1)
        mu = (w * y).sum(axis=1) / sw
        w2 = w ** 2
        sw2 = w2.sum(axis=1)
        score = 0.5 * ((w2 * (y - mu[:, None]) ** 2).sum(axis=1) - sw + sw2 / sw)
        info = 0.5 * (sw2 - 2 * (w ** 3).sum(axis=1) / sw + (sw2 / sw) ** 2)
        step = score / info
        new = np.maximum(0.0, t + step)
        base = _rll(t, y, v)
        for _half in range(30):
            worse = _rll(new, y, v) < base - 1e-12 * np.maximum(1.0, np.abs(base))
            if not worse.any():
                break
            new = np.where(worse, np.maximum(0.0, t + (new - t) / 2), new)
        t2[active] = new
        # converged when the full (unhalved) Fisher step is negligible, or the
        # estimate sits on the boundary with a non-positive score
        done = (np.abs(step) <= tol * np.maximum(1.0, new)) | ((new == 0.0) & (score <= 0.0))
        active = active[~done]
    zero = np.zeros(b)
    t2 = np.where(_rll(zero, yi, vi) > _rll(t2, yi, vi), 0.0, t2)
    for i in active:  # not converged in maxiter steps: the global single-fit search
        t2[i] = tau2_mod.reml(yi[i], vi[i])
    return t2


def tau2_pm(yi, vi, *, tol=1e-13, maxiter=200) -> np.ndarray:
    """Paule-Mandel tau^2 for each row: vectorised Newton on the generalised Q."""
    yi, vi = _check(yi, vi)
    b, k = yi.shape
    if k < 2:
        return np.zeros(b)
    target = k - 1
    t2 = tau2_dl(yi, vi)
    w0, _, _, q0 = _fe(yi, vi)
    active = q0 > target
    t2 = np.where(active, t2, 0.0)
    for _ in range(maxiter):
        w = 1.0 / (vi + t2[:, None])
        sw = w.sum(axis=1)
        mu = (w * yi).sum(axis=1) / sw
        r = yi - mu[:, None]
        q = (w * r ** 2).sum(axis=1)
        dq = -(w ** 2 * r ** 2).sum(axis=1)  # dQ/dtau2 (mu's derivative term vanishes)
        step = np.where(active, -(q - target) / dq, 0.0)
        new = np.maximum(0.0, t2 + step)
        change = np.abs(new - t2)
        t2 = new
        if np.all(change <= tol * np.maximum(1.0, t2)):
            break
    return t2


def pool(yi, vi, method: str = "REML") -> BatchResult:
    """Pool every row of ``yi``/``vi`` with ``method`` in ``FE DL REML PM``."""
    check_choice("method", method, BATCH_METHODS)
    yi, vi = _check(yi, vi)
    if method == "FE":
        t2 = np.zeros(yi.shape[0])
    else:
        t2 = {"DL": tau2_dl, "REML": tau2_reml, "PM": tau2_pm}[method](yi, vi)
    _, _, _, q = _fe(yi, vi)
    w = 1.0 / (vi + t2[:, None])
    sw = w.sum(axis=1)
    te = (w * yi).sum(axis=1) / sw
    return BatchResult(method, te, 1.0 / np.sqrt(sw), t2, q)
