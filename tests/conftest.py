import sys
from pathlib import Path

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
