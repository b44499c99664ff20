"""Every analysis of a package recomputed and judged once per notebook run:
the engine's result (with the book's conventions for few studies) and the
appraisal layer's judgements.  Pages, summary tables, key findings and the
results JSON read the same objects, so no two places can disagree.

Book conventions applied here (each stated on the methods page):

* an analysis whose package asks for the Hartung-Knapp-Sidik-Jonkman CI is
  shown with its ad hoc form (variance factor ``max(1, q)``, Knapp and Hartung
  2003), which equals the plain form when ``q >= 1`` and is never narrower than
  the Wald interval; where ``q < 1`` a note gives the factor and says so (the
  plain interval can be far narrower than the Wald one: Jackson et al. 2017;
  Röver et al. 2015);
* Egger's test is computed only with at least 10 studies (Sterne et al. 2011).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..appraisal import Appraisal, appraise
from ..appraisal.counting import count, subgroup_parents
from ..engine import pooling
from ..package import analysis as an

def plain_hksj_narrower(r) -> bool:
    """Whether the plain HKSJ interval of ``r`` (an HKSJ result) is narrower than the Wald
    interval with the same tau²: ``sqrt(q) t(k-1) < z`` (Jackson et al. 2017)."""
    from math import sqrt

    from ..engine import dist

    p = 0.5 + r.level / 2
    return sqrt(max(r.hksj_q, 0.0)) * dist.t_ppf(p, r.k - 1) < dist.norm_ppf(p)


def hksj_note(r) -> str:
    """The note on an ad hoc HKSJ result whose variance factor was below 1 ('' otherwise)."""
    if r is None or r.hksj != "adhoc" or r.hksj_q is None or r.hksj_q >= 1:
        return ""
    why = (", so the plain HKSJ interval would be narrower than the Wald interval" if plain_hksj_narrower(r)
           else "")
    from ..engine.report import fmt

    return (f"the Hartung-Knapp-Sidik-Jonkman variance factor q is {fmt(r.hksj_q, 2)}, below 1{why}; the ad hoc "
            "form (factor 1) is shown")


@dataclass(frozen=True)
class Judged:
    """One analysis: its settings, result (None when it cannot be recomputed, with
    ``reason``), appraisal, and notes on book conventions applied to it."""

    aid: str
    settings: object
    result: an.AnalysisResult | None
    appraisal: Appraisal | None
    reason: str = ""
    notes: tuple = ()

    @property
    def pooled(self):
        return None if self.result is None else self.result.result


def run(pkg, aid: str, settings: dict):
    """``an.run`` with the book's HKSJ convention (always the ad hoc form); returns (result, notes)."""
    ar = an.run(pkg, aid, **settings)
    notes = ()
    if ar.hksj == "plain" and ar.result is not None:
        ar = an.run(pkg, aid, **{**settings, "ci_method": "HKSJ ad hoc"})
        note = hksj_note(ar.result)
        notes = (note,) if note else ()
    return ar, notes


def _egger(pkg, ar):
    if ar.result is None or count(ar).k < 10:
        return None
    es = an.effect_sizes(ar.settings, pkg.rows_of(ar.settings.id), labels=ar.labels)
    return pooling.egger(es).p


def judged_all(pkg, review, settings: dict | None = None) -> dict:
    """``{analysis id: Judged}`` for every analysis of ``pkg``, in package order
    (cached on the package for the same review file and settings)."""
    settings = dict(settings or {})
    key = (getattr(review, "path", None), review.package, tuple(sorted(settings.items())))
    memo = pkg.__dict__.setdefault("_judged_memo", {})
    if key in memo:
        return memo[key]
    parents = subgroup_parents(pkg)
    config = review.appraisal
    out = {}
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        try:
            ar, notes = run(pkg, aid, settings)
        except an.NotComputable as exc:
            out[aid] = Judged(aid, s, None, None, str(exc))
            continue
        a = appraise(pkg, ar, config, parent=parents.get(aid), egger_p=_egger(pkg, ar))
        out[aid] = Judged(aid, s, ar, a, "", notes)
    memo[key] = out
    return out
