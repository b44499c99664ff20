"""The book layer: the notebook API, the runner, reproduction, what-changed and the PDF.

Notebooks use this package as ``from reviewbook import book`` and make one call
per table or figure (``book.section(...)``, ``book.prisma(...)``, ...).  The
names are looked up lazily (PEP 562), so that ``python -m reviewbook book``
does not import matplotlib before it needs it.
"""
from __future__ import annotations

import importlib

_API = {
    "load": "paths", "resolve": "paths",
    "section": "sections", "Section": "sections", "claim": "sections", "engine_settings": "sections",
    "review_for": "sections",
    "prisma": "pages", "characteristics": "pages", "not_pooled": "pages", "coverage": "pages",
    "coverage_of": "pages", "book_version": "pages", "Coverage": "pages", "comparisons": "pages", "risk_of_bias": "pages",
    "summary_of_findings": "synthesis", "key_findings": "synthesis", "published_estimates": "synthesis",
    "settings_table": "synthesis", "grade_from_data": "synthesis", "study_results": "synthesis",
    "independent": "synthesis", "judged_all": "evidence",
    "GlueText": "glue", "slug": "glue",
}

__all__ = sorted(_API)


def __getattr__(name):
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'reviewbook.book' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_API))
