"""Build the book: execute the notebooks with papermill, validate them, and
assemble the static site with Jupyter Book 1.x.

    python -m reviewbook book [--data PACKAGE] [--review REVIEW.yml] [--jobs 2] [--force]
                              [--previous RESULTS.json] [--allow-warnings]

Steps, each reported with a progress line:

1. Read and validate the data package and its review file (invalid input:
   exit 2, nothing touched).  The plan of pages comes from both
   (:mod:`.plan`): a book about the review the package is.
2. Execute the notebook pages with papermill into a staging copy of the book,
   on ``--jobs`` workers that each keep one Jupyter kernel for all the
   notebooks they run (imports are paid once per worker, and the namespace is
   reset between notebooks).  A page whose template, heading, parameters and
   data fingerprint (only the analyses it reads) are unchanged since the last
   build is taken from the cache instead of re-executed.
3. Validate the executed notebooks: no cell may raise or write to stderr.
4. Build the site with ``jupyter-book build -W -n --keep-going`` (warnings are
   errors) into the staging folder.
5. Write the results JSON (every pooled estimate, CI, tau², I², k, certainty)
   and ``changes.json``, the comparison with the previously published site's
   results and data package (or ``--previous``), copy the data package and executed
   notebooks into the site as downloads, and only then swap the new site in
   place of the old one.  Any failure leaves the previous site untouched and
   names the notebook and cell.

A build whose inputs are all unchanged since the last successful build exits
at once ("up to date").

Each step is a stage of :mod:`.build` (plan, execute, validate, site, publish);
this module runs them in turn (:func:`build`), holds the project's paths
(:func:`use_project`), and keeps the writer lock and the exit codes (:func:`main`).
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from ..errors import InputError
from .build import execute, plan, publish, quick, site, validate
from .build.base import PAGES, RESOURCES, SOURCES, BuildError, Paths, log, sha  # noqa: F401 - the runner's names
from .build.base import rel as _relpath
from .build.base import tree_hash as _tree_hash
from .build.execute import (RESET, WARM_UP, Kernels, _exports, _failure, _figure_prefix,  # noqa: F401
                            _first_problem, _link_or_copy, _longest_first, _previous_rows, _r,
                            _template_code_cells, collect_results, prepare)
from .build.execute import execute as execute_notebook  # noqa: F401
from .build.plan import _previous_problems, fingerprint, load_previous  # noqa: F401
from .build.plan import project_package as _project_package  # noqa: F401
from .build.publish import PUBLISHED as _PUBLISHED
from .build.publish import _swap  # noqa: F401
from .build.site import (_ASSET, DL, GENERATED_PAGES, Sphinx, _copy_sources, _download_notebook,  # noqa: F401
                         _downloads, _mathjax, _prepare_downloads, _prune, _references, _size, _sync,
                         _write_results, downloads_page, pd_has_numbers, substitutions)
from .build.validate import _clean_metadata
from .build.validate import validate as validate_notebook  # noqa: F401
from .paths import code_root, files_under, resources  # noqa: F401
from .paths import Project
from .paths import project as find_project


def use_project(proj, out=None) -> None:
    """Point the build at the review project ``proj`` (:class:`~.paths.Project`): its
    folder (ROOT), the folder of its review file (BOOK) and build folder (cache,
    state, Sphinx work tree); the site goes to ``out`` when given, else ``_build/html``."""
    global ROOT, BOOK, BUILD, SITE, CACHE, STATE, WORK
    ROOT = proj.root
    BUILD = proj.build
    BOOK = BUILD.parent
    SITE = Path(out).resolve() if out else BUILD / "html"
    CACHE = BUILD / ".cache"
    STATE = BUILD / "state.json"
    WORK = BUILD / "work"  # persistent Sphinx sources, doctrees and output (incremental rebuilds)


use_project(find_project())
STATIC_PAGES = ("methods.md", "rerun.md", "review_file.md")


def paths() -> Paths:
    """The current project's paths (as :func:`use_project` last set them), for the stages."""
    return Paths(root=ROOT, book=BOOK, build=BUILD, site=SITE, cache=CACHE, state=STATE, work=WORK)


def tree_hash(paths) -> str:
    """SHA-256 of the names and bytes of ``paths``; a folder stands for every file under it."""
    return _tree_hash(paths, ROOT)


def _rel(path: Path) -> str:
    """A path relative to the project's folder when inside it (no machine paths in the book)."""
    return _relpath(path, ROOT)


def _code_hash() -> str:
    return plan._code_hash(ROOT)


