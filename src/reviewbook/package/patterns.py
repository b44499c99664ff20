"""Patterns from a review file (``outcome:``, ``group:``, ``pattern:``, ...), run in
linear time.

A regular expression written by a user is untrusted: with Python's ``re`` a
pattern such as ``(.*)*Z`` backtracks for ever on a long analysis name.  Every
user pattern is compiled and run by RE2 (the ``google-re2`` bindings), whose
matching time grows linearly with the text and never backtracks; its syntax is
Python's without back-references and look-around (a pattern RE2 cannot compile
is refused with its reason).  Matching is case-insensitive, as it always was.
"""
from __future__ import annotations

import functools

import re2

#: Longest pattern accepted, in characters (book/review.yml's longest is 97).
MAX_PATTERN_CHARS = 1000
#: Memory RE2 may use for one compiled pattern, in bytes (RE2's default, stated).
MAX_PATTERN_MEMORY = 8 << 20


class PatternError(ValueError):
    """A pattern that RE2 cannot compile, or one that is too long; the message says why."""


def _options() -> re2.Options:
    opts = re2.Options()
    opts.case_sensitive = False
    opts.log_errors = False  # the reason is reported once, located, never on stderr
    opts.max_mem = MAX_PATTERN_MEMORY
    return opts


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str):
    """The compiled (case-insensitive) RE2 pattern; :class:`PatternError` when it
    is longer than :data:`MAX_PATTERN_CHARS` or RE2 cannot compile it."""
    pattern = str(pattern)
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"a pattern of {len(pattern):,} characters (at most {MAX_PATTERN_CHARS:,})")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"{reason}; RE2 syntax: no back-references or look-around") from None


def check(pattern) -> str | None:
    """None when ``pattern`` compiles; else why it does not (for a located message)."""
    try:
        compile_pattern(str(pattern))
    except PatternError as exc:
        return str(exc)
    return None


def search(pattern, text) -> bool:
    """Whether ``pattern`` (case-insensitive, RE2) matches anywhere in ``text``."""
    return compile_pattern(str(pattern)).search(str(text or "")) is not None
