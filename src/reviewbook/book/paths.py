"""Where the book finds its inputs: package paths relative to the repository root."""
from __future__ import annotations

from pathlib import Path

from ..package.load import read_any as read
from ..package.schema import Package

ROOT = Path(__file__).resolve().parents[3]


def resolve(path) -> Path:
    """A package path as given, or relative to the repository root (so the
    notebooks' default parameters work from any working directory)."""
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
    path = resolve(package)
    if not path.exists():
        return read(path)  # the reader's own error, naming the path
    key = (str(path.resolve()), _signature(path))
    if key not in _LOADED:
        _LOADED.clear()  # one package at a time
        _LOADED[key] = read(path)
    return _LOADED[key]
