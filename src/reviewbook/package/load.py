"""Open any input the commands accept as a :class:`~reviewbook.package.schema.Package`.

* a Cochrane data package (zip or folder, RevMan Web layout or nested export);
* the older RevMan 5 analysis CSV (``Comparison Number, Outcome Number, ...``);
* a table of data rows on its own (``Analysis group`` or ``Analysis.group``,
  ``Study``, ...), imported in memory as ``import-rows`` would, with the
  settings inferred from RevMan's stored per-study results.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from .datapackage import read
from .schema import Package


def is_rows_table(path: Path) -> bool:
    """Whether a CSV file is a table of data rows (not a RevMan 5 export).

    Only the first 64 KiB of a regular file are looked at (a pipe or device is
    never opened: it is not a table of data rows, and the reader says what it is)."""
    path = Path(path)
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError:
        return False
    first = head.decode("utf-8", errors="replace").lstrip("\ufeff").splitlines()[:1]
    names = {h.strip().strip('"') for h in (first[0] if first else "").split(",")}
    return bool(names & {"Analysis group", "Analysis.group"}) and "Study" in names


def read_any(path) -> Package:
    """The package at ``path``; raises :class:`~reviewbook.errors.InputError` with located problems."""
    path = Path(path)
    if path.suffix.lower() == ".csv" and is_rows_table(path):
        from .importer import build

        return build(path).package
    return read(path)
