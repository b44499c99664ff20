"""The book's plan: which pages it has, in which order, and how each is made.

The plan comes from the package and its review file (:mod:`.review`): the
fixed pages (introduction, methods, re-running, study flow, summary of
findings, reproduction, what changed, glossary, references, downloads), one page per section rule that claims
at least one analysis (for a package without a review file, one page per
comparison and a harms page where adverse-event analyses exist), "Other
analyses" where some analysis is unclaimed, and the second-extractor page
where the review file names one.  The runner executes the notebook pages
with papermill and writes ``_toc.yml`` and the introduction's substitutions
from the plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import review as rv
from ..views.tables import escape


def label_of(key: str) -> str:
    """The cross-reference label of a section page (``sec-ketamine-iv``)."""
    return "sec-" + key.replace("_", "-")


@dataclass(frozen=True)
class Page:
    """One page: ``file`` (in the book, no suffix), its notebook ``template``
    (None for Markdown pages), papermill ``parameters``, what data it ``reads``
    (``section:<key>``, ``studies`` or ``all``; for incremental rebuilds), its
    ``title``, ``heading`` (the notebook's first cell) and ``part`` of the TOC."""

    file: str
    title: str
    part: str
    template: str | None = None
    parameters: dict = field(default_factory=dict)
    reads: str = "all"
    heading: str = ""

    @property
    def key(self) -> str:
        return self.file.rsplit("/", 1)[-1]


ABOUT, RESULTS, SYNTHESIS, SOURCES = "About this appendix", "Results", "Synthesis", "Sources"
ROOT_PART = ""  # the landing page: the TOC's root, in no part
INTROS = {
    "study_flow": ("The flow of records and studies (PRISMA 2020), what the analyses cover, the comparisons and "
                   "how each was named, the characteristics and risk of bias of the studies, and the included "
                   "studies that no analysis uses."),
    "summary_of_findings": ("One summary of findings table per main comparison, in the Cochrane format: the "
                            "critical outcomes with their anticipated absolute effects, relative effect, participants "
                            "(studies), certainty of the evidence and what it means, by the stated rules of "
                            "{ref}`the methods page <sec-methods>`. Every other analysis follows in one table. The "
                            "same tables as data: "
                            '<a href="../evidence.fhir.json" download>evidence.fhir.json</a> (HL7 FHIR R5, '
                            "Evidence-Based Medicine on FHIR) and "
                            '<a href="../downloads/summary-of-findings.csv" download>summary-of-findings.csv</a> '
                            "(see {ref}`sec-downloads`)."),
    "reproduction": ("Every number RevMan stored, recomputed: the review's published pooled estimates "
                     "({glue}`n_published_reproduced` of the {glue}`n_published_compared` published pooled estimates "
                     "reproduced to the published decimals), how each analysis's settings were obtained, and every stored per-study result "
                     "({glue}`studies_matched` of {glue}`studies_checked` match within the rounding of the stored "
                     "values)."),
    "independent": ("Our own earlier extraction from trial reports is a second, independent extractor. Here its "
                    "values are set beside the review's data rows for every trial both have "
                    "({glue}`ind_trial_names`): {glue}`ind_agree` of {glue}`ind_values` values agree, and each "
                    "difference is explained."),
}


def heading(key: str, title: str, intro: str, *, count_glue: str | None = None) -> str:
    """A page's first cell: its label, the title as text (escaped: a comparison
    name from a package is never markup) and the intro (Markdown)."""
    text = f"({label_of(key)})=\n# {escape(title)}\n\n{intro}".rstrip()
    if count_glue:
        text += f"\n\nAnalyses on this page: {{glue}}`{count_glue}`."
    return text


def plan(pkg, review: rv.Review) -> list:
    """The pages of the book for ``pkg`` and its review file, in TOC order."""
    owners = rv.claim(pkg, review)
    used = set(owners.values())
    lead = ("What the review found, outcome by outcome, with the certainty of the evidence; the details are one "
            "click below, on the pages listed at the end.")
    if review.generic and review.citation:
        lead += f" The review: {review.citation}."
    pages = [Page("intro", "Key findings", ROOT_PART, "notebooks/intro.ipynb", {}, "all",
                  f"(sec-intro)=\n# {_md_heading(review.short_title)}\n\n{lead}"),
             Page("methods", "Methods", ABOUT), Page("rerun", "Re-running the book", ABOUT),
             Page("review_file", "Describing the review (review.yml)", ABOUT),
             Page("sections/study_flow", "Study flow and included studies", RESULTS, "notebooks/study_flow.ipynb",
                  {}, "studies", heading("study_flow", "Study flow and included studies", INTROS["study_flow"]))]
    # pages of benefits first, then harms (claiming order is the rules' order)
    for rule in sorted(review.sections, key=lambda r: r.kind == "harms"):
        if rule.key not in used:
            continue
        template = "notebooks/harms.ipynb" if rule.kind == "harms" else "notebooks/section.ipynb"
        pages.append(Page(f"sections/{rule.key}", rule.title, RESULTS, template, {"section": rule.key},
                          f"section:{rule.key}",
                          heading(rule.key, rule.title, rule.intro, count_glue=f"{rule.key}_n_analyses")))
    if "other_analyses" in used:
        pages.append(Page("sections/other_analyses", "Other analyses", RESULTS, "notebooks/section.ipynb",
                          {"section": "other_analyses"}, "section:other_analyses",
                          heading("other_analyses", "Other analyses", rv.OTHER_INTRO,
                                  count_glue="other_analyses_n_analyses")))
    pages.append(Page("sections/summary_of_findings", "Summary of findings", SYNTHESIS,
                      "notebooks/summary_of_findings.ipynb", {}, "all",
                      heading("sof", "Summary of findings", INTROS["summary_of_findings"])))
    pages.append(Page("sections/reproduction", "Reproduction", SYNTHESIS, "notebooks/reproduction.ipynb", {}, "all",
                      heading("reproduction", "Reproduction", INTROS["reproduction"])))
    if review.independent is not None:
        pages.append(Page("sections/independent", "A second extractor", SYNTHESIS, "notebooks/independent.ipynb", {},
                          "all", heading("independent", "A second extractor", INTROS["independent"])))
    pages.append(Page("what_changed", "What changed", SYNTHESIS))
    pages.append(Page("glossary", "Glossary", SOURCES))
    pages.append(Page("references", "References", SOURCES))
    pages.append(Page("downloads", "Downloads", SOURCES))
    return pages


def _md_heading(text: str) -> str:
    """A title as a Markdown heading: backslash-escaped so that package text
    renders as text, never as markup."""
    from ..views.tables import escape

    return escape(text)


def toc(pages) -> dict:
    """``_toc.yml`` (jb-book, numbered: table and figure numbers restart per page)."""
    parts = []
    for p in pages:
        if p.part == ROOT_PART:
            continue
        if not parts or parts[-1]["caption"] != p.part:
            parts.append({"caption": p.part, "numbered": True, "chapters": []})
        parts[-1]["chapters"].append({"file": p.file})
    return {"format": "jb-book", "root": "intro", "parts": parts}


def reading_guide(pages) -> str:
    """The introduction's list of pages, with cross-references."""
    lines = []
    for p in pages:
        if p.file in ("intro", "methods", "rerun", "review_file", "what_changed", "glossary", "references",
                      "downloads"):
            continue
        lines.append(f"- {{ref}}`{label_of(p.key) if p.key != 'summary_of_findings' else 'sec-sof'}`")
    lines.append("- {ref}`sec-methods` states every convention; {ref}`sec-rerun` says how to rebuild the book "
                 "on other data; {ref}`sec-what-changed` compares this build with the previous one; "
                 "{ref}`sec-glossary` explains the terms; "
                 "{ref}`sec-references` lists the sources and the study reports; {ref}`sec-downloads` has the "
                 "data package, the results and the executed notebooks.")
    return "\n".join(lines)
