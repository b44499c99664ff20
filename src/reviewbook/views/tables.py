"""Tables as MyST Markdown (numbered, captioned) and plain text.

Every cell that comes from a data package is escaped: each ASCII punctuation
character is backslash-escaped (CommonMark), so HTML, script tags, roles or
directives in a study name render as literal text, never as markup.
Numbers are rounded half away from zero (:func:`reviewbook.engine.report.fmt`).
Web addresses (``http://``, ``https://``) in a cell become links labelled with
their host, so that a source column stays narrow; the plain-text form keeps the
full address.

Long tables can be made sortable and searchable (``Table(..., sortable=True)``):
the table carries the class ``reviewbook-sortable`` and the book's Sphinx
extension (:mod:`reviewbook.book.sphinxext`) serves the DataTables bundle that
itables ships, from the site itself (itables' offline mode; nothing is loaded
from outside).  :class:`Dropdown` folds tables, figures and notes into a
sphinx-design ``dropdown`` (an HTML ``<details>``) that printing opens.
"""
from __future__ import annotations

import html
import re
import string

_PUNCT = re.compile("([" + re.escape(string.punctuation) + "])")


def escape(text) -> str:
    """Backslash-escape Markdown/MyST punctuation; newlines become spaces."""
    text = "" if text is None else str(text)
    text = text.replace("\r", " ").replace("\n", " ")
    return _PUNCT.sub(r"\\\1", text)


_URL = re.compile(r"https?://[^\s<>\"'`\\|]+")


def _url_end(url: str) -> str:
    """``url`` without trailing sentence punctuation, and without a closing
    parenthesis it does not open."""
    url = url.rstrip(".,;:!?")
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(".,;:!?")
    return url


def linked(text) -> str:
    """:func:`escape` ``text``, with each web address made a link labelled by its host."""
    text = "" if text is None else str(text)
    out, pos = [], 0
    for m in _URL.finditer(text):
        url = _url_end(m.group(0))
        if m.start() < pos:
            continue
        host = url.split("/")[2].removeprefix("www.")
        out.append(escape(text[pos:m.start()]))
        out.append(f"[{escape(host)}](<{url.replace('>', '%3E')}>)")
        pos = m.start() + len(url)
    out.append(escape(text[pos:]))
    return "".join(out)


class Markup(str):
    """Trusted MyST Markdown for a table cell (e.g. a citation role next to an
    escaped study name): :func:`md_table` does not escape it.  Build it only from
    escaped text and keys the book makes itself; its plain text is :attr:`text`."""

    def __new__(cls, markdown: str, text: str):
        obj = super().__new__(cls, markdown)
        obj.text = text
        return obj


def cell_markdown(c) -> str:
    """A cell as Markdown: :class:`Markup` as it is, anything else escaped and linked."""
    return str(c) if isinstance(c, Markup) else linked(c)


def cell_text(c) -> str:
    return c.text if isinstance(c, Markup) else str(c)


#: The class of a sortable, searchable table (the book's Sphinx extension activates it).
SORTABLE_CLASS = "reviewbook-sortable"
#: The class of a table shown on a phone as one card per row, each cell under its column's name
#: (reviewbook.js writes the names; custom.css lays the cards out below 700 px).
STACKED_CLASS = "reviewbook-stack"


def md_table(header, rows, *, caption: str, label: str, escape_cells=True, align=None, sortable=False,
             stacked=False) -> str:
    """A MyST ``{table}`` directive: numbered 'Table N' with ``caption``;
    ``label`` is the cross-reference target (``{numref}`label```); ``sortable``
    gives it the class that makes it sortable and searchable in the browser;
    ``stacked`` the class that shows each row as a card of labelled cells on a
    phone (the reader reads every column without scrolling sideways)."""
    cells = [[cell_markdown(c) if escape_cells else str(c) for c in row] for row in rows]
    head = [escape(h) for h in header]
    align = align or ["l"] + ["r"] * (len(header) - 1)
    sep = ["---" if a == "l" else "--:" for a in align]
    lines = [f":::{{table}} {escape(caption)}", f":name: {label}", ":align: left", ":widths: auto"]
    classes = [c for c, on in ((SORTABLE_CLASS, sortable), (STACKED_CLASS, stacked)) if on]
    if classes:
        lines.append(f":class: {' '.join(classes)}")
    lines.append("")
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(sep) + "|")
    for row in cells:
        lines.append("| " + " | ".join(c if c != "" else " " for c in row) + " |")
    lines.append(":::")
    return "\n".join(lines) + "\n"


