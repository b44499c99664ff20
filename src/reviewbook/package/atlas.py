"""``reviewbook atlas``: import and audit every table of data rows in a folder.

    python -m reviewbook atlas ROWS_DIR OUT_DIR [--jobs N] [--dask ADDRESS] [--timeout S]

Each ``*.csv`` directly inside ``ROWS_DIR`` is one review's data rows (RevMan's
or R's ``make.names`` headers, see :mod:`.rows`).  One task per review does what
``import-rows`` and then ``audit`` do, one after the other: the rows are read and
the settings inferred (:func:`.importer.build`), the package is written to a
temporary folder (:func:`.importer.write_import`), read back with the package
reader (so that a package ``import-rows`` writes is one ``audit`` accepts) and
audited (:func:`.audit.audit_package`).  :func:`audit_review` gives one
:class:`ReviewOutcome`; its :meth:`~ReviewOutcome.row` is the review's line of
``atlas.csv``:

``review, rows, analyses, studies_checked, studies_matched, analyses_mismatched,
status, reason, seconds``

``status`` is ``ok`` (every stored per-study result reproduced), ``mismatch``
(some are not; ``reason`` lists the mismatch categories of the audit with their
counts, :data:`reviewbook.package.audit.REASONS`) or ``refused`` (``import-rows``
or ``audit`` would exit 2, or the task failed: ``reason`` says why, with file,
line and column where there is one).  ``seconds`` is the wall time of the task.

Tasks run in ``--jobs N`` worker processes (:mod:`concurrent.futures`), or on a
Dask distributed cluster (``--dask ADDRESS``; the review files are read here and
sent to the workers, so the workers need no shared file system).  One review's
failure never stops the others: an exception becomes ``refused`` with its
reason, a task running longer than ``--timeout`` seconds is stopped (process
workers), and a worker process that dies is replaced, its review run again on
its own and, if it dies again, reported ``refused``.

Writes ``OUT_DIR/atlas.csv``, ``OUT_DIR/atlas.json`` (the totals, the mismatch
categories with counts and example analysis ids, the refusals) and, given a
renderer (the command line passes :func:`reviewbook.views.atlas.html`),
``OUT_DIR/atlas.html``; each file is written whole or not at all.  Exit codes: 0
when the atlas ran (even with mismatches or refusals), 2 when ``ROWS_DIR`` is not
a folder holding CSV files.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, Problem

ATLAS_COLUMNS = ["review", "rows", "analyses", "studies_checked", "studies_matched", "analyses_mismatched",
                 "status", "reason", "seconds"]
#: Examples of analysis ids kept per mismatch category in atlas.json.
EXAMPLES = 8
DEFAULT_TIMEOUT = 1800.0


@dataclass(frozen=True)
class ReviewOutcome:
    """One review imported and audited (a line of ``atlas.csv``).

    ``mismatches`` holds one ``(analysis id, study label, category)`` per
    stored per-study result that was not reproduced (empty unless ``status`` is
    ``mismatch``).
    """

    review: str
    rows: int
    analyses: int
    studies_checked: int
    studies_matched: int
    analyses_mismatched: int
    status: str
    reason: str
    seconds: float
    mismatches: tuple = field(default=(), repr=False)

    def row(self) -> dict:
        """The review's line of ``atlas.csv`` (column -> value)."""
        return {"review": self.review, "rows": self.rows, "analyses": self.analyses,
                "studies_checked": self.studies_checked, "studies_matched": self.studies_matched,
                "analyses_mismatched": self.analyses_mismatched, "status": self.status,
                "reason": self.reason, "seconds": round(self.seconds, 3)}


def percent(matched: int, checked: int) -> str:
    """``matched/checked`` in percent with 3 decimals, rounded down (so that 42,649
    of 42,651 reads 99.995%, never 100%)."""
    if not checked:
        return "n/a"
    return f"{math.floor(100_000 * matched / checked) / 1000:.3f}%"


def review_id(path) -> str:
    """The review (package) id ``import-rows`` gives a rows file: its name
    without ``_data.csv`` or ``.csv``."""
    return re.sub(r"(_data)?\.csv$", "", Path(path).name, flags=re.I)


class _Timeout(BaseException):
    """Raised by the alarm; a BaseException, so that no ``except Exception`` on the way
    (a reading of the rows that does not apply, say) can swallow it."""


