"""Synthesis pages: the key findings (landing page), the summary of findings in
the Cochrane format, GRADE from the data beside the published certainty,
reproduction of RevMan's results and of the published estimates, and the second
extractor.  Every judgement comes from :mod:`reviewbook.appraisal` through
:func:`reviewbook.book.evidence.judged_all`."""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..appraisal.grade import LEVELS, SYMBOLS
from ..appraisal.sources import cite
from ..package.schema import Package
from ..views.tables import Note, Table, escape
from . import reproduce
from .evidence import judged_all
from .glue import _display, _glue, _shows, slug
from .paths import load
from .review import comparison_title
from .sections import effect_text, engine_settings, outcome_cell, review_for

#: GRADE's certainty levels, as the legend under a summary of findings states them
#: (Balshem et al. 2011, GRADE 3; Cochrane Handbook ch. 14).
LEGEND = {
    "high": "we are very confident that the true effect lies close to that of the estimate of the effect",
    "moderate": ("we are moderately confident in the effect estimate: the true effect is likely to be close to the "
                 "estimate of the effect, but there is a possibility that it is substantially different"),
    "low": ("our confidence in the effect estimate is limited: the true effect may be substantially different from "
            "the estimate of the effect"),
    "very low": ("we have very little confidence in the effect estimate: the true effect is likely to be "
                 "substantially different from the estimate of effect"),
}


@dataclass(frozen=True)
class Main:
    """A main comparison as the summary of findings and the key findings show it."""

    group: int
    title: str
    population: str
    setting: str
    intervention: str
    comparison: str
    outcomes: tuple
    key: tuple
    limits: str = ""
    stated: bool = True  # named by the review file (False: picked by the stated rule)


#: The rule that picks the main comparisons and outcomes (stated on the methods page and
#: under the key findings); sensitivity and subgroup analyses are found by
#: reviewbook.appraisal.roles (SECONDARY_RULE).
RULE = ("every comparison of the package, in its order; as its outcomes, the first seven of its analyses that are "
        "neither sensitivity nor subgroup analyses, in the package's order (Cochrane reviews list the primary outcomes "
        "first), the last of them replaced by the first harm when none is among them; as key findings, its first such "
        "analysis that is not a harm (its main outcome) and its first harm (the harms section's rule); a review file "
        "may name the comparisons, outcomes and key findings instead, and any it names that is a sensitivity or "
        "subgroup analysis is left out")


def main_comparisons(pkg: Package, rv, judged) -> list:
    """The review file's ``summary_of_findings``, or the stated :data:`RULE`; never a
    sensitivity or subgroup analysis (:func:`reviewbook.appraisal.roles.secondary_analyses`)."""
    from ..appraisal.roles import secondary_analyses
    from .review import claim

    secondary = secondary_analyses(pkg)
    if rv.summary:
        out = []
        for m in rv.summary:
            ids = [a for a in m.outcomes if a in judged and a not in secondary]
            if not ids:
                continue
            s = judged[ids[0]].settings
            out.append(Main(m.group, m.title or s.group_name or comparison_title(pkg, m.group), m.population,
                            m.setting,
                            m.intervention or s.experimental_label, m.comparison or s.control_label, tuple(ids),
                            tuple(a for a in m.key if a in judged and a not in secondary), m.limits))
        return out
    owners = claim(pkg, rv)
    groups = {}
    for aid, it in judged.items():
        if aid in secondary or (it.appraisal is not None and it.appraisal.parent):
            continue
        groups.setdefault(int(aid.split(".")[0]), []).append(aid)
    out = []
    for g, every in groups.items():
        ids = every[:7]
        s = judged[ids[0]].settings
        harm = [a for a in every if rv.rule(owners[a]).kind == "harms"]
        benefit = [a for a in every if a not in harm]
        key = tuple(x for x in (benefit[:1] + harm[:1]))
        if harm and harm[0] not in ids:  # a summary of findings includes a harm (Handbook 5.1, 11.5.6.2)
            ids = ids[:6] + [harm[0]]
        out.append(Main(g, s.group_name or comparison_title(pkg, g), "not stated in the data package",
                        "not stated in the data package", s.experimental_label, s.control_label, tuple(ids), key,
                        "", False))
    return out


def _letters():
    import string

    for c in string.ascii_lowercase:
        yield c
    for c in string.ascii_lowercase:
        for d in string.ascii_lowercase:
            yield c + d


