"""One identity per study: how study names are compared, and which names are refused.

RevMan keeps one study per name in a review, so two spellings of one name are
one study.  Names are compared by :func:`study_key`:

1. Unicode NFKC normalisation (Unicode Standard Annex #15): composed and
   decomposed accents, full-width letters, ligatures and other compatibility
   forms become one spelling;
2. zero-width characters (U+200B ZERO WIDTH SPACE, U+200C, U+200D, U+2060
   WORD JOINER, U+FEFF, U+00AD SOFT HYPHEN) are removed: they are invisible, and
   published reviews carry them inside names (Pairwise70: CD012693 has
   U+200B in 15 rows), so they are ignored rather than refused;
3. every run of whitespace (any Unicode space: U+0020, no-break U+00A0,
   U+2000-U+200A, U+202F, U+205F, U+3000, tab) becomes one space, and the ends
   are stripped;
4. full case folding (``str.casefold``: 'ß' and 'SS' are one).

A name holding a line or paragraph separator (U+2028, U+2029, NEL U+0085, a
line feed or carriage return), a bidirectional embedding, override or isolate
(U+202A-U+202E, U+2066-U+2069) or a C0 or C1 control character is refused
(:func:`name_problem`): such a name splits a table row on a page, or shows text
in another order than it is stored.

The key is used everywhere a study is recognised: ``import-rows`` (two
spellings of one study in a file are refused), ``add-rows`` (a new row whose
study is an existing study spelled another way is refused, naming it), the
audit (the rows of one multi-arm study) and the book (the rows of one study).
"""
from __future__ import annotations

import re
import unicodedata

#: Invisible characters removed before comparing (step 2 above).
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH}]")
#: Characters a name may not hold: C0 and C1 controls (tab included), line and
#: paragraph separators, bidirectional embeddings, overrides and isolates.
FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMES = {"\x85": "NEL (U+0085, a line break)", "\u2028": "LINE SEPARATOR (U+2028)",
          "\u2029": "PARAGRAPH SEPARATOR (U+2029)", "\n": "a line feed", "\r": "a carriage return",
          "\t": "a tab"}


def study_key(name) -> str:
    """The identity of a study name (see the module docstring): NFKC, zero-width
    characters removed, whitespace collapsed, case folded."""
    text = unicodedata.normalize("NFKC", str(name))
    text = _ZERO_WIDTH.sub("", text)
    return " ".join(text.split()).casefold()


def char_name(ch: str) -> str:
    """A character in words, for a message: 'LINE SEPARATOR (U+2028)'."""
    if ch in _NAMES:
        return _NAMES[ch]
    code = f"U+{ord(ch):04X}"
    name = unicodedata.name(ch, "")
    return f"{name} ({code})" if name else f"the control character {code}"


def escaped(text: str) -> str:
    """``text`` with every refused or invisible character (and every space other
    than U+0020) shown as an escape: messages never carry them."""
    return "".join(f"\\u{ord(c):04x}" if FORBIDDEN.match(c) or c in ZERO_WIDTH or (
        c != " " and unicodedata.category(c) in ("Zs", "Zl", "Zp", "Cf")) else c for c in str(text))


def name_problem(name, *, what="a study name", spaces_allowed=False) -> tuple | None:
    """``(found, expected)`` when ``name`` holds a character a study name may not
    hold (see the module docstring), else None.  ``spaces_allowed``: a tab, line
    feed or carriage return is allowed (an analysis or subgroup name, shown with its
    whitespace collapsed; RevMan exports may wrap them); the other line breaks
    (NEL, U+2028, U+2029), bidirectional and control characters are not."""
    text = str(name)
    if spaces_allowed:
        text = text.replace("\t", " ").replace("\n", " ").replace("\r", " ")
    m = FORBIDDEN.search(text)
    if m is None:
        return None
    kind = ("a bidirectional control" if "\u202a" <= m.group() <= "\u202e" or "\u2066" <= m.group() <= "\u2069"
            else "a line break" if m.group() in "\n\r\x85\u2028\u2029" else "a control character")
    return (f"{kind}, {char_name(m.group())}, at character {m.start() + 1} of '{escaped(name)}'",
            f"{what} on one line, without control or bidirectional formatting characters")
