"""Cumulative meta-analysis figure: the pooled estimate and its CI after each
study is added (one row per step, first study at the top), as metafor's
``forest(cumul(...))`` draws it, with the study added and the estimate as text."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..engine.report import fmt  # noqa: E402
from .forest import MEASURE_NAMES, _ticks  # noqa: E402
from .style import COLORS, apply_style, plain  # noqa: E402

ROW = 0.26  # inches per step
RATIOS = ("RR", "OR", "HR", "GENR")
SHORT = {"GEN": "Estimate", "GENR": "Ratio"}


def cumulative_plot(labels, k, estimate, ci_low, ci_high, measure, *, label_left="", label_right="",
                    title=None, measure_name=""):
    """``labels``: the study added at each step (in order); ``k``: studies pooled
    after each step; ``estimate``/``ci_low``/``ci_high`` on the reporting scale.
    Ratios are drawn on a log axis, with the line of no effect at 1 (else 0)."""
    apply_style()
    n = len(labels)
    est = np.asarray(estimate, float)
    lo, hi = np.asarray(ci_low, float), np.asarray(ci_high, float)
    ratio = measure in RATIOS
    bottom_in, top_in = 0.8, 0.75  # room for the axis and 'favours' labels; title and headers
    height = bottom_in + top_in + ROW * (n + 0.6)
    fig = plt.figure(figsize=(8.0, height))
    # three panels side by side: study added | the intervals | the numbers
    bottom, axh = bottom_in / height, 1 - (bottom_in + top_in) / height
    ax = fig.add_axes([0.36, bottom, 0.36, axh])
    y = np.arange(n)[::-1].astype(float)
    ylo, yhi = -0.8, n - 0.2
    null = 1.0 if ratio else 0.0
    finite = np.concatenate([lo[np.isfinite(lo)], hi[np.isfinite(hi)], [null]])
    if ratio:
        finite = finite[finite > 0]
        ax.set_xscale("log")
        span = float(np.log(finite.max() / finite.min())) or 1.0
        ax.set_xlim(finite.min() / np.exp(0.08 * span), finite.max() * np.exp(0.08 * span))
    else:
        span = float(finite.max() - finite.min()) or 1.0
        ax.set_xlim(finite.min() - 0.08 * span, finite.max() + 0.08 * span)
    if ratio:  # the forest plots' ticks (0.1, 0.2, 0.5, 1, 2, ...), plain numbers
        from matplotlib.ticker import FixedLocator, NullLocator

        lo_x, hi_x = ax.get_xlim()
        ticks = _ticks(np.log(lo_x), np.log(hi_x), True)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.axvline(null, color="0.3", lw=0.8)
    ax.hlines(y, lo, hi, color=COLORS["study"], lw=1.2)
    ax.plot(est[:-1], y[:-1], "s", color=COLORS["study"], ms=5)
    ax.plot(est[-1:], y[-1:], "D", color=COLORS["total"], ms=6)  # all studies
    ax.set_ylim(ylo, yhi)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    name = MEASURE_NAMES.get(measure, measure)
    ax.set_xlabel(f"{name} (95% CI)" + (", log scale" if ratio else ""), fontsize=8)
    if label_left:
        fig.text(0.36, 0.1 / height, plain(label_left, 40), fontsize=7, ha="left", color="0.25")
    if label_right:
        fig.text(0.72, 0.1 / height, plain(label_right, 40), fontsize=7, ha="right", color="0.25")
    head = 1 - (top_in - 0.15) / height
    fig.text(0.02, head, "Study added (in order of year)", fontsize=8, weight="bold", va="center")
    fig.text(0.765, head, "k", fontsize=8, weight="bold", va="center", ha="right")
    fig.text(0.79, head, f"{measure_name or SHORT.get(measure, measure)} [95% CI]", fontsize=8, weight="bold", va="center")
    for yy, lab, kk, e, a, b in zip(y, labels, k, est, lo, hi):
        yf = bottom + (yy - ylo) / (yhi - ylo) * axh
        fig.text(0.02, yf, "+ " + plain(lab, 38), fontsize=8, va="center")
        fig.text(0.765, yf, str(kk), fontsize=8, va="center", ha="right")
        fig.text(0.79, yf, f"{fmt(e)} [{fmt(a)}, {fmt(b)}]", fontsize=8, va="center")
    if title:
        fig.text(0.02, 1 - 0.12 / height, plain(title, 110), fontsize=10, va="top", ha="left")
    return fig
