"""Checks of a book's judgements that apply to a book of any review: give them a
results dict (``results.json`` of a build, or ``runner.collect_results(pkg, review)``)
or a built site folder, and they return ``(checked, problems)`` so a caller can
assert both how many it looked at and that nothing was found.

* :func:`statement_verbs`: every narrative statement's verb matches its certainty
  (GRADE 26, Santesso et al. 2020, J Clin Epidemiol 119:126: plain verbs for
  high, "probably" for moderate, "may" for low, "the evidence is very uncertain"
  for very low);
* :func:`absolute_directions`: no absolute effect whose estimate or CI points
  against the relative effect's (Cochrane Handbook 5.1, 12.5.4: the corresponding
  risk is the assumed risk times the ratio, an increasing map);
* :func:`no_upper_bound`: no page of a built site calls a rating an "upper bound"
  (issue 21: a rating is a rating);
* :func:`no_upper_bound_in_results`: the same over a results dict.
"""
from __future__ import annotations

import re
from pathlib import Path

#: The verb phrases GRADE 26 gives each certainty (Santesso et al. 2020, Table 3).
VERBS = {
    "high": re.compile(r"\b(reduces|increases|results in little to no difference)\b"),
    "moderate": re.compile(r"\bprobably (reduces|increases|results in little to no difference)\b"),
    "low": re.compile(r"\bmay (reduce|increase|result in little to no difference)\b"),
    "very low": re.compile(r"^The evidence is very uncertain about the effect of "),
}
HEDGES = re.compile(r"\b(probably|may|very uncertain)\b")


def statement_verbs(results: dict) -> tuple:
    """``(checked, problems)``: every analysis with a certainty and a statement."""
    checked, problems = 0, []
    for aid, a in results.get("analyses", {}).items():
        cert, text = a.get("certainty"), a.get("statement")
        if cert not in VERBS or not text:
            continue
        checked += 1
        ok = bool(VERBS[cert].search(text))
        hedges = set(HEDGES.findall(text))
        if cert == "high":
            ok = ok and not hedges
        elif cert == "moderate":
            ok = ok and hedges == {"probably"}
        elif cert == "low":
            ok = ok and hedges == {"may"}
        if not ok:
            problems.append(f"{aid}: {cert} certainty but '{text}'")
    return checked, problems


def absolute_directions(results: dict) -> tuple:
    """``(checked, problems)``: every analysis whose absolute effect comes from a
    ratio (``absolute.kind == "ratio"``): a ratio above 1 never gives fewer events,
    one below 1 never more, for the estimate and both limits."""
    checked, problems = 0, []
    for aid, a in results.get("analyses", {}).items():
        ab = a.get("absolute") or {}
        if ab.get("kind") != "ratio" or not ab.get("difference"):
            continue
        checked += 1
        ratio = (a["estimate"], a["ci_low"], a["ci_high"])
        for r, d, what in zip(ratio, ab["difference"], ("estimate", "lower limit", "upper limit")):
            if (r > 1 and d < -1e-9) or (r < 1 and d > 1e-9):
                problems.append(f"{aid}: {what} ratio {r} but absolute difference {d} per 1,000")
        if ab.get("assumed_risk") == 0:
            problems.append(f"{aid}: an absolute effect from a ratio at an assumed risk of 0")
    return checked, problems


UPPER = re.compile(r"upper[ _-]bound", re.IGNORECASE)


def no_upper_bound(site: Path) -> tuple:
    """``(checked, problems)``: every HTML page of a built site."""
    pages = sorted(Path(site).rglob("*.html"))
    problems = [str(p.relative_to(site)) for p in pages
                if UPPER.search(re.sub(r"<[^>]+>", " ", p.read_text(encoding="utf-8", errors="replace")))]
    return len(pages), problems


def no_upper_bound_in_results(results: dict) -> tuple:
    """``(checked, problems)``: every analysis entry of a results dict, as text."""
    import json

    checked, problems = 0, []
    for aid, a in results.get("analyses", {}).items():
        checked += 1
        if UPPER.search(json.dumps(a, ensure_ascii=False)):
            problems.append(aid)
    return checked, problems
