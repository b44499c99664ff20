"""Study-flow pages: PRISMA diagram, coverage, comparisons, characteristics of
the studies, studies not pooled, and the risk-of-bias summary."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..engine.report import fmt
from ..package.schema import Package
from ..views.tables import Dropdown, Figure, Markup, Note, Table, escape
from .glue import _display, _glue, _shows
from .paths import load
from .references import study_keys
from .review import comparison_title


def _flow_counts(pkg: Package) -> dict:
    flow = pkg.extra.get("study-flow.csv")
    if flow is None or "step" not in flow.columns:
        return {}
    return {r["step"]: r["count"] for _, r in flow.iterrows()}


def _num(v):
    v = str(v or "").strip()
    try:
        return int(float(v)) if v else None
    except ValueError:
        return None


@_shows
def prisma(package, figures="figures"):
    """PRISMA 2020 flow diagram from the package's study-flow counts."""
    from ..views.prisma import STEPS, count_text, prisma_diagram

    pkg = load(package)
    counts = _flow_counts(pkg)
    if not counts:
        _display(Note("This data package has no study-flow counts (study-flow.csv); the PRISMA diagram "
                      "shows every count as not reported.", "note"))
    used = _study_analyses(pkg)
    if counts.get("studies_in_meta_analyses") in (None, ""):
        counts = dict(counts, studies_in_meta_analyses=str(len(used)))
    fig = prisma_diagram(counts)
    known = [f"{label}: {count_text(counts.get(k))}" for k, label in STEPS]
    _display(Figure(fig, str(Path(figures) / "study_flow_prisma.svg"),
                    caption="PRISMA 2020 flow diagram. Counts that are not public are shown as 'not reported' "
                            "in dashed grey boxes.",
                    label="fig-prisma", alt="PRISMA 2020 flow diagram. " + "; ".join(known) + "."))
    for k, _ in STEPS:
        _glue(f"flow_{k}", count_text(counts.get(k)))


def _study_analyses(pkg: Package) -> dict:
    out = {}
    for s, g, n in zip(pkg.rows["Study"], pkg.rows["Analysis group"], pkg.rows["Analysis number"]):
        out.setdefault(s, set()).add(f"{int(g)}.{int(n)}")
    return out


def _sorted_ids(ids):
    return sorted(ids, key=lambda a: tuple(int(x) for x in a.split(".")))


@_shows
def comparisons(package):
    """The comparisons (analysis groups) of the package, with how each was named."""
    pkg = load(package)
    table = pkg.extra.get("study-data/comparisons.csv")
    groups = {}
    for aid in pkg.analysis_ids():
        g = aid.split(".")[0]
        groups.setdefault(g, [pkg.analysis(aid).group_name, 0, set()])
        groups[g][1] += 1
        groups[g][2].update(pkg.rows_of(aid)["Study"])
    evidence = {}
    if table is not None:
        for _, r in table.iterrows():
            evidence[str(r["Analysis group"])] = (r.get("evidence", ""), r.get("source", ""))
    rows = []
    for g, (name, n, studies) in groups.items():
        ev, src = evidence.get(g, ("", ""))
        rows.append([g, name or comparison_title(pkg, g) + " (the package names no comparison; named from its "
                     "first analysis)", n, len(studies), ev or "from the package", src])
    _glue("n_comparisons", str(len(groups)))
    noun = "comparison" if len(groups) == 1 else "comparisons"
    cols = ["Comparison", "Name", "Analyses", "Studies"]
    if evidence:
        t = Table(cols + ["How it was established (our words)", "Sources read"], rows,
                  caption="Comparisons of the review, with the evidence for each name.", label="tbl-comparisons")
    else:
        t = Table(cols, [r[:4] for r in rows], caption="Comparisons of the data package.", label="tbl-comparisons")
    _display(Dropdown(f"The {len(groups):,} {noun}" + (" and how each was named" if evidence else ""), [t]))
    return t


