"""Run one analysis of a data package with the engine.

Maps RevMan's settings to engine calls:

=====================  ==============================  ==========================
data type / method     model                           engine
=====================  ==============================  ==========================
Dichotomous, MH        fixed                           ``MH``
Dichotomous, MH        random, estimator DL or blank   ``MH-DL`` (RevMan 5 'M-H, Random')
Dichotomous, MH        random, estimator REML/PM       inverse variance with that estimator
Dichotomous, IV        fixed / random                  ``FE`` / ``DL`` ``REML`` ``PM``
Dichotomous, Peto      fixed                           ``PETO``
Continuous, IV         fixed / random                  ``FE`` / estimator (DL if blank)
Generic inverse var.   fixed / random                  as Continuous, on ``GIV Mean``/``GIV SE``
O-E and variance       -                               not computable (not implemented)
=====================  ==============================  ==========================

``CI method`` HKSJ means the plain Hartung-Knapp-Sidik-Jonkman interval.
Settings may be overridden (the book's notebook parameters): ``model``,
``estimator``, ``ci_method``, ``level``, ``measure`` (SMD instead of MD).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..engine import effects, pooling
from .schema import AnalysisSettings, Package


class NotComputable(Exception):
    """This analysis cannot be recomputed; the message says why."""


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis: its settings, the engine method used, the pooled result,
    subgroup results (if the rows have subgroups) and the per-study arm data."""

    settings: AnalysisSettings
    engine_method: str
    hksj: str | None
    result: pooling.MetaResult
    subgroups: pooling.SubgroupResult | None
    arms: tuple  # per estimable study: dict of arm data (for forest plots)
    study_subgroup: tuple  # subgroup label per estimable study ('' if none)


def engine_method(s: AnalysisSettings, *, model=None, estimator=None) -> str:
    model = model or s.model
    est = estimator or s.estimator or "DL"
    if s.data_type == "Dichotomous":
        if s.method == "Peto":
            return "PETO"
        if s.method == "MH":
            if model == "fixed":
                return "MH"
            return "MH-DL" if est == "DL" else est
        return "FE" if model == "fixed" else est
    return "FE" if model == "fixed" else est


def effect_sizes(s: AnalysisSettings, rows, measure=None, smd_correction="revman"):
    measure = measure or s.measure_code
    study = list(rows["Study"])
    if s.data_type == "Dichotomous":
        if measure not in effects.DICHOTOMOUS_MEASURES:
            raise NotComputable(f"effect measure '{s.measure}' is not computed for dichotomous data")
        return effects.dichotomous(rows["Experimental cases"], rows["Experimental N"],
                                   rows["Control cases"], rows["Control N"], measure=measure, study=study)
    if s.data_type == "Continuous":
        if measure not in effects.CONTINUOUS_MEASURES:
            raise NotComputable(f"effect measure '{s.measure}' is not computed for continuous data")
        return effects.continuous(rows["Experimental N"], rows["Experimental mean"],
                                  rows["Experimental SD"], rows["Control N"], rows["Control mean"],
                                  rows["Control SD"], measure=measure, study=study,
                                  smd_correction=smd_correction)
    if s.data_type in ("Contrast level", "Generic inverse variance"):
        yi = np.asarray(rows["GIV Mean"], float)
        se = np.asarray(rows["GIV SE"], float)
        gen_measure = measure if measure in effects.MEASURES else "GEN"
        return effects.generic(yi, se ** 2, study=study, measure=gen_measure)
    raise NotComputable(f"data type '{s.data_type}' (O-E and variance) is not implemented")


def run(pkg: Package, aid: str, *, model=None, estimator=None, ci_method=None, level=None,
        measure=None, smd_correction="revman") -> AnalysisResult:
    """Recompute analysis ``aid`` of ``pkg`` (settings as stored unless overridden)."""
    s = pkg.analysis(aid)
    rows = pkg.rows_of(aid)
    if rows.empty:
        raise NotComputable("the analysis has no data rows")
    if s.data_type == "Dichotomous" and s.method == "Peto" and (measure or s.measure_code) != "OR":
        raise NotComputable("Peto method needs the odds ratio")
    es = effect_sizes(s, rows, measure, smd_correction)
    if es.k == 0:
        raise NotComputable("no estimable study: " + "; ".join(f"{a}: {b}" for a, b in es.excluded))
    method = engine_method(s, model=model, estimator=estimator)
    ci = ci_method or s.ci_method
    hksj = "plain" if (ci == "HKSJ" and method in pooling.RANDOM_METHODS) else None
    lvl = level or s.level
    result = pooling.meta(es, method, hksj=hksj, level=lvl)
    keep = set(es.study)
    labels = [str(x) for x, st in zip(rows.get("Subgroup", [""] * len(rows)), rows["Study"]) if st in keep]
    sub = None
    if any(labels) and len(set(labels)) >= 1 and any(x for x in labels):
        sub = pooling.subgroups(es, labels, method, hksj=hksj, level=lvl)
    arms = tuple(_arm(r) for _, r in rows.iterrows() if r["Study"] in keep)
    return AnalysisResult(s, method, hksj, result, sub, arms, tuple(labels))


def _arm(r) -> dict:
    keys = ["Study", "Study year", "Subgroup", "Experimental mean", "Experimental SD",
            "Experimental cases", "Experimental N", "Control mean", "Control SD", "Control cases",
            "Control N", "GIV Mean", "GIV SE", "Footnotes"]
    return {k: r[k] for k in keys if k in r.index}
