"""Faults and bad input in a real build (issue: re-execution users can trust).

Each fault gives a clear message naming what and where, a non-zero exit, and
leaves the previous site and results intact; a rerun after the fault is fixed
succeeds.  Each test works in its own copy of the default book's built repository.
Any review's package building a coherent book, and text from a package being data,
never markup: tests/test_faults_other_packages.py."""
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

from bookutil import copy_built, run_book

FIX = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo(default_book, tmp_path):
    """A copy of the default book's built repository for each test (builds that must fail,
    and builds of other packages that replace its site): no test sees another's changes."""
    return copy_built(default_book[0], tmp_path / "repo")


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
    r[h.index("Analysis number")] = "99"
    r[h.index("Analysis name")] = "An analysis without rows"
    return h, b + [r]


def _cases(value):
    """Experimental cases of the first dichotomous row (1.9, Lumanauw 2019: 29 of 68)."""
    def fn(h, b):
        for r in b:
            if r[h.index("Analysis number")] == "9" and r[h.index("Analysis group")] == "1":
                r[h.index("Experimental cases")] = value
                break
        return h, b
    return fn


def _no_analyses(h, b):
    return h, []


def _line_of_first_1_9():
    import csv as _csv

    with open(Path(__file__).resolve().parents[1] / "data/CD015373/CD015373-analysis-data/CD015373-data-rows.csv",
              encoding="utf-8-sig") as f:
        for i, r in enumerate(_csv.DictReader(f), start=2):
            if (r["Analysis group"], r["Analysis number"]) == ("1", "9"):
                return i


FAULTS = {
    "text in a number": (lambda p: edit(p, ROWS, cell("Experimental N", "thirty")),
                         "CD015373-data-rows.csv, line 2, column 'Experimental N': found 'thirty'; expected a number"),
    "negative SD": (lambda p: edit(p, ROWS, cell("Control SD", "-5")),
                    "CD015373-data-rows.csv, line 2, column 'Control SD': found '-5'; expected a number >= 0"),
    "events > N": (lambda p: edit(p, ROWS, _cases("99")),
                   f"CD015373-data-rows.csv, line {_line_of_first_1_9()}, column 'Experimental cases': found 99 events; "
                   "expected at most Experimental N = 68"),
    "identical row twice": (lambda p: edit(p, ROWS, _dup),
                            "found 'Lumanauw 2019' again in analysis 1.1, identical to line 2"),
    "missing column": (lambda p: edit(p, ROWS, _drop("Control N")),
                       "CD015373-data-rows.csv, line 1, column 'Control N': found no such column"),
    "missing file": (lambda p: next(p.rglob(f"*{ROWS}")).unlink(),
                     "found no '<ID>-data-rows.csv' inside"),
    "empty analysis": (lambda p: edit(p, OVERALL, _empty_analysis),
                       "analysis 1.99 with no data rows"),
    "no analyses": (lambda p: (edit(p, ROWS, _no_analyses), edit(p, OVERALL, _no_analyses)),
                    "found a package with 0 analyses; expected at least one analysis"),
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


def test_review_file_naming_another_package_is_refused(repo, tmp_path):
    before = site_state(repo)
    review = tmp_path / "review.yml"
    review.write_text((repo / "book/review.yml").read_text().replace("package: CD015373", "package: CD999999"))
    res = run_book(repo, "--review", review)
    assert res.returncode == 2
    assert ("review.yml, column 'package': found 'CD999999'; expected the id of the package being built, "
            "'CD015373'") in res.stderr
    assert site_state(repo) == before


def test_rows_table_whose_data_type_cannot_be_inferred(repo, tmp_path):
    """A table of data rows given straight to the book is imported; a row of our own data
    (no stored result anywhere) with every data field blank: exit 2, located, site intact
    (a missing number is never read as 0; a review's own rows with such an analysis are
    imported and shown not estimable, tests/test_audit_rules.py)."""
    before = site_state(repo)
    rows = tmp_path / "rows.csv"
    rows.write_text("Analysis group,Analysis number,Analysis name,Study,Experimental N,Control N\n"
                    "1,1,Pain,A 2001,,\n", encoding="utf-8")
    res = run_book(repo, "--data", rows)
    assert res.returncode == 2
    assert ("rows.csv, line 2, column 'Experimental N': found an empty cell; expected a number "
            "(no data field of this row has one") in res.stderr
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
    nb_path = repo / "src/reviewbook/resources/notebooks/harms.ipynb"
    original = nb_path.read_text()
    nb = json.loads(original)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    code[3]["source"] = "raise ValueError('injected fault')"
    nb_path.write_text(json.dumps(nb))
    try:
        res = run_book(repo)
        assert res.returncode == 1
        assert "notebook notebooks/harms.ipynb (harms) failed: code cell 4: ValueError: injected fault" in res.stderr
        assert site_state(repo) == before
    finally:
        nb_path.write_text(original)
    res = run_book(repo)  # fixed: the rebuild succeeds
    assert res.returncode == 0, res.stderr


@pytest.mark.slow(23)
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
