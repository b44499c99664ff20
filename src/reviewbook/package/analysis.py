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
O-E and variance       fixed / random                  as Continuous, on ``yi = (O-E)/V``, ``vi = 1/V``
=====================  ==============================  ==========================

``CI method`` HKSJ means the plain Hartung-Knapp-Sidik-Jonkman interval; the
override ``ci_method="HKSJ ad hoc"`` the ad hoc one (variance factor at least 1).
Settings may be overridden (the book's notebook parameters): ``model``,
``estimator``, ``ci_method``, ``level``, ``measure`` (SMD instead of MD).

Rows are keyed by their position, not by study name: the same study may
appear twice in one analysis (separate participant groups or arms), and each
such row gets a distinct label (:func:`row_labels`).  An analysis in which no
study is estimable (e.g. no events in either arm of every study) is returned
with ``result=None`` and shown as RevMan does, "Not estimable".
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..engine import effects, pooling
from .names import study_key
from .schema import AnalysisSettings, Package


class NotComputable(Exception):
    """This analysis cannot be recomputed; the message says why."""


@dataclass(frozen=True)
class AnalysisResult:
    """One analysis: its settings, the engine method used, the pooled result
    (``None`` when no study is estimable), subgroup results (if the rows have
    subgroups), the per-study arm data of the estimable rows and the rows that
    are not estimable.

    ``labels`` has one distinct label per data row (input order);
    ``study_subgroup`` the subgroup of each estimable study (``''`` if none).
    ``totals`` is false for a review that shows subtotals only: study weights
    are then relative to each subgroup and there is no overall total.
    """

    settings: AnalysisSettings
    engine_method: str
    hksj: str | None
    result: pooling.MetaResult | None
    subgroups: pooling.SubgroupResult | None
    arms: tuple  # per estimable study: dict of arm data (for forest plots)
    study_subgroup: tuple  # subgroup label per estimable study ('' if none)
    labels: tuple = ()
    excluded: tuple = ()  # (label, reason) of rows that are not estimable
    totals: bool = True
    row_subgroup: tuple = ()  # subgroup of every row ('' if none), input order
    row_arms: tuple = ()  # arm data of every row (estimable or not), input order
    shared_weights: tuple | None = None  # (label, percent) by RevMan's multi-arm rule, where it applies

    @property
    def estimable(self) -> bool:
        return self.result is not None

    @property
    def participants(self) -> int:
        """Participants in the estimable rows (experimental + control N)."""
        def n(x):
            return 0.0 if x is None or x != x else float(x)
        return int(sum(n(a.get("Experimental N")) + n(a.get("Control N")) for a in self.arms))

    def weights(self) -> dict:
        """Study weight in percent by label, as RevMan shows it: relative to the
        overall total, or to the subgroup total when the review shows subtotals only;
        in a subgrouped analysis where a multi-arm study has a row per subgroup and a
        row combining its arms outside the subgroups, by RevMan's rule for that layout
        (:func:`reviewbook.engine.pooling.shared_arm_weights`)."""
        if self.result is None:
            return {}
        if self.totals and self.shared_weights is not None:
            return dict(self.shared_weights)
        if self.totals or self.subgroups is None:
            return {s.study: s.weight for s in self.result.studies}
        return {s.study: s.weight for _, g in self.subgroups.groups for s in g.studies}


def row_labels(studies) -> tuple:
    """One distinct label per row: the study name, numbered ``(1)``, ``(2)``, ...
    in row order where the same study (by :func:`.names.study_key`) appears more
    than once in the analysis."""
    names = [str(s) for s in studies]
    keys = [study_key(n) for n in names]  # one study, however spelled (names.study_key)
    counts = {k: keys.count(k) for k in set(keys)}
    seen: dict = {}
    out = []
    for n, k in zip(names, keys):
        if counts[k] > 1:
            seen[k] = seen.get(k, 0) + 1
            out.append(f"{n} ({seen[k]})")
        else:
            out.append(n)
    return tuple(out)


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


def _num(rows, col):
    """A numeric column as floats; NaN where blank (a missing number is never read as 0:
    the engine says which studies that leaves not estimable, and why).  A column the
    file does not have is all NaN."""
    if col not in rows.columns:
        return np.full(len(rows), np.nan)
    return np.asarray(rows[col], float)


#: Effect measures a data package may name that the engine pools as generic
#: inverse-variance estimates, in a reader's words (the Cochrane Handbook's names).
PACKAGE_MEASURE_NAMES = {"RaR": "Rate ratio", "ROM": "Ratio of means"}
#: Names of measures an analysis name may state, for generic inverse-variance data whose
#: package does not name the measure (import-rows writes 'Generic (...)'): the first
#: pattern found in the analysis name gives the name; none found, the measure stays
#: unnamed ('Ratio' or 'Estimate').  Abbreviations only in capitals, as whole words.
NAMED_IN_NAME = (
    (r"(?i:\bhazard ratios?\b)|\bHRs?\b", "HR"),
    (r"(?i:\b(?:incidence )?rate ratios?\b)|\bIRRs?\b", "Rate ratio"),
    (r"(?i:\bratios? of (?:geometric )?means\b)|\bRoMs?\b|\bROMs?\b", "Ratio of means"),
    (r"(?i:\bodds ratios?\b)|\bORs?\b", "OR"),
    (r"(?i:\b(?:risk ratios?|relative risks?)\b)|\bRRs?\b", "RR"),
    (r"(?i:\bstandardi[sz]ed mean differences?\b)|\bSMDs?\b", "SMD"),
    (r"(?i:\bmean differences?\b)|\bMDs?\b", "MD"),
    (r"(?i:\brisk differences?\b)|\bRDs?\b", "RD"),
)
RATIO_NAMES = ("HR", "Rate ratio", "Ratio of means", "OR", "RR")


def measure_name(s: AnalysisSettings, code: str) -> str:
    """How a reader sees the measure of analysis ``s`` pooled under engine ``code``
    ('' where the code is itself the reader's abbreviation: RR, OR, RD, MD, SMD, HR).

    Generic inverse-variance data (``GEN``, ``GENR``) are named from the package's
    'Effect measure' ('Rate Ratio' -> 'Rate ratio', 'Ratio of Means' -> 'Ratio of
    means'), else from the analysis name (:data:`NAMED_IN_NAME`, a ratio name only
    for log-scale data and a difference name only for the others), else left ''
    (shown as 'Ratio' or 'Estimate')."""
    import re

    if code not in ("GEN", "GENR"):
        return ""
    if s.measure_code in PACKAGE_MEASURE_NAMES:
        return PACKAGE_MEASURE_NAMES[s.measure_code]
    for pattern, name in NAMED_IN_NAME:
        if re.search(pattern, s.name or "") and ((name in RATIO_NAMES) == (code == "GENR")):
            return name
    return ""


def effect_sizes(s: AnalysisSettings, rows, measure=None, smd_correction=None, labels=None):
    """Effect sizes of the rows of one analysis (labels: :func:`row_labels`).

    Rows that give no result are not estimable, each with the engine's reason
    (:mod:`reviewbook.engine.effects`): no numbers, no participants, a missing
    value, SD 0, SE 0, V 0, events above N (only where the package validator
    allowed it: a row RevMan left without a result)."""
    measure = measure or s.measure_code
    study = list(labels) if labels is not None else list(row_labels(rows["Study"]))
    if s.data_type == "Dichotomous":
        if measure not in effects.DICHOTOMOUS_MEASURES:
            raise NotComputable(f"effect measure '{s.measure}' is not computed for dichotomous data")
        return effects.dichotomous(_num(rows, "Experimental cases"), _num(rows, "Experimental N"),
                                   _num(rows, "Control cases"), _num(rows, "Control N"), measure=measure,
                                   study=study, swap=s.swap_events)
    if s.data_type == "Continuous":
        if measure not in effects.CONTINUOUS_MEASURES:
            raise NotComputable(f"effect measure '{s.measure}' is not computed for continuous data")
        return effects.continuous(_num(rows, "Experimental N"), _num(rows, "Experimental mean"),
                                  _num(rows, "Experimental SD"), _num(rows, "Control N"), _num(rows, "Control mean"),
                                  _num(rows, "Control SD"), measure=measure, study=study,
                                  smd_correction=smd_correction or s.smd_formula)
    if s.data_type in ("Contrast level", "Generic inverse variance"):
        gen = measure if measure in effects.MEASURES else ("GENR" if s.log_scale else "GEN")
        es = effects.generic_se(_num(rows, "GIV Mean"), _num(rows, "GIV SE"), study=study, measure=gen)
        return replace(es, label=measure_name(s, gen))
    if s.data_type == "O-E and variance":
        return effects.oe(_num(rows, "O-E"), _num(rows, "Variance"), study=study)
    raise NotComputable(f"data type '{s.data_type}' is not known")


def run(pkg: Package, aid: str, *, model=None, estimator=None, ci_method=None, level=None,
        measure=None, smd_correction=None) -> AnalysisResult:
    """Recompute analysis ``aid`` of ``pkg`` (settings as stored unless overridden)."""
    s = pkg.analysis(aid)
    rows = pkg.rows_of(aid)
    if rows.empty:
        raise NotComputable("the analysis has no data rows")
    if s.data_type == "Dichotomous" and s.method == "Peto" and (measure or s.measure_code) != "OR":
        raise NotComputable("Peto method needs the odds ratio")
    labels = row_labels(rows["Study"])
    es = effect_sizes(s, rows, measure, smd_correction, labels)
    method = engine_method(s, model=model, estimator=estimator)
    ci = ci_method or s.ci_method
    hksj = None
    if method in pooling.RANDOM_METHODS and ci in ("HKSJ", "HKSJ ad hoc"):
        hksj = "plain" if ci == "HKSJ" else "adhoc"
    lvl = level or s.level
    subgroup_col = [str(x) for x in rows["Subgroup"]] if "Subgroup" in rows.columns else [""] * len(rows)
    groups = [subgroup_col[i] for i in es.index]
    row_arms = tuple(dict(_arm(rows.iloc[i]), label=labels[i]) for i in range(len(rows)))
    arms = tuple(row_arms[i] for i in es.index)
    if es.k == 0:
        return AnalysisResult(s, method, hksj, None, None, (), (), labels, tuple(es.excluded), s.totals,
                              tuple(subgroup_col), row_arms)
    result = pooling.meta(es, method, hksj=hksj, level=lvl)
    sub = pooling.subgroups(es, groups, method, hksj=hksj, level=lvl) if any(groups) else None
    shared = None
    if sub is not None:
        keys = [study_key(rows["Study"].iloc[i]) for i in es.index]
        w = pooling.shared_arm_weights(es, groups, keys, method)
        if w is not None:
            shared = tuple((labels[i], float(x)) for i, x in zip(es.index, w))
    return AnalysisResult(s, method, hksj, result, sub, arms, tuple(groups), labels, tuple(es.excluded),
                          s.totals, tuple(subgroup_col), row_arms, shared)


def _arm(r) -> dict:
    keys = ["Study", "Study year", "Subgroup", "Experimental mean", "Experimental SD",
            "Experimental cases", "Experimental N", "Control mean", "Control SD", "Control cases",
            "Control N", "GIV Mean", "GIV SE", "O-E", "Variance", "Footnotes"]
    return {k: r[k] for k in keys if k in r.index}
