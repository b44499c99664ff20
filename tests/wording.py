"""Words that mark a working note rather than reader text, in one place.

The book speaks of the review and its sources, never of how the book was made
(issue #16: built pages said "not retrievable in this session", "an imputation
decision by the lead", "citation from brief/general knowledge, NOT verified",
"not found in the corpus").  Tests scan the embedded data's CSV and RIS text
(tests/test_data.py) and every built page (tests/test_book.py) with
:func:`working_notes`.  An uncertain fact is said as such ("identification
uncertain: ..."), not as a work log.

Each pattern is case-insensitive and bounded by word edges, so that reader
words survive: "Brief Pain Inventory" and a trial's "brief narrative
intervention" (only "the brief", "from the brief", "brief/..." are flagged),
"lead-in" (only "the lead", "lead engineer", "Lead:" are flagged), "16 ketamine
sessions" (only the singular "session" is flagged), "checked" and a "Check" column (only "to check", "(check)",
"- check", "check whether/for"); LaTeX braces in formulas are not template braces.
URLs are removed before scanning (a publisher link may contain "retrieve")."""
from __future__ import annotations

import re

WORKING_NOTE_WORDS = (
    r"\bsession\b", r"\bcorpus\b", r"\bthe lead\b", r"\blead engineer\b", r"\blead\s*:",
    r"\blead to (?:check|decide|confirm)\b", r"\bnot verified\b", r"\bunverified\b", r"\bgeneral knowledge\b",
    r"\bfrom memory\b", r"\b(?:the|from|in|per) brief\b", r"\bbrief\s*(?:/|lead\b|only\b)", r"\bsearches\b",
    r"\bsearch tools?\b", r"\bretriev", r"\bwave ?\d\b", r"\bhelper\b", r"\btodo\b", r"\bverify\b", r"\b(?:to|should|must) check\b", r"\(check\)", r"-\s*check\b",
    r"\bcheck (?:whether|for)\b",
    r"\bthe tools\b", r"\bimputation decision\b", r"\bplaceholder\b", r"\bwe could not\b", r"\bstored copy\b",
    r"NOTES\.md", r"\bby me\b", r"\bhigh priority\b", r"\bwhat we read\b", r"\bfound by (?:search|this)\b",
)
TEMPLATE_BRACES = (r"\{\{\s*[\w.]+\s*\}\}", r"\{glue", r"\{numref\}", r"\{ref\}")

_WORDS = re.compile("|".join(WORKING_NOTE_WORDS), re.I)
_BRACES = re.compile("|".join(TEMPLATE_BRACES))
_URL = re.compile(r"https?://\S+")


def working_notes(text: str, braces: bool = False) -> list[str]:
    """Every working-note word in ``text`` (URLs removed), each with 40
    characters either side; with ``braces``, also unrendered template braces."""
    text = _URL.sub(" ", text)
    hits = list(_WORDS.finditer(text)) + (list(_BRACES.finditer(text)) if braces else [])
    return [text[max(0, m.start() - 40):m.end() + 40].replace("\n", " ") for m in hits]
