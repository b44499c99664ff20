"""Book sections: the analyses a section claims (by the review file's rules),
recomputed with the notebook's settings, and the section's tables and figures.

Notebooks call ``sec = book.section(package, key, review=review, ...)`` and
then one method per output (``sec.summary_table()``, ``sec.forest_plots()``,
...).  Each method returns one deterministic output and glues the numbers the
prose quotes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..engine import pooling
from ..engine.report import fmt, fmt_ci, fmt_p
from ..package import analysis as an
from ..package.schema import Package
from ..views.tables import Figure, Note, Table, cached_figure
from . import review as rv
from .glue import _display, _glue, _shows, slug
from .paths import load


def engine_settings(model="package", estimator="package", ci_method="package", level=0.95) -> dict:
    """Notebook settings as keyword arguments of :func:`reviewbook.package.analysis.run`;
    ``"package"`` (or None) means: as each analysis stores it."""
    def pick(v):
        return None if v in (None, "package") else v

    return dict(model=pick(model), estimator=pick(estimator), ci_method=pick(ci_method), level=level)


def review_for(pkg: Package, review="auto") -> rv.Review:
    """``review``: a :class:`~reviewbook.book.review.Review`, a path, or ``"auto"``
    (``book/review.yml`` when it names the package, else the generic description)."""
    if isinstance(review, rv.Review):
        return review
    if review in (None, "", "auto"):
        return rv.for_package(pkg)
    return rv.for_package(pkg, Path(review) if Path(review).is_absolute() else _resolve(review))


def _resolve(path):
    from .paths import resolve

    return resolve(path)


def claim(pkg: Package, review="auto") -> dict:
    """Map every analysis id of ``pkg`` to a section key (first matching rule)."""
    return rv.claim(pkg, review_for(pkg, review))


def label_of(key: str) -> str:
    """The cross-reference label of a section page (``sec-ketamine-iv``)."""
    return "sec-" + key.replace("_", "-")


def measure_label(measure) -> str:
    return {"GEN": "Estimate", "GENR": "Ratio"}.get(measure, measure)


@dataclass
class Item:
    aid: str
    result: an.AnalysisResult | None
    reason: str = ""


class Section:
    """The analyses of one book section, recomputed with the notebook's settings."""

    def __init__(self, pkg: Package, key: str, *, review="auto", model="package", estimator="package",
                 ci_method="package", level=0.95, figures="figures"):
        """Settings given as ``"package"`` (or None) are taken from each analysis as stored."""
        self.pkg, self.key = pkg, key
        self.review = review_for(pkg, review)
        self.rule = self.review.rule(key)
        self.title = self.rule.title
        self.settings = engine_settings(model, estimator, ci_method, level)
        self.figures = Path(figures)
        owners = rv.claim(pkg, self.review)
        self.items = []
        for aid in pkg.analysis_ids():
            if owners[aid] != key:
                continue
            try:
                self.items.append(Item(aid, an.run(pkg, aid, **self.settings)))
            except an.NotComputable as exc:
                self.items.append(Item(aid, None, str(exc)))

    def computed(self):
        """Items with a pooled result."""
        return [it for it in self.items if it.result is not None and it.result.result is not None]

    # -------------------------------------------------------- tables
    @_shows
    def summary_table(self):
        """Table: every analysis of the section with its pooled result."""
        rows = []
        for it in self.items:
            s = self.pkg.analysis(it.aid)
            base = f"{self.key}_{slug(it.aid)}"
            if it.result is None:
                rows.append([it.aid, s.group_name, s.name, "", "", "not computable: " + it.reason, "", ""])
                continue
            ar = it.result
            n = len(ar.labels)
            if ar.result is None:
                rows.append([it.aid, s.group_name, s.name, f"0 of {n}", 0, "Not estimable", "", ar.engine_method])
                _glue(f"{base}_estimate", "Not estimable")
                continue
            r = ar.result
            effect = f"{measure_label(r.measure)} {fmt_ci(r)}"
            if not ar.totals and ar.subgroups is not None:
                effect = "subtotals only: " + "; ".join(f"{name} {fmt_ci(g)}" for name, g in ar.subgroups.groups)
            rows.append([it.aid, s.group_name, s.name, r.k if r.k == n else f"{r.k} of {n}", ar.participants,
                         effect, "" if r.i2 is None else f"{fmt(r.i2, 0)}%", ar.engine_method])
            _glue(f"{base}_estimate", fmt(r.estimate))
            _glue(f"{base}_ci", f"{fmt(r.ci_low)} to {fmt(r.ci_high)}")
            _glue(f"{base}_k", str(r.k))
        _glue(f"{self.key}_n_analyses", str(len(rows)))
        if not rows:
            _display(Note(f"No analysis of the data package belongs to this section ({self.title}): "
                          "there are no data to pool.", "note"))
            return None
        t = Table(["Analysis", "Comparison", "Outcome", "Studies", "Participants", "Effect [95% CI]", "I²",
                   "Method"], rows,
                  caption=f"{self.title}: pooled results ({_settings_text(self.settings)}).",
                  label=f"tbl-{self.key}-summary")
        _display(t)
        return t

    @_shows
    def forest_plots(self):
        """One RevMan-style forest plot per analysis (or 'Not estimable')."""
        from ..views.forest import forest_plot

        shown = 0
        for it in self.items:
            if it.result is None:
                continue
            s = it.result.settings
            title = f"Analysis {it.aid}. {s.group_name}: {s.name}" if s.group_name else f"Analysis {it.aid}. {s.name}"
            r = it.result.result
            if r is None:
                alt = f"Forest plot of analysis {it.aid}, {s.name}: no study is estimable."
            else:
                alt = (f"Forest plot of analysis {it.aid}, {s.name}: {r.k} studies, pooled "
                       f"{measure_label(r.measure)} {fmt(r.estimate)} (95% CI {fmt(r.ci_low)} to {fmt(r.ci_high)}).")
            _display(cached_figure(lambda ar=it.result, title=title: forest_plot(ar, title=title),
                                   str(self.figures / f"{self.key}_{slug(it.aid)}_forest.svg"),
                                   caption=f"Forest plot, analysis {it.aid}: "
                                           + (f"{s.group_name}, " if s.group_name else "") + f"{s.name}."
                                           + _repeat_note(it.result),
                                   label=f"fig-{self.key}-{slug(it.aid)}", alt=alt, tight=False,
                                   key_parts=("forest", title, it.result)))
            shown += 1
        if shown == 0:
            _display(Note("No analysis in this section has data to plot.", "note"))

    @_shows
    def subgroup_tests(self):
        """Subgroup analyses and the test for subgroup differences."""
        rows = []
        for it in self.computed():
            ar = it.result
            if ar.subgroups is None:
                continue
            sg = ar.subgroups
            for name, r in sg.groups:
                rows.append([it.aid, name, r.k, fmt_ci(r), "" if r.i2 is None else f"{fmt(r.i2, 0)}%"])
            t = sg.test
            if not ar.totals:
                test = "not shown: the review gives subtotals only"
            elif t is None:
                test = "n/a (one subgroup)"
            else:
                test = f"Chi² = {fmt(t.q)}, df = {t.df}, {fmt_p(t.p)}"
            rows.append([it.aid, "Test for subgroup differences", len(sg.groups), test,
                         "" if t is None or t.i2 is None or not ar.totals else f"{fmt(t.i2, 0)}%"])
        if not rows:
            _display(Note("No analysis in this section has subgroups.", "note"))
            return None
        tab = Table(["Analysis", "Subgroup", "Studies", "Effect [95% CI] / test", "I²"], rows,
                    caption=f"{self.title}: subgroups and the test for subgroup differences.",
                    label=f"tbl-{self.key}-subgroups")
        _display(tab)
        return tab

    @_shows
    def sensitivity(self):
        """Fixed vs random effects, tau² estimators, HKSJ, and leave-one-out."""
        rows, loo = [], []
        for it in self.computed():
            ar = it.result
            if not ar.totals and ar.subgroups is not None:
                continue  # no overall total to vary
            base = dict(level=self.settings["level"])
            variants = [("Fixed effect", dict(model="fixed")), ("Random, DL", dict(model="random", estimator="DL")),
                        ("Random, REML", dict(model="random", estimator="REML")),
                        ("Random, REML + HKSJ", dict(model="random", estimator="REML", ci_method="HKSJ"))]
            for label, kw in variants:
                r = an.run(self.pkg, it.aid, **{**base, **kw}).result
                rows.append([it.aid, label, r.k, fmt_ci(r), "" if r.tau2 is None else fmt(r.tau2, 3),
                             "; ".join(r.notes)])
            if ar.result.k >= 2:
                es = an.effect_sizes(ar.settings, self.pkg.rows_of(it.aid), labels=ar.labels)
                for study, r in pooling.leave_one_out(es, ar.engine_method, hksj=ar.hksj,
                                                      level=self.settings["level"]):
                    loo.append([it.aid, study, r.k, fmt_ci(r), "" if r.i2 is None else f"{fmt(r.i2, 0)}%"])
        if not rows:
            _display(Note("No analysis in this section can be recomputed with other models.", "note"))
            return None
        _display(Table(["Analysis", "Model", "Studies", "Effect [95% CI]", "Tau²", "Note"], rows,
                       caption=f"{self.title}: sensitivity to the model and CI method.",
                       label=f"tbl-{self.key}-sensitivity"))
        if loo:
            _display(Table(["Analysis", "Study omitted", "Studies", "Effect [95% CI]", "I²"], loo,
                           caption=f"{self.title}: leave-one-out analyses.", label=f"tbl-{self.key}-loo"))
        else:
            _display(Note("Leave-one-out analysis needs at least two studies; no analysis here has two.", "note"))

    # -------------------------------------------------------- few-study methods
    def _pain(self, it) -> bool:
        """Whether an analysis is a pain-intensity mean difference (review file's
        ``pain_outcome``; without a review file, any mean difference)."""
        ar = it.result
        if ar.result is None or ar.result.measure != "MD":
            return False
        pattern = self.review.pain_outcome
        return bool(re.search(pattern, ar.settings.name, re.I)) if pattern else True

    @_shows
    def bayesian(self):
        """Bayesian random-effects sensitivity rows beside the DL result (k >= 2):
        two half-normal priors on tau, the posterior median and 95% CrI of the
        effect, P(effect < -MCID) for pain (review file's ``mcid``) and P(effect < 0)."""
        from ..engine import bayes as by

        rows = []
        mcid = self.review.mcid
        for it in self.computed():
            ar = it.result
            if ar.result.k < 2 or not ar.totals or not self._pain(it):
                continue
            r = ar.result
            es = an.effect_sizes(ar.settings, self.pkg.rows_of(it.aid), labels=ar.labels)
            dl = pooling.meta(es, "DL")
            rows.append([it.aid, "DerSimonian-Laird (frequentist)", r.k, f"{fmt_ci(dl)}",
                         "" if dl.tau is None else fmt(dl.tau, 2), "", ""])
            for label, scale in tau_priors(ar):
                fit = by.bayes(es.yi, es.vi, tau_prior=("halfnormal", scale))
                below = "" if mcid is None else fmt(by.prob_mu_below(fit, -float(mcid)), 3)
                rows.append([it.aid, f"Bayes, tau ~ half-normal({fmt(scale, 2)}) [{label}]", r.k,
                             f"{fmt(fit.mu)} [{fmt(fit.mu_low)}, {fmt(fit.mu_high)}]",
                             f"{fmt(fit.tau, 2)} [{fmt(fit.tau_low, 2)}, {fmt(fit.tau_high, 2)}]",
                             below, fmt(fit.p_mu_below_0, 3)])
                _glue(f"{self.key}_{slug(it.aid)}_bayes_{label}_p_mcid", below)
        if not rows:
            _display(Note("No pain-intensity analysis of this section has two or more studies, so there is "
                          "no Bayesian sensitivity analysis.", "note"))
            return None
        mc = "" if mcid is None else f"-{mcid:g}"
        t = Table(["Analysis", "Model", "Studies", "Effect: estimate [95% CI or CrI]", "Tau (posterior median [95% CrI])",
                   f"P(effect < {mc})" if mcid is not None else "P(effect < -MCID)", "P(effect < 0)"], rows,
                  caption=f"{self.title}: Bayesian random-effects meta-analysis beside DerSimonian-Laird "
                          "(uniform prior on the effect; tau priors as stated in the methods).",
                  label=f"tbl-{self.key}-bayes")
        _display(t)
        return t

    @_shows
    def trial_sequential(self, alpha=0.05, power=0.90):
        """Trial sequential analysis of each primary-outcome analysis (review file's
        ``primary_outcome``; pain, short term): cumulative z in the order of the
        studies' years, O'Brien-Fleming boundaries over the D²-adjusted required
        information size for an MD of ``mcid``, and the accrued information."""
        from ..engine import ris as ri
        from ..engine import sequential as sq
        from ..views.tsa import tsa_plot

        pattern = self.review.primary_outcome
        mcid = self.review.mcid
        shown = 0
        for it in self.computed():
            ar = it.result
            if pattern is None or mcid is None or not self._pain(it) or ar.subgroups is not None:
                continue
            if not re.search(pattern, ar.settings.name, re.I):
                continue
            rows = self.pkg.rows_of(it.aid)
            es = an.effect_sizes(ar.settings, rows, labels=ar.labels)
            arms = [rows.iloc[i] for i in es.index]
            years = [_year(a["Study year"]) for a in arms]
            order = sorted(range(es.k), key=lambda j: (years[j], j))
            yi, vi = es.yi[order], es.vi[order]
            n1 = [float(arms[j]["Experimental N"]) for j in order]
            n2 = [float(arms[j]["Control N"]) for j in order]
            sd1 = [float(arms[j]["Experimental SD"]) for j in order]
            sd2 = [float(arms[j]["Control SD"]) for j in order]
            info = ri.ris_md(yi, vi, n1, sd1, n2, sd2, delta=float(mcid), alpha=alpha, beta=1 - power)
            cz = sq.cumulative_z(yi, vi, method="DL")
            accrued = np.cumsum(np.add(n1, n2))
            frac = np.minimum(accrued / info.ris_adjusted, 1.0)
            # the boundary at the actual looks and, beyond the accrued information, at
            # ten further equally spaced looks up to the required information size
            # (Lan-DeMets boundaries at a look do not depend on later looks)
            future = np.linspace(frac[-1], 1.0, 11)[1:] if frac[-1] < 1 else np.array([])
            looks = np.unique(np.concatenate([frac, future]))
            bounds = sq.obrien_fleming_boundaries(looks, alpha=alpha)
            bz = np.interp(frac, looks, bounds.z)
            more = max(0.0, info.ris_adjusted - accrued[-1])
            base = f"{self.key}_{slug(it.aid)}_tsa"
            crossed = bool(np.any(np.abs(cz.z) >= bz))
            _glue(f"{base}_ris", fmt(info.ris_adjusted, 0))
            _glue(f"{base}_accrued", fmt(accrued[-1], 0))
            _glue(f"{base}_more", fmt(more, 0))
            sentence = (f"Analysis {it.aid}: {fmt(accrued[-1], 0)} participants have accrued of a diversity-adjusted "
                        f"required information size of {fmt(info.ris_adjusted, 0)} (D² = {fmt(100 * info.d2, 0)}%, "
                        f"SD {fmt(info.sd, 1)}, MD {mcid:g} points, two-sided alpha {alpha:g}, power {power:g}); "
                        + (f"a conclusive answer would need about {fmt(more, 0)} more participants"
                           if more > 0 else "the required information size has been reached")
                        + ("; the z-curve crosses a monitoring boundary." if crossed
                           else "; the z-curve crosses no monitoring boundary."))
            _glue(f"{base}_sentence", sentence)
            drawn = ([float(x) for x in accrued], [float(x) for x in cz.z],
                     [ar.labels[es.index[j]] for j in order], [float(x) for x in looks * info.ris_adjusted],
                     [float(x) for x in bounds.z], float(info.ris_adjusted),
                     f"Trial sequential analysis, analysis {it.aid}")
            _display(cached_figure(
                lambda d=drawn: tsa_plot(*d[:6], title=d[6]), str(self.figures / f"{self.key}_{slug(it.aid)}_tsa.svg"),
                caption=f"Trial sequential analysis of analysis {it.aid} ({ar.settings.name}).",
                label=f"fig-{self.key}-{slug(it.aid)}-tsa",
                alt=f"Cumulative z-curve of {es.k} studies against O'Brien-Fleming boundaries; "
                    f"{fmt(accrued[-1], 0)} of {fmt(info.ris_adjusted, 0)} required participants.",
                key_parts=drawn, tight=False))
            _display(Note(sentence, None))
            shown += 1
        if shown == 0:
            _display(Note("No primary-outcome analysis (pain intensity, short term) in this section, so there "
                          "is no trial sequential analysis.", "note"))

    @_shows
    def cumulative(self):
        """Cumulative meta-analysis of each primary-outcome analysis (review file's
        ``primary_outcome``; without subgroups, two or more studies): the pooled estimate after each study is added, in
        order of the studies' years (then row order), with the analysis's own
        method, CI method and level (:func:`reviewbook.engine.cumulative.cumulative`,
        validated against metafor's ``cumul()``).  A figure and a table per analysis."""
        from ..engine.cumulative import cumulative
        from ..views.cumulative import cumulative_plot

        pattern = self.review.primary_outcome
        shown = 0
        for it in self.computed():
            ar = it.result
            # one analysis per outcome: its subgroup analyses pool the same studies; one study has no history
            if (pattern is None or ar.subgroups is not None or ar.result.k < 2
                    or not re.search(pattern, ar.settings.name, re.I)):
                continue
            rows = self.pkg.rows_of(it.aid)
            es = an.effect_sizes(ar.settings, rows, labels=ar.labels)
            years = [_year(rows.iloc[i]["Study year"]) for i in es.index]
            order = sorted(range(es.k), key=lambda j: (years[j], j))
            steps = cumulative(es, ar.engine_method, order=order, hksj=ar.hksj, level=self.settings["level"])
            measure = measure_label(ar.result.measure)
            # the year in brackets unless the study's name carries it
            added = [s.study if years[j] == 9999 or str(years[j]) in s.study else f"{s.study} ({years[j]})"
                     for s, j in zip(steps, order)]
            table = [[i, a, s.k, f"{fmt(s.estimate)} [{fmt(s.ci_low)}, {fmt(s.ci_high)}]",
                      "" if s.tau2 is None else fmt(s.tau2, 3), "" if s.i2 is None else f"{fmt(s.i2, 0)}%"]
                     for i, (a, s) in enumerate(zip(added, steps), start=1)]
            first, last = steps[0], steps[-1]
            pct = int(round(self.settings["level"] * 100))
            alt = (f"Cumulative meta-analysis of analysis {it.aid}, {ar.settings.name}: the pooled {measure} after "
                   f"each of {len(steps)} studies added in order of year, from {fmt(first.estimate)} "
                   f"({pct}% CI {fmt(first.ci_low)} to {fmt(first.ci_high)}) with the first study to "
                   f"{fmt(last.estimate)} ({pct}% CI {fmt(last.ci_low)} to {fmt(last.ci_high)}) with all.")
            drawn = (tuple(added), tuple(s.k for s in steps), tuple(s.estimate for s in steps),
                     tuple(s.ci_low for s in steps), tuple(s.ci_high for s in steps), ar.result.measure,
                     ar.settings.label_left, ar.settings.label_right, f"Cumulative meta-analysis, analysis {it.aid}")
            _display(cached_figure(
                lambda d=drawn: cumulative_plot(*d[:6], label_left=d[6], label_right=d[7], title=d[8]),
                str(self.figures / f"{self.key}_{slug(it.aid)}_cumulative.svg"),
                caption=f"Cumulative meta-analysis of analysis {it.aid} ({ar.settings.name}): studies added "
                        f"in order of year, {pct}% CIs, {ar.engine_method} as in the analysis.",
                label=f"fig-{self.key}-{slug(it.aid)}-cumulative", alt=alt, key_parts=drawn, tight=False))
            _display(Table(["Step", "Study added", "Studies", f"{measure} [{pct}% CI]", "Tau²", "I²"], table,
                           caption=f"Cumulative meta-analysis of analysis {it.aid}: the pooled estimate after "
                                   "each study is added.",
                           label=f"tbl-{self.key}-{slug(it.aid)}-cumulative"))
            shown += 1
        if shown == 0:
            _display(Note("No primary-outcome analysis of this section pools two or more studies, so there is "
                          "no cumulative meta-analysis.", "note"))

    @_shows
    def small_study_effects(self):
        """Funnel plot and Egger's test for analyses with at least 10 studies."""
        from ..views.forest import funnel_plot

        shown = 0
        for it in self.computed():
            ar = it.result
            if ar.result.k < 10:
                continue
            es = an.effect_sizes(ar.settings, self.pkg.rows_of(it.aid), labels=ar.labels)
            e = pooling.egger(es)
            _display(Figure(funnel_plot(e, ar.result.measure, title=f"Analysis {it.aid}"),
                            str(self.figures / f"{self.key}_{slug(it.aid)}_funnel.svg"),
                            caption=f"Funnel plot, analysis {it.aid} (Egger's test: intercept {fmt(e.intercept)}, "
                                    f"t = {fmt(e.t)}, df = {e.df}, {fmt_p(e.p)}).",
                            label=f"fig-{self.key}-{slug(it.aid)}-funnel",
                            alt=f"Funnel plot of {e.df + 2} studies, effect against standard error."))
            shown += 1
        if shown == 0:
            _display(Note("No analysis in this section has 10 or more studies, so funnel plots and "
                          "Egger's test are not shown (too few studies to assess small-study effects).", "note"))

    @_shows
    def compare_published(self):
        """Our estimate beside the review's published one, where public."""
        from .reproduce import compare_published

        rows = compare_published(self.pkg, self.review, [it.aid for it in self.items], self.settings)
        if not rows:
            _display(Note("No published pooled estimate of the review is known for the analyses of this "
                          "section.", "note"))
            return None
        t = Table(["Analysis", "Outcome", "Published [95% CI]", "Certainty", "Ours [95% CI]", "Studies",
                   "Agreement"], rows,
                  caption=f"{self.title}: our estimates beside the review's published ones.",
                  label=f"tbl-{self.key}-published")
        _display(t)
        return t


