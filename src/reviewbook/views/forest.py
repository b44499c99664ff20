"""RevMan-style forest plots and funnel plots (matplotlib; views take results).

A forest plot shows, per study row, the arm data (mean, SD, total; events,
total; or the generic estimate and SE), the weight, the estimate with its CI
as text and as a square (area proportional to weight) with whiskers;
subgroup subtotals and the overall estimate as diamonds; heterogeneity and
overall-effect lines for each; the test for subgroup differences; and the
'favours' labels under the axis.  As in RevMan:

* a study that is not estimable is listed in its place with "Not estimable";
  an analysis in which no study is estimable shows "Not estimable" as total;
* weights are relative to the overall total, or to each subgroup when the
  review shows subtotals only (then there is no overall total);
* the same study entered twice carries a distinct label (``Study (1)``);
* with ``rob`` (each row's RoB 2 judgements), a risk-of-bias column beside
  the plot: one dot per domain and one for the overall judgement, in robvis's
  colour-blind-safe palette with robvis's symbols (McGuinness & Higgins 2021);
  a row the mapping does not judge is left blank.

Every text is at least 9 pt on a 10.5-inch-wide figure, so that at a content
width of about 800 CSS px it is drawn at about 9 CSS px or more.  Each study
row carries a tooltip (the SVG ``<title>`` of an invisible box over the row,
see :data:`reviewbook.views.tables.SVG_TITLES`): the study, its arms, its
weight, its estimate and its risk of bias.

Text from a data package is drawn as plain text (mathtext escaped).
"""
from __future__ import annotations

import math
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Polygon, Rectangle  # noqa: E402

from ..engine.pooling import backtransform  # noqa: E402
from ..engine.report import fmt, fmt_ci, fmt_p  # noqa: E402
from .style import COLORS, apply_style, plain  # noqa: E402
from .tables import SVG_TITLES  # noqa: E402

ROW = 0.26  # inches per row
WIDTH = 10.5  # inches
SMALL = 9  # the smallest text, in points
#: robvis's colour-blind-safe palette for RoB 2 (robvis ``get_colour(..., "colourblind")``):
#: low, some concerns, high, no information; "Not reported" (the package carries no
#: judgement) is robvis's colour for missing values.
ROB_COLOURS = {"Low risk": "#fed98e", "Some concerns": "#fe9929", "High risk": "#d95f0e",
               "No information": "#ffffff", "Not reported": "#cccccc"}
#: robvis's symbols, so that a judgement is never told by colour alone.
ROB_SYMBOLS = {"Low risk": "+", "Some concerns": "−", "High risk": "×", "No information": "?", "Not reported": ""}
MEASURE_NAMES = {"MD": "Mean difference", "SMD": "Std. mean difference", "RR": "Risk ratio", "OR": "Odds ratio",
                 "RD": "Risk difference", "HR": "Hazard ratio", "GEN": "Estimate", "GENR": "Ratio"}


def _study_ci(measure, yi, vi, level):
    from ..engine.dist import norm_ppf

    z = norm_ppf(0.5 + level / 2)
    half = z * math.sqrt(vi)
    return (backtransform(measure, yi), backtransform(measure, yi - half), backtransform(measure, yi + half))


def _columns(data_type):
    """Arm columns (header, x position, key, decimals) by data type."""
    if data_type == "Continuous":
        return [("Mean", 0.215, "Experimental mean", 1), ("SD", 0.255, "Experimental SD", 1),
                ("Total", 0.295, "Experimental N", 0), ("Mean", 0.345, "Control mean", 1),
                ("SD", 0.385, "Control SD", 1), ("Total", 0.425, "Control N", 0)], (0.255, 0.385)
    if data_type == "Dichotomous":
        return [("Events", 0.25, "Experimental cases", 0), ("Total", 0.30, "Experimental N", 0),
                ("Events", 0.365, "Control cases", 0), ("Total", 0.415, "Control N", 0)], (0.275, 0.39)
    if data_type == "O-E and variance":
        return [("O-E", 0.28, "O-E", 2), ("Variance", 0.39, "Variance", 2)], None
    return [("Estimate", 0.28, "GIV Mean", 3), ("SE", 0.39, "GIV SE", 3)], None


