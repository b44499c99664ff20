"""Errors raised by reviewbook.

:class:`ArgumentError` is for a wrong argument to a function (the message names
the argument and the allowed values).  :class:`InputError` is for bad input data;
it carries one or more :class:`Problem` records, each naming the file, line and
column, the value found and what was expected, so that all problems of an input
are reported at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Shown escaped in every message: C0 and C1 controls, line and paragraph separators,
#: bidirectional controls, zero-width characters and the byte-order mark (a message
#: never reorders, splits or hides text on a terminal).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


class ArgumentError(ValueError):
    """An argument has a value outside its allowed set or range."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    ``line`` is the 1-based line number in the file (the header is line 1);
    ``None`` where the problem concerns the whole file.
    """

    file: str
    line: int | None
    column: str | None
    found: str
    expected: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        # names come from the input: control characters (terminal escapes, NUL) are shown escaped
        return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"),
                            f"{where}: found {self.found}; expected {self.expected}")


class InputError(ValueError):
    """Invalid input data; ``problems`` lists every error found."""

    def __init__(self, problems):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def report(self) -> int:
        """Print every problem to stderr, one ``error: ...`` line each; returns
        the command-line exit code for invalid input, 2."""
        import sys

        for p in self.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
