"""Where the book finds its inputs: the tool's own resources (notebook templates,
fixed pages, ``_config.yml`` defaults, static files; package data read with
:mod:`importlib.resources`) and the review project given at run time.

A review project is a folder (default: the current folder) holding

* its review file: ``review.yml``, or ``book/review.yml`` (the layout of the
  reviewbook repository, whose default book is one such project);
* its data package(s) under ``data/`` (``data/<package id>``, the id the review
  file's ``package`` names);
* the build output beside the review file: ``_build/`` (``html/`` the site,
  ``.cache/``, ``work/`` and ``state.json``), or ``book/_build/`` in the
  repository layout.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import resources as _resources
from pathlib import Path

from ..package.load import read_any as read
from ..package.schema import Package
from .review import REVIEW_FILE, default_review
from .review import load as load_review



def resources() -> Path:
    """The folder of the tool's own resources (``notebooks/``, ``book/``, ``_config.yml``),
    wherever the package is installed."""
    res = _resources.files("reviewbook") / "resources"
    if not isinstance(res, Path):  # pragma: no cover - only a zip import gives another Traversable
        raise RuntimeError("reviewbook must be installed as files (not zipped) to build books")
    return res


def code_root() -> Path:
    """The folder that holds the ``reviewbook`` package (put on a subprocess's PYTHONPATH)."""
    return Path(__file__).resolve().parents[2]


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


def project_package() -> Path:
    """The package of the project the current folder is in (the notebooks' default
    parameter ``package = "auto"``): ``data/<id>`` for the id its review file names."""
    from ..errors import InputError, Problem

    review = default_review()
    if review is None:
        raise InputError([Problem(Path.cwd().name, None, None, "a folder in no review project (no review.yml "
                                  "here or above)", "a package path (parameter `package`) or a review project")])
    root = review.parent.parent if review.parent.name == "book" and review.parent.parent.joinpath(
        "data").is_dir() else review.parent
    return project(root).package(load_review(review).package)


def resolve(path) -> Path:
    """A package path as given, or relative to the nearest folder above the current
    one that holds it (so the notebooks' default parameters work from any working
    directory inside a project)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    here = Path.cwd()
    for parent in [here, *here.parents]:
        if (parent / p).exists():
            return parent / p
    return p


_LOADED: dict = {}


def files_under(path: Path) -> list:
    """Every file under the folder ``path``, sorted; ``[path]`` when it is not a folder."""
    return sorted(q for q in path.rglob("*") if q.is_file()) if path.is_dir() else [path]


def _signature(path: Path) -> tuple:
    """What identifies the bytes of a package on disk: path, size and modification
    time of the file, or of every file under the folder."""
    return tuple((str(q), q.stat().st_size, q.stat().st_mtime_ns) for q in files_under(path))


def load(package) -> Package:
    """A package path read with :func:`resolve`; a :class:`Package` is returned as it is.

    A notebook calls the book's functions once per table or figure, each with the
    package path: the package is read and validated once per process and reused
    while its files are unchanged (the book's code never modifies a Package)."""
    if isinstance(package, Package):
        return package
    path = project_package() if str(package) == "auto" else resolve(package)
    if not path.exists():
        return read(path)  # the reader's own error, naming the path
    key = (str(path.resolve()), _signature(path))
    if key not in _LOADED:
        _LOADED.clear()  # one package at a time
        _LOADED[key] = read(path)
    return _LOADED[key]
