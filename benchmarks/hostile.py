"""How fast hostile input is refused, as ratios to reading the embedded package once,
measured in the same run (the tests in tests/test_hostile.py check that each refusal
happens and that nothing hangs; how long it takes is measured here).

    python benchmarks/hostile.py [--repeat 5] [--json]

Cases: a package folder with a named pipe among its files (refused before it is opened),
a zip bomb (512 MiB of one byte in 0.5 MB: refused from the archive's directory), a
"billion laughs" review file (nine levels of nine YAML aliases: refused from the node
graph, never expanded) and a review file's pattern ``(.*)*Z`` run on a 200,000-character
name (RE2: linear time; Python's re would not finish).  Target: every refusal costs at most as much as reading the
package itself (ratio <= 1).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from reviewbook.book import review as rv  # noqa: E402
from reviewbook.errors import InputError  # noqa: E402
from reviewbook.package import datapackage as dp  # noqa: E402

from hostile_inputs import billion_laughs, zip_bomb  # noqa: E402 - the tests' own hostile inputs

PACKAGE = ROOT / "data" / "CD015373"
TARGET = 1.0


def median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def refused(fn):
    def run():
        try:
            fn()
        except InputError:
            return
        raise SystemExit(f"{fn.__name__}: the hostile input was not refused")
    return run


def make_cases(d: Path):
    pipe_pkg = shutil.copytree(PACKAGE, d / "pipe" / "CD015373")
    os.mkfifo(pipe_pkg / "CD015373-study-data" / "CD015373-notes.csv")
    bomb = zip_bomb(d / "bomb.zip", PACKAGE)
    laughs = d / "laughs.yml"
    laughs.write_text(billion_laughs(), encoding="utf-8")

    def pipe_in_package():
        dp.read(pipe_pkg)

    def read_bomb():
        dp.read(bomb)

    def load_laughs():
        rv.load(laughs)

    from reviewbook.package import patterns

    name = "a" * 200_000

    def catastrophic_pattern():
        if patterns.search("(.*)*Z", name):
            raise SystemExit("'(.*)*Z' matched a name without Z")

    return {"refuse a pipe in a package": refused(pipe_in_package), "refuse a zip bomb": refused(read_bomb),
            "refuse a billion laughs review file": refused(load_laughs),
            "run (.*)*Z on a 200,000-char name": catastrophic_pattern}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cases = make_cases(Path(tmp))
        ref = median_time(lambda: dp.read(PACKAGE), args.repeat)
        out = {"reference_s": ref}
        print(f"{'reference: read data/CD015373 once':<41} {ref * 1000:8.1f} ms")
        for name, fn in cases.items():
            t = median_time(fn, args.repeat)
            out[name] = t
            ratio = t / ref
            print(f"{name:<41} {t * 1000:8.1f} ms   ratio {ratio:5.2f}   target <= {TARGET:g}"
                  + ("" if ratio <= TARGET else "   NOT MET"))
    if args.json:
        print(json.dumps(out))
    return 0 if all(t / ref <= TARGET for k, t in out.items() if k != "reference_s") else 1


if __name__ == "__main__":
    sys.exit(main())
