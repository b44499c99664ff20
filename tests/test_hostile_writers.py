"""One writer at a time, no temporary file left, a site of its own build only
(issue #23, item 2).

Processes are started at once here, as a user with two terminals would: six
``add-rows`` on one package, two ``import-rows``, two ``book --force``.  What
each test expects is the README's fault table: every writer's work is kept
(versions 2 to 7 for six add-rows on a package at version 1, as
``reviewbook.package.addrows`` numbers them), a writer that waits longer than
the lock's bound stops with exit 2, and SIGTERM or a full disk leaves the
package byte for byte as it was with no temporary file.  The made-up trials'
values are stated where they are written.
"""
import errno
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bookutil import clean_copy, run_book
from reviewbook import cli
from reviewbook.book import runner
from reviewbook.package import datapackage as dp
from reviewbook.package import lock

ROOT = Path(__file__).resolve().parents[1]
FIX = Path(__file__).parent / "fixtures"
EMBEDDED = ROOT / "data" / "CD015373"
HEADER = ("Analysis.group,Analysis.number,Study,Study.year,Experimental.mean,Experimental.SD,Experimental.N,"
          "Control.mean,Control.SD,Control.N\n")


def trial(i: int) -> str:
    """A made-up trial in analysis 1.4 (150 + 150 participants, means 40 and 60, SD 20)."""
    return HEADER + f"1,4,Madeup{i} 2026,2026,40,20,150,60,20,150\n"


def env(**extra):
    return dict(os.environ, PYTHONPATH=str(ROOT / "src"), **extra)


def start(*args, **extra):
    return subprocess.Popen([sys.executable, "-m", "reviewbook", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env(**extra))


def tree_state(folder: Path) -> dict:
    return {str(p.relative_to(folder)): ("dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*"))}


def hidden(folder: Path) -> list:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*"))


@pytest.fixture
def package(tmp_path):
    dest = tmp_path / "CD015373"
    shutil.copytree(EMBEDDED, dest)
    return dest


def run(*args):
    import contextlib

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main([str(a) for a in args])
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ add-rows: six at once

def test_six_add_rows_at_once_keep_all_six_rows_numbered_2_to_7(package, tmp_path):
    files = []
    for i in range(1, 7):
        f = tmp_path / f"trial{i}.csv"
        f.write_text(trial(i), encoding="utf-8")
        files.append(f)
    procs = [start("add-rows", package, f, "--source", f"report {i}") for i, f in enumerate(files, 1)]
    results = [p.communicate(timeout=300) + (p.returncode,) for p in procs]
    assert [r[2] for r in results] == [0] * 6, [r[1] for r in results]
    said = sorted(int(out.split("(version ")[1].split(",")[0]) for out, _, _ in results)
    assert said == [2, 3, 4, 5, 6, 7]
    pkg = dp.read(package)
    assert not pkg.warnings
    rows = pkg.rows_of("1.4")
    assert sorted(s for s in rows["Study"] if s.startswith("Madeup")) == [f"Madeup{i} 2026" for i in range(1, 7)]
    versions = pkg.extra["versions.csv"]
    assert list(versions["version"]) == [str(v) for v in range(1, 8)]
    # each version names its own trial's source, and its provenance rows cite the version it made
    by_source = dict(zip(versions["source"][1:], versions["version"][1:]))
    prov = pkg.extra["provenance.csv"]
    for i in range(1, 7):
        mine = prov[prov["study"] == f"Madeup{i} 2026"]
        assert len(mine) == 6
        assert set(mine["how_obtained"]) == {f"added with add-rows from trial{i}.csv (package version "
                                             f"{by_source[f'report {i}']})"}
    assert hidden(package) == []


def test_a_writer_that_waits_too_long_stops_with_exit_2(package, tmp_path):
    rows = tmp_path / "t.csv"
    rows.write_text(trial(1), encoding="utf-8")
    before = tree_state(package)
    with lock.writer_lock(package, "test"):
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "reviewbook", "add-rows", package, rows, "--source", "x"],
                             capture_output=True, text=True, timeout=120, env=env(REVIEWBOOK_LOCK_TIMEOUT="1"))
        waited = time.perf_counter() - t0
    assert res.returncode == 2 and waited >= 1
    assert res.stderr == (f"error: {package}: found another reviewbook command writing the package CD015373 "
                          "(waited 1 s); expected one writer at a time: run it again when the other has finished "
                          "(nothing was written)\n")
    assert tree_state(package) == before
    # the lock is not in the package, nor beside it
    assert sorted(p.name for p in package.parent.iterdir()) == ["CD015373", "t.csv"]
    assert lock.lock_path(package).parent == Path(os.environ.get("TMPDIR", "/tmp")) / f"reviewbook-locks-{os.getuid()}"


