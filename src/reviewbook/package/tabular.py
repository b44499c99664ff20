"""Reading small CSV inputs with precise error reporting (file, line, column).

Used by the ``pool`` command and the data package reader.  Files are read as
UTF-8 with an optional byte-order mark.  Nothing read is ever evaluated.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..errors import InputError, Problem


def read_utf8(path, expected: str) -> str:
    """The text of a UTF-8 file; :class:`InputError` naming the file (missing,
    unreadable or not UTF-8) otherwise.  ``expected`` says what the file should be."""
    path = Path(path)
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InputError([Problem(path.name, None, None, "no such file", expected)]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(path.name, None, None, f"bytes that are not UTF-8 ({exc.reason})",
                                  "a UTF-8 CSV file")]) from None
    except OSError as exc:
        raise InputError([Problem(path.name, None, None, f"an unreadable file ({exc.__class__.__name__})",
                                  expected)]) from None


def read_csv_text(text: str, name: str):
    """Parse CSV ``text``; returns ``(header, rows)`` with ``rows`` as list of
    ``(line_number, dict)`` (header is line 1)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], []
    header = [h.strip() for h in header]
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        values = values + [""] * (len(header) - len(values))
        rows.append((line, dict(zip(header, values))))
    return header, rows


def read_csv(path, name: str | None = None):
    path = Path(path)
    return read_csv_text(path.read_bytes().decode("utf-8"), name or str(path))


class Cells:
    """Typed access to the cells of one CSV row, collecting problems."""

    def __init__(self, file: str, line: int, row: dict, problems: list):
        self.file, self.line, self.row, self.problems = file, line, row, problems

    def problem(self, column, found, expected, severity="error"):
        self.problems.append(Problem(self.file, self.line, column, found, expected, severity))

    def text(self, column: str) -> str:
        return (self.row.get(column) or "").strip()

    def number(self, column: str, *, required=True, integer=False, minimum=None,
               strict_minimum=False, blank_as=None):
        raw = self.text(column)
        if raw == "":
            if required:
                self.problem(column, "an empty cell", "a number")
            return blank_as
        try:
            value = float(raw)
        except ValueError:
            self.problem(column, f"'{raw}'", "a number")
            return None
        if not math.isfinite(value):
            self.problem(column, f"'{raw}'", "a finite number")
            return None
        if integer and value != int(value):
            self.problem(column, f"'{raw}'", "a whole number")
            return None
        if minimum is not None and (value <= minimum if strict_minimum else value < minimum):
            op = ">" if strict_minimum else ">="
            self.problem(column, f"'{raw}'", f"a number {op} {minimum:g}")
            return None
        return value