def _rows_of(ar):
    """Plot rows: ('header', name) / ('study', label, StudyWeight) / ('excluded', label) /
    ('subtotal', name, result) / ('blank',) / ('total', result)."""
    r = ar.result
    by_label = {} if r is None else {st.study: st for st in r.studies}
    groups = ar.subgroups.groups if ar.subgroups is not None else ()
    subgrouped = any(ar.row_subgroup)
    excluded = {lab for lab, _ in ar.excluded}
    rows = []
    if subgrouped:
        names = list(dict.fromkeys(ar.row_subgroup))
        results = dict(groups)
        for name in names:
            rows.append(("header", name or "(no subgroup)"))
            for lab, g in zip(ar.labels, ar.row_subgroup):
                if g != name:
                    continue
                rows.append(("excluded", lab) if lab in excluded or lab not in by_label else ("study", lab, by_label[lab]))
            gr = results.get(name)
            rows.append(("subtotal", name, gr))
            rows.append(("blank",))
    else:
        for lab in ar.labels:
            rows.append(("excluded", lab) if lab in excluded or lab not in by_label else ("study", lab, by_label[lab]))
    if ar.totals or not subgrouped:
        rows.append(("total", r))
    return rows


def study_rows(ar) -> list:
    """The forest plot's study rows as text, in its order: ``(label, estimate,
    CI low, CI high, weight)`` on the reporting scale, "Not estimable" for a
    study without a result (the text alternative of the figure)."""
    r = ar.result
    if r is None:
        return []
    weights = ar.weights()
    out = []
    for x in _rows_of(ar):
        if x[0] == "excluded":
            out.append((x[1], "Not estimable", "", "", ""))
        elif x[0] == "study":
            st = x[2]
            est, lo, hi = _study_ci(r.measure, st.yi, st.vi, r.level)
            out.append((x[1], fmt(est), fmt(lo), fmt(hi), f"{fmt(weights.get(x[1], st.weight), 1)}%"))
    return out


