"""Benchmark of ``reviewbook atlas``: reviews per second at 1 and 2 jobs, and seconds
per 1,000 data rows at small and large reviews, measured in this one run.

    python benchmarks/atlas.py [--rows-dir DIR] [--sample N] [--all]

Reviews: the CSV files of ``--rows-dir`` (default ``../shared/datasets/pairwise70/train``),
``--sample N`` of them (default 16) at evenly spaced positions in increasing file size
(a fixed rule), or every one with ``--all``.  Each set is imported and audited with
``--jobs 1`` and then ``--jobs 2`` (the same tasks as the command); prints the wall
time and reviews per second of each, and their ratio (2 jobs against 1: at most 2 on
2 cores).  From the per-review times of the 1-job run: seconds per 1,000 data rows
over the smaller and the larger half of the reviews, their ratio (1 when the cost
grows in proportion to the rows), and the slope of log(seconds) on log(rows).
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from reviewbook.package import atlas  # noqa: E402


def pick(files, n):
    files = sorted(files, key=lambda p: (p.stat().st_size, p.name))
    if n >= len(files):
        return files
    return [files[round(i * (len(files) - 1) / (n - 1))] for i in range(n)] if n > 1 else files[:1]


def timed(files, jobs):
    t0 = time.perf_counter()
    out = atlas.run(files, jobs=jobs, timeout=None)
    return time.perf_counter() - t0, out


def per_thousand(outcomes):
    rows = sum(o.rows for o in outcomes)
    secs = sum(o.seconds for o in outcomes)
    return 1000 * secs / rows if rows else float("nan"), rows


def slope(outcomes):
    pts = [(math.log(o.rows), math.log(o.seconds)) for o in outcomes if o.rows > 0 and o.seconds > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else float("nan")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows-dir", default=str(ROOT.parent / "shared" / "datasets" / "pairwise70" / "train"))
    ap.add_argument("--sample", type=int, default=16)
    ap.add_argument("--all", action="store_true", help="every review of the folder")
    args = ap.parse_args(argv)
    files = atlas.rows_files(args.rows_dir)
    files = files if args.all else pick(files, args.sample)
    t1, out1 = timed(files, 1)
    t2, _ = timed(files, 2)
    n = len(files)
    print(f"atlas benchmark: {n} reviews, {sum(o.rows for o in out1):,} data rows "
          f"({'all' if args.all else 'evenly spaced in size'}) from {args.rows_dir}")
    print(f"  --jobs 1: {t1:8.2f} s wall, {n / t1:6.2f} reviews/s")
    print(f"  --jobs 2: {t2:8.2f} s wall, {n / t2:6.2f} reviews/s   speed-up {t1 / t2:.2f}x (ratio to --jobs 1)")
    done = sorted((o for o in out1 if o.status != "refused" and o.rows > 0), key=lambda o: o.rows)
    half = len(done) // 2
    small, large = done[:half], done[half:]
    ps, rs = per_thousand(small)
    pl, rl = per_thousand(large)
    print(f"  small reviews ({len(small)}, {rs:,} rows, up to {small[-1].rows if small else 0} rows each): "
          f"{ps:.3f} s per 1,000 rows")
    print(f"  large reviews ({len(large)}, {rl:,} rows, from {large[0].rows if large else 0} rows each): "
          f"{pl:.3f} s per 1,000 rows   ratio large/small {pl / ps:.2f}")
    print(f"  slope of log(seconds) on log(rows): {slope(done):.2f} (1 = cost in proportion to the rows)")
    refused = [o.review for o in out1 if o.status == "refused"]
    if refused:
        print(f"  refused: {', '.join(refused)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