class Footnotes:
    """Keyed footnotes: the same text gets the same letter (a note that would repeat
    on every row is one note)."""

    def __init__(self):
        self.keys, self._gen = {}, _letters()

    def mark(self, texts) -> str:
        out = []
        for t in texts:
            if t not in self.keys:
                self.keys[t] = next(self._gen)
            out.append(self.keys[t])
        return ",".join(out)

    def notes(self):
        return [(k, t) for t, k in self.keys.items()]


def _certainty_cell(a, fn: Footnotes, published: str | None = None) -> str:
    """Our rating with its footnote marks, and the review's own published rating
    beside it where the review file states one ('published: low')."""
    g = a.grade
    marks = fn.mark(g.footnotes())
    return (f"{g.symbols} {g.label}" + (f" [{marks}]" if marks else "")
            + (f" (published: {published})" if published else ""))


def _cannot_say(main: Main, judged, shown=()) -> str:
    """What the evidence cannot say, from the data: the comparison's outcomes
    that are not estimable or whose evidence is of very low certainty (their
    statement says the evidence is very uncertain), leaving out those shown as
    findings above it, so that no analysis is both."""
    if main.limits:
        return main.limits
    from ..appraisal.statements import outcome_phrase
    from .plain import plain_outcome

    parts = []
    for aid in main.outcomes:
        if aid in shown:
            continue
        it = judged[aid]
        a = it.appraisal
        name = plain_outcome(outcome_phrase(it.settings, False))
        single = ", a single study" if a is not None and a.count.k == 1 else ""
        why = ("not estimable" if it.pooled is None else
               f"very low certainty{single}" if a.grade.certainty == "very low" else None)
        if why:
            parts.append(f"{name} (analysis {aid}: {why})")
    if not parts:
        return ""
    return "The evidence says little about " + "; ".join(parts) + "."


def main_harm(pkg: Package, rv, judged, main: Main) -> str | None:
    """The comparison's main harm: its first key outcome that a harms section
    claims, else the first such outcome of its summary of findings, else the
    first analysis of the comparison that a harms section claims (an estimable
    one first); None when the comparison has no harm analysis."""
    from .review import claim

    owners = claim(pkg, rv)

    def harm(aid):
        return aid in owners and rv.rule(owners[aid]).kind == "harms"
    for ids in (main.key, main.outcomes):
        hit = [a for a in ids if a in judged and harm(a)]
        if hit:
            return hit[0]
    group = [a for a in pkg.analysis_ids() if a.split(".")[0] == str(main.group) and harm(a) and a in judged
             and not (judged[a].appraisal is not None and judged[a].appraisal.parent)]
    estimable = [a for a in group if judged[a].pooled is not None]
    return (estimable or group or [None])[0]


def _finding(it, rv, terms, harm: bool):
    """One bullet of the key findings: the statement, the effect in the reader's
    units (and as the review reports it), participants (studies), certainty."""
    from ..views.tables import Markup
    from .plain import effect_in_units, plain_outcome

    a, aid = it.appraisal, it.aid
    lead = "Harm: " if harm else ""
    if it.pooled is None:
        text = f"{lead}{plain_outcome(it.settings.name)} (analysis {aid}): not estimable; {a.count.text()}."
        return [(Markup(terms.words(text), text), False)]
    statement = plain_outcome(a.statement).rstrip(".")
    md, text = effect_in_units(it, rv, terms)
    cert = f"{a.grade.symbols} {a.grade.certainty} certainty"
    count = a.count.text()
    return [(Markup(escape(lead) + terms.words(statement) + ": ", lead + statement + ": "), False),
            (Markup(md, text), True),
            (Markup(" [" + terms.words(effect_text(it.pooled)) + "]; " + terms.words(count) + "; ",
                    f" [{effect_text(it.pooled)}]; {count}; "), False),
            (Markup(terms.link("GRADE", cert), cert), True),
            (f" (analysis {aid}).", False)]


