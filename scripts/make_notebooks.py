"""Write the notebook templates in src/reviewbook/resources/notebooks/ from one compact specification.

The templates are thin and about no review in particular: a heading cell
(tagged ``heading``; the runner replaces it with the page's title and
introduction from the review file or the package), a ``parameters`` cell of
typed literals, then one package call per table or figure.  After changing
this file run

    python scripts/make_notebooks.py && python -m reviewbook refresh-notebooks

(the second command executes them on the embedded data so that the committed
outputs are what nbval checks).
"""
from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

COMMON = [
    ("package", '"auto"', 'str: data package, folder or zip (relative to the project folder, or absolute); "auto": the project\'s package'),
    ("review", '"auto"', 'str: review file; "auto": the project\'s review file if it names the package, else the package alone'),
]
SECTION = [("section", '"auto"', 'str: section key (the review file\'s section rules); "auto": its first'
            ' analyses section')]
SETTINGS = [
    ("model", '"package"', 'str: "package" (as each analysis stores it), "random" or "fixed"'),
    ("estimator", '"package"', 'str: tau² estimator: "package", "DL", "REML" or "PM"'),
    ("ci_method", '"package"', 'str: "package", "Wald" or "HKSJ" (Hartung-Knapp-Sidik-Jonkman)'),
    ("level", "0.95", "float: confidence level of intervals"),
]


def params(extra=()):
    items = list(COMMON) + list(extra)
    width = max(len(f"{k} = {v}") for k, v, _ in items)
    lines = ["# Parameters (papermill): typed literals only; `papermill --help-notebook` lists them."]
    lines += [f"{f'{k} = {v}':<{width}}  # {c}" for k, v, c in items]
    return "\n".join(lines)


def notebook(heading, parameters, setup, calls):
    """Heading cell, parameters cell, setup cell, then a subheading and one call per table or figure."""
    nb = nbformat.v4
    cells = [nb.new_markdown_cell(heading, metadata={"tags": ["heading"]}),
             nb.new_code_cell(parameters, metadata={"tags": ["parameters"]}), nb.new_code_cell(setup)]
    for sub, call in calls:
        if sub:
            cells.append(nb.new_markdown_cell(f"## {sub}"))
        cells.append(nb.new_code_cell(call))
    return cells


SETTINGS_ARGS = "model=model, estimator=estimator, ci_method=ci_method, level=level"
SECTION_SETUP = ("from reviewbook import book\n\n"
                 f"sec = book.section(package, section, review=review, {SETTINGS_ARGS})")

INTRO_PROSE = """## About this appendix

{{ about }}

## The question

{{ question }}

## Where the data come from

{{ data_origin }}

{{ provenance }}

## How to read it

{{ guide }}"""

NOTEBOOKS = {
    "intro": lambda: notebook(
        "(sec-intro)=\n# The review's answer\n\nThe runner puts the book's title and a one-line lead here.",
        params(SETTINGS), "from reviewbook import book",
        [(None, f"book.key_findings(package, review=review, {SETTINGS_ARGS})")]) + [
        nbformat.v4.new_markdown_cell(INTRO_PROSE), nbformat.v4.new_markdown_cell(
            "## This version\n\nWhat these pages review, so that it can be cited exactly (the version history of "
            "the data is on the page {ref}`sec-what-changed`):"),
        nbformat.v4.new_code_cell("book.book_version(package)")],
    "section": lambda: notebook(
        "(sec-section)=\n# A section of the book\n\nThe runner puts the page's title and introduction here.",
        params(SECTION + SETTINGS), SECTION_SETUP,
        [("Main outcomes", "sec.main_outcomes()"), ("Details by outcome", "sec.details()"),
         ("Small-study effects", "sec.small_study_effects()"),
         ("Our estimates beside the published review", "sec.compare_published()")]),
    "harms": lambda: notebook(
        "(sec-harms)=\n# Harms\n\nThe runner puts the page's introduction here.",
        params([("section", '"harms"', "str: section key of the harms rule")] + SETTINGS), SECTION_SETUP,
        [("Main outcomes", "sec.main_outcomes()"), ("Details by outcome", "sec.details()"),
         ("Our estimates beside the published review", "sec.compare_published()")]),
    "study_flow": lambda: notebook(
        "(sec-study-flow)=\n# Study flow and included studies\n\nThe runner puts the page's introduction here.",
        params(), "from reviewbook import book\n\npkg = book.load(package)",
        [("Flow diagram", "book.prisma(pkg)"), ("What the analyses cover", "book.coverage(pkg)"),
         ("Comparisons", "book.comparisons(pkg)"), ("Characteristics of the studies", "book.characteristics(pkg)"),
         ("Risk of bias", "book.risk_of_bias(pkg)"), ("Included studies not pooled", "book.not_pooled(pkg)")]),
    "summary_of_findings": lambda: notebook(
        "(sec-sof)=\n# Summary of findings\n\nThe runner puts the page's introduction here.",
        params(SETTINGS), "from reviewbook import book",
        [(None, f"book.summary_of_findings(package, review=review, {SETTINGS_ARGS})")]),
    "reproduction": lambda: notebook(
        "(sec-reproduction)=\n# Reproduction\n\nThe runner puts the page's introduction here.",
        params(SETTINGS), "from reviewbook import book\n\npkg = book.load(package)",
        [("The review's published estimates", f"book.published_estimates(pkg, review=review, {SETTINGS_ARGS})"),
         ("Certainty: our GRADE beside the review's", f"book.grade_from_data(pkg, review=review, {SETTINGS_ARGS})"),
         ("How each analysis's settings were obtained", "book.settings_table(pkg)"),
         ("Every per-study result", "book.study_results(pkg)")]),
    "independent": lambda: notebook(
        "(sec-independent)=\n# A second extractor\n\nThe runner puts the page's introduction here.",
        params(), "from reviewbook import book",
        [(None, "book.independent(package, review=review)")]),
}


def write_all():
    out = ROOT / "src" / "reviewbook" / "resources" / "notebooks"
    out.mkdir(exist_ok=True)
    for old in out.glob("*.ipynb"):
        if old.stem not in NOTEBOOKS:
            old.unlink()
    for name, make in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                       "language_info": {"name": "python"}}
        nb.cells = make()
        for i, c in enumerate(nb.cells):
            c["id"] = f"{name}-{i}"
        nbformat.write(nb, out / f"{name}.ipynb")
    print(f"wrote {len(NOTEBOOKS)} notebook templates to {out}")


if __name__ == "__main__":
    write_all()
