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


def load(package) -> Package:
    """A package path read with :func:`resolve`; a :class:`Package` is returned as it is."""
    return package if isinstance(package, Package) else read(resolve(package))
