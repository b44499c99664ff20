"""Synthesis pages: absolute effects of harms, summary of findings, reproduction
of RevMan's results and of the published estimates, and the second extractor."""
from __future__ import annotations

from ..engine.report import fmt, fmt_ci
from ..package import analysis as an
from ..package.schema import Package
from ..views import grade as grading
from ..views.grade import per_1000
from ..views.tables import Note, Table
from . import reproduce
from .glue import _display, _glue, _shows, slug
from .paths import load
from .sections import Section, engine_settings, measure_label, review_for


def _absolute(ar):
    """Anticipated absolute effects per 1,000 (control risk = pooled control arms)."""
    r = ar.result
    ce = sum(a.get("Control cases") or 0 for a in ar.arms)
    cn = sum(a.get("Control N") or 0 for a in ar.arms)
    return grading.absolute_per_1000(ce, cn, r.measure, r.estimate, r.ci_low, r.ci_high)


@_shows
def absolute_effects(sec: Section):
    """Harms: relative effects with anticipated absolute risks per 1,000."""
    rows = []
    for it in sec.computed():
        ar = it.result
        if ar.settings.data_type != "Dichotomous" or not ar.result.is_ratio or not ar.totals:
            continue
        r = ar.result
        ab = _absolute(ar)
        s = ar.settings
        rows.append([it.aid, s.group_name, s.name, per_1000(ab["control"]),
                     f"{per_1000(ab['intervention'])} ({per_1000(ab['low'])} to {per_1000(ab['high'])})",
                     f"{r.measure} {fmt_ci(r)}", f"{ar.participants} ({r.k})"])
    if not rows:
        _display(Note("No dichotomous harm outcome with a ratio measure has data in this package.", "note"))
        return None
    t = Table(["Analysis", "Comparison", "Outcome", "Control risk per 1,000", "With intervention per 1,000 (95% CI)",
               "Relative effect", "Participants (studies)"], rows,
              caption="Harms: relative effects and anticipated absolute effects per 1,000 "
                      "(control risk = pooled control arms).", label="tbl-harms-absolute")
    _display(t)
    return t


def grade_of(pkg: Package, ar, review) -> grading.Grade:
    """Our GRADE rating of one analysis from its data: RoB 2 judgements of its rows,
    I² and prediction interval, participants against the optimal information size
    (GRADE: alpha 0.05, power 0.80), and Egger's test where k >= 10."""
    from ..engine import ris as ri

    r = ar.result
    rob = _rob_of(pkg, ar)
    ois = None
    try:
        if ar.settings.data_type == "Continuous" and r.measure == "MD" and review.mcid is not None:
            sd = ri.pooled_sd([a["Experimental N"] for a in ar.arms], [a["Experimental SD"] for a in ar.arms],
                              [a["Control N"] for a in ar.arms], [a["Control SD"] for a in ar.arms])
            ois = ri.information_size_md(float(review.mcid), sd, 0.05, 0.20) if sd > 0 else None
        elif ar.settings.data_type == "Dichotomous" and r.is_ratio:
            ce = sum(a.get("Control cases") or 0 for a in ar.arms)
            cn = sum(a.get("Control N") or 0 for a in ar.arms)
            if cn and 0 < ce / cn < 1:
                ois = ri.information_size_binary(ce / cn, 0.25, 0.05, 0.20)
    except Exception:  # noqa: BLE001 - an information size that cannot be computed: the rule of thumb
        ois = None
    egger = None
    if r.k >= 10:
        from ..engine import pooling

        es = an.effect_sizes(ar.settings, pkg.rows_of(ar.settings.id), labels=ar.labels)
        egger = pooling.egger(es).p
    return grading.assess(r, participants=ar.participants, rob=rob, egger_p=egger, mcid=review.mcid, ois=ois)


def _rob_of(pkg: Package, ar) -> list | None:
    """(weight %, {domain: judgement}) per estimable row of the analysis, from the package's RoB table."""
    rob = pkg.risk_of_bias
    if rob.empty or "Result" not in rob.columns:
        return None
    g, n = ar.settings.id.split(".")
    mine = rob[(rob["Analysis group"].astype(str) == g) & (rob["Analysis number"].astype(str) == n)]
    cols = [c for c in rob.columns if c.startswith("Domain (judgement)")]
    by_label = {r["Result"]: {c.split(":", 1)[1].strip(): str(r[c]).strip() for c in cols} for _, r in mine.iterrows()}
    weights = ar.weights()
    out = [(w, by_label.get(label, {})) for label, w in weights.items()]
    return out or None