def forest_plot(ar, *, title: str | None = None, labels: tuple | None = None, rob: dict | None = None):
    """Draw the forest plot of an :class:`~reviewbook.package.analysis.AnalysisResult`.

    ``labels``: the (left, right) labels under the axis, from the appraisal
    layer's direction of benefit (:mod:`reviewbook.appraisal.direction`); without
    them, the package's own graph labels, else labels that claim nothing.
    ``rob``: ``{row label: {domain: judgement}}`` (RoB 2 judgements of the
    analysis's results, e.g. from the package's risk-of-bias table, whose
    ``Result`` equals the row label); the domains are drawn in the order of
    the first row's mapping, the overall judgement last.  Returns the
    matplotlib Figure, with the study rows' tooltips as its
    :data:`~reviewbook.views.tables.SVG_TITLES`.
    """
    apply_style()
    s, r = ar.settings, ar.result
    measure = r.measure if r is not None else (s.measure_code or "")
    mlabel = r.label if r is not None else ""  # the package's name for a generic measure
    ratio = r.is_ratio if r is not None else measure in ("RR", "OR", "HR", "GENR")
    level = r.level if r is not None else s.level
    weights = ar.weights()
    arms = {a["label"]: a for a in (ar.row_arms or ar.arms)}
    rows = _rows_of(ar)
    n_subtotals = sum(1 for x in rows if x[0] == "subtotal")
    show_test = ar.totals and ar.subgroups is not None and len(ar.subgroups.groups) > 1 and r is not None
    # the prediction interval wherever there is one (random effects, k >= 3; Cochrane
    # Handbook 10.10.4.3), whether or not the package asked RevMan to draw it
    show_pi = r is not None and r.pi_low is not None
    n_text = 2 + (1 if show_test else 0) + (1 if show_pi else 0)
    title_lines = textwrap.wrap(str(title), 105) if title else []
    domains = _rob_domains(rob)
    legend_lines = textwrap.wrap(_rob_legend(domains), 135) if domains else []
    top_y = 2.2 + 1.0 * len(title_lines)
    bottom_y = -(len(rows) + 2 * n_subtotals + n_text + 3.0 + (len(legend_lines) + 0.8 if legend_lines else 0))
    fig = plt.figure(figsize=(WIDTH, ROW * (top_y - bottom_y)))
    ax = fig.add_axes([0.0, 0.0, 1.0, 1.0])
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom_y, top_y)
    ax.axis("off")
    px0, px1 = (0.675, 0.855) if domains else (0.675, 0.985)  # plot area, figure-fraction x
    lows, highs = [], []
    for x in rows:
        if x[0] == "study":
            _, lo, hi = _study_ci(measure, x[2].yi, x[2].vi, level)
            lows.append(lo)
            highs.append(hi)
        elif x[0] in ("subtotal", "total") and x[-1] is not None:
            lows.append(x[-1].ci_low)
            highs.append(x[-1].ci_high)
    if ratio:
        logs = [math.log(v) for v in lows + highs if v and v > 0 and math.isfinite(v)]
        span = max([abs(v) for v in logs] + [math.log(2)])
        span = min(span, math.log(1000))
    else:
        vals = [abs(v) for v in lows + highs if v is not None and math.isfinite(v)]
        span = max(vals + [1e-9]) if vals else 1.0
    xmin, xmax = -span * 1.05, span * 1.05

    def X(v):
        x = (math.log(v) if v > 0 else xmin) if ratio else v
        x = min(max(x, xmin), xmax)
        return px0 + (x - xmin) / (xmax - xmin) * (px1 - px0)

    def beyond(v) -> int:
        """-1 or 1 where ``v`` lies past the axis's left or right end (its line is cut there), else 0."""
        x = (math.log(v) if v > 0 else -math.inf) if ratio else v
        return -1 if x < xmin else 1 if x > xmax else 0

    heads, group_x = _columns(s.data_type)
    wcol, ecol = 0.49, 0.655
    y = 1.0
    if group_x:
        ax.text(group_x[0], y + 0.45, plain(s.experimental_label, 20), ha="center", va="bottom",
                fontweight="bold", fontsize=9)
        ax.text(group_x[1], y + 0.45, plain(s.control_label, 20), ha="center", va="bottom",
                fontweight="bold", fontsize=9)
    ax.text(0.01, y, "Study or subgroup", ha="left", va="center", fontweight="bold", fontsize=9)
    for h, x, _, _ in heads:
        ax.text(x, y, h, ha="right", va="center", fontweight="bold", fontsize=9)
    ax.text(wcol, y, "Weight", ha="right", va="center", fontweight="bold", fontsize=9)
    meas = mlabel or MEASURE_NAMES.get(measure, measure)
    random = r.tau2 is not None if r is not None else s.model == "random"
    method = {"MH": "M-H", "MH-DL": "M-H", "PETO": "Peto"}.get(ar.engine_method, "IV")
    hk = {"plain": " (HKSJ)", "adhoc": " (HKSJ, ad hoc)"}.get(getattr(r, "hksj", None), "")
    head2 = f"{method}, {'Random' if random else 'Fixed'}, {int(round(level * 100))}% CI{hk}"
    for xx, ha in ((ecol, "right"), ((px0 + px1) / 2, "center")):
        ax.text(xx, y + 0.45, meas, ha=ha, va="bottom", fontweight="bold", fontsize=9)
        ax.text(xx, y, head2, ha=ha, va="center", fontweight="bold", fontsize=SMALL)
    if domains:
        ax.text((ROB_X0 + ROB_X0 + ROB_DX * (len(domains) - 1)) / 2, y + 0.45, "Risk of bias", ha="center",
                va="bottom", fontweight="bold", fontsize=9)
        for j, d in enumerate(domains):
            ax.text(ROB_X0 + ROB_DX * j, y, _rob_code(d), ha="center", va="center", fontweight="bold", fontsize=SMALL)
    ax.plot([0.01, 0.99], [y - 0.5, y - 0.5], color="black", lw=0.6)
    maxw = max(list(weights.values()) + [1e-9])
    pct = int(round(level * 100))
    yy = y - 1.0
    total_y = None
    titles, dots = {}, []
    for x in rows:
        kind = x[0]
        if kind == "header":
            ax.text(0.01, yy, plain(x[1]), ha="left", va="center", fontweight="bold", fontsize=9)
        elif kind in ("study", "excluded"):
            lab = x[1]
            ax.text(0.02, yy, plain(lab, 26), ha="left", va="center", fontsize=9,
                    color="black" if kind == "study" else "0.35")
            arm = arms.get(lab)
            if arm is not None:
                for _h, xx, key, dec in heads:
                    v = arm.get(key)
                    if v is not None and v == v:
                        ax.text(xx, yy, fmt(v, dec), ha="right", va="center", fontsize=9)
            judged = (rob or {}).get(lab)
            if domains and judged:
                dots.extend(_rob_dots(ax, domains, judged, yy))
            gid = f"study-row-{len(titles) + 1}"
            box = Rectangle((0.0, yy - 0.5), 1.0, 1.0, facecolor="white", edgecolor="none", alpha=0.0, zorder=0)
            box.set_gid(gid)
            ax.add_patch(box)
            titles[gid] = _tooltip(lab, s, arm, None if kind == "excluded" else x[2], weights, measure, level,
                                   domains, judged, name=meas)
            if kind == "excluded":
                ax.text(ecol, yy, "Not estimable", ha="right", va="center", fontsize=9, color="0.35")
            else:
                st = x[2]
                est, lo, hi = _study_ci(measure, st.yi, st.vi, level)
                w = weights.get(lab, st.weight)
                ax.text(wcol, yy, f"{fmt(w, 1)}%", ha="right", va="center", fontsize=9)
                ax.text(ecol, yy, f"{fmt(est)} [{fmt(lo)}, {fmt(hi)}]", ha="right", va="center", fontsize=9)
                ax.plot([X(lo), X(hi)], [yy, yy], color=COLORS["study"], lw=1.0)
                for v, side in ((lo, -1), (hi, 1)):
                    if beyond(v) == side:  # a CI past the axis ends in an arrow (RevMan's convention)
                        ax.plot([X(v)], [yy], marker="<" if side < 0 else ">", markersize=5,
                                color=COLORS["study"], lw=0)
                ax.plot([X(est)], [yy], marker="s", markersize=3 + 8 * math.sqrt(max(w, 0) / maxw),
                        color=COLORS["study"], lw=0)
        elif kind == "subtotal":
            gr = x[2]
            ax.text(0.02, yy, f"Subtotal ({pct}% CI)", ha="left", va="center", fontsize=9, fontweight="bold")
            if gr is None:
                ax.text(ecol, yy, "Not estimable", ha="right", va="center", fontsize=9, fontweight="bold")
            else:
                if not ar.totals:
                    ax.text(wcol, yy, "100.0%", ha="right", va="center", fontsize=9, fontweight="bold")
                else:
                    ax.text(wcol, yy, f"{fmt(sum(weights.get(st.study, 0) for st in gr.studies), 1)}%",
                            ha="right", va="center", fontsize=9, fontweight="bold")
                _diamond(ax, X, gr, yy, COLORS["subtotal"])
                ax.text(ecol, yy, fmt_ci(gr), ha="right", va="center", fontsize=9, fontweight="bold")
            yy -= 1
            ax.text(0.03, yy, _het(gr), ha="left", va="center", fontsize=SMALL)
            yy -= 1
            ax.text(0.03, yy, _overall(gr), ha="left", va="center", fontsize=SMALL)
        elif kind == "total":
            ax.text(0.01, yy, f"Total ({pct}% CI)", ha="left", va="center", fontsize=9, fontweight="bold")
            if r is None:
                ax.text(ecol, yy, "Not estimable", ha="right", va="center", fontsize=9, fontweight="bold")
            else:
                ax.text(wcol, yy, "100.0%", ha="right", va="center", fontsize=9, fontweight="bold")
                ax.text(ecol, yy, fmt_ci(r), ha="right", va="center", fontsize=9, fontweight="bold")
                _diamond(ax, X, r, yy, COLORS["total"])
            total_y = yy
        yy -= 1
    last_y = yy + 1
    axis_bottom = (total_y if total_y is not None else last_y) - 0.6
    yy = axis_bottom - 2.0
    if total_y is not None:
        ax.text(0.01, yy, _het(r), ha="left", va="center", fontsize=SMALL)
        yy -= 1
        ax.text(0.01, yy, _overall(r), ha="left", va="center", fontsize=SMALL)
        yy -= 1
    if show_test:
        t = ar.subgroups.test
        ax.text(0.01, yy, f"Test for subgroup differences: Chi² = {fmt(t.q)}, df = {t.df} ({fmt_p(t.p)}), "
                f"I² = {fmt(t.i2, 1)}%", ha="left", va="center", fontsize=SMALL)
        yy -= 1
    elif ar.subgroups is not None and len(ar.subgroups.groups) > 1 and not ar.totals:
        ax.text(0.01, yy, "Subtotals only (as in the review): no overall total and no test for subgroup "
                "differences", ha="left", va="center", fontsize=SMALL)
        yy -= 1
    if show_pi and total_y is not None:
        ax.text(0.01, yy, f"Prediction interval: [{fmt(r.pi_low)}, {fmt(r.pi_high)}]", ha="left",
                va="center", fontsize=SMALL)
    top = y - 0.5
    null = 1.0 if ratio else 0.0
    ax.plot([X(null), X(null)], [axis_bottom, top], color="black", lw=0.7)
    ax.plot([px0, px1], [axis_bottom, axis_bottom], color="black", lw=0.7)
    for tv in _spaced(_ticks(xmin, xmax, ratio), lambda v: px0 + ((math.log(v) if ratio else v) - xmin)
                      / (xmax - xmin) * (px1 - px0), null):
        tx = px0 + ((math.log(tv) if ratio else tv) - xmin) / (xmax - xmin) * (px1 - px0)
        ax.plot([tx, tx], [axis_bottom, axis_bottom - 0.2], color="black", lw=0.7)
        ax.text(tx, axis_bottom - 0.35, f"{tv:g}", ha="center", va="top", fontsize=SMALL)
    left, right = labels or (s.label_left or "Lower with experimental", s.label_right or "Higher with experimental")
    ax.text(X(null) - 0.005, axis_bottom - 1.2, "\n".join(textwrap.wrap(plain(left, 60), 24)), ha="right", va="top",
            fontsize=SMALL)
    ax.text(X(null) + 0.005, axis_bottom - 1.2, "\n".join(textwrap.wrap(plain(right, 60), 24)), ha="left", va="top",
            fontsize=SMALL)
    for i, line in enumerate(title_lines):
        ax.text(0.01, top_y - 0.6 - i, plain(line), ha="left", va="center", fontsize=10, fontweight="bold")
    if dots:  # every risk-of-bias dot of the figure in one collection
        ax.scatter([d[0] for d in dots], [d[1] for d in dots], s=81, c=[d[2] for d in dots], edgecolors="0.45",
                   linewidths=0.5, zorder=2)
    for k, line in enumerate(legend_lines):
        ax.text(0.01, axis_bottom - 2.0 - n_text - 0.6 - k, line, ha="left", va="center", fontsize=SMALL,
                color="0.25")
    setattr(fig, SVG_TITLES, titles)
    return fig


