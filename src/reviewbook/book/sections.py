"""Book sections: which analyses of a package a section claims, recomputed
with the notebook's settings, and the section's tables and figures."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..engine import pooling
from ..engine.report import fmt, fmt_ci, fmt_p
from ..package import analysis as an
from ..package.schema import Package
from ..views.forest import forest_plot, funnel_plot
from ..views.tables import Figure, Note, Table
from .glue import _display, _glue, _shows, slug
from .paths import ROOT, load

DEFAULT_SECTIONS = ROOT / "book" / "sections.yml"
PAIN_WINDOWS = ("immediate", "short", "medium", "long")


def engine_settings(model="package", estimator="package", ci_method="package", level=0.95) -> dict:
    """Notebook settings as keyword arguments of :func:`reviewbook.analysis.run`;
    ``"package"`` (or None) means: as each analysis stores it."""
    def pick(v):
        return None if v in (None, "package") else v

    return dict(model=pick(model), estimator=pick(estimator), ci_method=pick(ci_method), level=level)


def load_sections(path=None):
    cfg = yaml.safe_load(Path(path or DEFAULT_SECTIONS).read_text())
    return cfg["sections"]


def claim(pkg: Package, sections=None) -> dict:
    """Map every analysis id of ``pkg`` to a section key (first matching rule)."""
    rules = load_sections(sections)
    out = {}
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        for rule in rules:
            g = rule.get("group")
            o = rule.get("outcome")
            if g and not re.search(g, s.group_name or s.name, re.I):
                continue
            if o and not re.search(o, s.name, re.I):
                continue
            out[aid] = rule["key"]
            break
        else:
            out[aid] = "other_analyses"
    return out


def window_of(name: str, windows) -> str | None:
    """The first of ``windows`` named in an analysis name ('... short term ...'), or None."""
    for w in windows:
        if re.search(rf"\b{re.escape(w)}\b", name, re.I):
            return w
    return None


# ---------------------------------------------------------------- section

@dataclass
class Item:
    aid: str
    result: an.AnalysisResult | None
    reason: str = ""


class Section:
    """The analyses of one book section, recomputed with the notebook's settings."""

    def __init__(self, pkg: Package, key: str, *, model="package", estimator="package", ci_method="package",
                 level=0.95, measure="MD", windows=PAIN_WINDOWS, sections=None, figures="figures"):
        """Settings given as ``"package"`` (or None) are taken from each analysis as stored.
        ``windows``: the follow-up windows to show; an analysis named after a window not
        listed (e.g. "Pain intensity, long term") is left out of the section."""
        self.pkg, self.key = pkg, key
        self.settings = engine_settings(model, estimator, ci_method, level)
        self.measure = measure
        self.figures = Path(figures)
        owners = claim(pkg, sections)
        self.title = next((r["title"] for r in load_sections(sections) if r["key"] == key), key)
        self.items = []
        for aid in pkg.analysis_ids():
            s = pkg.analysis(aid)
            if owners[aid] != key or window_of(s.name, PAIN_WINDOWS) not in (None, *windows):
                continue
            m = measure if s.data_type == "Continuous" else None
            try:
                res = an.run(pkg, aid, measure=m, **self.settings)
                self.items.append(Item(aid, res))
            except an.NotComputable as exc:
                self.items.append(Item(aid, None, str(exc)))

    # -------------------------------------------------------- tables
    @_shows
    def summary_table(self):
        """Table: every analysis of the section with its pooled result."""
        rows = []
        for it in self.items:
            s = self.pkg.analysis(it.aid)
            if it.result is None:
                rows.append([it.aid, s.group_name, s.name, "", "", "not computable: " + it.reason, "", ""])
                continue
            r = it.result.result
            parts = _participants(it.result)
            rows.append([it.aid, s.group_name, s.name, r.k, parts,
                         f"{_measure_label(r)} {fmt_ci(r)}",
                         "" if r.i2 is None else f"{fmt(r.i2, 0)}%", it.result.engine_method])
            base = f"{self.key}_{slug(it.aid)}"
            _glue(f"{base}_estimate", fmt(r.estimate))
            _glue(f"{base}_ci", f"{fmt(r.ci_low)} to {fmt(r.ci_high)}")
            _glue(f"{base}_k", str(r.k))
        _glue(f"{self.key}_n_analyses", str(len(rows)))
        if not rows:
            _display(Note(f"No analysis of the data package belongs to this section ({self.title}): "
                          "there are no data to pool.", "note"))
            return None
        t = Table(["Analysis", "Comparison", "Outcome", "Studies", "Participants", "Effect [95% CI]",
                   "I²", "Method"], rows,
                  caption=f"{self.title}: pooled results ({_settings_text(self.settings)}).",
                  label=f"tbl-{self.key}-summary")
        _display(t)
        return t

    @_shows
    def forest_plots(self):
        """One RevMan-style forest plot per computable analysis."""
        shown = 0
        for it in self.items:
            if it.result is None:
                continue
            s = it.result.settings
            title = f"Analysis {it.aid}. {s.group_name}: {s.name}"
            fig = forest_plot(it.result, title=title)
            r = it.result.result
            alt = (f"Forest plot of analysis {it.aid}, {s.name}: {r.k} studies, pooled "
                   f"{_measure_label(r)} {fmt(r.estimate)} (95% CI {fmt(r.ci_low)} to {fmt(r.ci_high)}).")
            _display(Figure(fig, str(self.figures / f"{self.key}_{slug(it.aid)}_forest.png"),
                            caption=f"Forest plot, analysis {it.aid}: {s.group_name}, {s.name}.",
                            label=f"fig-{self.key}-{slug(it.aid)}", alt=alt))
            shown += 1
        if shown == 0:
            _display(Note("No analysis in this section has data to plot.", "note"))

    @_shows
    def subgroup_tests(self):
        """Subgroup analyses by condition and the test for subgroup differences."""
        rows = []
        for it in self.items:
            if it.result is None or it.result.subgroups is None:
                continue
            sg = it.result.subgroups
            for name, r in sg.groups:
                rows.append([it.aid, name, r.k, f"{fmt_ci(r)}",
                             "" if r.i2 is None else f"{fmt(r.i2, 0)}%"])
            t = sg.test
            rows.append([it.aid, "Test for subgroup differences", len(sg.groups),
                         "n/a (one subgroup)" if t is None else
                         f"Chi² = {fmt(t.q)}, df = {t.df}, {fmt_p(t.p)}",
                         "" if t is None or t.i2 is None else f"{fmt(t.i2, 0)}%"])
        if not rows:
            _display(Note("No analysis in this section has subgroups.", "note"))
            return None
        tab = Table(["Analysis", "Subgroup (condition)", "Studies", "Effect [95% CI] / test", "I²"], rows,
                    caption=f"{self.title}: subgroups by condition.", label=f"tbl-{self.key}-subgroups")
        _display(tab)
        return tab

    @_shows
    def sensitivity(self):
        """Fixed vs random effects, tau² estimators, HKSJ, and leave-one-out."""
        rows, loo = [], []
        for it in self.items:
            if it.result is None:
                continue
            s = it.result.settings
            base = dict(level=self.settings["level"])
            m = self.measure if s.data_type == "Continuous" else None
            variants = [("Fixed effect", dict(model="fixed")), ("Random, DL", dict(model="random", estimator="DL")),
                        ("Random, REML", dict(model="random", estimator="REML")),
                        ("Random, REML + HKSJ", dict(model="random", estimator="REML", ci_method="HKSJ"))]
            for label, kw in variants:
                r = an.run(self.pkg, it.aid, measure=m, **{**base, **kw}).result
                note = "; ".join(r.notes)
                rows.append([it.aid, label, r.k, f"{fmt_ci(r)}",
                             "" if r.tau2 is None else fmt(r.tau2, 3), note])
            if it.result.result.k >= 2:
                es = an.effect_sizes(s, self.pkg.rows_of(it.aid), m)
                for study, r in pooling.leave_one_out(es, it.result.engine_method,
                                                      hksj=it.result.hksj, level=self.settings["level"]):
                    loo.append([it.aid, study, r.k, f"{fmt_ci(r)}",
                                "" if r.i2 is None else f"{fmt(r.i2, 0)}%"])
        if not rows:
            _display(Note("No analysis in this section can be recomputed.", "note"))
            return None
        _display(Table(["Analysis", "Model", "Studies", "Effect [95% CI]", "Tau²", "Note"], rows,
                       caption=f"{self.title}: sensitivity to the model and CI method.",
                       label=f"tbl-{self.key}-sensitivity"))
        if loo:
            _display(Table(["Analysis", "Study omitted", "Studies", "Effect [95% CI]", "I²"], loo,
                           caption=f"{self.title}: leave-one-out analyses.", label=f"tbl-{self.key}-loo"))
        else:
            _display(Note("Leave-one-out analysis needs at least two studies; no analysis here has two.", "note"))

    @_shows
    def small_study_effects(self):
        """Funnel plot and Egger's test for analyses with at least 10 studies."""
        shown = 0
        for it in self.items:
            if it.result is None or it.result.result.k < 10:
                continue
            s = it.result.settings
            es = an.effect_sizes(s, self.pkg.rows_of(it.aid), self.measure if s.data_type == "Continuous" else None)
            e = pooling.egger(es)
            _display(Figure(funnel_plot(e, it.result.result.measure, title=f"Analysis {it.aid}"),
                            str(self.figures / f"{self.key}_{slug(it.aid)}_funnel.png"),
                            caption=f"Funnel plot, analysis {it.aid} (Egger's test: intercept {fmt(e.intercept)}, "
                                    f"t = {fmt(e.t)}, df = {e.df}, {fmt_p(e.p)}).",
                            label=f"fig-{self.key}-{slug(it.aid)}-funnel",
                            alt=f"Funnel plot of {e.df + 2} studies, effect against standard error."))
            shown += 1
        if shown == 0:
            _display(Note("No analysis in this section has 10 or more studies, so funnel plots and "
                          "Egger's test are not shown (too few studies to assess small-study effects).", "note"))

    @_shows
    def compare_published(self, published_csv="data/published-estimates.csv"):
        """Our estimate beside the review's published one, with the difference explained."""
        from .reproduce import compare

        rows = compare(self, published_csv)
        if not rows:
            _display(Note("No published estimate of this review is known for this section's comparisons.", "note"))
            return None
        t = Table(["Comparison", "Outcome", "Published [95% CI]", "Certainty", "Ours [95% CI]", "Studies (ours)",
                   "Explanation of the gap"], rows,
                  caption=f"{self.title}: our estimates beside the published review's.",
                  label=f"tbl-{self.key}-published")
        _display(t)
        return t


def section(package, key, **kwargs) -> Section:
    """Open a book section on a package path (resolved from the repository root)."""
    return Section(load(package), key, **kwargs)


# ---------------------------------------------------------------- formatting

def _participants(ar) -> int:
    tot = 0
    for a in ar.arms:
        tot += int((a.get("Experimental N") or 0) + (a.get("Control N") or 0))
    return tot


def _measure_label(r) -> str:
    return {"MD": "MD", "SMD": "SMD", "RR": "RR", "OR": "OR", "RD": "RD"}.get(r.measure, r.measure)


def _settings_text(st) -> str:
    if st["model"] is None and st["estimator"] is None and st["ci_method"] is None:
        return f"settings as stored in the package, {int(round(st['level'] * 100))}% level"
    model = ("model as stored" if st["model"] is None else "fixed effect" if st["model"] == "fixed"
             else "random effects")
    est = f", {st['estimator']}" if st["estimator"] and st["model"] != "fixed" else ""
    ci = f", {st['ci_method']} CI" if st["ci_method"] else ""
    return f"{model}{est}{ci}, {int(round(st['level'] * 100))}% level"
