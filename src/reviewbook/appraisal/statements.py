"""GRADE narrative statements (GRADE 26, Santesso et al. 2020, J Clin Epidemiol
119:126): a sentence that says both how large the effect is and how certain.

Rule.  The size of the effect is read from the point estimate against the MID
(:mod:`.mid`): past a threshold it is an important effect ("reduces" below
the null, "increases" above it); between the thresholds, or exactly on one, it
is "little to no difference".  The verb follows the final certainty rating, as
GRADE 26's template does ("probably" only for moderate, "may" only for low):

=============  ===============================  =========================================
certainty      important effect                 trivial or no effect
=============  ===============================  =========================================
high           X reduces / increases Y          X results in little to no difference in Y
moderate       X probably reduces / increases Y X probably results in little to no
                                                difference in Y
low            X may reduce / increase Y        X may result in little to no difference in Y
very low       The evidence is very uncertain about the effect of X on Y.
=============  ===============================  =========================================

"Reduces" and "increases" describe the number on the outcome's scale (fewer
events, a lower score), not whether that is good: which way is better is the
direction's (:mod:`.direction`).  Where no MID is set the size cannot be judged
and the statement says so rather than guess.  An analysis that is not
estimable gets no statement.
"""
from __future__ import annotations

from .direction import group_names
from .phrases import in_sentence, outcome_phrase  # noqa: F401 (the outcome phrase: .phrases)

VERBS = {
    "high": ("{x} {verb}s {y}", "{x} results in little to no difference in {y}"),
    "moderate": ("{x} probably {verb}s {y}", "{x} probably results in little to no difference in {y}"),
    "low": ("{x} may {verb} {y}", "{x} may result in little to no difference in {y}"),
}


def intervention_phrase(settings) -> tuple:
    exp, ctl = group_names(settings)
    x = "the experimental intervention" if exp == "experimental" else in_sentence(exp)
    return x, in_sentence(ctl)


def size_of(estimate: float, mid) -> str | None:
    """'important' or 'trivial' from the point estimate against the MID; None
    when the MID is not assessed."""
    region = mid.region(estimate)
    if region is None:
        return None
    return "trivial" if region == 0 else "important"


def statement(settings, certainty: str, estimate: float, null: float, mid, dichotomous: bool) -> str:
    """The GRADE 26 statement for one pooled result (see the module docstring)."""
    x, ctl = intervention_phrase(settings)
    y = outcome_phrase(settings, dichotomous)
    tail = f" compared with {ctl}"
    if certainty == "very low":
        return f"The evidence is very uncertain about the effect of {x} on {y}{tail}."
    size = size_of(estimate, mid)
    if size is None:
        verb = "reduce" if estimate < null else "increase"
        said = {"high": f"{verb}s", "moderate": f"probably {verb}s", "low": f"may {verb}"}[certainty]
        return (f"{_cap(x)} {said} {y}{tail}; whether the effect is large enough to matter is not assessed (no "
                "minimal important difference).")
    important, trivial = VERBS[certainty]
    if size == "trivial":
        return _cap(trivial.format(x=x, y=y)) + tail + "."
    verb = "reduce" if estimate < null else "increase"
    return _cap(important.format(x=x, y=y, verb=verb)) + tail + "."


def short(text: str) -> str:
    """The statement's verb phrase for compact tables ('may reduce',
    'probably results in little to no difference', 'very uncertain')."""
    if text.startswith("The evidence is very uncertain"):
        return "very uncertain"
    for phrase in ("may result in little to no difference", "probably results in little to no difference",
                   "results in little to no difference", "may reduce", "may increase", "probably reduces",
                   "probably increases", "reduces", "increases"):
        if f" {phrase} " in f" {text} ":
            return phrase
    return text


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]
