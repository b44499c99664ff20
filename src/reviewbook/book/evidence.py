"""Every analysis of a package recomputed and judged once per notebook run:
the engine's result (with the book's conventions for few studies) and the
appraisal layer's judgements.  Pages, summary tables, key findings and the
results JSON read the same objects, so no two places can disagree.

Book conventions applied here (each stated on the methods page):

* an analysis whose package asks for the plain Hartung-Knapp-Sidik-Jonkman CI
  but that has fewer than 3 studies is shown with the ad hoc HKSJ interval
  (variance factor at least 1), with the reason: the plain interval can be far
  narrower than the Wald one with two studies (Röver et al. 2015);
* Egger's test is computed only with at least 10 studies (Sterne et al. 2011).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..appraisal import Appraisal, appraise
from ..appraisal.counting import count, subgroup_parents
from ..engine import pooling
from ..package import analysis as an

HKSJ_MIN_STUDIES = 3
HKSJ_NOTE = ("fewer than 3 studies: the Hartung-Knapp-Sidik-Jonkman interval is shown in its ad hoc form "
             "(variance factor at least 1), as the plain form can be narrower than the Wald interval")


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
    """``an.run`` with the book's few-study convention for HKSJ; returns (result, notes)."""
    ar = an.run(pkg, aid, **settings)
    notes = ()
    if ar.hksj == "plain" and ar.result is not None and count(ar).k < HKSJ_MIN_STUDIES:
        ar = an.run(pkg, aid, **{**settings, "ci_method": "HKSJ ad hoc"})
        notes = (HKSJ_NOTE,)
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
