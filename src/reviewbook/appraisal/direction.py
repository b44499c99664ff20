"""Direction of benefit: which side of a forest plot favours whom, from a source.

The rule, in order (the first that applies decides):

1. **The package's own graph labels** (RevMan's ``Graph label (left)`` and
   ``Graph label (right)``), shown verbatim.  Which way benefit lies is then
   read from the package's ``Direction of benefit`` column where present, or
   from labels that name a group ("Favours ketamine" where the experimental
   group is "Ketamine"); RevMan's untouched defaults ("Favours [experimental]"
   / "Favours [control]") do not establish a direction, because RevMan writes
   them whatever the outcome.
2. **The package's** ``Direction of benefit`` **column** (our extension, written
   by ``build-review`` from the review file) without labels: labels are drawn
   from it.
3. **The review file's outcome rules**: a direction per analysis or instrument,
   each with the source that establishes which way the scale runs.
4. Otherwise **neutral labels that claim nothing**: "Lower with <experimental>"
   and "Higher with <experimental>"; the direction is *not assessed*.

RevMan draws the experimental group as favoured on the left for outcomes where
lower is better (Cochrane Handbook 5.1, 11.3.2.1: ratios below one and
differences below zero indicate that the experimental intervention is better
for unfavourable outcomes); for outcomes where higher is better the sides swap.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..package.outcomes import rule_for

#: RevMan's default graph labels: written whatever the outcome, so they say nothing.
_DEFAULT_LABEL = re.compile(r"^\s*favou?rs\s*\[?\s*(experimental|control|intervention|treatment)\s*\]?\s*$", re.I)


@dataclass(frozen=True)
class Direction:
    """Which way benefit lies on an analysis's scale, the forest-plot labels, and why.

    ``better``: ``"lower"``, ``"higher"`` or None (not assessed); ``left`` and
    ``right``: the labels under the forest plot's axis; ``basis``: which step of
    the rule decided (``"package labels"``, ``"package"``, ``"review file"`` or
    ``"not assessed"``); ``source``: the source that establishes the direction."""

    better: str | None
    left: str
    right: str
    basis: str
    source: str = ""
    instrument: str = ""

    @property
    def assessed(self) -> bool:
        return self.better is not None

    def favoured(self, value: float, null: float) -> str | None:
        """'experimental', 'control' or None: which arm an estimate on the
        reporting scale favours (None when it sits on the null or the
        direction is not assessed)."""
        if self.better is None or value == null:
            return None
        lower = value < null
        return "experimental" if lower == (self.better == "lower") else "control"

    @property
    def scale_text(self) -> str:
        return {"lower": "lower is better", "higher": "higher is better"}.get(self.better, "direction not assessed")


def group_names(settings) -> tuple:
    """The experimental and control groups as a reader should see them."""
    exp = settings.experimental_label if settings.experimental_label not in ("", "Experimental") else "experimental"
    ctl = settings.control_label if settings.control_label not in ("", "Control") else "control"
    return exp, ctl


def labels_for(better: str, settings) -> tuple:
    exp, ctl = group_names(settings)
    fav_exp, fav_ctl = f"Favours {exp}", f"Favours {ctl}"
    return (fav_exp, fav_ctl) if better == "lower" else (fav_ctl, fav_exp)


def _named(label: str, group: str) -> bool:
    """Whether a graph label is 'Favours <group>' for this group (case and
    brackets ignored)."""
    m = re.match(r"^\s*favou?rs\s+(.+?)\s*$", label or "", re.I)
    if not m or not group:
        return False
    norm = lambda t: re.sub(r"[\[\]()]", " ", t).lower().split()  # noqa: E731
    return norm(m.group(1)) == norm(group)


def from_labels(left: str, right: str, settings) -> str | None:
    """The direction RevMan's labels establish, or None (see the module docstring)."""
    if _DEFAULT_LABEL.match(left or "") or _DEFAULT_LABEL.match(right or ""):
        return None
    exp, ctl = settings.experimental_label, settings.control_label
    if (_named(left, exp) and not _named(right, exp)) or (_named(right, ctl) and not _named(left, ctl)):
        return "lower"
    if (_named(right, exp) and not _named(left, exp)) or (_named(left, ctl) and not _named(right, ctl)):
        return "higher"
    return None


def resolve(settings, rules=()) -> Direction:
    """The :class:`Direction` of one analysis (``settings``: its
    :class:`~reviewbook.package.schema.AnalysisSettings`; ``rules``: the review
    file's outcome rules)."""
    left, right = settings.label_left, settings.label_right
    if left or right:
        if settings.direction:
            better, src = settings.direction, settings.direction_source or "the data package"
        else:
            better = from_labels(left, right, settings)
            src = "the data package's graph labels" if better else ""
        return Direction(better, left, right, "package labels", src, settings.instrument)
    if settings.direction:
        lft, rgt = labels_for(settings.direction, settings)
        return Direction(settings.direction, lft, rgt, "package", settings.direction_source or "the data package",
                         settings.instrument)
    rule = rule_for(rules, settings.id, settings.name)
    if rule is not None and rule.better:
        lft, rgt = labels_for(rule.better, settings)
        return Direction(rule.better, lft, rgt, "review file", rule.direction_source, rule.instrument)
    exp, _ = group_names(settings)
    return Direction(None, f"Lower with {exp}", f"Higher with {exp}", "not assessed", "",
                     rule.instrument if rule else settings.instrument)
