"""Live cross-check against R's metafor on randomly generated meta-analyses.

Runs when ``Rscript`` with metafor and jsonlite is installed (CI installs it:
``apt-get install r-base-core r-cran-metafor r-cran-jsonlite``); skipped
otherwise, with the reason.  The generator covers zero cells (single and double
zero), k = 1 and 2, Q < df and large tau2, and HKSJ; every expected number is
``metafor::rma(yi, vi, method=..., test=...)`` on ``escalc`` effect sizes with
RevMan's zero-cell rules (``tests/reference/live_check.R``).
"""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from reviewbook.engine import effects, pooling
from tolerances import CLOSED, ITERATIVE, close

SCRIPT = Path(__file__).parent / "reference" / "live_check.R"


pytestmark = pytest.mark.needs("metafor")


def generate(seed=20261122, n_sets=60):
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n_sets):
        kind = i % 6
        k = [1, 2, 3, 5, 8, 15][rng.integers(0, 6)] if kind != 5 else int(rng.integers(3, 10))
        if kind in (0, 1, 2):  # dichotomous, sparse enough for zero cells
            n1 = rng.integers(5, 60, k)
            n2 = rng.integers(5, 60, k)
            p = rng.uniform(0.0, 0.25, k)
            e1 = rng.binomial(n1, np.clip(p * rng.uniform(0.3, 2.5, k), 0, 1))
            e2 = rng.binomial(n2, p)
            if kind == 0 and k >= 3:  # force a double zero and a single zero
                e1[0] = e2[0] = 0
                e1[1] = 0
            measure = ["RR", "OR", "RD"][kind]
            if measure in ("RR", "OR") and np.sum(~((e1 == 0) & (e2 == 0))) == 0:
                e1[-1] = 1
            item = dict(type="dichotomous", measure=measure, events1=e1.tolist(), n1=n1.tolist(),
                        events2=e2.tolist(), n2=n2.tolist())
        else:
            n1 = rng.integers(8, 80, k)
            n2 = rng.integers(8, 80, k)
            tau = [0.0, 0.5, 25.0][kind - 3]  # kind 3: Q < df likely; kind 5: large tau2
            theta = rng.normal(-10, tau, k) if tau else np.full(k, -10.0)
            sd1 = rng.uniform(5, 30, k)
            sd2 = rng.uniform(5, 30, k)
            m2 = rng.normal(50, 5, k)
            m1 = m2 + theta + rng.normal(0, sd1 / np.sqrt(n1))
            item = dict(type="continuous", measure="MD", n1=n1.tolist(), mean1=m1.tolist(),
                        sd1=sd1.tolist(), n2=n2.tolist(), mean2=m2.tolist(), sd2=sd2.tolist())
        for method in ("FE", "DL", "REML", "PM"):
            for test in ("z", "knha"):
                if test == "knha" and (method == "FE" or k < 2):
                    continue
                items.append(dict(item, id=f"set{i}_{method}_{test}", method=method, test=test))
    return items


def ours(item):
    if item["type"] == "dichotomous":
        es = effects.dichotomous(item["events1"], item["n1"], item["events2"], item["n2"],
                                 measure=item["measure"])
    else:
        es = effects.continuous(item["n1"], item["mean1"], item["sd1"], item["n2"], item["mean2"],
                                item["sd2"], measure="MD")
    return pooling.meta(es, item["method"], hksj="plain" if item["test"] == "knha" else None)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    items = generate()
    d = tmp_path_factory.mktemp("live")
    (d / "in.json").write_text(json.dumps(items))
    subprocess.run(["Rscript", str(SCRIPT), str(d / "in.json"), str(d / "out.json")],
                   check=True, capture_output=True)
    ref = {r["id"]: r for r in json.loads((d / "out.json").read_text())}
    return items, ref


def test_generator_covers_the_hard_cases(live):
    items, _ = live
    ks = {len(it["n1"]) for it in items}
    assert {1, 2} <= ks
    zeros = [it for it in items if it["type"] == "dichotomous"
             and any(a == 0 and b == 0 for a, b in zip(it["events1"], it["events2"]))]
    assert zeros


def test_random_meta_analyses_match_metafor(live):
    items, ref = live
    checked = 0
    failures = []
    for it in items:
        r, m = ours(it), ref[it["id"]]
        rel = ITERATIVE if it["method"] in ("REML", "PM") else CLOSED
        assert r.k == m["k"], it["id"]
        pairs = [("estimate", r.te, m["estimate"]), ("se", r.se, m["se"]),
                 ("ci_low", r.ci_low_te, m["ci_low"]), ("ci_high", r.ci_high_te, m["ci_high"]),
                 ("stat", r.stat, m["stat"]), ("p", r.p, m["p"]), ("q", r.q, m["q"]),
                 ("tau2", r.tau2 if r.tau2 is not None else 0.0, m["tau2"])]
        pairs += [(f"w{i}", s.weight, w) for i, (s, w) in enumerate(zip(r.studies, m["weights"]))]
        for name, a, b in pairs:
            if not close(a, b, rel, abs_=1e-9):
                failures.append(f"{it['id']} {name}: ours {a!r}, metafor {b!r}")
        checked += 1
    assert not failures, "\n".join(failures[:20])
    assert checked > 300
