"""Command line of reviewbook: pool, audit, import and build books from Cochrane data packages.

Exit codes: 0 success; 1 an audit mismatch or a failed build; 2 invalid input or arguments.
"""
from __future__ import annotations

import argparse
import sys

from .engine.codes import ALPHA as RIS_ALPHA, MEASURES, METHODS, POWER as RIS_POWER
from .errors import ArgumentError, InputError
from .package.limits import MAX_NOTE_CHARS, MAX_SOURCE_CHARS


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


# ------------------------------------------------------------------ bounds on what a user sets
#: Most information fractions (looks) of ``boundaries``: one look per trial, and a
#: Cochrane analysis rarely pools 100 trials; 100 looks take about 11 s (25 s with
#: --beta) on a 2-core machine, and the cost grows faster than the square of the
#: looks (400 looks: 70 s; 2,000: more than 120 s and 695 MB).
MAX_LOOKS = 100
#: Largest prior scale (tau's half-normal or half-Cauchy scale, mu's normal SD) on the
#: analysis scale: beyond it the prior is flat over any effect and the integration
#: over tau loses every digit (halfnormal:1e200 gave NaN).
MAX_PRIOR_SCALE = 1e6
#: Longest --timeout of atlas, in seconds (a day); the default is 1,800.
MAX_TIMEOUT = 86_400.0
#: Most --jobs of atlas even with --force-jobs.
MAX_FORCED_JOBS = 256


def cpus_available() -> int:
    """CPUs this process may run on (its affinity mask, else os.cpu_count())."""
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _number(low=None, high=None, *, low_open=True, high_open=True, integer=False):
    """An argparse type: a number by the one grammar (``schema.NUMBER``: ASCII
    digits, sign, decimal point, exponent; never 'nan', 'inf', '1_2'), within
    ``low``/``high`` (open or closed).  argparse names the argument in the message
    and exits 2."""
    import math

    def convert(text):
        from .package.schema import NUMBER_RULE, parse_number  # when a number is read (pandas: not for `book`)

        raw = str(text).strip()
        value = parse_number(raw) if not integer else (float(raw) if raw.isascii() and raw.isdigit() else None)
        shown = raw.encode("unicode_escape").decode("ascii") if not raw.isprintable() else raw
        if value is None or not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"found '{shown}'; expected " + ("a whole number (ASCII digits)" if integer else
                                                  "a finite " + NUMBER_RULE.removeprefix("a ")))
        below = low is not None and (value <= low if low_open else value < low)
        above = high is not None and (value >= high if high_open else value > high)
        if below or above:
            lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
            hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
            raise argparse.ArgumentTypeError(f"found '{shown}'; expected a number " + " and ".join(x for x in (lo, hi) if x))
        return int(value) if integer else value
    convert.__name__ = "number"
    return convert


def _finite_or_fail(command: str, out, path="") -> int | None:
    """Exit 1 with a message when a result to be printed is NaN or infinite (a
    computation outside what the method can do): no command prints NaN with exit 0."""
    import math

    if isinstance(out, dict):
        for k, v in out.items():
            code = _finite_or_fail(command, v, f"{path}.{k}" if path else str(k))
            if code is not None:
                return code
    elif isinstance(out, (list, tuple)):
        for i, v in enumerate(out):
            code = _finite_or_fail(command, v, f"{path}[{i}]")
            if code is not None:
                return code
    elif isinstance(out, float) and not math.isfinite(out):
        print(f"error: {command}: the result {path} is not a finite number ({out!r}); expected finite results "
              "(the input is outside what the method can compute: try smaller scales or fewer extremes)",
              file=sys.stderr)
        return 1
    return None


