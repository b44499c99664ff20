"""How an analysis name reads inside a sentence ('the number of people with
nausea', 'pain intensity'): the outcome phrase of the GRADE narrative
statements (:mod:`.statements`) and of the key findings.

Rules, in order (tested on every analysis name of the training half of the
Pairwise70 collection, tests/test_phrases.py):

1. Whitespace is collapsed, a final full stop dropped, and a leading
   'A versus B: ' removed (the comparison is said elsewhere in the sentence).
   So is a leading 'Subgroup analysis ...: ' or 'Sensitivity analysis ...: ', and
   a trailing ': clinical condition subgroup analysis' or '- Sensitivity
   analysis (best-case scenario)' (which analysis of the outcome it is).
   The first letter is lower-cased unless the name starts with an
   abbreviation ('HADS', 'SF-36').
2. A hazard or rate ratio's outcome is an event: 'the risk of <name>' (a
   trailing '(Hazard ratio)' is dropped: the measure is not the outcome).
   Other continuous outcomes read as their name.  Where which way is better is not
   assessed, 'the measured <name>': 'increase' and 'reduce' then speak of the
   number measured, never of the construct ('may increase tolerability' would
   claim a benefit nobody assessed).
3. Dichotomous outcomes count people (RevMan's events are participants with
   the event):

   * a name that already counts ('Number of participants with X',
     'Proportion of women who X', 'Rate of X', 'Incidence of X') is rebuilt as
     'the number of <who> with X' (people where it names no one), never
     'the number of people with proportion of people with ...';
   * a name that starts with who is counted ('Participants with X', 'Women
     who X') reads 'the number of participants with X';
   * a responder outcome 'X (≥ 50% reduction), ...' reads 'the number of people
     with a reduction of at least 50% in X, ...';
   * withdrawals and dropouts read 'the number of people who withdrew ...',
     'who dropped out ...';
   * an outcome named by a property of the treatment, not by something a
     person has (:data:`CONSTRUCTS`: tolerability, acceptability, efficacy,
     safety, adherence, ...), cannot follow 'people with': it reads 'the number
     of people counted under ‘tolerability’' (the review says what it counted);
   * anything else reads 'the number of people with <name>'.
"""
from __future__ import annotations

import re

#: People a count may be of, as analysis names say them.
WHO = (r"people|persons|participants|patients|subjects|individuals|women|men|mothers|children|infants|babies|"
       r"neonates|newborns|adults|adolescents|girls|boys|smokers|users|respondents|volunteers|carers|caregivers|"
       r"families|pregnancies|couples")
_COUNT = re.compile(r"^(?:the\s+)?(?:total\s+)?(?:numbers?|no\.|n|proportions?|percentages?|per ?cent|rates?|risks?|"
                    r"incidences?|prevalence|frequency|occurrences?|counts?)\s+of\s+(?P<rest>.+)$", re.I)
#: What may follow the people counted ('with', 'who', 'reporting', ...), or a verb in -ing/-ed.
_RELATION = re.compile(r"(?:(?:with|without|who|whom|whose|that|having|in|on|at|from|\w+ing|\w+ed)\b|\()", re.I)
_WHO_LED = re.compile(rf"^(?P<who>{WHO})\b\s*(?P<tail>.*)$", re.I)
#: Outcomes named by a property of the treatment or of care rather than by something a
#: person has or does: 'the number of people with tolerability' is not English.
CONSTRUCTS = ("tolerability", "acceptability", "efficacy", "effectiveness", "safety", "compliance", "adherence",
              "retention", "attendance", "uptake", "satisfaction", "survival", "feasibility", "acceptance",
              "engagement", "participation", "continuation", "persistence", "tolerance", "treatment success",
              "treatment failure", "success", "failure", "response", "overall response", "efficacy and safety")
_CONSTRUCT = re.compile(r"^(?:overall |global |clinical |treatment )?(?:" + "|".join(
    sorted((re.escape(c) for c in CONSTRUCTS), key=len, reverse=True)) + r")\b(?!\s+(?:of|to|in|from|due)\b)", re.I)
#: A name that speaks of a count, a rate or a comparison after its start ('complete response rate',
#: 'A versus B'): after 'people with' it would not read as English.
_NOT_A_STATE = re.compile(r"\b(?:rates?|ratios?|proportions?|percentages?|per ?cent|numbers?|incidences?|prevalence|"
                          r"frequenc(?:y|ies)|versus|vs\.?|analys[ie]s)(?=\W|$)", re.I)
#: A trailing ': clinical condition subgroup analysis' or '- Sensitivity analysis (best-case scenario)':
#: which analysis of the outcome it is, not the outcome.
_ANALYSIS_SUFFIX = re.compile(r"(?:\s*[:;,]\s*|\s+[-–—]\s+|\s*\(|\.\s+)[^:;()]{0,80}?\b(?:sub-?group|sensitivity) "
                              r"analys[ie]s\b(?:\s*\([^()]*\))?\)?\s*$", re.I)