@_shows
def characteristics(package):
    """Characteristics of the studies in the package's analyses (RevMan's table)."""
    pkg = load(package)
    used = _study_analyses(pkg)
    _glue("n_studies_pooled", str(len(used)))
    if pkg.studies.empty:
        _display(Note("The package has no study information table.", "note"))
        return None
    keys = study_keys(pkg)
    rows = []
    for _, s in pkg.studies.iterrows():
        name = s.get("Study", "")
        rows.append([_cited(name, keys), s.get("Year", ""), s.get("Char: Methods", "") or "not reported",
                     s.get("Char: Participants", "") or "not reported",
                     s.get("Char: Interventions", "") or "not reported",
                     ", ".join(_sorted_ids(used.get(name, []))) or "none", s.get("Char: Notes", "")])
    t = Table(["Study", "Year", "Methods", "Participants", "Interventions", "Analyses", "Notes and sources"], rows,
              caption="Characteristics of the studies (not reported: no source we read states it).",
              label="tbl-characteristics", sortable=True)
    _display(Dropdown(f"Characteristics of the {len(rows)} studies, with their sources", [t]))
    return t


ELIGIBILITY_COLUMN = "Eligibility (our judgement)"


def _cited(name, keys):
    """A study name that cites (and links to) its report on the References page,
    when the package lists one; the name itself is escaped."""
    key = keys.get(str(name))
    return Markup(f"{escape(name)} {{cite:p}}`{key}`", str(name)) if key else name


@_shows
def not_pooled(package):
    """Studies that no analysis uses, said exactly: the package's own studies
    outside every analysis, or (where the package lists them) the candidates of
    a second extraction, split by its eligibility judgement and set beside the
    review's own count of included studies that no analysis uses (studies
    included minus studies in meta-analyses, from ``study-flow.csv``).  Every
    number is glued from the data."""
    pkg = load(package)
    table = pkg.extra.get("study-data/studies-not-pooled.csv")
    used = _study_analyses(pkg)
    if table is None:
        extra = [s for s in pkg.studies["Study"] if s not in used] if not pkg.studies.empty else []
        _glue("n_not_pooled", str(len(extra)))
        if not extra:
            _display(Note("Every study of the package contributes to at least one analysis; the package lists "
                          "no other included studies.", "note"))
            return None
        t = Table(["Study"], [[s] for s in extra], caption="Studies of the package in no analysis.",
                  label="tbl-not-pooled", sortable=True)
        _display(t)
        return t
    counts = _flow_counts(pkg)
    included, pooled = _num(counts.get("studies_included")), _num(counts.get("studies_in_meta_analyses"))
    review_unpooled = included - pooled if included is not None and pooled is not None else None
    judged = table[ELIGIBILITY_COLUMN].astype(str) if ELIGIBILITY_COLUMN in table.columns else None
    groups = ([("yes", "judged eligible"), ("uncertain", "of uncertain eligibility")] if judged is not None
              else [(None, "")])
    parts = {k: (table if k is None else table[judged == k]) for k, _ in groups}
    n = {k: len(v) for k, v in parts.items()}
    _glue("n_not_pooled", str(len(table)))
    _glue("n_not_pooled_eligible", str(n.get("yes", len(table))))
    _glue("n_not_pooled_uncertain", str(n.get("uncertain", 0)))
    _glue("n_review_not_pooled", "not reported" if review_unpooled is None else str(review_unpooled))
    split = (f" ({n['yes']} judged eligible, {n['uncertain']} of uncertain eligibility)"
             if judged is not None else "")
    text = (f"The review's data rows name only the studies that its analyses use. The {len(table)} studies "
            f"below{split} are those that the second extraction of this book describes and that no analysis "
            "of the review uses: candidates for the review's included studies outside its analyses, in that "
            "extraction's judgement and words, not the review's own list.")
    if review_unpooled is not None:
        text += (f" The review reports {included} included studies, {pooled} of them in meta-analyses, so "
                 f"{review_unpooled} included studies are in no analysis; their names are not public. The "
                 f"{len(table)} candidates may therefore contain studies that the review excluded and miss "
                 "studies that it included.")
    _display(Note(text))
    shown = None
    for key, words in groups:
        part = parts[key]
        if part.empty:
            continue
        label = "tbl-not-pooled" if shown is None else f"tbl-not-pooled-{key}"
        caption = (f"Studies{' ' + words if words else ''} in the second extraction that no analysis of the review "
                   f"uses ({len(part)}), with the reason each is not pooled (that extraction's judgement and words).")
        t = Table(list(part.columns), part.values.tolist(), caption=caption, label=label, sortable=True)
        noun = "study" if len(part) == 1 else "studies"
        _display(Dropdown(f"The {len(part):,} {noun}{' ' + words if words else ''}", [t]))
        shown = shown or t
    return shown


