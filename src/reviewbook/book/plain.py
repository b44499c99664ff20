"""Plain words for the landing page: every effect in the reader's units, the
follow-up window named, glossary terms linked on first use, and one bottom line
per comparison (the Cochrane Library's plain-language summaries: what the
benefit is, what the harm is, how sure we are).

Nothing here judges: the statements, certainty ratings and absolute effects are
the appraisal's (:mod:`reviewbook.appraisal`); this module only says them in
the reader's units.

* **Units.**  A mean difference is in points of the outcome's scale, named
  from the review file's outcome rule (``scale``, with its instrument) where
  one matches, otherwise "points on the scale the studies used" (a package
  carries no scale).  An SMD is in standard deviations.  A risk or odds ratio
  is shown with the anticipated absolute effect per 1,000 people (the
  appraisal's assumed control risk and corresponding risk, Cochrane Handbook
  ch. 14).
* **Follow-up windows** are read from the analysis name ("immediate-term
  follow-up", "short term", ...): the review's own words; the methods page
  says how the review names them.
* **Glossary terms** (``{term}`` role, the Glossary page) link on their first
  use on a page: :class:`Terms` remembers which it has linked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..engine.report import fmt
from ..package.outcomes import rule_for
from ..views.tables import escape

#: The glossary's terms (the keys of book/glossary.md's entries) and the words
#: that stand for each in the book's text.
GLOSSARY = {
    "MD": "mean difference",
    "SMD": "standardised mean difference",
    "RR": "risk ratio",
    "OR": "odds ratio",
    "RD": "risk difference",
    "CI": "confidence interval",
    "RCT": "randomised controlled trial",
    "GRADE": "certainty of the evidence",
    "MID": "minimal important difference",
    "per 1,000": "absolute effect",
    "follow-up window": "follow-up window",
}

#: A follow-up window as review analyses name it: 'immediate-term follow-up',
#: 'short term', 'medium-term', 'long term follow up'.
WINDOW = re.compile(r"\b(?P<w>immediate|short|medium|intermediate|long)[- ]term(?: follow[- ]?up)?\b", re.I)


def window_of(name: str) -> str | None:
    """The follow-up window an analysis name states ('short-term'), or None."""
    m = WINDOW.search(name or "")
    return f"{m['w'].lower()}-term" if m else None


def windows_named(names) -> list:
    """The distinct follow-up windows the analysis names state, in time order."""
    order = ["immediate-term", "short-term", "medium-term", "intermediate-term", "long-term"]
    found = {w for w in (window_of(n) for n in names) if w}
    return [w for w in order if w in found]


class Terms:
    """Glossary links on first use: :meth:`link` gives a ``{term}`` role the
    first time a term is used on the page, the escaped word after that."""

    def __init__(self):
        self.seen = set()

    def link(self, key: str, shown: str | None = None) -> str:
        shown = key if shown is None else shown
        if key in self.seen or key not in GLOSSARY:
            return escape(shown)
        self.seen.add(key)
        safe = shown.replace("`", "").replace("<", "").replace(">", "")
        return f"{{term}}`{safe} <{key}>`"

    def words(self, text: str) -> str:
        """``text`` escaped, with the first use of each glossary abbreviation
        (a whole word: MD, RR, CI, ...) linked."""
        out, pos = [], 0
        abbr = "|".join(re.escape(k) for k in GLOSSARY if k.isupper())
        pattern = re.compile(rf"\b(?P<a>{abbr})(?P<s>s?)\b|{WINDOW.pattern}", re.I)
        for m in pattern.finditer(text):
            if m["a"] and m["a"] != m["a"].upper():
                continue  # 'or', 'md': words, not abbreviations
            out.append(escape(text[pos:m.start()]))
            out.append(self.link(m["a"], m.group(0)) if m["a"] else self.link("follow-up window", m.group(0)))
            pos = m.end()
        out.append(escape(text[pos:]))
        return "".join(out)


@dataclass(frozen=True)
class Scale:
    """The scale an outcome is measured on, as the reader should see it:
    ``text`` ('0 (no pain) to 100 (worst pain)') or empty where not stated;
    ``instrument``; ``unit``: 'points' for a mean difference, 'standard
    deviations' for an SMD, 'per 1,000' for risks."""

    text: str
    instrument: str
    unit: str