def test_the_lock_wait_is_sixty_seconds_unless_set():
    assert lock.LOCK_TIMEOUT == 60.0
    for text, expected in (("", 60.0), ("2.5", 2.5), ("0", 60.0), ("-1", 60.0), ("nan", 60.0), ("inf", 60.0),
                           ("x", 60.0)):
        os.environ[lock.TIMEOUT_VARIABLE] = text
        try:
            assert lock.lock_timeout() == expected, text
        finally:
            del os.environ[lock.TIMEOUT_VARIABLE]


# ------------------------------------------------------------------ no temporary file left

def test_a_full_disk_during_add_rows_leaves_the_package_as_it_was(package, tmp_path, monkeypatch):
    """ENOSPC on the second temporary file: the first is removed too, nothing is renamed."""
    rows = tmp_path / "t.csv"
    rows.write_text(trial(1), encoding="utf-8")
    before = tree_state(package)
    real = Path.write_bytes
    calls = []

    def full(self, data):
        if ".add-rows-" in self.name:
            calls.append(self.name)
            if len(calls) == 2:
                real(self, data[: len(data) // 2])  # half written, then the disk is full
                raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", full)
    code, out, err = run("add-rows", package, rows, "--source", "x")
    assert code == 2 and out == ""
    assert err == ("error: CD015373: found a folder that cannot be written (No space left on device; nothing was "
                   "changed); expected a package folder add-rows can write into\n")
    assert len(calls) == 2
    assert tree_state(package) == before and hidden(package) == []


SLOW_WRITE = """
import sys, time
from pathlib import Path
real = Path.write_bytes
def slow(self, data):
    real(self, data)
    if ".add-rows-" in self.name:
        print("WROTE", self.name, flush=True)
        time.sleep(60)
Path.write_bytes = slow
from reviewbook import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_sigterm_during_add_rows_leaves_no_temporary_file(package, tmp_path):
    rows = tmp_path / "t.csv"
    rows.write_text(trial(1), encoding="utf-8")
    before = tree_state(package)
    p = subprocess.Popen([sys.executable, "-c", SLOW_WRITE, "add-rows", str(package), str(rows), "--source", "x"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    line = p.stdout.readline()
    assert line.startswith("WROTE ."), line + p.stderr.read()
    assert hidden(package) != []  # the temporary file is there while it sleeps
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 143, err
    assert out == "" and err == "error: terminated (nothing was half-written)\n"
    assert tree_state(package) == before and hidden(package) == []


def test_temporary_files_of_a_killed_add_rows_are_removed_by_the_next(package, tmp_path):
    """SIGKILL cannot be caught: the next add-rows (under the lock, so no other is writing) removes them."""
    stale = [package / ".versions.csv.add-rows-99999999",
             package / "CD015373-analysis-data" / ".CD015373-data-rows.csv.add-rows-99999999"]
    for s in stale:
        s.write_text("half")
    rows = tmp_path / "t.csv"
    rows.write_text(trial(1), encoding="utf-8")
    code, out, err = run("add-rows", package, rows, "--source", "x")
    assert code == 0 and "(version 2," in out, err
    assert hidden(package) == [] and len(stale) == 2


def test_two_import_rows_at_once_into_one_folder(tmp_path):
    """Both with --force: each waits for the other; the folder holds one complete package and no
    temporary folder."""
    rows = tmp_path / "r.csv"
    rows.write_text("Analysis group,Analysis number,Analysis name,Study,Experimental cases,Experimental N,"
                    "Control cases,Control N\n1,1,Deaths,A 2001,1,10,2,10\n1,1,Deaths,B 2002,3,20,4,20\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    procs = [start("import-rows", rows, out, "--id", "P1", "--force") for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    pkg = dp.read(out)
    assert pkg.id == "P1" and len(pkg.rows) == 2
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


# ------------------------------------------------------------------ book: two at once, a site of its own build

@pytest.fixture(scope="module")
def two_books(tmp_path_factory):
    """A clean copy; two `book --force` on the Fleiss1993 fixture started at once."""
    repo = clean_copy(tmp_path_factory.mktemp("twobooks"))
    e = env(REVIEWBOOK_LOCK_TIMEOUT="900")
    e["PYTHONPATH"] = str(repo / "src")
    procs = [subprocess.Popen([sys.executable, "-m", "reviewbook", "book", "--data", FIX / "Fleiss1993.zip",
                               "--force"], cwd=repo, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=900)[0] for p in procs]
    return repo, procs, outs


@pytest.mark.slow(24)
def test_two_books_at_once_both_finish_one_after_the_other(two_books):
    repo, procs, outs = two_books
    assert [p.returncode for p in procs] == [0, 0], outs
    waited = [o for o in outs if "waiting up to 900 s for another reviewbook command writing the book's build " \
                                 "folder (book/_build)" in o]
    assert len(waited) == 1, outs
    build = repo / "book" / "_build"
    assert (build / "html" / "index.html").is_file()
    assert not list(build.glob("staging-*")) and not (build / "html.old").exists()
    # the site holds the whole build: every page of the table of contents
    pages = sorted(str(p.relative_to(build / "html")) for p in (build / "html" / "sections").glob("*.html"))
    assert pages == ["sections/comparison_1.html", "sections/reproduction.html", "sections/study_flow.html",
                     "sections/summary_of_findings.html"]


@pytest.mark.slow(10)
def test_a_new_site_holds_only_the_files_of_its_own_build(two_books, tmp_path):
    """Rebuilt on a package whose analysis 1.2 is gone (the table of contents is the same, so Sphinx's
    work tree is kept): the earlier figure of 1.2 is not in the new site, and every image of the site
    is linked from one of its pages."""
    repo, _, _ = two_books
    site = repo / "book" / "_build" / "html"
    assert (site / "_images" / "comparison_1_1_2_forest.svg").is_file()
    pkg = dp.read(FIX / "Fleiss1993.zip")

    def keep(t):
        if t is None or "Analysis number" not in t.columns:
            return t
        return t[t["Analysis number"].astype(float) != 2].reset_index(drop=True)

    smaller = dp.Package(pkg.id, keep(pkg.analyses), keep(pkg.rows), keep(pkg.subgroup_estimates), pkg.studies,
                         keep(pkg.risk_of_bias), pkg.references, {})
    assert dp.read(dp.write(smaller, tmp_path / "check" / pkg.id)).analysis_ids() == ["1.1"]
    folder = dp.write(smaller, tmp_path / pkg.id)
    res = run_book(repo, "--data", folder)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not (site / "_images" / "comparison_1_1_2_forest.svg").exists()
    # Sphinx's work tree still has it (Sphinx never deletes): the site is pruned to this build's files
    assert (repo / "book" / "_build" / "work" / "html" / "_images" / "comparison_1_1_2_forest.svg").exists()
    linked = set()
    for page in site.rglob("*.html"):
        linked.update(f"{a}/{b}" for a, b in runner._ASSET.findall(page.read_text(encoding="utf-8")))
    images = sorted(p.relative_to(site).as_posix() for p in (site / "_images").iterdir())
    assert images and all(i in linked for i in images), set(images) - linked


@pytest.mark.slow(6)
def test_sigterm_during_book_keeps_the_site_and_leaves_no_staging_folder(two_books):
    repo, _, _ = two_books
    build = repo / "book" / "_build"
    before = tree_state(build / "html")
    e = env()
    e["PYTHONPATH"] = str(repo / "src")
    p = subprocess.Popen([sys.executable, "-m", "reviewbook", "book", "--data", FIX / "Fleiss1993.zip", "--force"],
                         cwd=repo, env=e, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = ""
    while "executed in" not in seen and p.poll() is None:
        seen += p.stdout.readline()
    assert list(build.glob("staging-*")), seen  # a build under way
    p.send_signal(signal.SIGTERM)
    out = p.communicate(timeout=120)[0]
    assert p.returncode == 143, seen + out
    assert "error: terminated; the previous site is unchanged" in out
    assert tree_state(build / "html") == before
    assert not list(build.glob("staging-*")) and not (build / "html.old").exists()


def test_prune_removes_what_an_earlier_build_left(tmp_path):
    site, src = tmp_path / "html", tmp_path / "src"
    for rel, text in {"intro.html": '<img src="_images/a.svg">', "gone.html": '<img src="_images/old.svg">',
                      "genindex.html": "", "_images/a.svg": "", "_images/old.svg": "",
                      "_images/ketamine_iv_1_4_funnel.svg": "", "_sources/intro.ipynb": "",
                      "_sources/gone.md.txt": "", "_downloads/ab/x.csv": ""}.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    src.mkdir()
    (src / "intro.ipynb").write_text("{}")
    assert runner._prune(site, src) == ["_downloads/ab/x.csv", "_images/ketamine_iv_1_4_funnel.svg",
                                        "_images/old.svg", "_sources/gone.md.txt", "gone.html"]
    assert sorted(p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()) == [
        "_images/a.svg", "_sources/intro.ipynb", "genindex.html", "intro.html"]


def test_a_full_temporary_folder_while_add_rows_checks_is_exit_2(package, tmp_path, monkeypatch):
    """The rows are checked on a copy of the package in TMPDIR; ENOSPC there is located, exit 2."""
    rows = tmp_path / "t.csv"
    rows.write_text(trial(1), encoding="utf-8")
    before = tree_state(package)

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copytree", full)
    code, out, err = run("add-rows", package, rows, "--source", "x")
    assert code == 2 and out == ""
    assert err == ("error: CD015373: found a package that could not be checked (No space left on device; nothing "
                   "was changed); expected room in the temporary folder (TMPDIR) for a copy of the package\n")
    assert tree_state(package) == before and hidden(package) == []


def test_a_really_full_disk_during_add_rows(tmp_path):
    """A tmpfs with room for the package and 64 KiB more (provenance.csv alone is about 380 KiB, and
    add-rows writes a new copy of it beside the old): the kernel's own ENOSPC, not a simulated one.
    Needs permission to mount (root); skipped otherwise."""
    disk = tmp_path / "disk"
    disk.mkdir()
    size = sum(p.stat().st_size for p in EMBEDDED.rglob("*") if p.is_file()) + 64 * 1024
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        package = disk / "CD015373"
        shutil.copytree(EMBEDDED, package)
        before = tree_state(package)
        rows = tmp_path / "t.csv"
        rows.write_text(trial(1), encoding="utf-8")
        res = subprocess.run([sys.executable, "-m", "reviewbook", "add-rows", package, rows, "--source", "x"],
                             capture_output=True, text=True, timeout=120, env=env())
        assert res.returncode == 2, res.stdout + res.stderr
        assert res.stderr == ("error: CD015373: found a folder that cannot be written (No space left on device; "
                              "nothing was changed); expected a package folder add-rows can write into\n")
        assert tree_state(package) == before and hidden(package) == []
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


SLOW_IMPORT = """
import sys, time
from reviewbook.package import importer
real = importer.write_import
def slow(result, folder):
    real(result, folder)
    print("WROTE", flush=True)
    time.sleep(60)
importer.write_import = slow
from reviewbook import cli
sys.exit(cli.main(sys.argv[1:]))
"""


def test_sigterm_during_import_rows_leaves_the_folder_as_it_was(tmp_path):
    rows = tmp_path / "r.csv"
    rows.write_text("Analysis group,Analysis number,Analysis name,Study,Experimental cases,Experimental N,"
                    "Control cases,Control N\n1,1,Deaths,A 2001,1,10,2,10\n", encoding="utf-8")
    out = tmp_path / "new" / "out"
    p = subprocess.Popen([sys.executable, "-c", SLOW_IMPORT, "import-rows", str(rows), str(out), "--id", "P1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env())
    line = p.stdout.readline()
    assert line == "WROTE\n", line + p.stderr.read()
    assert [q.name for q in out.iterdir()] == [next(out.glob(".import-*")).name]  # the package is being written
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 143 and err == "error: terminated (nothing was half-written)\n", err
    assert not (tmp_path / "new").exists()  # the folders the run created are gone again
