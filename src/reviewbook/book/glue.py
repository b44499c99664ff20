"""Showing and gluing: every book call returns one deterministic output (a
:class:`~reviewbook.views.tables.Bundle`) and glues the numbers the prose
quotes (myst-nb ``glue``), so no number is typed into the book's text."""
from __future__ import annotations

import functools
import re

from ..views.tables import Bundle, escape


class _Collector:
    """Collects what a book call shows; the call returns it as one Bundle."""

    parts: list = []


def _display(*objs):
    _Collector.parts.extend(objs)


def _shows(fn):
    """Decorator: the call returns a :class:`~reviewbook.views.tables.Bundle` of
    everything it showed (one cell output, deterministic text and Markdown)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        saved, _Collector.parts = _Collector.parts, []
        try:
            fn(*args, **kwargs)
            return Bundle(_Collector.parts)
        finally:
            _Collector.parts = saved
    return wrapper


#: The output format of myst-nb's ``glue(name, value, display=False)`` (myst_nb.ext.glue).
GLUE_PREFIX = "application/papermill.record/"


def _glue(key, value):
    """Glue a value for the prose as escaped Markdown text (pasted with ``{glue}`key```,
    or ``{glue}`doc.ipynb::key``` from another page), so strings show without quotes.

    Writes exactly what ``myst_nb.glue(key, GlueText(value), display=False)``
    writes (a display output whose keys carry myst-nb's prefix and whose metadata
    names the key), without importing myst-nb into the kernel, which costs about
    two seconds of imports per notebook.  Outside a kernel it does nothing."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    g = GlueText(value)
    bundle = {GLUE_PREFIX + "text/plain": repr(g), GLUE_PREFIX + "text/markdown": g._repr_markdown_()}
    display(bundle, raw=True, metadata={"scrapbook": {"name": key, "mime_prefix": GLUE_PREFIX}})


class GlueText:
    """A glued value: plain text (no quotes) for ``text/plain`` and escaped
    Markdown for ``text/markdown``; pasted inline with ``{glue}``."""

    def __init__(self, value):
        self.value = str(value)

    def __repr__(self):
        return self.value

    def _repr_markdown_(self):
        return escape(self.value)


def slug(text) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(text).lower()).strip("_")
