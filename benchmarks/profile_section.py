"""Profile one section page in one process: the calls ``notebooks/section.ipynb`` makes.

    python benchmarks/profile_section.py SECTION OUT.prof [--warm] [--cpu] [--package data/CD015373]

Run from an empty folder (the page writes its figures to ``figures/``), with the
repository's ``src`` first on ``PYTHONPATH``.  No figure cache: every figure is drawn,
as in a full build.  ``--warm``: the runner's kernel warm-up
(:data:`reviewbook.book.runner.WARM_UP`) is run first, outside the profile, as in a
build's kernel; without it the profile includes every import (a cold process).
``--cpu``: no profile; prints the CPU seconds of the warm-up and of the page as JSON
(less sensitive to a loaded machine than wall time).
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("section")
    p.add_argument("out")
    p.add_argument("--warm", action="store_true")
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--package", default=str(ROOT / "data" / "CD015373"))
    args = p.parse_args(argv)
    os.environ.pop("REVIEWBOOK_FIGURE_CACHE", None)
    os.environ["MPLBACKEND"] = "Agg"
    import IPython.display  # noqa: F401 - a kernel has it already

    t0 = time.process_time()
    if args.warm:
        from reviewbook.book.runner import WARM_UP

        exec(WARM_UP)  # noqa: S102 - the runner's own warm-up code
    t1 = time.process_time()
    prof = None
    if not args.cpu:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    from reviewbook import book

    sec = book.section(args.package, args.section, review="auto", model="package", estimator="package",
                       ci_method="package", level=0.95)
    sec.main_outcomes()
    sec.details()
    sec.small_study_effects()
    sec.compare_published()
    t2 = time.process_time()
    if prof is not None:
        prof.disable()
        prof.dump_stats(args.out)
    else:
        print(json.dumps({"warm_up_cpu_s": round(t1 - t0, 2), "page_cpu_s": round(t2 - t1, 2)}))


if __name__ == "__main__":
    main()
