"""Where a review project's files are: its folder, review file and build folder.

Standard library only, so that a rebuild with nothing to do can be told
(:mod:`.build.quick`) before any package is read or pandas imported.
:mod:`.paths` re-exports these names with the readers of the project's inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: The review file's name in a project (or under ``book/`` in the repository layout).
REVIEW_FILE = "review.yml"


@dataclass(frozen=True)
class Project:
    """A review project: its folder, review file (None: none yet) and build folder."""

    root: Path
    review: Path | None
    build: Path

    @property
    def site(self) -> Path:
        return self.build / "html"

    def package(self, package_id: str) -> Path:
        """Where the project keeps the package ``package_id``: ``data/<id>`` (a folder),
        else the file ``data/<id>.zip`` (or ``.csv``, a RevMan 5 analysis table)."""
        folder = self.root / "data" / package_id
        for ext in (".zip", ".csv"):
            f = folder.with_name(package_id + ext)
            if not folder.exists() and f.is_file():
                return f
        return folder


def project(root=None) -> Project:
    """The review project in the folder ``root`` (default: the current folder):
    ``review.yml`` there, else ``book/review.yml`` (the repository layout); the
    build folder is ``_build`` beside the review file (``_build`` in ``root`` when
    there is no review file)."""
    root = Path(root if root is not None else Path.cwd()).resolve()
    for review in (root / REVIEW_FILE, root / "book" / REVIEW_FILE):
        if review.is_file():
            return Project(root, review, review.parent / "_build")
    if (root / "book").is_dir() and not (root / REVIEW_FILE).exists():
        return Project(root, None, root / "book" / "_build")
    return Project(root, None, root / "_build")


def files_under(path: Path) -> list:
    """Every file under the folder ``path``, sorted; ``[path]`` when it is not a folder."""
    return sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]


def rel(path: Path, root: Path) -> str:
    """A path relative to the project's folder ``root`` when inside it (no machine paths in the book)."""
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return str(path)
