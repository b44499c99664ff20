"""Stage 0: a rebuild with nothing to do, told from the bytes of its inputs alone.

The plan (:mod:`.plan`) decides whether anything changed by reading the data package
and fingerprinting what each page reads: correct, but it needs pandas and the whole
package.  Before that, this stage compares the bytes of every file the last build read
(its data package, review file and the files that names, and the tool's own code, notebook
templates and pages) and the command's options with what the last successful build
recorded in its ``state.json``.  When all are the same and its site is in place, the
build is up to date and nothing else is read or imported.  When anything differs, or
nothing was recorded, the plan decides as before: this stage can only say "up to date"
where the plan would say so too (it reads a superset of the plan's inputs, byte for byte).

Standard library only (imported before pandas).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..folders import files_under, project, rel

#: The key of the inputs' record in the build's ``state.json``.
RECORD = "inputs"


def options(data=None, review=None, out=None, allow_warnings=False) -> dict:
    """The options of a build that change what it makes, as recorded (absolute paths)."""
    def absolute(p):
        return None if p in (None, "") else str(Path(p).resolve())

    return {"data": absolute(data), "review": absolute(review), "out": absolute(out),
            "allow_warnings": bool(allow_warnings)}


def _skipped(path: Path) -> bool:
    return "__pycache__" in path.parts or path.suffix in (".pyc", ".pyo")


def digest(roots, base: Path) -> str:
    """SHA-256 of the names and bytes of every file under ``roots`` (paths relative to the
    project's folder ``base``, or absolute; a folder stands for every file under it, compiled
    Python left out); a missing root counts as missing."""
    h = hashlib.sha256()
    for name in roots:
        root = Path(base) / name
        h.update(b"root\0" + str(name).encode() + b"\0")
        if not root.exists():
            h.update(b"missing\0")
            continue
        for f in files_under(root):
            inside = f.relative_to(root) if f != root else Path(f.name)
            if _skipped(inside):
                continue
            h.update(str(inside).encode() + b"\0")
            h.update(f.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def record(roots, opts: dict, base: Path) -> dict:
    """What ``state.json`` keeps of a build's inputs (the digest taken now).  Roots inside
    the project's folder ``base`` are kept relative to it, so that a copy of the project
    (its build folder included) is checked against its own files, never the original's."""
    base = Path(base).resolve()
    names = [rel(Path(r).resolve(), base) for r in roots]  # absolute when outside the project
    return {"options": opts, "roots": names, "digest": digest(names, base)}


def up_to_date(data=None, *, review=None, out=None, allow_warnings=False, project_dir=None) -> Path | None:
    """The site's index page when the last successful build of the project in
    ``project_dir`` had these options and every file it read is byte for byte the same
    (and the site is in place); else None (the plan decides)."""
    proj = project(project_dir)
    state_file = proj.build / "state.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        rec = state[RECORD]
        roots, opts, was = list(rec["roots"]), rec["options"], rec["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if opts != options(data, review, out, allow_warnings):
        return None
    site = Path(opts["out"]) if opts["out"] else proj.site
    index = site / "index.html"
    if not index.is_file():
        return None
    try:
        same = digest(roots, proj.root) == was
    except OSError:
        return None
    return index if same else None
