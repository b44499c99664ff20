"""What every stage of the build shares: the project's paths, the error a stage raises,
the progress log and the hashes."""
from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from ..folders import rel  # noqa: F401 - the stages' name for it
from ..paths import files_under, resources

#: The tool's own resources: notebook templates, fixed pages and ``_config.yml`` defaults.
RESOURCES = resources()
PAGES = RESOURCES / "book"
SOURCES = ("*.md", "_static", "references.bib")


@dataclass(frozen=True)
class Paths:
    """The folders and files of one review project's build (absolute paths).

    root: the project's folder; book: the folder of its review file; build: its build
    folder; site: where the site is published; cache: executed notebooks by key;
    state: the last build's key and timings (JSON); work: Sphinx's persistent work tree."""

    root: Path
    book: Path
    build: Path
    site: Path
    cache: Path
    state: Path
    work: Path


class BuildError(RuntimeError):
    """A step of the build failed; the message says which notebook, cell and why."""


_T0 = time.perf_counter()


def log(msg: str) -> None:
    if os.environ.get("REVIEWBOOK_TIMESTAMPS"):
        msg = f"{time.perf_counter() - _T0:6.2f} {msg}"
    print(msg, flush=True)


def sha(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def tree_hash(paths, root: Path) -> str:
    """SHA-256 of the names (relative to ``root`` when inside it) and bytes of ``paths``;
    a folder stands for every file under it."""
    h = hashlib.sha256()
    for p in sorted(q for path in paths for q in files_under(path)):
        if p.is_file():
            try:
                rel = p.relative_to(root)
            except ValueError:
                rel = p
            h.update(str(rel).encode())
            h.update(p.read_bytes())
    return h.hexdigest()