def bottom_line(main: Main, judged, rv, benefit: str | None, harm: str | None, terms) -> tuple:
    """``(markdown, text)``: the comparison in one sentence of plain words, as
    the Cochrane Library's plain-language summaries give it: the main benefit
    outcome's statement with its effect in the reader's units and certainty,
    then the main harm's (or that the review has no harm data for it)."""
    from .plain import effect_in_units, plain_outcome

    def clause(aid, first):
        it = judged[aid]
        if it.pooled is None:
            from ..appraisal.statements import in_sentence

            t = f"{in_sentence(plain_outcome(it.settings.name))} could not be estimated (analysis {aid})"
            return terms.words(t), t
        a = it.appraisal
        st = plain_outcome(a.statement).rstrip(".")
        if not first and len(st) > 1 and st[0].isupper() and st[1].islower():
            st = st[0].lower() + st[1:]
        md, text = effect_in_units(it, rv, terms)
        return (f"{terms.words(st)} ({md}; {escape(a.grade.certainty)} certainty)",
                f"{st} ({text}; {a.grade.certainty} certainty)")

    parts = [clause(a, i == 0) for i, a in enumerate(x for x in (benefit, harm) if x)]
    if not parts:
        return "", ""
    if harm is None:
        parts.append(("no analysis of the review reports a harm for this comparison",) * 2)
    md = "**In short:** " + ", and ".join(p[0] for p in parts) + "."
    text = "In short: " + ", and ".join(p[1] for p in parts) + "."
    return md, text


@_shows
def key_findings(package, *, review="auto", **settings):
    """The review's answer first: for each main comparison, a bottom line in
    plain words (benefit, harm, certainty), then its key outcomes and its main
    harm as GRADE narrative statements with the effect in the reader's units,
    participants (studies) and certainty, and one line on what the evidence
    cannot say (never an analysis shown above it).  Glued for the prose."""
    from ..views.details import Findings
    from ..views.tables import Markup
    from .plain import Terms
    from .review import claim

    pkg = load(package)
    rv = review_for(pkg, review)
    judged = judged_all(pkg, rv, engine_settings(**settings))
    mains = main_comparisons(pkg, rv, judged)
    owners = claim(pkg, rv)
    terms = Terms()
    groups, on_page = [], []
    for m in mains:
        harm = main_harm(pkg, rv, judged, m)
        shown = [a for a in m.key if a in judged]
        if harm is not None and harm not in shown:
            shown.append(harm)
        on_page += shown
        # the bottom line first: terms are linked where the page first uses them
        benefit = next((a for a in shown if a != harm and rv.rule(owners[a]).kind != "harms"
                        and judged[a].pooled is not None), None)
        md, text = bottom_line(m, judged, rv, benefit, harm, terms)
        bullets = []
        for aid in shown:
            it = judged[aid]
            bullets.append(_finding(it, rv, terms, aid == harm))
            if it.pooled is None:
                continue
            a = it.appraisal
            _glue(f"key_{slug(aid)}_effect", effect_text(it.pooled))
            _glue(f"key_{slug(aid)}_certainty", a.grade.label)
            _glue(f"key_{slug(aid)}_statement", a.statement)
        if bullets:
            groups.append((m.title, bullets, _cannot_say(m, judged, shown), Markup(md, text) if md else ""))
    _glue("key_n_comparisons", str(len(groups)))
    if not groups:
        _display(Note("No main comparison of this package has an analysis with data.", "note"))
        return None
    _display(Findings(groups, name="key-findings"))
    how = ("The main comparisons and outcomes are those the review names" if rv.summary else
           "The main comparisons and outcomes are picked by a stated rule: " + RULE)
    _display(Note(f"{how}. Certainty of the evidence by GRADE, from the data, by the rules of the methods page. The "
                  "summary of findings gives every critical outcome with its footnotes; the glossary explains the "
                  "terms.", None))


