"""``reviewbook atlas``: every review of a folder imported and audited, one task per
review, in worker processes or on a Dask cluster, with the same rows as
``import-rows`` then ``audit`` run one by one (the reference here is those two
commands, run by this test).

The training reviews are sampled by a fixed rule (in increasing file size, every
25th, the first three: small, quick reviews) and read in place through symbolic
links; two files of our own join them: one with text in a number and one whose name
cannot be a package id (and holds markup), both refused without stopping the others."""
import csv
import json
import os
import warnings
from pathlib import Path

import pytest

from reviewbook.package import atlas

ROOT = Path(__file__).resolve().parents[1]
TRAIN = ROOT.parent / "shared" / "datasets" / "pairwise70" / "train"
needs_train = pytest.mark.needs("shared")
COLUMNS = ["review", "rows", "analyses", "studies_checked", "studies_matched", "analyses_mismatched", "status",
           "reason", "seconds"]
BROKEN = "Analysis group,Analysis number,Study,Experimental N,Control N\n1,1,A 2001,thirty,30\n"
MARKUP = ("Analysis group,Analysis number,Analysis name,Study,Experimental cases,Experimental N,Control cases,"
          "Control N\n1,1,Pain,A 2001,3,10,1,10\n")


from conftest import cli  # noqa: E402


