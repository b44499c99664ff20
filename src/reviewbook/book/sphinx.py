"""Run Jupyter Book's Sphinx build in a fresh process, with parallel jobs.

    python -m reviewbook.book.sphinx SOURCE OUTPUT DOCTREES [--jobs N]

The same build as ``jupyter-book build SOURCE -W -n --keep-going --quiet``
(``jupyter_book.sphinx.build_sphinx`` with the book's ``_config.yml`` and
``_toc.yml``), but with Sphinx's ``-j N`` (the ``jupyter-book`` command has no
such option), an explicit doctree folder, so that a rebuild re-reads only
the pages whose sources changed, and (with ``--wait``) the Sphinx application
made before the pages are ready.  Exit code 0 on success; warnings are errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m reviewbook.book.sphinx")
    p.add_argument("source")
    p.add_argument("output")
    p.add_argument("doctrees")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--wait", action="store_true",
                   help="import everything, then read commands on stdin: 'init' (read the configuration and "
                        "the saved environment, once _config.yml and _toc.yml are in place) and 'go' (build). "
                        "The runner starts this process early, so that this work overlaps the notebooks.")
    args = p.parse_args(argv)
    skip_slow_optional_imports()
    _declare_parallel_safe()
    search_titles_as_text()
    cache_pybtex_plugins()
    if not args.wait:
        return build(Path(args.source), Path(args.output), Path(args.doctrees), args.jobs)
    _warm_up()
    command = sys.stdin.readline().strip()
    if command not in ("init", "go"):
        return 3  # the runner gave up: nothing built

    def go() -> bool:
        return command == "go" or sys.stdin.readline().strip() == "go"

    return build(Path(args.source), Path(args.output), Path(args.doctrees), args.jobs, before_build=go)


def build(src: Path, out: Path, doctrees: Path, jobs: int, before_build=None) -> int:
    """``jupyter_book.sphinx.build_sphinx(src, out, use_external_toc=True,
    noconfig=True, path_config=src / "_config.yml", builder="html",
    warningiserror=True, keep_going=True, quiet=True)`` with ``-j jobs`` and
    ``doctrees``, in two steps: the Sphinx application is made (configuration,
    extensions, saved environment), then ``before_build()`` is called and, if it
    returns true, the changed pages are built.  Returns the exit code."""
    from jupyter_book.config import get_final_config
    from jupyter_book.pdf import update_latex_documents
    from sphinx.application import Sphinx
    from sphinx.cmd.build import handle_exception
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    config, meta = get_final_config(user_yaml=src / "_config.yml",
                                    cli_config={"nitpicky": True, "latex_individualpages": False},
                                    sourcedir=src, use_external_toc=True)
    app = None
    try:
        with patch_docutils(None), docutils_namespace():
            app = Sphinx(srcdir=src, confdir=None, outdir=out, doctreedir=doctrees, buildername="html",
                         confoverrides=config, status=None, warning=sys.stderr, freshenv=False,
                         warningiserror=True, tags=None, verbosity=0, parallel=max(1, jobs), keep_going=True)
            app.config.latex_documents = update_latex_documents(app.config.latex_documents,
                                                                meta["latex_doc_overrides"])
            app.connect("html-page-context", _title_as_text, priority=900)  # after the themes' handlers
            balance_reading(app)
            if app.config["use_multitoc_numbering"]:
                import yaml

                if "numbered: true" in yaml.dump(app.config.external_site_map.as_json()):
                    app.setup_extension("sphinx_multitoc_numbering")
            if before_build is not None and not before_build():
                return 3
            app.build(False, [])
            return int(app.statuscode or 0)
    except (Exception, KeyboardInterrupt) as exc:  # as jupyter_book.sphinx.build_sphinx
        class _Args:
            pdb = verbosity = traceback = False
        handle_exception(app, _Args, exc, sys.stderr)
        print(f"error: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1


def balance_reading(app) -> None:
    """Sphinx 7.4 reads in parallel by splitting the sorted names of the documents to
    read into consecutive runs (``sphinx.util.parallel.make_chunks``), one forked process
    per run.  The book's notebook pages sort together (``sections/...``), so one process
    read nearly all of them while the other read the short Markdown pages and then
    waited.  While reading, the documents are dealt instead to as many runs as processes,
    largest source file first, each to the run with the fewest bytes so far (Graham's
    LPT rule), so that the processes finish together.  Which documents are read, and
    how, is unchanged; writing is split as Sphinx splits it."""
    import os

    import sphinx.builders as builders
    from sphinx.util.build_phase import BuildPhase
    from sphinx.util.parallel import make_chunks

    def size(docname):
        try:
            return os.path.getsize(app.env.doc2path(docname))
        except (OSError, KeyError, ValueError):
            return 0

    def balanced_chunks(arguments, nproc, maxbatch=10):
        if app.phase != BuildPhase.READING or nproc < 2 or len(arguments) < 2:
            return make_chunks(arguments, nproc, maxbatch)
        sizes = {d: size(d) for d in arguments}
        runs, loads = [[] for _ in range(min(nproc, len(arguments)))], [0] * min(nproc, len(arguments))
        for doc in sorted(arguments, key=lambda d: (-sizes[d], d)):
            i = loads.index(min(loads))
            runs[i].append(doc)
            loads[i] += sizes[doc]
        return runs

    builders.make_chunks = balanced_chunks


def _title_as_text(app, pagename, templatename, context, doctree) -> None:
    """Titles are text: the book's title (``html_title``, from the review file or
    the package) is printed escaped in ``<title>`` but raw in the navigation bar,
    and sphinx-book-theme prints a page's title (``pagetitle``, from a comparison
    name) raw in its print heading.  Both are given to the templates as
    already-escaped markup, which every template prints as text."""
    from markupsafe import Markup, escape

    for key in TEXT_CONTEXT:
        value = context.get(key)
        if value is not None and not isinstance(value, Markup):
            context[key] = escape(value)  # a Markup: printed as is, and |e leaves it alone


def search_titles_as_text() -> None:
    """Sphinx's search page (``searchtools.js``, Sphinx 7.4) puts the titles of the
    search index into the page with ``innerHTML``, so a heading that reads
    ``<img src=x onerror=...>`` (a comparison name) would run as markup in the
    search results.  The section titles and index entries Sphinx writes to
    ``searchindex.js`` are plain text (the page titles are rendered HTML
    already): here they are HTML-escaped as the index is written, and unescaped
    when an incremental build loads the previous index, so the search page shows
    them as the text they are."""
    import html

    from sphinx.search import IndexBuilder

    if getattr(IndexBuilder, "_reviewbook_text", False):
        return
    freeze, load = IndexBuilder.freeze, IndexBuilder.load

    def frozen(self):
        data = freeze(self)
        for key in ("alltitles", "indexentries"):
            if isinstance(data.get(key), dict):
                data[key] = {html.escape(k): v for k, v in data[key].items()}
        return data

    def loaded(self, stream, format):
        load(self, stream, format)
        self._all_titles = {d: [(html.unescape(t), i) for t, i in titles] for d, titles in self._all_titles.items()}

    IndexBuilder.freeze, IndexBuilder.load, IndexBuilder._reviewbook_text = frozen, loaded, True


#: Template variables that hold plain text (not HTML) which some theme prints unescaped.
TEXT_CONTEXT = ("docstitle", "pagetitle", "root_title", "shorttitle", "project")


def skip_slow_optional_imports() -> None:
    """jsonschema (imported by nbformat and Jupyter Book to validate notebooks and
    configuration) optionally imports rfc3987_syntax for its 'iri' format
    checker, which compiles some forty Lark grammars at import: two seconds per
    process.  No schema used here has an 'iri' format, so the optional import is
    skipped (jsonschema guards it with ``suppress(ImportError)``)."""
    sys.modules.setdefault("rfc3987_syntax", None)


def _warm_up() -> None:
    """Import the Sphinx extensions of a Jupyter Book build."""
    import importlib

    for name in ("sphinx.application", "myst_nb", "sphinx_book_theme", "pydata_sphinx_theme", "sphinx_togglebutton",
                 "sphinx_copybutton", "sphinx_design", "sphinx_thebe", "sphinx_comments", "sphinx_external_toc",
                 "sphinxcontrib.bibtex"):
        try:
            importlib.import_module(name)
        except ImportError:  # an extension this book does not load
            pass


def cache_pybtex_plugins() -> None:
    """pybtex finds a plugin (a style, a backend) by scanning the entry points of
    every installed distribution, on every call: sphinxcontrib-bibtex asks once per
    citation it resolves, a few seconds per build in Sphinx's main process.  The
    entry point found for a (group, name) is kept for the process; plugins registered
    at run time are still looked up first and in pybtex's order, as pybtex does."""
    import pybtex.plugin as plugin

    if getattr(plugin, "_reviewbook_cached", False):
        return
    found = {}

    def load_entry_point(group, name, use_aliases=False):
        for search_group in [group, group + ".aliases"] if use_aliases else [group]:
            klass = plugin._RUNTIME_PLUGINS.get(search_group, {}).get(name)
            if klass is not None:
                return klass
            if (search_group, name) not in found:
                found[search_group, name] = next(iter(plugin.entry_points(group=search_group, name=name)), None)
            if found[search_group, name] is not None:
                return found[search_group, name].load()
        raise plugin.PluginNotFound(group, name)

    plugin._load_entry_point = load_entry_point
    plugin._reviewbook_cached = True


def _declare_parallel_safe() -> None:
    """sphinx-multitoc-numbering (which Jupyter Book adds for numbered parts) does
    not declare whether it is safe for parallel reading, so Sphinx would read
    serially and warn.  It only replaces the TOC collector's section numbering,
    which Sphinx runs in the main process after all documents are read, so it is
    safe: declare it."""
    import sphinx_multitoc_numbering as ext

    original = ext.setup

    def setup(app):
        meta = dict(original(app) or {})
        meta.update(parallel_read_safe=True, parallel_write_safe=True)
        return meta

    ext.setup = setup


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # skip the interpreter's teardown of the Sphinx environment (a few tenths of a
    # second the runner would wait for): everything is written and flushed
    import os

    os._exit(code)