@_shows
def summary_of_findings(package, *, review="auto", **settings):
    """One summary of findings table per main comparison in the Cochrane format
    (Cochrane Handbook ch. 14; GRADEpro), then every other analysis in one table."""
    pkg = load(package)
    rv = review_for(pkg, review)
    judged = judged_all(pkg, rv, engine_settings(**settings))
    mains = main_comparisons(pkg, rv, judged)
    published = _published_certainty(rv)
    shown = set()
    from ..views.details import Block

    # the legend and the page's contents first: each comparison's table is one click away
    _display(Note("GRADE certainty: " + "; ".join(f"{SYMBOLS[lv]} {lv.capitalize()}: {LEGEND[lv]}"
                                                 for lv in reversed(LEVELS))
                  + f" ({cite('grade3', 'handbook-ch14')}). 'Published': the review's own rating of the outcome, "
                    "where it is public.", None))
    if mains:
        items = [f"- {{ref}}`{_ref_title(m.title)} <sof-{m.group}>`" for m in mains]
        items.append("- {ref}`Every analysis of the review <sof-all>`")
        text = "On this page:\n" + "\n".join(f"- {m.title}" for m in mains) + "\n- Every analysis of the review"
        _display(Block("On this page:\n\n" + "\n".join(items), text))
    for i, m in enumerate(mains):
        fn = Footnotes()
        rows = []
        for aid in m.outcomes:
            it = judged[aid]
            a = it.appraisal
            shown.add(aid)
            outcome = f"{outcome_cell(it)} ({aid})"
            if it.pooled is None:
                marks = fn.mark(a.absolute.footnotes)
                rows.append([outcome, a.absolute.control, a.absolute.intervention + (f" [{marks}]" if marks else ""),
                             "not estimable", a.count.text(), "not assessed", "no statement: no effect estimate"])
                continue
            r = it.pooled
            abs_marks = fn.mark(a.absolute.footnotes)
            extra = fn.mark([n for n in (a.count.repeated_note(), *it.notes) if n])
            relative = effect_text(r) if r.is_ratio else "not applicable"
            rows.append([outcome + (f" [{extra}]" if extra else ""), a.absolute.control,
                         a.absolute.intervention + (f" [{abs_marks}]" if abs_marks else ""),
                         relative, a.count.text(), _certainty_cell(a, fn, published.get(aid, (None,))[0]),
                         a.statement])
            _glue(f"sof_{slug(aid)}_certainty", a.grade.certainty)
            _glue(f"sof_{slug(aid)}_statement", a.statement)
        from ..views.details import Findings

        header = Findings([(m.title, [[("Patient or population: ", True), (m.population or "not stated", False)],
                                      [("Setting: ", True), (m.setting or "not stated", False)],
                                      [("Intervention: ", True), (m.intervention, False)],
                                      [("Comparison: ", True), (m.comparison, False)]], "")])
        notes = fn.notes() + [("*", "The risk with the intervention (and its 95% CI) is based on the assumed risk with "
                                    "the comparison and the relative effect of the intervention (and its 95% CI); for "
                                    "continuous outcomes, the mean difference.")]
        from ..views.details import Notes
        from ..views.tables import Dropdown

        table = Table(["Outcome (scale direction; analysis)", f"Risk with {m.comparison}",
                       f"Risk with {m.intervention}*", "Relative effect (95% CI)", "Participants (studies)",
                       "Certainty of the evidence (GRADE)", "Comments"], rows,
                      caption=f"Summary of findings: {m.title}.", label=f"tbl-sof-{m.group}", stacked=True)
        notes_box = Dropdown(f"Footnotes of this table ({notes[0][0]} to {notes[-2][0]}, *): the reasons for each "
                             "rating and the assumed risks" if len(notes) > 1 else "Footnote of this table (*)",
                             [Notes(notes)], name=f"sof-notes-{m.group}")
        # the first comparison open, the others one click away (the page stays short on a phone)
        _display(Dropdown(m.title, [header, table, notes_box], open=i == 0, name=f"sof-{m.group}"))
    _all_analyses(judged, shown, rv)


def _ref_title(text: str) -> str:
    """Text safe as the explicit title of a ``{ref}`` role (no backticks or angle brackets)."""
    return re.sub(r"[`<>]", "", text)


def _all_analyses(judged, shown, rv):
    rows, views = [], []
    for aid, it in judged.items():
        a = it.appraisal
        if a is not None and a.parent:
            views.append(f"{aid} (of {a.parent})")
            continue
        if it.result is None:
            rows.append([aid, it.settings.group_name, it.settings.name, "not computable", "", "", ""])
            continue
        if it.pooled is None:
            rows.append([aid, it.settings.group_name, outcome_cell(it), "Not estimable", a.count.text(),
                         "not estimable", ""])
            continue
        rows.append([aid, it.settings.group_name, outcome_cell(it), effect_text(it.pooled), a.count.text(),
                     a.grade.label, a.statement])
    notes = []
    if views:
        notes.append(("Subgroup analyses", "shown with the outcome whose studies they split, on the section pages: "
                                           + ", ".join(views) + "."))
    from ..views.tables import Dropdown

    _display(Dropdown(f"Every analysis of the review ({len(rows):,}), with its effect, certainty and statement", [
        Table(["Analysis", "Comparison", "Outcome", "Effect (95% CI)", "Participants (studies)", "Certainty",
               "What the evidence says"], rows,
              caption="All analyses of the review (subgroup analyses are shown with their outcome).",
              label="tbl-all-analyses", notes=notes, sortable=True)], name="sof-all"))


