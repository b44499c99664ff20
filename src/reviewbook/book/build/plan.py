"""Stage 1: the inputs.  Read (or import) the data package and its review file, check
them, plan the pages (:mod:`reviewbook.book.plan`), fingerprint what each notebook page
reads, and decide whether anything changed since the last build."""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import yaml

from ...errors import InputError, Problem
from ...package.load import read_any as read
from ..paths import code_root
from . import quick
from .base import PAGES, RESOURCES, SOURCES, Paths, log, rel, sha, tree_hash


@dataclass(frozen=True)
class Plan:
    """What one build is to make, decided before anything is written.

    data: the package as given (absolute); nb_data: the package the notebooks read (an
    imported copy for a table of data rows); pkg: the package read; review: the review
    file (:class:`~reviewbook.book.review.Review`); pages: the plan of pages; nb_pages: its
    notebook pages; keys: the cache key of each notebook page (by file); total_key: the key
    of the whole build; state: the last build's state; previous: ``--previous`` or None;
    prev_results, prev_data: the previous build's results and data package; params: the
    parameters every notebook gets; up_to_date: nothing changed since the last build;
    inputs: the record of the bytes read and the options (:func:`.quick.record`), which the
    state of a successful build keeps, so that the next build with nothing to do is told at once."""

    data: Path
    nb_data: Path
    pkg: object
    review: object
    pages: list
    nb_pages: list
    keys: dict
    total_key: str
    state: dict
    previous: object
    prev_results: object
    prev_data: object
    params: dict
    up_to_date: bool = False
    inputs: dict | None = None


def _code_hash(root: Path) -> str:
    return tree_hash(list((code_root() / "reviewbook").rglob("*.py")), root)


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


def load_previous(path) -> dict:
    """An earlier results JSON (``--previous``): a regular file of at most 64 MiB
    holding ``{"package": ..., "analyses": {id: {...}}}``; :class:`InputError` otherwise."""
    from ...package.tabular import decode, read_bytes

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


def read_previous(paths: Paths, previous=None):
    """The previous build's results and where its data package is: ``--previous``
    (a results.json; its data beside it, in ``downloads/`` as the site has it or
    in the same folder), else the published site's.  Returns ``(results, zip)``,
    ``(None, None)`` when there is no previous build; an unreadable ``--previous``
    is invalid input."""
    from ..changes import package_zip_name

    if previous:
        path = Path(previous)
        prev = load_previous(path)
    else:
        path = next((p for p in (paths.site / "results.json", paths.build / "results.json") if p.exists()), None)
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


def project_package(proj) -> Path:
    """The package of the project ``proj``: ``data/<id>`` for the id its review file
    names; the only package under ``data/`` when it has no review file."""
    from .. import review as rv

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


def read_package(paths: Paths, proj, data=None, *, allow_warnings=False):
    """The package of the build (``data``, else the project's), read and checked, and the
    package the notebooks read: ``(data, pkg, nb_data)``.  Raises InputError."""
    from ...package.load import is_rows_table

    if not data:
        data = project_package(proj)
    data = Path(data)
    if not data.is_absolute():
        data = (Path.cwd() / data).resolve()
    log(f"[1/5] reading data package {data.name}")
    pkg = read(data)  # raises InputError
    nb_data = data
    if data.is_file() and data.suffix.lower() == ".csv" and is_rows_table(data):
        # a table of data rows on its own: imported once (settings inferred), and the
        # notebooks read the imported package
        from ...package import importer

        nb_data = paths.build / "imported" / pkg.id
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
    return data, pkg, nb_data