@dataclass(frozen=True)
class Coverage:
    studies_pooled: int
    participants_pooled: int
    rows: int
    analyses: int
    review_studies: int | None
    review_participants: int | None
    review_studies_pooled: int | None


def coverage_of(pkg: Package) -> Coverage:
    """How much of the review the package's analyses cover (review totals from study-flow.csv).

    Participants pooled: per study, the largest total of its data rows in any
    one analysis (the same participants appear in several analyses)."""
    per_study = {}
    for s, e, c in zip(pkg.rows["Study"], pkg.rows["Experimental N"], pkg.rows["Control N"]):
        n = int((e if e == e else 0) + (c if c == c else 0))
        per_study[s] = max(per_study.get(s, 0), n)
    counts = _flow_counts(pkg)
    return Coverage(len(per_study), sum(per_study.values()), len(pkg.rows), len(pkg.analysis_ids()),
                    _num(counts.get("studies_included")), _num(counts.get("participants_randomised")),
                    _num(counts.get("studies_in_meta_analyses")))


@_shows
def coverage(package):
    """Table: what the package's analyses cover against the review's totals; glues the numbers."""
    pkg = load(package)
    c = coverage_of(pkg)

    def show(x):
        return "not reported" if x is None else f"{x:,}"

    # a count the package does not hold, or the public sources do not give, is "not reported"
    rows = [["Analyses", f"{c.analyses:,}", show(None)], ["Data rows (study × analysis)", f"{c.rows:,}", show(None)],
            ["Studies in at least one analysis", f"{c.studies_pooled:,}", show(c.review_studies_pooled)],
            ["Studies included in the review", show(None), show(c.review_studies)],
            ["Participants in the analyses (largest row total per study)", f"{c.participants_pooled:,}", show(None)],
            ["Participants randomised in the review's included studies", show(None), show(c.review_participants)]]
    for key, val in (("cov_analyses", c.analyses), ("cov_rows", c.rows), ("cov_studies_pooled", c.studies_pooled),
                     ("cov_participants_pooled", c.participants_pooled), ("cov_review_studies", c.review_studies),
                     ("cov_review_participants", c.review_participants),
                     ("cov_review_studies_pooled", c.review_studies_pooled)):
        _glue(key, show(val))
    pct = "not reported" if not c.review_studies else f"{fmt(100 * c.studies_pooled / c.review_studies, 1)}%"
    _glue("cov_pct_studies_pooled", pct)
    t = Table(["Quantity", "This package", "The review (public sources)"], rows,
              caption="What the package's analyses cover.", label="tbl-coverage")
    _display(t)
    return t


def rob_table(pkg: Package):
    """Judgements per result: ``(domains, rows)`` where rows are ``(label, {domain: level})``,
    one row per study and distinct set of judgements (with the analyses it covers);
    rows with no judgement at all are left out."""
    rob = pkg.risk_of_bias
    if rob.empty:
        return (), [], 0
    cols = [c for c in rob.columns if c.startswith("Domain (judgement)")]
    domains = tuple(c.split(":", 1)[1].strip() for c in cols)
    groups, order, empty = {}, [], 0
    for _, r in rob.iterrows():
        judged = {d: (str(r[c]).strip() if str(r[c]).strip() in ("Low risk", "Some concerns", "High risk",
                                                                   "Not applicable")
                      else "Not reported") for d, c in zip(domains, cols)}
        if all(v == "Not reported" for v in judged.values()):
            empty += 1
            continue
        key = (r.get("Result", r["Study"]) if "Result" in rob.columns else r["Study"], tuple(judged.values()))
        if key not in groups:
            groups[key] = (judged, [])
            order.append(key)
        if "Analysis group" in rob.columns:
            groups[key][1].append(f"{r['Analysis group']}.{r['Analysis number']}")
    rows = []
    for key in order:
        judged, aids = groups[key]
        label = key[0] + (f" ({_span(aids)})" if aids else "")
        rows.append((label, judged))
    return domains, rows, empty


