"""Synthesis pages: absolute effects of harms, summary of findings, reproduction."""
from __future__ import annotations

from ..engine.report import fmt, fmt_ci
from ..package import analysis as an
from ..package.schema import Package
from ..views import grade as grading
from ..views.tables import Note, Table
from .glue import _display, _glue, _shows, slug
from .paths import load
from .sections import Section, _measure_label, _participants, claim, engine_settings, load_sections


def _absolute(ar):
    """Anticipated absolute effects per 1,000 (control risk = pooled control arms)."""
    r = ar.result
    ce = sum(a.get("Control cases") or 0 for a in ar.arms)
    cn = sum(a.get("Control N") or 0 for a in ar.arms)
    return grading.absolute_per_1000(ce, cn, r.estimate, r.ci_low, r.ci_high)


@_shows
def absolute_effects(sec: Section):
    """Harms: risk ratios with anticipated absolute risks per 1,000."""
    rows = []
    for it in sec.items:
        if it.result is None or not it.result.result.is_ratio:
            continue
        r = it.result.result
        ab = _absolute(it.result)
        s = it.result.settings
        rows.append([it.aid, s.group_name, s.name, f"{fmt(ab['control'], 0)}",
                     f"{fmt(ab['intervention'], 0)} ({fmt(ab['low'], 0)} to {fmt(ab['high'], 0)})",
                     f"RR {fmt_ci(r)}", f"{_participants(it.result)} ({r.k})"])
    if not rows:
        _display(Note("No dichotomous harm outcome has data in this package.", "note"))
        return None
    t = Table(["Analysis", "Comparison", "Outcome", "Control risk per 1,000", "With intervention per 1,000 (95% CI)",
               "Relative effect", "Participants (studies)"], rows,
              caption="Harms: relative effects and anticipated absolute effects per 1,000 "
                      "(control risk = pooled control arms).", label="tbl-harms-absolute")
    _display(t)
    return t


@_shows
def summary_of_findings(package, *, sections=None, **settings):
    """GRADE-style summary of findings over every analysis of the package."""
    pkg = load(package)
    owners = claim(pkg, sections)
    rows = []
    rob_assessed = _rob_assessed(pkg)
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        try:
            ar = an.run(pkg, aid, **engine_settings(**settings))
        except an.NotComputable as exc:
            rows.append([f"{s.group_name}: {s.name}", "", "", "", "not computable", str(exc)])
            continue
        r = ar.result
        n = _participants(ar)
        g = grading.assess(r, participants=n, rob_assessed=rob_assessed)
        if r.is_ratio:
            ab = _absolute(ar)
            absolute = (f"{fmt(ab['control'], 0)} per 1,000 with control; {fmt(ab['intervention'], 0)} per 1,000 "
                        f"({fmt(ab['low'], 0)} to {fmt(ab['high'], 0)}) with intervention")
            relative = f"RR {fmt_ci(r)}"
        else:
            absolute = f"{_measure_label(r)} {fmt(r.estimate)} ({fmt(r.ci_low)} to {fmt(r.ci_high)})"
            absolute += " points on 0-100" if r.measure == "MD" else ""
            relative = "not applicable"
        rows.append([f"{s.group_name}: {s.name} [{aid}, {owners[aid]}]", absolute, relative,
                     f"{n} ({r.k})", g.certainty, g.reasons() + ". " + "; ".join(g.notes)])
        _glue(f"sof_{slug(aid)}_certainty", g.certainty)
    t = Table(["Outcome", "Anticipated absolute effects (95% CI)", "Relative effect (95% CI)",
               "Participants (studies)", "Certainty (GRADE)", "Reasons and comments"], rows,
              caption="Summary of findings (certainty by the stated rules of the methods page).",
              label="tbl-sof")
    _display(t)
    return t


def _rob_assessed(pkg: Package) -> bool:
    rob = pkg.risk_of_bias
    if rob.empty:
        return False
    vals = {str(v).strip().lower() for c in rob.columns if c.startswith("Domain (judgement)") for v in rob[c]}
    return bool(vals - {"not assessed", "not applicable", ""})


@_shows
def reproduction(package, published_csv="data/published-estimates.csv", **settings):
    """Every published estimate beside ours (all sections)."""
    from .reproduce import compare

    pkg = load(package)
    rows = []
    for rule in load_sections():
        sec = Section(pkg, rule["key"], **{k: v for k, v in settings.items() if v is not None})
        rows.extend(compare(sec, published_csv))
    _glue("n_published_compared", str(len(rows)))
    if not rows:
        _display(Note("No published estimate matches this package.", "note"))
        return None
    t = Table(["Comparison", "Outcome", "Published [95% CI]", "Certainty", "Ours [95% CI]", "Studies (ours)",
               "Explanation of the gap"], rows, caption="Published estimates of the review beside ours.",
              label="tbl-reproduction")
    _display(t)
    return t