def make(paths: Paths, proj, data=None, *, review=None, previous=None, allow_warnings=False,
         force=False, options: dict | None = None) -> Plan:
    """The plan of the build of project ``proj`` (:class:`~reviewbook.book.paths.Project`)
    into ``paths``; its ``up_to_date`` is true when nothing changed since the last build
    (and ``force`` is not set); ``options``: the command's options as :func:`.quick.options`
    gives them (recorded with the inputs' bytes).  Raises InputError for invalid input,
    before anything is written."""
    from ...package.tabular import read_bytes
    from .. import review as rv
    from ..plan import plan

    if options is None:  # as the command gave them (``data`` is resolved below)
        options = quick.options(data, review, None, allow_warnings)
    if previous:
        load_previous(previous)  # checked before anything is done
    data, pkg, nb_data = read_package(paths, proj, data, allow_warnings=allow_warnings)
    prev_results, prev_data = read_previous(paths, previous)  # raises InputError for an unreadable --previous
    review_path = Path(review).resolve() if review else None
    rvw = rv.for_package(pkg, review_path, default=proj.review)
    pages = plan(pkg, rvw)
    owners = rv.claim(pkg, rvw)
    log(f"      {len(pkg.analysis_ids())} analyses; review file: "
        + (rel(rvw.path, paths.root) if rvw.path else "none (the book takes what it can from the package)"))
    review_param = rel(rvw.path, paths.root) if rvw.path else "auto"
    code = _code_hash(paths.root)
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
            fp = sha(fp, tree_hash(list(rvw.independent.rglob("*.csv")), paths.root))
        keys[p.file] = sha((RESOURCES / p.template).read_bytes(), p.heading, json.dumps(p.parameters, sort_keys=True),
                           fp, code, review_hash, rel(data, paths.root))
    src_hash = tree_hash([q for pat in SOURCES for q in PAGES.glob(pat)] + [RESOURCES / "_config.yml"], paths.root)
    total_key = sha(src_hash, code, review_hash, *[p.file for p in pages], *sorted(keys.values()), previous or "")
    state = json.loads(paths.state.read_text()) if paths.state.exists() else {}
    up_to_date = not force and state.get("key") == total_key and (paths.site / "index.html").exists()
    # the bytes of every file read (a superset of what the keys cover), for the next build's stage 0;
    # taken after the reads above: a file changed during this build is seen by the next one's plan
    inputs = quick.record([data, *[p for p in (rvw.path, rvw.published, rvw.independent_map, rvw.independent)
                                   if p is not None], code_root() / "reviewbook"],
                          options, paths.root)
    return Plan(data=data, nb_data=nb_data, pkg=pkg, review=rvw, pages=pages, nb_pages=nb_pages, keys=keys,
                total_key=total_key, state=state, previous=previous, prev_results=prev_results,
                prev_data=prev_data, params={"package": rel(nb_data, paths.root), "review": review_param},
                up_to_date=up_to_date, inputs=inputs)


def staging(paths: Paths, plan: Plan) -> tuple:
    """A fresh staging folder in the build folder (stale ones of killed builds removed);
    Sphinx's work tree is removed when the pages or the Sphinx hooks changed.  Returns
    ``(staging, sphinx_code)``: the folder and the hash of the Sphinx hooks."""
    from ..plan import toc

    paths.build.mkdir(parents=True, exist_ok=True)
    for stale in paths.build.glob("staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = paths.build / f"staging-{os.getpid()}"
    folder.mkdir()
    work = paths.work
    old_toc = work / "src" / "_toc.yml"
    if old_toc.exists() and old_toc.read_text() != yaml.safe_dump(toc(plan.pages), sort_keys=False):
        # other pages (another package or review file): Sphinx would keep the output of
        # pages that no longer exist, so its work tree starts afresh
        shutil.rmtree(work, ignore_errors=True)
    sphinx_code = sha((code_root() / "reviewbook" / "book" / "sphinx.py").read_bytes())
    stamp = work / "sphinx.sha"
    if (work / "html").exists() and (not stamp.exists() or stamp.read_text() != sphinx_code):
        # the Sphinx hooks changed (e.g. how titles are escaped): every page is written afresh
        shutil.rmtree(work, ignore_errors=True)
    return folder, sphinx_code

