"""Outcome rules: which way an outcome's scale runs, its instrument and its
minimal important difference, each with the source that establishes it.

A review file (``book/review.yml``, key ``outcomes``) lists rules; the first
rule that matches an analysis applies to it.  A rule matches by analysis ids
(``analyses: ["1.3", "1.7"]``) or by a regular expression on the analysis
name (``outcome: "EQ-5D"``), optionally restricted to comparisons
(``groups: [7]``)::

    outcomes:
      - outcome: "Pain intensity \\\\(continuous\\\\)"
        instrument: "pain intensity, 0-100 (VAS or NRS)"
        better: lower
        direction_source: "Farrar et al. 2001, Pain 94:149 (0 = no pain)"
        mid: 10
        mid_source: "Busse et al. 2015, J Rheumatol 42:1962 (OMERACT 12): MID 10 mm on a 100 mm VAS"

``better`` is ``lower`` or ``higher``; a rule may give a direction without an
MID or an MID without a direction.  Where no rule gives a direction, the book
says "not assessed" and uses neutral forest-plot labels; where no rule gives an
MID, the appraisal layer's stated defaults apply.

The rules are data (no judgement is made here): ``build-review`` writes the
directions into the package's settings, and the appraisal layer applies them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import InputError, Problem
from .patterns import check as check_pattern
from .patterns import search

BETTER = ("lower", "higher")
#: Extension columns of overall-estimates-and-settings.csv that carry a direction
#: of benefit established outside RevMan (RevMan itself stores only graph labels).
DIRECTION_COLUMNS = ("Direction of benefit", "Direction source", "Outcome instrument")


@dataclass(frozen=True)
class OutcomeRule:
    """One rule of the review file's ``outcomes`` list (see the module docstring)."""

    instrument: str = ""
    better: str | None = None
    direction_source: str = ""
    mid: float | None = None
    mid_source: str = ""
    analyses: tuple | None = None
    outcome: str | None = None
    groups: tuple | None = None
    scale: str = ""
    note: str = ""

    def matches(self, aid: str, name: str) -> bool:
        if self.analyses is not None and aid not in self.analyses:
            return False
        if self.groups is not None and int(aid.split(".")[0]) not in self.groups:
            return False
        if self.outcome and not search(self.outcome, name):
            return False
        return True


def rule_for(rules, aid: str, name: str) -> OutcomeRule | None:
    """The first rule of ``rules`` that matches analysis ``aid`` named ``name``."""
    for r in rules or ():
        if r.matches(aid, name):
            return r
    return None


def parse_rules(items, file: str, key: str = "outcomes") -> tuple:
    """``OutcomeRule`` objects from the review file's list; :class:`InputError`
    names the entry and key of every problem."""
    problems = []
    if items is None:
        return ()
    if not isinstance(items, list):
        raise InputError([Problem(file, None, key, repr(items)[:60], "a list of outcome rules")])
    out = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            problems.append(Problem(file, None, where, repr(item)[:60], "a mapping (instrument, better, mid, ...)"))
            continue
        known = {"instrument", "better", "direction_source", "mid", "mid_source", "analyses", "outcome", "groups",
                 "scale", "note"}
        for k in item:
            if k not in known:
                problems.append(Problem(file, None, f"{where}.{k}", "an unknown key", "one of " + ", ".join(sorted(known))))
        better = item.get("better")
        if better is not None and better not in BETTER:
            problems.append(Problem(file, None, f"{where}.better", repr(better), "lower or higher"))
        if better is not None and not str(item.get("direction_source") or "").strip():
            problems.append(Problem(file, None, f"{where}.direction_source", "no source",
                                    "the source that establishes which way the scale runs"))
        mid = item.get("mid")
        if mid is not None:
            if isinstance(mid, bool) or not isinstance(mid, (int, float)) or not mid > 0:
                problems.append(Problem(file, None, f"{where}.mid", repr(mid), "a number > 0 (in the outcome's units)"))
                mid = None
            elif not str(item.get("mid_source") or "").strip():
                problems.append(Problem(file, None, f"{where}.mid_source", "no source", "the source of the MID"))
        analyses = item.get("analyses")
        if analyses is not None:
            if not isinstance(analyses, list) or not all(re.fullmatch(r"\d+\.\d+", str(a)) for a in analyses):
                problems.append(Problem(file, None, f"{where}.analyses", repr(analyses)[:60],
                                        "a list of analysis ids such as \"1.3\""))
                analyses = None
            else:
                analyses = tuple(str(a) for a in analyses)
        pattern = item.get("outcome")
        if pattern is not None:
            why = check_pattern(pattern) if isinstance(pattern, str) else "not text"
            if why:
                problems.append(Problem(file, None, f"{where}.outcome", repr(pattern)[:80],
                                        f"a regular expression RE2 can run ({why})"))
                pattern = None
        groups = item.get("groups")
        if groups is not None and not (isinstance(groups, list) and all(isinstance(g, int) for g in groups)):
            problems.append(Problem(file, None, f"{where}.groups", repr(groups), "a list of comparison numbers"))
            groups = None
        if analyses is None and pattern is None and item.get("analyses") is None and item.get("outcome") is None:
            problems.append(Problem(file, None, where, "a rule that names no analysis",
                                    "'analyses' (ids) or 'outcome' (a regular expression on the analysis name)"))
        out.append(OutcomeRule(instrument=str(item.get("instrument") or "").strip(), better=better,
                               direction_source=str(item.get("direction_source") or "").strip(),
                               mid=None if mid is None else float(mid),
                               mid_source=str(item.get("mid_source") or "").strip(), analyses=analyses,
                               outcome=None if pattern is None else str(pattern),
                               groups=None if groups is None else tuple(groups),
                               scale=str(item.get("scale") or "").strip(), note=str(item.get("note") or "").strip()))
    if problems:
        raise InputError(problems)
    return tuple(out)