def _on_alarm(signum, frame):  # pragma: no cover - runs in a worker process
    raise _Timeout()


def audit_review(path, data: bytes | None = None, timeout: float | None = None) -> ReviewOutcome:
    """Import and audit one rows file, as ``import-rows`` then ``audit`` would.

    Parameters
    ----------
    path : path-like
        The rows file (its name names the review).
    data : bytes, optional
        The file's bytes, when they were read elsewhere (Dask workers): written
        under the same name to a temporary folder first.
    timeout : float, optional
        Seconds after which the task stops with status ``refused`` (only where
        the task runs in the main thread of its process; ``SIGALRM``).

    Returns
    -------
    ReviewOutcome
        Never raises for bad input or a failing computation: those are
        ``refused`` with the reason.
    """
    from .audit import audit_package  # imported before the clock and the alarm start
    from .datapackage import read
    from .importer import build, write_import

    t0 = time.perf_counter()
    review = review_id(path)
    alarm = bool(timeout) and hasattr(signal, "SIGALRM") and _main_thread()
    if alarm:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, float(timeout))
    n_rows = n_analyses = 0
    try:
        with tempfile.TemporaryDirectory(prefix="reviewbook-atlas-") as tmp:
            src = Path(path)
            if data is not None:
                src = Path(tmp) / Path(path).name
                src.write_bytes(data)
            result = build(src)
            n_rows, n_analyses = len(result.package.rows), len(result.package.analyses)
            out = Path(tmp) / "package"
            write_import(result, out)
            pkg = read(out)
            audited = audit_package(pkg)
    except InputError as exc:
        return _refused(review, n_rows, n_analyses, _problems_text(exc.problems), t0)
    except _Timeout:
        return _refused(review, n_rows, n_analyses, f"stopped after {timeout:g} s (--timeout)", t0)
    except Exception as exc:  # noqa: BLE001 - one review's failure never stops the others
        return _refused(review, n_rows, n_analyses, "the import or audit failed: " + _exception_text(exc), t0)
    finally:
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    checked = sum(r.studies["checked"] for r in audited)
    matched = sum(r.studies["matched"] for r in audited)
    bad = [r for r in audited if r.status == "mismatch"]
    mismatches = []
    for r in audited:
        seen = set()
        for m in r.studies["mismatches"]:
            if m["study"] in seen:
                continue  # one category per study (its first mismatching quantity carries it)
            seen.add(m["study"])
            mismatches.append((r.id, m["study"], m.get("reason", "").split(":")[0] or "unclassified"))
    status = "ok" if not bad and checked == matched else "mismatch"
    reason = ""
    if status == "mismatch":
        counts = Counter(c for _, _, c in mismatches)
        reason = "; ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda x: (-x[1], x[0])))
    return ReviewOutcome(review, n_rows, n_analyses, checked, matched, len(bad), status, reason,
                         time.perf_counter() - t0, tuple(mismatches))


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _refused(review, rows, analyses, reason, t0) -> ReviewOutcome:
    return ReviewOutcome(review, rows, analyses, 0, 0, 0, "refused", reason, time.perf_counter() - t0)


def _problems_text(problems, limit=3) -> str:
    errors = [p for p in problems if p.severity == "error"] or list(problems)
    text = "; ".join(str(p) for p in errors[:limit])
    if len(errors) > limit:
        text += f" (and {len(errors) - limit} more)"
    return text


def _exception_text(exc) -> str:
    """The exception and the innermost line of our code that raised it."""
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if "reviewbook" in f.filename.replace("\\", "/")]
    where = ""
    if ours:
        f = ours[-1]
        where = f" (in {Path(f.filename).name}, line {f.lineno})"
    return f"{exc.__class__.__name__}: {exc}{where}"


# ------------------------------------------------------------------ running many

