"""Issue 25: an installable tool, `reviewbook init`, `reviewbook book DIR`, `check-review`.

The slow test builds a wheel of this repository, installs it into a new virtual
environment in a temporary folder outside the repository, and builds the book of a
training-half review there.  How the new environment gets the dependencies: the test
runs offline from the project's own .venv, so the new venv is created with
``venv --without-pip`` and given a ``.pth`` file naming the running interpreter's
site-packages (the dependencies, pinned in requirements.txt); the wheel itself is
installed with ``pip --python VENV install --no-deps`` into the new venv's own
site-packages, which come first on its path.  A ``.pth`` line adds a folder to the
path without running the ``.pth`` files in it, so the editable install of the
checkout in .venv is not seen: the test checks that ``reviewbook`` is imported from
the new venv, and runs with no PYTHONPATH and from folders outside the repository.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest
import yaml

from conftest import cli
from needs import SHARED

ROOT = Path(__file__).resolve().parents[1]
TRAIN = SHARED / "datasets" / "pairwise70" / "train"
#: A training-half review of the Pairwise70 collection: 13 data rows of 5 analyses in 4 comparisons
#: (the file itself, read by import-rows).
REVIEW = "CD014688_pub2"


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env


def _imported(tmp_path) -> Path:
    out = tmp_path / "rows" / REVIEW
    res = cli("import-rows", TRAIN / f"{REVIEW}_data.csv", out)
    assert res.returncode == 0, res.stderr
    return out


@pytest.mark.slow(45)
@pytest.mark.needs("shared")
def test_wheel_in_a_fresh_venv_builds_a_book_of_another_review(tmp_path):
    from bookutil import clean_copy

    assert not tmp_path.resolve().is_relative_to(ROOT)
    src = clean_copy(tmp_path / "src")  # built from the repository's files, not its build folders
    wheels = tmp_path / "wheels"
    # built offline with the pinned setuptools of requirements.txt (no isolated build environment to download)
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(wheels)],
                         capture_output=True, text=True, env=_env(), timeout=600)
    assert res.returncode == 0, res.stderr
    (wheel,) = wheels.glob("reviewbook-*.whl")

    t0 = time.perf_counter()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=_env())
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    Path(purelib, "_reviewbook_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                          "-q", str(wheel)], capture_output=True, text=True, env=_env(), timeout=600)
    assert res.returncode == 0, res.stderr
    exe = venv / "bin" / "reviewbook"
    where = subprocess.run([str(py), "-c", "import reviewbook; print(reviewbook.__file__, reviewbook.__version__)"],
                           capture_output=True, text=True, check=True, env=_env(), cwd=tmp_path).stdout.split()
    assert Path(where[0]).is_relative_to(venv), where  # the wheel's copy, not the checkout

    def run(*args, cwd=tmp_path):
        r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=_env(), cwd=cwd,
                           timeout=1200)
        assert r.returncode == 0, r.stdout + r.stderr
        return r

    run("import-rows", TRAIN / f"{REVIEW}_data.csv", tmp_path / "rows" / REVIEW)
    run("init", "proj", "--data", tmp_path / "rows" / REVIEW)
    proj = tmp_path / "proj"
    run("book", cwd=proj)  # the project in the current folder
    seconds = time.perf_counter() - t0
    print(f"wall time from pip install to a built site of {REVIEW}: {seconds:.1f} s")

    site = proj / "_build" / "html"
    assert (site / "index.html").is_file()
    results = json.loads((site / "results.json").read_text())
    assert results["package"] == REVIEW
    assert results["reviewbook_version"] == where[1]  # the installed package's own version
    assert len(results["analyses"]) == 5  # the 5 analyses of CD014688_pub2_data.csv (import-rows says so)
    intro = (site / "intro.html").read_text(encoding="utf-8")
    assert REVIEW in intro and f"reviewbook {where[1]}" in intro
    checked = 0
    for f in sorted(site.rglob("*")):
        if f.is_file() and f.suffix in (".html", ".json", ".ipynb", ".md", ".txt", ".js", ".csv", ".ris", ".bib"):
            text = f.read_text(encoding="utf-8", errors="replace")
            assert not re.search(r"ketamine|CD015373", text, re.I), f.relative_to(site)
            checked += 1
    assert checked > 20, checked  # pages, notebooks, sources and the JSON files

    # the CI workflow's nbval step, as the project's workflow file runs it: the executed notebooks re-run
    flow = (proj / ".github" / "workflows" / "book.yml").read_text()
    step = re.search(r"run: python -m pytest (.*)", flow).group(1).split()
    r = subprocess.run([str(py), "-m", "pytest", *step], capture_output=True, text=True, env=_env(), cwd=proj,
                       timeout=1200)
    assert r.returncode == 0, r.stdout[-3000:]
    assert re.search(r"(\d+) passed", r.stdout) and " failed" not in r.stdout

    # the same project into another folder, from elsewhere: the cache in the project is reused
    r = run("book", proj, "--out", tmp_path / "published")
    assert (tmp_path / "published" / "index.html").is_file()
    assert re.search(r"executing 0 of \d+ notebooks", r.stdout), r.stdout  # all from the project's cache
    assert (proj / "_build" / ".cache").is_dir() and (proj / "_build" / "state.json").is_file()


@pytest.mark.needs("shared")
def test_init_writes_a_project_and_never_overwrites_one(tmp_path):
    pkg = _imported(tmp_path)
    proj = tmp_path / "proj"
    res = cli("init", proj, "--data", pkg)
    assert res.returncode == 0, res.stderr
    for f in ("review.yml", "README.md", ".gitignore", "nbval_sanitize.cfg", ".github/workflows/book.yml",
              f"data/{REVIEW}/review.csv"):
        assert (proj / f).is_file(), f
    cfg = yaml.safe_load((proj / "review.yml").read_text())
    assert cfg["package"] == REVIEW
    # the DOI the package's review.csv carries (the rows' review_doi column)
    assert cfg["citation"] == "doi:10.1002/14651858.CD014688.pub2"
    assert [s["groups"] for s in cfg["sections"]] == [[1], [2], [3], [4]]  # one per comparison of the rows
    assert [o["analyses"] for o in cfg["outcomes"]] == [["1.1"], ["1.2"], ["2.1"], ["3.1"], ["4.1"]]
    assert not any("mid" in o for o in cfg["outcomes"])  # left unset ...
    assert (proj / "review.yml").read_text().count("# mid: unset; the book uses ") == 5  # ... with the default
    assert "_build/" in (proj / ".gitignore").read_text().splitlines()
    flow = (proj / ".github/workflows/book.yml").read_text()
    assert "reviewbook book" in flow and "--nbval" in flow
    assert cli("check-review", proj / "review.yml").returncode == 0

    before = (proj / "review.yml").read_bytes()
    (proj / "review.yml").write_text(before.decode() + "# edited\n")
    res = cli("init", proj, "--data", pkg)
    assert res.returncode == 2
    assert "an existing project" in res.stderr and "--force" in res.stderr
    assert (proj / "review.yml").read_text().endswith("# edited\n")
    assert cli("init", proj, "--data", pkg, "--force").returncode == 0
    assert (proj / "review.yml").read_bytes() == before


def test_init_takes_directions_from_graph_labels(tmp_path):
    """An outcome whose package labels name the groups gets its direction and source."""
    from reviewbook.book.project import review_text
    from reviewbook.package.load import read_any

    pkg = read_any(ROOT / "data" / "CD015373")
    from reviewbook.appraisal.direction import resolve

    text = review_text(pkg)
    cfg = yaml.safe_load(text)
    labelled = {a for a in pkg.analysis_ids() if resolve(pkg.analysis(a)).better
                and resolve(pkg.analysis(a)).basis in ("package labels", "package")}
    given = {o["analyses"][0]: o for o in cfg["outcomes"] if "better" in o}
    assert set(given) == labelled and len(given) > 0
    for aid, o in given.items():
        assert o["better"] == resolve(pkg.analysis(aid)).better and o["direction_source"]
    assert len(cfg["outcomes"]) == len(pkg.analysis_ids())


REVIEW_FILE = """\
package: P1
title: "A review"
sections:
  - key: first
    title: First
    groups: [1]