#: A trailing measure in brackets ('All-cause death (Hazard ratio)'): the measure is not the outcome.
_MEASURE_TAG = re.compile(r"\s*[(\[](?:hazard ratio|HR|risk ratio|RR|odds ratio|OR|rate ratio|IRR|ratio of means|"
                          r"mean difference|MD|standardi[sz]ed mean difference|SMD|risk difference|RD|"
                          r"generic inverse variance|GIV)[)\]]\s*$", re.I)
#: A leading 'Subgroup analysis: ' or 'Sensitivity analysis (funding): ' (the outcome follows).
_ANALYSIS_PREFIX = re.compile(r"^(?:sub-?group|sensitivity) analys[ie]s\b(?:[^:]{0,60}:|\s+(?:for|of|on|in))\s*(?=\S)",
                              re.I)
_LEAVING = re.compile(r"^(?:(?:study|trial|treatment|total|all|any|participant|patient)\s+)?(?P<what>withdrawals?|drop-?outs?)\b"
                      r"(?P<tail>.*)$", re.I)
#: A responder outcome named as RevMan reviews name it: 'Pain intensity (≥ 50% reduction), short term'.
_RESPONDER = re.compile(r"^(?P<what>.+?) \((?:≥|>=|at least) ?(?P<pct>\d+(?:\.\d+)?%) ?"
                        r"(?P<kind>reduction|response|improvement|decrease|relief)\)(?P<rest>.*)$", re.I)


def in_sentence(text: str) -> str:
    """``text`` as it reads inside a sentence: a lower-case first letter, kept
    where the text starts with an abbreviation ('HADS', 'SF-36', 'IV') or a name
    with a capital inside its first word ('Jarisch-Herxheimer', 'McGill')."""
    text = re.sub(r"\s+", " ", text or "").strip()
    first = text.split(" ", 1)[0]
    if len(text) > 1 and text[0].isupper() and not (text[1].isupper() or text[1].isdigit() or text[1] == "-"
                                                     or any(c.isupper() for c in first[1:])):
        return text[0].lower() + text[1:]
    return text


def outcome_name(name: str) -> str:
    """Rule 1: the analysis name without a leading comparison, in sentence case."""
    name = re.sub(r"\s+", " ", name or "").strip().rstrip(".").strip() or "the outcome"
    head, sep, rest = name.partition(": ")
    if sep and re.search(r"\b(versus|vs\.?)\b", head, re.I) and rest.strip():
        name = rest.strip()
    name = _MEASURE_TAG.sub("", _ANALYSIS_SUFFIX.sub("", _ANALYSIS_PREFIX.sub("", name))).strip() or name
    return in_sentence(name)


def _people(who: str, tail: str) -> str:
    who = who.lower()
    tail = tail.strip()
    return f"the number of {who}" + (f" {tail}" if tail else "")


def _rate_of_events(settings) -> bool:
    """A hazard or rate ratio (from the package, or named in the analysis name for
    log-scale generic data): its outcome is an event, whose risk is compared."""
    from ..package.analysis import measure_name

    code = getattr(settings, "measure_code", None)
    if code in ("HR", "RaR") or getattr(settings, "data_type", "") == "O-E and variance":
        return True
    if getattr(settings, "data_type", "") in ("Generic inverse variance", "Contrast level") and \
            getattr(settings, "log_scale", False):
        return measure_name(settings, "GENR") in ("HR", "Rate ratio")
    return False


def outcome_phrase(settings, dichotomous: bool, direction_assessed: bool | None = None) -> str:
    """The outcome of analysis ``settings`` as it reads inside a sentence (module
    docstring).  ``direction_assessed``: whether which way is better is known (by
    default, whether the settings carry a direction of benefit)."""
    name = outcome_name(getattr(settings, "name", "") or "")
    if not dichotomous and _rate_of_events(settings):
        return f"the risk of {name}"
    if not dichotomous:
        assessed = (getattr(settings, "direction", None) is not None if direction_assessed is None
                    else direction_assessed)
        if assessed:
            return name
        return f"the measured {name[4:] if name.lower().startswith('the ') else name}"
    m = _COUNT.match(name)
    if m:
        rest = m["rest"].strip()
        w = _WHO_LED.match(rest)
        if w:
            return _people(w["who"], w["tail"])
        if not _NOT_A_STATE.search(rest):
            return f"the number of people with {rest}"
        return f"the number of people counted under ‘{name}’"
    w = _WHO_LED.match(name)
    if w and (not w["tail"] or _RELATION.match(w["tail"])):
        return _people(w["who"], w["tail"])
    m = _RESPONDER.match(name)
    if m:
        kind = m["kind"].lower()
        article = "an" if kind[0] in "aeiou" else "a"
        return f"the number of people with {article} {kind} of at least {m['pct']} in {m['what']}{m['rest']}"
    m = _LEAVING.match(name)
    if m:
        verb = "who withdrew" if m["what"].lower().startswith("withdraw") else "who dropped out"
        return f"the number of people {verb}{m['tail']}"
    if _CONSTRUCT.match(name) or _NOT_A_STATE.search(name):
        return f"the number of people counted under ‘{name}’"
    return f"the number of people with {name}"
