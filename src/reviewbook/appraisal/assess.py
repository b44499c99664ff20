"""Everything the book says about one analysis, judged once: direction of
benefit, MID, counts, certainty (GRADE), narrative statement and absolute
effects.  :func:`appraise` is the single entry point; pages, summary tables and
the results JSON all read its :class:`Appraisal`, so they cannot disagree.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..engine.report import fmt, measure_text
from . import absolute as ab
from . import grade as gr
from .config import Config
from .counting import Count, count, study_population_risk
from .direction import Direction, resolve
from .mid import Mid, mid_for, pooled_sd_of
from .statements import statement


@dataclass(frozen=True)
class Appraisal:
    """The judgements about one analysis (see the module docstring).

    ``grade`` and ``statement`` are None when the analysis is not estimable;
    ``ois`` is the optimal information size in participants (None when it cannot
    be computed); ``parent`` the analysis this one is a subgroup view of."""

    aid: str
    direction: Direction
    mid: Mid
    count: Count
    grade: gr.Grade | None
    statement: str | None
    absolute: ab.Absolute
    ois: float | None = None
    parent: str | None = None

    @property
    def certainty(self) -> str:
        return "not estimable" if self.grade is None else self.grade.certainty

    def to_dict(self) -> dict:
        """The judgements as the results JSON stores them."""
        g = self.grade
        return {
            "certainty": self.certainty,
            "domains": None if g is None else {d.name: {"levels": d.levels, "verdict": d.verdict}
                                               for d in g.domains},
            "statement": self.statement, "mid": self.mid.to_dict(), "direction": self.direction.better,
            "direction_basis": self.direction.basis, "studies_distinct": len(self.count.studies),
            "rows": self.count.rows, "participants_all_rows": self.count.participants, "parent": self.parent,
            "absolute": self.absolute.to_dict(),
        }


def _rob_rows(pkg, ar) -> list:
    """(weight %, {domain: judgement}) per estimable row, from the package's RoB table."""
    rob = pkg.risk_of_bias
    weights = ar.weights()
    if rob is None or rob.empty or "Result" not in rob.columns:
        return [(w, {}) for w in weights.values()]
    g, n = ar.settings.id.split(".")
    by_label = _rob_by_analysis(pkg).get((g, n), {})
    return [(w, by_label.get(label, {})) for label, w in weights.items()]


def _rob_by_analysis(pkg) -> dict:
    """``{(group, number) as text: {result label: {domain: judgement}}}`` of the package's
    RoB table, read once per Package (every analysis asks; the Package is never modified)."""
    memo = pkg.__dict__.get("_rob_by_analysis")
    if memo is None:
        rob = pkg.risk_of_bias
        cols = [c for c in rob.columns if c.startswith("Domain (judgement)")]
        memo = {}
        for (_, r), g, n in zip(rob.iterrows(), rob["Analysis group"].astype(str), rob["Analysis number"].astype(str)):
            memo.setdefault((g, n), {})[r["Result"]] = {c.split(":", 1)[1].strip(): str(r[c]).strip() for c in cols}
        pkg.__dict__["_rob_by_analysis"] = memo
    return memo


def _ois(ar, mid: Mid, config: Config, acr: float | None) -> float | None:
    """Optimal information size (participants) for the analysis's measure, or None."""
    from ..engine import ris
    from ..errors import ArgumentError

    r = ar.result
    beta = 1 - config.power
    try:
        if r.measure == "MD" and mid.assessed:
            sd = pooled_sd_of(ar)
            return None if sd is None else ris.information_size_md(mid.size, sd, config.alpha, beta)
        if r.measure == "SMD" and mid.assessed:
            return ris.information_size_md(mid.size, 1.0, config.alpha, beta)
        if ar.settings.data_type == "Dichotomous":
            # the control rate of the OIS: the assumed risk (0 only when no control arm had an event)
            cr = acr
            if cr is None or not 0 < cr < 1:
                return None
            rrr = mid.size if (mid.assessed and mid.unit == "relative change") else config.rrr
            return ris.information_size_binary(cr, rrr, config.alpha, beta)
    except ArgumentError:
        return None
    return None


def appraise(pkg, ar, config: Config, *, parent: str | None = None, egger_p: float | None = None) -> Appraisal:
    """Judge one analysis.

    ``ar``: its :class:`~reviewbook.package.analysis.AnalysisResult`; ``egger_p``:
    Egger's test P (with at least 10 studies)."""
    s = ar.settings
    direction = resolve(s, config.outcomes)
    cnt = count(ar)
    r = ar.result
    stated = config.assumed_risk_for(s.name)
    acr = None
    if s.data_type == "Dichotomous":
        acr = stated.risk if stated is not None else study_population_risk(ar)[0]
    mid = mid_for(ar, config, acr)
    if r is None:
        return Appraisal(s.id, direction, mid, cnt, None, None, ab.not_estimable(cnt), None, parent)
    ois = _ois(ar, mid, config, acr)
    weights = ar.weights()
    study_of = {a["label"]: str(a.get("Study", "")) for a in ar.arms}
    domains = (
        gr.risk_of_bias(_rob_rows(pkg, ar)),
        gr.inconsistency(r, mid, cnt.k),
        gr.indirectness(weights, study_of, config.indirectness, s.name),
        gr.imprecision(r, mid, cnt.participants, ois, cnt.k, pooled_sd_of(ar) if r.measure == "MD" else None),
        gr.publication_bias(cnt.k, egger_p, config.missing_for(s.id, s.name)),
    )
    g = gr.rate(domains)
    null = 1.0 if r.is_ratio else 0.0
    dichotomous = s.data_type == "Dichotomous"
    # the outcome phrase reads the resolved direction of benefit (package, labels or review file)
    text = statement(replace(s, direction=direction.better), g.certainty, r.estimate, null, mid, dichotomous)
    if dichotomous and r.is_ratio:
        assumed = None if stated is None else (stated.risk, f"stated for this review: {stated.source}")
        absolute = ab.ratio_effect(ar, assumed)
    elif r.measure in ("MD", "SMD"):
        absolute = ab.mean_effect(ar)
    else:
        absolute = ab.Absolute("other", "not applicable", f"{measure_text(r.measure, r.label)} {fmt(r.estimate)} "
                                                          f"({fmt(r.ci_low)} to {fmt(r.ci_high)})")
    return Appraisal(s.id, direction, mid, cnt, g, text, absolute, ois, parent)
