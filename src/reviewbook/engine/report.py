"""Text forms of results: plain-text tables (the CLI's) and JSON.  Deterministic output."""
from __future__ import annotations

import json
import math

from .pooling import METHOD_LABELS, MetaResult, SubgroupResult


def fmt(x, digits=2) -> str:
    """Round half away from zero, deterministic; ``None`` -> 'n/a'."""
    if x is None:
        return "n/a"
    from decimal import ROUND_HALF_UP, Decimal, localcontext

    x = float(x)
    if x != x or x in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "inf", "-inf": "-inf"}[repr(x)]
    q = Decimal(1).scaleb(-digits)
    with localcontext() as ctx:
        ctx.prec = 330 + max(digits, 0)  # every float's digits (up to 1.8e308) and the decimals asked for
        return str(Decimal(repr(x)).quantize(q, rounding=ROUND_HALF_UP))


def fmt_p(p) -> str:
    """A P value as RevMan writes it: two decimals from 0.01 up ('P = 0.06'),
    one significant figure below ('P = 0.004', 'P = 0.0002'), and 'P < 0.00001'
    below that; 'P not applicable' for ``None`` (e.g. a test with df 0)."""
    if p is None or p != p:
        return "P not applicable"
    from decimal import ROUND_HALF_UP, Decimal

    p = float(p)
    if p < 0.00001:
        return "P < 0.00001"
    if p >= 0.0095:
        return f"P = {fmt(p, 2)}"
    d = Decimal(repr(p))
    exp = d.adjusted()
    r = d.quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_UP)
    if r.adjusted() > exp:  # 0.00096 rounds to 0.0010: one significant figure is 0.001
        r = r.quantize(Decimal(1).scaleb(exp + 1), rounding=ROUND_HALF_UP)
    return f"P = {format(r, 'f')}"


def fmt_i2(i2) -> str:
    """I² in whole percent ('58%'); 'not applicable' for one study."""
    return "not applicable" if i2 is None else f"{fmt(i2, 0)}%"


def fmt_ci(r, digits=2) -> str:
    """'estimate [ci_low, ci_high]' of a result (reporting scale), rounded by :func:`fmt`."""
    return f"{fmt(r.estimate, digits)} [{fmt(r.ci_low, digits)}, {fmt(r.ci_high, digits)}]"


#: Words for the measures whose code is not a reader's abbreviation: generic
#: inverse-variance estimates whose measure nothing names (on their own scale, or
#: ratios given on the log scale).  RR, OR, RD, MD, SMD and HR are the Cochrane
#: Handbook's own abbreviations and are shown as they are.
UNNAMED = {"GEN": "Estimate", "GENR": "Ratio"}


def measure_text(measure: str, label: str = "") -> str:
    """The measure as a reader sees it: ``label`` (the data package's name for it,
    e.g. 'Rate ratio') when given, else the abbreviation, never an internal code."""
    return label or UNNAMED.get(measure, measure)


def fmt_effect(measure: str, estimate, low, high, digits=2, label: str = "") -> str:
    """'MD -15.79 (-32.09 to 0.51)': the book's one form of an effect with its CI in
    tables and prose (forest plots keep RevMan's '[low, high]')."""
    return f"{measure_text(measure, label)} {fmt(estimate, digits)} ({fmt(low, digits)} to {fmt(high, digits)})"


def effect_line(r: MetaResult, digits=2) -> str:
    pct = int(round(r.level * 100))
    return f"{fmt_ci(r, digits)} ({pct}% CI)"


def meta_table(r: MetaResult, title: str = "") -> str:
    from .pooling import backtransform

    lines = []
    if title:
        lines.append(title)
    lines.append(f"Measure {r.measure}; method {r.method} ({METHOD_LABELS[r.method]})"
                 + (f"; CI {'HKSJ' if r.hksj == 'plain' else 'HKSJ ad hoc'}" if r.hksj else "; CI Wald"))
    width = max([5] + [len(s.study) for s in r.studies])
    lines.append(f"{'Study':<{width}}  {'Estimate [95% CI]':>28}  {'Weight':>7}")
    for s in r.studies:
        half = 1.959963984540054 * math.sqrt(s.vi)
        est = backtransform(r.measure, s.yi)
        lo, hi = backtransform(r.measure, s.yi - half), backtransform(r.measure, s.yi + half)
        lines.append(f"{s.study:<{width}}  {fmt(est):>10} [{fmt(lo):>7}, {fmt(hi):>7}]  {fmt(s.weight, 1):>6}%")
    for study, reason in r.excluded:
        lines.append(f"{study:<{width}}  {reason}")
    lines.append(f"{'Total':<{width}}  {effect_line(r)}  k = {r.k}")
    lines.append(f"Heterogeneity: Tau2 = {fmt(r.tau2, 4)}; Chi2 = {fmt(r.q)}, df = {r.q_df} "
                 f"({fmt_p(r.q_p)}); I2 = {fmt(r.i2, 0) if r.i2 is not None else 'n/a'}%")
    stat = f"t = {fmt(abs(r.stat))} (df = {r.stat_df})" if r.stat_df else f"Z = {fmt(abs(r.stat))}"
    lines.append(f"Test for overall effect: {stat} ({fmt_p(r.p)})")
    if r.pi_low is not None:
        lines.append(f"Prediction interval: [{fmt(r.pi_low)}, {fmt(r.pi_high)}]")
    for note in r.notes:
        lines.append(f"Note: {note}")
    return "\n".join(lines)


def subgroup_table(res: SubgroupResult) -> str:
    parts = []
    for name, r in res.groups:
        parts.append(meta_table(r, title=f"Subgroup: {name}"))
    parts.append(meta_table(res.overall, title="Overall"))
    t = res.test
    if t is not None:
        parts.append(f"Test for subgroup differences: Chi2 = {fmt(t.q)}, df = {t.df} "
                     f"({fmt_p(t.p)}), I2 = {fmt(t.i2, 1)}%")
    return "\n\n".join(parts)


def _clean(obj):
    """JSON-safe: NaN/inf -> null, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, (str, bytes)):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def dumps(obj) -> str:
    return json.dumps(_clean(obj), indent=2, ensure_ascii=False, allow_nan=False)