def cmd_pool(args) -> int:
    from .package.poolcsv import read_pool_csv
    from .engine.pooling import meta, subgroups
    from .engine.report import meta_table, subgroup_table

    measure = args.measure
    if args.method in ("MH", "MH-DL", "PETO") and measure not in ("RR", "OR", "RD"):
        return _fail(f"--method {args.method} needs a dichotomous measure (RR, OR, RD), not {measure}")
    if args.method == "PETO" and measure != "OR":
        return _fail("--method PETO pools odds ratios: use --measure OR")
    if args.hksj and args.hksj_adhoc:
        return _fail("--hksj and --hksj-adhoc are two forms of one interval: give one of them")
    hksj = "plain" if args.hksj else "adhoc" if args.hksj_adhoc else None
    try:
        # A file with no data rows is bad input (exit 2).  Rows of which none is
        # estimable (e.g. no events in either arm) are reported as RevMan does,
        # 'Not estimable', with no error (issue #9, section 3).
        es, groups = read_pool_csv(args.file, measure, args.subgroup, args.smd_correction,
                                   allow_none_estimable=True)
        if es.k == 0:
            out = {"k": 0, "measure": measure, "method": args.method, "estimate": None, "ci_low": None,
                   "ci_high": None, "studies": [],
                   "excluded": [{"study": s, "reason": r} for s, r in es.excluded],
                   "notes": ["not estimable: no study is estimable"]}
            text = "\n".join(["Not estimable: no study is estimable"] + [f"{s}: {r}" for s, r in es.excluded])
            print(dumps(out) if args.json else text)
            return 0
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
        return exc.report()
    except ArgumentError as exc:
        return _fail(str(exc))
    bad = _finite_or_fail("pool", out)
    if bad is not None:
        return bad
    print(dumps(out) if args.json else text)
    return 0


def _prior(text: str, kinds, n_values, option):
    """``kind:v1,v2`` -> ``(kind, v1, v2)``; an ArgumentError names the option."""
    from .package.schema import MAX_MAGNITUDE, parse_number

    kind, _, rest = text.partition(":")
    values = tuple(parse_number(v) for v in rest.split(","))
    if kind not in kinds or len(values) != n_values or None in values:
        raise ArgumentError(f"{option} {text!r} is not allowed; expected "
                            + " or ".join(f"{k}:" + ",".join(["X"] * n_values) for k in kinds))
    # the last value is a scale (tau's scale, or mu's SD); mu's mean is bounded like any number read
    *means, scale = values
    if not 0 < scale <= MAX_PRIOR_SCALE:
        raise ArgumentError(f"{option} {text!r} is not allowed; expected a scale greater than 0 and at most "
                            f"{MAX_PRIOR_SCALE:g} (on the analysis scale)")
    if any(not abs(m) <= MAX_MAGNITUDE for m in means):
        raise ArgumentError(f"{option} {text!r} is not allowed; expected a mean of at most {MAX_MAGNITUDE:g} in "
                            "absolute value")
    return (kind, *values)


def cmd_bayes(args) -> int:
    from .engine import bayes
    from .engine.report import fmt
    from .package.poolcsv import read_pool_csv

    try:
        tau_prior = _prior(args.tau_prior, ("halfnormal", "halfcauchy"), 1, "--tau-prior")
        mu_prior = None if args.mu_prior is None else _prior(args.mu_prior, ("normal",), 2, "--mu-prior")
        es, _ = read_pool_csv(args.file, args.measure)
        fit = bayes.bayes(es.yi, es.vi, tau_prior=tau_prior, mu_prior=mu_prior, level=args.level)
    except InputError as exc:
        return exc.report()
    except ArgumentError as exc:
        return _fail(str(exc))
    out = {"mu": {"median": fit.mu, "lower": fit.mu_low, "upper": fit.mu_high},
           "tau": {"median": fit.tau, "lower": fit.tau_low, "upper": fit.tau_high},
           "p_mu_below_0": fit.p_mu_below_0}
    bad = _finite_or_fail("bayes", out)
    if bad is not None:
        return bad
    if args.json:
        print(dumps(out))
    else:
        scale = " (log scale)" if args.measure in ("RR", "OR") else ""
        pct = f"{args.level * 100:g}%"
        print(f"Bayesian random-effects meta-analysis of {es.k} studies, {args.measure}{scale}; "
              f"tau ~ {tau_prior[0]}({tau_prior[1]:g}), mu ~ "
              + ("uniform" if mu_prior is None else f"normal({mu_prior[1]:g}, {mu_prior[2]:g})"))
        print(f"mu:  median {fmt(fit.mu, 4)}, {pct} CrI [{fmt(fit.mu_low, 4)}, {fmt(fit.mu_high, 4)}]")
        print(f"tau: median {fmt(fit.tau, 4)}, {pct} CrI [{fmt(fit.tau_low, 4)}, {fmt(fit.tau_high, 4)}]")
        print(f"P(mu < 0) = {fmt(fit.p_mu_below_0, 4)}")
    return 0


