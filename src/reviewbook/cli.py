"""Command line: ``python -m reviewbook {pool,audit,build-package} ...``.

Exit codes: 0 success; 1 an audit mismatch; 2 invalid input or arguments.
"""
from __future__ import annotations

import argparse
import sys

from .engine.effects import MEASURES
from .engine.pooling import METHODS
from .engine.report import dumps
from .errors import ArgumentError, InputError


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_pool(args) -> int:
    from .package.poolcsv import read_pool_csv
    from .engine.pooling import meta, subgroups
    from .engine.report import meta_table, subgroup_table

    measure = args.measure
    if args.method in ("MH", "MH-DL", "PETO") and measure not in ("RR", "OR", "RD"):
        return _fail(f"--method {args.method} needs a dichotomous measure (RR, OR, RD), not {measure}")
    if args.method == "PETO" and measure != "OR":
        return _fail("--method PETO pools odds ratios: use --measure OR")
    hksj = "plain" if args.hksj else None
    try:
        es, groups = read_pool_csv(args.file, measure, args.subgroup, args.smd_correction)
        if args.method in ("MH", "MH-DL", "PETO") and es.tables is None:
            return _fail(f"--method {args.method} needs arm-level dichotomous columns "
                         "study,events1,n1,events2,n2")
        if groups is not None:
            res = subgroups(es, groups, args.method, hksj=hksj, level=args.level)
            out = res.overall.to_dict()
            out["subgroups"] = [dict(name=n, **r.to_dict()) for n, r in res.groups]
            t = res.test
            out["subgroup_test"] = (None if t is None else
                                    {"q": t.q, "df": t.df, "p": t.p, "i2": t.i2})
            text = subgroup_table(res)
        else:
            r = meta(es, args.method, hksj=hksj, level=args.level)
            out, text = r.to_dict(), meta_table(r)
    except InputError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    except ArgumentError as exc:
        return _fail(str(exc))
    print(dumps(out) if args.json else text)
    return 0


def cmd_audit(args) -> int:
    from .package.audit import run_audit

    return run_audit(args.package, as_json=args.json, tolerance=args.tolerance)


def cmd_import_rows(args) -> int:
    from .package.importer import main as import_main

    return import_main(args.rows, args.out_dir, pkg_id=args.id, groups_csv=args.groups)


def cmd_build_review(args) -> int:
    from .package.review_data import main as review_main

    return review_main(args.sources, args.output)


def cmd_build_package(args) -> int:
    from .package.extraction import main as build_main

    return build_main(args.extraction, args.output)


def cmd_book(args) -> int:
    from .book.runner import main as run_main

    return run_main(args.data, review=args.review, jobs=args.jobs, force=args.force, previous=args.previous,
                    allow_warnings=args.allow_warnings)


def cmd_refresh(args) -> int:
    from .book.runner import refresh_notebooks

    return refresh_notebooks()


def cmd_pdf(args) -> int:
    from .book.pdf import main as pdf_main

    return pdf_main(args.output)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewbook", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pool", help="pool one meta-analysis from a CSV file")
    p.add_argument("file", help="CSV: study,n1,mean1,sd1,n2,mean2,sd2 | study,events1,n1,events2,n2 | study,yi,vi")
    p.add_argument("--measure", required=True, choices=[m for m in MEASURES if m != "GEN"])
    p.add_argument("--method", required=True, choices=METHODS)
    p.add_argument("--hksj", action="store_true", help="Hartung-Knapp-Sidik-Jonkman CI (random effects)")
    p.add_argument("--subgroup", metavar="COLUMN", help="pool by the values of this column and test differences")
    p.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    p.add_argument("--smd-correction", choices=("revman", "exact"), default="revman",
                   help="SMD small-sample correction: RevMan 5's approximate (default) or metafor's exact")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_pool)

    a = sub.add_parser("audit", help="recompute every analysis of a Cochrane data package and compare")
    a.add_argument("package", help="zip file or folder of a Cochrane data package, or a RevMan 5 CSV")
    a.add_argument("--json", action="store_true")
    a.add_argument("--tolerance", type=float, default=None,
                   help="absolute tolerance on estimates and CI limits (default: half a unit "
                        "in the last stored decimal, i.e. the rounding of stored values)")
    a.set_defaults(func=cmd_audit)

    i = sub.add_parser("import-rows", help="write a complete package from a table of Cochrane data rows, "
                                          "inferring each analysis's settings from RevMan's stored results")
    i.add_argument("rows", metavar="ROWS.csv", help="data rows (RevMan or R make.names headers)")
    i.add_argument("out_dir", metavar="OUT_DIR", help="the package folder to write")
    i.add_argument("--id", default=None, help="package id (default: from the file name)")
    i.add_argument("--groups", metavar="GROUPS.csv", default=None,
                   help="comparison names: Analysis group, Analysis group name, Experimental group label, "
                        "Control group label")
    i.set_defaults(func=cmd_import_rows)

    v = sub.add_parser("build-review", help="build the embedded package from the review's data rows and "
                                           "our sources (data/sources)")
    v.add_argument("sources", help="folder with sources.yml (e.g. data/sources)")
    v.add_argument("output", help="the package folder to write (e.g. data/CD015373)")
    v.set_defaults(func=cmd_build_review)

    b = sub.add_parser("build-package", help="build the independent package from our own extraction "
                                             "(data/independent/extraction)")
    b.add_argument("extraction")
    b.add_argument("output")
    b.set_defaults(func=cmd_build_package)
    k = sub.add_parser("book", help="execute the notebooks and build the static site")
    k.add_argument("--data", default=None, help="data package (default: the embedded data/CD015373)")
    k.add_argument("--review", default=None,
                   help="review file (default: book/review.yml when it names the package, else none)")
    k.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default 2)")
    k.add_argument("--force", action="store_true", help="re-execute every notebook and rebuild")
    k.add_argument("--previous", default=None, help="an earlier results.json to compare with")
    k.add_argument("--allow-warnings", action="store_true",
                   help="build even when the package has warnings (e.g. an analysis without rows)")
    k.set_defaults(func=cmd_book)

    r = sub.add_parser("refresh-notebooks",
                       help="execute notebooks/*.ipynb in place on the embedded data (the outputs nbval checks)")
    r.set_defaults(func=cmd_refresh)

    d = sub.add_parser("pdf", help="print the built site to one PDF appendix")
    d.add_argument("--output", default="book/_build/appendix.pdf")
    d.set_defaults(func=cmd_pdf)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "level", 0.95) is not None and not (0 < getattr(args, "level", 0.95) < 1):
        return _fail(f"--level {args.level} is not allowed; expected a number in (0, 1)")
    return args.func(args)