def text_table(header, rows) -> str:
    """Fixed-width plain text table (what nbval compares and a terminal shows)."""
    rows = [[cell_text(c) for c in r] for r in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]
    out = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths))]
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


class Table:
    """A table that displays as numbered MyST Markdown in the book and as plain
    text elsewhere (both deterministic).

    ``notes``: (key, text) pairs listed under the table, for text too long for a
    column (e.g. the reasons for a certainty rating, keyed by analysis).
    ``sortable``: sortable and searchable in the browser (long tables); the
    printed page and the PDF show every row."""

    def __init__(self, header, rows, caption, label, notes=(), sortable=False, stacked=False):
        self.header, self.rows, self.caption, self.label = list(header), [list(r) for r in rows], caption, label
        self.notes = [(str(k), str(t)) for k, t in notes]
        self.sortable, self.stacked = bool(sortable), bool(stacked)

    def _repr_markdown_(self):
        out = md_table(self.header, self.rows, caption=self.caption, label=self.label, sortable=self.sortable,
                       stacked=self.stacked)
        if self.notes:
            out += "\n" + "\n".join(f"- **{escape(k)}**: {linked(t)}" for k, t in self.notes) + "\n"
        return out

    def __repr__(self):
        notes = "".join(f"\n{k}: {t}" for k, t in self.notes)
        return f"Table: {self.caption}\n" + text_table(self.header, self.rows) + notes

    def to_html(self) -> str:
        """Escaped HTML (for the PDF appendix and tests)."""
        th = "".join(f"<th>{html.escape(str(h))}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell_text(c))}</td>" for c in r) + "</tr>"
                       for r in self.rows)
        return f"<table><caption>{html.escape(self.caption)}</caption><tr>{th}</tr>{body}</table>"


#: The class of a figure shown inline as an SVG document (an ``<object>``), so that the
#: ``<title>`` tooltips inside it work (they do not in an ``<img>``).
INTERACTIVE_CLASS = "reviewbook-svg"
#: A figure attribute: {SVG group id: tooltip text}; :class:`Figure` writes each text as
#: the ``<title>`` of the group (a hover tooltip and an accessible name).
SVG_TITLES = "reviewbook_svg_titles"


def add_svg_titles(svg: str, titles: dict) -> str:
    """``svg`` with ``<title>text</title>`` as the first child of each group
    ``<g id="gid">`` named in ``titles`` (text escaped for XML), and the group
    made to catch the pointer over its whole area.  Raises ``ValueError`` when
    a group is missing (a tooltip must never be dropped silently)."""
    import re

    for gid, text in titles.items():
        pattern = re.compile(r'<g id="' + re.escape(str(gid)) + r'"([^>]*)>')
        m = pattern.search(svg)
        if m is None:
            raise ValueError(f"no SVG group with id {gid!r} for its tooltip")
        head = f'<g id="{gid}"{m.group(1)} style="pointer-events: all; cursor: default">'
        svg = svg[:m.start()] + head + f"<title>{html.escape(str(text), quote=False)}</title>" + svg[m.end():]
    return svg


class Figure:
    """A figure saved as SVG, shown in the book as a numbered MyST figure with
    alt text and caption; text form for nbval is the caption only.

    SVG with text kept as text (``svg.fonttype: none``): sharp at any zoom and in
    print, searchable, and about three times faster to write than a PNG at print
    resolution.  Deterministic: fixed ids (``svg.hashsalt``) and no date.

    ``interactive=True``: the page shows the SVG document itself (an ``<object>``
    with the alt text as its accessible name), so that tooltips drawn into it
    (the figure's :data:`SVG_TITLES`) work on hover."""

    def __init__(self, fig, path, caption, label, alt, tight=True, interactive=False):
        """``tight=False`` for figures laid out to fill their canvas (forest plots):
        saving then draws once instead of twice."""
        from pathlib import Path

        import matplotlib
        import matplotlib.pyplot as plt

        path = str(Path(path).with_suffix(".svg"))
        self.path, self.caption, self.label, self.alt = path, caption, label, alt
        self.interactive = bool(interactive)
        if fig is None:  # already written (a cached copy)
            return
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "reviewbook"}):
            fig.savefig(path, bbox_inches="tight" if tight else None, metadata={"Date": None})
        titles = getattr(fig, SVG_TITLES, None)
        if titles:
            Path(path).write_text(add_svg_titles(Path(path).read_text(encoding="utf-8"), titles), encoding="utf-8")
        plt.close(fig)

    def _repr_markdown_(self):
        alt = " ".join(str(self.alt).split())  # option values are not Markdown: one line suffices
        cls = f":class: {INTERACTIVE_CLASS}\n" if self.interactive else ""
        return (f":::{{figure}} {self.path}\n:name: {self.label}\n:alt: {alt}\n:width: 100%\n{cls}\n"
                f"{escape(self.caption)}\n:::\n")

    def __repr__(self):
        return f"Figure: {self.caption}"