ROB_X0, ROB_DX = 0.875, 0.0215  # the risk-of-bias column: first dot and spacing (figure fraction)
#: Short codes of the RoB 2 domains, by words in the domain name (robvis's D1-D5 and Overall).
_ROB_CODES = (("randomi", "D1"), ("deviation", "D2"), ("missing", "D3"), ("measurement", "D4"),
              ("selection", "D5"), ("overall", "O"))


def _rob_legend(domains) -> str:
    return ("Risk of bias (RoB 2): " + "; ".join(f"{_rob_code(d)}: {plain(d, 60)}" for d in domains)
            + ". Judgements: " + ", ".join(f"{ROB_SYMBOLS[k]} {k.lower()}" for k in ROB_SYMBOLS if ROB_SYMBOLS[k])
            + "; grey: not reported.")


def _rob_code(domain: str) -> str:
    d = str(domain).lower()
    for word, code in _ROB_CODES:
        if word in d:
            return code
    return str(domain)[:2]


def _rob_domains(rob) -> list:
    """The domains of the mapping, in its order, the overall judgement last."""
    if not rob:
        return []
    seen = []
    for judged in rob.values():
        for d in judged:
            if d not in seen:
                seen.append(d)
    return [d for d in seen if _rob_code(d) != "O"] + [d for d in seen if _rob_code(d) == "O"]