def read_previous(previous=None):
    """The previous build's results and where its data package is (:func:`.build.plan.read_previous`)."""
    return plan.read_previous(paths(), previous)


def build(data=None, *, review=None, jobs=2, force=False, previous=None, allow_warnings=False,
          project=None, out=None) -> Path:
    """Build the book of the review project in the folder ``project`` (default: the
    current folder; :func:`~.paths.project`; or the :class:`~.paths.Project` itself) into
    its ``_build/html`` or ``out``.
    ``data``: the package (default: the project's ``data/<package>``, the package
    its review file names); ``review``: the review file (default: the project's)."""
    t_start = time.perf_counter()
    proj = project if isinstance(project, Project) else find_project(project)
    use_project(proj, out)
    where = paths()
    the_plan = plan.make(where, proj, data, review=review, previous=previous, allow_warnings=allow_warnings,
                         force=force, options=quick.options(data, review, out, allow_warnings))
    if the_plan.up_to_date:
        log(f"[5/5] up to date: nothing changed since the last build ({time.perf_counter() - t_start:.1f} s)")
        log(f"site: {where.site / 'index.html'}")
        return where.site / "index.html"
    staging, sphinx_code = plan.staging(where, the_plan)
    workers = None
    sphinx = site.Sphinx(where, jobs)
    try:
        workers = execute.start(where, the_plan, staging, jobs)  # kernels start while the sources are copied
        site.sources(staging, the_plan, sphinx)
        ran = execute.run(where, the_plan, staging, workers, jobs, force)
        validate.notebooks(staging, ran)
        html, _ = site.make(where, the_plan, staging, ran, sphinx, sphinx_code)
        publish.publish(where, the_plan, staging, ran, html)
    finally:
        sphinx.cancel()
        if workers is not None:
            workers.kernels.shutdown()
        shutil.rmtree(staging, ignore_errors=True)
    log(f"done in {time.perf_counter() - t_start:.1f} s")
    log(f"site: {where.site / 'index.html'}")
    return where.site / "index.html"


def main(data=None, review=None, jobs=2, force=False, previous=None, allow_warnings=False, project=None,
         out=None) -> int:
    from ..package.lock import Terminated, terminated_as_exception, writer_lock

    try:
        if previous:
            load_previous(previous)
        proj = find_project(project)
        if data is None:
            _project_package(proj)  # a folder that is no project is refused before anything is written
        use_project(proj, out)  # the project's build folder is what is locked
        with terminated_as_exception():
            BUILD.mkdir(parents=True, exist_ok=True)
            # one build at a time: a second waits (LOCK_TIMEOUT), then stops, so that
            # neither removes the other's staging folder or Sphinx work tree
            with writer_lock(BUILD, f"the book's build folder ({os.path.relpath(BUILD, ROOT)})", log=log):
                build(data, review=review, jobs=jobs, force=force, previous=previous,
                      allow_warnings=allow_warnings, project=proj, out=out)
    except Terminated:
        print("error: terminated; " + ("the new site was published first" if _PUBLISHED else
                                       "the previous site is unchanged"), file=sys.stderr)
        return 143
    except InputError as exc:
        exc.report()
        print("error: the input is invalid; the previous site is unchanged", file=sys.stderr)
        return 2
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        print("error: build failed; the previous site is unchanged", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted; the previous site is unchanged", file=sys.stderr)
        return 130
    return 0


def refresh_notebooks() -> int:
    """Execute each template in notebooks/ in place with its default parameters
    (the embedded data), so that the committed outputs are what nbval checks."""
    import nbformat

    kernels = Kernels(RESOURCES / "notebooks", CACHE)
    try:
        for nb_path in sorted((RESOURCES / "notebooks").glob("*.ipynb")):
            t0 = time.perf_counter()
            nb = prepare(nb_path, None, reset=True)
            out = nb_path.with_name(nb_path.stem + ".out.ipynb")
            try:
                execute_notebook(nb, out, {}, km=kernels.get())
            except BuildError as exc:
                print(f"error: notebook {nb_path.name} failed: {exc}", file=sys.stderr)
                out.unlink(missing_ok=True)
                return 1
            done = nbformat.read(out, as_version=4)
            _clean_metadata(done)
            done.cells = [c for c in done.cells
                          if not {"injected-parameters", "reset-kernel"} & set(c.metadata.get("tags", []))]
            nbformat.write(done, nb_path)
            out.unlink()
            log(f"refreshed notebooks/{nb_path.name} in {time.perf_counter() - t0:.1f} s")
    finally:
        kernels.shutdown()
    return 0
