"""The book's own Sphinx extension (loaded through ``_config.yml``'s
``sphinx.extra_extensions``): what the reader's pages need that Jupyter Book
does not do by itself.

* **Sortable, searchable tables, offline.**  A page with a table of class
  ``reviewbook-sortable`` (:class:`reviewbook.views.tables.Table` with
  ``sortable=True``) gets ``_static/reviewbook-tables.js``: itables' offline
  loader (``itables.javascript.generate_init_offline_itables_html``: the
  DataTables bundle that itables ships, embedded in the script and loaded as a
  module from a ``blob:`` URL, so that it works from ``file://``) followed by
  the code that turns each such table into a DataTable.  Nothing is loaded
  from outside the site; pages without such a table load nothing.
* **Figures with tooltips.**  An image of class ``reviewbook-svg``
  (:class:`~reviewbook.views.tables.Figure` with ``interactive=True``) is
  shown as an ``<object>`` holding the SVG document, with ``role="img"`` and
  the alt text as its accessible name: the ``<title>`` tooltips inside an SVG
  work only when the SVG is a document, not an ``<img>``.
* **Web addresses as written.**  MyST-Parser stores a link's address
  HTML-escaped ('&' as '&amp;') and the HTML writer escapes it again, so an
  address with a query string reached the page as '&amp;amp;' (MyST-Parser
  issue #760).  :func:`unescape_refuris` undoes the first escape on every
  external reference before the page is written.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..views.tables import INTERACTIVE_CLASS, SORTABLE_CLASS

TABLES_JS = "reviewbook-tables.js"

#: DataTables options for every sortable table: 25 rows a page (every row when
#: printing, see ``book/_static/reviewbook.js``), the table's own order first.
DATATABLE_OPTIONS = {"pageLength": 25, "lengthMenu": [10, 25, 50, 100, -1], "order": [], "autoWidth": False,
                     "language": {"lengthLabels": {"-1": "All"}}}

_IMG = re.compile(r"<img\b([^>]*)/?>")
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')


def svg_objects(body: str) -> str:
    """``body`` with every ``<img>`` of class ``reviewbook-svg`` replaced by an
    ``<object>`` showing the same SVG (alt text as accessible name and as the
    fallback text)."""
    def swap(m):
        attrs = dict(_ATTR.findall(m.group(1)))
        if INTERACTIVE_CLASS not in attrs.get("class", "").split():
            return m.group(0)
        alt = attrs.get("alt", "")  # already escaped by the HTML writer
        style = f' style="{attrs["style"]}"' if "style" in attrs else ""
        return (f'<object data="{attrs.get("src", "")}" type="image/svg+xml" class="{attrs["class"]}" role="img" '
                f'aria-label="{alt}"{style}>{alt}</object>')
    return _IMG.sub(swap, body)


def tables_script() -> str:
    """The script that makes the sortable tables of a page work offline: itables'
    offline loader, then the activation of each table."""
    import json

    from itables.javascript import generate_init_offline_itables_html
    from itables.options import dt_bundle

    loader = generate_init_offline_itables_html(dt_bundle)
    m = re.search(r"<script>(.*?)</script>", loader, re.S)
    if m is None:
        raise RuntimeError("itables' offline loader has no <script> (itables changed?)")
    promise = re.search(r"window\.(_itables_[0-9A-Za-z_]+)", m.group(1))
    if promise is None:
        raise RuntimeError("itables' offline loader names no module promise (itables changed?)")
    activate = f"""
