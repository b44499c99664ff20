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
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from ..errors import InputError, Problem
from ..package.load import read_any as read
from .paths import code_root, files_under, resources
from .paths import project as find_project

#: The tool's own resources: notebook templates, fixed pages and ``_config.yml`` defaults.
RESOURCES = resources()
PAGES = RESOURCES / "book"
SOURCES = ("*.md", "_static", "references.bib")


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


#: Set (non-empty) once a build of this process has published its site.
_PUBLISHED: list = []


class BuildError(RuntimeError):
    """A step of the build failed; the message says which notebook, cell and why."""


_T0 = time.perf_counter()


def log(msg: str) -> None:
    if os.environ.get("REVIEWBOOK_TIMESTAMPS"):
        msg = f"{time.perf_counter() - _T0:6.2f} {msg}"
    print(msg, flush=True)


def sha(*parts) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b"\0")
    return h.hexdigest()


def tree_hash(paths) -> str:
    """SHA-256 of the names and bytes of ``paths``; a folder stands for every file under it."""
    h = hashlib.sha256()
    for p in sorted(q for path in paths for q in files_under(path)):
        if p.is_file():
            try:
                rel = p.relative_to(ROOT)
            except ValueError:
                rel = p
            h.update(str(rel).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def _code_hash() -> str:
    return tree_hash(list((code_root() / "reviewbook").rglob("*.py")))


def fingerprint(pkg, reads: str, owners: dict) -> str:
    """Hash of the part of the package a page reads."""
    if reads == "studies":
        cols = [c for c in ("Study", "Study year", "Analysis group", "Analysis number", "Experimental N",
                            "Control N", "Subgroup") if c in pkg.rows.columns]
        return sha(pkg.studies.to_csv(), pkg.rows[cols].to_csv() if not pkg.rows.empty else "",
                   pkg.analyses[["Analysis group", "Analysis number", "Analysis group name"]].to_csv(),
                   pkg.risk_of_bias.to_csv(), *(f"{k}\n{f.to_csv()}" for k, f in sorted(pkg.extra.items())))
    if reads.startswith("section:"):
        import pandas as pd

        key = reads.split(":", 1)[1]
        rob = pkg.risk_of_bias
        rob_aid = ([f"{g}.{n}" for g, n in zip(rob["Analysis group"], rob["Analysis number"])]
                   if {"Analysis group", "Analysis number"} <= set(rob.columns) else [])
        index = [i for i, aid in enumerate(pkg.analysis_ids()) if owners[aid] == key]
        aids = [pkg.analysis_ids()[i] for i in index]
        # one CSV per table (its settings, its data rows, the forest plots' RoB), not one per analysis
        rows = pd.concat([pkg.rows_of(aid) for aid in aids]).to_csv() if aids else ""
        mine = set(aids)
        return sha(key, *aids, pkg.analyses.iloc[index].to_csv(), rows,
                   rob[[a in mine for a in rob_aid]].to_csv() if rob_aid else "")
    return sha(pkg.analyses.to_csv(), pkg.rows.to_csv(), pkg.studies.to_csv(), pkg.risk_of_bias.to_csv(),
               *(f"{k}\n{f.to_csv()}" for k, f in sorted(pkg.extra.items())))


def _rel(path: Path) -> str:
    """A path relative to the project's folder when inside it (no machine paths in the book)."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------ notebook execution

class Kernels:
    """One Jupyter kernel per worker thread, reused for every notebook it runs."""

    def __init__(self, cwd: Path):
        self.cwd = cwd
        self.local = threading.local()
        self.all = []
        self.lock = threading.Lock()

    def get(self):
        km = getattr(self.local, "km", None)
        if km is None or not km.is_alive():
            km = self.start()
            self.local.km = km
        return km

    def start(self):
        """A new kernel, with the book's modules imported while the runner does other work."""
        import tempfile

        from jupyter_client.manager import KernelManager

        base = tempfile.mkdtemp(prefix="reviewbook-kernel-")  # one IPC path per kernel
        km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(base, "k"))
        km._reviewbook_dir = base
        env = dict(os.environ, PYTHONWARNINGS="ignore", MPLBACKEND="Agg",
                   REVIEWBOOK_FIGURE_CACHE=str(CACHE / "figures"))
        km.start_kernel(cwd=str(self.cwd), env=env)
        with self.lock:
            self.all.append(km)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            kc.execute(WARM_UP, store_history=False)  # not awaited: runs while papermill connects
        finally:
            kc.stop_channels()
        return km

    def shutdown(self):
        for km in self.all:
            try:
                km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001 - best effort at the end of a build
                pass
            shutil.rmtree(getattr(km, "_reviewbook_dir", ""), ignore_errors=True)
        self.all = []


#: Run in each new kernel before its first notebook, while the runner copies the sources
#: and papermill connects: the imports every notebook needs, the plotting stack included
#: (pyplot and the SVG writer: over a second per kernel, needed by every page that shows a
#: figure, even one from the figure cache, and by every reused kernel's reset).
WARM_UP = ("import reviewbook.book.sections, reviewbook.book.pages, reviewbook.book.synthesis\n"
           "import matplotlib.pyplot, matplotlib.backends.backend_svg, scipy.optimize\n"
           "import reviewbook.views.forest, reviewbook.views.tsa, reviewbook.views.cumulative, "
           "reviewbook.views.rob, reviewbook.views.prisma")
#: The first cell of every notebook run in a reused kernel (removed from the output):
#: forget the previous notebook's names (modules stay imported) and figures.
RESET = "%reset -f\nimport matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt"


def prepare(template: Path, heading: str | None, reset: bool = False):
    """The template with its heading cell (tagged ``heading``) set to ``heading``
    (and, for a reused kernel, a first cell that resets its namespace)."""
    from .sphinx import skip_slow_optional_imports

    skip_slow_optional_imports()
    import nbformat

    nb = nbformat.read(template, as_version=4)
    if reset:
        cell = nbformat.v4.new_code_cell(RESET, metadata={"tags": ["reset-kernel"]})
        cell["id"] = "reviewbook-reset"
        nb.cells.insert(0, cell)
    if heading:
        for c in nb.cells:
            if c.cell_type == "markdown" and "heading" in c.metadata.get("tags", []):
                c.source = heading
                break
    return nb


