"""Shares of a cProfile's total time taken by named functions (cumulative time).

    python benchmarks/shares.py PROFILE {section|runner|sphinx}

Prints a Markdown table: each named cost and its share of the profile's total
(shares, unlike seconds, are comparable on a loaded machine).
"""
from __future__ import annotations

import pstats
import re
import sys

SETS = {
    "section": [
        ("imports (all)", r"_find_and_load\)"),
        ("seaborn import (scipy.stats inside)", r"seaborn/__init__\.py:1\("),
        ("matplotlib.pyplot import", r"matplotlib/pyplot\.py:1\("),
        ("scipy.optimize import", r"scipy/optimize/__init__\.py:1\("),
        ("judged_all (every analysis run and appraised)", r"\(judged_all\)"),
        ("rows_of", r"\(rows_of\)"),
        ("RoB rows of the appraisal", r"\(_rob_rows\)"),
        ("details", r"sections\.py:\d+\(details\)"),
        ("_forest_parts", r"\(_forest_parts\)"),
        ("forest_plot (drawing)", r"\(forest_plot\)"),
        ("SVG writer (savefig)", r"figure\.py:\d+\(savefig\)"),
        ("text layout (FreeType)", r"text\.py:\d+\(_get_layout\)"),
    ],
    "runner": [
        ("build() (everything after the imports)", r"runner\.py:\d+\(build\)"),
        ("notebooks (waiting for the kernels)", r"_base\.py:\d+\(as_completed"),
        ("Sphinx (waiting for its process)", r"build/site\.py:\d+\(run\)"),
        ("exports and downloads", r"\(_downloads\)"),
        ("FHIR bundle (in the main thread)", r"fhir\.py:\d+\(build_json"),
        ("fingerprints", r"\(fingerprint\)"),
        ("sources copied (substitutions, references)", r"\(_copy_sources\)"),
        ("notebooks validated", r"build/validate\.py:\d+\(validate\)"),
        ("package read", r"load\.py:\d+\(read_any"),
        ("imports (all)", r"_find_and_load\)"),
    ],
    "sphinx": [
        ("waiting for the notebooks ('go')", r"sphinx\.py:\d+\(go\)"),
        ("Sphinx application made (extensions)", r"application\.py:\d+\(__init__"),
        ("build", r"application\.py:\d+\(build\)"),
        ("read", r"builders/__init__\.py:\d+\(read\)"),
        ("write", r"builders/__init__\.py:\d+\(write\)"),
        ("bibtex: citations resolved", r"bibtex/domain\.py:\d+\(resolve_xref"),
        ("pybtex plugin look-up", r"pybtex/plugin/__init__\.py:\d+\(find_plugin"),
        ("bibtex: bibliography formatted", r"bibtex/domain\.py:\d+\(env_updated"),
    ],
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    stats = pstats.Stats(argv[0])
    total = stats.total_tt
    print(f"| {argv[0].rsplit('/', 1)[-1]} (total {total:.1f} s profiled) | share |\n|---|---|")
    for label, pat in SETS[argv[1]]:
        cum = max([v[3] for (f, line, fn), v in stats.stats.items() if re.search(pat, f"{f}:{line}({fn})")] or [0])
        print(f"| {label} | {100 * cum / total:.0f} % |")


if __name__ == "__main__":
    main()