outcomes:
  - analyses: ["1.1"]
    better: lower
    direction_source: "a source"
"""


def _check(tmp_path, text, *extra):
    f = tmp_path / "review.yml"
    f.write_text(text)
    return cli("check-review", f, *extra)


def test_check_review_accepts_a_valid_file_and_the_repository_review(tmp_path):
    res = _check(tmp_path, REVIEW_FILE)
    assert res.returncode == 0, res.stderr
    assert cli("check-review", ROOT / "book" / "review.yml").returncode == 0


def test_check_review_refuses_a_misspelt_key_with_its_line(tmp_path):
    res = _check(tmp_path, REVIEW_FILE.replace("    title: First", "    titel: First"))
    assert res.returncode == 2
    # line 5 of the file is "    titel: First"
    assert "review.yml, line 5, key 'sections[0].titel': found an unknown key" in res.stderr
    assert "review.yml, line 4, key 'sections[0].title': found no such key" in res.stderr
    res = _check(tmp_path, REVIEW_FILE.replace("title:", "titel:", 1))
    assert "review.yml, line 2, key 'titel': found an unknown key" in res.stderr


def test_check_review_refuses_a_wrong_type_with_its_line(tmp_path):
    res = _check(tmp_path, REVIEW_FILE.replace("groups: [1]", "groups: 1"))
    assert res.returncode == 2
    assert "review.yml, line 6, key 'sections[0].groups': found int 1; expected" in res.stderr
    res = _check(tmp_path, REVIEW_FILE.replace("better: lower", "better: smaller"))
    assert "review.yml, line 9, key 'outcomes[0].better': found str 'smaller'; expected 'lower' or 'higher'" \
        in res.stderr
    res = _check(tmp_path, REVIEW_FILE + "appraisal:\n  alpha: 0.7\n")
    assert "review.yml, line 12, key 'appraisal.alpha': found float 0.7; expected" in res.stderr


def test_check_review_keeps_the_loaders_bounds(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdef", "bcdefg"))
    res = _check(tmp_path, bomb)
    assert res.returncode == 2 and "aliases that expand to more than" in res.stderr


@pytest.mark.needs("shared")
def test_check_review_refuses_a_section_rule_that_names_no_analysis(tmp_path):
    pkg = _imported(tmp_path)
    res = _check(tmp_path, REVIEW_FILE.replace("P1", REVIEW), "--data", pkg)
    assert res.returncode == 0, res.stderr  # comparison 1 and analysis 1.1 exist in CD014688_pub2
    text = REVIEW_FILE.replace("P1", REVIEW).replace("outcomes:", "  - key: second\n    title: Second\n"
                                                                   "    groups: [9]\noutcomes:")
    res = _check(tmp_path, text, "--data", pkg)
    assert res.returncode == 2
    # the rule starts on line 7 ("  - key: second"); the package has comparisons 1 to 4
    assert ("review.yml, line 7, key 'sections[1]': found a section rule that names no analysis of package "
            f"{REVIEW}") in res.stderr
    # the package beside the review file (data/<package>) is found without --data
    (tmp_path / "data").mkdir()
    pkg.rename(tmp_path / "data" / REVIEW)
    res = _check(tmp_path, text)
    assert res.returncode == 2 and "line 7, key 'sections[1]'" in res.stderr


def test_book_refuses_a_folder_that_is_no_project(tmp_path):
    res = cli("book", tmp_path / "empty")
    assert res.returncode == 2
    assert "empty: found a folder without review.yml or data/ package" in res.stderr
    assert not (tmp_path / "empty").exists()  # nothing written


def test_project_layouts(tmp_path):
    """review.yml in the folder (a project from init) or book/review.yml (this repository):
    the build goes beside the review file, the package is data/<id>."""
    from reviewbook.book.paths import project

    a = tmp_path / "a"
    a.mkdir()
    (a / "review.yml").write_text("package: X\n")
    assert project(a).build == a / "_build" and project(a).site == a / "_build" / "html"
    assert project(a).package("X") == a / "data" / "X"
    assert project(ROOT).review == ROOT / "book" / "review.yml"
    assert project(ROOT).build == ROOT / "book" / "_build"


def test_check_review_and_the_loader_know_the_same_text_keys():
    """The review file's keys are listed twice: check-review's schema (book/check.py) and the
    loader's text keys (book/review.py, TEXT_KEYS). A key added to one and not the other makes
    check-review refuse a file the book reads (as follow_up and data_licence once did)."""
    import typing

    from reviewbook.book import check, review as rv

    fields = check.ReviewFile.model_fields

    def is_text(annotation):
        return any(a in (check.Text, check.StrictStr) for a in (typing.get_args(annotation) or (annotation,)))

    text_fields = {k for k, f in fields.items() if is_text(f.annotation)}
    assert text_fields == set(rv.TEXT_KEYS) and len(text_fields) == len(rv.TEXT_KEYS) >= 16, (
        text_fields ^ set(rv.TEXT_KEYS))