def execute(nb, out: Path, params: dict, km=None) -> None:
    """Execute ``nb`` into ``out`` with papermill (in this process; with ``km``
    a running kernel to reuse).  Raises :class:`BuildError` naming the cell."""
    import logging

    from .sphinx import skip_slow_optional_imports

    skip_slow_optional_imports()

    import nbformat
    import papermill as pm

    logging.getLogger("papermill").setLevel(logging.ERROR)
    out.parent.mkdir(parents=True, exist_ok=True)
    src = out.with_name(out.stem + ".template.ipynb")
    nbformat.write(nb, src)
    kwargs = {"km": km} if km is not None else {"cwd": str(out.parent)}
    try:
        pm.execute_notebook(str(src), str(out), parameters=params, kernel_name="python3", progress_bar=False,
                            log_output=False, request_save_on_cell_execute=False, **kwargs)
    except pm.PapermillExecutionError:
        raise BuildError(_failure(out)) from None
    except Exception as exc:  # noqa: BLE001 - kernel died, timeout, ...
        raise BuildError(f"{exc.__class__.__name__}: {exc}") from None
    finally:
        src.unlink(missing_ok=True)


def _failure(out: Path) -> str:
    import nbformat

    try:
        hit = _first_problem(nbformat.read(out, as_version=4), stderr_too=False)
    except Exception:  # noqa: BLE001
        hit = None
    return hit or "unknown error"


def _template_code_cells(nb):
    """Code cells numbered as in the template (papermill's injected cell left out)."""
    return [c for c in nb.cells if c.cell_type == "code"
            and not {"injected-parameters", "reset-kernel"} & set(c.metadata.get("tags", []))]


def _first_problem(nb, *, stderr_too=True) -> str | None:
    """'code cell N: Error: message' for the first cell that raised (or wrote to stderr)."""
    for i, c in enumerate(_template_code_cells(nb), start=1):
        for o in c.get("outputs", []):
            if o.get("output_type") == "error":
                return f"code cell {i}: {o.get('ename')}: {o.get('evalue')}"
            if stderr_too and o.get("output_type") == "stream" and o.get("name") == "stderr":
                text = "".join(o.get("text", "")).strip().splitlines()
                return f"code cell {i} wrote to stderr: {text[:1]}"
    return None


