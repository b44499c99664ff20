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

from importlib import resources as _resources
from pathlib import Path

from ..package.load import read_any as read
from ..package.schema import Package
from .folders import REVIEW_FILE, Project, files_under, project  # noqa: F401 - the project's names
from .review import default_review
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