def rows_files(rows_dir, out_dir=None) -> list:
    """The ``*.csv`` files directly inside ``rows_dir``, sorted by name; never the
    atlas's own ``atlas.csv`` in ``out_dir`` (when OUT_DIR is ROWS_DIR, a second run
    does not audit the first run's table as a review).

    Raises
    ------
    InputError
        When ``rows_dir`` is missing, not a folder, or holds no CSV file.
    """
    p = Path(rows_dir)
    expected = "a folder of CSV files of data rows (one file per review)"
    if not p.exists():
        raise InputError([Problem(str(rows_dir), None, None, "no such folder", expected)])
    if not p.is_dir():
        raise InputError([Problem(str(rows_dir), None, None, "a file, not a folder", expected)])
    own = (Path(out_dir) / "atlas.csv").resolve() if out_dir is not None else None
    files = sorted((f for f in p.iterdir() if f.suffix.lower() == ".csv" and f.is_file() and f.resolve() != own),
                   key=lambda f: f.name)
    if not files:
        raise InputError([Problem(str(rows_dir), None, None, "a folder with no .csv file", expected)])
    return files


def run(files, *, jobs: int = 1, dask: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
        progress=None) -> list:
    """:func:`audit_review` of every file; outcomes in the order of ``files``.

    ``progress``: called with each outcome as it arrives (e.g. a progress bar).
    """
    files = [Path(f) for f in files]
    done = {}

    def record(i, outcome):
        done[i] = outcome
        if progress is not None:
            progress(outcome)

    if dask:
        _run_dask(files, dask, record)
    else:
        _run_processes(files, max(1, int(jobs)), timeout, record)
    return [done[i] for i in range(len(files))]


def _run_processes(files, jobs, timeout, record):
    """At most ``jobs`` tasks in flight, so that when a worker process dies the
    reviews that may have killed it are known (the ones in flight): each is then
    run again alone in a fresh process; one that kills that process too is
    ``refused``."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    queue = list(range(len(files)))
    queue.reverse()
    while queue:
        suspects = []
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            in_flight = {}
            while queue or in_flight:
                while queue and len(in_flight) < jobs:
                    i = queue.pop()
                    in_flight[pool.submit(audit_review, files[i], None, timeout)] = i
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for fut in finished:
                    i = in_flight.pop(fut)
                    try:
                        record(i, fut.result())
                    except BrokenProcessPool:
                        suspects.append(i)
                        broken = True
                if broken:
                    suspects.extend(in_flight.values())
                    break
        for i in sorted(suspects):
            record(i, _run_alone(files[i], timeout))


def _run_alone(path, timeout) -> ReviewOutcome:
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    t0 = time.perf_counter()
    try:
        with ProcessPoolExecutor(max_workers=1) as pool:
            return pool.submit(audit_review, path, None, timeout).result()
    except BrokenProcessPool:
        return _refused(review_id(path), 0, 0, "the worker process importing this review died "
                        "(killed, or out of memory)", t0)


def _run_dask(files, address, record):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:  # pragma: no cover - dask is pinned in requirements.txt
        raise InputError([Problem("--dask", None, None, "no dask.distributed installed",
                                  "the packages dask and distributed (requirements.txt)")]) from None
    try:
        client = Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError([Problem("--dask", None, None, f"no Dask scheduler reachable at '{address}' ({exc})",
                                  "the address of a running Dask scheduler, e.g. tcp://host:8786")]) from None
    with client:
        futures = {}
        for i, f in enumerate(files):
            # the bytes travel with the task: workers need no shared file system
            fut = client.submit(audit_review, str(f), f.read_bytes(), None, pure=False, key=f"atlas-{i}-{f.name}")
            futures[fut] = i
        for fut in as_completed(list(futures)):
            i = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker or a failed task: that review only
                outcome = _refused(review_id(files[i]), 0, 0, "the Dask task failed: " + _exception_text(exc),
                                   time.perf_counter())
            record(i, outcome)


# ------------------------------------------------------------------ outputs

def totals(outcomes, *, wall_seconds: float | None = None, jobs=None, dask=None) -> dict:
    """The totals of ``atlas.json``: counts by status, rows, analyses, per-study
    results checked and matched, mismatch categories (studies, reviews, example
    analysis ids ``review:analysis``), the refusals and the times."""
    by_status = Counter(o.status for o in outcomes)
    checked = sum(o.studies_checked for o in outcomes)
    matched = sum(o.studies_matched for o in outcomes)
    cats = {}
    for o in outcomes:
        for aid, _, cat in o.mismatches:
            c = cats.setdefault(cat, {"studies": 0, "analyses": set(), "reviews": set(), "examples": []})
            c["studies"] += 1
            key = f"{o.review}:{aid}"
            if key not in c["analyses"]:
                c["analyses"].add(key)
                if len(c["examples"]) < EXAMPLES:
                    c["examples"].append(key)
            c["reviews"].add(o.review)
    categories = {k: {"studies": v["studies"], "analyses": len(v["analyses"]), "reviews": len(v["reviews"]),
                      "examples": v["examples"]}
                  for k, v in sorted(cats.items(), key=lambda x: (-x[1]["studies"], x[0]))}
    secs = sorted(o.seconds for o in outcomes)
    return {
        "reviews": len(outcomes),
        "ok": by_status.get("ok", 0), "mismatch": by_status.get("mismatch", 0),
        "refused": by_status.get("refused", 0),
        "rows": sum(o.rows for o in outcomes), "analyses": sum(o.analyses for o in outcomes),
        "analyses_mismatched": sum(o.analyses_mismatched for o in outcomes),
        "studies_checked": checked, "studies_matched": matched,
        "match_rate": (matched / checked) if checked else None,
        "mismatch_categories": categories,
        "refusals": [{"review": o.review, "reason": o.reason} for o in outcomes if o.status == "refused"],
        "seconds_total": round(sum(secs), 3),
        "seconds_median": round(secs[len(secs) // 2], 3) if secs else None,
        "wall_seconds": None if wall_seconds is None else round(wall_seconds, 3),
        "jobs": jobs, "dask": dask,
    }


def csv_text(outcomes) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=ATLAS_COLUMNS, lineterminator="\n")
    w.writeheader()
    for o in outcomes:
        w.writerow(o.row())
    return buf.getvalue()


def write_outputs(out_dir, outcomes, summary, html_text=None) -> Path:
    """Write atlas.csv, atlas.json (and atlas.html): each to a temporary file
    first, then moved into place, so that no file is ever half written."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError([Problem(str(out_dir), None, None, "a file", "a folder to write the atlas into")])
    out.mkdir(parents=True, exist_ok=True)
    texts = {"atlas.csv": csv_text(outcomes), "atlas.json": json.dumps(summary, indent=2, sort_keys=False) + "\n"}
    if html_text is not None:
        texts["atlas.html"] = html_text
    staged = []
    try:
        for name, text in texts.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            staged.append((tmp, out / name))
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return out


