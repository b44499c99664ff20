"""Faults and bad input in a real build (issue: re-execution users can trust).

Each fault gives a clear message naming what and where, a non-zero exit, and
leaves the previous site and results intact; a rerun after the fault is fixed
succeeds.  Also: any review's package builds a coherent book, and text from a
package is data, never markup."""
import csv
import hashlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bookutil import CHROMIUM, browse, clean_copy, run_book

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = clean_copy(tmp_path_factory.mktemp("faults"))
    res = run_book(repo)
    assert res.returncode == 0, res.stdout + res.stderr
    return repo


def site_state(repo):
    h = hashlib.sha256()
    site = repo / "book/_build/html"
    for p in sorted(site.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(site)).encode())
            h.update(p.read_bytes())
    return h.hexdigest(), (repo / "book/_build/results.json").read_bytes()


def package_copy(repo, tmp_path):
    dest = tmp_path / "CD015373"
    shutil.copytree(repo / "data/CD015373", dest)
    return dest


def edit(pkg, suffix, fn):
    path = next(pkg.rglob(f"*{suffix}"))
    text = path.read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    header, body = fn(table[0], table[1:])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header] + body)
    path.write_text("\ufeff" + buf.getvalue(), encoding="utf-8")


def cell(col, value, row=0):
    def fn(h, b):
        b[row][h.index(col)] = value
        return h, b
    return fn


ROWS = "-data-rows.csv"
OVERALL = "-overall-estimates-and-settings.csv"


def _drop(col):
    return lambda h, b: ([c for c in h if c != col], [[v for c, v in zip(h, r) if c != col] for r in b])


def _dup(h, b):
    return h, b + [list(b[0])]


def _empty_analysis(h, b):
    r = list(b[0])
    r[h.index("Analysis number")] = "13"
    r[h.index("Analysis name")] = "Serious adverse events"
    return h, b + [r]


