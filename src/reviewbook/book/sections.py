"""Book sections: the analyses a section claims (by the review file's rules),
recomputed with the notebook's settings and judged by the appraisal layer, laid
out in layers.

Notebooks call ``sec = book.section(package, key, review=review, ...)`` and
then one method per output:

* ``sec.main_outcomes()``: the answer first, one row per outcome (subgroup
  views sit under their parent, never as outcomes of their own): effect, CI,
  participants (studies), certainty and the GRADE narrative statement;
* ``sec.details()``: one collapsed block per outcome with its forest plot, its
  subgroup views with the test for subgroup differences and its credibility,
  the sensitivity analyses, the Bayesian analysis, and for the review's primary
  outcome the trial sequential analysis;
* ``sec.small_study_effects()`` and ``sec.compare_published()``.

Each method returns one deterministic output and glues the numbers the prose
quotes.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..appraisal.sources import cite
from ..engine import pooling
from ..engine.report import fmt, fmt_effect, fmt_i2, fmt_p, measure_text
from ..package import analysis as an
from ..package.patterns import search as search_pattern
from ..package.schema import Package
from ..views.tables import Dropdown, Figure, Note, Table, cached_figure
from . import review as rv
from .evidence import Judged, judged_all, plain_hksj_narrower
from .glue import _display, _glue, _shows, slug
from .pages import rob_of_analysis
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


#: Two DerSimonian-Laird estimators appear on a page, named apart: RevMan's 'M-H, Random'
#: (tau² from Q about the Mantel-Haenszel estimate) and the inverse-variance one (tau² from Q
#: about the inverse-variance fixed-effect estimate), the frequentist twin of the Bayesian model.
DL_LABELS = {"MH-DL": "Random, M-H with DerSimonian-Laird τ² (RevMan)",
             "DL": "Random, inverse-variance DerSimonian-Laird"}


def measure_label(r) -> str:
    """The measure of a pooled result (or a measure code) as a reader sees it, never an internal code."""
    if isinstance(r, str):
        return measure_text(r)
    return measure_text(r.measure, r.label)


def effect_text(r) -> str:
    """'MD -15.79 (-32.09 to 0.51)': measure, estimate and CI to 2 decimals."""
    return fmt_effect(r.measure, r.estimate, r.ci_low, r.ci_high, label=r.label)


def pi_text(r) -> str:
    """'prediction interval -40.12 to 8.54' (Cochrane Handbook 10.10.4.3: mu +/- t(k-2)
    sqrt(tau² + SE²), on the reporting scale) for a random-effects result of at least 3
    estimates; '' otherwise (fewer estimates, or a fixed-effect model, which has no tau²)."""
    if r is None or r.pi_low is None or r.pi_high is None:
        return ""
    return f"{int(round(100 * r.level))}% prediction interval {fmt(r.pi_low)} to {fmt(r.pi_high)}"


def effect_cell(r) -> str:
    """The effect with its CI and, where there is one, its prediction interval."""
    pi = pi_text(r)
    return effect_text(r) + (f"; {pi}" if pi else "")


def studies_word(n: int) -> str:
    return f"{n} {'study' if n == 1 else 'studies'}"


def outcome_cell(it: Judged) -> str:
    """The outcome with its instrument and which way is better, for tables."""
    a = it.appraisal
    name = it.settings.name
    if a is None:
        return name
    return f"{name} ({a.direction.scale_text})"


#: A section's table of main outcomes longer than this (rows) is shown as one
#: table per comparison, each folded under its name (a phone shows each row as a card).
MAX_MAIN_ROWS = 12


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
        judged = judged_all(pkg, self.review, self.settings)
        self.items = [judged[aid] for aid in pkg.analysis_ids() if owners[aid] == key]
        mine = {it.aid for it in self.items}
        self.children = {}
        self.main = []
        for it in self.items:
            parent = it.appraisal.parent if it.appraisal is not None else None
            if parent in mine:
                self.children.setdefault(parent, []).append(it)
            else:
                self.main.append(it)

    def computed(self):
        """Items with a pooled result."""
        return [it for it in self.items if it.pooled is not None]

    # -------------------------------------------------------- the answer first
    @_shows
    def main_outcomes(self):
        """One row per outcome: effect, participants (studies), certainty and the
        narrative statement; absolute effects too on a harms page."""
        harms = self.rule.kind == "harms"
        rows, notes = [], {}
        for it in self.main:
            base = f"{self.key}_{slug(it.aid)}"
            a = it.appraisal
            if it.result is None:
                rows.append([it.aid, it.settings.name, "not computable: " + it.reason, "", "not assessed", ""]
                            + ([""] if harms else []))
                continue
            r = it.pooled
            if r is None:
                _glue(f"{base}_estimate", "Not estimable")
                row = [it.aid, outcome_cell(it), "Not estimable", a.count.text(), "not estimable", ""]
                if harms:
                    row.append(f"{a.absolute.control} with control, {a.absolute.intervention} with intervention")
                rows.append(row)
                continue
            row = [it.aid, outcome_cell(it), effect_cell(r), a.count.text(), a.grade.label, a.statement]
            if harms:
                row.append(_absolute_cell(a.absolute))
            rows.append(row)
            if a.count.repeated:
                notes.setdefault(a.count.repeated_note(), []).append(it.aid)
            for n in it.notes:
                notes.setdefault(n, []).append(it.aid)
            _glue(f"{base}_estimate", fmt(r.estimate))
            _glue(f"{base}_ci", f"{fmt(r.ci_low)} to {fmt(r.ci_high)}")
            _glue(f"{base}_pi", f"{fmt(r.pi_low)} to {fmt(r.pi_high)}" if pi_text(r) else "not applicable")
            _glue(f"{base}_k", str(a.count.k))
            _glue(f"{base}_certainty", a.grade.certainty)
            _glue(f"{base}_statement", a.statement)
        _glue(f"{self.key}_n_analyses", str(len(self.items)))
        _glue(f"{self.key}_n_outcomes", str(len(self.main)))
        if not rows:
            _display(Note(f"No analysis of the data package belongs to this section ({self.title}): "
                          "there are no data to pool.", "note"))
            return None
        header = ["Analysis", "Outcome", "Effect (95% CI); prediction interval", "Participants (studies)",
                  "Certainty", "What the evidence says"]
        if harms:
            header.append("Absolute effect per 1,000 (95% CI)")
        views = sorted(c.aid for cs in self.children.values() for c in cs)
        caption = (f"{self.title}: the outcomes, with the certainty of the evidence (GRADE, by the rules of the "
                   f"methods page) and what it means ({_settings_text(self.settings)}).")
        foot = [(", ".join(aids), text) for text, aids in notes.items()]
        foot.append(("Prediction interval", "where a random-effects analysis pools at least 3 studies: the range in "
                                            "which the effect in a new study like these is expected to lie, "
                                            "μ ± t(k − 2) √(τ² + SE²) (Cochrane Handbook ch. 10.10.4.3)."))
        if views:
            foot.append(("Subgroup analyses", f"{', '.join(views)} split the studies of an outcome above; each is "
                                              "shown in the details of its outcome, not as an outcome of its own."))
        groups = {}
        for row in rows:
            groups.setdefault(row[0].split(".")[0], []).append(row)
        if len(rows) <= MAX_MAIN_ROWS or len(groups) == 1:
            t = Table(header, rows, caption=caption, label=f"tbl-{self.key}-main", notes=foot, stacked=True)
            _display(t)
            return t
        # a long table (on a phone each row is a card): one table per comparison, the first open
        from .review import comparison_title

        first = None
        for i, (g, part) in enumerate(groups.items()):
            ids = {r[0] for r in part}
            name = next((it.settings.group_name for it in self.main if it.aid.split(".")[0] == g
                         and it.settings.group_name), "") or comparison_title(self.pkg, g)
            mine = [(k, v) for k, v in foot if k == "Subgroup analyses" or set(k.split(", ")) & ids]
            t = Table(header, part, caption=f"{caption[:-1]}; {name}.",
                      label=f"tbl-{self.key}-main" + ("" if i == 0 else f"-{g}"), notes=mine, stacked=True)
            first = first or t
            noun = "outcome" if len(part) == 1 else "outcomes"
            _display(Dropdown(f"{name}: {len(part)} {noun}", [t], open=i == 0))
        return first

    # -------------------------------------------------------- details, one block per outcome
    @_shows
    def details(self):
        """One collapsed block per outcome: forest plot, subgroup views, sensitivity,
        Bayesian analysis and (primary outcome) trial sequential analysis."""
        if not self.main:
            _display(Note("No analysis in this section has data to show.", "note"))
            return None
        for it in self.main:
            if it.result is None:
                continue
            parts = self._forest_parts(it)
            for child in self.children.get(it.aid, []):
                parts += self._subgroup_parts(child)
            if it.pooled is not None:
                parts += self._sensitivity_parts(it)
                parts += self._bayes_parts(it)
                parts += self._tsa_parts(it)
                parts += self._cumulative_parts(it)
            title = f"{it.aid} {it.settings.name}: forest plot" + (
                " and details" if len(parts) > 1 else "")
            _display(Dropdown(title, parts, name=f"details-{self.key}-{slug(it.aid)}"))

    def _forest_parts(self, it: Judged) -> list:

        s = it.settings
        a = it.appraisal
        title = f"Analysis {it.aid}. {s.group_name}: {s.name}" if s.group_name else f"Analysis {it.aid}. {s.name}"
        r = it.pooled
        labels = (a.direction.left, a.direction.right)
        if r is None:
            alt = f"Forest plot of analysis {it.aid}, {s.name}: no study is estimable."
        else:
            alt = (f"Forest plot of analysis {it.aid}, {s.name}: {studies_word(a.count.k)}, pooled "
                   f"{measure_label(r)} {fmt(r.estimate)} (95% CI {fmt(r.ci_low)} to {fmt(r.ci_high)}).")
        from .plain import scale_of

        scale = scale_of(it, self.review).text if r is not None and r.measure == "MD" else ""
        cap = (f"Forest plot, analysis {it.aid}: " + (f"{s.group_name}, " if s.group_name else "") + f"{s.name}. "
               + _direction_caption(a.direction, scale) + _repeat_note(it.result))
        rob = rob_of_analysis(self.pkg, it.aid)
        return [*self._forest_figure(it, title, labels, rob, cap, alt), *_forest_table(it, self.key)]

    def _forest_figure(self, it, title, labels, rob, cap, alt) -> list:
        from ..views.forest import forest_plot

        return [cached_figure(lambda ar=it.result, title=title, labels=labels, rob=rob: forest_plot(
                                  ar, title=title, labels=labels, rob=rob),
                              str(self.figures / f"{self.key}_{slug(it.aid)}_forest.svg"), caption=cap,
                              label=f"fig-{self.key}-{slug(it.aid)}", alt=alt, tight=False,
                              key_parts=("forest", title, labels, it.result, sorted(rob.items())),
                              interactive=True)]

    def _subgroup_parts(self, child: Judged) -> list:
        """A subgroup view: its forest plot, its subgroups with the test for subgroup
        differences, and the credibility points of the Cochrane Handbook (10.11)."""
        parts = self._forest_parts(child)
        ar = child.result
        if ar is None or ar.subgroups is None:
            return parts
        sg = ar.subgroups
        rows = []
        ks = []
        for name, r in sg.groups:
            k = len({str(a.get("Study")) for a, g in zip(ar.arms, ar.study_subgroup) if g == name})
            ks.append(k)
            rows.append([name, k, effect_text(r), fmt_i2(r.i2)])
        t = sg.test
        if not ar.totals:
            test = "not shown: the review gives subtotals only"
        elif t is None:
            test = "not applicable (one subgroup)"
        else:
            test = f"Chi² = {fmt(t.q)}, df = {t.df}, {fmt_p(t.p)}"
        rows.append(["Test for subgroup differences", len(sg.groups), test,
                     "" if t is None or t.i2 is None or not ar.totals else fmt_i2(t.i2)])
        parts.append(Table(["Subgroup", "Studies", "Effect (95% CI) / test", "I²"], rows,
                           caption=f"Analysis {child.aid}: subgroups and the test for subgroup differences.",
                           label=f"tbl-{self.key}-{slug(child.aid)}-subgroups"))
        parts.append(Note(credibility(child.settings.name, ks, self.review.appraisal), None))
        return parts

    def _sensitivity_parts(self, it: Judged) -> list:
        """Fixed vs random effects, tau² estimators and HKSJ, and leave-one-study-out."""
        ar = it.result
        k = it.appraisal.count.k
        if not ar.totals and ar.subgroups is not None:
            return []
        if k < 2:
            return [Note(f"Analysis {it.aid} has one study, so the models cannot differ: no sensitivity analysis.",
                         None)]
        base = dict(level=self.settings["level"])
        variants = [("Fixed effect", dict(model="fixed")), ("DL", dict(model="random", estimator="DL")),
                    ("Random, REML", dict(model="random", estimator="REML")),
                    ("Random, REML + HKSJ (ad hoc)", dict(model="random", estimator="REML", ci_method="HKSJ ad hoc"))]
        rows, notes = [], []
        for label, kw in variants:
            r = an.run(self.pkg, it.aid, **{**base, **kw}).result
            if label == "DL":
                label = DL_LABELS["MH-DL" if r.method == "MH-DL" else "DL"]
            rows.append([label, effect_text(r), "" if r.tau2 is None else fmt(r.tau2, 3)])
            notes += [n for n in r.notes if n not in notes]
            if r.hksj == "adhoc" and r.hksj_q is not None:
                plain = an.run(self.pkg, it.aid, **{**base, **kw, "ci_method": "HKSJ"}).result
                if r.hksj_q < 1:
                    span = f"{fmt(plain.ci_low)} to {fmt(plain.ci_high)}"
                    why = (f"and the plain Hartung-Knapp-Sidik-Jonkman interval ({span}) would be narrower than "
                           f"the Wald interval" if plain_hksj_narrower(r) else
                           f"so the ad hoc form differs from the plain Hartung-Knapp-Sidik-Jonkman interval ({span})")
                    notes.append(f"HKSJ: the variance factor q is {fmt(r.hksj_q, 2)}, below 1, {why}; the ad hoc "
                                 f"form, with factor 1, is shown, never narrower than the Wald interval "
                                 f"({cite('knapp2003', 'jackson2017')}).")
                else:
                    notes.append(f"HKSJ: the variance factor q is {fmt(r.hksj_q, 2)}, at least 1, so the ad hoc and "
                                 f"plain Hartung-Knapp-Sidik-Jonkman intervals are the same "
                                 f"({cite('knapp2003', 'jackson2017')}).")
        parts = [Table(["Model", "Effect (95% CI)", "Tau²"], rows,
                       caption=f"Analysis {it.aid}: sensitivity to the model and the CI method.",
                       label=f"tbl-{self.key}-{slug(it.aid)}-sensitivity",
                       notes=[("Note", n) for n in notes])]
        if k >= 3:
            es = an.effect_sizes(ar.settings, self.pkg.rows_of(it.aid), labels=ar.labels)
            clusters = [str(ar.arms[j].get("Study")) for j in range(len(ar.arms))]
            loo = []
            for study, r in pooling.leave_one_out(es, ar.engine_method, clusters=clusters, hksj=ar.hksj,
                                                  level=self.settings["level"]):
                loo.append([study, len({c for c in clusters if c != study}), effect_text(r), fmt_i2(r.i2)])
            parts.append(Table(["Study omitted", "Studies", "Effect (95% CI)", "I²"], loo,
                               caption=f"Analysis {it.aid}: leave-one-study-out (a study with several rows is "
                                       "omitted with all of them).",
                               label=f"tbl-{self.key}-{slug(it.aid)}-loo"))
        else:
            parts.append(Note("Leave-one-study-out needs at least three studies.", None))
        return parts

    def _bayes_parts(self, it: Judged) -> list:
        """Bayesian random effects beside DerSimonian-Laird (at least two studies):
        two half-normal priors on tau, the posterior median and 95% CrI, and the
        posterior probabilities of an effect beyond each MID threshold."""
        from ..engine import bayes as by

        ar = it.result
        a = it.appraisal
        r = it.pooled
        if a.count.k < 2 or not ar.totals or r.measure not in ("MD", "SMD", "RR", "OR", "RD", "HR"):
            return []
        es = an.effect_sizes(ar.settings, self.pkg.rows_of(it.aid), labels=ar.labels)
        dl = pooling.meta(es, "DL")
        ratio = r.is_ratio
        lo_t = hi_t = None
        if a.mid.assessed:
            lo_t = math.log(a.mid.low) if ratio else a.mid.low
            hi_t = math.log(a.mid.high) if ratio else a.mid.high
        rows = [[f"{DL_LABELS['DL']} (frequentist)", effect_text(dl), "" if dl.tau is None else fmt(dl.tau, 2), "", ""]]
        for label, scale in tau_priors(ar):
            fit = by.bayes(es.yi, es.vi, tau_prior=("halfnormal", scale))
            back = (lambda x: math.exp(x)) if ratio else (lambda x: x)
            below = "" if lo_t is None else fmt(by.prob_mu_below(fit, lo_t), 3)
            above = "" if hi_t is None else fmt(1 - by.prob_mu_below(fit, hi_t), 3)
            rows.append([f"Bayes, tau ~ half-normal({fmt(scale, 2)}) [{label}]",
                         f"{measure_label(r)} {fmt(back(fit.mu))} ({fmt(back(fit.mu_low))} to "
                         f"{fmt(back(fit.mu_high))})", f"{fmt(fit.tau, 2)} ({fmt(fit.tau_low, 2)} to {fmt(fit.tau_high, 2)})",
                         below, above])
            _glue(f"{self.key}_{slug(it.aid)}_bayes_{slug(label)}_p_below", below)
        m = measure_label(r)
        head_lo = f"P({m} < {fmt(a.mid.low)})" if a.mid.assessed else "P(below the MID)"
        head_hi = f"P({m} > {fmt(a.mid.high)})" if a.mid.assessed else "P(above the MID)"
        return [Table(["Model", "Effect: median (95% CI or CrI)", "Tau: median (95% CrI)", head_lo, head_hi], rows,
                      caption=f"Analysis {it.aid}: Bayesian random-effects meta-analysis beside inverse-variance DerSimonian-Laird "
                              "(uniform prior on the effect; tau priors as stated in the methods). "
                              + ("The MID thresholds are " + a.mid.text + "." if a.mid.assessed else ""),
                      label=f"tbl-{self.key}-{slug(it.aid)}-bayes")]

    def _tsa_parts(self, it: Judged) -> list:
        """Trial sequential analysis of the review file's primary outcome (a mean
        difference of at least two studies, not a subgroup view): cumulative z in
        the order of the studies' years against Lan-DeMets O'Brien-Fleming
        efficacy boundaries and non-binding beta-spending futility boundaries over
        the D²-adjusted required information size for the MID; "conclusive" only
        when a boundary is crossed."""
        from ..engine import ris as ri
        from ..engine import sequential as sq
        from ..views.tsa import tsa_plot

        pattern = self.review.primary_outcome
        ar, a = it.result, it.appraisal
        if (pattern is None or not search_pattern(pattern, ar.settings.name) or ar.result.measure != "MD"
                or ar.subgroups is not None or not a.mid.assessed):
            return []
        if a.count.k < 2:
            return [Note(f"Analysis {it.aid} has one study: a sequential analysis needs a meta-analysis of at least "
                         "two studies.", None)]
        cfg = self.review.appraisal
        alpha, power = cfg.alpha, cfg.power
        rows = self.pkg.rows_of(it.aid)
        es = an.effect_sizes(ar.settings, rows, labels=ar.labels)
        arms = [rows.iloc[i] for i in es.index]
        years = [_year(x["Study year"]) for x in arms]
        order = sorted(range(es.k), key=lambda j: (years[j], j))
        yi, vi = es.yi[order], es.vi[order]
        n1 = [float(arms[j]["Experimental N"]) for j in order]
        n2 = [float(arms[j]["Control N"]) for j in order]
        sd1 = [float(arms[j]["Experimental SD"]) for j in order]
        sd2 = [float(arms[j]["Control SD"]) for j in order]
        delta = float(a.mid.size)
        info = ri.ris_md(yi, vi, n1, sd1, n2, sd2, delta=delta, alpha=alpha, beta=1 - power)
        cz = sq.cumulative_z(yi, vi, method="DL")
        accrued = np.cumsum(np.add(n1, n2))
        frac = accrued / info.ris_adjusted
        # the looks are the studies as they arrived; past the required information size
        # the last boundary (t = 1) applies, once
        keep = [j for j in range(len(frac)) if j == 0 or min(frac[j - 1], 1.0) < 1.0]
        seen = np.minimum(frac[keep], 1.0)
        future = np.linspace(seen[-1], 1.0, 11)[1:] if seen[-1] < 1 else np.array([])
        looks = np.concatenate([seen, future])
        # one set of boundaries, over the looks seen and those still to come, is both drawn
        # and used for the verdict (at the looks seen): the verdict never reads a bound the
        # figure does not show
        bounds = sq.futility_boundaries(looks, alpha=alpha, beta=1 - power)
        crossing = sq.first_crossing(np.asarray(cz.z)[keep], sq.first_looks(bounds, len(seen)))
        more = max(0.0, info.ris_adjusted - accrued[-1])
        base = f"{self.key}_{slug(it.aid)}_tsa"
        _glue(f"{base}_ris", fmt(info.ris_adjusted, 0))
        _glue(f"{base}_accrued", fmt(accrued[-1], 0))
        _glue(f"{base}_more", fmt(more, 0))
        _glue(f"{base}_crossing", crossing.boundary)
        head = (f"Analysis {it.aid}: {_whole(accrued[-1])} participants have accrued of a diversity-adjusted "
                f"required information size of {_whole(info.ris_adjusted)} (D² = {fmt(100 * info.d2, 0)}%, "
                f"SD {fmt(info.sd, 1)}, "
                f"MD {fmt(delta, 2).rstrip('0').rstrip('.')} points, two-sided alpha {alpha:g}, power {power:g})"
                + (f"; without the allowance for heterogeneity it is {_whole(a.ois)}, the optimal information size "
                   "of the imprecision rating. " if a.ois is not None else ". "))
        if crossing.boundary == "efficacy":
            verdict = (f"The cumulative z-curve crosses the O'Brien-Fleming efficacy boundary after study "
                       f"{keep[crossing.index] + 1}: by this monitoring rule the evidence is conclusive for an effect.")
        elif crossing.boundary == "futility":
            verdict = (f"The cumulative z-curve crosses the non-binding futility boundary after study "
                       f"{keep[crossing.index] + 1}: by this monitoring rule an effect as large as the MID is "
                       "unlikely.")
        else:
            verdict = ("The cumulative z-curve crosses neither the efficacy nor the futility boundary, so the evidence "
                       "is not conclusive" + (f"; about {_whole(more)} more participants would reach the required "
                                              "information size." if more > 0 else
                                              ", although the required information size is reached."))
        sentence = head + verdict + (" The boundaries are shown for monitoring, not as the basis of a conclusion "
                                     f"({cite('handbook-ch22')}).")
        _glue(f"{base}_sentence", sentence)
        better = a.direction.better
        ylabel = ("Cumulative z (negative favours " + a.direction.left.replace("Favours ", "") + ")"
                  if better == "lower" else "Cumulative z (negative: lower values with the experimental intervention)")
        drawn = ([float(x) for x in accrued], [float(x) for x in cz.z], [ar.labels[es.index[j]] for j in order],
                 [float(x) for x in looks * info.ris_adjusted], [float(x) for x in bounds.z],
                 float(info.ris_adjusted), f"Trial sequential analysis, analysis {it.aid}", ylabel,
                 [float(x) for x in bounds.futility])
        fig = cached_figure(lambda d=drawn: tsa_plot(*d[:6], title=d[6], ylabel=d[7], futility=d[8]),
                            str(self.figures / f"{self.key}_{slug(it.aid)}_tsa.svg"),
                            caption=f"Trial sequential analysis of analysis {it.aid} ({ar.settings.name}).",
                            label=f"fig-{self.key}-{slug(it.aid)}-tsa",
                            alt=f"Trial sequential analysis of analysis {it.aid}: cumulative z-curve of "
                                f"{studies_word(es.k)} against O'Brien-Fleming efficacy and non-binding futility "
                                f"boundaries; {_whole(accrued[-1])} of "
                                f"{_whole(info.ris_adjusted)} required participants.",
                            key_parts=drawn, tight=False)
        return [fig, Note(sentence, None)]

    # -------------------------------------------------------- building blocks kept for other pages
    def _cumulative_parts(self, it: Judged) -> list:
        """Cumulative meta-analysis of the review file's primary outcome (not a
        subgroup view, at least two studies): the pooled estimate after each study
        is added, in order of the studies' years (then row order), with the
        analysis's own method, CI method and level
        (:func:`reviewbook.engine.cumulative.cumulative`, validated against
        metafor's ``cumul()``): a figure and a table, beside the sequential analysis."""
        from ..engine.cumulative import cumulative
        from ..views.cumulative import cumulative_plot

        pattern = self.review.primary_outcome
        ar, a = it.result, it.appraisal
        if (pattern is None or ar.subgroups is not None or a.count.k < 2
                or not search_pattern(pattern, ar.settings.name)):
            return []
        rows = self.pkg.rows_of(it.aid)
        es = an.effect_sizes(ar.settings, rows, labels=ar.labels)
        years = [_year(rows.iloc[i]["Study year"]) for i in es.index]
        order = sorted(range(es.k), key=lambda j: (years[j], j))
        steps = cumulative(es, ar.engine_method, order=order, hksj=ar.hksj, level=self.settings["level"])
        measure = measure_label(ar.result)
        # the year in brackets unless the study's name carries it
        added = [s.study if years[j] == 9999 or str(years[j]) in s.study else f"{s.study} ({years[j]})"
                 for s, j in zip(steps, order)]
        table = [[i, x, s.k, fmt_effect(ar.result.measure, s.estimate, s.ci_low, s.ci_high, label=ar.result.label),
                  "" if s.tau2 is None else fmt(s.tau2, 3), fmt_i2(s.i2)]
                 for i, (x, s) in enumerate(zip(added, steps), start=1)]
        first, last = steps[0], steps[-1]
        pct = int(round(self.settings["level"] * 100))
        alt = (f"Cumulative meta-analysis of analysis {it.aid}, {ar.settings.name}: the pooled {measure} after "
               f"each of {len(steps)} data rows added in order of year, from {fmt(first.estimate)} "
               f"({pct}% CI {fmt(first.ci_low)} to {fmt(first.ci_high)}) with the first to "
               f"{fmt(last.estimate)} ({pct}% CI {fmt(last.ci_low)} to {fmt(last.ci_high)}) with all.")
        drawn = (tuple(added), tuple(s.k for s in steps), tuple(s.estimate for s in steps),
                 tuple(s.ci_low for s in steps), tuple(s.ci_high for s in steps), ar.result.measure,
                 a.direction.left, a.direction.right, f"Cumulative meta-analysis, analysis {it.aid}",
                 ar.result.label)
        return [cached_figure(
                    lambda d=drawn: cumulative_plot(*d[:6], label_left=d[6], label_right=d[7], title=d[8],
                                                    measure_name=d[9]),
                    str(self.figures / f"{self.key}_{slug(it.aid)}_cumulative.svg"),
                    caption=f"Cumulative meta-analysis of analysis {it.aid} ({ar.settings.name}): studies added "
                            f"in order of year, {pct}% CIs, {pooling.METHOD_LABELS[ar.engine_method]} as in the analysis.",
                    label=f"fig-{self.key}-{slug(it.aid)}-cumulative", alt=alt, key_parts=drawn, tight=False),
                Table(["Step", "Study added", "Rows pooled", f"Effect ({pct}% CI)", "Tau²", "I²"], table,
                      caption=f"Cumulative meta-analysis of analysis {it.aid}: the pooled estimate after each study "
                              "is added.", label=f"tbl-{self.key}-{slug(it.aid)}-cumulative")]

    @_shows
    def small_study_effects(self):
        """Funnel plot and Egger's test for analyses with at least 10 studies."""
        from ..views.forest import funnel_plot

        shown = 0
        for it in self.main:
            if it.pooled is None or it.appraisal.count.k < 10:
                continue
            ar = it.result
            es = an.effect_sizes(ar.settings, self.pkg.rows_of(it.aid), labels=ar.labels)
            e = pooling.egger(es)
            _display(Figure(funnel_plot(e, ar.result.measure, title=f"Analysis {it.aid}", name=ar.result.label),
                            str(self.figures / f"{self.key}_{slug(it.aid)}_funnel.svg"),
                            caption=f"Funnel plot, analysis {it.aid} (Egger's test: intercept {fmt(e.intercept)}, "
                                    f"t = {fmt(e.t)}, df = {e.df}, {fmt_p(e.p)}).",
                            label=f"fig-{self.key}-{slug(it.aid)}-funnel",
                            alt=f"Funnel plot of {studies_word(e.df + 2)}, effect against standard error."))
            shown += 1
        if shown == 0:
            _display(Note("No analysis in this section has 10 or more studies, so funnel plots and Egger's test are not "
                          f"shown: with fewer studies a test of small-study effects has too little power "
                          f"({cite('sterne2011')}).", "note"))

    @_shows
    def compare_published(self):
        """Our estimate beside the review's published one, where public."""
        from .reproduce import compare_published

        rows = compare_published(self.pkg, self.review, [it.aid for it in self.items], self.settings)
        if not rows:
            _display(Note("No published pooled estimate of the review is known for the analyses of this "
                          "section.", "note"))
            return None
        t = Table(["Analysis", "Outcome", "Published (95% CI)", "Certainty", "Ours (95% CI)", "Studies",
                   "Agreement"], rows,
                  caption=f"{self.title}: our estimates beside the review's published ones.",
                  label=f"tbl-{self.key}-published")
        _display(t)
        return t


def credibility(name: str, ks, config) -> str:
    """The Cochrane Handbook's credibility points (ch. 10.11; Sun et al. 2010) as
    they apply to one subgroup analysis: studies per subgroup, whether it was
    pre-specified (where the review file says), and what a difference can mean."""
    single = sum(1 for k in ks if k <= 1)
    pre = config.prespecified_for(name)
    if pre is None:
        pre_text = "whether this subgroup analysis was pre-specified is not stated in the review description"
    else:
        pre_text = ("it was pre-specified" if pre.prespecified else "it was not pre-specified") + f" ({pre.source})"
    span = f"{min(ks)}" if min(ks) == max(ks) else f"{min(ks)} to {max(ks)}"
    return (f"Credibility ({cite('handbook-ch10', 'sun2010')}): {span} studies per subgroup, {single} of {len(ks)} "
            f"subgroups resting on a single study; {pre_text}. A difference between subgroups compares studies, not "
            "participants within a study, so it is observational and may reflect other differences between the "
            "studies; with few studies per subgroup the test has little power and a chance finding is likely.")


def _absolute_cell(ab) -> str:
    if ab.kind == "ratio":
        return f"{ab.control} with control, {ab.intervention}"
    if ab.kind == "zero control risk":
        return (f"{ab.control} with control, {ab.intervention} with intervention: no absolute effect at a control "
                "risk of 0")
    return ab.intervention


def _forest_table(it: Judged, key: str) -> list:
    """The forest plot as a table a screen reader reads row by row (study,
    effect, 95% CI, weight, then the pooled result), folded under the figure."""
    ar = it.result
    if ar is None or ar.result is None:
        return []
    from ..views.forest import study_rows

    rows = study_rows(ar)
    if not rows:
        return []
    r = ar.result
    pct = int(round(r.level * 100)) if getattr(r, "level", None) else 95
    label = measure_label(r.measure)
    body = [[name, est, f"{lo} to {hi}", w] for name, est, lo, hi, w in rows]
    body.append(["Pooled (all studies)", fmt(r.estimate), f"{fmt(r.ci_low)} to {fmt(r.ci_high)}", "100.0%"])
    t = Table(["Study", f"Effect ({label})", f"{pct}% CI", "Weight"], body,
              caption=f"Analysis {it.aid} as a table: each study's effect, {pct}% CI and weight, then the pooled "
                      "result.", label=f"tbl-{key}-{slug(it.aid)}-rows")
    return [Dropdown(f"Analysis {it.aid}, the forest plot as a table (study, effect, CI, weight)", [t])]


def _whole(x) -> str:
    """A count of participants rounded to a whole number, with a thousands separator ('57,634')."""
    return f"{int(fmt(x, 0)):,}"


def _direction_caption(direction, scale: str = "") -> str:
    """Which way is better, on the outcome's own scale as the review description
    states it (``scale``), and the source of the direction."""
    on = f" on a scale of {scale}" if scale else ""
    if direction.better is None:
        return (f"Which way is better{on or ' on this scale'} is not assessed; the labels under the axis claim "
                "nothing.")
    return f"{direction.scale_text.capitalize()}{on} (which way the scale runs: {direction.source})."


def _repeat_note(ar) -> str:
    names = [lab for lab in ar.labels if lab.endswith(")") and " (" in lab]
    if not names:
        return ""
    return (" A study entered more than once (separate participant groups or arms) carries a number in "
            "brackets.")


def _not_estimable_note(ar) -> str:
    """The rows that give no result and why (the plot shows them 'Not estimable', as RevMan)."""
    if not ar.excluded:
        return ""
    return " Not estimable: " + "; ".join(f"{lab} ({reason.removeprefix('not estimable: ')})"
                                          for lab, reason in ar.excluded) + "."


def _year(text) -> int:
    """The study's year for the cumulative order: the first run of four ASCII digits
    in the year cell ('2019a', '1989 Oct') that is a year by the stated rule
    (:func:`reviewbook.package.schema.year_of`); 9999 (unknown: added last, shown
    without a year) otherwise, e.g. '²⁰²⁴' or '2999'."""
    from ..package.schema import year_of

    m = re.search(r"(?<![0-9])([0-9]{4})(?![0-9])", str(text))
    y = year_of(m.group(1)) if m else None
    return 9999 if y is None else y


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


def section(package, key="auto", **kwargs) -> Section:
    """Open a book section on a package path (resolved from the project's folder);
    ``key`` "auto": the first section rule of kind ``analyses`` of the review file
    (the templates' default parameter)."""
    pkg = load(package)
    if key == "auto":
        rules = [r for r in review_for(pkg, kwargs.get("review", "auto")).sections if r.kind == "analyses"]
        key = rules[0].key if rules else "other_analyses"
    return Section(pkg, key, **kwargs)


def _settings_text(st) -> str:
    if st["model"] is None and st["estimator"] is None and st["ci_method"] is None:
        return f"settings as stored in the package, {int(round(st['level'] * 100))}% level"
    model = ("model as stored" if st["model"] is None else "fixed effect" if st["model"] == "fixed"
             else "random effects")
    est = f", {st['estimator']}" if st["estimator"] and st["model"] != "fixed" else ""
    ci = (", HKSJ CI in its ad hoc form" if st["ci_method"] in ("HKSJ", "HKSJ ad hoc")
          else f", {st['ci_method']} CI" if st["ci_method"] else "")
    return f"{model}{est}{ci}, {int(round(st['level'] * 100))}% level"