def scale_of(it, review) -> Scale:
    """The scale of a judged analysis from the review file's outcome rules."""
    s = it.settings
    rule = rule_for(getattr(review.appraisal, "outcomes", ()), it.aid, s.name)
    measure = it.pooled.measure if it.pooled is not None else ""
    unit = {"MD": "points", "SMD": "standard deviations"}.get(measure, "per 1,000")
    text = rule.scale if rule is not None else ""
    instrument = rule.instrument if rule is not None else (getattr(s, "instrument", "") or "")
    return Scale(text, instrument, unit)


def _side(x: float, digits: int = 1, unit: str = "") -> str:
    """'15.8 points lower', '0.5 higher', '0 points'."""
    v = fmt(abs(x), digits)
    unit = f" {unit}" if unit else ""
    return f"{fmt(0, digits)}{unit}" if v == fmt(0, digits) else f"{v}{unit} {'lower' if x < 0 else 'higher'}"


def effect_in_units(it, review, terms: Terms) -> tuple:
    """``(markdown, text)``: the effect of a judged analysis in the reader's
    units, with its 95% CI.  A mean difference: '15.8 points lower (32.1 lower
    to 0.5 higher) on a scale of 0 (no pain) to 100 (worst pain)'; a ratio: '326
    more per 1,000 people (...)' with the risk in each arm; an SMD in standard
    deviations."""
    r, a = it.pooled, it.appraisal
    sc = scale_of(it, review)
    level = f"{int(round(getattr(r, 'level', 0.95) * 100))}%"
    if r.measure in ("MD", "SMD"):
        unit, digits = ("points", 1) if r.measure == "MD" else ("standard deviations", 2)
        where = ""
        if r.measure == "MD":
            where = (f" on a scale of {sc.text}" if sc.text else
                     " on the scale the studies used (not named in the data package)")
        est, lo, hi = _side(r.estimate, digits, unit), _side(r.ci_low, digits), _side(r.ci_high, digits)
        text = f"{est} ({level} CI {lo} to {hi}){where}"
        md = f"{escape(est)} ({level} {terms.link('CI')} {escape(lo)} to {escape(hi)}){escape(where)}"
        return md, text
    ab = a.absolute if a is not None else None
    if ab is not None and ab.difference is not None and ab.kind in ("ratio", "risk difference"):
        d = ab.difference

        def per(x):
            n = int(fmt(abs(x), 0))
            return f"{n:,} {'fewer' if x < 0 else 'more'}"
        risk = ""
        if ab.per_1000:
            from ..appraisal.statements import intervention_phrase

            exp, ctl = intervention_phrase(it.settings)
            risk = f": {int(fmt(ab.per_1000[0], 0)):,} per 1,000 with {exp} against {ab.control} with {ctl}"
        text = f"{per(d[0])} per 1,000 people ({level} CI {per(d[1])} to {per(d[2])}){risk}"
        md = (f"{per(d[0])} {terms.link('per 1,000')} people ({level} {terms.link('CI')} {per(d[1])} to "
              f"{per(d[2])}){escape(risk)}")
        return md, text
    from ..engine.report import fmt_effect

    text = fmt_effect(r.measure, r.estimate, r.ci_low, r.ci_high)
    if ab is not None and ab.kind == "zero control risk":
        # no events in any control arm: the events in each arm, and no absolute effect
        # (a ratio times a risk of 0 is 0; methods page, absolute effects)
        from ..appraisal.statements import intervention_phrase

        exp, ctl = intervention_phrase(it.settings)
        more = (f"; {ab.intervention} with {exp} against {ab.control} with {ctl}, so no risk per 1,000 "
                "can be given")
        return terms.words(text) + escape(more), text + more
    return terms.words(text), text


def plain_outcome(name: str) -> str:
    """An analysis name as plain words: RevMan's data-type tag '(continuous)'
    or '(dichotomous)' left out (the unit says it)."""
    return re.sub(r"\s*\((?:continuous|dichotomous)\)", "", name or "").strip()