def cmd_boundaries(args) -> int:
    from .engine import sequential
    from .engine.report import fmt

    from .package.schema import parse_number

    info = [parse_number(x) for x in args.information.split(",")]
    if None in info:
        return _fail(f"--information {args.information!r} is not allowed; expected comma-separated fractions, "
                     "e.g. 0.2,0.4,0.6,0.8,1")
    if len(info) > MAX_LOOKS:
        return _fail(f"--information gives {len(info):,} looks; expected at most {MAX_LOOKS} (one look per trial; "
                     "the computation grows faster than the square of the looks)")
    try:
        if args.beta is None:
            b = sequential.obrien_fleming_boundaries(info, alpha=args.alpha)
        else:
            b = sequential.futility_boundaries(info, alpha=args.alpha, beta=args.beta)
    except ArgumentError as exc:
        return _fail(str(exc))
    bad = _finite_or_fail("boundaries", {"z": list(b.z), "alpha_spent": list(b.alpha_spent)})
    if bad is not None:
        return bad
    if args.beta is None:
        if args.json:
            print(dumps({"z": [float(z) for z in b.z], "alpha_spent": [float(a) for a in b.alpha_spent]}))
        else:
            print(f"Lan-DeMets O'Brien-Fleming-type boundaries, two-sided alpha {args.alpha:g}")
            print(f"{'t':>8}  {'z':>8}  {'alpha spent':>12}")
            for t, z, a in zip(b.information, b.z, b.alpha_spent):
                print(f"{fmt(t, 4):>8}  {fmt(z, 4):>8}  {a:12.6g}")
        return 0
    if args.json:
        # futility null: no futility stop at that look
        print(dumps({"z": [float(z) for z in b.z], "alpha_spent": [float(a) for a in b.alpha_spent],
                     "futility": [float(f) for f in b.futility], "beta_spent": [float(x) for x in b.beta_spent],
                     "drift": b.drift}))
    else:
        print(f"Lan-DeMets O'Brien-Fleming-type boundaries, two-sided alpha {args.alpha:g}, with non-binding "
              f"futility boundaries (O'Brien-Fleming-type beta-spending, beta {args.beta:g})")
        print(f"Efficacy: |Z| >= z; futility: |Z| < futility ('-': no futility stop at that look); "
              f"drift {fmt(b.drift, 4)} at t = 1")
        print(f"{'t':>8}  {'z':>8}  {'futility':>8}  {'alpha spent':>12}  {'beta spent':>12}")
        for t, z, f, a, be in zip(b.information, b.z, b.futility, b.alpha_spent, b.beta_spent):
            ftxt = fmt(f, 4) if f == f else "-"
            print(f"{fmt(t, 4):>8}  {fmt(z, 4):>8}  {ftxt:>8}  {a:12.6g}  {be:12.6g}")
    return 0