def rob_of_analysis(pkg: Package, aid: str) -> dict:
    """``{row label: {domain: judgement}}``: the RoB 2 judgements the package carries
    for the results of analysis ``aid`` (its risk-of-bias table's ``Result`` is the
    row label of the data rows); empty when it carries none."""
    rob = pkg.risk_of_bias
    if rob.empty or "Result" not in rob.columns or "Analysis group" not in rob.columns:
        return {}
    cols = [c for c in rob.columns if c.startswith("Domain (judgement)")]
    group, number = aid.split(".")
    hit = rob[(rob["Analysis group"].astype(str).str.strip() == group)
              & (rob["Analysis number"].astype(str).str.strip() == number)]
    domains = [c.split(":", 1)[1].strip() for c in cols]
    out = {str(res): dict(zip(domains, (str(v).strip() for v in values)))
           for res, values in zip(hit["Result"], hit[cols].itertuples(index=False, name=None))}
    if all(v in ("", "Not reported", "nan") for judged in out.values() for v in judged.values()):
        return {}
    return out


def _span(aids) -> str:
    aids = _sorted_ids(set(aids))
    return "analysis " + aids[0] if len(aids) == 1 else f"{len(aids)} analyses, {aids[0]}–{aids[-1]}"


@_shows
def risk_of_bias(package, figures="figures"):
    """robvis-style RoB 2 summary: traffic-light plot and summary bars, from the judgements."""
    from ..views.rob import summary_bars, traffic_light

    pkg = load(package)
    domains, rows, empty = rob_table(pkg)
    total = len(pkg.risk_of_bias)
    _glue("rob_results_judged", str(total - empty))
    _glue("rob_results_total", str(total))
    if not rows:
        _display(Note("The package carries no risk-of-bias judgement for any result, so no risk-of-bias "
                      "summary can be drawn (nothing is imputed).", "note"))
        return None
    judged = (f"All {total} results (study rows of analyses) carry at least one RoB 2 judgement." if not empty else
              f"Of {total} results (study rows of analyses), {total - empty} carry at least one RoB 2 judgement; "
              f"the other {empty} carry none and are not shown.")
    _display(Note(judged + " Judgements that a row does not carry are marked 'Not reported'.", None))
    _display(Figure(traffic_light(rows, list(domains)), str(Path(figures) / "study_flow_rob_traffic.svg"),
                    caption="Risk of bias (RoB 2) traffic-light plot: one row per study and set of judgements, "
                            "with the analyses it applies to.",
                    label="fig-rob-traffic",
                    alt=f"Traffic-light plot of RoB 2 judgements for {len(rows)} study result sets."))
    _display(Figure(summary_bars(rows, list(domains)), str(Path(figures) / "study_flow_rob_summary.svg"),
                    caption="Risk of bias (RoB 2) summary: share of judgements per domain (unweighted).",
                    label="fig-rob-summary", alt="Summary bar plot of RoB 2 judgements by domain."))


@_shows
def book_version(package):
    """What these pages review, so that an editor can cite it exactly: the data
    package's version and content hash, the date of the data (its latest
    ``versions.csv`` entry, never the build machine's clock) and the software
    version."""
    import re as _re

    from ..views.details import Block
    from .changes import data_version, version_block

    pkg = load(package)
    md = version_block(pkg, data_version(pkg))
    plain = _re.sub(r"\{ref\}`([^`<]*?)\s*<[^`>]*>`", r"\1", md)  # a link's label as plain text
    _display(Block(md, _re.sub(r"[`\\]", "", plain)))