def _published_certainty(review) -> dict:
    out = {}
    for p in reproduce.read_csv(review.published):
        if p.get("analysis") and p.get("certainty"):
            out[p["analysis"].strip()] = (p["certainty"].strip(), p.get("source", "").strip())
    return out


@_shows
def summary_of_findings(package, *, review="auto", **settings):
    """GRADE-style summary of findings over every analysis of the package, with the
    review's published certainty beside ours where it is public."""
    pkg = load(package)
    rv = review_for(pkg, review)
    from .review import claim

    owners = claim(pkg, rv)
    published = _published_certainty(rv)
    groups = {}  # one table per comparison (analysis group), in the package's order
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        _, rows, notes = groups.setdefault(aid.split(".")[0], (s.group_name, [], []))
        try:
            ar = an.run(pkg, aid, **engine_settings(**settings))
        except an.NotComputable as exc:
            rows.append([aid, s.name, "", "", "", "not computable", ""])
            notes.append((aid, str(exc)))
            continue
        r = ar.result
        pub = published.get(aid, ("not public", ""))[0]
        if r is None:
            rows.append([aid, s.name, "Not estimable", "", f"0 ({len(ar.labels)})", "not assessed", pub])
            notes.append((aid, "no study is estimable"))
            continue
        g = grade_of(pkg, ar, rv)
        if ar.settings.data_type == "Dichotomous" and r.is_ratio:
            ab = _absolute(ar)
            absolute = (f"{per_1000(ab['control'])} per 1,000 with control; {per_1000(ab['intervention'])} per "
                        f"1,000 ({per_1000(ab['low'])} to {per_1000(ab['high'])}) with intervention")
            relative = f"{r.measure} {fmt_ci(r)}"
        else:
            absolute = f"{measure_label(r.measure)} {fmt(r.estimate)} ({fmt(r.ci_low)} to {fmt(r.ci_high)})"
            relative = "not applicable"
        rows.append([aid, f"{s.name} ({rv.rule(owners[aid]).title} page)", absolute, relative,
                     f"{ar.participants} ({r.k})", g.certainty, pub])
        notes.append((aid, g.reasons() + ". " + "; ".join(g.notes)))
        _glue(f"sof_{slug(aid)}_certainty", g.certainty)
    header = ["Analysis", "Outcome", "Anticipated absolute effects (95% CI)", "Relative effect (95% CI)",
              "Participants (studies)", "Certainty (our rules)", "Certainty (published)"]
    for g, (group_name, rows, notes) in groups.items():
        title = f"comparison {g}" + (f", {group_name}" if group_name else "")
        _display(Table(header, rows, label=f"tbl-sof-{slug(g)}", notes=notes,
                       caption=f"Summary of findings, {title}: certainty by the stated rules of the methods page, "
                               "beside the review's published certainty where it is public; the reasons for "
                               "each rating are listed under the table."))


@_shows
def grade_from_data(package, *, review="auto", **settings):
    """Each GRADE domain's reason from the data, beside the review's published
    certainty where it is public, naming every disagreement."""
    pkg = load(package)
    rv = review_for(pkg, review)
    published = _published_certainty(rv)
    rows = []
    agree = 0
    for aid, (cert, src) in published.items():
        if aid not in pkg.analysis_ids():
            continue
        ar = an.run(pkg, aid, **engine_settings(**settings))
        if ar.result is None:
            continue
        g = grade_of(pkg, ar, rv)
        dom = {d.domain: f"−{d.levels}: {d.reason}" if d.levels else f"none: {d.reason}" for d in g.downgrades}
        same = g.certainty == cert
        agree += same
        diff = ("agree" if same else
                f"disagree: ours is {g.certainty}, the review's {cert} (the review's reasons per domain are not "
                f"public; ours: {g.reasons()})")
        s = ar.settings
        rows.append([aid, s.name, dom.get("risk of bias", ""), dom.get("inconsistency", ""),
                     dom.get("imprecision", ""), dom.get("publication bias", "not assessable (fewer than 10 studies)"),
                     g.certainty, cert, diff])
    _glue("grade_compared", str(len(rows)))
    _glue("grade_agree", str(agree))
    if not rows:
        _display(Note("The review's certainty is not public for any analysis of this package, so there is "
                      "nothing to set our ratings beside.", "note"))
        return None
    t = Table(["Analysis", "Outcome", "Risk of bias", "Inconsistency", "Imprecision", "Publication bias",
               "Ours", "Published", "Agreement"], rows,
              caption="GRADE from the data, domain by domain, beside the review's published certainty.",
              label="tbl-grade-from-data")
    _display(t)
    return t