def _repeat_note(ar) -> str:
    names = [lab for lab in ar.labels if lab.endswith(")") and " (" in lab]
    if not names:
        return ""
    return (" A study entered more than once (separate participant groups or arms) carries a number in "
            "brackets.")


def _year(text) -> int:
    m = re.search(r"(\d{4})", str(text))
    return int(m.group(1)) if m else 9999


#: Multiplier from SD units to the log odds ratio scale (Chinn 2000, Stat Med 19:3127).
LOG_OR_PER_SD = 1.81


def tau_priors(ar) -> list:
    """The two half-normal scales for tau, by the stated rule (methods page):
    Friede et al. (2017) recommend half-normal(0.5) and half-normal(1.0) for
    log odds ratios; on a mean-difference scale they are converted with
    Chinn's (2000) factor to SD units and multiplied by the participant-weighted
    pooled SD of the arms (the unit-information SD); for an SMD the SD is 1."""
    r = ar.result
    if r.measure in ("MD", "GEN"):
        from ..engine.ris import pooled_sd

        n1 = [a["Experimental N"] for a in ar.arms]
        n2 = [a["Control N"] for a in ar.arms]
        sd = pooled_sd(n1, [a["Experimental SD"] for a in ar.arms], n2, [a["Control SD"] for a in ar.arms])
        unit = sd / LOG_OR_PER_SD
    elif r.measure == "SMD":
        unit = 1.0 / LOG_OR_PER_SD
    else:
        unit = 1.0
    return [("weakly informative", 0.5 * unit), ("conservative", 1.0 * unit)]


def section(package, key, **kwargs) -> Section:
    """Open a book section on a package path (resolved from the repository root)."""
    return Section(load(package), key, **kwargs)


def _settings_text(st) -> str:
    if st["model"] is None and st["estimator"] is None and st["ci_method"] is None:
        return f"settings as stored in the package, {int(round(st['level'] * 100))}% level"
    model = ("model as stored" if st["model"] is None else "fixed effect" if st["model"] == "fixed"
             else "random effects")
    est = f", {st['estimator']}" if st["estimator"] and st["model"] != "fixed" else ""
    ci = f", {st['ci_method']} CI" if st["ci_method"] else ""
    return f"{model}{est}{ci}, {int(round(st['level'] * 100))}% level"
