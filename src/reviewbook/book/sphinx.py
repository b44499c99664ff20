"""Run Jupyter Book's Sphinx build in a fresh process, with parallel jobs.

    python -m reviewbook.book.sphinx SOURCE OUTPUT DOCTREES [--jobs N]

The same build as ``jupyter-book build SOURCE -W -n --keep-going --quiet``
(``jupyter_book.sphinx.build_sphinx`` with the book's ``_config.yml`` and
``_toc.yml``), but with Sphinx's ``-j N`` (the ``jupyter-book`` command has no
such option) and an explicit doctree folder, so that a rebuild re-reads only
the pages whose sources changed.  Exit code 0 on success; warnings are errors.
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
                   help="import everything, then wait for a line on stdin before building (the runner "
                        "starts this process early, so that the imports overlap the notebook execution)")
    args = p.parse_args(argv)
    skip_slow_optional_imports()
    _declare_parallel_safe()
    from jupyter_book.sphinx import build_sphinx

    if args.wait:
        _warm_up()
        if sys.stdin.readline().strip() != "go":
            return 3  # the runner gave up: nothing built

    src = Path(args.source)
    result = build_sphinx(src, Path(args.output), use_external_toc=True, noconfig=True,
                          path_config=src / "_config.yml", confoverrides={"nitpicky": True, "latex_individualpages": False},
                          builder="html",
                          doctreedir=Path(args.doctrees), warningiserror=True, keep_going=True, quiet=True,
                          jobs=max(1, args.jobs))
    if isinstance(result, Exception):
        print(f"error: {result.__class__.__name__}: {result}", file=sys.stderr)
        return 1
    return int(result or 0)


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
    sys.exit(main())
