"""RevMan-style forest plots and funnel plots (matplotlib; views take results).

A forest plot shows, per study, the arm data (mean, SD, total or events,
total), the weight, the estimate with its CI as text and as a square (area
proportional to weight) with whiskers; subgroup subtotals and the overall
estimate as diamonds; heterogeneity and overall-effect lines; and the
'favours' labels under the axis.  Text from a data package is drawn as plain
text (matplotlib mathtext is escaped).
"""
from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Polygon  # noqa: E402

from ..engine.pooling import backtransform  # noqa: E402
from ..engine.report import fmt, fmt_ci, fmt_p  # noqa: E402
from .style import COLORS, apply_style, plain  # noqa: E402

ROW = 0.26  # inches per row


def _study_ci(measure, yi, vi, level):
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    half = z * math.sqrt(vi)
    return (backtransform(measure, yi), backtransform(measure, yi - half), backtransform(measure, yi + half))


def _arm_text(arm: dict, continuous: bool, prefix: str):
    if continuous:
        return [fmt(arm[f"{prefix} mean"], 1), fmt(arm[f"{prefix} SD"], 1), fmt(arm[f"{prefix} N"], 0)]
    return [fmt(arm[f"{prefix} cases"], 0), fmt(arm[f"{prefix} N"], 0)]