def cached_figure(make, path, caption, label, alt, *, key_parts, tight=True, interactive=False):
    """A :class:`Figure` whose SVG is reused from the figure cache when the
    inputs are unchanged: ``key_parts`` (everything the figure is drawn from,
    e.g. the analysis result and title) and the source of the views package are
    hashed; ``make()`` draws the figure only on a cache miss.  The cache is the
    folder named by the environment variable ``REVIEWBOOK_FIGURE_CACHE`` (the
    runner sets it for its kernels); without it every figure is drawn."""
    import hashlib
    import os
    import shutil
    from pathlib import Path

    cache = os.environ.get("REVIEWBOOK_FIGURE_CACHE")
    if not cache:
        return Figure(make(), path, caption, label, alt, tight=tight, interactive=interactive)
    h = hashlib.sha256(_views_source_hash().encode())
    for part in key_parts:
        h.update(repr(part).encode())
        h.update(b"\0")
    hit = Path(cache) / f"{h.hexdigest()}.svg"
    out = Path(path).with_suffix(".svg")
    if hit.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(hit, out)
        return Figure(None, out, caption, label, alt, interactive=interactive)
    fig = Figure(make(), path, caption, label, alt, tight=tight, interactive=interactive)
    Path(cache).mkdir(parents=True, exist_ok=True)
    tmp = hit.with_suffix(f".{os.getpid()}.tmp")
    shutil.copyfile(fig.path, tmp)
    os.replace(tmp, hit)
    return fig


_VIEWS_HASH = []


def _views_source_hash() -> str:
    """Hash of the drawing code (the views package and the engine's formatting)."""
    if not _VIEWS_HASH:
        import hashlib
        from pathlib import Path

        here = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in sorted(here.glob("*.py")) + [here.parent / "engine" / "report.py"]:
            h.update(p.read_bytes())
        _VIEWS_HASH.append(h.hexdigest())
    return _VIEWS_HASH[0]


class Note:
    """A paragraph of text (escaped) as Markdown, or an admonition."""

    def __init__(self, text, kind=None):
        self.text, self.kind = text, kind

    def _repr_markdown_(self):
        body = escape(self.text)
        if self.kind:
            return f":::{{{self.kind}}}\n{body}\n:::\n"
        return body + "\n"

    def __repr__(self):
        return self.text


class Bundle:
    """Several tables, figures and notes shown as one output."""

    def __init__(self, parts):
        self.parts = list(parts)

    def _repr_markdown_(self):
        return "\n".join(p._repr_markdown_() for p in self.parts)

    def __repr__(self):
        return "\n\n".join(repr(p) for p in self.parts)


def _longest_fence(markdown: str) -> int:
    """The longest run of colons that opens a line of ``markdown`` (a colon fence)."""
    import re

    runs = [len(m.group(1)) for m in re.finditer(r"^\s*(:{3,})", markdown, re.MULTILINE)]
    return max(runs, default=0)


class Dropdown:
    """Tables, figures and notes folded under a title: sphinx-design's
    ``dropdown`` directive (an HTML ``<details>``; closed unless ``open``),
    with a colon fence one longer than any fence inside it, so that parts
    (``:::{table}``, ``:::{figure}``, admonitions, other dropdowns) nest.
    Printing the page and the PDF appendix open every dropdown.  The plain
    text (what nbval compares) is the title and then each part's text."""

    def __init__(self, title, parts, open=False, name=None):
        self.title, self.parts, self.open, self.name = str(title), list(parts), bool(open), name

    def _repr_markdown_(self):
        inner = "\n".join(p._repr_markdown_() for p in self.parts)
        fence = ":" * max(4, _longest_fence(inner) + 1)
        opts = ":open:\n" if self.open else ""
        if self.name:
            opts += f":name: {self.name}\n"
        return f"{fence}{{dropdown}} {escape(self.title)}\n{opts}\n{inner}\n{fence}\n"

    def __repr__(self):
        body = "\n\n".join(repr(p) for p in self.parts)
        return f"[{self.title}]\n{body}" if body else f"[{self.title}]"
