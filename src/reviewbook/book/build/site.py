"""Stage 4: the site.  The book's sources (fixed pages, configuration, table of contents,
references), the results, changes and downloads, the Sphinx build of Jupyter Book
(``-W -n --keep-going``) on the persistent work tree, and the pruning of what earlier
builds left in it; the site is made in the staging folder, never in place."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from ..paths import code_root
from .base import PAGES, RESOURCES, SOURCES, BuildError, Paths, log
from .base import rel as _relpath
from .execute import Ran
from .plan import Plan, read_previous


def sources(staging: Path, plan: Plan, sphinx: Sphinx) -> None:
    """The book's sources into ``staging``, and the Sphinx process told to read its
    configuration while the notebooks run."""
    _copy_sources(staging, plan.pkg, plan.review, plan.pages)
    sphinx.init(staging)


def make(paths: Paths, plan: Plan, staging: Path, ran: Ran, sphinx: Sphinx, sphinx_code: str) -> tuple:
    """The results, changes and downloads, then the site built by Sphinx and copied into
    ``staging/_site`` (only the files of this build).  Returns ``(html, results)``: the
    site's folder and the results JSON."""
    results = ran.results.result()
    previous_rows, data_note = ran.previous.result()
    _write_results(staging, results, plan.prev_results, plan.nb_pages, ran.todo, plan.pkg, previous_rows,
                   data_note, paths)
    _prepare_downloads(staging, plan.pkg, plan.nb_pages, results, plan.params, plan.review, ran.exports.result())
    log("[4/5] building the site with Jupyter Book (-W -n --keep-going)")
    t_sphinx = time.perf_counter()
    reread = _sync(staging, paths.work / "src")
    sphinx.run()
    (paths.work / "sphinx.sha").write_text(sphinx_code)
    log(f"      site built in {time.perf_counter() - t_sphinx:.1f} s ({reread} source files new or changed)")
    html = staging / "_site"
    shutil.copytree(paths.work / "html", html)
    _prune(html, paths.work / "src")  # only the files of this build (Sphinx keeps what earlier builds wrote)
    _downloads(html, staging)
    return html, results


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
    from ...views.tables import escape
    from ..plan import reading_guide

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
        from ..references import key_for
        from ..review import doi_links

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
    from ..changes import PRISMA_LSR_TITLES, living_mode, version_authors, versions

    history = versions(pkg)
    t = PRISMA_LSR_TITLES
    prisma_lsr = "\n".join([
        f"- **L1 {t['L1']}.** {living_mode(history)}",
        f"- **L2 {t['L2']}.** At each update, {{ref}}`sec-what-changed` lists every analysis whose effect measure "
        "or pooling method changed (`methods_changed` in `changes.json`).",
        f"- **L3 {t['L3']}.** At each update, {{ref}}`sec-what-changed` lists the data values, studies, estimates "
        "and conclusions that changed (`changes.json`).",
        f"- **L4 {t['L4']}.** {version_authors(history)}"])

    from ..plain import windows_named

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
    from ..plan import toc

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
    from ..sphinxext import source_hash

    cfg.setdefault("sphinx", {}).setdefault("config", {})["reviewbook_sphinxext"] = source_hash()
    (staging / "_config.yml").write_text(yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True))
    (staging / "_toc.yml").write_text(yaml.safe_dump(toc(pages), sort_keys=False))
    _mathjax(staging)
    _references(staging, pkg, review)


def _references(staging: Path, pkg, review) -> None:
    """The References page and the BibTeX file of the package's study reports; the page
    lists every methods source cited in the book, named by its judgement rules or named in
    its review file."""
    from .. import references as refs

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

    from ...views.tables import escape
    from ..changes import package_zip_name

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
    from ...package.datapackage import write_zip
    from ..changes import package_zip_name

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
    from ..exports import FILE_NAMES

    for name, text in exports.items():
        dest = (dl if name == FILE_NAMES["fhir"] else dl / "downloads") / name
        dest.write_text(text, encoding="utf-8")
    sizes = {str(f.relative_to(dl)): f.stat().st_size for f in dl.rglob("*") if f.is_file()}
    (staging / "downloads.md").write_text(downloads_page(pkg, pages, sizes, review), encoding="utf-8")


# ------------------------------------------------------------------ Sphinx

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

    def __init__(self, paths: Paths, jobs: int):
        self.paths = paths
        WORK = paths.work
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
            dest = self.paths.work / "src" / f.relative_to(staging)
            if not dest.exists() or dest.read_bytes() != data:
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        self.proc.stdin.write("init\n")
        self.proc.stdin.flush()

    def run(self) -> None:
        out, _ = self.proc.communicate("go\n")
        out = (out or "").strip()
        (self.paths.build / "jupyter-book.log").write_text(out)
        warnings = [ln for ln in out.splitlines()
                    if "WARNING" in ln or "ERROR" in ln or "Error:" in ln or "Exception" in ln or "error:" in ln]
        if self.proc.returncode != 0 or warnings:
            shutil.rmtree(self.paths.work, ignore_errors=True)
            detail = "\n".join(warnings[:20]) or "\n".join(out.splitlines()[-20:])
            raise BuildError(f"Jupyter Book build failed (warnings are errors; full log "
                             f"{_relpath(self.paths.build / 'jupyter-book.log', self.paths.root)}):\n{detail}")

    def cancel(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.communicate("stop\n", timeout=10)
            except Exception:  # noqa: BLE001
                self.proc.kill()


def _downloads(html: Path, staging: Path) -> None:
    """The data package (as read and validated), results.json, changes.json and
    the executed notebooks, downloadable from the site (made by
    :func:`_prepare_downloads`).

    The package is re-exported for spreadsheets: a text cell that a spreadsheet
    would run as a formula gets a leading single quote
    (:func:`~reviewbook.package.datapackage.spreadsheet_safe`); the book itself
    reads the package as given."""
    shutil.copytree(staging / DL, html, dirs_exist_ok=True)


def _write_results(staging, results, previous, pages, executed, pkg=None, previous_rows=None,
                   data_note=None, paths: Paths | None = None) -> dict:
    """The comparison with the previous build (``changes.json``, for the site) and
    the 'What changed' page; returns the comparison."""
    from ..changes import diff, render_markdown, versions

    prev = previous if isinstance(previous, dict) or previous is None else read_previous(paths, previous)[0]
    changes = diff(results, prev, current_rows=None if pkg is None else pkg.rows, previous_rows=previous_rows,
                   data_note=data_note)
    payload = {"changes": changes, "current": results, "previous": prev,
               "versions": versions(pkg) if pkg is not None else [],
               "executed": sorted(p.key for p in executed),
               "cached": sorted(p.key for p in pages if p not in executed)}
    (staging / "changes.json").write_text(json.dumps(changes, indent=2, sort_keys=True))
    (staging / "what_changed.md").write_text(render_markdown(payload))
    return changes