def cmd_ris(args) -> int:
    from .engine import ris
    from .engine.report import fmt
    from .package.poolcsv import read_pool_table

    try:
        if args.measure == "MD":
            if args.delta is None:
                return _fail("--measure MD needs --delta D (the mean difference to detect)")
            pi = read_pool_table(args.file, "MD")
            a = pi.arms
            if "n1" not in a or "sd1" not in a:
                return _fail("--measure MD needs arm-level columns study,n1,mean1,sd1,n2,mean2,sd2")
            r = ris.ris_md(pi.es.yi, pi.es.vi, a["n1"], a["sd1"], a["n2"], a["sd2"], delta=args.delta,
                           sd=args.sd, alpha=args.alpha, beta=1 - args.power)
        else:
            if args.control_risk is None or args.rrr is None:
                return _fail("--measure RR needs --control-risk P and --rrr R")
            pi = read_pool_table(args.file, "RR")
            a = pi.arms
            if "n1" not in a:
                return _fail("--measure RR needs arm-level columns study,events1,n1,events2,n2")
            r = ris.ris_rr(pi.es.yi, pi.es.vi, a["n1"], a["n2"], control_risk=args.control_risk, rrr=args.rrr,
                           alpha=args.alpha, beta=1 - args.power)
    except InputError as exc:
        return exc.report()
    except ArgumentError as exc:
        return _fail(str(exc))
    out = {"sd": r.sd, "ris": r.ris, "d2": r.d2, "ris_adjusted": r.ris_adjusted, "accrued": r.accrued}
    bad = _finite_or_fail("ris", out)
    if bad is not None:
        return bad
    if args.json:
        print(dumps(out))
    else:
        print(f"Required information size ({args.measure}; two-sided alpha {args.alpha:g}, power {args.power:g})")
        print(f"SD {fmt(r.sd, 4)}; RIS {fmt(r.ris, 1)}; D² {fmt(100 * r.d2, 1)}%; "
              f"diversity-adjusted RIS {fmt(r.ris_adjusted, 1)}; accrued {fmt(r.accrued, 0)} "
              f"({fmt(100 * r.accrued / r.ris_adjusted, 1)}% of the adjusted RIS)")
    return 0


def cmd_audit(args) -> int:
    from .package.audit import run_audit

    return run_audit(args.package, as_json=args.json, tolerance=args.tolerance)


def cmd_import_rows(args) -> int:
    from .package.importer import main as import_main

    return import_main(args.rows, args.out_dir, pkg_id=args.id, groups_csv=args.groups, force=args.force)


def cmd_add_rows(args) -> int:
    from .package.addrows import main as add_main

    return add_main(args.package, args.rows, source=args.source, note=args.note)


def cmd_atlas(args) -> int:
    from .package.atlas import main as atlas_main
    from .views.atlas import html

    cpus = cpus_available()
    if args.jobs > (MAX_FORCED_JOBS if args.force_jobs else cpus):
        return _fail(f"--jobs {args.jobs} is not allowed; expected at most {cpus} (the CPUs available to this "
                     f"process), or with --force-jobs at most {MAX_FORCED_JOBS}")

    return atlas_main(args.rows_dir, args.out_dir, jobs=args.jobs, dask=args.dask, timeout=args.timeout,
                      render_html=html)


def cmd_build_review(args) -> int:
    from .package.review_data import main as review_main

    return review_main(args.sources, args.output)


def cmd_build_package(args) -> int:
    from .package.extraction import main as build_main

    return build_main(args.extraction, args.output)


def cmd_book(args) -> int:
    if not args.force and not args.previous:
        from .book.build.quick import up_to_date

        index = up_to_date(args.data, review=args.review, out=args.out, allow_warnings=args.allow_warnings,
                           project_dir=args.project)
        if index is not None:  # every input byte for byte as the last build read it: nothing else is read
            print("[5/5] up to date: nothing changed since the last build (the inputs' bytes are the same)")
            print(f"site: {index}")
            return 0
    from .book.runner import main as run_main

    return run_main(args.data, review=args.review, jobs=args.jobs, force=args.force, previous=args.previous,
                    allow_warnings=args.allow_warnings, project=args.project, out=args.out)


