"""PRISMA 2020 flow diagram drawn from a package's study-flow counts, laid out
as the PRISMA2020 R package and Shiny app draw it (Haddaway et al. 2022,
Campbell Syst Rev 18:e1230; Page et al. 2021, BMJ 372:n71): a header over the
flow of new studies via databases and registers, the phases Identification,
Screening and Included as bands on the left, the main boxes down the left
column joined by arrows, and the records or reports leaving the flow in boxes
on the right, each reached by an arrow.

Counts that are not public are shown as "not reported" (never estimated) and
their boxes are drawn dashed and grey, so that a reader sees at once which
numbers the review's public sources give.
"""
from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from .style import apply_style  # noqa: E402

#: (step key of study-flow.csv, label) of each count, by box: (phase, column, row, lines).
#: Column 0 is the main flow, column 1 what leaves it at that row.
BOXES = [
    ("Identification", 0, 0, [("records_identified", "Records identified from databases and registers")]),
    ("Identification", 1, 0, [("duplicates_removed", "Records removed before screening: duplicate records")]),
    ("Screening", 0, 1, [("records_screened", "Records screened")]),
    ("Screening", 1, 1, [("records_excluded", "Records excluded")]),
    ("Screening", 0, 2, [("reports_sought", "Reports sought for retrieval")]),
    ("Screening", 1, 2, [("reports_not_retrieved", "Reports not retrieved")]),
    ("Screening", 0, 3, [("full_texts_assessed", "Reports assessed for eligibility")]),
    ("Screening", 1, 3, [("full_texts_excluded", "Reports excluded, with reasons")]),
    ("Included", 0, 4, [("studies_included", "Studies included in review"),
                        ("reports_included", "Reports of included studies")]),
    ("Included", 1, 4, [("studies_in_meta_analyses", "Studies included in meta-analyses"),
                        ("participants_randomised", "Participants randomised in included studies"),
                        ("ongoing_studies", "Ongoing studies")]),
]
#: Every count of the diagram, in reading order: (step key, label).
STEPS = [line for _, _, _, lines in BOXES for line in lines]
PHASES = ("Identification", "Screening", "Included")
NOT_REPORTED = "not reported"
LINE = 0.34  # line height in a box (axis units)


def count_text(value) -> str:
    value = "" if value is None else str(value).strip()
    if not value:
        return NOT_REPORTED
    try:
        return f"{int(float(value)):,}"
    except ValueError:
        return value


def prisma_diagram(counts: dict):
    """``counts``: step key -> count (str, number or blank).  Returns the Figure."""
    apply_style()
    n_rows = 1 + max(row for _, _, row, _ in BOXES)
    row_h, gap = 1.6, 0.5  # box height and vertical gap (axis units)
    top = n_rows * (row_h + gap)
    fig, ax = plt.subplots(figsize=(9.0, 0.55 * (top + 1.7)))
    fig.subplots_adjust(0, 0, 1, 1)
    ax.set_xlim(0, 10)
    ax.set_ylim(-0.9, top + 0.95)
    ax.axis("off")
    band_x, xs, w = 0.05, {0: 0.9, 1: 5.75}, {0: 4.1, 1: 4.2}

    def y_of(row):
        return top - (row + 1) * (row_h + gap) + gap / 2

    # header: the flow of new studies via databases and registers (PRISMA2020's yellow header)
    ax.add_patch(FancyBboxPatch((xs[0], top + 0.08), xs[1] + w[1] - xs[0], 0.6, boxstyle="round,pad=0.02",
                                fc="#ffc000", ec="#7f6000", lw=0.8))
    ax.text((xs[0] + xs[1] + w[1]) / 2, top + 0.38, "Identification of studies via databases and registers",
            ha="center", va="center", fontsize=11, fontweight="bold")
    # phase bands on the left (PRISMA2020's blue side labels)
    for phase in PHASES:
        rows = [row for ph, _, row, _ in BOXES if ph == phase]
        y0, y1 = y_of(max(rows)), y_of(min(rows)) + row_h
        ax.add_patch(FancyBboxPatch((band_x, y0), 0.55, y1 - y0, boxstyle="round,pad=0.02", fc="#9dc3e6",
                                    ec="#2f5597", lw=0.8))
        ax.text(band_x + 0.275, (y0 + y1) / 2, phase, rotation=90, ha="center", va="center", fontsize=10,
                fontweight="bold")
    for _phase, col, row, lines in BOXES:
        x, y = xs[col], y_of(row)
        missing = all(count_text(counts.get(k)) == NOT_REPORTED for k, _ in lines)
        ax.add_patch(FancyBboxPatch((x, y), w[col], row_h, boxstyle="round,pad=0.03",
                                    fc="#f2f2f2" if missing else "white", ec="0.5" if missing else "black",
                                    lw=1.0, ls=(0, (4, 2.5)) if missing else "-"))
        items = [(textwrap.wrap(f"{label} (n = {count_text(counts.get(key))})", 44),
                  count_text(counts.get(key)) == NOT_REPORTED) for key, label in lines]
        n_lines = sum(len(w) for w, _ in items)
        ty = y + row_h / 2 + (n_lines - 1) * LINE / 2
        for wrapped, grey in items:
            for line in wrapped:
                ax.text(x + 0.15, ty, line, ha="left", va="center", fontsize=10, color="0.3" if grey else "black")
                ty -= LINE
    # arrows: down the main flow, and out to each box on the right
    for row in range(n_rows - 1):
        x = xs[0] + w[0] / 2
        ax.add_patch(FancyArrowPatch((x, y_of(row) - 0.03), (x, y_of(row + 1) + row_h + 0.05),
                                     arrowstyle="-|>", mutation_scale=14, lw=1.1, color="black"))
    for _phase, col, row, _lines in BOXES:
        if col == 1 and row < n_rows - 1:
            y = y_of(row) + row_h / 2
            ax.add_patch(FancyArrowPatch((xs[0] + w[0] + 0.04, y), (xs[1] - 0.05, y), arrowstyle="-|>",
                                         mutation_scale=14, lw=1.1, color="black"))
    ax.add_patch(FancyBboxPatch((xs[0], -0.72), 0.45, 0.32, boxstyle="round,pad=0.02", fc="#f2f2f2", ec="0.5",
                                lw=1.0, ls=(0, (4, 2.5))))
    ax.text(xs[0] + 0.6, -0.56, "Dashed grey box: the count is not reported in the public sources "
            "(shown as 'not reported', never estimated).", ha="left", va="center", fontsize=9.5, color="0.25")
    return fig
