"""``reviewbook init DIR --data PACKAGE``: scaffold a review project.

A review project is the folder a review team keeps in its own repository::

    DIR/
      review.yml                  the review file, pre-filled from the package
      data/<package id>/          the data package (a copy; a table of data rows is imported)
      README.md                   the project's two commands
      .gitignore                  the build output (_build/)
      nbval_sanitize.cfg          what nbval ignores when it re-runs the book's notebooks
      .github/workflows/book.yml  CI: build the book and re-run its notebooks with nbval

``review.yml`` is written from the package: its id, a title, the citation of the
review where the package carries its DOI or address (``review.csv``), one section
per comparison (analysis group), and one outcome rule per analysis with its
direction where the package's graph labels establish one
(:func:`reviewbook.appraisal.direction.resolve`).  MIDs are left unset; beside
each outcome a comment states the default the book will use
(:mod:`reviewbook.appraisal.mid`).  ``init`` never overwrites a project without
``force``.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from ..errors import InputError, Problem
from .paths import REVIEW_FILE, resources

#: What ``init`` writes (relative to DIR); any of them present means a project is there.
WRITES = (REVIEW_FILE, "data", "README.md", ".gitignore", "nbval_sanitize.cfg", ".github/workflows/book.yml")


def _q(text) -> str:
    """``text`` as a YAML double-quoted scalar (names from a package are untrusted:
    any character YAML cannot hold plainly is escaped)."""
    out = json.dumps(str(text), ensure_ascii=False)
    try:
        if yaml.safe_load(out) == str(text):
            return out
    except yaml.YAMLError:
        pass
    return json.dumps(str(text), ensure_ascii=True)


def _comment(text) -> str:
    """``text`` on one comment line."""
    return " ".join(str(text).split())


def default_mid(settings) -> str:
    """The MID the book uses for an analysis without one in the review file
    (:mod:`reviewbook.appraisal.mid`, rule 2), in words."""
    m = (settings.measure_code or settings.measure or "").upper().replace("PETO_OR", "PETO OR")
    if m == "SMD":
        return "0.5 SD (Norman et al. 2003)"
    if m == "MD":
        return "0.5 SD in the outcome's units, from the pooled SD of the analysis's arms (Norman et al. 2003)"
    if m in ("RR", "OR", "HR", "PETO OR", "PETO_OR"):
        return "a 25% relative change, ratio 0.75 and 1.25 (GRADE 6, Guyatt et al. 2011)"
    if m == "RD":
        return "25% of the assumed control risk (GRADE 6, Guyatt et al. 2011)"
    return "not assessed (an estimate of unknown units)"


def default_mids(pkg, review) -> dict:
    """The MID the book computes for each analysis when the review file gives none
    (:func:`reviewbook.appraisal.mid.mid_for`, the defaults it states), in words,
    by analysis id; an analysis the book cannot pool is left out."""
    from .evidence import judged_all

    out = {}
    for aid, it in judged_all(pkg, review, {}).items():
        a = getattr(it, "appraisal", None)
        if a is not None and a.mid is not None:
            out[aid] = a.mid.text if a.mid.assessed else "no MID: " + (a.mid.text or "not assessed")
    return out


def review_text(pkg) -> str:
    """The review file of a new project for ``pkg`` (YAML with comments)."""
    from ..appraisal.direction import resolve
    from .review import generic, review_identity

    gen = generic(pkg)
    lines = [f"# The review file of {_comment(pkg.id)}: everything the book says that is specific to this review.",
             "# Check it with `reviewbook check-review review.yml`; every key is described on the book's",
             "# page 'Describing the review (review.yml)'. Text is Markdown (MyST); numbers come from the data, never typed.",
             f"package: {_q(pkg.id)}",
             f"title: {_q(gen.title)}",
             f"short_title: {_q(gen.short_title)}"]
    ident = review_identity(pkg)
    citation = f"doi:{ident['review_doi']}" if ident.get("review_doi") else ident.get("review_url", "")
    if citation:
        lines.append(f"citation: {_q(citation)}  # from the package's review.csv; give the full citation")
    else:
        lines.append("# citation: the review's citation (the package names no DOI or address of the review)")
    lines += ["# question: the review's question (PICO), in one paragraph",
              "# population: ...", "# interventions: ...", "# comparators: ...",
              "# data: where the data came from", "",
              "# Section rules, tried in order: the first whose patterns all match an analysis claims it.",
              "# One section per comparison (analysis group) of the package; analyses no rule claims go",
              "# to 'Other analyses'.",
              "sections:"]
    groups = {}
    for aid in pkg.analysis_ids():
        groups.setdefault(int(aid.split(".")[0]), pkg.analysis(aid).group_name)
    for g, name in groups.items():
        lines += [f"  - key: comparison_{g}",
                  f"    title: {_q(name or f'Comparison {g}')}",
                  f"    groups: [{g}]"]
    lines += ["", "# Outcome rules, first match wins: which way each outcome's scale runs (better: lower | higher,",
              "# with direction_source) and its minimal important difference (mid, in the outcome's units, with",
              "# mid_source). Directions below come from the package's graph labels where they establish one;",
              "# the MIDs are unset: the comment beside each says the default the book uses.",
              "outcomes:"]
    mids = default_mids(pkg, gen)
    for aid in pkg.analysis_ids():
        s = pkg.analysis(aid)
        d = resolve(s)
        lines += [f"  - analyses: [{_q(aid)}]", f"    instrument: {_q(s.name)}"]
        if d.better and d.basis in ("package labels", "package"):
            lines += [f"    better: {d.better}",
                      f"    direction_source: {_q(d.source + (f' ({d.left} / {d.right})' if d.left else ''))}"]
        else:
            lines.append("    # better: lower | higher (the package does not establish which way the scale runs)")
        lines.append(f"    # mid: unset; the book uses {_comment(mids.get(aid) or default_mid(s))}")
    lines += ["", "# Error rates of the optimal information size and the trial sequential analysis.",
              "# appraisal:", "#   alpha: 0.05", "#   power: 0.80", ""]
    return "\n".join(lines)


def _copy_package(src: Path, dest_root: Path, pkg) -> Path:
    """The package into ``dest_root/<id>``: a folder's regular files (links are not
    followed), a zip as it is, a table of data rows imported into a package folder."""
    from ..package.load import is_rows_table

    dest_root.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        dest = dest_root / pkg.id
        for f in sorted(src.rglob("*")):
            if f.is_file() and not f.is_symlink() and not any(p.is_symlink() for p in f.parents if src in p.parents):
                out = dest / f.relative_to(src)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, out)
        return dest
    if src.suffix.lower() == ".csv" and is_rows_table(src):
        from ..package import importer

        dest = dest_root / pkg.id
        importer.write_import(importer.build(src), dest)
        return dest
    dest = dest_root / f"{pkg.id}{src.suffix.lower()}"
    shutil.copyfile(src, dest)
    return dest


def init(dest, data, force: bool = False) -> Path:
    """Write a new review project for the package ``data`` into the folder ``dest``."""
    from .. import __version__
    from ..package.load import read_any

    dest, data = Path(dest), Path(data)
    existing = [w for w in WRITES if (dest / w).exists()]
    if existing and not force:
        raise InputError([Problem(dest.name or str(dest), None, None,
                                  "an existing project (" + ", ".join(existing) + ")",
                                  "an empty or new folder (re-run with --force to overwrite the project's files)")])
    if dest.exists() and not dest.is_dir():
        raise InputError([Problem(dest.name, None, None, "a file", "a folder for the project")])
    pkg = read_any(data)  # raises InputError, nothing written
    text = review_text(pkg)
    from .review import load

    dest.mkdir(parents=True, exist_ok=True)
    for old in (dest / "data" / pkg.id, dest / "data" / f"{pkg.id}.zip"):  # --force: this package only
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old)
        elif old.exists() or old.is_symlink():
            old.unlink()
    where = _copy_package(data, dest / "data", pkg)
    (dest / REVIEW_FILE).write_text(text, encoding="utf-8")
    load(dest / REVIEW_FILE)  # what init writes is a valid review file
    tpl = resources() / "project"
    subst = {"{{package}}": pkg.id, "{{version}}": __version__, "{{package_path}}": where.relative_to(dest).as_posix()}
    for name, out in (("README.md", "README.md"), ("gitignore", ".gitignore"), ("nbval_sanitize.cfg",
                      "nbval_sanitize.cfg"), ("book.yml", ".github/workflows/book.yml")):
        body = (tpl / name).read_text(encoding="utf-8")
        for k, v in subst.items():
            body = body.replace(k, v)
        (dest / out).parent.mkdir(parents=True, exist_ok=True)
        (dest / out).write_text(body, encoding="utf-8")
    return dest


def main(dest, data, force=False) -> int:
    init(dest, data, force)
    print(f"project: {dest} (review file {Path(dest) / REVIEW_FILE}); build it with: reviewbook book {dest}")
    return 0