def cmd_init(args) -> int:
    from .book.project import main as init_main

    return init_main(args.dir, args.data, force=args.force)


def cmd_check_review(args) -> int:
    from .book.check import main as check_main

    return check_main(args.review, data=args.data)


def cmd_export(args) -> int:
    from .book.exports import main as export_main

    return export_main(args.package, args.format, output=args.output, review=args.review)


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
    p.add_argument("--hksj", action="store_true",
                   help="Hartung-Knapp-Sidik-Jonkman CI (random effects), plain form (metafor test='knha')")
    p.add_argument("--hksj-adhoc", action="store_true",
                   help="Hartung-Knapp-Sidik-Jonkman CI in the ad hoc form of Knapp and Hartung (2003): variance "
                        "factor max(1, q), never narrower than the Wald interval (metafor test='adhoc'); the form "
                        "the book shows")
    p.add_argument("--subgroup", metavar="COLUMN", help="pool by the values of this column and test differences")
    p.add_argument("--level", type=_number(0, 1), default=0.95, help="confidence level, in (0, 1) (default 0.95)")
    p.add_argument("--smd-correction", choices=("revman", "exact"), default="revman",
                   help="SMD small-sample correction: RevMan 5's approximate (default) or metafor's exact")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_pool)

    y = sub.add_parser("bayes", help="Bayesian random-effects meta-analysis (exact, numerical integration over tau)")
    y.add_argument("file", help="CSV in the layouts of pool")
    y.add_argument("--measure", required=True, choices=("MD", "SMD", "RR", "OR", "RD"))
    y.add_argument("--tau-prior", required=True, metavar="KIND:S",
                   help=f"halfnormal:S or halfcauchy:S (scale S on the analysis scale, 0 < S <= {MAX_PRIOR_SCALE:g})")
    y.add_argument("--mu-prior", default=None, metavar="normal:M,SD",
                   help=f"normal prior on mu (default: uniform; 0 < SD <= {MAX_PRIOR_SCALE:g}, |M| <= 1e12)")
    y.add_argument("--level", type=_number(0, 1), default=0.95,
                   help="level of the equal-tailed intervals, in (0, 1) (default 0.95)")
    y.add_argument("--json", action="store_true")
    y.set_defaults(func=cmd_bayes)

    q = sub.add_parser("boundaries", help="Lan-DeMets O'Brien-Fleming-type group-sequential boundaries")
    q.add_argument("--information", required=True, metavar="t1,t2,...,1",
                   help=f"information fractions in (0, 1], at most {MAX_LOOKS} looks")
    q.add_argument("--alpha", type=_number(0, 1), default=0.05, help="two-sided type I error, in (0, 1) (default 0.05)")
    q.add_argument("--beta", type=_number(0, 1), default=None,
                   help="type II error (1 - power) of the required information size: also print non-binding "
                        "futility boundaries (O'Brien-Fleming-type beta-spending) and the beta spent")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_boundaries)

    s_ = sub.add_parser("ris", help="required information size, adjusted for heterogeneity (diversity D²)")
    s_.add_argument("file", help="CSV in the layouts of pool (arm-level)")
    s_.add_argument("--measure", required=True, choices=("MD", "RR"))
    s_.add_argument("--delta", type=_number(-1e12, 1e12, low_open=False, high_open=False), default=None,
                    help="mean difference to detect (MD), at most 1e12 in absolute value")
    s_.add_argument("--sd", type=_number(0, 1e12, high_open=False), default=None,
                    help="within-arm SD, > 0 (default: square root of the participant-weighted mean of the arm "
                         "variances)")
    s_.add_argument("--control-risk", type=_number(0, 1), default=None, help="control-group risk P (RR), in (0, 1)")
    s_.add_argument("--rrr", type=_number(0, 1), default=None, help="relative risk reduction R (RR), in (0, 1)")
    s_.add_argument("--alpha", type=_number(0, 1), default=RIS_ALPHA,
                    help=f"two-sided type I error, in (0, 1) (default {RIS_ALPHA:g}, as the book)")
    s_.add_argument("--power", type=_number(0, 1), default=RIS_POWER,
                    help=f"power, in (0, 1) (default {RIS_POWER:g}, as the book's imprecision rating and sequential "
                         "analysis)")
    s_.add_argument("--json", action="store_true")
    s_.set_defaults(func=cmd_ris)

    a = sub.add_parser("audit", help="recompute every analysis of a Cochrane data package and compare")
    a.add_argument("package", help="zip file or folder of a Cochrane data package, a RevMan 5 CSV, or a table of data rows")
    a.add_argument("--json", action="store_true")
    a.add_argument("--tolerance", type=_number(0, 1e12, high_open=False), default=None,
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
    i.add_argument("--force", action="store_true",
                   help="replace an earlier import of the same package in OUT_DIR (without it, OUT_DIR must not "
                        "already hold a package or the import's files)")
    i.set_defaults(func=cmd_import_rows)

    n = sub.add_parser("add-rows", help="append data rows (a new trial) to a package folder, with their "
                                        "provenance and a new version in versions.csv")
    n.add_argument("package", metavar="PACKAGE", help="the package folder to extend (e.g. data/CD015373)")
    n.add_argument("rows", metavar="ROWS.csv", help="the new data rows (RevMan or R make.names headers)")
    n.add_argument("--source", required=True, help="citation, DOI or URL of the report the rows come from "
                                                    f"(at most {MAX_SOURCE_CHARS:,} characters)")
    n.add_argument("--note", default="", help=f"what the change is, for versions.csv (at most {MAX_NOTE_CHARS:,} "
                                              "characters)")
    n.set_defaults(func=cmd_add_rows)

    t = sub.add_parser("atlas", help="import and audit every table of data rows in a folder "
                                     "(one task per review) and write atlas.csv, atlas.json and atlas.html")
    t.add_argument("rows_dir", metavar="ROWS_DIR", help="folder of *.csv data-rows files, one per review")
    t.add_argument("out_dir", metavar="OUT_DIR", help="folder to write atlas.csv, atlas.json, atlas.html into")
    t.add_argument("--jobs", type=_number(1, None, low_open=False, integer=True), default=1,
                   help="worker processes (default 1; at most the CPUs available to this process, "
                        f"{cpus_available()} here, unless --force-jobs)")
    t.add_argument("--force-jobs", action="store_true",
                   help=f"allow --jobs above the CPUs available (at most {MAX_FORCED_JOBS})")
    t.add_argument("--dask", metavar="ADDRESS", default=None,
                   help="run the tasks on the Dask distributed scheduler at ADDRESS (e.g. tcp://host:8786)")
    t.add_argument("--timeout", type=_number(0, MAX_TIMEOUT, high_open=False), default=1800.0,
                   help="seconds after which one review's task is stopped and reported refused: > 0 and at most "
                        f"{MAX_TIMEOUT:,.0f} (default 1800)")
    t.set_defaults(func=cmd_atlas)

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
    k = sub.add_parser("book", help="execute the notebooks and build the static site of a review project")
    k.add_argument("project", nargs="?", default=None,
                   help="the review project's folder (default: the current folder): review.yml (or book/review.yml) "
                        "and data/<package>; the site goes to its _build/html")
    k.add_argument("--out", default=None, help="folder to publish the site to (default: the project's _build/html)")
    k.add_argument("--data", default=None,
                   help="data package (default: the project's data/<package>, the package its review file names)")
    k.add_argument("--review", default=None,
                   help="review file (default: the project's review.yml when it names the package, else none)")
    k.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default 2)")
    k.add_argument("--force", action="store_true", help="re-execute every notebook and rebuild")
    k.add_argument("--previous", default=None, help="an earlier results.json to compare with")
    k.add_argument("--allow-warnings", action="store_true",
                   help="build even when the package has warnings (e.g. an analysis without rows)")
    k.set_defaults(func=cmd_book)

    n = sub.add_parser("init", help="scaffold a review project: review.yml from the package, the package in "
                                    "data/, a README, .gitignore and CI workflow")
    n.add_argument("dir", metavar="DIR", help="the project folder to write")
    n.add_argument("--data", required=True, help="the data package (folder, zip or a table of data rows)")
    n.add_argument("--force", action="store_true", help="overwrite an existing project's files")
    n.set_defaults(func=cmd_init)

    c = sub.add_parser("check-review", help="check a review file against its schema: every error with its line")
    c.add_argument("review", metavar="REVIEW.yml")
    c.add_argument("--data", default=None, help="the package to check the section rules against (default: the "
                                                "package the review file names, data/<package> in its project)")
    c.set_defaults(func=cmd_check_review)

    x = sub.add_parser("export", help="write the summary of findings (FHIR, CSV) or the included studies (RIS, "
                                      "BibTeX) of a package without building the site")
    x.add_argument("package")
    x.add_argument("--format", required=True, choices=("fhir", "ris", "bibtex", "csv"))
    x.add_argument("-o", "--output", default=None, help="file to write (default: standard output)")
    x.add_argument("--review", default=None,
                   help="review file (default: book/review.yml when it names the package, else none)")
    x.set_defaults(func=cmd_export)

    r = sub.add_parser("refresh-notebooks",
                       help="execute notebooks/*.ipynb in place on the embedded data (the outputs nbval checks)")
    r.set_defaults(func=cmd_refresh)

    d = sub.add_parser("pdf", help="print the built site to one PDF appendix")
    d.add_argument("--output", default="book/_build/appendix.pdf")
    d.set_defaults(func=cmd_pdf)
    return parser


