import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from needs import require  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*what): the test needs chromium, poppler, metafor, shared or rpact; "
                                       "skipped without it, failed under CI (tests/needs.py)")


def _file(item) -> str:
    return item.nodeid.split("::")[0]


def _slow_seconds(item) -> float:
    mark = item.get_closest_marker("slow")
    return float(mark.args[0]) if mark and mark.args else 0.0


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The order of a run's work units (``make test``: ``-n 2 --dist loadfile
    --no-loadscope-reorder``: a file is a unit, sent to a worker whole, in the order of the
    collection): the files that hold ``slow`` tests first, the longest first (their tests'
    measured seconds summed), so that the two workers stay busy to the end instead of one
    finishing a long file alone.  Every test still runs; within a file the order is the
    file's.  (``--dist loadgroup`` would group finer, but pytest-xdist 3.8 marks a group in
    the node id, which pytest 9.2 no longer reads: pytest-dev/pytest-xdist#1386.)"""
    cost: dict = {}
    for item in items:
        cost[_file(item)] = cost.get(_file(item), 0.0) + _slow_seconds(item)
    items.sort(key=lambda item: -cost[_file(item)])  # stable: the rest keep the collection's order
    # the first unit builds the shared default book; the second is the longest one that does
    # not wait for it, so that the other worker starts at once
    files = list(dict.fromkeys(_file(item) for item in items))
    waits = {f for item in items if "default_book" in getattr(item, "fixturenames", ()) for f in [_file(item)]}
    second = next((f for f in files[1:] if f not in waits), None)
    if files and files[0] in waits and second is not None:
        rank = {f: i for i, f in enumerate(files)}
        rank[second] = 0.5
        items.sort(key=lambda item: rank[_file(item)])


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs"):
        require(*mark.args)


def cli(*args, cwd=None, env=None, timeout=None):
    """``python -m reviewbook ARGS`` in a subprocess of this interpreter: the one CLI helper
    of the suite (exit code, stdout and stderr on the returned CompletedProcess)."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "reviewbook", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


def _build_default_book(dest: Path) -> dict:
    from bookutil import clean_copy, run_book

    repo = clean_copy(dest)
    res = run_book(repo)
    return {"repo": str(repo), "args": res.args, "returncode": res.returncode, "stdout": res.stdout,
            "stderr": res.stderr}


@pytest.fixture(scope="session")
def default_book(tmp_path_factory):
    """The default book (the embedded package data/CD015373) built ONCE per test run in a
    clean copy of the repository: (repo, the build's CompletedProcess).  Under pytest-xdist
    the first worker to ask builds it under a file lock in the run's shared temporary
    folder and the others read it there (pytest-xdist's documented recipe for a session
    fixture computed once).  Tests only read it; a test that changes files or rebuilds
    works in its own copy (``bookutil.copy_built``)."""
    import json
    import shutil
    import subprocess

    from filelock import FileLock

    if not os.environ.get("PYTEST_XDIST_WORKER"):  # no xdist: this process is the whole run
        info = _build_default_book(tmp_path_factory.mktemp("default-book"))
    else:
        root = tmp_path_factory.getbasetemp().parent  # shared by the workers of this run
        done = root / "default-book.json"
        with FileLock(str(root / "default-book.lock")):
            if done.is_file():
                info = json.loads(done.read_text())
            else:
                shutil.rmtree(root / "default-book", ignore_errors=True)  # what a build that raised left
                (root / "default-book").mkdir()
                info = _build_default_book(root / "default-book")
                done.write_text(json.dumps(info))
    res = subprocess.CompletedProcess(info["args"], info["returncode"], info["stdout"], info["stderr"])
    assert res.returncode == 0, res.stdout + res.stderr
    return Path(info["repo"]), res


@pytest.fixture(scope="module")
def built(default_book):
    """The default book, built once per run (``default_book``): the tests of the built site
    (tests/test_book*.py) read it and never change it."""
    return default_book