def forest_plot(ar, *, title: str | None = None):
    """Draw the forest plot of an :class:`~reviewbook.analysis.AnalysisResult`.

    Returns the matplotlib Figure.
    """
    apply_style()
    s, r = ar.settings, ar.result
    continuous = s.data_type == "Continuous"
    arms = {a["Study"]: a for a in ar.arms}
    level = r.level
    ratio = r.is_ratio
    groups = ar.subgroups.groups if ar.subgroups is not None and len(ar.subgroups.groups) > 1 else None

    # rows: (kind, payload)
    rows = []
    if groups:
        for name, gr in groups:
            rows.append(("header", name))
            for st in gr.studies:
                rows.append(("study", st))
            rows.append(("subtotal", (name, gr)))
            rows.append(("blank", None))
    else:
        for st in r.studies:
            rows.append(("study", st))
    for study, reason in r.excluded:
        rows.append(("excluded", (study, reason)))
    rows.append(("total", r))
    n_text = 3 + (1 if groups and ar.subgroups.test else 0)
    extra_lines = 2 * len(groups) if groups else 0
    import textwrap

    title_lines = textwrap.wrap(str(title), 105) if title else []
    top_y = 2.2 + 1.0 * len(title_lines)
    bottom_y = -(len(rows) + extra_lines + n_text + 1.5)
    fig = plt.figure(figsize=(10.0, ROW * (top_y - bottom_y)))
    ax = fig.add_axes([0.0, 0.0, 1.0, 1.0])
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom_y, top_y)
    ax.axis("off")
    # plot area in figure-fraction x between px0 and px1
    px0, px1 = 0.73, 0.98
    # x-scale
    lows, highs = [], []
    for st in r.studies:
        est, lo, hi = _study_ci(r.measure, st.yi, st.vi, level)
        lows.append(lo)
        highs.append(hi)
    lows += [r.ci_low]
    highs += [r.ci_high]
    if ratio:
        span = max(abs(math.log(min(lows))), abs(math.log(max(highs))), math.log(2))
        span = min(span, math.log(1000))
        xmin, xmax = -span * 1.05, span * 1.05
        to_x = lambda v: (math.log(v) if v > 0 else xmin)  # noqa: E731
    else:
        span = max(abs(min(lows)), abs(max(highs)), 1e-9)
        xmin, xmax = -span * 1.05, span * 1.05
        to_x = lambda v: v  # noqa: E731

    def X(v):
        x = to_x(v)
        x = min(max(x, xmin), xmax)
        return px0 + (x - xmin) / (xmax - xmin) * (px1 - px0)

    # column positions
    cols_c = [(0.01, "Study or subgroup", "left")]
    if continuous:
        heads = [("Mean", 0.22), ("SD", 0.265), ("Total", 0.31), ("Mean", 0.365), ("SD", 0.41), ("Total", 0.455)]
    else:
        heads = [("Events", 0.26), ("Total", 0.32), ("Events", 0.40), ("Total", 0.46)]
    wcol, ecol = 0.535, 0.705
    y = 1.0
    ax.text(0.27 if continuous else 0.29, y + 0.45, plain(s.experimental_label, 24), ha="center", va="bottom",
            fontweight="bold", fontsize=9)
    ax.text(0.415 if continuous else 0.43, y + 0.45, plain(s.control_label, 24), ha="center", va="bottom",
            fontweight="bold", fontsize=9)
    ax.text(cols_c[0][0], y, cols_c[0][1], ha="left", va="center", fontweight="bold", fontsize=9)
    for h, x in heads:
        ax.text(x, y, h, ha="right", va="center", fontweight="bold", fontsize=9)
    ax.text(wcol, y, "Weight", ha="right", va="center", fontweight="bold", fontsize=9)
    meas = {"MD": "Mean difference", "SMD": "Std. mean difference", "RR": "Risk ratio", "OR": "Odds ratio",
            "RD": "Risk difference"}.get(r.measure, r.measure)
    model = "Random" if r.tau2 is not None else "Fixed"
    method = {"MH": "M-H", "MH-DL": "M-H", "PETO": "Peto"}.get(r.method, "IV")
    pct = int(round(level * 100))
    ax.text(ecol, y + 0.45, meas, ha="right", va="bottom", fontweight="bold", fontsize=9)
    ax.text(ecol, y, f"{method}, {model}, {pct}% CI", ha="right", va="center", fontweight="bold", fontsize=8)
    ax.text((px0 + px1) / 2, y + 0.45, meas, ha="center", va="bottom", fontweight="bold", fontsize=9)
    ax.text((px0 + px1) / 2, y, f"{method}, {model}, {pct}% CI", ha="center", va="center", fontweight="bold", fontsize=8)
    ax.plot([0.01, 0.99], [y - 0.5, y - 0.5], color="black", lw=0.6)

    maxw = max([st.weight for st in r.studies] + [1e-9])
    yy = y - 1.0
    for kind, payload in rows:
        if kind == "header":
            ax.text(0.01, yy, plain(payload), ha="left", va="center", fontweight="bold", fontsize=9)
        elif kind == "study":
            st = payload
            ax.text(0.02, yy, plain(st.study, 26), ha="left", va="center", fontsize=9)
            arm = arms.get(st.study)
            if arm is not None:
                vals = _arm_text(arm, continuous, "Experimental") + _arm_text(arm, continuous, "Control")
                for (_h, x), v in zip(heads, vals):
                    ax.text(x, yy, v, ha="right", va="center", fontsize=9)
            est, lo, hi = _study_ci(r.measure, st.yi, st.vi, level)
            w = st.weight
            if groups:  # weights in a subgrouped plot are those of the overall analysis
                w = next((o.weight for o in r.studies if o.study == st.study), st.weight)
            ax.text(wcol, yy, f"{fmt(w, 1)}%", ha="right", va="center", fontsize=9)
            ax.text(ecol, yy, f"{fmt(est)} [{fmt(lo)}, {fmt(hi)}]", ha="right", va="center", fontsize=9)
            ax.plot([X(lo), X(hi)], [yy, yy], color=COLORS["study"], lw=1.0)
            ax.plot([X(est)], [yy], marker="s", markersize=3 + 8 * math.sqrt(w / maxw),
                    color=COLORS["study"], lw=0)
        elif kind == "excluded":
            study, reason = payload
            ax.text(0.02, yy, plain(study, 26), ha="left", va="center", fontsize=9, color="0.35")
            ax.text(ecol, yy, "Not estimable", ha="right", va="center", fontsize=9, color="0.35")
        elif kind == "subtotal":
            name, gr = payload
            ax.text(0.02, yy, f"Subtotal ({pct}% CI)", ha="left", va="center", fontsize=9, fontweight="bold")
            _diamond(ax, X, gr, yy, COLORS["subtotal"])
            ax.text(ecol, yy, f"{fmt_ci(gr)}", ha="right",
                    va="center", fontsize=9, fontweight="bold")
            yy -= 1
            ax.text(0.03, yy, _het(gr), ha="left", va="center", fontsize=8)
            yy -= 1
            ax.text(0.03, yy, _overall(gr), ha="left", va="center", fontsize=8)
        elif kind == "total":
            ax.text(0.01, yy, f"Total ({pct}% CI)", ha="left", va="center", fontsize=9, fontweight="bold")
            ax.text(wcol, yy, "100.0%", ha="right", va="center", fontsize=9, fontweight="bold")
            ax.text(ecol, yy, f"{fmt_ci(r)}", ha="right",
                    va="center", fontsize=9, fontweight="bold")
            _diamond(ax, X, r, yy, COLORS["total"])
            total_y = yy
        yy -= 1
    # text lines (below the axis labels)
    yy = total_y - 2.6
    ax.text(0.01, yy, _het(r), ha="left", va="center", fontsize=8)
    yy -= 1
    ax.text(0.01, yy, _overall(r), ha="left", va="center", fontsize=8)
    yy -= 1
    if groups and ar.subgroups.test is not None:
        t = ar.subgroups.test
        ax.text(0.01, yy, f"Test for subgroup differences: Chi² = {fmt(t.q)}, df = {t.df} ({fmt_p(t.p)}), "
                f"I² = {fmt(t.i2, 0)}%", ha="left", va="center", fontsize=8)
        yy -= 1
    if r.pi_low is not None:
        ax.text(0.01, yy, f"Prediction interval: [{fmt(r.pi_low)}, {fmt(r.pi_high)}]", ha="left",
                va="center", fontsize=8)
    # axis
    top, bottom = y - 0.5, total_y - 0.6
    null = 1.0 if ratio else 0.0
    ax.plot([X(null), X(null)], [bottom, top], color="black", lw=0.7)
    ax.plot([px0, px1], [bottom, bottom], color="black", lw=0.7)
    ticks = _ticks(xmin, xmax, ratio)
    for tv in ticks:
        tx = px0 + ((math.log(tv) if ratio else tv) - xmin) / (xmax - xmin) * (px1 - px0)
        ax.plot([tx, tx], [bottom, bottom - 0.2], color="black", lw=0.7)
        ax.text(tx, bottom - 0.35, f"{tv:g}", ha="center", va="top", fontsize=8)
    ax.text(X(null) - 0.005, bottom - 1.2, plain(s.label_left, 30), ha="right", va="top", fontsize=8)
    ax.text(X(null) + 0.005, bottom - 1.2, plain(s.label_right, 30), ha="left", va="top", fontsize=8)
    for i, line in enumerate(title_lines):
        ax.text(0.01, top_y - 0.6 - i, plain(line), ha="left", va="center", fontsize=10, fontweight="bold")
    return fig


