"""Cumulative meta-analysis: the pooled result after each study is added, as
metafor's ``cumul()`` computes it.

The studies are added one at a time in a given order (a living review: the
order in which trials arrived, e.g. by year); step ``i`` pools the first ``i``
studies with the same method, CI method and level as the analysis.  Each step
is an independent fit of :func:`reviewbook.engine.pooling.meta` (metafor's
``cumul.rma.uni``, ``cumul.rma.mh`` and ``cumul.rma.peto`` refit the model on
the first ``i`` studies in the same way).

Validated against metafor 3.8-1's ``cumul()`` (``tests/reference/cumul_reference.json``,
written by ``tests/reference/make_cumul.R``): estimate, CI, tau² and Q at every
step, for DL, REML, fixed effect, Mantel-Haenszel and HKSJ fits.  I² is RevMan's
``(Q - df)/Q`` (as everywhere in the engine); metafor's ``cumul()`` reports its own
``I2``, which is the same for DL and fixed-effect fits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ArgumentError
from .effects import EffectSizes
from .pooling import meta, subset


@dataclass(frozen=True)
class CumulativeStep:
    """The pooled result after a study is added.

    ``study``: the label of the study added at this step; ``k``: the number of
    studies pooled so far; ``estimate``, ``ci_low``, ``ci_high`` on the reporting
    scale (ratios back-transformed); ``te``, ``se`` on the analysis scale;
    ``tau2`` (None for fixed-effect methods), ``i2`` in percent (None for one
    study), ``q`` and the p value of the test of no effect."""

    study: str
    k: int
    estimate: float
    ci_low: float
    ci_high: float
    te: float
    se: float
    tau2: float | None
    i2: float | None
    q: float
    p: float


def cumulative(es: EffectSizes, method: str = "REML", *, order=None, hksj: str | None = None,
               level: float = 0.95) -> tuple:
    """Cumulative meta-analysis of ``es``.

    Parameters
    ----------
    es : EffectSizes
        The estimable studies (non-estimable ones are not pooled, as in
        :func:`~reviewbook.engine.pooling.meta`).
    method, hksj, level
        As :func:`~reviewbook.engine.pooling.meta` (the analysis's settings).
    order : sequence of int, optional
        The positions ``0 .. k-1`` of the studies of ``es`` in the order they
        are added (default: their order in ``es``).

    Returns
    -------
    tuple of CumulativeStep
        One step per study, in the order added.
    """
    k = es.k
    order = list(range(k)) if order is None else [int(i) for i in order]
    if sorted(order) != list(range(k)):
        raise ArgumentError(f"order={order!r} is not allowed; expected each of the positions 0 to {k - 1} once")
    steps = []
    for i in range(1, k + 1):
        mask = np.zeros(k, dtype=bool)
        mask[order[:i]] = True
        r = meta(subset(es, mask), method, hksj=hksj, level=level)
        steps.append(CumulativeStep(study=str(es.study[order[i - 1]]), k=r.k, estimate=r.estimate,
                                    ci_low=r.ci_low, ci_high=r.ci_high, te=r.te, se=r.se, tau2=r.tau2,
                                    i2=r.i2, q=r.q, p=r.p))
    return tuple(steps)
