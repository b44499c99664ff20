import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from needs import require  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "needs(*what): the test needs chromium, poppler, metafor, shared or rpact; "
                                       "skipped without it, failed under CI (tests/needs.py)")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs"):
        require(*mark.args)


def cli(*args, cwd=None, env=None, timeout=None):
    """``python -m reviewbook ARGS`` in a subprocess of this interpreter: the one CLI helper
    of the suite (exit code, stdout and stderr on the returned CompletedProcess)."""
    import subprocess

    return subprocess.run([sys.executable, "-m", "reviewbook", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="session")
def default_book(tmp_path_factory):
    """The default book (the embedded package data/CD015373) built once per test run in a
    clean copy of the repository: (repo, the build's CompletedProcess).  Tests read it; a
    test or module that changes files works in its own copy (``bookutil.copy_built``)."""
    from bookutil import clean_copy, run_book

    repo = clean_copy(tmp_path_factory.mktemp("default-book"))
    res = run_book(repo)
    assert res.returncode == 0, res.stdout + res.stderr
    return repo, res