(function () {{
  "use strict";
  var options = {json.dumps(DATATABLE_OPTIONS, sort_keys=True)};
  window.reviewbookTables = window.reviewbookTables || [];
  function start() {{  // once the whole page is parsed: a table read before its last row would be cut short
    window.{promise.group(1)}.then(function (mod) {{
      var DataTable = mod.default;
      document.querySelectorAll("table.{SORTABLE_CLASS}:not(.dataTable)").forEach(function (table) {{
        window.reviewbookTables.push(new DataTable(table, Object.assign({{}}, options)));
      }});
      window.dispatchEvent(new Event("reviewbook-tables-ready"));  // reviewbook.js fits the columns
      document.documentElement.setAttribute("data-reviewbook-tables", "ready");
    }});
  }}
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}})();
"""
    return _header() + m.group(1) + activate


def _header() -> str:
    from importlib.metadata import version

    return (f"// itables {version('itables')} offline mode (itables' own loader), then the book's tables "
            f"({source_hash()})\n")


def accessible_citations(body: str) -> str:
    """docutils writes a bibliography as ``role="list"`` holding ``role="doc-biblioentry"``
    items; ARIA 1.2 deprecates that role and a list must hold list items, so each
    entry becomes a ``listitem`` (axe-core: aria-required-children, critical)."""
    return body.replace('role="doc-biblioentry"', 'role="listitem"')


#: The glossary's abbreviations (book/glossary.md), linked on their first use on each page.
GLOSSARY_TERMS = ("RCT", "MD", "SMD", "RR", "OR", "RD", "CI", "MID", "GRADE")
_TERM = re.compile(r"\b(" + "|".join(GLOSSARY_TERMS) + r")(s?)\b")
GLOSSARY_DOC = "glossary"


def link_terms(app, doctree) -> None:
    """The first use of each glossary abbreviation on a page becomes a ``{term}``
    reference to the Glossary page (the same node the role makes), in running
    text only: not in headings, captions, code, links, or the glossary itself.
    A term the page already links (``{term}`` in its source) counts as used."""
    from docutils import nodes
    from sphinx import addnodes

    if app.env.docname == GLOSSARY_DOC or GLOSSARY_DOC not in app.env.found_docs:
        return
    seen = {str(x.get("reftarget", "")) for x in doctree.findall(addnodes.pending_xref)
            if x.get("reftype") == "term"}
    skip = (nodes.title, nodes.caption, nodes.literal, nodes.literal_block, nodes.reference, nodes.raw,
            addnodes.pending_xref, nodes.term, nodes.FixedTextElement, nodes.subtitle, nodes.rubric)
    for text in list(doctree.findall(nodes.Text)):
        parent = text.parent
        if parent is None or any(isinstance(a, skip) for a in _ancestors(text)):
            continue
        value = str(text)
        hits = [m for m in _TERM.finditer(value) if m.group(1) not in seen]
        if not hits:
            continue
        out, pos = [], 0
        for m in hits:
            if m.group(1) in seen:
                continue
            seen.add(m.group(1))
            out.append(nodes.Text(value[pos:m.start()]))
            ref = addnodes.pending_xref("", refdomain="std", reftype="term", reftarget=m.group(1),
                                        refexplicit=True, refwarn=True, refdoc=app.env.docname)
            ref += nodes.inline(m.group(0), m.group(0), classes=["xref", "std", "std-term"])
            out.append(ref)
            pos = m.end()
        out.append(nodes.Text(value[pos:]))
        parent.replace(text, out)


def _ancestors(node):
    node = node.parent
    while node is not None:
        yield node
        node = node.parent


def unique_scripts(scripts) -> list:
    """``scripts`` without repeats (the same file, or the same inline body, kept
    once; an inline script's file name may be None or '').  Jupyter Book's extensions reach
    a page's script list twice, once with the file name None and once with ''
    (sphinx-thebe's inline ``const THEBE_JS_URL = ...``, sphinx-togglebutton's
    settings), and the browser refuses the second
    ``const``: "Identifier 'THEBE_JS_URL' has already been declared"."""
    out, seen = [], set()
    for js in scripts:
        # the same file or inline body, whatever priority it was added with
        key = (str(getattr(js, "filename", js) or ""),  # an inline script: None or '', as it was added
               tuple(sorted((k, str(v)) for k, v in (getattr(js, "attributes", None) or {}).items())))
        if key not in seen:
            seen.add(key)
            out.append(js)
    return out


def _unique_page_scripts(app, pagename, templatename, context, doctree):
    if "script_files" in context:
        context["script_files"][:] = unique_scripts(context["script_files"])  # in place: add_js_file appends


def _page_context(app, pagename, templatename, context, doctree):
    body = context.get("body", "")
    if 'role="doc-biblioentry"' in body:
        context["body"] = body = accessible_citations(body)
    if INTERACTIVE_CLASS in body:
        context["body"] = body = svg_objects(body)
    if SORTABLE_CLASS in body:
        app.add_js_file(TABLES_JS)  # this page only (Sphinx >= 3.5)


def _write_assets(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.builder.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    target = static / TABLES_JS
    if target.exists() and target.read_text(encoding="utf-8").startswith(_header()):
        return  # written by an earlier build with this itables (importing itables takes half a second)
    tmp = target.with_suffix(".tmp")
    tmp.write_text(tables_script(), encoding="utf-8")
    tmp.replace(target)


def source_hash() -> str:
    """Hash of this extension's source: the runner puts it in the configuration
    (``reviewbook_sphinxext``), so that a changed extension rewrites every page."""
    import hashlib

    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


def unescaped_uri(uri: str) -> str:
    """``uri`` with the character references MyST-Parser wrote into it ('&amp;', '&lt;',
    '&gt;', '&quot;', '&#39;') turned back into characters; anything else as it is."""
    for ref, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&#39;", "'"), ("&#x27;", "'"),
                    ("&amp;", "&")):
        uri = uri.replace(ref, ch)
    return uri


def unescape_refuris(app, doctree) -> None:
    """Every external reference of ``doctree`` with its address unescaped
    (:func:`unescaped_uri`): the HTML writer escapes it once, as it should."""
    from docutils import nodes

    for node in doctree.findall(nodes.reference):
        uri = node.get("refuri")
        if uri and "&" in uri and re.match(r"[a-z][a-z0-9+.-]*:", uri, re.I):
            node["refuri"] = unescaped_uri(uri)


def setup(app):
    app.add_config_value("reviewbook_sphinxext", "", "env")
    app.connect("doctree-read", unescape_refuris)
    app.connect("doctree-read", link_terms)
    app.connect("html-page-context", _page_context)
    app.connect("html-page-context", _unique_page_scripts, priority=1000)  # after every other handler
    app.connect("build-finished", _write_assets)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


__all__ = ["setup", "svg_objects", "tables_script", "unescape_refuris", "unescaped_uri"]