def validate(nb_path: Path, name: str) -> None:
    """No error outputs and nothing on stderr in any cell; code cells are then
    tagged ``remove-input`` (reader pages show the review, not the code: the
    executed notebooks, code included, are on the Downloads page) and
    papermill's volatile metadata (timestamps, durations) is dropped, so builds
    are reproducible."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    _clean_metadata(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            tags = c.metadata.setdefault("tags", [])
            if "remove-input" not in tags:
                tags.append("remove-input")
    nbformat.write(nb, nb_path)
    problem = _first_problem(nb)
    if problem:
        raise BuildError(f"notebook {name}, {problem}")


def _clean_metadata(nb) -> None:
    """Drop what depends on the run rather than the inputs: papermill's timings,
    the kernel-reset cell, the execution counts of a reused kernel (renumbered
    1, 2, ... as a fresh kernel gives) and the random id papermill gives its
    injected-parameters cell."""
    nb.metadata.pop("papermill", None)
    nb.cells = [c for c in nb.cells if "reset-kernel" not in c.metadata.get("tags", [])]
    n = 0
    for c in nb.cells:
        c.metadata.pop("papermill", None)
        c.metadata.pop("execution", None)
        if c.cell_type != "code":
            continue
        if "injected-parameters" in c.metadata.get("tags", []):
            c["id"] = "injected-parameters"
        if c.get("execution_count") is not None:
            n += 1
            c["execution_count"] = n
            for o in c.get("outputs", []):
                if o.get("output_type") == "execute_result":
                    o["execution_count"] = n


# ------------------------------------------------------------------ sources

def _mathjax(staging: Path) -> None:
    """MathJax 3 from the sphinx-mathjax-offline wheel, served from the site itself
    (not under _static, whose .js files would be added to every page)."""
    from importlib.metadata import distribution

    mathjax = Path(str(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline/static/mathjax")))
    dest = staging / "_extra" / "mathjax"
    (dest / "output" / "chtml" / "fonts").mkdir(parents=True)
    shutil.copy2(mathjax / "tex-chtml.js", dest / "tex-chtml.js")  # TeX input, CommonHTML output
    shutil.copytree(mathjax / "output" / "chtml" / "fonts" / "woff-v2", dest / "output" / "chtml" / "fonts" / "woff-v2")


def pd_has_numbers(column) -> bool:
    """True when a column of the data rows holds at least one number."""
    import pandas as pd

    return bool(pd.to_numeric(column, errors="coerce").notna().any())


def substitutions(pkg, review, pages) -> dict:
    """The review-specific (or package-specific) text of the static pages."""
    from ..views.tables import escape
    from .plan import reading_guide

    # titles and ids are text, never markup (a package's id or a review file's title)
    if review.citation and not review.generic:
        what = f"the Cochrane review *{escape(review.short_title)}*"
    elif review.citation:
        what = f"the review whose data package is {escape(pkg.id)}"
    else:
        what = f"the data package {escape(pkg.id)}"
    about = (f"This appendix re-runs the analyses of {what} from its data, so that every number can be traced to "
             "its source and the whole book re-run on corrected or newer data. Each pooled result and each "
             "judgement about it (which way is better, the certainty of the evidence, what it means, the absolute "
             "effect) is computed when the book is built, by the rules and sources of {ref}`sec-methods`.")
    if review.citation:
        from .references import key_for
        from .review import doi_links

        about += f"\n\nThe review: {doi_links(review.citation)}"

        key = key_for(review.citation, PAGES / "references.bib")
        if key:
            about += f" {{cite:p}}`{key}`"
    if "provenance.csv" in pkg.extra:
        sources = "Every data value carries its source in the package's `provenance.csv`"
    else:
        sources = "The package has no `provenance.csv`, so the values are shown as the package gives them"
    stored = "Mean" in pkg.rows.columns and pd_has_numbers(pkg.rows["Mean"])
    checked = ("every stored per-study result of RevMan is recomputed and checked" if stored else
               "the package stores no per-study results of RevMan to check against")
    provenance = f"{sources}, and {checked} ({{ref}}`sec-reproduction`)."
    from .changes import PRISMA_LSR_TITLES, living_mode, version_authors, versions

    history = versions(pkg)
    t = PRISMA_LSR_TITLES
    prisma_lsr = "\n".join([
        f"- **L1 {t['L1']}.** {living_mode(history)}",
        f"- **L2 {t['L2']}.** At each update, {{ref}}`sec-what-changed` lists every analysis whose effect measure "
        "or pooling method changed (`methods_changed` in `changes.json`).",
        f"- **L3 {t['L3']}.** At each update, {{ref}}`sec-what-changed` lists the data values, studies, estimates "
        "and conclusions that changed (`changes.json`).",
        f"- **L4 {t['L4']}.** {version_authors(history)}"])

    from .plain import windows_named

    windows = windows_named(pkg.analysis(a).name for a in pkg.analysis_ids())
    follow_up = (f"The analysis names state {len(windows)} follow-up "
                 f"{'window' if len(windows) == 1 else 'windows'}: {', '.join(windows)}. "
                 "This book keeps each analysis's own name for its window and defines no window of its own."
                 if windows else "The analysis names state no follow-up window.")
    if review.extra.get("follow_up"):
        follow_up += " " + review.extra["follow_up"]
    return {"title": escape(review.title), "about": about, "prisma_lsr": prisma_lsr, "follow_up": follow_up, "question": review.question or "Not stated.",
            "data_origin": review.data or "Not stated.", "provenance": provenance, "guide": reading_guide(pages),
            "package_id": escape(pkg.id)}  # plain text in the page, so escaped


def _copy_sources(staging: Path, pkg, review, pages) -> None:
    from .plan import toc

    for pattern in SOURCES:
        for p in PAGES.glob(pattern):
            dest = staging / p.name
            if p.is_dir():
                shutil.copytree(p, dest)
            else:
                shutil.copy2(p, dest)
    cfg = yaml.safe_load((RESOURCES / "_config.yml").read_text())
    cfg["title"] = review.short_title
    cfg.setdefault("parse", {})["myst_substitutions"] = substitutions(pkg, review, pages)
    from .sphinxext import source_hash

    cfg.setdefault("sphinx", {}).setdefault("config", {})["reviewbook_sphinxext"] = source_hash()
    (staging / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc(pages), sort_keys=False))
    _mathjax(staging)
    _references(staging, pkg, review)


def _references(staging: Path, pkg, review) -> None:
    """The References page and the BibTeX file of the package's study reports; the page
    lists every methods source cited in the book, named by its judgement rules or named in
    its review file."""
    from . import references as refs

    reports = refs.study_reports(pkg)
    (staging / "studies.bib").write_text(refs.studies_bibtex(reports), encoding="utf-8")
    named = set(refs.RULE_ENTRIES.values()) | set(refs.named_entries(refs.review_text(review),
                                                                     staging / "references.bib"))
    (staging / "references.md").write_text(refs.page(len(reports), len({r.study for r in reports if r.study}),
                                                     named), encoding="utf-8")


DL = "_downloads"  # in the staging copy: the files the Downloads page offers, before the site exists


def _size(n: int) -> str:
    """A file size as a reader reads it: '812 bytes', '14.2 KB', '1.3 MB' (1 KB = 1,024 bytes)."""
    if n < 1024:
        return f"{n:,} bytes"
    if n < 1024 ** 2:
        return f"{n / 1024:,.1f} KB"
    return f"{n / 1024 ** 2:,.1f} MB"


def downloads_page(pkg, pages, sizes: dict | None = None, review=None) -> str:
    """The Downloads page: the data package, the results and changes JSON and
    each executed notebook, linked from the site itself (the files are written
    next to the site by :func:`_downloads`), each with its size and the
    licences; every title is the title of the page it belongs to."""
    import html as _html

    from ..views.tables import escape
    from .changes import package_zip_name

    sizes = sizes or {}

    def link(href, text):
        return f'<a href="{_html.escape(href)}" download>{_html.escape(text)}</a>'

    def size(href):
        return _size(sizes[href]) if href in sizes else "not known"

    zip_name = package_zip_name(pkg.id)
    rows = [(f"downloads/{zip_name}", zip_name, "The data package the book was built from, as read and validated "
             "(Cochrane data package layout), with the source of every value where the package gives them."),
            ("results.json", "results.json", "Every pooled estimate of the book: estimate, confidence interval, "
             "tau², I², number of studies, certainty and statement, by analysis."),
            ("changes.json", "changes.json", "The comparison with the previous build, as the page "
             "{ref}`sec-what-changed` shows it: data values, studies and estimates that changed, and changes in "
             "conclusions."),
            ("evidence.fhir.json", "evidence.fhir.json", "The summaries of findings as an HL7 FHIR R5 Bundle following "
             "the Evidence-Based Medicine on FHIR implementation guide: per outcome the effect estimate and 95% CI, "
             "studies and participants, model and method, absolute effects, the GRADE certainty with its five "
             "domains and reasons, and the narrative statement; the population, intervention, comparator and "
             "outcomes; citations of the review and the included studies."),
            ("downloads/summary-of-findings.csv", "summary-of-findings.csv", "The summaries of findings, one row per "
             "outcome, with the columns of the Cochrane table."),
            ("downloads/included-studies.ris", "included-studies.ris", "The included studies for a reference "
             "manager (RIS), one record per study."),
            ("downloads/included-studies.bib", "included-studies.bib", "The included studies as BibTeX, one entry "
             "per study.")]
    for p in pages:
        if p.template:
            title = "the landing page" if p.file == "intro" else f"the page *{escape(p.title)}*"
            rows.append((f"downloads/{p.key}.ipynb", f"{p.key}.ipynb",
                         f"The executed notebook of {title}, code and outputs, with this book's parameters."))
    licence = (review.extra.get("data_licence") if review is not None else "") or (
        "the licence of its source (the package states none)")
    lines = ["(sec-downloads)=", "# Downloads", "",
             "The data, results and executed notebooks behind every page of this book. Each notebook re-runs "
             "its page from the data package: put it in one folder with the package's zip file, as here, and run "
             "it (see {ref}`sec-rerun`).", "",
             "| File | Size | What it holds |", "|---|---|---|"]
    lines += [f"| {link(href, text)} | {size(href)} | {what} |" for href, text, what in rows]
    lines += ["", f"Licences: the notebooks and the code that made this book: MIT. The data package: "
              f"{escape(licence)}.", ""]
    return "\n".join(lines) + "\n"


def _download_notebook(src: Path, dest: Path, params: dict) -> None:
    """The executed notebook as offered for download: its parameters cell holds
    this book's parameters (``params``, the package as a path relative to the
    notebook), papermill's injected cell is removed, so no path of the machine
    that built the book is left in it."""
    import nbformat

    nb = nbformat.read(src, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    for c in nb.cells:
        if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []):
            lines = []
            for line in c.source.splitlines():
                m = re.match(r"^(\w+)(\s*=\s*)(.+?)(\s+#.*)?$", line)
                if m and m.group(1) in params:
                    value = repr(params[m.group(1)]) if not isinstance(params[m.group(1)], str) else \
                        json.dumps(params[m.group(1)])
                    line = f"{m.group(1)}{m.group(2)}{value}{m.group(4) or ''}"
                lines.append(line)
            c.source = "\n".join(lines)
    nbformat.write(nb, dest)


def _prepare_downloads(staging: Path, pkg, pages, results: dict, params: dict, review, exports: dict) -> None:
    """The files of the Downloads page, in ``staging/_downloads`` (the data
    package for spreadsheets, results.json, changes.json, the notebooks, the FHIR
    bundle and the RIS, BibTeX and CSV exports), and the Downloads page with their sizes."""
    from ..package.datapackage import write_zip
    from .changes import package_zip_name

    dl = staging / DL
    (dl / "downloads").mkdir(parents=True, exist_ok=True)
    zip_name = package_zip_name(pkg.id)
    write_zip(pkg, dl / "downloads" / zip_name, spreadsheet=True)
    (dl / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
    shutil.copy2(staging / "changes.json", dl / "changes.json")
    review_param = params.get("review", "auto")
    for p in pages:
        if p.template:
            mine = {**params, **p.parameters, "package": zip_name,
                    "review": review_param if not Path(review_param).is_absolute() else "auto"}
            _download_notebook(staging / f"{p.file}.ipynb", dl / "downloads" / f"{p.key}.ipynb", mine)
    # the machine-readable exports (the same as `reviewbook export`, made while the notebooks
    # ran: _exports): the FHIR bundle beside results.json, the others in downloads/
    from .exports import FILE_NAMES

    for name, text in exports.items():
        dest = (dl if name == FILE_NAMES["fhir"] else dl / "downloads") / name
        dest.write_text(text, encoding="utf-8")
    sizes = {str(f.relative_to(dl)): f.stat().st_size for f in dl.rglob("*") if f.is_file()}
    (staging / "downloads.md").write_text(downloads_page(pkg, pages, sizes, review), encoding="utf-8")


# ------------------------------------------------------------------ build

def build(data=None, *, review=None, jobs=2, force=False, previous=None, allow_warnings=False,
          project=None, out=None) -> Path:
    """Build the book of the review project in the folder ``project`` (default: the
    current folder; :func:`~.paths.project`) into its ``_build/html`` or ``out``.
    ``data``: the package (default: the project's ``data/<package>``, the package
    its review file names); ``review``: the review file (default: the project's)."""
    from . import review as rv
    from .plan import plan

    t_start = time.perf_counter()
    proj = find_project(project)
    use_project(proj, out)
    if previous:
        load_previous(previous)  # checked before anything is done
    if not data:
        data = _project_package(proj)
    data = Path(data)
    if not data.is_absolute():
        data = (Path.cwd() / data).resolve()
    log(f"[1/5] reading data package {data.name}")
    pkg = read(data)  # raises InputError
    nb_data = data
    from ..package.load import is_rows_table

    if data.is_file() and data.suffix.lower() == ".csv" and is_rows_table(data):
        # a table of data rows on its own: imported once (settings inferred), and the
        # notebooks read the imported package
        from ..package import importer

        nb_data = BUILD / "imported" / pkg.id
        if nb_data.exists():
            shutil.rmtree(nb_data)
        importer.write_import(importer.build(data), nb_data)
        log(f"      imported the data rows as package {pkg.id} (settings inferred from RevMan's stored results)")
    for w in pkg.warnings:
        log(f"      warning: {w}")
    if pkg.warnings and not allow_warnings:
        raise InputError(list(pkg.warnings) + [Problem(
            data.name, None, None, f"{len(pkg.warnings)} warning(s)",
            "a package without warnings (re-run with --allow-warnings to build anyway)")])
    if not pkg.analysis_ids():
        raise InputError([Problem(data.name, None, None, "a package with 0 analyses",
                                  "at least one analysis (overall-estimates-and-settings.csv or data rows)")])
    prev_results, prev_data = read_previous(previous)  # raises InputError for an unreadable --previous
    review_path = Path(review).resolve() if review else None
    rvw = rv.for_package(pkg, review_path, default=proj.review)
    pages = plan(pkg, rvw)
    owners = rv.claim(pkg, rvw)
    log(f"      {len(pkg.analysis_ids())} analyses; review file: "
        + (_rel(rvw.path) if rvw.path else "none (the book takes what it can from the package)"))
    review_param = _rel(rvw.path) if rvw.path else "auto"
    code = _code_hash()
    from ..package.tabular import read_bytes

    review_hash = sha(rvw.path.read_bytes() if rvw.path else "generic", *(
        read_bytes(p, "a CSV file named by the review file") for p in (rvw.published, rvw.independent_map)
        if p is not None))
    nb_pages = [p for p in pages if p.template]
    keys, fps = {}, {}
    for p in nb_pages:
        if p.reads not in fps:  # pages that read the same part share its hash (whole-package CSVs take seconds)
            fps[p.reads] = fingerprint(pkg, p.reads, owners)
        fp = fps[p.reads]
        if p.file.endswith("independent") and rvw.independent is not None:
            fp = sha(fp, tree_hash(list(rvw.independent.rglob("*.csv"))))
        keys[p.file] = sha((RESOURCES / p.template).read_bytes(), p.heading, json.dumps(p.parameters, sort_keys=True),
                           fp, code, review_hash, _rel(data))
    src_hash = tree_hash([q for pat in SOURCES for q in PAGES.glob(pat)] + [RESOURCES / "_config.yml"])
    total_key = sha(src_hash, code, review_hash, *[p.file for p in pages], *sorted(keys.values()), previous or "")
    state = json.loads(STATE.read_text()) if STATE.exists() else {}
    if not force and state.get("key") == total_key and (SITE / "index.html").exists():
        log(f"[5/5] up to date: nothing changed since the last build ({time.perf_counter() - t_start:.1f} s)")
        log(f"site: {SITE / 'index.html'}")
        return SITE / "index.html"

    BUILD.mkdir(parents=True, exist_ok=True)
    for stale in BUILD.glob("staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    staging = BUILD / f"staging-{os.getpid()}"
    staging.mkdir()
    kernels = None
    from .plan import toc

    old_toc = WORK / "src" / "_toc.yml"
    if old_toc.exists() and old_toc.read_text() != yaml.safe_dump(toc(pages), sort_keys=False):
        # other pages (another package or review file): Sphinx would keep the output of
        # pages that no longer exist, so its work tree starts afresh
        shutil.rmtree(WORK, ignore_errors=True)
    sphinx_code = sha((code_root() / "reviewbook" / "book" / "sphinx.py").read_bytes())
    stamp = WORK / "sphinx.sha"
    if (WORK / "html").exists() and (not stamp.exists() or stamp.read_text() != sphinx_code):
        # the Sphinx hooks changed (e.g. how titles are escaped): every page is written afresh
        shutil.rmtree(WORK, ignore_errors=True)
    sphinx = Sphinx(jobs)
    try:
        (staging / "sections").mkdir()
        kernels = Kernels(staging / "sections")
        n_workers = min(max(1, jobs), len(nb_pages))
        warm = cf.ThreadPoolExecutor(max_workers=n_workers)
        starting = [warm.submit(kernels.start) for _ in range(n_workers)]  # while the sources are copied
        _copy_sources(staging, pkg, rvw, pages)
        sphinx.init(staging)
        todo = []
        for p in nb_pages:
            cached = CACHE / keys[p.file]
            dest = staging / f"{p.file}.ipynb"
            if not force and (cached / "nb.ipynb").exists():
                # hard links: the staging copy is only read (Sphinx's work tree gets copies)
                dest.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(cached / "nb.ipynb", dest)
                if (cached / "figures").exists():
                    shutil.copytree(cached / "figures", dest.parent / "figures", dirs_exist_ok=True,
                                    copy_function=_link_or_copy)
            else:
                todo.append(p)
        log(f"[2/5] executing {len(todo)} of {len(nb_pages)} notebooks on {min(jobs, max(1, len(todo)))} "
            f"workers ({len(nb_pages) - len(todo)} unchanged, from the cache)")
        for p in nb_pages:
            if p not in todo:
                log(f"      {p.key:<24} cached (inputs unchanged)")
        ready = [f.result() for f in starting]
        warm.shutdown()
        params_base = {"package": _rel(nb_data), "review": review_param}

        def run(p):
            t0 = time.perf_counter()
            nb = prepare(RESOURCES / p.template, p.heading, reset=True)
            try:
                execute(nb, staging / f"{p.file}.ipynb", {**params_base, **p.parameters}, km=kernels.get())
            except BuildError as exc:
                raise BuildError(f"notebook {p.template} ({p.key}) failed: {exc}") from None
            return p, time.perf_counter() - t0

        t_exec = time.perf_counter()
        seconds = dict(state.get("seconds", {}))

        def init():
            kernels.local.km = ready.pop()

        # the results JSON and the previous build's data are read here while the kernels
        # work (they only read the packages)
        side = cf.ThreadPoolExecutor(max_workers=1)
        results_future = side.submit(collect_results, pkg, rvw)
        previous_future = side.submit(_previous_rows, prev_results, prev_data, pkg)
        exports_future = side.submit(_exports, pkg, rvw)
        side.shutdown(wait=False)
        with cf.ThreadPoolExecutor(max_workers=n_workers, initializer=init) as pool:
            futures = [pool.submit(run, p) for p in _longest_first(todo, state.get("seconds", {}))]
            for fut in cf.as_completed(futures):
                p, dt = fut.result()
                seconds[p.file] = round(dt, 2)
                log(f"      {p.key:<24} executed in {dt:.1f} s")
        kernels.shutdown()
        if todo:
            log(f"      notebooks executed in {time.perf_counter() - t_exec:.1f} s")
        log("[3/5] validating executed notebooks")
        for p in todo:  # a cached notebook was validated when it was executed
            validate(staging / f"{p.file}.ipynb", f"{p.template} ({p.key})")
        results = results_future.result()
        previous_rows, data_note = previous_future.result()
        _write_results(staging, results, prev_results, nb_pages, todo, pkg, previous_rows, data_note)
        _prepare_downloads(staging, pkg, nb_pages, results, params_base, rvw, exports_future.result())
        log("[4/5] building the site with Jupyter Book (-W -n --keep-going)")
        t_sphinx = time.perf_counter()
        reread = _sync(staging, WORK / "src")
        sphinx.run()
        (WORK / "sphinx.sha").write_text(sphinx_code)
        log(f"      site built in {time.perf_counter() - t_sphinx:.1f} s ({reread} source files new or changed)")
        html = staging / "_site"
        shutil.copytree(WORK / "html", html)
        _prune(html, WORK / "src")  # only the files of this build (Sphinx keeps what earlier builds wrote)
        _downloads(html, staging)
        CACHE.mkdir(parents=True, exist_ok=True)
        for p in todo:  # executed notebooks (with their figures) for incremental rebuilds
            c = CACHE / keys[p.file]
            c.mkdir(exist_ok=True)
            shutil.copy2(staging / f"{p.file}.ipynb", c / "nb.ipynb")
            figs = (staging / p.file).parent / "figures"
            own = list(figs.glob(f"{_figure_prefix(p)}_*.svg")) if figs.exists() else []
            if own:
                (c / "figures").mkdir(exist_ok=True)
                for f in own:
                    shutil.copy2(f, c / "figures" / f.name)
        log("[5/5] publishing the new site")
        from ..package.lock import sigterm_held

        with sigterm_held():  # the two renames of the swap, and what records them, are never cut in two
            _swap(html, SITE)
            _PUBLISHED.append(SITE)
            (BUILD / "results.json").write_text(json.dumps(results, indent=2, sort_keys=True))
            shutil.copy2(WORK / "src" / "_toc.yml", BUILD / "toc.yml")  # the published site's pages (for the PDF)
            STATE.write_text(json.dumps({"key": total_key, "package": pkg.id, "title": rvw.title,
                                         "seconds": seconds, "citation": rvw.citation}, indent=2))
    finally:
        sphinx.cancel()
        if kernels is not None:
            kernels.shutdown()
        shutil.rmtree(staging, ignore_errors=True)
    log(f"done in {time.perf_counter() - t_start:.1f} s")
    log(f"site: {SITE / 'index.html'}")
    return SITE / "index.html"


#: Pages Sphinx writes for every build (no source file of their own).
GENERATED_PAGES = ("genindex", "search", "index", "py-modindex")
_ASSET = re.compile(r"(_images|_downloads)/([^\"'\s<>()?#]+)")


def _prune(html: Path, sources: Path) -> list:
    """Remove from the site ``html`` what an earlier build left in Sphinx's work tree
    (Sphinx adds and rewrites, never deletes): pages whose source is gone, their
    copied sources, and images and downloads no page of this build links to.
    Returns the removed paths (relative), sorted."""
    removed = []
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html)
        if rel.parts[0].startswith("_") or str(rel.with_suffix("")) in GENERATED_PAGES:
            continue
        if not any((sources / rel).with_suffix(s).is_file() for s in (".md", ".ipynb")):
            page.unlink()
            removed.append(str(rel))
    for src in sorted((html / "_sources").rglob("*")) if (html / "_sources").is_dir() else []:
        rel = src.relative_to(html / "_sources")
        if src.is_file() and not (html / rel.parent / (rel.name.split(".")[0] + ".html")).is_file():
            src.unlink()
            removed.append(f"_sources/{rel}")
    linked = set()
    for page in html.rglob("*.html"):
        linked.update(f"{a}/{b}" for a, b in _ASSET.findall(page.read_text(encoding="utf-8", errors="replace")))
    for folder in ("_images", "_downloads"):
        for f in sorted((html / folder).rglob("*")) if (html / folder).is_dir() else []:
            rel = f.relative_to(html).as_posix()
            if f.is_file() and rel not in linked:
                f.unlink()
                removed.append(rel)
        for d in sorted((html / folder).rglob("*"), reverse=True) if (html / folder).is_dir() else []:
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
    return sorted(removed)


def _link_or_copy(src, dest) -> None:
    """``dest`` as a hard link to ``src`` (a copy where links are not possible)."""
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def _figure_prefix(page) -> str:
    """Figures a page writes are named after its section key (or page key)."""
    return page.parameters.get("section", page.key)


def _longest_first(pages, seconds: dict):
    """The notebooks in the order that finishes soonest on a few workers: longest
    first (Graham's LPT rule), by how long each took when last executed; a page
    never executed counts as long when it is a section (forest plots), else short."""
    def expected(p):
        return seconds.get(p.file, 10.0 if p.template.endswith("section.ipynb") else 1.0)
    return sorted(pages, key=lambda p: (-expected(p), p.file))


def _sync(staging: Path, dest: Path) -> int:
    """Make ``dest`` hold exactly the book sources of ``staging``, writing only the
    files whose bytes changed, so that Sphinx re-reads only those pages (it
    compares modification times with its saved environment).  A Markdown page
    that pastes glued values from a notebook that changed is refreshed too.
    Returns the number of files written."""
    skip = {"_site", "changes.json", DL}
    wanted = {p.relative_to(staging) for p in staging.rglob("*") if p.is_file()
              and p.relative_to(staging).parts[0] not in skip and not p.name.startswith(".")}
    dest.mkdir(parents=True, exist_ok=True)
    for old in sorted(dest.rglob("*"), reverse=True):
        rel = old.relative_to(dest)
        if old.is_file() and rel not in wanted:
            old.unlink()
        elif old.is_dir() and not any(old.iterdir()):
            old.rmdir()
    changed = set()
    for rel in sorted(wanted):
        src, out = staging / rel, dest / rel
        data = src.read_bytes()
        if out.exists() and out.read_bytes() == data:
            continue
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        changed.add(rel)
    # a page that pastes glue from another page is re-read when that page changed
    config = (staging / "_config.yml").read_text(encoding="utf-8")
    for rel in sorted(wanted):
        if rel.suffix != ".md" or rel in changed:
            continue
        text = (staging / rel).read_text(encoding="utf-8")
        text += config if "{{" in text else ""
        pasted = {Path(m) for m in re.findall(r"([\w/.-]+\.ipynb)::", text)}
        if pasted & changed:
            (dest / rel).write_bytes((staging / rel).read_bytes())
            os.utime(dest / rel)
            changed.add(rel)
    return len(changed)


class Sphinx:
    """The Sphinx build of Jupyter Book (``-W -n --keep-going``) on the work tree,
    with ``jobs`` parallel processes, in a process started early (it imports its
    extensions while the notebooks run) and told to build by :meth:`run`.  On
    failure the work tree is removed, so the next build starts afresh, and the
    published site is not touched."""

    def __init__(self, jobs: int):
        cmd = [sys.executable, "-m", "reviewbook.book.sphinx", str(WORK / "src"), str(WORK / "html"),
               str(WORK / ".doctrees"), "--jobs", str(max(1, jobs)), "--wait"]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(code_root()),
                                                                        os.environ.get("PYTHONPATH")])))
        (WORK / "src").mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, cwd=WORK / "src", env=env)

    def init(self, staging: Path) -> None:
        """Put the configuration, table of contents and static files in the work
        tree and let Sphinx read them (and its saved environment) while the
        notebooks run.  Only files whose bytes changed are written."""
        files = [staging / "_config.yml", staging / "_toc.yml", *sorted(staging.glob("*.bib"))]  # bibtex reads at init
        for folder in ("_static", "_extra"):
            files += [f for f in (staging / folder).rglob("*") if f.is_file()]
        for f in files:
            data = f.read_bytes()
            dest = WORK / "src" / f.relative_to(staging)
            if not dest.exists() or dest.read_bytes() != data:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        self.proc.stdin.write("init\n")
        self.proc.stdin.flush()

    def run(self) -> None:
        out, _ = self.proc.communicate("go\n")
        out = (out or "").strip()
        (BUILD / "jupyter-book.log").write_text(out)
        warnings = [ln for ln in out.splitlines()
                    if "WARNING" in ln or "ERROR" in ln or "Error:" in ln or "Exception" in ln or "error:" in ln]
        if self.proc.returncode != 0 or warnings:
            shutil.rmtree(WORK, ignore_errors=True)
            detail = "\n".join(warnings[:20]) or "\n".join(out.splitlines()[-20:])
            raise BuildError(f"Jupyter Book build failed (warnings are errors; full log "
                             f"{_rel(BUILD / 'jupyter-book.log')}):\n{detail}")

    def cancel(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.communicate("stop\n", timeout=10)
            except Exception:  # noqa: BLE001
                self.proc.kill()


def _exports(pkg, review) -> dict:
    """``{file name: text}`` of the machine-readable exports (the same as `reviewbook export`),
    made while the notebooks run (the FHIR bundle's validation takes seconds)."""
    from .exports import FILE_NAMES, FORMATS, render

    return {FILE_NAMES[fmt]: render(fmt, pkg, review) for fmt in FORMATS}


def _downloads(html: Path, staging: Path) -> None:
    """The data package (as read and validated), results.json, changes.json and
    the executed notebooks, downloadable from the site (made by
    :func:`_prepare_downloads`).

    The package is re-exported for spreadsheets: a text cell that a spreadsheet
    would run as a formula gets a leading single quote
    (:func:`~reviewbook.package.datapackage.spreadsheet_safe`); the book itself
    reads the package as given."""
    shutil.copytree(staging / DL, html, dirs_exist_ok=True)


def _swap(new: Path, target: Path) -> None:
    """Replace ``target`` with ``new`` by renames (the old site stays until the new one is complete)."""
    backup = target.with_name(target.name + ".old")
    if backup.exists():
        shutil.rmtree(backup)
    if target.exists():
        target.rename(backup)
    shutil.move(str(new), str(target))
    if backup.exists():
        shutil.rmtree(backup)


def collect_results(pkg, review=None) -> dict:
    """Every pooled estimate of the package with the judgements about it (certainty,
    narrative statement, MID, direction), as a deterministic dict (the results JSON)."""
    from . import review as rv
    from .evidence import judged_all

    review = review or rv.for_package(pkg)
    owners = rv.claim(pkg, review)
    from .changes import RESULTS_FORMAT, data_version

    from .. import __version__

    out = {"package": pkg.id, "analyses": {}, "results_format": RESULTS_FORMAT, "data_version": data_version(pkg),
           "reviewbook_version": __version__}
    for aid, it in judged_all(pkg, review, {}).items():
        s = it.settings
        entry = {"name": s.name, "group": s.group_name, "section": owners[aid]}
        if it.result is None:
            entry.update(status="not computable", reason=it.reason)
            out["analyses"][aid] = entry
            continue
        a = it.appraisal
        entry.update(a.to_dict())
        entry["studies"] = list(a.count.studies)
        r = it.pooled
        if r is None:
            entry.update(status="not estimable", k=0)
            out["analyses"][aid] = entry
            continue
        entry.update(status="computed", measure=r.measure, method=it.result.engine_method, k=a.count.k,
                     rows_pooled=r.k, estimate=_r(r.estimate), ci_low=_r(r.ci_low), ci_high=_r(r.ci_high),
                     tau2=_r(r.tau2), i2=_r(r.i2), participants=a.count.participants)
        if entry.get("mid"):
            entry["mid"] = {k: (_r(v) if isinstance(v, float) else v) for k, v in entry["mid"].items()}
        out["analyses"][aid] = entry
    return out


def _r(x):
    return None if x is None else float(f"{x:.10g}")


def load_previous(path) -> dict:
    """An earlier results JSON (``--previous``): a regular file of at most 64 MiB
    holding ``{"package": ..., "analyses": {id: {...}}}``; :class:`InputError` otherwise."""
    from ..package.tabular import decode, read_bytes

    path = Path(path)
    expected = "a results.json of an earlier build (book/_build/results.json)"
    try:
        text = decode(read_bytes(path, expected), path.name, expected)
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError([Problem(path.name, exc.lineno, None, f"text that is not JSON ({exc.msg})",
                                  expected)]) from None
    except RecursionError:
        raise InputError([Problem(path.name, None, None, "values nested too deeply", expected)]) from None
    if not (isinstance(data, dict) and isinstance(data.get("analyses"), dict)
            and all(isinstance(v, dict) for v in data["analyses"].values())):
        raise InputError([Problem(path.name, None, None, "JSON without an 'analyses' mapping", expected)])
    problems = _previous_problems(data, text, path.name)
    if problems:
        raise InputError(problems)
    return data


def _previous_problems(data: dict, text: str, name: str) -> list:
    """Each computed entry of an earlier results JSON must carry what the comparison
    reads: ``estimate``, ``ci_low`` and ``ci_high`` (finite numbers), ``measure``
    (text), and ``studies`` (a list) and ``mid`` (a mapping) where present; each
    problem is located by the line of the entry and its key."""
    import math

    problems = []
    fmt_ = data.get("results_format", 1)
    if isinstance(fmt_, bool) or not isinstance(fmt_, int):
        problems.append(Problem(name, None, "results_format", repr(fmt_)[:40], "a whole number (1, 2)"))
    for aid, entry in data["analyses"].items():
        at = text.find(json.dumps(str(aid)) + ":")
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        if "studies" in entry and not isinstance(entry["studies"], list):
            problems.append(Problem(name, line, f"analyses.{aid}.studies", repr(entry["studies"])[:40],
                                    "a list of study names"))
        if entry.get("status") != "computed":
            continue
        for key in ("estimate", "ci_low", "ci_high"):
            v = entry.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                problems.append(Problem(name, line, f"analyses.{aid}.{key}",
                                        "no value" if key not in entry else repr(v)[:40],
                                        "a finite number (a computed entry of results.json)"))
        if not isinstance(entry.get("measure", ""), str):
            problems.append(Problem(name, line, f"analyses.{aid}.measure", repr(entry["measure"])[:40], "text"))
        if entry.get("mid") is not None and not isinstance(entry["mid"], dict):
            problems.append(Problem(name, line, f"analyses.{aid}.mid", repr(entry["mid"])[:40],
                                    "a mapping (low, high, ...)"))
    return problems[:50]


def read_previous(previous=None):
    """The previous build's results and where its data package is: ``--previous``
    (a results.json; its data beside it, in ``downloads/`` as the site has it or
    in the same folder), else the published site's.  Returns ``(results, zip)``,
    ``(None, None)`` when there is no previous build; an unreadable ``--previous``
    is invalid input."""
    from .changes import package_zip_name

    if previous:
        path = Path(previous)
        prev = load_previous(path)
    else:
        path = next((p for p in (SITE / "results.json", BUILD / "results.json") if p.exists()), None)
        if path is None:
            return None, None
        try:
            text = path.read_text(encoding="utf-8")
            prev = json.loads(text)
        except ValueError:
            return None, None
        if not (isinstance(prev, dict) and isinstance(prev.get("analyses"), dict)
                and all(isinstance(v, dict) for v in prev["analyses"].values())) \
                or _previous_problems(prev, text, path.name):
            return None, None  # the published site's own results, unreadable: no comparison
    pid = str(prev.get("package", ""))
    name = package_zip_name(pid)
    data = next((p for p in (path.parent / "downloads" / name, path.parent / name) if p.is_file()), None)
    return prev, data


def _previous_rows(prev, data, pkg):
    """The previous build's data rows, or (None, why not)."""
    if prev is None:
        return None, None
    if str(prev.get("package")) != pkg.id:
        return None, None
    if data is None:
        return None, "the previous build's data package is not beside its results"
    from ..package.datapackage import read as read_package

    try:
        return read_package(data, strict=False).rows, None
    except InputError as exc:
        return None, f"the previous build's data package could not be read ({exc.problems[0]})"


def _write_results(staging, results, previous, pages, executed, pkg=None, previous_rows=None,
                   data_note=None) -> dict:
    """The comparison with the previous build (``changes.json``, for the site) and
    the 'What changed' page; returns the comparison."""
    from .changes import diff, render_markdown, versions

    prev = previous if isinstance(previous, dict) or previous is None else read_previous(previous)[0]
    changes = diff(results, prev, current_rows=None if pkg is None else pkg.rows, previous_rows=previous_rows,
                   data_note=data_note)
    payload = {"changes": changes, "current": results, "previous": prev,
               "versions": versions(pkg) if pkg is not None else [],
               "executed": sorted(p.key for p in executed),
               "cached": sorted(p.key for p in pages if p not in executed)}
    (staging / "changes.json").write_text(json.dumps(changes, indent=2, sort_keys=True))
    (staging / "what_changed.md").write_text(render_markdown(payload))
    return changes


def _project_package(proj) -> Path:
    """The package of the project ``proj``: ``data/<id>`` for the id its review file
    names; the only package under ``data/`` when it has no review file."""
    from . import review as rv

    if proj.review is not None:
        return proj.package(rv.load(proj.review).package)
    found = sorted(p for p in (proj.root / "data").glob("*") if not p.name.startswith(".")) \
        if (proj.root / "data").is_dir() else []
    if len(found) == 1:
        return found[0]
    raise InputError([Problem(proj.root.name or str(proj.root), None, None,
                              "a folder without review.yml" + (f" and {len(found)} packages under data/" if found
                                                               else " or data/ package"),
                              "a review project (made by `reviewbook init DIR --data PACKAGE`), or --data PACKAGE")])


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
                      allow_warnings=allow_warnings, project=project, out=out)
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

    kernels = Kernels(RESOURCES / "notebooks")
    try:
        for nb_path in sorted((RESOURCES / "notebooks").glob("*.ipynb")):
            t0 = time.perf_counter()
            nb = prepare(nb_path, None, reset=True)
            out = nb_path.with_name(nb_path.stem + ".out.ipynb")
            try:
                execute(nb, out, {}, km=kernels.get())
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