def dumps(obj) -> str:
    """JSON as every command prints it (:func:`reviewbook.engine.report.dumps`)."""
    from .engine.report import dumps as _dumps

    return _dumps(obj)


#: The arguments that name an input, in the order a message names them.
INPUTS = ("file", "package", "rows", "groups", "data", "review", "previous", "sources", "extraction", "out_dir",
          "output", "dir", "project")


def _inputs(args) -> str:
    names = [str(getattr(args, k)) for k in INPUTS if getattr(args, k, None)]
    return ", ".join(f"'{n}'" for n in names) or "the embedded data"


def main(argv=None) -> int:
    """Run one command; returns its exit code.

    No traceback reaches a user: invalid input is reported by the command
    (exit 2, file, line and column); an error nobody foresaw is reported on one
    line naming the command and its input, with exit 1."""
    from .package.lock import Terminated

    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "level", 0.95) is not None and not (0 < getattr(args, "level", 0.95) < 1):
        return _fail(f"--level {args.level} is not allowed; expected a number in (0, 1)")
    try:
        return args.func(args)
    except InputError as exc:
        return exc.report()
    except ArgumentError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Terminated:  # SIGTERM while writing: temporary files removed, nothing half-written
        print("error: terminated (nothing was half-written)", file=sys.stderr)
        return 143
    except BrokenPipeError:  # e.g. output piped into `head`
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, never a traceback
        from .errors import _CONTROL

        text = " ".join(str(exc).split())
        text = text if len(text) <= 300 else text[:297] + "..."
        line = (f"error: {args.command} failed on {_inputs(args)}: unexpected {exc.__class__.__name__}"
                + (f": {text}" if text else "") + " (an error no check foresaw; please report it with the input)")
        print(_CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), line), file=sys.stderr)
        return 1
