"""Which analyses are main outcomes and which are secondary looks at an outcome
(sensitivity or subgroup analyses), read from the package's structure and names.

Key findings and summary-of-findings tables report outcomes.  A sensitivity
analysis repeats an outcome's synthesis under other assumptions, and a subgroup
analysis splits its studies; neither is a further outcome (Cochrane Handbook
ch. 10.11 and 10.14; ch. 14.1: a summary of findings presents the main outcomes,
up to seven).  An analysis is *secondary* when

1. it is a subgroup view of another analysis of its comparison (its rows all
   appear, with the same numbers, in an analysis without subgroups:
   :func:`reviewbook.appraisal.counting.subgroup_parents`); or
2. its name calls it one (:data:`SECONDARY_NAME`): the word 'sensitivity'
   ('hypersensitivity' is not it), 'subgroup' or 'subgroups', a best-case or
   worst-case scenario ('best-case', 'worst case', 'best-worst case'), or
   'per protocol'; or
3. its name differs from that of an earlier analysis of the comparison only by
   naming the model (:data:`MODEL_NAME`: 'fixed-effect model',
   'random-effects model', ...): the same outcome pooled again under another
   model (the first of them is the outcome).

Rows alone cannot tell a sensitivity analysis from a narrower outcome: an
analysis whose rows are a part of another's may be one (some studies left out)
or a specific event of a broader one with the same counts (CD015373 1.13,
hallucinations, within 1.12), and two outcomes may carry the same numbers
(CD015849.pub2: 'Cardiovascular death' 2.2 and 'All-cause death' 2.1; CD007026.pub7:
'fatal SAEs' within 'All-cause death'); so no rule beyond the subgroup view reads
it from the rows.

The book layer chooses the main outcomes among the others (``reviewbook.book.synthesis.RULE``).
"""
from __future__ import annotations

import re
from .counting import subgroup_parents

#: Names that call an analysis a sensitivity or subgroup analysis (rule 2).
SECONDARY_NAME = re.compile(
    r"(?<![A-Za-z-])sensitivity\b|\bsub-?groups?\b|\b(?:best|worst)(?:[- ](?:best|worst))?[- ]case\b"
    r"|\bper[- ]protocol\b", re.I)

#: A model named in an analysis name (rule 3), with what separates it from the outcome.
MODEL_NAME = re.compile(r"[\s,;:(\-–—]*\b(?:conducting the analyses with )?(?:a )?(?:fixed|random)[- ]effects?"
                        r"(?: model)?\)?", re.I)

#: The rule that finds sensitivity and subgroup analyses, in words (methods page).
SECONDARY_RULE = ("an analysis is a sensitivity or subgroup analysis when it splits the studies of another analysis "
                  "of its comparison into subgroups (its rows all appear, with the same numbers, in an analysis "
                  "without subgroups), when its name says so ('sensitivity', 'subgroup', a best-case or worst-case "
                  "scenario, 'per protocol'), or when its name differs from an earlier analysis's of the comparison "
                  "only by naming the model ('fixed-effect model'): the same outcome pooled again")


def secondary_analyses(pkg) -> dict:
    """``{analysis id: reason}`` for every analysis of ``pkg`` that is a sensitivity
    or subgroup analysis (module docstring), the reason in words."""
    ids = pkg.analysis_ids()
    parents = subgroup_parents(pkg)
    out = {}
    for a in ids:
        if a in parents:
            out[a] = f"a subgroup analysis of analysis {parents[a]}"
            continue
        m = SECONDARY_NAME.search(pkg.analysis(a).name or "")
        if m:
            word = m.group(0).lower()
            kind = "subgroup" if "sub" in word else "sensitivity"
            out[a] = f"a {kind} analysis (its name says '{m.group(0)}')"
    for a in ids:
        name = pkg.analysis(a).name or ""
        if a in out or not MODEL_NAME.search(name):
            continue
        stem = (a.split(".")[0], re.sub(r"\s+", " ", MODEL_NAME.sub("", name)).strip(" -–—:;,").lower())
        for b in ids:
            if b == a:
                break
            other = pkg.analysis(b).name or ""
            if b not in out and b.split(".")[0] == stem[0] and \
                    re.sub(r"\s+", " ", MODEL_NAME.sub("", other)).strip(" -–—:;,").lower() == stem[1]:
                out[a] = f"a sensitivity analysis of analysis {b} (the same outcome under another model)"
                break
    return out