@_shows
def grade_from_data(package, *, review="auto", **settings):
    """Each GRADE domain from the data, beside the review's published certainty
    where it is public, saying why they differ."""
    pkg = load(package)
    rv = review_for(pkg, review)
    judged = judged_all(pkg, rv, engine_settings(**settings))
    published = _published_certainty(rv)
    rows = []
    agree = 0
    for aid, (cert, _src) in published.items():
        it = judged.get(aid)
        if it is None or it.pooled is None:
            continue
        g = it.appraisal.grade
        dom = {d.name: d.verdict + (f" (−{d.levels})" if d.levels else "") for d in g.domains}
        same = g.certainty == cert
        agree += same
        rows.append([aid, it.settings.name, dom["risk of bias"], dom["inconsistency"], dom["indirectness"],
                     dom["imprecision"], dom["publication bias"], g.label, cert, why_differ(g, cert)])
    _glue("grade_compared", str(len(rows)))
    _glue("grade_agree", str(agree))
    if not rows:
        _display(Note("The review's certainty is not public for any analysis of this package, so there is "
                      "nothing to set our ratings beside.", "note"))
        return None
    t = Table(["Analysis", "Outcome", "Risk of bias", "Inconsistency", "Indirectness", "Imprecision",
               "Publication bias", "Ours", "Published", "Why they differ"], rows,
              caption="GRADE from the data, domain by domain, beside the review's published certainty (the review's "
                      "own reasons per domain are not public).", label="tbl-grade-from-data")
    _display(t)
    return t


def _domains_said(g) -> str:
    """'risk of bias once (no result has a full RoB 2 judgement) and imprecision
    twice (…)': the domains we rated down, in words."""
    times = {1: "once", 2: "twice", 3: "three times"}
    parts = [f"{d.name} {times[d.levels]}" + (f" ({d.why})" if d.why else "") for d in g.domains if d.levels]
    if not parts:
        return "no domain"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def why_differ(g, published: str) -> str:
    """One sentence: agree or disagree with the review's published rating, then
    why, from our domains (the review's own reasons per domain are not public, so
    they are never guessed)."""
    said = _domains_said(g)
    if published not in LEVELS:
        return (f"Cannot compare: the published rating '{published}' is not a GRADE level; ours is {g.certainty}, "
                f"rating down {said}.")
    if g.certainty == published:
        return f"Agree: both {published}; we rate down {said}."
    ours, theirs = LEVELS.index(g.certainty), LEVELS.index(published)
    gap = abs(ours - theirs)
    lower = "lower" if ours < theirs else "higher"
    return (f"Disagree: ours is {g.certainty}, {'one level' if gap == 1 else f'{gap} levels'} {lower} than the "
            f"review's {published}, because we rate down {said}; the review's reasons per domain are not public, so "
            "which of these it judged differently cannot be checked.")


def _published_certainty(review) -> dict:
    out = {}
    for p in reproduce.read_csv(review.published):
        if p.get("analysis") and p.get("certainty"):
            out[p["analysis"].strip()] = (p["certainty"].strip(), p.get("source", "").strip())
    return out


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


def _in_words(text) -> str:
    """The settings files' generic measure codes in the package's words ('GENR' -> 'Generic
    (ratio, log scale)'): a reader never sees an internal code."""
    import re

    from ..package.schema import MEASURE_NAMES

    return re.sub(r"\bGENR?\b", lambda m: MEASURE_NAMES[m.group(0)].lower() if m.start() else MEASURE_NAMES[m.group(0)],
                  str(text))


#: What each status of the settings inference means, as a reader reads it
#: (``reviewbook.package.infer``'s statuses).
STATUS_WORDS = {
    "inferred": "inferred: one setting reproduces RevMan's values",
    "tie-broken": ("several settings reproduce RevMan's values equally; the review's most common settings for "
                   "this data type are used"),
    "not identifiable": "no setting reproduces every stored value; the closest is used",
    "stored": "stored in the package",
}


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
            rows.append([r["analysis"], r["data_type"], _in_words(r["measure"]), r["method"], r["model"],
                         r["estimator"], r["status"], _in_words(ev.get(r["analysis"], ""))])
        cap = ("Settings of every analysis, inferred from RevMan's stored per-study results (the package has no "
               "settings file), with the evidence.")
    counts = {}
    for r in rows:
        counts[r[6]] = counts.get(r[6], 0) + 1
    for k in ("inferred", "tie-broken", "not identifiable", "stored"):
        _glue(f"settings_{slug(k)}", str(counts.get(k, 0)))
    rows = [r[:6] + [STATUS_WORDS.get(r[6], r[6])] + r[7:] for r in rows]
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