def _rob_level(value) -> str:
    v = str(value or "").strip()
    return v if v in ROB_COLOURS else "Not reported"


def _rob_dots(ax, domains, judged, yy) -> list:
    """The row's dots as (x, y, colour), drawn later in one collection; the symbols now."""
    dots = []
    for j, d in enumerate(domains):
        level = _rob_level(judged.get(d))
        x = ROB_X0 + ROB_DX * j
        dots.append((x, yy, ROB_COLOURS[level]))
        if ROB_SYMBOLS[level]:
            ax.text(x, yy, ROB_SYMBOLS[level], ha="center", va="center", fontsize=SMALL, fontweight="bold",
                    color="black", zorder=3)
    return dots


def _present(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _tooltip(label, s, arm, study, weights, measure, level, domains, judged, name="") -> str:
    """The hover text of a study row: study, arms, weight, estimate, risk of bias."""
    parts = [str(label)]
    if arm is not None:
        for side, arm_name in (("Experimental", s.experimental_label), ("Control", s.control_label)):
            n = arm.get(f"{side} N")
            if s.data_type == "Continuous":
                mean, sd = arm.get(f"{side} mean"), arm.get(f"{side} SD")
                if _present(n):
                    parts.append(f"{arm_name}: mean {fmt(mean, 1)}, SD {fmt(sd, 1)}, {fmt(n, 0)} participants")
            elif s.data_type == "Dichotomous":
                ev = arm.get(f"{side} cases")
                if _present(n):
                    parts.append(f"{arm_name}: {fmt(ev, 0)} of {fmt(n, 0)} with the event")
    if study is None:
        parts.append("not estimable")
    else:
        est, lo, hi = _study_ci(measure, study.yi, study.vi, level)
        w = weights.get(label, study.weight)
        parts.append(f"weight {fmt(w, 1)}%")
        parts.append(f"{name or MEASURE_NAMES.get(measure, measure)} {fmt(est)} [{fmt(lo)}, {fmt(hi)}]")
    if domains:
        if judged:
            parts.append("risk of bias: " + "; ".join(f"{_rob_code(d)} {_rob_level(judged.get(d)).lower()}"
                                                      for d in domains))
        else:
            parts.append("risk of bias: not reported")
    return "; ".join(parts)


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


def _spaced(ticks, pos, null, gap=0.03):
    """The ticks whose labels do not touch (at least ``gap`` of the figure's
    width apart), kept outward from the line of no effect."""
    ticks = sorted(ticks, key=lambda v: abs(pos(v) - pos(null)))
    kept = []
    for v in ticks:
        if all(abs(pos(v) - pos(k)) >= gap for k in kept):
            kept.append(v)
    return sorted(kept)


def _nice(x):
    exp = math.floor(math.log10(x))
    f = x / 10 ** exp
    nf = 1 if f < 1.5 else 2 if f < 3 else 5 if f < 7 else 10
    return nf * 10 ** exp


def _diamond(ax, X, r, yy, color):
    pts = [(X(r.ci_low), yy), (X(r.estimate), yy + 0.3), (X(r.ci_high), yy), (X(r.estimate), yy - 0.3)]
    ax.add_patch(Polygon(pts, closed=True, color=color, lw=0))


def _het(r):
    if r is None:
        return "Heterogeneity: not applicable"
    if r.k < 2:
        return "Heterogeneity: not applicable (one study)"
    tau = f"Tau² = {fmt(r.tau2, 2)}; " if r.tau2 is not None else ""
    return (f"Heterogeneity: {tau}Chi² = {fmt(r.q)}, df = {r.q_df} ({fmt_p(r.q_p)}); "
            f"I² = {fmt(r.i2, 0)}%")


def _overall(r):
    if r is None:
        return "Test for overall effect: not applicable"
    if not math.isfinite(r.stat):
        return "Test for overall effect: not applicable (standard error 0)"
    stat = f"t = {fmt(abs(r.stat))}, df = {r.stat_df}" if r.stat_df else f"Z = {fmt(abs(r.stat))}"
    return f"Test for overall effect: {stat} ({fmt_p(r.p)})"


def funnel_plot(egger_result, measure: str, *, title: str | None = None, name: str = ""):
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
    # a generic measure by its name (``name``, from the package), never by its code
    label = {"RR": "log risk ratio", "OR": "log odds ratio", "HR": "log hazard ratio"}.get(measure)
    if label is None:
        shown = name or MEASURE_NAMES.get(measure, measure)
        label = f"log {shown[0].lower() + shown[1:]}" if measure == "GENR" else f"{shown} (analysis scale)"
    ax.set_xlabel(label)
    if title:
        ax.set_title(plain(title), fontsize=10)
    fig.tight_layout()
    return fig
