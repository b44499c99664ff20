"""The few distribution functions the engine needs, from ``scipy.special``.

``scipy.stats`` takes about a second to import; every function here is the one
``scipy.stats`` itself evaluates (scipy 1.17, ``_continuous_distns``), so the
values are identical:

* normal: ``ppf = ndtri``, ``isf = -ndtri``, ``cdf = ndtr``, ``sf(x) = ndtr(-x)``,
  ``pdf = exp(-x^2/2) / sqrt(2 pi)``;
* Student t: ``ppf = stdtrit(df, q)``, ``sf(x) = stdtr(df, -x)``;
* chi-square: ``sf = chdtrc(df, x)``.

``tests/test_dist.py`` checks each against ``scipy.stats``.
"""
from __future__ import annotations

import numpy as np
from scipy import special

_SQRT_2PI = float(np.sqrt(2 * np.pi))


def norm_ppf(q):
    return special.ndtri(q)


def norm_isf(q):
    return -special.ndtri(q)


def norm_cdf(x):
    return special.ndtr(x)


def norm_sf(x):
    return special.ndtr(-np.asarray(x, dtype=float))


def norm_pdf(x, scale=1.0):
    z = np.asarray(x, dtype=float) / scale
    return np.exp(-z ** 2 / 2.0) / _SQRT_2PI / scale


def t_ppf(q, df):
    return special.stdtrit(df, q)


def t_sf(x, df):
    return special.stdtr(df, -np.asarray(x, dtype=float))


def chi2_sf(x, df):
    return special.chdtrc(df, x)