@_shows
def published_estimates(package, *, review="auto", **settings):
    """Every published pooled estimate of the review beside ours."""
    pkg = load(package)
    rv = review_for(pkg, review)
    rows = reproduce.compare_published(pkg, rv, set(pkg.analysis_ids()) | {
        p.get("analysis", "") for p in reproduce.read_csv(rv.published)}, engine_settings(**settings))
    rows = [r for r in rows if r[0]]
    # compared: the published rows that carry a pooled estimate (not those the review did not pool)
    _glue("n_published_compared", str(sum(1 for r in rows if r[6].startswith(("reproduced", "differs")))))
    reproduced = sum(1 for r in rows if r[6].startswith("reproduced"))
    _glue("n_published_reproduced", str(reproduced))
    if not rows:
        _display(Note("No published pooled estimate is known for this package.", "note"))
        return None
    t = Table(["Analysis", "Outcome", "Published [95% CI]", "Certainty", "Ours [95% CI]", "Studies", "Agreement"],
              rows, caption="The review's published pooled estimates beside ours.", label="tbl-published")
    _display(t)
    return t


@_shows
def settings_table(package):
    """How each analysis's settings were obtained (stored, or inferred from RevMan's per-study results)."""
    pkg = load(package)
    inferred = pkg.extra.get("settings-inferred.csv")
    evidence = pkg.extra.get("settings-evidence.csv")
    ev = {} if evidence is None else dict(zip(evidence["analysis"], evidence["evidence"]))
    rows = []
    if inferred is None:
        for aid in pkg.analysis_ids():
            s = pkg.analysis(aid)
            rows.append([aid, s.data_type, s.measure, s.method, s.model, s.estimator or "", "stored", ""])
        cap = "Settings of every analysis, as stored in the package's settings file."
    else:
        for _, r in inferred.iterrows():
            rows.append([r["analysis"], r["data_type"], r["measure"], r["method"], r["model"], r["estimator"],
                         r["status"], ev.get(r["analysis"], "")])
        cap = ("Settings of every analysis, inferred from RevMan's stored per-study results (the package has no "
               "settings file), with the evidence.")
    counts = {}
    for r in rows:
        counts[r[6]] = counts.get(r[6], 0) + 1
    for k in ("inferred", "tie-broken", "not identifiable", "stored"):
        _glue(f"settings_{slug(k)}", str(counts.get(k, 0)))
    t = Table(["Analysis", "Data type", "Measure", "Method", "Model", "Estimator", "Status", "Evidence"], rows,
              caption=cap, label="tbl-settings", sortable=True)
    _display(t)
    return t


@_shows
def study_results(package):
    """Every stored per-study result of RevMan beside ours."""
    pkg = load(package)
    rows, checked, matched = reproduce.study_results(pkg)
    _glue("studies_checked", str(checked))
    _glue("studies_matched", str(matched))
    if not rows:
        _display(Note("The package stores no per-study results.", "note"))
        return None
    t = Table(["Analysis", "Study", "RevMan [95% CI]", "Ours [95% CI]", "RevMan weight %", "Our weight %", "Check"],
              rows, caption="Every per-study result RevMan stored, beside ours (estimate and CI on the reporting "
                            "scale; weights in percent).", label="tbl-study-results", sortable=True)
    _display(t)
    return t


@_shows
def independent(package, *, review="auto"):
    """The second, independent extraction beside the review's data, value by value."""
    from .paths import load as load_pkg

    pkg = load(package)
    rv = review_for(pkg, review)
    if rv.independent is None or not rv.independent.exists():
        _display(Note("This book has no second extraction to compare with.", "note"))
        return None
    other = load_pkg(rv.independent)
    rows = reproduce.compare_extractors(pkg, other, reproduce.read_csv(rv.independent_map))
    agree = sum(1 for r in rows if r[6] == "yes")
    trials = sorted({r[0] for r in rows})
    _glue("ind_values", str(len(rows)))
    _glue("ind_agree", str(agree))
    _glue("ind_trials", str(len(trials)))
    _glue("ind_trial_names", ", ".join(trials) or "none")
    if not rows:
        _display(Note("No trial is in both packages.", "note"))
        return None
    t = Table(["Study", "Our analysis", "Review's analysis", "Value", "Ours", "Review's", "Agree", "Why they differ"],
              rows, caption="Our independent extraction beside the review's data rows, value by value.",
              label="tbl-independent")
    _display(t)
    return t