def main(rows_dir, out_dir, *, jobs: int = 1, dask: str | None = None, timeout: float | None = DEFAULT_TIMEOUT,
         render_html=None) -> int:
    """The ``atlas`` command; returns the exit code (see the module docstring)."""
    try:
        files = rows_files(rows_dir, out_dir)
        if Path(out_dir).exists() and not Path(out_dir).is_dir():
            raise InputError([Problem(str(out_dir), None, None, "a file", "a folder to write the atlas into")])
        if jobs < 1:
            raise InputError([Problem("--jobs", None, None, f"{jobs}", "a whole number >= 1")])
        bar = _progress_bar(len(files))
        t0 = time.perf_counter()
        try:
            outcomes = run(files, jobs=jobs, dask=dask, timeout=timeout,
                           progress=(lambda o: bar.update(1)) if bar is not None else None)
        finally:
            if bar is not None:
                bar.close()
        wall = time.perf_counter() - t0
        summary = totals(outcomes, wall_seconds=wall, jobs=None if dask else jobs, dask=dask)
        html_text = render_html(outcomes, summary) if render_html is not None else None
        write_outputs(out_dir, outcomes, summary, html_text)
    except InputError as exc:
        return exc.report()
    print(f"atlas of {summary['reviews']} reviews: {summary['ok']} ok, {summary['mismatch']} mismatch, "
          f"{summary['refused']} refused; {summary['studies_matched']}/{summary['studies_checked']} stored "
          f"per-study results reproduced ({percent(summary['studies_matched'], summary['studies_checked'])}); "
          f"{summary['wall_seconds']:.1f} s")
    print(f"wrote {Path(out_dir) / 'atlas.csv'}, atlas.json" + (", atlas.html" if html_text is not None else ""))
    return 0


def _progress_bar(total):
    """A tqdm bar on stderr when stderr is a terminal; None otherwise."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="review", file=sys.stderr)
