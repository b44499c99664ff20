"""Benchmark of the meta-analysis engine against metafor (and statsmodels/PyMARE
where installed), all measured in this one run on the same data.

    python benchmarks/engine.py [--boot 10000] [--repeat 200]

Data: dat.bcg log risk ratios (13 studies, from tests/reference).  Measures
(1) one DL fit and one REML fit, as the median of ``--repeat`` single fits;
(2) ``--boot`` bootstrap REML fits (studies resampled with replacement, the
same resamples for every engine); (3) the few-study methods: one Bayesian fit,
``--boot`` Bayesian fits in the batch path, O'Brien-Fleming boundaries for
20 looks and non-binding futility boundaries (beta-spending, fixed drift) for
the same 20 looks, as ratios to one DL fit measured in the same run.  metafor is timed inside R (``proc.time``),
so R's start-up is not counted.  Prints times and ratios; targets: a single fit
no slower than metafor's (ratio <= 1), 10,000 REML fits >= 20x faster.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from reviewbook.engine import batch, effects, pooling  # noqa: E402

R_CODE = r"""
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
a <- fromJSON(commandArgs(trailingOnly=TRUE)[1])
yi <- a$yi; vi <- a$vi; idx <- a$idx; rep <- a$repeat_n
ctrl <- list(threshold=1e-8)
single <- function(method) { t <- numeric(rep); for (i in 1:rep) { s <- proc.time()[[3]];
  rma(yi, vi, method=method, control=ctrl); t[i] <- proc.time()[[3]] - s }; median(t) }
# median of single fits is below the timer's resolution: time blocks instead
block <- function(method) { s <- proc.time()[[3]]; for (i in 1:rep) rma(yi, vi, method=method, control=ctrl);
  (proc.time()[[3]] - s) / rep }
dl <- block("DL"); reml <- block("REML")
s <- proc.time()[[3]]
for (b in 1:nrow(idx)) { j <- idx[b, ]; try(rma(yi[j], vi[j], method="REML", control=ctrl), silent=TRUE) }
boot <- proc.time()[[3]] - s
cat(toJSON(list(dl=dl, reml=reml, boot=boot), auto_unbox=TRUE, digits=NA))
"""


def per_fit(fn, repeat):
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boot", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args(argv)

    ref = json.loads((ROOT / "tests/reference/metafor_reference.json").read_text())
    case = next(c for c in ref["cases"] if c["id"] == "bcg_RR_REML")
    yi, vi = np.array(case["yi"]), np.array(case["vi"])
    es = effects.generic(yi, vi)
    rng = np.random.default_rng(1)
    idx = rng.integers(0, len(yi), (args.boot, len(yi)))

    rows = []
    ours_dl = per_fit(lambda: pooling.meta(es, "DL"), args.repeat)
    ours_reml = per_fit(lambda: pooling.meta(es, "REML"), args.repeat)
    start = time.perf_counter()
    batch.pool(yi[idx], vi[idx], "REML")
    ours_boot = time.perf_counter() - start
    rows.append(("reviewbook", ours_dl, ours_reml, ours_boot))

    r = None
    if shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "a.json").write_text(json.dumps(
                {"yi": yi.tolist(), "vi": vi.tolist(), "idx": (idx + 1).tolist(),
                 "repeat_n": args.repeat}))
            (Path(d) / "b.R").write_text(R_CODE)
            out = subprocess.run(["Rscript", str(Path(d) / "b.R"), str(Path(d) / "a.json")],
                                 capture_output=True, text=True)
            if out.returncode == 0:
                r = json.loads(out.stdout)
                rows.append(("metafor (R)", r["dl"], r["reml"], r["boot"]))
            else:
                print("metafor not available:", out.stderr.strip().splitlines()[-1:])
    try:
        from statsmodels.stats.meta_analysis import combine_effects

        sm = per_fit(lambda: combine_effects(yi, vi, method_re="dl"), args.repeat)
        rows.append(("statsmodels (DL only)", sm, float("nan"), float("nan")))
    except ImportError:
        print("statsmodels not installed: skipped")
    try:
        from pymare import estimators as pe, Dataset

        ds = Dataset(y=yi, v=vi)
        pm_dl = per_fit(lambda: pe.DerSimonianLaird().fit_dataset(ds), max(10, args.repeat // 10))
        pm_reml = per_fit(lambda: pe.VarianceBasedLikelihoodEstimator(method="REML").fit_dataset(ds),
                          max(10, args.repeat // 10))
        rows.append(("PyMARE", pm_dl, pm_reml, float("nan")))
    except ImportError:
        print("PyMARE not installed: skipped")

    print(f"dat.bcg log RR, k = {len(yi)}; {args.boot} bootstrap resamples; single fits averaged over {args.repeat}")
    print(f"{'engine':<24}{'DL fit (ms)':>14}{'REML fit (ms)':>15}{'boot REML (s)':>15}")
    for name, a, b, c in rows:
        print(f"{name:<24}{a * 1e3:>14.4f}{b * 1e3:>15.4f}{c:>15.4f}")
    if r is not None:
        print("ratios reviewbook / metafor (below 1 = faster):")
        print(f"  DL fit    {ours_dl / r['dl']:.3f}  (target <= 1)")
        print(f"  REML fit  {ours_reml / r['reml']:.3f}  (target <= 1)")
        print(f"  boot REML {ours_boot / r['boot']:.4f}  i.e. {r['boot'] / ours_boot:.0f}x faster (target >= 20x)")
    few_study(yi, vi, idx, ours_dl, args.repeat)


def few_study(yi, vi, idx, dl_fit, repeat):
    """The few-study methods, as ratios to one DL fit measured in this run."""
    from reviewbook.engine import bayes, sequential

    prior = ("halfnormal", 0.5)
    one = per_fit(lambda: bayes.bayes(yi, vi, tau_prior=prior), max(5, repeat // 20))
    start = time.perf_counter()
    bayes.bayes_batch(yi[idx], vi[idx], tau_prior=prior, thresholds=(0.0,))
    many = time.perf_counter() - start
    looks = np.linspace(0.05, 1.0, 20)
    bounds = per_fit(lambda: sequential.obrien_fleming_boundaries(looks), 5)
    futility = per_fit(lambda: sequential.futility_boundaries(looks, beta=0.2), 5)
    print(f"few-study methods (reference: one DL fit, {dl_fit * 1e3:.4f} ms, measured above):")
    print(f"  one bayes fit (half-normal(0.5), k = {len(yi)})      {one * 1e3:10.2f} ms   ratio {one / dl_fit:10.1f}")
    print(f"  {len(idx):,} bayes fits, batch path                  {many:10.2f} s    ratio {many / dl_fit:10.0f}"
          f"   ({many / len(idx) * 1e3:.3f} ms a fit)")
    print(f"  O'Brien-Fleming boundaries, 20 looks                {bounds * 1e3:10.2f} ms   ratio {bounds / dl_fit:10.1f}")
    print(f"  futility boundaries (beta-spending), 20 looks       {futility * 1e3:10.2f} ms   ratio {futility / dl_fit:10.1f}")


if __name__ == "__main__":
    main()