def _ticks(xmin, xmax, ratio):
    if ratio:
        cands = [0.001, 0.01, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 100, 1000]
        t = [c for c in cands if xmin <= math.log(c) <= xmax]
        if len(t) > 5:
            t = [c for c in t if c in (0.01, 0.1, 0.5, 1, 2, 10, 100)]
        return t
    step = _nice((xmax - xmin) / 4)
    start = math.ceil(xmin / step) * step
    out = []
    v = start
    while v <= xmax + 1e-12:
        out.append(round(v, 10))
        v += step
    return out


def _nice(x):
    exp = math.floor(math.log10(x))
    f = x / 10 ** exp
    nf = 1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10
    return nf * 10 ** exp


def _diamond(ax, X, r, yy, color):
    pts = [(X(r.ci_low), yy), (X(r.estimate), yy + 0.3), (X(r.ci_high), yy), (X(r.estimate), yy - 0.3)]
    ax.add_patch(Polygon(pts, closed=True, color=color, lw=0))


def _het(r):
    if r.k < 2:
        return "Heterogeneity: not applicable (one study)"
    tau = f"Tau² = {fmt(r.tau2, 2)}; " if r.tau2 is not None else ""
    return (f"Heterogeneity: {tau}Chi² = {fmt(r.q)}, df = {r.q_df} ({fmt_p(r.q_p)}); "
            f"I² = {fmt(r.i2, 0)}%")


def _overall(r):
    stat = f"t = {fmt(abs(r.stat))}, df = {r.stat_df}" if r.stat_df else f"Z = {fmt(abs(r.stat))}"
    return f"Test for overall effect: {stat} ({fmt_p(r.p)})"


def funnel_plot(egger_result, measure: str, *, title: str | None = None):
    """Funnel plot: effect (analysis scale) against standard error, with the
    95% pseudo-confidence region around the fixed-effect estimate."""
    apply_style()
    e = egger_result
    fig, ax = plt.subplots(figsize=(6, 4.5))
    se_max = float(np.max(e.sei)) * 1.1
    ses = np.linspace(0, se_max, 50)
    ax.plot(e.centre - 1.96 * ses, ses, color="0.5", ls="--", lw=0.8)
    ax.plot(e.centre + 1.96 * ses, ses, color="0.5", ls="--", lw=0.8)
    ax.axvline(e.centre, color="0.3", lw=0.8)
    ax.scatter(e.yi, e.sei, color=COLORS["study"], s=22, zorder=3)
    ax.set_ylim(se_max, 0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel({"RR": "log risk ratio", "OR": "log odds ratio"}.get(measure, f"{measure} (analysis scale)"))
    if title:
        ax.set_title(plain(title), fontsize=10)
    fig.tight_layout()
    return fig