FAULTS = {
    "text in a number": (lambda p: edit(p, ROWS, cell("Experimental N", "thirty")),
                         "CD015373-data-rows.csv, line 2, column 'Experimental N': found 'thirty'; expected a number"),
    "negative SD": (lambda p: edit(p, ROWS, cell("Control SD", "-5")),
                    "CD015373-data-rows.csv, line 2, column 'Control SD': found '-5'; expected a number >= 0"),
    "events > N": (lambda p: edit(p, ROWS, cell("Experimental cases", "99", row=1)),
                   "CD015373-data-rows.csv, line 3, column 'Experimental cases': found 99 events; expected at most Experimental N = 9"),
    "duplicate study": (lambda p: edit(p, ROWS, _dup),
                        "found 'Sigtermans 2009' again in analysis 1.1"),
    "missing column": (lambda p: edit(p, ROWS, _drop("Control N")),
                       "CD015373-data-rows.csv, line 1, column 'Control N': found no such column"),
    "missing file": (lambda p: next(p.rglob(f"*{ROWS}")).unlink(),
                     "found no '<ID>-data-rows.csv' inside"),
    "empty analysis": (lambda p: edit(p, OVERALL, _empty_analysis),
                       "analysis 1.13 with no data rows"),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_bad_package_fails_cleanly_and_keeps_the_site(repo, tmp_path, name):
    before = site_state(repo)
    pkg = package_copy(repo, tmp_path)
    inject, message = FAULTS[name]
    inject(pkg)
    res = run_book(repo, "--data", pkg)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr, res.stderr
    assert "previous site is unchanged" in res.stderr
    assert site_state(repo) == before


@pytest.mark.parametrize("kind", ["corrupt", "truncated"])
def test_bad_zip(repo, tmp_path, kind):
    before = site_state(repo)
    z = tmp_path / "package.zip"
    z.write_bytes(b"not a zip at all" if kind == "corrupt" else (FIX / "Fleiss1993.zip").read_bytes()[:4000])
    res = run_book(repo, "--data", z)
    assert res.returncode == 2
    assert "package.zip: found a" in res.stderr
    assert site_state(repo) == before


def test_notebook_that_raises(repo):
    before = site_state(repo)
    nb_path = repo / "notebooks/harms.ipynb"
    original = nb_path.read_text()
    nb = json.loads(original)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    code[3]["source"] = "raise ValueError('injected fault')"
    nb_path.write_text(json.dumps(nb))
    try:
        res = run_book(repo)
        assert res.returncode == 1
        assert "notebook notebooks/harms.ipynb failed: code cell 4: ValueError: injected fault" in res.stderr
        assert site_state(repo) == before
    finally:
        nb_path.write_text(original)
    res = run_book(repo)  # fixed: the rebuild succeeds
    assert res.returncode == 0, res.stderr


def test_interrupted_build_keeps_the_site(repo):
    before = site_state(repo)
    env = dict(os.environ, PYTHONPATH=str(repo / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "reviewbook", "book", "--force"], cwd=repo, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = ""
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        seen += line
        if "executed in" in line or "[4/5]" in line:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert "[2/5]" in seen
    assert site_state(repo) == before
    res = run_book(repo, "--force")
    assert res.returncode == 0, res.stderr
    assert not list((repo / "book/_build").glob("staging-*"))


def test_any_reviews_package_builds_a_coherent_book(repo, tmp_path):
    res = run_book(repo, "--data", FIX / "Fleiss1993.zip")
    assert res.returncode == 0, res.stderr
    site = repo / "book/_build/html"
    other = (site / "sections/other_analyses.html").read_text()
    assert "Aspirin for Preventing Death" in other and "Mental Health Treatment" in other
    results = json.loads((site / "results.json").read_text())
    assert {a["section"] for a in results["analyses"].values()} == {"other_analyses"}
    assert "No analysis of the data package belongs to this section" in (site / "sections/ketamine_iv.html").read_text()
    changed = (site / "what_changed.html").read_text()
    assert "Analyses added or removed" in changed  # compared with the previous (CD015373) build


def generated_package(tmp_path, study_name):
    """A small package the test writes itself: one dichotomous analysis of an
    unknown intervention, one continuous analysis claimed by the memantine rule."""
    from reviewbook.package import datapackage as dp

    pkg = dp.read(FIX / "Fleiss1993.zip")
    rows = pkg.rows.copy()
    rows.loc[0, "Study"] = study_name
    analyses = pkg.analyses.copy()
    analyses.loc[1, "Analysis group name"] = "Memantine versus placebo"
    analyses.loc[1, "Analysis name"] = "Pain <i>intensity</i> `{glue}` $x$"
    new = dp.Package("GEN0001", analyses, rows, pkg.subgroup_estimates, pkg.studies, pkg.risk_of_bias,
                     pkg.references, {})
    return dp.write(new, tmp_path / "GEN0001")


def test_generated_package_and_markup_in_names_render_as_text(repo, tmp_path):
    evil = "<script>alert('x')</script><b>Bold</b> {ref}`x` [link](http://example.com)"
    pkg = generated_package(tmp_path, evil)
    res = run_book(repo, "--data", pkg)
    assert res.returncode == 0, res.stdout + res.stderr
    site = repo / "book/_build/html"
    page = (site / "sections/other_analyses.html").read_text()
    assert "<script>alert" not in page and "<b>Bold</b>" not in page
    assert "&lt;script&gt;alert" in page and "&lt;b&gt;Bold&lt;/b&gt;" in page
    mem = (site / "sections/memantine.html").read_text()
    assert "<i>intensity</i>" not in mem and "&lt;i&gt;intensity&lt;/i&gt;" in mem
    if CHROMIUM:
        problems = browse(["sections/other_analyses.html", "sections/memantine.html",
                           "sections/study_flow.html"], site)
        assert not problems, problems
    # a rerun on the embedded data restores the default book
    assert run_book(repo).returncode == 0