def sample():
    files = sorted(TRAIN.glob("*.csv"), key=lambda p: (p.stat().st_size, p.name))
    return files[24::25][:3]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return {r["review"]: r for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def rows_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rows")
    for f in sample():
        (d / f.name).symlink_to(f)
    (d / "broken.csv").write_text(BROKEN, encoding="utf-8")
    (d / "x<b>.csv").write_text(MARKUP, encoding="utf-8")
    (d / "notes.txt").write_text("not a CSV: ignored", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def jobs2(rows_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("atlas") / "out"
    res = cli("atlas", rows_dir, out, "--jobs", "2")
    return res, out


def one_by_one(path: Path, tmp: Path) -> dict:
    """The atlas row of one file, from ``import-rows`` and ``audit --json`` run as commands."""
    review = atlas.review_id(path)
    out = tmp / review.replace("<", "_").replace(">", "_")
    imp = cli("import-rows", path, out)
    if imp.returncode == 2:
        first = imp.stderr.splitlines()[0].removeprefix("error: ")
        return {"review": review, "status": "refused", "reason_start": first}
    assert imp.returncode == 0, imp.stderr
    words = imp.stdout.split()
    n_rows, n_analyses = int(words[1]), int(words[5])
    aud = cli("audit", out, "--json")
    assert aud.returncode in (0, 1), aud.stderr
    data = json.loads(aud.stdout)
    s = data["summary"]
    mism = [a for a in data["analyses"] if a["status"] == "mismatch"]
    return {"review": review, "rows": str(n_rows), "analyses": str(n_analyses),
            "studies_checked": str(s["studies_checked"]), "studies_matched": str(s["studies_matched"]),
            "analyses_mismatched": str(len(mism)),
            "status": "ok" if not mism and s["studies_checked"] == s["studies_matched"] else "mismatch"}


@needs_train
def test_jobs_2_gives_the_rows_of_import_rows_and_audit_one_by_one(rows_dir, jobs2, tmp_path):
    res, out = jobs2
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""  # no progress bar when stderr is not a terminal, no warning
    with open(out / "atlas.csv", newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == COLUMNS
    got = read_rows(out / "atlas.csv")
    files = sorted(p for p in rows_dir.iterdir() if p.suffix == ".csv")
    assert list(got) == [atlas.review_id(p) for p in files]  # one row per CSV, in name order
    for p in files:
        want = one_by_one(p, tmp_path)
        row = got[want["review"]]
        if want["status"] == "refused":
            assert row["status"] == "refused" and row["reason"].startswith(want["reason_start"])
            continue
        assert {k: row[k] for k in want} == want
        assert float(row["seconds"]) > 0
    assert got["broken"]["reason"] == ("broken.csv, line 2, column 'Experimental N': found 'thirty'; expected a number "
                                       "(ASCII digits, an optional sign, decimal point and exponent, e.g. 12, -0.5, "
                                       "1e-3)")  # schema.NUMBER_RULE
    assert "the package id 'x<b>'" in got["x<b>"]["reason"]
    totals = json.loads((out / "atlas.json").read_text(encoding="utf-8"))
    assert totals["reviews"] == 5 and totals["refused"] == 2 and totals["ok"] + totals["mismatch"] == 3
    assert totals["studies_checked"] == sum(int(r["studies_checked"]) for r in got.values())
    assert totals["studies_matched"] == sum(int(r["studies_matched"]) for r in got.values())


@needs_train
def test_the_page_is_offline_sortable_and_escaped(jobs2):
    _, out = jobs2
    page = (out / "atlas.html").read_text(encoding="utf-8")
    assert "x&lt;b&gt;" in page and "x<b>" not in page
    assert '<table class="sortable">' in page and "<svg" in page and page.count("<circle") == 5
    # nothing loaded from outside: no http(s) address but the SVG namespace
    rest = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "http://" not in rest and "https://" not in rest and "<script src" not in rest


@needs_train
def test_dask_cluster_gives_the_same_rows(rows_dir, jobs2, tmp_path):
    """With a Dask LocalCluster (2 worker processes) the rows equal those of --jobs 2
    (the times aside)."""
    from dask.distributed import LocalCluster

    _, ref = jobs2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's own start-up notices
        cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    try:
        res = cli("atlas", rows_dir, tmp_path / "out", "--dask", cluster.scheduler_address)
    finally:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster.close()
    assert res.returncode == 0, res.stderr
    got, want = read_rows(tmp_path / "out" / "atlas.csv"), read_rows(ref / "atlas.csv")
    strip = lambda rows: {k: {c: v for c, v in r.items() if c != "seconds"} for k, r in rows.items()}  # noqa: E731
    assert strip(got) == strip(want)
    assert json.loads((tmp_path / "out" / "atlas.json").read_text())["dask"] == cluster.scheduler_address


def test_rows_dir_that_is_not_a_folder_of_csv_files_exits_2(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "a.txt").write_text("x", encoding="utf-8")
    a_file = tmp_path / "f.csv"
    a_file.write_text(BROKEN, encoding="utf-8")
    for path, found in ((tmp_path / "missing", "no such folder"), (a_file, "a file, not a folder"),
                        (empty, "a folder with no .csv file")):
        res = cli("atlas", path, tmp_path / "out")
        assert res.returncode == 2
        assert res.stderr == (f"error: {path}: found {found}; expected a folder of CSV files of data rows "
                              "(one file per review)\n")
        assert not (tmp_path / "out").exists()


def test_an_out_dir_that_is_a_file_exits_2_and_is_left_alone(tmp_path):
    rows = tmp_path / "rows"
    rows.mkdir()
    (rows / "broken.csv").write_text(BROKEN, encoding="utf-8")
    out = tmp_path / "out"
    out.write_text("mine", encoding="utf-8")
    res = cli("atlas", rows, out)
    assert res.returncode == 2 and "found a file; expected a folder to write the atlas into" in res.stderr
    assert out.read_text(encoding="utf-8") == "mine"


@needs_train
def test_a_task_over_its_time_is_refused_and_the_others_run(tmp_path):
    """--timeout stops a task that runs too long (the largest training review, several
    seconds of work, given half a second): refused with the reason; the next file is
    still done."""
    rows = tmp_path / "rows"
    rows.mkdir()
    (rows / "a.csv").symlink_to(max(TRAIN.glob("*.csv"), key=lambda p: (p.stat().st_size, p.name)))
    (rows / "b.csv").write_text(BROKEN, encoding="utf-8")
    outcomes = atlas.run(sorted(rows.iterdir()), jobs=1, timeout=0.5)
    assert [o.status for o in outcomes] == ["refused", "refused"]
    assert outcomes[0].reason == "stopped after 0.5 s (--timeout)"
    assert "found 'thirty'" in outcomes[1].reason


def _dies_on_crash(path, data=None, timeout=None):
    """Stands in for the task: the worker process dies on 'crash.csv' (as on a
    segmentation fault or the kernel's out-of-memory killer)."""
    if Path(path).name == "crash.csv":
        os._exit(9)
    return REAL_AUDIT(path, data, timeout)


REAL_AUDIT = atlas.audit_review


def test_a_worker_that_dies_takes_only_its_review(tmp_path, monkeypatch):
    """The pool is replaced, the reviews in flight are run again each alone, and the
    one that kills its process again is refused; the others are done (the worker
    processes are forked, so they run the stand-in task)."""
    monkeypatch.setattr(atlas, "audit_review", _dies_on_crash)
    files = []
    for name in ("a.csv", "crash.csv", "c.csv", "d.csv"):
        (tmp_path / name).write_text(BROKEN, encoding="utf-8")
        files.append(tmp_path / name)
    outcomes = atlas.run(files, jobs=2, timeout=None)
    assert [o.review for o in outcomes] == ["a", "crash", "c", "d"]
    assert outcomes[1].status == "refused" and "worker process importing this review died" in outcomes[1].reason
    assert all("found 'thirty'" in o.reason for i, o in enumerate(outcomes) if i != 1)
